"""Road network readers and graph helpers.

Expected node counts, lengths and times of the hand-made files are derived by hand (in
comments) from the geometry written in each test, not from the code under test.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyogrio.raw as pyogrio_raw
import pytest
import scipy.sparse.csgraph as sp_csgraph
import shapely
from fixtures.shared import SHARED_DATA
from scipy.sparse import coo_matrix

from hexaccess.network import (
    RoadDataError,
    apply_urban_slowdown,
    apply_urban_slowdown_polygons,
    connect_points,
    diagnostics,
    read_osm_pbf,
    read_roads,
)
from hexaccess.profiles import load_profile

SHARED = SHARED_DATA
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"shared reference data not found at {SHARED}"
)

CAR = load_profile("car_fi")
V = {lvl: CAR.speed_kmh("IGDS_LEVEL", lvl) / 3.6 for lvl in (21, 22, 23, 26)}  # m/s
X0, Y0 = 400_000.0, 6_700_000.0  # somewhere in Finland, EPSG:3067


def _xy(*pts: tuple[float, float]) -> list[tuple[float, float]]:
    return [(X0 + x, Y0 + y) for x, y in pts]


def _write(path: Path, geoms: list, fields: dict, crs: str | None = "EPSG:3067", **kw) -> None:
    names = list(fields)
    data = [np.asarray(fields[n]) for n in names]
    pyogrio_raw.write(
        str(path),
        shapely.to_wkb(np.asarray(geoms, dtype=object)),
        data,
        names,
        crs=crs,
        geometry_type=kw.pop("geometry_type", "MultiLineString"),
        **kw,
    )


# Hand-made network (metres, relative to X0, Y0):
#   A(0,0)  B(1000,0)  C(1000,1000)  D(0,1000)  E(3000,0)  F(4000,0)  G(5000,5000) H(5000,6000)
# row 0  A-B   level 23, straight                      1000 m
# row 1  B-C   level 22, via (1300,500): 2*sqrt(300²+500²)
# row 2  C-D'  level 21, oneway=yes, D' = D + (0.02, 0): 999.98 m (D' snaps onto D at 0.1 m)
# row 3  D-A   level 21, via (-300,1000),(-300,0): 1600 m, oneway=-1 (allowed A -> D)
# row 4  B-E   level 24 ferry                         2000 m, 2000 / v_ferry + boarding
# row 5  multi: E-F (1000 m) and G-H (1000 m, an island), level 21
# => 8 nodes, 7 edges, 2 weak components, D has no way out (one-way trap).
L1 = 2 * math.hypot(300, 500)
HAND = {
    "geoms": [
        shapely.LineString(_xy((0, 0), (1000, 0))),
        shapely.LineString(_xy((1000, 0), (1300, 500), (1000, 1000))),
        shapely.LineString(_xy((1000, 1000), (0.02, 1000))),
        shapely.LineString(_xy((0, 1000), (-300, 1000), (-300, 0), (0, 0))),
        shapely.LineString(_xy((1000, 0), (3000, 0))),
        shapely.MultiLineString([_xy((3000, 0), (4000, 0)), _xy((5000, 5000), (5000, 6000))]),
    ],
    "fields": {
        "IGDS_LEVEL": np.array([23, 22, 21, 21, 24, 21], dtype=np.int32),
        "ONEWAY": np.array(["no", "", "yes", "-1", "no", "no"], dtype=object),
    },
}
EXPECT_LEN = [1000.0, L1, 999.98, 1600.0, 2000.0, 1000.0, 1000.0]
EXPECT_TIME = [
    1000 / V[23],
    L1 / V[22],
    999.98 / V[21],
    1600 / V[21],
    2000 / (CAR.ferry_speed_kmh / 3.6) + CAR.ferry_boarding_s,
    1000 / V[21],
    1000 / V[21],
]


@pytest.fixture(params=["shp", "gpkg"])
def hand_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / f"roads.{request.param}"
    _write(path, HAND["geoms"], HAND["fields"])
    return path


def _node_at(net, x: float, y: float) -> int:
    d = np.hypot(net.x - (X0 + x), net.y - (Y0 + y))
    assert d.min() < 0.05
    return int(np.argmin(d))


def _dijkstra(net, src: int) -> np.ndarray:
    tail, head, t, _ = net.to_edge_arrays()
    # parallel arcs: keep the fastest (csgraph sums duplicates in coo->csr)
    key = tail * net.num_nodes + head
    order = np.lexsort((t, key))
    first = np.concatenate([[True], np.diff(key[order]) != 0])
    sel = order[first]
    g = coo_matrix((t[sel], (tail[sel], head[sel])), shape=(net.num_nodes,) * 2).tocsr()
    return sp_csgraph.dijkstra(g, directed=True, indices=src)


def test_hand_network_nodes_lengths_times(hand_file: Path) -> None:
    net = read_roads(hand_file, CAR, split_at_vertices=False)
    assert net.class_column == "IGDS_LEVEL"  # auto-detected
    assert net.meta["oneway_column"] == "ONEWAY"
    assert net.crs == "EPSG:3067"
    assert net.num_nodes == 8
    assert net.num_edges == 7
    assert np.array_equal(net.source_row, [0, 1, 2, 3, 4, 5, 5])
    np.testing.assert_allclose(net.length_m, EXPECT_LEN, rtol=1e-9)
    np.testing.assert_allclose(net.time_s, EXPECT_TIME, rtol=1e-9)
    assert net.ferry.tolist() == [False, False, False, False, True, False, False]
    assert net.oneway.tolist() == [False, False, True, True, False, False, False]
    a, _b, c, d = (_node_at(net, *p) for p in [(0, 0), (1000, 0), (1000, 1000), (0, 1000)])
    # row 2 runs C -> D; row 3 was drawn D -> A with oneway=-1, so the edge is A -> D
    assert (net.tail[2], net.head[2]) == (c, d)
    assert (net.tail[3], net.head[3]) == (a, d)
    # midpoint of row 1 is its shape point (the two halves are equally long)
    assert net.mid_x[1] == pytest.approx(X0 + 1300) and net.mid_y[1] == pytest.approx(Y0 + 500)

    tail, head, _, _ = net.to_edge_arrays()
    assert tail.size == 7 + 5  # five two-way edges get a reverse arc
    assert np.array_equal(tail[:7], net.tail) and np.array_equal(head[7:], net.tail[~net.oneway])
    with pytest.raises(ValueError, match="one-way"):
        net.to_edge_arrays(both_directions=False)

    dist = _dijkstra(net, a)
    assert dist[c] == pytest.approx(EXPECT_TIME[0] + EXPECT_TIME[1])
    assert dist[d] == pytest.approx(min(EXPECT_TIME[3], dist[c] + EXPECT_TIME[2]))
    assert np.isinf(dist[_node_at(net, 5000, 5000)])  # island
    assert np.isinf(_dijkstra(net, d)[a])  # D is a one-way trap

    diag = diagnostics(net, node_weights=np.arange(8.0), source_nodes=[a])
    comps = diag["components"]
    assert comps["nodes"].tolist() == [6, 2]
    assert comps["edges"].tolist() == [6, 1]
    assert comps["km"].sum() == pytest.approx(sum(EXPECT_LEN) / 1000)
    assert comps["weight"].sum() == pytest.approx(28.0)
    island = diag["islands_without_source"]
    assert len(island) == 1 and island["nodes"].iloc[0] == 2
    g, h = _node_at(net, 5000, 5000), _node_at(net, 5000, 6000)
    assert island["weight"].iloc[0] == g + h
    assert diag["km_by_class"].sum() == pytest.approx(diag["total_km"])
    assert diag["km_by_class"]["ferry:24"] == pytest.approx(2.0)
    assert diag["km_by_class"]["21"] == pytest.approx((999.98 + 1600 + 2000) / 1000)
    # strong components: the main part minus the trap D, plus single nodes G, H
    assert diag["nodes_outside_largest_strong"] == 3
    lon, lat = net.node_lonlat()
    assert np.all((lon > 20) & (lon < 32) & (lat > 59) & (lat < 71))


def test_snap_tolerance_controls_merging(tmp_path: Path) -> None:
    path = tmp_path / "r.shp"
    _write(path, HAND["geoms"], HAND["fields"])
    # at 0.01 m the 0.02 m gap between C-D' and D-A is no longer closed: one more node
    assert read_roads(path, CAR, snap_m=0.01, split_at_vertices=False).num_nodes == 9


def test_class_column_luokka_and_explicit(tmp_path: Path) -> None:
    path = tmp_path / "r.gpkg"
    fields = dict(HAND["fields"])
    fields["LUOKKA"] = np.array([12112, 12121, 12131, 12131, 0, 12132], dtype=np.int32)
    _write(path, HAND["geoms"], fields)
    net = read_roads(path, "car_fi", class_column="LUOKKA", split_at_vertices=False)
    v = CAR.class_speeds_kmh["LUOKKA"]
    assert net.time_s[0] == pytest.approx(1000 / (v["12112"] / 3.6))
    # the ferry is detected through IGDS_LEVEL although the class column is LUOKKA
    assert net.ferry[4] and net.time_s[4] == pytest.approx(EXPECT_TIME[4])


def test_excluded_classes_are_counted_not_silent(tmp_path: Path) -> None:
    path = tmp_path / "r.shp"
    fields = dict(HAND["fields"])
    fields["IGDS_LEVEL"] = np.array([26, 22, 21, 21, 24, 21], dtype=np.int32)
    _write(path, HAND["geoms"], fields)
    # motorways are excluded for pedestrians
    walk = read_roads(path, "walk", split_at_vertices=False)
    assert walk.num_edges == 6
    assert walk.meta["excluded"] == {"26": {"lines": 1, "km": pytest.approx(1.0)}}
    assert not walk.oneway.any()  # walking ignores one-way
    assert walk.num_nodes == 8  # A and B still used by other edges


def test_unknown_class_error_names_values_rows_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "r.shp"
    fields = dict(HAND["fields"])
    fields["IGDS_LEVEL"] = np.array([23, 99, 21, 21, 24, 99], dtype=np.int32)
    _write(path, HAND["geoms"], fields)
    with pytest.raises(RoadDataError) as e:
        read_roads(path, CAR)
    msg = str(e.value)
    assert str(path) in msg and "'99' (3 rows, first row 1)" in msg  # row 5 has 2 parts
    assert "[speeds_kmh.IGDS_LEVEL]" in msg and "with_overrides" in msg
    # the suggested fix works
    net = read_roads(
        path, CAR.with_overrides(speeds_kmh__IGDS_LEVEL__99=50), split_at_vertices=False
    )
    assert net.time_s[1] == pytest.approx(L1 / (50 / 3.6))


def test_missing_column_non_line_and_crs_errors(tmp_path: Path) -> None:
    path = tmp_path / "r.shp"
    _write(path, HAND["geoms"], {"KIND": np.array([1, 2, 3, 4, 5, 6], dtype=np.int32)})
    with pytest.raises(RoadDataError, match="none of the class columns"):
        read_roads(path, CAR)
    with pytest.raises(RoadDataError, match="class column 'IGDS' missing"):
        read_roads(path, CAR, class_column="IGDS")
    with pytest.raises(RoadDataError, match="no speed table for class column 'KIND'"):
        read_roads(path, CAR, class_column="KIND")

    gp = tmp_path / "mixed.gpkg"
    geoms = [*HAND["geoms"][:2], shapely.Point(X0, Y0)]
    _write(gp, geoms, {"IGDS_LEVEL": np.array([23, 22, 21])}, geometry_type="Unknown")
    with pytest.raises(RoadDataError, match=r"rows 2 are not lines \(geometry types \['Point'\]"):
        read_roads(gp, CAR)

    nocrs = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        _write(nocrs, HAND["geoms"], HAND["fields"], crs=None)
    with pytest.raises(RoadDataError, match="unknown CRS"):
        read_roads(nocrs, CAR)
    assert read_roads(nocrs, CAR, crs="EPSG:3067", split_at_vertices=False).num_nodes == 8

    bad_ow = tmp_path / "ow.shp"
    fields = dict(HAND["fields"])
    fields["ONEWAY"] = np.array(["no", "maybe", "yes", "no", "no", "no"], dtype=object)
    _write(bad_ow, HAND["geoms"], fields)
    with pytest.raises(RoadDataError, match=r"'maybe' \(rows 1\)"):
        read_roads(bad_ow, CAR)


def test_geographic_input_is_reprojected_with_geodesic_lengths(tmp_path: Path) -> None:
    import pyproj

    # two lines in WGS84 sharing an end point; compare with the planar length in
    # TM35FIN (scale factor 0.9996 at 27°E, so true lengths are within ~0.1 %)
    pts = [(27.0, 62.0), (27.0, 62.01), (27.02, 62.01)]
    geoms = [shapely.LineString(pts[:2]), shapely.LineString(pts[1:])]
    path = tmp_path / "wgs.gpkg"
    _write(path, geoms, {"IGDS_LEVEL": np.array([22, 21])}, crs="EPSG:4326")
    net = read_roads(path, CAR, split_at_vertices=False)
    assert net.num_nodes == 3
    assert pyproj.CRS(net.crs).is_projected and "UTM zone 35N" in pyproj.CRS(net.crs).name
    tm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3067", always_xy=True)
    planar = [
        shapely.length(shapely.LineString([tm.transform(*p) for p in g.coords])) / 0.9996
        for g in geoms
    ]
    np.testing.assert_allclose(net.length_m, planar, rtol=1e-3)
    lon, lat = net.node_lonlat()
    assert sorted(zip(np.round(lon, 6), np.round(lat, 6), strict=True)) == sorted(pts)


def test_geoparquet_roads(tmp_path: Path) -> None:
    """GeoParquet loads with or without GDAL's Parquet driver (pyarrow fallback)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyproj import CRS

    wkb = shapely.to_wkb(np.asarray(HAND["geoms"], dtype=object))
    table = pa.table(
        {name: pa.array(list(values)) for name, values in HAND["fields"].items()}
        | {"geometry": pa.array(list(wkb), type=pa.binary())}
    )
    crs = json.loads(CRS.from_epsg(3067).to_json())  # GeoParquet stores PROJJSON
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "crs": crs}},
    }
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    path = tmp_path / "roads.parquet"
    pq.write_table(table, path)
    net = read_roads(path, CAR, split_at_vertices=False)
    np.testing.assert_allclose(net.length_m, EXPECT_LEN, rtol=1e-9)


