"""Scenario files (``hexaccess run scenario.toml``) and ``hexaccess report`` on the tiny
world: outputs checked against the per-cell results they were derived from."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest
from fixtures.worlds import OFFICES, tiny_world

from hexaccess import cli_analysis, scenario


def _toml(world, out, extra_offices=None, analysis_block=None):
    sets = [f'[[offices]]\nname = "three"\nfile = "{world.offices.name}"']
    if extra_offices:
        sets.append(f'[[offices]]\nname = "two"\nfile = "{extra_offices.name}"')
    return "\n".join(
        [
            'title = "Tiny study"',
            "[inputs]",
            f'population = "{world.population.name}"',
            f'roads = "{world.roads.name}"',
            f'municipality_table = "{world.municipality_table.name}"',
            f'municipalities = "{world.municipalities.name}"',
            'population_columns = ["total", "age_65_plus"]',
            *sets,
            analysis_block
            or "[analysis]\nband_minutes = 5\ngain_loss_minutes = 2\n"
            "visits_per_person = { Kela = 0.35 }",
            "[outputs]",
            f'dir = "{out}"',
            "report = false",
        ]
    )


def _two_offices(tmp_path):
    sub = tmp_path / "two"
    sub.mkdir()
    w = tiny_world(sub, offices=OFFICES[:2])
    target = tmp_path / "offices_two.csv"
    target.write_text(w.offices.read_text())
    return target


def test_scenario_runs_a_whole_study(tmp_path, capsys):
    world = tiny_world(tmp_path)
    two = _two_offices(tmp_path)
    path = tmp_path / "study.toml"
    path.write_text(_toml(world, "out", two))
    assert cli_analysis.run_scenario(path, quiet=True) == 0
    out = tmp_path / "out"
    for name in ("three", "two"):
        d = out / name
        cells = pd.read_parquet(d / "cells.parquet")
        bands = pd.read_csv(d / "bands.csv")
        assert list(bands.columns) == scenario.BANDS_COLUMNS
        ok = np.isfinite(cells.time_s)
        expected = cells[ok].groupby((cells.time_s[ok] / 60 // 5).astype(int))["total"].sum()
        got = bands.set_index((bands.band_start_min // 5).astype(int))["population"]
        np.testing.assert_allclose(got.reindex(expected.index), expected)
        offices = pd.read_csv(d / "offices.csv")
        assert offices["visits_Kela"].sum() == pytest.approx(cells.total[ok].sum() * 0.35)
        munis = pd.read_csv(d / "municipalities.csv", dtype={"municipality": str})
        assert set(munis.municipality) == {"001", "002", "003"}
        assert (d / "language_means.csv").exists()
        prov = json.loads((d / "provenance.json").read_text())
        assert prov["offices.csv"]["network"] == name
        assert prov["offices.csv"]["inputs"]["scenario"]["sha256"]
    changes = pd.read_csv(out / "comparison_changes.csv")
    a = pd.read_parquet(out / "three" / "cells.parquet")
    b = pd.read_parquet(out / "two" / "cells.parquet")
    both = np.isfinite(a.time_s) & np.isfinite(b.time_s)
    d = (b.time_s - a.time_s) / 60
    assert changes.population_loses.item() == a.total[both & (d > 2)].sum()
    assert changes.population_gains.item() == 0  # removing an office helps nobody


def test_bad_scenarios_are_refused_clearly(tmp_path, capsys):
    world = tiny_world(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text(_toml(world, "out", analysis_block="[analysis]\nband_minutes = 0"))
    assert cli_analysis.run_scenario(bad, quiet=True) == 2
    assert "band_minutes must be > 0" in capsys.readouterr().err
    bad.write_text("[inputs]\npopulation = 'p.csv'\nroads = 'r.gpkg'\n[outputs]\ndir = 'o'")
    assert cli_analysis.run_scenario(bad, quiet=True) == 2
    assert "[[offices]]" in capsys.readouterr().err
    assert cli_analysis.run_scenario(tmp_path / "missing.toml", quiet=True) == 2
    assert "scenario file not found" in capsys.readouterr().err
    bad.write_text(
        _toml(world, "out", analysis_block="[analysis]\ncolumn = 'kids'\nlanguage = false")
    )
    assert cli_analysis.run_scenario(bad, quiet=True) == 2
    assert "unknown population column 'kids'" in capsys.readouterr().err


def test_office_outside_the_study_area_is_named(tmp_path, capsys):
    world = tiny_world(tmp_path)
    far = pd.read_csv(world.offices, dtype={"municipality": str})
    far.loc[1, ["lon", "lat"]] = [60.2, 24.9]  # lon/lat swapped: in the Arctic Ocean
    far.to_csv(world.offices, index=False)
    path = tmp_path / "study.toml"
    path.write_text(_toml(world, "out"))
    assert cli_analysis.run_scenario(path, quiet=True) == 2
    err = capsys.readouterr().err
    assert "outside the study area" in err and "'North'" in err


def test_report_command_with_comparison(tmp_path, capsys):
    world = tiny_world(tmp_path)
    two = _two_offices(tmp_path)
    parser = argparse.ArgumentParser()
    cli_analysis.add_report_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "rep"
    args = parser.parse_args(
        [
            "report",
            "--population", str(world.population),
            "--roads", str(world.roads),
            "--offices", str(world.offices),
            "--compare", f"two={two}",
            "--municipality-table", str(world.municipality_table),
            "--municipalities", str(world.municipalities),
            "--visits", "Kela=0.35",
            "--out", str(out),
        ]
    )  # fmt: skip
    assert cli_analysis.run_report(args) == 0
    text = capsys.readouterr().out
    assert "two vs offices" in text
    html = (out / "report.html").read_text()
    assert "Scenario comparison" in html and html.count("data:image/png;base64,") >= 4
    assert (out / "offices" / "offices.csv").exists()
    args.band_minutes = -1
    assert cli_analysis.run_report(args) == 2
    assert "band width must be > 0" in capsys.readouterr().err


def _write(tmp_path, world, **blocks):
    """A scenario file: the tiny study with some tables replaced by ``blocks``."""
    text = _toml(world, "out", analysis_block=blocks.pop("analysis", None))
    for old, new in blocks.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "study.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("[analysis]\n", "[analysis]\nband_minute = 5\n", r"\['band_minute'\] in \[analysis\]"),
        ("[outputs]\n", "[outputs]\nreprot = true\n", r"\['reprot'\] in \[outputs\]"),
        ("[inputs]\n", "[inputs]\nresolutoin = 7\n", r"\['resolutoin'\] in \[inputs\]"),
        (
            'name = "three"\n',
            'name = "three"\nfiles = "x.csv"\n',
            r"\['files'\] in \[\[offices\]\]",
        ),
    ],
)
def test_unknown_keys_are_refused_in_every_table(tmp_path, replace, by, message):
    world = tiny_world(tmp_path)
    path = _write(tmp_path, world, **{replace: by})
    with pytest.raises(scenario.ScenarioError, match=rf"study\.toml: unknown key\(s\) {message}"):
        scenario.load_scenario(path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('coverage_minutes = "45"', r"analysis\.coverage_minutes must be a list of numbers"),
        ("coverage_km = [40, -1]", r"analysis\.coverage_km: coverage thresholds must be finite"),
        ('band_minutes = "ten"', r"analysis\.band_minutes must be a number, got 'ten'"),
        ("gain_loss_minutes = -2", r"analysis\.gain_loss_minutes: the gain/loss threshold"),
        (
            'visits_per_person = { Kela = "often" }',
            r"analysis\.visits_per_person\.Kela must be a number",
        ),
        (
            "visits_per_person = { Kela = -0.1 }",
            r"analysis\.visits_per_person\.Kela: visits per person",
        ),
        ('visits_per_person = "Kela"', r"analysis\.visits_per_person must be a table"),
        ('language = "no"', r"analysis\.language must be true or false"),
        ("column = 3", r"analysis\.column must be a population column name"),
    ],
)
def test_bad_analysis_settings_name_the_file_and_key(tmp_path, line, message):
    world = tiny_world(tmp_path)
    path = _write(tmp_path, world, analysis=f"[analysis]\n{line}")
    with pytest.raises(scenario.ScenarioError, match=rf"study\.toml: {message}"):
        scenario.load_scenario(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('population_columns = ["total", "age_65_plus"]', 'population_columns = "total"',
         r"inputs\.population_columns must be a list of names"),
        ('population_columns = ["total", "age_65_plus"]', 'resolution = "x"',
         r"inputs\.resolution must be a number, got 'x'"),
        ('population_columns = ["total", "age_65_plus"]', "resolution = 7.5",
         r"inputs\.resolution must be a whole number"),
        ('population_columns = ["total", "age_65_plus"]', 'mode = "boat"',
         r"inputs\.mode must be one of"),
        ('population_columns = ["total", "age_65_plus"]', "profile = 3",
         r"inputs\.profile must be a packaged profile name"),
        ("report = false", 'report = "yes"', r"outputs\.report must be true or false"),
        ('title = "Tiny study"', "title = 5", r"title must be a string"),
    ],
)  # fmt: skip
def test_bad_input_and_output_settings_name_the_file_and_key(tmp_path, old, new, message):
    world = tiny_world(tmp_path)
    path = _write(tmp_path, world, **{old: new})
    with pytest.raises(scenario.ScenarioError, match=rf"study\.toml: {message}"):
        scenario.load_scenario(path)


def test_valid_settings_keep_their_values(tmp_path):
    world = tiny_world(tmp_path)
    path = _write(
        tmp_path, world,
        analysis="[analysis]\nband_minutes = 5\ncoverage_minutes = [45]\ncoverage_km = [10, 40]"
        "\nvisits_per_person = { Kela = 0.35, Police = 1 }",
        **{'population_columns = ["total", "age_65_plus"]': "resolution = 7.0"},
    )  # fmt: skip
    scn = scenario.load_scenario(path)
    assert scn.band_minutes == 5.0 and scn.resolution == 7
    assert scn.coverage_minutes == [45.0] and scn.coverage_km == [10.0, 40.0]
    assert scn.visits_per_person == {"Kela": 0.35, "Police": 1.0}


def _run_quietly(path):
    messages = []
    scn = scenario.load_scenario(path)
    return scn, scenario.run(scn, warn=messages.append), messages


def test_report_shows_the_tables_as_written(tmp_path, monkeypatch):
    """coverage.csv and report.html agree (the scenario's thresholds, not the report's
    defaults); the summary, with its network diagnostics, is computed once per network;
    the municipalities file is read once."""
    world = tiny_world(tmp_path)
    two = _two_offices(tmp_path)
    text = _toml(
        world, "out", two,
        analysis_block="[analysis]\ncoverage_minutes = [47.5]\ncoverage_km = [12.5]",
    ).replace("report = false", "report = true")  # fmt: skip
    path = tmp_path / "study.toml"
    path.write_text(text)
    from hexaccess import accessibility, api, offices

    diagnostics = []
    original = accessibility.AccessibilityResult.network_diagnostics
    monkeypatch.setattr(
        accessibility.AccessibilityResult,
        "network_diagnostics",
        lambda self, *a, **k: diagnostics.append(1) or original(self, *a, **k),
    )
    reads = []
    read_munis = offices.read_municipalities

    def counting(table):
        if not isinstance(table, pd.DataFrame):
            reads.append(table)
        return read_munis(table)

    monkeypatch.setattr(offices, "read_municipalities", counting)
    monkeypatch.setattr(api, "read_municipalities", counting)
    _, outputs, messages = _run_quietly(path)
    assert any("farther than" in m for m in messages)  # the search's warning, via warn
    assert len(diagnostics) == 2  # one summary per network
    assert reads == [world.municipalities]
    lines = scenario.summary_lines(outputs)
    assert len(diagnostics) == 2 and lines[0].startswith("three: 3 offices")
    html = (tmp_path / "out" / "report.html").read_text()
    for name in ("three", "two"):
        cov = pd.read_csv(tmp_path / "out" / name / "coverage.csv")
        assert sorted(cov.threshold.unique()) == [12.5, 47.5]
        for share in cov.share_pct:
            assert f"<td>{share:,.2f}</td>" in html
    assert "<td>47.50</td>" in html and "<td>12.50</td>" in html
    assert "<td>90.00</td>" not in html  # the report's own default threshold is not used
    summary = json.loads((tmp_path / "out" / "three" / "summary.json").read_text())
    assert summary["provenance"]["office_indices"] == [0, 1, 2]
    assert outputs.summaries["two"]["offices"] == 2


def test_a_bad_reference_stops_the_study_before_solving(tmp_path, capsys):
    world = tiny_world(tmp_path)
    ref = tmp_path / "ref.csv"
    ref.write_text("band_start_min,band_end_min,share_pct\n0,10,40 %\n10,20,60\n")
    text = _toml(world, "out").replace("report = false", f'report = true\nreference = "{ref.name}"')
    path = tmp_path / "study.toml"
    path.write_text(text)
    assert cli_analysis.run_scenario(path, quiet=True) == 2
    err = capsys.readouterr().err
    assert "study.toml: outputs.reference" in err and "line 2: share_pct '40 %'" in err
    assert not (tmp_path / "out").exists()  # nothing was solved or written
    # Shares of part of the population (90 %) are refused, not drawn as they are.
    ref.write_text("band_start_min,band_end_min,share_pct\n0,10,40\n10,20,50\n")
    assert cli_analysis.run_scenario(path, quiet=True) == 2
    assert "sum to 90.000 %, not ~100 %" in capsys.readouterr().err
    ref.write_text("start,end,share\n0,10,40\n")
    assert cli_analysis.run_scenario(path, quiet=True) == 2
    assert "needs band_start_min" in capsys.readouterr().err


def test_warnings_go_through_the_warn_callback(tmp_path, capsys):
    world = tiny_world(tmp_path, offices=[OFFICES[0], OFFICES[2]])  # no Swedish service
    path = tmp_path / "study.toml"
    path.write_text(_toml(world, "out"))
    _, outputs, messages = _run_quietly(path)
    assert any("language access not computed" in m for m in messages)
    assert not outputs.language
    capsys.readouterr()
    assert cli_analysis.run_scenario(path, quiet=True) == 0
    assert capsys.readouterr().err == ""  # --quiet: nothing but errors


def test_an_unknown_column_is_refused_before_solving(tmp_path, monkeypatch):
    world = tiny_world(tmp_path)
    path = _write(tmp_path, world, analysis="[analysis]\ncolumn = 'kids'")
    from hexaccess import analysis

    monkeypatch.setattr(analysis, "solve_network", lambda *a, **k: pytest.fail("solved"))
    with pytest.raises(scenario.ScenarioError, match=r"analysis\.column: unknown population"):
        scenario.run(scenario.load_scenario(path))


def test_bad_visit_rates_on_the_command_line():
    with pytest.raises(ValueError, match=r"--visits 'Kela=often': the rate must be a number"):
        scenario.visits_from_pairs(["Kela=often"])
    with pytest.raises(scenario.ScenarioError, match=r"--visits\.Kela: visits per person"):
        scenario.Scenario(
            population="p", roads="r", office_sets={}, out="o", visits_per_person={"Kela": -1}
        )
