"""The figures of an accessibility study as pandas tables.

Every function takes an :class:`~hexaccess.accessibility.AccessibilityResult` (the
per-cell nearest-office times) and returns a :class:`pandas.DataFrame` whose
``attrs["provenance"]`` says how it was made (the result's provenance plus the
parameters of the figure), so a table written to disk can be reproduced and cited
(:func:`write_tables` writes the provenance beside the CSV files).

Conventions, the same everywhere:

- Shares are of **all** people of the population column, unreachable people included,
  so a band table's shares plus the unreachable share sum to 100 %.
- A time band ``[a, b)`` holds times ``a <= t < b``; "within *m* minutes" means
  ``t < m`` (the cumulative share at the band edge *m*), "within *k* km" means
  ``d <= k`` (the 2013 criterion says "at most 40 km").
- Means of time and distance are over the *reached* people (unreachable people have no
  time); the unreachable population is always reported beside them.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess import defaults
from hexaccess.errors import AccessibilityInputError, AnalysisInputError, OutputError
from hexaccess.outputs import MANIFEST_NAME
from hexaccess.results import BANDS_COLUMNS
from hexaccess.study import AccessGraph, AccessibilityResult, check_office_indices, solve

__all__ = [
    "Comparison",
    "LanguageAccess",
    "aggregate_cells",
    "band_table",
    "band_tail_start",
    "catchments",
    "collapse_band_tail",
    "compare",
    "coverage",
    "existing_directory",
    "language_access",
    "language_tables",
    "means",
    "municipality_table",
    "network_tables",
    "result_provenance",
    "solve_network",
    "swedish_service_offices",
    "write_tables",
]


# ---------------------------------------------------------------- settings
# The checks of every figure setting, with the documented limits of hexaccess.defaults:
# hexaccess.Study / ReportOptions, scenario files and the command line call these with
# ``where`` = how the user spelled the setting (a keyword, ``FILE: analysis.key`` or an
# option), so every route refuses the same values with the same message.
Error = type[Exception]


def check_number(value: Any, where: str, error: Error = AnalysisInputError) -> float:
    """``value`` as a float: a real number (not a bool, not text)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise error(f"{where} must be a number, got {value!r}")
    try:
        return float(value)
    except OverflowError:  # a whole number too large for a float
        raise error(f"{where}: {value} is too large for a number of this kind") from None


def check_band_minutes(value: Any, where: str, error: Error = AnalysisInputError) -> float:
    """A band width in minutes: finite, > 0, and wide enough for at most
    :data:`~hexaccess.defaults.MAX_BANDS` bands within
    :data:`~hexaccess.defaults.BAND_HORIZON_MINUTES` (at most a week)."""
    v = check_number(value, where, error)
    if not (np.isfinite(v) and v > 0):
        raise error(f"{where} must be > 0: a band width must be > 0 minutes, got {v}")
    if v < defaults.MIN_BAND_MINUTES:
        raise error(
            f"{where}: a band width of {v:g} minutes is below the limit of "
            f"{defaults.MIN_BAND_MINUTES:g} minutes (at most {defaults.MAX_BANDS:,} bands "
            f"within {defaults.BAND_HORIZON_MINUTES:g} minutes); give a wider band, e.g. 1 or 10"
        )
    if v > defaults.MAX_MINUTES:
        raise error(
            f"{where}: a band width of {v:g} minutes is above the limit of "
            f"{defaults.MAX_MINUTES:g} minutes (a week); give e.g. 10"
        )
    return v


