"""The HTML report on the tiny world: its content, the figures it shows against
independent computations, its helpers (band tails, cell aggregation, projection, the
choropleth), and that it renders in headless Chromium. The report of a study of
national size, judged at 1,400 pixels, is in ``test_report_render.py``."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from fixtures.browser import chromium, headless
from fixtures.worlds import tiny_access, tiny_world

from hexaccess import analysis, report
from hexaccess.offices import read_municipalities
from hexaccess.report import maps


@pytest.fixture
def html_report(tmp_path):
    world = tiny_world(tmp_path)
    access = tiny_access(world)
    munis = read_municipalities(world.municipalities)
    with pytest.warns(UserWarning):
        results = {
            "three": analysis.solve_network(access, [0, 1, 2], name="three"),
            "two": analysis.solve_network(access, [0, 1], name="two"),
        }
    cmp = analysis.compare(results, threshold_min=1)
    lang = {n: analysis.language_access(r, munis) for n, r in results.items()}
    path = report.write_report(
        tmp_path / "report.html",
        results,
        title="Tiny <study> & report",
        municipalities=munis,
        visits_per_person={"Kela": 0.35},
        comparison=cmp,
        language=lang,
        reference=REFERENCE,
        links={"three": "three/", "two": "two/"},
    )
    return path, results


#: A published-study-like reference band table: shares of the whole population.
REFERENCE = pd.DataFrame(
    {"band_start_min": [0, 10, 20], "band_end_min": [10, 20, 30], "share_pct": [30.0, 50.0, 20.0]}
)


def test_report_is_self_contained(html_report):
    path, _ = html_report
    text = path.read_text()
    assert "Tiny &lt;study&gt; &amp; report" in text  # escaped, never raw HTML
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing fetched from a network
    assert "<script" not in text  # hover tooltips are SVG <title>s, no script
    # Band chart, the first network's map (first screen), the second network's map (in a
    # fold) and one map of change.
    assert text.count("data:image/png;base64,") == 4
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg" class="choropleth"') == 2
    # The tables are linked where write_report_files writes them.
    for href in ("three/offices.csv", "two/municipalities.csv", "comparison_changes.csv"):
        assert f'href="{href}"' in text


def test_key_numbers_are_the_analysis_figures(html_report):
    """The first screen's numbers, derived again from the cells with numpy."""
    path, results = html_report
    text = path.read_text()
    for name, r in results.items():
        t = r.cells["time_s"].to_numpy() / 60.0
        w = r.cells["total"].to_numpy(float)
        ok = np.isfinite(t)
        block = text[text.index(f'id="key-n{list(results).index(name) + 1}"') :]
        values = dict(re.findall(r'data-key="([^"]+)" data-value="([^"]+)"', block)[:6])
        assert float(values["people"]) == pytest.approx(w.sum())
        assert float(values["mean"]) == pytest.approx(np.average(t[ok], weights=w[ok]))
        assert float(values["unreachable"]) == pytest.approx(w[~ok].sum())
        for m in (30, 60, 90):
            assert float(values[f"within-{m}"]) == pytest.approx(w[t < m].sum() / w.sum() * 100)
        assert f"{np.average(t[ok], weights=w[ok]):.1f} min" in block[:3000]


