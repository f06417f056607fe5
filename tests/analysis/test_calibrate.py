"""Calibration (``hexaccess.calibrate``, ``hexaccess calibrate``): the fast evaluator
equals a full rebuild, a known parameter is recovered, bad references are refused, the
written profile is usable by ``hexaccess run``, and the Finland study is matched."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest
from fixtures.shared import shared_file
from fixtures.worlds import tiny_world

from hexaccess import accessibility, calibrate, cli, cli_analysis
from hexaccess.network import read_roads
from hexaccess.offices import read_offices
from hexaccess.population import read_eurostat_grid
from hexaccess.profiles import load_profile


@pytest.fixture
def world(tmp_path):
    return tiny_world(tmp_path)


def _inputs(world, profile):
    net = read_roads(world.roads, profile)
    pop = read_eurostat_grid(world.population, municipality_table=world.municipality_table)
    return net, pop, read_offices(world.offices)


def _full_histogram(world, profile, edges):
    """Reference path: read the roads with the profile, apply its urban slowdown, build
    the study graph and search (what ``hexaccess run --profile`` does)."""
    net, pop, offs = _inputs(world, profile)
    access = accessibility.build_access_graph(net, pop, offs, profile)
    return access.graph.band_histogram(
        access.office_node, access.weights(["total"]), band_edges_s=edges,
        offsets_s=access.office_offsets(), columns=["total"],
    )  # fmt: skip


def test_fast_evaluator_equals_a_full_rebuild(world):
    base = load_profile("car_fi")
    net, pop, offs = _inputs(world, base)
    ev = calibrate.FastEvaluator(net, pop, offs, base)
    edges = np.arange(0, 61, 1.0) * 60
    other = base.with_overrides(
        terminal_time_s=300,
        access_speed_kmh=20,
        urban_factors=(1.0, 0.5, 0.4, 0.35, 0.3),
        speeds_kmh__IGDS_LEVEL__22=60,
    )
    for prof in (base, other):
        full = _full_histogram(world, prof, edges)
        fast = ev.histogram(prof, edges)
        np.testing.assert_array_equal(fast.counts, full.counts)
        np.testing.assert_allclose(fast.time_sum, full.time_sum, rtol=1e-12)


def test_a_known_terminal_time_is_recovered(world):
    base = load_profile("car_fi")
    net, pop, offs = _inputs(world, base)
    ev = calibrate.FastEvaluator(net, pop, offs, base)
    truth = base.with_overrides(terminal_time_s=420)
    edges = np.arange(0, 41, 2.0) * 60
    h = ev.histogram(truth, edges)
    ref = pd.DataFrame(
        {
            "band_start_min": edges[:-1] / 60,
            "band_end_min": edges[1:] / 60,
            "share_pct": h.counts[:-1, 0] / h.total(0) * 100,
        }
    )
    # The tiny world leaves 900 of 1,650 people unreachable, so this reference (shares
    # of everyone) sums to 45 %: the sum check is relaxed on purpose.
    with pytest.raises(calibrate.CalibrationError, match="not ~100 %"):
        calibrate.read_reference(ref)
    params = calibrate.default_parameters(base, net, bounds={"terminal_time_s": (0, 600)})
    params = [p for p in params if p.key == "terminal_time_s"]
    res = calibrate.calibrate(
        net, pop, offs, ref, base, parameters=params, evaluator=ev, max_evaluations=200,
        reference_tolerance_pp=100,
    )  # fmt: skip
    # Few cells make the objective a staircase: require the right step, not exactness.
    assert res.objective_after < res.objective_before / 4
    fitted = res.parameters.set_index("key").loc["terminal_time_s", "fitted"]
    assert abs(fitted - 420) <= 60
    assert res.objective_after < res.objective_before


def test_bad_references_and_parameters_are_refused(tmp_path):
    good = pd.DataFrame(
        {"band_start_min": [0, 10], "band_end_min": [10, 20], "share_pct": [60.0, 40.0]}
    )
    assert calibrate.read_reference(good)["share_pct"].sum() == 100
    with pytest.raises(calibrate.CalibrationError, match=r"sum to 90\.000 %, not ~100 %"):
        calibrate.read_reference(good.assign(share_pct=[60.0, 30.0]))
    with pytest.raises(calibrate.CalibrationError, match="contiguous"):
        calibrate.read_reference(good.assign(band_start_min=[0, 12]))
    with pytest.raises(calibrate.CalibrationError, match="needs band_start_min"):
        calibrate.read_reference(good.drop(columns="share_pct"))
    from_counts = calibrate.read_reference(good.drop(columns="share_pct").assign(population=[3, 1]))
    assert from_counts["share_pct"].tolist() == [75.0, 25.0]
    prof = load_profile("car_fi")
    with pytest.raises(calibrate.CalibrationError, match="unknown calibration parameter"):
        calibrate.default_parameters(prof, bounds={"speed_of_light": (1, 2)})
    with pytest.raises(calibrate.CalibrationError, match="legal range"):
        calibrate.default_parameters(prof, bounds={"terminal_time_s": (2000, 3000)})
    keys = [p.key for p in calibrate.default_parameters(prof, fixed=["terminal_time_s"])]
    assert "terminal_time_s" not in keys and "access.speed_kmh" in keys


def test_cli_calibrate_writes_a_usable_profile(world, tmp_path, capsys):
    ref = tmp_path / "ref.csv"
    pd.DataFrame(
        {"band_start_min": [0, 10, 20], "band_end_min": [10, 20, 30], "share_pct": [30, 50, 20.0]}
    ).to_csv(ref, index=False)
    parser = argparse.ArgumentParser()
    cli_analysis.add_calibrate_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "cal"
    common = ["--population", str(world.population), "--roads", str(world.roads),
              "--offices", str(world.offices), "--quiet"]  # fmt: skip
    args = parser.parse_args(
        ["calibrate", *common, "--reference", str(ref), "--out", str(out),
         "--max-evaluations", "60", "--bound", "terminal_time_s=0:300"]
    )  # fmt: skip
    assert cli_analysis.run_calibrate(args) == 0
    table = pd.read_csv(out / "calibration.csv")
    assert list(table.columns) == [
        "band_start_min", "band_end_min", "reference_pct", "before_pct", "after_pct",
        "before_diff_pp", "after_diff_pp",
    ]  # fmt: skip
    doc = json.loads((out / "calibration.json").read_text())
    assert doc["objective_after"] <= doc["objective_before"]
    assert (out / "calibration.png").stat().st_size > 1000
    fitted = load_profile(out / "profile.toml")
    assert 0 <= fitted.terminal_time_s <= 300
    # hexaccess run --profile with the fitted profile gives the "after" shares.
    run_out = tmp_path / "run"
    assert (
        cli.main(["run", *common, "--profile", str(out / "profile.toml"), "--out", str(run_out)])
        == 0
    )
    bands = pd.read_csv(run_out / "bands.csv")
    np.testing.assert_allclose(bands.share_pct[:3], table.after_pct, atol=1e-9)
    # Bad reference: clear error, exit code 2.
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"band_start_min": [0], "band_end_min": [10], "share_pct": [50.0]}).to_csv(
        bad, index=False
    )
    args = parser.parse_args(["calibrate", *common, "--reference", str(bad), "--out", str(out)])
    assert cli_analysis.run_calibrate(args) == 2
    assert "not ~100 %" in capsys.readouterr().err


@pytest.mark.shared_data
@pytest.mark.slow
def test_calibration_to_the_finland_study(tmp_path, capsys):
    """The study's 50 offices on mainland Finland: fit car_fi to the published band table.
    Target: every 10-minute band within 2 pp (the study's mean time is not published, so
    no mean-time term). Before/after table printed as evidence."""
    pop = shared_file("finland/census2021_1km.csv")
    table = shared_file("finland/grid_municipality.csv")
    roads = shared_file("finland/roads_mml_1milj/road.shp")
    offices = shared_file("finland/study_offices_50.csv")
    study = shared_file("finland/study_bands_50.csv")
    munis = shared_file("finland/municipalities.csv")
    parser = argparse.ArgumentParser()
    cli_analysis.add_calibrate_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "fin"
    args = parser.parse_args(
        ["calibrate", "--population", str(pop), "--roads", str(roads), "--offices", str(offices),
         "--municipality-table", str(table), "--municipalities", str(munis),
         "--exclude-municipalities", "aland", "--reference", str(study), "--out", str(out),
         "--max-evaluations", "500", "--quiet"]
    )  # fmt: skip
    assert cli_analysis.run_calibrate(args) == 0
    t = pd.read_csv(out / "calibration.csv")
    doc = json.loads((out / "calibration.json").read_text())
    with capsys.disabled():
        print("\nFinland, 50 offices: car_fi before vs calibrated after (pp of population)")
        print(t.round(2).to_string(index=False))
        print(pd.DataFrame(doc["parameters"]).round(3).to_string(index=False))
        print(
            f"max |diff| {doc['max_abs_diff_pp_before']:.2f} -> {doc['max_abs_diff_pp_after']:.2f}"
            f" pp; mean time {doc['mean_time_before_min']:.2f} -> "
            f"{doc['mean_time_after_min']:.2f} min; {doc['evaluations']} evaluations, "
            f"{doc['seconds']:.1f} s; profile {out / 'profile.toml'}"
        )
    assert t["after_diff_pp"].abs().max() <= 2.0
    assert doc["objective_after"] < doc["objective_before"]
    load_profile(out / "profile.toml")


# ------------------------------------------------------------ checked inputs
def _ref_csv(tmp_path, text, name="ref.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reference_problems_name_the_file_line_and_band(tmp_path):
    good = "band_start_min,band_end_min,share_pct\n0,10,60\n10,20,40\n"
    assert calibrate.read_reference(_ref_csv(tmp_path, good))["share_pct"].tolist() == [60, 40]
    empty = _ref_csv(tmp_path, "", "empty.csv")
    with pytest.raises(calibrate.CalibrationError, match=r"empty\.csv: the file is empty"):
        calibrate.read_reference(empty)
    header = _ref_csv(tmp_path, "band_start_min,band_end_min,share_pct\n", "header.csv")
    with pytest.raises(calibrate.CalibrationError, match=r"header\.csv: no bands"):
        calibrate.read_reference(header)
    text = _ref_csv(tmp_path, good.replace("\n10,20,40", "\n10,20,40 %"), "pct.csv")
    with pytest.raises(
        calibrate.CalibrationError, match=r"pct\.csv: line 3: share_pct '40 %' is not a number"
    ):
        calibrate.read_reference(text)
    edge = _ref_csv(tmp_path, good.replace("\n10,20", "\nten,20"), "edge.csv")
    with pytest.raises(calibrate.CalibrationError, match=r"line 3: band_start_min 'ten'"):
        calibrate.read_reference(edge)
    # A missing or negative share is named by line and band, not as a wrong total.
    hole = _ref_csv(tmp_path, good.replace("0,10,60", "0,10,"), "hole.csv")
    with pytest.raises(
        calibrate.CalibrationError,
        match=r"hole\.csv: line 2 \(band 0-10 min\): share_pct is missing",
    ):
        calibrate.read_reference(hole)
    frame = pd.DataFrame(
        {"band_start_min": [0, 10], "band_end_min": [10, 20], "share_pct": [110.0, -10.0]}
    )
    with pytest.raises(
        calibrate.CalibrationError, match=r"row 1 \(band 10-20 min\): share_pct -10 is negative"
    ):
        calibrate.read_reference(frame)
    nobody = frame.drop(columns="share_pct").assign(population=[0, 0])
    with pytest.raises(calibrate.CalibrationError, match="totals 0 people"):
        calibrate.read_reference(nobody)


def test_search_settings_are_checked_before_any_input_is_read(tmp_path, capsys):
    for kwargs, message in (
        ({"reference_mean_time_min": float("nan")}, "reference mean travel time"),
        ({"reference_mean_time_min": -3.0}, "reference mean travel time"),
        ({"mean_weight": -1.0}, "weight of the mean-time term must be finite and >= 0"),
        ({"mean_weight": float("inf")}, "weight of the mean-time term"),
        ({"max_evaluations": 0}, "max_evaluations must be a whole number >= 1"),
    ):
        with pytest.raises(calibrate.CalibrationError, match=message):
            calibrate.check_search_settings(**kwargs)
        # calibrate() refuses them before touching its (here unusable) inputs.
        with pytest.raises(calibrate.CalibrationError, match=message):
            calibrate.calibrate(None, None, None, "no-such-reference.csv", **kwargs)
    parser = argparse.ArgumentParser()
    cli_analysis.add_calibrate_parser(parser.add_subparsers(dest="command"))
    missing = tmp_path / "missing"
    for extra, message in (
        (["--reference-mean-time", "nan"], "reference mean travel time"),
        (["--mean-weight", "-1"], "weight of the mean-time term"),
        (["--max-evaluations", "0"], "max_evaluations must be a whole number >= 1"),
    ):
        args = parser.parse_args(
            ["calibrate", "--population", str(missing / "pop.csv"), "--roads",
             str(missing / "roads.gpkg"), "--offices", str(missing / "offices.csv"),
             "--reference", str(missing / "ref.csv"), "--out", str(tmp_path / "o"),
             "--quiet", *extra]
        )  # fmt: skip
        assert cli_analysis.run_calibrate(args) == 2
        err = capsys.readouterr().err
        assert message in err and "not found" not in err


def test_an_evaluator_fixes_the_column_and_offices(world):
    base = load_profile("car_fi")
    net, pop, offs = _inputs(world, base)
    ev = calibrate.FastEvaluator(net, pop, offs, base)
    ref = pd.DataFrame({"band_start_min": [0.0], "band_end_min": [60.0], "share_pct": [100.0]})
    with pytest.raises(calibrate.CalibrationError, match="differs from the evaluator's column"):
        calibrate.calibrate(net, pop, offs, ref, base, column="age_65_plus", evaluator=ev)
    with pytest.raises(calibrate.CalibrationError, match="office_indices differ"):
        calibrate.calibrate(net, pop, offs, ref, base, office_indices=[0], evaluator=ev)


def test_an_unpopulated_column_is_refused(world, tmp_path):
    base = load_profile("car_fi")
    frame = pd.read_csv(world.population).assign(Y_GE65=0)
    frame.to_csv(world.population, index=False)
    net, pop, offs = _inputs(world, base)
    with pytest.raises(calibrate.CalibrationError, match="'age_65_plus' totals 0 people"):
        calibrate.FastEvaluator(net, pop, offs, base, "age_65_plus")
    with pytest.raises(accessibility.AccessibilityInputError, match=r"outside 0\.\.2"):
        calibrate.FastEvaluator(net, pop, offs, base, office_indices=[0, 5])


def _edge_times_by_mapping(ev, profile):
    """Edge times the way FastEvaluator computed them before class codes were cached:
    string class keys mapped over all edges, density classes searched every time."""
    from hexaccess.profiles import _class_key

    net = ev.network
    keys = pd.Series([_class_key(v) for v in net.road_class])
    speed = keys.map(profile.class_speeds_kmh[net.class_column]).to_numpy(float, na_value=np.nan)
    t = net.time_s.copy()
    road = ~net.ferry
    t[road] = net.length_m[road] / (speed[road] / 3.6)
    if len(profile.urban_factors) and min(profile.urban_factors) < 1.0:
        t = t / np.where(road, profile.slowdown_factor(ev._density), 1.0)
    return t


def test_cached_edge_classes_give_identical_times_and_histograms(world):
    base = load_profile("car_fi")
    net, pop, offs = _inputs(world, base)
    ev = calibrate.FastEvaluator(net, pop, offs, base)
    edges = np.arange(0, 61, 1.0) * 60
    profiles = [
        base,
        base.with_overrides(
            urban_factors=(1.0, 0.5, 0.4, 0.35, 0.3), speeds_kmh__IGDS_LEVEL__22=61
        ),
        # Other density thresholds than the evaluator's: the uncached path.
        base.with_overrides(
            urban_density_thresholds=[20.0, 60.0, 200.0, 900.0],
            urban_factors=(1.0, 0.6, 0.5, 0.4, 0.3),
        ),
    ]
    for prof in profiles:
        np.testing.assert_array_equal(ev.edge_times(prof), _edge_times_by_mapping(ev, prof))
        full = _full_histogram(world, prof, edges)
        fast = ev.histogram(prof, edges)
        np.testing.assert_array_equal(fast.counts, full.counts)


def test_before_and_after_come_from_the_searches_of_the_fit(world):
    base = load_profile("car_fi")
    net, pop, offs = _inputs(world, base)
    ev = calibrate.FastEvaluator(net, pop, offs, base)
    ref = pd.DataFrame(
        {"band_start_min": [0, 10, 20], "band_end_min": [10, 20, 30], "share_pct": [30, 50, 20.0]}
    )
    params = [p for p in calibrate.default_parameters(base, net) if p.key == "terminal_time_s"]
    res = calibrate.calibrate(
        net, pop, offs, ref, base, parameters=params, evaluator=ev, max_evaluations=30
    )
    assert res.evaluations == ev.evaluations <= 30  # no extra before/after searches
    edges = np.array([0, 10, 20, 30]) * 60.0
    for prof, col in ((base, "before_pct"), (res.profile, "after_pct")):
        h = ev.histogram(prof, edges)
        np.testing.assert_array_equal(res.table[col], h.counts[:3, 0] / h.total(0) * 100)
    fig = res.plot()
    bars = [p for c in fig.axes[0].containers for p in c]
    assert len(bars) == 3 * len(ref)  # every reference band, three series


def test_the_result_writes_its_four_files_into_an_existing_directory(world, tmp_path):
    from hexaccess.errors import OutputError
    from hexaccess.outputs import prepare_output, verify_output

    base = load_profile("car_fi")
    net, pop, offs = _inputs(world, base)
    ref = pd.DataFrame(
        {"band_start_min": [0, 10, 20], "band_end_min": [10, 20, 30], "share_pct": [30, 50, 20.0]}
    )
    params = [p for p in calibrate.default_parameters(base, net) if p.key == "terminal_time_s"]
    res = calibrate.calibrate(net, pop, offs, ref, base, parameters=params, max_evaluations=12)
    # The directory is the caller's (hexaccess.outputs): never created here.
    with pytest.raises(OutputError, match="does not exist"):
        res.write(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()
    with prepare_output(tmp_path / "cal", kind="calibration") as out:
        paths = res.write(out.staging)
        assert sorted(out.staging.iterdir()) == sorted(paths.values())
        final = out.commit()
    names = ["calibration.csv", "calibration.json", "calibration.png", "profile.toml"]
    assert [p.name for p in final] == [*names, "manifest.json"]
    verify_output(tmp_path / "cal", kind="calibration")
    doc = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    assert doc == json.loads(json.dumps(res.summary(), default=str))
    assert load_profile(tmp_path / "cal" / "profile.toml").name == "car_fi_calibrated"


def test_unknown_keys_and_bad_bounds_are_calibration_errors(world):
    prof = load_profile("car_fi")
    for key in ("urban_slowdown.factors[x]", "urban_slowdown.factors[]", "speeds_kmh.nope"):
        with pytest.raises(calibrate.CalibrationError, match="unknown calibration parameter"):
            calibrate.default_parameters(prof, bounds={key: (0.5, 0.9)})
    with pytest.raises(calibrate.CalibrationError, match="the profile has 5 factors"):
        calibrate.default_parameters(prof, fixed=["urban_slowdown.factors[7]"])
    for pair in (("a", 3), (1,), 5, (3, 1), (0, float("nan"))):
        with pytest.raises(calibrate.CalibrationError, match="need finite low <= high"):
            calibrate.default_parameters(prof, bounds={"terminal_time_s": pair})
    lo_hi = np.array([10.0, 20.0])  # any pair of numbers will do
    (p,) = [
        p
        for p in calibrate.default_parameters(prof, bounds={"terminal_time_s": lo_hi})
        if p.key == "terminal_time_s"
    ]
    assert (p.low, p.high) == (10.0, 20.0)
    # Parameters given directly are checked against the profile before the search.
    net, pop, offs = _inputs(world, prof)
    ref = pd.DataFrame({"band_start_min": [0.0], "band_end_min": [60.0], "share_pct": [100.0]})
    bad = [calibrate.Parameter("speeds_kmh.IGDS_LEVEL.99", 10, 20, 15)]
    with pytest.raises(calibrate.CalibrationError, match="unknown calibration parameter"):
        calibrate.calibrate(net, pop, offs, ref, prof, parameters=bad)
