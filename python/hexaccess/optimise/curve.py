"""The coverage curve: the best coverage and the best mean time for each network size,
as a table (:func:`coverage_curve`) and a figure (:func:`plot_coverage_curve`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hexaccess._extras import require
from hexaccess.errors import InfeasibleError, InputError
from hexaccess.optimise.matrix import CoverageMatrix
from hexaccess.optimise.problem import (
    Constraints,
    SolverOptions,
    _whole,
    resolve_options,
    site_rules,
)
from hexaccess.optimise.solve import optimise

__all__ = ["check_totals", "coverage_curve", "plot_coverage_curve", "site_limits"]


def coverage_curve(
    matrix: CoverageMatrix,
    totals: Sequence[int],
    *,
    threshold_min: float = 60.0,
    threshold_km: float | None = None,
    column: str | None = None,
    constraints: Constraints | None = None,
    solver: SolverOptions | None = None,
    **legacy: Any,
) -> pd.DataFrame:
    """Best coverage within ``threshold_min`` (or ``threshold_km``, which replaces it) and
    best mean time for each total ``N``.

    Each row solves maximal coverage and p-median separately, both with ``constraints``
    and ``solver`` (default ``SolverOptions(method='heuristic')``; ``method='auto'`` adds
    HiGHS bounds at more cost). ``**legacy``: the fields of both objects as keywords
    (``fixed=``, ``one_per_region=``, ``restarts=``, ...), deprecated, kept for one
    release. Columns: ``offices``, ``coverage_pct``, ``coverage_bound_pct``,
    ``mean_time_min``, ``mean_time_bound_min``, ``coverage_proof``, ``mean_time_proof``
    (``'optimal'``, ``'bounded'`` or ``'none'``: the heuristic default proves nothing).
    Totals that cannot hold the fixed sites (and one per region) or exceed the allowed
    candidates are refused at once, all named (:func:`check_totals`).
    """
    constraints, solver = resolve_options(
        "coverage_curve", constraints, solver, legacy,
        default_solver=SolverOptions(method="heuristic"),
    )  # fmt: skip
    check_totals(matrix, totals, constraints)
    within = (
        {"threshold_min": threshold_min} if threshold_km is None else {"threshold_km": threshold_km}
    )
    shared: dict[str, Any] = {"column": column, "constraints": constraints, "solver": solver}
    rows = []
    for n in totals:
        cov = optimise(matrix, "coverage", total=n, **within, **shared)
        med = optimise(matrix, "mean-time", total=n, **shared)
        tot = cov.total_population
        rows.append(
            {
                "offices": int(n),
                "coverage_pct": 100.0 * cov.objective / tot,
                "coverage_bound_pct": None if cov.bound is None else 100.0 * cov.bound / tot,
                "mean_time_min": med.objective,
                "mean_time_bound_min": med.bound,
                "coverage_proof": cov.proof,
                "mean_time_proof": med.proof,
            }
        )
    return pd.DataFrame(rows)


class _CandidateTable:
    """What the site rules read of a :class:`CoverageMatrix` (its candidate table), so the
    office counts can be checked before the matrix is computed."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.candidates = frame.reset_index(drop=True)

    @property
    def num_candidates(self) -> int:
        """Number of candidate sites."""
        return len(self.candidates)

    def candidate_index(self, names: Sequence[str]) -> Any:
        """Indices of candidates by name (as :meth:`CoverageMatrix.candidate_index`)."""
        return CoverageMatrix.candidate_index(self, names)  # type: ignore[arg-type]


def site_limits(
    matrix: CoverageMatrix | pd.DataFrame, constraints: Constraints
) -> tuple[int, int, str]:
    """``(least, most, why)``: the fewest sites the constraints allow (the fixed ones and
    one per required region), the most (the allowed candidates) and what ``least`` holds;
    ``matrix`` may be the candidate table alone."""
    source = matrix if isinstance(matrix, CoverageMatrix) else _CandidateTable(matrix)
    rules = site_rules(source, constraints)  # type: ignore[arg-type]
    why = f"{int(rules.fixed.sum())} fixed site(s)" + (
        " and one per region" if rules.use_regions else ""
    )
    return rules.min_sites(), int(rules.allowed.sum()), why


def check_totals(
    matrix: CoverageMatrix | pd.DataFrame,
    totals: Sequence[int],
    constraints: Constraints,
    what: str = "",
) -> None:
    """Refuse curve totals that are not whole numbers, or that cannot hold the fixed sites
    (and one per region) or exceed the allowed candidates, all named at once before any
    solve (``what``: how the caller calls the totals, e.g. ``'--curve 1:50'``)."""
    name = what or f"coverage_curve totals {list(totals)}"
    if len(totals) == 0:
        raise InputError(f"{name}: give at least one number of offices")
    counts = []
    for n in totals:
        try:
            counts.append(_whole(n, "a coverage-curve total", 1))
        except InputError as exc:
            raise InputError(f"{name}: {exc}") from None
    least, most, need = site_limits(matrix, constraints)
    least = max(least, 1)
    low = [n for n in counts if n < least]
    high = [n for n in counts if n > most]
    if low or high:
        why = []
        if low:
            why.append(f"{_few(low)} cannot hold the {need} (at least {least} needed)")
        if high:
            why.append(f"{_few(high)} exceed the {most} allowed (not forbidden) candidates")
        raise InfeasibleError(
            f"{name}: the number(s) of offices {'; '.join(why)}; give counts from {least} to {most}"
        )


def _few(values: list[int]) -> str:
    """A short list of office counts for a message."""
    shown = ", ".join(str(v) for v in values[:5])
    return shown + (f" ... ({len(values)} in all)" if len(values) > 5 else "")


def plot_coverage_curve(
    curve: pd.DataFrame,
    path: str | Path,
    threshold_min: float = 60.0,
    threshold_km: float | None = None,
) -> Path:
    """Draw a :func:`coverage_curve` table: best coverage (left axis) and best mean time
    (right axis) against the number of offices; written as PNG to ``path``."""
    matplotlib = require("matplotlib", "report", "Drawing the coverage curve")
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
