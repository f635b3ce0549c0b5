"""The interactive plotly figures of report.html, each as an HTML fragment.

Each figure is written with `plotly.io.to_html(include_plotlyjs=False,
full_html=False)` and a fixed `div_id`, so collecting the same sweep again
gives the same bytes; the page inlines plotly.js once (`plotly_js`), so it
opens without a network. plotly writes the figure data as JSON with `<`
escaped (`\\u003c`), so labels from job folders cannot close the script.
plotly is imported here only, when a report is written: a job never pays for it.

The figures follow the PNGs' legibility rules (`sweeper.reports.plot_style`): each
configuration has the PNGs' colour and marker (`web_palette`, never plotly's
10-colour cycle, which repeats), plus a dash pattern, so identical curves stay
apart; every accuracy axis spans `accuracy_limits` (at least 0.9-1.0, never below
0), not plotly's autorange (-0.5 to 1.5 around a single 1.0, or 0.492-0.508 for a
1.5-point gap).
"""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

from sweeper.reports.pareto import Front
from sweeper.reports.plot_style import accuracy_limits, short_labels, web_palette
from sweeper.reports.plots import curve_panels
from sweeper.reports.results import FIRST, Sweep
from sweeper.reports.stats import metric_range

LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=50, b=50), height=420)
CONFIG = {"displaylogo": False, "responsive": True}


