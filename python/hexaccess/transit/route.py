"""Routing by public transport + walking: the nearest office from every cell, for every
departure of a window, reduced to the minimum, R5's percentiles, the office and the
transfers of the median journey.

The work is done in the Rust core (``hexaccess._core.TransitProfiles``,
``rust/src/transit/``):

1. one backward profile Connection Scan from all offices at once (Dibbelt, Pajor,
   Strasser, Wagner: connections by decreasing departure, per stop a Pareto list of
   ``(departure, office arrival)``, per trip the arrival when staying seated; one round
   per allowed ride) gives, for every stop, "at this stop at ``τ`` -> earliest arrival
   at any office" for the whole window in one pass;
2. per cell and departure minute ``t``: the minimum of the walk-only time and, over the
   stops ``s`` within walking distance, ``profile_s(t + walk + boarding slack) - t``
   (rayon-parallel over cells, bit-identical for every thread count).

Rules (those of :mod:`hexaccess.transit.timetable`): see ``rust/src/transit/mod.rs``.
Walking legs: straight-line distance (metric CRS) x ``detour`` / speed, rounded up to
whole seconds, straight line at most ``max_walk_m``. Travel time = arrival at the office
- departure minute, in seconds; over ``max_time_s`` counts as unreachable (``inf``).

Percentiles follow R5 (r5py/r5r: ``TravelTimeReducer.findPercentileIndex``): no
interpolation, the ``p``-th percentile of the ``n`` departures' times sorted ascending
(unreachable last) is the element at index ``ceil(p / 100 * n) - 1`` (clamped to
``[0, n - 1]``): numpy's ``np.percentile(..., method="inverted_cdf")``. R5 then truncates
seconds to whole minutes; the times here stay in seconds. The *median journey* is the
earliest departure minute whose time is the median; its office and transfers are those
of its fastest journey with the fewest vehicles (walking alone first, transfers -1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess.errors import InputError, MissingDependencyError

__all__ = [
    "TransitWindow",
    "build_profiles",
    "nearest_office_by_transit",
    "office_targets",
    "walk_only",
    "walking_legs",
]

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

_TIMETABLE_ARRAYS = (
    "conn_dep_stop",
    "conn_arr_stop",
    "conn_dep_time",
    "conn_arr_time",
    "conn_trip",
    "conn_seq",
    "foot_from",
    "foot_to",
    "foot_s",
    "stop_transfer_s",
)


def _core() -> Any:
    """The compiled core (the only implementation of transit routing: no Numba fallback)."""
    try:
        from hexaccess import _core
    except ImportError as exc:
        raise MissingDependencyError(
            f"public transport routing needs hexaccess's compiled core, which cannot be "
            f"imported ({exc}); reinstall hexaccess (a wheel), or build it from source "
            "with cargo (pip install .)"
        ) from exc
    return _core


def _xy(name: str, xy: npt.ArrayLike) -> F64:
    a = np.ascontiguousarray(xy, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2:
        raise InputError(f"{name} has shape {a.shape}; give an (n, 2) array of x, y metres")
    if not np.isfinite(a).all():
        raise InputError(f"{name} holds a non-finite coordinate; drop or fix those points")
    return a


def _walk_params(walk_kmh: float, detour: float, max_walk_m: float) -> float:
    """Metres per second after the detour factor; checks the three numbers."""
    if not (walk_kmh > 0 and math.isfinite(walk_kmh)):
        raise InputError(f"walk_kmh = {walk_kmh} must be a positive speed")
    if not (detour >= 1 and math.isfinite(detour)):
        raise InputError(f"detour = {detour} must be >= 1 (street / straight-line distance)")
    if not max_walk_m >= 0:
        raise InputError(f"max_walk_m = {max_walk_m} must be >= 0 metres")
    return walk_kmh / 3.6 / detour


def _seconds(straight_m: F64, straight_ms: float) -> I32:
    # Rounded up: a leg is never faster than the profile says.
    return np.ceil(straight_m / straight_ms).astype(np.int32)


def walking_legs(
    cell_xy: npt.ArrayLike,
    stop_xy: npt.ArrayLike,
    *,
    walk_kmh: float,
    detour: float,
    max_walk_m: float,
) -> tuple[I64, I32, I32]:
    """Walks from cells to stops within ``max_walk_m`` straight-line metres, as CSR
    ``(ptr, stop, walk_s)`` (stops of a cell by index), with a KD-tree."""
    from scipy.spatial import cKDTree

    cells, stops = _xy("cell_xy", cell_xy), _xy("stop_xy", stop_xy)
    v = _walk_params(walk_kmh, detour, max_walk_m)
    if len(stops) == 0 or len(cells) == 0:
        return np.zeros(len(cells) + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32)
    near = cKDTree(stops).query_ball_point(cells, r=max_walk_m, return_sorted=True)
    counts = np.fromiter((len(x) for x in near), dtype=np.int64, count=len(cells))
    ptr = np.zeros(len(cells) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    stop = np.fromiter((s for x in near for s in x), dtype=np.int64, count=int(ptr[-1]))
    cell = np.repeat(np.arange(len(cells)), counts)
    d = np.hypot(*(cells[cell] - stops[stop]).T)
    return ptr, stop.astype(np.int32), _seconds(d, v)


def office_targets(
    stop_xy: npt.ArrayLike,
    office_xy: npt.ArrayLike,
    *,
    walk_kmh: float,
    detour: float,
    max_walk_m: float,
) -> tuple[I32, I32, I32]:
    """``(stop, office, walk_s)`` for every stop within ``max_walk_m`` of an office."""
    ptr, stop, walk = walking_legs(
        office_xy, stop_xy, walk_kmh=walk_kmh, detour=detour, max_walk_m=max_walk_m
    )
    office = np.repeat(np.arange(len(ptr) - 1, dtype=np.int32), np.diff(ptr))
    return stop, office, walk


def walk_only(
    cell_xy: npt.ArrayLike,
    office_xy: npt.ArrayLike,
    *,
    walk_kmh: float,
    detour: float,
    max_walk_m: float = math.inf,
) -> tuple[I32, I32]:
    """Walking alone to the nearest office: ``(walk_s, office)``, ``-1`` for both when
    no office is within ``max_walk_m`` straight-line metres."""
    from scipy.spatial import cKDTree

    cells, offices = _xy("cell_xy", cell_xy), _xy("office_xy", office_xy)
    v = _walk_params(walk_kmh, detour, max_walk_m)
    secs = np.full(len(cells), -1, dtype=np.int32)
    office = np.full(len(cells), -1, dtype=np.int32)
    if len(offices) == 0 or len(cells) == 0:
        return secs, office
    # The bound is inclusive like query_ball_point's: nudge it past max_walk_m.
    bound = np.nextafter(max_walk_m, np.inf) if math.isfinite(max_walk_m) else np.inf
    d, i = cKDTree(offices).query(cells, k=1, distance_upper_bound=bound)
    ok = np.isfinite(d)
    secs[ok] = _seconds(d[ok], v)
    office[ok] = i[ok]
    return secs, office


def _i32(name: str, a: Any) -> I32:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise InputError(f"Timetable.{name} must be one-dimensional, not shape {arr.shape}")
    if arr.size and (arr.min() < np.iinfo(np.int32).min or arr.max() > np.iinfo(np.int32).max):
        raise InputError(f"Timetable.{name} holds values outside int32")
    return np.ascontiguousarray(arr, dtype=np.int32)


def build_profiles(
    tt: Any,
    targets: tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike],
    *,
    first_departure_s: int,
    horizon_s: int | None = None,
    max_transfers: int = 3,
    walk_first: bool = False,
    footpath_slack: bool = True,
    threads: int | None = None,
) -> Any:
    """The Rust profiles (``hexaccess._core.TransitProfiles``) of a timetable (any object
    with the :class:`~hexaccess.transit.Timetable` arrays) towards ``targets`` =
    ``(stop, office, walk_s)``."""
    if not 0 <= max_transfers < 32:
        raise InputError(f"max_transfers = {max_transfers} must be in 0..31")
    arrays = [_i32(n, getattr(tt, n)) for n in _TIMETABLE_ARRAYS]
    t_stop, t_office, t_walk = (np.ascontiguousarray(a, dtype=np.int32) for a in targets)
    try:
        return _core().TransitProfiles(
            int(np.asarray(tt.stop_transfer_s).size),
            *arrays,
            t_stop,
            t_office,
            t_walk,
            int(first_departure_s),
            horizon=None if horizon_s is None else int(horizon_s),
            max_rides=max_transfers + 1,
            walk_first=walk_first,
            footpath_slack=footpath_slack,
            threads=threads,
        )
    except ValueError as e:
        raise InputError(f"transit routing: {e}") from None


@dataclass(frozen=True, eq=False)
class TransitWindow:
    """Per cell over ``num_departures`` departures (seconds; ``inf``: unreachable).

    ``percentile_s[:, j]`` is percentile ``percentiles[j]`` (R5's nearest rank);
    ``office`` / ``transfers`` / ``median_departure_s`` describe the median journey
    (``office`` -1: unreachable; ``transfers`` -1: walking alone or unreachable);
    ``unreachable`` counts departures without a journey within ``max_time_s``.
    """

    min_s: F64
    median_s: F64
    percentiles: tuple[float, ...]
    percentile_s: F64
    office: I32
    transfers: I32
    median_departure_s: I32
    unreachable: I32
    walk_only_s: F64
    num_departures: int
    profile_entries: int
    connections_scanned: int


def nearest_office_by_transit(
    tt: Any,
    cell_xy: npt.ArrayLike,
    office_xy: npt.ArrayLike,
    stop_xy: npt.ArrayLike,
    *,
    first_departure_s: int,
    window_min: int,
    step_s: int = 60,
    percentiles: tuple[float, ...] = (25.0, 50.0, 75.0),
    max_transfers: int = 3,
    max_time_s: int | None = 7_200,
    walk_kmh: float = 4.8,
    detour: float = 1.3,
    max_walk_m: float = 1_000.0,
    walk_only_max_m: float | None = None,
    boarding_slack_s: int = 0,
    walk_first: bool = False,
    footpath_slack: bool = True,
    threads: int | None = None,
) -> TransitWindow:
    """The nearest office by public transport + walking from every cell, for departures
    ``first_departure_s + j * step_s`` over ``window_min`` minutes (see the module doc).

    ``cell_xy``, ``office_xy`` and ``stop_xy`` are metres in one metric CRS (``stop_xy``
    in the timetable's stop order). Access and egress walks are limited to
    ``max_walk_m`` straight-line metres; walking alone to ``walk_only_max_m`` (default:
    as far as ``max_time_s`` allows, unlimited without it). ``boarding_slack_s`` is
    added at the first stop before boarding.
    """
    if window_min < 0 or step_s <= 0:
        raise InputError(f"window_min = {window_min} and step_s = {step_s}: need >= 0, > 0")
    if max_time_s is not None and max_time_s < 0:
        raise InputError(f"max_time_s = {max_time_s} must be >= 0 seconds or None")
    if boarding_slack_s < 0:
        raise InputError(f"boarding_slack_s = {boarding_slack_s} must be >= 0 seconds")
    pct = np.asarray(percentiles, dtype=np.float64)
    if pct.ndim != 1 or ((pct < 0) | (pct > 100) | ~np.isfinite(pct)).any():
        raise InputError(f"percentiles {percentiles!r}: give numbers in [0, 100]")
    cells = _xy("cell_xy", cell_xy)
    n_dep = (window_min * 60 + step_s - 1) // step_s
    walk = {"walk_kmh": walk_kmh, "detour": detour}
    targets = office_targets(stop_xy, office_xy, max_walk_m=max_walk_m, **walk)
    ptr, leg_stop, leg_walk = walking_legs(cells, stop_xy, max_walk_m=max_walk_m, **walk)
    leg_walk = leg_walk + np.int32(boarding_slack_s)
    if walk_only_max_m is None:
        walk_only_max_m = math.inf if max_time_s is None else max_time_s * walk_kmh / 3.6 / detour
    wo_s, wo_office = walk_only(cells, office_xy, max_walk_m=walk_only_max_m, **walk)
    last = first_departure_s + max(n_dep - 1, 0) * step_s
    profiles = build_profiles(
        tt,
        targets,
        first_departure_s=first_departure_s,
        horizon_s=None if max_time_s is None else last + max_time_s,
        max_transfers=max_transfers,
        walk_first=walk_first,
        footpath_slack=footpath_slack,
        threads=threads,
    )
    try:
        mn, med, pcs, office, transfers, med_dep, unreached = profiles.evaluate_cells(
            ptr,
            leg_stop,
            leg_walk,
            wo_s,
            wo_office,
            int(first_departure_s),
            int(n_dep),
            step_s=int(step_s),
            max_time_s=max_time_s,
            percentiles=pct,
            threads=threads,
        )
    except ValueError as e:
        raise InputError(f"transit routing: {e}") from None
    return TransitWindow(
        min_s=mn,
        median_s=med,
        percentiles=tuple(float(p) for p in pct),
        percentile_s=pcs,
        office=office,
        transfers=transfers,
        median_departure_s=med_dep,
        unreachable=unreached,
        walk_only_s=np.where(wo_s >= 0, wo_s.astype(np.float64), np.inf),
        num_departures=int(n_dep),
        profile_entries=int(profiles.num_entries),
        connections_scanned=int(profiles.scanned),
    )
