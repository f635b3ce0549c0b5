"""Recording-only overrides (`logger=...`, `output_dir=...`) are no configuration columns.

results.csv's columns between `job` and `status` are the configuration a job ran
(what the pivot tabulates and compare joins on). A tracker chosen on the command
line says where results are recorded, not what was trained, so it must not split
one configuration into two or keep two sweeps from joining.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT, SMALL_RUN
from sweeper import compare as compare_module
from sweeper.reports.results import is_setting, key_columns, parse_overrides


def test_recording_only_keys_are_left_out_and_settings_kept():
    lines = [
        "model.hidden=3",
        "logger=tensorboard",
        "logger=[csv,mlflow]",
        "+logger.mlflow.tracking_uri=sqlite:///x.db",
        "logger.tensorboard.log_dir=/tmp/tb",
        "output_dir=/tmp/run",
        "task.data_root=/data",
        "task.download=false",
        "hydra/launcher=joblib",
        "hydra.sweeper.n_jobs=2",
        "pruning.trial=3",
        "device=cpu",
        "device.threads=2",
        "trainer.precision=bf16",
        "pruning.warmup_epochs=2",
        "loggerish=1",  # a key that only starts like one is a setting
    ]
    assert parse_overrides(lines) == {
        "model.hidden": "3",
        "device": "cpu",
        "device.threads": "2",
        "trainer.precision": "bf16",
        "pruning.warmup_epochs": "2",
        "loggerish": "1",
    }
    assert not is_setting("~logger") and not is_setting("logger/tensorboard")
    assert is_setting("task.name") and is_setting("seed")


def test_key_columns_skip_a_logger_column_an_older_results_csv_holds():
    frame = pd.DataFrame(
        {"job": [0], "logger": ["tensorboard"], "model.hidden": [3], "status": ["ok"]}
    )
    assert key_columns(frame) == ["model.hidden"]


def sweep(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sweeper",
            "task=adder",
            *SMALL_RUN,
            "trainer.epochs=1",
            *args,
            f"hydra.sweep.dir={out}",
            "-m",
        ],
        cwd=out.parent,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.slow
def test_a_grid_with_a_logger_override_has_no_logger_column_and_joins_another(tmp_path, capsys):
    a = tmp_path / "a"
    result = sweep(a, "model.hidden=3,5", "logger=none")
    assert result.returncode == 0, result.stderr[-3000:]
    results = pd.read_csv(a / "results.csv")
    assert "logger" not in results.columns
    assert key_columns(results)[-1] == "model.hidden" and "logger" not in key_columns(results)
    summary = (a / "summary.md").read_text()
    assert "logger=" not in summary and "| logger" not in summary
    # B: the same grid recorded with another tracker (only its overrides differ).
    b = tmp_path / "b"
    shutil.copytree(a, b)
    for job in ("0", "1"):
        path = b / job / ".hydra" / "overrides.yaml"
        overrides = yaml.safe_load(path.read_text())
        assert "logger=none" in overrides
        path.write_text(
            yaml.safe_dump([o if o != "logger=none" else "logger=[csv,mlflow]" for o in overrides])
        )
    (b / "results.csv").unlink()
    assert compare_module.main([str(a), str(b)]) == 0
    out, err = capsys.readouterr()
    assert "joined on: model.hidden;" in out, out + err
    # A results.csv written before logger was left out still joins on model.hidden.
    old = pd.read_csv(a / "results.csv")
    old.insert(1, "logger", "tensorboard")
    old.to_csv(tmp_path / "old.csv", index=False)
    assert compare_module.main([str(tmp_path / "old.csv"), str(a / "results.csv")]) == 0
    out, err = capsys.readouterr()
    assert "joined on: model.hidden;" in out and "tensorboard" not in out + err
