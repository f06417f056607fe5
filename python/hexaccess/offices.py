"""Service offices: the supply side (sources) of an accessibility computation.

:class:`Offices` is a DataFrame-backed list of offices with WGS84 coordinates and the
attributes planners pin, forbid and compare sites by: ``agency``, ``fixed`` (must stay
in any optimised network), ``capacity`` and ``municipality``.

:func:`read_offices` reads CSV, GeoJSON, GeoPackage, a (Geo)DataFrame. Coordinates come
from, in order: point geometry (vector files and GeoDataFrames, any CRS), ``lon``/``lat``
columns (WGS84), ``x``/``y`` columns in ``crs``, or - for offices with none of these -
the centre of their ``municipality`` (from a municipalities table such as
``finland/municipalities.csv``, see :func:`read_municipalities`).

Errors (:class:`~hexaccess.errors.OfficeInputError`, a ``ValueError``) name the office
and the fix:
unknown municipality code, missing or out-of-range coordinates, missing name, bad
``fixed``/``capacity`` values, an empty file. Duplicate names and offices at identical
coordinates are legal (two agencies in one building) but warned about.
"""

from __future__ import annotations

import difflib
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess import _files
from hexaccess._files import FORMAT_NAMES, check_input_file, sniff_format
from hexaccess.errors import OfficeInputError, UnknownNameError

__all__ = [
    "MUNICIPALITY_CODE_COLUMNS",
    "OfficeInputError",
    "Offices",
    "read_municipalities",
    "read_offices",
]

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

F64 = npt.NDArray[np.float64]