def test_urban_slowdown_and_connect_points(tmp_path: Path) -> None:
    path = tmp_path / "r.shp"
    _write(path, HAND["geoms"], HAND["fields"])
    net = read_roads(path, CAR, split_at_vertices=False)
    th, fa = CAR.urban_density_thresholds, CAR.urban_factors
    # density: very high west of x = X0 + 600, zero elsewhere; midpoints by hand:
    # row 0 (500, 0), row 1 (1300, 500), row 2 (500.01, 1000), row 3 (-300, 500), rest east
    slow = apply_urban_slowdown(net, lambda x, y: np.where(x < X0 + 600, 1e6, 0.0))
    west = net.mid_x < X0 + 600
    assert west.tolist() == [True, False, True, True, False, False, False]
    assert net.mid_x[3] == pytest.approx(X0 - 300) and net.mid_y[3] == pytest.approx(Y0 + 500)
    np.testing.assert_allclose(slow.time_s[west], net.time_s[west] / fa[-1])
    np.testing.assert_allclose(slow.time_s[~west], net.time_s[~west])
    assert th[-1] < 1e6
    with pytest.raises(ValueError, match="already applied"):
        apply_urban_slowdown(slow, lambda x, y: np.zeros_like(x))
    # ferries are never slowed
    f = apply_urban_slowdown(net, lambda x, y: np.full_like(x, 1e6))
    assert f.time_s[4] == net.time_s[4]
    poly = shapely.box(X0 + 900, Y0 - 10, X0 + 1400, Y0 + 1010)  # contains row 1's midpoint
    p = apply_urban_slowdown_polygons(net, [poly], 0.5)
    assert p.time_s[1] == pytest.approx(2 * net.time_s[1])
    assert np.array_equal(p.time_s[[0, 2, 3, 4, 5, 6]], net.time_s[[0, 2, 3, 4, 5, 6]])

    far = CAR.max_access_distance_m + 1000
    x = np.array([X0 + 30, X0 + 1000, X0 - far, np.nan])
    y = np.array([Y0 + 40, Y0 + 1000, Y0, Y0])
    con = connect_points(net, x, y)
    a, c = _node_at(net, 0, 0), _node_at(net, 1000, 1000)
    assert con["node"].tolist()[:2] == [a, c] and con["node"].iloc[3] == -1
    assert con["distance_m"].iloc[0] == pytest.approx(50.0)
    assert con["access_length_m"].iloc[0] == pytest.approx(50.0 * CAR.access_detour_factor)
    assert con["access_time_s"].iloc[0] == pytest.approx(
        50.0 * CAR.access_detour_factor / (CAR.access_speed_kmh / 3.6)
    )
    assert con["connected"].tolist() == [True, True, False, False]  # reported, not dropped
    only_island = np.zeros(net.num_nodes, bool)
    only_island[_node_at(net, 5000, 5000)] = True
    assert connect_points(net, x[:1], y[:1], node_mask=only_island)["node"].iloc[0] == (
        _node_at(net, 5000, 5000)
    )


