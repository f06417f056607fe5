"""``hexaccess optimise``: choose office sites on real inputs.

Inputs as ``hexaccess run`` (``--population --roads --profile --resolution
--exclude-municipalities --mode --municipality-table``) but instead of ``--offices``:
``--candidates FILE`` (candidate sites), ``--fixed FILE`` (sites that must be kept; added
to the candidates unless a candidate has the same name), ``--forbidden FILE`` (a CSV with
a ``name`` column, or a ``municipality`` column forbidding every candidate of those
municipalities), ``--total N`` or ``--add K``, ``--objective mean-time|coverage|cover``,
``--threshold MIN``, ``--out DIR``.

Writes (a contract: add, never rename):

* ``DIR/chosen.csv``: ``name, municipality, lon, lat, fixed, catchment_population``
  (with ``--capacity``: the people assigned within the capacities, then ``capacity``);
* ``DIR/summary.json``: ``objective``, ``proof`` (``optimal``, ``bounded`` or ``none``),
  ``bound``, ``gap`` (a fraction), ``solve_seconds``, ``capacities`` (whether they apply;
  with ``--capacity`` the note that bands and the accessibility figures ignore them),
  the optimisation details (capacity-aware with ``--capacity``, plus ``capacity_free``),
  and the accessibility summary of the chosen network computed by the engine
  (:meth:`hexaccess.accessibility.AccessibilityResult.summary`);
* ``DIR/bands.csv`` of the chosen network (as ``hexaccess run``; everyone at the nearest
  chosen office, **capacities ignored**);
* ``DIR/layers.gpkg`` and ``DIR/geoparquet/*.parquet`` (not with ``--no-layers``): the
  GIS layers of the chosen network (cells, offices = the chosen sites, catchments,
  municipalities; :mod:`hexaccess.layers`);
* with ``--curve 18:250[:STEP]``: ``DIR/curve.csv`` and ``DIR/curve.png`` (best
  coverage within ``--threshold`` and best mean time per number of offices);
* with ``--scheduler ADDRESS|local[:N]``: the coverage matrix is computed in candidate
  blocks on Dask workers (a running scheduler, or a local cluster of N worker processes),
  bit-identical to one machine; with ``--matrix`` the workers write the blocks into the
  cache as ``entries/part-NNNNN.parquet``, which single-machine runs read unchanged;
* with ``--mode transit --gtfs FEED --departure YYYY-MM-DDTHH:MM [--window MIN]``: the
  matrix holds, per candidate, the median (the study's percentile) over the departure
  window of the time to that candidate alone; the optimiser scores a network by the
  minimum of these over its offices, an approximation never below the exact figure, and
  bands.csv and the top-level figures of summary.json are the exact transit study of the
  chosen offices (as ``hexaccess run --mode transit``); :mod:`hexaccess.optimise.transit`;
* with ``--matrix DIR2``: the coverage matrix is loaded from ``DIR2`` when present and
  computed and saved there otherwise. It is reused only if it was built from the same
  inputs (SHA-256 of every input file but ``--forbidden``), settings (profile, mode,
  resolution, exclusions, candidates; with transit the feeds, departure, window and
  percentile) and cutoff; otherwise it is recomputed and replaced.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hexaccess import defaults
from hexaccess.api import check_output_keeps_inputs
from hexaccess.cli._errors import reports_errors
from hexaccess.cli._options import (
    Progress,
    add_input_arguments,
    add_layer_arguments,
    add_transit_arguments,
    study_from_args,
)
from hexaccess.errors import (
    InfeasibleError,
    InputError,
    OfficeInputError,
    OutputError,
    ScenarioError,
)
from hexaccess.layers import LayerBuilder, write_layers
from hexaccess.offices import Offices
from hexaccess.optimise import (
    Constraints,
    SolverOptions,
    cached_or_new_matrix,
    candidate_sites,
    coverage_curve,
    forbidden_mask,
    matrix_provenance,
    optimise,
    plot_coverage_curve,
)
from hexaccess.optimise.curve import check_totals, site_limits
from hexaccess.optimise.problem import check_candidate_count, check_threads
from hexaccess.outputs import prepare_output
from hexaccess.study import solve

CHOSEN_COLUMNS = ["name", "municipality", "lon", "lat", "fixed", "catchment_population"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``optimise`` sub-command to an ``argparse`` sub-parser collection."""
    p = subparsers.add_parser(
        "optimise",
        help="choose office sites: p-median, maximal coverage or set cover",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    # The inputs of `hexaccess run` (same names and meaning), without --offices.
    add_input_arguments(p, offices=False)
    add_layer_arguments(p)
    p.add_argument(
        "--candidates",
        required=True,
        help="candidate sites: an offices file, or h3:RES[:MIN_PEOPLE] for the centre of "
        "every H3 cell at RES holding at least MIN_PEOPLE people",
    )
    p.add_argument("--fixed", default=None, help="sites that must be kept (offices file)")
    p.add_argument("--forbidden", default=None, help="CSV of forbidden sites (name/municipality)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--total", type=int, default=None, help="number of offices in all")
    size.add_argument("--add", type=int, default=None, help="offices to add to the fixed ones")
    p.add_argument("--objective", choices=["mean-time", "coverage", "cover"], default="mean-time")
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="minutes for coverage/cover and the curve (default 60; mean-time reports the "
        "coverage within it, the default only when --cutoff reaches it)",
    )
    p.add_argument(
        "--threshold-km",
        type=float,
        default=None,
        help="coverage/cover by distance instead: a site within this many km along the "
        "fastest path (e.g. 40, the 2013 criterion); replaces --threshold",
    )
    p.add_argument(
        "--cover-pct",
        type=float,
        default=None,
        help=f"cover: share of people within --threshold to reach (default {defaults.COVER_PCT:g})",
    )
    p.add_argument(
        "--cutoff",
        type=float,
        default=defaults.CUTOFF_MINUTES,
        help=f"coverage-matrix cutoff, minutes ({defaults.CUTOFF_MINUTES:g})",
    )
    p.add_argument("--matrix", type=Path, default=None, help="coverage-matrix cache directory")
    p.add_argument("--method", choices=["auto", "heuristic", "mip"], default="auto")
    p.add_argument(
        "--time-limit",
        type=float,
        default=defaults.TIME_LIMIT_S,
        help="HiGHS time limit, seconds",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--restarts", type=int, default=0, help="random-restart local searches")
    p.add_argument(
        "--one-per-region",
        action="store_true",
        help="at least one office per region (candidates' region column, or the "
        "municipalities table's)",
    )
    p.add_argument(
        "--capacity",
        action="store_true",
        help="respect the candidates' capacity column (people per office)",
    )
    p.add_argument("--curve", default=None, help="coverage curve N0:N1[:STEP], e.g. 18:250:8")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads of the coverage-matrix searches and of HiGHS (at most 64, or the core "
        "count when larger; default: every core)",
    )
    _add_scheduler_argument(p)  # distributed (issue #13)
    add_transit_arguments(p)  # transit (issue #12): --gtfs --departure --window --percentiles
    return p


def _add_scheduler_argument(p: argparse.ArgumentParser) -> None:
    """``--scheduler`` (issue #13: the coverage matrix on Dask)."""
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS|local[:N]",
        help="compute the coverage matrix on Dask: the address of a running scheduler "
        "(tcp://host:8786, or a scheduler .json file), or local[:N] for N worker processes "
        'here; needs pip install "hexaccess[dask]"',
    )


