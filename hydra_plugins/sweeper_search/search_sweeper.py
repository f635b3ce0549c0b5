"""Where Hydra finds sweeper's search sweeper; the code is `sweeper.sweeps.search`.

Hydra instantiates sweepers only from classes defined in the `hydra_plugins`
package, and imports this module whenever any Hydra app starts: the class here
imports the implementation (and with it Optuna) only when a search is set up.
"""

from hydra_plugins.sweeper_search._deferred import DeferredSweeper


class SearchSweeper(DeferredSweeper):
    """An Optuna search with hydra-optuna-sweeper's settings, for any Hydra app.

    The implementation is sweeper.sweeps.search.SearchSweeper."""

    IMPLEMENTATION = "sweeper.sweeps.search:SearchSweeper"
