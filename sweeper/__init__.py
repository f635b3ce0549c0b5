"""sweeper: Hydra-driven sweeps of small recurrent networks on three seed tasks.

`python -m sweeper` trains one configuration (see `sweeper.core.train.train`);
add `-m` and comma-separated values to sweep them.
"""

__version__ = "0.1.0"
