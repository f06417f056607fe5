"""From real inputs to travel times: population cells + road network + offices.

The engine graph is the road network plus one node per populated H3 cell and one per
office. Graph hygiene first: places join only the strongly connected components (SCCs)
of the mode's road graph kept by the profile's ``[access] attach`` rule (default
``large_scc``: the largest SCC, plus any SCC with at least ``attach_min_km`` of road),
never a one-way trap or a small fragment from which no trip leaves. A cell joins the
nearest point of the nearest kept edge (``[access] snap = "edge"``, the default: the
edge is split there, as R5 does) or the nearest kept node (``"node"``) with an *access
leg* (straight line × detour factor, at the profile's access speed) when that point is
within the profile's maximum access distance; an office joins the same way. Turn
restrictions, turn costs and destination-only ways (OSM car rules) route on the turn-
expanded road graph of :mod:`hexaccess.network.turns`. Trips are measured **from home to
the office**: the search runs from the offices over the *reversed* graph, so one-way
streets count in the direction people drive them. Every trip also pays the profile's
terminal time (parking and walking at the ends), as a start offset.

People are never dropped: cells too far from any road (``unconnected``) and cells whose
road component holds no office are *unreachable*, counted in every summary, and split
into too far from a road, in a component without an office and outside the extent of the
road data (the convex hull of its nodes: a clipped extract).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import Transformer

from hexaccess import defaults
from hexaccess.errors import AccessibilityInputError, UnknownNameError
from hexaccess.graph import Graph, Progress
from hexaccess.h3 import cell_to_str, latlng_to_cells
from hexaccess.network import RoadNetwork, apply_urban_slowdown, connect_points, diagnostics
from hexaccess.network.connect import AttachableNodes, attachable_nodes, split_edges
from hexaccess.network.turns import TurnGraph, needs_turn_graph, turn_graph
from hexaccess.offices import Offices
from hexaccess.population import PopulationGrid
from hexaccess.profiles import SpeedProfile, load_profile
from hexaccess.results import BandHistogram

#: Summary coverage thresholds (minutes) always reported: ``summary.json``'s
#: ``coverage_pct`` keys ("30", "60", "90"), whole minutes of the defaults.
COVERAGE_MINUTES = tuple(int(m) for m in defaults.COVERAGE_MINUTES)


@dataclass(frozen=True)
class AccessGraph:
    """The engine graph of a study: road nodes ``0..R-1``, then cells, then offices.

    Arcs are reversed (office → home), so searches from office nodes give home → office
    times. ``cell_node[i]`` is the graph node of population cell ``i``; ``office_node[j]``
    that of office ``j``. ``cell_connection`` is the access-leg table of the cells
    (:func:`~hexaccess.network.connect_points` columns; ``node`` is a node of
    ``network``, which holds the split nodes of edge snapping, plus ``nearest_node``, the
    nearest node of the road data as read whatever the attach rule, and
    ``inside_extract``). ``attach`` holds the strong components and the kept ones.
    ``turns`` is the turn-expanded road graph when the network has turn restrictions,
    turn costs or destination-only ways (:mod:`hexaccess.network.turns`): then road
    node ``v`` is where trips from ``v`` start and ``turns.destination_state(v)`` where
    trips to it end.
    """

    graph: Graph
    network: RoadNetwork
    population: PopulationGrid
    offices: Offices
    profile: SpeedProfile
    cell_node: npt.NDArray[np.int64]
    office_node: npt.NDArray[np.int64]
    cell_connection: pd.DataFrame
    office_connection: pd.DataFrame
    num_road_nodes: int
    attach: AttachableNodes | None = None
    turns: TurnGraph | None = None

    def weights(self, columns: Sequence[str]) -> npt.NDArray[np.float64]:
        """Per-graph-node weights: people of each column on cell nodes, zero elsewhere."""
        w = np.zeros((self.graph.num_nodes, len(columns)))
        w[self.cell_node] = self.population.weights(list(columns))
        return w

    def office_offsets(self) -> npt.NDArray[np.float64]:
        """Start offset of each office: the terminal time (paid once per trip)."""
        return office_offsets(self.profile, self.offices)

    def diagnostics(
        self, result: AccessibilityResult, column: str, top: int = 20
    ) -> dict[str, Any]:
        """Road network size, km by class and connectivity, with the population attached
        to each component (cells join their nearest road node) and the components that
        hold no office of ``result`` ("islands"), largest population first, then the
        graph hygiene (:meth:`hygiene_diagnostics`: attach rule, strong components left
        out, access-leg lengths, the unreachable split, the extent). JSON-ready."""
        conn = self.cell_connection
        ok = conn["connected"].to_numpy()
        people = np.bincount(
            conn["node"].to_numpy()[ok],
            weights=result.cells[column].to_numpy(dtype=float)[ok],
            minlength=self.network.num_nodes,
        )
        office_road_nodes = self.office_connection["node"].to_numpy()[result.office_indices]
        d = diagnostics(self.network, node_weights=people, source_nodes=office_road_nodes)
        comps = d["components"]
        islands = d["islands_without_source"].sort_values("weight", ascending=False)
        long_cells = long_leg_cells(conn, self.profile)
        odist = self.office_connection["distance_m"].to_numpy(dtype=float)
        warn_m = self.profile.warn_access_distance_m
        long_offices = [
            {"office": self.offices.names[i], "distance_km": float(odist[i] / 1000)}
            for i in result.office_indices
            if odist[i] > warn_m
        ]
        return {
            "nodes": d["nodes"],
            "edges": d["edges"],
            "total_km": d["total_km"],
            "km_by_class": {str(k): float(v) for k, v in d["km_by_class"].items()},
            "oneway_edges": d["oneway_edges"],
            "ferry_edges": d["ferry_edges"],
            "components": len(comps),
            "largest_component_nodes": int(comps["nodes"].iloc[0]) if len(comps) else 0,
            "islands_without_office": len(islands),
            "population_on_islands_without_office": float(islands["weight"].sum()),
            "largest_islands_without_office": [
                {
                    "component": int(i),
                    "nodes": int(r.nodes),
                    "km": float(r.km),
                    "population": float(r.weight),
                }
                for i, r in islands.head(top).iterrows()
            ],
            "access_warn_distance_m": float(warn_m),
            "cells_with_long_access_legs": int(long_cells.sum()),
            "population_with_long_access_legs": float(
                result.cells[column].to_numpy(dtype=float)[long_cells].sum()
            ),
            "offices_with_long_access_legs": long_offices,
            **self.hygiene_diagnostics(result, column, d["node_component"]),
        }

    def hygiene_diagnostics(
        self, result: AccessibilityResult, column: str, weak_label: npt.NDArray[np.int64]
    ) -> dict[str, Any]:
        """Graph hygiene, JSON-ready: the attach rule, the strong components left out
        (one-way traps: in a weak component with a kept SCC; small components: the rest)
        with their nodes, km and the cells and people whose nearest road node lies there
        (who would have joined them without the rule), the access-leg lengths, the
        unreachable split and the extent of the road data."""
        p = self.profile
        out: dict[str, Any] = {
            "attach_rule": p.access_attach,
            "attach_min_component_km": float(p.access_attach_min_km),
            "snap": p.access_snap,
            "split_nodes": int(self.network.meta.get("split_nodes", 0)),
        }
        w = result.cells[column].to_numpy(dtype=float)
        out.update(_leg_stats(self.cell_connection, self.office_connection, result))
        out["unreachable"] = unreachable_split(result, column)
        out["extract"] = _extract_diagnostics(self, w)
        out["car_rules"] = _car_rule_diagnostics(self.network, self.turns)
        a = self.attach
        if a is None:
            return out
        kept = a.table["kept"].to_numpy()
        count = kept.size
        rep = np.zeros(count, dtype=np.int64)
        rep[a.label] = np.arange(a.label.size)
        weak = np.asarray(weak_label)[: a.label.size][rep]
        trap = ~kept & np.isin(weak, weak[kept])
        near = self.cell_connection["nearest_node"].to_numpy()
        close = (near >= 0) & (
            self.cell_connection["nearest_node_m"].to_numpy() <= p.max_access_distance_m
        )
        cell_scc = np.where(close, a.label[np.maximum(near, 0)], -1)
        out["strong_components"] = int(count)
        out["attach_components"] = int(kept.sum())
        out["attach_nodes"] = int(a.table["nodes"].to_numpy()[kept].sum())
        out["attach_km"] = float(a.table["km"].to_numpy()[kept].sum())
        for key, sel in (("oneway_traps", trap), ("small_components", ~kept & ~trap)):
            hit = (cell_scc >= 0) & sel[np.maximum(cell_scc, 0)]
            out[f"excluded_{key}"] = {
                "components": int(sel.sum()),
                "nodes": int(a.table["nodes"].to_numpy()[sel].sum()),
                "km": float(a.table["km"].to_numpy()[sel].sum()),
                "cells_nearest": int(hit.sum()),
                "population_nearest": float(w[hit].sum()),
            }
        return out


def _car_rule_diagnostics(network: RoadNetwork, turns: TurnGraph | None) -> dict[str, Any]:
    """What the OSM car rules did, JSON-ready: edges on tagged limits and the values that
    gave none, destination-only edges, turn restrictions read, applied and not applied
    (by reason), turn costs, and whether the expanded graph was routed."""
    meta = network.meta
    rows = meta.get("turn_restriction_rows")
    dest = meta.get("destination_only")
    out: dict[str, Any] = {
        "maxspeed_edges": int(meta.get("maxspeed_edges", 0)),
        "maxspeed_unused": dict(meta.get("maxspeed_unused", {})),
        "destination_only_edges": 0 if dest is None else int(np.asarray(dest).sum()),
        "turn_restrictions_read": 0 if rows is None else len(rows["via"]),
        "turn_restrictions_skipped": dict(meta.get("restrictions_skipped", {})),
        "edge_expanded": turns is not None,
    }
    if turns is not None:
        out.update({k: v for k, v in turns.stats.items() if k != "arcs"})
    return out


def _median_max(values: npt.NDArray[np.float64]) -> dict[str, float | None]:
    """``{"median": .., "max": ..}`` of finite values (None when there are none)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return {"median": None, "max": None}
    return {"median": float(np.median(v)), "max": float(v.max())}


