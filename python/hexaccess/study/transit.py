"""The transit study: population cells + a GTFS timetable + offices -> the study result
every figure, table, report and output file takes
(:class:`~hexaccess.study.road.AccessibilityResult`).

A trip is home -> office: walk from the cell centre to a stop (within the transit
profile's ``max_access_m`` straight-line metres, at its walking speed and detour
factor), ride, change, and walk from a stop within ``max_access_m`` of the office to it;
walking all the way counts when it is faster. The routing is
:func:`hexaccess.transit.route.nearest_office_by_transit` (one backward profile
connection scan from all offices) for every departure minute of the window
``departure .. departure + window_min``.

Per cell, ``time_s`` is one percentile of the window's travel times (default the median,
R5's nearest-rank convention; the summary names it), so the band table, coverage and
means are those of that percentile; the per-cell table also has the minimum
(``time_min_s``), every percentile (``time_p25_s`` ...), the walk-only time
(``walk_only_s``), the office and transfers of the median journey and the departures
without a journey (``departures_unreachable``). ``distance_m`` is the straight-line
distance from the cell centre to that office (a transit journey has no single road
length). A cell with no office within :data:`DEFAULT_MAX_TIME_S` at that percentile is
unreachable: counted in every summary, never dropped (the office is the median
journey's, so with a percentile below the median a cell whose median journey finds no
office within the limit is unreachable too).

Coordinates are projected to the local UTM zone of the study area (metres) for the
walking legs; the results are deterministic (the router is bit-identical for every
thread count).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess._engine import checks
from hexaccess.errors import ScenarioError
from hexaccess.offices import Offices
from hexaccess.population import PopulationGrid
from hexaccess.results import DEFAULT_BAND_EDGES_S, BandHistogram, NearestResult
from hexaccess.study.road import AccessibilityResult, cell_frame, check_office_indices
from hexaccess.transit import Timetable, TransitProfile, load_transit_profile, read_gtfs
from hexaccess.transit.gtfs import far_stops

__all__ = [
    "DEFAULT_MAX_TIME_S",
    "DEFAULT_PERCENTILE",
    "TransitAccess",
    "TransitWindowSpec",
    "build_transit_access",
    "parse_departure",
    "percentile_column",
    "solve_transit",
    "transit_summary",
]

F64 = npt.NDArray[np.float64]

#: Longest trip counted as reachable (s): the band table's horizon (3 hours), so every
#: band of ``bands.csv`` below the overflow band can hold people.
DEFAULT_MAX_TIME_S = int(DEFAULT_BAND_EDGES_S[-1])
#: Stops farther than this (km, straight line) from every populated cell are warned about.
FAR_STOP_KM = 10.0
#: The percentile of the window's travel times reported as ``time_s`` (the median).
DEFAULT_PERCENTILE = 50.0


def parse_departure(value: Any, where: str = "departure (--departure)") -> dt.datetime:
    """``2026-03-04T08:00`` (or a :class:`datetime.datetime`) as a naive local datetime:
    the service date and the first departure time of the window."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str) and ("T" in value or " " in value.strip()):
        try:
            return dt.datetime.fromisoformat(value.strip()).replace(tzinfo=None)
        except ValueError:
            pass
    raise ScenarioError(
        f"{where} must be a date and time of day like 2026-03-04T08:00 (the service day of "
        f"the timetable and the first departure of the window), got {value!r}"
    )


def _check_percentiles(value: Any, where: str) -> tuple[float, ...]:
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        parts = [value]
    else:
        parts = list(value) if isinstance(value, Sequence) else [value]
    try:
        out = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        out = ()
    if (
        not out
        or any(not (0 <= p <= 100) or not math.isfinite(p) for p in out)
        or any(b <= a for a, b in itertools.pairwise(out))
    ):
        raise ScenarioError(
            f"{where} must be strictly increasing numbers in 0..100 like 25,50,75, got {value!r}"
        )
    return out


