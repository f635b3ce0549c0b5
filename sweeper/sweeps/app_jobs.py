"""What a search knows about the app whose jobs it runs: any Hydra app, or sweeper's own.

The search sweeper (sweeper.sweeps.search) runs the same ask/tell loop for every
app and asks the app's `AppJobs` the few things that depend on what a job is:

- `objective`: the study's objective(s), from `hydra.sweeper.direction` (one name
  or a list; null is minimize, as Optuna's default);
- `check_space`, `check_trial`: checks before the study exists (none here: a plain
  app's config is checked by composing it);
- `pruner`: the study's pruner, `hydra.sweeper.pruner` (`hydra/sweeper/pruner=NAME`;
  none by default), checked against the pruner's own options;
- `trial_overrides`: what each job gets to find its trial (`hydra.job.env_set`, read
  by `sweeper.report`: sweeper.trials.reporting);
- `outcome`: a job's value: its task function's return value (a float, or a list of
  floats for a multi-objective study; ±inf is told, but counted as a failed run's
  value, never the best); `optuna.TrialPruned` raised by the job
  (`sweeper.report`) is a PRUNED trial; an exception, None, a non-number, NaN or a
  list of the wrong length is a FAIL trial with the reason in trials.csv;
- `finish`: what the sweep folder gets at the end besides the study's tables
  (report.html over the study, sweeper.reports.study_report).

An app's task function names its own `AppJobs` with an attribute `sweeper_jobs`
("module:Class"); sweeper's entrypoint names `sweeper.jobs:SweeperJobs`
(metrics.json, sweeper's tasks, collect). A function without one gets `AppJobs`.
"""

from __future__ import annotations

import importlib
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from sweeper.core.objectives import Objective
from sweeper.core.private_apis import trial_id
from sweeper.reports.study_report import write_study_report
from sweeper.sweeps.search_space import SearchError, SearchSpace
from sweeper.trials.plugins import instantiate_checked
from sweeper.trials.reporting import job_env, job_storage, quoted, rdb_storage

__all__ = [
    "AppJobs",
    "directions_of",
    "instantiate_checked",
    "job_dir_of",
    "jobs_of",
    "value_names",
]

log = logging.getLogger(__name__)

# An infinite value is a failed run's (sweeper's own diverged runs return it too): the trial
# is COMPLETE with it, so the sampler learns from it, but it is counted failed, never best.
INFINITE = "an infinite value, counted as a failed run's"
ATTRIBUTE = "sweeper_jobs"  # on a task function: "module:Class" of its AppJobs


def jobs_of(task_function: Any) -> AppJobs:
    """The `AppJobs` of `task_function` (its `sweeper_jobs` attribute), else `AppJobs()`."""
    name = getattr(task_function, ATTRIBUTE, None)
    if not name:
        return AppJobs()
    module, _, attr = str(name).partition(":")
    return getattr(importlib.import_module(module), attr)()


def directions_of(value: Any) -> list[str]:
    """`hydra.sweeper.direction` (a name, an enum, a list of them, or null) as names."""
    if value is None:
        return []
    if isinstance(value, ListConfig):
        value = OmegaConf.to_container(value)
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    names = [str(getattr(d, "name", d)).lower() for d in items]
    for name in names:
        if name not in ("maximize", "minimize"):
            raise SearchError(
                f"hydra.sweeper.direction={name!r} must be minimize or maximize (or a list)"
            )
    return names


def value_names(count: int) -> tuple[str, ...]:
    """The objectives' names for an app that returns bare values (Optuna's column names)."""
    return ("value",) if count == 1 else tuple(f"values_{i}" for i in range(count))


def trial_values(value: Any, count: int) -> tuple[list[float] | None, str | None]:
    """(values, None) for a job's return value holding `count` numbers, else (None, why).

    NaN is refused (Optuna cannot rank it); ±inf (a failed run's worst values) is kept."""
    items = list(value) if isinstance(value, (list, tuple, ListConfig)) else [value]
    if len(items) != count:
        return None, f"the run returned {value!r}: {len(items)} value(s) for {count} objectives"
    try:
        numbers = [float(v) for v in items]
    except (TypeError, ValueError):
        return None, f"the run returned {value!r}, not numbers"
    if any(math.isnan(v) for v in numbers):
        return None, "the run returned NaN"
    return numbers, None


