"""Stopping a search's hopeless trials early: Optuna pruning across the sweeper and its jobs.

hydra-optuna-sweeper cannot prune because the trial object lives in the sweeper
while training runs in the job. Here both sides share the study's storage:

- the sweeper (`sweeper.sweeps.search`) reads the `pruner` config group
  (`pruner=median`, `successive_halving`, `hyperband`; `none` by default) with
  `check_pruning`, before any trial, refusing in one line an unknown pruner, an
  option the pruner lacks or of the wrong type, an objective with no per-epoch
  counterpart, a multi-objective study, or a study the jobs cannot reach (in
  memory); it creates the study with that pruner and passes each job its trial
  (`trial_overrides`: `pruning.storage`, `pruning.study`, `pruning.trial`);
- the job (`sweeper.run.observers.build_observers`) gets a `PruningObserver`, which
  after every epoch reports the objective's validation counterpart
  (`epoch_metric`: `test_accuracy` -> `val_accuracy`, `val_loss` -> `val_loss`)
  as `trial.report(value, epoch)` and raises `Pruned` when `trial.should_prune()`;
  `sweeper.core.train` records that as `status: pruned` with `pruned_at_epoch` (its
  history.csv kept, no model.pt: a pruned run is not tested);
- the sweeper tells the trial PRUNED (`tell_pruned`; Optuna keeps its last
  reported value), and `sweeper.sweeps.search.mark_pruned` draws pruned trials on the
  history plot.

Pruning never costs a trial: a job that cannot reach the study, or whose report
fails (a briefly locked database), logs a warning and trains on unpruned.
Optuna is imported lazily, only where pruning is on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from sweeper.core.config import ConfigError
from sweeper.core.metrics import epoch_counterpart, epoch_metrics
from sweeper.core.observers import Pruned
from sweeper.core.private_apis import trial_handle
from sweeper.core.record import run_status
from sweeper.reports.results import TRIAL_KEYS
from sweeper.tasks.base import task_class
from sweeper.trials.reporting import job_storage
from sweeper.trials.reporting import quoted as _quoted
from sweeper.trials.reporting import rdb_storage as _storage

log = logging.getLogger(__name__)


def _int_at_least(low: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            return f"must be an integer >= {low}"
        return None

    return check


def _int_or_auto(low: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value == "auto" or _int_at_least(low)(value) is None:
            return None
        return f"must be auto or an integer >= {low}"

    return check


# Each pruner's options (Optuna's own keyword names) and what each must be.
PRUNERS: dict[str, dict[str, Callable[[Any], str | None]]] = {
    "none": {},
    "median": {
        "n_startup_trials": _int_at_least(0),
        "n_warmup_steps": _int_at_least(0),
        "interval_steps": _int_at_least(1),
        "n_min_trials": _int_at_least(1),
    },
    "successive_halving": {
        "min_resource": _int_or_auto(1),
        "reduction_factor": _int_at_least(2),
        "min_early_stopping_rate": _int_at_least(0),
        "bootstrap_count": _int_at_least(0),
    },
    "hyperband": {
        "min_resource": _int_at_least(1),
        "max_resource": _int_or_auto(1),
        "reduction_factor": _int_at_least(2),
        "bootstrap_count": _int_at_least(0),
    },
}


def pruner_settings(cfg: DictConfig) -> tuple[str, dict[str, Any]]:
    """(name, options) of `cfg.pruner` (`none` when absent), checked.

    Raises ConfigError (one line naming the key) for an unknown pruner, an option
    it does not take, or a value of the wrong type or range."""
    node = OmegaConf.select(cfg, "pruner", default=None)
    if node is None:
        return "none", {}
    if not isinstance(node, DictConfig):
        raise ConfigError(f"pruner={node!r} must be a pruner config (e.g. pruner=median)")
    try:
        options = OmegaConf.to_container(node, resolve=True)
    except Exception as error:  # an interpolation that cannot be resolved
        raise ConfigError(f"pruner: {str(error).splitlines()[0]}") from None
    assert isinstance(options, dict)
    name = options.pop("name", None)
    if name not in PRUNERS:
        raise ConfigError(
            f"pruner.name={name!r} is not a pruner: choose one of {', '.join(PRUNERS)} "
            "(e.g. pruner=median)"
        )
    allowed = PRUNERS[name]
    for key, value in options.items():
        if key not in allowed:
            takes = ", ".join(allowed) or "no options"
            raise ConfigError(
                f"pruner.{key} is not an option of the {name} pruner (it takes {takes})"
            )
        why = allowed[key](value)
        if why:
            raw = str(OmegaConf.to_container(node, resolve=False).get(key))
            source = re.fullmatch(r"\$\{([\w.]+)\}", raw)  # the per-task default it reads
            where = f" (from {source.group(1)})" if source else ""
            raise ConfigError(f"pruner.{key}={value!r}{where} {why}")
    low, high = options.get("min_resource", 1), options.get("max_resource", "auto")
    if name == "hyperband" and high != "auto" and high < low:
        raise ConfigError(
            f"pruner.max_resource={high} is below pruner.min_resource={low}: "
            "hyperband needs min_resource <= max_resource (epochs)"
        )
    return str(name), options


def unknown_pruner(args: list[str]) -> str | None:
    """The one-line refusal of a command line's `pruner=NAME` that names no pruner, or None.

    Hydra would refuse the missing group option too, over several lines and with exit 1."""
    for arg in args:
        key, sep, value = arg.partition("=")
        plain = re.fullmatch(r"[\w.-]+", value) is not None  # not a sweep (a,b / choice(...))
        if sep and key.lstrip("+~") == "pruner" and plain and value not in PRUNERS:
            return f"pruner={value} is not a pruner: choose one of {', '.join(PRUNERS)}"
    return None


def make_pruner(name: str, options: dict[str, Any]) -> Any:
    """The Optuna pruner `name` with `options` (None for `none`); ConfigError if Optuna
    refuses the combination (e.g. hyperband's max_resource below min_resource)."""
    if name == "none":
        return None
    import optuna

    cls = {
        "median": optuna.pruners.MedianPruner,
        "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
        "hyperband": optuna.pruners.HyperbandPruner,
    }[name]
    try:
        return cls(**options)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"pruner={name}: {str(error).splitlines()[0]}") from None


