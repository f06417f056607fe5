"""The coverage matrix and scenario sweeps on Dask distributed (issue #13): a LocalCluster
of 2 worker processes (one task slot each, small memory limits) gives the single-machine
results bit for bit, writes a matrix cache that the single-machine reader uses, and
survives a worker killed mid-run."""

from __future__ import annotations

import itertools
import json
import os
import signal
import warnings

import numpy as np
import pandas as pd
import pytest
from fixtures.worlds import tiny_world

from hexaccess import accessibility, country
from hexaccess.distributed import MatrixPartitions, connect, parse_scheduler
from hexaccess.distributed import coverage_curve as dask_curve
from hexaccess.distributed import evaluate_networks as dask_evaluate
from hexaccess.distributed.matrix import _remove_strays
from hexaccess.distributed.sweep import cell_ranges
from hexaccess.errors import CorruptOutputError, InputError
from hexaccess.offices import Offices
from hexaccess.optimise import (
    cached_or_new_matrix,
    candidates_from_cells,
    coverage_curve,
    coverage_matrix,
    evaluate_networks,
    reusable_matrix,
)
from hexaccess.optimise.cache import load_matrix
from hexaccess.outputs import verify_output
from hexaccess.profiles import load_profile

pytest.importorskip(
    "distributed", reason="Dask distributed (the [dask] extra, in [test]) is not installed"
)

ARRAYS = ("indptr", "cell", "time", "distance_m")
CUTOFF_S = 3600.0


#: Small, but above what a worker holds at rest (about 470 MB with the graph, Numba and the
#: Rust core): Dask pauses a worker at 80 % of its limit, and a paused worker never runs
#: the next task (with 600 MB the suite hung on a loaded machine).
WORKER_MEMORY = "1.5GB"


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with connect("local:2", quiet=True, memory_limit=WORKER_MEMORY) as c:
            yield c


@pytest.fixture(scope="module")
def access():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = country.generate_country(100_000, seed=11)
    cand = candidates_from_cells(c.population, 6)
    return accessibility.build_access_graph(
        c.roads, c.population, Offices(cand), load_profile("car_fi")
    )


@pytest.fixture(scope="module")
def single(access):
    return coverage_matrix(access, cutoff_s=CUTOFF_S)


def _assert_same(got, want) -> None:
    for name in ARRAYS:
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert got.cutoff_s == want.cutoff_s and got.time_unit_s == want.time_unit_s
    assert list(got.candidates["name"]) == list(want.candidates["name"])
    pd.testing.assert_frame_equal(got.cells, want.cells)


def test_scheduler_text_is_parsed_or_refused() -> None:
    assert parse_scheduler("local").local and parse_scheduler("local").workers is None
    assert parse_scheduler("local:3").workers == 3
    assert parse_scheduler("tcp://10.0.0.1:8786").address == "tcp://10.0.0.1:8786"
    assert parse_scheduler("sched.json").address == "sched.json"
    for bad in ("local:0", "local:x", "", "a b"):
        with pytest.raises(InputError, match="--scheduler"):
            parse_scheduler(bad)


