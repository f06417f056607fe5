"""Edge attributes from feature attributes, shared by the readers, the diagnostics and
the hexagon graph: canonical class keys, class speeds, one-way flags, travel times."""

from __future__ import annotations

from collections import Counter

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.errors import RoadDataError
from hexaccess.network.model import F64
from hexaccess.profiles import SpeedProfile, _class_key

_ONEWAY_FWD = {"1", "yes", "true", "t", "y", "ft"}
_ONEWAY_REV = {"-1", "reverse", "tf"}
_ONEWAY_NO = {"0", "no", "false", "f", "n", "", "none", "nan", "b"}


def _rows_text(rows: np.ndarray, limit: int = 5) -> str:
    """The first ``limit`` row numbers for an error message, with the total beyond."""
    rows = np.asarray(rows)
    txt = ", ".join(str(int(r)) for r in rows[:limit])
    return txt + (f", ... ({rows.size} rows)" if rows.size > limit else "")


def _class_keys(values: np.ndarray) -> np.ndarray:
    """Canonical string key of each class value (vectorised over unique values)."""
    inv, uniq = pd.factorize(pd.Series(values), use_na_sentinel=False)
    keys = np.array([_class_key(u) for u in uniq], dtype=object)
    return keys[inv] if len(keys) else np.zeros(0, dtype=object)


def _class_speeds(keys: np.ndarray, profile: SpeedProfile, class_column: str) -> F64:
    """Profile speed (km/h) of each class key (from :func:`_class_keys`); NaN where the
    profile's ``[speeds_kmh.<class_column>]`` table has no entry for the key."""
    table = profile.class_speeds_kmh[class_column]
    return pd.Series(keys, dtype=object).map(table).to_numpy(dtype=np.float64, na_value=np.nan)


def _speeds_for(
    keys: np.ndarray,
    profile: SpeedProfile,
    class_column: str,
    where: str,
    rows: np.ndarray,
) -> F64:
    """Like :func:`_class_speeds`, but a class without a speed is an error naming the
    values, their rows and the fix."""
    speed = _class_speeds(keys, profile, class_column)
    unknown = np.isnan(speed)
    if unknown.any():
        counts = Counter(keys[unknown].tolist())
        listing = ", ".join(
            f"{v!r} ({n} rows, first row {int(rows[unknown][keys[unknown] == v][0])})"
            for v, n in sorted(counts.items())
        )
        v0 = sorted(counts)[0]
        raise RoadDataError(
            f"{where}: {class_column} values not in speed profile {profile.name!r} "
            f"({profile.source}): {listing}. Add a speed under [speeds_kmh.{class_column}] "
            f"(or list the value under [exclude] {class_column} = [...] if the mode may not "
            f"use it), e.g. profile.with_overrides(speeds_kmh__{class_column}__{v0}=50)"
        )
    return speed


def _edge_times(
    length_m: F64,
    speed_kmh: F64,
    ferry: np.ndarray,
    profile: SpeedProfile,
    boarding: np.ndarray | None = None,
) -> F64:
    """Travel time per edge. Ferry edges run at the ferry speed; the edges flagged in
    ``boarding`` (default: every ferry edge) also pay the boarding time. Lines split at
    their shape points flag only one piece per ferry line, so a crossing pays it once."""
    t = np.empty_like(length_m)
    road = ~ferry
    t[road] = length_m[road] / (speed_kmh[road] / 3.6)
    t[ferry] = length_m[ferry] / (profile.ferry_speed_kmh / 3.6)
    board = ferry if boarding is None else ferry & boarding
    t[board] += profile.ferry_boarding_s
    return t


def _parse_oneway(values: np.ndarray, where: str, column: str) -> npt.NDArray[np.int8]:
    """Oneway column → +1 forward, -1 reverse, 0 two-way (unknown values raise)."""
    keys = _class_keys(values)
    out = np.zeros(keys.shape[0], dtype=np.int8)
    lower = np.array([k.strip().lower() for k in pd.unique(keys)], dtype=object)
    uniq = pd.unique(keys)
    for k, low in zip(uniq, lower, strict=True):
        if low in _ONEWAY_FWD:
            out[keys == k] = 1
        elif low in _ONEWAY_REV:
            out[keys == k] = -1
        elif low not in _ONEWAY_NO:
            rows = np.flatnonzero(keys == k)
            raise RoadDataError(
                f"{where}: column {column!r} has value {k!r} (rows {_rows_text(rows)}); "
                "expected yes/true/1 (one-way along the line), -1/reverse (against it) "
                "or no/false/0/empty (two-way)"
            )
    return out
