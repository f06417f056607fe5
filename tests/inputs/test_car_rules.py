"""Car rules on OpenStreetMap (issue #14): tagged speed limits, destination-only ways,
turn restrictions and turn costs, routed on the turn-expanded graph.

Expectations are derived independently: hand-worked times on a junction whose segment
lengths come from pyproj's geodesic, an edge-based Dijkstra written here with networkx
on random grids, and the study on the real central Helsinki extract."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from fixtures.shared import shared_file

from hexaccess.graph import Graph
from hexaccess.network import RoadNetwork, read_osm_pbf
from hexaccess.network.osm import parse_maxspeed
from hexaccess.network.turns import needs_turn_graph, turn_graph
from hexaccess.profiles import load_profile

osmium = pytest.importorskip("osmium", reason="pyosmium (the [osm] extra) writes the test PBFs")

CAR = load_profile("car_fi")
#: car_fi without turn costs (restrictions and destination rules only).
NO_COSTS = CAR.with_overrides(
    **{"osm.turn_costs.left_s": 0, "osm.turn_costs.right_s": 0, "osm.turn_costs.u_turn_s": 0}
)
LAT0, LON0 = 60.17, 24.94
STEP = 0.001  # degrees of latitude (~111 m) and of longitude (~55 m at 60 N)


def _coord(i: int, j: int) -> tuple[float, float]:
    """(lon, lat) of grid point (i east, j north)."""
    return LON0 + i * STEP, LAT0 + j * STEP


def _write(path: Path, nodes: dict[int, tuple[int, int]], ways, relations=()) -> str:
    """A PBF of grid nodes {id: (i, j)}, ways [(id, [node ids], {tags})] and
    relations [(id, [(type, ref, role)], {tags})], written with pyosmium."""
    with osmium.SimpleWriter(str(path)) as w:
        for nid in sorted(nodes):
            w.add_node(osmium.osm.mutable.Node(id=nid, location=_coord(*nodes[nid])))
        for wid, refs, tags in ways:
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
        for rid, members, tags in relations:
            w.add_relation(osmium.osm.mutable.Relation(id=rid, members=members, tags=tags))
    return str(path)


def _times(net: RoadNetwork, profile, source_ref: int) -> dict[int, float]:
    """Fastest time (s) from the node with OSM id ``source_ref`` to every node, by OSM
    id, on the graph the study routes (expanded when the rules need it)."""
    refs = net.meta["node_refs"]
    src = int(np.flatnonzero(refs == source_ref)[0])
    if needs_turn_graph(net, profile):
        tg = turn_graph(net, profile)
        g = Graph.from_edges(tg.tail, tg.head, tg.time_s, tg.length_m, num_nodes=tg.num_nodes)
        t = g.nearest([src]).time_s[tg.destination_state(np.arange(net.num_nodes))]
    else:
        tail, head, time_s, length_m = net.to_edge_arrays()
        t = (
            Graph.from_edges(tail, head, time_s, length_m, num_nodes=net.num_nodes)
            .nearest([src])
            .time_s
        )
    return {int(r): float(v) for r, v in zip(refs, t, strict=True)}


def _seconds(points: list[tuple[int, int]], kmh: float) -> float:
    """Time along grid points at ``kmh`` over pyproj's geodesic (independent of ours)."""
    import pyproj

    lon, lat = zip(*(_coord(*p) for p in points), strict=True)
    _, _, d = pyproj.Geod(ellps="WGS84").inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return float(np.sum(d)) / (kmh / 3.6)


# ---------------------------------------------------------------- speed limits
@pytest.mark.parametrize(
    ("value", "kmh"),
    [
        ("50", 50.0),
        (" 60 ", 60.0),
        ("30 mph", 30 * 1.609344),
        ("30mph", 30 * 1.609344),
        ("80 km/h", 80.0),
        ("10 knots", 18.52),
        ("FI:urban", 50.0),
        ("none", None),
        ("signals", None),
        ("50;30", None),
        ("0", None),
        ("walk", None),
        ("FI:nowhere", None),
    ],
)
def test_maxspeed_values(value, kmh):
    got = parse_maxspeed(value, {"FI:urban": 50.0})
    assert got == (None if kmh is None else pytest.approx(kmh))


