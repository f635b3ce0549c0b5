"""Compare configurations with statistics: two sweeps, or the levels of one key in one sweep.

    python -m sweeper.compare A/results.csv B/results.csv [--on KEYS] [--metrics M,...] [--out F]
    python -m sweeper.compare SWEEP_DIR --by loss          # mse vs ce at each other setting
    sweeper compare A B

A and B are results.csv files or sweep folders (read, never written; a folder
without job folders but with a results.csv is read as that file). A
configuration is a combination of the swept keys but the replicate key
(`--replicate-key`, default `seed`); its replicates (seeds) are the sample.

Two inputs are joined on the keys they share that are swept in either (or
`--on`); `hidden_size` is read as `model.hidden`, and a key swept in one file
only is taken from the other's recorded settings where it has one (`hidden`,
`loss`, `lr`, ...). The keys joined on are printed. Refused, one line, exit 1:
different tasks, different objective metrics (while `objective` is compared),
a file whose jobs differ in a key that is not joined on (its configurations
would be averaged into one row), no matching rows. Fixed settings that differ
between the files (epochs, lr, device, ...) are printed as a warning.

`--by KEY` compares, within one input, each level of KEY against the first at
every configuration of the other keys (two levels: A/B).

Per configuration and metric (named with its split: `test_accuracy (test split)`):
A and B as `mean ± 95 % CI half-width (n)` (bounds clipped to the metric's range),
B - A with its interval, the test (`sweeper.reports.stats`: paired t when the same
seeds are on both sides, else Welch; for skewed samples of n >= 10 a permutation p
and a BCa bootstrap interval; an exact permutation test only where t is undefined:
every paired difference the same, or both unpaired sides constant), its
p Holm-adjusted over all rows of that metric, and a verdict (`A better`, `B better`,
`no evidence`) that follows the metric's direction. Left out of the statistics and
counted per side: `A failed` / `B failed` the jobs that failed and the ok jobs with
no value (NaN, inf, null, missing) of that metric (each named once in a note), `A pruned`
/ `B pruned` the jobs a search's pruner stopped (not counted as failed), so n +
failed + pruned is every job of the configuration. `--out` writes the table as CSV
(numbers, not formatted cells), never over an input.

Exits 1 on a refusal, 2 on unusable input or an `--out` that cannot be written, each
with one line on stderr naming the path and what is wrong, and nothing written:
a missing file or link, a folder without job folders or results.csv, a file that is
empty, binary, not UTF-8, not CSV, a header without rows, or another table than
results.csv (a search's trials.csv, results_by_config.csv, history.csv,
by_length.csv, a compare `--out` table); and A and B that are one sweep (the same
file or folder through any path or link, or a sweep folder and its own results.csv),
which would differ in nothing. Two different files with the same jobs and values (a
copy) are compared, with a warning that every difference is 0.
"""

from __future__ import annotations

import argparse
import difflib
import io
import math
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sweeper.core.artifacts import write_csv
from sweeper.core.metrics import sweep_headline
from sweeper.records.files import (
    BY_LENGTH,
    HISTORY,
    RESULTS,
    RESULTS_BY_CONFIG,
    SWEEP_OUTPUTS,
    TRIALS,
)
from sweeper.records.search import is_search_folder
from sweeper.reports.results import AFTER_KEYS, FIRST, key_columns, load_sweep
from sweeper.reports.stats import (
    Summary,
    compare_samples,
    format_summary,
    holm,
    metric_direction,
    metric_range,
    metric_split,
    no_value,
    verdict,
)

# Compared when no --metrics are named: the objective, the sweeps' headline metrics (the
# validation score and each test split's, as each task declares them: results.csv's
# `headline`, `default_metrics`), then how long the runs trained and took.
BEFORE_HEADLINE, AFTER_HEADLINE = ("objective",), ("epochs_run", "wall_seconds")


def default_metrics(*frames: pd.DataFrame) -> list[str]:
    """The metrics compared by default (`BEFORE_HEADLINE`, each input's headline metrics in
    order, `AFTER_HEADLINE`), whichever input has them."""
    return list(dict.fromkeys([*BEFORE_HEADLINE, *_directions(*frames), *AFTER_HEADLINE]))


def _directions(*frames: pd.DataFrame) -> dict[str, str]:
    """metric -> direction as the inputs' headline says (the first input that names it)."""
    found: dict[str, str] = {}
    for frame in frames:
        for metric, direction in sweep_headline(frame).items():
            found.setdefault(metric, direction)
    return found


