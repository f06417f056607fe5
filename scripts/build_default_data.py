"""Build the embedded copy of the 2020 Finland study's open inputs.

``python scripts/build_default_data.py --source ../shared/data/finland`` writes
``python/hexaccess/data/finland2020/`` (the data ``hexaccess run`` uses with no
arguments, read through :func:`hexaccess.datasets.finland_2020`) and
``data/LICENSES.md``. The output is compact (about 3 MB), deterministic (the same
bytes on every run with the same pyarrow version: no time stamps in any file) and
written atomically (a staging directory beside the target, then one rename).

Sources (public downloads; ``--source`` is a directory holding them in the layout of
``../shared/data/finland``, see its README):

``census2021_1km.csv``
    Eurostat GISCO, Census 2021 population grid, 1 km (version 2021, 16 June 2024),
    https://ec.europa.eu/eurostat/web/gisco/geodata/population-distribution/geostat
    (the CSV of the ZIP "Census population grid, Version 2021", rows of Finland:
    ``GRD_ID`` starting with ``CRS3035RES1000m`` inside Finland). Reuse authorised
    with acknowledgement of the source (© European Union, Commission Decision
    2011/833/EU).
``roads_mml_1milj/road.shp``
    National Land Survey of Finland (NLS), General map / Topographic map 1:1,000,000
    in vector format, road layer (state 2010-12-31), CC BY 4.0; product record
    https://www.paikkatietohakemisto.fi/geonetwork/srv/api/records/7e491d51-9227-48b3-8d61-3bdbef49f37f
    and the NLS open-data file service
    https://asiointi.maanmittauslaitos.fi/karttapaikka/tiedostopalvelu
``grid_municipality.csv``
    each 1 km square's municipality, by cell-centre point-in-polygon in the NLS
    1:1,000,000 municipal division (same product and licence as the roads).
``municipalities.csv``
    Statistics Finland municipality data (names, language status, regions,
    populations, centre points) as distributed by the R package rOpenGov/geofi,
    https://github.com/rOpenGov/geofi (package BSD-2-Clause; Statistics Finland data
    CC BY 4.0).
``study_offices_50.csv``, ``study_bands_50.csv``
    facts from the study: Ministry of Finance, "Towards a common customer-service
    network for public administration 2030" (report 5/2020): its 50 joint offices (18
    regional-centre offices) and its published 10-minute band table. Office points are
    municipal-centre coordinates from ``municipalities.csv``.

What is written, and why in these formats (every file is read by the existing
hexaccess readers as it is):

``population.csv.gz``
    ``GRD_ID, T, Y_GE65, municipality`` for every populated square of Finland, Åland
    included (its 16 municipality codes flag it; ``exclude_municipalities="aland"``
    leaves it out, exactly as on the full data). A gzip CSV because the Eurostat grid
    reader reads CSV or gzip CSV (not Parquet); gzip without a time stamp.
``roads.parquet``
    GeoParquet 1.0 (ZSTD), only ``IGDS_LEVEL``, ``LUOKKA`` and the WKB geometry, CRS
    EPSG:3067 as PROJJSON; coordinates exactly as in the shapefile, rows in its order.
``offices.csv``
    the study's 50 offices plus ``fixed`` (= ``regional_centre``: the 18 fixed offices).
``municipalities.csv``, ``study_bands_50.csv``
    as in the source (byte for byte).
``LICENSES.md``, ``SOURCES.json``
    each source, its licence and the attribution; every file with its size and SHA-256.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

from hexaccess.datasets import ATTRIBUTION

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "finland"
DEFAULT_TARGET = REPO / "python" / "hexaccess" / "data" / "finland2020"
TOP_LICENSES = REPO / "data" / "LICENSES.md"

#: Source files needed, relative to ``--source``.
SOURCE_FILES = (
    "census2021_1km.csv",
    "grid_municipality.csv",
    "municipalities.csv",
    "roads_mml_1milj/road.shp",
    "study_offices_50.csv",
    "study_bands_50.csv",
)
#: Road columns kept: the car_fi profile's class tables (IGDS_LEVEL also marks ferries).
ROAD_COLUMNS = ("IGDS_LEVEL", "LUOKKA")
#: Population columns kept: everyone and the 65+ group the study reports separately.
POPULATION_COLUMNS = ("T", "Y_GE65")

LICENSES_TEXT = """\
# Licences of the data shipped with hexaccess

