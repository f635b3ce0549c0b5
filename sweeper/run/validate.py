"""Validation of a whole job config, before anything is built or written.

The ground floor checks its own pieces (`sweeper.core.config`: the common keys'
rules, `TrainerConfig`; `sweeper.core.modelspec.check_model`); a task's node is
typed by its `Config` (`sweeper.tasks.base.task_config`), the objective parsed
(`sweeper.core.objectives`), the `logger` settings checked (`sweeper.loggers`).
`validate(cfg)` runs them all in that order and raises the first one-line
ConfigError. Before any of it, `override_problem(overrides)` checks the command line
against the config tree: a group option, group or key that does not exist, named in
one line with the options or the nearest key (the entrypoint exits 2 with it).
"""

from __future__ import annotations

import difflib
import os
from typing import Any

from hydra import compose, initialize_config_module
from hydra.core.config_loader import ConfigLoader
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob, Override
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from hydra_plugins.sweeper_search.configs import unknown_option
from sweeper.core.config import (
    COMMON_RULES,
    TRAINER_RULES,
    ConfigError,
    TrainerConfig,
    check_rules,
    config_error,
    config_get,
    positive_int,
    resolve_device,
    typed_node,
)
from sweeper.core.modelspec import check_model
from sweeper.core.objectives import ObjectiveError, objective_of
from sweeper.loggers import check_loggers
from sweeper.tasks.base import task_class, task_config


def validate(cfg: DictConfig) -> None:
    """Raise ConfigError for the first value in `cfg` that a run cannot use.

    Checks the common keys, the trainer against `TrainerConfig`, the model (its
    `_target_` must import; `model.hidden` a positive integer; a model class's own
    `check_config`) and the task (its `_target_` must be a `Task`; the node is typed
    by the task's `Config` and checked by its `check`): the same for the built-in
    tasks and models as for a user's; and the `logger` settings (`sweeper.loggers`)."""
    check_rules(cfg, "", COMMON_RULES)
    check_rules(cfg.trainer, "trainer", TRAINER_RULES)
    typed_node(cfg.trainer, TrainerConfig, "trainer")
    check_model(cfg.model)
    task_config(task_class(config_get(cfg, "task._target_")), cfg.task)
    try:  # one metric and direction, or two lists of the same length (sweeper.core.objectives)
        objective_of(cfg)
    except ObjectiveError as error:
        raise ConfigError(str(error)) from None
    threads = cfg.device.threads
    if threads is not None and threads != "auto" and positive_int(threads):
        raise config_error("device.threads", threads, "must be auto, null or a positive integer")
    resolve_device(cfg.device.name)
    check_loggers(cfg)


# The command line's overrides, against the config tree Hydra composes. Hydra refuses a
# group option it cannot find or a key its config lacks over several lines (exit 1),
# and for a key it sends the user the wrong way ("To append to your config use +key=...").
# `override_problem` composes the same config first, with Hydra's public API, and names
# the typo in one line instead, with the options or the nearest key.

CONFIG_MODULE = "sweeper.conf"  # the config tree `python -m sweeper` and `sweeper` compose
EXTRA_COMPOSES = 16  # at most this many more compositions for a sweep's other group options


def override_problem(
    overrides: list[str], config_dir: str | None = None, config_name: str = "config"
) -> str | None:
    """The one-line refusal of the first of `overrides` that names nothing Hydra can
    compose, or None (Hydra composes them, or refuses them for another reason and says so).

    - a group option that does not exist, in any value of a sweep or list:
      `loss=bce: no such option; choose ce or mse`;
    - a key that does not exist: `trainer.epochz: no such key; did you mean trainer.epochs?`
      (`difflib`'s nearest key at each level; with none near, the node's keys);
    - a group that does not exist (`hydra/launcherr=joblib`), `+key=...` for a key already
      there, `+group=...` for a group already in the defaults list, `~key` for a key that
      is not there.

    `config_dir` is `--config-dir` (a user's own groups and options join the built-in
    ones, as Hydra adds them: after sweeper's own), `config_name` is `--config-name`.
    A sweep (`-m`) is composed with each group's first value, then once more for each
    other value of a swept group; a key's sweep with its first value."""
    parser = OverridesParser.create()
    try:
        parsed = parser.parse_overrides(overrides)
    except HydraException:  # the grammar's refusal is the entrypoint's `override_error`
        return None
    if GlobalHydra.instance().is_initialized():  # inside a Hydra app or test: not ours to set
        return None
    items = list(zip(overrides, parsed))
    if config_dir is not None:
        folder = os.path.abspath(config_dir)
        if not os.path.isdir(folder) or "'" in folder or "\\" in folder:
            return None  # Hydra names a missing folder; odd characters: leave it to Hydra
        items = _with_search_dir(items, f"file://{folder}", parser)
    with initialize_config_module(CONFIG_MODULE, version_base="1.3", job_name="train"):
        return _Overrides(GlobalHydra.instance().config_loader(), items, config_name).problem()


