"""collect refuses a folder with nothing to collect in one line and leaves it as it was."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from fake_folders import GOOD_RECORD, fake_job
from omegaconf import OmegaConf
from tree_snapshot import tree

from sweeper import collect as collect_module
from sweeper.collect import CollectCallback, write_outputs
from sweeper.records.files import COLLECT_OUTPUTS
from sweeper.reports.results import load_sweep


def _killed(folder: Path) -> None:
    (folder / "0" / ".hydra").mkdir(parents=True)
    (folder / "0" / ".hydra" / "config.yaml").write_text("seed: 0\n")
    (folder / "0" / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(["loss=mse"]))


def _broken(folder: Path) -> None:
    fake_job(folder / "0", 0, ["model.hidden=3"])
    (folder / "0" / "metrics.json").write_text("{not json")


def _interrupted(folder: Path) -> None:
    fake_job(folder / "0", 0, ["model.hidden=3"])
    record = dict(GOOD_RECORD, status="interrupted", reason="interrupted by SIGTERM in epoch 1")
    (folder / "0" / "metrics.json").write_text(json.dumps(record))


def _unrelated(folder: Path) -> None:
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / "notes.txt").write_text("hello")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "metrics.json").write_text("{}")  # hidden folders are not searched


NOTHING = {
    "empty": (lambda f: None, 0),
    "unrelated files": (_unrelated, 0),
    "a killed job": (_killed, 1),
    "a broken metrics.json": (_broken, 1),
    "an interrupted job": (_interrupted, 1),
}


@pytest.mark.parametrize("make, skipped", NOTHING.values(), ids=NOTHING.keys())
def test_nothing_to_collect_is_one_line_and_the_folder_is_left_as_it_was(
    tmp_path, capsys, make, skipped
):
    folder = tmp_path / "sweep"
    folder.mkdir()
    make(folder)
    before = tree(tmp_path)
    assert collect_module.main([str(folder)]) == 1
    assert tree(tmp_path) == before  # no summary.md, no report.html, no temporary file
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"sweeper collect: error: {folder}: no finished job folders")
    assert captured.err.rstrip().endswith("; nothing written")
    assert captured.out.count("skipped ") == skipped  # each skipped job with its reason


def test_a_path_that_is_no_folder_is_refused_and_left_alone(tmp_path, capsys):
    path = tmp_path / "results.csv"
    path.write_text("job,status\n")
    before = tree(tmp_path)
    assert collect_module.main([str(path)]) == 1
    assert tree(tmp_path) == before
    assert capsys.readouterr().err.count("\n") == 1


def test_a_refused_folder_does_not_stop_the_others(tmp_path, capsys):
    good, empty = tmp_path / "good", tmp_path / "empty"
    fake_job(good / "0", 0, ["model.hidden=3"])
    empty.mkdir()
    before = tree(empty)
    assert collect_module.main([str(empty), str(good)]) == 1
    assert tree(empty) == before
    assert (good / "results.csv").is_file() and (good / "summary.md").is_file()


def test_a_refused_replicate_key_writes_nothing(tmp_path, capsys):
    folder = tmp_path / "sweep"
    fake_job(folder / "0", 0, ["model.hidden=3"])
    fake_job(folder / "1", 1, ["model.hidden=5"])
    before = tree(tmp_path)
    assert collect_module.main([str(folder), "--replicate-key", "nope"]) == 2
    assert tree(tmp_path) == before
    assert capsys.readouterr().err.count("\n") == 1


def test_write_outputs_and_the_callback_write_nothing_without_a_finished_job(tmp_path, caplog):
    folder = tmp_path / "sweep"
    _killed(folder)
    before = tree(tmp_path)
    assert write_outputs(load_sweep(folder)) == []
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(folder)}}})
    with caplog.at_level(logging.INFO):
        CollectCallback().on_multirun_end(config)
    assert tree(tmp_path) == before
    assert not any((folder / name).exists() for name in COLLECT_OUTPUTS)
    assert "no finished job folders to collect (1 skipped" in caplog.text
    assert "skipped 0: no metrics.json" in caplog.text


def test_a_sweep_whose_jobs_all_still_wait_or_run_says_how_many_wait(tmp_path, capsys):
    """collect while a SLURM array runs, before any job finished: still nothing written,
    but the line says the grid's jobs that have no folder yet (in the queue)."""
    folder = tmp_path / "sweep"
    _killed(folder)  # job 0 runs: no metrics.json yet
    points = [["loss=mse"], ["loss=ce"], ["loss=mse", "seed=1"]]
    (folder / ".sweeper").mkdir()
    (folder / ".sweeper" / "grid.json").write_text(json.dumps({"points": points}))
    before = tree(tmp_path)
    assert collect_module.main([str(folder)]) == 1
    err = capsys.readouterr().err
    assert (
        "no finished job folders to collect (1 skipped, see above); pending: 2 of the "
        "grid's 3 jobs have no job folder yet"
    ) in err
    assert tree(tmp_path) == before
