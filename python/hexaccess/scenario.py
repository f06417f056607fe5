"""Scenario files: a whole study in one TOML file, run by ``hexaccess run scenario.toml``.

Layout (paths are relative to the scenario file; keys marked optional have defaults)::

    title = "Joint service offices 2030"          # optional

    [inputs]
    population = "finland/census2021_1km.csv"
    roads = "finland/roads_mml_1milj/road.shp"
    municipality_table = "finland/grid_municipality.csv"   # optional: cell -> municipality
    municipalities = "finland/municipalities.csv"  # optional: names, language status
    exclude_municipalities = "aland"               # optional (codes or 'aland')
    resolution = 8                                 # optional, H3 resolution
    population_columns = ["total", "age_65_plus"]  # optional
    mode = "car"                                   # optional: car | walk | bike
    split_roads = true                             # optional: nodes at shape points
    profile = "car_fi"                             # optional: packaged name or TOML path
    backend = "auto"                               # optional

    [[offices]]                                    # one or more office networks;
    name = "joint50"                               # the first is the comparison baseline
    file = "finland/study_offices_50.csv"

    [[offices]]
    name = "joint90"
    file = "offices_90.csv"

    [analysis]                                     # optional section
    column = "total"                               # population column of the figures
    band_minutes = 10
    coverage_minutes = [30, 60, 90]
    coverage_km = [40]
    gain_loss_minutes = 5                          # comparison: gains/losses beyond this
    language = true                                # needs [inputs] municipalities
    visits_per_person = { Kela = 0.35, Police = 0.11 }   # per person per year, by agency

    [outputs]
    dir = "out"                                    # required
    report = true                                  # optional: DIR/report.html

Outputs, per office network (in ``DIR`` for one network, ``DIR/<name>/`` for several):
``bands.csv``, ``summary.json``, ``cells.parquet`` (the ``hexaccess run`` contract), and
``bands_all.csv`` (with the unreachable row), ``coverage.csv``, ``means.csv``,
``offices.csv``, ``municipalities.csv``, ``language_*.csv``; with several networks
``DIR/comparison_bands.csv``, ``DIR/comparison_changes.csv``; ``DIR/report.html``; and
``provenance.json`` beside every set of tables.

All networks are solved on one engine graph holding the union of their offices, so the
road network and population are read and connected once.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hexaccess import accessibility, analysis, inputs
from hexaccess.accessibility import AccessGraph, AccessibilityInputError, AccessibilityResult
from hexaccess.offices import Offices, read_municipalities

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Scenario", "ScenarioError", "StudyOutputs", "load_scenario", "run"]

#: Columns of ``bands.csv`` (contract of ``hexaccess run``).
BANDS_COLUMNS = analysis.BAND_COLUMNS


class ScenarioError(ValueError):
    """An invalid scenario file; the message names the file and the key."""


@dataclass
class Scenario:
    """A study: inputs, profile, office networks, figures and outputs."""

    population: Path
    roads: Path
    office_sets: dict[str, Path]
    out: Path
    municipality_table: Path | None = None
    municipalities: Path | None = None
    exclude_municipalities: str | None = None
    resolution: int = 8
    population_columns: list[str] | None = None
    mode: str = "car"
    profile: str | None = None
    backend: str = "auto"
    split_roads: bool = True
    column: str | None = None
    band_minutes: float = 10.0
    coverage_minutes: list[float] = field(default_factory=lambda: [30.0, 60.0, 90.0])
    coverage_km: list[float] = field(default_factory=lambda: [40.0])
    gain_loss_minutes: float = 5.0
    language: bool = True
    visits_per_person: dict[str, float] = field(default_factory=dict)
    report: bool = True
    title: str = "Accessibility of service offices"
    reference: Path | None = None
    source: str = "<arguments>"


def _path(base: Path, value: Any, where: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}: expected a file path (string), got {value!r}")
    p = Path(value)
    return p if p.is_absolute() else base / p


def load_scenario(path: str | Path) -> Scenario:
    """Parse and check a scenario TOML file (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"scenario file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: invalid TOML: {e}") from e
    base = path.parent
    src = str(path)
    known = {"title", "inputs", "offices", "analysis", "outputs"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ScenarioError(f"{src}: unknown top-level key(s) {unknown}; known: {sorted(known)}")
    inp = data.get("inputs")
    if not isinstance(inp, dict):
        raise ScenarioError(f"{src}: missing [inputs] table (population, roads, ...)")
    for key in ("population", "roads"):
        if key not in inp:
            raise ScenarioError(f"{src}: [inputs] needs '{key}'")
    sets = data.get("offices")
    if not isinstance(sets, list) or not sets:
        raise ScenarioError(f"{src}: needs at least one [[offices]] table with 'name' and 'file'")
    office_sets: dict[str, Path] = {}
    for i, s in enumerate(sets):
        if not isinstance(s, dict) or "file" not in s:
            raise ScenarioError(f"{src}: [[offices]] number {i + 1} needs a 'file'")
        name = str(s.get("name", Path(str(s["file"])).stem))
        if name in office_sets:
            raise ScenarioError(f"{src}: office network name {name!r} is used twice")
        office_sets[name] = _path(base, s["file"], f"{src}: offices.{name}.file")
    outputs = data.get("outputs")
    if not isinstance(outputs, dict) or "dir" not in outputs:
        raise ScenarioError(f"{src}: needs [outputs] with 'dir'")
    an = data.get("analysis", {})
    if not isinstance(an, dict):
        raise ScenarioError(f"{src}: [analysis] must be a table")

    def opt_path(table: dict[str, Any], key: str, where: str) -> Path | None:
        return _path(base, table[key], f"{src}: {where}.{key}") if key in table else None

    excl = inp.get("exclude_municipalities")
    if isinstance(excl, list):
        excl = ",".join(str(x) for x in excl)
    profile = inp.get("profile")
    if profile is not None and not str(profile).endswith(".toml"):
        profile = str(profile)  # a packaged profile name
    elif profile is not None:
        profile = str(_path(base, profile, f"{src}: inputs.profile"))
    visits = an.get("visits_per_person", {})
    if not isinstance(visits, dict):
        raise ScenarioError(f"{src}: analysis.visits_per_person must be a table agency = rate")
    scn = Scenario(
        population=_path(base, inp["population"], f"{src}: inputs.population"),
        roads=_path(base, inp["roads"], f"{src}: inputs.roads"),
        office_sets=office_sets,
        out=_path(base, outputs["dir"], f"{src}: outputs.dir"),
        municipality_table=opt_path(inp, "municipality_table", "inputs"),
        municipalities=opt_path(inp, "municipalities", "inputs"),
        exclude_municipalities=excl,
        resolution=int(inp.get("resolution", 8)),
        population_columns=inp.get("population_columns"),
        mode=str(inp.get("mode", "car")),
        profile=profile,
        backend=str(inp.get("backend", "auto")),
        split_roads=bool(inp.get("split_roads", True)),
        column=an.get("column"),
        band_minutes=float(an.get("band_minutes", 10.0)),
        coverage_minutes=[float(x) for x in an.get("coverage_minutes", [30, 60, 90])],
        coverage_km=[float(x) for x in an.get("coverage_km", [40])],
        gain_loss_minutes=float(an.get("gain_loss_minutes", 5.0)),
        language=bool(an.get("language", True)),
        visits_per_person={str(k): float(v) for k, v in visits.items()},
        report=bool(outputs.get("report", True)),
        title=str(data.get("title", "Accessibility of service offices")),
        reference=opt_path(outputs, "reference", "outputs"),
        source=src,
    )
    if not scn.band_minutes > 0:
        raise ScenarioError(f"{src}: analysis.band_minutes must be > 0, got {scn.band_minutes}")
    return scn


# ------------------------------------------------------------------ running
@dataclass
class Study:
    """Inputs read and connected once: the engine graph with the union of all office
    networks, and each network's office indices."""

    access: AccessGraph
    office_sets: dict[str, np.ndarray]
    municipalities: pd.DataFrame | None
    provenance: dict[str, Any]


@dataclass
class StudyOutputs:
    """What :func:`run` computed and wrote."""

    results: dict[str, AccessibilityResult]
    comparison: analysis.Comparison | None
    language: dict[str, analysis.LanguageAccess]
    files: list[Path]
    seconds: float


def check_offices_in_study_area(access_population: Any, offices: Offices, margin_m: float) -> None:
    """Refuse offices outside the study area: farther than ``margin_m`` (the maximum
    access distance) outside the bounding box of the populated cells. Such an office is
    almost always a coordinate error (swapped lon/lat, wrong CRS, another country)."""
    lon, lat = access_population.centers_lonlat()
    if len(lon) == 0:
        raise AccessibilityInputError("the population grid is empty")
    dlat = margin_m / 111_320.0
    mid = np.deg2rad(np.clip(np.abs(lat).max(), 0.0, 85.0))
    dlon = margin_m / (111_320.0 * np.cos(mid))
    box = (lon.min() - dlon, lon.max() + dlon, lat.min() - dlat, lat.max() + dlat)
    out = ~(
        (offices.lon >= box[0])
        & (offices.lon <= box[1])
        & (offices.lat >= box[2])
        & (offices.lat <= box[3])
    )
    if out.any():
        names = [
            f"{offices.names[i]!r} (lon {offices.lon[i]:.4f}, lat {offices.lat[i]:.4f})"
            for i in np.flatnonzero(out)[:5]
        ]
        raise AccessibilityInputError(
            f"{int(out.sum())} office(s) lie outside the study area (populated cells span "
            f"lon {lon.min():.3f}..{lon.max():.3f}, lat {lat.min():.3f}..{lat.max():.3f}): "
            f"{', '.join(names)}. Check their coordinates (lon/lat order, CRS)."
        )


Step = Callable[[str], None]


def _no_step(label: str) -> None:
    return None


def load_study(scn: Scenario, step: Step = _no_step) -> Study:
    """Read population, roads and every office network; build one engine graph."""
    profile = inputs.profile_for(scn.profile, scn.mode)
    exclude = inputs.municipality_codes(scn.exclude_municipalities)
    step("population")
    pop = inputs.read_population_any(
        scn.population,
        resolution=scn.resolution,
        municipality_table=scn.municipality_table,
        columns=scn.population_columns,
        exclude_municipalities=exclude,
    )
    step("roads")
    roads = inputs.read_roads_any(scn.roads, profile, split_at_vertices=scn.split_roads)
    step("offices")
    frames, sets, start = [], {}, 0
    for name, path in scn.office_sets.items():
        offs = inputs.read_offices_any(path, scn.municipalities)
        f = offs.frame.copy()
        f["office_set"] = name
        frames.append(f)
        sets[name] = np.arange(start, start + len(f))
        start += len(f)
    union = Offices(pd.concat(frames, ignore_index=True))
    check_offices_in_study_area(pop, union, profile.max_access_distance_m)
    munis = read_municipalities(scn.municipalities) if scn.municipalities else None
    step("graph")
    access = accessibility.build_access_graph(roads, pop, union, profile, backend=scn.backend)
    files: dict[str, Any] = {
        "population": scn.population,
        "roads": scn.roads,
        "municipality_table": scn.municipality_table,
        "municipalities": scn.municipalities,
        "profile": scn.profile if scn.profile and Path(scn.profile).exists() else None,
        **{f"offices:{n}": p for n, p in scn.office_sets.items()},
    }
    if scn.source.endswith(".toml"):
        files["scenario"] = scn.source
    prov = accessibility.provenance(files, exclude_municipalities=list(exclude))
    return Study(access, sets, munis, prov)


def _solve_all(
    study: Study, columns: Sequence[str] | None, step: Step
) -> tuple[dict[str, AccessibilityResult], list[str]]:
    results, messages = {}, []
    for name, idx in study.office_sets.items():
        step(f"solve {name}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results[name] = analysis.solve_network(
                study.access, idx, columns, name=name, provenance_info=study.provenance
            )
        messages += [f"{name}: {w.message}" for w in caught]
    return results, list(dict.fromkeys(messages))


def _write_network(
    out: Path, result: AccessibilityResult, scn: Scenario, study: Study, column: str
) -> tuple[list[Path], analysis.LanguageAccess | None]:
    """All tables of one network into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    bands_all = analysis.band_table(result, scn.band_minutes, column)
    contract = bands_all[bands_all["band"] != "unreachable"][BANDS_COLUMNS]
    contract.attrs = bands_all.attrs
    summary = result.summary(column)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    result.cells.to_parquet(out / "cells.parquet", index=False)
    files += [out / "summary.json", out / "cells.parquet"]
    tables = {
        "bands.csv": contract,
        "bands_all.csv": bands_all,
        "coverage.csv": analysis.coverage(result, scn.coverage_minutes, scn.coverage_km),
        "means.csv": analysis.means(result),
        "offices.csv": analysis.catchments(result, column, scn.visits_per_person or None),
    }
    if "municipality" in result.cells.columns:
        tables["municipalities.csv"] = analysis.municipality_table(
            result, column, study.municipalities
        )
    lang = None
    if scn.language and study.municipalities is not None and "municipality" in result.cells:
        try:
            lang = analysis.language_access(result, study.municipalities)
        except analysis.AnalysisInputError as exc:
            print(f"warning: language access not computed: {exc}", file=sys.stderr)
        if lang is not None:
            tables["language_bands.csv"] = lang.band_table(scn.band_minutes, column)
            tables["language_means.csv"] = lang.means()
            tables["language_municipalities.csv"] = lang.municipality_table(
                column, study.municipalities
            )
    files += list(analysis.write_tables(out, tables).values())
    return files, lang


def run(scn: Scenario, step: Step = _no_step, warn: Callable[[str], None] = print) -> StudyOutputs:
    """Run a whole study: read, solve every office network, write every table and the
    report (see the module docstring)."""
    t0 = time.perf_counter()
    study = load_study(scn, step)
    column = scn.column
    cols = scn.population_columns
    results, messages = _solve_all(study, cols, step)
    for m in messages:
        warn(f"warning: {m}")
    first = next(iter(results.values()))
    column = analysis._column(first, column)
    files: list[Path] = []
    language: dict[str, analysis.LanguageAccess] = {}
    step("figures")
    single = len(results) == 1
    for name, result in results.items():
        out = scn.out if single else scn.out / name
        f, lang = _write_network(out, result, scn, study, column)
        files += f
        if lang is not None:
            language[name] = lang
    comparison = None
    if not single:
        comparison = analysis.compare(results, scn.band_minutes, column, scn.gain_loss_minutes)
        files += list(
            analysis.write_tables(
                scn.out,
                {
                    "comparison_bands.csv": comparison.bands,
                    "comparison_changes.csv": comparison.changes,
                },
            ).values()
        )
    if scn.report:
        step("report")
        from hexaccess import report

        reference = None
        if scn.reference is not None:
            reference = pd.read_csv(scn.reference)
        path = report.write_report(
            scn.out / "report.html",
            results,
            title=scn.title,
            column=column,
            band_minutes=scn.band_minutes,
            municipalities=study.municipalities,
            visits_per_person=scn.visits_per_person or None,
            comparison=comparison,
            language=language,
            reference=reference,
        )
        files.append(path)
    return StudyOutputs(results, comparison, language, files, time.perf_counter() - t0)


def summary_lines(outputs: StudyOutputs, column: str | None = None) -> list[str]:
    """Short human summary of a study run (one line per network)."""
    lines = []
    for name, r in outputs.results.items():
        s = r.summary(column)
        n_offices = len(analysis._network_offices(r))
        lines.append(
            f"{name}: {n_offices} offices, "
            f"mean {s['mean_time_min']:.1f} min / {s['mean_distance_km']:.1f} km, within 60 "
            f"min {s['coverage_pct']['60']:.2f} %, unreachable {s['population_unreachable']:,.0f}"
        )
    if outputs.comparison is not None:
        for row in outputs.comparison.changes.itertuples(index=False):
            lines.append(
                f"{row.network} vs {row.baseline}: {row.population_gains:,.0f} people gain and "
                f"{row.population_loses:,.0f} lose more than {row.threshold_min:g} min"
            )
    return lines


def describe_files(files: Sequence[Path], root: Path) -> str:
    """File list relative to ``root``, for the CLI."""
    rel = []
    for f in files:
        try:
            rel.append(str(f.relative_to(root)))
        except ValueError:
            rel.append(str(f))
    return ", ".join(rel)


def visits_from_pairs(pairs: Sequence[str] | None) -> dict[str, float]:
    """Parse ``AGENCY=RATE`` pairs (visits per person per year)."""
    out: dict[str, float] = {}
    for p in pairs or []:
        if "=" not in p:
            raise ValueError(
                f"--visits expects AGENCY=RATE (visits per person per year), got {p!r}"
            )
        k, v = p.split("=", 1)
        out[k.strip()] = float(v)
    return out


def office_sets_from_pairs(main: str, pairs: Sequence[str] | None) -> dict[str, Path]:
    """``--offices FILE`` plus ``--compare NAME=FILE`` pairs → named office networks."""
    sets = {Path(main).stem: Path(main)}
    for p in pairs or []:
        name, _, file = p.partition("=")
        if not file:
            name, file = Path(p).stem, p
        if name in sets:
            raise ValueError(f"office network name {name!r} is used twice")
        sets[name] = Path(file)
    return sets
