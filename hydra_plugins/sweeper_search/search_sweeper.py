"""Where Hydra finds sweeper's search sweeper; the code is `sweeper.sweeps.search`.

Hydra instantiates sweepers only from classes defined in the `hydra_plugins`
package, and imports this module whenever any Hydra app starts: the class here
imports the implementation (and with it Optuna) only when a search is set up.
"""

from __future__ import annotations

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class SearchSweeper(Sweeper):
    """An Optuna search with hydra-optuna-sweeper's settings, for any Hydra app.

    The implementation is sweeper.sweeps.search.SearchSweeper."""

    def __init__(self, **settings: Any) -> None:
        from sweeper.sweeps.search import SearchSweeper as Implementation

        self.sweeper = Implementation(**settings)

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.sweeper.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        return self.sweeper.sweep(arguments)
