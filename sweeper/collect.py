"""Collect a sweep folder into one table, CSVs and plots.

    python -m sweeper.collect multirun/2026-11-29/10-00-00 [MORE ...]
    sweeper collect multirun/2026-11-29/10-00-00

writes into each sweep folder:

    results.csv        one row per job: job, each override as a column, status,
                       objective, metrics, parameters (the model's count), settings,
                       wall seconds, job folder
    results_by_config.csv  one row per configuration (the swept keys but the
                       replicate key, `seed` unless --replicate-key): jobs, failed,
                       pruned, and each metric's mean, std, n, failed (the failed jobs
                       and the ok ones with no value of it) and 95 % CI, its bounds
                       clipped to the metric's range (sweeper.reports.stats)
    history.csv        long format: job, override keys, epoch, losses, accuracy
    by_length.csv      long format: job, override keys, split, length, accuracy (sequence tasks)
    summary.md         the objective pivoted over the configurations, `mean ± 95 % CI
                       half-width (n)` per cell (plain numbers when every n is 1);
                       the best job (or the jobs that tie with it: sweeper.reports.best);
                       failed, pruned (a search's) and skipped jobs, and ok jobs with
                       no value (NaN, inf, null, missing) of a metric, each named once
    curves.png         train loss, val loss, val accuracy per epoch, a line per
                       configuration (the mean over replicates, with a 95 % CI band)
    ...                the figures each task class draws of its jobs (`Task.sweep_figures`:
                       bit_accuracy_vs_length.png for the adder, accuracy_vs_length.png
                       for memory), found from each job's `task._target_` setting
    report.html        all of the above in one self-contained page (sweeper.reports.report)

`CollectCallback` (enabled in conf/config.yaml) does this when a multirun ends.
Broken job folders are skipped with a reason, unusable per-job CSVs noted;
re-collecting gives the same files. Nothing is ever written inside a job folder:
collecting a single run's folder (or a folder inside a job) prints its table
and writes nothing. A folder without a finished job (empty, not a sweep, every job
killed) is refused with one line, exit status 1, and left exactly as it was. A
folder that cannot be written still gets its table printed, then one error line,
exit status 1.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sweeper.core.artifacts import write_csv, write_text
from sweeper.core.config import ConfigError
from sweeper.core.metrics import sweep_headline
from sweeper.core.record import BadFile, read_metrics
from sweeper.records.files import (
    BY_LENGTH,
    COLLECT_OUTPUTS,
    CURVES,
    HISTORY,
    RESULTS,
    RESULTS_BY_CONFIG,
    SUMMARY,
)
from sweeper.records.search import is_search_folder
from sweeper.reports.best import SHOWN_JOBS, best_job, four_decimals, tied_first
from sweeper.reports.pareto import front_lines
from sweeper.reports.plots import plot_run_curves, plot_sweep_curves
from sweeper.reports.report import logger_failures, write_report
from sweeper.reports.results import (
    UNSET,
    Sweep,
    config_value,
    inside_job_folder,
    job_counts,
    key_text,
    label,
    load_sweep,
)
from sweeper.reports.stats import (
    Summary,
    by_config,
    format_summary,
    metric_columns,
    metric_split,
    no_value,
    summarize,
)
from sweeper.reports.tables import read_table
from sweeper.run.observers import run_curves_title
from sweeper.sweeps.grid import RECORD as GRID_RECORD
from sweeper.tasks import legacy_task_target
from sweeper.tasks.base import task_class

log = logging.getLogger(__name__)

DEFAULT_REPLICATE_KEY = "seed"

TASK_CLASS = "task._target_"  # the metrics.json setting that names a job's task class


def task_targets(sweep: Sweep) -> pd.Series:
    """Each job's task class path (job -> `task._target_`); for a job made before tasks
    were plugins, its built-in task's class found from its task name."""

    results = sweep.results.set_index("job")
    targets = results.get(TASK_CLASS, pd.Series(None, index=results.index, dtype=object))
    for name_column in ("task.name", "task"):  # the older spelling last
        if name_column in results:
            targets = targets.fillna(results[name_column].map(legacy_task_target))
    return targets


