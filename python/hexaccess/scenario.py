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
    mode = "car"                                   # optional: car | walk | bike | transit
    split_roads = true                             # optional: nodes at shape points
    profile = "car_fi"                             # optional: packaged name or TOML path
    backend = "auto"                               # optional
    graph = "road"                                 # optional: road | hex (friction graph)
    hex_resolution = 9                             # optional, hex only: graph resolution
    off_road_speed_kmh = 5                         # optional, hex only
    water = "lakes.gpkg"                           # optional, hex only: impassable polygons
    gtfs = ["feed.zip"]                            # transit only (required): GTFS feed(s)
    departure = "2026-03-04T08:00"                 # transit only (required): day, first departure
    window_min = 120                               # transit only, optional: window, minutes
    percentiles = [25, 50, 75]                     # transit only, optional

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
    layers = true                                  # optional: GIS layers (see below)
    overwrite = false                              # optional: replace a foreign DIR

``DIR`` is written atomically with a ``manifest.json`` (:mod:`hexaccess.outputs`): a
reader sees the previous result or the new one, never a mix.

Outputs, per office network (in ``DIR`` for one network, ``DIR/<name>/`` for several):
``bands.csv``, ``summary.json``, ``cells.parquet`` (the ``hexaccess run`` contract), and
``bands_all.csv`` (with the unreachable row), ``coverage.csv``, ``means.csv``,
``offices.csv``, ``municipalities.csv``, ``language_*.csv``; with several networks
``DIR/comparison_bands.csv``, ``DIR/comparison_changes.csv``; ``DIR/report.html``; and
``provenance.json`` beside every set of tables; and, unless ``layers = false``, the
GIS layers of each network beside its tables: ``layers.gpkg`` (layers ``cells``,
``offices``, ``catchments``, ``municipalities``) and ``geoparquet/<layer>.parquet``
(:mod:`hexaccess.layers`).

All networks are solved on one engine graph holding the union of their offices, so the
road network and population are read and connected once.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hexaccess import defaults, inputs
from hexaccess.api import (
    ReportOptions,
    Study,
    StudyOutputs,
    check_output_keeps_inputs,
    check_report_settings,
    write_report_files,
)
from hexaccess.errors import InputFileError, ScenarioError
from hexaccess.outputs import prepare_output
from hexaccess.results import BANDS_COLUMNS
from hexaccess.study import GRAPH_KINDS, check_offices_in_study_area, describe_input

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "BANDS_COLUMNS",
    "Scenario",
    "ScenarioError",
    "StudyOutputs",
    "check_offices_in_study_area",
    "load_scenario",
    "run",
]


#: The keys of each table of a scenario file (see the module docstring).
KNOWN_KEYS: dict[str, set[str]] = {
    "": {"title", "inputs", "offices", "analysis", "outputs"},
    "inputs": {
        "population",
        "roads",
        "municipality_table",
        "municipalities",
        "exclude_municipalities",
        "resolution",
        "population_columns",
        "mode",
        "split_roads",
        "profile",
        "backend",
        "graph",
        "hex_resolution",
        "off_road_speed_kmh",
        "water",
        "gtfs",
        "departure",
        "window_min",
        "percentiles",
    },
    "offices": {"name", "file"},
    "analysis": {
        "column",
        "band_minutes",
        "coverage_minutes",
        "coverage_km",
        "gain_loss_minutes",
        "language",
        "visits_per_person",
    },
    "outputs": {"dir", "report", "reference", "overwrite", "layers"},
}

