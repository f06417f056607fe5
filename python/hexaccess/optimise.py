"""Office-network optimisation on a coverage matrix: p-median, maximal coverage, set cover.

One entry point, :func:`optimise`, with three objectives:

``mean-time`` (p-median)
    Minimise the population-weighted mean travel time with exactly ``p`` offices. A cell
    with no open office within the matrix cutoff is *unserved* and counts at a penalty
    equal to the cutoff (its true time is unknown, and at least the cutoff); unserved
    people are reported separately (``unserved_population``).
``coverage`` (maximal covering)
    Maximise the population within ``T`` minutes (time ``< T``, as in the band tables)
    with exactly ``p`` offices.
``cover`` (set cover)
    The fewest offices such that at least ``cover_pct`` % of all people are within ``T``.

Constraints for all: fixed (pinned) sites, forbidden sites, at-least-one-per-region, and
for ``mean-time``/``coverage`` an optional capacity (people per office).

Solvers:

* ``heuristic``: greedy addition, then best-improvement swap local search (Teitz–Bart
  interchange evaluated with the Resende–Werneck gain/loss/extra bookkeeping, Numba
  kernels in :mod:`hexaccess._optimise_kernels`); optional random restarts seeded by
  ``seed``. Deterministic for a given seed. **With capacities the heuristic is
  approximate**: it chooses sites ignoring capacity and then assigns people to the chosen
  sites optimally under the capacities (a transportation LP solved by HiGHS), so the
  reported objective is feasible and exact *for those sites*, but other sites could do
  better — only the MIP is exact.
* ``mip``: the exact integer programme solved by HiGHS (``highspy``) within a time limit;
  reports the best bound (LP relaxation / branch-and-bound dual bound) and the gap.
* ``auto`` (default): the heuristic, then the MIP warm-started with the heuristic's
  solution when the instance fits (``mip_max_size`` pairs), to certify it with a bound.
  The better of the two solutions is returned.

MIP formulations. Uncapacitated p-median uses savings against each cell's fallback cost
``cap_i = min(cutoff, time to the nearest fixed site)``; only pairs faster than
``cap_i`` enter (a valid reduction: no other pair can ever be used):
``min Σ w_i cap_i − Σ w_i (cap_i − t_ij) z_ij`` s.t. ``Σ_j z_ij ≤ 1``, ``z_ij ≤ x_j``,
``Σ x_j = p − fixed``. Coverage and set cover aggregate cells covered by the same set of
candidates: ``y_g ≤ Σ_{j∈N_g} x_j``. With capacities: ``Σ_j z_ij + u_i = 1``,
``z_ij ≤ x_j``, ``Σ_i w_i z_ij ≤ cap_j x_j``; a cell's people may be split between
offices (no single-assignment constraint), and people left over by the capacities count
as unserved (cost = the cutoff for ``mean-time``, uncovered for ``coverage``).

Objective units: ``mean-time`` in minutes (population-weighted over *all* people, unserved
at the cutoff), ``coverage`` in people covered, ``cover`` in offices. ``gap`` is
``|objective − bound| / |objective|`` (a fraction), ``None`` when no bound is known.
Times come from the matrix, floored to its time unit (1 s by default).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess import _optimise_kernels as K
from hexaccess.coverage import CoverageMatrix

OBJECTIVES = ("mean-time", "coverage", "cover")
METHODS = ("auto", "heuristic", "mip")

__all__ = [
    "OBJECTIVES",
    "InfeasibleError",
    "OptimiseResult",
    "coverage_curve",
    "optimise",
]


class InfeasibleError(ValueError):
    """The constraints cannot be met (e.g. more fixed sites than ``p``)."""


@dataclass(frozen=True)
class CostModel:
    """A candidate × cell cost matrix for the kernels (see :mod:`_optimise_kernels`);
    ``ccand`` is the candidate of each by-candidate entry (``cptr`` expanded)."""

    cptr: npt.NDArray[np.int64]
    ccand: npt.NDArray[np.int64]
    ccell: npt.NDArray[np.int64]
    ccost: npt.NDArray[np.float64]
    rptr: npt.NDArray[np.int64]
    rcand: npt.NDArray[np.int64]
    rcost: npt.NDArray[np.float64]
    pen: npt.NDArray[np.float64]
    w: npt.NDArray[np.float64]

    @property
    def num_candidates(self) -> int:
        return self.cptr.size - 1

    def evaluate(self, is_open: npt.NDArray[np.bool_]) -> float:
        """``Σ w_i min(pen_i, min_{j open} c_ij)``."""
        d1, _, _ = K.assign(self.rptr, self.rcand, self.rcost, is_open, self.pen)
        return float(K.objective(self.w, d1))


def _within_km(matrix: CoverageMatrix, km: float) -> npt.NDArray[np.bool_]:
    """Per stored entry: is the fastest path at most ``km`` long? (float64, so the solver
    and the report agree at the boundary.)"""
    return matrix.distance_m.astype(np.float64) <= km * 1000.0


def cost_model(
    matrix: CoverageMatrix,
    kind: str,
    w: npt.NDArray[np.float64],
    threshold_units: int = 0,
    threshold_km: float | None = None,
) -> CostModel:
    """Costs of ``kind`` ``'time'`` (travel time in units, fallback = the cutoff) or
    ``'cover'`` (0 if time ``< threshold_units`` — or, with ``threshold_km``, if the
    fastest path is at most that long, :func:`_within_km` — fallback 1)."""
    n = matrix.num_cells
    rows = np.repeat(np.arange(matrix.num_candidates, dtype=np.int64), np.diff(matrix.indptr))
    t = matrix.time.astype(np.int64)
    if kind == "time":
        pen_value = float(matrix.cutoff_units)
        keep = t < matrix.cutoff_units
        cost = t[keep].astype(np.float64)
    elif kind == "cover":
        pen_value = 1.0
        keep = t < threshold_units if threshold_km is None else _within_km(matrix, threshold_km)
        cost = np.zeros(int(keep.sum()))
    else:  # pragma: no cover - internal
        raise ValueError(kind)
    cand, cell = rows[keep], matrix.cell[keep].astype(np.int64)
    cptr = np.zeros(matrix.num_candidates + 1, dtype=np.int64)
    np.cumsum(np.bincount(cand, minlength=matrix.num_candidates), out=cptr[1:])
    rptr, rcand, rcost, _ = K.transpose_sorted(cptr, cell, cost, n)
    return CostModel(
        cptr,
        cand,
        cell,
        cost,
        rptr,
        rcand,
        rcost,
        np.full(n, pen_value),
        np.ascontiguousarray(w, dtype=np.float64),
    )


@dataclass
class OptimiseResult:
    """The outcome of :func:`optimise` (see the module docstring for units).

    ``sites`` lists the chosen candidates: ``candidate`` (index), ``name, municipality,
    lon, lat, fixed, catchment_population`` (people whose nearest chosen site within the
    cutoff it is; with capacities, the people assigned to it).
    """

    objective_name: str
    objective: float
    bound: float | None
    gap: float | None
    solve_seconds: float
    method: str
    status: str
    chosen: npt.NDArray[np.int64]
    num_fixed: int
    sites: pd.DataFrame
    total_population: float
    mean_time_min: float
    unserved_population: float
    threshold_min: float | None
    covered_population: float | None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def p(self) -> int:
        return int(self.chosen.size)

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures: objective, bound, gap (fraction), solve time, counts."""
        out = {
            "objective_name": self.objective_name,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "solve_seconds": self.solve_seconds,
            "method": self.method,
            "status": self.status,
            "offices": self.p,
            "offices_fixed": self.num_fixed,
            "population_total": self.total_population,
            "matrix_mean_time_min": self.mean_time_min,
            "matrix_unserved_population": self.unserved_population,
            "threshold_min": self.threshold_min,
            "covered_population": self.covered_population,
            "covered_pct": (
                None
                if self.covered_population is None
                else 100.0 * self.covered_population / self.total_population
            ),
        }
        out.update(self.details)
        return out


