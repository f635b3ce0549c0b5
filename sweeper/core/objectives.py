"""What a run returns to its sweeper: one objective, or several at once.

`objective.metric` and `objective.direction` are either one name each
(`val_accuracy`, `maximize`: a single-objective run returns one float) or two
lists of the same length (`[val_accuracy,parameters]`, `[maximize,minimize]`: a
multi-objective run returns one float per metric, in that order, and an Optuna
search over it is a multi-objective study). A one-element list is the same as
the plain name.

Besides the task's own metrics (`Task.metric_names`), an objective may name
run-level numbers that every run has: `parameters` (the model's parameter
count), the usual size to trade accuracy against.

Used by `sweeper.core.config` (the values' shape), `sweeper.core.train` (the values and the
worst values a failed run returns) and `sweeper.sweeps.search` (checks before any trial).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from omegaconf import ListConfig, OmegaConf

__all__ = [
    "RUN_METRICS",
    "Objective",
    "ObjectiveError",
    "check_available",
    "objective_of",
    "parse_objective",
]

DIRECTIONS = ("maximize", "minimize")
# Numbers every finished run has besides its task's metrics, usable as objectives.
RUN_METRICS = ("parameters",)


class ObjectiveError(ValueError):
    """An `objective.metric` / `objective.direction` a run cannot use; one line naming the key."""


@dataclass(frozen=True)
class Objective:
    """The checked objective(s): metrics and directions, same length, at least one."""

    metrics: tuple[str, ...]
    directions: tuple[str, ...]

    @property
    def multi(self) -> bool:
        """Whether the run returns a list (two or more objectives)."""
        return len(self.metrics) > 1

    def values(self, numbers: Mapping[str, Any]) -> list[float]:
        """Each objective's value from `numbers` (metric name -> number), in order.

        Raises KeyError naming a metric `numbers` lacks."""
        return [float(numbers[m]) for m in self.metrics]

    def worst(self) -> list[float]:
        """A failed run's value for each objective: -inf when maximising, inf when minimising."""
        return [math.inf if d == "minimize" else -math.inf for d in self.directions]

    def returned(self, values: Sequence[float]) -> float | list[float]:
        """What the run hands its sweeper: a float for one objective, a list for several."""
        return list(values) if self.multi else float(values[0])

    def fields(self, values: Sequence[float]) -> dict[str, Any]:
        """metrics.json's objective fields for `values`: `objective`, `objective_metric` and
        `objective_direction` hold the first objective (so every single-objective reader
        works), `objectives` each one as {metric, direction, value} (None for one)."""
        return {
            "objective": float(values[0]),
            "objective_metric": self.metrics[0],
            "objective_direction": self.directions[0],
            "objectives": [
                {"metric": m, "direction": d, "value": float(v)}
                for m, d, v in zip(self.metrics, self.directions, values)
            ]
            if self.multi
            else None,
        }

    def describe(self) -> str:
        """`val_accuracy (maximize), parameters (minimize)`."""
        return ", ".join(f"{m} ({d})" for m, d in zip(self.metrics, self.directions))


def _as_list(value: Any) -> tuple[list[Any], bool]:
    """(items, was_a_list) of a config value: a list/ListConfig, or one scalar."""
    if isinstance(value, ListConfig):
        value = OmegaConf.to_container(value)
    if isinstance(value, (list, tuple)):
        return list(value), True
    return [value], False


def parse_objective(metric: Any, direction: Any) -> Objective:
    """Check `objective.metric` and `objective.direction` and pair them up.

    Raises ObjectiveError (one line) for: an empty list, a metric that is not a
    name, a metric named twice, a direction other than maximize/minimize, or
    lists of different lengths (one direction for several metrics included)."""
    metrics, metric_list = _as_list(metric)
    directions, _ = _as_list(direction)
    shown_m = f"[{','.join(map(str, metrics))}]" if metric_list else repr(metric)
    if not metrics:
        raise ObjectiveError("objective.metric is an empty list: name at least one metric")
    for name in metrics:
        if not isinstance(name, str) or not name:
            raise ObjectiveError(f"objective.metric must be a metric name, got {shown_m}")
    repeated = sorted({m for m in metrics if metrics.count(m) > 1})
    if repeated:
        raise ObjectiveError(f"objective.metric names {repeated[0]} twice, got {shown_m}")
    for name in directions:
        if name not in DIRECTIONS:
            shown = [str(d) for d in directions] if len(directions) > 1 else repr(name)
            raise ObjectiveError(
                f"objective.direction must be maximize or minimize (or a list of them), got {shown}"
            )
    if len(directions) != len(metrics):
        raise ObjectiveError(
            f"objective.metric has {len(metrics)} metric(s) {shown_m} but objective.direction "
            f"has {len(directions)} ([{','.join(directions)}]): give one direction per metric"
        )
    return Objective(tuple(metrics), tuple(directions))


def objective_of(cfg: Any) -> Objective:
    """The checked objective of a composed config (`objective.metric`, `objective.direction`).

    Raises ObjectiveError as `parse_objective` does, or when a key is missing."""
    node = OmegaConf.select(cfg, "objective", default=None)
    if node is None or "metric" not in node or "direction" not in node:
        raise ObjectiveError("objective.metric and objective.direction must both be set")
    return parse_objective(node.metric, node.direction)


def check_available(objective: Objective, task_metrics: Sequence[str], task_name: str) -> None:
    """Refuse an objective metric that neither the task nor every run produces.

    Raises ObjectiveError naming the metric and the names that can be chosen."""
    known = [*task_metrics, *RUN_METRICS]
    for name in objective.metrics:
        if name not in known:
            raise ObjectiveError(
                f"objective.metric={name} is not a metric of task {task_name}; "
                f"choose one of {', '.join(known)}"
            )
