"""Tests of hexaccess.population against independently derived expectations.

The reference apportionment below is a deliberately naive re-implementation (scalar
pyproj + h3-py string API + exact fractions, one square at a time) so that the
vectorised loader is checked against something that shares none of its code paths.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from fractions import Fraction
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from fixtures.shared import SHARED_DATA

from hexaccess.errors import UnknownNameError
from hexaccess.population import (
    ALAND_MUNICIPALITIES,
    PopulationGrid,
    PopulationInputError,
    cell_resolution,
    cell_to_parent,
    population_from_frame,
    read_eurostat_grid,
    read_h3_table,
    read_population_raster,
    read_square_grid,
)

DATA = SHARED_DATA / "finland"

# 2 x 2 km block near Helsinki (EPSG:3035 lower-left corners)
E0, N0 = 5_000_000, 6_670_000


def grd(e: int, n: int, size: int = 1000) -> str:
    return f"CRS3035RES{size}mN{n}E{e}"


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


@pytest.fixture
def block_csv(tmp_path: Path) -> Path:
    rows = [
        (grd(E0, N0), 1234, 200, 150, 600, 634),
        (grd(E0 + 1000, N0), 7, 1, 0, 4, 3),
        (grd(E0, N0 + 1000), 1, 0, 1, 0, 1),
        (grd(E0 + 1000, N0 + 1000), 503, 77, 0, 250, 253),
    ]
    text = "GRD_ID,T,Y_GE65,Y_LT15,M,F\n" + "\n".join(",".join(map(str, r)) for r in rows)
    return write_csv(tmp_path / "grid.csv", text)


def reference_apportion(
    squares: list[tuple[float, float, float]],
    values: list[list[int]],
    crs: str,
    resolution: int,
    s: int,
) -> dict[int, list[int]]:
    """Naive per-square, per-point reference: cell (int) -> summed integer shares."""
    tr = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    out: dict[int, list[int]] = {}
    for (x0, y0, size), vals in zip(squares, values, strict=True):
        counts: Counter[int] = Counter()
        for j in range(s):
            for i in range(s):
                lon, lat = tr.transform(x0 + (i + 0.5) * size / s, y0 + (j + 0.5) * size / s)
                counts[h3.str_to_int(h3.latlng_to_cell(lat, lon, resolution))] += 1
        cells = sorted(counts)
        for col, v in enumerate(vals):
            exact = {c: Fraction(v * counts[c], s * s) for c in cells}
            base = {c: int(exact[c]) for c in cells}
            missing = v - sum(base.values())
            for c in sorted(cells, key=lambda c: (-(exact[c] - base[c]), c))[:missing]:
                base[c] += 1
            for c in cells:
                out.setdefault(c, [0] * len(vals))[col] += base[c]
    return {c: v for c, v in out.items() if any(v)}


def grid_as_dict(grid: PopulationGrid) -> dict[int, list[int]]:
    f = grid.frame[grid.columns]
    return {int(c): [int(x) for x in row] for c, row in zip(grid.cells, f.to_numpy(), strict=True)}


# ------------------------------------------------------------------------------------------
# Eurostat CSV
# ------------------------------------------------------------------------------------------


def test_eurostat_matches_reference_and_preserves_totals(block_csv: Path) -> None:
    grid = read_eurostat_grid(block_csv, resolution=8, samples=6)
    assert grid.columns == ["total", "age_65_plus", "under_15", "male", "female"]
    src = pd.read_csv(block_csv)
    for raw, name in zip(["T", "Y_GE65", "Y_LT15", "M", "F"], grid.columns, strict=True):
        assert grid.total(name) == int(src[raw].sum())
    squares = [
        (float(r.GRD_ID.split("E")[-1]), float(r.GRD_ID.split("N")[1].split("E")[0]), 1000.0)
        for r in src.itertuples()
    ]
    ref = reference_apportion(
        squares, src[["T", "Y_GE65", "Y_LT15", "M", "F"]].to_numpy().tolist(), "EPSG:3035", 8, 6
    )
    assert grid_as_dict(grid) == ref
    # structure
    cells = grid.cells
    assert cells.dtype == np.uint64 and np.all(np.diff(cells.astype(np.float64)) > 0)
    assert all(h3.get_resolution(h3.int_to_str(int(c))) == 8 for c in cells)
    assert grid.resolution == 8 and grid.municipality is None


@pytest.mark.parametrize("resolution", [7, 9])
def test_each_square_sums_back_and_centre_cells_get_people(tmp_path: Path, resolution: int) -> None:
    """One file per square: each square's counts come back exactly, at the resolution."""
    tr = pyproj.Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
    for k, (e, n, t, old) in enumerate([(E0, N0, 5000, 800), (E0 + 7000, N0 - 3000, 999, 13)]):
        p = write_csv(tmp_path / f"sq{k}.csv", f"GRD_ID,T,Y_GE65\n{grd(e, n)},{t},{old}")
        g = read_eurostat_grid(p, resolution=resolution)
        assert g.total() == t and g.total("age_65_plus") == old
        assert (cell_resolution(g.cells) == resolution).all()
        lon, lat = tr.transform(e + 500, n + 500)
        centre = h3.str_to_int(h3.latlng_to_cell(lat, lon, resolution))
        assert centre in set(g.cells.tolist())
        assert g.frame.loc[np.uint64(centre), "total"] > 0