def test_tagged_limits_replace_class_speeds_in_both_readers(tmp_path):
    # Three residential ways (class 30 km/h): 60 tagged, FI:rural zone, "none" (class).
    nodes = {1: (0, 0), 2: (0, 1), 3: (0, 2), 4: (0, 3)}
    ways = [
        (10, [1, 2], {"highway": "residential", "maxspeed": "60"}),
        (11, [2, 3], {"highway": "residential", "maxspeed": "FI:rural"}),
        (12, [3, 4], {"highway": "residential", "maxspeed": "none"}),
    ]
    path = _write(tmp_path / "limits.osm.pbf", nodes, ways)
    expect = {
        10: _seconds([(0, 0), (0, 1)], 60 * 0.85),
        11: _seconds([(0, 1), (0, 2)], 80 * 0.85),
        12: _seconds([(0, 2), (0, 3)], 30.0),
    }
    for engine in ("rust", "pyosmium"):
        net = read_osm_pbf(path, CAR, engine=engine)
        got = dict(zip(net.source_row.tolist(), net.time_s.tolist(), strict=True))
        assert got == pytest.approx(expect, rel=1e-9)
        assert net.meta["maxspeed_edges"] == 2
        assert net.meta["maxspeed_unused"] == {"none": 1}


# ------------------------------------------------------------ the junction
#   (0,2) N ---- (1,2) NE           a cross at C = (0,1): arms S (0,0), N (0,2),
#     |            |                W (-1,1), E (1,1); a block N - NE - E closes a loop
#   (-1,1) W -- C (0,1) -- E (1,1)  so that a forbidden left turn has a detour.
#     |
#   (0,0) S
_NODES = {1: (0, 0), 2: (0, 1), 3: (0, 2), 4: (-1, 1), 5: (1, 1), 6: (1, 2)}
# Ways end at the junction, as OSM requires of a restriction's from and to ways.
_WAYS = [
    (20, [1, 2], {"highway": "residential"}),  # S - C
    (23, [2, 3], {"highway": "residential"}),  # C - N
    (21, [4, 2], {"highway": "residential"}),  # W - C
    (24, [2, 5], {"highway": "residential"}),  # C - E
    (22, [3, 6, 5], {"highway": "residential"}),  # N - NE - E
]
_NO_LEFT = [(90, [("w", 20, "from"), ("n", 2, "via"), ("w", 21, "to")],
             {"type": "restriction", "restriction": "no_left_turn"})]  # fmt: skip


def test_a_forbidden_turn_takes_the_detour_and_an_allowed_one_does_not(tmp_path):
    plain = _write(tmp_path / "plain.osm.pbf", _NODES, _WAYS)
    banned = _write(tmp_path / "banned.osm.pbf", _NODES, _WAYS, _NO_LEFT)
    before = _times(read_osm_pbf(plain, NO_COSTS), NO_COSTS, 1)
    net = read_osm_pbf(banned, NO_COSTS)
    after = _times(net, NO_COSTS, 1)
    assert before[4] == pytest.approx(_seconds([(0, 0), (0, 1), (-1, 1)], 30))
    # S -> C, left to W forbidden: C -> E is a right turn, then U-turn back? Cheaper: the
    # U-turn at the dead end W is not reachable; the fastest legal path turns right to E,
    # U-turns at E (free without turn costs) and comes back through C to W.
    via_e = _seconds([(0, 0), (0, 1), (1, 1), (0, 1), (-1, 1)], 30)
    via_n = _seconds([(0, 0), (0, 1), (0, 2), (0, 1), (-1, 1)], 30)
    assert after[4] == pytest.approx(min(via_e, via_n))
    assert after[5] == pytest.approx(before[5])  # the right turn is untouched
    assert after[3] == pytest.approx(before[3])
    tg = turn_graph(net, NO_COSTS)
    assert tg.stats["restrictions_applied"] == 1 and tg.stats["turns_forbidden"] == 1