def _parse_curve(text: str) -> list[int]:
    """``--curve N0:N1[:STEP]`` as the list of office counts."""
    try:
        parts = [int(x) for x in text.split(":")]
    except ValueError:
        parts = []
    if (
        len(parts) not in (2, 3)
        or parts[0] < 1
        or parts[1] < parts[0]
        or (len(parts) == 3 and parts[2] < 1)
    ):
        raise ScenarioError(
            f"--curve {text!r}: give N0:N1 or N0:N1:STEP with whole numbers 1 <= N0 <= N1 "
            "and STEP >= 1, e.g. 18:250:8"
        )
    step = parts[2] if len(parts) == 3 else max(1, (parts[1] - parts[0]) // 10)
    values = list(range(parts[0], parts[1] + 1, step))
    if values[-1] != parts[1]:
        values.append(parts[1])
    return values


def _threshold(args: argparse.Namespace) -> float | None:
    """``threshold_min`` for :func:`~hexaccess.optimise.optimise`: none with
    ``--threshold-km``; for mean-time (where it only reports coverage) the default 60 is
    dropped when the cutoff is shorter."""
    if args.threshold_km is not None:
        return None
    if args.threshold is None:
        return 60.0 if args.objective != "mean-time" or args.cutoff >= 60.0 else None
    return float(args.threshold)


def _curve_threshold(args: argparse.Namespace) -> float:
    return 60.0 if args.threshold is None else float(args.threshold)


def _check_sizes(args: argparse.Namespace) -> None:
    """The options that only some objectives use: an option that does not apply is an
    error saying why (never silently ignored)."""
    if args.objective == "cover":
        for flag, value in (("--total", args.total), ("--add", args.add)):
            if value is not None:
                raise ScenarioError(
                    f"{flag} {value} does not apply to --objective cover, which finds the "
                    "fewest offices reaching --cover-pct; drop it, or choose --objective "
                    "mean-time or coverage"
                )
        if args.capacity:
            raise ScenarioError(
                "--capacity applies to --objective mean-time and coverage, not cover (the "
                "fewest offices); drop --capacity or choose another objective"
            )
    else:
        if args.total is None and args.add is None:
            raise ScenarioError("give --total N or --add K")
        if args.cover_pct is not None:
            raise ScenarioError(
                f"--cover-pct {args.cover_pct:g} applies only to --objective cover; drop it "
                f"(--objective is {args.objective})"
            )
        if args.total is not None and args.total < 1:
            raise ScenarioError(f"--total {args.total}: give the number of offices, >= 1")
        if args.add is not None and args.add < 0:
            raise ScenarioError(f"--add {args.add}: give the offices to add, >= 0")
    pct = defaults.COVER_PCT if args.cover_pct is None else args.cover_pct
    if not 0 < pct <= 100:
        raise ScenarioError(f"--cover-pct {pct:g}: give a share in (0, 100] per cent")


def _check_thresholds(args: argparse.Namespace, counts: list[int] | None) -> None:
    """``--cutoff``, ``--threshold`` and ``--threshold-km`` (one of the two thresholds)."""
    if not (math.isfinite(args.cutoff) and args.cutoff > 0):
        raise ScenarioError(f"--cutoff {args.cutoff:g}: give the matrix cutoff in minutes, > 0")
    if args.threshold is not None and args.threshold_km is not None:
        raise ScenarioError(
            f"--threshold {args.threshold:g} and --threshold-km {args.threshold_km:g}: give "
            "one (minutes, or km along the fastest path), not both"
        )
    if args.threshold_km is not None and not (
        math.isfinite(args.threshold_km) and args.threshold_km > 0
    ):
        raise ScenarioError(f"--threshold-km {args.threshold_km:g}: give a distance in km, > 0")
    minutes = [_threshold(args)]
    if counts is not None and args.threshold_km is None:
        minutes.append(_curve_threshold(args))
    for t in minutes:
        if t is not None and not 0 < t <= args.cutoff:
            default = " (the default)" if args.threshold is None else ""
            raise ScenarioError(
                f"--threshold {t:g}{default} must be > 0 and at most --cutoff {args.cutoff:g} "
                "(minutes)"
            )


def _solver(args: argparse.Namespace) -> SolverOptions:
    """The solver options, checked before any input is read (each error names its flag)."""
    if not args.time_limit > 0:  # also NaN
        raise ScenarioError(f"--time-limit {args.time_limit:g}: give seconds > 0")
    for flag, value in (("--seed", args.seed), ("--restarts", args.restarts)):
        if value < 0:
            raise ScenarioError(f"{flag} {value}: give a whole number >= 0")
    try:
        check_threads(args.threads, "--threads")
    except InputError as exc:
        raise ScenarioError(str(exc)) from None
    return SolverOptions(
        method=args.method,
        time_limit_s=args.time_limit,
        seed=args.seed,
        restarts=args.restarts,
        threads=args.threads,
    )


def _check_arguments(args: argparse.Namespace) -> tuple[list[int] | None, SolverOptions]:
    """Check what needs no input file (sizes, thresholds, ``--curve``, the solver options,
    ``--threads``, a ``--matrix`` that is a file); returns the ``--curve`` office counts
    and the solver options."""
    _check_sizes(args)
    counts = _parse_curve(args.curve) if args.curve else None
    _check_thresholds(args, counts)
    solver = _solver(args)
    if getattr(args, "scheduler", None) is not None:  # distributed (issue #13)
        _scheduler(args.scheduler)
    if args.matrix is not None and args.matrix.exists() and not args.matrix.is_dir():
        raise OutputError(
            f"--matrix {args.matrix} is a file, not a directory; give a directory for the "
            "coverage-matrix cache (a new one, or one written before), or remove the file"
        )
    return counts, solver


def _study(args: argparse.Namespace, bar: Progress) -> tuple[Any, Any, np.ndarray]:
    """The study with the candidate sites as its offices, and the forbidden mask."""
    study = study_from_args(args, {"candidates": None}, bar.step)
    cand, forbidden = candidate_sites(
        args.candidates,
        study.population,
        fixed=args.fixed,
        forbidden=args.forbidden,
        municipalities=args.municipalities,
    )
    return study.with_offices({"candidates": Offices(cand)}), cand, forbidden


def _matrix_key(args: argparse.Namespace, study: Any) -> dict[str, Any]:
    """The run's provenance (hashed once: the matrix cache key and summary.json's)."""
    h3_candidates = str(args.candidates).startswith("h3:")
    # transit (issue #12): a GTFS folder has no file hash in the study's provenance;
    # named here (without a hash) it keeps a cached matrix from being reused for it.
    folders = {
        f"gtfs_folder:{k}": f
        for k, f in enumerate(getattr(args, "gtfs", None) or [])
        if Path(f).is_dir()
    }
    return study.provenance_for(
        {
            # h3:RES:MIN candidates are derived from the population file (checksummed).
            "candidates": None if h3_candidates else args.candidates,
            "fixed": args.fixed,
            "forbidden": args.forbidden,
            **folders,
        },
        candidates=str(args.candidates),
    )


def _sources(args: argparse.Namespace) -> str:
    """The files the candidate table comes from, for messages."""
    given = f"--candidates {args.candidates}"
    return given + (f" (and --fixed {args.fixed})" if args.fixed else "")


def _check_columns(args: argparse.Namespace, cand: pd.DataFrame) -> None:
    """``--capacity`` and ``--one-per-region`` need their candidate column filled in."""
    if args.capacity and ("capacity" not in cand.columns or cand["capacity"].isna().all()):
        raise OfficeInputError(
            f"--capacity: the candidates of {_sources(args)} have no 'capacity' column (or "
            "it is empty for every site), so no capacity would apply; add a 'capacity' "
            "column (people per office; empty = unlimited) or drop --capacity"
        )
    if args.one_per_region and ("region" not in cand.columns or cand["region"].isna().all()):
        raise OfficeInputError(
            f"--one-per-region: the candidates of {_sources(args)} have no 'region' column "
            "(or it is empty for every site); add one, or give --municipalities with a "
            "'region' column and candidates with a 'municipality' column"
        )


def _constraints(
    args: argparse.Namespace, cand: pd.DataFrame, forbidden: np.ndarray
) -> Constraints:
    """The same constraints for the main run and the curve."""
    return Constraints(
        fixed=cand["fixed"].to_numpy(dtype=bool),
        forbidden=forbidden,
        capacity=True if args.capacity else None,
        regions="region" if args.one_per_region else None,
        one_per_region=args.one_per_region,
    )


def _check_candidates(
    args: argparse.Namespace, cand: pd.DataFrame, constraints: Constraints, counts: Any
) -> None:
    """Before the coverage matrix is computed: the candidate count, and the office
    counts of ``--total``/``--add`` and ``--curve`` against the fixed sites, the regions
    and the allowed candidates."""
    check_candidate_count(len(cand), f"the candidates of {_sources(args)}")
    least, most, why = site_limits(cand, constraints)
    if args.objective != "cover":
        nfixed = int(cand["fixed"].sum())
        p = args.total if args.total is not None else nfixed + args.add
        flag = f"--total {args.total}" if args.total is not None else f"--add {args.add}"
        if p < least:
            raise InfeasibleError(
                f"{flag}: {p} offices cannot hold the {why} (at least {least} needed)"
            )
        if p > most:
            raise InfeasibleError(
                f"{flag}: {p} offices asked but only {most} candidates of {_sources(args)} "
                "are allowed (not forbidden)"
            )
        if args.add == 0 and nfixed == 0:
            raise ScenarioError("--add 0 without fixed sites opens nothing; give --add >= 1")
    if counts is not None:
        check_totals(cand, counts, constraints, what=f"--curve {args.curve}")


def _solve(args, matrix, counts, constraints, solver, cluster=None):
    """The main optimisation and the ``--curve`` (None without it; on the ``--scheduler``
    cluster when that pays, :meth:`_Cluster.curve_pays`)."""
    result = optimise(
        matrix,
        args.objective,
        total=None if args.objective == "cover" else args.total,
        add=None if args.objective == "cover" else args.add,
        threshold_min=_threshold(args),
        threshold_km=args.threshold_km,
        cover_pct=defaults.COVER_PCT if args.cover_pct is None else args.cover_pct,
        constraints=constraints,
        solver=solver,
    )
    curve = None
    if counts is not None:
        curve_kw = {
            "threshold_min": _curve_threshold(args),
            "threshold_km": args.threshold_km,
            "constraints": constraints,
            "solver": replace(solver, method="heuristic"),
        }
        if cluster is not None and cluster.curve_pays(len(counts)):  # distributed (#13)
            from hexaccess.distributed import coverage_curve as curve_on_dask

            curve = curve_on_dask(matrix, counts, cluster.client(), **curve_kw)
        else:
            curve = coverage_curve(matrix, counts, **curve_kw)
    return result, curve


#: summary.json's note on which figures respect the capacities (with ``--capacity``).
BANDS_IGNORE_CAPACITIES = (
    "bands.csv and the accessibility figures at the top level of summary.json "
    "(mean_time_min, coverage_pct, population_unreachable, ...) put every person at the "
    "nearest chosen office: they ignore the capacities. The capacity-aware figures are in "
    "'optimisation' (matrix_mean_time_min, unserved_population, over_capacity_population, "
    "covered_population) and chosen.csv's catchment_population; 'optimisation' -> "
    "'capacity_free' has the same figures without capacities"
)


def _summary(result: Any, matrix: Any, access_summary: dict[str, Any]) -> dict[str, Any]:
    """summary.json: the optimisation's figures, the matrix and the engine's accessibility
    summary of the chosen network (capacity-free; labelled so with capacities)."""
    capacities = {"applied": result.capacity_aware}
    if result.capacity_aware:
        capacities.update(
            bands_ignore_capacities=True,
            note=BANDS_IGNORE_CAPACITIES,
            unserved_population=result.unserved_population,
            over_capacity_population=result.over_capacity_population,
        )
    return {
        "objective": result.objective,
        "proof": result.proof,
        "bound": result.bound,
        "gap": result.gap,
        "solve_seconds": result.solve_seconds,
        "capacities": capacities,
        "optimisation": result.summary(),
        "matrix": {
            "candidates": matrix.num_candidates,
            "cells": matrix.num_cells,
            "entries": matrix.nnz,
            "cutoff_min": matrix.cutoff_s / 60.0,
            "time_unit_s": matrix.time_unit_s,
            "memory_mib": matrix.memory_bytes / 2**20,
        },
        **access_summary,
    }


def _write(target: Any, args, result, curve, summary, access_result, study) -> None:
    """chosen.csv (with ``capacity`` after the contract's columns when capacities apply),
    summary.json, bands.csv, the curve's files and (unless ``--no-layers``) the GIS
    layers of the chosen network: its offices layer is chosen.csv's rows and columns
    with point geometry and the nearest-office catchment figures (``population`` ...,
    capacities ignored, as in bands.csv)."""
    columns = CHOSEN_COLUMNS + (["capacity"] if result.capacity_aware else [])
    result.sites[columns].to_csv(target.file("chosen.csv"), index=False)
    if not args.no_layers:
        sites = result.sites[columns]
        builder = LayerBuilder(access_result, None, study.municipality_info, sites=sites)
        write_layers(target, builder)
    target.file("summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    access_result.bands().to_csv(target.file("bands.csv"), index=False)
    if curve is not None:
        curve.to_csv(target.file("curve.csv"), index=False)
        plot_coverage_curve(
            curve, target.file("curve.png"), _curve_threshold(args), args.threshold_km
        )


#: How the CLI states a result's proof.
PROOF_TEXT = {
    "optimal": "proven optimal",
    "bounded": "not proven optimal: bounded",
    "none": "not proven optimal: no bound (heuristic answer)",
}


def _print(args, result, matrix, summary, curve) -> None:
    """The run in a few lines: objective, proof, bound and gap, the network's figures."""
    gap = "n/a" if result.gap is None else f"{100 * result.gap:.4f} %"
    bound = result.bound if result.bound is None else f"{result.bound:,.4f}"
    print(
        f"{args.objective}: {result.p} offices ({result.num_fixed} fixed) of "
        f"{matrix.num_candidates} candidates; objective {result.objective:,.4f}, bound "
        f"{bound}, gap {gap}; solved in {result.solve_seconds:.2f} s ({result.status})"
    )
    print(f"proof: {result.proof} ({PROOF_TEXT[result.proof]})")
    print(
        f"mean {summary['mean_time_min']:.1f} min; within 60 min "
        f"{summary['coverage_pct']['60']:.2f} %"
        + ("; both ignore capacities" if result.capacity_aware else "")
    )
    if result.capacity_aware:
        print(
            f"with capacities: mean {result.mean_time_min:.1f} min (matrix), "
            f"{result.unserved_population:,.0f} people unserved, of whom "
            f"{result.over_capacity_population:,.0f} over capacity"
        )
    if curve is not None:
        print(curve.to_string(index=False))
    print(f"wrote chosen.csv, summary.json, bands.csv in {args.out}")


def _matrix(args, study, key, say, cluster=None) -> Any:
    bar = Progress(len(study.offices), args.quiet, unit="site")
    build = {
        "cache_dir": args.matrix,
        "provenance_key": matrix_provenance(key),
        "cutoff_s": args.cutoff * 60.0,
        "threads": args.threads,
        "progress": lambda done, _total: bar.to(done, "coverage matrix"),
        "log": say,
    }
    try:
        # --- transit (issue #12): the matrix of window percentiles, on this machine
        if study.transit_window is not None:
            if cluster is not None:
                raise ScenarioError(
                    "--scheduler (Dask) computes road and hexagon matrices only; a --mode "
                    "transit matrix is computed on this machine: drop --scheduler"
                )
            return cached_or_new_matrix(study.transit_access, **build)
        # --- end transit
        if cluster is None:
            return cached_or_new_matrix(study.access, **build)
        return _distributed_matrix(args, study, build, say, cluster)
    finally:
        bar.close()


# --- distributed (issue #13): --scheduler
def _scheduler(text: str) -> Any:
    """``--scheduler``, checked before any input is read (and dask importable)."""
    from hexaccess._extras import require

    require("distributed", "dask", "--scheduler (Dask distributed)")
    from hexaccess.distributed import parse_scheduler

    try:
        return parse_scheduler(text)
    except InputError as exc:
        raise ScenarioError(str(exc)) from None


class _Cluster:
    """The ``--scheduler`` cluster, connected at its first use (a run whose matrix is
    cached and whose curve stays here starts none); closed on leaving the block."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.spec = _scheduler(args.scheduler)
        self.quiet = bool(args.quiet)
        self._client: Any = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _Cluster:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()

    def client(self) -> Any:
        """The Dask client (connecting now if not yet)."""
        if self._client is None:
            from hexaccess.distributed import connect

            self._client = self._stack.enter_context(connect(self.spec, quiet=self.quiet))
        return self._client

    def curve_pays(self, totals: int) -> bool:
        """Whether the curve's office counts go to the workers: only when the cluster has
        more task slots than this machine has cores (measured: on 2 cores, 2 local
        workers run the curve no faster than the Numba-parallel heuristic here)."""
        cores = os.cpu_count() or 1
        if totals < 2 or (self.spec.local and (self.spec.workers or cores) <= cores):
            return False
        workers = self.client().scheduler_info()["workers"].values()
        return sum(int(w.get("nthreads", 1)) for w in workers) > cores


def _distributed_matrix(args, study, build: dict[str, Any], say, cluster: _Cluster) -> Any:
    """The matrix on the Dask cluster of ``--scheduler`` (connected only when the cache
    cannot be reused, so a cached run starts no cluster)."""
    from hexaccess.optimise import reusable_matrix

    said: set[str] = set()

    def once(msg: str) -> None:  # the cache is checked twice: say why it is stale once
        if msg not in said:
            said.add(msg)
            say(msg)

    build["log"] = once
    if args.matrix is not None:
        names = [str(n) for n in study.access.offices.names]
        cached = reusable_matrix(
            args.matrix, provenance_key=build["provenance_key"], cutoff_s=build["cutoff_s"],
            names=names, log=once,
        )  # fmt: skip
        if cached is not None:
            return cached
    client = cluster.client()
    say(f"coverage matrix on Dask: {len(client.scheduler_info()['workers'])} worker(s)")
    return cached_or_new_matrix(study.access, **build, client=client)


def _cluster(args: argparse.Namespace) -> Any:
    """A :class:`_Cluster` with ``--scheduler``, else a block that gives None."""
    if getattr(args, "scheduler", None) is None:
        return contextlib.nullcontext(None)
    return _Cluster(args)


def _cluster(args: argparse.Namespace) -> Any:
    """A :class:`_Cluster` with ``--scheduler``, else a block that gives None."""
    if getattr(args, "scheduler", None) is None:
        return contextlib.nullcontext(None)
    return _Cluster(args)


# --- end distributed


def _check_outputs_keep_inputs(args: argparse.Namespace) -> None:
    """``--out`` and ``--matrix`` replace their whole directories: neither may hold an
    input file (it would be deleted)."""
    roles = (
        "population", "roads", "municipality_table", "municipalities", "profile",
        "candidates", "fixed", "forbidden",
    )  # fmt: skip
    files = {
        f"--{r.replace('_', '-')}": getattr(args, r, None)
        for r in roles
        if not str(getattr(args, r, None) or "").startswith("h3:")
    }
    for k, feed in enumerate(getattr(args, "gtfs", None) or []):  # transit (issue #12)
        files[f"--gtfs ({k + 1})"] = feed
    for out in (args.out, args.matrix):
        if out is not None:
            check_output_keeps_inputs(out, files)


# --- transit (issue #12)
#: summary.json's note on the transit matrix (``matrix`` -> ``transit``).
TRANSIT_NOTE = (
    "the optimisation ('optimisation': matrix_mean_time_min, coverage) scores a network by "
    "each cell's minimum over the chosen offices of the per-office percentile over the "
    "departure window, an approximation never below the exact figure; bands.csv and the "
    "accessibility figures at the top level of summary.json are the exact transit study of "
    "the chosen offices (the percentile over the window of the time to the nearest chosen "
    "office at each departure), as hexaccess run --mode transit with those offices gives"
)


def _evaluate(study: Any, chosen: Any, key: dict[str, Any]) -> Any:
    """The chosen network solved by the study's engine: the road/hexagon graph, or the
    exact transit study (window statistic of the nearest chosen office)."""
    if study.transit_window is not None:
        from hexaccess.study.transit import solve_transit

        return solve_transit(study.transit_access, offices=chosen, provenance_info=key)
    return solve(study.access, offices=chosen, provenance_info=key)


# --- end transit


@reports_errors("hexaccess optimise")
def run(args: argparse.Namespace) -> int:
    """Run ``hexaccess optimise``; returns the exit code (2 on input errors). The output
    directory is checked and locked first; everything is written atomically."""
    say = (lambda *_: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    t0 = time.perf_counter()
    counts, solver = _check_arguments(args)  # before the slow reads
    _check_outputs_keep_inputs(args)
    with prepare_output(args.out, overwrite=args.overwrite, kind="optimise") as target:
        bar = Progress(4, args.quiet)
        try:
            study, cand, forbidden = _study(args, bar)
            _check_columns(args, cand)
            constraints = _constraints(args, cand, forbidden)
            _check_candidates(args, cand, constraints, counts)  # before the matrix
            key = _matrix_key(args, study)
        finally:
            bar.close()
        with _cluster(args) as cluster:  # None without --scheduler
            matrix = _matrix(args, study, key, say, cluster)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result, curve = _solve(args, matrix, counts, constraints, solver, cluster)
                access_result = _evaluate(study, result.chosen, key)
        for w in caught:
            say(f"warning: {w.message}")
        summary = _summary(result, matrix, access_result.summary())
        if study.transit_window is not None:  # transit (issue #12): what the times are
            from hexaccess.study.transit import transit_summary

            summary.update(transit_summary(study.transit_access))  # as hexaccess run's
            summary["matrix"]["transit"] = {**matrix.meta["transit"], "note": TRANSIT_NOTE}
        summary["seconds"] = time.perf_counter() - t0
        _write(target, args, result, curve, summary, access_result, study)
        target.commit(key)
    if not args.quiet:
        _print(args, result, matrix, summary, curve)
    return 0


def _forbidden(path: str, cand: pd.DataFrame) -> np.ndarray:
    """Kept for one release: :func:`hexaccess.optimise.forbidden_mask`."""
    return forbidden_mask(path, cand)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m hexaccess.cli_optimise optimise ...``)."""
    parser = argparse.ArgumentParser(prog="hexaccess")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
