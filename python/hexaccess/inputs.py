"""Open any supported input, by file type or by the type of an in-memory object: the
one entry of every input into a study (:class:`hexaccess.Study`, scenario files and the
command line all come through here).

Population: Eurostat census CSV (``GRD_ID`` column), a plain H3 table (CSV/Parquet with
an ``h3`` column), a square grid (GeoPackage/GeoJSON, or Parquet with GeoParquet ``geo``
metadata), a population raster (GeoTIFF); in memory, a GeoDataFrame of squares or
points, a DataFrame with an ``h3`` column, or a
:class:`~hexaccess.population.PopulationGrid`. Roads: OpenStreetMap ``.osm.pbf`` or any
vector line file; a GeoDataFrame of lines or a :class:`~hexaccess.network.RoadNetwork`.
Offices: CSV, GeoJSON or GeoPackage; a (Geo)DataFrame or :class:`~hexaccess.offices.Offices`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from hexaccess import defaults, network, offices, population
from hexaccess._files import FORMAT_NAMES, check_input_file, read_csv, sniff_format
from hexaccess.errors import InputError, InputFileError, PopulationInputError
from hexaccess.profiles import SpeedProfile, load_profile

#: Packaged profile used for each ``--mode`` when no ``--profile`` is given.
MODE_PROFILES = defaults.MODE_PROFILES


def _is_frame(value: object) -> bool:
    return isinstance(value, pd.DataFrame)


def _is_geoframe(value: object) -> bool:
    return _is_frame(value) and hasattr(value, "geometry") and hasattr(value, "crs")


def _population_object(
    value: object,
    *,
    resolution: int,
    municipality_table: object,
    columns: Sequence[str] | None,
) -> population.PopulationGrid:
    """A population given in memory (see the module docstring)."""
    if isinstance(value, population.PopulationGrid):
        if value.resolution != resolution:
            raise InputError(
                f"the PopulationGrid is at H3 resolution {value.resolution}, the study at "
                f"{resolution}; give resolution={value.resolution} or rebuild the grid"
            )
        if municipality_table is not None:
            raise InputError(
                "a municipality table cannot be applied to a PopulationGrid already built; "
                "load the grid with municipality_table=... or leave the table out"
            )
        return value
    if _is_frame(value):
        id_column = None
        if municipality_table is not None and _is_geoframe(value) and "GRD_ID" in value:
            id_column = "GRD_ID"
        return population.population_from_frame(
            value,
            columns,
            resolution=resolution,
            municipality_table=_checked_table_path(municipality_table),
            id_column=id_column,
        )
    raise InputError(
        f"population must be a file path, a GeoDataFrame, a DataFrame with an h3 column or "
        f"a PopulationGrid; got {type(value).__name__}"
    )


def municipality_codes(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """Parse ``--exclude-municipalities``: comma-separated 3-digit codes; the word
    ``aland`` stands for the 16 Åland municipalities (mainland Finland = ``aland``).
    Codes shorter than 3 digits get their leading zeros (``91`` -> ``091``); whether
    each code exists is checked against the municipality table when the population is
    read."""
    if text is None:
        return ()
    if not isinstance(text, str) and not isinstance(text, Sequence):
        raise InputError(
            f"municipality codes must be text like '091,049' or a list of strings; got "
            f"{type(text).__name__}"
        )
    items = text.split(",") if isinstance(text, str) else list(text)
    out: list[str] = []
    for raw in items:
        if not isinstance(raw, str):
            raise InputError(
                f"municipality code {raw!r} is not a string; codes are strings that keep "
                "their leading zeros (e.g. '091')"
            )
        item = raw.strip()
        if not item:
            continue
        if item.lower() in {"aland", "åland", "ahvenanmaa"}:
            out.extend(population.ALAND_MUNICIPALITIES)
        elif item.isdigit():
            out.append(item.zfill(population.CODE_WIDTH))
        else:
            raise InputError(
                f"municipality code {item!r} is not a number; give codes like 091,049 or the "
                "word 'aland'"
            )
    if not out:
        raise InputError(
            f"exclude_municipalities {text!r} names no municipality; give codes like 091,049 "
            "or the word 'aland', or leave the option out"
        )
    return tuple(dict.fromkeys(out))


#: The content a population file's extension promises (sniffed from its first bytes).
_POPULATION_CONTENT = {
    ".csv": ("csv", "text"),
    ".csv.gz": ("gzip",),
    ".parquet": ("parquet",),
    ".tif": ("tiff",),
    ".tiff": ("tiff",),
    ".gpkg": ("gpkg",),
    ".geojson": ("json",),
    ".json": ("json",),
    ".shp": ("shp",),
}


def _population_suffix(p: Path) -> str:
    """The population file's extension, checked against its content: a file named
    ``.csv`` that is a GeoPackage (or cut short, or empty, ...) is refused here."""
    check_input_file(p, "population file")
    suffix = "".join(p.suffixes[-2:]).lower() if p.suffix.lower() == ".gz" else p.suffix.lower()
    fmt = sniff_format(p)
    want = _POPULATION_CONTENT.get(suffix)
    if want is None:
        raise InputError(
            f"{p}: unsupported population file type {suffix!r} ({FORMAT_NAMES.get(fmt, fmt)} "
            "by its content); use a Eurostat/H3 CSV or Parquet, a GeoPackage/GeoJSON/"
            "GeoParquet square grid, or a GeoTIFF raster, named by its format"
        )
    if fmt not in want:
        raise InputFileError(
            f"population file {p} is named {suffix} but is {FORMAT_NAMES.get(fmt, fmt)} by "
            f"its content, not {FORMAT_NAMES[want[0]]}; give the right file or rename it to "
            "match its content"
        )
    if fmt in ("parquet", "gpkg", "tiff", "zip"):
        check_input_file(p, "population file", kinds=(fmt,))  # truncated: named
    return suffix


def _table_head(p: Path, suffix: str) -> tuple[pd.Index, bool]:
    """``(column names, is GeoParquet)`` of a CSV or Parquet population table, read
    from its header or schema only."""
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:  # the schema alone: column names and the GeoParquet 'geo' key
            schema = pq.read_schema(p)
        except (OSError, pa.ArrowException) as e:
            raise PopulationInputError(
                f"{p}: cannot read as Parquet ({e}); the file is corrupt or not Parquet"
            ) from None
        return pd.Index(schema.names), b"geo" in (schema.metadata or {})
    with p.open("rb") as fh:
        utf16 = fh.read(2) in (b"\xff\xfe", b"\xfe\xff")
    try:  # the header line only; the reader detects the encoding of the whole file
        try:
            head = read_csv(p, error=PopulationInputError, role="population file", nrows=0,
                            encoding="utf-16" if utf16 else "utf-8-sig").columns  # fmt: skip
        except UnicodeDecodeError:
            head = read_csv(p, error=PopulationInputError, role="population file", nrows=0,
                            encoding="latin-1").columns  # fmt: skip
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as e:
        raise PopulationInputError(
            f"{p}: the population file has no readable header line ({' '.join(str(e).split())})"
        ) from None
    return head, False


def _checked_table_path(table: object) -> object:
    """A municipality table given as a path must be a readable, non-empty CSV file (or a
    gzip-compressed one, which its reader reads)."""
    if isinstance(table, (str, os.PathLike)):
        return check_input_file(table, "municipality table", kinds=("csv", "text", "gzip"))
    return table


def _raster_column(p: Path, columns: Sequence[str] | None, table: object) -> str:
    """The one column a population raster gives (``total`` unless one name is given);
    options that need squares are refused, not ignored."""
    if table is not None:
        raise InputError(
            f"{p}: a municipality table applies to square grids keyed by GRD_ID, not to a "
            "raster; leave --municipality-table out"
        )
    if columns and len(columns) > 1:
        raise InputError(
            f"{p}: a population raster has one band of people; --population-columns "
            f"{','.join(columns)} names {len(columns)}: give one name (or none: 'total')"
        )
    return columns[0] if columns else "total"


def _eurostat_request(
    head: pd.Index, columns: Sequence[str] | None
) -> tuple[list[str] | dict[str, str] | None, str]:
    """``(columns, names)`` for :func:`~hexaccess.population.read_eurostat_grid` from
    ``--population-columns``. Names of Eurostat columns in the file load every Eurostat
    column, friendly (``age_65_plus``) or raw (``Y_GE65``) as given, so the total stays
    in the grid for the urban slowdown's density and the figures are those of the
    same study without the option; other names are read as they are (unknown ones are
    refused by the reader, listing the valid names)."""
    if columns is None:
        return None, "friendly"
    raw = [c for c in head if c in population.EUROSTAT_COLUMNS]
    friendly = [population.EUROSTAT_COLUMNS[c] for c in raw]
    if set(columns) <= set(friendly):
        return friendly, "friendly"
    if set(columns) <= set(raw):  # T first: the density's column when 'total' is absent
        return sorted(raw, key=lambda c: c != "T"), "raw"
    return {c: c for c in columns}, "friendly"


def _read_population_file(
    p: Path,
    *,
    resolution: int,
    municipality_table: object,
    columns: Sequence[str] | None,
    exclude: Sequence[str],
) -> population.PopulationGrid:
    """The grid of one population file, by its (checked) type; Eurostat grids apply
    the exclusion while loading, the other grids are filtered by the caller."""
    suffix = _population_suffix(p)
    table = _checked_table_path(municipality_table)
    if suffix in {".tif", ".tiff"}:
        column = _raster_column(p, columns, table)
        return population.read_population_raster(p, resolution=resolution, column=column)
    geoparquet = False
    if suffix in {".csv", ".csv.gz", ".parquet"}:
        head, geoparquet = _table_head(p, suffix)
    if suffix in {".csv", ".csv.gz", ".parquet"} and not geoparquet:
        if "GRD_ID" in head:
            wanted, names = _eurostat_request(head, columns)
            return population.read_eurostat_grid(
                p,
                resolution=resolution,
                columns=wanted,
                names=names,
                municipality_table=table,  # type: ignore[arg-type]
                exclude_municipalities=list(exclude) or None,
            )
        if "h3" not in head:
            raise InputError(
                f"{p}: a population table needs a GRD_ID column (Eurostat grid) or an h3 "
                f"column (H3 cells); found {list(head)}"
            )
        if table is not None:
            raise InputError(
                f"{p}: a municipality table applies to square grids keyed by GRD_ID; an H3 "
                "table gives each cell's municipality in a 'municipality' column: leave "
                "--municipality-table out"
            )
        return population.read_h3_table(
            p,
            value_columns=columns,
            resolution=resolution,
            municipality_column="municipality" if "municipality" in head else None,
        )
    if not columns:
        raise InputError(
            f"{p}: say which attribute columns hold people (e.g. --population-columns "
            "total,age_65_plus)"
        )
    return population.read_square_grid(
        p,
        list(columns),
        resolution=resolution,
        municipality_table=table,  # type: ignore[arg-type]
        id_column="GRD_ID" if table is not None else None,
    )


def _filter_population(
    grid: population.PopulationGrid, exclude: Sequence[str]
) -> population.PopulationGrid:
    """``grid`` without the ``exclude`` municipalities (every code checked against the
    grid's municipalities), and the filter's figures in its ``load_report``."""
    if "municipality_filter" in grid.load_report:  # a Eurostat grid: done while loading
        return grid
    muni = grid.municipality
    if muni is None:
        source = grid.load_report.get("source", "the population")
        raise InputError(
            f"{source}: exclude_municipalities (--exclude-municipalities) needs each cell's "
            "municipality, and this population has none: give a Eurostat grid or squares "
            "with --municipality-table, or an H3 table with a 'municipality' column"
        )
    parts = grid.parts
    codes = parts["municipality"].to_numpy(dtype=object) if parts is not None else muni
    known = {c for c in codes if c is not None}
    source = grid.load_report.get("source", "")
    population.check_municipality_codes(
        exclude, known, f"the population's municipalities {source}".strip()
    )
    out = grid.filter_municipalities(exclude=list(exclude))
    rep = out.filter_report
    assert rep is not None
    col = "total" if "total" in grid.columns else grid.columns[0]
    out.load_report["municipality_filter"] = {
        "excluded_codes": list(exclude),
        "cells_removed": rep.cells_removed,
        "cells_split": rep.cells_split,
        "removed": dict(rep.removed),
        "kept": dict(rep.kept),
        "column": col,
        "unit": "cells",
    }
    return out


def _report_filter(grid: population.PopulationGrid) -> None:
    """Say how many people and cells the municipality filter removed (a warning: the
    command line prints it; the figures are in ``grid.load_report``)."""
    f = grid.load_report.get("municipality_filter")
    if not f:
        return
    col = f["column"]
    absent = f.get("codes_not_in_table") or []
    codes = f["excluded_codes"]
    shown = ", ".join(codes[:6]) + (", ..." if len(codes) > 6 else "")
    n = len(codes)
    warnings.warn(
        f"exclude_municipalities: {n} municipalit{'y' if n == 1 else 'ies'} ({shown}) left "
        f"out: {f['removed'][col]:,} people ({col}) in {f[f['unit'] + '_removed']:,} "
        f"{f['unit']} removed, {f['kept'][col]:,} remain"
        + (f"; not in the table (no one removed): {', '.join(absent)}" if absent else ""),
        UserWarning,
        stacklevel=3,
    )


def read_population_any(
    path: str | os.PathLike[str] | population.PopulationGrid | pd.DataFrame,
    *,
    resolution: int = defaults.RESOLUTION,
    municipality_table: str | os.PathLike[str] | None = None,
    columns: Sequence[str] | None = None,
    exclude_municipalities: Sequence[str] = (),
) -> population.PopulationGrid:
    """Population grid from any supported file or in-memory object (see the module
    docstring); ``exclude_municipalities`` are left out.

    The file is checked before it is read (exists, is a file, not empty, its content
    the format its extension names, not cut short). Every excluded code must be a
    municipality of the municipality table (or of the grid); how many people and cells
    the exclusion removed is warned about and kept in ``load_report
    ['municipality_filter']``. ``columns`` are honoured for every format (Eurostat
    names like ``age_65_plus`` or ``Y_GE65`` included); options that do not apply to
    the file (a municipality table for an H3 table or a raster) are refused."""
    if isinstance(exclude_municipalities, str):  # "091,049" or "aland", as on the CLI
        exclude = municipality_codes(exclude_municipalities)
    else:
        exclude = tuple(exclude_municipalities or ())
    if not isinstance(path, (str, os.PathLike)):
        grid = _population_object(
            path, resolution=resolution, municipality_table=municipality_table, columns=columns
        )
    else:
        grid = _read_population_file(
            Path(path),
            resolution=resolution,
            municipality_table=municipality_table,
            columns=columns,
            exclude=exclude,
        )
    if exclude:
        grid = _filter_population(grid, exclude)
        _report_filter(grid)
    return grid


def read_roads_any(
    path: str | os.PathLike[str] | network.RoadNetwork | pd.DataFrame,
    profile: SpeedProfile,
    *,
    split_at_vertices: bool = defaults.SPLIT_ROADS,
) -> network.RoadNetwork:
    """Road network from an OSM PBF or a vector line file.

    ``split_at_vertices`` (default on for studies) makes every shape point a node, so
    that people join the road that actually passes them rather than a junction kilometres
    away: on the Finnish 1:1 M map this moves the 0–10 minute band from 16 % to 24 % of
    the population (the study: 26 %). Times between junctions are unchanged. A
    :class:`~hexaccess.network.RoadNetwork` is taken as it is; a GeoDataFrame of lines is
    read like a vector file.
    """
    if isinstance(path, network.RoadNetwork):
        return path
    if _is_geoframe(path):
        return network.read_roads(path, profile, split_at_vertices=split_at_vertices)
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(
            f"roads must be a file path, a GeoDataFrame of lines or a RoadNetwork; got "
            f"{type(path).__name__}"
        )
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"road file not found: {p}")
    if p.name.lower().endswith(".pbf"):
        return network.read_osm_pbf(p, profile, split_at_vertices=split_at_vertices)
    return network.read_roads(p, profile, split_at_vertices=split_at_vertices)


def read_offices_any(
    path: str | os.PathLike[str] | offices.Offices | pd.DataFrame,
    municipalities: str | os.PathLike[str] | pd.DataFrame | None = None,
) -> offices.Offices:
    """Offices from CSV, GeoJSON or GeoPackage, a (Geo)DataFrame or an
    :class:`~hexaccess.offices.Offices`; ``municipalities`` (a file, or the table already
    read) places offices given by municipality code (a geometry or lon/lat, when given,
    is always used)."""
    if isinstance(path, offices.Offices):
        return path
    if _is_frame(path):
        return offices.read_offices(path, municipalities=municipalities)
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(
            f"offices must be a file path, a (Geo)DataFrame or an Offices; got "
            f"{type(path).__name__}"
        )
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"office file not found: {p}")
    return offices.read_offices(p, municipalities=municipalities)


def profile_for(profile: str | os.PathLike[str] | None, mode: str) -> SpeedProfile:
    """``--profile`` when given (a TOML path or a packaged name), else the mode's default."""
    if mode not in MODE_PROFILES:
        raise InputError(f"mode must be one of {sorted(MODE_PROFILES)}, got {mode!r}")
    prof = load_profile(profile if profile is not None else MODE_PROFILES[mode])
    if profile is not None and prof.mode != mode and mode != "car":
        raise InputError(f"profile {prof.name!r} is for mode {prof.mode!r}, not {mode!r}")
    return prof


def read_polygons_any(value: object) -> object:
    """Polygons (e.g. water) in lon/lat for the hexagon graph: a vector file, a
    GeoDataFrame (reprojected to EPSG:4326) or shapely geometries taken as lon/lat."""
    import numpy as np
    import shapely

    if isinstance(value, (str, os.PathLike)):
        p = Path(value)
        if not p.is_file():
            raise InputFileError(f"water polygon file not found: {p}")
        import pyogrio

        frame = pyogrio.read_dataframe(p)
        value = frame
    if _is_geoframe(value):
        if value.crs is None:
            raise InputError("the water polygons have no CRS; set one (e.g. gdf.set_crs(...))")
        return np.asarray(value.to_crs("EPSG:4326").geometry.to_numpy())
    geoms = np.atleast_1d(np.asarray(value, dtype=object))
    if not all(isinstance(g, shapely.Geometry) for g in geoms):
        raise InputError("water must be a vector file, a GeoDataFrame or shapely polygons")
    return geoms
