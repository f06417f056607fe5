"""Calibrate a speed profile so that our travel-time bands match a reference study.

:func:`calibrate` searches the profile's free parameters, each within bounds, to minimise

    sum over the reference's bands of (our share − reference share)²   [pp²]
    + mean_weight × (our mean time − reference mean time)²             [min², if given]

with a derivative-free optimiser (scipy's bounded Powell search, on parameters scaled to
[0, 1]). Shares are of all people, unreachable included, in the reference's bands.

Free parameters and their default bounds — physically sensible ranges, documented so
that a fit cannot "win" with an absurd model:

===================================  ===============================================
``terminal_time_s``                  0–600 s: parking and walking at both ends of a
                                     trip (0 = door to door; 10 min is a large car park)
``access.speed_kmh``                 10–50 km/h (car; walk 2–6, bike 8–25): the leg on
                                     local streets the road map omits
``urban_slowdown.factors[i]``        0.3–1.0 for every density class whose initial
                                     factor is below 1 (0.3 × a 60 km/h class ≈ 18
                                     km/h, a congested city-centre average); factors
                                     are kept non-increasing with density (denser is
                                     never faster)
``speeds_kmh.<column>.<class>``      ±20 % of the profile's speed for every class the
                                     network uses, clipped to the mode's legal range
                                     (car 5–130 km/h)
===================================  ===============================================

Bounds can be changed or parameters added with ``bounds={key: (low, high)}`` and held
fixed with ``fixed=[key, ...]``; every bound is also clipped to the profile's validation
ranges (:mod:`hexaccess.profiles`).

Each evaluation changes only arc *times*: the graph's topology, the cells' and offices'
connections and the density class of every edge are computed once
(:class:`FastEvaluator`), so an evaluation is one CSR build plus one histogram search
(tens of milliseconds for Finland), instead of rebuilding the study graph.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.accessibility import build_access_graph, check_office_indices, density_lookup
from hexaccess.analysis import band_labels
from hexaccess.graph import Graph
from hexaccess.network import RoadNetwork
from hexaccess.offices import Offices
from hexaccess.population import PopulationGrid
from hexaccess.profiles import SPEED_BOUNDS_KMH, TERMINAL_BOUNDS_S, SpeedProfile, _class_key
from hexaccess.results import BandHistogram

__all__ = [
    "CalibrationError",
    "CalibrationResult",
    "FastEvaluator",
    "Parameter",
    "calibrate",
    "check_search_settings",
    "default_parameters",
    "read_reference",
]

#: Default bounds (see the module docstring).
TERMINAL_RANGE_S = (0.0, 600.0)
ACCESS_SPEED_RANGE_KMH = {"car": (10.0, 50.0), "walk": (2.0, 6.0), "bike": (8.0, 25.0)}
URBAN_FACTOR_RANGE = (0.3, 1.0)
CLASS_SPEED_SPAN = 0.20
#: Shares of a reference table must sum to 100 % within this many percentage points.
REFERENCE_SUM_TOLERANCE_PP = 1.0


class CalibrationError(ValueError):
    """Bad calibration input: a reference table, a parameter key or bound."""


# ------------------------------------------------------------------ reference
def read_reference(
    reference: str | Path | pd.DataFrame, tolerance_pp: float = REFERENCE_SUM_TOLERANCE_PP
) -> pd.DataFrame:
    """Read and check a reference band table (``bands.csv`` columns).

    Needs ``band_start_min, band_end_min`` and ``share_pct`` (or ``population``, from
    which shares are computed). Rows without band edges (e.g. an ``unreachable`` row) are
    left out. Bands must start at 0, be contiguous with positive width and end finitely;
    every share must be a number >= 0 and the shares must sum to 100 % within
    ``tolerance_pp``. Messages name the file and the line (or the table's row). Returns
    the table with ``band_start_min, band_end_min, share_pct``.
    """
    if isinstance(reference, pd.DataFrame):
        source = "reference table"
        df = reference.reset_index(drop=True)

        def where(i: int) -> str:
            return f"row {i}"

    else:
        source = str(reference)
        try:
            df = pd.read_csv(reference)
        except pd.errors.EmptyDataError:
            raise CalibrationError(
                f"{source}: the file is empty; a reference band table needs a header line "
                "band_start_min,band_end_min,share_pct and one line per band"
            ) from None
        except pd.errors.ParserError as exc:
            raise CalibrationError(f"{source}: not a readable CSV table: {exc}") from None

        def where(i: int) -> str:
            return f"line {i + 2}"  # header = line 1

    missing = [c for c in ("band_start_min", "band_end_min") if c not in df.columns]
    if missing or not ({"share_pct", "population"} & set(df.columns)):
        raise CalibrationError(
            f"{source}: a reference band table needs band_start_min, band_end_min and "
            f"share_pct (or population); found {list(df.columns)}"
        )
    value_column = "share_pct" if "share_pct" in df.columns else "population"
    numbers = {}
    for col in ("band_start_min", "band_end_min", value_column):
        raw = df[col]
        num = pd.to_numeric(raw, errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy() & raw.notna().to_numpy())
        if bad.size:
            i = int(bad[0])
            raise CalibrationError(
                f"{source}: {where(i)}: {col} {raw.iloc[i]!r} is not a number; give plain "
                "numbers (e.g. 40, not '40 %')"
            )
        numbers[col] = num.to_numpy(dtype=float)
    rows = np.flatnonzero(
        ~(np.isnan(numbers["band_start_min"]) | np.isnan(numbers["band_end_min"]))
    )
    if rows.size == 0:
        raise CalibrationError(
            f"{source}: no bands (no row has both band_start_min and band_end_min)"
        )
    start = numbers["band_start_min"][rows]
    end = numbers["band_end_min"][rows]
    if start[0] != 0 or (end <= start).any() or (start[1:] != end[:-1]).any():
        raise CalibrationError(
            f"{source}: bands must start at 0 minutes and be contiguous with positive width"
        )
    if not np.isfinite(end).all():
        raise CalibrationError(f"{source}: band ends must be finite (no open last band)")
    values = numbers[value_column][rows]
    labels = band_labels(start, end)
    for i, (v, label) in enumerate(zip(values, labels, strict=True)):
        if np.isnan(v) or v < 0:
            problem = "is missing" if np.isnan(v) else f"{v:g} is negative"
            raise CalibrationError(
                f"{source}: {where(int(rows[i]))} (band {label} min): {value_column} {problem}; "
                "every band needs a share >= 0"
            )
    if value_column == "share_pct":
        share = values
    else:
        people = float(values.sum())
        if not people > 0:
            raise CalibrationError(
                f"{source}: the population column totals {people:g} people; give the people "
                "per band (or share_pct)"
            )
        share = values / people * 100.0
    total = float(share.sum())
    if not abs(total - 100.0) <= tolerance_pp:
        raise CalibrationError(
            f"{source}: reference shares sum to {total:.3f} %, not ~100 % (tolerance "
            f"{tolerance_pp} pp); give the whole population's table in percent"
        )
    return pd.DataFrame({"band_start_min": start, "band_end_min": end, "share_pct": share})


def check_search_settings(
    reference_mean_time_min: float | None = None,
    mean_weight: float = 1.0,
    max_evaluations: int = 400,
) -> None:
    """Refuse settings of :func:`calibrate` that cannot give a meaningful fit (checked
    before any input is read): a reference mean time that is not a finite number > 0,
    a mean weight that is not finite and >= 0 (a negative weight would reward a larger
    error), a search budget below one evaluation."""
    if reference_mean_time_min is not None and not (
        _is_number(reference_mean_time_min)
        and math.isfinite(reference_mean_time_min)
        and reference_mean_time_min > 0
    ):
        raise CalibrationError(
            "the reference mean travel time must be a finite number of minutes > 0, got "
            f"{reference_mean_time_min!r}"
        )
    if not (_is_number(mean_weight) and math.isfinite(mean_weight) and mean_weight >= 0):
        raise CalibrationError(
            f"the weight of the mean-time term must be finite and >= 0, got {mean_weight!r}"
        )
    if (
        isinstance(max_evaluations, bool)
        or not isinstance(max_evaluations, (int, np.integer))
        or max_evaluations < 1
    ):
        raise CalibrationError(
            f"max_evaluations must be a whole number >= 1, got {max_evaluations!r}"
        )


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


# ----------------------------------------------------------------- parameters
@dataclass(frozen=True)
class Parameter:
    """One free parameter: a profile key, its bounds and its starting value.

    Keys: ``terminal_time_s``, ``access.speed_kmh``, ``urban_slowdown.factors[i]``,
    ``speeds_kmh.<column>.<class>``.
    """

    key: str
    low: float
    high: float
    initial: float

    def clip(self, value: float) -> float:
        return float(min(max(value, self.low), self.high))


def _get(profile: SpeedProfile, key: str) -> float:
    if key == "terminal_time_s":
        return float(profile.terminal_time_s)
    if key == "access.speed_kmh":
        return float(profile.access_speed_kmh)
    if key.startswith("urban_slowdown.factors[") and key.endswith("]"):
        i = int(key[len("urban_slowdown.factors[") : -1])
        if not 0 <= i < len(profile.urban_factors):
            raise CalibrationError(f"{key}: the profile has {len(profile.urban_factors)} factors")
        return float(profile.urban_factors[i])
    if key.startswith("speeds_kmh."):
        parts = key.split(".", 2)
        if len(parts) == 3 and parts[2] in profile.class_speeds_kmh.get(parts[1], {}):
            return float(profile.class_speeds_kmh[parts[1]][parts[2]])
    raise CalibrationError(
        f"unknown calibration parameter {key!r}; use terminal_time_s, access.speed_kmh, "
        "urban_slowdown.factors[i] or speeds_kmh.<column>.<class> of the profile"
    )


def _legal(profile: SpeedProfile, key: str) -> tuple[float, float]:
    """The profile's validation range for a key (bounds are clipped to it)."""
    if key == "terminal_time_s":
        return TERMINAL_BOUNDS_S
    if key.startswith("urban_slowdown"):
        return (1e-3, 1.0)
    return SPEED_BOUNDS_KMH[profile.mode]


def default_parameters(
    profile: SpeedProfile,
    network: RoadNetwork | None = None,
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    fixed: Sequence[str] = (),
) -> list[Parameter]:
    """The default free parameters (module docstring), with ``bounds`` overriding or
    adding keys and ``fixed`` removing them. Only class speeds the network uses are free.
    """
    ranges: dict[str, tuple[float, float]] = {
        "terminal_time_s": TERMINAL_RANGE_S,
        "access.speed_kmh": ACCESS_SPEED_RANGE_KMH[profile.mode],
    }
    for i, f in enumerate(profile.urban_factors):
        if f < 1.0:
            ranges[f"urban_slowdown.factors[{i}]"] = URBAN_FACTOR_RANGE
    if network is not None:
        used = {_class_key(v) for v in np.unique(network.road_class[~network.ferry])}
        table = profile.class_speeds_kmh.get(network.class_column, {})
        for cls in sorted(used & set(table)):
            v = float(table[cls])
            ranges[f"speeds_kmh.{network.class_column}.{cls}"] = (
                v * (1 - CLASS_SPEED_SPAN),
                v * (1 + CLASS_SPEED_SPAN),
            )
    for key, (lo, hi) in (bounds or {}).items():
        _get(profile, key)  # validates the key
        if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
            raise CalibrationError(f"bounds of {key}: need finite low <= high, got {lo}, {hi}")
        ranges[key] = (float(lo), float(hi))
    for key in fixed:
        _get(profile, key)
        ranges.pop(key, None)
    out = []
    for key, (lo, hi) in ranges.items():
        legal = _legal(profile, key)
        lo, hi = max(lo, legal[0]), min(hi, legal[1])
        if lo > hi:
            raise CalibrationError(f"bounds of {key} lie outside the legal range {legal}")
        out.append(Parameter(key, lo, hi, float(min(max(_get(profile, key), lo), hi))))
    return out


def apply_parameters(
    profile: SpeedProfile, params: Sequence[Parameter], values: Sequence[float]
) -> SpeedProfile:
    """The profile with parameter values set (urban factors made non-increasing)."""
    factors = list(profile.urban_factors)
    speeds = {s: dict(t) for s, t in profile.class_speeds_kmh.items()}
    over: dict[str, Any] = {}
    for p, v in zip(params, values, strict=True):
        v = p.clip(float(v))
        if p.key == "terminal_time_s":
            over["terminal_time_s"] = v
        elif p.key == "access.speed_kmh":
            over["access_speed_kmh"] = v
        elif p.key.startswith("urban_slowdown.factors["):
            factors[int(p.key[len("urban_slowdown.factors[") : -1])] = v
        else:
            _, scheme, cls = p.key.split(".", 2)
            speeds[scheme][cls] = v
    # Denser areas are never faster: a factor may not exceed the one before it.
    over["urban_factors"] = tuple(np.minimum.accumulate(np.asarray(factors, float)).tolist())
    over["class_speeds_kmh"] = speeds
    return profile.with_overrides(**over)


# ------------------------------------------------------------------ evaluator
class FastEvaluator:
    """Re-solve a study for many profiles, changing only arc times.

    Built once from a network *as read* (no urban slowdown applied), the population and
    the offices: topology, connections and each edge's density class are fixed; the
    times of road arcs (class speed × urban factor), access legs (access speed) and the
    terminal time (start offset) follow the profile. Ferry edges keep their read times.
    """

    def __init__(
        self,
        network: RoadNetwork,
        population: PopulationGrid,
        offices: Offices,
        profile: SpeedProfile,
        column: str = "total",
        *,
        office_indices: npt.ArrayLike | None = None,
        backend: str = "auto",
    ) -> None:
        if "slowdown_factor" in network.meta:
            raise CalibrationError(
                "give the network as read: the urban slowdown is a calibrated parameter"
            )
        if column not in population.columns:
            raise CalibrationError(
                f"unknown population column {column!r}; the grid has {population.columns}"
            )
        self.office_indices = check_office_indices(offices, office_indices)
        self.network = network
        self.column = column
        self.backend = backend
        access = build_access_graph(
            network, population, offices, profile, urban_slowdown=False, backend=backend
        )
        self.access = access
        tail, head, _, length, ids = network.to_edge_arrays(
            both_directions=True, return_edge_ids=True
        )
        self._ids = ids
        # Fixed per edge, computed once: the road class (as a code into the class keys)
        # and the density class (index into the urban factors, for these thresholds).
        keys = np.array([_class_key(v) for v in network.road_class], dtype=object)
        self._class_keys, self._class_code = np.unique(keys.astype(str), return_inverse=True)
        self._class_code = self._class_code.reshape(-1)
        self._road = ~network.ferry
        density = density_lookup(population, network.crs)(network.mid_x, network.mid_y)
        self._density = np.asarray(density, dtype=float)
        self._thresholds = tuple(profile.urban_density_thresholds)
        self._density_class = np.searchsorted(
            np.asarray(self._thresholds, dtype=float), self._density, side="right"
        )
        self._no_density = np.isnan(self._density)
        cells, offs = access.cell_connection, access.office_connection
        ok = cells["connected"].to_numpy()
        self._cell_len = cells["access_length_m"].to_numpy()[ok]
        self._office_len = offs["access_length_m"].to_numpy()
        self._tail = np.concatenate([head, cells["node"].to_numpy()[ok], access.office_node])
        self._head = np.concatenate([tail, access.cell_node[ok], offs["node"].to_numpy()])
        self._len = np.concatenate([length, self._cell_len, self._office_len])
        self._weights = access.weights([column])
        people = float(self._weights[:, 0].sum())
        if not people > 0:
            raise CalibrationError(
                f"population column {column!r} totals {people:g} people: shares of nobody "
                "cannot be fitted; choose a populated column"
            )
        self.evaluations = 0

    def edge_times(self, profile: SpeedProfile) -> npt.NDArray[np.float64]:
        """Per road edge: class speed time, divided by the urban factor (not ferries);
        the same arithmetic as reading the roads and applying the slowdown."""
        net = self.network
        table = profile.class_speeds_kmh[net.class_column]
        # Speed per class key (NaN for a class the table lacks), then per edge.
        by_class = np.array([table.get(k, np.nan) for k in self._class_keys], dtype=float)
        speed = by_class[self._class_code]
        t = net.time_s.copy()
        road = self._road
        t[road] = net.length_m[road] / (speed[road] / 3.6)
        if len(profile.urban_factors) and min(profile.urban_factors) < 1.0:
            if tuple(profile.urban_density_thresholds) == self._thresholds:
                # profile.slowdown_factor with the density classes computed once.
                f = np.asarray(profile.urban_factors, dtype=np.float64)[self._density_class]
                f = np.where(self._no_density, 1.0, f)
            else:
                f = profile.slowdown_factor(self._density)
            t = t / np.where(road, f, 1.0)
        return t

    def graph(self, profile: SpeedProfile) -> Graph:
        """The study graph with the profile's arc times."""
        v = profile.access_speed_kmh / 3.6
        times = np.concatenate(
            [self.edge_times(profile)[self._ids], self._cell_len / v, self._office_len / v]
        )
        return Graph.from_edges(
            self._tail,
            self._head,
            times,
            self._len,
            num_nodes=self.access.graph.num_nodes,
            backend=self.backend,
        )

    def histogram(
        self, profile: SpeedProfile, band_edges_s: npt.ArrayLike | None = None
    ) -> BandHistogram:
        """Population-weighted bands for the profile (one search)."""
        self.evaluations += 1
        sources = self.access.office_node[self.office_indices]
        offsets = np.full(sources.size, float(profile.terminal_time_s))
        return self.graph(profile).band_histogram(
            sources,
            self._weights,
            band_edges_s=band_edges_s,
            offsets_s=offsets,
            columns=[self.column],
        )


# ---------------------------------------------------------------- calibration
@dataclass
class CalibrationResult:
    """Outcome of :func:`calibrate`.

    ``table`` (``calibration.csv``): per reference band ``reference_pct, before_pct,
    after_pct, before_diff_pp, after_diff_pp``; ``parameters``: ``key, low, high,
    initial, fitted``; ``profile``: the fitted profile.
    """

    profile: SpeedProfile
    initial_profile: SpeedProfile
    table: pd.DataFrame
    parameters: pd.DataFrame
    objective_before: float
    objective_after: float
    mean_time_before_min: float
    mean_time_after_min: float
    reference_mean_time_min: float | None
    evaluations: int
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def max_abs_diff_pp(self) -> float:
        """Largest per-band difference after calibration, percentage points."""
        return float(self.table["after_diff_pp"].abs().max())

    def write(self, out: str | Path) -> dict[str, Path]:
        """Write ``profile.toml``, ``calibration.csv``, ``calibration.json`` and
        ``calibration.png`` into ``out``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "profile": out / "profile.toml",
            "table": out / "calibration.csv",
            "json": out / "calibration.json",
            "plot": out / "calibration.png",
        }
        self.profile.to_toml(paths["profile"])
        self.table.to_csv(paths["table"], index=False)
        doc = {
            "objective_before": self.objective_before,
            "objective_after": self.objective_after,
            "max_abs_diff_pp_before": float(self.table["before_diff_pp"].abs().max()),
            "max_abs_diff_pp_after": self.max_abs_diff_pp,
            "mean_time_before_min": self.mean_time_before_min,
            "mean_time_after_min": self.mean_time_after_min,
            "reference_mean_time_min": self.reference_mean_time_min,
            "evaluations": self.evaluations,
            "seconds": self.seconds,
            "parameters": self.parameters.to_dict(orient="records"),
            **self.info,
        }
        paths["json"].write_text(json.dumps(doc, indent=2, default=str) + "\n")
        fig = self.plot()
        fig.savefig(paths["plot"], dpi=110, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        return paths

    def plot(self) -> Any:
        """Bars: reference, before and after shares per band (every reference band)."""
        from hexaccess.report import band_chart

        t = self.table
        edges = t[["band_start_min", "band_end_min"]]
        series = {
            label: edges.assign(share_pct=t[col])
            for col, label in (
                ("reference_pct", "reference"),
                ("before_pct", "before"),
                ("after_pct", "after"),
            )
        }
        return band_chart(
            series,
            title=f"calibration: max |diff| {t.before_diff_pp.abs().max():.2f} → "
            f"{self.max_abs_diff_pp:.2f} pp",
            trim_tail=False,
        )


def _shares(hist: BandHistogram, n: int) -> npt.NDArray[np.float64]:
    """Shares (pp of everyone) of the first ``n`` bands."""
    total = hist.total(0)
    return hist.counts[:n, 0] / total * 100.0


def calibrate(
    network: RoadNetwork,
    population: PopulationGrid,
    offices: Offices,
    reference: str | Path | pd.DataFrame,
    profile: SpeedProfile | None = None,
    *,
    column: str = "total",
    parameters: Sequence[Parameter] | None = None,
    reference_mean_time_min: float | None = None,
    mean_weight: float = 1.0,
    max_evaluations: int = 400,
    office_indices: npt.ArrayLike | None = None,
    backend: str = "auto",
    progress: Callable[[int, float], None] | None = None,
    evaluator: FastEvaluator | None = None,
    reference_tolerance_pp: float = REFERENCE_SUM_TOLERANCE_PP,
) -> CalibrationResult:
    """Fit the profile's free parameters to a reference band table (module docstring).

    ``network`` must be as read (no urban slowdown). ``parameters`` default to
    :func:`default_parameters`. ``progress(evaluations, best objective)`` is called
    after each evaluation. ``reference_tolerance_pp`` relaxes the check that the
    reference shares sum to 100 % (only for a reference that deliberately covers part of
    the population, e.g. when the rest is unreachable).
    """
    t0 = time.perf_counter()
    check_search_settings(reference_mean_time_min, mean_weight, max_evaluations)
    if evaluator is not None:
        # The evaluator fixes the study: refuse arguments that say otherwise.
        if evaluator.column != column:
            raise CalibrationError(
                f"column {column!r} differs from the evaluator's column {evaluator.column!r}; "
                "pass the same column (or build the evaluator with this one)"
            )
        if office_indices is not None and not np.array_equal(
            np.asarray(office_indices), evaluator.office_indices
        ):
            raise CalibrationError(
                "office_indices differ from the evaluator's office set; pass the same "
                "offices (or build the evaluator with these)"
            )
    ref = read_reference(reference, reference_tolerance_pp)
    profile = profile or network.profile
    ev = evaluator or FastEvaluator(
        network,
        population,
        offices,
        profile,
        column,
        office_indices=office_indices,
        backend=backend,
    )
    params = list(parameters) if parameters is not None else default_parameters(profile, network)
    edges = np.append(ref["band_start_min"].to_numpy(), ref["band_end_min"].iloc[-1]) * 60.0
    target = ref["share_pct"].to_numpy()
    n = len(target)

    def loss(hist: BandHistogram) -> float:
        value = float(((_shares(hist, n) - target) ** 2).sum())
        if reference_mean_time_min is not None:
            value += mean_weight * (hist.mean_time_s(0) / 60.0 - reference_mean_time_min) ** 2
        return value

    lo = np.array([p.low for p in params])
    span = np.array([p.high - p.low for p in params])
    span_safe = np.where(span > 0, span, 1.0)
    best: dict[str, Any] = {"f": math.inf, "z": None, "values": None, "hist": None}
    last: dict[str, BandHistogram] = {}

    def evaluate(z: npt.NDArray[np.float64], values: npt.NDArray[np.float64]) -> float:
        hist = ev.histogram(apply_parameters(profile, params, values), edges)
        last["hist"] = hist
        f = loss(hist)
        if f < best["f"]:
            best.update(f=f, z=np.clip(z, 0.0, 1.0).copy(), values=values.copy(), hist=hist)
        if progress is not None:
            progress(ev.evaluations, best["f"])
        return f

    def objective(z: npt.NDArray[np.float64]) -> float:
        return evaluate(z, lo + np.clip(z, 0.0, 1.0) * span)

    # The start: the parameters' exact initial values (z0 -> values would round them).
    initial = np.array([p.initial for p in params])
    z0 = (initial - lo) / span_safe
    f0 = evaluate(z0, initial)
    start_hist = last["hist"]
    # It is the "before" search unless a bound clipped an initial value off the profile.
    start = apply_parameters(profile, params, initial)
    before_hist = start_hist if start == profile else ev.histogram(profile, edges)
    z_start = z0.copy()
    if params and max_evaluations > 1:
        # A coarse coordinate scan first (9 values per parameter): the shares are
        # piecewise constant in the parameters, and a line search started on a plateau
        # would not move; the scan finds the right basin, Powell then refines it.
        grid = np.linspace(0.0, 1.0, 9)
        for i in range(len(params)):
            if ev.evaluations + len(grid) >= max_evaluations // 2:
                break
            for g in grid:
                trial = best["z"].copy()
                trial[i] = g
                objective(trial)
        z_start = best["z"].copy()
    if params and ev.evaluations < max_evaluations:
        from scipy.optimize import minimize

        # Powell: derivative-free line searches along each parameter, respecting bounds;
        # the band shares are piecewise constant in the parameters at the finest scale,
        # which gradient methods cannot handle but line searches can.
        minimize(
            objective,
            z_start,
            method="Powell",
            bounds=[(0.0, 1.0)] * len(params),
            options={"maxfev": max_evaluations - ev.evaluations, "xtol": 1e-3, "ftol": 1e-6},
        )
    # The best search is the "after" search: the fitted profile differs only in its name.
    if best["hist"] is not None:
        fitted_values, after_hist = best["values"], best["hist"]
    else:  # no finite objective anywhere: keep the start
        fitted_values, after_hist = initial, start_hist
    fitted = apply_parameters(profile, params, fitted_values)
    fitted = fitted.with_overrides(
        name=f"{profile.name}_calibrated",
        description=(
            f"{profile.description} — calibrated by hexaccess to a reference band table "
            f"(objective {f0:.3g} -> {best['f']:.3g} pp²)"
        ).strip(" —"),
    )
    before = _shares(before_hist, n)
    after = _shares(after_hist, n)
    table = pd.DataFrame(
        {
            "band_start_min": ref["band_start_min"],
            "band_end_min": ref["band_end_min"],
            "reference_pct": target,
            "before_pct": before,
            "after_pct": after,
            "before_diff_pp": before - target,
            "after_diff_pp": after - target,
        }
    )
    # The fitted value as the profile holds it (urban factors after the monotone fix).
    pframe = pd.DataFrame(
        {
            "key": [p.key for p in params],
            "low": [p.low for p in params],
            "high": [p.high for p in params],
            "initial": [p.initial for p in params],
            "fitted": [_get(fitted, p.key) for p in params],
        }
    )
    return CalibrationResult(
        profile=fitted,
        initial_profile=profile,
        table=table,
        parameters=pframe,
        objective_before=loss(before_hist),
        objective_after=loss(after_hist),
        mean_time_before_min=before_hist.mean_time_s(0) / 60.0,
        mean_time_after_min=after_hist.mean_time_s(0) / 60.0,
        reference_mean_time_min=reference_mean_time_min,
        evaluations=ev.evaluations,
        seconds=time.perf_counter() - t0,
        info={"column": column, "optimizer": "scipy.optimize.minimize(method='Powell')"},
    )