def test_report_renders_in_headless_chromium(html_report, tmp_path):
    path, results = html_report
    browser = chromium()
    dom = headless(browser, "--dump-dom", path.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    for ident in (
        "overview", "key-numbers", "band-chart", "national-map", "network-n1", "network-n2",
        "municipality-map-n1", "municipalities-n1", "catchments-n2", "language-n1",
        "comparison", "comparison-maps", "provenance",
    ):  # fmt: skip
        assert f'id="{ident}"' in page, ident
    for heading in ("Network: three", "Network: two", "Largest catchments", "Language access"):
        assert heading in page, heading
    # The catchment table lists every open office with its population, as computed.
    catch = analysis.catchments(results["three"])
    for row in catch.itertuples():
        assert re.search(rf"<td[^>]*>{re.escape(row.name)}</td>", page), row.name
        assert f"<td>{row.population:,.0f}</td>" in page
    assert "Kaksikko" in page  # municipality names from the table
    shot = tmp_path / "report.png"
    res = headless(browser, f"--screenshot={shot}", "--window-size=1400,2400", path.as_uri())
    assert res.returncode == 0 and shot.exists() and shot.stat().st_size > 10_000, res.stderr
    print(f"\nreport screenshot: {shot}")


def test_the_choropleth_shows_each_municipality_as_the_table_says(html_report):
    """Every municipality with people is drawn once, its fill the colour of its mean
    time on the scale (matplotlib's viridis_r over 0-90 min, computed here), its
    tooltip naming it with its numbers from municipalities.csv."""
    import matplotlib

    path, results = html_report
    text = path.read_text()
    svg = text[text.index('id="choropleth-n1"') :]
    svg = svg[: svg.index("</svg>")]
    table = analysis.municipality_table(
        results["three"], municipalities=read_municipalities(_munis_path(path))
    )
    uses = re.findall(r'<use href="#mun(\d+)" fill="(#[0-9a-f]{6})"><title>([^<]*)</title>', svg)
    assert len(uses) == len(table)
    cmap = matplotlib.colormaps["viridis_r"]
    by_name = {title.split(" (")[0]: (fill, title) for _, fill, title in uses}
    for row in table.itertuples():
        fill, title = by_name[row.name]
        if np.isfinite(row.mean_time_min):
            r, g, b, _ = cmap(min(row.mean_time_min / 90.0, 1.0))
            want = "#" + "".join(f"{round(255 * c):02x}" for c in (r, g, b))
            assert fill == want
            assert f"mean {row.mean_time_min:.1f} min" in title
        else:
            assert fill == maps.UNREACHED
        assert f"{row.population:,.0f} people" in title


def _munis_path(report_path):
    return report_path.parent / "municipalities.csv"


def test_band_tails_merge_into_one_row():
    """A far ferry island adds dozens of empty bands; the reader's table stops after the
    last band holding >= 0.1 % and merges the rest into one "N+" row (hand-worked)."""
    minutes = np.array([1.0, 5.0, 12.0, 25.0, 33.0, 610.0, np.inf])
    people = np.array([400.0, 300.0, 200.0, 90.0, 9.0, 1.0, 0.0])
    total = people.sum()
    bands = analysis._bands_of(minutes, people, 10.0)
    assert len(bands) == 63  # 0-10 ... 610-620 and the unreachable row
    # The 610-620 band holds 0.1 %: by default it counts, and the table stops at the
    # 180-minute cap; at 0.2 % the 30-40 band (0.9 %) is the last one shown.
    assert analysis.band_tail_start([bands]) == 180.0
    start = analysis.band_tail_start([bands], min_share_pct=0.2)
    assert start == 40.0
    merged = analysis.collapse_band_tail(bands, start)
    assert list(merged["band"]) == ["0-10", "10-20", "20-30", "30-40", "40+", "unreachable"]
    tail = merged.set_index("band").loc["40+"]
    assert tail["population"] == 1.0 and tail["band_end_min"] == 620.0
    assert tail["share_pct"] == pytest.approx(1.0 / total * 100)
    assert tail["cumulative_pct"] == pytest.approx(100.0)
    assert merged["share_pct"].sum() == pytest.approx(100.0)
    # Nothing to merge: a short table comes back as it is; at most max_minutes shown.
    short = analysis._bands_of(minutes[:4], people[:4], 10.0)
    assert analysis.band_tail_start([short]) is None
    assert analysis.band_tail_start([bands], max_minutes=60) == 60.0


def test_comparison_band_tails_merge_every_network():
    bands = pd.DataFrame({"band": ["0-10", "10-20", "20-30", "30-40", "40-50", "unreachable"]})
    bands["band_start_min"] = [0, 10, 20, 30, 40, np.nan]
    bands["band_end_min"] = [10, 20, 30, 40, 50, np.nan]
    bands["share_pct_a"] = [50.0, 45.0, 0.0, 4.0, 1.0, 0.0]
    bands["share_pct_b"] = [50.0, 0.0, 45.0, 5.0, 0.0, 0.0]
    bands["diff_pp_b"] = bands["share_pct_b"] - bands["share_pct_a"]
    start = analysis.band_tail_start([bands], min_share_pct=10)
    assert start == 30.0  # b's 20-30 band is the last with >= 10 %
    merged = analysis.collapse_band_tail(bands, start)
    assert list(merged["band"]) == ["0-10", "10-20", "20-30", "30+", "unreachable"]
    row = merged.set_index("band").loc["30+"]
    assert (row["share_pct_a"], row["share_pct_b"], row["diff_pp_b"]) == (5.0, 5.0, 0.0)
    # A tail of one band is left as it is (merging would only rename it).
    assert analysis.band_tail_start([bands.drop(index=4)], min_share_pct=10) is None


def test_large_maps_are_aggregated(html_report, monkeypatch):
    _, results = html_report
    r = results["three"]
    monkeypatch.setattr(maps, "MAX_MAP_CELLS", 3)
    t = r.cells["time_s"].to_numpy() / 60
    frame, data_res, res = maps._display_cells(r, t, px_m=1.0)
    assert len(frame) <= 3 and res < data_res
    # Every person is in one drawn cell (the means per parent: the next test).
    assert frame["weight"].sum() == pytest.approx(r.cells["total"].sum())


def test_cells_aggregate_to_their_parents_as_h3_says():
    """analysis.aggregate_cells against h3-py's parents and a weighted mean per parent."""
    import h3

    rng = np.random.default_rng(3)
    lat, lng = 60 + rng.random(400) * 0.5, 24 + rng.random(400) * 0.8
    strings = [h3.latlng_to_cell(a, b, 9) for a, b in zip(lat, lng, strict=True)]
    cells = maps.parse_cells(strings)
    assert cells.tolist() == [int(s, 16) for s in strings]  # the vectorised parse
    values = rng.random(400) * 60
    values[::7] = np.inf  # unreachable cells count in no mean
    weights = rng.integers(0, 50, 400).astype(float)
    got = analysis.aggregate_cells(cells, values, weights, 7).set_index("cell")
    frame = pd.DataFrame({"p": [int(h3.cell_to_parent(s, 7), 16) for s in strings]})
    frame["v"], frame["w"] = values, weights
    for parent, g in frame.groupby("p"):
        ok = np.isfinite(g["v"]) & (g["w"] >= 0)
        want = np.average(g["v"][ok], weights=g["w"][ok] + 1e-9) if ok.any() else np.inf
        assert got.loc[np.uint64(parent), "value"] == pytest.approx(want)
        assert got.loc[np.uint64(parent), "weight"] == pytest.approx(g["w"].sum())


def test_the_map_projection_keeps_the_scale_bar_true(html_report):
    """Distances in the maps' local transverse Mercator equal geodesic distances (pyproj
    Geod on GRS80) within 0.2 % up to 300 km from the central meridian, so a scale
    bar drawn in projected metres is true."""
    from pyproj import Geod

    _, results = html_report
    geo = maps.geography(results["three"])
    lon0 = float(re.search(r"\+lon_0=([-\d.]+)", geo.crs).group(1))
    lat0 = float(re.search(r"\+lat_0=([-\d.]+)", geo.crs).group(1))
    geod = Geod(ellps="GRS80")
    for dlon in (0.0, 2.5, 5.0):  # up to ~270 km east of the central meridian at 60 N
        lon = np.array([lon0 + dlon, lon0 + dlon])
        lat = np.array([lat0 - 0.5, lat0 + 0.5])  # 111 km north-south
        x, y = geo.project(lon, lat)
        *_, dist = geod.inv(lon[0], lat[0], lon[1], lat[1])
        assert np.hypot(x[1] - x[0], y[1] - y[0]) == pytest.approx(dist, rel=2e-3)
    assert [maps.nice_length(v) for v in (99e3, 120e3, 260e3, 700.0)] == [50e3, 100e3, 200e3, 500]


def test_report_uses_the_tables_it_is_given(html_report, tmp_path):
    _, results = html_report
    tables = {
        n: analysis.network_tables(r, coverage_minutes=[47.5], coverage_km=[12.5])
        for n, r in results.items()
    }
    path = report.write_report(tmp_path / "given.html", results, tables=tables)
    text = path.read_text()
    assert "<td>47.50</td>" in text and "<td>12.50</td>" in text
    assert "<td>90.00</td>" not in text
    assert 'data-key="within-47.5"' in text and 'data-key="within-90"' not in text
    assert "<a " not in text  # no links: the tables were not written beside the report
    # Without tables, the thresholds are arguments of the report.
    path = report.write_report(tmp_path / "own.html", results, coverage_minutes=[47.5])
    assert "<td>47.50</td>" in path.read_text()


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (REFERENCE.drop(columns="band_end_min"), "needs band_start_min, band_end_min"),
        (REFERENCE.assign(share_pct=["30 %", "50 %", "20 %"]), r"row 0: share_pct '30 %'"),
        (REFERENCE.assign(share_pct=[30.0, np.nan, 70.0]), r"row 1 \(band 10-20 min\)"),
        (REFERENCE.assign(share_pct=[30.0, 50.0, 10.0]), r"sum to 90\.000 %, not ~100 %"),
    ],
)
def test_a_bad_reference_is_refused_clearly(html_report, tmp_path, reference, message):
    from hexaccess.calibrate import CalibrationError

    _, results = html_report
    with pytest.raises(CalibrationError, match=message):
        report.write_report(tmp_path / "bad.html", results, reference=reference)
    assert not (tmp_path / "bad.html").exists()


