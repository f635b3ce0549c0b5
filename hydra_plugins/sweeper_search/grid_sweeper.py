"""Where Hydra finds sweeper's grid sweeper; the code is `sweeper.grid`.

Hydra loads a sweeper only from a class defined in the `hydra_plugins`
package, hence this one-line subclass.
"""

from sweeper import grid


class GridSweeper(grid.GridSweeper):
    """Hydra's basic sweeper, checked whole first, resumable, never overwriting (sweeper.grid)."""
