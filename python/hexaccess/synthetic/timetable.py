"""Synthetic national timetables matching a synthetic country: seeded, any size.

:func:`synthetic_schedule` lays public transport over a
:class:`~hexaccess.synthetic.country.SyntheticCountry` (default: the Finland-sized
default country, about 30 k stops and 1 M stop times a day):

- **town buses** (``route_type`` 3): every town of at least ``min_town_people`` gets
  ``people / people_per_line`` lines (at least one) through a shared central stop, each
  a straight line at a random angle reaching twice the town's population spread
  (:mod:`~hexaccess.synthetic.country`), stops every ~``town_stop_spacing_m``; both
  directions every ``60 / (1 + people / 20 000)`` minutes (at least every
  ``min_headway_min``), 05:30 to past midnight (the last trips run after 24:00);
- **regional buses** (3): every town to its nearest larger town (as the country's
  regional roads), stops every ~``regional_stop_spacing_km``, hourly between towns of
  20 k people or more, else every two hours, 06:00-22:00;
- **trains** (``route_type`` 2): from the capital to the next ``train_lines`` largest
  towns, calling at towns within ``train_corridor_km`` of the line, at stations 300 m
  from the town's central bus stop (a walking change), hourly 06:00-22:00, 60 s dwell.

Times: straight-line distance x ``detour`` at the mode's speed, whole seconds. Every
trip runs every day (one calendar service), so trips of the previous day that run past
midnight appear on any date, as in a real feed.

:func:`write_synthetic_gtfs` writes the schedule as a real GTFS zip (atomically: a
temporary file renamed into place), so benchmarks exercise the reader;
:func:`generate_timetable` builds the same :class:`~hexaccess.transit.Timetable`
directly (what :func:`~hexaccess.transit.read_gtfs` gives for that zip). Same country,
parameters and seed: the same arrays.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.errors import UnknownNameError
from hexaccess.synthetic.country import SyntheticCountry, generate_country
from hexaccess.transit.gtfs import walking_footpaths
from hexaccess.transit.profile import TransitProfile, load_transit_profile
from hexaccess.transit.timetable import Timetable, build_timetable

__all__ = [
    "TIMETABLE_PARAMS",
    "SyntheticSchedule",
    "generate_timetable",
    "synthetic_schedule",
    "write_synthetic_gtfs",
]

#: Parameters of the generator (assumptions chosen for plausible Finnish magnitudes).
TIMETABLE_PARAMS: dict[str, Any] = {
    "min_town_people": 2_000,  # smaller towns have no town bus
    "people_per_line": 4_000,  # one town line per this many people
    "max_town_lines": 30,
    "town_stop_spacing_m": 400,  # urban bus stops are ~300-500 m apart
    "town_speed_kmh": 22.0,  # urban bus average speed incl. stops
    "max_headway_min": 120.0,  # town headway: max / (1 + people / headway_people) min,
    "headway_people": 60_000,  # but at least min_headway_min
    "min_headway_min": 30.0,
    "regional_stop_spacing_km": 0.6,
    "regional_speed_kmh": 55.0,
    "train_lines": 6,
    "train_corridor_km": 12.0,
    "train_speed_kmh": 110.0,
    "detour": 1.2,  # vehicle path / straight line
}

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass
class SyntheticSchedule:
    """A generated schedule as GTFS-like columns (projected metres in the country's
    CRS; lon/lat WGS84). ``st_*`` are stop times sorted by trip, then travel order;
    times are seconds of the service day (past 86,400 after midnight)."""

    stop_lon: F64
    stop_lat: F64
    route_type: I64  # per route
    trip_route: I64  # per trip
    st_trip: I64
    st_stop: I64
    st_arr: I64
    st_dep: I64
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_stops(self) -> int:
        return int(self.stop_lon.size)

    @property
    def n_trips(self) -> int:
        return int(self.trip_route.size)


class _Builder:
    """Collects stops, lines (stop sequences with travel times) and their trips."""

    def __init__(self) -> None:
        self.x: list[F64] = []
        self.y: list[F64] = []
        self.n = 0
        self.lines: list[tuple[I64, I64, int, int]] = []  # stops, cum. seconds, type, dwell
        self.runs: list[I64] = []  # first departures of each line's trips

    def stops(self, x: F64, y: F64) -> I64:
        ids = np.arange(self.n, self.n + x.size, dtype=np.int64)
        self.x.append(np.asarray(x, dtype=np.float64))
        self.y.append(np.asarray(y, dtype=np.float64))
        self.n += x.size
        return ids

    def line(
        self, stops: I64, px: F64, py: F64, speed_ms: float, kind: int, dwell: int, starts: I64
    ) -> None:
        """A line over ``stops`` at points ``px, py``, run both ways at ``starts``."""
        hop = np.hypot(np.diff(px), np.diff(py)) * TIMETABLE_PARAMS["detour"] / speed_ms
        cum = np.r_[0, np.cumsum(np.maximum(np.round(hop), 30) + dwell)].astype(np.int64)
        back = np.r_[0, np.cumsum((cum[1:] - cum[:-1])[::-1])].astype(np.int64)
        self.lines += [(stops, cum, kind, dwell), (stops[::-1], back, kind, dwell)]
        self.runs += [starts, starts]


def _departures(rng: np.random.Generator, first: int, last: int, headway_s: int) -> I64:
    offset = int(rng.integers(0, max(headway_s, 1)))
    return np.arange(first + offset % headway_s, last, headway_s, dtype=np.int64)


def _town_buses(
    b: _Builder,
    rng: np.random.Generator,
    towns: pd.DataFrame,
    spread_km: F64,
    hub: I64,
    p: dict[str, Any],
) -> None:
    """Lines through each town's central stop (see the module docstring)."""
    speed = p["town_speed_kmh"] / 3.6
    for t in np.flatnonzero(towns["people"].to_numpy() >= p["min_town_people"]):
        people = float(towns["people"].iloc[t])
        n_lines = int(np.clip(round(people / p["people_per_line"]), 1, p["max_town_lines"]))
        radius = 2000.0 * spread_km[t]
        n_half = max(int(radius // p["town_stop_spacing_m"]), 1)
        slow = p["max_headway_min"]
        head = int(60 * max(slow / (1 + people / p["headway_people"]), p["min_headway_min"]))
        cx, cy = towns["x"].iloc[t], towns["y"].iloc[t]
        for _ in range(n_lines):
            ang = rng.uniform(0, np.pi)
            r = np.arange(-n_half, n_half + 1) + rng.uniform(-0.2, 0.2, 2 * n_half + 1)
            r[n_half] = 0.0  # the central stop
            r *= radius / n_half
            px, py = cx + r * np.cos(ang), cy + r * np.sin(ang)
            ids = np.empty(r.size, dtype=np.int64)
            ids[n_half] = hub[t]
            others = np.r_[0:n_half, n_half + 1 : r.size]
            ids[others] = b.stops(px[others], py[others])
            b.line(
                ids, px, py, speed, 3, 0, _departures(rng, 5 * 3600 + 1800, 24 * 3600 + 1800, head)
            )


def _regional_buses(
    b: _Builder, rng: np.random.Generator, towns: pd.DataFrame, hub: I64, p: dict[str, Any]
) -> None:
    """Every town to its nearest larger town, with village stops in between."""
    x, y, people = (towns[c].to_numpy() for c in ("x", "y", "people"))
    spacing = p["regional_stop_spacing_km"] * 1000.0
    for t in range(1, x.size):
        j = int(np.argmin(np.hypot(x[:t] - x[t], y[:t] - y[t])))
        d = float(np.hypot(x[j] - x[t], y[j] - y[t]))
        k = max(int(d // spacing), 1)
        f = np.r_[0.0, np.sort(rng.uniform(0.05, 0.95, k - 1)), 1.0]
        px, py = x[t] + f * (x[j] - x[t]), y[t] + f * (y[j] - y[t])
        ids = np.r_[hub[t], b.stops(px[1:-1], py[1:-1]), hub[j]].astype(np.int64)
        head = 3600 if min(people[t], people[j]) >= 20_000 else 7200
        b.line(
            ids,
            px,
            py,
            p["regional_speed_kmh"] / 3.6,
            3,
            0,
            _departures(rng, 6 * 3600, 22 * 3600, head),
        )


def _trains(b: _Builder, rng: np.random.Generator, towns: pd.DataFrame, p: dict[str, Any]) -> None:
    """Capital -> the next largest towns, calling at towns near the line."""
    x, y = towns["x"].to_numpy(), towns["y"].to_numpy()
    n = min(int(p["train_lines"]) + 1, x.size)
    if n < 2:
        return
    station = b.stops(x + 300.0, y)  # 300 m from the central bus stop: a walk to change
    for end in range(1, n):
        dx, dy = x[end] - x[0], y[end] - y[0]
        length = float(np.hypot(dx, dy))
        along = ((x - x[0]) * dx + (y - y[0]) * dy) / length
        off = np.abs((x - x[0]) * dy - (y - y[0]) * dx) / length
        calls = np.flatnonzero(
            (along > 0) & (along < length) & (off < p["train_corridor_km"] * 1000.0)
        )
        order = np.r_[0, calls[np.argsort(along[calls])], end]
        order = order[np.r_[True, np.diff(order) != 0]]
        b.line(
            station[order],
            x[order] + 300.0,
            y[order],
            p["train_speed_kmh"] / 3.6,
            2,
            60,
            _departures(rng, 6 * 3600, 22 * 3600, 3600),
        )


def _stop_times(b: _Builder) -> tuple[I64, I64, I64, I64, I64, I64]:
    """Stop times of every trip (sorted by trip, travel order) and each trip's line."""
    n_stops = np.array([s.size for s, *_ in b.lines], dtype=np.int64)
    n_trips = np.array([r.size for r in b.runs], dtype=np.int64)
    trip_line = np.repeat(np.arange(len(b.lines)), n_trips)
    trip_start = np.concatenate(b.runs) if b.runs else np.zeros(0, np.int64)
    per_trip = n_stops[trip_line]
    st_trip = np.repeat(np.arange(trip_line.size), per_trip)
    pos = np.arange(st_trip.size) - np.repeat(np.cumsum(per_trip) - per_trip, per_trip)
    line_off = np.r_[0, np.cumsum(n_stops)[:-1]]
    all_stops = np.concatenate([s for s, *_ in b.lines])
    all_cum = np.concatenate([c for _, c, *_ in b.lines])
    all_dwell = np.repeat(np.array([d for *_, d in b.lines], dtype=np.int64), n_stops)
    row = line_off[trip_line][st_trip] + pos
    dep = trip_start[st_trip] + all_cum[row]
    # a dwell is spent at a stop between arrival and departure (not at the two ends)
    arr = dep - np.where((pos > 0) & (pos < per_trip[st_trip] - 1), all_dwell[row], 0)
    last = pos == per_trip[st_trip] - 1
    arr[last] = dep[last] - all_dwell[row][last]
    dep[last] = arr[last]
    kinds = np.array([k for _, _, k, _ in b.lines], dtype=np.int64)
    return st_trip, all_stops[row], arr, dep, trip_line, kinds


def synthetic_schedule(
    country: SyntheticCountry | None = None, *, seed: int = 0, **params: Any
) -> SyntheticSchedule:
    """The schedule of ``country`` (default: the default synthetic country); ``params``
    override :data:`TIMETABLE_PARAMS`. Deterministic for a country, parameters and seed."""
    unknown = sorted(set(params) - set(TIMETABLE_PARAMS))
    if unknown:
        raise UnknownNameError(
            f"unknown timetable parameter {unknown[0]!r}; known: {sorted(TIMETABLE_PARAMS)}"
        )
    p = {**TIMETABLE_PARAMS, **params}
    c = country if country is not None else generate_country()
    towns = c.towns
    tp = c.params["towns"]
    spread_km = tp["spread_km_at_10k"] * (towns["people"].to_numpy() / 1e4) ** tp["spread_exponent"]
    rng = np.random.default_rng(seed)
    b = _Builder()
    hub = b.stops(towns["x"].to_numpy(), towns["y"].to_numpy())
    _town_buses(b, rng, towns, spread_km, hub, p)
    _regional_buses(b, rng, towns, hub, p)
    _trains(b, rng, towns, p)
    st_trip, st_stop, arr, dep, trip_line, kinds = _stop_times(b)
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(c.crs, "EPSG:4326", always_xy=True).transform(
        np.concatenate(b.x), np.concatenate(b.y)
    )
    # rounded as written to stops.txt, so the zip and the direct Timetable agree exactly
    lon, lat = (np.array([float(f"{v:.6f}") for v in a]) for a in (lon, lat))
    # a route is a line in both directions (lines come in pairs)
    return SyntheticSchedule(
        lon, lat, kinds[::2], trip_line // 2, st_trip, st_stop, arr, dep, {**p, "seed": seed}
    )


# ---------------------------------------------------------------------- outputs
def _hms(t: I64) -> npt.NDArray[np.object_]:
    """``HH:MM:SS`` strings of seconds (hours past 23 kept), through a lookup table."""
    top = int(t.max()) + 1 if t.size else 1
    s = np.arange(top)
    lut = np.array(
        [
            f"{h:02d}:{m:02d}:{x:02d}"
            for h, m, x in zip(s // 3600, s // 60 % 60, s % 60, strict=True)
        ],
        dtype=object,
    )
    return lut[t]


def _gtfs_tables(sched: SyntheticSchedule) -> dict[str, pd.DataFrame]:
    n_routes = sched.route_type.size
    seq = np.arange(sched.st_trip.size) - np.searchsorted(sched.st_trip, sched.st_trip)
    trip_ids = np.array([f"t{i}" for i in range(sched.n_trips)], dtype=object)
    stop_ids = np.array([f"s{i}" for i in range(sched.n_stops)], dtype=object)
    return {
        "agency.txt": pd.DataFrame(
            {
                "agency_id": ["syn"],
                "agency_name": ["SYNTHETIC"],
                "agency_url": ["https://example.invalid/"],
                "agency_timezone": ["Europe/Helsinki"],
            }
        ),
        "stops.txt": pd.DataFrame(
            {
                "stop_id": [f"s{i}" for i in range(sched.n_stops)],
                "stop_name": [f"Stop {i}" for i in range(sched.n_stops)],
                "stop_lat": [f"{v:.6f}" for v in sched.stop_lat],
                "stop_lon": [f"{v:.6f}" for v in sched.stop_lon],
            }
        ),
        "routes.txt": pd.DataFrame(
            {
                "route_id": [f"r{i}" for i in range(n_routes)],
                "agency_id": "syn",
                "route_short_name": [str(i) for i in range(n_routes)],
                "route_type": sched.route_type,
            }
        ),
        "trips.txt": pd.DataFrame(
            {
                "route_id": [f"r{i}" for i in sched.trip_route],
                "service_id": "daily",
                "trip_id": [f"t{i}" for i in range(sched.n_trips)],
            }
        ),
        "calendar.txt": pd.DataFrame(
            {
                "service_id": ["daily"],
                **{
                    d: [1]
                    for d in (
                        "monday",
                        "tuesday",
                        "wednesday",
                        "thursday",
                        "friday",
                        "saturday",
                        "sunday",
                    )
                },
                "start_date": ["20200101"],
                "end_date": ["20351231"],
            }
        ),
        "stop_times.txt": pd.DataFrame(
            {
                "trip_id": trip_ids[sched.st_trip],
                "arrival_time": _hms(sched.st_arr),
                "departure_time": _hms(sched.st_dep),
                "stop_id": stop_ids[sched.st_stop],
                "stop_sequence": seq + 1,
            }
        ),
    }


def write_synthetic_gtfs(
    path: str | os.PathLike[str],
    country: SyntheticCountry | None = None,
    seed: int = 0,
    **params: Any,
) -> Path:
    """Write the schedule of :func:`synthetic_schedule` as a GTFS zip at ``path``
    (written beside it, then renamed into place: never a half-written zip); the path."""
    sched = synthetic_schedule(country, seed=seed, **params)
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            for name, df in _gtfs_tables(sched).items():
                z.writestr(name, df.to_csv(index=False, lineterminator="\n"))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _day_instances(sched: SyntheticSchedule) -> tuple[I64, I64, list[str], I64]:
    """Stop-time rows of the date (trips of the day, then the previous day's trips
    shifted by -24 h, only their part from midnight on), as the reader builds them:
    ``(row index into the schedule, new trip index, trip ids, schedule trip of each)``."""
    rows = np.arange(sched.st_trip.size)
    prev = rows[sched.st_dep >= 86400]  # previous-day rows leaving after midnight
    n_prev = np.bincount(sched.st_trip[prev], minlength=sched.n_trips)
    prev_trips = np.flatnonzero(n_prev >= 2)  # at least one hop on the date
    prev = prev[np.isin(sched.st_trip[prev], prev_trips)]
    renum = np.full(sched.n_trips, -1, dtype=np.int64)
    renum[prev_trips] = sched.n_trips + np.arange(prev_trips.size)
    ids = [f"t{i}" for i in range(sched.n_trips)] + [f"t{i}@prev" for i in prev_trips]
    trip_of = np.r_[sched.st_trip, renum[sched.st_trip[prev]]]
    return np.r_[rows, prev], trip_of, ids, np.r_[np.arange(sched.n_trips), prev_trips]


def generate_timetable(
    country: SyntheticCountry | None = None,
    *,
    seed: int = 0,
    date: dt.date = dt.date(2026, 3, 4),
    profile: TransitProfile | str = "transit",
    **params: Any,
) -> Timetable:
    """The :class:`~hexaccess.transit.Timetable` of :func:`synthetic_schedule` on
    ``date``, built directly (the same arrays :func:`~hexaccess.transit.read_gtfs`
    gives for :func:`write_synthetic_gtfs`'s zip with the same ``profile``)."""
    prof = load_transit_profile(profile)
    sched = synthetic_schedule(country, seed=seed, **params)
    rows, trip_of, ids, base_trip = _day_instances(sched)
    shift = np.where(np.arange(rows.size) >= sched.st_trip.size, 86400, 0)
    route = sched.trip_route[base_trip]
    a, b, s = walking_footpaths(sched.stop_lon, sched.stop_lat, prof)
    return build_timetable(
        stops={
            "stop_id": [f"s{i}" for i in range(sched.n_stops)],
            "stop_lon": sched.stop_lon,
            "stop_lat": sched.stop_lat,
        },
        trips={
            "trip_id": ids,
            "trip_route_type": sched.route_type[route],
            "trip_route_id": [f"r{i}" for i in route],
        },
        stop_times={
            "trip": trip_of,
            "stop": sched.st_stop[rows],
            "arr": sched.st_arr[rows] - shift,
            "dep": sched.st_dep[rows] - shift,
        },
        footpaths={"from": a, "to": b, "s": s},
        stop_transfer_s=np.full(sched.n_stops, prof.min_transfer_s),
        date=date,
        feeds=("synthetic",),
        meta={
            "stops": sched.n_stops,
            "trips_active": sched.n_trips,
            "trips_previous_day": len(ids) - sched.n_trips,
            "stop_times_active_day": int(sched.st_trip.size),
            "stop_times": int(rows.size),
            "seed": seed,
        },
    )
