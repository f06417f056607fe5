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

Constraints for all (:class:`Constraints`): fixed (pinned) sites, forbidden sites,
at-least-one-per-region, and for ``mean-time``/``coverage`` an optional capacity (people
per office). Solver settings: :class:`SolverOptions`.

Solvers (``SolverOptions.method``):

* ``heuristic``: greedy addition, then best-improvement swap local search (Teitz–Bart
  interchange evaluated with the Resende–Werneck gain/loss/extra bookkeeping, Numba
  kernels in :mod:`hexaccess.optimise._kernels`); optional random restarts seeded by
  ``seed``. Deterministic for a given seed. Set cover adds redundancy elimination,
  drop-add moves (close a site, repair with swaps) and kicks of an iterated local search
  (it reached HiGHS's optimum on 400 of 400 random instances of 10–30 sites and 50–300
  cells). **With capacities** the sites of the uncapacitated heuristic and of a
  capacity-aware greedy are improved by bound-screened swaps (the assignment LP's
  capacity prices bound a swap before it is solved), double swaps on small instances and
  kicks alternating with restarts, each open set valued by the exact assignment LP
  (:class:`~hexaccess.optimise.mip.TransportLP`, HiGHS) within a work budget; the people
  are then assigned to the chosen sites optimally under the capacities, so the reported
  objective is feasible and exact *for those sites* (it reached the MIP's optimum on
  360 of 360 random capacitated instances of 10–30 sites and 30–80 cells per objective,
  and on spopt's test instances); only the MIP proves it.
* ``mip``: the exact integer programme solved by HiGHS (``highspy``) within a time limit;
  reports the best bound (LP relaxation / branch-and-bound dual bound) and the gap.
* ``auto`` (default): the heuristic, then the MIP warm-started with the heuristic's
  solution when the instance fits (``mip_max_size`` pairs), to certify it with a bound.
  The better of the two solutions is returned.

MIP formulations: see :mod:`hexaccess.optimise.mip`.

Objective units: ``mean-time`` in minutes (population-weighted over *all* people, unserved
at the cutoff), ``coverage`` in people covered, ``cover`` in offices. ``gap`` is
``|objective − bound| / |objective|`` (a fraction), ``None`` when no bound is known.
Times come from the matrix, floored to its time unit (1 s by default).

Every result states what proves it (``OptimiseResult.proof``): ``'optimal'`` (a bound
within a relative gap of 1e-6), ``'bounded'`` (a bound and its ``gap``) or ``'none'``
(no bound: ``method='heuristic'``, or ``auto`` when the MIP is skipped above
``mip_max_size`` and no Lagrangian bound applies). A result whose sites break a
constraint is never called optimal.

Capacities: people the capacities leave over are unserved; ``unserved_population``,
``mean_time_min``, ``covered_population`` and the catchments are those of the capacitated
assignment (what the objective counts), with a warning saying how many people are left
over (``over_capacity_population``), and ``capacity_free`` gives the same figures with
everyone at the nearest chosen site. Limits: at most 65,535 candidates
(``problem.MAX_CANDIDATES``) and 64 threads (or the core count when larger).

The package, module by module (the public names are all re-exported here):

- :mod:`~hexaccess.optimise.matrix`: :class:`CoverageMatrix`, the sparse candidate × cell
  travel times; :mod:`~hexaccess.optimise.build` computes one from a study
  (:func:`coverage_matrix`) and makes candidates (:func:`candidates_from_cells`);
  :mod:`~hexaccess.optimise.cache` saves and loads it (verified against a manifest).
- :mod:`~hexaccess.optimise.evaluate`: :func:`evaluate_networks`, band histograms of many
  networks at once.
- :mod:`~hexaccess.optimise.problem`: :class:`Constraints`, :class:`SolverOptions`, the
  checks and the cost model; :mod:`~hexaccess.optimise.solve`: :func:`optimise`, over
  :mod:`~hexaccess.optimise.heuristic`, :mod:`~hexaccess.optimise.lagrangian` and
  :mod:`~hexaccess.optimise.mip`; :mod:`~hexaccess.optimise.result`:
  :class:`OptimiseResult`; :mod:`~hexaccess.optimise.curve`: :func:`coverage_curve`.
- :mod:`~hexaccess.optimise.workflow`: the ``hexaccess optimise`` steps as library calls
  (:func:`candidate_sites`, :func:`cached_or_new_matrix`).
"""

from __future__ import annotations

from hexaccess.errors import InfeasibleError
from hexaccess.optimise.build import (
    candidate_frame,
    candidates_from_cells,
    coverage_matrix,
)
from hexaccess.optimise.curve import coverage_curve, plot_coverage_curve
from hexaccess.optimise.evaluate import NetworkEvaluation, evaluate_networks
from hexaccess.optimise.matrix import (
    DEFAULT_CUTOFF_S,
    FORMAT_VERSION,
    ByCell,
    CoverageMatrix,
    default_time_unit,
)
from hexaccess.optimise.problem import (
    METHODS,
    OBJECTIVES,
    Constraints,
    CostModel,
    SolverOptions,
    cost_model,
)
from hexaccess.optimise.result import OptimiseResult
from hexaccess.optimise.solve import optimise
from hexaccess.optimise.workflow import (
    cached_or_new_matrix,
    candidate_sites,
    forbidden_mask,
    matrix_provenance,
    reusable_matrix,
)

__all__ = [
    "DEFAULT_CUTOFF_S",
    "FORMAT_VERSION",
    "METHODS",
    "OBJECTIVES",
    "ByCell",
    "Constraints",
    "CostModel",
    "CoverageMatrix",
    "InfeasibleError",
    "NetworkEvaluation",
    "OptimiseResult",
    "SolverOptions",
    "cached_or_new_matrix",
    "candidate_frame",
    "candidate_sites",
    "candidates_from_cells",
    "cost_model",
    "coverage_curve",
    "coverage_matrix",
    "default_time_unit",
    "evaluate_networks",
    "forbidden_mask",
    "matrix_provenance",
    "optimise",
    "plot_coverage_curve",
    "reusable_matrix",
]