def test_a_restriction_whose_way_passes_through_the_via_node_is_reported(tmp_path):
    # Way 25 runs W - C - E through the via node: which direction is "from" is unknown.
    ways = [*_WAYS[:2], (25, [4, 2, 5], {"highway": "residential"}), _WAYS[4]]
    rel = [(92, [("w", 25, "from"), ("n", 2, "via"), ("w", 23, "to")],
            {"type": "restriction", "restriction": "no_right_turn"})]  # fmt: skip
    net = read_osm_pbf(_write(tmp_path / "through.osm.pbf", _NODES, ways, rel), NO_COSTS)
    stats = turn_graph(net, NO_COSTS).stats
    assert stats["restrictions_applied"] == 0
    assert stats["restrictions_not_applied"] == {"way_passes_through_via": 1}


def test_only_straight_on_forbids_every_other_turn(tmp_path):
    only = [(91, [("w", 20, "from"), ("n", 2, "via"), ("w", 23, "to")],
             {"type": "restriction", "restriction": "only_straight_on"})]  # fmt: skip
    net = read_osm_pbf(_write(tmp_path / "only.osm.pbf", _NODES, _WAYS, only), NO_COSTS)
    t = _times(net, NO_COSTS, 1)
    assert t[3] == pytest.approx(_seconds([(0, 0), (0, 1), (0, 2)], 30))
    # E only by N -> NE -> E (the turns at C are forbidden, U-turn at C too)
    assert t[5] == pytest.approx(_seconds([(0, 0), (0, 1), (0, 2), (1, 2), (1, 1)], 30))


def test_turn_costs_price_left_right_and_u_turns(tmp_path):
    net = read_osm_pbf(_write(tmp_path / "plain.osm.pbf", _NODES, _WAYS), CAR)
    t = _times(net, CAR, 1)
    tc = CAR.turn_costs
    assert t[3] == pytest.approx(_seconds([(0, 0), (0, 1), (0, 2)], 30))  # straight on
    assert t[4] == pytest.approx(_seconds([(0, 0), (0, 1), (-1, 1)], 30) + tc["left_s"])
    assert t[5] == pytest.approx(_seconds([(0, 0), (0, 1), (1, 1)], 30) + tc["right_s"])
    # NE: N then right at N (a corner of degree 2: no cost), or E then left at E (degree 2)
    assert t[6] == pytest.approx(
        min(
            _seconds([(0, 0), (0, 1), (0, 2), (1, 2)], 30),
            _seconds([(0, 0), (0, 1), (1, 1), (1, 2)], 30) + tc["right_s"],
        )
    )


def test_destination_only_streets_carry_no_through_traffic(tmp_path):
    # A shortcut S - X - N (destination only) beside the slow main road S - C - N made of
    # a long detour: through traffic S -> N must take the main road, a trip to X may not.
    nodes = {1: (0, 0), 2: (3, 1), 3: (0, 2), 7: (0, 1)}
    ways = [
        (30, [1, 2, 3], {"highway": "residential"}),  # S - C (far east) - N
        (31, [1, 7, 3], {"highway": "residential", "motor_vehicle": "destination"}),
    ]
    path = _write(tmp_path / "dest.osm.pbf", nodes, ways)
    net = read_osm_pbf(path, NO_COSTS)
    assert net.meta["destination_only"].sum() == 2
    t = _times(net, NO_COSTS, 1)
    assert t[3] == pytest.approx(_seconds([(0, 0), (3, 1), (0, 2)], 30))  # not through X
    assert t[7] == pytest.approx(_seconds([(0, 0), (0, 1)], 30))  # to X: allowed
    # from X (the start zone) through to N is allowed: the trip starts there
    assert _times(net, NO_COSTS, 7)[3] == pytest.approx(_seconds([(0, 1), (0, 2)], 30))
    plain = CAR.with_overrides(osm_destination_access=())
    assert _times(read_osm_pbf(path, plain), plain, 1)[3] == pytest.approx(
        _seconds([(0, 0), (0, 1), (0, 2)], 30) + CAR.turn_costs["u_turn_s"] * 0
    )


