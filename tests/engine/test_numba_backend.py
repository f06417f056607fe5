"""Tests of the Numba backend against independent expectations.

Independent oracles used here:
- scipy's Dijkstra for times. Equality is exact even for float weights: both sides
  compute the minimum over paths of the left-to-right float sum (float addition is
  monotone, so any correct Dijkstra finds it). Start offsets become arcs from a
  super-source with weight ``o_i``; scipy then computes ``0.0 + o_i + t ...`` which is
  the same float sum as the contract's ``o_i + 0.0 + t ...`` because ``0.0 + o == o``.
- ``reference.reference_labels`` (single-phase lexicographic Bellman-Ford; exact on
  integer weights) and ``reference.reference_labels_tight`` (two-phase, exact on floats)
  for sources and lengths.
- A direct check of the contract's fixpoint equations (every label is the smallest
  offer it receives given the final labels).
- Hand-worked graphs, and numpy one-liners for the histograms.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp
from fixtures.reference import reference_labels, reference_labels_tight
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from hexaccess import _numba_backend as nb

INF = math.inf


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


@dataclass
class Problem:
    n: int
    tail: list[int]
    head: list[int]
    time_s: list[float]
    length_m: list[float]
    bidirectional: bool
    sources: list[int]
    offsets: list[float]
    cutoff: float

    def csr(self):
        return nb.validate_and_build_csr(
            self.n, self.tail, self.head, self.time_s, self.length_m, self.bidirectional
        )

    def graph_args(self):
        return (self.n, self.tail, self.head, self.time_s, self.length_m, self.bidirectional)

    def search_args(self):
        return (self.sources, self.offsets, self.cutoff)

    def arcs(self):
        fwd = list(zip(self.tail, self.head, self.time_s, self.length_m, strict=True))
        return fwd + ([(v, u, t, ln) for u, v, t, ln in fwd] if self.bidirectional else [])


def scipy_search(p: Problem):
    """scipy Dijkstra from a super-source ``n`` with arcs ``n -> s_i`` of weight ``o_i``.

    Returns ``(time masked by the cutoff, predecessor, weight matrix)``. Masking the
    uncut result is equivalent to searching with a cutoff: every prefix of a path of
    time <= C also has time <= C.
    """
    arcs = p.arcs() + [(p.n, s, o, 0.0) for s, o in zip(p.sources, p.offsets, strict=True)]
    u = np.array([a[0] for a in arcs], dtype=np.int64)
    v = np.array([a[1] for a in arcs], dtype=np.int64)
    w = np.array([a[2] for a in arcs], dtype=np.float64) + 0.0
    # Building a sparse matrix *sums* parallel arcs; a shortest path uses the cheapest.
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(u.shape[0], dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w = u[first], v[first], w[first]
    # Explicit zeros in the sparse input are arcs for csgraph (zero-time arcs matter).
    mat = sp.csr_array((w, (u, v)), shape=(p.n + 1, p.n + 1))
    dist, pred, _ = dijkstra(
        mat, directed=True, indices=[p.n], min_only=True, return_predecessors=True
    )
    dist = dist[: p.n]
    return np.where(dist <= p.cutoff, dist, np.inf), pred[: p.n], mat


def assert_labels_equal(got, expected):
    for name, g, e in zip(("time", "source", "length"), got, expected, strict=True):
        np.testing.assert_array_equal(g, e, err_msg=name, strict=False)


def assert_contract_fixpoint(p: Problem, result):
    """Every node's label is the lexicographic minimum of the offers it receives from
    the final labels (the contract's fixpoint equations); unreached nodes get none."""
    time, source, length = result
    offers: list[list[tuple[float, int, float]]] = [[] for _ in range(p.n)]
    for i, (s, o) in enumerate(zip(p.sources, p.offsets, strict=True)):
        if o <= p.cutoff:
            offers[s].append((o + 0.0, i, 0.0))
    for u, v, t, ln in p.arcs():
        if source[u] >= 0 and float(time[u]) + t <= p.cutoff:
            offers[v].append((float(time[u]) + t, int(source[u]), float(length[u]) + ln))
    for v in range(p.n):
        label = (float(time[v]), int(source[v]), float(length[v]))
        if offers[v]:
            assert label == min(offers[v]), f"node {v}"
        else:
            assert label == (INF, -1, INF), f"node {v}"


def numpy_histograms(time, source, length, weights, edges):
    """The contract's histograms straight from the per-node result. ``np.add.at`` is
    unbuffered and walks the indices in order, i.e. ascending node order."""
    reached = source >= 0
    c = weights.shape[1]
    counts = np.zeros((len(edges), c))
    np.add.at(counts, np.searchsorted(edges, time[reached], side="right") - 1, weights[reached])
    sums = np.zeros((3, c))
    np.add.at(sums, np.zeros((~reached).sum(), dtype=np.intp), weights[~reached])
    np.add.at(sums, np.ones(reached.sum(), dtype=np.intp), weights[reached] * time[reached, None])
    np.add.at(
        sums, np.full(reached.sum(), 2, dtype=np.intp), weights[reached] * length[reached, None]
    )
    return counts, sums[0], sums[1], sums[2]


# Weights chosen to provoke float rounding ties (0.1 + 0.2 != 0.3; 2**-52 and 1e-16 are
# absorbed when added to larger times) plus arbitrary floats.
FLOAT_WEIGHTS = st.one_of(
    st.sampled_from([0.0, -0.0, 0.1, 0.2, 0.3, 0.7, 1.0, 2.0**-52, 1e-16, 3.0]),
    st.floats(0.0, 50.0, allow_nan=False, allow_infinity=False),
)
INT_WEIGHTS = st.integers(0, 4).map(float)


@st.composite
def problems(draw, weights, max_nodes: int = 9, max_arcs: int = 24):
    """Small graphs: often disconnected, with zero weights, parallel arcs, self loops,
    single nodes, no arcs, repeated sources and cutoffs."""
    n = draw(st.integers(1, max_nodes))
    m = draw(st.integers(0, max_arcs))
    node = st.integers(0, n - 1)
    sources = draw(st.lists(node, max_size=4))
    return Problem(
        n=n,
        tail=draw(st.lists(node, min_size=m, max_size=m)),
        head=draw(st.lists(node, min_size=m, max_size=m)),
        time_s=draw(st.lists(weights, min_size=m, max_size=m)),
        length_m=draw(st.lists(weights, min_size=m, max_size=m)),
        bidirectional=draw(st.booleans()),
        sources=sources,
        offsets=draw(st.lists(weights, min_size=len(sources), max_size=len(sources))),
        cutoff=draw(st.one_of(st.just(INF), weights)),
    )


@st.composite
def source_sets(draw, n: int, weights):
    sets = draw(
        st.lists(st.lists(st.tuples(st.integers(0, n - 1), weights), max_size=4), max_size=5)
    )
    set_indptr = np.cumsum([0] + [len(s) for s in sets])
    set_nodes = [node for s in sets for node, _ in s]
    set_offsets = [off for s in sets for _, off in s]
    return set_indptr, set_nodes, set_offsets


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------
# Hand-worked examples
# --------------------------------------------------------------------------------------

# Rows: (tail, head, time_s, length_m). Node 7 is isolated.
HAND_ROWS = [
    (0, 1, 2.0, 100.0),  # r0
    (0, 2, 1.0, 50.0),  # r1
    (2, 1, 1.0, 30.0),  # r2
    (3, 4, 1.0, 10.0),  # r3
    (1, 4, 0.0, 5.0),  # r4: zero time
    (4, 5, 0.0, 0.0),  # r5: zero time ...
    (5, 4, 0.0, 0.0),  # r6: ... and back: a zero-time cycle
    (3, 6, 9.5, 1.0),  # r7
    (2, 2, 0.0, 1.0),  # r8: self loop
    (0, 2, 1.0, 40.0),  # r9: parallel to r1, same time, shorter
]
HAND_SOURCES = [0, 3, 0]  # source 2 duplicates source 0 (same node, same offset)
HAND_OFFSETS = [0.0, 1.0, 0.0]

# Worked by hand (label = (time, source index, length)):
#   node 0: sources 0 and 2 both offer (0, *, 0); the lower index wins -> (0, 0, 0)
#   node 2: r1 offers (1, 0, 50), r9 offers (1, 0, 40); same time and source -> (1, 0, 40)
#   node 3: source 1 with offset 1 -> (1, 1, 0)
#   node 1: r0 offers (2, 0, 100); via node 2, r2 offers (1+1, 0, 40+30) -> (2, 0, 70)
#   node 4: r3 offers (1+1, 1, 0+10); r4 offers (2+0, 0, 70+5): equal time, source 0
#           wins although its length is longer -> (2, 0, 75)
#   node 5: r5 offers (2+0, 0, 75+0) -> (2, 0, 75); r6 offers node 4 nothing smaller
#   node 6: 1 + 9.5 = 10.5 > cutoff 10 -> unreached;  node 7: isolated -> unreached
HAND_FULL = {
    0: (0.0, 0, 0.0),
    1: (2.0, 0, 70.0),
    2: (1.0, 0, 40.0),
    3: (1.0, 1, 0.0),
    4: (2.0, 0, 75.0),
    5: (2.0, 0, 75.0),
}
# cutoff 2.0 is inclusive: the same nodes. cutoff 1.5 drops the time-2 nodes 1, 4, 5.
# cutoff 0.5 also drops source 1 (offset 1 > 0.5), leaving only node 0.
HAND_EXPECTED = {
    10.0: HAND_FULL,
    2.0: HAND_FULL,
    1.5: {v: HAND_FULL[v] for v in (0, 2, 3)},
    0.5: {0: HAND_FULL[0]},
}


def _labels_from_dict(n, expected):
    time = np.full(n, np.inf)
    source = np.full(n, -1)
    length = np.full(n, np.inf)
    for v, (t, s, ln) in expected.items():
        time[v], source[v], length[v] = t, s, ln
    return time, source, length


@pytest.mark.parametrize("cutoff", sorted(HAND_EXPECTED))
def test_hand_worked_graph(cutoff):
    tail, head, time_s, length_m = (list(col) for col in zip(*HAND_ROWS, strict=True))
    csr = nb.validate_and_build_csr(8, tail, head, time_s, length_m, False)
    got = nb.nearest(*csr, HAND_SOURCES, HAND_OFFSETS, cutoff)
    assert got[0].dtype == np.float64 and got[1].dtype == np.int32 and got[2].dtype == np.float64
    assert_labels_equal(got, _labels_from_dict(8, HAND_EXPECTED[cutoff]))


def test_rounding_tie_follows_tight_arcs():
    # Sources 0 (node 0) and 1 (node 1), offsets 0. Rows: 0->2 (time 1 + 2**-52,
    # length 5), 2->3 (time 1, length 11), 1->2 (time 1, length 7).
    # Node 2: 1.0 (source 1) beats 1 + 2**-52 (source 0) -> (1.0, 1, 7).
    # Node 3: (1 + 2**-52) + 1 = 2 + 2**-52 is a tie between 2 and 2 + 2**-51 and rounds
    # to even, 2.0; so the path from source 0 also totals 2.0. The contract takes the
    # label over the tight arc 2->3 from node 2's final label: (2.0, 1, 7 + 11).
    p = Problem(4, [0, 2, 1], [2, 3, 2], [1.0 + 2.0**-52, 1.0, 1.0], [5.0, 11.0, 7.0], False,
                [0, 1], [0.0, 0.0], INF)  # fmt: skip
    assert (1.0 + 2.0**-52) + 1.0 == 2.0  # the rounding the example relies on
    expected = ([0.0, 0.0, 1.0, 2.0], [0, 1, 1, 1], [0.0, 0.0, 7.0, 18.0])
    got = nb.nearest(*p.csr(), *p.search_args())
    assert_labels_equal(got, expected)
    assert_labels_equal(reference_labels_tight(*p.graph_args(), *p.search_args()), expected)
    # The single-phase reference sweeps 0->2 then 2->3 before 1->2 and keeps the
    # path-wise minimum (source 0) at node 3: why it is exact only on integer weights.
    assert reference_labels(*p.graph_args(), *p.search_args())[1][3] == 0


def test_csr_layout():
    # Rows: 0->1 (t 1), 2->0 (t 2), 0->2 (t 3), 1->1 (t 4, self loop); length = 10 * t.
    tail, head, time_s = [0, 2, 0, 1], [1, 0, 2, 1], [1.0, 2.0, 3.0, 4.0]
    length_m = [10 * t for t in time_s]
    # Forward only, arcs grouped by tail in row order: node 0: r0, r2; node 1: r3; node 2: r1.
    indptr, heads, times, lengths = nb.validate_and_build_csr(
        3, tail, head, time_s, length_m, False
    )
    np.testing.assert_array_equal(indptr, [0, 2, 3, 4])
    np.testing.assert_array_equal(heads, [1, 2, 1, 0])
    np.testing.assert_array_equal(times, [1.0, 3.0, 4.0, 2.0])
    np.testing.assert_array_equal(lengths, [10.0, 30.0, 40.0, 20.0])
    for arr, dtype in zip((indptr, heads, times, lengths), ("i8", "i8", "f8", "f8"), strict=True):
        assert arr.dtype == np.dtype(dtype) and arr.flags.c_contiguous
    # Bidirectional: per node, forward rows first, then reverse rows, each in row order.
    # node 0: r0 (->1, 1), r2 (->2, 3), reverse r1 (->2, 2)
    # node 1: r3 (->1, 4), reverse r0 (->0, 1), reverse r3 (->1, 4)
    # node 2: r1 (->0, 2), reverse r2 (->0, 3)
    indptr, heads, times, lengths = nb.validate_and_build_csr(3, tail, head, time_s, length_m, True)
    np.testing.assert_array_equal(indptr, [0, 3, 6, 8])
    np.testing.assert_array_equal(heads, [1, 2, 2, 1, 0, 1, 0, 0])
    np.testing.assert_array_equal(times, [1.0, 3.0, 2.0, 4.0, 1.0, 4.0, 2.0, 3.0])
    np.testing.assert_array_equal(lengths, 10 * times)


@pytest.mark.parametrize(
    "ids",
    [
        [0, 2, 1],
        np.array([0, 2, 1], dtype=np.int32),
        np.array([0, 2, 1], dtype=np.uint64),
        np.array([0, 2, 1], dtype=np.uint8),
        np.array([0.0, 2.0, 1.0]),
    ],
    ids=["list", "int32", "uint64", "uint8", "float"],
)
def test_csr_accepts_id_dtypes(ids):
    csr = nb.validate_and_build_csr(3, ids, [1, 1, 1], [1, 2, 3], [4, 5, 6], False)
    expected = nb.validate_and_build_csr(3, [0, 2, 1], [1, 1, 1], [1.0, 2, 3], [4.0, 5, 6], False)
    for got, exp in zip(csr, expected, strict=True):
        np.testing.assert_array_equal(got, exp, strict=True)


def test_negative_zero_weights_and_offsets_become_positive_zero():
    time_s = np.array([-0.0, 1.0])
    length_m = np.array([2.0, -0.0])
    indptr, heads, times, lengths = nb.validate_and_build_csr(
        3, [0, 1], [1, 2], time_s, length_m, False
    )
    np.testing.assert_array_equal(np.signbit(times), [False, False])
    np.testing.assert_array_equal(np.signbit(lengths), [False, False])
    assert np.signbit(time_s[0]) and np.signbit(length_m[1])  # inputs are not modified
    time, _source, length = nb.nearest(indptr, heads, times, lengths, [0], [-0.0], None)
    np.testing.assert_array_equal(time, [0.0, 0.0, 1.0])
    assert not np.signbit(time).any() and not np.signbit(length).any()


def test_empty_graphs():
    indptr, heads, times, lengths = nb.validate_and_build_csr(0, [], [], [], [], True)
    np.testing.assert_array_equal(indptr, [0])
    assert heads.shape == times.shape == lengths.shape == (0,)
    time, source, length = nb.nearest(indptr, heads, times, lengths, [], [], None)
    assert time.shape == source.shape == length.shape == (0,)
    # One node, no arcs, a source listed twice: the lower offset wins over the index.
    csr = nb.validate_and_build_csr(1, [], [], [], [], False)
    assert_labels_equal(nb.nearest(*csr, [0, 0], [3.0, 2.0], None), ([2.0], [1], [0.0]))
    # No sources: nothing is reached.
    assert_labels_equal(nb.nearest(*csr, [], None, None), ([INF], [-1], [INF]))


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------

GOOD = dict(num_nodes=3, tail=[0, 1, 2], head=[1, 2, 0], time_s=[1.0, 1.0, 1.0],
            length_m=[1.0, 1.0, 1.0], bidirectional=False)  # fmt: skip
ID_TAIL = "; node ids must be integers in [0, num_nodes)"
W_TAIL = "; travel times and lengths must be finite and >= 0"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(head=[1, 2]), "edge arrays must have equal length: tail has 3 rows, head has 2, "
                            "time_s has 3, length_m has 3"),
        (dict(length_m=[1.0] * 4), "edge arrays must have equal length: tail has 3 rows, "
                                   "head has 3, time_s has 3, length_m has 4"),
        (dict(num_nodes=-1), "num_nodes must be in 0..4294967294, got -1"),
        (dict(num_nodes=2**32 - 1), "num_nodes must be in 0..4294967294, got 4294967295"),
        (dict(tail=[0, -1, 2]), "edge row 1: tail node id -1 is outside 0..2" + ID_TAIL),
        (dict(head=[1, 2, 3]), "edge row 2: head node id 3 is outside 0..2" + ID_TAIL),
        (dict(num_nodes=0), "edge row 0: tail node id 0 is outside 0..-1" + ID_TAIL),
        # both ids bad in the first bad row: tail is reported
        (dict(tail=[0, 5, 2], head=[1, 7, 0]), "edge row 1: tail node id 5 is outside 0..2"
                                               + ID_TAIL),
        (dict(tail=[0.0, 1.5, 2.0]), "edge row 1: tail node id 1.5 is outside 0..2" + ID_TAIL),
        (dict(tail=[0.0, 7.0, 2.0]), "edge row 1: tail node id 7 is outside 0..2" + ID_TAIL),
        (dict(head=[1.0, math.nan, 0.0]), "edge row 1: head node id nan is outside 0..2"
                                          + ID_TAIL),
        (dict(head=np.array([1, 2**64 - 1, 0], dtype=np.uint64)),
         "edge row 1: head node id 18446744073709551615 is outside 0..2" + ID_TAIL),
        (dict(time_s=[1.0, 1.0, -1.0]), "edge row 2: time_s is -1.0" + W_TAIL),
        (dict(time_s=[math.nan, 1.0, 1.0]), "edge row 0: time_s is nan" + W_TAIL),
        (dict(length_m=[1.0, math.inf, 1.0]), "edge row 1: length_m is inf" + W_TAIL),
        (dict(length_m=[1.0, 1.0, -0.5]), "edge row 2: length_m is -0.5" + W_TAIL),
        # time_s before length_m within a row
        (dict(time_s=[1.0, -math.inf, 1.0], length_m=[1.0, -2.0, 1.0]),
         "edge row 1: time_s is -inf" + W_TAIL),
        # the smallest bad row wins over the column order
        (dict(tail=[0, 1, 9], time_s=[1.0, -3.0, 1.0]), "edge row 1: time_s is -3.0" + W_TAIL),
        (dict(head=[1, 2, 9], length_m=[-1.0, 1.0, 1.0]), "edge row 0: length_m is -1.0"
                                                          + W_TAIL),
    ],
)  # fmt: skip
def test_build_rejects_bad_input(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        nb.validate_and_build_csr(**{**GOOD, **changes})
    assert str(info.value) == message


@pytest.fixture(scope="module")
def small_csr():
    return nb.validate_and_build_csr(**GOOD)


SRC_TAIL = "; sources must be node ids of the graph"
OFF_TAIL = " s is invalid; offsets must be finite and >= 0"
CUT_TAIL = " s is invalid; it must be >= 0 (use no cutoff for an unbounded search)"


# The search-input messages follow the Rust core's wording (floats printed Rust-style:
# "-1", "NaN", no exponent) so that both backends report the same errors.
@pytest.mark.parametrize(
    ("sources", "offsets", "cutoff", "message"),
    [
        ([0, 3], None, None, "source 1: node id 3 is outside 0..2" + SRC_TAIL),
        ([-1], None, None, "source 0: node id -1 is outside 0..2" + SRC_TAIL),
        ([0, 1], [0.0, -1.0], None, "source 1: start offset -1" + OFF_TAIL),
        ([0], [math.nan], None, "source 0: start offset NaN" + OFF_TAIL),
        ([0], [-1e-16], None, "source 0: start offset -0.0000000000000001" + OFF_TAIL),
        ([0], [1.0, 2.0], None, "got 2 start offsets for 1 sources; give one offset per source"),
        ([0], None, -0.5, "cutoff -0.5" + CUT_TAIL),
        ([0], None, math.nan, "cutoff NaN" + CUT_TAIL),
        # order: cutoff, then all node ids, then offsets
        ([5], None, -1.0, "cutoff -1" + CUT_TAIL),
        ([0, 5], [-1.0, 0.0], None, "source 1: node id 5 is outside 0..2" + SRC_TAIL),
    ],
)
def test_nearest_rejects_bad_input(small_csr, sources, offsets, cutoff, message):
    with pytest.raises(ValueError) as info:
        nb.nearest(*small_csr, sources, offsets, cutoff)
    assert str(info.value) == message


EDGES_MSG = " must be finite and greater than the previous edge "


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (dict(set_indptr=[0, 2], set_nodes=[0]),
         "source-set indptr must start at 0 and end at the number of source nodes (1); "
         "got 2 entries"),
        (dict(set_indptr=[], set_nodes=[]),
         "source-set indptr must start at 0 and end at the number of source nodes (0); "
         "got 0 entries"),
        (dict(set_indptr=[0, 2, 1], set_nodes=[0]), "source-set indptr decreases at set 1 (2 > 1)"),
        (dict(set_indptr=[0, 1, 1, 3], set_nodes=[0, 1, 5]),
         "source set 2: source 1: node id 5 is outside 0..2" + SRC_TAIL),
        (dict(set_indptr=[0, 1, 2], set_nodes=[0, 1], set_offsets=[0.0, math.inf]),
         "source set 1: source 0: start offset inf" + OFF_TAIL),
        (dict(set_indptr=[0, 2], set_nodes=[0, 1], set_offsets=[0.0]),
         "got 1 start offsets for 2 sources; give one offset per source"),
        (dict(cutoff=-2.0), "source set 0: cutoff -2" + CUT_TAIL),
        (dict(targets=np.ones(2, dtype=bool)),
         "targets mask has 2 entries but the graph has 3 nodes"),
        (dict(weights=np.ones((2, 2))), "weights have 2 rows but the graph has 3 nodes; give "
                                        "one row per node (zeros for nodes without people)"),
        (dict(weights=np.ones(3)), "weights must be a 2-D array (num_nodes, columns), got "
                                   "shape (3,)"),
        (dict(weights=np.array([[1.0, 1.0], [1.0, -2.5], [math.nan, 1.0]])),
         "weight at node 1, column 1 is -2.5; weights must be finite and >= 0"),
        (dict(edges=[0.0]), "band edges need at least two values, e.g. [0, 600, 1200]"),
        (dict(edges=[1.0, 2.0]),
         "the first band edge must be 0 s (got 1); bands start at the office"),
        (dict(edges=[0.0, 600.0, 600.0]), "band edge 2 (600 s)" + EDGES_MSG + "(600 s)"),
        (dict(edges=[0.0, 0.25, 0.125]), "band edge 2 (0.125 s)" + EDGES_MSG + "(0.25 s)"),
        (dict(edges=[0.0, math.inf]), "band edge 1 (inf s)" + EDGES_MSG + "(0 s)"),
    ],
)  # fmt: skip
def test_batch_and_histograms_reject_bad_input(small_csr, call, message):
    args = dict(set_indptr=[0, 1], set_nodes=[0], set_offsets=None, cutoff=None)
    args.update({k: v for k, v in call.items() if k in args})
    if not {"weights", "edges"} & call.keys():
        with pytest.raises(ValueError) as info:
            nb.nearest_batch(*small_csr, **args, targets=call.get("targets"))
        assert str(info.value) == message
    if "targets" not in call:
        hist = dict(weights=call.get("weights", np.ones((3, 2))), edges=call.get("edges", [0, 1]))
        with pytest.raises(ValueError) as info:
            nb.band_histograms(*small_csr, **args, **hist)
        assert str(info.value) == message


