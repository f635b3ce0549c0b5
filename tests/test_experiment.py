"""A study is one experiment (issue 24, item 1), and `hydra.sweeper.n_trials` is a
positive integer or 0, "report only" (item 2).

A study records the fixed part of its configuration (sweeper.sweeps.experiment); a
search that would resume it with any of it changed is refused in one line naming the
keys, unless hydra.sweeper.allow_changed_config=true. Tested on the plain Hydra app of
examples/plain_hydra_app (instant jobs) and on sweeper's own app."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from omegaconf import OmegaConf

from conftest import ROOT, SMALL_RUN
from sweeper.sweeps.experiment import (
    FIXED_ATTR,
    HASH_ATTR,
    RECORDING_ONLY,
    changes,
    check_same_experiment,
    fixed_config,
    fixed_hash,
)
from sweeper.sweeps.search_space import SearchError

EXAMPLE = ROOT / "examples" / "plain_hydra_app"
STORAGE = "hydra.sweeper.storage=sqlite:///${hydra.sweep.dir}/optuna.db"
COMMON = ["x=interval(-5,5)", "hydra.sweep.dir=s", STORAGE, "hydra.sweeper.study_name=sp"]
# hydra.sweeper.allow_changed_config, with ++ so that it works before the key is in the
# sweeper's config (hydra_plugins/sweeper_search/configs.py) and after
ALLOW = "++hydra.sweeper.allow_changed_config=true"


# ------------------------------------------------------------------ fast unit tests


def test_the_fixed_config_leaves_out_searched_and_recording_only_keys():
    cfg = OmegaConf.create(
        {
            "x": 1.0,
            "y": 2,
            "model": {"cell": "lstm", "hidden": 3},
            "name": "${model.cell}-run",
            "hydra": {"sweeper": {"n_trials": 5}, "sweep": {"dir": "a"}},
            "logger": {"csv": True},
            "device": {"name": "cpu"},
            "task": {"train_size": 64, "data_root": "/data"},
        }
    )
    plain = fixed_config(cfg, ["x", "+w"], "app")
    assert "x" not in plain and not any(k.startswith("hydra") for k in plain)
    assert plain["name"] == "${model.cell}-run"  # as written, not resolved
    assert plain["logger.csv"] is True and plain["device.name"] == "cpu"  # a plain app's keys
    ours = fixed_config(cfg, ["model"], "sweeper")  # a searched group: all under it
    assert set(ours) == {"x", "y", "name", "task.train_size"}
    assert set(RECORDING_ONLY["sweeper"]) >= {"hydra", "logger", "device", "pruning"}


def test_changes_name_each_key_old_to_new_and_ints_equal_floats():
    old = {"trainer.epochs": 15, "x": 1.0, "gone": "a"}
    new = {"trainer.epochs": 3, "x": 1, "added": [1, 2]}
    assert changes(old, new) == [
        "trainer.epochs: 15 → 3",
        "added: (not set) → [1, 2]",
        "gone: a → (not set)",
    ]
    assert fixed_hash({"x": 1.0}) == fixed_hash({"x": 1.0}) != fixed_hash({"x": 2.0})
    assert changes({"x": 1.0}, {"x": 1}) == []


def study_with_trial(fixed: dict | None) -> optuna.Study:
    study = optuna.create_study(study_name="s")
    if fixed is not None:
        study.set_user_attr(FIXED_ATTR, fixed)
    study.add_trial(
        optuna.trial.create_trial(
            params={"x": 0.5},
            distributions={"x": optuna.distributions.FloatDistribution(0, 1)},
            value=1.0,
        )
    )
    return study


def test_a_study_refuses_another_experiment_unless_allowed(caplog):
    study = study_with_trial({"trainer.epochs": 15, "seed": 0})
    check_same_experiment(study, {"trainer.epochs": 15, "seed": 0}, "db")  # the same: fine
    with pytest.raises(SearchError) as refused:
        check_same_experiment(study, {"trainer.epochs": 3, "seed": 0}, "db")
    line = str(refused.value)
    assert "\n" not in line and "study s in db was run with another configuration" in line
    assert "trainer.epochs: 15 → 3" in line
    assert f"hydra.sweeper.study_name=s-{fixed_hash({'trainer.epochs': 3, 'seed': 0})}" in line
    assert "hydra.sweeper.allow_changed_config=true" in line
    check_same_experiment(study, {"trainer.epochs": 3, "seed": 0}, "db", allow_changed=True)
    assert "resuming study s with another fixed configuration" in caplog.text
    assert study.user_attrs[FIXED_ATTR] == {"trainer.epochs": 3, "seed": 0}  # the new record
    assert study.user_attrs[HASH_ATTR] == fixed_hash({"trainer.epochs": 3, "seed": 0})


def test_many_changes_are_counted_after_the_first_few():
    study = study_with_trial({f"k{i}": i for i in range(10)})
    with pytest.raises(SearchError, match="; and 4 more"):
        check_same_experiment(study, {f"k{i}": i + 1 for i in range(10)}, "db")


def test_a_study_without_trials_or_record_takes_this_runs_config(caplog):
    caplog.set_level(logging.INFO)
    empty = optuna.create_study()
    empty.set_user_attr(FIXED_ATTR, {"a": 1})
    check_same_experiment(empty, {"a": 2}, "db")  # nothing in it to mix with
    assert empty.user_attrs[FIXED_ATTR] == {"a": 2}
    legacy = study_with_trial(None)  # an older sweeper's, its job folders unknown
    check_same_experiment(legacy, {"a": 1}, "db")
    assert legacy.user_attrs[FIXED_ATTR] == {"a": 1}
    assert "has no record of its fixed configuration" in caplog.text


# ------------------------------------------------------------------ a plain Hydra app


@pytest.fixture
def app(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "app")
    return tmp_path / "app"


def run(app: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "sphere.py", *args, "-m"],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=300,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def refused(result: subprocess.CompletedProcess, code: int = 2) -> str:
    assert result.returncode == code, (result.stdout + result.stderr)[-3000:]
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("sweeper: error: ")
    return line


def trials_of(app: Path, name: str = "sp") -> list:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{app / 's' / 'optuna.db'}").trials


@pytest.mark.slow
def test_a_plain_apps_study_is_one_experiment(app):
    ok(run(app, *COMMON, "hydra.sweeper.n_trials=2"))
    # a changed fixed key: refused, naming it; nothing added
    line = refused(run(app, *COMMON, "hydra.sweeper.n_trials=2", "y=2"))
    assert "study sp in" in line and "was run with another configuration: y: 1.0 → 2." in line
    assert "hydra.sweeper.study_name=sp-" in line and "allow_changed_config=true" in line
    assert len(trials_of(app)) == 2
    # recording-only and execution-only keys change nothing; the same value written as an int
    again = ok(
        run(
            app,
            *COMMON,
            "hydra.sweeper.n_trials=1",
            "hydra.sweeper.sampler.seed=7",
            "hydra.sweeper.max_failure_rate=0.5",
            "y=1",
        )
    )
    assert "resumed study sp" in again and len(trials_of(app)) == 3
    # the app's own config file edited: the same refusal
    config = app / "conf" / "config.yaml"
    config.write_text(config.read_text().replace("epochs: 0 ", "epochs: 1 "))
    line = refused(run(app, *COMMON, "hydra.sweeper.n_trials=1"))
    assert "epochs: 0 → 1" in line
    # meant: resumed, warned, and the study records the new configuration
    allowed = ok(run(app, *COMMON, "hydra.sweeper.n_trials=1", ALLOW))
    assert "resuming study sp with another fixed configuration" in allowed
    assert len(trials_of(app)) == 4
    ok(run(app, *COMMON, "hydra.sweeper.n_trials=1"))  # now the recorded one
    # the name the refusal offers starts a new study beside it, in the same database
    config.write_text(config.read_text().replace("epochs: 1 ", "epochs: 0 "))
    name = refused(run(app, *COMMON, "hydra.sweeper.n_trials=1")).split("study_name=")[1]
    name = name.split(" ")[0]
    ok(run(app, *COMMON[:3], f"hydra.sweeper.study_name={name}", "hydra.sweeper.n_trials=1"))
    assert len(trials_of(app, name)) == 1 and len(trials_of(app)) == 5


def forget_record(db: Path) -> None:
    """Make the study look like an older sweeper's: no fixed-config record."""
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM study_user_attributes WHERE key LIKE 'sweeper:fixed%'")


