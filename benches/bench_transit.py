"""Transit routing benchmark (issue #12): the nearest office by public transport +
walking from every cell, for every departure minute of a window.

Run: ``python -m pytest benches/bench_transit.py --benchmark-only -q -s`` (about 5 min
on the project's 2-core machine), or ``python benches/bench_transit.py`` for one
national run printed as JSON (``--window MIN``, ``--naive N``, ``--scale S``).

Input (generated here, seeded): a synthetic national timetable of about 30,000 stops
and 1.2 M connections a day (06:00-22:00, both ways): 300 towns with 100 stops each and
4 bus lines every 40 min, 1,500 regional bus lines through 4 neighbouring towns hourly,
12 hourly train lines through 12 towns each; footpaths between stops within 400 m;
100,000 cells (60 % in towns, 40 % rural), 50 offices in towns. Walk 4.8 km/h x 1.3
detour, 1 km access, 60 s change time, at most 3 transfers, 2 h maximum travel time,
departures every minute 08:00-10:00.

Measured (each in a fresh subprocess, so the peak resident memory ``VmHWM`` is the
run's own; pytest-benchmark's time is the whole child with the generator, the routing's
own seconds are ``total_s`` and its phases in ``extra_info``): the walk legs (KD-tree),
the backward profile search, the per-cell evaluation; the naive approach - one profile
search + evaluation per departure minute (``--naive N`` minutes timed, extrapolated to
the window) - in the same run; the time-expanded scipy reference of the tests on a
regional slice (one Dijkstra per cell and departure, extrapolated); scaling with the
window length (30, 60, 120, 240 min) and with the number of stops.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

SEED = 2026
T0 = 8 * 3600
KW = {"walk_kmh": 4.8, "detour": 1.3}


def synthetic_timetable(scale: float = 1.0, seed: int = SEED) -> dict[str, Any]:
    """Stops (x, y metres), connections and footpaths of a synthetic country; ``scale``
    multiplies the number of towns (1.0: 300 towns, 30,000 stops)."""
    from scipy.spatial import cKDTree

    from hexaccess.transit.timetable import connections_from_stop_times

    rng = np.random.default_rng(seed)
    towns = max(2, int(300 * scale))
    centre = np.column_stack([rng.uniform(0, 300_000, towns), rng.uniform(0, 600_000, towns)])
    per_town = 100
    ang = rng.uniform(0, 2 * np.pi, (towns, per_town))
    rad = 3000 * np.sqrt(rng.uniform(0, 1, (towns, per_town)))
    stop_xy = (
        centre[:, None, :] + np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=-1)
    ).reshape(-1, 2)
    lines: list[tuple[np.ndarray, float, int]] = []  # stops, speed m/s, headway s
    for t in range(towns):
        for _ in range(4):
            stops = t * per_town + rng.choice(per_town, 15, replace=False)
            order = np.argsort(stop_xy[stops, 0] + 0.3 * stop_xy[stops, 1])
            lines.append((stops[order], 25 / 3.6, 2400))
    # Regional buses: chains of 4 neighbouring towns, 2 stops in each, hourly.
    near = cKDTree(centre).query(centre, k=min(6, towns))[1]
    for _ in range(int(1500 * scale)):
        chain = [int(rng.integers(towns))]
        for _ in range(3):
            chain.append(int(near[chain[-1], rng.integers(1, near.shape[1])]))
        stops = np.array([c * per_town + int(rng.integers(per_town)) for c in chain for _ in "ab"])
        lines.append((stops, 60 / 3.6, 3600))
    # Trains: 12 towns in a north-south band each, one station per town, hourly.
    station = np.arange(towns) * per_town  # the first stop of each town
    for _ in range(max(1, int(12 * scale))):
        x0 = rng.uniform(0, 300_000)
        band = np.argsort(np.abs(centre[:, 0] - x0))[: min(12, towns)]
        band = band[np.argsort(centre[band, 1])]
        lines.append((station[band], 120 / 3.6, 3600))
    trip_col, stop_col, time_col = [], [], []
    trip = 0
    for stops, speed, headway in lines:
        for direction in (stops, stops[::-1]):
            hop = np.hypot(*np.diff(stop_xy[direction], axis=0).T) * 1.3 / speed
            offs = np.r_[0, np.cumsum(np.maximum(np.round(hop), 30))].astype(np.int64)
            starts = np.arange(6 * 3600, 22 * 3600, headway) + int(rng.integers(headway))
            k = len(starts)
            trip_col.append(np.repeat(np.arange(trip, trip + k), len(direction)))
            stop_col.append(np.tile(direction, k))
            time_col.append((starts[:, None] + offs[None, :]).ravel())
            trip += k
    st_trip, st_stop, st_time = (np.concatenate(c) for c in (trip_col, stop_col, time_col))
    conns = connections_from_stop_times(st_trip, st_stop, st_time, st_time)
    pairs = cKDTree(stop_xy).query_pairs(400, output_type="ndarray")
    f = np.vstack([pairs, pairs[:, ::-1]])
    f = f[np.lexsort((f[:, 1], f[:, 0]))]
    walk_ms = KW["walk_kmh"] / 3.6 / KW["detour"]
    foot_s = np.ceil(np.hypot(*(stop_xy[f[:, 0]] - stop_xy[f[:, 1]]).T) / walk_ms)
    n = len(stop_xy)
    return {
        "stop_xy": stop_xy,
        "centre": centre,
        **conns,
        "foot_from": f[:, 0].astype(np.int32),
        "foot_to": f[:, 1].astype(np.int32),
        "foot_s": foot_s.astype(np.int32),
        "stop_transfer_s": np.full(n, 60, dtype=np.int32),
    }


def cells_and_offices(tt: dict[str, Any], n_cells: int, seed: int = SEED) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed + 1)
    centre = tt["centre"]
    town = rng.integers(len(centre), size=int(n_cells * 0.6))
    ang, rad = rng.uniform(0, 2 * np.pi, len(town)), 3500 * np.sqrt(rng.random(len(town)))
    urban = centre[town] + np.column_stack([rad * np.cos(ang), rad * np.sin(ang)])
    lo, hi = tt["stop_xy"].min(axis=0), tt["stop_xy"].max(axis=0)
    rural = rng.uniform(lo, hi, (n_cells - len(town), 2))
    pick = rng.choice(len(centre), 50, replace=len(centre) < 50)
    offices = centre[pick] + rng.normal(0, 300, (50, 2))
    return np.vstack([urban, rural]), offices


class _TT:
    """The timetable arrays the router (and the reference) read, from the generator's
    dict."""

    def __init__(self, d: dict[str, Any]) -> None:
        self.__dict__.update(d)
        self.n_stops = len(d["stop_xy"])
        self.n_connections = len(d["conn_dep_time"])


def reference_seconds(timetable: Any, legs: Any, calls: int) -> float:
    """Seconds of one call of the time-expanded scipy reference
    (``tests/transit/reference.py``) for one cell and one departure, averaged."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "tests" / "transit" / "reference.py"
    spec = importlib.util.spec_from_file_location("transit_reference", path)
    assert spec is not None and spec.loader is not None
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    ptr, stop, walk = legs
    cells = [c for c in range(len(ptr) - 1) if ptr[c + 1] > ptr[c]][:calls]
    t = time.perf_counter()
    for c in cells:
        origins = [(int(stop[j]), T0 + int(walk[j])) for j in range(ptr[c], ptr[c + 1])]
        ref.earliest_arrival(timetable, origins, 3)
    return (time.perf_counter() - t) / max(1, len(cells))


