"""Collect a sweep folder into one table, CSVs and plots.

    python -m sweeper.collect multirun/2026-11-29/10-00-00 [MORE ...]
    sweeper collect multirun/2026-11-29/10-00-00

writes into each sweep folder:

    results.csv        one row per job: job, each override as a column, status,
                       objective, metrics, settings, wall seconds, job folder
    history.csv        long format: job, override keys, epoch, losses, accuracy
    by_length.csv      long format: job, override keys, split, length, accuracy (sequence tasks)
    summary.md         the objective pivoted over the swept keys; failed and skipped jobs
    curves.png         train loss, val loss, val accuracy per epoch, a line per configuration
    bit_accuracy_vs_length.png (adder) / accuracy_vs_length.png (memory)

`CollectCallback` (enabled in conf/config.yaml) does this when a multirun ends.
Broken job folders are skipped with a reason; re-collecting gives the same files.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sweeper.artifacts import atomic_write, write_csv
from sweeper.plots import plot_accuracy_vs_length, plot_sweep_curves
from sweeper.results import Sweep, label, load_sweep

log = logging.getLogger(__name__)

LENGTH_FIGURES = {
    "adder": ("bit_accuracy_vs_length.png", "bit accuracy"),
    "memory": ("accuracy_vs_length.png", "accuracy"),
}


def pivot_objective(sweep: Sweep) -> pd.DataFrame:
    """The objective of each configuration: rows = all swept keys but the last, columns = the last.

    Failed jobs count as missing (NaN), not as their -inf/inf objective.
    """
    results = sweep.results.copy()
    results["objective"] = results["objective"].where(results["status"] == "ok")
    keys = sweep.swept
    if not keys:
        return results.set_index("job")[["objective"]]
    # Numbers in increasing order (an Optuna search's learning rates); words as swept.
    numeric = [k for k in keys if pd.api.types.is_numeric_dtype(results[k])]
    results = results.sort_values(numeric, kind="stable") if numeric else results
    for key in numeric:  # 0.0012345 stays readable instead of rounding to 0.0012
        results[key] = results[key].map(lambda v: f"{v:g}")
    if len(keys) == 1:
        return results.groupby(keys[0], sort=False)[["objective"]].mean()
    return results.pivot_table(
        values="objective", index=keys[:-1], columns=keys[-1], aggfunc="mean", sort=False
    )


def summary_markdown(sweep: Sweep) -> str:
    results = sweep.results
    lines = [f"# Sweep {sweep.folder}", ""]
    if results.empty:
        lines.append("No finished jobs.")
    else:
        metrics = ", ".join(sorted(results["objective_metric"].dropna().astype(str).unique()))
        ok = results[results["status"] == "ok"]
        lines += [
            f"Objective: `{metrics}`; {len(ok)} of {len(results)} collected jobs ok."
            + (f" Swept: {', '.join(f'`{k}`' for k in sweep.swept)}." if sweep.swept else ""),
            "",
            # Values formatted here, so tabulate leaves key values such as 0.00182394 as they are.
            pivot_objective(sweep)
            .map(lambda v: "–" if pd.isna(v) else f"{v:.4f}")
            .to_markdown(disable_numparse=True),
            "",
        ]
        if not ok.empty:
            minimize = (ok["objective_direction"] == "minimize").all()
            best = ok.loc[ok["objective"].idxmin() if minimize else ok["objective"].idxmax()]
            lines += [
                f"Best: job {best['job']} ({label(best, sweep.swept)}): {best['objective']:.4f}",
                "",
            ]
        failed = results[results["status"] != "ok"]
        if not failed.empty:
            lines += ["## Failed jobs", ""]
            lines += [
                f"- job {r['job']} ({label(r, sweep.swept)}): {r['reason']}"
                for _, r in failed.iterrows()
            ]
            lines.append("")
    if sweep.skipped:
        lines += ["## Skipped folders", ""]
        lines += [f"- {name}: {why}" for name, why in sweep.skipped]
        lines.append("")
    return "\n".join(lines)


def write_outputs(sweep: Sweep) -> list[Path]:
    """Write the sweep's tables and figures into its folder; returns the paths written."""
    folder, written = sweep.folder, []
    summary = summary_markdown(sweep)
    written.append(atomic_write(folder / "summary.md", lambda tmp: tmp.write_text(summary)))
    if sweep.results.empty:
        return written
    written.append(write_csv(folder / "results.csv", sweep.results))
    labels = {str(r["job"]): label(r, sweep.swept) for _, r in sweep.results.iterrows()}
    if not sweep.history.empty:
        written.append(write_csv(folder / "history.csv", sweep.history))
        written.append(plot_sweep_curves(sweep.history, labels, folder / "curves.png"))
    if not sweep.by_length.empty:
        written.append(write_csv(folder / "by_length.csv", sweep.by_length))
        tasks = sweep.results.set_index("job")["task"].astype(str)
        for task, (filename, ylabel) in LENGTH_FIGURES.items():
            rows = sweep.by_length[sweep.by_length["job"].map(tasks) == task]
            if not rows.empty:
                title = f"{task}: {ylabel} by length ({folder.parent.name}/{folder.name})"
                written.append(
                    plot_accuracy_vs_length(rows, labels, folder / filename, ylabel, title)
                )
    return written


def collect(folder: str | Path) -> Sweep:
    """Load the sweep folder and write its outputs; raises FileNotFoundError if missing."""
    sweep = load_sweep(folder)
    write_outputs(sweep)
    return sweep


def report(sweep: Sweep) -> str:
    """What the terminal shows: the pivot table, then what was skipped and why."""
    lines = [f"{sweep.folder}: {len(sweep.results)} jobs collected"]
    if not sweep.results.empty:
        lines.append(pivot_objective(sweep).to_string(float_format=lambda v: f"{v:.4f}"))
    lines += [f"skipped {name}: {why}" for name, why in sweep.skipped]
    return "\n".join(lines)


class CollectCallback(Callback):
    """Collects the sweep folder when a multirun ends (grid or Optuna)."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        folder = Path(config.hydra.sweep.dir)
        try:
            sweep = collect(folder)
        except Exception:  # collecting must never turn a finished sweep into a crash
            log.exception("could not collect %s", folder)
            return
        log.info("collected %s into results.csv and summary.md\n%s", folder, report(sweep))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sweeper collect", description="Collect sweep folders into tables and plots."
    )
    parser.add_argument("folders", nargs="+", type=Path, help="sweep folders (multirun/DATE/TIME)")
    args = parser.parse_args(argv)
    status = 0
    for folder in args.folders:
        try:
            sweep = collect(folder)
        except (FileNotFoundError, NotADirectoryError) as error:
            print(f"sweeper collect: error: {error}", file=sys.stderr)
            status = 1
            continue
        print(report(sweep))
        if sweep.results.empty:
            print(
                f"sweeper collect: error: {folder}: no finished job folders to collect",
                file=sys.stderr,
            )
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
