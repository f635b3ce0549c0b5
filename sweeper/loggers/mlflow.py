"""`logger=mlflow`: one MLflow run per job, one experiment per sweep.

Through `mlflow.MlflowClient` (no global active run, so nothing leaks between jobs
of one process), into `logger.mlflow.tracking_uri` (default
`sqlite:///mlruns/mlflow.db`: a local store beside `outputs/` and `multirun/`;
any MLflow URI works, e.g. `http://server:5000`):

- the experiment: `logger.mlflow.experiment`, or the sweep folder's name
  (`multirun/2026-11-29/10-00-00`) for a multirun job and the task's name for a
  single run; created by the first job that needs it;
- the run: named `<job>: <overrides>`, tagged `sweeper.sweep`, `sweeper.job`,
  `sweeper.job_dir`; params = the job's settings and overrides
  (`sweeper.loggers.base.job_params`), and at the end the device and precision
  as they ran;
- every epoch: the history.csv values as metrics at step = epoch;
- at the end: metrics.json's metrics as `final/<metric>` and `final/objective`,
  tags `sweeper.status` (and `sweeper.reason`), the job's files as artifacts
  (history.csv, by_length.csv, the figures, model.pt, train.log, .hydra/, and
  metrics.json as written), and the run's status: FINISHED (ok), FAILED
  (failed), KILLED (interrupted).

An unreachable server costs each job at most a few seconds: unless the user set
them, MLflow's HTTP retries and timeout are lowered (`MLFLOW_HTTP_REQUEST_MAX_RETRIES`
2, `MLFLOW_HTTP_REQUEST_TIMEOUT` 10 s) in the job's process. A database URI (SQLite,
PostgreSQL, MySQL, MSSQL) is checked first with a 5 s connect timeout, and opened
under a lock so parallel jobs do not race to create a new store
(`sweeper.loggers.mlflow_store`). Passwords in the URI are shown as `***`.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

from sweeper.loggers.base import (
    Guarded,
    JobPlace,
    epoch_values,
    final_metrics,
    job_overrides,
    job_params,
    label,
    missing_package,
    one_line,
    ran_as,
)
from sweeper.loggers.mlflow_store import (
    StoreError,
    check_database,
    local_store,
    shown_uri,
    store_lock,
)

if TYPE_CHECKING:
    from sweeper.core.record import RunRecord

DEFAULT_URI = "sqlite:///mlruns/mlflow.db"
# metrics.json status -> MLflow run status.
STATUS = {"ok": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}
# Files of a job folder that are not the run's results: the resume state and the lock.
NOT_ARTIFACTS = {"checkpoint.pt", ".lock", "metrics.json"}
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
MAX_PARAM = 6000  # MLflow's limit on a param value's length
MAX_NAME = 250
# What a failed connection comes down to, inside MLflow's and urllib3's long messages.
OS_ERROR = re.compile(r"\[Errno -?\d+\] [^'\")]+")
TIMED_OUT = re.compile(r"(?:Read|Connect) timed out|ConnectTimeoutError")


def short_reason(error: BaseException) -> str:
    """One short line for a failed MLflow call: `cannot reach it ([Errno 111] Connection
    refused)` for a connection that failed, else the error's first line."""
    text = str(error)
    found = OS_ERROR.search(text)
    if found:
        return f"cannot reach it ({found.group(0).strip()})"
    if TIMED_OUT.search(text):
        return "cannot reach it (timed out)"
    return one_line(error)


def experiment_name(settings: DictConfig, cfg: DictConfig, place: JobPlace) -> str:
    """`logger.mlflow.experiment`, else the sweep folder's name or the task's name."""
    name = settings.get("experiment")
    if name:
        return str(name)
    if place.sweep_dir is not None:
        return label(place.sweep_dir)
    return str(cfg.task.name)


def run_name(place: JobPlace, overrides: dict[str, str]) -> str:
    """`3: model.hidden=10 loss=ce`, at most MAX_NAME characters."""
    text = " ".join(f"{k}={v}" for k, v in overrides.items())
    name = f"{place.job}: {text}" if text else place.job
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 3] + "..."


