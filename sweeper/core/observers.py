"""What the training loop tells about each epoch and about the finished run.

`fit` calls every observer's `epoch_end` after each epoch it trains, and `train`
calls `run_end` once with the run's record just before metrics.json is written.
Pruners (stop a search's hopeless trial) and experiment loggers (TensorBoard,
MLflow) are observers; `build_observers(cfg, out_dir)` is the one place that
decides, from a job's config, which ones a run gets. The loop itself never
knows which observers it has.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from omegaconf import DictConfig

if TYPE_CHECKING:
    from sweeper.core.record import RunRecord


class EpochObserver(Protocol):
    """Something told about every finished epoch and about the run's end.

    `epoch_end(row)` gets the epoch's history.csv row as a dict (epoch, train_loss,
    val_loss, val_accuracy, val_exact_accuracy for bits tasks, lr, train_seconds,
    seconds) after the epoch's checkpoint is saved. It may raise to end training
    there; `train` records the run by the exception's kind (an unknown one as
    `status: failed`).

    `run_end(record)` gets the run's RunRecord (status, metrics, settings, ...)
    before it is written, whatever the status; it may add to `record` (e.g. a
    logger's failure) and must not raise."""

    def epoch_end(self, row: dict[str, Any]) -> None: ...

    def run_end(self, record: RunRecord) -> None: ...


def build_observers(cfg: DictConfig, out_dir: Path) -> list[EpochObserver]:
    """The observers a run with config `cfg` writing into `out_dir` gets, in call order.

    Raises ConfigError for an observer's settings it cannot use (before the run trains)."""
    from sweeper.loggers import build_loggers
    from sweeper.sweeps.pruning import pruning_observer

    observers: list[EpochObserver] = []
    pruner = pruning_observer(cfg)  # a search's trial with a pruner on
    if pruner is not None:
        observers.append(pruner)
    observers.extend(build_loggers(cfg, out_dir))
    return observers