# ---------------------------------------------------------------------- inputs
def _mask(
    matrix: CoverageMatrix, sel: Any, what: str, default: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.bool_]:
    """A candidate mask from None / bool mask / indices / names."""
    m = matrix.num_candidates
    if sel is None:
        return np.zeros(m, bool) if default is None else default.copy()
    arr = np.asarray(sel)
    if arr.dtype == bool:
        if arr.shape != (m,):
            raise ValueError(f"{what} mask has shape {arr.shape}; expected ({m},)")
        return arr.copy()
    out = np.zeros(m, bool)
    if arr.size == 0:
        return out
    if np.issubdtype(arr.dtype, np.integer):
        if arr.min() < 0 or arr.max() >= m:
            raise ValueError(f"{what}: candidate indices must be in 0..{m - 1}")
        out[arr] = True
        return out
    out[matrix.candidate_index([str(x) for x in arr.ravel()])] = True
    return out


def _regions(matrix: CoverageMatrix, regions: Any) -> tuple[npt.NDArray[np.int64], list[Any]]:
    """Region code per candidate (-1 = none) and the region labels."""
    if isinstance(regions, str):
        if regions not in matrix.candidates.columns:
            raise KeyError(
                f"no candidate column {regions!r} for regions; have "
                f"{list(matrix.candidates.columns)}"
            )
        regions = matrix.candidates[regions].to_numpy()
    lab = pd.Series(np.asarray(regions, dtype=object))
    if len(lab) != matrix.num_candidates:
        raise ValueError(f"{len(lab)} region labels for {matrix.num_candidates} candidates")
    codes, uniques = pd.factorize(lab, sort=True)
    return codes.astype(np.int64), list(uniques)


def _capacity(matrix: CoverageMatrix, capacity: Any) -> npt.NDArray[np.float64] | None:
    if capacity is None or capacity is False:
        return None
    if capacity is True:
        capacity = "capacity"
    if isinstance(capacity, str):
        if capacity not in matrix.candidates.columns:
            raise KeyError(f"no candidate column {capacity!r} for capacities")
        capacity = matrix.candidates[capacity].to_numpy(dtype=np.float64)
    cap = np.asarray(capacity, dtype=np.float64)
    if cap.shape != (matrix.num_candidates,):
        raise ValueError(f"capacity needs one value per candidate ({matrix.num_candidates})")
    if np.any(cap < 0):
        raise ValueError("capacities must be >= 0 (NaN = unlimited)")
    return None if np.all(np.isnan(cap)) else cap


# ---------------------------------------------------------------------- heuristic
@dataclass
class _Setup:
    fixed: npt.NDArray[np.bool_]
    allowed: npt.NDArray[np.bool_]  # may be open: not forbidden (fixed included)
    region: npt.NDArray[np.int64]  # -1 = none / rule off
    required: npt.NDArray[np.bool_]  # per region: must hold an open site
    use_regions: bool
    needed: npt.NDArray[np.bool_] = field(init=False)  # required, and no fixed site there

    def __post_init__(self) -> None:
        self.needed = self.required.copy()
        if self.use_regions:
            self.needed[self.region[self.fixed & (self.region >= 0)]] = False


