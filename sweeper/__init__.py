"""sweeper: Hydra-driven sweeps of small recurrent networks on three seed tasks.

`python -m sweeper` trains one configuration (see `sweeper.run.job.train`);
add `-m` and comma-separated values to sweep them. Any Hydra app can use sweeper's
search sweeper (`hydra/sweeper=optuna` or `=search`) and report intermediate values
to its trial with `sweeper.report(value, step)` (sweeper.trials.reporting).
"""

from sweeper.trials.reporting import current_trial, report

__all__ = ["current_trial", "report"]
__version__ = "0.1.0"
