"""The GIS layers (issue #11): H3 cell polygons against the independent ``h3`` package,
dissolves against GEOS and graph components, and the CLI's ``layers.gpkg`` and
GeoParquet files opened by GDAL's ``ogrinfo`` (Debian ``gdal-bin``) and geopandas, with
populations checked against the input population file.

GDAL 3.6 of Debian and pyogrio's bundled GDAL have no Parquet driver, so ``ogrinfo``
checks the GeoPackage; the GeoParquet files are checked with geopandas and pyarrow
against the GeoParquet 1.x metadata rules.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from fixtures.worlds import OFFICES, POINTS, tiny_world
from pyproj import CRS
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import hexaccess
from hexaccess import h3 as hh
from hexaccess.cli import main
from hexaccess.layers import LAYER_NAMES, dissolve_cells
from hexaccess.outputs import read_manifest, verify_output

OGRINFO = shutil.which("ogrinfo")
needs_ogrinfo = pytest.mark.skipif(
    OGRINFO is None, reason="GDAL's ogrinfo is not installed (Debian: apt-get install gdal-bin)"
)
#: The tiny world's people on the road island (no office) and beyond every road.
UNREACHED = POINTS[4][3] + POINTS[5][3]
EQUAL_AREA = "EPSG:3035"  # ETRS89-LAEA: areas in m² around Finland


# ------------------------------------------------------------------ cell polygons
def _h3py_ring(cell: int) -> np.ndarray:
    """The independent boundary: h3-py's (lat, lng) vertices as (lng, lat)."""
    return np.asarray(h3.cell_to_boundary(h3.int_to_str(int(cell))))[:, ::-1]


def _sample_cells() -> np.ndarray:
    """Cells of several resolutions: Helsinki, a pentagon, cells cut by an icosahedron
    edge (H3's distortion vertices, more than six), the far south."""
    cells = list(hh.latlng_to_cells([60.17, -45.0, 35.0], [24.94, 100.0, -120.0], 9))
    cells += [h3.str_to_int(p) for p in h3.get_pentagons(8)[:2]]
    res1 = [c for b in h3.get_res0_cells() for c in h3.cell_to_children(b, 1)]
    cut = [h3.str_to_int(c) for c in res1 if len(h3.cell_to_boundary(c)) > 6][:5]
    assert cut, "resolution 1 has cells cut by icosahedron edges"
    return np.array(cells + cut, dtype=np.uint64)


def test_cell_polygons_equal_h3py_boundaries() -> None:
    cells = _sample_cells()
    coords, offsets = hh.cell_boundary_coords(cells)
    assert coords.dtype == np.float64 and coords.shape == (offsets[-1], 2)
    assert offsets.dtype == np.int64 and offsets[0] == 0 and len(offsets) == len(cells) + 1
    polygons = hh.cell_polygons(cells)
    for i, c in enumerate(cells):
        expect = _h3py_ring(c)
        ring = coords[offsets[i] : offsets[i + 1]]  # not closed: no repeated vertex
        np.testing.assert_allclose(ring, expect, atol=1e-9)
        assert polygons[i].is_valid
        np.testing.assert_allclose(
            np.asarray(polygons[i].exterior.coords), np.vstack([expect, expect[:1]]), atol=1e-9
        )
    assert list(np.diff(offsets))[3:5] == [5, 5]  # the pentagons


def test_the_h3py_fallback_gives_the_same_rings(monkeypatch) -> None:
    cells = _sample_cells()
    fast = hh.cell_boundary_coords(cells)
    monkeypatch.setattr(hh, "_HAVE_RUST_H3", False)
    slow = hh.cell_boundary_coords(cells)
    assert np.array_equal(fast[1], slow[1])
    np.testing.assert_allclose(fast[0], slow[0], atol=1e-9)


