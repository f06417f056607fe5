"""``hexaccess run``: travel time from every populated cell to the nearest office.

``hexaccess run --population P --roads R --offices O --out DIR`` writes ``DIR/bands.csv``
(``band_start_min,band_end_min,population,share_pct,cumulative_pct``),
``DIR/summary.json``, ``DIR/cells.parquet``, the GIS layers ``DIR/layers.gpkg`` and
``DIR/geoparquet/*.parquet`` (not with ``--no-layers``) and ``DIR/manifest.json``,
atomically. These names and columns are a contract: add, never rename. ``hexaccess run
SCENARIO.toml`` runs a scenario file. With no inputs, the 2020 Finland study on the data
shipped inside the package (:mod:`hexaccess.datasets`: mainland Finland, the study's 50
offices, the packaged ``car_fi`` profile), printed beside the study's published table
with the data's attribution; ``--demo synthetic`` runs the synthetic demo country
instead (clearly labelled as such), ``--demo finland`` is the default said explicitly.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hexaccess.api import check_output_keeps_inputs, unused_municipalities, write_run_files
from hexaccess.cli._errors import reports_errors
from hexaccess.cli._options import (
    Progress,
    add_input_arguments,
    add_layer_arguments,
    add_transit_arguments,
    input_files_of,
    study_from_args,
)
from hexaccess.errors import ScenarioError
from hexaccess.outputs import prepare_output

SYNTHETIC = "SYNTHETIC country (hexaccess.country.default_scenario), not real data"
FINLAND = (
    "finland2020: the 2020 Finland study's open inputs shipped with hexaccess "
    "(hexaccess.datasets.finland_2020; mainland Finland, the study's 50 offices)"
)
#: ``--demo``: what ``hexaccess run`` runs with no inputs (the first is the default).
DEMOS = ("finland", "synthetic")
DEMO_NAMES = {
    "finland": "2020 Finland study on the data shipped with hexaccess",
    "synthetic": "synthetic demo country",
}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``hexaccess run`` to an argparse sub-parser set."""
    run = subparsers.add_parser(
        "run",
        help="travel times from every populated cell to the nearest office, in 10-minute bands",
        description="hexaccess run --population P --roads R --offices O --out DIR; or "
        "hexaccess run SCENARIO.toml; or, with no inputs, the 2020 Finland study on the data "
        "shipped with hexaccess (--demo synthetic: a synthetic country).",
    )
    run.add_argument("scenario", nargs="?", default=None, help="a scenario TOML file")
    run.add_argument(
        "--demo",
        choices=DEMOS,
        default=None,
        help="with no inputs: finland (the default: the 2020 study of mainland Finland on the "
        "data shipped with hexaccess, beside its published table) or synthetic (a generated "
        "Finland-sized country, as used by the benchmarks)",
    )
    add_input_arguments(run, required=False)
    add_transit_arguments(run)
    add_layer_arguments(run)
    return run


def format_table(table: pd.DataFrame, unreachable: float, total: float) -> str:
    """The band table as printed: bands up to the last populated one, then the
    unreachable people and the total."""
    lines = [f"{'minutes':>9} {'population':>12} {'%':>7} {'cum. %':>7}"]
    populated = np.flatnonzero(table["population"].to_numpy() > 0)
    last = int(populated[-1]) if populated.size else 0
    for row in table.iloc[: last + 1].itertuples(index=False):
        end = "+" if row.band_end_min == np.inf else f"-{row.band_end_min:.0f}"
        label = f"{row.band_start_min:.0f}{end}"
        lines.append(
            f"{label:>9} {row.population:>12,.0f} {row.share_pct:>7.2f} {row.cumulative_pct:>7.2f}"
        )
    lines.append(f"{'unreached':>9} {unreachable:>12,.0f} {unreachable / total * 100:>7.2f}")
    lines.append(f"{'total':>9} {total:>12,.0f}")
    return "\n".join(lines)


