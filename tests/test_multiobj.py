"""Multi-objective runs and searches: the objective lists, refusals, Pareto front and reports."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest
import yaml
from omegaconf import OmegaConf

from conftest import ROOT, SMALL_RUN
from sweeper.core.config import ConfigError
from sweeper.core.objectives import ObjectiveError, parse_objective
from sweeper.core.record import BadFile, check_record
from sweeper.jobs import trial_outcome
from sweeper.reports.pareto import front_lines, non_dominated
from sweeper.reports.search_files import write_search_files as write_report
from sweeper.run.job import train
from sweeper.run.validate import validate
from sweeper.sweeps.app_jobs import trial_values
from sweeper.sweeps.pareto import search_objective
from sweeper.sweeps.search import SearchError, check_same_metrics
from sweeper.sweeps.stale_trials import told_value

TWO = ["objective.metric=[val_accuracy,parameters]", "objective.direction=[maximize,minimize]"]


# ------------------------------------------------------------------ the objective lists


@pytest.mark.parametrize(
    ("metric", "direction", "message"),
    [
        (["val_accuracy", "parameters"], ["maximize"], "has 2 metric.* has 1"),
        (["val_accuracy", "parameters"], "maximize", "has 2 metric.* has 1"),
        ("val_accuracy", ["maximize", "minimize"], "has 1 metric.* has 2"),
        ([], [], "empty list"),
        (["val_accuracy", "val_accuracy"], ["maximize", "maximize"], "names val_accuracy twice"),
        (["val_accuracy", "parameters"], ["maximize", "sideways"], "maximize or minimize"),
        ([3, "parameters"], ["maximize", "minimize"], "must be a metric name"),
    ],
)
def test_bad_objective_lists_are_refused_in_one_line(metric, direction, message):
    with pytest.raises(ObjectiveError, match=message) as caught:
        parse_objective(OmegaConf.create({"m": metric}).m, direction)
    assert "\n" not in str(caught.value)


def test_one_element_lists_are_a_single_objective():
    objective = parse_objective(["val_accuracy"], ["maximize"])
    assert not objective.multi and objective.returned([0.5]) == 0.5
    two = parse_objective(["val_accuracy", "parameters"], ["maximize", "minimize"])
    assert two.multi and two.returned([0.5, 10.0]) == [0.5, 10.0]
    assert two.worst() == [-math.inf, math.inf]


def test_config_validation_refuses_mismatched_lists(make_cfg):
    cfg = make_cfg("objective.metric=[val_accuracy,parameters]", "objective.direction=[maximize]")
    with pytest.raises(ConfigError, match="objective.metric has 2 metric"):
        validate(cfg)


def test_non_dominated_keeps_ties_and_respects_directions():
    points = [[0.9, 100], [0.9, 50], [0.8, 10], [0.7, 10], [0.9, 50]]
    assert non_dominated(points, ["maximize", "minimize"]) == [1, 2, 4]
    assert non_dominated(points, ["minimize", "maximize"]) == [0, 3]


# ------------------------------------------------------------------ a run returns the list


def test_a_multi_objective_run_returns_and_records_every_value(make_cfg, tmp_path):
    out = tmp_path / "run"
    cfg = make_cfg(*TWO, "trainer.epochs=1", out=out)
    value = train(cfg)
    record = json.loads((out / "metrics.json").read_text())
    check_record(record)
    assert value == [record["metrics"]["val_accuracy"], float(record["parameters"])]
    assert [o["metric"] for o in record["objectives"]] == ["val_accuracy", "parameters"]
    assert record["objective"] == value[0] and record["objective_metric"] == "val_accuracy"
    assert told_value(record) == value  # a stale trial is told every value
    # same config + seed: the same values
    again = make_cfg(*TWO, "trainer.epochs=1", out=tmp_path / "again")
    assert train(again) == value


def test_metrics_json_objectives_are_checked():
    base = {"status": "ok", "objective": 0.5}
    good = [{"metric": "a", "direction": "maximize", "value": 0.5}]
    check_record({**base, "objectives": good})
    for bad, message in [
        ("x", "objectives is 'x', not a list"),
        ([{"metric": "a", "direction": "up", "value": 1}], "direction is 'up'"),
        ([{"metric": "a", "direction": "maximize", "value": "high"}], r"objectives\[0\].value"),
        ([{"direction": "maximize", "value": 1}], "no metric name"),
    ]:
        with pytest.raises(BadFile, match=message):
            check_record({**base, "objectives": bad})


# ------------------------------------------------------------------ the search's side


def test_search_objective_refuses_disagreeing_directions_and_unknown_metrics(make_cfg):
    cfg = make_cfg(*TWO)
    metrics = ["val_accuracy", "test_accuracy"]
    assert search_objective(["maximize", "minimize"], cfg, metrics).multi
    with pytest.raises(SearchError, match=r"direction=\[maximize\] disagrees"):
        search_objective("maximize", cfg, metrics)
    with pytest.raises(SearchError, match=r"direction=\[minimize,maximize\] disagrees"):
        search_objective(["minimize", "maximize"], cfg, metrics)
    single = make_cfg("objective.metric=val_accuracy", "objective.direction=minimize")
    with pytest.raises(SearchError, match="disagrees"):
        search_objective("maximize", single, metrics)
    unknown = make_cfg("objective.metric=[val_accuracy,nope]", TWO[1])
    with pytest.raises(SearchError, match="objective.metric=nope is not a metric"):
        search_objective(["maximize", "minimize"], unknown, metrics)


def test_trial_values_and_outcome_of_a_multi_objective_job(tmp_path):
    assert trial_values([0.5, 10], 2) == ([0.5, 10.0], None)
    assert trial_values(0.5, 2)[0] is None and "1 value(s) for 2" in trial_values(0.5, 2)[1]
    assert trial_values([0.5, math.nan], 2) == (None, "the run returned NaN")
    from test_search import job_return

    ret = job_return(tmp_path, {"status": "ok", "objective": 0.5}, [0.5, 10.0])
    assert trial_outcome(ret, 2)[0] == [0.5, 10.0]
    value, attrs = trial_outcome(job_return(tmp_path, {"status": "ok"}, 0.5), 2)
    assert value is None and "for 2 objectives" in attrs["reason"]


def multi_study(tmp_path: Path) -> optuna.Study:
    study = optuna.create_study(
        study_name="m",
        storage=f"sqlite:///{tmp_path / 'o.db'}",
        directions=["maximize", "minimize"],
        sampler=optuna.samplers.NSGAIISampler(seed=0),
    )
    space = {"h": optuna.distributions.IntDistribution(1, 10)}
    for h, values, status in [
        (2, [0.6, 20.0], "ok"),
        (5, [0.9, 50.0], "ok"),
        (6, [0.8, 60.0], "ok"),  # dominated by h=5
        (9, [-math.inf, math.inf], "failed"),  # a diverged run: never on the front
    ]:
        trial = study.ask(fixed_distributions=space)
        trial.suggest_int("h", 1, 10)
        trial.set_user_attr("status", status)
        trial.set_user_attr("job_dir", f"/jobs/{h}")
        study.tell(trial, values)
    return study


def test_multi_objective_report_writes_the_front_the_plot_and_best_trials(tmp_path):
    study = multi_study(tmp_path)
    study.set_user_attr("objective_metrics", ["val_accuracy", "parameters"])
    out = tmp_path / "sweep"
    record = write_report(study, out, "sqlite:///x.db")
    front = pd.read_csv(out / "pareto_front.csv")
    assert list(front["number"]) == [1, 0]  # best val_accuracy first
    assert list(front.columns[:3]) == ["number", "val_accuracy", "parameters"]
    best = yaml.safe_load((out / "best_trial.yaml").read_text())
    assert [b["number"] for b in best["best_trials"]] == [1, 0]
    assert best["best_trials"][0]["values"] == {"val_accuracy": 0.9, "parameters": 50.0}
    assert best["directions"] == ["maximize", "minimize"] and record["failed_trials"] == 1
    solutions = yaml.safe_load((out / "optimization_results.yaml").read_text())["solutions"]
    assert solutions[0]["values"] == [0.9, 50.0]
    trials = pd.read_csv(out / "trials.csv")
    assert {"value", "values_val_accuracy", "values_parameters", "pareto"} <= set(trials.columns)
    assert list(trials["pareto"]) == [True, True, False, False]
    png = (out / "pareto_front.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert (out / "optimization_history_parameters.png").exists()


def test_multi_objective_plots_restore_the_global_style(tmp_path):
    """Optuna's pareto and history plots set ggplot globally; figures drawn after them
    (the collected sweep's) must not inherit its grey background."""
    import matplotlib

    study = multi_study(tmp_path)
    study.set_user_attr("objective_metrics", ["val_accuracy", "parameters"])
    matplotlib.use("Agg")
    before = matplotlib.rcParams["axes.facecolor"]
    write_report(study, tmp_path / "sweep", "sqlite:///x.db")
    assert (tmp_path / "sweep" / "pareto_front.png").exists()
    assert matplotlib.rcParams["axes.facecolor"] == before


def test_a_study_is_not_resumed_over_other_objective_metrics(tmp_path):
    from sweeper.core.objectives import Objective

    study = multi_study(tmp_path)
    objective = Objective(("val_accuracy", "parameters"), ("maximize", "minimize"))
    check_same_metrics(study, objective, "here")  # records them
    check_same_metrics(study, objective, "here")
    other = Objective(("test_accuracy", "parameters"), ("maximize", "minimize"))
    with pytest.raises(SearchError, match=r"searched over objective.metric=\[val_accuracy,para"):
        check_same_metrics(study, other, "here")


def test_collected_summary_lists_the_best_jobs():
    spec = "val_accuracy (maximize), parameters (minimize)"
    results = pd.DataFrame(
        {
            "job": ["0", "1", "2", "3"],
            "model.hidden": [2, 5, 6, 9],
            "status": ["ok", "ok", "ok", "failed"],
            "objectives": [spec] * 4,
            "val_accuracy": [0.6, 0.9, 0.8, 0.1],
            "parameters": [20.0, 50.0, 60.0, 5.0],
        }
    )
    lines = front_lines(results, ["model.hidden"])
    assert lines[0] == f"## Best jobs (Pareto front over {spec})"
    assert lines[2:4] == [
        "- job 1 (model.hidden=5): val_accuracy 0.9000, parameters 50",
        "- job 0 (model.hidden=2): val_accuracy 0.6000, parameters 20",
    ]
    assert front_lines(results.drop(columns="objectives"), []) == []


def test_memory_hidden2_preset_composes(make_cfg):
    cfg = make_cfg("experiment=memory_hidden2", fast=False)
    validate(cfg)
    assert (cfg.task.name, cfg.model.hidden, cfg.model.init) == ("memory", 2, "orthogonal")
    assert (cfg.optim.schedule, cfg.trainer.patience, cfg.trainer.epochs) == ("constant", 0, 30)


def test_arch_overlay_searches_lr_hidden_and_batch_size():
    from hydra import compose, initialize_config_dir

    from conftest import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["hparams_search=arch", *TWO], return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert set(sweeper.params) == {"optim.lr", "model.hidden", "trainer.batch_size"}
    assert (
        sweeper.study_name == "adder-arch" and cfg.hydra.sweep.dir == "multirun/search/adder-arch"
    )
    assert list(sweeper.direction) == ["maximize", "minimize"]  # follows objective.direction


# ------------------------------------------------------------------ end to end


def sweep(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sweeper", "task=adder", *SMALL_RUN, *args, "-m"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.slow
def test_multi_objective_search_of_four_trials(tmp_path):
    out = tmp_path / "s"
    result = sweep(
        "hparams_search=arch",
        *TWO,
        "hydra.sweeper.n_trials=4",
        "trainer.epochs=1",
        f"hydra.sweep.dir={out}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    said = result.stdout + result.stderr  # Hydra's log lines go to stdout
    assert "sampler NSGA-II" in said and "Pareto-optimal trial(s)" in said
    study = optuna.load_study(study_name="adder-arch", storage=f"sqlite:///{out / 'optuna.db'}")
    assert len(study.directions) == 2 and len(study.trials) == 4
    assert all("NSGAIISampler:generation" in t.system_attrs for t in study.trials)  # NSGA-II
    assert all(t.state.name == "COMPLETE" and len(t.values) == 2 for t in study.trials)
    front = pd.read_csv(out / "pareto_front.csv")
    assert len(front) >= 1 and set(front["number"]) <= set(range(4))
    for _, row in front.iterrows():  # a trial's values are its run's
        record = json.loads((Path(row["job_dir"]) / "metrics.json").read_text())
        assert row["val_accuracy"] == record["metrics"]["val_accuracy"]
        assert row["parameters"] == record["parameters"]
    assert (out / "pareto_front.png").read_bytes().startswith(b"\x89PNG")
    summary = (out / "summary.md").read_text()
    assert "## Best jobs (Pareto front over val_accuracy (maximize), parameters (minimize))" in (
        summary
    )
    results = pd.read_csv(out / "results.csv")
    assert "parameters" in results.columns and "objectives" in results.columns
    best = yaml.safe_load((out / "best_trial.yaml").read_text())
    assert [b["number"] for b in best["best_trials"]] == list(front["number"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hydra.sweeper.direction=minimize"], r"direction=\[minimize\] disagrees with"),
        (
            ["objective.metric=[val_accuracy,parameters]", "objective.direction=[maximize]"],
            "objective.metric has 2 metric",
        ),
        (["objective.metric=[val_accuracy,nope]", TWO[1]], "objective.metric=nope is not a"),
    ],
)
def test_search_refusals_come_before_any_trial(tmp_path, args, message):
    out = tmp_path / "s"
    result = sweep("hparams_search=lr", *args, f"hydra.sweep.dir={out}", cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if "sweeper: error" in line]
    assert len(lines) == 1 and lines[0].startswith("sweeper: error: ")
    assert re.search(message, lines[0]), lines[0]
    assert not out.exists()  # no study, no trial folder


@pytest.mark.slow
def test_arch_overlay_composes_and_runs(tmp_path):
    out = tmp_path / "a"
    result = sweep(
        "hparams_search=arch",
        "hydra.sweeper.n_trials=2",
        "trainer.epochs=1",
        f"hydra.sweep.dir={out}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    trials = pd.read_csv(out / "trials.csv")
    assert {"params_optim.lr", "params_model.hidden", "params_trainer.batch_size"} <= set(
        trials.columns
    )
    assert (trials["state"] == "COMPLETE").all()
    best = yaml.safe_load((out / "best_trial.yaml").read_text())
    assert set(best["best"]["params"]) == {"optim.lr", "model.hidden", "trainer.batch_size"}
