"""Hexagon friction graph: edges and times against hand-worked values, road speeds from
a hand-made line, masking, and travel times against scipy on a small area."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra

from hexaccess import hexgrid
from hexaccess.network import RoadNetwork
from hexaccess.offices import Offices
from hexaccess.population import PopulationGrid
from hexaccess.profiles import load_profile

CENTRE = (61.5, 23.8)  # Tampere


def _disk(k: int, res: int = 9) -> np.ndarray:
    c = h3.latlng_to_cell(*CENTRE, res)
    return np.sort(np.array([h3.str_to_int(x) for x in h3.grid_disk(c, k)], dtype=np.uint64))


def _gcd_m(a: int, b: int) -> float:
    return h3.great_circle_distance(
        h3.cell_to_latlng(h3.int_to_str(int(a))), h3.cell_to_latlng(h3.int_to_str(int(b))), "m"
    )


def test_edges_and_times_match_hand_worked_values():
    cells = _disk(1)
    speed = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0])
    g = hexgrid.build_hex_graph(cells, road_cells=(cells, speed), off_road_speed_kmh=5.0)
    tail, head, time_s, length_m = g.edges()
    # 7 cells: 6 spokes + 6 rim pairs, each pair once.
    expected_pairs = {
        (i, j)
        for i in range(7)
        for j in range(i + 1, 7)
        if h3.are_neighbor_cells(h3.int_to_str(int(cells[i])), h3.int_to_str(int(cells[j])))
    }
    assert set(zip(tail.tolist(), head.tolist(), strict=True)) == expected_pairs
    assert len(expected_pairs) == 12
    for a, b, t, d in zip(tail, head, time_s, length_m, strict=True):
        dist = _gcd_m(cells[a], cells[b])
        assert d == pytest.approx(dist, rel=1e-9)
        hand = dist / 2 / (speed[a] / 3.6) + dist / 2 / (speed[b] / 3.6)
        assert t == pytest.approx(hand, rel=1e-9)
    # Both directions in the search graph, same times.
    assert g.graph.num_arcs == 24
    r = g.graph.nearest([0])
    for a, b, t in zip(tail, head, time_s, strict=True):
        if a == 0:
            assert r.time_s[b] <= t + 1e-9


def test_road_line_sets_cell_speeds():
    prof = load_profile("car_fi")
    lat0, lon0 = CENTRE
    to_xy = Transformer.from_crs("EPSG:4326", "EPSG:3067", always_xy=True)
    # A 3 km east-west main road (IGDS_LEVEL 23 = 85 km/h) and a 1 km local road (60).
    lons = np.array([lon0, lon0 + 3000 / 53_000, lon0 + 0.01, lon0 + 0.01])
    lats = np.array([lat0, lat0, lat0 - 0.004, lat0 + 0.005])
    x, y = to_xy.transform(lons, lats)
    net = RoadNetwork(
        x=x,
        y=y,
        crs="EPSG:3067",
        tail=[0, 2],
        head=[1, 3],
        length_m=[3000.0, 1000.0],
        time_s=[100.0, 60.0],
        road_class=np.array([23, 21]),
        oneway=[False, False],
        ferry=[False, False],
        mid_x=(x[[0, 2]] + x[[1, 3]]) / 2,
        mid_y=(y[[0, 2]] + y[[1, 3]]) / 2,
        source_row=[0, 1],
        class_column="IGDS_LEVEL",
        profile=prof,
    )
    cells, speed = hexgrid.road_cell_speeds(net, 9)

    # Independent expectation: h3-py cells of points every 5 m along each line.
    def line_cells(i0: int, i1: int) -> set[int]:
        t = np.linspace(0, 1, 800)
        return {
            h3.str_to_int(h3.latlng_to_cell(la, lo, 9))
            for la, lo in zip(
                lats[i0] + t * (lats[i1] - lats[i0]),
                lons[i0] + t * (lons[i1] - lons[i0]),
                strict=True,
            )
        }

    main, local = line_cells(0, 1), line_cells(2, 3)
    got = dict(zip(cells.tolist(), speed.tolist(), strict=True))
    # Sampling at a quarter edge can miss a cell the line only clips at a corner (and the
    # line is straight in TM35FIN, not in degrees): allow one such cell per line.
    assert len(main - set(got)) <= 1
    assert len(local - set(got)) <= 1
    assert set(got) <= main | local
    for c in main & set(got):
        assert got[c] == 85.0  # the main road wins where both cross
    for c in (local - main) & set(got):
        assert got[c] == 60.0
    assert main & local  # the lines do cross


def test_masked_cells_are_absent_and_bridges_survive():
    cells = _disk(3)
    c0 = h3.latlng_to_cell(*CENTRE, 9)
    clat, clng = h3.cell_to_latlng(c0)
    # A lake (~640 m east-west, ~1.3 km north-south) around the centre cell's ring 1.
    lake = shapely.Point(clng, clat).buffer(0.012)
    road = np.array([h3.str_to_int(c0)], dtype=np.uint64)
    g = hexgrid.build_hex_graph(
        cells, road_cells=(road, np.array([60.0])), off_road_speed_kmh=10.0, water=[lake]
    )
    centres = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cells])
    wet = shapely.contains_xy(lake, centres[:, 1], centres[:, 0])
    wet &= cells != road[0]
    assert wet.sum() > 3
    assert set(g.cells.tolist()) == set(cells[~wet].tolist())
    assert g.nodes_of_cells(cells[wet]).tolist() == [-1] * int(wet.sum())
    assert g.meta["water_cells_masked"] == int(wet.sum())
    # The road cell in the lake stays (a bridge) but its neighbours are water: isolated.
    n = g.nodes_of_cells(road)[0]
    ring1 = np.array([h3.str_to_int(c) for c in h3.grid_ring(c0, 1)], dtype=np.uint64)
    assert (g.nodes_of_cells(ring1) == -1).all()
    assert g.graph.nearest([n]).reached.sum() == 1


def test_travel_times_match_scipy_on_a_small_area():
    rng = np.random.default_rng(3)
    cells = _disk(12, 9)
    speed = rng.choice([0.0, 5.0, 23.0, 60.0, 100.0], cells.size, p=[0.1, 0.3, 0.3, 0.2, 0.1])
    g = hexgrid.build_hex_graph(
        cells, road_cells=(cells[speed > 0], speed[speed > 0]), off_road_speed_kmh=0.0
    )
    tail, head, time_s, _ = g.edges()
    n = g.num_nodes
    m = sp.csr_matrix(
        (
            np.concatenate([time_s, time_s]),
            (np.concatenate([tail, head]), np.concatenate([head, tail])),
        ),
        shape=(n, n),
    )
    src = rng.choice(np.flatnonzero(g.speed_kmh > 0), 4, replace=False)
    ours = g.graph.nearest(src).time_s
    ref = dijkstra(m, indices=src, min_only=True)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    # Impassable cells are unreachable (inf), never 0.
    assert np.isinf(ours[g.speed_kmh == 0]).all()


def test_study_on_the_hexagon_graph_places_people_and_offices_in_cells():
    cells = _disk(6, 9)
    pop_cells = _disk(2, 8)
    pop = PopulationGrid(
        pd.DataFrame(
            {"total": np.full(pop_cells.size, 70), "age_65_plus": np.full(pop_cells.size, 7)},
            index=pd.Index(pop_cells, dtype=np.uint64),
        ),
        8,
    )
    offices = Offices(pd.DataFrame({"name": ["A"], "lon": [CENTRE[1]], "lat": [CENTRE[0]]}))
    acc = hexgrid.build_hex_access(
        None, pop, offices, "car_fi", cells=cells, off_road_speed_kmh=20.0, urban_slowdown=False
    )
    # Coarser population is spread evenly over its children: totals are kept.
    assert acc.weights[:, 0].sum() == pytest.approx(70 * pop_cells.size)
    res = acc.solve()
    s = res.summary()
    assert s["population_total"] == pytest.approx(70 * pop_cells.size)
    # Everyone is within reach; the office cell itself gets the terminal time only.
    assert s["population_unreachable"] == 0
    office_cell = h3.str_to_int(h3.latlng_to_cell(CENTRE[0], CENTRE[1], 9))
    assert acc.office_node[0] == acc.hex.nodes_of_cells([office_cell])[0]
    assert res.cells["time_s"].min() >= 120.0
    # Homogeneous off-road speed: time grows with the centre distance, ~1/v per metre.
    far = res.cells["time_s"].max() - 120.0
    assert 0 < far < 3.0 * 3600
    assert (res.cells["office"] == 0).all()


def test_default_off_road_speed_follows_the_access_leg():
    prof = load_profile("car_fi")
    assert hexgrid.default_off_road_speed_kmh(prof) == pytest.approx(
        prof.access_speed_kmh / prof.access_detour_factor
    )
    with pytest.raises(ValueError, match="one H3 resolution"):
        hexgrid.build_hex_graph(np.concatenate([_disk(1, 9), _disk(0, 8)]))


def _two_road_network(road_class: np.ndarray) -> RoadNetwork:
    """A 3 km IGDS_LEVEL-23 road (85 km/h) and a crossing 1 km local road (21: 60 km/h)
    near Tampere, with edge times that imply neither speed."""
    lat0, lon0 = CENTRE
    to_xy = Transformer.from_crs("EPSG:4326", "EPSG:3067", always_xy=True)
    lons = np.array([lon0, lon0 + 3000 / 53_000, lon0 + 0.01, lon0 + 0.01])
    lats = np.array([lat0, lat0, lat0 - 0.004, lat0 + 0.005])
    x, y = to_xy.transform(lons, lats)
    return RoadNetwork(
        x=x,
        y=y,
        crs="EPSG:3067",
        tail=[0, 2],
        head=[1, 3],
        length_m=[3000.0, 1000.0],
        time_s=[1000.0, 1000.0],
        road_class=road_class,
        oneway=[False, False],
        ferry=[False, False],
        mid_x=(x[[0, 2]] + x[[1, 3]]) / 2,
        mid_y=(y[[0, 2]] + y[[1, 3]]) / 2,
        source_row=[0, 1],
        class_column="IGDS_LEVEL",
        profile=load_profile("car_fi"),
    )


@pytest.mark.parametrize(
    "road_class",
    [np.array([23, 21]), np.array([23.0, 21.0]), np.array(["23", "21"], dtype=object)],
    ids=["int", "float", "str"],
)
def test_class_speeds_agree_for_int_float_and_string_class_columns(road_class):
    # A float column (26.0, as read from some files) used to become "26.0", miss the
    # profile table and fall back to the edge's own time (here 10.8 and 3.6 km/h).
    cells, speed = hexgrid.road_cell_speeds(_two_road_network(road_class), 9)
    assert set(np.unique(speed).tolist()) == {60.0, 85.0}
    ref_cells, ref_speed = hexgrid.road_cell_speeds(_two_road_network(np.array([23, 21])), 9)
    np.testing.assert_array_equal(cells, ref_cells)
    np.testing.assert_array_equal(speed, ref_speed)


# ------------------------------------------------------------- argument checks (item 2)
def _one_office(lat: float = CENTRE[0], lon: float = CENTRE[1]) -> Offices:
    return Offices(pd.DataFrame({"name": ["A"], "lon": [lon], "lat": [lat]}))


def _flat_population(cells: np.ndarray, res: int, people: int = 70) -> PopulationGrid:
    return PopulationGrid(
        pd.DataFrame(
            {"total": np.full(cells.size, people)}, index=pd.Index(cells, dtype=np.uint64)
        ),
        res,
    )


@pytest.mark.parametrize(
    ("speed", "match"),
    [
        (np.array([60.0]), r"road_cells: 1 speed\(s\) .* for 7 cell\(s\)"),
        (np.array([60.0, 60.0, np.nan, 60.0, 60.0, 60.0, 60.0]), r"speed_kmh\[2\] = nan"),
        (np.array([60.0, 60.0, 60.0, -5.0, 60.0, 60.0, 60.0]), r"speed_kmh\[3\] = -5.0"),
        (np.full(7, np.inf), r"speed_kmh\[0\] = inf"),
    ],
)
def test_road_cells_need_one_finite_speed_per_cell(speed, match):
    # A length-1 speed array used to broadcast silently over all road cells.
    with pytest.raises(ValueError, match=match):
        hexgrid.build_hex_graph(_disk(1), road_cells=(_disk(1), speed))
    with pytest.raises(ValueError, match="road_cells must be a pair"):
        hexgrid.build_hex_graph(_disk(1), road_cells=_disk(1))
    with pytest.raises(
        ValueError, match=r"graph's resolution 9: road_cells cell 0 .* resolution 8"
    ):
        hexgrid.build_hex_graph(_disk(1), road_cells=(_disk(0, 8), [60.0]))


@pytest.mark.parametrize(
    ("factor", "match"),
    [
        (np.array([0.5]), r"road_speed_factor has shape \(1,\).*\(7,\)"),
        (np.array([1, 1, 1, np.nan, 1, 1, 1.0]), r"road_speed_factor\[3\] = nan"),
        (np.array([1, 0, 1, 1, 1, 1, 1.0]), r"road_speed_factor\[1\] = 0.0 must be finite and > 0"),
    ],
)
def test_road_speed_factor_is_checked(factor, match):
    # A NaN factor used to make its road cell impassable (removed) without a word.
    cells = _disk(1)
    with pytest.raises(ValueError, match=match):
        hexgrid.build_hex_graph(
            cells, road_cells=(cells, np.full(7, 60.0)), road_speed_factor=factor
        )
    with pytest.raises(ValueError, match=match):
        hexgrid.build_hex_graph(
            cells, road_cells=(cells, np.full(7, 60.0)), road_speed_factor=lambda c: factor
        )


def test_road_speed_factor_array_or_function_of_the_final_cells():
    area, roads = _disk(1), _disk(2)  # the roads reach beyond the area
    speed = np.full(roads.size, 80.0)
    seen = []

    def half_at_centre(cells):
        seen.append(cells)
        return np.where(cells == area[3], 0.5, 1.0)

    g = hexgrid.build_hex_graph(
        area, road_cells=(roads, speed), road_speed_factor=half_at_centre, off_road_speed_kmh=5.0
    )
    np.testing.assert_array_equal(seen[0], roads)  # the sorted union
    np.testing.assert_array_equal(g.speed_kmh, np.where(roads == area[3], 40.0, 80.0))
    again = hexgrid.build_hex_graph(
        area, road_cells=(roads, speed), road_speed_factor=half_at_centre(roads)
    )
    np.testing.assert_array_equal(again.speed_kmh, g.speed_kmh)


def test_road_cells_added_to_the_area_are_counted():
    area = _disk(2)
    roads = _disk(4)
    g = hexgrid.build_hex_graph(area, road_cells=(roads, np.full(roads.size, 60.0)))
    assert g.meta["road_cells_added_to_area"] == roads.size - area.size == 42
    assert g.num_nodes == roads.size
    # Through build_hex_access (which used to merge first, so it always reported 0).
    net = _two_road_network(np.array([23, 21]))
    rc, _ = hexgrid.road_cell_speeds(net, 9)
    acc = hexgrid.build_hex_access(
        net, _flat_population(_disk(1), 9), _one_office(), cells=area, urban_slowdown=False
    )
    outside = np.setdiff1d(rc, area).size
    assert outside > 0
    assert acc.hex.meta["road_cells_added_to_area"] == outside
    assert acc.hex.num_nodes == np.union1d(area, rc).size


def test_study_area_resolutions_are_checked():
    pop = _flat_population(_disk(1), 9)
    with pytest.raises(ValueError, match=r"cells\[0\] .* resolution 8, but resolution=9"):
        hexgrid.build_hex_access(None, pop, _one_office(), cells=_disk(3, 8))
    with pytest.raises(ValueError, match="cover_resolution=9 is finer than resolution=8"):
        hexgrid.build_hex_access(None, pop, _one_office(), resolution=8, cover_resolution=9)
    with pytest.raises(ValueError, match="cover_resolution=7 is finer than resolution=6"):
        hexgrid.cover_cells([CENTRE[1]], [CENTRE[0]], 6, cover_resolution=7)


# ---------------------------------------------------------- study area helpers (item 3)
def test_polygon_cells_are_the_cells_whose_centre_is_inside():
    lat, lon = CENTRE
    square = shapely.box(lon - 0.01, lat - 0.005, lon + 0.01, lat + 0.005)
    disc = shapely.Point(lon + 0.05, lat).buffer(0.004)
    got = hexgrid.polygon_cells([square, disc.__geo_interface__], 9)
    assert got.dtype == np.uint64
    assert np.all(got[1:] > got[:-1])  # sorted, unique
    # Independent: every cell of a generous disk, tested centre by centre.
    cand = np.array(
        [h3.str_to_int(c) for c in h3.grid_disk(h3.latlng_to_cell(lat, lon + 0.025, 9), 60)],
        dtype=np.uint64,
    )
    centres = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cand])
    inside = shapely.contains_xy(shapely.union_all([square, disc]), centres[:, 1], centres[:, 0])
    np.testing.assert_array_equal(got, np.sort(cand[inside]))
    assert hexgrid.polygon_cells([], 9).size == 0


def test_cover_cells_are_the_children_of_the_coarse_cover():
    lat, lon = CENTRE
    got = hexgrid.cover_cells([lon], [lat], 8, cover_resolution=6)
    parent = h3.latlng_to_cell(lat, lon, 6)
    expected = sorted(h3.str_to_int(c) for c in h3.cell_to_children(parent, 8))
    assert got.tolist() == expected


# ------------------------------------------------------------- pentagons (item 4)
def test_coarse_population_on_a_pentagon_is_spread_over_its_own_children():
    pent = h3.get_pentagons(7)[0]
    hexa = next(c for c in h3.grid_ring(pent, 1))
    pop_cells = np.sort(np.array([h3.str_to_int(pent), h3.str_to_int(hexa)], dtype=np.uint64))
    people = {h3.str_to_int(pent): 60, h3.str_to_int(hexa): 70}
    pop = PopulationGrid(
        pd.DataFrame(
            {"total": [people[int(c)] for c in pop_cells]},
            index=pd.Index(pop_cells, dtype=np.uint64),
        ),
        7,
    )
    kids = {
        int(c): [h3.str_to_int(k) for k in h3.cell_to_children(h3.int_to_str(int(c)), 9)]
        for c in pop_cells
    }
    assert sorted(len(k) for k in kids.values()) == [41, 49]  # not 7**2 each
    area = np.sort(np.concatenate([np.array(k, dtype=np.uint64) for k in kids.values()]))
    plat, plng = h3.cell_to_latlng(pent)
    acc = hexgrid.build_hex_access(
        None,
        pop,
        _one_office(plat, plng),
        "car_fi",
        resolution=9,
        cells=area,
        off_road_speed_kmh=20.0,
        urban_slowdown=False,
    )
    assert np.diff(acc.cell_indptr).tolist() == [len(kids[int(c)]) for c in pop_cells]
    for c in pop_cells:
        nodes = acc.hex.nodes_of_cells(kids[int(c)])
        np.testing.assert_allclose(acc.weights[nodes, 0], people[int(c)] / len(kids[int(c)]))
    assert acc.weights[:, 0].sum() == pytest.approx(130)
    res = acc.solve()
    assert res.summary()["population_total"] == pytest.approx(130)
    assert res.cells["reached"].all()


# -------------------------------------------------- results shared with the road graph (5)
def _small_study(**kw):
    cells = _disk(6, 9)
    pop = PopulationGrid(
        pd.DataFrame(
            {"age_65_plus": np.full(19, 7), "total": np.full(19, 70)},
            index=pd.Index(_disk(2, 8), dtype=np.uint64),
        ),
        8,
    )
    lat, lon = CENTRE
    offices = Offices(
        pd.DataFrame({"name": ["A", "B"], "lon": [lon, lon + 0.01], "lat": [lat, lat + 0.005]})
    )
    return hexgrid.build_hex_access(
        None, pop, offices, "car_fi", cells=cells, off_road_speed_kmh=20.0, **kw
    )


def test_office_subsets_are_checked_and_numbered_in_the_study():
    from hexaccess.accessibility import COVERAGE_MINUTES, AccessibilityInputError

    acc = _small_study(urban_slowdown=False)
    # offices=[3] used to raise IndexError, [-1] to silently pick the last office.
    for bad in ([3], [-1], [0.5], []):
        with pytest.raises(AccessibilityInputError):
            acc.solve(offices=bad)
    only_b = acc.solve(offices=[1])
    assert (only_b.cells["office"] == 1).all()
    assert only_b.office_indices.tolist() == [1]
    both = acc.solve()
    assert set(both.cells["office"]) == {0, 1}
    s = both.summary("total")
    assert list(s["coverage_pct"]) == [str(m) for m in COVERAGE_MINUTES]
    assert s["population_column"] == "total"
    assert both.bands().equals(both.histogram.to_frame("age_65_plus"))
    # One search gives what the engine's own histogram gives.
    src, off = acc.office_node, acc.office_offsets()
    hist = acc.graph.band_histogram(src, acc.weights, offsets_s=off, columns=list(acc.columns))
    np.testing.assert_array_equal(both.histogram.counts, hist.counts)
    assert list(both.cells.columns[:3]) == ["h3", "age_65_plus", "total"]


def test_urban_slowdown_uses_the_total_column_like_the_road_graph():
    # "total" is not the first column here; the density used to come from columns[0].
    pop_cells = _disk(1, 8)
    pop = PopulationGrid(
        pd.DataFrame(
            {"age_65_plus": np.full(7, 1), "total": np.full(7, 100_000)},
            index=pd.Index(pop_cells, dtype=np.uint64),
        ),
        8,
    )
    net = _two_road_network(np.array([23, 21]))
    acc = hexgrid.build_hex_access(net, pop, _one_office(), cells=_disk(8, 9))
    prof = acc.profile
    dens = pop.density_per_km2(acc.hex.cells)
    assert dens.max() > 100_000  # ~137,000 people/km² under the populated cells
    expected = np.asarray(prof.slowdown_factor(dens))
    rc, rs = hexgrid.road_cell_speeds(net, 9)
    road = acc.hex.on_road
    np.testing.assert_allclose(
        acc.hex.speed_kmh[road], rs[np.searchsorted(rc, acc.hex.cells[road])] * expected[road]
    )
    assert (expected[road] < 1).any()


@pytest.mark.parametrize("rust", [True, False], ids=["rust", "h3-py"])
def test_cell_children_match_h3_including_pentagons(rust, monkeypatch):
    from hexaccess import h3cells

    if not rust:
        monkeypatch.setattr(h3cells, "_HAVE_RUST_H3", False)
    pent = h3.get_pentagons(5)[3]
    cells = np.array([h3.str_to_int(h3.latlng_to_cell(*CENTRE, 5)), h3.str_to_int(pent)], np.uint64)
    got = h3cells.cell_children(cells, 7)
    expected = [
        k
        for c in cells
        for k in sorted(h3.str_to_int(x) for x in h3.cell_to_children(h3.int_to_str(int(c)), 7))
    ]
    assert got.dtype == np.uint64
    assert got.tolist() == expected
    assert len(expected) == 49 + 41
    with pytest.raises(ValueError, match="resolution"):
        h3cells.cell_children(cells, 16)