def _headline(summary: dict[str, Any]) -> str:
    return (
        f"mean {summary['mean_time_min']:.1f} min, {summary['mean_distance_km']:.1f} km; "
        f"within 60 min: {summary['coverage_pct']['60']:.2f} %; unreachable "
        f"{summary['population_unreachable']:,.0f} people" + _unreachable_split(summary)
    )


def _unreachable_split(summary: dict[str, Any]) -> str:
    """`` (a outside the extract, b too far from a road, c with no office in their
    component)`` for the parts that are not zero, or the older two-way split; for a
    transit study the people without a stop within walking distance."""
    if "transit" in summary:
        net = summary.get("network", {})
        far = net.get("population_without_stop_within_walk", 0.0)
        return (
            f" (no office within {summary['transit']['max_time_min']:.0f} min; {far:,.0f} "
            f"people have no stop within {summary['transit']['max_walk_m']:.0f} m)"
        )
    parts = (
        ("population_unreachable_outside_extract", "outside the road data"),
        ("population_unreachable_too_far_from_road", "too far from a road"),
        ("population_unreachable_no_office_in_component", "no office in their component"),
    )
    if not all(k in summary for k, _ in parts):
        return f" ({summary['population_unconnected']:,.0f} too far from a road)"
    shown = [f"{summary[k]:,.0f} {label}" for k, label in parts if summary[k]]
    return f" ({', '.join(shown)})" if shown else ""


def _print_result(result: Any, summary: dict[str, Any], intro: str) -> None:
    h = result.histogram
    print(intro)
    print(format_table(result.bands(), float(h.unreachable[0]), h.total()))
    print("\n" + _headline(summary))


def _solve_demo(args: argparse.Namespace) -> tuple[Any, dict[str, Any], Any]:
    """Solve the synthetic default scenario and print its band table (unless quiet)."""
    from hexaccess.api import Study
    from hexaccess.synthetic import default_scenario

    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scn = default_scenario()
        study = Study(scn.population, scn.roads, {"synthetic": scn.offices}, backend=args.backend)
        study.provenance["data"] = SYNTHETIC
        result = study.solve()
    summary = result.summary()
    summary.update(data=SYNTHETIC, offices_fixed=int(scn.offices.fixed.sum()))
    summary["seconds"] = time.perf_counter() - t0
    if not args.quiet:
        print("hexaccess run: SYNTHETIC COUNTRY (no inputs given) — not real data.")
        intro = (
            f"{result.histogram.total():,.0f} people in {len(scn.population.cells):,} H3 "
            f"cells, {scn.roads.num_nodes:,} road nodes, {len(scn.offices)} offices "
            f"({summary['offices_fixed']} fixed); solved in {summary['seconds']:.1f} s on "
            f"backend {study.access.graph.backend!r}\n\nOne-way travel time to the nearest office:"
        )
        _print_result(result, summary, intro)
        for w in caught:
            print(f"note: {w.message}", file=sys.stderr)
    return result, summary, study


@reports_errors("hexaccess run")
def run_demo(args: argparse.Namespace) -> int:
    """The national default: a synthetic Finland-sized country (hexaccess.synthetic) with
    18 fixed regional-centre offices plus the next 32 municipality seats."""
    target = prepare_output(args.out, overwrite=args.overwrite) if args.out else None
    # The staging directory and lock are released on any failure, not only on success.
    with target if target is not None else contextlib.nullcontext():
        result, summary, study = _solve_demo(args)
        if target is not None:
            write_run_files(target, result, summary, layers=not args.no_layers)
            target.commit(study.provenance)
    if not args.quiet and target is not None:
        print(f"\nwrote {_files_written(args)} in {args.out}")
    return 0


