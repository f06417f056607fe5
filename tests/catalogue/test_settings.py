"""Catalogue of hostile settings: limits, the study API, scenario files, reports and
calibration inputs.

Each case builds its own tiny inputs (``tiny_world``) and drives the command line
(``hexaccess.cli.main``: exit code 2 and one stderr line naming the option/file/value)
or the Python API (the error class and a message naming the value). "Accepted" cases
assert the correct result, and for a setting that changes no number the warning that
says so, with the same numbers as without it.

The case lists (``CLI_ERRORS``, ``API_ERRORS``, ``ACCEPTED``) are plain data, so
``python tests/catalogue/test_settings.py --classify`` can run every case on another
copy of hexaccess (``PYTHONPATH``) and count the outcomes.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the fixtures

from fixtures.catalogue import run_cli, stderr_line
from fixtures.worlds import tiny_world

import hexaccess

W = SimpleNamespace  # a tiny world: paths of its files, plus ``tmp``
REFERENCE = "band_start_min,band_end_min,share_pct\n0,10,20\n10,20,30\n20,30,50\n"


# ------------------------------------------------------------------ arguments
def _inputs(w: W) -> list[Any]:
    return ["--population", w.population, "--roads", w.roads, "--offices", w.offices]


def run_args(w: W, *extra: Any) -> list[Any]:
    """``hexaccess run`` on the tiny world."""
    return ["run", *_inputs(w), "--out", w.tmp / "out", "--quiet", *extra]


def report_args(w: W, *extra: Any) -> list[Any]:
    """``hexaccess report`` on the tiny world with its municipality tables."""
    return [
        "report", *_inputs(w), "--municipality-table", w.municipality_table,
        "--municipalities", w.municipalities, "--out", w.tmp / "out", "--quiet", *extra,
    ]  # fmt: skip


def cal_args(w: W, *extra: Any, reference: Any = None) -> list[Any]:
    """``hexaccess calibrate`` on the tiny world with a valid reference."""
    if reference is None:
        reference = w.tmp / "ref.csv"
        reference.write_text(REFERENCE)
    return [
        "calibrate", *_inputs(w), "--reference", reference, "--out", w.tmp / "cal",
        "--max-evaluations", "3", "--quiet", *extra,
    ]  # fmt: skip


def scenario_text(w: W, inputs: str = "", analysis: str = "", outputs: str = "") -> str:
    """A valid scenario of the tiny world with extra lines in its tables."""
    return (
        f'[inputs]\npopulation = "{w.population}"\nroads = "{w.roads}"\n'
        f'municipality_table = "{w.municipality_table}"\n'
        f'municipalities = "{w.municipalities}"\n{inputs}\n'
        f'[[offices]]\nname = "a"\nfile = "{w.offices}"\n'
        f"[analysis]\n{analysis}\n"
        f'[outputs]\ndir = "{w.tmp / "out"}"\n{outputs}\n'
    )


def scenario_args(w: W, *, raw: bytes | None = None, **tables: str) -> list[Any]:
    """``hexaccess run FILE`` with a scenario file (``raw`` bytes, or the valid one with
    extra lines)."""
    path = w.tmp / "study.toml"
    path.write_bytes(raw if raw is not None else scenario_text(w, **tables).encode())
    return ["run", path, "--quiet"]


def _file(w: W, name: str, data: bytes) -> Path:
    path = w.tmp / name
    path.write_bytes(data)
    return path


def _out(args: list[Any], out: Path, *extra: Any) -> list[Any]:
    """``args`` with another ``--out`` directory and ``extra`` options."""
    i = args.index("--out")
    return [*args[: i + 1], out, *args[i + 2 :], *extra]


def _with_offices(args: list[Any], offices: Path) -> list[Any]:
    """``args`` with another ``--offices`` file."""
    i = args.index("--offices")
    return [*args[: i + 1], offices, *args[i + 2 :]]


def _agency_offices(w: W, agency: str = "Kela") -> Path:
    frame = pd.read_csv(w.offices, dtype={"municipality": str}).assign(agency=agency)
    path = w.tmp / "agency_offices.csv"
    frame.to_csv(path, index=False)
    return path


# ------------------------------------------------------------- CLI error cases
@dataclass(frozen=True)
class CliError:
    """A command line that must end with exit code 2 and one line holding ``words``."""

    id: str
    args: Callable[[W], list[Any]]
    words: tuple[str, ...]


def _c(id: str, args: Callable[[W], list[Any]], *words: str) -> CliError:
    return CliError(id, args, words)


CLI_ERRORS = [
    # --- band width: limits, NaN, infinities
    _c("report-band-minutes-1e-5", lambda w: report_args(w, "--band-minutes", "1e-5"),
       "--band-minutes", "1e-05", "0.018", "10,000 bands"),
    _c("report-band-minutes-nan", lambda w: report_args(w, "--band-minutes", "nan"),
       "--band-minutes", "nan"),
    _c("report-band-minutes-inf", lambda w: report_args(w, "--band-minutes", "inf"),
       "--band-minutes", "inf"),
    _c("report-band-minutes-negative", lambda w: report_args(w, "--band-minutes", "-1"),
       "--band-minutes", "-1"),
    _c("report-band-minutes-zero", lambda w: report_args(w, "--band-minutes", "0"),
       "--band-minutes", "0"),
    _c("report-band-minutes-above-a-week", lambda w: report_args(w, "--band-minutes", "20000"),
       "--band-minutes", "20000", "10080"),
    # --- gain/loss threshold
    _c("report-gain-loss-nan", lambda w: report_args(w, "--gain-loss-minutes", "nan"),
       "--gain-loss-minutes", "nan"),
    _c("report-gain-loss-inf", lambda w: report_args(w, "--gain-loss-minutes", "inf"),
       "--gain-loss-minutes", "inf"),
    _c("report-gain-loss-negative", lambda w: report_args(w, "--gain-loss-minutes", "-3"),
       "--gain-loss-minutes", "-3"),
    # --- visit rates
    _c("report-visits-nan", lambda w: report_args(w, "--visits", "Kela=nan"),
       "--visits", "Kela", "nan"),
    _c("report-visits-negative", lambda w: report_args(w, "--visits", "Kela=-0.1"),
       "--visits", "Kela", "-0.1"),
    _c("report-visits-1e300", lambda w: report_args(w, "--visits", "Kela=1e300"),
       "--visits", "Kela", "1e+300", "1000"),
    _c("report-visits-no-rate", lambda w: report_args(w, "--visits", "Kela"),
       "--visits", "AGENCY=RATE", "Kela"),
    _c("report-visits-text-rate", lambda w: report_args(w, "--visits", "Kela=often"),
       "--visits", "Kela=often", "number"),
    _c("report-visits-empty-agency", lambda w: report_args(w, "--visits", "=0.3"),
       "--visits", "=0.3", "agency name is empty"),
    _c("report-visits-agency-twice",
       lambda w: report_args(w, "--visits", "Kela=0.3", "--visits", "Kela=0.5"),
       "--visits", "Kela", "twice"),
    _c("report-visits-agency-no-office-serves",
       lambda w: _with_offices(report_args(w, "--visits", "Kel=0.3"), _agency_offices(w)),
       "Kel", "Kela", "agenc"),
    # --- column
    _c("report-column-unknown", lambda w: report_args(w, "--column", "kids"),
       "--column", "kids", "total"),
    _c("report-column-not-solved",
       lambda w: report_args(w, "--population-columns", "total", "--column", "age_65_plus"),
       "--column", "age_65_plus", "total"),
    # --- the reference band table
    _c("report-reference-directory", lambda w: report_args(w, "--reference", w.tmp),
       "--reference", "directory"),
    _c("report-reference-missing", lambda w: report_args(w, "--reference", w.tmp / "no.csv"),
       "--reference", "no.csv", "not found"),
    _c("report-reference-empty",
       lambda w: report_args(w, "--reference", _file(w, "ref.csv", b"")),
       "--reference", "ref.csv", "empty"),
    _c("report-reference-geopackage",
       lambda w: report_args(w, "--reference", _file(w, "ref.csv", w.roads.read_bytes())),
       "--reference", "ref.csv", "GeoPackage"),
    _c("report-reference-latin1",
       lambda w: report_args(w, "--reference", _file(
           w, "ref.csv", "band_start_min,band_end_min,share_pct,note\n0,10,100,päivä\n"
           .encode("latin-1"))),
       "--reference", "ref.csv", "UTF-8"),
    _c("report-reference-garbage-text",
       lambda w: report_args(w, "--reference", _file(w, "ref.csv", b"hello world\n")),
       "--reference", "ref.csv", "band_start_min"),
    # --- --compare NAME=FILE
    _c("report-compare-missing", lambda w: report_args(w, "--compare", f"b={w.tmp / 'no.csv'}"),
       "--compare b", "no.csv", "not found"),
    _c("report-compare-directory", lambda w: report_args(w, "--compare", f"b={w.tmp}"),
       "--compare b", "work", "directory"),
    _c("report-compare-no-name", lambda w: report_args(w, "--compare", f"={w.offices}"),
       "--compare", "NAME=FILE"),
    _c("report-compare-no-file", lambda w: report_args(w, "--compare", "b="),
       "--compare", "'b='", "NAME=FILE"),
    # --- resolutions and the hexagon graph
    _c("report-resolution-16", lambda w: report_args(w, "--resolution", "16"),
       "--resolution", "16", "0..15"),
    _c("report-resolution-negative", lambda w: report_args(w, "--resolution", "-1"),
       "--resolution", "-1", "0..15"),
    _c("report-resolution-text", lambda w: report_args(w, "--resolution", "abc"),
       "--resolution", "abc"),
    _c("run-hex-resolution-16", lambda w: run_args(w, "--graph", "hex", "--hex-resolution", "16"),
       "--hex-resolution", "16", "0..15"),
    _c("run-hex-resolution-15-too-many-cells",
       lambda w: run_args(w, "--graph", "hex", "--hex-resolution", "15"),
       "hex-resolution", "15", "25,000,000", "cells"),
    _c("run-hex-resolution-3-coarser-than-cover",
       lambda w: run_args(w, "--graph", "hex", "--hex-resolution", "3"),
       "hex-resolution", "3", "coarser"),
    _c("run-off-road-speed-nan", lambda w: run_args(w, "--graph", "hex", "--off-road-speed", "nan"),
       "--off-road-speed", "nan"),
    _c("run-off-road-speed-zero", lambda w: run_args(w, "--graph", "hex", "--off-road-speed", "0"),
       "--off-road-speed", "0"),
    _c("run-hex-option-on-road-graph", lambda w: run_args(w, "--hex-resolution", "9"),
       "hex_resolution", "hex"),
    # --- options the command would ignore
    _c("run-demo-with-mode", lambda w: ["run", "--mode", "walk", "--quiet"],
       "--mode", "demo"),
    _c("run-demo-with-resolution", lambda w: ["run", "--resolution", "7", "--quiet"],
       "--resolution", "demo"),
    _c("run-demo-with-municipalities",
       lambda w: ["run", "--municipalities", w.municipalities, "--quiet"],
       "--municipalities", "demo"),
    _c("run-scenario-with-out", lambda w: [*scenario_args(w), "--out", w.tmp / "elsewhere"],
       "--out", "scenario"),
    _c("run-scenario-with-resolution", lambda w: [*scenario_args(w), "--resolution", "7"],
       "--resolution", "scenario"),
    # --- an output directory that holds the inputs (replacing it would delete them)
    _c("run-out-is-the-inputs-directory",
       lambda w: _out(run_args(w), w.population.parent, "--overwrite"),
       "output directory", "pop.csv", "delete"),
    _c("report-out-above-the-inputs",
       lambda w: _out(report_args(w), w.population.parent.parent, "--overwrite"),
       "output directory", "pop.csv", "delete"),
    _c("scenario-out-is-its-own-directory",
       lambda w: scenario_args(w, raw=scenario_text(w).replace(
           f'dir = "{w.tmp / "out"}"', 'dir = "."\noverwrite = true').encode()),
       "output directory", "study.toml", "delete"),
    _c("calibrate-out-is-the-inputs-directory",
       lambda w: _out(cal_args(w), w.population.parent, "--overwrite"),
       "output directory", "pop.csv", "delete"),
    # --- calibration settings
    _c("calibrate-max-evaluations-0", lambda w: cal_args(w, "--max-evaluations", "0"),
       "max_evaluations", "0"),
    _c("calibrate-max-evaluations-1e9", lambda w: cal_args(w, "--max-evaluations", "1000000000"),
       "max_evaluations", "1,000,000,000", "100,000"),
    _c("calibrate-max-evaluations-text", lambda w: cal_args(w, "--max-evaluations", "many"),
       "--max-evaluations", "many"),
    _c("calibrate-mean-weight-nan", lambda w: cal_args(w, "--mean-weight", "nan"),
       "mean-time term", "nan"),
    _c("calibrate-reference-mean-time-inf",
       lambda w: cal_args(w, "--reference-mean-time", "inf"), "mean travel time", "inf"),
    _c("calibrate-bound-reversed", lambda w: cal_args(w, "--bound", "terminal_time_s=5:1"),
       "terminal_time_s", "5", "low <= high"),
    _c("calibrate-bound-nan", lambda w: cal_args(w, "--bound", "terminal_time_s=nan:1"),
       "terminal_time_s", "nan"),
    _c("calibrate-bound-not-a-range", lambda w: cal_args(w, "--bound", "terminal_time_s=5"),
       "KEY=LOW:HIGH", "terminal_time_s=5"),
    _c("calibrate-bound-outside-legal-range",
       lambda w: cal_args(w, "--bound", "terminal_time_s=0:5000"),
       "terminal_time_s", "5000", "legal range"),
    _c("calibrate-bound-unknown-key", lambda w: cal_args(w, "--bound", "warp=1:2"),
       "warp", "unknown calibration parameter"),
    _c("calibrate-fix-unknown-key", lambda w: cal_args(w, "--fix", "warp"),
       "warp", "unknown calibration parameter"),
    _c("calibrate-fix-and-bound-same-key",
       lambda w: cal_args(w, "--bound", "terminal_time_s=0:60", "--fix", "terminal_time_s"),
       "terminal_time_s", "fixed"),
    _c("calibrate-column-unknown", lambda w: cal_args(w, "--column", "kids"), "kids"),
    _c("calibrate-column-not-in-population-columns",
       lambda w: cal_args(w, "--population-columns", "age_65_plus"),
       "--population-columns", "age_65_plus", "total"),
    _c("calibrate-graph-hex", lambda w: cal_args(w, "--graph", "hex"), "--graph hex"),
    _c("calibrate-reference-directory", lambda w: cal_args(w, reference=w.tmp),
       "reference", "directory"),
    _c("calibrate-reference-empty", lambda w: cal_args(w, reference=_file(w, "r.csv", b"")),
       "r.csv", "empty"),
    # --- scenario files
    _c("scenario-directory", lambda w: ["run", w.tmp, "--quiet"], "scenario", "directory"),
    _c("scenario-missing", lambda w: ["run", w.tmp / "no.toml", "--quiet"],
       "scenario", "no.toml", "not found"),
    _c("scenario-empty", lambda w: scenario_args(w, raw=b""), "study.toml", "empty"),
    _c("scenario-comments-only", lambda w: scenario_args(w, raw=b"# nothing yet\n\n"),
       "study.toml", "no settings"),
    _c("scenario-latin1",
       lambda w: scenario_args(w, raw=scenario_text(w, analysis="# päivä").encode("latin-1")),
       "study.toml", "line", "UTF-8"),
    _c("scenario-nul-bytes", lambda w: scenario_args(w, raw=b"title = 'a'\n\x00\x00\n"),
       "study.toml", "NUL"),
    _c("scenario-resolution-text", lambda w: scenario_args(w, inputs='resolution = "8"'),
       "study.toml", "inputs.resolution", "'8'"),
    _c("scenario-resolution-20", lambda w: scenario_args(w, inputs="resolution = 20"),
       "study.toml", "inputs.resolution", "20"),
    _c("scenario-band-minutes-1e-5", lambda w: scenario_args(w, analysis="band_minutes = 1e-5"),
       "study.toml", "analysis.band_minutes", "1e-05"),
    _c("scenario-band-minutes-text", lambda w: scenario_args(w, analysis='band_minutes = "10"'),
       "study.toml", "analysis.band_minutes", "'10'"),
    _c("scenario-coverage-scalar", lambda w: scenario_args(w, analysis="coverage_minutes = 30"),
       "study.toml", "analysis.coverage_minutes", "list"),
    _c("scenario-coverage-1e300",
       lambda w: scenario_args(w, analysis="coverage_minutes = [1e300]"),
       "study.toml", "analysis.coverage_minutes", "1e+300"),
    _c("scenario-coverage-twice",
       lambda w: scenario_args(w, analysis="coverage_minutes = [30, 30]"),
       "study.toml", "analysis.coverage_minutes", "30", "twice"),
    _c("scenario-coverage-km-nan", lambda w: scenario_args(w, analysis="coverage_km = [nan]"),
       "study.toml", "analysis.coverage_km", "nan"),
    _c("scenario-visits-scalar", lambda w: scenario_args(w, analysis="visits_per_person = 3"),
       "study.toml", "analysis.visits_per_person", "table"),
    _c("scenario-visits-empty-agency",
       lambda w: scenario_args(w, analysis='visits_per_person = { "" = 0.3 }'),
       "study.toml", "analysis.visits_per_person", "empty"),
    _c("scenario-report-text", lambda w: scenario_args(w, outputs='report = "yes"'),
       "study.toml", "outputs.report", "yes"),
    _c("scenario-hex-resolution-on-road-graph",
       lambda w: scenario_args(w, inputs="hex_resolution = 9"),
       "study.toml", "inputs.hex_resolution", "hexagon graph"),
    _c("scenario-hex-resolution-16",
       lambda w: scenario_args(w, inputs='graph = "hex"\nhex_resolution = 16'),
       "study.toml", "inputs.hex_resolution", "16"),
    _c("scenario-off-road-speed-text",
       lambda w: scenario_args(w, inputs='graph = "hex"\noff_road_speed_kmh = "fast"'),
       "study.toml", "inputs.off_road_speed_kmh", "fast"),
    _c("scenario-population-columns-empty",
       lambda w: scenario_args(w, inputs="population_columns = []"),
       "study.toml", "inputs.population_columns"),
]  # fmt: skip


@pytest.mark.parametrize("case", CLI_ERRORS, ids=[c.id for c in CLI_ERRORS])
def test_cli_refuses_clearly(case: CliError, tmp_path: Path, capsys: Any) -> None:
    w = _world(tmp_path)
    code, line = run_cli(case.args(w), capsys)
    assert code == 2, f"exit code {code}: {line}"
    missing = [word for word in case.words if word.lower() not in line.lower()]
    assert not missing, f"{missing} not in: {line}"


# ------------------------------------------------------------- API error cases
@dataclass(frozen=True)
class ApiError:
    """A call that must raise ``error`` (a class of ``hexaccess``) matching ``match``."""

    id: str
    call: Callable[[W], Any]
    error: str
    match: str


def _study(w: W, **kw: Any) -> hexaccess.Study:
    return hexaccess.Study(w.population, w.roads, w.offices, **kw)


def _result(w: W) -> hexaccess.StudyResult:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _study(w, municipality_table=w.municipality_table).solve()


def _graph() -> hexaccess.Graph:
    return hexaccess.Graph.from_edges([0, 1], [1, 2], [1.0, 1.0], [1.0, 1.0], num_nodes=3)


def _reference_dir(w: W) -> Any:
    from hexaccess import calibrate

    return calibrate.read_reference(w.tmp)


def _legal_bounds(w: W) -> Any:
    from hexaccess import calibrate
    from hexaccess.profiles import load_profile

    return calibrate.default_parameters(
        load_profile("car_fi"), bounds={"terminal_time_s": (0, 5000)}
    )


def _opts(**kw: Any) -> Callable[[W], Any]:
    return lambda w: hexaccess.ReportOptions(**kw)


API_ERRORS = [
    ApiError("study-resolution-16", lambda w: _study(w, resolution=16), "ScenarioError",
             r"resolution \(--resolution\) must be an H3 resolution 0\.\.15, got 16"),
    ApiError("study-resolution-bool", lambda w: _study(w, resolution=True), "ScenarioError",
             r"resolution \(--resolution\) must be a whole number 0\.\.15, got True"),
    ApiError("study-hex-resolution-15-too-many-cells",
             lambda w: _study(w, graph="hex", hex_resolution=15).solve(), "ScenarioError",
             r"hex_resolution .*15.*25,000,000"),
    ApiError("study-off-road-speed-text",
             lambda w: _study(w, graph="hex", off_road_speed_kmh="fast"), "ScenarioError",
             r"off_road_speed_kmh \(--off-road-speed\) must be a number, got 'fast'"),
    ApiError("study-off-road-speed-inf",
             lambda w: _study(w, graph="hex", off_road_speed_kmh=float("inf")), "ScenarioError",
             r"off_road_speed_kmh \(--off-road-speed\) must be > 0 km/h .*got inf"),
    ApiError("options-band-minutes-1e-5", _opts(band_minutes=1e-5), "ScenarioError",
             r"band_minutes: a band width of 1e-05 minutes is below the limit of 0\.018"),
    ApiError("options-band-minutes-text", _opts(band_minutes="10"), "ScenarioError",
             r"band_minutes must be a number, got '10'"),
    ApiError("options-coverage-nan", _opts(coverage_minutes=[30, float("nan")]),
             "ScenarioError", r"coverage_minutes: coverage thresholds must be finite.*nan"),
    ApiError("options-coverage-km-1e9", _opts(coverage_km=[1e9]), "ScenarioError",
             r"coverage_km: .*at most 20000.*1000000000"),
    ApiError("options-gain-loss-inf", _opts(gain_loss_minutes=float("inf")), "ScenarioError",
             r"gain_loss_minutes: the gain/loss threshold .*got inf"),
    ApiError("options-visits-negative", _opts(visits_per_person={"Kela": -1}),
             "ScenarioError", r"visits_per_person\.Kela: visits per person .*got -1"),
    ApiError("options-visits-empty-agency", _opts(visits_per_person={" ": 1}),
             "ScenarioError", r"visits_per_person: agency name ' ' is empty"),
    ApiError("options-title-number", _opts(title=3), "ScenarioError",
             r"title must be a string, got 3"),
    ApiError("options-language-text", _opts(language="yes"), "ScenarioError",
             r"language must be true or false, got 'yes'"),
    ApiError("study-report-options-dict",
             lambda w: _study(w).report(w.tmp / "r", {"band_minutes": 5}), "ScenarioError",
             r"options must be a hexaccess\.ReportOptions, got dict"),
    ApiError("graph-threads-5000", lambda w: _graph().nearest([0], threads=5000),
             "EngineInputError", r"threads=5000 is more than the limit of \d+"),
    ApiError("graph-threads-0", lambda w: _graph().nearest([0], threads=0),
             "EngineInputError", r"threads must be >= 1 .*got 0"),
    ApiError("band-table-too-many-bands",
             lambda w: hexaccess.analysis.band_table(_result(w), 1e-4), "AnalysisInputError",
             r"bands of 0\.0001 minutes .*limit of 10,000 bands"),
    ApiError("result-coverage-inf", lambda w: _result(w).coverage(minutes=[float("inf")]),
             "AnalysisInputError", r"coverage minutes: coverage thresholds .*inf"),
    ApiError("result-municipalities-within-nan",
             lambda w: _result(w).municipalities(within_minutes=float("nan")),
             "AnalysisInputError", r"within_minutes: coverage thresholds .*nan"),
    ApiError("result-catchments-visits-nan",
             lambda w: _result(w).catchments(visits_per_person={"Kela": float("nan")}),
             "AnalysisInputError", r"visits_per_person\.Kela: .*got nan"),
    ApiError("calibrate-max-evaluations-1e9",
             lambda w: hexaccess.calibrate.check_search_settings(max_evaluations=10**9),
             "CalibrationError", r"max_evaluations 1,000,000,000 is above the limit of 100,000"),
    ApiError("calibrate-reference-directory", _reference_dir, "InputFileError",
             r"reference band table .* is a directory"),
    ApiError("calibrate-reference-number",
             lambda w: hexaccess.calibrate.read_reference(3), "CalibrationError",
             r"reference must be a band table: a CSV file path or a DataFrame, got int"),
    ApiError("calibrate-bounds-outside-legal-range", _legal_bounds, "CalibrationError",
             r"bounds of terminal_time_s 0:5000 lie outside the legal range 0:1800"),
    ApiError("result-write-into-the-inputs-directory",
             lambda w: _result(w).write(w.population.parent, overwrite=True), "OutputError",
             r"output directory .* holds the population input .*pop\.csv"),
    ApiError("study-report-above-the-inputs",
             lambda w: _study(w).report(w.population.parent.parent, overwrite=True),
             "OutputError", r"output directory .* holds the population input"),
    ApiError("scenario-directory", lambda w: hexaccess.scenario.load_scenario(w.tmp),
             "ScenarioError", r"scenario file .* is a directory"),
]  # fmt: skip


@pytest.mark.parametrize("case", API_ERRORS, ids=[c.id for c in API_ERRORS])
def test_api_refuses_clearly(case: ApiError, tmp_path: Path) -> None:
    w = _world(tmp_path)
    with pytest.raises(getattr(hexaccess, case.error), match=case.match):
        case.call(w)


# ----------------------------------------------- accepted correctly (and warned)
def _bands(out: Path) -> bytes:
    return (out / "bands.csv").read_bytes()


def _stderr(args: list[Any], capsys: Any) -> tuple[int, str]:
    """Exit code and the whole stderr (warnings are allowed here)."""
    from hexaccess.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def _same_with_and_without(
    w: W, capsys: Any, base: list[Any], extra: list[Any], warning: str
) -> None:
    """``base + extra`` exits 0 with ``warning`` on stderr and the same bands.csv as
    ``base`` (the option changes no number)."""
    quiet = [a for a in base if a != "--quiet"]
    code, _ = _stderr(quiet, capsys)
    assert code == 0
    first = _bands(w.tmp / "out")
    code, err = _stderr([*quiet, *extra, "--overwrite"], capsys)
    assert code == 0, err
    assert warning in err, err
    assert _bands(w.tmp / "out") == first


def ok_gain_loss_one_network(w: W, capsys: Any) -> None:
    _same_with_and_without(
        w, capsys, report_args(w), ["--gain-loss-minutes", "3"], "gain/loss threshold"
    )


def ok_run_municipalities_unused(w: W, capsys: Any) -> None:
    _same_with_and_without(
        w, capsys, run_args(w), ["--municipalities", w.municipalities], "--municipalities"
    )


def ok_report_municipalities_without_table(w: W, capsys: Any) -> None:
    base = ["report", *_inputs(w), "--out", w.tmp / "out"]
    _same_with_and_without(
        w, capsys, base, ["--municipalities", w.municipalities], "municipality table"
    )


def ok_calibrate_mean_weight_without_mean(w: W, capsys: Any) -> None:
    args = [a for a in cal_args(w, "--mean-weight", "3") if a != "--quiet"]
    code, err = _stderr(args, capsys)
    assert code == 0, err
    assert "--mean-weight" in err and "changes no number" in err


def ok_calibrate_municipality_table_without_exclude(w: W, capsys: Any) -> None:
    args = [a for a in cal_args(w, "--municipality-table", w.municipality_table)]
    code, err = _stderr([a for a in args if a != "--quiet"], capsys)
    assert code == 0, err
    assert "--municipality-table" in err and "changes no number" in err


def _scenario_warns(w: W, capsys: Any, warning: str, **tables: str) -> None:
    args = [a for a in scenario_args(w, **tables) if a != "--quiet"]
    code, err = _stderr(args, capsys)
    assert code == 0, err
    assert warning in err, err


def ok_scenario_reference_without_report(w: W, capsys: Any) -> None:
    ref = _file(w, "ref.csv", REFERENCE.encode())
    _scenario_warns(
        w, capsys, "outputs.reference is used only by report.html",
        outputs=f'report = false\nreference = "{ref}"',
    )  # fmt: skip


def ok_scenario_title_without_report(w: W, capsys: Any) -> None:
    text = 'title = "Joint offices"\n' + scenario_text(w, outputs="report = false")
    path = _file(w, "study.toml", text.encode())
    code, err = _stderr(["run", path], capsys)
    assert code == 0 and "title is used only by report.html" in err, err


def ok_scenario_language_without_municipalities(w: W, capsys: Any) -> None:
    text = scenario_text(w, analysis="language = true").replace(
        f'municipalities = "{w.municipalities}"\n', ""
    )
    code, err = _stderr(["run", _file(w, "study.toml", text.encode())], capsys)
    assert code == 0 and "language access needs" in err, err


def ok_scenario_with_byte_order_mark(w: W, capsys: Any) -> None:
    code, line = run_cli(scenario_args(w), capsys)
    assert code == 0, line
    first = _bands(w.tmp / "out")
    raw = b"\xef\xbb\xbf" + scenario_text(w, outputs="overwrite = true").encode()
    code, line = run_cli(scenario_args(w, raw=raw), capsys)
    assert code == 0, line
    assert _bands(w.tmp / "out") == first


def ok_fine_bands_draw_quickly(w: W, capsys: Any) -> None:
    """0.02-minute bands: about a thousand bands in the CSV, a chart of merged bars."""
    code, line = run_cli(report_args(w, "--band-minutes", "0.02"), capsys)
    assert code == 0, line
    bands = pd.read_csv(w.tmp / "out" / "bands.csv")
    assert 500 < len(bands) <= 10_000
    cells = pd.read_parquet(w.tmp / "out" / "cells.parquet")
    reached = np.isfinite(cells["time_s"].to_numpy())
    assert bands["population"].sum() == pytest.approx(cells["total"][reached].sum())
    assert (w.tmp / "out" / "report.html").stat().st_size > 0


def ok_empty_time_thresholds(w: W, capsys: Any) -> None:
    code, line = run_cli(scenario_args(w, analysis="coverage_minutes = []"), capsys)
    assert code == 0, line
    cov = pd.read_csv(w.tmp / "out" / "coverage.csv")
    assert set(cov["measure"]) == {"km"}


def ok_visits_of_the_offices_agency(w: W, capsys: Any) -> None:
    args = _with_offices(report_args(w, "--visits", "Kela=0.35"), _agency_offices(w))
    code, line = run_cli(args, capsys)
    assert code == 0, line
    offices = pd.read_csv(w.tmp / "out" / "offices.csv")
    assert offices["visits_Kela"].to_numpy() == pytest.approx(offices["population"] * 0.35)


def ok_threads_at_the_cap(w: W, capsys: Any) -> None:
    g = _graph()
    np.testing.assert_array_equal(g.nearest([0], threads=64).time_s, g.nearest([0]).time_s)


def ok_report_options_normalised(w: W, capsys: Any) -> None:
    opts = hexaccess.ReportOptions(band_minutes=5, coverage_minutes=[45], coverage_km=(40,))
    assert opts.band_minutes == 5.0 and list(opts.coverage_minutes) == [45.0]
    out = _study(w, municipality_table=w.municipality_table).report(
        w.tmp / "rep", opts, warn=lambda m: None
    )
    assert "bands.csv" in {p.name for p in out.files}
    cov = pd.read_csv(w.tmp / "rep" / "coverage.csv")
    assert cov.groupby("measure")["threshold"].unique().map(list).to_dict() == {
        "km": [40.0],
        "minutes": [45.0],
    }


ACCEPTED: list[Callable[[W, Any], None]] = [
    ok_gain_loss_one_network,
    ok_run_municipalities_unused,
    ok_report_municipalities_without_table,
    ok_calibrate_mean_weight_without_mean,
    ok_calibrate_municipality_table_without_exclude,
    ok_scenario_reference_without_report,
    ok_scenario_title_without_report,
    ok_scenario_language_without_municipalities,
    ok_scenario_with_byte_order_mark,
    ok_fine_bands_draw_quickly,
    ok_empty_time_thresholds,
    ok_visits_of_the_offices_agency,
    ok_threads_at_the_cap,
    ok_report_options_normalised,
]


@pytest.mark.parametrize("case", ACCEPTED, ids=[f.__name__[3:] for f in ACCEPTED])
def test_accepted_correctly(case: Callable[[W, Any], None], tmp_path: Path, capsys: Any) -> None:
    case(_world(tmp_path), capsys)


def test_the_catalogue_is_large_enough() -> None:
    assert len(CLI_ERRORS) + len(API_ERRORS) + len(ACCEPTED) >= 30


def test_stderr_line_accepts_argparse_and_refuses_tracebacks() -> None:
    assert stderr_line("usage: x\nx: error: bad\n") == "x: error: bad"
    with pytest.raises(AssertionError):
        stderr_line("Traceback (most recent call last):\n  boom\n")
    with pytest.raises(AssertionError):
        stderr_line("one\ntwo\n")


# ------------------------------------------------------------------- helpers
def _world(tmp_path: Path) -> W:
    """The tiny world in ``tmp_path/box/inputs`` and a work directory ``tmp_path/work``:
    every directory a case names lies inside ``tmp_path``, so even a hexaccess that
    replaced an output directory holding the inputs (as before this catalogue) could
    only ever replace ``tmp_path/box``."""
    inputs = tmp_path / "box" / "inputs"
    inputs.mkdir(parents=True)
    paths = tiny_world(inputs)
    work = tmp_path / "work"
    work.mkdir()
    return W(**vars(paths), tmp=work)


# ------------------------------------------------------------ classification
def _classify_case(kind: str, index: int, tmp: Path) -> str:
    """Run one case here and name its outcome: clear / vague / accepted / traceback /
    silent (exit 0 or no error where one was due, or a missing warning)."""
    import contextlib
    import io

    from hexaccess.errors import HexaccessError

    class Capsys:
        """Just enough of pytest's capsys: stderr since the last call."""

        def __init__(self) -> None:
            self.err = io.StringIO()
            self.seen = 0

        def readouterr(self) -> SimpleNamespace:
            text = self.err.getvalue()
            new, self.seen = text[self.seen :], len(text)
            return SimpleNamespace(out="", err=new)

    w = _world(tmp)
    cap = Capsys()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(cap.err):
            if kind == "cli":
                case = CLI_ERRORS[index]
                from hexaccess.cli import main

                try:
                    code = main([str(a) for a in case.args(w)])
                except SystemExit as exc:
                    code = exc.code
                err = cap.err.getvalue()
                if code == 0:
                    return "silent"
                if code != 2 or "internal error" in err or "Traceback" in err:
                    return "traceback"
                lines = [x for x in err.splitlines() if x.strip()]
                ok = len(lines) == 1 or (lines and lines[0].startswith("usage:"))
                low = lines[-1].lower() if lines else ""
                return "clear" if ok and all(x.lower() in low for x in case.words) else "vague"
            if kind == "api":
                import re

                case = API_ERRORS[index]
                try:
                    case.call(w)
                except HexaccessError as exc:
                    cls = getattr(hexaccess, case.error, None)
                    good = cls is not None and isinstance(exc, cls)
                    return "clear" if good and re.search(case.match, str(exc)) else "vague"
                except Exception:
                    return "traceback"
                return "silent"
            try:
                ACCEPTED[index](w, cap)
            except AssertionError:
                return "silent"
            except HexaccessError:
                return "refused"
            except Exception:
                return "traceback"
            return "accepted"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _classify_all(only: list[str], timeout: float = 60.0) -> dict[str, str]:
    """Every case (or those whose ``kind:id`` holds one of ``only``) in its own process
    (``PYTHONPATH`` decides which hexaccess), with a timeout for hangs; returns ``{case
    id: outcome}``."""
    import os
    import subprocess
    import tempfile

    cases = (
        [("cli", i, c.id) for i, c in enumerate(CLI_ERRORS)]
        + [("api", i, c.id) for i, c in enumerate(API_ERRORS)]
        + [("ok", i, f.__name__[3:]) for i, f in enumerate(ACCEPTED)]
    )
    out = {}
    sandbox = Path(tempfile.mkdtemp(prefix="settings_catalogue_")) / "cases"
    sandbox.mkdir()
    for kind, i, name in cases:
        if only and not any(o in f"{kind}:{name}" for o in only):
            continue
        tmp = tempfile.mkdtemp(prefix="case_", dir=sandbox)
        cmd = [sys.executable, __file__, "--one", kind, str(i), tmp]
        try:
            run = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, env=dict(os.environ)
            )
            lines = run.stdout.strip().splitlines()
            outcome = lines[-1] if lines else f"crash ({run.stderr.strip()[-200:]})"
        except subprocess.TimeoutExpired:
            outcome = "hang"
        shutil.rmtree(tmp, ignore_errors=True)
        out[f"{kind}:{name}"] = outcome
        print(f"{kind}:{name}: {outcome}", flush=True)
    shutil.rmtree(sandbox.parent, ignore_errors=True)
    return out


if __name__ == "__main__":  # pragma: no cover - the before/after classification
    if sys.argv[1:2] == ["--one"]:
        import resource
        import warnings

        resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))  # a blow-up fails, not OOM
        warnings.simplefilter("ignore")
        print(_classify_case(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])))
    elif sys.argv[1:2] == ["--classify"]:
        result = _classify_all(sys.argv[2:])
        counts: dict[str, int] = {}
        for v in result.values():
            counts[v] = counts.get(v, 0) + 1
        print(json.dumps(counts, indent=1))
