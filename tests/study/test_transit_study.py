"""The transit study (``Study(mode="transit")``, ``hexaccess run --mode transit``):
a hand-made feed with hand-worked times, the command line and its errors, and the real
Matkahuolto feed of Nurmijärvi beside walking alone."""

from __future__ import annotations

import json
import math
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hexaccess
import hexaccess.transit
from hexaccess import cli
from hexaccess.errors import ScenarioError
from hexaccess.h3 import cell_centers, cell_to_str, latlng_to_cells
from hexaccess.study.transit import percentile_column
from tests.fixtures.shared import shared_file

RES = 8
# Four places on a line of latitude 60.4 N, 12 km apart (more than walking covers in the
# 3-hour horizon: 10,800 s x 4.8 km/h / 1.3 = 11.1 km), so only the bus links them.
LAT = 60.4
LON_A, LON_B, LON_C, LON_U = 24.6, 24.6 + 0.218, 24.6 + 0.436, 24.6 + 1.2


def _cell(lon: float) -> tuple[int, float, float]:
    """The H3 cell at ``lon`` and its centre: stops and the office sit exactly on cell
    centres, so every walking leg is 0 m (0 s) and the times are the timetable's."""
    c = int(latlng_to_cells(np.array([LAT]), np.array([lon]), RES)[0])
    lat, lng = cell_centers(np.array([c], dtype=np.uint64))
    return c, float(lng[0]), float(lat[0])


def write_feed(folder: Path) -> Path:
    """One bus line A -> B -> C, two trips on Wednesday 2026-03-04."""
    (_, alon, alat), (_, blon, blat), (_, clon, clat) = map(_cell, (LON_A, LON_B, LON_C))
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
        "X,Test bus,https://example.org,Europe/Helsinki\n",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n"
        f"A,Stop A,{alat!r},{alon!r}\nB,Stop B,{blat!r},{blon!r}\nC,Stop C,{clat!r},{clon!r}\n",
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nR,X,1,3\n",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
        "start_date,end_date\nWK,1,1,1,1,1,0,0,20260101,20261231\n",
        "trips.txt": "route_id,service_id,trip_id\nR,WK,T1\nR,WK,T2\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,08:02:00,08:02:00,A,1\nT1,08:10:00,08:10:00,B,2\nT1,08:20:00,08:20:00,C,3\n"
        "T2,08:07:00,08:07:00,A,1\nT2,08:15:00,08:15:00,B,2\nT2,08:25:00,08:25:00,C,3\n",
    }
    path = folder / "feed.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return path


def write_inputs(folder: Path) -> tuple[Path, Path, Path]:
    """The feed, 4 populated cells (at stops A and B, at the office at C, and U far from
    any stop) and one office at stop C."""
    feed = write_feed(folder)
    cells = [_cell(lon)[0] for lon in (LON_A, LON_B, LON_C, LON_U)]
    pop = folder / "population.csv"
    pd.DataFrame(
        {"h3": cell_to_str(np.array(cells, np.uint64)), "total": [100, 200, 50, 25]}
    ).to_csv(pop, index=False)
    _, clon, clat = _cell(LON_C)
    offices = folder / "offices.csv"
    pd.DataFrame({"name": ["Office C"], "lon": [clon], "lat": [clat]}).to_csv(offices, index=False)
    return feed, pop, offices


# Hand-worked, departures 08:00 ... 08:09 (window 10 min, one a minute), boarding slack
# 60 s (the packaged transit profile), walks 0 s:
# cell A (stop A): ready at t + 1 min; T1 leaves A 08:02, T2 08:07, both reach C at
#   08:20 / 08:25: t=08:00 -> 20 min, 08:01 -> 19, 08:02..08:06 -> T2: 23, 22, 21, 20, 19,
#   08:07..08:09 -> no bus left: unreachable. Sorted: 19 19 20 20 21 22 23 inf inf inf.
#   R5 nearest rank, index ceil(p/100 * 10) - 1: p25 -> [2] = 20, p50 -> [4] = 21,
#   p75 -> [7] = inf; min 19.
# cell B (stop B): T1 leaves B 08:10 (ready by t + 1 <= 08:10 for every t), reaches C
#   08:20: 20, 19, ..., 11 min. Sorted 11..20: p25 [2] = 13, p50 [4] = 15, p75 [7] = 18.
# cell O (the office's own cell): walking 0 s at every departure.
# cell U: no stop within 1 km and 30+ km from the office: unreachable.
MIN = 60.0
EXPECTED = {  # cell: (min, p25, p50, p75)
    "A": (19 * MIN, 20 * MIN, 21 * MIN, math.inf),
    "B": (11 * MIN, 13 * MIN, 15 * MIN, 18 * MIN),
    "O": (0.0, 0.0, 0.0, 0.0),
    "U": (math.inf, math.inf, math.inf, math.inf),
}
PEOPLE = {"A": 100, "B": 200, "O": 50, "U": 25}


