"""Runs that are stopped part-way: checkpoints, resuming to the same numbers, run-folder safety.

In-process tests interrupt `train` with a KeyboardInterrupt injected into a
training step; the slow ones send real signals (SIGKILL, SIGINT, SIGTERM) to
`python -m sweeper` and run the same command again.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import torch

import sweeper.core.checkpoint as checkpoint_module
import sweeper.core.interrupt as interrupt_module
import sweeper.core.train as train_module
from conftest import ROOT
from sweeper.cli import run_job
from sweeper.core.checkpoint import CHECKPOINT_NAME, Checkpointer
from sweeper.core.config import ConfigError
from sweeper.core.interrupt import Interrupted
from sweeper.core.run_folder import LOCK_NAME, RunFolderError
from sweeper.core.train import record_config_failure
from sweeper.run.job import train

TIMING = {"wall_seconds", "resumed_from_epoch"}


def comparable(out: Path) -> tuple[dict, pd.DataFrame, dict]:
    """metrics.json without its timing, history.csv without seconds, model.pt's weights."""
    record = json.loads((out / "metrics.json").read_text())
    history = pd.read_csv(out / "history.csv").drop(columns=["seconds", "train_seconds"])
    weights = torch.load(out / "model.pt", weights_only=True)["state_dict"]
    return {k: v for k, v in record.items() if k not in TIMING}, history, weights


def assert_same_run(a: Path, b: Path) -> None:
    record_a, history_a, weights_a = comparable(a)
    record_b, history_b, weights_b = comparable(b)
    assert record_a == record_b  # every metric, to the bit
    pd.testing.assert_frame_equal(history_a, history_b, check_exact=True)
    assert weights_a.keys() == weights_b.keys()
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)


def interrupt_after(monkeypatch, epoch: int, error: BaseException | None = None) -> None:
    """Raise `error` (KeyboardInterrupt) in the 2nd training step after epoch `epoch`'s
    checkpoint: mid-epoch, with one step of the next epoch already applied in memory."""
    armed = {"on": False, "steps": 0}
    real_save, real_forward = Checkpointer.save, train_module.forward

    def save(self, state):
        real_save(self, state)
        armed["on"] = state["epoch"] == epoch

    def forward(model, x, kind):
        if armed["on"] and model.training:
            armed["steps"] += 1
            if armed["steps"] == 2:
                armed["on"] = False
                raise error or KeyboardInterrupt()
        return real_forward(model, x, kind)

    monkeypatch.setattr(Checkpointer, "save", save)
    monkeypatch.setattr(train_module, "forward", forward)