DEFAULT_REPLICATE_KEY = "seed"
# Two spellings of one setting: the hidden_size group sets model.hidden.
KEY_ALIASES = {"hidden_size": "model.hidden"}
# Override key -> the results.csv column that records its value for every job.
KEY_SETTINGS = {
    "model.hidden": "model.hidden",
    "model.layers": "model.layers",
    "model.bidirectional": "model.bidirectional",
    "loss": "loss.name",
    "optim.lr": "optim.lr",
    "optim.schedule": "optim.schedule",
    "trainer.batch_size": "trainer.batch_size",
    "trainer.epochs": "trainer.epochs",
    "task": "task.name",
}
# Recorded settings a warning names when they are fixed in each file but differ.
FIXED_SETTINGS = (
    "task.name",
    "model._target_",
    "model.cell",
    "model.bidirectional",
    "model.hidden",
    "model.layers",
    "loss.name",
    "optim.lr",
    "optim.schedule",
    "trainer.batch_size",
    "trainer.epochs",
    "device.name",
    "device.threads",
    "trainer.precision",
)


class CompareError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Result:
    """The comparison: its table (numbers), the keys joined on, warnings and notes."""

    table: pd.DataFrame
    keys: list[str]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    objective_metric: str | None = None  # the metric `objective` is, when the inputs agree
    versus: str = "A vs B"  # what is compared: `loss: mse (A) vs ce (B)` for --by


def read_results(path: Path) -> pd.DataFrame:
    """A results.csv, or a sweep folder's jobs (collected in memory, nothing written; a
    folder without job folders but with a results.csv: that file).

    Raises CompareError (code 2) with one line naming the path and what is wrong when it
    cannot be read or is no sweeper results.csv (`read_results_csv`)."""
    if path.is_dir():
        try:
            results = load_sweep(path).results
        except OSError as e:
            raise CompareError(f"cannot read {path}: {e.strerror or e}", 2) from None
        if not results.empty:
            return results
        saved = path / RESULTS
        if saved.exists() or saved.is_symlink():
            return read_results_csv(saved)
        raise CompareError(f"{path}: not a sweep folder (no finished job folders, no {RESULTS})", 2)
    return read_results_csv(path)


# The columns every results.csv sweeper writes has (`sweeper.reports.results`: `job`, the
# override keys, `status`, ...): without them a CSV is some other table.
REQUIRED = (FIRST, AFTER_KEYS)


def read_results_csv(path: Path) -> pd.DataFrame:
    """The table of a results.csv that collect wrote. Raises CompareError (2), one line
    naming the file: missing, not a regular file, unreadable, empty, binary, not UTF-8,
    not CSV, another table (a search's trials.csv, results_by_config.csv, history.csv,
    ...: `other_table`), or a header without rows."""
    if not path.exists():
        link = " (a broken link)" if path.is_symlink() else ""
        raise CompareError(f"{path}: no such file{link}", 2)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise CompareError(f"{path}: not a regular file, not a sweeper {RESULTS}", 2)
        data = path.read_bytes()
    except OSError as e:
        raise CompareError(f"cannot read {path}: {e.strerror or e}", 2) from None
    if not data.strip():
        raise CompareError(f"{path}: an empty file, not a sweeper {RESULTS}", 2)
    if b"\0" in data[:65536]:
        raise CompareError(f"{path}: binary data, not a sweeper {RESULTS}", 2)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CompareError(f"{path}: not UTF-8 text, not a sweeper {RESULTS}", 2) from None
    try:
        results = pd.read_csv(io.StringIO(text))
    except pd.errors.EmptyDataError:
        raise CompareError(f"{path}: no CSV header, not a sweeper {RESULTS}", 2) from None
    except (ValueError, RecursionError) as e:  # pandas' parser errors are ValueErrors
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise CompareError(f"{path}: not a readable CSV ({first})", 2) from None
    missing = [c for c in REQUIRED if c not in results.columns]
    if missing:
        raise CompareError(f"{path}: not a sweeper {RESULTS}: {other_table(results)}", 2)
    if results.empty:
        raise CompareError(f"{path}: no rows (a header without jobs)", 2)
    return results