def plotly_js() -> str:
    """plotly.js itself (about 4.8 MB), to be inlined once in the page's head."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _html(figure: Any, div_id: str) -> str:
    import plotly.io as pio

    return (
        '<div class="plot">'
        + pio.to_html(figure, include_plotlyjs=False, full_html=False, div_id=div_id, config=CONFIG)
        + "</div>"
    )


def _hover(*lines: str) -> str:
    """Hover text: plotly reads a few tags (`<br>`) in it, so text from job folders is escaped."""
    return "<br>".join(html.escape(line, quote=False) for line in lines)


def _g(value: Any) -> str:
    """A parameter value: numbers with 6 significant digits, anything else as text."""
    return f"{value:.6g}" if isinstance(value, (int, float)) else str(value)


def _finite(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers.map(lambda v: not pd.isna(v) and math.isfinite(v))


def _is_accuracy(metric: str | None) -> bool:
    """Whether `metric` (or each of `a, b`) is an accuracy (values in [0, 1]:
    `stats.metric_range`)."""

    names = [m.strip() for m in str(metric or "").split(",") if m.strip()]
    return bool(names) and all(metric_range(m) == (0.0, 1.0) for m in names)


def _accuracy_range(values: Any) -> list[float]:
    """[bottom, top] of an accuracy axis for `values`, as the PNGs (`accuracy_limits`)."""

    numbers = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").dropna()
    return list(accuracy_limits(float(v) for v in numbers))


def _styles(configs: dict[str, str]) -> dict[str, dict[str, str]]:
    """Job -> its configuration's `color`, `symbol` and `dash` (`plot_style.web_palette`
    over the configurations of `configs`, in first-seen order, as the PNGs)."""

    styles = web_palette(configs.values())
    return {job: styles[name] for job, name in configs.items()}


DEFAULT_STYLE = {"color": "#7f7f7f", "symbol": "circle", "dash": "solid"}


def objective_figure(
    sweep: Sweep, labels: dict[str, str], configs: dict[str, str] | None = None
) -> str:
    """The objective of every ok job against its configuration; '' when no job has one.

    One numeric swept key (an Optuna learning rate): a scatter over that key, on
    a log axis when it spans a factor of 10 or more. Otherwise a dot per job on
    a row per configuration, so repeated seeds show as several dots. `configs`: job ->
    configuration (colours and markers as the PNGs; default `labels`). An accuracy
    objective gets an accuracy axis (`accuracy_limits`)."""
    import plotly.graph_objects as go

    styles = _styles(configs or labels)

    results = sweep.results
    ok = results[(results["status"] == "ok") & _finite(results["objective"])]
    if ok.empty:
        return ""
    metric = ", ".join(sorted(ok["objective_metric"].dropna().astype(str).unique())) or "objective"
    names = [labels[str(j)] for j in ok[FIRST]]
    hover = [_hover(f"job {j}", n) for j, n in zip(ok[FIRST], names)]
    look = [styles.get(str(j), DEFAULT_STYLE) for j in ok[FIRST]]
    marker = dict(color=[m["color"] for m in look], symbol=[m["symbol"] for m in look])
    accuracy = _accuracy_range(ok["objective"]) if _is_accuracy(metric) else None
    figure = go.Figure()
    keys = sweep.swept
    if len(keys) == 1 and pd.api.types.is_numeric_dtype(ok[keys[0]]):
        x = ok[keys[0]].astype(float)
        figure.add_trace(
            go.Scatter(
                x=x, y=ok["objective"], mode="markers", text=hover, marker=dict(size=9, **marker)
            )
        )
        logarithmic = bool((x > 0).all() and x.max() >= 10 * x.min())
        figure.update_xaxes(title_text=keys[0], type="log" if logarithmic else "linear")
        figure.update_yaxes(title_text=metric, range=accuracy)
        figure.update_layout(**LAYOUT)
    else:
        order = list(dict.fromkeys(names))
        figure.add_trace(
            go.Scatter(
                x=ok["objective"],
                y=names,
                mode="markers",
                text=hover,
                marker=dict(size=10, **marker),
            )
        )
        figure.update_yaxes(
            categoryorder="array", categoryarray=order[::-1], title_text="", automargin=True
        )
        figure.update_xaxes(title_text=metric, range=accuracy)
        figure.update_layout(**{**LAYOUT, "height": max(260, 110 + 28 * len(order))})
    figure.update_traces(hovertemplate="%{text}<br>objective %{y:.4f}<extra></extra>")
    if not (len(keys) == 1 and pd.api.types.is_numeric_dtype(ok[keys[0]])):
        figure.update_traces(hovertemplate="%{text}<br>objective %{x:.4f}<extra></extra>")
    figure.update_layout(title_text=f"{metric} per configuration (ok jobs)", showlegend=False)
    return _html(figure, "plot-objective")


def curves_figure(
    sweep: Sweep, labels: dict[str, str], configs: dict[str, str] | None = None
) -> str:
    """The validation score per epoch (`curve_panels`: accuracy, a regression's RMSE), a
    line per job; '' without history.csv files.

    A job's line has its configuration's colour, marker and dash (`configs`: job ->
    configuration, default `labels`); the y axis spans `accuracy_limits`."""
    import plotly.graph_objects as go

    styles = _styles(configs or labels)

    history = sweep.history
    score, title = curve_panels(history.columns)[2]  # val_accuracy, a regression's val_rmse
    if history.empty or not {"epoch", score} <= set(history.columns):
        return ""
    names = labels
    repeated = pd.Series(list(names.values())).duplicated(keep=False).any()
    figure = go.Figure()
    for job, rows in history.groupby(FIRST, sort=False):
        name = names.get(str(job), f"job {job}")
        name = f"{name} (job {job})" if repeated or not sweep.swept else name
        rows = rows.sort_values("epoch")
        look = styles.get(str(job), DEFAULT_STYLE)
        figure.add_trace(
            go.Scatter(
                x=rows["epoch"],
                y=rows[score],
                mode="lines+markers",
                name=name,
                marker=dict(size=6, color=look["color"], symbol=look["symbol"]),
                line=dict(color=look["color"], dash=look["dash"]),
                text=[_hover(f"job {job}")] * len(rows),
                hovertemplate=f"%{{text}}<br>epoch %{{x}}<br>{title} %{{y:.4f}}<extra></extra>",
            )
        )
    figure.update_xaxes(title_text="epoch", dtick=1 if history["epoch"].max() <= 20 else None)
    accuracy = score.endswith("accuracy")  # a fraction in [0, 1]: the accuracy range
    figure.update_yaxes(
        title_text=title, range=_accuracy_range(history[score]) if accuracy else None
    )
    figure.update_layout(
        **LAYOUT,
        title_text=f"{title} per epoch (click a legend entry to hide it)",
        legend=dict(font=dict(size=11)),
    )
    return _html(figure, "plot-curves")


def sweep_plots(
    sweep: Sweep, labels: dict[str, str], configs: dict[str, str] | None = None
) -> list[str]:
    """The figures every collected sweep gets (none empty); `labels`: job -> legend name,
    its numbers rounded as in the PNG figures (`plot_style.short_labels`); `configs`: job
    -> its configuration as the PNGs name it (the swept keys but the replicate key), so
    each configuration gets the PNGs' colour and marker (default: `labels`)."""

    short = short_labels(list(labels.values()))
    labels = {job: short[name] for job, name in labels.items()}
    figures = (objective_figure(sweep, labels, configs), curves_figure(sweep, labels, configs))
    return [html for html in figures if html]


def search_plots(trials: pd.DataFrame, best: dict | None, metric: str | None = None) -> list[str]:
    """An Optuna search's history: each finished trial's value and the best so far; none for
    a multi-objective search (no single best so far: its Pareto figure shows the trials).
    `metric`: the objective's metric (else best_trial.yaml's); an accuracy gets an
    accuracy axis (`accuracy_limits`)."""
    import plotly.graph_objects as go

    multi = "pareto" in trials.columns or any(c.startswith("values_") for c in trials.columns)
    if multi or (isinstance(best, dict) and "directions" in best):
        return []
    done = trials[(trials["state"].astype(str) == "COMPLETE") & _finite(trials["value"])]
    done = done.sort_values("number")
    if done.empty:
        return []
    minimize = isinstance(best, dict) and str(best.get("direction", "")).lower() == "minimize"
    values = done["value"].astype(float)
    best_so_far = values.cummin() if minimize else values.cummax()
    params = [c for c in trials.columns if c.startswith("params_")]
    hover = [
        _hover(
            f"trial {row['number']}", *(f"{c.removeprefix('params_')}={_g(row[c])}" for c in params)
        )
        for _, row in done.iterrows()
    ]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=done["number"],
            y=values,
            mode="markers",
            name="trial value",
            text=hover,
            marker=dict(size=9),
            hovertemplate="%{text}<br>value %{y:.4f}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=done["number"],
            y=best_so_far,
            mode="lines",
            name="best so far",
            line=dict(shape="hv", width=2),
            hovertemplate="best so far %{y:.4f}<extra></extra>",
        )
    )
    figure.update_xaxes(title_text="trial number", dtick=1 if len(trials) <= 20 else None)
    if metric is None and isinstance(best, dict) and isinstance(best.get("best"), dict):
        metric = best["best"].get("objective_metric")
    accuracy = _accuracy_range(values) if _is_accuracy(metric) else None
    figure.update_yaxes(title_text=metric or "objective value", range=accuracy)
    figure.update_layout(**LAYOUT, title_text="optimisation history")
    return [_html(figure, "plot-history")]


