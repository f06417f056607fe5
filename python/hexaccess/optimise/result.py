"""The outcome of an optimisation: :class:`OptimiseResult`, with the chosen sites, their
catchments and the matrix figures of the chosen network."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.optimise.matrix import CoverageMatrix
from hexaccess.optimise.problem import Problem, within_km

__all__ = ["CAPACITY_NOTE", "PROOF_GAP", "OptimiseResult", "Solution", "build_result", "proof_of"]

#: A relative gap at most this large counts as proven optimal (HiGHS's default gap).
PROOF_GAP = 1e-6
#: Shares of a cell within this of 0 or 1 are LP tolerance noise, snapped in the report.
_SNAP = 1e-7
#: How the capacity-aware figures of a result differ from the capacity-free ones.
CAPACITY_NOTE = (
    "capacity-aware: matrix_mean_time_min, unserved_population, covered_population and "
    "catchment_population come from the assignment within the capacities (people left over "
    "are unserved, at the cutoff); capacity_free: every person at the nearest chosen site, "
    "capacities ignored"
)


@dataclass
class OptimiseResult:
    """The outcome of :func:`~hexaccess.optimise.optimise` (units: see
    :mod:`hexaccess.optimise`).

    ``sites`` lists the chosen candidates: ``candidate`` (index), ``name, municipality,
    lon, lat, fixed, catchment_population`` (people whose nearest chosen site within the
    cutoff it is; with capacities, the people assigned to it; then ``capacity``).

    ``proof`` says what is known of the answer: ``'optimal'`` (a bound proves it within
    :data:`PROOF_GAP`), ``'bounded'`` (a bound, ``gap`` above that) or ``'none'`` (no
    bound: a heuristic answer, which may or may not be optimal).

    With capacities (``capacity_aware``) ``mean_time_min``, ``unserved_population`` and
    ``covered_population`` are those of the capacitated assignment, as the objective
    counts them: people the capacities leave over are unserved (at the cutoff in the mean
    time, and ``over_capacity_population`` counts them separately); ``capacity_free`` holds
    the same figures with every person at the nearest chosen site, capacities ignored.
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
    proof: str = "none"
    capacity_aware: bool = False
    over_capacity_population: float | None = None
    capacity_free: dict[str, Any] | None = None

    @property
    def p(self) -> int:
        """Number of chosen sites."""
        return int(self.chosen.size)

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures: objective, proof, bound, gap (fraction), solve time, counts;
        with capacities, the capacity-free figures labelled as such."""
        out = {
            "objective_name": self.objective_name,
            "objective": self.objective,
            "proof": self.proof,
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
            "unserved_population": self.unserved_population,
            "capacity_aware": self.capacity_aware,
        }
        if self.capacity_aware:
            out["over_capacity_population"] = self.over_capacity_population
            out["capacity_free"] = self.capacity_free
            out["capacity_note"] = CAPACITY_NOTE
        out.update(self.details)
        return out


@dataclass
class Solution:
    """A solver's answer, being improved: the open sites, the objective and bound (model
    units while solving, reported units in :func:`build_result`), the status, which
    solver found it, and the capacitated assignment ``(pair candidate, pair cell, z)``."""

    is_open: npt.NDArray[np.bool_] | None = None
    value: float | None = None
    bound: float | None = None
    status: str = ""
    used: str = "heuristic"
    assignment: Any = None


def _nearest_chosen(
    matrix: CoverageMatrix, chosen: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
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


def _covered(
    problem: Problem,
    is_open: npt.NDArray[np.bool_],
    t: npt.NDArray[np.int64],
    served: npt.NDArray[np.bool_],
    km: float | None,
) -> float | None:
    """People within the time threshold (or within ``km`` along the fastest path of any
    open site); None without a threshold."""
    matrix, w = problem.matrix, problem.w
    if problem.threshold_units is not None:
        return float(w[served & (t < problem.threshold_units)].sum())
    if km is None:
        return None
    # Within T km: any open site whose fastest path is at most T km long.
    rows = np.repeat(np.arange(matrix.num_candidates), np.diff(matrix.indptr))
    near = is_open[rows] & within_km(matrix, km)
    hit = np.zeros(matrix.num_cells, dtype=bool)
    hit[matrix.cell[near]] = True
    return float(w[hit].sum())


def _sites_frame(
    matrix: CoverageMatrix,
    chosen: npt.NDArray[np.int64],
    fixed: npt.NDArray[np.bool_],
    catch: npt.NDArray[np.float64],
) -> pd.DataFrame:
    """``OptimiseResult.sites``: one row per chosen candidate."""
    cand = matrix.candidates
    return pd.DataFrame(
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


def proof_of(value: float, bound: float | None, objective: str) -> tuple[float | None, str]:
    """``(gap, proof)`` of a reported ``value`` and ``bound`` (``coverage`` is maximised,
    the others minimised): no bound is ``'none'``, a gap within :data:`PROOF_GAP`
    ``'optimal'``, else ``'bounded'``."""
    if bound is None:
        return None, "none"
    lead = (value - bound) if objective != "coverage" else (bound - value)
    gap = max(0.0, lead) / max(abs(value), 1e-12)
    return gap, "optimal" if gap <= PROOF_GAP else "bounded"


@dataclass
class _Figures:
    """Per-site catchments and the network's mean time, unserved and covered people."""

    catch: npt.NDArray[np.float64]
    mean_time_min: float
    unserved: float
    covered: float | None