def _by_place(cells: pd.DataFrame) -> pd.DataFrame:
    """The per-cell table indexed by place name A, B, O, U (results are in cell order)."""
    ids = cell_to_str(np.array([_cell(x)[0] for x in (LON_A, LON_B, LON_C, LON_U)], np.uint64))
    return cells.set_index("h3").loc[ids].set_axis(list("ABOU"))


def _study(tmp_path: Path, **kw) -> hexaccess.Study:
    feed, pop, offices = write_inputs(tmp_path)
    return hexaccess.Study(
        population=pop,
        offices=offices,
        mode="transit",
        gtfs=[feed],
        departure="2026-03-04T08:00",
        window_min=10,
        **kw,
    )


def test_hand_made_feed_times_and_bands(tmp_path: Path) -> None:
    result = _study(tmp_path).solve()
    cells = _by_place(result.cells)
    for name in "ABOU":
        mn, p25, p50, p75 = EXPECTED[name]
        row = cells.loc[name]
        assert row["time_min_s"] == mn, name
        assert row[percentile_column(25)] == p25, name
        assert row[percentile_column(50)] == p50, name
        assert row[percentile_column(75)] == p75, name
        assert row["time_s"] == p50, name  # the median is time_s by default
        assert bool(row["reached"]) == math.isfinite(p50)
    assert list(cells["office"]) == [0, 0, 0, -1]
    # The median journey: A and B ride one bus (0 transfers), O walks (-1); it is the
    # earliest departure with the median time: A 21 min at 08:04, B 15 min at 08:05.
    assert list(cells["transfers"][:3]) == [0, 0, -1]
    assert list(cells["median_departure_s"][:2]) == [8 * 3600 + 4 * 60, 8 * 3600 + 5 * 60]
    assert list(cells["departures_unreachable"]) == [3, 0, 0, 10]
    # "connected": a stop within walking distance (O has stop C at the office).
    assert list(cells["connected"]) == [True, True, True, False]

    bands = result.bands().set_index("band_start_min")["population"]
    # Medians: O 0 min -> 0-10, B 15 min -> 10-20, A 21 min -> 20-30; U unreachable.
    assert bands[0.0] == PEOPLE["O"]
    assert bands[10.0] == PEOPLE["B"]
    assert bands[20.0] == PEOPLE["A"]
    assert bands.sum() == PEOPLE["O"] + PEOPLE["B"] + PEOPLE["A"]
    s = result.summary()
    assert s["population_unreachable"] == PEOPLE["U"]
    assert s["population_total"] == sum(PEOPLE.values())
    mean = (PEOPLE["B"] * 15 + PEOPLE["A"] * 21) / (PEOPLE["O"] + PEOPLE["B"] + PEOPLE["A"])
    assert s["mean_time_min"] == pytest.approx(mean)
    t = s["transit"]
    assert t["time_percentile"] == 50.0 and "median" in t["time_statistic"]
    assert t["window_min"] == 10 and t["departures"] == 10
    assert t["departure"] == "2026-03-04T08:00" and t["feeds"]


def test_other_percentile_as_time(tmp_path: Path) -> None:
    result = _study(tmp_path, time_percentile=25).solve()
    got = _by_place(result.cells)["time_s"].to_numpy()
    assert list(got) == [EXPECTED[n][1] for n in "ABOU"]
    assert result.summary()["transit"]["time_statistic"] == "25th percentile"


def test_deterministic_and_writes_run_files(tmp_path: Path) -> None:
    a = _study(tmp_path).solve()
    b = _study(tmp_path).solve()
    pd.testing.assert_frame_equal(a.cells, b.cells)
    files = a.write(tmp_path / "out", layers=False)
    names = {p.name for p in files}
    assert {"bands.csv", "summary.json", "cells.parquet"} <= names


def test_timetable_object_equals_the_feed_path(tmp_path: Path) -> None:
    feed, pop, offices = write_inputs(tmp_path)
    tt = hexaccess.transit.read_gtfs(feed, "2026-03-04")
    kw = {"offices": offices, "mode": "transit", "departure": "2026-03-04T08:00"}
    a = hexaccess.Study(pop, gtfs=tt, window_min=10, **kw).solve()
    b = hexaccess.Study(pop, gtfs=str(feed), window_min=10, **kw).solve()
    pd.testing.assert_frame_equal(a.cells, b.cells)
    with pytest.raises(ScenarioError, match="service day"):
        hexaccess.Study(pop, gtfs=tt, **{**kw, "departure": "2026-03-05T08:00"}).solve()


