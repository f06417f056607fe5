"""Population on H3 cells: the demand side of every accessibility computation.

A :class:`PopulationGrid` holds people per H3 cell at one resolution, with any number of
integer attribute columns (``total``, ``age_65_plus``, ...) and, when known, the
municipality of each cell. Loaders turn the common population products into one:

* :func:`read_eurostat_grid` - Eurostat Census 2021 grid CSV (``GRD_ID`` + counts);
* :func:`read_square_grid` - square (or any polygon) grids in GeoPackage / GeoParquet /
  GeoJSON, or centre points with a ``cell_size``, in any CRS;
* :func:`read_population_raster` - GeoTIFF rasters (WorldPop, GHS-POP);
* :func:`read_h3_table` - tables already keyed by H3 cell.

Apportionment (squares, polygons and pixels -> H3 cells)
--------------------------------------------------------
Each source square's people are shared among the H3 cells it overlaps, in proportion to
the overlapping area. The overlap is estimated by sampling an ``s x s`` lattice of points
at the centres of the ``s x s`` equal sub-squares of the source square (default ``s=10``:
100 points), transforming them from the square's CRS to WGS84 with pyproj and locating
each point's H3 cell. A cell receiving ``k`` of the ``S`` points gets the exact share
``v * k / S`` of the square's count ``v``. The area error of each share is bounded by the
area of the sub-squares crossed by the cell boundary, i.e. roughly ``1/s`` of the square
(a cell boundary crossing the square cuts at most about ``2 s`` of the ``s^2`` sub-squares,
each misattributed by at most its own area ``1/s^2``).

Shares are integerised per square and per attribute column independently with the
largest-remainder (Hamilton) method: every cell gets ``floor(v * k / S)`` and the missing
people (fewer than the number of cells the square touches) go one each to the cells with
the largest remainders; ties are broken by ascending H3 cell id, so the result is
deterministic. Every square's count is therefore preserved exactly, for every column, and
so are all totals. Cells whose attribute values are all zero after apportionment are not
kept (no people, nothing to serve); their number is recorded in ``load_report``.

Polygons that are not axis-aligned rectangles in their own CRS are sampled on the
lattice of their bounding box and only the points inside the polygon count (a polygon
too thin to contain any lattice point falls back to its representative point). Raster
pixels are sampled through the raster's affine transform. In a geographic CRS the
lattice is regular in degrees, which is not equal-area; for cells of a few hundred
metres the difference is negligible (< 0.01 % across a 1 km cell at 60 N).

Municipalities
--------------
With a square -> municipality table, the apportioned people keep their municipality: the
grid stores the exact breakdown per (cell, municipality) in :attr:`PopulationGrid.parts`.
A cell's municipality is the municipality whose squares contribute most people to the
cell (counted on the ``total`` column, or the first column when there is no ``total``);
ties go to the lower code, and a known code beats an unknown one. Municipality totals
(:meth:`PopulationGrid.municipality_totals`) and region filters
(:meth:`PopulationGrid.filter_municipalities`) use the exact breakdown, so a cell on a
municipal border is split rather than moved wholesale.

Errors
------
Bad input raises :class:`PopulationInputError` (a ``ValueError``) naming the file, the
row (CSV: 1-based line number with the header as line 1; vector layers: 0-based feature
index and FID; rasters: 0-based pixel row/column) and the fix. Duplicate square ids are
refused, naming both rows: a file concatenated twice would otherwise double people.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.geoparquet import GeoParquetError, geoparquet_fields, read_geoparquet
from hexaccess.h3cells import cell_centers, latlng_to_cells, str_to_cell

__all__ = [
    "ALAND_MUNICIPALITIES",
    "EUROSTAT_COLUMNS",
    "FilterReport",
    "PopulationGrid",
    "PopulationInputError",
    "cell_resolution",
    "cell_to_parent",
    "read_eurostat_grid",
    "read_h3_table",
    "read_municipality_table",
    "read_population_raster",
    "read_square_grid",
]

#: Municipality codes of the Åland Islands (region Ahvenanmaa). "Mainland Finland" in the
#: Ministry of Finance study = the country without these. Note: Mariehamn (478) belongs
#: here; with it excluded the 2021 census grid gives 5,439,866 people (without it:
#: 5,451,631).
ALAND_MUNICIPALITIES: tuple[str, ...] = (
    "035",  # Brändö
    "043",  # Eckerö
    "060",  # Finström
    "062",  # Föglö
    "065",  # Geta
    "076",  # Hammarland
    "170",  # Jomala
    "295",  # Kumlinge
    "318",  # Kökar
    "417",  # Lemland
    "438",  # Lumparland
    "478",  # Maarianhamina - Mariehamn
    "736",  # Saltvik
    "766",  # Sottunga
    "771",  # Sund
    "941",  # Vårdö
)

#: Eurostat Census 2021 grid column -> friendly name used by hexaccess.
EUROSTAT_COLUMNS: dict[str, str] = {
    "T": "total",
    "M": "male",
    "F": "female",
    "Y_LT15": "under_15",
    "Y_1564": "age_15_64",
    "Y_GE65": "age_65_plus",
    "EMP": "employed",
}

DEFAULT_RESOLUTION = 8
DEFAULT_SAMPLES = 10
#: sample points processed per chunk (bounds memory: ~100 bytes per point)
_CHUNK_POINTS = 4_000_000

_GRD_ID_RE = (
    r"^CRS(?P<epsg>\d+)RES(?P<size>\d+(?:\.\d+)?)(?P<unit>m|km)"
    r"N(?P<n>-?\d+(?:\.\d+)?)E(?P<e>-?\d+(?:\.\d+)?)$"
)


class PopulationInputError(ValueError):
    """Population input that cannot be loaded without guessing; the message says why."""


# ----------------------------------------------------------------------------------------
# H3 bit helpers (vectorised; no h3 call needed)
# ----------------------------------------------------------------------------------------

_H3_RES_SHIFT = np.uint64(52)
_H3_MODE_SHIFT = np.uint64(59)


def cell_resolution(cells: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Resolution of each H3 cell (read from the index bits)."""
    cells = np.asarray(cells, dtype=np.uint64)
    return ((cells >> _H3_RES_SHIFT) & np.uint64(0xF)).astype(np.int64)