def _check_study_arguments(args: argparse.Namespace) -> None:
    missing = [f"--{n}" for n in ("population", "offices") if getattr(args, n) is None]
    transit = args.mode == "transit"
    if args.roads is None and args.graph == "road" and not transit:
        missing.insert(1, "--roads")
    if missing:
        need = (
            "--population, --offices and --gtfs"
            if transit
            else ("--population, --roads and --offices")
        )
        raise ScenarioError(
            f"{', '.join(missing)} missing; give {need} (or none of them for the synthetic demo)"
        )
    if args.out is None:
        raise ScenarioError("--out DIR is required with real inputs")


@reports_errors("hexaccess run")
def run_study(args: argparse.Namespace) -> int:
    """``hexaccess run`` on real inputs: the output directory is checked and locked
    first, then the study is read, solved and written atomically."""
    _check_study_arguments(args)
    check_output_keeps_inputs(args.out, input_files_of(args))
    t0 = time.perf_counter()
    with prepare_output(args.out, overwrite=args.overwrite, kind="run") as target:
        bar = Progress(5, args.quiet)
        try:
            study = study_from_args(args, args.offices, bar.step)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = study.solve()
        finally:
            bar.close()
        if not args.quiet:  # the figures behind each warning are in summary.json
            for w in caught:
                print(f"warning: {w.message}", file=sys.stderr)
            note = unused_municipalities(study, figures=False)
            if note:
                print(f"warning: --municipalities: {note}", file=sys.stderr)
        summary = result.summary()
        summary["seconds"] = time.perf_counter() - t0
        write_run_files(target, result, summary, layers=not args.no_layers)
        target.commit(result.provenance)
    if not args.quiet:
        pop = study.population
        intro = (
            f"{len(pop.cells):,} populated cells (H3 res {pop.resolution}), "
            f"{_graph_size(study)}, {len(study.offices)} offices, profile "
            f"{study.profile.name!r}; {summary['seconds']:.1f} s"
        )
        _print_result(result, summary, intro)
        print(f"wrote {_files_written(args)} in {Path(args.out)}")
    return 0


def _files_written(args: argparse.Namespace) -> str:
    """The files of a run, as printed."""
    names = "bands.csv, summary.json, cells.parquet"
    return names if args.no_layers else names + ", layers.gpkg, geoparquet/"


def _graph_size(study: Any) -> str:
    if study.graph == "transit":
        tt, w = study.timetable, study.transit_window
        return (
            f"{tt.n_stops:,} stops, {tt.n_connections:,} connections ({', '.join(tt.feeds)}), "
            f"departures {w.describe()}, time = the "
            f"{study.transit_access.settings()['time_statistic']}"
        )
    if study.graph == "hex":
        return f"{study.access.hex.num_nodes:,} hexagon graph cells"
    return f"{study.roads.num_nodes:,} road nodes"


def _study_options_given(args: argparse.Namespace) -> list[str]:
    """The study options given (``--profile``, ``--mode`` ...), as the user wrote them."""
    given = [
        f"--{name.replace('_', '-')}"
        for name in (
            "population",
            "roads",
            "offices",
            "out",
            "profile",
            "resolution",
            "exclude_municipalities",
            "municipality_table",
            "municipalities",
            "population_columns",
            "hex_resolution",
            "off_road_speed",
            "water",
            "gtfs",
            "departure",
            "window",
            "percentiles",
        )
        if getattr(args, name, None) is not None
    ]
    given += [f"--{n}" for n in ("junction_nodes_only",) if getattr(args, n)]
    if args.graph != "road":
        given.append("--graph")
    if args.mode != "car":
        given.append("--mode")
    return given


def _refuse_options_with_scenario(args: argparse.Namespace) -> None:
    """Options that a scenario file sets itself: given with one, they would be
    silently ignored, so they are refused."""
    given = _study_options_given(args)
    if args.backend != "auto":
        given.append("--backend")
    if given:
        raise ScenarioError(
            f"{', '.join(given)} cannot be combined with a scenario file ({args.scenario}): "
            "set them in the file ([inputs], [outputs]) instead"
        )


