"""Where Hydra finds sweeper's grid sweeper; the code is `sweeper.sweeps.grid`.

Hydra instantiates sweepers only from classes defined in the `hydra_plugins`
package, and imports this module whenever any Hydra app starts: the class here
imports the implementation only when a grid is set up.
"""

from __future__ import annotations

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class GridSweeper(Sweeper):
    """Hydra's basic sweeper, checked whole first, resumable, never overwriting.

    The implementation is sweeper.sweeps.grid.GridSweeper."""

    def __init__(self, **settings: Any) -> None:
        from sweeper.sweeps.grid import GridSweeper as Implementation

        self.sweeper = Implementation(**settings)

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.sweeper.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        return self.sweeper.sweep(arguments)