#: Scenario field -> (its key in a scenario file, its ``hexaccess report`` option), for
#: messages that name what the user wrote.
_KEYS: dict[str, tuple[str, str]] = {
    "population": ("inputs.population", "--population"),
    "roads": ("inputs.roads", "--roads"),
    "municipality_table": ("inputs.municipality_table", "--municipality-table"),
    "municipalities": ("inputs.municipalities", "--municipalities"),
    "water": ("inputs.water", "--water"),
    "resolution": ("inputs.resolution", "--resolution"),
    "population_columns": ("inputs.population_columns", "--population-columns"),
    "mode": ("inputs.mode", "--mode"),
    "backend": ("inputs.backend", "--backend"),
    "graph": ("inputs.graph", "--graph"),
    "hex_resolution": ("inputs.hex_resolution", "--hex-resolution"),
    "off_road_speed_kmh": ("inputs.off_road_speed_kmh", "--off-road-speed"),
    "gtfs": ("inputs.gtfs", "--gtfs"),
    "departure": ("inputs.departure", "--departure"),
    "window_min": ("inputs.window_min", "--window"),
    "percentiles": ("inputs.percentiles", "--percentiles"),
    "overwrite": ("outputs.overwrite", "--overwrite"),
    "split_roads": ("inputs.split_roads", "--junction-nodes-only"),
    "exclude_municipalities": ("inputs.exclude_municipalities", "--exclude-municipalities"),
    "column": ("analysis.column", "--column"),
    "band_minutes": ("analysis.band_minutes", "--band-minutes"),
    "coverage_minutes": ("analysis.coverage_minutes", "coverage_minutes"),
    "coverage_km": ("analysis.coverage_km", "coverage_km"),
    "gain_loss_minutes": ("analysis.gain_loss_minutes", "--gain-loss-minutes"),
    "language": ("analysis.language", "--no-language"),
    "visits_per_person": ("analysis.visits_per_person", "--visits"),
    "report": ("outputs.report", "report"),
    "layers": ("outputs.layers", "--no-layers"),
    "title": ("title", "--title"),
    "reference": ("outputs.reference", "--reference"),
}

_ARGUMENTS = "<arguments>"


@dataclass
class Scenario:
    """A study: inputs, profile, office networks, figures and outputs.

    Every setting is checked on construction (types and ranges, with the scenario file
    and key, or the command-line option, in the message), so a bad setting stops a study
    before anything is read or solved. Input files are checked when read
    (:meth:`hexaccess.Study.population` and friends, :meth:`read_reference`).
    """

    population: Path
    roads: Path | None
    office_sets: dict[str, Path]
    out: Path
    municipality_table: Path | None = None
    municipalities: Path | None = None
    exclude_municipalities: str | None = None
    resolution: int = defaults.RESOLUTION
    population_columns: list[str] | None = None
    mode: str = defaults.MODE
    profile: str | None = None
    backend: str = defaults.BACKEND
    split_roads: bool = defaults.SPLIT_ROADS
    column: str | None = None
    band_minutes: float = defaults.BAND_MINUTES
    coverage_minutes: list[float] = field(default_factory=lambda: list(defaults.COVERAGE_MINUTES))
    coverage_km: list[float] = field(default_factory=lambda: list(defaults.COVERAGE_KM))
    gain_loss_minutes: float = defaults.GAIN_LOSS_MINUTES
    language: bool = True
    visits_per_person: dict[str, float] = field(default_factory=dict)
    report: bool = True
    title: str = defaults.TITLE
    reference: Path | None = None
    source: str = _ARGUMENTS
    graph: str = defaults.GRAPH
    hex_resolution: int | None = None
    off_road_speed_kmh: float | None = None
    water: Path | None = None
    overwrite: bool = False
    #: The GIS layers beside each network's tables (``outputs.layers``, ``--no-layers``).
    layers: bool = True
    #: ``mode = "transit"``: the GTFS feed(s), the first departure, the window (minutes)
    #: and the percentiles (:class:`hexaccess.Study`).
    gtfs: list[Path] | None = None
    departure: str | None = None
    window_min: int | None = None
    percentiles: list[float] | None = None
    #: Warnings found while reading the scenario (settings that change no number).
    notes: list[str] = field(default_factory=list)

    def where(self, key: str) -> str:
        """How the user spelled a setting: ``FILE: table.key``, or the option."""
        toml_key, option = _KEYS[key]
        return option if self.source == _ARGUMENTS else f"{self.source}: {toml_key}"

    def __post_init__(self) -> None:
        w = self.where
        self.resolution = _resolution(self.resolution, w("resolution"))
        if self.hex_resolution is not None:
            self.hex_resolution = _resolution(self.hex_resolution, w("hex_resolution"))
        if self.off_road_speed_kmh is not None:
            v = _number(self.off_road_speed_kmh, w("off_road_speed_kmh"))
            if not (math.isfinite(v) and 0 < v <= 1_000):
                raise ScenarioError(
                    f"{w('off_road_speed_kmh')} must be a speed > 0 km/h (at most 1000), got {v}"
                )
            self.off_road_speed_kmh = v
        if self.population_columns is not None:
            self.population_columns = _strings(
                self.population_columns, w("population_columns"), 'e.g. ["total"]'
            )
        self.mode = _choice(self.mode, sorted(inputs.MODE_PROFILES), w("mode"))
        self.backend = _choice(self.backend, ["auto", "rust", "numba"], w("backend"))
        self.graph = _choice(self.graph, list(GRAPH_KINDS), w("graph"))
        hex_only = [
            w(k) for k in ("hex_resolution", "off_road_speed_kmh", "water")
            if getattr(self, k) is not None
        ]  # fmt: skip
        if hex_only and self.graph != "hex":
            raise ScenarioError(
                f"{', '.join(hex_only)}: apply to the hexagon graph only, and the graph is "
                f'{self.graph!r}; set graph = "hex" (--graph hex) or leave them out'
            )
        transit_only = [
            w(k) for k in ("gtfs", "departure", "window_min", "percentiles")
            if getattr(self, k) is not None
        ]  # fmt: skip
        if transit_only and self.mode != "transit":
            raise ScenarioError(
                f"{', '.join(transit_only)}: apply to public transport only, and the mode is "
                f'{self.mode!r}; set mode = "transit" (--mode transit) or leave them out'
            )
        for key in ("split_roads", "language", "report", "overwrite", "layers"):
            if not isinstance(getattr(self, key), bool):
                raise ScenarioError(f"{w(key)} must be true or false, got {getattr(self, key)!r}")
        excl = self.exclude_municipalities
        if excl is not None and not isinstance(excl, str):
            raise ScenarioError(
                f'{w("exclude_municipalities")} must be codes like "091,049" or '
                f'["091", "049"], or "aland"; got {excl!r}'
            )
        keys = (
            "column", "band_minutes", "coverage_minutes", "coverage_km", "gain_loss_minutes",
            "visits_per_person", "title",
        )  # fmt: skip
        checked = check_report_settings({k: getattr(self, k) for k in keys}, w)
        for key in keys:
            setattr(self, key, checked[key])
        self.coverage_minutes = list(self.coverage_minutes)
        self.coverage_km = list(self.coverage_km)
        self.visits_per_person = dict(self.visits_per_person or {})
        if self.reference is not None:
            self.reference = Path(self.reference)

    def read_reference(self) -> pd.DataFrame | None:
        """The checked reference band table (:func:`hexaccess.calibrate.read_reference`),
        or ``None``: read before anything is solved, so a bad table stops the study."""
        if self.reference is None:
            return None
        from hexaccess.calibrate import read_reference

        try:
            return read_reference(self.reference)
        except (ValueError, FileNotFoundError) as exc:
            raise ScenarioError(f"{self.where('reference')}: {exc}") from None


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ScenarioError(f"{where} must be a number, got {value!r}")
    try:
        return float(value)
    except OverflowError:  # a whole number too large for a float
        raise ScenarioError(f"{where}: {value} is too large for a number") from None


