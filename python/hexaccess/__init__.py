"""hexaccess: accessibility engine for planning networks of public service offices.

A Rust core computes multi-source shortest-path travel times from offices to every node
of a travel-time graph (road junctions or H3 cells); Python wraps it with data loading,
coverage statistics, optimisation, reports and a CLI. See ``ARCHITECTURE.md`` for the
code map and ``docs/engine-semantics.md`` for the exact definition of a search.

The top level holds the study API (:class:`Study`, :class:`StudyResult`), the engine
(:class:`Graph` and its results) and the errors (:class:`HexaccessError` and its
subclasses). Subpackages load on first use: ``hexaccess.population``,
``hexaccess.network``, ``hexaccess.optimise``, ``hexaccess.analysis`` ...
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from hexaccess._engine import rust_available
from hexaccess.errors import (
    AccessibilityInputError,
    AnalysisInputError,
    CalibrationError,
    CorruptOutputError,
    EngineInputError,
    FallbackWarning,
    GeoParquetError,
    GtfsError,
    HexaccessError,
    InfeasibleError,
    InputError,
    InputFileError,
    MissingDependencyError,
    OfficeInputError,
    OutputError,
    PopulationInputError,
    ProfileError,
    RoadDataError,
    ScenarioError,
    UnknownNameError,
)
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

#: Names served lazily (importing them pulls in the readers and analysis modules).
_LAZY = {
    "Study": "hexaccess.api",
    "StudyResult": "hexaccess.api",
    "ReportOptions": "hexaccess.api",
    "StudyOutputs": "hexaccess.api",
    "TransitStudyResult": "hexaccess.api",
}

#: Subpackages and modules importable as attributes (``hexaccess.optimise``).
_SUBMODULES = {
    "analysis", "api", "calibrate", "cli", "country", "coverage", "datasets", "defaults",
    "errors", "geoparquet", "h3", "inputs", "layers", "network", "offices", "optimise",
    "outputs", "population", "profiles", "report", "scenario", "study", "synthetic",
    "transit", "distributed",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"hexaccess.{name}")
    raise AttributeError(f"module 'hexaccess' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)


__all__ = [
    "CSR",
    "DEFAULT_BAND_EDGES_S",
    "UNREACHED",
    "AccessibilityInputError",
    "AnalysisInputError",
    "BandHistogram",
    "BatchResult",
    "CalibrationError",
    "CorruptOutputError",
    "EngineInputError",
    "FallbackWarning",
    "GeoParquetError",
    "Graph",
    "GtfsError",
    "HexaccessError",
    "InfeasibleError",
    "InputError",
    "InputFileError",
    "MissingDependencyError",
    "NearestResult",
    "NearestResultBatch",
    "OfficeInputError",
    "OutputError",
    "PopulationInputError",
    "ProfileError",
    "ReportOptions",
    "RoadDataError",
    "ScenarioError",
    "SparseSearch",
    "Study",
    "StudyOutputs",
    "StudyResult",
    "TransitStudyResult",
    "UnknownNameError",
    "__version__",
    "rust_available",
]