class MlflowLogger(Guarded):
    """One job's MLflow run: created at the start, terminated by `run_end`."""

    name = "mlflow"

    def describe(self, error: Exception) -> str:
        if isinstance(error, StoreError):  # already one line of ours
            return str(error)
        return short_reason(error)

    def __init__(self, cfg: DictConfig, place: JobPlace) -> None:
        super().__init__()
        settings = cfg.logger.mlflow
        self.uri = str(settings.get("tracking_uri") or DEFAULT_URI)
        self.where = f"tracking URI {shown_uri(self.uri)}"
        self.place = place
        self.log_artifacts = bool(settings.get("log_artifacts", True))
        self.client: Any = None
        self.run_id: str | None = None
        self.experiment = experiment_name(settings, cfg, place)
        for key, value in HTTP_DEFAULTS.items():
            os.environ.setdefault(key, value)
        try:
            from mlflow import MlflowClient
        except ImportError:
            self.fail(missing_package("mlflow", "mlflow"))
            return
        logging.getLogger("alembic").setLevel(logging.WARNING)  # its migration chatter
        # urllib3 logs every retry of an unreachable server: the failure gets one line.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
        overrides = job_overrides()
        params = job_params(cfg)
        opened = self.guard(self.where, lambda: self._connect(MlflowClient))
        if opened is not None:
            self.client, experiment_id = opened
            name = run_name(place, overrides)
            self.run_id = self.guard(self.where, lambda: self._start(experiment_id, name, params))

    def _connect(self, client_class: type) -> tuple[Any, str]:
        """The client and the experiment's id. A database store is checked first (one
        line, no MLflow retries, when it cannot be reached) and opened under a lock, so
        parallel jobs do not race to create its tables or the experiment."""
        store = local_store(self.uri)
        if store is not None:
            try:
                store.parent.mkdir(parents=True, exist_ok=True)
            except FileExistsError:  # a file where a folder of the path should be
                raise RuntimeError(f"cannot make {store.parent}: a file is in the way") from None
            except OSError as error:
                raise RuntimeError(f"cannot make {store.parent}: {error.strerror}") from None
        with store_lock(self.uri):
            check_database(self.uri)
            self.client = client_class(tracking_uri=self.uri)
            return self.client, self._experiment_id()

    def _experiment_id(self) -> str:
        """The experiment's id, creating it (another job may be creating it right now)."""
        experiment = self.client.get_experiment_by_name(self.experiment)
        if experiment is None:
            try:
                return self.client.create_experiment(self.experiment)
            except Exception:  # created meanwhile by a parallel job
                experiment = self.client.get_experiment_by_name(self.experiment)
                if experiment is None:
                    raise
        if experiment.lifecycle_stage != "active":
            raise RuntimeError(
                f"experiment {self.experiment!r} is deleted: restore it "
                "(mlflow experiments restore) or set logger.mlflow.experiment"
            )
        return experiment.experiment_id

    def _start(self, experiment_id: str, name: str, params: dict[str, Any]) -> str:
        from mlflow.entities import Param

        tags = {
            "sweeper.job": self.place.job,
            "sweeper.job_dir": str(self.place.out_dir),
            "sweeper.sweep": label(self.place.sweep_dir or self.place.out_dir),
        }
        run = self.client.create_run(experiment_id, run_name=name, tags=tags)
        run_id = run.info.run_id
        self.client.log_batch(
            run_id, params=[Param(k, str(v)[:MAX_PARAM]) for k, v in params.items()]
        )
        return run_id

    def epoch_end(self, row: dict[str, Any]) -> None:
        """The epoch's history values as metrics at step = epoch."""
        if self.run_id is not None:
            step = int(row["epoch"])
            self.guard(self.where, lambda: self._metrics(epoch_values(row), step))

    def _metrics(self, values: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, step) for k, v in values.items()]
        self.client.log_batch(self.run_id, metrics=metrics)

    def run_end(self, record: RunRecord) -> None:
        """Final metrics, tags and artifacts, then the run's status (even after a failure
        of the rest, so no run stays RUNNING)."""
        if self.run_id is not None:
            self.guard(self.where, lambda: self._end(record))
            status = STATUS.get(record.status, "FAILED")
            try:
                self.client.set_terminated(self.run_id, status)
            except Exception as error:  # reported once, like any other failure
                self.fail(f"{self.where}: {short_reason(error)}")
        self.report(record)

    def _end(self, record: RunRecord) -> None:
        from mlflow.entities import Param, RunTag

        step = int(record.metrics.get("epochs_run") or 0)
        tags = [RunTag("sweeper.status", record.status)]
        if record.reason:
            tags.append(RunTag("sweeper.reason", record.reason[:MAX_PARAM]))
        params = [Param(k, str(v)) for k, v in ran_as(record).items()]
        self._metrics(final_metrics(record), step)
        self.client.log_batch(self.run_id, params=params, tags=tags)
        if self.log_artifacts:
            self._artifacts(record)

    def _artifacts(self, record: RunRecord) -> None:
        out_dir = self.place.out_dir
        for path in sorted(out_dir.iterdir()):
            temporary = path.name.startswith(".") and path.name.endswith(".tmp")
            if path.is_file() and path.name not in NOT_ARTIFACTS and not temporary:
                self.client.log_artifact(self.run_id, str(path))
        hydra_dir = out_dir / ".hydra"
        if hydra_dir.is_dir():
            self.client.log_artifacts(self.run_id, str(hydra_dir), ".hydra")
        self.client.log_dict(self.run_id, record.to_dict(), "metrics.json")