def _leg_stats(
    cells: pd.DataFrame, offices: pd.DataFrame, result: AccessibilityResult
) -> dict[str, Any]:
    """Access-leg lengths (straight line to the point joined, metres) of the connected
    cells and of the result's offices: median and max."""
    ok = cells["connected"].to_numpy()
    return {
        "access_leg_m_cells": _median_max(cells["distance_m"].to_numpy(dtype=float)[ok]),
        "access_leg_m_offices": _median_max(
            offices["distance_m"].to_numpy(dtype=float)[result.office_indices]
        ),
    }


def _extract_diagnostics(access: AccessGraph, w: npt.NDArray[np.float64]) -> dict[str, Any]:
    """Cells and people outside the extent of the road data (the convex hull of its
    nodes) and the reader's counts of ways cut at the extract boundary (when it has them)."""
    conn = access.cell_connection
    inside = conn["inside_extract"].to_numpy() if "inside_extract" in conn else None
    meta = access.network.meta
    out: dict[str, Any] = {
        "cells_outside": int((~inside).sum()) if inside is not None else 0,
        "population_outside": float(w[~inside].sum()) if inside is not None else 0.0,
    }
    for key in ("clipped_ways", "ways_without_located_segment"):
        if key in meta:
            out[key] = int(meta[key])
    return out