def read_municipalities(path: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """Read a municipalities table (e.g. ``finland/municipalities.csv``) or a
    municipality polygon layer.

    Returns a DataFrame indexed by municipality code (``str``, leading zeros kept) with
    the file's columns (``name_fi``, ``name_sv``, ``language``, ``region``,
    ``population_2019``, ``population_2022``, ``centre_lon``, ``centre_lat``) plus derived
    ``bilingual`` (bool) and ``majority_language`` (``'fi'`` / ``'sv'``, or ``None`` when
    the status text is not recognised), parsed from the Statistics Finland language
    status ("Monolingual Finnish-speaking municipality", "Bilingual municipality with
    Swedish-speaking majority", ...).

    A polygon layer (GeoPackage, GeoParquet, Shapefile, GeoJSON or a GeoDataFrame, any
    CRS) with a code column (``municipality``, or one of :data:`MUNICIPALITY_CODE_COLUMNS`)
    gives a GeoDataFrame instead, its polygons in EPSG:4326 (the municipalities layer
    of :mod:`hexaccess.layers` uses them); table columns it lacks are filled: the name
    from a ``name``/``nimi`` column (else the code), the centre from a point inside each
    polygon, language and region unknown.
    """
    layer = _municipality_layer(path)
    if layer is not None:
        df, source = layer
    elif isinstance(path, pd.DataFrame):
        df = path.reset_index() if path.index.name == "municipality" else path.copy()
        source = "municipalities table"
    else:
        source = str(path)
        if not Path(path).exists():
            raise OfficeInputError(f"{source}: file not found (the municipalities table)")
        df = _read_municipality_csv(check_input_file(path, "municipalities table"))
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
    codes = _padded_codes(df["municipality"].astype(str).str.strip(), source)
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
    out = out.set_index("municipality")
    if layer is not None:
        import geopandas as gpd

        out = gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")
    return out


#: Code columns a municipality polygon layer may name its codes by (first found wins).
MUNICIPALITY_CODE_COLUMNS = ("municipality", "code", "kunta", "kuntakoodi", "natcode")


def _municipality_layer(value: Any) -> tuple[pd.DataFrame, str] | None:
    """A municipality polygon layer as ``(table with a geometry column in EPSG:4326,
    source)``, or ``None`` when ``value`` is a plain table (CSV or DataFrame)."""
    if isinstance(value, (str, os.PathLike)):
        if not Path(value).is_file():
            return None  # the table reader names the missing file
        path = check_input_file(value, "municipalities table")
        fmt = sniff_format(path)
        if fmt not in ("gpkg", "shp", "json", "parquet"):
            return None
        gdf, source = _read_polygon_file(path, fmt), str(path)
    elif _is_geodataframe(value):
        # Indexed by code: a layer this function returned, read again.
        gdf = value.reset_index() if value.index.name == "municipality" else value
        source = "municipality GeoDataFrame"
    else:
        return None
    return _polygon_table(gdf, source), source


def _read_polygon_file(path: Path, fmt: str) -> Any:
    """A vector file as a GeoDataFrame (geopandas; GeoParquet through pyarrow)."""
    import geopandas as gpd

    try:
        if fmt == "parquet":
            return gpd.read_parquet(path)
        return gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # GDAL/Arrow errors: one message naming the file
        raise OfficeInputError(
            f"{path}: cannot read as a municipality polygon layer ({exc}); give a "
            "GeoPackage, GeoParquet, Shapefile or GeoJSON of polygons, or the CSV table"
        ) from None


def _polygon_table(gdf: Any, source: str) -> pd.DataFrame:
    """The attributes of a polygon layer with its code column named ``municipality``,
    the table's other columns filled where missing, and ``geometry`` in EPSG:4326."""
    import shapely

    if gdf.crs is None:
        raise OfficeInputError(
            f"{source}: the municipality polygons have no CRS; set it (e.g. "
            "gdf.set_crs('EPSG:3067')) or write it into the file"
        )
    geoms = np.asarray(gdf.geometry.to_numpy(), dtype=object)
    kinds = shapely.get_type_id(geoms)
    bad = np.flatnonzero(~np.isin(kinds, [3, 6]))  # Polygon, MultiPolygon
    if bad.size:
        i = int(bad[0])
        what = "no geometry" if geoms[i] is None else f"a {geoms[i].geom_type}"
        raise OfficeInputError(f"{source}: row {i} has {what}; every municipality needs a polygon")
    code = next((c for c in MUNICIPALITY_CODE_COLUMNS if c in gdf.columns), None)
    if code is None:
        raise OfficeInputError(
            f"{source}: no municipality code column (looked for "
            f"{list(MUNICIPALITY_CODE_COLUMNS)}; columns: {list(gdf.columns)}); rename the "
            "code column to 'municipality'"
        )
    wgs = gdf.to_crs("EPSG:4326")
    df = pd.DataFrame(wgs.drop(columns=wgs.geometry.name)).rename(columns={code: "municipality"})
    name = next((c for c in ("name_fi", "name", "nimi") if c in df.columns), "municipality")
    inside = shapely.point_on_surface(np.asarray(wgs.geometry.to_numpy(), dtype=object))
    filled = {
        "name_fi": df[name].astype(str),
        "name_sv": None,
        "language": "",
        "region": None,
        "centre_lon": shapely.get_x(inside),
        "centre_lat": shapely.get_y(inside),
    }
    for column, value in filled.items():
        if column not in df.columns:
            df[column] = value
    df["geometry"] = np.asarray(wgs.geometry.to_numpy(), dtype=object)
    return df.reset_index(drop=True)


def _read_municipality_csv(path: Path) -> pd.DataFrame:
    """The municipalities CSV (encoding and separator detected as for offices)."""
    import io

    text = _decode_text(path.read_bytes(), str(path))
    try:
        return _files.read_csv(
            io.StringIO(text), error=OfficeInputError, name=str(path),
            role="municipalities table", sep=_separator(text, False), dtype={"municipality": str},
        )  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise OfficeInputError(
            f"{path}: not a well-formed CSV table ({' '.join(str(e).split())}); expected "
            f"the columns {list(_MUNICIPALITY_COLUMNS)}"
        ) from None


def _padded_codes(codes: pd.Series, source: str) -> pd.Series:
    """Digit codes of uneven width (``91`` beside ``092``: leading zeros lost in a
    spreadsheet) padded to the widest, with a warning naming the change."""
    digits = codes.str.fullmatch(r"\d+").fillna(False).to_numpy(dtype=bool)
    if not digits.all():
        return codes
    width = int(codes.str.len().max()) if len(codes) else 0
    short = codes.str.len().to_numpy() < width
    if not short.any():
        return codes
    padded = codes.str.zfill(width)
    warnings.warn(
        f"{source}: {int(short.sum())} municipality codes had lost their leading zeros "
        f"(e.g. {codes[short].iloc[0]!r}); read as {padded[short].iloc[0]!r} (codes are "
        f"{width} digits). Save the codes as text to keep the zeros",
        stacklevel=3,
    )
    return padded


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
            raise OfficeInputError(
                f"Offices frame lacks column(s) {missing} (columns: {list(frame.columns)}); "
                "read files with read_offices"
            )
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
        from hexaccess.h3 import latlng_to_cells

        return latlng_to_cells(self.lat, self.lon, resolution)

    def subset(self, mask_or_names: npt.ArrayLike | Sequence[str]) -> Offices:
        """Offices selected by a boolean mask or by a list of names (unknown name: error)."""
        sel = np.asarray(mask_or_names)
        if sel.dtype == bool:
            return Offices(self._frame[sel])
        names = list(mask_or_names)  # type: ignore[arg-type]
        unknown = sorted(set(names) - set(self.names))
        if unknown:
            raise UnknownNameError(
                f"unknown office name(s): {unknown}; Offices.names lists the {len(self)} known ones"
            )
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
            f"{source}: office {names[i]!r}{_rows(source, i)}: coordinates (lon={lon[i]}, "
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
                f"{source}: office {names[i]!r}: {column}={v!r} is not true/false"
                f"{_rows(source, i)}; use true/false, yes/no or 1/0"
            )
    return out