def _region_count(setup: _Setup, is_open: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    if not setup.use_regions:
        return np.zeros(0, np.int64)
    r = setup.region[is_open & (setup.region >= 0)]
    return np.bincount(r, minlength=setup.required.size).astype(np.int64)


def _min_sites(setup: _Setup) -> int:
    """Fixed sites plus one per required region that no fixed site covers."""
    return int(setup.fixed.sum()) + int(setup.needed.sum())


def _greedy(
    model: CostModel, setup: _Setup, p: int, start: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.bool_]:
    """Greedy addition to ``p`` sites from the fixed sites (regions first)."""
    is_open = setup.fixed.copy() if start is None else start.copy()
    d1, _, _ = K.assign(model.rptr, model.rcand, model.rcost, is_open, model.pen)
    if setup.use_regions:
        count = _region_count(setup, is_open)
        for g in np.flatnonzero(setup.required & (count == 0)):
            eligible = setup.allowed & ~is_open & (setup.region == g)
            gains = K.add_gains(model.cptr, model.ccell, model.ccost, model.w, d1, eligible)
            j = int(np.argmax(gains))
            is_open[j] = True
            K.open_and_update(model.cptr, model.ccell, model.ccost, d1, j)
    # Lazy (CELF) greedy: a site's gain only shrinks as others open (the objective is
    # supermodular), so a stale gain is an upper bound and only the top needs refreshing.
    eligible = np.flatnonzero(setup.allowed & ~is_open)
    if int(is_open.sum()) < p and eligible.size < p - int(is_open.sum()):
        raise InfeasibleError(
            f"only {int(is_open.sum()) + eligible.size} sites can be opened (candidates "
            f"minus forbidden); asked for {p}"
        )
    if int(is_open.sum()) < p:
        mask = np.zeros(model.num_candidates, bool)
        mask[eligible] = True
        gains = K.add_gains(model.cptr, model.ccell, model.ccost, model.w, d1, mask)
        heap = [(-float(gains[j]), int(j)) for j in eligible]
        heapq.heapify(heap)
        fresh = {int(j): 0 for j in eligible}  # iteration of each stored gain
        step = 0
        while int(is_open.sum()) < p:
            _neg, j = heapq.heappop(heap)
            if fresh[j] != step:
                g = K.column_gain(model.cptr, model.ccell, model.ccost, model.w, d1, j)
                fresh[j] = step
                heapq.heappush(heap, (-g, j))
                continue
            is_open[j] = True  # ties: (gain, index) order picks the lowest index
            K.open_and_update(model.cptr, model.ccell, model.ccost, d1, j)
            step += 1
    return is_open


def _local_search(model: CostModel, setup: _Setup, is_open: npt.NDArray[np.bool_]) -> int:
    tol = 1e-9 * max(float(model.w.sum()), 1.0)
    count = _region_count(setup, is_open)
    return int(
        K.local_search(
            model.rptr,
            model.rcand,
            model.rcost,
            model.w,
            model.pen,
            is_open,
            ~setup.fixed,
            setup.allowed,
            setup.region,
            count,
            tol,
            100_000,
        )
    )


def _random_start(setup: _Setup, p: int, rng: np.random.Generator) -> npt.NDArray[np.bool_]:
    is_open = setup.fixed.copy()
    if setup.use_regions:
        count = _region_count(setup, is_open)
        for g in np.flatnonzero(setup.required & (count == 0)):
            choices = np.flatnonzero(setup.allowed & ~is_open & (setup.region == g))
            is_open[rng.choice(choices)] = True
    free = np.flatnonzero(setup.allowed & ~is_open)
    need = p - int(is_open.sum())
    is_open[rng.choice(free, size=need, replace=False)] = True
    return is_open


def _heuristic(
    model: CostModel, setup: _Setup, p: int, seed: int, restarts: int
) -> tuple[npt.NDArray[np.bool_], dict[str, Any]]:
    is_open = _greedy(model, setup, p)
    greedy_value = model.evaluate(is_open)
    swaps = _local_search(model, setup, is_open)
    best, best_value = is_open, model.evaluate(is_open)
    rng = np.random.default_rng(seed)
    for _ in range(restarts):
        cand = _random_start(setup, p, rng)
        swaps += _local_search(model, setup, cand)
        v = model.evaluate(cand)
        if v < best_value - 1e-9 * max(abs(best_value), 1.0):
            best, best_value = cand, v
    return best, {"greedy_cost": greedy_value, "swaps": swaps, "restarts": restarts, "seed": seed}


# ---------------------------------------------------------------------- MIP (HiGHS)
@dataclass
class _MipOutcome:
    status: str
    value: float | None  # model objective of the incumbent (incl. offset)
    bound: float | None
    x: npt.NDArray[np.float64] | None
    seconds: float


def _solve_site_mip(setup, sites, shape, cost, lo, hi, offset, x0, kw, col_lo=None, integer=True):
    """Solve a site-selection MIP whose first ``sites.size`` columns open ``sites``
    (integer, or continuous with ``integer=False``: an LP whose bounds fix them);
    ``shape`` is the constraint matrix in COO pieces ``(rows, cols, values, nrow, ncol)``,
    ``col_lo`` the column lower bounds (default 0; upper bounds are 1). Returns the HiGHS
    outcome and the open/closed state of every candidate (None if no solution)."""
    import scipy.sparse as sp

    ri, ci, vv, nrow, ncol = shape
    a = sp.coo_matrix(
        (np.concatenate(vv), (np.concatenate(ri), np.concatenate(ci))), shape=(nrow, ncol)
    )
    is_integer = np.zeros(ncol, bool)
    is_integer[: sites.size] = integer
    out = _run_highs(
        cost,
        a,
        np.concatenate([np.asarray(x, float) for x in lo]),
        np.concatenate([np.asarray(x, float) for x in hi]),
        np.zeros(ncol) if col_lo is None else col_lo,
        np.ones(ncol),
        is_integer,
        offset,
        start=x0,
        **kw,
    )
    is_open = None
    if out.x is not None:
        is_open = setup.fixed.copy()
        is_open[sites] = out.x[: sites.size] > 0.5
    return out, is_open


def _column_of(num_candidates: int, sites: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """MIP column of each candidate (its position in ``sites``; -1 = not a column)."""
    col_of = np.full(num_candidates, -1, np.int64)
    col_of[sites] = np.arange(sites.size)
    return col_of


def _run_highs(
    cost: npt.NDArray[np.float64],
    a: Any,
    row_lo: npt.NDArray[np.float64],
    row_hi: npt.NDArray[np.float64],
    col_lo: npt.NDArray[np.float64],
    col_hi: npt.NDArray[np.float64],
    integer: npt.NDArray[np.bool_],
    offset: float,
    time_limit_s: float,
    rel_gap: float,
    start: npt.NDArray[np.float64] | None = None,
    threads: int | None = None,
) -> _MipOutcome:
    """Minimise ``cost·x + offset`` s.t. ``row_lo <= A x <= row_hi``, bounds, integrality."""
    import highspy
    import scipy.sparse as sp

    t0 = time.perf_counter()
    csc = sp.csc_matrix(a)
    csc.sort_indices()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("random_seed", 0)
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    lp = highspy.HighsLp()
    lp.num_col_ = int(cost.size)
    lp.num_row_ = int(csc.shape[0])
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(col_lo, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_hi, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lo, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_hi, dtype=np.float64)
    lp.offset_ = float(offset)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(np.float64)
    lp.a_matrix_.num_col_ = int(cost.size)
    lp.a_matrix_.num_row_ = int(csc.shape[0])
    mip = bool(np.any(integer))
    if mip:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
            for b in integer
        ]
    h.passModel(lp)
    if start is not None and mip:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, dtype=np.float64))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_sol else None
    value = float(info.objective_function_value) if has_sol else None
    if mip:
        bound = float(info.mip_dual_bound)
        if not np.isfinite(bound):
            bound = None
    else:
        bound = value if status == "Optimal" else None
    return _MipOutcome(status, value, bound, x, time.perf_counter() - t0)


@dataclass(frozen=True)
class _Pairs:
    """The (free site, cell) pairs the uncapacitated p-median can use: faster than the
    cell's fallback ``cap`` (the cutoff, or its nearest fixed site), on cells with people;
    in by-candidate order."""

    cap: npt.NDArray[np.float64]  # per cell
    free: npt.NDArray[np.int64]  # allowed, not fixed candidates
    col_of: npt.NDArray[np.int64]  # candidate -> position in free (-1: not free)
    site: npt.NDArray[np.int64]
    cell: npt.NDArray[np.int64]
    cost: npt.NDArray[np.float64]


