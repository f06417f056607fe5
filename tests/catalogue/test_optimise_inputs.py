"""Catalogue of hostile optimisation inputs (issue "Nothing silent"): capacities, proof
status, the heuristics against HiGHS, and options of ``hexaccess optimise`` that were
silently ignored.

Every case builds its own tiny inputs in ``tmp_path`` (the tiny world of
``fixtures.worlds``, whose three offices are the candidates, or a small coverage matrix
made with :meth:`CoverageMatrix.from_dense`) and drives the command line (``hexaccess
optimise``) or the Python API. A mistake must end in exit code 2 with one stderr line
naming the option, file or value (or the matching error class in the API); an accepted
input must give the right numbers, labelled (``proof``, capacity-aware figures).

The cases are data (:data:`CASES`), so :func:`outcome` can run the same list against
another copy of the package to classify each one (clear error, vague error, accepted
correctly, traceback, silent wrong result, hang).
"""

from __future__ import annotations

import itertools
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fixtures.catalogue import Case, check_case, outcome  # noqa: F401
from fixtures.worlds import tiny_world

from hexaccess.optimise import Constraints, CoverageMatrix, SolverOptions, optimise

#: The tiny world: 1,650 people, of whom 750 are within the cutoff of some office.
TOTAL, SERVED = 1650.0, 750.0
#: The issue's hand case: 3 sites x 2 cells (4 and 10 people), times in seconds.
HAND_T = np.array([[12.0, 13.0], [4.0, 4.0], [19.0, 19.0]])
HAND_W = np.array([4.0, 10.0])
HAND_CAP = [5.0, 7.0, 10.0]


# ------------------------------------------------------------------ CLI inputs
def _world(tmp: Path) -> Any:
    """The tiny world in ``tmp/w``."""
    (tmp / "w").mkdir(parents=True, exist_ok=True)
    return tiny_world(tmp / "w")


def _candidates(tmp: Path, w: Any, **columns: Any) -> Path:
    """The tiny world's offices as candidates, with extra ``columns``."""
    frame = pd.read_csv(w.offices, dtype={"municipality": str})
    for name, values in columns.items():
        frame[name] = values
    path = tmp / "cand.csv"
    frame.to_csv(path, index=False)
    return path


def _args(tmp: Path, w: Any, *extra: Any, cand: Any = None) -> list[str]:
    """``hexaccess optimise`` on the tiny world, output in ``tmp/out``."""
    return [
        "optimise", "--population", str(w.population), "--roads", str(w.roads),
        "--candidates", str(cand or w.offices), "--out", str(tmp / "out"), "--quiet",
        *[str(x) for x in extra],
    ]  # fmt: skip


def _cli(*extra: Any, **columns: Any) -> Callable[[Path], tuple[str, list[str]]]:
    """A CLI case: the tiny world (candidates with ``columns``) and ``extra`` options."""

    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        cand = _candidates(tmp, w, **columns) if columns else None
        return "cli", _args(tmp, w, *extra, cand=cand)

    return make


def _cli_file(option: str, content: bytes | None, *extra: Any) -> Callable[[Path], Any]:
    """A CLI case whose ``option`` names a file with ``content`` (None: a directory)."""

    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        path = tmp / "given"
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content)
        return "cli", _args(tmp, w, option, path, *extra)

    return make


def _cli_fixed(*extra: Any) -> Callable[[Path], tuple[str, list[str]]]:
    """The tiny world with two of its offices as ``--fixed`` sites."""

    def make(tmp: Path) -> tuple[str, list[str]]:
        w = _world(tmp)
        offices = pd.read_csv(w.offices, dtype={"municipality": str})
        offices.iloc[:2].to_csv(tmp / "fixed.csv", index=False)
        return "cli", _args(tmp, w, "--fixed", tmp / "fixed.csv", *extra)

    return make


