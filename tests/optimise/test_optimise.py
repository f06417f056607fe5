"""Location models (``hexaccess.optimise``) against brute-force enumeration with numpy,
the HiGHS MIP, PySAL spopt (when installed), and the ``hexaccess optimise`` CLI."""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import re
import time

import numpy as np
import pandas as pd
import pytest

from hexaccess import cli_optimise
from hexaccess.optimise import CoverageMatrix, InfeasibleError, coverage_curve, optimise

CUTOFF = 3000.0


def _instance(seed: int, m: int = 12, n: int = 150):
    """Random planar instance: candidates and cells in a 100-unit square, 1 unit = 1 min."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(0, 100, (m, 2))
    x = rng.uniform(0, 100, (n, 2))
    t = np.hypot(c[:, None, 0] - x[None, :, 0], c[:, None, 1] - x[None, :, 1]) * 60.0
    w = rng.integers(1, 100, n).astype(float)
    return CoverageMatrix.from_dense(t, w, cutoff_s=CUTOFF), t, w


def _mean_time(t, w, chosen):
    """Population-weighted mean minutes; beyond the cutoff counts as the cutoff."""
    q = np.where(t <= CUTOFF, np.floor(t), np.inf)
    best = np.minimum(q[list(chosen)].min(axis=0), CUTOFF)
    return float(np.sum(w * best) / w.sum() / 60.0)


def _covered(t, w, chosen, minutes):
    return float(w[(np.floor(t[list(chosen)]).min(axis=0) < minutes * 60.0)].sum())


def _brute(m, p, fixed, forbidden, score, maximise=False):
    free = [j for j in range(m) if j not in fixed and j not in forbidden]
    best = None
    for extra in itertools.combinations(free, p - len(fixed)):
        v = score(tuple(fixed) + extra)
        if best is None or (v > best if maximise else v < best):
            best = v
    return best


@pytest.mark.parametrize("seed", range(6))
def test_pmedian_matches_brute_force(seed):
    mat, t, w = _instance(seed)
    fixed, forbidden = [seed % 12], [(seed + 5) % 12, (seed + 7) % 12]
    opt = _brute(12, 4, fixed, forbidden, lambda s: _mean_time(t, w, s))
    heur = optimise(mat, "mean-time", total=4, fixed=fixed, forbidden=forbidden, method="heuristic")
    exact = optimise(mat, "mean-time", total=4, fixed=fixed, forbidden=forbidden, method="mip")
    auto = optimise(mat, "mean-time", total=4, fixed=fixed, forbidden=forbidden)
    for r in (heur, exact, auto):
        assert set(fixed) <= set(r.chosen) and not set(forbidden) & set(r.chosen)
        assert r.p == 4 and r.num_fixed == 1
        # The reported objective is the independently recomputed one.
        assert r.objective == pytest.approx(_mean_time(t, w, r.chosen), rel=1e-12)
    assert exact.objective == pytest.approx(opt, rel=1e-12)
    assert exact.gap is not None and exact.gap <= 1e-6
    # Stated heuristic quality: within 1 % of the optimum on these instances.
    assert heur.objective <= opt * 1.01
    assert auto.objective == pytest.approx(opt, rel=1e-12)
    assert auto.bound <= opt + 1e-9 and auto.gap <= 1e-6
    # Lagrangian bound alone is a valid lower bound.
    assert auto.details["lagrangian_bound"] <= opt + 1e-9
    # Catchments: everyone within the cutoff is counted exactly once.
    q = np.floor(t[auto.chosen]).min(axis=0)
    assert auto.sites["catchment_population"].sum() == pytest.approx(w[q <= CUTOFF].sum())


@pytest.mark.parametrize("seed", range(4))
def test_coverage_and_cover_match_brute_force(seed):
    mat, t, w = _instance(100 + seed)
    fixed, forbidden = [1], [2]
    opt = _brute(12, 4, fixed, forbidden, lambda s: _covered(t, w, s, 20), maximise=True)
    for method in ("heuristic", "mip", "auto"):
        r = optimise(mat, "coverage", total=4, threshold_min=20, fixed=fixed,
                     forbidden=forbidden, method=method)  # fmt: skip
        assert r.objective == pytest.approx(_covered(t, w, r.chosen, 20))
        assert r.covered_population == pytest.approx(r.objective)
        assert 1 in r.chosen and 2 not in r.chosen
        if method == "heuristic":
            assert r.objective >= 0.98 * opt
        else:
            assert r.objective == pytest.approx(opt) and r.gap <= 1e-6
    # Set cover: fewest sites with >= 60 % within 30 minutes.
    need = 0.6 * w.sum()
    k_opt = next(
        k
        for k in range(1, 12)
        if _brute(12, k, fixed, forbidden, lambda s: _covered(t, w, s, 30), True) >= need - 1e-9
    )
    for method in ("heuristic", "mip"):
        r = optimise(mat, "cover", threshold_min=30, cover_pct=60, fixed=fixed,
                     forbidden=forbidden, method=method)  # fmt: skip
        assert _covered(t, w, r.chosen, 30) >= need - 1e-9
        assert 1 in r.chosen and 2 not in r.chosen
        if method == "mip":
            assert r.objective == k_opt and r.bound == k_opt
        else:
            assert k_opt <= r.objective <= k_opt + 1


def test_capacity_is_respected_and_costs_something():
    mat, _t, w = _instance(11, m=10, n=120)
    cap = np.full(10, w.sum() / 3.5)  # 4 offices must share the load evenly-ish
    free = optimise(mat, "mean-time", total=4, fixed=[], method="mip")
    for method in ("heuristic", "mip", "auto"):
        r = optimise(mat, "mean-time", total=4, fixed=[], capacity=cap, method=method)
        assert np.all(r.sites["catchment_population"].to_numpy() <= cap[r.chosen] + 1e-6)
        assert r.objective >= free.objective - 1e-9
    exact = optimise(mat, "mean-time", total=4, fixed=[], capacity=cap, method="mip")
    heur = optimise(mat, "mean-time", total=4, fixed=[], capacity=cap, method="heuristic")
    assert exact.objective <= heur.objective + 1e-9  # only the MIP is exact
    # Objective recomputed from the assignment: people served + unserved at the cutoff.
    assert exact.objective * w.sum() >= free.objective * w.sum() - 1e-6


def test_one_per_region():
    mat, t, w = _instance(5, m=12)
    region = np.array(list("aaaabbbbcccc"))
    for method in ("heuristic", "mip", "auto"):
        r = optimise(mat, "mean-time", total=4, fixed=[0, 1], regions=region,
                     one_per_region=True, method=method)  # fmt: skip
        assert set(region[r.chosen]) == {"a", "b", "c"}
        assert {0, 1} <= set(r.chosen)
    # Both fixed sites are in region a: the optimum takes one site in b and one in c.
    opt = min(_mean_time(t, w, (0, 1, x, y)) for x in range(4, 8) for y in range(8, 12))
    r = optimise(mat, "mean-time", total=4, fixed=[0, 1], regions=region, one_per_region=True)
    assert r.objective == pytest.approx(opt, rel=1e-12)
    with pytest.raises(InfeasibleError, match="one per region"):
        optimise(mat, "mean-time", total=3, fixed=[0, 1], regions=region, one_per_region=True)


def test_determinism_and_restarts():
    mat, _t, _w = _instance(21, m=40, n=400)
    a = optimise(mat, "mean-time", total=6, fixed=[], method="heuristic", seed=3, restarts=4)
    b = optimise(mat, "mean-time", total=6, fixed=[], method="heuristic", seed=3, restarts=4)
    assert a.chosen.tolist() == b.chosen.tolist() and a.objective == b.objective
    plain = optimise(mat, "mean-time", total=6, fixed=[], method="heuristic")
    assert a.objective <= plain.objective + 1e-12


def test_errors_are_explained():
    mat, _, _ = _instance(1)
    with pytest.raises(InfeasibleError, match="both fixed and forbidden"):
        optimise(mat, "mean-time", total=3, fixed=[1], forbidden=[1])
    with pytest.raises(InfeasibleError, match="cannot hold"):
        optimise(mat, "mean-time", total=1, fixed=[1, 2])
    with pytest.raises(ValueError, match="threshold"):
        optimise(mat, "coverage", total=3)
    with pytest.raises(InfeasibleError, match="cover only"):
        optimise(mat, "cover", threshold_min=1, cover_pct=100)


def test_coverage_curve_plot_is_written(tmp_path):
    from hexaccess.optimise import plot_coverage_curve

    mat, _, _ = _instance(5, m=8, n=60)
    curve = coverage_curve(mat, [2, 3], threshold_min=20, fixed=[0])
    png = plot_coverage_curve(curve, tmp_path / "curve.png", 20)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_coverage_curve_is_monotone():
    mat, _t, _w = _instance(4, m=15)
    curve = coverage_curve(mat, [2, 4, 6], threshold_min=20, fixed=[0])
    assert curve["offices"].tolist() == [2, 4, 6]
    assert np.all(np.diff(curve["coverage_pct"]) >= -1e-9)
    assert np.all(np.diff(curve["mean_time_min"]) <= 1e-9)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_spopt_comparison_same_matrix():
    spopt = pytest.importorskip("spopt.locate", reason="spopt (PySAL) not installed")
    import pulp

    mat, t, w = _instance(8, m=15, n=200)
    cost = np.minimum(np.floor(np.where(t <= CUTOFF, t, CUTOFF)), CUTOFF).T  # cells × sites
    t0 = time.perf_counter()
    model = spopt.PMedian.from_cost_matrix(cost, w, p_facilities=4)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    spopt_s = time.perf_counter() - t0
    chosen = [j for j in range(15) if model.fac2cli[j]]
    ours = optimise(mat, "mean-time", total=4, fixed=[])
    assert ours.objective <= _mean_time(t, w, chosen) + 1e-9
    assert spopt_s > 0 and ours.solve_seconds > 0


def test_cli_writes_contract(tmp_path):
    import test_coverage

    access = test_coverage._study(tmp_path)
    roads = tmp_path / "roads.gpkg"
    pop = tmp_path / "pop.csv"
    frame = access.offices.frame
    cand = frame.loc[~frame["fixed"], ["name", "lon", "lat"]]
    fixed = frame.loc[frame["fixed"], ["name", "lon", "lat"]]
    cand.to_csv(tmp_path / "cand.csv", index=False)
    fixed.to_csv(tmp_path / "fixed.csv", index=False)
    pd.DataFrame({"name": [cand["name"].iloc[0]]}).to_csv(tmp_path / "forbid.csv", index=False)
    parser = argparse.ArgumentParser()
    cli_optimise.add_parser(parser.add_subparsers())
    out = tmp_path / "out"
    args = parser.parse_args(
        ["optimise", "--population", str(pop), "--roads", str(roads),
         "--candidates", str(tmp_path / "cand.csv"), "--fixed", str(tmp_path / "fixed.csv"),
         "--forbidden", str(tmp_path / "forbid.csv"), "--add", "2", "--objective", "coverage",
         "--threshold", "10", "--out", str(out), "--quiet", "--matrix", str(tmp_path / "mx")]
    )  # fmt: skip
    assert cli_optimise.run(args) == 0
    chosen = pd.read_csv(out / "chosen.csv")
    assert chosen.columns.tolist() == cli_optimise.CHOSEN_COLUMNS
    assert len(chosen) == 3 and chosen["fixed"].sum() == 1
    assert fixed["name"].iloc[0] in set(chosen["name"])
    assert cand["name"].iloc[0] not in set(chosen["name"])
    summary = json.loads((out / "summary.json").read_text())
    for key in ("objective", "bound", "gap", "solve_seconds", "mean_time_min", "coverage_pct"):
        assert key in summary
    assert 0 <= summary["gap"] <= 1e-6
    # The engine's accessibility summary agrees with the matrix coverage (same inputs):
    # covered people within 10 minutes = objective.
    assert (tmp_path / "mx" / "entries.parquet").exists()
    again = cli_optimise.run(args)  # reuses the cached matrix
    assert again == 0
    assert pd.read_csv(out / "chosen.csv").equals(chosen)


def test_coverage_by_distance_equals_brute_force():
    # Coverage within T km (length of the fastest path), checked by enumeration.
    rng = np.random.default_rng(21)
    m, n = 9, 120
    t = rng.uniform(0, CUTOFF * 1.2, (m, n))
    d = t / 60.0 * rng.uniform(600, 1400, (m, n))  # metres, speed varies per pair
    w = rng.integers(1, 60, n).astype(float)
    mat = CoverageMatrix.from_dense(t, w, distance_m=d, cutoff_s=CUTOFF)
    limit_km = 25.0
    known = t <= CUTOFF  # pairs beyond the time cutoff are not in the matrix
    near = known & (d.astype(np.float32) <= limit_km * 1000.0)
    best = max(w[near[list(c)].any(axis=0)].sum() for c in itertools.combinations(range(m), 3))
    for method in ("mip", "heuristic"):
        r = optimise(mat, "coverage", total=3, threshold_km=limit_km, fixed=[], method=method)
        covered = w[near[r.chosen].any(axis=0)].sum()
        assert r.covered_population == pytest.approx(covered)
        if method == "mip":
            assert r.objective == pytest.approx(best)
        else:
            assert covered >= 0.95 * best  # greedy + swaps; "auto" certifies with the MIP
    with pytest.raises(ValueError, match="exactly one"):
        optimise(mat, "coverage", total=3, threshold_min=10, threshold_km=5)


def test_km_threshold_is_one_comparison_for_objective_and_report():
    # A stored float32 length just above the limit (10000.2001953125 m > 10000.2 m): the
    # solver compared it in float64 (not covered) and the report in float32 (covered), so
    # objective and covered_population disagreed.
    km = 10.0002
    edge = float(np.float32(km * 1000.0))
    assert edge > km * 1000.0
    t = np.full((2, 2), 100.0)
    d = np.array([[edge, 500.0], [9e9, 20_000.0]])
    mat = CoverageMatrix.from_dense(t, [5.0, 1.0], distance_m=d, cutoff_s=CUTOFF)
    for method in ("heuristic", "mip"):
        r = optimise(mat, "coverage", total=1, threshold_km=km, fixed=[], method=method)
        assert r.objective == r.covered_population == 1.0


def test_optimise_checks_arguments_before_building_cost_models(monkeypatch):
    from hexaccess.optimise import problem as opt

    mat, _, _ = _instance(1)

    def no_cost_model(*_a, **_k):
        raise AssertionError("the cost model was built before the arguments were checked")

    monkeypatch.setattr(opt, "cost_model", no_cost_model)
    bad = [
        ({"total": 0}, ValueError, "total must be a whole number >= 1, got 0"),
        ({"total": float("nan")}, ValueError, "total must be a whole number >= 1, got nan"),
        ({"total": 2.5}, ValueError, "total must be a whole number"),
        ({"add": -1}, ValueError, "add must be a whole number >= 0"),
        ({"add": 0, "fixed": []}, ValueError, "add=0 without fixed sites"),
        ({"total": 13}, InfeasibleError, "total=13: 13 sites asked but only 12"),
        ({"add": 11, "fixed": [0, 1]}, InfeasibleError, r"add=11 \(\+2 fixed\): 13 sites"),
        ({"total": 3, "threshold_min": 51}, ValueError, "threshold_min=51 must be > 0"),
        ({"total": 3, "restarts": -1}, ValueError, "restarts must be a whole number >= 0"),
        ({"total": 3, "seed": 1.5}, ValueError, "seed must be a whole number"),
        ({"total": 3, "time_limit_s": 0}, ValueError, "time_limit_s must be > 0"),
        ({"total": 3, "mip_rel_gap": np.nan}, ValueError, "mip_rel_gap must be >= 0"),
        ({"total": 3, "threads": 0}, ValueError, "threads must be a whole number >= 1"),
    ]
    for kwargs, error, pattern in bad:
        with pytest.raises(error, match=pattern):
            optimise(mat, "mean-time", **kwargs)
    with pytest.raises(ValueError, match=r"cover_pct must be in \(0, 100\]"):
        optimise(mat, "cover", threshold_min=20, cover_pct=np.nan)
    with pytest.raises(ValueError, match="total must be a whole number"):
        coverage_curve(mat, [2.5], threshold_min=20)


def test_coverage_curve_takes_the_main_constraints():
    mat, _t, w = _instance(5, m=12)
    region = np.array(list("aaaabbbbcccc"))
    kw = {"fixed": [0, 1], "regions": region, "one_per_region": True, "method": "heuristic"}
    curve = coverage_curve(mat, [4, 5], threshold_km=1500.0, restarts=2, **kw)
    for n, row in zip([4, 5], curve.itertuples(), strict=True):
        cov = optimise(mat, "coverage", total=n, threshold_km=1500.0, restarts=2, **kw)
        med = optimise(mat, "mean-time", total=n, restarts=2, **kw)
        assert set(region[cov.chosen]) == {"a", "b", "c"}
        assert row.coverage_pct == pytest.approx(100 * cov.objective / w.sum())
        assert row.mean_time_min == pytest.approx(med.objective)


def _cli_study(tmp_path, *extra):
    """The small real-input study of test_coverage as a CLI call (parser, argv)."""
    import test_coverage

    access = test_coverage._study(tmp_path)
    access.offices.frame[["name", "lon", "lat", "fixed"]].to_csv(tmp_path / "cand.csv", index=False)
    parser = argparse.ArgumentParser()
    cli_optimise.add_parser(parser.add_subparsers())
    argv = ["optimise", "--population", str(tmp_path / "pop.csv"), "--roads",
            str(tmp_path / "roads.gpkg"), "--candidates", str(tmp_path / "cand.csv"),
            "--add", "2", "--out", str(tmp_path / "out"), *extra]  # fmt: skip
    return parser, argv


def test_cli_reuses_a_cached_matrix_only_for_the_same_inputs(tmp_path, monkeypatch, capsys):
    provenance = importlib.import_module("hexaccess.study.provenance")

    hashed = []
    sha256 = provenance.sha256_file
    monkeypatch.setattr(provenance, "sha256_file", lambda p: hashed.append(p) or sha256(p))
    parser, argv = _cli_study(tmp_path, "--matrix", str(tmp_path / "mx"))
    assert cli_optimise.run(parser.parse_args(argv)) == 0
    # Each input file is hashed once per run: matrix metadata and summary share it.
    assert len(hashed) == len(set(hashed)) and tmp_path / "pop.csv" in set(hashed)
    meta = CoverageMatrix.load(tmp_path / "mx").meta["provenance"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["provenance"]["inputs"]["population"] == meta["inputs"]["population"]
    assert cli_optimise.run(parser.parse_args(argv)) == 0
    assert "loaded CoverageMatrix" in capsys.readouterr().err
    # Same cells, other people: the cached matrix used to be reused (old weights).
    pop = pd.read_csv(tmp_path / "pop.csv")
    pop["T"] = pop["T"].to_numpy()[::-1]
    pop.to_csv(tmp_path / "pop.csv", index=False)
    assert cli_optimise.run(parser.parse_args(argv)) == 0
    assert "differs in --population; recomputing" in capsys.readouterr().err
    cached = pd.read_csv(tmp_path / "out" / "chosen.csv")
    assert cli_optimise.run(parser.parse_args([*argv[:-2], "--quiet"])) == 0  # no cache
    pd.testing.assert_frame_equal(cached, pd.read_csv(tmp_path / "out" / "chosen.csv"))
    assert cli_optimise.run(parser.parse_args([*argv, "--junction-nodes-only"])) == 0
    # --junction-nodes-only is the study setting split_roads = false.
    assert "differs in split_roads; recomputing" in capsys.readouterr().err


def test_cli_checks_arguments_before_reading_inputs(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    cli_optimise.add_parser(parser.add_subparsers())
    missing = str(tmp_path / "missing")  # never read: the argument errors come first
    base = ["optimise", "--population", missing, "--roads", missing, "--candidates", missing,
            "--add", "2", "--out", str(tmp_path / "out")]  # fmt: skip
    for extra, pattern in (
        (["--curve", "2:8:0"], "--curve '2:8:0'"),
        (["--curve", "2:8:-1"], "--curve '2:8:-1'"),
        (["--curve", "2:x"], "--curve '2:x'"),
        (["--curve", "9:2"], "--curve '9:2'"),
        (["--cutoff", "0"], "--cutoff 0"),
        (["--cutoff", "nan"], "--cutoff nan"),
        (["--objective", "coverage", "--cutoff", "45"], r"--threshold 60 \(the default\)"),
        (["--threshold", "50", "--cutoff", "45"], "--threshold 50 must be > 0"),
    ):
        assert cli_optimise.run(parser.parse_args(base + extra)) == 2
        assert re.search(pattern, capsys.readouterr().err), extra


def test_cli_mean_time_with_a_short_cutoff_and_a_curve_by_distance(tmp_path):
    # --cutoff 45 used to fail on the default 60-minute threshold, which mean-time
    # does not need; the curve now uses the main run's --threshold-km and --restarts.
    parser, argv = _cli_study(tmp_path, "--cutoff", "45", "--quiet")
    assert cli_optimise.run(parser.parse_args(argv)) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["optimisation"]["threshold_min"] is None
    args = [*argv, "--objective", "coverage", "--threshold-km", "6", "--method", "heuristic",
            "--restarts", "2", "--curve", "3:3"]  # fmt: skip
    assert cli_optimise.run(parser.parse_args(args)) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    curve = pd.read_csv(tmp_path / "out" / "curve.csv")
    assert curve["coverage_pct"].iloc[0] == pytest.approx(summary["optimisation"]["covered_pct"])


def test_forbidden_municipalities_must_match_candidates(tmp_path):
    cand = pd.DataFrame({"name": ["a", "b", "c"], "municipality": ["091", "049", "091"]})
    path = tmp_path / "forbid.csv"
    pd.DataFrame({"municipality": ["91"]}).to_csv(path, index=False)
    assert cli_optimise._forbidden(str(path), cand).tolist() == [True, False, True]
    pd.DataFrame({"municipality": ["91", "999"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"forbid.csv: municipality code\(s\) \['999'\] match no"):
        cli_optimise._forbidden(str(path), cand)
    pd.DataFrame({"municipality": ["Espoo"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"forbid\.csv: municipality code 'Espoo' is not a number"):
        cli_optimise._forbidden(str(path), cand)
    pd.DataFrame({"municipality": ["091"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="candidates have no municipality column"):
        cli_optimise._forbidden(str(path), cand.drop(columns="municipality"))


# ---------------------------------------------------------------------- the options objects
def test_objects_give_the_results_of_the_old_keywords():
    from hexaccess.optimise import Constraints, SolverOptions

    mat, _t, _w = _instance(5, m=12)
    region = np.array(list("aaaabbbbcccc"))
    rules = Constraints(fixed=[0], forbidden=[3], regions=region, one_per_region=True)
    settings = SolverOptions(method="heuristic", seed=2, restarts=3)
    new = optimise(mat, "mean-time", total=4, constraints=rules, solver=settings)
    with pytest.warns(DeprecationWarning, match="deprecated"):
        old = optimise(mat, "mean-time", total=4, fixed=[0], forbidden=[3], regions=region,
                       one_per_region=True, method="heuristic", seed=2, restarts=3)  # fmt: skip
    assert new.chosen.tolist() == old.chosen.tolist()
    assert (new.objective, new.bound, new.gap) == (old.objective, old.bound, old.gap)
    pd.testing.assert_frame_equal(new.sites, old.sites)
    # Only the constraints as an object, the solver settings as keywords: no duplicate.
    with pytest.warns(DeprecationWarning):
        mixed = optimise(mat, "mean-time", total=4, constraints=rules, method="heuristic",
                         seed=2, restarts=3)  # fmt: skip
    assert mixed.chosen.tolist() == new.chosen.tolist()
    curve = coverage_curve(mat, [4], threshold_min=20, constraints=rules, solver=settings)
    with pytest.warns(DeprecationWarning):
        again = coverage_curve(mat, [4], threshold_min=20, fixed=[0], forbidden=[3],
                               regions=region, one_per_region=True, seed=2, restarts=3)  # fmt: skip
    pd.testing.assert_frame_equal(curve, again)


def test_a_field_given_twice_or_unknown_is_an_error():
    from hexaccess.errors import InputError, UnknownNameError
    from hexaccess.optimise import Constraints, SolverOptions

    mat, _, _ = _instance(1)
    with pytest.raises(InputError, match="'fixed' is given both as a keyword and through"):
        optimise(mat, total=3, constraints=Constraints(fixed=[1]), fixed=[2])
    with pytest.raises(InputError, match="'restarts' is given both"):
        optimise(mat, total=3, solver=SolverOptions(), restarts=2)
    with pytest.raises(UnknownNameError, match=r"unexpected keyword argument\(s\) \['fixd'\]"):
        optimise(mat, total=3, fixd=[1])
    with pytest.raises(InputError, match="constraints must be a Constraints"):
        optimise(mat, total=3, constraints={"fixed": [1]})
    with pytest.raises(UnknownNameError, match="cover_pct"):
        coverage_curve(mat, [2], cover_pct=50)


def test_options_check_their_fields():
    from dataclasses import FrozenInstanceError

    from hexaccess.errors import InputError
    from hexaccess.optimise import Constraints, SolverOptions

    for kwargs, pattern in (
        ({"method": "exact"}, "method must be one of"),
        ({"restarts": -1}, "restarts must be a whole number >= 0"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"time_limit_s": 0}, "time_limit_s must be > 0"),
        ({"mip_rel_gap": np.nan}, "mip_rel_gap must be >= 0"),
        ({"threads": 0}, "threads must be a whole number >= 1"),
        ({"mip_max_size": True}, "mip_max_size must be a whole number"),
    ):
        with pytest.raises(InputError, match=pattern):
            SolverOptions(**kwargs)
    with pytest.raises(InputError, match="one_per_region must be True or False"):
        Constraints(one_per_region="yes")
    with pytest.raises(InputError, match=r"Constraints\.fixed must be"):
        Constraints(fixed=[[0, 1], [2, 3]])
    with pytest.raises(FrozenInstanceError):
        SolverOptions().seed = 3  # type: ignore[misc]


def test_user_mistakes_raise_hexaccess_errors():
    from hexaccess.errors import InputError, UnknownNameError
    from hexaccess.optimise import Constraints

    mat, _, _ = _instance(1)
    with pytest.raises(UnknownNameError, match="unknown candidate name"):
        optimise(mat, total=3, constraints=Constraints(fixed=["nowhere"]))
    with pytest.raises(UnknownNameError, match="no candidate column 'capacity'"):
        optimise(mat, total=3, constraints=Constraints(capacity=True))
    with pytest.raises(UnknownNameError, match="no candidate column 'region'"):
        optimise(mat, total=3, constraints=Constraints(one_per_region=True))
    with pytest.raises(UnknownNameError, match="unknown population column"):
        optimise(mat, total=3, column="people")
    with pytest.raises(InputError, match="objective must be one of"):
        optimise(mat, "median", total=3)


# ---------------------------------------------------------------------- the workflow
def test_candidate_sites_merge_fixed_sites_and_forbid(tmp_path):
    from hexaccess.errors import UnknownNameError
    from hexaccess.optimise import candidate_sites

    cand = pd.DataFrame({"name": ["a", "b", "c"], "lon": [24.9, 25.0, 25.1],
                         "lat": [60.2, 60.3, 60.4]})  # fmt: skip
    fixed = pd.DataFrame({"name": ["b", "z"], "lon": [25.0, 25.3], "lat": [60.3, 60.5]})
    cand.to_csv(tmp_path / "cand.csv", index=False)
    fixed.to_csv(tmp_path / "fixed.csv", index=False)
    pd.DataFrame({"name": ["c"]}).to_csv(tmp_path / "forbid.csv", index=False)
    frame, forbidden = candidate_sites(
        str(tmp_path / "cand.csv"), fixed=tmp_path / "fixed.csv", forbidden=tmp_path / "forbid.csv"
    )
    assert frame["name"].tolist() == ["a", "b", "c", "z"]
    assert frame["fixed"].tolist() == [False, True, False, True]
    assert forbidden.tolist() == [False, False, True, False]
    # Tables work as well as files; an unknown forbidden name is named.
    again, mask = candidate_sites(cand, fixed=fixed, forbidden=pd.DataFrame({"name": ["c"]}))
    pd.testing.assert_frame_equal(again, frame)
    assert mask.tolist() == forbidden.tolist()
    with pytest.raises(UnknownNameError, match=r"unknown site name\(s\) \['q'\]"):
        candidate_sites(cand, forbidden=pd.DataFrame({"name": ["q"]}))
    with pytest.raises(ValueError, match="h3:RES or h3:RES:MIN_PEOPLE"):
        candidate_sites("h3:x")


# ---------------------------------------------------------------------- proof, capacities
def test_a_result_that_breaks_its_constraints_is_never_called_optimal():
    from hexaccess.optimise.problem import Constraints, prepare
    from hexaccess.optimise.result import Solution, build_result
    from hexaccess.optimise.solve import _finish

    t = np.array([[12.0, 13.0], [4.0, 4.0], [19.0, 19.0]])
    mat = CoverageMatrix.from_dense(t, [4.0, 10.0], cutoff_s=CUTOFF)
    problem = prepare(mat, "mean-time", Constraints(fixed=[], capacity=[5.0, 7.0, 10.0]),
                      total=2, add=None, threshold_min=None, threshold_km=None,
                      cover_pct=99.0, column=None)  # fmt: skip
    # A doctored "optimal" answer: site 1 holds all 14 people (capacity 7).
    entry = np.flatnonzero(np.repeat(np.arange(3), 2) == 1)
    assignment = (np.array([1, 1]), np.array([0, 1]), np.ones(2), entry)
    open_ = np.array([False, True, True])
    found = Solution(open_, 0.06, 0.06, "Optimal", "mip", assignment)
    result = build_result(problem, found, "mip", 0.0, problem.base_details())
    assert result.proof == "optimal"  # by its bound alone
    with pytest.warns(UserWarning, match="breaks its constraints"):
        result = _finish(problem, result)
    assert result.proof == "none"
    assert result.status.startswith("constraints violated: 1 site(s) hold more people")


def test_proof_and_capacity_figures_in_the_summary():
    mat, _t, w = _instance(11, m=10, n=120)
    heur = optimise(mat, "mean-time", total=4, fixed=[], method="heuristic")
    exact = optimise(mat, "mean-time", total=4, fixed=[], method="mip")
    assert (heur.proof, heur.bound, heur.gap) == ("none", None, None)
    assert exact.proof == "optimal" and exact.summary()["proof"] == "optimal"
    assert not exact.capacity_aware and "capacity_free" not in exact.summary()
    cap = np.full(10, w.sum() / 5.0)  # 4 sites hold 80 % of the people at most
    with pytest.warns(UserWarning, match="leave"):
        r = optimise(mat, "mean-time", total=4, fixed=[], capacity=cap, method="mip")
    s = r.summary()
    assert s["capacity_aware"] and r.over_capacity_population >= 0.2 * w.sum() - 1e-6
    assert r.unserved_population == pytest.approx(w.sum() - r.sites["catchment_population"].sum())
    assert s["capacity_free"]["unserved_population"] <= r.unserved_population
    assert r.sites["capacity"].tolist() == cap[r.chosen].tolist()