class _Source(str):
    """The name of an office input in messages (a path, ``"DataFrame"``) that also names
    its rows: ``row 3`` is the 3rd office; for a CSV file, its line too (the header is
    line 1), so the row can be found in an editor."""

    csv: bool = False

    @classmethod
    def of(cls, name: str, *, csv: bool = False) -> _Source:
        out = cls(name)
        out.csv = csv
        return out

    def row(self, i: int) -> str:
        """`` (row N)`` or `` (row N, line N + 1)`` for 0-based row ``i``."""
        return f" (row {i + 1}, line {i + 2})" if self.csv else f" (row {i + 1})"


def _show(value: Any) -> str:
    """A cell value as written in a message: ``'sixty'``, ``inf``, ``nan``."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _rows(source: str, i: int) -> str:
    """The row label of row ``i`` of ``source`` (`` (row N)`` for plain names)."""
    return source.row(i) if isinstance(source, _Source) else f" (row {i + 1})"


@dataclass(frozen=True)
class _ColumnNames:
    """The input columns :func:`read_offices` reads (``None``: ignore that attribute)."""

    name: str
    fixed: str | None
    agency: str | None
    capacity: str | None
    municipality: str | None


@dataclass(frozen=True)
class _OfficeTable:
    """Offices as read, before any checks: the attribute table, the point geometry as
    ``(x, y)`` (NaN where an office has none; ``None`` for inputs without geometry), the
    geometry's CRS and the message for a geometry without one."""

    attributes: pd.DataFrame
    source: str
    geometry_xy: tuple[F64, F64] | None = None
    geometry_crs: Any = None
    no_crs_message: str = "the layer has no CRS; add one to the file"


@dataclass
class _Placement:
    """Each office's WGS84 position and where it came from (``how``; ``None`` while
    the office is not placed yet). Sources fill it in order of precedence."""

    lon: F64
    lat: F64
    how: npt.NDArray[np.object_]

    @classmethod
    def unplaced(cls, n: int) -> _Placement:
        return cls(np.full(n, np.nan), np.full(n, np.nan), np.full(n, None, dtype=object))

    def unplaced_mask(self) -> npt.NDArray[np.bool_]:
        return self.how == None  # noqa: E711 - elementwise comparison with None


def _read_input(path: str | os.PathLike[str] | pd.DataFrame, name_column: str) -> _OfficeTable:
    """Read any supported input: a GeoDataFrame, a DataFrame, or a file whose format is
    taken from its content (CSV/TSV text, GeoJSON, GeoPackage, zipped Shapefile,
    (Geo)Parquet), not from its extension alone."""
    if isinstance(path, pd.DataFrame):
        if _is_geodataframe(path):
            return _from_geodataframe(path, name_column)
        return _OfficeTable(path.reset_index(drop=True).copy(), "DataFrame")
    if not isinstance(path, (str, os.PathLike)):
        raise OfficeInputError(
            f"offices must be a file path, a (Geo)DataFrame or an Offices; got "
            f"{type(path).__name__}"
        )
    p = check_input_file(path, "office file")
    raw = p.read_bytes()
    fmt = "utf16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else sniff_format(p)
    suffix = p.suffix.lower()
    if fmt == "gzip":
        raw, fmt = _gunzip(raw, p)
    if fmt == "parquet":
        return _read_parquet(p, name_column)
    if fmt in ("json", "gpkg", "zip", "shp") or (
        fmt == "text" and suffix not in (".csv", ".txt", ".tsv", ".gz")
    ):
        return _read_vector(p, name_column, fmt)
    if fmt in ("csv", "text", "utf16"):
        return _read_csv(p, raw, tab=suffix == ".tsv")
    raise OfficeInputError(
        f"office file {p} is {FORMAT_NAMES.get(fmt, fmt)} by its content; offices are read "
        "from CSV (name,lon,lat), GeoJSON, GeoPackage, a zipped Shapefile or GeoParquet"
    )


