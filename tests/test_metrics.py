"""sweeper.core.metrics: the one owner of metric names, directions and headline metrics."""

from __future__ import annotations

import pandas as pd

from sweeper.core.metrics import (
    HEADLINE,
    epoch_counterpart,
    epoch_metrics,
    final_metrics,
    format_headline,
    headline,
    inferred_headline,
    parse_headline,
    record_headline,
    split_description,
    sweep_headline,
)
from sweeper.core.targets import BITS, CLASSES
from sweeper.tasks.adder import AdderTask
from sweeper.tasks.memory import MemoryTask

SPLITS = ["test", "extrapolation"]


def test_the_built_in_kinds_name_the_metrics_their_tasks_always_had():
    assert epoch_metrics(BITS) == ["train_loss", "val_loss", "val_accuracy", "val_exact_accuracy"]
    assert epoch_metrics(CLASSES) == ["train_loss", "val_loss", "val_accuracy"]
    assert final_metrics(CLASSES, SPLITS) == [
        "train_loss",
        "val_loss",
        "val_accuracy",
        "test_loss",
        "test_accuracy",
        "extrapolation_loss",
        "extrapolation_accuracy",
        "epochs_run",
        "best_epoch",
    ]
    assert AdderTask.target is BITS and MemoryTask.target is CLASSES


def test_the_headline_is_the_validation_score_then_each_splits_figures():
    assert headline(BITS, SPLITS) == {
        "val_accuracy": "maximize",
        "test_accuracy": "maximize",
        "test_exact_accuracy": "maximize",
        "extrapolation_accuracy": "maximize",
        "extrapolation_exact_accuracy": "maximize",
    }
    assert list(headline(CLASSES, ["test"])) == ["val_accuracy", "test_accuracy"]


def test_a_headline_cell_reads_back_as_written():
    shown = headline(BITS, SPLITS)
    assert parse_headline(format_headline(shown)) == shown
    assert parse_headline(float("nan")) == {} and parse_headline("") == {}


def test_a_sweep_reads_its_headline_from_the_data_and_old_tables_by_the_rule():
    new = pd.DataFrame(
        {
            HEADLINE: ["val_rmse (minimize), test_rmse (minimize)"] * 2,
            "val_rmse": [0.1, 0.2],
            "test_rmse": [0.1, 0.3],
        }
    )
    assert sweep_headline(new) == {"val_rmse": "minimize", "test_rmse": "minimize"}
    old = pd.DataFrame(
        columns=[
            "val_accuracy",
            "val_exact_accuracy",
            "test_accuracy",
            "train_loss",
            "trainer.stop_accuracy",
            "extrapolation_exact_accuracy",
        ]  # fmt: skip
    )
    # the rule: val_accuracy and every held-out accuracy, never a setting's column
    assert list(sweep_headline(old)) == [
        "val_accuracy",
        "test_accuracy",
        "extrapolation_exact_accuracy",
    ]
    assert inferred_headline(["trainer.stop_accuracy"]) == {}
    assert record_headline({"metrics": {"val_accuracy": 1.0, "test_accuracy": 0.9}}) == {
        "val_accuracy": "maximize",
        "test_accuracy": "maximize",
    }
    assert record_headline({"headline": {"val_rmse": "minimize"}}) == {"val_rmse": "minimize"}


def test_each_metric_is_named_with_the_data_it_was_measured_on():
    cases = {
        "val_accuracy": "validation split",
        "test_exact_accuracy": "test split",
        "extrapolation_accuracy": "extrapolation split",
        "ood_rmse": "ood split",
        "train_loss": "training split",
        "epochs_run": "run",
        "parameters": "run",
        "wall_seconds": "run",
        "trainer.stop_accuracy": "run",
    }
    assert {m: split_description(m) for m in cases} == cases


def test_a_test_metric_is_pruned_on_its_validation_counterpart():
    assert epoch_counterpart("test_accuracy", BITS, SPLITS) == "val_accuracy"
    assert epoch_counterpart("extrapolation_exact_accuracy", BITS, SPLITS) == "val_exact_accuracy"
    assert epoch_counterpart("test_exact_accuracy", CLASSES, SPLITS) is None
    assert epoch_counterpart("epochs_run", BITS, SPLITS) is None
