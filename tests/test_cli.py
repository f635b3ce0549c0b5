"""The command line as a user types it: sweeps, help, errors, and the installed package."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT, SMALL_RUN, sweeper


def test_help_lists_the_groups(tmp_path):
    result = sweeper("--help", cwd=tmp_path)
    assert result.returncode == 0
    for line in (
        "task: adder, memory, mnist",
        "model: bilstm, gru, lstm, rnn",
        "loss: ce, mse",
        "device: auto, cpu, cuda",
        "experiment: assignment_adder",
        "python -m sweeper.collect SWEEP_DIR",
        "python -m sweeper.compare",
        "python -m sweeper.predict RUN_DIR",
        "python -m sweeper.confirm",
        "outputs/<task>/<date>/<time>/",
        "multirun/<date>/<time>/<job>/",
    ):
        assert line in result.stdout


def test_cfg_job_shows_the_composed_config(tmp_path):
    result = sweeper("task=memory", "hidden_size=5", "--cfg", "job", cwd=tmp_path)  # = model.hidden
    assert result.returncode == 0, result.stderr
    assert "name: memory" in result.stdout and "hidden: 5" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["model.hidden=0"], "sweeper: error: model.hidden must be a positive integer, got 0"),
        (["optim.lr=-1"], "sweeper: error: optim.lr must be a finite number > 0, got -1"),
        (
            ["trainer.epochs=-3"],
            "sweeper: error: trainer.epochs must be a positive integer, got -3",
        ),
        (["optim.lr=inf"], "sweeper: error: optim.lr must be a finite number > 0, got inf"),
        (
            ["optim.weight_decay=nan"],
            "sweeper: error: optim.weight_decay must be a finite number >= 0, got nan",
        ),
        (
            ["model.hidden=big"],
            "sweeper: error: model.hidden must be a positive integer, got 'big'",
        ),
        (
            ["task.epochs=3"],
            "sweeper: error: task.epochs moved to trainer.epochs: write trainer.epochs=...",
        ),
        (
            ["hidden_size=3", "model.hidden=5"],
            "sweeper: error: the hidden size is given twice (hidden_size and model.hidden): "
            "hidden_size= is another name for model.hidden=, give one",
        ),
        (
            ["task._target_=sweeper.tasks.nope.NopeTask"],
            "sweeper: error: task._target_=sweeper.tasks.nope.NopeTask cannot be imported: "
            "module 'sweeper.tasks' has no attribute 'nope'",
        ),
        (
            ["model._target_=torch.nn.Nope"],
            "sweeper: error: model._target_=torch.nn.Nope cannot be imported: "
            "module 'torch.nn' has no attribute 'Nope'",
        ),
        (
            ["task.min_length=abc"],
            "sweeper: error: task.min_length must be an integer, got 'abc'",
        ),
    ],
)
def test_bad_values_exit_2_with_one_line(tmp_path, args, message):
    result = sweeper(*args, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == message
    assert not (tmp_path / "run").exists()  # a refused run leaves no folder


def test_unknown_task_exits_2_listing_the_tasks(tmp_path):
    result = sweeper("task=nope", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "sweeper: error: task=nope: no such option; choose one of adder, memory, mnist"
    ]
    assert list(tmp_path.iterdir()) == []  # more typos: tests/test_typos.py


def test_cuda_without_a_gpu_exits_2(tmp_path):
    code = (
        "import sys, torch; torch.cuda.is_available = lambda: False; "
        "sys.argv[0] = 'sweeper'; from sweeper.cli import cli; cli()"
    )
    result = sweeper("device=cuda", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path, code=code)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("sweeper: error: device.name=cuda but no CUDA GPU")


EXIT_CHECK = """
import atexit, sys, threading, time
from pathlib import Path
from sweeper.cli import exit_without_teardown
atexit.register(lambda: Path(sys.argv[1]).write_text("atexit ran"))
if sys.argv[2] == "thread":
    threading.Thread(target=lambda: (time.sleep(0.5), print("thread done"))).start()
