"""Per-epoch tqdm bars only in the process the user started, never in joblib's workers.

A joblib worker shares the terminal with the sweep and the other workers: its
bars would redraw over their lines. `bars_disabled` decides; the slow test runs
a real joblib grid on a pseudo-terminal and looks at what reached it.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import open_dict

from conftest import CONF_DIR, ROOT, SMALL_RUN
from sweeper.core.epoch_log import bars_disabled
from sweeper.core.private_apis import BASIC_LAUNCHER as IN_PROCESS_LAUNCHER


def test_bars_follow_the_terminal_in_the_users_own_process():
    assert not HydraConfig.initialized()
    assert bars_disabled() is None  # tqdm decides: bars on a terminal only


def test_a_worker_process_draws_no_bars():
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(bars_disabled) is True


@pytest.fixture
def hydra_as() -> Iterator:
    """Sets HydraConfig as Hydra does inside a job (mode, launcher); cleared afterwards."""

    def set_config(mode: RunMode, *overrides: str) -> None:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("config", overrides=list(overrides), return_hydra_config=True)
        with open_dict(cfg):
            cfg.hydra.mode = mode
        HydraConfig.instance().set_config(cfg)

    yield set_config
    HydraConfig.instance().cfg = None


@pytest.mark.parametrize(
    ("mode", "launcher", "disabled"),
    [
        (RunMode.MULTIRUN, "hydra/launcher=joblib", True),
        (RunMode.MULTIRUN, "hydra/launcher=submitit_local", True),
        (RunMode.MULTIRUN, None, None),  # the basic launcher: jobs in the sweep's process
        (RunMode.RUN, "hydra/launcher=joblib", None),  # a single run never launches
    ],
)
def test_the_hydra_launcher_decides_in_a_multirun(hydra_as, mode, launcher, disabled):
    hydra_as(mode, *([launcher] if launcher else []))
    if launcher is None:
        assert HydraConfig.get().launcher._target_ == IN_PROCESS_LAUNCHER
    assert bars_disabled() is disabled


def on_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run `args` with stdout and stderr on one 120-column pseudo-terminal; (exit status,
    what it showed). A new pseudo-terminal is 0 columns wide: tqdm would draw empty bars."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        args,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=follower,
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
    return process.wait(timeout=600), b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_a_joblib_grid_on_a_terminal_shows_no_worker_bars(tmp_path):
    code, shown = on_terminal(
        [
            sys.executable,
            "-m",
            "sweeper",
            "task=adder",
            "model.hidden=3,5",
            *SMALL_RUN,
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
            "-m",
        ],
        tmp_path,
    )
    assert code == 0, shown[-3000:]
    assert "sweep: job 2 of 2 done" in shown  # the sweep's own line reached the terminal
    assert "adder epochs" not in shown and "it/s]" not in shown and "█" not in shown
    assert shown.count("epoch 2/2: train loss") == 2  # each job's epoch lines, whole