# -------------------------------------------------- against networkx (edge-based)
def _random_grid(rng: np.random.Generator, k: int = 6):
    """A k x k grid network (metric CRS) with random one-ways, and random restrictions."""
    ids = np.arange(k * k).reshape(k, k)
    x, y = np.meshgrid(np.arange(k) * 100.0, np.arange(k) * 100.0, indexing="ij")
    x, y = x.ravel() + rng.normal(0, 5, k * k), y.ravel() + rng.normal(0, 5, k * k)
    edges = [(ids[i, j], ids[i + 1, j]) for i in range(k - 1) for j in range(k)]
    edges += [(ids[i, j], ids[i, j + 1]) for i in range(k) for j in range(k - 1)]
    keep = rng.random(len(edges)) > 0.15
    tail, head = (np.array(c) for c in zip(*np.array(edges)[keep], strict=True))
    m = tail.size
    length = np.hypot(x[head] - x[tail], y[head] - y[tail])
    oneway = rng.random(m) < 0.2
    net = RoadNetwork(
        x=x, y=y, crs="EPSG:3067", tail=tail, head=head, length_m=length,
        time_s=length / rng.uniform(5, 15, m), road_class=np.full(m, "residential", object),
        oneway=oneway, ferry=np.zeros(m, bool), mid_x=(x[tail] + x[head]) / 2,
        mid_y=(y[tail] + y[head]) / 2, source_row=np.arange(m) + 100, class_column="highway",
        profile=CAR, meta={"node_refs": np.arange(k * k) + 1000, "split_at_vertices": True},
    )  # fmt: skip
    rows = {"from": [], "via": [], "to": [], "only": []}
    for _ in range(12):  # turns between two edges that share a node
        e, f = rng.integers(0, m, 2)
        shared = {tail[e], head[e]} & {tail[f], head[f]}
        if e != f and shared:
            rows["from"].append(e + 100)
            rows["via"].append(min(shared) + 1000)
            rows["to"].append(f + 100)
            rows["only"].append(bool(rng.random() < 0.3))
    net.meta["turn_restriction_rows"] = {k_: np.asarray(v) for k_, v in rows.items()}
    return net


