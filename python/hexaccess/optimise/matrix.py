"""Coverage matrix: travel time from every candidate office site to every populated cell.

A national optimisation evaluates thousands of candidate networks; re-running road searches
for each is wasteful. Instead one single-source search per candidate site (run in parallel
by the Rust engine, up to a cutoff, default 120 minutes) fills a sparse matrix that the
solvers of :mod:`hexaccess.optimise` and :func:`~hexaccess.optimise.evaluate_networks`
reuse. :func:`~hexaccess.optimise.coverage_matrix` builds one from a study.

Storage (CSR by candidate; :meth:`CoverageMatrix.by_cell` gives the transpose):

* ``indptr`` (int64, ``candidates + 1``), ``cell`` (int32, ascending within a candidate);
* ``time`` (uint16) = ``floor(time_s / time_unit_s)``. The default unit is **1 second**
  (enough for cutoffs up to 18.2 h; a longer cutoff picks a coarser unit automatically).
  Flooring keeps band membership exact: ``time_s < T`` ⟺ ``time < T / time_unit_s`` for any
  ``T`` that is a multiple of the unit, so coverage "within 60 minutes" matches
  :meth:`hexaccess.BandHistogram.share_within` exactly. Mean times computed from the
  matrix are biased down by less than one unit (on average half a unit);
* ``distance_m`` (float32): length of that fastest trip (float32: ~1 m at 100 km).

Times are home → office and include the profile's terminal time, exactly as
:func:`hexaccess.accessibility.solve` computes them. Entries beyond the cutoff are absent:
such cells are *unserved* by that candidate. 10 bytes per entry: 1,000 candidates × 90,000
cells fully within reach would take 0.9 GB.

Saved as a directory of three Parquet files (``entries.parquet``, ``cells.parquet``,
``candidates.parquet``) and a ``manifest.json`` (see :mod:`hexaccess.optimise.cache`); the
settings (cutoff, unit, profile, input checksums) are JSON in the Parquet key-value
metadata under ``hexaccess``. A matrix computed on Dask (``client=``) stores its entries
as a partitioned dataset instead, ``entries/part-NNNNN.parquet`` (one file per block of
candidates); :meth:`CoverageMatrix.load` reads either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess import defaults
from hexaccess.errors import InputError, UnknownNameError

__all__ = [
    "DEFAULT_CUTOFF_S",
    "FORMAT_VERSION",
    "ByCell",
    "CoverageMatrix",
    "default_time_unit",
]

#: Default cutoff of a coverage matrix (seconds): 120 minutes.
DEFAULT_CUTOFF_S = defaults.CUTOFF_MINUTES * 60.0
#: Largest stored time value of the uint16 encoding.
_U16_MAX = np.iinfo(np.uint16).max
#: Format version written into the metadata (bump on incompatible changes).
FORMAT_VERSION = 1


def default_time_unit(cutoff_s: float) -> float:
    """The finest whole-second unit whose uint16 range holds ``cutoff_s`` (1 s up to 18.2 h)."""
    return float(max(1.0, np.ceil(cutoff_s / (_U16_MAX - 1))))


def _time_unit(cutoff_s: float, time_unit_s: float | None) -> float:
    """``time_unit_s`` (default: :func:`default_time_unit`) after checking that the cutoff
    is finite and > 0 and that uint16 values of the unit hold it (so no stored time wraps)."""
    cutoff_s = float(cutoff_s)
    if not (np.isfinite(cutoff_s) and cutoff_s > 0):
        raise InputError(f"cutoff must be a finite number of seconds > 0, got {cutoff_s}")
    unit = default_time_unit(cutoff_s) if time_unit_s is None else float(time_unit_s)
    if not unit > 0 or cutoff_s / unit > _U16_MAX:
        raise InputError(
            f"time unit {unit} s cannot hold the cutoff {cutoff_s} s in uint16; use a unit of "
            f"at least {default_time_unit(cutoff_s)} s"
        )
    return unit


@dataclass(frozen=True)
class ByCell:
    """The transpose of a coverage matrix: candidates reaching cell ``i`` are
    ``candidate[indptr[i]:indptr[i+1]]``, sorted by ascending time (ties: lower candidate)."""

    indptr: npt.NDArray[np.int64]
    candidate: npt.NDArray[np.int32]
    time: npt.NDArray[np.uint16]
    distance_m: npt.NDArray[np.float32]


@dataclass(frozen=True)
class CoverageMatrix:
    """Sparse candidate × cell travel times within a cutoff (see the module docstring).

    ``candidates`` has one row per candidate site (``name, municipality, lon, lat, fixed``
    and any extra columns, e.g. ``region``); ``cells`` one row per populated cell (``h3``,
    optional ``municipality``, and the population columns). ``meta`` records how the matrix
    was made (cutoff, unit, profile, inputs with checksums, build time).
    """

    indptr: npt.NDArray[np.int64]
    cell: npt.NDArray[np.int32]
    time: npt.NDArray[np.uint16]
    distance_m: npt.NDArray[np.float32]
    candidates: pd.DataFrame
    cells: pd.DataFrame
    population_columns: tuple[str, ...]
    cutoff_s: float
    time_unit_s: float
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Check, once, what the solvers and kernels rely on (every constructor ends here)."""
        _time_unit(self.cutoff_s, self.time_unit_s)
        self._check_csr()
        missing = [c for c in ("name", "lon", "lat") if c not in self.candidates.columns]
        if missing:
            raise InputError(f"candidates lack column(s) {missing}; they need name, lon, lat")
        missing = [c for c in self.population_columns if c not in self.cells.columns]
        if not self.population_columns or missing:
            raise InputError(
                f"population column(s) {missing or '(none given)'} not among the cells' "
                f"columns {list(self.cells.columns)}"
            )

    def _check_csr(self) -> None:
        """The CSR arrays: shapes, a non-decreasing ``indptr``, cells and times in range."""
        n, ptr = len(self.candidates), self.indptr
        if ptr.shape != (n + 1,) or ptr[0] != 0:
            raise InputError(f"indptr must have {n + 1} entries (candidates + 1) starting at 0")
        drop = np.flatnonzero(np.diff(ptr) < 0)
        if drop.size:
            k = int(drop[0])
            raise InputError(
                f"indptr must be non-decreasing; indptr[{k + 1}] = {ptr[k + 1]} is below "
                f"indptr[{k}] = {ptr[k]}"
            )
        nnz = int(ptr[-1])
        for name in ("cell", "time", "distance_m"):
            if getattr(self, name).shape != (nnz,):
                raise InputError(f"{name} must have {nnz} entries (indptr[-1])")
        if nnz and (self.cell.min() < 0 or self.cell.max() >= len(self.cells)):
            raise InputError(f"cell indices outside 0..{len(self.cells) - 1} (the cells' rows)")
        if nnz and (self.time.min() < 0 or self.time.max() > self.cutoff_units):
            raise InputError(
                f"stored times must be within 0..{self.cutoff_units} (the cutoff "
                f"{self.cutoff_s:g} s in units of {self.time_unit_s:g} s); got "
                f"{self.time.min()}..{self.time.max()}"
            )

    @classmethod
    def from_dense(
        cls,
        time_s: npt.ArrayLike,
        population: npt.ArrayLike,
        *,
        distance_m: npt.ArrayLike | None = None,
        cutoff_s: float = DEFAULT_CUTOFF_S,
        time_unit_s: float | None = None,
        candidates: pd.DataFrame | None = None,
        column: str = "total",
    ) -> CoverageMatrix:
        """A matrix from a dense ``(candidates, cells)`` time array (``inf`` = unreached),
        e.g. from another tool or for tests; entries above ``cutoff_s`` are dropped."""
        t = np.asarray(time_s, dtype=np.float64)
        if t.ndim != 2:
            raise InputError(f"time_s must be (candidates, cells), got shape {t.shape}")
        bad = np.isnan(t) | (t < 0)
        if bad.any():
            j, i = (int(x[0]) for x in np.nonzero(bad))
            raise InputError(
                f"time_s[{j}, {i}] is {t[j, i]}; times must be >= 0 seconds (inf = unreached)"
            )
        m, n = t.shape
        d = np.zeros_like(t) if distance_m is None else np.asarray(distance_m, np.float64)
        w = np.asarray(population, dtype=np.float64)
        for name, arr, shape in (("distance_m", d, t.shape), ("population", w, (n,))):
            if arr.shape != shape:
                raise InputError(f"{name} has shape {arr.shape}; time_s needs {shape}")
        if candidates is not None and len(candidates) != m:
            raise InputError(f"candidates has {len(candidates)} rows; time_s has {m}")
        unit = _time_unit(cutoff_s, time_unit_s)
        keep = t <= cutoff_s
        rows, cols = np.nonzero(keep)  # row-major: sorted by candidate, then cell
        indptr = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(keep.sum(axis=1), out=indptr[1:])
        if candidates is None:
            candidates = pd.DataFrame(
                {
                    "name": [f"c{j}" for j in range(m)],
                    "municipality": None,
                    "lon": 0.0,
                    "lat": 0.0,
                    "fixed": False,
                }
            )
        cells = pd.DataFrame({"h3": [f"cell{i}" for i in range(n)]})
        cells[column] = w
        return cls(
            indptr,
            cols.astype(np.int32),
            np.floor(t[rows, cols] / unit).astype(np.uint16),
            d[rows, cols].astype(np.float32),
            candidates.reset_index(drop=True),
            cells,
            (column,),
            float(cutoff_s),
            unit,
            {},
        )

    # ------------------------------------------------------------------ shape
    @property
    def num_candidates(self) -> int:
        """Number of candidate sites (rows of ``candidates``)."""
        return len(self.candidates)

    @property
    def num_cells(self) -> int:
        """Number of populated cells (rows of ``cells``)."""
        return len(self.cells)

    @property
    def nnz(self) -> int:
        """Number of stored (candidate, cell) pairs."""
        return int(self.indptr[-1])

    @property
    def cutoff_units(self) -> int:
        """The cutoff in stored time units (stored times never exceed it)."""
        return int(np.floor(self.cutoff_s / self.time_unit_s))

    @property
    def memory_bytes(self) -> int:
        """Bytes of the CSR arrays (the transpose, once built, doubles this)."""
        arrays = [self.indptr, self.cell, self.time, self.distance_m]
        # As before the split: the transpose is cached as "_by_cell", so this test is never
        # true and the figure counts the CSR arrays only (left so reports stay the same).
        if "by_cell" in self.__dict__:
            b = self.by_cell()
            arrays += [b.indptr, b.candidate, b.time, b.distance_m]
        return int(sum(a.nbytes for a in arrays))

    def weights(self, column: str | None = None) -> npt.NDArray[np.float64]:
        """Population of each cell in ``column`` (default: the first population column);
        refuses NaN, infinite or negative values and an all-zero population."""
        column = column or self.population_columns[0]
        if column not in self.population_columns:
            raise UnknownNameError(
                f"unknown population column {column!r}; the matrix has {self.population_columns}"
            )
        w = self.cells[column].to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)))
        if bad.size:
            i = int(bad[0])
            where = f" ({self.cells['h3'].iloc[i]})" if "h3" in self.cells.columns else ""
            raise InputError(
                f"population column {column!r}: cell {i}{where} holds {w[i]}; populations "
                "must be finite and >= 0"
            )
        if not w.sum() > 0:
            raise InputError(
                f"population column {column!r} is 0 in every cell: no mean time or share "
                "exists; choose another column"
            )
        return w

    def time_s(self) -> npt.NDArray[np.float64]:
        """Stored times in seconds (floored to the unit), one per entry."""
        return self.time.astype(np.float64) * self.time_unit_s

    def candidate_index(self, names: Sequence[str]) -> npt.NDArray[np.int64]:
        """Indices of candidates by name (unknown name: :class:`UnknownNameError`, also a
        ``KeyError``, naming it)."""
        lookup = {str(n): i for i, n in enumerate(self.candidates["name"])}
        missing = [n for n in names if str(n) not in lookup]
        if missing:
            raise UnknownNameError(
                f"unknown candidate name(s): {missing[:10]}; the matrix's candidates are "
                "listed in its candidates['name']"
            )
        return np.array([lookup[str(n)] for n in names], dtype=np.int64)

    def column(self, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cells, times in units, distances) reached by candidate ``j``."""
        r = slice(int(self.indptr[j]), int(self.indptr[j + 1]))
        return self.cell[r], self.time[r], self.distance_m[r]

    def dense_time_s(self) -> npt.NDArray[np.float64]:
        """``(candidates, cells)`` times in seconds, ``inf`` beyond the cutoff (small
        instances and tests only)."""
        out = np.full((self.num_candidates, self.num_cells), np.inf)
        rows = np.repeat(np.arange(self.num_candidates), np.diff(self.indptr))
        out[rows, self.cell] = self.time_s()
        return out

    def by_cell(self) -> ByCell:
        """The transpose (CSR by cell, each row sorted by time); built once and cached."""
        return self._by_cell

    @cached_property
    def _by_cell(self) -> ByCell:
        # Imported here: the Numba kernels are compiled (or loaded) only when needed.
        from hexaccess.optimise import _kernels as K

        # Each row sorted by (time, candidate): the solvers and the network evaluation
        # scan a cell's candidates nearest first and stop at the first that qualifies.
        indptr, cand, _, pos = K.transpose_sorted(
            self.indptr, self.cell.astype(np.int64), self.time, self.num_cells
        )
        return ByCell(indptr, cand.astype(np.int32), self.time[pos], self.distance_m[pos])

    def subset_candidates(self, index: npt.ArrayLike) -> CoverageMatrix:
        """A matrix over a subset of the candidates (in the order given)."""
        idx = np.asarray(index, dtype=np.int64)
        starts, stops = self.indptr[idx], self.indptr[idx + 1]
        take = (
            np.concatenate([np.arange(a, b) for a, b in zip(starts, stops, strict=True)])
            if idx.size
            else np.zeros(0, np.int64)
        )
        indptr = np.zeros(idx.size + 1, dtype=np.int64)
        np.cumsum(stops - starts, out=indptr[1:])
        return CoverageMatrix(
            indptr,
            self.cell[take],
            self.time[take],
            self.distance_m[take],
            self.candidates.iloc[idx].reset_index(drop=True),
            self.cells,
            self.population_columns,
            self.cutoff_s,
            self.time_unit_s,
            dict(self.meta),
        )

    # --- distributed sweeps (issue #13): one partition of the cells
    def cell_slice(self, start: int, stop: int) -> CoverageMatrix:
        """The matrix over cells ``start..stop-1`` only (renumbered from 0; every candidate
        kept): a partition of :class:`hexaccess.distributed.MatrixPartitions`, whose band
        histograms add up to the whole matrix's."""
        if not 0 <= int(start) <= int(stop) <= self.num_cells:
            raise InputError(
                f"cell range {start}..{stop} is not within 0..{self.num_cells} (the cells)"
            )
        keep = (self.cell >= start) & (self.cell < stop)
        rows = np.repeat(np.arange(self.num_candidates), np.diff(self.indptr))[keep]
        indptr = np.zeros(self.num_candidates + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.num_candidates), out=indptr[1:])
        return CoverageMatrix(
            indptr,
            (self.cell[keep] - int(start)).astype(np.int32),
            self.time[keep],
            self.distance_m[keep],
            self.candidates,
            self.cells.iloc[int(start) : int(stop)].reset_index(drop=True),
            self.population_columns,
            self.cutoff_s,
            self.time_unit_s,
            dict(self.meta),
        )

    # --- end distributed sweeps
    def __repr__(self) -> str:
        return (
            f"CoverageMatrix({self.num_candidates} candidates × {self.num_cells} cells, "
            f"{self.nnz:,} entries within {self.cutoff_s / 60:g} min, "
            f"{self.memory_bytes / 2**20:.1f} MiB)"
        )

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the matrix to directory ``path`` through :mod:`hexaccess.outputs` (three
        Parquet files and a manifest, replaced in one step; see
        :func:`hexaccess.optimise.cache.save_matrix`).

        An earlier coverage matrix there (or an empty directory) is replaced; a directory
        holding other files is refused with :class:`~hexaccess.errors.OutputError` unless
        ``overwrite``.
        """
        from hexaccess.optimise.cache import save_matrix

        return save_matrix(self, path, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path, *, verify: bool = True) -> CoverageMatrix:
        """Read a matrix written by :meth:`save`; errors name the directory or file.

        With ``verify`` (the default) every file is first checked against the manifest
        (:func:`hexaccess.outputs.verify_output`): a changed, truncated or swapped file
        raises :class:`~hexaccess.errors.CorruptOutputError`. ``verify=False`` reads a
        matrix saved before manifests existed.
        """
        from hexaccess.optimise.cache import load_matrix

        return load_matrix(path, verify=verify)[0]