sys.stdout.write("no newline yet")
exit_without_teardown()
print(" ... returned", end="")
"""


@pytest.mark.parametrize("thread", ["none", "thread"])
def test_exit_without_teardown_keeps_what_a_normal_exit_does(tmp_path, thread):
    marker = tmp_path / "marker.txt"
    result = sweeper(str(marker), thread, cwd=tmp_path, code=EXIT_CHECK)
    assert result.returncode == 0, result.stderr[-2000:]
    assert marker.read_text() == "atexit ran"  # atexit handlers ran, buffered output came out
    if thread == "none":
        assert result.stdout == "no newline yet"  # exited at once: the line after never ran
    else:  # a running non-daemon thread: the normal exit, which waits for it
        assert result.stdout.startswith("no newline yet ... returned")
        assert "thread done" in result.stdout


@pytest.mark.slow
def test_grid_sweep_leaves_a_finished_folder_per_job(tmp_path):
    sweep_dir = tmp_path / "sweep"
    result = sweeper(
        "task=adder",
        "model.hidden=3,5",
        "loss=mse,ce",
        *SMALL_RUN,
        f"hydra.sweep.dir={sweep_dir}",
        "-m",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = sorted(p for p in sweep_dir.iterdir() if p.is_dir() and p.name != ".sweeper")
    assert [p.name for p in jobs] == ["0", "1", "2", "3"]  # .sweeper: the grid's lock
    for job in jobs:
        names = {p.name for p in job.iterdir()}
        assert {"metrics.json", "history.csv", "by_length.csv", "model.pt", "curves.png"} <= names
        assert json.loads((job / "metrics.json").read_text())["status"] == "ok"
    hidden_loss = [json.loads((j / "metrics.json").read_text())["settings"] for j in jobs]
    assert [(s["model.hidden"], s["loss.name"]) for s in hidden_loss] == [
        (3, "mse"),
        (3, "ce"),
        (5, "mse"),
        (5, "ce"),
    ]
    assert result.stdout.count("test bit accuracy") + result.stderr.count("test bit accuracy") == 4
    # The collect callback ran when the multirun ended.
    results = pd.read_csv(sweep_dir / "results.csv")
    assert list(zip(results["model.hidden"], results["loss"])) == [
        (3, "mse"),
        (3, "ce"),
        (5, "mse"),
        (5, "ce"),
    ]
    assert {"summary.md", "curves.png", "bit_accuracy_vs_length.png"} <= {
        p.name for p in sweep_dir.iterdir()
    }


@pytest.mark.slow
def test_optuna_search_folder_is_collected(tmp_path):
    sweep_dir = tmp_path / "search"
    result = sweeper(
        "task=adder",
        "hydra/sweeper=optuna",
        "hydra.sweeper.n_trials=3",
        "hydra.sweeper.sampler.seed=1",
        "optim.lr=tag(log, interval(0.001, 0.1))",
        *SMALL_RUN,
        f"hydra.sweep.dir={sweep_dir}",
        "-m",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    results = pd.read_csv(sweep_dir / "results.csv")
    assert len(results) == 3 and results["optim.lr"].between(0.001, 0.1).all()
    assert "Swept: `optim.lr`" in (sweep_dir / "summary.md").read_text()


@pytest.mark.slow
def test_hidden_size_sweeps_like_model_hidden_and_joins_in_compare(tmp_path):
    tiny = ["task=memory", *SMALL_RUN[:-1], "trainer.epochs=1", "task.val_size=90", "-m"]
    for spelling, folder in (("hidden_size", "a"), ("model.hidden", "b")):
        result = sweeper(
            f"{spelling}=2,5", *tiny, f"hydra.sweep.dir={tmp_path / folder}", cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr[-2000:]
        results = pd.read_csv(tmp_path / folder / "results.csv")
        assert list(results["model.hidden"]) == [2, 5] and "hidden_size" not in results
        assert [c for c in results.columns if "hidden" in c] == ["model.hidden"]  # one column
    out = tmp_path / "diff.csv"
    result = sweeper(
        "compare",
        str(tmp_path / "a/results.csv"),
        str(tmp_path / "b/results.csv"),
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    joined = pd.read_csv(out)  # long format: one row per configuration and metric
    assert set(joined["model.hidden"]) == {2, 5} and joined["A"].notna().all()
    assert joined["B"].notna().all()  # every configuration of A found its match in B


@pytest.mark.slow
def test_a_failing_job_does_not_stop_the_sweep(tmp_path):
    # Job hidden=3 breaks inside training; the other job must still run and finish.
    code = (
        "import sys, sweeper.core.train as t\n"
        "real_fit = t.fit\n"
        "def fit(model, task, cfg, *rest):\n"
        "    if cfg.model.hidden == 3: raise RuntimeError('injected failure')\n"
        "    return real_fit(model, task, cfg, *rest)\n"
        "t.fit = fit\n"
        "sys.argv[0] = 'sweeper'\n"
        "from sweeper.cli import cli; cli()\n"
    )
    result = sweeper(
        "model.hidden=3,5",
        *SMALL_RUN,
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        "-m",
        cwd=tmp_path,
        code=code,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    failed, ok = (json.loads((tmp_path / "sweep" / j / "metrics.json").read_text()) for j in "01")
    assert failed["status"] == "failed" and failed["reason"] == "RuntimeError: injected failure"
    assert failed["objective"] == float("-inf")
    assert ok["status"] == "ok"


@pytest.mark.slow
def test_failed_single_run_exits_1(tmp_path):
    code = (
        "import sys, sweeper.core.train as t\n"
        "t.fit = lambda *a: (_ for _ in ()).throw(RuntimeError('boom'))\n"
        "sys.argv[0] = 'sweeper'\n"
        "from sweeper.cli import cli; cli()\n"
    )
    result = sweeper(*SMALL_RUN, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path, code=code)
    assert result.returncode == 1
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["status"] == "failed"
    assert f"outputs in {tmp_path / 'run'}" in result.stdout  # a single run says where it wrote


@pytest.mark.slow
def test_installed_package_runs_from_another_folder(tmp_path):
    """A non-editable install (the config tree inside the package) works outside the repo."""
    target = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    assert (target / "sweeper" / "conf" / "config.yaml").is_file()
    assert (target / "sweeper" / "conf" / "hydra" / "help" / "sweeper.yaml").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(target)}
    where = sweeper(code="import sweeper; print(sweeper.__file__)", cwd=elsewhere, env=env)
    assert where.stdout.startswith(str(target)), where.stdout + where.stderr
    result = sweeper("task=memory", *SMALL_RUN[:-1], "task.val_size=90", cwd=elsewhere, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = list((elsewhere / "outputs" / "memory").glob("*/*/metrics.json"))
    assert len(metrics) == 1 and json.loads(metrics[0].read_text())["status"] == "ok"
    script = subprocess.run(
        [str(target / "bin" / "sweeper"), "--help"],
        cwd=elsewhere,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert script.returncode == 0 and "task: adder, memory, mnist" in script.stdout, script.stderr


@pytest.mark.slow
def test_a_value_only_building_the_task_shows_is_refused_before_any_job(tmp_path):
    # `nope` passes the static checks but is no metric of the adder: the grid's preflight
    # builds the task (as train() would) and refuses the point before any job runs.
    sweep_dir = tmp_path / "sweep"
    result = sweeper(
        "objective.metric=test_accuracy,nope",
        *SMALL_RUN,
        f"hydra.sweep.dir={sweep_dir}",
        "-m",
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    message = "objective.metric=nope is not a metric of task adder; choose one of"
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("sweeper: error: 1 of 2 grid points is invalid, nothing was run")
    assert f"point 1 (objective.metric=nope): {message}" in last
    assert not sweep_dir.exists() or not any(p.name.isdigit() for p in sweep_dir.iterdir())
