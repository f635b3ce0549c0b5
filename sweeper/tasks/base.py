"""Loading a task: the class `task._target_` names and its typed `task` node.

The protocol itself (`Task`, `TaskConfig`, `EvalSet`, `Batch`) is the training
loop's, in `sweeper.core.task`; it is importable from here too, as a user's task
module writes it (`from sweeper.tasks.base import Task, TaskConfig`).
`task_class(target)` imports and checks the class, `task_config(cls, node)`
types and checks the node; both raise a one-line ConfigError.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

from sweeper.core.config import ConfigError, import_target
from sweeper.core.targets import KINDS, TargetKind
from sweeper.core.task import Batch, EvalSet, Task, TaskConfig

__all__ = ["Batch", "EvalSet", "Task", "TaskConfig", "task_class", "task_config"]


def task_class(target: Any) -> type[Task]:
    """The Task subclass `task._target_` names. ConfigError (one line) when it does not
    import, is not a Task subclass, or leaves part of the protocol unimplemented."""
    if not isinstance(target, str) or not target:
        raise ConfigError(f"task._target_ must name a Task class (module.Class), got {target!r}")
    cls = import_target("task._target_", target)
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise ConfigError(f"task._target_={target} is not a subclass of sweeper.tasks.base.Task")
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        raise ConfigError(f"task._target_={target} does not implement {', '.join(missing)}")
    if not isinstance(getattr(cls, "target", None), TargetKind):
        kind = getattr(cls, "kind", None)
        raise ConfigError(
            f"task._target_={target}: kind is {kind!r}, not one of {', '.join(KINDS)} "
            "(or set `target` to a sweeper.core.targets.TargetKind)"
        )
    if not (isinstance(cls.Config, type) and issubclass(cls.Config, TaskConfig)):
        raise ConfigError(f"task._target_={target}: Config does not subclass TaskConfig")
    return cls


def task_config(cls: type[Task], node: DictConfig) -> DictConfig:
    """The `task` node, resolved and typed by `cls.Config`, then `cls.check`ed.

    Raises ConfigError naming `task.<key>`: a value of the wrong type, a key the
    schema lacks, a missing one, an unresolvable interpolation, a broken rule."""
    try:
        values = OmegaConf.to_container(node, resolve=True)
    except OmegaConfBaseException as error:
        raise ConfigError(f"task.{error.full_key}: {_first_line(error)}") from None
    try:
        typed = OmegaConf.merge(OmegaConf.structured(cls.Config), values)
    except ConfigKeyError as error:
        raise ConfigError(
            f"task.{error.full_key} is not a setting of {cls.__module__}.{cls.__name__} "
            f"(its Config has {', '.join(_fields(cls))})"
        ) from None
    except ValidationError as error:  # a value of the wrong type: said as the other keys say it
        key = str(error.full_key)
        need = _wanted_type(cls, key.split(".")[0])
        if need is None or not isinstance(values, dict):
            raise ConfigError(f"task.{key}: {_first_line(error)}") from None
        raise ConfigError(f"task.{key} must be {need}, got {values.get(key)!r}") from None
    except OmegaConfBaseException as error:
        raise ConfigError(f"task.{error.full_key}: {_first_line(error)}") from None
    missing = sorted(OmegaConf.missing_keys(typed))
    if missing:
        raise ConfigError(f"task.{missing[0]} is missing (no value in the task's YAML)")
    cls.check(typed)
    return typed


_TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _wanted_type(cls: type[Task], key: str) -> str | None:
    """`an integer`, `a number`, ... for a `Config` field of a plain type (`int | None`:
    `an integer or null`); None for another annotation or an unknown key."""
    try:
        hints = typing.get_type_hints(cls.Config)
    except Exception:  # an annotation that cannot be evaluated: say it as OmegaConf does
        return None
    hint = hints.get(key)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    optional = len(args) == 1 and type(None) in typing.get_args(hint)
    base = args[0] if optional else hint
    word = "a list" if typing.get_origin(base) is list else _TYPE_WORDS.get(base)  # type: ignore[arg-type]
    if word is None:
        return None
    return f"{word} or null" if optional else word


def _fields(cls: type[Task]) -> list[str]:
    return [name for name in inspect.signature(cls.Config).parameters]


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]