def task_classes(sweep: Sweep) -> dict[str, type]:
    """The task classes of the sweep's jobs (`task._target_` -> class); one that does not
    import here is left out with a warning (its jobs just get no task figures)."""

    if sweep.results.empty:
        return {}
    classes = {}
    for target in task_targets(sweep).dropna().astype(str).unique():
        try:
            classes[target] = task_class(target)
        except ConfigError as error:
            log.warning("no task figures for %s: %s", target, error)
    return classes


# --- replicates (issue 14): configurations are the swept keys but the replicate key ---


def config_keys(sweep: Sweep, replicate_key: str | None = DEFAULT_REPLICATE_KEY) -> list[str]:
    """The keys that tell configurations apart: the swept keys but the replicate key."""
    return [k for k in sweep.swept if k != replicate_key]


def replicated(sweep: Sweep, replicate_key: str | None = DEFAULT_REPLICATE_KEY) -> bool:
    """Whether some configuration has more than one ok job (so intervals can be shown)."""
    ok = sweep.results[sweep.results["status"] == "ok"]
    keys = config_keys(sweep, replicate_key)
    if ok.empty:
        return False
    sizes = ok.groupby(keys, dropna=False).size() if keys else pd.Series([len(ok)])
    return bool((sizes > 1).any())


def objective_heading(sweep: Sweep, replicate_key: str | None = DEFAULT_REPLICATE_KEY) -> str:
    """`objective: val_accuracy (validation split), mean ± 95 % CI half-width (n)`."""
    names = sorted(sweep.results["objective_metric"].dropna().astype(str).unique())
    what = " / ".join(f"{m} ({metric_split(m)})" for m in names) or "(unknown metric)"
    if replicated(sweep, replicate_key):
        return f"objective: {what}, mean ± 95 % CI half-width (n) over {replicate_key}"
    if is_search(sweep):  # trials are configurations: confirm re-runs the best over seeds
        how = f"python -m sweeper.confirm {sweep.folder} --seeds 5"
    else:
        how = f"sweep {replicate_key}=0,1,2,3,4"
    return (
        f"objective: {what}; one job per configuration (n = 1): no confidence intervals "
        f"({how} for them)"
    )


SEARCH_SWEEPER = "search"  # the `hydra/sweeper` choice of a search's jobs (conf/hydra/sweeper)


def is_search(sweep: Sweep) -> bool:
    """Whether the folder holds an Optuna search (its files, or a job run by the search
    sweeper: collect also runs as the search's callback), not a grid."""

    if is_search_folder(sweep.folder):
        return True
    if sweep.results.empty or "job_dir" not in sweep.results:
        return False
    job = Path(str(sweep.results["job_dir"].iloc[0]))
    return config_value(job, "hydra/sweeper") == SEARCH_SWEEPER


def results_by_config(sweep: Sweep, replicate_key: str | None = DEFAULT_REPLICATE_KEY):
    """results_by_config.csv's table (sweeper.reports.stats.by_config over the configurations)."""
    keys = config_keys(sweep, replicate_key)
    return by_config(sweep.results, keys, metric_columns(sweep.results, sweep.keys))