# ----------------------------------------------------------------------- OSM
def _haversine(lon1, lat1, lon2, lat2) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


# nodes (lon, lat) near Helsinki, ~55 m per 0.001° lon, ~111 m per 0.001° lat
OSM_NODES = {
    1: (25.000, 60.000),
    2: (25.001, 60.0005),  # shape point of way 10 only
    3: (25.002, 60.000),
    4: (25.002, 60.001),
    5: (25.004, 60.000),  # shape point for cars, junction for walking (footway 12)
    6: (25.006, 60.000),
    7: (25.010, 60.000),  # only in way 14 (ferry) and way 15
}
OSM_WAYS = {
    10: ([1, 2, 3], {"highway": "residential"}),
    11: ([3, 4], {"highway": "residential", "oneway": "yes"}),
    12: ([4, 5], {"highway": "footway"}),
    13: ([3, 5, 6], {"highway": "primary"}),
    14: ([6, 7], {"route": "ferry"}),
    15: ([7, 1], {"highway": "service", "access": "private"}),
    16: ([1, 4], {"highway": "busy_unknown_tag"}),
    17: ([7, 6], {"building": "yes"}),
}


def _seg(a: int, b: int) -> float:
    return _haversine(*OSM_NODES[a], *OSM_NODES[b])


@pytest.fixture
def osm_file(tmp_path: Path) -> Path:
    import osmium

    path = tmp_path / "tiny.osm.pbf"
    w = osmium.SimpleWriter(str(path))
    for nid, loc in OSM_NODES.items():
        w.add_node(osmium.osm.mutable.Node(id=nid, location=loc, tags={}))
    for wid, (nodes, tags) in OSM_WAYS.items():
        w.add_way(osmium.osm.mutable.Way(id=wid, nodes=nodes, tags=tags))
    w.close()
    return path


def test_osm_tiny_car(osm_file: Path) -> None:
    with pytest.warns(UserWarning, match="busy_unknown_tag"):
        net = read_osm_pbf(osm_file, "car_fi", split_at_vertices=False)
    refs = net.meta["node_refs"]
    # graph nodes: 1, 3, 4 (way ends), 6 (end of 13 and 14), 7 (ferry end); 2 and 5 folded
    assert refs.tolist() == [1, 3, 4, 6, 7]
    assert net.meta["excluded"] == {"footway": 1}
    assert net.meta["access_forbidden"] == {"service:private": 1}
    assert net.meta["unknown_highway"] == {"busy_unknown_tag": 1}
    pairs = zip(refs[net.tail].tolist(), refs[net.head].tolist(), strict=True)
    edges = {pair: i for i, pair in enumerate(pairs)}
    assert set(edges) == {(1, 3), (3, 4), (3, 6), (6, 7)}
    e13, e34, e36, e67 = (edges[k] for k in [(1, 3), (3, 4), (3, 6), (6, 7)])
    assert net.length_m[e13] == pytest.approx(_seg(1, 2) + _seg(2, 3), rel=5e-3)
    assert net.length_m[e36] == pytest.approx(_seg(3, 5) + _seg(5, 6), rel=5e-3)
    v = CAR.class_speeds_kmh["highway"]
    assert net.time_s[e36] == pytest.approx(net.length_m[e36] / (v["primary"] / 3.6))
    assert net.oneway[e34] and not net.oneway[e13]
    assert net.ferry[e67] and net.time_s[e67] == pytest.approx(
        net.length_m[e67] / (CAR.ferry_speed_kmh / 3.6) + CAR.ferry_boarding_s
    )
    assert net.source_row[e36] == 13
    # midpoint of 1-2-3 (symmetric) is node 2
    lon, _ = net.node_lonlat()
    assert lon[refs.tolist().index(1)] == pytest.approx(25.0, abs=1e-7)


