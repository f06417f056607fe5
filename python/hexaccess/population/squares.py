"""Reader of square (or any polygon) grids and of square centre points: GeoPackage,
GeoParquet, GeoJSON... files, or a geopandas GeoDataFrame, in any CRS."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess._files import FORMAT_NAMES, check_input_file, sniff_format
from hexaccess.errors import GeoParquetError, PopulationInputError
from hexaccess.geoparquet import geoparquet_fields, read_geoparquet
from hexaccess.population._checks import (
    RowNamer,
    _check_counts,
    _check_output_names,
    _first_duplicate,
    _split_columns,
    _warn_user,
)
from hexaccess.population.apportion import DEFAULT_SAMPLES, _squares_to_grid
from hexaccess.population.grid import DEFAULT_RESOLUTION, PopulationGrid, _check_resolution
from hexaccess.population.municipalities import (
    _as_object_codes,
    _lookup_municipality,
    _normalise_codes,
)

if TYPE_CHECKING:  # geopandas is optional: only for the annotations
    import geopandas as gpd

#: shapely geometry type ids of the features this reader takes
_POINT, _POLYGON, _MULTIPOLYGON = 0, 3, 6

#: The content each vector file extension must have (sniffed from its first bytes).
_CONTENT_OF_SUFFIX = {
    ".gpkg": "gpkg",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".geojson": "json",
    ".json": "json",
    ".shp": "shp",
    ".zip": "zip",
}


@dataclasses.dataclass(frozen=True)
class _Features:
    """The features of a layer, whatever they were read from."""

    source: str  #: file name, or "GeoDataFrame"
    labels: npt.NDArray[Any]  #: FID (files) or index label (frames) of each feature
    label_name: str  #: "FID" or "index", for messages
    geometry: npt.NDArray[Any]  #: shapely geometries (None where a feature has none)
    data: dict[str, npt.NDArray[Any]]  #: the requested columns the layer has
    crs: Any  #: the layer's CRS (None when unknown)
    all_columns: Callable[[], list[str]]  #: every column name, for messages


@dataclasses.dataclass(frozen=True)
class _SquareOptions:
    """How to read the features: the arguments of :func:`read_square_grid`."""

    src_cols: list[str]
    out_cols: list[str]
    id_column: str | None
    municipality_column: str | None
    municipality_table: Any
    crs: Any
    cell_size: float | None
    resolution: int
    samples: int

    @property
    def wanted(self) -> list[str]:
        """Every column to read: counts, id and municipality."""
        extra = [c for c in (self.id_column, self.municipality_column) if c]
        return [*self.src_cols, *extra]


def read_square_grid(
    path: str | os.PathLike[str] | gpd.GeoDataFrame,
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

    ``path`` may also be a geopandas ``GeoDataFrame`` of the same features (with a CRS,
    or ``crs=``): the grid is the one the same data written to a GeoPackage gives.

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
    resolution = _check_resolution(resolution, apportion=True)
    opts = _square_options(
        value_columns,
        id_column=id_column,
        municipality_column=municipality_column,
        municipality_table=municipality_table,
        crs=crs,
        cell_size=cell_size,
        resolution=resolution,
        samples=samples,
    )
    wanted = list(dict.fromkeys(opts.wanted))
    if _is_geodataframe(path):
        features = _frame_features(path, wanted)
    else:
        features = _file_features(path, layer, wanted)
    grid = _features_to_grid(features, opts)
    grid.load_report["seconds"] = round(time.perf_counter() - t0, 3)
    return grid


def _square_options(
    value_columns: Sequence[str] | Mapping[str, str], **kwargs: Any
) -> _SquareOptions:
    """The reader's arguments, with the value columns split and checked."""
    src_cols, out_cols = _split_columns(value_columns)
    if not src_cols:
        raise PopulationInputError("value_columns is empty; name at least one count column")
    _check_output_names(out_cols)
    return _SquareOptions(src_cols=src_cols, out_cols=out_cols, **kwargs)


def _is_geodataframe(obj: Any) -> bool:
    """Whether ``obj`` is a GeoDataFrame, without importing geopandas (an optional
    dependency: if it was never imported, nothing can be one)."""
    geopandas = sys.modules.get("geopandas")
    return geopandas is not None and isinstance(obj, geopandas.GeoDataFrame)


# ----------------------------------------------------------------------------------------
# reading the features
# ----------------------------------------------------------------------------------------


def _file_features(
    path: str | os.PathLike[str], layer: str | int | None, columns: list[str]
) -> _Features:
    """The features of a vector file's layer (only ``columns`` are read)."""
    meta, fids, geom, data = _read_vector(path, layer, columns)
    return _Features(
        source=str(path),
        labels=fids,
        label_name="FID",
        geometry=_from_wkb(geom, fids, str(path)),
        data=data,
        crs=meta.get("crs"),
        all_columns=lambda: _vector_fields(path, layer),
    )


