"""Building a :class:`~hexaccess.optimise.matrix.CoverageMatrix` from a study, and the
candidate sites it is built for (a table of offices, or the centres of H3 cells)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hexaccess.errors import InputError
from hexaccess.graph import Progress
from hexaccess.optimise.matrix import DEFAULT_CUTOFF_S, CoverageMatrix, _time_unit

__all__ = ["candidate_frame", "candidates_from_cells", "coverage_matrix"]

_CANDIDATE_COLUMNS = ("name", "municipality", "lon", "lat", "fixed")


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
    from hexaccess.h3 import cell_centers, cell_to_str
    from hexaccess.population import cell_to_parent

    if not 0 <= int(resolution) <= population.resolution:
        raise InputError(
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
        raise InputError(
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


def _cell_table(population: Any, columns: tuple[str, ...]) -> pd.DataFrame:
    """The matrix's cell table: ``h3``, ``municipality`` when known, the population columns."""
    from hexaccess.h3 import cell_to_str

    cells = pd.DataFrame({"h3": cell_to_str(population.cells)})
    if population.municipality is not None:
        cells["municipality"] = pd.Series(population.municipality, dtype=object).map(
            lambda v: None if v is None else str(v)
        )
    for c in columns:
        cells[c] = population.frame[c].to_numpy(dtype=np.float64)
    return cells


def _search(
    access: Any, cutoff_s: float, unit: float, threads: int | None, progress: Progress | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The matrix arrays (indptr, cell, time units, distance) from one batch search of
    every candidate on this machine."""
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
    return (
        np.asarray(batch.indptr, dtype=np.int64),
        cell.astype(np.int32),
        np.floor(batch.time_s / unit).astype(np.uint16),
        batch.length_m.astype(np.float32),
    )


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
    client: Any = None,
    block_size: int | None = None,
    out: Any = None,
) -> CoverageMatrix:
    """Compute the coverage matrix of an :class:`~hexaccess.accessibility.AccessGraph`
    whose *offices* are the candidate sites (fixed sites included).

    A :class:`~hexaccess.study.transit.TransitAccess` (``Study.transit_access``) gives
    the transit matrix of :func:`hexaccess.optimise.transit.transit_coverage_matrix`
    (per candidate, the window percentile of the time to it alone).

    One single-source search per candidate (start offset = terminal time), cut off at
    ``cutoff_s`` (inclusive), kept only at cell nodes. ``inputs`` (role → path) are recorded
    with their SHA-256 in ``meta["provenance"]``, unless the caller has already computed
    that record (:func:`hexaccess.study.provenance.provenance`) and passes it as
    ``provenance_info``; ``log`` receives a one-line time/memory report.

    ``client`` (a ``distributed.Client``, e.g. from
    :func:`hexaccess.distributed.connect`): the searches run as Dask tasks in blocks of
    ``block_size`` candidates (default: eight blocks per worker slot, within the workers'
    memory), with the same result bit for bit (:mod:`hexaccess.distributed.matrix`).
    ``out``: with ``client``, the matrix output being staged
    (:func:`~hexaccess.optimise.cache.prepare_matrix_output`); the workers write each
    block into it as one file of the partitioned ``entries/`` dataset, and
    :func:`~hexaccess.optimise.cache.commit_matrix` then publishes them.
    """
    # --- transit (issue #12): a transit study's matrix is of window percentiles
    from hexaccess.optimise.transit import is_transit_access, transit_coverage_matrix

    if is_transit_access(access):
        return transit_coverage_matrix(
            access, cutoff_s=cutoff_s, time_unit_s=time_unit_s, columns=columns,
            threads=threads, progress=progress, inputs=inputs, log=log,
            provenance_info=provenance_info, client=client,
        )  # fmt: skip
    # --- end transit
    from hexaccess.study.provenance import provenance

    cutoff_s = float(cutoff_s)
    unit = _time_unit(cutoff_s, time_unit_s)
    t0 = time.perf_counter()
    # --- distributed (issue #13): the same searches in candidate blocks on Dask workers
    if client is not None:
        from hexaccess.distributed.matrix import search_blocks

        staged = search_blocks(
            access, client, cutoff_s=cutoff_s, unit=unit, threads=threads, progress=progress,
            block_size=block_size, staging=None if out is None else out.staging,
        )  # fmt: skip
        arrays = (staged.indptr, staged.cell, staged.time, staged.distance_m)
    else:
        arrays = _search(access, cutoff_s, unit, threads, progress)
    # --- end distributed
    pop = access.population
    cols = tuple(columns or pop.columns)
    cells = _cell_table(pop, cols)
    seconds = time.perf_counter() - t0
    meta = {
        "profile": access.profile.name,
        "mode": access.profile.mode,
        "terminal_time_s": access.profile.terminal_time_s,
        "resolution": pop.resolution,
        "build_seconds": seconds,
        "provenance": provenance(inputs or {}) if provenance_info is None else provenance_info,
    }
    if client is not None and staged.blocks is not None:  # distributed: the parts written
        meta["entry_blocks"] = staged.blocks
    matrix = CoverageMatrix(
        *arrays,
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
