"""Command-line sub-commands ``hexaccess report``, ``hexaccess calibrate`` and scenario
files (``hexaccess run scenario.toml``), wired into :mod:`hexaccess.cli`.

``hexaccess report --population P --roads R --offices O --out DIR [--compare NAME=FILE ...]
[--municipality-table T] [--municipalities M] [--visits AGENCY=RATE ...] [--reference B]``
solves each office network and writes every table (``bands.csv``, ``offices.csv``,
``municipalities.csv``, ...) and ``DIR/report.html``.

``hexaccess calibrate`` takes the inputs of ``hexaccess run`` plus ``--reference
BANDS.csv`` and ``--out DIR``; it writes ``DIR/profile.toml`` (usable as ``hexaccess run
--profile``), ``DIR/calibration.csv`` (per band: reference, before, after),
``DIR/calibration.json`` and ``DIR/calibration.png``.

Progress bars (tqdm, on stderr) show the long steps; ``--quiet`` prints only errors.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

from hexaccess import scenario as scenario_mod
from hexaccess.cli_common import Progress as _Bar
from hexaccess.cli_common import add_input_arguments, read_study_inputs, split_columns

__all__ = [
    "add_calibrate_parser",
    "add_report_parser",
    "run_calibrate",
    "run_report",
    "run_scenario",
]

_ERRORS = (ValueError, KeyError, FileNotFoundError)


# -------------------------------------------------------------------- report
def add_report_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``hexaccess report`` to an argparse sub-parser set."""
    p = subparsers.add_parser(
        "report",
        help="every figure of the study as tables, and a self-contained HTML report",
        description="Solve one or more office networks and write tables and report.html.",
    )
    add_input_arguments(p)
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
    p.add_argument("--band-minutes", type=float, default=10.0, help="band width (default 10)")
    p.add_argument(
        "--gain-loss-minutes",
        type=float,
        default=5.0,
        help="comparison: report people whose time changes by more than this (default 5)",
    )
    p.add_argument("--reference", default=None, help="a band table to draw beside ours")
    p.add_argument("--title", default="Accessibility of service offices")
    p.add_argument("--no-language", action="store_true", help="skip language access")
    return p


def _scenario_from_args(args: argparse.Namespace) -> scenario_mod.Scenario:
    return scenario_mod.Scenario(
        population=Path(args.population),
        roads=Path(args.roads),
        office_sets=scenario_mod.office_sets_from_pairs(args.offices, args.compare),
        out=Path(args.out),
        municipality_table=Path(args.municipality_table) if args.municipality_table else None,
        municipalities=Path(args.municipalities) if args.municipalities else None,
        exclude_municipalities=args.exclude_municipalities,
        resolution=args.resolution,
        population_columns=split_columns(args.population_columns),
        mode=args.mode,
        profile=args.profile,
        backend=args.backend,
        split_roads=not args.junction_nodes_only,
        column=args.column,
        band_minutes=args.band_minutes,
        gain_loss_minutes=args.gain_loss_minutes,
        language=not args.no_language,
        visits_per_person=scenario_mod.visits_from_pairs(args.visits),
        report=True,
        title=args.title,
        reference=Path(args.reference) if args.reference else None,
    )


