"""What a search writes from its study at the end: its records and Optuna's figures.

`write_search_files(study, sweep_dir, storage, objective, details)` writes the
records (`sweeper.records.search`: trials.csv, best_trial.yaml,
optimization_results.yaml; for several objectives pareto_front.csv too) and
Optuna's matplotlib figures: the optimisation history (with PRUNED trials
marked) and parameter slices, or for several objectives the Pareto front and
one history per objective, drawn over the successful trials only so a failed
trial's -inf/inf does not squash the axes. A figure that cannot be drawn is
skipped with a log line: the tables are the record.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sweeper.core.artifacts import save_figure
from sweeper.core.objectives import Objective
from sweeper.records.search import write_best, write_front, write_trials
from sweeper.reports.pareto import non_dominated

__all__ = [
    "METRICS_ATTR",
    "finished_trials",
    "front_table",
    "mark_pruned",
    "masked_url",
    "succeeded",
    "trials_frame",
    "write_search_files",
]

log = logging.getLogger(__name__)

METRICS_ATTR = "objective_metrics"  # the study's user attr naming its objective metric(s)


def masked_url(url: str | None) -> str:
    """The storage URL without its password, for logs and files."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url) if url else "in memory"


def finished_trials(study: Any) -> list[Any]:
    """The study's COMPLETE, FAIL and PRUNED trials."""
    import optuna

    done = (
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.FAIL,
        optuna.trial.TrialState.PRUNED,
    )
    return [t for t in study.get_trials(deepcopy=False) if t.state in done]


def succeeded(trial: Any) -> bool:
    """A trial whose run finished with status ok and a finite value."""
    ok = trial.user_attrs.get("status", "ok") == "ok"
    return ok and trial.value is not None and math.isfinite(trial.value)


def mark_pruned(axes: Any, study: Any) -> None:
    """Draw the study's PRUNED trials (their last reported value) on Optuna's history plot."""
    import optuna

    pruned = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.PRUNED,))
    points = [(t.number, t.value) for t in pruned if t.value is not None]
    if not points:
        return
    numbers, values = zip(*points)
    axes.scatter(
        numbers, values, marker="x", color="tab:gray", zorder=3, label="Pruned (last epoch value)"
    )
    axes.legend(loc="best")


def _plots(study: Any, sweep_dir: Path) -> None:
    """Optuna's history and slice plots; one that cannot be drawn is skipped with a log line.

    Optuna's matplotlib plots set the `ggplot` style globally: undone after them."""
    import matplotlib

    matplotlib.use("Agg")
    from optuna.visualization import matplotlib as optuna_plots

    # matplotlib logs "Using categorical units ..." at INFO for every choice() parameter
    logging.getLogger("matplotlib.category").setLevel(logging.WARNING)

    for name, plot in (
        ("optimization_history.png", optuna_plots.plot_optimization_history),
        ("param_slices.png", optuna_plots.plot_slice),
    ):
        try:
            with warnings.catch_warnings(), matplotlib.rc_context():  # style restored after
                warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
                axes = plot(study)
                first = axes.flat[0] if hasattr(axes, "flat") else axes
                if plot is optuna_plots.plot_optimization_history:
                    mark_pruned(first, study)
                save_figure(sweep_dir / name, first.figure)
        except Exception as error:  # a plot is optional; the tables are the record
            log.warning("skipped %s: %s: %s", name, type(error).__name__, error)