def test_malformed_csr_is_refused(small_csr):
    with pytest.raises(ValueError, match="malformed CSR"):
        nb.nearest(small_csr[0][:-1], *small_csr[1:], [0], None, None)


# --------------------------------------------------------------------------------------
# Random graphs
# --------------------------------------------------------------------------------------


def check_times_against_scipy(p: Problem, time):
    expected, pred, mat = scipy_search(p)
    np.testing.assert_array_equal(time, expected)
    # scipy's shortest-path tree must consist of arcs that are tight for our times
    # (the super-source n stands for time 0).
    v = np.flatnonzero(np.isfinite(expected) & (pred >= 0))
    ours = np.append(time, 0.0)
    np.testing.assert_array_equal(ours[pred[v]] + mat[pred[v], v], time[v])


@SETTINGS
@given(problems(INT_WEIGHTS))
def test_random_integer_weights_match_references(p):
    got = nb.nearest(*p.csr(), *p.search_args())
    check_times_against_scipy(p, got[0])
    assert_labels_equal(got, reference_labels(*p.graph_args(), *p.search_args()))


@SETTINGS
@given(problems(FLOAT_WEIGHTS))
def test_random_float_weights_match_references(p):
    got = nb.nearest(*p.csr(), *p.search_args())
    check_times_against_scipy(p, got[0])
    assert_contract_fixpoint(p, got)
    assert_labels_equal(got, reference_labels_tight(*p.graph_args(), *p.search_args()))


