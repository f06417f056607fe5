"""Moved to :mod:`hexaccess.optimise` (kept for one release: import from there).

The coverage matrix is :mod:`hexaccess.optimise.matrix`, building it and its candidates
:mod:`hexaccess.optimise.build`, saving and loading it :mod:`hexaccess.optimise.cache`,
evaluating networks :mod:`hexaccess.optimise.evaluate`.
"""

from hexaccess.optimise.build import candidate_frame, candidates_from_cells, coverage_matrix
from hexaccess.optimise.evaluate import NetworkEvaluation, evaluate_networks
from hexaccess.optimise.matrix import (
    DEFAULT_CUTOFF_S,
    FORMAT_VERSION,
    ByCell,
    CoverageMatrix,
    default_time_unit,
)

__all__ = [
    "DEFAULT_CUTOFF_S",
    "FORMAT_VERSION",
    "ByCell",
    "CoverageMatrix",
    "NetworkEvaluation",
    "candidate_frame",
    "candidates_from_cells",
    "coverage_matrix",
    "default_time_unit",
    "evaluate_networks",
]
