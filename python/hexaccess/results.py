"""Result types of the engine: per-node search results, batches and band histograms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.errors import EngineInputError, UnknownNameError

#: ``source`` value of nodes no source reached (their time and length are ``inf``).
UNREACHED = -1

#: Columns of ``bands.csv``, in order: a contract of ``hexaccess run`` (and of the band
#: tables of ``hexaccess report`` and scenario files) that other tools rely on.
BANDS_COLUMNS = ["band_start_min", "band_end_min", "population", "share_pct", "cumulative_pct"]

#: Default band edges: 10-minute bands up to 3 hours (the 2020 study's table), in seconds.
#: Times of 180 minutes or more fall in the overflow bin.
DEFAULT_BAND_EDGES_S: npt.NDArray[np.float64] = np.arange(0.0, 181.0, 10.0) * 60.0


@dataclass(frozen=True)
class NearestResult:
    """Per-node result of one multi-source search.

    ``time_s[v]`` is the travel time from the nearest source, ``source[v]`` that source's
    index in the ``sources`` you passed, and ``length_m[v]`` the length of that fastest
    path (the shortest among equally fast ones). Unreached nodes (disconnected, or beyond
    the cutoff) have ``time_s = length_m = inf`` and ``source = -1``.
    """

    time_s: npt.NDArray[np.float64]
    source: npt.NDArray[np.int32]
    length_m: npt.NDArray[np.float64]

    @property
    def reached(self) -> npt.NDArray[np.bool_]:
        """Boolean mask of nodes that some source reached."""
        return self.source >= 0

    @property
    def num_unreached(self) -> int:
        """Number of nodes no source reached."""
        return int(np.count_nonzero(self.source < 0))

    def to_frame(self) -> pd.DataFrame:
        """One row per node: ``time_s, source, length_m, reached``."""
        return pd.DataFrame(
            {
                "time_s": self.time_s,
                "source": self.source,
                "length_m": self.length_m,
                "reached": self.reached,
            }
        )


@dataclass(frozen=True)
class SparseSearch:
    """Reached nodes of one search of a batch, ascending by node id."""

    node: npt.NDArray[np.int64]
    time_s: npt.NDArray[np.float64]
    length_m: npt.NDArray[np.float64]
    source: npt.NDArray[np.int32]


@dataclass(frozen=True)
class BatchResult:
    """Results of ``S`` independent searches, stored sparse in CSR form.

    Search ``i`` reached ``node[indptr[i]:indptr[i+1]]`` (ascending), with the matching
    ``time_s``, ``length_m`` and ``source`` (index within search ``i``'s source set).
    Nodes not listed were not reached (or were not among the requested targets).
    """

    indptr: npt.NDArray[np.int64]
    node: npt.NDArray[np.int64]
    time_s: npt.NDArray[np.float64]
    length_m: npt.NDArray[np.float64]
    source: npt.NDArray[np.int32]
    num_nodes: int

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def __getitem__(self, i: int) -> SparseSearch:
        if not -len(self) <= i < len(self):
            raise IndexError(f"search {i} out of range for a batch of {len(self)}")
        i %= len(self)
        r = slice(int(self.indptr[i]), int(self.indptr[i + 1]))
        return SparseSearch(self.node[r], self.time_s[r], self.length_m[r], self.source[r])

    @property
    def nnz(self) -> int:
        """Total number of (search, node) pairs stored."""
        return int(self.indptr[-1])

    def to_dense(self) -> NearestResultBatch:
        """Dense ``(S, num_nodes)`` arrays (``inf`` / ``-1`` where unreached)."""
        s = len(self)
        rows = np.repeat(np.arange(s), np.diff(self.indptr))
        time = np.full((s, self.num_nodes), np.inf)
        length = np.full((s, self.num_nodes), np.inf)
        source = np.full((s, self.num_nodes), UNREACHED, dtype=np.int32)
        time[rows, self.node] = self.time_s
        length[rows, self.node] = self.length_m
        source[rows, self.node] = self.source
        return NearestResultBatch(time, source, length)


@dataclass(frozen=True)
class NearestResultBatch:
    """Dense per-node results of a batch: arrays of shape ``(S, num_nodes)``."""

    time_s: npt.NDArray[np.float64]
    source: npt.NDArray[np.int32]
    length_m: npt.NDArray[np.float64]


@dataclass(frozen=True)
class BandHistogram:
    """Weighted travel-time histogram of one search.

    ``counts[j, c]`` is the weight (e.g. people) of column ``c`` whose time lies in
    ``[edges_s[j], edges_s[j+1])``; the last row holds times ``>= edges_s[-1]``.
    ``unreachable[c]`` is the weight of nodes no source reached; ``time_sum`` and
    ``length_sum`` are ``sum(weight * time)`` and ``sum(weight * length)`` over reached
    nodes, from which means follow without any per-node array.
    """

    edges_s: npt.NDArray[np.float64]
    counts: npt.NDArray[np.float64]
    unreachable: npt.NDArray[np.float64]
    time_sum: npt.NDArray[np.float64]
    length_sum: npt.NDArray[np.float64]
    columns: Sequence[str] = field(default_factory=lambda: ["weight"])

    @classmethod
    def from_nodes(
        cls,
        result: NearestResult,
        weights: npt.NDArray[np.float64],
        edges_s: npt.NDArray[np.float64],
        columns: Sequence[str],
    ) -> BandHistogram:
        """The histogram of a finished search, binned from its per-node results.

        Bit-identical to the engine's own histogram of the same search (the Rust and
        Numba ``band_histograms``): ``np.bincount`` adds weights one node at a time in
        ascending node order, which is exactly the engine's summation order. Inputs must
        already be checked (``Graph`` does that).
        """
        reached = result.reached
        bins = edges_s.size
        band = np.searchsorted(edges_s, result.time_s[reached], side="right") - 1
        one_bin = np.zeros(int(reached.sum()), dtype=np.intp)
        unreached_bin = np.zeros(int((~reached).sum()), dtype=np.intp)
        counts = np.empty((bins, weights.shape[1]))
        unreachable = np.empty(weights.shape[1])
        time_sum = np.empty(weights.shape[1])
        length_sum = np.empty(weights.shape[1])
        for c in range(weights.shape[1]):
            w = weights[reached, c]
            counts[:, c] = np.bincount(band, weights=w, minlength=bins)
            time_sum[c] = np.bincount(one_bin, w * result.time_s[reached], minlength=1)[0]
            length_sum[c] = np.bincount(one_bin, w * result.length_m[reached], minlength=1)[0]
            unreachable[c] = np.bincount(unreached_bin, weights[~reached, c], minlength=1)[0]
        return cls(edges_s, counts, unreachable, time_sum, length_sum, list(columns))

    def _col(self, column: str | int) -> int:
        if isinstance(column, int):
            if not 0 <= column < len(self.columns):
                raise IndexError(f"column {column} out of range ({len(self.columns)} columns)")
            return column
        try:
            return list(self.columns).index(column)
        except ValueError:
            raise UnknownNameError(
                f"unknown weight column {column!r}; this histogram has {list(self.columns)}"
            ) from None

    def total(self, column: str | int = 0) -> float:
        """All weight of the column, reached or not."""
        c = self._col(column)
        return float(self.counts[:, c].sum() + self.unreachable[c])

    def reached_total(self, column: str | int = 0) -> float:
        """Weight of the column that some source reached."""
        return float(self.counts[:, self._col(column)].sum())

    def mean_time_s(self, column: str | int = 0) -> float:
        """Weighted mean time over reached weight (``nan`` if nothing was reached)."""
        c = self._col(column)
        reached = self.counts[:, c].sum()
        return float(self.time_sum[c] / reached) if reached > 0 else float("nan")

    def mean_length_m(self, column: str | int = 0) -> float:
        """Weighted mean path length over reached weight (``nan`` if nothing was reached)."""
        c = self._col(column)
        reached = self.counts[:, c].sum()
        return float(self.length_sum[c] / reached) if reached > 0 else float("nan")

    def share_within(self, seconds: float, column: str | int = 0) -> float:
        """Share (0..1) of *all* weight with time ``< seconds``; ``seconds`` must be a
        band edge, since only whole bands are known."""
        c = self._col(column)
        idx = np.flatnonzero(self.edges_s == seconds)
        if idx.size == 0:
            raise EngineInputError(
                f"{seconds} s is not a band edge ({self.edges_s.tolist()}); compute the "
                "histogram with that edge, or use per-node results"
            )
        total = self.total(c)
        return float(self.counts[: idx[0], c].sum() / total) if total > 0 else float("nan")

    def to_frame(self, column: str | int = 0) -> pd.DataFrame:
        """The band table: ``band_start_min, band_end_min, population, share_pct,
        cumulative_pct``. Shares are of all weight, unreachable included; the overflow
        band ends at ``inf``; unreachable weight is not a band (see ``unreachable``)."""
        c = self._col(column)
        start = self.edges_s / 60.0
        end = np.append(self.edges_s[1:] / 60.0, np.inf)
        pop = self.counts[:, c]
        total = self.total(c)
        share = pop / total * 100.0 if total > 0 else np.full_like(pop, np.nan)
        return pd.DataFrame(
            {
                "band_start_min": start,
                "band_end_min": end,
                "population": pop,
                "share_pct": share,
                "cumulative_pct": np.cumsum(share),
            }
        )
