"""The public engine API on the Rust backend, and Rust == Numba on the same inputs.

Expectations come from scipy.sparse.csgraph (times), the slow references in
``tests/reference.py`` (sources and lengths), numpy one-liners (histograms) and hand-worked
graphs; never from the engine itself.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp
from fixtures.reference import reference_labels, reference_labels_tight
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

import hexaccess
from hexaccess import Graph, synthetic

pytestmark = pytest.mark.skipif(
    not hexaccess.rust_available(), reason="the Rust extension hexaccess._core is not built"
)

BACKENDS = ["rust", "numba"]


# ---------------------------------------------------------------------------- helpers
@st.composite
def graphs(draw, integer_weights: bool = False, max_nodes: int = 14, positive: bool = False):
    """Random small graphs: disconnected parts, zero weights, parallel arcs, self loops,
    one node, no arcs, duplicate sources, optional offsets and cutoff.

    ``positive`` keeps arc times > 0 (self loops aside), the case the engine runs with its
    bucket queue instead of the radix heap; both must give the same labels."""
    n = draw(st.integers(1, max_nodes))
    m = draw(st.integers(0, 3 * n))
    node = st.integers(0, n - 1)
    if integer_weights:
        weight = st.integers(0, 6).map(float)
    else:
        # Few distinct values so that equal-time ties really happen, plus awkward floats.
        weight = st.sampled_from([0.0, 0.1, 0.2, 0.3, 1.0, 2.5, 1e-9, 7.0])
    time_weight = weight.filter(lambda w: w >= 0.1) if positive else weight
    tail = draw(st.lists(node, min_size=m, max_size=m))
    head = draw(st.lists(node, min_size=m, max_size=m))
    time = draw(st.lists(time_weight, min_size=m, max_size=m))
    length = draw(st.lists(weight, min_size=m, max_size=m))
    k = draw(st.integers(1, min(4, n + 1)))
    sources = draw(st.lists(node, min_size=k, max_size=k))
    offsets = draw(st.lists(weight, min_size=k, max_size=k)) if draw(st.booleans()) else None
    cutoff = draw(st.sampled_from([None, 0.0, 1.0, 2.5, 6.0]))
    bidirectional = draw(st.booleans())
    return n, tail, head, time, length, bidirectional, sources, offsets, cutoff


def scipy_times(n, tail, head, time, bidirectional, sources, offsets, cutoff):
    """Shortest times with scipy; offsets via a super-source with arcs of weight offset."""
    tail, head, time = list(tail), list(head), list(time)
    if bidirectional:
        tail, head, time = tail + head, head + tail, time + time
    offsets = [0.0] * len(sources) if offsets is None else list(offsets)
    # Super-source n; scipy sums 0 + offset + ..., identical to offset + ... in floats.
    tail += [n] * len(sources)
    head += list(sources)
    time += offsets
    # Parallel arcs: keep the fastest (a plain COO->CSR conversion would *sum* them).
    # Zero weights stay explicitly stored entries, which csgraph treats as arcs.
    coo = sp.coo_matrix(
        (np.array(time, float), (np.array(tail), np.array(head))), shape=(n + 1,) * 2
    )
    order = np.lexsort((coo.data, coo.col, coo.row))
    r, c, d = coo.row[order], coo.col[order], coo.data[order]
    first = np.ones(r.size, bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    a = sp.csr_matrix((d[first], (r[first], c[first])), shape=(n + 1,) * 2)
    assert a.nnz == int(first.sum()), "zero-weight arcs must stay stored"
    limit = np.inf if cutoff is None else cutoff
    dist = dijkstra(a, directed=True, indices=n, limit=limit)
    return dist[:n]


def check_against_references(case, reference) -> None:
    """Times bit-equal to scipy's; times, sources and lengths equal to ``reference``."""
    n, tail, head, time, length, both, sources, offsets, cutoff = case
    g = Graph.from_edges(tail, head, time, length, num_nodes=n, bidirectional=both)
    r = g.nearest(sources, offsets_s=offsets, cutoff_s=cutoff)
    np.testing.assert_array_equal(
        r.time_s, scipy_times(n, tail, head, time, both, sources, offsets, cutoff)
    )
    t, s, ln = reference(n, tail, head, time, length, both, sources, offsets, cutoff)
    np.testing.assert_array_equal(r.time_s, t)
    np.testing.assert_array_equal(r.source, s)
    np.testing.assert_array_equal(r.length_m, ln)