def test_osm_tiny_walk_and_reverse_oneway(tmp_path: Path, osm_file: Path) -> None:
    with pytest.warns(UserWarning, match="busy_unknown_tag"):
        net = read_osm_pbf(osm_file, "walk", split_at_vertices=False)
    # footway 12 makes 4 and 5 junctions; oneway ignored for walking; no private road
    assert net.meta["node_refs"].tolist() == [1, 3, 4, 5, 6, 7]
    assert net.num_edges == 6 and not net.oneway.any()
    import osmium

    path = tmp_path / "rev.osm.pbf"
    w = osmium.SimpleWriter(str(path))
    for nid in (1, 2, 3):
        w.add_node(osmium.osm.mutable.Node(id=nid, location=OSM_NODES[nid], tags={}))
    w.add_way(
        osmium.osm.mutable.Way(id=1, nodes=[1, 2, 3], tags={"highway": "primary", "oneway": "-1"})
    )
    w.close()
    rev = read_osm_pbf(path, "car_fi", split_at_vertices=False)
    refs = rev.meta["node_refs"]
    assert (refs[rev.tail[0]], refs[rev.head[0]]) == (3, 1) and rev.oneway[0]


def _check_osm_graph(net) -> None:
    """Sanity checks of a real OSM graph, derived from geometry and the profile only."""
    assert net.num_nodes > 100 and net.num_edges > 100
    # an edge is never shorter than the straight line between its end nodes
    # (UTM scale < 1 near the central meridian: allow 0.1 %)
    chord = np.hypot(net.x[net.head] - net.x[net.tail], net.y[net.head] - net.y[net.tail])
    assert np.all(net.length_m >= chord * 0.999 - 1e-6)
    diag = diagnostics(net)
    big = diag["components"].index[0]
    nodes = np.flatnonzero(diag["node_component"] == big)
    assert nodes.size > 0.8 * net.num_nodes
    # route between the two main-component nodes farthest apart along x
    a, b = nodes[np.argmin(net.x[nodes])], nodes[np.argmax(net.x[nodes])]
    t = _dijkstra(net, a)
    t_ab = t[b] if np.isfinite(t[b]) else _dijkstra(net, b)[a]
    assert np.isfinite(t_ab)
    vmax = max(net.profile.class_speeds_kmh["highway"].values()) / 3.6
    straight = math.hypot(net.x[b] - net.x[a], net.y[b] - net.y[a])
    assert t_ab >= straight / vmax
    assert t_ab < 3600  # a small town centre: well under an hour


@needs_shared
@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["helsinki_centre", "kotka"])
def test_shared_osm_extracts(name: str) -> None:
    car = read_osm_pbf(SHARED / "osm" / f"{name}.osm.pbf", "car_fi")
    _check_osm_graph(car)
    walk = read_osm_pbf(SHARED / "osm" / f"{name}.osm.pbf", "walk")
    assert walk.length_m.sum() > car.length_m.sum()  # footways add walkable length
    assert car.meta["load_s"] < 10


@needs_shared
@pytest.mark.shared_data
def test_nls_network_loads() -> None:
    path = SHARED / "finland" / "roads_mml_1milj" / "road.shp"
    net = read_roads(path, "car_fi", split_at_vertices=False)
    _, _, _, (level, shape_len) = pyogrio_raw.read(
        str(path), columns=["IGDS_LEVEL", "SHAPE_Leng"], read_geometry=True
    )
    assert net.meta["rows"] == 13_696 == len(level)
    assert net.num_edges == 13_696  # all single-part lines, none excluded for cars
    total_km = net.length_m.sum() / 1000
    assert total_km == pytest.approx(72_897, rel=0.01)  # README
    assert total_km == pytest.approx(shape_len.sum() / 1000, rel=0.01)  # the file's own field
    assert net.ferry.sum() == np.count_nonzero(level == 24)
    diag = diagnostics(net)
    assert diag["km_by_class"].sum() == pytest.approx(total_km)
    comps = diag["components"]
    assert comps["nodes"].sum() == net.num_nodes and comps["edges"].sum() == net.num_edges
    assert comps["nodes"].iloc[0] > 0.99 * net.num_nodes  # one national network
    # Helsinki -> Rovaniemi by the fastest path: at least straight line / max speed,
    # and a plausible drive (under 15 h)
    lon, lat = net.node_lonlat()
    hel = int(np.argmin(np.hypot(lon - 24.94, lat - 60.17)))
    rov = int(np.argmin(np.hypot(lon - 25.73, lat - 66.50)))
    t = _dijkstra(net, hel)[rov]
    straight = math.hypot(net.x[rov] - net.x[hel], net.y[rov] - net.y[hel])
    assert straight / (max(V.values())) <= t < 15 * 3600
    assert net.meta["load_s"] < 10


