"""Optuna searches that survive: persistent storage, resume, failures, many workers.

hydra-optuna-sweeper as shipped keeps nothing when the process ends, aborts on
one failing trial, crashes on a NaN objective, overwrites earlier trial folders
when a study is re-run, and lets two workers race to create the schema of a
fresh PostgreSQL database. `SearchSweeper` keeps its search (sampler, search
space, batches of `n_jobs` trials) and adds, before any trial runs:

- the storage URL is checked by connecting to it (a SQLite file's folder is
  created first), and the study is created once, retrying the schema race;
- the search space is parsed and empty or inverted intervals are refused;
- job folders are numbered after those already in the sweep folder, so a
  resumed study never overwrites a trial; with `total_trials: true`,
  `n_trials` is the study's total rather than the number to add;

while it runs, each trial records its job folder and its run's status
(from metrics.json) as Optuna user attributes; and at the end it writes
`trials.csv`, `best_trial.yaml`, `optimization_history.png` and
`param_slices.png` into the sweep folder, or says clearly that every trial failed.

Failed runs reach Optuna as the worst value (see `sweeper.train`), never NaN.
Hydra only loads sweepers defined in the `hydra_plugins` package, so
`hydra_plugins/sweeper_search` subclasses this one. Optuna is imported lazily:
Hydra imports this module on every start.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)

# A fresh database: concurrent workers race to create Optuna's tables. These are
# the errors the loser sees (PostgreSQL, SQLite); they are retried, others are not.
SCHEMA_ATTEMPTS = 6
RACE_SIGNS = ("UniqueViolation", "IntegrityError", "already exists", "database is locked")


class SearchError(Exception):
    """A search that cannot start; the message names the setting."""


def _masked(url: str | None) -> str:
    """The storage URL without its password, for logs and files."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url) if url else "in memory"


def connect_storage(url: str | None) -> Any:
    """An Optuna storage for `url` (None: in memory); SearchError if it cannot be used."""
    import optuna

    if url is None:
        return None
    if not isinstance(url, str) or "://" not in url:
        raise SearchError(
            f"hydra.sweeper.storage={url!r} is not a database URL "
            "(e.g. sqlite:///search.db or postgresql://user@host/db)"
        )
    sqlite_file = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    if sqlite_file and sqlite_file != ":memory:":
        Path(sqlite_file).expanduser().parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, SCHEMA_ATTEMPTS + 1):
        try:
            return optuna.storages.RDBStorage(url)
        except Exception as error:  # sqlalchemy raises many kinds; the first line says enough
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            race = any(sign in f"{type(error).__name__} {error}" for sign in RACE_SIGNS)
            if race and attempt < SCHEMA_ATTEMPTS:
                time.sleep(0.2 * attempt)
                continue
            raise SearchError(
                f"hydra.sweeper.storage={_masked(url)} cannot be used: "
                f"{type(error).__name__}: {first_line}"
            ) from None
    raise AssertionError("unreachable")


def check_search_space(distributions: dict[str, Any]) -> None:
    """Refuse intervals a sampler cannot draw from (low >= high)."""
    if not distributions:
        raise SearchError(
            "the search space is empty: set hydra.sweeper.params or pass e.g. "
            "'optim.lr=tag(log, interval(0.0001, 0.1))'"
        )
    for name, distribution in distributions.items():
        low, high = getattr(distribution, "low", None), getattr(distribution, "high", None)
        if low is not None and high is not None and not low < high:
            raise SearchError(
                f"search interval for {name} is empty or inverted: "
                f"low={low}, high={high} (need low < high)"
            )


def next_job_number(sweep_dir: Path) -> int:
    """One past the highest numbered job folder already in `sweep_dir` (0 if none)."""
    numbers = [int(p.name) for p in sweep_dir.glob("*") if p.is_dir() and p.name.isdigit()]
    return max(numbers, default=-1) + 1


