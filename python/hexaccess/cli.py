"""Command-line interface: ``hexaccess run``.

Without inputs, ``hexaccess run`` runs the built-in synthetic demo (clearly labelled as
synthetic) and prints the travel-time band table; ``--out DIR`` also writes
``DIR/bands.csv`` and ``DIR/summary.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import hexaccess
from hexaccess import synthetic

BANDS_COLUMNS = ["band_start_min", "band_end_min", "population", "share_pct", "cumulative_pct"]


def _summary(hist: hexaccess.BandHistogram, column: int = 0) -> dict:
    total = hist.total(column)
    return {
        "population_total": total,
        "population_unreachable": float(hist.unreachable[column]),
        "mean_time_min": hist.mean_time_s(column) / 60.0,
        "mean_distance_km": hist.mean_length_m(column) / 1000.0,
        "coverage_pct": {str(m): hist.share_within(m * 60.0, column) * 100.0 for m in (30, 60, 90)},
    }


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
    lines.append(f"{'no road':>9} {unreachable:>12,.0f} {unreachable / total * 100:>7.2f}")
    lines.append(f"{'total':>9} {total:>12,.0f}")
    return "\n".join(lines)


def run_demo(out: Path | None, quiet: bool, backend: str) -> int:
    t0 = time.perf_counter()
    demo = synthetic.demo_scenario()
    net = demo.network
    graph = hexaccess.Graph.from_edges(
        net.tail,
        net.head,
        net.time_s,
        net.length_m,
        num_nodes=net.num_nodes,
        bidirectional=True,
        backend=backend,
    )
    weights = np.column_stack([demo.population, demo.age_65_plus])
    hist = graph.band_histogram(demo.offices, weights, columns=["total", "age_65_plus"])
    seconds = time.perf_counter() - t0
    table = hist.to_frame("total")
    summary = _summary(hist)
    summary.update(
        data="SYNTHETIC demo region (hexaccess.synthetic.demo_scenario), not real data",
        offices=int(demo.offices.size),
        offices_fixed=int(demo.fixed.sum()),
        nodes=graph.num_nodes,
        arcs=graph.num_arcs,
        backend=graph.backend,
        engine_version=hexaccess.__version__,
        mean_time_min_age_65_plus=hist.mean_time_s("age_65_plus") / 60.0,
    )
    if not quiet:
        print("hexaccess run: SYNTHETIC DEMO DATA (no inputs given) — not a real country.")
        print(
            f"{graph.num_nodes:,} road nodes, {graph.num_arcs:,} arcs, "
            f"{int(demo.offices.size)} offices ({int(demo.fixed.sum())} fixed), "
            f"{hist.total():,.0f} people; solved in {seconds:.2f} s on backend {graph.backend!r}\n"
        )
        print("One-way travel time to the nearest office:")
        print(_format_table(table, float(hist.unreachable[0]), hist.total()))
        print(
            f"\nmean {summary['mean_time_min']:.1f} min, {summary['mean_distance_km']:.1f} km; "
            f"within 60 min: {summary['coverage_pct']['60']:.2f} %"
        )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        table[BANDS_COLUMNS].to_csv(out / "bands.csv", index=False)
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        if not quiet:
            print(f"\nwrote {out / 'bands.csv'} and {out / 'summary.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hexaccess", description="Travel-time accessibility of public service offices."
    )
    parser.add_argument("--version", action="version", version=hexaccess.__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="travel times to the nearest office, as 10-minute bands")
    run.add_argument("--out", type=Path, default=None, help="write bands.csv and summary.json here")
    run.add_argument("--quiet", action="store_true", help="print nothing")
    run.add_argument("--backend", choices=["auto", "rust", "numba"], default="auto")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run_demo(args.out, args.quiet, args.backend)
    return 2  # pragma: no cover - argparse enforces the sub-command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
