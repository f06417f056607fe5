"""The entry point :func:`optimise`: the heuristic, the Lagrangian bound and the MIP run in
turn on one prepared :class:`~hexaccess.optimise.problem.Problem`, and the better answer
is reported (see :mod:`hexaccess.optimise` for the objectives, solvers and units)."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from hexaccess.errors import InfeasibleError, InputError
from hexaccess.optimise.heuristic import (
    CAPACITY_KICKS,
    SEARCH_KICKS,
    capacitated_heuristic,
    cover_heuristic,
    heuristic,
)
from hexaccess.optimise.lagrangian import lagrangian_pmedian
from hexaccess.optimise.matrix import CoverageMatrix
from hexaccess.optimise.mip import (
    MipOutcome,
    PMedianPairs,
    mip_capacitated,
    mip_coverage,
    mip_pmedian,
    pmedian_pairs,
)
from hexaccess.optimise.problem import (
    Constraints,
    Problem,
    SolverOptions,
    cost_model,
    prepare,
    resolve_options,
    within_km,
)
from hexaccess.optimise.result import OptimiseResult, Solution, build_result

__all__ = ["optimise"]


def optimise(
    matrix: CoverageMatrix,
    objective: str = "mean-time",
    *,
    total: int | None = None,
    add: int | None = None,
    threshold_min: float | None = None,
    threshold_km: float | None = None,
    cover_pct: float = 99.0,
    column: str | None = None,
    constraints: Constraints | None = None,
    solver: SolverOptions | None = None,
    **legacy: Any,
) -> OptimiseResult:
    """Choose office sites among the matrix's candidates (see :mod:`hexaccess.optimise`).

    Parameters
    ----------
    objective
        ``'mean-time'`` (p-median), ``'coverage'`` (maximal coverage within
        ``threshold_min``) or ``'cover'`` (fewest sites with ``cover_pct`` % within
        ``threshold_min``).
    total, add
        Number of sites ``p`` (``total``), or ``add`` sites on top of the fixed ones.
    threshold_min
        Minutes: coverage counts times ``< threshold_min``; for ``mean-time`` it only
        reports the coverage.
    threshold_km
        Instead of ``threshold_min`` for ``coverage``/``cover``: a cell is covered by a
        site whose fastest path to it is at most this long (the study's 2013 criterion:
        40 km by road). Only pairs within the matrix's time cutoff are known.
    cover_pct
        ``cover``: the share of all people to cover, % in (0, 100].
    column
        Population column to weigh the cells by (default: the matrix's first).
    constraints
        Fixed and forbidden sites, capacities, one site per region
        (:class:`~hexaccess.optimise.Constraints`; default: none but the candidates'
        ``fixed`` column).
    solver
        Method, time limit, MIP size limit, Lagrangian iterations, seed, restarts,
        threads (:class:`~hexaccess.optimise.SolverOptions`).
    **legacy
        Deprecated (kept for one release): the fields of both objects as keywords
        (``fixed=``, ``method=``, ...). Giving a field both ways is an error.
    """
    t0 = time.perf_counter()
    constraints, solver = resolve_options("optimise", constraints, solver, legacy)
    problem = prepare(
        matrix, objective, constraints, total=total, add=add, threshold_min=threshold_min,
        threshold_km=threshold_km, cover_pct=cover_pct, column=column,
    )  # fmt: skip
    if objective == "cover":
        return _optimise_cover(problem, solver, t0)
    return _optimise_sites(problem, solver, t0)


# ---------------------------------------------------------------------- p sites
def _mip_next(problem: Problem, solver: SolverOptions) -> bool:
    """Whether the exact MIP runs after the heuristic (``auto`` within ``mip_max_size``,
    measured by the allowed pairs with people: at least the MIP's size)."""
    model, rules = problem.model, problem.rules
    size = int(np.count_nonzero(rules.allowed[model.ccand] & (model.w[model.ccell] > 0)))
    return solver.method == "auto" and size <= solver.mip_max_size


def _capacity_kicks(problem: Problem, solver: SolverOptions) -> int:
    """Kicks of the capacitated heuristic: ``restarts`` when the exact MIP runs next
    (``auto`` within ``mip_max_size``), else :data:`CAPACITY_KICKS` more."""
    return solver.restarts + (0 if _mip_next(problem, solver) else CAPACITY_KICKS)


def _heuristic_step(
    problem: Problem, solver: SolverOptions, details: dict[str, Any], t0: float
) -> Solution:
    """The heuristic's sites and value (with capacities: the optimal assignment to them)."""
    assert problem.p is not None
    model, rules = problem.model, problem.rules
    # The iterated local search only when no MIP follows (it would prove or beat it);
    # with capacities the capacity-aware search below does the kicking.
    kicks = 0 if problem.capacity is not None or _mip_next(problem, solver) else SEARCH_KICKS
    is_open, info = heuristic(model, rules, problem.p, solver.seed, solver.restarts, kicks)
    details.update(info)
    found = Solution(is_open, model.evaluate(is_open), None, "heuristic (local optimum)")
    if problem.capacity is not None:
        is_open, info = capacitated_heuristic(
            model,
            rules,
            problem.p,
            problem.capacity,
            is_open,
            solver.highs(),
            solver.seed,
            _capacity_kicks(problem, solver),
        )
        # The search's own LP holds the optimal assignment to its sites: no second solve.
        solved = info.pop("assignment", None)
        details.update(info)
        if solved is None:
            out, _, assignment, _ = mip_capacitated(
                model, rules, problem.p, problem.capacity, is_open, True,
                np.iinfo(np.int64).max, **solver.highs(),
            )  # fmt: skip
            solved = (out.value, assignment)
        found.is_open, (found.value, found.assignment) = is_open, solved
        found.status = "heuristic sites (capacity-aware swaps), optimal capacitated assignment"
    details["heuristic_seconds"] = time.perf_counter() - t0
    return found


def _lagrangian_step(
    problem: Problem,
    solver: SolverOptions,
    pairs: PMedianPairs | None,
    found: Solution,
    details: dict[str, Any],
) -> None:
    """The Lagrangian bound of the uncapacitated p-median, from the heuristic's sites."""
    assert problem.p is not None and pairs is not None and found.is_open is not None
    tl = time.perf_counter()
    found.bound = lagrangian_pmedian(
        problem.model, problem.rules, pairs, problem.p, found.is_open, solver.lagrangian_iters
    )
    details["lagrangian_bound_seconds"] = time.perf_counter() - tl
    matrix = problem.matrix
    details["lagrangian_bound"] = found.bound * matrix.time_unit_s / 60.0 / problem.total_w


def _run_mip(
    problem: Problem, solver: SolverOptions, pairs: PMedianPairs | None, start: Any
) -> tuple[MipOutcome | None, Any, Any, int]:
    """The MIP of the objective: (outcome, open mask, assignment, size); no outcome when
    the instance is above ``mip_max_size``."""
    assert problem.p is not None
    model, rules, p, size_limit = problem.model, problem.rules, problem.p, solver.mip_max_size
    if problem.capacity is not None:
        return mip_capacitated(
            model, rules, p, problem.capacity, start, False, size_limit, **solver.highs()
        )
    if problem.objective == "coverage":
        out, mopen, size, _ = mip_coverage(
            model, rules, p, None, start, size_limit, **solver.highs()
        )
        return out, mopen, None, size
    assert pairs is not None
    out, mopen, size = mip_pmedian(model, rules, pairs, p, start, size_limit, **solver.highs())
    return out, mopen, None, size


def _mip_step(
    problem: Problem,
    solver: SolverOptions,
    pairs: PMedianPairs | None,
    found: Solution,
    details: dict[str, Any],
) -> None:
    """Run the MIP (warm-started with ``found``) and keep the better answer, with the
    best bound of both, in ``found``."""
    out, mopen, massign, size = _run_mip(problem, solver, pairs, found.is_open)
    details["mip_size"] = size
    if out is None:
        if solver.method == "mip":
            raise InputError(
                f"the MIP has {size:,} pairs, above mip_max_size={solver.mip_max_size:,}; "
                "raise it or use method='heuristic'"
            )
        details["mip"] = f"skipped: {size:,} pairs > mip_max_size"
        return
    details["mip_status"] = out.status
    details["mip_seconds"] = out.seconds
    if out.bound is not None:
        found.bound = out.bound if found.bound is None else max(found.bound, out.bound)
    value = found.value
    if out.value is not None and (value is None or out.value < value - 1e-9 * abs(value)):
        found.is_open, found.value, found.assignment, found.used = mopen, out.value, massign, "mip"
        found.status = out.status
    elif value is not None:
        found.used = "heuristic" if solver.method == "auto" else "mip"
        if out.status == "Optimal":
            found.status = "optimal (heuristic solution certified by MIP)"
    if found.value is not None and found.bound is not None:
        found.bound = min(found.bound, found.value)  # numerical noise may put the bound above


def _optimise_sites(problem: Problem, solver: SolverOptions, t0: float) -> OptimiseResult:
    """``mean-time`` and ``coverage``: exactly ``p`` sites."""
    method, details = solver.method, problem.base_details()
    uncapacitated_pmedian = problem.objective == "mean-time" and problem.capacity is None
    # The uncapacitated p-median's pairs, shared by the Lagrangian bound and the MIP.
    pairs = None
    if uncapacitated_pmedian and method != "heuristic":
        pairs = pmedian_pairs(problem.model, problem.rules)
    found = Solution()
    if method in ("auto", "heuristic"):
        found = _heuristic_step(problem, solver, details, t0)
    if method == "auto" and uncapacitated_pmedian and solver.lagrangian_iters > 0:
        _lagrangian_step(problem, solver, pairs, found, details)
    if method in ("auto", "mip"):
        _mip_step(problem, solver, pairs, found, details)
    if found.is_open is None or found.value is None:
        raise InfeasibleError(f"no solution found ({found.status or 'MIP without incumbent'})")
    total_w = problem.total_w
    value, bound = found.value, found.bound
    if problem.objective == "mean-time":
        scale = problem.matrix.time_unit_s / 60.0 / total_w
        found.value, found.bound = value * scale, None if bound is None else bound * scale
    else:  # internal objective = uncovered people
        found.value, found.bound = total_w - value, None if bound is None else total_w - bound
    details["method_used"] = found.used
    if problem.capacity is not None and problem.objective == "coverage":
        _time_assignment(problem, solver, found)
    result = build_result(problem, found, method, time.perf_counter() - t0, details)
    return _finish(problem, result)


# ---------------------------------------------------------------------- reporting
def _time_assignment(problem: Problem, solver: SolverOptions, found: Solution) -> None:
    """Coverage with capacities: replace the assignment by the one of least travel time
    that keeps the covered people (so the reported mean time and unserved people respect
    the capacities too); kept as it is if that LP fails."""
    assert found.is_open is not None and found.value is not None and problem.capacity is not None
    matrix = problem.matrix
    model = cost_model(matrix, "time", problem.w)
    assert model.entry is not None
    t = matrix.time[model.entry]
    if problem.threshold_units is not None:
        covered = t < problem.threshold_units
    else:
        covered = within_km(matrix, problem.km or 0.0)[model.entry]
    floor = found.value * (1.0 - 1e-9) - 1e-9
    out, _, assignment, _ = mip_capacitated(
        model, problem.rules, int(found.is_open.sum()), problem.capacity, found.is_open, True,
        np.iinfo(np.int64).max, (covered, floor), **solver.highs(),
    )  # fmt: skip
    if out is not None and out.status == "Optimal" and assignment is not None:
        found.assignment = assignment


def _violations(problem: Problem, result: OptimiseResult) -> list[str]:
    """The constraints ``result`` breaks (none for a correct solver): site count, fixed,
    forbidden and region rules, capacities, the cover target."""
    rules, chosen = problem.rules, result.chosen
    is_open = np.zeros(problem.matrix.num_candidates, bool)
    is_open[chosen] = True
    out = []
    if problem.p is not None and chosen.size != problem.p:
        out.append(f"{chosen.size} sites open, {problem.p} asked")
    if np.any(rules.fixed & ~is_open):
        out.append("a fixed site is closed")
    if np.any(is_open & ~rules.allowed):
        out.append("a forbidden site is open")
    if rules.use_regions and np.any(rules.required & (rules.region_count(is_open) == 0)):
        out.append("a region has no site")
    if problem.capacity is not None:
        cap = problem.capacity[chosen]
        load = result.sites["catchment_population"].to_numpy(dtype=float)
        over = np.isfinite(cap) & (load > cap + 1e-6 * np.maximum(cap, 1.0))
        if over.any():
            out.append(f"{int(over.sum())} site(s) hold more people than their capacity")
    if problem.objective == "cover" and result.covered_population is not None:
        need = problem.total_w * problem.cover_pct / 100.0
        if result.covered_population < need - 1e-6 * max(need, 1.0):
            out.append(f"{result.covered_population:,.0f} people covered, {need:,.0f} asked")
    return out


def _finish(problem: Problem, result: OptimiseResult) -> OptimiseResult:
    """Check the result against its constraints (a broken one is never called optimal)
    and say so when capacities leave people over (counted as unserved)."""
    broken = _violations(problem, result)
    if broken:
        result.proof = "none"
        result.status = "constraints violated: " + "; ".join(broken)
        warnings.warn(f"the solver's answer breaks its constraints: {result.status}", stacklevel=4)
    over = result.over_capacity_population
    if over is not None and over > 1e-6 * max(result.total_population, 1.0):
        cap = problem.capacity[result.chosen] if problem.capacity is not None else np.zeros(0)
        held = "unlimited" if np.any(~np.isfinite(cap)) else f"{float(cap.sum()):,.0f}"
        message = (
            f"the capacities of the {result.p} chosen sites ({held} people) leave "
            f"{over:,.0f} of {result.total_population:,.0f} people unserved although a chosen "
            "site is within the cutoff; they count as unserved (at the cutoff in the mean time)"
        )
        result.status = f"{result.status}; over capacity: {over:,.0f} people left unserved"
        warnings.warn(message, stacklevel=4)
    return result


# ---------------------------------------------------------------------- set cover
def _cover_target(problem: Problem) -> tuple[float, float]:
    """(people to cover, people allowed to stay uncovered), after checking that all
    allowed sites together meet the target."""
    total_w, cover_pct = problem.total_w, problem.cover_pct
    need = total_w * cover_pct / 100.0
    allowed_uncovered = total_w - need + 1e-9 * max(total_w, 1.0)
    everything = problem.model.evaluate(problem.rules.allowed)
    if everything > allowed_uncovered:
        raise InfeasibleError(
            f"even all {int(problem.rules.allowed.sum())} allowed sites cover only "
            f"{100 * (total_w - everything) / total_w:.3f} % within the threshold; asked "
            f"{cover_pct} %"
        )
    return need, allowed_uncovered


def _cover_mip_step(
    problem: Problem, solver: SolverOptions, need: float, found: Solution, details: dict[str, Any]
) -> None:
    """The set-cover MIP (warm-started with ``found``); keeps the fewer sites in ``found``."""
    out, mopen, size, _ = mip_coverage(
        problem.model, problem.rules, None, need, found.is_open, solver.mip_max_size,
        **solver.highs(),
    )  # fmt: skip
    details["mip_size"] = size
    if out is None:
        if solver.method == "mip":
            raise InputError(f"the MIP has {size:,} pairs, above mip_max_size")
        details["mip"] = f"skipped: {size:,} pairs > mip_max_size"
        return
    details["mip_status"] = out.status
    details["mip_seconds"] = out.seconds
    if out.bound is not None:
        found.bound = float(np.ceil(out.bound - 1e-6))  # the count is an integer
    if mopen is not None and (found.value is None or mopen.sum() < found.value):
        found.is_open, found.value, found.used = mopen, float(mopen.sum()), "mip"
        found.status = out.status
    elif out.status == "Optimal":
        found.status = "optimal (heuristic solution certified by MIP)"
    if found.bound is not None and found.value is not None:
        found.bound = min(found.bound, found.value)


def _optimise_cover(problem: Problem, solver: SolverOptions, t0: float) -> OptimiseResult:
    """Set cover: fewest sites with ``cover_pct`` % within the threshold."""
    details = problem.base_details()
    need, allowed_uncovered = _cover_target(problem)
    found = Solution()
    if solver.method in ("auto", "heuristic"):
        best = cover_heuristic(
            problem.model, problem.rules, allowed_uncovered, solver.seed, solver.restarts
        )
        found = Solution(best, float(best.sum()), None, "heuristic")
        details["heuristic_seconds"] = time.perf_counter() - t0
    if solver.method in ("auto", "mip"):
        _cover_mip_step(problem, solver, need, found, details)
    if found.is_open is None or found.value is None:
        raise InfeasibleError("no solution found")
    details["method_used"] = found.used
    details["cover_pct_target"] = problem.cover_pct
    result = build_result(problem, found, solver.method, time.perf_counter() - t0, details)
    return _finish(problem, result)
