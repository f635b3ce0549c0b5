"""The benchmark's quick mode runs end to end, so bench/ cannot rot (timings never asserted)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT


@pytest.mark.slow
def test_quick_benchmark_prints_its_table(tmp_path):
    out = tmp_path / "bench.csv"
    result = subprocess.run(
        [sys.executable, "bench/benchmark.py", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "machine:" in result.stdout and "| benchmark" in result.stdout
    table = pd.read_csv(out)
    assert list(table["benchmark"]) == [
        "adder",
        "memory",
        "fixed cost per job",
        "parallel grid (joblib)",
        "pruning: median vs none (lr search)",
        "pruning: joblib n_jobs=2 vs joblib n_jobs=1",
        "pruning: joblib n_jobs=2 vs n_jobs=1 in-process",
        "search overhead per trial, 4-6 vs 1-3",
        "grid job fixed cost: compose once vs every job",
        "instant search, cost per trial (7 trials): compose once vs every job",
    ]
    adder = table.set_index("benchmark").loc["adder"]
    assert adder["baseline s"] > 0 and adder["sweeper s"] > 0
    assert len(str(adder["sweeper bit acc"]).split(",")) == 2  # mse and ce


@pytest.mark.slow
def test_the_plugin_row_runs_with_any_python_that_has_an_optuna_sweeper(tmp_path):
    """The row against hydra-optuna-sweeper needs a venv of its own (it pins optuna<3);
    here this venv stands in for it (its `hydra/sweeper=optuna` is sweeper's drop-in),
    so the row's code runs: both sides search, each read by its own Python."""
    out = tmp_path / "bench.csv"
    result = subprocess.run(
        [sys.executable, "bench/benchmark.py", "--only", "plugin", "--quick",
         "--plugin-python", sys.executable, "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    row = pd.read_csv(out).iloc[0]
    assert row["benchmark"].startswith("plain app, instant search (6 trials)")
    assert row["baseline s"] > 0 and row["sweeper s"] > 0


def test_the_plugin_row_asks_for_its_python():
    result = subprocess.run(
        [sys.executable, "bench/benchmark.py", "--only", "plugin", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2 and "--plugin-python" in result.stderr
