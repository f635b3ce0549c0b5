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
from sweeper.core.objectives import Objective
from sweeper.reports import report_plots  # plotly: imported only when a report is written
from sweeper.reports.report import (
    REPORT,
    _reasons,
    _section,
    figures_section,
    page,
    read_search,
    search_html,
)
from sweeper.reports.report_tables import esc
from sweeper.reports.report_templates import fill

__all__ = ["study_report_html", "write_study_report"]


def study_report_html(study_name: str, folder: Path, objective: Objective) -> str:
    """The page for the search in `folder` (its trials.csv, best_trial.yaml, PNGs)."""

    trials, best, problems = read_search(folder)
    described = ", ".join(
        f"<code>{esc(m)}</code> ({esc(d)})" for m, d in zip(objective.metrics, objective.directions)
    )
    head = fill(
        "header.html",
        heading=f"Search {esc(study_name)}",
        folder=esc(folder),
        lines=f'<p class="meta">Objective {described}.</p>',
    )
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
    figures_section(folder, nav, sections)
    plotly_js = report_plots.plotly_js() if plots else ""
    return page(f"sweeper search: {study_name}", [head], nav, sections, plotly_js)


def write_study_report(study: Any, folder: Path, objective: Objective) -> Path:
    """Write `report.html` for `study` into the sweep `folder` (atomically); its path.

    Raises OSError naming the file if it cannot be written."""
    return write_text(folder / REPORT, study_report_html(study.study_name, folder, objective))