def other_table(frame: pd.DataFrame) -> str:
    """What a CSV without results.csv's `job` and `status` columns looks like it is."""
    columns = [str(c) for c in frame.columns]
    if "number" in columns and "state" in columns:
        return (
            f"an Optuna {TRIALS} (one row per trial); compare the search's folder or its {RESULTS}"
        )
    if "jobs" in columns and any(c.endswith("_mean") for c in columns):
        return f"a {RESULTS_BY_CONFIG} (one row per configuration), not one row per job"
    if {"metric", "A", "B"} <= set(columns):
        return "a comparison table (sweeper compare --out), not one row per job"
    if FIRST in columns and "epoch" in columns:
        return f"a {HISTORY} (one row per epoch), not one row per job"
    if FIRST in columns and "length" in columns:
        return f"a {BY_LENGTH} (one row per length), not one row per job"
    shown = ", ".join(columns[:6]) + (", ..." if len(columns) > 6 else "")
    lacks = " or ".join(c for c in REQUIRED if c not in columns)
    return f"no {lacks} column (its columns: {shown})"


def same_input(a: Path, b: Path) -> str | None:
    """Why A and B are one sweep (`the same file`, `a sweep folder and its results.csv`), or
    None: through links, `./`, `..`, hard links."""
    try:
        ra, rb = a.resolve(strict=True), b.resolve(strict=True)
    except (OSError, RuntimeError):  # missing (read_results says so) or a link loop
        return None
    if ra == rb or (ra.is_file() and rb.is_file() and os.path.samefile(ra, rb)):
        return "the same folder" if ra.is_dir() else "the same file"
    for folder, file in ((ra, rb), (rb, ra)):
        if folder.is_dir() and file.is_file() and file.name == RESULTS and file.parent == folder:
            return f"a sweep folder and its {RESULTS}"
    return None