@dataclass(frozen=True)
class TransitWindowSpec:
    """The departure window of a transit study, checked: the first departure, its length
    (minutes), the percentiles of the per-cell table and the one reported as ``time_s``."""

    departure: dt.datetime
    window_min: int
    percentiles: tuple[float, ...]
    percentile: float = DEFAULT_PERCENTILE

    @classmethod
    def of(
        cls,
        departure: Any,
        window_min: Any = None,
        percentiles: Any = None,
        percentile: Any = None,
        profile: TransitProfile | None = None,
        where: dict[str, str] | None = None,
    ) -> TransitWindowSpec:
        """Checked settings; ``window_min`` and ``percentiles`` default to the transit
        profile's ``[window]``; ``where`` names each setting as the user wrote it."""
        w = {
            "departure": "departure (--departure)",
            "window_min": "window_min (--window)",
            "percentiles": "percentiles (--percentiles)",
            "percentile": "time_percentile",
            **(where or {}),
        }
        prof = profile or TransitProfile()
        dep = parse_departure(departure, w["departure"])
        win = prof.window_minutes if window_min is None else window_min
        if isinstance(win, bool) or not isinstance(win, (int, np.integer)) or not 1 <= win <= 1440:
            raise ScenarioError(
                f"{w['window_min']} must be whole minutes 1..1440 (the departure window), "
                f"got {window_min!r}"
            )
        pcs = _check_percentiles(
            prof.percentiles if percentiles is None else percentiles, w["percentiles"]
        )
        pct = DEFAULT_PERCENTILE if percentile is None else percentile
        (pct,) = _check_percentiles([pct], w["percentile"])
        if pct not in pcs:  # the reported percentile is always a column too
            pcs = tuple(sorted({*pcs, pct}))
        return cls(dep, int(win), pcs, pct)

    @property
    def first_departure_s(self) -> int:
        """Seconds since midnight of the service day."""
        d = self.departure
        return d.hour * 3600 + d.minute * 60 + d.second

    def describe(self) -> str:
        end = self.departure + dt.timedelta(minutes=self.window_min)
        return f"{self.departure:%Y-%m-%d %H:%M}-{end:%H:%M}"


def percentile_column(p: float) -> str:
    """The per-cell column of percentile ``p``: ``time_p50_s``, ``time_p12_5_s``."""
    text = f"{p:g}".replace(".", "_")
    return f"time_p{text}_s"


def _statistic(p: float) -> str:
    return "median (50th percentile)" if p == 50 else f"{p:g}th percentile"