def _integer(value: Any, where: str) -> int:
    number = _number(value, where)
    if not (math.isfinite(number) and number == int(number)):
        raise ScenarioError(f"{where} must be a whole number, got {value!r}")
    return int(number)


def _resolution(value: Any, where: str) -> int:
    """An H3 resolution (:data:`hexaccess.defaults.RESOLUTION_RANGE`)."""
    res = _integer(value, where)
    lo, hi = defaults.RESOLUTION_RANGE
    if not lo <= res <= hi:
        raise ScenarioError(f"{where} must be an H3 resolution {lo}..{hi}, got {res}")
    return res


def _strings(value: Any, where: str, example: str) -> list[str]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise ScenarioError(f"{where} must be a list of names, {example}; got {value!r}")
    bad = [v for v in value if not (isinstance(v, str) and v)]
    if bad or not value:
        raise ScenarioError(f"{where} must be a list of names, {example}; got {value!r}")
    return list(value)


def _choice(value: Any, choices: Sequence[str], where: str) -> str:
    if value not in choices:
        raise ScenarioError(f"{where} must be one of {list(choices)}, got {value!r}")
    return str(value)


def _path(base: Path, value: Any, where: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}: expected a file path (string), got {value!r}")
    p = Path(value)
    return p if p.is_absolute() else base / p


def _check_keys(src: str, table: Mapping[str, Any], section: str, label: str) -> None:
    unknown = sorted(set(table) - KNOWN_KEYS[section])
    if unknown:
        raise ScenarioError(
            f"{src}: unknown key(s) {unknown} in {label}; known: {sorted(KNOWN_KEYS[section])}"
        )