def run_status(job_dir: str | Path) -> tuple[str, str | None]:
    """(status, reason) from a job folder's metrics.json, or ("missing", why)."""
    try:
        record = json.loads((Path(job_dir) / "metrics.json").read_text())
        return str(record.get("status")), record.get("reason")
    except (OSError, ValueError) as error:
        return "missing", f"metrics.json unreadable: {error}"


def finished_trials(study: Any) -> list[Any]:
    import optuna

    done = (
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.FAIL,
        optuna.trial.TrialState.PRUNED,
    )
    return [t for t in study.get_trials(deepcopy=False) if t.state in done]


def succeeded(trial: Any) -> bool:
    """A trial whose run finished with status ok and a finite value."""
    ok = trial.user_attrs.get("status", "ok") == "ok"
    return ok and trial.value is not None and math.isfinite(trial.value)


def write_report(study: Any, sweep_dir: Path, storage: str | None) -> dict[str, Any]:
    """trials.csv, best_trial.yaml and the two Optuna plots; returns the best-trial record."""
    from sweeper.artifacts import atomic_write, save_figure, write_csv

    sweep_dir.mkdir(parents=True, exist_ok=True)
    trials = finished_trials(study)
    write_csv(sweep_dir / "trials.csv", study.trials_dataframe())
    good = [t for t in trials if succeeded(t)]
    record: dict[str, Any] = {
        "study": study.study_name,
        "storage": _masked(storage),
        "direction": study.direction.name.lower(),
        "finished_trials": len(trials),
        "failed_trials": len(trials) - len(good),
    }
    if good:
        pick = min if study.direction.name == "MINIMIZE" else max
        best = pick(good, key=lambda t: t.value)
        record["best"] = {
            "number": best.number,
            "value": best.value,
            "params": best.params,
            "job_dir": best.user_attrs.get("job_dir"),
        }
    text = OmegaConf.to_yaml(OmegaConf.create(record))
    atomic_write(sweep_dir / "best_trial.yaml", lambda tmp: tmp.write_text(text))
    if good:
        import matplotlib

        matplotlib.use("Agg")
        from optuna.visualization import matplotlib as optuna_plots

        with warnings.catch_warnings():  # Optuna marks its matplotlib plots experimental
            warnings.simplefilter("ignore")
            for name, plot in (
                ("optimization_history.png", optuna_plots.plot_optimization_history),
                ("param_slices.png", optuna_plots.plot_slice),
            ):
                axes = plot(study)
                first = axes.flat[0] if hasattr(axes, "flat") else axes
                save_figure(sweep_dir / name, first.figure)
    return record


class _RecordingLauncher:
    """Wraps the real launcher: tags each trial with its job folder and run status."""

    def __init__(self, launcher: Any, pending: list[Any]) -> None:
        self.launcher = launcher
        self.pending = pending  # the trials of the batch being launched, in order

    def launch(self, job_overrides: Any, initial_job_idx: int) -> Any:
        returns = self.launcher.launch(job_overrides, initial_job_idx=initial_job_idx)
        for trial, ret in zip(self.pending, returns):
            # The job's output folder (working_dir is the launch folder unless Hydra chdirs).
            hydra_cfg = getattr(ret, "hydra_cfg", None)
            job_dir = OmegaConf.select(hydra_cfg, "hydra.runtime.output_dir") if hydra_cfg else None
            if job_dir:
                status, reason = run_status(job_dir)
                trial.set_user_attr("job_dir", str(Path(job_dir).resolve()))
                trial.set_user_attr("status", status)
                if reason:
                    trial.set_user_attr("reason", str(reason)[:500])
        return returns


