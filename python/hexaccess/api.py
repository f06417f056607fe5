"""The study API: one object that reads a study's inputs once, solves any of its office
networks, and writes every result through the one safe writer.

>>> import hexaccess
>>> study = hexaccess.Study(
...     population="census2021_1km.csv", roads="road.shp", offices="offices.csv",
...     municipality_table="grid_municipality.csv", exclude_municipalities="aland",
... )                                                            # doctest: +SKIP
>>> result = study.solve()                                      # doctest: +SKIP
>>> result.bands(), result.summary()["mean_time_min"]          # doctest: +SKIP

Inputs are paths or in-memory objects alike: GeoDataFrames (population squares, points
or polygons; road lines; office points; their geometry is used, never replaced),
DataFrames with H3 ids (population) or lon/lat (offices), and the loader objects
(:class:`~hexaccess.population.PopulationGrid`, :class:`~hexaccess.network.RoadNetwork`,
:class:`~hexaccess.offices.Offices`). Every default comes from :mod:`hexaccess.defaults`,
the same the command line and scenario files use, so the same inputs give the same
numbers from Python and from ``hexaccess run``.

Settings are checked when the study is made (before anything is read); inputs are read
on first use and kept, and the engine graph is built once for the union of all office
networks.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hexaccess import analysis, defaults, inputs
from hexaccess._extras import require
from hexaccess._files import check_input_file
from hexaccess.errors import OutputError, ScenarioError
from hexaccess.layers import LayerBuilder, write_layers
from hexaccess.network import RoadNetwork
from hexaccess.offices import Offices, read_municipalities
from hexaccess.outputs import OutputDirectory, prepare_output
from hexaccess.profiles import SpeedProfile
from hexaccess.results import BANDS_COLUMNS
from hexaccess.study import (
    GRAPH_KINDS,
    AccessibilityResult,
    build_access,
    check_offices_in_study_area,
    provenance,
    solve,
)
from hexaccess.study.transit import (
    TransitAccess,
    TransitWindowSpec,
    build_transit_access,
    solve_transit,
    transit_summary,
)
from hexaccess.transit import Timetable, load_transit_profile, read_gtfs

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["RUN_FILES", "Study", "StudyResult", "TransitStudyResult", "write_run_files"]

#: The files of ``hexaccess run --out DIR`` (a contract: names and columns only added).
RUN_FILES = ("bands.csv", "summary.json", "cells.parquet")

Step = Callable[[str], Any]


def _no_step(label: str) -> None:
    return None


def _json_text(value: Any) -> str:
    return json.dumps(value, indent=2, default=str) + "\n"


@dataclass(frozen=True)
class StudyResult(AccessibilityResult):
    """One office network solved: the per-cell table, the band histogram and every
    figure of the study, as tables.

    ``cells`` has one row per populated cell (``h3``, ``municipality`` when known, the
    population columns, ``time_s``, ``distance_m``, ``office``, ``office_name``,
    ``connected``, ``reached``); ``bands()`` is ``bands.csv``, ``summary()`` is
    ``summary.json``, ``catchments()`` is ``offices.csv`` and ``municipalities()`` is
    ``municipalities.csv`` of ``hexaccess report``.
    """

    name: str = ""
    municipality_info: pd.DataFrame | None = None

    @classmethod
    def of(
        cls, result: AccessibilityResult, name: str, municipality_info: pd.DataFrame | None
    ) -> StudyResult:
        """Wrap an engine-level result with its network name and municipality table."""
        return cls(
            result.access,
            result.cells,
            result.histogram,
            result.columns,
            result.office_indices,
            result.provenance,
            name=name,
            municipality_info=municipality_info,
        )

    def catchments(
        self, column: str | None = None, visits_per_person: Mapping[str, float] | None = None
    ) -> pd.DataFrame:
        """Per office: the people who have it as their nearest office, their mean and
        longest trips and expected visits (:func:`hexaccess.analysis.catchments`)."""
        return analysis.catchments(self, column, visits_per_person)

    def municipalities(self, column: str | None = None, within_minutes: float = 60.0):
        """Per municipality of residence: people, unreachable people, mean and longest
        trips (:func:`hexaccess.analysis.municipality_table`); needs cells with a
        municipality (a municipality table among the inputs)."""
        return analysis.municipality_table(self, column, self.municipality_info, within_minutes)

    def coverage(
        self,
        minutes: Sequence[float] = defaults.COVERAGE_MINUTES,
        km: Sequence[float] = defaults.COVERAGE_KM,
    ) -> pd.DataFrame:
        """Share of people within each threshold (:func:`hexaccess.analysis.coverage`)."""
        return analysis.coverage(self, minutes, km)

    def means(self) -> pd.DataFrame:
        """Mean time and distance for every population column."""
        return analysis.means(self)

    def write(
        self, out: str | os.PathLike[str], *, overwrite: bool = False, layers: bool = True
    ) -> list[Path]:
        """Write ``bands.csv``, ``summary.json`` and ``cells.parquet`` (the ``hexaccess
        run`` contract), the GIS layers (``layers.gpkg`` and ``geoparquet/*.parquet``,
        unless ``layers=False``) and ``manifest.json`` into ``out``, atomically: a
        reader sees the previous result or this one, never a mix
        (:mod:`hexaccess.outputs`)."""
        inputs = self.provenance.get("inputs", {}) if isinstance(self.provenance, dict) else {}
        paths = {k: v.get("path") for k, v in inputs.items() if isinstance(v, dict)}
        check_output_keeps_inputs(out, paths)
        with prepare_output(out, overwrite=overwrite, kind="run") as target:
            write_run_files(target, self, self.summary(), layers=layers)
            return target.commit(self.provenance)

    # ------------------------------------------------------------ GIS layers
    def _layers(self, column: str | None) -> LayerBuilder:
        return LayerBuilder(self, column, self.municipality_info)

    def cell_layer(
        self, geometry: str = "polygon", crs: Any = None, *, column: str | None = None
    ) -> gpd.GeoDataFrame:
        """The populated cells as a GeoDataFrame: H3 polygons (or their centre points
        with ``geometry="centre"``), the ``cells`` columns, ``population`` (of
        ``column``, default the first solved), ``time_min`` and ``distance_km``
        (null when unreached). EPSG:4326 unless ``crs`` reprojects
        (:meth:`hexaccess.layers.LayerBuilder.cell_layer`)."""
        return self._layers(column).cell_layer(geometry, crs)

    def office_layer(self, crs: Any = None, *, column: str | None = None) -> gpd.GeoDataFrame:
        """The network's offices as points with every column of the offices input
        (ids included) and their catchment statistics (``population``, ``share_pct``,
        ``cells``, mean and longest trips)."""
        return self._layers(column).office_layer(crs)

    def catchment_layer(self, crs: Any = None, *, column: str | None = None) -> gpd.GeoDataFrame:
        """One (Multi)Polygon per office, the union of the cells that have it as their
        nearest office, with the office layer's columns (a null geometry for an office
        nobody has as nearest)."""
        return self._layers(column).catchment_layer(crs)

    def municipality_layer(self, crs: Any = None, *, column: str | None = None) -> gpd.GeoDataFrame:
        """:meth:`municipalities` with geometry: the municipality polygons given as the
        study's ``municipalities`` (a polygon layer), else the union of each
        municipality's populated cells."""
        return self._layers(column).municipality_layer(crs)

    def layers(self, crs: Any = None, *, column: str | None = None) -> dict[str, gpd.GeoDataFrame]:
        """Every layer by name: ``cells``, ``offices``, ``catchments`` and (when the
        cells know their municipality) ``municipalities``, as written to
        ``layers.gpkg``."""
        return self._layers(column).layers(crs)


@dataclass(frozen=True)
class TransitStudyResult(StudyResult):
    """A public-transport network solved (``Study(mode="transit", ...)``): a
    :class:`StudyResult` whose ``time_s`` is one percentile of the departure window
    (default the median) and whose summary states it, with the window and the feeds
    (``summary()["transit"]``); ``cells`` also has ``time_min_s``, the percentiles
    (``time_p25_s`` ...), ``walk_only_s``, ``transfers`` and ``departures_unreachable``
    (:mod:`hexaccess.study.transit`)."""

    def summary(self, column: str | None = None) -> dict[str, Any]:
        out = super().summary(column)
        out.update(transit_summary(self.access))
        return out


def write_run_files(
    target: OutputDirectory, result: AccessibilityResult, summary: dict, *, layers: bool = True
) -> None:
    """The three files of the ``hexaccess run`` contract, into a staging directory, and
    (unless ``layers=False``) the GIS layers beside them (:func:`hexaccess.layers.write_layers`)."""
    result.bands()[BANDS_COLUMNS].to_csv(target.file("bands.csv"), index=False)
    target.file("summary.json").write_text(_json_text(summary))
    result.cells.to_parquet(target.file("cells.parquet"), index=False)
    if layers:
        info = getattr(result, "municipality_info", None)
        write_layers(target, LayerBuilder(result, summary.get("population_column"), info))


def check_output_keeps_inputs(out: str | os.PathLike[str], files: Mapping[str, Any]) -> None:
    """Refuse an output directory that is, or lies above, an input file: the output
    replaces the whole directory, so the input would be deleted (with ``--overwrite``)
    or the run refused late. ``files`` maps each input's role to its value (paths are
    checked, in-memory objects skipped)."""
    target = Path(out).resolve()
    for role, value in files.items():
        if not isinstance(value, (str, os.PathLike)) or not str(value):
            continue
        path = Path(value).resolve()
        if path == target or target in path.parents:
            raise OutputError(
                f"output directory {out} holds the {role} input {value}: the output replaces "
                "the whole directory, which would delete it; give an output directory that "
                "holds no input (e.g. a new sub-directory)"
            )


def study_input_files(study: Study) -> dict[str, Any]:
    """Every input of ``study`` by role (paths or objects), for
    :func:`check_output_keeps_inputs`."""
    return {
        **{k.replace("_", " "): v for k, v in study.inputs.items()},
        **{f"offices {n}": v for n, v in study.office_inputs.items()},
        **{f"GTFS feed {k + 1}": v for k, v in enumerate(study.gtfs_inputs)},
        "profile": study.profile_input,
    }


def _network_name(value: Any, fallback: str) -> str:
    if isinstance(value, (str, os.PathLike)):
        return Path(value).stem
    return fallback


def _office_networks(offices: Any) -> dict[str, Any]:
    """``offices`` as ``{network name: input}``: a mapping is taken as it is, one input
    is named after its file (or ``offices``)."""
    if offices is None:
        raise ScenarioError("a study needs offices: give offices=FILE, a (Geo)DataFrame, ...")
    if isinstance(offices, Mapping):
        if not offices:
            raise ScenarioError("offices={} names no office network; give at least one")
        bad = [k for k in offices if not (isinstance(k, str) and k)]
        if bad:
            raise ScenarioError(f"office network names must be non-empty strings, got {bad}")
        return dict(offices)
    return {_network_name(offices, "offices"): offices}


def _check_resolution(value: Any, name: str) -> int:
    lo, hi = defaults.RESOLUTION_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ScenarioError(f"{name} must be a whole number {lo}..{hi}, got {value!r}")
    if not lo <= int(value) <= hi:
        raise ScenarioError(f"{name} must be an H3 resolution {lo}..{hi}, got {value}")
    return int(value)


def check_hex_graph_size(population: Any, offices: Offices, resolution: int) -> None:
    """Refuse a hexagon graph too large to build: its cells are estimated from the
    coarse cover of the populated cells and offices (the graph has at least these) and
    must stay within :data:`hexaccess.defaults.MAX_HEX_CELLS`; also a resolution coarser
    than the cover, which cannot hold a study area."""
    from hexaccess.h3 import cell_to_parent, latlng_to_cells
    from hexaccess.study.hexagon import DEFAULT_COVER_RESOLUTION as cover

    if resolution < cover:
        raise ScenarioError(
            f"hex_resolution (--hex-resolution) {resolution} is coarser than the study-area "
            f"cover (H3 resolution {cover}, cells of ~36 km²); give hex_resolution {cover}..15 "
            f"(default {defaults.HEX_RESOLUTION})"
        )
    cells = np.asarray(population.cells, dtype=np.uint64)
    office_cells = latlng_to_cells(offices.lat, offices.lon, cover)
    if population.resolution >= cover:
        coarse_n = len(np.union1d(cell_to_parent(cells, cover), office_cells))
    else:  # coarse population cells: each covers 7^k cover cells
        coarse_n = len(cells) * 7 ** (cover - population.resolution) + len(office_cells)
    estimate = coarse_n * 7 ** (resolution - cover)
    if estimate > defaults.MAX_HEX_CELLS:
        fits = resolution
        while fits > cover and coarse_n * 7 ** (fits - cover) > defaults.MAX_HEX_CELLS:
            fits -= 1
        raise ScenarioError(
            f"hex_resolution (--hex-resolution) {resolution}: the hexagon graph of this study "
            f"area would have about {estimate:,} cells, more than the limit of "
            f"{defaults.MAX_HEX_CELLS:,} (hexaccess.defaults.MAX_HEX_CELLS); give "
            f"hex_resolution {fits} or coarser"
        )


class Study:
    """A study: population, roads, office networks, a speed profile and a graph kind.

    ``offices`` is one office network or ``{name: network}`` for several (all solved on
    one engine graph; the first is the comparison baseline). ``graph`` is ``"road"``
    (people join the nearest road node by an access leg) or ``"hex"`` (the H3 friction
    graph at ``hex_resolution``, with ``off_road_speed_kmh`` and ``water`` polygons).
    ``progress(label)`` is called before each long step.

    ``mode="transit"`` is public transport + walking (:mod:`hexaccess.study.transit`):
    ``gtfs`` (a GTFS zip or folder, a list of them, or a
    :class:`~hexaccess.transit.Timetable`) and ``departure`` (``"2026-03-04T08:00"``: the
    service day and the first departure) are required, ``roads`` is not used;
    ``window_min`` (default the transit profile's 120) and ``percentiles`` (default
    25, 50, 75) describe the window, ``time_percentile`` (default 50: the median) is the
    percentile reported as ``time_s`` and in the bands; ``profile`` is then a transit
    profile (default the packaged ``transit``). These settings with another mode are an
    error, never silently ignored.
    """

    def __init__(
        self,
        population: Any,
        roads: Any = None,
        offices: Any = None,
        *,
        graph: str = defaults.GRAPH,
        profile: str | os.PathLike[str] | SpeedProfile | None = None,
        mode: str = defaults.MODE,
        resolution: int = defaults.RESOLUTION,
        municipality_table: Any = None,
        municipalities: Any = None,
        exclude_municipalities: str | Sequence[str] | None = None,
        population_columns: Sequence[str] | None = None,
        split_roads: bool = defaults.SPLIT_ROADS,
        backend: str = defaults.BACKEND,
        hex_resolution: int | None = None,
        off_road_speed_kmh: float | None = None,
        water: Any = None,
        progress: Step | None = None,
        gtfs: Any = None,
        departure: Any = None,
        window_min: int | None = None,
        percentiles: Any = None,
        time_percentile: float | None = None,
    ) -> None:
        if graph not in GRAPH_KINDS:
            raise ScenarioError(f"graph must be one of {list(GRAPH_KINDS)}, got {graph!r}")
        self.graph = graph
        self.resolution = _check_resolution(resolution, "resolution (--resolution)")
        self.transit_window = self._transit_options(
            mode, graph, roads, gtfs, departure, window_min, percentiles, time_percentile, profile
        )
        if self.transit_window is not None:
            self.graph = "transit"
        self.hex_options = self._hex_options(hex_resolution, off_road_speed_kmh, water)
        self.mode = mode
        self.profile: Any = (
            load_transit_profile("transit" if profile is None else profile)
            if self.transit_window is not None
            else _study_profile(profile, mode, roads)
        )
        if self.transit_window is not None:  # the transit profile's window is the default
            self.transit_window = TransitWindowSpec.of(
                departure, window_min, percentiles, time_percentile, self.profile
            )
        # The profile decides the mode (a walk profile under the default mode is a walk).
        self.mode = getattr(self.profile, "mode", "transit")
        self.profile_input = None if isinstance(profile, SpeedProfile) else profile
        self.exclude = inputs.municipality_codes(exclude_municipalities)
        self.population_columns = _column_names(population_columns)
        if backend not in ("auto", "rust", "numba"):
            raise ScenarioError(f"backend must be 'auto', 'rust' or 'numba', got {backend!r}")
        if not isinstance(split_roads, bool):
            raise ScenarioError(f"split_roads must be True or False, got {split_roads!r}")
        self.backend, self.split_roads = backend, split_roads
        self.inputs = {
            "population": population,
            "roads": roads,
            "municipality_table": municipality_table,
            "municipalities": municipalities,
        }
        self.gtfs_inputs: list[Any] = _gtfs_inputs(gtfs)
        self.office_inputs = _office_networks(offices)
        self._check_input_paths()
        self.step: Step = progress or _no_step

    def _check_input_paths(self) -> None:
        """Every input given as a path exists and is a readable, non-empty file, checked
        before anything is read: a bad office file must not cost the national
        population and road reads first."""
        named = {
            **{f"{role.replace('_', ' ')} file": v for role, v in self.inputs.items()},
            **{
                "office file" if len(self.office_inputs) == 1 else f"office file of {n!r}": v
                for n, v in self.office_inputs.items()
            },
        }
        for role, value in named.items():
            if isinstance(value, (str, os.PathLike)) and str(value):
                check_input_file(value, role)
        for k, feed in enumerate(self.gtfs_inputs):
            # A GTFS feed is a zip or an unpacked folder (read_gtfs checks its files).
            if isinstance(feed, (str, os.PathLike)) and not Path(feed).is_dir():
                check_input_file(feed, f"GTFS feed {k + 1}" if k else "GTFS feed")

    @staticmethod
    def _transit_options(
        mode: str,
        graph: str,
        roads: Any,
        gtfs: Any,
        departure: Any,
        window_min: Any,
        percentiles: Any,
        time_percentile: Any,
        profile: Any,
    ) -> TransitWindowSpec | None:
        """The transit settings, checked: given only with ``mode='transit'``, which
        needs the feed(s) and a departure. Returns a placeholder window (the profile's
        own window fills the defaults once the profile is read), ``None`` otherwise."""
        given = [
            name
            for name, v in (
                ("gtfs (--gtfs)", gtfs),
                ("departure (--departure)", departure),
                ("window_min (--window)", window_min),
                ("percentiles (--percentiles)", percentiles),
                ("time_percentile", time_percentile),
            )
            if v is not None and not (name.startswith("gtfs") and not _gtfs_inputs(gtfs))
        ]
        if mode != "transit":
            if given:
                raise ScenarioError(
                    f"{', '.join(given)} apply to public transport only; give mode='transit' "
                    f"(--mode transit) or leave them out (mode is {mode!r})"
                )
            return None
        if not _gtfs_inputs(gtfs):
            raise ScenarioError(
                "mode='transit' (--mode transit) needs a timetable: give gtfs=FEED.zip "
                "(--gtfs FEED.zip, repeatable for several feeds) or a hexaccess.transit.Timetable"
            )
        if departure is None:
            raise ScenarioError(
                "mode='transit' (--mode transit) needs departure='2026-03-04T08:00' "
                "(--departure): the service day and the first departure of the window"
            )
        if graph != defaults.GRAPH:
            raise ScenarioError(
                f"graph={graph!r} (--graph) does not apply to mode='transit': public transport "
                "routes on the timetable and walking; leave graph out"
            )
        if roads is not None:
            raise ScenarioError(
                "roads (--roads) are not used by mode='transit' (walking legs are straight "
                "lines x the transit profile's detour factor); leave them out"
            )
        if profile is not None and isinstance(profile, SpeedProfile):
            raise ScenarioError(
                f"mode='transit' takes a transit profile (packaged 'transit', a TOML path or "
                f"a TransitProfile), not the speed profile {profile.name!r}"
            )
        # Checked now with the packaged defaults, so bad values fail before any read.
        return TransitWindowSpec.of(departure, window_min, percentiles, time_percentile)

    def _hex_options(
        self, hex_resolution: int | None, off_road_speed_kmh: float | None, water: Any
    ) -> dict[str, Any]:
        given = {
            k: v
            for k, v in (
                ("hex_resolution", hex_resolution),
                ("off_road_speed_kmh", off_road_speed_kmh),
                ("water", water),
            )
            if v is not None
        }
        if self.graph in ("road", "transit"):
            if given:
                raise ScenarioError(
                    f"{sorted(given)} apply to the hexagon graph only; give graph='hex' (or "
                    "--graph hex) or leave them out"
                )
            return {}
        res = defaults.HEX_RESOLUTION if hex_resolution is None else hex_resolution
        options: dict[str, Any] = {
            "resolution": _check_resolution(res, "hex_resolution (--hex-resolution)")
        }
        if off_road_speed_kmh is not None:
            where = "off_road_speed_kmh (--off-road-speed)"
            v = analysis.check_number(off_road_speed_kmh, where, ScenarioError)
            if not (math.isfinite(v) and 0 < v <= 1_000):
                raise ScenarioError(
                    f"{where} must be > 0 km/h (at most 1000), got {off_road_speed_kmh}"
                )
            options["off_road_speed_kmh"] = v
        if water is not None:
            options["water"] = inputs.read_polygons_any(water)
        return options

    # ------------------------------------------------------------ inputs, read once
    @cached_property
    def population(self):
        """The population grid (read on first use)."""
        self.step("population")
        return inputs.read_population_any(
            self.inputs["population"],
            resolution=self.resolution,
            municipality_table=self.inputs["municipality_table"],
            columns=self.population_columns,
            exclude_municipalities=self.exclude,
        )

    @cached_property
    def roads(self):
        """The road network (read on first use; ``None`` for a hexagon study without
        roads)."""
        if self.inputs["roads"] is None:
            if self.graph == "road":
                raise ScenarioError("the road graph needs roads: give roads=... or graph='hex'")
            return None
        self.step("roads")
        return inputs.read_roads_any(
            self.inputs["roads"], self.profile, split_at_vertices=self.split_roads
        )

    @cached_property
    def municipality_info(self) -> pd.DataFrame | None:
        """The municipalities table (names, language status, centres), when given."""
        given = self.inputs["municipalities"]
        return None if given is None else read_municipalities(given)

    @cached_property
    def networks(self) -> dict[str, Offices]:
        """Every office network, read and checked."""
        self.step("offices")
        munis = self.municipality_info
        return {n: inputs.read_offices_any(v, munis) for n, v in self.office_inputs.items()}

    @cached_property
    def offices(self) -> Offices:
        """The union of all office networks (with several, column ``office_set`` names
        each office's network), checked to lie within the study area."""
        # The margin: the longest access leg (road, hex) or walk to a stop (transit).
        margin = getattr(self.profile, "max_access_distance_m", None)
        if margin is None:
            margin = self.profile.max_access_m
        if len(self.networks) == 1:  # one network: its offices as they were read
            union = next(iter(self.networks.values()))
            check_offices_in_study_area(self.population, union, margin)
            return union
        frames = []
        for name, offs in self.networks.items():
            f = offs.frame.copy()
            f["office_set"] = name
            frames.append(f)
        union = Offices(pd.concat(frames, ignore_index=True))
        check_offices_in_study_area(self.population, union, margin)
        return union

    def network_indices(self) -> dict[str, np.ndarray]:
        """Indices into :attr:`offices` of each network's offices."""
        out, start = {}, 0
        for name, offs in self.networks.items():
            out[name] = np.arange(start, start + len(offs))
            start += len(offs)
        return out

    @cached_property
    def timetable(self) -> Timetable:
        """The transit study's timetable on the departure's service day (the GTFS
        feed(s) read on first use, or the :class:`~hexaccess.transit.Timetable` given)."""
        if self.transit_window is None:
            raise ScenarioError("this study has no timetable: give mode='transit' and gtfs=...")
        feeds = self.gtfs_inputs
        if len(feeds) == 1 and isinstance(feeds[0], Timetable):
            return feeds[0]
        if any(isinstance(f, Timetable) for f in feeds):
            raise ScenarioError("give one Timetable, or GTFS feed paths, not a mix of both")
        self.step("timetable")
        return read_gtfs(feeds, self.transit_window.departure.date(), profile=self.profile)

    @cached_property
    def transit_access(self) -> TransitAccess:
        """The transit study ready to solve (population, offices, timetable, window)."""
        pop, offices = self.population, self.offices
        tt = self.timetable
        self.step("stops")
        return build_transit_access(
            pop,
            offices,
            tt,
            self.transit_window,
            profile=self.profile,
            columns=self.population_columns,
        )

    @cached_property
    def access(self):
        """The engine graph of the study (built once for every network)."""
        if self.transit_window is not None:
            raise ScenarioError(
                "mode='transit' (--mode transit) studies are solved on a timetable, not an "
                "engine graph: solve(), hexaccess run, hexaccess report and hexaccess "
                "optimise support it (in Python: Study.transit_access, which "
                "hexaccess.optimise.coverage_matrix accepts); calibrate needs the road or "
                "hexagon graph (another --mode)"
            )
        pop, offices = self.population, self.offices
        if self.graph == "hex":  # before the roads are rasterised at that resolution
            check_hex_graph_size(pop, offices, self.hex_options["resolution"])
        roads = self.roads
        self.step("graph")
        return build_access(
            self.graph,
            roads,
            pop,
            offices,
            self.profile,
            backend=self.backend,
            columns=self.population_columns,
            hex_options=self.hex_options,
        )

    @cached_property
    def provenance(self) -> dict[str, Any]:
        """Inputs with SHA-256 and the settings (recorded in every output)."""
        names = list(self.office_inputs)
        if len(names) == 1:
            roles = {"offices": self.office_inputs[names[0]]}
        else:
            roles = {f"offices:{n}": v for n, v in self.office_inputs.items()}
        return self.provenance_for(roles)

    def provenance_for(self, roles: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
        """The study's provenance with other office-like inputs (``roles``: e.g. the
        candidates, fixed and forbidden sites of an optimisation) and extra settings."""
        profile = self.profile_input
        files = {
            **self.inputs,
            **roles,
            "profile": profile if profile is not None and Path(str(profile)).is_file() else None,
        }
        settings: dict[str, Any] = {
            "graph": self.graph,
            "split_roads": self.split_roads,
            "profile": self.profile.name,
            "mode": self.mode,
            "resolution": self.resolution,
            "population_columns": self.population_columns,
        }
        if self.graph == "hex":
            settings["hex_resolution"] = self.hex_options["resolution"]
        if self.transit_window is not None:
            w = self.transit_window
            settings.update(
                departure=w.departure.isoformat(timespec="minutes"),
                window_min=w.window_min,
                percentiles=list(w.percentiles),
                time_percentile=w.percentile,
            )
            files.update(
                {
                    f"gtfs:{k}" if len(self.gtfs_inputs) > 1 else "gtfs": f
                    for k, f in enumerate(self.gtfs_inputs)
                    if isinstance(f, (str, os.PathLike)) and Path(f).is_file()
                }
            )
        return provenance(
            files, exclude_municipalities=list(self.exclude), settings=settings, **extra
        )

    def with_offices(self, offices: Any) -> Study:
        """The same study (inputs already read are shared, not read again) with other
        office networks, e.g. the candidate sites of an optimisation."""
        other = copy.copy(self)
        for name in ("networks", "offices", "access", "transit_access", "provenance"):
            other.__dict__.pop(name, None)
        other.office_inputs = _office_networks(offices)
        return other

    # ------------------------------------------------------------------- solving
    def solve(self, network: str | None = None) -> StudyResult:
        """Nearest office for every populated cell for one office network (default: the
        first), with the bands, summary and every figure."""
        name = network if network is not None else next(iter(self.office_inputs))
        if name not in self.office_inputs:
            raise ScenarioError(
                f"no office network {name!r} in this study; it has {list(self.office_inputs)}"
            )
        idx = self.network_indices()[name]
        info = {**self.provenance, "network": name}
        if self.transit_window is not None:
            taccess = self.transit_access
            self.step(f"solve {name}")
            result = solve_transit(taccess, offices=idx, provenance_info=info)
            return TransitStudyResult.of(result, name, self.municipality_info)
        self.step(f"solve {name}")
        access = self.access
        result = solve(access, self.population_columns, offices=idx, provenance_info=info)
        return StudyResult.of(result, name, self.municipality_info)

    def solve_all(self) -> dict[str, StudyResult]:
        """Every office network, solved on the one engine graph."""
        return {name: self.solve(name) for name in self.office_inputs}

    def report(
        self,
        out: str | os.PathLike[str],
        options: ReportOptions | None = None,
        *,
        overwrite: bool = False,
        warn: Step = print,
    ) -> StudyOutputs:
        """Every figure of every network as tables (and ``report.html``) in ``out``,
        written atomically with a manifest (see :func:`write_report_files`). ``out`` is
        checked and locked before anything is computed."""
        if options is not None and not isinstance(options, ReportOptions):
            raise ScenarioError(
                f"options must be a hexaccess.ReportOptions, got {type(options).__name__}"
            )
        check_output_keeps_inputs(out, study_input_files(self))
        with prepare_output(out, overwrite=overwrite, kind="report") as target:
            outputs = write_report_files(self, target, options or ReportOptions(), warn=warn)
            staged = [p.relative_to(target.staging) for p in outputs.files]
            target.commit(self.provenance)
        outputs.files = [Path(out) / p for p in staged]
        return outputs


def _gtfs_inputs(gtfs: Any) -> list[Any]:
    """``gtfs`` as a list of feeds (paths or one Timetable); ``[]`` when not given."""
    if gtfs is None:
        return []
    if isinstance(gtfs, (str, os.PathLike, Timetable)):
        return [gtfs]
    if isinstance(gtfs, Sequence):
        feeds = list(gtfs)
        bad = [f for f in feeds if not isinstance(f, (str, os.PathLike, Timetable))]
        if bad:
            raise ScenarioError(
                f"gtfs must be GTFS zip/folder paths or a hexaccess.transit.Timetable, got {bad!r}"
            )
        return feeds
    raise ScenarioError(
        f"gtfs must be a GTFS zip/folder path, a list of them or a Timetable, got "
        f"{type(gtfs).__name__}"
    )


def _study_profile(profile: Any, mode: str, roads: Any) -> SpeedProfile:
    """The profile given, else the one a RoadNetwork was built with, else the mode's."""
    if isinstance(profile, SpeedProfile):
        return profile
    if profile is None and isinstance(roads, RoadNetwork):
        return roads.profile
    return inputs.profile_for(profile, mode)


def _column_names(columns: Sequence[str] | None) -> list[str] | None:
    if columns is None:
        return None
    if isinstance(columns, str):
        columns = [c.strip() for c in columns.split(",") if c.strip()]
    bad = [c for c in columns if not (isinstance(c, str) and c)]
    if bad or not columns:
        raise ScenarioError(
            f"population_columns must be a list of column names, e.g. ['total'], got {columns!r}"
        )
    return list(columns)


# ============================================================== report workflow
@dataclass(frozen=True)
class ReportOptions:
    """What ``hexaccess report`` and scenario files compute beside the bands: every
    figure of the 2020 study (defaults from :mod:`hexaccess.defaults`)."""

    column: str | None = None
    band_minutes: float = defaults.BAND_MINUTES
    coverage_minutes: Sequence[float] = defaults.COVERAGE_MINUTES
    coverage_km: Sequence[float] = defaults.COVERAGE_KM
    gain_loss_minutes: float = defaults.GAIN_LOSS_MINUTES
    language: bool = True
    visits_per_person: Mapping[str, float] | None = None
    html: bool = True
    title: str = defaults.TITLE
    reference: pd.DataFrame | None = None
    #: The GIS layers (``layers.gpkg``, ``geoparquet/``) beside each network's tables.
    layers: bool = True

    def __post_init__(self) -> None:
        """Every setting checked (types, ranges and the limits of
        :mod:`hexaccess.defaults`) before anything is read or solved."""
        checked = check_report_settings(
            {f.name: getattr(self, f.name) for f in dataclasses.fields(self)},
            lambda key: key,
        )
        for key, value in checked.items():
            object.__setattr__(self, key, value)


def check_report_settings(
    settings: Mapping[str, Any], where: Callable[[str], str]
) -> dict[str, Any]:
    """The figure settings of a report (the fields of :class:`ReportOptions`), checked
    and normalised; ``where(key)`` names a setting as the user wrote it (a keyword, a
    scenario file's key or an option) in the messages. Keys not given are left out."""
    out = dict(settings)
    err = ScenarioError
    if "column" in out and out["column"] is not None:
        if not (isinstance(out["column"], str) and out["column"]):
            raise err(f"{where('column')} must be a population column name, got {out['column']!r}")
    for key in ("language", "html", "report", "layers"):
        if key in out and not isinstance(out[key], bool):
            raise err(f"{where(key)} must be true or false, got {out[key]!r}")
    if "title" in out and not isinstance(out["title"], str):
        raise err(f"{where('title')} must be a string, got {out['title']!r}")
    if "band_minutes" in out:
        out["band_minutes"] = analysis.check_band_minutes(
            out["band_minutes"], where("band_minutes"), err
        )
    for key, unit in (("coverage_minutes", "minutes"), ("coverage_km", "km")):
        if key in out:
            out[key] = tuple(analysis.check_thresholds(out[key], where(key), unit, err))
    if "gain_loss_minutes" in out:
        out["gain_loss_minutes"] = analysis.check_gain_loss_minutes(
            out["gain_loss_minutes"], where("gain_loss_minutes"), err
        )
    if "visits_per_person" in out:
        visits = analysis.check_visits(out["visits_per_person"], where("visits_per_person"), err)
        out["visits_per_person"] = visits or None
    return out


@dataclass
class StudyOutputs:
    """What :meth:`Study.report` computed and wrote."""

    results: dict[str, StudyResult]
    comparison: analysis.Comparison | None
    language: dict[str, analysis.LanguageAccess]
    files: list[Path]
    seconds: float
    #: Per network, ``summary.json`` as written (computed once: it runs the network
    #: diagnostics).
    summaries: dict[str, dict[str, Any]]


@dataclass
class _NetworkTables:
    tables: dict[str, pd.DataFrame]
    language: analysis.LanguageAccess | None
    summary: dict[str, Any]


def report_column(
    study: Study, column: str | None, where: tuple[str, str] = ("population_columns", "column")
) -> str:
    """The population column of the figures (default: the first solved column), checked
    against the population before anything is solved. ``where`` names the two settings
    as the user wrote them (e.g. ``FILE: analysis.column``) for the messages."""
    have = list(study.population.columns)
    solved = list(study.population_columns or have)
    missing = [c for c in solved if c not in have]
    if missing:
        raise ScenarioError(
            f"{where[0]}: unknown population column(s) {missing}; the population has {have}"
        )
    if column is None:
        return solved[0]
    if column not in solved:
        raise ScenarioError(
            f"{where[1]}: unknown population column {column!r}; the study solves {solved}"
        )
    return column


def unused_municipalities(study: Study, *, figures: bool) -> str | None:
    """Why the study's ``municipalities`` table changes no number, or ``None`` when it is
    used: it places offices that have no coordinates and, with ``figures`` (a report),
    gives the municipality names and language access, which need each cell's
    municipality (a ``municipality_table``)."""
    if study.inputs["municipalities"] is None:
        return None
    if "geometry" in study.municipality_info.columns:
        return None  # municipality polygons: the municipalities layer uses them
    placed = [
        (offs.frame["coord_source"] == "municipality_centre").any()
        for offs in study.networks.values()
        if "coord_source" in offs.frame
    ]
    if any(placed):
        return None
    if figures and study.population.municipality is not None:
        return None
    why = "every office has coordinates"
    if figures:
        why += (
            ", and municipality names and language access need each cell's municipality: "
            "give a municipality table (--municipality-table / municipality_table)"
        )
    return f"the municipalities table changes no number here: {why}"


def check_visits_agencies(study: Study, visits: Mapping[str, float] | None) -> None:
    """When the offices name their agencies, each ``visits_per_person`` agency must be
    one of them (a typo would give every office visits of an agency it does not serve);
    offices without an ``agency`` column are joint service offices, serving every one."""
    if not visits:
        return
    agencies: set[str] = set()
    for offs in study.networks.values():
        if "agency" in offs.frame:
            agencies |= {str(a) for a in offs.frame["agency"].dropna()}
    unknown = sorted(set(visits) - agencies)
    if agencies and unknown:
        raise ScenarioError(
            f"visits_per_person: agency(ies) {unknown} are served by no office (the offices' "
            f"agencies are {sorted(agencies)}); give the agency as the offices name it"
        )


def _check_report_inputs(study: Study, options: ReportOptions, warn: Step) -> None:
    """Cross-checks of the figure settings against the inputs, before solving: visit
    agencies, and warnings for settings that change no number."""
    check_visits_agencies(study, options.visits_per_person)
    if options.html:  # before the solve, not after it: the figures need matplotlib
        require("matplotlib", "report", "report.html (report = false in [outputs]: tables only)")
    if not options.html and options.reference is not None:
        warn("warning: the reference band table is drawn in report.html only, and html=False")
    note = unused_municipalities(study, figures=True)
    if note:
        warn(f"warning: {note}")
    if len(study.office_inputs) == 1 and options.gain_loss_minutes != defaults.GAIN_LOSS_MINUTES:
        warn(
            "warning: the gain/loss threshold applies to comparisons of two or more office "
            "networks; with one network it changes no number"
        )


def _network_tables(
    result: StudyResult, study: Study, column: str, options: ReportOptions, warn: Step
) -> _NetworkTables:
    """``summary.json`` and every table of one network, computed once."""
    summary = result.summary(column)
    summary["provenance"] = analysis.result_provenance(result)
    munis = study.municipality_info
    lang = None
    if options.language and munis is not None and "municipality" in result.cells:
        try:
            lang = analysis.language_access(result, munis)
        except analysis.AnalysisInputError as exc:
            warn(f"warning: {result.name}: language access not computed: {exc}")
    tables = analysis.network_tables(
        result,
        column,
        band_minutes=options.band_minutes,
        coverage_minutes=options.coverage_minutes,
        coverage_km=options.coverage_km,
        visits_per_person=options.visits_per_person or None,
        municipalities=munis,
        language=lang,
    )
    return _NetworkTables(tables, lang, summary)


def _write_network(
    target: OutputDirectory,
    under: str,
    result: StudyResult,
    net: _NetworkTables,
    layers: bool,
    column: str,
) -> None:
    """One network's files in ``target``'s staging directory (under ``under``, ``""``
    for the top), the GIS layers included unless ``layers`` is false."""
    directory = target.file(under) if under else target.staging
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "summary.json").write_text(_json_text(net.summary))
    result.cells.to_parquet(directory / "cells.parquet", index=False)
    analysis.write_tables(directory, net.tables)
    if layers:
        write_layers(target, LayerBuilder(result, column, result.municipality_info), under)


def _write_html(
    target: OutputDirectory,
    results: dict[str, StudyResult],
    study: Study,
    column: str,
    options: ReportOptions,
    networks: dict[str, _NetworkTables],
    comparison: analysis.Comparison | None,
) -> None:
    from hexaccess import report

    report.write_report(
        target.file("report.html"),
        results,
        title=options.title,
        column=column,
        band_minutes=options.band_minutes,
        coverage_minutes=options.coverage_minutes,
        coverage_km=options.coverage_km,
        municipalities=study.municipality_info,
        visits_per_person=options.visits_per_person or None,
        comparison=comparison,
        language={n: w.language for n, w in networks.items() if w.language is not None},
        reference=options.reference,
        tables={n: w.tables for n, w in networks.items()},
        # Where write_report_files put each network's tables, relative to report.html.
        links={n: "" if len(results) == 1 else f"{n}/" for n in results},
    )


def write_report_files(
    study: Study,
    target: OutputDirectory,
    options: ReportOptions,
    *,
    warn: Step = print,
    where: tuple[str, str] = ("population_columns", "column"),
) -> StudyOutputs:
    """Solve every network of ``study`` and write every table (and ``report.html``) into
    ``target``'s staging directory: ``DIR`` for one network, ``DIR/<name>/`` for several,
    with ``comparison_*.csv`` beside them. The caller commits ``target``."""
    import time

    t0 = time.perf_counter()
    column = report_column(study, options.column, where)
    _check_report_inputs(study, options, warn)
    results = _solve_all(study, warn)
    study.step("figures")
    single = len(results) == 1
    networks = {}
    for name, result in results.items():
        networks[name] = _network_tables(result, study, column, options, warn)
        under = "" if single else name
        _write_network(target, under, result, networks[name], options.layers, column)
    comparison = None
    if not single:
        comparison = analysis.compare(
            results, options.band_minutes, column, options.gain_loss_minutes
        )
        analysis.write_tables(
            target.staging,
            {
                "comparison_bands.csv": comparison.bands,
                "comparison_changes.csv": comparison.changes,
            },
        )
    if options.html:
        study.step("report")
        _write_html(target, results, study, column, options, networks, comparison)
    language = {n: w.language for n, w in networks.items() if w.language is not None}
    summaries = {n: w.summary for n, w in networks.items()}
    files = sorted(p for p in target.staging.rglob("*") if p.is_file())
    return StudyOutputs(results, comparison, language, files, time.perf_counter() - t0, summaries)


def _solve_all(study: Study, warn: Step) -> dict[str, StudyResult]:
    """Every network, with the solver's warnings passed to ``warn`` once each."""
    import warnings

    results, messages = {}, []
    for name in study.office_inputs:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results[name] = study.solve(name)
        messages += [f"{name}: {w.message}" for w in caught]
    for m in dict.fromkeys(messages):
        warn(f"warning: {m}")
    return results