class AppJobs:
    """The jobs of any Hydra app: a task function's return value is the trial's value."""

    #: Whose jobs these are: "app" (any Hydra app) or "sweeper" (sweeper's own training).
    kind = "app"

    def objective(self, direction: Any, cfg: DictConfig) -> Objective:
        """One objective per `hydra.sweeper.direction` entry (minimize when null)."""
        names = directions_of(direction) or ["minimize"]
        return Objective(value_names(len(names)), tuple(names))

    def check_space(self, space: SearchSpace, config: DictConfig | None = None) -> None:
        """Refuse a space this app cannot search; an empty one runs the fixed config."""
        if not space.distributions:
            log.warning(
                "the search space is empty: every trial runs the fixed config "
                "(set hydra.sweeper.params, e.g. x: interval(-5, 5))"
            )

    def check_trial(self, cfg: DictConfig, space: SearchSpace) -> None:
        """Check one composed trial config before the study exists (nothing here)."""

    def pruner(self, config: DictConfig, storage: str | None, objective: Objective) -> Any:
        """The study's pruner from `hydra.sweeper.pruner` (NopPruner when none is chosen)."""
        node = OmegaConf.select(config, "hydra.sweeper.pruner", default=None)
        if node is None:
            import optuna

            return optuna.pruners.NopPruner()
        pruner = instantiate_checked(node, "hydra.sweeper.pruner")
        if objective.multi and type(pruner).__name__ != "NopPruner":
            raise SearchError(
                f"hydra.sweeper.pruner={type(pruner).__name__}: Optuna cannot prune a "
                "multi-objective study; use hydra/sweeper/pruner=none"
            )
        return pruner

    def prunes(self, pruner: Any) -> bool:
        """Whether `pruner` can stop a trial (so its jobs must reach the study)."""
        return pruner is not None and type(pruner).__name__ != "NopPruner"

    def trial_overrides(self, storage: str | None, study_name: str, number: int) -> list[str]:
        """`hydra.job.env_set` entries that let the job's `sweeper.report` find its trial."""

        env = job_env(job_storage(storage) if storage else None, study_name, number)
        return [f"++hydra.job.env_set.{key}={quoted(value)}" for key, value in env.items()]

    def outcome(self, ret: Any, count: int) -> tuple[float | list[float] | None, dict[str, str]]:
        """(value, user attrs) of a finished job (`ret`: Hydra's JobReturn); value None is a
        FAIL trial, `attrs["status"] == "pruned"` a PRUNED one."""
        import optuna

        attrs: dict[str, str] = {}
        job_dir = job_dir_of(ret)
        if job_dir:
            attrs["job_dir"] = job_dir
        try:
            value: Any = ret.return_value  # re-raises what the job raised
        except optuna.TrialPruned as pruned:
            attrs.update(status="pruned", reason=str(pruned or "pruned")[:500])
            return None, attrs
        except Exception as error:
            attrs.update(status="failed", reason=f"{type(error).__name__}: {error}"[:500])
            return None, attrs
        if count > 1:
            numbers, why = trial_values(value, count)
            attrs["status"] = "ok" if numbers is not None else "failed"
            if why:
                attrs["reason"] = why
            elif numbers is not None and not all(math.isfinite(v) for v in numbers):
                attrs.update(status="failed", reason=f"the run returned {value!r}: {INFINITE}")
            return numbers, attrs
        number = _number(value)
        if number is None or math.isnan(number):
            why = "NaN" if number is not None else f"{value!r}, not a number"
            attrs.update(status="failed", reason=f"the run returned {why}"[:500])
            return None, attrs
        if math.isinf(number):  # COMPLETE, so the sampler learns from it; never the best
            attrs.update(status="failed", reason=f"the run returned {number}: {INFINITE}")
            return number, attrs
        attrs["status"] = "ok"
        return number, attrs

    def tell_pruned(
        self, study: Any, trial: Any, config: DictConfig, storage: str | None = None
    ) -> None:
        """Tell `trial` PRUNED with the last value its job reported (`sweeper.report`).

        Optuna takes a pruned trial's value from its last intermediate value; the asking
        process's cached view of a database study does not see what the job reported
        from its own process, so that value is read from `storage` and reported here."""
        import optuna

        if storage is not None:
            fresh = rdb_storage(storage)
            reported = fresh.get_trial(trial_id(fresh, study.study_name, trial.number))
            if reported.intermediate_values:
                step = max(reported.intermediate_values)
                trial.report(reported.intermediate_values[step], step)
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)

    def best_details(self, job_dir: str | None) -> dict[str, Any]:
        """Extra fields of best_trial.yaml's `best` for the job in `job_dir` (none here)."""
        return {}

    def warning(self, cfg: DictConfig) -> str | None:
        """A warning about the search's set-up to log before the first trial, or None."""
        return None

    def finish(self, study: Any, sweep_dir: Path, objective: Objective) -> None:
        """The sweep folder's report.html over the study (sweeper.reports.study_report)."""

        try:
            write_study_report(study, sweep_dir, objective)
        except Exception:  # the tables are the record; a report must not hide the outcome
            log.exception("could not write %s", sweep_dir / "report.html")

    def failures_where(self, sweep_dir: Path) -> str:
        """Where a search whose trials all failed says their reasons are."""
        return f"{sweep_dir}/trials.csv"

    def collect(self, sweep_dir: Path) -> None:
        """Collect the job folders' own records into the sweep folder (nothing here: a
        plain app's jobs keep none), after a search stops early or all its trials failed."""

    def point_checker(self) -> Callable[[DictConfig], str | None]:
        """A check of one composed job config before any job runs (a grid's points): the
        problem as one line, or None. Nothing to check for a plain app: Hydra composed it."""
        return lambda cfg: None


def job_dir_of(ret: Any) -> str | None:
    """The absolute job folder of a JobReturn (`hydra.runtime.output_dir`), or None."""
    hydra_cfg = getattr(ret, "hydra_cfg", None)
    job_dir = OmegaConf.select(hydra_cfg, "hydra.runtime.output_dir") if hydra_cfg else None
    return str(Path(job_dir).resolve()) if job_dir else None


def _number(value: Any) -> float | None:
    """`value` as a float (ints, numpy and torch scalars), or None when it is not a number."""
    if value is None or isinstance(value, (bool, str, bytes)):
        return None
    if isinstance(value, (list, tuple, dict, DictConfig, ListConfig)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
