"""Matplotlib figures of runs and sweeps, written straight to PNG files.

Figures are built with matplotlib's object API (`Figure`), not pyplot: no
backend or display is involved, nothing global keeps them alive, and a job
does not pay pyplot's import (~0.1 s) to draw its curves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sweeper.artifacts import save_figure
from sweeper.stats import summarize

CURVE_PANELS = (
    ("train_loss", "training loss"),
    ("val_loss", "validation loss"),
    ("val_accuracy", "validation accuracy"),
)


def plot_run_curves(history: pd.DataFrame, path: str | Path, title: str) -> Path:
    """The assignment's three panels for one run: train loss, val loss, val accuracy per epoch.

    Drawn once per job. Like every figure here it has fixed margins, not tight_layout,
    which would measure every label first: 0.14 s instead of 0.26 s a figure, which a
    sweep of second-long jobs notices."""
    figure = Figure(figsize=(13, 3.8))
    axes = figure.subplots(1, 3)
    for ax, (column, label) in zip(axes, CURVE_PANELS):
        ax.plot(history["epoch"], history[column], marker="o", markersize=3)
        ax.set_xlabel("epoch")
        ax.set_title(label)
        ax.grid(alpha=0.3)
    figure.suptitle(title)
    figure.subplots_adjust(left=0.05, right=0.99, bottom=0.14, top=0.82, wspace=0.2)
    return save_figure(path, figure)


def _legend(ax: Axes, lines: int) -> None:
    # Past a dozen lines (an Optuna search) a legend hides the plot it explains.
    if 0 < lines <= 12:
        ax.legend(fontsize=8)


def _configurations(frame: pd.DataFrame, labels: dict[str, str]):
    """(label, rows, jobs) per configuration, in first-seen order: `labels` maps each job to
    its configuration's label, so a configuration's replicates (seeds) come as one group."""
    names = frame["job"].astype(str).map(labels)
    for name, rows in frame.groupby(names, sort=False):
        jobs = rows["job"].nunique()
        yield (name if jobs == 1 else f"{name} (n={jobs})"), rows, jobs


def _mean_with_band(
    ax: Axes, rows: pd.DataFrame, x: str, y: str, band: bool = True, **style: Any
) -> Any:
    """One configuration: its mean over replicates at each x, bold, with the 95 % Student-t
    band where at least two replicates reached that x (an accuracy's band clipped to
    [0, 1]), up to the last x every replicate reached; past it (runs stopped early) the
    replicates that ran on are drawn faint, one line each. Returns the mean's line."""
    points = [(v, summarize(group[y])) for v, group in rows.groupby(x, sort=True)]
    jobs = rows["job"].nunique() if "job" in rows else 1
    # Runs stopped early (patience, stop_accuracy) leave later epochs to the others: a mean
    # over the survivors would jump to whichever seed ran on. The mean stops at the last x
    # every replicate reached; past it each surviving replicate is drawn faint on its own.
    full = [v for v, s in points if s.n == jobs]
    last = max(full) if full and len(full) < len([1 for _, s in points if s.n]) else None
    if last is not None:
        points = [(v, s) for v, s in points if v <= last]
    xs = [v for v, s in points if s.n]
    means = [s.mean for _, s in points if s.n]
    (line,) = ax.plot(xs, means, **style)
    if last is not None:
        for _, job in rows[rows[x] >= last].groupby("job", sort=False):
            if (job[x] > last).any():
                ax.plot(job[x], job[y], color=line.get_color(), alpha=0.35, linewidth=0.8)
    # An accuracy cannot leave [0, 1]; a t interval on a few seeds can: clipped to it.
    top, bottom = (1.0, 0.0) if "accuracy" in y else (float("inf"), float("-inf"))
    spread = [(v, max(s.low, bottom), min(s.high, top)) for v, s in points if s.n >= 2]
    if band and spread:
        bx, low, high = zip(*spread)
        ax.fill_between(bx, low, high, color=line.get_color(), alpha=0.18, linewidth=0)
    return line


def plot_sweep_curves(history: pd.DataFrame, labels: dict[str, str], path: str | Path) -> Path:
    """Train loss, val loss and val accuracy per epoch: one line per configuration.

    `labels` maps each job to its configuration's label; a configuration with
    replicates is drawn as their mean with a 95 % CI band, labelled `(n=5)`."""
    figure = Figure(figsize=(15, 4.2))
    axes = figure.subplots(1, 3)
    count = 0
    for ax, (column, title) in zip(axes, CURVE_PANELS):
        count = 0
        for name, rows, _ in _configurations(history, labels):
            _mean_with_band(ax, rows, "epoch", column, marker="o", markersize=2, label=name)
            count += 1
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    _legend(axes[-1], count)
    figure.subplots_adjust(left=0.045, right=0.99, bottom=0.13, top=0.92, wspace=0.2)
    return save_figure(path, figure)


def plot_accuracy_vs_length(
    by_length: pd.DataFrame, labels: dict[str, str], path: str | Path, ylabel: str, title: str
) -> Path:
    """Accuracy per sequence length, one line per configuration, training lengths shaded.

    `labels` maps each job to its configuration's label; a configuration with
    replicates is drawn as their mean with a 95 % CI band, labelled `(n=5)`.
    Lengths beyond training (the `extrapolation` split) are drawn as separate
    markers joined by a dotted line, so they read as tested but never trained on.
    """
    figure = Figure(figsize=(9, 5))
    ax = figure.subplots()
    trained = by_length[by_length["split"] == "test"]["length"]
    ax.axvspan(
        trained.min() - 0.5, trained.max() + 0.5, color="0.92", zorder=0, label="training lengths"
    )
    count = 0
    for name, rows, _ in _configurations(by_length, labels):
        count += 1
        test = rows[rows["split"] == "test"]
        line = _mean_with_band(ax, test, "length", "accuracy", marker="o", markersize=3, label=name)
        beyond = rows[rows["split"] == "extrapolation"]
        if not beyond.empty:  # dotted from the last trained length, squares where tested
            joined = pd.concat([test[test["length"] == test["length"].max()], beyond])
            color = line.get_color()
            _mean_with_band(ax, joined, "length", "accuracy", linestyle=":", color=color)
            _mean_with_band(
                ax,
                beyond,
                "length",
                "accuracy",
                band=False,
                linestyle="none",
                marker="s",
                markersize=4,
                color=color,
            )
    ax.set_xlabel("sequence length")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    _legend(ax, count + 1)
    figure.subplots_adjust(left=0.1, right=0.98, bottom=0.1, top=0.93)
    return save_figure(path, figure)


def plot_digit_grid(
    images: Any, titles: list[str], wrong: list[bool], path: str | Path, title: str
) -> Path:
    """28x28 digits in a grid, each with its title; wrong ones in red with a red frame."""
    count = len(titles)
    cols = min(8, max(count, 1))
    rows = -(-count // cols)
    figure = Figure(figsize=(1.6 * cols, 1.9 * rows + 0.4))
    axes = figure.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_frame_on(False)
    for ax, image, text, bad in zip(axes.flat, images, titles, wrong):
        ax.imshow(image, cmap="gray", vmin=0.0, vmax=1.0)
        ax.set_title(text, fontsize=8, color="red" if bad else "black")
        if bad:
            ax.set_frame_on(True)
            for spine in ax.spines.values():
                spine.set_color("red")
                spine.set_linewidth(2)
    figure.suptitle(title)
    figure.tight_layout()
    return save_figure(path, figure)