# ------------------------------------------------------- splitting at shape points
# Lines with shape points (metres relative to X0, Y0; end points A..H as in HAND, plus
# J(500,-500) and K(500,500)):
# row 0  A-(500,0)-B            level 23, two-way        segments 500, 500
# row 1  B-(1300,500)-C         level 22                 segments S1, S1 (S1 = |(300,500)|)
# row 2  C-(500,1000)-(500.03,1000)-D'   level 21, oneway=yes, D' = (0.02,1000) snaps onto D;
#        the two middle points share a 0.1 m cell: one node; the 0.03 m between them is
#        added to the edge leaving it: edges 500 and (500.03 - 0.02) + 0.03
# row 3  D-(-300,1000)-(-300,0)-A   level 21, oneway=-1  segments 300, 1000, 300 (allowed A->D)
# row 4  B-(1500,200)-(2500,-200)-E  ferry               segments F1, F2, F1
#        (F1 = |(500,200)|, F2 = |(1000,400)|); boarding paid on the first only
# row 5  multi: E-F (1000) and G-(5000,5500)-H (500, 500), level 21
# row 6  J-(500,0)-K             level 21, crosses row 0 at row 0's shape point (a bridge:
#        no junction, so J-K stays its own component)
# => end-point nodes A B C D E F G H J K = 10; shape-point nodes 1+1+1+2+2+1+1 = 9;
#    edges 2+2+2+3+3+1+2+2 = 17 (unsplit: 10 nodes, 8 edges)
S1 = math.hypot(300, 500)
F1, F2 = math.hypot(500, 200), math.hypot(1000, 400)
V_FERRY = CAR.ferry_speed_kmh / 3.6
SPLIT = {
    "geoms": [
        shapely.LineString(_xy((0, 0), (500, 0), (1000, 0))),
        shapely.LineString(_xy((1000, 0), (1300, 500), (1000, 1000))),
        shapely.LineString(_xy((1000, 1000), (500, 1000), (500.03, 1000), (0.02, 1000))),
        shapely.LineString(_xy((0, 1000), (-300, 1000), (-300, 0), (0, 0))),
        shapely.LineString(_xy((1000, 0), (1500, 200), (2500, -200), (3000, 0))),
        shapely.MultiLineString(
            [_xy((3000, 0), (4000, 0)), _xy((5000, 5000), (5000, 5500), (5000, 6000))]
        ),
        shapely.LineString(_xy((500, -500), (500, 0), (500, 500))),
    ],
    "fields": {
        "IGDS_LEVEL": np.array([23, 22, 21, 21, 24, 21, 21], dtype=np.int32),
        "ONEWAY": np.array(["no", "", "yes", "-1", "no", "no", "no"], dtype=object),
    },
}
SPLIT_ROW = [0, 0, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6]
SPLIT_LEN = [500, 500, S1, S1, 500, (500.03 - 0.02) + 0.03, 300, 1000, 300, F1, F2, F1]
SPLIT_LEN += [1000, 500, 500, 500, 500]
SPLIT_SPEED = [V[23]] * 2 + [V[22]] * 2 + [V[21]] * 5 + [V_FERRY] * 3 + [V[21]] * 5
SPLIT_TIME = [length / v for length, v in zip(SPLIT_LEN, SPLIT_SPEED, strict=True)]
SPLIT_TIME[9] += CAR.ferry_boarding_s  # first ferry segment only
END_POINTS = [(0, 0), (1000, 0), (1000, 1000), (0, 1000), (3000, 0), (4000, 0)]
END_POINTS += [(5000, 5000), (5000, 6000), (500, -500), (500, 500)]


def _all_pairs(net, nodes: list[int]) -> np.ndarray:
    return np.vstack([_dijkstra(net, s)[nodes] for s in nodes])


def test_split_at_vertices_hand_network(tmp_path: Path) -> None:
    path = tmp_path / "split.gpkg"
    _write(path, SPLIT["geoms"], SPLIT["fields"])
    whole = read_roads(path, CAR, split_at_vertices=False)
    net = read_roads(path, CAR, split_at_vertices=True)
    assert (whole.num_nodes, whole.num_edges) == (10, 8)
    assert (net.num_nodes, net.num_edges) == (19, 17)
    assert net.source_row.tolist() == SPLIT_ROW
    np.testing.assert_allclose(net.length_m, SPLIT_LEN, rtol=1e-9)
    np.testing.assert_allclose(net.time_s, SPLIT_TIME, rtol=1e-9)
    assert net.ferry.tolist() == [r == 4 for r in SPLIT_ROW]
    assert net.oneway.tolist() == [r in (2, 3) for r in SPLIT_ROW]
    assert net.road_class.tolist() == [SPLIT["fields"]["IGDS_LEVEL"][r] for r in SPLIT_ROW]
    # line lengths and the time of the whole ferry crossing (one boarding) are kept
    np.testing.assert_allclose(net.length_m.sum(), whole.length_m.sum(), rtol=1e-12)
    ferry_t = net.time_s[net.ferry].sum()
    assert ferry_t == pytest.approx((2 * F1 + F2) / V_FERRY + CAR.ferry_boarding_s, rel=1e-9)
    assert ferry_t == pytest.approx(whole.time_s[whole.ferry].sum(), rel=1e-9)

    # nodes: end points first, in the unsplit order and at the unsplit coordinates
    assert net.meta["end_point_nodes"] == 10
    assert np.array_equal(net.x[:10], whole.x) and np.array_equal(net.y[:10], whole.y)
    assert net.meta["shape_point"].tolist() == [False] * 10 + [True] * 9
    ferry_pts = sorted(_node_at(net, *p) for p in [(1500, 200), (2500, -200)])
    assert np.flatnonzero(net.meta["ferry_shape_point"]).tolist() == ferry_pts
    assert net.meta["collapsed_segments"] == 1
    assert net.meta["collapsed_km"] == pytest.approx(0.03 / 1000, rel=1e-6)
    assert net.meta["shape_points_at_other_nodes"] == 2  # (500, 0) of rows 0 and 6

    # directions: row 2 (oneway=yes) runs as drawn, row 3 (oneway=-1) against it
    a, c, d = (_node_at(net, *p) for p in [(0, 0), (1000, 1000), (0, 1000)])
    p = _node_at(net, 500, 1000)
    assert (net.tail[4], net.head[4], net.head[5]) == (c, p, d)
    assert (net.tail[8], net.head[8]) == (a, _node_at(net, -300, 0))
    assert (net.tail[6], net.head[6]) == (_node_at(net, -300, 1000), d)
    # segment midpoints
    assert (net.mid_x[0], net.mid_y[0]) == pytest.approx((X0 + 250, Y0))
    assert (net.mid_x[10], net.mid_y[10]) == pytest.approx((X0 + 2000, Y0))

    # shortest times between all end points: the same as without splitting (scipy)
    ends_w = [_node_at(whole, *q) for q in END_POINTS]
    ends_s = [_node_at(net, *q) for q in END_POINTS]
    t_whole, t_split = _all_pairs(whole, ends_w), _all_pairs(net, ends_s)
    np.testing.assert_allclose(t_split, t_whole, rtol=1e-12)
    assert np.isfinite(t_split).sum() == np.isfinite(t_whole).sum()
    b, e = ends_s[1], ends_s[4]
    assert t_split[1, 4] == pytest.approx(
        (2 * F1 + F2) / V_FERRY + CAR.ferry_boarding_s, rel=1e-12
    )  # B -> E: one boarding
    assert t_split[0, 3] == pytest.approx(1600 / V[21], rel=1e-12)  # A -> D along row 3
    assert np.isinf(t_split[3, 0])  # D is a one-way trap
    assert np.isinf(t_split[8, 0])  # J: no junction with row 0 at (500, 0)
    # ... whereas the shape points are now reachable on their own. Shape points are
    # numbered in file order: row 0's (500, 0) is node 10, row 6's (500, 0) is node 18
    assert _node_at(net, 500, 0) == 10
    assert (net.x[18], net.y[18]) == (net.x[10], net.y[10])
    t_a = _dijkstra(net, a)
    assert t_a[10] == pytest.approx(500 / V[23]) and np.isinf(t_a[18])
    assert t_a[_node_at(net, 1500, 200)] == pytest.approx(
        1000 / V[23] + F1 / V_FERRY + CAR.ferry_boarding_s
    )
    assert b != e
    diag = diagnostics(net)
    assert diag["self_loops"] == 0
    # main: A-F and 7 shape points; G-H and J-K with one shape point each
    assert diag["components"]["nodes"].tolist() == [13, 3, 3]


