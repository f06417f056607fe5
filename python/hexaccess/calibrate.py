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
import numbers
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess import defaults
from hexaccess.analysis import band_labels, existing_directory
from hexaccess.errors import CalibrationError
from hexaccess.graph import Graph
from hexaccess.network import RoadNetwork
from hexaccess.offices import Offices
from hexaccess.population import PopulationGrid
from hexaccess.profiles import SPEED_BOUNDS_KMH, TERMINAL_BOUNDS_S, SpeedProfile, _class_key
from hexaccess.results import BandHistogram
from hexaccess.study.road import build_access_graph, check_office_indices, density_lookup

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
    table = _ReferenceTable.load(reference)
    value_column = table.value_column()
    numbers = {col: table.numbers(col) for col in ("band_start_min", "band_end_min", value_column)}
    rows, start, end = _reference_bands(numbers, table.source)
    values = numbers[value_column][rows]
    table.check_values(values, rows, band_labels(start, end), value_column)
    share = _reference_shares(values, value_column, table.source, tolerance_pp)
    return pd.DataFrame({"band_start_min": start, "band_end_min": end, "share_pct": share})


@dataclass(frozen=True)
class _ReferenceTable:
    """A reference table as given, with where it came from for the messages: a file
    (rows named by line, the header being line 1) or a DataFrame (rows by index)."""

    frame: pd.DataFrame
    source: str
    from_file: bool

    @classmethod
    def load(cls, reference: str | Path | pd.DataFrame) -> _ReferenceTable:
        if isinstance(reference, pd.DataFrame):
            return cls(reference.reset_index(drop=True), "reference table", from_file=False)
        from hexaccess._files import check_input_file, read_csv

        if not isinstance(reference, (str, os.PathLike)):
            raise CalibrationError(
                f"reference must be a band table: a CSV file path or a DataFrame, got "
                f"{type(reference).__name__}"
            )
        source = str(reference)
        path = Path(reference)
        if path.is_file() and path.stat().st_size == 0:
            raise CalibrationError(
                f"{source}: the file is empty; a reference band table needs a header line "
                "band_start_min,band_end_min,share_pct and one line per band"
            )
        check_input_file(path, "reference band table", kinds=("csv", "text"))
        try:
            frame = read_csv(path, error=CalibrationError, name=source, role="reference band table")
        except UnicodeDecodeError as exc:
            raise CalibrationError(
                f"{source}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position "
                f"{exc.start}); save the band table as UTF-8 CSV"
            ) from None
        except pd.errors.EmptyDataError:
            raise CalibrationError(
                f"{source}: the file is empty; a reference band table needs a header line "
                "band_start_min,band_end_min,share_pct and one line per band"
            ) from None
        except pd.errors.ParserError as exc:
            raise CalibrationError(f"{source}: not a readable CSV table: {exc}") from None
        return cls(frame, source, from_file=True)

    def where(self, i: int) -> str:
        """Row ``i`` (0-based) as the user sees it."""
        return f"line {i + 2}" if self.from_file else f"row {i}"

    def value_column(self) -> str:
        """``share_pct``, or ``population`` when there are no shares; refuses a table
        without band edges or values."""
        columns = self.frame.columns
        missing = [c for c in ("band_start_min", "band_end_min") if c not in columns]
        if missing or not ({"share_pct", "population"} & set(columns)):
            raise CalibrationError(
                f"{self.source}: a reference band table needs band_start_min, band_end_min "
                f"and share_pct (or population); found {list(columns)}"
            )
        return "share_pct" if "share_pct" in columns else "population"

    def numbers(self, col: str) -> npt.NDArray[np.float64]:
        """The column as floats (empty cells NaN); text that is not a number is refused."""
        raw = self.frame[col]
        num = pd.to_numeric(raw, errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy() & raw.notna().to_numpy())
        if bad.size:
            i = int(bad[0])
            raise CalibrationError(
                f"{self.source}: {self.where(i)}: {col} {raw.iloc[i]!r} is not a number; give "
                "plain numbers (e.g. 40, not '40 %')"
            )
        return num.to_numpy(dtype=float)

    def check_values(
        self,
        values: npt.NDArray[np.float64],
        rows: npt.NDArray[np.intp],
        labels: Sequence[str],
        value_column: str,
    ) -> None:
        """Every band needs a value >= 0 (the message names the row and the band)."""
        for i, (v, label) in enumerate(zip(values, labels, strict=True)):
            if np.isnan(v) or v < 0:
                problem = "is missing" if np.isnan(v) else f"{v:g} is negative"
                raise CalibrationError(
                    f"{self.source}: {self.where(int(rows[i]))} (band {label} min): "
                    f"{value_column} {problem}; every band needs a share >= 0"
                )


