"""Coverage matrices by public transport + walking (``hexaccess optimise --mode transit``).

:func:`transit_coverage_matrix` fills a :class:`~hexaccess.optimise.matrix.CoverageMatrix`
from a :class:`~hexaccess.study.transit.TransitAccess` whose offices are the candidate
sites. Candidate ``k``'s column holds, for every cell, **the study's percentile (default
the median) over the departure window of the travel time to candidate k alone**: one
backward profile connection scan towards that single office
(:func:`hexaccess.transit.route.build_profiles`), then the window statistics of every
cell (``TransitProfiles.evaluate_cells``), exactly as ``hexaccess run --mode transit``
with that one office computes ``time_s``. A cell is in the column when that percentile is
at most the cutoff (inclusive) and the study reaches it (its percentile within its
``max_time_s``, 3 h, and its median journey finding the office: the study's rule, which
matters for a percentile below the median); ``distance_m``
is the straight-line distance from the cell centre to the candidate (a transit journey
has no single road length, as in the study's ``distance_m``), so ``--threshold-km`` means
straight-line km by transit.

Semantics of an evaluated network (a documented approximation)
--------------------------------------------------------------
The optimiser scores a network by each cell's *minimum over the chosen offices of the
per-candidate percentiles*. The percentile of the time to the nearest of several offices
(what ``hexaccess run --mode transit`` reports for those offices, per departure the best
office, then the percentile over the window) is not in general that minimum: with
``t_k(d)`` the time to office ``k`` at departure ``d``,
``P(min_k t_k) <= min_k P(t_k)`` (the percentile is monotone and ``min_k t_k <= t_j`` at
every departure), with equality when one office is the fastest at every departure. So the
matrix's figures of a network are **never better** than the exact window statistic; they
can be worse for cells served by different offices at different departures (measured on a
hand-made feed in ``tests/optimise/test_transit_matrix.py``). ``hexaccess optimise
--mode transit`` therefore computes summary.json's accessibility figures and bands.csv of
the chosen network with the exact transit study (the same as ``hexaccess run --mode
transit`` with the chosen offices); ``summary.json`` -> ``optimisation`` holds the
matrix's (approximate) figures.

The candidates' searches run one after the other from Python; each search and each
evaluation is parallel over stops/cells in the Rust core (rayon), and the result does
not depend on the number of threads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hexaccess.errors import InputError, ScenarioError
from hexaccess.graph import Progress
from hexaccess.optimise.build import _cell_table, candidate_frame
from hexaccess.optimise.matrix import DEFAULT_CUTOFF_S, CoverageMatrix, _time_unit

__all__ = ["is_transit_access", "transit_coverage_matrix", "transit_matrix_arrays"]


def is_transit_access(access: Any) -> bool:
    """Whether ``access`` is a transit study (a
    :class:`~hexaccess.study.transit.TransitAccess`), not an engine graph."""
    from hexaccess.study.transit import TransitAccess

    return isinstance(access, TransitAccess)


def transit_matrix_arrays(
    access: Any,
    cutoff_s: float,
    unit: float,
    threads: int | None = None,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """The CSR arrays (indptr, cell, time units, distance) of the transit matrix of
    ``access`` (see the module doc) and the measured work (searches' seconds, profile
    entries, connections scanned)."""
    from hexaccess.transit.route import build_profiles, office_targets, walk_only, walking_legs

    p, w = access.profile, access.window
    walk = {"walk_kmh": p.walk_speed_kmh, "detour": p.detour_factor}
    # The cutoff is inclusive like the road matrix's; times are whole seconds, so the
    # floor keeps every time <= cutoff_s. Beyond the study's max_time_s a cell is
    # unreachable in the study, so it is unserved here too. The study also calls a cell
    # unreachable when its *median* journey finds no office within max_time_s: for a
    # percentile >= 50 that follows from the percentile being within the cutoff (the
    # median is no longer), so the search can stop at the cutoff (a shorter horizon);
    # below the median the median's limit must stay the study's.
    cut = math.floor(cutoff_s)
    max_time_s = min(cut, access.max_time_s) if w.percentile >= 50 else access.max_time_s
    n_dep = -(-w.window_min * 60 // p.step_s)
    first = w.first_departure_s
    last = first + max(n_dep - 1, 0) * p.step_s
    # Walking legs from the cells to the stops do not depend on the candidate: once.
    ptr, leg_stop, leg_walk = walking_legs(
        access.cell_xy, access.stop_xy, max_walk_m=p.max_access_m, **walk
    )
    leg_walk = leg_walk + np.int32(p.boarding_slack_s)
    # As the study: walking alone is allowed as far as the time limit reaches.
    wo_max_m = max_time_s * p.walk_speed_kmh / 3.6 / p.detour_factor
    pct = np.array([w.percentile], dtype=np.float64)
    n = len(access.office_xy)
    indptr = np.zeros(n + 1, dtype=np.int64)
    cells: list[np.ndarray] = []
    times: list[np.ndarray] = []
    dists: list[np.ndarray] = []
    work = {"search_seconds": 0.0, "evaluate_seconds": 0.0, "profile_entries": 0, "scanned": 0}
    for k in range(n):
        one = access.office_xy[k : k + 1]
        t0 = time.perf_counter()
        targets = office_targets(access.stop_xy, one, max_walk_m=p.max_access_m, **walk)
        wo_s, wo_office = walk_only(access.cell_xy, one, max_walk_m=wo_max_m, **walk)
        profiles = build_profiles(
            access.timetable,
            targets,
            first_departure_s=first,
            horizon_s=last + max_time_s,
            max_transfers=p.max_transfers,
            threads=threads,
        )
        t1 = time.perf_counter()
        try:
            _, _, pcs, office, _, _, _ = profiles.evaluate_cells(
                ptr, leg_stop, leg_walk, wo_s, wo_office, int(first), int(n_dep),
                step_s=int(p.step_s), max_time_s=max_time_s, percentiles=pct, threads=threads,
            )  # fmt: skip
        except ValueError as e:
            raise InputError(f"transit routing (candidate {k}): {e}") from None
        work["search_seconds"] += t1 - t0
        work["evaluate_seconds"] += time.perf_counter() - t1
        work["profile_entries"] += int(profiles.num_entries)
        work["scanned"] += int(profiles.scanned)
        t = np.asarray(pcs[:, 0], dtype=np.float64)
        # ascending cells; office -1: no median journey within max_time_s (the study's rule)
        keep = np.flatnonzero(np.isfinite(t) & (t <= cutoff_s) & (np.asarray(office) >= 0))
        cells.append(keep.astype(np.int32))
        times.append(np.floor(t[keep] / unit).astype(np.uint16))
        dists.append(np.hypot(*(access.cell_xy[keep] - one[0]).T).astype(np.float32))
        indptr[k + 1] = indptr[k] + keep.size
        if progress is not None:
            progress(k + 1, n)
    cat = np.concatenate
    empty = (np.zeros(0, np.int32), np.zeros(0, np.uint16), np.zeros(0, np.float32))
    return (
        indptr,
        cat(cells) if cells else empty[0],
        cat(times) if times else empty[1],
        cat(dists) if dists else empty[2],
        work,
    )


def transit_coverage_matrix(
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
) -> CoverageMatrix:
    """The coverage matrix of a :class:`~hexaccess.study.transit.TransitAccess` whose
    offices are the candidate sites: per candidate, the study's percentile over the
    departure window of the time to that candidate alone (the module doc says what a
    network's figures from it mean). ``meta`` records ``mode = "transit"``, the
    ``transit`` settings (percentile, window, feeds, profile; as summary.json's) and
    the provenance (``inputs`` hashed, or ``provenance_info`` as given)."""
    from hexaccess.study.provenance import provenance

    if client is not None:
        raise ScenarioError(
            "--scheduler (Dask) computes road and hexagon matrices only; a --mode transit "
            "matrix is computed on this machine: drop --scheduler"
        )
    cutoff_s = float(cutoff_s)
    unit = _time_unit(cutoff_s, time_unit_s)
    t0 = time.perf_counter()
    indptr, cell, tm, dist, work = transit_matrix_arrays(access, cutoff_s, unit, threads, progress)
    seconds = time.perf_counter() - t0
    pop = access.population
    cols = tuple(columns or access.columns)
    settings = access.settings()
    n = len(access.office_xy)
    meta = {
        "profile": access.profile.name,
        "mode": "transit",
        "terminal_time_s": 0.0,
        "resolution": pop.resolution,
        "build_seconds": seconds,
        "transit": {
            **{k: settings[k] for k in ("time_statistic", "time_percentile", "departure")},
            **{k: settings[k] for k in ("window_min", "window", "step_s", "departures")},
            **{k: settings[k] for k in ("service_date", "feeds", "transit_profile")},
            "max_time_min": access.max_time_s / 60.0,
            "entries": "per candidate: the percentile over the window of the time to that "
            "candidate alone; a network's matrix figures use the minimum over its offices "
            "of these (never below the exact percentile of the nearest office's time)",
            "distance": "straight line from the cell centre to the candidate (m)",
            "seconds_per_candidate": seconds / max(n, 1),
            **work,
        },
        "provenance": provenance(inputs or {}) if provenance_info is None else provenance_info,
    }
    matrix = CoverageMatrix(
        indptr, cell, tm, dist, candidate_frame(access.offices), _cell_table(pop, cols),
        cols, cutoff_s, unit, meta,
    )  # fmt: skip
    if log is not None:
        log(
            f"transit coverage matrix ({settings['time_statistic']} over "
            f"{settings['window']}): {matrix.num_candidates} candidates × "
            f"{matrix.num_cells:,} cells, {matrix.nnz:,} entries within {cutoff_s / 60:g} min, "
            f"{matrix.memory_bytes / 2**20:.1f} MiB, {seconds:.1f} s "
            f"({seconds / max(n, 1):.3f} s per candidate)"
        )
    return matrix
