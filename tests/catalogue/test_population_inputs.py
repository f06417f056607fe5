"""Catalogue of hostile population and municipality inputs (issue "Nothing silent").

Every case builds its own tiny inputs in ``tmp_path`` (the tiny world of
``fixtures.worlds``: six populated 1 km squares in three municipalities, 1,650 people,
280 aged 65+) and drives the command line (``hexaccess run``) or the Python API. A
mistake must end in exit code 2 with one stderr line naming the file, the row or the
value (or the matching error class in the API); an input that can be read without
guessing must give the right numbers.

The cases are data (:data:`CASES`), so the same list can be run against another copy of
the package to classify each outcome (clear error, accepted correctly, traceback, silent
wrong result, hang).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fixtures.catalogue import Case, check_case, outcome  # noqa: F401
from fixtures.worlds import tiny_world

import hexaccess

#: The tiny world's people: all, 65+, and per municipality (001, 002, 003).
TOTAL, OLD = 1650, 280
BY_MUNI = {"001": 300, "002": 700, "003": 650}
#: Real-looking codes for the tiny world's municipalities: Helsinki, Brändö (Åland),
#: Espoo.
REAL_CODES = {"001": "091", "002": "035", "003": "049"}


# ------------------------------------------------------------------ input builders
def _world(tmp: Path, codes: dict[str, str] | None = None) -> Any:
    """The tiny world; ``codes`` renames its municipality codes in the table."""
    tmp.mkdir(parents=True, exist_ok=True)
    w = tiny_world(tmp)
    if codes:
        t = pd.read_csv(w.municipality_table, dtype=str)
        t["municipality"] = t["municipality"].map(codes)
        t.to_csv(w.municipality_table, index=False)
    return w


def _run(w: Any, tmp: Path, *extra: Any, population: Any = None) -> tuple[str, list[str]]:
    args = [
        "run", "--population", population or w.population, "--roads", w.roads,
        "--offices", w.offices, "--out", tmp / "out", "--quiet", *extra,
    ]  # fmt: skip
    return "cli", [str(a) for a in args]


def _with_table(w: Any, tmp: Path, *extra: Any, table: Any = None) -> tuple[str, list[str]]:
    return _run(w, tmp, "--municipality-table", table or w.municipality_table, *extra)


def _pop_text(tmp: Path, text: str, name: str = "pop.csv", encoding: str = "utf-8") -> Any:
    """The tiny world with its population CSV replaced by ``text`` ({g0}..{g5} are the
    six GRD_IDs)."""
    w = _world(tmp)
    ids = pd.read_csv(w.population)["GRD_ID"].tolist()
    path = tmp / name
    path.write_bytes(text.format(**{f"g{i}": g for i, g in enumerate(ids)}).encode(encoding))
    w.population = path
    return w


def _bad_population(text: str, *extra: str, name: str = "pop.csv") -> Callable[[Path], Any]:
    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _pop_text(tmp, text, name)
        return _run(w, tmp, *extra)

    return make


def _file_bytes(name: str, data: bytes, *, table: bool = False) -> Callable[[Path], Any]:
    """A population file (or, with ``table``, the municipality table) holding ``data``."""

    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        path = tmp / name
        path.write_bytes(data)
        if table:
            return _with_table(w, tmp, table=path)
        return _run(w, tmp, population=path)

    return make


def _raster(tmp: Path, name: str = "pop.tif") -> Path:
    """A 120 x 120 integer GeoTIFF of people near the tiny world (EPSG:3067)."""
    import rasterio
    from rasterio.transform import from_origin

    rng = np.random.default_rng(1)
    arr = rng.integers(0, 50, size=(120, 120)).astype(np.int32)
    path = tmp / name
    profile = {
        "driver": "GTiff", "height": 120, "width": 120, "count": 1, "dtype": "int32",
        "crs": "EPSG:3067", "transform": from_origin(385_000, 6_684_000, 100, 100),
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(arr, 1)
    return path


def _truncated(make_file: Callable[[Path], Path], keep: float | int) -> Callable[[Path], Any]:
    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        path = make_file(tmp)
        data = path.read_bytes()
        n = keep if isinstance(keep, int) else int(len(data) * keep)
        path.write_bytes(data[:n])
        return _run(w, tmp, population=path)

    return make


def _parquet(tmp: Path) -> Path:
    w = _world(tmp / "w")
    path = tmp / "pop.parquet"
    pd.read_csv(w.population).to_parquet(path)
    return path


def _gpkg(tmp: Path) -> Path:
    import geopandas as gpd
    import shapely

    frame = pd.read_csv(_world(tmp / "w").population)
    n = frame.GRD_ID.str.extract(r"N(\d+)E(\d+)").astype(float)
    boxes = [shapely.box(e, s, e + 1000, s + 1000) for s, e in zip(n[0], n[1], strict=True)]
    path = tmp / "squares.gpkg"
    gpd.GeoDataFrame(frame, geometry=boxes, crs="EPSG:3035").to_file(path, driver="GPKG")
    return path


def _h3_csv(tmp: Path) -> Path:
    import h3

    path = tmp / "cells.csv"
    cells = [h3.latlng_to_cell(60.18 + 0.01 * i, 24.93, 8) for i in range(3)]
    pd.DataFrame({"h3": cells, "people": [10, 20, 30]}).to_csv(path, index=False)
    return path


def _summary(tmp: Path) -> dict[str, Any]:
    return json.loads((tmp / "out" / "summary.json").read_text())


def _total_is(total: int, column: str | None = None) -> Callable[[Path, Any], bool]:
    def check(tmp: Path, _result: Any) -> bool:
        s = _summary(tmp)
        return s["population_total"] == total and (
            column is None or s["population_column"] == column
        )

    return check


# ------------------------------------------------------------------ the cases
def _exclude(codes: str, table_codes: dict[str, str] | None = None) -> Callable[[Path], Any]:
    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp, table_codes)
        return _with_table(w, tmp, "--exclude-municipalities", codes)

    return make


def _lost_zeros(codes: str) -> Callable[[Path], Any]:
    """A table with real codes saved without their leading zeros (091 -> 91)."""

    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp, {k: v.lstrip("0") for k, v in REAL_CODES.items()})
        return _with_table(w, tmp, "--exclude-municipalities", codes)

    return make


def _table_rows(rows: str) -> Callable[[Path], Any]:
    """The municipality table replaced by ``rows`` ({g0}..{g5}: the square ids)."""

    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        ids = pd.read_csv(w.population)["GRD_ID"].tolist()
        w.municipality_table.write_text(rows.format(**{f"g{i}": g for i, g in enumerate(ids)}))
        return _with_table(w, tmp, "--exclude-municipalities", "003")

    return make


def _latin1_table(tmp: Path) -> tuple[str, list[str]]:
    w = _world(tmp)
    t = pd.read_csv(w.municipality_table, dtype=str)
    t["name"] = "Äänekoski"
    t.to_csv(w.municipality_table, index=False, encoding="latin-1")
    return _with_table(w, tmp, "--exclude-municipalities", "003")


def _latin1_population(tmp: Path) -> tuple[str, list[str]]:
    w = _world(tmp)
    t = pd.read_csv(w.population)
    t["paikka"] = "Hämeenlinna"
    t.to_csv(w.population, index=False, encoding="latin-1")
    return _run(w, tmp)


def _no_table_match(tmp: Path) -> tuple[str, list[str]]:
    w = _world(tmp)
    t = pd.read_csv(w.municipality_table, dtype=str)
    t["GRD_ID"] = t["GRD_ID"].str.replace("CRS3035RES1000m", "CRS3035RES1km", regex=False)
    t.to_csv(w.municipality_table, index=False)
    return _with_table(w, tmp, "--exclude-municipalities", "003")


def _partial_table(tmp: Path) -> tuple[str, list[str]]:
    w = _world(tmp)
    t = pd.read_csv(w.municipality_table, dtype=str)
    t.iloc[1:].to_csv(w.municipality_table, index=False)  # square 0 (001, 100 people) missing
    return _with_table(w, tmp, "--exclude-municipalities", "003")


def _directory(role: str) -> Callable[[Path], Any]:
    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        d = tmp / "folder.csv"
        d.mkdir()
        return _with_table(w, tmp, table=d) if role == "table" else _run(w, tmp, population=d)

    return make


def _missing(role: str) -> Callable[[Path], Any]:
    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        p = tmp / "nowhere.csv"
        return _with_table(w, tmp, table=p) if role == "table" else _run(w, tmp, population=p)

    return make


def _raster_with(*extra: str) -> Callable[[Path], Any]:
    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        path = _raster(tmp)
        extra_args = [str(w.municipality_table) if a == "{table}" else a for a in extra]
        return _run(w, tmp, *extra_args, population=path)

    return make


def _h3_with_table(tmp: Path) -> tuple[str, list[str]]:
    w = _world(tmp)
    return _run(w, tmp, "--municipality-table", w.municipality_table, population=_h3_csv(tmp))


def _wrong_content(name: str, maker: Callable[[Path], Path]) -> Callable[[Path], Any]:
    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        src = maker(tmp)
        dst = tmp / name
        dst.write_bytes(src.read_bytes())
        return _run(w, tmp, population=dst)

    return make


def _csv_file(tmp: Path) -> Path:
    return Path(_world(tmp / "w").population)


def _api(call: Callable[[Path], Any]) -> Callable[[Path], tuple[str, Any]]:
    return lambda tmp: ("api", lambda: call(tmp))


def _api_study(tmp: Path, **kw: Any) -> Any:
    w = _world(tmp)
    kw.setdefault("municipality_table", w.municipality_table)
    return hexaccess.Study(w.population, w.roads, w.offices, **kw).population


def _api_filter(tmp: Path, codes: list[str], table_codes: dict[str, str]) -> Any:
    from hexaccess.population import read_eurostat_grid

    w = _world(tmp, table_codes)
    return read_eurostat_grid(
        w.population, municipality_table=w.municipality_table
    ).filter_municipalities(exclude=codes)


def _api_table(tmp: Path, rows: str) -> Any:
    from hexaccess.population import read_municipality_table

    path = tmp / "table.csv"
    path.write_text(rows)
    return read_municipality_table(path)


def _api_h3_overflow(tmp: Path) -> Any:
    from hexaccess.population import read_h3_table

    path = _h3_csv(tmp)
    t = pd.read_csv(path)
    t["people"] = t["people"].astype(object)
    t.loc[1, "people"] = "1e19"
    t.to_csv(path, index=False)
    return read_h3_table(path)


def _api_raster_resolution(tmp: Path) -> Any:
    from hexaccess.population import read_population_raster

    return read_population_raster(_raster(tmp), resolution=13)


def _api_resolution(value: Any) -> Callable[[Path], Any]:
    def call(tmp: Path) -> Any:
        from hexaccess.population import read_eurostat_grid

        return read_eurostat_grid(_world(tmp).population, resolution=value)

    return call


def _squares_with_table(drop_id: bool = False) -> Callable[[Path], Any]:
    """The tiny world's squares as a GeoPackage (with their GRD_ID unless ``drop_id``),
    the municipality table and ``--exclude-municipalities 003``."""

    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        path = _gpkg(tmp)
        if drop_id:
            import geopandas as gpd

            gpd.read_file(path).drop(columns="GRD_ID").to_file(path, driver="GPKG")
        extra = ["--population-columns", "T", "--exclude-municipalities", "003"]
        table = ["--municipality-table", w.municipality_table]
        return _run(w, tmp, *table, *extra, population=path)

    return make


def _h3_municipalities(codes: str) -> Callable[[Path], Any]:
    """An H3 table whose municipality codes lost their zeros (91, 49), excluding
    ``codes``."""

    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        path = _h3_csv(tmp)
        t = pd.read_csv(path)
        t["municipality"] = ["91", "91", "49"]
        t.to_csv(path, index=False)
        return _run(w, tmp, "--exclude-municipalities", codes, population=path)

    return make


def _api_filter_note(tmp: Path) -> Any:
    """The exclusion's figures: warned about and kept in the grid's load_report."""
    import warnings

    from hexaccess import inputs

    w = _world(tmp)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grid = inputs.read_population_any(
            w.population, municipality_table=w.municipality_table, exclude_municipalities=["003"]
        )
    return grid, [str(c.message) for c in caught]


def _geoparquet(geometry: str) -> Callable[[Path], Any]:
    """The tiny world's squares as GeoParquet whose geometry column is ``"wkb"`` (fine),
    ``"int"`` (not WKB at all), ``"garbage"`` (bytes that are not WKB) or whose ``geo``
    metadata is ``"bad-json"``."""

    def make(tmp: Path) -> tuple[str, list[str]]:
        import pyarrow as pa
        import pyarrow.parquet as pq
        import shapely
        from pyproj import CRS

        w = _world(tmp)
        frame = pd.read_csv(w.population)
        n = frame.GRD_ID.str.extract(r"N(\d+)E(\d+)").astype(float)
        boxes = [shapely.box(e, s, e + 1000, s + 1000) for s, e in zip(n[0], n[1], strict=True)]
        wkb = list(shapely.to_wkb(np.asarray(boxes)))
        if geometry == "garbage":
            wkb[2] = b"\x01\x02 not wkb"
        column = pa.array(list(range(6))) if geometry == "int" else pa.array(wkb, pa.binary())
        table = pa.table({"T": pa.array(frame["T"]), "geometry": column})
        geo = {
            "version": "1.0.0",
            "primary_column": "geometry",
            "columns": {"geometry": {"encoding": "WKB", "crs": json.loads(CRS(3035).to_json())}},
        }
        meta = b"{not json" if geometry == "bad-json" else json.dumps(geo).encode()
        path = tmp / "squares.parquet"
        pq.write_table(table.replace_schema_metadata({b"geo": meta}), path)
        return _run(w, tmp, "--population-columns", "T", population=path)

    return make


def _exclude_from(kind: str) -> Callable[[Path], Any]:
    """``--exclude-municipalities 001`` on a population that has no municipalities."""

    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        path = _raster(tmp) if kind == "raster" else _h3_csv(tmp)
        return _run(w, tmp, "--exclude-municipalities", "001", population=path)

    return make


def _api_grid_with_table(tmp: Path) -> Any:
    from hexaccess import inputs
    from hexaccess.population import read_eurostat_grid

    w = _world(tmp)
    grid = read_eurostat_grid(w.population)
    return inputs.read_population_any(grid, municipality_table=w.municipality_table)


HEADER = "GRD_ID,T,Y_GE65\n"
ROWS = "".join(f"{{g{i}}},{t},{o}\n" for i, (t, o) in enumerate(
    [(100, 10), (200, 30), (300, 60), (150, 40), (400, 50), (500, 90)]
))  # fmt: skip
LINE3 = ROWS.splitlines(keepends=True)


def _row1(value: str) -> str:
    """The population CSV with square 1's T (line 3) replaced by ``value``."""
    lines = list(LINE3)
    lines[1] = f"{{g1}},{value},30\n"
    return HEADER + "".join(lines)


