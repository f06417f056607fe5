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
  computed and saved there otherwise. It is reused only if it was built from the same
  inputs (SHA-256 of every input file but ``--forbidden``), settings (profile, mode,
  resolution, exclusions, candidates) and cutoff; otherwise it is recomputed and replaced.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hexaccess.cli._options import Progress, add_input_arguments, read_study_inputs

if TYPE_CHECKING:
    from hexaccess.coverage import CoverageMatrix

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
        forbidden = _forbidden(args.forbidden, cand)
    return cand, forbidden


def _forbidden(path: str, cand: pd.DataFrame) -> np.ndarray:
    """The forbidden mask from ``--forbidden`` (names and/or municipality codes, each of
    which must match a candidate)."""
    from hexaccess.inputs import municipality_codes

    fb = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {"name", "municipality"} & set(fb.columns):
        raise ValueError(f"--forbidden {path} needs a 'name' or 'municipality' column")
    forbidden = np.zeros(len(cand), bool)
    names = {n for n in fb.get("name", []) if n}
    if names:
        unknown = sorted(names - set(cand["name"].astype(str)))
        if unknown:
            raise ValueError(f"--forbidden: unknown site name(s) {unknown[:10]}")
        forbidden |= cand["name"].astype(str).isin(names).to_numpy()
    given = [c for c in fb.get("municipality", []) if c]
    if given:
        if "municipality" not in cand.columns:
            raise ValueError(
                f"--forbidden {path} lists municipalities but the candidates have no "
                "municipality column; forbid the sites by name instead"
            )
        try:
            codes = set(municipality_codes(given))
            numbered = set(municipality_codes([c for c in given if c.strip().isdigit()]))
        except ValueError as exc:
            raise ValueError(f"--forbidden {path}: {exc}") from None
        unknown = sorted(numbered - set(cand["municipality"].dropna().astype(str)))
        if unknown:
            raise ValueError(
                f"--forbidden {path}: municipality code(s) {unknown[:10]} match no candidate"
            )
        forbidden |= cand["municipality"].astype(str).isin(codes).to_numpy()
    return forbidden


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
        raise ValueError(
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


def _check_arguments(args: argparse.Namespace) -> list[int] | None:
    """Check what needs no input file (``--cutoff``, ``--curve``, ``--threshold``);
    returns the ``--curve`` office counts."""
    if not (math.isfinite(args.cutoff) and args.cutoff > 0):
        raise ValueError(f"--cutoff {args.cutoff:g}: give the matrix cutoff in minutes, > 0")
    counts = _parse_curve(args.curve) if args.curve else None
    minutes = [_threshold(args)]
    if counts is not None and args.threshold_km is None:
        minutes.append(_curve_threshold(args))
    for t in minutes:
        if t is not None and not 0 < t <= args.cutoff:
            default = " (the default)" if args.threshold is None else ""
            raise ValueError(
                f"--threshold {t:g}{default} must be > 0 and at most --cutoff {args.cutoff:g} "
                "(minutes)"
            )
    return counts


def _matrix_provenance(info: dict[str, Any]) -> dict[str, Any]:
    """What a cached matrix must have been built from: the run's provenance without
    ``--forbidden`` (it only masks candidates), in the JSON form the matrix stores."""
    inputs = {k: v for k, v in info["inputs"].items() if k != "forbidden"}
    return json.loads(json.dumps({**info, "inputs": inputs}, default=str))


def _flat(prov: dict[str, Any]) -> dict[str, Any]:
    """A provenance record on one level: input files as ``--role``, settings by name."""
    out = {k: v for k, v in prov.items() if k not in ("inputs", "settings")}
    out.update(prov.get("settings") or {})
    out.update({f"--{r.replace('_', '-')}": v for r, v in (prov.get("inputs") or {}).items()})
    return out


def _cached_matrix(
    args: argparse.Namespace, key: dict[str, Any], names: list[str], say: Callable[[str], Any]
) -> CoverageMatrix | None:
    """The ``--matrix`` cache when it was built from exactly these inputs, else None."""
    from hexaccess.coverage import CoverageMatrix

    if args.matrix is None or not (args.matrix / "entries.parquet").exists():
        return None
    matrix = CoverageMatrix.load(args.matrix)
    old, new = _flat(matrix.meta.get("provenance") or {}), _flat(key)
    differ = [k for k in sorted(old.keys() | new.keys()) if old.get(k) != new.get(k)]
    if matrix.cutoff_s != args.cutoff * 60.0:
        differ.append("--cutoff")
    if list(matrix.candidates["name"].astype(str)) != names:
        differ.append("candidates")
    if differ:
        say(f"{args.matrix}: the cached matrix differs in {', '.join(differ)}; recomputing")
        return None
    say(f"loaded {matrix!r}")
    return matrix


def run(args: argparse.Namespace) -> int:
    """Run ``hexaccess optimise``; returns the exit code (2 on input errors)."""
    from hexaccess import accessibility
    from hexaccess.coverage import coverage_matrix
    from hexaccess.offices import Offices
    from hexaccess.optimise import InfeasibleError, coverage_curve, optimise

    say = (lambda *_: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    if args.objective != "cover" and args.total is None and args.add is None:
        print("hexaccess optimise: give --total N or --add K", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        counts = _check_arguments(args)  # before the slow reads
        study = read_study_inputs(args)
        profile, pop, roads = study.profile, study.population, study.roads
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
            "profile": profile.source if Path(profile.source).is_file() else None,
        }
        # Hashed once: the matrix cache key and summary.json's provenance.
        info = accessibility.provenance(
            files,
            exclude_municipalities=list(study.exclude_municipalities),
            candidates=str(args.candidates),
            settings={
                "profile": profile.name,
                "mode": args.mode,
                "resolution": args.resolution,
                "population_columns": args.population_columns,
                "junction_nodes_only": args.junction_nodes_only,
            },
        )
        key = _matrix_provenance(info)
        matrix = _cached_matrix(args, key, sites.names, say)
        if matrix is None:
            bar = Progress(len(sites), args.quiet, unit="site")
            try:
                matrix = coverage_matrix(
                    access,
                    cutoff_s=args.cutoff * 60.0,
                    threads=args.threads,
                    progress=lambda done, _total: bar.to(done, "coverage matrix"),
                    log=say,
                    provenance_info=key,
                )
            finally:
                bar.close()
            if args.matrix is not None:
                matrix.save(args.matrix)
                say(f"saved the coverage matrix to {args.matrix}")
        # The same constraints for the main run and the curve.
        constraints: dict[str, Any] = {
            "fixed": cand["fixed"].to_numpy(dtype=bool),
            "forbidden": forbidden,
            "capacity": True if args.capacity else None,
            "regions": "region" if args.one_per_region else None,
            "one_per_region": args.one_per_region,
            "time_limit_s": args.time_limit,
            "seed": args.seed,
            "restarts": args.restarts,
            "threads": args.threads,
        }
        result = optimise(
            matrix,
            args.objective,
            total=args.total,
            add=args.add,
            threshold_min=_threshold(args),
            threshold_km=args.threshold_km,
            cover_pct=args.cover_pct,
            method=args.method,
            **constraints,
        )
        curve = None
        if counts is not None:
            curve = coverage_curve(
                matrix,
                counts,
                threshold_min=_curve_threshold(args),
                threshold_km=args.threshold_km,
                **constraints,
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
        plot_coverage_curve(curve, out / "curve.png", _curve_threshold(args), args.threshold_km)
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
