"""``hexaccess optimise``: choose office sites on real inputs.

Inputs as ``hexaccess run`` (``--population --roads --profile --resolution
--exclude-municipalities --mode --municipality-table``) but instead of ``--offices``:
``--candidates FILE`` (candidate sites), ``--fixed FILE`` (sites that must be kept; added
to the candidates unless a candidate has the same name), ``--forbidden FILE`` (a CSV with
a ``name`` column, or a ``municipality`` column forbidding every candidate of those
municipalities), ``--total N`` or ``--add K``, ``--objective mean-time|coverage|cover``,
``--threshold MIN``, ``--out DIR``.

Writes (a contract: add, never rename):

* ``DIR/chosen.csv``: ``name, municipality, lon, lat, fixed, catchment_population``;
* ``DIR/summary.json``: ``objective``, ``bound``, ``gap`` (a fraction), ``solve_seconds``,
  the optimisation details, and the accessibility summary of the chosen network computed
  by the engine (:meth:`hexaccess.accessibility.AccessibilityResult.summary`);
* ``DIR/bands.csv`` of the chosen network (as ``hexaccess run``);
* with ``--curve 18:250[:STEP]``: ``DIR/curve.csv`` and ``DIR/curve.png`` (best
  coverage within ``--threshold`` and best mean time per number of offices);
* with ``--matrix DIR2``: the coverage matrix is loaded from ``DIR2`` when present and
  computed and saved there otherwise (it is reused only if cutoff and candidates match).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hexaccess.cli_common import add_input_arguments, read_study_inputs

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
        "--threshold", type=float, default=60.0, help="minutes for coverage/cover (default 60)"
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
        default=99.0,
        help="cover: share of people within --threshold to reach (default 99)",
    )
    p.add_argument(
        "--cutoff", type=float, default=120.0, help="coverage-matrix cutoff, minutes (120)"
    )
    p.add_argument("--matrix", type=Path, default=None, help="coverage-matrix cache directory")
    p.add_argument("--method", choices=["auto", "heuristic", "mip"], default="auto")
    p.add_argument("--time-limit", type=float, default=60.0, help="HiGHS time limit, seconds")
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
    p.add_argument("--threads", type=int, default=None)
    return p


def _read_sites(path: str, municipalities: str | None) -> pd.DataFrame:
    from hexaccess import inputs

    return inputs.read_offices_any(path, municipalities).frame.copy()


def _cell_candidates(spec: str, population: Any) -> pd.DataFrame:
    """``h3:RES[:MIN_PEOPLE]`` -> candidates at H3 cell centres."""
    from hexaccess.coverage import candidates_from_cells

    parts = spec.split(":")[1:]
    try:
        res = int(parts[0])
        least = float(parts[1]) if len(parts) > 1 else 0.0
    except (IndexError, ValueError):
        raise ValueError(
            f"--candidates {spec!r}: write h3:RES or h3:RES:MIN_PEOPLE, e.g. h3:6:500"
        ) from None
    return candidates_from_cells(population, res, least)


def _candidates(
    args: argparse.Namespace, population: Any = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Candidate frame (fixed sites merged in) and the forbidden mask."""
    if str(args.candidates).startswith("h3:"):
        cand = _cell_candidates(args.candidates, population)
    else:
        cand = _read_sites(args.candidates, args.municipalities)
    if args.fixed is not None:
        fixed = _read_sites(args.fixed, args.municipalities)
        fixed["fixed"] = True
        known = set(cand["name"].astype(str))
        same = fixed["name"].astype(str).isin(known).to_numpy()
        cand.loc[cand["name"].astype(str).isin(set(fixed["name"][same].astype(str))), "fixed"] = (
            True
        )
        cand = pd.concat([cand, fixed[~same]], ignore_index=True)
    if args.municipalities is not None and "municipality" in cand.columns:
        from hexaccess.offices import read_municipalities

        table = read_municipalities(args.municipalities)
        region = cand["municipality"].map(table["region"])
        cand["region"] = cand["region"].fillna(region) if "region" in cand.columns else region
    forbidden = np.zeros(len(cand), bool)
    if args.forbidden is not None:
        fb = pd.read_csv(args.forbidden, dtype=str, keep_default_na=False)
        if "name" in fb.columns and fb["name"].str.len().gt(0).any():
            names = set(fb["name"][fb["name"].str.len() > 0])
            unknown = sorted(names - set(cand["name"].astype(str)))
            if unknown:
                raise ValueError(f"--forbidden: unknown site name(s) {unknown[:10]}")
            forbidden |= cand["name"].astype(str).isin(names).to_numpy()
        if "municipality" in fb.columns and "municipality" in cand.columns:
            codes = {c.zfill(3) for c in fb["municipality"] if c}
            forbidden |= cand["municipality"].astype(str).isin(codes).to_numpy()
        if not {"name", "municipality"} & set(fb.columns):
            raise ValueError("--forbidden needs a 'name' or 'municipality' column")
    return cand, forbidden


