"""Benchmark gate: run the engine benchmarks once and check ratios measured in that run.

Usage: python benches/gate.py [--grid W] [--json PATH]

Absolute seconds depend on the machine; ratios between contenders measured in the same
process on the same input do not (much). Each ratio has the *target* from the project's
issue and a *floor* that fails the gate. Where the floor is looser than the target, the
target is not yet met and the report says so: the floor then guards against regressions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _min(results: dict[str, dict], name: str) -> float:
    return results[name]["stats"]["min"]


def _stat(results: dict[str, dict], name: str, stat: str) -> float:
    return results[name]["stats"][stat]


def _extra(results: dict[str, dict], name: str, key: str) -> float:
    return float(results[name]["extra_info"][key])


#: (label, how to compute from the min times, target, floor, higher_is_better).
#: The busy-machine checks use the median and the worst call of rounds run beside a
#: busy-loop process (bench_contention.py). Their floors (median 1.75×, worst call 8×;
#: the lock-step search before eviction measured 2.0–1.9× and 5.6–9×) guard the design
#: against a return to the barrier: on a shared 2-core runner a time slice of the busy
#: process inside one 20 ms call at CI's size moves them too much (worst call 1.5–4×
#: between runs) to gate on the targets (1.1×, 2×), which are reported.
#: Targets are the project's goals (issues #2 and #4); floors fail the gate. Where the
#: engine meets a target with a wide margin at CI's reduced size, the floor *is* the
#: target. The road grid against scipy meets its 5× at full size (1 M nodes: 5.7–6.9×) but
#: measures 4.35–5.9× at CI's 500 × 500 size, too close to 5 for a gate on a shared 2-core
#: machine, so its floor is 3.5 (the engine before the parallel search measured 2.4× here):
#: a regression guard, with the target still reported.
CHECKS = [
    (
        "nearest-50: scipy time / hexaccess time",
        lambda r: _min(r, "test_nearest50_scipy") / _min(r, "test_nearest50_hexaccess"),
        5.0,
        3.5,
        True,
    ),
    (
        "nearest-50: hexaccess time / edge-scan bound",
        lambda r: _min(r, "test_nearest50_hexaccess") / _min(r, "test_nearest50_edge_scan_bound"),
        5.0,
        5.0,
        False,
    ),
    (
        "hexagon graph nearest-50: scipy time / hexaccess time",
        lambda r: _min(r, "test_hex50_scipy") / _min(r, "test_hex50_hexaccess"),
        5.0,
        5.0,
        True,
    ),
    (
        "hexagon graph nearest-50: hexaccess time / edge-scan bound",
        lambda r: _min(r, "test_hex50_hexaccess") / _min(r, "test_hex50_edge_scan_bound"),
        5.0,
        5.0,
        False,
    ),
    (
        "nearest-50, same threads: scipy time / hexaccess threads=1 time",
        lambda r: _min(r, "test_nearest50_scipy") / _min(r, "test_nearest50_hexaccess_1thread"),
        3.0,
        2.0,
        True,
    ),
    (
        "hexagon graph nearest-50, same threads: scipy time / hexaccess threads=1 time",
        lambda r: _min(r, "test_hex50_scipy") / _min(r, "test_hex50_hexaccess_1thread"),
        3.0,
        2.0,
        True,
    ),
    (
        "busy machine nearest-50: default median / threads=1 median",
        lambda r: (
            _stat(r, "test_busy_nearest50_default", "median")
            / _stat(r, "test_busy_nearest50_1thread", "median")
        ),
        1.1,
        1.75,
        False,
    ),
    (
        "busy machine nearest-50: default worst call / threads=1 median",
        lambda r: (
            _stat(r, "test_busy_nearest50_default", "max")
            / _stat(r, "test_busy_nearest50_1thread", "median")
        ),
        2.0,
        8.0,
        False,
    ),
    (
        "batch 60 min: hexaccess searches/s / scipy searches/s",
        lambda r: (
            (_extra(r, "test_batch_hexaccess", "searches") / _min(r, "test_batch_hexaccess"))
            / (_extra(r, "test_batch_scipy", "searches") / _min(r, "test_batch_scipy"))
        ),
        1.0,
        1.0,
        True,
    ),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=500, help="road grid width (W×W nodes)")
    ap.add_argument(
        "--hex-people", type=int, default=1_000_000, help="people in the synthetic hex country"
    )
    ap.add_argument("--json", type=Path, default=None, help="keep the raw pytest-benchmark JSON")
    args = ap.parse_args(argv)
    out = args.json or Path(tempfile.mkdtemp()) / "bench.json"
    env = dict(
        os.environ,
        HEXACCESS_BENCH_GRID=str(args.grid),
        HEXACCESS_BENCH_HEX_PEOPLE=str(args.hex_people),
    )
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(HERE / "bench_engine.py"),
        str(HERE / "bench_contention.py"),
        "-q",
        "-p",
        "no:cacheprovider",
        f"--benchmark-json={out}",
        "--benchmark-columns=min,median,rounds",
    ]
    proc = subprocess.run(cmd, env=env, check=False)
    if proc.returncode != 0:
        print(f"gate: benchmark run failed (exit {proc.returncode})", file=sys.stderr)
        return proc.returncode
    results = {b["name"]: b for b in json.loads(out.read_text())["benchmarks"]}
    failed = False
    print(
        f"\nbenchmark gate: {args.grid}×{args.grid} road grid; hexagon graph of a "
        f"{args.hex_people:,}-person synthetic country"
    )
    for label, ratio_of, target, floor, higher in CHECKS:
        ratio = ratio_of(results)
        ok = ratio >= floor if higher else ratio <= floor
        met = ratio >= target if higher else ratio <= target
        sign = "≥" if higher else "≤"
        status = "PASS" if ok else "FAIL"
        note = "target met" if met else "target NOT met"
        print(
            f"  {status}  {label}: {ratio:.2f} "
            f"(floor {sign} {floor}; target {sign} {target}, {note})"
        )
        failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