def _pmedian_pairs(model: CostModel, setup: _Setup) -> _Pairs:
    cap, _, _ = K.assign(model.rptr, model.rcand, model.rcost, setup.fixed, model.pen)
    free = np.flatnonzero(setup.allowed & ~setup.fixed)
    col_of = _column_of(model.num_candidates, free)
    keep = (
        (col_of[model.ccand] >= 0) & (model.ccost < cap[model.ccell]) & (model.w[model.ccell] > 0)
    )
    return _Pairs(cap, free, col_of, model.ccand[keep], model.ccell[keep], model.ccost[keep])


def _mip_pmedian(
    model: CostModel,
    setup: _Setup,
    pairs: _Pairs,
    p: int,
    start: npt.NDArray[np.bool_] | None,
    max_size: int,
    **kw: Any,
) -> tuple[_MipOutcome | None, npt.NDArray[np.bool_] | None, int]:
    """Uncapacitated p-median MIP on ``pairs``; returns (outcome, open mask, size)."""
    cap, free, col_of = pairs.cap, pairs.free, pairs.col_of
    pj, pi, pc = pairs.site, pairs.cell, pairs.cost
    npairs = int(pj.size)
    if npairs > max_size:
        return None, None, npairs
    nf = free.size
    saving = model.w[pi] * (cap[pi] - pc)
    offset = float(np.sum(model.w * cap))
    ncol = nf + npairs
    cost = np.concatenate([np.zeros(nf), -saving])
    # Rows: one per cell with pairs (Σ z <= 1), one link per pair (z - x <= 0),
    # cardinality, then regions.
    cells, cell_row = np.unique(pi, return_inverse=True)
    zcol = nf + np.arange(npairs)
    r_cell = cell_row
    r_link = cells.size + np.arange(npairs)
    card = cells.size + npairs
    ri = [r_cell, r_link, r_link, np.full(nf, card)]
    ci = [zcol, zcol, col_of[pj], np.arange(nf)]
    vv = [np.ones(npairs), np.ones(npairs), -np.ones(npairs), np.ones(nf)]
    lo = [np.full(cells.size, -np.inf), np.full(npairs, -np.inf), [p - setup.fixed.sum()]]
    hi = [np.ones(cells.size), np.zeros(npairs), [p - setup.fixed.sum()]]
    nrow = card + 1
    nrow = _region_rows(setup, col_of, free, nrow, ri, ci, vv, lo, hi)
    x0 = None
    if start is not None:
        x0 = np.zeros(ncol)
        x0[:nf] = start[free]
        # z: each cell takes its best open pair.
        open_pair = start[pj]
        val = np.where(open_pair, saving, -1.0)
        order = np.lexsort((-val, pi))
        first = np.ones(order.size, bool)
        first[1:] = pi[order][1:] != pi[order][:-1]
        best = order[first & (val[order] > 0)]
        x0[nf + best] = 1.0
    out, is_open = _solve_site_mip(
        setup, free, (ri, ci, vv, nrow, ncol), cost, lo, hi, offset, x0, kw
    )
    return out, is_open, npairs


def _lagrangian_pmedian(
    model: CostModel,
    setup: _Setup,
    pairs: _Pairs,
    p: int,
    is_open: npt.NDArray[np.bool_],
    iters: int,
) -> float:
    """Lagrangian lower bound (model units) of the uncapacitated p-median, started from
    the multipliers of the heuristic solution ``is_open`` (its per-cell costs)."""
    free = pairs.free
    pptr = np.zeros(free.size + 1, np.int64)
    np.cumsum(np.bincount(pairs.col_of[pairs.site], minlength=free.size), out=pptr[1:])
    d_heur, _, _ = K.assign(model.rptr, model.rcand, model.rcost, is_open, model.pen)
    ub = float(K.objective(model.w, d_heur))
    lam = model.w * d_heur
    k = p - int(setup.fixed.sum())
    return float(
        K.lagrangian_pmedian(
            pptr,
            pairs.cell,
            pairs.cost,
            model.w,
            pairs.cap,
            k,
            ub,
            lam,
            setup.region[free],  # all -1 when the rule is off
            setup.needed,
            iters,
            1e-7,
        )
    )


def _region_rows(setup, col_of, sites, nrow, ri, ci, vv, lo, hi) -> int:
    """Append ``Σ_{j∈g} x_j >= 1`` (over ``sites``) for required regions without a fixed
    site."""
    if not setup.use_regions:
        return nrow
    for g in np.flatnonzero(setup.needed):
        members = sites[setup.region[sites] == g]
        ri.append(np.full(members.size, nrow))
        ci.append(col_of[members])
        vv.append(np.ones(members.size))
        lo.append([1.0])
        hi.append([np.inf])
        nrow += 1
    return nrow


def _coverage_groups(model: CostModel, setup: _Setup):
    """Cells not covered by a fixed site, grouped by their set of free covering sites."""
    fixed_d1, _, _ = K.assign(model.rptr, model.rcand, model.rcost, setup.fixed, model.pen)
    free_mask = setup.allowed & ~setup.fixed
    groups: dict[tuple[int, ...], int] = {}
    gw: list[float] = []
    for i in np.flatnonzero((fixed_d1 > 0) & (model.w > 0)):
        js = model.rcand[model.rptr[i] : model.rptr[i + 1]]
        key = tuple(sorted(int(j) for j in js[free_mask[js]]))
        if not key:
            continue
        g = groups.setdefault(key, len(gw))
        if g == len(gw):
            gw.append(0.0)
        gw[g] += float(model.w[i])
    covered_fixed = float(model.w[fixed_d1 == 0].sum())
    return list(groups), np.asarray(gw), covered_fixed