def epoch_metric(cfg: DictConfig) -> str:
    """The history.csv column a pruned search reports after every epoch for `objective.metric`:
    the metric itself if history.csv has it, `val_<x>` for a test split's `<split>_<x>`
    (`test_accuracy`, `extrapolation_accuracy` -> `val_accuracy`).

    Raises ConfigError for a metric with no per-epoch counterpart (`epochs_run`,
    `parameters`) or a list of metrics (a multi-objective study cannot be pruned)."""

    metric = OmegaConf.select(cfg, "objective.metric", default=None)
    if isinstance(metric, (list, tuple, ListConfig)):
        raise ConfigError(
            f"objective.metric=[{','.join(map(str, metric))}]: Optuna cannot prune a "
            "multi-objective study; "
            "use pruner=none"
        )
    cls = task_class(OmegaConf.select(cfg, "task._target_"))
    found = epoch_counterpart(str(metric), cls.target, cls.splits(cfg.task))
    if found is not None:
        return found
    columns = epoch_metrics(cls.target)
    raise ConfigError(
        f"objective.metric={metric} has no per-epoch value to prune on (history.csv has "
        f"{', '.join(columns)}); choose one of those or a test metric, or use pruner=none"
    )


def check_pruning(cfg: DictConfig, storage: str | None) -> Any:
    """The Optuna pruner a search over config `cfg` (study in `storage`) uses, or None.

    Everything is checked before any trial: ConfigError (one line) for the pruner's
    name and options (`pruner_settings`), an objective without a per-epoch value
    (`epoch_metric`), and an in-memory study, which the jobs cannot reach."""
    name, options = pruner_settings(cfg)
    if name == "none":
        return None
    if storage is None:
        raise ConfigError(
            f"pruner={name} needs a study its jobs can reach: set hydra.sweeper.storage "
            "(e.g. sqlite:///search.db), not null"
        )
    epoch_metric(cfg)
    return make_pruner(name, options)


