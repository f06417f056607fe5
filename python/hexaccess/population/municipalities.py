"""Municipality codes: the Åland list, the square -> municipality table and code checks.

Codes are strings that keep their leading zeros (``'091'``). Finnish codes have
:data:`CODE_WIDTH` = 3 digits (the Åland list and the municipalities table show it), so
a table whose codes lost their zeros (``91``, as spreadsheet programs save them) gets
them back, with a warning; a code given by the user as an integer is refused rather
than guessed back. Unknown municipalities are ``None``.

Every code of an include/exclude list must be in the municipality table: a code that
matches nothing (``0091``, ``999``) is refused, naming the near matches, because a
filter that removes no one would silently keep those people in every figure.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.errors import PopulationInputError
from hexaccess.population._checks import RowNamer, _warn_user, read_csv_checked

#: Digits of a municipality code: Finland's codes are 3 digits (``'091'`` Helsinki).
CODE_WIDTH = 3
#: How the exclusion list is named in messages (the API keyword and the CLI option).
EXCLUDE_OPTION = "exclude_municipalities (--exclude-municipalities)"
#: A code saved as a float (``'91.0'``: a column with gaps read as numbers).
_FLOAT_CODE = re.compile(r"\d+\.0+")

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


def _csv_line(i: int) -> str:
    return f"line {i + 2} (header = line 1)"


def _normalise_codes(
    codes: npt.NDArray[np.object_], name: str, where: RowNamer = _csv_line
) -> npt.NDArray[np.object_]:
    """Codes (``str`` or ``None``) with lost leading zeros restored to
    :data:`CODE_WIDTH` digits, with a warning; ``'91.0'`` (a code saved as a float) is
    read as ``'91'``. Digit codes of different lengths above that width are refused:
    their width cannot be known. ``where(i)`` names row ``i`` (0-based) in messages."""
    known = np.array([c is not None for c in codes], dtype=bool)
    text = np.array([str(c).strip() for c in codes[known]], dtype=object)
    text = np.array([c[: c.index(".")] if _FLOAT_CODE.fullmatch(c) else c for c in text])
    text = text.astype(object)
    out = codes.copy()
    out[known] = text
    if not text.size or not all(c.isdigit() for c in text):
        return out
    lengths = np.array([len(c) for c in text])
    if lengths.min() == lengths.max() and not (lengths.max() < CODE_WIDTH):
        return out
    rows = np.flatnonzero(known)
    if lengths.max() > CODE_WIDTH:
        a, b = int(np.argmin(lengths)), int(np.argmax(lengths))
        raise PopulationInputError(
            f"{name}: municipality codes have different lengths ({text[a]!r} on "
            f"{where(int(rows[a]))}, {text[b]!r} on {where(int(rows[b]))}); "
            "write every code with its leading zeros (read the file as text)"
        )
    short = lengths < CODE_WIDTH
    example = text[short][0]
    out[rows[short]] = [c.zfill(CODE_WIDTH) for c in text[short]]
    _warn_user(
        f"{name}: {int(short.sum()):,} municipality codes had lost their leading zeros "
        f"(e.g. {example!r}); read as {CODE_WIDTH}-digit codes ({example.zfill(CODE_WIDTH)!r})"
    )
    return out


def _near_matches(code: str, known: Iterable[str]) -> list[str]:
    """Codes of ``known`` close to ``code``: the same number with leading zeros
    restored or removed (``0091`` -> ``091``), then similar spellings."""
    known = sorted(set(known))
    out = []
    padded = (code.lstrip("0") or "0").zfill(CODE_WIDTH)
    if code.isdigit() and padded in known and padded != code:
        out.append(padded)
    out += [c for c in difflib.get_close_matches(code, known, n=3, cutoff=0.6) if c not in out]
    return out[:3]


def _check_codes_known(
    codes: Iterable[str], known: Iterable[str], table: str, option: str
) -> list[str]:
    """Refuse codes of an include/exclude list (``option`` names it) that are not in
    ``known``, the codes of ``table`` (a phrase: "the municipality table X"), listing
    them and their near matches. The 16 Åland codes given together (the word
    ``aland``) are one group: it must meet at least one of them; the Åland codes the
    table lacks are returned (to be reported), not refused."""
    codes = list(dict.fromkeys(codes))
    known_set = {str(k) for k in known}
    aland = set(ALAND_MUNICIPALITIES)
    group = aland <= set(codes)
    unknown = [c for c in codes if c not in known_set]
    tolerated = [c for c in unknown if group and c in aland]
    if group and len(tolerated) == len(aland):
        raise PopulationInputError(
            f"{option}: none of the {len(aland)} Åland municipality codes ('aland' = "
            f"{', '.join(ALAND_MUNICIPALITIES)}) is in {table}; this "
            "population has no Åland municipality: leave 'aland' out (or check the table's "
            "codes)"
        )
    hard = [c for c in unknown if c not in tolerated]
    if hard:
        near = "; ".join(
            f"{c!r}: " + (", ".join(repr(m) for m in _near_matches(c, known_set)) or "none")
            for c in hard
        )
        sample = ", ".join(sorted(known_set)[:8]) + (", ..." if len(known_set) > 8 else "")
        raise PopulationInputError(
            f"{option}: code(s) {', '.join(repr(c) for c in hard)} match no municipality of "
            f"{table} ({len(known_set):,} codes: {sample}); near "
            f"matches: {near}; give codes as the table writes them ({CODE_WIDTH} digits "
            "with leading zeros, e.g. '091')"
        )
    return tolerated


def check_municipality_codes(
    codes: Iterable[str], known: Iterable[str], where: str, option: str = EXCLUDE_OPTION
) -> list[str]:
    """Refuse every code of ``codes`` that is not among ``known`` (the codes of
    ``where``, e.g. "the municipality table grid_municipality.csv"), naming the near
    matches; returns the Åland codes tolerated as absent (see the module docstring)."""
    return _check_codes_known([_code_str(c) for c in codes], known, where, option)


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
    Duplicate ids and integer codes (which lost their leading zeros) are refused; codes
    read as text that lost them (``91``) get them back (see :func:`_normalise_codes`).
    """
    if isinstance(table, Mapping):
        s = pd.Series(dict(table), dtype=object)
        name = "municipality table (mapping)"
        s.index = s.index.astype(str)
    else:
        name, df = _table_frame(table)
        _check_table_columns(df, name, id_column, municipality_column)
        s = pd.Series(
            df[municipality_column].to_numpy(dtype=object),
            index=df[id_column].astype(str).str.strip(),
        )
        _refuse_duplicate_ids(s.index, name)
    if len(s) == 0:
        raise PopulationInputError(f"{name}: the municipality table has no rows")
    codes = _normalise_codes(_as_object_codes(s.to_numpy(dtype=object)), name)
    out = pd.Series(codes, index=s.index, dtype=object)
    out.attrs["source"] = name
    return out


