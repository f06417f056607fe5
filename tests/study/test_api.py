"""The study API (``hexaccess.Study``): the same numbers as the command line on the same
inputs, in-memory inputs equal to the same data read from files, and the hexagon graph
through the same tables."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from fixtures.worlds import tiny_world

import hexaccess
from hexaccess.cli import main
from hexaccess.outputs import verify_output


def _summary(path):
    s = json.loads(path.read_text())
    for k in ("seconds", "provenance"):
        s.pop(k, None)
    return s


def _same_run_files(a, b):
    assert (a / "bands.csv").read_bytes() == (b / "bands.csv").read_bytes()
    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "cells.parquet"), pd.read_parquet(b / "cells.parquet")
    )
    assert _summary(a / "summary.json") == _summary(b / "summary.json")


def _study(world, **kw):
    return hexaccess.Study(
        population=world.population,
        roads=world.roads,
        offices=world.offices,
        municipality_table=world.municipality_table,
        municipalities=world.municipalities,
        **kw,
    )


def _cli_args(world, out, *extra):
    return [
        "run", "--population", str(world.population), "--roads", str(world.roads),
        "--offices", str(world.offices), "--municipality-table", str(world.municipality_table),
        "--municipalities", str(world.municipalities), "--out", str(out), "--quiet", *extra,
    ]  # fmt: skip


@pytest.mark.parametrize("graph", ["road", "hex"])
def test_python_api_and_cli_give_identical_files(tmp_path, graph):
    world = tiny_world(tmp_path)
    extra = ["--graph", "hex", "--hex-resolution", "8"] if graph == "hex" else []
    assert main(_cli_args(world, tmp_path / "cli", *extra)) == 0
    kw = {"graph": "hex", "hex_resolution": 8} if graph == "hex" else {}
    result = _study(world, **kw).solve()
    result.write(tmp_path / "api")
    _same_run_files(tmp_path / "cli", tmp_path / "api")
    for d in ("cli", "api"):
        manifest = verify_output(tmp_path / d, kind="run")
        assert {f["path"] for f in manifest["files"]} >= {"bands.csv", "summary.json"}
    # The API's own tables agree with the files it wrote.
    bands = pd.read_csv(tmp_path / "api" / "bands.csv")
    np.testing.assert_allclose(bands["population"], result.bands()["population"])


def test_the_python_readers_split_roads_like_the_cli(tmp_path):
    """read_roads' default used to keep junctions only while the CLI split roads at their
    shape points: the same inputs gave different bands from Python and the CLI."""
    world = tiny_world(tmp_path)
    profile = hexaccess.profiles.load_profile("car_fi")
    from_reader = hexaccess.network.read_roads(world.roads, profile)
    study = _study(world)
    assert from_reader.num_nodes == study.roads.num_nodes
    junctions = hexaccess.network.read_roads(world.roads, profile, split_at_vertices=False)
    assert junctions.num_nodes < from_reader.num_nodes  # the tiny roads have shape points


def test_geodataframe_inputs_equal_the_same_data_from_files(tmp_path):
    world = tiny_world(tmp_path)
    roads = gpd.read_file(world.roads)
    offices = pd.read_csv(world.offices, dtype={"municipality": str})
    office_points = gpd.GeoDataFrame(
        offices.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(offices.lon, offices.lat),
        crs="EPSG:4326",
    ).to_crs("EPSG:3067")
    # Population as squares: the file version is the same GeoDataFrame written to disk.
    squares = _squares(world)
    squares_file = tmp_path / "squares.gpkg"
    squares.to_file(squares_file, driver="GPKG")
    columns = ["T", "Y_GE65"]
    from_files = hexaccess.Study(
        population=squares_file, roads=world.roads, offices=world.offices,
        population_columns=columns,
    ).solve()  # fmt: skip
    in_memory = hexaccess.Study(
        population=squares, roads=roads, offices=office_points, population_columns=columns
    ).solve()
    pd.testing.assert_frame_equal(from_files.cells, in_memory.cells)
    pd.testing.assert_frame_equal(from_files.bands(), in_memory.bands())
    # The offices' geometry was used: every office keeps its own position.
    np.testing.assert_allclose(in_memory.access.offices.lon, offices.lon, rtol=0, atol=1e-9)


def _squares(world) -> gpd.GeoDataFrame:
    """The tiny world's Eurostat squares as polygons in EPSG:3035."""
    import shapely

    frame = pd.read_csv(world.population)
    n = frame.GRD_ID.str.extract(r"N(\d+)E(\d+)").astype(float)
    polys = [shapely.box(e, s, e + 1000, s + 1000) for s, e in zip(n[0], n[1], strict=True)]
    return gpd.GeoDataFrame(frame[["T", "Y_GE65"]], geometry=polys, crs="EPSG:3035")