def random_problem(seed: int, n: int = 400, m: int = 1600) -> Problem:
    rng = np.random.default_rng(seed)
    # Mix of small integers (many exact ties) and arbitrary floats.
    time_s = np.where(rng.random(m) < 0.5, rng.integers(0, 4, m), rng.random(m) * 5)
    return Problem(
        n=n,
        tail=rng.integers(0, n, m).tolist(),
        head=rng.integers(0, n, m).tolist(),
        time_s=time_s.tolist(),
        length_m=(rng.random(m) * 100).tolist(),
        bidirectional=bool(seed % 2),
        sources=rng.integers(0, n, 6).tolist(),
        offsets=rng.integers(0, 3, 6).astype(float).tolist(),
        cutoff=[INF, 6.5][seed % 2],
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_larger_random_graph(seed):
    p = random_problem(seed)
    got = nb.nearest(*p.csr(), *p.search_args())
    check_times_against_scipy(p, got[0])
    assert_contract_fixpoint(p, got)
    assert_labels_equal(got, reference_labels_tight(*p.graph_args(), *p.search_args()))


def test_heap_growth_path_gives_same_result():
    # Callers size the heap for the proven maximum; start the core with an empty heap
    # so that the regrowth safety net runs too.
    p = random_problem(3, n=200, m=800)
    csr = p.csr()
    n = p.n
    ws = (np.full(n, np.inf), np.full(n, -1, np.int32), np.full(n, np.inf), np.empty(n, np.int64))
    heap = (np.empty(0), np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64))
    sources = np.array(p.sources, dtype=np.int64)
    offsets = np.array(p.offsets)
    n_touched, *_ = nb._search(*csr, sources, offsets, p.cutoff, *ws, *heap)
    assert_labels_equal(ws[:3], nb.nearest(*csr, *p.search_args()))
    np.testing.assert_array_equal(np.sort(ws[3][:n_touched]), np.flatnonzero(ws[1] >= 0))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_batch_equals_repeated_single_searches(data):
    p = data.draw(problems(FLOAT_WEIGHTS))
    set_indptr, set_nodes, set_offsets = data.draw(source_sets(p.n, FLOAT_WEIGHTS))
    targets = data.draw(st.none() | st.lists(st.booleans(), min_size=p.n, max_size=p.n))
    csr = p.csr()
    out_indptr, node, time, length, source = nb.nearest_batch(
        *csr, set_indptr, set_nodes, set_offsets, p.cutoff, targets
    )
    assert out_indptr.dtype == node.dtype == np.int64 and source.dtype == np.int32
    np.testing.assert_array_equal(out_indptr[:1], [0])
    keep = np.ones(p.n, dtype=bool) if targets is None else np.array(targets)
    for i in range(len(set_indptr) - 1):
        a, b = set_indptr[i], set_indptr[i + 1]
        t, s, ln = nb.nearest(*csr, set_nodes[a:b], set_offsets[a:b], p.cutoff)
        expected_nodes = np.flatnonzero((s >= 0) & keep)
        lo, hi = out_indptr[i], out_indptr[i + 1]
        np.testing.assert_array_equal(node[lo:hi], expected_nodes)
        np.testing.assert_array_equal(time[lo:hi], t[expected_nodes])
        np.testing.assert_array_equal(length[lo:hi], ln[expected_nodes])
        np.testing.assert_array_equal(source[lo:hi], s[expected_nodes])
    assert out_indptr[-1] == node.shape[0] == time.shape[0]