def _read_toml(path: Path) -> dict[str, Any]:
    """The scenario file's tables: a readable, non-empty UTF-8 TOML file (a byte-order
    mark, as some Windows editors write, is allowed)."""
    from hexaccess._files import check_input_file

    try:
        check_input_file(path, "scenario file")
    except InputFileError as exc:
        raise ScenarioError(str(exc)) from None
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ScenarioError(
            f"{path}: line {line}: not UTF-8 text (byte 0x{raw[e.start]:02x} at position "
            f"{e.start}); save the file as UTF-8"
        ) from None
    if "\x00" in text:
        raise ScenarioError(f"{path}: not a text file (it holds NUL bytes); give a TOML file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: invalid TOML: {e}") from e
    if not data:
        raise ScenarioError(
            f"{path}: the file holds no settings (only blanks or comments); a scenario needs "
            "[inputs], [[offices]] and [outputs] (see hexaccess.scenario)"
        )
    return data


def _tables(src: str, data: dict[str, Any]) -> tuple[dict, dict, dict]:
    """The checked ``[inputs]``, ``[outputs]`` and ``[analysis]`` tables."""
    unknown = sorted(set(data) - KNOWN_KEYS[""])
    if unknown:
        raise ScenarioError(
            f"{src}: unknown top-level key(s) {unknown}; known: {sorted(KNOWN_KEYS[''])}"
        )
    inp = data.get("inputs")
    if not isinstance(inp, dict):
        raise ScenarioError(f"{src}: missing [inputs] table (population, roads, ...)")
    _check_keys(src, inp, "inputs", "[inputs]")
    for key in ("population", "roads"):
        no_roads = inp.get("graph") == "hex" or inp.get("mode") == "transit"
        if key not in inp and not (key == "roads" and no_roads):
            raise ScenarioError(f"{src}: [inputs] needs '{key}'")
    outputs = data.get("outputs")
    if not isinstance(outputs, dict) or "dir" not in outputs:
        raise ScenarioError(f"{src}: needs [outputs] with 'dir'")
    _check_keys(src, outputs, "outputs", "[outputs]")
    an = data.get("analysis", {})
    if not isinstance(an, dict):
        raise ScenarioError(f"{src}: [analysis] must be a table")
    _check_keys(src, an, "analysis", "[analysis]")
    return inp, outputs, an


def _office_sets(src: str, base: Path, sets: Any) -> dict[str, Path]:
    if not isinstance(sets, list) or not sets:
        raise ScenarioError(f"{src}: needs at least one [[offices]] table with 'name' and 'file'")
    office_sets: dict[str, Path] = {}
    for i, s in enumerate(sets):
        if not isinstance(s, dict) or "file" not in s:
            raise ScenarioError(f"{src}: [[offices]] number {i + 1} needs a 'file'")
        _check_keys(src, s, "offices", f"[[offices]] number {i + 1}")
        if "name" in s and not (isinstance(s["name"], str) and s["name"]):
            raise ScenarioError(
                f"{src}: [[offices]] number {i + 1}: name must be a non-empty string, got "
                f"{s['name']!r}"
            )
        name = str(s.get("name", Path(str(s["file"])).stem))
        if name in office_sets:
            raise ScenarioError(f"{src}: office network name {name!r} is used twice")
        office_sets[name] = _path(base, s["file"], f"{src}: offices.{name}.file")
    return office_sets


def _profile_key(src: str, base: Path, profile: Any) -> str | None:
    if profile is not None and not (isinstance(profile, str) and profile):
        raise ScenarioError(
            f"{src}: inputs.profile must be a packaged profile name or a TOML path, got {profile!r}"
        )
    if profile is not None and profile.endswith(".toml"):
        profile = str(_path(base, profile, f"{src}: inputs.profile"))
    return profile


def _gtfs_paths(src: str, base: Path, value: Any) -> list[Path] | None:
    """``inputs.gtfs``: one path or a list of paths, relative to the scenario file."""
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    return [_path(base, v, f"{src}: inputs.gtfs") for v in values]


