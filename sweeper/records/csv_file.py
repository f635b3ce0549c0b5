"""Reading a CSV that sweeper wrote, with one error rule for every reader.

`read_csv(path, name)` returns the table, or raises `sweeper.core.record.BadFile`
with one line naming the file: not a regular file or too large (`read_bytes`),
empty, or not a readable CSV (a parser or decoding error's first line). Used for
a job's history.csv and by_length.csv (`sweeper.reports.tables`) and a search's
trials.csv (`sweeper.records.search`).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from sweeper.core.record import BadFile, read_bytes


def read_csv(path: Path, name: str) -> pd.DataFrame:
    """The CSV at `path` (called `name` in messages); BadFile when it cannot be used."""
    data = read_bytes(path, name)
    try:
        return pd.read_csv(io.BytesIO(data), encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise BadFile(f"{name}: empty") from None
    except (ValueError, OSError, RecursionError) as error:  # parser errors, UnicodeDecodeError
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise BadFile(f"{name}: not a readable CSV ({first})") from None