# ---------------------------------------------------------------------------- hand-worked
@pytest.mark.parametrize("backend", BACKENDS)
def test_hand_worked_path_with_tie(backend):
    # 0 -(10 s,100 m)- 1 -(10 s,50 m)- 2 -(5 s,70 m)- 3 -(15 s,10 m)- 4, sources 0 and 4.
    # From 0: 1@10, 2@20, 3@25. From 4: 3@15, 2@20, 1@30. Node 2 ties at 20 s: lowest
    # source index (0) wins, path 0-1-2 = 150 m.
    g = Graph.from_edges(
        [0, 1, 2, 3],
        [1, 2, 3, 4],
        [10.0, 10.0, 5.0, 15.0],
        [100.0, 50.0, 70.0, 10.0],
        bidirectional=True,
        backend=backend,
    )
    r = g.nearest([0, 4])
    assert r.time_s.tolist() == [0.0, 10.0, 20.0, 15.0, 0.0]
    assert r.source.tolist() == [0, 0, 0, 1, 1]
    assert r.length_m.tolist() == [0.0, 100.0, 150.0, 10.0, 0.0]
    assert r.reached.all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_unreachable_nodes_are_marked_not_zero(backend):
    # Node 3 has no arcs; node 2 is beyond the 15 s cutoff.
    g = Graph.from_edges([0, 1], [1, 2], [10.0, 10.0], [1.0, 1.0], num_nodes=4, backend=backend)
    r = g.nearest([0], cutoff_s=15.0)
    assert r.time_s.tolist() == [0.0, 10.0, np.inf, np.inf]
    assert r.source.tolist() == [0, 0, -1, -1]
    assert r.length_m.tolist() == [0.0, 1.0, np.inf, np.inf]
    assert r.reached.tolist() == [True, True, False, False]
    assert r.num_unreached == 2
    frame = r.to_frame()
    assert frame["reached"].sum() == 2


# ---------------------------------------------------------------------------- properties
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(integer_weights=True))
def test_matches_scipy_and_reference_on_integer_weights(case):
    check_against_references(case, reference_labels)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(integer_weights=False))
def test_float_weights_exact_times_and_tight_labels(case):
    # Times: both compute the minimum over paths of the left-to-right float sum, so they
    # are bit-equal to scipy's; labels follow the tight-arc definition.
    check_against_references(case, reference_labels_tight)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(integer_weights=True, positive=True))
def test_bucket_queue_path_matches_scipy_and_reference(case):
    check_against_references(case, reference_labels)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans().flatmap(lambda p: graphs(integer_weights=False, max_nodes=30, positive=p)))
def test_rust_and_numba_are_bit_identical(case):
    n, tail, head, time, length, both, sources, offsets, cutoff = case
    results = []
    for backend in BACKENDS:
        g = Graph.from_edges(
            tail, head, time, length, num_nodes=n, bidirectional=both, backend=backend
        )
        r = g.nearest(sources, offsets_s=offsets, cutoff_s=cutoff)
        w = np.arange(n, dtype=float)[:, None] * [1.0, 0.5]
        h = g.band_histogram(
            sources, w, band_edges_s=[0, 1, 2.5, 5], offsets_s=offsets, cutoff_s=cutoff
        )
        b = g.nearest_batch([sources, sources[:1]], cutoff_s=cutoff)
        results.append((r, h, b))
    (r1, h1, b1), (r2, h2, b2) = results
    for a, b in [(r1.time_s, r2.time_s), (r1.source, r2.source), (r1.length_m, r2.length_m)]:
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    for field in ["counts", "unreachable", "time_sum", "length_sum"]:
        np.testing.assert_array_equal(getattr(h1, field), getattr(h2, field))
    for field in ["indptr", "node", "time_s", "length_m", "source"]:
        np.testing.assert_array_equal(getattr(b1, field), getattr(b2, field))