def load_scenario(path: str | Path) -> Scenario:
    """Parse and check a scenario TOML file (see the module docstring)."""
    path = Path(path)
    data = _read_toml(path)
    base, src = path.parent, str(path)
    inp, outputs, an = _tables(src, data)
    office_sets = _office_sets(src, base, data.get("offices"))

    def opt_path(table: dict[str, Any], key: str, where: str) -> Path | None:
        return _path(base, table[key], f"{src}: {where}.{key}") if key in table else None

    excl = inp.get("exclude_municipalities")
    if isinstance(excl, list):
        excl = ",".join(str(x) for x in excl)
    notes = []
    if an.get("language") is True and "municipalities" not in inp:
        notes.append(
            f"{src}: analysis.language = true, but language access needs [inputs] "
            "municipalities (and municipality_table): no language tables are written"
        )
    return Scenario(
        population=_path(base, inp["population"], f"{src}: inputs.population"),
        roads=opt_path(inp, "roads", "inputs"),
        office_sets=office_sets,
        out=_path(base, outputs["dir"], f"{src}: outputs.dir"),
        municipality_table=opt_path(inp, "municipality_table", "inputs"),
        municipalities=opt_path(inp, "municipalities", "inputs"),
        exclude_municipalities=excl,
        resolution=inp.get("resolution", defaults.RESOLUTION),
        population_columns=inp.get("population_columns"),
        mode=inp.get("mode", defaults.MODE),
        profile=_profile_key(src, base, inp.get("profile")),
        backend=inp.get("backend", defaults.BACKEND),
        split_roads=inp.get("split_roads", defaults.SPLIT_ROADS),
        graph=inp.get("graph", defaults.GRAPH),
        hex_resolution=inp.get("hex_resolution"),
        off_road_speed_kmh=inp.get("off_road_speed_kmh"),
        water=opt_path(inp, "water", "inputs"),
        gtfs=_gtfs_paths(src, base, inp.get("gtfs")),
        departure=inp.get("departure"),
        window_min=inp.get("window_min"),
        percentiles=inp.get("percentiles"),
        column=an.get("column"),
        band_minutes=an.get("band_minutes", defaults.BAND_MINUTES),
        coverage_minutes=an.get("coverage_minutes", list(defaults.COVERAGE_MINUTES)),
        coverage_km=an.get("coverage_km", list(defaults.COVERAGE_KM)),
        gain_loss_minutes=an.get("gain_loss_minutes", defaults.GAIN_LOSS_MINUTES),
        language=an.get("language", True),
        visits_per_person=an.get("visits_per_person", {}),
        report=outputs.get("report", True),
        overwrite=outputs.get("overwrite", False),
        layers=outputs.get("layers", True),
        title=data.get("title", defaults.TITLE),
        reference=opt_path(outputs, "reference", "outputs"),
        source=src,
        notes=notes,
    )


Step = Callable[[str], None]


def _no_step(label: str) -> None:
    return None


# ------------------------------------------------------------------ running
def study_of(scn: Scenario, step: Step | None = None) -> Study:
    """The :class:`hexaccess.Study` a scenario describes (nothing is read yet)."""
    return Study(
        population=scn.population,
        roads=scn.roads,
        offices=dict(scn.office_sets),
        graph=scn.graph,
        profile=scn.profile,
        mode=scn.mode,
        resolution=scn.resolution,
        municipality_table=scn.municipality_table,
        municipalities=scn.municipalities,
        exclude_municipalities=scn.exclude_municipalities,
        population_columns=scn.population_columns,
        split_roads=scn.split_roads,
        backend=scn.backend,
        hex_resolution=scn.hex_resolution,
        off_road_speed_kmh=scn.off_road_speed_kmh,
        water=scn.water,
        progress=step,
        gtfs=scn.gtfs,
        departure=scn.departure,
        window_min=scn.window_min,
        percentiles=scn.percentiles,
    )


def report_options(scn: Scenario, reference: pd.DataFrame | None) -> ReportOptions:
    """The figures a scenario asks for."""
    return ReportOptions(
        column=scn.column,
        band_minutes=scn.band_minutes,
        coverage_minutes=scn.coverage_minutes,
        coverage_km=scn.coverage_km,
        gain_loss_minutes=scn.gain_loss_minutes,
        language=scn.language,
        visits_per_person=scn.visits_per_person or None,
        html=scn.report,
        title=scn.title,
        reference=reference,
        layers=scn.layers,
    )