CASES: list[Case] = [
    # -- exclusion codes that match nothing
    Case(
        "exclude-999", _exclude("999"), ("'999'", "match no municipality", "grid_municipality.csv")
    ),
    Case("exclude-typo-0091", _exclude("0091", REAL_CODES), ("'0091'", "'091'", "near")),
    Case("exclude-one-known-one-unknown", _exclude("091,999", REAL_CODES), ("'999'",)),
    Case("exclude-aland-without-aland", _exclude("aland"), ("Åland", "leave 'aland' out")),
    Case("exclude-empty-list", _exclude(","), ("names no municipality",)),
    Case("exclude-letters", _exclude("Helsinki"), ("'Helsinki'", "not a number")),
    Case("exclude-known-code", _exclude("003"), None, check=_total_is(TOTAL - BY_MUNI["003"])),
    Case("exclude-short-code-padded", _exclude("3"), None, check=_total_is(TOTAL - 650)),
    # -- municipality codes that lost their leading zeros
    Case("lost-zeros-exclude-091", _lost_zeros("091"), None, check=_total_is(TOTAL - 300)),
    Case("lost-zeros-aland", _lost_zeros("aland"), None, check=_total_is(TOTAL - 700)),
    Case(
        "codes-of-mixed-width",
        _table_rows("GRD_ID,municipality\n{g0},1\n{g1},1\n{g2},2\n{g3},3\n{g4},2002\n{g5},3"),
        ("different lengths", "'1'", "'2002'"),
    ),
    # -- tables that do not fit the population
    Case(
        "table-matches-no-square",
        _no_table_match,
        ("none of its 6 square ids", "municipality table"),
    ),
    Case("table-misses-one-square", _partial_table, None, check=_total_is(TOTAL - 650)),
    Case("table-empty-file", _table_rows(""), ("municipality table", "empty")),
    Case("table-header-only", _table_rows("GRD_ID,municipality\n"), ("no rows",)),
    Case(
        "table-missing-column",
        _table_rows("GRD_ID,kunta\n{g0},001\n"),
        ("'municipality'", "missing"),
    ),
    Case("table-latin-1", _latin1_table, None, check=_total_is(TOTAL - 650)),
    Case("table-directory", _directory("table"), ("folder.csv", "directory")),
    Case("table-missing-file", _missing("table"), ("nowhere.csv", "not found")),
    Case(
        "table-is-parquet",
        _file_bytes("t.csv", b"PAR1" + b"\0" * 64 + b"PAR1", table=True),
        ("t.csv", "parquet"),
    ),
    # -- population columns
    Case(
        "columns-age-65-plus",
        lambda tmp: _run(_world(tmp), tmp, "--population-columns", "age_65_plus"),
        None,
        check=_total_is(OLD, "age_65_plus"),
    ),
    Case(
        "columns-raw-Y_GE65",
        lambda tmp: _run(_world(tmp), tmp, "--population-columns", "Y_GE65"),
        None,
        check=_total_is(OLD, "Y_GE65"),
    ),
    Case(
        "columns-unknown-name",
        lambda tmp: _run(_world(tmp), tmp, "--population-columns", "age_65"),
        ("'age_65'", "age_65_plus (Y_GE65)"),
    ),
    Case(
        "census-without-T",
        _bad_population("GRD_ID,Y_GE65\n{g0},10\n{g1},30\n"),
        ("no 'T' column", "age_65_plus"),
    ),
    Case(
        "census-without-T-columns-given",
        _bad_population("GRD_ID,Y_GE65\n{g0},10\n{g1},30\n", "--population-columns", "age_65_plus"),
        None,
        check=_total_is(40, "age_65_plus"),
    ),
    # -- counts
    Case("count-empty-cell", _bad_population(_row1("")), ("line 3", "'T'", "nan")),
    Case("count-nan-text", _bad_population(_row1("nan")), ("line 3", "'nan'")),
    Case("count-negative", _bad_population(_row1("-5")), ("line 3", "negative", "-5")),
    Case("count-1e19-overflow", _bad_population(_row1("1e19")), ("line 3", "overflow", "'T'")),
    Case(
        "count-huge-integer", _bad_population(_row1("99999999999999999999")), ("line 3", "overflow")
    ),
    Case("count-fraction", _bad_population(_row1("2.5")), ("line 3", "2.5", "whole number")),
    Case("count-infinite", _bad_population(_row1("inf")), ("line 3", "inf", "infinite")),
    Case(
        "h3-table-overflow-api",
        _api(_api_h3_overflow),
        (r"line 3", "overflow"),
        hexaccess.PopulationInputError,
    ),
    # -- empty, malformed and mis-encoded CSVs
    Case("csv-0-bytes", _bad_population(""), ("pop.csv", "empty")),
    Case("csv-blank-lines", _bad_population("\n\n\n"), ("pop.csv",)),
    Case("csv-header-only", _bad_population(HEADER), ("pop.csv", "no data rows")),
    Case(
        "csv-ragged-row",
        _bad_population(HEADER + "{g0},1,2,3,4\n" + ROWS),
        ("pop.csv", "line 2", "more fields"),
    ),
    Case(
        "csv-ragged-later-row",
        _bad_population(HEADER + ROWS + "{g0}x,1,2,3,4\n"),
        ("pop.csv", "line 8", "fields"),
    ),
    Case("csv-latin-1", _latin1_population, None, check=_total_is(TOTAL)),
    Case(
        "csv-utf-16",
        lambda tmp: _run(_pop_text(tmp, HEADER + ROWS, encoding="utf-16"), tmp),
        None,
        check=_total_is(TOTAL),
    ),
    Case(
        "csv-utf-8-with-bom",
        lambda tmp: _run(_pop_text(tmp, HEADER + ROWS, encoding="utf-8-sig"), tmp),
        None,
        check=_total_is(TOTAL),
    ),
    Case(
        "csv-binary-garbage", _file_bytes("pop.csv", bytes(range(256)) * 8), ("pop.csv", "content")
    ),
    Case("csv-gz-not-gzip", _file_bytes("pop.csv.gz", b"GRD_ID,T\n"), ("pop.csv.gz", "gzip")),
    Case(
        "csv-gz-ok",
        lambda tmp: _run(_world(tmp), tmp, population=_gz(tmp)),
        None,
        check=_total_is(TOTAL),
    ),
    # -- files that are not files, or not what they say
    Case("population-directory", _directory("population"), ("folder.csv", "directory")),
    Case("population-missing", _missing("population"), ("nowhere.csv", "not found")),
    Case(
        "population-unsupported-type",
        _file_bytes("pop.txt", b"GRD_ID,T\n"),
        ("pop.txt", "unsupported"),
    ),
    Case("tif-truncated-half", _truncated(_raster, 0.5), ("pop.tif", "truncated")),
    Case("tif-truncated-header", _truncated(_raster, 8), ("pop.tif", "truncated")),
    Case("tif-garbage", _file_bytes("pop.tif", b"II*\x00" + b"\xff" * 200), ("pop.tif",)),
    Case(
        "parquet-garbage",
        _file_bytes("pop.parquet", b"not a parquet file at all\n" * 20),
        ("pop.parquet", "parquet"),
    ),
    Case("parquet-truncated", _truncated(_parquet, 0.6), ("pop.parquet", "truncated")),
    Case(
        "gpkg-garbage",
        _file_bytes("pop.gpkg", b"\x00\x01garbage" * 300),
        ("pop.gpkg", "GeoPackage"),
    ),
    Case("gpkg-truncated", _truncated(_gpkg, 0.5), ("squares.gpkg", "truncated")),
    Case(
        "csv-named-but-parquet",
        _wrong_content("pop.csv", _parquet),
        ("pop.csv", "Parquet", "rename"),
    ),
    Case(
        "parquet-named-but-csv",
        _wrong_content("pop.parquet", _csv_file),
        ("pop.parquet", "CSV", "rename"),
    ),
    Case("tif-named-but-csv", _wrong_content("pop.tif", _csv_file), ("pop.tif", "CSV")),
    Case("gpkg-named-but-csv", _wrong_content("pop.gpkg", _csv_file), ("pop.gpkg", "CSV")),
    Case("geoparquet-ok", _geoparquet("wkb"), None, check=_total_is(TOTAL, "T")),
    Case("geoparquet-geometry-int", _geoparquet("int"), ("squares.parquet", "not WKB")),
    Case("geoparquet-garbage-wkb", _geoparquet("garbage"), ("squares.parquet", "feature 2", "WKB")),
    Case("geoparquet-bad-geo-json", _geoparquet("bad-json"), ("squares.parquet", "JSON")),
    # -- options that do not apply to the population given
    Case(
        "raster-with-municipality-table",
        _raster_with("--municipality-table", "{table}"),
        ("pop.tif", "municipality table"),
    ),
    Case(
        "raster-two-columns", _raster_with("--population-columns", "a,b"), ("pop.tif", "one band")
    ),
    Case("h3-table-with-municipality-table", _h3_with_table, ("cells.csv", "municipality table")),
    Case(
        "pg-grid-with-municipality-table",
        _api(_api_grid_with_table),
        ("municipality table", "PopulationGrid"),
    ),
    # -- exclusion on other population formats, and what it reports
    Case("squares-gpkg-with-table", _squares_with_table(), None, check=_total_is(TOTAL - 650)),
    Case("squares-gpkg-table-without-GRD_ID", _squares_with_table(True), ("GRD_ID",)),
    Case("h3-lost-zeros-exclude-091", _h3_municipalities("091"), None, check=_total_is(30)),
    Case("raster-exclude", _exclude_from("raster"), ("pop.tif", "municipality", "has none")),
    Case("h3-without-municipality-exclude", _exclude_from("h3"), ("cells.csv", "municipality")),
    Case("h3-exclude-999", _h3_municipalities("999"), ("'999'", "match no municipality")),
    Case(
        "filter-reports-what-it-removed",
        _api(_api_filter_note),
        None,
        check=lambda tmp, r: (
            r[0].total() == TOTAL - 650
            and r[0].load_report.get("municipality_filter", {}).get("removed", {}).get("total")
            == 650
            and any("650 people" in m and "2 squares" in m for m in r[1])
        ),
    ),
    # -- resolution
    Case(
        "resolution-16",
        lambda tmp: _run(_world(tmp), tmp, "--resolution", "16"),
        ("resolution", "16"),
    ),
    Case(
        "resolution-minus-1",
        lambda tmp: _run(_world(tmp), tmp, "--resolution", "-1"),
        ("resolution", "-1"),
    ),
    Case(
        "resolution-13-squares",
        lambda tmp: _run(_world(tmp), tmp, "--resolution", "13"),
        ("resolution 13", "12"),
    ),
    Case(
        "api-resolution-8.5",
        _api(_api_resolution(8.5)),
        ("whole number", "8.5"),
        hexaccess.PopulationInputError,
    ),
    Case(
        "api-resolution-true",
        _api(_api_resolution(True)),
        ("whole number",),
        hexaccess.PopulationInputError,
    ),
    Case(
        "api-raster-resolution-13",
        _api(_api_raster_resolution),
        ("resolution 13",),
        hexaccess.PopulationInputError,
    ),
    # -- the API's own ways in
    Case(
        "api-exclude-integer",
        _api(lambda tmp: _api_study(tmp, exclude_municipalities=[91])),
        ("91", "string"),
    ),
    Case(
        "api-exclude-typo",
        _api(lambda tmp: _api_study(tmp, exclude_municipalities="0003")),
        ("'0003'", "'003'"),
    ),
    Case(
        "api-filter-typo",
        _api(lambda tmp: _api_filter(tmp, ["0091"], REAL_CODES)),
        ("'0091'", "'091'"),
        hexaccess.PopulationInputError,
    ),
    Case(
        "api-filter-lost-zero-code",
        _api(lambda tmp: _api_filter(tmp, ["91"], REAL_CODES)),
        ("'91'", "'091'"),
        hexaccess.PopulationInputError,
    ),
    Case(
        "api-table-pads-codes",
        _api(lambda tmp: _api_table(tmp, "GRD_ID,municipality\na,91\nb,5\nc,035\n")),
        None,
        check=lambda tmp, s: list(s) == ["091", "005", "035"],
    ),
    Case(
        "api-table-float-codes",
        _api(lambda tmp: _api_table(tmp, "GRD_ID,municipality\na,91.0\nb,\nc,35.0\n")),
        None,
        check=lambda tmp, s: list(s) == ["091", None, "035"],
    ),
]


def _gz(tmp: Path) -> Path:
    w = _world(tmp / "w")
    path = tmp / "pop.csv.gz"
    path.write_bytes(gzip.compress(Path(w.population).read_bytes()))
    return path


# ------------------------------------------------------------------ running a case
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_population_input(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_case(case, tmp_path, capsys)
