"""No Optuna trial stays RUNNING forever: heartbeats while trials run, stale ones failed on start.

hydra-optuna-sweeper asks and tells trials itself, so nothing records Optuna's
own heartbeats, and a search killed mid-trial (SIGKILL, a lost machine) leaves
its trials RUNNING in the study for good. Each running trial of a search here
carries two system attributes:

- `sweeper:worker`: the process that owns it, `HOST/BOOT:PID` (host name, the
  machine's boot id, process id);
- `sweeper:heartbeat`: the owner's clock (Unix seconds), written when the trial is
  asked and then every `heartbeat_interval` seconds by a thread (`Heartbeat`).

When a search starts, `fail_stale_trials` marks FAIL (user attrs `status:
interrupted`, `reason: stale: ...`) each RUNNING trial of the study that is

1. owned by a process of this machine that no longer exists (killed and re-run
   at once: failed at once), or
2. without a heartbeat for more than `grace_period` seconds (a worker on another
   machine, or one whose process id is reused), or
3. without any heartbeat (a trial from before this code, or a worker that died
   between asking and its first beat): if its job folder holds a finished
   metrics.json the trial is told from it (ok: COMPLETE with its objective;
   pruned: PRUNED); if not, it is stale once it started more than `grace_period`
   seconds ago.

A trial a live worker is running always has a heartbeat younger than
`grace_period` (when that is a few heartbeat intervals) and a live owner, so it
is never failed. Attributes are written through the storage's public API
(`set_trial_system_attr`, `set_trial_user_attr`, with the trial's id from
`get_trial_id_from_study_id_trial_number`): Optuna 4 removed `Trial.set_system_attr`,
and a trial this process did not ask has no public handle. Optuna's own RDB
heartbeat is not used: it beats only inside `study.optimize`, not for trials run
by ask and tell.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from sweeper.core.private_apis import study_storage, trial_id
from sweeper.core.record import run_status
from sweeper.records.sweep_folder import existing_jobs

log = logging.getLogger(__name__)

WORKER = "sweeper:worker"
HEARTBEAT = "sweeper:heartbeat"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        return "-"


def this_worker(pid: int | None = None) -> str:
    """`HOST/BOOT:PID` of this process (or of `pid` on this machine)."""
    return f"{socket.gethostname()}/{_boot_id()}:{os.getpid() if pid is None else pid}"


def _dead_here(worker: Any) -> bool:
    """Whether `worker` names a process of this machine that no longer exists."""
    if not isinstance(worker, str) or ":" not in worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host != this_worker().rpartition(":")[0] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def _set_user_attrs(study: Any, frozen: Any, attrs: dict[str, Any]) -> None:
    """Set user attributes on a trial this process did not ask, through its storage."""
    storage = _storage_of(study)
    number = trial_id(storage, study.study_name, frozen.number)
    for key, value in attrs.items():
        storage.set_trial_user_attr(number, key, value)


def _storage_of(study: Any) -> Any:
    """The study's storage (sweeper.core.private_apis says why this is private)."""

    return study_storage(study)


def job_dir_of(frozen: Any) -> str | None:
    """The trial's job folder: `job_dir` (set when its job returned) or, for a trial whose
    search was killed before that, the folder of job `job_number` under `sweep_dir` (both
    set when the job was launched)."""

    job_dir = frozen.user_attrs.get("job_dir")
    if job_dir:
        return str(job_dir)
    number, root = frozen.user_attrs.get("job_number"), frozen.user_attrs.get("sweep_dir")
    if isinstance(number, int) and isinstance(root, str):
        for job in existing_jobs(root):
            if job.number == number:
                return str(job.folder.resolve())
    return None


def _finished_record(frozen: Any) -> tuple[str, dict[str, Any]] | None:
    """(job folder, metrics.json record) of a trial whose run finished, else None."""
    job_dir = job_dir_of(frozen)
    if not job_dir:
        return None
    found = run_status(job_dir)
    return (job_dir, found.record) if found.finished and found.record is not None else None


