"""metrics.json: the one record a run leaves, its schema, and its one reader and writer.

`RunRecord` is what `sweeper.core.train` writes into a run's folder (atomically,
through `sweeper.core.artifacts`; last, so `status: ok` means every other file is
complete) and what every other module reads back:

- `read_record(path)`: a finished run's record, checked field by field for
  `collect` (`sweeper.reports.results`); anything else raises `BadFile` with one line
  naming the file and the field (`metrics.json: objective is 'abc', not a
  number`), whatever the content: binary garbage, a folder or a FIFO where the
  file should be, a file too large to be ours, JSON nested too deep, integers
  too long to parse;
- `run_status(folder)`: the status of whatever run is in a folder (`missing`,
  `unreadable`, `ok`, `failed`, `interrupted`, ...) with its reason, for the
  grid (`sweeper.records.sweep_folder`), the run folder guard (`sweeper.core.run_folder`)
  and the search (`sweeper.sweeps.search`, `sweeper.sweeps.stale_trials`).

`settings` holds the settings that tell runs apart under their dotted config
keys (`model.hidden`, `optim.lr`, `trainer.epochs`, ...), the same spelling as
the overrides, so results.csv has one column per setting.
"""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sweeper.core.artifacts import write_json

NAME = "metrics.json"
# Statuses of a run that went to its end (ok; failed: diverged, raised, config refused;
# pruned: stopped by a search's pruner, sweeper.run.pruning). Others (`interrupted`, or no
# file: killed, still running) may be run again.
FINISHED = ("ok", "failed", "pruned")
DIRECTIONS = ("maximize", "minimize")
# Columns collect itself puts into results.csv: a metric may not take one of these names.
RESERVED = (
    "job",
    "status",
    "objective",
    "objective_metric",
    "objective_direction",
    "objectives",
    "headline",
    "reason",
    "wall_seconds",
    "job_dir",
)
MAX_BYTES = 16 * 2**20  # sweeper's own files are a few KB; a larger one is not ours
INT64 = 2**63


class BadFile(ValueError):
    """A job's file that collect cannot use; the message is one line naming file and field."""


