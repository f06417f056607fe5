"""What :func:`~hexaccess.optimise.optimise` is asked to solve, checked and prepared once
for every solver: the :class:`Constraints` on the sites, the :class:`SolverOptions`, the
candidate rules (:class:`SiteRules`) and the cost model the kernels work on."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.errors import InfeasibleError, InputError, UnknownNameError
from hexaccess.optimise import _kernels as K
from hexaccess.optimise.matrix import CoverageMatrix

__all__ = [
    "MAX_CANDIDATES",
    "MAX_THREADS",
    "METHODS",
    "OBJECTIVES",
    "Constraints",
    "CostModel",
    "Problem",
    "SiteRules",
    "SolverOptions",
    "check_candidate_count",
    "check_distances",
    "check_threads",
    "cost_model",
    "prepare",
    "resolve_options",
]

OBJECTIVES = ("mean-time", "coverage", "cover")
METHODS = ("auto", "heuristic", "mip")
#: Most threads a run may ask for: the engine's cap on a parallel search (the Rust core's
#: ``MAX_THREADS``); HiGHS gets the same.
MAX_THREADS = 64
#: Most candidate sites of one optimisation: the swap search keeps a candidates × sites
#: table, and the coverage matrix runs one search per candidate.
MAX_CANDIDATES = 65_535


def check_threads(value: Any, name: str = "threads") -> int | None:
    """A thread count: None (the default) or a whole number in 1..:data:`MAX_THREADS`."""
    if value is None:
        return None
    count = _whole(value, name, 1)
    if count > MAX_THREADS:
        raise InputError(
            f"{name} {count} is above the limit of {MAX_THREADS} threads; give at most "
            f"{MAX_THREADS} (or leave it out to use every core)"
        )
    return count


def check_candidate_count(count: int, source: str = "the matrix") -> None:
    """Refuse no candidates, or more than :data:`MAX_CANDIDATES`, naming ``source``."""
    if count == 0:
        raise InputError(f"{source} has no candidate sites; give at least one candidate")
    if count > MAX_CANDIDATES:
        raise InputError(
            f"{source} has {count:,} candidate sites, above the limit of {MAX_CANDIDATES:,}; "
            "use fewer (e.g. h3:RES:MIN_PEOPLE with a coarser RES or a larger MIN_PEOPLE)"
        )


# ---------------------------------------------------------------------- the two objects
def _whole(value: Any, name: str, least: int) -> int:
    """``value`` as an int ``>= least`` (whole floats accepted), else an
    :class:`~hexaccess.errors.InputError` naming ``name``."""
    whole = isinstance(value, int | np.integer) or (
        isinstance(value, float | np.floating) and float(value).is_integer()
    )
    if isinstance(value, bool) or not whole or value < least:
        raise InputError(f"{name} must be a whole number >= {least}, got {value!r}")
    return int(value)


def _is_selection(value: Any) -> bool:
    """None, a name, an index, or a 1-D sequence of names, indices or booleans."""
    if value is None or isinstance(value, str):
        return True
    try:
        return np.asarray(value).ndim <= 1
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Constraints:
    """Rules on the chosen sites, for :func:`~hexaccess.optimise.optimise` and
    :func:`~hexaccess.optimise.coverage_curve`.

    Parameters
    ----------
    fixed, forbidden
        Boolean masks, candidate indices or names. ``fixed=None`` takes the candidates'
        ``fixed`` column. A site both fixed and forbidden is an error.
    capacity
        People per site: an array (NaN = unlimited), a candidate column name, or ``True``
        for the ``capacity`` column (which must hold a number for some site). For
        ``mean-time`` and ``coverage``; exact only with the MIP (see
        :mod:`hexaccess.optimise`).
    regions, one_per_region
        Region label per candidate (array or column name; default the ``region`` column);
        with ``one_per_region`` every region that has an allowed candidate gets at least
        one site.
    """

    fixed: Any = None
    forbidden: Any = None
    capacity: Any = None
    regions: Any = None
    one_per_region: bool = False

    def __post_init__(self) -> None:
        """Check what needs no matrix (the candidates are checked by ``optimise``)."""
        for name in ("fixed", "forbidden", "regions"):
            if not _is_selection(getattr(self, name)):
                raise InputError(
                    f"Constraints.{name} must be None, a name, or a 1-D list/array of "
                    f"candidate names, indices or booleans; got {getattr(self, name)!r}"
                )
        cap = self.capacity
        if not (cap is None or isinstance(cap, bool | str) or _is_selection(cap)):
            raise InputError(
                "Constraints.capacity must be None, True (the 'capacity' column), a column "
                f"name or one value per candidate; got {cap!r}"
            )
        if not isinstance(self.one_per_region, bool | np.bool_):
            raise InputError(
                f"Constraints.one_per_region must be True or False, got {self.one_per_region!r}"
            )


@dataclass(frozen=True)
class SolverOptions:
    """How :func:`~hexaccess.optimise.optimise` solves (see :mod:`hexaccess.optimise`).

    Parameters
    ----------
    method
        ``'auto'`` (heuristic, then the MIP when it fits), ``'heuristic'`` or ``'mip'``.
    time_limit_s, mip_rel_gap, mip_max_size
        HiGHS time limit (seconds, > 0) and relative gap (>= 0); the MIP is skipped
        (``auto``) or refused (``mip``) above ``mip_max_size`` pairs (or grouped coverage
        entries).
    lagrangian_iters
        ``mean-time`` without capacities, ``auto``: subgradient iterations of the
        Lagrangian bound (relaxing the assignment constraints), which certifies national
        instances too large for the MIP; the reported bound is the best of both.
    seed, restarts
        ``restarts`` extra local searches from random starts drawn with ``seed``.
    threads
        HiGHS threads (default: its own choice), at most 64 (or the core count when
        larger).
    """

    method: str = "auto"
    time_limit_s: float = 60.0
    mip_rel_gap: float = 1e-6
    mip_max_size: int = 400_000
    lagrangian_iters: int = 600
    seed: int | None = 0
    restarts: int = 0
    threads: int | None = None

    def __post_init__(self) -> None:
        """Refuse out-of-range settings (each error names its field)."""
        if self.method not in METHODS:
            raise InputError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.seed is not None:
            _whole(self.seed, "seed", 0)
        for name in ("restarts", "mip_max_size", "lagrangian_iters"):
            _whole(getattr(self, name), name, 0)
        check_threads(self.threads)
        if not self.time_limit_s > 0:
            raise InputError(f"time_limit_s must be > 0 seconds, got {self.time_limit_s}")
        if not self.mip_rel_gap >= 0:
            raise InputError(f"mip_rel_gap must be >= 0 (a fraction), got {self.mip_rel_gap}")

    def highs(self) -> dict[str, Any]:
        """The HiGHS settings, as keywords of the MIP builders."""
        return {
            "time_limit_s": self.time_limit_s,
            "rel_gap": self.mip_rel_gap,
            "threads": self.threads,
        }


_CONSTRAINT_FIELDS = tuple(f.name for f in fields(Constraints))
_SOLVER_FIELDS = tuple(f.name for f in fields(SolverOptions))


def _one_source(caller: str, given: Any, kind: type, keywords: dict[str, Any], arg: str) -> None:
    """Refuse an object of the wrong type, and a keyword also given through the object."""
    if given is None:
        return
    if not isinstance(given, kind):
        raise InputError(f"{caller}(): {arg} must be a {kind.__name__}, got {given!r}")
    if keywords:
        name = sorted(keywords)[0]
        raise InputError(
            f"{caller}(): {name!r} is given both as a keyword and through {arg}=; give it "
            f"once, as a field of the {kind.__name__}"
        )


def resolve_options(
    caller: str,
    constraints: Constraints | None,
    solver: SolverOptions | None,
    legacy: Mapping[str, Any],
    *,
    default_solver: SolverOptions | None = None,
) -> tuple[Constraints, SolverOptions]:
    """The constraints and solver options of a call, from the objects or from the old
    keyword arguments (``fixed=``, ``method=``, ... : deprecated, kept for one release),
    never from both for one field. Unknown keywords raise
    :class:`~hexaccess.errors.UnknownNameError`."""
    unknown = sorted(set(legacy) - set(_CONSTRAINT_FIELDS) - set(_SOLVER_FIELDS))
    if unknown:
        raise UnknownNameError(
            f"{caller}() got unexpected keyword argument(s) {unknown}; constraints are "
            f"{list(_CONSTRAINT_FIELDS)} (Constraints), solver settings "
            f"{list(_SOLVER_FIELDS)} (SolverOptions)"
        )
    old_c = {k: v for k, v in legacy.items() if k in _CONSTRAINT_FIELDS}
    old_s = {k: v for k, v in legacy.items() if k in _SOLVER_FIELDS}
    _one_source(caller, constraints, Constraints, old_c, "constraints")
    _one_source(caller, solver, SolverOptions, old_s, "solver")
    if legacy:
        warnings.warn(
            f"{caller}(): the keyword arguments {sorted(legacy)} are deprecated and will be "
            "removed in the next release; pass constraints=Constraints(...) and "
            "solver=SolverOptions(...)",
            DeprecationWarning,
            stacklevel=3,
        )
    if constraints is None:
        constraints = Constraints(**old_c)
    if solver is None:
        solver = replace(default_solver or SolverOptions(), **old_s)
    return constraints, solver


# ---------------------------------------------------------------------- cost model
@dataclass(frozen=True)
class CostModel:
    """A candidate × cell cost matrix for the kernels (see :mod:`hexaccess.optimise._kernels`);
    ``ccand`` is the candidate of each by-candidate entry (``cptr`` expanded)."""

    cptr: npt.NDArray[np.int64]
    ccand: npt.NDArray[np.int64]
    ccell: npt.NDArray[np.int64]
    ccost: npt.NDArray[np.float64]
    rptr: npt.NDArray[np.int64]
    rcand: npt.NDArray[np.int64]
    rcost: npt.NDArray[np.float64]
    pen: npt.NDArray[np.float64]
    w: npt.NDArray[np.float64]
    #: The matrix entry of each by-candidate entry (None for a model built by hand).
    entry: npt.NDArray[np.int64] | None = None

    @property
    def num_candidates(self) -> int:
        """Number of candidate sites (columns of the cost matrix)."""
        return self.cptr.size - 1

    def evaluate(self, is_open: npt.NDArray[np.bool_]) -> float:
        """``Σ w_i min(pen_i, min_{j open} c_ij)``."""
        d1, _, _ = K.assign(self.rptr, self.rcand, self.rcost, is_open, self.pen)
        return float(K.objective(self.w, d1))


def check_distances(matrix: CoverageMatrix) -> None:
    """Refuse a matrix whose stored distances are not finite numbers >= 0 (a NaN would
    silently count as 'not within' any distance, a NaN sum as a missing mean), naming
    the first such entry's candidate and cell."""
    d = matrix.distance_m
    bad = np.flatnonzero(~(np.isfinite(d) & (d >= 0)))
    if bad.size == 0:
        return
    k = int(bad[0])
    j = int(np.searchsorted(matrix.indptr, k, side="right")) - 1
    i = int(matrix.cell[k])
    cell = matrix.cells["h3"].iloc[i] if "h3" in matrix.cells.columns else i
    raise InputError(
        f"the coverage matrix holds {bad.size:,} distance(s) that are not finite numbers "
        f">= 0, first {d[k]} m from candidate {matrix.candidates['name'].iloc[j]!r} to cell "
        f"{cell!r}; give distances in metres (or none: distance_m=None), or rebuild the "
        "matrix"
    )


