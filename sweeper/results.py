"""Read a sweep folder's job folders into pandas tables.

A job folder is one with `.hydra/config.yaml` (Hydra writes it for every job,
grid or Optuna alike); its `.hydra/overrides.yaml` names what was set on the
command line or by the sweeper (e.g. `model.hidden=3`, `loss=mse`), and its
`metrics.json` is what `sweeper.train` wrote. Folders that cannot be read are
returned as skips with a reason, never raised.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

# results.csv starts with `job`, then the override columns, then `status`: the
# columns in between are the keys a sweep set, which `sweeper.compare` joins on.
FIRST, AFTER_KEYS = "job", "status"


@dataclass
class Sweep:
    """Everything collected from one sweep folder."""

    folder: Path
    results: pd.DataFrame
    history: pd.DataFrame
    by_length: pd.DataFrame
    keys: list[str]  # override keys, in command-line order
    swept: list[str]  # the keys whose value differs between jobs
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (job folder, why)


def job_folders(folder: Path) -> list[Path]:
    """Job folders directly under `folder` (or `folder` itself for a single run), in job order."""
    candidates = [folder, *(p for p in folder.iterdir() if p.is_dir())]
    jobs = [p for p in candidates if (p / ".hydra").is_dir()]
    return sorted(jobs, key=lambda p: (p != folder, _natural(p.name)))


def _natural(name: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def parse_overrides(lines: list[str]) -> dict[str, str]:
    """`["model.hidden=3", "+foo=1", "hidden_size='5'"]` -> {"model.hidden": "3", ...}."""
    overrides = {}
    for line in lines:
        key, _, value = str(line).partition("=")
        key = key.lstrip("+~")
        if key.startswith("hydra."):
            continue
        overrides[key] = value.strip("'\"")
    return overrides


def _read_job(job: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """(overrides, metrics record); raises ValueError saying what is wrong."""
    metrics_file = job / "metrics.json"
    if not metrics_file.exists():
        raise ValueError("no metrics.json (the run was killed, is still running, or never started)")
    try:
        record = json.loads(metrics_file.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"metrics.json is unreadable ({error})") from None
    if not isinstance(record, dict) or "status" not in record:
        raise ValueError("metrics.json has no status (not written by sweeper)")
    overrides_file = job / ".hydra" / "overrides.yaml"
    try:
        lines = yaml.safe_load(overrides_file.read_text()) if overrides_file.exists() else []
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f".hydra/overrides.yaml is unreadable ({error})") from None
    return parse_overrides(lines or []), record


def _numeric(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Override values are strings; make a column numeric when every value is a number."""
    for column in columns:
        converted = pd.to_numeric(frame[column], errors="coerce")
        if converted.notna().all():
            frame[column] = converted
    return frame


def _read_csv(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path) if path.exists() else None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None


def load_sweep(folder: str | Path) -> Sweep:
    """Collect every job folder under `folder`; raise FileNotFoundError if it is missing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    rows, histories, lengths, skipped, keys = [], [], [], [], []
    for job in job_folders(folder):
        name = "." if job == folder else job.name
        try:
            overrides, record = _read_job(job)
        except ValueError as why:
            skipped.append((name, str(why)))
            continue
        keys += [k for k in overrides if k not in keys]
        row = {FIRST: name, **overrides, AFTER_KEYS: record["status"]}
        row["objective"] = record.get("objective")
        row["objective_metric"] = record.get("objective_metric")
        row["objective_direction"] = record.get("objective_direction")
        row.update(record.get("metrics") or {})
        for key, value in (record.get("settings") or {}).items():
            row.setdefault(key, value)
        row["reason"] = record.get("reason")
        row["wall_seconds"] = record.get("wall_seconds")
        row["job_dir"] = str(job.resolve())
        rows.append(row)
        for table, sink in (("history.csv", histories), ("by_length.csv", lengths)):
            frame = _read_csv(job / table)
            if frame is not None:
                sink.append(frame.assign(**{FIRST: name}))
    results = pd.DataFrame(rows)
    if results.empty:
        return Sweep(folder, results, pd.DataFrame(), pd.DataFrame(), [], [], skipped)
    results = _numeric(results, keys)
    # Column order: job, override keys, status, the rest as first seen.
    results = results[[FIRST, *keys, *[c for c in results.columns if c not in (FIRST, *keys)]]]
    swept = [k for k in keys if results[k].astype(str).nunique(dropna=False) > 1]
    key_table = results[[FIRST, *keys]]
    history = _with_keys(histories, key_table)
    by_length = _with_keys(lengths, key_table)
    return Sweep(folder, results, history, by_length, keys, swept, skipped)


def _with_keys(frames: list[pd.DataFrame], key_table: pd.DataFrame) -> pd.DataFrame:
    """Stack per-job tables in long format, each row prefixed by its job and keys."""
    if not frames:
        return pd.DataFrame()
    stacked = pd.concat(frames, ignore_index=True)
    # A run's own column that shares a key's name keeps it with a `_run` suffix.
    return key_table.merge(stacked, on=FIRST, how="inner", suffixes=("", "_run"))


def label(row: pd.Series, keys: list[str]) -> str:
    """A configuration's name in legends and lists: `model.hidden=3, loss=mse` (or its job)."""
    if not keys:
        return f"job {row[FIRST]}"
    return ", ".join(f"{k}={row[k]}" for k in keys)


def key_columns(results: pd.DataFrame) -> list[str]:
    """The override columns of a results.csv: those between `job` and `status`."""
    columns = list(results.columns)
    if FIRST not in columns or AFTER_KEYS not in columns:
        return []
    return columns[columns.index(FIRST) + 1 : columns.index(AFTER_KEYS)]
