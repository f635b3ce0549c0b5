"""Sweep progress lines: on a terminal only, one whole line per finished job or trial."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest

from conftest import ROOT, SMALL_RUN
from sweeper.sweeps.progress import GridProgress, SearchProgress, clock, progress_line


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def finish(folder, status: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps({"status": status}))


def test_clock_and_line_format():
    assert [clock(s) for s in (0, 42.4, 725, 3723)] == ["0:00", "0:42", "12:05", "1:02:03"]
    assert progress_line("sweep", "job", 0, 6, 5.0) == "sweep: job 0 of 6 done, elapsed 0:05"
    assert progress_line("sweep", "job", 2, 6, 20.0, "1 failed") == (
        "sweep: job 2 of 6 done (1 failed), elapsed 0:20, ETA 0:40"
    )
    assert "ETA" not in progress_line("sweep", "job", 6, 6, 60.0)


def test_grid_progress_writes_a_line_per_finished_job_on_a_terminal(tmp_path):
    folders = [tmp_path / str(n) for n in range(3)]
    stream = Terminal()
    with GridProgress(folders, stream=stream, poll_seconds=0.02) as progress:
        assert progress._thread is not None
        finish(folders[1], "ok")
        deadline = time.monotonic() + 10
        while "job 1 of 3" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
        finish(folders[0], "failed")
        finish(folders[2], "interrupted")  # not finished: no line
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("sweep: job 1 of 3 done, elapsed 0:") and "ETA" in lines[0]
    assert lines[1].startswith("sweep: job 2 of 3 done (1 failed), elapsed")


def test_grid_progress_is_quiet_off_a_terminal(tmp_path):
    stream = io.StringIO()  # a file, a pipe: isatty() is False
    folder = tmp_path / "0"
    with GridProgress([folder], stream=stream, poll_seconds=0.01) as progress:
        assert progress._thread is None
        finish(folder, "ok")
    assert stream.getvalue() == ""


def test_search_progress_says_trials_done_and_the_best_so_far():
    optuna = pytest.importorskip("optuna")
    study = optuna.create_study(direction="maximize")
    stream = Terminal()
    progress = SearchProgress(4, stream=stream)
    trial = study.ask()
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    assert "search: trial 1 of 4 done (no completed trial yet)" in progress.told(study, 1)
    for value in (0.5, 0.75):
        study.tell(study.ask(), value)
    line = progress.told(study, 2)
    assert line.startswith("search: trial 3 of 4 done (best so far 0.7500 in trial 2), elapsed")
    assert stream.getvalue().splitlines()[-1] == line
    assert SearchProgress(4, stream=io.StringIO()).told(study, 1) is None


@pytest.mark.slow
def test_grid_on_a_terminal_shows_a_sweep_line_per_job(tmp_path):
    """The real command: a 2-job grid with stderr on a pseudo-terminal shows a line per
    job (off a terminal: test_grid_progress_is_quiet_off_a_terminal)."""
    args = [
        sys.executable,
        "-m",
        "sweeper",
        "task=adder",
        "model.hidden=3,5",
        *SMALL_RUN,
        "trainer.epochs=1",
        "-m",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*args, f"hydra.sweep.dir={tmp_path / 'sweep'}"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(leader)
    assert process.wait(timeout=600) == 0
    shown = b"".join(chunks).decode(errors="replace")
    assert "sweep: job 1 of 2 done" in shown and "sweep: job 2 of 2 done" in shown
