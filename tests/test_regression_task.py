"""A task with its own target kind, from a folder outside the repository: examples/regression_task.

The example's task (the mean of a sequence, judged by RMSE, lower is better) brings
a `TargetKind` of its own (`sweeper.core.targets`); no file of sweeper knows about
it. These tests check that the loop, the pruner, the records and the sweep tools take
its metric names and directions from it: metrics.json's `headline`, history.csv's
`val_rmse`, a loss it does not take refused in one line, a grid, collect, compare
and a search from its own folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT, compose_example, copy_example, sweeper
from sweeper.core.config import ConfigError
from sweeper.core.metrics import epoch_metrics, final_metrics, headline, split_description
from sweeper.run.job import train
from sweeper.run.pruning import epoch_metric
from sweeper.run.validate import validate

EXAMPLE = ROOT / "examples" / "regression_task"
TINY = [
    "task.train_size=256",
    "task.val_size=45",
    "task.test_per_length=10",
    "task.extrapolation_lengths=[14]",
    "trainer.epochs=2",
]


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """examples/regression_task copied outside the repository, importable as a sweep sees it."""
    return copy_example(EXAMPLE, tmp_path, monkeypatch, ("my_tasks",))


def make(example: Path, *overrides: str, run: str = "run"):
    """The config `python -m sweeper --config-dir my_conf task=mean loss=mse OVERRIDES`."""
    return compose_example(example, ["task=mean", "loss=mse", *overrides], run)


def test_the_example_is_two_files_and_sweeper_has_no_value_kind():
    files = sorted(p.relative_to(EXAMPLE).as_posix() for p in EXAMPLE.rglob("mean*"))
    assert files == ["my_conf/task/mean.yaml", "my_tasks/mean.py"]
    from sweeper.core.targets import KINDS

    assert sorted(KINDS) == ["bits", "classes"]  # the regression's kind lives in the example


def test_the_kind_names_every_metric_and_its_direction(example):
    from my_tasks.mean import MeanTask

    target = MeanTask.target
    assert epoch_metrics(target) == ["train_loss", "val_loss", "val_rmse"]
    assert final_metrics(target, ["test", "extrapolation"])[-4:] == [
        "extrapolation_loss",
        "extrapolation_rmse",
        "epochs_run",
        "best_epoch",
    ]
    assert headline(target, ["test", "extrapolation"]) == {
        "val_rmse": "minimize",
        "test_rmse": "minimize",
        "extrapolation_rmse": "minimize",
    }
    assert split_description("extrapolation_rmse") == "extrapolation split"
    assert split_description("epochs_run") == "run"


def test_a_regression_trains_and_records_its_own_metric_names(example):
    cfg = make(example, *TINY)
    validate(cfg)
    value = train(cfg)
    record = json.loads((example / "run" / "metrics.json").read_text())
    assert record["status"] == "ok" and record["objective_metric"] == "val_rmse"
    assert record["objective_direction"] == "minimize" and value == record["metrics"]["val_rmse"]
    assert record["headline"] == {
        "val_rmse": "minimize",
        "test_rmse": "minimize",
        "extrapolation_rmse": "minimize",
    }
    assert not any("accuracy" in name for name in record["metrics"])
    history = pd.read_csv(example / "run" / "history.csv")
    assert {"val_rmse", "val_loss"} <= set(history.columns) and "val_accuracy" not in history
    # RMSE is the root of the mean squared error the loss is (mse on one output)
    last = history.iloc[-1]
    assert abs(last["val_rmse"] ** 2 - last["val_loss"]) < 1e-5
    by_length = pd.read_csv(example / "run" / "by_length.csv")
    assert {"split", "length", "n", "rmse", "mean_loss"} <= set(by_length.columns)


def test_the_best_epoch_is_the_lowest_rmse_and_the_stop_level_is_reached_from_above(example):
    cfg = make(example, *TINY[:-1], "trainer.epochs=6", "trainer.stop_accuracy=1.0")
    train(cfg)  # every RMSE here is below 1: a minimised score reaches its level from above
    record = json.loads((example / "run" / "metrics.json").read_text())
    assert record["metrics"]["epochs_run"] == 1  # stopped at once (stop_epochs=1)
    cfg = make(example, *TINY[:-1], "trainer.epochs=6", "trainer.keep_best=true", run="best")
    train(cfg)
    history = pd.read_csv(example / "best" / "history.csv")
    record = json.loads((example / "best" / "metrics.json").read_text())
    best = int(history["val_rmse"].idxmin()) + 1
    assert record["metrics"]["best_epoch"] == best
    assert record["metrics"]["val_rmse"] == pytest.approx(history["val_rmse"].min())


def test_a_loss_the_kind_does_not_take_is_refused_naming_loss_name(example):
    cfg = make(example, *TINY, "loss=ce")
    with pytest.raises(ConfigError, match=r"^loss.name=ce: the task's value targets take mse$"):
        train(cfg)
    assert not (example / "run").exists()


def test_a_search_prunes_on_the_kinds_own_per_epoch_metric(example):
    assert epoch_metric(make(example, "objective.metric=test_rmse")) == "val_rmse"
    assert epoch_metric(make(example)) == "val_rmse"
    with pytest.raises(ConfigError, match="history.csv has train_loss, val_loss, val_rmse"):
        epoch_metric(make(example, "objective.metric=epochs_run"))


@pytest.mark.slow
def test_the_example_sweeps_collects_compares_and_searches_from_its_own_folder(example):
    grids = {}
    for lr in ("0.01", "0.03"):
        grid = sweeper("--config-dir", "my_conf", "task=mean", "loss=mse", "model.hidden=4,8",
                       "seed=0,1", f"optim.lr={lr}", *TINY, f"hydra.sweep.dir=grid{lr}", "-m",
                       cwd=example)  # fmt: skip
        assert grid.returncode == 0, grid.stderr[-3000:]
        grids[lr] = example / f"grid{lr}"
    results = pd.read_csv(grids["0.01"] / "results.csv")
    assert len(results) == 4 and (results["status"] == "ok").all()
    assert set(results["headline"]) == {
        "val_rmse (minimize), test_rmse (minimize), extrapolation_rmse (minimize)"
    }
    summary = (grids["0.01"] / "summary.md").read_text()
    assert "Best" in summary and "test_rmse" in summary  # the headline beside the best
    best = results.loc[results["objective"].idxmin()]  # lower is better
    assert f"job {best['job']} " in summary or "tie" in summary
    compare = sweeper("compare", "grid0.01/results.csv", "grid0.03/results.csv", cwd=example)
    assert compare.returncode == 0, compare.stderr[-3000:]
    assert "test_rmse" in compare.stdout and "extrapolation_rmse" in compare.stdout
    search = sweeper("--config-dir", "my_conf", "task=mean", "loss=mse", "hparams_search=lr",
                     "hydra.sweeper.n_trials=3", *TINY, "-m", cwd=example)  # fmt: skip
    assert search.returncode == 0, search.stderr[-3000:]
    (folder,) = (example / "multirun" / "search").iterdir()  # the study's folder
    trials = pd.read_csv(folder / "results.csv")
    assert len(trials) == 3 and (trials["objective_metric"] == "val_rmse").all()
    best = yaml.safe_load((folder / "best_trial.yaml").read_text())["best"]
    assert "test_rmse" in best["metrics"]  # the headline beside the best trial
    assert best["value"] == pytest.approx(trials["objective"].min())  # minimised
