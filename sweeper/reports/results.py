"""Read a sweep folder's job folders into pandas tables.

A job folder is one with `.hydra/config.yaml` (Hydra writes it for every job,
grid or Optuna alike), or, where Hydra was told not to write `.hydra/`
(`hydra.output_subdir=null`), one with a `metrics.json`, at any depth
(`sweeper.records.sweep_folder.find_job_folders`). Its `job` name is its path relative
to the sweep folder (`3`, `trial_3`, `adder/3`), so it is unique and says where
the job lives. Its `.hydra/overrides.yaml` names what was set on the command
line or by the sweeper (e.g. `model.hidden=3`, `loss=mse`; not Hydra's own keys, a
search's trial identity or the recording-only `logger`, `output_dir`, ...:
`is_setting`), and its `metrics.json` is what `sweeper.core.train` wrote, checked
by `sweeper.core.record`.

A job that lacks a key other jobs of the folder set (a second sweep added to
the folder) gets that key's value from its own composed config: a config group
(`loss`, `model`) from `.hydra/hydra.yaml`'s `hydra.runtime.choices`, any
other key (`model.hidden`) from `.hydra/config.yaml`.

Folders that cannot be read are returned as skips with a reason, a collected
job's unusable history.csv / by_length.csv as a note; nothing here raises for
the content of a job folder.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf

from sweeper.core.metrics import HEADLINE, format_headline
from sweeper.core.record import BadFile, read_bytes, read_metrics
from sweeper.records.sweep_folder import (
    HYDRA_DIR,
    find_job_folders,
    is_job_folder,
    job_overrides,
    recording_only,
)
from sweeper.reports.tables import read_table

# results.csv starts with `job`, then the override columns, then `status`: the
# columns in between are the keys a sweep set, which `sweeper.compare` joins on.
FIRST, AFTER_KEYS = "job", "status"
TABLES = ("history.csv", "by_length.csv")
UNSET = "(unset)"  # how a key a job's overrides and config lack is shown
# A search job's trial identity (sweeper.run.pruning.trial_overrides): bookkeeping, not a
# setting, so never a results.csv column.
TRIAL_KEYS = ("pruning.storage", "pruning.study", "pruning.trial")
# Keys that say where or how a run is recorded or where its inputs live, never what is
# trained: the experiment trackers (`logger=tensorboard`, `logger=[csv,mlflow]`,
# `logger.mlflow.tracking_uri=...`), the run's own folder, MNIST's data folder and whether
# it may be downloaded. Two sweeps that differ only in these are the same configurations,
# so they are no results.csv columns (and so no pivot row or compare join key). Keys
# that can change the numbers stay columns, `device` (bf16 on a GPU) included.


@dataclass
class Sweep:
    """Everything collected from one sweep folder."""

    folder: Path
    results: pd.DataFrame
    history: pd.DataFrame
    by_length: pd.DataFrame
    keys: list[str]  # override keys, in command-line order
    swept: list[str]  # the keys whose value differs between jobs
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (job, why) left out
    notes: list[tuple[str, str]] = field(default_factory=list)  # (job, unusable file) kept


def job_folders(folder: Path) -> list[Path]:
    """Job folders under `folder` at any depth (`folder` itself for a single run), in job order.

    Raises FileNotFoundError / NotADirectoryError / PermissionError for `folder` itself."""
    return find_job_folders(folder, with_metrics=True)


def inside_job_folder(folder: Path) -> bool:
    """Whether `folder` is a job folder or lies inside one (collect must not write there)."""
    folder = Path(folder).resolve()
    return (folder / "metrics.json").is_file() or any(
        is_job_folder(p) for p in (folder, *folder.parents)
    )


def job_name(job: Path, folder: Path) -> str:
    """`adder/3` for `folder/adder/3`; `.` for the folder itself."""
    return "." if job == folder else job.relative_to(folder).as_posix()


def is_setting(key: str) -> bool:
    """Whether an override key is a configuration column: not Hydra's own (`hydra.*`,
    `hydra/launcher`), a search's trial identity (`TRIAL_KEYS`) or a recording-only key
    (`sweep_folder.RECORDING_KEYS` and the keys under them: `logger`, `logger.mlflow.tracking_uri`,
    `logger/tensorboard`)."""
    key = key.strip().lstrip("+~")
    if not key or key.startswith(("hydra.", "hydra/")) or key in TRIAL_KEYS:
        return False
    return not recording_only(key)


def parse_overrides(lines: list[str]) -> dict[str, str]:
    """`["model.hidden=3", "+foo=1", "loss='mse'"]` -> {"model.hidden": "3", ...}, without
    the keys that are no configuration (`is_setting`: `hydra.*`, `logger`, ...)."""
    overrides = {}
    for line in lines:
        key, _, value = str(line).partition("=")
        key = key.strip().lstrip("+~")
        if not is_setting(key):
            continue
        overrides[key] = value.strip().strip("'\"")
    return overrides


def _read_overrides(job: Path) -> dict[str, str]:
    path = job / HYDRA_DIR / "overrides.yaml"
    name = f"{HYDRA_DIR}/overrides.yaml"
    if not path.exists() and not path.is_symlink():
        return {}
    try:  # a folder or FIFO there is an error, not a hang; binary garbage is not YAML
        read_bytes(path, name).decode("utf-8")
    except UnicodeDecodeError:
        raise BadFile(f"{name}: not UTF-8 text") from None
    try:
        return parse_overrides(job_overrides(job))
    except ValueError as error:
        raise BadFile(f"{name}: {str(error).removeprefix(f'{path}: ')}") from None


def _read_job(job: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """(overrides, metrics record); raises BadFile saying what is wrong."""
    if not (job / "metrics.json").exists() and not (job / "metrics.json").is_symlink():
        raise BadFile(f"no metrics.json yet: {_unfinished(job)}")
    record = read_metrics(job / "metrics.json")
    return _read_overrides(job), record


def _unfinished(job: Path) -> str:
    """A job folder without metrics.json: running, or stopped without a record; how long
    ago its files were last written tells a training job (seconds: an epoch's checkpoint)
    from one killed long ago."""
    try:
        newest = max((p.stat().st_mtime for p in job.iterdir() if p.is_file()), default=None)
    except OSError:
        newest = None
    if newest is None:
        return "the run is starting, was killed, or never started"
    age = max(0, round(time.time() - newest))
    ago = f"{age} s" if age < 120 else f"{age // 60} min"
    return (
        f"running, or killed (its files last written {ago} ago); a re-run of the sweep resumes it"
    )


def _override_text(value: Any) -> str | None:
    """A config value spelt as on the command line (`true`, `3`, `[24,30]`); None for a group."""
    if isinstance(value, (DictConfig, ListConfig)):
        value = OmegaConf.to_container(value)
    if isinstance(value, dict):
        return None
    if isinstance(value, list):
        return "[" + ",".join(_override_text(v) or "" for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(read_bytes(path, path.name))
    except (BadFile, yaml.YAMLError, RecursionError, ValueError):
        return None


def config_value(job: Path, key: str) -> str | None:
    """The value `key` had in a job's composed config, spelt as an override; None if unknown.

    A config group (`loss`, `model`) is read from `.hydra/hydra.yaml`'s
    `hydra.runtime.choices`; any other key from `.hydra/config.yaml`."""
    hydra_cfg = _load_yaml(job / HYDRA_DIR / "hydra.yaml")
    try:
        choices = hydra_cfg["hydra"]["runtime"]["choices"]
        if isinstance(choices, dict) and key in choices:
            return _override_text(choices[key])
    except (KeyError, TypeError):
        pass
    config = _load_yaml(job / HYDRA_DIR / "config.yaml")
    if not isinstance(config, dict):
        return None
    try:
        value = OmegaConf.select(
            OmegaConf.create(config), key, default=None, throw_on_resolution_failure=False
        )
    except Exception:  # an odd key or config: unknown, never fatal
        return None
    return None if value is None else _override_text(value)


def _numeric(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Override values are strings; make a column numeric when every value is a number."""
    for column in columns:
        converted = pd.to_numeric(frame[column], errors="coerce")
        if converted.notna().all():
            frame[column] = converted
    return frame


def _row(name: str, job: Path, overrides: dict[str, str], record: dict[str, Any]) -> dict:
    row: dict[str, Any] = {FIRST: name, **overrides, AFTER_KEYS: record["status"]}
    row["objective"] = record.get("objective")
    row["objective_metric"] = record.get("objective_metric")
    row["objective_direction"] = record.get("objective_direction")
    for key, value in (record.get("metrics") or {}).items():
        # an override key keeps its own column; null (no value) is NaN, as in results.csv
        row.setdefault(key, math.nan if value is None else value)
    if record.get("parameters") is not None:  # the model's parameter count (RunRecord)
        row.setdefault("parameters", record["parameters"])
    objectives = record.get("objectives")
    if objectives:  # a multi-objective run: `val_accuracy (maximize), parameters (minimize)`
        row["objectives"] = ", ".join(f"{o['metric']} ({o['direction']})" for o in objectives)
        for entry in objectives:  # an objective that is no task metric gets its column here
            row.setdefault(entry["metric"], entry["value"])
    headline = record.get("headline")
    if headline:  # the metrics the run is described by: `val_accuracy (maximize), ...`
        row[HEADLINE] = format_headline(headline)
    for key, value in (record.get("settings") or {}).items():
        row.setdefault(key, value)
    row["reason"] = record.get("reason")
    row["wall_seconds"] = record.get("wall_seconds")
    row["job_dir"] = str(job.resolve())
    return row


def load_sweep(folder: str | Path) -> Sweep:
    """Collect every job folder under `folder`.

    Raises FileNotFoundError / NotADirectoryError if `folder` is not a folder and
    PermissionError if it cannot be listed; never for what a job folder holds."""
    folder = Path(folder)
    rows, jobs, tables, skipped, notes, keys = [], [], {t: [] for t in TABLES}, [], [], []
    for job in job_folders(folder):
        name = job_name(job, folder)
        try:
            overrides, record = _read_job(job)
        except BadFile as why:
            skipped.append((name, str(why)))
            continue
        keys += [k for k in overrides if k not in keys]
        rows.append(_row(name, job, overrides, record))
        jobs.append(job)
        for table in TABLES:
            if not (job / table).exists() and not (job / table).is_symlink():
                continue
            try:
                frame = read_table(job / table)
            except BadFile as why:
                notes.append((name, str(why)))
                continue
            if not frame.empty:
                tables[table].append(frame.assign(**{FIRST: name}))
    if not rows:
        return Sweep(folder, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), [], [], skipped, notes)
    for row, job in zip(rows, jobs):  # a key another sweep in this folder set
        for key in keys:
            if key not in row:
                row[key] = config_value(job, key)
    results = pd.DataFrame(rows)
    results["objective"] = pd.to_numeric(results["objective"], errors="coerce")
    results = _numeric(results, keys)
    # Column order: job, override keys, status, the rest as first seen.
    results = results[[FIRST, *keys, *[c for c in results.columns if c not in (FIRST, *keys)]]]
    swept = [k for k in keys if results[k].astype(str).nunique(dropna=False) > 1]
    key_table = results[[FIRST, *keys]]
    history = _with_keys(tables["history.csv"], key_table)
    by_length = _with_keys(tables["by_length.csv"], key_table)
    return Sweep(folder, results, history, by_length, keys, swept, skipped, notes)


