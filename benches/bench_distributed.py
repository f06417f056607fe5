"""The coverage matrix on Dask distributed against one machine (issue #13).

* ``test_national_matrix_single_vs_dask``: mainland Finland (census 2021 at H3 res 8,
  the 1:1 M road map, ``car_fi``), candidates ``h3:6:300`` (1,538 sites), cutoff 120 min;
  the single-machine :func:`~hexaccess.optimise.coverage_matrix` and the same on a
  ``LocalCluster`` of 2 worker processes (1 task slot each), timed alternately in one
  run (the machine is shared: the rounds interleave so both see the same load). Prints
  the best and median of each and the overhead ratio (target <= 1.3x); the arrays are
  checked equal. Skips when ``../shared/data`` is absent.
* ``test_matrix_larger_than_a_worker``: a synthetic country whose matrix is larger than
  one worker's memory limit (``HEXACCESS_BENCH_DASK_PEOPLE``, default 3 M people;
  candidates at every populated H3 res-7 cell; workers limited to
  ``HEXACCESS_BENCH_DASK_LIMIT``, default 600 MB), written block by block into a matrix
  cache; prints the matrix size, the time, each worker's peak resident memory and the
  per-block costs the README's cluster estimate uses.

Run with ``pytest benches/bench_distributed.py -s`` (about 10 minutes on 2 cores).
"""

from __future__ import annotations

import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "finland"
PEOPLE = int(os.environ.get("HEXACCESS_BENCH_DASK_PEOPLE", "3000000"))
LIMIT = os.environ.get("HEXACCESS_BENCH_DASK_LIMIT", "600MB")
ROUNDS = int(os.environ.get("HEXACCESS_BENCH_DASK_ROUNDS", "3"))


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), MB; run on each worker."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@pytest.fixture(scope="module")
def national_access():
    if not DATA.exists():
        pytest.skip(f"reference data not present: {DATA}")
    from hexaccess import accessibility, inputs
    from hexaccess.offices import Offices
    from hexaccess.optimise import candidates_from_cells

    prof = inputs.profile_for(None, "car")
    pop = inputs.read_population_any(
        DATA / "census2021_1km.csv",
        resolution=8,
        municipality_table=DATA / "grid_municipality.csv",
        exclude_municipalities=inputs.municipality_codes("aland"),
    )
    roads = inputs.read_roads_any(DATA / "roads_mml_1milj" / "road.shp", prof)
    cand = candidates_from_cells(pop, 6, 300)
    return accessibility.build_access_graph(roads, pop, Offices(cand), prof)


