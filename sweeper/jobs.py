"""What a search knows about sweeper's own training jobs (`python -m sweeper ... -m`).

sweeper's entrypoint names this class on its task function (`sweeper_jobs`), so the
search sweeper (sweeper.sweeps.search) asks it, not `AppJobs`, about its jobs:

- `objective`: `objective.metric` / `objective.direction` of the composed trial
  config, checked against what the task produces (sweeper.sweeps.pareto), and
  `hydra.sweeper.direction` (null: follow them);
- `check_space`: an empty space is refused (a search of one config is a mistake:
  run it once, or over seeds with sweeper.confirm), and so is a searched replicate key;
- `check_trial`: the composed trial config checked as a job would (`Preflight`);
- `pruner`: the `pruner` config group (sweeper.run.pruning); jobs report through
  `pruning.*` overrides;
- `outcome`: a job's status from its metrics.json (a run refused by config
  validation or interrupted is a FAIL trial; pruned is PRUNED; any other run is
  COMPLETE with the value it returned, a diverged run's being the worst value);
- `best_details`: the best run's validation and test figures beside its objective;
- `finish`: nothing: the collect callback writes results.csv, summary.md and
  report.html from the job folders.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sweeper.collect import collect
from sweeper.core.config import ConfigError
from sweeper.core.metrics import record_headline
from sweeper.core.objectives import Objective
from sweeper.core.record import run_status as read_status
from sweeper.reports.stats import metric_split
from sweeper.run.job import Preflight, metric_names
from sweeper.run.pruning import check_pruning, tell_pruned, trial_overrides
from sweeper.sweeps.app_jobs import AppJobs, job_dir_of, trial_values
from sweeper.sweeps.pareto import search_objective
from sweeper.sweeps.search_space import SearchError, SearchSpace, refuse_empty

__all__ = ["SweeperJobs", "best_run_metrics", "trial_outcome"]

log = logging.getLogger(__name__)


def run_status(job_dir: str | Path) -> tuple[str, str | None, dict[str, Any] | None]:
    """(status, reason, record) from a job folder's metrics.json, or ("missing", why, None)."""
    found = read_status(job_dir)
    if found.status == "unreadable":
        return "missing", found.reason, None
    return found.status, found.reason, found.record


def best_run_metrics(job_dir: str | Path | None) -> dict[str, Any]:
    """The best trial's objective metric name and its run's headline metrics (the
    validation and test figures its task describes runs by: metrics.json's `headline`,
    `sweeper.core.metrics`), from its metrics.json: {"objective_metric": ..., "metrics":
    {...}}; {} when the folder or record cannot be read."""
    if not job_dir:
        return {}
    _, _, found = run_status(job_dir)
    metrics = found.get("metrics") if isinstance(found, dict) else None
    if not isinstance(metrics, dict):
        return {}
    shown = {k: float(metrics[k]) for k in record_headline(found) if _number(metrics.get(k))}
    return {"objective_metric": str(found.get("objective_metric")), "metrics": shown}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def warn_test_objective(metric: Any) -> str | None:
    """The warning for a search whose objective is measured on test data, else None."""

    split = metric_split(str(metric))
    if split in ("validation split", "training split", "run"):
        return None  # not measured on held-out test data
    return (
        f"sweeper: warning: objective.metric={metric} is measured on the {split}: the search "
        "would choose its best trial on test data; search a validation metric "
        "(objective.metric=val_accuracy, every task's default) and read the test figure beside it"
    )


def trial_outcome(ret: Any, count: int = 1) -> tuple[float | list[float] | None, dict[str, str]]:
    """(value, user attrs) for one trial from its JobReturn; value None means a FAIL trial.
    With `count` objectives (> 1) the value is the list of the run's `count` values.

    A run refused by config validation (metrics.json `reason: config: ...`), an
    interrupted one, or one that raised inside Hydra's launcher is a FAIL; any
    other run is COMPLETE with the value it returned (a diverged run returns the
    worst value: the sampler learns from it).
    """
    attrs: dict[str, str] = {}
    job_dir = job_dir_of(ret)
    status, reason = "missing", None
    if job_dir:
        status, reason, _ = run_status(job_dir)
        attrs["job_dir"] = job_dir
    try:
        value: Any = ret.return_value  # re-raises what the job raised
    except Exception as error:
        attrs["status"] = "failed"
        attrs["reason"] = f"{type(error).__name__}: {error}"[:500]
        return None, attrs
    attrs["status"] = status
    if reason:
        attrs["reason"] = str(reason)[:500]
    if status == "interrupted" or str(reason or "").startswith("config:"):
        return None, attrs
    if count > 1:  # a multi-objective study: one value per objective (sweeper.sweeps.pareto)
        numbers, why = trial_values(value, count)
        if numbers is None:
            attrs.setdefault("reason", str(why))
        return numbers, attrs
    try:
        number = float(value)
    except (TypeError, ValueError):
        attrs.setdefault("reason", f"the run returned {value!r}, not a number")
        return None, attrs
    if math.isnan(number):
        attrs.setdefault("reason", "the run returned NaN")
        return None, attrs
    return number, attrs