def test_antimeridian_cells_extend_past_180_degrees() -> None:
    # Cells holding a point of the antimeridian straddle it.
    cells = hh.latlng_to_cells([0.0, 10.0, -30.0], [180.0, -180.0, 180.0], 7)
    coords, offsets = hh.cell_boundary_coords(cells)
    for i, c in enumerate(cells):
        ring = coords[offsets[i] : offsets[i + 1]]
        expect = _h3py_ring(c)
        assert ring[:, 0].max() - ring[:, 0].min() < 1.0  # no wrap round the globe
        np.testing.assert_allclose(ring[:, 1], expect[:, 1], atol=1e-9)
        np.testing.assert_allclose(ring[:, 0] % 360.0, expect[:, 0] % 360.0, atol=1e-9)
        assert ring[:, 0].max() > 180.0  # shifted east, not west
    polygons = hh.cell_polygons(cells)
    assert shapely.is_valid(polygons).all()
    one_cell_area = shapely.area(hh.cell_polygons(hh.latlng_to_cells([0.0], [0.0], 7)))[0]
    assert shapely.area(polygons[0]) == pytest.approx(one_cell_area, rel=0.01)


def test_bad_cells_are_named() -> None:
    with pytest.raises(hexaccess.EngineInputError, match="entry 1: 0x3039"):
        hh.cell_boundary_coords(np.array([h3.str_to_int(h3.get_pentagons(8)[0]), 12345]))


# ------------------------------------------------------------------ dissolves
def _fragmented(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Two thirds of the resolution-8 cells of a box near Helsinki, in three groups of
    stripes (so groups have many parts and holes)."""
    cells = hh.polygon_cells(shapely.box(24.5, 60.1, 25.1, 60.4), 8)
    rng = np.random.default_rng(seed)
    cells = cells[rng.random(len(cells)) < 0.66]
    lat, _ = hh.cell_centers(cells)
    groups = np.array(["a", "b", "c"], dtype=object)[(lat * 40).astype(int) % 3]
    return cells, groups


def _components(cells: np.ndarray, groups: np.ndarray) -> int:
    """Connected parts of all groups, from h3-py's neighbours and scipy."""
    index = {int(c): i for i, c in enumerate(cells)}
    rows, cols = [], []
    for i, c in enumerate(cells):
        for n in h3.grid_ring(h3.int_to_str(int(c)), 1):
            j = index.get(h3.str_to_int(n))
            if j is not None and groups[j] == groups[i]:
                rows.append(i)
                cols.append(j)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(cells),) * 2)
    return connected_components(graph, directed=False)[0]


def test_dissolve_is_the_union_of_the_cells() -> None:
    cells, groups = _fragmented()
    d = dissolve_cells(cells, pd.Series(groups, name="zone"))
    assert list(d.index) == ["a", "b", "c"] and d.index.name == "zone"
    assert d.crs == "EPSG:4326" and d.geometry.is_valid.all()
    # Independent polygons: h3-py's boundaries, one shapely Polygon per cell.
    own = np.array([shapely.Polygon(_h3py_ring(c)) for c in cells], dtype=object)
    areas = gpd.GeoSeries(own, crs="EPSG:4326").to_crs(EQUAL_AREA).area.to_numpy()
    dissolved = d.to_crs(EQUAL_AREA).area
    latlng = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cells])
    centres = shapely.points(latlng[:, 1], latlng[:, 0])
    parts = 0
    for g in d.index:
        mine = groups == g
        assert dissolved[g] == pytest.approx(areas[mine].sum(), rel=1e-9)
        geom = d.geometry[g]
        assert shapely.covers(geom, centres[mine]).all()
        assert not shapely.intersects(geom, centres[~mine]).any()
        # GEOS's overlay union of the independent polygons: the same region.
        union = shapely.union_all(own[mine])
        assert shapely.area(shapely.symmetric_difference(geom, union)) < 1e-9 * union.area
        parts += shapely.get_num_geometries(geom)
    assert parts == _components(cells, groups)


