"""A job in a worker process stops when the process that launched it is gone
(sweeper.core.observers.OrphanGuard): a SIGKILLed joblib search leaves no job training."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from sweeper.core.interrupt import Interrupted
from sweeper.core.observers import OrphanGuard, orphan_guard


def test_no_guard_in_a_process_of_its_own():
    assert orphan_guard() is None  # pytest (and a command line) is no multiprocessing child


def test_a_guard_whose_parent_is_alive_lets_the_run_go_on():
    OrphanGuard(os.getppid()).epoch_end({"epoch": 1})


def test_a_guard_whose_parent_changed_stops_the_run():
    with pytest.raises(Interrupted) as stopped:
        OrphanGuard(os.getppid() + 1_000_000).epoch_end({"epoch": 3})
    assert stopped.value.signal_name == "SIGHUP"


def _worker(out: str, ready) -> None:  # the job's process: a multiprocessing child
    guard = orphan_guard()
    ready.set()
    deadline = time.monotonic() + 20
    while guard is not None and os.getppid() == guard.parent_pid:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    try:
        guard.epoch_end({"epoch": 3}) if guard else None
        Path(out).write_text("went on" if guard else "no guard")
    except Interrupted:
        Path(out).write_text("stopped")


def _launcher(out: str) -> None:  # the search: starts the job, then dies at once
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    context.Process(target=_worker, args=(out, ready)).start()
    ready.wait(20)
    os._exit(0)


def test_a_worker_whose_launcher_died_stops_at_its_next_epoch(tmp_path):
    out = tmp_path / "outcome"
    launcher = multiprocessing.get_context("fork").Process(target=_launcher, args=(str(out),))
    launcher.start()
    launcher.join(30)
    deadline = time.monotonic() + 30
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert out.read_text() == "stopped"