def _run(scn: scenario_mod.Scenario, quiet: bool, prog: str) -> int:
    bar = _Bar(5 + 2 * len(scn.office_sets), quiet)
    try:
        outputs = scenario_mod.run(
            scn, bar.step, warn=lambda m: print(m, file=sys.stderr) if not quiet else None
        )
    except _ERRORS as exc:
        bar.close()
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    bar.close()
    if not quiet:
        for line in scenario_mod.summary_lines(outputs):
            print(line)
        print(f"wrote {scenario_mod.describe_files(outputs.files, scn.out)} in {scn.out}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    """``hexaccess report``: returns the exit code (2 = bad input, message on stderr)."""
    try:
        scn = _scenario_from_args(args)
    except _ERRORS as exc:
        print(f"hexaccess report: {exc}", file=sys.stderr)
        return 2
    return _run(scn, args.quiet, "hexaccess report")


def run_scenario(path: str | Path, quiet: bool = False) -> int:
    """``hexaccess run scenario.toml``: run a whole study from a scenario file."""
    try:
        scn = scenario_mod.load_scenario(path)
    except _ERRORS as exc:
        print(f"hexaccess run: {exc}", file=sys.stderr)
        return 2
    return _run(scn, quiet, "hexaccess run")


# ----------------------------------------------------------------- calibrate
def add_calibrate_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``hexaccess calibrate`` to an argparse sub-parser set."""
    p = subparsers.add_parser(
        "calibrate",
        help="fit the speed profile so that our bands match a reference band table",
        description=(
            "Search the profile's free parameters (terminal time, access speed, urban "
            "slowdown factors, class speeds; bounds in hexaccess.calibrate) to match "
            "--reference. Writes DIR/profile.toml and DIR/calibration.csv."
        ),
    )
    add_input_arguments(p)
    p.add_argument("--reference", required=True, help="reference band table (bands.csv columns)")
    p.add_argument("--column", default="total", help="population column (default total)")
    p.add_argument(
        "--reference-mean-time",
        type=float,
        default=None,
        metavar="MIN",
        help="the reference's mean travel time in minutes, when published (adds a term)",
    )
    p.add_argument("--mean-weight", type=float, default=1.0, help="weight of the mean term")
    p.add_argument("--max-evaluations", type=int, default=400, help="search budget")
    p.add_argument(
        "--bound",
        action="append",
        default=None,
        metavar="KEY=LOW:HIGH",
        help="bounds of a parameter, e.g. terminal_time_s=0:300 or "
        "speeds_kmh.IGDS_LEVEL.23=75:95 (repeatable; adds the key if not free)",
    )
    p.add_argument(
        "--fix", action="append", default=None, metavar="KEY", help="hold a parameter fixed"
    )
    return p


def _bounds(pairs: list[str] | None) -> dict[str, tuple[float, float]]:
    out = {}
    for p in pairs or []:
        key, _, rng = p.partition("=")
        lo, sep, hi = rng.partition(":")
        try:
            if not sep:
                raise ValueError
            out[key.strip()] = (float(lo), float(hi))
        except ValueError:
            raise ValueError(
                f"--bound expects KEY=LOW:HIGH with numbers LOW and HIGH, got {p!r}"
            ) from None
    return out


def run_calibrate(args: argparse.Namespace) -> int:
    """``hexaccess calibrate``: returns the exit code (2 = bad input, message on stderr)."""
    from hexaccess import calibrate, inputs

    prog = "hexaccess calibrate"
    bar = _Bar(4, args.quiet)
    try:
        # Settings and the reference first: nothing is read if they cannot work.
        calibrate.check_search_settings(
            args.reference_mean_time, args.mean_weight, args.max_evaluations
        )
        reference = calibrate.read_reference(args.reference)
        bounds = _bounds(args.bound)
        study = read_study_inputs(args, bar.step)
        profile, pop, roads = study.profile, study.population, study.roads
        bar.step("offices")
        offs = inputs.read_offices_any(args.offices, args.municipalities)
        params = calibrate.default_parameters(profile, roads, bounds=bounds, fixed=args.fix or ())
        bar.step("graph")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ev = calibrate.FastEvaluator(
                roads, pop, offs, profile, args.column, backend=args.backend
            )
    except _ERRORS as exc:
        bar.close()
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    bar.close()
    search = _Bar(args.max_evaluations, args.quiet, unit="eval")
    try:
        result = calibrate.calibrate(
            roads,
            pop,
            offs,
            reference,
            profile,
            column=args.column,
            parameters=params,
            reference_mean_time_min=args.reference_mean_time,
            mean_weight=args.mean_weight,
            max_evaluations=args.max_evaluations,
            evaluator=ev,
            progress=lambda n, f: search.to(n, f"objective {f:.3g}"),
        )
    except _ERRORS as exc:
        search.close()
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    search.close()
    paths = result.write(args.out)
    if not args.quiet:
        t = result.table.copy()
        print(t.round(2).to_string(index=False))
        print(result.parameters.round(3).to_string(index=False))
        print(
            f"max |diff| {t.before_diff_pp.abs().max():.2f} -> {result.max_abs_diff_pp:.2f} pp; "
            f"mean time {result.mean_time_before_min:.2f} -> {result.mean_time_after_min:.2f} "
            f"min; {result.evaluations} evaluations in {result.seconds:.1f} s"
        )
        print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0