def _cli_h3(*extra: Any) -> Callable[[Path], tuple[str, list[str]]]:
    """The tiny world with candidates at the centres of its populated H3 cells."""

    def make(tmp: Path) -> tuple[str, list[str]]:
        args = _args(tmp, _world(tmp), *extra)
        args[args.index("--candidates") + 1] = "h3:6"
        return "cli", args

    return make


def _summary(tmp: Path) -> dict[str, Any]:
    return json.loads((tmp / "out" / "summary.json").read_text())


def _over_capacity(tmp: Path, _result: Any) -> bool:
    """Capacities of 100 people at 2 sites: 550 of the 750 served people are left over,
    counted as unserved and labelled; chosen.csv respects the capacities."""
    s = _summary(tmp)
    opt = s["optimisation"]
    chosen = pd.read_csv(tmp / "out" / "chosen.csv")
    return (
        opt.get("capacity_aware") is True
        and abs(opt["unserved_population"] - (TOTAL - 200.0)) < 1e-6
        and abs(opt["over_capacity_population"] - (SERVED - 200.0)) < 1e-6
        and "over capacity" in opt["status"]
        and s["capacities"]["bands_ignore_capacities"] is True
        and opt["capacity_free"]["unserved_population"] == TOTAL - SERVED
        and bool((chosen["catchment_population"] <= chosen["capacity"] + 1e-6).all())
        and opt["proof"] in ("optimal", "bounded", "none")
    )


def _generous_capacity(tmp: Path, _result: Any) -> bool:
    """Capacities nobody reaches: the capacity-aware figures equal the free ones."""
    opt = _summary(tmp)["optimisation"]
    free = opt.get("capacity_free") or {}
    return (
        opt.get("capacity_aware") is True
        and opt["over_capacity_population"] == 0.0
        and opt["unserved_population"] == TOTAL - SERVED
        and abs(opt["matrix_mean_time_min"] - free["mean_time_min"]) < 1e-9
    )


def _proof_in_summary(tmp: Path, _result: Any) -> bool:
    """The heuristic alone: summary.json states that nothing proves the answer."""
    s = _summary(tmp)
    return s.get("proof") == "none" and s["optimisation"]["proof"] == "none" and s["bound"] is None


def _proven(tmp: Path, _result: Any) -> bool:
    """The default (heuristic + MIP) on the tiny world: proven optimal, gap 0."""
    s = _summary(tmp)
    return s.get("proof") == "optimal" and s["gap"] <= 1e-6


# ------------------------------------------------------------------ API inputs
def _api(call: Callable[[Path], Any]) -> Callable[[Path], tuple[str, Any]]:
    return lambda tmp: ("api", lambda: call(tmp))


def _hand(**candidates: Any) -> CoverageMatrix:
    """The issue's hand case as a coverage matrix (cutoff 50 min)."""
    frame = None
    if candidates:
        frame = pd.DataFrame({"name": ["a", "b", "c"], "lon": 0.0, "lat": 0.0, "fixed": False})
        for k, v in candidates.items():
            frame[k] = v
    return CoverageMatrix.from_dense(HAND_T, HAND_W, cutoff_s=3000.0, candidates=frame)


def _hand_run(objective: str, method: str, fixed: Any = (), **kw: Any) -> Any:
    rules = Constraints(fixed=list(fixed), capacity=HAND_CAP)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the over-capacity warning
        return optimise(_hand(), objective, total=2, constraints=rules,
                        solver=SolverOptions(method=method), **kw)  # fmt: skip


def _brute_capacitated(objective: str, **kw: Any) -> float:
    """The exact optimum of the hand case: the MIP on every pair of sites."""
    best = []
    for pair in itertools.combinations(range(3), 2):
        best.append(_hand_run(objective, "mip", fixed=pair, **kw).objective)
    return max(best) if objective == "coverage" else min(best)


