"""Matplotlib figures of runs and sweeps, written straight to PNG files.

Figures are built with matplotlib's object API (`Figure`), not pyplot: no
backend or display is involved, nothing global keeps them alive, and a job
does not pay pyplot's import (~0.1 s) to draw its curves. Each is built and
saved inside `plot_style.figure_style()`, so a global style change (Optuna's
plots set `ggplot`) never reaches them; `sweeper.reports.plot_style` also gives the
colours, markers, rounded labels and accuracy ranges that keep 1 to 30
configurations legible:

- a configuration has one colour and one marker in every sweep figure;
- accuracy axes span at least 0.9-1.0 (a 0.06 % dip does not fill the axis);
- epochs and lengths get whole-number ticks;
- losses of different kinds (mse, ce) get their own axes, never one shared one;
- the legend sits beside the axes, in more columns past 18 lines;
- accuracy by length: one panel per configuration (the others in grey behind), so
  lines that all sit at 1.0 cannot hide each other; lines and bands only between
  neighbouring measured lengths, never across one that was not measured.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sweeper.core.artifacts import save_figure
from sweeper.reports.plot_style import (
    accuracy_limits,
    figure_style,
    integer_ticks,
    legend_columns,
    palette,
    short_labels,
    wrap_title,
)
from sweeper.reports.stats import metric_range, summarize

LOSS_PANELS = (("train_loss", "training loss"), ("val_loss", "validation loss"))


def curve_panels(columns: Any) -> tuple[tuple[str, str], ...]:
    """(history column, title) of the three curve panels: the two losses, then the
    validation score, the first `val_` metric after the loss (history.csv lists the
    target kind's score first: `val_accuracy`, a regression's `val_rmse`)."""
    scores = [c for c in columns if str(c).startswith("val_") and c != "val_loss"]
    score = scores[0] if scores else "val_accuracy"
    return (*LOSS_PANELS, (score, "validation " + score.removeprefix("val_").replace("_", " ")))


SHADE = "0.88"  # the training lengths' background
OTHERS = "0.78"  # the other configurations behind a small multiple


def plot_run_curves(history: pd.DataFrame, path: str | Path, title: str) -> Path:
    """The assignment's three panels for one run: train loss, val loss, val score per epoch.

    Drawn once per job. Like every figure here it has fixed margins, not tight_layout,
    which would measure every label first: 0.14 s instead of 0.26 s a figure, which a
    sweep of second-long jobs notices."""
    with figure_style():
        figure = Figure(figsize=(13, 3.8))
        axes = figure.subplots(1, 3)
        for ax, (column, label) in zip(axes, curve_panels(history.columns)):
            if column not in history:  # a history without a validation score
                ax.set_axis_off()
                continue
            ax.plot(history["epoch"], history[column], marker="o", markersize=3)
            _epoch_axis(ax, column, history[column])
            ax.set_title(label)
        text = wrap_title(title, 12.5, 12)
        figure.suptitle(text)
        extra = text.count("\n") * 0.22 / 3.8  # a wrapped title's further lines, in figure
        figure.subplots_adjust(left=0.05, right=0.99, bottom=0.14, top=0.82 - extra, wspace=0.2)
        return save_figure(path, figure)


def _epoch_axis(ax: Axes, column: str, values: Any) -> None:
    ax.set_xlabel("epoch")
    integer_ticks(ax)
    if "accuracy" in column:
        ax.set_ylim(*accuracy_limits(values))
    else:  # losses are >= 0: from 0, so a small change is drawn small
        ax.set_ylim(bottom=0)


def _configurations(frame: pd.DataFrame, labels: dict[str, str]):
    """(label, rows, jobs) per configuration, in the order of `labels` (first-seen): `labels`
    maps each job to its configuration's label, so a configuration's replicates (seeds)
    come as one group. The label's numbers are rounded (`plot_style.short_labels`)."""
    names = frame["job"].astype(str).map(labels)
    order = {name: i for i, name in enumerate(dict.fromkeys(labels.values()))}
    short = short_labels(list(order))
    groups = sorted(frame.groupby(names, sort=False), key=lambda g: order.get(g[0], len(order)))
    for name, rows in groups:
        jobs = rows["job"].nunique()
        shown = short.get(name, name)
        yield (shown if jobs == 1 else f"{shown} (n={jobs})"), rows, jobs


