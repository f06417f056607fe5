"""The Timetable contract, the independent earliest-arrival reference (hand-worked
journeys) and the synthetic national timetable (deterministic, read back from its GTFS
zip to the same arrays)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import pytest
from reference import earliest_arrival

from hexaccess.errors import InputError, UnknownNameError
from hexaccess.synthetic.country import SyntheticCountry, generate_country
from hexaccess.synthetic.timetable import (
    generate_timetable,
    synthetic_schedule,
    write_synthetic_gtfs,
)
from hexaccess.transit import NO_TRANSFER_S, Timetable, build_timetable, read_gtfs

INF = np.inf
H8 = 8 * 3600


def tiny(trips: list[list[tuple[str, int]]], foot: list[tuple[str, str, int]] = (),
         slack: dict[str, int] | None = None, stops: str = "ABCDEFG") -> Timetable:  # fmt: skip
    """A timetable from trips written as [(stop, time), ...] (arrival = departure),
    footpaths (from, to, seconds) and per-stop change times (default 120 s)."""
    ix = {s: k for k, s in enumerate(stops)}
    st_trip, st_stop, st_t = [], [], []
    for t, trip in enumerate(trips):
        for s, time in trip:
            st_trip.append(t)
            st_stop.append(ix[s])
            st_t.append(time)
    change = np.full(len(stops), 120)
    for s, v in (slack or {}).items():
        change[ix[s]] = v
    return build_timetable(
        stops={"stop_id": list(stops), "stop_lon": np.zeros(len(stops)),
               "stop_lat": np.zeros(len(stops))},
        trips={"trip_id": [f"t{k}" for k in range(len(trips))],
               "trip_route_type": [3] * len(trips), "trip_route_id": ["r"] * len(trips)},
        stop_times={"trip": st_trip, "stop": st_stop, "arr": st_t, "dep": st_t},
        footpaths={"from": [ix[a] for a, _, _ in foot], "to": [ix[b] for _, b, _ in foot],
                   "s": [s for *_, s in foot]},
        stop_transfer_s=change,
        date=dt.date(2026, 3, 4),
    )  # fmt: skip


def at(tt: Timetable, result: np.ndarray) -> dict[str, float]:
    return {s: float(v) for s, v in zip(tt.stop_id, result, strict=True)}


M = 60  # one minute


# ---------------------------------------------------------------------- the reference
def test_reference_one_trip_and_the_change_rule() -> None:
    tt = tiny([
        [("A", H8), ("B", H8 + 10 * M), ("C", H8 + 20 * M)],   # t0
        [("B", H8 + 11 * M), ("D", H8 + 30 * M)],              # t1: 1 min after t0 at B
        [("B", H8 + 12 * M), ("D", H8 + 40 * M)],              # t2: exactly 2 min after
        [("C", H8 + 25 * M), ("D", H8 + 35 * M)],              # t3: 5 min after at C
    ])  # fmt: skip
    got = at(tt, earliest_arrival(tt, [(0, H8)], None))
    # t1 leaves B 60 s after t0 arrives (< 120 s change): missed; t3 at C is made
    assert got == {"A": H8, "B": H8 + 10 * M, "C": H8 + 20 * M, "D": H8 + 35 * M,
                   "E": INF, "F": INF, "G": INF}  # fmt: skip
    # no transfer allowed: only t0's stops
    got0 = at(tt, earliest_arrival(tt, [(0, H8)], 0))
    assert got0["D"] == INF and got0["C"] == H8 + 20 * M
    # origin after t0 leaves: nothing but the origin
    late = at(tt, earliest_arrival(tt, [(0, H8 + 1)], None))
    assert late["A"] == H8 + 1 and all(late[s] == INF for s in "BCDEFG")
    # a boarding at the origin needs no change time: from B at 08:11 t1 is taken
    from_b = at(tt, earliest_arrival(tt, [(1, H8 + 11 * M)], 0))
    assert from_b["D"] == H8 + 30 * M


def test_reference_change_time_per_stop() -> None:
    trips = [[("A", H8), ("B", H8 + 10 * M)], [("B", H8 + 11 * M), ("C", H8 + 20 * M)]]
    fast = tiny(trips, slack={"B": 60})
    assert at(fast, earliest_arrival(fast, [(0, H8)], None))["C"] == H8 + 20 * M
    never = tiny(trips, slack={"B": NO_TRANSFER_S})
    assert at(never, earliest_arrival(never, [(0, H8)], None))["C"] == INF


def test_reference_footpaths_one_between_vehicles() -> None:
    tt = tiny(
        [
            [("A", H8), ("C", H8 + 20 * M)],                 # t0 to C at 08:20
            [("E", H8 + 23 * M), ("F", H8 + 30 * M)],        # t1: E at 08:23
            [("E", H8 + 24 * M), ("F", H8 + 40 * M)],        # t2: E at 08:24
            [("G", H8 + 30 * M), ("D", H8 + 31 * M)],        # t3 from G
        ],
        foot=[("C", "E", 100), ("E", "G", 10)],
    )  # fmt: skip
    got = at(tt, earliest_arrival(tt, [(0, H8)], None))
    # walk C -> E 100 s: at E 08:21:40; boarding there needs + 120 s = 08:23:40, so t1
    # (08:23) is missed and t2 (08:24) taken
    assert got["E"] == H8 + 20 * M + 100
    assert got["F"] == H8 + 40 * M
    # G would need two footpaths in a row (C -> E -> G): not allowed
    assert got["G"] == INF and got["D"] == INF
    # with one transfer allowed the same holds; with none, F is out of reach
    assert at(tt, earliest_arrival(tt, [(0, H8)], 1))["F"] == H8 + 40 * M
    none = at(tt, earliest_arrival(tt, [(0, H8)], 0))
    assert none["F"] == INF and none["E"] == H8 + 20 * M + 100  # walking after the ride


def test_reference_staying_on_board_and_transfer_limits() -> None:
    # t0 A->B->C->D is slow; t1 B->C is fast; t2 C->D leaves soon after t1 arrives
    tt = tiny([
        [("A", H8), ("B", H8 + 5 * M), ("C", H8 + 30 * M), ("D", H8 + 60 * M)],
        [("B", H8 + 8 * M), ("C", H8 + 12 * M)],
        [("C", H8 + 15 * M), ("D", H8 + 25 * M)],
    ])  # fmt: skip
    arrive = [at(tt, earliest_arrival(tt, [(0, H8)], k))["D"] for k in (0, 1, 2, None)]
    # 0 transfers: stay on t0 (09:00); 1: t0 then t2 at C? t0 reaches C only at 08:30,
    # after t2 left, so still 09:00; 2: t0, t1, t2 (08:25)
    assert arrive == [H8 + 60 * M, H8 + 60 * M, H8 + 25 * M, H8 + 25 * M]


def test_reference_several_origins_with_their_own_times() -> None:
    tt = tiny([[("A", H8), ("C", H8 + 30 * M)], [("B", H8 + 10 * M), ("C", H8 + 20 * M)]])
    one = at(tt, earliest_arrival(tt, [(0, H8 - 5 * M)], None))
    both = at(tt, earliest_arrival(tt, [(0, H8 - 5 * M), (1, H8 + 9 * M)], None))
    assert one["C"] == H8 + 30 * M and both["C"] == H8 + 20 * M
    assert both["B"] == H8 + 9 * M  # an origin's own time


def test_reference_on_a_read_feed_with_past_midnight_times(tmp_path: Path) -> None:
    stops = "stop_id,stop_lat,stop_lon\nA,60.0,24.0\nB,60.0,24.1\nC,60.0,24.2\n"
    files = {
        "stops.txt": stops,
        "routes.txt": "route_id,route_type\nR,3\n",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,"
        "sunday,start_date,end_date\nS,1,1,1,1,1,1,1,20260101,20261231\n",
        "trips.txt": "route_id,service_id,trip_id\nR,S,a\nR,S,b\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "a,23:50:00,23:50:00,A,1\na,24:10:00,24:10:00,B,2\n"
        "b,24:15:00,24:15:00,B,1\nb,24:40:00,24:40:00,C,2\n",
    }
    path = tmp_path / "f.zip"
    with zipfile.ZipFile(path, "w") as z:
        for n, text in files.items():
            z.writestr(n, text)
    tt = read_gtfs(path, "2026-03-04")
    got = at(tt, earliest_arrival(tt, [(0, 23 * 3600 + 40 * M)], None))
    assert got["B"] == 24 * 3600 + 10 * M and got["C"] == 24 * 3600 + 40 * M


def _scan(tt: Timetable, origins: list[tuple[int, int]], max_transfers: int | None) -> np.ndarray:
    """A second, plain implementation of the same rules (rounds over trips), for random
    timetables: round k boards from stops reached in round k - 1."""
    n = tt.n_stops
    best = np.full(n, np.inf)
    ready = np.full(n, np.inf)  # earliest boarding time per stop for the next round
    for s, t in origins:
        best[s] = min(best[s], t)
        ready[s] = min(ready[s], t)
    trips = {}
    for c in np.lexsort((tt.conn_seq, tt.conn_trip)):
        trips.setdefault(int(tt.conn_trip[c]), []).append(c)
    rounds = (max_transfers + 1) if max_transfers is not None else tt.n_trips + 1
    for _ in range(rounds):
        arrived = np.full(n, np.inf)
        for cs in trips.values():
            on = False
            for c in cs:
                if not on and tt.conn_dep_time[c] >= ready[tt.conn_dep_stop[c]]:
                    on = True
                if on:
                    b = tt.conn_arr_stop[c]
                    arrived[b] = min(arrived[b], tt.conn_arr_time[c])
        walked = arrived.copy()
        for a, b, s in zip(tt.foot_from, tt.foot_to, tt.foot_s, strict=True):
            walked[b] = min(walked[b], arrived[a] + s)
        best = np.minimum(best, walked)
        nxt = np.minimum(ready, walked + tt.stop_transfer_s)
        if (nxt == ready).all():
            break
        ready = nxt
    return best


@pytest.mark.parametrize("seed", range(6))
def test_reference_agrees_with_a_round_based_scan_on_random_timetables(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_stops = 12
    trips = []
    for _ in range(25):
        k = int(rng.integers(2, 6))
        seq = rng.choice(n_stops, size=k, replace=False)
        t = int(rng.integers(H8, H8 + 3600))
        times = t + np.cumsum(np.r_[0, rng.integers(60, 900, k - 1)])
        trips.append([("ABCDEFGHIJKL"[s], int(x)) for s, x in zip(seq, times, strict=True)])
    foot = [("ABCDEFGHIJKL"[a], "ABCDEFGHIJKL"[b], int(rng.integers(30, 600)))
            for a, b in rng.integers(0, n_stops, (15, 2)) if a != b]  # fmt: skip
    foot = list({(a, b): (a, b, s) for a, b, s in foot}.values())
    tt = tiny(trips, foot, stops="ABCDEFGHIJKL")
    origins = [(int(rng.integers(n_stops)), H8)]
    for k in (0, 1, 3, None):
        # the scan's rounds: the origin may only board, never walk, as in the reference
        assert np.array_equal(earliest_arrival(tt, origins, k), _scan(tt, origins, k))


# ---------------------------------------------------------------------- the contract
def test_timetable_checks_its_arrays() -> None:
    tt = tiny([[("A", H8), ("B", H8 + 60)]])
    with pytest.raises(InputError, match="conn_arr_stop"):
        Timetable(**{**tt.__dict__, "conn_arr_stop": np.array([99], dtype=np.int32)})
    with pytest.raises(InputError, match="stop_lat"):
        Timetable(**{**tt.__dict__, "stop_lat": np.zeros(3)})


# ---------------------------------------------------------------------- synthetic
@pytest.fixture(scope="module")
def small_country() -> SyntheticCountry:
    return generate_country(300_000, seed=3)


def test_synthetic_schedule_is_deterministic(small_country: SyntheticCountry) -> None:
    a = synthetic_schedule(small_country, seed=1)
    b = synthetic_schedule(small_country, seed=1)
    c = synthetic_schedule(small_country, seed=2)
    for name in ("stop_lon", "stop_lat", "st_trip", "st_stop", "st_arr", "st_dep"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.st_dep, c.st_dep) or a.st_dep.size != c.st_dep.size
    with pytest.raises(UnknownNameError, match="train_lines"):
        synthetic_schedule(small_country, train_line=3)


def test_synthetic_gtfs_reads_back_to_the_direct_timetable(
    tmp_path: Path, small_country: SyntheticCountry
) -> None:
    direct = generate_timetable(small_country, seed=1, date=dt.date(2026, 3, 4))
    path = write_synthetic_gtfs(tmp_path / "syn.zip", small_country, seed=1)
    assert path.exists() and not list(tmp_path.glob(".syn.zip.*"))  # no temporary left
    read = read_gtfs(path, "2026-03-04")
    for name in ("stop_id", "stop_lon", "stop_lat", "conn_dep_stop", "conn_arr_stop",
                 "conn_dep_time", "conn_arr_time", "conn_trip", "conn_seq", "trip_id",
                 "trip_route_type", "trip_route_id", "foot_from", "foot_to", "foot_s",
                 "stop_transfer_s"):  # fmt: skip
        assert np.array_equal(getattr(direct, name), getattr(read, name)), name
    # the mix the module docstring promises: buses and trains, trips past midnight
    assert set(direct.trip_route_type.tolist()) == {2, 3}
    assert direct.conn_arr_time.max() > 86400 and read.meta["trips_previous_day"] > 0


def test_synthetic_trips_are_chains_in_time(small_country: SyntheticCountry) -> None:
    tt = generate_timetable(small_country, seed=0)
    o = np.lexsort((tt.conn_seq, tt.conn_trip))
    same = tt.conn_trip[o][1:] == tt.conn_trip[o][:-1]
    assert (tt.conn_seq[o][1:][same] == tt.conn_seq[o][:-1][same] + 1).all()
    assert (tt.conn_arr_stop[o][:-1][same] == tt.conn_dep_stop[o][1:][same]).all()
    assert (tt.conn_arr_time[o][:-1][same] <= tt.conn_dep_time[o][1:][same]).all()
    assert (tt.conn_arr_time > tt.conn_dep_time).all()
    # sorted as the contract says
    d = np.lexsort((tt.conn_seq, tt.conn_trip, tt.conn_arr_time, tt.conn_dep_time))
    assert (d == np.arange(tt.n_connections)).all()


@pytest.mark.slow
def test_synthetic_national_size() -> None:
    tt = generate_timetable(generate_country(), seed=0)
    # the order of magnitude: ~30 k stops, ~1 M stop times a day
    assert 20_000 <= tt.n_stops <= 40_000
    assert 700_000 <= tt.meta["stop_times_active_day"] <= 1_500_000