def check_thresholds(
    values: Any, where: str, unit: str, error: Error = AnalysisInputError
) -> list[float]:
    """Coverage thresholds (``unit`` ``"minutes"`` or ``"km"``): a list of finite numbers
    > 0, at most :data:`~hexaccess.defaults.MAX_MINUTES` minutes or
    :data:`~hexaccess.defaults.MAX_KM` km, each listed once."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (Sequence, np.ndarray)):
        raise error(f"{where} must be a list of numbers, e.g. [30, 60], got {values!r}")
    out = [check_number(v, f"{where}[{i}]", error) for i, v in enumerate(values)]
    cap = defaults.MAX_MINUTES if unit == "minutes" else defaults.MAX_KM
    bad = [v for v in out if not (np.isfinite(v) and 0 < v <= cap)]
    if bad:
        raise error(
            f"{where}: coverage thresholds must be finite and > 0 {unit} (at most {cap:g}), "
            f"got {bad}"
        )
    twice = sorted({v for v in out if out.count(v) > 1})
    if twice:
        raise error(f"{where}: threshold(s) {twice} {unit} listed twice; give each once")
    return out


def check_gain_loss_minutes(value: Any, where: str, error: Error = AnalysisInputError) -> float:
    """The gain/loss threshold of a comparison: finite, >= 0, at most a week."""
    v = check_number(value, where, error)
    if not (np.isfinite(v) and 0 <= v <= defaults.MAX_MINUTES):
        raise error(
            f"{where}: the gain/loss threshold must be >= 0 minutes and finite (at most "
            f"{defaults.MAX_MINUTES:g}), got {v}"
        )
    return v


def check_visits(visits: Any, where: str, error: Error = AnalysisInputError) -> dict[str, float]:
    """``{agency: visits per person per year}``: non-empty agency names, rates finite,
    >= 0 and at most :data:`~hexaccess.defaults.MAX_VISITS_PER_PERSON`."""
    if visits is None:
        return {}
    if not isinstance(visits, Mapping):
        raise error(
            f"{where} must be a table agency = rate (visits per person per year), e.g. "
            f"{{ Kela = 0.35 }}; got {visits!r}"
        )
    out: dict[str, float] = {}
    for agency, rate in visits.items():
        name = agency.strip() if isinstance(agency, str) else ""
        if not name:
            raise error(
                f"{where}: agency name {agency!r} is empty or not text; give e.g. Kela = 0.35"
            )
        v = check_number(rate, f"{where}.{name}", error)
        if not (np.isfinite(v) and 0 <= v <= defaults.MAX_VISITS_PER_PERSON):
            raise error(
                f"{where}.{name}: visits per person per year must be finite and >= 0 (at "
                f"most {defaults.MAX_VISITS_PER_PERSON:g}), got {v}"
            )
        if name in out:
            raise error(f"{where}: agency {name!r} is given twice; give each agency once")
        out[name] = v
    return out


# ----------------------------------------------------------------- helpers
def _column(result: AccessibilityResult, column: str | None) -> str:
    """The population column to use; unknown names raise with the known ones listed."""
    column = column or result.columns[0]
    if column not in result.columns:
        raise AnalysisInputError(
            f"unknown population column {column!r}; this result has {list(result.columns)}"
        )
    return column


def _columns(result: AccessibilityResult, columns: Sequence[str] | str | None) -> list[str]:
    if columns is None:
        return list(result.columns)
    if isinstance(columns, str):
        columns = [columns]
    return [_column(result, c) for c in columns]


def result_provenance(result: AccessibilityResult) -> dict[str, Any]:
    """How ``result`` was made: its provenance plus the indices of the offices it searched
    (``result.office_indices``, the one record of which offices were open)."""
    return {**result.provenance, "office_indices": np.asarray(result.office_indices).tolist()}


def _with_provenance(
    frame: pd.DataFrame, result: AccessibilityResult, figure: str, **params: Any
) -> pd.DataFrame:
    frame.attrs["provenance"] = {
        **result_provenance(result),
        "figure": figure,
        "parameters": params,
    }
    return frame


def band_labels(starts: Sequence[float], ends: Sequence[float]) -> list[str]:
    """Band labels ``"a-b"`` (minutes, shortest form: ``"0-10"``, ``"7.5-15"``)."""
    return [f"{a:g}-{b:g}" for a, b in zip(starts, ends, strict=True)]


def _arrays(
    cells: pd.DataFrame, column: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(minutes, km, people) per cell; unreachable cells have inf minutes and km."""
    t = cells["time_s"].to_numpy(dtype=float) / 60.0
    d = cells["distance_m"].to_numpy(dtype=float) / 1000.0
    w = cells[column].to_numpy(dtype=float)
    return t, d, w


def _bands_of(
    minutes: npt.NDArray[np.float64],
    people: npt.NDArray[np.float64],
    band_minutes: float,
    max_minutes: float | None = None,
) -> pd.DataFrame:
    """Band table rows (with an ``unreachable`` row) from per-cell minutes and people."""
    if not (np.isfinite(band_minutes) and band_minutes > 0):
        raise AnalysisInputError(f"band width must be > 0 minutes, got {band_minutes}")
    reached = np.isfinite(minutes)
    top = minutes[reached].max() if reached.any() else 0.0
    if max_minutes is not None:
        top = max(top, max_minutes - 1e-9)
    # Enough bands to hold the longest time (a time equal to an edge opens the next band).
    n = int(np.floor(top / band_minutes)) + 1
    if n > defaults.MAX_BANDS:
        raise AnalysisInputError(
            f"{n:,} bands of {band_minutes:g} minutes would be needed to reach the longest "
            f"time ({top:,.1f} min), more than the limit of {defaults.MAX_BANDS:,} bands "
            "(hexaccess.defaults.MAX_BANDS); give a band width of at least "
            f"{top / defaults.MAX_BANDS:.3g} minutes"
        )
    edges = np.arange(n + 1) * float(band_minutes)
    pop, _ = np.histogram(minutes[reached], bins=edges, weights=people[reached])
    total = float(people.sum())
    unreachable = float(people[~reached].sum())
    share = pop / total * 100.0 if total > 0 else np.full(n, np.nan)
    labels = band_labels(edges[:-1], edges[1:])
    frame = pd.DataFrame(
        {
            "band": [*labels, "unreachable"],
            "band_start_min": [*edges[:-1], np.nan],
            "band_end_min": [*edges[1:], np.nan],
            "population": [*pop, unreachable],
            "share_pct": [*share, unreachable / total * 100.0 if total > 0 else np.nan],
        }
    )
    frame["cumulative_pct"] = frame["share_pct"].cumsum()
    return frame


