"""Multi-objective searches: the checks before any trial, the trials' values, the Pareto front.

`objective.metric=[val_accuracy,parameters] objective.direction=[maximize,minimize]`
makes each job return one value per metric (`sweeper.sweeps.objectives`), and
`sweeper.sweeps.search` runs a multi-objective Optuna study over them. This module holds
what that study needs beyond the single-objective search:

- `search_objective`: before any trial, the sweeper's `direction` (one or a list)
  must agree with the composed config's `objective.direction`, the metric list
  with the direction list, and every metric must be one the task produces;
  otherwise SearchError, one line;
- `default_sampler`: NSGA-II (seeded like the configured sampler) replaces the
  default TPE of a multi-objective search unless a sampler is named on the
  command line;
- `trial_values`: a job's return value checked against the number of objectives;
- `write_multi_report`: `pareto_front.csv` (the non-dominated successful trials,
  one column per objective), `pareto_front.png` (Optuna's matplotlib
  `plot_pareto_front`, drawn over the successful trials only, so a failed
  trial's -inf/inf does not squash the axes), per-objective history plots,
  `best_trial.yaml` with every Pareto-optimal trial and hydra-optuna-sweeper's
  `optimization_results.yaml` (`solutions:`) layout;
- `collected_front` / `front_lines`: the best (non-dominated) jobs of a collected
  sweep (report.html's Pareto section, the summary's list).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, ListConfig, OmegaConf

from sweeper.sweeps.objectives import Objective, ObjectiveError, check_available, objective_of
from sweeper.sweeps.search_space import SearchError

__all__ = [
    "Front",
    "collected_front",
    "default_sampler",
    "dominates",
    "front_lines",
    "non_dominated",
    "search_objective",
    "show_value",
    "trial_values",
    "write_multi_report",
]

log = logging.getLogger(__name__)

SAMPLER_GROUP = "hydra/sweeper/sampler"


def search_objective(
    sweeper_direction: Any, cfg: DictConfig, task_metrics: Sequence[str]
) -> Objective:
    """The objective(s) of a search whose trials run `cfg`, checked before any trial.

    Raises SearchError (one line) when `objective.metric` / `objective.direction` are
    unusable (lists of different lengths, an unknown direction, a metric the task
    does not produce) or when `hydra.sweeper.direction` disagrees with them."""
    try:
        objective = objective_of(cfg)
        check_available(objective, task_metrics, str(OmegaConf.select(cfg, "task.name")))
    except ObjectiveError as error:
        raise SearchError(str(error)) from None
    if sweeper_direction is None:  # hydra.sweeper.direction: null follows objective.direction
        return objective
    from sweeper.sweeps.app_jobs import directions_of

    directions = directions_of(sweeper_direction)
    if directions != list(objective.directions):
        raise SearchError(
            f"hydra.sweeper.direction=[{','.join(directions)}] disagrees with "
            f"objective.direction=[{','.join(objective.directions)}] for objective.metric="
            f"[{','.join(objective.metrics)}]: set objective.direction and leave "
            "hydra.sweeper.direction to follow it (as hparams_search overlays do)"
        )
    return objective


def default_sampler(sampler: Any, config: DictConfig, objective: Objective) -> Any:
    """NSGA-II for a multi-objective search run with the default TPE sampler; else `sampler`.

    A sampler named on the command line (`hydra/sweeper/sampler=tpe`, `=motpe`, ...)
    is kept. NSGA-II gets the configured sampler's seed."""
    import optuna

    if not objective.multi or not isinstance(sampler, optuna.samplers.TPESampler):
        return sampler
    given = [*config.hydra.overrides.get("hydra", []), *config.hydra.overrides.get("task", [])]
    if any(str(o).lstrip("+~").startswith(f"{SAMPLER_GROUP}=") for o in given):
        return sampler
    seed = OmegaConf.select(config, "hydra.sweeper.sampler.seed", default=None)
    log.info(
        "multi-objective search (%s): sampler NSGA-II, seed %s (name one with %s=...)",
        objective.describe(),
        seed,
        SAMPLER_GROUP,
    )
    return optuna.samplers.NSGAIISampler(seed=seed)


def trial_values(value: Any, count: int) -> tuple[list[float] | None, str | None]:
    """(values, None) for a job's return value holding `count` numbers, else (None, why).

    NaN is refused (Optuna cannot rank it); ±inf (a failed run's worst values) is kept."""
    items = list(value) if isinstance(value, (list, tuple, ListConfig)) else [value]
    if len(items) != count:
        return None, f"the run returned {value!r}: {len(items)} value(s) for {count} objectives"
    try:
        numbers = [float(v) for v in items]
    except (TypeError, ValueError):
        return None, f"the run returned {value!r}, not numbers"
    if any(math.isnan(v) for v in numbers):
        return None, "the run returned NaN"
    return numbers, None


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """Whether values `a` are at least as good as `b` in every objective and better in one."""
    signs = [1.0 if d == "maximize" else -1.0 for d in directions]
    better = [s * x for s, x in zip(signs, a)]
    other = [s * y for s, y in zip(signs, b)]
    return all(x >= y for x, y in zip(better, other)) and any(x > y for x, y in zip(better, other))