def unreachable_split(result: AccessibilityResult, column: str) -> dict[str, float]:
    """The unreachable people of ``column`` split three ways that sum to the total:
    ``outside_extract`` (no kept road within ``[access] max_distance_m`` and their cell
    lies outside the road data's extent: the extract was cut there),
    ``too_far_from_road`` (the same inside the extent) and ``no_office_in_component``
    (joined a road from which no office of this result can be reached, wherever the
    cell lies)."""
    cells = result.cells
    w = cells[column].to_numpy(dtype=float)
    lost = ~cells["reached"].to_numpy()
    # The hexagon graph has no access legs: every cell is inside its own extent.
    conn = getattr(result.access, "cell_connection", None)
    inside = (
        conn["inside_extract"].to_numpy()
        if conn is not None and "inside_extract" in conn
        else np.ones(len(cells), dtype=bool)
    )
    connected = cells["connected"].to_numpy()
    return {
        "outside_extract": float(w[lost & ~inside & ~connected].sum()),
        "too_far_from_road": float(w[lost & inside & ~connected].sum()),
        "no_office_in_component": float(w[lost & connected].sum()),
    }


# ------------------------------------------------ shared with the hexagon graph (hexgrid)
def office_offsets(profile: SpeedProfile, offices: Offices) -> npt.NDArray[np.float64]:
    """Start offset of each office: the profile's terminal time (parking, walking), paid
    once per trip."""
    return np.full(len(offices), float(profile.terminal_time_s))