@pytest.mark.slow
def test_a_study_from_before_the_record_is_judged_by_its_jobs_configs(app):
    ok(run(app, *COMMON, "hydra.sweeper.n_trials=2"))
    db = app / "s" / "optuna.db"
    forget_record(db)
    line = refused(run(app, *COMMON, "hydra.sweeper.n_trials=1", "y=3"))
    assert "(as trial 1's" in line and ".hydra/config.yaml shows): y: 1.0 → 3" in line
    assert ok(run(app, *COMMON, "hydra.sweeper.n_trials=1")).count("resumed study sp") == 1
    study = optuna.load_study(study_name="sp", storage=f"sqlite:///{db}")
    assert study.user_attrs[FIXED_ATTR]["y"] == 1.0  # recorded now
    # its job folders gone too: resumed, and this run's configuration recorded
    forget_record(db)
    for job in (app / "s").iterdir():
        if job.name.isdigit():
            shutil.rmtree(job)
    adopted = ok(run(app, *COMMON, "hydra.sweeper.n_trials=1", "y=3"))
    assert "has no record of its fixed configuration" in adopted
    assert len(trials_of(app)) == 4


@pytest.mark.slow
def test_n_trials_zero_reports_an_existing_study_and_creates_nothing(app):
    # no study yet: refused, and neither the folder nor a database is made
    line = refused(run(app, *COMMON, "hydra.sweeper.n_trials=0"))
    assert "hydra.sweeper.n_trials=0 only reports an existing study" in line
    assert "does not exist" in line and not (app / "s").exists()
    line = refused(run(app, "x=interval(-5,5)", "hydra.sweeper.n_trials=0"))
    assert "in-memory one (hydra.sweeper.storage=null)" in line
    ok(run(app, *COMMON, "hydra.sweeper.n_trials=2"))
    jobs = sorted(p.name for p in (app / "s").iterdir())
    (app / "s" / "trials.csv").unlink()
    # report only: the same trials, no job, the tables written again; any fixed config
    report = ok(run(app, *COMMON, "hydra.sweeper.n_trials=0", "y=5"))
    assert "hydra.sweeper.n_trials=0: reporting study sp" in report
    assert "best trial" in report and len(trials_of(app)) == 2
    assert sorted(p.name for p in (app / "s").iterdir()) == jobs
    # an unnamed study: the database's only one; a name it does not hold: refused
    assert "reporting study sp" in ok(run(app, *COMMON[:3], "hydra.sweeper.n_trials=0"))
    line = refused(
        run(app, *COMMON[:3], "hydra.sweeper.study_name=nope", "hydra.sweeper.n_trials=0")
    )
    assert "no study nope in" in line and "which holds studies sp" in line
    with_total = ok(
        run(app, *COMMON, "hydra.sweeper.n_trials=0", "hydra.sweeper.total_trials=true")
    )
    assert "reporting study sp" in with_total and len(trials_of(app)) == 2


