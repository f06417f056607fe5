"""What the sub-commands share: the input options of ``hexaccess run`` (same names, same
meaning everywhere — users' scripts rely on them; defaults from
:mod:`hexaccess.defaults`), the study they describe, and a progress bar."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hexaccess import defaults
from hexaccess.api import Study

if TYPE_CHECKING:
    from hexaccess.network import RoadNetwork
    from hexaccess.population import PopulationGrid
    from hexaccess.profiles import SpeedProfile


def add_input_arguments(
    p: argparse.ArgumentParser, *, offices: bool = True, required: bool = True
) -> None:
    """Add ``--population --roads [--offices] --out --profile --resolution
    --exclude-municipalities --mode --municipality-table --municipalities
    --population-columns --junction-nodes-only --graph --hex-resolution
    --off-road-speed --water --overwrite --quiet --debug --backend`` (``hexaccess run``
    adds :func:`add_transit_arguments`)."""
    p.add_argument(
        "--population",
        required=required,
        help="population grid (Eurostat CSV, H3 table, GeoPackage, GeoTIFF)",
    )
    p.add_argument("--roads", default=None, help="road network (Shapefile, GeoPackage, .osm.pbf)")
    if offices:
        p.add_argument(
            "--offices",
            required=required,
            help="offices (CSV with name,lon,lat or municipality; GeoJSON; GeoPackage)",
        )
    p.add_argument("--out", type=Path, required=required, help="output directory")
    p.add_argument(
        "--profile", default=None, help="speed profile TOML (default: the mode's packaged one)"
    )
    p.add_argument(
        "--resolution",
        type=int,
        default=None,
        help=f"H3 resolution of the cells (default {defaults.RESOLUTION})",
    )
    p.add_argument(
        "--exclude-municipalities",
        default=None,
        help="comma-separated municipality codes to leave out; 'aland' = the Åland Islands",
    )
    p.add_argument(
        "--mode",
        choices=sorted(defaults.MODE_PROFILES),
        default=defaults.MODE,
        help="travel mode (default car); transit = public transport + walking on --gtfs "
        "timetables (--profile is then a transit profile TOML)",
    )
    p.add_argument(
        "--municipality-table", default=None, help="grid cell -> municipality CSV (GRD_ID,...)"
    )
    p.add_argument(
        "--municipalities",
        default=None,
        help="municipalities CSV (codes, names, language status, centre points)",
    )
    p.add_argument(
        "--population-columns", default=None, help="people columns of a square grid or H3 table"
    )
    p.add_argument(
        "--junction-nodes-only",
        action="store_true",
        help="do not split roads at their shape points (people join junctions only)",
    )
    add_graph_arguments(p)
    add_run_arguments(p)


def add_transit_arguments(p: argparse.ArgumentParser) -> None:
    """``--gtfs --departure --window --percentiles``: the options of ``--mode transit``
    (refused with any other mode, by :class:`hexaccess.Study`). ``hexaccess run``,
    ``hexaccess report`` and ``hexaccess optimise`` have them: a command that would
    ignore them must not accept them."""
    p.add_argument(
        "--gtfs",
        action="append",
        default=None,
        metavar="FEED",
        help="--mode transit: GTFS feed (zip or folder); repeat for several feeds",
    )
    p.add_argument(
        "--departure",
        default=None,
        metavar="YYYY-MM-DDTHH:MM",
        help="--mode transit: service day and first departure of the window, e.g. 2026-03-04T08:00",
    )
    p.add_argument(
        "--window",
        type=int,
        default=None,
        metavar="MIN",
        help="--mode transit: departure window in minutes, one departure a minute "
        "(default: the transit profile's, 120)",
    )
    p.add_argument(
        "--percentiles",
        default=None,
        metavar="P,P,...",
        help="--mode transit: percentiles of the window's travel times in cells.parquet "
        "(default 25,50,75); time_s and the bands are the median",
    )


def add_graph_arguments(p: argparse.ArgumentParser) -> None:
    """``--graph road|hex`` and the hexagon graph's options."""
    p.add_argument(
        "--graph",
        choices=["road", "hex"],
        default=defaults.GRAPH,
        help="road: people join the nearest road node; hex: the H3 friction graph "
        f"(default {defaults.GRAPH})",
    )
    p.add_argument(
        "--hex-resolution",
        type=int,
        default=None,
        help=f"--graph hex: H3 resolution of the friction graph (default "
        f"{defaults.HEX_RESOLUTION})",
    )
    p.add_argument(
        "--off-road-speed",
        type=float,
        default=None,
        metavar="KMH",
        help="--graph hex: speed in cells without a road (default: the profile's access "
        "speed / detour factor)",
    )
    p.add_argument("--water", default=None, help="--graph hex: impassable polygons (vector file)")


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """``--overwrite --quiet --debug --backend``: how a command runs."""
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an --out directory that holds files not written by hexaccess",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.add_argument(
        "--debug", action="store_true", help="show the Python traceback of an internal error"
    )
    p.add_argument("--backend", choices=["auto", "rust", "numba"], default=defaults.BACKEND)


