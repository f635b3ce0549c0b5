"""compare with replicates, collect's per-configuration statistics, confirm; tiny real sweeps."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from fake_folders import GOOD_RECORD, fake_job, grid, results_csv
from scipy import stats as sps

from conftest import ROOT, SMALL_RUN, run_compare
from sweeper import collect as collect_module
from sweeper import compare as compare_module
from sweeper import confirm as confirm_module
from sweeper.collect import collect, report
from sweeper.reports.stats import summarize


def test_hidden_size_and_model_hidden_join_per_hidden_size_paired(tmp_path, capsys):
    a = results_csv(tmp_path / "a.csv", grid("model.hidden", {}), ["task", "model.hidden", "seed"])
    b_rows = grid("hidden_size", {10: 0.1}, rng_seed=1)
    b = results_csv(tmp_path / "b.csv", b_rows, ["task", "hidden_size", "seed"])
    out = tmp_path / "cmp.csv"
    code, text, err = run_compare(a, b, "--out", out, capsys=capsys)
    assert code == 0, err
    assert "joined on: model.hidden;" in text
    table = pd.read_csv(out)
    objective = table[table["metric"] == "objective"].set_index("model.hidden")
    assert sorted(objective.index) == [3, 5, 10]  # not one averaged row
    assert (objective["test"] == "paired t").all() and (objective["A n"] == 5).all()
    # the numbers against scipy on the raw rows
    fa, fb = pd.read_csv(a), pd.read_csv(b)
    xa = fa[fa["model.hidden"] == 10].set_index("seed")["objective"]
    xb = fb[fb["hidden_size"] == 10].set_index("seed")["objective"]
    assert objective.loc[10, "B - A"] == pytest.approx(xb.mean() - xa.mean())
    p = [
        sps.ttest_rel(
            fb[fb["hidden_size"] == h].set_index("seed")["objective"],
            fa[fa["model.hidden"] == h].set_index("seed")["objective"],
        ).pvalue
        for h in (3, 5, 10)
    ]
    holm_10 = min(1.0, 3 * p[2])  # the smallest of three
    assert p[2] == min(p) and objective.loc[10, "p (Holm)"] == pytest.approx(holm_10)
    assert objective.loc[10, "verdict"] == "B better"
    assert (objective.loc[[3, 5], "verdict"] == "no evidence").all()
    assert f"{xb.mean():.4f} ± " in text and "(5)" in text


def test_welch_when_the_seeds_differ_and_directions_of_minimised_metrics(tmp_path, capsys):
    a_rows = grid("model.hidden", {}, wall_seconds=1.0)
    b_rows = grid("model.hidden", {}, seeds=range(10, 14), rng_seed=1, wall_seconds=1.0)
    for row in b_rows:  # B takes twice as long
        row["wall_seconds"] = 2.0 + row["seed"] / 100
    for i, row in enumerate(a_rows):
        row["wall_seconds"] = 1.0 + i / 100
    a = results_csv(tmp_path / "a.csv", a_rows, ["model.hidden", "seed"])
    b = results_csv(tmp_path / "b.csv", b_rows, ["model.hidden", "seed"])
    out = tmp_path / "cmp.csv"
    code, _, err = run_compare(a, b, "--out", out, capsys=capsys)
    assert code == 0, err
    table = pd.read_csv(out)
    assert (table["test"] == "Welch t").all()
    seconds = table[table["metric"] == "wall_seconds"]
    assert (seconds["verdict"] == "A better").all()  # lower is better
    # objective minimised: a higher B is worse
    for rows in (a_rows, b_rows):
        for row in rows:
            row["objective_direction"] = "minimize"
            row["objective"] += 0.2 * (rows is b_rows)
    results_csv(a, a_rows, ["model.hidden", "seed"])
    results_csv(b, b_rows, ["model.hidden", "seed"])
    code, _, _ = run_compare(a, b, "--out", out, "--metrics", "objective", capsys=capsys)
    assert (pd.read_csv(out)["verdict"] == "A better").all()


def test_one_seed_a_side_says_n_1_and_gives_no_verdict(tmp_path, capsys):
    a = results_csv(tmp_path / "a.csv", grid("model.hidden", {}, seeds=[0]), ["model.hidden"])
    b = results_csv(
        tmp_path / "b.csv", grid("model.hidden", {10: 0.2}, seeds=[0]), ["model.hidden"]
    )
    out = tmp_path / "cmp.csv"
    code, text, _ = run_compare(a, b, "--out", out, capsys=capsys)
    assert code == 0 and "n = 1 on both sides" in text and "(n=1)" in text
    table = pd.read_csv(out)
    assert (table["verdict"] == "no evidence").all() and (table["test"] == "n=1").all()


def test_failed_jobs_and_nan_metrics_are_left_out_and_counted(tmp_path, capsys):
    a_rows, b_rows = grid("model.hidden", {}), grid("model.hidden", {}, rng_seed=1)
    a_rows[0].update(status="failed", objective=-math.inf, test_accuracy=float("nan"))
    b_rows[1]["test_accuracy"] = float("nan")
    a = results_csv(tmp_path / "a.csv", a_rows, ["model.hidden", "seed"])
    b = results_csv(tmp_path / "b.csv", b_rows, ["model.hidden", "seed"])
    out = tmp_path / "cmp.csv"
    code, text, _ = run_compare(a, b, "--out", out, capsys=capsys)
    assert code == 0 and "A failed" in text and " nan" not in text.split("verdict")[1].lower()
    table = pd.read_csv(out).set_index(["model.hidden", "metric"])
    assert table.loc[(3, "objective"), "A n"] == 4 and table.loc[(3, "objective"), "A failed"] == 1
    assert table.loc[(3, "objective"), "test"] == "Welch t"  # seed 0 only on one side
    assert table.loc[(3, "test_accuracy"), "B n"] == 4


def test_refusals_and_warnings(tmp_path, capsys):
    keys = ["model.hidden", "seed"]
    a = results_csv(tmp_path / "a.csv", grid("model.hidden", {}), keys)
    memory = results_csv(tmp_path / "m.csv", grid("model.hidden", {}, task="memory"), keys)
    code, _, err = run_compare(a, memory, capsys=capsys)
    assert code == 1
    assert err == (
        "sweeper compare: error: A and B differ in task: A adder, B memory; "
        "compare like with like\n"
    )
    other = grid("model.hidden", {}, objective_metric="val_accuracy")
    val = results_csv(tmp_path / "v.csv", other, keys)
    code, _, err = run_compare(a, val, capsys=capsys)
    assert code == 1 and "differ in objective metric: A test_accuracy, B val_accuracy" in err
    code, _, _ = run_compare(a, val, "--metrics", "test_accuracy", capsys=capsys)
    assert code == 0
    # a sweep over hidden against one over loss: hidden comes from B's settings, but
    # B's loss has nothing in A to join on, so its rows would be averaged: refused
    loss_rows = [dict(r, loss=loss) for r in grid("model.hidden", {}) for loss in ("mse",)]
    for row, loss in zip(loss_rows, ["mse", "ce"] * 20):
        row["loss"] = loss
    lossy = results_csv(tmp_path / "l.csv", loss_rows, ["loss", "seed"])
    code, _, err = run_compare(lossy, a, capsys=capsys)
    assert code == 1 and err.startswith("sweeper compare: error: A's jobs differ in loss (mse, ce)")
    epochs = results_csv(tmp_path / "e.csv", grid("model.hidden", {}, epochs=2), keys)
    code, _, err = run_compare(a, epochs, capsys=capsys)
    assert (
        code == 0
        and "warning: fixed settings differ between A and B: trainer.epochs (A 30, B 2)" in err
    )


def test_a_replicate_key_nobody_sweeps_is_refused(tmp_path, capsys):
    keys = ["model.hidden", "seed"]
    a = results_csv(tmp_path / "a.csv", grid("model.hidden", {}), keys)
    b = results_csv(tmp_path / "b.csv", grid("model.hidden", {}, rng_seed=1), keys)
    for args in ((a, b), (a, "--by", "model.hidden")):
        # `rep` is no column: seed would silently become a configuration key, n = 1
        code, out, err = run_compare(*args, "--replicate-key", "rep", capsys=capsys)
        assert code == 2 and out == "" and err.count("\n") == 1
        assert err.startswith("sweeper compare: error: --replicate-key rep is not swept: A has ")
        assert "(swept: model.hidden, seed)" in err
    # a column that holds one value in every job repeats nothing either
    code, _, err = run_compare(a, b, "--replicate-key", "task", capsys=capsys)
    assert code == 2 and "A holds one value of it" in err


def test_an_empty_table_and_text_metrics_are_one_line(tmp_path, capsys):
    keys = ["model.hidden", "seed"]
    a = results_csv(tmp_path / "a.csv", grid("model.hidden", {}), keys)
    empty = tmp_path / "empty.csv"
    empty.write_text("job,model.hidden,seed,status,objective\n")
    code, out, err = run_compare(a, empty, capsys=capsys)
    assert (code, out) == (
        2,
        "",
    ) and err == f"sweeper compare: error: {empty}: no rows (a header without jobs)\n"
    rows = grid("model.hidden", {}, rng_seed=1)
    for row in rows:
        row["test_accuracy"] = "bad"
    text = results_csv(tmp_path / "t.csv", rows, keys)
    code, _, err = run_compare(a, text, "--metrics", "test_accuracy", capsys=capsys)
    assert code == 1 and err == (
        "sweeper compare: error: B's test_accuracy holds 'bad', not a number\n"
    )
    code, out, _ = run_compare(a, text, capsys=capsys)  # not named: compared without it, said so
    assert code == 0 and "not compared: B's test_accuracy holds 'bad', not a number" in out
    assert "test_accuracy " not in out.split("verdict")[1]


def test_nan_metrics_are_counted_in_a_note(tmp_path, capsys):
    keys = ["model.hidden", "seed"]
    a = results_csv(tmp_path / "a.csv", grid("model.hidden", {}), keys)
    rows = grid("model.hidden", {}, rng_seed=1)
    for row in rows[:5]:
        row["test_accuracy"] = float("nan")
    b = results_csv(tmp_path / "b.csv", rows, keys)
    code, out, _ = run_compare(a, b, "--metrics", "test_accuracy", capsys=capsys)
    assert code == 0
    assert (
        "B: test_accuracy has no value (NaN, inf, null or missing) in 5 of 15 ok jobs: "
        "jobs 0, 1, 2, 3, 4; counted in B failed, left out of its statistics"
    ) in out
    line = next(x for x in out.splitlines() if x.strip().startswith("3 "))
    assert line.split()[-1] == "evidence" and "–" in line  # no value on B's side: no verdict
    code, out, _ = run_compare(b, "--by", "model.hidden", capsys=capsys)
    assert "the sweep: test_accuracy has no value (NaN, inf, null or missing) in 5 of 15 ok" in out


def test_a_key_swept_on_one_side_is_read_from_the_others_settings(tmp_path, capsys):
    # B fixed model.hidden=5 (not an override column of B): its recorded setting
    # column, under the same dotted name, is what the join uses.
    a = results_csv(tmp_path / "a.csv", grid("model.hidden", {}), ["model.hidden", "seed"])
    single = [r for r in grid("model.hidden", {}, rng_seed=2) if r["model.hidden"] == 5]
    b = results_csv(tmp_path / "b.csv", single, ["seed"])
    code, text, err = run_compare(a, b, "--metrics", "objective", capsys=capsys)
    assert code == 0, err
    assert "joined on: model.hidden" in text
    assert "model.hidden=3" not in text or "5" in text


def test_by_compares_levels_within_one_sweep_with_holm_over_all_rows(tmp_path, capsys):
    rows = []
    for loss, shift in (("mse", 0.0), ("ce", 0.1), ("focal", 0.0)):
        for row in grid("model.hidden", {}, rng_seed=len(rows)):
            rows.append(dict(row, loss=loss, objective=row["objective"] + shift))
    path = results_csv(tmp_path / "r.csv", rows, ["model.hidden", "loss", "seed"])
    out = tmp_path / "by.csv"
    code, text, err = run_compare(
        path, "--by", "loss", "--metrics", "objective", "--out", out, capsys=capsys
    )
    assert code == 0, err
    assert "loss: mse (A) vs ce, focal (B, each in column loss) at each model.hidden" in text
    table = pd.read_csv(out)
    assert len(table) == 6 and set(table["loss"]) == {"ce", "focal"}
    assert (table["test"] == "paired t").all()
    expected = np.minimum(
        1, np.maximum.accumulate((6 - np.arange(6)) * np.sort(table["p"].to_numpy()))
    )
    assert np.sort(table["p (Holm)"].to_numpy()) == pytest.approx(expected)
    assert (table[table["loss"] == "ce"]["verdict"] == "B better").all()
    assert (table[table["loss"] == "focal"]["verdict"] == "no evidence").all()
    code, _, err = run_compare(path, "--by", "seed", capsys=capsys)
    assert code == 1 and "replicate key" in err
    code, _, err = run_compare(path, "--by", "nope", capsys=capsys)
    assert code == 1 and "--by nope: not a key with two or more values" in err
    code, _, err = run_compare(path, "--by", "losss", capsys=capsys)
    assert code == 1 and err.rstrip().endswith("; did you mean loss?")
    with pytest.raises(SystemExit):
        compare_module.main([str(path)])  # neither B nor --by


# --- collect: results_by_config.csv and the summary cells ---


def replicated_folder(tmp_path: Path) -> Path:
    sweep = tmp_path / "sweep"
    values = {("mse", 0): 0.7, ("mse", 1): 0.8, ("mse", 2): 0.9, ("ce", 0): 0.5, ("ce", 1): 0.6}
    for num, ((loss, seed), value) in enumerate(values.items()):
        record = dict(GOOD_RECORD, objective=value, metrics={"test_accuracy": value})
        fake_job(sweep / str(num), num, [f"loss={loss}", f"seed={seed}"], record=record)
    failed = dict(GOOD_RECORD, status="failed", reason="nan loss", objective=-math.inf, metrics={})
    fake_job(sweep / "5", 5, ["loss=ce", "seed=2"], record=failed)
    return sweep


def test_collect_writes_results_by_config_and_mean_ci_cells(tmp_path, capsys):
    sweep = replicated_folder(tmp_path)
    assert collect_module.main([str(sweep)]) == 0
    text = capsys.readouterr().out
    table = pd.read_csv(sweep / "results_by_config.csv").set_index("loss")
    assert table.loc["mse", "objective_n"] == 3 and table.loc["ce", "failed"] == 1
    assert table.loc["ce", "objective_n"] == 2 and table.loc["ce", "jobs"] == 3
    half = sps.t.ppf(0.975, 2) * 0.1 / math.sqrt(3)
    assert table.loc["mse", "objective_ci_low"] == pytest.approx(0.8 - half)
    assert 0.8 + half > 1 and table.loc["mse", "objective_ci_high"] == 1.0  # an accuracy
    cell = f"0.8000 ± {half:.4f} (3)"
    summary = (sweep / "summary.md").read_text()
    heading = "objective: test_accuracy (test split), mean ± 95 % CI half-width (n) over seed"
    assert cell in summary and heading in summary and cell in text and heading in text
    # the seed is not a configuration key: two rows, not five
    assert "seed" not in table.columns and len(table) == 2


def test_the_best_configuration_is_the_best_mean_not_the_luckiest_seed(tmp_path):
    sweep = tmp_path / "sweep"
    values = {("mse", 0): 0.95, ("mse", 1): 0.5, ("mse", 2): 0.5}
    values |= {("ce", 0): 0.8, ("ce", 1): 0.81, ("ce", 2): 0.79}
    for num, ((loss, seed), value) in enumerate(values.items()):
        metrics = {"val_accuracy": value, "test_accuracy": value - 0.1}
        record = dict(GOOD_RECORD, objective=value, objective_metric="val_accuracy")
        record["metrics"] = metrics
        fake_job(sweep / str(num), num, [f"loss={loss}", f"seed={seed}"], record=record)
    summary = summary_of(collect(sweep))
    assert "Best: job 0 (loss=mse, seed=0): val_accuracy 0.9500 (validation split); " in summary
    half = sps.t.ppf(0.975, 2) * 0.01 / math.sqrt(3)
    assert (
        "Best configuration by mean over seed: loss=ce: "
        f"val_accuracy 0.8000 ± {half:.4f} (3); test_accuracy 0.7000 ± {half:.4f} (3)"
    ) in summary


def summary_of(sweep) -> str:
    return (sweep.folder / "summary.md").read_text()


def test_replicate_key_option(tmp_path, capsys):
    sweep = replicated_folder(tmp_path)
    assert collect_module.main([str(sweep), "--replicate-key", "loss"]) == 0
    table = pd.read_csv(sweep / "results_by_config.csv")
    assert list(table.columns[:1]) == ["seed"] and len(table) == 3
    capsys.readouterr()
    before = sorted(p.name for p in sweep.iterdir())
    assert collect_module.main([str(sweep), "--replicate-key", "run"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"sweeper collect: error: {sweep}: replicate key run is not a swept key "
        "(swept: loss, seed)\n"
    )
    assert sorted(p.name for p in sweep.iterdir()) == before


def test_without_replicates_the_table_says_n_1(tmp_path):
    sweep = tmp_path / "sweep"
    fake_job(sweep / "0", 0, ["model.hidden=3"])
    fake_job(sweep / "1", 1, ["model.hidden=5"])
    out = report(collect(sweep))
    assert "one job per configuration (n = 1): no confidence intervals" in out
    assert "0.7500" in out and "±" not in out


# --- confirm ---


def test_confirm_builds_the_grid_from_the_best_trial(tmp_path, capsys):
    search = tmp_path / "search"
    job = search / "2"
    (job / ".hydra").mkdir(parents=True)
    overrides = [
        "optim.lr=0.0123",
        "task=adder",
        "hparams_search=lr",
        "seed=7",
        "hydra/sweeper=search",
        "trainer.epochs=2",
    ]
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    best = {"best": {"number": 2, "value": 0.9, "params": {}, "job_dir": str(job)}}
    (search / "best_trial.yaml").write_text(yaml.safe_dump(best))
    assert confirm_module.main([str(search), "--seeds", "3", "--print-command"]) == 0
    line = capsys.readouterr().out.strip()
    assert line == (
        f"python -m sweeper optim.lr=0.0123 task=adder trainer.epochs=2 seed=0,1,2 "
        f"hydra.sweep.dir={(tmp_path / 'search-confirm').resolve()} -m"
    )
    # more overrides for the grid, after --seeds (argparse alone refused them there)
    args = [str(search), "--seeds", "2", "hydra/launcher=joblib", "--print-command"]
    assert confirm_module.main(args) == 0
    line = capsys.readouterr().out.strip()
    assert line.endswith("search-confirm hydra/launcher=joblib -m") and "seed=0,1 " in line
    # a search of a user's own task (--config-dir my_conf) is re-run with that folder
    sources = [
        {"path": "hydra.conf", "schema": "pkg", "provider": "hydra"},
        {"path": str(tmp_path / "my_conf"), "schema": "file", "provider": "command-line"},
    ]
    hydra_yaml = {"hydra": {"runtime": {"config_sources": sources}}}
    (job / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump(hydra_yaml))
    assert confirm_module.main([str(search), "--seeds", "2", "--print-command"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"python -m sweeper --config-dir {tmp_path / 'my_conf'} optim.lr=")
    # fresh seeds: the trial's own seed (here 1) would repeat the selected trial exactly
    (job / ".hydra" / "config.yaml").write_text("seed: 1\n")
    assert confirm_module.main([str(search), "--seeds", "3", "--print-command"]) == 0
    assert " seed=0,2,3 " in capsys.readouterr().out


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda s: None, "no such folder"),
        (lambda s: s.mkdir(), "best_trial.yaml: missing (not an Optuna search folder"),
        (lambda s: (s.mkdir(), (s / "best_trial.yaml").write_text("study: x\n")), "no best trial"),
        (
            lambda s: (
                s.mkdir(),
                (s / "best_trial.yaml").write_text(f"best: {{job_dir: {s / 'gone'}}}\n"),
            ),
            "overrides.yaml: missing (was the best trial's folder moved?)",
        ),
    ],
)
def test_confirm_refuses_what_is_not_a_finished_search(tmp_path, capsys, setup, message):
    search = tmp_path / "search"
    setup(search)
    assert confirm_module.main([str(search)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sweeper confirm: error: ") and message in err and err.count("\n") == 1
    assert confirm_module.main([str(search), "--seeds", "1"]) == 2
    assert "at least 2 seeds" in capsys.readouterr().err


# --- end to end: real tiny runs ---


def sweeper(*args: str, cwd: Path, module: str = "sweeper") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.slow
def test_seeded_grid_collect_and_compare_by_loss(tmp_path):
    sweep = tmp_path / "grid"
    tiny = [*SMALL_RUN, "model.hidden=4"]
    result = sweeper(
        "task=adder",
        "loss=mse,ce",
        "seed=0,1,2",
        *tiny,
        f"hydra.sweep.dir={sweep}",
        "-m",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    raw = pd.read_csv(sweep / "results.csv")
    by_config = pd.read_csv(sweep / "results_by_config.csv").set_index("loss")
    for loss in ("mse", "ce"):
        values = raw[raw["loss"] == loss]["objective"].to_numpy()
        assert by_config.loc[loss, "objective_n"] == 3
        assert by_config.loc[loss, "objective_mean"] == pytest.approx(values.mean())
        assert by_config.loc[loss, "objective_std"] == pytest.approx(values.std(ddof=1))
    result = sweeper(
        str(sweep),
        "--by",
        "loss",
        "--out",
        str(tmp_path / "by.csv"),
        cwd=tmp_path,
        module="sweeper.compare",
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    table = pd.read_csv(tmp_path / "by.csv")
    row = table[table["metric"] == "objective"].iloc[0]
    mse = raw[raw["loss"] == "mse"].set_index("seed")["objective"]
    ce = raw[raw["loss"] == "ce"].set_index("seed")["objective"]
    assert row["test"] in ("paired t", "paired permutation, BCa CI", "paired permutation (exact)")
    assert row["B - A"] == pytest.approx(ce.mean() - mse.mean())
    if row["test"] == "paired t" and (ce - mse).std() > 0:
        assert row["p"] == pytest.approx(sps.ttest_rel(ce, mse.reindex(ce.index)).pvalue)


@pytest.mark.slow
def test_confirm_a_tiny_search(tmp_path):
    search = tmp_path / "search"
    tiny = [*SMALL_RUN, "model.hidden=4"]
    result = sweeper(
        "task=adder",
        "hparams_search=lr",
        "hydra.sweeper.n_trials=3",
        *tiny,
        f"hydra.sweep.dir={search}",
        "-m",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    result = sweeper(str(search), "--seeds", "2", cwd=tmp_path, module="sweeper.confirm")
    assert result.returncode == 0, result.stderr[-2000:]
    confirm = pd.read_csv(tmp_path / "search-confirm" / "results.csv")
    assert sorted(confirm["seed"]) == [1, 2]  # fresh seeds: the search ran with seed 0
    best = yaml.safe_load((search / "best_trial.yaml").read_text())["best"]
    assert confirm["optim.lr"].tolist() == pytest.approx([best["params"]["optim.lr"]] * 2)
    values = confirm["objective"]
    assert f"objective (val_accuracy): {values.mean():.4f}" in result.stdout
    assert "re-run over 2 seeds (0 failed)" in result.stdout
    assert "test_accuracy: " in result.stdout  # the test figure beside the tuned one
    # resuming the study afterwards: the confirm jobs are not read as trials of the search
    result = sweeper(
        "task=adder",
        "hparams_search=lr",
        "hydra.sweeper.n_trials=1",
        *tiny,
        f"hydra.sweep.dir={search}",
        "-m",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(pd.read_csv(search / "results.csv")) == 4


def test_plots_draw_one_mean_line_and_a_clipped_band_per_configuration(tmp_path):
    from matplotlib.figure import Figure

    from sweeper.reports.plots import _configurations, _mean_with_band, plot_sweep_curves

    history = pd.DataFrame(
        [
            {
                "job": str(j),
                "epoch": e,
                "train_loss": 1 / e,
                "val_loss": 1 / e,
                "val_accuracy": min(1.0, 0.9 + 0.05 * j),
            }
            for j in range(6)
            for e in (1, 2)
        ]
    )
    labels = {str(j): f"loss={'mse' if j < 3 else 'ce'}" for j in range(6)}
    groups = [(name, jobs) for name, _, jobs in _configurations(history, labels)]
    assert groups == [("loss=mse (n=3)", 3), ("loss=ce (n=3)", 3)]
    ax = Figure().subplots()
    rows = history[history["job"].isin(["1", "2", "3"])]  # 0.95, 1.0, 1.0: t interval > 1
    line = _mean_with_band(ax, rows, "epoch", "val_accuracy")
    assert list(line.get_ydata()) == pytest.approx([2.95 / 3] * 2)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.max() == 1.0 and summarize(rows["val_accuracy"]).high > 1.0
    assert len(ax.lines) == 1  # the mean, not one line per seed
    path = plot_sweep_curves(history, labels, tmp_path / "curves.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_the_mean_curve_stops_where_a_replicate_stopped_early():
    from matplotlib.figure import Figure

    from sweeper.reports.plots import _mean_with_band

    # seeds 0 and 1 stopped after 2 epochs (stop_accuracy), seed 2 ran 5: a mean over the
    # survivors would drop to seed 2's 0.5 at epoch 3
    epochs = {"0": 2, "1": 2, "2": 5}
    rows = pd.DataFrame(
        [
            {"job": j, "epoch": e, "val_accuracy": 0.5 if j == "2" else 1.0}
            for j, last in epochs.items()
            for e in range(1, last + 1)
        ]
    )
    ax = Figure().subplots()
    line = _mean_with_band(ax, rows, "epoch", "val_accuracy")
    assert list(line.get_xdata()) == [1, 2]
    assert list(line.get_ydata()) == pytest.approx([2.5 / 3] * 2)
    faint = [x for x in ax.lines if x is not line]
    assert len(faint) == 1 and list(faint[0].get_xdata()) == [2, 3, 4, 5]
    assert faint[0].get_color() == line.get_color() and faint[0].get_alpha() < 1


def test_a_headline_metric_is_compared_by_default_in_its_own_direction(tmp_path, capsys):
    """A task's own metric (a regression's test_rmse, lower is better) is compared without
    --metrics, and the lower side is the better one, as results.csv's `headline` says."""

    def rows(shift: float, rng_seed: int) -> list[dict]:
        found = grid("model.hidden", {10: shift}, rng_seed=rng_seed)
        for row in found:
            row["test_rmse"] = 1.0 - row.pop("test_accuracy")  # B's higher accuracy: lower RMSE
            row["headline"] = "test_rmse (minimize)"
        return found

    keys = ["task", "model.hidden", "seed"]
    a = results_csv(tmp_path / "a.csv", rows(0.0, 0), keys)
    b = results_csv(tmp_path / "b.csv", rows(0.1, 1), keys)
    out = tmp_path / "cmp.csv"
    code, _, err = run_compare(a, b, "--out", out, capsys=capsys)
    assert code == 0, err
    table = pd.read_csv(out)
    rmse = table[table["metric"] == "test_rmse"].set_index("model.hidden")
    assert rmse.loc[10, "B - A"] < 0 and rmse.loc[10, "verdict"] == "B better"
    assert set(rmse.loc[[3, 5], "verdict"]) == {"no evidence"}