def test_dissolve_without_the_extension_agrees(monkeypatch) -> None:
    cells, groups = _fragmented(seed=5)
    fast = dissolve_cells(cells, groups)
    monkeypatch.setattr(hh, "_HAVE_RUST_H3", False)
    slow = dissolve_cells(cells, groups)
    for g in fast.index:
        a, b = fast.geometry[g], slow.geometry[g]
        assert shapely.get_num_geometries(a) == shapely.get_num_geometries(b)
        assert shapely.area(shapely.symmetric_difference(a, b)) < 1e-6 * a.area


def test_dissolve_skips_null_groups_and_joins_across_the_antimeridian() -> None:
    cells = hh.latlng_to_cells([0.0, 0.0, 50.0], [179.9995, -179.9995, 10.0], 9)
    d = dissolve_cells(hh.cell_to_str(cells), [1, 1, None])
    assert list(d.index) == [1]
    x0, _, x1, _ = d.geometry[1].bounds
    assert 179.0 < x0 < x1 < 181.0 and d.geometry.is_valid.all()
    with pytest.raises(hexaccess.AnalysisInputError, match="one group value per cell"):
        dissolve_cells(cells, [1, 2])


# ------------------------------------------------------------------ the study API
@pytest.fixture
def world(tmp_path):
    return tiny_world(tmp_path)


def _study(world, **kw):
    kw.setdefault("municipality_table", world.municipality_table)
    kw.setdefault("municipalities", world.municipalities)
    return hexaccess.Study(world.population, world.roads, kw.pop("offices", world.offices), **kw)


def _total(world) -> float:
    return float(pd.read_csv(world.population)["T"].sum())


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_study_layers_are_geodataframes_with_the_users_ids(world, tmp_path) -> None:
    offices = pd.read_csv(world.offices, dtype={"municipality": str})
    offices["office_id"] = ["W-1", "N-2", "E-3"]
    twin = offices.iloc[[0]].assign(name="West twin", office_id="W-9")  # never nearest
    path = tmp_path / "offices_ids.csv"
    pd.concat([offices, twin]).to_csv(path, index=False)
    result = _study(world, offices=path).solve()
    layers = result.layers()
    assert list(layers) == list(LAYER_NAMES)
    assert all(g.crs == "EPSG:4326" for g in layers.values())
    cells = layers["cells"]
    assert len(cells) == len(result.cells) and set(cells.geom_type) == {"Polygon"}
    assert cells["population"].sum() == pytest.approx(_total(world))
    assert list(cells["h3"]) == list(result.cells["h3"])
    unreached = cells[~cells["reached"]]
    assert unreached["population"].sum() == pytest.approx(UNREACHED)
    assert unreached["time_min"].isna().all()
    offs = layers["offices"]
    assert list(offs["office_id"]) == ["W-1", "N-2", "E-3", "W-9"]
    assert set(offs.geom_type) == {"Point"}
    np.testing.assert_allclose(offs.geometry.x, pd.concat([offices, twin])["lon"])
    catch = layers["catchments"].set_index("office_id")
    assert catch.geometry["W-9"] is None and catch.loc["W-9", "population"] == 0
    assert catch["population"].sum() == pytest.approx(_total(world) - UNREACHED)
    munis = layers["municipalities"]
    assert set(munis["municipality"]) == {"001", "002", "003"}
    assert munis["population"].sum() == pytest.approx(_total(world))
    assert set(munis["name"]) == {"Suomela", "Kaksikko", "Ruotsila"}
    # Each catchment covers the centres of exactly its own cells.
    lat, lng = hh.cell_centers(hh.str_to_cell(list(result.cells["h3"])))
    office = result.cells["office"].to_numpy()
    for i, row in layers["catchments"].iterrows():
        if row.geometry is not None:
            inside = shapely.covers(row.geometry, shapely.points(lng, lat))
            assert np.array_equal(inside, office == row["office"]), i


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_centres_and_reprojection(world) -> None:
    result = _study(world).solve()
    centres = result.cell_layer(geometry="centre")
    expect = np.array([h3.cell_to_latlng(c) for c in result.cells["h3"]])
    np.testing.assert_allclose(centres.geometry.y, expect[:, 0], atol=1e-9)
    np.testing.assert_allclose(centres.geometry.x, expect[:, 1], atol=1e-9)
    tm35 = result.catchment_layer(crs="EPSG:3067")
    assert tm35.crs == "EPSG:3067"
    wgs = result.catchment_layer().to_crs(EQUAL_AREA).area.to_numpy()
    np.testing.assert_allclose(tm35.area.to_numpy(), wgs, rtol=1e-3)  # both ~true areas
    with pytest.raises(hexaccess.AnalysisInputError, match="'polygon' or 'centre'"):
        result.cell_layer(geometry="hexagon")


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_municipality_polygons_given_by_the_user_are_used(world, tmp_path) -> None:
    cells = _study(world).solve().cells
    boxes = dissolve_cells(cells["h3"], cells["municipality"]).to_crs("EPSG:3067")
    boxes = gpd.GeoDataFrame(
        {"kunta": boxes.index, "nimi": ["Yksi", "Kaksi", "Kolme"]},
        geometry=boxes.envelope.buffer(500).to_numpy(),
        crs="EPSG:3067",
    )
    path = tmp_path / "munis.gpkg"
    boxes.to_file(path, driver="GPKG")
    layer = _study(world, municipalities=path).solve().municipality_layer()
    got = layer.set_index("municipality").to_crs("EPSG:3067")
    for code, row in boxes.set_index("kunta").iterrows():
        assert got.geometry[code].symmetric_difference(row.geometry).area < 1e-3
        assert got.loc[code, "name"] == row["nimi"]
    with pytest.raises(hexaccess.AnalysisInputError, match=r"no polygon for code\(s\) \['003'\]"):
        _study(world, municipalities=boxes.iloc[:2]).solve().municipality_layer()