def test_larger_random_graph_against_scipy_and_numba():
    net = synthetic.grid_network(60, 50, seed=3)
    rng = np.random.default_rng(1)
    sources = rng.choice(net.num_nodes, 7, replace=False)
    args = (net.tail, net.head, net.time_s, net.length_m)
    g = Graph.from_edges(*args, num_nodes=net.num_nodes, bidirectional=True)
    r = g.nearest(sources)
    indptr, head, t, _ = g.csr()
    a = sp.csr_matrix((t, head, indptr), shape=(net.num_nodes,) * 2)
    d, _, src = dijkstra(a, indices=sources, min_only=True, return_predecessors=True)
    np.testing.assert_array_equal(r.time_s, d)
    # With continuous random weights ties are (almost surely) absent: same source node.
    reached = np.isfinite(d)
    np.testing.assert_array_equal(sources[r.source[reached]], src[reached])
    gn = Graph.from_edges(*args, num_nodes=net.num_nodes, bidirectional=True, backend="numba")
    rn = gn.nearest(sources)
    np.testing.assert_array_equal(r.length_m, rn.length_m)
    np.testing.assert_array_equal(r.source, rn.source)


def test_large_search_on_several_threads_is_exact():
    """Graphs above the parallel threshold are searched on several threads (owner-computes
    buckets): times bit-equal to scipy, and times, sources and lengths bit-identical to one
    thread and to the Numba backend, on a grid with many equal-time ties, offsets,
    duplicate sources, missing links and a cutoff."""
    side = 400
    n = side * side
    assert n >= hexaccess._core.PARALLEL_MIN_NODES
    rng = np.random.default_rng(11)
    ids = np.arange(n).reshape(side, side)
    tail = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    head = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    isolated = rng.choice(n, 20, replace=False)
    keep = (rng.random(tail.size) > 0.03) & ~np.isin(tail, isolated) & ~np.isin(head, isolated)
    tail, head = tail[keep], head[keep]
    time = 1.0 + 0.5 * rng.integers(0, 4, tail.size)  # few distinct values: many ties
    length = rng.integers(10, 13, tail.size).astype(float)
    sources = np.append(rng.choice(n, 40, replace=False), [16_383, 16_384, 16_384])
    offsets = 0.5 * rng.integers(0, 8, sources.size)
    args = (tail, head, time, length)
    g = Graph.from_edges(*args, num_nodes=n, bidirectional=True)
    gn = Graph.from_edges(*args, num_nodes=n, bidirectional=True, backend="numba")
    for offs, cutoff in [(None, None), (offsets, 120.0)]:
        one = g.nearest(sources, offsets_s=offs, cutoff_s=cutoff, threads=1)
        expect = scipy_times(n, tail, head, time, True, sources, offs, cutoff)
        np.testing.assert_array_equal(one.time_s, expect)
        assert one.num_unreached >= 20 - np.isin(sources, isolated).sum()
        numba = gn.nearest(sources, offsets_s=offs, cutoff_s=cutoff)
        for other in [numba] + [
            g.nearest(sources, offsets_s=offs, cutoff_s=cutoff, threads=t) for t in (2, 3)
        ]:
            assert other.time_s.tobytes() == one.time_s.tobytes()
            np.testing.assert_array_equal(other.source, one.source)
            assert other.length_m.tobytes() == one.length_m.tobytes()


# ---------------------------------------------------------------------------- batches
def _grid_graph():
    net = synthetic.grid_network(40, 30, seed=5)
    g = Graph.from_edges(
        net.tail, net.head, net.time_s, net.length_m, num_nodes=net.num_nodes, bidirectional=True
    )
    return net, g


