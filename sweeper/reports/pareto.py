"""The Pareto front of a collected multi-objective sweep, and dominance between points.

A multi-objective job's metrics.json names its objectives (`objectives`:
`metric (direction), ...`); `collected_front(results)` ranks collect's results
table by them (report.html's Pareto section), `front_lines` writes summary.md's
list of the best jobs. `dominates`/`non_dominated` are the same rule the
search's pareto_front.csv uses (`sweeper.sweeps.pareto`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sweeper.reports.results import key_text  # values as the pivot shows them: 5, not 5.0

__all__ = [
    "DIFFER",
    "NO_OK_JOB",
    "Front",
    "collected_front",
    "dominates",
    "front_lines",
    "non_dominated",
    "show_value",
]


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """Whether values `a` are at least as good as `b` in every objective and better in one."""
    signs = [1.0 if d == "maximize" else -1.0 for d in directions]
    better = [s * x for s, x in zip(signs, a)]
    other = [s * y for s, y in zip(signs, b)]
    return all(x >= y for x, y in zip(better, other)) and any(x > y for x, y in zip(better, other))


def non_dominated(points: Sequence[Sequence[float]], directions: Sequence[str]) -> list[int]:
    """Indices of the points no other point dominates (ties all kept), in input order."""
    return [
        i
        for i, p in enumerate(points)
        if not any(dominates(q, p, directions) for j, q in enumerate(points) if j != i)
    ]


@dataclass
class Front:
    """The Pareto front of a collected multi-objective sweep (`collected_front`)."""

    spec: str  # `val_accuracy (maximize), parameters (minimize)`; `; `-joined when jobs differ
    metrics: list[str]
    directions: list[str]
    best: pd.DataFrame  # the non-dominated ok jobs, best first by the first objective
    ok: pd.DataFrame  # every ok job with all objective values
    why: str | None = None  # why no job is ranked: DIFFER or NO_OK_JOB


DIFFER, NO_OK_JOB = "objectives differ between jobs", "no ok job to rank"


def collected_front(results: pd.DataFrame) -> Front | None:
    """The Pareto front of collect's `results` table; None for a single-objective sweep.

    A multi-objective job has `objectives` set to `metric (direction), ...` and one
    column per objective metric. When the jobs name different objectives, or none is
    ok with every value, the front is empty and `why` says so."""
    if results.empty or "objectives" not in results.columns:
        return None
    specs = results["objectives"].dropna().astype(str).unique()
    if not len(specs):
        return None
    empty = results.iloc[:0]
    if len(specs) != 1:
        return Front("; ".join(specs), [], [], empty, empty, DIFFER)
    pairs = [part.strip().rsplit(" (", 1) for part in specs[0].split(",")]
    metrics = [m for m, _ in pairs]
    directions = [d.rstrip(")") for _, d in pairs]
    ok = results[(results["status"] == "ok") & results["objectives"].notna()]
    ok = ok.dropna(subset=[m for m in metrics if m in ok.columns])
    if ok.empty or any(m not in ok.columns for m in metrics):
        return Front(specs[0], metrics, directions, empty, empty, NO_OK_JOB)
    points = ok[metrics].astype(float).values.tolist()
    best = ok.iloc[non_dominated(points, directions)]
    best = best.sort_values(metrics[0], ascending=directions[0] == "minimize", kind="stable")
    return Front(specs[0], metrics, directions, best, ok)


def front_lines(results: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """summary.md's lines for a multi-objective sweep: its objectives and the best
    (non-dominated) ok jobs with each objective's value; [] for a single-objective sweep
    (`collected_front`)."""
    front = collected_front(results)
    if front is None:
        return []
    if front.why == DIFFER:
        return [f"Objectives differ between jobs: {front.spec}", ""]
    if front.why:
        return [f"Objectives: {front.spec}; no ok job to rank.", ""]
    lines = [f"## Best jobs (Pareto front over {front.spec})", ""]
    for _, row in front.best.iterrows():
        values = ", ".join(f"{m} {show_value(row[m])}" for m in front.metrics)
        where = ", ".join(f"{k}={key_text(row[k])}" for k in keys if k in row.index)
        lines.append(f"- job {row['job']}" + (f" ({where})" if where else "") + f": {values}")
    return [*lines, ""]


def show_value(value: Any) -> str:
    """An objective value as the summary prints it: `51` for a whole count of 10 or more
    (parameters), else 4 decimals (`0.5133`)."""
    number = float(value)
    return f"{int(number)}" if number.is_integer() and abs(number) >= 10 else f"{number:.4f}"
