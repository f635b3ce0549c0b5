"""Sweeps on a real SLURM cluster: `hydra/launcher=slurm` (hydra-submitit-launcher, with
sweeper.sweeps.slurm) against the one-node cluster `.ci/run` starts (`start_slurm`:
slurmctld, slurmd, slurmdbd, munge; docs/slurm.md sets up the same on a laptop).

What a cluster does to a sweep, a test each: a grid as one SLURM array; a search whose
trials run as SLURM jobs reporting to one PostgreSQL study; a job requeued mid-training
(`scontrol requeue`); a job at its time limit; `scancel` of a whole array; the
submitting process killed while its jobs run, and Ctrl-C'd. Skipped without a cluster
(SWEEPER_TEST_SLURM_PARTITION unset, or no `sbatch`), failed so in CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import optuna
import pandas as pd
import pytest

from conftest import ROOT, default_sigint

pytestmark = pytest.mark.slow

PARTITION = os.environ.get("SWEEPER_TEST_SLURM_PARTITION", "")

# A memory task small enough that a job's time is mostly its start (imports).
TINY = [
    "task=memory",
    "task.train_size=960",
    "task.val_size=270",
    "task.test_per_length=20",
    "task.extrapolation_lengths=[13]",
]
# A job that trains for a while, one epoch every few hundredths of a second (1 thread).
LONG = ["task.train_size=1920", "trainer.patience=0", "trainer.stop_accuracy=null"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "SWEEPER_SLURM_POLL": "1"}
JOB_LINE = re.compile(r"SLURM job (\d+(?:_\d+)?) runs job (\d+)")
TRIAL_LINE = re.compile(r"trial (\d+) runs as job (\d+)")


@pytest.fixture(autouse=True)
def cluster() -> None:
    if not PARTITION or shutil.which("sbatch") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must start SLURM and set SWEEPER_TEST_SLURM_PARTITION (.ci/run)")
        pytest.skip(
            "no SLURM cluster: set SWEEPER_TEST_SLURM_PARTITION (see .ci/run, docs/slurm.md)"
        )


def launcher(timeout_min: int = 10) -> list[str]:
    return [
        "hydra/launcher=slurm",
        f"hydra.launcher.partition={PARTITION}",
        "hydra.launcher.cpus_per_task=1",
        "hydra.launcher.mem_gb=1",
        f"hydra.launcher.timeout_min={timeout_min}",
    ]


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sweeper", *TINY, *args, "-m"]


def sweep(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=ENV
    )
    result.output = result.stdout + result.stderr  # type: ignore[attr-defined]
    return result


def start(*args: str, cwd: Path, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            command(*args),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=ENV,
            preexec_fn=default_sigint,
        )


def wait_for(check: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.5)


def slurm_jobs(output: str) -> dict[int, tuple[str, int | None]]:
    """job number -> (SLURM job id, trial number or None), from the terminal's lines."""
    trials = {int(job): int(trial) for trial, job in TRIAL_LINE.findall(output)}
    return {
        int(job): (slurm_id, trials.get(int(job))) for slurm_id, job in JOB_LINE.findall(output)
    }


def sacct(job_id: str) -> dict[str, str]:
    """SLURM job id -> state (array tasks each), from the accounting database."""
    out = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-o", "JobID,State", "-j", job_id.split("_")[0]],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("|", 1) for line in out.splitlines() if "|" in line)


def record(job: Path) -> dict:
    path = job / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else {}


def epochs_logged(job: Path) -> int:
    log = job / "train.log"
    if not log.exists():
        return 0
    return len(re.findall(r"- epoch \d+/", log.read_text(errors="replace")))


def tail_of(text: str) -> str:
    return text[-3000:]


# ------------------------------------------------------------------ a grid as one array