def write_search_files(
    study: Any,
    sweep_dir: Path,
    storage: str | None,
    objective: Objective | None = None,
    details: Callable[[str | None], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Write trials.csv, best_trial.yaml, optimization_results.yaml, plots; the best record.

    A multi-objective study (`objective` names its metrics) gets pareto_front.csv and
    its plots instead, and the record lists every Pareto-optimal trial.
    `details(job_dir)` adds what the jobs know of the best run to its record (sweeper's
    jobs: their metrics, `sweeper.jobs.SweeperJobs.best_details`); none by default."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    trials = finished_trials(study)
    if len(study.directions) > 1:
        if objective is None:  # a study sweeper created names its metrics
            metrics = study.user_attrs.get(METRICS_ATTR) or [
                f"objective_{i}" for i in range(len(study.directions))
            ]
            directions = [d.name.lower() for d in study.directions]
            objective = Objective(tuple(metrics), tuple(directions))
        good = [
            t for t in trials if t.values is not None and t.user_attrs.get("status", "ok") == "ok"
        ]
        record = {
            "study": study.study_name,
            "storage": masked_url(storage),
            "finished_trials": len(trials),
            "failed_trials": len(trials) - len(good),
            "pruned_trials": 0,  # Optuna cannot prune a multi-objective study
        }
        return _write_multi(study, objective, sweep_dir, record)
    write_trials(sweep_dir, study.trials_dataframe())
    good = [t for t in trials if succeeded(t)]
    pruned = [t for t in trials if t.state.name == "PRUNED"]
    record: dict[str, Any] = {
        "study": study.study_name,
        "storage": masked_url(storage),
        "direction": study.direction.name.lower(),
        "finished_trials": len(trials),
        "failed_trials": len(trials) - len(good) - len(pruned),
        "pruned_trials": len(pruned),
    }
    if good:
        pick = min if study.direction.name == "MINIMIZE" else max
        best = pick(good, key=lambda t: t.value)
        record["best"] = {
            "number": best.number,
            "value": best.value,
            "params": best.params,
            "job_dir": best.user_attrs.get("job_dir"),
            **(details(best.user_attrs.get("job_dir")) if details else {}),
        }
    write_best(sweep_dir, record)
    if good:
        _plots(study, sweep_dir)
    return record


def _good(trials: Sequence[Any]) -> list[Any]:
    """COMPLETE trials whose run was ok and whose values are all finite."""
    import optuna

    return [
        t
        for t in trials
        if t.state == optuna.trial.TrialState.COMPLETE
        and t.user_attrs.get("status", "ok") == "ok"
        and t.values is not None
        and all(math.isfinite(v) for v in t.values)
    ]


def front_table(study: Any, objective: Objective) -> pd.DataFrame:
    """pareto_front.csv: number, one column per objective metric, params_*, job_dir; the
    non-dominated successful trials, best first by the first objective."""
    good = _good(study.get_trials(deepcopy=False))
    best = [good[i] for i in non_dominated([t.values for t in good], objective.directions)]
    rows = []
    for trial in best:
        row: dict[str, Any] = {"number": trial.number}
        row.update(dict(zip(objective.metrics, trial.values)))
        row.update({f"params_{k}": v for k, v in trial.params.items()})
        row["job_dir"] = trial.user_attrs.get("job_dir")
        rows.append(row)
    columns = ["number", *objective.metrics]
    frame = pd.DataFrame(rows, columns=columns if not rows else None)
    if rows:
        first = objective.metrics[0]
        frame = frame.sort_values(
            [first, "number"], ascending=[objective.directions[0] == "minimize", True]
        )
    return frame.reset_index(drop=True)


def _pareto_plots(study: Any, objective: Objective, sweep_dir: Path) -> None:
    """pareto_front.png and optimization_history_<metric>.png; one that cannot be drawn
    is skipped with a log line (the tables are the record). Optuna's matplotlib plots
    set the `ggplot` style globally: undone after them."""
    import matplotlib

    matplotlib.use("Agg")
    import optuna
    from optuna.visualization import matplotlib as optuna_plots

    good = _good(study.get_trials(deepcopy=False))
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "new study created" line
    try:
        with warnings.catch_warnings():  # add_trials is marked experimental in Optuna 2.x
            warnings.simplefilter("ignore")
            view = optuna.create_study(directions=list(objective.directions))  # in memory
            view.add_trials(good)
    finally:
        optuna.logging.set_verbosity(verbosity)
    plots = [
        (
            "pareto_front.png",
            lambda: optuna_plots.plot_pareto_front(view, target_names=list(objective.metrics)),
        )
    ]
    for i, metric in enumerate(objective.metrics):
        plots.append(
            (
                f"optimization_history_{metric}.png",
                lambda i=i, metric=metric: optuna_plots.plot_optimization_history(
                    view, target=lambda t: t.values[i], target_name=metric
                ),
            )
        )
    for name, plot in plots:
        try:
            with warnings.catch_warnings(), matplotlib.rc_context():  # Optuna's ggplot undone
                warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
                axes = plot()
                first = axes.flat[0] if hasattr(axes, "flat") else axes
                save_figure(sweep_dir / name, first.figure)
        except Exception as error:  # a plot is optional
            log.warning("skipped %s: %s: %s", name, type(error).__name__, error)


def trials_frame(study: Any, objective: Objective) -> pd.DataFrame:
    """trials.csv of a multi-objective study: Optuna's `trials_dataframe()` with
    `values_0`, `values_1`, ... named `values_<metric>`, a `value` column holding the
    first objective (what single-objective readers show) and `pareto` (True for the
    trials in pareto_front.csv)."""
    frame = study.trials_dataframe()

    def column(metric: str) -> str:  # a plain app's objectives are values_0, values_1, ...
        return metric if metric.startswith("values_") else f"values_{metric}"

    frame = frame.rename(
        columns={f"values_{i}": column(m) for i, m in enumerate(objective.metrics)}
    )
    first = column(objective.metrics[0])
    if first in frame.columns:
        frame.insert(1, "value", frame[first])
    front = set(front_table(study, objective)["number"])
    if "number" in frame.columns:
        frame["pareto"] = frame["number"].isin(front)
    return frame


def _write_multi(
    study: Any, objective: Objective, sweep_dir: Path, record: dict[str, Any]
) -> dict[str, Any]:
    """trials.csv, pareto_front.csv, best_trial.yaml, optimization_results.yaml and the
    plots of a multi-objective study; returns best_trial.yaml's record (`record`, the
    study's fields, plus `directions`, `metrics` and `best_trials`)."""
    write_trials(sweep_dir, trials_frame(study, objective))
    front = front_table(study, objective)
    write_front(sweep_dir, front)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    record["metrics"] = list(objective.metrics)
    record["directions"] = list(objective.directions)
    best = []
    for number in front["number"]:
        trial = trials[int(number)]
        best.append(
            {
                "number": trial.number,
                "values": dict(zip(objective.metrics, trial.values)),
                "params": trial.params,
                "job_dir": trial.user_attrs.get("job_dir"),
            }
        )
    if best:
        record["best_trials"] = best
    write_best(sweep_dir, record)
    if best:
        _pareto_plots(study, objective, sweep_dir)
    return record