@dataclass
class RunRecord:
    """A run's metrics.json.

    status: ok | failed | pruned | interrupted; reason: why it failed or stopped
    (`config: ...` when its config was refused); objective: the value returned to the
    sweeper (the worst, -inf/inf, for a failed or pruned run); metrics: name -> number
    (losses per target element, accuracies in [0, 1], epochs); settings: dotted config key -> value;
    parameters: the model's parameter count; wall_seconds: this process's seconds;
    resumed_from_epoch: the checkpoint's epoch a resumed run started after;
    epochs_done: an interrupted run's checkpointed epochs; pruned_at_epoch: the epoch
    after which a search's pruner stopped the run (status pruned); logger_errors: one
    line per experiment logger (sweeper.loggers) that failed in this run, which went on
    without it; objectives: a multi-objective run's objectives in order, each
    {metric, direction, value} (`objective` and `objective_metric` then hold the
    first; sweeper.core.objectives); headline: the metrics the run is described by,
    each with its direction (`sweeper.core.metrics.headline`: collect, compare and
    confirm read them from here, not from lists of their own)."""

    status: str
    reason: str | None = None
    objective: float | None = None
    objective_metric: str | None = None
    objective_direction: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    parameters: int | None = None
    wall_seconds: float | None = None
    resumed_from_epoch: int | None = None
    epochs_done: int | None = None
    pruned_at_epoch: int | None = None
    logger_errors: list[str] = field(default_factory=list)
    objectives: list[dict[str, Any]] | None = None
    headline: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as metrics.json holds it (optional fields absent rather than null)."""
        data = asdict(self)
        for optional in ("epochs_done", "pruned_at_epoch", "objectives", "headline"):
            if data[optional] is None:
                del data[optional]
        return data

    def write(self, folder: str | Path) -> Path:
        """Write `folder/metrics.json` atomically (temp file + rename); returns its path.

        Raises OSError when the folder cannot be written."""
        return write_json(Path(folder) / NAME, self.to_dict())

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> RunRecord:
        """The record of a dict that `check_record` accepted (unknown keys are ignored)."""
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in record.items() if k in known}
        values["metrics"] = values.get("metrics") or {}
        values["settings"] = values.get("settings") or {}
        values["logger_errors"] = values.get("logger_errors") or []
        return cls(**values)


@dataclass
class RunStatus:
    """What a folder's metrics.json says: status (`missing`, `unreadable` or the run's),
    reason (the run's, or why it could not be read) and the raw record (None unless read)."""

    status: str
    reason: str | None = None
    record: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def run_status(folder: str | Path) -> RunStatus:
    """The status of the run in `folder`, never raising: `missing` (no metrics.json),
    `unreadable` (not a JSON object with a string status), or the record's status."""
    path = Path(folder) / NAME
    if not path.exists() and not path.is_symlink():
        return RunStatus("missing")
    try:
        record = json.loads(read_bytes(path, NAME).decode("utf-8"))
    except (BadFile, ValueError, RecursionError) as error:
        return RunStatus("unreadable", f"{NAME} unreadable: {error}")
    status = record.get("status") if isinstance(record, dict) else None
    if not isinstance(status, str):
        return RunStatus("unreadable", f"{NAME} is not a record")
    reason = record.get("reason")
    return RunStatus(status, reason if isinstance(reason, str) else None, record)


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


def show(value: Any) -> str:
    """`value`'s repr, cut to 40 characters for an error line."""
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
        raise BadFile(f"metrics.json: {key} is {show(value)}, not a number")
    if finite and not math.isfinite(value):
        raise BadFile(f"metrics.json: {key} is {value}, not a finite number")


def _text(record: dict, key: str, choices: tuple[str, ...] | None = None) -> None:
    value = record.get(key)
    if value is None:
        return
    if not isinstance(value, str):
        raise BadFile(f"metrics.json: {key} is {show(value)}, not a string")
    if choices and value not in choices:
        raise BadFile(f"metrics.json: {key} is {value!r}, not one of {', '.join(choices)}")


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool)) or _is_number(value)


def _objectives(record: dict, status: str) -> None:
    """`objectives`: absent, null, or a list of {metric: str, direction, value: number}."""
    objectives = record.get("objectives")
    if objectives is None:
        return
    if not isinstance(objectives, list) or not objectives:
        raise BadFile(f"metrics.json: objectives is {show(objectives)}, not a list")
    for i, entry in enumerate(objectives):
        if not isinstance(entry, dict):
            raise BadFile(f"metrics.json: objectives[{i}] is {show(entry)}, not an object")
        _text(entry, "metric")
        _text(entry, "direction", DIRECTIONS)
        if not isinstance(entry.get("metric"), str):
            raise BadFile(f"metrics.json: objectives[{i}] has no metric name")
        try:
            _number(entry, "value", finite=status == "ok", null=status != "ok")
        except BadFile as error:
            raise BadFile(str(error).replace(": value", f": objectives[{i}].value")) from None