def within_km(matrix: CoverageMatrix, km: float) -> npt.NDArray[np.bool_]:
    """Per stored entry: is the fastest path at most ``km`` long? (float64, so the solver
    and the report agree at the boundary.) Distances that are not numbers are refused
    (:func:`check_distances`)."""
    check_distances(matrix)
    return matrix.distance_m.astype(np.float64) <= km * 1000.0


def cost_model(
    matrix: CoverageMatrix,
    kind: str,
    w: npt.NDArray[np.float64],
    threshold_units: int = 0,
    threshold_km: float | None = None,
) -> CostModel:
    """Costs of ``kind`` ``'time'`` (travel time in units, fallback = the cutoff) or
    ``'cover'`` (0 if time ``< threshold_units`` — or, with ``threshold_km``, if the
    fastest path is at most that long, :func:`within_km` — fallback 1)."""
    n = matrix.num_cells
    rows = np.repeat(np.arange(matrix.num_candidates, dtype=np.int64), np.diff(matrix.indptr))
    t = matrix.time.astype(np.int64)
    if kind == "time":
        pen_value = float(matrix.cutoff_units)
        keep = t < matrix.cutoff_units
        cost = t[keep].astype(np.float64)
    elif kind == "cover":
        pen_value = 1.0
        keep = t < threshold_units if threshold_km is None else within_km(matrix, threshold_km)
        cost = np.zeros(int(keep.sum()))
    else:  # pragma: no cover - internal
        raise ValueError(kind)
    cand, cell = rows[keep], matrix.cell[keep].astype(np.int64)
    cptr = np.zeros(matrix.num_candidates + 1, dtype=np.int64)
    np.cumsum(np.bincount(cand, minlength=matrix.num_candidates), out=cptr[1:])
    rptr, rcand, rcost, _ = K.transpose_sorted(cptr, cell, cost, n)
    return CostModel(
        cptr,
        cand,
        cell,
        cost,
        rptr,
        rcand,
        rcost,
        np.full(n, pen_value),
        np.ascontiguousarray(w, dtype=np.float64),
        np.flatnonzero(keep).astype(np.int64),
    )


