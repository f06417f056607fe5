"""Hexagon friction graph: the AccessMod / friction-surface method on H3 cells.

Every H3 cell of a study area is a node. A cell's speed is the fastest road class that
passes through it (road lines are rasterised by sampling points along them at a spacing
well below the cell edge), otherwise an *off-road* speed; cells inside impassable
polygons (water) are left out unless a road crosses them (bridges, causeways). Each pair
of neighbouring cells is joined by an edge of length ``d`` (great-circle distance of the
centres) and time ``(d/2)/v_a + (d/2)/v_b``. Populated cells and offices are nodes of
this graph directly: there is no snapping and no maximum access distance, so people in
roadless places get a (long) time instead of being dropped; only people cut off by
impassable cells are unreachable.

The graph is built in the Rust core (``hexaccess._core.hex_graph``: neighbours by h3o,
rayon over cells) and never materialises edge arrays in Python, so all of mainland
Finland at resolution 9 (~3 M cells, ~18 M arcs) builds and solves within 2 GB.

Off-road speed
--------------
What "off-road" means depends on how complete the road layer is:

- With a **generalised** road layer (the NLS 1:1 M map, or a synthetic country), most
  local streets and private roads are missing, and the stretch from a home to the mapped
  network is in reality driven on unmapped roads. The default for car profiles is
  therefore the profile's access-leg speed divided by its detour factor (``car_fi``:
  30 km/h / 1.3 ≈ 23 km/h), the same assumption the road graph makes for its access legs,
  so the two methods differ by their geometry, not by their assumptions.
- With a **complete** road layer (OpenStreetMap), off-road really means on foot: pass
  ``off_road_speed_kmh=5`` (walking; AccessMod's usual land-cover speeds for walking are
  2-5 km/h), which makes the time to reach the road explicit.
- Walk and bike profiles default to the same access speed / detour rule (walk 5/1.3, ...).

Because every passable cell is traversable, people may "drive" across unmapped land at
the off-road speed, and across lakes when no water layer is given; give ``water=`` to
keep journeys on land.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import Transformer

from hexaccess import _engine, defaults
from hexaccess.errors import AccessibilityInputError
from hexaccess.graph import Graph
from hexaccess.h3 import (
    cell_centers,
    cell_children,
    cell_resolution,
    cell_to_parent,
    latlng_to_cells,
    mean_edge_length_m,
    polygon_cells,
)
from hexaccess.h3 import check_resolution as _check_resolution
from hexaccess.network import RoadNetwork, _class_keys, _class_speeds
from hexaccess.offices import Offices
from hexaccess.population import PopulationGrid
from hexaccess.profiles import SpeedProfile, load_profile
from hexaccess.results import BandHistogram
from hexaccess.study.road import (
    AccessibilityResult,
    cell_frame,
    check_office_indices,
    headline_summary,
    office_offsets,
)

__all__ = [
    "DEFAULT_COVER_RESOLUTION",
    "DEFAULT_RESOLUTION",
    "HexAccess",
    "HexGraph",
    "HexResult",
    "build_hex_access",
    "build_hex_graph",
    "cover_cells",
    "default_off_road_speed_kmh",
    "polygon_cells",
    "road_cell_speeds",
]

#: Resolution of the national friction graph (cells of ~0.1 km², edge ~174 m).
DEFAULT_RESOLUTION = defaults.HEX_RESOLUTION
#: Resolution of the coarse cover that defines a study area (cells of ~36 km²).
DEFAULT_COVER_RESOLUTION = 6

U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def _core() -> Any:
    core = _engine.rust_core()
    if not hasattr(core, "hex_graph"):  # pragma: no cover - stale build
        raise RuntimeError("the hexagon graph needs a rebuilt Rust core (pip install -e .)")
    return core


def _resolve_profile(
    profile: SpeedProfile | str | Path | None, network: RoadNetwork | None
) -> SpeedProfile:
    """``profile`` when given, else the network's own, else ``car_fi``."""
    if profile is not None:
        return load_profile(profile)
    return network.profile if network is not None else load_profile("car_fi")


