"""A refused single run leaves no folder behind, and keeps what was there (issue #24).

Hydra makes the run folder (`.hydra/`, the log file) and sweeper's callback its `.lock`
before the job's config is checked; a single run refused for its config (exit 2) takes
back what it wrote: the folders it made go, a folder that was there keeps every file it
held, as it was. In a multirun a job refused at run time is still recorded as failed in
its own folder, so the sweep goes on.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from hydra import compose, initialize_config_dir

from conftest import CONF_DIR, SMALL_RUN, sweeper
from sweeper.cli import run_job
from sweeper.run.callbacks import FolderState, discard_refused_run


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under `folder`, with each file's bytes (None for a folder)."""
    return {
        str(p.relative_to(folder)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(folder.rglob("*"))
    }


def test_a_refused_run_leaves_no_folder(tmp_path):
    for args in (["model.hidden=0"], ["+trainer.epochz=3"], ["optim.lr=-1"]):
        result = sweeper(*args, cwd=tmp_path)  # into outputs/<task>/<date>/<time>/
        assert result.returncode == 2
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert list(tmp_path.iterdir()) == [], args  # not even outputs/


def test_a_run_refused_once_its_task_is_built_leaves_no_folder_either(tmp_path):
    run_dir = tmp_path / "deep" / "er" / "run"
    result = sweeper("objective.metric=nope", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "sweeper: error: objective.metric=nope is not a metric of task adder; choose one of "
        + result.stderr.split("choose one of ", 1)[1].strip()
    ]
    assert list(tmp_path.iterdir()) == []  # deep/er/ were made by the run: gone too


def test_a_folder_that_was_there_keeps_what_it_held(tmp_path):
    run_dir = tmp_path / "run"  # e.g. an interrupted run the user resumes, with a typo
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text("the run's own config\n")
    (run_dir / "train.log").write_text("epoch 1/30 ...\n")
    (run_dir / "notes.txt").write_text("mine\n")
    before = tree(run_dir)
    result = sweeper("model.hidden=0", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 2
    assert tree(run_dir) == before  # nothing added (.lock, overrides.yaml), nothing changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_the_current_folder_as_run_folder_is_left_as_it_was(tmp_path):
    (tmp_path / "data.csv").write_text("1,2\n")
    before = tree(tmp_path)
    result = sweeper("model.hidden=0", "hydra.run.dir=.", cwd=tmp_path)
    assert result.returncode == 2
    assert tree(tmp_path) == before


def test_a_good_run_still_writes_its_folder(tmp_path):
    result = sweeper(*SMALL_RUN[:-2], "trainer.epochs=1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    (metrics,) = (tmp_path / "outputs" / "adder").glob("*/*/metrics.json")
    assert json.loads(metrics.read_text())["status"] == "ok"
    assert (metrics.parent / ".hydra" / "config.yaml").is_file()


def test_a_multirun_job_refused_at_run_time_is_recorded_as_failed(tmp_path):
    job = tmp_path / "sweep" / "0"
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["model.hidden=0", f"output_dir={job}"])
    discard_refused_run()  # no single run of sweeper's here: nothing to do
    value = run_job(cfg, multirun=True)
    assert value == -math.inf
    record = json.loads((job / "metrics.json").read_text())
    assert record["status"] == "failed"
    assert record["reason"] == "config: model.hidden must be a positive integer, got 0"


def test_folder_state_takes_back_only_what_came_after(tmp_path):
    folder = tmp_path / "run"
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "config.yaml").write_text("old\n")
    (folder / "train.log").write_text("old lines\n")
    (folder / "keep.txt").write_text("kept\n")
    before = tree(folder)
    state = FolderState(folder, made=None, had_lock=False, subdir=".hydra")
    (folder / ".hydra" / "config.yaml").write_text("new\n")  # what Hydra does next
    (folder / ".hydra" / "hydra.yaml").write_text("new\n")
    with open(folder / "train.log", "a") as log:
        log.write("a refused run's line\n")
    (folder / ".lock").write_text(f"{os.getpid()}\n")
    (folder / "new").mkdir()
    (folder / "new" / "file").write_text("x")
    state.restore()
    assert tree(folder) == before

    made = tmp_path / "a" / "b"
    made.mkdir(parents=True)
    state = FolderState(made, made=tmp_path / "a", had_lock=False, subdir=".hydra")
    (made / ".hydra").mkdir()
    (made / ".hydra" / "config.yaml").write_text("new\n")
    (made / "train.log").write_text("")
    state.restore()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # a/ and a/b/ went
