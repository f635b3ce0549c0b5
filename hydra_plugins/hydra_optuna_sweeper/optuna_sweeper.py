"""`hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper`: sweeper's search sweeper
under hydra-optuna-sweeper's class name (see the package docstring)."""

from hydra_plugins.sweeper_search.search_sweeper import SearchSweeper


class OptunaSweeper(SearchSweeper):
    """sweeper's search sweeper (sweeper.sweeps.search), by hydra-optuna-sweeper's name."""
