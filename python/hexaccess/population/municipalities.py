"""Municipality codes: the Åland list, the square -> municipality table and code checks.

Codes are strings that keep their leading zeros (``'091'``); an integer code has lost
them and is refused rather than guessed back. Unknown municipalities are ``None``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.errors import PopulationInputError

#: Municipality codes of the Åland Islands (region Ahvenanmaa). "Mainland Finland" in the
#: Ministry of Finance study = the country without these. Note: Mariehamn (478) belongs
#: here; with it excluded the 2021 census grid gives 5,439,866 people (without it:
#: 5,451,631).
ALAND_MUNICIPALITIES: tuple[str, ...] = (
    "035",  # Brändö
    "043",  # Eckerö
    "060",  # Finström
    "062",  # Föglö
    "065",  # Geta
    "076",  # Hammarland
    "170",  # Jomala
    "295",  # Kumlinge
    "318",  # Kökar
    "417",  # Lemland
    "438",  # Lumparland
    "478",  # Maarianhamina - Mariehamn
    "736",  # Saltvik
    "766",  # Sottunga
    "771",  # Sund
    "941",  # Vårdö
)


def _code_str(c: Any) -> str:
    """One municipality code given by the user, refused when it is an integer."""
    if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
        raise PopulationInputError(
            f"municipality code {c!r} is an integer; codes are strings that keep their "
            "leading zeros (e.g. '091')"
        )
    return str(c)


def _as_object_codes(values: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Codes as an object array of ``str``, with ``None`` for every missing value."""
    arr = np.asarray(values, dtype=object)
    out = np.empty(arr.shape, dtype=object)
    na = pd.isna(arr)
    out[na] = None
    out[~na] = [str(x) for x in arr[~na]]
    return out


def read_municipality_table(
    table: str | os.PathLike[str] | pd.DataFrame | Mapping[str, str],
    id_column: str = "GRD_ID",
    municipality_column: str = "municipality",
) -> pd.Series:
    """Square id -> municipality code (str, leading zeros kept) as a Series.

    ``table`` is a CSV path (e.g. ``grid_municipality.csv``), a DataFrame or a mapping.
    Duplicate ids and integer codes (which lost their leading zeros) are refused.
    """
    if isinstance(table, Mapping):
        s = pd.Series(dict(table), dtype=object)
    else:
        name, df = _table_frame(table)
        _check_table_columns(df, name, id_column, municipality_column)
        s = pd.Series(
            df[municipality_column].to_numpy(dtype=object), index=df[id_column].astype(str)
        )
        _refuse_duplicate_ids(s.index, name)
    return s.astype(object).where(s.notna(), None)


def _table_frame(table: str | os.PathLike[str] | pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """``(name for messages, frame)``; a CSV is read as text so codes keep their zeros."""
    if isinstance(table, pd.DataFrame):
        return "municipality table", table
    name = str(table)
    try:
        return name, pd.read_csv(table, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise PopulationInputError(f"{name}: file not found") from None


def _check_table_columns(
    df: pd.DataFrame, name: str, id_column: str, municipality_column: str
) -> None:
    """Both key columns present and the codes not numbers (they would lack their zeros)."""
    for c in (id_column, municipality_column):
        if c not in df.columns:
            raise PopulationInputError(
                f"{name}: missing column {c!r} (columns: {list(df.columns)}); pass "
                "id_column= / municipality_column="
            )
    if pd.api.types.is_numeric_dtype(df[municipality_column]):
        raise PopulationInputError(
            f"{name}: municipality codes are numbers and have lost their leading zeros; "
            f"read the table with dtype=str (codes like '091')"
        )


def _refuse_duplicate_ids(ids: pd.Index, name: str) -> None:
    """One municipality per square: a repeated id is refused, naming both lines."""
    dup = ids.duplicated(keep=False)
    if dup.any():
        rows = np.flatnonzero(dup)[:2]
        raise PopulationInputError(
            f"{name}: id {ids[rows[0]]!r} appears twice (lines {rows[0] + 2} and "
            f"{rows[1] + 2}, header = line 1); keep one municipality per square"
        )


def _lookup_municipality(
    ids: pd.Index | pd.Series, table: Any, source: str, report: dict[str, Any]
) -> npt.NDArray[np.object_]:
    """Municipality code (or ``None``) of each square id; counts the misses in
    ``report['squares_without_municipality']``."""
    if isinstance(table, pd.Series):
        s = table
    else:
        s = read_municipality_table(table)
    muni = pd.Series(s.to_numpy(dtype=object), index=s.index.astype(str)).reindex(
        pd.Index(np.asarray(ids, dtype=object).astype(str))
    )
    out = _as_object_codes(muni.to_numpy(dtype=object))
    missing = int(sum(m is None for m in out))
    report["squares_without_municipality"] = missing
    return out
