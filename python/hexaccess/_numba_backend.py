"""Numba fallback of the search engine (used when the Rust extension is unavailable).

Implements ``docs/engine-semantics.md`` exactly, so results are bit-identical to the Rust
core. The Python wrappers only validate and convert dtypes; every loop over nodes or
arcs runs inside ``@njit`` code.

Why the results do not depend on heap order: every node gets the lexicographic label
``(time, source, length)``. The heap is ordered by that full label, and relaxing an arc
only ever offers a label that is lexicographically >= the label of the popped node
(float addition of a finite value >= 0 is monotone). Hence labels leave the heap in
non-decreasing order and a popped label is final: this is Dijkstra on a totally ordered
label set, and it computes the least fixpoint the semantics document defines. The code
still accepts any strictly smaller label for a node that was already popped ("re-opens"
it), which is what the contract requires of a time-ordered search; with the full
lexicographic heap order that case simply never arises.

The CSR arrays passed to the search functions are trusted to come from
:func:`validate_and_build_csr` (only their shapes are checked, not every head id),
because the searches are called many times on one graph.
"""

from __future__ import annotations

import math
import operator

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["band_histograms", "nearest", "nearest_batch", "validate_and_build_csr"]

MAX_NUM_NODES = 2**32 - 2
# Source indices are reported as int32, so one search may have at most this many sources.
_MAX_SOURCES = 2**31 - 1

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]
_I32 = npt.NDArray[np.int32]


# --------------------------------------------------------------------------------------
# Validation and CSR construction (vectorised numpy)
# --------------------------------------------------------------------------------------


def _check_num_nodes(num_nodes: int) -> int:
    n = operator.index(num_nodes)
    if not 0 <= n <= MAX_NUM_NODES:
        raise ValueError(f"num_nodes must be in 0..{MAX_NUM_NODES}, got {n}")
    return n