def pivot_objective(
    sweep: Sweep, replicate_key: str | None = DEFAULT_REPLICATE_KEY
) -> pd.DataFrame:
    """The objective of each configuration: rows = all configuration keys but the last,
    columns = the last. Cells are text: `mean ± half-width (n)` over the replicates
    (`0.9000 (n=1)` for a lone job), or plain `0.9000` when no configuration has
    replicates; `–` where no job is ok.

    Failed jobs count as missing (NaN), not as their -inf/inf objective.
    """
    results = sweep.results.copy()
    results["objective"] = results["objective"].where(results["status"] == "ok")
    plain = not replicated(sweep, replicate_key)

    def cell(values: pd.Series) -> str:
        s = summarize(values)
        return ("–" if s.n == 0 else f"{s.mean:.4f}") if plain else format_summary(s)

    keys = config_keys(sweep, replicate_key)
    if not keys:
        if plain:
            return results.set_index("job")[["objective"]].map(lambda v: cell(pd.Series([v])))
        return pd.DataFrame({"objective": [cell(results["objective"])]}, index=["all jobs"])
    # Numbers in increasing order (an Optuna search's learning rates); words as swept.
    numeric = [k for k in keys if pd.api.types.is_numeric_dtype(results[k])]
    results = results.sort_values(numeric, kind="stable") if numeric else results
    for key in numeric:  # 0.0012345 stays readable instead of rounding to 0.0012; 5 not 5.0
        results[key] = results[key].map(key_text)
    for key in keys:  # a key a job did not have: shown, not dropped from the table
        results[key] = results[key].astype(object).where(results[key].notna(), UNSET)
    if len(keys) == 1:
        return results.groupby(keys[0], sort=False)[["objective"]].agg(cell)
    cells = results.groupby(keys, sort=False)["objective"].agg(cell).reset_index()
    table = cells.pivot(index=keys[:-1], columns=keys[-1], values="objective")
    # pivot sorts; keep the sweep's order (numbers ascending, words as swept).
    rows = cells[keys[:-1]].drop_duplicates()
    index = pd.MultiIndex.from_frame(rows) if len(keys) > 2 else pd.Index(rows[keys[0]])
    table = table.reindex(index=index, columns=cells[keys[-1]].drop_duplicates())
    return table.fillna("–")


def pivot_markdown(table: pd.DataFrame) -> str:
    """The pivot as a Markdown table: with two or more row keys, one column per key
    (not a column of tuples). Cells are text, so tabulate leaves key values such as
    0.00182394 as they are."""
    if isinstance(table.index, pd.MultiIndex):
        return table.reset_index().to_markdown(index=False, disable_numparse=True)
    return table.to_markdown(disable_numparse=True)


def beside_best(results: pd.DataFrame) -> list[str]:
    """The metrics shown beside the best job's objective: the sweep's headline metrics
    (results.csv's `headline`: the validation score and each test split's, as the task
    declares them; `sweeper.core.metrics.sweep_headline`)."""
    return list(sweep_headline(results))


def best_line(row: pd.Series, beside: Sequence[str] = ()) -> str:
    """`val_accuracy 0.9990 (validation split); test_accuracy 0.9985 (test split)`: the
    objective named, then the run's other headline metrics (`beside`, in order)."""
    metric = str(row.get("objective_metric", "objective"))
    parts = [f"{metric} {row['objective']:.4f} ({metric_split(metric)})"]
    for name in beside:
        value = row.get(name)
        if name != metric and value is not None and pd.notna(value):
            parts.append(f"{name} {float(value):.4f} ({metric_split(name)})")
    return "; ".join(parts)


def best_job_line(sweep: Sweep) -> str:
    """`Best: job 2 (model.hidden=5, loss=mse): val_accuracy 0.9990 (validation split); ...`;
    when others tie with it, `Best: 6 jobs tie at 1.0000 (jobs 0, ..., 5); job 0 is the
    first (model.hidden=3, loss=mse): ...`, and jobs that only show the same value at 4
    decimals are named after it (sweeper.reports.best). '' when no job is ok."""
    best = best_job(sweep.results)
    if best is None:
        return ""
    row = best.row
    tie = best.tie()
    named = f" ({label(row, sweep.swept)})" if sweep.swept else ""  # not `job 0 (job 0)`
    head = f"{tie}{named}" if tie else f"job {row['job']}{named}"
    near = best.near()
    line = f"Best: {head}: {best_line(row, beside_best(sweep.results))}"
    return line + (f". {near[0].upper()}{near[1:]}" if near else "")