def _reference_bands(
    numbers: Mapping[str, npt.NDArray[np.float64]], source: str
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(rows with both band edges, their starts, their ends), checked: bands from 0,
    contiguous, of positive width and finite."""
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
    return rows, start, end


def _reference_shares(
    values: npt.NDArray[np.float64], value_column: str, source: str, tolerance_pp: float
) -> npt.NDArray[np.float64]:
    """Shares in percent (computed from people when the table gives a population),
    checked to sum to 100 % within ``tolerance_pp``."""
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
    return share


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
    if max_evaluations > defaults.MAX_EVALUATIONS_LIMIT:
        raise CalibrationError(
            f"max_evaluations {max_evaluations:,} is above the limit of "
            f"{defaults.MAX_EVALUATIONS_LIMIT:,} (hexaccess.defaults.MAX_EVALUATIONS_LIMIT; "
            f"each evaluation is a full search of the study); give e.g. "
            f"{defaults.MAX_EVALUATIONS}"
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
        i = _factor_index(key)
        if i is not None:
            if not 0 <= i < len(profile.urban_factors):
                raise CalibrationError(
                    f"{key}: the profile has {len(profile.urban_factors)} factors"
                )
            return float(profile.urban_factors[i])
    if key.startswith("speeds_kmh."):
        parts = key.split(".", 2)
        if len(parts) == 3 and parts[2] in profile.class_speeds_kmh.get(parts[1], {}):
            return float(profile.class_speeds_kmh[parts[1]][parts[2]])
    raise CalibrationError(
        f"unknown calibration parameter {key!r}; use terminal_time_s, access.speed_kmh, "
        "urban_slowdown.factors[i] or speeds_kmh.<column>.<class> of the profile"
    )


def _factor_index(key: str) -> int | None:
    """``i`` of ``urban_slowdown.factors[i]`` (None when ``i`` is not a whole number:
    the key is then unknown)."""
    try:
        return int(key[len("urban_slowdown.factors[") : -1])
    except ValueError:
        return None


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
    for key, pair in (bounds or {}).items():
        _get(profile, key)  # validates the key
        ranges[key] = _checked_bounds(key, pair)
        legal = _legal(profile, key)
        if ranges[key][0] < legal[0] or ranges[key][1] > legal[1]:
            raise CalibrationError(
                f"bounds of {key} {ranges[key][0]:g}:{ranges[key][1]:g} lie outside the legal "
                f"range {legal[0]:g}:{legal[1]:g} of the profile; give bounds within it"
            )
    for key in fixed:
        _get(profile, key)
        if key in (bounds or {}):
            raise CalibrationError(
                f"{key} is both given bounds and held fixed; give one of the two"
            )
        ranges.pop(key, None)
    out = []
    for key, (lo, hi) in ranges.items():
        legal = _legal(profile, key)
        lo, hi = max(lo, legal[0]), min(hi, legal[1])
        if lo > hi:
            raise CalibrationError(f"bounds of {key} lie outside the legal range {legal}")
        out.append(Parameter(key, lo, hi, float(min(max(_get(profile, key), lo), hi))))
    return out


def _checked_bounds(key: str, pair: Any) -> tuple[float, float]:
    """``(low, high)`` of a ``bounds`` entry as floats: two finite numbers, low <= high."""
    try:
        lo, hi = pair
    except (TypeError, ValueError):  # not a pair
        lo, hi = pair, None
    real = isinstance(lo, numbers.Real) and isinstance(hi, numbers.Real)
    if not (real and math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise CalibrationError(f"bounds of {key}: need finite low <= high, got {lo}, {hi}")
    return float(lo), float(hi)


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
        # with edge snapping the access graph's network holds the split pieces
        network = self.network = access.network
        if access.turns is not None or network.meta.get("maxspeed_edges"):
            raise CalibrationError(
                "this network has tagged speed limits or turn rules (OSM [osm] maxspeed_tags, "
                "restriction_tags, destination_access or turn_costs of the profile), which "
                "calibration does not fit: it fits class speeds on the plain road graph; "
                "calibrate with a profile without those [osm] keys"
            )
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

    # --- distributed (issue #13): a batch of evaluations, on Dask with a client
    def histograms(
        self,
        profiles: Sequence[SpeedProfile],
        band_edges_s: npt.ArrayLike | None = None,
        *,
        client: Any = None,
    ) -> Iterator[BandHistogram]:
        """:meth:`histogram` of each profile, yielded in order and counted as yielded.

        Here one after the other; with a Dask ``client`` each profile is one task on the
        workers (:mod:`hexaccess.distributed.calibrate`; the evaluator's arrays are sent
        to every worker at the first batch on that client), bit-identical histograms.
        """
        if client is None:
            for profile in profiles:
                yield self.histogram(profile, band_edges_s)
            return
        shipped = getattr(self, "_shipped", None)
        if shipped is None or shipped.client is not client:
            from hexaccess.distributed.calibrate import RemoteEvaluator

            shipped = self._shipped = RemoteEvaluator(self, client)
        for hist in shipped.histograms(profiles, band_edges_s):
            self.evaluations += 1
            yield hist

    # --- end distributed


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
        ``calibration.png`` into the directory ``out``; returns ``{"profile", "table",
        "json", "plot"}`` → path.

        ``out`` must exist: this writes into it and never creates or cleans it (pass the
        staging directory of :func:`hexaccess.outputs.prepare_output`, which commits it).
        """
        out = existing_directory(out)
        paths = {
            "profile": out / "profile.toml",
            "table": out / "calibration.csv",
            "json": out / "calibration.json",
            "plot": out / "calibration.png",
        }
        self.profile.to_toml(paths["profile"])
        self.table.to_csv(paths["table"], index=False)
        paths["json"].write_text(json.dumps(self.summary(), indent=2, default=str) + "\n")
        self._save_plot(paths["plot"])
        return paths

    def summary(self) -> dict[str, Any]:
        """The figures of the fit as written to ``calibration.json``: objectives, largest
        band differences, mean times, the search's cost and the fitted parameters."""
        return {
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

    def _save_plot(self, path: Path) -> None:
        fig = self.plot()
        fig.savefig(path, dpi=110, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)

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
    client: Any = None,
) -> CalibrationResult:
    """Fit the profile's free parameters to a reference band table (module docstring).

    ``network`` must be as read (no urban slowdown). ``parameters`` default to
    :func:`default_parameters`. ``progress(evaluations, best objective)`` is called
    after each evaluation. ``reference_tolerance_pp`` relaxes the check that the
    reference shares sum to 100 % (only for a reference that deliberately covers part of
    the population, e.g. when the rest is unreachable).

    With a Dask ``client`` (``hexaccess[dask]``, :func:`hexaccess.distributed.connect`)
    the coordinate scan evaluates each parameter's grid as one batch of Dask tasks; the
    Powell refinement, one evaluation after another by nature, stays here. The fit, its
    histograms and the evaluation count are those of the single-machine run.
    """
    t0 = time.perf_counter()
    check_search_settings(reference_mean_time_min, mean_weight, max_evaluations)
    if evaluator is not None:
        _check_evaluator_matches(evaluator, column, office_indices)
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
    if parameters is not None:
        params = _checked_parameters(profile, parameters)
    else:
        params = default_parameters(profile, network)
    search = _Search(
        ev, profile, params, ref, reference_mean_time_min, mean_weight, progress, client=client
    )
    start = search.start()
    if params and max_evaluations > 1:
        search.coordinate_scan(max_evaluations)
    if params and ev.evaluations < max_evaluations:
        search.refine(max_evaluations)
    after_values, after_hist = search.fitted(start)
    fitted = _fitted_profile(profile, params, after_values, start.objective, search.best_f)
    return CalibrationResult(
        profile=fitted,
        initial_profile=profile,
        table=_band_comparison(ref, start.before_hist, after_hist),
        parameters=_parameter_table(params, fitted),
        objective_before=search.loss(start.before_hist),
        objective_after=search.loss(after_hist),
        mean_time_before_min=start.before_hist.mean_time_s(0) / 60.0,
        mean_time_after_min=after_hist.mean_time_s(0) / 60.0,
        reference_mean_time_min=reference_mean_time_min,
        evaluations=ev.evaluations,
        seconds=time.perf_counter() - t0,
        info={"column": column, "optimizer": "scipy.optimize.minimize(method='Powell')"},
    )


def _check_evaluator_matches(
    evaluator: FastEvaluator, column: str, office_indices: npt.ArrayLike | None
) -> None:
    """The evaluator fixes the study: refuse arguments that say otherwise."""
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


def _checked_parameters(profile: SpeedProfile, parameters: Sequence[Parameter]) -> list[Parameter]:
    """Parameters given by the caller, each key checked against the profile (an unknown
    key is refused here, not deep inside the search)."""
    params = list(parameters)
    for p in params:
        _get(profile, p.key)
    return params


@dataclass(frozen=True)
class _Start:
    """The search's first evaluation (the parameters' initial values) and the "before"
    histogram: the profile as given."""

    values: npt.NDArray[np.float64]
    objective: float
    hist: BandHistogram
    before_hist: BandHistogram


class _Search:
    """The objective of one fit, evaluated on parameters scaled to [0, 1], and the best
    evaluation so far.

    Objective: sum over the reference's bands of (our share − reference share)² [pp²],
    plus ``mean_weight`` × (our mean time − reference mean time)² [min²] when a reference
    mean is given.
    """

    def __init__(
        self,
        evaluator: FastEvaluator,
        profile: SpeedProfile,
        params: list[Parameter],
        ref: pd.DataFrame,
        reference_mean_time_min: float | None,
        mean_weight: float,
        progress: Callable[[int, float], None] | None,
        *,
        client: Any = None,
    ) -> None:
        self.evaluator = evaluator
        self.profile = profile
        self.params = params
        self.edges_s = (
            np.append(ref["band_start_min"].to_numpy(), ref["band_end_min"].iloc[-1]) * 60.0
        )
        self.target = ref["share_pct"].to_numpy()
        self.reference_mean_time_min = reference_mean_time_min
        self.mean_weight = mean_weight
        self.progress = progress
        self.lo = np.array([p.low for p in params])
        span = np.array([p.high - p.low for p in params])
        self.span = span
        self.span_safe = np.where(span > 0, span, 1.0)
        self.best_f = math.inf
        self.best_z: npt.NDArray[np.float64] | None = None
        self.best_values: npt.NDArray[np.float64] | None = None
        self.best_hist: BandHistogram | None = None
        self.last_hist: BandHistogram | None = None
        #: Where Powell starts: the initial values, or the coordinate scan's best point.
        self.z_start: npt.NDArray[np.float64] | None = None
        #: A Dask client for the coordinate scan's batches (None: all here).
        self.client = client

    def loss(self, hist: BandHistogram) -> float:
        """The objective of one histogram."""
        value = float(((_shares(hist, len(self.target)) - self.target) ** 2).sum())
        if self.reference_mean_time_min is not None:
            mean_min = hist.mean_time_s(0) / 60.0
            value += self.mean_weight * (mean_min - self.reference_mean_time_min) ** 2
        return value

    def evaluate(self, z: npt.NDArray[np.float64], values: npt.NDArray[np.float64]) -> float:
        """One search with these parameter values (``z`` their scaled form), kept when
        it is the best so far."""
        ev = self.evaluator
        hist = ev.histogram(apply_parameters(self.profile, self.params, values), self.edges_s)
        return self.record(z, values, hist)

    def record(
        self, z: npt.NDArray[np.float64], values: npt.NDArray[np.float64], hist: BandHistogram
    ) -> float:
        """The objective of one evaluation's histogram, kept when it is the best so far."""
        ev = self.evaluator
        self.last_hist = hist
        f = self.loss(hist)
        if f < self.best_f:
            self.best_f = f
            self.best_z = np.clip(z, 0.0, 1.0).copy()
            self.best_values = values.copy()
            self.best_hist = hist
        if self.progress is not None:
            self.progress(ev.evaluations, self.best_f)
        return f

    def objective(self, z: npt.NDArray[np.float64]) -> float:
        """The objective at scaled parameters ``z`` (clipped to [0, 1])."""
        return self.evaluate(z, self.lo + np.clip(z, 0.0, 1.0) * self.span)

    def start(self) -> _Start:
        """Evaluate the parameters' exact initial values (z0 -> values would round them).
        That search is the "before" search unless a bound clipped an initial value off
        the profile; then the profile itself is searched too."""
        initial = np.array([p.initial for p in self.params])
        z0 = (initial - self.lo) / self.span_safe
        f0 = self.evaluate(z0, initial)
        start_hist: BandHistogram = self.last_hist  # type: ignore[assignment]
        start = apply_parameters(self.profile, self.params, initial)
        if start == self.profile:
            before_hist = start_hist
        else:
            before_hist = self.evaluator.histogram(self.profile, self.edges_s)
        self.z_start = z0.copy()
        return _Start(initial, f0, start_hist, before_hist)

    def coordinate_scan(self, max_evaluations: int) -> None:
        """A coarse coordinate scan (9 values per parameter, within half the budget):
        the shares are piecewise constant in the parameters, and a line search started
        on a plateau would not move; the scan finds the right basin, Powell then refines
        it from the best point found."""
        grid = np.linspace(0.0, 1.0, 9)
        for i in range(len(self.params)):
            if self.evaluator.evaluations + len(grid) >= max_evaluations // 2:
                break
            # The grid of parameter i is one batch: a trial differs from the best point
            # only in coordinate i, so a better trial never changes the trials after it.
            trials = []
            for g in grid:
                trial = self.best_z.copy()  # type: ignore[union-attr]
                trial[i] = g
                trials.append(trial)
            values = [self.lo + np.clip(z, 0.0, 1.0) * self.span for z in trials]
            profiles = [apply_parameters(self.profile, self.params, v) for v in values]
            hists = self.evaluator.histograms(profiles, self.edges_s, client=self.client)
            for z, v, hist in zip(trials, values, hists, strict=True):
                self.record(z, v, hist)
        self.z_start = self.best_z.copy()  # type: ignore[union-attr]

    def refine(self, max_evaluations: int) -> None:
        """Powell from the scan's best point, with the rest of the budget."""
        from scipy.optimize import minimize

        # Powell: derivative-free line searches along each parameter, respecting bounds;
        # the band shares are piecewise constant in the parameters at the finest scale,
        # which gradient methods cannot handle but line searches can.
        minimize(
            self.objective,
            self.z_start,
            method="Powell",
            bounds=[(0.0, 1.0)] * len(self.params),
            options={
                "maxfev": max_evaluations - self.evaluator.evaluations,
                "xtol": 1e-3,
                "ftol": 1e-6,
            },
        )

    def fitted(self, start: _Start) -> tuple[npt.NDArray[np.float64], BandHistogram]:
        """The best values and their search (the "after" search: the fitted profile
        differs only in its name); the start when no objective was finite."""
        if self.best_hist is not None:
            return self.best_values, self.best_hist  # type: ignore[return-value]
        return start.values, start.hist


def _fitted_profile(
    profile: SpeedProfile,
    params: Sequence[Parameter],
    values: npt.NDArray[np.float64],
    objective_before: float,
    objective_after: float,
) -> SpeedProfile:
    """The profile with the fitted values, renamed ``<name>_calibrated`` and described."""
    fitted = apply_parameters(profile, params, values)
    return fitted.with_overrides(
        name=f"{profile.name}_calibrated",
        description=(
            f"{profile.description} — calibrated by hexaccess to a reference band table "
            f"(objective {objective_before:.3g} -> {objective_after:.3g} pp²)"
        ).strip(" —"),
    )


def _band_comparison(
    ref: pd.DataFrame, before_hist: BandHistogram, after_hist: BandHistogram
) -> pd.DataFrame:
    """``calibration.csv``: per reference band the reference, before and after shares
    and the differences (percentage points)."""
    target = ref["share_pct"].to_numpy()
    before = _shares(before_hist, len(target))
    after = _shares(after_hist, len(target))
    return pd.DataFrame(
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


def _parameter_table(params: Sequence[Parameter], fitted: SpeedProfile) -> pd.DataFrame:
    """Per parameter its bounds, start and fitted value, as the fitted profile holds it
    (urban factors after the monotone fix)."""
    return pd.DataFrame(
        {
            "key": [p.key for p in params],
            "low": [p.low for p in params],
            "high": [p.high for p in params],
            "initial": [p.initial for p in params],
            "fitted": [_get(fitted, p.key) for p in params],
        }
    )
