"""Coverage matrix: travel time from every candidate office site to every populated cell.

A national optimisation evaluates thousands of candidate networks; re-running road searches
for each is wasteful. Instead one single-source search per candidate site (run in parallel
by the Rust engine, up to a cutoff, default 120 minutes) fills a sparse matrix that the
solvers of :mod:`hexaccess.optimise` and :func:`evaluate_networks` reuse.

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
``candidates.parquet``); the settings (cutoff, unit, profile, input checksums) are JSON in
the Parquet key-value metadata under ``hexaccess``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess import _backend
from hexaccess.graph import Progress

#: Default cutoff of a coverage matrix (seconds): 120 minutes.
DEFAULT_CUTOFF_S = 7200.0
#: Largest stored time value of the uint16 encoding.
_U16_MAX = np.iinfo(np.uint16).max
#: Format version written into the metadata (bump on incompatible changes).
FORMAT_VERSION = 1
_CANDIDATE_COLUMNS = ("name", "municipality", "lon", "lat", "fixed")
#: Metadata keys :meth:`CoverageMatrix.save` derives from the matrix (not kept in ``meta``).
_SAVED_SETTINGS = frozenset(
    {"format_version", "cutoff_s", "time_unit_s", "time_encoding", "population_columns",
     "num_candidates", "num_cells", "nnz"}
)  # fmt: skip


def default_time_unit(cutoff_s: float) -> float:
    """The finest whole-second unit whose uint16 range holds ``cutoff_s`` (1 s up to 18.2 h)."""
    return float(max(1.0, np.ceil(cutoff_s / (_U16_MAX - 1))))


def _time_unit(cutoff_s: float, time_unit_s: float | None) -> float:
    """``time_unit_s`` (default: :func:`default_time_unit`) after checking that the cutoff
    is finite and > 0 and that uint16 values of the unit hold it (so no stored time wraps)."""
    cutoff_s = float(cutoff_s)
    if not (np.isfinite(cutoff_s) and cutoff_s > 0):
        raise ValueError(f"cutoff must be a finite number of seconds > 0, got {cutoff_s}")
    unit = default_time_unit(cutoff_s) if time_unit_s is None else float(time_unit_s)
    if not unit > 0 or cutoff_s / unit > _U16_MAX:
        raise ValueError(
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
        n, ptr = len(self.candidates), self.indptr
        if ptr.shape != (n + 1,) or ptr[0] != 0:
            raise ValueError(f"indptr must have {n + 1} entries (candidates + 1) starting at 0")
        drop = np.flatnonzero(np.diff(ptr) < 0)
        if drop.size:
            k = int(drop[0])
            raise ValueError(
                f"indptr must be non-decreasing; indptr[{k + 1}] = {ptr[k + 1]} is below "
                f"indptr[{k}] = {ptr[k]}"
            )
        nnz = int(ptr[-1])
        for name in ("cell", "time", "distance_m"):
            if getattr(self, name).shape != (nnz,):
                raise ValueError(f"{name} must have {nnz} entries (indptr[-1])")
        if nnz and (self.cell.min() < 0 or self.cell.max() >= len(self.cells)):
            raise ValueError(f"cell indices outside 0..{len(self.cells) - 1} (the cells' rows)")
        if nnz and (self.time.min() < 0 or self.time.max() > self.cutoff_units):
            raise ValueError(
                f"stored times must be within 0..{self.cutoff_units} (the cutoff "
                f"{self.cutoff_s:g} s in units of {self.time_unit_s:g} s); got "
                f"{self.time.min()}..{self.time.max()}"
            )
        missing = [c for c in ("name", "lon", "lat") if c not in self.candidates.columns]
        if missing:
            raise ValueError(f"candidates lack column(s) {missing}; they need name, lon, lat")
        missing = [c for c in self.population_columns if c not in self.cells.columns]
        if not self.population_columns or missing:
            raise ValueError(
                f"population column(s) {missing or '(none given)'} not among the cells' "
                f"columns {list(self.cells.columns)}"
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
            raise ValueError(f"time_s must be (candidates, cells), got shape {t.shape}")
        bad = np.isnan(t) | (t < 0)
        if bad.any():
            j, i = (int(x[0]) for x in np.nonzero(bad))
            raise ValueError(
                f"time_s[{j}, {i}] is {t[j, i]}; times must be >= 0 seconds (inf = unreached)"
            )
        m, n = t.shape
        d = np.zeros_like(t) if distance_m is None else np.asarray(distance_m, np.float64)
        w = np.asarray(population, dtype=np.float64)
        for name, arr, shape in (("distance_m", d, t.shape), ("population", w, (n,))):
            if arr.shape != shape:
                raise ValueError(f"{name} has shape {arr.shape}; time_s needs {shape}")
        if candidates is not None and len(candidates) != m:
            raise ValueError(f"candidates has {len(candidates)} rows; time_s has {m}")
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
        return len(self.candidates)

    @property
    def num_cells(self) -> int:
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
        if "by_cell" in self.__dict__:
            b = self.by_cell()
            arrays += [b.indptr, b.candidate, b.time, b.distance_m]
        return int(sum(a.nbytes for a in arrays))

    def weights(self, column: str | None = None) -> npt.NDArray[np.float64]:
        """Population of each cell in ``column`` (default: the first population column);
        refuses NaN, infinite or negative values and an all-zero population."""
        column = column or self.population_columns[0]
        if column not in self.population_columns:
            raise KeyError(
                f"unknown population column {column!r}; the matrix has {self.population_columns}"
            )
        w = self.cells[column].to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)))
        if bad.size:
            i = int(bad[0])
            where = f" ({self.cells['h3'].iloc[i]})" if "h3" in self.cells.columns else ""
            raise ValueError(
                f"population column {column!r}: cell {i}{where} holds {w[i]}; populations "
                "must be finite and >= 0"
            )
        if not w.sum() > 0:
            raise ValueError(
                f"population column {column!r} is 0 in every cell: no mean time or share "
                "exists; choose another column"
            )
        return w

    def time_s(self) -> npt.NDArray[np.float64]:
        """Stored times in seconds (floored to the unit), one per entry."""
        return self.time.astype(np.float64) * self.time_unit_s

    def candidate_index(self, names: Sequence[str]) -> npt.NDArray[np.int64]:
        """Indices of candidates by name (unknown name: ``KeyError`` naming it)."""
        lookup = {str(n): i for i, n in enumerate(self.candidates["name"])}
        missing = [n for n in names if str(n) not in lookup]
        if missing:
            raise KeyError(f"unknown candidate name(s): {missing[:10]}")
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
        from hexaccess import _optimise_kernels as K

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

    def __repr__(self) -> str:
        return (
            f"CoverageMatrix({self.num_candidates} candidates × {self.num_cells} cells, "
            f"{self.nnz:,} entries within {self.cutoff_s / 60:g} min, "
            f"{self.memory_bytes / 2**20:.1f} MiB)"
        )

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write the matrix to directory ``path`` (three Parquet files, see module doc)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        meta = {
            **self.meta,
            "format_version": FORMAT_VERSION,
            "cutoff_s": self.cutoff_s,
            "time_unit_s": self.time_unit_s,
            "time_encoding": "uint16 floor(time_s / time_unit_s)",
            "population_columns": list(self.population_columns),
            "num_candidates": self.num_candidates,
            "num_cells": self.num_cells,
            "nnz": self.nnz,
        }
        kv = {b"hexaccess": json.dumps(meta, default=str).encode()}
        rows = np.repeat(np.arange(self.num_candidates, dtype=np.int32), np.diff(self.indptr))
        entries = pa.table(
            {
                "candidate": rows,
                "cell": self.cell,
                "time": self.time,
                "distance_m": self.distance_m,
            }
        )
        pq.write_table(entries.replace_schema_metadata(kv), out / "entries.parquet")
        for name, frame in (("cells", self.cells), ("candidates", self.candidates)):
            table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
            pq.write_table(
                table.replace_schema_metadata({**(table.schema.metadata or {}), **kv}),
                out / f"{name}.parquet",
            )
        return out

    @classmethod
    def load(cls, path: str | Path) -> CoverageMatrix:
        """Read a matrix written by :meth:`save`; errors name the directory or file."""
        import pyarrow.parquet as pq

        src = Path(path)
        files = {name: src / f"{name}.parquet" for name in ("entries", "candidates", "cells")}
        missing = [f.name for f in files.values() if not f.exists()]
        if missing:
            raise FileNotFoundError(
                f"{src}: not a coverage matrix (no {', '.join(missing)}); remove the directory "
                "or point at one written by CoverageMatrix.save"
            )
        table = pq.read_table(files["entries"])
        raw = (table.schema.metadata or {}).get(b"hexaccess")
        if raw is None:
            raise ValueError(
                f"{files['entries']}: no 'hexaccess' metadata (not written by "
                "CoverageMatrix.save); recompute the matrix"
            )
        meta = json.loads(raw)
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{files['entries']}: coverage matrix format {meta.get('format_version')}, "
                f"this hexaccess reads {FORMAT_VERSION}; recompute the matrix"
            )
        lacking = [k for k in ("cutoff_s", "time_unit_s", "population_columns") if k not in meta]
        if lacking:
            raise ValueError(f"{files['entries']}: metadata lacks {lacking}; recompute the matrix")
        cand = table.column("candidate").to_numpy()
        candidates = pd.read_parquet(files["candidates"])
        cells = pd.read_parquet(files["cells"])
        if cand.size and (cand.min() < 0 or cand.max() >= len(candidates)):
            raise ValueError(
                f"{files['entries']}: candidate indices outside 0..{len(candidates) - 1} "
                f"({files['candidates']} has {len(candidates)} rows)"
            )
        if cand.size and np.any(np.diff(cand) < 0):
            raise ValueError(f"{files['entries']}: entries are not sorted by candidate")
        indptr = np.zeros(len(candidates) + 1, dtype=np.int64)
        np.cumsum(np.bincount(cand, minlength=len(candidates)), out=indptr[1:])
        try:
            return cls(
                indptr,
                table.column("cell").to_numpy().astype(np.int32),
                table.column("time").to_numpy().astype(np.uint16),
                table.column("distance_m").to_numpy().astype(np.float32),
                candidates,
                cells,
                tuple(meta["population_columns"]),
                float(meta["cutoff_s"]),
                float(meta["time_unit_s"]),
                {k: v for k, v in meta.items() if k not in _SAVED_SETTINGS},
            )
        except ValueError as exc:
            raise ValueError(f"{src}: {exc}") from None


def candidate_frame(offices: Any) -> pd.DataFrame:
    """The candidate table of a matrix from an :class:`hexaccess.offices.Offices`:
    ``name, municipality, lon, lat, fixed`` first, then the other columns."""
    frame = offices.frame.reset_index(drop=True)
    first = [c for c in _CANDIDATE_COLUMNS if c in frame.columns]
    out = frame[first + [c for c in frame.columns if c not in first]].copy()
    # Parquet cannot store mixed object columns reliably; keep strings as strings.
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: None if v is None else str(v))
    return out


def candidates_from_cells(
    population: Any, resolution: int, min_population: float = 0.0, column: str | None = None
) -> pd.DataFrame:
    """Candidate sites at the centre of every H3 cell at ``resolution`` (coarser than or
    equal to the population grid's) holding at least ``min_population`` people.

    Columns ``name`` (the cell's hex id), ``municipality`` (the one with most people among
    its population cells, when known), ``lon``, ``lat``, ``fixed`` (False), ``population``.
    """
    from hexaccess.h3cells import cell_centers, cell_to_str
    from hexaccess.population import cell_to_parent

    if not 0 <= int(resolution) <= population.resolution:
        raise ValueError(
            f"candidate cells need a resolution in 0..{population.resolution} (the population "
            f"grid's resolution or coarser), got {resolution}"
        )
    column = column or population.columns[0]
    people = population.frame[column].to_numpy(dtype=float)
    parent = cell_to_parent(population.cells, int(resolution))
    frame = pd.DataFrame({"cell": parent, "people": people})
    if population.municipality is not None:
        frame["municipality"] = population.municipality
    total = frame.groupby("cell", sort=True)["people"].sum()
    keep = total[total >= min_population]
    if keep.empty:
        raise ValueError(
            f"no H3 cell at resolution {resolution} holds {min_population:g} people or more"
        )
    cells = keep.index.to_numpy(dtype=np.uint64)
    lat, lng = cell_centers(cells)
    out = pd.DataFrame(
        {
            "name": cell_to_str(cells),
            "lon": lng,
            "lat": lat,
            "fixed": False,
            "population": keep.to_numpy(),
        }
    )
    if "municipality" in frame.columns:
        by = frame[frame["cell"].isin(keep.index)].groupby(["cell", "municipality"])["people"]
        best = by.sum().reset_index().sort_values(["cell", "people"], ascending=[True, False])
        first = best.drop_duplicates("cell").set_index("cell")["municipality"]
        out.insert(1, "municipality", first.reindex(cells).to_numpy())
    return out


def coverage_matrix(
    access: Any,
    *,
    cutoff_s: float = DEFAULT_CUTOFF_S,
    time_unit_s: float | None = None,
    columns: Sequence[str] | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
    inputs: dict[str, str | Path | None] | None = None,
    log: Callable[[str], Any] | None = None,
    provenance_info: dict[str, Any] | None = None,
) -> CoverageMatrix:
    """Compute the coverage matrix of an :class:`~hexaccess.accessibility.AccessGraph`
    whose *offices* are the candidate sites (fixed sites included).

    One single-source search per candidate (start offset = terminal time), cut off at
    ``cutoff_s`` (inclusive), kept only at cell nodes. ``inputs`` (role → path) are recorded
    with their SHA-256 in ``meta["provenance"]``, unless the caller has already computed
    that record (:func:`hexaccess.accessibility.provenance`) and passes it as
    ``provenance_info``; ``log`` receives a one-line time/memory report.
    """
    from hexaccess.accessibility import provenance
    from hexaccess.h3cells import cell_to_str

    cutoff_s = float(cutoff_s)
    unit = _time_unit(cutoff_s, time_unit_s)
    t0 = time.perf_counter()
    sources = np.asarray(access.office_node, dtype=np.int64)
    batch = access.graph.nearest_batch(
        sources,
        offsets_s=access.office_offsets(),
        cutoff_s=cutoff_s,
        targets=access.cell_node,
        threads=threads,
        progress=progress,
    )
    # Map graph node ids back to cell indices (cell nodes need not be contiguous).
    node_to_cell = np.full(access.graph.num_nodes, -1, dtype=np.int64)
    node_to_cell[access.cell_node] = np.arange(len(access.cell_node))
    cell = node_to_cell[batch.node]
    if np.any(cell < 0):  # pragma: no cover - the engine honours targets
        raise RuntimeError("the batch returned non-cell nodes despite targets")
    time_units = np.floor(batch.time_s / unit).astype(np.uint16)
    pop = access.population
    cols = tuple(columns or pop.columns)
    cells = pd.DataFrame({"h3": cell_to_str(pop.cells)})
    if pop.municipality is not None:
        cells["municipality"] = pd.Series(pop.municipality, dtype=object).map(
            lambda v: None if v is None else str(v)
        )
    for c in cols:
        cells[c] = pop.frame[c].to_numpy(dtype=np.float64)
    seconds = time.perf_counter() - t0
    meta = {
        "profile": access.profile.name,
        "mode": access.profile.mode,
        "terminal_time_s": access.profile.terminal_time_s,
        "resolution": pop.resolution,
        "build_seconds": seconds,
        "provenance": provenance(inputs or {}) if provenance_info is None else provenance_info,
    }
    matrix = CoverageMatrix(
        np.asarray(batch.indptr, dtype=np.int64),
        cell.astype(np.int32),
        time_units,
        batch.length_m.astype(np.float32),
        candidate_frame(access.offices),
        cells,
        cols,
        cutoff_s,
        unit,
        meta,
    )
    if log is not None:
        log(
            f"coverage matrix: {matrix.num_candidates} candidates × {matrix.num_cells:,} cells, "
            f"{matrix.nnz:,} entries within {cutoff_s / 60:g} min, "
            f"{matrix.memory_bytes / 2**20:.1f} MiB, {seconds:.1f} s"
        )
    return matrix


# ---------------------------------------------------------------------- evaluation
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
        return self.counts.shape[0]

    def served(self) -> npt.NDArray[np.float64]:
        """Population within the cutoff, per network."""
        return self.counts.sum(axis=1)

    def mean_time_min(self) -> npt.NDArray[np.float64]:
        """Mean time (minutes) of the served population, per network."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.time_sum / self.served() / 60.0

    def mean_distance_km(self) -> npt.NDArray[np.float64]:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.distance_sum / self.served() / 1000.0

    def share_within(self, minutes: float) -> npt.NDArray[np.float64]:
        """Share (0..1) of all people with a time ``< minutes`` (a band edge), per network."""
        idx = np.flatnonzero(np.isclose(self.edges_min, minutes))
        if idx.size == 0:
            raise ValueError(f"{minutes} min is not a band edge ({self.edges_min.tolist()})")
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
            raise ValueError(f"networks[{k}] must list whole candidate indices, got {shown!r}")
        ids = arr.astype(np.int64)
        bad = np.flatnonzero((ids < 0) | (ids >= num_candidates))
        if bad.size:
            q = int(bad[0])
            raise ValueError(
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
    from hexaccess import _optimise_kernels as K

    engine = _backend.resolve(backend)
    if not (np.isfinite(band_minutes) and band_minutes > 0):
        raise ValueError(f"band_minutes must be a finite number > 0, got {band_minutes}")
    nptr, members = _network_members(networks, matrix.num_candidates)
    w = matrix.weights(column)
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
        counts, beyond, tsum, dsum = _backend.rust().evaluate_networks(*arrays, threads=threads)
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
