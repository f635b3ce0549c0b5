"""Grid multiruns (sweeper.sweeps.grid): checked whole first, resumed, never overwritten."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT, SMALL_RUN, default_sigint, sweeper

pytestmark = pytest.mark.slow


def grid(tmp_path: Path, *args: str, folder: str = "sweep") -> subprocess.CompletedProcess:
    return sweeper(*SMALL_RUN, f"hydra.sweep.dir={tmp_path / folder}", *args, "-m", cwd=tmp_path)


def snapshot(folder: Path) -> dict[str, float]:
    """Every file under `folder` with its modification time (not the sweep's own lock)."""
    files = (p for p in folder.rglob("*") if p.is_file() and ".sweeper" not in p.parts)
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in files}


def test_a_bad_point_is_refused_before_any_job_naming_every_bad_point(tmp_path):
    result = grid(tmp_path, "model.hidden=3,0,-2")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "sweeper: error: 2 of 3 grid points are invalid, nothing was run: "
        "point 1 (model.hidden=0): model.hidden must be a positive integer, got 0; "
        "point 2 (model.hidden=-2): model.hidden must be a positive integer, got -2"
    )
    assert not (tmp_path / "sweep").exists()


def test_bad_values_of_two_keys_in_one_grid(tmp_path):
    result = grid(tmp_path, "trainer.epochs=1,0", "loss=ce,mse", "device.name=cpu,gpu")
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith("sweeper: error: 6 of 8 grid points are invalid, nothing was run:")
    assert "trainer.epochs must be a positive integer, got 0" in line
    assert "device.name must be one of auto, cpu, cuda, got 'gpu'" in line


def test_rerunning_the_same_grid_resumes_it_and_keeps_finished_jobs(tmp_path):
    first = grid(tmp_path, "model.hidden=3,4", "loss=mse,ce")
    assert first.returncode == 0, first.stderr
    sweep = tmp_path / "sweep"
    (sweep / "2" / "metrics.json").unlink()  # job 2 was killed before it finished
    kept = {k: v for k, v in snapshot(sweep).items() if k.split("/")[0] in ("0", "1", "3")}
    again = grid(tmp_path, "loss=mse,ce", "model.hidden=3,4")  # same grid, other order
    assert again.returncode == 0, again.stderr
    assert "3 of 4 jobs already finished, kept and skipped: 0, 1, 3" in again.stdout
    assert "#2 :" in again.stdout and "#0 :" not in again.stdout
    after = snapshot(sweep)
    assert {k: after[k] for k in kept} == kept  # finished jobs untouched, byte for byte
    assert (sweep / "2" / "metrics.json").exists()
    results = pd.read_csv(sweep / "results.csv")
    assert sorted(results["job"].astype(str)) == ["0", "1", "2", "3"]
    assert not (sweep / "4").exists()


def test_a_different_grid_into_a_used_folder_is_refused_and_nothing_changes(tmp_path):
    assert grid(tmp_path, "model.hidden=3,4").returncode == 0
    sweep = tmp_path / "sweep"
    before = snapshot(sweep)
    result = grid(tmp_path, "loss=mse,ce")
    assert result.returncode == 2
    message = result.stderr.strip()
    assert "\n" not in message
    assert message.startswith(f"sweeper: error: {sweep} already holds a different sweep (2 jobs")
    assert "hydra.sweeper.add=true" in message
    assert snapshot(sweep) == before


def test_a_logger_added_on_a_re_run_is_the_same_grid(tmp_path):
    """`logger=...` says where results are recorded, not what a job trains: the re-run
    resumes the grid (finished jobs kept) instead of refusing a 'different sweep'."""
    assert grid(tmp_path, "model.hidden=3,4", "logger=none").returncode == 0
    sweep = tmp_path / "sweep"
    before = snapshot(sweep)
    again = grid(tmp_path, "model.hidden=3,4", "logger=csv")
    assert again.returncode == 0, again.stderr
    assert "2 of 2 jobs already finished, kept and skipped: 0, 1" in again.stdout
    after = snapshot(sweep)
    assert {k: after[k] for k in before if k.split("/")[0] in "01"} == {
        k: v for k, v in before.items() if k.split("/")[0] in "01"
    }


def test_job_identity_leaves_out_recording_only_overrides():
    from sweeper.records.sweep_folder import identity, recording_only

    assert identity(["model.hidden=3", "logger=[csv,tensorboard]"]) == identity(["model.hidden=3"])
    assert identity(["+logger.mlflow.tracking_uri=x", "task.data_root=/d", "loss='mse'"]) == {
        "loss=mse"
    }
    assert recording_only("logger/tensorboard") and not recording_only("loggers")
    assert identity(["device=cpu"]) != identity([])  # device can change results: kept