def _as_1d(values: npt.ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    return arr


def _node_ids(arr: np.ndarray, num_nodes: int) -> tuple[_I64, npt.NDArray[np.bool_]]:
    """(ids as int64, mask of invalid entries). Invalid entries of the result are junk."""
    kind = arr.dtype.kind
    if kind == "u" and arr.dtype.itemsize == 8:
        # uint64 values >= 2**63 would wrap when cast to int64, so compare before casting.
        bad = arr >= np.uint64(num_nodes)
        return arr.astype(np.int64), bad
    if kind in "biu":
        ids = arr.astype(np.int64)
        return ids, (ids < 0) | (ids >= num_nodes)
    # Floats (or objects convertible to float): valid only if integral and in range;
    # NaN fails every comparison and so is reported as bad.
    as_float = arr.astype(np.float64)
    with np.errstate(invalid="ignore"):
        good = (as_float >= 0) & (as_float < num_nodes) & (np.floor(as_float) == as_float)
        ids = np.where(good, as_float, 0).astype(np.int64)
    return ids, ~good


def _id_for_message(arr: np.ndarray, index: int) -> int | float:
    value = arr[index].item()
    # Print integral floats as integers ("7", not "7.0") so messages read the same
    # whatever dtype the caller used.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _bad_weight_mask(values: _F64) -> npt.NDArray[np.bool_]:
    with np.errstate(invalid="ignore"):
        return ~(np.isfinite(values) & (values >= 0))


def validate_and_build_csr(
    num_nodes: int,
    tail: npt.ArrayLike,
    head: npt.ArrayLike,
    time_s: npt.ArrayLike,
    length_m: npt.ArrayLike,
    bidirectional: bool,
) -> tuple[_I64, _I64, _F64, _F64]:
    """Validate an edge list and build the CSR arrays ``(indptr, heads, times, lengths)``.

    Raises ``ValueError`` naming the first bad row (rows scanned in order; within a row
    tail, head, time_s, length_m are checked in that order). ``-0.0`` weights are stored
    as ``+0.0``. Arcs of a node keep input order, forward rows before reverse rows
    (a stable sort by tail of ``concat(forward, reverse)``).
    """
    n = _check_num_nodes(num_nodes)
    tail_a = _as_1d(tail, "tail")
    head_a = _as_1d(head, "head")
    time_a = _as_1d(time_s, "time_s")
    length_a = _as_1d(length_m, "length_m")
    sizes = (tail_a.shape[0], head_a.shape[0], time_a.shape[0], length_a.shape[0])
    if len(set(sizes)) != 1:
        raise ValueError(
            f"edge arrays must have equal length: tail has {sizes[0]} rows, head has "
            f"{sizes[1]}, time_s has {sizes[2]}, length_m has {sizes[3]}"
        )

    tail_ids, bad_tail = _node_ids(tail_a, n)
    head_ids, bad_head = _node_ids(head_a, n)
    time_f = time_a.astype(np.float64)
    length_f = length_a.astype(np.float64)
    bad_time = _bad_weight_mask(time_f)
    bad_length = _bad_weight_mask(length_f)

    bad_any = bad_tail | bad_head | bad_time | bad_length
    if bad_any.any():
        row = int(np.argmax(bad_any))  # the first bad row
        for column, arr, bad in (("tail", tail_a, bad_tail), ("head", head_a, bad_head)):
            if bad[row]:
                raise ValueError(
                    f"edge row {row}: {column} node id {_id_for_message(arr, row)} is outside "
                    f"0..{n - 1}; node ids must be integers in [0, num_nodes)"
                )
        for column, arr, bad in (("time_s", time_f, bad_time), ("length_m", length_f, bad_length)):
            if bad[row]:
                raise ValueError(
                    f"edge row {row}: {column} is {float(arr[row])!r}; travel times and "
                    "lengths must be finite and >= 0"
                )

    # IEEE: -0.0 + 0.0 == +0.0 and x + 0.0 == x otherwise, so this normalises -0.0.
    time_f = time_f + 0.0
    length_f = length_f + 0.0
    if bidirectional:
        arc_tail = np.concatenate([tail_ids, head_ids])
        arc_head = np.concatenate([head_ids, tail_ids])
        time_f = np.concatenate([time_f, time_f])
        length_f = np.concatenate([length_f, length_f])
    else:
        arc_tail, arc_head = tail_ids, head_ids

    order = np.argsort(arc_tail, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(arc_tail, minlength=n), out=indptr[1:])
    return (
        indptr,
        np.ascontiguousarray(arc_head[order], dtype=np.int64),
        np.ascontiguousarray(time_f[order]),
        np.ascontiguousarray(length_f[order]),
    )


def _csr(indptr, heads, times, lengths) -> tuple[_I64, _I64, _F64, _F64]:
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    heads = np.ascontiguousarray(heads, dtype=np.int64)
    times = np.ascontiguousarray(times, dtype=np.float64)
    lengths = np.ascontiguousarray(lengths, dtype=np.float64)
    m = heads.shape[0]
    if (
        indptr.ndim != 1
        or indptr.shape[0] < 1
        or heads.ndim != 1
        or times.shape != (m,)
        or lengths.shape != (m,)
        or indptr[0] != 0
        or indptr[-1] != m
    ):
        raise ValueError("malformed CSR graph; build it with validate_and_build_csr")
    return indptr, heads, times, lengths


def _rust_float(x: float) -> str:
    """An f64 as Rust's ``{}`` prints it (shortest round-trip digits, never an exponent,
    ``NaN``/``inf``), so that both backends word search-input errors identically."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return str(np.format_float_positional(x, trim="-"))


def _cutoff(cutoff: float | None) -> float:
    return math.inf if cutoff is None else float(cutoff)


def _check_cutoff(cutoff: float, prefix: str = "") -> None:
    if not cutoff >= 0:  # also catches NaN
        raise ValueError(
            f"{prefix}cutoff {_rust_float(cutoff)} s is invalid; it must be >= 0 (use no "
            "cutoff for an unbounded search)"
        )


def _query_arrays(
    nodes: npt.ArrayLike, offsets: npt.ArrayLike | None, num_nodes: int, name: str
) -> tuple[np.ndarray, _I64, npt.NDArray[np.bool_], _F64, npt.NDArray[np.bool_]]:
    """(raw node array, node ids, bad-id mask, offsets, bad-offset mask); raises on an
    offset count that differs from the number of sources."""
    raw = _as_1d(nodes, name)
    # An empty list becomes float64 in numpy; that is still a valid (empty) id array.
    ids, bad_id = _node_ids(raw, num_nodes)
    if offsets is None:
        offs = np.zeros(ids.shape[0], dtype=np.float64)
    else:
        offs = np.ascontiguousarray(_as_1d(offsets, "offsets"), dtype=np.float64)
        if offs.shape[0] != ids.shape[0]:
            raise ValueError(
                f"got {offs.shape[0]} start offsets for {ids.shape[0]} sources; give one "
                "offset per source"
            )
    return raw, np.ascontiguousarray(ids), bad_id, offs, _bad_weight_mask(offs)


def _check_query_part(
    raw: np.ndarray,
    bad_id: npt.NDArray[np.bool_],
    offs: _F64,
    bad_offset: npt.NDArray[np.bool_],
    lo: int,
    hi: int,
    num_nodes: int,
    prefix: str = "",
) -> None:
    """Raise for the first bad source of entries ``lo:hi`` (one search): all node ids
    are checked before any offset, in the order the Rust core uses."""
    if bad_id[lo:hi].any():
        j = int(np.argmax(bad_id[lo:hi]))
        raise ValueError(
            f"{prefix}source {j}: node id {_id_for_message(raw, lo + j)} is outside "
            f"0..{num_nodes - 1}; sources must be node ids of the graph"
        )
    if bad_offset[lo:hi].any():
        j = int(np.argmax(bad_offset[lo:hi]))
        raise ValueError(
            f"{prefix}source {j}: start offset {_rust_float(float(offs[lo + j]))} s is "
            "invalid; offsets must be finite and >= 0"
        )


def _query(
    sources: npt.ArrayLike, offsets: npt.ArrayLike | None, cutoff: float | None, n: int
) -> tuple[_I64, _F64, float]:
    """Validated single-search inputs; checks and messages follow the Rust core."""
    c = _cutoff(cutoff)
    _check_cutoff(c)
    raw, ids, bad_id, offs, bad_offset = _query_arrays(sources, offsets, n, "sources")
    _check_query_part(raw, bad_id, offs, bad_offset, 0, ids.shape[0], n)
    if ids.shape[0] > _MAX_SOURCES:
        raise ValueError(f"a search may have at most {_MAX_SOURCES} sources")
    return ids, offs, c


def _source_sets(
    set_indptr: npt.ArrayLike,
    set_nodes: npt.ArrayLike,
    set_offsets: npt.ArrayLike | None,
    cutoff: float | None,
    n: int,
) -> tuple[_I64, _I64, _F64, float]:
    """Validated source sets; checks, their order and messages follow the Rust core,
    except that a decreasing ``set_indptr`` is reported before the sets' contents."""
    ptr = np.ascontiguousarray(_as_1d(set_indptr, "set_indptr"), dtype=np.int64)
    raw = _as_1d(set_nodes, "set_nodes")
    if ptr.shape[0] == 0 or ptr[0] != 0 or ptr[-1] != raw.shape[0]:
        raise ValueError(
            "source-set indptr must start at 0 and end at the number of source nodes "
            f"({raw.shape[0]}); got {ptr.shape[0]} entries"
        )
    raw, ids, bad_id, offs, bad_offset = _query_arrays(raw, set_offsets, n, "set_nodes")
    sizes = np.diff(ptr)
    if (sizes < 0).any():
        i = int(np.argmax(sizes < 0))
        raise ValueError(f"source-set indptr decreases at set {i} ({ptr[i]} > {ptr[i + 1]})")
    c = _cutoff(cutoff)
    if sizes.shape[0] > 0:  # the Rust core checks the cutoff once per set
        _check_cutoff(c, "source set 0: ")
    bad = bad_id | bad_offset
    if bad.any():
        # Sets are checked in order, so the first bad entry lies in the first bad set.
        i = int(np.searchsorted(ptr, np.argmax(bad), side="right")) - 1
        lo, hi = int(ptr[i]), int(ptr[i + 1])
        _check_query_part(raw, bad_id, offs, bad_offset, lo, hi, n, f"source set {i}: ")
    if sizes.shape[0] > 0 and int(sizes.max()) > _MAX_SOURCES:
        raise ValueError(f"a search may have at most {_MAX_SOURCES} sources")
    return ptr, ids, offs, c


# --------------------------------------------------------------------------------------
# Jitted core
# --------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _label_less(t1, s1, l1, t2, s2, l2):
    """Lexicographic (time, source, length) comparison; no NaN can occur here."""
    if t1 != t2:
        return t1 < t2
    if s1 != s2:
        return s1 < s2
    return l1 < l2


@njit(cache=True, nogil=True)
def _heap_push(ht, hs, hl, hn, size, t, s, ln, v):
    """Insert at position ``size`` (capacity must suffice) and sift up."""
    pos = size
    while pos > 0:
        parent = (pos - 1) >> 1
        if _label_less(t, s, ln, ht[parent], hs[parent], hl[parent]):
            ht[pos] = ht[parent]
            hs[pos] = hs[parent]
            hl[pos] = hl[parent]
            hn[pos] = hn[parent]
            pos = parent
        else:
            break
    ht[pos] = t
    hs[pos] = s
    hl[pos] = ln
    hn[pos] = v


@njit(cache=True, nogil=True)
def _heap_remove_top(ht, hs, hl, hn, size):
    """Remove the root of a heap of ``size`` entries (caller reads it first)."""
    size -= 1
    if size == 0:
        return
    t = ht[size]
    s = hs[size]
    ln = hl[size]
    v = hn[size]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _label_less(
            ht[right], hs[right], hl[right], ht[child], hs[child], hl[child]
        ):
            child = right
        if _label_less(ht[child], hs[child], hl[child], t, s, ln):
            ht[pos] = ht[child]
            hs[pos] = hs[child]
            hl[pos] = hl[child]
            hn[pos] = hn[child]
            pos = child
        else:
            break
    ht[pos] = t
    hs[pos] = s
    hl[pos] = ln
    hn[pos] = v


@njit(cache=True, nogil=True)
def _grow_heap(ht, hs, hl, hn):
    cap = 2 * ht.shape[0] + 16
    nt = np.empty(cap, np.float64)
    ns = np.empty(cap, np.int64)
    nl = np.empty(cap, np.float64)
    nn = np.empty(cap, np.int64)
    size = ht.shape[0]
    nt[:size] = ht
    ns[:size] = hs
    nl[:size] = hl
    nn[:size] = hn
    return nt, ns, nl, nn


@njit(cache=True, nogil=True)
def _new_heap(capacity):
    return (
        np.empty(capacity, np.float64),
        np.empty(capacity, np.int64),
        np.empty(capacity, np.float64),
        np.empty(capacity, np.int64),
    )


@njit(cache=True, nogil=True)
def _search(
    indptr, heads, times, lengths, src_nodes, src_offsets, cutoff,
    dist, src, dlen, touched, ht, hs, hl, hn,
):  # fmt: skip
    """One multi-source search into the workspace ``dist/src/dlen`` (which must be in
    the unreached state: inf / -1 / inf). Every node that receives a label is appended
    once to ``touched``; all touched nodes are reached.

    Returns ``(n_touched, ht, hs, hl, hn)``; the heap arrays are returned because they
    may have been regrown (each push is a strict label improvement and a popped label is
    final, so there are at most k + m pushes; callers size the heap for that, and growth
    is only a safety net).
    """
    n_touched = 0
    size = 0
    for i in range(src_nodes.shape[0]):
        o = src_offsets[i]
        if not o <= cutoff:
            continue
        t = o + 0.0  # the contract's "o_i + 0.0" (turns -0.0 into +0.0)
        v = src_nodes[i]
        unlabeled = src[v] < 0
        if unlabeled or _label_less(t, i, 0.0, dist[v], src[v], dlen[v]):
            if unlabeled:
                touched[n_touched] = v
                n_touched += 1
            dist[v] = t
            src[v] = i
            dlen[v] = 0.0
            if size == ht.shape[0]:
                ht, hs, hl, hn = _grow_heap(ht, hs, hl, hn)
            _heap_push(ht, hs, hl, hn, size, t, i, 0.0, v)
            size += 1

    while size > 0:
        tu = ht[0]
        su = hs[0]
        lu = hl[0]
        u = hn[0]
        _heap_remove_top(ht, hs, hl, hn, size)
        size -= 1
        # Lazy deletion: labels only ever strictly improve, so an entry is live iff it
        # still equals the node's current label.
        if tu != dist[u] or su != src[u] or lu != dlen[u]:
            continue
        for a in range(indptr[u], indptr[u + 1]):
            nt = tu + times[a]
            if not nt <= cutoff:
                continue
            v = heads[a]
            nl = lu + lengths[a]
            unlabeled = src[v] < 0
            if unlabeled or _label_less(nt, su, nl, dist[v], src[v], dlen[v]):
                if unlabeled:
                    touched[n_touched] = v
                    n_touched += 1
                dist[v] = nt
                src[v] = su
                dlen[v] = nl
                if size == ht.shape[0]:
                    ht, hs, hl, hn = _grow_heap(ht, hs, hl, hn)
                _heap_push(ht, hs, hl, hn, size, nt, su, nl, v)
                size += 1
    return n_touched, ht, hs, hl, hn


@njit(cache=True, nogil=True)
def _new_workspace(n):
    dist = np.full(n, np.inf)
    src = np.full(n, -1, np.int32)
    dlen = np.full(n, np.inf)
    touched = np.empty(n, np.int64)
    return dist, src, dlen, touched


@njit(cache=True, nogil=True)
def _reset(dist, src, dlen, touched, n_touched):
    for j in range(n_touched):
        v = touched[j]
        dist[v] = np.inf
        src[v] = -1
        dlen[v] = np.inf


@njit(cache=True, nogil=True)
def _max_set_size(set_indptr):
    best = 0
    for i in range(set_indptr.shape[0] - 1):
        best = max(best, set_indptr[i + 1] - set_indptr[i])
    return best


@njit(cache=True, nogil=True)
def _nearest_kernel(indptr, heads, times, lengths, sources, offsets, cutoff):
    n = indptr.shape[0] - 1
    dist, src, dlen, touched = _new_workspace(n)
    ht, hs, hl, hn = _new_heap(sources.shape[0] + heads.shape[0] + 1)
    _search(
        indptr, heads, times, lengths, sources, offsets, cutoff,
        dist, src, dlen, touched, ht, hs, hl, hn,
    )  # fmt: skip
    return dist, src, dlen


@njit(cache=True, nogil=True)
def _batch_kernel(
    indptr, heads, times, lengths, set_indptr, set_nodes, set_offsets, cutoff,
    targets, use_targets,
):  # fmt: skip
    n = indptr.shape[0] - 1
    num_sets = set_indptr.shape[0] - 1
    dist, src, dlen, touched = _new_workspace(n)
    ht, hs, hl, hn = _new_heap(_max_set_size(set_indptr) + heads.shape[0] + 1)

    cap = max(16, n)
    out_node = np.empty(cap, np.int64)
    out_time = np.empty(cap, np.float64)
    out_len = np.empty(cap, np.float64)
    out_src = np.empty(cap, np.int32)
    out_indptr = np.zeros(num_sets + 1, np.int64)
    pos = 0
    for i in range(num_sets):
        a = set_indptr[i]
        b = set_indptr[i + 1]
        n_touched, ht, hs, hl, hn = _search(
            indptr, heads, times, lengths, set_nodes[a:b], set_offsets[a:b], cutoff,
            dist, src, dlen, touched, ht, hs, hl, hn,
        )  # fmt: skip
        # Output is in ascending node order; sorting the touched nodes costs
        # O(r log r) instead of a scan of all n nodes.
        reached = np.sort(touched[:n_touched])
        if pos + n_touched > cap:
            cap = max(2 * cap, pos + n_touched)
            out_node = _grown(out_node, cap, pos)
            out_time = _grown(out_time, cap, pos)
            out_len = _grown(out_len, cap, pos)
            out_src = _grown(out_src, cap, pos)
        for v in reached:
            if use_targets and not targets[v]:
                continue
            out_node[pos] = v
            out_time[pos] = dist[v]
            out_len[pos] = dlen[v]
            out_src[pos] = src[v]
            pos += 1
        out_indptr[i + 1] = pos
        _reset(dist, src, dlen, touched, n_touched)
    return (
        out_indptr,
        out_node[:pos].copy(),
        out_time[:pos].copy(),
        out_len[:pos].copy(),
        out_src[:pos].copy(),
    )


@njit(cache=True, nogil=True)
def _grown(arr, cap, used):
    out = np.empty(cap, arr.dtype)
    out[:used] = arr[:used]
    return out


@njit(cache=True, nogil=True)
def _band_index(edges, t):
    """``searchsorted(edges, t, side='right') - 1``: the number of edges <= t, minus 1."""
    lo = 0
    hi = edges.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if edges[mid] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


@njit(cache=True, nogil=True)
def _histogram_kernel(
    indptr, heads, times, lengths, set_indptr, set_nodes, set_offsets, cutoff,
    weights, edges,
):  # fmt: skip
    n = indptr.shape[0] - 1
    num_sets = set_indptr.shape[0] - 1
    num_cols = weights.shape[1]
    num_bins = edges.shape[0]  # m bands + the overflow bin
    counts = np.zeros((num_sets, num_bins, num_cols))
    unreachable = np.zeros((num_sets, num_cols))
    time_sum = np.zeros((num_sets, num_cols))
    length_sum = np.zeros((num_sets, num_cols))
    dist, src, dlen, touched = _new_workspace(n)
    ht, hs, hl, hn = _new_heap(_max_set_size(set_indptr) + heads.shape[0] + 1)
    for i in range(num_sets):
        a = set_indptr[i]
        b = set_indptr[i + 1]
        n_touched, ht, hs, hl, hn = _search(
            indptr, heads, times, lengths, set_nodes[a:b], set_offsets[a:b], cutoff,
            dist, src, dlen, touched, ht, hs, hl, hn,
        )  # fmt: skip
        # The contract fixes the summation order (ascending node, unreached nodes
        # included), so every node is visited; float sums would differ otherwise.
        for v in range(n):
            if src[v] >= 0:
                t = dist[v]
                ln = dlen[v]
                j = _band_index(edges, t)
                for col in range(num_cols):
                    w = weights[v, col]
                    counts[i, j, col] += w
                    time_sum[i, col] += w * t
                    length_sum[i, col] += w * ln
            else:
                for col in range(num_cols):
                    unreachable[i, col] += weights[v, col]
        _reset(dist, src, dlen, touched, n_touched)
    return counts, unreachable, time_sum, length_sum


# --------------------------------------------------------------------------------------
# Public wrappers
# --------------------------------------------------------------------------------------


def nearest(
    indptr: npt.ArrayLike,
    heads: npt.ArrayLike,
    times: npt.ArrayLike,
    lengths: npt.ArrayLike,
    sources: npt.ArrayLike,
    offsets: npt.ArrayLike | None,
    cutoff: float | None,
) -> tuple[_F64, _I32, _F64]:
    """One multi-source search: per node ``(time, source index, length)``.

    Unreached nodes get ``(inf, -1, inf)``. ``offsets=None`` means all zero and
    ``cutoff=None`` means +inf.
    """
    indptr, heads, times, lengths = _csr(indptr, heads, times, lengths)
    src_nodes, src_offsets, c = _query(sources, offsets, cutoff, indptr.shape[0] - 1)
    return _nearest_kernel(indptr, heads, times, lengths, src_nodes, src_offsets, c)


def nearest_batch(
    indptr: npt.ArrayLike,
    heads: npt.ArrayLike,
    times: npt.ArrayLike,
    lengths: npt.ArrayLike,
    set_indptr: npt.ArrayLike,
    set_nodes: npt.ArrayLike,
    set_offsets: npt.ArrayLike | None,
    cutoff: float | None,
    targets: npt.ArrayLike | None = None,
) -> tuple[_I64, _I64, _F64, _F64, _I32]:
    """S independent searches; search ``i`` uses the sources
    ``set_nodes[set_indptr[i]:set_indptr[i+1]]`` (source indices are local to the set).

    Returns CSR ``(out_indptr, node, time, length, source)``: for search ``i`` the
    reached nodes (only those with ``targets[node]`` if given) in ascending node order.
    """
    indptr, heads, times, lengths = _csr(indptr, heads, times, lengths)
    n = indptr.shape[0] - 1
    ptr, nodes, offs, c = _source_sets(set_indptr, set_nodes, set_offsets, cutoff, n)
    if targets is None:
        mask = np.zeros(0, dtype=np.bool_)
    else:
        mask = np.ascontiguousarray(_as_1d(targets, "targets"), dtype=np.bool_)
        if mask.shape[0] != n:
            raise ValueError(
                f"targets mask has {mask.shape[0]} entries but the graph has {n} nodes"
            )
    return _batch_kernel(
        indptr, heads, times, lengths, ptr, nodes, offs, c, mask, targets is not None
    )


def band_histograms(
    indptr: npt.ArrayLike,
    heads: npt.ArrayLike,
    times: npt.ArrayLike,
    lengths: npt.ArrayLike,
    set_indptr: npt.ArrayLike,
    set_nodes: npt.ArrayLike,
    set_offsets: npt.ArrayLike | None,
    cutoff: float | None,
    weights: npt.ArrayLike,
    edges: npt.ArrayLike,
) -> tuple[_F64, _F64, _F64, _F64]:
    """Per search, weighted travel-time band histograms and sums.

    ``weights`` is ``(num_nodes, c)``, finite and >= 0; ``edges`` are
    ``0 = e_0 < e_1 < ... < e_m`` (finite, m >= 1). Returns ``counts (S, m+1, c)``
    (bin ``m`` is ``t >= e_m``), ``unreachable (S, c)``, ``time_sum (S, c)`` and
    ``length_sum (S, c)``, all accumulated in ascending node order.
    """
    indptr, heads, times, lengths = _csr(indptr, heads, times, lengths)
    n = indptr.shape[0] - 1
    ptr, nodes, offs, c = _source_sets(set_indptr, set_nodes, set_offsets, cutoff, n)
    w = np.ascontiguousarray(weights, dtype=np.float64)
    if w.ndim != 2:
        raise ValueError(f"weights must be a 2-D array (num_nodes, columns), got shape {w.shape}")
    if w.shape[1] == 0 or w.shape[0] != n:
        rows = w.shape[0] if w.shape[1] else 0  # as the Rust core counts them
        raise ValueError(
            f"weights have {rows} rows but the graph has {n} nodes; give one row per node "
            "(zeros for nodes without people)"
        )
    bad = _bad_weight_mask(w)
    if bad.any():
        node, column = np.unravel_index(int(np.argmax(bad)), w.shape)  # row-major first
        raise ValueError(
            f"weight at node {node}, column {column} is {_rust_float(float(w[node, column]))}; "
            "weights must be finite and >= 0"
        )
    e = np.ascontiguousarray(_as_1d(edges, "edges"), dtype=np.float64)
    if e.shape[0] < 2:
        raise ValueError("band edges need at least two values, e.g. [0, 600, 1200]")
    if e[0] != 0:
        raise ValueError(
            f"the first band edge must be 0 s (got {_rust_float(float(e[0]))}); bands start "
            "at the office"
        )
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(e[1:]) & (e[1:] > e[:-1]))
    if bad.any():
        i = int(np.argmax(bad)) + 1
        raise ValueError(
            f"band edge {i} ({_rust_float(float(e[i]))} s) must be finite and greater than "
            f"the previous edge ({_rust_float(float(e[i - 1]))} s)"
        )
    return _histogram_kernel(indptr, heads, times, lengths, ptr, nodes, offs, c, w, e)
