"""Transit routing (rust/src/transit/, hexaccess.transit.route) against brute force.

The oracle here is this file's own: for every departure separately, a forward scan of
all connections once per allowed vehicle (round k boards only where round k - 1 left a
vehicle), vectorised over many queries at once. It shares nothing with the backward
profile search under test. Where ``tests/transit/reference.py`` (the time-expanded
scipy graph of the timetable's author) exists, the default rules are also checked
against it.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hexaccess

pytestmark = pytest.mark.skipif(
    not hexaccess.rust_available(), reason="the Rust extension hexaccess._core is not built"
)

from hexaccess.errors import InputError  # noqa: E402
from hexaccess.transit import build_timetable  # noqa: E402
from hexaccess.transit.route import (  # noqa: E402
    build_profiles,
    nearest_office_by_transit,
    walk_only,
    walking_legs,
)

INF = 1 << 40
T0 = 8 * 3600
RULES = [
    {"walk_first": False, "footpath_slack": True},
    {"walk_first": True, "footpath_slack": True},
    {"walk_first": False, "footpath_slack": False},
    {"walk_first": True, "footpath_slack": False},
]


def random_timetable(seed: int, n_stops: int = 18, n_trips: int = 45) -> Any:
    """Random trips (2-7 hops, positive hop times, dwells) over ``n_stops`` stops,
    random one-way footpaths and change times, departures 08:00-09:30."""
    rng = np.random.default_rng(seed)
    st: dict[str, list[int]] = {"trip": [], "stop": [], "arr": [], "dep": []}
    for t in range(n_trips):
        hops = int(rng.integers(2, 8))
        stops = [int(rng.integers(n_stops))]
        while len(stops) <= hops:
            s = int(rng.integers(n_stops))
            if s != stops[-1]:
                stops.append(s)
        time = T0 + int(rng.integers(0, 5400))
        for i, s in enumerate(stops):
            arr = time
            dep = arr + (int(rng.integers(0, 60)) if 0 < i < hops else 0)
            st["trip"].append(t)
            st["stop"].append(s)
            st["arr"].append(arr)
            st["dep"].append(dep)
            time = dep + int(rng.integers(30, 420))
    pairs = [(a, b) for a in range(n_stops) for b in range(n_stops) if a != b]
    pick = rng.random(len(pairs)) < 0.06
    f_from = [a for (a, _), p in zip(pairs, pick, strict=True) if p]
    f_to = [b for (_, b), p in zip(pairs, pick, strict=True) if p]
    return build_timetable(
        stops={
            "stop_id": [f"s{i}" for i in range(n_stops)],
            "stop_lon": rng.uniform(24, 25, n_stops),
            "stop_lat": rng.uniform(60, 61, n_stops),
        },
        trips={
            "trip_id": [f"t{i}" for i in range(n_trips)],
            "trip_route_type": np.full(n_trips, 3),
            "trip_route_id": ["r"] * n_trips,
        },
        stop_times=st,
        footpaths={"from": f_from, "to": f_to, "s": rng.integers(20, 600, len(f_from))},
        stop_transfer_s=rng.integers(0, 240, n_stops),
        date=dt.date(2026, 3, 4),
    )


def random_targets(seed: int, n_stops: int, n_offices: int = 3) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed + 1000)
    stop = rng.choice(n_stops, size=n_offices, replace=False).astype(np.int32)
    office = np.arange(n_offices, dtype=np.int32)
    walk = rng.integers(0, 400, n_offices).astype(np.int32)
    return stop, office, walk


def forward_reference(
    tt: Any,
    targets: tuple[np.ndarray, ...],
    origins: list[list[tuple[int, int]]],
    rides: int,
    walk_first: bool,
    footpath_slack: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Per query (a list of ``(stop, ready time)``): the best office arrival after each
    round ``1..rides`` (``[rides, Q]``) and the best arrival per office (``[Q, offices]``),
    ``INF`` when none."""
    n, q = tt.n_stops, len(origins)
    ff, ft, fs = (np.asarray(a, dtype=np.int64) for a in (tt.foot_from, tt.foot_to, tt.foot_s))
    slack = tt.stop_transfer_s.astype(np.int64)
    ready = np.full((q, n), INF, dtype=np.int64)
    for i, legs in enumerate(origins):
        for s, t in legs:
            ready[i, s] = min(ready[i, s], t)
            if walk_first:
                for a, b, f in zip(ff, ft, fs, strict=True):
                    if a == s:
                        ready[i, b] = min(ready[i, b], t + f)
    t_stop, t_office, t_walk = targets
    n_off = int(t_office.max()) + 1 if t_office.size else 0
    per_office = np.full((q, n_off), INF, dtype=np.int64)
    best = np.full(q, INF, dtype=np.int64)
    rounds = []
    conns = list(
        zip(
            tt.conn_dep_stop.tolist(),
            tt.conn_arr_stop.tolist(),
            tt.conn_dep_time.tolist(),
            tt.conn_arr_time.tolist(),
            tt.conn_trip.tolist(),
            strict=True,
        )
    )
    for _ in range(rides):
        alight = np.full((q, n), INF, dtype=np.int64)
        on = np.zeros((q, tt.n_trips), dtype=bool)
        for u, v, d, a, trip in conns:
            m = on[:, trip] | (ready[:, u] <= d)
            on[:, trip] = m
            alight[m, v] = np.minimum(alight[m, v], a)
        at = alight.copy()
        for a, b, f in zip(ff, ft, fs, strict=True):
            at[:, b] = np.minimum(at[:, b], alight[:, a] + f)
        for s, o, w in zip(t_stop, t_office, t_walk, strict=True):
            arr = at[:, s] + w
            best = np.minimum(best, arr)
            per_office[:, o] = np.minimum(per_office[:, o], arr)
        rounds.append(best.copy())
        nxt = alight + slack[None, :]
        for a, b, f in zip(ff, ft, fs, strict=True):
            extra = slack[b] if footpath_slack else 0
            nxt[:, b] = np.minimum(nxt[:, b], alight[:, a] + f + extra)
        ready = nxt
    r = np.array(rounds)
    r[r >= INF // 2] = INF
    per_office[per_office >= INF // 2] = INF
    return r, per_office


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "rules", RULES, ids=lambda r: f"walk{r['walk_first']:d}slack{r['footpath_slack']:d}"
)
@pytest.mark.parametrize("max_transfers", [0, 1, 3])
def test_stop_profiles_match_brute_force_every_minute(seed, rules, max_transfers):
    tt = random_timetable(seed)
    targets = random_targets(seed, tt.n_stops)
    prof = build_profiles(tt, targets, first_departure_s=T0, max_transfers=max_transfers, **rules)
    stops, times = np.meshgrid(np.arange(tt.n_stops), T0 + 60 * np.arange(90), indexing="ij")
    stops, times = stops.ravel().astype(np.int32), times.ravel().astype(np.int32)
    arr, office, rides = prof.query(stops, times)
    origins = [[(int(s), int(t))] for s, t in zip(stops, times, strict=True)]
    rounds, per_office = forward_reference(tt, targets, origins, max_transfers + 1, **rules)
    want = rounds[-1].astype(np.float64)
    want[rounds[-1] == INF] = np.inf
    np.testing.assert_array_equal(arr, want)
    ok = np.isfinite(want)
    assert ok.mean() > 0.3  # a test of something: most queries reach an office
    fewest = np.argmax(rounds == rounds[-1][None, :], axis=0) + 1
    np.testing.assert_array_equal(rides[ok], fewest[ok])
    np.testing.assert_array_equal(per_office[np.flatnonzero(ok), office[ok]], rounds[-1][ok])
    assert (office[~ok] == -1).all() and (rides[~ok] == 0).all()
    if max_transfers == 3:
        assert (fewest[ok] > 1).mean() > 0.05  # changes matter in these timetables


def random_cells(seed: int, n_cells: int, n_stops: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed + 77)
    counts = rng.integers(0, 4, n_cells)
    ptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    walk_only = np.where(rng.random(n_cells) < 0.3, rng.integers(600, 4000, n_cells), -1)
    return {
        "cell_ptr": ptr,
        "cell_stop": rng.integers(0, n_stops, ptr[-1]).astype(np.int32),
        "cell_walk_s": rng.integers(0, 600, ptr[-1]).astype(np.int32),
        "walk_only_s": walk_only.astype(np.int32),
        "walk_only_office": np.where(walk_only >= 0, 9, -1).astype(np.int32),
    }


def brute_force_cells(
    tt: Any,
    targets: tuple[np.ndarray, ...],
    cells: dict[str, np.ndarray],
    n_dep: int,
    max_time: int | None,
    max_transfers: int,
    rules: dict[str, bool],
) -> dict[str, np.ndarray]:
    """Per cell and departure minute: the travel time (inf), the office and transfers of
    the fastest journey with the fewest vehicles, from the forward reference."""
    ptr, stop, walk = cells["cell_ptr"], cells["cell_stop"], cells["cell_walk_s"]
    n_cells = len(ptr) - 1
    origins, keys = [], []
    for c in range(n_cells):
        for m in range(n_dep):
            t = T0 + 60 * m
            origins.append([(int(stop[j]), t + int(walk[j])) for j in range(ptr[c], ptr[c + 1])])
            keys.append((c, m, t))
    rounds, per_office = forward_reference(tt, targets, origins, max_transfers + 1, **rules)
    time = np.full((n_cells, n_dep), np.inf)
    office = np.full((n_cells, n_dep), -1)
    transfers = np.full((n_cells, n_dep), -1)
    for i, (c, m, t) in enumerate(keys):
        wo = cells["walk_only_s"][c]
        best = np.inf if wo < 0 else float(wo)
        if rounds[-1][i] < INF and rounds[-1][i] - t < best:
            best = float(rounds[-1][i] - t)
            k = int(np.argmax(rounds[:, i] == rounds[-1][i]))
            transfers[c, m] = k
            office[c, m] = int(np.flatnonzero(per_office[i] == rounds[-1][i])[0])
        elif wo >= 0:
            office[c, m] = cells["walk_only_office"][c]
        if max_time is not None and best > max_time:
            best, office[c, m], transfers[c, m] = np.inf, -1, -1
        time[c, m] = best
    return {"time": time, "office": office, "transfers": transfers, "per_office": per_office}


@pytest.mark.parametrize("seed", [4, 5])
@pytest.mark.parametrize("max_time", [None, 2400])
@pytest.mark.parametrize("rules", [RULES[0], RULES[3]], ids=["default", "walk_first"])
def test_cells_match_brute_force_with_r5_percentiles(seed, max_time, rules):
    tt = random_timetable(seed)
    targets = random_targets(seed, tt.n_stops)
    cells = random_cells(seed, 40, tt.n_stops)
    n_dep, max_transfers = 50, 2
    horizon = None if max_time is None else T0 + 60 * (n_dep - 1) + max_time
    prof = build_profiles(
        tt,
        targets,
        first_departure_s=T0,
        horizon_s=horizon,
        max_transfers=max_transfers,
        **rules,
    )
    pct = np.array([0.0, 5.0, 25.0, 50.0, 62.5, 75.0, 95.0, 100.0])
    mn, med, pcs, office, transfers, med_dep, unreached = prof.evaluate_cells(
        *cells.values(), T0, n_dep, max_time_s=max_time, percentiles=pct
    )
    ref = brute_force_cells(tt, targets, cells, n_dep, max_time, max_transfers, rules)
    time = ref["time"]
    np.testing.assert_array_equal(mn, time.min(axis=1))
    np.testing.assert_array_equal(pcs, np.percentile(time, pct, axis=1, method="inverted_cdf").T)
    np.testing.assert_array_equal(med, np.percentile(time, 50, axis=1, method="inverted_cdf"))
    np.testing.assert_array_equal(unreached, np.isinf(time).sum(axis=1))
    # The median journey: the earliest departure whose time is the median.
    m = np.array([np.flatnonzero(time[c] == med[c])[0] for c in range(len(med))])
    np.testing.assert_array_equal(med_dep, T0 + 60 * m)
    rows = np.arange(len(med))
    np.testing.assert_array_equal(transfers, ref["transfers"][rows, m])
    transit = transfers >= 0
    # The office: one that is reached at the median arrival (ties may pick any).
    q = rows[transit] * n_dep + m[transit]
    np.testing.assert_array_equal(
        ref["per_office"][q, office[transit]], T0 + 60 * m[transit] + med[transit]
    )
    walk = np.isfinite(med) & ~transit
    np.testing.assert_array_equal(office[walk], cells["walk_only_office"][walk])
    assert (office[np.isinf(med)] == -1).all()
    assert transit.any() and np.isfinite(time).mean() > 0.3


def test_thread_count_does_not_change_a_bit():
    tt = random_timetable(11, n_stops=30, n_trips=300)
    targets = random_targets(11, tt.n_stops, 5)
    cells = random_cells(11, 3000, tt.n_stops)
    out = []
    for threads in (1, 2):
        prof = build_profiles(tt, targets, first_departure_s=T0, threads=threads)
        out.append(
            prof.evaluate_cells(
                *cells.values(),
                T0,
                90,
                percentiles=np.array([10.0, 50.0, 90.0]),
                threads=threads,
            )
        )
    for a, b in zip(*out, strict=True):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


_DIGEST = """
import hashlib, sys
import numpy as np
sys.path.insert(0, {here!r})
import test_routing as t
tt = t.random_timetable(13, n_stops=30, n_trips=300)
prof = t.build_profiles(tt, t.random_targets(13, tt.n_stops, 5), first_departure_s=t.T0)
out = prof.evaluate_cells(*t.random_cells(13, 3000, tt.n_stops).values(), t.T0, 90)
print(hashlib.sha256(b"".join(a.tobytes() for a in out)).hexdigest())
"""


def test_global_pool_size_does_not_change_a_bit():
    # threads=None runs on rayon's global pool, sized by RAYON_NUM_THREADS.
    import os
    import subprocess
    import sys

    code = _DIGEST.format(here=str(Path(__file__).parent))
    digests = set()
    for n in ("1", "2", "3"):
        env = {**os.environ, "RAYON_NUM_THREADS": n}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        digests.add(done.stdout.strip().splitlines()[-1])
    assert len(digests) == 1


def test_max_transfers_is_honoured():
    tt = random_timetable(6, n_stops=20, n_trips=80)
    targets = random_targets(6, tt.n_stops)
    cells = random_cells(6, 200, tt.n_stops)
    res = {}
    for k in (0, 1, 3):
        prof = build_profiles(tt, targets, first_departure_s=T0, max_transfers=k)
        res[k] = prof.evaluate_cells(*cells.values(), T0, 60)
        assert res[k][4].max() <= k  # transfers of the median journey
    # Fewer changes allowed never helps, and here it visibly hurts somewhere.
    assert (res[0][1] >= res[1][1]).all() and (res[1][1] >= res[3][1]).all()
    assert (res[0][1] > res[3][1]).any()


def test_walking_alone_wins_when_faster():
    tt = random_timetable(7)
    targets = random_targets(7, tt.n_stops)
    prof = build_profiles(tt, targets, first_departure_s=T0)
    # Three cells with the same legs: walking 1 s, walking 10^6 s, no walk at all.
    ptr = np.array([0, 2, 4, 6], dtype=np.int64)
    stop = np.array([0, 1] * 3, dtype=np.int32)
    walk = np.full(6, 10, dtype=np.int32)
    wo = np.array([1, 10**6, -1], dtype=np.int32)
    mn, med, _, office, transfers, _, unreached = prof.evaluate_cells(
        ptr, stop, walk, wo, np.array([4, 4, -1], np.int32), T0, 30
    )
    assert mn[0] == 1 and med[0] == 1 and office[0] == 4 and transfers[0] == -1
    assert unreached[0] == 0 and unreached[1] == 0
    assert np.isfinite(med[2])  # transit reaches an office: the long walk loses to it
    assert med[1] == med[2] and office[1] == office[2] and transfers[1] == transfers[2]
    assert office[2] != 4 and transfers[2] >= 0


def test_empty_window_and_unreachable_offices():
    tt = random_timetable(8)
    cells = random_cells(8, 10, tt.n_stops)
    cells["walk_only_s"][:] = -1
    no_targets = (np.zeros(0, np.int32),) * 3
    prof = build_profiles(tt, no_targets, first_departure_s=T0)
    assert prof.num_entries == 0
    mn, med, pcs, office, transfers, med_dep, unreached = prof.evaluate_cells(
        *cells.values(), T0, 45, percentiles=np.array([25.0, 75.0])
    )
    assert np.isinf(mn).all() and np.isinf(med).all() and np.isinf(pcs).all()
    assert (office == -1).all() and (transfers == -1).all() and (unreached == 45).all()
    prof = build_profiles(tt, random_targets(8, tt.n_stops), first_departure_s=T0)
    mn, med, pcs, office, _, med_dep, unreached = prof.evaluate_cells(*cells.values(), T0, 0)
    assert np.isinf(mn).all() and np.isinf(pcs).all() and (unreached == 0).all()
    assert (med_dep == -1).all() and (office == -1).all()


def test_bad_timetables_are_refused_with_the_row():
    tt = random_timetable(9)
    targets = random_targets(9, tt.n_stops)

    class Reversed:
        """The timetable with its connections in reverse order."""

        def __getattr__(self, name: str) -> Any:
            a = getattr(tt, name)
            return a[::-1].copy() if name.startswith("conn_") else a

    with pytest.raises(InputError, match="not sorted"):
        build_profiles(Reversed(), targets, first_departure_s=T0)
    with pytest.raises(InputError, match="target_stop"):
        build_profiles(tt, (np.array([999], np.int32), *targets[1:]), first_departure_s=T0)
    prof = build_profiles(tt, targets, first_departure_s=T0, horizon_s=T0 + 3600)
    with pytest.raises(ValueError, match="horizon"):
        prof.evaluate_cells(*random_cells(9, 3, tt.n_stops).values(), T0, 10, max_time_s=7200)


def test_wrapper_builds_walks_with_a_kd_tree_and_matches_brute_force():
    rng = np.random.default_rng(12)
    tt = random_timetable(12)
    stop_xy = rng.uniform(0, 4000, (tt.n_stops, 2))
    office_xy = rng.uniform(0, 4000, (3, 2))
    cell_xy = rng.uniform(0, 4000, (30, 2))
    kw = {"walk_kmh": 4.8, "detour": 1.3}
    ms = 4.8 / 3.6 / 1.3
    # Walks, by a full distance matrix.
    d = np.hypot(*(cell_xy[:, None, :] - stop_xy[None, :, :]).transpose(2, 0, 1))
    ptr, stop, walk = walking_legs(cell_xy, stop_xy, max_walk_m=800, **kw)
    for c in range(len(cell_xy)):
        near = np.flatnonzero(d[c] <= 800)
        np.testing.assert_array_equal(np.sort(stop[ptr[c] : ptr[c + 1]]), near)
        got = dict(zip(stop[ptr[c] : ptr[c + 1]], walk[ptr[c] : ptr[c + 1]], strict=True))
        assert all(got[s] == math.ceil(d[c, s] / ms) for s in near)
    do = np.hypot(*(cell_xy[:, None, :] - office_xy[None, :, :]).transpose(2, 0, 1))
    wo, woo = walk_only(cell_xy, office_xy, max_walk_m=1500, **kw)
    near = do.min(axis=1) <= 1500
    np.testing.assert_array_equal(woo[near], do.argmin(axis=1)[near])
    np.testing.assert_array_equal(wo[near], np.ceil(do.min(axis=1)[near] / ms).astype(int))
    assert (wo[~near] == -1).all()
    # The whole pipeline against the forward reference on the same legs.
    res = nearest_office_by_transit(
        tt,
        cell_xy,
        office_xy,
        stop_xy,
        first_departure_s=T0,
        window_min=40,
        percentiles=(25, 50, 75),
        max_transfers=2,
        max_time_s=3000,
        max_walk_m=800,
        boarding_slack_s=30,
        **kw,
    )
    dt_ = np.hypot(*(office_xy[:, None, :] - stop_xy[None, :, :]).transpose(2, 0, 1))
    t_office, t_stop = np.nonzero(dt_ <= 800)
    targets = (t_stop, t_office, np.ceil(dt_[t_office, t_stop] / ms).astype(np.int64))
    max_m = 3000 * ms
    wo_ref, woo_ref = walk_only(cell_xy, office_xy, max_walk_m=max_m, **kw)
    cells = {
        "cell_ptr": ptr,
        "cell_stop": stop,
        "cell_walk_s": walk + 30,
        "walk_only_s": wo_ref,
        "walk_only_office": woo_ref,
    }
    ref = brute_force_cells(tt, targets, cells, 40, 3000, 2, RULES[0])["time"]
    np.testing.assert_array_equal(res.min_s, ref.min(axis=1))
    np.testing.assert_array_equal(
        res.percentile_s, np.percentile(ref, [25, 50, 75], axis=1, method="inverted_cdf").T
    )
    assert res.num_departures == 40 and np.isfinite(res.median_s).any()


_REFERENCE = Path(__file__).with_name("reference.py")


@pytest.mark.skipif(not _REFERENCE.exists(), reason="tests/transit/reference.py is absent")
@pytest.mark.parametrize("seed", [21, 22])
@pytest.mark.parametrize("max_transfers", [0, 2])
def test_default_rules_match_the_time_expanded_reference(seed, max_transfers):
    spec = importlib.util.spec_from_file_location("transit_reference", _REFERENCE)
    assert spec is not None and spec.loader is not None
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    tt = random_timetable(seed, n_stops=14, n_trips=35)
    t_stop, t_office, t_walk = random_targets(seed, tt.n_stops)
    prof = build_profiles(
        tt, (t_stop, t_office, t_walk), first_departure_s=T0, max_transfers=max_transfers
    )
    rng = np.random.default_rng(seed)
    stops = rng.integers(0, tt.n_stops, 40).astype(np.int32)
    times = (T0 + 60 * rng.integers(0, 90, 40)).astype(np.int32)
    arr, _, _ = prof.query(stops, times)
    # The reference's arrival at a stop includes being there at the start: a journey
    # without a vehicle, which the profiles leave to the caller's walk-only time.
    direct = {int(s): int(w) for s, w in sorted(zip(t_stop, t_walk, strict=True), reverse=True)}
    for s, t, a in zip(stops, times, arr, strict=True):
        ea = reference.earliest_arrival(tt, [(int(s), int(t))], max_transfers)
        want = np.min(ea[t_stop] + t_walk)
        got = min(a, t + direct.get(int(s), np.inf))
        assert got == want, (s, t)


def test_real_feed_slice_matches_the_references():
    # The Matkahuolto Nurmijärvi feed on a weekday: real zero-duration hops, trips past
    # midnight and walking footpaths. Offices at the three busiest stops of the morning.
    from fixtures.shared import shared_file

    from hexaccess.transit import read_gtfs

    tt = read_gtfs(shared_file("gtfs/matkahuolto_nurmijarvi_2025.zip"), "2025-11-19")
    morning = (tt.conn_dep_time >= 7 * 3600) & (tt.conn_dep_time < 9 * 3600)
    busiest = np.argsort(-np.bincount(tt.conn_dep_stop[morning], minlength=tt.n_stops))[:3]
    targets = (busiest.astype(np.int32), np.arange(3, dtype=np.int32), np.array([0, 120, 300]))
    t0, max_transfers = 7 * 3600, 2
    prof = build_profiles(tt, targets, first_departure_s=t0, max_transfers=max_transfers)
    rng = np.random.default_rng(5)
    used = np.unique(tt.conn_dep_stop[morning])
    stops = np.repeat(rng.choice(used, 60, replace=False), 60).astype(np.int32)
    times = np.tile(t0 + 120 * np.arange(60), 60).astype(np.int32)
    arr, office, rides = prof.query(stops, times)
    origins = [[(int(s), int(t))] for s, t in zip(stops, times, strict=True)]
    rounds, per_office = forward_reference(tt, targets, origins, max_transfers + 1, **RULES[0])
    want = np.where(rounds[-1] == INF, np.inf, rounds[-1].astype(np.float64))
    np.testing.assert_array_equal(arr, want)
    ok = np.isfinite(want)
    assert ok.mean() > 0.2
    np.testing.assert_array_equal(rides[ok], np.argmax(rounds == rounds[-1], axis=0)[ok] + 1)
    np.testing.assert_array_equal(per_office[np.flatnonzero(ok), office[ok]], rounds[-1][ok])
    if _REFERENCE.exists():
        spec = importlib.util.spec_from_file_location("transit_reference", _REFERENCE)
        assert spec is not None and spec.loader is not None
        reference = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(reference)
        direct = dict(zip(targets[0].tolist(), targets[2].tolist(), strict=True))
        for i in rng.choice(len(stops), 25, replace=False):
            ea = reference.earliest_arrival(tt, origins[i], max_transfers)
            got = min(arr[i], times[i] + direct.get(int(stops[i]), np.inf))
            assert got == np.min(ea[targets[0]] + targets[2]), (stops[i], times[i])


def test_without_the_compiled_core_routing_is_a_clear_error(monkeypatch):
    import sys

    import hexaccess
    from hexaccess.errors import MissingDependencyError
    from hexaccess.transit import route

    monkeypatch.setitem(sys.modules, "hexaccess._core", None)
    monkeypatch.delattr(hexaccess, "_core", raising=False)
    with pytest.raises(MissingDependencyError, match="compiled core"):
        route._core()