def test_batch_equals_single_searches_and_is_thread_independent():
    net, g = _grid_graph()
    rng = np.random.default_rng(2)
    sets = [rng.choice(net.num_nodes, k, replace=False) for k in (1, 3, 5, 1, 2)] * 8
    calls = []
    b1 = g.nearest_batch(sets, cutoff_s=600.0, threads=1)
    b2 = g.nearest_batch(
        sets, cutoff_s=600.0, threads=2, progress=lambda d, t: calls.append((d, t))
    )
    assert calls and calls[-1] == (len(sets), len(sets))
    for f in ["indptr", "node", "time_s", "length_m", "source"]:
        np.testing.assert_array_equal(getattr(b1, f), getattr(b2, f))
    dense = b1.to_dense()
    for i, s in enumerate(sets):
        single = g.nearest(s, cutoff_s=600.0)
        np.testing.assert_array_equal(dense.time_s[i], single.time_s)
        np.testing.assert_array_equal(dense.source[i], single.source)
        np.testing.assert_array_equal(dense.length_m[i], single.length_m)
        assert b1[i].node.tolist() == np.flatnonzero(single.reached).tolist()


def test_single_source_batch_from_1d_array_and_targets():
    _, g = _grid_graph()
    starts = np.array([0, 17, 500, 1199])
    targets = np.array([3, 17, 600, 1000])
    b = g.nearest_batch(starts, targets=targets, cutoff_s=900.0)
    assert len(b) == 4
    for i, s in enumerate(starts):
        single = g.nearest([s], cutoff_s=900.0)
        expect = targets[single.reached[targets]]
        assert b[i].node.tolist() == sorted(expect.tolist())
        np.testing.assert_array_equal(b[i].time_s, single.time_s[b[i].node])


def test_runs_are_deterministic():
    _, g = _grid_graph()
    s = [1, 99, 700]
    a, b = g.nearest(s), g.nearest(s)
    assert a.time_s.tobytes() == b.time_s.tobytes()
    assert a.length_m.tobytes() == b.length_m.tobytes()


# ---------------------------------------------------------------------------- histograms
@pytest.mark.parametrize("backend", BACKENDS)
def test_histogram_matches_numpy_one_liners(backend):
    net, g = _grid_graph()
    g = g.with_backend(backend)
    rng = np.random.default_rng(4)
    w = rng.integers(0, 50, (net.num_nodes, 2)).astype(float)
    sources = [10, 800]
    edges = np.array([0.0, 120.0, 300.0, 600.0])
    h = g.band_histogram(sources, w, band_edges_s=edges, cutoff_s=900.0, columns=["all", "65+"])
    r = g.nearest(sources, cutoff_s=900.0)
    band = np.searchsorted(edges, r.time_s[r.reached], side="right") - 1
    for c in range(2):
        expect = np.bincount(band, weights=w[r.reached, c], minlength=4)
        np.testing.assert_allclose(h.counts[:, c], expect, rtol=0, atol=1e-9)
        assert h.unreachable[c] == w[~r.reached, c].sum()
        np.testing.assert_allclose(h.time_sum[c], (w[r.reached, c] * r.time_s[r.reached]).sum())
    assert h.total("65+") == pytest.approx(w[:, 1].sum())
    table = h.to_frame("all")
    assert table["band_end_min"].iloc[-1] == np.inf
    np.testing.assert_allclose(
        table["share_pct"].sum() + h.unreachable[0] / w[:, 0].sum() * 100, 100
    )
    assert h.mean_time_s("all") == pytest.approx(
        np.average(r.time_s[r.reached], weights=w[r.reached, 0])
    )


def test_streaming_histograms_equal_one_by_one():
    net, g = _grid_graph()
    w = np.ones(net.num_nodes)
    sets = [[i] for i in range(0, 1200, 97)]
    seen = []
    streamed = list(g.iter_band_histograms(sets, w, chunk=3, progress=lambda d, t: seen.append(d)))
    assert seen == sorted(seen) and seen[-1] == len(sets)
    for s, h in zip(sets, streamed, strict=True):
        one = g.band_histogram(s, w)
        np.testing.assert_array_equal(h.counts, one.counts)


def test_default_bands_are_ten_minutes_to_three_hours():
    g = Graph.from_edges([0], [1], [3600.0], [1.0])
    h = g.band_histogram([0], [1.0, 2.0])
    assert h.edges_s.tolist() == [m * 60.0 for m in range(0, 181, 10)]
    assert h.counts[0, 0] == 1.0 and h.counts[6, 0] == 2.0


