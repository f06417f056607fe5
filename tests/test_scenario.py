"""Scenario files (``hexaccess run scenario.toml``) and ``hexaccess report`` on the tiny
world: outputs checked against the per-cell results they were derived from."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest
from test_analysis import OFFICES, tiny_world

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
