"""history.csv and by_length.csv: what a job's tables must look like for collect to use them.

`read_table` returns a job's table only when it has the columns the sweep tables
and plots read, with numbers where numbers belong; anything else raises
`sweeper.core.record.BadFile` with one line naming the file and the column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sweeper.core.record import BadFile, show
from sweeper.records.csv_file import read_csv

# Columns (and whether each must be numeric) that the sweep tables and plots read. Besides
# them a table holds its task's metrics (`sweeper.core.metrics`: history.csv's `val_accuracy`
# or a regression's `val_rmse`, by_length.csv's `accuracy`, `mean_loss`), at least one.
TABLE_COLUMNS = {
    "history.csv": {"epoch": True, "train_loss": True, "val_loss": True},
    "by_length.csv": {"split": False, "length": True},
}
# What a table's metric columns are: named by this rule, and numbers.
METRIC_COLUMNS = {
    "history.csv": lambda column: column.startswith("val_") and column != "val_loss",
    "by_length.csv": lambda column: column not in ("split", "length", "n", "job"),
}

_EXAMPLE = {"history.csv": "val_accuracy", "by_length.csv": "accuracy"}


def read_table(path: Path) -> pd.DataFrame:
    """history.csv or by_length.csv with its required columns (numbers where numbers belong).

    Raises BadFile naming the file and the column that is missing or not numeric."""
    name = path.name
    frame = read_csv(path, name)
    for column, numeric in TABLE_COLUMNS.get(name, {}).items():  # in order: first fault
        if column not in frame.columns:
            raise BadFile(f"{name}: no column {column}")
        if numeric:
            _numbers(frame, name, column)
    is_metric = METRIC_COLUMNS.get(name)
    if is_metric is not None:
        metrics = [str(c) for c in frame.columns if is_metric(str(c))]
        if not metrics:
            raise BadFile(f"{name}: no metric column (such as {_EXAMPLE[name]})")
        for column in metrics:
            _numbers(frame, name, column)
    if name == "history.csv" and frame["epoch"].isna().any():
        raise BadFile("history.csv: column epoch has an empty value")
    return frame


def _numbers(frame: pd.DataFrame, name: str, column: str) -> None:
    """BadFile unless `column` holds numbers (an empty table holds none to check)."""
    if frame.empty:
        return
    if not pd.api.types.is_numeric_dtype(frame[column]):
        bad = frame[column][pd.to_numeric(frame[column], errors="coerce").isna()]
        shown = show(bad.iloc[0]) if len(bad) else "?"
        raise BadFile(f"{name}: column {column} holds {shown}, not a number")
    if pd.api.types.is_bool_dtype(frame[column]):
        raise BadFile(f"{name}: column {column} holds true/false, not numbers")
