"""Pruning: the pruner config and its refusals, the job's observer, pruned records, searches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import matplotlib
import optuna
import pandas as pd
import pytest
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser

from conftest import ROOT
from sweeper.core.config import ConfigError
from sweeper.core.record import check_record, run_status
from sweeper.reports.search_files import mark_pruned
from sweeper.reports.search_files import write_search_files as write_report
from sweeper.run.pruning import (
    Pruned,
    PruningObserver,
    check_pruning,
    epoch_metric,
    pruner_settings,
    trial_overrides,
    unknown_pruner,
)
from sweeper.sweeps.stale_trials import fail_stale_trials

matplotlib.use("Agg")
PRUNED = optuna.trial.TrialState.PRUNED


# ------------------------------------------------------------------ the pruner config


def test_pruning_is_off_unless_a_pruner_is_chosen(make_cfg):
    assert pruner_settings(make_cfg()) == ("none", {})
    assert check_pruning(make_cfg(), "sqlite:///x.db") is None


@pytest.mark.parametrize(("task", "warmup"), [("adder", 3), ("memory", 2), ("mnist", 1)])
def test_median_pruner_takes_the_tasks_warmup(make_cfg, task, warmup):
    name, options = pruner_settings(make_cfg(f"task={task}", "pruner=median"))
    assert name == "median" and options["n_warmup_steps"] == warmup
    assert options["n_startup_trials"] == 5


def test_each_pruner_builds_its_optuna_pruner(make_cfg):
    expected = {
        "median": optuna.pruners.MedianPruner,
        "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
        "hyperband": optuna.pruners.HyperbandPruner,
    }
    for name, cls in expected.items():
        assert isinstance(check_pruning(make_cfg(f"pruner={name}"), "sqlite:///x.db"), cls)
    sh = make_cfg("pruner=successive_halving", "pruner.min_resource=auto")
    assert pruner_settings(sh)[1]["min_resource"] == "auto"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["pruner=median", "pruner.name=zzz"], "pruner.name='zzz' is not a pruner: choose one of"),
        (["pruner=median", "pruner.n_warmup_steps=abc"], "pruner.n_warmup_steps='abc' must be"),
        (["pruner=median", "pruner.n_warmup_steps=1.5"], "pruner.n_warmup_steps=1.5 must be"),
        (["pruner=median", "pruner.n_startup_trials=true"], "pruner.n_startup_trials=True must"),
        (["pruner=median", "pruner.interval_steps=0"], "pruner.interval_steps=0 must be"),
        (["pruner=median", "+pruner.min_resource=2"], "pruner.min_resource is not an option"),
        (["pruner=hyperband", "pruner.reduction_factor=1"], "pruner.reduction_factor=1 must"),
        (["pruner=successive_halving", "pruner.min_resource=x"], "must be auto or an integer"),
        (["pruner=hyperband", "pruner.min_resource=9", "trainer.epochs=4"], "max_resource=4 is"),
        (["pruner=none", "+pruner.n_warmup_steps=1"], "(it takes no options)"),
        (["pruner=median", "pruning.warmup_epochs=-1"], "(from pruning.warmup_epochs) must be"),
    ],
)
def test_bad_pruner_settings_are_one_line(make_cfg, overrides, message):
    with pytest.raises(ConfigError, match=None) as error:
        check_pruning(make_cfg(*overrides), "sqlite:///x.db")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_pruning_needs_a_study_the_jobs_can_reach(make_cfg):
    with pytest.raises(ConfigError, match="pruner=median needs a study its jobs can reach"):
        check_pruning(make_cfg("pruner=median"), None)


@pytest.mark.parametrize(
    ("task", "metric", "column"),
    [
        ("adder", "test_accuracy", "val_accuracy"),
        ("adder", "val_accuracy", "val_accuracy"),
        ("adder", "test_exact_accuracy", "val_exact_accuracy"),
        ("adder", "extrapolation_accuracy", "val_accuracy"),
        ("memory", "test_loss", "val_loss"),
        ("memory", "val_loss", "val_loss"),
        ("memory", "train_loss", "train_loss"),
    ],
)
def test_the_objectives_per_epoch_counterpart(make_cfg, task, metric, column):
    assert epoch_metric(make_cfg(f"task={task}", f"objective.metric={metric}")) == column


@pytest.mark.parametrize("metric", ["epochs_run", "best_epoch", "parameters", "[val_accuracy]"])
def test_an_objective_without_per_epoch_values_cannot_be_pruned(make_cfg, metric):
    cfg = make_cfg("pruner=median", f"objective.metric={metric}")
    with pytest.raises(ConfigError) as error:
        check_pruning(cfg, "sqlite:///x.db")
    assert "objective.metric=" in str(error.value) and "pruner=none" in str(error.value)


def test_a_multi_objective_search_cannot_be_pruned_and_the_message_lists_the_metrics(make_cfg):
    cfg = make_cfg(
        "pruner=median",
        "objective.metric=[val_accuracy,parameters]",
        "objective.direction=[maximize,minimize]",
    )
    with pytest.raises(ConfigError) as error:
        check_pruning(cfg, "sqlite:///x.db")
    assert str(error.value) == (
        "objective.metric=[val_accuracy,parameters]: Optuna cannot prune a multi-objective "
        "study; use pruner=none"
    )


def test_unknown_pruner_on_the_command_line():
    assert unknown_pruner(["task=adder", "pruner=median"]) is None
    assert unknown_pruner(["pruner=median,none", "pruner=choice(a,b)"]) is None  # sweeps
    message = unknown_pruner(["task=adder", "pruner=medain"])
    assert message == (
        "pruner=medain is not a pruner: choose one of none, median, successive_halving, hyperband"
    )


def test_trial_overrides_survive_hydras_grammar(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    odd = "postgresql://u:p'w\\x\\'y@host/db\\"
    parser = OverridesParser.create()
    for storage, expected in [
        ("sqlite:///rel/optuna.db", f"sqlite:///{tmp_path / 'rel' / 'optuna.db'}"),
        (odd, odd),
    ]:
        parsed = [parser.parse_override(o) for o in trial_overrides(storage, "st'udy", 7)]
        values = {o.key_or_group: o.value() for o in parsed}
        assert values == {
            "pruning.storage": expected,
            "pruning.study": "st'udy",
            "pruning.trial": 7,
        }


# ------------------------------------------------------------------ the job's observer


class FakeTrial:
    def __init__(self, prune_at: int | None = None, broken: bool = False) -> None:
        self.reports: list[tuple[float, int]] = []
        self.prune_at, self.broken = prune_at, broken

    def report(self, value: float, step: int) -> None:
        if self.broken:
            raise RuntimeError("database is locked")
        self.reports.append((value, step))

    def should_prune(self) -> bool:
        return self.reports[-1][1] == self.prune_at


def search_job_cfg(make_cfg, storage: str = "sqlite:///x.db", *extra: str):
    return make_cfg(
        "pruner=median",
        f"pruning.storage={storage}",
        "pruning.study=s",
        "pruning.trial=1",
        *extra,
    )


def test_observer_reports_each_epoch_and_stops_when_told(make_cfg):
    observer = PruningObserver(search_job_cfg(make_cfg))
    observer.trial = FakeTrial(prune_at=3)
    for epoch in (1, 2):
        observer.epoch_end({"epoch": epoch, "val_accuracy": 0.1 * epoch, "val_loss": 9.0})
    with pytest.raises(Pruned) as pruned:
        observer.epoch_end({"epoch": 3, "val_accuracy": 0.3, "val_loss": 9.0})
    assert observer.trial.reports == [(0.1, 1), (0.2, 2), (0.3, 3)]
    assert pruned.value.epoch == 3 and pruned.value.metric == "val_accuracy"
    assert str(pruned.value) == "pruned by the median pruner after epoch 3 (val_accuracy 0.3)"


def test_observer_that_cannot_reach_its_study_trains_on(make_cfg, caplog):
    observer = PruningObserver(search_job_cfg(make_cfg))
    observer.trial = FakeTrial(prune_at=1, broken=True)
    observer.epoch_end({"epoch": 1, "val_accuracy": 0.1})  # no raise: pruning off
    observer.epoch_end({"epoch": 2, "val_accuracy": 0.1})
    assert observer.broken and "pruning off for this run" in caplog.text
    assert caplog.text.count("pruning off") == 1


def test_a_pruner_outside_a_search_is_ignored(make_cfg, caplog):
    from sweeper.run.observers import CurvesFigure, build_observers

    def kinds(observers):
        return [type(o) for o in observers]

    assert kinds(build_observers(make_cfg("pruner=median"), Path("."))) == [CurvesFigure]
    assert "pruner=median is ignored" in caplog.text
    assert kinds(build_observers(make_cfg(), Path("."))) == [CurvesFigure]


def study_with_a_good_trial(db: Path) -> str:
    """A study (MedianPruner, 1 startup trial) holding trial 0 COMPLETE at 0.9 per epoch
    and trial 1 RUNNING."""
    storage = f"sqlite:///{db}"
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    good = study.ask()
    for epoch in (1, 2, 3):
        good.report(0.9, epoch)
    study.tell(good, 0.9)
    study.ask()
    return storage


def test_a_hopeless_job_is_pruned_through_the_shared_storage(make_cfg, tmp_path):
    from sweeper.run.job import train

    storage = study_with_a_good_trial(tmp_path / "s.db")
    cfg = search_job_cfg(make_cfg, storage, "pruner.n_startup_trials=1", "pruning.warmup_epochs=1")
    objective = train(cfg)  # a few epochs of the fast adder: val accuracy far below 0.9
    out = Path(cfg.output_dir)
    record = json.loads((out / "metrics.json").read_text())
    assert record["status"] == "pruned" and record["pruned_at_epoch"] == 1
    assert record["reason"].startswith("pruned by the median pruner after epoch 1 (val_accuracy")
    assert objective == float("-inf") and record["metrics"]["epochs_run"] == 1
    assert len(pd.read_csv(out / "history.csv")) == 1  # partial history kept
    assert not (out / "model.pt").exists() and not (out / "checkpoint.pt").exists()
    check_record(record)
    assert run_status(out).finished  # never run again into the same folder
    trial = optuna.load_study(study_name="s", storage=storage).trials[1]
    assert trial.intermediate_values == {1: record["metrics"]["val_accuracy"]}


def test_report_counts_pruned_trials_apart_and_marks_them_on_the_plot(tmp_path):
    study = optuna.create_study(direction="maximize")
    for value in (0.5, 0.7):
        study.add_trial(optuna.trial.create_trial(value=value, params={}, distributions={}))
    pruned = study.ask()
    pruned.report(0.95, 1)  # higher than any complete trial: still never the best
    pruned.set_user_attr("status", "pruned")
    study.tell(pruned, state=PRUNED)
    record = write_report(study, tmp_path, None)
    assert record["pruned_trials"] == 1 and record["failed_trials"] == 0
    assert record["best"]["value"] == 0.7
    trials = pd.read_csv(tmp_path / "trials.csv")
    assert list(trials["state"]) == ["COMPLETE", "COMPLETE", "PRUNED"]
    assert (tmp_path / "optimization_history.png").is_file()
    axes = optuna.visualization.matplotlib.plot_optimization_history(study)
    mark_pruned(axes, study)
    labels = [c.get_label() for c in axes.collections]
    assert "Pruned (last epoch value)" in labels
    assert [t.get_text() for t in axes.get_legend().get_texts()][-1] == "Pruned (last epoch value)"


@pytest.mark.parametrize(("status", "state"), [("pruned", "PRUNED"), ("ok", "COMPLETE")])
def test_a_killed_search_s_finished_run_is_told_from_its_job_number(tmp_path, status, state):
    """The search was SIGKILLed after the job finished but before it told the trial, so
    the trial has no `job_dir` yet: only the job number and sweep folder recorded at
    launch. The resumed search finds job 3 by its number and tells the trial from it."""
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", direction="maximize")
    trial = study.ask()
    trial.report(0.2, 2)
    sweep = tmp_path / "sweep"
    job = sweep / "3"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "config.yaml").write_text("seed: 0\n")
    (job / ".hydra" / "hydra.yaml").write_text("hydra:\n  job:\n    num: 3\n")
    (job / ".hydra" / "overrides.yaml").write_text("- optim.lr=0.01\n")
    (job / "metrics.json").write_text(json.dumps({"status": status, "objective": 0.9}))
    trial.set_user_attr("job_number", 3)
    trial.set_user_attr("sweep_dir", str(sweep))
    handled = fail_stale_trials(study, grace_period=10, now=trial.datetime_start.timestamp() + 60)
    assert handled == [f"0 (told from {job.resolve()})"]
    told = study.trials[0]
    assert told.state.name == state and told.value == (0.2 if status == "pruned" else 0.9)
    assert told.user_attrs["job_dir"] == str(job.resolve())
    assert told.user_attrs["status"] == status


def test_a_stale_trial_whose_run_was_pruned_is_told_pruned(tmp_path):
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", direction="maximize")
    trial = study.ask()
    trial.report(0.2, 2)
    job = tmp_path / "3"
    job.mkdir()
    (job / "metrics.json").write_text(
        json.dumps({"status": "pruned", "reason": "pruned by ...", "objective": None})
    )
    trial.set_user_attr("job_dir", str(job))
    handled = fail_stale_trials(study, grace_period=10, now=trial.datetime_start.timestamp() + 60)
    assert handled and "told from" in handled[0]
    told = study.trials[0]
    assert told.state == PRUNED and told.value == 0.2


# ------------------------------------------------------------------ whole searches

# A memory search over two learning rates: 0.05 learns (val accuracy 0.20 after epoch 1),
# 1e-7 never does (0.148). Sampler seed 6 draws 0.05, 0.05, 1e-7, 0.05, 1e-7, ...: trial 0
# completes, same-config good trials tie with it and run on, later 1e-7 trials are pruned.
SEARCH = [
    "task=memory",
    "hparams_search=lr",
    "task.val_size=270",
    "task.test_per_length=20",
    "task.extrapolation_lengths=[13]",
    "task.train_size=1536",
    "trainer.epochs=3",
    "trainer.patience=0",
    "trainer.stop_accuracy=null",
    "optim.lr=choice(0.05,0.0000001)",
    "hydra.sweeper.sampler.seed=6",
    "pruner=median",
    "pruner.n_startup_trials=1",
    "pruning.warmup_epochs=1",
]


def pruned_search(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sweeper", *SEARCH, *args, "-m"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def check_pruned_search(sweep: Path, storage: str, study_name: str = "memory-lr") -> None:
    """Every 1e-7 trial that started after a good one finished is PRUNED, with fewer history
    rows than trainer.epochs (3); no good trial is; the tables say so."""
    trials = optuna.load_study(study_name=study_name, storage=storage).trials
    pruned = [t for t in trials if t.state == PRUNED]
    assert pruned, [(t.number, t.state, t.params) for t in trials]
    assert all(t.params["optim.lr"] == 1e-7 for t in pruned)
    good = [t for t in trials if t.params["optim.lr"] == 0.05]
    assert good and all(t.state.name == "COMPLETE" for t in good)
    for trial in pruned:
        job = Path(trial.user_attrs["job_dir"])
        record = json.loads((job / "metrics.json").read_text())
        assert record["status"] == "pruned" and record["pruned_at_epoch"] < 3
        assert len(pd.read_csv(job / "history.csv")) == record["pruned_at_epoch"]
        assert trial.value == pytest.approx(record["metrics"]["val_accuracy"])
    best = yaml.safe_load((sweep / "best_trial.yaml").read_text())
    assert best["pruned_trials"] == len(pruned) and best["failed_trials"] == 0
    assert best["best"]["params"]["optim.lr"] == 0.05
    results = pd.read_csv(sweep / "results.csv")
    assert (results["status"] == "pruned").sum() == len(pruned)
    assert not {"pruning.storage", "pruning.study", "pruning.trial"} & set(results.columns)
    summary = (sweep / "summary.md").read_text()
    assert "## Pruned trials" in summary and "## Failed jobs" not in summary


@pytest.mark.slow
def test_hopeless_trials_are_pruned_in_the_sqlite_study(tmp_path):
    result = pruned_search(tmp_path, "hydra.sweeper.n_trials=3")
    assert result.returncode == 0, result.stderr[-3000:]
    sweep = tmp_path / "multirun" / "search" / "memory-lr"
    trials = optuna.load_study(study_name="memory-lr", storage=f"sqlite:///{sweep / 'optuna.db'}")
    assert [t.state.name for t in trials.trials] == ["COMPLETE", "COMPLETE", "PRUNED"]
    check_pruned_search(sweep, f"sqlite:///{sweep / 'optuna.db'}")


@pytest.mark.slow
def test_pruning_with_joblib_and_two_jobs(tmp_path):
    result = pruned_search(
        tmp_path, "hydra.sweeper.n_trials=4", "hydra.sweeper.n_jobs=2", "hydra/launcher=joblib"
    )  # batches (0.05, 0.05) and (1e-7, 0.05): the 1e-7 trial runs beside a good one
    assert result.returncode == 0, result.stderr[-3000:]
    sweep = tmp_path / "multirun" / "search" / "memory-lr"
    check_pruned_search(sweep, f"sqlite:///{sweep / 'optuna.db'}")


@pytest.mark.slow
def test_two_workers_prune_in_one_postgres_study(tmp_path, fresh_postgres_url):  # noqa: F811
    """Both workers draw the same seeded sequence: each prunes its 1e-7 trials against the
    good trials either of them finished."""
    results: list = [None, None]

    def worker(i: int) -> None:
        results[i] = pruned_search(
            tmp_path,
            "hydra.sweeper.n_trials=3",
            f"hydra.sweeper.storage={fresh_postgres_url}",
            f"hydra.sweep.dir={tmp_path / f'worker{i}'}",
        )

    threads = [threading.Thread(target=worker, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        assert result.returncode == 0, result.stderr[-3000:]
    trials = optuna.load_study(study_name="memory-lr", storage=fresh_postgres_url).trials
    assert len(trials) == 6 and all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)
    assert any(t.state == PRUNED for t in trials)
    assert all(t.params["optim.lr"] == 1e-7 for t in trials if t.state == PRUNED)