def check_record(record: Any) -> dict[str, Any]:
    """Return `record` if it is a metrics.json as sweeper.core.train writes it, else raise BadFile.

    status: ok, failed or pruned; objective: a finite number when ok, a number
    (+-Infinity allowed), NaN or null when failed; metrics: names -> numbers or null
    (no value, counted as such by sweeper.reports.stats.no_value);
    settings: names -> scalars or lists of scalars; logger_errors: strings or null;
    wall_seconds: number or null;
    parameters: non-negative integer or null; headline: absent, null or metric names ->
    maximize/minimize; reason, objective_metric: strings
    or null; objective_direction: maximize, minimize or null."""
    if not isinstance(record, dict):
        raise BadFile(f"metrics.json: a JSON {type(record).__name__}, not an object")
    status = record.get("status")
    if status is None:
        raise BadFile("metrics.json: no status (not written by sweeper)")
    if not isinstance(status, str):
        raise BadFile(f"metrics.json: status is {show(status)}, not a string")
    if status not in FINISHED:
        reason = record.get("reason")
        why = f": {reason}" if isinstance(reason, str) and reason else ""
        raise BadFile(f"metrics.json: status is {status!r}, not a finished run{why}")
    if status == "ok" and "objective" not in record:
        raise BadFile("metrics.json: status ok but no objective")
    _number(record, "objective", finite=status == "ok", null=status != "ok")
    _number(record, "wall_seconds")
    _number(record, "pruned_at_epoch")
    _text(record, "reason")
    _text(record, "objective_metric")
    _text(record, "objective_direction", DIRECTIONS)
    _objectives(record, status)
    parameters = record.get("parameters")
    if parameters is not None and not (
        _is_number(parameters) and isinstance(parameters, int) and parameters >= 0
    ):
        raise BadFile(f"metrics.json: parameters is {show(parameters)}, not a count")
    metrics = record.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, dict):
            raise BadFile(f"metrics.json: metrics is {show(metrics)}, not an object")
        for name, value in metrics.items():
            if name in RESERVED:
                raise BadFile(f"metrics.json: metrics.{name} takes a name results.csv reserves")
            if value is not None and not _is_number(value):  # null: no value (NaN)
                raise BadFile(f"metrics.json: metrics.{name} is {show(value)}, not a number")
    headline = record.get("headline")
    if headline is not None and not (
        isinstance(headline, dict)
        and all(isinstance(k, str) and v in DIRECTIONS for k, v in headline.items())
    ):
        raise BadFile(f"metrics.json: headline is {show(headline)}, not metric -> direction")
    errors = record.get("logger_errors")
    if errors is not None and not (
        isinstance(errors, list) and all(isinstance(e, str) for e in errors)
    ):
        raise BadFile(f"metrics.json: logger_errors is {show(errors)}, not a list of strings")
    settings = record.get("settings")
    if settings is not None:
        if not isinstance(settings, dict):
            raise BadFile(f"metrics.json: settings is {show(settings)}, not an object")
        for name, value in settings.items():
            flat = isinstance(value, list) and all(_scalar(v) for v in value)
            if not (_scalar(value) or flat):
                raise BadFile(f"metrics.json: settings.{name} is {show(value)}, not a value")
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
    return check_record(no_objective_fails(record))


def no_objective_fails(record: Any) -> Any:
    """An `ok` record whose objective has no value (NaN, ±inf, null, missing; for a
    multi-objective run, any of its `objectives` values) as the failed run it is for
    collect: status `failed`, reason `objective is NaN` (`... is inf`, `... is null`,
    `no objective`), so the job stays a counted row of its configuration instead of
    being skipped. Anything else is returned as it is (a malformed objective, text or a
    too-long integer, is still `check_record`'s to refuse).

    Only collect's reader (`read_metrics`) applies it; `run_status`, which searches
    and their stale-trial code read, leaves the record alone: there such a run is a
    FAIL trial already (`sweeper.sweeps.stale_trials.told_value`)."""
    if not isinstance(record, dict) or record.get("status") != "ok":
        return record
    why = _no_value(record, "objective", "objective")
    objectives = record.get("objectives")
    if why is None and isinstance(objectives, list):
        for i, entry in enumerate(objectives):
            if isinstance(entry, dict):
                why = why or _no_value(entry, "value", f"objectives[{i}].value")
    if why is None:
        return record
    return {**record, "status": "failed", "reason": why}


def _no_value(record: dict, key: str, name: str) -> str | None:
    """`objective is NaN` when record[key] is missing, null or a non-finite float; else None."""
    if key not in record:
        return f"no {name}"
    value = record[key]
    if value is None:
        return f"{name} is null"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{name} is {'NaN' if math.isnan(value) else value}"
    return None


def read_record(path: Path) -> RunRecord:
    """A finished run's metrics.json as a RunRecord; BadFile naming what is wrong."""
    return RunRecord.from_dict(read_metrics(path))
