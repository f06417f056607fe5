"""Command-line interface: ``hexaccess run``.

``hexaccess run --population P --roads R --offices O --out DIR [--profile F]
[--resolution N] [--exclude-municipalities CODES] [--mode car|walk|bike]`` computes the
one-way travel time from every populated H3 cell to its nearest office and writes
``DIR/bands.csv`` (``band_start_min,band_end_min,population,share_pct,cumulative_pct``),
``DIR/summary.json`` and ``DIR/cells.parquet``. These names and columns are a contract
that other tools rely on: add, never rename.

Without inputs, ``hexaccess run`` runs the national default scenario on a synthetic
country (``hexaccess.country``; clearly labelled as synthetic) and prints the band table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import hexaccess
from hexaccess import cli_analysis, cli_optimise
from hexaccess.cli_common import Progress, add_input_arguments, read_study_inputs
from hexaccess.results import BANDS_COLUMNS


def _format_table(table: pd.DataFrame, unreachable: float, total: float) -> str:
    lines = [f"{'minutes':>9} {'population':>12} {'%':>7} {'cum. %':>7}"]
    # Print bands up to the last populated one (trailing empty bands say nothing).
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


def run_demo(out: Path | None, quiet: bool, backend: str) -> int:
    """The national default: a synthetic Finland-sized country (hexaccess.country) with
    18 fixed regional-centre offices plus the next 32 municipality seats."""
    from hexaccess import accessibility, country

    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scn = country.default_scenario()
        access = accessibility.build_access_graph(
            scn.roads, scn.population, scn.offices, backend=backend
        )
        result = accessibility.solve(
            access,
            provenance_info={
                "data": "SYNTHETIC country (hexaccess.country.default_scenario), not real data"
            },
        )
    seconds = time.perf_counter() - t0
    summary = result.summary()
    summary["data"] = "SYNTHETIC country (hexaccess.country.default_scenario), not real data"
    summary["offices_fixed"] = int(scn.offices.fixed.sum())
    summary["seconds"] = seconds
    bands = result.bands()
    if not quiet:
        h = result.histogram
        print("hexaccess run: SYNTHETIC COUNTRY (no inputs given) — not real data.")
        print(
            f"{h.total():,.0f} people in {len(scn.population.cells):,} H3 cells, "
            f"{scn.roads.num_nodes:,} road nodes, {len(scn.offices)} offices "
            f"({summary['offices_fixed']} fixed); solved in {seconds:.1f} s on backend "
            f"{access.graph.backend!r}\n"
        )
        print("One-way travel time to the nearest office:")
        print(_format_table(bands, float(h.unreachable[0]), h.total()))
        print(
            f"\nmean {summary['mean_time_min']:.1f} min, {summary['mean_distance_km']:.1f} km; "
            f"within 60 min: {summary['coverage_pct']['60']:.2f} %; unreachable "
            f"{summary['population_unreachable']:,.0f} people"
        )
        for w in caught:
            print(f"note: {w.message}", file=sys.stderr)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        bands[BANDS_COLUMNS].to_csv(out / "bands.csv", index=False)
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        result.cells.to_parquet(out / "cells.parquet", index=False)
        if not quiet:
            print(f"\nwrote {out / 'bands.csv'}, {out / 'summary.json'}, {out / 'cells.parquet'}")
    return 0


def run_study(args: argparse.Namespace) -> int:
    from hexaccess import accessibility, inputs

    missing = [f"--{n}" for n in ("population", "roads", "offices") if getattr(args, n) is None]
    if missing:
        print(
            f"hexaccess run: {', '.join(missing)} missing; give --population, --roads and "
            "--offices (or none of them for the synthetic demo)",
            file=sys.stderr,
        )
        return 2
    if args.out is None:
        print("hexaccess run: --out DIR is required with real inputs", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    steps = Progress(5, args.quiet)
    try:
        study = read_study_inputs(args, steps.step)
        profile, exclude, pop, roads = (
            study.profile,
            study.exclude_municipalities,
            study.population,
            study.roads,
        )
        steps.step("offices")
        offs = inputs.read_offices_any(args.offices, args.municipalities)
        steps.step("graph")
        access = accessibility.build_access_graph(roads, pop, offs, profile, backend=args.backend)
        steps.step("solve")
        info = accessibility.provenance(
            {
                "population": args.population,
                "roads": args.roads,
                "offices": args.offices,
                "municipality_table": args.municipality_table,
                "profile": args.profile if args.profile and Path(args.profile).exists() else None,
            },
            exclude_municipalities=list(exclude),
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = accessibility.solve(access, provenance_info=info)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        steps.close()
        print(f"hexaccess run: {exc}", file=sys.stderr)
        return 2
    steps.close()
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    bands = result.bands()
    bands[BANDS_COLUMNS].to_csv(out / "bands.csv", index=False)
    summary = result.summary()
    summary["seconds"] = time.perf_counter() - t0
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    result.cells.to_parquet(out / "cells.parquet", index=False)
    if not args.quiet:
        h = result.histogram
        print(
            f"{len(pop.cells):,} populated cells (H3 res {pop.resolution}), "
            f"{roads.num_nodes:,} road nodes, {len(offs)} offices, profile {profile.name!r}; "
            f"{summary['seconds']:.1f} s"
        )
        print(_format_table(bands, float(h.unreachable[0]), h.total()))
        print(
            f"\nmean {summary['mean_time_min']:.1f} min, {summary['mean_distance_km']:.1f} km; "
            f"within 60 min: {summary['coverage_pct']['60']:.2f} %; unreachable "
            f"{summary['population_unreachable']:,.0f} people "
            f"({summary['population_unconnected']:,.0f} too far from a road)"
        )
        print(f"wrote {out / 'bands.csv'}, {out / 'summary.json'}, {out / 'cells.parquet'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hexaccess", description="Travel-time accessibility of public service offices."
    )
    parser.add_argument("--version", action="version", version=hexaccess.__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="travel times from every populated cell to the nearest office, in 10-minute bands",
        description="hexaccess run --population P --roads R --offices O --out DIR; or "
        "hexaccess run SCENARIO.toml; or, with no inputs, a synthetic demo.",
    )
    run.add_argument("scenario", nargs="?", default=None, help="a scenario TOML file")
    add_input_arguments(run, required=False)
    cli_analysis.add_report_parser(sub)
    cli_analysis.add_calibrate_parser(sub)
    cli_optimise.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "run":
        if args.scenario is not None:
            return cli_analysis.run_scenario(args.scenario, args.quiet)
        if args.population is None and args.roads is None and args.offices is None:
            return run_demo(args.out, args.quiet, args.backend)
        return run_study(args)
    if args.command == "report":
        return cli_analysis.run_report(args)
    if args.command == "calibrate":
        return cli_analysis.run_calibrate(args)
    if args.command == "optimise":
        return cli_optimise.run(args)
    return 2  # pragma: no cover - argparse enforces the sub-command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
