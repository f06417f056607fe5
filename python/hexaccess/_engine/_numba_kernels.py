"""The Numba kernels of the search engine: the fallback when the Rust extension is missing.

Implements ``docs/engine-semantics.md`` exactly, so results are bit-identical to the Rust
core. Every loop over nodes or arcs runs inside ``@njit`` code. Nothing here checks its
input: :mod:`hexaccess._engine.checks` did (the facade calls it once before dispatch,
and :mod:`hexaccess._engine._numba_checked` for direct calls), so the kernels trust that
node ids are in range, offsets, times and weights finite and >= 0, and band edges
increasing from 0.

Why the results do not depend on heap order: every node gets the lexicographic label
``(time, source, length)``. The heap is ordered by that full label, and relaxing an arc
only ever offers a label that is lexicographically >= the label of the popped node
(float addition of a finite value >= 0 is monotone). Hence labels leave the heap in
non-decreasing order and a popped label is final: this is Dijkstra on a totally ordered
label set, and it computes the least fixpoint the semantics document defines. The code
still accepts any strictly smaller label for a node that was already popped ("re-opens"
it), which is what the contract requires of a time-ordered search; with the full
lexicographic heap order that case simply never arises.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["batch_kernel", "build_csr", "histogram_kernel", "nearest_kernel", "search"]

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]


def build_csr(
    num_nodes: int,
    tail: _I64,
    head: _I64,
    time_s: _F64,
    length_m: _F64,
    bidirectional: bool,
) -> tuple[_I64, _I64, _F64, _F64]:
    """CSR arrays ``(indptr, heads, times, lengths)`` of a checked edge list
    (:func:`hexaccess._engine.checks.edge_list`).

    ``-0.0`` weights are stored as ``+0.0``. Arcs of a node keep input order, forward
    rows before reverse rows (a stable sort by tail of ``concat(forward, reverse)``).
    """
    # IEEE: -0.0 + 0.0 == +0.0 and x + 0.0 == x otherwise, so this normalises -0.0.
    time_f = time_s + 0.0
    length_f = length_m + 0.0
    if bidirectional:
        arc_tail = np.concatenate([tail, head])
        arc_head = np.concatenate([head, tail])
        time_f = np.concatenate([time_f, time_f])
        length_f = np.concatenate([length_f, length_f])
    else:
        arc_tail, arc_head = tail, head
    order = np.argsort(arc_tail, kind="stable")
    indptr = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(arc_tail, minlength=num_nodes), out=indptr[1:])
    return (
        indptr,
        np.ascontiguousarray(arc_head[order], dtype=np.int64),
        np.ascontiguousarray(time_f[order]),
        np.ascontiguousarray(length_f[order]),
    )


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
def search(
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
def nearest_kernel(indptr, heads, times, lengths, sources, offsets, cutoff):
    """One multi-source search: per node ``(time, source index, length)``, unreached
    nodes ``(inf, -1, inf)``. ``offsets`` has one value per source; ``cutoff`` may be
    ``inf``."""
    n = indptr.shape[0] - 1
    dist, src, dlen, touched = _new_workspace(n)
    ht, hs, hl, hn = _new_heap(sources.shape[0] + heads.shape[0] + 1)
    search(
        indptr, heads, times, lengths, sources, offsets, cutoff,
        dist, src, dlen, touched, ht, hs, hl, hn,
    )  # fmt: skip
    return dist, src, dlen


@njit(cache=True, nogil=True)
def batch_kernel(
    indptr, heads, times, lengths, set_indptr, set_nodes, set_offsets, cutoff,
    targets, use_targets,
):  # fmt: skip
    """S independent searches, set ``i`` being ``set_nodes[set_indptr[i]:set_indptr[i+1]]``;
    CSR ``(out_indptr, node, time, length, source)`` of the reached nodes of each search
    (only those with ``targets[node]`` when ``use_targets``), ascending by node."""
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
        n_touched, ht, hs, hl, hn = search(
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
def histogram_kernel(
    indptr, heads, times, lengths, set_indptr, set_nodes, set_offsets, cutoff,
    weights, edges,
):  # fmt: skip
    """Per search, weighted band histograms ``counts (S, m+1, c)`` (bin ``m`` is
    ``t >= e_m``), ``unreachable (S, c)``, ``time_sum (S, c)``, ``length_sum (S, c)``,
    all accumulated in ascending node order (the contract's summation order)."""
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
        n_touched, ht, hs, hl, hn = search(
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
