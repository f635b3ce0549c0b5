"""`logger=tensorboard`: each job's curves and hyperparameters in TensorBoard event files.

Per job one event folder (`<sweep folder>/tensorboard/<job>` in a multirun,
`<run folder>/tensorboard` for a single run, or under `logger.tensorboard.log_dir`):

- every epoch: the history.csv values as scalars at step = epoch (`train_loss`,
  `val_loss`, `val_accuracy`, `val_exact_accuracy`, `lr`, `seconds`, ...);
- at the start: the job's hyperparameters (its settings and overrides,
  `sweeper.loggers.base.job_params`) as the HParams plugin's session start,
  whose trial id names the job and its sweep (`3 (multirun/2026-11-29/10-00-00)`);
- at the end: metrics.json's metrics as `final/<metric>` scalars, `final/objective`,
  and the session's end with its status (ok: success, failed: failure,
  interrupted: unknown, as the plugin has no status for a stopped run that may resume).

No experiment summary is written, so TensorBoard's HParams tab builds the
comparison from every job's hyperparameters and scalars: the whole sweep, even
when jobs of a folder set different keys. `tensorboard --logdir <sweep>/tensorboard`.

Events are written through `torch.utils.tensorboard.SummaryWriter` (torch's public
writer; it needs the `tensorboard` package: `pip install "sweeper[tensorboard]"`),
and the hparams records are built with TensorBoard's own `hparams_pb` and plugin
metadata, which need no TensorFlow.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

from sweeper.loggers.base import (
    Guarded,
    JobPlace,
    epoch_values,
    final_metrics,
    job_params,
    label,
    missing_package,
)

if TYPE_CHECKING:
    from sweeper.core.record import RunRecord

# metrics.json status -> the HParams plugin's session status (api_pb2.Status names).
STATUS = {"ok": "STATUS_SUCCESS", "failed": "STATUS_FAILURE", "interrupted": "STATUS_UNKNOWN"}


def event_dir(settings: DictConfig | None, place: JobPlace) -> Path:
    """Where the job's events go: see the module docstring and conf/logger/tensorboard.yaml."""
    log_dir = None if settings is None else settings.get("log_dir")
    if log_dir is None:
        if place.sweep_dir is not None:
            return place.sweep_dir / "tensorboard" / place.job
        return place.out_dir / "tensorboard"
    if place.sweep_dir is not None:
        return Path(str(log_dir)) / label(place.sweep_dir) / place.job
    return Path(str(log_dir)) / label(place.out_dir)


class TensorBoardLogger(Guarded):
    """Writes one job's scalars and HParams session into `event_dir`."""

    name = "tensorboard"

    def __init__(self, cfg: DictConfig, place: JobPlace) -> None:
        super().__init__()
        self.dir = event_dir(cfg.logger.get("tensorboard"), place)
        # The HParams table's "Trial ID", `3 (multirun/2026-11-29/10-00-00)`: the job first
        # (the column is narrow), unique across sweeps so that jobs of several sweeps shown
        # together are never merged into one session group.
        where = label(place.sweep_dir or place.out_dir.parent)
        self.trial = f"{place.job} ({where})"
        self.writer: Any = None
        self.step = 0
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            self.fail(missing_package("tensorboard", "tensorboard"))
            return
        params = job_params(cfg)
        self.writer = self.guard(f"cannot write to {self.dir}", lambda: self._open(SummaryWriter))
        self.guard(f"cannot write to {self.dir}", lambda: self._start(params))

    def _open(self, writer_class: type) -> Any:
        self.dir.mkdir(parents=True, exist_ok=True)
        return writer_class(log_dir=str(self.dir))

    def _start(self, params: dict[str, Any]) -> None:
        from tensorboard.plugins.hparams.summary_v2 import hparams_pb

        start = hparams_pb(params, trial_id=self.trial, start_time_secs=time.time())
        self.writer.file_writer.add_summary(start)
        self.writer.flush()

    def epoch_end(self, row: dict[str, Any]) -> None:
        """The epoch's history values as scalars at step = epoch."""
        self.step = int(row["epoch"])
        self.guard(f"cannot write to {self.dir}", lambda: self._scalars(epoch_values(row)))

    def _scalars(self, values: dict[str, float]) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, value, self.step)
        self.writer.flush()

    def run_end(self, record: RunRecord) -> None:
        """The final metrics and the session's end; then the writer is closed."""
        if self.writer is not None:
            epochs = record.metrics.get("epochs_run")
            if isinstance(epochs, (int, float)):
                self.step = int(epochs)
            self.guard(f"cannot write to {self.dir}", lambda: self._end(record))
            writer, self.writer = self.writer, None
            self.guard(f"cannot write to {self.dir}", writer.close)
        self.report(record)

    def _end(self, record: RunRecord) -> None:
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

        for tag, value in final_metrics(record).items():
            self.writer.add_scalar(tag, value, self.step)
        status = api_pb2.Status.Value(STATUS.get(record.status, "STATUS_UNKNOWN"))
        end = plugin_data_pb2.HParamsPluginData(
            session_end_info=plugin_data_pb2.SessionEndInfo(
                status=status, end_time_secs=time.time()
            )
        )
        summary = Summary()
        summary.value.add(
            tag=metadata.SESSION_END_INFO_TAG,
            metadata=metadata.create_summary_metadata(end),
            tensor=metadata.NULL_TENSOR,
        )
        self.writer.file_writer.add_summary(summary, self.step)
        self.writer.flush()
