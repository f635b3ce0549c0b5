"""report.html and confirm for multi-objective sweeps; confirm --trial N; empty searches.

A multi-objective sweep has no single best job: its page shows the Pareto-optimal
jobs (a table, an interactive figure, pareto_front.png) and confirm re-runs the
trial the user names with `--trial N`, refusing in one line without it. Hand-built
folders keep most tests under a second; the slow ones run a real 4-trial search.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT, SMALL_RUN, browse, chromium, table_rows
from sweeper import confirm as confirm_module
from sweeper.collect import collect
from sweeper.reports.report import REPORT, best_jobs, best_row, report_html
from sweeper.reports.results import load_sweep

TWO = ["objective.metric=[val_accuracy,parameters]", "objective.direction=[maximize,minimize]"]
SPEC = "val_accuracy (maximize), parameters (minimize)"


def multi_job(sweep: Path, name: str, hidden: int, values: tuple[float, float] | None) -> Path:
    """A finished multi-objective job folder as a run writes it: metrics.json with
    `objectives`; None: a failed run, which records the worst values (-inf, inf)."""
    job = sweep / name
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump([f"model.hidden={hidden}", *TWO]))
    (job / ".hydra" / "config.yaml").write_text("seed: 0\n")
    ok = values is not None
    accuracy, parameters = values if ok else (-math.inf, math.inf)
    record = {
        "status": "ok" if ok else "failed",
        "reason": None if ok else "diverged",
        "objective": accuracy,
        "objective_metric": "val_accuracy",
        "objective_direction": "maximize",
        "objectives": [
            {"metric": "val_accuracy", "direction": "maximize", "value": accuracy},
            {"metric": "parameters", "direction": "minimize", "value": parameters},
        ],
        "metrics": {"val_accuracy": accuracy, "test_accuracy": accuracy} if ok else {},
        "settings": {"task.name": "adder"},
        "wall_seconds": 1.0,
    }
    (job / "metrics.json").write_text(json.dumps(record))
    return job


@pytest.fixture
def multi_grid(tmp_path) -> Path:
    """hidden 2/5/6/9: 5 and 2 are Pareto-optimal, 6 is dominated by 5, 9 failed."""
    sweep = tmp_path / "multi"
    for num, (hidden, values) in enumerate(
        [(2, (0.6, 51.0)), (5, (0.9, 186.0)), (6, (0.8, 241.0)), (9, None)]
    ):
        multi_job(sweep, str(num), hidden, values)
    return sweep


def test_a_multi_objective_grid_shows_its_pareto_jobs_not_one_best(multi_grid):
    collect(multi_grid)
    sweep = load_sweep(multi_grid)
    assert best_row(sweep.results) is None and best_jobs(sweep.results) == {"0", "1"}
    page = (multi_grid / REPORT).read_text(encoding="utf-8")
    assert "Best: job" not in page
    assert "2 Pareto-optimal job(s) of 3 ok" in page
    assert "Objectives <code>val_accuracy</code> (maximize), <code>parameters</code>" in page
    rows = table_rows(page, "pareto")
    assert [r[0] for r in rows] == ["1", "0"]  # best val_accuracy first
    assert rows[0][1:4] == ["5", "0.9000", "186"]
    assert 'id="plot-pareto"' in page and "<script type" in page  # plotly.js inlined for it
    assert "sweeper.confirm" not in page  # a grid: nothing to confirm by trial
    results = table_rows(page, "results")
    marked = re.findall(r'<tr class="is-best"><td class="text" data-sort="(\d+)"', page)
    assert sorted(marked) == ["0", "1"] and len(results) == 4


def test_a_multi_objective_sweep_without_an_ok_job_says_so(tmp_path):
    sweep = tmp_path / "multi"
    multi_job(sweep, "0", 2, None)
    multi_job(sweep, "1", 3, None)
    page = report_html(load_sweep(sweep), None)
    assert "Pareto front: no ok job to rank." in page and "plot-pareto" not in page


@pytest.fixture
def empty_search(tmp_path) -> Path:
    """A search whose every trial was killed: trials.csv and best_trial.yaml, no job finished."""
    sweep = tmp_path / "search"
    (sweep / "0" / ".hydra").mkdir(parents=True)
    (sweep / "0" / ".hydra" / "config.yaml").write_text("seed: 0\n")
    pd.DataFrame(
        {"number": [0], "value": [None], "params_optim.lr": [0.01], "state": ["FAIL"]}
    ).to_csv(sweep / "trials.csv", index=False)
    (sweep / "best_trial.yaml").write_text("study: s\nfinished_trials: 1\nfailed_trials: 1\n")
    return sweep


def test_a_search_with_no_finished_job_still_gets_a_page(empty_search, tmp_path):
    page = report_html(load_sweep(empty_search), None)
    assert "No finished jobs" in page and "No trial succeeded yet." in page
    assert "Trials (1: 1 fail)" in page and "plot-history" not in page
    # the same for two objectives
    record = {"study": "s", "metrics": ["val_accuracy", "parameters"]}
    record["directions"] = ["maximize", "minimize"]
    (empty_search / "best_trial.yaml").write_text(yaml.safe_dump(record))
    page = report_html(load_sweep(empty_search), None)
    assert "No Pareto-optimal trial yet." in page and "No finished jobs" in page
    assert confirm_module.main([str(empty_search)]) == 2


def test_confirm_refuses_a_multi_objective_search_without_trial_in_one_line(tmp_path, capsys):
    sweep = tmp_path / "search"
    sweep.mkdir()
    record = {
        "metrics": ["val_accuracy", "parameters"],
        "directions": ["maximize", "minimize"],
        "best_trials": [{"number": 3, "job_dir": "a"}, {"number": 0, "job_dir": "b"}],
    }
    (sweep / "best_trial.yaml").write_text(yaml.safe_dump(record))
    assert confirm_module.main([str(sweep), "--seeds", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sweeper confirm: error: ")
    assert f"a search over {SPEC} has no single best trial" in err
    assert "Pareto-optimal trials are 3, 0: name one with --trial N" in err
    del record["best_trials"]
    (sweep / "best_trial.yaml").write_text(yaml.safe_dump(record))
    assert confirm_module.main([str(sweep)]) == 2
    assert "with no Pareto-optimal trial (none succeeded)" in capsys.readouterr().err


def test_confirm_trial_n_of_a_single_objective_search(fake_search, tmp_path, capsys):
    """test_report's search: trial 0 ok, trial 1 ok and best, trial 2 failed."""
    assert (
        confirm_module.main([str(fake_search), "--trial", "0", "--seeds", "2", "--print-command"])
        == 0
    )
    line = capsys.readouterr().out.strip()
    assert line.startswith("python -m sweeper optim.lr=0.004430375245218269 seed=1,2 ")
    assert line.endswith(f"hydra.sweep.dir={(fake_search.parent / 'search-confirm-trial0')} -m")
    # the best trial named: the same folder as without --trial
    assert confirm_module.main([str(fake_search), "--trial", "1", "--print-command"]) == 0
    line = capsys.readouterr().out.strip()
    assert "optim.lr=0.0139819614 " in line and line.endswith("/search-confirm -m")
    for args, message in [
        (["--trial", "2"], "--trial 2: trial 2 ended FAIL: nothing to confirm"),
        (["--trial", "7"], "has no trial 7 (trials: 0-2)"),
    ]:
        assert confirm_module.main([str(fake_search), *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    (fake_search / "trials.csv").unlink()
    assert confirm_module.main([str(fake_search), "--trial", "0"]) == 2
    assert "trials.csv: missing" in capsys.readouterr().err


# --- a real search ---------------------------------------------------------------------


def run(*args: str, cwd: Path, module: str = "sweeper") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture(scope="module")
def real_search(tmp_path_factory) -> Path:
    """A real 4-trial search over val_accuracy and parameters (tiny adder, one epoch)."""
    out = tmp_path_factory.mktemp("multi") / "s"
    result = run(
        "task=adder",
        *SMALL_RUN,
        "trainer.epochs=1",
        "hparams_search=arch",
        *TWO,
        "hydra.sweeper.n_trials=4",
        f"hydra.sweep.dir={out}",
        "-m",
        cwd=out.parent,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.mark.slow
def test_report_of_a_real_multi_objective_search(real_search, tmp_path):
    page = (real_search / REPORT).read_text(encoding="utf-8")
    front = pd.read_csv(real_search / "pareto_front.csv")
    jobs = sorted(Path(d).name for d in front["job_dir"])
    assert sorted(r[0] for r in table_rows(page, "pareto")) == jobs
    numbers = [str(n) for n in front["number"]]
    assert f"{len(numbers)} Pareto-optimal trial(s): {', '.join(numbers)}." in page
    assert [r[0] for r in table_rows(page, "pareto-trials")] == numbers
    assert page.count('alt="pareto_front.png"') == 1  # in the Pareto section, once
    assert "Best: job" not in page and "No trial succeeded" not in page
    assert "plot-history" not in page and 'id="plot-pareto"' in page
    assert f"sweeper.confirm {real_search} --trial N" in page
    trials = table_rows(page, "trials")
    assert len(trials) == 4 and sum("yes" in row for row in trials) == len(numbers)
    # In a real browser: the page's script ran to its end and every plotly figure drew.
    if shutil.which("chromium") or shutil.which("chromium-browser") or os.getenv("CI"):
        dom = browse(chromium(), real_search / REPORT, tmp_path / "profile", "--dump-dom")
        assert 'data-rendered="1"' in dom
        assert re.search(r'<pre id="js-errors"></pre>', dom)
        figures = page.count('<div id="plot-')
        assert figures == 3 and f'data-plots="{figures}"' in dom  # pareto, objective, curves


@pytest.mark.slow
def test_confirm_of_a_real_multi_objective_search(real_search, tmp_path, capsys):
    front = pd.read_csv(real_search / "pareto_front.csv")
    assert confirm_module.main([str(real_search), "--seeds", "3"]) == 2  # in-process: fast
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    listed = ", ".join(str(n) for n in front["number"])
    assert f"Pareto-optimal trials are {listed}: name one with --trial N" in err
    assert not (real_search.parent / "s-confirm").exists()  # nothing run, nothing written
    chosen = front.iloc[-1]
    number = int(chosen["number"])
    result = run(
        str(real_search),
        "--trial",
        str(number),
        "--seeds",
        "2",
        cwd=tmp_path,
        module="sweeper.confirm",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    folder = real_search.parent / f"s-confirm-trial{number}"
    confirm = pd.read_csv(folder / "results.csv")
    assert sorted(confirm["seed"]) == [1, 2]
    assert confirm["optim.lr"].tolist() == pytest.approx([chosen["params_optim.lr"]] * 2)
    assert (confirm["parameters"] == chosen["parameters"]).all()  # same model size
    said = result.stdout
    first = next(line for line in said.splitlines() if line.startswith(f"trial {number} "))
    assert first.startswith(
        f"trial {number} of the search: val_accuracy (validation split) = "
        f"{chosen['val_accuracy']:.4f}, parameters = {int(chosen['parameters'])}"
    )
    assert first.endswith(" (one seed)")  # after the trial's own test figures, if any
    assert "  parameters: " in said and "\nparameters: the search's value lies inside" in said
    assert re.search(r"\nval_accuracy: the search's value (lies|is)", said)
