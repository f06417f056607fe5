"""Scenario sweeps on Dask: many office networks evaluated over a coverage matrix whose
cells are partitioned across the workers, and the coverage curve's office counts solved
as separate tasks.

Band histograms add up over cells: each partition (:meth:`CoverageMatrix.cell_slice`)
gives, per network, the people in each band, beyond the cutoff, and the weighted time and
distance sums of its cells, and the driver adds the partitions in order. With whole
numbers of people (the census counts, the synthetic countries) every band count, the
people beyond the cutoff and the time sum (people x whole time units) are integers below
2^53, which float64 adds exactly in any order: they are bit-identical to the
single-machine :func:`hexaccess.optimise.evaluate_networks`. The distance sum (people x
float32 metres) is not an integer; it matches to rounding (relative 1e-12). Fractional
populations (areal apportionment) match to rounding as well.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.errors import InputError
from hexaccess.optimise.evaluate import NetworkEvaluation, _network_members
from hexaccess.optimise.evaluate import evaluate_networks as _evaluate_here
from hexaccess.optimise.matrix import CoverageMatrix
from hexaccess.optimise.problem import check_distances

__all__ = ["MatrixPartitions", "cell_ranges", "coverage_curve", "evaluate_networks"]


def cell_ranges(matrix: CoverageMatrix, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous cell ranges holding about the same number of entries (the
    evaluation's work is per entry), none empty."""
    n = matrix.num_cells
    parts = max(1, min(int(parts), n))
    per_cell = np.bincount(matrix.cell, minlength=n).astype(np.int64) + 1  # +1: no 0-width
    cum = np.cumsum(per_cell)
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, parts) / parts, side="left") + 1
    bounds = np.unique(np.concatenate([[0], np.clip(cuts, 1, n - 1), [n]]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


def _slots(client: Any) -> int:
    """Task slots of the cluster (one partition each by default)."""
    workers = client.scheduler_info()["workers"].values()
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers))


def _load_part(src: str, start: int, stop: int) -> CoverageMatrix:
    """The Dask task of :meth:`MatrixPartitions.from_saved`: cells ``start..stop-1`` of
    the saved matrix, filtered while reading (a worker never holds the whole matrix)."""
    import pyarrow.dataset as ds

    from hexaccess.optimise.cache import _check_parts, _matrix_files, _settings

    files = _matrix_files(Path(src))
    meta = _settings(files)
    paths = [files["entries"]] if files["entries"].is_file() else _check_parts(Path(src), meta)
    data = ds.dataset([str(p) for p in paths], format="parquet")
    table = data.to_table(filter=(ds.field("cell") >= start) & (ds.field("cell") < stop))
    cand = table.column("candidate").to_numpy().astype(np.int64)
    order = np.argsort(cand, kind="stable")  # CSR by candidate (files may come in any order)
    candidates = pd.read_parquet(files["candidates"])
    indptr = np.zeros(len(candidates) + 1, dtype=np.int64)
    np.cumsum(np.bincount(cand, minlength=len(candidates)), out=indptr[1:])
    cells = pd.read_parquet(files["cells"]).iloc[start:stop].reset_index(drop=True)
    return CoverageMatrix(
        indptr,
        (table.column("cell").to_numpy()[order] - start).astype(np.int32),
        table.column("time").to_numpy()[order].astype(np.uint16),
        table.column("distance_m").to_numpy()[order].astype(np.float32),
        candidates,
        cells,
        tuple(meta["population_columns"]),
        float(meta["cutoff_s"]),
        float(meta["time_unit_s"]),
        {},
    )


@dataclass(frozen=True)
class _Networks:
    """Networks as CSR (``members[nptr[k]:nptr[k+1]]`` is network ``k``)."""

    nptr: npt.NDArray[np.int64]
    members: npt.NDArray[np.int64]


def _evaluate_part(part: CoverageMatrix, networks: _Networks, kw: dict[str, Any]) -> Any:
    """The Dask task: one partition's histograms (the single-machine kernel, unchanged)."""
    p, m = networks.nptr, networks.members
    return _evaluate_here(part, [m[p[k] : p[k + 1]] for k in range(p.size - 1)], **kw)


