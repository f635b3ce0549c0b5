"""HTML tables of report.html: cell formatting, the sortable results table, the pivot.

Every value is escaped here (`esc`), whatever its source, so text from job
folders shows as text. Numbers carry their exact value in `data-sort`, so the
page's script sorts by the number, not by the rounded text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sweeper.reports.results import FIRST, key_text


def esc(value: Any) -> str:
    """Any value as HTML text, quotes escaped too (safe inside attributes)."""
    return html.escape(str(value), quote=True)


def fmt(value: Any, key: bool = False, integral: bool = False) -> str:
    """A cell as shown: 4 decimals for metrics, `key_text` for swept keys (0.00443038, 5), `–`
    if missing.

    Integers, and floats of a column that holds only whole numbers (`integral`:
    epochs read back as floats), print as integers."""
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return "–"
    if key:  # as the pivot and the labels spell it: 5, not 5.0; 1234567 in full
        return key_text(value)
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isinf(value):
            return str(value)
        if integral and value.is_integer():
            return str(int(value)) if abs(value) < 1e15 else str(value)
        return f"{value:.4f}" if value == 0 or 1e-3 <= abs(value) < 1e5 else f"{value:.4g}"
    return str(value)


def config_label(row: pd.Series, keys: list[str]) -> str:
    """`optim.lr=0.00443038, loss=mse` (values as in the pivot; `job 3` when nothing was swept)."""
    if not keys:
        return f"job {row[FIRST]}"
    return ", ".join(f"{k}={fmt(row.get(k), key=True)}" for k in keys)


def _integral(column: pd.Series) -> bool:
    numbers = pd.to_numeric(column, errors="coerce").dropna()
    return pd.api.types.is_numeric_dtype(column) and bool((numbers % 1 == 0).all())


def _sort_key(value: Any) -> str | None:
    """The exact number a cell sorts by (its shown text may be rounded); None for text."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        return None
    return "" if math.isnan(value) else repr(float(value))


def _cell(value: Any, key: bool = False, integral: bool = False) -> str:
    sort = _sort_key(value)
    attrs = f' data-sort="{sort}"' if sort is not None else ' class="text"'
    return f"<td{attrs}>{esc(fmt(value, key, integral))}</td>"


def html_table(
    frame: pd.DataFrame,
    table_id: str,
    keys: tuple[str, ...] = (),
    row_class: list[str] | None = None,
    links: dict[str, str] | None = None,
) -> str:
    """A sortable, filterable table of `frame` (every value escaped).

    `keys` are columns formatted as swept values (`%g`); `row_class` one CSS class
    per row (`failed`, `is-best`); `links` maps a `job` value to a relative href."""
    header = "".join(f'<th class="text">{esc(c)}</th>' for c in frame.columns)
    integral = {c: _integral(frame[c]) for c in frame.columns}
    rows = []
    for i, (_, row) in enumerate(frame.iterrows()):
        cells = []
        for column in frame.columns:
            value = row[column]
            if column == FIRST and links and str(value) in links:
                cells.append(
                    f'<td class="text" data-sort="{esc(value)}">'
                    f'<a href="{esc(links[str(value)])}">{esc(value)}</a></td>'
                )
            else:
                cells.append(_cell(value, key=column in keys, integral=integral[column]))
        css = f' class="{row_class[i]}"' if row_class and row_class[i] else ""
        rows.append(f"<tr{css}>{''.join(cells)}</tr>")
    return (
        f'<div class="filter"><input id="{table_id}-filter" type="search" '
        f'placeholder="filter rows: words that must all appear" aria-label="filter {table_id}">'
        f'<span class="count" id="{table_id}-count"></span></div>'
        f'<div class="scroll"><table class="sortable" id="{table_id}">'
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def pivot_html(pivot: pd.DataFrame, legend: Sequence[str] = ()) -> str:
    """The summary pivot (index: all swept keys but the last; columns: the last), escaped,
    under the `legend` lines (what a cell is: `mean ± 95 % CI half-width (n)`, the best
    configuration), each a paragraph.

    Numbers with 4 decimals, missing as `–`; text (e.g. `0.98 ± 0.01`) as it is."""
    index_names = ["" if n is None else str(n) for n in pivot.index.names]
    column_key = pivot.columns.name
    header = "".join(f'<th class="text">{esc(n)}</th>' for n in index_names)
    header += "".join(
        f"<th>{esc(f'{column_key}={fmt(c, key=True)}' if column_key else c)}</th>"
        for c in pivot.columns
    )
    rows = []
    for index, values in zip(pivot.index, pivot.itertuples(index=False)):
        keys = index if isinstance(index, tuple) else (index,)
        cells = "".join(f'<td class="text">{esc(fmt(k, key=True))}</td>' for k in keys)
        cells += "".join(f"<td>{esc(fmt(v))}</td>" for v in values)
        rows.append(f"<tr>{cells}</tr>")
    return (
        "".join(f'<p class="meta legend">{esc(line)}</p>' for line in legend)
        + f'<div class="scroll"><table class="pivot"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
