"""The heuristic solvers, deterministic for a given seed.

* :func:`heuristic` (``mean-time``, ``coverage``): greedy addition, then best-improvement
  swap local search (Teitz–Bart interchange evaluated with the Resende–Werneck
  gain/loss/extra bookkeeping, Numba kernels in :mod:`hexaccess.optimise._kernels`),
  optional random restarts, then (when no MIP follows) an iterated local search
  (:func:`iterated_search`: kicks of one to three random swaps, repaired by swaps,
  plateaus walked) within a fixed work budget, so small instances search long and
  national ones only a few passes.
* :func:`cover_heuristic` (``cover``): greedy to the target, redundancy elimination,
  then one site fewer at a time (swaps, drop-add moves, kicks).
* :func:`capacitated_heuristic` (capacities): every open set valued by the exact
  assignment LP (:class:`~hexaccess.optimise.mip.TransportLP`); the moves tried are
  screened and ordered by Lagrangian lower bounds from the LP's capacity prices
  (:class:`_Bounds`), so a swap that cannot improve is never solved: a capacity-aware
  greedy, best-improvement swaps and double swaps (small instances), then kicks
  alternating with random restarts.

None of them proves anything: a result reaches ``proof = 'optimal'`` only through a bound
(the MIP, or the Lagrangian bound of the uncapacitated ``mean-time``).
"""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess.errors import InfeasibleError
from hexaccess.optimise import _kernels as K
from hexaccess.optimise.problem import CostModel, SiteRules

__all__ = [
    "capacitated_heuristic",
    "cover_heuristic",
    "drop_redundant",
    "greedy",
    "heuristic",
    "iterated_search",
    "local_search",
]


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


#: Work budget of the iterated local search of :func:`heuristic` (kicks, then swaps), in
#: cost-matrix entries scanned: each swap pass scans the matrix once (entries plus the
#: candidates × sites table), so small instances (spopt's, a few thousand entries) search
#: up to :data:`SEARCH_KICKS` kicks while a national one (~10 M entries) stops after a
#: few passes: the budget is a constant, never a multiple of the cells.
SEARCH_WORK = 60_000_000
#: Fewest swap passes the budget must allow for the iterated local search to run at all:
#: a national instance would get one or two kicks (on Finland's 294 × 200,000 they found
#: nothing and cost 0.7 s), so it keeps the plain local optimum.
SEARCH_MIN_PASSES = 16
#: Most kicks of the iterated local search, and kicks in a row without a better
#: objective after which it stops.
SEARCH_KICKS = 400
SEARCH_STALL = 120


def _pass_work(model: CostModel, p: int) -> int:
    """Entries one swap pass scans (the cost matrix and the candidates × sites table)."""
    return int(model.ccell.size) + model.num_candidates * max(p, 1)


def iterated_search(
    model: CostModel,
    rules: SiteRules,
    is_open: npt.NDArray[np.bool_],
    rng: np.random.Generator,
    kicks: int,
) -> tuple[npt.NDArray[np.bool_], int, int]:
    """Iterated local search from the local optimum ``is_open``: kick (one to three
    random swaps), repair with best-improvement swaps, keep the result when it is no
    worse. Accepting equal objectives walks the plateaus of the coverage objective (many
    site sets cover the same people), where strict improvement stalls. Stops after
    ``kicks`` kicks, :data:`SEARCH_STALL` kicks without improvement or
    :data:`SEARCH_WORK`. Returns the best sites, the swaps made and the kicks used."""
    best, best_value = is_open.copy(), model.evaluate(is_open)
    cur = best.copy()
    tol = 1e-9 * max(float(model.w.sum()), 1.0)
    unit, spent, swaps, since, used = _pass_work(model, int(is_open.sum())), 0, 0, 0, 0
    while used < kicks and since < SEARCH_STALL and spent < SEARCH_WORK:
        trial = _kick(rules, cur, rng, int(rng.integers(1, 4)))
        made = local_search(model, rules, trial)
        swaps, spent, used = swaps + made, spent + (made + 1) * unit, used + 1
        value = model.evaluate(trial)
        if value < best_value - tol:
            best, best_value, since = trial.copy(), value, 0
        else:
            since += 1
        if value <= best_value + tol:
            cur = trial
    return best, swaps, used


