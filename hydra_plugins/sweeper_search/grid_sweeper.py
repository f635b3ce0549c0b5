"""Where Hydra finds sweeper's grid sweeper; the code is `sweeper.sweeps.grid`.

Hydra loads a sweeper only from a class defined in the `hydra_plugins`
package, hence this one-line subclass.
"""

from sweeper.sweeps import grid


class GridSweeper(grid.GridSweeper):
    """Hydra's basic sweeper, checked whole first, resumable, never overwriting.

    The implementation is sweeper.sweeps.grid."""
