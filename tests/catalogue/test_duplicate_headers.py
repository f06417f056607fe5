"""Catalogue of CSV inputs whose header repeats a column name (issue "Nothing silent").

pandas renames a repeated column silently (``T,T`` is read as ``T`` and ``T.1``), so a
census file with two ``T`` columns, an office table with two ``name`` columns or a band
table with two ``share_pct`` columns was read from whichever came first, with no word.
Every CSV reader now goes through :func:`hexaccess._files.read_csv`, which refuses such a
header: the CLI exits with code 2 and one stderr line naming the file, the column and the
fix; the API raises the area's error class (population, offices, calibration).

Each case builds the tiny world (``fixtures.worlds``) in ``tmp_path``, repeats one
column of one of its CSV files (the repeat holds other values, so reading the wrong one
would change the numbers) and runs ``hexaccess run``, ``report``, ``optimise`` or
``calibrate``, or the reader's API. Names that differ (``T`` beside ``t``) are not
repeats: that case must run, with the people of ``T``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fixtures.catalogue import Case, check_case, outcome  # noqa: F401
from fixtures.worlds import tiny_world

import hexaccess

#: The tiny world's people (its population CSV's ``T``).
TOTAL = 1650
#: A valid reference band table for ``hexaccess calibrate``.
REFERENCE = "band_start_min,band_end_min,share_pct\n0,10,20\n10,20,30\n20,30,50\n"
#: The words of the fix every message gives.
FIX = "distinct name"


# ------------------------------------------------------------------ building inputs
def _world(tmp: Path) -> Any:
    (tmp / "w").mkdir(parents=True, exist_ok=True)
    world = tiny_world(tmp / "w")
    world.tmp = tmp
    (tmp / "ref.csv").write_text(REFERENCE)
    world.reference = tmp / "ref.csv"
    return world


def _repeat(
    path: Path,
    column: str,
    *,
    as_name: str | None = None,
    sep: str = ",",
    encoding: str = "utf-8",
    gz: bool = False,
    out: Path | None = None,
) -> Path:
    """``path`` with ``column`` repeated at the end of every row (header ``as_name``,
    default the same name), its values changed so the repeat is not a harmless copy;
    written with ``sep`` and ``encoding`` (gzip-compressed with ``gz``) to ``out``."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    k = rows[0].index(column)
    rows[0].append(column if as_name is None else as_name)
    for row in rows[1:]:
        value = row[k]
        row.append(str(int(value) + 7) if value.isdigit() else f"{value} (copy)")
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator="\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    target = out or path.with_name(f"repeated_{path.name}{'.gz' if gz else ''}")
    target.write_bytes(gzip.compress(data) if gz else data)
    return target


def _inputs(w: Any, **swap: Any) -> list[str]:
    files = {"population": w.population, "roads": w.roads, "offices": w.offices, **swap}
    return [x for key, value in files.items() for x in (f"--{key}", str(value))]


def _run(role: str, column: str, **options: Any) -> Callable[[Path], tuple[str, list[str]]]:
    """``hexaccess run`` on the tiny world with its ``role`` input (``population``,
    ``offices`` or ``municipality-table``) swapped for a copy holding ``column`` twice
    (:func:`_repeat` ``options``)."""

    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        if role == "municipality-table":
            table = _repeat(w.municipality_table, column, **options)
            files, extra = _inputs(w), ["--municipality-table", str(table)]
        else:
            files, extra = _inputs(w, **{role: _repeat(getattr(w, role), column, **options)}), []
        return "cli", ["run", *files, *extra, "--out", str(tmp / "out"), "--quiet"]

    return make


def _report_municipalities(column: str) -> Callable[[Path], tuple[str, list[str]]]:
    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        munis = _repeat(w.municipalities, column)
        return "cli", [
            "report",
            *_inputs(w),
            "--municipality-table",
            str(w.municipality_table),
            "--municipalities",
            str(munis),
            "--out",
            str(tmp / "out"),
            "--quiet",
        ]

    return make


