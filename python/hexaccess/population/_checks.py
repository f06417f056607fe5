"""Checks the population readers share: count columns, output names, repeated rows, and
warnings that point at the caller's line."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.errors import PopulationInputError

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
        raise PopulationInputError(
            f"{source}: {where(i)}: column {c!r} is {value!r}, not a count; "
            "fill missing counts with 0 or remove the row"
        )
    neg = num < 0
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise PopulationInputError(
            f"{source}: {where(i)}: column {c!r} is negative ({raw.iloc[i]}); counts must be >= 0"
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
