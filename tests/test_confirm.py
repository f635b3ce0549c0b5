"""sweeper.confirm and the paths to it: a search points to confirm (a grid to seeds), and
confirm shows the trial's own test figure."""

from __future__ import annotations

from pathlib import Path

from fake_folders import GOOD_RECORD, fake_job, grid, results_csv

from conftest import run_compare
from sweeper import confirm as confirm_module
from sweeper.collect import objective_heading
from sweeper.reports.results import load_sweep

# --- a search points to confirm; confirm shows the trial's own test figure ---


def test_a_search_heading_points_to_confirm_a_grid_to_seeds(two_jobs):
    assert "sweep seed=0,1,2,3,4 for them" in objective_heading(load_sweep(two_jobs))
    (two_jobs / "best_trial.yaml").write_text("best: {}\n")
    heading = objective_heading(load_sweep(two_jobs))
    assert f"python -m sweeper.confirm {two_jobs} --seeds 5 for them" in heading
    assert "seed=0,1,2,3,4" not in heading


def test_a_search_is_known_by_its_jobs_before_its_files_are_written(tmp_path):
    sweep = tmp_path / "search"
    for num in (0, 1):  # as the callback sees it: jobs, no best_trial.yaml yet
        choices = {"loss": "ce", "hydra/sweeper": "search"}
        fake_job(sweep / str(num), num, [f"optim.lr=0.0{num + 1}"], choices=choices)
    assert "python -m sweeper.confirm" in objective_heading(load_sweep(sweep))


def test_compare_of_single_seed_searches_points_to_confirm(tmp_path, capsys):
    paths = []
    for name, shift in (("a", {}), ("b", {10: 0.2})):
        (tmp_path / name).mkdir()
        rows = grid("model.hidden", shift, seeds=[0])
        paths.append(results_csv(tmp_path / name / "results.csv", rows, ["model.hidden"]))
    code, text, _ = run_compare(*paths, capsys=capsys)
    assert code == 0 and "(sweep seed=0,1,2,3,4 for them)" in text
    (tmp_path / "b" / "best_trial.yaml").write_text("best: {}\n")
    code, text, _ = run_compare(*paths, capsys=capsys)
    assert code == 0 and f"(python -m sweeper.confirm {tmp_path / 'b'} --seeds 5 for them)" in text


def _confirm_folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A search folder with its trial's job, and the confirm grid's folder of two seeds."""
    search, confirm = tmp_path / "search", tmp_path / "search-confirm"
    record = dict(
        GOOD_RECORD,
        objective=0.9,
        objective_metric="val_accuracy",
        metrics={"val_accuracy": 0.9, "test_accuracy": 0.85, "epochs_run": 2},
    )
    job = fake_job(search / "3", 3, ["optim.lr=0.01"], record)
    for seed, value in ((1, 0.8), (2, 0.82)):
        seeds = dict(record, objective=value + 0.05)
        seeds["metrics"] = {"val_accuracy": value + 0.05, "test_accuracy": value}
        fake_job(confirm / str(seed), seed, ["optim.lr=0.01", f"seed={seed}"], seeds)
    return search, confirm, job


def test_confirm_prints_the_trials_own_test_figure(tmp_path):
    search, confirm, job = _confirm_folders(tmp_path)
    best = {
        "number": 3,
        "value": 0.9,
        "job_dir": str(job),
        "objective_metric": "val_accuracy",
        "metrics": {"val_accuracy": 0.9, "test_accuracy": 0.85},
    }
    text = confirm_module.summary(search, best, confirm)
    first = text.splitlines()[0]
    assert first == (
        "best trial 3 of the search: objective val_accuracy (validation split) = 0.9000; "
        "test_accuracy 0.8500 (test split) (one seed)"
    )
    assert "  test_accuracy: 0.8100 ± " in text and "; the trial: 0.8500" in text
    # --trial N: no metrics in its record, so they are read from its own metrics.json
    named = {"number": 3, "value": 0.9, "job_dir": str(job)}
    assert "test_accuracy 0.8500 (test split)" in confirm_module.summary(search, named, confirm)