def test_study_refuses_bad_combinations(tmp_path: Path) -> None:
    feed, pop, offices = write_inputs(tmp_path)
    with pytest.raises(ScenarioError, match="gtfs"):
        hexaccess.Study(pop, offices=offices, mode="transit", departure="2026-03-04T08:00")
    with pytest.raises(ScenarioError, match="departure"):
        hexaccess.Study(pop, offices=offices, mode="transit", gtfs=feed)
    with pytest.raises(ScenarioError, match=r"gtfs.*mode='transit'"):
        hexaccess.Study(pop, offices=offices, mode="walk", gtfs=feed)
    with pytest.raises(ScenarioError, match="window_min"):
        hexaccess.Study(pop, offices=offices, window_min=10)
    with pytest.raises(ScenarioError, match="2026-03-04T08:00"):
        hexaccess.Study(pop, offices=offices, mode="transit", gtfs=feed, departure="08:00")
    with pytest.raises(ScenarioError, match="percentiles"):
        hexaccess.Study(
            pop, offices=offices, mode="transit", gtfs=feed, departure="2026-03-04T08:00",
            percentiles="75,25",
        )  # fmt: skip


# ------------------------------------------------------------------- command line
def test_cli_run_transit(tmp_path: Path) -> None:
    feed, pop, offices = write_inputs(tmp_path)
    out = tmp_path / "out"
    args = ["run", "--mode", "transit", "--gtfs", str(feed), "--population", str(pop)]
    args += ["--offices", str(offices), "--departure", "2026-03-04T08:00", "--window", "10"]
    args += ["--out", str(out), "--quiet", "--no-layers"]
    assert cli.main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["transit"]["time_percentile"] == 50.0
    assert "median" in summary["transit"]["time_statistic"]
    assert summary["transit"]["window"] == "2026-03-04 08:00-08:10"
    bands = pd.read_csv(out / "bands.csv").set_index("band_start_min")["population"]
    assert bands[20.0] == PEOPLE["A"] and bands[10.0] == PEOPLE["B"]
    cells = pd.read_parquet(out / "cells.parquet")
    assert {"time_min_s", "time_p25_s", "time_p75_s", "transfers"} <= set(cells.columns)


