"""Evaluating many office networks at once from a coverage matrix: the band histogram
of each (population per band of minutes to its nearest chosen site), in parallel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess import _engine
from hexaccess.errors import InputError
from hexaccess.optimise.matrix import CoverageMatrix
from hexaccess.optimise.problem import check_distances

__all__ = ["NetworkEvaluation", "evaluate_networks"]


@dataclass(frozen=True)
class NetworkEvaluation:
    """Band histograms of many office networks evaluated from a coverage matrix.

    ``counts[k, b]`` is the population of network ``k`` whose nearest chosen candidate is
    reached in ``[edges_min[b], edges_min[b+1])`` minutes; ``beyond_cutoff[k]`` the
    population with no chosen candidate within the matrix cutoff (unknown time, not a
    band). ``time_sum``/``distance_sum`` are population-weighted sums (seconds, metres)
    over the served population.
    """

    edges_min: npt.NDArray[np.float64]
    counts: npt.NDArray[np.float64]
    beyond_cutoff: npt.NDArray[np.float64]
    time_sum: npt.NDArray[np.float64]
    distance_sum: npt.NDArray[np.float64]
    total: float

    def __len__(self) -> int:
        """Number of networks evaluated."""
        return self.counts.shape[0]

    def served(self) -> npt.NDArray[np.float64]:
        """Population within the cutoff, per network."""
        return self.counts.sum(axis=1)

    def mean_time_min(self) -> npt.NDArray[np.float64]:
        """Mean time (minutes) of the served population, per network."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.time_sum / self.served() / 60.0

    def mean_distance_km(self) -> npt.NDArray[np.float64]:
        """Mean distance (km) of the fastest trips of the served population, per network."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.distance_sum / self.served() / 1000.0

    def share_within(self, minutes: float) -> npt.NDArray[np.float64]:
        """Share (0..1) of all people with a time ``< minutes`` (a band edge), per network."""
        idx = np.flatnonzero(np.isclose(self.edges_min, minutes))
        if idx.size == 0:
            raise InputError(f"{minutes} min is not a band edge ({self.edges_min.tolist()})")
        return self.counts[:, : idx[0]].sum(axis=1) / self.total

    def to_frame(self, k: int) -> pd.DataFrame:
        """Band table of network ``k`` (``bands.csv`` columns; shares of all people)."""
        pop = self.counts[k]
        share = pop / self.total * 100.0
        return pd.DataFrame(
            {
                "band_start_min": self.edges_min[:-1],
                "band_end_min": self.edges_min[1:],
                "population": pop,
                "share_pct": share,
                "cumulative_pct": np.cumsum(share),
            }
        )


def _network_members(
    networks: Sequence[npt.ArrayLike] | npt.ArrayLike, num_candidates: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Networks as CSR ``(nptr, members)``; members must be whole candidate indices (a
    boolean mask is refused: give ``np.flatnonzero(mask)``)."""
    if isinstance(networks, np.ndarray) and networks.ndim == 1:
        networks = networks[:, None]  # one single-site network per entry
    sets = []
    for k, net in enumerate(networks):  # type: ignore[arg-type]
        arr = np.atleast_1d(np.asarray(net))
        whole = np.issubdtype(arr.dtype, np.integer) or (
            np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr) & (arr % 1 == 0))
        )
        if arr.ndim != 1 or (arr.size and not whole):
            shown = arr.ravel()[:10].tolist()
            raise InputError(f"networks[{k}] must list whole candidate indices, got {shown!r}")
        ids = arr.astype(np.int64)
        bad = np.flatnonzero((ids < 0) | (ids >= num_candidates))
        if bad.size:
            q = int(bad[0])
            raise InputError(
                f"networks[{k}][{q}] = {ids[q]} is not a candidate index (0..{num_candidates - 1})"
            )
        sets.append(ids)
    nptr = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum([s.size for s in sets], out=nptr[1:])
    return nptr, np.concatenate(sets) if sets else np.zeros(0, np.int64)


def evaluate_networks(
    matrix: CoverageMatrix,
    networks: Sequence[npt.ArrayLike] | npt.ArrayLike,
    *,
    column: str | None = None,
    band_minutes: float = 10.0,
    threads: int | None = None,
    backend: str = "auto",
) -> NetworkEvaluation:
    """Band histograms of many networks (each a list of candidate indices) from the matrix.

    Per network: the minimum over its candidates per cell, then the population-weighted
    band histogram; networks run in parallel (Numba ``prange``). Bands of ``band_minutes``
    up to the cutoff; people beyond it are reported in ``beyond_cutoff``. ``backend``:
    ``'auto'`` (Rust when importable), ``'rust'`` or ``'numba'``; results are identical.
    ``networks``: a 2-D integer array (one network per row), a 1-D one (one single-site
    network per entry) or a sequence of index lists (as the source sets of
    :meth:`hexaccess.Graph.iter_band_histograms`).
    """
    from hexaccess.optimise import _kernels as K

    engine = _engine.resolve(backend)
    if not (np.isfinite(band_minutes) and band_minutes > 0):
        raise InputError(f"band_minutes must be a finite number > 0, got {band_minutes}")
    nptr, members = _network_members(networks, matrix.num_candidates)
    w = matrix.weights(column)
    check_distances(matrix)  # a NaN distance would make every mean distance NaN
    cutoff_min = matrix.cutoff_s / 60.0
    edges = np.arange(0.0, cutoff_min + band_minutes * 0.5, band_minutes)
    if edges[-1] < cutoff_min:
        edges = np.append(edges, cutoff_min)
    # Band of each stored time: band b holds units in [edge_units[b], edge_units[b+1]);
    # the cutoff itself (inclusive in the search) falls in the last band.
    edge_units = np.ceil(edges * 60.0 / matrix.time_unit_s - 1e-9).astype(np.int64)
    lut = np.searchsorted(edge_units, np.arange(matrix.cutoff_units + 1), side="right") - 1
    lut = np.clip(lut, 0, edges.size - 2).astype(np.int64)
    bc = matrix.by_cell()
    arrays = (
        np.ascontiguousarray(bc.indptr, dtype=np.int64),
        np.ascontiguousarray(bc.candidate, dtype=np.int32),
        np.ascontiguousarray(bc.time, dtype=np.uint16),
        np.ascontiguousarray(bc.distance_m, dtype=np.float32),
        np.ascontiguousarray(w, dtype=np.float64),
        nptr,
        members,
        lut,
        matrix.num_candidates,
    )
    if engine == "rust":
        # 64 networks per pass over the cells (rust/src/evaluate.rs): ~10x the Numba
        # kernel, and bit-identical to it (tests/test_coverage.py).
        counts, beyond, tsum, dsum = _engine.rust_core().evaluate_networks(*arrays, threads=threads)
    else:
        if threads is not None:
            import numba

            old = numba.get_num_threads()
            numba.set_num_threads(threads)
        try:
            counts, beyond, tsum, dsum = K.evaluate_by_cell(*arrays)
        finally:
            if threads is not None:
                numba.set_num_threads(old)
    return NetworkEvaluation(edges, counts, beyond, tsum * matrix.time_unit_s, dsum, float(w.sum()))