def run(args: argparse.Namespace) -> int:
    """Dispatch ``hexaccess run``: a scenario file, a demo (with no inputs: the shipped
    Finland study, or ``--demo synthetic``) or a study."""
    inputs_given = not (args.population is None and args.roads is None and args.offices is None)
    if args.demo is not None and (args.scenario is not None or inputs_given):
        return refuse_demo_with_inputs(args)
    if args.scenario is not None:
        from hexaccess.cli.report import run_scenario_args

        return run_scenario_args(args)
    if not inputs_given:
        return run_demo_args(args)
    return run_study(args)


@reports_errors("hexaccess run")
def refuse_demo_with_inputs(args: argparse.Namespace) -> int:
    """``--demo`` names the data of a run without inputs: with inputs (or a scenario
    file) it would be ignored, so it is refused."""
    what = f"the scenario file {args.scenario}" if args.scenario is not None else "inputs"
    raise ScenarioError(
        f"--demo {args.demo} given with {what}: --demo chooses the data of a run without "
        "inputs; leave --demo out to run your inputs (or leave the inputs out for the demo)"
    )


@reports_errors("hexaccess run")
def run_demo_args(args: argparse.Namespace) -> int:
    """A demo, after refusing the study options it would ignore (each demo has its own
    population, roads, offices and settings; only --out, --overwrite, --no-layers,
    --backend, --quiet and --debug apply)."""
    demo = args.demo or DEMOS[0]
    given = [g for g in _study_options_given(args) if g != "--out"]
    if given:
        raise ScenarioError(
            f"{', '.join(given)} given without --population, --roads and --offices: with no "
            f"inputs hexaccess run runs the {DEMO_NAMES[demo]} (--demo {demo}), which has its "
            "own settings; give the study's inputs too (or leave these options out for the demo)"
        )
    return run_demo(args) if demo == "synthetic" else run_finland(args)


@reports_errors("hexaccess run")
def run_finland(args: argparse.Namespace) -> int:
    """The default: the 2020 Finland study on the data shipped with hexaccess
    (:func:`hexaccess.datasets.finland_2020`), written to ``--out`` when given (as the
    synthetic demo: without ``--out`` the table is printed and nothing written)."""
    from hexaccess.datasets import FINLAND_2020_FILES, finland_2020

    data = finland_2020()
    if args.out is not None:  # the shipped data must never be replaced by an output
        check_output_keeps_inputs(
            args.out, {f"shipped {k}": getattr(data, k) for k in FINLAND_2020_FILES}
        )
    target = prepare_output(args.out, overwrite=args.overwrite) if args.out else None
    # The staging directory and lock are released on any failure, not only on success.
    with target if target is not None else contextlib.nullcontext():
        result, summary, study = _solve_finland(args, data)
        if target is not None:
            write_run_files(target, result, summary, layers=not args.no_layers)
            target.commit(study.provenance)
    if not args.quiet and target is not None:
        print(f"\nwrote {_files_written(args)} in {args.out}")
    return 0


def _solve_finland(args: argparse.Namespace, data: Any) -> tuple[Any, dict[str, Any], Any]:
    """Solve the shipped Finland study; print it beside the published table (unless
    quiet). The summary gains ``data``, ``attribution``, ``offices_fixed`` and the
    largest band difference from the published table."""
    from hexaccess.api import Study

    t0 = time.perf_counter()
    bar = Progress(5, args.quiet)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            study = Study(**data.study_inputs(), backend=args.backend, progress=bar.step)
            study.provenance["data"] = FINLAND
            result = study.solve()
    finally:
        bar.close()
    published = data.published_bands()
    side = compare_bands(result.bands(), published)
    summary = result.summary()
    summary.update(
        data=FINLAND,
        attribution=data.attribution,
        offices_fixed=int(study.offices.fixed.sum()),
        published_population_total=int(published["population"].sum()),
        published_max_abs_diff_pp=float(side["diff_pp"].abs().max()),
    )
    summary["seconds"] = time.perf_counter() - t0
    if not args.quiet:
        _print_finland(result, summary, study, side, data)
        sys.stdout.flush()  # the notes follow the table, not inside it
        for w in caught:
            print(f"note: {w.message}", file=sys.stderr)
    return result, summary, study


