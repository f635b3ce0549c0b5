"""Atomic writes: whole files only, and the permissions the user's umask gives any file."""

from __future__ import annotations

import builtins
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

from conftest import ROOT, SMALL_RUN
from sweeper.core.artifacts import (
    atomic_write,
    current_umask,
    save_figure,
    save_torch,
    write_csv,
    write_json,
    write_text,
)


@pytest.fixture
def umask() -> Iterator[callable]:
    """Set the process umask for one test; put the old one back after."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def figure() -> Figure:
    fig = Figure(figsize=(1, 1))
    fig.subplots().plot([0, 1], [1, 0])
    return fig


WRITERS = {
    "json": lambda p: write_json(p, {"status": "ok", "objective": float("-inf")}),
    "csv": lambda p: write_csv(p, pd.DataFrame({"a": [1, 2]})),
    "torch": lambda p: save_torch(p, {"w": torch.zeros(2)}),
    "figure": lambda p: save_figure(p, figure()),
    "text": lambda p: write_text(p, "# summary\n"),
}


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
@pytest.mark.parametrize("writer", WRITERS.values(), ids=WRITERS.keys())
def test_every_writer_gives_the_umasks_mode(tmp_path, umask, writer, mask, expected):
    umask(mask)
    path = writer(tmp_path / "out" / "file")
    assert mode(path) == expected
    with open(tmp_path / "plain", "w") as plain:  # what any program's new file gets
        plain.write("x")
    assert mode(tmp_path / "plain") == expected
    assert [p.name for p in path.parent.iterdir()] == ["file"]  # no temp file left


def test_a_rewrite_gets_the_umasks_mode_not_the_old_files(tmp_path, umask):
    umask(0o022)
    path = tmp_path / "results.csv"
    path.write_text("old")
    path.chmod(0o600)  # as an older sweeper left it
    write_text(path, "new")
    assert path.read_text() == "new" and mode(path) == 0o644


def test_umask_is_read_without_changing_it(umask, monkeypatch):
    umask(0o027)
    assert current_umask() == 0o027
    calls = []
    monkeypatch.setattr(os, "umask", lambda m: calls.append(m) or 0o027)
    assert current_umask() == 0o027 and calls == []  # read from /proc/self/status


def test_umask_without_proc_falls_back_to_set_and_restore(umask, monkeypatch):
    umask(0o077)
    real_open = builtins.open

    def no_proc(path, *args, **kwargs):
        if str(path).startswith("/proc/"):
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_proc)
    assert current_umask() == 0o077
    monkeypatch.undo()
    assert current_umask() == 0o077  # put back


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "metrics.json"
    write_json(path, {"status": "ok"})

    def broken(tmp: Path) -> None:
        tmp.write_text('{"stat')
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert json.loads(path.read_text()) == {"status": "ok"}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_errors_name_the_folder_or_the_target(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError) as error:
        write_text(tmp_path / "file" / "summary.md", "x")  # its folder is a file
    assert error.value.filename == str(tmp_path / "file")
    (tmp_path / "results.csv").mkdir()
    with pytest.raises(OSError) as error:
        write_text(tmp_path / "results.csv", "x")
    assert error.value.filename == str(tmp_path / "results.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "results.csv"]


def test_the_package_writes_files_only_through_artifacts():
    """Every writer in sweeper/ goes through artifacts.py (which sets the mode)."""
    writers = (".write_text(", ".write_bytes(", ".savefig(", ".to_csv(", "torch.save(")
    writers += ("mkstemp(", "OmegaConf.save(", "NamedTemporaryFile(", '"w")', '"wb")', '"a")')
    offenders = []
    for path in (ROOT / "sweeper").rglob("*.py"):
        if path.name == "artifacts.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if any(w in line for w in writers) and "tmp.write_text(" not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def _umask_027() -> None:
    os.umask(0o027)


@pytest.mark.slow
def test_a_sweep_and_compare_write_every_file_with_the_umasks_mode(tmp_path):
    """End to end, umask 027: every file in the sweep folder is 0640, like Hydra's own."""
    sweep = tmp_path / "sweep"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "sweeper", "task=adder", "model.hidden=3,4", *SMALL_RUN, "-m"]
        + [f"hydra.sweep.dir={sweep}", "hydra.sweep.subdir=${task.name}/${hydra.job.num}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_umask_027,
    )
    assert done.returncode == 0, done.stderr
    hydras_own = mode(sweep / "adder" / "0" / ".hydra" / "config.yaml")
    assert hydras_own == 0o640
    files = [p for p in sweep.rglob("*") if p.is_file()]
    names = {p.relative_to(sweep).as_posix() for p in files}
    assert {"results.csv", "summary.md", "adder/1/metrics.json", "adder/1/model.pt"} <= names
    assert {p.relative_to(sweep).as_posix(): oct(mode(p)) for p in files} == {
        name: oct(0o640) for name in names
    }
    assert list(pd.read_csv(sweep / "results.csv")["job"]) == ["adder/0", "adder/1"]
    results = sweep / "results.csv"
    copy = tmp_path / "copy.csv"  # a sweep compared with itself is refused: a copy is compared
    copy.write_bytes(results.read_bytes())
    out = tmp_path / "cmp.csv"
    done = subprocess.run(
        [sys.executable, "-m", "sweeper.compare", str(results), str(copy), "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_umask_027,
    )
    assert done.returncode == 0, done.stderr
    assert mode(out) == 0o640