def test_hexagon_report_has_the_road_reports_tables(tmp_path):
    world = tiny_world(tmp_path)
    outs = {}
    for graph in ("road", "hex"):
        kw = {"graph": "hex", "hex_resolution": 8} if graph == "hex" else {}
        outs[graph] = _study(world, **kw).report(
            tmp_path / graph, hexaccess.ReportOptions(html=False)
        )
    names = {g: sorted(p.name for p in (tmp_path / g).iterdir()) for g in outs}
    assert names["hex"] == names["road"]
    for table in ("offices.csv", "municipalities.csv", "coverage.csv", "bands_all.csv"):
        road = pd.read_csv(tmp_path / "road" / table)
        hexa = pd.read_csv(tmp_path / "hex" / table)
        assert list(road.columns) == list(hexa.columns), table
    summary = json.loads((tmp_path / "hex" / "summary.json").read_text())
    assert summary["network"]["method"] == "hexagon friction graph"
    assert summary["population_total"] == pytest.approx(pd.read_csv(world.population)["T"].sum())


def test_several_networks_are_solved_on_one_graph(tmp_path):
    world = tiny_world(tmp_path)
    two = tmp_path / "two.csv"
    pd.read_csv(world.offices).iloc[:2].to_csv(two, index=False)
    study = hexaccess.Study(
        population=world.population, roads=world.roads,
        offices={"three": world.offices, "two": two},
        municipality_table=world.municipality_table,
    )  # fmt: skip
    results = study.solve_all()
    assert list(results) == ["three", "two"]
    assert results["two"].summary()["offices"] == 2
    assert results["two"].access is results["three"].access  # one engine graph
    # Removing an office can only lengthen trips.
    a, b = results["three"].cells.time_s, results["two"].cells.time_s
    ok = np.isfinite(a) & np.isfinite(b)
    assert (b[ok] >= a[ok]).all()


def test_catchments_and_municipalities_come_with_the_result(tmp_path):
    world = tiny_world(tmp_path)
    result = _study(world).solve()
    catch = result.catchments()
    cells = result.cells
    reached = cells[cells.reached]
    expected = reached.groupby("office_name")["total"].sum()
    got = catch.set_index("name")["population"]
    np.testing.assert_allclose(got.loc[expected.index], expected)
    munis = result.municipalities()
    assert munis["population"].sum() == pytest.approx(cells["total"].sum())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"graph": "tram"}, "graph must be one of"),
        ({"hex_resolution": 9}, "apply to the hexagon graph only"),
        ({"resolution": 16}, "H3 resolution 0..15"),
        ({"resolution": 8.5}, "whole number"),
        ({"backend": "gpu"}, "backend must be"),
        ({"population_columns": []}, "population_columns"),
        ({"offices": {}}, "names no office network"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_read(tmp_path, kwargs, match):
    args = {"population": tmp_path / "absent.csv", "roads": None, "offices": "o.csv", **kwargs}
    with pytest.raises(hexaccess.HexaccessError, match=match):
        hexaccess.Study(**args)


def test_an_unknown_network_name_is_an_error(tmp_path):
    world = tiny_world(tmp_path)
    with pytest.raises(hexaccess.ScenarioError, match="no office network 'nope'"):
        _study(world).solve("nope")
