"""The Numba backend: the adapter over the kernels of :mod:`._numba_kernels`.

Same functions, arguments and results as :mod:`hexaccess._engine.rust`; the graph
handle is a :class:`~hexaccess._engine.CSR`. Input arrives checked by
:mod:`hexaccess._engine.checks` and is not checked again here. ``threads`` is accepted
and ignored: the kernels run on one thread (and results never depend on it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess._engine import CSR
from hexaccess._engine import _numba_kernels as kernels

NAME = "numba"

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]

_NO_TARGETS = np.zeros(0, dtype=np.bool_)


def _offsets_or_zeros(offsets: F64 | None, count: int) -> F64:
    return np.zeros(count, dtype=np.float64) if offsets is None else offsets


def _inf(cutoff: float | None) -> float:
    return np.inf if cutoff is None else cutoff


def build_graph(
    num_nodes: int, tail: I64, head: I64, time_s: F64, length_m: F64, bidirectional: bool
) -> CSR:
    """The graph handle of a checked edge list: its CSR arrays."""
    return CSR(*kernels.build_csr(num_nodes, tail, head, time_s, length_m, bidirectional))


def num_arcs(graph: CSR) -> int:
    """Number of arcs (both directions of a bidirectional edge count)."""
    return int(graph.head.size)


def memory_bytes(graph: CSR) -> int:
    """Bytes held by the adjacency arrays."""
    return int(sum(a.nbytes for a in graph))


def csr(graph: CSR) -> CSR:
    """The adjacency as numpy arrays (the handle itself)."""
    return graph


def nearest(
    graph: CSR, sources: I64, offsets: F64 | None, cutoff: float | None, threads: int | None
) -> tuple[F64, I32, F64]:
    """One multi-source search: per node ``(time_s, source, length_m)``."""
    offs = _offsets_or_zeros(offsets, sources.size)
    return kernels.nearest_kernel(*graph, sources, offs, _inf(cutoff))


def nearest_batch(
    graph: CSR,
    indptr: I64,
    nodes: I64,
    offsets: F64 | None,
    cutoff: float | None,
    targets: npt.NDArray[np.bool_] | None,
    threads: int | None,
    progress: Any,
) -> tuple[I64, I64, F64, F64, I32]:
    """Independent searches; CSR ``(indptr, node, time_s, length_m, source)`` of the
    reached nodes (only ``targets`` when given). ``progress(total, total)`` is called
    once, at the end."""
    mask = _NO_TARGETS if targets is None else targets
    offs = _offsets_or_zeros(offsets, nodes.size)
    out = kernels.batch_kernel(*graph, indptr, nodes, offs, _inf(cutoff), mask, targets is not None)
    if progress is not None:
        progress(len(indptr) - 1, len(indptr) - 1)
    return out


def band_histograms(
    graph: CSR,
    indptr: I64,
    nodes: I64,
    offsets: F64 | None,
    cutoff: float | None,
    weights: F64,
    edges: F64,
    threads: int | None,
) -> tuple[F64, F64, F64, F64]:
    """Independent searches reduced to band histograms: ``counts (S, bins, cols)``,
    ``unreachable``, ``time_sum``, ``length_sum`` (each ``(S, cols)``)."""
    offs = _offsets_or_zeros(offsets, nodes.size)
    return kernels.histogram_kernel(*graph, indptr, nodes, offs, _inf(cutoff), weights, edges)


def edge_scan(graph: CSR, sources: I64) -> float:
    """Not implemented for this backend (the bound measures the Rust core)."""
    raise RuntimeError("the edge-scan bound is implemented in the Rust backend only")