def test_add_numbers_new_jobs_after_existing_ones_and_skips_finished_points(tmp_path):
    assert grid(tmp_path, "model.hidden=3,4").returncode == 0
    sweep = tmp_path / "sweep"
    result = grid(tmp_path, "model.hidden=4,5", "hydra.sweeper.add=true")
    assert result.returncode == 0, result.stderr
    assert "kept and skipped: 1" in result.stdout and "#2 :" in result.stdout
    results = pd.read_csv(sweep / "results.csv")
    assert sorted(results["model.hidden"]) == [3, 4, 5]


def test_nested_subdirs_resume_and_number_after_existing_jobs(tmp_path):
    subdir = "hydra.sweep.subdir=${task.name}/${hydra.job.num}"
    assert grid(tmp_path, "model.hidden=3,4", subdir).returncode == 0
    sweep = tmp_path / "sweep"
    assert (sweep / "adder" / "1" / "metrics.json").exists()
    (sweep / "adder" / "1" / "metrics.json").unlink()
    again = grid(tmp_path, "model.hidden=3,4", subdir)
    assert again.returncode == 0, again.stderr
    assert "#1 :" in again.stdout and "#0 :" not in again.stdout
    more = grid(tmp_path, "model.hidden=5", subdir, "hydra.sweeper.add=true")
    assert more.returncode == 0, more.stderr
    assert (sweep / "adder" / "2" / "metrics.json").exists()


def test_a_subdir_that_sends_two_points_to_one_folder_is_refused(tmp_path):
    result = grid(tmp_path, "model.hidden=3,4", "hydra.sweep.subdir=${loss.name}")
    assert result.returncode == 2
    assert "would share the folder" in result.stderr and "hydra.job.num" in result.stderr
    assert not (tmp_path / "sweep" / "ce" / "metrics.json").exists()


def test_a_subdir_that_reuses_another_jobs_folder_is_refused(tmp_path):
    subdir = "hydra.sweep.subdir=h${model.hidden}"
    assert grid(tmp_path, "model.hidden=3", "loss=mse", subdir).returncode == 0
    before = snapshot(tmp_path / "sweep")
    result = grid(tmp_path, "model.hidden=3", "loss=ce", subdir, "hydra.sweeper.add=true")
    assert result.returncode == 2
    assert "which holds job 0" in result.stderr
    assert snapshot(tmp_path / "sweep") == before


def test_a_hidden_size_grid_resumes_as_the_same_model_hidden_grid(tmp_path):
    assert grid(tmp_path, "hidden_size=3,5").returncode == 0
    again = grid(tmp_path, "model.hidden=3,5")  # one spelling: the same jobs
    assert again.returncode == 0, again.stderr
    assert "2 of 2 jobs already finished" in again.stdout


def test_a_second_grid_into_a_folder_being_filled_is_refused(tmp_path):
    lock = tmp_path / "sweep" / ".sweeper" / "grid.lock"
    lock.parent.mkdir(parents=True)
    with open(lock, "w") as handle:  # another sweep holds the folder
        handle.write("pid 12345\n")
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = grid(tmp_path, "model.hidden=3,4")
    assert result.returncode == 2
    assert "is being filled by another sweep (pid 12345)" in result.stderr
    assert not (tmp_path / "sweep" / "0").exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_a_grid_collects_what_finished_and_says_what_was_cut_off(tmp_path, signum):
    sweep = tmp_path / "sweep"
    process = subprocess.Popen(
        [sys.executable, "-m", "sweeper", *SMALL_RUN, f"hydra.sweep.dir={sweep}"]
        + ["trainer.epochs=1,200", "trainer.patience=0", "trainer.stop_accuracy=null", "-m"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=default_sigint,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (sweep / "1" / ".hydra").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)  # job 1 (200 epochs) is training
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signum, stderr
    assert "sweeper: interrupted: 1 of 2 jobs of this run finished, cut off: 1" in stderr
    results = pd.read_csv(sweep / "results.csv").set_index("job")
    assert results.loc[0, "status"] == "ok"
    assert results.get("status", pd.Series()).get(1, "interrupted") == "interrupted"


def test_a_grid_killed_before_its_last_jobs_started_is_still_the_same_grid(tmp_path):
    assert grid(tmp_path, "model.hidden=3,4,5").returncode == 0
    sweep = tmp_path / "sweep"
    shutil.rmtree(sweep / "2")  # killed during job 1: job 2 never had a folder
    (sweep / "1" / "metrics.json").unlink()
    again = grid(tmp_path, "model.hidden=3,4,5")
    assert again.returncode == 0, again.stderr
    assert "kept and skipped: 0" in again.stdout
    assert "#1 :" in again.stdout and "#2 :" in again.stdout and "#3 :" not in again.stdout
    assert sorted(pd.read_csv(sweep / "results.csv")["model.hidden"]) == [3, 4, 5]
    bigger = grid(tmp_path, "model.hidden=3,4,5,6")  # a new point: another sweep
    assert bigger.returncode == 2 and "already holds a different sweep" in bigger.stderr
