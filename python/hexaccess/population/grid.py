"""The population model: :class:`PopulationGrid`, people per H3 cell at one resolution.

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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess import defaults
from hexaccess.errors import PopulationInputError, UnknownNameError
from hexaccess.h3 import cell_centers, cell_resolution, cell_to_parent, mean_cell_area_km2
from hexaccess.population._checks import _warn_user
from hexaccess.population.municipalities import (
    _as_object_codes,
    _check_codes_known,
    _code_str,
)

#: H3 resolution of the loaders' result unless told otherwise (cells of ~0.74 km²).
DEFAULT_RESOLUTION = defaults.RESOLUTION

#: Finest H3 resolution the readers that apportion squares, polygons and pixels accept
#: (cells of ~307 m², ~9 m edge). Finer cells are smaller than the sample lattice of any
#: real population grid (a 1 km square sampled 10 x 10 has 100 m sub-squares), so they
#: would receive people at the sample points only; a table already keyed by finer H3
#: cells is still read as it is (up to H3's 15).
MAX_APPORTION_RESOLUTION = 12


def _check_resolution(resolution: object, *, apportion: bool = False) -> int:
    """``resolution`` given for a population grid: a whole number in H3's 0..15 (0..12
    with ``apportion``, see :data:`MAX_APPORTION_RESOLUTION`)."""
    if isinstance(resolution, bool) or not (
        isinstance(resolution, (int, np.integer))
        or (isinstance(resolution, (float, np.floating)) and float(resolution).is_integer())
    ):
        raise PopulationInputError(
            f"H3 resolution must be a whole number in 0..15, got {resolution!r}"
        )
    res = int(resolution)
    if not 0 <= res <= 15:
        raise PopulationInputError(f"H3 resolution must be in 0..15, got {res}")
    if apportion and res > MAX_APPORTION_RESOLUTION:
        raise PopulationInputError(
            f"H3 resolution {res} is finer than population squares and pixels can be "
            f"shared out to (at most {MAX_APPORTION_RESOLUTION}: cells of ~300 m²; finer "
            "cells would get people only at the sample points); use resolution <= "
            f"{MAX_APPORTION_RESOLUTION}, or give a table already keyed by H3 cells"
        )
    return res


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
        resolution = _check_resolution(resolution)
        frame, idx = _sorted_cells(frame, resolution)
        cols = [c for c in frame.columns if c != "municipality"]
        if not cols:
            raise PopulationInputError("PopulationGrid needs at least one attribute column")
        data = {c: _attribute_column(frame, c) for c in cols}
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
        columns = self._column_list(columns)
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
        if column is None:
            column = "total" if "total" in self._columns else self._columns[0]
        self._check_columns([column])
        cells = np.asarray(cells, dtype=np.uint64)
        if cells.size == 0:
            return np.zeros(0)
        r = _one_resolution(cells)
        people = pd.Series(self._frame[column].to_numpy(dtype=float), index=self.cells)
        if r >= self._resolution:
            key = cell_to_parent(cells, self._resolution)
            area = mean_cell_area_km2(self._resolution)
        else:  # coarser cells: the people of the grid cells under each
            key = cells
            area = mean_cell_area_km2(r)
            people = people.groupby(cell_to_parent(self.cells, r)).sum()
        return people.reindex(key).fillna(0.0).to_numpy() / area

    def municipality_totals(self, columns: str | Sequence[str] | None = None) -> pd.DataFrame:
        """People per municipality code (index; unknown -> ``None`` row dropped).

        Uses the exact (cell, municipality) breakdown when available, i.e. the people who
        live in each municipality's squares; otherwise sums whole cells by their
        municipality.
        """
        columns = self._column_list(columns)
        src = self._parts if self._parts is not None else self._frame
        if "municipality" not in src.columns:
            raise PopulationInputError("this grid has no municipality information")
        known = src[src["municipality"].notna()]
        out = known.groupby("municipality", sort=True)[columns].sum()
        out.index = out.index.astype(object)
        return out

    def _column_list(self, columns: str | Sequence[str] | None) -> list[str]:
        """``columns`` as a checked list; ``None`` means every attribute column."""
        if columns is None:
            columns = self._columns
        elif isinstance(columns, str):
            columns = [columns]
        columns = list(columns)
        self._check_columns(columns)
        return columns

    def _check_columns(self, columns: Sequence[str]) -> None:
        missing = [c for c in columns if c not in self._columns]
        if missing:
            raise UnknownNameError(
                f"unknown attribute column(s) {missing}; available: {self._columns}"
            )

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

        Every code must be a municipality of the grid: a code that matches none (a typo
        such as ``'0091'``, a code that lost its zeros, a municipality without people)
        is refused, naming the near matches, since it would filter no one.
        """
        codes, unknown = _filter_arguments(exclude, include, unknown)
        src = self._municipality_rows()
        option = "exclude" if exclude is not None else "include"
        given = [_code_str(c) for c in (exclude if exclude is not None else include)]  # type: ignore[union-attr]
        muni = src["municipality"].to_numpy(dtype=object)
        is_unknown = pd.isna(muni)
        listed = np.array([m in codes for m in muni], dtype=bool) & ~is_unknown
        keep = ~listed if exclude is not None else listed
        unk_cells = int(np.unique(src["cell"].to_numpy()[is_unknown]).size)
        unk_people = {c: int(src[c].to_numpy()[is_unknown].sum()) for c in self._columns}
        if unk_cells:
            keep = self._apply_unknown_policy(keep, is_unknown, unknown, unk_cells, unk_people)
        kept_src = src[keep]
        known = {m for m in muni[~is_unknown]}
        if not kept_src[self._columns].to_numpy().any():
            missing = [c for c in dict.fromkeys(given) if c not in known]
            raise PopulationInputError(
                f"filter_municipalities removed every cell ({len(self):,} before); "
                "check the codes (they are strings with leading zeros, e.g. '091')"
                + (f"; {missing} match no municipality of the grid" if missing else "")
            )
        source = self.load_report.get("source", "")
        _check_codes_known(given, known, f"the population grid {source}".strip(), option)
        new = self._kept_grid(kept_src, keep)
        action = ("kept" if unknown == "keep" else "dropped") if unk_cells else "-"
        new.filter_report = self._filter_report(
            src, keep, kept_src, len(new), (unk_cells, unk_people, action)
        )
        return new

    def _municipality_rows(self) -> pd.DataFrame:
        """Rows to filter: the (cell, municipality) parts, else the cells themselves."""
        src = self._parts if self._parts is not None else self._frame.reset_index()
        if "municipality" not in src.columns:
            raise PopulationInputError(
                "this grid has no municipality information; load it with "
                "municipality_table=... (or a municipality column) to filter by region"
            )
        return src

    def _apply_unknown_policy(
        self,
        keep: npt.NDArray[np.bool_],
        is_unknown: npt.NDArray[np.bool_],
        unknown: str,
        unk_cells: int,
        unk_people: dict[str, int],
    ) -> npt.NDArray[np.bool_]:
        """Keep, drop or refuse the rows of unknown municipality, and say so."""
        col0 = self._columns[0]
        if unknown == "error":
            raise PopulationInputError(
                f"{unk_cells:,} cells ({unk_people[col0]:,} {col0}) have an unknown "
                "municipality; complete the municipality table or pass unknown='keep'/'drop'"
            )
        action = "kept" if unknown == "keep" else "dropped"
        _warn_user(
            f"filter_municipalities: {unk_cells:,} cells with {unk_people[col0]:,} "
            f"{col0} have an unknown municipality and were {action}"
        )
        return np.where(is_unknown, unknown == "keep", keep)

    def _kept_grid(self, kept_src: pd.DataFrame, keep: npt.NDArray[np.bool_]) -> PopulationGrid:
        """The grid of the kept rows: parts re-aggregated (border cells split), or whole
        cells selected."""
        if self._parts is None:
            fr = self._frame[keep]
            return PopulationGrid(fr, self._resolution, load_report=self.load_report)
        return _grid_from_parts(
            kept_src["cell"].to_numpy(dtype=np.uint64),
            kept_src["municipality"].to_numpy(dtype=object),
            kept_src[self._columns].to_numpy(dtype=np.int64),
            self._columns,
            self._resolution,
            load_report=self.load_report,
        )

    def _filter_report(
        self,
        src: pd.DataFrame,
        keep: npt.NDArray[np.bool_],
        kept_src: pd.DataFrame,
        cells_after: int,
        unknown: tuple[int, dict[str, int], str],
    ) -> FilterReport:
        """Cells and people kept, removed and split; ``unknown`` is ``(cells, people,
        action)`` of the rows whose municipality is unknown."""
        cells_all = src["cell"].to_numpy(dtype=np.uint64)
        removed_cells = np.unique(cells_all[~keep])
        kept_cells = np.unique(kept_src["cell"].to_numpy(dtype=np.uint64))
        split = int(np.intersect1d(removed_cells, kept_cells, assume_unique=True).size)
        return FilterReport(
            cells_before=len(self),
            cells_after=cells_after,
            cells_removed=len(self) - cells_after,
            cells_split=split,
            removed={c: int(src[c].to_numpy()[~keep].sum()) for c in self._columns},
            kept={c: int(kept_src[c].to_numpy().sum()) for c in self._columns},
            unknown_cells=unknown[0],
            unknown_people=unknown[1],
            unknown_action=unknown[2],
        )