def test_area_shares_close_to_exact_overlap(tmp_path: Path) -> None:
    """Shares within ~1/s of the exact polygon-overlap fractions (shapely, EPSG:3035)."""
    t = 1_000_000
    p = write_csv(tmp_path / "one.csv", f"GRD_ID,T\n{grd(E0, N0)},{t}")
    s = 10
    g = read_eurostat_grid(p, resolution=9, samples=s)
    to3035 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
    square = shapely.box(E0, N0, E0 + 1000, N0 + 1000)
    fracs = {}
    for c in g.cells:
        ring = [
            to3035.transform(lng, lat) for lat, lng in h3.cell_to_boundary(h3.int_to_str(int(c)))
        ]
        fracs[int(c)] = shapely.Polygon(ring).intersection(square).area / square.area
    # cells that received nobody (slivers between lattice points) hold < 1/s of the area
    assert 1.0 - sum(fracs.values()) < 1.0 / s
    for c, frac in fracs.items():
        share = g.frame.loc[np.uint64(c), "total"] / t
        assert abs(share - frac) <= 1.0 / s * 0.5, (c, share, frac)


def test_raw_names_column_subset_and_sizes(tmp_path: Path) -> None:
    p = write_csv(
        tmp_path / "sizes.csv",
        "GRD_ID,T,Y_GE65,EMP\n"
        f"CRS3035RES250mN{N0}E{E0},40,3,9\n"
        f"CRS3035RES5kmN{N0 + 10000}E{E0},12345,2000,6000\n"
        f"CRS3035RES2000mN{N0 - 4000}E{E0 + 8000},77,7,10",
    )
    g = read_eurostat_grid(p, columns=["T", "EMP"], names="raw", samples=4)
    assert g.columns == ["T", "EMP"]
    assert g.total("T") == 40 + 12345 + 77 and g.total("EMP") == 6000 + 9 + 10
    ref = reference_apportion(
        [(E0, N0, 250), (E0, N0 + 10000, 5000), (E0 + 8000, N0 - 4000, 2000)],
        [[40, 9], [12345, 6000], [77, 10]],
        "EPSG:3035",
        8,
        4,
    )
    assert grid_as_dict(g) == ref
    g2 = read_eurostat_grid(p, columns={"Y_GE65": "old"})
    assert g2.columns == ["old"] and g2.total("old") == 2010


def test_grid_accessors(block_csv: Path) -> None:
    g = read_eurostat_grid(block_csv, columns=["total", "age_65_plus"], samples=4)
    w = g.weights(["age_65_plus", "total"])
    assert w.dtype == np.float64 and w.shape == (len(g), 2)
    assert w[:, 1].sum() == g.total() and w[:, 0].sum() == g.total("age_65_plus")
    lon, lat = g.centers_lonlat()
    for c, x, y in zip(g.cells[:5], lon[:5], lat[:5], strict=False):
        ry, rx = h3.cell_to_latlng(h3.int_to_str(int(c)))
        assert (x, y) == pytest.approx((rx, ry), abs=1e-9)
    r = repr(g)
    assert "total=1,745" in r and "age_65_plus=278" in r
    with pytest.raises(KeyError, match="under_15"):
        g.weights(["under_15"])


# ------------------------------------------------------------------------------------------
# municipalities
# ------------------------------------------------------------------------------------------


@pytest.fixture
def muni_table(tmp_path: Path) -> Path:
    text = (
        "GRD_ID,municipality\n"
        f"{grd(E0, N0)},091\n{grd(E0 + 1000, N0)},091\n"
        f"{grd(E0, N0 + 1000)},035\n"  # the top-right square is missing: unknown
    )
    return write_csv(tmp_path / "muni.csv", text)


def test_municipality_breakdown_and_filter(block_csv: Path, muni_table: Path) -> None:
    with pytest.warns(UserWarning, match="1 squares .503 total. are not in the municipality"):
        g = read_eurostat_grid(block_csv, municipality_table=muni_table, samples=5)
    src = pd.read_csv(block_csv).merge(pd.read_csv(muni_table, dtype=str), on="GRD_ID", how="left")
    expected = src.groupby("municipality")[["T", "Y_GE65"]].sum()
    got = g.municipality_totals(["total", "age_65_plus"])
    assert got.index.tolist() == ["035", "091"]  # strings, leading zeros kept
    assert got.to_numpy().tolist() == expected.to_numpy().tolist()
    # each cell's municipality = plurality of its parts; parts sum to the cells
    parts = g.parts
    assert parts is not None
    assert parts.groupby("cell")["total"].sum().to_numpy().tolist() == g.frame["total"].tolist()
    for cell, grp in parts.groupby("cell"):
        known = grp.assign(k=grp["municipality"].isna()).sort_values(
            ["total", "k", "municipality"], ascending=[False, True, True]
        )
        want = known["municipality"].iloc[0]
        assert g.frame.loc[np.uint64(cell), "municipality"] == (None if pd.isna(want) else want)
    # exclude: unknown kept (warned), 035 people removed exactly
    with pytest.warns(UserWarning, match="unknown municipality and were kept"):
        ex = g.filter_municipalities(exclude=["035"])
    assert ex.total() == 1234 + 7 + 503
    rep = ex.filter_report
    assert rep is not None and rep.removed["total"] == 1 and rep.unknown_people["total"] == 503
    assert "035" not in set(ex.parts["municipality"].dropna())
    # include: unknown dropped (warned)
    with pytest.warns(UserWarning, match="were dropped"):
        inc = g.filter_municipalities(include=["091"])
    assert inc.total() == 1234 + 7 and inc.total("age_65_plus") == 201
    assert inc.filter_report is not None and inc.filter_report.unknown_action == "dropped"
    with pytest.raises(ValueError, match="unknown municipality"):
        g.filter_municipalities(include=["091"], unknown="error")
    with pytest.raises(ValueError, match="exactly one"):
        g.filter_municipalities()
    with pytest.raises(ValueError, match="removed every cell"), pytest.warns(UserWarning):
        g.filter_municipalities(include=["999"], unknown="drop")