def check_histograms(p, set_indptr, set_nodes, set_offsets, weights, edges):
    csr = p.csr()
    got = nb.band_histograms(*csr, set_indptr, set_nodes, set_offsets, p.cutoff, weights, edges)
    num_sets = len(set_indptr) - 1
    assert got[0].shape == (num_sets, len(edges), weights.shape[1])
    for i in range(num_sets):
        a, b = set_indptr[i], set_indptr[i + 1]
        single = nb.nearest(*csr, set_nodes[a:b], set_offsets[a:b], p.cutoff)
        expected = numpy_histograms(*single, weights, np.asarray(edges, dtype=float))
        for name, g, e in zip(("counts", "unreachable", "time", "length"), got, expected,
                              strict=True):  # fmt: skip
            np.testing.assert_array_equal(g[i], e, err_msg=name)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_histograms_equal_numpy_on_per_node_result(data):
    p = data.draw(problems(FLOAT_WEIGHTS))
    set_indptr, set_nodes, set_offsets = data.draw(source_sets(p.n, FLOAT_WEIGHTS))
    c = data.draw(st.integers(1, 3))
    weights = np.array(
        data.draw(st.lists(st.floats(0, 10), min_size=p.n * c, max_size=p.n * c))
    ).reshape(p.n, c)
    gaps = data.draw(st.lists(st.sampled_from([0.1, 0.5, 1.0, 2.0, 7.5]), min_size=1, max_size=4))
    edges = np.cumsum([0.0, *gaps])  # strictly increasing from 0; band edges hit often
    check_histograms(p, set_indptr, set_nodes, set_offsets, weights, edges)


def test_histograms_on_larger_graph():
    p = random_problem(4)
    rng = np.random.default_rng(5)
    set_indptr = np.array([0, 1, 3, 3, 7])
    set_nodes = rng.integers(0, p.n, 7)
    set_offsets = rng.random(7)
    weights = rng.random((p.n, 3)) * 1000
    check_histograms(p, set_indptr, set_nodes, set_offsets, weights, [0.0, 1.0, 2.5, 4.0, 6.0])