def default_off_road_speed_kmh(profile: SpeedProfile) -> float:
    """The default off-road speed: the profile's access speed / detour factor (see the
    module docstring for why, and when to pass a walking speed instead)."""
    return float(profile.access_speed_kmh / profile.access_detour_factor)


# ======================================================================= study area
def cover_cells(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    resolution: int = DEFAULT_RESOLUTION,
    *,
    cover_resolution: int = DEFAULT_COVER_RESOLUTION,
    cells: npt.ArrayLike | None = None,
) -> U64:
    """Study area from points: all ``resolution`` cells inside the ``cover_resolution``
    cells that hold any point.

    Given the populated cell centres and the road sample points, this is the land people
    live on and travel over, with a margin of about one coarse cell (~3.7 km at the
    default resolution 6): wilderness far from any road or home and the open sea stay out
    of the graph, which keeps national graphs small. ``cells`` (at ``cover_resolution`` or
    finer, e.g. populated cells) are covered by their H3 *parents*: H3's hierarchy is not
    geometric containment, so a cell's descendants lie among its parent's descendants, not
    necessarily among those of the coarse cell that holds its centre.
    """
    _check_cover_resolution(cover_resolution, resolution)
    coarse = latlng_to_cells(lat, lon, cover_resolution)
    if cells is not None:
        extra = np.asarray(cells, dtype=np.uint64)
        coarse = np.concatenate([coarse, cell_to_parent(extra, cover_resolution)])
    cells = cell_children(np.unique(coarse), resolution)
    cells.sort()
    return cells


def _check_cover_resolution(cover_resolution: int, resolution: int) -> None:
    _check_resolution(resolution)
    _check_resolution(cover_resolution)
    if int(cover_resolution) > int(resolution):
        raise AccessibilityInputError(
            f"cover_resolution={cover_resolution} is finer than resolution={resolution}; "
            "the study area is filled with the resolution cells inside the coarse cover "
            f"cells, so give cover_resolution <= {resolution} (default "
            f"{DEFAULT_COVER_RESOLUTION})"
        )


# ================================================================== road rasterising
def road_cell_speeds(
    network: RoadNetwork,
    resolution: int = DEFAULT_RESOLUTION,
    *,
    spacing_m: float | None = None,
    profile: SpeedProfile | str | Path | None = None,
) -> tuple[U64, F64]:
    """Rasterise road edges onto H3 cells: ``(cells, speed_kmh)``, the best class speed
    through each cell (sorted, unique cells).

    Each edge is treated as the straight segment between its nodes, so read line files
    with ``split_at_vertices=True`` (edges then follow the drawn geometry). Points are
    sampled every ``spacing_m`` (default a quarter of the mean cell edge, so a line
    cannot cross a cell unseen except at a corner) and at both ends. Speeds are the
    profile's class speeds (ferries: the ferry speed; boarding waits are not modelled).
    """
    prof = _resolve_profile(profile, network)
    spacing = float(spacing_m) if spacing_m is not None else mean_edge_length_m(resolution) / 4
    if not spacing > 0:
        raise AccessibilityInputError(f"spacing_m must be > 0, got {spacing_m}")
    speed = _edge_class_speeds(network, prof)
    x0, y0 = network.x[network.tail], network.y[network.tail]
    x1, y1 = network.x[network.head], network.y[network.head]
    seg_len = np.hypot(x1 - x0, y1 - y0)
    n = np.maximum(np.ceil(seg_len / spacing).astype(np.int64), 1)
    # Points k/n, k = 0..n-1 along every edge (vectorised), plus every edge's head.
    seg = np.repeat(np.arange(n.size), n)
    k = np.arange(seg.size) - np.repeat(np.cumsum(n) - n, n)
    t = k / n[seg]
    px = np.concatenate([x0[seg] + t * (x1 - x0)[seg], x1])
    py = np.concatenate([y0[seg] + t * (y1 - y0)[seg], y1])
    ps = np.concatenate([speed[seg], speed])
    lon, lat = Transformer.from_crs(network.crs, "EPSG:4326", always_xy=True).transform(px, py)
    cells = latlng_to_cells(np.asarray(lat), np.asarray(lon), resolution)
    # Max speed per cell: sort by (cell, -speed) and keep each cell's first row.
    order = np.lexsort((-ps, cells))
    cells, ps = cells[order], ps[order]
    first = np.ones(cells.size, dtype=bool)
    first[1:] = cells[1:] != cells[:-1]
    return cells[first], ps[first]


