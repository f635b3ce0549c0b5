"""Where Hydra finds sweeper's Optuna sweeper; the code is `sweeper.sweeps.search`.

Hydra loads a sweeper only from a class defined in the `hydra_plugins`
package, hence this one-line subclass.
"""

from sweeper.sweeps import search


class SearchSweeper(search.SearchSweeper):
    """hydra-optuna-sweeper's settings with checked spaces, resume, stale trials, reports."""