def test_exclude_at_load_time(block_csv: Path, muni_table: Path) -> None:
    with pytest.warns(UserWarning):
        g = read_eurostat_grid(
            block_csv, municipality_table=muni_table, exclude_municipalities=["091"]
        )
    assert g.total() == 1 + 503
    assert g.load_report["excluded"]["total"] == 1234 + 7


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (f"GRD_ID,T\n{grd(E0, N0)},5\nCRS3035RES1000mN12E,4", r"line 3 .*not of the form"),
        (f"GRD_ID,T\n{grd(E0, N0)},5\n{grd(E0, N0 + 1000)},-1", r"line 3 .*negative"),
        (f"GRD_ID,T\n{grd(E0, N0)},\n", r"line 2 .*not a count"),
        # A plain nan (it used to print as np.float64(nan)), and text as quoted text.
        (
            f"GRD_ID,T\n{grd(E0, N0)},5\n{grd(E0, N0 + 1000)},\n",
            r"line 3 .*: column 'T' is nan, not",
        ),
        (
            f"GRD_ID,T\n{grd(E0, N0)},5\n{grd(E0, N0 + 1000)},x\n",
            r"line 3 .*: column 'T' is 'x', not",
        ),
        (f"GRD_ID,T\n{grd(E0, N0)},2.5\n", r"line 2 .*not a whole number"),
        (
            f"GRD_ID,T\n{grd(E0, N0)},5\n{grd(E0, N0 + 1000)},1\n{grd(E0, N0)},5",
            r"appears twice \(line 2 .* and line 4",
        ),
        (f"GRD_ID,M\n{grd(E0, N0)},5", r"missing column\(s\) \['T'\]"),
        ("ID,T\nx,5", "missing column 'GRD_ID'"),
        ("GRD_ID,T\n", "no data rows"),
        (f"GRD_ID,T\n{grd(E0, N0)},0", "empty result"),
        ("GRD_ID,T\nCRS999999RES1000mN0E0,5", r"unknown or unsupported CRS"),
        (
            f"GRD_ID,T\n{grd(E0, N0)},5\nCRS3067RES1000mN6670000E380000,5",
            r"line 3 .*EPSG:3067.*split the file",
        ),
    ],
)
def test_eurostat_errors(tmp_path: Path, body: str, match: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(body + "\n")
    kwargs = {"columns": ["T"]} if "M" in body.split("\n")[0] else {}
    with pytest.raises(PopulationInputError, match=match) as ei:
        read_eurostat_grid(p, **kwargs)
    assert str(p) in str(ei.value)


def test_municipality_table_errors(block_csv: Path, tmp_path: Path) -> None:
    table = pd.DataFrame({"GRD_ID": [grd(E0, N0)], "municipality": [91]})
    with pytest.raises(PopulationInputError, match="leading zeros"):
        read_eurostat_grid(block_csv, municipality_table=table)
    dup = write_csv(
        tmp_path / "dup.csv", f"GRD_ID,municipality\n{grd(E0, N0)},091\n{grd(E0, N0)},092"
    )
    with pytest.raises(PopulationInputError, match="lines 2 and 3"):
        read_eurostat_grid(block_csv, municipality_table=dup)


# ------------------------------------------------------------------------------------------
# GeoPackage / vector grids
# ------------------------------------------------------------------------------------------


def write_gpkg(
    path: Path, geoms: list, fields: dict[str, np.ndarray], crs: str, gtype: str
) -> Path:
    import pyogrio.raw

    pyogrio.raw.write(
        str(path),
        shapely.to_wkb(np.array(geoms, dtype=object)),
        list(fields.values()),
        list(fields.keys()),
        driver="GPKG",
        geometry_type=gtype,
        crs=crs,
    )
    return path


# squares in ETRS-TM35FIN (EPSG:3067), 250 m, Helsinki
SQ3067 = [(385_000.0, 6_672_000.0), (385_250.0, 6_672_000.0), (386_000.0, 6_673_000.0)]
POP = np.array([321, 45, 1000], dtype=np.int64)
OLD = np.array([40, 0, 99], dtype=np.int64)


def test_gpkg_polygons_and_points_match_reference(tmp_path: Path) -> None:
    polys = [shapely.box(x, y, x + 250, y + 250) for x, y in SQ3067]
    fields = {"id": np.array([10, 11, 12]), "pop": POP, "old": OLD}
    p = write_gpkg(tmp_path / "g.gpkg", polys, fields, "EPSG:3067", "Polygon")
    g = read_square_grid(p, {"pop": "total", "old": "age_65_plus"}, id_column="id", samples=5)
    ref = reference_apportion(
        [(x, y, 250.0) for x, y in SQ3067], np.c_[POP, OLD].tolist(), "EPSG:3067", 8, 5
    )
    assert grid_as_dict(g) == ref
    assert g.total() == POP.sum() and g.total("age_65_plus") == OLD.sum()
    pts = [shapely.Point(x + 125, y + 125) for x, y in SQ3067]
    q = write_gpkg(tmp_path / "p.gpkg", pts, fields, "EPSG:3067", "Point")
    gp = read_square_grid(q, {"pop": "total", "old": "age_65_plus"}, cell_size=250, samples=5)
    assert grid_as_dict(gp) == ref
    with pytest.raises(PopulationInputError, match="cell_size"):
        read_square_grid(q, ["pop"])


def test_geoparquet_matches_gpkg(tmp_path: Path) -> None:
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    polys = [shapely.box(x, y, x + 250, y + 250) for x, y in SQ3067]
    crs = pyproj.CRS("EPSG:3067").to_json_dict()
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Polygon"], "crs": crs}},
    }
    table = pa.table({"pop": POP, "geometry": shapely.to_wkb(np.array(polys, dtype=object))})
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    p = tmp_path / "g.parquet"
    pq.write_table(table, p)
    g = read_square_grid(p, ["pop"], samples=5)
    ref = reference_apportion(
        [(x, y, 250.0) for x, y in SQ3067], POP[:, None].tolist(), "EPSG:3067", 8, 5
    )
    assert grid_as_dict(g) == ref


