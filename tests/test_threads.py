"""`device.threads=auto`: one torch thread for a small model, torch's default
for a large one, a fair share under parallel jobs; what ran is recorded in metrics.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from sweeper.core.config import (
    AUTO_THREADS_WORK,
    TORCH_DEFAULT_THREADS,
    ConfigError,
    thread_count,
)
from sweeper.run.job import train
from sweeper.run.validate import validate

TINY = ["task.train_size=256", "task.val_size=100", "task.test_per_length=5", "trainer.epochs=1"]


def threads_recorded(cfg) -> int:
    return json.loads(Path(cfg.output_dir, "metrics.json").read_text())["settings"][
        "device.threads"
    ]


def test_auto_is_one_thread_below_the_measured_work_and_torchs_default_above():
    assert thread_count("auto", AUTO_THREADS_WORK - 1) == 1
    assert thread_count("auto", AUTO_THREADS_WORK) is None  # outside Hydra: torch's default
    assert thread_count("auto", None) is None
    assert thread_count(3, 10) == 3 and thread_count(None, 10) is None


def test_auto_trains_a_small_model_on_one_thread(make_cfg):
    cfg = make_cfg(*TINY, "device.threads=auto")
    train(cfg)
    assert threads_recorded(cfg) == 1 == torch.get_num_threads()


@pytest.mark.skipif(TORCH_DEFAULT_THREADS < 2, reason="torch's default is one thread here")
def test_a_large_model_gets_torchs_default_back_after_a_small_one(make_cfg, tmp_path):
    small = make_cfg(*TINY, "device.threads=auto", out=tmp_path / "small")
    train(small)
    assert torch.get_num_threads() == 1
    large = make_cfg(*TINY, "device.threads=auto", "model.hidden=128", out=tmp_path / "large")
    train(large)
    assert threads_recorded(large) == TORCH_DEFAULT_THREADS == torch.get_num_threads()


def test_a_number_is_used_and_null_is_torchs_default_after_one_thread(make_cfg, tmp_path):
    two = make_cfg(*TINY, "device.threads=2", out=tmp_path / "two")
    train(two)
    assert threads_recorded(two) == 2
    default = make_cfg(*TINY, "device.threads=null", out=tmp_path / "default")
    train(default)
    assert threads_recorded(default) == TORCH_DEFAULT_THREADS


@pytest.mark.parametrize("value", ["many", "0", "-1"])
def test_other_values_are_refused_naming_the_choices(make_cfg, value):
    with pytest.raises(ConfigError, match="device.threads must be auto, null or a positive"):
        validate(make_cfg(f"device.threads={value}"))