def test_the_report_writes_one_file_into_an_existing_directory(html_report, tmp_path):
    from hexaccess.errors import OutputError

    _, results = html_report
    one = {"three": results["three"]}
    # The directory is the caller's (hexaccess.outputs): never created here.
    with pytest.raises(OutputError, match="does not exist"):
        report.write_report(tmp_path / "missing" / "report.html", one)
    assert not (tmp_path / "missing").exists()
    out = tmp_path / "out"
    out.mkdir()
    path = report.write_report(out / "report.html", one)
    assert path == out / "report.html"
    assert list(out.iterdir()) == [path]  # nothing else, nothing beside it


def test_the_report_fills_a_staging_directory_that_commits(html_report, tmp_path):
    from hexaccess.outputs import prepare_output, verify_output

    _, results = html_report
    with prepare_output(tmp_path / "rep", kind="report") as out:
        staged = report.write_report(out.file("report.html"), {"three": results["three"]})
        assert staged.parent == out.staging
        final = out.commit()
    assert [p.name for p in final] == ["report.html", "manifest.json"]
    verify_output(tmp_path / "rep", kind="report")


def test_given_tables_and_comparisons_must_fit_the_results(html_report, tmp_path):
    from hexaccess.errors import UnknownNameError

    _, results = html_report
    tables = {n: analysis.network_tables(r) for n, r in results.items()}
    del tables["two"]["means.csv"]
    with pytest.raises(analysis.AnalysisInputError, match=r"network 'two' lack \['means.csv'\]"):
        report.write_report(tmp_path / "t.html", results, tables=tables)
    cmp = analysis.compare(results)
    with pytest.raises(UnknownNameError, match=r"network\(s\) \['two'\] are not among"):
        report.write_report(tmp_path / "c.html", {"three": results["three"]}, comparison=cmp)
    assert not (tmp_path / "t.html").exists() and not (tmp_path / "c.html").exists()