def _filter_arguments(
    exclude: Sequence[str] | None, include: Sequence[str] | None, unknown: str | None
) -> tuple[set[str], str]:
    """``(codes, unknown policy)`` of a filter call, checked; the policy defaults to
    keeping the unknown with ``exclude`` and dropping it with ``include``."""
    if (exclude is None) == (include is None):
        raise PopulationInputError("give exactly one of exclude= or include= (municipality codes)")
    codes = exclude if exclude is not None else include
    if isinstance(codes, str):
        raise PopulationInputError("municipality codes must be a list of strings, not one string")
    codes_set = {_code_str(c) for c in codes}  # type: ignore[union-attr]
    if unknown is None:
        unknown = "keep" if exclude is not None else "drop"
    if unknown not in ("keep", "drop", "error"):
        raise PopulationInputError(f"unknown= must be 'keep', 'drop' or 'error', got {unknown!r}")
    return codes_set, unknown


def _sorted_cells(
    frame: pd.DataFrame, resolution: int
) -> tuple[pd.DataFrame, npt.NDArray[np.uint64]]:
    """``frame`` sorted by cell, with the cells; repeated cells and cells at another
    resolution are refused."""
    idx = np.asarray(frame.index, dtype=np.uint64)
    if idx.size and not (np.all(idx[1:] > idx[:-1])):
        frame = frame.sort_index()
        idx = np.asarray(frame.index, dtype=np.uint64)
        if np.any(idx[1:] == idx[:-1]):
            raise PopulationInputError("PopulationGrid frame index has duplicate cells")
    if idx.size and not (cell_resolution(idx) == resolution).all():
        bad = idx[cell_resolution(idx) != resolution][0]
        raise PopulationInputError(
            f"cell {int(bad):x} is at resolution {cell_resolution([bad])[0]}, not {resolution}"
        )
    return frame, idx


