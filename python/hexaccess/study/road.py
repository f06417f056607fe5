"""From real inputs to travel times: population cells + road network + offices.

The engine graph is the road network plus one node per populated H3 cell and one per
office. A cell joins its nearest road node with an *access leg* (straight line × detour
factor, at the profile's access speed) when that node is within the profile's maximum
access distance; an office joins its nearest road node the same way. Trips are measured
**from home to the office**: the search runs from the offices over the *reversed* graph,
so one-way streets count in the direction people drive them. Every trip also pays the
profile's terminal time (parking and walking at the ends), as a start offset.

People are never dropped: cells too far from any road (``unconnected``) and cells whose
road component holds no office are *unreachable*, counted in every summary.
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
    that of office ``j``. ``cell_connection`` is the access-leg table of the cells.
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
        hold no office of ``result`` ("islands"), largest population first. JSON-ready."""
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
    if urban_slowdown and len(profile.urban_factors) and min(profile.urban_factors) < 1.0:
        if "slowdown_factor" not in network.meta:
            network = apply_urban_slowdown(network, density_lookup(population, network.crs))
    to_net = Transformer.from_crs("EPSG:4326", network.crs, always_xy=True)

    # Shape points in the middle of a ferry route are in the water: nobody boards there.
    mid_water = network.meta.get("ferry_shape_point")
    node_mask = None if mid_water is None else ~np.asarray(mid_water, dtype=bool)
    # Cells and offices in one call (one KD-tree), then split.
    lon, lat = population.centers_lonlat()
    c = len(population.cells)
    px, py = to_net.transform(
        np.concatenate([lon, np.asarray(offices.lon, float)]),
        np.concatenate([lat, np.asarray(offices.lat, float)]),
    )
    both = connect_points(network, px, py, profile, node_mask=node_mask)
    cells = both.iloc[:c].reset_index(drop=True)
    offs = both.iloc[c:].reset_index(drop=True)
    check_office_legs(offs, offices, profile)
    warn_long_cell_legs(cells, population, profile)

    r = network.num_nodes
    cell_node = np.arange(r, r + c, dtype=np.int64)
    office_node = np.arange(r + c, r + c + len(offices), dtype=np.int64)
    tail, head, time_s, length_m = network.to_edge_arrays(both_directions=True)
    ok = cells["connected"].to_numpy()
    # Reversed arcs: road head -> tail; road node -> cell; office -> road node.
    rev_tail = np.concatenate([head, cells["node"].to_numpy()[ok], office_node])
    rev_head = np.concatenate([tail, cell_node[ok], offs["node"].to_numpy()])
    rev_time = np.concatenate(
        [time_s, cells["access_time_s"].to_numpy()[ok], offs["access_time_s"].to_numpy()]
    )
    rev_len = np.concatenate(
        [length_m, cells["access_length_m"].to_numpy()[ok], offs["access_length_m"].to_numpy()]
    )
    graph = Graph.from_edges(
        rev_tail, rev_head, rev_time, rev_len, num_nodes=r + c + len(offices), backend=backend
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