def test_split_at_vertices_excluded_rows_and_walk(tmp_path: Path) -> None:
    path = tmp_path / "split.shp"
    fields = dict(SPLIT["fields"])
    fields["IGDS_LEVEL"] = np.array([26, 22, 21, 21, 24, 21, 21], dtype=np.int32)
    _write(path, SPLIT["geoms"], fields)
    walk = read_roads(path, "walk", split_at_vertices=True)
    # row 0 (motorway) is excluded for walking: its 2 edges and its shape point go; its
    # end points A and B stay (rows 1, 3, 4); nothing coincides with row 6's point now
    assert (walk.num_nodes, walk.num_edges) == (18, 15)
    assert walk.meta["excluded"] == {"26": {"lines": 1, "km": pytest.approx(1.0)}}
    assert walk.meta["shape_points_at_other_nodes"] == 0
    assert not walk.oneway.any()
    assert 0 not in walk.source_row.tolist()


def test_split_at_vertices_geographic_lengths(tmp_path: Path) -> None:
    pts = [(27.0, 62.0), (27.0, 62.01), (27.02, 62.01), (27.03, 62.02)]
    path = tmp_path / "wgs.gpkg"
    geoms = [shapely.LineString(pts[:3]), shapely.LineString(pts[2:])]
    _write(path, geoms, {"IGDS_LEVEL": np.array([22, 21])}, crs="EPSG:4326")
    whole = read_roads(path, CAR, split_at_vertices=False)
    net = read_roads(path, CAR, split_at_vertices=True)
    assert (net.num_nodes, net.num_edges) == (4, 3)
    # geodesic segment lengths add up to the geodesic line lengths
    per_line = np.bincount(net.source_row, weights=net.length_m)
    np.testing.assert_allclose(per_line, whole.length_m, rtol=1e-12)
    # the first segment runs due north: 0.01° of latitude at 62°N is ~1.113 km
    assert net.length_m[0] == pytest.approx(1113, rel=2e-3)


def test_osm_split_at_vertices(tmp_path: Path, osm_file: Path) -> None:
    with pytest.warns(UserWarning, match="busy_unknown_tag"):
        net = read_osm_pbf(osm_file, "car_fi", split_at_vertices=True)
    refs = net.meta["node_refs"]
    # every node of a kept way is a node now: 2 and 5 too; edges 1-2, 2-3, 3-4, 3-5, 5-6, 6-7
    assert refs.tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert net.meta["shape_point"].tolist() == [r in (2, 5) for r in refs]
    pairs = zip(refs[net.tail].tolist(), refs[net.head].tolist(), strict=True)
    edges = {pair: i for i, pair in enumerate(pairs)}
    assert set(edges) == {(1, 2), (2, 3), (3, 4), (3, 5), (5, 6), (6, 7)}
    for a, b in edges:
        assert net.length_m[edges[a, b]] == pytest.approx(_seg(a, b), rel=5e-3)
    assert net.source_row[edges[5, 6]] == 13 and net.source_row[edges[1, 2]] == 10

    # a ferry route with a node in the middle of the water: boarding paid once
    import osmium

    nodes = {1: (25.0, 60.0), 2: (25.001, 60.0005), 3: (25.002, 60.0), 8: (25.004, 60.002)}
    nodes[9] = (25.006, 60.0)
    path = tmp_path / "ferry.osm.pbf"
    w = osmium.SimpleWriter(str(path))
    for nid, loc in nodes.items():
        w.add_node(osmium.osm.mutable.Node(id=nid, location=loc, tags={}))
    w.add_way(osmium.osm.mutable.Way(id=30, nodes=[1, 2, 3], tags={"highway": "primary"}))
    w.add_way(osmium.osm.mutable.Way(id=31, nodes=[3, 8, 9], tags={"route": "ferry"}))
    w.close()
    whole = read_osm_pbf(path, "car_fi", split_at_vertices=False)
    split = read_osm_pbf(path, "car_fi", split_at_vertices=True)
    assert (whole.num_nodes, whole.num_edges, split.num_nodes, split.num_edges) == (3, 2, 5, 4)
    f = split.ferry
    assert f.sum() == 2
    ferry_len = _haversine(*nodes[3], *nodes[8]) + _haversine(*nodes[8], *nodes[9])
    assert split.time_s[f].sum() == pytest.approx(
        ferry_len / V_FERRY + CAR.ferry_boarding_s, rel=5e-3
    )
    assert split.time_s[f].sum() == pytest.approx(whole.time_s[whole.ferry].sum(), rel=1e-12)
    srefs = split.meta["node_refs"]
    assert srefs[split.meta["ferry_shape_point"]].tolist() == [8]
    wrefs = whole.meta["node_refs"]
    s1, s9 = (int(np.searchsorted(srefs, r)) for r in (1, 9))
    w1, w9 = (int(np.searchsorted(wrefs, r)) for r in (1, 9))
    assert _dijkstra(split, s1)[s9] == pytest.approx(_dijkstra(whole, w1)[w9], rel=1e-12)
    assert _dijkstra(split, s9)[s1] == pytest.approx(_dijkstra(whole, w9)[w1], rel=1e-12)


@needs_shared
@pytest.mark.shared_data
def test_nls_split_at_vertices_keeps_lengths_and_times() -> None:
    path = SHARED / "finland" / "roads_mml_1milj" / "road.shp"
    whole = read_roads(path, "car_fi", split_at_vertices=False)
    net = read_roads(path, "car_fi", split_at_vertices=True)
    _, _, wkb, (level,) = pyogrio_raw.read(str(path), columns=["IGDS_LEVEL"])
    n_points = shapely.get_num_coordinates(shapely.from_wkb(wkb))
    # one edge per segment between consecutive shape points (minus collapsed ones)
    assert net.num_edges == (n_points - 1).sum() - net.meta["collapsed_segments"]
    assert net.num_edges > 3 * whole.num_edges  # lines average several shape points
    np.testing.assert_allclose(net.length_m.sum(), whole.length_m.sum(), rtol=1e-6)
    np.testing.assert_allclose(
        np.bincount(net.source_row, weights=net.length_m, minlength=whole.num_edges),
        np.bincount(whole.source_row, weights=whole.length_m, minlength=whole.num_edges),
        rtol=1e-9,
    )
    # each edge is a straight segment between its nodes (node coordinates are those of
    # the first point snapped to them: within snap_m of the segment's own ends)
    chord = np.hypot(net.x[net.head] - net.x[net.tail], net.y[net.head] - net.y[net.tail])
    assert np.abs(net.length_m - chord).max() < 2 * net.meta["snap_m"] + 1e-6
    # ferry boarding: once per ferry line
    boarded = net.time_s[net.ferry] - net.length_m[net.ferry] / V_FERRY
    assert np.count_nonzero(boarded > 1.0) == np.count_nonzero(level == 24)
    assert net.time_s.sum() == pytest.approx(whole.time_s.sum(), rel=1e-9)
    # shortest times between junctions: the same on both graphs (scipy, sampled sources)
    k = net.meta["end_point_nodes"]
    assert k == whole.num_nodes
    assert np.array_equal(net.x[:k], whole.x) and np.array_equal(net.y[:k], whole.y)
    rng = np.random.default_rng(5)
    sources = rng.choice(k, 12, replace=False)
    for s in sources:
        tw, ts = _dijkstra(whole, int(s)), _dijkstra(net, int(s))[:k]
        assert np.array_equal(np.isfinite(tw), np.isfinite(ts))
        ok = np.isfinite(tw)
        np.testing.assert_allclose(ts[ok], tw[ok], rtol=1e-9)
    assert net.meta["load_s"] < 10