def _nearest_figures(
    problem: Problem, is_open: npt.NDArray[np.bool_], chosen: npt.NDArray[np.int64], km: Any
) -> _Figures:
    """Everyone at the nearest chosen site within the cutoff (capacities ignored)."""
    matrix, w = problem.matrix, problem.w
    t, who = _nearest_chosen(matrix, chosen)
    served = who >= 0
    capped_t = np.where(served, np.minimum(t, matrix.cutoff_units), matrix.cutoff_units)
    mean_time = float(np.sum(w * capped_t)) * matrix.time_unit_s / float(w.sum()) / 60.0
    catch = np.bincount(who[served], weights=w[served], minlength=matrix.num_candidates)
    covered = _covered(problem, is_open, t, served, km)
    return _Figures(catch, mean_time, float(w[~served].sum()), covered)


def _assigned_figures(problem: Problem, assignment: Any, km: Any) -> _Figures:
    """The capacitated assignment ``(site, cell, share, matrix entry)`` per pair: people
    left over by the capacities are unserved and count at the cutoff."""
    matrix, w = problem.matrix, problem.w
    pj, pi, z, entry = assignment
    z = np.where(z < _SNAP, 0.0, np.where(z > 1.0 - _SNAP, 1.0, z))  # LP tolerance noise
    share = w[pi] * z
    catch = np.bincount(pj, weights=share, minlength=matrix.num_candidates)
    assigned = np.minimum(np.bincount(pi, weights=share, minlength=matrix.num_cells), w)
    left = w - assigned
    left[left < _SNAP * np.maximum(w, 1.0)] = 0.0
    t = matrix.time[entry].astype(np.float64)
    units = float(np.sum(share * t) + np.sum(left) * matrix.cutoff_units)
    mean_time = units * matrix.time_unit_s / float(w.sum()) / 60.0
    covered = None
    if problem.threshold_units is not None:
        covered = float(share[t < problem.threshold_units].sum())
    elif km is not None:
        covered = float(share[within_km(matrix, km)[entry]].sum())
    covered = None if covered is None else round(covered, 6)
    return _Figures(np.round(catch, 6), mean_time, round(float(left.sum()), 6), covered)


def build_result(
    problem: Problem,
    solution: Solution,
    method: str,
    seconds: float,
    details: dict[str, Any],
) -> OptimiseResult:
    """The result of ``solution`` (objective and bound already in reported units; with
    capacities, ``solution.assignment`` is the assignment by time, see
    :func:`_assigned_figures`)."""
    matrix, fixed = problem.matrix, problem.rules.fixed
    is_open, value, bound = solution.is_open, solution.value, solution.bound
    assert is_open is not None and value is not None
    chosen = np.flatnonzero(is_open).astype(np.int64)
    km = details.get("threshold_km") or problem.report_km
    free = _nearest_figures(problem, is_open, chosen, km)
    figures, capacity_free, over = free, None, None
    if problem.capacity is not None and solution.assignment is not None:
        figures = _assigned_figures(problem, solution.assignment, km)
        if problem.objective == "coverage":
            figures.covered = value  # what the objective counts (the report keeps it)
        capacity_free = {
            "mean_time_min": free.mean_time_min,
            "unserved_population": free.unserved,
            "covered_population": free.covered,
            "catchment_population": free.catch[chosen].tolist(),
        }
        over = max(0.0, figures.unserved - free.unserved)
    gap, proof = proof_of(value, bound, problem.objective)
    units = problem.threshold_units
    sites = _sites_frame(matrix, chosen, fixed, figures.catch)
    if problem.capacity is not None:
        sites["capacity"] = problem.capacity[chosen]
    return OptimiseResult(
        objective_name=problem.objective,
        objective=value,
        bound=bound,
        gap=gap,
        solve_seconds=seconds,
        method=method,
        status=solution.status,
        chosen=chosen,
        num_fixed=int((fixed & is_open).sum()),
        sites=sites,
        total_population=float(problem.w.sum()),
        mean_time_min=figures.mean_time_min,
        unserved_population=figures.unserved,
        threshold_min=None if units is None else units * matrix.time_unit_s / 60.0,
        covered_population=figures.covered,
        details=details,
        proof=proof,
        capacity_aware=capacity_free is not None,
        over_capacity_population=over,
        capacity_free=capacity_free,
    )