# ---------------------------------------------------------------------------- bad input
BAD_GRAPHS = [
    (
        dict(tail=[0, 1], head=[1], time_s=[1, 1], length_m=[1, 1]),
        "edge arrays must have equal length",
    ),
    (
        dict(tail=[0, 5], head=[1, 1], time_s=[1, 1], length_m=[1, 1], num_nodes=3),
        "edge row 1: tail node id 5",
    ),
    (
        dict(tail=[0, 1], head=[1, -2], time_s=[1, 1], length_m=[1, 1], num_nodes=3),
        "edge row 1: head node id -2",
    ),
    (
        dict(tail=[0, 1], head=[1, 2], time_s=[1, np.nan], length_m=[1, 1]),
        "edge row 1: time_s is nan",
    ),
    (
        dict(tail=[0, 1], head=[1, 2], time_s=[np.inf, 1], length_m=[1, 1]),
        "edge row 0: time_s is inf",
    ),
    (
        dict(tail=[0, 1], head=[1, 2], time_s=[1, 1], length_m=[1, -1.0]),
        "edge row 1: length_m is -1.0",
    ),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("kwargs", "message"), BAD_GRAPHS)
def test_bad_graph_input_names_the_row(backend, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Graph.from_edges(**kwargs, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_queries_are_refused(backend):
    g = Graph.from_edges([0, 1], [1, 2], [1.0, 1.0], [1.0, 1.0], backend=backend)
    with pytest.raises(ValueError, match=re.escape("source 1: node id 3 is outside 0..2")):
        g.nearest([0, 3])
    with pytest.raises(ValueError, match="start offset"):
        g.nearest([0], offsets_s=[-1.0])
    with pytest.raises(ValueError, match="one offset per source"):
        g.nearest([0], offsets_s=[1.0, 2.0])
    with pytest.raises(ValueError, match="cutoff"):
        g.nearest([0], cutoff_s=-5)
    with pytest.raises(ValueError, match="integer node ids"):
        g.nearest([0.5])
    with pytest.raises(ValueError, match="first band edge must be 0"):
        g.band_histogram([0], [1, 1, 1], band_edges_s=[60, 120])
    with pytest.raises(ValueError, match="band edge 2"):
        g.band_histogram([0], [1, 1, 1], band_edges_s=[0, 120, 120])
    with pytest.raises(ValueError, match="weights have 2 rows but the graph has 3 nodes"):
        g.band_histogram([0], [1, 1])
    with pytest.raises(ValueError, match="weight at node 1, column 0"):
        g.band_histogram([0], [1, np.nan, 1])
    with pytest.raises(ValueError, match="source set 1"):
        g.nearest_batch([[0], [7]])
    for bad in (0, -1, 1.5, True):
        with pytest.raises(
            ValueError,
            match=re.escape(f"threads must be >= 1 (or None for all cores), got {bad!r}"),
        ):
            g.nearest([0], threads=bad)
        with pytest.raises(ValueError, match="threads must be >= 1"):
            g.nearest_batch([[0]], threads=bad)
        with pytest.raises(ValueError, match="threads must be >= 1"):
            g.band_histograms([[0]], [1, 1, 1], threads=bad)
    with pytest.raises(ValueError, match="backend must be one of"):
        Graph.from_edges([0], [1], [1.0], [1.0], backend="gpu")


def test_numba_fallback_gives_the_same_public_types():
    g = Graph.from_edges([0], [1], [1.0], [1.0], backend="numba")
    assert g.backend == "numba"
    assert isinstance(g.nearest([0]), hexaccess.NearestResult)
    assert "numba" in repr(g)


def test_auto_backend_falls_back_to_numba_with_a_warning(monkeypatch):
    # Simulate an installation whose compiled extension cannot be imported.
    from hexaccess import _engine

    monkeypatch.setattr(_engine, "_rust_core", None)
    monkeypatch.setattr(_engine, "_RUST_IMPORT_ERROR", ImportError("simulated"))
    monkeypatch.setattr(_engine, "_warned", False)
    with pytest.warns(hexaccess.FallbackWarning, match="simulated"):
        g = Graph.from_edges([0, 1], [1, 2], [5.0, 5.0], [1.0, 1.0], bidirectional=True)
    assert g.backend == "numba"
    assert g.nearest([2]).time_s.tolist() == [10.0, 5.0, 0.0]
    with pytest.raises(ImportError, match="backend='numba' works without it"):
        Graph.from_edges([0], [1], [1.0], [1.0], backend="rust")


def test_type_stubs_cover_the_extension():
    # Every public name of the compiled module is declared in _core.pyi, and vice versa.
    import ast
    from pathlib import Path

    from hexaccess import _core

    stub = Path(hexaccess.__file__).with_name("_core.pyi")
    tree = ast.parse(stub.read_text())
    declared = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    declared |= {
        n.target.id
        for n in tree.body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }
    exported = {n for n in dir(_core) if not n.startswith("_")} | {"__version__"}
    assert declared == exported


@pytest.mark.parametrize("backend", BACKENDS)
def test_histogram_from_one_search_is_bit_identical(backend):
    # nearest_with_histogram bins the per-node results; the engine bins inside the
    # search. Same sums, same order: identical to the last bit, floats included.
    net, g = _grid_graph()
    g = g.with_backend(backend)
    rng = np.random.default_rng(9)
    w = rng.random((net.num_nodes, 3)) * 100.0
    w[rng.random(net.num_nodes) < 0.2] = 0.0
    sources, offsets = [5, 400, 901], [0.0, 17.5, 3.25]
    edges = [0, 60, 333.3, 600]
    engine = g.band_histogram(sources, w, band_edges_s=edges, offsets_s=offsets, cutoff_s=700)
    r, binned = g.nearest_with_histogram(
        sources, w, band_edges_s=edges, offsets_s=offsets, cutoff_s=700
    )
    for field in ["counts", "unreachable", "time_sum", "length_sum"]:
        assert getattr(binned, field).tobytes() == getattr(engine, field).tobytes(), field
    assert binned.columns == engine.columns
    np.testing.assert_array_equal(
        r.time_s, g.nearest(sources, offsets_s=offsets, cutoff_s=700).time_s
    )
    with pytest.raises(ValueError, match="first band edge must be 0"):
        g.nearest_with_histogram(sources, w, band_edges_s=[5, 10])


# ---------------------------------------------------------------------------- one set of checks
BAD_CALLS = [
    lambda g: g.nearest([0, 3]),
    lambda g: g.nearest([0], offsets_s=[-1.0]),
    lambda g: g.nearest([0], offsets_s=[np.nan]),
    lambda g: g.nearest([0], offsets_s=[1.0, 2.0]),
    lambda g: g.nearest([0], cutoff_s=-5),
    lambda g: g.nearest([0.5]),
    lambda g: g.band_histogram([0], [1, 1, 1], band_edges_s=[60, 120]),
    lambda g: g.band_histogram([0], [1, 1, 1], band_edges_s=[0, 120, 120]),
    lambda g: g.band_histogram([0], [1, 1]),
    lambda g: g.band_histogram([0], [1, np.nan, 1]),
    lambda g: g.band_histograms([[0], [1], [9]], [1, 1, 1], chunk=1),
    lambda g: g.nearest_batch([[0], [7]]),
    lambda g: g.nearest_batch([[0]], targets=np.ones(2, dtype=bool)),
    lambda g: g.nearest_batch([[0]], targets=[5]),
    lambda g: g.nearest_with_histogram([0], [1, 1, 1], band_edges_s=[5, 10]),
    lambda g: g.edge_scan_checksum([4]),
]


@pytest.mark.parametrize("call", BAD_CALLS)
def test_both_backends_refuse_bad_input_with_the_same_engine_error(call):
    # One copy of the checks runs before either backend sees the arrays: the same
    # error, word for word, from both.
    messages = []
    for backend in BACKENDS:
        g = Graph.from_edges([0, 1], [1, 2], [1.0, 1.0], [1.0, 1.0], backend=backend)
        with pytest.raises(hexaccess.errors.EngineInputError) as info:
            call(g)
        assert isinstance(info.value, ValueError)
        assert isinstance(info.value, hexaccess.errors.HexaccessError)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_rust_style_numbers_and_global_set_index_in_messages():
    g = Graph.from_edges([0, 1], [1, 2], [1.0, 1.0], [1.0, 1.0], backend="numba")
    with pytest.raises(ValueError, match=re.escape("source 0: start offset -1 s is invalid")):
        g.nearest([0], offsets_s=[-1.0])
    # Sets are numbered across the whole call, not within a chunk of the stream.
    with pytest.raises(ValueError, match=re.escape("source set 2: source 0: node id 9")):
        g.band_histograms([[0], [1], [9]], [1, 1, 1], chunk=1)


def test_edge_scan_checksum_and_seconds():
    # The sweep from node 0 labels 1 at 1 s and 2 at 3 s: times sum to 4, lengths to 0.
    g = Graph.from_edges([0, 1], [1, 2], [1.0, 2.0], [0.0, 0.0])
    assert g.edge_scan_checksum([0]) == 0.0 + 1.0 + 3.0
    seconds = g.edge_scan_seconds([0])
    assert isinstance(seconds, float) and seconds >= 0.0
    with pytest.raises(RuntimeError, match="Rust backend only"):
        g.with_backend("numba").edge_scan_checksum([0])


def test_backend_selection_has_one_home_and_old_paths_forward_to_it(monkeypatch):
    from hexaccess import _backend, _engine
    from hexaccess._engine import numba as numba_adapter
    from hexaccess._engine import rust as rust_adapter

    assert _engine.select("rust") is rust_adapter
    assert _engine.select("numba") is numba_adapter
    assert _engine.select("auto") is rust_adapter
    assert Graph.from_edges([0], [1], [1.0], [1.0], backend="numba").backend == "numba"
    # The old module keeps working, and its state is the selector's state.
    assert _backend.resolve("auto") == "rust" and _backend.rust() is hexaccess._core
    assert _backend.FallbackWarning is hexaccess.FallbackWarning
    monkeypatch.setattr(_backend, "_rust_core", None)
    assert _engine._rust_core is None and not _engine.rust_available()
    with pytest.raises(ImportError, match="backend='rust' was requested"):
        _engine.select("rust")
    monkeypatch.undo()
    assert _engine.rust_available()


def test_the_adapters_offer_the_same_functions():
    import inspect

    from hexaccess._engine import numba as numba_adapter
    from hexaccess._engine import rust as rust_adapter

    def api(module):
        return {
            name: list(inspect.signature(f).parameters)
            for name, f in vars(module).items()
            if inspect.isfunction(f) and f.__module__ == module.__name__ and name[0] != "_"
        }

    assert api(rust_adapter) == api(numba_adapter)
    assert {"build_graph", "nearest", "nearest_batch", "band_histograms"} <= set(api(rust_adapter))


def test_h3_helpers_live_in_one_module_and_agree_with_h3_py():
    import h3 as h3py

    from hexaccess import h3, h3cells

    cells = h3.latlng_to_cells(np.array([60.17, 61.5]), np.array([24.94, 23.76]), 9)
    assert h3cells.latlng_to_cells is h3.latlng_to_cells
    assert h3.cell_resolution(cells).tolist() == [9, 9]
    assert h3.valid_cell_mask(cells).all()
    parents = h3.cell_to_parent(cells, 6)
    expect = [h3py.str_to_int(h3py.cell_to_parent(h3py.int_to_str(int(c)), 6)) for c in cells]
    assert parents.tolist() == expect
    assert h3.str_to_cell(h3.cell_to_str(cells)).tolist() == cells.tolist()
    assert h3.mean_cell_area_km2(9) == h3py.average_hexagon_area(9, unit="km^2")
    with pytest.raises(hexaccess.errors.EngineInputError, match="resolution"):
        h3.cell_to_parent(cells, 16)
    with pytest.raises(hexaccess.errors.EngineInputError, match="entry 1"):
        h3.str_to_cell(["8911aa", "zz"])
