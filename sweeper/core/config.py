"""Checks on a composed config, so bad input fails early with one clear line.

Unknown keys and group options on the command line are named by the entrypoint
(`sweeper.run.validate.override_problem`) before Hydra composes; this module
checks values: `model.hidden=0`, `optim.lr=-1`, `trainer.epochs=abc`, a task's
own keys (through its `Config` schema and `check`: `sweeper.tasks.base`),
`device=cuda` without a GPU, `optim.lr=inf` (every number rule refuses inf
and nan, whatever its bounds). Each problem raises `ConfigError` naming the key
and the constraint; the entrypoint prints it on one line and exits non-zero.
These are the ground floor's rules and helpers; `sweeper.run.validate` checks a
whole job config with them.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException


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
    "loss.name": one_of("mse", "ce"),
    "device.name": one_of("auto", "cpu", "cuda"),
    "optim.name": one_of("adam", "sgd"),
    "optim.lr": positive_number,
    "optim.weight_decay": non_negative_number,
    "optim.schedule": one_of("constant", "cosine"),
}


@dataclass
class TrainerConfig:
    """The `trainer` group (conf/trainer/default.yaml): the training loop's settings.

    Tasks set their recommended values in their YAML's `trainer:` block."""

    epochs: int = 30
    batch_size: int = 64
    patience: int = 5  # epochs without a better validation score before stopping; 0: never
    keep_best: bool = True  # end with the best validation epoch's weights
    stop_accuracy: float | None = 1.0  # null: never
    stop_epochs: int = 1  # ... reached in this many epochs in a row
    grad_clip: float = 0.0  # max gradient norm; 0: no clipping
    precision: str = "fp32"  # fp32 | bf16 | auto


TRAINER_RULES: dict[str, Callable[[Any], str | None]] = {
    "epochs": positive_int,
    "batch_size": positive_int,
    "patience": non_negative_int,
    "keep_best": boolean,
    "stop_accuracy": optional_accuracy,
    "stop_epochs": positive_int,
    "grad_clip": non_negative_number,
    "precision": one_of("fp32", "bf16", "auto"),
}


def config_get(cfg: DictConfig, key: str) -> Any:
    """`cfg`'s value at dotted `key`; ConfigError for a missing or unresolvable one."""
    try:
        return OmegaConf.select(cfg, key, throw_on_missing=True)
    except Exception as error:  # an unresolvable interpolation or a missing value
        raise ConfigError(f"{key}: {error}") from None


def config_error(key: str, value: Any, problem: str) -> ConfigError:
    """The one-line error `<key> <problem>, got <value>`."""
    return ConfigError(f"{key} {problem}, got {value!r}")


def check_rules(
    node: DictConfig, prefix: str, rules: dict[str, Callable[[Any], str | None]]
) -> None:
    """Apply `rules` (key -> check returning a problem or None) to `node`'s keys; raise
    ConfigError `<prefix>.<key> <problem>, got <value>` for the first broken one."""
    for key, check in rules.items():
        name = f"{prefix}.{key}" if prefix else key
        value = config_get(node, key)
        problem = check(value)
        if problem:
            raise config_error(name, value, problem)


def typed_node(node: DictConfig, schema: type, prefix: str) -> DictConfig:
    """`node` merged into `schema`: unknown and missing keys are a ConfigError."""
    try:
        typed = OmegaConf.merge(OmegaConf.structured(schema), OmegaConf.to_container(node))
    except ConfigKeyError as error:
        known = (
            [f.name for f in dataclasses.fields(schema)] if dataclasses.is_dataclass(schema) else []
        )
        close = difflib.get_close_matches(str(error.full_key), known, n=1)
        hint = f"; did you mean {prefix}.{close[0]}?" if close else ""
        raise ConfigError(f"{prefix}.{error.full_key} is not a {prefix} setting{hint}") from None
    except OmegaConfBaseException as error:
        first = (str(error).splitlines() or [type(error).__name__])[0]
        raise ConfigError(f"{prefix}.{error.full_key}: {first}") from None
    return typed


def import_object(path: str) -> Any:
    """The object a dotted `module.Class` path names (a config's `_target_`).

    Raises ImportError (a module that is missing, or that fails importing something
    else) or AttributeError (a module without that name), each with a one-line
    message. Unlike `hydra.utils.get_class`, logs nothing."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        try:
            obj = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name and (name == error.name or name.startswith(error.name + ".")):
                continue  # this prefix is not a module: the rest are attributes
            raise
        for attr in parts[end:]:
            if not hasattr(obj, attr):
                raise AttributeError(f"module {name!r} has no attribute {attr!r}")
            obj, name = getattr(obj, attr), f"{name}.{attr}"
        return obj
    raise ModuleNotFoundError(f"No module named {parts[0]!r}")


def import_target(key: str, target: str) -> Any:
    """The object `target` names, for the config key `key` (`task._target_`, ...).

    Raises ConfigError `<key>=<target> cannot be imported: <first line of why>` for a
    module that is missing, lacks the name, or raises while importing."""
    try:
        return import_object(target)
    except Exception as error:  # ImportError, AttributeError, a module that raises
        why = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(f"{key}={target} cannot be imported: {why}") from None


def resolve_device(name: str) -> torch.device:
    """`auto` -> cuda when available else cpu; `cuda` without a GPU is an error."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "device.name=cuda but no CUDA GPU is available (use device=cpu or device=auto)"
        )
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


# `device.threads=auto`: one thread below this much work per step (the model's parameters
# times the batch size), torch's default at or above it. Measured by bench/threads.py
# (docs/configuration.md): below it torch's default threads are at most 1.10x faster on
# an idle machine (memory hidden 32: 1.10x, adder hidden 10: 1.0x) and many times slower
# on a busy one; above it they are 1.13x (adder hidden 64) to 1.6x (MNIST hidden 128).
AUTO_THREADS_WORK = 1_000_000
# torch's own default, read once at import, so that a job in a process where an
# earlier job set fewer threads (Hydra's basic launcher, a search) gets it back.
TORCH_DEFAULT_THREADS = torch.get_num_threads()


def thread_count(threads: int | str | None, work: int | None = None) -> int | None:
    """Torch CPU threads for a run: `device.threads` when a number; for `auto` one thread
    when the run's `work` (parameters x batch size) is below AUTO_THREADS_WORK; else a
    fair share of the cores when Hydra's joblib launcher runs several jobs at once (so
    2 jobs on 2 cores use 1 thread each instead of fighting over 4), in a SLURM job the
    CPUs it was given (`SLURM_CPUS_PER_TASK`: a node's other cores belong to other jobs),
    else None (torch's default: TORCH_DEFAULT_THREADS)."""
    if threads == "auto":
        if work is not None and work < AUTO_THREADS_WORK:
            return 1
    elif threads:
        return int(threads)
    given = os.environ.get("SLURM_CPUS_PER_TASK", "") if os.environ.get("SLURM_JOB_ID") else ""
    if given.isdigit() and int(given) > 0:
        return int(given)
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