def _optimise(option: str, column: str) -> Callable[[Path], tuple[str, list[str]]]:
    """``hexaccess optimise`` with the file of ``option`` (candidates, fixed or forbidden
    sites, all from the tiny world's offices) holding ``column`` twice."""

    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        offices = pd.read_csv(w.offices, dtype={"municipality": str})
        files = {"--candidates": w.offices}
        if option == "--fixed":
            offices.iloc[:1].to_csv(tmp / "sites.csv", index=False)
        elif option == "--forbidden":
            offices[["name"]].iloc[2:].to_csv(tmp / "sites.csv", index=False)
        else:
            offices.to_csv(tmp / "sites.csv", index=False)
        files[option] = _repeat(tmp / "sites.csv", column)
        args = ["optimise", "--population", str(w.population), "--roads", str(w.roads)]
        for key, value in files.items():
            args += [key, str(value)]
        return "cli", [*args, "--total", "2", "--out", str(tmp / "out"), "--quiet"]

    return make


def _calibrate(column: str) -> Callable[[Path], tuple[str, list[str]]]:
    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        ref = _repeat(w.reference, column)
        return "cli", [
            "calibrate",
            *_inputs(w),
            "--reference",
            str(ref),
            "--out",
            str(tmp / "cal"),
            "--max-evaluations",
            "3",
            "--quiet",
        ]

    return make


def _h3_population(tmp: Path) -> Path:
    import h3

    path = tmp / "cells.csv"
    cells = [h3.latlng_to_cell(60.18 + 0.01 * i, 24.93, 8) for i in range(3)]
    pd.DataFrame({"h3": cells, "people": [10, 20, 30]}).to_csv(path, index=False)
    return _repeat(path, "people")


def _api(reader: Callable[[Path], Any]) -> Callable[[Path], tuple[str, Callable[[], Any]]]:
    def make(tmp: Path) -> tuple[str, Callable[[], Any]]:
        w = _world(tmp)
        return "api", lambda: reader(w)

    return make


def _api_eurostat(w: Any) -> Any:
    from hexaccess.population import read_eurostat_grid

    return read_eurostat_grid(_repeat(w.population, "T"))


def _api_h3(w: Any) -> Any:
    from hexaccess.population import read_h3_table

    return read_h3_table(_h3_population(w.tmp))


def _api_table(w: Any) -> Any:
    from hexaccess.population import read_municipality_table

    return read_municipality_table(_repeat(w.municipality_table, "GRD_ID"))


def _api_offices(w: Any) -> Any:
    from hexaccess.offices import read_offices

    return read_offices(_repeat(w.offices, "lat"))


def _api_municipalities(w: Any) -> Any:
    from hexaccess.offices import read_municipalities

    return read_municipalities(_repeat(w.municipalities, "language"))


def _api_reference(w: Any) -> Any:
    from hexaccess.calibrate import read_reference

    return read_reference(_repeat(w.reference, "share_pct"))


def _api_study(w: Any) -> Any:
    return hexaccess.Study(_repeat(w.population, "Y_GE65"), w.roads, w.offices).population


def _people_of_T(tmp: Path, _result: Any) -> bool:
    """The run counted the people of ``T`` (``t`` holds 7 more per square)."""
    summary = json.loads((tmp / "out" / "summary.json").read_text())
    return summary["population_total"] == TOTAL


# ------------------------------------------------------------------ the cases
POP, OFF, CAL = (
    hexaccess.PopulationInputError,
    hexaccess.OfficeInputError,
    hexaccess.CalibrationError,
)

