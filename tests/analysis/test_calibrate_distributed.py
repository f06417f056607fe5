"""Calibration evaluations on Dask distributed (issue #13): a LocalCluster of 2 worker
processes (one task slot each) evaluates the coordinate scan's grids, and the fit — its
parameters, histograms, objectives and evaluation count — is the single-machine fit bit
for bit, through the API and through ``hexaccess calibrate --scheduler``."""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from fixtures.worlds import tiny_world

from hexaccess import calibrate, cli_analysis
from hexaccess.distributed import connect
from hexaccess.network import read_roads
from hexaccess.offices import read_offices
from hexaccess.population import read_eurostat_grid
from hexaccess.profiles import load_profile

pytest.importorskip(
    "distributed", reason="Dask distributed (the [dask] extra, in [test]) is not installed"
)

HIST_FIELDS = ("edges_s", "counts", "unreachable", "time_sum", "length_sum")


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
def world(tmp_path_factory):
    return tiny_world(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def inputs(world):
    base = load_profile("car_fi")
    net = read_roads(world.roads, base)
    pop = read_eurostat_grid(world.population, municipality_table=world.municipality_table)
    return base, net, pop, read_offices(world.offices)


def _evaluator(inputs):
    base, net, pop, offs = inputs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return calibrate.FastEvaluator(net, pop, offs, base)


def _assert_same_histogram(got, want) -> None:
    for name in HIST_FIELDS:
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    assert list(got.columns) == list(want.columns)


def _reference(ev, truth, edges):
    """Shares of everyone for a known profile (the tiny world leaves people unreachable,
    so they sum to less than 100 %: the fits relax that check)."""
    h = ev.histogram(truth, edges)
    return pd.DataFrame(
        {
            "band_start_min": edges[:-1] / 60,
            "band_end_min": edges[1:] / 60,
            "share_pct": h.counts[:-1, 0] / h.total(0) * 100,
        }
    )


def test_a_batch_on_the_workers_equals_the_local_histograms(inputs, client):
    base = inputs[0]
    ev = _evaluator(inputs)
    edges = np.arange(0, 61, 2.0) * 60
    profiles = [
        base,
        base.with_overrides(terminal_time_s=300, access_speed_kmh=20),
        base.with_overrides(urban_factors=(1.0, 0.5, 0.4, 0.35, 0.3)),
        # other density thresholds: the evaluator's fallback (per-edge densities)
        base.with_overrides(urban_density_thresholds=(50, 200, 800, 3000)),
    ]
    local = [ev.histogram(p, edges) for p in profiles]
    assert ev.evaluations == len(profiles)
    remote = list(ev.histograms(profiles, edges, client=client))
    assert ev.evaluations == 2 * len(profiles)  # the driver counts the remote ones
    for got, want in zip(remote, local, strict=True):
        _assert_same_histogram(got, want)
    shipped = ev._shipped
    list(ev.histograms(profiles[:1], edges, client=client))
    assert ev._shipped is shipped  # the arrays were sent once for this client

    # Each worker built its evaluator once, for this one shipment.
    from hexaccess.distributed import calibrate as remote_calibrate

    token = shipped._arrays.result().token
    built = client.run(lambda: list(remote_calibrate._BUILT))
    assert all(tokens.count(token) <= 1 for tokens in built.values())
    assert any(token in tokens for tokens in built.values())


def test_a_fit_with_a_client_is_the_single_machine_fit(inputs, client):
    base, net, pop, offs = inputs
    edges = np.arange(0, 41, 2.0) * 60
    truth = base.with_overrides(terminal_time_s=420, access_speed_kmh=25)
    ref = _reference(_evaluator(inputs), truth, edges)
    runs, seen = {}, {}
    for name, c in (("here", None), ("dask", client)):
        calls: list[tuple[int, float]] = []
        runs[name] = calibrate.calibrate(
            net, pop, offs, ref, base, max_evaluations=120, reference_tolerance_pp=100,
            evaluator=_evaluator(inputs), progress=lambda n, f, calls=calls: calls.append((n, f)),
            client=c,
        )  # fmt: skip
        seen[name] = calls
    here, dask = runs["here"], runs["dask"]
    # The scan ran several batches and Powell had budget left: both steps were exercised.
    assert here.evaluations > 9 * 2 and len(here.parameters) >= 2
    assert dask.evaluations == here.evaluations
    assert seen["dask"] == seen["here"]  # same evaluations, same best objective after each
    assert dask.profile == here.profile
    pd.testing.assert_frame_equal(dask.parameters, here.parameters, check_exact=True)
    pd.testing.assert_frame_equal(dask.table, here.table, check_exact=True)
    assert dask.objective_after == here.objective_after
    assert dask.mean_time_after_min == here.mean_time_after_min


def _cli_args(world, tmp_path, out, *extra):
    ref = tmp_path / "ref.csv"
    pd.DataFrame(
        {"band_start_min": [0, 10, 20], "band_end_min": [10, 20, 30], "share_pct": [30, 50, 20.0]}
    ).to_csv(ref, index=False)
    parser = argparse.ArgumentParser()
    cli_analysis.add_calibrate_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(
        ["calibrate", "--population", str(world.population), "--roads", str(world.roads),
         "--offices", str(world.offices), "--quiet", "--reference", str(ref),
         "--out", str(out), "--max-evaluations", "60", *extra]
    )  # fmt: skip


def test_cli_scheduler_gives_the_same_files(world, tmp_path, client, capsys):
    docs = {}
    for name, extra in (("here", ()), ("dask", ("--scheduler", client.scheduler.address))):
        out = tmp_path / name
        assert cli_analysis.run_calibrate(_cli_args(world, tmp_path, out, *extra)) == 0
        doc = json.loads((out / "calibration.json").read_text())
        doc.pop("seconds")
        docs[name] = (doc, (out / "calibration.csv").read_text(), (out / "profile.toml"))
    assert docs["dask"][0] == docs["here"][0]
    assert docs["dask"][1] == docs["here"][1]
    assert load_profile(docs["dask"][2]) == load_profile(docs["here"][2])


def test_a_bad_scheduler_is_refused_before_any_input_is_read(world, tmp_path, capsys):
    args = _cli_args(world, tmp_path, tmp_path / "out", "--scheduler", "local:0")
    args.population = str(tmp_path / "missing.csv")  # would fail if it were read first
    assert cli_analysis.run_calibrate(args) == 2
    err = capsys.readouterr().err
    assert "--scheduler 'local:0'" in err and "local:N with N >= 1" in err
    assert not (tmp_path / "out").exists()