def _from_wkb(geom: npt.NDArray[Any], fids: npt.NDArray[Any], source: str) -> npt.NDArray[Any]:
    """Shapely geometries of the features' WKB; a value that is not WKB is refused,
    naming the feature (an empty geometry stays ``None``: refused later as missing)."""
    import shapely

    try:
        return shapely.from_wkb(geom)
    except (shapely.errors.ShapelyError, TypeError, ValueError):
        pass
    for i, g in enumerate(geom):
        try:
            shapely.from_wkb(g)
        except (shapely.errors.ShapelyError, TypeError, ValueError) as e:
            raise PopulationInputError(
                f"{source}: feature {i} (FID {fids[i]}): its geometry is not valid WKB ({e}); "
                "the file is corrupt: export it again"
            ) from None
    raise AssertionError("unreachable: some geometry failed to parse")  # pragma: no cover


def _frame_features(frame: gpd.GeoDataFrame, columns: list[str]) -> _Features:
    """The features of a GeoDataFrame: its active geometry, CRS and ``columns``."""
    fields = [str(c) for c in frame.columns if c != frame.geometry.name]
    return _Features(
        source="GeoDataFrame",
        labels=frame.index.to_numpy(),
        label_name="index",
        geometry=np.asarray(frame.geometry.to_numpy(), dtype=object),
        data={c: frame[c].to_numpy() for c in columns if c in fields},
        crs=frame.crs,
        all_columns=lambda: fields,
    )


def _read_vector(
    path: str | os.PathLike[str], layer: str | int | None, columns: list[str]
) -> tuple[dict[str, Any], npt.NDArray[Any], npt.NDArray[Any], dict[str, npt.NDArray[Any]]]:
    """(meta, fids, WKB geometries, {column: values}) via pyogrio (or pyarrow for Parquet),
    reading only ``columns`` (those the layer has: the caller names the missing ones)."""
    source = str(path)
    suffix = Path(path).suffix.lower()
    check_vector_file(path, "population file")
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


def check_vector_file(path: str | os.PathLike[str], role: str) -> str:
    """The sniffed format of a vector file, once it exists, is a readable non-empty
    file, has the content its extension says (``.gpkg`` a GeoPackage, ``.parquet``
    Parquet, ...) and is not cut short; other extensions are left to GDAL."""
    p = check_input_file(path, role)
    fmt = sniff_format(p)
    want = _CONTENT_OF_SUFFIX.get(p.suffix.lower())
    if want is not None and fmt != want:
        raise PopulationInputError(
            f"{p}: the {role} is named {p.suffix} but is {FORMAT_NAMES.get(fmt, fmt)} by its "
            f"content, not {FORMAT_NAMES[want]}; give the right file or rename it to match "
            "its content"
        )
    if fmt in ("gpkg", "parquet", "zip", "tiff", "pbf"):
        check_input_file(p, role, kinds=(fmt,))  # truncated or corrupt: named
    return fmt


def _vector_fields(path: str | os.PathLike[str], layer: str | int | None) -> list[str]:
    """All column names of a vector layer (for error messages)."""
    try:
        if Path(path).suffix.lower() in (".parquet", ".geoparquet"):
            return geoparquet_fields(path)
        import pyogrio

        return [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]
    except Exception:  # only used to word an error; never hide the original one
        return []


# ----------------------------------------------------------------------------------------
# features -> grid
# ----------------------------------------------------------------------------------------


def _features_to_grid(feat: _Features, opts: _SquareOptions) -> PopulationGrid:
    """Check the features, attach their municipality and apportion them by shape."""
    import shapely

    _check_layer(feat, opts.wanted)
    where = _feature_namer(feat, opts.id_column)
    crs = opts.crs if opts.crs is not None else feat.crs
    if crs is None:
        raise PopulationInputError(
            f"{feat.source}: the layer has no CRS (or declares it unknown); pass "
            "crs='EPSG:....' (crs='EPSG:4326' for lon/lat degrees)"
        )
    frame = pd.DataFrame({c: feat.data[c] for c in opts.src_cols})
    values = _check_counts(frame, opts.src_cols, where, feat.source)
    if opts.id_column:
        _refuse_duplicate_ids(feat, opts.id_column, where)
    _refuse_missing_geometry(feat, where)
    geoms = feat.geometry
    report: dict[str, Any] = {
        "source": feat.source,
        "loader": "read_square_grid",
        "squares": len(geoms),
    }
    muni = _feature_municipalities(feat, opts, values, report)
    common = dict(
        values=values,
        muni=muni,
        columns=opts.out_cols,
        crs=crs,
        resolution=opts.resolution,
        samples=opts.samples,
        describe=where,
        source=feat.source,
        report=report,
    )
    gtype = shapely.get_type_id(geoms)
    if (gtype == _POINT).all():
        return _points_to_grid(geoms, opts.cell_size, feat.source, common)
    if np.isin(gtype, (_POLYGON, _MULTIPOLYGON)).all():
        return _polygons_to_grid(geoms, where, feat.source, common)
    odd = ~np.isin(gtype, (_POINT, _POLYGON, _MULTIPOLYGON)) | (gtype != gtype[0])
    i = int(np.flatnonzero(odd)[0])
    raise PopulationInputError(
        f"{feat.source}: {where(i)} has geometry type {shapely.get_type_id(geoms[i])} "
        "(expected all polygons or all points)"
    )