# ------------------------------------------------------------------ the CLI's files
def _ogrinfo(path: Path) -> dict[str, dict]:
    """``ogrinfo -so -al``: per layer its feature count, geometry type and CRS."""
    text = subprocess.run(
        [OGRINFO, "-so", "-al", str(path)], capture_output=True, text=True, check=True
    ).stdout
    layers = {}
    for block in text.split("Layer name: ")[1:]:
        name = block.split("\n", 1)[0].strip()
        layers[name] = {
            "count": int(re.search(r"Feature Count: (\d+)", block).group(1)),
            "geometry": re.search(r"Geometry: (.+)", block).group(1).strip(),
            "epsg": re.findall(r'ID\["EPSG",(\d+)\]\]', block)[-1],
        }
    return layers


def _ogr_sum(path: Path, layer: str) -> float:
    """GDAL's own sum of a layer's population column (its SQL engine)."""
    text = subprocess.run(
        [OGRINFO, "-q", "-sql", f"SELECT SUM(population) AS s FROM {layer}", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"s \(Real\) = ([-\d.eE+]+)", text).group(1))


def _check_geoparquet(path: Path) -> gpd.GeoDataFrame:
    """The GeoParquet 1.x rules of the ``geo`` metadata, then the file by geopandas."""
    schema = pq.read_schema(path)
    geo = json.loads(schema.metadata[b"geo"])
    assert re.fullmatch(r"1\.\d+\.\d+", geo["version"])
    primary = geo["primary_column"]
    assert primary in schema.names
    column = geo["columns"][primary]
    assert column["encoding"] == "WKB"
    assert "binary" in str(schema.field(primary).type)
    assert CRS.from_json_dict(column["crs"]) == CRS("EPSG:4326")  # PROJJSON
    allowed = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString"}
    assert set(column["geometry_types"]) <= allowed | {"MultiPolygon", "GeometryCollection"}
    frame = gpd.read_parquet(path)
    assert set(frame.geometry.dropna().geom_type) == set(column["geometry_types"])
    x0, y0, x1, y1 = frame.geometry.total_bounds
    bx0, by0, bx1, by1 = column["bbox"]
    assert bx0 <= x0 and by0 <= y0 and bx1 >= x1 and by1 >= y1
    assert np.allclose([bx0, by0, bx1, by1], [x0, y0, x1, y1], atol=1e-9)  # tight
    return frame