def _gunzip(raw: bytes, path: Path) -> tuple[bytes, str]:
    """A gzip-compressed CSV: its text (a broken archive is an error naming the file)."""
    import gzip
    import zlib

    try:
        data = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise OfficeInputError(
            f"office file {path} is truncated or corrupt gzip ({e}); compress it again"
        ) from None
    fmt = _files._sniff_head(data[:4096])
    if fmt not in ("csv", "text"):
        raise OfficeInputError(
            f"office file {path} holds {FORMAT_NAMES.get(fmt, fmt)} inside gzip; only "
            "gzip-compressed CSV is read (or give the file uncompressed)"
        )
    return data, fmt


def _is_geodataframe(frame: pd.DataFrame) -> bool:
    # A GeoDataFrame cannot exist unless geopandas is imported: look there instead of
    # importing geopandas (slow, and optional) for every plain DataFrame.
    geopandas = sys.modules.get("geopandas")
    return geopandas is not None and isinstance(frame, geopandas.GeoDataFrame)


def _from_geodataframe(gdf: Any, name_column: str) -> _OfficeTable:
    """Attributes and point coordinates of a GeoDataFrame (its active geometry, in its
    own CRS); one without an active geometry column is read like a plain DataFrame."""
    source = "GeoDataFrame"
    try:
        geometry = gdf.geometry
    except AttributeError:
        return _OfficeTable(pd.DataFrame(gdf).reset_index(drop=True).copy(), source)
    attributes = pd.DataFrame(gdf.drop(columns=geometry.name)).reset_index(drop=True)
    geoms = np.asarray(geometry.to_numpy(), dtype=object)
    return _OfficeTable(
        attributes,
        source,
        _point_xy(geoms, attributes, name_column, source),
        gdf.crs,
        "the GeoDataFrame has no CRS; set one with gdf.set_crs('EPSG:....')",
    )


#: Text encodings tried, in order, for an office CSV without a byte-order mark.
_FALLBACK_ENCODINGS = ("cp1252", "latin-1")


