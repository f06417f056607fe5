"""Service offices: the supply side (sources) of an accessibility computation.

:class:`Offices` is a DataFrame-backed list of offices with WGS84 coordinates and the
attributes planners pin, forbid and compare sites by: ``agency``, ``fixed`` (must stay
in any optimised network), ``capacity`` and ``municipality``.

:func:`read_offices` reads CSV, GeoJSON or GeoPackage. Coordinates come from, in order:
point geometry (vector files), ``lon``/``lat`` columns (WGS84), ``x``/``y`` columns in
``crs``, or - for offices with none of these - the centre of their ``municipality``
(from a municipalities table such as ``finland/municipalities.csv``, see
:func:`read_municipalities`).

Errors (:class:`OfficeInputError`, a ``ValueError``) name the office and the fix:
unknown municipality code, missing or out-of-range coordinates, missing name, bad
``fixed``/``capacity`` values, an empty file. Duplicate names and offices at identical
coordinates are legal (two agencies in one building) but warned about.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["OfficeInputError", "Offices", "read_municipalities", "read_offices"]

_MUNICIPALITY_COLUMNS = (
    "municipality",
    "name_fi",
    "name_sv",
    "language",
    "region",
    "centre_lon",
    "centre_lat",
)
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", ""}


class OfficeInputError(ValueError):
    """Office or municipality input that cannot be used; the message names the office."""


def read_municipalities(path: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """Read a municipalities table (e.g. ``finland/municipalities.csv``).

    Returns a DataFrame indexed by municipality code (``str``, leading zeros kept) with
    the file's columns (``name_fi``, ``name_sv``, ``language``, ``region``,
    ``population_2019``, ``population_2022``, ``centre_lon``, ``centre_lat``) plus derived
    ``bilingual`` (bool) and ``majority_language`` (``'fi'`` / ``'sv'``, or ``None`` when
    the status text is not recognised), parsed from the Statistics Finland language
    status ("Monolingual Finnish-speaking municipality", "Bilingual municipality with
    Swedish-speaking majority", ...).
    """
    if isinstance(path, pd.DataFrame):
        df = path.reset_index() if path.index.name == "municipality" else path.copy()
        source = "municipalities table"
    else:
        source = str(path)
        try:
            df = pd.read_csv(path, dtype={"municipality": str})
        except FileNotFoundError:
            raise OfficeInputError(f"{source}: file not found") from None
    missing = [c for c in _MUNICIPALITY_COLUMNS if c not in df.columns]
    if missing:
        raise OfficeInputError(
            f"{source}: missing column(s) {missing} (columns: {list(df.columns)})"
        )
    if pd.api.types.is_numeric_dtype(df["municipality"]):
        raise OfficeInputError(
            f"{source}: municipality codes are numbers and lost their leading zeros; read "
            "them as strings (dtype=str)"
        )
    codes = df["municipality"].astype(str).str.strip()
    dup = codes.duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(codes == codes[dup].iloc[0])[:2]
        raise OfficeInputError(
            f"{source}: municipality {codes.iloc[rows[0]]!r} appears twice (lines "
            f"{rows[0] + 2} and {rows[1] + 2}, header = line 1)"
        )
    lon = pd.to_numeric(df["centre_lon"], errors="coerce").to_numpy(dtype=np.float64)
    lat = pd.to_numeric(df["centre_lat"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise OfficeInputError(
            f"{source}: line {i + 2} (municipality {codes.iloc[i]}): centre "
            f"({df['centre_lon'].iloc[i]}, {df['centre_lat'].iloc[i]}) is not valid WGS84 lon/lat"
        )
    out = df.copy()
    out["municipality"] = codes
    out["centre_lon"], out["centre_lat"] = lon, lat
    lang = out["language"].astype(str).str.lower()
    out["bilingual"] = lang.str.contains("bilingual").to_numpy(dtype=bool)
    maj = np.full(len(out), None, dtype=object)
    maj[lang.str.contains("finnish-speaking").to_numpy(dtype=bool)] = "fi"
    maj[lang.str.contains("swedish-speaking").to_numpy(dtype=bool)] = "sv"
    out["majority_language"] = maj
    return out.set_index("municipality")


class Offices:
    """Service offices, backed by a DataFrame.

    Columns: ``name`` (str), ``lon``, ``lat`` (WGS84 degrees), ``agency`` (str or None),
    ``fixed`` (bool), ``capacity`` (float, NaN = unknown/unlimited), ``municipality``
    (str code or None), ``coord_source`` (``'geometry'``, ``'lonlat'``, ``'xy'`` or
    ``'municipality_centre'``), then any extra columns of the input file unchanged.
    Row order is the input order; an office's position is its source index for the
    engine.
    """

    COLUMNS = ("name", "lon", "lat", "agency", "fixed", "capacity", "municipality")

    def __init__(self, frame: pd.DataFrame) -> None:
        missing = [c for c in ("name", "lon", "lat") if c not in frame.columns]
        if missing:
            raise ValueError(f"Offices frame lacks column(s) {missing}")
        df = frame.reset_index(drop=True).copy()
        if len(df) == 0:
            raise OfficeInputError("no offices")
        df["name"] = df["name"].astype(object)
        for c, default in (("agency", None), ("municipality", None)):
            if c not in df.columns:
                df[c] = default
            df[c] = df[c].astype(object).where(df[c].notna(), None)
        if "fixed" not in df.columns:
            df["fixed"] = False
        df["fixed"] = df["fixed"].astype(bool)
        if "capacity" not in df.columns:
            df["capacity"] = np.nan
        df["capacity"] = df["capacity"].astype(np.float64)
        df["lon"] = df["lon"].astype(np.float64)
        df["lat"] = df["lat"].astype(np.float64)
        _check_lonlat(df["lon"].to_numpy(), df["lat"].to_numpy(), df["name"].to_numpy(), "offices")
        first = [c for c in self.COLUMNS if c in df.columns]
        self._frame = df[first + [c for c in df.columns if c not in first]]

    @property
    def frame(self) -> pd.DataFrame:
        """The backing DataFrame."""
        return self._frame

    @property
    def names(self) -> list[str]:
        """Office names in order."""
        return [str(x) for x in self._frame["name"]]

    @property
    def lon(self) -> npt.NDArray[np.float64]:
        """Longitudes (WGS84 degrees)."""
        return self._frame["lon"].to_numpy(dtype=np.float64)

    @property
    def lat(self) -> npt.NDArray[np.float64]:
        """Latitudes (WGS84 degrees)."""
        return self._frame["lat"].to_numpy(dtype=np.float64)

    @property
    def fixed(self) -> npt.NDArray[np.bool_]:
        """Mask of offices that must stay open in an optimisation."""
        return self._frame["fixed"].to_numpy(dtype=bool)

    def __len__(self) -> int:
        return len(self._frame)

    def to_cells(self, resolution: int) -> npt.NDArray[np.uint64]:
        """H3 cell of each office at ``resolution``."""
        from hexaccess.h3cells import latlng_to_cells

        return latlng_to_cells(self.lat, self.lon, resolution)

    def subset(self, mask_or_names: npt.ArrayLike | Sequence[str]) -> Offices:
        """Offices selected by a boolean mask or by a list of names (unknown name: error)."""
        sel = np.asarray(mask_or_names)
        if sel.dtype == bool:
            return Offices(self._frame[sel])
        names = list(mask_or_names)  # type: ignore[arg-type]
        unknown = sorted(set(names) - set(self.names))
        if unknown:
            raise KeyError(f"unknown office name(s): {unknown}")
        return Offices(self._frame[self._frame["name"].isin(names)])

    def __repr__(self) -> str:
        parts = [f"{len(self)} offices", f"{int(self.fixed.sum())} fixed"]
        ag = self._frame["agency"].dropna()
        if len(ag):
            parts.append(f"agencies={sorted(set(ag))}")
        return f"Offices({', '.join(parts)})"


def _check_lonlat(
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    names: Any,
    source: str,
    hint: str = "",
) -> None:
    bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise OfficeInputError(
            f"{source}: office {names[i]!r} (row {i + 1}): coordinates (lon={lon[i]}, "
            f"lat={lat[i]}) are outside WGS84 range (|lon| <= 180, |lat| <= 90){hint}"
        )


def _parse_bool(values: pd.Series, names: Any, column: str, source: str) -> npt.NDArray[np.bool_]:
    out = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)):
            out[i] = bool(v)
            continue
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        s = str(v).strip().lower()
        if s in _TRUE:
            out[i] = True
        elif s not in _FALSE:
            raise OfficeInputError(
                f"{source}: office {names[i]!r}: {column}={v!r} is not true/false; use "
                "true/false, yes/no or 1/0"
            )
    return out


def _read_table(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, Any, str]:
    """(attribute table, point geometry xy or None, file CRS or None)."""
    source = str(path)
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        try:
            df = pd.read_csv(
                path,
                sep="\t" if suffix == ".tsv" else ",",
                dtype={"municipality": str, "name": str, "agency": str},
                keep_default_na=False,
                na_values=[""],
            )
        except FileNotFoundError:
            raise OfficeInputError(f"{source}: file not found") from None
        return df, None, None
    import pyogrio.raw
    import shapely

    try:
        meta, _, geom, fields = pyogrio.raw.read(path)
    except Exception as e:
        raise OfficeInputError(f"{source}: cannot read ({e})") from None
    df = pd.DataFrame({n: f for n, f in zip(meta["fields"], fields, strict=True)})
    xy = None
    if geom is not None and len(geom):
        g = shapely.from_wkb(geom)
        gtype = shapely.get_type_id(g)
        has = np.array([x is not None for x in g], dtype=bool)
        ok = has & (gtype == 0)
        if (has & (gtype != 0)).any():
            i = int(np.flatnonzero(has & (gtype != 0))[0])
            name = df["name"].iloc[i] if "name" in df.columns else i
            raise OfficeInputError(
                f"{source}: office {name!r}: geometry is not a point; offices are points"
            )
        x = np.full(len(g), np.nan)
        y = np.full(len(g), np.nan)
        x[ok], y[ok] = shapely.get_x(g[ok]), shapely.get_y(g[ok])
        xy = (x, y)
    return df, xy, meta.get("crs")


def read_offices(
    path: str | os.PathLike[str] | pd.DataFrame,
    crs: Any = "EPSG:4326",
    municipalities: str | os.PathLike[str] | pd.DataFrame | None = None,
    *,
    name_column: str = "name",
    fixed_column: str | None = "fixed",
    agency_column: str | None = "agency",
    capacity_column: str | None = "capacity",
    municipality_column: str | None = "municipality",
) -> Offices:
    """Read offices from CSV, GeoJSON, GeoPackage (or a DataFrame).

    Coordinates per office, first available of: point geometry (in the file's CRS);
    ``lon``/``lat`` columns (WGS84); ``x``/``y`` columns in ``crs``; the centre point of
    the office's ``municipality`` from ``municipalities`` (a table read by
    :func:`read_municipalities`). When the municipalities table is given, every
    municipality code present is checked against it, also for offices with coordinates.

    Optional columns (renamable, ``None`` to ignore): ``fixed`` (true/false, yes/no,
    1/0; empty = false), ``agency``, ``capacity`` (>= 0; empty = unknown),
    ``municipality`` (string code; integers are zero-padded to the width of the table's
    codes). Other columns are kept unchanged in :attr:`Offices.frame` (e.g. the study's
    ``regional_centre``: pass ``fixed_column='regional_centre'`` to pin those offices).

    Raises :class:`OfficeInputError` naming the office; warns (``UserWarning``) about
    duplicate names and offices at identical coordinates.
    """
    if isinstance(path, pd.DataFrame):
        df, xy, file_crs, source = path.reset_index(drop=True).copy(), None, None, "DataFrame"
    else:
        source = str(path)
        df, xy, file_crs = _read_table(path)
    if len(df) == 0:
        raise OfficeInputError(f"{source}: no offices; the file is empty")
    if name_column not in df.columns:
        raise OfficeInputError(
            f"{source}: missing name column {name_column!r} (columns: {list(df.columns)}); "
            "pass name_column="
        )
    names_raw = df[name_column]
    noname = names_raw.isna().to_numpy() | (names_raw.astype(str).str.strip() == "").to_numpy()
    if noname.any():
        i = int(np.flatnonzero(noname)[0])
        raise OfficeInputError(f"{source}: office in row {i + 1} has no {name_column!r}")
    names = names_raw.astype(str).str.strip().to_numpy(dtype=object)
    n = len(df)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    how = np.full(n, None, dtype=object)

    import pyproj

    def to_wgs84(x: Any, y: Any, from_crs: Any, what: str) -> tuple[Any, Any]:
        try:
            tr = pyproj.Transformer.from_crs(from_crs, "EPSG:4326", always_xy=True)
        except pyproj.exceptions.CRSError as e:
            raise OfficeInputError(f"{source}: unknown CRS {from_crs!r} for {what} ({e})") from None
        return tr.transform(x, y)

    if xy is not None:
        ok = np.isfinite(xy[0]) & np.isfinite(xy[1])
        if file_crs is None and ok.any():
            raise OfficeInputError(f"{source}: the layer has no CRS; add one to the file")
        if ok.any():
            gx, gy = to_wgs84(xy[0][ok], xy[1][ok], file_crs, "the geometry")
            lon[ok], lat[ok] = gx, gy
            how[ok] = "geometry"
    for cx, cy, label, from_crs in (("lon", "lat", "lonlat", "EPSG:4326"), ("x", "y", "xy", crs)):
        if cx in df.columns and cy in df.columns:
            vx = pd.to_numeric(df[cx], errors="coerce").to_numpy(dtype=np.float64)
            vy = pd.to_numeric(df[cy], errors="coerce").to_numpy(dtype=np.float64)
            bad_txt = (df[cx].notna() & np.isnan(vx)) | (df[cy].notna() & np.isnan(vy))
            if bad_txt.any():
                i = int(np.flatnonzero(bad_txt.to_numpy())[0])
                raise OfficeInputError(
                    f"{source}: office {names[i]!r}: {cx}/{cy} = "
                    f"{df[cx].iloc[i]!r}/{df[cy].iloc[i]!r} are not numbers"
                )
            half = np.isfinite(vx) != np.isfinite(vy)
            if half.any():
                i = int(np.flatnonzero(half)[0])
                raise OfficeInputError(
                    f"{source}: office {names[i]!r}: only one of {cx}/{cy} is given"
                )
            use = np.isfinite(vx) & np.isfinite(vy) & (how == None)  # noqa: E711
            if use.any():
                if label == "xy":
                    px, py = np.asarray(vx[use]), np.asarray(vy[use])
                    if pyproj.CRS.from_user_input(from_crs).is_geographic:
                        tx, ty = px, py  # checked for range below
                        if not pyproj.CRS.from_user_input(from_crs).equals("EPSG:4326"):
                            tx, ty = to_wgs84(px, py, from_crs, "x/y")
                    else:
                        tx, ty = to_wgs84(px, py, from_crs, "x/y")
                    lon[use], lat[use] = tx, ty
                else:
                    lon[use], lat[use] = vx[use], vy[use]
                how[use] = label
    muni = np.full(n, None, dtype=object)
    if municipality_column and municipality_column in df.columns:
        mraw = df[municipality_column]
        if pd.api.types.is_numeric_dtype(mraw):
            width = 3
            if municipalities is not None:
                widths = {len(c) for c in read_municipalities(municipalities).index}
                width = widths.pop() if len(widths) == 1 else 0
            muni = np.array(
                [None if pd.isna(v) else str(int(v)).zfill(width) for v in mraw], dtype=object
            )
        else:
            muni = np.array(
                [None if pd.isna(v) or str(v).strip() == "" else str(v).strip() for v in mraw],
                dtype=object,
            )
    table = read_municipalities(municipalities) if municipalities is not None else None
    if table is not None:
        for i in range(n):
            if muni[i] is not None and muni[i] not in table.index:
                raise OfficeInputError(
                    f"{source}: office {names[i]!r}: unknown municipality code {muni[i]!r} "
                    f"(not in the municipalities table); check the code (3 digits with "
                    "leading zeros, e.g. '091')"
                )
    need = how == None  # noqa: E711
    for i in np.flatnonzero(need):
        if muni[i] is None:
            raise OfficeInputError(
                f"{source}: office {names[i]!r} has no coordinates (lon/lat, x/y or a point "
                "geometry) and no municipality code to place it at the municipal centre"
            )
        if table is None:
            raise OfficeInputError(
                f"{source}: office {names[i]!r} has no coordinates, only municipality "
                f"{muni[i]!r}; pass municipalities='.../municipalities.csv' to place it at "
                "the municipal centre"
            )
        lon[i] = table.at[muni[i], "centre_lon"]
        lat[i] = table.at[muni[i], "centre_lat"]
        how[i] = "municipality_centre"
    hint = ""
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        hint = "; projected metres? give them as x/y columns with crs='EPSG:....'"
    _check_lonlat(lon, lat, names, source, hint)

    out = pd.DataFrame({"name": names, "lon": lon, "lat": lat})
    out["agency"] = (
        df[agency_column].astype(object).where(df[agency_column].notna(), None).to_numpy()
        if agency_column and agency_column in df.columns
        else None
    )
    if fixed_column and fixed_column in df.columns:
        out["fixed"] = _parse_bool(df[fixed_column], names, fixed_column, source)
    else:
        if fixed_column and fixed_column != "fixed":
            raise OfficeInputError(
                f"{source}: fixed_column {fixed_column!r} not found (columns: {list(df.columns)})"
            )
        out["fixed"] = False
    if capacity_column and capacity_column in df.columns:
        cap = pd.to_numeric(df[capacity_column], errors="coerce").to_numpy(dtype=np.float64)
        bad = (df[capacity_column].notna().to_numpy() & np.isnan(cap)) | (cap < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise OfficeInputError(
                f"{source}: office {names[i]!r}: capacity {df[capacity_column].iloc[i]!r} "
                "is not a number >= 0 (leave empty for unknown)"
            )
        out["capacity"] = cap
    else:
        out["capacity"] = np.nan
    out["municipality"] = muni
    out["coord_source"] = how
    used = {name_column, "lon", "lat", agency_column, capacity_column, municipality_column}
    for c in df.columns:
        if c not in used and c not in out.columns:
            out[c] = df[c].to_numpy()

    dup = pd.Series(names).duplicated(keep=False).to_numpy()
    if dup.any():
        warnings.warn(
            f"{source}: duplicate office names: {sorted(set(names[dup]))}; offices are "
            "told apart by position, name them uniquely to read results easily",
            stacklevel=2,
        )
    same = pd.DataFrame({"lon": lon, "lat": lat}).duplicated(keep=False).to_numpy()
    if same.any():
        groups = (
            pd.DataFrame({"name": names[same], "lon": lon[same], "lat": lat[same]})
            .groupby(["lon", "lat"])["name"]
            .apply(list)
            .tolist()
        )
        warnings.warn(
            f"{source}: offices at identical coordinates: {groups}; fine for co-located "
            "agencies, otherwise check the coordinates",
            stacklevel=2,
        )
    return Offices(out)