def best_configuration(sweep: Sweep, replicate_key: str | None = DEFAULT_REPLICATE_KEY) -> str:
    """`Best configuration by mean over seed: model.hidden=5 (n = 5): objective 0.99 ± ...`:
    the best single job of a replicated sweep may be a lucky seed, the best mean is not."""
    keys = config_keys(sweep, replicate_key)
    results = sweep.results
    beside = beside_best(results)
    table = by_config(results, keys, [m for m in ("objective", *beside) if m in results])
    table = table[table["objective_n"] > 0]
    if table.empty:
        return "Best configuration: none has an ok job"
    minimize = bool((results["objective_direction"].dropna() == "minimize").all())
    first, tied = tied_first(table["objective_mean"], minimize)
    row = table.loc[first]
    metric = str(results["objective_metric"].dropna().iloc[0])
    parts = [f"{metric} {_cell(row, 'objective')}"]
    parts += [
        f"{m} {_cell(row, m)}" for m in beside if m != metric and f"{m}_n" in row and row[f"{m}_n"]
    ]
    name = label(row, keys) if keys else "all jobs"
    if len(tied) > 1:  # equal means: no configuration is ahead (sweeper.reports.best)
        names = [label(table.loc[i], keys) for i in tied]
        shown = "; ".join(names[:SHOWN_JOBS])
        shown += f" and {len(names) - SHOWN_JOBS} more" if len(names) > SHOWN_JOBS else ""
        mean = four_decimals(float(row["objective_mean"]))
        name = f"{len(tied)} configurations tie at mean {mean} ({shown}); the first is {name}"
    return (
        f"Best configuration by mean over {replicate_key}: {name}: {'; '.join(parts)} "
        "(mean ± 95 % CI half-width (n))"
    )


def _cell(row: pd.Series, metric: str) -> str:
    return format_summary(
        Summary(
            int(row[f"{metric}_n"]),
            row[f"{metric}_mean"],
            row[f"{metric}_std"],
            row[f"{metric}_ci_low"],
            row[f"{metric}_ci_high"],
        )
    )


def no_value_lines(sweep: Sweep) -> list[str]:
    """`job 3 (loss=mse, seed=1): no value of test_accuracy (NaN, inf, null or missing); ...`:
    one line per ok job with no value of some metric (sweeper.reports.stats.no_value),
    naming each such metric once."""
    results = sweep.results
    if results.empty:
        return []
    metrics = metric_columns(results, sweep.keys)
    missing = no_value(results, metrics)
    lines = []
    for index, flags in missing.iterrows():
        which = [m for m in metrics if flags[m]]
        if which:
            row = results.loc[index]
            columns = ", ".join(f"{m}_failed" for m in which)
            lines.append(
                f"job {row['job']} ({label(row, sweep.swept)}): no value of {', '.join(which)} "
                f"(NaN, inf, null or missing); left out of its statistics, counted in {columns}"
            )
    return lines


def legend_lines(sweep: Sweep, replicate_key: str | None = DEFAULT_REPLICATE_KEY) -> list[str]:
    """What the objective pivot shows (`objective_heading`) and, for a replicated sweep,
    the best configuration by mean (`best_configuration`): the lines summary.md and
    report.html print with the pivot."""
    if sweep.results.empty:
        return []
    lines = [objective_heading(sweep, replicate_key)]
    ok = sweep.results[sweep.results["status"] == "ok"]
    if not ok.empty and not front_lines(sweep.results, sweep.swept):
        if replicated(sweep, replicate_key):
            lines.append(best_configuration(sweep, replicate_key))
    return lines