def _decode_text(raw: bytes, source: str) -> str:
    """The text of a CSV file: UTF-8 (with or without a BOM) or UTF-16 with a BOM;
    anything else is read as Windows-1252/Latin-1 (what spreadsheet programs save in
    Finland) with a warning that names the encoding, the names read and the fix."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as e:
            raise OfficeInputError(
                f"{source}: starts like UTF-16 text but is not ({e}); save it as UTF-8 CSV"
            ) from None
    try:
        return raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as e:
        bad = e.start
    for enc in _FALLBACK_ENCODINGS:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        line = raw[:bad].count(b"\n") + 1
        sample = text.splitlines()[line - 1][:60] if text.splitlines() else ""
        warnings.warn(
            f"{source}: not UTF-8 (byte 0x{raw[bad]:02x} on line {line}); read it as "
            f"{'Windows-1252' if enc == 'cp1252' else 'Latin-1'} (line {line}: "
            f"{sample!r}); check the office names, and save the file as UTF-8 to be sure",
            stacklevel=4,
        )
        return text
    raise OfficeInputError(  # pragma: no cover - latin-1 decodes any bytes
        f"{source}: unknown text encoding; save it as UTF-8 CSV"
    )


def _separator(text: str, tab: bool) -> str:
    """The column separator of a CSV text: the most frequent of comma, semicolon and tab
    on the header line (a ``.tsv`` file: tab)."""
    if tab:
        return "\t"
    header = text.lstrip().split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] > counts[","] else ","


_DECIMAL_COMMA = r"^\s*[-+]?\d+,\d+\s*$"


def _decimal_commas(df: pd.DataFrame) -> pd.DataFrame:
    """Numbers written with a decimal comma (``60,17``, as Finnish spreadsheets save
    them with ``;`` separators) in the coordinate and capacity columns, as numbers."""
    for c in ("lon", "lat", "x", "y", "capacity"):
        if c in df.columns and not pd.api.types.is_numeric_dtype(df[c]):
            text = df[c].astype(str)
            comma = text.str.match(_DECIMAL_COMMA) & df[c].notna()
            if comma.any():
                df[c] = df[c].where(~comma, text.str.replace(",", ".", regex=False))
    return df


def _read_csv(path: Path, raw: bytes, tab: bool = False) -> _OfficeTable:
    """A CSV/TSV office table: encoding and separator detected (see
    :func:`_decode_text`, :func:`_separator`); malformed rows name their line."""
    import io

    source = str(path)
    text = _decode_text(raw, source)
    if not text.strip():
        raise OfficeInputError(
            f"{source}: no offices; the file holds no header line and no rows (give a CSV "
            "with a header such as name,lon,lat)"
        )
    sep = _separator(text, tab)
    try:
        df = _files.read_csv(
            io.StringIO(text),
            error=OfficeInputError,
            name=source,
            role="office table",
            sep=sep,
            dtype={"municipality": str, "name": str, "agency": str},
            keep_default_na=False,
            na_values=[""],
        )
    except pd.errors.ParserError as e:
        _refuse_long_rows(text, sep, source)
        raise OfficeInputError(
            f"{source}: not a well-formed CSV table ({' '.join(str(e).split())}); every row "
            "needs as many fields as the header: quote names that hold the separator "
            f"({sep!r})"
        ) from None
    if not isinstance(df.index, pd.RangeIndex):  # pandas took a column as the index
        _refuse_long_rows(text, sep, source)
    df.columns = [str(c).strip() for c in df.columns]
    if sep != ",":
        df = _decimal_commas(df)
    return _OfficeTable(df, _Source.of(source, csv=True))


def _refuse_long_rows(text: str, sep: str, source: str) -> None:
    """Rows with more fields than the header (pandas would shift them into an index and
    every column would be one off): an error naming the first such line."""
    import csv

    rows = csv.reader(text.splitlines(), delimiter=sep)
    header = next(rows, [])
    for line, row in enumerate(rows, start=2):
        if len(row) > len(header):
            raise OfficeInputError(
                f"{source}: line {line} has {len(row)} fields but the header has "
                f"{len(header)} ({header}); quote values that hold the separator ({sep!r}) "
                "or remove the extra fields"
            )


def _read_parquet(path: Path, name_column: str) -> _OfficeTable:
    """Offices in a Parquet table: GeoParquet points, or plain lon/lat columns."""
    import pyarrow.parquet as pq

    source = str(path)
    try:
        schema = pq.read_schema(path)
        if b"geo" in (schema.metadata or {}):
            return _read_vector(path, name_column, "parquet")
        df = pq.read_table(path).to_pandas()
    except (OSError, ValueError) as e:
        if isinstance(e, OfficeInputError):
            raise
        raise OfficeInputError(
            f"{source}: cannot read the Parquet table ({e}); the file is corrupt or "
            "truncated: write it again"
        ) from None
    return _OfficeTable(df.reset_index(drop=True), source)


def _read_vector(path: Path, name_column: str, fmt: str = "") -> _OfficeTable:
    """A GeoJSON/GeoPackage/Shapefile/GeoParquet layer: attributes and point geometry."""
    import pyogrio
    import pyogrio.raw
    import shapely

    source = str(path)
    try:
        if fmt == "parquet" and "Parquet" not in pyogrio.list_drivers():
            from hexaccess.geoparquet import read_geoparquet

            meta, _, geom, fields = read_geoparquet(path)
        else:
            # GDAL picks its driver by extension first: name the one the content needs
            driver = {"json": "GeoJSON:", "gpkg": "GPKG:"}.get(fmt, "")
            meta, _, geom, fields = pyogrio.raw.read(f"{driver}{path}" if driver else path)
    except Exception as e:  # pyogrio's DataSourceError, GeoParquetError, ...
        what = FORMAT_NAMES.get(fmt, "a vector file")
        raise OfficeInputError(
            f"{source}: cannot read it as {what} ({' '.join(str(e).split())}); the file is "
            "corrupt, truncated or not an office layer: export it again, or give a CSV "
            "with name,lon,lat"
        ) from None
    df = pd.DataFrame({n: f for n, f in zip(meta["fields"], fields, strict=True)})
    xy = None
    if geom is not None and len(geom):
        xy = _point_xy(shapely.from_wkb(geom), df, name_column, source)
    return _OfficeTable(df, source, xy, meta.get("crs"))


def _point_xy(geoms: Any, df: pd.DataFrame, name_column: str, source: str) -> tuple[F64, F64]:
    """``(x, y)`` of point geometries (NaN for a missing or empty one); any other
    geometry type is an error naming the office."""
    import shapely

    gtype = shapely.get_type_id(geoms)
    has = np.array([g is not None for g in geoms], dtype=bool)
    ok = has & (gtype == 0)
    if (has & (gtype != 0)).any():
        i = int(np.flatnonzero(has & (gtype != 0))[0])
        name = df[name_column].iloc[i] if name_column in df.columns else f"in row {i + 1}"
        raise OfficeInputError(
            f"{source}: office {name!r}: geometry is not a point (a {geoms[i].geom_type}"
            f"{_rows(source, i).replace(' (', ', ')}; offices are points"
        )
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    x[ok], y[ok] = shapely.get_x(geoms[ok]), shapely.get_y(geoms[ok])
    return x, y


def _office_names(df: pd.DataFrame, name_column: str, source: str) -> npt.NDArray[np.object_]:
    """Stripped office names; an empty table, a missing column or a blank name is an error."""
    if len(df) == 0:
        what = (
            "the table has no rows"
            if source == "DataFrame"
            else ("the file has a header line but no office rows")
        )
        raise OfficeInputError(f"{source}: no offices; {what} (columns: {list(df.columns)})")
    if name_column not in df.columns:
        raise OfficeInputError(
            f"{source}: missing name column {name_column!r} (columns: {list(df.columns)}); "
            "pass name_column="
        )
    raw = df[name_column]
    noname = raw.isna().to_numpy() | (raw.astype(str).str.strip() == "").to_numpy()
    if noname.any():
        i = int(np.flatnonzero(noname)[0])
        line = f", line {i + 2} of the file" if getattr(source, "csv", False) else ""
        raise OfficeInputError(
            f"{source}: office in row {i + 1} has no {name_column!r}{line}; give every "
            "office a name"
        )
    return raw.astype(str).str.strip().to_numpy(dtype=object)


def _crs(user_crs: Any, what: str, source: str) -> Any:
    import pyproj

    try:
        return pyproj.CRS.from_user_input(user_crs)
    except pyproj.exceptions.CRSError as e:
        raise OfficeInputError(f"{source}: unknown CRS {user_crs!r} for {what} ({e})") from None


def _to_wgs84(x: Any, y: Any, from_crs: Any, what: str, source: str) -> tuple[Any, Any]:
    import pyproj

    try:
        tr = pyproj.Transformer.from_crs(from_crs, "EPSG:4326", always_xy=True)
    except pyproj.exceptions.CRSError as e:
        raise OfficeInputError(f"{source}: unknown CRS {from_crs!r} for {what} ({e})") from None
    return tr.transform(x, y)


def _place_from_geometry(placement: _Placement, table: _OfficeTable) -> None:
    """Offices with a point geometry: its coordinates, from the geometry's CRS."""
    if table.geometry_xy is None:
        return
    x, y = table.geometry_xy
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return
    if table.geometry_crs is None:
        raise OfficeInputError(f"{table.source}: {table.no_crs_message}")
    gx, gy = _to_wgs84(x[ok], y[ok], table.geometry_crs, "the geometry", table.source)
    placement.lon[ok], placement.lat[ok] = gx, gy
    placement.how[ok] = "geometry"


