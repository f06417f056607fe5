"""What the sub-commands share: the input options of ``hexaccess run`` (same names, same
meaning everywhere — users' scripts rely on them) and a progress bar."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hexaccess.network import RoadNetwork
    from hexaccess.population import PopulationGrid
    from hexaccess.profiles import SpeedProfile


def add_input_arguments(
    p: argparse.ArgumentParser, *, offices: bool = True, required: bool = True
) -> None:
    """Add ``--population --roads [--offices] --out --profile --resolution
    --exclude-municipalities --mode --municipality-table --municipalities
    --population-columns --junction-nodes-only --quiet --backend``."""
    p.add_argument(
        "--population",
        required=required,
        help="population grid (Eurostat CSV, H3 table, GeoPackage, GeoTIFF)",
    )
    p.add_argument(
        "--roads", required=required, help="road network (Shapefile, GeoPackage, .osm.pbf)"
    )
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
        "--resolution", type=int, default=8, help="H3 resolution of the cells (default 8)"
    )
    p.add_argument(
        "--exclude-municipalities",
        default=None,
        help="comma-separated municipality codes to leave out; 'aland' = the Åland Islands",
    )
    p.add_argument("--mode", choices=["car", "walk", "bike"], default="car")
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
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--backend", choices=["auto", "rust", "numba"], default="auto")


class Progress:
    """Progress of long steps on stderr (tqdm); silent with ``--quiet``."""

    def __init__(self, total: int, quiet: bool, unit: str = "step") -> None:
        self.bar: Any = None
        if not quiet:
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


@dataclass(frozen=True)
class StudyInputs:
    """What every sub-command reads from the shared options."""

    profile: SpeedProfile
    exclude_municipalities: tuple[str, ...]
    population: PopulationGrid
    roads: RoadNetwork


def split_columns(text: str | None) -> list[str] | None:
    """``--population-columns``: comma-separated names (``None`` when not given)."""
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def _no_step(label: str) -> None:
    return None


def read_study(
    *,
    population: str | os.PathLike[str],
    roads: str | os.PathLike[str],
    profile: str | os.PathLike[str] | None = None,
    mode: str = "car",
    resolution: int = 8,
    municipality_table: str | os.PathLike[str] | None = None,
    population_columns: Sequence[str] | None = None,
    exclude_municipalities: str | Sequence[str] | None = None,
    split_roads: bool = True,
    step: Callable[[str], Any] = _no_step,
) -> StudyInputs:
    """Profile, population and roads of a study (``step(label)`` is called before each
    long read, for progress bars). The keyword form of :func:`read_study_inputs`."""
    from hexaccess import inputs

    prof = inputs.profile_for(profile, mode)
    exclude = inputs.municipality_codes(exclude_municipalities)
    step("population")
    pop = inputs.read_population_any(
        population,
        resolution=resolution,
        municipality_table=municipality_table,
        columns=list(population_columns) if population_columns is not None else None,
        exclude_municipalities=exclude,
    )
    step("roads")
    net = inputs.read_roads_any(roads, prof, split_at_vertices=split_roads)
    return StudyInputs(prof, exclude, pop, net)


def read_study_inputs(
    args: argparse.Namespace, step: Callable[[str], Any] = _no_step
) -> StudyInputs:
    """Profile, population and roads from the options of :func:`add_input_arguments`
    (``step(label)`` is called before each long read, for progress bars)."""
    return read_study(
        population=args.population,
        roads=args.roads,
        profile=args.profile,
        mode=args.mode,
        resolution=args.resolution,
        municipality_table=args.municipality_table,
        population_columns=split_columns(args.population_columns),
        exclude_municipalities=args.exclude_municipalities,
        split_roads=not args.junction_nodes_only,
        step=step,
    )
