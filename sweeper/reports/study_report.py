"""report.html for a search of any Hydra app: the study itself, without job records.

sweeper's own sweeps get their page from the collect step (sweeper.reports.report),
which reads each job's metrics.json. A plain Hydra app's jobs keep no such record,
so its search's page is drawn from what the search wrote into the sweep folder:
trials.csv and best_trial.yaml (the best trial, or a multi-objective study's
Pareto-optimal trials), the interactive optimisation history, and the PNG figures
(Optuna's history, slice and Pareto plots). Self-contained like the collect page:
plotly.js and the PNGs are inside the file, every string from the folder is escaped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sweeper.core.artifacts import write_text
from sweeper.reports.report import REPORT, _reasons, _section, png_figures, read_search, search_html
from sweeper.reports.report_assets import CSS, ERROR_HOOK, TABLES
from sweeper.reports.report_tables import esc
from sweeper.sweeps.objectives import Objective

__all__ = ["study_report_html", "write_study_report"]


def study_report_html(study_name: str, folder: Path, objective: Objective) -> str:
    """The page for the search in `folder` (its trials.csv, best_trial.yaml, PNGs)."""
    from sweeper.reports import report_plots  # plotly: imported only when a report is written

    trials, best, problems = read_search(folder)
    described = ", ".join(
        f"<code>{esc(m)}</code> ({esc(d)})" for m, d in zip(objective.metrics, objective.directions)
    )
    head = [
        f"<h1>Search {esc(study_name)}</h1>",
        f'<p class="meta">{esc(folder)}</p>',
        f'<p class="meta">Objective {described}.</p>',
    ]
    sections, nav = [], []
    plots = report_plots.search_plots(trials, best, None) if trials is not None else []
    if plots:
        nav.append(("plots", "Interactive plots"))
        sections.append(_section("plots", "Interactive plots", "".join(plots)))
    nav.append(("search", "Search"))
    body = search_html(trials, best, folder)
    if trials is None:
        body += '<p class="empty">No finished trials yet.</p>'
    if problems:
        body += "<p>Unusable files:</p>" + _reasons(problems)
    sections.append(_section("search", "Optuna search", body))
    figures, figure_problems = png_figures(folder)
    if figures or figure_problems:
        nav.append(("figures", "Figures"))
        shown = "".join(
            f'<figure><img src="{uri}" alt="{esc(n)}"><figcaption>{esc(n)}</figcaption></figure>'
            for n, uri in figures
        )
        if figure_problems:
            shown += "<p>Left out:</p>" + _reasons(figure_problems)
        sections.append(_section("figures", "Figures", shown))
    links = " ".join(f'<a href="#{a}-section">{esc(t)}</a>' for a, t in nav)
    plotly_js = report_plots.plotly_js() if plots else ""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>sweeper search: {esc(study_name)}'
        '</title><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<script>{ERROR_HOOK}</script><style>{CSS}</style>"
        + (f'<script type="text/javascript">{plotly_js}</script>' if plotly_js else "")
        + "</head><body>"
        + "".join(head)
        + f"<nav>{links}</nav>"
        + '<pre id="js-errors"></pre>'
        + "".join(sections)
        + f"<script>{TABLES}</script></body></html>\n"
    )


def write_study_report(study: Any, folder: Path, objective: Objective) -> Path:
    """Write `report.html` for `study` into the sweep `folder` (atomically); its path.

    Raises OSError naming the file if it cannot be written."""
    return write_text(folder / REPORT, study_report_html(study.study_name, folder, objective))
