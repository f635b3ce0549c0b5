"""report.html: one self-contained page per sweep, written by the collect step.

Opened from disk in any browser, with no network: plotly.js, the page's own
JavaScript (`sweeper.reports.report_assets`) and the sweep's PNG figures (as base64 data
URIs) are all inside the file. It holds:

- the objective pivoted over the swept keys (the table of summary.md), and the best
  job; a multi-objective sweep (sweeper.sweeps.pareto) has no best job but a Pareto
  section: its Pareto-optimal jobs (a table), an interactive scatter over the first
  two objectives and pareto_front.png, and the search's Pareto-optimal trials;
- interactive plotly figures: the objective per configuration and the
  validation accuracy per epoch (hover a point for its job, click a legend entry
  to hide a configuration), and for Optuna searches the optimisation history;
- the results table, sortable and filterable; columns that hold one value in
  every job are listed once above it instead;
- failed jobs with their reasons, skipped folders and unusable files, and the
  trackers that failed in a job (metrics.json's `logger_errors`: `logger_failures`);
- for searches (trials.csv / best_trial.yaml in the folder) the best trial and
  every trial;
- every PNG figure in the sweep folder.

Every string that comes from a job folder (overrides, reasons, file names) is
HTML-escaped, and plotly writes its data as JSON with `<` escaped, so a reason
such as `<script>...` shows as text and never runs. A sweep without finished
jobs still gets a page that says so. plotly.js makes a page about 5 MB; it is
left out when the page has no interactive figure.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from sweeper.core.artifacts import write_text
from sweeper.core.metrics import split_description, sweep_headline
from sweeper.core.record import BadFile, read_bytes, run_status
from sweeper.records.files import REPORT
from sweeper.records.search import read_best, read_trials
from sweeper.reports import report_plots  # plotly: imported only when a report is written
from sweeper.reports.best import Best, best_job, listed
from sweeper.reports.pareto import Front, collected_front
from sweeper.reports.report_assets import CSS, ERROR_HOOK, TABLES
from sweeper.reports.report_tables import config_label, esc, fmt, html_table, pivot_html
from sweeper.reports.report_templates import fill
from sweeper.reports.results import FIRST, UNSET, Sweep, job_counts
from sweeper.reports.stats import metric_columns, no_value

# The page shows the sweep's training curves first, then every other PNG in the
# sweep folder by name (the tasks' own sweep figures), then the search's plots.
FIRST_FIGURES = ("curves.png",)
LAST_FIGURES = ("optimization_history.png", "param_slices.png")
# A multi-objective sweep's Pareto figure (sweeper.sweeps.pareto) shows in its own section.
PARETO_FIGURE = "pareto_front.png"
# results.csv columns the page shows elsewhere (header, job link) or not at all.
HIDDEN = ("objective_metric", "objective_direction", "job_dir")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SWEEP = "sweep folder"  # how a problem with the sweep's own files (not a job's) is listed
PROBLEMS = "Failed jobs, skipped folders, unusable files, logger failures"  # its heading


def best_row(results: pd.DataFrame) -> pd.Series | None:
    """The ok job with the best objective (its direction from metrics.json; the first of
    those that tie); None if none is ok, and None for a multi-objective sweep, which has a
    Pareto front instead (`best_jobs`)."""
    best = best_of(results)
    return None if best is None else best.row


def best_of(results: pd.DataFrame) -> Best | None:
    """The best job with its ties, values shown as the page shows them (`fmt`); None as
    for `best_row`."""
    if results.empty or collected_front(results) is not None:
        return None
    return best_job(results, fmt)


def best_jobs(results: pd.DataFrame) -> set[str]:
    """The jobs the page marks best: the best job and those that tie with it exactly, or
    every Pareto-optimal one."""
    front = collected_front(results)
    if front is not None:
        return {str(j) for j in front.best[FIRST]}
    best = best_of(results)
    return set() if best is None else set(best.tied)


def job_links(results: pd.DataFrame) -> dict[str, str]:
    """`job` -> a relative link to its folder (`adder/3/`), each path part URL-quoted."""
    return {str(j): "/".join(quote(p) for p in str(j).split("/")) + "/" for j in results[FIRST]}


def png_figures(folder: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """([(file name, data URI)], [(file name, why unusable)]) for the PNGs in the sweep folder
    (but pareto_front.png, which the Pareto section shows).

    A file that is not a regular file, too large, unreadable or not a PNG is left
    out with a reason; never raises for the folder's content."""
    try:
        names = sorted(p.name for p in folder.iterdir() if p.name.lower().endswith(".png"))
    except OSError as error:
        return [], [(SWEEP, f"cannot be listed ({error.strerror})")]
    known = (*FIRST_FIGURES, *LAST_FIGURES, PARETO_FIGURE)
    ordered = [
        *(n for n in FIRST_FIGURES if n in names),
        *(n for n in names if n not in known),
        *(n for n in LAST_FIGURES if n in names),
    ]
    return _data_uris(folder, ordered)