def told_value(record: dict[str, Any]) -> float | list[float] | None:
    """The value a finished run's metrics.json gives Optuna (every objective's, in order,
    for a multi-objective run), or None for a FAIL trial.

    A run refused by config validation (`reason` starting `config:`) or interrupted
    is a FAIL; a run that ran (ok, or failed e.g. by diverging) is COMPLETE with its
    objective (the worst value for a failed run, so the sampler learns from it).
    """
    reason = str(record.get("reason") or "")
    value = record.get("objective")
    if record.get("status") not in ("ok", "failed") or reason.startswith("config:"):
        return None
    objectives = record.get("objectives")
    if isinstance(objectives, list) and objectives:  # a multi-objective run: every value
        values = [o.get("value") if isinstance(o, dict) else None for o in objectives]
        numbers = [v for v in values if not isinstance(v, bool) and isinstance(v, (int, float))]
        if len(numbers) != len(values) or any(math.isnan(v) for v in numbers):
            return None
        return [float(v) for v in numbers]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


def fail_stale_trials(study: Any, grace_period: float, now: float | None = None) -> list[str]:
    """Fail (or tell from their metrics.json) the study's stale RUNNING trials.

    Returns one line per trial handled, e.g. `3 (no heartbeat for 75 s)`; trials
    that another worker finished meanwhile are skipped. `now` (Unix seconds) is
    for tests.
    """
    import optuna

    now = time.time() if now is None else now
    handled = []
    for frozen in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        attrs = frozen.system_attrs
        beat = attrs.get(HEARTBEAT)
        started = frozen.datetime_start.timestamp() if frozen.datetime_start else now
        finished = _finished_record(frozen)
        record = finished[1] if finished else None
        if _dead_here(attrs.get(WORKER)):
            why = f"its process {attrs[WORKER]} is gone"
        elif isinstance(beat, (int, float)):
            if now - beat <= grace_period:
                continue
            why = f"no heartbeat for {now - beat:.0f} s"
        elif record is None and now - started <= grace_period:
            continue
        else:
            why = f"no heartbeat at all, started {now - started:.0f} s ago"
        if finished is not None:  # its run finished before the trial was told: use it
            job_dir, record = finished
            value = told_value(record)
            try:
                attrs = {"job_dir": job_dir, "status": str(record.get("status"))}
                if record.get("reason"):
                    attrs["reason"] = str(record.get("reason"))[:500]
                _set_user_attrs(study, frozen, attrs)
                if record.get("status") == "pruned":  # its last reported value stays
                    study.tell(frozen.number, state=optuna.trial.TrialState.PRUNED)
                elif value is not None:
                    study.tell(frozen.number, value)
                else:
                    study.tell(frozen.number, state=optuna.trial.TrialState.FAIL)
            except (RuntimeError, ValueError):  # finished by someone else meanwhile
                continue
            handled.append(f"{frozen.number} (told from {job_dir})")
            continue
        try:
            _set_user_attrs(study, frozen, {"status": "interrupted", "reason": f"stale: {why}"})
            study.tell(frozen.number, state=optuna.trial.TrialState.FAIL)
        except (RuntimeError, ValueError):  # finished by its worker or failed by another one
            continue
        handled.append(f"{frozen.number} ({why})")
    return handled


class Heartbeat:
    """Marks trials as owned by this process and beats for them until `stop()`.

    Usage: `beat = Heartbeat(trials, interval); ...; beat.stop()`. The first beat
    is written at once, in the caller's thread; errors in later beats (the
    database briefly locked, a trial finished meanwhile) are logged, not raised.
    """

    def __init__(self, trials: list[Any], interval: float) -> None:
        self.trials = list(trials)
        self.interval = interval
        self._ids = [
            (t.storage, trial_id(t.storage, t.study.study_name, t.number)) for t in self.trials
        ]
        worker = this_worker()
        for storage, number in self._ids:
            storage.set_trial_system_attr(number, WORKER, worker)
            storage.set_trial_system_attr(number, HEARTBEAT, time.time())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sweeper-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for trial, (storage, number) in zip(self.trials, self._ids):
                try:
                    storage.set_trial_system_attr(number, HEARTBEAT, time.time())
                except Exception as error:  # noqa: BLE001 - a missed beat is not fatal
                    log.debug("heartbeat of trial %s: %s", trial.number, error)

    def stop(self) -> None:
        """Stop beating (before the trials are told); waits for a beat in progress."""
        self._stop.set()
        self._thread.join()