def test_a_grid_runs_as_one_slurm_array(tmp_path):
    started = time.monotonic()
    result = sweep(
        "model.hidden=2,5,10",
        "loss=ce,mse",
        "trainer.epochs=2",
        *launcher(),
        f"hydra.sweep.dir={tmp_path / 'grid'}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, tail_of(result.output)
    jobs = slurm_jobs(result.output)
    assert sorted(jobs) == list(range(6))
    arrays = {slurm_id.split("_")[0] for slurm_id, _ in jobs.values()}
    assert len(arrays) == 1, jobs  # one sbatch --array for the whole grid
    array = arrays.pop()
    assert {jobs[n][0] for n in jobs} == {f"{array}_{n}" for n in range(6)}
    states = sacct(array)
    assert all(states[f"{array}_{n}"] == "COMPLETED" for n in range(6)), states
    # the terminal told pending from running (6 one-CPU jobs on a 2-CPU node)
    assert re.search(rf"SLURM job {array}_\d \(job \d\): PENDING", result.output)
    assert re.search(rf"SLURM job {array}_\d \(job \d\): (PENDING -> )?RUNNING", result.output)
    grid = tmp_path / "grid"
    table = pd.read_csv(grid / "results.csv")
    assert len(table) == 6 and (table["status"] == "ok").all()
    for n in range(6):  # job folders as with the basic launcher
        assert record(grid / str(n))["status"] == "ok"
        assert (grid / str(n) / ".hydra" / "config.yaml").is_file()
        assert record(grid / str(n))["settings"]["device.threads"] == 1  # its one CPU
    print(f"grid of 6 as SLURM array {array}: {time.monotonic() - started:.1f} s")


# ------------------------------------------------------------------ a search, PostgreSQL


def test_a_search_runs_its_trials_as_slurm_jobs_on_one_postgres_study(tmp_path, fresh_postgres_url):
    result = sweep(
        "hparams_search=lr",
        "trainer.epochs=4",
        "pruner=median",  # each job reports its epochs to the study itself
        "hydra.sweeper.n_trials=4",
        "hydra.sweeper.n_jobs=2",
        f"hydra.sweeper.storage={fresh_postgres_url}",
        "hydra.sweeper.study_name=slurm",
        *launcher(),
        f"hydra.sweep.dir={tmp_path / 'search'}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, tail_of(result.output)
    jobs = slurm_jobs(result.output)
    assert sorted(trial for _, trial in jobs.values()) == [0, 1, 2, 3]
    assert len({slurm_id for slurm_id, _ in jobs.values()}) == 4  # a SLURM job per trial
    study = optuna.load_study(study_name="slurm", storage=fresh_postgres_url)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 4
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)  # none RUNNING
    for t in trials:
        job = Path(t.user_attrs["job_dir"])
        assert jobs[int(job.name)][1] == t.number  # the terminal named this trial's job
        assert record(job)["objective"] == t.value
        assert sorted(t.intermediate_values) == [1, 2, 3, 4]  # told by the SLURM job
    for slurm_id, _ in jobs.values():
        assert sacct(slurm_id)[slurm_id] == "COMPLETED"


# ------------------------------------------------------------------ requeue mid-training


def test_a_requeued_job_resumes_from_its_checkpoint_with_the_same_metrics(tmp_path):
    grid = tmp_path / "grid"
    log = tmp_path / "sweep.log"
    config = ["model.hidden=5", *LONG, "trainer.epochs=150"]
    process = start(*config, *launcher(), f"hydra.sweep.dir={grid}", cwd=tmp_path, log=log)
    try:
        wait_for(lambda: bool(slurm_jobs(log.read_text())), "the job's SLURM id")
        slurm_id = slurm_jobs(log.read_text())[0][0]
        job = grid / "0"
        wait_for(lambda: epochs_logged(job) >= 5, "5 epochs of training")
        subprocess.run(["scontrol", "requeue", slurm_id], check=True)
        # a requeued job waits (BeginTime, 2 minutes on SLURM); the test lets it go now
        wait_for(lambda: record(job).get("status") == "interrupted", "the interrupted record")
        done = record(job)["epochs_done"]
        assert 0 < done < 150 and "SIGTERM" in record(job)["reason"]
        wait_for(lambda: sacct(slurm_id).get(slurm_id) == "PENDING", "the requeued job")
        subprocess.run(["scontrol", "update", f"JobId={slurm_id}", "StartTime=now"], check=True)
        assert process.wait(timeout=240) == 0, tail_of(log.read_text())
    finally:
        if process.poll() is None:
            process.kill()
    output = log.read_text()
    restarts = subprocess.run(
        ["scontrol", "show", "job", slurm_id], capture_output=True, text=True, check=True
    ).stdout
    assert "Restarts=1" in restarts  # SLURM ran it twice
    states = re.findall(rf"SLURM job {slurm_id} \(job 0\): (.*)", output)
    # The terminal followed it as sacct saw it: RUNNING -> REQUEUED -> PENDING -> RUNNING
    # on a quiet machine; a state shorter than the poll between two sacct reads can be
    # missed on a busy one (seen in CI: PENDING, PENDING -> REQUEUED, REQUEUED -> RUNNING).
    requeued = [i for i, state in enumerate(states) if "REQUEUED" in state.split(" -> ")[-1]]
    assert requeued and "ended, result read" in states[-1], states
    assert any(s.endswith("-> RUNNING") for s in states[requeued[0] + 1 :]), states
    resumed = record(job)
    assert resumed["status"] == "ok" and resumed["resumed_from_epoch"] == done
    assert f"resuming from epoch {done}" in (job / "train.log").read_text()
    # the same config never interrupted (one thread, as the job's one CPU): the same metrics
    reference = tmp_path / "reference"
    single = [sys.executable, "-m", "sweeper", *TINY, *config, "device.threads=1"]
    subprocess.run(
        [*single, f"hydra.run.dir={reference}"], cwd=tmp_path, env=ENV, check=True,
        capture_output=True,
    )  # fmt: skip
    assert resumed["metrics"] == record(reference)["metrics"]
    print(f"requeued {slurm_id} after epoch {done}: metrics {resumed['metrics']} == reference")


# ------------------------------------------------------------------ the time limit


def test_a_job_at_its_time_limit_is_interrupted_and_a_rerun_resumes_it(tmp_path):
    """timeout_min=1 with submitit's warning 50 s ahead: SLURM sends SIGUSR2 about 10 s
    into the run, the run records itself interrupted with its checkpoint and the job ends;
    re-run with a longer limit, it resumes.

    SLURM may send such a warning up to 60 s early (sbatch's --signal: "due to the
    resolution of event handling"); seen in CI, one second into the job, while Python was
    still starting, which SIGUSR2 ends before any handler exists. Such a job is left
    unfinished and the same command runs it again, so the first step is tried up to three
    times until the signal meets a training run."""
    grid = tmp_path / "grid"
    config = ["model.hidden=5", *LONG, "trainer.epochs=2000", f"hydra.sweep.dir={grid}"]
    job = grid / "0"
    for _ in range(3):
        first = sweep(
            *config, *launcher(timeout_min=1), "hydra.launcher.signal_delay_s=50", cwd=tmp_path
        )
        stopped = record(job)
        if stopped.get("status") == "interrupted" and stopped.get("epochs_done", 0) > 0:
            break
        assert stopped.get("status") in (None, "interrupted"), tail_of(first.output)
    assert stopped.get("status") == "interrupted", tail_of(first.output)
    assert "SIGUSR2" in stopped["reason"] and stopped["epochs_done"] > 0
    assert (job / "checkpoint.pt").is_file()
    assert "before the time limit (hydra.launcher.timeout_min=1)" in first.output
    assert "Traceback" not in first.stderr
    slurm_id = slurm_jobs(first.output)[0][0]
    ended = ("COMPLETED", "TIMEOUT")  # it ended itself, before SLURM's kill
    wait_for(lambda: sacct(slurm_id).get(slurm_id) in ended, f"job {slurm_id} to end", 60)

    second = sweep(*config, *launcher(timeout_min=10), cwd=tmp_path)
    assert second.returncode == 0, tail_of(second.output)
    resumed = record(job)
    assert resumed["status"] == "ok"
    assert resumed["resumed_from_epoch"] == stopped["epochs_done"]
    assert len(pd.read_csv(job / "history.csv")) == 2000


# ------------------------------------------------------------------ scancel of the array


def test_scancel_of_the_array_leaves_a_sweep_that_collect_reads_and_a_rerun_finishes(tmp_path):
    grid = tmp_path / "grid"
    log = tmp_path / "sweep.log"
    # Job 1 trains long enough (~40 s here) to be still running after collect and scancel
    # (with 400 epochs it once finished first); job 2 waits in the queue.
    config = ["model.hidden=5", *LONG, "trainer.epochs=2,1200,410", f"hydra.sweep.dir={grid}"]
    one_at_a_time = "hydra.launcher.array_parallelism=1"
    process = start(*config, *launcher(), one_at_a_time, cwd=tmp_path, log=log)
    try:
        wait_for(lambda: record(grid / "0").get("status") == "ok", "job 0 (2 epochs)")
        wait_for(lambda: epochs_logged(grid / "1") >= 3, "job 1 training")
        # collect while jobs still run: the finished job, the others named
        collected = subprocess.run(
            [sys.executable, "-m", "sweeper.collect", str(grid)],
            capture_output=True, text=True, env=ENV, timeout=120,
        )  # fmt: skip
        assert collected.returncode == 0, collected.stderr[-2000:]
        assert "1 jobs collected" in collected.stdout
        assert "skipped 1: no metrics.json yet: running, or killed" in collected.stdout
        assert "pending: 1 of the grid's 3 jobs have no job folder yet" in collected.stdout
        array = slurm_jobs(log.read_text())[0][0].split("_")[0]
        subprocess.run(["scancel", array], check=True)
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    output = log.read_text()
    assert "Traceback" not in output, output[-3000:]
    assert re.search(rf"SLURM job {array}_1 ended CANCELLED", output), output[-3000:]
    assert code == 0
    assert record(grid / "1")["status"] == "interrupted"  # SIGTERM from scancel, checkpoint kept
    table = pd.read_csv(grid / "results.csv")
    assert list(table["status"]) == ["ok"]  # what finished, nothing else
    finished = (grid / "0" / "metrics.json").stat().st_mtime_ns
    interrupted_at = record(grid / "1")["epochs_done"]

    rerun = sweep(*config, *launcher(), cwd=tmp_path)
    assert rerun.returncode == 0, tail_of(rerun.output)
    assert (grid / "0" / "metrics.json").stat().st_mtime_ns == finished  # kept untouched
    assert record(grid / "1")["resumed_from_epoch"] == interrupted_at
    table = pd.read_csv(grid / "results.csv")
    assert len(table) == 3 and (table["status"] == "ok").all()


# ------------------------------------------------------------------ the submitter killed


def two_trial_search(folder: Path, epochs: int, extra: tuple[str, ...] = ()) -> list[str]:
    """A learning-rate search of two trials at once, each long enough to be caught training."""
    return [
        "hparams_search=lr",
        *LONG,
        f"trainer.epochs={epochs}",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.n_jobs=2",
        *extra,
        f"hydra.sweep.dir={folder}",
    ]


def test_a_killed_search_leaves_its_jobs_running_and_a_rerun_tells_their_trials(tmp_path):
    folder = tmp_path / "search"
    log = tmp_path / "search.log"
    config = two_trial_search(folder, epochs=60, extra=("hydra.sweeper.total_trials=true",))
    process = start(*config, *launcher(), cwd=tmp_path, log=log)
    try:
        wait_for(lambda: len(slurm_jobs(log.read_text())) == 2, "two trials submitted")
        wait_for(lambda: all(epochs_logged(folder / str(n)) >= 2 for n in (0, 1)), "training")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    jobs = slurm_jobs(log.read_text())
    for slurm_id, _ in jobs.values():  # the jobs go on without the search, and finish
        wait_for(lambda s=slurm_id: sacct(s).get(s) == "COMPLETED", f"job {slurm_id}", 180)
    values = {jobs[n][1]: record(folder / str(n))["objective"] for n in jobs}
    assert all(record(folder / str(n))["status"] == "ok" for n in jobs)

    rerun = sweep(*config, *launcher(), cwd=tmp_path)
    assert rerun.returncode == 0, tail_of(rerun.output)
    assert "told from" in rerun.output
    assert "SLURM job" not in rerun.output  # nothing ran again: both trials were told
    storage = f"sqlite:///{folder / 'optuna.db'}"
    names = optuna.get_all_study_names(storage)
    study = optuna.load_study(study_name=names[0], storage=storage)
    trials = study.get_trials(deepcopy=False)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert {t.number: t.value for t in trials} == values


def test_ctrl_c_of_a_search_cancels_its_slurm_jobs_and_fails_their_trials(tmp_path):
    """Ctrl-C stops the search as on one machine: its trials are told FAIL (`status:
    interrupted`), and its SLURM jobs are cancelled, recording the same, rather than
    training on for trials the study calls failed."""
    folder = tmp_path / "search"
    log = tmp_path / "search.log"
    # Long enough (~25 ms an epoch) that trial 0 still trains when trial 1 starts, even if
    # trial 1 pends behind another test's job for a minute on the shared 2-CPU cluster.
    config = two_trial_search(folder, epochs=20000)

    def both_training() -> bool:
        return all(
            epochs_logged(folder / str(n)) >= 2 and not (folder / str(n) / "metrics.json").exists()
            for n in (0, 1)
        )

    process = start(*config, *launcher(), cwd=tmp_path, log=log)
    try:
        wait_for(lambda: len(slurm_jobs(log.read_text())) == 2, "two trials submitted")
        wait_for(both_training, "both trials training", 240)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130, log.read_text()[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
    output = log.read_text()
    assert "cancelled SLURM job(s)" in output and "Traceback" not in output, output[-3000:]
    jobs = slurm_jobs(output)
    for n, (slurm_id, _) in jobs.items():
        cancelled = lambda s=slurm_id: sacct(s).get(s, "").startswith("CANCELLED")  # noqa: E731
        wait_for(cancelled, f"job {slurm_id} cancelled", 60)
        wait_for(lambda n=n: record(folder / str(n)).get("status") == "interrupted", "record")
    storage = f"sqlite:///{folder / 'optuna.db'}"
    study = optuna.load_study(study_name=optuna.get_all_study_names(storage)[0], storage=storage)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 2
    assert all(t.state == optuna.trial.TrialState.FAIL for t in trials)
    assert all(t.user_attrs["status"] == "interrupted" for t in trials)