def solve_network(
    access: AccessGraph,
    offices: npt.ArrayLike | None = None,
    columns: Sequence[str] | None = None,
    *,
    name: str = "",
    provenance_info: Mapping[str, Any] | None = None,
) -> AccessibilityResult:
    """:func:`~hexaccess.accessibility.solve` for one office network (indices into
    ``access.offices``, default all), recording the network's name in the provenance.
    The result's ``office_indices`` tell every figure which offices were open (an open
    office that is nobody's nearest still gets a catchment row); the provenance written
    beside the tables lists them (:func:`result_provenance`)."""
    idx = check_office_set(access, offices, name)
    info = dict(provenance_info or {})
    if name:
        info["network"] = name
    return solve(access, columns, offices=idx, provenance_info=info)


# ------------------------------------------------------------------ figures
def band_table(
    result: AccessibilityResult,
    band_minutes: float = defaults.BAND_MINUTES,
    column: str | None = None,
    *,
    max_minutes: float | None = None,
) -> pd.DataFrame:
    """Population by travel-time band of any width, for any population column.

    Columns: ``band`` (label, e.g. ``"10-20"``), then the ``bands.csv`` columns
    ``band_start_min, band_end_min, population, share_pct, cumulative_pct``. Bands run from
    0 to the band holding the longest time (at least to ``max_minutes``); the last row,
    ``band == "unreachable"`` (NaN edges), holds the people no office reaches, so the
    cumulative share ends at 100 %.
    """
    column = _column(result, column)
    t, _, w = _arrays(result.cells, column)
    frame = _bands_of(t, w, band_minutes, max_minutes)
    return _with_provenance(frame, result, "bands", band_minutes=band_minutes, column=column)


def coverage(
    result: AccessibilityResult,
    minutes: Sequence[float] = (30, 60, 90),
    km: Sequence[float] = (40,),
    columns: Sequence[str] | str | None = None,
) -> pd.DataFrame:
    """Share of people within each time (``t < m`` minutes) and distance (``d <= k`` km)
    threshold, for each population column.

    Columns: ``column, measure`` (``"minutes"`` or ``"km"``), ``threshold``,
    ``population_within``, ``population_total``, ``share_pct``.
    """
    rows = []
    for col in _columns(result, columns):
        t, d, w = _arrays(result.cells, col)
        total = float(w.sum())
        for measure, values, x, within in (
            ("minutes", minutes, t, np.less),
            ("km", km, d, np.less_equal),
        ):
            for v in check_thresholds(values, f"coverage {measure}", measure):
                inside = float(w[within(x, float(v))].sum())
                rows.append(
                    {
                        "column": col,
                        "measure": measure,
                        "threshold": float(v),
                        "population_within": inside,
                        "population_total": total,
                        "share_pct": inside / total * 100.0 if total > 0 else np.nan,
                    }
                )
    frame = pd.DataFrame(rows)
    return _with_provenance(frame, result, "coverage", minutes=list(minutes), km=list(km))


def means(result: AccessibilityResult, columns: Sequence[str] | str | None = None) -> pd.DataFrame:
    """Population-weighted mean travel time and distance for each population column.

    Columns: ``column, population_total, population_reached, population_unreachable,
    mean_time_min, mean_distance_km`` (means over reached people).
    """
    rows = []
    for col in _columns(result, columns):
        t, d, w = _arrays(result.cells, col)
        ok = np.isfinite(t)
        reached = float(w[ok].sum())
        rows.append(
            {
                "column": col,
                "population_total": float(w.sum()),
                "population_reached": reached,
                "population_unreachable": float(w[~ok].sum()),
                "mean_time_min": float((t[ok] * w[ok]).sum() / reached) if reached else np.nan,
                "mean_distance_km": float((d[ok] * w[ok]).sum() / reached) if reached else np.nan,
            }
        )
    return _with_provenance(pd.DataFrame(rows), result, "means")


#: The statistics :func:`catchments` gives each office, after its ``office``, ``name`` and
#: ``municipality`` (a contract of ``offices.csv``; the GIS layers add the same columns).
CATCHMENT_STATS = (
    "population",
    "share_pct",
    "cells",
    "mean_time_min",
    "max_time_min",
    "mean_distance_km",
    "max_distance_km",
)


