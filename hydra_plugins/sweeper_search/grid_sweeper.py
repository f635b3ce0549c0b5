"""Where Hydra finds sweeper's grid sweeper; the code is `sweeper.sweeps.grid`.

Hydra instantiates sweepers only from classes defined in the `hydra_plugins`
package, and imports this module whenever any Hydra app starts: the class here
imports the implementation only when a grid is set up.
"""

from hydra_plugins.sweeper_search._deferred import DeferredSweeper


class GridSweeper(DeferredSweeper):
    """Hydra's basic sweeper, checked whole first, resumable, never overwriting.

    The implementation is sweeper.sweeps.grid.GridSweeper."""

    IMPLEMENTATION = "sweeper.sweeps.grid:GridSweeper"
