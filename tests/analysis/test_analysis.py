"""Figures of a study (``hexaccess.analysis``), each checked against an independent
computation: numpy/pandas one-liners on hand-made per-cell tables, and, for the
searches (language access, office subsets), scipy's Dijkstra on a tiny real pipeline.

The tiny world (``fixtures.worlds``) is shared with the report, scenario and calibration
tests.
"""

from __future__ import annotations

from types import SimpleNamespace

import h3
import numpy as np
import pandas as pd
import pytest
from fixtures.worlds import OFFICES, POINTS, X0, Y0, tiny_access, tiny_world  # noqa: F401
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from hexaccess import analysis
from hexaccess.accessibility import AccessibilityInputError, AccessibilityResult
from hexaccess.offices import Offices, read_municipalities
from hexaccess.results import BANDS_COLUMNS


def expected_times(access, office_indices):
    """Home → nearest office time of every cell, without the engine: brute-force nearest
    road node, scipy Dijkstra on the forward road graph, access legs and terminal time."""
    net, prof = access.network, access.profile
    to_net = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    tail, head, t, _ = net.to_edge_arrays(both_directions=True)
    road = dijkstra(csr_matrix((t, (tail, head)), shape=(net.num_nodes,) * 2))
    v = prof.access_speed_kmh / 3.6

    def attach(lon, lat):
        x, y = to_net.transform(lon, lat)
        d = np.hypot(net.x - x, net.y - y)
        return int(np.argmin(d)), float(d.min())

    offs = access.offices.frame.iloc[list(office_indices)]
    legs = [attach(lo, la) for lo, la in zip(offs["lon"], offs["lat"], strict=True)]
    out = []
    for cell in access.population.cells:
        lat, lon = h3.cell_to_latlng(format(int(cell), "x"))
        node, d = attach(lon, lat)
        if d > prof.max_access_distance_m:
            out.append(np.inf)
            continue
        out.append(
            min(
                d * prof.access_detour_factor / v
                + road[node, o]
                + e * prof.access_detour_factor / v
                + prof.terminal_time_s
                for o, e in legs
            )
        )
    return np.array(out)


# -------------------------------------------------------- hand-made results
def fake_result(cells: pd.DataFrame, office_names, columns=("total", "age_65_plus"), **prov):
    """An AccessibilityResult around a hand-made per-cell table (no search needed)."""
    offices = Offices(
        pd.DataFrame(
            {
                "name": office_names,
                "lon": np.linspace(24.0, 25.0, len(office_names)),
                "lat": np.full(len(office_names), 60.5),
                "municipality": ["001"] * len(office_names),
            }
        )
    )
    access = SimpleNamespace(offices=offices)
    searched = np.asarray(prov.pop("office_indices", range(len(office_names))), dtype=np.int64)
    return AccessibilityResult(access, cells, None, tuple(columns), searched, dict(prov))  # type: ignore[arg-type]


def random_cells(n=400, seed=1, offices=4):
    rng = np.random.default_rng(seed)
    t = rng.gamma(2.0, 600.0, n)  # seconds, mean 20 min
    t[rng.random(n) < 0.05] = np.inf
    d = np.where(np.isfinite(t), t * rng.uniform(10, 25, n), np.inf)
    office = np.where(np.isfinite(t), rng.integers(0, offices, n), -1)
    return pd.DataFrame(
        {
            "h3": [f"cell{i}" for i in range(n)],
            "municipality": rng.choice(["091", "049", "837", "564"], n),
            "total": rng.integers(0, 500, n).astype(float),
            "age_65_plus": rng.integers(0, 100, n).astype(float),
            "time_s": t,
            "distance_m": d,
            "office": office,
            "reached": np.isfinite(t),
        }
    )