def _valid_cell_mask(cells: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
    """Structural validity of H3 cell indexes (mode, reserved bits, base cell, digits)."""
    mode = (cells >> _H3_MODE_SHIFT) & np.uint64(0xF)
    top = cells >> np.uint64(63)
    reserved = (cells >> np.uint64(56)) & np.uint64(0x7)
    base = (cells >> np.uint64(45)) & np.uint64(0x7F)
    res = cell_resolution(cells)
    ok = (mode == 1) & (top == 0) & (reserved == 0) & (base < 122)
    for d in range(1, 16):
        digit = (cells >> np.uint64((15 - d) * 3)) & np.uint64(7)
        ok &= np.where(d <= res, digit != 7, digit == 7)
    return ok


def cell_to_parent(cells: npt.ArrayLike, resolution: int) -> npt.NDArray[np.uint64]:
    """Parent (ancestor) at ``resolution`` of H3 cells at that resolution or finer."""
    cells = np.asarray(cells, dtype=np.uint64)
    if not 0 <= int(resolution) <= 15:
        raise ValueError(f"H3 resolution must be in 0..15, got {resolution}")
    if (cell_resolution(cells) < resolution).any():
        raise ValueError(f"some cells are coarser than resolution {resolution}")
    r = np.uint64(resolution)
    low = np.uint64((1 << ((15 - int(resolution)) * 3)) - 1)
    cleared = cells & ~(np.uint64(0xF) << _H3_RES_SHIFT)
    return cleared | (r << _H3_RES_SHIFT) | low


# ----------------------------------------------------------------------------------------
# PopulationGrid
# ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FilterReport:
    """What :meth:`PopulationGrid.filter_municipalities` kept and removed."""

    cells_before: int
    cells_after: int
    cells_removed: int
    cells_split: int
    removed: dict[str, int]
    kept: dict[str, int]
    unknown_cells: int
    unknown_people: dict[str, int]
    unknown_action: str

    def __str__(self) -> str:
        col = next(iter(self.removed), None)
        msg = (
            f"cells {self.cells_before:,} -> {self.cells_after:,} "
            f"({self.cells_removed:,} removed, {self.cells_split:,} split at a border)"
        )
        if col is not None:
            msg += f"; {col}: kept {self.kept[col]:,}, removed {self.removed[col]:,}"
            if self.unknown_cells:
                msg += (
                    f"; {self.unknown_cells:,} cells with unknown municipality "
                    f"({self.unknown_people[col]:,} {col}) {self.unknown_action}"
                )
        return msg


class PopulationGrid:
    """People per H3 cell at one resolution.

    Backed by :attr:`frame`, a DataFrame indexed by the ``uint64`` H3 cell (sorted,
    unique) with one ``int64`` column per attribute and, when known, a ``municipality``
    column (``str`` code or ``None``). Build it with one of the ``read_*`` loaders, or
    directly from such a frame.

    Parameters
    ----------
    frame:
        DataFrame indexed by H3 cell; attribute columns must be non-negative integers.
    resolution:
        H3 resolution of every cell (checked).
    parts:
        Optional exact breakdown per (cell, municipality): columns ``cell``,
        ``municipality`` and the attribute columns, summing to ``frame`` per cell.
    load_report:
        Free-form facts about how the grid was produced (source, counts, timings).
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        resolution: int,
        *,
        parts: pd.DataFrame | None = None,
        load_report: Mapping[str, Any] | None = None,
    ) -> None:
        resolution = int(resolution)
        if not 0 <= resolution <= 15:
            raise ValueError(f"H3 resolution must be in 0..15, got {resolution}")
        idx = np.asarray(frame.index, dtype=np.uint64)
        if idx.size and not (np.all(idx[1:] > idx[:-1])):
            frame = frame.sort_index()
            idx = np.asarray(frame.index, dtype=np.uint64)
            if np.any(idx[1:] == idx[:-1]):
                raise ValueError("PopulationGrid frame index has duplicate cells")
        if idx.size and not (cell_resolution(idx) == resolution).all():
            bad = idx[cell_resolution(idx) != resolution][0]
            raise ValueError(
                f"cell {int(bad):x} is at resolution {cell_resolution([bad])[0]}, not {resolution}"
            )
        cols = [c for c in frame.columns if c != "municipality"]
        if not cols:
            raise ValueError("PopulationGrid needs at least one attribute column")
        data = {}
        for c in cols:
            v = frame[c].to_numpy()
            if not np.issubdtype(v.dtype, np.integer):
                raise ValueError(f"attribute column {c!r} must be integer, got {v.dtype}")
            if v.size and v.min() < 0:
                raise ValueError(f"attribute column {c!r} has negative counts")
            data[c] = v.astype(np.int64)
        out = pd.DataFrame(data, index=pd.Index(idx, name="cell", dtype=np.uint64))
        if "municipality" in frame.columns:
            out["municipality"] = pd.Series(
                _as_object_codes(frame["municipality"].to_numpy()), index=out.index, dtype=object
            )
        self._frame = out
        self._columns = [str(c) for c in cols]
        self._resolution = resolution
        self._parts = parts
        self.load_report: dict[str, Any] = dict(load_report or {})
        self.filter_report: FilterReport | None = None

    # -- basic accessors -------------------------------------------------------------------

    @property
    def frame(self) -> pd.DataFrame:
        """The backing DataFrame (index: uint64 cell; attribute columns; municipality)."""
        return self._frame

    @property
    def cells(self) -> npt.NDArray[np.uint64]:
        """H3 cells (sorted, unique) as ``np.uint64``."""
        return np.asarray(self._frame.index, dtype=np.uint64)

    @property
    def resolution(self) -> int:
        """H3 resolution of all cells."""
        return self._resolution

    @property
    def columns(self) -> list[str]:
        """Names of the attribute (count) columns."""
        return list(self._columns)

    @property
    def municipality(self) -> npt.NDArray[np.object_] | None:
        """Municipality code (str, or None when unknown) per cell; None if never known."""
        if "municipality" not in self._frame.columns:
            return None
        return self._frame["municipality"].to_numpy(dtype=object)

    @property
    def parts(self) -> pd.DataFrame | None:
        """Exact people per (cell, municipality), or None when no breakdown is known."""
        return self._parts

    def __len__(self) -> int:
        return len(self._frame)

    def total(self, column: str = "total") -> int:
        """Sum of one attribute column over all cells (exact integer)."""
        self._check_columns([column])
        return int(self._frame[column].to_numpy().sum())

    def weights(self, columns: str | Sequence[str] | None = None) -> npt.NDArray[np.float64]:
        """``float64`` matrix ``(n_cells, len(columns))`` of the chosen attributes."""
        if columns is None:
            columns = self._columns
        elif isinstance(columns, str):
            columns = [columns]
        columns = list(columns)
        self._check_columns(columns)
        return self._frame[columns].to_numpy(dtype=np.float64).reshape(len(self), len(columns))

    def centers_lonlat(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """``(lon, lat)`` arrays in degrees (WGS84) of the cell centres."""
        lat, lng = cell_centers(self.cells)
        return lng, lat

    def density_per_km2(
        self, cells: npt.ArrayLike, column: str | None = None
    ) -> npt.NDArray[np.float64]:
        """People per km² around each H3 cell of ``cells`` (one resolution, any order).

        Cells at the grid's resolution or finer get the density of the grid cell above
        them (its ancestor at the grid's resolution); coarser cells the people of the grid
        cells under them. Areas are the mean cell area of the resolution used; 0 where no
        one lives. ``column`` defaults to ``"total"`` (the first column when the grid has
        no ``total``). Used for the urban slowdown by both the road and hexagon graphs.
        """
        import h3

        if column is None:
            column = "total" if "total" in self._columns else self._columns[0]
        self._check_columns([column])
        cells = np.asarray(cells, dtype=np.uint64)
        if cells.size == 0:
            return np.zeros(0)
        res = cell_resolution(cells)
        r = int(res[0])
        if (res != r).any():
            i = int(np.flatnonzero(res != r)[0])
            raise ValueError(
                f"density_per_km2: cell {i} ({int(cells[i]):x}) is at resolution {res[i]}, "
                f"cell 0 at {r}; give cells of one resolution"
            )
        people = pd.Series(self._frame[column].to_numpy(dtype=float), index=self.cells)
        if r >= self._resolution:
            key = cell_to_parent(cells, self._resolution)
            area = h3.average_hexagon_area(self._resolution, unit="km^2")
        else:  # coarser cells: the people of the grid cells under each
            key = cells
            area = h3.average_hexagon_area(r, unit="km^2")
            people = people.groupby(cell_to_parent(self.cells, r)).sum()
        return people.reindex(key).fillna(0.0).to_numpy() / area

    def municipality_totals(self, columns: str | Sequence[str] | None = None) -> pd.DataFrame:
        """People per municipality code (index; unknown -> ``None`` row dropped).

        Uses the exact (cell, municipality) breakdown when available, i.e. the people who
        live in each municipality's squares; otherwise sums whole cells by their
        municipality.
        """
        if columns is None:
            columns = self._columns
        elif isinstance(columns, str):
            columns = [columns]
        columns = list(columns)
        self._check_columns(columns)
        src = self._parts if self._parts is not None else self._frame
        if "municipality" not in src.columns:
            raise ValueError("this grid has no municipality information")
        known = src[src["municipality"].notna()]
        out = known.groupby("municipality", sort=True)[columns].sum()
        out.index = out.index.astype(object)
        return out

    def _check_columns(self, columns: Sequence[str]) -> None:
        missing = [c for c in columns if c not in self._columns]
        if missing:
            raise KeyError(f"unknown attribute column(s) {missing}; available: {self._columns}")

    def __repr__(self) -> str:
        sums = ", ".join(f"{c}={self.total(c):,}" for c in self._columns)
        muni = ""
        m = self.municipality
        if m is not None:
            known = [x for x in m if x is not None]
            muni = f", municipalities={len(set(known))}"
            if len(known) < len(m):
                muni += f" ({len(m) - len(known):,} cells unknown)"
        return f"PopulationGrid(resolution={self._resolution}, cells={len(self):,}, {sums}{muni})"

    # -- filtering -------------------------------------------------------------------------

    def filter_municipalities(
        self,
        exclude: Sequence[str] | None = None,
        include: Sequence[str] | None = None,
        *,
        unknown: str | None = None,
    ) -> PopulationGrid:
        """Keep a region given by municipality codes, e.g. ``exclude=ALAND_MUNICIPALITIES``.

        Give exactly one of ``exclude`` / ``include``. With the exact (cell, municipality)
        breakdown (grids loaded with a municipality table), people are removed by the
        municipality of the square they live in: a border cell keeps the share of its
        retained municipalities (and its municipality is re-derived). Without it, whole
        cells are kept or removed by their municipality.

        People whose municipality is unknown are kept with ``exclude`` (they are not in
        the excluded list) and dropped with ``include`` (they are not in the included
        list); override with ``unknown='keep'`` or ``'drop'``, or ``'error'`` to refuse.
        Either way a warning states their number. The returned grid's ``filter_report``
        (:class:`FilterReport`) gives cells and people kept, removed and split.
        """
        if (exclude is None) == (include is None):
            raise ValueError("give exactly one of exclude= or include= (municipality codes)")
        codes = exclude if exclude is not None else include
        if isinstance(codes, str):
            raise TypeError("municipality codes must be a list of strings, not one string")
        codes_set = {_code_str(c) for c in codes}
        if unknown is None:
            unknown = "keep" if exclude is not None else "drop"
        if unknown not in ("keep", "drop", "error"):
            raise ValueError(f"unknown= must be 'keep', 'drop' or 'error', got {unknown!r}")
        src = self._parts if self._parts is not None else self._frame.reset_index()
        if "municipality" not in src.columns:
            raise ValueError(
                "this grid has no municipality information; load it with "
                "municipality_table=... (or a municipality column) to filter by region"
            )
        muni = src["municipality"].to_numpy(dtype=object)
        is_unknown = pd.isna(muni)
        listed = np.array([m in codes_set for m in muni], dtype=bool) & ~is_unknown
        keep = ~listed if exclude is not None else listed
        col0 = self._columns[0]
        unk_cells = int(np.unique(src["cell"].to_numpy()[is_unknown]).size)
        unk_people = {c: int(src[c].to_numpy()[is_unknown].sum()) for c in self._columns}
        if unk_cells:
            if unknown == "error":
                raise ValueError(
                    f"{unk_cells:,} cells ({unk_people[col0]:,} {col0}) have an unknown "
                    "municipality; complete the municipality table or pass unknown='keep'/'drop'"
                )
            keep = np.where(is_unknown, unknown == "keep", keep)
            action = "kept" if unknown == "keep" else "dropped"
            warnings.warn(
                f"filter_municipalities: {unk_cells:,} cells with {unk_people[col0]:,} "
                f"{col0} have an unknown municipality and were {action}",
                stacklevel=2,
            )
        kept_src = src[keep]
        if not kept_src[self._columns].to_numpy().any():
            raise ValueError(
                f"filter_municipalities removed every cell ({len(self):,} before); "
                "check the codes (they are strings with leading zeros, e.g. '091')"
            )
        cells_before = len(self)
        cells_all = src["cell"].to_numpy(dtype=np.uint64)
        removed_cells = np.unique(cells_all[~keep])
        kept_cells = np.unique(kept_src["cell"].to_numpy(dtype=np.uint64))
        split = int(np.intersect1d(removed_cells, kept_cells, assume_unique=True).size)
        removed = {c: int(src[c].to_numpy()[~keep].sum()) for c in self._columns}
        kept = {c: int(kept_src[c].to_numpy().sum()) for c in self._columns}
        if self._parts is not None:
            new = _grid_from_parts(
                kept_src["cell"].to_numpy(dtype=np.uint64),
                kept_src["municipality"].to_numpy(dtype=object),
                kept_src[self._columns].to_numpy(dtype=np.int64),
                self._columns,
                self._resolution,
                load_report=self.load_report,
            )
        else:
            fr = self._frame[keep]
            new = PopulationGrid(fr, self._resolution, load_report=self.load_report)
        new.filter_report = FilterReport(
            cells_before=cells_before,
            cells_after=len(new),
            cells_removed=cells_before - len(new),
            cells_split=split,
            removed=removed,
            kept=kept,
            unknown_cells=unk_cells,
            unknown_people=unk_people,
            unknown_action=("kept" if unknown == "keep" else "dropped") if unk_cells else "-",
        )
        return new


# ----------------------------------------------------------------------------------------
# core: samples -> cells -> integer shares
# ----------------------------------------------------------------------------------------


def _lattice(samples: int) -> npt.NDArray[np.float64]:
    if int(samples) < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    s = int(samples)
    return (np.arange(s, dtype=np.float64) + 0.5) / s


def _code_str(c: Any) -> str:
    if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
        raise TypeError(
            f"municipality code {c!r} is an integer; codes are strings that keep their "
            "leading zeros (e.g. '091')"
        )
    return str(c)


def _as_object_codes(values: npt.ArrayLike) -> npt.NDArray[np.object_]:
    arr = np.asarray(values, dtype=object)
    out = np.empty(arr.shape, dtype=object)
    na = pd.isna(arr)
    out[na] = None
    out[~na] = [str(x) for x in arr[~na]]
    return out


class _Transformer:
    """Source CRS -> WGS84 lon/lat, vectorised, with clear errors."""

    def __init__(self, crs: Any, source: str) -> None:
        import pyproj

        try:
            self.crs = pyproj.CRS.from_user_input(crs)
        except pyproj.exceptions.CRSError as e:
            raise PopulationInputError(
                f"{source}: unknown or unsupported CRS {crs!r} ({e}); pass a valid "
                "crs= (e.g. 'EPSG:3035')"
            ) from None
        self.geographic = self.crs.is_geographic
        self._tr = pyproj.Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        self.source = source

    def __call__(
        self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        lon, lat = self._tr.transform(x, y)
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _SampleError(i, f"({x[i]}, {y[i]}) is outside the domain of {self.crs.name}")
        return lon, lat


class _SampleError(Exception):
    def __init__(self, index: int, msg: str) -> None:
        super().__init__(msg)
        self.index = index


def _pieces_for_chunk(
    sq: npt.NDArray[np.int64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    tr: _Transformer,
    resolution: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """Sample points -> (square, cell, number of samples) pieces, sorted by (square, cell)."""
    try:
        lon, lat = tr(x, y)
    except _SampleError as e:
        raise _SampleError(int(sq[e.index]), str(e)) from None
    cells = latlng_to_cells(lat, lon, resolution)
    uc, inv = np.unique(cells, return_inverse=True)
    key = sq.astype(np.int64) * np.int64(uc.size) + inv.astype(np.int64)
    ukey, k = np.unique(key, return_counts=True)
    psq = ukey // uc.size
    pcell = uc[ukey % uc.size]
    return psq, pcell, k.astype(np.int64)


def _largest_remainder(
    psq: npt.NDArray[np.int64],
    k: npt.NDArray[np.int64],
    n_samples: npt.NDArray[np.int64],
    values: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Integer shares per piece and column; pieces sorted by (square, cell).

    ``values`` is ``(n_squares, m)``; ``n_samples[i]`` is the number of samples of square
    ``i`` (= sum of ``k`` over its pieces). Returns ``(n_pieces, m)``.
    """
    n_pieces = psq.size
    starts = np.flatnonzero(np.r_[True, psq[1:] != psq[:-1]])
    group_of_piece = np.cumsum(np.r_[False, psq[1:] != psq[:-1]])
    first_piece = starts[group_of_piece]
    denom = n_samples[psq]
    within = np.arange(n_pieces, dtype=np.int64)  # ascending cell id inside each square
    out = np.empty((n_pieces, values.shape[1]), dtype=np.int64)
    for j in range(values.shape[1]):  # columns, not squares
        v = values[psq, j]
        num = v * k
        q, r = np.divmod(num, denom)
        deficit_sq = values[psq[starts], j] - np.add.reduceat(q, starts)
        order = np.lexsort((within, -r, psq))
        rank = np.arange(n_pieces, dtype=np.int64) - first_piece
        give = np.zeros(n_pieces, dtype=np.int64)
        give[order] = rank < deficit_sq[group_of_piece][order]
        out[:, j] = q + give
    return out


def _apportion(
    n_squares: int,
    sample_fn: Any,
    values: npt.NDArray[np.int64] | npt.NDArray[np.float64],
    crs: Any,
    resolution: int,
    samples_per_square: int,
    describe_square: Any,
    source: str,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64], npt.NDArray[Any]]:
    """Run the sampling + apportionment chunk by chunk.

    ``sample_fn(lo, hi)`` returns ``(sq, x, y)`` for squares ``lo..hi-1`` (``sq`` absolute,
    non-decreasing, every square at least one sample). Integer ``values`` get exact
    largest-remainder shares; float values get exact real shares ``v * k / S``.
    Returns ``(square, cell, shares)`` per piece.
    """
    tr = _Transformer(crs, source)
    chunk = max(1, _CHUNK_POINTS // max(1, samples_per_square))
    out_sq, out_cell, out_val = [], [], []
    integer = np.issubdtype(values.dtype, np.integer)
    for lo in range(0, n_squares, chunk):
        hi = min(n_squares, lo + chunk)
        sq, x, y = sample_fn(lo, hi)
        try:
            psq, pcell, k = _pieces_for_chunk(sq, x, y, tr, resolution)
        except _SampleError as e:
            raise PopulationInputError(
                f"{source}: {describe_square(e.index)}: {e}; check that the data's CRS is "
                f"declared correctly (currently {tr.crs.to_string()})"
            ) from None
        n_samp = np.bincount(psq - lo, weights=k, minlength=hi - lo).astype(np.int64)
        if (n_samp == 0).any():  # pragma: no cover - sample_fn guarantees >= 1 sample
            raise AssertionError("square without samples")
        local = psq - lo
        if integer:
            shares = _largest_remainder(local, k, n_samp, values[lo:hi].astype(np.int64))
        else:
            shares = values[lo:hi][local] * (k / n_samp[local])[:, None]
        out_sq.append(psq)
        out_cell.append(pcell)
        out_val.append(shares)
    return np.concatenate(out_sq), np.concatenate(out_cell), np.concatenate(out_val)


def _grid_from_parts(
    cell: npt.NDArray[np.uint64],
    muni: npt.NDArray[np.object_] | None,
    vals: npt.NDArray[np.int64],
    columns: list[str],
    resolution: int,
    load_report: Mapping[str, Any] | None = None,
) -> PopulationGrid:
    """Aggregate pieces (cell, municipality, values) into a PopulationGrid."""
    report = dict(load_report or {})
    vals = np.asarray(vals, dtype=np.int64).reshape(cell.size, len(columns))
    if not vals.any():
        raise PopulationInputError(
            f"{report.get('source', 'input')}: empty result: no cell has people (all counts "
            "are zero); check the value columns"
        )
    if muni is None:
        uc, inv = np.unique(cell, return_inverse=True)
        sums = np.zeros((uc.size, len(columns)), dtype=np.int64)
        np.add.at(sums, inv, vals)
        nz = sums.any(axis=1)
        report["zero_cells_dropped"] = int((~nz).sum())
        frame = pd.DataFrame(sums[nz], columns=columns, index=pd.Index(uc[nz], dtype=np.uint64))
        return PopulationGrid(frame, resolution, load_report=report)

    muni = _as_object_codes(muni)
    known = np.array([m is not None for m in muni], dtype=bool)
    codes = np.array(sorted({m for m in muni[known]}), dtype=object)
    midx = np.full(cell.size, codes.size, dtype=np.int64)  # unknown sorts last
    if codes.size:
        midx[known] = np.searchsorted(codes.astype(str), muni[known].astype(str))
    uc, cinv = np.unique(cell, return_inverse=True)
    key = cinv.astype(np.int64) * np.int64(codes.size + 1) + midx
    ukey, kinv = np.unique(key, return_inverse=True)
    psums = np.zeros((ukey.size, len(columns)), dtype=np.int64)
    np.add.at(psums, kinv, vals)
    p_cell_i = ukey // (codes.size + 1)
    p_muni_i = ukey % (codes.size + 1)
    nzp = psums.any(axis=1)
    psums, p_cell_i, p_muni_i = psums[nzp], p_cell_i[nzp], p_muni_i[nzp]
    codes_ext = np.append(codes, None)
    parts = pd.DataFrame({"cell": uc[p_cell_i]})
    parts["municipality"] = pd.Series(codes_ext[p_muni_i], dtype=object)
    for j, c in enumerate(columns):
        parts[c] = psums[:, j]
    # cell sums
    present, c_inv = np.unique(p_cell_i, return_inverse=True)
    sums = np.zeros((present.size, len(columns)), dtype=np.int64)
    np.add.at(sums, c_inv, psums)
    report["zero_cells_dropped"] = int(uc.size - present.size)
    # cell municipality: most people on 'total' (or first column); ties -> lower code
    main = columns.index("total") if "total" in columns else 0
    order = np.lexsort((p_muni_i, -psums[:, main], p_cell_i))
    first = order[np.r_[True, p_cell_i[order][1:] != p_cell_i[order][:-1]]]
    cell_muni = codes_ext[p_muni_i[first]]
    frame = pd.DataFrame(sums, columns=columns, index=pd.Index(uc[present], dtype=np.uint64))
    frame["municipality"] = pd.Series(cell_muni, index=frame.index, dtype=object)
    return PopulationGrid(frame, resolution, parts=parts, load_report=report)


def _integerise_global(
    values: npt.NDArray[np.float64], cells: npt.NDArray[np.uint64]
) -> npt.NDArray[np.int64]:
    """Round real per-cell counts to integers keeping each column's rounded total.

    Largest remainder over all cells of a column; ties by ascending cell id.
    """
    out = np.floor(values).astype(np.int64)
    rem = values - out
    for j in range(values.shape[1]):
        target = int(np.rint(values[:, j].sum()))
        deficit = target - int(out[:, j].sum())
        if deficit > 0:
            order = np.lexsort((cells, -rem[:, j]))
            out[order[:deficit], j] += 1
    return out


# ----------------------------------------------------------------------------------------
# municipality table
# ----------------------------------------------------------------------------------------


def read_municipality_table(
    table: str | os.PathLike[str] | pd.DataFrame | Mapping[str, str],
    id_column: str = "GRD_ID",
    municipality_column: str = "municipality",
) -> pd.Series:
    """Square id -> municipality code (str, leading zeros kept) as a Series.

    ``table`` is a CSV path (e.g. ``grid_municipality.csv``), a DataFrame or a mapping.
    Duplicate ids and integer codes (which lost their leading zeros) are refused.
    """
    if isinstance(table, Mapping):
        s = pd.Series(dict(table), dtype=object)
        name = "municipality mapping"
    else:
        if isinstance(table, pd.DataFrame):
            df = table
            name = "municipality table"
        else:
            name = str(table)
            try:
                df = pd.read_csv(table, dtype=str, keep_default_na=False, na_values=[""])
            except FileNotFoundError:
                raise PopulationInputError(f"{name}: file not found") from None
        for c in (id_column, municipality_column):
            if c not in df.columns:
                raise PopulationInputError(
                    f"{name}: missing column {c!r} (columns: {list(df.columns)}); pass "
                    "id_column= / municipality_column="
                )
        if pd.api.types.is_numeric_dtype(df[municipality_column]):
            raise PopulationInputError(
                f"{name}: municipality codes are numbers and have lost their leading zeros; "
                f"read the table with dtype=str (codes like '091')"
            )
        s = pd.Series(
            df[municipality_column].to_numpy(dtype=object), index=df[id_column].astype(str)
        )
        dup = s.index.duplicated(keep=False)
        if dup.any():
            rows = np.flatnonzero(dup)[:2]
            raise PopulationInputError(
                f"{name}: id {s.index[rows[0]]!r} appears twice (lines {rows[0] + 2} and "
                f"{rows[1] + 2}, header = line 1); keep one municipality per square"
            )
    return s.astype(object).where(s.notna(), None)


def _lookup_municipality(
    ids: pd.Index | pd.Series, table: Any, source: str, report: dict[str, Any]
) -> npt.NDArray[np.object_]:
    if isinstance(table, pd.Series):
        s = table
    else:
        s = read_municipality_table(table)
    muni = pd.Series(s.to_numpy(dtype=object), index=s.index.astype(str)).reindex(
        pd.Index(np.asarray(ids, dtype=object).astype(str))
    )
    out = _as_object_codes(muni.to_numpy(dtype=object))
    missing = int(sum(m is None for m in out))
    report["squares_without_municipality"] = missing
    return out


# ----------------------------------------------------------------------------------------
# loaders
# ----------------------------------------------------------------------------------------


def _check_counts(
    df: pd.DataFrame, cols: Sequence[str], where: Any, source: str
) -> npt.NDArray[np.int64]:
    """Validate non-negative integer counts; ``where(i)`` names row i in errors."""
    out = np.empty((len(df), len(cols)), dtype=np.int64)
    for j, c in enumerate(cols):
        raw = df[c]
        num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(num)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            value = raw.iloc[i]
            if isinstance(value, np.generic):  # print nan, not np.float64(nan)
                value = value.item()
            raise PopulationInputError(
                f"{source}: {where(i)}: column {c!r} is {value!r}, not a count; "
                "fill missing counts with 0 or remove the row"
            )
        neg = num < 0
        if neg.any():
            i = int(np.flatnonzero(neg)[0])
            raise PopulationInputError(
                f"{source}: {where(i)}: column {c!r} is negative ({raw.iloc[i]}); "
                "counts must be >= 0"
            )
        frac = num != np.floor(num)
        if frac.any():
            i = int(np.flatnonzero(frac)[0])
            raise PopulationInputError(
                f"{source}: {where(i)}: column {c!r} is {raw.iloc[i]}, not a whole number; "
                "round the counts or use read_population_raster for fractional estimates"
            )
        out[:, j] = num.astype(np.int64)
    return out


def _resolve_columns(
    available: Sequence[str], columns: Sequence[str] | Mapping[str, str] | None, names: str
) -> tuple[list[str], list[str]]:
    """Eurostat: -> (raw source columns, output names)."""
    if names not in ("friendly", "raw"):
        raise ValueError(f"names= must be 'friendly' or 'raw', got {names!r}")
    friendly_to_raw = {v: k for k, v in EUROSTAT_COLUMNS.items()}
    if columns is None:
        raw = [c for c in available if c in EUROSTAT_COLUMNS]  # file order
        if not raw:
            raise PopulationInputError(
                f"no Eurostat count column ({', '.join(EUROSTAT_COLUMNS)}) found; columns "
                f"present: {list(available)}; pass columns=[...]"
            )
        out = [EUROSTAT_COLUMNS[c] if names == "friendly" else c for c in raw]
        return raw, out
    if isinstance(columns, Mapping):
        raw = [friendly_to_raw.get(c, c) for c in columns]
        return raw, list(columns.values())
    raw = [friendly_to_raw.get(c, c) for c in columns]
    out = [EUROSTAT_COLUMNS.get(r, r) if names == "friendly" else r for r in raw]
    return raw, out


def read_eurostat_grid(
    path: str | os.PathLike[str],
    resolution: int = DEFAULT_RESOLUTION,
    columns: Sequence[str] | Mapping[str, str] | None = None,
    municipality_table: str | os.PathLike[str] | pd.DataFrame | Mapping[str, str] | None = None,
    *,
    names: str = "friendly",
    samples: int = DEFAULT_SAMPLES,
    exclude_municipalities: Sequence[str] | None = None,
) -> PopulationGrid:
    """Read a Eurostat Census 2021 grid CSV and apportion it to H3 cells.

    ``GRD_ID`` encodes each square, e.g. ``CRS3035RES1000mN6670000E5000000``: EPSG code,
    side (``m`` or ``km``) and the lower-left corner (northing, easting); any square
    size works, sizes may differ between rows, but all rows must share one CRS.

    Parameters
    ----------
    path:
        CSV file with ``GRD_ID`` and count columns (``T``, ``M``, ``F``, ``Y_LT15``,
        ``Y_1564``, ``Y_GE65``, ``EMP``).
    resolution:
        H3 resolution of the result (default 8, cells of ~0.74 km^2).
    columns:
        Columns to load: raw (``'Y_GE65'``) or friendly (``'age_65_plus'``) names, or a
        mapping raw/friendly -> output name. Default: every known Eurostat column present.
    municipality_table:
        ``GRD_ID`` -> municipality code (CSV path with columns ``GRD_ID, municipality``,
        DataFrame, or mapping). Squares missing from it get an unknown municipality
        (counted in ``load_report`` and warned about).
    names:
        ``'friendly'`` (``total``, ``age_65_plus``, ..., see :data:`EUROSTAT_COLUMNS`) or
        ``'raw'`` (``T``, ``Y_GE65``, ...) output column names.
    samples:
        Lattice size ``s`` (``s*s`` points per square); area error ~ ``1/s``.
    exclude_municipalities:
        Drop these municipalities' squares before apportioning (exact region totals,
        e.g. :data:`ALAND_MUNICIPALITIES`); needs ``municipality_table``.

    See the module docstring for the apportionment method and its guarantees: every
    column's total is preserved exactly (minus excluded municipalities).
    """
    t0 = time.perf_counter()
    source = str(path)
    try:
        df = pd.read_csv(path, dtype={"GRD_ID": str}, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise PopulationInputError(f"{source}: file not found") from None
    line = lambda i: f"line {i + 2} (header = line 1)"  # noqa: E731
    if "GRD_ID" not in df.columns:
        raise PopulationInputError(
            f"{source}: missing column 'GRD_ID' (columns: {list(df.columns)}); this loader "
            "reads Eurostat census grid CSVs"
        )
    raw_cols, out_cols = _resolve_columns(list(df.columns), columns, names)
    missing = [c for c in raw_cols if c not in df.columns]
    if missing:
        raise PopulationInputError(
            f"{source}: missing column(s) {missing} (columns: {list(df.columns)}); choose "
            "existing columns with columns=[...]"
        )
    if len(set(out_cols)) != len(out_cols) or "municipality" in out_cols:
        raise ValueError(f"output column names must be unique and not 'municipality': {out_cols}")
    if len(df) == 0:
        raise PopulationInputError(f"{source}: no data rows; nothing to load")
    ids = df["GRD_ID"].astype(str).str.strip()
    parsed = ids.str.extract(_GRD_ID_RE)
    bad = parsed["epsg"].isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise PopulationInputError(
            f"{source}: {line(i)}: GRD_ID {ids.iloc[i]!r} is not of the form "
            "'CRS3035RES1000mN6670000E5000000' (CRS, side, lower-left northing/easting)"
        )
    epsg = parsed["epsg"].to_numpy()
    if (epsg != epsg[0]).any():
        i = int(np.flatnonzero(epsg != epsg[0])[0])
        raise PopulationInputError(
            f"{source}: {line(i)}: GRD_ID {ids.iloc[i]!r} is in EPSG:{epsg[i]}, but line 2 "
            f"is in EPSG:{epsg[0]}; split the file by CRS"
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(ids == ids.iloc[int(np.flatnonzero(dup)[0])])[:2]
        raise PopulationInputError(
            f"{source}: GRD_ID {ids.iloc[rows[0]]!r} appears twice ({line(rows[0])} and "
            f"{line(rows[1])}); remove the duplicate row (duplicates are refused, not summed)"
        )
    values = _check_counts(df, raw_cols, line, source)
    unit = np.where(parsed["unit"].to_numpy() == "km", 1000.0, 1.0)
    size = parsed["size"].to_numpy(dtype=np.float64) * unit
    if (size <= 0).any():
        i = int(np.flatnonzero(size <= 0)[0])
        raise PopulationInputError(f"{source}: {line(i)}: square side is zero in {ids.iloc[i]!r}")
    north = parsed["n"].to_numpy(dtype=np.float64)
    east = parsed["e"].to_numpy(dtype=np.float64)
    crs = f"EPSG:{epsg[0]}"
    report: dict[str, Any] = {"source": source, "loader": "read_eurostat_grid"}
    muni = None
    if municipality_table is not None:
        muni = _lookup_municipality(ids, municipality_table, source, report)
        if report["squares_without_municipality"]:
            miss = np.array([m is None for m in muni])
            warnings.warn(
                f"{source}: {int(miss.sum()):,} squares ({int(values[miss, 0].sum()):,} "
                f"{out_cols[0]}) are not in the municipality table; their municipality is "
                "unknown",
                stacklevel=2,
            )
    elif exclude_municipalities is not None:
        raise ValueError("exclude_municipalities needs municipality_table")
    keep = np.ones(len(df), dtype=bool)
    if exclude_municipalities is not None:
        ex = {_code_str(c) for c in exclude_municipalities}
        keep = np.array([m not in ex for m in muni], dtype=bool)
        report["excluded_squares"] = int((~keep).sum())
        report["excluded"] = {c: int(values[~keep, j].sum()) for j, c in enumerate(out_cols)}
        if not keep.any():
            raise PopulationInputError(f"{source}: every square is in an excluded municipality")
    idx_keep = np.flatnonzero(keep)
    report["squares"] = int(idx_keep.size)
    grid = _squares_to_grid(
        x0=east[idx_keep],
        y0=north[idx_keep],
        width=size[idx_keep],
        height=size[idx_keep],
        values=values[idx_keep],
        muni=None if muni is None else muni[idx_keep],
        columns=out_cols,
        crs=crs,
        resolution=resolution,
        samples=samples,
        describe=lambda i: f"{line(int(idx_keep[i]))} (GRD_ID {ids.iloc[int(idx_keep[i])]})",
        source=source,
        report=report,
    )
    grid.load_report["seconds"] = round(time.perf_counter() - t0, 3)
    return grid


def _squares_to_grid(
    *,
    x0: npt.NDArray[np.float64],
    y0: npt.NDArray[np.float64],
    width: npt.NDArray[np.float64],
    height: npt.NDArray[np.float64],
    values: npt.NDArray[np.int64],
    muni: npt.NDArray[np.object_] | None,
    columns: list[str],
    crs: Any,
    resolution: int,
    samples: int,
    describe: Any,
    source: str,
    report: dict[str, Any],
    inside: Any = None,
) -> PopulationGrid:
    """Axis-aligned rectangles (lower-left x0, y0) -> PopulationGrid."""
    u = _lattice(samples)
    uu = np.tile(u, u.size)  # x offsets, row-major lattice
    vv = np.repeat(u, u.size)
    n_per = uu.size

    def sample_fn(lo: int, hi: int) -> tuple[npt.NDArray[np.int64], ...]:
        sq = np.repeat(np.arange(lo, hi, dtype=np.int64), n_per)
        x = (x0[lo:hi, None] + uu[None, :] * width[lo:hi, None]).ravel()
        y = (y0[lo:hi, None] + vv[None, :] * height[lo:hi, None]).ravel()
        if inside is not None:
            return inside(lo, hi, sq, x, y)
        return sq, x, y

    report["samples_per_square"] = n_per
    report["resolution"] = int(resolution)
    psq, pcell, shares = _apportion(
        x0.size, sample_fn, values, crs, resolution, n_per, describe, source
    )
    return _grid_from_parts(
        pcell, None if muni is None else muni[psq], shares, columns, resolution, report
    )


def _read_vector(
    path: str | os.PathLike[str], layer: str | int | None, columns: list[str]
) -> tuple[dict[str, Any], npt.NDArray[Any], npt.NDArray[Any], dict[str, npt.NDArray[Any]]]:
    """(meta, fids, WKB geometries, {column: values}) via pyogrio (or pyarrow for Parquet),
    reading only ``columns`` (those the layer has: the caller names the missing ones)."""
    source = str(path)
    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        import pyogrio

        if "Parquet" not in pyogrio.list_drivers():
            try:
                meta, fids, geom, fields = read_geoparquet(path, columns=columns)
            except GeoParquetError as e:
                raise PopulationInputError(str(e)) from None
            return meta, fids, geom, dict(zip(meta["fields"], fields, strict=True))
    import pyogrio.raw

    try:
        meta, fids, geom, fields = pyogrio.raw.read(
            path, layer=layer, columns=columns, return_fids=True
        )
    except Exception as e:  # pyogrio raises DataSourceError / DataLayerError
        raise PopulationInputError(f"{source}: cannot read ({e})") from None
    names = list(meta["fields"])
    data = {n: f for n, f in zip(names, fields, strict=True)}
    return meta, fids, geom, data


def _vector_fields(path: str | os.PathLike[str], layer: str | int | None) -> list[str]:
    """All column names of a vector layer (for error messages)."""
    try:
        if Path(path).suffix.lower() in (".parquet", ".geoparquet"):
            return geoparquet_fields(path)
        import pyogrio

        return [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]
    except Exception:  # only used to word an error; never hide the original one
        return []


def read_square_grid(
    path: str | os.PathLike[str],
    value_columns: Sequence[str] | Mapping[str, str],
    layer: str | int | None = None,
    id_column: str | None = None,
    *,
    resolution: int = DEFAULT_RESOLUTION,
    samples: int = DEFAULT_SAMPLES,
    cell_size: float | None = None,
    crs: Any = None,
    municipality_column: str | None = None,
    municipality_table: str | os.PathLike[str] | pd.DataFrame | Mapping[str, str] | None = None,
) -> PopulationGrid:
    """Read a square grid (GeoPackage, GeoParquet, GeoJSON, ...) and apportion it to H3.

    Features are polygons (their area is sampled; axis-aligned rectangles exactly on an
    ``s x s`` lattice, other shapes on their bounding-box lattice clipped to the shape)
    or centre points with ``cell_size`` (side of the square in CRS units). Any CRS known
    to pyproj; the file's CRS is used unless ``crs=`` overrides it (required when the
    file has none).

    Parameters
    ----------
    value_columns:
        Count columns to load, or a mapping source column -> output name.
    layer:
        Layer name or index (default: the first).
    id_column:
        Column with the square id: duplicates are refused naming both features, and
        ``municipality_table`` is keyed by it.
    municipality_column / municipality_table:
        Municipality code per feature, from a column or from an id -> code table.
    """
    t0 = time.perf_counter()
    source = str(path)
    if isinstance(value_columns, str):
        value_columns = [value_columns]
    if isinstance(value_columns, Mapping):
        src_cols, out_cols = list(value_columns), list(value_columns.values())
    else:
        src_cols, out_cols = list(value_columns), list(value_columns)
    if not src_cols:
        raise ValueError("value_columns is empty; name at least one count column")
    if len(set(out_cols)) != len(out_cols) or "municipality" in out_cols:
        raise ValueError(f"output column names must be unique and not 'municipality': {out_cols}")
    wanted = [*src_cols, *[c for c in (id_column, municipality_column) if c]]
    meta, fids, geom, data = _read_vector(path, layer, list(dict.fromkeys(wanted)))
    missing = [c for c in wanted if c not in data]
    if missing:
        raise PopulationInputError(
            f"{source}: missing column(s) {missing} (columns: {_vector_fields(path, layer)}); "
            "check value_columns / id_column / municipality_column"
        )
    n = len(geom)
    if n == 0:
        raise PopulationInputError(f"{source}: layer has no features; nothing to load")

    def where(i: int) -> str:
        s = f"feature {i} (FID {fids[i]}"
        if id_column:
            s += f", {id_column}={data[id_column][i]!r}"
        return s + ")"

    file_crs = crs if crs is not None else meta.get("crs")
    if file_crs is None:
        raise PopulationInputError(
            f"{source}: the layer has no CRS (or declares it unknown); pass crs='EPSG:....' "
            "(crs='EPSG:4326' for lon/lat degrees)"
        )
    frame = pd.DataFrame({c: data[c] for c in src_cols})
    values = _check_counts(frame, src_cols, where, source)
    if id_column:
        ids = pd.Series(data[id_column]).astype(str)
        dup = ids.duplicated(keep=False).to_numpy()
        if dup.any():
            rows = np.flatnonzero(ids == ids.iloc[int(np.flatnonzero(dup)[0])])[:2]
            raise PopulationInputError(
                f"{source}: {id_column} {ids.iloc[rows[0]]!r} appears twice ({where(rows[0])} "
                f"and {where(rows[1])}); remove the duplicate (duplicates are refused)"
            )
    import shapely

    null = np.array([g is None for g in geom], dtype=bool)
    if null.any():
        i = int(np.flatnonzero(null)[0])
        raise PopulationInputError(f"{source}: {where(i)} has no geometry; remove it")
    geoms = shapely.from_wkb(geom)
    gtype = shapely.get_type_id(geoms)
    report: dict[str, Any] = {"source": source, "loader": "read_square_grid", "squares": n}
    muni = None
    if municipality_column:
        muni = _as_object_codes(data[municipality_column])
    elif municipality_table is not None:
        if not id_column:
            raise ValueError("municipality_table needs id_column= (the key of the table)")
        muni = _lookup_municipality(
            pd.Series(data[id_column]).astype(str), municipality_table, source, report
        )
    if muni is not None and any(m is None for m in muni):
        miss = np.array([m is None for m in muni])
        report["squares_without_municipality"] = int(miss.sum())
        warnings.warn(
            f"{source}: {int(miss.sum()):,} features ({int(values[miss, 0].sum()):,} "
            f"{out_cols[0]}) have no municipality; their municipality is unknown",
            stacklevel=2,
        )
    common = dict(
        values=values,
        muni=muni,
        columns=out_cols,
        crs=file_crs,
        resolution=resolution,
        samples=samples,
        describe=where,
        source=source,
        report=report,
    )
    if (gtype == 0).all():  # points
        if cell_size is None or not cell_size > 0:
            raise PopulationInputError(
                f"{source}: features are points (square centres); pass cell_size= (side of "
                "the square in the CRS units, e.g. 1000 for a 1 km grid in metres)"
            )
        x, y = shapely.get_x(geoms), shapely.get_y(geoms)
        half = float(cell_size) / 2
        w = np.full(n, float(cell_size))
        grid = _squares_to_grid(x0=x - half, y0=y - half, width=w, height=w, **common)
    elif np.isin(gtype, (3, 6)).all():  # (multi)polygons
        b = shapely.bounds(geoms)
        w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        area = shapely.area(geoms)
        degenerate = ~(area > 0)
        if degenerate.any():
            i = int(np.flatnonzero(degenerate)[0])
            raise PopulationInputError(f"{source}: {where(i)} is an empty or zero-area polygon")
        rect = np.abs(area - w * h) <= 1e-9 * w * h
        report["non_rectangular_polygons"] = int((~rect).sum())
        inside = None
        if not rect.all():
            rep = shapely.point_on_surface(geoms)
            rx, ry = shapely.get_x(rep), shapely.get_y(rep)

            def inside(lo: int, hi: int, sq: Any, x: Any, y: Any) -> tuple[Any, ...]:
                ok = rect[sq] | shapely.contains_xy(geoms[sq], x, y)
                has = np.zeros(hi - lo, dtype=bool)
                has[sq[ok] - lo] = True
                lone = np.flatnonzero(~has) + lo  # too thin for the lattice
                sq2 = np.concatenate([sq[ok], lone])
                x2 = np.concatenate([x[ok], rx[lone]])
                y2 = np.concatenate([y[ok], ry[lone]])
                order = np.argsort(sq2, kind="stable")
                return sq2[order], x2[order], y2[order]

        grid = _squares_to_grid(x0=b[:, 0], y0=b[:, 1], width=w, height=h, inside=inside, **common)
    else:
        i = int(np.flatnonzero(~np.isin(gtype, (0, 3, 6)) | (gtype != gtype[0]))[0])
        raise PopulationInputError(
            f"{source}: {where(i)} has geometry type {shapely.get_type_id(geoms[i])} "
            "(expected all polygons or all points)"
        )
    grid.load_report["seconds"] = round(time.perf_counter() - t0, 3)
    return grid


def read_population_raster(
    path: str | os.PathLike[str],
    band: int = 1,
    *,
    resolution: int = DEFAULT_RESOLUTION,
    samples: int = 3,
    column: str = "total",
    crs: Any = None,
) -> PopulationGrid:
    """Read a population raster (WorldPop, GHS-POP GeoTIFF) and apportion it to H3.

    Each pixel is a parallelogram given by the raster's affine transform, in the raster's
    CRS (or ``crs=`` when the file has none), sampled on an ``s x s`` lattice (default
    ``s=3``: population pixels are usually much smaller than the H3 cells). Nodata pixels
    (the band's nodata value, and NaN) and zero pixels are skipped; negative values are
    refused.

    Integer rasters are apportioned exactly (largest remainder per pixel, totals
    preserved). Float rasters (WorldPop and GHS-POP estimate fractional people) are
    shared exactly in real numbers, summed per cell, and then rounded to integers by the
    largest-remainder method over all cells, so the grid total is the raster total
    rounded to the nearest person (recorded in ``load_report['raster_total']``).
    """
    import rasterio

    t0 = time.perf_counter()
    source = str(path)
    try:
        ds = rasterio.open(path)
    except Exception as e:
        raise PopulationInputError(f"{source}: cannot open raster ({e})") from None
    with ds:
        if not 1 <= band <= ds.count:
            raise PopulationInputError(f"{source}: band {band} does not exist (1..{ds.count})")
        arr = ds.read(band, masked=True)
        tf = ds.transform
        rcrs = crs if crs is not None else ds.crs
        if rcrs is None:
            raise PopulationInputError(f"{source}: the raster has no CRS; pass crs='EPSG:....'")
        if hasattr(rcrs, "to_wkt"):
            rcrs = rcrs.to_wkt()
    data = np.ma.getdata(arr)
    mask = np.ma.getmaskarray(arr)
    integer = np.issubdtype(data.dtype, np.integer)
    if not integer:
        mask = mask | np.isnan(data)
    neg = ~mask & (data < 0)
    if neg.any():
        r, c = np.argwhere(neg)[0]
        raise PopulationInputError(
            f"{source}: pixel (row {r}, col {c}) is {data[r, c]} (negative); declare it as "
            "the band's nodata value or fix the raster"
        )
    if not integer:
        inf = ~mask & ~np.isfinite(data)
        if inf.any():
            r, c = np.argwhere(inf)[0]
            raise PopulationInputError(f"{source}: pixel (row {r}, col {c}) is infinite")
    sel = ~mask & (data > 0)
    rows, cols = np.nonzero(sel)
    if rows.size == 0:
        raise PopulationInputError(f"{source}: band {band} has no populated pixel")
    vals = data[rows, cols]
    values = vals.astype(np.int64 if integer else np.float64)[:, None]
    u = _lattice(samples)
    uu = np.tile(u, u.size)
    vv = np.repeat(u, u.size)
    n_per = uu.size

    def sample_fn(lo: int, hi: int) -> tuple[npt.NDArray[Any], ...]:
        sq = np.repeat(np.arange(lo, hi, dtype=np.int64), n_per)
        cc = (cols[lo:hi, None] + uu[None, :]).ravel()
        rr = (rows[lo:hi, None] + vv[None, :]).ravel()
        x = tf.a * cc + tf.b * rr + tf.c
        y = tf.d * cc + tf.e * rr + tf.f
        return sq, x, y

    describe = lambda i: f"pixel (row {rows[i]}, col {cols[i]})"  # noqa: E731
    report: dict[str, Any] = {
        "source": source,
        "loader": "read_population_raster",
        "pixels": int(rows.size),
        "samples_per_square": n_per,
        "resolution": int(resolution),
    }
    _psq, pcell, shares = _apportion(
        rows.size, sample_fn, values, rcrs, resolution, n_per, describe, source
    )
    if not integer:
        report["raster_total"] = float(values.sum())
        uc, inv = np.unique(pcell, return_inverse=True)
        sums = np.zeros((uc.size, 1), dtype=np.float64)
        np.add.at(sums, inv, shares)
        pcell, shares = uc, _integerise_global(sums, uc)
    grid = _grid_from_parts(pcell, None, shares, [column], resolution, report)
    grid.load_report["seconds"] = round(time.perf_counter() - t0, 3)
    return grid


def read_h3_table(
    path_or_frame: str | os.PathLike[str] | pd.DataFrame,
    cell_column: str = "h3",
    value_columns: Sequence[str] | Mapping[str, str] | None = None,
    *,
    resolution: int | None = None,
    municipality_column: str | None = None,
) -> PopulationGrid:
    """Read a table of people per H3 cell (CSV, Parquet or a DataFrame).

    Cells are hexadecimal strings (``'881f1d4a9bfffff'``) or integers. ``value_columns``
    (default: every numeric column except the cell and municipality columns) must hold
    non-negative whole numbers.

    Resolution: by default all cells must share one resolution. With ``resolution=r``,
    cells finer than ``r`` are aggregated exactly to their parent at ``r`` (their counts
    summed; the parent's municipality is the one with most people, ties to the lower
    code); cells coarser than ``r`` are refused, since splitting them would invent a
    distribution. Duplicate cells (before aggregation) are refused, naming both rows.
    """
    if isinstance(path_or_frame, pd.DataFrame):
        df = path_or_frame.reset_index(drop=True)
        source = "DataFrame"
        where = lambda i: f"row {i} (0-based)"  # noqa: E731
    else:
        source = str(path_or_frame)
        suffix = Path(path_or_frame).suffix.lower()
        try:
            if suffix in (".parquet", ".pq"):
                df = pd.read_parquet(path_or_frame)
                where = lambda i: f"row {i} (0-based)"  # noqa: E731
            else:
                dtypes = {cell_column: str}
                if municipality_column:
                    dtypes[municipality_column] = str
                df = pd.read_csv(path_or_frame, dtype=dtypes, keep_default_na=False, na_values=[""])
                where = lambda i: f"line {i + 2} (header = line 1)"  # noqa: E731
        except FileNotFoundError:
            raise PopulationInputError(f"{source}: file not found") from None
    if cell_column not in df.columns:
        raise PopulationInputError(
            f"{source}: missing cell column {cell_column!r} (columns: {list(df.columns)}); "
            "pass cell_column="
        )
    if len(df) == 0:
        raise PopulationInputError(f"{source}: no rows; nothing to load")
    if value_columns is None:
        src_cols = [
            c
            for c in df.columns
            if c not in (cell_column, municipality_column) and pd.api.types.is_numeric_dtype(df[c])
        ]
        out_cols = list(src_cols)
        if not src_cols:
            raise PopulationInputError(f"{source}: no numeric count column; pass value_columns=")
    elif isinstance(value_columns, Mapping):
        src_cols, out_cols = list(value_columns), list(value_columns.values())
    else:
        src_cols = [value_columns] if isinstance(value_columns, str) else list(value_columns)
        out_cols = list(src_cols)
    missing = [
        c
        for c in [*src_cols, *([municipality_column] if municipality_column else [])]
        if c not in df.columns
    ]
    if missing:
        raise PopulationInputError(
            f"{source}: missing column(s) {missing} (columns: {list(df.columns)})"
        )
    raw = df[cell_column]
    if pd.api.types.is_integer_dtype(raw):
        if (raw.to_numpy() < 0).any():
            i = int(np.flatnonzero(raw.to_numpy() < 0)[0])
            raise PopulationInputError(f"{source}: {where(i)}: {raw.iloc[i]} is not an H3 cell")
        cells = raw.to_numpy().astype(np.uint64)
    else:
        try:
            cells = str_to_cell([str(s).strip() for s in raw])
        except ValueError as e:
            i = int(re.match(r"entry (\d+)", str(e)).group(1))  # type: ignore[union-attr]
            raise PopulationInputError(
                f"{source}: {where(i)}: {raw.iloc[i]!r} is not a hexadecimal H3 cell id"
            ) from None
    valid = _valid_cell_mask(cells)
    if not valid.all():
        i = int(np.flatnonzero(~valid)[0])
        raise PopulationInputError(f"{source}: {where(i)}: {raw.iloc[i]!r} is not a valid H3 cell")
    dup = pd.Series(cells).duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(cells == cells[int(np.flatnonzero(dup)[0])])[:2]
        raise PopulationInputError(
            f"{source}: cell {raw.iloc[rows[0]]} appears twice ({where(rows[0])} and "
            f"{where(rows[1])}); remove the duplicate (duplicates are refused, not summed)"
        )
    values = _check_counts(df, src_cols, where, source)
    res = cell_resolution(cells)
    report: dict[str, Any] = {"source": source, "loader": "read_h3_table", "rows": len(df)}
    if resolution is None:
        if (res != res[0]).any():
            i = int(np.flatnonzero(res != res[0])[0])
            raise PopulationInputError(
                f"{source}: {where(i)}: cell is at resolution {res[i]} but the first is at "
                f"{res[0]}; pass resolution=<coarsest> to aggregate finer cells"
            )
        resolution = int(res[0])
    else:
        resolution = int(resolution)
        if not 0 <= resolution <= 15:
            raise ValueError(f"H3 resolution must be in 0..15, got {resolution}")
        coarse = res < resolution
        if coarse.any():
            i = int(np.flatnonzero(coarse)[0])
            raise PopulationInputError(
                f"{source}: {where(i)}: cell is at resolution {res[i]}, coarser than the "
                f"requested {resolution}; cells cannot be split without assumptions: request "
                f"resolution={int(res.min())} or apportion the coarse cells yourself"
            )
        report["aggregated_cells"] = int((res > resolution).sum())
        cells = cell_to_parent(cells, resolution)
    muni = _as_object_codes(df[municipality_column].to_numpy()) if municipality_column else None
    return _grid_from_parts(cells, muni, values, out_cols, resolution, report)
