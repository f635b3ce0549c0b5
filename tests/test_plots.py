"""Sweep figures stay legible: own style, distinct colours, rounded labels, honest ranges."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import matplotlib.style
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from sweeper.reports import plots
from sweeper.reports.plot_style import accuracy_limits, colors, legend_columns, short_labels
from sweeper.reports.results import load_sweep

LONG_LR = "optim.lr=0.004430375245218269"


@pytest.fixture
def drawn(monkeypatch):
    """The Figures the plot functions save, kept for inspection (and still written)."""
    figures = []
    real = plots.save_figure

    def keep(path, figure):
        figures.append(figure)
        return real(path, figure)

    monkeypatch.setattr(plots, "save_figure", keep)
    return figures


def by_length_frame(accuracies: dict[str, list[float]], extrapolation: float = 1.0):
    """One job per entry: test accuracy per length 1.., one extrapolation length 30."""
    rows = []
    for job, values in accuracies.items():
        for length, accuracy in enumerate(values, start=1):
            rows.append(dict(job=job, split="test", length=length, accuracy=accuracy))
        rows.append(dict(job=job, split="extrapolation", length=30, accuracy=extrapolation))
    return pd.DataFrame(rows)


def is_coloured(line) -> bool:
    return to_rgba(line.get_color()) != to_rgba(plots.OTHERS)


def history_frame(jobs: int, epochs: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(
                job=str(j),
                epoch=e,
                train_loss=1 / e + j,
                val_loss=1 / e,
                val_accuracy=min(1.0, 0.9 + 0.05 * e),
            )
            for j in range(jobs)
            for e in range(1, epochs + 1)
        ]
    )


def test_short_labels_round_numbers_but_keep_configurations_apart():
    short = short_labels([LONG_LR, "optim.lr=0.0011, model.hidden=10", "optim.lr=1e-05"])
    assert short[LONG_LR] == "optim.lr=0.00443"
    assert short["optim.lr=0.0011, model.hidden=10"] == "optim.lr=0.0011, model.hidden=10"
    assert short["optim.lr=1e-05"] == "optim.lr=1e-05"
    close = short_labels(["optim.lr=0.0044301", "optim.lr=0.0044309"])
    assert len(set(close.values())) == 2  # more digits where 3 would merge them
    assert short_labels(["job 12", "model=lstm"]) == {
        "job 12": "job 12",
        "model=lstm": "model=lstm",
    }


@pytest.mark.parametrize("count", [1, 6, 12, 20, 30])
def test_every_configuration_gets_its_own_colour(count):
    assert len({to_rgba(c) for c in colors(count)}) == count


def test_accuracy_limits_do_not_let_a_tiny_dip_fill_the_axis():
    bottom, top = accuracy_limits([1.0, 0.9994, 1.0])  # a 0.06 % dip
    assert bottom == pytest.approx(0.9) and 1.0 < top < 1.01
    assert accuracy_limits([0.3178, 1.0])[0] == pytest.approx(0.25)
    assert accuracy_limits([0.0, 1.0])[0] == 0.0
    assert accuracy_limits([float("nan"), 1.0])[0] == pytest.approx(0.9)


def test_legend_gets_columns_past_eighteen_lines():
    assert [legend_columns(n) for n in (1, 12, 18, 19, 30)] == [1, 1, 1, 2, 2]


def test_accuracy_vs_length_shows_each_overlapping_configuration(tmp_path, drawn):
    """Six configurations, four at exactly 1.0 everywhere: each gets a panel with its own
    coloured line; the y range is 0.9-1.0 despite a 0.06 % dip; lengths tick at integers."""
    accuracies = {str(j): [1.0] * 20 for j in range(6)}
    accuracies["1"][16] = 0.9994
    labels = {
        str(j): f"model.hidden={h}, loss={loss}"
        for j, (h, loss) in enumerate([(h, loss) for h in (3, 5, 10) for loss in ("mse", "ce")])
    }
    path = plots.plot_accuracy_vs_length(
        by_length_frame(accuracies), labels, tmp_path / "acc.png", "bit accuracy", "t"
    )
    assert path.read_bytes()[:4] == b"\x89PNG"
    (figure,) = drawn
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == list(labels.values())
    own = [
        next(line for line in ax.lines if line.get_linestyle() == "-" and is_coloured(line))
        for ax in panels
    ]
    assert len({to_rgba(line.get_color()) for line in own}) == 6
    assert all(len(line.get_xdata()) == 20 for line in own)
    for ax in panels:
        assert ax.get_ylim()[0] == pytest.approx(0.9)
        assert ax.get_ylim()[1] > 1.0  # points at 1.0 inside the frame
        assert all(float(t).is_integer() for t in ax.get_xticks())


def test_thirty_configurations_get_thirty_panels_and_rounded_titles(tmp_path, drawn):
    accuracies = {str(j): [1.0 - 0.01 * j] * 5 for j in range(30)}
    labels = {str(j): f"optim.lr={0.0001 * 1.37**j!r}" for j in range(30)}
    plots.plot_accuracy_vs_length(by_length_frame(accuracies), labels, tmp_path / "a.png", "y", "t")
    (figure,) = drawn
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible()]
    assert len(titles) == 30
    assert all(len(re.sub(r"\D", "", t)) <= 8 for t in titles)  # no 18-digit numbers


def test_curves_put_mse_and_ce_losses_on_separate_axes(tmp_path, drawn):
    history = history_frame(4)
    labels = {str(j): f"loss={'mse' if j < 2 else 'ce'}, seed={j}" for j in range(4)}
    losses = {str(j): "mse" if j < 2 else "ce" for j in range(4)}
    plots.plot_sweep_curves(history, labels, tmp_path / "curves.png", losses)
    (figure,) = drawn
    lines = {ax.get_title(): len(ax.lines) for ax in figure.axes}
    assert lines == {
        "training loss (mse)": 2,
        "validation loss (mse)": 2,
        "training loss (ce)": 2,
        "validation loss (ce)": 2,
        "validation accuracy": 4,
    }
    for ax in figure.axes:
        assert ax.get_ylim()[0] == pytest.approx(0.9 if "accuracy" in ax.get_title() else 0.0)


def test_curves_legend_lists_every_configuration_past_twelve(tmp_path, drawn):
    history = history_frame(20)
    labels = {str(j): f"optim.lr={0.001 * 1.1**j!r}" for j in range(20)}
    plots.plot_sweep_curves(history, labels, tmp_path / "curves.png")
    (figure,) = drawn
    (legend,) = figure.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert len(texts) == 20 and texts[0] == "optim.lr=0.001"
    assert len({to_rgba(h.get_color()) for h in legend.legend_handles}) == 20


def test_figures_ignore_and_keep_a_global_style(tmp_path, drawn):
    """Optuna sets ggplot globally; our figures are drawn in their own style and leave the
    caller's rcParams as they were."""
    with matplotlib.rc_context():
        matplotlib.style.use("ggplot")
        before = dict(matplotlib.rcParams)
        plots.plot_sweep_curves(
            history_frame(3), {"0": "a", "1": "b", "2": "c"}, tmp_path / "c.png"
        )
        plots.plot_run_curves(history_frame(1), tmp_path / "r.png", "run")
        assert dict(matplotlib.rcParams) == before
    for figure in drawn:
        for ax in figure.axes:
            assert to_rgba(ax.get_facecolor()) == to_rgba("white")


