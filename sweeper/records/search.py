"""A search's records in its sweep folder: one writer and one reader for each file.

What an Optuna search leaves beside its job folders, built like a run's
metrics.json (`sweeper.core.record.RunRecord`):

- `trials.csv`: Optuna's `trials_dataframe()`, one row per finished trial
  (`number`, `value` or `values_<metric>`, `state`, `params_*`, `user_attrs_*`;
  a multi-objective study's rows also say `pareto`);
- `best_trial.yaml`: the study (`study`, `storage`, `direction` or `metrics` and
  `directions`, trial counts) and its `best` trial (number, value, params,
  job_dir, + the job's metrics) or, for several objectives, `best_trials` (the
  Pareto-optimal ones);
- `pareto_front.csv`: a multi-objective study's Pareto-optimal trials;
- `optimization_results.yaml`: hydra-optuna-sweeper's summary (`best_params`,
  `best_value`; `solutions` for several objectives), kept for its users.

Every writer is atomic (`sweeper.core.artifacts`). Every reader has one rule: an
absent file is None, a file that cannot be used raises `BadFile` whose one line
names the file and what is wrong (the caller says it its own way: a problem
listed in report.html, a ConfirmError).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from omegaconf import OmegaConf

from sweeper.core.artifacts import write_csv, write_text
from sweeper.core.record import BadFile, read_bytes
from sweeper.records.csv_file import read_csv
from sweeper.records.files import (
    BEST_TRIAL,
    OPTIMIZATION_RESULTS,
    PARETO_FRONT,
    SEARCH_FILES,
    SEARCH_OUTPUTS,
    TRIALS,
)

__all__ = [
    "BEST_TRIAL",
    "OPTIMIZATION_RESULTS",
    "PARETO_FRONT",
    "SEARCH_FILES",
    "SEARCH_OUTPUTS",
    "TRIALS",
    "is_search_folder",
    "read_best",
    "read_trials",
    "write_best",
    "write_front",
    "write_trials",
]

TRIAL_COLUMNS = ("number", "value", "state")  # what every reader of trials.csv needs


def is_search_folder(folder: Path) -> bool:
    """Whether `folder` holds an Optuna search's records (`SEARCH_FILES`)."""
    return any((folder / name).is_file() for name in SEARCH_FILES)


def _present(path: Path) -> bool:
    return path.exists() or path.is_symlink()  # a dangling link is a file that cannot be read


def write_trials(folder: Path, trials: pd.DataFrame) -> Path:
    """trials.csv (atomically)."""
    return write_csv(folder / TRIALS, trials)


def read_trials(folder: Path) -> pd.DataFrame | None:
    """trials.csv with integer `number`s and numeric `value`s; None when absent.

    Raises BadFile (`trials.csv: no column state`, `...: column number holds 'x', not a
    trial number`, `...: not a readable CSV (...)`)."""
    path = folder / TRIALS
    if not _present(path):
        return None
    trials = read_csv(path, TRIALS)
    missing = [c for c in TRIAL_COLUMNS if c not in trials.columns]
    if missing:
        raise BadFile(f"{TRIALS}: no column {missing[0]}")
    numbers = pd.to_numeric(trials["number"], errors="coerce")
    bad = numbers.isna() | (numbers % 1 != 0)
    if bad.any():
        shown = trials["number"][bad].iloc[0]
        raise BadFile(f"{TRIALS}: column number holds {shown!r}, not a trial number")
    trials["number"] = numbers.astype("int64")
    trials["value"] = pd.to_numeric(trials["value"], errors="coerce")
    return trials


def write_best(folder: Path, record: dict[str, Any]) -> Path:
    """best_trial.yaml from `record`, and optimization_results.yaml when it has a best
    trial (`best`) or Pareto-optimal ones (`best_trials`: hydra-optuna-sweeper's
    `solutions:` layout, values in the objectives' order)."""
    path = write_text(folder / BEST_TRIAL, OmegaConf.to_yaml(OmegaConf.create(record)))
    results: dict[str, Any] | None = None
    if record.get("best"):
        best = record["best"]
        results = {"name": "optuna", "best_params": best["params"], "best_value": best["value"]}
    elif record.get("best_trials"):
        solutions = [
            {"params": b["params"], "values": list(b["values"].values())}
            for b in record["best_trials"]
        ]
        results = {"name": "optuna", "solutions": solutions}
    if results is not None:
        write_text(folder / OPTIMIZATION_RESULTS, OmegaConf.to_yaml(OmegaConf.create(results)))
    return path


def read_best(folder: Path) -> dict[str, Any] | None:
    """best_trial.yaml as a mapping; None when absent.

    Raises BadFile (`best_trial.yaml: not a mapping`, `...: <the YAML error's first line>`)."""
    path = folder / BEST_TRIAL
    if not _present(path):
        return None
    try:
        record = yaml.safe_load(read_bytes(path, BEST_TRIAL))
    except BadFile:
        raise
    except (yaml.YAMLError, RecursionError, ValueError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise BadFile(f"{BEST_TRIAL}: {first}") from None
    if not isinstance(record, dict):
        raise BadFile(f"{BEST_TRIAL}: not a mapping")
    return record


def write_front(folder: Path, front: pd.DataFrame) -> Path:
    """pareto_front.csv (atomically)."""
    return write_csv(folder / PARETO_FRONT, front)
