"""Population + roads + offices → travel times (``hexaccess.accessibility``, ``hexaccess run``).

The expected per-cell times are recomputed independently: cell centres with h3-py, the
nearest point of the nearest road segment by brute force with shapely (``distance``,
``project``), road times with scipy's Dijkstra on the *forward* network (home → office)
between the ends of the snapped edges, the part-edge times in proportion to the
position along the edge, plus the access legs and the terminal time by hand.
"""

from __future__ import annotations

import json
import warnings

import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from fixtures.shared import shared_file
from pyogrio.raw import write
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from hexaccess import accessibility, cli
from hexaccess.network import read_roads
from hexaccess.offices import read_offices
from hexaccess.population import read_eurostat_grid
from hexaccess.profiles import load_profile
from hexaccess.study import road as study_road

X0, Y0 = 385_000.0, 6_672_000.0  # near Helsinki, EPSG:3067 (TM35FIN), metres


def _roads_gpkg(tmp_path):
    a, b, c = (X0, Y0), (X0 + 10_000, Y0), (X0 + 10_000, Y0 + 10_000)
    island = [(X0 + 40_000, Y0 + 40_000), (X0 + 43_000, Y0 + 40_000)]
    lines = [
        shapely.LineString([a, (X0 + 5_000, Y0 + 300), b]),  # shape point in the middle
        shapely.LineString([b, c]),
        shapely.LineString([c, a]),
        shapely.LineString(island),
    ]
    path = tmp_path / "roads.gpkg"
    write(
        path,
        geometry=shapely.to_wkb(np.array(lines, dtype=object)),
        field_data=[np.array([23, 22, 21, 21], dtype=np.int32), np.array(["", "yes", "", ""])],
        fields=["IGDS_LEVEL", "oneway"],
        geometry_type="LineString",
        crs="EPSG:3067",
        driver="GPKG",
    )
    return path