def _numeric_pair(
    df: pd.DataFrame, cx: str, cy: str, names: npt.NDArray[np.object_], source: str
) -> tuple[F64, F64]:
    """Columns ``cx, cy`` as floats (NaN = empty); text or only one of the two is an error."""
    vx = pd.to_numeric(df[cx], errors="coerce").to_numpy(dtype=np.float64)
    vy = pd.to_numeric(df[cy], errors="coerce").to_numpy(dtype=np.float64)
    bad_txt = (df[cx].notna() & np.isnan(vx)) | (df[cy].notna() & np.isnan(vy))
    bad_txt |= np.isinf(vx) | np.isinf(vy)
    if bad_txt.any():
        i = int(np.flatnonzero(np.asarray(bad_txt))[0])
        raise OfficeInputError(
            f"{source}: office {names[i]!r}: {cx}/{cy} = "
            f"{_show(df[cx].iloc[i])}/{_show(df[cy].iloc[i])} are not numbers"
            f"{_rows(source, i)}; give finite numbers, or leave both empty"
        )
    half = np.isnan(vx) != np.isnan(vy)
    if half.any():
        i = int(np.flatnonzero(half)[0])
        raise OfficeInputError(
            f"{source}: office {names[i]!r}: only one of {cx}/{cy} is given"
            f"{_rows(source, i)} ({cx}={_show(df[cx].iloc[i])}, {cy}={_show(df[cy].iloc[i])}); "
            "give both"
        )
    return vx, vy


def _xy_to_lonlat(x: F64, y: F64, crs: Any, source: str) -> tuple[Any, Any]:
    user_crs = _crs(crs, "x/y", source)
    if user_crs.is_geographic and user_crs.equals("EPSG:4326"):
        return x, y  # already lon/lat; the range is checked with every other office
    return _to_wgs84(x, y, crs, "x/y", source)


def _place_from_columns(
    placement: _Placement,
    df: pd.DataFrame,
    names: npt.NDArray[np.object_],
    crs: Any,
    source: str,
) -> None:
    """Offices not placed yet: ``lon``/``lat`` columns (WGS84), then ``x``/``y`` in ``crs``."""
    for cx, cy, label in (("lon", "lat", "lonlat"), ("x", "y", "xy")):
        if cx not in df.columns or cy not in df.columns:
            continue
        vx, vy = _numeric_pair(df, cx, cy, names, source)
        use = np.isfinite(vx) & np.isfinite(vy) & placement.unplaced_mask()
        if not use.any():
            continue
        if label == "xy":
            lon, lat = _xy_to_lonlat(np.asarray(vx[use]), np.asarray(vy[use]), crs, source)
        else:
            lon, lat = vx[use], vy[use]
        placement.lon[use], placement.lat[use] = lon, lat
        placement.how[use] = label