def test_search_plots_restore_the_global_style(tmp_path):
    optuna = pytest.importorskip("optuna")
    from sweeper.reports.search_files import _plots

    study = optuna.create_study(direction="maximize")
    study.optimize(lambda t: t.suggest_float("lr", 1e-4, 1e-1, log=True), n_trials=3)
    matplotlib.use("Agg")  # as _plots does: the backend is not a style
    before = dict(matplotlib.rcParams)
    _plots(study, tmp_path)
    assert (tmp_path / "optimization_history.png").is_file()
    after = dict(matplotlib.rcParams)
    assert after["axes.facecolor"] == before["axes.facecolor"]  # ggplot's is grey
    assert {k: v for k, v in after.items() if "backend" not in k} == {
        k: v for k, v in before.items() if "backend" not in k
    }


def test_report_plots_round_labels_like_the_png_figures(fake_search):
    from sweeper.reports import report_plots
    from sweeper.reports.report import config_label

    sweep = load_sweep(fake_search)
    labels = {str(r["job"]): config_label(r, sweep.swept) for _, r in sweep.results.iterrows()}
    assert "optim.lr=0.00443038" in labels.values()
    page = "".join(report_plots.sweep_plots(sweep, labels))
    assert "optim.lr=0.00443" in page and "optim.lr=0.00443038" not in page


