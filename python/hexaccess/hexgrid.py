"""Moved to :mod:`hexaccess.study.hexagon` (kept for one release: import from there)."""

from hexaccess.study.hexagon import *  # noqa: F403
from hexaccess.study.hexagon import (
    DEFAULT_COVER_RESOLUTION,
    DEFAULT_RESOLUTION,
    HexAccess,
    HexGraph,
    HexResult,
    build_hex_access,
    build_hex_graph,
    cells_in_polygons,
    cover_cells,
    default_off_road_speed_kmh,
    mean_edge_length_m,
    polygon_cells,
    road_cell_speeds,
    solve_study,
)

__all__ = [
    "DEFAULT_COVER_RESOLUTION",
    "DEFAULT_RESOLUTION",
    "HexAccess",
    "HexGraph",
    "HexResult",
    "build_hex_access",
    "build_hex_graph",
    "cells_in_polygons",
    "cover_cells",
    "default_off_road_speed_kmh",
    "mean_edge_length_m",
    "polygon_cells",
    "road_cell_speeds",
    "solve_study",
]
