"""What every experiment logger shares: where its job stands, what it logs, how it fails.

A logger is an `EpochObserver` (sweeper.core.observers) that copies a run's numbers into
a tracker (TensorBoard, MLflow). It must never cost the run anything: `Guarded`
catches whatever the tracker raises (a missing package, an unreachable server, an
unwritable folder), logs one warning line for the job, stops using the tracker
and adds the line to metrics.json's `logger_errors`. Later failures of the same
logger in the same job are not reported again.

`JobPlace` says where a job stands (its sweep folder and its name inside it, from
Hydra's runtime config when Hydra runs it); `job_params` is what a logger records
as the job's hyperparameters: its settings (metrics.json's `settings`, as
configured) and its command-line overrides; `final_metrics` the run's metrics.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from omegaconf import DictConfig, ListConfig, OmegaConf

from sweeper.core.train import run_settings
from sweeper.reports.results import parse_overrides

if TYPE_CHECKING:
    from sweeper.core.record import RunRecord

log = logging.getLogger("sweeper.loggers")

# Settings that metrics.json records as the run ran them (`auto` -> `cpu`): known only at
# the end, so trackers get them then, not among the parameters logged at the start.
RAN_AS = ("device.name", "device.threads", "trainer.precision")
# A history row's `epoch` is the step every logger records the row's other values at
# (the task's per-epoch metrics, `sweeper.core.metrics.epoch_metrics`, then lr and seconds).
STEP_KEY = "epoch"
# The run's metrics.json metrics and objective go under this prefix (`final/test_accuracy`),
# apart from the per-epoch curves of the same name (`val_accuracy` per epoch vs the best
# epoch's `final/val_accuracy`).
FINAL = "final/"

T = TypeVar("T")
Scalar = str | int | float | bool


@dataclass
class JobPlace:
    """Where a job writes: `out_dir` (its folder), `sweep_dir` (its multirun's folder, None
    for a single run) and `job` (its folder relative to the sweep folder: `0`, `adder/3`;
    the run folder's name for a single run)."""

    out_dir: Path
    sweep_dir: Path | None
    job: str

    @classmethod
    def of(cls, out_dir: Path) -> JobPlace:
        """The place of the job writing into `out_dir`, from Hydra's runtime config when
        Hydra runs the job in a multirun (else a single run)."""
        out_dir = Path(out_dir).absolute()
        sweep_dir = _hydra_sweep_dir()
        if sweep_dir is not None:
            try:
                return cls(out_dir, sweep_dir, out_dir.relative_to(sweep_dir).as_posix())
            except ValueError:  # output_dir moved outside the sweep folder
                return cls(out_dir, sweep_dir, out_dir.name)
        return cls(out_dir, None, out_dir.name)


def _hydra_sweep_dir() -> Path | None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        return None
    return Path(str(hydra_cfg.sweep.dir)).absolute()


def label(path: Path) -> str:
    """`path` relative to the current folder when inside it (`multirun/2026-11-29/10-00-00`),
    else without its root (`scratch/me/multirun/...`): a name for a sweep or run."""
    path = Path(path).absolute()
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.relative_to(path.anchor).as_posix()


def job_overrides() -> dict[str, str]:
    """The job's command-line overrides (`{"model.hidden": "3", "loss": "mse"}`), without
    Hydra's own and `logger`; empty when Hydra does not run the job."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return {}
    lines = list(HydraConfig.get().overrides.task)
    return {k: v for k, v in parse_overrides(lines).items() if k.split(".")[0] != "logger"}


def job_params(cfg: DictConfig) -> dict[str, Scalar]:
    """The job's hyperparameters for a tracker: metrics.json's settings as configured
    (`model.hidden`, `optim.lr`, `loss.name`, ...; not the RAN_AS ones, known at the end)
    and each other override with its config value (`task.train_size` 512). A group choice
    (`loss=mse`, `model=gru`) is left out: the settings hold its keys (`loss.name`, ...).
    Values are str, int, float or bool; null becomes "null", a list its text."""
    params: dict[str, Scalar] = {}
    for key, value in run_settings(cfg).items():
        if key not in RAN_AS:
            params[key] = scalar(value)
    for key, text in job_overrides().items():
        if key not in params:
            value = _select(cfg, key)
            if isinstance(value, DictConfig):  # a group choice (`loss=mse`): its keys are there
                continue
            params[key] = text if value is None else scalar(value)
    return params


def _select(cfg: DictConfig, key: str) -> Any:
    """`cfg`'s value at `key` as a plain value (a list for a ListConfig), None if absent."""
    try:
        value = OmegaConf.select(cfg, key, default=None)
    except Exception:  # an interpolation that cannot be resolved
        return None
    if isinstance(value, ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    return value


def ran_as(record: RunRecord) -> dict[str, Scalar]:
    """The RAN_AS settings of a finished run's record (device and precision as they ran)."""
    return {k: scalar(record.settings[k]) for k in RAN_AS if k in record.settings}


def scalar(value: Any) -> Scalar:
    """A setting as a tracker can hold it: str, int, float or bool (None -> "null", a list
    -> `[a,b]`)."""
    if value is None:
        return "null"
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(str(scalar(v)) for v in value) + "]"
    return str(value)


def epoch_values(row: dict[str, Any]) -> dict[str, float]:
    """The finite numbers of a history row but its `epoch` (NaN of a diverged epoch left out):
    the task's per-epoch metrics, `lr`, `train_seconds`, `seconds`."""
    values = {}
    for key, value in row.items():
        if key == STEP_KEY or isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and math.isfinite(value):
            values[key] = float(value)
    return values


def final_metrics(record: RunRecord) -> dict[str, float]:
    """`final/<metric>` for each finite metric of the record, and `final/objective`."""
    values = {f"{FINAL}{k}": float(v) for k, v in record.metrics.items()}
    if record.objective is not None:
        values[f"{FINAL}objective"] = float(record.objective)
    return {k: v for k, v in values.items() if math.isfinite(v)}


def one_line(error: BaseException) -> str:
    """`error` as one short line: its first line, or its class name when it has no text."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    return first if len(first) <= 300 else first[:297] + "..."


class Guarded:
    """Base of a logger: `guard(what, action)` runs one tracker call; the first failure is
    reported once (one warning line, kept for metrics.json) and disables the logger."""

    name = "logger"

    def __init__(self) -> None:
        self.error: str | None = None

    @property
    def alive(self) -> bool:
        return self.error is None

    def guard(self, what: str, action: Callable[[], T]) -> T | None:
        """`action()`, or None when the logger is off or `action` raises (then it is off)."""
        if self.error is not None:
            return None
        try:
            return action()
        except Exception as error:  # a tracker never fails the run
            self.fail(f"{what}: {self.describe(error)}")
            return None

    def describe(self, error: Exception) -> str:
        """`error` in the one line reported (a tracker may shorten its own messages)."""
        return one_line(error)

    def fail(self, message: str) -> None:
        """Turn the logger off with `message`, reported once on one line."""
        if self.error is None:
            self.error = f"{self.name}: {message}"
            log.warning(
                "sweeper: warning: logger %s; the run goes on without it (see metrics.json)",
                self.error,
            )

    def report(self, record: RunRecord) -> None:
        """Add this logger's failure, if any, to the record's `logger_errors`."""
        if self.error is not None and self.error not in record.logger_errors:
            record.logger_errors.append(self.error)


def missing_package(name: str, extra: str) -> str:
    """The one line for a tracker package that is not installed."""
    return f"the {name} package is not installed (pip install 'sweeper[{extra}]')"
