"""Issue 14's new-user check: the tests a sweep's numbers must pass to be read honestly.

A constant side is no reason to leave the t-test; an ok job whose objective has no value
is a counted failed row, not a skipped folder; the terminal, summary.md and report.html
say how many jobs failed or were pruned; configuration labels print whole numbers
without `.0`; plot axes include the confidence bands; a search points to confirm, and
confirm shows the trial's own test figure.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure
from omegaconf import OmegaConf
from scipy import stats as sps
from test_collect import GOOD_RECORD, fake_job, make_job
from test_compare import grid, results_csv, run_compare

from sweeper import collect as collect_module
from sweeper import confirm as confirm_module
from sweeper.collect import collect, objective_heading, report, summary_markdown
from sweeper.core.record import run_status
from sweeper.reports import plots
from sweeper.reports.pareto import front_lines
from sweeper.reports.report_tables import fmt
from sweeper.reports.results import job_counts, key_text, label, load_sweep
from sweeper.reports.stats import compare_samples, verdict
from sweeper.sweeps.stale_trials import told_value

A_VARIES = [0.70, 0.75, 0.80, 0.72, 0.78]

# --- 1. the t-test is left only where its own variance is zero ---


def test_one_constant_side_paired_is_a_paired_t_test_as_scipy_gives():
    a, b = pd.Series(A_VARIES), pd.Series([1.0] * 5)  # seeds 0-4 on both sides
    c = compare_samples(a, b)
    expected = sps.ttest_rel(b, a).pvalue
    assert c.test == "paired t" and c.p == pytest.approx(expected) and c.p < 0.001
    assert verdict(c.diff, c.p, "maximize") == "B better"
    d = b - a
    half = sps.t.ppf(0.975, 4) * d.std(ddof=1) / math.sqrt(5)
    assert (c.diff_low, c.diff_high) == pytest.approx((d.mean() - half, d.mean() + half))
    # one B at 0.999 instead of 1.0 gives the same test and verdict (it used to flip them)
    nearly = compare_samples(a, pd.Series([1.0, 1.0, 1.0, 1.0, 0.999]))
    assert nearly.test == c.test and verdict(nearly.diff, nearly.p, "maximize") == "B better"


def test_one_constant_side_unpaired_is_welch_as_scipy_gives():
    a = pd.Series(A_VARIES, index=range(5))
    b = pd.Series([1.0] * 5, index=range(5, 10))  # other seeds: not paired
    c = compare_samples(a, b)
    with warnings.catch_warnings():  # scipy's note on B's (zero) spread
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = sps.ttest_ind(b, a, equal_var=False).pvalue
    assert c.test == "Welch t" and c.p == pytest.approx(expected)
    assert c.diff_low < c.diff < c.diff_high and verdict(c.diff, c.p, "maximize") == "B better"


@pytest.mark.parametrize(
    ("b_index", "test", "p"),
    [
        (range(5), "paired permutation (exact)", 2 / 2**5),
        (range(5, 10), "permutation (exact)", 2 / math.comb(10, 5)),
    ],
)
def test_constant_against_constant_is_the_exact_test(b_index, test, p):
    c = compare_samples(pd.Series([0.5] * 5), pd.Series([1.0] * 5, index=b_index))
    assert c.test == test and c.p == pytest.approx(p) and c.diff_low == c.diff_high == 0.5


def test_equal_paired_differences_with_varying_sides_are_the_exact_test():
    a = pd.Series(A_VARIES)
    c = compare_samples(a, a + 0.1)  # every difference 0.1 (up to float noise)
    assert c.test == "paired permutation (exact)" and c.p == pytest.approx(2 / 2**5)


@pytest.mark.parametrize("b_index", [range(5), range(5, 10)])
def test_identical_sides_give_p_1(b_index):
    c = compare_samples(pd.Series([1.0] * 5), pd.Series([1.0] * 5, index=b_index))
    assert c.p == 1.0 and c.diff == 0.0 and verdict(c.diff, c.p, "maximize") == "no evidence"


def test_a_skewed_side_against_a_constant_one_is_still_the_bootstrap():
    a = pd.Series([1.0] * 12, index=range(12))
    b = pd.Series([1.0] * 11 + [0.5], index=range(12, 24))
    c = compare_samples(a, b)
    assert c.test == "permutation, BCa CI"


def test_compare_prints_paired_t_and_b_better_for_a_constant_side(tmp_path, capsys):
    rows = []
    for values in (A_VARIES, [1.0] * 5):
        rows.append(
            [
                {
                    "model.hidden": 5,
                    "seed": seed,
                    "status": "ok",
                    "objective": v,
                    "objective_metric": "test_accuracy",
                    "objective_direction": "maximize",
                    "test_accuracy": v,
                }
                for seed, v in enumerate(values)
            ]
        )
    a = results_csv(tmp_path / "a.csv", rows[0], ["model.hidden", "seed"])
    b = results_csv(tmp_path / "b.csv", rows[1], ["model.hidden", "seed"])
    out = tmp_path / "cmp.csv"
    code, text, err = run_compare(a, b, "--metrics", "test_accuracy", "--out", out, capsys=capsys)
    assert code == 0, err
    row = pd.read_csv(out).iloc[0]
    assert row["test"] == "paired t" and row["verdict"] == "B better"
    assert row["p (Holm)"] == pytest.approx(sps.ttest_rel([1.0] * 5, A_VARIES).pvalue)
    assert "paired t" in text and "B better" in text and "exact" not in text


# --- 2. an ok job whose objective has no value is a counted failed row ---


def test_a_nan_objective_in_a_real_grid_is_a_failed_row_of_its_configuration(
    make_cfg, tmp_path, capsys
):
    sweep = tmp_path / "sweep"
    for seed in range(3):
        make_job(make_cfg, sweep, seed, "task=adder", "model.hidden=3", f"seed={seed}")
    path = sweep / "2" / "metrics.json"
    record = json.loads(path.read_text())
    record["objective"] = math.nan
    path.write_text(json.dumps(record))  # `NaN`, as json writes it
    assert collect_module.main([str(sweep)]) == 0
    out = capsys.readouterr().out
    assert "skipped" not in out and "2 of 3 jobs ok, 1 failed: see summary.md" in out
    by_config = pd.read_csv(sweep / "results_by_config.csv")
    assert by_config[["jobs", "failed", "objective_n"]].values.tolist() == [[3, 1, 2]]
    results = pd.read_csv(sweep / "results.csv").set_index("job")
    assert results.loc[2, "status"] == "failed" and results.loc[2, "reason"] == "objective is NaN"
    assert "- job 2 (seed=2): objective is NaN" in (sweep / "summary.md").read_text()
    # searches and their stale-trial code read the file as it is: a FAIL trial there
    found = run_status(sweep / "2")
    assert found.status == "ok" and told_value(found.record) is None
    assert json.loads(path.read_text())["status"] == "ok"  # the job's file is not rewritten


@pytest.fixture
def two_jobs(tmp_path) -> Path:
    """A sweep folder of two good jobs (model.hidden 3 and 5); the tests edit job 1."""
    sweep = tmp_path / "sweep"
    fake_job(sweep / "0", 0, ["model.hidden=3"])
    fake_job(sweep / "1", 1, ["model.hidden=5"])
    return sweep


NO_OBJECTIVE = {
    "inf": ('{"status": "ok", "objective": Infinity}', "objective is inf"),
    "-inf": ('{"status": "ok", "objective": -Infinity}', "objective is -inf"),
    "1e999": ('{"status": "ok", "objective": 1e999}', "objective is inf"),
    "null": ({"objective": None}, "objective is null"),
    "missing": ({"objective": "drop"}, "no objective"),
    "objectives value nan": (
        {
            "objectives": [
                {"metric": "test_accuracy", "direction": "maximize", "value": 0.75},
                {"metric": "parameters", "direction": "minimize", "value": math.nan},
            ]
        },
        "objectives[1].value is NaN",
    ),
}


@pytest.mark.parametrize("content, reason", NO_OBJECTIVE.values(), ids=NO_OBJECTIVE.keys())
def test_an_ok_record_without_an_objective_value_is_a_failed_row(two_jobs, content, reason):
    path = two_jobs / "1" / "metrics.json"
    if isinstance(content, dict):
        record = {**GOOD_RECORD, **content}
        if content.get("objective") == "drop":
            del record["objective"]
        path.write_text(json.dumps(record))
    else:
        path.write_text(content)
    sweep = load_sweep(two_jobs)
    assert sweep.skipped == [] and list(sweep.results["status"]) == ["ok", "failed"]
    assert sweep.results["reason"].iloc[1] == reason
    assert "1 of 2 jobs ok, 1 failed" in report(sweep)


def test_a_malformed_objective_is_still_skipped(two_jobs):
    (two_jobs / "1" / "metrics.json").write_text(json.dumps({**GOOD_RECORD, "objective": "abc"}))
    sweep = load_sweep(two_jobs)
    assert [name for name, _ in sweep.skipped] == ["1"] and len(sweep.results) == 1


# --- 3. failed and pruned jobs are counted where the numbers are shown ---


@pytest.fixture
def mixed_sweep(tmp_path) -> Path:
    """Two configurations of three seeds: one job failed, one pruned."""
    sweep = tmp_path / "mixed"
    num = 0
    for hidden in (3, 5):
        for seed in range(3):
            record = dict(GOOD_RECORD, objective=0.7 + hidden / 100 + seed / 1000)
            if (hidden, seed) == (3, 2):
                record.update(status="failed", reason="Diverged", objective=-math.inf)
            if (hidden, seed) == (5, 2):
                record.update(status="pruned", reason="pruned at epoch 1", objective=-math.inf)
            fake_job(sweep / str(num), num, [f"model.hidden={hidden}", f"seed={seed}"], record)
            num += 1
    return sweep


def test_terminal_summary_and_report_count_failed_and_pruned_jobs(mixed_sweep, capsys):
    assert collect_module.main([str(mixed_sweep)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "4 of 6 jobs ok, 1 failed, 1 pruned: see summary.md"
    summary = (mixed_sweep / "summary.md").read_text()
    assert "4 of 6 collected jobs ok, 1 failed, 1 pruned." in summary
    page = (mixed_sweep / "report.html").read_text()
    assert "4 of 6 collected jobs ok, 1 failed, 1 pruned" in page


def test_the_sweep_end_log_counts_failed_and_pruned_jobs(mixed_sweep, caplog):
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(mixed_sweep)}}})
    with caplog.at_level("INFO", logger="sweeper.collect"):
        collect_module.CollectCallback().on_multirun_end(config)
    assert "4 of 6 jobs ok, 1 failed, 1 pruned: see summary.md" in caplog.text


def test_job_counts_says_only_what_there_is():
    frame = pd.DataFrame({"status": ["ok", "ok"]})
    assert job_counts(frame) == "2 of 2 jobs ok"
    frame = pd.DataFrame({"status": ["ok", "pruned"]})
    assert job_counts(frame, "collected jobs") == "1 of 2 collected jobs ok, 1 pruned"


# --- 4. configuration labels: whole numbers without .0 ---


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5, "5"),
        (5.0, "5"),
        (np.float64(10.0), "10"),
        (np.int64(1234567), "1234567"),
        (1234567.0, "1234567"),
        (0.00182394, "0.00182394"),
        (0.5, "0.5"),
        (True, "true"),
        (math.nan, "(unset)"),
        ("mse", "mse"),
    ],
)
def test_key_text_and_the_report_spell_key_values_alike(value, text):
    assert key_text(value) == text
    if not (isinstance(value, float) and math.isnan(value)):
        assert fmt(value, key=True) == text


def test_a_row_of_floats_is_labelled_with_whole_numbers():
    row = pd.Series({"job": "3", "model.hidden": 5.0, "seed": 2.0}, dtype=object)
    assert label(row, ["model.hidden", "seed"]) == "model.hidden=5, seed=2"
    assert label(pd.Series({"model.hidden": 5.0, "seed": 2.0}), ["model.hidden", "seed"]) == (
        "model.hidden=5, seed=2"
    )


@pytest.fixture
def numeric_sweep(tmp_path) -> Path:
    """model.hidden 3/5 x seed 0-2 x loss mse/ce: every configuration key numeric but loss."""
    sweep = tmp_path / "numeric"
    num = 0
    for hidden in (3, 5):
        for seed in range(3):
            for loss in ("mse", "ce"):
                value = 0.7 + hidden / 100 + seed / 1000 + (loss == "ce") / 10000
                record = dict(GOOD_RECORD, objective=value)
                overrides = [f"model.hidden={hidden}", f"seed={seed}", f"loss={loss}"]
                fake_job(sweep / str(num), num, overrides, record)
                num += 1
    return sweep


def test_best_configuration_prints_whole_numbers_everywhere(numeric_sweep, tmp_path):
    # loss swept too: drop it, so every configuration key is numeric
    sweep = tmp_path / "hidden_only"
    for job in sorted(numeric_sweep.iterdir(), key=lambda p: int(p.name)):
        overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
        if "loss=mse" in overrides:
            record = json.loads((job / "metrics.json").read_text())
            keep = [o for o in overrides if not o.startswith("loss=")]
            fake_job(sweep / job.name, int(job.name), keep, record)
    loaded = collect(sweep)
    text = report(loaded)
    assert "Best configuration by mean over seed: model.hidden=5: " in text
    assert "5.0" not in text
    assert "model.hidden=5: " in summary_markdown(loaded)
    page = (sweep / "report.html").read_text()
    assert "model.hidden=5: " in page and "model.hidden=5.0" not in page
    # another replicate key: the configuration is model.hidden and seed, both numbers
    by_loss = report(load_sweep(numeric_sweep), "loss")
    assert "Best configuration by mean over loss: model.hidden=5, seed=2: " in by_loss
    assert "seed=2.0" not in by_loss and "5.0" not in by_loss


def test_compare_prints_whole_numbers_for_float_key_columns(tmp_path, capsys):
    rows = [
        {
            "model.hidden": float(hidden),  # read back as floats (a NaN elsewhere in the column)
            "loss": loss,
            "seed": seed,
            "status": "ok",
            "objective": 0.8 + seed / 100 + (loss == "ce") / 10,
            "objective_metric": "test_accuracy",
            "objective_direction": "maximize",
            "test_accuracy": 0.8 + seed / 100 + (loss == "ce") / 10,
        }
        for hidden in (3, 5)
        for loss in ("mse", "ce")
        for seed in range(3)
    ]
    path = results_csv(tmp_path / "r.csv", rows, ["model.hidden", "loss", "seed"])
    code, text, err = run_compare(path, "--by", "loss", "--metrics", "test_accuracy", capsys=capsys)
    assert code == 0, err
    assert "3.0" not in text and "5.0" not in text and "model.hidden=" not in text, text


def test_a_pareto_front_lists_whole_numbers_for_a_float_key_column():
    spec = "val_accuracy (maximize), parameters (minimize)"
    results = pd.DataFrame(
        {
            "job": ["0", "1"],
            "model.hidden": [2.0, 5.0],  # floats: the column held a NaN once
            "optim.lr": [0.00182394012, 0.01],
            "status": ["ok", "ok"],
            "objectives": [spec] * 2,
            "val_accuracy": [0.6, 0.9],
            "parameters": [20.0, 50.0],
        }
    )
    lines = front_lines(results, ["model.hidden", "optim.lr"])
    assert lines[2:4] == [
        "- job 1 (model.hidden=5, optim.lr=0.01): val_accuracy 0.9000, parameters 50",
        "- job 0 (model.hidden=2, optim.lr=0.00182394): val_accuracy 0.6000, parameters 20",
    ]


# --- 5. plot axes include the confidence bands ---


@pytest.fixture
def drawn(monkeypatch) -> list[Figure]:
    """The figures plots.py saves, kept for their axes."""
    figures: list[Figure] = []

    def keep(path, figure):
        figures.append(figure)
        return Path(path)

    monkeypatch.setattr(plots, "save_figure", keep)
    return figures


def _band_edges(ax) -> tuple[float, float]:
    ys = [v for c in ax.collections for p in c.get_paths() for v in p.vertices[:, 1]]
    return min(ys), max(ys)


def test_curves_accuracy_axis_includes_the_bands(drawn):
    rows, labels = [], {}
    rng = np.random.default_rng(0)
    for config in range(6):
        for seed in range(5):
            job = f"{config}-{seed}"
            labels[job] = f"model.hidden={config + 3}"
            spread = 0.25 if config == 0 else 0.01
            final = min(1.0, 0.75 + rng.normal(0, spread))
            for epoch in (1, 2, 3):
                acc = max(0.0, min(1.0, final - (3 - epoch) * 0.02))
                rows.append(
                    dict(job=job, epoch=epoch, train_loss=0.5, val_loss=0.4, val_accuracy=acc)
                )
    plots.plot_sweep_curves(pd.DataFrame(rows), labels, "curves.png")
    (figure,) = drawn
    (accuracy,) = [ax for ax in figure.axes if ax.get_title() == "validation accuracy"]
    low, high = _band_edges(accuracy)
    bottom, top = accuracy.get_ylim()
    assert low < 0.6  # the wide configuration's band reaches below its mean's axis
    assert 0.0 <= bottom <= low and top >= high and high <= 1.0


@pytest.mark.parametrize("configs", [1, 3])
def test_accuracy_by_length_axes_include_the_bands(drawn, configs):
    rows, labels = [], {}
    for config in range(configs):
        for seed in range(5):
            job = f"{config}-{seed}"
            labels[job] = f"model.hidden={config + 3}"
            for length in (1, 2, 3):
                # length 1 swings from seed to seed: its band reaches far below the means
                acc = 0.6 + 0.1 * seed if length == 1 else 0.99
                rows.append(dict(job=job, split="test", length=length, accuracy=acc))
            rows.append(dict(job=job, split="extrapolation", length=5, accuracy=0.9))
    plots.plot_accuracy_vs_length(pd.DataFrame(rows), labels, "by_length.png", "acc", "t")
    (figure,) = drawn
    axes = [ax for ax in figure.axes if ax.get_visible() and ax.collections]
    assert len(axes) == configs
    for ax in axes:
        low, high = _band_edges(ax)
        bottom, top = ax.get_ylim()
        assert low < 0.7 and 0.0 <= bottom <= low and top >= high and high <= 1.0


# --- 6. a search points to confirm; confirm shows the trial's own test figure ---


def test_a_search_heading_points_to_confirm_a_grid_to_seeds(two_jobs):
    assert "sweep seed=0,1,2,3,4 for them" in objective_heading(load_sweep(two_jobs))
    (two_jobs / "best_trial.yaml").write_text("best: {}\n")
    heading = objective_heading(load_sweep(two_jobs))
    assert f"python -m sweeper.confirm {two_jobs} --seeds 5 for them" in heading
    assert "seed=0,1,2,3,4" not in heading


def test_a_search_is_known_by_its_jobs_before_its_files_are_written(tmp_path):
    sweep = tmp_path / "search"
    for num in (0, 1):  # as the callback sees it: jobs, no best_trial.yaml yet
        choices = {"loss": "ce", "hydra/sweeper": "search"}
        fake_job(sweep / str(num), num, [f"optim.lr=0.0{num + 1}"], choices=choices)
    assert "python -m sweeper.confirm" in objective_heading(load_sweep(sweep))


def test_compare_of_single_seed_searches_points_to_confirm(tmp_path, capsys):
    paths = []
    for name, shift in (("a", {}), ("b", {10: 0.2})):
        (tmp_path / name).mkdir()
        rows = grid("model.hidden", shift, seeds=[0])
        paths.append(results_csv(tmp_path / name / "results.csv", rows, ["model.hidden"]))
    code, text, _ = run_compare(*paths, capsys=capsys)
    assert code == 0 and "(sweep seed=0,1,2,3,4 for them)" in text
    (tmp_path / "b" / "best_trial.yaml").write_text("best: {}\n")
    code, text, _ = run_compare(*paths, capsys=capsys)
    assert code == 0 and f"(python -m sweeper.confirm {tmp_path / 'b'} --seeds 5 for them)" in text


def _confirm_folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A search folder with its trial's job, and the confirm grid's folder of two seeds."""
    search, confirm = tmp_path / "search", tmp_path / "search-confirm"
    record = dict(
        GOOD_RECORD,
        objective=0.9,
        objective_metric="val_accuracy",
        metrics={"val_accuracy": 0.9, "test_accuracy": 0.85, "epochs_run": 2},
    )
    job = fake_job(search / "3", 3, ["optim.lr=0.01"], record)
    for seed, value in ((1, 0.8), (2, 0.82)):
        seeds = dict(record, objective=value + 0.05)
        seeds["metrics"] = {"val_accuracy": value + 0.05, "test_accuracy": value}
        fake_job(confirm / str(seed), seed, ["optim.lr=0.01", f"seed={seed}"], seeds)
    return search, confirm, job


def test_confirm_prints_the_trials_own_test_figure(tmp_path):
    search, confirm, job = _confirm_folders(tmp_path)
    best = {
        "number": 3,
        "value": 0.9,
        "job_dir": str(job),
        "objective_metric": "val_accuracy",
        "metrics": {"val_accuracy": 0.9, "test_accuracy": 0.85},
    }
    text = confirm_module.summary(search, best, confirm)
    first = text.splitlines()[0]
    assert first == (
        "best trial 3 of the search: objective val_accuracy (validation split) = 0.9000; "
        "test_accuracy 0.8500 (test split) (one seed)"
    )
    assert "  test_accuracy: 0.8100 ± " in text and "; the trial: 0.8500" in text
    # --trial N: no metrics in its record, so they are read from its own metrics.json
    named = {"number": 3, "value": 0.9, "job_dir": str(job)}
    assert "test_accuracy 0.8500 (test split)" in confirm_module.summary(search, named, confirm)
