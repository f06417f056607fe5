"""The Rust backend: the adapter over the compiled extension ``hexaccess._core``.

Same functions, arguments and results as :mod:`hexaccess._engine.numba`; the graph
handle is a ``hexaccess._core.Graph``. Input arrives checked by
:mod:`hexaccess._engine.checks`; the core checks it again on its own side.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess import _core
from hexaccess._engine import CSR

NAME = "rust"

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]

#: Searches per parallel chunk of a sparse batch (progress is reported between chunks).
BATCH_CHUNK = 256


def build_graph(
    num_nodes: int, tail: I64, head: I64, time_s: F64, length_m: F64, bidirectional: bool
) -> Any:
    """The graph handle of a checked edge list."""
    return _core.Graph(num_nodes, tail, head, time_s, length_m, bidirectional)


def num_arcs(graph: Any) -> int:
    """Number of arcs (both directions of a bidirectional edge count)."""
    return int(graph.num_arcs)


def memory_bytes(graph: Any) -> int:
    """Bytes held by the adjacency arrays."""
    return int(graph.memory_bytes)


def csr(graph: Any) -> CSR:
    """The adjacency as numpy arrays (a copy)."""
    return CSR(*graph.csr())


def nearest(
    graph: Any, sources: I64, offsets: F64 | None, cutoff: float | None, threads: int | None
) -> tuple[F64, I32, F64]:
    """One multi-source search: per node ``(time_s, source, length_m)``."""
    return _core.nearest(graph, sources, offsets, cutoff, threads)


def nearest_batch(
    graph: Any,
    indptr: I64,
    nodes: I64,
    offsets: F64 | None,
    cutoff: float | None,
    targets: npt.NDArray[np.bool_] | None,
    threads: int | None,
    progress: Any,
) -> tuple[I64, I64, F64, F64, I32]:
    """Independent searches; CSR ``(indptr, node, time_s, length_m, source)`` of the
    reached nodes (only ``targets`` when given). ``progress(done, total)`` is called
    between chunks."""
    return _core.sparse_batch(
        graph, indptr, nodes, offsets, cutoff, targets, threads, BATCH_CHUNK, progress
    )


def band_histograms(
    graph: Any,
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
    return _core.histogram_batch(graph, indptr, nodes, weights, edges, offsets, cutoff, threads)


def edge_scan(graph: Any, sources: I64) -> float:
    """Run the edge-scan bound once; its checksum (see ``rust/src/scan.rs``)."""
    return float(_core.edge_scan(graph, sources))