def test_gpkg_municipality_column_and_odd_polygons(tmp_path: Path) -> None:
    # a triangle (non-rectangular) and a thin sliver smaller than the lattice spacing
    tri = shapely.Polygon([(385_000, 6_672_000), (386_000, 6_672_000), (385_000, 6_673_000)])
    sliver = shapely.box(387_000, 6_672_000, 387_001, 6_672_500)
    p = write_gpkg(
        tmp_path / "odd.gpkg",
        [tri, sliver],
        {"pop": np.array([500, 3]), "kunta": np.array(["091", "049"], dtype=object)},
        "EPSG:3067",
        "Polygon",
    )
    g = read_square_grid(p, ["pop"], municipality_column="kunta", samples=10)
    assert g.total("pop") == 503
    assert g.municipality_totals().loc["091", "pop"] == 500
    assert g.municipality_totals().loc["049", "pop"] == 3
    assert g.load_report["non_rectangular_polygons"] == 2 - 1  # the sliver is a rectangle
    # the triangle's people stay inside the triangle's cells (centre cell has people)
    tr = pyproj.Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(385_250, 6_672_250)
    c = h3.str_to_int(h3.latlng_to_cell(lat, lon, 8))
    assert g.frame.loc[np.uint64(c), "pop"] > 0


def test_gpkg_errors(tmp_path: Path) -> None:
    polys = [shapely.box(x, y, x + 250, y + 250) for x, y in SQ3067]
    p = write_gpkg(
        tmp_path / "d.gpkg",
        polys,
        {"id": np.array([1, 2, 1]), "pop": np.array([1, -2, 3])},
        "EPSG:3067",
        "Polygon",
    )
    with pytest.raises(PopulationInputError, match=r"feature 1 \(FID 2\).*negative"):
        read_square_grid(p, ["pop"])
    q = write_gpkg(
        tmp_path / "d2.gpkg",
        polys,
        {"id": np.array([1, 2, 1]), "pop": np.array([1, 2, 3])},
        "EPSG:3067",
        "Polygon",
    )
    with pytest.raises(PopulationInputError, match=r"appears twice \(feature 0 .* and feature 2"):
        read_square_grid(q, ["pop"], id_column="id")
    with pytest.raises(PopulationInputError, match=r"missing column\(s\) \['people'\]"):
        read_square_grid(q, ["people"])
    with pytest.raises(PopulationInputError, match="unknown or unsupported CRS"):
        read_square_grid(q, ["pop"], crs="EPSG:999999")


def test_helsinki_hsy_gpkg() -> None:
    path = DATA.parent / "helsinki" / "hsy_population_250m_2020.gpkg"
    if not path.exists():
        pytest.skip(f"../shared/data not present: {path}")
    g = read_square_grid(path, {"population": "total"}, id_column="id", resolution=9)
    assert g.total() == 71_724  # README: 92 cells, 71,724 people
    assert g.load_report["squares"] == 92


# ------------------------------------------------------------------------------------------
# rasters
# ------------------------------------------------------------------------------------------


def write_tif(path: Path, arr: np.ndarray, nodata: float | None) -> Path:
    import rasterio
    from affine import Affine

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=arr.shape[0],
        width=arr.shape[1],
        count=1,
        dtype=arr.dtype,
        crs="EPSG:3067",
        transform=Affine(100, 0, 385_000, 0, -100, 6_673_000),
        nodata=nodata,
    ) as ds:
        ds.write(arr, 1)
    return path


def test_raster_integer_matches_reference(tmp_path: Path) -> None:
    arr = np.array([[5, 0, -9], [120, 7, 3], [-9, 1, 40]], dtype=np.int32)
    p = write_tif(tmp_path / "i.tif", arr, nodata=-9)
    g = read_population_raster(p, samples=4)
    assert g.total() == 5 + 120 + 7 + 3 + 1 + 40
    squares, vals = [], []
    for r in range(3):
        for c in range(3):
            if arr[r, c] > 0:
                squares.append((385_000 + 100 * c, 6_673_000 - 100 * (r + 1), 100.0))
                vals.append([int(arr[r, c])])
    assert grid_as_dict(g) == reference_apportion(squares, vals, "EPSG:3067", 8, 4)


def test_raster_float_and_errors(tmp_path: Path) -> None:
    arr = np.array([[0.4, np.nan, 2.35], [10.1, 0.0, 3.3]], dtype=np.float32)
    p = write_tif(tmp_path / "f.tif", arr, nodata=None)
    g = read_population_raster(p, samples=3)
    assert g.total() == round(float(np.nansum(arr.astype(np.float64))))  # 16
    bad = write_tif(tmp_path / "n.tif", np.array([[1, -2]], dtype=np.int16), nodata=None)
    with pytest.raises(PopulationInputError, match=r"pixel \(row 0, col 1\).*negative"):
        read_population_raster(bad)
    empty = write_tif(tmp_path / "e.tif", np.array([[0, -1]], dtype=np.int16), nodata=-1)
    with pytest.raises(PopulationInputError, match="no populated pixel"):
        read_population_raster(empty)


# ------------------------------------------------------------------------------------------
# H3 tables
# ------------------------------------------------------------------------------------------


