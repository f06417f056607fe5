"""The Numba backend as plain functions on CSR arrays, each checking its own input.

For direct use (the differential tests, ``hexaccess._numba_backend``); the engine facade
checks once and calls :mod:`hexaccess._engine.numba` instead. The checks are those of
:mod:`hexaccess._engine.checks`, called in the Rust core's order, so that both backends
word every refusal the same way.

The CSR arrays passed to the search functions are trusted to come from
:func:`validate_and_build_csr` (only their shapes are checked, not every head id),
because the searches are called many times on one graph.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from hexaccess._engine import _numba_kernels as kernels
from hexaccess._engine import checks
from hexaccess._engine.checks import MAX_NUM_NODES

__all__ = [
    "MAX_NUM_NODES",
    "band_histograms",
    "nearest",
    "nearest_batch",
    "validate_and_build_csr",
]

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]
_I32 = npt.NDArray[np.int32]


def validate_and_build_csr(
    num_nodes: int,
    tail: npt.ArrayLike,
    head: npt.ArrayLike,
    time_s: npt.ArrayLike,
    length_m: npt.ArrayLike,
    bidirectional: bool,
) -> tuple[_I64, _I64, _F64, _F64]:
    """Validate an edge list and build the CSR arrays ``(indptr, heads, times, lengths)``.

    Raises :class:`~hexaccess.errors.EngineInputError` (a ``ValueError``) naming the
    first bad row (rows scanned in order; within a row tail, head, time_s, length_m are
    checked in that order). ``-0.0`` weights are stored as ``+0.0``. Arcs of a node keep
    input order, forward rows before reverse rows (a stable sort by tail of
    ``concat(forward, reverse)``).
    """
    n = checks.num_nodes(num_nodes)
    edges = checks.edge_list(n, tail, head, time_s, length_m)
    return kernels.build_csr(n, *edges, bidirectional)


def _sets(
    n: int,
    set_indptr: npt.ArrayLike,
    set_nodes: npt.ArrayLike,
    set_offsets: npt.ArrayLike | None,
    cutoff: float | None,
) -> tuple[_I64, _I64, _F64, float]:
    """Checked source sets with zero offsets filled in and ``None`` cutoff as ``inf``
    (the cutoff is checked as the Rust core does: only when there is a set)."""
    ptr, nodes, offs = checks.set_sources(n, set_indptr, set_nodes, set_offsets, cutoff)
    offs = np.zeros(nodes.shape[0]) if offs is None else offs
    return ptr, nodes, offs, math.inf if cutoff is None else float(cutoff)


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
    ``cutoff=None`` means +inf. Checks: the cutoff, then all node ids, then offsets.
    """
    csr = checks.csr_arrays(indptr, heads, times, lengths)
    c = checks.cutoff(cutoff)
    ids, offs = checks.sources(csr[0].shape[0] - 1, sources, offsets)
    offs = np.zeros(ids.shape[0]) if offs is None else offs
    return kernels.nearest_kernel(*csr, ids, offs, np.inf if c is None else c)


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
    csr = checks.csr_arrays(indptr, heads, times, lengths)
    n = csr[0].shape[0] - 1
    ptr, nodes, offs, c = _sets(n, set_indptr, set_nodes, set_offsets, cutoff)
    if targets is None:
        mask = np.zeros(0, dtype=np.bool_)
    else:
        mask = checks.target_mask(targets, n)
    return kernels.batch_kernel(*csr, ptr, nodes, offs, c, mask, targets is not None)


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
    csr = checks.csr_arrays(indptr, heads, times, lengths)
    n = csr[0].shape[0] - 1
    ptr, nodes, offs, c = _sets(n, set_indptr, set_nodes, set_offsets, cutoff)
    w = checks.weight_matrix(weights, n)
    e = checks.band_edges(edges)
    return kernels.histogram_kernel(*csr, ptr, nodes, offs, c, w, e)