def _hand_left_over(tmp: Path, r: Any) -> bool:
    """Sites a and b (capacities 5 + 7) for 14 people: 2 are left over, so unserved is
    2, the mean time charges them the cutoff, catchments are 5 and 7."""
    mean = (4 * 12 + 1 * 13 + 7 * 4 + 2 * 3000) / 14 / 60  # a: 4 + 1 people, b: 7
    return (
        r.unserved_population == 2.0
        and r.over_capacity_population == 2.0
        and abs(r.mean_time_min - mean) < 1e-9
        and abs(r.objective - mean) < 1e-9
        and r.sites["catchment_population"].tolist() == [5.0, 7.0]
        and "over capacity" in r.status
        and r.capacity_free["unserved_population"] == 0.0
    )


def _hand_covered(tmp: Path, r: Any) -> bool:
    """Coverage within 1 minute at sites a and b: 12 covered (the objective), never 14."""
    s = r.summary()
    return (
        r.objective == 12.0
        and r.covered_population == 12.0
        and abs(s["covered_pct"] - 100 * 12 / 14) < 1e-9
        and r.unserved_population == 2.0
        and s["capacity_free"]["covered_population"] == 14.0
    )


def _hand_heuristic_exact(objective: str, **kw: Any) -> Callable[[Path, Any], bool]:
    def check(tmp: Path, r: Any) -> bool:
        exact = _brute_capacitated(objective, **kw)
        return abs(r.objective - exact) <= 1e-9 * abs(exact) and r.proof == "none"

    return check


def _planar(seed: int, m: int, n: int) -> tuple[Any, Any, Any]:
    """A random planar instance: sites and cells in a 100 x 100 square, 1 unit = 1 min."""
    rng = np.random.default_rng(seed)
    c, x = rng.uniform(0, 100, (m, 2)), rng.uniform(0, 100, (n, 2))
    t = np.hypot(c[:, None, 0] - x[None, :, 0], c[:, None, 1] - x[None, :, 1]) * 60.0
    return t, rng.integers(1, 100, n).astype(float), rng


def _cover_instances(tmp: Path) -> list[tuple[float, float]]:
    """20 seeded set-cover instances (10-30 sites, 50-300 cells, threshold 15-30 min, a
    target of 80-100 % of what every site together covers): (heuristic, HiGHS) sites."""
    out = []
    for seed in range(20):
        rng0 = np.random.default_rng(seed)
        t, w, rng = _planar(seed, int(rng0.integers(10, 31)), int(rng0.integers(50, 301)))
        thr = float(rng.choice([15, 20, 25, 30]))
        reach = w[(np.floor(t) < thr * 60).any(axis=0)].sum() / w.sum()
        pct = float(np.floor(100 * rng.choice([0.8, 0.9, 0.95, 0.99, 1.0]) * reach * 1000) / 1000)
        mat = CoverageMatrix.from_dense(t, w, cutoff_s=3000.0)
        got = []
        for method in ("heuristic", "mip"):
            r = optimise(mat, "cover", threshold_min=thr, cover_pct=pct,
                         constraints=Constraints(fixed=[]),
                         solver=SolverOptions(method=method))  # fmt: skip
            got.append(r.objective)
        out.append((got[0], got[1]))
    return out