def test_band_table_hand_worked():
    cells = pd.DataFrame(
        {
            "h3": ["a", "b", "c", "d", "e"],
            "total": [100.0, 200.0, 300.0, 400.0, 0.0],
            "age_65_plus": [1.0, 2.0, 3.0, 4.0, 0.0],
            "time_s": [5 * 60, 12 * 60, 20 * 60, np.inf, 3 * 60],  # 20:00 opens 20-30
            "distance_m": [1e3, 5e3, 9e3, np.inf, 500],
            "office": [0, 0, 1, -1, 1],
        }
    )
    t = analysis.band_table(fake_result(cells, ["A", "B"]), 10)
    assert t["band"].tolist() == ["0-10", "10-20", "20-30", "unreachable"]
    assert t["population"].tolist() == [100, 200, 300, 400]
    assert t["share_pct"].tolist() == [10, 20, 30, 40]
    assert t["cumulative_pct"].iloc[-1] == pytest.approx(100)
    assert np.isnan(t["band_start_min"].iloc[-1])


@pytest.mark.parametrize("width", [10.0, 7.5, 1.0, 45.0])
@pytest.mark.parametrize("column", ["total", "age_65_plus"])
def test_band_table_any_width_and_column(width, column):
    cells = random_cells()
    t = analysis.band_table(fake_result(cells, list("ABCD")), width, column)
    minutes = cells["time_s"] / 60
    ok = np.isfinite(minutes)
    expected = cells.loc[ok, column].groupby((minutes[ok] // width).astype(int)).sum()
    got = t.iloc[:-1].set_index(t["band_start_min"].iloc[:-1] // width)["population"]
    np.testing.assert_allclose(
        got.reindex(expected.index).to_numpy(), expected.to_numpy(), rtol=0, atol=1e-9
    )
    assert got.sum() == pytest.approx(cells.loc[ok, column].sum())
    assert t["population"].iloc[-1] == cells.loc[~ok, column].sum()
    assert t["share_pct"].sum() == pytest.approx(100)
    assert t.attrs["provenance"]["parameters"] == {"band_minutes": width, "column": column}


def test_coverage_minutes_and_km():
    cells = random_cells()
    cov = analysis.coverage(fake_result(cells, list("ABCD")), minutes=[30, 60], km=[40, 5])
    for col in ("total", "age_65_plus"):
        w = cells[col]
        total = w.sum()
        for m in (30, 60):
            row = cov.query("column == @col and measure == 'minutes' and threshold == @m")
            assert row["share_pct"].item() == pytest.approx(
                w[cells.time_s / 60 < m].sum() / total * 100
            )
        for k in (40, 5):
            row = cov.query("column == @col and measure == 'km' and threshold == @k")
            assert row["population_within"].item() == w[cells.distance_m / 1000 <= k].sum()


def test_means_per_column():
    cells = random_cells()
    m = analysis.means(fake_result(cells, list("ABCD"))).set_index("column")
    ok = cells["reached"]
    for col in ("total", "age_65_plus"):
        w = cells.loc[ok, col]
        assert m.loc[col, "mean_time_min"] == pytest.approx(
            np.average(cells.loc[ok, "time_s"] / 60, weights=w)
        )
        assert m.loc[col, "mean_distance_km"] == pytest.approx(
            np.average(cells.loc[ok, "distance_m"] / 1000, weights=w)
        )
        assert m.loc[col, "population_unreachable"] == cells.loc[~ok, col].sum()


def test_catchments_and_visits():
    cells = random_cells(offices=3)  # office D (index 3) is open but nobody's nearest
    r = fake_result(cells, list("ABCD"), office_indices=[0, 1, 2, 3])
    c = analysis.catchments(r, "total", {"Kela": 0.35, "Police": 0.1}).set_index("name")
    live = cells[(cells.office >= 0) & (cells.total > 0)]
    for k, name in enumerate("ABC"):
        sub = live[live.office == k]
        assert c.loc[name, "population"] == sub.total.sum()
        assert c.loc[name, "mean_time_min"] == pytest.approx(
            np.average(sub.time_s / 60, weights=sub.total)
        )
        assert c.loc[name, "max_time_min"] == pytest.approx(sub.time_s.max() / 60)
        assert c.loc[name, "visits_Kela"] == pytest.approx(sub.total.sum() * 0.35)
        assert c.loc[name, "visits_total"] == pytest.approx(sub.total.sum() * 0.45)
    assert c.loc["D", "population"] == 0 and np.isnan(c.loc["D", "mean_time_min"])
    assert c["share_pct"].sum() == pytest.approx(live.total.sum() / cells.total.sum() * 100)


def test_municipality_means_maxima_and_ranks():
    cells = random_cells()
    munis = read_municipalities(
        pd.DataFrame(
            {
                "municipality": ["091", "049", "837", "564"],
                "name_fi": ["Helsinki", "Espoo", "Tampere", "Oulu"],
                "name_sv": ["Helsingfors", "Esbo", "Tammerfors", "Uleåborg"],
                "language": ["Bilingual municipality with Finnish-speaking majority"] * 4,
                "region": ["x"] * 4,
                "centre_lon": [25.0] * 4,
                "centre_lat": [60.0] * 4,
            }
        )
    )
    t = analysis.municipality_table(fake_result(cells, list("ABCD")), "total", munis)
    t = t.set_index("municipality")
    for code, g in cells.groupby("municipality"):
        ok = g[g.reached & (g.total > 0)]
        reached = g[g.reached]
        assert t.loc[code, "max_time_min"] == pytest.approx(ok.time_s.max() / 60)
        assert t.loc[code, "max_distance_km"] == pytest.approx(ok.distance_m.max() / 1000)
        assert t.loc[code, "mean_time_min"] == pytest.approx(
            np.average(reached.time_s / 60, weights=reached.total)
        )
        assert t.loc[code, "share_within_60min_pct"] == pytest.approx(
            g.total[g.time_s < 3600].sum() / g.total.sum() * 100
        )
    assert t.loc[t["mean_time_min"].idxmax(), "rank_by_minutes"] == 1
    assert t.loc[t["mean_distance_km"].idxmax(), "rank_by_km"] == 1
    assert t.loc["091", "name"] == "Helsinki"


def test_compare_gains_and_losses():
    a = random_cells(seed=3)
    b = a.copy()
    rng = np.random.default_rng(7)
    b["time_s"] = a["time_s"] + rng.normal(0, 600, len(a))  # ±10 min
    b.loc[:4, "time_s"] = np.inf  # lose reachability
    b.loc[a.index[~a.reached], "time_s"] = 900.0  # become reachable
    b["time_s"] = b["time_s"].clip(lower=0)
    ra, rb = fake_result(a, list("ABCD")), fake_result(b, list("ABCD"))
    for r in (ra, rb):
        r.cells["office_name"] = "A"
    cmp = analysis.compare({"today": ra, "joint": rb}, 10, "total", threshold_min=5)
    row = cmp.changes.iloc[0]
    d = (b.time_s - a.time_s) / 60
    both = np.isfinite(a.time_s) & np.isfinite(b.time_s)
    assert row.population_gains == a.total[both & (d < -5)].sum()
    assert row.population_loses == a.total[both & (d > 5)].sum()
    assert row.population_becomes_unreachable == a.total[a.reached & ~np.isfinite(b.time_s)].sum()
    assert row.population_becomes_reachable == a.total[~a.reached].sum()
    assert cmp.bands["diff_pp_joint"].sum() == pytest.approx(0, abs=1e-9)  # shares sum to 100
    ta, tb = analysis.band_table(ra), analysis.band_table(rb)
    n = min(len(ta), len(tb)) - 1
    np.testing.assert_allclose(
        cmp.bands["share_pct_joint"].to_numpy()[:n], tb["share_pct"].to_numpy()[:n]
    )


def test_bad_arguments_are_refused_clearly():
    r = fake_result(random_cells(), list("ABCD"))
    for width in (0, -5, float("nan")):
        with pytest.raises(analysis.AnalysisInputError, match="band width must be > 0"):
            analysis.band_table(r, width)
    with pytest.raises(analysis.AnalysisInputError, match="unknown population column 'kids'"):
        analysis.means(r, "kids")
    with pytest.raises(analysis.AnalysisInputError, match="two or more networks"):
        analysis.compare({"one": r})
    other = fake_result(random_cells(n=10), list("ABCD"))
    with pytest.raises(analysis.AnalysisInputError, match="other population cells"):
        analysis.compare({"a": r, "b": other})


# ----------------------------------------------------------- real searches
@pytest.fixture
def world(tmp_path):
    return tiny_world(tmp_path)


def test_office_subsets_and_language_access(world):
    access = tiny_access(world)
    munis = read_municipalities(world.municipalities)
    with pytest.warns(UserWarning, match="farther than"):
        full = analysis.solve_network(access, None, name="all")
    np.testing.assert_allclose(full.cells["time_s"], expected_times(access, [0, 1, 2]))
    with pytest.warns(UserWarning):
        west = analysis.solve_network(access, [0], name="west")
    np.testing.assert_allclose(west.cells["time_s"], expected_times(access, [0]))
    # Only North lies in a bilingual municipality; Swedish-speaking and bilingual
    # municipalities are 002 and 003.
    assert analysis.swedish_service_offices(access, munis).tolist() == [1]
    lang = analysis.language_access(full, munis)
    assert lang.municipalities == ["002", "003"]
    in_lang = full.cells["municipality"].isin(["002", "003"]).to_numpy()
    np.testing.assert_allclose(lang.cells["time_s"], expected_times(access, [1])[in_lang])
    np.testing.assert_allclose(lang.cells["time_any_s"], full.cells["time_s"][in_lang])
    m = lang.means("total").iloc[0]
    ok = np.isfinite(lang.cells["time_s"])
    assert m.mean_time_min == pytest.approx(
        np.average(lang.cells.time_s[ok] / 60, weights=lang.cells.total[ok])
    )
    assert m.population_total == sum(p[3] for p in POINTS if p[2] in ("002", "003"))
    bands = lang.band_table(5)
    assert bands["population"].sum() == m.population_total
    # A network without any Swedish-service office is refused.
    with pytest.raises(analysis.AnalysisInputError, match="bilingual or Swedish"):
        analysis.language_access(west, munis)


def test_empty_and_unknown_office_sets_are_refused(world):
    access = tiny_access(world)
    with pytest.raises(AccessibilityInputError, match="office set 'none' is empty"):
        analysis.solve_network(access, [], name="none")
    with pytest.raises(AccessibilityInputError, match="unknown office indices"):
        analysis.solve_network(access, [0, 7])


def test_write_tables_records_provenance(world, tmp_path):
    access = tiny_access(world)
    with pytest.warns(UserWarning):
        r = analysis.solve_network(access, provenance_info={"study": "tiny"})
    (tmp_path / "o").mkdir()
    paths = analysis.write_tables(tmp_path / "o", {"offices.csv": analysis.catchments(r)})
    back = pd.read_csv(paths["offices.csv"])
    assert back["population"].sum() == r.cells.loc[r.cells.reached, "total"].sum()
    import json

    prov = json.loads((tmp_path / "o" / "provenance.json").read_text())
    assert prov["offices.csv"]["study"] == "tiny"
    assert prov["offices.csv"]["figure"] == "catchments"
    assert prov["offices.csv"]["office_indices"] == [0, 1, 2]


def test_office_set_problems_name_the_network(world):
    access = tiny_access(world)
    with pytest.raises(AccessibilityInputError, match=r"office set 'half': invalid or unknown"):
        analysis.solve_network(access, [0.5, 1.0], name="half")
    with pytest.raises(AccessibilityInputError, match=r"office set 'far': .*outside 0\.\.2"):
        analysis.solve_network(access, [0, 7], name="far")
    assert analysis.check_office_set(access, None).tolist() == [0, 1, 2]


def test_office_indices_are_recorded_once(world):
    access = tiny_access(world)
    with pytest.warns(UserWarning):
        r = analysis.solve_network(access, [2, 0], name="two")
    assert r.office_indices.tolist() == [2, 0]
    assert "office_indices" not in r.provenance  # the result holds them
    assert r.provenance["network"] == "two"
    assert analysis.result_provenance(r)["office_indices"] == [2, 0]
    assert analysis.means(r).attrs["provenance"]["office_indices"] == [2, 0]


def test_network_tables_are_the_figures(world):
    access = tiny_access(world)
    munis = read_municipalities(world.municipalities)
    with pytest.warns(UserWarning):
        r = analysis.solve_network(access)
    lang = analysis.language_access(r, munis)
    tables = analysis.network_tables(
        r, "age_65_plus", band_minutes=5, coverage_minutes=[45], coverage_km=[10],
        visits_per_person={"Kela": 0.35}, municipalities=munis, language=lang,
    )  # fmt: skip
    assert list(tables) == [
        "bands.csv", "bands_all.csv", "coverage.csv", "means.csv", "offices.csv",
        "municipalities.csv", "language_bands.csv", "language_means.csv",
        "language_municipalities.csv",
    ]  # fmt: skip
    bands = analysis.band_table(r, 5, "age_65_plus")
    pd.testing.assert_frame_equal(tables["bands_all.csv"], bands)
    assert list(tables["bands.csv"].columns) == BANDS_COLUMNS
    assert len(tables["bands.csv"]) == len(bands) - 1  # no unreachable row
    pd.testing.assert_frame_equal(tables["coverage.csv"], analysis.coverage(r, [45], [10]))
    pd.testing.assert_frame_equal(
        tables["offices.csv"], analysis.catchments(r, "age_65_plus", {"Kela": 0.35})
    )
    pd.testing.assert_frame_equal(tables["language_bands.csv"], lang.band_table(5, "age_65_plus"))
    assert analysis.band_labels([0, 7.5], [7.5, 15]) == ["0-7.5", "7.5-15"]


def test_write_tables_writes_only_into_the_directory_it_is_given(world, tmp_path):
    from hexaccess.errors import OutputError

    access = tiny_access(world)
    with pytest.warns(UserWarning):
        r = analysis.solve_network(access)
    tables = {"offices.csv": analysis.catchments(r), "means.csv": analysis.means(r)}
    # The directory is the caller's (hexaccess.outputs): never created here.
    with pytest.raises(OutputError, match="does not exist"):
        analysis.write_tables(tmp_path / "missing", tables)
    assert not (tmp_path / "missing").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is not a directory"):
        analysis.write_tables(tmp_path / "file", tables)
    # File names stay inside the directory and leave the provenance alone.
    out = tmp_path / "o"
    out.mkdir()
    bad_names = ("../escape.csv", "sub/bands.csv", "/tmp/abs.csv", "provenance.json", "")
    for name in (*bad_names, "manifest.json"):
        with pytest.raises(analysis.AnalysisInputError, match="plain file name"):
            analysis.write_tables(out, {name: analysis.means(r)})
    assert list(out.iterdir()) == [] and not (tmp_path / "escape.csv").exists()
    # Every file written is returned, provenance.json last, and nothing else is there.
    paths = analysis.write_tables(out, tables)
    assert list(paths) == ["offices.csv", "means.csv", "provenance.json"]
    assert sorted(out.iterdir()) == sorted(paths.values())


def test_write_tables_fills_a_staging_directory_that_commits(world, tmp_path):
    from hexaccess.outputs import prepare_output, verify_output

    access = tiny_access(world)
    with pytest.warns(UserWarning):
        r = analysis.solve_network(access)
    with prepare_output(tmp_path / "o", kind="run") as out:
        staged = analysis.write_tables(out.staging, {"means.csv": analysis.means(r)})
        assert all(p.parent == out.staging for p in staged.values())
        final = out.commit({"study": "tiny"})
    assert sorted(p.name for p in final) == ["manifest.json", "means.csv", "provenance.json"]
    verify_output(tmp_path / "o", kind="run")