# --- lines and bands only where lengths were measured ---


def gaps_frame(test_lengths, extrapolation=(30, 40), configs=1, seeds=2) -> tuple:
    """by_length rows and labels: `configs` configurations x `seeds` replicates."""
    rows, labels = [], {}
    for c in range(configs):
        for s in range(seeds):
            job = f"{c}-{s}"
            labels[job] = f"model.hidden={c + 3}"
            for split, lengths in (("test", test_lengths), ("extrapolation", extrapolation)):
                for length in lengths:
                    accuracy = 0.95 + 0.01 * s + 0.001 * length / 40
                    rows.append(dict(job=job, split=split, length=length, accuracy=accuracy))
    return pd.DataFrame(rows), labels


def measured_runs(lengths) -> list[tuple[float, float]]:
    """The (first, last) of each run of neighbouring lengths (step 1)."""
    lengths = sorted(set(lengths))
    out = [[lengths[0], lengths[0]]]
    for v in lengths[1:]:
        if v - out[-1][1] <= 1:
            out[-1][1] = v
        else:
            out.append([v, v])
    return [tuple(r) for r in out]


def assert_only_measured(figure, lengths) -> None:
    """No line segment and no filled band of `figure` crosses a length that was not measured."""
    runs = measured_runs(lengths)

    def inside(lo: float, hi: float) -> bool:
        return any(a - 1e-9 <= lo and hi <= b + 1e-9 for a, b in runs)

    for ax in figure.axes:
        for line in ax.get_lines():
            xs = [float(v) for v in line.get_xdata()]
            for x0, x1 in zip(xs, xs[1:]):
                if x0 == x0 and x1 == x1 and line.get_linestyle() not in ("None", "none", ""):
                    assert inside(min(x0, x1), max(x0, x1)), (x0, x1)
        for collection in ax.collections:
            for path in collection.get_paths():
                xs = path.vertices[:, 0]
                assert inside(float(xs.min()), float(xs.max())), (xs.min(), xs.max())


@pytest.mark.parametrize("configs", [1, 3])  # one panel; small multiples with grey others
def test_no_line_or_band_crosses_an_unmeasured_length(tmp_path, drawn, configs):
    test_lengths = [1, 2, 3, 7, 8, 9, 10]  # 4..6 never measured
    frame, labels = gaps_frame(test_lengths, configs=configs)
    plots.plot_accuracy_vs_length(frame, labels, tmp_path / "a.png", "accuracy", "t")
    assert_only_measured(drawn[-1], [*test_lengths, 30, 40])


def test_a_lone_measured_length_gets_its_interval_as_a_bar(tmp_path, drawn):
    frame, labels = gaps_frame(list(range(1, 21)))
    plots.plot_accuracy_vs_length(frame, labels, tmp_path / "a.png", "accuracy", "t")
    ax = drawn[-1].axes[0]
    bars = [c for c in ax.collections if c.__class__.__name__ == "LineCollection"]
    xs = sorted({float(v) for bar in bars for p in bar.get_paths() for v in p.vertices[:, 0]})
    assert xs == [30.0, 40.0]  # the extrapolation lengths' 95 % intervals, nothing between
    filled = [c for c in ax.collections if c.__class__.__name__ != "LineCollection"]
    spans = [
        (p.vertices[:, 0].min(), p.vertices[:, 0].max()) for c in filled for p in c.get_paths()
    ]
    assert spans and all(hi <= 20 for _, hi in spans)  # the band stops at length 20


