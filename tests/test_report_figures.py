"""report.html's plotly figures follow the PNGs' rules (the PNGs' colour per configuration,
honest accuracy ranges, a marker and dash per configuration), and the PNGs' text fits
inside the figure (wrapped titles, short tick labels for diverged losses)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex

import sweeper.reports.plots as plots
from sweeper.reports import report_plots
from sweeper.reports.plot_style import accuracy_limits, palette, web_palette
from sweeper.reports.results import Sweep


def figure_json(page: str, div_id: str) -> tuple[list[dict], dict]:
    """The data and layout plotly wrote for `div_id` (`Plotly.newPlot("id", data, layout)`)."""
    start = re.search(rf'Plotly\.newPlot\(\s*"{div_id}",\s*', page)
    assert start, f"no figure {div_id}"
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(page, start.end())
    layout, _ = decoder.raw_decode(page, page.index("{", end))
    return data, layout


def grid_sweep(tmp_path: Path, count: int, accuracy=lambda i, epoch: 1.0) -> Sweep:
    """`count` jobs, one configuration each (model.hidden=1..count), val_accuracy per epoch."""
    jobs = [str(i) for i in range(count)]
    results = pd.DataFrame(
        {
            "job": jobs,
            "model.hidden": list(range(1, count + 1)),
            "status": "ok",
            "objective": [accuracy(i, 3) for i in range(count)],
            "objective_metric": "val_accuracy",
            "objective_direction": "maximize",
            "job_dir": [str(tmp_path / j) for j in jobs],
        }
    )
    history = pd.DataFrame(
        [
            {"job": j, "model.hidden": i + 1, "epoch": e, "val_accuracy": accuracy(i, e)}
            for i, j in enumerate(jobs)
            for e in (1, 2, 3)
        ]
    )
    return Sweep(tmp_path, results, history, pd.DataFrame(), ["model.hidden"], ["model.hidden"])


def configs_of(sweep: Sweep) -> dict[str, str]:
    return {str(r["job"]): f"model.hidden={r['model.hidden']}" for _, r in sweep.results.iterrows()}


def test_fourteen_configurations_get_fourteen_colours_as_the_pngs(tmp_path):
    """plotly's default cycle repeats after 10; the PNGs' palette does not."""
    sweep = grid_sweep(tmp_path, 14, accuracy=lambda i, e: 0.9 + 0.005 * i)
    configs = configs_of(sweep)
    page = "".join(report_plots.sweep_plots(sweep, configs, configs))
    data, _ = figure_json(page, "plot-curves")
    line_colours = [trace["line"]["color"] for trace in data]
    assert len(set(line_colours)) == 14
    png = palette(configs.values())  # what plots.py gives the same configurations
    assert line_colours == [to_hex(png[configs[str(j)]]["color"]) for j in range(14)]
    looks = {(t["marker"]["symbol"], t["line"]["dash"]) for t in data}
    assert len(looks) == 14  # identical curves still differ in marker and dash
    (points,), _ = figure_json(page, "plot-objective")
    assert len(set(points["marker"]["color"])) == 14
    assert points["marker"]["color"] == line_colours


def test_replicates_share_their_configurations_colour(tmp_path):
    sweep = grid_sweep(tmp_path, 4)
    configs = {"0": "a", "1": "a", "2": "b", "3": "b"}  # two seeds each
    page = "".join(report_plots.sweep_plots(sweep, configs_of(sweep), configs))
    data, _ = figure_json(page, "plot-curves")
    colours = [trace["line"]["color"] for trace in data]
    assert colours[0] == colours[1] != colours[2] == colours[3]


@pytest.mark.parametrize("values", [[1.0, 1.0, 1.0], [0.985, 1.0, 0.995], [0.4, 0.7, 0.95]])
def test_accuracy_axes_span_the_png_range(tmp_path, values):
    """The issue's inputs: -0.5..1.5 around all-1.0 objectives, 0.492..0.508 for a small gap."""
    sweep = grid_sweep(tmp_path, 3, accuracy=lambda i, e: values[i])
    labels = configs_of(sweep)
    page = "".join(report_plots.sweep_plots(sweep, labels))
    expected = list(accuracy_limits(values))
    _, curves = figure_json(page, "plot-curves")
    _, objective = figure_json(page, "plot-objective")  # one numeric key: objective on y
    assert "range" not in objective["xaxis"]  # model.hidden keeps its own axis
    for axis in (curves["yaxis"]["range"], objective["yaxis"]["range"]):
        assert axis == pytest.approx(expected)
        assert 0 <= axis[0] <= 1.0 - 0.1 and 1.0 <= axis[1] <= 1.03


def test_objective_per_configuration_row_gets_an_accuracy_axis(tmp_path):
    """Two swept keys: a row per configuration, the objective along x."""
    sweep = grid_sweep(tmp_path, 2)
    sweep.results["loss"] = ["mse", "ce"]
    sweep.swept.append("loss")
    page = report_plots.objective_figure(sweep, configs_of(sweep))
    _, layout = figure_json(page, "plot-objective")
    assert layout["xaxis"]["range"] == pytest.approx(list(accuracy_limits([1.0])))


