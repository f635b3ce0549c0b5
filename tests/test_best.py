"""A best that ties is said to tie (summary.md, terminal, report.html); results.csv's
`parameters` column."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from fake_folders import GOOD_RECORD, fake_job

from sweeper import collect as collect_module
from sweeper.collect import best_configuration, collect
from sweeper.records.files import REPORT, SUMMARY
from sweeper.reports.best import best_job, listed
from sweeper.reports.report import trial_ties
from sweeper.reports.results import load_sweep


def sweep_of(folder: Path, values: list[float], direction: str = "maximize", **extra) -> Path:
    """Jobs 0.. with model.hidden 3, 4, ... and these objective values."""
    for num, value in enumerate(values):
        record = dict(GOOD_RECORD, objective=value, objective_direction=direction, **extra)
        record["metrics"] = dict(GOOD_RECORD["metrics"], test_accuracy=value)
        fake_job(folder / str(num), num, [f"model.hidden={num + 3}"], record)
    return folder


def outputs(folder: Path, capsys) -> tuple[str, str, str]:
    """(terminal, summary.md, report.html) of collecting `folder`."""
    assert collect_module.main([str(folder)]) == 0
    terminal = capsys.readouterr().out
    summary = (folder / SUMMARY).read_text()
    return terminal, summary, (folder / REPORT).read_text(encoding="utf-8")


def marked_best(page: str) -> list[str]:
    return re.findall(r'<tr class="is-best"><td class="text" data-sort="([^"]+)"', page)


def test_six_jobs_that_tie_are_said_to_tie_everywhere(tmp_path, capsys):
    terminal, summary, page = outputs(sweep_of(tmp_path / "s", [1.0] * 6), capsys)
    said = "Best: 6 jobs tie at 1.0000 (jobs 0, 1, 2, 3, 4, 5); job 0 is the first (model.hidden=3)"
    assert said in terminal and said in summary
    assert "Best: 6 jobs tie at 1.0000 (jobs 0, 1, 2, 3, 4, 5); job 0 is the first" in page
    assert "Best: job" not in summary + terminal + page
    assert marked_best(page) == ["0", "1", "2", "3", "4", "5"]  # all six are the best


def test_a_lone_best_is_named_as_before(tmp_path, capsys):
    terminal, summary, page = outputs(sweep_of(tmp_path / "s", [0.7, 0.9, 0.8]), capsys)
    said = "Best: job 1 (model.hidden=4): test_accuracy 0.9000 (test split)"
    assert said in summary and said in terminal
    assert "Best: job <code>1</code> (model.hidden=4): <b>0.9000</b>" in page
    assert "tie" not in summary and marked_best(page) == ["1"]


def test_values_that_only_show_the_same_are_no_tie_and_are_named(tmp_path, capsys):
    values = [0.99996, 1.0, 0.99997, 0.9]  # all but the last show 1.0000
    terminal, summary, page = outputs(sweep_of(tmp_path / "s", values), capsys)
    said = "Best: job 1 (model.hidden=4): test_accuracy 1.0000 (test split)"
    near = "Jobs 0, 2 also show 1.0000 but are lower (results.csv has the exact values)"
    for text in (terminal, summary):
        assert said in text and near in text and "tie" not in text
    assert near in page and marked_best(page) == ["1"]


def test_a_minimized_objective_ties_at_its_lowest(tmp_path, capsys):
    values = [0.5, 0.2, 0.2, 0.20001]
    _, summary, _ = outputs(sweep_of(tmp_path / "s", values, "minimize"), capsys)
    assert "Best: 2 jobs tie at 0.2000 (jobs 1, 2); job 1 is the first (model.hidden=4)" in summary
    assert "Job 3 also shows 0.2000 but is higher" in summary


def test_many_tied_jobs_are_counted_not_all_listed(tmp_path):
    results = load_sweep(sweep_of(tmp_path / "s", [1.0] * 12)).results
    best = best_job(results)
    assert best.tie() == (
        "12 jobs tie at 1.0000 (jobs 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more); job 0 is the first"
    )
    assert listed(["3"]) == "job 3" and listed(["3"], "trials") == "trial 3"


def test_failed_jobs_never_tie_with_the_best(tmp_path):
    folder = sweep_of(tmp_path / "s", [1.0, 0.5])
    record = dict(GOOD_RECORD, status="failed", reason="Diverged", objective=1.0)
    fake_job(folder / "2", 2, ["model.hidden=9"], record)
    best = best_job(load_sweep(folder).results)
    assert best.tied == ["0"] and best.tie() == ""


def test_configurations_that_tie_by_mean_are_said_to_tie(tmp_path):
    folder = tmp_path / "s"
    num = 0
    for hidden in (3, 5, 10):
        for seed in (0, 1):
            value = 1.0 if hidden != 3 else 0.9
            record = dict(GOOD_RECORD, objective=value)
            overrides = [f"model.hidden={hidden}", f"seed={seed}"]
            fake_job(folder / str(num), num, overrides, record)
            num += 1
    sweep = collect(folder)
    line = best_configuration(sweep)
    assert (
        "Best configuration by mean over seed: 2 configurations tie at mean 1.0000 "
        "(model.hidden=5; model.hidden=10); the first is model.hidden=5:" in line
    )
    assert line in (folder / SUMMARY).read_text()


def test_a_search_best_trial_names_the_trials_that_tie_with_it():
    trials = pd.DataFrame(
        {
            "number": [0, 1, 2, 3],
            "value": [1.0, 0.9, 1.0, 1.0],
            "state": ["COMPLETE"] * 3 + ["FAIL"],
        }
    )
    assert trial_ties(trials, {"number": 0, "value": 1.0}) == (
        "; 1 other complete trial ties with it at 1.0000 (trial 2)"
    )
    assert trial_ties(trials, {"number": 1, "value": 0.9}) == ""
    assert trial_ties(None, {"number": 0, "value": 1.0}) == ""


# --- results.csv's parameters column ---


def test_results_csv_has_each_jobs_parameter_count(tmp_path):
    folder = sweep_of(tmp_path / "s", [0.8, 0.9])
    record = json.loads((folder / "1" / "metrics.json").read_text())
    record["parameters"] = 456
    (folder / "1" / "metrics.json").write_text(json.dumps(record))
    collect(folder)
    results = pd.read_csv(folder / "results.csv")
    assert list(results["parameters"]) == [123, 456]
    assert results["parameters"].dtype.kind == "i"  # counts, not 123.0
    summary = (folder / SUMMARY).read_text()
    assert "no value of" not in summary  # a count is no metric to be missing


@pytest.mark.parametrize("missing", ["null", "absent"])
def test_a_record_without_a_count_leaves_it_empty(tmp_path, missing):
    folder = sweep_of(tmp_path / "s", [0.8, 0.9])
    record = json.loads((folder / "0" / "metrics.json").read_text())
    if missing == "null":
        record["parameters"] = None
    else:
        del record["parameters"]
    (folder / "0" / "metrics.json").write_text(json.dumps(record))
    collect(folder)
    results = pd.read_csv(folder / "results.csv")
    assert pd.isna(results.loc[0, "parameters"]) and results.loc[1, "parameters"] == 123
    assert "no value of" not in (folder / SUMMARY).read_text()