def _data_uris(
    folder: Path, names: list[str]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """([(file name, data URI)], [(SWEEP, why unusable)]) for the named PNGs of `folder`."""
    figures, problems = [], []
    for name in names:
        try:
            data = read_bytes(folder / name, name)
        except BadFile as why:
            problems.append((SWEEP, str(why)))
            continue
        if not data.startswith(PNG_MAGIC):
            problems.append((SWEEP, f"{name}: not a PNG image"))
            continue
        figures.append((name, "data:image/png;base64," + base64.b64encode(data).decode("ascii")))
    return figures, problems


def read_search(folder: Path) -> tuple[pd.DataFrame | None, dict | None, list[tuple[str, str]]]:
    """(trials.csv, best_trial.yaml, problems) of an Optuna search's folder; None where absent.

    A file that cannot be used (`sweeper.records.search`'s readers) is reported in
    `problems` with its reason, never raised."""
    problems: list[tuple[str, str]] = []
    try:
        trials = read_trials(folder)
    except BadFile as why:
        problems.append((SWEEP, str(why)))
        trials = None
    try:
        best = read_best(folder)
    except BadFile as why:
        problems.append((SWEEP, str(why)))
        best = None
    return trials, best, problems


def trials_view(trials: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """trials.csv as the page shows it: number, state, value (a multi-objective study: one
    `values_<metric>` column per objective and `pareto`), params, run status, seconds, job."""
    view = pd.DataFrame({"number": trials["number"], "state": trials["state"]})
    values = [c for c in trials.columns if c.startswith("values_")]
    if values:
        for column in values:
            view[column.removeprefix("values_")] = pd.to_numeric(trials[column], errors="coerce")
        if "pareto" in trials.columns:
            view["pareto"] = trials["pareto"].map(
                lambda v: "yes" if str(v).lower() == "true" else ""
            )
    else:
        view["value"] = trials["value"]
    for column in trials.columns:
        if column.startswith("params_"):
            view[column.removeprefix("params_")] = trials[column]
    if "user_attrs_status" in trials.columns:
        view["run status"] = trials["user_attrs_status"]
    if "duration" in trials.columns:
        view["seconds"] = pd.to_timedelta(trials["duration"], errors="coerce").dt.total_seconds()
    if "user_attrs_job_dir" in trials.columns:
        view["job"] = trials["user_attrs_job_dir"].map(lambda d: _relative(d, folder))
    return view


def _relative(path: Any, folder: Path) -> str:
    if not isinstance(path, str):
        return "–"
    try:
        return Path(path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:  # a trial another worker ran in another folder
        return path


@dataclass(frozen=True)
class Section:
    """A section of the page: its anchor (`<anchor>-section`), its link's text in the nav,
    its heading and its body (markup); a section with an empty body is left out."""

    anchor: str
    link: str
    title: str
    body: str


def _section(anchor: str, title: str, body: str) -> str:
    """A section's markup (section.html): `<section id="<anchor>-section">`, heading, body."""
    return fill("section.html", anchor=anchor, title=esc(title), body=body)


def _reasons(items: list[tuple[str, str]]) -> str:
    """(name, why) pairs as a list (reasons.html), each escaped."""
    lines = "".join(fill("reason.html", name=esc(name), why=esc(why)) for name, why in items)
    return fill("reasons.html", items=lines)


def _figures(figures: list[tuple[str, str]], problems: list[tuple[str, str]]) -> str:
    """(file name, data URI) as figures (figure.html), then those left out and why."""
    body = "".join(fill("figure.html", uri=uri, name=esc(name)) for name, uri in figures)
    return body + ("<p>Left out:</p>" + _reasons(problems) if problems else "")


def logger_failures(results: pd.DataFrame) -> list[tuple[str, str]]:
    """(job, line) for each tracker failure a job recorded (metrics.json's `logger_errors`,
    `mlflow: tracking URI ...: cannot reach it (...)`), in the table's order; a job whose
    metrics.json cannot be read again is left out (collect lists it already)."""
    if results.empty or "job_dir" not in results.columns:
        return []
    found = []
    for _, row in results.iterrows():
        record = run_status(row["job_dir"]).record if isinstance(row["job_dir"], str) else None
        errors = record.get("logger_errors") if isinstance(record, dict) else None
        if isinstance(errors, list):
            found += [(str(row[FIRST]), str(e)) for e in errors if isinstance(e, str)]
    return found


def report_html(
    sweep: Sweep,
    pivot: pd.DataFrame | None,
    legend: Sequence[str] = (),
    configs: dict[str, str] | None = None,
) -> str:
    """The whole page for a collected sweep; `pivot` is the summary's objective pivot,
    `legend` the lines that say what its cells are and which configuration is best,
    `configs` job -> configuration as the PNG figures name it (the swept keys but the
    replicate key), so the interactive figures give it the PNGs' colour.

    Never raises for the content of the sweep folder: unusable files are listed."""

    folder, results = sweep.folder, sweep.results
    trials, best_trial, problems = read_search(folder)
    front = None if results.empty else collected_front(results)
    labels = {str(r[FIRST]): config_label(r, sweep.swept) for _, r in results.iterrows()}
    pareto_plot = "" if front is None else report_plots.pareto_figure(front, labels)
    plots = [] if results.empty else report_plots.sweep_plots(sweep, labels, configs)
    if trials is not None:
        plots += report_plots.search_plots(trials, best_trial, _one_metric(results))
    nav, sections = shown(
        summary_section(sweep, pivot, legend, front),
        pareto_section(sweep, front, pareto_plot, search=trials is not None),
        Section("plots", "Interactive plots", "Interactive plots", "".join(plots)),
        Section("results", "Results", "Results", "" if results.empty else results_html(sweep)),
        Section("problems", "Failed and skipped", PROBLEMS, problems_html(sweep, problems)),
        Section("search", "Search", "Optuna search", search_html(trials, best_trial, folder)),
    )
    figures_section(folder, nav, sections)
    plotly_js = report_plots.plotly_js() if plots or pareto_plot else ""
    header = sweep_header(sweep, front)
    return page(f"sweeper report: {_name(folder)}", [header], nav, sections, plotly_js)


def shown(*sections: Section | None) -> tuple[list[tuple[str, str]], list[str]]:
    """([(anchor, link text)], [section markup]) of the sections that have a body."""
    kept = [s for s in sections if s is not None and s.body]
    return [(s.anchor, s.link) for s in kept], [_section(s.anchor, s.title, s.body) for s in kept]


def _name(folder: Path) -> str:
    """How the page names a sweep: its folder and the one above (`multirun/grid`)."""
    return f"{folder.parent.name}/{folder.name}" if folder.parent.name else folder.name


def _one_metric(results: pd.DataFrame) -> str | None:
    """The jobs' objective metric when they share one (the history's axis), else None."""
    metrics = [] if results.empty else results["objective_metric"].dropna().unique()
    return str(metrics[0]) if len(metrics) == 1 else None


def sweep_header(sweep: Sweep, front: Front | None) -> str:
    """The page's title and folder (header.html), then what was swept, the job counts, and
    the best job or the Pareto front; for a sweep without jobs, that it has none."""
    results, lines = sweep.results, []
    if results.empty:
        lines.append('<p class="empty">No finished jobs: nothing to tabulate yet.</p>')
    else:
        swept = ", ".join(f"<code>{esc(k)}</code>" for k in sweep.swept)
        counts = esc(job_counts(results, "collected jobs"))
        lines.append(
            f'<p class="meta">{_objective(results, front)}; {counts}'
            + (f"; swept: {swept}" if swept else "")
            + ".</p>"
        )
        best = best_of(results)
        if best is not None:
            lines.append(best_html(best, sweep.swept))
        if front is not None:
            lines.append(front_summary(front))
    heading = f"Sweep {esc(_name(sweep.folder))}"
    return fill("header.html", heading=heading, folder=esc(sweep.folder), lines="\n".join(lines))


def best_html(best: Best, swept: list[str]) -> str:
    """`Best: job 2 (model.hidden=5): 0.9990`, or when jobs tie exactly `Best: 6 jobs tie at
    1.0000 (jobs 0, ..., 5); job 0 is the first (...)`; then the jobs that only show the
    same value (sweeper.reports.best). The tied jobs are all marked in the results table."""
    row, label = best.row, esc(config_label(best.row, swept))
    tie = best.tie()
    if tie:
        head = f"{esc(tie)} ({label})"
    else:
        head = f"job <code>{esc(row[FIRST])}</code> ({label}): <b>{esc(best.value)}</b>"
    near = best.near()
    near = f" {esc(near[0].upper() + near[1:])}." if near else ""
    return f'<p class="best">Best: {head}{near}</p>'


def _objective(results: pd.DataFrame, front: Front | None) -> str:
    """`Objective <code>metric</code> (direction)`, or each objective of a multi-objective
    sweep."""
    if front is not None:
        if front.why:
            return "Objectives " + esc(front.spec)
        return "Objectives " + ", ".join(
            f"<code>{esc(m)}</code> ({esc(d)})" for m, d in zip(front.metrics, front.directions)
        )
    metric = ", ".join(sorted(results["objective_metric"].dropna().astype(str).unique()))
    direction = ", ".join(sorted(results["objective_direction"].dropna().astype(str).unique()))
    return f"Objective <code>{esc(metric)}</code> ({esc(direction)})"


def summary_section(
    sweep: Sweep, pivot: pd.DataFrame | None, legend: Sequence[str], front: Front | None
) -> Section | None:
    """The objective pivoted over the swept keys (the first objective of several); None
    without a pivot or without jobs."""
    if sweep.results.empty or pivot is None or pivot.empty:
        return None
    title = "Objective by configuration"
    if front is not None and front.metrics:
        title = f"{front.metrics[0]} (the first objective) by configuration"
    return Section("summary", "Summary", title, pivot_html(pivot, legend))


def pareto_section(sweep: Sweep, front: Front | None, plot: str, search: bool) -> Section | None:
    """A multi-objective sweep's Pareto front (`pareto_html`); None for one objective."""
    if front is None:
        return None
    return Section(
        "pareto", "Pareto front", "Pareto front", pareto_html(sweep, front, plot, search)
    )


def figures_section(folder: Path, nav: list, sections: list) -> None:
    """Append the folder's PNG figures (and those left out, with why) as a section."""
    figures, figure_problems = png_figures(folder)
    if figures or figure_problems:
        nav.append(("figures", "Figures"))
        sections.append(_section("figures", "Figures", _figures(figures, figure_problems)))


def page(
    title: str, head: Sequence[str], nav: Sequence, sections: Sequence[str], plotly_js: str
) -> str:
    """The self-contained page (page.html): styles, plotly.js (when a figure needs it), the
    header lines, a link per section (nav: (anchor, text)), the sections and the tables'
    script."""
    links = " ".join(f'<a href="#{a}-section">{esc(t)}</a>' for a, t in nav)
    return fill(
        "page.html",
        title=esc(title),
        error_hook=ERROR_HOOK,
        css=CSS,
        plotly=fill("plotly.html", plotly_js=plotly_js) if plotly_js else "",
        header="".join(head),
        nav=fill("nav.html", links=links) if links else "",
        sections="".join(sections),
        tables=TABLES,
    )


def front_summary(front: Front) -> str:
    """The page's headline for a multi-objective sweep: how many jobs are Pareto-optimal
    (none of them is beaten in every objective), or why none is ranked."""
    if front.why:
        return f'<p class="empty">Pareto front: {esc(front.why)}.</p>'
    jobs = ", ".join(f"<code>{esc(j)}</code>" for j in front.best[FIRST])
    return (
        f'<p class="best">{len(front.best)} Pareto-optimal job(s) of {len(front.ok)} ok '
        f"(no other job is as good in every objective and better in one): {jobs}. "
        'No single best: see <a href="#pareto-section">Pareto front</a>.</p>'
    )


def pareto_html(sweep: Sweep, front: Front, plot: str, search: bool) -> str:
    """The Pareto section: the Pareto-optimal jobs (a table: job, swept keys, each
    objective), the interactive figure `plot`, pareto_front.png when the folder has one,
    and for a search how to confirm one of them."""
    if front.why:
        return f'<p class="empty">{esc(front.why)}: no Pareto front.</p>'
    shown = [FIRST, *sweep.swept, *front.metrics]
    held_out = [m for m in sweep_headline(sweep.results) if split_description(m) == "test split"]
    extra = [c for c in held_out if c in front.best and c not in shown]  # the test figures
    table = front.best[[*shown, *extra]]
    body = (
        f'<p class="meta">Objectives: {esc(front.spec)}. Sorted by {esc(front.metrics[0])}; '
        "each row trades one objective for another.</p>"
    )
    body += html_table(table, "pareto", keys=tuple(sweep.swept), links=job_links(table))
    if search:
        body += (
            '<p class="meta">Re-run one of them over fresh seeds: <code>python -m '
            f"sweeper.confirm {esc(sweep.folder)} --trial N --seeds 5</code> "
            "(N: a trial number of the Pareto-optimal trials below).</p>"
        )
    body += plot
    path = sweep.folder / PARETO_FIGURE
    if path.exists() or path.is_symlink():
        body += _figures(*_data_uris(sweep.folder, [PARETO_FIGURE]))
    return body


def results_html(sweep: Sweep) -> str:
    """The results table; columns equal in every job are listed once above it."""
    results = sweep.results
    always = [FIRST, *sweep.swept, "status", "objective"]
    shown, constant = list(always), []
    for column in results.columns:
        if column in always or column in HIDDEN or results[column].isna().all():
            continue
        if column != "reason" and results[column].astype(str).nunique(dropna=False) == 1:
            constant.append((column, results[column].iloc[0]))
        else:
            shown.append(column)
    best = best_jobs(results)
    classes = [
        "is-best"
        if str(r[FIRST]) in best
        else {"ok": "", "pruned": "pruned"}.get(r["status"], "failed")
        for _, r in results.iterrows()
    ]
    body = ""
    if constant:
        same = ", ".join(f"<code>{esc(c)}={esc(fmt(v, key=True))}</code>" for c, v in constant)
        body += f'<p class="meta">Same in every job: {same}.</p>'
    body += html_table(
        results[shown],
        "results",
        keys=tuple(sweep.keys),
        row_class=classes,
        links=job_links(results),
    )
    return body


def problems_html(sweep: Sweep, problems: list[tuple[str, str]]) -> str:
    """Failed jobs and pruned trials (apart) with their reasons, skipped folders, unusable
    files, trackers that failed in a job (`logger_failures`); '' when there are none."""
    body = ""
    results = sweep.results
    if not results.empty:
        failed = results[~results["status"].isin(("ok", "pruned"))]
        pruned = results[results["status"] == "pruned"]  # stopped by a search's pruner
        for heading, jobs in (("Failed jobs", failed), ("Pruned trials", pruned)):
            if jobs.empty:
                continue
            items = [
                (f"job {r[FIRST]} ({config_label(r, sweep.swept)})", f"{r['status']}: {_reason(r)}")
                for _, r in jobs.iterrows()
            ]
            body += f"<h3>{heading} ({len(items)})</h3>" + _reasons(items)
        missing = no_value(results, metric_columns(results, sweep.keys))
        items = [
            (
                f"job {results.at[i, FIRST]} ({config_label(results.loc[i], sweep.swept)})",
                f"no value of {', '.join(m for m in missing.columns if flags[m])} "
                "(NaN, inf, null or missing): counted as failed for it, left out of its statistics",
            )
            for i, flags in missing.iterrows()
            if flags.any()
        ]
        if items:
            body += f"<h3>Jobs with no value of a metric ({len(items)})</h3>" + _reasons(items)
        rows = {str(r[FIRST]): r for _, r in results.iterrows()}
        items = [
            (f"job {job} ({config_label(rows[job], sweep.swept)})", line)
            for job, line in logger_failures(results)
        ]
        if items:  # the run trained; only the tracker missed it
            body += f"<h3>Logger failures ({len(items)})</h3>" + _reasons(items)
    if sweep.skipped:
        body += f"<h3>Skipped folders ({len(sweep.skipped)})</h3>" + _reasons(sweep.skipped)
    notes = [*sweep.notes, *problems]
    if notes:
        body += "<h3>Unusable files (their jobs are in the table)</h3>" + _reasons(notes)
    return body


def _reason(row: pd.Series) -> str:
    reason = row.get("reason")
    return UNSET if reason is None or (isinstance(reason, float) and math.isnan(reason)) else reason


def pareto_trials(best: dict | None) -> list[dict]:
    """best_trial.yaml's Pareto-optimal trials of a multi-objective search (`best_trials`:
    number, values, params, job_dir), those that are mappings; [] for any other file."""
    chosen = best.get("best_trials") if isinstance(best, dict) else None
    return [t for t in chosen if isinstance(t, dict)] if isinstance(chosen, list) else []


def search_html(trials: pd.DataFrame | None, best: dict | None, folder: Path) -> str:
    """The best trial (best_trial.yaml; a multi-objective search: its Pareto-optimal
    trials) and every trial (trials.csv)."""
    body = ""
    front = pareto_trials(best)
    multi = isinstance(best, dict) and ("best_trials" in best or "directions" in best)
    best_numbers: set[Any] = {t.get("number") for t in front}
    if best is not None:
        facts = {k: v for k, v in best.items() if k not in ("best", "best_trials")}
        body += "<h3>Study</h3><ul>" + "".join(
            f"<li>{esc(k)}: <code>{esc(_listed(v))}</code></li>" for k, v in facts.items()
        )
        body += "</ul>"
        chosen = best.get("best")
        if front:
            body += (
                f'<p class="best">{len(front)} Pareto-optimal trial(s): '
                + ", ".join(esc(t.get("number")) for t in front)
                + ". No single best trial: <code>sweeper.confirm --trial N</code> "
                "re-runs the one you pick.</p>"
            )
            body += _pareto_trials_table(front, folder)
        elif isinstance(chosen, dict):
            best_numbers = {chosen.get("number")}
            params = chosen.get("params") if isinstance(chosen.get("params"), dict) else {}
            shown = ", ".join(f"{k}={fmt(v, key=True)}" for k, v in params.items())
            body += (
                f'<p class="best">Best trial {esc(chosen.get("number"))}: '
                f"<b>{esc(fmt(chosen.get('value')))}</b> with <code>{esc(shown)}</code> "
                f"(job <code>{esc(_relative(chosen.get('job_dir'), folder))}</code>)"
                f"{esc(trial_ties(trials, chosen))}</p>"
            )
        else:
            message = "No Pareto-optimal trial yet." if multi else "No trial succeeded yet."
            body += f'<p class="empty">{message}</p>'
    if trials is not None:
        view = trials_view(trials, folder)
        states = view["state"].astype(str).value_counts()
        counts = ", ".join(f"{n} {esc(s.lower())}" for s, n in states.items())
        classes = [
            "is-best"
            if n in best_numbers
            else {"COMPLETE": "", "PRUNED": "pruned"}.get(s, "failed")
            for n, s in zip(view["number"], view["state"].astype(str))
        ]
        plain = ("number", "state", "value", "pareto", "run status", "seconds", "job")
        values = [c.removeprefix("values_") for c in trials.columns if c.startswith("values_")]
        params = tuple(c for c in view.columns if c not in (*plain, *values))
        body += f"<h3>Trials ({len(view)}: {counts})</h3>"
        body += html_table(view, "trials", keys=params, row_class=classes)
    return body


def trial_ties(trials: pd.DataFrame | None, chosen: dict) -> str:
    """`; 12 other complete trials tie with it at 1.0000 (trials 1, 4, ...)` when
    trials.csv has other complete trials with exactly the best value; '' otherwise."""
    value = chosen.get("value")
    if trials is None or "value" not in trials or "state" not in trials:
        return ""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return ""
    values = pd.to_numeric(trials["value"], errors="coerce")
    same = (trials["state"].astype(str) == "COMPLETE") & (values == float(value))
    others = [str(n) for n in trials.loc[same, "number"] if str(n) != str(chosen.get("number"))]
    if not others:
        return ""
    what = listed(others, "trials")
    count = f"{len(others)} other complete trial" + ("s tie" if len(others) > 1 else " ties")
    return f"; {count} with it at {fmt(float(value))} ({what})"


def _listed(value: Any) -> Any:
    """A list (a multi-objective study's metrics, directions) as `a, b`; else the value."""
    return ", ".join(map(str, value)) if isinstance(value, list) else value


def _pareto_trials_table(front: list[dict], folder: Path) -> str:
    """number, each objective's value, params, job of the Pareto-optimal trials."""
    rows = []
    for trial in front:
        row: dict[str, Any] = {"number": trial.get("number")}
        values = trial.get("values") if isinstance(trial.get("values"), dict) else {}
        params = trial.get("params") if isinstance(trial.get("params"), dict) else {}
        row.update(values)
        row.update(params)
        row["job"] = _relative(trial.get("job_dir"), folder)
        rows.append(row)
    frame = pd.DataFrame(rows)
    keys = tuple(k for t in front if isinstance(t.get("params"), dict) for k in t["params"])
    return html_table(frame, "pareto-trials", keys=keys)


def write_report(
    sweep: Sweep,
    pivot: pd.DataFrame | None,
    legend: Sequence[str] = (),
    configs: dict[str, str] | None = None,
) -> Path:
    """Write `report.html` into the sweep folder (atomically); returns its path. `legend`:
    lines shown above the pivot (`sweeper.collect.legend_lines`); `configs`: job ->
    configuration label, as the PNG figures got it (their colours).

    Raises OSError naming the file or folder if it cannot be written."""
    return write_text(sweep.folder / REPORT, report_html(sweep, pivot, legend, configs))