class SweeperJobs(AppJobs):
    """sweeper's training jobs: metrics.json records, the task's metrics, collect."""

    kind = "sweeper"

    def objective(self, direction: Any, cfg: DictConfig) -> Objective:
        try:
            metrics = metric_names(cfg)
        except ConfigError as error:
            raise SearchError(str(error)) from None
        return search_objective(direction, cfg, metrics)

    def check_space(self, space: SearchSpace, config: DictConfig | None = None) -> None:
        """Refuse an empty space and a searched replicate key (`seed`, or the collect
        callback's `replicate_key`): the search would pick its luckiest seed."""
        refuse_empty(space)
        for name in space.distributions:
            if name.startswith("+"):
                raise SearchError(
                    f"search space for {name}: a searched key cannot be added; sweep a key "
                    "sweeper's config has (a misspelt key would add a setting no job reads)"
                )
        key = OmegaConf.select(config, "hydra.callbacks.collect.replicate_key") if config else None
        key = key or "seed"
        if key in space.distributions:
            raise SearchError(
                f"{key} is the replicate key: a search would tune it and report its luckiest "
                f"value; fix it ({key}=0) and re-run the best trial over seeds afterwards: "
                "python -m sweeper.confirm SWEEP_DIR --seeds 5"
            )

    def check_trial(self, cfg: DictConfig, space: SearchSpace) -> None:
        """Check the composed trial `cfg` as a job would (sweeper.run.job.Preflight): a bad
        value the command line fixed (`model.hidden=0`, a model that does not fit the
        task) is refused before the study exists. A searched key's bad value is left to
        its trial, which fails on its own (a FAIL trial, not an aborted search)."""

        try:
            Preflight().check(cfg)
        except ConfigError as error:
            if not str(error).startswith(tuple(space.distributions)):
                raise SearchError(str(error)) from None
            log.debug("the first sample of a searched key fails its check: %s", error)

    def pruner(self, config: DictConfig, storage: str | None, objective: Objective) -> Any:
        node = OmegaConf.select(config, "hydra.sweeper.pruner._target_", default=None)
        if node not in (None, "optuna.pruners.NopPruner"):
            raise SearchError(
                f"hydra.sweeper.pruner={node}: sweeper's jobs are pruned by the pruner group "
                "(pruner=median, successive_halving or hyperband), which knows their epochs"
            )
        try:
            return check_pruning(config, storage)
        except ConfigError as error:
            raise SearchError(str(error)) from None

    def prunes(self, pruner: Any) -> bool:
        return pruner is not None

    def trial_overrides(self, storage: str | None, study_name: str, number: int) -> list[str]:
        return trial_overrides(str(storage), study_name, number)

    def outcome(self, ret: Any, count: int) -> tuple[float | list[float] | None, dict[str, str]]:
        return trial_outcome(ret, count)

    def tell_pruned(
        self, study: Any, trial: Any, config: DictConfig, storage: str | None = None
    ) -> None:
        tell_pruned(study, trial, config)

    def best_details(self, job_dir: str | None) -> dict[str, Any]:
        return best_run_metrics(job_dir)

    def warning(self, cfg: DictConfig) -> str | None:
        return warn_test_objective(OmegaConf.select(cfg, "objective.metric"))

    def finish(self, study: Any, sweep_dir: Path, objective: Objective) -> None:
        """Nothing: the collect callback writes the sweep's tables and report.html."""

    def failures_where(self, sweep_dir: Path) -> str:
        return f"{sweep_dir}/summary.md"

    def point_checker(self) -> Callable[[DictConfig], str | None]:
        """`Preflight` (one build per distinct task, model and loss): a grid's points
        are checked as their jobs would check them, before any runs."""
        preflight = Preflight()

        def check(cfg: DictConfig) -> str | None:
            try:
                preflight.check(cfg)
            except ConfigError as error:
                return str(error)
            return None

        return check

    def collect(self, sweep_dir: Path) -> None:
        """Collect the failed jobs (summary.md names each reason)."""

        try:
            collect(sweep_dir)
        except Exception:  # collecting must not hide why the search stopped
            log.exception("could not collect %s", sweep_dir)
