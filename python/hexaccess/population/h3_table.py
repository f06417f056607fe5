"""Reader of tables already keyed by H3 cell (CSV, Parquet or a DataFrame)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess._files import check_input_file
from hexaccess.errors import PopulationInputError
from hexaccess.h3 import cell_resolution, cell_to_parent, str_to_cell, valid_cell_mask
from hexaccess.population._checks import (
    RowNamer,
    _check_counts,
    _first_duplicate,
    _split_columns,
    read_csv_checked,
)
from hexaccess.population.grid import PopulationGrid, _check_resolution, _grid_from_parts
from hexaccess.population.municipalities import _as_object_codes, _normalise_codes


def _row(i: int) -> str:
    return f"row {i} (0-based)"


def _line(i: int) -> str:
    return f"line {i + 2} (header = line 1)"


def read_h3_table(
    path_or_frame: str | os.PathLike[str] | pd.DataFrame,
    cell_column: str = "h3",
    value_columns: Sequence[str] | Mapping[str, str] | None = None,
    *,
    resolution: int | None = None,
    municipality_column: str | None = None,
) -> PopulationGrid:
    """Read a table of people per H3 cell (CSV, Parquet or a DataFrame).

    Cells are hexadecimal strings (``'881f1d4a9bfffff'``) or integers. ``value_columns``
    (default: every numeric column except the cell and municipality columns) must hold
    non-negative whole numbers.

    Resolution: by default all cells must share one resolution. With ``resolution=r``,
    cells finer than ``r`` are aggregated exactly to their parent at ``r`` (their counts
    summed; the parent's municipality is the one with most people, ties to the lower
    code); cells coarser than ``r`` are refused, since splitting them would invent a
    distribution. Duplicate cells (before aggregation) are refused, naming both rows.
    """
    df, source, where = _read_table(path_or_frame, cell_column, municipality_column)
    src_cols, out_cols = _table_columns(df, cell_column, value_columns, municipality_column, source)
    raw = df[cell_column]
    cells = _parse_cells(raw, where, source)
    pair = _first_duplicate(cells)
    if pair is not None:
        a, b = pair
        raise PopulationInputError(
            f"{source}: cell {raw.iloc[a]} appears twice ({where(a)} and "
            f"{where(b)}); remove the duplicate (duplicates are refused, not summed)"
        )
    values = _check_counts(df, src_cols, where, source)
    report: dict[str, Any] = {"source": source, "loader": "read_h3_table", "rows": len(df)}
    cells, resolution = _at_resolution(cells, resolution, where, source, report)
    muni = None
    if municipality_column:
        muni = _normalise_codes(_as_object_codes(df[municipality_column].to_numpy()), source, where)
    return _grid_from_parts(cells, muni, values, out_cols, resolution, report)


def _read_table(
    path_or_frame: str | os.PathLike[str] | pd.DataFrame,
    cell_column: str,
    municipality_column: str | None,
) -> tuple[pd.DataFrame, str, RowNamer]:
    """``(table, source name, row namer)``; CSV cells and codes are read as text."""
    if isinstance(path_or_frame, pd.DataFrame):
        return path_or_frame.reset_index(drop=True), "DataFrame", _row
    source = str(path_or_frame)
    suffix = Path(path_or_frame).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path_or_frame, source), source, _row
    dtypes = {cell_column: str}
    if municipality_column:
        dtypes[municipality_column] = str
    df, _ = read_csv_checked(
        path_or_frame, "population file", dtype=dtypes, keep_default_na=False, na_values=[""]
    )
    return df, source, _line


def _read_parquet(path: str | os.PathLike[str], source: str) -> pd.DataFrame:
    """A Parquet table, its file checked first (missing, empty, not Parquet, cut
    short) and a corrupt file named."""
    import pyarrow as pa

    p = check_input_file(path, "population file", kinds=("parquet",))
    try:
        return pd.read_parquet(p)
    except (OSError, pa.ArrowException) as e:
        raise PopulationInputError(
            f"{source}: cannot read as Parquet ({e}); the file is corrupt or not Parquet"
        ) from None


def _table_columns(
    df: pd.DataFrame,
    cell_column: str,
    value_columns: Sequence[str] | Mapping[str, str] | None,
    municipality_column: str | None,
    source: str,
) -> tuple[list[str], list[str]]:
    """``(count columns to read, output names)``, checked against the table; the
    default is every numeric column but the cell and municipality ones."""
    if cell_column not in df.columns:
        raise PopulationInputError(
            f"{source}: missing cell column {cell_column!r} (columns: {list(df.columns)}); "
            "pass cell_column="
        )
    if len(df) == 0:
        raise PopulationInputError(f"{source}: no rows; nothing to load")
    if value_columns is None:
        src_cols = [
            c
            for c in df.columns
            if c not in (cell_column, municipality_column) and pd.api.types.is_numeric_dtype(df[c])
        ]
        out_cols = list(src_cols)
        if not src_cols:
            raise PopulationInputError(f"{source}: no numeric count column; pass value_columns=")
    else:
        src_cols, out_cols = _split_columns(value_columns)
    missing = [
        c
        for c in [*src_cols, *([municipality_column] if municipality_column else [])]
        if c not in df.columns
    ]
    if missing:
        raise PopulationInputError(
            f"{source}: missing column(s) {missing} (columns: {list(df.columns)})"
        )
    return src_cols, out_cols


def _parse_cells(raw: pd.Series, where: RowNamer, source: str) -> npt.NDArray[np.uint64]:
    """H3 cells of the cell column: integers or hexadecimal strings, each a valid cell."""
    if pd.api.types.is_integer_dtype(raw):
        if (raw.to_numpy() < 0).any():
            i = int(np.flatnonzero(raw.to_numpy() < 0)[0])
            raise PopulationInputError(f"{source}: {where(i)}: {raw.iloc[i]} is not an H3 cell")
        cells = raw.to_numpy().astype(np.uint64)
    else:
        try:
            cells = str_to_cell([str(s).strip() for s in raw])
        except ValueError as e:
            i = int(re.match(r"entry (\d+)", str(e)).group(1))  # type: ignore[union-attr]
            raise PopulationInputError(
                f"{source}: {where(i)}: {raw.iloc[i]!r} is not a hexadecimal H3 cell id"
            ) from None
    valid = valid_cell_mask(cells)
    if not valid.all():
        i = int(np.flatnonzero(~valid)[0])
        raise PopulationInputError(f"{source}: {where(i)}: {raw.iloc[i]!r} is not a valid H3 cell")
    return cells


def _at_resolution(
    cells: npt.NDArray[np.uint64],
    resolution: int | None,
    where: RowNamer,
    source: str,
    report: dict[str, Any],
) -> tuple[npt.NDArray[np.uint64], int]:
    """``(cells, resolution)``: the table's one resolution, or finer cells replaced by
    their parent at ``resolution`` (coarser cells refused)."""
    res = cell_resolution(cells)
    if resolution is None:
        if (res != res[0]).any():
            i = int(np.flatnonzero(res != res[0])[0])
            raise PopulationInputError(
                f"{source}: {where(i)}: cell is at resolution {res[i]} but the first is at "
                f"{res[0]}; pass resolution=<coarsest> to aggregate finer cells"
            )
        return cells, int(res[0])
    resolution = _check_resolution(resolution)
    coarse = res < resolution
    if coarse.any():
        i = int(np.flatnonzero(coarse)[0])
        raise PopulationInputError(
            f"{source}: {where(i)}: cell is at resolution {res[i]}, coarser than the "
            f"requested {resolution}; cells cannot be split without assumptions: request "
            f"resolution={int(res.min())} or apportion the coarse cells yourself"
        )
    report["aggregated_cells"] = int((res > resolution).sum())
    return cell_to_parent(cells, resolution), resolution