def _check_layer(feat: _Features, wanted: list[str]) -> None:
    """Every requested column present, and at least one feature."""
    missing = [c for c in wanted if c not in feat.data]
    if missing:
        raise PopulationInputError(
            f"{feat.source}: missing column(s) {missing} (columns: {feat.all_columns()}); "
            "check value_columns / id_column / municipality_column"
        )
    if len(feat.geometry) == 0:
        raise PopulationInputError(f"{feat.source}: layer has no features; nothing to load")


def _feature_namer(feat: _Features, id_column: str | None) -> RowNamer:
    """``where(i)``: feature ``i`` named by position, FID (or index) and id."""

    def where(i: int) -> str:
        s = f"feature {i} ({feat.label_name} {feat.labels[i]}"
        if id_column:
            s += f", {id_column}={feat.data[id_column][i]!r}"
        return s + ")"

    return where


def _refuse_duplicate_ids(feat: _Features, id_column: str, where: RowNamer) -> None:
    """A square listed twice would count its people twice: refused, naming both."""
    ids = pd.Series(feat.data[id_column]).astype(str)
    pair = _first_duplicate(ids)
    if pair is not None:
        a, b = pair
        raise PopulationInputError(
            f"{feat.source}: {id_column} {ids.iloc[a]!r} appears twice ({where(a)} "
            f"and {where(b)}); remove the duplicate (duplicates are refused)"
        )


def _refuse_missing_geometry(feat: _Features, where: RowNamer) -> None:
    """Every feature needs a shape: its people have nowhere to go otherwise."""
    null = np.array([g is None for g in feat.geometry], dtype=bool)
    if null.any():
        i = int(np.flatnonzero(null)[0])
        raise PopulationInputError(f"{feat.source}: {where(i)} has no geometry; remove it")


def _feature_municipalities(
    feat: _Features, opts: _SquareOptions, values: npt.NDArray[np.int64], report: dict[str, Any]
) -> npt.NDArray[np.object_] | None:
    """Municipality of each feature, from its column or the id table (or None); the
    features without one are counted and warned about."""
    muni = None
    if opts.municipality_column:
        muni = _as_object_codes(feat.data[opts.municipality_column])
    elif opts.municipality_table is not None:
        if not opts.id_column:
            raise PopulationInputError("municipality_table needs id_column= (the key of the table)")
        ids = pd.Series(feat.data[opts.id_column]).astype(str)
        muni = _lookup_municipality(ids, opts.municipality_table, feat.source, report)
    if muni is not None and opts.municipality_column:
        muni = _normalise_codes(muni, feat.source, where=lambda i: f"feature {i}")
    if muni is not None and any(m is None for m in muni):
        miss = np.array([m is None for m in muni])
        report["squares_without_municipality"] = int(miss.sum())
        _warn_user(
            f"{feat.source}: {int(miss.sum()):,} features ({int(values[miss, 0].sum()):,} "
            f"{opts.out_cols[0]}) have no municipality; their municipality is unknown"
        )
    return muni


def _points_to_grid(
    geoms: npt.NDArray[Any], cell_size: float | None, source: str, common: dict[str, Any]
) -> PopulationGrid:
    """Square centre points: squares of side ``cell_size`` around them."""
    import shapely

    if cell_size is None or not cell_size > 0:
        raise PopulationInputError(
            f"{source}: features are points (square centres); pass cell_size= (side of "
            "the square in the CRS units, e.g. 1000 for a 1 km grid in metres)"
        )
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    half = float(cell_size) / 2
    w = np.full(len(geoms), float(cell_size))
    return _squares_to_grid(x0=x - half, y0=y - half, width=w, height=w, **common)


def _polygons_to_grid(
    geoms: npt.NDArray[Any], where: RowNamer, source: str, common: dict[str, Any]
) -> PopulationGrid:
    """(Multi)polygons: sampled on their bounding-box lattice, clipped to the shape when
    it is not an axis-aligned rectangle."""
    import shapely

    b = shapely.bounds(geoms)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    area = shapely.area(geoms)
    degenerate = ~(area > 0)
    if degenerate.any():
        i = int(np.flatnonzero(degenerate)[0])
        raise PopulationInputError(f"{source}: {where(i)} is an empty or zero-area polygon")
    rect = np.abs(area - w * h) <= 1e-9 * w * h
    common["report"]["non_rectangular_polygons"] = int((~rect).sum())
    inside = None if rect.all() else _clip_to_shapes(geoms, rect)
    return _squares_to_grid(x0=b[:, 0], y0=b[:, 1], width=w, height=h, inside=inside, **common)


def _clip_to_shapes(
    geoms: npt.NDArray[Any], rect: npt.NDArray[np.bool_]
) -> Callable[..., tuple[Any, ...]]:
    """``inside(lo, hi, sq, x, y)``: the sample points inside each shape (rectangles
    keep all of theirs); a shape too thin to hold a lattice point keeps its
    representative point instead, so nobody is lost."""
    import shapely

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

    return inside