def _mip_coverage(
    model: CostModel,
    setup: _Setup,
    p: int | None,
    need: float | None,
    start: npt.NDArray[np.bool_] | None,
    max_size: int,
    **kw: Any,
) -> tuple[_MipOutcome | None, npt.NDArray[np.bool_] | None, int, float]:
    """Max coverage (``p`` given: minimise uncovered people) or set cover (``need`` people
    covered: minimise free sites opened). Returns (outcome, open mask, size, covered by
    fixed sites)."""

    keys, gw, covered_fixed = _coverage_groups(model, setup)
    size = int(sum(len(k) for k in keys))
    if size > max_size:
        return None, None, size, covered_fixed
    free = np.flatnonzero(setup.allowed & ~setup.fixed)
    col_of = _column_of(model.num_candidates, free)
    nf, ng = free.size, len(keys)
    ncol = nf + ng
    lens = np.array([len(k) for k in keys], dtype=np.int64)
    members = np.array([j for k in keys for j in k], dtype=np.int64)
    grow = np.repeat(np.arange(ng), lens)
    ri = [np.arange(ng), grow]
    ci = [nf + np.arange(ng), col_of[members]]
    vv = [np.ones(ng), -np.ones(members.size)]
    lo: list[Any] = [np.full(ng, -np.inf)]
    hi: list[Any] = [np.zeros(ng)]
    nrow = ng
    total_w = float(model.w.sum())
    if p is not None:
        ri.append(np.full(nf, nrow))
        ci.append(np.arange(nf))
        vv.append(np.ones(nf))
        lo.append([p - setup.fixed.sum()])
        hi.append([p - setup.fixed.sum()])
        cost = np.concatenate([np.zeros(nf), -gw])
        offset = total_w - covered_fixed  # objective = uncovered people
    else:
        ri.append(np.full(ng, nrow))
        ci.append(nf + np.arange(ng))
        vv.append(gw)
        lo.append([need - covered_fixed])
        hi.append([np.inf])
        cost = np.concatenate([np.ones(nf), np.zeros(ng)])
        offset = float(setup.fixed.sum())  # objective = number of sites
    nrow += 1
    nrow = _region_rows(setup, col_of, free, nrow, ri, ci, vv, lo, hi)
    x0 = None
    if start is not None:
        x0 = np.zeros(ncol)
        x0[:nf] = start[free]
        starts = np.concatenate([[0], np.cumsum(lens)])
        opened = start[members]
        x0[nf:] = np.add.reduceat(opened.astype(float), starts[:-1]) > 0 if ng else []
    out, is_open = _solve_site_mip(
        setup, free, (ri, ci, vv, nrow, ncol), cost, lo, hi, offset, x0, kw
    )
    return out, is_open, size, covered_fixed


def _mip_capacitated(
    model: CostModel,
    setup: _Setup,
    p: int,
    cap: npt.NDArray[np.float64],
    start: npt.NDArray[np.bool_] | None,
    fix_open: bool,
    max_size: int,
    **kw: Any,
) -> tuple[_MipOutcome | None, npt.NDArray[np.bool_] | None, Any, int]:
    """Capacitated assignment MIP (``fix_open``: the transportation LP for given sites).
    Returns (outcome, open mask, (pair candidate, pair cell, z), size)."""
    cand_ok = (start if fix_open else setup.allowed).astype(bool)
    sites = np.flatnonzero(cand_ok)
    col_of = _column_of(model.num_candidates, sites)
    keep = (col_of[model.ccand] >= 0) & (model.w[model.ccell] > 0)
    pj, pi, pc = model.ccand[keep], model.ccell[keep], model.ccost[keep]
    npairs = int(pj.size)
    if npairs > max_size:
        return None, None, None, npairs
    ns = sites.size
    dem = np.unique(pi)  # cells that some site can serve better than the fallback
    drow = np.full(model.w.size, -1, np.int64)
    drow[dem] = np.arange(dem.size)
    nd = dem.size
    ncol = ns + npairs + nd
    offset = float(np.sum(model.w * model.pen)) - float(np.sum(model.w[dem] * model.pen[dem]))
    cost = np.concatenate([np.zeros(ns), model.w[pi] * pc, model.w[dem] * model.pen[dem]])
    zcol = ns + np.arange(npairs)
    ucol = ns + npairs + np.arange(nd)
    # Rows: demand (Σ z + u = 1), links (z - x <= 0), capacities, cardinality, regions.
    ri = [drow[pi], np.arange(nd), nd + np.arange(npairs), nd + np.arange(npairs)]
    ci = [zcol, ucol, zcol, col_of[pj]]
    vv = [np.ones(npairs), np.ones(nd), np.ones(npairs), -np.ones(npairs)]
    lo: list[Any] = [np.ones(nd), np.full(npairs, -np.inf)]
    hi: list[Any] = [np.ones(nd), np.zeros(npairs)]
    nrow = nd + npairs
    capped = np.flatnonzero(np.isfinite(cap[sites]))
    if capped.size:
        crow = np.full(ns, -1, np.int64)
        crow[capped] = nrow + np.arange(capped.size)
        sel = crow[col_of[pj]] >= 0
        ri += [crow[col_of[pj]][sel], crow[capped]]
        ci += [zcol[sel], capped]
        vv += [model.w[pi][sel], -cap[sites][capped]]
        lo.append(np.full(capped.size, -np.inf))
        hi.append(np.zeros(capped.size))
        nrow += capped.size
    col_lo = np.zeros(ncol)
    col_lo[col_of[np.flatnonzero(setup.fixed & cand_ok)]] = 1.0
    if fix_open:
        col_lo[:ns] = 1.0
    else:
        ri.append(np.full(ns, nrow))
        ci.append(np.arange(ns))
        vv.append(np.ones(ns))
        lo.append([float(p)])
        hi.append([float(p)])
        nrow = _region_rows(setup, col_of, sites, nrow + 1, ri, ci, vv, lo, hi)
    out, is_open = _solve_site_mip(
        setup, sites, (ri, ci, vv, nrow, ncol), cost, lo, hi, offset, None, kw, col_lo,
        integer=not fix_open,
    )  # fmt: skip
    assignment = None if out.x is None else (pj, pi, out.x[ns : ns + npairs])
    return out, is_open, assignment, npairs


# ---------------------------------------------------------------------- reporting
def _nearest_chosen(matrix: CoverageMatrix, chosen: npt.NDArray[np.int64]):
    """(time units, nearest chosen candidate or -1) per cell, from the matrix."""
    sub = matrix.subset_candidates(chosen)
    t = np.full(matrix.num_cells, np.iinfo(np.int64).max, np.int64)
    who = np.full(matrix.num_cells, -1, np.int64)
    rows = np.repeat(np.arange(chosen.size), np.diff(sub.indptr))
    order = np.lexsort((rows, sub.time, sub.cell))  # per cell: fastest, then first chosen
    c, tt, rr = sub.cell[order], sub.time[order].astype(np.int64), rows[order]
    first = np.ones(c.size, bool)
    first[1:] = c[1:] != c[:-1]
    t[c[first]] = tt[first]
    who[c[first]] = chosen[rr[first]]
    return t, who