def test_h3_table_hex_int_and_aggregation(tmp_path: Path) -> None:
    base = [h3.latlng_to_cell(60.17 + 0.01 * i, 24.94, 9) for i in range(6)]
    pops = [5, 0, 12, 3, 8, 1]
    p = write_csv(
        tmp_path / "h.csv",
        "h3,pop,kunta\n"
        + "\n".join(
            f"{c},{v},{'091' if i < 4 else '049'}"
            for i, (c, v) in enumerate(zip(base, pops, strict=True))
        ),
    )
    g = read_h3_table(p, value_columns=["pop"], municipality_column="kunta")
    assert g.resolution == 9 and g.total("pop") == 29 and len(g) == 5  # zero cell dropped
    gi = read_h3_table(pd.DataFrame({"h3": [h3.str_to_int(c) for c in base], "pop": pops}))
    assert grid_as_dict(gi) == grid_as_dict(g)
    g7 = read_h3_table(p, value_columns=["pop"], resolution=7, municipality_column="kunta")
    expected: Counter[int] = Counter()
    for c, v in zip(base, pops, strict=True):
        expected[h3.str_to_int(h3.cell_to_parent(c, 7))] += v
    assert grid_as_dict(g7) == {c: [v] for c, v in expected.items() if v}
    with pytest.raises(PopulationInputError, match="coarser than the requested 10"):
        read_h3_table(p, value_columns=["pop"], resolution=10)
    mixed = pd.DataFrame({"h3": [base[0], h3.cell_to_parent(base[1], 8)], "pop": [1, 2]})
    with pytest.raises(PopulationInputError, match=r"row 1 \(0-based\).*resolution 8"):
        read_h3_table(mixed)
    with pytest.raises(PopulationInputError, match=r"line 3 .*not a valid H3 cell"):
        read_h3_table(write_csv(tmp_path / "x.csv", f"h3,pop\n{base[0]},1\n8f,2"))
    with pytest.raises(PopulationInputError, match="not a hexadecimal"):
        read_h3_table(pd.DataFrame({"h3": ["zz"], "pop": [1]}))
    with pytest.raises(PopulationInputError, match=r"appears twice \(row 0 .* and row 1"):
        read_h3_table(pd.DataFrame({"h3": [base[0], base[0]], "pop": [1, 1]}))


def test_cell_to_parent_matches_h3() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        c = h3.latlng_to_cell(rng.uniform(-80, 80), rng.uniform(-180, 180), 12)
        for r in (0, 5, 8, 12):
            got = int(cell_to_parent(np.array([h3.str_to_int(c)], dtype=np.uint64), r)[0])
            assert got == h3.str_to_int(h3.cell_to_parent(c, r))


def test_density_per_km2_at_any_resolution() -> None:
    c8 = h3.latlng_to_cell(61.5, 23.8, 8)
    n8 = next(iter(h3.grid_ring(c8, 1)))
    cells = np.sort(np.array([h3.str_to_int(c8), h3.str_to_int(n8)], dtype=np.uint64))
    people = {h3.str_to_int(c8): 700, h3.str_to_int(n8): 70}
    g = PopulationGrid(
        pd.DataFrame(
            {"age": [1, 1], "total": [people[int(c)] for c in cells]},
            index=pd.Index(cells, dtype=np.uint64),
        ),
        8,
    )
    a8 = h3.average_hexagon_area(8, unit="km^2")
    # Equal resolution (and "total" by default, though it is not the first column).
    got = g.density_per_km2(cells)
    np.testing.assert_allclose(got, [people[int(c)] / a8 for c in cells])
    np.testing.assert_allclose(g.density_per_km2(cells, "age"), 1 / a8)
    # Finer cells: the density of the grid cell above them; 0 where no one lives.
    kids = [h3.str_to_int(k) for k in h3.cell_to_children(c8, 10)]
    far = h3.str_to_int(h3.latlng_to_cell(60.0, 25.0, 10))
    np.testing.assert_allclose(g.density_per_km2([*kids, far]), [700 / a8] * len(kids) + [0.0])
    # Coarser cells: the people under each, over the coarse area.
    parent = h3.str_to_int(h3.cell_to_parent(c8, 6))
    under = sum(
        v
        for c, v in people.items()
        if h3.str_to_int(h3.cell_to_parent(h3.int_to_str(c), 6)) == parent
    )
    np.testing.assert_allclose(
        g.density_per_km2([parent]), [under / h3.average_hexagon_area(6, unit="km^2")]
    )
    assert g.density_per_km2(np.zeros(0, np.uint64)).size == 0
    with pytest.raises(ValueError, match=r"cell 1 \(.*\) is at resolution 10, cell 0 at 8"):
        g.density_per_km2([cells[0], kids[0]])
    with pytest.raises(KeyError, match="nope"):
        g.density_per_km2(cells, "nope")
    # Without a "total" column the first column is used.
    only = PopulationGrid(
        pd.DataFrame({"people": [5, 6]}, index=pd.Index(cells, dtype=np.uint64)), 8
    )
    np.testing.assert_allclose(only.density_per_km2(cells), np.array([5, 6]) / a8)


# ------------------------------------------------------------------------------------------
# real data: Finland
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finland() -> tuple[PopulationGrid, pd.DataFrame, float]:
    census = DATA / "census2021_1km.csv"
    table = DATA / "grid_municipality.csv"
    if not (census.exists() and table.exists()):
        pytest.skip(f"../shared/data not present: {census}")
    t0 = time.perf_counter()
    g = read_eurostat_grid(census, resolution=8, municipality_table=table)
    dt = time.perf_counter() - t0
    src = pd.read_csv(census).merge(pd.read_csv(table, dtype=str), on="GRD_ID", how="left")
    return g, src, dt


@pytest.mark.shared_data
def test_finland_totals(finland: tuple[PopulationGrid, pd.DataFrame, float]) -> None:
    g, src, dt = finland
    print(f"Finland load: {dt:.1f} s, {g}")
    assert g.total() == 5_469_557 == int(src["T"].sum())
    raw = {"T": "total", "Y_GE65": "age_65_plus", "Y_LT15": "under_15", "EMP": "employed"}
    for r, name in raw.items():
        assert g.total(name) == int(src[r].sum())
    assert (cell_resolution(g.cells) == 8).all()
    assert g.load_report["squares_without_municipality"] == 0


