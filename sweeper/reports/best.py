"""The best job of a sweep, and the jobs that tie with it.

A best that is one of several equal values is no winner: summary.md, the terminal and
report.html say so (`6 jobs tie at 1.0000 (jobs 0, 1, 2, 3, 4, 5); job 0 is the first`).
The rule, the same everywhere:

- jobs tie when their objective values are exactly equal (the numbers in
  metrics.json; the first of them in collect's job order is the one named);
- jobs whose value is not equal but shows the same at the precision printed
  (`0.99996` and `1.0` both show `1.0000`) do not tie; they are named after the best
  as showing the same value, so the printed figures are not read as a tie or as a
  clear win.

Configurations ranked by their mean over replicates (`collect.best_configuration`)
follow the same rule (`tied_first`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from sweeper.reports.results import FIRST

SHOWN_JOBS = 10  # jobs a tie names before `and N more`


def four_decimals(value: float) -> str:
    """How summary.md and the terminal print an objective: `0.5144`."""
    return f"{value:.4f}"


@dataclass(frozen=True)
class Best:
    """The best ok job (`row`, the first of the tied ones), its objective `value` as
    shown, the jobs that tie with it exactly (`tied`, `row`'s job first) and the other
    jobs whose value shows the same at that precision (`shown_equal`)."""

    row: pd.Series
    value: str
    tied: list[str]
    shown_equal: list[str]
    minimize: bool

    def tie(self, noun: str = "jobs") -> str:
        """`6 jobs tie at 1.0000 (jobs 0, 1, 2, 3, 4, 5); job 0 is the first`; '' for a
        best that is alone."""
        if len(self.tied) < 2:
            return ""
        return (
            f"{len(self.tied)} {noun} tie at {self.value} ({listed(self.tied, noun)}); "
            f"{noun.removesuffix('s')} {self.tied[0]} is the first"
        )

    def near(self, noun: str = "jobs") -> str:
        """`jobs 4, 5 also show 1.0000 but are lower (results.csv has the exact values)`;
        '' when no other job shows the best's value."""
        if not self.shown_equal:
            return ""
        worse = "higher" if self.minimize else "lower"
        verb = "shows" if len(self.shown_equal) == 1 else "show"
        return (
            f"{listed(self.shown_equal, noun)} also {verb} {self.value} but "
            f"{'is' if len(self.shown_equal) == 1 else 'are'} {worse} "
            "(results.csv has the exact values)"
        )


def listed(names: list[str], noun: str = "jobs") -> str:
    """`job 3`, `jobs 0, 1, 2`, `jobs 0, 1, ... and 5 more` (SHOWN_JOBS named)."""
    shown = ", ".join(names[:SHOWN_JOBS])
    if len(names) > SHOWN_JOBS:
        shown += f" and {len(names) - SHOWN_JOBS} more"
    return f"{noun.removesuffix('s') if len(names) == 1 else noun} {shown}"


def best_job(results: pd.DataFrame, shown: Callable[[float], str] = four_decimals) -> Best | None:
    """The ok job with the best objective (direction from metrics.json, `maximize` unless
    every job says `minimize`) and its ties; None when no job is ok. `shown` prints a value
    as the caller shows it (4 decimals; report.html's `fmt`)."""
    if results.empty or "objective" not in results:
        return None
    ok = results[(results["status"] == "ok") & results["objective"].notna()]
    if ok.empty:
        return None
    minimize = bool((ok["objective_direction"] == "minimize").all())
    values = pd.to_numeric(ok["objective"], errors="coerce")
    best = values.min() if minimize else values.max()
    first = values.idxmin() if minimize else values.idxmax()
    text = shown(float(best))
    tied = [str(j) for j in ok.loc[values == best, FIRST]]
    same = (values != best) & (values.map(lambda v: shown(float(v))) == text)
    return Best(ok.loc[first], text, tied, [str(j) for j in ok.loc[same, FIRST]], minimize)


def tied_first(values: pd.Series, minimize: bool) -> tuple[object, list[object]]:
    """(the index of the best value, the indices of every value exactly equal to it, in
    order): `values` without NaN."""
    values = values.dropna()
    best = values.min() if minimize else values.max()
    return (values.idxmin() if minimize else values.idxmax()), list(values.index[values == best])