@needs_shared
@pytest.mark.shared_data
def test_osm_extract_split_keeps_times() -> None:
    path = SHARED / "osm" / "helsinki_centre.osm.pbf"
    whole = read_osm_pbf(path, "car_fi", split_at_vertices=False)
    net = read_osm_pbf(path, "car_fi", split_at_vertices=True)
    assert net.num_nodes > whole.num_nodes
    np.testing.assert_allclose(net.length_m.sum(), whole.length_m.sum(), rtol=1e-9)
    wrefs, srefs = whole.meta["node_refs"], net.meta["node_refs"]
    pos = np.searchsorted(srefs, wrefs)
    assert np.array_equal(srefs[pos], wrefs)  # unsplit nodes are a subset
    assert not net.meta["shape_point"][pos].any()
    assert net.meta["shape_point"].sum() == net.num_nodes - whole.num_nodes
    for s in np.random.default_rng(3).choice(whole.num_nodes, 8, replace=False):
        tw, ts = _dijkstra(whole, int(s)), _dijkstra(net, int(pos[s]))[pos]
        assert np.array_equal(np.isfinite(tw), np.isfinite(ts))
        np.testing.assert_allclose(ts[np.isfinite(tw)], tw[np.isfinite(tw)], rtol=1e-9)


# ------------------------------------------------------------------ GeoParquet / CRS
def _parquet_roads(path: Path, geo: dict | bytes | None, geoms=None, crs_dropped=False) -> Path:
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    wkb = shapely.to_wkb(np.asarray(geoms if geoms is not None else HAND["geoms"], dtype=object))
    n = len(wkb)
    table = pa.table(
        {name: pa.array(list(values)[:n]) for name, values in HAND["fields"].items()}
        | {"geometry": pa.array(list(wkb), type=pa.binary())}
    )
    if geo is not None:
        raw = geo if isinstance(geo, bytes) else json.dumps(geo).encode()
        table = table.replace_schema_metadata({b"geo": raw})
    pq.write_table(table, path)
    return path


def _geo(crs=..., **over) -> dict:
    col = {"encoding": "WKB"}
    if crs is not ...:
        col["crs"] = crs
    return {"version": "1.0.0", "primary_column": "geometry", "columns": {"geometry": col}} | over