def _with_search_dir(
    items: list[tuple[str, Override]], path: str, parser: OverridesParser
) -> list[tuple[str, Override]]:
    """`items` with `path` first in `hydra.searchpath`: where Hydra's `--config-dir` puts
    it (after the main config's folder, before the user's own `hydra.searchpath`)."""
    given: list[str] = []
    kept = []
    for arg, override in items:
        if override.key_or_group == "hydra.searchpath" and isinstance(override.value(), list):
            given = [str(p) for p in override.value()]  # type: ignore[union-attr]
        else:
            kept.append((arg, override))
    paths = ",".join(f"'{p}'" for p in [path, *given])
    arg = f"hydra.searchpath=[{paths}]"
    return [(arg, parser.parse_override(arg)), *kept]


class _Overrides:
    """One command line's overrides, checked against the configs `loader` finds."""

    def __init__(self, loader: ConfigLoader, items: list[tuple[str, Override]], name: str):
        self.loader, self.items, self.name = loader, items, name
        # the search path as the command line sets it (--config-dir, hydra.searchpath):
        # the loader reads the primary config for it, else it lists the folders alone
        path = [arg for arg, o in items if _is_search_path(o)]
        where = (name, path) if path else (None, None)
        self.groups = {
            o.key_or_group: options
            for _, o in items
            if o.package is None
            and not isinstance(o.value(), dict)
            and (options := loader.get_group_options(o.key_or_group, None, *where))
        }

    def is_group(self, override: Override) -> bool:
        return override.key_or_group in self.groups and not isinstance(override.value(), dict)

    def problem(self) -> str | None:
        problem = unknown_option([arg for arg, o in self.items if self.is_group(o)], self.groups)
        if problem:
            return problem
        args = [self.first(arg, o) for arg, o in self.items]
        problem = self.composes(args, "")
        extra = 0
        for index, (_, override) in enumerate(self.items):
            if problem or not (self.is_group(override) and override.is_sweep_override()):
                continue
            for value in self.values(override)[1:]:
                if extra == EXTRA_COMPOSES or problem:
                    break
                extra += 1
                point = f"{override.get_key_element()}={value}"
                problem = self.composes(
                    [*args[:index], point, *args[index + 1 :]], f" (with {point.lstrip('+')})"
                )
        return problem

    def first(self, arg: str, override: Override) -> str | None:
        """`arg` as one job of a sweep composes it: its first value (None: left out)."""
        if not override.is_sweep_override():
            return arg
        values = self.values(override)
        return f"{override.get_key_element()}={values[0]}" if values else None

    def values(self, override: Override) -> list[str]:
        """A sweep's values as overrides spell them (an interval: its start; a group's
        glob: the options it matches)."""
        value = override.value()
        if isinstance(value, Glob):
            return value.filter(self.groups.get(override.key_or_group, []))
        if override.is_discrete_sweep():
            return list(override.sweep_string_iterator())
        if override.is_interval_sweep():
            return [str(value.start)]  # type: ignore[union-attr]
        return []

    def composes(self, args: list[str | None], where: str) -> str | None:
        """None if Hydra composes `args`; else the typo among them, if one explains it."""
        given = [a for a in args if a is not None]
        try:
            compose(self.name, overrides=given, return_hydra_config=True)
            return None
        except Exception:  # noqa: BLE001 - Hydra's and OmegaConf's many kinds: explained below
            problem = self.typo(given)
            return problem.replace(": ", f"{where}: ", 1) if problem else None

    def typo(self, args: list[str]) -> str | None:
        """The first of `args` that names a group, group option or key the config lacks."""
        parser = OverridesParser.create()
        parsed = [(a, parser.parse_override(a)) for a in args]
        # the groups, and the search path that finds their options (--config-dir)
        groups = [(a, o) for a, o in parsed if self.is_group(o) or _is_search_path(o)]
        try:  # the groups Hydra composes without this line's keys
            base = compose(self.name, [a for a, o in groups if not o.is_add()], True)
        except Exception:  # noqa: BLE001 - a group's own YAML breaks it: Hydra says how
            return None
        choices = base.hydra.runtime.choices
        for arg, override in groups:
            if override.is_add() and override.key_or_group in choices:
                group = override.key_or_group
                return (
                    f"{arg}: {group} is in the defaults list already "
                    f"({group}={_option(choices[group])}); write {arg[1:]}"
                )
        try:
            tree = OmegaConf.to_container(compose(self.name, [a for a, _ in groups], True))
        except Exception:  # noqa: BLE001 - as above
            return None
        assert isinstance(tree, dict)
        for arg, override in parsed:
            if self.is_group(override) or _is_search_path(override) or override.package:
                continue
            problem = self.key_problem(tree, arg, override)
            if problem:
                return problem
        return None

    def key_problem(self, tree: dict, arg: str, override: Override) -> str | None:
        """What is wrong with the key `override` sets in `tree` (which it then updates)."""
        key = override.key_or_group
        if "/" in key:
            return self.group_problem(key)
        path = key.split(".")
        if override.is_add() or override.is_force_add():
            if override.is_add() and _lookup(tree, path)[0]:
                return (
                    f"{override.get_key_element()}: {key} is in the config already; write {arg[1:]}"
                )
            _set(tree, path, override.value())
            return None
        found, node = _lookup(tree, path)
        if not found:
            return f"{override.get_key_element()}: no such key; {self.nearest(tree, path)}"
        if override.is_delete():
            _set(tree, path, _DELETED)
        elif isinstance(node, dict) and isinstance(override.value(), dict):
            for leaf in _leaves(override.value(), path):  # type: ignore[arg-type]
                for end in range(len(path) + 1, len(leaf) + 1):
                    sub = leaf[:end]
                    if not _lookup(tree, sub)[0]:
                        if isinstance(_lookup(tree, sub[:-1])[1], dict):  # a node of keys
                            return f"{'.'.join(sub)}: no such key; {self.nearest(tree, sub)}"
                        break  # a value there: the dict replaces it
        return None

    def group_problem(self, group: str) -> str:
        known = _groups(self.loader, "")
        close = difflib.get_close_matches(group, known, n=1)
        hint = f"did you mean {close[0]}?" if close else f"the groups are {', '.join(known)}"
        return f"{group}: no such group; {hint}"

    def nearest(self, tree: dict, path: list[str]) -> str:
        """`did you mean a.b?`, the nearest existing key level by level, or the keys of the
        node where the path leaves the config."""
        node: Any = tree
        fixed: list[str] = []
        for part in path:
            if not isinstance(node, dict):
                where = ".".join(fixed)
                return f"{where} is a value ({node!r}), not a node of keys"
            keys = sorted((str(k) for k in node), key=lambda k: k == "hydra")  # hydra last
            if not fixed:  # the top level also offers the groups (`los=ce`: loss)
                keys += [g for g in self.loader.list_groups("") if g not in keys]
            if part in node:
                fixed.append(part)
                node = node[part]
                continue
            close = difflib.get_close_matches(part, keys, n=1)
            if not close:
                where = f"the keys of {'.'.join(fixed)}" if fixed else "the top-level keys"
                keys = [k for k in keys if k in node]
                return (
                    f"{where} are {', '.join(keys)}" if keys else f"{'.'.join(fixed)} has no keys"
                )
            fixed.append(close[0])
            node = node.get(close[0])
        return f"did you mean {'.'.join(fixed)}?"


_DELETED = object()


def _is_search_path(override: Override) -> bool:
    return override.key_or_group == "hydra.searchpath"


def _option(choice: Any) -> str:
    return "null" if choice is None else str(choice)


def _lookup(tree: Any, path: list[str]) -> tuple[bool, Any]:
    """(whether `path` is in `tree`, the value there)."""
    node = tree
    for part in path:
        if isinstance(node, dict) and part in node and node[part] is not _DELETED:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _set(tree: dict, path: list[str], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value


def _leaves(value: dict, path: list[str]) -> list[list[str]]:
    return [
        leaf
        for key, sub in value.items()
        for leaf in (
            _leaves(sub, [*path, str(key)]) if isinstance(sub, dict) else [[*path, str(key)]]
        )
    ]


def _groups(loader: ConfigLoader, parent: str) -> list[str]:
    """Every config group under `parent`, recursively (`hydra/launcher`, ...)."""
    found = []
    for name in loader.list_groups(parent):
        group = f"{parent}/{name}" if parent else name
        found += [group, *_groups(loader, group)]
    return found
