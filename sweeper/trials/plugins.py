"""Optuna's sampler and pruner objects built from a `_target_` config, checked in one line.

Both sides of a search build them: the search sweeper (its study's sampler and
pruner) and a job (`sweeper.report` rebuilds the search's pruner in the job's own
process). Every problem is a `SearchError` whose one-line message names the key.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from omegaconf import DictConfig, OmegaConf

__all__ = ["SearchError", "instantiate_checked"]


class SearchError(Exception):
    """A search that cannot start; the message names the setting."""


def instantiate_checked(node: Any, key: str) -> Any:
    """The object a `_target_` config (`hydra.sweeper.sampler`, `.pruner`) names, built with
    its options that are not null (null: Optuna's own default).

    Raises SearchError (one line naming `key`) for a missing or unknown class, an option
    the class does not take, or a value it refuses."""
    if isinstance(node, DictConfig):
        node = OmegaConf.to_container(node, resolve=True)
    if not isinstance(node, dict) or not node.get("_target_"):
        raise SearchError(f"{key} must be a config with a _target_, got {node!r}")
    options = {k: v for k, v in node.items() if not k.startswith("_") and v is not None}
    target = str(node["_target_"])
    module, _, name = target.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        raise SearchError(f"{key}._target_={target} is not a class that can be imported") from None
    try:
        takes = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        takes = {}
    if takes and not any(p.kind is p.VAR_KEYWORD for p in takes.values()):
        for option, value in options.items():
            if option not in takes:
                known = ", ".join(p for p in takes if p != "search_space") or "no options"
                raise SearchError(
                    f"{key}.{option}: {name} takes no option {option} (it takes {known})"
                )
            kinds = _simple_kinds(takes[option].annotation)
            if kinds and not any(_is_kind(value, kind) for kind in kinds):
                raise SearchError(
                    f"{key}.{option}={value!r} must be {' or '.join(kinds)} ({name}'s {option})"
                )
    if node.get("_partial_"):
        import functools

        return functools.partial(cls, **options)
    try:
        import warnings

        with warnings.catch_warnings():
            # Optuna marks newer samplers experimental (QMC, GP, TPE's constant_liar): the
            # user chose it; a warning on every search would be noise (and an error under
            # -W error, which Hydra's own plugin tests run with).
            warnings.filterwarnings("ignore", category=_experimental_warning())
            return cls(**options)
    except Exception as error:  # the class's own checks of its values
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise SearchError(f"{key}: {name}: {type(error).__name__}: {first}") from None


_KINDS = {"int", "float", "bool", "str"}


def _simple_kinds(annotation: Any) -> list[str]:
    """The plain kinds an option's annotation allows (`int | None` -> ["int"]), or [] when
    it names anything else (a callable, a sampler, a dict: not checked here)."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    parts = [p.strip() for p in str(text).split("|")]
    kinds = [p for p in parts if p != "None"]
    return kinds if kinds and all(p in _KINDS for p in kinds) else []


def _is_kind(value: Any, kind: str) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def _experimental_warning() -> type[Warning]:
    import optuna

    return optuna.exceptions.ExperimentalWarning
