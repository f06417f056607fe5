"""HTML tables of the report that fit the page: fixed layout over the container's width,
wrapped headers, the top rows shown and the whole table linked as the CSV file written
beside the report."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import numpy as np
import numpy.typing as npt
import pandas as pd

#: Words of column names written for readers in the headers (the CSV keeps the names;
#: every header's ``title`` is the CSV column).
_WORDS = {"pct": "%", "min": "min", "km": "km", "pp": "pp"}


def header(column: str) -> str:
    """A column name as a header: ``share_within_60min_pct`` -> ``share within 60min %``."""
    return " ".join(_WORDS.get(w, w) for w in str(column).split("_"))


def format_column(values: pd.Series, column: str, digits: int = 2) -> pd.Series:
    """Numbers for reading: people and visits whole with thousands separators, other
    floats with ``digits`` decimals, missing values empty; text unchanged."""
    if not pd.api.types.is_float_dtype(values):
        if pd.api.types.is_integer_dtype(values) and str(column).startswith(
            ("population", "visits")
        ):
            return values.map(lambda x: f"{x:,d}")
        return values.map(lambda x: "" if x is None or (isinstance(x, float) and x != x) else x)
    big = str(column).startswith(("population", "visits"))
    return values.map(lambda x: "" if pd.isna(x) else (f"{x:,.0f}" if big else f"{x:,.{digits}f}"))


def _cls(text: bool) -> str:
    return ' class="t"' if text else ""


def _colgroup(heads: list[str], cells: list[npt.NDArray[Any]]) -> str:
    """Column widths for the fixed layout, in proportion to what each column must hold
    without breaking a word: its longest header word or value (long text, which may
    wrap, counts as at most 22 characters)."""
    if not heads:
        return ""
    weights = []
    for h, values in zip(heads, cells, strict=True):
        word = max((len(w) for w in h.split()), default=1)
        value = max((len(str(v)) for v in values), default=1)
        weights.append(max(word, min(value, 22), 3) + 1.5)
    pct = np.asarray(weights) / sum(weights) * 100.0
    return "<colgroup>" + "".join(f'<col style="width:{p:.2f}%">' for p in pct) + "</colgroup>"


def file_link(directory: str | None, name: str) -> str:
    """A relative link to the table file ``name`` in ``directory`` (``""`` beside the
    report, ``"<network>/"`` for several networks), or ``""`` when the tables were not
    written beside the report (``directory`` is ``None``)."""
    if directory is None:
        return ""
    href = quote(f"{directory}{name}")
    return f'<a class="csv" href="{href}">{html.escape(name)}</a>'


def html_table(
    frame: pd.DataFrame,
    *,
    max_rows: int | None = None,
    digits: int = 2,
    link: str = "",
    what: str = "rows",
    order: str = "",
    css_class: str = "",
    columns: Sequence[str] | None = None,
    headers: bool = True,
) -> str:
    """``frame`` as an escaped HTML table that fits its container (the page's CSS: fixed
    layout, wrapped headers and cells), numbers formatted by :func:`format_column`.

    With ``max_rows``, only the first rows are shown, with a note "the first N of M
    ``what`` (``order``)" and ``link`` (from :func:`file_link`) to the whole table.
    ``columns`` picks and orders the columns shown (default all); ``headers=False``
    shows the column names as they are (no :func:`header` rewording). Text columns
    are left-aligned and get twice the width of a number column."""
    f = frame if columns is None else frame[[c for c in columns if c in frame.columns]]
    shown = f if max_rows is None else f.head(max_rows)
    text = [not pd.api.types.is_numeric_dtype(shown[c]) for c in shown.columns]
    name = header if headers else str
    head = "".join(
        f'<th{_cls(t)} title="{html.escape(str(c))}">{html.escape(name(c))}</th>'
        for c, t in zip(shown.columns, text, strict=True)
    )
    cells = {c: format_column(shown[c], c, digits).to_numpy() for c in shown.columns}
    rows = []
    for i in range(len(shown)):
        tds = "".join(
            f"<td{_cls(t)}>{html.escape(str(cells[c][i]))}</td>"
            for c, t in zip(shown.columns, text, strict=True)
        )
        rows.append(f"<tr>{tds}</tr>")
    cls = f' class="{css_class}"' if css_class else ""
    names = [name(c) for c in shown.columns]
    table = (
        f"<table{cls}>{_colgroup(names, list(cells.values()))}<thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    note = []
    if max_rows is not None and len(frame) > max_rows:
        order_text = f" ({order})" if order else ""
        note.append(f"the first {max_rows} of {len(frame):,} {what}{order_text}")
    if columns is not None and len(f.columns) < len(frame.columns):
        note.append(f"{len(f.columns)} of its {len(frame.columns)} columns")
    if link:
        note.append(f"whole table: {link}")
    if note:
        table += f'<p class="note">{"; ".join(note)}</p>'
    return table
