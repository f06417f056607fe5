"""Engine benchmarks: ours against scipy and against the edge-scan bound, in one run.

Each group holds the contenders measured on the same input in the same process, so the
gate (benches/gate.py) can compare ratios rather than absolute seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

CUTOFF_S = 3600.0
BATCH = 1000
SCIPY_BATCH = 25  # scipy returns dense rows; a sample is enough for its throughput


@pytest.mark.benchmark(group="nearest-50")
def test_nearest50_hexaccess(benchmark, road_grid):
    _, graph, _, offices = road_grid
    benchmark.extra_info.update(nodes=graph.num_nodes, arcs=graph.num_arcs)
    r = benchmark(graph.nearest, offices)
    assert r.reached.sum() > 0.9 * graph.num_nodes


@pytest.mark.benchmark(group="nearest-50")
def test_nearest50_hexaccess_1thread(benchmark, road_grid):
    """Like for like with scipy, which runs on one thread."""
    _, graph, _, offices = road_grid
    r = benchmark(graph.nearest, offices, threads=1)
    assert r.reached.sum() > 0.9 * graph.num_nodes


@pytest.mark.benchmark(group="nearest-50")
def test_nearest50_scipy(benchmark, road_grid):
    _, graph, matrix, offices = road_grid
    d = benchmark(dijkstra, matrix, indices=offices, min_only=True)
    np.testing.assert_array_equal(d, graph.nearest(offices).time_s)


@pytest.mark.benchmark(group="nearest-50")
def test_nearest50_edge_scan_bound(benchmark, road_grid):
    _, graph, _, offices = road_grid
    benchmark(graph.edge_scan_checksum, offices)


@pytest.mark.benchmark(group="batch-60min")
def test_batch_hexaccess(benchmark, road_grid):
    _, graph, _, _ = road_grid
    starts = np.random.default_rng(7).choice(graph.num_nodes, BATCH, replace=False)
    benchmark.extra_info["searches"] = BATCH
    b = benchmark.pedantic(
        graph.nearest_batch, args=(starts,), kwargs={"cutoff_s": CUTOFF_S}, rounds=3, iterations=1
    )
    assert len(b) == BATCH


@pytest.mark.benchmark(group="batch-60min")
def test_batch_scipy(benchmark, road_grid):
    _, graph, matrix, _ = road_grid
    starts = np.random.default_rng(7).choice(graph.num_nodes, SCIPY_BATCH, replace=False)
    benchmark.extra_info["searches"] = SCIPY_BATCH
    d = benchmark.pedantic(
        dijkstra,
        args=(matrix,),
        kwargs={"indices": starts, "limit": CUTOFF_S},
        rounds=3,
        iterations=1,
    )
    ours = graph.nearest_batch(starts, cutoff_s=CUTOFF_S).to_dense().time_s
    np.testing.assert_array_equal(d, ours)


@pytest.mark.benchmark(group="nearest-50-hex")
def test_hex50_hexaccess(benchmark, synthetic_hex):
    graph, _, offices = synthetic_hex
    benchmark.extra_info.update(nodes=graph.num_nodes, arcs=graph.num_arcs)
    benchmark(graph.nearest, offices)


@pytest.mark.benchmark(group="nearest-50-hex")
def test_hex50_hexaccess_1thread(benchmark, synthetic_hex):
    """Like for like with scipy, which runs on one thread."""
    graph, _, offices = synthetic_hex
    benchmark(graph.nearest, offices, threads=1)


@pytest.mark.benchmark(group="nearest-50-hex")
def test_hex50_scipy(benchmark, synthetic_hex):
    graph, matrix, offices = synthetic_hex
    d = benchmark(dijkstra, matrix, indices=offices, min_only=True)
    np.testing.assert_array_equal(d, graph.nearest(offices).time_s)


@pytest.mark.benchmark(group="nearest-50-hex")
def test_hex50_edge_scan_bound(benchmark, synthetic_hex):
    graph, _, offices = synthetic_hex
    benchmark(graph.edge_scan_checksum, offices)
