"""Metric names: the one owner of what a run's numbers are called and which way is better.

Every metric is `<split>_<name>`: split `train` (the training batches), `val` (the
validation set, every epoch) or one of the task's test splits (`test`,
`extrapolation`, ...: `Task.splits`, measured once, at the end); name `loss` or one
of the target kind's metrics (`sweeper.core.targets`: `accuracy`,
`exact_accuracy`, a regression's `rmse`). Besides them a run counts `epochs_run`
and `best_epoch`, and an objective may name `parameters` (`RUN_METRICS`).

- `epoch_metrics(target)`: history.csv's per-epoch values (train loss, validation
  loss and the kind's metrics);
- `final_metrics(target, splits)`: every key of a finished run's metrics.json;
- `headline(target, splits)`: the metrics a run is described by, each with its
  direction: the validation score, then each test split's headline metrics. A task
  may choose its own (`Task.headline_metrics`). metrics.json carries them
  (`RunRecord.headline`), results.csv too (`HEADLINE`: `metric (direction), ...`),
  so collect, compare, confirm and search read them from the data;
- `sweep_headline(results)`: a collected table's headline metrics, in order; for
  records written before they were carried, the rule `inferred_headline`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sweeper.core.targets import TargetKind

__all__ = [
    "COUNTS",
    "HEADLINE",
    "RUN_METRICS",
    "TRAIN",
    "VALIDATION",
    "direction_of",
    "epoch_counterpart",
    "epoch_metrics",
    "final_metrics",
    "format_headline",
    "headline",
    "inferred_headline",
    "metric_name",
    "parse_headline",
    "record_headline",
    "split_description",
    "sweep_headline",
]

TRAIN, VALIDATION = "train", "val"
COUNTS = ("epochs_run", "best_epoch")  # how long a run trained, and which epoch it kept
RUN_METRICS = ("parameters",)  # run-level numbers an objective may name (the model's size)
_ACCURACIES = ("accuracy", "exact_accuracy")  # the built-in kinds' metrics (inferred_headline)
HEADLINE = "headline"  # results.csv's column: `val_accuracy (maximize), test_accuracy (...)`


# How the built-in splits are described; another split (`extrapolation`, a user task's own)
# is `<split> split`.
SPLIT_DESCRIPTIONS = {TRAIN: "training split", VALIDATION: "validation split", "test": "test split"}
# Names without a split: what a whole run counts or took.
RUN_LEVEL = (*COUNTS, *RUN_METRICS, "objective", "wall_seconds")


def split_description(metric: str) -> str:
    """Which data `metric` was measured on: `validation split` (val_accuracy), `test split`,
    `extrapolation split` (any other `<split>_<name>`), or `run` for a run-level number
    (epochs_run, parameters, wall_seconds, objective) and a name without a split."""
    if metric in RUN_LEVEL or "_" not in metric or "." in metric:  # `.`: a setting
        return "run"
    split = metric.split("_", 1)[0]
    return SPLIT_DESCRIPTIONS.get(split, f"{split} split")


def metric_name(split: str, name: str) -> str:
    """`<split>_<name>`: `test_accuracy`, `val_loss`."""
    return f"{split}_{name}"


def direction_of(target: TargetKind, name: str) -> str:
    """`minimize` for a loss and the kind's `minimized` metrics, else `maximize`."""
    return "minimize" if name == "loss" or name in target.minimized else "maximize"


def epoch_metrics(target: TargetKind) -> list[str]:
    """history.csv's per-epoch metrics: train_loss, val_loss, val_<each of the kind's>."""
    return [
        metric_name(TRAIN, "loss"),
        metric_name(VALIDATION, "loss"),
        *(metric_name(VALIDATION, m) for m in target.metrics),
    ]


def final_metrics(target: TargetKind, splits: Sequence[str]) -> list[str]:
    """Every metric of a finished run's metrics.json, in the order it writes them."""
    per_split = ("loss", *target.metrics)
    return [
        *epoch_metrics(target),
        *(metric_name(split, name) for split in splits for name in per_split),
        *COUNTS,
    ]


def headline(target: TargetKind, splits: Sequence[str]) -> dict[str, str]:
    """metric -> direction: the validation score, then each split's headline metrics."""
    names = [metric_name(VALIDATION, target.score)]
    names += [metric_name(split, m) for split in splits for m in target.headline]
    return {name: direction_of(target, name.split("_", 1)[1]) for name in names}


def epoch_counterpart(metric: str, target: TargetKind, splits: Sequence[str]) -> str | None:
    """The per-epoch metric that stands for `metric` while training: itself if
    history.csv has it, `val_<name>` for a test split's `<split>_<name>`; None for one
    with no per-epoch value (`epochs_run`, `parameters`)."""
    per_epoch = epoch_metrics(target)
    if metric in per_epoch:
        return metric
    for split in splits:
        name = metric.removeprefix(f"{split}_")
        if name != metric and metric_name(VALIDATION, name) in per_epoch:
            return metric_name(VALIDATION, name)
    return None


def format_headline(metrics: Mapping[str, str]) -> str:
    """results.csv's `headline` cell: `val_accuracy (maximize), test_accuracy (maximize)`."""
    return ", ".join(f"{m} ({d})" for m, d in metrics.items())


def parse_headline(text: Any) -> dict[str, str]:
    """`format_headline`'s text back as metric -> direction ({} for an empty cell)."""
    if not isinstance(text, str) or not text.strip():
        return {}
    pairs = [part.strip().rsplit(" (", 1) for part in text.split(",")]
    return {p[0]: p[1].rstrip(")") for p in pairs if len(p) == 2}


def inferred_headline(names: Iterable[str]) -> dict[str, str]:
    """The headline of a record written before records carried one, as `headline` gives it
    for sweeper's own tasks: `val_accuracy`, then every test split's accuracy and exact
    accuracy among `names`, maximised."""
    names = [n for n in names if "." not in str(n)]  # not a setting (trainer.stop_accuracy)
    held_out = [n for n in names if n.split("_", 1)[0] not in (TRAIN, VALIDATION)]
    picked = [n for n in names if n == "val_accuracy"]
    picked += [n for n in held_out if "_" in n and n.split("_", 1)[1] in _ACCURACIES]
    return {n: "maximize" for n in picked}


def sweep_headline(results: Any) -> dict[str, str]:
    """The headline metrics of a collected results table (`HEADLINE` column, each job's),
    in first-seen order; for a table without the column, `inferred_headline` over its
    columns. Only metrics the table has a column for."""
    found: dict[str, str] = {}
    if HEADLINE in getattr(results, "columns", ()):
        for text in results[HEADLINE].dropna().unique():
            for metric, direction in parse_headline(text).items():
                found.setdefault(metric, direction)
    else:
        found = inferred_headline(getattr(results, "columns", ()))
    return {m: d for m, d in found.items() if m in results.columns}


def record_headline(record: Mapping[str, Any]) -> dict[str, str]:
    """A metrics.json record's headline metrics (metric -> direction): its `headline`, or
    for a record written before records carried one, `inferred_headline` of its metrics."""
    found = record.get("headline")
    if isinstance(found, Mapping) and found:
        return {str(k): str(v) for k, v in found.items()}
    metrics = record.get("metrics")
    return inferred_headline(metrics if isinstance(metrics, Mapping) else ())