CASES: list[Case] = [
    # hexaccess run: census file, H3 table, municipality table, offices
    Case("census-T-twice", _run("population", "T"), ("repeated_pop.csv", "'T'", FIX)),
    Case(
        "census-age-column-twice",
        _run("population", "Y_GE65"),
        ("repeated_pop.csv", "'Y_GE65'", FIX),
    ),
    Case(
        "census-grd-id-twice", _run("population", "GRD_ID"), ("repeated_pop.csv", "'GRD_ID'", FIX)
    ),
    Case(
        "census-gzip-T-twice", _run("population", "T", gz=True), ("repeated_pop.csv.gz", "'T'", FIX)
    ),
    Case(
        "census-utf16-T-twice",
        _run("population", "T", encoding="utf-16"),
        ("repeated_pop.csv", "'T'", FIX),
    ),
    Case(
        "census-T-twice-with-blanks",
        _run("population", "T", as_name=" T "),
        ("repeated_pop.csv", "'T'", FIX),
    ),
    Case(
        "census-T-and-t-is-not-a-repeat",
        _run("population", "T", as_name="t"),
        None,
        check=_people_of_T,
    ),
    Case(
        "municipality-table-code-twice",
        _run("municipality-table", "municipality"),
        ("repeated_grid_municipality.csv", "'municipality'", FIX),
    ),
    Case("offices-name-twice", _run("offices", "name"), ("repeated_offices.csv", "'name'", FIX)),
    Case(
        "offices-lon-twice-semicolons",
        _run("offices", "lon", sep=";"),
        ("repeated_offices.csv", "'lon'", FIX),
    ),
    Case(
        "offices-municipality-twice-tabs",
        _run("offices", "municipality", sep="\t"),
        ("repeated_offices.csv", "'municipality'", FIX),
    ),
    # hexaccess report: the municipalities CSV
    Case(
        "municipalities-name-twice",
        _report_municipalities("name_fi"),
        ("repeated_municipalities.csv", "'name_fi'", FIX),
    ),
    # hexaccess optimise: candidates, fixed and forbidden sites
    Case(
        "candidates-lat-twice",
        _optimise("--candidates", "lat"),
        ("repeated_sites.csv", "'lat'", FIX),
    ),
    Case(
        "fixed-sites-name-twice",
        _optimise("--fixed", "name"),
        ("repeated_sites.csv", "'name'", FIX),
    ),
    Case(
        "forbidden-sites-name-twice",
        _optimise("--forbidden", "name"),
        ("repeated_sites.csv", "'name'", FIX),
    ),
    # hexaccess calibrate: the reference band table
    Case(
        "reference-share-twice", _calibrate("share_pct"), ("repeated_ref.csv", "'share_pct'", FIX)
    ),
    # the API: each reader raises its area's error class
    Case("api-eurostat-T-twice", _api(_api_eurostat), ("repeated_pop.csv", "'T'", FIX), POP),
    Case("api-h3-people-twice", _api(_api_h3), ("repeated_cells.csv", "'people'", FIX), POP),
    Case("api-table-grd-id-twice", _api(_api_table), ("'GRD_ID'", FIX), POP),
    Case("api-offices-lat-twice", _api(_api_offices), ("repeated_offices.csv", "'lat'", FIX), OFF),
    Case(
        "api-municipalities-language-twice",
        _api(_api_municipalities),
        ("repeated_municipalities.csv", "'language'", FIX),
        OFF,
    ),
    Case(
        "api-reference-share-twice",
        _api(_api_reference),
        ("repeated_ref.csv", "'share_pct'", FIX),
        CAL,
    ),
    Case("api-study-age-column-twice", _api(_api_study), ("'Y_GE65'", FIX), POP),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_duplicate_header(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_case(case, tmp_path, capsys)


def test_the_repeat_names_its_positions(tmp_path: Path) -> None:
    """The message gives the repeated column's positions (1-based), so a wide census file
    can be fixed without guessing which copy is meant."""
    w = _world(tmp_path)
    path = _repeat(w.population, "T")  # GRD_ID,T,Y_GE65,T
    with pytest.raises(hexaccess.PopulationInputError, match=r"'T' \(columns 2, 4\)"):
        _api_eurostat_path(path)


def _api_eurostat_path(path: Path) -> Any:
    from hexaccess.population import read_eurostat_grid

    return read_eurostat_grid(path)