def _with_keys(frames: list[pd.DataFrame], key_table: pd.DataFrame) -> pd.DataFrame:
    """Stack per-job tables in long format, each row prefixed by its job and keys."""
    if not frames:
        return pd.DataFrame()
    stacked = pd.concat(frames, ignore_index=True)
    # A run's own column that shares a key's name keeps it with a `_run` suffix.
    return key_table.merge(stacked, on=FIRST, how="inner", suffixes=("", "_run"))


def label(row: pd.Series, keys: list[str]) -> str:
    """A configuration's name in legends and lists: `model.hidden=3, loss=mse` (or its job).

    Values as `key_text` spells them (`model.hidden=5`, not `5.0`, even from a row of
    floats); a key the job did not have reads `foo=(unset)`."""
    if not keys:
        return f"job {row[FIRST]}"
    return ", ".join(f"{k}={key_text(row.get(k))}" for k in keys)


def key_text(value: Any) -> str:
    """A configuration key's value as the pivot, labels and lists show it: whole numbers
    without `.0` (`5`, also for 5.0 read back from a table of floats, and 1234567 in full),
    other numbers with `%g` (0.00182394), booleans as `true`/`false`, a missing value as
    `(unset)`, anything else as its text."""
    if _missing(value):
        return UNSET
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:g}"
    return str(value)


def job_counts(results: pd.DataFrame, noun: str = "jobs") -> str:
    """`9 of 11 jobs ok, 1 failed, 1 pruned` (the failed and pruned parts only when there
    are any): how many of a sweep's collected jobs the statistics use, and why not the rest."""
    status = results["status"] if "status" in results else pd.Series("ok", index=results.index)
    ok, pruned = int((status == "ok").sum()), int((status == "pruned").sum())
    failed = len(results) - ok - pruned
    text = f"{ok} of {len(results)} {noun} ok"
    text += f", {failed} failed" if failed else ""
    return text + (f", {pruned} pruned" if pruned else "")


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or other non-scalar
        return False


def key_columns(results: pd.DataFrame) -> list[str]:
    """The override columns of a results.csv: those between `job` and `status`, without a
    recording-only one (`is_setting`) that a results.csv written before it was left out
    may still hold (`logger`)."""
    columns = list(results.columns)
    if FIRST not in columns or AFTER_KEYS not in columns:
        return []
    between = columns[columns.index(FIRST) + 1 : columns.index(AFTER_KEYS)]
    return [c for c in between if is_setting(str(c))]
