"""Sweep collection and comparison on small real sweep folders and broken ones."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from omegaconf import OmegaConf

from sweeper import collect as collect_module
from sweeper import compare as compare_module
from sweeper.__main__ import cli
from sweeper.collect import collect
from sweeper.train import train

TINY = ["task.epochs=1", "task.train_size=256"]


def make_job(make_cfg, sweep: Path, num: int, *overrides: str) -> Path:
    """A job folder as Hydra leaves it: .hydra/{config,overrides}.yaml plus the run's files."""
    job = sweep / str(num)
    cfg = make_cfg(*overrides, *TINY, out=job)
    train(cfg)
    (job / ".hydra").mkdir(parents=True, exist_ok=True)
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(list(overrides)))
    OmegaConf.save(cfg, job / ".hydra" / "config.yaml")
    return job


@pytest.fixture
def adder_sweep(make_cfg, tmp_path) -> Path:
    sweep = tmp_path / "sweep"
    grid = [(h, loss) for h in (3, 5) for loss in ("mse", "ce")]
    for num, (hidden, loss) in enumerate(grid):
        make_job(make_cfg, sweep, num, "task=adder", f"model.hidden={hidden}", f"loss={loss}")
    return sweep


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_grid_sweep_becomes_one_table(adder_sweep):
    sweep = collect(adder_sweep)
    assert sweep.swept == ["model.hidden", "loss"] and sweep.skipped == []
    results = pd.read_csv(adder_sweep / "results.csv")
    assert len(results) == 4
    assert list(results.columns[:5]) == ["job", "task", "model.hidden", "loss", "status"]
    assert list(results["model.hidden"]) == [3, 3, 5, 5]
    assert list(results["loss"]) == ["mse", "ce", "mse", "ce"]
    for job, row in results.set_index("job").iterrows():
        record = json.loads((adder_sweep / str(job) / "metrics.json").read_text())
        assert row["test_accuracy"] == pytest.approx(record["metrics"]["test_accuracy"])
        assert row["objective"] == pytest.approx(record["objective"])
        assert row["job_dir"] == str((adder_sweep / str(job)).resolve())
    by_length = pd.read_csv(adder_sweep / "by_length.csv")
    assert {"job", "model.hidden", "loss", "split", "length", "accuracy", "exact_accuracy"} <= set(
        by_length.columns
    )
    assert len(by_length) == 4 * 21
    history = pd.read_csv(adder_sweep / "history.csv")
    assert list(history.columns[:4]) == ["job", "task", "model.hidden", "loss"]
    assert set(history["job"]) == {0, 1, 2, 3}
    for figure in ("bit_accuracy_vs_length.png", "curves.png"):
        assert (adder_sweep / figure).read_bytes()[:4] == b"\x89PNG"


def test_summary_pivots_hidden_by_loss(adder_sweep):
    collect(adder_sweep)
    summary = (adder_sweep / "summary.md").read_text()
    results = pd.read_csv(adder_sweep / "results.csv").set_index(["model.hidden", "loss"])
    header = next(line for line in summary.splitlines() if line.startswith("| "))
    assert header.replace(" ", "") == "|model.hidden|mse|ce|"
    row_3 = next(line for line in summary.splitlines() if line.replace(" ", "").startswith("|3|"))
    assert f"{results.loc[(3, 'ce'), 'objective']:.4f}" in row_3
    assert "Swept: `model.hidden`, `loss`" in summary


def test_memory_sweep_draws_accuracy_vs_length(make_cfg, tmp_path):
    sweep = tmp_path / "memory"
    for num, hidden in enumerate((2, 5)):
        make_job(make_cfg, sweep, num, "task=memory", f"model.hidden={hidden}")
    collect(sweep)
    assert (sweep / "accuracy_vs_length.png").exists()
    assert not (sweep / "bit_accuracy_vs_length.png").exists()
    assert "exact_accuracy" not in pd.read_csv(sweep / "by_length.csv").columns


def test_broken_and_failed_jobs_are_reported_not_fatal(adder_sweep, capsys):
    (adder_sweep / "1" / "metrics.json").unlink()  # a killed run
    (adder_sweep / "2" / "metrics.json").write_text("{not json")  # a corrupted file
    record = json.loads((adder_sweep / "3" / "metrics.json").read_text())
    record.update(
        status="failed", reason="Diverged: loss became nan in epoch 1", objective=float("-inf")
    )
    (adder_sweep / "3" / "metrics.json").write_text(json.dumps(record))
    (adder_sweep / "stray").mkdir()  # not a job folder: ignored
    assert collect_module.main([str(adder_sweep)]) == 0
    out = capsys.readouterr().out
    assert "skipped 1: no metrics.json" in out and "skipped 2: metrics.json: not JSON" in out
    results = pd.read_csv(adder_sweep / "results.csv")
    assert list(results["job"]) == [0, 3]
    assert list(results["status"]) == ["ok", "failed"]
    summary = (adder_sweep / "summary.md").read_text()
    assert "## Failed jobs" in summary and "Diverged: loss became nan" in summary
    assert "## Skipped folders" in summary and "- 1: no metrics.json" in summary


