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

__all__ = ["cover_heuristic", "drop_redundant", "greedy", "heuristic", "local_search"]


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


def _losses(
    model: CostModel, is_open: npt.NDArray[np.bool_]
) -> tuple[float, npt.NDArray[np.float64]]:
    """The objective of ``is_open`` and, per candidate, how much it rises when that open
    site alone closes (0 for closed sites)."""
    d1, d2, phi1 = K.assign(model.rptr, model.rcand, model.rcost, is_open, model.pen)
    near = phi1 >= 0
    loss = np.bincount(
        phi1[near], weights=(model.w * (d2 - d1))[near], minlength=model.num_candidates
    )
    return float(K.objective(model.w, d1)), loss


def _closable(rules: SiteRules, is_open: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Open sites that may close: not fixed, and not the last one of a required region."""
    ok = is_open & ~rules.fixed
    if rules.use_regions:
        count = rules.region_count(is_open)
        reg = rules.region
        last = (reg >= 0) & (count[np.maximum(reg, 0)] <= 1) & rules.required[np.maximum(reg, 0)]
        ok &= ~last
    return ok


def drop_redundant(
    model: CostModel, rules: SiteRules, is_open: npt.NDArray[np.bool_], allowed_uncovered: float
) -> npt.NDArray[np.bool_]:
    """Redundancy elimination: close, one at a time, the site whose closing raises the
    objective least while it stays within ``allowed_uncovered`` (a copy)."""
    cur = is_open.copy()
    while True:
        value, loss = _losses(model, cur)
        ok = _closable(rules, cur) & (value + loss <= allowed_uncovered)
        if not ok.any():
            return cur
        cand = np.flatnonzero(ok)
        cur[cand[np.argmin(loss[cand])]] = False  # ties: the lowest index


def _one_fewer(
    model: CostModel,
    rules: SiteRules,
    best: npt.NDArray[np.bool_],
    allowed_uncovered: float,
    seed: int | None,
    restarts: int,
) -> npt.NDArray[np.bool_] | None:
    """A cover with one site fewer than ``best``, or None: first greedy + swaps (with the
    restarts) at that size, then drop-add moves: close each closable site of ``best``
    (least loss first, at most :data:`DROP_ADD_TRIES`) and repair with swaps."""
    p = int(best.sum()) - 1
    trial, _ = heuristic(model, rules, p, seed, restarts)
    if model.evaluate(trial) <= allowed_uncovered:
        return trial
    _value, loss = _losses(model, best)
    order = np.flatnonzero(_closable(rules, best))
    order = order[np.argsort(loss[order], kind="stable")][:DROP_ADD_TRIES]
    closest, closest_value = trial, model.evaluate(trial)
    for r in order:
        trial = best.copy()
        trial[r] = False
        local_search(model, rules, trial)
        value = model.evaluate(trial)
        if value <= allowed_uncovered:
            return trial
        if value < closest_value:
            closest, closest_value = trial, value
    return _perturb(model, rules, closest, allowed_uncovered, seed, max(restarts, COVER_KICKS))


def _kick(
    rules: SiteRules, is_open: npt.NDArray[np.bool_], rng: np.random.Generator, size: int
) -> npt.NDArray[np.bool_]:
    """``is_open`` with up to ``size`` random swaps of an open, not fixed site for a closed
    allowed one; the last site of a required region is swapped within its region."""
    out = is_open.copy()
    for _ in range(size):
        movable = np.flatnonzero(out & ~rules.fixed)
        if movable.size == 0:
            break
        r = int(rng.choice(movable))
        free = rules.allowed & ~out
        if not _closable(rules, out)[r]:
            free &= rules.region == rules.region[r]
        if not free.any():
            continue
        out[r] = False
        out[int(rng.choice(np.flatnonzero(free)))] = True
    return out


def _perturb(
    model: CostModel,
    rules: SiteRules,
    start: npt.NDArray[np.bool_],
    allowed_uncovered: float,
    seed: int | None,
    kicks: int,
) -> npt.NDArray[np.bool_] | None:
    """Iterated local search from ``start``: ``kicks`` times, swap one to three random
    sites and repair with swaps, keeping the better; the first cover that meets the
    target, or None."""
    rng = np.random.default_rng(seed)
    best, best_value = start, model.evaluate(start)
    for _ in range(kicks):
        trial = _kick(rules, best, rng, int(rng.integers(1, 4)))
        local_search(model, rules, trial)
        value = model.evaluate(trial)
        if value <= allowed_uncovered:
            return trial
        if value < best_value:
            best, best_value = trial, value
    return None


#: Drop-add tries per size in :func:`cover_heuristic` (the sites of least loss first).
DROP_ADD_TRIES = 64
#: Iterated-local-search kicks of :func:`cover_heuristic` when drop-add finds no smaller
#: cover (at least; ``restarts`` raises it).
COVER_KICKS = 32


def cover_heuristic(
    model: CostModel,
    rules: SiteRules,
    allowed_uncovered: float,
    seed: int | None,
    restarts: int,
) -> npt.NDArray[np.bool_]:
    """Set cover: greedy until at most ``allowed_uncovered`` people are uncovered, then
    redundancy elimination (:func:`drop_redundant`), then one site fewer at a time while
    :func:`_one_fewer` (greedy + swaps, then drop-add with swap repair) still meets the
    target. A heuristic: no bound, ``proof`` ``'none'`` unless the MIP runs."""
    lo = rules.min_sites()
    cur = greedy(model, rules, lo)
    while model.evaluate(cur) > allowed_uncovered:
        cur = greedy(model, rules, int(cur.sum()) + 1, start=cur)
    best = drop_redundant(model, rules, cur, allowed_uncovered)
    while int(best.sum()) > lo:
        trial = _one_fewer(model, rules, best, allowed_uncovered, seed, restarts)
        if trial is None:
            break
        best = drop_redundant(model, rules, trial, allowed_uncovered)
    return best


# ---------------------------------------------------------------------- capacities
#: Work budget of :func:`capacitated_heuristic`: LP evaluations × pairs per LP (about
#: 0.5 µs per pair and evaluation: some 6 s). Small instances (tens of sites, hundreds of
#: cells) search to a local optimum well within it; large ones keep the uncapacitated
#: heuristic's sites plus the swaps the budget allows (``capacity_search = 'budget'``).
CAPACITY_WORK = 12_000_000
#: Kicks (random swaps, then LP swaps) of the capacitated heuristic; ``restarts`` adds more.
CAPACITY_KICKS = 16
#: Sites tried for each swap out (those that could save most on the current assignment).
CAPACITY_NEIGHBOURS = 10


def _swap_allowed(rules: SiteRules, is_open: npt.NDArray[np.bool_], f: int, r: int) -> bool:
    """Whether closing ``r`` and opening ``f`` keeps one site per required region."""
    if not rules.use_regions:
        return True
    g = rules.region[r]
    if g < 0 or not rules.required[g] or rules.region[f] == g:
        return True
    return int(rules.region_count(is_open)[g]) > 1


def _lp_greedy(
    lp: Any, model: CostModel, rules: SiteRules, p: int, budget: list[int]
) -> npt.NDArray[np.bool_] | None:
    """Capacity-aware greedy: from the fixed sites (then one per required region), open
    the site whose opening lowers the capacitated cost most; None (and no evaluation)
    when the whole greedy would take more than half the budget."""
    is_open = rules.fixed.copy()
    if (p - int(is_open.sum())) * int(rules.allowed.sum()) > budget[0] // 2:
        return None
    while int(is_open.sum()) < p:
        eligible = rules.allowed & ~is_open
        if rules.use_regions:
            need = rules.required & (rules.region_count(is_open) == 0)
            in_need = eligible & (rules.region >= 0) & need[np.maximum(rules.region, 0)]
            eligible = in_need if in_need.any() else eligible
        cand = np.flatnonzero(eligible)
        if cand.size > budget[0]:
            return None
        best, best_j = np.inf, -1
        for j in cand:
            is_open[j] = True
            v = lp.value(is_open)
            is_open[j] = False
            if v < best:
                best, best_j = v, int(j)
        budget[0] -= cand.size
        is_open[best_j] = True
    return is_open


def _lp_swaps(
    lp: Any,
    model: CostModel,
    rules: SiteRules,
    is_open: npt.NDArray[np.bool_],
    value: float,
    budget: list[int],
) -> tuple[npt.NDArray[np.bool_], float, int]:
    """First-improvement swaps evaluated by the capacitated LP, each open site tried
    against the :data:`CAPACITY_NEIGHBOURS` closed sites that could save most on the
    current capacitated assignment, until none improves or the budget runs out."""
    tol = 1e-9 * max(abs(value), 1.0)
    swaps, improved = 0, True
    while improved and budget[0] > 0:
        improved = False
        lp.value(is_open)  # the assignment of the current sites (cost per person)
        d1 = lp.cell_costs()
        saving = model.w[model.ccell] * np.maximum(d1[model.ccell] - model.ccost, 0.0)
        gains = np.bincount(model.ccand, weights=saving, minlength=model.num_candidates)
        ins = np.flatnonzero(rules.allowed & ~is_open)
        ins = ins[np.argsort(-gains[ins], kind="stable")][:CAPACITY_NEIGHBOURS]
        for r in np.flatnonzero(is_open & ~rules.fixed):
            for f in ins:
                if budget[0] <= 0 or not _swap_allowed(rules, is_open, int(f), int(r)):
                    continue
                trial = is_open.copy()
                trial[r], trial[f] = False, True
                v = lp.value(trial)
                budget[0] -= 1
                if v < value - tol:
                    is_open, value, swaps, improved = trial, v, swaps + 1, True
                    break
            if improved:
                break
    return is_open, value, swaps


def capacitated_heuristic(
    model: CostModel,
    rules: SiteRules,
    p: int,
    cap: npt.NDArray[np.float64],
    start: npt.NDArray[np.bool_],
    highs: dict[str, Any],
    seed: int | None = 0,
    kicks: int = 0,
) -> tuple[npt.NDArray[np.bool_], dict[str, Any]]:
    """Sites for ``p`` capacitated offices: the better of ``start`` (the uncapacitated
    heuristic's sites) and a capacity-aware greedy, then swaps; every open set is valued
    by the exact assignment LP (:class:`~hexaccess.optimise.mip.TransportLP`), within
    :data:`CAPACITY_WORK`. Returns the sites and the details (``capacity_lp_evaluations``,
    ``capacity_swaps``, ``capacity_search`` = ``'complete'``, ``'budget'`` or ``'not
    binding'``: on a large instance the capacities cost the starting sites nothing, so
    they are kept)."""
    from hexaccess.optimise.mip import TransportLP

    lp = TransportLP(model, rules, cap, **highs)
    budget = [max(CAPACITY_WORK // max(lp.size, 1), 1)]
    best, best_value = start.copy(), lp.value(start)
    large = (p - int(rules.fixed.sum())) * int(rules.allowed.sum()) > budget[0] // 2
    if large and best_value <= model.evaluate(start) * (1 + 1e-9) + 1e-9:
        # A large instance whose capacities cost the uncapacitated sites nothing: keep
        # them rather than spend the budget on a few swaps.
        return best, {"capacity_lp_evaluations": lp.evaluations, "capacity_swaps": 0,
                      "capacity_search": "not binding"}  # fmt: skip
    greedy_open = _lp_greedy(lp, model, rules, p, budget)
    if greedy_open is not None:
        v = lp.value(greedy_open)
        if v < best_value:
            best, best_value = greedy_open, v
    best, best_value, swaps = _lp_swaps(lp, model, rules, best, best_value, budget)
    rng = np.random.default_rng(seed)
    for _ in range(kicks):
        if budget[0] <= 0:
            break
        trial = _kick(rules, best, rng, int(rng.integers(1, 3)))
        trial, value, more = _lp_swaps(lp, model, rules, trial, lp.value(trial), budget)
        swaps += more
        if value < best_value - 1e-9 * max(abs(best_value), 1.0):
            best, best_value = trial, value
    return best, {
        "capacity_lp_evaluations": lp.evaluations,
        "capacity_swaps": swaps,
        "capacity_search": "complete" if budget[0] > 0 else "budget",
    }
