"""Compare two results.csv files row by row: before/after a change, seed vs tuned.

    python -m sweeper.compare A/results.csv B/results.csv [--on KEYS] [--metrics M,...] [--out F]
    sweeper compare A/results.csv B/results.csv

Rows are joined on the swept keys the two files share (the override columns
between `job` and `status`), or on `--on`. Several rows per key (e.g. seeds)
are averaged first. Prints each metric in A, in B and B - A; `--out` writes
that table as CSV (never over one of its inputs). Exits 1 when no rows match,
2 on unreadable input or an `--out` that cannot be written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from sweeper.artifacts import write_csv
from sweeper.results import key_columns

DEFAULT_METRICS = (
    "objective",
    "test_accuracy",
    "test_exact_accuracy",
    "extrapolation_accuracy",
    "val_accuracy",
    "epochs_run",
    "wall_seconds",
)


class CompareError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def read_results(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise CompareError(f"{path}: no such file", 2) from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise CompareError(f"{path}: not a readable CSV ({e})", 2) from None


def _per_key(frame: pd.DataFrame, keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """Mean of each metric per key combination (only jobs with status ok), with a count."""
    if "status" in frame:
        frame = frame[frame["status"] == "ok"]
    grouped = frame.groupby(keys, sort=False, dropna=False)
    table = grouped[metrics].mean()
    table["jobs"] = grouped.size()
    return table


def compare(
    a: pd.DataFrame, b: pd.DataFrame, on: list[str] | None = None, metrics: list[str] | None = None
) -> pd.DataFrame:
    """Long table: keys..., metric, A, B, B - A, one row per matched key and metric."""
    keys = on or [k for k in key_columns(a) if k in key_columns(b)]
    if not keys:
        raise CompareError("the two files share no swept keys to join on; name them with --on", 1)
    for name, frame in (("A", a), ("B", b)):
        missing = [k for k in keys if k not in frame]
        if missing:
            raise CompareError(f"{name} has no column {', '.join(missing)}", 1)
    wanted = metrics or [m for m in DEFAULT_METRICS if m in a and m in b]
    numeric = [
        m
        for m in wanted
        if m in a
        and m in b
        and pd.api.types.is_numeric_dtype(a[m])
        and pd.api.types.is_numeric_dtype(b[m])
    ]
    if not numeric:
        raise CompareError(f"no numeric metric found in both files among {', '.join(wanted)}", 1)
    # Key values compared as text, so 3 and "3" (or 3.0) still meet.
    for frame in (a, b):
        for key in keys:
            frame[key] = frame[key].astype(str).str.replace(r"\.0$", "", regex=True)
    joined = _per_key(a, keys, numeric).join(
        _per_key(b, keys, numeric), how="inner", lsuffix="__A", rsuffix="__B"
    )
    if joined.empty:
        raise CompareError(f"no rows of A and B share values of {', '.join(keys)}", 1)
    rows = []
    for index, row in joined.iterrows():
        index = index if isinstance(index, tuple) else (index,)
        for metric in [*numeric, "jobs"]:
            a_value, b_value = row[f"{metric}__A"], row[f"{metric}__B"]
            rows.append(
                {
                    **dict(zip(keys, index)),
                    "metric": metric,
                    "A": a_value,
                    "B": b_value,
                    "B - A": b_value - a_value,
                }
            )
    return pd.DataFrame(rows)


def _names(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sweeper compare", description="Compare two sweep results.csv files."
    )
    parser.add_argument("a", type=Path, help="results.csv (A, e.g. before)")
    parser.add_argument("b", type=Path, help="results.csv (B, e.g. after)")
    parser.add_argument("--on", help="comma-separated key columns to join on")
    parser.add_argument("--metrics", help="comma-separated metric columns (default: the main ones)")
    parser.add_argument("--out", type=Path, help="also write the comparison as CSV here")
    args = parser.parse_args(argv)
    if args.out is not None:
        same = [p for p in (args.a, args.b) if _same_file(p, args.out)]
        if same:
            print(
                f"sweeper compare: error: --out {args.out} is an input file; "
                "it would be overwritten",
                file=sys.stderr,
            )
            return 2
        if args.out.is_dir():
            print(f"sweeper compare: error: --out {args.out} is a folder", file=sys.stderr)
            return 2
    try:
        table = compare(
            read_results(args.a), read_results(args.b), _names(args.on), _names(args.metrics)
        )
    except CompareError as error:
        print(f"sweeper compare: error: {error}", file=sys.stderr)
        return error.code
    print(f"A = {args.a}\nB = {args.b}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.out:
        try:
            write_csv(args.out, table)
        except OSError as error:
            where = error.filename if error.filename is not None else args.out
            print(
                f"sweeper compare: error: cannot write to {where}: {error.strerror or error}",
                file=sys.stderr,
            )
            return 2
        print(f"wrote {args.out}")
    return 0


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one existing file (through links, `./`, ...)."""
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