def test_recollecting_is_idempotent_and_keeps_job_files(adder_sweep):
    jobs_before = {j: digest(adder_sweep / j) for j in "0123"}
    collect(adder_sweep)
    first = digest(adder_sweep)
    collect(adder_sweep)
    assert digest(adder_sweep) == first
    assert {j: digest(adder_sweep / j) for j in "0123"} == jobs_before


def test_single_run_folder_is_one_job(make_cfg, tmp_path):
    job = make_job(make_cfg, tmp_path, 0, "task=adder")
    assert len(collect(job).results) == 1


def test_missing_empty_and_non_sweep_folders(tmp_path, capsys):
    assert collect_module.main([str(tmp_path / "nope")]) == 1
    assert "nope: no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert collect_module.main([str(tmp_path / "empty")]) == 1
    assert "no finished job folders" in capsys.readouterr().err
    other = tmp_path / "other"
    (other / "sub").mkdir(parents=True)
    (other / "notes.txt").write_text("hello")
    assert collect_module.main([str(other)]) == 1
    assert (other / "notes.txt").read_text() == "hello"


def test_console_script_runs_collect(adder_sweep, monkeypatch):
    monkeypatch.setattr("sys.argv", ["sweeper", "collect", str(adder_sweep)])
    with pytest.raises(SystemExit) as exited:
        cli()
    assert exited.value.code == 0 and (adder_sweep / "results.csv").exists()


def fake_results(path: Path, rows: list[dict]) -> Path:
    frame = pd.DataFrame(rows)
    keys = [c for c in frame.columns if c not in ("status", "objective", "test_accuracy")]
    frame.insert(0, "job", range(len(frame)))
    frame = frame[["job", *keys, "status", "objective", "test_accuracy"]]
    frame.to_csv(path, index=False)
    return path


def test_compare_joins_on_shared_keys(tmp_path, capsys):
    a = fake_results(
        tmp_path / "a.csv",
        [
            {
                "model.hidden": 3,
                "loss": "mse",
                "status": "ok",
                "objective": 0.9,
                "test_accuracy": 0.9,
            },
            {
                "model.hidden": 5,
                "loss": "mse",
                "status": "ok",
                "objective": 0.8,
                "test_accuracy": 0.8,
            },
            {
                "model.hidden": 7,
                "loss": "mse",
                "status": "ok",
                "objective": 0.5,
                "test_accuracy": 0.5,
            },
        ],
    )
    b = fake_results(
        tmp_path / "b.csv",
        [
            {
                "model.hidden": 5,
                "loss": "mse",
                "status": "ok",
                "objective": 1.0,
                "test_accuracy": 1.0,
            },
            {
                "model.hidden": 3,
                "loss": "mse",
                "status": "ok",
                "objective": 0.95,
                "test_accuracy": 0.95,
            },
        ],
    )
    out = tmp_path / "cmp.csv"
    assert compare_module.main([str(a), str(b), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    objective = table[table["metric"] == "objective"].set_index("model.hidden")
    assert sorted(objective.index) == [3, 5]  # hidden 7 is only in A
    assert objective.loc[5, "A"] == 0.8 and objective.loc[5, "B"] == 1.0
    assert objective.loc[5, "B - A"] == pytest.approx(0.2)
    assert "B - A" in capsys.readouterr().out


def test_compare_with_no_matching_rows_exits_1(tmp_path, capsys):
    a = fake_results(
        tmp_path / "a.csv",
        [{"loss": "mse", "status": "ok", "objective": 0.9, "test_accuracy": 0.9}],
    )
    b = fake_results(
        tmp_path / "b.csv", [{"loss": "ce", "status": "ok", "objective": 0.9, "test_accuracy": 0.9}]
    )
    assert compare_module.main([str(a), str(b)]) == 1
    assert "no rows of A and B share values of loss" in capsys.readouterr().err
    assert compare_module.main([str(a), str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv: no such file" in capsys.readouterr().err
    assert compare_module.main([str(a), str(b), "--on", "nope"]) == 1
    assert "A has no column nope" in capsys.readouterr().err


def test_compare_two_real_sweeps(adder_sweep, tmp_path):
    collect(adder_sweep)
    results = adder_sweep / "results.csv"
    out = tmp_path / "same.csv"
    assert compare_module.main([str(results), str(results), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert set(table["metric"]) >= {"objective", "test_accuracy", "jobs"}
    assert (table["B - A"] == 0).all() and len(table[table["metric"] == "jobs"]) == 4