def non_dominated(points: Sequence[Sequence[float]], directions: Sequence[str]) -> list[int]:
    """Indices of the points no other point dominates (ties all kept), in input order."""
    return [
        i
        for i, p in enumerate(points)
        if not any(dominates(q, p, directions) for j, q in enumerate(points) if j != i)
    ]


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


def _plots(study: Any, objective: Objective, sweep_dir: Path) -> None:
    """pareto_front.png and optimization_history_<metric>.png; one that cannot be drawn
    is skipped with a log line (the tables are the record). Optuna's matplotlib plots
    set the `ggplot` style globally: undone after them."""
    import matplotlib

    matplotlib.use("Agg")
    import optuna
    from optuna.visualization import matplotlib as optuna_plots

    from sweeper.core.artifacts import save_figure

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


def write_multi_report(
    study: Any, objective: Objective, sweep_dir: Path, record: dict[str, Any]
) -> dict[str, Any]:
    """trials.csv, pareto_front.csv, best_trial.yaml, optimization_results.yaml and the
    plots of a multi-objective study; returns best_trial.yaml's record (`record`, the
    study's fields, plus `directions`, `metrics` and `best_trials`)."""
    from sweeper.core.artifacts import atomic_write, write_csv

    write_csv(sweep_dir / "trials.csv", trials_frame(study, objective))
    front = front_table(study, objective)
    write_csv(sweep_dir / "pareto_front.csv", front)
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
    text = OmegaConf.to_yaml(OmegaConf.create(record))
    atomic_write(sweep_dir / "best_trial.yaml", lambda tmp: tmp.write_text(text))
    if best:  # hydra-optuna-sweeper's own layout for several objectives
        results = {
            "name": "optuna",
            "solutions": [
                {"params": b["params"], "values": list(b["values"].values())} for b in best
            ],
        }
        results_text = OmegaConf.to_yaml(OmegaConf.create(results))
        atomic_write(
            sweep_dir / "optimization_results.yaml", lambda tmp: tmp.write_text(results_text)
        )
        _plots(study, objective, sweep_dir)
    return record


@dataclass
class Front:
    """The Pareto front of a collected multi-objective sweep (`collected_front`)."""

    spec: str  # `val_accuracy (maximize), parameters (minimize)`; `; `-joined when jobs differ
    metrics: list[str]
    directions: list[str]
    best: pd.DataFrame  # the non-dominated ok jobs, best first by the first objective
    ok: pd.DataFrame  # every ok job with all objective values
    why: str | None = None  # why no job is ranked: DIFFER or NO_OK_JOB


DIFFER, NO_OK_JOB = "objectives differ between jobs", "no ok job to rank"


def collected_front(results: pd.DataFrame) -> Front | None:
    """The Pareto front of collect's `results` table; None for a single-objective sweep.

    A multi-objective job has `objectives` set to `metric (direction), ...` and one
    column per objective metric. When the jobs name different objectives, or none is
    ok with every value, the front is empty and `why` says so."""
    if results.empty or "objectives" not in results.columns:
        return None
    specs = results["objectives"].dropna().astype(str).unique()
    if not len(specs):
        return None
    empty = results.iloc[:0]
    if len(specs) != 1:
        return Front("; ".join(specs), [], [], empty, empty, DIFFER)
    pairs = [part.strip().rsplit(" (", 1) for part in specs[0].split(",")]
    metrics = [m for m, _ in pairs]
    directions = [d.rstrip(")") for _, d in pairs]
    ok = results[(results["status"] == "ok") & results["objectives"].notna()]
    ok = ok.dropna(subset=[m for m in metrics if m in ok.columns])
    if ok.empty or any(m not in ok.columns for m in metrics):
        return Front(specs[0], metrics, directions, empty, empty, NO_OK_JOB)
    points = ok[metrics].astype(float).values.tolist()
    best = ok.iloc[non_dominated(points, directions)]
    best = best.sort_values(metrics[0], ascending=directions[0] == "minimize", kind="stable")
    return Front(specs[0], metrics, directions, best, ok)


def front_lines(results: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """summary.md's lines for a multi-objective sweep: its objectives and the best
    (non-dominated) ok jobs with each objective's value; [] for a single-objective sweep
    (`collected_front`)."""
    from sweeper.reports.results import key_text  # values as the pivot shows them: 5, not 5.0

    front = collected_front(results)
    if front is None:
        return []
    if front.why == DIFFER:
        return [f"Objectives differ between jobs: {front.spec}", ""]
    if front.why:
        return [f"Objectives: {front.spec}; no ok job to rank.", ""]
    lines = [f"## Best jobs (Pareto front over {front.spec})", ""]
    for _, row in front.best.iterrows():
        values = ", ".join(f"{m} {show_value(row[m])}" for m in front.metrics)
        where = ", ".join(f"{k}={key_text(row[k])}" for k in keys if k in row.index)
        lines.append(f"- job {row['job']}" + (f" ({where})" if where else "") + f": {values}")
    return [*lines, ""]


def show_value(value: Any) -> str:
    """An objective value as the summary prints it: `51` for a whole count of 10 or more
    (parameters), else 4 decimals (`0.5133`)."""
    number = float(value)
    return f"{int(number)}" if number.is_integer() and abs(number) >= 10 else f"{number:.4f}"
