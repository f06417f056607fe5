"""``hexaccess calibrate``: fit the speed profile so that our bands match a reference.

``hexaccess calibrate`` takes the inputs of ``hexaccess run`` plus ``--reference
BANDS.csv`` and ``--out DIR``; it writes ``DIR/profile.toml`` (usable as ``hexaccess run
--profile``), ``DIR/calibration.csv`` (per band: reference, before, after),
``DIR/calibration.json``, ``DIR/calibration.png`` and ``DIR/manifest.json``, atomically.
With ``--scheduler ADDRESS|local[:N]`` the coordinate scan's evaluations run as Dask tasks
(the same fit; the Powell refinement stays on this machine).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from typing import Any

from hexaccess import defaults
from hexaccess.api import check_output_keeps_inputs, unused_municipalities
from hexaccess.cli._errors import reports_errors
from hexaccess.cli._options import (
    Progress,
    add_input_arguments,
    input_files_of,
    split_columns,
    study_from_args,
)
from hexaccess.errors import CalibrationError, ScenarioError
from hexaccess.outputs import prepare_output

__all__ = ["add_calibrate_parser", "run_calibrate"]


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
    p.add_argument(
        "--mean-weight", type=float, default=defaults.MEAN_WEIGHT, help="weight of the mean term"
    )
    p.add_argument(
        "--max-evaluations",
        type=int,
        default=defaults.MAX_EVALUATIONS,
        help=f"search budget (default {defaults.MAX_EVALUATIONS}, at most "
        f"{defaults.MAX_EVALUATIONS_LIMIT:,})",
    )
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
    _add_scheduler_argument(p)  # distributed (issue #13)
    return p


# --- distributed (issue #13): --scheduler
def _add_scheduler_argument(p: argparse.ArgumentParser) -> None:
    """``--scheduler``, as for ``hexaccess optimise``: here the coordinate scan's
    evaluations go to the workers."""
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS|local[:N]",
        help="evaluate the coordinate scan's profiles on Dask (the same fit; the Powell "
        "refinement stays here): the address of a running scheduler (tcp://host:8786, or "
        "a scheduler .json file), or local[:N] for N worker processes here; needs pip "
        'install "hexaccess[dask]"',
    )


def _scheduler(args: argparse.Namespace) -> Any:
    """The parsed ``--scheduler`` (None without it), checked before any input is read
    (and Dask importable)."""
    if getattr(args, "scheduler", None) is None:
        return None
    from hexaccess._extras import require
    from hexaccess.errors import InputError

    require("distributed", "dask", "--scheduler (Dask distributed)")
    from hexaccess.distributed.cluster import parse_scheduler

    try:
        return parse_scheduler(args.scheduler)
    except InputError as exc:
        raise ScenarioError(str(exc)) from None


def _client(spec: Any, quiet: bool) -> Any:
    """A block giving the Dask client of ``spec`` (None without ``--scheduler``)."""
    if spec is None:
        return contextlib.nullcontext(None)
    from hexaccess.distributed.cluster import connect

    return connect(spec, quiet=quiet)


# --- end distributed


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
            raise CalibrationError(
                f"--bound expects KEY=LOW:HIGH with numbers LOW and HIGH, got {p!r}"
            ) from None
    return out


def _check_options(args: argparse.Namespace) -> None:
    """Options that would be silently ignored: the mean weight without a reference mean
    (a warning: it changes no number), and ``--population-columns`` that leave out the
    fitted ``--column`` (an error)."""
    if args.reference_mean_time is None and args.mean_weight != defaults.MEAN_WEIGHT:
        if not args.quiet:
            print(
                "warning: --mean-weight weighs the --reference-mean-time term; without "
                "--reference-mean-time it changes no number",
                file=sys.stderr,
            )
    if args.municipality_table is not None and args.exclude_municipalities is None:
        if not args.quiet:
            print(
                "warning: --municipality-table is used by calibrate only to leave out "
                "--exclude-municipalities; without them it changes no number",
                file=sys.stderr,
            )
    columns = split_columns(args.population_columns)
    if columns is not None and args.column not in columns:
        raise ScenarioError(
            f"--column {args.column!r} is not among --population-columns {columns}: the fit "
            f"uses --column only; add it to --population-columns (or leave that option out)"
        )


def _prepare(args: argparse.Namespace, bar: Progress) -> tuple[Any, Any, Any, Any]:
    """Settings and the reference first (nothing is read if they cannot work), then the
    study, the free parameters and the fast evaluator."""
    from hexaccess import calibrate

    if args.graph != "road":
        raise ScenarioError(
            "calibration rebuilds the road graph's arc times; --graph hex cannot be "
            "calibrated (run it with --graph road)"
        )
    calibrate.check_search_settings(
        args.reference_mean_time, args.mean_weight, args.max_evaluations
    )
    _check_options(args)
    reference = calibrate.read_reference(args.reference)
    bounds = _bounds(args.bound)
    study = study_from_args(args, args.offices, bar.step)
    note = unused_municipalities(study, figures=False)
    if note and not args.quiet:
        print(f"warning: --municipalities: {note}", file=sys.stderr)
    params = calibrate.default_parameters(
        study.profile, study.roads, bounds=bounds, fixed=args.fix or ()
    )
    offices = study.offices
    bar.step("graph")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = calibrate.FastEvaluator(
            study.roads,
            study.population,
            offices,
            study.profile,
            args.column,
            backend=args.backend,
        )
    return study, reference, params, ev


def _print_calibration(result: Any, files: list[Any]) -> None:
    t = result.table.copy()
    print(t.round(2).to_string(index=False))
    print(result.parameters.round(3).to_string(index=False))
    print(
        f"max |diff| {t.before_diff_pp.abs().max():.2f} -> {result.max_abs_diff_pp:.2f} pp; "
        f"mean time {result.mean_time_before_min:.2f} -> {result.mean_time_after_min:.2f} "
        f"min; {result.evaluations} evaluations in {result.seconds:.1f} s"
    )
    print(f"wrote {', '.join(str(p) for p in files)}")


@reports_errors("hexaccess calibrate")
def run_calibrate(args: argparse.Namespace) -> int:
    """``hexaccess calibrate``: returns the exit code (2 = bad input, message on stderr)."""
    from hexaccess import calibrate

    check_output_keeps_inputs(args.out, input_files_of(args))
    spec = _scheduler(args)
    with prepare_output(args.out, overwrite=args.overwrite, kind="calibration") as target:
        bar = Progress(4, args.quiet)
        try:
            study, reference, params, ev = _prepare(args, bar)
        finally:
            bar.close()
        search = Progress(args.max_evaluations, args.quiet, unit="eval")
        try:
            with _client(spec, args.quiet) as client:
                result = calibrate.calibrate(
                    study.roads,
                    study.population,
                    study.offices,
                    reference,
                    study.profile,
                    column=args.column,
                    parameters=params,
                    reference_mean_time_min=args.reference_mean_time,
                    mean_weight=args.mean_weight,
                    max_evaluations=args.max_evaluations,
                    evaluator=ev,
                    progress=lambda n, f: search.to(n, f"objective {f:.3g}"),
                    client=client,
                )
        finally:
            search.close()
        result.write(target.staging)
        files = target.commit(study.provenance)
    if not args.quiet:
        _print_calibration(result, files)
    return 0