def heuristic(
    model: CostModel,
    rules: SiteRules,
    p: int,
    seed: int | None,
    restarts: int,
    kicks: int = 0,
) -> tuple[npt.NDArray[np.bool_], dict[str, Any]]:
    """Greedy + swaps, then ``restarts`` swap searches from random starts, then an
    iterated local search of up to ``kicks`` kicks from the best (:func:`iterated_search`;
    only when :data:`SEARCH_WORK` allows :data:`SEARCH_MIN_PASSES` passes); the best open
    mask and the details (``greedy_cost``, ``swaps``, ``restarts``, ``kicks``, ``seed``)."""
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
    used = 0
    room = SEARCH_WORK >= SEARCH_MIN_PASSES * _pass_work(model, p)
    if kicks > 0 and room and (best & ~rules.fixed).any() and (rules.allowed & ~best).any():
        best, more, used = iterated_search(model, rules, best, rng, kicks)
        swaps += more
    details = {"greedy_cost": greedy_value, "swaps": swaps, "restarts": restarts, "seed": seed}
    if kicks > 0:
        details["kicks"] = used
    return best, details


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
#: LP evaluations the capacitated search may always make, however large the instance (a
#: national one: a few swaps, each a warm re-solve of some seconds).
CAPACITY_MIN_EVALUATIONS = 4
#: Kicks (random swaps, then LP swaps) of the capacitated heuristic; ``restarts`` adds more.
CAPACITY_KICKS = 48
#: Kicks in a row without a better capacitated cost after which the kicking stops.
CAPACITY_STALL = 24
#: Largest double-swap table (double swaps × cells) the capacitated search builds: only
#: small instances escape their one-swap local optima by two-site exchanges.
DOUBLE_WORK = 40_000_000
#: LP evaluations of one double-swap step (the double swaps of least bound first).
DOUBLE_TRIES = 48
#: Every how many kicks the capacitated search restarts from random sites instead: its
#: local optima have wide basins that kicks of a few swaps fall back into.
CAPACITY_RESTART_EVERY = 2


def _priced_model(model: CostModel, price: npt.NDArray[np.float64]) -> CostModel:
    """The cost model with ``price[j]`` added to every cost of site ``j`` (entries that no
    longer beat the cell's fallback dropped, rows re-sorted): the capacities' Lagrangian
    relaxation at those prices."""
    cost = model.ccost + price[model.ccand]
    keep = cost < model.pen[model.ccell]
    cand, cell, cost = model.ccand[keep], model.ccell[keep], cost[keep]
    cptr = np.zeros(model.num_candidates + 1, dtype=np.int64)
    np.cumsum(np.bincount(cand, minlength=model.num_candidates), out=cptr[1:])
    rptr, rcand, rcost, _ = K.transpose_sorted(cptr, cell, cost, model.w.size)
    return CostModel(cptr, cand, cell, cost, rptr, rcand, rcost, model.pen, model.w)


