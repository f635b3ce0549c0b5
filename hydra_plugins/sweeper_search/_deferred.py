"""A Hydra sweeper plugin class whose implementation is imported when it is instantiated.

Hydra imports every module of `hydra_plugins` whenever any app starts (this one is
skipped: its name starts with `_`); the plugin classes built on `DeferredSweeper`
import only Hydra until a sweep is set up, then hand everything to `IMPLEMENTATION`.
"""

from __future__ import annotations

import importlib
from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class DeferredSweeper(Sweeper):
    """Delegates to `IMPLEMENTATION` ("module:Class"), built with the sweeper's settings."""

    IMPLEMENTATION = ""

    def __init__(self, **settings: Any) -> None:
        module, _, name = self.IMPLEMENTATION.partition(":")
        self.sweeper = getattr(importlib.import_module(module), name)(**settings)

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.sweeper.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        return self.sweeper.sweep(arguments)