def _finish(
    matrix: CoverageMatrix,
    w: npt.NDArray[np.float64],
    objective: str,
    is_open: npt.NDArray[np.bool_],
    fixed: npt.NDArray[np.bool_],
    threshold_units: int | None,
    value: float,
    bound: float | None,
    method: str,
    status: str,
    seconds: float,
    assignment: Any,
    details: dict[str, Any],
) -> OptimiseResult:
    chosen = np.flatnonzero(is_open).astype(np.int64)
    t, who = _nearest_chosen(matrix, chosen)
    served = who >= 0
    total = float(w.sum())
    capped_t = np.where(served, np.minimum(t, matrix.cutoff_units), matrix.cutoff_units)
    mean_time = float(np.sum(w * capped_t)) * matrix.time_unit_s / total / 60.0
    if assignment is None:
        catch = np.bincount(who[served], weights=w[served], minlength=matrix.num_candidates)
    else:
        pj, pi, z = assignment
        catch = np.bincount(pj, weights=w[pi] * z, minlength=matrix.num_candidates)
    covered = None
    if threshold_units is not None:
        covered = float(w[served & (t < threshold_units)].sum())
    elif details.get("threshold_km") is not None:
        # Within T km: any open site whose fastest path is at most T km long.
        rows = np.repeat(np.arange(matrix.num_candidates), np.diff(matrix.indptr))
        near = is_open[rows] & _within_km(matrix, details["threshold_km"])
        hit = np.zeros(matrix.num_cells, dtype=bool)
        hit[matrix.cell[near]] = True
        covered = float(w[hit].sum())
    cand = matrix.candidates
    sites = pd.DataFrame(
        {
            "candidate": chosen,
            "name": cand["name"].to_numpy()[chosen],
            "municipality": (
                cand["municipality"].to_numpy()[chosen] if "municipality" in cand.columns else None
            ),
            "lon": cand["lon"].to_numpy(dtype=float)[chosen],
            "lat": cand["lat"].to_numpy(dtype=float)[chosen],
            "fixed": fixed[chosen],
            "catchment_population": catch[chosen],
        }
    )
    gap = None
    if bound is not None and value is not None:
        denom = max(abs(value), 1e-12)
        gap = max(0.0, (value - bound) if objective != "coverage" else (bound - value)) / denom
    return OptimiseResult(
        objective_name=objective,
        objective=value,
        bound=bound,
        gap=gap,
        solve_seconds=seconds,
        method=method,
        status=status,
        chosen=chosen,
        num_fixed=int((fixed & is_open).sum()),
        sites=sites,
        total_population=total,
        mean_time_min=mean_time,
        unserved_population=float(w[~served].sum()),
        threshold_min=None
        if threshold_units is None
        else threshold_units * matrix.time_unit_s / 60.0,
        covered_population=covered,
        details=details,
    )


# ---------------------------------------------------------------------- entry point
def _whole(value: Any, name: str, least: int) -> int:
    """``value`` as an int ``>= least`` (whole floats accepted), else a ValueError naming
    ``name``."""
    whole = isinstance(value, int | np.integer) or (
        isinstance(value, float | np.floating) and float(value).is_integer()
    )
    if isinstance(value, bool) or not whole or value < least:
        raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")
    return int(value)


def _check_settings(
    *, seed, restarts, mip_max_size, lagrangian_iters, time_limit_s, mip_rel_gap, threads
) -> None:
    """Refuse out-of-range solver settings (each error names its argument)."""
    if seed is not None:
        _whole(seed, "seed", 0)
    for name, value in (
        ("restarts", restarts), ("mip_max_size", mip_max_size),
        ("lagrangian_iters", lagrangian_iters),
    ):  # fmt: skip
        _whole(value, name, 0)
    if threads is not None:
        _whole(threads, "threads", 1)
    if not time_limit_s > 0:
        raise ValueError(f"time_limit_s must be > 0 seconds, got {time_limit_s}")
    if not mip_rel_gap >= 0:
        raise ValueError(f"mip_rel_gap must be >= 0 (a fraction), got {mip_rel_gap}")


def _threshold_units(
    matrix: CoverageMatrix, objective: str, threshold_min: float | None, threshold_km: float | None
) -> int | None:
    """The time threshold in matrix units (None without ``threshold_min``), after checking
    the thresholds the objective needs (``mean-time`` only reports coverage with it)."""
    if objective in ("coverage", "cover") and (threshold_min is None) == (threshold_km is None):
        raise ValueError(
            f"objective {objective!r} needs threshold_min (minutes) or threshold_km, exactly one"
        )
    if threshold_km is not None and not threshold_km > 0:
        raise ValueError(f"threshold_km must be > 0, got {threshold_km}")
    if threshold_min is None:
        return None
    if not 0 < threshold_min * 60.0 <= matrix.cutoff_s + 1e-9:
        raise ValueError(
            f"threshold_min={threshold_min} must be > 0 and within the matrix cutoff "
            f"({matrix.cutoff_s / 60:g} min)"
        )
    return int(np.ceil(threshold_min * 60.0 / matrix.time_unit_s - 1e-9))


def _sites_wanted(setup: _Setup, total: Any, add: Any) -> int:
    """``p`` from ``total`` or ``add`` (exactly one), checked against the fixed sites, the
    regions and the allowed candidates."""
    nfixed = int(setup.fixed.sum())
    if total is None and add is None:
        raise ValueError("give total (sites in all) or add (sites beyond the fixed ones)")
    if total is not None and add is not None:
        raise ValueError("give total or add, not both")
    if total is not None:
        p, asked = _whole(total, "total", 1), f"total={total}"
    else:
        p, asked = nfixed + _whole(add, "add", 0), f"add={add} (+{nfixed} fixed)"
        if p == 0:
            raise ValueError("add=0 without fixed sites opens nothing; give add >= 1")
    if p < _min_sites(setup):
        raise InfeasibleError(
            f"{asked}: {p} sites cannot hold the {nfixed} fixed sites"
            + (" and one per region" if setup.use_regions else "")
            + f" (at least {_min_sites(setup)} needed)"
        )
    allowed = int(setup.allowed.sum())
    if p > allowed:
        raise InfeasibleError(
            f"{asked}: {p} sites asked but only {allowed} candidates are allowed (not forbidden)"
        )
    return p


