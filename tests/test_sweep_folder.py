"""Finding, numbering and claiming job folders at any depth (sweeper.records.sweep_folder)."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
import yaml

from sweeper.records.sweep_folder import (
    claim_job_numbers,
    existing_jobs,
    find_job_folders,
    identity,
    job_number,
    next_job_number,
)


def make_job(folder: Path, num: int, overrides: list[str], status: str | None = "ok") -> Path:
    hydra = folder / ".hydra"
    hydra.mkdir(parents=True)
    (hydra / "config.yaml").write_text("seed: 0\n")
    (hydra / "hydra.yaml").write_text(yaml.safe_dump({"hydra": {"job": {"num": num}}}))
    (hydra / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if status:
        (folder / "metrics.json").write_text(json.dumps({"status": status}))
    return folder


def test_job_folders_are_found_at_any_depth_in_job_order(tmp_path):
    make_job(tmp_path / "memory" / "1", 1, ["task=memory"])
    make_job(tmp_path / "adder" / "0", 0, ["task=adder"])
    make_job(tmp_path / "trial_10", 10, ["optim.lr=0.1"])
    make_job(tmp_path / "trial_2", 2, ["optim.lr=0.2"])
    (tmp_path / "not_a_job" / "deeper").mkdir(parents=True)
    found = [p.relative_to(tmp_path).as_posix() for p in find_job_folders(tmp_path)]
    assert found == ["adder/0", "memory/1", "trial_2", "trial_10"]


def test_a_job_folders_own_subfolders_and_hidden_folders_are_not_jobs(tmp_path):
    job = make_job(tmp_path / "0", 0, [])
    make_job(job / "inner", 5, [])
    make_job(tmp_path / ".trash" / "7", 7, [])
    assert find_job_folders(tmp_path) == [job]


def test_missing_root_and_file_root_are_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        find_job_folders(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        find_job_folders(tmp_path / "file")


def test_numbering_continues_after_existing_jobs_whatever_the_subdir(tmp_path):
    assert next_job_number(tmp_path / "new") == 0
    make_job(tmp_path / "trial_0", 0, [])
    make_job(tmp_path / "adder" / "trial_4", 4, [])
    assert next_job_number(tmp_path) == 5
    (tmp_path / "9").mkdir()  # a numbered folder whose job died before .hydra/ existed
    assert next_job_number(tmp_path) == 10


def test_numbering_sees_the_jobs_find_job_folders_finds_and_no_others(tmp_path):
    """next_job_number scans without listing job folders (once a trial, #22): the same
    jobs as find_job_folders, nested, hidden, inside a job, symlinked or unreadable."""
    from sweeper.records.sweep_folder import _job_numbers

    make_job(tmp_path / "a" / "b" / "3", 3, [])
    job = make_job(tmp_path / "4", 4, [])
    make_job(job / "inner", 40, [])  # inside a job: not a job
    make_job(tmp_path / ".trash" / "50", 50, [])  # hidden: not searched
    make_job(tmp_path / "elsewhere" / ".x" / "60", 60, [])
    outside = make_job(tmp_path.parent / f"{tmp_path.name}-outside" / "70", 70, [])
    (tmp_path / "link").symlink_to(outside, target_is_directory=True)  # not followed
    bad = make_job(tmp_path / "c" / "bad", 8, [])
    (bad / ".hydra" / "hydra.yaml").write_text(": : not yaml [")
    found = {job_number(f) for f in find_job_folders(tmp_path)} - {None}
    assert sorted(_job_numbers(tmp_path)) == sorted(found) == [3, 4]
    assert next_job_number(tmp_path) == 5
    assert sorted(_job_numbers(job)) == [4]  # a single run's folder is its own job


def test_unreadable_hydra_yaml_has_no_number(tmp_path):
    job = make_job(tmp_path / "x", 3, [])
    (job / ".hydra" / "hydra.yaml").write_text(": : not yaml [")
    assert job_number(job) is None
    assert existing_jobs(tmp_path)[0].number is None


def test_identity_ignores_order_and_quoting():
    assert identity(["hidden_size='3'", "loss=mse"]) == identity(["loss=mse", "hidden_size=3"])
    assert identity(["loss=mse"]) != identity(["loss=ce"])


def test_existing_jobs_report_status(tmp_path):
    make_job(tmp_path / "0", 0, ["loss=mse"], "ok")
    make_job(tmp_path / "1", 1, ["loss=ce"], None)
    jobs = existing_jobs(tmp_path)
    assert [(j.number, j.status, j.finished) for j in jobs] == [
        (0, "ok", True),
        (1, "missing", False),
    ]


def _claim(root: str, queue) -> None:  # a separate process claiming numbers
    queue.put([claim_job_numbers(root, 2) for _ in range(5)])


def test_claims_from_concurrent_processes_never_overlap(tmp_path):
    make_job(tmp_path / "3", 3, [])
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_claim, args=(str(tmp_path), queue)) for _ in range(3)]
    for worker in workers:
        worker.start()
    starts = [s for _ in workers for s in queue.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=60)
    numbers = [n for s in starts for n in (s, s + 1)]
    assert len(set(numbers)) == len(numbers) == 30
    assert min(numbers) == 4