def test_cli_report_transit(tmp_path: Path) -> None:
    # hexaccess report takes the same transit options: its bands equal the run's
    feed, pop, offices = write_inputs(tmp_path)
    common = ["--mode", "transit", "--gtfs", str(feed), "--population", str(pop)]
    common += ["--offices", str(offices), "--departure", "2026-03-04T08:00", "--window", "10"]
    common += ["--quiet", "--no-layers"]
    assert cli.main(["run", *common, "--out", str(tmp_path / "run")]) == 0
    assert cli.main(["report", *common, "--out", str(tmp_path / "rep")]) == 0
    run = pd.read_csv(tmp_path / "run" / "bands.csv")
    rep = pd.read_csv(tmp_path / "rep" / "bands.csv")  # up to the last populated band
    pd.testing.assert_frame_equal(run.head(len(rep)), rep)
    assert run["population"].iloc[len(rep) :].sum() == 0
    assert (tmp_path / "rep" / "report.html").stat().st_size > 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mode", "transit", "--departure", "2026-03-04T08:00"], "needs a timetable"),
        (["--mode", "transit", "--gtfs", "{feed}"], "departure"),
        (["--gtfs", "{feed}", "--departure", "2026-03-04T08:00"], "--gtfs"),
        (["--mode", "walk", "--window", "10"], "--window"),
        (["--mode", "car", "--percentiles", "50"], "--percentiles"),
        (["--mode", "transit", "--gtfs", "{feed}", "--departure", "tomorrow"], "--departure"),
    ],
)
def test_cli_bad_transit_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    feed, pop, offices = write_inputs(tmp_path)
    roads = ["--roads", str(pop)] if "transit" not in extra else []  # refused before read
    args = ["run", "--population", str(pop), "--offices", str(offices), *roads]
    args += [e.format(feed=feed) for e in extra] + ["--out", str(tmp_path / "o"), "--quiet"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert not (tmp_path / "o" / "summary.json").exists()


# ------------------------------------------------------------------ scenario files
def _scenario(folder: Path, mode: str) -> Path:
    write_inputs(folder)
    path = folder / "study.toml"
    path.write_text(
        f'[inputs]\npopulation = "population.csv"\nmode = "{mode}"\ngtfs = "feed.zip"\n'
        + ('roads = "roads.gpkg"\n' if mode != "transit" else "")  # refused before read
        + 'departure = "2026-03-04T08:00"\nwindow_min = 10\npercentiles = [25, 50, 75]\n'
        '[[offices]]\nname = "c"\nfile = "offices.csv"\n'
        '[outputs]\ndir = "out"\nreport = false\nlayers = false\n'
    )
    return path


def test_scenario_file_runs_transit(tmp_path: Path) -> None:
    assert cli.main(["run", str(_scenario(tmp_path, "transit")), "--quiet"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["transit"]["window_min"] == 10
    bands = pd.read_csv(tmp_path / "out" / "bands.csv").set_index("band_start_min")
    assert bands.loc[20.0, "population"] == PEOPLE["A"]


def test_scenario_file_refuses_transit_keys_with_another_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["run", str(_scenario(tmp_path, "walk")), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "inputs.gtfs" in err and 'mode = "transit"' in err, err


# ------------------------------------------------------- the real Matkahuolto feed
MUNICIPALITIES = ("543", "927", "106", "091", "092", "049", "444", "638")


def _serving_municipalities(feed: Path) -> list[str]:
    """The municipalities the feed's stops lie in: each stop's 1 km Eurostat square
    (EPSG:3035, floored to the km) looked up in the grid-municipality table, then those
    with at least 5 stops (a stray terminal stop does not make a study area)."""
    from pyproj import Transformer

    with zipfile.ZipFile(feed) as z, z.open("stops.txt") as f:
        stops = pd.read_csv(f, dtype={"stop_id": str})
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True).transform(
        stops["stop_lon"].to_numpy(), stops["stop_lat"].to_numpy()
    )
    ids = [
        f"CRS3035RES1000mN{int(b // 1000) * 1000}E{int(a // 1000) * 1000}"
        for a, b in zip(x, y, strict=True)
    ]
    grid = pd.read_csv(shared_file("finland/grid_municipality.csv"), dtype=str)
    code = pd.Series(ids).map(grid.set_index("GRD_ID")["municipality"])
    counts = code.value_counts()
    return sorted(counts[counts >= 5].index)


def test_matkahuolto_nurmijarvi_end_to_end(tmp_path: Path) -> None:
    feed = shared_file("gtfs/matkahuolto_nurmijarvi_2025.zip")
    census = shared_file("finland/census2021_1km.csv")
    grid_table = shared_file("finland/grid_municipality.csv")
    munis = shared_file("finland/municipalities.csv")
    t0 = time.perf_counter()
    chosen = [m for m in _serving_municipalities(feed) if m in MUNICIPALITIES] or ["543"]
    grid = pd.read_csv(grid_table, dtype=str)
    squares = pd.read_csv(census, dtype={"GRD_ID": str})
    keep = squares["GRD_ID"].isin(grid.loc[grid["municipality"].isin(chosen), "GRD_ID"])
    pop_file = tmp_path / "census_selected.csv"
    squares[keep].to_csv(pop_file, index=False)
    expected_total = float(squares.loc[keep, "T"].sum())

    table = pd.read_csv(munis, dtype={"municipality": str}).set_index("municipality")
    office_codes = [c for c in ("091", "106", "927") if c in chosen] or chosen[:1]
    offices = tmp_path / "offices.csv"
    pd.DataFrame(
        {
            "name": [table.loc[c, "name_fi"] for c in office_codes],
            "lon": [table.loc[c, "centre_lon"] for c in office_codes],
            "lat": [table.loc[c, "centre_lat"] for c in office_codes],
        }
    ).to_csv(offices, index=False)

    kw = {
        "population": pop_file,
        "offices": offices,
        "municipality_table": grid_table,
        "mode": "transit",
        "gtfs": feed,
        "departure": "2025-09-10T08:00",  # a Wednesday within 2025-06-12 .. 2026-05-31
        "window_min": 120,
    }
    study = hexaccess.Study(**kw)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = study.solve()
    seconds = time.perf_counter() - t0
    for w in caught:  # e.g. the Helsinki centre: its nearest stop (Kamppi) is 1.08 km away
        print(f"note: {w.message}")
    s = result.summary()
    cells = result.cells
    assert s["population_total"] == pytest.approx(expected_total, rel=1e-9)
    assert study.timetable.n_connections > 0

    # Walking alone, derived independently of the study's UTM projection: geodesic
    # distance on the WGS84 ellipsoid (a sphere is 0.2-0.4 % short at 60 N) x detour /
    # speed.
    from pyproj import Geod

    lon, lat = study.population.centers_lonlat()
    geod = Geod(ellps="WGS84")
    d = np.min(
        [
            geod.inv(lon, lat, np.full(lon.size, olon), np.full(lon.size, olat))[2]
            for olon, olat in table.loc[office_codes, ["centre_lon", "centre_lat"]].to_numpy(float)
        ],
        axis=0,
    )
    prof = study.profile
    walk_s = d * prof.detour_factor / prof.walk_speed_ms
    walk_s = np.where(walk_s <= s["transit"]["max_time_min"] * 60, walk_s, np.inf)
    # Transit + walking is never slower than walking alone (UTM scale within 0.1 %).
    for col in ("time_min_s", "time_s", "time_p25_s", "time_p75_s"):
        t = cells[col].to_numpy()
        ok = (t <= walk_s * 1.001 + 1) | ~np.isfinite(walk_s)
        assert ok.all(), (col, int((~ok).sum()))
    assert (cells["time_min_s"] <= cells["time_s"]).all()
    # Unreachable people are counted, never dropped.
    w = cells[s["population_column"]].to_numpy(float)
    assert s["population_unreachable"] == pytest.approx(w[~cells["reached"]].sum())

    pop_total = w.sum()
    walk_within = w[walk_s < 3600].sum() / pop_total * 100
    transit_within = s["coverage_pct"]["60"]
    assert transit_within >= walk_within - 1e-9
    edges = result.histogram.edges_s
    fin = np.isfinite(walk_s)
    walk_bands = np.bincount(
        np.searchsorted(edges, walk_s[fin], side="right") - 1, weights=w[fin], minlength=edges.size
    )
    # Same people in every band up to the first band a bus can shorten, never fewer
    # within any threshold.
    assert (np.cumsum(result.bands()["population"]) >= np.cumsum(walk_bands) - 1e-6).all()
    bands = result.bands()
    print(
        f"\nMatkahuolto Nurmijärvi, {s['transit']['window']}, municipalities {chosen}, "
        f"offices {office_codes}, {seconds:.1f} s\n{'minutes':>9} {'transit':>10} {'walk only':>10}"
    )
    for k, row in enumerate(bands.itertuples(index=False)):
        label = f"{row.band_start_min:.0f}-{row.band_end_min:.0f}"
        print(f"{label:>9} {row.population:>10,.0f} {walk_bands[k]:>10,.0f}")
    print(f"{'unreached':>9} {s['population_unreachable']:>10,.0f} {w[~fin].sum():>10,.0f}")
    print(f"within 60 min: transit {transit_within:.2f} %, walking only {walk_within:.2f} %")

    # Sensitivity: walks to and from stops up to 1.5 km. Every walk allowed at 1 km is
    # allowed, so no cell is slower; share within 60 min at least as large.
    longer = tmp_path / "transit_1500.toml"
    longer.write_text('name = "transit_1500"\n[walk]\nmax_access_m = 1500\n')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wide = hexaccess.Study(**kw, profile=longer).solve()
    assert (wide.cells["time_s"].to_numpy() <= cells["time_s"].to_numpy()).all()
    wide_within = wide.summary()["coverage_pct"]["60"]
    assert wide_within >= transit_within
    print(f"within 60 min with walks to stops up to 1.5 km: {wide_within:.2f} %")
    print(f"{'minutes':>9} {'1.5 km':>10}")
    for row in wide.bands().itertuples(index=False):
        label = f"{row.band_start_min:.0f}-{row.band_end_min:.0f}"
        print(f"{label:>9} {row.population:>10,.0f}")
    print(f"{'unreached':>9} {wide.summary()['population_unreachable']:>10,.0f}")
    assert seconds < 60, seconds


def test_stops_far_from_every_populated_cell_are_warned_about(tmp_path: Path) -> None:
    # people only at stops A and C: B is 12 km from both, beyond FAR_STOP_KM (10 km)
    feed, _, offices = write_inputs(tmp_path)
    pop = tmp_path / "a_and_c.csv"
    cells = cell_to_str(np.array([_cell(LON_A)[0], _cell(LON_C)[0]], np.uint64))
    pd.DataFrame({"h3": cells, "total": [100, 50]}).to_csv(pop, index=False)
    study = hexaccess.Study(
        population=pop,
        offices=offices,
        mode="transit",
        gtfs=[feed],
        departure="2026-03-04T08:00",
        window_min=10,
    )
    with pytest.warns(UserWarning, match=r"1 of 3 stops lie more than 10 km .*'B'"):
        study.solve()