def test_an_extrapolation_length_next_to_training_is_still_joined(tmp_path, drawn):
    frame, labels = gaps_frame(list(range(1, 11)), extrapolation=(11, 12, 20))
    plots.plot_accuracy_vs_length(frame, labels, tmp_path / "a.png", "accuracy", "t")
    dotted = [ln for ln in drawn[-1].axes[0].get_lines() if ln.get_linestyle() == ":"]
    xs = [float(v) for v in dotted[0].get_xdata()]
    assert xs[:3] == [10.0, 11.0, 12.0] and xs[-1] == 20.0 and xs[3] != xs[3]  # NaN: the gap
    assert_only_measured(drawn[-1], [*range(1, 13), 20])


def test_measured_step_and_runs():
    assert plots.measured_step([1, 2, 3, 30, 40]) == 1
    assert plots.measured_step([5, 10, 20]) == 5
    assert plots.measured_step([7]) is None
    assert plots.runs([1, 2, 3, 30, 40], 1) == [[0, 1, 2], [3], [4]]
    assert plots.runs([1, 2, 30], None) == [[0, 1, 2]]
    xs, ys = plots.gapped([1, 2, 30], [0.1, 0.2, 0.3], 1)
    assert xs[:2] == [1, 2] and xs[3] == 30 and xs[2] != xs[2]


# --- plot axes include the confidence bands ---


@pytest.fixture
def drawn_unsaved(monkeypatch) -> list[Figure]:
    """The figures plots.py would save, kept for their axes and not written."""
    figures: list[Figure] = []

    def keep(path, figure):
        figures.append(figure)
        return Path(path)

    monkeypatch.setattr(plots, "save_figure", keep)
    return figures


def _band_edges(ax) -> tuple[float, float]:
    ys = [v for c in ax.collections for p in c.get_paths() for v in p.vertices[:, 1]]
    return min(ys), max(ys)


def test_curves_accuracy_axis_includes_the_bands(drawn_unsaved):
    rows, labels = [], {}
    rng = np.random.default_rng(0)
    for config in range(6):
        for seed in range(5):
            job = f"{config}-{seed}"
            labels[job] = f"model.hidden={config + 3}"
            spread = 0.25 if config == 0 else 0.01
            final = min(1.0, 0.75 + rng.normal(0, spread))
            for epoch in (1, 2, 3):
                acc = max(0.0, min(1.0, final - (3 - epoch) * 0.02))
                rows.append(
                    dict(job=job, epoch=epoch, train_loss=0.5, val_loss=0.4, val_accuracy=acc)
                )
    plots.plot_sweep_curves(pd.DataFrame(rows), labels, "curves.png")
    (figure,) = drawn_unsaved
    (accuracy,) = [ax for ax in figure.axes if ax.get_title() == "validation accuracy"]
    low, high = _band_edges(accuracy)
    bottom, top = accuracy.get_ylim()
    assert low < 0.6  # the wide configuration's band reaches below its mean's axis
    assert 0.0 <= bottom <= low and top >= high and high <= 1.0


@pytest.mark.parametrize("configs", [1, 3])
def test_accuracy_by_length_axes_include_the_bands(drawn_unsaved, configs):
    rows, labels = [], {}
    for config in range(configs):
        for seed in range(5):
            job = f"{config}-{seed}"
            labels[job] = f"model.hidden={config + 3}"
            for length in (1, 2, 3):
                # length 1 swings from seed to seed: its band reaches far below the means
                acc = 0.6 + 0.1 * seed if length == 1 else 0.99
                rows.append(dict(job=job, split="test", length=length, accuracy=acc))
            rows.append(dict(job=job, split="extrapolation", length=5, accuracy=0.9))
    plots.plot_accuracy_vs_length(pd.DataFrame(rows), labels, "by_length.png", "acc", "t")
    (figure,) = drawn_unsaved
    axes = [ax for ax in figure.axes if ax.get_visible() and ax.collections]
    assert len(axes) == configs
    for ax in axes:
        low, high = _band_edges(ax)
        bottom, top = ax.get_ylim()
        assert low < 0.7 and 0.0 <= bottom <= low and top >= high and high <= 1.0