def _edge_class_speeds(network: RoadNetwork, profile: SpeedProfile) -> F64:
    """Free-flow speed (km/h) of every edge from its class (ferries: ferry speed)."""
    if network.class_column not in profile.class_speeds_kmh:
        raise AccessibilityInputError(
            f"profile {profile.name!r} has no speed table for class column {network.class_column!r}"
        )
    # The road graph's own lookup: 26, 26.0 and "26" are one class.
    speed = _class_speeds(_class_keys(network.road_class), profile, network.class_column)
    speed = np.where(network.ferry, profile.ferry_speed_kmh, speed)
    bad = ~np.isfinite(speed)
    if bad.any():
        # Fall back to the edge's own time (e.g. classes added after reading).
        speed[bad] = network.length_m[bad] / np.maximum(network.time_s[bad], 1e-9) * 3.6
    return speed


# ======================================================================== the graph
@dataclass(frozen=True)
class HexGraph:
    """A friction graph: node ``i`` is H3 cell ``cells[i]`` (sorted).

    ``speed_kmh`` is each node's speed (road or off-road), ``on_road`` whether a road
    passes through it; ``meta`` records how it was built (counts, parameters).
    """

    graph: Graph
    cells: U64
    speed_kmh: F64
    on_road: npt.NDArray[np.bool_]
    resolution: int
    off_road_speed_kmh: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def num_nodes(self) -> int:
        return int(self.cells.size)

    def nodes_of_cells(self, cells: npt.ArrayLike) -> I64:
        """Node id of each cell (-1 when the cell is not in the graph)."""
        q = np.ascontiguousarray(cells, dtype=np.uint64)
        return _core().cell_nodes(self.cells, q)

    def nodes_of_lonlat(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> I64:
        """Node id of the cell containing each point (-1 when not in the graph)."""
        return self.nodes_of_cells(latlng_to_cells(lat, lon, self.resolution))

    def edges(self) -> tuple[I64, I64, F64, F64]:
        """The undirected edge rows ``(tail, head, time_s, length_m)`` (for inspection)."""
        return _core().hex_edges(self.cells, self.speed_kmh)


def build_hex_graph(
    cells: npt.ArrayLike,
    *,
    network: RoadNetwork | None = None,
    road_cells: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    profile: SpeedProfile | str | Path | None = None,
    off_road_speed_kmh: float | None = None,
    water: Any = None,
    spacing_m: float | None = None,
    road_speed_factor: npt.ArrayLike | Callable[[U64], npt.ArrayLike] | None = None,
    keep_cells: npt.ArrayLike | None = None,
) -> HexGraph:
    """Build the friction graph over ``cells`` (any order, duplicates allowed; one
    resolution).

    Road speeds come from ``network`` (rasterised with :func:`road_cell_speeds`) or from
    precomputed ``road_cells = (cells, speed_kmh)`` (one finite speed >= 0 per cell); road
    cells outside ``cells`` are added (roads are always part of the study area) and
    counted in ``meta["road_cells_added_to_area"]``. ``water``: polygons (lon/lat) whose
    cells are impassable, except cells with a road (bridges); masked cells are removed
    from the graph. ``road_speed_factor`` (e.g. the urban slowdown, see
    :func:`build_hex_access`) scales road speeds: finite factors > 0 aligned with the
    sorted union of ``cells`` and the road cells, or a function that returns them given
    that union. ``keep_cells`` are never masked (populated cells: people live on the land
    part of a shore cell whose centre is in the water).
    """
    cells = np.unique(np.asarray(cells, dtype=np.uint64))
    if cells.size == 0:
        raise AccessibilityInputError("the study area has no cells")
    res = int(cell_resolution(cells[:1])[0])
    if (cell_resolution(cells) != res).any():
        raise AccessibilityInputError("all cells of a friction graph must share one H3 resolution")
    prof = _resolve_profile(profile, network)
    off = default_off_road_speed_kmh(prof) if off_road_speed_kmh is None else off_road_speed_kmh
    if not (np.isfinite(off) and off >= 0):
        raise AccessibilityInputError(f"off_road_speed_kmh must be finite and >= 0, got {off}")
    if network is not None and road_cells is not None:
        raise AccessibilityInputError("give network= or road_cells=, not both")
    if network is not None:
        rc, rs = road_cell_speeds(network, res, spacing_m=spacing_m, profile=prof)
    elif road_cells is not None:
        rc, rs = _check_road_cells(road_cells, res)
    else:
        rc, rs = np.zeros(0, np.uint64), np.zeros(0)
    merged = np.union1d(cells, rc)
    added = int(merged.size - cells.size)
    cells = merged
    speed = np.full(cells.size, float(off))
    on_road = np.zeros(cells.size, dtype=bool)
    factor = None
    if road_speed_factor is not None and not callable(road_speed_factor):
        factor = _check_factor(road_speed_factor, cells.size)
    if rc.size:
        idx = np.searchsorted(cells, rc)
        # Several rows of one cell: keep the fastest (np.maximum.at is order-free).
        road = np.zeros(cells.size)
        np.maximum.at(road, idx, rs)
        on_road[idx] = True
        if callable(road_speed_factor):
            factor = _check_factor(road_speed_factor(cells), cells.size)
        if factor is not None:
            road *= factor
        speed = np.where(on_road, road, speed)
    masked = 0
    if water is not None:
        # Roads override water: a road cell in a lake is a bridge or a causeway.
        exempt = on_road.copy()
        if keep_cells is not None:
            exempt |= np.isin(cells, np.asarray(keep_cells, dtype=np.uint64))
        keep = ~(cells_in_polygons(cells, water) & ~exempt)
        masked = int((~keep).sum())
        cells, speed, on_road = cells[keep], speed[keep], on_road[keep]
    graph = Graph._from_rust(_core().hex_graph(cells, speed))
    meta = {
        "resolution": res,
        "cells": int(cells.size),
        "road_cells": int(on_road.sum()),
        "road_cells_added_to_area": added,
        "water_cells_masked": masked,
        "off_road_speed_kmh": float(off),
        "profile": prof.name,
        "arcs": graph.num_arcs,
        "graph_bytes": graph.memory_bytes,
    }
    return HexGraph(graph, cells, speed, on_road, res, float(off), meta)


def _check_road_cells(road_cells: Any, res: int) -> tuple[U64, F64]:
    """``road_cells = (cells, speed_kmh)``, checked: one finite speed >= 0 per cell, all
    cells at the graph's resolution ``res``."""
    try:
        raw_cells, raw_speed = road_cells
    except (TypeError, ValueError):
        raise AccessibilityInputError("road_cells must be a pair (cells, speed_kmh)") from None
    rc = np.asarray(raw_cells, dtype=np.uint64)
    rs = np.asarray(raw_speed, dtype=np.float64)
    if rc.ndim != 1 or rs.shape != rc.shape:
        raise AccessibilityInputError(
            f"road_cells: {rs.size} speed(s) (shape {rs.shape}) for {rc.size} cell(s) (shape "
            f"{rc.shape}); give one speed_kmh per road cell, as 1-D arrays"
        )
    bad = ~(np.isfinite(rs) & (rs >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise AccessibilityInputError(
            f"road_cells: speed_kmh[{i}] = {float(rs[i])} (cell {int(rc[i]):x}) must be "
            "finite and >= 0"
        )
    if rc.size:
        wrong = cell_resolution(rc) != res
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise AccessibilityInputError(
                f"road cells must be at the graph's resolution {res}: road_cells cell {i} "
                f"({int(rc[i]):x}) is at resolution {int(cell_resolution(rc[i : i + 1])[0])}"
            )
    return rc, rs


def _check_factor(factor: npt.ArrayLike, n: int) -> F64:
    """``road_speed_factor``, checked: ``n`` finite values > 0."""
    f = np.asarray(factor, dtype=np.float64)
    if f.shape != (n,):
        raise AccessibilityInputError(
            f"road_speed_factor has shape {f.shape}; it needs one factor per cell of the "
            f"sorted union of cells and road cells ({n},)"
        )
    bad = ~(np.isfinite(f) & (f > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise AccessibilityInputError(
            f"road_speed_factor[{i}] = {float(f[i])} must be finite and > 0 (1 = no slowdown)"
        )
    return f


def cells_in_polygons(cells: npt.ArrayLike, polygons: Any) -> npt.NDArray[np.bool_]:
    """Whether each cell's centre lies in any polygon (lon/lat; shapely or geo-interface)."""
    import shapely

    geoms = [polygons] if not isinstance(polygons, (list, tuple, np.ndarray)) else polygons
    shapes = [
        shapely.geometry.shape(g) if not isinstance(g, shapely.Geometry) else g for g in geoms
    ]
    if not shapes:
        return np.zeros(np.asarray(cells).size, dtype=bool)
    union = shapely.union_all(shapes)
    shapely.prepare(union)
    lat, lng = cell_centers(cells)
    # Only test centres inside the union's bounding box (most cells are far from water).
    x0, y0, x1, y1 = union.bounds
    near = (lng >= x0) & (lng <= x1) & (lat >= y0) & (lat <= y1)
    out = np.zeros(lat.size, dtype=bool)
    out[near] = shapely.contains_xy(union, lng[near], lat[near])
    return out


# ======================================================================== studies
@dataclass(frozen=True)
class HexAccess:
    """A study on the friction graph: people and offices placed on its nodes.

    ``weights`` holds one row per graph node (people of each column; a population cell
    coarser than the graph is spread evenly over its children in the graph).
    ``cell_nodes``/``cell_share`` map each population cell to its graph nodes: CSR-style
    ``cell_indptr`` over ``cell_nodes`` (empty = no node: the cell's people are
    unreachable). ``office_node`` is the node of each office's cell.
    """

    hex: HexGraph
    population: PopulationGrid
    offices: Offices
    profile: SpeedProfile
    columns: tuple[str, ...]
    weights: F64
    cell_indptr: I64
    cell_nodes: I64
    office_node: I64
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def graph(self) -> Graph:
        return self.hex.graph

    def office_offsets(self) -> F64:
        """Terminal time (parking, walking) per office, paid once per trip."""
        return office_offsets(self.profile, self.offices)

    def diagnostics(self, result: Any, column: str, top: int = 20) -> dict[str, Any]:
        """The friction graph's size and how it was built, JSON-ready (the hexagon
        counterpart of :meth:`hexaccess.study.road.AccessGraph.diagnostics`): cells and
        arcs, road cells, the off-road speed, and the people of ``column`` in populated
        cells that lie in no passable cell of the graph."""
        cells = result.cells
        outside = ~cells["connected"].to_numpy()
        meta = {k: v for k, v in self.hex.meta.items() if k != "graph_bytes"}
        return {
            "method": "hexagon friction graph",
            "graph_cells": self.hex.num_nodes,
            "arcs": int(self.graph.num_arcs),
            **meta,
            "cells_outside_graph": int(outside.sum()),
            "population_outside_graph": float(cells[column].to_numpy(dtype=float)[outside].sum()),
        }

    def solve(
        self, offices: npt.ArrayLike | None = None, band_edges_s: npt.ArrayLike | None = None
    ) -> HexResult:
        """Nearest office for every node; population bands and a per-cell table.

        ``offices`` optionally selects a subset (indices into ``self.offices``)."""
        idx = check_office_indices(self.offices, offices)
        src = self.office_node[idx]
        off = self.office_offsets()[idx]
        # One search: the per-cell table needs per-node results; the histogram is binned
        # from them (identical to the engine's own).
        r, hist = self.graph.nearest_with_histogram(
            src, self.weights, offsets_s=off, band_edges_s=band_edges_s, columns=list(self.columns)
        )
        # Per population cell: people-weighted mean over its nodes (one node at equal
        # resolution); unreachable if any of its nodes is.
        n_per = np.diff(self.cell_indptr)
        owner = np.repeat(np.arange(n_per.size), n_per)
        t = r.time_s[self.cell_nodes]
        ln = r.length_m[self.cell_nodes]
        with np.errstate(invalid="ignore", divide="ignore"):
            tm = np.bincount(owner, weights=t, minlength=n_per.size) / n_per
            lm = np.bincount(owner, weights=ln, minlength=n_per.size) / n_per
        tm[n_per == 0] = np.inf
        lm[n_per == 0] = np.inf
        first = np.full(n_per.size, -1, dtype=np.int64)
        first[n_per > 0] = self.cell_nodes[self.cell_indptr[:-1][n_per > 0]]
        src_of = np.where(first >= 0, r.source[np.maximum(first, 0)], -1)
        office = np.where(src_of >= 0, idx[np.maximum(src_of, 0)], -1)
        frame = cell_frame(self.population)
        frame["time_s"] = tm
        frame["distance_m"] = lm
        frame["office"] = office
        frame["reached"] = np.isfinite(tm)
        frame.attrs["nodes_per_cell"] = n_per
        return HexResult(self, frame, hist, idx)


@dataclass(frozen=True)
class HexResult:
    """Travel times on the friction graph: the band histogram and one row per
    population cell (``h3``, population columns, ``time_s``, ``distance_m``, ``office``
    (-1 unreachable), ``reached``). ``office_indices`` are the offices searched from
    (indices into ``access.offices``)."""

    access: HexAccess
    cells: pd.DataFrame
    histogram: BandHistogram
    office_indices: I64

    def bands(self, column: str | None = None) -> pd.DataFrame:
        """The 10-minute band table (the columns of ``bands.csv``)."""
        return self.histogram.to_frame(column or 0)

    def summary(self, column: str | None = None) -> dict[str, Any]:
        """Headline figures for one population column."""
        column = column or self.access.columns[0]
        return {
            **headline_summary(self.histogram, column),
            "graph_cells": self.access.hex.num_nodes,
            "method": "hexagon friction graph",
            **{k: v for k, v in self.access.hex.meta.items() if k != "graph_bytes"},
        }


def _population_graph_cells(population: PopulationGrid, resolution: int) -> U64:
    """The graph-resolution cells that receive the people of ``population``; for a
    coarser population, every cell's children in population-cell order (the layout
    :func:`_population_nodes` takes)."""
    if population.resolution == resolution:
        return population.cells
    if population.resolution > resolution:
        return np.unique(cell_to_parent(population.cells, resolution))
    return cell_children(population.cells, resolution)


def _population_nodes(
    hexg: HexGraph, population: PopulationGrid, graph_cells: U64 | None = None
) -> tuple[I64, I64, F64]:
    """CSR map population cell -> graph nodes, and each node entry's share of the cell.

    ``graph_cells``: :func:`_population_graph_cells` of the population at the graph's
    resolution, when already computed."""
    pres = population.resolution
    cells = population.cells
    if pres >= hexg.resolution:
        # Equal or finer population: each cell goes to the graph cell holding it.
        nodes = hexg.nodes_of_cells(cell_to_parent(cells, hexg.resolution))
        ok = nodes >= 0
        indptr = np.concatenate([[0], np.cumsum(ok)]).astype(np.int64)
        return indptr, nodes[ok], np.ones(int(ok.sum()))
    # Coarser population: spread each cell evenly over its children in the graph. A
    # pentagon has fewer than 7^k children: find each child's owner from its parent.
    kids = graph_cells if graph_cells is not None else cell_children(cells, hexg.resolution)
    owner = np.searchsorted(cells, cell_to_parent(kids, pres))
    nodes = hexg.nodes_of_cells(kids)
    ok = nodes >= 0
    counts = np.bincount(owner[ok], minlength=cells.size)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    share = 1.0 / np.repeat(np.maximum(counts, 1), counts)
    return indptr, nodes[ok], share


def _checked_area(cells: npt.ArrayLike | None, resolution: int, cover_resolution: int):
    """The given study-area cells, checked to be at ``resolution`` (or None)."""
    if cells is None:
        _check_cover_resolution(cover_resolution, resolution)
        return None
    cells = np.asarray(cells, dtype=np.uint64)
    cres = cell_resolution(cells)
    wrong = cres != resolution
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise AccessibilityInputError(
            f"cells[{i}] ({int(cells[i]):x}) is at H3 resolution {int(cres[i])}, but "
            f"resolution={resolution}; give cells at resolution {resolution} or pass "
            f"resolution={int(cres[i])}"
        )
    return cells


def _default_area(
    population: PopulationGrid,
    offices: Offices,
    road_cells: U64,
    resolution: int,
    cover_resolution: int,
) -> U64:
    """:func:`cover_cells` of the populated cells, the road cells and the offices."""
    pc = population.cells
    if population.resolution < cover_resolution:
        pc = cell_children(pc, cover_resolution)
    return cover_cells(
        offices.lon,
        offices.lat,
        resolution,
        cover_resolution=cover_resolution,
        cells=np.concatenate([pc, road_cells]),
    )


def _urban_factor(
    population: PopulationGrid, profile: SpeedProfile, enabled: bool
) -> Callable[[U64], F64] | None:
    """Road-speed factor by the density of the population cell around each road cell,
    evaluated by :func:`build_hex_graph` on the final cells; None when not applied."""
    if not (enabled and len(profile.urban_factors)):
        return None

    def urban_factor(all_cells: U64) -> F64:
        dens = population.density_per_km2(all_cells)
        return np.asarray(profile.slowdown_factor(dens), dtype=np.float64)

    return urban_factor


def _node_weights(
    hexg: HexGraph, population: PopulationGrid, columns: tuple[str, ...], graph_cells: U64
) -> tuple[F64, I64, I64, float]:
    """People of each column per graph node, the CSR map cell -> nodes, and the people
    outside the graph (warned about: reported as unreachable)."""
    indptr, nodes, share = _population_nodes(hexg, population, graph_cells)
    per_cell = population.weights(list(columns))
    n_per = np.diff(indptr)
    w = np.zeros((hexg.num_nodes, len(columns)))
    owner = np.repeat(np.arange(n_per.size), n_per)
    for j in range(len(columns)):
        w[:, j] = np.bincount(nodes, weights=per_cell[owner, j] * share, minlength=hexg.num_nodes)
    outside = per_cell[n_per == 0, 0].sum()
    if outside:
        warnings.warn(
            f"{int((n_per == 0).sum())} populated cells ({outside:,.0f} people) lie outside "
            "the friction graph (masked or outside the study area): reported as unreachable",
            stacklevel=3,
        )
    return w, indptr, nodes, float(outside)


def _office_nodes(hexg: HexGraph, offices: Offices) -> I64:
    office_node = hexg.nodes_of_lonlat(offices.lon, offices.lat)
    missing = np.flatnonzero(office_node < 0)
    if missing.size:
        names = [offices.names[i] for i in missing]
        raise AccessibilityInputError(
            f"{missing.size} office(s) lie in no passable cell of the study area: {names}; "
            "check their coordinates, or widen the study area"
        )
    return office_node


def build_hex_access(
    network: RoadNetwork | None,
    population: PopulationGrid,
    offices: Offices,
    profile: SpeedProfile | str | Path | None = None,
    *,
    resolution: int = DEFAULT_RESOLUTION,
    cells: npt.ArrayLike | None = None,
    cover_resolution: int = DEFAULT_COVER_RESOLUTION,
    off_road_speed_kmh: float | None = None,
    water: Any = None,
    urban_slowdown: bool = True,
    columns: Sequence[str] | None = None,
    spacing_m: float | None = None,
) -> HexAccess:
    """Assemble a friction-graph study from the same inputs as the road graph.

    The study area is ``cells`` when given (at ``resolution``, e.g. from
    :func:`polygon_cells`), else :func:`cover_cells` of the populated cells, the road
    sample points and the offices; road cells outside it are added. With
    ``urban_slowdown`` road speeds are scaled by the profile's density factors, the
    density (:meth:`PopulationGrid.density_per_km2`, column ``total``) being that of the
    population cell (at the population's resolution) around each road cell, as the road
    graph does per edge.
    """
    prof = _resolve_profile(profile, network)
    if len(offices) == 0:
        raise AccessibilityInputError("the office set is empty; give at least one office")
    resolution = _check_resolution(resolution)
    cells = _checked_area(cells, resolution, cover_resolution)
    if network is not None:
        rc, rs = road_cell_speeds(network, resolution, spacing_m=spacing_m, profile=prof)
    else:
        rc, rs = np.zeros(0, np.uint64), np.zeros(0)
    if cells is None:
        cells = _default_area(population, offices, rc, resolution, cover_resolution)
    factor = _urban_factor(population, prof, urban_slowdown and network is not None and rc.size)
    graph_cells = _population_graph_cells(population, resolution)
    hexg = build_hex_graph(
        cells,
        road_cells=(rc, rs),
        profile=prof,
        off_road_speed_kmh=off_road_speed_kmh,
        water=water,
        road_speed_factor=factor,
        keep_cells=graph_cells,
    )
    hexg.meta["urban_slowdown"] = factor is not None
    columns = tuple(columns or population.columns)
    w, indptr, nodes, outside = _node_weights(hexg, population, columns, graph_cells)
    return HexAccess(
        hex=hexg,
        population=population,
        offices=offices,
        profile=prof,
        columns=columns,
        weights=w,
        cell_indptr=indptr,
        cell_nodes=nodes,
        office_node=_office_nodes(hexg, offices),
        meta={"population_outside_graph": outside},
    )


def solve_study(
    access: HexAccess,
    *,
    offices: npt.ArrayLike | None = None,
    band_edges_s: npt.ArrayLike | None = None,
    provenance_info: dict[str, Any] | None = None,
) -> AccessibilityResult:
    """:meth:`HexAccess.solve` as the study result every figure, table and report takes
    (:class:`~hexaccess.study.road.AccessibilityResult`): the per-cell table gets the
    road graph's columns (``office_name``; ``connected`` = the cell lies in a passable
    cell of the graph) and the provenance names the method."""
    r = access.solve(offices, band_edges_s)
    frame = r.cells
    n_per = frame.attrs.pop("nodes_per_cell")
    office = frame["office"].to_numpy()
    names = np.asarray(access.offices.names, dtype=object)
    frame.insert(
        frame.columns.get_loc("office") + 1,
        "office_name",
        np.where(office >= 0, names[np.maximum(office, 0)], None),
    )
    frame.insert(frame.columns.get_loc("office_name") + 1, "connected", n_per > 0)
    info = {
        "profile": access.profile.name,
        "profile_source": str(access.profile.source),
        "mode": access.profile.mode,
        "resolution": access.population.resolution,
        "graph": "hex",
        "hex_resolution": access.hex.resolution,
        "backend": access.graph.backend,
        "terminal_time_s": access.profile.terminal_time_s,
        "urban_slowdown": bool(access.hex.meta.get("urban_slowdown", False)),
        **(provenance_info or {}),
    }
    return AccessibilityResult(access, frame, r.histogram, access.columns, r.office_indices, info)