def _table_frame(table: str | os.PathLike[str] | pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """``(name for messages, frame)``; a CSV is read as text so codes keep their zeros."""
    if isinstance(table, pd.DataFrame):
        return "municipality table (DataFrame)", table
    if not isinstance(table, (str, os.PathLike)):
        raise PopulationInputError(
            f"municipality_table must be a CSV path, a DataFrame or a mapping; got "
            f"{type(table).__name__}"
        )
    df, name = read_csv_checked(
        table, "municipality table", dtype=str, keep_default_na=False, na_values=[""]
    )
    return name, df


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
    ``report['squares_without_municipality']``. A table that matches no square is
    refused: it belongs to another grid (or its ids are written differently)."""
    s = table if isinstance(table, pd.Series) else read_municipality_table(table)
    keys = pd.Index(np.asarray(ids, dtype=object).astype(str))
    muni = pd.Series(s.to_numpy(dtype=object), index=s.index.astype(str)).reindex(keys)
    out = _as_object_codes(muni.to_numpy(dtype=object))
    matched = keys.isin(s.index.astype(str))
    if len(keys) and not matched.any():
        name = s.attrs.get("source", "municipality table")
        raise PopulationInputError(
            f"{source}: none of its {len(keys):,} square ids is in the municipality table "
            f"{name} (the population's ids look like {keys[0]!r}, the table's like "
            f"{str(s.index[0])!r}); give the municipality table of this grid"
        )
    report["squares_without_municipality"] = int(sum(m is None for m in out))
    return out
