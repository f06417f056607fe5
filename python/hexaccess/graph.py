"""The public engine API: a travel-time graph and its searches.

>>> import numpy as np, hexaccess
>>> g = hexaccess.Graph.from_edges([0, 1], [1, 2], time_s=[60.0, 120.0],
...                                length_m=[1000.0, 2000.0], bidirectional=True)
>>> r = g.nearest([0])
>>> r.time_s.tolist(), r.length_m.tolist()
([0.0, 60.0, 180.0], [0.0, 1000.0, 3000.0])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from hexaccess import _backend
from hexaccess.results import (
    DEFAULT_BAND_EDGES_S,
    BandHistogram,
    BatchResult,
    NearestResult,
)

Progress = Callable[[int, int], Any]
"""A progress callback, called as ``progress(done, total)`` between chunks of a batch."""


class CSR(NamedTuple):
    """The graph's adjacency: arcs of node ``u`` are ``indptr[u]:indptr[u+1]``."""

    indptr: npt.NDArray[np.int64]
    head: npt.NDArray[np.int64]
    time_s: npt.NDArray[np.float64]
    length_m: npt.NDArray[np.float64]


def _as_1d(name: str, values: npt.ArrayLike, dtype: type) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if dtype is np.int64:
        if arr.size and not (
            np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_)
        ):
            if not np.issubdtype(arr.dtype, np.floating) or not np.all(
                np.isfinite(arr) & (arr == np.round(arr))
            ):
                bad = (
                    int(np.flatnonzero(~(np.isfinite(arr) & (arr == np.round(arr))))[0])
                    if (np.issubdtype(arr.dtype, np.floating))
                    else 0
                )
                raise ValueError(f"{name} must hold integer node ids; entry {bad} is {arr[bad]!r}")
        if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{name} holds ids larger than int64")
    return np.ascontiguousarray(arr, dtype=dtype)