@pytest.mark.parametrize(
    ("geo", "match"),
    [
        (b"{not json", "'geo' metadata is not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        ({"version": "1.0.0", "columns": {}}, "needs 'primary_column'"),
        (_geo(primary_column="geom"), "describes no primary column 'geom'"),
        (
            _geo(primary_column="geom", columns={"geom": {"encoding": "WKB"}}),
            "geometry column 'geom' named by the 'geo' metadata is not in the file",
        ),
        (_geo(columns={"geometry": {"encoding": "point"}}), "only WKB-encoded"),
    ],
)
def test_malformed_geoparquet_metadata_is_one_clear_error(tmp_path: Path, geo, match) -> None:
    from hexaccess.geoparquet import GeoParquetError, read_geoparquet
    from hexaccess.population import PopulationInputError, read_square_grid

    # These used to escape as KeyError / JSONDecodeError.
    path = _parquet_roads(tmp_path / "r.parquet", geo)
    with pytest.raises(GeoParquetError, match=match):
        read_geoparquet(path)
    with pytest.raises(RoadDataError, match=match):
        read_roads(path, CAR)
    with pytest.raises(PopulationInputError, match=match):
        read_square_grid(path, ["IGDS_LEVEL"])


def test_geoparquet_null_crs_means_unknown(tmp_path: Path) -> None:
    from hexaccess.geoparquet import read_geoparquet

    # An explicit null CRS used to be read as CRS84 (lon/lat), so TM35FIN metres were
    # taken for degrees; a missing key still means CRS84.
    null = _parquet_roads(tmp_path / "null.parquet", _geo(crs=None))
    assert read_geoparquet(null)[0]["crs"] is None
    assert read_geoparquet(_parquet_roads(tmp_path / "m.parquet", _geo()))[0]["crs"] == "OGC:CRS84"
    with pytest.raises(RoadDataError, match=r"unknown CRS .*crs='EPSG:4326' for lon/lat"):
        read_roads(null, CAR)
    net = read_roads(null, CAR, crs="EPSG:3067", split_at_vertices=False)
    np.testing.assert_allclose(net.length_m, EXPECT_LEN, rtol=1e-9)


def test_geoparquet_reads_only_the_needed_columns(tmp_path: Path) -> None:
    from hexaccess.geoparquet import geoparquet_fields, read_geoparquet

    path = _parquet_roads(tmp_path / "r.parquet", _geo(crs=None))
    assert geoparquet_fields(path) == ["IGDS_LEVEL", "ONEWAY"]
    meta, fids, wkb, fields = read_geoparquet(path, columns=["ONEWAY", "nope"])
    assert meta["fields"] == ["ONEWAY"]
    assert fields[0].tolist() == HAND["fields"]["ONEWAY"].tolist()
    assert fids.tolist() == list(range(6)) and len(wkb) == 6


@pytest.mark.parametrize("suffix", ["gpkg", "parquet"])
def test_metres_declared_as_lon_lat_are_refused(tmp_path: Path, suffix: str) -> None:
    # TM35FIN metres in a file that says (or is told) EPSG:4326: caught before reprojecting.
    if suffix == "gpkg":
        path = tmp_path / "r.gpkg"
        _write(path, HAND["geoms"], HAND["fields"], crs="EPSG:4326")
    else:
        path = _parquet_roads(tmp_path / "r.parquet", _geo())  # no crs key: CRS84
    with pytest.raises(
        RoadDataError, match=r"rows 0, 1, .* outside the domain of .*pass the file's real crs"
    ):
        read_roads(path, CAR)
    assert read_roads(path, CAR, crs="EPSG:3067", split_at_vertices=False).num_nodes == 8


# ------------------------------------------------------------ GeoDataFrame input
def _assert_same_network(a, b) -> None:
    assert a.crs == b.crs and a.class_column == b.class_column
    for name in ("x", "y", "tail", "head", "length_m", "time_s", "mid_x", "mid_y"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("oneway", "ferry", "source_row"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.road_class.tolist() == b.road_class.tolist()
    for arcs_a, arcs_b in zip(a.to_edge_arrays(), b.to_edge_arrays(), strict=True):
        np.testing.assert_array_equal(arcs_a, arcs_b)


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("data", ["hand", "split", "wgs84"])
def test_geodataframe_reads_like_the_same_data_in_a_geopackage(
    tmp_path: Path, data: str, split: bool
) -> None:
    import geopandas as gpd

    if data == "wgs84":
        pts = [(27.0, 62.0), (27.0, 62.01), (27.02, 62.01), (27.03, 62.02)]
        geoms = [shapely.LineString(pts[:3]), shapely.LineString(pts[2:])]
        fields, crs = {"IGDS_LEVEL": np.array([22, 21], dtype=np.int32)}, "EPSG:4326"
    else:
        src = HAND if data == "hand" else SPLIT
        geoms, fields, crs = src["geoms"], src["fields"], "EPSG:3067"
    frame = gpd.GeoDataFrame(dict(fields), geometry=list(geoms), crs=crs)
    path = tmp_path / "roads.gpkg"
    frame.to_file(path, driver="GPKG")
    from_file = read_roads(path, CAR, split_at_vertices=split)
    from_frame = read_roads(frame, CAR, split_at_vertices=split)
    _assert_same_network(from_frame, from_file)
    keep = set(from_file.meta) - {"source", "read_s", "load_s"}
    for key in keep:
        a, b = from_frame.meta[key], from_file.meta[key]
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b, key
    assert from_frame.meta["source"] == "GeoDataFrame"


def test_geodataframe_mistakes_are_road_data_errors(tmp_path: Path) -> None:
    import geopandas as gpd
    import pandas as pd

    frame = gpd.GeoDataFrame(dict(HAND["fields"]), geometry=list(HAND["geoms"]))  # no CRS
    with pytest.raises(RoadDataError, match=r"GeoDataFrame \(6 rows\): unknown CRS"):
        read_roads(frame, CAR)
    net = read_roads(frame, CAR, crs="EPSG:3067", split_at_vertices=False)
    np.testing.assert_allclose(net.length_m, EXPECT_LEN, rtol=1e-9)
    with pytest.raises(RoadDataError, match=r"layer=.*applies to files"):
        read_roads(frame.set_crs(3067), CAR, layer=0)
    with pytest.raises(RoadDataError, match="pandas DataFrame without geometry"):
        read_roads(pd.DataFrame(HAND["fields"]), CAR)
    with pytest.raises(RoadDataError, match="got int"):
        read_roads(3, CAR)
    # null oneway values in a text column read as two-way, as GDAL's nulls do
    with_null = frame.set_crs(3067)
    with_null["ONEWAY"] = pd.Series(["no", None, "yes", "-1", None, "no"], dtype="string")
    net = read_roads(with_null, CAR, split_at_vertices=False)
    assert net.oneway.tolist() == [False, False, True, True, False, False, False]


# --------------------------------------------------------------- defaults, errors
def test_both_readers_split_at_vertices_by_default(tmp_path: Path, osm_file: Path) -> None:
    import hexaccess.network as network
    from hexaccess import defaults

    assert network.SPLIT_AT_VERTICES_DEFAULT is defaults.SPLIT_ROADS is True
    path = tmp_path / "split.gpkg"
    _write(path, SPLIT["geoms"], SPLIT["fields"])
    default = read_roads(path, CAR)
    assert default.meta["split_at_vertices"] is True
    _assert_same_network(default, read_roads(path, CAR, split_at_vertices=True))
    with pytest.warns(UserWarning, match="busy_unknown_tag"):
        osm = read_osm_pbf(osm_file, "car_fi")
    assert osm.meta["split_at_vertices"] is True
    assert osm.meta["node_refs"].tolist() == [1, 2, 3, 4, 5, 6, 7]


def test_user_mistakes_raise_road_data_errors(tmp_path: Path) -> None:
    from hexaccess.errors import InputError

    path = tmp_path / "r.gpkg"
    _write(path, HAND["geoms"], HAND["fields"])
    net = read_roads(path, CAR, split_at_vertices=False)
    calls = [
        lambda: read_roads(path, CAR, snap_m=0),
        lambda: net.to_edge_arrays(both_directions=False),
        lambda: net.replace(tail=net.tail + 100),
        lambda: connect_points(net, [1.0, 2.0], [1.0]),
        lambda: connect_points(net, [1.0], [1.0], node_mask=[True]),
        lambda: diagnostics(net, node_weights=[1.0]),
        lambda: diagnostics(net, source_nodes=[-1]),
        lambda: apply_urban_slowdown(net, lambda x, y: np.zeros(2)),
        lambda: apply_urban_slowdown_polygons(net, [], 1.5),
    ]
    for call in calls:
        with pytest.raises(RoadDataError) as e:
            call()
        assert isinstance(e.value, InputError) and isinstance(e.value, ValueError)


def test_package_names_keep_their_meaning() -> None:
    import hexaccess.network as network

    assert callable(network.diagnostics) and callable(network.read_roads)
    assert network.RoadDataError is __import__("hexaccess.errors").errors.RoadDataError
    for name in network.__all__:
        assert hasattr(network, name), name
    assert callable(network._class_keys) and callable(network._class_speeds)


def test_road_files_are_read_by_content_and_must_give_lines(tmp_path: Path, osm_file: Path) -> None:
    import shutil

    from hexaccess.errors import InputFileError

    misnamed = tmp_path / "roads.gpkg"
    shutil.copy(osm_file, misnamed)  # a PBF named .gpkg is read as OpenStreetMap
    with pytest.warns(UserWarning, match="busy_unknown_tag"):
        assert read_roads(misnamed, "car_fi").class_column == "highway"
    with pytest.raises(RoadDataError, match="layer"):
        read_roads(misnamed, "car_fi", layer="lines")
    truncated = tmp_path / "cut.gpkg"
    gpkg = tmp_path / "ok.gpkg"
    pyogrio_raw.write(
        gpkg,
        geometry=shapely.to_wkb(np.array([shapely.LineString([(0, 0), (1000, 0)])] * 2)),
        field_data=[np.array(["footway", "path"], dtype=object)],
        fields=["highway"],
        geometry_type="LineString",
        crs="EPSG:3067",
        driver="GPKG",
    )
    with pytest.raises(RoadDataError, match=r"no line usable by profile 'car_fi'.*footway"):
        read_roads(gpkg, "car_fi")
    truncated.write_bytes(gpkg.read_bytes()[:4096])
    with pytest.raises(InputFileError, match="truncated"):
        read_roads(truncated, "car_fi")
    with pytest.raises(InputFileError, match="is a directory"):
        read_roads(tmp_path, "car_fi")
