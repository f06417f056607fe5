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

__all__ = ["OptimiseResult", "Solution", "build_result"]


@dataclass
class OptimiseResult:
    """The outcome of :func:`~hexaccess.optimise.optimise` (units: see
    :mod:`hexaccess.optimise`).

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
        """Number of chosen sites."""
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


def build_result(
    problem: Problem,
    solution: Solution,
    method: str,
    seconds: float,
    details: dict[str, Any],
) -> OptimiseResult:
    """The result of ``solution`` (objective and bound already in reported units)."""
    matrix, w, fixed = problem.matrix, problem.w, problem.rules.fixed
    is_open, value, bound = solution.is_open, solution.value, solution.bound
    assert is_open is not None and value is not None
    chosen = np.flatnonzero(is_open).astype(np.int64)
    t, who = _nearest_chosen(matrix, chosen)
    served = who >= 0
    total = float(w.sum())
    capped_t = np.where(served, np.minimum(t, matrix.cutoff_units), matrix.cutoff_units)
    mean_time = float(np.sum(w * capped_t)) * matrix.time_unit_s / total / 60.0
    if solution.assignment is None:
        catch = np.bincount(who[served], weights=w[served], minlength=matrix.num_candidates)
    else:
        pj, pi, z = solution.assignment
        catch = np.bincount(pj, weights=w[pi] * z, minlength=matrix.num_candidates)
    covered = _covered(problem, is_open, t, served, details.get("threshold_km"))
    gap = None
    if bound is not None and value is not None:
        denom = max(abs(value), 1e-12)
        lead = (value - bound) if problem.objective != "coverage" else (bound - value)
        gap = max(0.0, lead) / denom
    units = problem.threshold_units
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
        sites=_sites_frame(matrix, chosen, fixed, catch),
        total_population=total,
        mean_time_min=mean_time,
        unserved_population=float(w[~served].sum()),
        threshold_min=None if units is None else units * matrix.time_unit_s / 60.0,
        covered_population=covered,
        details=details,
    )
