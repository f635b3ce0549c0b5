"""compare's inputs: every unusable one and A = B are refused in one line, nothing written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from fake_folders import GOOD_RECORD, fake_job
from tree_snapshot import tree

from sweeper import compare as compare_module
from sweeper.collect import collect


@pytest.fixture
def sweep(tmp_path) -> Path:
    """A collected 2x2 sweep folder (hidden 3/5 x loss mse/ce) of hand-written jobs."""
    folder = tmp_path / "grid"
    values = [0.8, 0.85, 0.9, 0.95]
    jobs = [(h, loss) for h in (3, 5) for loss in ("mse", "ce")]
    for num, ((hidden, loss), value) in enumerate(zip(jobs, values)):
        record = dict(GOOD_RECORD, objective=value)
        record["metrics"] = dict(GOOD_RECORD["metrics"], test_accuracy=value)
        fake_job(folder / str(num), num, [f"model.hidden={hidden}", f"loss={loss}"], record)
    collect(folder)
    return folder


def refused(args: list[str], capsys, where: Path, code: int = 2) -> str:
    """Run compare, check it exits `code` with one stderr line, prints nothing and leaves
    `where` exactly as it was; return the line."""
    before = tree(where)
    assert compare_module.main(args) == code
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("sweeper compare: error: ") and captured.err.count("\n") == 1
    assert tree(where) == before
    return captured.err


def _fifo(path: Path) -> None:
    os.mkfifo(path)


BAD = {
    # name: (how to make it at path, what the line says)
    "junk": (lambda p: p.write_text("hello\nworld\n"), "not a sweeper results.csv: no job or"),
    "two-columns": (
        lambda p: p.write_text("a,b\n1,2\n"),
        "not a sweeper results.csv: no job or status column (its columns: a, b)",
    ),
    "job-only": (
        lambda p: p.write_text("job,objective\n0,0.9\n"),
        "not a sweeper results.csv: no status column",
    ),
    "empty": (lambda p: p.write_text(""), "an empty file, not a sweeper results.csv"),
    "blank-lines": (lambda p: p.write_text("\n\n  \n"), "an empty file"),
    "header-only": (
        lambda p: p.write_text("job,model.hidden,status,objective\n"),
        "no rows (a header without jobs)",
    ),
    "binary": (
        lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        "binary data, not a sweeper results.csv",
    ),
    "latin-1": (
        lambda p: p.write_bytes(b"job,status\n\xe9t\xe9,ok\n"),
        "not UTF-8 text, not a sweeper results.csv",
    ),
    "not-csv": (
        lambda p: p.write_text('job,status\n0,ok\n"unclosed,\n'),
        "not a readable CSV",
    ),
    "trials-csv": (
        lambda p: p.write_text(
            "number,value,datetime_start,params_optim.lr,state\n0,0.9,x,0.01,COMPLETE\n"
        ),
        "not a sweeper results.csv: an Optuna trials.csv (one row per trial)",
    ),
    "compare-out": (
        lambda p: p.write_text("model.hidden,metric,A,B,B - A\n3,objective,0.8,0.9,0.1\n"),
        "a comparison table (sweeper compare --out)",
    ),
    "missing": (lambda p: None, "no such file"),
    "broken-link": (lambda p: p.symlink_to(p.parent / "gone.csv"), "no such file (a broken link)"),
    "fifo": (_fifo, "not a regular file, not a sweeper results.csv"),
    "empty-folder": (lambda p: p.mkdir(), "not a sweep folder (no finished job folders, no"),
    "folder-of-junk": (
        lambda p: (p.mkdir(), (p / "notes.txt").write_text("x")),
        "not a sweep folder",
    ),
}


@pytest.mark.parametrize("make, says", BAD.values(), ids=BAD.keys())
def test_an_unusable_input_is_one_line_naming_it_and_nothing_is_written(
    sweep, tmp_path, capsys, make, says
):
    bad = tmp_path / "bad.csv"
    make(bad)
    out = tmp_path / "out.csv"
    results = str(sweep / "results.csv")
    for args in (
        [results, str(bad)],
        [str(bad), results, "--out", str(out)],
        [str(bad), "--by", "loss", "--out", str(out)],
    ):
        line = refused(args, capsys, tmp_path)
        assert f"{bad}: " in line and says in line, line
        assert not out.exists()


@pytest.mark.parametrize(
    "name, says",
    [
        ("results_by_config.csv", "a results_by_config.csv (one row per configuration)"),
        ("history.csv", "a history.csv (one row per epoch)"),
        ("by_length.csv", "a by_length.csv (one row per length)"),
    ],
)
def test_another_table_of_a_sweep_is_named_for_what_it_is(sweep, tmp_path, capsys, name, says):
    line = refused([str(sweep / "results.csv"), str(sweep / name)], capsys, tmp_path)
    assert f"{sweep / name}: not a sweeper results.csv: {says}" in line


SAME = {
    "the same path": lambda s: ("grid/results.csv", "grid/results.csv"),
    "./ and ..": lambda s: ("grid/results.csv", "./grid/../grid/results.csv"),
    "absolute and relative": lambda s: (str(s / "results.csv"), "grid/results.csv"),
    "a symlink": lambda s: ("grid/results.csv", "link.csv"),
    "a hard link": lambda s: ("grid/results.csv", "hard.csv"),
    "a folder and its results.csv": lambda s: ("grid", "grid/results.csv"),
    "its results.csv and the folder": lambda s: ("grid/results.csv", "grid/"),
    "the folder twice": lambda s: ("grid", "./grid"),
    "a link to the folder": lambda s: ("grid", "grid-link"),
    "a linked folder's results.csv": lambda s: ("grid", "grid-link/results.csv"),
}


@pytest.mark.parametrize("paths", SAME.values(), ids=SAME.keys())
def test_a_sweep_compared_with_itself_is_refused_in_one_line(
    sweep, tmp_path, capsys, monkeypatch, paths
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "link.csv").symlink_to(sweep / "results.csv")
    os.link(sweep / "results.csv", tmp_path / "hard.csv")
    (tmp_path / "grid-link").symlink_to(sweep)
    a, b = paths(sweep)
    line = refused([a, b, "--out", "out.csv"], capsys, tmp_path)
    assert "A and B are one sweep" in line and str(Path(a)) in line and str(Path(b)) in line
    assert "give two sweeps, or one with --by KEY" in line


def test_a_copy_is_compared_with_a_warning(sweep, tmp_path, capsys):
    copy = tmp_path / "copy.csv"
    copy.write_bytes((sweep / "results.csv").read_bytes())
    out = tmp_path / "out.csv"
    assert compare_module.main([str(sweep / "results.csv"), str(copy), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {copy} holds the same jobs and values as {sweep / 'results.csv'}" in err
    assert (pd.read_csv(out)["B - A"] == 0).all()
    # a copied sweep folder (other job_dir paths, the same jobs) too
    shutil.copytree(sweep, tmp_path / "grid-copy")
    assert compare_module.main([str(sweep), str(tmp_path / "grid-copy")]) == 0
    assert "holds the same jobs and values" in capsys.readouterr().err


def test_different_sweeps_get_no_copy_warning(sweep, tmp_path, capsys):
    other = tmp_path / "b.csv"
    frame = pd.read_csv(sweep / "results.csv")
    frame["objective"] += 0.01
    frame.to_csv(other, index=False)
    assert compare_module.main([str(sweep / "results.csv"), str(other)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_folder_holding_only_a_results_csv_is_read_as_that_file(sweep, tmp_path, capsys):
    moved = tmp_path / "only-csv"
    moved.mkdir()
    frame = pd.read_csv(sweep / "results.csv")
    frame["objective"] += 0.01
    frame.to_csv(moved / "results.csv", index=False)
    assert compare_module.main([str(sweep), str(moved)]) == 0
    assert "B - A" in capsys.readouterr().out
