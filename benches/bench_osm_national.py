"""End to end on a synthetic national OpenStreetMap extract (issue #14): load the
``.osm.pbf`` (the Rust reader), attach the synthetic country's population, solve 50
offices; seconds and peak RSS per stage, in a fresh child process per size.

Run: ``python -m pytest benches/bench_osm_national.py --benchmark-only -q -s``. Sizes
(way node entries) from ``HEXACCESS_BENCH_OSM_E2E`` (comma-separated; default
``HEXACCESS_BENCH_OSM_NODES`` or 1,000,000; ``all``: 1, 5, 10 and 20 M, the README's
table: about 10 minutes on 2 cores, and the 20 M study peaks at about 11 GB).

The extract is :func:`hexaccess.synthetic.generate_osm_pbf` (seed 14). Its country has
no population of its own, so the population is placed where the roads are, from the
network just read (:func:`synthetic_population`, seeded): H3 resolution-8 cells of the
road nodes, people per cell weighted by the kind of road (town streets — residential,
living streets, service — carry most; countryside roads a few), plus 1 % of the people
scattered over the extract's box (some beyond every road: reported unreachable). The
50 offices sit at town street nodes, in the most populated cells, spread out.

Stages (one ``python -c`` child; its peak resident memory, ``VmHWM``, read after each
stage, so the peak of a stage includes the ones before it):

- ``read``: :func:`hexaccess.network.read_osm_pbf` (``car_fi``, split at vertices: the
  CLI default) → routable :class:`~hexaccess.network.RoadNetwork`;
- ``population``: the synthetic population and offices (bench input, not the product;
  reported apart);
- ``attach``: :func:`hexaccess.accessibility.build_access_graph` (urban slowdown, strong
  components, cells and offices joined to the nearest kept edge, the engine graph);
- ``solve``: :func:`hexaccess.accessibility.solve` (one search from the 50 offices,
  every cell's time and the bands).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _rss import PRELUDE

from hexaccess.synthetic import generate_osm_pbf

SEED = 14
ALL_SIZES = (1_000_000, 5_000_000, 10_000_000, 20_000_000)


def _sizes() -> list[int]:
    raw = os.environ.get("HEXACCESS_BENCH_OSM_E2E") or os.environ.get(
        "HEXACCESS_BENCH_OSM_NODES", "1000000"
    )
    if raw.strip().lower() == "all":
        return list(ALL_SIZES)
    return [int(float(v)) for v in raw.split(",") if v.strip()]


SIZES = _sizes()
_RESULTS: dict[int, dict[str, Any]] = {}

#: People per node by the road class of its edges (town streets carry the people).
_PEOPLE_WEIGHT = {"residential": 40.0, "living_street": 40.0, "service": 10.0, "secondary": 5.0}
_RURAL_WEIGHT = 1.0
#: People per way node of the extract (10 M way nodes: 5 M people, about Finland's).
PEOPLE_PER_WAY_NODE = 0.5
OFFICES = 50


def synthetic_population(
    net: Any, people: int, *, seed: int = SEED, resolution: int = 8
) -> tuple[Any, Any]:
    """A population grid of about ``people`` where ``net``'s roads are, and 50 offices at
    town street nodes (see the module docstring): ``(PopulationGrid, Offices)``."""
    from hexaccess.h3 import cell_centers, latlng_to_cells
    from hexaccess.network._crs import _to_lonlat
    from hexaccess.offices import Offices
    from hexaccess.population import PopulationGrid

    rng = np.random.default_rng(seed)
    lon, lat = _to_lonlat(net.x, net.y, net.crs)
    # a node's weight: the heaviest class among the edges that start or end there
    edge_w = np.array(
        [_PEOPLE_WEIGHT.get(str(c), _RURAL_WEIGHT) for c in np.unique(net.road_class)]
    )[np.unique(net.road_class, return_inverse=True)[1].reshape(-1)]
    node_w = np.zeros(net.num_nodes)
    np.maximum.at(node_w, net.tail, edge_w)
    np.maximum.at(node_w, net.head, edge_w)
    node_cell = latlng_to_cells(lat, lon, resolution)
    cells, inv = np.unique(node_cell, return_inverse=True)
    weight = np.bincount(inv.reshape(-1), weights=node_w)
    # 1 % scattered over the box: random points, some far from every road
    n_scatter = max(int(0.01 * people), 1)
    slon = rng.uniform(lon.min(), lon.max(), n_scatter)
    slat = rng.uniform(lat.min(), lat.max(), n_scatter)
    scatter_cells, scatter_count = np.unique(
        latlng_to_cells(slat, slon, resolution), return_counts=True
    )
    town = rng.poisson(weight * (people - n_scatter) / weight.sum())
    all_cells = np.concatenate([cells, scatter_cells])
    all_people = np.concatenate([town, scatter_count])
    frame = pd.DataFrame({"cell": all_cells, "total": all_people}).groupby("cell").sum()
    frame = frame[frame["total"] > 0]
    grid = PopulationGrid(frame, resolution)
    # offices: most populated cells first, spread out (half the side of a 1/50 share of
    # the box apart), each at the cell's town node nearest to the cell centre
    spacing = 0.5 * np.sqrt(np.ptp(net.x) * np.ptp(net.y) / OFFICES)
    order = np.argsort(-weight, kind="stable")
    clat, clon = cell_centers(cells[order])
    cx = (clon - lon.mean()) * 110_574.0 * np.cos(np.radians(lat.mean()))  # metres, near
    cy = clat * 110_574.0  # enough to space the offices
    picked: list[int] = []
    for k in range(order.size):
        if all(np.hypot(cx[k] - cx[j], cy[k] - cy[j]) >= spacing for j in picked):
            picked.append(k)
            if len(picked) == OFFICES:
                break
    street = node_w >= _PEOPLE_WEIGHT["service"]
    names, olon, olat = [], [], []
    for k in picked:
        in_cell = np.flatnonzero((inv.reshape(-1) == order[k]) & street)
        if in_cell.size == 0:
            in_cell = np.flatnonzero(inv.reshape(-1) == order[k])
        best = in_cell[np.argmin(np.hypot(lon[in_cell] - clon[k], lat[in_cell] - clat[k]))]
        names.append(f"office {len(names) + 1}")
        olon.append(float(lon[best]))
        olat.append(float(lat[best]))
    offices = Offices(pd.DataFrame({"name": names, "lon": olon, "lat": olat}))
    return grid, offices


_CHILD = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {bench_dir!r})
from bench_osm_national import synthetic_population, PEOPLE_PER_WAY_NODE
from hexaccess import accessibility
from hexaccess.network import read_osm_pbf
out = {{}}
def stage(name, t0):
    out[name + "_s"] = time.perf_counter() - t0
    out[name + "_peak_mb"] = peak_rss_mb()
t0 = time.perf_counter()
net = read_osm_pbf({path!r}, "car_fi", engine="rust")
stage("read", t0)
out.update(nodes=net.num_nodes, edges=net.num_edges)
t0 = time.perf_counter()
pop, offices = synthetic_population(net, int({way_nodes} * PEOPLE_PER_WAY_NODE))
stage("population", t0)
out.update(cells=len(pop.cells), people=pop.total(), offices=len(offices))
t0 = time.perf_counter()
acc = accessibility.build_access_graph(net, pop, offices)
stage("attach", t0)
out.update(graph_nodes=acc.graph.num_nodes, graph_arcs=acc.graph.num_arcs)
t0 = time.perf_counter()
res = accessibility.solve(acc, ["total"])
stage("solve", t0)
c = res.cells
out.update(reached_share=float(c.loc[c["reached"], "total"].sum() / c["total"].sum()))
print(json.dumps(out))
"""