class SearchSweeper(Sweeper):
    """hydra-optuna-sweeper plus the checks, resume and reports described above."""

    def __init__(self, total_trials: bool = False, **optuna_settings: Any) -> None:
        from hydra_plugins.hydra_optuna_sweeper._impl import OptunaSweeperImpl

        pending: list[Any] = []

        class Impl(OptunaSweeperImpl):
            def _configure_trials(self, trials, *args):  # type: ignore[no-untyped-def]
                pending[:] = trials
                return super()._configure_trials(trials, *args)

        self.impl = Impl(**optuna_settings)
        self.pending = pending
        self.total_trials = total_trials

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.impl.setup(hydra_context=hydra_context, task_function=task_function, config=config)
        self.impl.launcher = _RecordingLauncher(self.impl.launcher, self.pending)
        self.sweep_dir = Path(config.hydra.sweep.dir)

    def sweep(self, arguments: list[str]) -> None:
        try:
            study = self._prepare(arguments)
        except SearchError as error:
            print(f"sweeper: error: {error}", file=sys.stderr)
            sys.exit(2)
        impl = self.impl
        if impl.n_trials > 0:
            log.info(
                "study %s in %s: %d trials before this run, %d to run now",
                study.study_name,
                _masked(impl.storage),
                len(finished_trials(study)),
                impl.n_trials,
            )
            try:
                impl.sweep(arguments)
            except ValueError as error:
                if "No trials are completed yet" not in str(error):
                    raise
        else:
            log.info(
                "study %s already has %d finished trials: nothing left to run",
                study.study_name,
                len(finished_trials(study)),
            )
        if impl.storage is not None:  # in memory: the study lives in the trials' own object
            study = _load(study.study_name, impl.storage)
        elif self.pending:
            study = self.pending[0].study
        record = write_report(study, self.sweep_dir, impl.storage)
        if "best" in record:
            best = record["best"]
            log.info(
                "best trial %d: value %s, params %s, folder %s",
                best["number"],
                best["value"],
                best["params"],
                best["job_dir"],
            )
        elif record["finished_trials"]:
            from sweeper.collect import collect

            collect(self.sweep_dir)
            print(
                f"sweeper: error: all {record['finished_trials']} trials of study "
                f"{record['study']} failed; reasons in {self.sweep_dir}/summary.md",
                file=sys.stderr,
            )
            sys.exit(1)

    def _prepare(self, arguments: list[str]) -> Any:
        """Checks and set-up before any trial; returns the (created or loaded) study."""
        import optuna
        from hydra_plugins.hydra_optuna_sweeper._impl import create_params_from_overrides

        impl = self.impl
        impl._process_searchspace_config()
        distributions = dict(impl.search_space_distributions or {})
        for override in impl._parse_sweeper_params_config() + list(arguments):
            try:  # one at a time, so an error can name its key
                distributions.update(create_params_from_overrides([override])[0])
            except Exception as error:  # Optuna refuses e.g. low > high, or log from 0
                key = override.split("=", 1)[0]
                raise SearchError(f"search space for {key}: {error}") from None
        check_search_space(distributions)
        storage = connect_storage(impl.storage)
        directions = impl._get_directions()
        for attempt in range(1, SCHEMA_ATTEMPTS + 1):
            try:
                study = optuna.create_study(
                    study_name=impl.study_name,
                    storage=storage,
                    directions=directions,
                    load_if_exists=True,
                )
                break
            except Exception as error:  # two workers creating one study at the same moment
                if attempt == SCHEMA_ATTEMPTS or storage is None:
                    raise SearchError(f"cannot create study {impl.study_name}: {error}") from None
                time.sleep(0.2 * attempt)
        before = len(finished_trials(study))
        if before and hasattr(impl.sampler, "reseed_rng"):
            impl.sampler.reseed_rng()  # a seeded sampler would repeat its first suggestions
        if self.total_trials:
            impl.n_trials = max(0, impl.n_trials - before)
        impl.job_idx = next_job_number(self.sweep_dir)
        return study


def _load(study_name: str, storage: str) -> Any:
    import optuna

    return optuna.load_study(study_name=study_name, storage=storage)