@pytest.mark.shared_data
def test_finland_municipalities_and_mainland(
    finland: tuple[PopulationGrid, pd.DataFrame, float],
) -> None:
    g, src, _ = finland
    expected = src.groupby("municipality")[["T", "Y_GE65"]].sum()
    got = g.municipality_totals(["total", "age_65_plus"])
    assert got.index.tolist() == expected.index.tolist()
    assert np.array_equal(got.to_numpy(), expected.to_numpy())
    assert len(ALAND_MUNICIPALITIES) == 16
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no unknown municipalities -> no warning
        mainland = g.filter_municipalities(exclude=ALAND_MUNICIPALITIES)
    assert mainland.total() == 5_439_866
    assert mainland.total() == int(
        src.loc[~src["municipality"].isin(ALAND_MUNICIPALITIES), "T"].sum()
    )
    assert mainland.filter_report is not None
    assert mainland.filter_report.removed["total"] == 5_469_557 - 5_439_866
    assert not set(mainland.municipality) & set(ALAND_MUNICIPALITIES)


def test_chunking_does_not_change_result(block_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Squares are processed in chunks of sample points; tiny chunks give the same grid."""
    import hexaccess.population.apportion as pop

    whole = grid_as_dict(read_eurostat_grid(block_csv, samples=6))
    monkeypatch.setattr(pop, "_CHUNK_POINTS", 40)  # one square (36 points) per chunk
    assert grid_as_dict(read_eurostat_grid(block_csv, samples=6)) == whole


# ------------------------------------------------------------------------------------------
# frames in memory: GeoDataFrames and H3 DataFrames
# ------------------------------------------------------------------------------------------


def same_grid(a: PopulationGrid, b: PopulationGrid) -> None:
    """Identical cells, people, municipalities and (cell, municipality) parts."""
    assert a.resolution == b.resolution and a.columns == b.columns
    assert np.array_equal(a.cells, b.cells)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    if a.parts is None or b.parts is None:
        assert a.parts is None and b.parts is None
    else:
        pd.testing.assert_frame_equal(a.parts, b.parts)


@pytest.fixture
def squares_gdf():
    """Three 250 m squares and a triangle (EPSG:3067) with people, ids and municipalities."""
    gpd = pytest.importorskip("geopandas")
    tri = shapely.Polygon([(387_000, 6_672_000), (388_000, 6_672_000), (387_000, 6_673_000)])
    polys = [*(shapely.box(x, y, x + 250, y + 250) for x, y in SQ3067), tri]
    return gpd.GeoDataFrame(
        {
            "id": np.array([10, 11, 12, 13]),
            "pop": np.array([*POP, 500]),
            "old": np.array([*OLD, 60]),
            "kunta": np.array(["091", "091", "049", None], dtype=object),
        },
        geometry=polys,
        crs="EPSG:3067",
    )


def test_geodataframe_of_squares_equals_its_geopackage(tmp_path: Path, squares_gdf) -> None:
    """A GeoDataFrame gives the grid of the same features written to (and read from) a
    GeoPackage: read_square_grid and population_from_frame agree with the file."""
    path = tmp_path / "squares.gpkg"
    squares_gdf.to_file(path, driver="GPKG")
    columns = {"pop": "total", "old": "age_65_plus"}
    kwargs = {"id_column": "id", "samples": 5, "resolution": 9}
    with pytest.warns(UserWarning, match="1 features .500 total. have no municipality"):
        from_file = read_square_grid(path, columns, municipality_column="kunta", **kwargs)
    with pytest.warns(UserWarning, match="1 features .500 total. have no municipality"):
        from_frame = read_square_grid(squares_gdf, columns, municipality_column="kunta", **kwargs)
    same_grid(from_frame, from_file)
    assert from_frame.total() == POP.sum() + 500
    assert from_frame.load_report["non_rectangular_polygons"] == 1
    table = {"10": "091", "12": "049", "13": "035"}
    with pytest.warns(UserWarning, match="1 features"):
        a = read_square_grid(path, ["pop"], municipality_table=table, **kwargs)
    with pytest.warns(UserWarning, match="1 features"):
        b = population_from_frame(squares_gdf, ["pop"], municipality_table=table, **kwargs)
    same_grid(b, a)
    assert b.municipality_totals().loc["035", "pop"] == 500


def test_geodataframe_of_points_equals_its_geopackage(tmp_path: Path) -> None:
    gpd = pytest.importorskip("geopandas")
    points = gpd.GeoDataFrame(
        {"pop": POP, "old": OLD},
        geometry=[shapely.Point(x + 125, y + 125) for x, y in SQ3067],
        crs="EPSG:3067",
    )
    path = tmp_path / "points.gpkg"
    points.to_file(path, driver="GPKG")
    from_file = read_square_grid(path, ["pop", "old"], cell_size=250, samples=5)
    same_grid(population_from_frame(points, ["pop", "old"], cell_size=250, samples=5), from_file)
    ref = reference_apportion(
        [(x, y, 250.0) for x, y in SQ3067], np.c_[POP, OLD].tolist(), "EPSG:3067", 8, 5
    )
    assert grid_as_dict(from_file) == ref
    with pytest.raises(PopulationInputError, match="cell_size"):
        read_square_grid(points, ["pop"])


def test_geodataframe_errors(squares_gdf) -> None:
    no_crs = squares_gdf.set_crs(None, allow_override=True)
    with pytest.raises(PopulationInputError, match="GeoDataFrame: the layer has no CRS"):
        read_square_grid(no_crs, ["pop"])
    same_grid(
        read_square_grid(no_crs, ["pop"], crs="EPSG:3067", samples=3),
        read_square_grid(squares_gdf, ["pop"], samples=3),
    )
    with pytest.raises(PopulationInputError, match=r"missing column\(s\) \['people'\]"):
        read_square_grid(squares_gdf, ["people"])
    dup = squares_gdf.assign(id=[1, 2, 1, 3])
    with pytest.raises(PopulationInputError, match=r"GeoDataFrame: id '1' appears twice"):
        read_square_grid(dup, ["pop"], id_column="id")
    negative = squares_gdf.assign(pop=[1, -2, 3, 4])
    with pytest.raises(PopulationInputError, match=r"feature 1 \(index 1\).*negative"):
        read_square_grid(negative, ["pop"])
    with pytest.raises(PopulationInputError, match="say which columns hold people"):
        population_from_frame(squares_gdf)


def test_h3_dataframe_equals_its_csv(tmp_path: Path) -> None:
    """population_from_frame on a DataFrame of H3 cells == read_h3_table on its CSV."""
    base = [h3.latlng_to_cell(60.17 + 0.01 * i, 24.94, 9) for i in range(6)]
    frame = pd.DataFrame(
        {
            "h3": base,
            "pop": [5, 0, 12, 3, 8, 1],
            "old": [1, 0, 2, 0, 3, 1],
            "kunta": ["091", "091", "049", "049", "091", "049"],
        }
    )
    path = tmp_path / "cells.csv"
    frame.to_csv(path, index=False)
    for kwargs in ({}, {"resolution": 7}):
        from_csv = read_h3_table(path, municipality_column="kunta", **kwargs)
        got = population_from_frame(frame, municipality_column="kunta", **kwargs)
        same_grid(got, from_csv)
    same_grid(
        population_from_frame(frame, {"pop": "total"}),
        read_h3_table(path, value_columns={"pop": "total"}),
    )
    with pytest.raises(PopulationInputError, match="no geometry and no H3 cell column 'cell'"):
        population_from_frame(frame, cell_column="cell")
    with pytest.raises(PopulationInputError, match="municipality_table apply to squares"):
        population_from_frame(frame, municipality_table={"a": "091"})
    with pytest.raises(PopulationInputError, match="needs a GeoDataFrame or a DataFrame"):
        population_from_frame([1, 2])  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# error classes and warnings
# ------------------------------------------------------------------------------------------


def test_user_mistakes_raise_hexaccess_errors(block_csv: Path, muni_table: Path) -> None:
    """Unknown names are UnknownNameError (a KeyError), other mistakes
    PopulationInputError (a ValueError): never a bare KeyError, ValueError or TypeError."""
    with pytest.warns(UserWarning):
        g = read_eurostat_grid(block_csv, municipality_table=muni_table, samples=3)
    with pytest.raises(UnknownNameError, match=r"unknown attribute column\(s\) \['nope'\]"):
        g.total("nope")
    with pytest.raises(PopulationInputError, match="not one string"):
        g.filter_municipalities(exclude="091")
    with pytest.raises(PopulationInputError, match="is an integer"):
        g.filter_municipalities(exclude=[91])
    with pytest.raises(PopulationInputError, match="unknown= must be"):
        g.filter_municipalities(exclude=["091"], unknown="maybe")
    with pytest.raises(PopulationInputError, match="exclude_municipalities needs"):
        read_eurostat_grid(block_csv, exclude_municipalities=["091"])
    with pytest.raises(PopulationInputError, match="names= must be"):
        read_eurostat_grid(block_csv, names="short")
    with pytest.raises(PopulationInputError, match="samples must be >= 1"):
        read_eurostat_grid(block_csv, samples=0)
    with pytest.raises(PopulationInputError, match=r"H3 resolution must be in 0\.\.15"):
        PopulationGrid(g.frame, 16)
    with pytest.raises(PopulationInputError, match="no municipality information"):
        read_eurostat_grid(block_csv, samples=3).municipality_totals()


def test_warnings_point_at_the_callers_line(block_csv: Path, muni_table: Path) -> None:
    """The readers are split into steps; their warnings still name the caller's file."""
    with pytest.warns(UserWarning) as record:
        g = read_eurostat_grid(block_csv, municipality_table=muni_table, samples=3)
        g.filter_municipalities(exclude=["035"])
    assert [Path(w.filename).name for w in record] == ["test_population.py"] * 2


# ------------------------------------------------------------------------------------------
# input files: existence, format by content, truncation (hexaccess._files)
# ------------------------------------------------------------------------------------------


def test_sniff_format_reads_the_content_not_the_extension(tmp_path: Path) -> None:
    import gzip
    import sqlite3
    import struct
    import zipfile

    from hexaccess._files import sniff_format

    pq_path = tmp_path / "a.csv"
    pd.DataFrame({"x": [1]}).to_parquet(pq_path)
    db = tmp_path / "b.txt"
    sqlite3.connect(db).execute("create table t (x)").connection.commit()
    with zipfile.ZipFile(tmp_path / "c.dat", "w") as z:
        z.writestr("x.txt", "x")
    header = b"\x0a\x09OSMHeader\x18\x10"
    samples = {
        "a.csv": "parquet",
        "b.txt": "gpkg",
        "c.dat": "zip",
        "d": ("gzip", gzip.compress(b"GRD_ID,T\n")),
        "e.tif": ("tiff", b"II*\x00\x08\x00\x00\x00" + b"\x00" * 8),
        "f.pbf": ("pbf", struct.pack(">I", len(header)) + header),
        "g.parquet": ("csv", b"GRD_ID,T\nx,1\n"),
        "h.csv": ("text", b"just words\n"),
        "i.csv": ("json", b' {"type": "FeatureCollection"}'),
        "j.csv": ("binary", bytes(range(256))),
        "k.csv": ("empty", b""),
        "l.csv": ("csv", "GRD_ID;T\nä;1\n".encode("utf-16")),
        "m.shp": ("shp", b"\x00\x00\x27\x0a" + b"\x00" * 96),
    }
    for name, want in samples.items():
        if isinstance(want, tuple):
            want, data = want
            (tmp_path / name).write_bytes(data)
        assert sniff_format(tmp_path / name) == want, name


def test_check_input_file_names_the_role_the_path_and_the_fix(tmp_path: Path) -> None:
    from hexaccess._files import check_input_file
    from hexaccess.errors import InputFileError

    good = tmp_path / "pop.parquet"
    pd.DataFrame({"x": range(100)}).to_parquet(good)
    assert check_input_file(good, "population file", kinds=("parquet",)) == good
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[:-20])
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "dir.csv").mkdir()
    cases = [
        (tmp_path / "none.csv", (), r"population file not found: .*none\.csv; check the path"),
        (tmp_path / "dir.csv", (), r"dir\.csv is a directory, not a file"),
        (tmp_path / "empty.csv", (), r"empty\.csv is empty \(0 bytes\)"),
        (good, ("csv",), r"pop\.parquet is a Parquet file by its content, not a CSV"),
        (cut, ("parquet",), r"cut\.parquet is truncated or corrupt: its Parquet footer"),
    ]
    for path, kinds, match in cases:
        with pytest.raises(InputFileError, match=match):
            check_input_file(path, "population file", kinds=kinds)
    with pytest.raises(FileNotFoundError):  # old except clauses keep working
        check_input_file(tmp_path / "none.csv", "population file")