class MatrixPartitions:
    """A coverage matrix split by cells across the workers of a Dask ``client``, kept
    there for many :meth:`evaluate` calls (scenario sweeps).

    ``partitions`` (default: one per worker slot) are contiguous cell ranges of about equal
    entries (:func:`cell_ranges`), scattered once. ``matrix`` stays on the driver only for
    its candidate table and weights (the checks and the population total).
    """

    def __init__(
        self, matrix: CoverageMatrix, client: Any, *, partitions: int | None = None
    ) -> None:
        check_distances(matrix)  # a NaN distance would make every mean distance NaN
        self.matrix = matrix
        self.client = client
        self.ranges = cell_ranges(matrix, partitions or _slots(client))
        parts = [matrix.cell_slice(a, b) for a, b in self.ranges]
        # Spread over the workers (not broadcast): each holds its share of the cells.
        self._parts = client.scatter(parts, hash=False)

    @classmethod
    def from_saved(
        cls, path: str | Path, client: Any, *, partitions: int | None = None
    ) -> MatrixPartitions:
        """Partitions read by the workers themselves from a saved matrix (a directory
        they can see, e.g. on a shared file system; checked against its manifest first):
        the driver holds only the cell and candidate tables, so the matrix may be larger
        than any one machine. Cell ranges are of equal cell counts."""
        from hexaccess.optimise.cache import MATRIX_KIND, _matrix_files, _settings
        from hexaccess.outputs import verify_output

        src = Path(path)
        files = _matrix_files(src)
        verify_output(src, kind=MATRIX_KIND)
        meta = _settings(files)
        shell = CoverageMatrix(  # the tables and settings, no entries
            np.zeros(len(pd.read_parquet(files["candidates"])) + 1, dtype=np.int64),
            np.zeros(0, np.int32),
            np.zeros(0, np.uint16),
            np.zeros(0, np.float32),
            pd.read_parquet(files["candidates"]),
            pd.read_parquet(files["cells"]),
            tuple(meta["population_columns"]),
            float(meta["cutoff_s"]),
            float(meta["time_unit_s"]),
            {},
        )
        n = max(1, min(partitions or _slots(client), shell.num_cells))
        bounds = np.unique(np.linspace(0, shell.num_cells, n + 1).round().astype(np.int64))
        self = cls.__new__(cls)
        self.matrix, self.client = shell, client
        self.ranges = [(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        self._parts = [
            client.submit(_load_part, str(src), a, b, pure=False) for a, b in self.ranges
        ]
        return self

    def __len__(self) -> int:
        """Number of cell partitions."""
        return len(self.ranges)

    def evaluate(
        self,
        networks: Sequence[npt.ArrayLike] | npt.ArrayLike,
        *,
        column: str | None = None,
        band_minutes: float = 10.0,
        threads: int | None = None,
        backend: str = "auto",
    ) -> NetworkEvaluation:
        """As :func:`hexaccess.optimise.evaluate_networks` (same arguments and result),
        each partition on its worker, the partitions' histograms summed in order."""
        nptr, members = _network_members(networks, self.matrix.num_candidates)
        w = self.matrix.weights(column)  # every cell checked here, once
        if not (np.isfinite(band_minutes) and band_minutes > 0):
            raise InputError(f"band_minutes must be a finite number > 0, got {band_minutes}")
        kw = {
            "column": column,
            "band_minutes": band_minutes,
            "threads": threads,
            "backend": backend,
        }
        # A partition without people adds exactly zero to every sum (distances are
        # finite, checked above); its own weight check would refuse it, so it is skipped.
        live = [f for f, (a, b) in zip(self._parts, self.ranges, strict=True) if w[a:b].sum() > 0]
        # One object (a list would be scattered element by element): sent once per worker.
        shared = self.client.scatter(_Networks(nptr, members), broadcast=True, hash=False)
        try:
            results = self.client.gather(
                [self.client.submit(_evaluate_part, f, shared, kw, pure=False) for f in live]
            )
        finally:
            shared.release()
        return _sum(results, float(w.sum()))

    def close(self) -> None:
        """Release the partitions from the workers."""
        for f in self._parts:
            f.release()
        self._parts = []


def _sum(results: list[NetworkEvaluation], total: float) -> NetworkEvaluation:
    """The partitions' evaluations added up, in partition order."""
    first = results[0]
    acc = [np.array(getattr(first, k), copy=True) for k in _SUMMED]
    for r in results[1:]:
        for a, k in zip(acc, _SUMMED, strict=True):
            a += getattr(r, k)
    return NetworkEvaluation(first.edges_min, *acc, total)


_SUMMED = ("counts", "beyond_cutoff", "time_sum", "distance_sum")


def evaluate_networks(
    matrix: CoverageMatrix,
    networks: Sequence[npt.ArrayLike] | npt.ArrayLike,
    client: Any,
    *,
    partitions: int | None = None,
    **kw: Any,
) -> NetworkEvaluation:
    """One sweep: :class:`MatrixPartitions` built, evaluated once and released (for many
    sweeps over one matrix keep a :class:`MatrixPartitions`)."""
    parts = MatrixPartitions(matrix, client, partitions=partitions)
    try:
        return parts.evaluate(networks, **kw)
    finally:
        parts.close()


def _curve_row(matrix: CoverageMatrix, total: int, kw: dict[str, Any]) -> dict[str, Any]:
    """The Dask task: one office count of the curve (the single-machine function)."""
    from hexaccess.optimise.curve import coverage_curve as curve_here

    return curve_here(matrix, [total], **kw).to_dict("records")[0]


def coverage_curve(
    matrix: CoverageMatrix, totals: Sequence[int], client: Any, **kw: Any
) -> pd.DataFrame:
    """:func:`hexaccess.optimise.coverage_curve` with each office count solved as one Dask
    task on a copy of the matrix sent to every worker once: the rows are the
    single-machine rows (each count is solved independently, deterministically), in the
    order of ``totals``. Bad totals are refused here first, all named."""
    from hexaccess.optimise.curve import check_totals
    from hexaccess.optimise.problem import Constraints

    check_totals(matrix, list(totals), kw.get("constraints") or Constraints())
    shared = client.scatter(matrix, broadcast=True, hash=False)
    try:
        futures = [client.submit(_curve_row, shared, int(n), kw, pure=False) for n in totals]
        rows = client.gather(futures)
    finally:
        shared.release()
    return pd.DataFrame(rows)
