"""What the training loop tells about each epoch and about the finished run.

`fit` calls every observer's `epoch_end` after each epoch it trains, and `train`
calls `run_end` once with the run's record just before metrics.json is written.
Pruners (stop a search's hopeless trial), experiment loggers (TensorBoard,
MLflow) and the orphan guard (stop a job whose launching process is gone) are
observers; `sweeper.run.observers.build_observers(cfg, out_dir)` is the one
place that decides, from a job's config, which ones a run gets. The loop itself
never knows which observers it has. An observer ends a run early by raising:
`Pruned` (recorded `status: pruned`) or `sweeper.core.interrupt.Interrupted`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from typing import TYPE_CHECKING, Any, Protocol

from sweeper.core.interrupt import Interrupted

if TYPE_CHECKING:
    from sweeper.core.record import RunRecord

log = logging.getLogger(__name__)


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


class Pruned(Exception):
    """The search's pruner stopped this run after `epoch` (its `metric` was `value`)."""

    def __init__(self, epoch: int, metric: str, value: float, pruner: str) -> None:
        why = f"pruned by the {pruner} pruner after epoch {epoch} ({metric} {value:.4g})"
        super().__init__(why)
        self.epoch, self.metric, self.value, self.pruner = epoch, metric, value, pruner


class OrphanGuard:
    """Stops a job whose launching process is gone. A job in a worker process (joblib's
    loky workers) outlives a SIGKILLed search or grid: it would train on unseen and
    write a result for a trial the resumed search has already told FAIL. After every
    epoch it compares `os.getppid()` with the parent's pid at the start (a process
    whose parent died is re-parented; loky's parent handle has no sentinel to wait
    on); the run then ends as interrupted (`interrupted by SIGHUP in epoch N`,
    checkpoint kept), as if its terminal had hung up."""

    def __init__(self, parent_pid: int) -> None:
        self.parent_pid = parent_pid

    def epoch_end(self, row: dict[str, Any]) -> None:
        if os.getppid() != self.parent_pid:
            log.warning(
                "the process that launched this job (pid %s) is gone: stopping after epoch %s",
                self.parent_pid,
                row.get("epoch"),
            )
            raise Interrupted("SIGHUP")

    def run_end(self, record: RunRecord) -> None:
        pass


def orphan_guard() -> OrphanGuard | None:
    """An OrphanGuard for a job running in a multiprocessing child (a joblib worker);
    None in a process of its own (a command line, Hydra's basic launcher, SLURM)."""
    if multiprocessing.parent_process() is None:
        return None
    return OrphanGuard(os.getppid())
