"""sweeper.reports.results: which jobs a sweep counts and how it labels them. An ok job
whose objective has no value is a counted failed row, not a skipped folder; failed and
pruned jobs are counted wherever numbers are shown; configuration labels print whole
numbers without `.0`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from fake_folders import GOOD_RECORD, fake_job, make_job, results_csv
from omegaconf import OmegaConf

from conftest import run_compare
from sweeper import collect as collect_module
from sweeper.collect import collect, report, summary_markdown
from sweeper.core.record import run_status
from sweeper.reports.pareto import front_lines
from sweeper.reports.report_tables import fmt
from sweeper.reports.results import job_counts, key_text, label, load_sweep
from sweeper.sweeps.stale_trials import told_value

# --- an ok job whose objective has no value is a counted failed row ---


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


# --- failed and pruned jobs are counted where the numbers are shown ---


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


# --- configuration labels: whole numbers without .0 ---


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
