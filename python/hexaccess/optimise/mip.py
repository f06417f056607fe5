"""The exact solvers: integer programmes solved by HiGHS (``highspy``) within a time
limit, each returning the best bound (LP relaxation / branch-and-bound dual bound).

Uncapacitated p-median uses savings against each cell's fallback cost
``cap_i = min(cutoff, time to the nearest fixed site)``; only pairs faster than
``cap_i`` enter (a valid reduction: no other pair can ever be used):
``min Σ w_i cap_i − Σ w_i (cap_i − t_ij) z_ij`` s.t. ``Σ_j z_ij ≤ 1``, ``z_ij ≤ x_j``,
``Σ x_j = p − fixed``. Coverage and set cover aggregate cells covered by the same set of
candidates: ``y_g ≤ Σ_{j∈N_g} x_j``. With capacities: ``Σ_j z_ij + u_i = 1``,
``z_ij ≤ x_j``, ``Σ_i w_i z_ij ≤ cap_j x_j``; a cell's people may be split between
offices (no single-assignment constraint), and people left over by the capacities count
as unserved (cost = the cutoff for ``mean-time``, uncovered for ``coverage``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess._extras import require
from hexaccess.optimise import _kernels as K
from hexaccess.optimise.problem import CostModel, SiteRules

__all__ = [
    "MipOutcome",
    "PMedianPairs",
    "TransportLP",
    "mip_capacitated",
    "mip_coverage",
    "mip_pmedian",
    "pmedian_pairs",
]


@dataclass
class MipOutcome:
    """What HiGHS returned: status, incumbent value and bound (model units), the column
    values of the incumbent and the solve time."""

    status: str
    value: float | None  # model objective of the incumbent (incl. offset)
    bound: float | None
    x: npt.NDArray[np.float64] | None
    seconds: float


def _solve_site_mip(rules, sites, shape, cost, lo, hi, offset, x0, kw, col_lo=None, integer=True):
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
        is_open = rules.fixed.copy()
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
) -> MipOutcome:
    """Minimise ``cost·x + offset`` s.t. ``row_lo <= A x <= row_hi``, bounds, integrality."""
    highspy = require("highspy", "optimise", "The exact site MIP (HiGHS; solver method auto/mip)")
    import scipy.sparse as sp

    t0 = time.perf_counter()
    csc = sp.csc_matrix(a)
    csc.sort_indices()
    h = _silent_highs(highspy)
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
    return MipOutcome(status, value, bound, x, time.perf_counter() - t0)


@dataclass(frozen=True)
class PMedianPairs:
    """The (free site, cell) pairs the uncapacitated p-median can use: faster than the
    cell's fallback ``cap`` (the cutoff, or its nearest fixed site), on cells with people;
    in by-candidate order."""

    cap: npt.NDArray[np.float64]  # per cell
    free: npt.NDArray[np.int64]  # allowed, not fixed candidates
    col_of: npt.NDArray[np.int64]  # candidate -> position in free (-1: not free)
    site: npt.NDArray[np.int64]
    cell: npt.NDArray[np.int64]
    cost: npt.NDArray[np.float64]


def pmedian_pairs(model: CostModel, rules: SiteRules) -> PMedianPairs:
    """The pairs of the uncapacitated p-median (shared by the MIP and the Lagrangian bound)."""
    cap, _, _ = K.assign(model.rptr, model.rcand, model.rcost, rules.fixed, model.pen)
    free = np.flatnonzero(rules.allowed & ~rules.fixed)
    col_of = _column_of(model.num_candidates, free)
    keep = (
        (col_of[model.ccand] >= 0) & (model.ccost < cap[model.ccell]) & (model.w[model.ccell] > 0)
    )
    return PMedianPairs(cap, free, col_of, model.ccand[keep], model.ccell[keep], model.ccost[keep])


def mip_pmedian(
    model: CostModel,
    rules: SiteRules,
    pairs: PMedianPairs,
    p: int,
    start: npt.NDArray[np.bool_] | None,
    max_size: int,
    **kw: Any,
) -> tuple[MipOutcome | None, npt.NDArray[np.bool_] | None, int]:
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
    lo = [np.full(cells.size, -np.inf), np.full(npairs, -np.inf), [p - rules.fixed.sum()]]
    hi = [np.ones(cells.size), np.zeros(npairs), [p - rules.fixed.sum()]]
    nrow = card + 1
    nrow = _region_rows(rules, col_of, free, nrow, ri, ci, vv, lo, hi)
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
        rules, free, (ri, ci, vv, nrow, ncol), cost, lo, hi, offset, x0, kw
    )
    return out, is_open, npairs


def _region_rows(rules, col_of, sites, nrow, ri, ci, vv, lo, hi) -> int:
    """Append ``Σ_{j∈g} x_j >= 1`` (over ``sites``) for required regions without a fixed
    site."""
    if not rules.use_regions:
        return nrow
    for g in np.flatnonzero(rules.needed):
        members = sites[rules.region[sites] == g]
        ri.append(np.full(members.size, nrow))
        ci.append(col_of[members])
        vv.append(np.ones(members.size))
        lo.append([1.0])
        hi.append([np.inf])
        nrow += 1
    return nrow


def coverage_groups(model: CostModel, rules: SiteRules):
    """Cells not covered by a fixed site, grouped by their set of free covering sites."""
    fixed_d1, _, _ = K.assign(model.rptr, model.rcand, model.rcost, rules.fixed, model.pen)
    free_mask = rules.allowed & ~rules.fixed
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


def mip_coverage(
    model: CostModel,
    rules: SiteRules,
    p: int | None,
    need: float | None,
    start: npt.NDArray[np.bool_] | None,
    max_size: int,
    **kw: Any,
) -> tuple[MipOutcome | None, npt.NDArray[np.bool_] | None, int, float]:
    """Max coverage (``p`` given: minimise uncovered people) or set cover (``need`` people
    covered: minimise free sites opened). Returns (outcome, open mask, size, covered by
    fixed sites)."""

    keys, gw, covered_fixed = coverage_groups(model, rules)
    size = int(sum(len(k) for k in keys))
    if size > max_size:
        return None, None, size, covered_fixed
    free = np.flatnonzero(rules.allowed & ~rules.fixed)
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
        lo.append([p - rules.fixed.sum()])
        hi.append([p - rules.fixed.sum()])
        cost = np.concatenate([np.zeros(nf), -gw])
        offset = total_w - covered_fixed  # objective = uncovered people
    else:
        ri.append(np.full(ng, nrow))
        ci.append(nf + np.arange(ng))
        vv.append(gw)
        lo.append([need - covered_fixed])
        hi.append([np.inf])
        cost = np.concatenate([np.ones(nf), np.zeros(ng)])
        offset = float(rules.fixed.sum())  # objective = number of sites
    nrow += 1
    nrow = _region_rows(rules, col_of, free, nrow, ri, ci, vv, lo, hi)
    x0 = None
    if start is not None:
        x0 = np.zeros(ncol)
        x0[:nf] = start[free]
        starts = np.concatenate([[0], np.cumsum(lens)])
        opened = start[members]
        x0[nf:] = np.add.reduceat(opened.astype(float), starts[:-1]) > 0 if ng else []
    out, is_open = _solve_site_mip(
        rules, free, (ri, ci, vv, nrow, ncol), cost, lo, hi, offset, x0, kw
    )
    return out, is_open, size, covered_fixed


def mip_capacitated(
    model: CostModel,
    rules: SiteRules,
    p: int,
    cap: npt.NDArray[np.float64],
    start: npt.NDArray[np.bool_] | None,
    fix_open: bool,
    max_size: int,
    floor: tuple[npt.NDArray[np.bool_], float] | None = None,
    **kw: Any,
) -> tuple[MipOutcome | None, npt.NDArray[np.bool_] | None, Any, int]:
    """Capacitated assignment MIP (``fix_open``: the transportation LP for given sites).
    ``floor = (mask, people)``: the pairs of the model entries in ``mask`` must carry at
    least ``people`` (the coverage kept while the report assigns by time). Returns
    (outcome, open mask, (pair candidate, pair cell, z, matrix entry), size)."""
    cand_ok = (start if fix_open else rules.allowed).astype(bool)
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
    if floor is not None:
        sel = floor[0][keep]
        ri.append(np.full(int(sel.sum()), nrow))
        ci.append(zcol[sel])
        vv.append(model.w[pi][sel])
        lo.append([float(floor[1])])
        hi.append([np.inf])
        nrow += 1
    col_lo = np.zeros(ncol)
    col_lo[col_of[np.flatnonzero(rules.fixed & cand_ok)]] = 1.0
    if fix_open:
        col_lo[:ns] = 1.0
    else:
        ri.append(np.full(ns, nrow))
        ci.append(np.arange(ns))
        vv.append(np.ones(ns))
        lo.append([float(p)])
        hi.append([float(p)])
        nrow = _region_rows(rules, col_of, sites, nrow + 1, ri, ci, vv, lo, hi)
    out, is_open = _solve_site_mip(
        rules, sites, (ri, ci, vv, nrow, ncol), cost, lo, hi, offset, None, kw, col_lo,
        integer=not fix_open,
    )  # fmt: skip
    entry = None if model.entry is None else model.entry[keep]
    assignment = None if out.x is None else (pj, pi, out.x[ns : ns + npairs], entry)
    return out, is_open, assignment, npairs


class TransportLP:
    """The capacitated assignment of given open sites as one HiGHS LP, re-solved warm for
    each open set the capacitated heuristic tries (only the bounds of the changed sites'
    columns move, so the dual simplex restarts from the previous basis).

    Columns: ``z_ij`` (share of cell ``i`` at site ``j``, upper bound 1 when ``j`` is open,
    else 0) for every allowed site's pair, ``u_i`` (share left over, at the fallback
    cost). Rows: ``Σ_j z_ij + u_i = 1`` per cell, ``Σ_i w_i z_ij <= cap_j`` per capped
    site. :meth:`value` is the objective in model units (as :meth:`CostModel.evaluate`
    without capacities); :attr:`size` the number of pairs; ``time_limit_s`` holds for
    each solve; the solution of the best set solved is kept for :meth:`assignment`.
    """

    def __init__(
        self, model: CostModel, rules: SiteRules, cap: npt.NDArray[np.float64], **kw: Any
    ) -> None:
        highspy = require("highspy", "optimise", "The capacity assignment (HiGHS transport LP)")
        import scipy.sparse as sp

        keep = rules.allowed[model.ccand] & (model.w[model.ccell] > 0)
        pj, pi, pc = model.ccand[keep], model.ccell[keep], model.ccost[keep]
        self.size = int(pj.size)
        self.pairs = (pj, pi, pc)
        dem = np.unique(pi)
        drow = np.full(model.w.size, -1, np.int64)
        drow[dem] = np.arange(dem.size)
        nd, npairs = dem.size, self.size
        self.offset = float(np.sum(model.w * model.pen)) - float(
            np.sum(model.w[dem] * model.pen[dem])
        )
        capped = np.flatnonzero(np.isfinite(cap) & rules.allowed)
        crow = np.full(model.num_candidates, -1, np.int64)
        crow[capped] = nd + np.arange(capped.size)
        sel = crow[pj] >= 0
        rows = np.concatenate([drow[pi], np.arange(nd), crow[pj][sel]])
        cols = np.concatenate([np.arange(npairs), npairs + np.arange(nd), np.flatnonzero(sel)])
        vals = np.concatenate([np.ones(npairs), np.ones(nd), model.w[pi][sel]])
        a = sp.csc_matrix((vals, (rows, cols)), shape=(nd + capped.size, npairs + nd))
        a.sort_indices()
        h = _silent_highs(highspy)
        self.time_limit_s = float(kw.get("time_limit_s", 60.0))
        if kw.get("threads") is not None:
            h.setOptionValue("threads", int(kw["threads"]))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = int(a.shape[1]), int(a.shape[0])
        lp.col_cost_ = np.concatenate([model.w[pi] * pc, model.w[dem] * model.pen[dem]])
        lp.col_lower_ = np.zeros(a.shape[1])
        lp.col_upper_ = np.concatenate([np.zeros(npairs), np.ones(nd)])
        lp.row_lower_ = np.concatenate([np.ones(nd), np.full(capped.size, -np.inf)])
        lp.row_upper_ = np.concatenate([np.ones(nd), cap[capped]])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data.astype(np.float64)
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
        h.passModel(lp)
        self.h = h
        # pairs are in by-candidate order: site j's columns are one range
        self.start = np.searchsorted(pj, np.arange(model.num_candidates + 1)).astype(np.int64)
        self.dem, self.pen = dem, model.pen
        self.capped = capped
        self.entry = None if model.entry is None else model.entry[keep]
        self.is_open = np.zeros(model.num_candidates, bool)
        self.evaluations = 0
        self._value: float | None = None  # of the last solve, for self.is_open
        self._best: tuple[float, Any, Any] = (float("inf"), None, None)  # value, sites, x

    def _set(self, is_open: npt.NDArray[np.bool_]) -> bool:
        """Move the bounds of the sites whose state differs from the last solve; False
        when nothing changed."""
        changed = np.flatnonzero(is_open != self.is_open)
        if changed.size == 0:
            return False
        idx = np.concatenate([np.arange(self.start[j], self.start[j + 1]) for j in changed])
        upper = np.concatenate(
            [np.full(self.start[j + 1] - self.start[j], float(is_open[j])) for j in changed]
        )
        if idx.size:
            self.h.changeColsBounds(int(idx.size), idx.astype(np.int32), np.zeros(idx.size), upper)
        self.is_open = is_open.copy()
        return True

    def cell_costs(self) -> npt.NDArray[np.float64]:
        """Per cell, the cost per person of the last solve's assignment (the fallback for
        the share left over): what a newly opened site would have to beat."""
        x = np.asarray(self.h.getSolution().col_value, dtype=np.float64)
        _, pi, pc = self.pairs
        d = self.pen.astype(np.float64).copy()
        if x.size != self.size + self.dem.size:
            return d
        d[self.dem] = self.pen[self.dem] * np.clip(x[self.size :], 0.0, 1.0)
        np.add.at(d, pi, np.clip(x[: self.size], 0.0, 1.0) * pc)
        return d

    def prices(self, is_open: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        """Per candidate, the price of one more person of capacity in the optimal
        assignment to ``is_open`` (cost units per person, >= 0; 0 for unlimited or closed
        sites): minus the dual of its capacity row (solved again only if ``is_open`` is
        not the last set solved)."""
        self.value(is_open)
        out = np.zeros(self.is_open.size)
        sol = self.h.getSolution()
        dual = np.asarray(sol.row_dual, dtype=np.float64)
        nd = self.dem.size
        if sol.dual_valid and dual.size == nd + self.capped.size:
            out[self.capped] = np.maximum(-dual[nd:], 0.0)
        return np.where(self.is_open, out, 0.0)

    def value(self, is_open: npt.NDArray[np.bool_]) -> float:
        """The least cost of serving the cells from the open sites within their capacities
        (people left over at the fallback cost), model units; inf if HiGHS fails. The
        same open sites twice in a row are solved once."""
        if not self._set(is_open) and self._value is not None:
            return self._value
        # HiGHS's time limit counts the object's whole run time: each solve gets its own.
        self.h.setOptionValue("time_limit", self.h.getRunTime() + self.time_limit_s)
        self.h.run()
        self.evaluations += 1
        if self.h.modelStatusToString(self.h.getModelStatus()) != "Optimal":
            self._value = float("inf")
        else:
            self._value = float(self.h.getInfo().objective_function_value) + self.offset
            if self._value < self._best[0]:  # kept: the search usually ends on its best set
                x = np.asarray(self.h.getSolution().col_value, dtype=np.float64)
                self._best = (self._value, self.is_open.copy(), x)
        return self._value

    def assignment(self, is_open: npt.NDArray[np.bool_]) -> tuple[float, Any] | None:
        """``(cost, (pair site, pair cell, share, matrix entry))`` of the optimal assignment
        to ``is_open`` (the pairs of its sites, as :func:`mip_capacitated` with
        ``fix_open`` returns it), or None when HiGHS fails."""
        value, best_open, x = self._best
        if best_open is None or not np.array_equal(best_open, is_open):
            value = self.value(is_open)
            x = np.asarray(self.h.getSolution().col_value, dtype=np.float64)
        if not np.isfinite(value) or x.size != self.size + self.dem.size:
            return None
        pj, pi, _ = self.pairs
        sel = is_open[pj]
        entry = None if self.entry is None else self.entry[sel]
        return value, (pj[sel], pi[sel], x[: self.size][sel], entry)


def _silent_highs(highspy: Any) -> Any:
    """A ``Highs`` instance that prints nothing: HiGHS writes its copyright banner
    straight to the C-level stdout when the first instance is made (``output_flag``
    comes too late for it), which would break ``--quiet`` and pipes of our output."""
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h