def cell_frame(population: PopulationGrid) -> pd.DataFrame:
    """The leading columns of a per-cell result table, one row per population cell:
    ``h3``, ``municipality`` (when known) and the population columns."""
    frame = pd.DataFrame({"h3": cell_to_str(population.cells)})
    if population.municipality is not None:
        frame["municipality"] = population.municipality
    for col in population.columns:
        frame[col] = population.frame[col].to_numpy()
    return frame


def headline_summary(histogram: BandHistogram, column: str) -> dict[str, Any]:
    """The summary figures every method reports for one population column: totals,
    unreachable people, mean time and distance, and coverage within
    :data:`COVERAGE_MINUTES`."""
    h = histogram
    return {
        "population_column": column,
        "population_total": h.total(column),
        "population_unreachable": float(h.unreachable[h._col(column)]),
        "mean_time_min": h.mean_time_s(column) / 60.0,
        "mean_distance_km": h.mean_length_m(column) / 1000.0,
        "coverage_pct": {
            str(m): h.share_within(m * 60.0, column) * 100.0 for m in COVERAGE_MINUTES
        },
    }


def density_lookup(population: PopulationGrid, crs: str, column: str | None = None):
    """A ``density_at(x, y)`` for :func:`hexaccess.network.apply_urban_slowdown`: people
    per km² of the H3 cell containing each point (0 where no one lives), from
    :meth:`PopulationGrid.density_per_km2` (``column`` default: ``total``)."""
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def density_at(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> np.ndarray:
        lon, lat = to_lonlat.transform(np.asarray(x, float), np.asarray(y, float))
        cells = latlng_to_cells(np.asarray(lat), np.asarray(lon), population.resolution)
        return population.density_per_km2(cells, column)

    return density_at


def build_access_graph(
    network: RoadNetwork,
    population: PopulationGrid,
    offices: Offices,
    profile: SpeedProfile | str | Path | None = None,
    *,
    urban_slowdown: bool = True,
    backend: str = "auto",
) -> AccessGraph:
    """Assemble the engine graph of a study (see the module docstring).

    ``profile`` defaults to the network's own profile. With ``urban_slowdown`` the car
    profile's density factors are applied to road edges from the population grid.
    Raises :class:`AccessibilityInputError` naming offices farther than the maximum access
    distance from every road.
    """
    profile = load_profile(profile) if profile is not None else network.profile
    if len(offices) == 0:
        raise AccessibilityInputError("the office set is empty; give at least one office")
    if urban_slowdown and slows_down(network, profile):
        if "slowdown_factor" not in network.meta:
            network = apply_urban_slowdown(network, density_lookup(population, network.crs))
    to_net = Transformer.from_crs("EPSG:4326", network.crs, always_xy=True)
    lon, lat = population.centers_lonlat()
    c = len(population.cells)
    px, py = to_net.transform(
        np.concatenate([lon, np.asarray(offices.lon, float)]),
        np.concatenate([lat, np.asarray(offices.lat, float)]),
    )
    network, both, attach = attach_places(network, np.asarray(px), np.asarray(py), c, profile)
    cells = both.iloc[:c].reset_index(drop=True)
    offs = both.iloc[c:].reset_index(drop=True)
    check_office_legs(offs, offices, profile)
    warn_office_fragments(offs, offices, attach)
    warn_long_cell_legs(cells, population, profile)

    r = network.num_nodes
    turns = turn_graph(network, profile) if needs_turn_graph(network, profile) else None
    if turns is None:
        tail, head, time_s, length_m = network.to_edge_arrays(both_directions=True)
        road_states, office_end = r, offs["node"].to_numpy()
    else:  # trips start at origin states (road node ids), end at destination states
        tail, head, time_s, length_m = turns.tail, turns.head, turns.time_s, turns.length_m
        road_states, office_end = turns.num_nodes, turns.destination_state(offs["node"])
    cell_node = np.arange(road_states, road_states + c, dtype=np.int64)
    office_node = np.arange(road_states + c, road_states + c + len(offices), dtype=np.int64)
    ok = cells["connected"].to_numpy()
    # Reversed arcs: road head -> tail; road node -> cell; office -> road node.
    rev_tail = np.concatenate([head, cells["node"].to_numpy()[ok], office_node])
    rev_head = np.concatenate([tail, cell_node[ok], office_end])
    rev_time = np.concatenate(
        [time_s, cells["access_time_s"].to_numpy()[ok], offs["access_time_s"].to_numpy()]
    )
    rev_len = np.concatenate(
        [length_m, cells["access_length_m"].to_numpy()[ok], offs["access_length_m"].to_numpy()]
    )
    graph = Graph.from_edges(
        rev_tail,
        rev_head,
        rev_time,
        rev_len,
        num_nodes=road_states + c + len(offices),
        backend=backend,
    )
    return AccessGraph(
        graph=graph,
        network=network,
        population=population,
        offices=offices,
        profile=profile,
        cell_node=cell_node,
        office_node=office_node,
        cell_connection=cells,
        office_connection=offs,
        num_road_nodes=r,
        attach=attach,
        turns=turns,
    )


def slows_down(network: RoadNetwork, profile: SpeedProfile) -> bool:
    """Whether the profile's urban slowdown applies to this network: it models the
    streets a coarse map lacks, so OpenStreetMap networks (``highway`` classes: street
    level, urban speeds in the class speeds and limits) are not slowed unless the profile
    says ``[urban_slowdown] osm = true``."""
    if not len(profile.urban_factors) or min(profile.urban_factors) >= 1.0:
        return False
    return network.class_column != "highway" or profile.urban_slowdown_osm


def attach_places(
    network: RoadNetwork,
    px: npt.NDArray[np.float64],
    py: npt.NDArray[np.float64],
    num_cells: int,
    profile: SpeedProfile,
) -> tuple[RoadNetwork, pd.DataFrame, AttachableNodes]:
    """Join cells (the first ``num_cells`` points) and offices (the rest) to the kept
    strong components under the profile's ``[access]`` rule: ``(network with the split
    nodes, access-leg table, the strong components)``."""
    # Shape points in the middle of a ferry route are in the water: nobody boards there.
    mid_water = network.meta.get("ferry_shape_point")
    node_mask = None if mid_water is None else ~np.asarray(mid_water, dtype=bool)
    attach = attachable_nodes(
        network,
        profile.access_attach,
        profile.access_attach_min_km,
        px[num_cells:],
        py[num_cells:],
        node_mask=node_mask,
    )
    # Cells and offices in one call (one search structure), then split.
    same = attach.label[network.tail] == attach.label[network.head]
    both = connect_points(
        network, px, py, profile, node_mask=attach.mask, snap=profile.access_snap, edge_mask=same
    )
    both["nearest_node"], both["nearest_node_m"] = _nearest_any(network, px, py, node_mask)
    both["inside_extract"] = _inside_extent(network, px, py)
    if profile.access_snap == "edge":
        ok = both["connected"].to_numpy()
        edge = np.where(ok, both["edge"].to_numpy(), -1)
        network, node = split_edges(network, edge, both["fraction"].to_numpy(), both["node"])
        both["node"] = node
    return network, both, attach


def _nearest_any(
    network: RoadNetwork, px: np.ndarray, py: np.ndarray, node_mask: np.ndarray | None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Nearest node of every point whatever the attach rule (-1, inf if not finite):
    where people would join without graph hygiene, for the diagnostics."""
    from scipy.spatial import cKDTree

    cand = np.arange(network.num_nodes) if node_mask is None else np.flatnonzero(node_mask)
    node = np.full(px.shape, -1, dtype=np.int64)
    dist = np.full(px.shape, np.inf)
    fin = np.isfinite(px) & np.isfinite(py)
    if cand.size and fin.any():
        d, i = cKDTree(np.column_stack([network.x[cand], network.y[cand]])).query(
            np.column_stack([px[fin], py[fin]])
        )
        node[fin], dist[fin] = cand[i], d
    return node, dist


def _inside_extent(network: RoadNetwork, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Whether each point lies inside the convex hull of the road nodes (the extent of
    the road data: beyond it an extract was clipped, not the road network ended)."""
    import shapely
    from scipy.spatial import ConvexHull, QhullError

    if network.num_nodes < 3:
        return np.ones(px.shape, dtype=bool)
    xy = np.column_stack([network.x, network.y])
    try:  # qhull: a national network's hull in a fraction of a second (no GEOS points)
        ring = xy[ConvexHull(xy).vertices]
    except QhullError:  # collinear nodes: a line has no inside
        return np.ones(px.shape, dtype=bool)
    hull = shapely.buffer(shapely.Polygon(ring), 1.0)
    return np.asarray(shapely.contains_xy(hull, px, py), dtype=bool)


def warn_office_fragments(
    connection: pd.DataFrame, offices: Offices, attach: AttachableNodes
) -> None:
    """Warn about offices whose nearest road node lies in a strong component the attach
    rule left out (a one-way trap, a fragment): they joined a kept component instead."""
    near = connection["nearest_node"].to_numpy()
    ok = near >= 0
    bad = np.zeros(near.shape, dtype=bool)
    bad[ok] = ~attach.mask[near[ok]]
    if not bad.any():
        return
    idx = np.flatnonzero(bad)
    parts = [
        f"{offices.names[i]!r} (nearest road {connection['nearest_node_m'].iloc[i]:.0f} m, "
        f"joined at {connection['distance_m'].iloc[i]:.0f} m)"
        for i in idx[:5]
    ]
    warnings.warn(
        f"{idx.size} office(s) lie nearest to a road piece from which the rest of the network "
        f"cannot be reached both ways (a one-way trap or a small fragment; [access] attach = "
        f"{attach.rule!r}): {', '.join(parts)}; they join the main network instead",
        stacklevel=3,
    )


def _office_places(offices: Offices, idx: npt.NDArray[np.int64], dist: npt.ArrayLike) -> str:
    """``'Name' (lon .., lat ..: 20.3 km)`` for the first five offices of ``idx``."""
    d = np.asarray(dist, dtype=float)
    parts = [
        f"{offices.names[i]!r} (lon {offices.lon[i]:.4f}, lat {offices.lat[i]:.4f}: "
        f"{d[k] / 1000:.1f} km)"
        for k, i in enumerate(idx[:5])
    ]
    more = f" and {idx.size - 5} more" if idx.size > 5 else ""
    return ", ".join(parts) + more


def check_office_legs(connection: pd.DataFrame, offices: Offices, profile: SpeedProfile) -> None:
    """Offices farther from every road than ``[access] max_distance_m`` are an error;
    those farther than ``[access] warn_distance_m`` (but within the maximum) are warned
    about, by name, position and distance: their access leg is a long straight line
    (an office at sea, a wrong coordinate) that no road confirms."""
    dist = connection["distance_m"].to_numpy(dtype=float)
    far = np.flatnonzero(~connection["connected"].to_numpy())
    if far.size:
        raise AccessibilityInputError(
            f"{far.size} office(s) lie farther from every road than the profile's maximum "
            f"access distance ({profile.max_access_distance_m / 1000:.1f} km): "
            f"{_office_places(offices, far, dist[far])}. Check their coordinates and CRS, "
            f"or raise [access] max_distance_m in the profile ({profile.source})."
        )
    warn_m = profile.warn_access_distance_m
    long_leg = np.flatnonzero(dist > warn_m)
    if long_leg.size:
        warnings.warn(
            f"{long_leg.size} office(s) join the road network by an access leg longer than "
            f"[access] warn_distance_m = {warn_m / 1000:.1f} km: "
            f"{_office_places(offices, long_leg, dist[long_leg])}; the leg is a straight "
            f"line x {profile.access_detour_factor} at {profile.access_speed_kmh} km/h. Check "
            "their coordinates (at sea? another place?), or raise warn_distance_m in the "
            f"profile ({profile.source}) if the legs are real",
            stacklevel=3,
        )


def long_leg_cells(connection: pd.DataFrame, profile: SpeedProfile) -> npt.NDArray[np.bool_]:
    """Mask of the cells joined to a road by a leg longer than ``warn_distance_m``
    (cells beyond ``max_distance_m`` are not joined: they are unreachable)."""
    dist = connection["distance_m"].to_numpy(dtype=float)
    return connection["connected"].to_numpy() & (dist > profile.warn_access_distance_m)


def warn_long_cell_legs(
    connection: pd.DataFrame, population: PopulationGrid, profile: SpeedProfile
) -> None:
    """One warning for the populated cells joined by legs longer than
    ``[access] warn_distance_m``: how many, their people and the longest leg's cell."""
    long_leg = long_leg_cells(connection, profile)
    if not long_leg.any():
        return
    dist = connection["distance_m"].to_numpy(dtype=float)
    col = population.columns[0]
    people = float(population.frame[col].to_numpy(dtype=float)[long_leg].sum())
    worst = int(np.flatnonzero(long_leg)[np.argmax(dist[long_leg])])
    cell = cell_to_str(population.cells[worst : worst + 1])[0]
    warnings.warn(
        f"{int(long_leg.sum())} populated cells ({people:,.0f} people in {col!r}) join the "
        f"road network by access legs longer than [access] warn_distance_m = "
        f"{profile.warn_access_distance_m / 1000:.1f} km (longest: cell {cell}, "
        f"{dist[worst] / 1000:.1f} km); their times assume a straight line x "
        f"{profile.access_detour_factor} at {profile.access_speed_kmh} km/h. Check the road "
        f"coverage there, or raise warn_distance_m in the profile ({profile.source})",
        stacklevel=3,
    )


@dataclass(frozen=True)
class AccessibilityResult:
    """Travel times from every populated cell to its nearest office, with the bands.

    ``cells`` has one row per populated cell: ``h3``, ``municipality`` (when known), the
    population columns, ``time_s``, ``distance_m``, ``office`` (index into ``offices``,
    -1 if unreachable), ``office_name``, ``connected`` (within access distance of a road)
    and ``reached``. ``office_indices`` are the offices of this network (a study's
    access graph may hold the offices of several networks).
    """

    access: AccessGraph
    cells: pd.DataFrame
    histogram: BandHistogram
    columns: tuple[str, ...]
    #: Indices into ``access.offices`` of the offices this result searched from.
    office_indices: npt.NDArray[np.int64]
    provenance: dict[str, Any] = field(default_factory=dict)

    def bands(self, column: str | None = None) -> pd.DataFrame:
        """The 10-minute band table (``bands.csv`` columns) for a population column."""
        return self.histogram.to_frame(column or 0)

    def network_diagnostics(self, column: str | None = None, top: int = 20) -> dict[str, Any]:
        """Diagnostics of the graph this result was solved on, JSON-ready: for the road
        graph its size, km by class and the road islands without an office with their
        population (:meth:`AccessGraph.diagnostics`); for the hexagon graph its cells,
        arcs and road cells (:meth:`hexaccess.study.hexagon.HexAccess.diagnostics`)."""
        return self.access.diagnostics(self, column or self.columns[0], top)

    def summary(self, column: str | None = None) -> dict[str, Any]:
        """The ``summary.json`` figures for one population column."""
        column = column or self.columns[0]
        h = self.histogram
        w = self.cells[column].to_numpy(dtype=float)
        unconnected = float(w[~self.cells["connected"].to_numpy()].sum())
        head = headline_summary(h, column)
        # The unreachable split goes right after population_unreachable.
        out = dict(list(head.items())[:3])
        out["population_unconnected"] = unconnected
        out["population_no_office_in_component"] = head["population_unreachable"] - unconnected
        # The honest split (sums to population_unreachable): see unreachable_split.
        split = unreachable_split(self, column)
        out["population_unreachable_outside_extract"] = split["outside_extract"]
        out["population_unreachable_too_far_from_road"] = split["too_far_from_road"]
        out["population_unreachable_no_office_in_component"] = split["no_office_in_component"]
        out.update(head)
        out.update(
            {
                "cells": len(self.cells),
                "cells_unreachable": int((~self.cells["reached"]).sum()),
                "offices": len(self.office_indices),
            }
        )
        for other in self.columns:
            if other != column:
                out[f"mean_time_min_{other}"] = h.mean_time_s(other) / 60.0
                out[f"mean_distance_km_{other}"] = h.mean_length_m(other) / 1000.0
        out["network"] = self.network_diagnostics(column)
        out["provenance"] = self.provenance
        return out


def check_office_indices(offices: Offices, subset: npt.ArrayLike | None) -> npt.NDArray[np.int64]:
    """Checked indices into ``offices``: all of them, or the given non-empty subset."""
    if subset is None:
        idx = np.arange(len(offices), dtype=np.int64)
    else:
        raw = np.asarray(subset)
        if raw.ndim != 1 or (raw.size and not np.issubdtype(raw.dtype, np.integer)):
            raise AccessibilityInputError(
                f"offices must be a 1-D list of integer office indices, got {raw!r}"
            )
        idx = raw.astype(np.int64)
    if idx.size == 0:
        raise AccessibilityInputError("the office set is empty; give at least one office")
    bad = (idx < 0) | (idx >= len(offices))
    if bad.any():
        raise AccessibilityInputError(
            f"office index {int(idx[bad][0])} is outside 0..{len(offices) - 1} "
            f"({len(offices)} offices in the study)"
        )
    return idx


def solve(
    access: AccessGraph,
    columns: Sequence[str] | None = None,
    *,
    offices: npt.ArrayLike | None = None,
    band_edges_s: npt.ArrayLike | None = None,
    provenance_info: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> AccessibilityResult:
    """Nearest office for every populated cell, and the population-weighted bands.

    ``offices`` optionally selects a subset (indices into ``access.offices``).
    """
    columns = tuple(columns or access.population.columns)
    missing = [c for c in columns if c not in access.population.columns]
    if missing:
        raise UnknownNameError(
            f"unknown population column(s) {missing}; the grid has {access.population.columns}"
        )
    idx = check_office_indices(access.offices, offices)
    sources = access.office_node[idx]
    offsets = access.office_offsets()[idx]
    # One search: the per-cell frame needs per-node results, and the histogram is binned
    # from them (identical to the engine's own histogram).
    r, hist = access.graph.nearest_with_histogram(
        sources,
        access.weights(columns),
        band_edges_s=band_edges_s,
        offsets_s=offsets,
        columns=list(columns),
    )
    if progress is not None:
        progress(1, 1)
    node = access.cell_node
    office = np.where(r.source[node] >= 0, idx[np.maximum(r.source[node], 0)], -1)
    pop = access.population
    frame = cell_frame(pop)
    names = np.asarray(access.offices.names, dtype=object)
    frame["time_s"] = r.time_s[node]
    frame["distance_m"] = r.length_m[node]
    frame["office"] = office
    frame["office_name"] = np.where(office >= 0, names[np.maximum(office, 0)], None)
    frame["connected"] = access.cell_connection["connected"].to_numpy()
    frame["reached"] = r.reached[node]
    info = {
        "profile": access.profile.name,
        "profile_source": str(access.profile.source),
        "mode": access.profile.mode,
        "resolution": pop.resolution,
        "backend": access.graph.backend,
        "terminal_time_s": access.profile.terminal_time_s,
        "urban_slowdown": "slowdown_factor" in access.network.meta,
        **(provenance_info or {}),
    }
    if int((~frame["connected"]).sum()):
        warnings.warn(
            f"{int((~frame['connected']).sum())} populated cells "
            f"({frame.loc[~frame['connected'], columns[0]].sum():,.0f} people in "
            f"{columns[0]!r}) are farther than {access.profile.max_access_distance_m / 1000:.1f}"
            " km from every road: reported as unreachable",
            stacklevel=2,
        )
    return AccessibilityResult(access, frame, hist, columns, idx, info)