def summary_markdown(sweep: Sweep, replicate_key: str | None = DEFAULT_REPLICATE_KEY) -> str:
    results = sweep.results
    lines = [f"# Sweep {sweep.folder}", ""]
    if results.empty:
        lines.append("No finished jobs.")
    else:
        metrics = ", ".join(sorted(results["objective_metric"].dropna().astype(str).unique()))
        if "objectives" in results.columns:  # multi-objective: every objective, in order
            specs = results["objectives"].dropna().astype(str).unique()
            metrics = "; ".join(specs) if len(specs) else metrics
        ok = results[results["status"] == "ok"]
        lines += [
            f"Objective: `{metrics}`; {job_counts(results, 'collected jobs')}."
            + (f" Swept: {', '.join(f'`{k}`' for k in sweep.swept)}." if sweep.swept else ""),
            "",
            objective_heading(sweep, replicate_key) + ":",
            "",
            pivot_markdown(pivot_objective(sweep, replicate_key)),
            "",
        ]
        front = front_lines(results, sweep.swept)  # a multi-objective sweep's best jobs
        lines += front
        if not ok.empty and not front:
            lines += [best_job_line(sweep), ""]
            if replicated(sweep, replicate_key):
                lines += [best_configuration(sweep, replicate_key), ""]
        failed = results[~results["status"].isin(("ok", "pruned"))]
        pruned = results[results["status"] == "pruned"]  # stopped by a search's pruner
        for heading, jobs in (("Failed jobs", failed), ("Pruned trials", pruned)):
            if jobs.empty:
                continue
            lines += [f"## {heading}", ""]
            lines += [
                f"- job {r['job']} ({label(r, sweep.swept)}): {r['reason']}"
                for _, r in jobs.iterrows()
            ]
            lines.append("")
        trackers = logger_failures(results)  # the run trained; a tracker missed it
        if trackers:
            rows = {str(r["job"]): r for _, r in results.iterrows()}
            lines += ["## Logger failures", ""]
            lines += [f"- job {j} ({label(rows[j], sweep.swept)}): {why}" for j, why in trackers]
            lines.append("")
        missing = no_value_lines(sweep)
        if missing:
            lines += ["## Jobs with no value of a metric", ""]
            lines += [f"- {line}" for line in missing]
            lines.append("")
    if sweep.skipped:
        lines += ["## Skipped folders", ""]
        lines += [f"- {name}: {why}" for name, why in sweep.skipped]
        lines.append("")
    if sweep.notes:
        lines += ["## Unusable files (their jobs are in the table)", ""]
        lines += [f"- {name}: {why}" for name, why in sweep.notes]
        lines.append("")
    return "\n".join(lines)


def draw_job_curves(sweep: Sweep) -> list[Path]:
    """Each collected job's own curves.png where it has none: a sweep's jobs leave it to
    the collect step (`sweeper.run.observers.draws_curves`). Drawn as the job would have
    drawn it (from its history.csv, titled from its metrics.json settings), for every
    job but an interrupted one; returns the paths drawn."""
    drawn: list[Path] = []
    if sweep.results.empty or "job_dir" not in sweep.results:
        return drawn
    for _, row in sweep.results.iterrows():
        job = Path(str(row["job_dir"]))
        history, target = job / HISTORY, job / CURVES
        if row.get("status") == "interrupted" or target.exists() or not history.is_file():
            continue
        try:  # an unusable history.csv is already a note of the sweep: no figure for it
            settings = read_metrics(job / "metrics.json").get("settings") or {}
            frame = read_table(history)
        except (OSError, BadFile):
            continue
        drawn.append(plot_run_curves(frame, target, run_curves_title(settings)))
    return drawn


def write_outputs(sweep: Sweep, replicate_key: str | None = DEFAULT_REPLICATE_KEY) -> list[Path]:
    """Write the sweep's tables and figures into its folder; returns the paths written.

    Draws each job's missing curves.png (`draw_job_curves`). Writes nothing into a
    folder that is itself a job folder, nor into a folder without a finished job (returns
    [] for both: there is nothing to tabulate, and a refusal leaves the folder as it
    was). Raises OSError naming the folder
    or file that cannot be written; a target that exists but is not a file (a
    folder named results.csv) is found before anything is written."""
    folder, written = sweep.folder, []
    if inside_job_folder(folder):
        return written
    classes = task_classes(sweep) if not sweep.by_length.empty else {}
    figures = [name for cls in classes.values() for name in cls.sweep_figure_names()]
    for name in (*COLLECT_OUTPUTS, *figures):
        target = folder / name
        if (target.exists() or target.is_symlink()) and not target.is_file():
            raise IsADirectoryError(errno.EISDIR, "exists and is not a file", str(target))
    if sweep.results.empty:  # nothing to collect: refused by the caller, nothing written
        return written
    draw_job_curves(sweep)  # into the job folders: not among the sweep's outputs
    written.append(write_text(folder / SUMMARY, summary_markdown(sweep, replicate_key)))
    written.append(write_csv(folder / RESULTS, sweep.results))
    by_config_table = results_by_config(sweep, replicate_key)
    written.append(write_csv(folder / RESULTS_BY_CONFIG, by_config_table))
    # One label per configuration: the plots draw its replicates as one mean with a band.
    keys = config_keys(sweep, replicate_key)
    labels = {str(r["job"]): label(r, keys) for _, r in sweep.results.iterrows()}
    if not sweep.history.empty:
        written.append(write_csv(folder / HISTORY, sweep.history))
        losses = {str(r["job"]): r.get("loss.name") for _, r in sweep.results.iterrows()}
        written.append(plot_sweep_curves(sweep.history, labels, folder / CURVES, losses))
    if not sweep.by_length.empty:
        written.append(write_csv(folder / BY_LENGTH, sweep.by_length))
        targets = task_targets(sweep)
        for target, cls in classes.items():
            rows = sweep.by_length[sweep.by_length["job"].map(targets) == target]
            if not rows.empty:
                written += cls.sweep_figures(rows, labels, folder)
    # last: it inlines the figures
    pivot = pivot_objective(sweep, replicate_key)
    written.append(write_report(sweep, pivot, legend_lines(sweep, replicate_key), labels))
    return written


