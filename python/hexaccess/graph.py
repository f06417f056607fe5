"""The public engine API: a travel-time graph and its searches.

>>> import numpy as np, hexaccess
>>> g = hexaccess.Graph.from_edges([0, 1], [1, 2], time_s=[60.0, 120.0],
...                                length_m=[1000.0, 2000.0], bidirectional=True)
>>> r = g.nearest([0])
>>> r.time_s.tolist(), r.length_m.tolist()
([0.0, 60.0, 180.0], [0.0, 1000.0, 3000.0])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess._engine import CSR, Backend, checks, select
from hexaccess.results import (
    DEFAULT_BAND_EDGES_S,
    BandHistogram,
    BatchResult,
    NearestResult,
)

__all__ = ["CSR", "Graph", "Progress"]

Progress = Callable[[int, int], Any]
"""A progress callback, called as ``progress(done, total)`` between chunks of a batch."""


class Graph:
    """A directed travel-time graph, built once and searched many times.

    Build it with :meth:`from_edges`. Nodes are ``0 .. num_nodes-1``; every arc has a
    travel time in seconds and a length in metres. The graph is immutable and safe to
    share between threads; searches release the GIL.
    """

    def __init__(self, *, _engine: ModuleType, _handle: Any, _num_nodes: int):
        # _engine is a backend adapter (hexaccess._engine.rust or .numba) and _handle
        # its graph; every search below is one call to the adapter, whichever it is.
        self._engine = _engine
        self._handle = _handle
        self._num_nodes = _num_nodes

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_edges(
        cls,
        tail: npt.ArrayLike,
        head: npt.ArrayLike,
        time_s: npt.ArrayLike,
        length_m: npt.ArrayLike,
        *,
        num_nodes: int | None = None,
        bidirectional: bool = False,
        backend: Backend = "auto",
    ) -> Graph:
        """Build a graph from parallel edge arrays (no Python loop over edges).

        Parameters
        ----------
        tail, head
            Integer node ids of each edge's start and end.
        time_s, length_m
            Travel time (seconds) and length (metres) of each edge; finite and ``>= 0``.
        num_nodes
            Number of nodes; default ``max(tail, head) + 1``. Give it when the last nodes
            have no edges (e.g. an isolated populated cell).
        bidirectional
            Also add every edge in the reverse direction.
        backend
            ``'rust'``, ``'numba'`` or ``'auto'`` (Rust when importable).

        Raises
        ------
        EngineInputError
            (a ``ValueError``) naming the first bad row: ids out of range,
            negative/NaN/inf weights, arrays of different lengths.
        """
        engine = select(backend)
        tail = checks.node_ids("tail", tail)
        head = checks.node_ids("head", head)
        time_s = checks.floats("time_s", time_s)
        length_m = checks.floats("length_m", length_m)
        if num_nodes is None:
            num_nodes = int(max(tail.max(), head.max())) + 1 if tail.size and head.size else 0
        n = checks.num_nodes(int(num_nodes))
        edges = checks.edge_list(n, tail, head, time_s, length_m)
        handle = engine.build_graph(n, *edges, bool(bidirectional))
        return cls(_engine=engine, _handle=handle, _num_nodes=n)

    @classmethod
    def _from_rust(cls, rg: Any) -> Graph:
        """Wrap a graph built by the Rust core (``from_edges``, the hexagon graph)."""
        return cls(_engine=select("rust"), _handle=rg, _num_nodes=rg.num_nodes)

    # ------------------------------------------------------------------ properties
    @property
    def num_nodes(self) -> int:
        """Number of nodes; ids are ``0 .. num_nodes-1``."""
        return self._num_nodes

    @property
    def num_arcs(self) -> int:
        """Number of arcs (a bidirectional edge counts twice)."""
        return self._engine.num_arcs(self._handle)

    @property
    def backend(self) -> str:
        """``'rust'`` or ``'numba'``: the backend that runs this graph's searches."""
        return self._engine.NAME

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the adjacency arrays. (Large single searches also keep 32 bytes
        per node of label memory between calls, for the next search; not counted here.)"""
        return self._engine.memory_bytes(self._handle)

    def csr(self) -> CSR:
        """The adjacency as numpy arrays (a copy for the Rust backend)."""
        return self._engine.csr(self._handle)

    def with_backend(self, backend: Backend) -> Graph:
        """The same graph on another backend (rebuilt from its CSR arrays)."""
        engine = select(backend)
        if engine is self._engine:
            return self
        indptr, head, time_s, length_m = self.csr()
        tail = np.repeat(np.arange(self._num_nodes, dtype=np.int64), np.diff(indptr))
        return Graph.from_edges(
            tail, head, time_s, length_m, num_nodes=self._num_nodes, backend=engine.NAME
        )

    def __repr__(self) -> str:
        return (
            f"Graph(num_nodes={self.num_nodes}, num_arcs={self.num_arcs}, backend={self.backend!r})"
        )

    # ------------------------------------------------------------------ searches
    def nearest(
        self,
        sources: npt.ArrayLike,
        *,
        offsets_s: npt.ArrayLike | None = None,
        cutoff_s: float | None = None,
        threads: int | None = None,
    ) -> NearestResult:
        """Time, identity and path length of the nearest source, for every node.

        Parameters
        ----------
        sources
            Node ids of the sources (e.g. offices); a node may appear more than once.
        offsets_s
            Optional start time per source in seconds (e.g. a terminal time at an office).
        cutoff_s
            Leave nodes farther than this unreached (inclusive: time ``<= cutoff_s`` is
            reached). ``None``: no limit.
        threads
            Threads for one large search (Rust backend, graphs of 16,384 nodes or more
            whose arcs all take some time; others run on one thread). ``None``: rayon's
            pool (``RAYON_NUM_THREADS``), at most 8. The result is identical for any value.

        Notes
        -----
        Ties between sources go to the lowest source index; among equally fast paths from
        that source, ``length_m`` is the shortest.
        """
        sources = checks.node_ids("sources", sources)
        offsets = None if offsets_s is None else checks.floats("offsets_s", offsets_s)
        cutoff = checks.cutoff(cutoff_s)
        threads = checks.threads(threads)
        sources, offsets = checks.sources(self._num_nodes, sources, offsets)
        t, s, ln = self._engine.nearest(self._handle, sources, offsets, cutoff, threads)
        return NearestResult(t, s, ln)

    def nearest_batch(
        self,
        source_sets: Sequence[npt.ArrayLike] | npt.ArrayLike,
        *,
        offsets_s: Sequence[npt.ArrayLike] | npt.ArrayLike | None = None,
        cutoff_s: float | None = None,
        targets: npt.ArrayLike | None = None,
        threads: int | None = None,
        progress: Progress | None = None,
    ) -> BatchResult:
        """Many independent searches in one call, in parallel, GIL released.

        ``source_sets`` is either a 1-D array of nodes (one single-source search each) or
        a sequence of source-node arrays (one multi-source search each). Results are
        sparse: only reached nodes, restricted to ``targets`` (a boolean node mask or an
        array of node ids) when given. Identical for any ``threads``.
        """
        indptr, nodes, offsets = checks.source_sets(source_sets, offsets_s)
        cutoff = checks.cutoff(cutoff_s)
        threads = checks.threads(threads)
        mask = checks.targets(targets, self._num_nodes)
        indptr, nodes, offsets = checks.set_sources(self._num_nodes, indptr, nodes, offsets)
        out = self._engine.nearest_batch(
            self._handle, indptr, nodes, offsets, cutoff, mask, threads, progress
        )
        return BatchResult(*out, num_nodes=self._num_nodes)

    def band_histogram(
        self,
        sources: npt.ArrayLike,
        weights: npt.ArrayLike,
        *,
        band_edges_s: npt.ArrayLike | None = None,
        offsets_s: npt.ArrayLike | None = None,
        cutoff_s: float | None = None,
        columns: Sequence[str] | None = None,
    ) -> BandHistogram:
        """Weighted travel-time bands of one multi-source search, computed in the engine
        (no per-node arrays cross into Python). Default bands: 10 minutes up to 3 h."""
        sources = checks.node_ids("sources", sources)
        offsets = None if offsets_s is None else [checks.floats("offsets_s", offsets_s)]
        return next(
            self.iter_band_histograms(
                [sources],
                weights,
                band_edges_s=band_edges_s,
                offsets_s=offsets,
                cutoff_s=cutoff_s,
                columns=columns,
            )
        )

    def iter_band_histograms(
        self,
        source_sets: Sequence[npt.ArrayLike] | npt.ArrayLike,
        weights: npt.ArrayLike,
        *,
        band_edges_s: npt.ArrayLike | None = None,
        offsets_s: Sequence[npt.ArrayLike] | npt.ArrayLike | None = None,
        cutoff_s: float | None = None,
        columns: Sequence[str] | None = None,
        threads: int | None = None,
        chunk: int = 16,
        progress: Progress | None = None,
    ) -> Iterator[BandHistogram]:
        """Stream one :class:`BandHistogram` per source set, in input order, as each
        chunk of ``chunk`` searches finishes (searches within a chunk run in parallel).

        ``weights`` is ``(num_nodes,)`` or ``(num_nodes, columns)``, e.g. people and
        people aged 65+ per node. Every input is checked before the first search runs.
        """
        chunk = checks.chunk(chunk)
        indptr, nodes, offsets = checks.source_sets(source_sets, offsets_s)
        w = checks.weights(weights, self._num_nodes)
        edges = _band_edges(band_edges_s)
        cutoff = checks.cutoff(cutoff_s)
        threads = checks.threads(threads)
        names = checks.column_names(columns, w.shape[1])
        indptr, nodes, offsets = checks.set_sources(self._num_nodes, indptr, nodes, offsets)
        yield from self._stream_histograms(
            (indptr, nodes, offsets), w, edges, cutoff, names, threads, chunk, progress
        )

    def _stream_histograms(
        self,
        sets: tuple[np.ndarray, np.ndarray, np.ndarray | None],
        weights: np.ndarray,
        edges: np.ndarray,
        cutoff: float | None,
        names: list[str],
        threads: int | None,
        chunk: int,
        progress: Progress | None,
    ) -> Iterator[BandHistogram]:
        """The generator behind :meth:`iter_band_histograms`, on checked input."""
        indptr, nodes, offsets = sets
        total = len(indptr) - 1
        for start in range(0, total, chunk):
            stop = min(start + chunk, total)
            sub_ptr = indptr[start : stop + 1] - indptr[start]
            sub_nodes = nodes[indptr[start] : indptr[stop]]
            sub_off = None if offsets is None else offsets[indptr[start] : indptr[stop]]
            counts, unreach, tsum, lsum = self._engine.band_histograms(
                self._handle, sub_ptr, sub_nodes, sub_off, cutoff, weights, edges, threads
            )
            for k in range(stop - start):
                yield BandHistogram(edges, counts[k], unreach[k], tsum[k], lsum[k], names)
            if progress is not None:
                progress(stop, total)

    def nearest_with_histogram(
        self,
        sources: npt.ArrayLike,
        weights: npt.ArrayLike,
        *,
        band_edges_s: npt.ArrayLike | None = None,
        offsets_s: npt.ArrayLike | None = None,
        cutoff_s: float | None = None,
        columns: Sequence[str] | None = None,
    ) -> tuple[NearestResult, BandHistogram]:
        """:meth:`nearest` and :meth:`band_histogram` from one search, for callers that
        need the per-node results anyway; the histogram is identical, bit for bit."""
        w = checks.weights(weights, self._num_nodes)
        edges = _band_edges(band_edges_s)
        names = checks.column_names(columns, w.shape[1])
        result = self.nearest(sources, offsets_s=offsets_s, cutoff_s=cutoff_s)
        return result, BandHistogram.from_nodes(result, w, edges, names)

    def band_histograms(
        self,
        source_sets: Sequence[npt.ArrayLike] | npt.ArrayLike,
        weights: npt.ArrayLike,
        **kwargs: Any,
    ) -> list[BandHistogram]:
        """All histograms of :meth:`iter_band_histograms` as a list."""
        return list(self.iter_band_histograms(source_sets, weights, **kwargs))

    def edge_scan_checksum(self, sources: npt.ArrayLike) -> float:
        """Run the edge-scan bound once (Rust backend) and return its checksum.

        One label-update pass over all arcs with no priority queue: the work no nearest
        search can avoid. Benchmarks time this call and compare :meth:`nearest` against
        it; the checksum (sum of the finite times and lengths the pass leaves) only keeps
        the compiler from dropping the work. The Numba backend raises ``RuntimeError``.
        """
        sources = checks.node_ids("sources", sources)
        sources, _ = checks.sources(self._num_nodes, sources, None)
        return self._engine.edge_scan(self._handle, sources)

    def edge_scan_seconds(self, sources: npt.ArrayLike) -> float:
        """Wall-clock seconds of one run of the edge-scan bound (see
        :meth:`edge_scan_checksum`, which benchmarks should time instead)."""
        start = time.perf_counter()
        self.edge_scan_checksum(sources)
        return time.perf_counter() - start


def _band_edges(band_edges_s: npt.ArrayLike | None) -> np.ndarray:
    """Checked band edges; the default (10-minute bands to 3 h) when ``None``."""
    if band_edges_s is None:
        # A copy: histograms keep their edges, and must not share the module constant.
        return DEFAULT_BAND_EDGES_S.copy()
    return checks.band_edges(band_edges_s)
