"""National-scale benchmarks on the hexagon friction graph (issue 4).

- ``nearest50-hex-fi``: one 50-office nearest search on the resolution-9 friction graph of
  mainland Finland (census grid + NLS 1:1 M roads, ~3.5 M cells, ~21 M arcs): ours vs
  scipy ``dijkstra(min_only=True)`` vs the edge-scan bound, in one run. Skipped when
  ``../shared/data`` is absent.
- ``peak-rss``: build + solve of that study in a fresh subprocess; its peak RSS
  (``VmHWM`` of ``/proc/self/status``) must stay below 2 GB.
- ``scaling``: synthetic countries of 1, 5 and 20 M people (``hexaccess.country``; 50 M
  with ``HEXACCESS_BENCH_50M=1``, which needs ~4 GB), each built and solved in its own
  subprocess: build and search seconds, cells, arcs and peak RSS in ``extra_info`` and
  printed as a table.

The default run takes about 4-5 minutes on the project's 2-core machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from _rss import PRELUDE
from scipy.sparse.csgraph import dijkstra

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "finland"
RSS_LIMIT_MB = 2048

SCALING_PEOPLE = [1_000_000, 5_000_000, 20_000_000]
if os.environ.get("HEXACCESS_BENCH_50M"):
    SCALING_PEOPLE.append(50_000_000)

# The children report their own peak RSS (VmHWM, see _rss.py).
_PEAK = PRELUDE

_FINLAND = (
    _PEAK
    + f"""
import json, time, warnings
warnings.simplefilter("ignore")
from hexaccess import hexgrid, inputs, network
D = {str(SHARED)!r} + "/"
t0 = time.perf_counter()
prof = inputs.profile_for(None, "car")
pop = inputs.read_population_any(D + "census2021_1km.csv", resolution=8,
    municipality_table=D + "grid_municipality.csv",
    exclude_municipalities=inputs.municipality_codes("aland"))
net = network.read_roads(D + "roads_mml_1milj/road.shp", prof, split_at_vertices=True)
offs = inputs.read_offices_any(D + "study_offices_50.csv")
t1 = time.perf_counter()
acc = hexgrid.build_hex_access(net, pop, offs, prof)
t2 = time.perf_counter()
res = acc.solve()
t3 = time.perf_counter()
print(json.dumps(dict(load_s=t1 - t0, build_s=t2 - t1, solve_s=t3 - t2,
    cells=acc.hex.num_nodes, arcs=acc.graph.num_arcs,
    rss_mb=peak_rss_mb())))
"""
)

_COUNTRY = (
    _PEAK
    + """
import json, sys, time, warnings
warnings.simplefilter("ignore")
from hexaccess import country, hexgrid
people = int(sys.argv[1])
t0 = time.perf_counter()
s = country.default_scenario(people)
t1 = time.perf_counter()
acc = hexgrid.build_hex_access(s.roads, s.population, s.offices, water=s.water)
t2 = time.perf_counter()
src = acc.office_node
acc.graph.nearest(src)
t3 = time.perf_counter()
acc.graph.nearest(src)
t4 = time.perf_counter()
acc.graph.edge_scan_checksum(src)
t5 = time.perf_counter()
print(json.dumps(dict(people=people, generate_s=t1 - t0, build_s=t2 - t1,
    search_s=min(t3 - t2, t4 - t3), edge_scan_s=t5 - t4, cells=acc.hex.num_nodes,
    arcs=acc.graph.num_arcs, rss_mb=peak_rss_mb())))
"""
)


def _run(code: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def finland_hex():
    if not (SHARED / "census2021_1km.csv").exists():
        pytest.skip(f"../shared/data not present: {SHARED}")
    import warnings

    from hexaccess import hexgrid, inputs, network

    d = str(SHARED) + "/"
    prof = inputs.profile_for(None, "car")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = inputs.read_population_any(
            d + "census2021_1km.csv",
            resolution=8,
            municipality_table=d + "grid_municipality.csv",
            exclude_municipalities=inputs.municipality_codes("aland"),
        )
        net = network.read_roads(d + "roads_mml_1milj/road.shp", prof, split_at_vertices=True)
        offs = inputs.read_offices_any(d + "study_offices_50.csv")
        acc = hexgrid.build_hex_access(net, pop, offs, prof)
    graph = acc.graph
    indptr, head, time_s, _ = graph.csr()
    matrix = sp.csr_matrix((time_s, head, indptr), shape=(graph.num_nodes,) * 2)
    return graph, matrix, acc.office_node


@pytest.mark.benchmark(group="nearest50-hex-fi")
def test_hex_fi_nearest50_hexaccess(benchmark, finland_hex):
    graph, _, offices = finland_hex
    benchmark.extra_info.update(nodes=graph.num_nodes, arcs=graph.num_arcs)
    r = benchmark.pedantic(graph.nearest, args=(offices,), rounds=3, iterations=1)
    assert r.reached.mean() > 0.99


@pytest.mark.benchmark(group="nearest50-hex-fi")
def test_hex_fi_nearest50_scipy(benchmark, finland_hex):
    graph, matrix, offices = finland_hex
    d = benchmark.pedantic(
        dijkstra,
        args=(matrix,),
        kwargs={"indices": offices, "min_only": True},
        rounds=3,
        iterations=1,
    )
    np.testing.assert_allclose(d, graph.nearest(offices).time_s, rtol=1e-12)


@pytest.mark.benchmark(group="nearest50-hex-fi")
def test_hex_fi_nearest50_edge_scan_bound(benchmark, finland_hex):
    graph, _, offices = finland_hex
    benchmark.pedantic(graph.edge_scan_checksum, args=(offices,), rounds=3, iterations=1)


@pytest.mark.benchmark(group="peak-rss")
def test_hex_fi_build_and_solve_peak_rss(benchmark):
    if not (SHARED / "census2021_1km.csv").exists():
        pytest.skip(f"../shared/data not present: {SHARED}")
    stats = benchmark.pedantic(_run, args=(_FINLAND,), rounds=1, iterations=1)
    benchmark.extra_info.update(stats)
    print(f"\nFinland res-9 hexagon study: {stats}")
    assert stats["rss_mb"] < RSS_LIMIT_MB


_SCALING_ROWS: list[dict] = []


@pytest.mark.benchmark(group="scaling")
@pytest.mark.parametrize("people", SCALING_PEOPLE)
def test_scaling_synthetic_country(benchmark, people):
    stats = benchmark.pedantic(_run, args=(_COUNTRY, str(people)), rounds=1, iterations=1)
    benchmark.extra_info.update(stats)
    _SCALING_ROWS.append(stats)
    print(
        "\n| people | cells | arcs | generate s | build s | search s | edge scan s | RSS MB |"
        if len(_SCALING_ROWS) == 1
        else ""
    )
    print(
        f"| {people / 1e6:.0f} M | {stats['cells']:,} | {stats['arcs']:,} | "
        f"{stats['generate_s']:.1f} | {stats['build_s']:.1f} | {stats['search_s']:.2f} | "
        f"{stats['edge_scan_s']:.3f} | {stats['rss_mb']:.0f} |"
    )
    assert stats["cells"] > 0