def test_municipality_codes_lost_zeros_and_near_matches(tmp_path: Path) -> None:
    """Codes saved without their zeros come back as 3 digits (warned); a code that
    matches no municipality is refused with its near matches; 'aland' is one group."""
    from hexaccess.population import check_municipality_codes, read_municipality_table

    table = write_csv(tmp_path / "t.csv", "GRD_ID,municipality\na,91\nb,5\nc,035\nd,\n")
    with pytest.warns(UserWarning, match=r"2 municipality codes had lost their leading zeros"):
        s = read_municipality_table(table)
    assert s.to_dict() == {"a": "091", "b": "005", "c": "035", "d": None}
    known = {"091", "005", "035"}
    with pytest.raises(PopulationInputError, match=r"'0091', '999' match no .*'0091': '091'"):
        check_municipality_codes(["091", "0091", "999"], known, "the table t.csv")
    assert check_municipality_codes(["091"], known, "t") == []
    absent = check_municipality_codes(ALAND_MUNICIPALITIES, known, "t")  # 035 is there
    assert len(absent) == 15 and "035" not in absent
    with pytest.raises(PopulationInputError, match="none of the 16 Åland"):
        check_municipality_codes(ALAND_MUNICIPALITIES, {"091"}, "t")
    mixed = write_csv(tmp_path / "m.csv", "GRD_ID,municipality\na,91\nb,2002\n")
    with pytest.raises(PopulationInputError, match=r"different lengths \('91' on line 2"):
        read_municipality_table(mixed)