def _source_sets(
    source_sets: Sequence[npt.ArrayLike] | npt.ArrayLike,
    offsets_s: Sequence[npt.ArrayLike] | npt.ArrayLike | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Normalise source sets to CSR ``(indptr, nodes, offsets)``.

    A 1-D integer array means one single-source search per entry; a sequence of
    array-likes means one multi-source search per item.
    """
    if isinstance(source_sets, np.ndarray) and source_sets.ndim == 1:
        nodes = _as_1d("source_sets", source_sets, np.int64)
        indptr = np.arange(nodes.size + 1, dtype=np.int64)
        offsets = None if offsets_s is None else _as_1d("offsets_s", offsets_s, np.float64)
        return indptr, nodes, offsets
    sets = [_as_1d(f"source_sets[{i}]", s, np.int64) for i, s in enumerate(source_sets)]
    indptr = np.zeros(len(sets) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([s.size for s in sets])
    nodes = np.concatenate(sets) if sets else np.zeros(0, dtype=np.int64)
    offsets = None
    if offsets_s is not None:
        offs = [_as_1d(f"offsets_s[{i}]", o, np.float64) for i, o in enumerate(offsets_s)]
        if len(offs) != len(sets) or any(
            o.size != s.size for o, s in zip(offs, sets, strict=False)
        ):
            raise ValueError("offsets_s must have one array per source set, one value per source")
        offsets = np.concatenate(offs) if offs else np.zeros(0)
    return indptr, nodes, offsets


def _band_edges(band_edges_s: npt.ArrayLike | None) -> np.ndarray:
    if band_edges_s is None:
        return DEFAULT_BAND_EDGES_S.copy()
    edges = np.ascontiguousarray(band_edges_s, dtype=np.float64)
    if edges.ndim != 1:
        raise ValueError(f"band edges must be one-dimensional, got shape {edges.shape}")
    return edges


def _weights(weights: npt.ArrayLike, num_nodes: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 1:
        w = w[:, None]
    if w.ndim != 2:
        raise ValueError(f"weights must be (num_nodes,) or (num_nodes, columns), got {w.shape}")
    if w.shape[0] != num_nodes:
        raise ValueError(
            f"weights have {w.shape[0]} rows but the graph has {num_nodes} nodes; give one "
            "row per node (zeros for nodes without people)"
        )
    if w.shape[1] == 0:
        raise ValueError("weights need at least one column")
    return np.ascontiguousarray(w)


def _threads(threads: int | None) -> int | None:
    """Check a thread count: None (all of rayon's pool) or an integer >= 1."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be >= 1 (or None for all cores), got {threads!r}")
    return int(threads)


def _cutoff(cutoff_s: float | None) -> float | None:
    if cutoff_s is None:
        return None
    c = float(cutoff_s)
    if not c >= 0:  # also catches NaN
        raise ValueError(
            f"cutoff {cutoff_s} s is invalid; it must be >= 0 (use None for no cutoff)"
        )
    return c


class Graph:
    """A directed travel-time graph, built once and searched many times.

    Build it with :meth:`from_edges`. Nodes are ``0 .. num_nodes-1``; every arc has a
    travel time in seconds and a length in metres. The graph is immutable and safe to
    share between threads; searches release the GIL.
    """

    def __init__(self, *, _num_nodes: int, _backend_name: str, _rust: Any, _csr: CSR | None):
        self._num_nodes = _num_nodes
        self._backend = _backend_name
        self._rust = _rust
        self._csr = _csr

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
        backend: _backend.Backend = "auto",
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
        ValueError
            Naming the first bad row: ids out of range, negative/NaN/inf weights, arrays
            of different lengths.
        """
        name = _backend.resolve(backend)
        tail = _as_1d("tail", tail, np.int64)
        head = _as_1d("head", head, np.int64)
        time_s = _as_1d("time_s", time_s, np.float64)
        length_m = _as_1d("length_m", length_m, np.float64)
        if num_nodes is None:
            num_nodes = int(max(tail.max(), head.max())) + 1 if tail.size and head.size else 0
        if name == "rust":
            core = _backend.rust()
            rg = core.Graph(int(num_nodes), tail, head, time_s, length_m, bool(bidirectional))
            return cls._from_rust(rg)
        csr = CSR(
            *_backend.numba().validate_and_build_csr(
                int(num_nodes), tail, head, time_s, length_m, bool(bidirectional)
            )
        )
        return cls(_num_nodes=int(num_nodes), _backend_name=name, _rust=None, _csr=csr)

    @classmethod
    def _from_rust(cls, rg: Any) -> Graph:
        """Wrap a graph built by the Rust core (``from_edges``, the hexagon graph)."""
        return cls(_num_nodes=rg.num_nodes, _backend_name="rust", _rust=rg, _csr=None)

    # ------------------------------------------------------------------ properties
    @property
    def num_nodes(self) -> int:
        return self._num_nodes

    @property
    def num_arcs(self) -> int:
        return self._rust.num_arcs if self._rust is not None else int(self._csr.head.size)

    @property
    def backend(self) -> str:
        """``'rust'`` or ``'numba'``: the backend that runs this graph's searches."""
        return self._backend

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the adjacency arrays. (Large single searches also keep 32 bytes
        per node of label memory between calls, for the next search; not counted here.)"""
        if self._rust is not None:
            return int(self._rust.memory_bytes)
        return int(sum(a.nbytes for a in self._csr))

    def csr(self) -> CSR:
        """The adjacency as numpy arrays (a copy for the Rust backend)."""
        if self._csr is not None:
            return self._csr
        return CSR(*self._rust.csr())

    def with_backend(self, backend: _backend.Backend) -> Graph:
        """The same graph on another backend (rebuilt from its CSR arrays)."""
        name = _backend.resolve(backend)
        if name == self._backend:
            return self
        indptr, head, time_s, length_m = self.csr()
        tail = np.repeat(np.arange(self._num_nodes, dtype=np.int64), np.diff(indptr))
        return Graph.from_edges(
            tail, head, time_s, length_m, num_nodes=self._num_nodes, backend=name
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

        Ties between sources go to the lowest source index; among equally fast paths from
        that source, ``length_m`` is the shortest.
        """
        sources = _as_1d("sources", sources, np.int64)
        offsets = None if offsets_s is None else _as_1d("offsets_s", offsets_s, np.float64)
        cutoff = _cutoff(cutoff_s)
        threads = _threads(threads)
        if self._rust is not None:
            t, s, ln = _backend.rust().nearest(self._rust, sources, offsets, cutoff, threads)
        else:
            _check_sets(self._num_nodes, np.array([0, sources.size]), sources, offsets)
            t, s, ln = _backend.numba().nearest(
                *self._csr, sources, _offsets_or_zeros(offsets, sources.size), _inf(cutoff)
            )
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
        indptr, nodes, offsets = _source_sets(source_sets, offsets_s)
        cutoff = _cutoff(cutoff_s)
        threads = _threads(threads)
        mask = self._targets(targets)
        if self._rust is not None:
            out = _backend.rust().sparse_batch(
                self._rust, indptr, nodes, offsets, cutoff, mask, threads, 256, progress
            )
        else:
            _check_sets(self._num_nodes, indptr, nodes, offsets)
            out = _backend.numba().nearest_batch(
                *self._csr,
                indptr,
                nodes,
                _offsets_or_zeros(offsets, nodes.size),
                _inf(cutoff),
                mask,
            )
            if progress is not None:
                progress(len(indptr) - 1, len(indptr) - 1)
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
        sources = _as_1d("sources", sources, np.int64)
        offsets = None if offsets_s is None else [_as_1d("offsets_s", offsets_s, np.float64)]
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
        people aged 65+ per node.
        """
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        indptr, nodes, offsets = _source_sets(source_sets, offsets_s)
        w = _weights(weights, self._num_nodes)
        edges = _band_edges(band_edges_s)
        cutoff = _cutoff(cutoff_s)
        threads = _threads(threads)
        names = _column_names(columns, w.shape[1])
        total = len(indptr) - 1
        if self._rust is None:
            # Rust validates inside the core; the Numba kernels expect checked inputs.
            _check_histogram_inputs(w, edges)
            _check_sets(self._num_nodes, indptr, nodes, offsets)
        for start in range(0, total, chunk):
            stop = min(start + chunk, total)
            sub_ptr = indptr[start : stop + 1] - indptr[start]
            sub_nodes = nodes[indptr[start] : indptr[stop]]
            sub_off = None if offsets is None else offsets[indptr[start] : indptr[stop]]
            if self._rust is not None:
                counts, unreach, tsum, lsum = _backend.rust().histogram_batch(
                    self._rust, sub_ptr, sub_nodes, w, edges, sub_off, cutoff, threads
                )
            else:
                counts, unreach, tsum, lsum = _backend.numba().band_histograms(
                    *self._csr,
                    sub_ptr,
                    sub_nodes,
                    _offsets_or_zeros(sub_off, sub_nodes.size),
                    _inf(cutoff),
                    w,
                    edges,
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
        w = _weights(weights, self._num_nodes)
        edges = _band_edges(band_edges_s)
        _check_histogram_inputs(w, edges)
        names = _column_names(columns, w.shape[1])
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

    def edge_scan_seconds(self, sources: npt.ArrayLike) -> float:
        """Run the edge-scan bound once (Rust backend) and return its checksum.

        One label-update pass over all arcs with no priority queue: the work no nearest
        search can avoid. Benchmarks compare :meth:`nearest` against it.
        """
        sources = _as_1d("sources", sources, np.int64)
        if self._rust is None:
            raise RuntimeError("the edge-scan bound is implemented in the Rust backend only")
        return float(_backend.rust().edge_scan(self._rust, sources))

    # ------------------------------------------------------------------ helpers
    def _targets(self, targets: npt.ArrayLike | None) -> np.ndarray | None:
        if targets is None:
            return None
        t = np.asarray(targets)
        if t.dtype == np.bool_:
            if t.shape != (self._num_nodes,):
                raise ValueError(f"targets mask has shape {t.shape}; expected ({self._num_nodes},)")
            return np.ascontiguousarray(t)
        ids = _as_1d("targets", t, np.int64)
        bad = (ids < 0) | (ids >= self._num_nodes)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"targets[{i}] = {ids[i]} is not a node id of this graph")
        mask = np.zeros(self._num_nodes, dtype=np.bool_)
        mask[ids] = True
        return mask


def _column_names(columns: Sequence[str] | None, count: int) -> list[str]:
    """Names of the weight columns: given, else ``weight`` (one) or ``w0, w1, ...``."""
    if columns is None:
        return ["weight"] if count == 1 else [f"w{i}" for i in range(count)]
    names = list(columns)
    if len(names) != count:
        raise ValueError(f"{len(names)} column names for {count} weight columns")
    return names


def _check_sets(
    num_nodes: int, indptr: np.ndarray, nodes: np.ndarray, offsets: np.ndarray | None
) -> None:
    """Query checks for the Numba path, with the messages the Rust core gives."""
    bad = (nodes < 0) | (nodes >= num_nodes)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        i = int(np.searchsorted(indptr, j, side="right") - 1)
        raise ValueError(
            f"source set {i}: source {j - int(indptr[i])}: node id {nodes[j]} is outside "
            f"0..{num_nodes - 1}; sources must be node ids of the graph"
        )
    if offsets is not None:
        if offsets.size != nodes.size:
            raise ValueError(
                f"got {offsets.size} start offsets for {nodes.size} sources; give one offset "
                "per source"
            )
        bad = ~(np.isfinite(offsets) & (offsets >= 0))
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            i = int(np.searchsorted(indptr, j, side="right") - 1)
            raise ValueError(
                f"source set {i}: source {j - int(indptr[i])}: start offset {offsets[j]} s is "
                "invalid; offsets must be finite and >= 0"
            )


def _check_histogram_inputs(weights: np.ndarray, edges: np.ndarray) -> None:
    """Band-edge and weight checks for the Numba path (Rust checks the same)."""
    if edges.size < 2:
        raise ValueError("band edges need at least two values, e.g. [0, 600, 1200]")
    if edges[0] != 0.0:
        raise ValueError(
            f"the first band edge must be 0 s (got {edges[0]}); bands start at the office"
        )
    bad = ~(np.isfinite(edges[1:]) & (edges[1:] > edges[:-1]))
    if bad.any():
        i = int(np.flatnonzero(bad)[0]) + 1
        raise ValueError(
            f"band edge {i} ({edges[i]} s) must be finite and greater than the previous edge "
            f"({edges[i - 1]} s)"
        )
    bad = ~(np.isfinite(weights) & (weights >= 0))
    if bad.any():
        node, col = (int(x[0]) for x in np.nonzero(bad))
        raise ValueError(
            f"weight at node {node}, column {col} is {weights[node, col]}; weights must be "
            "finite and >= 0"
        )


def _offsets_or_zeros(offsets: np.ndarray | None, n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.float64) if offsets is None else offsets


def _inf(cutoff: float | None) -> float:
    return np.inf if cutoff is None else cutoff