def test_blocked_matrix_is_the_single_machine_matrix(client, access, single) -> None:
    assert single.num_candidates > 100 and single.nnz > 10_000  # several blocks of work
    calls = []
    got = coverage_matrix(
        access, cutoff_s=CUTOFF_S, client=client, block_size=37,
        progress=lambda d, t: calls.append((d, t)),
    )  # fmt: skip
    _assert_same(got, single)
    blocks = -(-single.num_candidates // 37)
    assert len(calls) == blocks and calls[-1] == (single.num_candidates,) * 2
    assert "entry_blocks" not in got.meta  # nothing written without a cache


def test_cache_written_by_workers_is_read_by_the_single_machine_path(
    client, access, single, tmp_path
) -> None:
    key = {"inputs": {}, "settings": {"note": "distributed"}}
    cache = tmp_path / "matrix"
    got = cached_or_new_matrix(
        access, cache_dir=cache, provenance_key=key, cutoff_s=CUTOFF_S, client=client
    )
    _assert_same(got, single)
    parts = sorted(os.listdir(cache / "entries"))
    assert len(parts) >= 2 and not (cache / "entries.parquet").exists()
    manifest = verify_output(cache, kind="coverage-matrix")
    listed = {f["path"] for f in manifest["files"]}
    assert {f"entries/{p}" for p in parts} <= listed
    # The single-machine reader and cache rule take it unchanged.
    back, _ = load_matrix(cache)
    _assert_same(back, single)
    names = [str(n) for n in access.offices.names]
    said = []
    reused = reusable_matrix(
        cache, provenance_key=key, cutoff_s=CUTOFF_S, names=names, log=said.append
    )
    assert reused is not None and said[-1].startswith("loaded")
    _assert_same(reused, single)
    # Sweeps over partitions that the workers read from the saved blocks themselves.
    rng = np.random.default_rng(2)
    nets = [rng.choice(single.num_candidates, 6, replace=False) for _ in range(30)]
    want = evaluate_networks(single, nets)
    saved = MatrixPartitions.from_saved(cache, client, partitions=3)
    try:
        got = saved.evaluate(nets)
    finally:
        saved.close()
    assert len(saved.ranges) == 3
    for name in ("counts", "beyond_cutoff", "time_sum"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    np.testing.assert_allclose(got.distance_sum, want.distance_sum, rtol=1e-12)
    # A changed block is never used.
    part = cache / "entries" / parts[0]
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(CorruptOutputError, match=parts[0]):
        load_matrix(cache)
    assert reusable_matrix(cache, provenance_key=key, cutoff_s=CUTOFF_S, names=names) is None


def test_a_worker_killed_mid_run_loses_no_block(client, access, single, tmp_path) -> None:
    """A worker is SIGKILLed when the first block is in: its running block is rerun on
    the restarted or the other worker and the cache is whole and identical."""
    killed = []

    def kill_a_busy_worker(done: int, total: int) -> None:
        if killed or done >= total:
            return
        busy = [w for w, keys in client.processing().items() if keys]
        pids = client.run(os.getpid, workers=busy[:1])
        for pid in pids.values():
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    key = {"inputs": {}, "settings": {"note": "killed"}}
    cache = tmp_path / "matrix"
    got = cached_or_new_matrix(
        access, cache_dir=cache, provenance_key=key, cutoff_s=CUTOFF_S, client=client,
        progress=kill_a_busy_worker,
    )  # fmt: skip
    assert killed, "no worker was killed: the test did not test anything"
    _assert_same(got, single)
    verify_output(cache, kind="coverage-matrix")  # no stray or partial file
    assert all(not n.startswith(".") for n in os.listdir(cache / "entries"))
    _assert_same(load_matrix(cache)[0], single)
    client.wait_for_workers(2, timeout=60)


def test_workers_that_cannot_see_the_cache_send_their_blocks_back(
    client, access, single, tmp_path, monkeypatch
) -> None:
    """Without a shared file system the workers find no marker of the driver's folder:
    the driver writes their blocks itself (the marker is renamed here, on the driver
    only, so the workers look for a file that is not there)."""
    import hexaccess.distributed.matrix as dm

    monkeypatch.setattr(dm, "_marker", lambda save: f".elsewhere-{save}")
    written = []
    real_write = dm.write_part
    monkeypatch.setattr(dm, "write_part", lambda *a: written.append(1) or real_write(*a))
    key = {"inputs": {}, "settings": {"note": "no shared disk"}}
    cache = tmp_path / "matrix"
    got = cached_or_new_matrix(
        access, cache_dir=cache, provenance_key=key, cutoff_s=CUTOFF_S, client=client
    )
    _assert_same(got, single)
    verify_output(cache, kind="coverage-matrix")
    parts = os.listdir(cache / "entries")
    assert all(n.startswith("part-") for n in parts)
    assert len(written) == len(parts) >= 2  # every block was written here, on the driver
    _assert_same(load_matrix(cache)[0], single)


def test_a_partial_write_never_counts(tmp_path) -> None:
    folder = tmp_path / "entries"
    folder.mkdir()
    (folder / "part-00000.parquet").write_bytes(b"whole")
    (folder / ".part-00001.parquet.tmp-123-abcd").write_bytes(b"half")  # a killed write
    _remove_strays(folder, [{"path": "entries/part-00000.parquet"}])
    assert os.listdir(folder) == ["part-00000.parquet"]


def test_sweep_over_cell_partitions_is_the_single_machine_sweep(client, single) -> None:
    rng = np.random.default_rng(5)
    nets = [rng.choice(single.num_candidates, k, replace=False) for k in (1, 3, 8, 20) * 20]
    want = evaluate_networks(single, nets, band_minutes=10.0)
    w = single.weights()
    assert np.all(w == np.round(w))  # whole people: the sums are exact in any order
    parts = MatrixPartitions(single, client, partitions=3)
    try:
        assert len(parts) == 3 and parts.ranges[0][0] == 0
        assert parts.ranges[-1][1] == single.num_cells
        got = parts.evaluate(nets, band_minutes=10.0)
        again = parts.evaluate(nets[:5], band_minutes=10.0)  # partitions stay on the workers
    finally:
        parts.close()
    for name in ("edges_min", "counts", "beyond_cutoff", "time_sum"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    np.testing.assert_allclose(got.distance_sum, want.distance_sum, rtol=1e-12)
    assert got.total == want.total
    np.testing.assert_array_equal(again.counts, want.counts[:5])
    one = dask_evaluate(single, nets[:4], client)
    np.testing.assert_array_equal(one.counts, want.counts[:4])


def test_cell_ranges_tile_the_cells(single) -> None:
    for parts in (1, 2, 7):
        ranges = cell_ranges(single, parts)
        assert ranges[0][0] == 0 and ranges[-1][1] == single.num_cells
        assert all(a < b for a, b in ranges)
        assert all(r[1] == s[0] for r, s in itertools.pairwise(ranges))
        total = sum(single.cell_slice(a, b).nnz for a, b in ranges)
        assert total == single.nnz


def test_curve_on_workers_is_the_single_machine_curve(client, single) -> None:
    small = single.subset_candidates(np.arange(40))  # the heuristic's work: kept short
    totals = [2, 5]
    want = coverage_curve(small, totals, threshold_min=30.0)
    got = dask_curve(small, totals, client, threshold_min=30.0)
    pd.testing.assert_frame_equal(got, want)


def test_cli_scheduler_writes_a_cache_the_single_machine_run_reuses(client, tmp_path) -> None:
    from hexaccess.cli import main

    world = tiny_world(tmp_path)
    base = [
        "optimise", "--population", str(world.population), "--roads", str(world.roads),
        "--candidates", str(world.offices), "--municipality-table",
        str(world.municipality_table), "--total", "2", "--no-layers", "--quiet",
        "--matrix", str(tmp_path / "m"),
    ]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        address = client.scheduler_info()["address"]
        assert main([*base, "--out", str(tmp_path / "a"), "--scheduler", address]) == 0
        manifest = (tmp_path / "m" / "manifest.json").read_text()
        assert any(f["path"].startswith("entries/") for f in json.loads(manifest)["files"])
        assert main([*base, "--out", str(tmp_path / "b")]) == 0  # one machine, the cache
        assert (tmp_path / "m" / "manifest.json").read_text() == manifest  # reused, not rebuilt
        alone = [a if a != str(tmp_path / "m") else str(tmp_path / "m2") for a in base]
        assert main([*alone, "--out", str(tmp_path / "c")]) == 0
    chosen = [pd.read_csv(tmp_path / d / "chosen.csv") for d in "abc"]
    pd.testing.assert_frame_equal(chosen[0], chosen[1])
    pd.testing.assert_frame_equal(chosen[0], chosen[2])
    bands = [pd.read_csv(tmp_path / d / "bands.csv") for d in "ac"]
    pd.testing.assert_frame_equal(bands[0], bands[1])
    assert main([*base, "--out", str(tmp_path / "d"), "--scheduler", "local:zero"]) == 2