def _run(world, out, *extra) -> int:
    args = [
        "run", "--population", str(world.population), "--roads", str(world.roads),
        "--offices", str(world.offices), "--municipality-table",
        str(world.municipality_table), "--municipalities", str(world.municipalities),
        "--out", str(out), "--quiet", *extra,
    ]  # fmt: skip
    return main(args)


#: What each layer holds in the tiny world: its features and geometry type.
TYPES = {"cells": "Polygon", "offices": "Point", "catchments": "Multi Polygon"}


def _check_layers(world, directory: Path, offices: int, cells: int) -> None:
    total = _total(world)
    counts = {"cells": cells, "offices": offices, "catchments": offices}
    counts["municipalities"] = pd.read_csv(world.municipality_table)["municipality"].nunique()
    sums = {"cells": total, "municipalities": total}
    sums["offices"] = sums["catchments"] = total - UNREACHED
    gpkg = directory / "layers.gpkg"
    if OGRINFO is not None:
        info = _ogrinfo(gpkg)
        assert set(info) == set(LAYER_NAMES)
        for name, layer in info.items():
            assert layer["count"] == counts[name], name
            assert layer["epsg"] == "4326", name
            assert layer["geometry"] == TYPES.get(name, "Multi Polygon"), name
            assert _ogr_sum(gpkg, name) == pytest.approx(sums[name]), name
    for name in LAYER_NAMES:
        for frame in (gpd.read_file(gpkg, layer=name), _check_geoparquet(
            directory / "geoparquet" / f"{name}.parquet"
        )):  # fmt: skip
            assert len(frame) == counts[name] and frame.crs == "EPSG:4326", name
            assert frame["population"].sum() == pytest.approx(sums[name]), name


@needs_ogrinfo
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_run_writes_layers_gis_readers_open(world, tmp_path) -> None:
    out = tmp_path / "out"
    assert _run(world, out) == 0
    cells = len(pd.read_parquet(out / "cells.parquet"))
    _check_layers(world, out, offices=len(pd.read_csv(world.offices)), cells=cells)
    manifest = verify_output(out, kind="run")
    listed = {f["path"] for f in manifest["files"]}
    assert {"layers.gpkg", *(f"geoparquet/{n}.parquet" for n in LAYER_NAMES)} <= listed
    # The offices layer keeps every column of the input beside the figures.
    offices = gpd.read_file(out / "layers.gpkg", layer="offices")
    assert list(offices["name"]) == [o[0] for o in OFFICES]
    assert {"lon", "lat", "municipality", "population", "mean_time_min"} <= set(offices.columns)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_no_layers_writes_none(world, tmp_path) -> None:
    out = tmp_path / "out"
    assert _run(world, out, "--no-layers") == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "bands.csv", "cells.parquet", "manifest.json", "summary.json",
    ]  # fmt: skip
    report = tmp_path / "report"
    args = [
        "report", "--population", str(world.population), "--roads", str(world.roads),
        "--offices", str(world.offices), "--out", str(report), "--quiet", "--no-layers",
    ]  # fmt: skip
    assert main(args) == 0
    assert not list(report.rglob("*.gpkg")) and not (report / "geoparquet").exists()


