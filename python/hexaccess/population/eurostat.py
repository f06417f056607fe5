"""Reader of the Eurostat Census 2021 grid CSV (``GRD_ID`` + counts per square)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.errors import PopulationInputError
from hexaccess.population._checks import (
    _check_counts,
    _check_output_names,
    _first_duplicate,
    _warn_user,
    read_csv_checked,
)
from hexaccess.population.apportion import DEFAULT_SAMPLES, _squares_to_grid
from hexaccess.population.grid import DEFAULT_RESOLUTION, PopulationGrid, _check_resolution
from hexaccess.population.municipalities import (
    EXCLUDE_OPTION,
    _check_codes_known,
    _code_str,
    _lookup_municipality,
    read_municipality_table,
)

#: Eurostat Census 2021 grid column -> friendly name used by hexaccess.
EUROSTAT_COLUMNS: dict[str, str] = {
    "T": "total",
    "M": "male",
    "F": "female",
    "Y_LT15": "under_15",
    "Y_1564": "age_15_64",
    "Y_GE65": "age_65_plus",
    "EMP": "employed",
}

_GRD_ID_RE = (
    r"^CRS(?P<epsg>\d+)RES(?P<size>\d+(?:\.\d+)?)(?P<unit>m|km)"
    r"N(?P<n>-?\d+(?:\.\d+)?)E(?P<e>-?\d+(?:\.\d+)?)$"
)


def _line(i: int) -> str:
    """CSV row ``i`` (0-based, data rows) as the line a text editor shows."""
    return f"line {i + 2} (header = line 1)"


def read_eurostat_grid(
    path: str | os.PathLike[str],
    resolution: int = DEFAULT_RESOLUTION,
    columns: Sequence[str] | Mapping[str, str] | None = None,
    municipality_table: str | os.PathLike[str] | pd.DataFrame | Mapping[str, str] | None = None,
    *,
    names: str = "friendly",
    samples: int = DEFAULT_SAMPLES,
    exclude_municipalities: Sequence[str] | None = None,
) -> PopulationGrid:
    """Read a Eurostat Census 2021 grid CSV and apportion it to H3 cells.

    ``GRD_ID`` encodes each square, e.g. ``CRS3035RES1000mN6670000E5000000``: EPSG code,
    side (``m`` or ``km``) and the lower-left corner (northing, easting); any square
    size works, sizes may differ between rows, but all rows must share one CRS.

    Parameters
    ----------
    path:
        CSV file with ``GRD_ID`` and count columns (``T``, ``M``, ``F``, ``Y_LT15``,
        ``Y_1564``, ``Y_GE65``, ``EMP``).
    resolution:
        H3 resolution of the result (default 8, cells of ~0.74 km^2).
    columns:
        Columns to load: raw (``'Y_GE65'``) or friendly (``'age_65_plus'``) names, or a
        mapping raw/friendly -> output name. Default: every known Eurostat column present
        (the file must then have the total, ``T``: without it another column would be
        taken for everyone). A name that is neither is refused, listing the valid ones.
    municipality_table:
        ``GRD_ID`` -> municipality code (CSV path with columns ``GRD_ID, municipality``,
        DataFrame, or mapping). Squares missing from it get an unknown municipality
        (counted in ``load_report`` and warned about).
    names:
        ``'friendly'`` (``total``, ``age_65_plus``, ..., see :data:`EUROSTAT_COLUMNS`) or
        ``'raw'`` (``T``, ``Y_GE65``, ...) output column names.
    samples:
        Lattice size ``s`` (``s*s`` points per square); area error ~ ``1/s``.
    exclude_municipalities:
        Drop these municipalities' squares before apportioning (exact region totals,
        e.g. :data:`ALAND_MUNICIPALITIES`); needs ``municipality_table``. Every code must
        be in the table (else the unknown codes and their near matches are named); the
        squares and people removed are in ``load_report['excluded_squares']`` and
        ``load_report['excluded']``.

    Notes
    -----
    See :mod:`hexaccess.population.apportion` for the apportionment method and its
    guarantees: every column's total is preserved exactly (minus excluded
    municipalities).
    """
    t0 = time.perf_counter()
    source = str(path)
    resolution = _check_resolution(resolution, apportion=True)
    df = _read_csv(path, source)
    raw_cols, out_cols = _eurostat_columns(df, columns, names, source)
    ids = df["GRD_ID"].astype(str).str.strip()
    parsed = _parse_grd_ids(ids, source)
    _refuse_duplicate_ids(ids, source)
    values = _check_counts(df, raw_cols, _line, source)
    x0, y0, size = _square_corners(parsed, ids, source)
    report: dict[str, Any] = {"source": source, "loader": "read_eurostat_grid"}
    muni, keep = _municipalities(
        ids, municipality_table, exclude_municipalities, values, out_cols, source, report
    )
    idx_keep = np.flatnonzero(keep)
    report["squares"] = int(idx_keep.size)
    grid = _squares_to_grid(
        x0=x0[idx_keep],
        y0=y0[idx_keep],
        width=size[idx_keep],
        height=size[idx_keep],
        values=values[idx_keep],
        muni=None if muni is None else muni[idx_keep],
        columns=out_cols,
        crs=f"EPSG:{parsed['epsg'].iloc[0]}",
        resolution=resolution,
        samples=samples,
        describe=lambda i: f"{_line(int(idx_keep[i]))} (GRD_ID {ids.iloc[int(idx_keep[i])]})",
        source=source,
        report=report,
    )
    grid.load_report["seconds"] = round(time.perf_counter() - t0, 3)
    return grid


def _read_csv(path: str | os.PathLike[str], source: str) -> pd.DataFrame:
    """The CSV with ``GRD_ID`` as text and empty cells (only) as missing; every file
    problem (missing, empty, not CSV, not UTF-8) named."""
    df, _ = read_csv_checked(
        path, "population file", dtype={"GRD_ID": str}, keep_default_na=False, na_values=[""]
    )
    return df


def _eurostat_columns(
    df: pd.DataFrame,
    columns: Sequence[str] | Mapping[str, str] | None,
    names: str,
    source: str,
) -> tuple[list[str], list[str]]:
    """``(raw columns to read, output names)``, checked against the file; refuses a file
    without ``GRD_ID`` or without data rows."""
    if "GRD_ID" not in df.columns:
        raise PopulationInputError(
            f"{source}: missing column 'GRD_ID' (columns: {list(df.columns)}); this loader "
            "reads Eurostat census grid CSVs"
        )
    raw_cols, out_cols = _resolve_columns(list(df.columns), columns, names)
    missing = [c for c in raw_cols if c not in df.columns]
    if missing:
        raise PopulationInputError(
            f"{source}: missing column(s) {missing} (columns: {list(df.columns)}); choose "
            "existing columns with columns=[...]"
        )
    _check_output_names(out_cols)
    if len(df) == 0:
        raise PopulationInputError(f"{source}: no data rows; nothing to load")
    return raw_cols, out_cols


def _valid_names(available: Sequence[str]) -> str:
    """The column names a Eurostat file offers, for messages: ``friendly (raw)``."""
    names = [f"{EUROSTAT_COLUMNS[c]} ({c})" for c in available if c in EUROSTAT_COLUMNS]
    other = [c for c in available if c not in EUROSTAT_COLUMNS and c != "GRD_ID"]
    return ", ".join(names + other) or "none"


def _resolve_columns(
    available: Sequence[str], columns: Sequence[str] | Mapping[str, str] | None, names: str
) -> tuple[list[str], list[str]]:
    """Eurostat: -> (raw source columns, output names)."""
    if names not in ("friendly", "raw"):
        raise PopulationInputError(f"names= must be 'friendly' or 'raw', got {names!r}")
    friendly_to_raw = {v: k for k, v in EUROSTAT_COLUMNS.items()}
    if columns is None:
        raw = [c for c in available if c in EUROSTAT_COLUMNS]  # file order
        if not raw:
            raise PopulationInputError(
                f"no Eurostat count column ({', '.join(EUROSTAT_COLUMNS)}) found; columns "
                f"present: {list(available)}; pass columns=[...]"
            )
        if "T" not in raw:
            raise PopulationInputError(
                f"no 'T' column (everyone: the total) among {list(available)}; say which "
                f"column(s) to count with columns=[...] (--population-columns), one of: "
                f"{_valid_names(available)}"
            )
        out = [EUROSTAT_COLUMNS[c] if names == "friendly" else c for c in raw]
        return raw, out
    given = list(columns)
    unknown = [c for c in given if c not in friendly_to_raw and c not in available]
    unknown = [c for c in unknown if c not in EUROSTAT_COLUMNS]
    if unknown:
        raise PopulationInputError(
            f"unknown population column(s) {unknown} for a Eurostat census grid; valid "
            f"names in this file: {_valid_names(available)}"
        )
    raw = [friendly_to_raw.get(c, c) for c in given]
    if isinstance(columns, Mapping):
        return raw, list(columns.values())
    out = [EUROSTAT_COLUMNS.get(r, r) if names == "friendly" else r for r in raw]
    return raw, out


def _parse_grd_ids(ids: pd.Series, source: str) -> pd.DataFrame:
    """``GRD_ID`` split into ``epsg``, ``size``, ``unit``, ``n``, ``e`` (text); every id
    must parse and share the first row's CRS."""
    parsed = ids.str.extract(_GRD_ID_RE)
    bad = parsed["epsg"].isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise PopulationInputError(
            f"{source}: {_line(i)}: GRD_ID {ids.iloc[i]!r} is not of the form "
            "'CRS3035RES1000mN6670000E5000000' (CRS, side, lower-left northing/easting)"
        )
    epsg = parsed["epsg"].to_numpy()
    if (epsg != epsg[0]).any():
        i = int(np.flatnonzero(epsg != epsg[0])[0])
        raise PopulationInputError(
            f"{source}: {_line(i)}: GRD_ID {ids.iloc[i]!r} is in EPSG:{epsg[i]}, but line 2 "
            f"is in EPSG:{epsg[0]}; split the file by CRS"
        )
    return parsed


