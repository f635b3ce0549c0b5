"""A sweep's job configs composed once per choice of config groups, not once per job.

Hydra composes every job of a sweep from scratch (`ConfigLoader.load_sweep_config`: the
defaults tree, every YAML file read and merged, the overrides applied), ~0.1-0.3 s a job,
which was most of what a trial of a small model cost around its training (#22). The
jobs of a grid or a search mostly differ only in values (`optim.lr=0.0031`,
`model.hidden=5`), which change no defaults list, so `ComposeOnce` composes the first
job of each *shape* with Hydra and makes the others from a copy of it:

- a shape is the sweep's Hydra overrides, every override that is not a plain value
  (`~key`, dict and list values, packages `group@pkg=`, Hydra's own keys such as
  `hydra/launcher=joblib`) word for word, and the keys of the plain values, in order;
- a plain value is `key=value`, `+key=value` or `++key=value` with a scalar value
  (number, string, bool, null) on a key outside `hydra` (but for
  `hydra.job.env_set.*`, which a search sets for a plain app's trial); among them, those
  whose key is a config group of the composed config (`hydra.runtime.choices`: `loss=ce`,
  `+experiment=x`) must match the first job's word for word too;
- a job of a known shape is the first job's config, deep-copied, with its own values
  applied by Hydra's own override code and the fields Hydra derives from the override
  list (`hydra.overrides.task` and `.hydra`, `hydra.job.override_dirname`,
  `hydra.runtime.cwd`) set as Hydra sets them. tests/test_compose.py pins it equal to
  Hydra's full composition, flags included.

Anything else is composed by Hydra as before. `SWEEPER_COMPOSE_EVERY_JOB=1` turns it off
(for comparison: bench/benchmark.py's `compose` row). Pickled (joblib, submitit), it
travels without its templates, so a job is sent as small as before.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from typing import Any

from hydra.core.config_loader import ConfigLoader
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from sweeper.core.private_apis import apply_overrides, overrides_dirname

SCALARS = (str, int, float, bool, type(None))
MAX_SHAPES = 64  # templates kept; a sweep has a few (one per group choice)


# The Hydra keys a job's value may set: the environment a search gives a plain app's job
# (its study and trial, `++hydra.job.env_set.SWEEPER_TRIAL=3`); others (hydra.searchpath)
# can change what is composed.
HYDRA_VALUES = "hydra.job.env_set."


def _plain_value(override: Override) -> bool:
    """`key=value`, `+key=value` or `++key=value` with a scalar value, on a key outside
    `hydra` but for HYDRA_VALUES (whether `key` is a config group: see the module)."""
    return (
        override.type in (OverrideType.CHANGE, OverrideType.ADD, OverrideType.FORCE_ADD)
        and override.package is None
        and not override.is_sweep_override()
        and (not override.is_hydra_override() or override.key_or_group.startswith(HYDRA_VALUES))
        and isinstance(override.value(), SCALARS)
    )


def _onto_template(override: Override) -> Override:
    """`override` as it applies to a template that already has its key: `+key=` (which
    Hydra refuses on an existing key) as `++key=`, which sets it as `+` set it there."""
    if override.type == OverrideType.ADD:
        return dataclasses.replace(override, type=OverrideType.FORCE_ADD)
    return override


class ComposeOnce(ConfigLoader):
    """`loader` with `load_sweep_config` composing once per shape (see the module)."""

    def __init__(self, loader: ConfigLoader) -> None:
        self.loader = loader
        # shape -> [(the group choices among its plain-looking overrides, template)]
        self._templates: dict[tuple, list[tuple[dict[str, str], DictConfig]]] = {}
        self._off = os.environ.get("SWEEPER_COMPOSE_EVERY_JOB", "") not in ("", "0")
        self.composed = 0  # full compositions by Hydra (tests and the benchmark read it)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_templates": {}}

    # ------------------------------------------------------------------ the one change
    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: list[str]) -> Any:
        if self._off:
            return self._compose(master_config, sweep_overrides)
        parsed = OverridesParser.create().parse_overrides(overrides=list(sweep_overrides))
        plain = [o for o in parsed if _plain_value(o)]
        shape = (
            id(master_config),
            tuple(OmegaConf.to_container(master_config.hydra.overrides.hydra)),
            tuple((o.type, o.key_or_group) if _plain_value(o) else o.input_line for o in parsed),
        )
        for choices, template in self._templates.get(shape, []):
            if all(o.input_line == choices.get(o.key_or_group, o.input_line) for o in plain):
                return self._from_template(template, master_config, parsed, plain, choices)
        cfg = self._compose(master_config, sweep_overrides)
        groups = set(cfg.hydra.runtime.choices)
        choices = {o.key_or_group: o.input_line for o in plain if o.key_or_group in groups}
        if len(self._templates) >= MAX_SHAPES and shape not in self._templates:
            self._templates.pop(next(iter(self._templates)))
        self._templates.setdefault(shape, []).append((choices, copy.deepcopy(cfg)))
        return cfg

    def _compose(self, master_config: DictConfig, sweep_overrides: list[str]) -> Any:
        self.composed += 1
        return self.loader.load_sweep_config(master_config, list(sweep_overrides))

    @staticmethod
    def _from_template(
        template: DictConfig,
        master_config: DictConfig,
        parsed: list[Override],
        plain: list[Override],
        choices: dict[str, str],
    ) -> DictConfig:
        cfg = copy.deepcopy(template)
        apply_overrides([_onto_template(o) for o in plain if o.key_or_group not in choices], cfg)
        task = [o for o in parsed if not o.is_hydra_override()]
        hydra = [o.input_line for o in parsed if o.is_hydra_override()]
        job = cfg.hydra.job
        with read_write(cfg.hydra), open_dict(cfg.hydra):
            sweep = OmegaConf.to_container(master_config.hydra.overrides.hydra)  # unresolved
            cfg.hydra.overrides.hydra = [*sweep, *hydra]
            cfg.hydra.overrides.task = [o.input_line for o in task]
            job.override_dirname = overrides_dirname(
                task,
                exclude_keys=list(job.config.override_dirname.exclude_keys),
                item_sep=job.config.override_dirname.item_sep,
                kv_sep=job.config.override_dirname.kv_sep,
            )
            cfg.hydra.runtime.cwd = os.getcwd()
        OmegaConf.copy_cache(from_config=master_config, to_config=cfg)  # as Hydra does
        return cfg

    # ------------------------------------------------------------------ the rest: Hydra's
    def load_configuration(self, *args: Any, **kwargs: Any) -> Any:
        return self.loader.load_configuration(*args, **kwargs)

    def get_search_path(self) -> Any:
        return self.loader.get_search_path()

    def get_sources(self) -> Any:
        return self.loader.get_sources()

    def list_groups(self, parent_name: str) -> Any:
        return self.loader.list_groups(parent_name)

    def get_group_options(self, *args: Any, **kwargs: Any) -> Any:
        return self.loader.get_group_options(*args, **kwargs)

    def compute_defaults_list(self, *args: Any, **kwargs: Any) -> Any:
        return self.loader.compute_defaults_list(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # ConfigLoaderImpl's extras (repository, ...)
        if name == "loader":
            raise AttributeError(name)  # while unpickling, before __dict__ is set
        return getattr(self.loader, name)


def compose_once(hydra_context: Any) -> Any:
    """`hydra_context` (hydra.types.HydraContext) whose config loader is a `ComposeOnce`
    (itself if it already is one)."""
    from hydra.types import HydraContext

    loader = hydra_context.config_loader
    if isinstance(loader, ComposeOnce):
        return hydra_context
    return HydraContext(config_loader=ComposeOnce(loader), callbacks=hydra_context.callbacks)