def pareto_figure(front: Front, labels: dict[str, str]) -> str:
    """The ok jobs of a multi-objective sweep over its first two objectives, the
    Pareto-optimal ones highlighted and joined in order; '' when no job is ranked.

    Hover a point for its job, configuration and every objective's value."""
    import plotly.graph_objects as go

    if front.why or len(front.metrics) < 2:
        return ""
    x_metric, y_metric = front.metrics[:2]
    x_text, y_text = (html.escape(m, quote=False) for m in (x_metric, y_metric))  # from files
    on_front = set(front.best[FIRST].astype(str))
    figure = go.Figure()
    for name, rows, style in (
        ("other ok jobs", front.ok[~front.ok[FIRST].astype(str).isin(on_front)], "markers"),
        ("Pareto-optimal", front.best.sort_values(x_metric), "lines+markers"),
    ):
        if rows.empty:
            continue
        hover = [
            _hover(
                f"job {row[FIRST]}",
                labels.get(str(row[FIRST]), ""),
                *(f"{m} {_g(row[m])}" for m in front.metrics),
            )
            for _, row in rows.iterrows()
        ]
        figure.add_trace(
            go.Scatter(
                x=rows[x_metric].astype(float),
                y=rows[y_metric].astype(float),
                mode=style,
                name=name,
                text=hover,
                marker=dict(size=11 if name == "Pareto-optimal" else 8),
                hovertemplate="%{text}<extra></extra>",
            )
        )
    arrows = {"maximize": "higher is better", "minimize": "lower is better"}
    ranges = [
        _accuracy_range(front.ok[m]) if _is_accuracy(m) else None for m in (x_metric, y_metric)
    ]
    figure.update_xaxes(
        title_text=f"{x_text} ({arrows.get(front.directions[0], '')})", range=ranges[0]
    )
    figure.update_yaxes(
        title_text=f"{y_text} ({arrows.get(front.directions[1], '')})", range=ranges[1]
    )
    more = (
        f"; {len(front.metrics) - 2} more objective(s) in the hover"
        if len(front.metrics) > 2
        else ""
    )
    figure.update_layout(**LAYOUT, title_text=f"Pareto front over {x_text} and {y_text}{more}")
    return _html(figure, "plot-pareto")