@pytest.mark.slow
@pytest.mark.parametrize("value", ["-2", "-1", "1.5", "abc", "true", "null"])
def test_n_trials_must_be_a_positive_integer(app, value):
    line = refused(run(app, *COMMON, f"hydra.sweeper.n_trials={value}"))
    assert "must be a positive integer (or 0: only report an existing study)" in line
    assert line.startswith("sweeper: error: hydra.sweeper.n_trials=")
    assert not (app / "s").exists()


# ------------------------------------------------------------------ sweeper's own app


def search(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sweeper",
            "task=adder",
            "hparams_search=lr",
            *SMALL_RUN,
            "trainer.epochs=1",
            "task.train_size=64",
            *args,
            "-m",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.slow
def test_sweepers_own_study_is_one_experiment_and_n_trials_zero_makes_none(tmp_path):
    sweep = tmp_path / "multirun" / "search" / "adder-lr"
    # n_trials=0 in a fresh folder: refused, no study of 1-epoch trials made
    line = refused(search(tmp_path, "hydra.sweeper.n_trials=0"))
    assert "only reports an existing study" in line and not sweep.exists()
    ok(search(tmp_path, "hydra.sweeper.n_trials=1"))
    # the case: other epochs into the same study
    line = refused(search(tmp_path, "hydra.sweeper.n_trials=1", "trainer.epochs=3"))
    assert "study adder-lr in" in line and "trainer.epochs: 1 → 3" in line
    assert "hydra.sweeper.study_name=adder-lr-" in line
    # trackers, device and the sweeper's own settings are not the experiment
    again = search(tmp_path, "hydra.sweeper.n_trials=1", "logger=none", "device=cpu")
    assert "resumed study adder-lr" in ok(again)
    study = optuna.load_study(study_name="adder-lr", storage=f"sqlite:///{sweep / 'optuna.db'}")
    assert len(study.trials) == 2 and study.user_attrs[FIXED_ATTR]["trainer.epochs"] == 1
    assert "optim.lr" not in study.user_attrs[FIXED_ATTR]  # searched