def compare_bands(ours: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Our bands beside the published ones (``band_start_min, band_end_min, share_pct,
    cumulative_pct, published_pct, published_cum_pct, diff_pp``), every band of either
    table; a band one table lacks counts as 0 % there."""
    keys = ["band_start_min", "band_end_min"]
    ours = ours[[*keys, "population", "share_pct", "cumulative_pct"]]
    pub = published[[*keys, "share_pct", "cumulative_pct"]].rename(
        columns={"share_pct": "published_pct", "cumulative_pct": "published_cum_pct"}
    )
    side = ours.merge(pub.astype({k: float for k in keys}), on=keys, how="outer")
    side = side.sort_values(keys, ignore_index=True)
    for col in ("population", "share_pct", "published_pct"):
        side[col] = side[col].fillna(0.0)
    for col in ("cumulative_pct", "published_cum_pct"):
        side[col] = side[col].ffill().fillna(0.0)
    side["diff_pp"] = side["share_pct"] - side["published_pct"]
    return side


def format_comparison(side: pd.DataFrame, unreachable: float, total: float) -> str:
    """:func:`compare_bands` as printed: bands up to the last populated one of either
    table, then the unreachable people and the total."""
    head = f"{'':>9} {'ours':>31} {'published (2020 study)':>25}"
    lines = [head, f"{'minutes':>9} {'population':>12} {'%':>7} {'cum. %':>7} {'%':>11} "
             f"{'cum. %':>7} {'diff pp':>8}"]  # fmt: skip
    populated = (side["population"] > 0) | (side["published_pct"] > 0)
    rows = np.flatnonzero(populated.to_numpy())
    last = int(rows[-1]) if rows.size else 0
    for row in side.iloc[: last + 1].itertuples(index=False):
        end = "+" if row.band_end_min == np.inf else f"-{row.band_end_min:.0f}"
        label = f"{row.band_start_min:.0f}{end}"
        lines.append(
            f"{label:>9} {row.population:>12,.0f} {row.share_pct:>7.2f} "
            f"{row.cumulative_pct:>7.2f} {row.published_pct:>11.2f} "
            f"{row.published_cum_pct:>7.2f} {row.diff_pp:>+8.2f}"
        )
    lines.append(f"{'unreached':>9} {unreachable:>12,.0f} {unreachable / total * 100:>7.2f}")
    lines.append(f"{'total':>9} {total:>12,.0f}")
    return "\n".join(lines)


def _print_finland(
    result: Any, summary: dict[str, Any], study: Any, side: pd.DataFrame, data: Any
) -> None:
    h = result.histogram
    worst = side.loc[side["diff_pp"].abs().idxmax()]
    print(
        "hexaccess run: the 2020 Finland study on the data shipped with hexaccess (no inputs "
        "given; --demo synthetic for the synthetic country)."
    )
    print(
        f"{h.total():,.0f} people of mainland Finland (Eurostat 2021; the study: "
        f"{summary['published_population_total']:,} in 2019) in {len(study.population.cells):,}"
        f" H3 cells, {_graph_size(study)}, {len(study.offices)} offices "
        f"({summary['offices_fixed']} fixed regional centres), profile "
        f"{study.profile.name!r}; solved in {summary['seconds']:.1f} s"
    )
    print("\nOne-way drive time to the nearest office, ours beside the study's published table:")
    print(format_comparison(side, float(h.unreachable[0]), h.total()))
    print(
        f"\nlargest band difference {abs(worst['diff_pp']):.2f} pp "
        f"({worst['band_start_min']:.0f}-{worst['band_end_min']:.0f} min)"
    )
    print(_headline(summary))
    print(f"\n{data.attribution}\nLicences: {data.licences}")