def run(
    window: int, naive: int, scale: float, n_cells: int, threads: int | None, reference: int
) -> dict:
    """One measured run (call in a fresh process for the peak RSS)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _rss import peak_rss_mb

    from hexaccess.transit.route import (
        build_profiles,
        nearest_office_by_transit,
        office_targets,
        walk_only,
        walking_legs,
    )

    t = time.perf_counter()
    tt = synthetic_timetable(scale)
    cell_xy, office_xy = cells_and_offices(tt, n_cells)
    gen_s = time.perf_counter() - t
    rss_input = peak_rss_mb()
    timetable = _TT(tt)
    max_time = 7200
    t = time.perf_counter()
    res = nearest_office_by_transit(
        timetable, cell_xy, office_xy, tt["stop_xy"], first_departure_s=T0,
        window_min=window, percentiles=(25, 50, 75), max_transfers=3,
        max_time_s=max_time, max_walk_m=1000, threads=threads, **KW,
    )  # fmt: skip
    total_s = time.perf_counter() - t
    # The phases again, separately (same arrays).
    t = time.perf_counter()
    targets = office_targets(tt["stop_xy"], office_xy, max_walk_m=1000, **KW)
    legs = walking_legs(cell_xy, tt["stop_xy"], max_walk_m=1000, **KW)
    wo = walk_only(cell_xy, office_xy, max_walk_m=max_time * 4.8 / 3.6 / 1.3, **KW)
    legs_s = time.perf_counter() - t
    last = T0 + (window - 1) * 60
    t = time.perf_counter()
    prof = build_profiles(
        timetable, targets, first_departure_s=T0, horizon_s=last + max_time,
        max_transfers=3, threads=threads,
    )  # fmt: skip
    profile_s = time.perf_counter() - t
    t = time.perf_counter()
    ev = prof.evaluate_cells(
        *legs, *wo, T0, window, max_time_s=max_time,
        percentiles=np.array([25.0, 50.0, 75.0]), threads=threads,
    )  # fmt: skip
    eval_s = time.perf_counter() - t
    assert np.array_equal(ev[1], res.median_s)
    # Naive: one search + evaluation per departure minute, `naive` minutes timed.
    naive_s = None
    if naive:
        t = time.perf_counter()
        for m in range(naive):
            dep = T0 + 60 * m * max(1, window // naive)
            p1 = build_profiles(
                timetable, targets, first_departure_s=dep, horizon_s=dep + max_time,
                max_transfers=3, threads=threads,
            )  # fmt: skip
            p1.evaluate_cells(*legs, *wo, dep, 1, max_time_s=max_time, threads=threads)
        naive_s = (time.perf_counter() - t) / naive * window
    ref_s = reference_seconds(timetable, legs, reference) if reference else None
    fin = np.isfinite(res.median_s)
    return {
        "window_min": window,
        "stops": len(tt["stop_xy"]),
        "connections": len(tt["conn_dep_time"]),
        "footpaths": len(tt["foot_s"]),
        "cells": int(n_cells),
        "cell_stop_legs": len(legs[1]),
        "scanned_connections": res.connections_scanned,
        "profile_entries": res.profile_entries,
        "profile_mb": prof.memory_bytes / 2**20,
        "generate_s": gen_s,
        "total_s": total_s,
        "legs_s": legs_s,
        "profile_s": profile_s,
        "evaluate_s": eval_s,
        "naive_s_extrapolated": naive_s,
        "naive_minutes_timed": naive,
        "reference_s_per_cell_minute": ref_s,
        "reference_s_extrapolated": None if ref_s is None else ref_s * n_cells * window,
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_input_mb": rss_input,
        "median_reached_share": float(fin.mean()),
        "median_of_medians_min": float(np.median(res.median_s[fin]) / 60) if fin.any() else None,
        "walk_only_share": float((res.transfers[fin] == -1).mean()) if fin.any() else None,
    }


def run_child(**kw: Any) -> dict:
    args = [f"--{k.replace('_', '-')}={v}" for k, v in kw.items() if v is not None]
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _bench(benchmark: Any, **kw: Any) -> dict:
    res: dict = {}

    def once() -> None:
        res.update(run_child(**kw))

    benchmark.pedantic(once, rounds=1, iterations=1)
    benchmark.extra_info.update(res)
    print(json.dumps(res, indent=1))
    return res


def test_national_two_hour_window(benchmark):
    benchmark.group = "transit-national"
    _bench(benchmark, window=120, naive=6, scale=1.0, cells=100_000)


def test_time_expanded_reference_slice(benchmark):
    # The scipy reference on a regional slice (6 towns): one Dijkstra per cell and
    # departure, 5 timed and extrapolated, beside ours on the same input.
    benchmark.group = "transit-reference"
    _bench(benchmark, window=120, naive=0, scale=0.02, cells=2000, reference=5)


@pytest.mark.parametrize("window", [30, 60, 240])
def test_scaling_with_window(benchmark, window):
    benchmark.group = "transit-window"
    _bench(benchmark, window=window, naive=0, scale=1.0, cells=100_000)


@pytest.mark.parametrize("scale", [0.25, 0.5])
def test_scaling_with_stops(benchmark, scale):
    benchmark.group = "transit-stops"
    _bench(benchmark, window=120, naive=0, scale=scale, cells=100_000)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--window", type=int, default=120)
    ap.add_argument("--naive", type=int, default=6)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--cells", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--reference", type=int, default=0, help="reference calls to time")
    a = ap.parse_args()
    print(json.dumps(run(a.window, a.naive, a.scale, a.cells, a.threads, a.reference)))


_STUDY_CHILD = """
import json, time, warnings
warnings.simplefilter("ignore")
from _rss import peak_rss_mb
import hexaccess
from hexaccess.synthetic import generate_country
from hexaccess.synthetic.timetable import generate_timetable
t0 = time.perf_counter()
country = generate_country()
tt = generate_timetable(country, seed=0)
t1 = time.perf_counter()
study = hexaccess.Study(population=country.population, offices=country.offices,
                        mode="transit", gtfs=tt, departure="2026-03-04T08:00", window_min=120)
s = study.solve().summary()
t2 = time.perf_counter()
print(json.dumps({"generate_s": t1 - t0, "study_s": t2 - t1, "peak_mb": peak_rss_mb(),
                  "cells": len(country.population.cells), "stops": int(tt.stop_lon.size),
                  "connections": int(tt.conn_dep_time.size),
                  "within_60_pct": s["coverage_pct"]["60"],
                  "unreachable": s["population_unreachable"], "total": s["population_total"]}))
"""


@pytest.mark.benchmark(group="transit")
def test_synthetic_country_transit_study(benchmark):
    """The study API end to end on the synthetic national timetable of the synthetic
    country (hexaccess.synthetic.timetable: town buses, regional buses, trains; about
    30 k stops and 1.1 M stop times a day) and all its populated cells, 2-hour window."""
    res: dict[str, Any] = {}

    def once() -> None:
        proc = subprocess.run(
            [sys.executable, "-c", _STUDY_CHILD],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
        res.update(json.loads(proc.stdout.strip().splitlines()[-1]))

    benchmark.pedantic(once, rounds=1, iterations=1)
    benchmark.extra_info.update(res)
    print(f"\n[transit study] {res}")
    assert res["cells"] > 10_000 and res["unreachable"] < res["total"]