`python/hexaccess/data/finland2020/` holds a compact derived copy of the open inputs of
the Finnish Ministry of Finance study of 2020 (report 5/2020, "Towards a common
customer-service network for public administration 2030"). It is what `hexaccess run`
uses with no arguments. It was built by `scripts/build_default_data.py` (its docstring
gives the download addresses). The code of hexaccess is MIT (`LICENSE`); the data keep
their own licences.

## Population: `population.csv.gz` (columns `GRD_ID`, `T`, `Y_GE65`)

- Source: Eurostat GISCO, Census 2021 population grid, 1 km, version 2021 (2024-06-16),
  <https://ec.europa.eu/eurostat/web/gisco/geodata/population-distribution/geostat>.
- Licence: © European Union; reuse is authorised provided the source is acknowledged
  (Commission Decision 2011/833/EU).
- Attribution: "Population: Eurostat, Census 2021 population grid (GISCO), © European
  Union".

## Municipality of each square: `population.csv.gz` (column `municipality`)

- Source: derived from the National Land Survey of Finland (NLS) 1:1,000,000 municipal
  division (the municipality holding each square's centre point).
- Licence: CC BY 4.0, <https://creativecommons.org/licenses/by/4.0/>.
- Attribution: "Contains data from the National Land Survey of Finland 1:1,000,000,
  CC BY 4.0".

## Roads: `roads.parquet` (columns `IGDS_LEVEL`, `LUOKKA`, geometry; EPSG:3067)

- Source: NLS, General map 1:1,000,000 in vector format, roads (state 2010-12-31),
  <https://www.paikkatietohakemisto.fi/geonetwork/srv/api/records/7e491d51-9227-48b3-8d61-3bdbef49f37f>
  (NLS open data file service
  <https://asiointi.maanmittauslaitos.fi/karttapaikka/tiedostopalvelu>).
- Licence: CC BY 4.0, <https://creativecommons.org/licenses/by/4.0/>.
- Attribution: "Contains data from the National Land Survey of Finland General map
  1:1,000,000 (2010), CC BY 4.0".

## Municipalities: `municipalities.csv`

- Source: Statistics Finland municipality data (names, language status, regions,
  populations, centre points) via the R package rOpenGov/geofi,
  <https://github.com/rOpenGov/geofi>.
- Licence: Statistics Finland data CC BY 4.0; geofi is BSD-2-Clause.
- Attribution: "Municipalities: Statistics Finland, via rOpenGov/geofi".

## The study: `offices.csv`, `study_bands_50.csv`

- Source: facts from the study (its 50 joint offices, 18 of them regional centres, and
  its published 10-minute band table); office points are municipal centres from
  `municipalities.csv`.
- Licence: facts, not a work under copyright; cite the study.
- Attribution: "Ministry of Finance, report 5/2020".

## Changes made

Columns removed and the municipality code joined to each square; `fixed` added to the
offices (= `regional_centre`). Counts, codes, coordinates and rows are as published.

Results computed with this data should carry the line printed by `hexaccess run`:

> {attribution}
"""


def _gzip_bytes(data: bytes) -> bytes:
    """gzip without a time stamp or file name, so the bytes depend on ``data`` only."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def build_population(source: Path) -> bytes:
    """``population.csv.gz``: the grid's total and 65+ with each square's municipality."""
    grid = pd.read_csv(source / "census2021_1km.csv", dtype={"GRD_ID": str})
    munis = pd.read_csv(source / "grid_municipality.csv", dtype=str)
    table = grid[["GRD_ID", *POPULATION_COLUMNS]].merge(
        munis[["GRD_ID", "municipality"]], on="GRD_ID", how="left", validate="one_to_one"
    )
    missing = table["municipality"].isna()
    if missing.any():
        raise SystemExit(
            f"{source / 'grid_municipality.csv'}: {int(missing.sum())} squares of the grid "
            f"have no municipality (first {table.loc[missing, 'GRD_ID'].iloc[0]})"
        )
    text = table.to_csv(index=False, lineterminator="\n")
    return _gzip_bytes(text.encode("utf-8"))


def _crs_projjson(crs: object) -> dict[str, object]:
    """EPSG:3067 as PROJJSON (what GeoParquet 1.0 stores), from the shapefile's CRS."""
    from pyproj import CRS

    parsed = CRS.from_user_input(crs)
    if parsed.to_epsg() != 3067:
        raise SystemExit(f"road.shp: CRS is {parsed.name}, expected EPSG:3067 (ETRS-TM35FIN)")
    return json.loads(CRS.from_epsg(3067).to_json())


def build_roads(source: Path, out: Path) -> None:
    """``roads.parquet``: GeoParquet 1.0 with the profile's columns and WKB lines."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pyogrio.raw
    import shapely

    path = source / "roads_mml_1milj" / "road.shp"
    meta, _, wkb, fields = pyogrio.raw.read(path, columns=list(ROAD_COLUMNS))
    data = dict(zip(meta["fields"], fields, strict=True))
    geoms = shapely.from_wkb(wkb)
    bbox = [float(v) for v in shapely.total_bounds(geoms)]
    types = sorted(set(shapely.get_type_id(geoms).tolist()))
    names = {1: "LineString", 5: "MultiLineString"}
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": [names[t] for t in types],
                "crs": _crs_projjson(meta["crs"]),
                "bbox": bbox,
            }
        },
    }
    table = pa.table(
        {
            **{c: pa.array(data[c], type=pa.int32()) for c in ROAD_COLUMNS},
            # ISO WKB, 2D, little-endian: the shapefile's coordinates unchanged.
            "geometry": pa.array(list(shapely.to_wkb(geoms, output_dimension=2)), pa.binary()),
        }
    ).replace_schema_metadata({"geo": json.dumps(geo, sort_keys=True)})
    pq.write_table(table, out, compression="zstd", compression_level=19, row_group_size=len(geoms))


def build_offices(source: Path) -> bytes:
    """``offices.csv``: the study's offices with ``fixed`` = its regional centres."""
    path = source / "study_offices_50.csv"
    offices = pd.read_csv(path, dtype={"municipality": str})
    flag = offices["regional_centre"].astype(str).str.lower()
    if not flag.isin(["true", "false"]).all():
        raise SystemExit(f"{path}: regional_centre must be True or False in every row")
    offices["fixed"] = flag == "true"
    return offices.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_sources(stage: Path, source: Path) -> None:
    """``SOURCES.json``: every file of the folder with its size and SHA-256, and the
    SHA-256 of each source file it was built from."""
    files = sorted(p.name for p in stage.iterdir() if p.name != "SOURCES.json")
    doc = {
        "built_by": "scripts/build_default_data.py",
        "sources": {
            "population.csv.gz": ["census2021_1km.csv", "grid_municipality.csv"],
            "roads.parquet": ["roads_mml_1milj/road.shp"],
            "offices.csv": ["study_offices_50.csv"],
            "municipalities.csv": ["municipalities.csv"],
            "study_bands_50.csv": ["study_bands_50.csv"],
        },
        "source_sha256": {name: _sha256(source / name) for name in SOURCE_FILES},
        "files": {
            name: {"bytes": (stage / name).stat().st_size, "sha256": _sha256(stage / name)}
            for name in files
        },
    }
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    (stage / "SOURCES.json").write_text(text, encoding="utf-8")


def build(source: Path, stage: Path) -> None:
    """Every file of the data folder, written into ``stage``."""
    missing = [name for name in SOURCE_FILES if not (source / name).is_file()]
    if missing:
        raise SystemExit(
            f"{source}: missing {', '.join(missing)}; give --source a folder laid out like "
            "../shared/data/finland (see this script's docstring for the downloads)"
        )
    (stage / "population.csv.gz").write_bytes(build_population(source))
    build_roads(source, stage / "roads.parquet")
    (stage / "offices.csv").write_bytes(build_offices(source))
    for name in ("municipalities.csv", "study_bands_50.csv"):
        shutil.copyfile(source / name, stage / name)
    licences = LICENSES_TEXT.format(attribution=ATTRIBUTION)
    (stage / "LICENSES.md").write_text(licences, encoding="utf-8")
    write_sources(stage, source)


def replace_dir(stage: Path, target: Path) -> None:
    """Move ``stage`` to ``target`` with renames only: the old folder is moved aside first
    and removed once the new one is in place, so ``target`` is never half-written."""
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.rename(target, old)
    os.rename(stage, target)
    if old.exists():
        shutil.rmtree(old)


def write_text_atomically(path: Path, text: str) -> None:
    """``path`` replaced in one step (a temporary file beside it, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--source", type=Path, default=DEFAULT_SOURCE, help=f"default {DEFAULT_SOURCE}"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_TARGET, help=f"data folder (default {DEFAULT_TARGET})"
    )
    parser.add_argument(
        "--licenses",
        type=Path,
        default=TOP_LICENSES,
        help=f"where the top-level LICENSES.md goes (default {TOP_LICENSES}); '-' for none",
    )
    args = parser.parse_args(argv)
    target = args.out.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    stage.chmod(0o755)  # mkdtemp makes it private; the package data must be readable
    try:
        build(args.source, stage)
        replace_dir(stage, target)
    finally:
        if stage.exists():
            shutil.rmtree(stage)
    if str(args.licenses) != "-":
        write_text_atomically(args.licenses, (target / "LICENSES.md").read_text("utf-8"))
    total = sum(p.stat().st_size for p in target.iterdir())
    for p in sorted(target.iterdir()):
        print(f"{p.stat().st_size:>10,} {p.name}")
    print(f"{total:>10,} in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
