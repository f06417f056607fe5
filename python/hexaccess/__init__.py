"""hexaccess: accessibility engine for planning networks of public service offices.

A Rust core computes multi-source shortest-path travel times from offices to every node
of a travel-time graph (road junctions or H3 cells); Python wraps it with data loading,
coverage statistics, scenario search and reports. See ``docs/engine-semantics.md`` for
the exact definition of a search.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from hexaccess._backend import FallbackWarning, rust_available
from hexaccess.graph import CSR, Graph
from hexaccess.results import (
    DEFAULT_BAND_EDGES_S,
    UNREACHED,
    BandHistogram,
    BatchResult,
    NearestResult,
    NearestResultBatch,
    SparseSearch,
)

try:
    __version__ = version("hexaccess")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "CSR",
    "DEFAULT_BAND_EDGES_S",
    "UNREACHED",
    "BandHistogram",
    "BatchResult",
    "FallbackWarning",
    "Graph",
    "NearestResult",
    "NearestResultBatch",
    "SparseSearch",
    "__version__",
    "rust_available",
]
