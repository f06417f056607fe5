"""Numba kernels of the location solvers and of network evaluation.

All kernels work on a *cost model*: a candidate × cell cost matrix in two sparse forms,
CSR by candidate (``cptr, ccell, ccost``) and CSR by cell (``rptr, rcand, rcost``, each
row sorted by ascending cost), plus a per-cell fallback cost ``pen`` (the cost of a cell
no open candidate serves better; entries with ``cost >= pen`` are never stored). The
objective is ``sum_i w_i * min(pen_i, min_{j open} c_ij)``, minimised. p-median uses
travel time with ``pen`` = the cutoff; maximal coverage uses cost 0 for covered pairs and
``pen`` = 1 (so the objective is the uncovered population).

Swap evaluation follows Resende & Werneck (2007, "A fast swap-based local search procedure
for location problems"): with ``d1``/``d2`` the costs of each cell's nearest and second
nearest open candidate (``phi1`` the nearest), the profit of opening ``f`` and closing
``r`` is ``gain[f] - loss[r] + extra[f, r]``. ``extra`` is stored only for open ``r``
(``candidates × p``), so it stays small.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_CACHE = True


@nb.njit(cache=_CACHE)
def assign(rptr, rcand, rcost, is_open, pen):
    """Nearest (``d1``, ``phi1``; -1 = fallback) and second nearest (``d2``) open costs."""
    n = rptr.size - 1
    d1 = np.empty(n)
    d2 = np.empty(n)
    phi1 = np.full(n, -1, np.int64)
    for i in range(n):
        a = pen[i]
        b = pen[i]
        first = -1
        for k in range(rptr[i], rptr[i + 1]):
            j = rcand[k]
            if is_open[j]:
                if first < 0:
                    first = j
                    a = rcost[k]
                else:
                    b = rcost[k]
                    break
        d1[i] = a
        d2[i] = b
        phi1[i] = first
    return d1, d2, phi1


@nb.njit(cache=_CACHE)
def objective(w, d1):
    s = 0.0
    for i in range(w.size):
        s += w[i] * d1[i]
    return s


@nb.njit(parallel=True, cache=_CACHE)
def add_gains(cptr, ccell, ccost, w, d1, eligible):
    """Decrease of the objective from opening each eligible candidate (others: -1)."""
    m = cptr.size - 1
    gains = np.full(m, -1.0)
    for j in nb.prange(m):
        if not eligible[j]:
            continue
        g = 0.0
        for k in range(cptr[j], cptr[j + 1]):
            i = ccell[k]
            if ccost[k] < d1[i]:
                g += w[i] * (d1[i] - ccost[k])
        gains[j] = g
    return gains


@nb.njit(cache=_CACHE)
def open_and_update(cptr, ccell, ccost, d1, j):
    """Open ``j``: lower ``d1`` where ``j`` is nearer (greedy bookkeeping)."""
    for k in range(cptr[j], cptr[j + 1]):
        i = ccell[k]
        if ccost[k] < d1[i]:
            d1[i] = ccost[k]


@nb.njit(cache=_CACHE)
def best_swap(
    rptr, rcand, rcost, w, pen, is_open, removable, insertable, region, region_count, open_list
):
    """Best (profit, f in, r out) swap by Resende–Werneck; profit <= 0 means none improves.

    ``removable``/``insertable`` encode fixed and forbidden sites. ``region[j]`` (-1 =
    none) with ``region_count[g]`` open sites per region: a swap may not empty a region
    that had an open site when the at-least-one-per-region rule is active (``region_count``
    of size 0 disables it).
    """
    m = is_open.size
    p = open_list.size
    slot = np.full(m, -1, np.int64)
    for s in range(p):
        slot[open_list[s]] = s
    d1, d2, phi1 = assign(rptr, rcand, rcost, is_open, pen)
    loss = np.zeros(p)
    gain = np.zeros(m)
    extra = np.zeros((m, p))
    n = rptr.size - 1
    for i in range(n):
        wi = w[i]
        if wi == 0.0:
            continue
        r = phi1[i]
        if r >= 0:
            loss[slot[r]] += wi * (d2[i] - d1[i])
        for k in range(rptr[i], rptr[i + 1]):
            c = rcost[k]
            if c >= d2[i]:
                break  # rows are sorted: no later candidate matters for this cell
            f = rcand[k]
            if is_open[f] or not insertable[f]:
                continue
            if c < d1[i]:
                gain[f] += wi * (d1[i] - c)
            if r >= 0:
                extra[f, slot[r]] += wi * (d2[i] - max(c, d1[i]))
    best = 0.0
    bf = -1
    br = -1
    use_regions = region_count.size > 0
    for f in range(m):
        if is_open[f] or not insertable[f]:
            continue
        for s in range(p):
            r = open_list[s]
            if not removable[r]:
                continue
            if use_regions and region[r] >= 0 and region[r] != region[f]:
                if region_count[region[r]] <= 1:
                    continue
            profit = gain[f] - loss[s] + extra[f, s]
            if profit > best:
                best = profit
                bf = f
                br = r
    return best, bf, br


@nb.njit(cache=_CACHE)
def local_search(
    rptr,
    rcand,
    rcost,
    w,
    pen,
    is_open,
    removable,
    insertable,
    region,
    region_count,
    tol,
    max_iter,
):
    """Best-improvement swaps until no swap improves by more than ``tol``; returns the
    number of swaps made. ``is_open`` and ``region_count`` are updated in place."""
    it = 0
    while it < max_iter:
        open_list = np.flatnonzero(is_open)
        profit, f, r = best_swap(
            rptr, rcand, rcost, w, pen, is_open, removable, insertable, region,
            region_count, open_list,
        )  # fmt: skip
        if f < 0 or profit <= tol:
            break
        is_open[f] = True
        is_open[r] = False
        if region_count.size > 0:
            if region[f] >= 0:
                region_count[region[f]] += 1
            if region[r] >= 0:
                region_count[region[r]] -= 1
        it += 1
    return it


@nb.njit(parallel=True, cache=_CACHE)
def evaluate_networks(indptr, cell, time, dist, w, nptr, members, edge_units):
    """Per network: nearest member per cell (min time; ties to the earlier member), then
    the population-weighted histogram over ``edge_units`` (band ``b`` = units in
    ``[edge_units[b], edge_units[b+1])``), the weight beyond the last edge / unreached,
    and weighted time (units) and distance sums."""
    nnet = nptr.size - 1
    nb_bands = edge_units.size - 1
    ncell = w.size
    top = edge_units[-1]
    lut = np.full(top, -1, np.int64)
    for b in range(nb_bands):
        for u in range(max(edge_units[b], 0), min(edge_units[b + 1], top)):
            lut[u] = b
    counts = np.zeros((nnet, nb_bands))
    beyond = np.zeros(nnet)
    tsum = np.zeros(nnet)
    dsum = np.zeros(nnet)
    total = 0.0
    for i in range(ncell):
        total += w[i]
    for k in nb.prange(nnet):
        best = np.full(ncell, 65536, np.int32)
        bestd = np.zeros(ncell, np.float32)
        for q in range(nptr[k], nptr[k + 1]):
            j = members[q]
            for e in range(indptr[j], indptr[j + 1]):
                i = cell[e]
                t = np.int32(time[e])
                if t < best[i]:
                    best[i] = t
                    bestd[i] = dist[e]
        served = 0.0
        for q in range(nptr[k], nptr[k + 1]):
            j = members[q]
            for e in range(indptr[j], indptr[j + 1]):
                i = cell[e]
                t = best[i]
                if t < 0 or t >= top:
                    continue  # already counted (marked -1) or out of bands
                b = lut[t]
                best[i] = -1
                if b < 0:
                    continue
                counts[k, b] += w[i]
                tsum[k] += w[i] * t
                dsum[k] += w[i] * bestd[i]
                served += w[i]
        beyond[k] = total - served
    return counts, beyond, tsum, dsum
