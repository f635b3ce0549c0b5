"""A search's cost per trial stays flat: job numbers are claimed without re-reading every job."""

from __future__ import annotations

import os

from sweeper.records import sweep_folder


def make_job(root, number: int) -> None:
    hydra_dir = root / str(number) / ".hydra"
    hydra_dir.mkdir(parents=True)
    (hydra_dir / "config.yaml").write_text("seed: 0\n")
    (hydra_dir / "hydra.yaml").write_text(f"hydra:\n  job:\n    num: {number}\n")


def test_claims_read_each_hydra_yaml_once(tmp_path, monkeypatch):
    reads = []
    real = sweep_folder._read_job_number
    monkeypatch.setattr(sweep_folder, "_read_job_number", lambda p: reads.append(p) or real(p))
    for number in range(5):
        make_job(tmp_path, number)
    assert sweep_folder.claim_job_numbers(tmp_path, 1) == 5
    first = len(reads)
    assert first >= 5
    make_job(tmp_path, 5)
    assert sweep_folder.claim_job_numbers(tmp_path, 2) == 6  # 5 is both a job and a claim
    assert len(reads) == first + 1  # only the new job's hydra.yaml was parsed
    # a rewritten hydra.yaml (another size or time) is read again
    path = tmp_path / "5" / ".hydra" / "hydra.yaml"
    path.write_text("hydra:\n  job:\n    num: 50\n")
    os.utime(path, ns=(1, 1))
    assert sweep_folder.job_number(tmp_path / "5") == 50
    assert sweep_folder.next_job_number(tmp_path) == 51