def _capacitated_instances(tmp: Path) -> list[tuple[float, float]]:
    """4 + 4 seeded capacitated instances (10-15 sites, 50-120 cells, capacities 0.35 to
    1.95 times a fair share): (heuristic, HiGHS) objectives, mean-time then coverage."""
    out = []
    for objective in ("mean-time", "coverage"):
        kw = {"threshold_min": 20} if objective == "coverage" else {}
        for seed in range(500, 504):
            rng0 = np.random.default_rng(seed)
            t, w, rng = _planar(seed, int(rng0.integers(10, 16)), int(rng0.integers(50, 121)))
            p = int(rng.integers(2, 5))
            cap = rng.uniform(0.5, 1.5, t.shape[0]) * w.sum() / p * float(rng.choice([0.7, 1.3]))
            mat = CoverageMatrix.from_dense(t, w, cutoff_s=3000.0)
            got = []
            for method in ("heuristic", "mip"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = optimise(mat, objective, total=p,
                                 constraints=Constraints(fixed=[], capacity=cap),
                                 solver=SolverOptions(method=method), **kw)  # fmt: skip
                got.append(r.objective)
            out.append((got[0], got[1]))
    return out


def _all_equal(tmp: Path, pairs: list[tuple[float, float]]) -> bool:
    return all(abs(h - e) <= 1e-9 * max(abs(e), 1.0) for h, e in pairs)


def _small(seed: int = 3, m: int = 12, n: int = 150) -> CoverageMatrix:
    t, w, _ = _planar(seed, m, n)
    return CoverageMatrix.from_dense(t, w, cutoff_s=3000.0)


def _proof(method: str, **solver: Any) -> Callable[[Path], Any]:
    def call(tmp: Path) -> Any:
        rules = Constraints(fixed=[])
        return optimise(_small(), "mean-time", total=3, constraints=rules,
                        solver=SolverOptions(method=method, **solver))  # fmt: skip

    return call


def _is_proof(proof: str) -> Callable[[Path, Any], bool]:
    def check(tmp: Path, r: Any) -> bool:
        ok = getattr(r, "proof", None) == proof and r.summary().get("proof") == proof
        if proof == "none":
            return ok and r.bound is None and r.gap is None
        if proof == "bounded":
            return ok and r.gap is not None and r.gap > 1e-6
        return ok and r.gap is not None and r.gap <= 1e-6

    return check


def _km_report(tmp: Path) -> Any:
    """mean-time with threshold_km: the coverage within that many km is reported."""
    t = np.array([[60.0, 600.0, 900.0], [900.0, 60.0, 30.0]])
    d = np.array([[1000.0, 9000.0, 20000.0], [20000.0, 3000.0, 800.0]])
    mat = CoverageMatrix.from_dense(t, [5.0, 3.0, 2.0], distance_m=d, cutoff_s=3000.0)
    return optimise(mat, "mean-time", total=1, threshold_km=5.0,
                    constraints=Constraints(fixed=[1]))  # fmt: skip


def _km_covered(tmp: Path, r: Any) -> bool:
    return r.covered_population == 5.0  # site 1: cells 1 (3 km) and 2 (0.8 km)


def _capacities(values: Any, objective: str = "mean-time", **kw: Any) -> Callable[[Path], Any]:
    def call(tmp: Path) -> Any:
        mat = _hand(capacity=values) if isinstance(values, list) else _hand()
        cap = True if isinstance(values, list) else values
        return optimise(mat, objective, total=2, constraints=Constraints(fixed=[], capacity=cap),
                        **kw)  # fmt: skip

    return call


def _zero_candidates(tmp: Path) -> Any:
    mat = CoverageMatrix.from_dense(np.zeros((0, 3)), [1.0, 2.0, 3.0], cutoff_s=600.0)
    return optimise(mat, "mean-time", total=1)


def _many_candidates(tmp: Path) -> Any:
    from hexaccess.optimise import candidate_sites

    n = 65_536
    frame = pd.DataFrame({"name": [f"s{i}" for i in range(n)],
                          "lon": np.linspace(24.0, 25.0, n), "lat": 60.2})  # fmt: skip
    return candidate_sites(frame)


def _curve_below_fixed(tmp: Path) -> Any:
    from hexaccess.optimise import coverage_curve

    return coverage_curve(_small(m=6, n=40), [1, 2, 4], threshold_min=20,
                          constraints=Constraints(fixed=[0, 1, 2]))  # fmt: skip


def _curve_above_candidates(tmp: Path) -> Any:
    from hexaccess.optimise import coverage_curve

    return coverage_curve(_small(m=6, n=40), [2, 9], threshold_min=20,
                          constraints=Constraints(fixed=[]))  # fmt: skip


def _both_thresholds(tmp: Path) -> Any:
    return optimise(_small(), "mean-time", total=2, threshold_min=20, threshold_km=5.0)


# ------------------------------------------------------------------ the cases
_CAP100 = {"capacity": [100, 100, 100]}
CASES: list[Case] = [
    # capacities: the command line
    Case("cli-capacity-without-column", _cli("--total", 2, "--capacity"),
         ("--capacity", "cand", "capacity", "column")),
    Case("cli-capacity-empty-column", _cli("--total", 2, "--capacity", capacity=""),
         ("--capacity", "cand.csv", "'capacity'")),
    Case("cli-capacity-h3-candidates", _cli_h3("--total", 1, "--capacity"),
         ("--capacity", "h3:6", "capacity")),
    Case("cli-capacity-with-cover", _cli("--objective", "cover", "--capacity", **_CAP100),
         ("--capacity", "cover")),
    Case("cli-capacity-text-value", _cli("--total", 2, "--capacity", capacity=["lots", 1, 2]),
         ("cand.csv", "capacity", "lots")),
    Case("cli-capacity-negative", _cli("--total", 2, "--capacity", capacity=[-5, 1, 2]),
         ("cand.csv", "capacity", "-5")),
    Case("cli-capacity-below-demand", _cli("--total", 2, "--capacity", **_CAP100),
         check=_over_capacity),
    Case("cli-capacity-generous", _cli("--total", 2, "--capacity", capacity=[1e6] * 3),
         check=_generous_capacity),
    # capacities: the API (the hand case)
    Case("api-hand-left-over-people-are-unserved",
         _api(lambda tmp: _hand_run("mean-time", "mip", fixed=(0, 1))), check=_hand_left_over),
    Case("api-hand-covered-never-above-objective",
         _api(lambda tmp: _hand_run("coverage", "mip", fixed=(0, 1), threshold_min=1)),
         check=_hand_covered),
    Case("api-hand-heuristic-mean-time-is-optimal",
         _api(lambda tmp: _hand_run("mean-time", "heuristic")),
         check=_hand_heuristic_exact("mean-time")),
    Case("api-hand-heuristic-coverage-is-optimal",
         _api(lambda tmp: _hand_run("coverage", "heuristic", threshold_min=1)),
         check=_hand_heuristic_exact("coverage", threshold_min=1)),
    Case("api-capacity-column-all-empty", _api(_capacities([np.nan] * 3)),
         ("capacity", "empty", "3 candidates")),
    Case("api-capacity-column-text", _api(_capacities(["5", "many", "7"])),
         ("capacity", "'b'", "many")),
    Case("api-capacity-negative-names-site", _api(_capacities([5.0, -1.0, 7.0])),
         ("capacities", "'b'", "-1")),
    Case("api-capacity-wrong-length", _api(_capacities(np.array([5.0, 7.0]))),
         ("one value per candidate", "3")),
    Case("api-capacity-with-cover", _api(_capacities(HAND_CAP, "cover", threshold_min=1)),
         ("capacities", "cover")),
    Case("api-capacitated-heuristic-vs-highs", _api(_capacitated_instances), check=_all_equal),
    # proof status
    Case("api-proof-heuristic-none", _api(_proof("heuristic")), check=_is_proof("none")),
    Case("api-proof-mip-optimal", _api(_proof("mip")), check=_is_proof("optimal")),
    Case("api-proof-weak-bound-bounded",
         _api(_proof("auto", mip_max_size=0, lagrangian_iters=1)), check=_is_proof("bounded")),
    Case("api-cover-heuristic-equals-highs-20", _api(_cover_instances), check=_all_equal),
    Case("cli-proof-heuristic-in-summary", _cli("--total", 2, "--method", "heuristic"),
         check=_proof_in_summary),
    Case("cli-proof-default-optimal", _cli("--total", 2), check=_proven),
    # options that do not apply, limits
    Case("cli-curve-below-fixed-sites", _cli_fixed("--add", 1, "--curve", "1:3"),
         ("--curve 1:3", "2 fixed", "1")),
    Case("cli-curve-above-candidates", _cli("--total", 2, "--curve", "1:50"),
         ("--curve 1:50", "3 allowed")),
    Case("cli-total-above-candidates", _cli("--total", 9), ("--total 9", "3", "allowed")),
    Case("cli-add-beyond-candidates", _cli_fixed("--add", 5), ("--add 5", "7", "allowed")),
    Case("cli-threads-5000", _cli("--total", 2, "--threads", 5000), ("--threads 5000", "64")),
    Case("cli-threads-zero", _cli("--total", 2, "--threads", 0), ("threads", "0")),
    Case("cli-total-with-cover", _cli("--objective", "cover", "--total", 2),
         ("--total 2", "cover")),
    Case("cli-add-with-cover", _cli("--objective", "cover", "--add", 1), ("--add 1", "cover")),
    Case("cli-cover-pct-with-mean-time", _cli("--total", 2, "--cover-pct", 90),
         ("--cover-pct 90", "cover")),
    Case("cli-threshold-and-threshold-km",
         _cli("--objective", "coverage", "--total", 2, "--threshold", 30, "--threshold-km", 5),
         ("--threshold 30", "--threshold-km 5", "not both")),
    Case("cli-threshold-km-negative", _cli("--objective", "coverage", "--total", 2,
                                           "--threshold-km", -5), ("threshold", "-5")),
    Case("cli-cover-pct-150", _cli("--objective", "cover", "--cover-pct", 150),
         ("cover", "150")),
    Case("cli-total-zero", _cli("--total", 0), ("total", "0")),
    Case("cli-time-limit-nan", _cli("--total", 2, "--time-limit", "nan"), ("time", "nan")),
    Case("cli-restarts-negative", _cli("--total", 2, "--restarts", -1), ("restarts", "-1")),
    Case("cli-one-per-region-without-regions", _cli("--total", 2, "--one-per-region"),
         ("region", "offices.csv")),
    Case("cli-matrix-is-a-file", _cli_file("--matrix", b"not a cache\n", "--total", 2),
         ("matrix", "given", "is a file")),
    Case("cli-forbidden-empty-file", _cli_file("--forbidden", b"", "--total", 2),
         ("forbidden", "given", "empty")),
    Case("cli-forbidden-directory", _cli_file("--forbidden", None, "--total", 2),
         ("forbidden", "given", "directory")),
    Case("cli-forbidden-binary", _cli_file("--forbidden", b"\x00\x01\x02PK\x03", "--total", 2),
         ("forbidden", "given")),
    Case("api-zero-candidates", _api(_zero_candidates), ("no candidate",)),
    Case("api-candidates-above-limit", _api(_many_candidates), ("65,536", "65,535")),
    Case("api-solver-threads-5000", _api(lambda tmp: SolverOptions(threads=5000)),
         ("threads", "5000", "64")),
    Case("api-curve-below-fixed-sites", _api(_curve_below_fixed),
         ("coverage_curve", "1, 2", "3 fixed")),
    Case("api-curve-above-candidates", _api(_curve_above_candidates),
         ("coverage_curve", "9", "6 allowed")),
    Case("api-mean-time-both-thresholds", _api(_both_thresholds), ("threshold", "not both")),
    Case("api-mean-time-threshold-km-reported", _api(_km_report), check=_km_covered),
]  # fmt: skip


# ------------------------------------------------------------------ running a case
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_optimise_input(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_case(case, tmp_path, capsys)


def test_capacity_warning_names_the_people_left_over() -> None:
    """The over-capacity warning says how many people the capacities leave over."""
    rules = Constraints(fixed=[0, 1], capacity=HAND_CAP)
    with pytest.warns(UserWarning, match=r"\(12 people\) leave 2 of 14 people unserved"):
        optimise(_hand(), "mean-time", total=2, constraints=rules)
