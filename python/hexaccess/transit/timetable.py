"""The :class:`Timetable`: one service day of public transport as flat numpy arrays,
the contract between the GTFS reader (:mod:`hexaccess.transit.gtfs`), the synthetic
generator (:mod:`hexaccess.synthetic.timetable`) and the router.

Semantics (what a router must implement; ``tests/transit/reference.py`` is the
independent reference that implements exactly this):

- Times are whole seconds since midnight of :attr:`Timetable.date` (they may exceed
  86,400 for trips running past midnight).
- A *connection* is one vehicle hop between consecutive stops of a trip: it leaves
  ``conn_dep_stop`` at ``conn_dep_time`` and reaches ``conn_arr_stop`` at
  ``conn_arr_time``. Connections of one trip have ``conn_seq`` 0, 1, 2 ... in travel
  order; staying on board from one to the next is always possible.
- The *first* boarding of a journey from an origin ``(stop, t)`` may take any
  connection leaving that stop at ``>= t`` (a router adds the profile's boarding slack
  to ``t`` itself).
- Every later boarding at stop ``b`` needs ``dep_time >= arrival at b +
  stop_transfer_s[b]``, whether ``b`` was reached by vehicle or by a footpath.
- A footpath ``foot_from -> foot_to`` takes ``foot_s`` seconds of walking (no self
  loops: a stop's own change time is ``stop_transfer_s``). At most one footpath is
  walked between two vehicles (the footpaths are not transitively closed, as RAPTOR and
  CSA assume of single footpaths); none before the first vehicle (the router's access
  walk does that).
- ``stop_transfer_s`` is :data:`NO_TRANSFER_S` where the feed forbids changing at a stop
  (``transfers.txt`` type 3 on the same stop).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess.errors import InputError

__all__ = ["NO_TRANSFER_S", "Timetable", "build_timetable", "connections_from_stop_times"]

#: ``stop_transfer_s`` of a stop where changing is not possible (longer than any day).
NO_TRANSFER_S = 100_000_000

I32 = npt.NDArray[np.int32]
F64 = npt.NDArray[np.float64]
OBJ = npt.NDArray[np.object_]


@dataclass(frozen=True, eq=False)
class Timetable:
    """One service day of public transport (see the module docstring for the rules).

    Stops (``n_stops``): ``stop_id`` (str, ``"<feed>:<id>"`` when several feeds),
    ``stop_lon``, ``stop_lat`` (float64, WGS84), ``stop_transfer_s`` (int32: minimum
    change time at the stop).

    Connections (``n_connections``, sorted by dep_time, arr_time, trip, seq):
    ``conn_dep_stop``, ``conn_arr_stop`` (int32 stop index), ``conn_dep_time``,
    ``conn_arr_time`` (int32 seconds since midnight of ``date``), ``conn_trip`` (int32
    trip index), ``conn_seq`` (int32 position within the trip).

    Trips (``n_trips``): ``trip_id`` (str; frequency-expanded trips ``"<id>@<HH:MM:SS>"``,
    trips of the previous service day ``"<id>@prev"``), ``trip_route_type`` (int16,
    GTFS ``route_type``), ``trip_route_id`` (str).

    Footpaths (sorted by from, then to): ``foot_from``, ``foot_to`` (int32),
    ``foot_s`` (int32 walking seconds).

    ``date`` is the service date, ``feeds`` the feed names (the stop-id prefixes when
    several), ``meta`` counts of what was read, expanded and dropped.
    """

    stop_id: OBJ
    stop_lon: F64
    stop_lat: F64
    conn_dep_stop: I32
    conn_arr_stop: I32
    conn_dep_time: I32
    conn_arr_time: I32
    conn_trip: I32
    conn_seq: I32
    trip_id: OBJ
    trip_route_type: npt.NDArray[np.int16]
    trip_route_id: OBJ
    foot_from: I32
    foot_to: I32
    foot_s: I32
    stop_transfer_s: I32
    date: dt.date
    feeds: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_shapes(self)

    @property
    def n_stops(self) -> int:
        return int(self.stop_id.size)

    @property
    def n_connections(self) -> int:
        return int(self.conn_dep_time.size)

    @property
    def n_trips(self) -> int:
        return int(self.trip_id.size)

    @property
    def n_footpaths(self) -> int:
        return int(self.foot_s.size)

    def __repr__(self) -> str:
        return (
            f"Timetable(date={self.date.isoformat()}, stops={self.n_stops:,}, "
            f"trips={self.n_trips:,}, connections={self.n_connections:,}, "
            f"footpaths={self.n_footpaths:,}, feeds={list(self.feeds)})"
        )


def _check_shapes(tt: Timetable) -> None:
    """Every array has its group's length and dtype, and indices are in range: a
    contract break found here, not as a crash in the router."""
    groups = {
        "stop": (tt.n_stops, ("stop_lon", "stop_lat", "stop_transfer_s")),
        "conn": (
            tt.n_connections,
            ("conn_dep_stop", "conn_arr_stop", "conn_arr_time", "conn_trip", "conn_seq"),
        ),
        "trip": (tt.n_trips, ("trip_route_type", "trip_route_id")),
        "foot": (tt.n_footpaths, ("foot_from", "foot_to")),
    }
    for group, (n, names) in groups.items():
        for name in names:
            if getattr(tt, name).shape != (n,):
                raise InputError(
                    f"Timetable.{name} has shape {getattr(tt, name).shape}, "
                    f"expected ({n},) like the other {group} arrays"
                )
    for name in ("conn_dep_stop", "conn_arr_stop", "foot_from", "foot_to"):
        a = getattr(tt, name)
        if a.size and (a.min() < 0 or a.max() >= tt.n_stops):
            raise InputError(f"Timetable.{name} holds a stop index outside 0..{tt.n_stops - 1}")
    if tt.conn_trip.size and (tt.conn_trip.min() < 0 or tt.conn_trip.max() >= tt.n_trips):
        raise InputError(f"Timetable.conn_trip holds a trip index outside 0..{tt.n_trips - 1}")


def connections_from_stop_times(
    st_trip: npt.ArrayLike, st_stop: npt.ArrayLike, st_arr: npt.ArrayLike, st_dep: npt.ArrayLike
) -> dict[str, I32]:
    """Connection arrays (sorted as the :class:`Timetable` requires) from stop times
    sorted by trip and stop sequence: each pair of consecutive stop times of one trip
    gives a connection; ``conn_seq`` counts from 0 within each trip."""
    trip = np.asarray(st_trip, dtype=np.int64)
    stop, arr, dep = (np.asarray(a, dtype=np.int64) for a in (st_stop, st_arr, st_dep))
    same = trip[1:] == trip[:-1] if trip.size else np.zeros(0, dtype=bool)
    i = np.flatnonzero(same)  # stop time i -> i + 1 is a hop
    start = np.r_[0, np.flatnonzero(~same) + 1] if trip.size else np.zeros(0, dtype=np.int64)
    first = np.repeat(start, np.diff(np.r_[start, trip.size]))  # first row of each row's trip
    seq = i - first[i]
    cols = {
        "conn_dep_stop": stop[i],
        "conn_arr_stop": stop[i + 1],
        "conn_dep_time": dep[i],
        "conn_arr_time": arr[i + 1],
        "conn_trip": trip[i],
        "conn_seq": seq,
    }
    order = np.lexsort(
        (cols["conn_seq"], cols["conn_trip"], cols["conn_arr_time"], cols["conn_dep_time"])
    )
    return {k: v[order].astype(np.int32) for k, v in cols.items()}


def build_timetable(
    *,
    stops: dict[str, Any],
    trips: dict[str, Any],
    stop_times: dict[str, Any],
    footpaths: dict[str, Any],
    stop_transfer_s: npt.ArrayLike,
    date: dt.date,
    feeds: tuple[str, ...] = (),
    meta: dict[str, Any] | None = None,
) -> Timetable:
    """A :class:`Timetable` from plain columns: ``stops`` (``stop_id``, ``stop_lon``,
    ``stop_lat``), ``trips`` (``trip_id``, ``trip_route_type``, ``trip_route_id``),
    ``stop_times`` (``trip``, ``stop``, ``arr``, ``dep``; sorted by trip, then travel
    order), ``footpaths`` (``from``, ``to``, ``s``; any order, no duplicates)."""
    conns = connections_from_stop_times(
        stop_times["trip"], stop_times["stop"], stop_times["arr"], stop_times["dep"]
    )
    f_from, f_to = (np.asarray(footpaths[k], dtype=np.int32) for k in ("from", "to"))
    f_s = np.asarray(footpaths["s"], dtype=np.int32)
    order = np.lexsort((f_to, f_from))
    return Timetable(
        stop_id=np.asarray(stops["stop_id"], dtype=object),
        stop_lon=np.asarray(stops["stop_lon"], dtype=np.float64),
        stop_lat=np.asarray(stops["stop_lat"], dtype=np.float64),
        **conns,
        trip_id=np.asarray(trips["trip_id"], dtype=object),
        trip_route_type=np.asarray(trips["trip_route_type"], dtype=np.int16),
        trip_route_id=np.asarray(trips["trip_route_id"], dtype=object),
        foot_from=f_from[order],
        foot_to=f_to[order],
        foot_s=f_s[order],
        stop_transfer_s=np.asarray(stop_transfer_s, dtype=np.int32),
        date=date,
        feeds=tuple(feeds),
        meta=dict(meta or {}),
    )