def optimise(
    matrix: CoverageMatrix,
    objective: str = "mean-time",
    *,
    total: int | None = None,
    add: int | None = None,
    threshold_min: float | None = None,
    threshold_km: float | None = None,
    cover_pct: float = 99.0,
    fixed: Any = None,
    forbidden: Any = None,
    capacity: Any = None,
    regions: Any = None,
    one_per_region: bool = False,
    column: str | None = None,
    method: str = "auto",
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-6,
    mip_max_size: int = 400_000,
    lagrangian_iters: int = 600,
    seed: int = 0,
    restarts: int = 0,
    threads: int | None = None,
) -> OptimiseResult:
    """Choose office sites among the matrix's candidates (see the module docstring).

    Parameters
    ----------
    objective
        ``'mean-time'`` (p-median), ``'coverage'`` (maximal coverage within
        ``threshold_min``) or ``'cover'`` (fewest sites with ``cover_pct`` % within
        ``threshold_min``).
    threshold_km
        Instead of ``threshold_min`` for ``coverage``/``cover``: a cell is covered by a
        site whose fastest path to it is at most this long (the study's 2013 criterion:
        40 km by road). Only pairs within the matrix's time cutoff are known.
    total, add
        Number of sites ``p`` (``total``), or ``add`` sites on top of the fixed ones.
    fixed, forbidden
        Boolean masks, candidate indices or names. ``fixed=None`` takes the candidates'
        ``fixed`` column. A site both fixed and forbidden is an error.
    capacity
        People per site: an array (NaN = unlimited), a candidate column name, or ``True``
        for the ``capacity`` column. Exact only with the MIP (see module docstring).
    regions, one_per_region
        Region label per candidate (array or column name); with ``one_per_region`` every
        region that has an allowed candidate gets at least one site.
    method
        ``'auto'``, ``'heuristic'`` or ``'mip'``.
    time_limit_s, mip_rel_gap, mip_max_size
        HiGHS time limit and relative gap; the MIP is skipped (``auto``) or refused
        (``mip``) above ``mip_max_size`` pairs (or grouped coverage entries).
    lagrangian_iters
        ``mean-time`` without capacities, ``auto``: subgradient iterations of the
        Lagrangian bound (relaxing the assignment constraints), which certifies national
        instances too large for the MIP; the reported bound is the best of both.
    seed, restarts
        ``restarts`` extra local searches from random starts drawn with ``seed``.
    """
    t0 = time.perf_counter()
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    w = matrix.weights(column)
    default_fixed = (
        matrix.candidates["fixed"].to_numpy(dtype=bool)
        if "fixed" in matrix.candidates.columns
        else None
    )
    fixed_m = _mask(matrix, fixed, "fixed", default_fixed)
    forbidden_m = _mask(matrix, forbidden, "forbidden")
    both = fixed_m & forbidden_m
    if both.any():
        names = matrix.candidates["name"].to_numpy()[both][:5].tolist()
        raise InfeasibleError(f"site(s) both fixed and forbidden: {names}")
    allowed = ~forbidden_m
    if one_per_region:
        if regions is None:
            regions = "region"
        region, labels = _regions(matrix, regions)
        required = np.zeros(len(labels), bool)
        required[region[allowed & (region >= 0)]] = True
        setup = _Setup(fixed_m, allowed, region, required, True)
    else:
        setup = _Setup(fixed_m, allowed, np.full(matrix.num_candidates, -1, np.int64),
                       np.zeros(0, bool), False)  # fmt: skip
    cap = _capacity(matrix, capacity)
    if cap is not None and objective == "cover":
        raise NotImplementedError("capacities are supported for mean-time and coverage only")
    _check_settings(
        seed=seed, restarts=restarts, mip_max_size=mip_max_size,
        lagrangian_iters=lagrangian_iters, time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap, threads=threads,
    )  # fmt: skip
    threshold_units = _threshold_units(matrix, objective, threshold_min, threshold_km)
    if objective == "cover":
        if not 0 < cover_pct <= 100:
            raise ValueError(f"cover_pct must be in (0, 100], got {cover_pct}")
    else:
        p = _sites_wanted(setup, total, add)
    kind = "time" if objective == "mean-time" else "cover"
    km = None if kind == "time" else threshold_km
    model = cost_model(matrix, kind, w, threshold_units or 0, km)
    highs_kw = {"time_limit_s": time_limit_s, "rel_gap": mip_rel_gap, "threads": threads}
    details: dict[str, Any] = {
        "time_unit_s": matrix.time_unit_s,
        "cutoff_min": matrix.cutoff_s / 60,
        "threshold_km": km,
    }

    if objective == "cover":
        return _optimise_cover(
            matrix, model, setup, w, fixed_m, threshold_units, cover_pct, method,
            mip_max_size, seed, restarts, highs_kw, details, t0,
        )  # fmt: skip

    # The uncapacitated p-median's pairs, shared by the Lagrangian bound and the MIP.
    pmedian = objective == "mean-time" and cap is None and method != "heuristic"
    pairs = _pmedian_pairs(model, setup) if pmedian else None
    # The heuristic (also the MIP warm start).
    is_open, value, bound, status, used, assignment = None, None, None, "", "heuristic", None
    if method in ("auto", "heuristic"):
        is_open, info = _heuristic(model, setup, p, seed, restarts)
        details.update(info)
        value = model.evaluate(is_open)
        status = "heuristic (local optimum)"
        if cap is not None:
            out, _, assignment, _ = _mip_capacitated(
                model, setup, p, cap, is_open, True, np.iinfo(np.int64).max, **highs_kw
            )
            value = out.value
            status = "heuristic sites, optimal capacitated assignment (approximate)"
        details["heuristic_seconds"] = time.perf_counter() - t0
    if method == "auto" and objective == "mean-time" and cap is None and lagrangian_iters > 0:
        tl = time.perf_counter()
        bound = _lagrangian_pmedian(model, setup, pairs, p, is_open, lagrangian_iters)
        details["lagrangian_bound_seconds"] = time.perf_counter() - tl
        details["lagrangian_bound"] = bound * matrix.time_unit_s / 60.0 / float(w.sum())
    if method in ("auto", "mip"):
        if cap is not None:
            out, mopen, massign, size = _mip_capacitated(
                model, setup, p, cap, is_open, False, mip_max_size, **highs_kw
            )
        elif objective == "coverage":
            out, mopen, size, _ = _mip_coverage(
                model, setup, p, None, is_open, mip_max_size, **highs_kw
            )
            massign = None
        else:
            out, mopen, size = _mip_pmedian(
                model, setup, pairs, p, is_open, mip_max_size, **highs_kw
            )
            massign = None
        details["mip_size"] = size
        if out is None:
            if method == "mip":
                raise ValueError(
                    f"the MIP has {size:,} pairs, above mip_max_size={mip_max_size:,}; raise it "
                    "or use method='heuristic'"
                )
            details["mip"] = f"skipped: {size:,} pairs > mip_max_size"
        else:
            details["mip_status"] = out.status
            details["mip_seconds"] = out.seconds
            if out.bound is not None:
                bound = out.bound if bound is None else max(bound, out.bound)
            if out.value is not None and (value is None or out.value < value - 1e-9 * abs(value)):
                is_open, value, assignment, used = mopen, out.value, massign, "mip"
                status = out.status
            elif value is not None:
                used = "heuristic" if method == "auto" else "mip"
                if out.status == "Optimal":
                    status = "optimal (heuristic solution certified by MIP)"
            if value is not None and bound is not None:
                bound = min(bound, value)  # numerical noise may put the bound above
    if is_open is None or value is None:
        raise InfeasibleError(f"no solution found ({status or 'MIP without incumbent'})")
    total_w = float(w.sum())
    if objective == "mean-time":
        scale = matrix.time_unit_s / 60.0 / total_w
        obj_v, obj_b = value * scale, None if bound is None else bound * scale
    else:  # internal objective = uncovered people
        obj_v, obj_b = total_w - value, None if bound is None else total_w - bound
    details["method_used"] = used
    return _finish(
        matrix, w, objective, is_open, fixed_m, threshold_units, obj_v, obj_b,
        method, status, time.perf_counter() - t0, assignment, details,
    )  # fmt: skip