def folder_state(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` (hidden ones too) with its bytes and mtime."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


CASES = {
    "adder": ["task=adder", "trainer.stop_accuracy=null"],
    "memory-dropout": ["task=memory", "model.layers=2", "model.dropout=0.25"],
    "memory-fixed-sgd": ["task=memory", "task.fresh_data=false", "optim.name=sgd", "optim.lr=0.5"],
}


@pytest.mark.parametrize("case", list(CASES))
def test_resumed_run_ends_exactly_like_an_uninterrupted_one(make_cfg, tmp_path, monkeypatch, case):
    overrides = CASES[case]
    train(make_cfg(*overrides, out=tmp_path / "straight"))
    interrupt_after(monkeypatch, epoch=2)
    cfg = make_cfg(*overrides, out=tmp_path / "resumed")
    with pytest.raises(KeyboardInterrupt):
        train(cfg)
    monkeypatch.undo()
    record = json.loads((tmp_path / "resumed" / "metrics.json").read_text())
    assert record["status"] == "interrupted" and record["epochs_done"] == 2
    train(cfg)
    assert (
        json.loads((tmp_path / "resumed" / "metrics.json").read_text())["resumed_from_epoch"] == 2
    )
    assert_same_run(tmp_path / "straight", tmp_path / "resumed")


def test_mnist_resumes_exactly(make_cfg, tmp_path, monkeypatch, mnist_root):
    overrides = ["task=mnist", f"task.data_root={mnist_root}", "trainer.epochs=3"]
    train(make_cfg(*overrides, out=tmp_path / "straight"))
    interrupt_after(monkeypatch, epoch=1)
    cfg = make_cfg(*overrides, out=tmp_path / "resumed")
    with pytest.raises(KeyboardInterrupt):
        train(cfg)
    monkeypatch.undo()
    train(cfg)
    assert_same_run(tmp_path / "straight", tmp_path / "resumed")


def test_interrupted_run_is_recorded_and_keeps_a_weights_only_checkpoint(
    make_cfg, tmp_path, monkeypatch, caplog
):
    interrupt_after(monkeypatch, epoch=2, error=Interrupted("SIGTERM"))
    cfg = make_cfg("task=memory")
    with pytest.raises(Interrupted):  # raised again, for the sweep above
        train(cfg)
    monkeypatch.undo()
    out = Path(cfg.output_dir)
    record = json.loads((out / "metrics.json").read_text())
    assert record["status"] == "interrupted"
    assert record["reason"] == "interrupted by SIGTERM in epoch 3"
    assert record["epochs_done"] == 2 and record["objective"] is None
    assert record["settings"]["task.name"] == "memory"
    assert list(pd.read_csv(out / "history.csv")["epoch"]) == [1, 2]
    assert not (out / "model.pt").exists()
    state = torch.load(out / CHECKPOINT_NAME, weights_only=True)
    assert state["epoch"] == 2 and len(state["history"]) == 2
    assert state["config"]["optim"]["lr"] == cfg.optim.lr
    assert {"model", "optimizer", "schedule", "generator", "rng", "progress"} <= state.keys()
    assert not list(out.glob(".*.tmp"))
    caplog.set_level("INFO", logger="sweeper")
    train(cfg)  # interrupted is not finished: the same config resumes
    assert "resuming from epoch 2" in caplog.text
    assert json.loads((out / "metrics.json").read_text())["status"] == "ok"
    assert not (out / CHECKPOINT_NAME).exists()  # finished: model.pt + metrics.json say it all


def test_interrupt_while_testing_resumes_without_training_again(make_cfg, tmp_path, monkeypatch):
    train(make_cfg("task=memory", out=tmp_path / "straight"))
    real = train_module.evaluate_test_sets
    calls = []

    def interrupted_once(*args):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(train_module, "evaluate_test_sets", interrupted_once)
    cfg = make_cfg("task=memory", out=tmp_path / "resumed")
    with pytest.raises(KeyboardInterrupt):
        train(cfg)
    record = json.loads((tmp_path / "resumed" / "metrics.json").read_text())
    epochs = record["epochs_done"]
    assert record["reason"] == f"interrupted by SIGINT after epoch {epochs}, while testing"
    monkeypatch.undo()
    steps = []
    real_forward = train_module.forward
    monkeypatch.setattr(
        train_module,
        "forward",
        lambda model, x, kind: steps.append(model.training) or real_forward(model, x, kind),
    )
    train(cfg)
    assert not any(steps)  # tested only: not one training step again
    assert_same_run(tmp_path / "straight", tmp_path / "resumed")


@contextmanager
def interrupt_handlers() -> Iterator[None]:
    """sweeper's SIGINT/SIGTERM handlers (the command line's), put back as they were after."""
    before = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)}
    assert interrupt_module.install_interrupt_handlers()
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
        interrupt_module.answered()


def swallowed(signum: int) -> None:
    """A real signal to this process whose KeyboardInterrupt the code it lands in swallows,
    as C code that clears a callback's error does (seen in CI: a tiny run finished, exit 0)."""
    try:
        os.kill(os.getpid(), signum)
        time.sleep(5)  # the handler runs at once and raises here
        raise AssertionError("the signal never came")
    except KeyboardInterrupt:
        pass


@pytest.mark.parametrize(
    ("where", "signum", "reason"),
    [
        ("step", signal.SIGINT, "interrupted by SIGINT in epoch 2"),
        ("validation", signal.SIGTERM, "interrupted by SIGTERM in epoch 3"),
        ("testing", signal.SIGINT, "interrupted by SIGINT after epoch 3, while testing"),
    ],
)
def test_a_signal_whose_interrupt_was_swallowed_still_stops_the_run(
    make_cfg, monkeypatch, where, signum, reason
):
    cfg = make_cfg("task=memory", "trainer.epochs=3", "trainer.stop_accuracy=null")
    calls = {"n": 0}
    if where == "step":  # the 2nd training step of epoch 2
        real_forward = train_module.forward

        def forward(model, x, kind):
            calls["n"] += model.training
            if model.training and calls["n"] == task_batches(cfg) + 2:
                swallowed(signum)
            return real_forward(model, x, kind)

        monkeypatch.setattr(train_module, "forward", forward)
    else:
        name = "evaluate" if where == "validation" else "evaluate_test_sets"
        real = getattr(train_module, name)

        def swallowing(*args):
            calls["n"] += 1
            if calls["n"] == (2 if where == "validation" else 1):
                swallowed(signum)
            return real(*args)

        monkeypatch.setattr(train_module, name, swallowing)
    with interrupt_handlers(), pytest.raises(KeyboardInterrupt) as raised:
        train(cfg)
    assert interrupt_module.signal_name(raised.value) == signal.Signals(signum).name
    record = json.loads((Path(cfg.output_dir) / "metrics.json").read_text())
    assert record["status"] == "interrupted" and record["reason"] == reason
    assert interrupt_module.raise_unanswered() is None  # answered by the job: not raised again


def task_batches(cfg) -> int:
    from sweeper.run.job import prepare  # the task's own count of training batches

    return prepare(cfg, torch.device("cpu"))[0].num_train_batches


def test_interrupt_handlers_leave_an_ignored_sigint_ignored():
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with interrupt_handlers():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)  # a shell's background job ignores Ctrl-C
            interrupt_module.raise_unanswered()
    finally:
        signal.signal(signal.SIGINT, before)
    with interrupt_handlers():
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        swallowed(signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            interrupt_module.raise_unanswered()
        interrupt_module.answered()
        interrupt_module.raise_unanswered()  # nothing once answered


def test_checkpoint_of_another_config_is_refused_untouched(make_cfg, tmp_path, monkeypatch):
    interrupt_after(monkeypatch, epoch=1)
    with pytest.raises(KeyboardInterrupt):
        train(make_cfg("task=memory", "optim.lr=0.04"))
    monkeypatch.undo()
    before = folder_state(tmp_path / "run")
    with pytest.raises(
        RunFolderError, match=r"belongs to a different config \(optim\.lr: 0\.04 -> 0\.05\)"
    ):
        train(make_cfg("task=memory", "optim.lr=0.05"))
    assert folder_state(tmp_path / "run") == before


def test_finished_run_is_refused_untouched(make_cfg, tmp_path):
    cfg = make_cfg("task=memory", "trainer.epochs=1")
    train(cfg)
    before = folder_state(tmp_path / "run")
    with pytest.raises(RunFolderError, match=r"already holds a finished run \(status ok\)"):
        train(cfg)
    assert folder_state(tmp_path / "run") == before


# Another process holding the run folder's lock as `RunFolder` takes it (flock, pid inside),
# without importing torch, so that it starts in a moment.
HOLD_LOCK = """
import fcntl, os, sys, time
os.makedirs(sys.argv[1])
fd = os.open(os.path.join(sys.argv[1], sys.argv[2]), os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
os.write(fd, f"{os.getpid()}\\n".encode())
print("held", flush=True)
time.sleep(120)
"""


def test_folder_locked_by_another_process_is_refused_without_writing(make_cfg, tmp_path):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out), LOCK_NAME],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        before = folder_state(out)
        cfg = make_cfg("task=memory", "trainer.epochs=1")
        with pytest.raises(
            RunFolderError, match=rf"{out} is in use by another run \(pid {holder.pid}\)"
        ):
            train(cfg)
        assert folder_state(out) == before
    finally:
        holder.kill()  # SIGKILL: the OS releases the lock
        holder.wait()
    train(cfg)
    assert json.loads((out / "metrics.json").read_text())["status"] == "ok"


def test_a_folder_in_use_fails_a_multirun_job_but_not_the_sweep(make_cfg, tmp_path, capsys):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out), LOCK_NAME],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        cfg = make_cfg("task=memory", "trainer.epochs=1")
        with pytest.raises(RunFolderError):  # the launcher records the job as failed
            run_job(cfg, multirun=True)
        assert not (out / "metrics.json").exists()  # and nothing was written there
        with pytest.raises(SystemExit) as exit_:
            run_job(cfg, multirun=False)
        assert exit_.value.code == 2
        assert capsys.readouterr().err == (
            f"sweeper: error: {out} is in use by another run (pid {holder.pid})\n"
        )
    finally:
        holder.kill()
        holder.wait()


@contextmanager
def unwritable_folder(path: Path) -> Iterator[str]:
    """`path` as an existing folder nobody can write into; yields the OS's reason.

    Not root: mode 0555. Root ignores modes, so there the folder is made immutable
    (chattr +i), which root cannot write into either."""
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield "Permission denied"
        finally:
            path.chmod(0o755)
        return
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"running as root and chattr +i failed: {made.stderr.strip()}")
    try:
        yield "Operation not permitted"
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_unwritable_run_folder_is_one_clear_error(make_cfg, tmp_path):
    out = tmp_path / "run"
    with unwritable_folder(out) as why:
        with pytest.raises(RunFolderError, match=f"^cannot write to {out}: {why}$"):
            train(make_cfg("task=memory", "trainer.epochs=1", out=out))
        assert list(out.iterdir()) == []
    (tmp_path / "file").write_text("not a folder")
    under_a_file = tmp_path / "file" / "run"
    with pytest.raises(RunFolderError, match=f"^cannot write to {under_a_file}: Not a directory$"):
        train(make_cfg("task=memory", "trainer.epochs=1", out=under_a_file))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["task=memory", "model.readout=each"], "model.readout=each does not fit task memory"),
        (["task=memory", "objective.metric=nope"], "objective.metric=nope is not a metric of"),
        (
            ["task=mnist", "task.data_root=/nonexistent"],
            "task.data_root: /nonexistent/MNIST/raw: missing",
        ),
    ],
)
def test_config_failure_in_a_multirun_is_recorded_for_collect(make_cfg, overrides, message):
    cfg = make_cfg(*overrides, "trainer.epochs=1")
    with pytest.raises(ConfigError) as error:
        train(cfg)
    assert not Path(cfg.output_dir).exists()  # train itself wrote nothing
    assert record_config_failure(cfg, error.value) == -math.inf
    record = json.loads(Path(cfg.output_dir, "metrics.json").read_text())
    assert record["status"] == "failed"
    assert record["reason"].startswith(f"config: {message}")
    assert record["objective"] == -math.inf
    assert record["objective_direction"] == "maximize"
    assert record["objective_metric"] == cfg.objective.metric
    assert record["settings"]["task.name"] == cfg.task.name
    assert record["settings"]["model.hidden"] == cfg.model.hidden


@pytest.mark.parametrize("earlier", ["finished", "interrupted"])
def test_config_failure_is_never_recorded_over_a_run_it_would_lose(
    make_cfg, tmp_path, monkeypatch, earlier
):
    cfg = make_cfg("task=memory", "trainer.epochs=2")
    if earlier == "interrupted":  # its checkpoint must stay resumable
        interrupt_after(monkeypatch, epoch=1)
    try:
        train(cfg)
    except KeyboardInterrupt:
        monkeypatch.undo()
    before = folder_state(tmp_path / "run")
    minimise = make_cfg("task=memory", "objective.direction=minimize", "objective.metric=nope")
    assert record_config_failure(minimise, ConfigError("x")) == math.inf
    assert folder_state(tmp_path / "run") == before


# --- real signals to the command line -------------------------------------------------

# A memory run of 40 short epochs (~0.03 s each on an idle core): it is caught after
# epoch 2 (and frozen there until signalled), and finishes in a few seconds.
RUN = [
    "task=memory",
    "task.train_size=480",
    "task.val_size=270",
    "task.test_per_length=20",
    "task.extrapolation_lengths=[13]",
    "trainer.epochs=40",
    "trainer.stop_accuracy=null",
    "trainer.patience=0",
    "device.threads=1",
]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def command(run_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sweeper", *RUN, *extra, f"hydra.run.dir={run_dir}"]


def run(run_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command(run_dir, *extra),
        cwd=run_dir.parent,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )


def start_and_wait_for_epoch(run_dir: Path, epoch: int = 2) -> subprocess.Popen:
    """Start the run; once its checkpoint shows `epoch`, freeze it (SIGSTOP: it stays alive,
    lock held, where it is) and return it. `send` then signals it and lets it go on."""
    process = subprocess.Popen(
        command(run_dir),
        cwd=run_dir.parent,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell starts background jobs with SIGINT ignored, and Python keeps it ignored:
        # give the run the default disposition a terminal's Ctrl-C meets.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            state = torch.load(run_dir / CHECKPOINT_NAME, weights_only=True)
            if state["epoch"] >= epoch:
                process.send_signal(signal.SIGSTOP)
                frozen = torch.load(run_dir / CHECKPOINT_NAME, weights_only=True)["epoch"]
                assert frozen < 40, "caught too late: the run had finished training"
                return process
        except (FileNotFoundError, EOFError, RuntimeError):
            pass  # not written yet
        time.sleep(0.02)
    process.kill()
    raise AssertionError("the run never reached epoch 2")


def send(process: subprocess.Popen, signum: int) -> None:
    """`signum` to a frozen run, then SIGCONT: it handles the signal where it stood."""
    process.send_signal(signum)
    process.send_signal(signal.SIGCONT)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The same run, never interrupted."""
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    result = run(run_dir)
    assert result.returncode == 0, result.stderr[-2000:]
    return run_dir


def assert_resumes_to_reference(run_dir: Path, reference: Path) -> None:
    result = run(run_dir)
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "resuming from epoch" in output
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "ok" and record["resumed_from_epoch"] >= 2
    assert_same_run(reference, run_dir)
    assert not (run_dir / CHECKPOINT_NAME).exists()


@pytest.mark.slow
def test_sigkill_then_the_same_command_resumes_to_the_same_metrics(tmp_path, reference):
    run_dir = tmp_path / "run"
    process = start_and_wait_for_epoch(run_dir)
    send(process, signal.SIGKILL)
    process.communicate()
    assert not (run_dir / "metrics.json").exists()
    assert_resumes_to_reference(run_dir, reference)


@pytest.mark.slow
def test_sigint_records_interrupted_exits_130_and_a_second_process_is_refused(tmp_path, reference):
    run_dir = tmp_path / "run"
    process = start_and_wait_for_epoch(run_dir)
    hydra_files = {p: p.read_bytes() for p in (run_dir / ".hydra").iterdir()}
    second = run(run_dir)  # the same folder while the first still runs
    assert second.returncode == 2
    assert second.stderr.strip() == (
        f"sweeper: error: {run_dir} is in use by another run (pid {process.pid})"
    )
    assert {p: p.read_bytes() for p in (run_dir / ".hydra").iterdir()} == hydra_files
    send(process, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1] == "sweeper: interrupted by SIGINT"
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "interrupted" and record["reason"].startswith(
        "interrupted by SIGINT in epoch "
    )
    assert (
        torch.load(run_dir / CHECKPOINT_NAME, weights_only=True)["epoch"] == (record["epochs_done"])
    )
    assert_resumes_to_reference(run_dir, reference)


@pytest.mark.slow
def test_sigterm_exits_143_and_another_config_cannot_resume_it(tmp_path, reference):
    run_dir = tmp_path / "run"
    process = start_and_wait_for_epoch(run_dir)
    send(process, signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143
    assert stderr.strip().splitlines()[-1] == "sweeper: interrupted by SIGTERM"
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "interrupted" and "SIGTERM in epoch" in record["reason"]
    before = folder_state(run_dir)
    other = run(run_dir, "optim.lr=0.05")
    assert other.returncode == 2
    lines = other.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"sweeper: error: {run_dir / CHECKPOINT_NAME}")
    assert "belongs to a different config (optim.lr: 0.04 -> 0.05)" in lines[0]
    assert folder_state(run_dir) == before  # not even .hydra/ or the log was touched
    assert_resumes_to_reference(run_dir, reference)


@pytest.mark.slow
def test_a_finished_run_folder_is_refused_untouched(reference):
    before = folder_state(reference)
    result = run(reference)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"sweeper: error: {reference} already holds a finished run (status ok); "
        "choose another hydra.run.dir"
    )
    assert folder_state(reference) == before


def test_unwritable_hydra_run_dir_is_one_line_exit_2(tmp_path):
    run_dir = tmp_path / "run"
    with unwritable_folder(run_dir) as why:
        result = run(run_dir)
    assert result.returncode == 2
    assert result.stderr.strip() == f"sweeper: error: cannot write to {run_dir}: {why}"


def test_a_signal_right_after_a_checkpoint_is_renamed_counts_that_epoch(make_cfg, monkeypatch):
    real_save = checkpoint_module.save_torch

    def save_then_interrupt(path, obj):
        real_save(path, obj)
        if obj["epoch"] == 2:  # saved, but Checkpointer.epoch not yet updated
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint_module, "save_torch", save_then_interrupt)
    cfg = make_cfg("task=memory", "trainer.epochs=3")
    with pytest.raises(KeyboardInterrupt):
        train(cfg)
    record = json.loads(Path(cfg.output_dir, "metrics.json").read_text())
    assert record["epochs_done"] == 2 and record["reason"] == "interrupted by SIGINT in epoch 3"