def catchments(
    result: AccessibilityResult,
    column: str | None = None,
    visits_per_person: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """One row per office of the searched network: who has it as their nearest office.

    Columns: ``office`` (index into the study's offices), ``name``, ``municipality``,
    ``population`` (of ``column``), ``share_pct``, ``cells``, ``mean_time_min``,
    ``max_time_min``, ``mean_distance_km``, ``max_distance_km`` (maxima over populated
    cells), then, for ``visits_per_person = {agency: visits per person per year}``, one
    ``visits_<agency>`` column of expected yearly visits (catchment population × rate)
    and ``visits_total``. Offices nobody has as nearest get population 0 and NaN times.
    Written to ``offices.csv``.
    """
    column = _column(result, column)
    cells = result.cells
    t, d, w = _arrays(cells, column)
    office = cells["office"].to_numpy()
    offices = result.access.offices.frame
    idx = np.union1d(result.office_indices, np.unique(office[office >= 0]))
    frame = pd.DataFrame(
        {
            "office": idx,
            "name": offices["name"].to_numpy()[idx],
            "municipality": offices["municipality"].to_numpy()[idx],
        }
    )
    live = (office >= 0) & (w > 0)
    g = pd.DataFrame({"office": office[live], "w": w[live], "t": t[live], "d": d[live]})
    g["wt"], g["wd"] = g["w"] * g["t"], g["w"] * g["d"]
    agg = g.groupby("office").agg(
        population=("w", "sum"),
        cells=("w", "size"),
        wt=("wt", "sum"),
        wd=("wd", "sum"),
        max_time_min=("t", "max"),
        max_distance_km=("d", "max"),
    )
    frame = frame.join(agg, on="office")
    frame["population"] = frame["population"].fillna(0.0)
    frame["cells"] = frame["cells"].fillna(0).astype(int)
    total = float(w.sum())
    frame["share_pct"] = frame["population"] / total * 100.0 if total > 0 else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["mean_time_min"] = frame["wt"] / frame["population"]
        frame["mean_distance_km"] = frame["wd"] / frame["population"]
    frame = frame[["office", "name", "municipality", *CATCHMENT_STATS]]
    if visits_per_person:
        visits_per_person = check_visits(visits_per_person, "visits_per_person")
        for agency, rate in visits_per_person.items():
            frame[f"visits_{agency}"] = frame["population"] * float(rate)
        frame["visits_total"] = frame[[f"visits_{a}" for a in visits_per_person]].sum(axis=1)
    return _with_provenance(
        frame,
        result,
        "catchments",
        column=column,
        visits_per_person=dict(visits_per_person or {}),
    )


def municipality_table(
    result: AccessibilityResult,
    column: str | None = None,
    municipalities: pd.DataFrame | None = None,
    within_minutes: float = 60.0,
) -> pd.DataFrame:
    """Travel to the assigned office by municipality of residence.

    Columns: ``municipality``, ``name`` (when a table from
    :func:`hexaccess.offices.read_municipalities` is given), ``population``,
    ``population_unreachable``, ``mean_time_min``, ``max_time_min``, ``mean_distance_km``,
    ``max_distance_km`` (population-weighted means and maxima over populated reached
    cells), ``share_within_<m>min_pct`` (of all the municipality's people),
    ``rank_by_minutes`` and ``rank_by_km`` (1 = longest mean trip). Sorted by
    ``rank_by_minutes``. Written to ``municipalities.csv``.
    """
    column = _column(result, column)
    within_minutes = check_thresholds([within_minutes], "within_minutes", "minutes")[0]
    cells = result.cells
    if "municipality" not in cells.columns:
        raise AnalysisInputError(
            "the population grid has no municipality of residence; read it with a "
            "municipality table (e.g. --municipality-table grid_municipality.csv)"
        )
    t, d, w = _arrays(cells, column)
    ok = np.isfinite(t)
    g = pd.DataFrame(
        {
            "municipality": cells["municipality"].astype(object).to_numpy(),
            "w": w,
            "w_reached": np.where(ok, w, 0.0),
            # where(ok, t, 0) first: 0 people × inf time would be NaN, not 0.
            "wt": w * np.where(ok, t, 0.0),
            "wd": w * np.where(ok, d, 0.0),
            # Maxima only over people who exist and are reached (an empty cell is no trip).
            "t": np.where(ok & (w > 0), t, np.nan),
            "d": np.where(ok & (w > 0), d, np.nan),
            "w_within": np.where(t < within_minutes, w, 0.0),
        }
    )
    agg = g.groupby("municipality", dropna=False).agg(
        population=("w", "sum"),
        reached=("w_reached", "sum"),
        wt=("wt", "sum"),
        wd=("wd", "sum"),
        max_time_min=("t", "max"),
        max_distance_km=("d", "max"),
        within=("w_within", "sum"),
    )
    out = pd.DataFrame(index=agg.index)
    if municipalities is not None and "name_fi" in municipalities.columns:
        out["name"] = municipalities["name_fi"].reindex(agg.index).to_numpy()
    out["population"] = agg["population"]
    out["population_unreachable"] = agg["population"] - agg["reached"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean_time_min"] = agg["wt"] / agg["reached"]
        out["mean_distance_km"] = agg["wd"] / agg["reached"]
        share = agg["within"] / agg["population"] * 100.0
    out["max_time_min"] = agg["max_time_min"]
    out["max_distance_km"] = agg["max_distance_km"]
    out[f"share_within_{within_minutes:g}min_pct"] = share
    out["rank_by_minutes"] = out["mean_time_min"].rank(ascending=False, method="min")
    out["rank_by_km"] = out["mean_distance_km"].rank(ascending=False, method="min")
    out = out.reset_index().sort_values(["rank_by_minutes", "municipality"], na_position="last")
    out = out.reset_index(drop=True)
    return _with_provenance(
        out, result, "municipalities", column=column, within_minutes=within_minutes
    )


# ----------------------------------------------------------- language access
def swedish_service_offices(
    access: AccessGraph, municipalities: pd.DataFrame, offices: npt.ArrayLike | None = None
) -> npt.NDArray[np.int64]:
    """Indices of the offices (of ``offices``, default all) located in a bilingual or
    Swedish-language municipality: the offices that serve in Swedish.

    ``municipalities`` comes from :func:`hexaccess.offices.read_municipalities`. Offices
    need a ``municipality`` code; unknown codes raise.
    """
    frame = access.offices.frame
    idx = np.arange(len(frame)) if offices is None else np.asarray(offices, dtype=np.int64)
    codes = frame["municipality"].to_numpy()[idx]
    missing = [access.offices.names[i] for i, c in zip(idx, codes, strict=True) if c is None]
    if missing:
        raise AnalysisInputError(
            f"offices without a municipality code cannot be classified by language: "
            f"{missing[:5]}; give a municipality column in the office file"
        )
    unknown = sorted({str(c) for c in codes} - set(municipalities.index))
    if unknown:
        raise AnalysisInputError(f"office municipality code(s) {unknown} not in the table")
    swedish = _swedish_or_bilingual(municipalities)
    return idx[swedish.reindex([str(c) for c in codes]).to_numpy(dtype=bool)]


def _swedish_or_bilingual(municipalities: pd.DataFrame) -> pd.Series:
    """Per municipality code: bilingual, or monolingual Swedish-speaking."""
    return municipalities["bilingual"].astype(bool) | (municipalities["majority_language"] == "sv")


@dataclass(frozen=True)
class LanguageAccess:
    """Travel from Swedish-speaking and bilingual municipalities to the nearest office that
    serves in Swedish (one in a bilingual or Swedish-language municipality).

    ``result`` is the restricted search (all cells; only ``cells`` are the language
    population); ``cells`` the cells of Swedish-speaking and bilingual municipalities with
    ``time_s``/``distance_m``/``office`` to the nearest Swedish-service office and
    ``time_any_s`` to the nearest office of the whole network; ``offices`` the indices of
    the Swedish-service offices.
    """

    result: AccessibilityResult
    cells: pd.DataFrame
    offices: npt.NDArray[np.int64]
    municipalities: list[str]
    provenance: dict[str, Any] = field(default_factory=dict)

    def _restricted(self) -> AccessibilityResult:
        """The language population as an AccessibilityResult, so every figure applies."""
        return AccessibilityResult(
            self.result.access, self.cells, self.result.histogram, self.result.columns,
            self.offices, self.provenance,
        )  # fmt: skip

    def band_table(
        self, band_minutes: float = defaults.BAND_MINUTES, column: str | None = None
    ) -> pd.DataFrame:
        """Bands of the time to the nearest Swedish-service office, language population."""
        return band_table(self._restricted(), band_minutes, column)

    def means(self, columns: Sequence[str] | str | None = None) -> pd.DataFrame:
        """Mean time and distance to the nearest Swedish-service office."""
        return means(self._restricted(), columns)

    def municipality_table(
        self, column: str | None = None, municipalities: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Per Swedish-speaking or bilingual municipality."""
        return municipality_table(self._restricted(), column, municipalities)


def language_access(result: AccessibilityResult, municipalities: pd.DataFrame) -> LanguageAccess:
    """Language access for the office network of ``result`` (see :class:`LanguageAccess`).

    Runs a second search restricted to the network's offices in bilingual or Swedish-
    language municipalities. Raises :class:`AnalysisInputError` when the network has no
    such office or the population has no municipality of residence.
    """
    cells = result.cells
    if "municipality" not in cells.columns:
        raise AnalysisInputError(
            "language access needs each cell's municipality of residence (read the "
            "population with a municipality table)"
        )
    access = result.access
    sv_offices = swedish_service_offices(access, municipalities, result.office_indices)
    if sv_offices.size == 0:
        raise AnalysisInputError(
            "no office of this network lies in a bilingual or Swedish-language municipality"
        )
    swedish = _swedish_or_bilingual(municipalities)
    resident = set(cells["municipality"])
    codes = sorted(c for c in swedish.index[swedish.to_numpy()] if c in resident)
    info = {
        **result.provenance,
        "language_access": "nearest office in a bilingual or Swedish-language municipality",
    }
    with warnings.catch_warnings():
        # The same cells as in ``result`` are unconnected: already warned about there.
        warnings.simplefilter("ignore", UserWarning)
        restricted = solve(access, result.columns, offices=sv_offices, provenance_info=info)
    mask = cells["municipality"].isin(codes).to_numpy()
    sub = restricted.cells.loc[mask].copy()
    sub["time_any_s"] = cells.loc[mask, "time_s"].to_numpy()
    return LanguageAccess(restricted, sub, sv_offices, codes, restricted.provenance)


# --------------------------------------------------------- scenario comparison
@dataclass(frozen=True)
class Comparison:
    """Two or more office networks on the same population, the first is the baseline.

    ``bands``: one row per band with ``share_pct_<name>`` for each network and
    ``diff_pp_<name>`` (minus the baseline); ``changes``: per network, the population
    that gains (nearest office closer by more than ``threshold_min``), loses (farther by
    more), is unchanged, becomes reachable or unreachable; ``cells``: per cell, the time
    of each network and the difference to the baseline (minutes; ``inf``/``-inf`` when
    reachability changes).
    """

    names: list[str]
    bands: pd.DataFrame
    changes: pd.DataFrame
    cells: pd.DataFrame
    threshold_min: float
    provenance: dict[str, Any]


def compare(
    results: Mapping[str, AccessibilityResult],
    band_minutes: float = defaults.BAND_MINUTES,
    column: str | None = None,
    threshold_min: float = 5.0,
) -> Comparison:
    """Compare office networks solved on the same population (see :class:`Comparison`)."""
    names = list(results)
    if len(names) < 2:
        raise AnalysisInputError(f"a comparison needs two or more networks, got {names}")
    if not threshold_min >= 0:
        raise AnalysisInputError(f"gain/loss threshold must be >= 0 minutes, got {threshold_min}")
    base = results[names[0]]
    column = _column(base, column)
    h3 = base.cells["h3"].to_numpy()
    for name in names[1:]:
        other = results[name].cells["h3"].to_numpy()
        if other.shape != h3.shape or not (other == h3).all():
            raise AnalysisInputError(
                f"network {name!r} was solved on other population cells than {names[0]!r}; "
                "compare networks on the same population grid"
            )
    minutes = {n: results[n].cells["time_s"].to_numpy(dtype=float) / 60.0 for n in names}
    w = base.cells[column].to_numpy(dtype=float)
    top = max(float(m[np.isfinite(m)].max(initial=0.0)) for m in minutes.values())
    tables = {n: _bands_of(minutes[n], w, band_minutes, max_minutes=top + 1e-6) for n in names}
    bands = tables[names[0]][["band", "band_start_min", "band_end_min"]].copy()
    for n in names:
        bands[f"population_{n}"] = tables[n]["population"].to_numpy()
        bands[f"share_pct_{n}"] = tables[n]["share_pct"].to_numpy()
    for n in names[1:]:
        bands[f"diff_pp_{n}"] = bands[f"share_pct_{n}"] - bands[f"share_pct_{names[0]}"]
    cells = pd.DataFrame({"h3": h3, column: w})
    if "municipality" in base.cells.columns:
        cells["municipality"] = base.cells["municipality"].to_numpy()
    rows = []
    t0 = minutes[names[0]]
    for n in names:
        cells[f"time_min_{n}"] = minutes[n]
        cells[f"office_{n}"] = results[n].cells["office_name"].to_numpy()
    for n in names[1:]:
        t1 = minutes[n]
        both = np.isfinite(t0) & np.isfinite(t1)
        diff = np.full(t0.shape, np.nan)
        diff[both] = t1[both] - t0[both]
        diff[np.isfinite(t0) & ~np.isfinite(t1)] = np.inf
        diff[~np.isfinite(t0) & np.isfinite(t1)] = -np.inf
        cells[f"diff_min_{n}"] = diff
        gain = both & (diff < -threshold_min)
        loss = both & (diff > threshold_min)
        rows.append(
            {
                "network": n,
                "baseline": names[0],
                "threshold_min": threshold_min,
                "population_gains": float(w[gain].sum()),
                "population_loses": float(w[loss].sum()),
                "population_unchanged": float(w[both & ~gain & ~loss].sum()),
                "population_becomes_reachable": float(w[diff == -np.inf].sum()),
                "population_becomes_unreachable": float(w[diff == np.inf].sum()),
                "mean_change_min": float(np.average(diff[both], weights=w[both]))
                if w[both].sum() > 0
                else np.nan,
            }
        )
    info = {
        "figure": "comparison",
        "baseline": names[0],
        "parameters": {"band_minutes": band_minutes, "column": column},
        "networks": {n: result_provenance(results[n]) for n in names},
    }
    changes = pd.DataFrame(rows)
    for f in (bands, changes, cells):
        f.attrs["provenance"] = info
    return Comparison(names, bands, changes, cells, float(threshold_min), info)


# --------------------------------------------------------------- all tables
def network_tables(
    result: AccessibilityResult,
    column: str | None = None,
    *,
    band_minutes: float = defaults.BAND_MINUTES,
    coverage_minutes: Sequence[float] = defaults.COVERAGE_MINUTES,
    coverage_km: Sequence[float] = defaults.COVERAGE_KM,
    visits_per_person: Mapping[str, float] | None = None,
    municipalities: pd.DataFrame | None = None,
    language: LanguageAccess | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table of one office network, keyed by file name, computed once (for the CSV
    files and the HTML report alike).

    ``bands.csv`` (the ``hexaccess run`` contract: :data:`~hexaccess.results.BANDS_COLUMNS`,
    no unreachable row), ``bands_all.csv`` (:func:`band_table`), ``coverage.csv``,
    ``means.csv``, ``offices.csv`` (:func:`catchments`); ``municipalities.csv`` when the
    cells have a municipality of residence; ``language_bands.csv``,
    ``language_means.csv`` and ``language_municipalities.csv`` for ``language``.
    """
    column = _column(result, column)
    bands_all = band_table(result, band_minutes, column)
    contract = bands_all[bands_all["band"] != "unreachable"][BANDS_COLUMNS]
    contract.attrs = bands_all.attrs
    tables = {
        "bands.csv": contract,
        "bands_all.csv": bands_all,
        "coverage.csv": coverage(result, coverage_minutes, coverage_km),
        "means.csv": means(result),
        "offices.csv": catchments(result, column, visits_per_person or None),
    }
    if "municipality" in result.cells.columns:
        tables["municipalities.csv"] = municipality_table(result, column, municipalities)
    if language is not None:
        tables.update(language_tables(language, column, band_minutes, municipalities))
    return tables


def language_tables(
    language: LanguageAccess,
    column: str | None = None,
    band_minutes: float = defaults.BAND_MINUTES,
    municipalities: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """``language_bands.csv``, ``language_means.csv`` and ``language_municipalities.csv``
    of a :class:`LanguageAccess`."""
    return {
        "language_bands.csv": language.band_table(band_minutes, column),
        "language_means.csv": language.means(),
        "language_municipalities.csv": language.municipality_table(column, municipalities),
    }


# --------------------------------------------------------- tables for reading
def band_tail_start(
    tables: Sequence[pd.DataFrame],
    *,
    min_share_pct: float = 0.1,
    max_minutes: float = 180.0,
) -> float | None:
    """Where the band tables ``tables`` (band tables, or comparison band tables with one
    ``share_pct_<name>`` column per network) stop saying anything for a reader: the end
    of the last band in which some table holds at least ``min_share_pct`` % of the people,
    and never past ``max_minutes``. ``None`` when no table has a band beyond that point
    (nothing to merge). Long ferry trips can add dozens of near-empty bands; the CSV
    tables keep every band and :func:`collapse_band_tail` merges the rest into one row."""
    last, top = 0.0, 0.0
    for t in tables:
        reached = t[t["band"] != "unreachable"]
        if reached.empty:
            continue
        shares = reached[[c for c in reached.columns if c.startswith("share_pct")]]
        ends = reached["band_end_min"].to_numpy(dtype=float)
        top = max(top, float(ends.max()))
        full = (shares.to_numpy(dtype=float) >= min_share_pct).any(axis=1)
        if full.any():
            last = max(last, float(ends[np.flatnonzero(full).max()]))
    start = min(last, float(max_minutes))
    # A tail of one band is shown as it is: merging it would only rename it.
    longest = max((_bands_from(t, start) for t in tables), default=0)
    return start if top > start and longest > 1 else None


def _bands_from(table: pd.DataFrame, start: float) -> int:
    """Number of (reached) bands of ``table`` that start at or after ``start`` minutes."""
    return int((table["band_start_min"].to_numpy(dtype=float) >= start).sum())


def collapse_band_tail(table: pd.DataFrame, start_min: float | None) -> pd.DataFrame:
    """``table`` (a band table or a comparison band table) with every band starting at or
    after ``start_min`` merged into one row labelled ``"<start_min>+"``: populations,
    shares and share differences (``population*``, ``share_pct*``, ``diff_pp*``) summed,
    cumulative shares (``cumulative_pct*``) those of the last merged band, the band's end
    the last band's end. The ``unreachable`` row stays last. ``None`` (see
    :func:`band_tail_start`) returns the table unchanged."""
    if start_min is None:
        return table
    unreachable = table["band"] == "unreachable"
    reached = table[~unreachable]
    tail_mask = reached["band_start_min"].to_numpy(dtype=float) >= start_min
    if not tail_mask.any():
        return table
    tail = reached[tail_mask]
    row: dict[str, Any] = {"band": f"{start_min:g}+"}
    for c in table.columns:
        if c == "band_start_min":
            row[c] = float(start_min)
        elif c == "band_end_min":
            row[c] = float(tail[c].max())
        elif c.startswith(("population", "share_pct", "diff_pp")):
            row[c] = float(tail[c].sum())
        elif c.startswith("cumulative_pct"):
            row[c] = float(tail[c].iloc[-1])
        elif c != "band":
            row[c] = tail[c].iloc[-1]
    parts = [reached[~tail_mask], pd.DataFrame([row]), table[unreachable]]
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    out.attrs = dict(table.attrs)
    return out


def aggregate_cells(
    cells: npt.ArrayLike,
    values: npt.ArrayLike,
    weights: npt.ArrayLike,
    resolution: int,
) -> pd.DataFrame:
    """Per-cell ``values`` (e.g. minutes) on H3 ``cells`` (``uint64``) summed up to their
    parents at ``resolution``: columns ``cell`` (``uint64``), ``value`` (the
    ``weights``-weighted mean of the finite values; ``inf`` when a parent has none, i.e.
    nobody there is reached) and ``weight`` (the summed weights). Cells without weight
    count with a weight of 1e-9, so an unpopulated area keeps its value without moving a
    populated one's. Used to draw a national map at a resolution the page can show."""
    from hexaccess.h3 import cell_to_parent

    v = np.asarray(values, dtype=float)
    w0 = np.asarray(weights, dtype=float)
    w = w0 + 1e-9
    ok = np.isfinite(v)
    parents = cell_to_parent(np.asarray(cells, dtype=np.uint64), resolution)
    g = pd.DataFrame(
        {"cell": parents, "wv": np.where(ok, v * w, 0.0), "wr": np.where(ok, w, 0.0), "w": w0}
    )
    agg = g.groupby("cell", sort=False).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(agg["wr"] > 0, agg["wv"] / agg["wr"], np.inf)
    return pd.DataFrame(
        {
            "cell": agg.index.to_numpy(dtype=np.uint64),
            "value": value,
            "weight": agg["w"].to_numpy(),
        }
    )


# ------------------------------------------------------------------- writing
def write_tables(out: str | Path, tables: Mapping[str, pd.DataFrame]) -> dict[str, Path]:
    """Write ``{file name: table}`` as CSV into the directory ``out`` and every table's
    provenance to ``out/provenance.json`` (merged with what is already there), keyed by
    file name. Returns ``{file name: path}`` of every file written, ``provenance.json``
    last.

    ``out`` must exist: this writes into it and never creates or cleans it (pass the
    staging directory of :func:`hexaccess.outputs.prepare_output`, which commits it).
    """
    out = existing_directory(out)
    for name in tables:
        _check_table_name(name)
    prov_path = out / "provenance.json"
    prov = json.loads(prov_path.read_text()) if prov_path.exists() else {}
    written = {}
    for name, frame in tables.items():
        path = out / name
        frame.to_csv(path, index=False)
        prov[name] = frame.attrs.get("provenance", {})
        written[name] = path
    prov_path.write_text(json.dumps(prov, indent=2, default=_json_default) + "\n")
    written["provenance.json"] = prov_path
    return written


def existing_directory(out: str | Path) -> Path:
    """``out`` as a Path, refused unless it is an existing directory: the writers of this
    layer write into a directory they are given and never create one (the output
    directory is created, locked and committed by :mod:`hexaccess.outputs`)."""
    out = Path(out)
    if not out.is_dir():
        what = "is not a directory" if out.exists() else "does not exist"
        raise OutputError(
            f"{out}: {what}; write into an existing directory (e.g. the staging directory "
            "of hexaccess.outputs.prepare_output)"
        )
    return out


def _check_table_name(name: str) -> None:
    """A table's file name must be a plain name, so that it lands inside the directory
    (no ``../``, no sub-directory, no absolute path) and replaces neither the provenance
    nor the output's manifest."""
    reserved = (".", "..", "provenance.json", MANIFEST_NAME)
    if not name or Path(name).name != name or name in reserved:
        raise AnalysisInputError(
            f"table file name {name!r}: give a plain file name such as 'bands.csv' (no "
            f"directory part; provenance.json and {MANIFEST_NAME} are written by "
            "write_tables and hexaccess.outputs)"
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def check_office_set(
    access: AccessGraph, indices: npt.ArrayLike | None, name: str = ""
) -> npt.NDArray[np.int64]:
    """The checked office indices of a network (all offices for ``None``):
    :func:`~hexaccess.accessibility.check_office_indices`, with the network's name in the
    message."""
    try:
        return check_office_indices(access.offices, indices)
    except AccessibilityInputError as exc:
        label = f" {name!r}" if name else ""
        if indices is None or np.size(np.asarray(indices)) == 0:
            msg = f"the office set{label} is empty; give at least one office"
        else:
            msg = f"office set{label}: invalid or unknown office indices: {exc}"
        raise AccessibilityInputError(msg) from None