def test_search_history_of_an_accuracy_gets_an_accuracy_axis():
    trials = pd.DataFrame(
        {"number": [0, 1, 2], "state": "COMPLETE", "value": [0.5, 0.98, 0.99], "params_lr": 0.1}
    )
    best = {"direction": "maximize", "best": {"objective_metric": "val_accuracy"}}
    (page,) = report_plots.search_plots(trials, best)
    _, layout = figure_json(page, "plot-history")
    assert layout["yaxis"]["range"] == pytest.approx(list(accuracy_limits([0.5, 0.98, 0.99])))
    trials["value"] = [3.0, 2.0, 1.0]  # a loss keeps plotly's autorange
    (page,) = report_plots.search_plots(trials, {"direction": "minimize"}, "val_loss")
    _, layout = figure_json(page, "plot-history")
    assert "range" not in layout.get("yaxis", {})


def test_web_palette_is_the_png_palette_in_plotly_terms():
    names = [f"c{i}" for i in range(30)]
    web, png = web_palette(names), palette(names)
    assert [w["color"] for w in web.values()] == [to_hex(p["color"]) for p in png.values()]
    assert len({(w["symbol"], w["dash"]) for w in web.values()}) == 30


# --- PNG text inside the figure ---


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


def clipped_texts(figure) -> list[str]:
    """The drawn texts of `figure` (titles, tick labels in view, legend, ...) that reach
    past its edges, by at least a pixel; the whole drawing must fit too."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = figure.bbox
    texts = list(figure.texts)  # suptitle, supxlabel, supylabel
    for ax in figure.axes:
        if not ax.get_visible():
            continue
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        texts += [ax.xaxis.get_offset_text(), ax.yaxis.get_offset_text()]
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            texts += [
                t.label1
                for t in axis.get_major_ticks()
                if t.label1.get_visible() and low - 1e-9 <= t.get_loc() <= high + 1e-9
            ]
    for legend in figure.legends:
        texts += legend.get_texts()
    out = []
    for text in texts:
        if not text.get_visible() or not text.get_text().strip():
            continue
        extent = text.get_window_extent(renderer)
        if (
            extent.x0 < box.x0 - 1
            or extent.x1 > box.x1 + 1
            or extent.y0 < box.y0 - 1
            or extent.y1 > box.y1 + 1
        ):
            out.append(text.get_text())
    whole = figure.get_tightbbox(renderer).transformed(figure.dpi_scale_trans)
    if whole.x0 < -1 or whole.y0 < -1 or whole.x1 > box.x1 + 1 or whole.y1 > box.y1 + 1:
        out.append(f"the drawing spans {whole.bounds}, the figure {box.bounds}")
    return out


def by_length(jobs: int) -> pd.DataFrame:
    rows = []
    for job in range(jobs):
        for length in range(1, 21):
            rows.append(dict(job=str(job), split="test", length=length, accuracy=1.0))
        rows.append(dict(job=str(job), split="extrapolation", length=24, accuracy=0.99))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_accuracy_vs_length_title_fits(tmp_path, drawn, jobs):
    """The issue's input: with 2 configurations the subtitle was cut at both edges."""
    labels = {str(j): f"model.hidden={3 + j}, loss=mse" for j in range(jobs)}
    title = "bit accuracy by length (2026-11-29/10-00-00)"
    plots.plot_accuracy_vs_length(
        by_length(jobs), labels, tmp_path / "a.png", "bit accuracy", title
    )
    assert clipped_texts(drawn[-1]) == []


def curves(losses: list[float]) -> pd.DataFrame:
    rows = []
    for job, top in enumerate(losses):
        for epoch in (1, 2, 3):
            rows.append(
                dict(
                    job=str(job),
                    epoch=epoch,
                    train_loss=top / epoch,
                    val_loss=top / epoch,
                    val_accuracy=0.5,
                )
            )
    return pd.DataFrame(rows)


def test_diverged_loss_tick_labels_fit(tmp_path, drawn):
    """The issue's input: a job whose loss reached ~8e5 had its tick labels cut ("00000")."""
    history = curves([0.7, 8.2e5])
    labels = {"0": "optim.lr=0.001", "1": "optim.lr=10"}
    losses = {"0": "ce", "1": "mse"}  # a row of loss panels each
    plots.plot_sweep_curves(history, labels, tmp_path / "curves.png", losses)
    assert clipped_texts(drawn[-1]) == []
    for ax in drawn[-1].axes[1:]:  # the loss panels: `8` under a `1e5` offset, not `800000`
        assert all(len(t.get_text()) <= 4 for t in ax.get_yticklabels())


def test_run_curves_long_title_fits(tmp_path, drawn):
    history = curves([8.2e5]).drop(columns="job")
    title = "run: " + " ".join(f"key{i}.setting=value{i}" for i in range(12))
    plots.plot_run_curves(history, tmp_path / "c.png", title)
    assert clipped_texts(drawn[-1]) == []