def test_exclusion_checks_codes_and_reports_what_it_removed(
    block_csv: Path, muni_table: Path
) -> None:
    from hexaccess import inputs

    with pytest.warns(UserWarning) as record:
        g = inputs.read_population_any(
            block_csv, municipality_table=muni_table, exclude_municipalities="91"
        )
    assert g.total() == 1 + 503
    f = g.load_report["municipality_filter"]
    assert f["removed"]["total"] == 1234 + 7 and f["squares_removed"] == 2
    assert any("1,241 people (total) in 2 squares removed" in str(w.message) for w in record)
    with pytest.raises(
        PopulationInputError, match=r"'0091' match no .*near matches: '0091': '091'"
    ):
        with pytest.warns(UserWarning):
            inputs.read_population_any(
                block_csv, municipality_table=muni_table, exclude_municipalities=["0091"]
            )


def test_counts_too_large_are_an_overflow_not_negative(tmp_path: Path) -> None:
    p = write_csv(tmp_path / "big.csv", f"GRD_ID,T\n{grd(E0, N0)},5\n{grd(E0, N0 + 1000)},1e19")
    with pytest.raises(PopulationInputError, match=r"line 3 .*too large for a count \(overflow"):
        read_eurostat_grid(p)


def test_eurostat_columns_are_checked_and_total_is_required(tmp_path: Path) -> None:
    p = write_csv(tmp_path / "old.csv", f"GRD_ID,Y_GE65,M\n{grd(E0, N0)},5,7")
    with pytest.raises(PopulationInputError, match=r"no 'T' column .*age_65_plus \(Y_GE65\)"):
        read_eurostat_grid(p)
    assert read_eurostat_grid(p, columns=["age_65_plus"]).total("age_65_plus") == 5
    with pytest.raises(PopulationInputError, match=r"unknown population column\(s\) \['age_65'\]"):
        read_eurostat_grid(p, columns=["age_65"])


def test_resolution_limits_of_the_apportioning_readers(block_csv: Path) -> None:
    with pytest.raises(PopulationInputError, match=r"resolution 13 is finer .*at most 12"):
        read_eurostat_grid(block_csv, resolution=13)
    with pytest.raises(PopulationInputError, match="whole number"):
        read_eurostat_grid(block_csv, resolution=8.5)  # type: ignore[arg-type]
    with pytest.raises(PopulationInputError, match="samples must be <= 100"):
        read_eurostat_grid(block_csv, samples=101)
    assert read_eurostat_grid(block_csv, resolution=12, samples=2).total() == 1745
