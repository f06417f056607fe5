"""The heuristic solver: greedy addition, then best-improvement swap local search
(Teitz–Bart interchange evaluated with the Resende–Werneck gain/loss/extra bookkeeping,
Numba kernels in :mod:`hexaccess.optimise._kernels`), with optional random restarts.
Deterministic for a given seed."""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess.errors import InfeasibleError
from hexaccess.optimise import _kernels as K
from hexaccess.optimise.problem import CostModel, SiteRules

__all__ = ["cover_heuristic", "greedy", "heuristic", "local_search"]


def _open_required_regions(
    model: CostModel, rules: SiteRules, is_open: npt.NDArray[np.bool_], d1: npt.NDArray[Any]
) -> None:
    """Open the best site of every required region that has none yet (in place)."""
    count = rules.region_count(is_open)
    for g in np.flatnonzero(rules.required & (count == 0)):
        eligible = rules.allowed & ~is_open & (rules.region == g)
        gains = K.add_gains(model.cptr, model.ccell, model.ccost, model.w, d1, eligible)
        j = int(np.argmax(gains))
        is_open[j] = True
        K.open_and_update(model.cptr, model.ccell, model.ccost, d1, j)


def _lazy_greedy(
    model: CostModel,
    is_open: npt.NDArray[np.bool_],
    d1: npt.NDArray[Any],
    eligible: npt.NDArray[np.int64],
    p: int,
) -> None:
    """Open the best eligible sites until ``p`` are open (in place).

    Lazy (CELF) greedy: a site's gain only shrinks as others open (the objective is
    supermodular), so a stale gain is an upper bound and only the top needs refreshing.
    """
    mask = np.zeros(model.num_candidates, bool)
    mask[eligible] = True
    gains = K.add_gains(model.cptr, model.ccell, model.ccost, model.w, d1, mask)
    heap = [(-float(gains[j]), int(j)) for j in eligible]
    heapq.heapify(heap)
    fresh = {int(j): 0 for j in eligible}  # iteration of each stored gain
    step = 0
    while int(is_open.sum()) < p:
        _neg, j = heapq.heappop(heap)
        if fresh[j] != step:
            g = K.column_gain(model.cptr, model.ccell, model.ccost, model.w, d1, j)
            fresh[j] = step
            heapq.heappush(heap, (-g, j))
            continue
        is_open[j] = True  # ties: (gain, index) order picks the lowest index
        K.open_and_update(model.cptr, model.ccell, model.ccost, d1, j)
        step += 1


def greedy(
    model: CostModel, rules: SiteRules, p: int, start: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.bool_]:
    """Greedy addition to ``p`` sites from the fixed sites (or ``start``), regions first."""
    is_open = rules.fixed.copy() if start is None else start.copy()
    d1, _, _ = K.assign(model.rptr, model.rcand, model.rcost, is_open, model.pen)
    if rules.use_regions:
        _open_required_regions(model, rules, is_open, d1)
    eligible = np.flatnonzero(rules.allowed & ~is_open)
    if int(is_open.sum()) < p and eligible.size < p - int(is_open.sum()):
        raise InfeasibleError(
            f"only {int(is_open.sum()) + eligible.size} sites can be opened (candidates "
            f"minus forbidden); asked for {p}"
        )
    if int(is_open.sum()) < p:
        _lazy_greedy(model, is_open, d1, eligible, p)
    return is_open


def local_search(model: CostModel, rules: SiteRules, is_open: npt.NDArray[np.bool_]) -> int:
    """Best-improvement swaps on ``is_open`` (in place) until none improves; returns the
    number of swaps."""
    tol = 1e-9 * max(float(model.w.sum()), 1.0)
    count = rules.region_count(is_open)
    return int(
        K.local_search(
            model.rptr,
            model.rcand,
            model.rcost,
            model.w,
            model.pen,
            is_open,
            ~rules.fixed,
            rules.allowed,
            rules.region,
            count,
            tol,
            100_000,
        )
    )


def _random_start(rules: SiteRules, p: int, rng: np.random.Generator) -> npt.NDArray[np.bool_]:
    """``p`` sites drawn at random: the fixed ones, one per required region, the rest."""
    is_open = rules.fixed.copy()
    if rules.use_regions:
        count = rules.region_count(is_open)
        for g in np.flatnonzero(rules.required & (count == 0)):
            choices = np.flatnonzero(rules.allowed & ~is_open & (rules.region == g))
            is_open[rng.choice(choices)] = True
    free = np.flatnonzero(rules.allowed & ~is_open)
    need = p - int(is_open.sum())
    is_open[rng.choice(free, size=need, replace=False)] = True
    return is_open


def heuristic(
    model: CostModel, rules: SiteRules, p: int, seed: int | None, restarts: int
) -> tuple[npt.NDArray[np.bool_], dict[str, Any]]:
    """Greedy + swaps, then ``restarts`` swap searches from random starts; the best open
    mask and the details (``greedy_cost``, ``swaps``, ``restarts``, ``seed``)."""
    is_open = greedy(model, rules, p)
    greedy_value = model.evaluate(is_open)
    swaps = local_search(model, rules, is_open)
    best, best_value = is_open, model.evaluate(is_open)
    rng = np.random.default_rng(seed)
    for _ in range(restarts):
        cand = _random_start(rules, p, rng)
        swaps += local_search(model, rules, cand)
        v = model.evaluate(cand)
        if v < best_value - 1e-9 * max(abs(best_value), 1.0):
            best, best_value = cand, v
    return best, {"greedy_cost": greedy_value, "swaps": swaps, "restarts": restarts, "seed": seed}


def cover_heuristic(
    model: CostModel,
    rules: SiteRules,
    allowed_uncovered: float,
    seed: int | None,
    restarts: int,
) -> npt.NDArray[np.bool_]:
    """Set cover: greedy until at most ``allowed_uncovered`` people are uncovered, then
    shrink the count while greedy + swaps still meet the target."""
    lo = rules.min_sites()
    cur = greedy(model, rules, lo)
    while model.evaluate(cur) > allowed_uncovered:
        cur = greedy(model, rules, int(cur.sum()) + 1, start=cur)
    best = cur
    local_search(model, rules, best)
    p = int(best.sum()) - 1
    while p >= lo:
        trial, _ = heuristic(model, rules, p, seed, restarts)
        if model.evaluate(trial) > allowed_uncovered:
            break
        best, p = trial, p - 1
    return best
