"""Optuna searches that never lie and never lose work, for any Hydra app: storage, resume,
failures, many workers.

hydra-optuna-sweeper as shipped keeps nothing when the process ends, aborts on
one failing trial, overwrites earlier trial folders when a study is re-run,
leaves killed trials RUNNING for good and reads `range`/`glob` unlike Hydra's
own sweeper. `SearchSweeper` takes the same settings (sampler, direction,
storage, study_name, n_trials, n_jobs, params, ...) and runs its own ask/tell
loop, `n_jobs` trials at a time (with a launcher that runs jobs in other processes,
joblib or submitit, each slot is refilled as soon as its trial ends, so a pruned
trial frees its slot at once; with Hydra's basic launcher, in batches), with:

before any trial (any refusal is one line, `sweeper: error: ...`, exit 2)
- the space read by `sweeper.sweeps.search_space` (the values a grid would run; a
  command-line value fixes a searched key), refusing an empty one;
- the storage URL checked by connecting (a SQLite file's folder is created),
  the study created once, retrying the schema race of a fresh database;
- a resumed study refused if its trials were drawn from another space, or run with
  another fixed configuration (`sweeper.sweeps.experiment`: a study is one experiment;
  `allow_changed_config: true` resumes it all the same);
- `n_trials: 0` reports an existing study and creates none;
- every storage call under one retry policy for a locked database
  (`sweeper.trials.storage`); past its bound the search stops in one line, exit 1;
- stale RUNNING trials of the study marked FAIL and reported (`sweeper.sweeps.stale_trials`);
- with `total_trials: true`, `n_trials` is the study's total, not the number to add;

while it runs
- job numbers claimed before each launch in the sweep folder (`sweep_folder.claim_job_numbers`),
  after every job already there whatever `hydra.sweep.subdir`, so neither a
  resumed study nor a second worker in the same folder overwrites a job;
- a heartbeat for the running trials;
- each trial tagged with its job folder and run status (metrics.json); a run
  refused by config validation (`reason: config: ...`), interrupted, or that
  raised inside Hydra's launcher is a FAIL trial; a run stopped by the pruner
  (`pruner=median`: the job reports to its trial every epoch, `sweeper.run.pruning`)
  is PRUNED; any other run is COMPLETE with the value it returned (a diverged
  run: the worst value, so TPE learns from it);

at the end `trials.csv`, `best_trial.yaml`, `optimization_results.yaml` and,
where they can be drawn, `optimization_history.png` and `param_slices.png` in
the sweep folder (a multi-objective study, `objective.metric=[a,b]`: the Pareto
front instead of one best trial, and NSGA-II by default: `sweeper.sweeps.pareto`);
"all N trials failed" ends with exit 1. Ctrl-C or SIGTERM tells the batch's
trials FAIL (status interrupted), writes the report and the collected results
of what finished, says what was cut off, and exits 130 (143 after SIGTERM).

It runs any Hydra app's jobs: what depends on what a job is (the objective, checks
before any trial, the pruner and how a job reaches its trial, a job's value and status,
what the sweep folder gets at the end) it asks the task function's `AppJobs`
(sweeper.sweeps.app_jobs: a plain function's return value; sweeper.jobs:
sweeper's own training jobs and their metrics.json).

Hydra only loads sweepers defined in the `hydra_plugins` package, so
`hydra_plugins/sweeper_search` wraps this one, importing it (and Optuna) only when a
search is set up: Hydra imports the plugin modules on every start of every app.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import logging
import math
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from hydra.core.object_type import ObjectType
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict, read_write

from sweeper.core.interrupt import exit_code, install_interrupt_handlers, signal_name
from sweeper.core.objectives import Objective
from sweeper.core.private_apis import runs_jobs_in_process
from sweeper.records.sweep_folder import claim_job_numbers, job_subdir
from sweeper.reports.search_files import (
    METRICS_ATTR,
    finished_trials,
    masked_url,
    write_search_files,
)
from sweeper.sweeps.app_jobs import AppJobs, instantiate_checked, jobs_of
from sweeper.sweeps.compose import compose_once
from sweeper.sweeps.experiment import check_same_experiment, fixed_config
from sweeper.sweeps.optuna_setup import create_or_load, plain_optuna_logging
from sweeper.sweeps.pareto import default_sampler
from sweeper.sweeps.progress import SearchProgress
from sweeper.sweeps.search_space import (
    SearchError,
    SearchSpace,
    build_space,
    check_compatible,
    distribution_from_config,
    grid_choices,
)
from sweeper.sweeps.stale_trials import WORKER, Heartbeat, fail_stale_trials
from sweeper.trials.reporting import forget_live, literal_sqlite, register_live, sqlite_file
from sweeper.trials.reporting import sqlite_file as file_of
from sweeper.trials.storage import StorageBusy, patient_storage, storage_wait

__all__ = [
    "SearchError",
    "SearchSweeper",
    "StorageBusy",
    "connect_storage",
]

log = logging.getLogger(__name__)

# A fresh database: concurrent workers race to create Optuna's tables. These are
# the errors the loser sees (PostgreSQL, SQLite); they are retried, others are not.
# A locked database is waited for by the storage itself (sweeper.trials.storage).
SCHEMA_ATTEMPTS = 6
RACE_SIGNS = ("UniqueViolation", "IntegrityError", "already exists")
# Trials the sampler probe draws (SearchSweeper._probe_sampler): past Optuna's default
# 10 start-up trials, so options used only after them are exercised too.
PROBE_TRIALS = 12
# After Ctrl-C or SIGTERM, how long a search waits for its running trials' jobs (in
# worker processes) to record `status: interrupted` before it exits.
STOP_WAIT = 30.0


def _where(url: str | None) -> str:
    """Where a study lives, for messages: the SQLite file, or the masked URL."""

    path = sqlite_file(url)
    if path is not None:
        return str(Path(path).expanduser().resolve())
    return masked_url(url)


def connect_storage(url: str | None) -> Any:
    """An Optuna storage for `url` (None: in memory) under sweeper's retry policy for a
    locked database (sweeper.trials.storage: StorageBusy past its bound); SearchError if
    it cannot be used."""
    if url is None:
        return None
    if not isinstance(url, str) or "://" not in url:
        raise SearchError(
            f"hydra.sweeper.storage={url!r} is not a database URL "
            "(e.g. sqlite:///search.db or postgresql://user@host/db)"
        )

    sqlite_file = file_of(url)
    if sqlite_file:
        folder = Path(sqlite_file).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SearchError(f"cannot write to {folder}: {error.strerror or error}") from None
        if not os.access(folder, os.W_OK | os.X_OK):
            raise SearchError(f"cannot write to {folder}: Permission denied")
    try:
        wait = storage_wait()
    except ValueError as error:
        raise SearchError(str(error)) from None
    for attempt in range(1, SCHEMA_ATTEMPTS + 1):
        try:
            return patient_storage(url, wait)
        except StorageBusy:
            raise
        except Exception as error:  # sqlalchemy raises many kinds; the first line says enough
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            race = any(sign in f"{type(error).__name__} {error}" for sign in RACE_SIGNS)
            if race and attempt < SCHEMA_ATTEMPTS:
                time.sleep(0.2 * attempt)
                continue
            raise SearchError(
                f"hydra.sweeper.storage={masked_url(url)} cannot be used: "
                f"{type(error).__name__}: {first_line}"
            ) from None
    raise AssertionError("unreachable")


def check_search_space(distributions: dict[str, Any]) -> None:
    """Refuse intervals a sampler cannot draw from (low >= high; a stepped range may
    hold one value). An empty space is the app's to refuse (AppJobs.check_space)."""
    for name, distribution in distributions.items():
        low, high = getattr(distribution, "low", None), getattr(distribution, "high", None)
        stepped = getattr(distribution, "step", None) is not None
        if low is not None and high is not None and not (low <= high if stepped else low < high):
            raise SearchError(
                f"search interval for {name} is empty or inverted: "
                f"low={low}, high={high} (need low < high)"
            )