def _municipality_codes(
    df: pd.DataFrame, column: str | None, table: pd.DataFrame | None, source: str = ""
) -> npt.NDArray[np.object_]:
    """Each office's municipality code as a string (``None`` where there is none).
    Codes that lost their leading zeros (integers, or digit strings such as ``91`` from a
    spreadsheet) get them back: padded to the width of the table's codes (integers: 3
    without a table). A number that is not a whole number is an error naming the row."""
    if not column or column not in df.columns:
        return np.full(len(df), None, dtype=object)
    raw = df[column]
    width = 3 if pd.api.types.is_numeric_dtype(raw) else 0
    if table is not None:
        widths = {len(c) for c in table.index}
        width = widths.pop() if len(widths) == 1 else 0
    out = np.full(len(raw), None, dtype=object)
    for i, v in enumerate(raw):
        if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "":
            continue
        if isinstance(v, (float, np.floating)) and not float(v).is_integer():
            raise OfficeInputError(
                f"{source}: municipality code {v!r}{_rows(source, i)} is not a whole number; "
                "give codes as text with their leading zeros (e.g. '091')"
            )
        text = str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) else str(v)
        text = text.strip()
        out[i] = text.zfill(width) if text.isdigit() else text
    return out


def _check_municipality_codes(
    muni: npt.NDArray[np.object_],
    table: pd.DataFrame | None,
    names: npt.NDArray[np.object_],
    source: str,
) -> None:
    """Every code present must be in the table (also for offices with coordinates)."""
    if table is None:
        return
    for i, code in enumerate(muni):
        if code is not None and code not in table.index:
            near = difflib.get_close_matches(code, list(table.index), n=3, cutoff=0.6)
            raise OfficeInputError(
                f"{source}: office {names[i]!r}: unknown municipality code {code!r}"
                f"{_rows(source, i)} (not in the municipalities table"
                + (f"; near: {near}" if near else "")
                + "); check the code (3 digits with leading zeros, e.g. '091')"
            )


def _place_at_municipal_centres(
    placement: _Placement,
    muni: npt.NDArray[np.object_],
    table: pd.DataFrame | None,
    names: npt.NDArray[np.object_],
    source: str,
) -> None:
    """Offices still unplaced: the centre of their municipality (the last resort)."""
    for i in np.flatnonzero(placement.unplaced_mask()):
        if muni[i] is None:
            raise OfficeInputError(
                f"{source}: office {names[i]!r} has no coordinates{_rows(source, i)}: no lon/lat, "
                "x/y or point geometry, and no municipality code to place it at the "
                "municipal centre"
            )
        if table is None:
            raise OfficeInputError(
                f"{source}: office {names[i]!r} has no coordinates{_rows(source, i)}, only "
                "municipality "
                f"{muni[i]!r}; pass municipalities='.../municipalities.csv' to place it at "
                "the municipal centre"
            )
        placement.lon[i] = table.at[muni[i], "centre_lon"]
        placement.lat[i] = table.at[muni[i], "centre_lat"]
        placement.how[i] = "municipality_centre"


def _check_placed_lonlat(
    placement: _Placement, names: npt.NDArray[np.object_], source: str
) -> None:
    lon, lat = placement.lon, placement.lat
    hint = ""
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        hint = "; projected metres? give them as x/y columns with crs='EPSG:....'"
    _check_lonlat(lon, lat, names, source, hint)


def _agencies(df: pd.DataFrame, column: str | None) -> Any:
    if column and column in df.columns:
        return df[column].astype(object).where(df[column].notna(), None).to_numpy()
    return None


def _fixed_flags(
    df: pd.DataFrame, column: str | None, names: npt.NDArray[np.object_], source: str
) -> Any:
    if column and column in df.columns:
        return _parse_bool(df[column], names, column, source)
    # The default column may be absent; one the caller named must exist.
    if column and column != "fixed":
        raise OfficeInputError(
            f"{source}: fixed_column {column!r} not found (columns: {list(df.columns)})"
        )
    return False


