"""Checks the population readers share: count columns, output names, repeated rows, CSV
files (existence, format, text encoding), and warnings that point at the caller's line."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess._files import check_input_file, read_csv
from hexaccess.errors import PopulationInputError

#: Largest count accepted in one row (square, cell, pixel): more people than live on
#: Earth means a wrong column or a corrupt value, and keeps every sum far from int64
#: overflow (10^10 people x 10^8 rows < 2^63).
MAX_COUNT = 10**10

#: Text encodings tried, in order, when a CSV is not UTF-8 (Windows-1252 first: it is
#: what spreadsheet programs in Finland save; Latin-1 decodes any byte).
_FALLBACK_ENCODINGS = ("cp1252", "latin-1")

#: ``where(i)`` names row ``i`` of an input in an error message ("line 3 (header = line
#: 1)", "feature 2 (FID 3)", "pixel (row 0, col 1)").
RowNamer = Callable[[int], str]


def _check_counts(
    df: pd.DataFrame, cols: Sequence[str], where: RowNamer, source: str
) -> npt.NDArray[np.int64]:
    """Validate non-negative integer counts; ``where(i)`` names row i in errors."""
    out = np.empty((len(df), len(cols)), dtype=np.int64)
    for j, c in enumerate(cols):
        out[:, j] = _count_column(df[c], c, where, source)
    return out


def _count_column(raw: pd.Series, c: str, where: RowNamer, source: str) -> npt.NDArray[np.int64]:
    """One column as int64 counts: missing, negative and fractional values refused."""
    num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(num)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = raw.iloc[i]
        if isinstance(value, np.generic):  # print nan, not np.float64(nan)
            value = value.item()
        fix = (
            "an infinite value is not a count: fix the value or remove the row"
            if np.isinf(num[i])
            else "fill missing counts with 0 or remove the row"
        )
        raise PopulationInputError(
            f"{source}: {where(i)}: column {c!r} is {value!r}, not a count; {fix}"
        )
    neg = num < 0
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise PopulationInputError(
            f"{source}: {where(i)}: column {c!r} is negative ({raw.iloc[i]}); counts must be >= 0"
        )
    big = num > MAX_COUNT
    if big.any():
        i = int(np.flatnonzero(big)[0])
        raise PopulationInputError(
            f"{source}: {where(i)}: column {c!r} is {raw.iloc[i]}, too large for a count "
            f"(overflow: above {MAX_COUNT:,} people in one row); check that the column holds "
            "people and the value is not corrupt"
        )
    frac = num != np.floor(num)
    if frac.any():
        i = int(np.flatnonzero(frac)[0])
        raise PopulationInputError(
            f"{source}: {where(i)}: column {c!r} is {raw.iloc[i]}, not a whole number; "
            "round the counts or use read_population_raster for fractional estimates"
        )
    return num.astype(np.int64)


def _split_columns(
    value_columns: str | Sequence[str] | Mapping[str, str],
) -> tuple[list[str], list[str]]:
    """``(source columns, output names)`` from one name, a list or a source -> output
    mapping."""
    if isinstance(value_columns, Mapping):
        return list(value_columns), list(value_columns.values())
    src = [value_columns] if isinstance(value_columns, str) else list(value_columns)
    return src, list(src)


def _check_output_names(out_cols: Sequence[str]) -> None:
    """Output columns must be unique and leave ``municipality`` to the codes."""
    if len(set(out_cols)) != len(out_cols) or "municipality" in out_cols:
        raise PopulationInputError(
            f"output column names must be unique and not 'municipality': {list(out_cols)}"
        )


def _first_duplicate(keys: pd.Series | npt.NDArray[np.generic]) -> tuple[int, int] | None:
    """Positions of the first two rows holding the first repeated key; ``None`` when
    every key is different."""
    keys = pd.Series(keys)
    dup = keys.duplicated(keep=False).to_numpy()
    if not dup.any():
        return None
    first = keys.iloc[int(np.flatnonzero(dup)[0])]
    rows = np.flatnonzero((keys == first).to_numpy())[:2]
    return int(rows[0]), int(rows[1])


def _warn_user(message: str) -> None:
    """``UserWarning`` pointing at the first caller outside ``hexaccess.population``.

    The readers are split into steps; counting frames keeps the warning on the user's
    line (as ``stacklevel=2`` did when each reader was one function)."""
    frame = sys._getframe(0)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        "hexaccess.population"
    ):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, stacklevel=level)


def _undecodable(path: Path) -> tuple[int, int, str] | None:
    """``(line, byte, encoding to use)`` when ``path`` is not UTF-8: the first line
    (1-based) holding a byte UTF-8 cannot decode, that byte, and the first fallback
    encoding that decodes the whole file; ``None`` for UTF-8 text."""
    raw = path.read_bytes()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return 1, raw[0], "utf-16"
    try:
        raw.decode("utf-8")
        return None
    except UnicodeDecodeError as exc:
        line, byte = raw.count(b"\n", 0, exc.start) + 1, raw[exc.start]
    for enc in _FALLBACK_ENCODINGS:
        try:
            raw.decode(enc)
            return line, byte, enc
        except UnicodeDecodeError:
            continue
    return line, byte, "latin-1"  # pragma: no cover - latin-1 decodes every byte


def _parse_csv(p: Path, name: str, role: str, kwargs: dict[str, Any]) -> pd.DataFrame:
    """``pd.read_csv`` with its file errors named (a decode error passes through). A
    first data line with more fields than the header (pandas would silently turn the
    extra leading fields into an index) is refused."""
    try:
        df = read_csv(p, error=PopulationInputError, name=name, role=role, **kwargs)
        if "index_col" not in kwargs and not isinstance(df.index, pd.RangeIndex):
            raise PopulationInputError(
                f"{name}: line 2 of the {role} has more fields than the header line "
                f"({len(df.columns)}: {list(df.columns)}); fix the header or the row (a "
                "comma inside a value must be quoted)"
            )
        return df
    except pd.errors.EmptyDataError:
        raise PopulationInputError(
            f"{name}: {role} has no header line (no columns); give a CSV with a header"
        ) from None
    except pd.errors.ParserError as exc:
        raise PopulationInputError(
            f"{name}: {role} is not a well-formed CSV ({' '.join(str(exc).split())}); "
            "fix the row named (every row needs the header's number of fields)"
        ) from None


def read_csv_checked(
    path: str | os.PathLike[str], role: str, **kwargs: Any
) -> tuple[pd.DataFrame, str]:
    """``(table, name for messages)`` of a CSV input, with every file problem named:
    missing, a directory, empty, not CSV by its content, not parseable (the line), or
    not UTF-8. A file in another text encoding is read as Windows-1252 (or Latin-1)
    with a warning naming the first line that is not UTF-8."""
    p = check_input_file(path, role, kinds=("csv", "text", "gzip"))
    name = str(path)
    try:
        return _parse_csv(p, name, role, kwargs), name
    except UnicodeDecodeError:
        found = None if p.name.lower().endswith(".gz") else _undecodable(p)
    if found is None:
        raise PopulationInputError(
            f"{name}: {role} is not UTF-8 text; save it as UTF-8 (CSV UTF-8)"
        )
    line, byte, enc = found
    _warn_user(
        f"{name}: {role} is not UTF-8 (byte 0x{byte:02X} on line {line}); read as {enc}. "
        "Save it as UTF-8 to silence this"
    )
    return _parse_csv(p, name, role, {**kwargs, "encoding": enc}), name