def _attribute_column(frame: pd.DataFrame, c: Any) -> npt.NDArray[np.int64]:
    """One attribute column as int64: integer, non-negative counts only."""
    v = frame[c].to_numpy()
    if not np.issubdtype(v.dtype, np.integer):
        raise PopulationInputError(f"attribute column {c!r} must be integer, got {v.dtype}")
    if v.size and v.min() < 0:
        raise PopulationInputError(f"attribute column {c!r} has negative counts")
    return v.astype(np.int64)


def _one_resolution(cells: npt.NDArray[np.uint64]) -> int:
    """The resolution shared by every cell of ``cells`` (refused when they differ)."""
    res = cell_resolution(cells)
    r = int(res[0])
    if (res != r).any():
        i = int(np.flatnonzero(res != r)[0])
        raise PopulationInputError(
            f"density_per_km2: cell {i} ({int(cells[i]):x}) is at resolution {res[i]}, "
            f"cell 0 at {r}; give cells of one resolution"
        )
    return r


# ----------------------------------------------------------------------------------------
# pieces (cell, municipality, counts) -> grid
# ----------------------------------------------------------------------------------------


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
        return _grid_from_cells(cell, vals, columns, resolution, report)
    return _grid_from_municipality_parts(cell, muni, vals, columns, resolution, report)


def _grid_from_cells(
    cell: npt.NDArray[np.uint64],
    vals: npt.NDArray[np.int64],
    columns: list[str],
    resolution: int,
    report: dict[str, Any],
) -> PopulationGrid:
    """Pieces without municipality: summed per cell, empty cells dropped."""
    uc, inv = np.unique(cell, return_inverse=True)
    sums = np.zeros((uc.size, len(columns)), dtype=np.int64)
    np.add.at(sums, inv, vals)
    nz = sums.any(axis=1)
    report["zero_cells_dropped"] = int((~nz).sum())
    frame = pd.DataFrame(sums[nz], columns=columns, index=pd.Index(uc[nz], dtype=np.uint64))
    return PopulationGrid(frame, resolution, load_report=report)


def _grid_from_municipality_parts(
    cell: npt.NDArray[np.uint64],
    muni: npt.NDArray[np.object_],
    vals: npt.NDArray[np.int64],
    columns: list[str],
    resolution: int,
    report: dict[str, Any],
) -> PopulationGrid:
    """Pieces with municipality: summed per (cell, municipality) into ``parts``, then per
    cell; each cell takes the municipality with most people."""
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
    cell_muni = codes_ext[_plurality(p_cell_i, p_muni_i, psums, columns)]
    frame = pd.DataFrame(sums, columns=columns, index=pd.Index(uc[present], dtype=np.uint64))
    frame["municipality"] = pd.Series(cell_muni, index=frame.index, dtype=object)
    return PopulationGrid(frame, resolution, parts=parts, load_report=report)


def _plurality(
    p_cell_i: npt.NDArray[np.int64],
    p_muni_i: npt.NDArray[np.int64],
    psums: npt.NDArray[np.int64],
    columns: list[str],
) -> npt.NDArray[np.int64]:
    """Municipality index of each cell: most people on 'total' (or the first column);
    ties to the lower code, and a known code (lower index) before the unknown."""
    main = columns.index("total") if "total" in columns else 0
    order = np.lexsort((p_muni_i, -psums[:, main], p_cell_i))
    first = order[np.r_[True, p_cell_i[order][1:] != p_cell_i[order][:-1]]]
    return p_muni_i[first]
