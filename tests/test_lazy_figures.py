"""A sweep's jobs draw no curves.png (nor import matplotlib for it); collect draws the
missing ones, byte for byte as the job would have; a single run still draws its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from fake_folders import make_job
from hydra.types import RunMode

import sweeper.run.observers as observers
from sweeper.collect import collect
from sweeper.run.observers import draws_curves

ROOT = Path(__file__).resolve().parents[1]


def hydra_job(mode: RunMode) -> SimpleNamespace:
    """What `sweeper.run.observers` sees of Hydra inside a job run in `mode`."""
    return SimpleNamespace(initialized=lambda: True, get=lambda: SimpleNamespace(mode=mode))


@pytest.fixture
def in_a_sweep(monkeypatch):
    """As inside a Hydra multirun job (grid, search, joblib or SLURM worker)."""
    monkeypatch.setattr(observers, "HydraConfig", hydra_job(RunMode.MULTIRUN))
    return monkeypatch


def test_only_a_single_run_or_a_tracked_job_draws_its_own_curves(in_a_sweep):
    assert not draws_curves(has_loggers=False)
    assert draws_curves(has_loggers=True)  # the tracker logs curves.png with the run's files
    in_a_sweep.setattr(observers, "HydraConfig", hydra_job(RunMode.RUN))
    assert draws_curves(has_loggers=False)


def test_collect_draws_a_sweep_jobs_curves_as_a_single_run_draws_them(make_cfg, tmp_path):
    single = make_job(make_cfg, tmp_path / "single", 0, "model.hidden=3", "loss=mse")
    assert (single / "curves.png").is_file()
    sweep = tmp_path / "sweep"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(observers, "HydraConfig", hydra_job(RunMode.MULTIRUN))
        jobs = [
            make_job(make_cfg, sweep, n, f"model.hidden={h}", "loss=mse")
            for n, h in enumerate((3, 4))
        ]
    assert not any((job / "curves.png").exists() for job in jobs)
    collect(sweep)
    assert all((job / "curves.png").is_file() for job in jobs)
    assert (jobs[0] / "curves.png").read_bytes() == (single / "curves.png").read_bytes()
    assert (sweep / "curves.png").is_file()  # the sweep's own figure too


def test_collect_draws_no_curves_for_an_interrupted_job(make_cfg, tmp_path, in_a_sweep):
    job = make_job(make_cfg, tmp_path / "sweep", 0, "model.hidden=3")
    in_a_sweep.undo()
    record = json.loads((job / "metrics.json").read_text())
    (job / "metrics.json").write_text(json.dumps({**record, "status": "interrupted"}))
    collect(tmp_path / "sweep")
    assert not (job / "curves.png").exists()


def test_a_job_imports_no_matplotlib():
    code = "import sys, sweeper.run.job; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr[-2000:]
