"""Graph hygiene and honest attaching (issue 14): strongly connected components, the
attach rule, edge snapping, the unreachable split.

Expectations are derived independently: SCCs with networkx (or a plain-Python Tarjan
when networkx is absent), projection points by hand (a right triangle), reachability by
construction of the hand-built networks, the Helsinki shares from the cells themselves.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from fixtures.shared import shared_file
from pyproj import Transformer

from hexaccess.h3 import latlng_to_cells
from hexaccess.network import RoadNetwork
from hexaccess.network.connect import attachable_nodes, connect_points, split_edges
from hexaccess.network.stats import strong_components
from hexaccess.offices import Offices
from hexaccess.population import PopulationGrid
from hexaccess.profiles import load_profile
from hexaccess.study import road

X0, Y0 = 385_000.0, 6_672_000.0  # near Helsinki, EPSG:3067 (metres)
CAR = load_profile("car_fi")
TO_LL = Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True)


def _network(xy, edges, oneway=None, profile=CAR) -> RoadNetwork:
    """A RoadNetwork from node (x, y) offsets from (X0, Y0) and (tail, head) pairs, at
    30 km/h (OSM ``residential`` in car_fi); lengths are the straight lines."""
    xy = np.asarray(xy, dtype=float) + np.array([X0, Y0])
    t, h = np.asarray(edges, dtype=np.int64).T
    length = np.hypot(*(xy[h] - xy[t]).T)
    mid = (xy[h] + xy[t]) / 2
    return RoadNetwork(
        x=xy[:, 0],
        y=xy[:, 1],
        crs="EPSG:3067",
        tail=t,
        head=h,
        length_m=length,
        time_s=length / (30 / 3.6),
        road_class=np.full(t.size, "residential", dtype=object),
        oneway=np.zeros(t.size, bool) if oneway is None else np.asarray(oneway, bool),
        ferry=np.zeros(t.size, bool),
        mid_x=mid[:, 0],
        mid_y=mid[:, 1],
        source_row=np.arange(t.size),
        class_column="highway",
        profile=profile,
    )


def _grid(n=5, step=200.0):
    """An n x n street grid (two-way), nodes row by row from (0, 0)."""
    xy = [(i * step, j * step) for j in range(n) for i in range(n)]
    edges = [(j * n + i, j * n + i + 1) for j in range(n) for i in range(n - 1)]
    edges += [(j * n + i, (j + 1) * n + i) for j in range(n - 1) for i in range(n)]
    return xy, edges


def _population(points, people) -> PopulationGrid:
    """One resolution-9 cell per point (offsets from X0, Y0), with its people."""
    lon, lat = TO_LL.transform(X0 + np.array(points)[:, 0], Y0 + np.array(points)[:, 1])
    cells = latlng_to_cells(np.asarray(lat), np.asarray(lon), 9)
    frame = pd.DataFrame({"total": people}, index=pd.Index(cells, dtype=np.uint64))
    return PopulationGrid(frame.groupby(level=0).sum(), 9)


def _offices(points, names) -> Offices:
    lon, lat = TO_LL.transform(X0 + np.array(points)[:, 0], Y0 + np.array(points)[:, 1])
    return Offices(pd.DataFrame({"name": names, "lon": lon, "lat": lat}))


def _fragment_study():
    """The issue's case: a 5 x 5 grid (200 m), a 3-node fragment 20 m long at y = -46,
    an office at (500, -43): 3 m from the fragment, 43 m from the bottom street; and a
    one-way trap: a one-way street from the grid's corner (800, 800) to the centre of the
    population cell around (1000, 1000), where 400 people live."""
    pop = _population([(100, 100), (300, 500), (700, 300), (1000, 1000)], [100, 200, 300, 400])
    lon, lat = pop.centers_lonlat()
    cx, cy = Transformer.from_crs("EPSG:4326", "EPSG:3067", always_xy=True).transform(lon, lat)
    k = int(np.argmax(pop.frame["total"].to_numpy()))
    trap = (cx[k] - X0, cy[k] - Y0)
    assert min(trap) > 900  # farther from the grid (ends at 800) than from its own node
    xy, edges = _grid()
    xy += [(490, -46), (500, -46), (510, -46), trap]
    edges += [(25, 26), (26, 27), (24, 28)]
    oneway = np.zeros(len(edges), bool)
    oneway[-1] = True
    net = _network(xy, edges, oneway)
    return net, pop, _offices([(500, -43)], ["Office"])


def _tarjan(n, tail, head):
    """Strongly connected components, plain-Python Tarjan (iterative): a label per node."""
    adj = [[] for _ in range(n)]
    for a, b in zip(tail.tolist(), head.tolist(), strict=True):
        adj[a].append(b)
    index, low, label = [-1] * n, [0] * n, [-1] * n
    on, stack, counter, comp = [False] * n, [], 0, 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on[v] = True
            if i < len(adj[v]):
                work.append((v, i + 1))
                w = adj[v][i]
                if index[w] < 0:
                    work.append((w, 0))
                elif on[w]:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on[w] = False
                    label[w] = comp
                    if w == v:
                        break
                comp += 1
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
    return np.array(label)


def _same_partition(a, b) -> bool:
    """Two labelings give the same partition (labels may differ)."""
    pairs = np.unique(np.column_stack([a, b]), axis=0)
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


def test_strong_components_match_an_independent_algorithm():
    rng = np.random.default_rng(7)
    n = 400
    xy = rng.uniform(0, 5000, (n, 2))
    edges = rng.integers(0, n, (700, 2))
    net = _network(xy, edges, oneway=rng.random(700) < 0.6)
    count, label = strong_components(net)
    tail, head, _, _ = net.to_edge_arrays()
    try:
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from(range(n))
        g.add_edges_from(zip(tail.tolist(), head.tolist(), strict=True))
        expected = np.empty(n, dtype=np.int64)
        for k, comp in enumerate(nx.strongly_connected_components(g)):
            expected[list(comp)] = k
    except ImportError:
        expected = _tarjan(n, tail, head)
    assert count == len(np.unique(expected))
    assert _same_partition(label, expected)
    assert _same_partition(_tarjan(n, tail, head), expected)  # the oracle itself agrees
    assert 1 < count < n  # the case is not trivial: several components, some merged


def test_office_beside_a_fragment_joins_the_main_network():
    net, pop, offs = _fragment_study()
    old = CAR.with_overrides(access_attach="all", access_snap="node")
    bad = road.solve(road.build_access_graph(net, pop, offs, old, urban_slowdown=False))
    # Without hygiene the office joins the fragment (3 m) and nobody reaches it.
    assert bad.summary()["population_unreachable"] == pop.total() == 1000
    for snap in ("node", "edge"):
        prof = CAR.with_overrides(access_snap=snap)
        with pytest.warns(UserWarning, match=r"1 office\(s\) lie nearest to a road piece"):
            access = road.build_access_graph(net, pop, offs, prof, urban_slowdown=False)
        res = road.solve(access)
        s = res.summary()
        assert s["population_unreachable"] == 0  # everyone reaches the office
        # Hand-worked leg: 43 m straight down to the street (edge), or to the nearest
        # grid node, (400, 0) or (600, 0): sqrt(100² + 43²).
        leg = 43.0 if snap == "edge" else float(np.hypot(100.0, 43.0))
        assert access.office_connection["distance_m"].iloc[0] == pytest.approx(leg)
        diag = s["network"]
        assert diag["access_leg_m_offices"]["max"] == pytest.approx(leg)
        assert diag["excluded_small_components"]["components"] == 1
        assert diag["excluded_small_components"]["nodes"] == 3
        assert diag["excluded_small_components"]["km"] == pytest.approx(0.020)
        trap = diag["excluded_oneway_traps"]
        assert trap["components"] == 1 and trap["nodes"] == 1
        assert trap["km"] == 0.0  # the one-way street joins two components: in neither
        # The 400-people cell lies on the trap's end node.
        assert trap["cells_nearest"] == 1 and trap["population_nearest"] == 400
    assert diag["split_nodes"] >= 1  # the office's snap point split the bottom street


def test_people_in_a_one_way_trap_are_reachable_after_hygiene():
    net, pop, _ = _fragment_study()
    old = CAR.with_overrides(access_attach="all", access_snap="node")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # A second office on the grid so that the old rule reaches the grid at all.
        two = _offices([(500, -43), (400, 400)], ["Office", "Grid"])
        bad = road.solve(road.build_access_graph(net, pop, two, old, urban_slowdown=False))
        good = road.solve(road.build_access_graph(net, pop, two, CAR, urban_slowdown=False))
    # Old rule: the trap cell (400 people) joins node (900, 900), from which no trip leaves.
    assert bad.summary()["population_unreachable"] == 400
    assert bad.summary()["population_unreachable_no_office_in_component"] == 400
    assert good.summary()["population_unreachable"] == 0


def test_edge_snapping_matches_a_hand_projection_and_splits_proportionally():
    # One two-way edge (0,0)-(100,0) and one one-way edge (100,0)-(100,100).
    net = _network([(0, 0), (100, 0), (100, 100)], [(0, 1), (1, 2)], oneway=[False, True])
    px = X0 + np.array([30.0, 70.0, 130.0, 30.0])
    py = Y0 + np.array([40.0, -10.0, 60.0, 40.0])
    con = connect_points(net, px, py, CAR, snap="edge")
    # By hand: (30, 40) projects to (30, 0) at 40 m, fraction 0.3; (70, -10) to (70, 0) at
    # 10 m; (130, 60) to (100, 60) on the one-way edge, fraction 0.6, 30 m.
    assert con["edge"].tolist() == [0, 0, 1, 0]
    np.testing.assert_allclose(con["fraction"], [0.3, 0.7, 0.6, 0.3])
    np.testing.assert_allclose(con["distance_m"], [40.0, 10.0, 30.0, 40.0])
    np.testing.assert_allclose(con["snap_x"] - X0, [30.0, 70.0, 100.0, 30.0], atol=1e-9)
    np.testing.assert_allclose(con["snap_y"] - Y0, [0.0, 0.0, 60.0, 0.0], atol=1e-9)
    split, node = split_edges(net, con["edge"], con["fraction"], con["node"])
    # Three distinct points (the 4th repeats the 1st): three new nodes, 3 + 3 = 6 nodes.
    assert split.num_nodes == 6 and node[0] == node[3] and len(set(node[:3])) == 3
    assert node.min() >= net.num_nodes
    # Edge 0 becomes 0 -> p(0.3) -> p(0.7) -> 1: 30, 40, 30 m; edge 1: 60 + 40 m one-way.
    order = np.lexsort((split.length_m, split.source_row))
    np.testing.assert_allclose(split.length_m[order], [30.0, 30.0, 40.0, 40.0, 60.0])
    np.testing.assert_allclose(split.time_s, split.length_m / (30 / 3.6))
    assert split.oneway[split.source_row == 1].all()
    assert not split.oneway[split.source_row == 0].any()
    # Times between the old nodes do not change (a subdivision).
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    def times(n):
        t, h, w, _ = n.to_edge_arrays()
        return dijkstra(csr_matrix((w, (t, h)), shape=(n.num_nodes,) * 2))[:3, :3]

    np.testing.assert_allclose(times(split), times(net))


def test_unreachable_split_sums_to_the_unreachable_total():
    # The grid (no one-way) with an office, and a 3 km two-way line 10 km east (an island
    # without an office, kept: more than attach_min_km of road).
    xy, edges = _grid()
    xy += [(10_000, 0), (10_000, 1_500), (10_000, 3_000)]
    edges += [(25, 26), (26, 27)]
    net = _network(xy, edges)
    prof = CAR.with_overrides(max_access_distance_m=2_000.0)
    pop = _population(
        [(400, 400), (9_700, 1_500), (5_000, 1_000), (-30_000, 0)], [100, 200, 300, 400]
    )
    # (5000, 1000) lies inside the hull of the nodes, 4.6 km from every road: too far;
    # (-30 km, 0) lies outside the road data's extent.
    offs = _offices([(400, 200)], ["Grid"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = road.solve(road.build_access_graph(net, pop, offs, prof, urban_slowdown=False))
    s = res.summary()
    assert s["population_unreachable"] == 900
    assert s["population_unreachable_no_office_in_component"] == 200  # the island
    assert s["population_unreachable_too_far_from_road"] == 300
    assert s["population_unreachable_outside_extract"] == 400
    parts = [
        s["population_unreachable_outside_extract"],
        s["population_unreachable_too_far_from_road"],
        s["population_unreachable_no_office_in_component"],
    ]
    assert sum(parts) == s["population_unreachable"]
    # The old keys stay, with their old meaning.
    assert s["population_unconnected"] == 700
    assert s["population_no_office_in_component"] == 200
    assert s["network"]["unreachable"] == {
        "outside_extract": 400.0,
        "too_far_from_road": 300.0,
        "no_office_in_component": 200.0,
    }
    assert s["network"]["extract"]["population_outside"] == 400


def test_attach_rules_and_profile_keys():
    net, _, _ = _fragment_study()
    # largest_scc keeps only the grid: 25 nodes.
    assert attachable_nodes(net, "largest_scc").mask.sum() == 25
    assert attachable_nodes(net, "all").mask.all()
    # office_scc with min_km 0: the fragment holding the office is kept too.
    ox, oy = np.array([X0 + 500]), np.array([Y0 - 45])
    assert attachable_nodes(net, "office_scc", 0.0, ox, oy).mask.sum() == 28
    assert attachable_nodes(net, "office_scc", 2.0, ox, oy).mask.sum() == 25
    p = CAR.with_overrides(access_attach="largest_scc", access_snap="edge")
    again = type(CAR).from_dict(p.to_dict())
    assert (again.access_attach, again.access_snap) == ("largest_scc", "edge")
    with pytest.raises(ValueError, match=r"access\.attach"):
        CAR.with_overrides(access_attach="biggest")
    with pytest.raises(ValueError, match=r"access\.snap"):
        CAR.with_overrides(access_snap="line")


def test_a_small_far_island_stays_joinable_a_near_fragment_does_not():
    """A 300 m road piece linked to no other road, 5 km from the grid, is an island: its
    people join it and are counted "no office in their component" (not joined across the
    water to the grid); the 20 m fragment 46 m from the grid stays out (a data gap)."""
    from hexaccess import defaults

    net, _, _ = _fragment_study()
    n = net.num_nodes
    xy = [(x - X0, y - Y0) for x, y in zip(net.x, net.y, strict=True)]
    xy += [(5_800, 0), (6_100, 0)]
    edges = [*zip(net.tail.tolist(), net.head.tolist(), strict=True), (n, n + 1)]
    island = _network(xy, edges, [*net.oneway.tolist(), False])
    kept = attachable_nodes(island, "large_scc")
    assert kept.mask[[n, n + 1]].all()  # the island
    assert not kept.mask[[25, 26, 27]].any()  # the fragment by the office
    # The rule hinges on the gap: the island is 5 km from the grid's nearest street.
    assert 5_000 > defaults.ATTACH_ISLAND_GAP_M > 46
    pop = _population([(100, 100), (6_000, 20)], [100, 50])
    access = road.build_access_graph(island, pop, _offices([(500, -43)], ["Office"]))
    s = road.solve(access).summary()
    assert s["population_unreachable"] == s["population_unreachable_no_office_in_component"] == 50


@pytest.mark.shared_data
@pytest.mark.parametrize("mode", ["car_fi", "bike"])
def test_helsinki_extract_unreachable_share_before_and_after(mode, capsys):
    """The issue: on the central Helsinki extract 7 % (car) and 23 % (bike) of the
    people living inside the extract were unreachable from an office at the centre.
    Measured (before → after, edge snapping (the default) / node snapping): car 7.03 →
    0.00 / 0.00 %, bike 22.57 → 0.00 / 0.57 %."""
    from hexaccess.network import read_osm_pbf
    from hexaccess.population import read_square_grid

    pbf = shared_file("osm/helsinki_centre.osm.pbf")
    grid = shared_file("helsinki/hsy_population_250m_2020.gpkg")
    pop = read_square_grid(grid, {"population": "total"}, id_column="id", resolution=9)
    prof = load_profile(mode)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = read_osm_pbf(pbf, prof)
        lon, lat = net.node_lonlat()
        offs = Offices(
            pd.DataFrame({"name": ["Centre"], "lon": [np.median(lon)], "lat": [np.median(lat)]})
        )
        shares = {}
        for label, p in (
            ("before", prof.with_overrides(access_attach="all", access_snap="node")),
            ("after", prof),
            ("after_node", prof.with_overrides(access_snap="node")),
        ):
            access = road.build_access_graph(net, pop, offs, p, urban_slowdown=False)
            res = road.solve(access)
            inside = access.cell_connection["inside_extract"].to_numpy()
            w = res.cells["total"].to_numpy(dtype=float)
            lost = ~res.cells["reached"].to_numpy()
            shares[label] = round(float(100 * w[lost & inside].sum() / w[inside].sum()), 2)
    with capsys.disabled():
        print(f"\nHelsinki {mode}: unreachable inside the extract {shares}", file=sys.stderr)
    assert shares["before"] > 5.0  # the bug, as measured in the issue (7 %, 23 %)
    assert shares["after"] < shares["before"] / 10
    assert shares["after_node"] < shares["before"] / 10


def test_cli_and_python_api_report_the_same_split(tmp_path):
    """``hexaccess run`` and the Python API use the same attach rule (the profile's):
    the same unreachable split in ``summary.json``, summing to the unreachable total."""
    import json

    import shapely
    from pyogrio.raw import write

    from hexaccess import Study, cli

    # Main road: a 10 km triangle; a 3 km island line 40 km away (no office there);
    # a 30 m fragment 3 m from the office, 43 m from the main road.
    a, b, c = (X0, Y0), (X0 + 10_000, Y0), (X0 + 10_000, Y0 + 10_000)
    lines = [
        shapely.LineString([a, b]),
        shapely.LineString([b, c]),
        shapely.LineString([c, a]),
        shapely.LineString([(X0 + 40_000, Y0 + 40_000), (X0 + 43_000, Y0 + 40_000)]),
        shapely.LineString([(X0 + 4_985, Y0 - 46), (X0 + 5_000, Y0 - 46), (X0 + 5_015, Y0 - 46)]),
    ]
    roads = tmp_path / "roads.gpkg"
    write(
        roads,
        geometry=shapely.to_wkb(np.array(lines, dtype=object)),
        field_data=[np.array([21] * 5, dtype=np.int32)],
        fields=["IGDS_LEVEL"],
        geometry_type="LineString",
        crs="EPSG:3067",
        driver="GPKG",
    )
    to3035 = Transformer.from_crs("EPSG:3067", "EPSG:3035", always_xy=True)
    rows = []
    for k, (x, y) in enumerate([(2_000, 500), (9_000, 4_000), (41_000, 40_500), (-60_000, 0)]):
        e, n = to3035.transform(X0 + x, Y0 + y)
        e, n = int(e // 1000 * 1000), int(n // 1000 * 1000)
        rows.append({"GRD_ID": f"CRS3035RES1000mN{n}E{e}", "T": 100 * (k + 1)})
    popfile = tmp_path / "pop.csv"
    pd.DataFrame(rows).to_csv(popfile, index=False)
    lon, lat = TO_LL.transform([X0 + 5_000], [Y0 - 43])
    offfile = tmp_path / "offices.csv"
    pd.DataFrame({"name": ["Office"], "lon": lon, "lat": lat}).to_csv(offfile, index=False)
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        args = ["run", "--population", str(popfile), "--roads", str(roads)]
        code = cli.main([*args, "--offices", str(offfile), "--out", str(out), "--quiet"])
        api = Study(population=popfile, roads=roads, offices=offfile).solve().summary()
    assert code == 0
    s = json.loads((out / "summary.json").read_text())
    keys = [
        "population_unreachable_outside_extract",
        "population_unreachable_too_far_from_road",
        "population_unreachable_no_office_in_component",
    ]
    assert [s[k] for k in keys] == [api[k] for k in keys]
    # By construction: the far square (400) lies outside the road data; the island
    # square (300) has no office; the two squares by the triangle (100 + 200) reach the
    # office (it joined the triangle, not the fragment).
    assert [s[k] for k in keys] == [400.0, 0.0, 300.0]
    assert sum(s[k] for k in keys) == s["population_unreachable"] == 700
    assert s["network"]["attach_rule"] == "large_scc"