def run(scn: Scenario, step: Step = _no_step, warn: Callable[[str], None] = print) -> StudyOutputs:
    """Run a whole study: check the output directory and every setting, read, solve
    every office network, write every table and the report atomically (see the module
    docstring and :meth:`hexaccess.Study.report`)."""
    check_output_keeps_inputs(scn.out, scenario_files(scn))
    with prepare_output(scn.out, overwrite=scn.overwrite, kind="report") as target:
        for note in [*scn.notes, *unused_report_settings(scn)]:
            warn(f"warning: {note}")
        reference = scn.read_reference() if scn.report else None
        study = study_of(scn, step)
        if scn.source.endswith(".toml"):
            study.provenance["inputs"]["scenario"] = describe_input(scn.source)
        where = (scn.where("population_columns"), scn.where("column"))
        outputs = write_report_files(
            study, target, report_options(scn, reference), warn=warn, where=where
        )
        staged = [p.relative_to(target.staging) for p in outputs.files]
        target.commit(study.provenance)
    outputs.files = [scn.out / p for p in staged]
    return outputs


def scenario_files(scn: Scenario) -> dict[str, Any]:
    """Every input file of a scenario (and the scenario file itself), by the key that
    names it."""
    files: dict[str, Any] = {
        scn.where(k) if k in _KEYS else k: getattr(scn, k)
        for k in ("population", "roads", "municipality_table", "municipalities", "water")
    }
    files.update({f"offices {n}": p for n, p in scn.office_sets.items()})
    files.update({f"{scn.where('gtfs')} ({k + 1})": p for k, p in enumerate(scn.gtfs or [])})
    files[scn.where("reference")] = scn.reference
    if scn.profile is not None and scn.profile.endswith(".toml"):
        files["profile"] = scn.profile
    if scn.source != _ARGUMENTS:
        files["scenario file"] = scn.source
    return files


def unused_report_settings(scn: Scenario) -> list[str]:
    """Settings that only ``report.html`` uses, given with ``report = false``: they
    change no number, so each is a warning."""
    if scn.report:
        return []
    unused = [scn.where("reference")] if scn.reference is not None else []
    if scn.title != defaults.TITLE:
        unused.append(scn.where("title"))
    return [
        f"{key} is used only by report.html, and outputs.report = false: it changes "
        "nothing; remove it or set report = true"
        for key in unused
    ]


def summary_lines(outputs: StudyOutputs, column: str | None = None) -> list[str]:
    """Short human summary of a study run (one line per network)."""
    lines = []
    for name, r in outputs.results.items():
        s = outputs.summaries.get(name)
        if s is None or (column is not None and s["population_column"] != column):
            s = r.summary(column)
        lines.append(
            f"{name}: {s['offices']} offices, "
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
    """Parse ``AGENCY=RATE`` pairs (visits per person per year); an agency given twice or
    without a name is refused."""
    out: dict[str, float] = {}
    for p in pairs or []:
        if "=" not in p:
            raise ScenarioError(
                f"--visits expects AGENCY=RATE (visits per person per year), got {p!r}"
            )
        k, v = p.split("=", 1)
        agency = k.strip()
        if not agency:
            raise ScenarioError(f"--visits {p!r}: the agency name is empty; give e.g. Kela=0.35")
        if agency in out:
            raise ScenarioError(
                f"--visits {p!r}: agency {agency!r} is given twice; give each agency once"
            )
        try:
            out[agency] = float(v)
        except ValueError:
            raise ScenarioError(
                f"--visits {p!r}: the rate must be a number of visits per person per year, "
                f"e.g. {agency}=0.35"
            ) from None
    return out


def office_sets_from_pairs(main: str, pairs: Sequence[str] | None) -> dict[str, Path]:
    """``--offices FILE`` plus ``--compare NAME=FILE`` pairs → named office networks;
    each compared file is checked to be a readable file (named by its option)."""
    from hexaccess._files import check_input_file

    sets = {Path(main).stem: Path(main)}
    for p in pairs or []:
        name, eq, file = p.partition("=")
        if not eq:
            name, file = Path(p).stem, p
        name = name.strip()
        if not name or not file:
            raise ScenarioError(
                f"--compare {p!r}: expected NAME=FILE (a network name and its office file), "
                "e.g. --compare joint90=offices_90.csv"
            )
        if name in sets:
            raise ScenarioError(f"office network name {name!r} is used twice")
        sets[name] = check_input_file(file, f"--compare {name}: office file")
    return sets
