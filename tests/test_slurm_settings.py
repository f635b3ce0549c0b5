"""`hydra.launcher.*` settings of `hydra/launcher=slurm` refused before a sweep writes or
submits anything (sweeper.sweeps.slurm.settings_problem): no cluster needed, unlike
tests/test_slurm.py."""

from __future__ import annotations

import os
import stat

import pytest

from conftest import SMALL_RUN, sweeper
from sweeper.sweeps.slurm import settings_problem

GOOD = {"timeout_min": 60, "signal_delay_s": 120, "cpus_per_task": 2, "nodes": 1,
        "tasks_per_node": 1, "mem_gb": 8, "array_parallelism": 16, "gpus_per_node": 0,
        "partition": "debug"}  # fmt: skip


def test_the_shipped_settings_pass():
    assert settings_problem(GOOD, ["debug", "gpu"]) is None
    assert settings_problem(GOOD, None) is None  # no sinfo: sbatch's own check


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("timeout_min", -5, "hydra.launcher.timeout_min=-5: must be a whole number >= 1"),
        ("timeout_min", 0, "hydra.launcher.timeout_min=0: must be a whole number >= 1"),
        ("cpus_per_task", 0, "hydra.launcher.cpus_per_task=0: must be"),
        ("mem_gb", -1, "hydra.launcher.mem_gb=-1: must be"),
        ("nodes", 0, "hydra.launcher.nodes=0: must be"),
        ("array_parallelism", 0, "hydra.launcher.array_parallelism=0: must be"),
        ("signal_delay_s", -1, "hydra.launcher.signal_delay_s=-1: must be a whole number >= 0"),
        ("gpus_per_node", -2, "hydra.launcher.gpus_per_node=-2: must be"),
        ("timeout_min", True, "hydra.launcher.timeout_min=True: must be"),
        ("signal_delay_s", 3600, "the time-limit warning must come before the limit"),
        ("partition", "nope", "hydra.launcher.partition=nope: no such partition on this "
         "cluster (nope); sinfo lists debug, gpu"),
        ("partition", "debug,nope", "no such partition on this cluster (nope)"),
    ],
)  # fmt: skip
def test_a_bad_setting_is_named_in_one_line(key, value, words):
    problem = settings_problem({**GOOD, key: value}, ["debug", "gpu"])
    assert problem is not None and words in problem and "\n" not in problem


@pytest.mark.slow
@pytest.mark.parametrize(
    "setting, words",
    [
        ("hydra.launcher.timeout_min=-5", "hydra.launcher.timeout_min=-5: must be"),
        ("hydra.launcher.partition=nope", "hydra.launcher.partition=nope: no such partition"),
    ],
)
def test_a_sweep_with_a_bad_setting_is_refused_before_anything_is_written(tmp_path, setting, words):
    """From the command line, with a stand-in `sinfo` on PATH listing one partition, so it
    runs without a cluster: exit 2, one line, no sweep folder, nothing submitted."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("sinfo", "echo 'debug*'"), ("sbatch", 'touch "$0.ran"; exit 1')):
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = sweeper(
        "task=adder", *SMALL_RUN, "model.hidden=3,5", "hydra/launcher=slurm", setting,
        f"hydra.sweep.dir={tmp_path / 'sweep'}", "-m", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"sweeper: error: {lines[0].removeprefix('sweeper: error: ')}"]
    assert words in lines[0]
    assert not (tmp_path / "sweep").exists() and not (bin_dir / "sbatch.ran").exists()