def same_content(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two inputs hold the same jobs with the same values (a copy of one sweep;
    the job folders' paths, `job_dir`, may differ)."""
    a, b = (f.drop(columns=["job_dir"], errors="ignore") for f in (a, b))
    return list(a.columns) == list(b.columns) and a.reset_index(drop=True).equals(
        b.reset_index(drop=True)
    )


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Key columns under one spelling (`hidden_size` -> `model.hidden`), values as text
    (`3`, `3.0` and `'3'` meet)."""
    frame = frame.copy()
    for alias, name in KEY_ALIASES.items():
        if alias not in key_columns(frame):
            continue
        if name in frame:  # both spellings in one folder: the composed value wins
            frame[name] = _text(frame[name].where(frame[name].notna(), frame[alias]))
            frame = frame.drop(columns=alias)
        else:
            frame = frame.rename(columns={alias: name})
    for key in key_columns(frame):
        frame[key] = _text(frame[key])
    for setting in set(KEY_SETTINGS.values()) - set(key_columns(frame)):
        if setting in frame:  # a recorded setting may stand in for a key the other side sweeps
            frame[setting] = _text(frame[setting])
    return frame


def _text(values: pd.Series) -> pd.Series:
    return values.astype(str).str.replace(r"\.0$", "", regex=True)


def _swept(frame: pd.DataFrame, keys: list[str]) -> list[str]:
    return [k for k in keys if k in frame and frame[k].nunique(dropna=False) > 1]


def _values(frame: pd.DataFrame, key: str) -> str:
    return ", ".join(map(str, pd.unique(frame[key].astype(str))))


def join_keys(
    a: pd.DataFrame, b: pd.DataFrame, on: list[str] | None, replicate_key: str
) -> tuple[list[str], list[str]]:
    """(keys to join on, notes). Fills a key swept in one file from the other's settings.

    Raises CompareError (1) when a file's jobs differ in a key that is not joined on."""
    notes: list[str] = []
    if on:
        for name, frame in (("A", a), ("B", b)):
            missing = [k for k in on if k not in frame]
            if missing:
                raise CompareError(f"{name} has no column {', '.join(missing)}", 1)
        return list(on), notes
    ka = [k for k in key_columns(a) if k != replicate_key]
    kb = [k for k in key_columns(b) if k != replicate_key]
    swept = _swept(a, ka) + [k for k in _swept(b, kb) if k not in _swept(a, ka)]
    keys = []
    for key in swept:
        if key in a and key in b:
            keys.append(key)
            continue
        other, name = (b, "B") if key in a else (a, "A")
        setting = KEY_SETTINGS.get(key)
        if setting and setting in other:
            other[key] = _text(other[setting])
            keys.append(key)
            notes.append(f"{name} does not set {key}: its recorded `{setting}` is used")
    for name, frame, own in (("A", a, ka), ("B", b, kb)):
        lost = [k for k in _swept(frame, own) if k not in keys]
        if lost:
            other = "B" if name == "A" else "A"
            raise CompareError(
                f"{name}'s jobs differ in {lost[0]} ({_values(frame, lost[0])}), which {other} "
                "does not set: its configurations would be averaged into one row; "
                "name the keys to join on with --on",
                1,
            )
    return keys, notes


def check_like_with_like(a: pd.DataFrame, b: pd.DataFrame, metrics: list[str]) -> list[str]:
    """Refuse different tasks or objective metrics (CompareError 1); warnings for other
    fixed settings (constant within each file) that differ."""
    for column, what in (("task.name", "task"), ("objective_metric", "objective metric")):
        if column == "objective_metric" and "objective" not in metrics:
            continue
        if column in a and column in b:
            va, vb = set(_text(a[column].dropna())), set(_text(b[column].dropna()))
            if va and vb and va != vb:
                hint = " (compare other metrics with --metrics)" if column != "task.name" else ""
                raise CompareError(
                    f"A and B differ in {what}: A {', '.join(sorted(va))}, "
                    f"B {', '.join(sorted(vb))}; compare like with like{hint}",
                    1,
                )
    differ = []
    shared = [k for k in key_columns(a) if k in key_columns(b) and k not in FIXED_SETTINGS]
    for column in [*shared, *FIXED_SETTINGS]:
        if column not in a or column not in b:
            continue
        va, vb = _text(a[column]).unique(), _text(b[column]).unique()
        if len(va) == 1 and len(vb) == 1 and va[0] != vb[0]:
            differ.append(f"{column} (A {va[0]}, B {vb[0]})")
    if differ:
        return [f"warning: fixed settings differ between A and B: {', '.join(differ)}"]
    return []


def check_replicate_key(frames: dict[str, pd.DataFrame], replicate_key: str) -> None:
    """Refuse (CompareError 2) a replicate key that no input sweeps: it would repeat nothing,
    and the key that does vary (`seed`) would be read as a configuration key instead."""
    if any(replicate_key in f and f[replicate_key].nunique() > 1 for f in frames.values()):
        return
    where = "; ".join(
        f"{name} {'holds one value of it' if replicate_key in f else 'has no such column'} "
        f"(swept: {', '.join(_swept(f, key_columns(f))) or 'nothing'})"
        for name, f in frames.items()
    )
    raise CompareError(f"--replicate-key {replicate_key} is not swept: {where}", 2)


NO_VALUE = "__no_value:"  # prefix of the per-metric no-value flags `mark_no_value` adds
SHOWN_JOBS = 10  # jobs a no-value note names before `and N more`


def mark_no_value(frame: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """`frame` with a flag column per metric: the ok jobs with no value of it
    (`sweeper.reports.stats.no_value`: NaN, infinite, null, empty or missing while other
    jobs of the task record it), found over the whole input before it is grouped."""
    missing = no_value(frame, metrics)
    return frame.assign(**{f"{NO_VALUE}{m}": missing[m] for m in metrics})


def no_value_notes(frames: dict[str, pd.DataFrame], metrics: list[str]) -> list[str]:
    """`B: test_accuracy has no value (NaN, inf, null or missing) in 2 of 15 ok jobs: 3, 7;
    counted in B failed`, once per side and metric, naming the jobs (`job` column)."""
    notes = []
    for name, frame in frames.items():
        ok = int((frame["status"] == "ok").sum()) if "status" in frame else len(frame)
        for metric in metrics:
            flags = frame.get(f"{NO_VALUE}{metric}")
            if flags is None or not flags.any():
                continue
            jobs = frame.loc[flags, "job"] if "job" in frame else frame.index[flags]
            jobs = [str(j) for j in jobs]
            shown = ", ".join(jobs[:SHOWN_JOBS])
            if len(jobs) > SHOWN_JOBS:
                shown += f" and {len(jobs) - SHOWN_JOBS} more"
            column = "A or B failed" if name == "the sweep" else f"{name} failed"
            notes.append(
                f"{name}: {metric} has no value (NaN, inf, null or missing) in {len(jobs)} of {ok} "
                f"ok jobs: {'job' if len(jobs) == 1 else 'jobs'} {shown}; counted in "
                f"{column}, left out of its statistics"
            )
    return notes


def _not_numeric(name: str, frame: pd.DataFrame, metric: str) -> str:
    bad = pd.to_numeric(frame[metric], errors="coerce").isna() & frame[metric].notna()
    example = frame.loc[bad, metric].iloc[0] if bad.any() else frame[metric].iloc[0]
    return f"{name}'s {metric} holds {example!r}, not a number"


def _metrics(a: pd.DataFrame, b: pd.DataFrame, wanted: list[str] | None) -> tuple[list, list]:
    """(numeric metrics in both, notes about metrics only one side has or that hold text).

    Raises CompareError (1) for a named metric a side lacks or holds as text."""
    notes = []
    named = bool(wanted)
    if wanted:
        for name, frame in (("A", a), ("B", b)):
            missing = [m for m in wanted if m not in frame]
            if missing:
                raise CompareError(f"{name} has no metric {', '.join(missing)}", 1)
    else:
        defaults = default_metrics(a, b)
        wanted = [m for m in defaults if m in a and m in b]
        only = [
            f"{name}: {', '.join(m for m in defaults if m in x and m not in y)}"
            for name, x, y in (("A", a, b), ("B", b, a))
            if any(m in x and m not in y for m in defaults)
        ]
        if only:
            notes.append(f"metrics in one file only, not compared ({'; '.join(only)})")
    numeric = []
    for m in wanted:
        text = [
            _not_numeric(name, x, m)
            for name, x in (("A", a), ("B", b))
            if not pd.api.types.is_numeric_dtype(x[m])
        ]
        if not text:
            numeric.append(m)
        elif named:
            raise CompareError(text[0], 1)
        elif a is not b:
            notes.append(f"not compared: {text[0]}")
    if not numeric:
        raise CompareError(f"no numeric metric found in both files among {', '.join(wanted)}", 1)
    return numeric, notes


def _samples(frame: pd.DataFrame, replicate_key: str) -> tuple[pd.DataFrame, int, int]:
    """(ok rows indexed by replicate id, failed count, pruned count). Without a replicate
    column the index can never match the other side's, so nothing is paired. A pruned job
    (stopped by a search's pruner) is counted apart from the failed ones."""
    ok = frame[frame["status"] == "ok"] if "status" in frame else frame
    pruned = int((frame["status"] == "pruned").sum()) if "status" in frame else 0
    failed = len(frame) - len(ok) - pruned
    if replicate_key in ok:
        ok = ok.set_index(_text(ok[replicate_key]))
    else:
        ok = ok.set_index(pd.Index([object() for _ in range(len(ok))]))
    return ok, failed, pruned


def _no_values(ok: pd.DataFrame, metric: str) -> int:
    flags = ok.get(f"{NO_VALUE}{metric}")
    return 0 if flags is None else int(flags.sum())


def statistics(
    pairs: list[tuple[dict, pd.DataFrame, pd.DataFrame]],
    metrics: list[str],
    replicate_key: str,
    objective_direction: str | None,
    objective_metric: str | None = None,
    directions: dict[str, str] | None = None,
) -> pd.DataFrame:
    """The long table, one row per (pair, metric): each pair is (key values, A rows, B rows).

    `A failed` counts A's failed jobs and its ok jobs with no value of the metric
    (`mark_no_value`), `A pruned` its pruned ones (B alike): n + failed + pruned is
    every job of the configuration. Bounds of bounded metrics are clipped to their
    range (`metric_range`; `objective` by `objective_metric`). p is Holm-adjusted
    within each metric over all its rows. The verdict's better side follows `directions`
    (metric -> direction, the inputs' headline), else the metric's name
    (`metric_direction`)."""
    rows = []
    for keys, a_rows, b_rows in pairs:
        a_ok, a_failed, a_pruned = _samples(a_rows, replicate_key)
        b_ok, b_failed, b_pruned = _samples(b_rows, replicate_key)
        for metric in metrics:
            c = compare_samples(a_ok[metric], b_ok[metric], metric_range(metric, objective_metric))
            rows.append(
                {
                    **keys,
                    "metric": metric,
                    "A": c.a.mean,
                    "A std": c.a.std,
                    "A ci_low": c.a.low,
                    "A ci_high": c.a.high,
                    "A n": c.a.n,
                    "A failed": a_failed + _no_values(a_ok, metric),
                    "A pruned": a_pruned,
                    "B": c.b.mean,
                    "B std": c.b.std,
                    "B ci_low": c.b.low,
                    "B ci_high": c.b.high,
                    "B n": c.b.n,
                    "B failed": b_failed + _no_values(b_ok, metric),
                    "B pruned": b_pruned,
                    "B - A": c.diff,
                    "B - A ci_low": c.diff_low,
                    "B - A ci_high": c.diff_high,
                    "test": c.test,
                    "p": c.p,
                }
            )
    table = pd.DataFrame(rows)
    table["p (Holm)"] = math.nan
    for _, group in table.groupby("metric", sort=False):
        table.loc[group.index, "p (Holm)"] = holm(group["p"].to_numpy())
    table["verdict"] = [
        verdict(
            r["B - A"],
            r["p (Holm)"],
            (directions or {}).get(r["metric"])
            or metric_direction(r["metric"], objective_direction),
        )
        for _, r in table.iterrows()
    ]
    return table


def _objective_metric(*frames: pd.DataFrame) -> str | None:
    """The metric the objective is (`val_accuracy`) when every job of the inputs agrees."""
    names = {
        str(v)
        for f in frames
        if "objective_metric" in f
        for v in f["objective_metric"].dropna().unique()
    }
    return names.pop() if len(names) == 1 else None


def _direction(*frames: pd.DataFrame) -> str | None:
    for frame in frames:
        if "objective_direction" in frame and frame["objective_direction"].notna().any():
            return str(frame["objective_direction"].dropna().iloc[0])
    return None


def _groups(frame: pd.DataFrame, keys: list[str]) -> dict[tuple, pd.DataFrame]:
    if not keys:
        return {(): frame}
    return {
        (k if isinstance(k, tuple) else (k,)): g
        for k, g in frame.groupby(keys, sort=False, dropna=False)
    }


def compare(
    a: pd.DataFrame,
    b: pd.DataFrame,
    on: list[str] | None = None,
    metrics: list[str] | None = None,
    replicate_key: str = DEFAULT_REPLICATE_KEY,
) -> Result:
    """A vs B per joined configuration and metric (see the module docstring).

    Raises CompareError: 1 for a refusal (nothing to join, different tasks, ...)."""
    a, b = canonical(a), canonical(b)
    on = [KEY_ALIASES.get(k, k) for k in on] if on else None
    keys, notes = join_keys(a, b, on, replicate_key)
    numeric, metric_notes = _metrics(a, b, metrics)
    warnings = check_like_with_like(a, b, numeric)
    a, b = mark_no_value(a, numeric), mark_no_value(b, numeric)
    ga, gb = _groups(a, keys), _groups(b, keys)
    pairs = [(dict(zip(keys, k)), ga[k], gb[k]) for k in ga if k in gb]
    if not pairs:
        raise CompareError(f"no rows of A and B share values of {', '.join(keys)}", 1)
    objective = _objective_metric(a, b)
    table = statistics(
        pairs, numeric, replicate_key, _direction(a, b), objective, _directions(a, b)
    )
    notes += metric_notes + no_value_notes({"A": a, "B": b}, numeric)
    return Result(table, keys, warnings, notes, objective)


def compare_by(
    frame: pd.DataFrame,
    by: str,
    metrics: list[str] | None = None,
    replicate_key: str = DEFAULT_REPLICATE_KEY,
) -> Result:
    """Within one sweep: each level of `by` (B, named in column `by`) against its first
    level (A), at every configuration of the other swept keys.

    Raises CompareError (1) when `by` is not a swept key or is the replicate key."""
    frame = canonical(frame)
    by = KEY_ALIASES.get(by, by)
    keys_all = [k for k in key_columns(frame) if k != replicate_key]
    if by == replicate_key:
        raise CompareError(f"--by {by} is the replicate key; compare configurations", 1)
    if by not in key_columns(frame) or frame[by].nunique() < 2:
        swept = ", ".join(_swept(frame, keys_all)) or "nothing"
        near = difflib.get_close_matches(by, _swept(frame, keys_all), n=1)
        hint = f"; did you mean {near[0]}?" if near and near[0] != by else ""
        raise CompareError(
            f"--by {by}: not a key with two or more values (swept: {swept}){hint}", 1
        )
    keys = [k for k in _swept(frame, keys_all) if k != by]
    numeric, _ = _metrics(frame, frame, metrics)
    frame = mark_no_value(frame, numeric)
    levels = list(pd.unique(frame[by]))
    numbers = pd.to_numeric(pd.Series(levels), errors="coerce")
    if numbers.notna().all():
        levels = [levels[i] for i in numbers.sort_values(kind="stable").index]
    first = frame[frame[by] == levels[0]]
    pairs = []
    for level in levels[1:]:
        ga, gb = _groups(first, keys), _groups(frame[frame[by] == level], keys)
        pairs += [({by: level, **dict(zip(keys, k))}, ga[k], gb[k]) for k in ga if k in gb]
    if not pairs:
        raise CompareError(f"no configuration has both {by}={levels[0]} and another level", 1)
    objective = _objective_metric(frame)
    table = statistics(
        pairs, numeric, replicate_key, _direction(frame), objective, _directions(frame)
    )
    compared = [level for level in levels[1:] if level in set(table[by])]
    others = ", ".join(map(str, compared))
    b_side = f"{others} (B)" if len(compared) == 1 else f"{others} (B, each in column {by})"
    notes = no_value_notes({"the sweep": frame}, numeric)
    return Result(table, keys, [], notes, objective, f"{by}: {levels[0]} (A) vs {b_side}")


def _cell(mean: float, std: float, low: float, high: float, n: int) -> str:
    """`mean ± t half-width (n)`: the half-width from std and n, so a bound clipped to the
    metric's range does not shrink it."""
    n = 0 if pd.isna(n) else int(n)
    return format_summary(Summary(n, mean, std, low, high))


def metric_label(metric: str, objective_metric: str | None = None) -> str:
    """`test_accuracy (test split)`, `objective (val_accuracy, validation split)`,
    `wall_seconds`: a metric named with the data it was measured on."""
    if metric == "objective":
        if not objective_metric:
            return "objective"
        split = metric_split(objective_metric)
        return f"objective ({objective_metric}" + (f", {split})" if split != "run" else ")")
    split = metric_split(metric)
    return metric if split == "run" else f"{metric} ({split})"


def printable(
    table: pd.DataFrame, keys: list[str], objective_metric: str | None = None
) -> pd.DataFrame:
    """The table as the terminal shows it: the metric with its split, `mean ± half-width (n)`
    cells, failed and pruned counts where there are any, B - A [low, high]."""
    out = table[keys].copy()
    out["metric"] = [metric_label(m, objective_metric) for m in table["metric"]]
    for side in ("A", "B"):
        out[side] = [
            _cell(
                r[side],
                r.get(f"{side} std"),
                r[f"{side} ci_low"],
                r[f"{side} ci_high"],
                r[f"{side} n"],
            )
            for _, r in table.iterrows()
        ]
        for count in ("failed", "pruned"):
            column = f"{side} {count}"
            if column in table and table[column].any():
                out[column] = table[column].astype(int)
    out["B - A [95 % CI]"] = [
        "–"
        if pd.isna(r["B - A"])
        else f"{r['B - A']:+.4f}"
        + (
            ""
            if pd.isna(r["B - A ci_low"])
            else f" [{r['B - A ci_low']:+.4f}, {r['B - A ci_high']:+.4f}]"
        )
        for _, r in table.iterrows()
    ]
    out["test"] = table["test"]
    out["p (Holm)"] = ["–" if pd.isna(p) else f"{p:.3g}" for p in table["p (Holm)"]]
    out["verdict"] = table["verdict"]
    return out


def _names(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sweeper compare",
        description="Compare configurations of two sweeps (or of one with --by), with "
        "95 % confidence intervals, tests, Holm correction and verdicts. Failed jobs and "
        "ok jobs with no value (NaN, inf, null, missing) of a metric are counted in A failed / "
        "B failed; pruned jobs (a search's pruner) in A pruned / B pruned, not counted as "
        "failed. Both are left out of the statistics.",
    )
    parser.add_argument("a", type=Path, help="results.csv or sweep folder (A, e.g. before)")
    parser.add_argument("b", type=Path, nargs="?", help="results.csv or sweep folder (B)")
    parser.add_argument("--on", help="comma-separated key columns to join on")
    parser.add_argument("--by", help="one input: compare the levels of this key")
    parser.add_argument("--metrics", help="comma-separated metric columns (default: the main ones)")
    parser.add_argument(
        "--replicate-key", default=DEFAULT_REPLICATE_KEY, help="replicate column (default: seed)"
    )
    parser.add_argument("--out", type=Path, help="also write the comparison as CSV here")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if (args.b is None) == (args.by is None):
        parser.error("give two inputs A B, or one input with --by KEY")
    if args.by and args.on:
        parser.error("--on joins two inputs; --by compares within one")
    inputs = [p for p in (args.a, args.b) if p is not None]
    if args.out is not None:
        same = [p for p in inputs if _same_file(p, args.out) or _sweep_output(p, args.out)]
        if same:
            print(
                f"sweeper compare: error: --out {args.out} is an input or a file of an "
                "input sweep; it would be overwritten",
                file=sys.stderr,
            )
            return 2
        if args.out.is_dir():
            print(f"sweeper compare: error: --out {args.out} is a folder", file=sys.stderr)
            return 2
    try:
        frames = {"A": read_results(args.a)}
        if args.b is not None:
            frames["B"] = read_results(args.b)
            why = same_input(args.a, args.b)
            if why:
                raise CompareError(
                    f"A and B are one sweep ({why}: {args.a}, {args.b}): a sweep compared "
                    "with itself differs in nothing; give two sweeps, or one with --by KEY",
                    2,
                )
            if same_content(frames["A"], frames["B"]):  # a copy is a legitimate input
                print(
                    f"sweeper compare: warning: {args.b} holds the same jobs and values as "
                    f"{args.a} (a copy?): every B - A is 0",
                    file=sys.stderr,
                )
        if args.replicate_key != DEFAULT_REPLICATE_KEY:  # named by the user: it must be swept
            check_replicate_key(frames, args.replicate_key)
        if args.by:
            result = compare_by(frames["A"], args.by, _names(args.metrics), args.replicate_key)
            shown = [args.by, *result.keys]
        else:
            result = compare(
                frames["A"],
                frames["B"],
                _names(args.on),
                _names(args.metrics),
                args.replicate_key,
            )
            shown = result.keys
    except CompareError as error:
        print(f"sweeper compare: error: {error}", file=sys.stderr)
        return error.code
    for line in result.warnings:
        print(f"sweeper compare: {line}", file=sys.stderr)
    print(f"A = {args.a}" + ("" if args.by else f"\nB = {args.b}"))
    for note in result.notes:
        print(note)
    if args.by:
        where = f"at each {', '.join(result.keys)}" if result.keys else "(no other swept key)"
        joined = f"{result.versus} {where}"
    else:
        on = ", ".join(result.keys) or "(nothing: one configuration a side)"
        joined = f"{result.versus} joined on: {on}"
    print(
        f"{joined}; each row's metric with its split; replicates: {args.replicate_key}; "
        "p Holm-adjusted per metric over its rows"
    )
    table = result.table
    if (table[["A n", "B n"]].max(axis=None)) <= 1:
        print(
            f"n = 1 on both sides: differences without intervals or tests "
            f"({_more_seeds(inputs, args.replicate_key)} for them)"
        )
    print(printable(table, shown, result.objective_metric).to_string(index=False))
    if args.out:
        try:
            write_csv(args.out, table)
        except OSError as error:
            where = error.filename if error.filename is not None else args.out
            print(
                f"sweeper compare: error: cannot write to {where}: {error.strerror or error}",
                file=sys.stderr,
            )
            return 2
        print(f"wrote {args.out}")
    return 0


# What collect and a search write into a sweep folder: --out never replaces one of them.


def _more_seeds(inputs: list[Path], replicate_key: str) -> str:
    """How to get replicates: `sweep seed=0,1,2,3,4`, or for an Optuna search's folder (or
    its results.csv), whose trials are configurations of their own, confirm's command."""

    searches = [
        p if p.is_dir() else p.parent
        for p in inputs
        if is_search_folder(p if p.is_dir() else p.parent)
    ]
    if searches:
        return " and ".join(f"python -m sweeper.confirm {s} --seeds 5" for s in searches)
    return f"sweep {replicate_key}=0,1,2,3,4"


def _sweep_output(given: Path, out: Path) -> bool:
    """Whether `out` is one of the files sweeper writes in the sweep folder `given` names
    (the folder itself, or its results.csv)."""
    folder = given if given.is_dir() else given.parent
    try:
        return out.name in SWEEP_OUTPUTS and out.resolve().parent == folder.resolve()
    except OSError:
        return False


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one existing file (through links, `./`, ...)."""
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