def _equal(a, b) -> None:
    for name in ("indptr", "cell", "time", "distance_m"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_national_matrix_single_vs_dask(benchmark, national_access, tmp_path):
    from hexaccess.distributed import connect
    from hexaccess.optimise import coverage_matrix

    access = national_access
    single, dask = [], []
    with connect("local:2", quiet=True) as client:
        ref = coverage_matrix(access)  # warm-up: pages, allocator
        got = coverage_matrix(access, client=client)  # warm-up: graph on every worker
        _equal(ref, got)
        del got
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            coverage_matrix(access)
            single.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            coverage_matrix(access, client=client)
            dask.append(time.perf_counter() - t0)
        cached = _cached_rounds(access, client, tmp_path)
        benchmark.pedantic(
            coverage_matrix, args=(access,), kwargs={"client": client}, rounds=1, iterations=1
        )
    ratio = min(dask) / min(single)
    print(
        f"\nnational matrix: {ref.num_candidates} candidates x {ref.num_cells:,} cells, "
        f"{ref.nnz:,} entries ({ref.memory_bytes / 2**20:.0f} MiB)\n"
        f"single machine: best {min(single):.2f} s, median {statistics.median(single):.2f} s\n"
        f"Dask LocalCluster (2 workers x 1 slot): best {min(dask):.2f} s, median "
        f"{statistics.median(dask):.2f} s\noverhead ratio (best/best) {ratio:.2f}x "
        f"(median/median {statistics.median(dask) / statistics.median(single):.2f}x; "
        "target <= 1.3x)"
    )
    print(
        f"with the matrix cache written (single: one entries.parquet; Dask: the workers "
        f"write the blocks): single {cached['single']:.2f} s, Dask {cached['dask']:.2f} s, "
        f"ratio {cached['dask'] / cached['single']:.2f}x"
    )
    benchmark.extra_info.update(ratio=ratio, single_s=min(single), dask_s=min(dask))


def _cached_rounds(access, client, tmp_path) -> dict[str, float]:
    """One round each of the matrix computed and saved as a cache."""
    from hexaccess.optimise import coverage_matrix
    from hexaccess.optimise.cache import commit_matrix, prepare_matrix_output

    out_times = {}
    for name, kw in (("single", {}), ("dask", {"client": client})):
        t0 = time.perf_counter()
        with prepare_matrix_output(tmp_path / name) as out:
            commit_matrix(coverage_matrix(access, **kw, out=out), out)
        out_times[name] = time.perf_counter() - t0
    return out_times


def _synthetic_access(people: int):
    return _synthetic_access_res(people, 7)


def _synthetic_access_res(people: int, resolution: int):
    from hexaccess import accessibility, country
    from hexaccess.offices import Offices
    from hexaccess.optimise import candidates_from_cells
    from hexaccess.profiles import load_profile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = country.generate_country(people, seed=1)
        cand = candidates_from_cells(c.population, resolution)
        return accessibility.build_access_graph(
            c.roads, c.population, Offices(cand), load_profile("car_fi")
        )


def test_matrix_larger_than_a_worker(benchmark, tmp_path):
    from dask.utils import parse_bytes

    from hexaccess.distributed import connect
    from hexaccess.optimise import coverage_matrix
    from hexaccess.optimise.cache import commit_matrix, load_matrix, prepare_matrix_output

    access = _synthetic_access(PEOPLE)
    with connect("local:2", quiet=True, memory_limit=LIMIT) as client:
        pids = set(client.run(os.getpid).values())

        def build():
            with prepare_matrix_output(tmp_path / "matrix") as out:
                built = coverage_matrix(access, client=client, out=out)
                commit_matrix(built, out)
            return built

        t0 = time.perf_counter()
        matrix = benchmark.pedantic(build, rounds=1, iterations=1)
        seconds = time.perf_counter() - t0
        peaks = client.run(_peak_rss_mb)
        restarts = len(set(client.run(os.getpid).values()) - pids)  # a killed worker: new pid
    blocks = matrix.meta["entry_blocks"]["ranges"]
    limit_mb = parse_bytes(LIMIT) / 2**20
    print(
        f"\nsynthetic country of {PEOPLE:,} people: {matrix.num_candidates:,} res-7 "
        f"candidates x {matrix.num_cells:,} cells, {matrix.nnz:,} entries, "
        f"{matrix.memory_bytes / 2**20:.0f} MiB in memory "
        f"({matrix.memory_bytes / 2**20 / limit_mb:.1f}x one worker's limit of {LIMIT}); "
        f"{len(blocks)} blocks of {blocks[0][1] - blocks[0][0]} candidates; {seconds:.1f} s "
        f"on 2 workers ({seconds / len(blocks):.2f} s per block; "
        f"{seconds * 2 / matrix.num_candidates * 1000:.1f} worker-ms per candidate)\n"
        f"peak resident memory per worker (MiB): "
        + ", ".join(f"{v:.0f}" for v in peaks.values())
        + f"; worker restarts: {restarts}"
    )
    assert matrix.memory_bytes > parse_bytes(LIMIT)
    back, _ = load_matrix(tmp_path / "matrix")  # the single-machine reader, verified
    _equal(back, matrix)
    benchmark.extra_info.update(peaks_mib=list(peaks.values()), seconds=seconds)


def test_sweep_and_curve_single_vs_dask(benchmark):
    """Where the sweeps pay: 2,000 networks of 50 offices evaluated from the matrix of a
    1 M-person synthetic country (res-6 candidates), and a 6-point coverage curve, each
    on one machine and on 2 local workers, timed alternately."""
    import pandas as pd

    from hexaccess import distributed as hd
    from hexaccess.optimise import coverage_curve, coverage_matrix, evaluate_networks

    access = _synthetic_access_res(1_000_000, 6)
    matrix = coverage_matrix(access)
    rng = np.random.default_rng(0)
    nets = [rng.choice(matrix.num_candidates, 50, replace=False) for _ in range(2000)]
    totals = [10, 20, 30, 40, 50, 60]
    times: dict[str, list[float]] = {"eval": [], "eval_dask": [], "curve": [], "curve_dask": []}
    results: dict[str, object] = {}
    with hd.connect("local:2", quiet=True) as client:
        parts = hd.MatrixPartitions(matrix, client)
        evaluate_networks(matrix, nets[:10])  # warm-up: kernels compiled everywhere
        parts.evaluate(nets[:10])
        coverage_curve(matrix, [5])
        hd.coverage_curve(matrix, [5, 6], client)
        for _ in range(ROUNDS):
            for name, call in (
                ("eval", lambda: evaluate_networks(matrix, nets)),
                ("eval_dask", lambda: parts.evaluate(nets)),
                ("curve", lambda: coverage_curve(matrix, totals)),
                ("curve_dask", lambda: hd.coverage_curve(matrix, totals, client)),
            ):
                t0 = time.perf_counter()
                out = call()
                times[name].append(time.perf_counter() - t0)
                results[name] = out
        benchmark.pedantic(parts.evaluate, args=(nets,), rounds=1, iterations=1)
        parts.close()
    np.testing.assert_array_equal(results["eval_dask"].counts, results["eval"].counts)
    pd.testing.assert_frame_equal(results["curve_dask"], results["curve"])
    lines = [
        f"{k}: best {min(v):.3f} s, median {statistics.median(v):.3f} s" for k, v in times.items()
    ]
    print(
        f"\n{matrix!r}\n"
        + "\n".join(lines)
        + f"\nsweep dask/single {min(times['eval_dask']) / min(times['eval']):.2f}x; "
        f"curve dask/single {min(times['curve_dask']) / min(times['curve']):.2f}x"
    )
