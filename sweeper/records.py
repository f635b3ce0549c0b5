"""What a job folder's files must look like for collect to trust them, and reading them safely.

`read_metrics` returns a job's metrics.json as a dict only when it has the shape
`sweeper.train` writes; `read_table` returns history.csv / by_length.csv only
when they have the columns the sweep tables and plots use, with numbers where
numbers belong. Anything else raises `BadFile` with one line naming the file and
the field (`metrics.json: objective is 'abc', not a number`), whatever the
content: binary garbage, a folder or a FIFO where a file should be, a file too
large to be one of ours, JSON nested too deep, integers too long to parse.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
from pathlib import Path
from typing import Any

import pandas as pd

# FINISHED: statuses of a job that ran to its end; other strings (a run still going,
# or killed) are not results and are skipped with their status.
from sweeper.sweep_folder import FINISHED

DIRECTIONS = ("maximize", "minimize")
# Columns collect itself puts into results.csv: a metric may not take one of these names.
RESERVED = (
    "job",
    "status",
    "objective",
    "objective_metric",
    "objective_direction",
    "reason",
    "wall_seconds",
    "job_dir",
)
MAX_BYTES = 16 * 2**20  # sweeper's own files are a few KB; a larger one is not ours
INT64 = 2**63

# Columns (and whether each must be numeric) that the sweep tables and plots read.
TABLE_COLUMNS = {
    "history.csv": {"epoch": True, "train_loss": True, "val_loss": True, "val_accuracy": True},
    "by_length.csv": {"split": False, "length": True, "accuracy": True},
}


class BadFile(ValueError):
    """A job's file that collect cannot use; the message is one line naming file and field."""


def read_bytes(path: Path, name: str) -> bytes:
    """The bytes of a regular file of at most MAX_BYTES; BadFile otherwise (folder, FIFO, ...)."""
    try:
        info = os.stat(path)
    except OSError as error:
        raise BadFile(f"{name}: cannot be read ({error.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise BadFile(f"{name}: not a regular file")
    if info.st_size > MAX_BYTES:
        raise BadFile(f"{name}: {info.st_size} bytes, too large to be written by sweeper")
    try:
        with open(path, "rb") as stream:
            return stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise BadFile(f"{name}: cannot be read ({error.strerror})") from None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(value: Any) -> bool:
    """An int (that fits int64) or float, not a bool (JSON true is not a number)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -INT64 <= value < INT64
    return isinstance(value, float)


def _number(record: dict, key: str, *, finite: bool = False, null: bool = True) -> None:
    value = record.get(key)
    if value is None:
        if key in record and not null:
            raise BadFile(f"metrics.json: {key} is null, not a number")
        return
    if not _is_number(value):
        raise BadFile(f"metrics.json: {key} is {_show(value)}, not a number")
    if finite and not math.isfinite(value):
        raise BadFile(f"metrics.json: {key} is {value}, not a finite number")


def _text(record: dict, key: str, choices: tuple[str, ...] | None = None) -> None:
    value = record.get(key)
    if value is None:
        return
    if not isinstance(value, str):
        raise BadFile(f"metrics.json: {key} is {_show(value)}, not a string")
    if choices and value not in choices:
        raise BadFile(f"metrics.json: {key} is {value!r}, not one of {', '.join(choices)}")


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool)) or _is_number(value)


def check_record(record: Any) -> dict[str, Any]:
    """Return `record` if it is a metrics.json as `sweeper.train` writes it; raise BadFile if not.

    status: ok or failed; objective: a finite number when ok, a number
    (+-Infinity allowed), NaN or null when failed; metrics: names -> numbers;
    settings: names -> scalars or lists of scalars; wall_seconds: number or null;
    parameters: non-negative integer or null; reason, objective_metric: strings
    or null; objective_direction: maximize, minimize or null."""
    if not isinstance(record, dict):
        raise BadFile(f"metrics.json: a JSON {type(record).__name__}, not an object")
    status = record.get("status")
    if status is None:
        raise BadFile("metrics.json: no status (not written by sweeper)")
    if not isinstance(status, str):
        raise BadFile(f"metrics.json: status is {_show(status)}, not a string")
    if status not in FINISHED:
        reason = record.get("reason")
        why = f": {reason}" if isinstance(reason, str) and reason else ""
        raise BadFile(f"metrics.json: status is {status!r}, not a finished run{why}")
    if status == "ok" and "objective" not in record:
        raise BadFile("metrics.json: status ok but no objective")
    _number(record, "objective", finite=status == "ok", null=status != "ok")
    _number(record, "wall_seconds")
    _text(record, "reason")
    _text(record, "objective_metric")
    _text(record, "objective_direction", DIRECTIONS)
    parameters = record.get("parameters")
    if parameters is not None and not (
        _is_number(parameters) and isinstance(parameters, int) and parameters >= 0
    ):
        raise BadFile(f"metrics.json: parameters is {_show(parameters)}, not a count")
    metrics = record.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, dict):
            raise BadFile(f"metrics.json: metrics is {_show(metrics)}, not an object")
        for name, value in metrics.items():
            if name in RESERVED:
                raise BadFile(f"metrics.json: metrics.{name} takes a name results.csv reserves")
            if not _is_number(value):
                raise BadFile(f"metrics.json: metrics.{name} is {_show(value)}, not a number")
    settings = record.get("settings")
    if settings is not None:
        if not isinstance(settings, dict):
            raise BadFile(f"metrics.json: settings is {_show(settings)}, not an object")
        for name, value in settings.items():
            flat = isinstance(value, list) and all(_scalar(v) for v in value)
            if not (_scalar(value) or flat):
                raise BadFile(f"metrics.json: settings.{name} is {_show(value)}, not a value")
    return record


def read_metrics(path: Path) -> dict[str, Any]:
    """A job's metrics.json, checked by `check_record`; BadFile naming what is wrong."""
    data = read_bytes(path, "metrics.json")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadFile("metrics.json: not UTF-8 text") from None
    if not text.strip():
        raise BadFile("metrics.json: empty")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadFile(f"metrics.json: not JSON ({error})") from None
    except (ValueError, RecursionError) as error:  # 5000-digit integers, [[[[...]]]]
        raise BadFile(f"metrics.json: not usable JSON ({type(error).__name__})") from None
    return check_record(record)


def read_table(path: Path) -> pd.DataFrame:
    """history.csv or by_length.csv with its required columns (numbers where numbers belong).

    Raises BadFile naming the file and the column that is missing or not numeric."""
    name = path.name
    data = read_bytes(path, name)
    try:
        frame = pd.read_csv(io.BytesIO(data), encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise BadFile(f"{name}: empty") from None
    except (ValueError, OSError, RecursionError) as error:  # parser errors, UnicodeDecodeError
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise BadFile(f"{name}: not a readable CSV ({first})") from None
    for column, numeric in TABLE_COLUMNS.get(name, {}).items():
        if column not in frame.columns:
            raise BadFile(f"{name}: no column {column}")
        if numeric and frame.empty:
            continue
        if numeric and not pd.api.types.is_numeric_dtype(frame[column]):
            bad = frame[column][pd.to_numeric(frame[column], errors="coerce").isna()]
            shown = _show(bad.iloc[0]) if len(bad) else "?"
            raise BadFile(f"{name}: column {column} holds {shown}, not a number")
        if numeric and pd.api.types.is_bool_dtype(frame[column]):
            raise BadFile(f"{name}: column {column} holds true/false, not numbers")
    if name == "history.csv" and frame["epoch"].isna().any():
        raise BadFile("history.csv: column epoch has an empty value")
    return frame