def collect(folder: str | Path, replicate_key: str | None = DEFAULT_REPLICATE_KEY) -> Sweep:
    """Load the sweep folder and write its outputs.

    Raises FileNotFoundError / NotADirectoryError / PermissionError if the folder
    cannot be listed, OSError if its outputs cannot be written."""
    sweep = load_sweep(folder)
    write_outputs(sweep, replicate_key)
    return sweep


def replicate_key_error(sweep: Sweep, replicate_key: str) -> str | None:
    """Why a replicate key named by the user cannot be used here (None if it can)."""
    if sweep.results.empty or replicate_key in sweep.swept:
        return None
    swept = ", ".join(sweep.swept) or "nothing"
    where = "is the same in every job" if replicate_key in sweep.keys else "is not a swept key"
    return f"{sweep.folder}: replicate key {replicate_key} {where} (swept: {swept})"


def read_error(error: OSError) -> str:
    """`DIR: no such folder`, `cannot read DIR: Permission denied`: one line."""
    if error.filename is None:
        return str(error)
    return f"cannot read {error.filename}: {error.strerror or error}"


def write_error(error: OSError) -> str:
    """`cannot write to DIR: Permission denied`: the path and the reason, one line."""
    where = error.filename if error.filename is not None else "the sweep folder"
    return f"cannot write to {where}: {error.strerror or error}"


def written_names(paths: list[Path]) -> str:
    """`summary.md, results.csv, ..., report.html`: the files collect wrote, by name."""
    return ", ".join(path.name for path in paths) or "nothing"


def report(sweep: Sweep, replicate_key: str | None = DEFAULT_REPLICATE_KEY) -> str:
    """What the terminal shows: how many jobs are ok, failed and pruned (`job_counts`; the
    pivot's (n) counts only the ok ones), the pivot table under a line naming its metric and
    split, the best configuration by mean (replicated sweeps), the jobs with no value of a
    metric, then what was skipped and why."""
    lines = [f"{sweep.folder}: {len(sweep.results)} jobs collected"]
    in_job = inside_job_folder(sweep.folder)
    if in_job:
        lines[0] += " (a job folder: nothing written into it)"
    if not sweep.results.empty:
        counts = job_counts(sweep.results)  # the cells' (n) leave these out: say so here
        if (sweep.results["status"] != "ok").any() and not in_job:
            counts += ": see summary.md"
        lines.append(counts)
        legend = legend_lines(sweep, replicate_key)  # the heading, then the best by mean
        lines.append(legend[0])
        lines.append(pivot_objective(sweep, replicate_key).to_string())
        if not front_lines(sweep.results, sweep.swept):  # one objective: its best job, ties said
            lines += [line for line in (best_job_line(sweep),) if line]
        lines += legend[1:]
        lines += no_value_lines(sweep)
    lines += [f"skipped {name}: {why}" for name, why in sweep.skipped]
    lines += [f"note {name}: {why}" for name, why in sweep.notes]
    lines += pending_lines(sweep)
    return "\n".join(lines)