def _capacities(
    df: pd.DataFrame, column: str | None, names: npt.NDArray[np.object_], source: str
) -> Any:
    if not column or column not in df.columns:
        return np.nan
    cap = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = (df[column].notna().to_numpy() & np.isnan(cap)) | (cap < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise OfficeInputError(
            f"{source}: office {names[i]!r}: capacity {df[column].iloc[i]!r} "
            f"is not a number >= 0{_rows(source, i)} (leave empty for unknown)"
        )
    return cap


def _office_frame(
    df: pd.DataFrame,
    names: npt.NDArray[np.object_],
    placement: _Placement,
    muni: npt.NDArray[np.object_],
    columns: _ColumnNames,
    source: str,
) -> pd.DataFrame:
    """The :class:`Offices` columns, then every other input column unchanged."""
    out = pd.DataFrame({"name": names, "lon": placement.lon, "lat": placement.lat})
    out["agency"] = _agencies(df, columns.agency)
    out["fixed"] = _fixed_flags(df, columns.fixed, names, source)
    out["capacity"] = _capacities(df, columns.capacity, names, source)
    out["municipality"] = muni
    out["coord_source"] = placement.how
    used = {columns.name, "lon", "lat", columns.agency, columns.capacity, columns.municipality}
    for c in df.columns:
        if c not in used and c not in out.columns:
            out[c] = df[c].to_numpy()
    return out


def _warn_about_duplicates(names: npt.NDArray[np.object_], lon: F64, lat: F64, source: str) -> None:
    """Duplicate names and shared coordinates are legal, but usually a mistake."""
    # stacklevel 3: the warning points at the caller of read_offices.
    dup = pd.Series(names).duplicated(keep=False).to_numpy()
    if dup.any():
        first = sorted(set(names[dup]))[0]
        rows = [int(i) + 1 for i in np.flatnonzero(names == first)]
        warnings.warn(
            f"{source}: duplicate office names: {sorted(set(names[dup]))} ({first!r} in rows "
            f"{rows}); offices are told apart by position (column 'office' of the results), "
            "name them uniquely to read results easily",
            stacklevel=3,
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
            stacklevel=3,
        )


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
    """Read offices from CSV, GeoJSON, GeoPackage, a GeoDataFrame or a DataFrame.

    Coordinates per office, first available of: point geometry (of a vector file or a
    GeoDataFrame, in its CRS, any CRS); ``lon``/``lat`` columns (WGS84); ``x``/``y``
    columns in ``crs``; the centre point of the office's ``municipality`` from
    ``municipalities`` (a table read by :func:`read_municipalities`), used only for
    offices with none of the others. When the municipalities table is given, every
    municipality code present is checked against it, also for offices with coordinates.

    Optional columns (renamable, ``None`` to ignore): ``fixed`` (true/false, yes/no,
    1/0; empty = false), ``agency``, ``capacity`` (>= 0; empty = unknown),
    ``municipality`` (string code; integers are zero-padded to the width of the table's
    codes). Other columns (ids, ...) are kept unchanged in :attr:`Offices.frame` (e.g. the
    study's ``regional_centre``: pass ``fixed_column='regional_centre'`` to pin those
    offices); a DataFrame's index is not (``reset_index()`` first to keep it).

    Files are read by their content, not their extension alone: CSV/TSV text (UTF-8,
    UTF-8 with a BOM or UTF-16 with a BOM; other text is read as Windows-1252/Latin-1
    with a warning naming the encoding; the separator ``,``, ``;`` or tab is taken from
    the header line, and with ``;`` or tab decimal commas such as ``60,17`` are numbers;
    gzip-compressed CSV too), GeoJSON, GeoPackage, zipped Shapefile or (Geo)Parquet. A
    missing, empty, truncated or unreadable file, or a directory, is an
    :class:`~hexaccess.errors.InputFileError`.

    Raises :class:`OfficeInputError` naming the office, its row (and for CSV its line)
    and the value; warns (``UserWarning``) about duplicate names (with their rows) and
    offices at identical coordinates.
    """
    columns = _ColumnNames(
        name_column, fixed_column, agency_column, capacity_column, municipality_column
    )
    table = _read_input(path, name_column)
    df, source = table.attributes, table.source
    names = _office_names(df, name_column, source)
    placement = _Placement.unplaced(len(df))
    _place_from_geometry(placement, table)
    _place_from_columns(placement, df, names, crs, source)
    munis = read_municipalities(municipalities) if municipalities is not None else None
    muni = _municipality_codes(df, municipality_column, munis, source)
    _check_municipality_codes(muni, munis, names, source)
    _place_at_municipal_centres(placement, muni, munis, names, source)
    _check_placed_lonlat(placement, names, source)
    out = _office_frame(df, names, placement, muni, columns, source)
    _warn_about_duplicates(names, placement.lon, placement.lat, source)
    return Offices(out)