def _refuse_duplicate_ids(ids: pd.Series, source: str) -> None:
    """A square listed twice would count its people twice: refused, naming both lines."""
    pair = _first_duplicate(ids)
    if pair is not None:
        a, b = pair
        raise PopulationInputError(
            f"{source}: GRD_ID {ids.iloc[a]!r} appears twice ({_line(a)} and "
            f"{_line(b)}); remove the duplicate row (duplicates are refused, not summed)"
        )


def _square_corners(
    parsed: pd.DataFrame, ids: pd.Series, source: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``(easting, northing, side)`` of each square's lower-left corner, in metres."""
    unit = np.where(parsed["unit"].to_numpy() == "km", 1000.0, 1.0)
    size = parsed["size"].to_numpy(dtype=np.float64) * unit
    if (size <= 0).any():
        i = int(np.flatnonzero(size <= 0)[0])
        raise PopulationInputError(f"{source}: {_line(i)}: square side is zero in {ids.iloc[i]!r}")
    north = parsed["n"].to_numpy(dtype=np.float64)
    east = parsed["e"].to_numpy(dtype=np.float64)
    return east, north, size


def _municipalities(
    ids: pd.Series,
    table: str | os.PathLike[str] | pd.DataFrame | Mapping[str, str] | None,
    exclude: Sequence[str] | None,
    values: npt.NDArray[np.int64],
    out_cols: list[str],
    source: str,
    report: dict[str, Any],
) -> tuple[npt.NDArray[np.object_] | None, npt.NDArray[np.bool_]]:
    """``(municipality per square or None, squares to keep)``: looked up in ``table``
    (squares missing from it warned about) and without the ``exclude`` municipalities,
    every one of which must be in the table."""
    muni = None
    if table is not None:
        series = read_municipality_table(table)
        muni = _lookup_municipality(ids, series, source, report)
        if report["squares_without_municipality"]:
            miss = np.array([m is None for m in muni])
            _warn_user(
                f"{source}: {int(miss.sum()):,} squares ({int(values[miss, 0].sum()):,} "
                f"{out_cols[0]}) are not in the municipality table; their municipality is "
                "unknown"
            )
    elif exclude is not None:
        raise PopulationInputError(
            "exclude_municipalities needs municipality_table (--municipality-table): the "
            "square -> municipality table tells which squares to leave out"
        )
    keep = np.ones(len(ids), dtype=bool)
    if exclude is not None:
        ex = [_code_str(c) for c in exclude]
        known = {c for c in series.to_numpy(dtype=object) if c is not None}
        table_name = f"the municipality table {series.attrs.get('source', '')}".strip()
        absent = _check_codes_known(ex, known, table_name, EXCLUDE_OPTION)
        ex_set = set(ex)
        keep = np.array([m not in ex_set for m in muni], dtype=bool)  # type: ignore[union-attr]
        report["excluded_squares"] = int((~keep).sum())
        report["excluded"] = {c: int(values[~keep, j].sum()) for j, c in enumerate(out_cols)}
        if not keep.any():
            raise PopulationInputError(
                f"{source}: every square is in an excluded municipality; nothing is left"
            )
        report["municipality_filter"] = {
            "excluded_codes": [c for c in dict.fromkeys(ex) if c not in absent],
            "codes_not_in_table": absent,
            "squares_removed": report["excluded_squares"],
            "removed": dict(report["excluded"]),
            "kept": {c: int(values[keep, j].sum()) for j, c in enumerate(out_cols)},
            "column": "total" if "total" in out_cols else out_cols[0],
            "unit": "squares",
        }
    return muni, keep