def pending_lines(sweep: Sweep) -> list[str]:
    """`pending: 2 of the grid's 6 jobs have no job folder yet ...` when the grid recorded
    in the folder (`.sweeper/grid.json`) has more points than job folders: jobs waiting
    in a scheduler's queue (a SLURM array's pending tasks), or never started."""
    try:
        points = json.loads((sweep.folder / GRID_RECORD).read_text())["points"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    waiting = len(points) - len(sweep.results) - len(sweep.skipped)
    if waiting <= 0:
        return []
    return [
        f"pending: {waiting} of the grid's {len(points)} jobs have no job folder yet "
        "(waiting in the scheduler's queue, or never started)"
    ]


class CollectCallback(Callback):
    """Collects the sweep folder when a multirun ends (grid or Optuna).

    `replicate_key` (`hydra.callbacks.collect.replicate_key`, default `seed`) is the
    swept key whose values are repeats of one configuration."""

    def __init__(self, replicate_key: str = DEFAULT_REPLICATE_KEY) -> None:
        self.replicate_key = replicate_key

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        folder = Path(config.hydra.sweep.dir)
        key = self.replicate_key
        try:
            sweep = load_sweep(folder)
            why = replicate_key_error(sweep, key) if key != DEFAULT_REPLICATE_KEY else None
            if why:
                log.warning("sweeper: warning: %s; every job is its own configuration", why)
            if sweep.results.empty:  # nothing finished: say so, write nothing
                for name, why in sweep.skipped:
                    log.info("skipped %s: %s", name, why)
                log.warning("sweeper: warning: %s", empty_error(sweep))
                return
            try:
                written = write_outputs(sweep, key)
            except OSError as error:  # a read-only or full disk: one line, the sweep is done
                log.info("%s", report(sweep, key))
                log.error("could not collect %s: %s", folder, write_error(error))
                return
        except OSError as error:
            log.error("could not collect %s: %s", folder, read_error(error))
            return
        except Exception:  # collecting must never turn a finished sweep into a crash
            log.exception("could not collect %s", folder)
            return
        log.info("collected %s: wrote %s\n%s", folder, written_names(written), report(sweep, key))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sweeper collect", description="Collect sweep folders into tables and plots."
    )
    parser.add_argument("folders", nargs="+", type=Path, help="sweep folders (multirun/DATE/TIME)")
    parser.add_argument(
        "--replicate-key",
        default=None,
        help="the swept key whose values repeat one configuration (default: seed)",
    )
    args = parser.parse_args(argv)
    key = args.replicate_key or DEFAULT_REPLICATE_KEY
    status = 0
    for folder in args.folders:
        try:
            sweep = load_sweep(folder)
        except OSError as error:  # missing, not a folder, cannot be listed
            print(f"sweeper collect: error: {read_error(error)}", file=sys.stderr)
            status = max(status, 1)
            continue
        why = replicate_key_error(sweep, key) if args.replicate_key else None
        if why:  # named by the user: refused before anything is written
            print(f"sweeper collect: error: {why}", file=sys.stderr)
            status = max(status, 2)
            continue
        if sweep.results.empty:  # refused: the folder is left exactly as it was
            for name, why in sweep.skipped:
                print(f"skipped {name}: {why}")
            print(f"sweeper collect: error: {empty_error(sweep)}", file=sys.stderr)
            status = max(status, 1)
            continue
        print(report(sweep, key))
        try:
            written = write_outputs(sweep, key)
        except OSError as error:
            print(f"sweeper collect: error: {write_error(error)}", file=sys.stderr)
            status = max(status, 1)
            continue
        if written:
            print(f"wrote {written_names(written)} into {folder}")
    return status


def empty_error(sweep: Sweep) -> str:
    """`DIR: no finished job folders to collect; nothing written` (with how many job folders
    were skipped, their reasons printed above it, and how many of the grid's jobs have no
    folder yet: a sweep whose jobs still wait or run)."""
    skipped = f" ({len(sweep.skipped)} skipped, see above)" if sweep.skipped else ""
    pending = "".join(f"; {line}" for line in pending_lines(sweep))  # a queue's jobs
    return f"{sweep.folder}: no finished job folders to collect{skipped}{pending}; nothing written"


if __name__ == "__main__":
    sys.exit(main())