# ---------------------------------------------------------------------- site rules
@dataclass
class SiteRules:
    """The constraints resolved against the candidates: which sites are pinned, which may
    open, and the at-least-one-per-region rule."""

    fixed: npt.NDArray[np.bool_]
    allowed: npt.NDArray[np.bool_]  # may be open: not forbidden (fixed included)
    region: npt.NDArray[np.int64]  # -1 = none / rule off
    required: npt.NDArray[np.bool_]  # per region: must hold an open site
    use_regions: bool
    needed: npt.NDArray[np.bool_] = field(init=False)  # required, and no fixed site there

    def __post_init__(self) -> None:
        self.needed = self.required.copy()
        if self.use_regions:
            self.needed[self.region[self.fixed & (self.region >= 0)]] = False

    def region_count(self, is_open: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        """Open sites per region (empty when the rule is off)."""
        if not self.use_regions:
            return np.zeros(0, np.int64)
        r = self.region[is_open & (self.region >= 0)]
        return np.bincount(r, minlength=self.required.size).astype(np.int64)

    def min_sites(self) -> int:
        """Fixed sites plus one per required region that no fixed site covers."""
        return int(self.fixed.sum()) + int(self.needed.sum())


def _mask(
    matrix: CoverageMatrix, sel: Any, what: str, default: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.bool_]:
    """A candidate mask from None / bool mask / indices / names."""
    m = matrix.num_candidates
    if sel is None:
        return np.zeros(m, bool) if default is None else default.copy()
    arr = np.asarray(sel)
    if arr.dtype == bool:
        if arr.shape != (m,):
            raise InputError(f"{what} mask has shape {arr.shape}; expected ({m},)")
        return arr.copy()
    out = np.zeros(m, bool)
    if arr.size == 0:
        return out
    if np.issubdtype(arr.dtype, np.integer):
        if arr.min() < 0 or arr.max() >= m:
            raise InputError(f"{what}: candidate indices must be in 0..{m - 1}")
        out[arr] = True
        return out
    out[matrix.candidate_index([str(x) for x in arr.ravel()])] = True
    return out


def _regions(matrix: CoverageMatrix, regions: Any) -> tuple[npt.NDArray[np.int64], list[Any]]:
    """Region code per candidate (-1 = none) and the region labels."""
    if isinstance(regions, str):
        if regions not in matrix.candidates.columns:
            raise UnknownNameError(
                f"no candidate column {regions!r} for regions; have "
                f"{list(matrix.candidates.columns)}"
            )
        regions = matrix.candidates[regions].to_numpy()
    lab = pd.Series(np.asarray(regions, dtype=object))
    if len(lab) != matrix.num_candidates:
        raise InputError(f"{len(lab)} region labels for {matrix.num_candidates} candidates")
    codes, uniques = pd.factorize(lab, sort=True)
    return codes.astype(np.int64), list(uniques)


def _capacity_column(matrix: CoverageMatrix, column: str) -> npt.NDArray[np.float64]:
    """The candidates' capacity column as floats (empty = NaN = unlimited); a column that
    is missing, not numeric or empty for every candidate is an error naming it."""
    cand = matrix.candidates
    if column not in cand.columns:
        raise UnknownNameError(
            f"no candidate column {column!r} for capacities; have {list(cand.columns)}: add "
            f"a {column!r} column (people per office) to the candidates, or drop the capacities"
        )
    values = pd.to_numeric(cand[column], errors="coerce").to_numpy(dtype=np.float64)
    text = np.flatnonzero(np.isnan(values) & cand[column].notna().to_numpy())
    if text.size:
        j = int(text[0])
        raise InputError(
            f"capacity column {column!r}: candidate {cand['name'].iloc[j]!r} (row {j}) holds "
            f"{cand[column].iloc[j]!r}, not a number of people; leave it empty for unlimited"
        )
    if np.all(np.isnan(values)):
        raise InputError(
            f"capacity column {column!r} is empty for all {len(cand)} candidates, so "
            "capacities would constrain nothing; fill it in (people per office) or drop "
            "the capacities"
        )
    return values


def capacities(matrix: CoverageMatrix, capacity: Any) -> npt.NDArray[np.float64] | None:
    """People per candidate (NaN or inf = unlimited), or None without capacities. A column
    (``True`` = ``'capacity'``) must exist and hold a number for some candidate; values
    must be >= 0 (the error names the candidate)."""
    if capacity is None or capacity is False:
        return None
    if capacity is True:
        capacity = "capacity"
    if isinstance(capacity, str):
        cap = _capacity_column(matrix, capacity)
    else:
        try:
            cap = np.asarray(capacity, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(
                f"capacity must hold numbers of people (NaN = unlimited), got {capacity!r}"
            ) from None
    if cap.shape != (matrix.num_candidates,):
        raise InputError(
            f"capacity needs one value per candidate ({matrix.num_candidates}), got shape "
            f"{cap.shape}"
        )
    bad = np.flatnonzero(cap < 0)
    if bad.size:
        j = int(bad[0])
        raise InputError(
            f"capacities must be >= 0 people (NaN = unlimited); candidate "
            f"{matrix.candidates['name'].iloc[j]!r} (index {j}) has {cap[j]:g}"
        )
    if np.all(np.isnan(cap)):
        warnings.warn(
            "every capacity is NaN (unlimited): the capacities constrain nothing",
            stacklevel=3,
        )
        return None
    zero = np.flatnonzero(cap == 0)
    if zero.size:
        names = matrix.candidates["name"].to_numpy()[zero][:5].tolist()
        warnings.warn(
            f"{zero.size} candidate(s) have capacity 0 ({names}{' ...' if zero.size > 5 else ''}):"
            " a site chosen there serves nobody but counts as one of the sites; forbid them "
            "if they must not be chosen, or give their capacity",
            stacklevel=3,
        )
    return cap


def site_rules(matrix: CoverageMatrix, constraints: Constraints) -> SiteRules:
    """Fixed, forbidden and region rules resolved against the matrix's candidates."""
    default_fixed = (
        matrix.candidates["fixed"].to_numpy(dtype=bool)
        if "fixed" in matrix.candidates.columns
        else None
    )
    fixed_m = _mask(matrix, constraints.fixed, "fixed", default_fixed)
    forbidden_m = _mask(matrix, constraints.forbidden, "forbidden")
    both = fixed_m & forbidden_m
    if both.any():
        names = matrix.candidates["name"].to_numpy()[both][:5].tolist()
        raise InfeasibleError(f"site(s) both fixed and forbidden: {names}")
    allowed = ~forbidden_m
    if not constraints.one_per_region:
        return SiteRules(fixed_m, allowed, np.full(matrix.num_candidates, -1, np.int64),
                         np.zeros(0, bool), False)  # fmt: skip
    regions = "region" if constraints.regions is None else constraints.regions
    region, labels = _regions(matrix, regions)
    required = np.zeros(len(labels), bool)
    required[region[allowed & (region >= 0)]] = True
    return SiteRules(fixed_m, allowed, region, required, True)


# ---------------------------------------------------------------------- sizes, thresholds
def threshold_units(
    matrix: CoverageMatrix, objective: str, threshold_min: float | None, threshold_km: float | None
) -> int | None:
    """The time threshold in matrix units (None without ``threshold_min``), after checking
    the thresholds the objective needs (``mean-time`` only reports coverage with it)."""
    if objective in ("coverage", "cover") and (threshold_min is None) == (threshold_km is None):
        raise InputError(
            f"objective {objective!r} needs threshold_min (minutes) or threshold_km, exactly one"
        )
    if threshold_min is not None and threshold_km is not None:
        raise InputError(
            f"objective {objective!r}: give threshold_min (minutes) or threshold_km for the "
            "reported coverage, not both"
        )
    if threshold_km is not None and not threshold_km > 0:
        raise InputError(f"threshold_km must be > 0, got {threshold_km}")
    if threshold_min is None:
        return None
    if not 0 < threshold_min * 60.0 <= matrix.cutoff_s + 1e-9:
        raise InputError(
            f"threshold_min={threshold_min} must be > 0 and within the matrix cutoff "
            f"({matrix.cutoff_s / 60:g} min)"
        )
    return int(np.ceil(threshold_min * 60.0 / matrix.time_unit_s - 1e-9))


def sites_wanted(rules: SiteRules, total: Any, add: Any) -> int:
    """``p`` from ``total`` or ``add`` (exactly one), checked against the fixed sites, the
    regions and the allowed candidates."""
    nfixed = int(rules.fixed.sum())
    if total is None and add is None:
        raise InputError("give total (sites in all) or add (sites beyond the fixed ones)")
    if total is not None and add is not None:
        raise InputError("give total or add, not both")
    if total is not None:
        p, asked = _whole(total, "total", 1), f"total={total}"
    else:
        p, asked = nfixed + _whole(add, "add", 0), f"add={add} (+{nfixed} fixed)"
        if p == 0:
            raise InputError("add=0 without fixed sites opens nothing; give add >= 1")
    if p < rules.min_sites():
        raise InfeasibleError(
            f"{asked}: {p} sites cannot hold the {nfixed} fixed sites"
            + (" and one per region" if rules.use_regions else "")
            + f" (at least {rules.min_sites()} needed)"
        )
    allowed = int(rules.allowed.sum())
    if p > allowed:
        raise InfeasibleError(
            f"{asked}: {p} sites asked but only {allowed} candidates are allowed (not forbidden)"
        )
    return p


# ---------------------------------------------------------------------- the problem
@dataclass
class Problem:
    """One optimisation, checked and ready for the solvers: ``p`` is None for ``cover``,
    ``threshold_units`` None without a time threshold, ``km`` the distance threshold of
    ``coverage``/``cover`` (None for ``mean-time``)."""

    matrix: CoverageMatrix
    objective: str
    w: npt.NDArray[np.float64]
    rules: SiteRules
    capacity: npt.NDArray[np.float64] | None
    p: int | None
    threshold_units: int | None
    km: float | None
    cover_pct: float
    model: CostModel
    #: ``mean-time`` with ``threshold_km``: the distance within which coverage is reported.
    report_km: float | None = None

    @property
    def total_w(self) -> float:
        """All people (the weights' sum)."""
        return float(self.w.sum())

    def base_details(self) -> dict[str, Any]:
        """The first entries of ``OptimiseResult.details``."""
        return {
            "time_unit_s": self.matrix.time_unit_s,
            "cutoff_min": self.matrix.cutoff_s / 60,
            "threshold_km": self.km if self.km is not None else self.report_km,
        }


def prepare(
    matrix: CoverageMatrix,
    objective: str,
    constraints: Constraints,
    *,
    total: Any,
    add: Any,
    threshold_min: float | None,
    threshold_km: float | None,
    cover_pct: float,
    column: str | None,
) -> Problem:
    """Check every argument against the matrix, then build the cost model (the slow
    step comes last, so a mistake is reported at once)."""
    if objective not in OBJECTIVES:
        raise InputError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    check_candidate_count(matrix.num_candidates)
    w = matrix.weights(column)
    rules = site_rules(matrix, constraints)
    cap = capacities(matrix, constraints.capacity)
    if cap is not None and objective == "cover":
        raise InputError(
            "capacities apply to the objectives mean-time and coverage, not cover (the fewest "
            "sites); drop the capacities or choose another objective"
        )
    units = threshold_units(matrix, objective, threshold_min, threshold_km)
    p = None
    if objective == "cover":
        if not 0 < cover_pct <= 100:
            raise InputError(f"cover_pct must be in (0, 100], got {cover_pct}")
    else:
        p = sites_wanted(rules, total, add)
    kind = "time" if objective == "mean-time" else "cover"
    km = None if kind == "time" else threshold_km
    model = cost_model(matrix, kind, w, units or 0, km)
    report_km = threshold_km if kind == "time" else None
    return Problem(matrix, objective, w, rules, cap, p, units, km, cover_pct, model, report_km)
