"""Multi-objective searches: the checks before any trial, the trials' values, the Pareto front.

`objective.metric=[val_accuracy,parameters] objective.direction=[maximize,minimize]`
makes each job return one value per metric (`sweeper.core.objectives`), and
`sweeper.sweeps.search` runs a multi-objective Optuna study over them. This module holds
what that study needs beyond the single-objective search:

- `search_objective`: before any trial, the sweeper's `direction` (one or a list)
  must agree with the composed config's `objective.direction`, the metric list
  with the direction list, and every metric must be one the task produces;
  otherwise SearchError, one line;
- `default_sampler`: NSGA-II (seeded like the configured sampler) replaces the
  default TPE of a multi-objective search unless a sampler is named on the
  command line;
- the files a multi-objective search writes at its end (pareto_front.csv, its
  figures, best_trial.yaml's `best_trials`) are `sweeper.reports.search_files`';
  a job's values are checked by `sweeper.sweeps.app_jobs.trial_values`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sweeper.core.objectives import Objective, ObjectiveError, check_available, objective_of
from sweeper.sweeps.app_jobs import directions_of
from sweeper.sweeps.search_space import SearchError

__all__ = [
    "default_sampler",
    "search_objective",
]

log = logging.getLogger(__name__)

SAMPLER_GROUP = "hydra/sweeper/sampler"


def search_objective(
    sweeper_direction: Any, cfg: DictConfig, task_metrics: Sequence[str]
) -> Objective:
    """The objective(s) of a search whose trials run `cfg`, checked before any trial.

    Raises SearchError (one line) when `objective.metric` / `objective.direction` are
    unusable (lists of different lengths, an unknown direction, a metric the task
    does not produce) or when `hydra.sweeper.direction` disagrees with them."""
    try:
        objective = objective_of(cfg)
        check_available(objective, task_metrics, str(OmegaConf.select(cfg, "task.name")))
    except ObjectiveError as error:
        raise SearchError(str(error)) from None
    if sweeper_direction is None:  # hydra.sweeper.direction: null follows objective.direction
        return objective

    directions = directions_of(sweeper_direction)
    if directions != list(objective.directions):
        raise SearchError(
            f"hydra.sweeper.direction=[{','.join(directions)}] disagrees with "
            f"objective.direction=[{','.join(objective.directions)}] for objective.metric="
            f"[{','.join(objective.metrics)}]: set objective.direction and leave "
            "hydra.sweeper.direction to follow it (as hparams_search overlays do)"
        )
    return objective


def default_sampler(sampler: Any, config: DictConfig, objective: Objective) -> Any:
    """NSGA-II for a multi-objective search run with the default TPE sampler; else `sampler`.

    A sampler named on the command line (`hydra/sweeper/sampler=tpe`, `=motpe`, ...)
    is kept. NSGA-II gets the configured sampler's seed."""
    import optuna

    if not objective.multi or not isinstance(sampler, optuna.samplers.TPESampler):
        return sampler
    given = [*config.hydra.overrides.get("hydra", []), *config.hydra.overrides.get("task", [])]
    if any(str(o).lstrip("+~").startswith(f"{SAMPLER_GROUP}=") for o in given):
        return sampler
    seed = OmegaConf.select(config, "hydra.sweeper.sampler.seed", default=None)
    log.info(
        "multi-objective search (%s): sampler NSGA-II, seed %s (name one with %s=...)",
        objective.describe(),
        seed,
        SAMPLER_GROUP,
    )
    return optuna.samplers.NSGAIISampler(seed=seed)
