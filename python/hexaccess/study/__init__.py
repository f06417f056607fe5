"""The study layer: population, roads and offices assembled into one engine graph and
solved, with one interface for the two graph kinds.

- :mod:`hexaccess.study.road`: the road graph (cells and offices join their nearest road
  node by an access leg; :class:`~hexaccess.study.road.AccessGraph`).
- :mod:`hexaccess.study.hexagon`: the hexagon friction graph (every H3 cell a node;
  :class:`~hexaccess.study.hexagon.HexAccess`).
- :mod:`hexaccess.study.transit`: public transport + walking on a GTFS timetable
  (:class:`~hexaccess.study.transit.TransitAccess`, solved by
  :func:`~hexaccess.study.transit.solve_transit` into the same result).
- :mod:`hexaccess.study.provenance`: how a result was made (inputs with SHA-256).

:func:`build_access` and :func:`solve` take either kind and return the same
:class:`~hexaccess.study.road.AccessibilityResult`, so every figure, table, report and
output file is the same for both. The user-facing study API built on this layer is
:class:`hexaccess.Study` (:mod:`hexaccess.api`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess.errors import AccessibilityInputError, ScenarioError
from hexaccess.network import RoadNetwork
from hexaccess.offices import Offices
from hexaccess.population import PopulationGrid
from hexaccess.profiles import SpeedProfile
from hexaccess.study import hexagon, road, transit
from hexaccess.study.hexagon import HexAccess, build_hex_access, solve_study
from hexaccess.study.provenance import describe_input, provenance, sha256_file
from hexaccess.study.road import (
    COVERAGE_MINUTES,
    AccessGraph,
    AccessibilityResult,
    build_access_graph,
    check_office_indices,
)

__all__ = [
    "COVERAGE_MINUTES",
    "GRAPH_KINDS",
    "AccessGraph",
    "AccessibilityResult",
    "HexAccess",
    "build_access",
    "build_access_graph",
    "build_hex_access",
    "check_office_indices",
    "check_offices_in_study_area",
    "describe_input",
    "hexagon",
    "provenance",
    "road",
    "sha256_file",
    "solve",
    "transit",
]

#: The graph kinds of a study: ``road`` (junctions and shape points of a road network,
#: people join by access legs) and ``hex`` (the H3 friction graph).
GRAPH_KINDS = ("road", "hex")

Access = AccessGraph | HexAccess


def build_access(
    graph: str,
    roads: RoadNetwork | None,
    population: PopulationGrid,
    offices: Offices,
    profile: SpeedProfile,
    *,
    backend: str = "auto",
    columns: Sequence[str] | None = None,
    hex_options: dict[str, Any] | None = None,
) -> Access:
    """The engine graph of a study of kind ``graph`` (:data:`GRAPH_KINDS`).

    ``hex_options`` are the keywords of :func:`~hexaccess.study.hexagon.build_hex_access`
    (``resolution``, ``off_road_speed_kmh``, ``water`` ...); giving them for the road
    graph is an error, never silently ignored."""
    if graph not in GRAPH_KINDS:
        raise ScenarioError(f"graph must be one of {list(GRAPH_KINDS)}, got {graph!r}")
    if graph == "road":
        if hex_options:
            raise ScenarioError(
                f"{sorted(hex_options)} apply to the hexagon graph only; give graph='hex' "
                "or leave them out"
            )
        if roads is None:
            raise ScenarioError("the road graph needs roads; give roads=... or graph='hex'")
        return build_access_graph(roads, population, offices, profile, backend=backend)
    if backend == "numba":
        raise ScenarioError(
            "the hexagon graph is built in the Rust core; backend='numba' cannot build it "
            "(give backend='auto' or 'rust')"
        )
    return build_hex_access(
        roads, population, offices, profile, columns=columns, **(hex_options or {})
    )


def solve(
    access: Access,
    columns: Sequence[str] | None = None,
    *,
    offices: npt.ArrayLike | None = None,
    band_edges_s: npt.ArrayLike | None = None,
    provenance_info: dict[str, Any] | None = None,
) -> AccessibilityResult:
    """Nearest office for every populated cell on either graph kind, with the bands.

    ``offices`` optionally selects a subset (indices into ``access.offices``). On the
    hexagon graph the population columns are those the graph was built with."""
    if isinstance(access, HexAccess):
        if columns is not None and tuple(columns) != access.columns:
            raise ScenarioError(
                f"the hexagon graph was built for population columns {list(access.columns)}, "
                f"not {list(columns)}; build it with columns={list(columns)}"
            )
        return solve_study(
            access, offices=offices, band_edges_s=band_edges_s, provenance_info=provenance_info
        )
    return road.solve(
        access,
        columns,
        offices=offices,
        band_edges_s=band_edges_s,
        provenance_info=provenance_info,
    )


def check_offices_in_study_area(access_population: Any, offices: Offices, margin_m: float) -> None:
    """Refuse offices outside the study area: farther than ``margin_m`` (the maximum
    access distance) outside the bounding box of the populated cells. Such an office is
    almost always a coordinate error (swapped lon/lat, wrong CRS, another country)."""
    lon, lat = access_population.centers_lonlat()
    if len(lon) == 0:
        raise AccessibilityInputError("the population grid is empty")
    dlat = margin_m / 111_320.0
    mid = np.deg2rad(np.clip(np.abs(lat).max(), 0.0, 85.0))
    dlon = margin_m / (111_320.0 * np.cos(mid))
    box = (lon.min() - dlon, lon.max() + dlon, lat.min() - dlat, lat.max() + dlat)
    out = ~(
        (offices.lon >= box[0])
        & (offices.lon <= box[1])
        & (offices.lat >= box[2])
        & (offices.lat <= box[3])
    )
    if out.any():
        names = [
            f"{offices.names[i]!r} (lon {offices.lon[i]:.4f}, lat {offices.lat[i]:.4f})"
            for i in np.flatnonzero(out)[:5]
        ]
        raise AccessibilityInputError(
            f"{int(out.sum())} office(s) lie outside the study area (populated cells span "
            f"lon {lon.min():.3f}..{lon.max():.3f}, lat {lat.min():.3f}..{lat.max():.3f}): "
            f"{', '.join(names)}. Check their coordinates (lon/lat order, CRS)."
        )