def _colours(configurations: list[Any], labels: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each shown configuration's colour and marker: `palette` over every configuration of
    `labels` (first-seen order), not only those this figure draws, so a configuration has
    the same colour in every figure of the sweep and in report.html (`report_plots`)."""
    styles = palette(labels.values())
    return {
        shown: styles[labels[str(rows["job"].iloc[0])]]
        for shown, rows, _ in configurations
        if str(rows["job"].iloc[0]) in labels
    } or palette(name for name, _, _ in configurations)


def measured_step(values: Any) -> float | None:
    """The spacing of the x values a figure measured (the smallest gap between two of
    them: 1 for lengths 1..20); None with fewer than two. Two measured x values further
    apart than this have an unmeasured x between them, where nothing is drawn (`gapped`)."""
    xs = sorted({float(v) for v in pd.to_numeric(pd.Series(list(values)), errors="coerce")})
    xs = [v for v in xs if math.isfinite(v)]
    gaps = [b - a for a, b in zip(xs, xs[1:]) if b > a]
    return min(gaps) if gaps else None


def runs(xs: list[float], step: float | None) -> list[list[int]]:
    """The positions of `xs` (sorted) split into runs of neighbours: a new run starts
    where two consecutive x values are more than `step` apart (an x between them was not
    measured). One run when `step` is None."""
    if not xs:
        return []
    out = [[0]]
    for i in range(1, len(xs)):
        if step is not None and xs[i] - xs[i - 1] > step * (1 + 1e-9):
            out.append([])
        out[-1].append(i)
    return out


def gapped(xs: list[float], ys: list[float], step: float | None) -> tuple[list, list]:
    """`xs`, `ys` with a NaN between two runs (`runs`): a line drawn through them stops at
    an unmeasured x instead of crossing it; the markers stay at the measured ones."""
    out_x: list[float] = []
    out_y: list[float] = []
    for run in runs(list(xs), step):
        if out_x:
            out_x.append(math.nan)
            out_y.append(math.nan)
        out_x += [xs[i] for i in run]
        out_y += [ys[i] for i in run]
    return out_x, out_y


def _band(ax: Axes, piece: list[tuple[float, float, float]], color: Any) -> None:
    """The interval over one run of neighbouring x values, (x, low, high) each: filled,
    or a vertical bar at an x that stands alone (a fill over one x would not show)."""
    bx, low, high = (list(t) for t in zip(*piece))
    if len(piece) == 1:
        ax.vlines(bx, low, high, color=color, alpha=0.35, linewidth=4)
    else:
        ax.fill_between(bx, low, high, color=color, alpha=0.18, linewidth=0)


def _mean_with_band(
    ax: Axes,
    rows: pd.DataFrame,
    x: str,
    y: str,
    band: bool = True,
    step: float | None = None,
    **style: Any,
) -> Any:
    """One configuration: its mean over replicates at each x, bold, with the 95 % Student-t
    band where at least two replicates reached that x (clipped to the metric's range:
    [0, 1] for an accuracy, >= 0 for a loss), up to the last x every replicate reached;
    past it (runs stopped early) the replicates that ran on are drawn faint, one line
    each. With `step` (`measured_step`), lines and bands stop where two x values are
    further apart (an x never measured lies between them: a gap stays a gap) and where
    an x has fewer than two replicates (no band); a band point alone is a vertical bar.
    Returns the mean's line."""
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
    (line,) = ax.plot(*gapped(xs, means, step), **style)
    if last is not None:
        for _, job in rows[rows[x] >= last].groupby("job", sort=False):
            if (job[x] > last).any():
                job = job.sort_values(x)
                jx, jy = gapped(list(job[x]), list(job[y]), step)
                ax.plot(jx, jy, color=line.get_color(), alpha=0.35, linewidth=0.8)
    # An accuracy cannot leave [0, 1], nor a loss go below 0; a t interval on a few seeds
    # can: clipped to the metric's range (stats.metric_range) unless a value lies outside.
    bounds = metric_range(y)
    if bounds is not None and not rows[y].dropna().between(*bounds).all():
        bounds = None
    bottom, top = bounds if bounds is not None else (float("-inf"), float("inf"))
    if band:
        # a band's run also ends at an x with fewer than two replicates (no interval there)
        spread = [(v, s) for v, s in points if s.n]
        for run in runs([v for v, _ in spread], step):
            part = [spread[i] for i in run]
            pieces: list[list[tuple[float, float, float]]] = [[]]
            for v, s in part:
                if s.n >= 2:
                    pieces[-1].append((v, max(s.low, bottom), min(s.high, top)))
                elif pieces[-1]:
                    pieces.append([])
            for piece in pieces:
                if piece:
                    _band(ax, piece, line.get_color())
    return line


def _drawn(*axes: Axes) -> list[float]:
    """Every y value drawn on `axes`: the lines (means, faint replicates, grey others) and
    the bands' edges, so an axis limit taken from them cuts no band (finite ones only)."""
    values: list[float] = []
    for ax in axes:
        for line in ax.get_lines():
            values += [float(v) for v in line.get_ydata()]
        for collection in ax.collections:  # fill_between's bands
            for path in collection.get_paths():
                values += [float(v) for v in path.vertices[:, 1]]
    return [v for v in values if math.isfinite(v)]


def _legend_beside(figure: Figure, handles: list[Any], names: list[str], plot_width: float) -> None:
    """A legend right of the axes, `plot_width` inches of figure left for them; the
    figure is widened to fit it."""
    columns = legend_columns(len(names))
    longest = max((len(n) for n in names), default=0)
    width = columns * (0.6 + 0.066 * longest)  # inches, at fontsize 8
    height = figure.get_size_inches()[1]
    figure.set_size_inches(plot_width + width, height)
    figure.legend(
        handles,
        names,
        loc="center left",
        bbox_to_anchor=(plot_width / (plot_width + width), 0.5),
        ncol=columns,
        handlelength=2.5,
    )


def plot_sweep_curves(
    history: pd.DataFrame,
    labels: dict[str, str],
    path: str | Path,
    losses: dict[str, str] | None = None,
) -> Path:
    """Train loss, val loss and val accuracy per epoch: one line per configuration.

    `labels` maps each job to its configuration's label; a configuration with
    replicates is drawn as their mean with a 95 % CI band, labelled `(n=5)`.
    `losses` maps jobs to their loss name (`loss.name`): each loss gets its own
    row of loss panels (an MSE and a cross-entropy are not on one scale); the
    accuracy panel spans the rows."""
    configurations = list(_configurations(history, labels))
    kind_of = {}
    for name, rows, _ in configurations:
        job = str(rows["job"].iloc[0])
        value = (losses or {}).get(job)
        kind_of[name] = "" if value is None or pd.isna(value) else str(value)
    kinds = list(dict.fromkeys(kind_of.values())) or [""]
    colours = _colours(configurations, labels)
    with figure_style():
        figure = Figure(figsize=(13.5, 2.6 + 1.6 * len(kinds)))
        grid = figure.add_gridspec(len(kinds), 3)
        accuracy = figure.add_subplot(grid[:, 2])
        handles = []
        for row, kind in enumerate(kinds):
            suffix = f" ({kind})" if kind else ""
            panels = [figure.add_subplot(grid[row, 0]), figure.add_subplot(grid[row, 1])]
            for ax, (column, title) in zip(panels, LOSS_PANELS):
                for name, rows, _ in configurations:
                    if kind_of[name] == kind:
                        _mean_with_band(ax, rows, "epoch", column, markersize=3, **colours[name])
                _epoch_axis(ax, column, history[column])
                ax.set_title(title + suffix)
        column, score_title = curve_panels(history.columns)[2]
        for name, rows, _ in configurations:
            handles.append(
                _mean_with_band(accuracy, rows, "epoch", column, markersize=3, **colours[name])
            )
        _epoch_axis(accuracy, column, _drawn(accuracy))  # the bands too, not just the means
        accuracy.set_title(score_title)
        _legend_beside(figure, handles, [name for name, _, _ in configurations], 13.5)
        width = figure.get_size_inches()[0]
        figure.subplots_adjust(
            left=0.6 / width, right=13.4 / width, bottom=0.12, top=0.9, wspace=0.22, hspace=0.45
        )
        return save_figure(path, figure)


def plot_accuracy_vs_length(
    by_length: pd.DataFrame, labels: dict[str, str], path: str | Path, ylabel: str, title: str
) -> Path:
    """Accuracy per sequence length per configuration, training lengths shaded.

    `labels` maps each job to its configuration's label; a configuration with
    replicates is drawn as their mean with a 95 % CI band, labelled `(n=5)`.
    Lengths beyond training (the `extrapolation` split) are drawn as squares, joined
    by a dotted line only to a neighbouring measured length, so they read as tested
    but never trained on. Lines and bands are drawn only between neighbouring measured
    lengths (`measured_step`: lengths 1..20 and 30, 40 leave 21..29 and 31..39 empty),
    never across a length that was not measured. One
    configuration gets one panel; several get a small panel each (its line in
    colour, the others in grey behind), since most of them sit exactly at 1.0,
    where lines in one panel would hide each other.
    """
    configurations = list(_configurations(by_length, labels))
    colours = _colours(configurations, labels)
    trained = by_length[by_length["split"] == "test"]["length"]
    span = (trained.min() - 0.5, trained.max() + 0.5)
    step = measured_step(by_length["length"])
    with figure_style():
        if len(configurations) <= 1:
            figure = Figure(figsize=(9, 5))
            ax = figure.subplots()
            ax.axvspan(*span, color=SHADE, zorder=0, linewidth=0)
            handles = [
                _length_line(ax, rows, colours[name], step=step) for name, rows, _ in configurations
            ]
            _length_axis(ax, accuracy_limits(_drawn(ax)))  # the bands too, not just the means
            ax.set_ylabel(ylabel)
            ax.set_xlabel("sequence length")
            ax.set_title(wrap_title(title, 8, 12))
            names = [name for name, _, _ in configurations]
            handles.append(Patch(color=SHADE))
            names.append("training lengths (shaded)")
            _legend_beside(figure, handles, names, 9)
            width = figure.get_size_inches()[0]
            lines = ax.get_title().count("\n")
            top = 0.93 - lines * 0.24 / 5
            figure.subplots_adjust(left=0.9 / width, right=8.9 / width, bottom=0.1, top=top)
        else:
            text = (
                f"{title}\nshaded: training lengths; squares: lengths never trained on; "
                "grey: the other configurations"
            )
            figure = _small_multiples(configurations, colours, span, text, step)
            figure.supxlabel("sequence length")
            figure.supylabel(ylabel)
        return save_figure(path, figure)


def _length_line(
    ax: Axes,
    rows: pd.DataFrame,
    colour: dict[str, Any],
    markersize: int = 4,
    step: float | None = None,
) -> Any:
    """One configuration's test accuracy by length (solid, markers), and its extrapolation
    lengths (squares, dotted between neighbouring lengths: from the last trained length
    only when it is the next one measured). `step`: see `measured_step`."""
    test = rows[rows["split"] == "test"]
    line = _mean_with_band(
        ax, test, "length", "accuracy", step=step, markersize=markersize, **colour
    )
    beyond = rows[rows["split"] == "extrapolation"]
    if not beyond.empty:  # dotted between neighbours, squares where tested
        last = test[test["length"] == test["length"].max()]
        adjacent = not last.empty and (
            step is None or beyond["length"].min() - last["length"].max() <= step
        )
        joined = pd.concat([last, beyond]) if adjacent else beyond
        color = colour["color"]
        _mean_with_band(ax, joined, "length", "accuracy", step=step, linestyle=":", color=color)
        _mean_with_band(
            ax,
            beyond,
            "length",
            "accuracy",
            band=False,
            linestyle="none",
            marker="s",
            markersize=markersize + 1,
            color=color,
        )
    return line


def _length_axis(ax: Axes, limits: tuple[float, float]) -> None:
    ax.set_ylim(*limits)
    integer_ticks(ax)


def _small_multiples(
    configurations: list[Any],
    colours: dict[str, dict[str, Any]],
    span: tuple[float, float],
    title: str,
    step: float | None = None,
) -> Figure:
    """One small panel per configuration: its line in colour over the others in grey; one
    accuracy range for all, spanning every panel's lines and bands; under `title` wrapped
    to the figure's width (the figure grows to hold its lines)."""
    count = len(configurations)
    columns = math.ceil(math.sqrt(count * 1.4))
    rows_ = math.ceil(count / columns)
    width = 2.7 * columns + 0.6
    title = wrap_title(title, width - 0.3, 10)
    title_height = 0.2 * (title.count("\n") + 1)  # inches, at fontsize 10
    figure = Figure(figsize=(width, 2.25 * rows_ + 0.6 + title_height))
    figure.suptitle(title, fontsize=10)
    axes = figure.subplots(rows_, columns, sharex=True, sharey=True, squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    grey = {}  # each configuration's mean test accuracy by length, computed once
    for name, rows, _ in configurations:
        test = rows[rows["split"] == "test"]
        grey[name] = test.groupby("length")["accuracy"].agg(lambda v: summarize(v).mean)
    for ax, (name, rows, _) in zip(axes.flat, configurations):
        ax.axvspan(*span, color=SHADE, zorder=0, linewidth=0)
        for other, means in grey.items():
            if other != name:
                gx, gy = gapped(list(means.index), list(means.to_numpy()), step)
                ax.plot(gx, gy, color=OTHERS, linewidth=0.8)
        _length_line(ax, rows, colours[name], markersize=3, step=step)
        ax.set_title(textwrap.fill(name, 34), fontsize=8)
        ax.tick_params(labelsize=7)
    limits = accuracy_limits(_drawn(*axes.flat[:count]))
    for ax in axes.flat[:count]:
        _length_axis(ax, limits)
    width, height = figure.get_size_inches()
    figure.subplots_adjust(
        left=0.85 / width,
        right=1 - 0.1 / width,
        bottom=0.6 / height,
        top=1 - (0.4 + title_height) / height,
        hspace=0.4,
        wspace=0.1,
    )
    return figure


def plot_digit_grid(
    images: Any, titles: list[str], wrong: list[bool], path: str | Path, title: str
) -> Path:
    """28x28 digits in a grid, each with its title; wrong ones in red with a red frame."""
    count = len(titles)
    cols = min(8, max(count, 1))
    rows = -(-count // cols)
    with figure_style():
        figure = Figure(figsize=(1.6 * cols, 1.9 * rows + 0.4))
        axes = figure.subplots(rows, cols, squeeze=False)
        for ax in axes.flat:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_frame_on(False)
            ax.grid(False)
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