def _describe_best(best: dict[str, Any]) -> str:
    """`val_accuracy 0.9990 (test_accuracy 0.9985, ...)`, or the bare value."""
    metric = best.get("objective_metric", "value")
    beside = ", ".join(f"{k} {v:.4f}" for k, v in best.get("metrics", {}).items() if k != metric)
    return f"{metric} {best['value']:.4f}" + (f" ({beside})" if beside else "")


def check_same_metrics(study: Any, objective: Objective, where: str) -> None:
    """Record the study's objective metric(s) when new; refuse to resume it over others
    (its stored values would mean something else). Studies without the record pass."""
    stored = study.user_attrs.get(METRICS_ATTR)
    if stored is None:
        study.set_user_attr(METRICS_ATTR, list(objective.metrics))
    elif list(stored) != list(objective.metrics):
        raise SearchError(
            f"study {study.study_name} in {where} was searched over objective.metric="
            f"[{','.join(stored)}]; this run asks for [{','.join(objective.metrics)}]. Start a "
            "new study with hydra.sweeper.study_name=NEW (or another hydra.sweep.dir)"
        )


class _TooManyFailures(Exception):
    pass


class SearchSweeper(Sweeper):
    """hydra-optuna-sweeper's settings and search, with the checks, resume and reports above."""

    def __init__(
        self,
        sampler: Any,
        direction: Any,
        storage: str | None,
        study_name: str | None,
        n_trials: int,
        n_jobs: int = 1,
        max_failure_rate: float = 1.0,
        search_space: Any = None,
        custom_search_space: str | None = None,
        params: DictConfig | None = None,
        total_trials: bool = False,
        heartbeat_interval: float = 20.0,
        grace_period: float = 120.0,
        pruner: Any = None,
        allow_changed_config: bool = False,
    ) -> None:
        self.sampler = sampler  # a config (_target_ and options) or a sampler
        self.pruner_config = pruner  # hydra.sweeper.pruner (AppJobs.pruner reads it)
        self.direction = direction
        self.storage = storage
        self.study_name = study_name
        self.n_trials = n_trials
        self.n_jobs = n_jobs
        self.max_failure_rate = max_failure_rate
        self.search_space = search_space
        self.custom_search_space = custom_search_space
        self.params = params
        self.total_trials = total_trials
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        # true: resume a study whose fixed configuration differs (sweeper.sweeps.experiment)
        self.allow_changed_config = allow_changed_config
        self.rdb: Any = None  # the study's storage (sweeper.trials.storage), None: in memory
        self.report_only = False  # n_trials=0: report an existing study, run nothing
        self.returns: dict[int, Any] = {}  # trial number -> its job's return, until told
        self.asking_since: float | None = None  # while study.ask runs (a busy database)
        self.objective = Objective(("objective",), ("maximize",))  # set by _prepare
        self.pending: list[Any] = []  # the batch being run, until told
        self.finished_now: list[int] = []  # trial numbers told in this run
        self.pruner: Any = None  # the study's Optuna pruner (sweeper.run.pruning), None: off
        self.created = False  # whether this run created the study (else it resumes one)
        self.jobs: AppJobs = AppJobs()  # what the app's jobs are (setup: the task function's)
        self.last_failure = ""  # the last failed trial and why, for the too-many-failures line

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.config = config
        self.hydra_context = hydra_context = compose_once(hydra_context)  # sweeps/compose.py
        self.launcher = Plugins.instance().instantiate_launcher(
            config=config, hydra_context=hydra_context, task_function=task_function
        )
        self.sweep_dir = Path(config.hydra.sweep.dir)
        self.jobs = jobs_of(task_function)
        # A study file inside the sweep folder is that file, whatever its folder's name holds
        # (`?`, `#`, `%` would otherwise be read as a URL's query, fragment or escapes).
        self.storage = literal_sqlite(self.storage, str(config.hydra.sweep.dir))

    # ------------------------------------------------------------------ the command
    def sweep(self, arguments: list[str]) -> None:
        # SIGTERM stops a search as Ctrl-C does (trials told, files written, exit 143), for
        # any app: sweeper's entrypoint installs the same handler, a plain app has none.
        install_interrupt_handlers()
        try:
            study, space = self._prepare(arguments)
        except SearchError as error:
            print(f"sweeper: error: {error}", file=sys.stderr)
            sys.exit(2)
        except StorageBusy as error:  # nothing was asked: nothing to tell
            print(f"sweeper: error: {error}; no trial was run", file=sys.stderr)
            sys.exit(1)
        except KeyboardInterrupt as interrupt:
            print("sweeper: interrupted before any trial ran", file=sys.stderr)
            sys.exit(exit_code(interrupt))
        warning = self.jobs.warning(self.config)
        if warning:
            log.warning("%s", warning)
        before = len(finished_trials(study))
        try:
            if self.report_only:
                log.info(
                    "hydra.sweeper.n_trials=0: reporting study %s in %s (%d finished trials); "
                    "no trial is run",
                    study.study_name,
                    _where(self.storage),
                    before,
                )
            elif self.n_trials > 0:
                log.info(
                    "%s study %s %s: %d trials before this run, %d to run now",
                    "new" if self.created else "resumed",
                    study.study_name,
                    f"in {_where(self.storage)}" if self.storage else "in memory",
                    before,
                    self.n_trials,
                )
                self._run(study, space)
            else:
                log.info(
                    "study %s already has %d finished trials: nothing left to run",
                    study.study_name,
                    before,
                )
        except KeyboardInterrupt as interrupt:
            self._stop_interrupted(study, exit_code(interrupt))
        except StorageBusy as error:
            self._stop_storage_busy(study, error)
        except _TooManyFailures as error:
            self._report(study)
            print(f"sweeper: error: {error}", file=sys.stderr)
            sys.exit(1)
        try:
            record = self._report(study)
        except StorageBusy as error:
            self._stop_storage_busy(study, error)
        if "best_trials" in record:
            log.info(
                "%d Pareto-optimal trial(s) over %s: %s (pareto_front.csv)",
                len(record["best_trials"]),
                self.objective.describe(),
                ", ".join(str(b["number"]) for b in record["best_trials"]),
            )
        elif "best" in record:
            best = record["best"]
            log.info(
                "best trial %d: %s, params %s, folder %s",
                best["number"],
                _describe_best(best),
                best["params"],
                best["job_dir"],
            )
        elif record["finished_trials"]:
            self.jobs.collect(self.sweep_dir)
            pruned = " or were pruned" if record.get("pruned_trials") else ""
            where = self.jobs.failures_where(self.sweep_dir)
            print(
                f"sweeper: error: all {record['finished_trials']} trials of study "
                f"{record['study']} failed{pruned}; reasons in {where}",
                file=sys.stderr,
            )
            sys.exit(1)

    def _report(self, study: Any) -> dict[str, Any]:
        if self.rdb is not None:  # a fresh view: other workers add trials too
            import optuna

            study = optuna.load_study(study_name=study.study_name, storage=self.rdb)
        record = write_search_files(
            study, self.sweep_dir, self.storage, self.objective, self.jobs.best_details
        )
        self.jobs.finish(study, self.sweep_dir, self.objective)
        return record

    def _stop_interrupted(self, study: Any, code: int) -> None:
        """Ctrl-C / SIGTERM: fail the batch's trials, report what finished, exit `code`
        (130 after SIGINT, 143 after SIGTERM)."""
        import optuna

        cut = []
        for trial in self.pending:
            try:
                trial.set_user_attr("status", "interrupted")
                trial.set_user_attr("reason", "interrupted: the search was stopped")
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            except Exception as error:  # told already, or the database is gone
                log.warning("could not mark trial %d interrupted: %s", trial.number, error)
            cut.append(str(trial.number))
        self.pending = []
        try:
            self._report(study)
        except StorageBusy as error:
            log.warning("trials.csv and best_trial.yaml not written: %s", error)
        self.jobs.collect(self.sweep_dir)
        what = f"trial(s) {', '.join(cut)} cut off" if cut else "no trial was running"
        if self.storage is None:
            hint = "the study was in memory: it cannot be continued (set hydra.sweeper.storage)"
        elif self.study_name is None:  # Optuna named it: a new run would start another one
            hint = (
                f"continue the study with hydra.sweeper.study_name={study.study_name} "
                f"hydra.sweep.dir={self.sweep_dir}"
            )
        else:
            hint = "re-run the same command to continue the study"
        print(
            f"sweeper: interrupted: {what}; {len(self.finished_now)} finished in this run; {hint}",
            file=sys.stderr,
        )
        sys.exit(code)

    def _stop_storage_busy(self, study: Any, error: StorageBusy) -> None:
        """The study's database stayed locked past the bound (sweeper.trials.storage):
        tell the trials of this run still untold (a finished job's outcome; else FAIL,
        `status: interrupted`), write the report if the database lets it, and exit 1 with
        one line naming the database. A trial that cannot be told either (the lock still
        held) is left RUNNING, and the next run marks it FAIL (its process is gone)."""
        import optuna

        reason = f"storage: {error.where} stayed locked for more than {error.wait:g} s"
        told, left = [], []
        for trial in list(self.pending):
            if left:  # the lock is still held: do not wait again for each trial
                left.append(str(trial.number))
                continue
            try:
                ret = self.returns.get(trial.number)
                if ret is not None:
                    self._tell(study, trial, ret)
                else:
                    trial.set_user_attr("status", "interrupted")
                    trial.set_user_attr("reason", reason)
                    _told(study.tell, trial, state=optuna.trial.TrialState.FAIL)
                    self.pending.remove(trial)
                told.append(str(trial.number))
            except StorageBusy:
                left.append(str(trial.number))
            except Exception as failure:  # noqa: BLE001 - told already, e.g. by its job
                log.warning("could not tell trial %d: %s", trial.number, failure)
        if self.asking_since is not None and not left:  # a trial asked, never handed back
            try:
                for frozen in study.get_trials(
                    deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)
                ):
                    started = frozen.datetime_start.timestamp() if frozen.datetime_start else 0
                    if WORKER not in frozen.system_attrs and started >= self.asking_since - 1:
                        study.tell(frozen.number, state=optuna.trial.TrialState.FAIL)
                        told.append(str(frozen.number))
            except Exception as failure:  # noqa: BLE001 - the next run's stale check does it
                log.warning("could not fail the trial being asked: %s", failure)
        self.pending = []
        try:
            self._report(study)
        except StorageBusy as again:
            log.warning("trials.csv and best_trial.yaml not written: %s", again)
        self.jobs.collect(self.sweep_dir)
        parts = [f"trial(s) {', '.join(told)} told"] if told else []
        if left:
            parts.append(
                f"trial(s) {', '.join(left)} left RUNNING (the next run tells them from their "
                "finished jobs' metrics.json, or marks them FAIL)"
            )
        what = ", ".join(parts) or "no trial was running"
        print(
            f"sweeper: error: {error}; the search stopped: {what}, {len(self.finished_now)} "
            "finished in this run; re-run the same command to continue the study",
            file=sys.stderr,
        )
        sys.exit(1)

    # ------------------------------------------------------------------ before any trial
    def _group_options(self, key: str) -> list[str]:
        """The options of config group `key` ([] if it is none)."""
        loader = self.hydra_context.config_loader
        try:
            return list(loader.get_group_options(key, results_filter=ObjectType.CONFIG))
        except Exception:  # not a group
            return []

    def _check_trials_compose(self, space: SearchSpace) -> DictConfig:
        """Compose one trial's config (each parameter at its first value) before the study
        exists, so a misspelt key (`task.epochz=choice(1,2)`) is refused in one line rather
        than failing trial 0 and entering the study's space; and refuse a
        `hydra.sweep.subdir` that gives two trials the same folder."""
        params = {}
        for name, distribution in space.distributions.items():
            choices = getattr(distribution, "choices", None)
            params[name] = choices[0] if choices else distribution.low
        loader = self.hydra_context.config_loader
        try:
            cfg = loader.load_sweep_config(self.config, space.overrides(params))
        except Exception as error:  # Hydra's composition errors (unknown key, bad type)
            lines = [line.strip() for line in str(error).splitlines() if line.strip()]
            raise SearchError(f"search space: {lines[0] if lines else error}") from None

        folders = []
        try:
            for number in (0, 1):
                with read_write(cfg.hydra), open_dict(cfg):  # job_subdir makes it read-only
                    cfg.hydra.job.num = cfg.hydra.job.id = number
                folders.append(job_subdir(cfg))  # ${hydra:...} in the subdir resolves per trial
        except Exception as error:  # a subdir that needs what only a running job has
            log.debug("hydra.sweep.subdir not checked before the first trial: %s", error)
            return cfg
        if folders[0] == folders[1]:
            raise SearchError(
                f"hydra.sweep.subdir={folders[0]} gives every trial the same folder; "
                "put ${hydra.job.num} in it"
            )
        return cfg

    def deprecated_search_space(self) -> dict[str, Any]:
        """hydra-optuna-sweeper's deprecated `hydra.sweeper.search_space` as distributions,
        with its warnings: ignored (warned) when `params` is given too."""
        if self.search_space is None:
            return {}
        if self.params is not None:
            warnings.warn(
                "Both hydra.sweeper.params and hydra.sweeper.search_space are configured; "
                "hydra.sweeper.params defines the search space",
                UserWarning,
                stacklevel=2,
            )
            return {}
        warnings.warn(  # hydra-optuna-sweeper's own words
            "`hydra.sweeper.search_space` is deprecated and will be removed in the next major "
            "release. Please configure with `hydra.sweeper.params` (e.g. x: interval(-5, 5)).",
            UserWarning,
            stacklevel=2,
        )
        entries = self.search_space
        if isinstance(entries, DictConfig):
            entries = OmegaConf.to_container(entries, resolve=True)
        if not isinstance(entries, dict):
            raise SearchError(
                f"hydra.sweeper.search_space must map keys to distributions, got {entries!r}"
            )
        return {str(k): distribution_from_config(str(k), v) for k, v in entries.items()}

    def _space(self, arguments: list[str]) -> SearchSpace:
        """The space of `params`, the deprecated `search_space` and the command line."""
        params = [f"{k!s}={v}" for k, v in (self.params or {}).items()]
        space = build_space(params, list(arguments), self._group_options)
        for name, distribution in self.deprecated_search_space().items():
            if name not in space.distributions and name not in space.fixed:
                space.distributions[name] = distribution
        check_search_space(space.distributions)
        self.jobs.check_space(space, self.config)
        return space

    def _make_sampler(self) -> Any:
        """The configured sampler (`hydra.sweeper.sampler`), checked; a sampler object
        (a test's) is used as it is."""
        import optuna

        sampler = self.sampler
        if not isinstance(sampler, (dict, DictConfig)):
            return sampler
        target = str(OmegaConf.select(OmegaConf.create(sampler), "_target_") or "")
        if target.rpartition(".")[2] == "GridSampler":  # the grid is the space's values
            node = dict(OmegaConf.to_container(OmegaConf.create(sampler), resolve=True))
            node["_partial_"] = True
            return instantiate_checked(node, "hydra.sweeper.sampler")
        made = instantiate_checked(sampler, "hydra.sweeper.sampler")
        if not isinstance(made, optuna.samplers.BaseSampler):
            raise SearchError(f"hydra.sweeper.sampler._target_={target} is not an Optuna sampler")
        return made

    def _check_settings(self) -> None:
        """The sweeper's own keys, each of its kind: SearchError (one line naming the key)."""

        def number(value: Any) -> bool:
            return isinstance(value, (int, float)) and not isinstance(value, bool)

        if (
            isinstance(self.n_trials, bool)
            or not isinstance(self.n_trials, int)
            or self.n_trials < 0
        ):
            raise SearchError(
                f"hydra.sweeper.n_trials={self.n_trials!r} must be a positive integer "
                "(or 0: only report an existing study)"
            )
        if isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, int) or self.n_jobs < 1:
            raise SearchError(f"hydra.sweeper.n_jobs={self.n_jobs!r} must be an integer >= 1")
        if not number(self.max_failure_rate) or not 0.0 <= self.max_failure_rate <= 1.0:
            raise SearchError(
                f"hydra.sweeper.max_failure_rate={self.max_failure_rate!r} must be a number "
                "between 0 and 1"
            )
        for key in ("heartbeat_interval", "grace_period"):
            if not number(getattr(self, key)):
                raise SearchError(
                    f"hydra.sweeper.{key}={getattr(self, key)!r} must be a number of seconds"
                )
        if not self.heartbeat_interval > 0:
            raise SearchError(
                f"hydra.sweeper.heartbeat_interval={self.heartbeat_interval} must be > 0 seconds"
            )
        if not self.heartbeat_interval < self.grace_period:
            raise SearchError(
                f"hydra.sweeper.grace_period={self.grace_period} must be larger than "
                f"hydra.sweeper.heartbeat_interval={self.heartbeat_interval} (> 0); "
                "a few intervals is safe"
            )
        if not isinstance(self.allow_changed_config, bool):
            raise SearchError(
                f"hydra.sweeper.allow_changed_config={self.allow_changed_config!r} must be "
                "true or false"
            )
        if not isinstance(self.total_trials, bool):
            raise SearchError(
                f"hydra.sweeper.total_trials={self.total_trials!r} must be true or false"
            )
        if number(self.study_name):  # `study_name=123`: a name (the plugin's str field)
            self.study_name = str(self.study_name)
        if self.study_name is not None and not isinstance(self.study_name, str):
            raise SearchError(f"hydra.sweeper.study_name={self.study_name!r} must be a name")
        if isinstance(self.direction, (list, tuple, ListConfig)) and not len(self.direction):
            raise SearchError(
                "hydra.sweeper.direction=[] names no objective: give minimize or maximize, "
                "or a list of them"
            )
        if self.custom_search_space is not None:
            from hydra.utils import get_method

            try:
                get_method(str(self.custom_search_space))
            except Exception:  # Hydra's "Error locating target" is several lines
                raise SearchError(
                    f"hydra.sweeper.custom_search_space={self.custom_search_space} is not a "
                    "function that can be imported (module.function, the module on sys.path)"
                ) from None

    def _probe_sampler(self, space: SearchSpace) -> None:
        """Draw one trial from a copy of the sampler in a throw-away study, so that an
        option of the wrong kind (`n_startup_trials=abc`) or a space the sampler cannot
        draw from (BruteForce over an interval) is one line before the real study exists
        (and no RUNNING trial is left in it)."""
        import copy

        import optuna

        sampler = self.sampler
        if isinstance(sampler, functools.partial):  # the grid, built later from the space
            return
        try:
            probe = copy.deepcopy(sampler)
        except Exception:  # noqa: BLE001 - a sampler that cannot be copied is not probed
            return
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "A new study created"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                study = optuna.create_study(
                    sampler=probe, directions=list(self.objective.directions)
                )
                # Past the usual 10 start-up trials, where TPE, CMA-ES and GP use their
                # own options (n_ei_candidates, prior_weight, ...).
                for i in range(PROBE_TRIALS):
                    trial = study.ask(fixed_distributions=space.distributions)
                    study.tell(trial, [float(i % 3)] * len(self.objective.directions))
        except Exception as error:  # the sampler's own refusal, in its own words
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise SearchError(
                f"hydra.sweeper.sampler: {type(sampler).__name__} cannot draw from this "
                f"search space with these options: {type(error).__name__}: {first}"
            ) from None
        finally:
            optuna.logging.set_verbosity(verbosity)

    def _prepare(self, arguments: list[str]) -> tuple[Any, SearchSpace]:
        """Checks and set-up before any trial; returns the (created or loaded) study and space."""
        import optuna

        self._check_settings()
        self.report_only = self.n_trials == 0
        space = self._space(arguments)
        trial_cfg = self._check_trials_compose(space)
        # the experiment: what every trial runs with besides its searched keys
        fixed = fixed_config(trial_cfg, space.distributions, self.jobs.kind)
        self.objective = self.jobs.objective(self.direction, trial_cfg)
        self.jobs.check_trial(trial_cfg, space)
        self.sampler = self._make_sampler()
        if self.jobs.kind == "sweeper":  # NSGA-II for its multi-objective searches
            self.sampler = default_sampler(self.sampler, self.config, self.objective)
        directions = list(self.objective.directions)
        self._probe_sampler(space)
        self._grid_sampler(space)
        self.pruner = self.jobs.pruner(self.config, self.storage, self.objective)
        if self.jobs.prunes(self.pruner) and self.storage is None:
            if not runs_jobs_in_process(self.launcher):
                raise SearchError(
                    "hydra.sweeper.pruner needs a study its jobs can reach from other "
                    "processes: set hydra.sweeper.storage (e.g. sqlite:///search.db), not null"
                )
        if self.report_only:
            study = self._existing_study()
        else:
            self._make_sweep_dir()
            plain_optuna_logging()  # no colour escapes in log files (sweeper.sweeps.optuna_setup)
            storage = self.rdb = connect_storage(self.storage)
            for attempt in range(1, SCHEMA_ATTEMPTS + 1):
                try:
                    study, self.created = create_or_load(  # optuna_setup says why
                        self.study_name, storage, self.sampler, directions, self.pruner
                    )
                    break
                except StorageBusy:
                    raise
                except Exception as error:  # two workers creating one study at the same moment
                    if attempt == SCHEMA_ATTEMPTS or storage is None:
                        raise SearchError(
                            f"cannot create study {self.study_name}: {error}"
                        ) from None
                    time.sleep(0.2 * attempt)
        stored = [d.name.lower() for d in study.directions]
        if stored != directions:
            raise SearchError(
                f"study {study.study_name} in {_where(self.storage)} was created to "
                f"{'/'.join(stored)}; this run asks to {'/'.join(directions)}. Start a new "
                "study with hydra.sweeper.study_name=NEW (or another hydra.sweep.dir)"
            )
        if self.report_only:  # read only: no record written, no stale trial failed
            return study, space
        check_same_metrics(study, self.objective, _where(self.storage))
        check_compatible(study, space.distributions, _where(self.storage))
        check_same_experiment(
            study,
            fixed,
            _where(self.storage) if self.storage else "memory",
            searched=space.distributions,
            kind=self.jobs.kind,
            allow_changed=self.allow_changed_config,
            created=self.created,
        )
        if storage is not None:
            stale = fail_stale_trials(study, self.grace_period)
            if stale:
                log.warning(
                    "ended %d stale RUNNING trial(s) of study %s (FAIL, or told from a "
                    "finished job): %s",
                    len(stale),
                    study.study_name,
                    ", ".join(stale),
                )
            running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
            if running:
                log.info(
                    "trial(s) %s of study %s are running in live workers: left alone",
                    ", ".join(str(t.number) for t in running),
                    study.study_name,
                )
        if study.get_trials(deepcopy=False) and hasattr(self.sampler, "reseed_rng"):
            self.sampler.reseed_rng()  # a seeded sampler would repeat its first suggestions
        if self.total_trials:
            self.n_trials = max(0, self.n_trials - len(finished_trials(study)))
        if isinstance(self.sampler, optuna.samplers.GridSampler):  # a resumed grid: the rest
            done = {
                tuple(sorted(t.params.items()))
                for t in study.get_trials(deepcopy=False)
                if set(t.params) == set(space.distributions)
            }
            left = max(0, self.grid_size - len(done))
            if left < self.n_trials:
                log.info("sampler grid: %d of its %d points left to run", left, self.grid_size)
                self.n_trials = left
        return study, space

    def _make_sweep_dir(self) -> None:
        try:
            self.sweep_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SearchError(
                f"cannot write to {self.sweep_dir}: {error.strerror or error}"
            ) from None

    def _existing_study(self) -> Any:
        """`hydra.sweeper.n_trials=0`: the study to report, loaded, never created (nor its
        database: a SQLite file that does not exist is not made). SearchError when there
        is no such study."""
        import optuna

        zero = "hydra.sweeper.n_trials=0 only reports an existing study"
        if self.storage is None:
            raise SearchError(
                f"{zero}, and an in-memory one (hydra.sweeper.storage=null) starts empty: "
                "give hydra.sweeper.n_trials > 0"
            )
        path = sqlite_file(self.storage)
        if path is not None and not Path(path).expanduser().is_file():
            raise SearchError(
                f"{zero}, and {_where(self.storage)} does not exist: "
                "give hydra.sweeper.n_trials > 0 to start a study there"
            )
        plain_optuna_logging()
        storage = self.rdb = connect_storage(self.storage)
        names = [s.study_name for s in storage.get_all_studies()]
        name = self.study_name
        if name is None and len(names) == 1:
            name = names[0]
        if name not in names:
            held = f"holds studies {', '.join(names)}" if names else "holds no study"
            which = f"no study {name}" if name is not None else "no study name"
            raise SearchError(
                f"{zero}: {which} in {_where(self.storage)}, which {held}; give "
                "hydra.sweeper.study_name=NAME of one, or hydra.sweeper.n_trials > 0 to start one"
            )
        self._make_sweep_dir()  # where its tables and plots are written
        return optuna.load_study(
            study_name=name, storage=storage, sampler=self.sampler, pruner=self.pruner
        )

    def _grid_sampler(self, space: SearchSpace) -> None:
        """hydra-optuna-sweeper's `sampler: grid`: build it over the space's values (choices,
        stepped ranges), cap n_trials at the grid's size."""
        import optuna

        sampler = self.sampler
        if not (
            isinstance(sampler, functools.partial) and sampler.func is optuna.samplers.GridSampler
        ):
            return
        grid = grid_choices(space.distributions)
        self.sampler = sampler(grid)
        self.n_trials = min(self.n_trials, math.prod(len(v) for v in grid.values()))
        size = math.prod(len(v) for v in grid.values())
        self.grid_size = size
        log.info("sampler grid: %d trials (the grid has %d points)", self.n_trials, size)

    # ------------------------------------------------------------------ the trials
    def _run(self, study: Any, space: SearchSpace) -> None:
        from hydra.utils import instantiate

        extend = None
        if self.custom_search_space:
            extend = instantiate({"_target_": self.custom_search_space, "_partial_": True})
        progress = SearchProgress(self.n_trials)  # a line per trial told, on a terminal
        # Several launch() calls at once from threads need a launcher that runs jobs in
        # other processes (joblib, submitit); Hydra's basic one runs each job in this
        # process (working directory, logging, Hydra's global config): batches.
        if self.n_jobs > 1 and not runs_jobs_in_process(self.launcher):
            self._run_rolling(study, space, extend, progress)
        else:
            self._run_batches(study, space, extend, progress)

    def _ask(self, study: Any, space: SearchSpace, extend: Any) -> tuple[Any, list[str]]:
        """A new trial and its job's overrides (with its study and trial when pruning)."""
        self.asking_since = time.time()
        trial = study.ask(fixed_distributions=space.distributions)
        self.asking_since = None
        self.pending.append(trial)
        if extend is not None:
            extend(self.config, trial)
        overrides = space.overrides(trial.params)
        if self.jobs.kind != "sweeper" or self.jobs.prunes(self.pruner):
            # the job reports to its trial (sweeper.report; sweeper's jobs when pruned)
            overrides += self.jobs.trial_overrides(self.storage, study.study_name, trial.number)
        if self.storage is None:  # jobs in this process reach an in-memory study here
            register_live(study.study_name, trial)
        return trial, overrides

    def _mark_job(self, trial: Any, number: int) -> None:
        """Record the trial's job number and sweep folder before its job starts, so that a
        search killed before telling it can still be told from the job's metrics.json
        when resumed (`stale_trials.job_dir_of`)."""
        trial.set_user_attr("job_number", number)
        trial.set_user_attr("sweep_dir", str(self.sweep_dir.resolve()))
        log.info("trial %d runs as job %d", trial.number, number)  # a launcher names jobs

    def _tell(self, study: Any, trial: Any, ret: Any) -> bool:
        """Tell `trial` its job's outcome (`ret`: a JobReturn, or the exception the
        launcher raised for it); True if the trial failed."""
        import optuna

        if isinstance(ret, BaseException):
            value, attrs = None, {"status": "failed", "reason": f"launcher: {ret!r}"[:500]}
        else:
            value, attrs = self.jobs.outcome(ret, len(self.objective.metrics))
        for key, text in attrs.items():
            trial.set_user_attr(key, text)
        if self.storage is None:
            forget_live(study.study_name, trial.number)
        failed = False
        if attrs.get("status") == "pruned":
            self.jobs.tell_pruned(study, trial, self.config, self.storage)
        elif value is None:
            failed = True
            self.last_failure = f"trial {trial.number}: {attrs.get('reason')}"
            log.warning("trial %d failed: %s", trial.number, attrs.get("reason"))
            _told(study.tell, trial, state=optuna.trial.TrialState.FAIL)
        else:
            _told(study.tell, trial, value)
        self.pending.remove(trial)
        self.returns.pop(trial.number, None)
        self.finished_now.append(trial.number)
        return failed

    def _check_failures(self, outcomes: list[bool]) -> None:
        """Stop the search when more than `max_failure_rate` of `outcomes` (the last
        `n_jobs` trials told: a batch) failed."""
        failures = sum(outcomes)
        if outcomes and failures / len(outcomes) > self.max_failure_rate:
            raise _TooManyFailures(
                f"{failures} of {len(outcomes)} trials of a batch failed "
                f"(hydra.sweeper.max_failure_rate={self.max_failure_rate}); the last: "
                f"{self.last_failure}"
            )

    def _run_batches(self, study: Any, space: SearchSpace, extend: Any, progress: Any) -> None:
        """Hydra's way: `n_jobs` trials asked, launched in one blocking call, then told.
        Used with launchers that run jobs in this process (the basic launcher)."""

        to_go = self.n_trials
        while to_go > 0:
            batch = min(to_go, self.n_jobs)
            self.pending = []
            asked = [self._ask(study, space, extend) for _ in range(batch)]
            beat = Heartbeat(self.pending, self.heartbeat_interval) if self.storage else None
            try:
                first = claim_job_numbers(self.sweep_dir, batch)
                for i, (trial, _) in enumerate(asked):
                    self._mark_job(trial, first + i)
                returns = self.launcher.launch([o for _, o in asked], initial_job_idx=first)
                for (trial, _), ret in zip(asked, returns):
                    self.returns[trial.number] = ret  # told from it if the database is busy
            finally:
                if beat is not None:
                    beat.stop()
            outcomes = [self._tell(study, trial, ret) for (trial, _), ret in zip(asked, returns)]
            to_go -= batch
            progress.told(study, len(returns))
            self._check_failures(outcomes)

    def _run_rolling(self, study: Any, space: SearchSpace, extend: Any, progress: Any) -> None:
        """`n_jobs` slots, each refilled as soon as its trial ends: a pruned or failed
        trial frees its slot at once instead of waiting for the slowest of a batch.

        Each trial is its own `launcher.launch([overrides], job_number)` call (Hydra's
        public launcher API) in a thread of this process, so a launcher that runs jobs
        elsewhere (joblib's worker processes, submitit) runs `n_jobs` at once. Trials are
        asked and told in this thread only. Ctrl-C or SIGTERM: SIGTERM is passed on to
        the worker processes (Ctrl-C reaches them from the terminal), their runs record
        `status: interrupted`, and the running trials are told FAIL as in a batch."""

        done: queue.Queue[tuple[Any, Any]] = queue.Queue()
        running: dict[int, tuple[Any, Heartbeat | None]] = {}
        recent: collections.deque[bool] = collections.deque(maxlen=self.n_jobs)
        self.pending = []

        def launch(trial: Any, overrides: list[str], number: int) -> None:
            try:
                done.put((trial, self.launcher.launch([overrides], initial_job_idx=number)[0]))
            except BaseException as error:  # noqa: BLE001 - the trial fails, not the search
                done.put((trial, error))

        to_go, stopping = self.n_trials, None
        try:
            while running or (to_go > 0 and stopping is None):
                while to_go > 0 and stopping is None and len(running) < self.n_jobs:
                    trial, overrides = self._ask(study, space, extend)
                    beat = Heartbeat([trial], self.heartbeat_interval) if self.storage else None
                    running[trial.number] = (trial, beat)
                    number = claim_job_numbers(self.sweep_dir, 1)
                    self._mark_job(trial, number)
                    threading.Thread(
                        target=launch, args=(trial, overrides, number), daemon=True
                    ).start()
                    to_go -= 1
                trial, ret = _next_done(done)
                self.returns[trial.number] = ret
                beat = running.pop(trial.number)[1]
                if beat is not None:
                    beat.stop()
                recent.append(self._tell(study, trial, ret))
                progress.told(study, 1)
                if len(recent) == recent.maxlen or not (running or to_go):
                    try:
                        self._check_failures(list(recent))
                    except _TooManyFailures as error:  # let the running trials end first
                        stopping = stopping or error
        except (KeyboardInterrupt, StorageBusy) as stop:
            # Ctrl-C reaches the workers from the terminal; SIGTERM and a busy database do not
            terminate = not isinstance(stop, KeyboardInterrupt) or signal_name(stop) != "SIGINT"
            cancel = getattr(self.launcher, "cancel_jobs", None)  # a scheduler's (SLURM's)
            if callable(cancel):
                cancel()  # its jobs get SIGTERM there and record `status: interrupted`
            _stop_workers(terminate, running, done, self.returns)
            for _, beat in running.values():
                if beat is not None:
                    beat.stop()
            raise
        if stopping is not None:
            raise stopping