def _population_csv(tmp_path):
    to3035 = Transformer.from_crs("EPSG:3067", "EPSG:3035", always_xy=True)
    points = [
        (X0 + 2_000, Y0 + 500),
        (X0 + 9_000, Y0 + 4_000),
        (X0 + 6_000, Y0 + 7_000),
        (X0 + 41_000, Y0 + 40_500),  # on the island: no office there
        (X0 - 60_000, Y0 - 60_000),  # farther than 30 km from every road
    ]
    rows = []
    for k, (x, y) in enumerate(points):
        e, n = to3035.transform(x, y)
        e, n = int(e // 1000 * 1000), int(n // 1000 * 1000)
        rows.append(
            {"GRD_ID": f"CRS3035RES1000mN{n}E{e}", "T": 100 * (k + 1), "Y_GE65": 10 * (k + 1)}
        )
    path = tmp_path / "pop.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _offices_csv(tmp_path):
    to_ll = Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform([X0 + 200, X0 + 10_000], [Y0 + 100, Y0 + 10_300])
    path = tmp_path / "offices.csv"
    pd.DataFrame({"name": ["West", "North"], "lon": lon, "lat": lat}).to_csv(path, index=False)
    return path


@pytest.fixture
def study(tmp_path):
    return _roads_gpkg(tmp_path), _population_csv(tmp_path), _offices_csv(tmp_path)


@pytest.fixture
def loaded(study):
    """The study's inputs read and assembled (no urban slowdown: hand-checkable times)."""
    roads, popfile, offfile = study
    profile = load_profile("car_fi")
    net = read_roads(roads, profile)
    pop = read_eurostat_grid(popfile, resolution=8)
    offs = read_offices(offfile)
    access = accessibility.build_access_graph(net, pop, offs, profile, urban_slowdown=False)
    return net, pop, offs, profile, access


def _snap_brute(network, x, y):
    """Nearest point of every road segment, by brute force: (edge, fraction, distance)."""
    p = shapely.Point(x, y)
    best = (np.inf, -1, 0.0)
    for e in range(network.num_edges):
        t, h = network.tail[e], network.head[e]
        seg = shapely.LineString([(network.x[t], network.y[t]), (network.x[h], network.y[h])])
        d = seg.distance(p)
        if d < best[0]:
            best = (d, e, seg.project(p, normalized=True))
    return best[1], best[2], best[0]


def _expected_times(network, pop, offices, profile):
    """Home → office times, recomputed without the engine: a home on edge (e, f) leaves
    by the edge's head after (1 - f) of its time, or (two-way) by its tail after f; an
    office on edge (e', f') is entered from its tail after f' or (two-way) from its head
    after 1 - f'; on one edge a home may also drive straight along it."""
    to_net = Transformer.from_crs("EPSG:4326", network.crs, always_xy=True)
    tail, head, t, _ = network.to_edge_arrays(both_directions=True)
    n = network.num_nodes
    road = dijkstra(csr_matrix((t, (tail, head)), shape=(n, n)), indices=range(n))
    speed = profile.access_speed_kmh / 3.6
    leg = profile.access_detour_factor / speed  # seconds per metre of straight line

    def place(lon, lat):
        e, f, d = _snap_brute(network, *to_net.transform(lon, lat))
        te, two, seg = network.time_s[e], not network.oneway[e], network.length_m[e]
        # On a one-way edge a point at an end (within 1 cm) is that end's node.
        at_tail, at_head = two or f * seg < 0.01, two or (1 - f) * seg < 0.01
        exits = [(network.head[e], (1 - f) * te)] + ([(network.tail[e], f * te)] if at_tail else [])
        entries = [(network.tail[e], f * te)] + (
            [(network.head[e], (1 - f) * te)] if at_head else []
        )
        return e, f, d, exits, entries

    def node_place(lon, lat):  # snap = "node": the nearest node, by brute force
        x, y = to_net.transform(lon, lat)
        d = np.hypot(network.x - x, network.y - y)
        node = int(np.argmin(d))
        return -1, 0.0, float(d.min()), [(node, 0.0)], [(node, 0.0)]

    if profile.access_snap == "node":
        place = node_place
    office_places = [place(lon, lat) for lon, lat in zip(offices.lon, offices.lat, strict=True)]
    expected = []
    for cell in pop.cells:
        lat, lon = h3.cell_to_latlng(format(int(cell), "x"))
        e, f, d, exits, _ = place(lon, lat)
        if d > profile.max_access_distance_m:
            expected.append(np.inf)
            continue
        best = np.inf
        for oe, of, od, _, entries in office_places:
            via = min(a + road[u, v] + b for u, a in exits for v, b in entries)
            if e >= 0 and oe == e and (of >= f or not network.oneway[e]):
                via = min(via, abs(of - f) * network.time_s[e])
            best = min(best, d * leg + via + od * leg + profile.terminal_time_s)
        expected.append(best)
    return np.array(expected)


@pytest.mark.parametrize("snap", ["node", "edge"])
def test_times_match_an_independent_computation(loaded, snap):
    net, pop, offs, profile, access = loaded
    profile = profile.with_overrides(access_snap=snap)
    access = accessibility.build_access_graph(net, pop, offs, profile, urban_slowdown=False)
    with pytest.warns(UserWarning, match="farther than 30.0 km"):
        result = accessibility.solve(access, ["total", "age_65_plus"])
    expected = _expected_times(net, pop, offs, profile)
    got = result.cells["time_s"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    # The one-way B->C side matters: from near C, home->office differs from office->home.
    assert np.isfinite(expected).sum() >= 3 and np.isinf(expected).sum() >= 2
    # Every person is accounted for: reached bands + unreachable = total.
    s = result.summary()
    assert s["population_total"] == pop.total() == 1500
    unreached = result.cells.loc[~result.cells["reached"], "total"].sum()
    assert s["population_unreachable"] == unreached
    assert s["population_unconnected"] == 500  # the far square (5th, 500 people)
    assert s["population_no_office_in_component"] == 400  # the island square
    # The island road (one component without an office) carries exactly that square.
    net_diag = s["network"]
    assert net_diag["components"] == 2 and net_diag["islands_without_office"] == 1
    assert net_diag["population_on_islands_without_office"] == 400
    assert sum(net_diag["km_by_class"].values()) == pytest.approx(net_diag["total_km"])
    bands = result.bands()
    assert bands["population"].sum() + unreached == 1500
    reached = result.cells["reached"].to_numpy()
    w = result.cells["total"].to_numpy()
    assert s["mean_time_min"] == pytest.approx(np.average(got[reached], weights=w[reached]) / 60)


def test_one_way_direction_is_home_to_office(loaded):
    net, pop, _, _, access = loaded
    assert net.oneway.sum() == 1
    # Reversed graph: searching from the offices over it equals searching *to* them.
    with pytest.warns(UserWarning):
        r = accessibility.solve(access, ["total"], offices=[1])  # only "North", at C
    to_net = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    cx, cy = to_net.transform(*pop.centers_lonlat())
    near_b = int(np.argmin(np.hypot(cx - (X0 + 9_000), cy - (Y0 + 4_000))))
    tail, head, t, _ = net.to_edge_arrays(both_directions=True)
    g = csr_matrix((t, (tail, head)), shape=(net.num_nodes,) * 2)
    b = int(np.argmin(np.hypot(net.x - (X0 + 10_000), net.y - Y0)))
    c = int(np.argmin(np.hypot(net.x - (X0 + 10_000), net.y - (Y0 + 10_000))))
    assert dijkstra(g, indices=b)[c] < dijkstra(g, indices=c)[b]  # B->C direct, C->B round
    assert r.cells.loc[near_b, "office_name"] == "North"


def test_empty_office_set_and_unknown_column_are_refused(loaded):
    access = loaded[-1]
    with pytest.raises(accessibility.AccessibilityInputError, match="office set is empty"):
        accessibility.solve(access, offices=[])
    with pytest.raises(KeyError, match="unknown population column"):
        accessibility.solve(access, ["nobody"])


def test_office_far_from_roads_is_named(study, tmp_path):
    roads, popfile, _ = study
    far = tmp_path / "far.csv"
    pd.DataFrame({"name": ["Lapland hut"], "lon": [27.0], "lat": [68.5]}).to_csv(far, index=False)
    profile = load_profile("car_fi")
    with pytest.raises(accessibility.AccessibilityInputError, match="'Lapland hut'"):
        accessibility.build_access_graph(
            read_roads(roads, profile), read_eurostat_grid(popfile), read_offices(far), profile
        )


def test_cli_run_writes_the_contract_files(study, tmp_path, capsys):
    roads, popfile, offfile = study
    out = tmp_path / "out"
    code = cli.main(
        [
            "run",
            "--population",
            str(popfile),
            "--roads",
            str(roads),
            "--offices",
            str(offfile),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    bands = pd.read_csv(out / "bands.csv")
    assert list(bands.columns) == [
        "band_start_min",
        "band_end_min",
        "population",
        "share_pct",
        "cumulative_pct",
    ]
    summary = json.loads((out / "summary.json").read_text())
    for key in ["population_total", "population_unreachable", "mean_time_min", "mean_distance_km"]:
        assert key in summary
    assert set(summary["coverage_pct"]) == {"30", "60", "90"}
    assert summary["population_total"] == 1500
    assert summary["provenance"]["inputs"]["roads"]["sha256"]
    cells = pd.read_parquet(out / "cells.parquet")
    assert cells["total"].sum() == 1500
    # Shares are of everyone, unreachable included.
    assert bands["share_pct"].sum() == pytest.approx(
        100 * (1 - summary["population_unreachable"] / 1500)
    )


def test_cli_reports_bad_input_clearly(study, tmp_path, capsys):
    roads, popfile, _ = study
    code = cli.main(
        [
            "run",
            "--population",
            str(popfile),
            "--roads",
            str(roads),
            "--offices",
            str(tmp_path / "missing.csv"),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ]
    )
    assert code == 2
    assert "office file not found" in capsys.readouterr().err
    assert cli.main(["run", "--population", str(popfile), "--quiet"]) == 2


def test_cli_demo_runs_without_inputs(tmp_path, capsys):
    assert cli.main(["run", "--demo", "synthetic", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "SYNTHETIC" in text
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "SYNTHETIC" in summary["data"]
    bands = pd.read_csv(tmp_path / "bands.csv")
    # Everyone is counted once: bands plus unreachable make the whole population.
    assert bands["population"].sum() + summary["population_unreachable"] == pytest.approx(
        summary["population_total"]
    )
    assert summary["offices"] == 50 and summary["offices_fixed"] == 18


@pytest.mark.shared_data
def test_finland_50_offices_beside_the_study(tmp_path, capsys):
    """The study's 50-office network on the real mainland inputs, printed beside the
    published table. Not a calibration (that is a later capability): the assertions are
    sanity bounds, the printed table is the evidence. (The study used 2019 population;
    the Eurostat grid is 2021, so totals differ by design.)"""
    pop = shared_file("finland/census2021_1km.csv")
    table = shared_file("finland/grid_municipality.csv")
    roads = shared_file("finland/roads_mml_1milj/road.shp")
    offices = shared_file("finland/study_offices_50.csv")
    study = pd.read_csv(shared_file("finland/study_bands_50.csv"))
    out = tmp_path / "fin"
    code = cli.main(
        [
            "run",
            "--population",
            str(pop),
            "--roads",
            str(roads),
            "--offices",
            str(offices),
            "--municipality-table",
            str(table),
            "--exclude-municipalities",
            "aland",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    ours = pd.read_csv(out / "bands.csv")
    summary = json.loads((out / "summary.json").read_text())
    side = pd.DataFrame(
        {
            "minutes": [
                f"{a:.0f}-{b:.0f}"
                for a, b in zip(ours.band_start_min, ours.band_end_min, strict=True)
            ],
            "ours_%": ours.share_pct.round(2),
            "ours_cum_%": ours.cumulative_pct.round(2),
        }
    ).head(len(study))
    side["study_%"] = study["share_pct"].round(2).to_numpy()[: len(side)]
    side["study_cum_%"] = study["cumulative_pct"].round(2).to_numpy()[: len(side)]
    with capsys.disabled():
        print("\n50-office network, mainland Finland: ours (uncalibrated car_fi) vs the study")
        print(side.to_string(index=False))
        print(
            f"mean time ours {summary['mean_time_min']:.1f} min; unreachable "
            f"{summary['population_unreachable']:.0f} people"
        )
    assert summary["population_total"] == 5_439_866  # Eurostat 2021 mainland
    # Sanity bounds, not calibration: the shape must already be close to the study's.
    assert abs(summary["coverage_pct"]["60"] - float(study.loc[5, "cumulative_pct"])) < 1.5
    assert (side["ours_%"] - side["study_%"]).abs().max() < 4.0
    assert 10.0 < summary["mean_time_min"] < 40.0


def test_result_knows_its_own_offices(loaded):
    # A study graph may hold several networks' offices: counts and islands are per result.
    access = loaded[-1]
    with pytest.warns(UserWarning):
        one = accessibility.solve(access, ["total"], offices=[1])
    assert one.office_indices.tolist() == [1]
    assert one.summary()["offices"] == 1
    for bad in ([2], [-1]):
        with pytest.raises(accessibility.AccessibilityInputError, match=r"outside 0\.\.1"):
            accessibility.solve(access, ["total"], offices=bad)
    with pytest.raises(accessibility.AccessibilityInputError, match="integer office indices"):
        accessibility.solve(access, ["total"], offices=[0.5])


def test_cells_and_offices_share_one_nearest_node_search(loaded, monkeypatch):
    # One connect_points call (one search structure) for cells and offices; same tables
    # as two calls with the same attach mask and snapping.
    from hexaccess import network

    net, pop, offs, profile, access = loaded
    calls = []
    real = network.connect_points

    def counting(*args, **kwargs):
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(study_road, "connect_points", counting)
    again = accessibility.build_access_graph(net, pop, offs, profile, urban_slowdown=False)
    assert calls == [len(pop.cells) + len(offs)]
    to_net = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    lon, lat = pop.centers_lonlat()
    kw = {"node_mask": again.attach.mask, "snap": profile.access_snap}
    cols = ["edge", "fraction", "snap_x", "snap_y", "distance_m", "access_time_s", "connected"]
    pd.testing.assert_frame_equal(
        again.cell_connection[cols], real(net, *to_net.transform(lon, lat), profile, **kw)[cols]
    )
    pd.testing.assert_frame_equal(
        again.office_connection[cols],
        real(net, *to_net.transform(offs.lon, offs.lat), profile, **kw)[cols],
    )
    pd.testing.assert_frame_equal(again.cell_connection, access.cell_connection)


def test_density_lookup_is_the_grid_density_of_the_point_cell(loaded):
    net, pop, *_ = loaded
    density_at = accessibility.density_lookup(pop, net.crs)
    lon, lat = pop.centers_lonlat()
    x, y = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True).transform(lon, lat)
    area = h3.average_hexagon_area(pop.resolution, unit="km^2")
    np.testing.assert_allclose(density_at(x, y), pop.frame["total"].to_numpy() / area)
    np.testing.assert_array_equal(density_at(x, y), pop.density_per_km2(pop.cells))


def test_long_office_access_leg_warns_with_name_and_distance(study, tmp_path):
    roads, popfile, _ = study
    to_ll = Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform([X0 + 200, X0 + 5_000], [Y0 + 100, Y0 - 12_000])
    path = tmp_path / "sea.csv"
    pd.DataFrame({"name": ["West", "Sea"], "lon": lon, "lat": lat}).to_csv(path, index=False)
    profile = load_profile("car_fi")
    args = (read_roads(roads, profile), read_eurostat_grid(popfile), read_offices(path))
    with pytest.warns(UserWarning, match=r"1 office\(s\) join .* 'Sea' \(lon .*: 12\.\d km\)"):
        access = accessibility.build_access_graph(*args, profile, urban_slowdown=False)
    with pytest.warns(UserWarning):
        diag = accessibility.solve(access, ["total"]).summary()["network"]
    assert diag["access_warn_distance_m"] == 5000.0
    assert [o["office"] for o in diag["offices_with_long_access_legs"]] == ["Sea"]
    quiet = profile.with_overrides(warn_access_distance_m=20_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no leg longer than 20 km: no warning
        accessibility.build_access_graph(*args, quiet, urban_slowdown=False)