def _networkx_times(net: RoadNetwork, profile, src: int) -> np.ndarray:
    """Edge-based Dijkstra written from the rules' definition: states are directed arcs
    (edge, direction); a turn costs by its angle at junctions; restrictions forbid; a
    U-turn is priced at junctions, dead ends and via nodes, free along a road."""
    arcs = []
    for e in range(net.num_edges):
        arcs.append((e, net.tail[e], net.head[e]))
        if not net.oneway[e]:
            arcs.append((e, net.head[e], net.tail[e]))
    neigh = [set() for _ in range(net.num_nodes)]
    for _, u, v in arcs:
        neigh[u].add(v)
        neigh[v].add(u)
    rows = net.meta["turn_restriction_rows"]
    tc = profile.turn_costs

    def heading(u, v):
        return math.atan2(net.y[v] - net.y[u], net.x[v] - net.x[u])

    def allowed(a, b, v):
        way_in, way_out = net.source_row[a[0]], net.source_row[b[0]]
        for f, via, t, only in zip(*(rows[k] for k in ("from", "via", "to", "only")),
                                   strict=True):  # fmt: skip
            if via - 1000 != v or way_in != f:
                continue
            if (only and way_out != t) or (not only and way_out == t):
                return False
        return True

    g = nx.DiGraph()
    for a in arcs:
        if a[1] == src:
            g.add_edge("start", a, weight=net.time_s[a[0]])
        for b in arcs:
            if b[1] != a[2] or not allowed(a, b, a[2]):
                continue
            cost = 0.0
            if b[0] == a[0] and b[2] == a[1]:
                priced = len(neigh[a[2]]) != 2 or a[2] + 1000 in set(rows["via"].tolist())
                cost = tc["u_turn_s"] if priced else 0.0
            elif len(neigh[a[2]]) >= 3:
                d = math.degrees(heading(b[1], b[2]) - heading(a[1], a[2]))
                d = (d + 180) % 360 - 180
                cost = tc["left_s"] if d > tc["straight_deg"] else 0.0
                cost = tc["right_s"] if d < -tc["straight_deg"] else cost
            g.add_edge(a, b, weight=net.time_s[b[0]] + cost)
    dist = nx.single_source_dijkstra_path_length(g, "start")
    out = np.full(net.num_nodes, np.inf)
    out[src] = 0.0
    for a, d in dist.items():
        if a != "start":
            out[a[2]] = min(out[a[2]], d)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_expanded_graph_matches_an_edge_based_dijkstra(seed):
    rng = np.random.default_rng(seed)
    net = _random_grid(rng)
    profile = CAR if seed % 2 else NO_COSTS
    tg = turn_graph(net, profile)
    g = Graph.from_edges(tg.tail, tg.head, tg.time_s, tg.length_m, num_nodes=tg.num_nodes)
    for src in (0, 7, 20):
        ours = g.nearest([src]).time_s[tg.destination_state(np.arange(net.num_nodes))]
        np.testing.assert_allclose(ours, _networkx_times(net, profile, src), rtol=1e-12)


# --------------------------------------------------------------- real extracts
# (both readers give the same rules: tests/inputs/test_osm_rust.py)
@pytest.mark.shared_data
def test_helsinki_study_with_the_car_rules(capsys):
    """The study on the central Helsinki extract with car_fi's rules: the expanded graph
    is routed, restrictions apply, and turn rules only ever lengthen a trip (cell by
    cell, against the same limits without restrictions, destination rule or costs)."""
    import pandas as pd

    from hexaccess.offices import Offices
    from hexaccess.population import read_square_grid
    from hexaccess.study import road

    pbf = shared_file("osm/helsinki_centre.osm.pbf")
    grid = shared_file("helsinki/hsy_population_250m_2020.gpkg")
    pop = read_square_grid(grid, {"population": "total"}, id_column="id", resolution=9)
    no_turn_rules = CAR.with_overrides(
        osm_restriction_tags=(),
        osm_destination_access=(),
        **{f"osm.turn_costs.{k}": 0 for k in ("left_s", "right_s", "u_turn_s")},
    )
    times, diag = {}, {}
    for label, prof in (("rules", CAR), ("limits_only", no_turn_rules)):
        net = read_osm_pbf(pbf, prof)
        lon, lat = net.node_lonlat()
        offs = Offices(
            pd.DataFrame({"name": ["Centre"], "lon": [np.median(lon)], "lat": [np.median(lat)]})
        )
        access = road.build_access_graph(net, pop, offs, prof)
        res = road.solve(access)
        times[label] = res.cells["time_s"].to_numpy()
        diag[label] = access.hygiene_diagnostics(res, "total", np.zeros(net.num_nodes, int))
    rules = diag["rules"]["car_rules"]
    with capsys.disabled():
        print(f"\nHelsinki car rules: {rules}")
    assert rules["edge_expanded"] and not diag["limits_only"]["car_rules"]["edge_expanded"]
    assert rules["turn_restrictions_read"] == 45 and rules["restrictions_applied"] > 30
    assert rules["maxspeed_edges"] > 1000 and rules["destination_only_edges"] > 0
    assert np.isfinite(times["rules"]).all()
    assert (times["rules"] >= times["limits_only"] - 1e-9).all()
    assert (times["rules"] > times["limits_only"] + 1).any()
