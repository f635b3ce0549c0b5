"""Checks on a composed config, so bad input fails early with one clear line.

Hydra already rejects unknown keys and unknown group options; this module
checks values: `model.hidden=0`, `optim.lr=-1`, `task.epochs=abc`,
`device=cuda` without a GPU, `optim.lr=inf` (every number rule refuses inf
and nan, whatever its bounds). Each problem raises `ConfigError` naming the key
and the constraint; the entrypoint prints it on one line and exits non-zero.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import torch
from omegaconf import DictConfig, ListConfig, OmegaConf


class ConfigError(ValueError):
    """A config value the run cannot use; the message names the key."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    """A finite int or float: inf and nan are never a usable setting."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def positive_int(value: Any) -> str | None:
    return None if _is_int(value) and value > 0 else "must be a positive integer"


def non_negative_int(value: Any) -> str | None:
    return None if _is_int(value) and value >= 0 else "must be an integer >= 0"


def positive_number(value: Any) -> str | None:
    return None if _is_number(value) and value > 0 else "must be a finite number > 0"


def non_negative_number(value: Any) -> str | None:
    return None if _is_number(value) and value >= 0 else "must be a finite number >= 0"


def fraction(value: Any) -> str | None:
    return None if _is_number(value) and 0 <= value < 1 else "must be a number in [0, 1)"


def optional_accuracy(value: Any) -> str | None:
    ok = value is None or (_is_number(value) and 0 < value <= 1)
    return None if ok else "must be null or a number in (0, 1]"


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def one_of(*choices: Any) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(map(str, choices))}"

    return check


def int_list(value: Any) -> str | None:
    ok = isinstance(value, (list, tuple, ListConfig)) and all(_is_int(v) and v > 0 for v in value)
    return None if ok else "must be a list of positive integers, e.g. [30,40]"


COMMON_RULES: dict[str, Callable[[Any], str | None]] = {
    "seed": non_negative_int,
    "model.cell": one_of("rnn", "lstm", "gru"),
    "model.hidden": positive_int,
    "model.layers": positive_int,
    "model.bidirectional": boolean,
    "model.dropout": fraction,
    "model.readout": one_of("auto", "each", "last", "final", "flatten"),
    "model.init": one_of("torch", "orthogonal"),
    "loss.name": one_of("mse", "ce"),
    "device.name": one_of("auto", "cpu", "cuda"),
    "device.precision": one_of("fp32", "bf16", "auto"),
    "optim.name": one_of("adam", "sgd"),
    "optim.lr": positive_number,
    "optim.weight_decay": non_negative_number,
    "optim.schedule": one_of("constant", "cosine"),
    "optim.grad_clip": non_negative_number,
    "objective.direction": one_of("maximize", "minimize"),
    "task.epochs": positive_int,
    "task.batch_size": positive_int,
    "task.patience": non_negative_int,
    "task.keep_best": boolean,
    "task.stop_accuracy": optional_accuracy,
    "task.stop_epochs": positive_int,
    "task.data_seed": non_negative_int,
}

SEQUENCE_RULES: dict[str, Callable[[Any], str | None]] = {
    "task.min_length": positive_int,
    "task.max_length": positive_int,
    "task.extrapolation_lengths": int_list,
    "task.fresh_data": boolean,
    "task.train_size": positive_int,
    "task.val_size": positive_int,
    "task.test_per_length": positive_int,
}

TASK_RULES: dict[str, dict[str, Callable[[Any], str | None]]] = {
    "adder": SEQUENCE_RULES,
    "memory": {**SEQUENCE_RULES, "task.position": non_negative_int},
    "mnist": {
        "task.dataset": one_of("mnist", "fashion_mnist"),
        "task.download": boolean,
        "task.val_size": positive_int,
        "task.normalize": boolean,
    },
}


def _get(cfg: DictConfig, key: str) -> Any:
    try:
        return OmegaConf.select(cfg, key, throw_on_missing=True)
    except Exception as error:  # an unresolvable interpolation or a missing value
        raise ConfigError(f"{key}: {error}") from None


def _fail(key: str, value: Any, problem: str) -> ConfigError:
    return ConfigError(f"{key} {problem}, got {value!r}")


def validate(cfg: DictConfig) -> None:
    """Raise ConfigError for the first value in `cfg` that a run cannot use."""
    task_name = _get(cfg, "task.name")
    if task_name not in TASK_RULES:
        raise _fail("task.name", task_name, f"must be one of {', '.join(TASK_RULES)}")
    for key, check in {**COMMON_RULES, **TASK_RULES[task_name]}.items():
        value = _get(cfg, key)
        problem = check(value)
        if problem:
            raise _fail(key, value, problem)
    if task_name in ("adder", "memory"):
        _validate_lengths(cfg)
    if not isinstance(_get(cfg, "objective.metric"), str):
        raise _fail("objective.metric", cfg.objective.metric, "must be a metric name")
    if cfg.device.threads is not None and positive_int(cfg.device.threads):
        raise _fail("device.threads", cfg.device.threads, "must be null or a positive integer")
    resolve_device(cfg.device.name)


def _validate_lengths(cfg: DictConfig) -> None:
    task = cfg.task
    if task.max_length < task.min_length:
        raise _fail(
            "task.max_length", task.max_length, f"must be >= task.min_length ({task.min_length})"
        )
    if task.name == "memory" and task.position >= task.min_length:
        raise _fail(
            "task.position", task.position, f"must be < task.min_length ({task.min_length})"
        )
    if (
        task.name == "memory"
        and min(task.extrapolation_lengths, default=task.min_length) <= task.position
    ):
        raise _fail(
            "task.extrapolation_lengths",
            list(task.extrapolation_lengths),
            f"must all be > task.position ({task.position})",
        )


def resolve_device(name: str) -> torch.device:
    """`auto` -> cuda when available else cpu; `cuda` without a GPU is an error."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "device.name=cuda but no CUDA GPU is available (use device=cpu or device=auto)"
        )
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def thread_count(threads: int | None) -> int | None:
    """Torch CPU threads for a run: `device.threads`, else a fair share of the cores when
    Hydra's joblib launcher runs several jobs at once (so 2 jobs on 2 cores use 1 thread
    each instead of fighting over 4), else None (torch's default)."""
    if threads:
        return threads
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    launcher = HydraConfig.get().launcher
    if "joblib" not in str(launcher.get("_target_", "")):
        return None
    cores = os.cpu_count() or 1
    n_jobs = launcher.get("n_jobs") or -1
    parallel = min(n_jobs, cores) if n_jobs > 0 else max(1, cores + 1 + n_jobs)  # joblib's -1 = all
    return max(1, cores // parallel)