def _utm(lon: F64, lat: F64) -> str:
    """The WGS84 UTM zone of the study area's centre (metres for the walking legs)."""
    clon, clat = float(np.mean(lon)), float(np.mean(lat))
    zone = int((clon + 180) // 6) % 60 + 1
    return f"EPSG:{(32600 if clat >= 0 else 32700) + zone}"


def _project(crs: str, lon: F64, lat: F64) -> F64:
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tr.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.column_stack([np.asarray(x, float), np.asarray(y, float)]).reshape(-1, 2)


@dataclass(frozen=True)
class TransitAccess:
    """A transit study ready to solve: the population, offices, timetable, transit
    profile and departure window, with every place in metres (``crs``)."""

    population: PopulationGrid
    offices: Offices
    timetable: Timetable
    profile: TransitProfile
    window: TransitWindowSpec
    columns: tuple[str, ...]
    crs: str
    cell_xy: F64
    office_xy: F64
    stop_xy: F64
    feeds: tuple[str, ...] = ()
    max_time_s: int = DEFAULT_MAX_TIME_S

    def settings(self) -> dict[str, Any]:
        """What the numbers mean, JSON-ready (in ``summary.json``'s ``transit``)."""
        w, p = self.window, self.profile
        return {
            "time_statistic": _statistic(w.percentile),
            "time_percentile": w.percentile,
            "percentiles": list(w.percentiles),
            "percentile_method": "R5 nearest rank (numpy inverted_cdf), no interpolation",
            "departure": w.departure.isoformat(timespec="minutes"),
            "window_min": w.window_min,
            "window": w.describe(),
            "step_s": p.step_s,
            "departures": -(-w.window_min * 60 // p.step_s),
            "service_date": self.timetable.date.isoformat(),
            "feeds": list(self.feeds),
            "max_time_min": self.max_time_s / 60.0,
            "transit_profile": p.name,
            "transit_profile_source": p.source,
            "walk_kmh": p.walk_speed_kmh,
            "walk_detour_factor": p.detour_factor,
            "max_walk_m": p.max_access_m,
            "max_transfers": p.max_transfers,
            "boarding_slack_s": p.boarding_slack_s,
            "stops": self.timetable.n_stops,
            "trips": self.timetable.n_trips,
            "connections": self.timetable.n_connections,
        }

    def diagnostics(self, result: Any, column: str, top: int = 20) -> dict[str, Any]:
        """The counterpart of the road graph's diagnostics: the timetable, the window
        and the people without a stop or office within walking distance."""
        cells = result.cells
        w = cells[column].to_numpy(dtype=float)
        no_stop = ~cells["connected"].to_numpy()
        lost = ~cells["reached"].to_numpy()
        return {
            "method": "public transport (GTFS) + walking",
            **self.settings(),
            "offices_without_stop_within_walk": _offices_without_stop(
                self, np.asarray(result.office_indices, dtype=np.int64)
            ),
            "cells_without_stop_within_walk": int(no_stop.sum()),
            "population_without_stop_within_walk": float(w[no_stop].sum()),
            "population_unreachable": float(w[lost].sum()),
        }


def build_transit_access(
    population: PopulationGrid,
    offices: Offices,
    timetable: Timetable | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    window: TransitWindowSpec,
    *,
    profile: TransitProfile | str | os.PathLike[str] | None = None,
    columns: Sequence[str] | None = None,
    max_time_s: int = DEFAULT_MAX_TIME_S,
) -> TransitAccess:
    """The transit study of ``population`` and ``offices`` on a :class:`Timetable` or
    the GTFS feed(s) read for ``window``'s service date (:func:`hexaccess.transit.read_gtfs`)."""
    prof = load_transit_profile("transit" if profile is None else profile)
    if isinstance(timetable, Timetable):
        tt = timetable
        if tt.date != window.departure.date():
            raise ScenarioError(
                f"the timetable is of {tt.date}, the departure {window.departure:%Y-%m-%d}; "
                "give a departure on the timetable's service day"
            )
    else:
        tt = read_gtfs(timetable, window.departure.date(), profile=prof)
    lon, lat = population.centers_lonlat()
    if len(lon) == 0:
        raise ScenarioError("the population grid is empty: no populated cell to route from")
    # a usable but odd feed: stops far from everyone (a wider feed, or bad coordinates)
    far_stops(tt, lon, lat, FAR_STOP_KM)
    crs = _utm(lon, lat)
    cell_xy = _project(crs, lon, lat)
    office_xy = _project(crs, offices.lon, offices.lat)
    stop_xy = _project(crs, tt.stop_lon, tt.stop_lat)
    feeds = tuple(str(f) for f in tt.feeds)
    return TransitAccess(
        population=population,
        offices=offices,
        timetable=tt,
        profile=prof,
        window=window,
        columns=tuple(columns or population.columns),
        crs=crs,
        cell_xy=cell_xy,
        office_xy=office_xy,
        stop_xy=stop_xy,
        feeds=feeds,
        max_time_s=int(max_time_s),
    )


def _offices_without_stop(access: TransitAccess, idx: npt.NDArray[np.int64]) -> list[str]:
    from hexaccess.transit.route import office_targets

    p = access.profile
    _, office, _ = office_targets(
        access.stop_xy,
        access.office_xy[idx],
        walk_kmh=p.walk_speed_kmh,
        detour=p.detour_factor,
        max_walk_m=p.max_access_m,
    )
    served = np.zeros(idx.size, dtype=bool)
    served[office] = True
    return [access.offices.names[int(i)] for i in idx[~served]]


def _route(access: TransitAccess, idx: npt.NDArray[np.int64], threads: int | None) -> Any:
    """The router's :class:`~hexaccess.transit.route.TransitWindow` towards the offices
    ``idx``, with a warning for offices no stop serves."""
    from hexaccess.transit.route import nearest_office_by_transit

    p, w = access.profile, access.window
    r = nearest_office_by_transit(
        access.timetable,
        access.cell_xy,
        access.office_xy[idx],
        access.stop_xy,
        first_departure_s=w.first_departure_s,
        window_min=w.window_min,
        step_s=p.step_s,
        percentiles=w.percentiles,
        max_transfers=p.max_transfers,
        max_time_s=access.max_time_s,
        walk_kmh=p.walk_speed_kmh,
        detour=p.detour_factor,
        max_walk_m=p.max_access_m,
        boarding_slack_s=p.boarding_slack_s,
        threads=threads,
    )
    without = _offices_without_stop(access, idx)
    if without:
        warnings.warn(
            f"{len(without)} office(s) have no stop within {p.max_access_m:g} m "
            f"(the transit profile's walk.max_access_m) and are reached on foot only: "
            f"{', '.join(repr(n) for n in without[:5])}",
            stacklevel=3,
        )
    return r


def _cell_table(access: TransitAccess, r: Any, idx: npt.NDArray[np.int64]) -> pd.DataFrame:
    """The per-cell table: the road study's columns, then the window's statistics."""
    from hexaccess.transit.route import walking_legs

    p, w = access.profile, access.window
    time_s = np.asarray(r.percentile_s[:, w.percentiles.index(w.percentile)], dtype=np.float64)
    office_local = np.asarray(r.office, dtype=np.int64)
    # The office is that of the median journey: a cell without one counts as unreachable.
    reached = np.isfinite(time_s) & (office_local >= 0)
    office = np.where(reached, idx[np.maximum(office_local, 0)], -1)
    d = np.hypot(*(access.cell_xy - access.office_xy[idx][np.maximum(office_local, 0)]).T)
    ptr, _, _ = walking_legs(
        access.cell_xy,
        access.stop_xy,
        walk_kmh=p.walk_speed_kmh,
        detour=p.detour_factor,
        max_walk_m=p.max_access_m,
    )
    frame = cell_frame(access.population)
    names = np.asarray(access.offices.names, dtype=object)
    frame["time_s"] = np.where(reached, time_s, np.inf)
    frame["distance_m"] = np.where(reached, d, np.inf)
    frame["office"] = office
    frame["office_name"] = np.where(office >= 0, names[np.maximum(office, 0)], None)
    # "connected" of a transit study: a stop within walking distance (the road study's
    # "within access distance of a road").
    frame["connected"] = np.diff(ptr) > 0
    frame["reached"] = reached
    frame["time_min_s"] = np.asarray(r.min_s, dtype=np.float64)
    for k, pc in enumerate(w.percentiles):
        frame[percentile_column(pc)] = np.asarray(r.percentile_s[:, k], dtype=np.float64)
    frame["walk_only_s"] = np.asarray(r.walk_only_s, dtype=np.float64)
    frame["transfers"] = np.asarray(r.transfers, dtype=np.int32)
    frame["median_departure_s"] = np.asarray(r.median_departure_s, dtype=np.int32)
    frame["departures_unreachable"] = np.asarray(r.unreachable, dtype=np.int32)
    return frame


def solve_transit(
    access: TransitAccess,
    *,
    offices: npt.ArrayLike | None = None,
    band_edges_s: npt.ArrayLike | None = None,
    provenance_info: dict[str, Any] | None = None,
    threads: int | None = None,
) -> AccessibilityResult:
    """The nearest office by public transport + walking from every populated cell over
    the departure window, as the study result (see the module docstring).

    ``offices`` optionally selects a subset (indices into ``access.offices``)."""
    idx = check_office_indices(access.offices, offices)
    r = _route(access, idx, threads)
    frame = _cell_table(access, r, idx)
    # The bands through the engine's own binning (BandHistogram.from_nodes): one "node"
    # per cell, as the road study bins its cell nodes.
    edges = DEFAULT_BAND_EDGES_S.copy() if band_edges_s is None else checks.band_edges(band_edges_s)
    reached = frame["reached"].to_numpy()
    nodes = NearestResult(
        time_s=frame["time_s"].to_numpy(),
        source=np.where(reached, 0, -1).astype(np.int32),
        length_m=frame["distance_m"].to_numpy(),
    )
    weights = access.population.weights(list(access.columns))
    hist = BandHistogram.from_nodes(nodes, weights, np.asarray(edges, float), access.columns)
    p = access.profile
    info = {
        "graph": "transit",
        "mode": "transit",
        "profile": p.name,
        "profile_source": str(p.source),
        "resolution": access.population.resolution,
        "crs": access.crs,
        **transit_summary(access),
        "transit_profile_entries": int(r.profile_entries),
        "transit_connections_scanned": int(r.connections_scanned),
        **(provenance_info or {}),
    }
    return AccessibilityResult(access, frame, hist, access.columns, idx, info)


def transit_summary(access: TransitAccess) -> dict[str, Any]:
    """``summary.json``'s top-level ``transit`` block: the percentile reported as
    ``time_s``, the departure window and the feeds."""
    return {"transit": access.settings()}