def _optimise_cover(
    matrix, model, setup, w, fixed_m, threshold_units, cover_pct, method,
    mip_max_size, seed, restarts, highs_kw, details, t0,
) -> OptimiseResult:  # fmt: skip
    """Set cover: fewest sites with ``cover_pct`` % within the threshold."""
    total_w = float(w.sum())
    need = total_w * cover_pct / 100.0
    allowed_uncovered = total_w - need + 1e-9 * max(total_w, 1.0)
    everything = model.evaluate(setup.allowed)
    if everything > allowed_uncovered:
        raise InfeasibleError(
            f"even all {int(setup.allowed.sum())} allowed sites cover only "
            f"{100 * (total_w - everything) / total_w:.3f} % within the threshold; asked "
            f"{cover_pct} %"
        )
    is_open, value, bound, status, used = None, None, None, "", "heuristic"
    if method in ("auto", "heuristic"):
        # Greedy until the target is met, then shrink p while greedy + swaps still meet it.
        lo = _min_sites(setup)
        cur = _greedy(model, setup, lo)
        while model.evaluate(cur) > allowed_uncovered:
            cur = _greedy(model, setup, int(cur.sum()) + 1, start=cur)
        best = cur
        _local_search(model, setup, best)
        p = int(best.sum()) - 1
        while p >= lo:
            trial, _ = _heuristic(model, setup, p, seed, restarts)
            if model.evaluate(trial) > allowed_uncovered:
                break
            best, p = trial, p - 1
        is_open, value = best, float(best.sum())
        status = "heuristic"
        details["heuristic_seconds"] = time.perf_counter() - t0
    if method in ("auto", "mip"):
        out, mopen, size, _ = _mip_coverage(
            model, setup, None, need, is_open, mip_max_size, **highs_kw
        )
        details["mip_size"] = size
        if out is None:
            if method == "mip":
                raise ValueError(f"the MIP has {size:,} pairs, above mip_max_size")
            details["mip"] = f"skipped: {size:,} pairs > mip_max_size"
        else:
            details["mip_status"] = out.status
            details["mip_seconds"] = out.seconds
            if out.bound is not None:
                bound = float(np.ceil(out.bound - 1e-6))  # the count is an integer
            if mopen is not None and (value is None or mopen.sum() < value):
                is_open, value, used, status = mopen, float(mopen.sum()), "mip", out.status
            elif out.status == "Optimal":
                status = "optimal (heuristic solution certified by MIP)"
            if bound is not None and value is not None:
                bound = min(bound, value)
    if is_open is None or value is None:
        raise InfeasibleError("no solution found")
    details["method_used"] = used
    details["cover_pct_target"] = cover_pct
    return _finish(
        matrix, w, "cover", is_open, fixed_m, threshold_units, value, bound, method, status,
        time.perf_counter() - t0, None, details,
    )  # fmt: skip


def plot_coverage_curve(
    curve: pd.DataFrame,
    path: str | Path,
    threshold_min: float = 60.0,
    threshold_km: float | None = None,
) -> Path:
    """Draw a :func:`coverage_curve` table: best coverage (left axis) and best mean time
    (right axis) against the number of offices; written as PNG to ``path``."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers
    import matplotlib.pyplot as plt

    fig, left = plt.subplots(figsize=(8, 4.5), dpi=110)
    n = curve["offices"].to_numpy()
    left.plot(n, curve["coverage_pct"], "o-", color="tab:blue", label="coverage")
    left.set_xlabel("number of offices")
    within = f"{threshold_min:g} min" if threshold_km is None else f"{threshold_km:g} km"
    left.set_ylabel(f"people within {within}, %", color="tab:blue")
    right = left.twinx()
    right.plot(n, curve["mean_time_min"], "s--", color="tab:orange", label="mean time")
    right.set_ylabel("population-weighted mean time, min", color="tab:orange")
    left.grid(alpha=0.3)
    left.set_title("Best achievable coverage and mean time by network size")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


def coverage_curve(
    matrix: CoverageMatrix,
    totals: Sequence[int],
    *,
    threshold_min: float = 60.0,
    threshold_km: float | None = None,
    fixed: Any = None,
    forbidden: Any = None,
    column: str | None = None,
    method: str = "heuristic",
    **kwargs: Any,
) -> pd.DataFrame:
    """Best coverage within ``threshold_min`` (or ``threshold_km``, which replaces it) and
    best mean time for each total ``N``.

    Each row solves maximal coverage and p-median separately (heuristic by default;
    ``method='auto'`` adds HiGHS bounds at more cost); ``kwargs`` (constraints such as
    ``one_per_region``, ``capacity``, ``restarts``) go to both :func:`optimise` calls.
    Columns: ``offices``, ``coverage_pct``, ``coverage_bound_pct``, ``mean_time_min``,
    ``mean_time_bound_min``.
    """
    within = (
        {"threshold_min": threshold_min} if threshold_km is None else {"threshold_km": threshold_km}
    )
    rows = []
    for n in totals:
        cov = optimise(
            matrix, "coverage", total=n, fixed=fixed, forbidden=forbidden, column=column,
            method=method, **within, **kwargs,
        )  # fmt: skip
        med = optimise(
            matrix, "mean-time", total=n, fixed=fixed, forbidden=forbidden,
            column=column, method=method, **kwargs,
        )  # fmt: skip
        tot = cov.total_population
        rows.append(
            {
                "offices": int(n),
                "coverage_pct": 100.0 * cov.objective / tot,
                "coverage_bound_pct": None if cov.bound is None else 100.0 * cov.bound / tot,
                "mean_time_min": med.objective,
                "mean_time_bound_min": med.bound,
            }
        )
    return pd.DataFrame(rows)
