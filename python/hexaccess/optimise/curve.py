"""The coverage curve: the best coverage and the best mean time for each network size,
as a table (:func:`coverage_curve`) and a figure (:func:`plot_coverage_curve`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hexaccess.optimise.matrix import CoverageMatrix
from hexaccess.optimise.problem import Constraints, SolverOptions, resolve_options
from hexaccess.optimise.solve import optimise

__all__ = ["coverage_curve", "plot_coverage_curve"]


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
    ``mean_time_min``, ``mean_time_bound_min``.
    """
    constraints, solver = resolve_options(
        "coverage_curve", constraints, solver, legacy,
        default_solver=SolverOptions(method="heuristic"),
    )  # fmt: skip
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
            }
        )
    return pd.DataFrame(rows)


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
