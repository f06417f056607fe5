"""``hexaccess report`` and scenario files (``hexaccess run scenario.toml``).

``hexaccess report --population P --roads R --offices O --out DIR [--compare NAME=FILE ...]
[--municipality-table T] [--municipalities M] [--visits AGENCY=RATE ...] [--reference B]``
solves each office network and writes every table (``bands.csv``, ``offices.csv``,
``municipalities.csv``, ...) and ``DIR/report.html``, atomically with a manifest.
Progress bars (tqdm, on stderr, in a terminal only) show the long steps; ``--quiet``
prints only errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hexaccess import defaults
from hexaccess import scenario as scenario_mod
from hexaccess.cli._errors import reports_errors
from hexaccess.cli._options import (
    Progress,
    add_input_arguments,
    add_layer_arguments,
    add_transit_arguments,
    resolution_of,
    split_columns,
)

__all__ = ["add_report_parser", "run_report", "run_scenario", "run_scenario_args"]


def add_report_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``hexaccess report`` to an argparse sub-parser set."""
    p = subparsers.add_parser(
        "report",
        help="every figure of the study as tables, and a self-contained HTML report",
        description="Solve one or more office networks and write tables and report.html.",
    )
    add_input_arguments(p)
    add_transit_arguments(p)
    p.add_argument(
        "--compare",
        action="append",
        default=None,
        metavar="NAME=FILE",
        help="another office network to compare with --offices (repeatable)",
    )
    p.add_argument(
        "--visits",
        action="append",
        default=None,
        metavar="AGENCY=RATE",
        help="visits per person per year of an agency, for expected visits (repeatable)",
    )
    p.add_argument("--column", default=None, help="population column of the figures")
    p.add_argument(
        "--band-minutes",
        type=float,
        default=defaults.BAND_MINUTES,
        help=f"band width, minutes (default {defaults.BAND_MINUTES:g}; at least "
        f"{defaults.MIN_BAND_MINUTES:g}: at most {defaults.MAX_BANDS:,} bands)",
    )
    p.add_argument(
        "--gain-loss-minutes",
        type=float,
        default=defaults.GAIN_LOSS_MINUTES,
        help="comparison: report people whose time changes by more than this (default "
        f"{defaults.GAIN_LOSS_MINUTES:g})",
    )
    p.add_argument("--reference", default=None, help="a band table to draw beside ours")
    p.add_argument("--title", default=defaults.TITLE)
    p.add_argument("--no-language", action="store_true", help="skip language access")
    add_layer_arguments(p)
    return p


def _scenario_from_args(args: argparse.Namespace) -> scenario_mod.Scenario:
    return scenario_mod.Scenario(
        population=Path(args.population),
        roads=Path(args.roads) if args.roads else None,
        office_sets=scenario_mod.office_sets_from_pairs(args.offices, args.compare),
        out=Path(args.out),
        municipality_table=Path(args.municipality_table) if args.municipality_table else None,
        municipalities=Path(args.municipalities) if args.municipalities else None,
        exclude_municipalities=args.exclude_municipalities,
        resolution=resolution_of(args),
        population_columns=split_columns(args.population_columns),
        mode=args.mode,
        profile=args.profile,
        backend=args.backend,
        split_roads=not args.junction_nodes_only,
        graph=args.graph,
        hex_resolution=args.hex_resolution,
        off_road_speed_kmh=args.off_road_speed,
        water=Path(args.water) if args.water else None,
        column=args.column,
        band_minutes=args.band_minutes,
        gain_loss_minutes=args.gain_loss_minutes,
        language=not args.no_language,
        visits_per_person=scenario_mod.visits_from_pairs(args.visits),
        report=True,
        title=args.title,
        reference=Path(args.reference) if args.reference else None,
        overwrite=args.overwrite,
        layers=not args.no_layers,
        gtfs=[Path(g) for g in args.gtfs] if args.gtfs else None,
        departure=args.departure,
        window_min=args.window,
        percentiles=args.percentiles,
    )


def _run(scn: scenario_mod.Scenario, quiet: bool) -> int:
    bar = Progress(5 + 2 * len(scn.office_sets), quiet)
    try:
        outputs = scenario_mod.run(
            scn, bar.step, warn=lambda m: print(m, file=sys.stderr) if not quiet else None
        )
    finally:
        bar.close()
    if not quiet:
        for line in scenario_mod.summary_lines(outputs):
            print(line)
        print(f"wrote {scenario_mod.describe_files(outputs.files, scn.out)} in {scn.out}")
    return 0


@reports_errors("hexaccess report")
def run_report(args: argparse.Namespace) -> int:
    """``hexaccess report``: returns the exit code (2 = bad input, message on stderr)."""
    return _run(_scenario_from_args(args), args.quiet)


@reports_errors("hexaccess run")
def run_scenario_args(args: argparse.Namespace) -> int:
    """``hexaccess run SCENARIO.toml [--overwrite] [--quiet]``; every option a scenario
    file sets itself is refused beside it, never silently ignored."""
    from hexaccess.cli.run import _refuse_options_with_scenario

    _refuse_options_with_scenario(args)
    scn = scenario_mod.load_scenario(args.scenario)
    if args.overwrite:
        scn.overwrite = True
    if getattr(args, "no_layers", False):  # like --overwrite: an output choice, not a setting
        scn.layers = False
    return _run(scn, args.quiet)


def run_scenario(path: str | Path, quiet: bool = False, overwrite: bool = False) -> int:
    """Run a whole study from a scenario file; returns the exit code."""
    args = argparse.Namespace(scenario=str(path), quiet=quiet, overwrite=overwrite, debug=False)

    @reports_errors("hexaccess run")
    def go(a: argparse.Namespace) -> int:
        scn = scenario_mod.load_scenario(a.scenario)
        scn.overwrite = scn.overwrite or a.overwrite
        return _run(scn, a.quiet)

    return go(args)