def add_layer_arguments(p: argparse.ArgumentParser) -> None:
    """``--no-layers``: leave out the GIS layers (``layers.gpkg``, ``geoparquet/``)."""
    p.add_argument(
        "--no-layers",
        action="store_true",
        help="do not write the GIS layers (layers.gpkg and geoparquet/*.parquet: cells, "
        "offices, catchments, municipalities) beside the tables",
    )


def resolution_of(args: argparse.Namespace) -> int:
    """``--resolution`` or its default."""
    return defaults.RESOLUTION if args.resolution is None else args.resolution


def study_from_args(
    args: argparse.Namespace,
    offices: Any,
    step: Callable[[str], Any] | None = None,
) -> Study:
    """The :class:`hexaccess.Study` the input options describe (nothing read yet)."""
    return Study(
        population=args.population,
        roads=args.roads,
        offices=offices,
        graph=args.graph,
        profile=args.profile,
        mode=args.mode,
        resolution=resolution_of(args),
        municipality_table=args.municipality_table,
        municipalities=args.municipalities,
        exclude_municipalities=args.exclude_municipalities,
        population_columns=split_columns(args.population_columns),
        split_roads=not args.junction_nodes_only,
        backend=args.backend,
        hex_resolution=args.hex_resolution,
        off_road_speed_kmh=args.off_road_speed,
        water=args.water,
        progress=step,
        gtfs=getattr(args, "gtfs", None),
        departure=getattr(args, "departure", None),
        window_min=getattr(args, "window", None),
        percentiles=getattr(args, "percentiles", None),
    )


def input_files_of(args: argparse.Namespace) -> dict[str, Any]:
    """The input files the options name, by option (for
    :func:`hexaccess.api.check_output_keeps_inputs`)."""
    names = (
        "population", "roads", "offices", "profile", "municipality_table", "municipalities",
        "water", "reference",
    )  # fmt: skip
    out = {f"--{n.replace('_', '-')}": getattr(args, n, None) for n in names}
    for k, feed in enumerate(getattr(args, "gtfs", None) or []):
        out[f"--gtfs ({k + 1})"] = feed
    return out


class Progress:
    """Progress of long steps on stderr (tqdm): shown in a terminal, silent in pipes
    and CI logs and with ``--quiet``."""

    def __init__(self, total: int, quiet: bool, unit: str = "step") -> None:
        self.bar: Any = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, file=sys.stderr, leave=False)

    def step(self, label: str) -> None:
        if self.bar is not None:
            self.bar.set_description(label)
            self.bar.update(1)

    def to(self, n: int, label: str) -> None:
        if self.bar is not None:
            self.bar.set_description(label)
            self.bar.update(max(0, n - self.bar.n))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def split_columns(text: str | None) -> list[str] | None:
    """``--population-columns``: comma-separated names (``None`` when not given)."""
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


# ------------------------------------------------- kept for one release (cli_common)
@dataclass(frozen=True)
class StudyInputs:
    """What every sub-command reads from the shared options."""

    profile: SpeedProfile
    exclude_municipalities: tuple[str, ...]
    population: PopulationGrid
    roads: RoadNetwork


def _no_step(label: str) -> None:
    return None


def read_study(
    *,
    population: str | os.PathLike[str],
    roads: str | os.PathLike[str],
    profile: str | os.PathLike[str] | None = None,
    mode: str = defaults.MODE,
    resolution: int = defaults.RESOLUTION,
    municipality_table: str | os.PathLike[str] | None = None,
    population_columns: Sequence[str] | None = None,
    exclude_municipalities: str | Sequence[str] | None = None,
    split_roads: bool = defaults.SPLIT_ROADS,
    step: Callable[[str], Any] = _no_step,
) -> StudyInputs:
    """Profile, population and roads of a study; use :class:`hexaccess.Study` instead."""
    study = Study(
        population,
        roads,
        offices={"none": None},
        profile=profile,
        mode=mode,
        resolution=resolution,
        municipality_table=municipality_table,
        population_columns=population_columns,
        exclude_municipalities=exclude_municipalities,
        split_roads=split_roads,
        progress=step,
    )
    return StudyInputs(study.profile, study.exclude, study.population, study.roads)


def read_study_inputs(
    args: argparse.Namespace, step: Callable[[str], Any] = _no_step
) -> StudyInputs:
    """Profile, population and roads from the options of :func:`add_input_arguments`."""
    study = study_from_args(args, {"none": None}, step)
    return StudyInputs(study.profile, study.exclude, study.population, study.roads)