def trial_overrides(storage: str, study_name: str, number: int) -> list[str]:
    """The overrides that tell a search's job its study and trial (`TRIAL_KEYS`, `pruning.*`
    in config.yaml; collect leaves them out of results.csv's setting columns)."""
    values = (_quoted(job_storage(storage)), _quoted(study_name), str(number))
    return [f"{key}={value}" for key, value in zip(TRIAL_KEYS, values)]


class PruningObserver:
    """Reports a search trial's per-epoch validation value and stops it when the pruner says so.

    `epoch_end(row)` raises `Pruned` when `trial.should_prune()`; any error reaching
    the study is logged once and the run trains on unpruned."""

    def __init__(self, cfg: DictConfig) -> None:
        self.metric = epoch_metric(cfg)
        self.name, options = pruner_settings(cfg)
        self.pruner = make_pruner(self.name, options)
        self.storage = str(cfg.pruning.storage)
        self.study_name = str(cfg.pruning.study)
        self.number = int(cfg.pruning.trial)
        self.trial: Any = None
        self.broken = False

    def _connect(self) -> Any:
        """The job's handle on its trial, through the storage's public lookups."""
        import optuna

        storage = _storage(self.storage)
        study = optuna.load_study(study_name=self.study_name, storage=storage, pruner=self.pruner)
        return trial_handle(study, self.number)

    def epoch_end(self, row: dict[str, Any]) -> None:
        """Report `row[metric]` at step `row["epoch"]`; raise Pruned if the pruner says so."""
        if self.broken:
            return
        value, epoch = float(row[self.metric]), int(row["epoch"])
        try:
            if self.trial is None:
                self.trial = self._connect()
            self.trial.report(value, epoch)
            prune = self.trial.should_prune()
        except Exception as error:  # noqa: BLE001 - pruning is an optimisation, never fatal
            log.warning(
                "pruning off for this run: trial %d of study %s: %s: %s",
                self.number,
                self.study_name,
                type(error).__name__,
                str(error).splitlines()[0] if str(error) else "",
            )
            self.broken = True
            return
        if prune:
            raise Pruned(epoch, self.metric, value, self.name)

    def run_end(self, record: Any) -> None:
        """Nothing to add: `sweeper.core.train` records a pruned run itself."""


def pruning_observer(cfg: DictConfig) -> PruningObserver | None:
    """The observer of a search job whose pruner is on, else None (a pruner chosen outside
    a search is logged and ignored). Raises ConfigError for a pruner it cannot use."""
    name, _ = pruner_settings(cfg)
    if name == "none":
        return None
    if OmegaConf.select(cfg, "pruning.trial", default=None) is None:
        log.warning("pruner=%s is ignored: only an Optuna search (hparams_search=...) prunes", name)
        return None
    return PruningObserver(cfg)


def tell_pruned(study: Any, trial: Any, cfg: DictConfig) -> None:
    """Tell `trial` (asked by this process) PRUNED, with its job's last reported value.

    Optuna takes a pruned trial's value from its last intermediate value, but the
    asking process's cached view does not see what the job reported; the value and
    epoch are re-reported here from the job's metrics.json (`user_attrs["job_dir"]`)."""
    import optuna

    found = run_status(trial.user_attrs.get("job_dir") or "")
    record = found.record or {}
    value = (record.get("metrics") or {}).get(epoch_metric(cfg))
    epoch = record.get("pruned_at_epoch")
    if isinstance(value, (int, float)) and isinstance(epoch, int):
        trial.report(float(value), epoch)
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
