"""`hydra/launcher=slurm`: hydra-submitit-launcher's SLURM launcher, saying what SLURM does.

The launcher is hydra-submitit-launcher's (`SlurmLauncher`: one `sbatch` array per
`launch` call, each job unpickled and run by submitit on a node), with three changes,
each for something a cluster does to a sweep:

- the terminal says which SLURM job runs which job (and, in a search, which trial),
  and each change of its state (`PENDING`, `RUNNING`, `COMPLETED`, `REQUEUED`,
  `TIMEOUT`, `CANCELLED`, ...), from `sacct` every few seconds;
- a job that ends without a result (cancelled, killed at its time limit, its node
  lost) is one failed job in its own words, and the launch waits for the others:
  hydra-submitit-launcher raises at the first such job, ending a grid while the rest
  of its array still runs (and submitit waits 15 s for each missing result first);
- submitit's warning before the time limit (SIGUSR2, `signal_delay_s` seconds ahead)
  interrupts the job as SIGTERM does: the run records `status: interrupted`, keeps
  its checkpoint and the job ends with a result, so a grid or search resumes it when
  re-run. submitit alone raises its `UncompletedJobError` inside the training loop,
  which a run records as `status: failed`. When submitit requeues the job instead
  (`max_num_timeout` > 0, or a preemption signal), the run records itself
  interrupted and the requeued job resumes from the checkpoint.

SIGTERM (`scancel`, `scontrol requeue`, preemption, the time limit itself) already
interrupts a run (`sweeper.core.interrupt`); the job then ends without a result, which
SLURM requeues or reports as above.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from omegaconf import OmegaConf, open_dict

from sweeper.core.interrupt import Interrupted

log = logging.getLogger(__name__)

# Seconds between two `sacct` calls while jobs run: short at first, then at most this.
STATE_POLL_MAX = float(os.environ.get("SWEEPER_SLURM_POLL", "10"))
# How long a job SLURM says has ended may take to show its result file (a slow shared disk).
RESULT_WAIT = 10.0
DONE_STATES = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY")

# The SLURM jobs a `launch` of this process still waits for: cancelled when the process
# ends first (Ctrl-C, SIGTERM: the sweep is stopping, and a search has told their trials
# FAIL), so no job trains on for a trial the study calls failed. SIGKILL or a lost login
# session runs no exit handler: the jobs then finish, and a re-run tells their trials.
_WAITING: dict[str, str] = {}  # SLURM job id -> "job N"
_WAITING_LOCK = threading.Lock()


def cancel_waiting() -> None:
    """`scancel` the jobs this process still waits for (at exit, or on Ctrl-C)."""
    with _WAITING_LOCK:
        waiting = dict(_WAITING)
        _WAITING.clear()
    if not waiting:
        return
    subprocess.run(["scancel", *waiting], capture_output=True, check=False)
    log.warning(
        "cancelled SLURM job(s) %s: their runs record status: interrupted (checkpoint kept); "
        "run the same command again to resume",
        ", ".join(f"{slurm_id} ({name})" for slurm_id, name in waiting.items()),
    )


atexit.register(cancel_waiting)


class TimeLimitNear(Interrupted):
    """submitit's signal before the time limit (SIGUSR2), as an interrupt; `requeued` when
    submitit has requeued the job (it then exits without a result)."""

    def __init__(self, signal_name: str, requeued: bool) -> None:
        super().__init__(signal_name)
        self.requeued = requeued


def run_in_job(launcher: Any, run: Any, args: tuple) -> JobReturn:
    """The job's side (`SlurmLauncher.__call__` on the node): `run(*args)`, hydra-submitit-
    launcher's job, with submitit's time-limit warning turned into `TimeLimitNear`; a job
    it stops without being requeued returns a FAILED JobReturn naming the time limit."""
    warning = warning_signal()
    previous = signal.getsignal(warning)
    if callable(previous):  # submitit's checkpoint-and-requeue handler
        signal.signal(warning, _time_limit_handler(previous))
    try:
        return run(*args)
    except TimeLimitNear as interrupt:
        if interrupt.requeued:
            raise  # requeued by submitit: no result, the job runs again
        sweep_overrides, job_num = args[0], args[2]
        return _failed(
            launcher,
            sweep_overrides,
            job_num,
            f"{interrupt.signal_name} before the time limit "
            f"(hydra.launcher.timeout_min={launcher.params.get('timeout_min')}): "
            "the run was interrupted and resumes when the sweep is run again",
        )


# Settings that must be whole numbers of at least 1 (0 allowed for the `ZERO_OK` ones).
POSITIVE = ("timeout_min", "tasks_per_node", "nodes", "array_parallelism", "cpus_per_task",
            "mem_gb", "cpus_per_gpu", "gpus_per_task")  # fmt: skip
ZERO_OK = ("gpus_per_node", "signal_delay_s", "max_num_timeout")


def settings_problem(params: dict[str, Any], partitions: list[str] | None) -> str | None:
    """What is wrong with the launcher's `hydra.launcher.*` settings, as one line naming
    the key, or None. `partitions`: the cluster's partition names (`sinfo`), None when
    unknown. sbatch takes `--time=-5` as no limit at all, and refuses a partition it does
    not know only once the sweep has started, in a traceback."""
    for key in (*POSITIVE, *ZERO_OK):
        value = params.get(key)
        if value is None:
            continue
        lowest = 0 if key in ZERO_OK else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            return f"hydra.launcher.{key}={value}: must be a whole number >= {lowest}"
    timeout, delay = params.get("timeout_min"), params.get("signal_delay_s")
    if isinstance(timeout, int) and isinstance(delay, int) and delay >= timeout * 60:
        return (
            f"hydra.launcher.signal_delay_s={delay}: the time-limit warning must come before "
            f"the limit (hydra.launcher.timeout_min={timeout} is {timeout * 60} s)"
        )
    partition = params.get("partition")
    if partition and partitions is not None:
        asked = [p for p in str(partition).split(",") if p and p not in partitions]
        if asked:
            return (
                f"hydra.launcher.partition={partition}: no such partition on this cluster "
                f"({asked[0]}); sinfo lists {', '.join(partitions) or 'none'}"
            )
    return None


def cluster_partitions() -> list[str] | None:
    """The partitions `sinfo` lists (the default one's `*` dropped); None without sinfo
    or when it fails (the check is then sbatch's own)."""
    try:
        result = subprocess.run(
            ["sinfo", "-h", "-o", "%P"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    return sorted({line.strip().rstrip("*") for line in result.stdout.splitlines() if line})


def check_settings(launcher: Any) -> None:
    """Refuse bad `hydra.launcher.*` settings before the sweep writes or submits anything:
    one line on stderr, exit 2."""
    problem = settings_problem(dict(launcher.params), cluster_partitions())
    if problem:
        print(f"sweeper: error: {problem}", file=sys.stderr)
        sys.exit(2)


def launch(launcher: Any, job_overrides: Any, initial_job_idx: int) -> list[JobReturn]:
    """Submit the jobs as one SLURM array, log which SLURM job runs which job, and wait
    for all of them (hydra-submitit-launcher's `launch`, then `_wait`)."""
    import submitit  # hydra-submitit-launcher imports it lazily too: plugin discovery

    assert launcher.config is not None
    params = launcher.params
    kind = "slurm"
    executor = submitit.AutoExecutor(
        cluster=kind,
        folder=params["submitit_folder"],
        **{f"{kind}_max_num_timeout": v for k, v in params.items() if k == "max_num_timeout"},
    )
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(
        **{
            k if k in base else f"{kind}_{k}": v
            for k, v in params.items()
            if k not in ("max_num_timeout", "submitit_folder")
        }
    )
    sweep = launcher.config.hydra.sweep
    Path(str(sweep.dir)).mkdir(parents=True, exist_ok=True)
    if "mode" in sweep:
        os.chmod(str(sweep.dir), mode=int(str(sweep.mode), 8))
    numbers = [initial_job_idx + i for i in range(len(job_overrides))]
    arguments = [
        (list(o), "hydra.sweep.dir", n, f"job_id_for_{n}", Singleton.get_state())
        for o, n in zip(job_overrides, numbers)
    ]
    jobs = executor.map_array(launcher, *zip(*arguments))
    names = [_describe(o, n) for o, n in zip(job_overrides, numbers)]
    array = jobs[0].job_id.split("_")[0] if jobs else "?"
    where = params.get("partition") or "the default partition"
    if len(jobs) == 1 and "_" not in jobs[0].job_id:  # one job: sbatch makes no array
        log.info("SLURM job %s submitted to %s", array, where)
    else:
        log.info("SLURM array %s: %d job(s) submitted to %s", array, len(jobs), where)
    for job, name in zip(jobs, names):
        log.info("SLURM job %s runs %s", job.job_id, name)
    return _wait(launcher, jobs, list(job_overrides), numbers, names)


def _wait(
    launcher: Any, jobs: list[Any], overrides: list[Any], numbers: list[int], names: list[str]
) -> list[JobReturn]:
    """Every job's JobReturn, in order, once each has ended; a state change is logged as
    it is seen. A job that ended without a result is a FAILED JobReturn."""
    results: list[JobReturn | None] = [None] * len(jobs)
    short = [name.split(":")[0] for name in names]
    with _WAITING_LOCK:
        _WAITING.update({job.job_id: name for job, name in zip(jobs, short)})
    try:
        _poll(launcher, jobs, overrides, numbers, short, results)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM in this thread: the sweep stops
        cancel_waiting()
        raise
    return [r for r in results if r is not None]


def _poll(
    launcher: Any,
    jobs: list[Any],
    overrides: list[Any],
    numbers: list[int],
    short: list[str],
    results: list[JobReturn | None],
) -> None:
    """Fill `results` as jobs end (`_wait`), logging each state change once."""
    seen: dict[str, str] = {}
    ended_at: dict[int, float] = {}
    counts: tuple[int, int, int] | None = None
    started, last_poll = time.monotonic(), float("-inf")
    array = jobs[0].job_id.split("_")[0] if jobs else "?"
    while any(r is None for r in results):
        now = time.monotonic()
        if jobs and now - last_poll >= min(STATE_POLL_MAX, max(1.0, (now - started) / 10)):
            jobs[0].watcher.update()  # one sacct call for every job of the array
            last_poll = now
        for i, job in enumerate(jobs):
            if results[i] is not None:
                continue
            state = job.watcher.get_state(job.job_id, mode="cache")
            if state != seen.get(job.job_id, "UNKNOWN") and state != "UNKNOWN":
                was = seen.get(job.job_id)
                seen[job.job_id] = state
                log.info(
                    "SLURM job %s (%s): %s",
                    job.job_id,
                    short[i],
                    f"{was} -> {state}" if was else state,
                )
            if job.paths.result_pickle.exists():
                results[i] = _result(launcher, job, overrides[i], numbers[i])
                log.info("SLURM job %s (%s): ended, result read", job.job_id, short[i])
            elif state.split()[0].upper() in DONE_STATES:
                ended_at.setdefault(i, now)
                if now - ended_at[i] >= RESULT_WAIT or state.startswith("CANCELLED"):
                    results[i] = _failed(
                        launcher,
                        overrides[i],
                        numbers[i],
                        f"SLURM job {job.job_id} ended {state} without a result "
                        f"(its log: {job.paths.stdout})",
                    )
        states = [seen.get(j.job_id, "PENDING") for j, r in zip(jobs, results) if r is None]
        now_counts = (
            sum(s == "RUNNING" for s in states),
            sum(s != "RUNNING" for s in states),
            sum(r is not None for r in results),
        )
        if len(jobs) > 1 and now_counts != counts:
            counts = now_counts
            log.info("SLURM array %s: %d running, %d pending, %d ended", array, *counts)
        with _WAITING_LOCK:
            for job, result in zip(jobs, results):
                if result is not None:
                    _WAITING.pop(job.job_id, None)
        if any(r is None for r in results):
            time.sleep(1)


def _result(launcher: Any, job: Any, overrides: list[str], number: int) -> JobReturn:
    """The job's JobReturn from its result file; an error there is a FAILED one."""
    try:
        return job.results()[0]
    except Exception as error:  # the job's own traceback is in its log
        first = str(error).strip().splitlines()
        why = first[0] if first else type(error).__name__
        return _failed(launcher, overrides, number, f"SLURM job {job.job_id}: {why}")


def _failed(launcher: Any, overrides: list[str], number: int, why: str) -> JobReturn:
    """A FAILED JobReturn for job `number` whose value raises `why`, with its job folder
    (`hydra.runtime.output_dir`), so a search reads the run's metrics.json."""
    ret = JobReturn(overrides=list(overrides), status=JobStatus.FAILED)
    ret.return_value = RuntimeError(why)
    try:
        config = launcher.hydra_context.config_loader.load_sweep_config(
            launcher.config, list(overrides)
        )
        with open_dict(config.hydra):
            config.hydra.job.num = number
        folder = Path(str(config.hydra.sweep.dir)) / str(config.hydra.sweep.subdir)
        ret.hydra_cfg = OmegaConf.create({"hydra": {"runtime": {"output_dir": str(folder)}}})
    except Exception as error:  # noqa: BLE001 - the job fails all the same, folder unknown
        log.debug("no job folder for job %d: %s", number, error)
    return ret


def warning_signal() -> signal.Signals:
    """The signal submitit asks SLURM to send before the time limit (`--signal`): SIGUSR2,
    or what `SUBMITIT_PREEMPT_SIGNAL` names."""
    name = os.environ.get("SUBMITIT_PREEMPT_SIGNAL", "USR2")
    return signal.Signals["SIG" + name.upper().removeprefix("SIG")]


def _time_limit_handler(previous: Any) -> Any:
    """SIGUSR2: submitit's handler (requeue, or its "not requeued" error), then an
    interrupt the run records (`TimeLimitNear`)."""

    def handler(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        try:
            previous(signum, frame)
        except SystemExit:  # submitit requeued the job and exits
            raise TimeLimitNear(name, requeued=True) from None
        except Exception as error:  # noqa: BLE001 - submitit's UncompletedJobError
            log.warning("%s: %s", name, str(error).strip().splitlines()[0] if str(error) else "")
        raise TimeLimitNear(name, requeued=False)

    return handler


def _describe(overrides: Any, number: int) -> str:
    """`job 3: model.hidden=5 loss=ce` (a search's `pruning.*` keys left out)."""
    shown = [o for o in filter_overrides(overrides) if not o.startswith("pruning.")]
    return f"job {number}: {' '.join(shown)}" if shown else f"job {number}"