@needs_ogrinfo
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_report_writes_layers_per_network(world, tmp_path) -> None:
    other = tmp_path / "two.csv"
    pd.read_csv(world.offices, dtype={"municipality": str}).iloc[:2].to_csv(other, index=False)
    out = tmp_path / "report"
    args = [
        "report", "--population", str(world.population), "--roads", str(world.roads),
        "--offices", str(world.offices), "--compare", f"two={other}", "--municipality-table",
        str(world.municipality_table), "--municipalities", str(world.municipalities),
        "--out", str(out), "--quiet", "--no-language",
    ]  # fmt: skip
    assert main(args) == 0
    for name, n in (("offices", 3), ("two", 2)):
        cells = len(pd.read_parquet(out / name / "cells.parquet"))
        _check_layers(world, out / name, offices=n, cells=cells)
    listed = {f["path"] for f in read_manifest(out)["files"]}
    assert {"offices/layers.gpkg", "two/geoparquet/catchments.parquet"} <= listed


@needs_ogrinfo
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_optimise_writes_the_chosen_sites_as_layers(world, tmp_path) -> None:
    out = tmp_path / "opt"
    args = [
        "optimise", "--population", str(world.population), "--roads", str(world.roads),
        "--candidates", str(world.offices), "--municipality-table",
        str(world.municipality_table), "--total", "2", "--out", str(out), "--quiet",
    ]  # fmt: skip
    assert main(args) == 0
    chosen = pd.read_csv(out / "chosen.csv", dtype={"municipality": str})
    offices = gpd.read_file(out / "layers.gpkg", layer="offices")
    assert list(offices["name"]) == list(chosen["name"])
    assert set(chosen.columns) <= set(offices.columns)
    np.testing.assert_allclose(offices.geometry.x, chosen["lon"])
    cells = gpd.read_parquet(out / "geoparquet" / "cells.parquet")
    _check_layers(world, out, offices=len(chosen), cells=len(cells))
    catch = gpd.read_file(out / "layers.gpkg", layer="catchments")
    assert list(catch["name"]) == list(chosen["name"])
    assert {f["path"] for f in read_manifest(out)["files"]} >= {"layers.gpkg", "chosen.csv"}


def _scenario(world, tmp_path: Path, outputs: str) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(
        "\n".join(
            [
                "[inputs]",
                f'population = "{world.population.name}"',
                f'roads = "{world.roads.name}"',
                f'municipality_table = "{world.municipality_table.name}"',
                "[[offices]]",
                f'file = "{world.offices.name}"',
                "[outputs]",
                'dir = "out"',
                "report = false",
                outputs,
            ]
        )
    )
    return path


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_scenario_key_outputs_layers(world, tmp_path, capsys) -> None:
    from hexaccess import scenario

    assert main(["run", str(_scenario(world, tmp_path, "")), "--quiet"]) == 0
    assert (tmp_path / "out" / "layers.gpkg").is_file()
    assert main(["run", str(_scenario(world, tmp_path, "layers = false")), "--quiet"]) == 0
    assert not (tmp_path / "out" / "layers.gpkg").exists()
    assert not (tmp_path / "out" / "geoparquet").exists()
    # --no-layers beside a scenario file is an output choice, like --overwrite.
    assert main(["run", str(_scenario(world, tmp_path, "")), "--quiet", "--no-layers"]) == 0
    assert not (tmp_path / "out" / "layers.gpkg").exists()
    with pytest.raises(scenario.ScenarioError, match=r"outputs\.layers must be true or false"):
        scenario.load_scenario(_scenario(world, tmp_path, 'layers = "no"'))


@pytest.mark.parametrize("crs", ["EPSG:99999", "not a crs"])
def test_an_unknown_crs_is_a_clear_error(crs):
    from hexaccess.errors import AnalysisInputError
    from hexaccess.layers import check_crs

    with pytest.raises(AnalysisInputError, match="EPSG:3067"):
        check_crs(crs)
    assert check_crs(3067).to_epsg() == 3067