def _parse_curve(text: str) -> list[int]:
    parts = [int(x) for x in text.split(":")]
    if len(parts) not in (2, 3) or parts[0] < 1 or parts[1] < parts[0]:
        raise ValueError(f"--curve {text!r}: give N0:N1 or N0:N1:STEP with 1 <= N0 <= N1")
    step = parts[2] if len(parts) == 3 else max(1, (parts[1] - parts[0]) // 10)
    values = list(range(parts[0], parts[1] + 1, step))
    if values[-1] != parts[1]:
        values.append(parts[1])
    return values


def run(args: argparse.Namespace) -> int:
    """Run ``hexaccess optimise``; returns the exit code (2 on input errors)."""
    from hexaccess import accessibility
    from hexaccess.coverage import CoverageMatrix, coverage_matrix
    from hexaccess.offices import Offices
    from hexaccess.optimise import InfeasibleError, coverage_curve, optimise

    say = (lambda *_: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    if args.objective != "cover" and args.total is None and args.add is None:
        print("hexaccess optimise: give --total N or --add K", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        study = read_study_inputs(args)
        profile, pop, roads = study.profile, study.population, study.roads
        exclude = study.exclude_municipalities
        cand, forbidden = _candidates(args, pop)
        sites = Offices(cand)
        access = accessibility.build_access_graph(roads, pop, sites, profile, backend=args.backend)
        files = {
            "population": args.population,
            "roads": args.roads,
            # h3:RES:MIN candidates are derived from the population file (checksummed).
            "candidates": None if str(args.candidates).startswith("h3:") else args.candidates,
            "fixed": args.fixed,
            "forbidden": args.forbidden,
            "municipality_table": args.municipality_table,
            "municipalities": args.municipalities,
        }
        matrix = None
        cutoff_s = args.cutoff * 60.0
        if args.matrix is not None and (args.matrix / "entries.parquet").exists():
            matrix = CoverageMatrix.load(args.matrix)
            same = (
                matrix.cutoff_s == cutoff_s
                and matrix.num_candidates == len(sites)
                and matrix.num_cells == len(pop.cells)
                and list(matrix.candidates["name"].astype(str)) == sites.names
            )
            if not same:
                say(f"{args.matrix}: cached matrix does not match these inputs; recomputing")
                matrix = None
            else:
                say(f"loaded {matrix!r}")
        if matrix is None:
            bar = None
            if not args.quiet:
                from tqdm import tqdm

                bar = tqdm(total=len(sites), unit="site", file=sys.stderr, leave=False)

            def progress(done: int, total: int) -> None:
                if bar is not None:
                    bar.n = done
                    bar.refresh()

            matrix = coverage_matrix(
                access,
                cutoff_s=cutoff_s,
                threads=args.threads,
                progress=progress,
                inputs=files,
                log=say,
            )
            if bar is not None:
                bar.close()
            if args.matrix is not None:
                matrix.save(args.matrix)
                say(f"saved the coverage matrix to {args.matrix}")
        result = optimise(
            matrix,
            args.objective,
            total=args.total,
            add=args.add,
            threshold_min=None if args.threshold_km is not None else args.threshold,
            threshold_km=args.threshold_km,
            cover_pct=args.cover_pct,
            fixed=cand["fixed"].to_numpy(dtype=bool),
            forbidden=forbidden,
            capacity=True if args.capacity else None,
            regions="region" if args.one_per_region else None,
            one_per_region=args.one_per_region,
            method=args.method,
            time_limit_s=args.time_limit,
            seed=args.seed,
            restarts=args.restarts,
            threads=args.threads,
        )
        curve = None
        if args.curve:
            curve = coverage_curve(
                matrix,
                _parse_curve(args.curve),
                threshold_min=args.threshold,
                fixed=cand["fixed"].to_numpy(dtype=bool),
                forbidden=forbidden,
                seed=args.seed,
            )
        info = accessibility.provenance(
            files, exclude_municipalities=list(exclude), candidates=str(args.candidates)
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            access_result = accessibility.solve(access, offices=result.chosen, provenance_info=info)
    except (ValueError, KeyError, FileNotFoundError, InfeasibleError) as exc:
        print(f"hexaccess optimise: {exc}", file=sys.stderr)
        return 2
    for w in caught:
        say(f"warning: {w.message}")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    result.sites[CHOSEN_COLUMNS].to_csv(out / "chosen.csv", index=False)
    summary: dict[str, Any] = {
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "solve_seconds": result.solve_seconds,
        "optimisation": result.summary(),
        "matrix": {
            "candidates": matrix.num_candidates,
            "cells": matrix.num_cells,
            "entries": matrix.nnz,
            "cutoff_min": matrix.cutoff_s / 60.0,
            "time_unit_s": matrix.time_unit_s,
            "memory_mib": matrix.memory_bytes / 2**20,
        },
        **access_result.summary(),
        "seconds": time.perf_counter() - t0,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    access_result.bands().to_csv(out / "bands.csv", index=False)
    if curve is not None:
        from hexaccess.optimise import plot_coverage_curve

        curve.to_csv(out / "curve.csv", index=False)
        plot_coverage_curve(curve, out / "curve.png", args.threshold)
    if not args.quiet:
        gap = "n/a" if result.gap is None else f"{100 * result.gap:.4f} %"
        print(
            f"{args.objective}: {result.p} offices ({result.num_fixed} fixed) of "
            f"{matrix.num_candidates} candidates; objective {result.objective:,.4f}, bound "
            f"{result.bound if result.bound is None else f'{result.bound:,.4f}'}, gap {gap}; "
            f"solved in {result.solve_seconds:.2f} s ({result.status})"
        )
        print(
            f"mean {summary['mean_time_min']:.1f} min; within 60 min "
            f"{summary['coverage_pct']['60']:.2f} %"
        )
        if curve is not None:
            print(curve.to_string(index=False))
        print(f"wrote {out / 'chosen.csv'}, {out / 'summary.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m hexaccess.cli_optimise optimise ...``)."""
    parser = argparse.ArgumentParser(prog="hexaccess")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