@pytest.fixture(scope="session", params=SIZES, ids=lambda n: f"{n // 1_000_000}M")
def national_pbf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The synthetic national extract of each size (written once per session)."""
    path = tmp_path_factory.mktemp("osm_e2e") / f"national_{request.param}.osm.pbf"
    return generate_osm_pbf(path, request.param, seed=SEED)


def _run_child(path: Path, way_nodes: int) -> dict[str, Any]:
    code = PRELUDE + _CHILD.format(
        bench_dir=str(Path(__file__).resolve().parent), path=str(path), way_nodes=way_nodes
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"end-to-end child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.benchmark(group="osm-end-to-end")
def test_osm_end_to_end(benchmark, national_pbf):
    res: dict[str, Any] = {}
    benchmark.pedantic(
        lambda: res.update(_run_child(national_pbf.path, national_pbf.way_nodes)),
        rounds=1,
        iterations=1,
    )
    res["way_nodes"] = national_pbf.way_nodes
    benchmark.extra_info.update(res)
    _RESULTS[national_pbf.way_nodes] = res
    total = sum(res[f"{s}_s"] for s in ("read", "attach", "solve"))
    print(
        f"\n[osm-e2e] {national_pbf.way_nodes:,} way nodes: read {res['read_s']:.1f} s, "
        f"population {res['population_s']:.1f} s (bench input), attach {res['attach_s']:.1f} "
        f"s, solve {res['solve_s']:.1f} s; read + attach + solve {total:.1f} s; peak "
        f"{res['solve_peak_mb']:.0f} MB; {res['people']:,} people in {res['cells']:,} cells"
    )
    assert res["offices"] == OFFICES
    assert res["graph_nodes"] >= res["nodes"]
    assert res["people"] > 0.9 * PEOPLE_PER_WAY_NODE * national_pbf.way_nodes


@pytest.fixture(scope="module", autouse=True)
def _table():
    """The end-to-end table (markdown) after the last size."""
    yield
    if not _RESULTS:
        return
    print(
        "\n\n| way nodes | read s | attach s | solve s | read + attach + solve s | "
        "peak MB after read / attach / solve | road nodes | engine graph nodes / arcs | "
        "people (cells) | reached |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, r in sorted(_RESULTS.items()):
        total = r["read_s"] + r["attach_s"] + r["solve_s"]
        print(
            f"| {n:,} | {r['read_s']:.1f} | {r['attach_s']:.1f} | {r['solve_s']:.1f} | "
            f"{total:.1f} | {r['read_peak_mb']:.0f} / {r['attach_peak_mb']:.0f} / "
            f"{r['solve_peak_mb']:.0f} | {r['nodes']:,} | {r['graph_nodes']:,} / "
            f"{r['graph_arcs']:,} | {r['people']:,} ({r['cells']:,}) | "
            f"{100 * r['reached_share']:.1f} % |"
        )