class _Bounds:
    """Lower bounds on the capacitated cost of the open sets next to ``is_open``, from the
    capacity prices ``price`` (>= 0, cost per person) of its assignment LP.

    For any prices ``y >= 0``, relaxing ``Σ_i w_i z_ij <= cap_j`` gives
    ``L_y(S) = Σ_i w_i min(pen_i, min_{j∈S} c_ij + y_j) - Σ_{j∈S} y_j cap_j``, a lower bound
    on the capacitated cost of every open set ``S`` (weak duality); at the LP's own prices
    it equals that LP's cost for ``is_open`` (strong duality). Three price vectors are
    used and the largest bound kept: zero (the uncapacitated cost), the LP's prices
    (closed sites free) and the LP's prices with every closed capped site at the highest
    of them (a site opened next to a congested one soon costs as much). The
    uncapacitated kernels evaluate each for every one-site swap or addition at once, so
    the LP is asked only about sets whose bound beats the current cost, most promising
    first: a swap whose bound does not beat it cannot improve, and is never evaluated.
    """

    def __init__(
        self,
        model: CostModel,
        is_open: npt.NDArray[np.bool_],
        price: npt.NDArray[np.float64],
        cap: npt.NDArray[np.float64],
    ) -> None:
        capped = np.isfinite(cap)
        price = np.where(is_open & capped, np.maximum(price, 0.0), 0.0)
        top = float(price.max()) if price.size else 0.0
        self.model, self.is_open = model, is_open
        #: (cost model at those prices, price_j cap_j per candidate)
        self.relaxations = [(model, np.zeros(is_open.size))]
        seen = [np.zeros(is_open.size)]
        for y in (price, np.where(~is_open & capped, top, price)):
            if not any(np.array_equal(y, z) for z in seen):
                seen.append(y)
                self.relaxations.append((_priced_model(model, y), y * np.where(capped, cap, 0.0)))
        self.base = [pm.evaluate(is_open) - float(held[is_open].sum())
                     for pm, held in self.relaxations]  # fmt: skip

    def additions(self, eligible: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        """Bound of ``is_open + j`` per candidate (inf where not ``eligible``)."""
        eligible = eligible & ~self.is_open
        best = np.full(self.is_open.size, -np.inf)
        for (pm, held), base in zip(self.relaxations, self.base, strict=True):
            d1, _, _ = K.assign(pm.rptr, pm.rcand, pm.rcost, self.is_open, pm.pen)
            gains = K.add_gains(pm.cptr, pm.ccell, pm.ccost, pm.w, d1, eligible)
            best = np.maximum(best, base - gains - held)
        return np.where(eligible, best, np.inf)

    def swaps(self, rules: SiteRules) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Bound of each swap (candidate in × open site out; inf where not allowed) and the
        open sites (the columns)."""
        is_open = self.is_open
        out_of = np.flatnonzero(is_open)
        bound = np.full((is_open.size, out_of.size), -np.inf)
        for (pm, held), base in zip(self.relaxations, self.base, strict=True):
            gain, loss, extra = K.swap_tables(
                pm.rptr, pm.rcand, pm.rcost, pm.w, pm.pen, is_open, rules.allowed, out_of
            )
            here = base - (gain[:, None] - loss[None, :] + extra)
            bound = np.maximum(bound, here + held[out_of][None, :] - held[:, None])
        ok = (rules.allowed & ~is_open)[:, None] & ~rules.fixed[out_of][None, :]
        if rules.use_regions:
            g = rules.region[out_of]
            count = rules.region_count(is_open)
            last = (g >= 0) & rules.required[np.maximum(g, 0)] & (count[np.maximum(g, 0)] <= 1)
            ok &= ~last[None, :] | (rules.region[:, None] == g[None, :])
        return np.where(ok, bound, np.inf), out_of

    def double_swaps(
        self, rules: SiteRules
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
        """Bound of each double swap (pairs of open sites out × pairs of closed sites in,
        see :func:`~hexaccess.optimise._kernels.double_swap_costs`), with the pairs; None
        when the instance is too large for the dense tables (:data:`DOUBLE_WORK`)."""
        is_open = self.is_open
        out_of = np.flatnonzero(is_open)
        into = np.flatnonzero(rules.allowed & ~is_open)
        p, q, n = out_of.size, into.size, self.model.w.size
        pairs = p * (p - 1) // 2 * (q * (q - 1) // 2)
        if pairs == 0 or pairs * n > DOUBLE_WORK or self.model.num_candidates * n > DOUBLE_WORK:
            return None
        count = rules.region_count(is_open)
        r1, r2 = np.triu_indices(p, 1)
        f1, f2 = np.triu_indices(q, 1)
        bound = np.full((r1.size, f1.size), -np.inf)
        for pm, held in self.relaxations:
            dense = np.broadcast_to(pm.pen, (pm.num_candidates, n)).copy()
            dense[pm.ccand, pm.ccell] = np.minimum(pm.ccost, pm.pen[pm.ccell])
            cost = K.double_swap_costs(
                dense, pm.w, pm.pen, out_of, into, ~rules.fixed, rules.region,
                rules.required, count,
            )  # fmt: skip
            kept = float(held[is_open].sum()) - held[out_of][r1] - held[out_of][r2]
            added = held[into][f1] + held[into][f2]
            bound = np.maximum(bound, cost - kept[:, None] - added[None, :])
        return bound, np.stack([out_of[r1], out_of[r2]], 1), np.stack([into[f1], into[f2]], 1)


def _in_order(bound: npt.NDArray[np.float64], below: float) -> npt.NDArray[np.int64]:
    """Flat indices of the entries of ``bound`` under ``below``, smallest first (stable)."""
    flat = bound.ravel()
    hit = np.flatnonzero(flat < below)
    return hit[np.argsort(flat[hit], kind="stable")]


def _lp_greedy(
    lp: Any, model: CostModel, rules: SiteRules, p: int, cap: Any, budget: list[int]
) -> npt.NDArray[np.bool_] | None:
    """Capacity-aware greedy: from the fixed sites (then one per required region), open
    the site whose opening lowers the capacitated cost most. Each step asks the LP about
    the candidates in order of their bound and stops once no bound beats the best found,
    so the step is exact. None (and no evaluation) when the whole greedy could take more
    than half the budget."""
    is_open = rules.fixed.copy()
    if (p - int(is_open.sum())) * int(rules.allowed.sum()) > budget[0] // 2:
        return None
    while int(is_open.sum()) < p:
        eligible = rules.allowed & ~is_open
        if rules.use_regions:
            need = rules.required & (rules.region_count(is_open) == 0)
            in_need = eligible & (rules.region >= 0) & need[np.maximum(rules.region, 0)]
            eligible = in_need if in_need.any() else eligible
        bound = _Bounds(model, is_open, lp.prices(is_open), cap).additions(eligible)
        best, best_j = np.inf, -1
        for j in _in_order(bound, np.inf):
            if bound[j] >= best - 1e-9 * max(abs(best), 1.0):
                break  # no later candidate can beat the best found
            trial = is_open.copy()
            trial[j] = True
            v = lp.value(trial)
            budget[0] -= 1
            if v < best:
                best, best_j = v, int(j)
        if best_j < 0:
            return None  # the LP failed on every candidate
        is_open[best_j] = True
    return is_open


def _lp_swaps(
    lp: Any,
    model: CostModel,
    rules: SiteRules,
    cap: npt.NDArray[np.float64],
    is_open: npt.NDArray[np.bool_],
    budget: list[int],
    best: bool = False,
) -> tuple[npt.NDArray[np.bool_], float, int]:
    """Swaps evaluated by the capacitated LP, tried in order of their Lagrangian bound
    (:class:`_Bounds`) and only while the bound beats the current cost (``best``: the
    best cost found so far, so the best swap is found exactly; else the first improving
    swap is taken), until none improves (a local optimum: every other swap is proven no
    better) or the budget runs out."""
    value = lp.value(is_open)
    swaps = 0
    while budget[0] > 0:
        tol = 1e-9 * max(abs(value), 1.0)
        bound, out_of = _Bounds(model, is_open, lp.prices(is_open), cap).swaps(rules)
        found, found_value = None, value - tol
        for flat in _in_order(bound, value - tol)[: budget[0]]:
            if best and bound.ravel()[flat] >= found_value:
                break  # sorted: no later swap can beat the best found
            f, r = divmod(int(flat), out_of.size)
            trial = is_open.copy()
            trial[out_of[r]], trial[f] = False, True
            v = lp.value(trial)
            budget[0] -= 1
            if v < found_value:
                found, found_value = trial, v
                if not best:
                    break
        if found is None:
            break
        is_open, value, swaps = found, found_value, swaps + 1
    return is_open, value, swaps


def _lp_double(
    lp: Any,
    model: CostModel,
    rules: SiteRules,
    cap: npt.NDArray[np.float64],
    is_open: npt.NDArray[np.bool_],
    value: float,
    budget: list[int],
) -> tuple[npt.NDArray[np.bool_], float] | None:
    """The first of the double swaps of least bound (at most :data:`DOUBLE_TRIES`, only
    those whose bound beats ``value``) that lowers the capacitated cost, or None. Needs
    the LP's last solve to be ``is_open`` (its prices)."""
    tables = _Bounds(model, is_open, lp.prices(is_open), cap).double_swaps(rules)
    if tables is None:
        return None
    bound, outs, ins = tables
    tol = 1e-9 * max(abs(value), 1.0)
    for flat in _in_order(bound, value - tol)[: min(DOUBLE_TRIES, budget[0])]:
        r, f = divmod(int(flat), ins.shape[0])
        trial = is_open.copy()
        trial[outs[r]], trial[ins[f]] = False, True
        v = lp.value(trial)
        budget[0] -= 1
        if v < value - tol:
            return trial, v
    return None


def _lp_descent(
    lp: Any,
    model: CostModel,
    rules: SiteRules,
    cap: npt.NDArray[np.float64],
    is_open: npt.NDArray[np.bool_],
    budget: list[int],
    thorough: bool,
) -> tuple[npt.NDArray[np.bool_], float, int]:
    """:func:`_lp_swaps` to a local optimum (first improvement); ``thorough``: best
    improvement, then a double-swap step (:func:`_lp_double`) and again, until neither
    improves."""
    is_open, value, swaps = _lp_swaps(lp, model, rules, cap, is_open, budget, thorough)
    while thorough and budget[0] > 0:
        moved = _lp_double(lp, model, rules, cap, is_open, value, budget)
        if moved is None:
            break
        is_open, value, more = _lp_swaps(lp, model, rules, cap, moved[0], budget, True)
        swaps += more + 2
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
    heuristic's sites) and a capacity-aware greedy, then swaps, then up to ``kicks``
    kicks (random swaps, then swaps; equal costs accepted, to walk plateaus); every open
    set is valued by the exact assignment LP (:class:`~hexaccess.optimise.mip.TransportLP`),
    within :data:`CAPACITY_WORK`, and the swaps are screened by Lagrangian bounds
    (:class:`_Bounds`). Returns the sites and the details (``capacity_lp_evaluations``,
    ``capacity_swaps``, ``capacity_search`` = ``'complete'``, ``'budget'`` or ``'not
    binding'``: on a large instance the capacities cost the starting sites nothing, so
    they are kept), with the LP's assignment of the sites under ``'assignment'``."""
    from hexaccess.optimise.mip import TransportLP

    lp = TransportLP(model, rules, cap, **highs)
    budget = [max(CAPACITY_WORK // max(lp.size, 1), CAPACITY_MIN_EVALUATIONS)]
    best, best_value = start.copy(), lp.value(start)
    large = (p - int(rules.fixed.sum())) * int(rules.allowed.sum()) > budget[0] // 2
    if large and best_value <= model.evaluate(start) * (1 + 1e-9) + 1e-9:
        # A large instance whose capacities cost the uncapacitated sites nothing: keep
        # them rather than spend the budget on a few swaps.
        info = {"capacity_lp_evaluations": lp.evaluations, "capacity_swaps": 0}
        return best, {**info, "capacity_search": "not binding", "assignment": lp.assignment(best)}
    greedy_open = _lp_greedy(lp, model, rules, p, cap, budget)
    if greedy_open is not None:
        v = lp.value(greedy_open)
        if v < best_value:
            best, best_value = greedy_open, v
    best, best_value, swaps = _lp_descent(lp, model, rules, cap, best, budget, True)
    best, best_value, more = _lp_kicks(lp, model, rules, cap, best, best_value, seed, kicks, budget)
    return best, {
        "capacity_lp_evaluations": lp.evaluations,
        "capacity_swaps": swaps + more,
        "capacity_search": "complete" if budget[0] > 0 else "budget",
        "assignment": lp.assignment(best),
    }


def _lp_kicks(
    lp: Any,
    model: CostModel,
    rules: SiteRules,
    cap: npt.NDArray[np.float64],
    best: npt.NDArray[np.bool_],
    best_value: float,
    seed: int | None,
    kicks: int,
    budget: list[int],
) -> tuple[npt.NDArray[np.bool_], float, int]:
    """Iterated local search on the capacitated cost: kick the current sites (one or two
    random swaps), repair with :func:`_lp_swaps`, keep the result when it is no worse;
    stops after ``kicks`` kicks, :data:`CAPACITY_STALL` without improvement, or the
    budget."""
    if not ((best & ~rules.fixed).any() and (rules.allowed & ~best).any()):
        return best, best_value, 0
    rng = np.random.default_rng(seed)
    cur, swaps, since, used = best, 0, 0, 0
    for _ in range(kicks):
        if budget[0] <= 0 or since >= CAPACITY_STALL:
            break
        used += 1
        if used % CAPACITY_RESTART_EVERY == 0:
            trial = _random_start(rules, int(cur.sum()), rng)
        else:  # one swap up to half the sites (at least three)
            trial = _kick(rules, cur, rng, int(rng.integers(1, max(3, int(cur.sum()) // 2) + 1)))
        trial, value, more = _lp_descent(lp, model, rules, cap, trial, budget, False)
        swaps += more
        tol = 1e-9 * max(abs(best_value), 1.0)
        if value < best_value - tol:
            best, best_value, since = trial, value, 0
        else:
            since += 1
        if value <= best_value + tol:
            cur = trial
    return best, best_value, swaps