def _told(tell: Any, *args: Any, **kwargs: Any) -> None:
    """`study.tell(...)`, where Optuna's GridSampler, once its grid is done, calls
    `study.stop()`, which raises outside `study.optimize`; the trial is told by then."""
    try:
        tell(*args, **kwargs)
    except RuntimeError as error:
        if "Study.stop" not in str(error):
            raise


def _next_done(done: queue.Queue) -> tuple[Any, Any]:
    """The next finished (trial, JobReturn or error); waits in short steps so that
    Ctrl-C and SIGTERM reach this thread at once."""
    while True:
        try:
            return done.get(timeout=0.5)
        except queue.Empty:
            continue


def _stop_workers(
    terminate: bool, running: dict, done: queue.Queue, returns: dict | None = None
) -> None:
    """After Ctrl-C, SIGTERM or a busy database with trials running in worker processes:
    send them SIGTERM when `terminate` (a terminal's Ctrl-C reaches the whole process
    group already), and wait up to STOP_WAIT seconds for the running jobs to record
    `status: interrupted`; what they return goes into `returns` (trial number -> return)."""
    if terminate:
        for child in multiprocessing.active_children():
            with contextlib.suppress(OSError):
                os.kill(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT
    waiting = set(running)
    while waiting and time.monotonic() < deadline:
        try:
            trial, ret = done.get(timeout=0.5)
        except queue.Empty:
            continue
        waiting.discard(trial.number)
        if returns is not None:
            returns[trial.number] = ret
