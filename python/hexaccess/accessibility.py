"""Moved to :mod:`hexaccess.study.road` (kept for one release: import from there)."""

from hexaccess.study.provenance import provenance, sha256_file
from hexaccess.study.road import *  # noqa: F403
from hexaccess.study.road import (
    COVERAGE_MINUTES,
    AccessGraph,
    AccessibilityInputError,
    AccessibilityResult,
    build_access_graph,
    cell_frame,
    check_office_indices,
    density_lookup,
    headline_summary,
    office_offsets,
    solve,
)

_sha256 = sha256_file

__all__ = [
    "COVERAGE_MINUTES",
    "AccessGraph",
    "AccessibilityInputError",
    "AccessibilityResult",
    "build_access_graph",
    "cell_frame",
    "check_office_indices",
    "density_lookup",
    "headline_summary",
    "office_offsets",
    "provenance",
    "solve",
]
