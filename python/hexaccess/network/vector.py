"""Reading vector road lines (Shapefile, GeoPackage, GeoParquet, a GeoDataFrame, ...)
into a :class:`~hexaccess.network.RoadNetwork`.

One pass of named steps: open the source, choose the columns, read them, check the
geometries and split them into line parts, bring coordinates to metres, make nodes (line
end points snapped to a grid; with splitting also the shape points), make edges, give
them classes, speeds and directions, then drop what the profile excludes.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess._files import FORMAT_NAMES, check_input_file, sniff_format
from hexaccess.errors import GeoParquetError, InputFileError, RoadDataError
from hexaccess.geoparquet import geoparquet_fields, read_geoparquet
from hexaccess.network._attributes import (
    _class_keys,
    _edge_times,
    _parse_oneway,
    _rows_text,
    _speeds_for,
)
from hexaccess.network._crs import (
    _geodesic_segments,
    _is_metric_projected,
    _local_utm,
    _parse_crs,
)
from hexaccess.network.model import F64, I64, SPLIT_AT_VERTICES_DEFAULT, RoadNetwork
from hexaccess.profiles import SpeedProfile, load_profile

__all__ = ["read_roads"]

_GEOM_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def read_roads(
    path: str | Path | Any,
    profile: SpeedProfile | str | Path,
    layer: str | int | None = None,
    class_column: str | None = None,
    crs: Any = None,
    *,
    oneway_column: str | None = None,
    snap_m: float = 0.1,
    split_at_vertices: bool = SPLIT_AT_VERTICES_DEFAULT,
) -> RoadNetwork:
    """Read a noded line layer (Shapefile, GeoPackage, GeoParquet, ...) into a network.

    Parameters
    ----------
    path, layer
        File and layer (default: the first layer), or a ``geopandas.GeoDataFrame`` of
        road lines with a CRS (then no ``layer``): the same data gives the same network
        from a frame as from a file.
    profile
        :class:`SpeedProfile` or a name/path for :func:`load_profile`.
    class_column
        Column holding the road class; it must have a table ``[speeds_kmh.<column>]`` in
        the profile. Default: the first of the profile's class tables present in the file.
    crs
        Overrides the file's CRS (needed when the file declares none). Geographic or
        non-metre CRSs are reprojected to the local UTM zone; lengths of geographic input
        are geodesic.
    oneway_column
        Column of one-way flags (yes/true/1, -1/reverse, no/false/0/empty). Default: a
        column named ``oneway`` (any case) when present, else all edges are two-way.
        Ignored (all two-way) when the profile has ``respect_oneway = false``.
    snap_m
        End points are merged into one node when their coordinates round to the same
        ``snap_m`` grid cell.
    split_at_vertices
        ``True`` (default, :data:`SPLIT_AT_VERTICES_DEFAULT`, as the CLI): every shape
        point becomes a node and every segment between consecutive shape points an edge
        (own length, time and midpoint; class, one-way, ferry and ``source_row``
        inherited from the line), so that points attach to the road actually passing
        them rather than to a junction kilometres away. ``False``: one edge per line
        part, between its end points, with the shape points folded into its length. See
        *Splitting at shape points* below.

    Notes
    -----
    MultiLineStrings are split into parts (one edge each). Ferry edges (profile
    ``[ferry.detect]``) take ``length / ferry speed + boarding``. Rows whose class is in
    the profile's ``[exclude]`` are left out and counted in ``meta["excluded"]``.

    Splitting at shape points
    -------------------------
    The split network is a subdivision of the unsplit one: travel times between line end
    points are the same (up to float summation order). To guarantee that, only end
    points are merged across lines (as without splitting); a shape point is a node of its
    own line only, even when another line has a point at the same place, because the
    lines are noded and such a coincidence is a crossing without a junction (a bridge),
    not a junction. ``meta["shape_points_at_other_nodes"]`` counts these coincidences:
    when it is large the file is probably not noded. Consecutive points of a line that
    snap to the same ``snap_m`` cell are one node (no zero-length edges); the segments
    between them are counted in ``meta["collapsed_segments"]`` and
    ``meta["collapsed_km"]`` and their length is added to the next edge of the line (the
    previous one at its end), so line lengths are kept. A line part entirely within one
    ``snap_m`` cell gives no edge (unsplit, it is a self-loop).

    Ferry boarding is paid once per original ferry line part, on its first segment as
    drawn (the one starting at the part's first point): a full crossing costs exactly
    what the unsplit edge costs. Shape points inside a ferry line are mid-water nodes;
    ``meta["ferry_shape_point"]`` flags them so that :func:`connect_points` can avoid
    them (``node_mask=~net.meta["ferry_shape_point"]``).

    Node ids: the line end points come first, ``0 .. meta["end_point_nodes"] - 1``, in
    the same order as without splitting; then the shape points, in file order.
    ``meta["shape_point"]`` flags the latter.
    """
    t0 = time.perf_counter()
    profile = load_profile(profile)
    if not np.isfinite(snap_m) or snap_m <= 0:
        raise RoadDataError(f"snap_m must be > 0, got {snap_m}")
    source = _road_source(path, layer)
    if isinstance(source, _FileSource) and source.format == "pbf":
        return _read_pbf_instead(
            source, profile, class_column, crs, oneway_column, split_at_vertices
        )
    columns = _choose_columns(source.fields(), profile, class_column, oneway_column, source.where)
    features = source.read(columns.to_read)
    if features.rows == 0:
        raise RoadDataError(
            f"{source.where}: the road layer has no features (0 rows); give a layer with "
            "road lines" + (" (or another layer=...)" if isinstance(source, _FileSource) else "")
        )
    t_read = time.perf_counter() - t0
    src_crs = _parse_crs(crs if crs is not None else features.crs, source.where)
    lines = _to_metric(_line_parts(features.geometries(), source.where), src_crs, source.where)
    node_xy, end_node = _end_nodes(lines.coords, lines.ncoord, snap_m)
    if split_at_vertices:
        edges = _split_edges(lines, node_xy, end_node, snap_m)
    else:
        edges = _unsplit_edges(lines, node_xy, end_node)
    attrs = _part_attributes(features.data, lines, columns, profile, source.where)
    meta = {
        "source": source.name,
        "layer": layer,
        "rows": features.rows,
        "line_parts": int(lines.parts.size),
        "snap_m": snap_m,
        "oneway_column": columns.oneway,
        "ferry_columns": columns.ferry,
        "excluded": attrs.excluded_meta,
        "split_at_vertices": bool(split_at_vertices),
    }
    net = _network(edges, attrs, lines, columns, profile, snap_m, split_at_vertices, meta)
    if net.num_edges == 0:
        raise _no_usable_lines(source.where, profile, columns, attrs, features.rows, snap_m)
    net.meta["read_s"] = t_read
    net.meta["load_s"] = time.perf_counter() - t0
    return net


def _no_usable_lines(
    where: str,
    profile: SpeedProfile,
    columns: _Columns,
    attrs: _PartAttributes,
    rows: int,
    snap_m: float,
) -> RoadDataError:
    """The error for a road layer that gives no edge: every line excluded by the
    profile, or every line shorter than ``snap_m``."""
    if attrs.excluded.all():
        why = (
            f"all {rows} rows are classes its [exclude] {columns.class_column} lists "
            f"({attrs.excluded_meta}); give roads this mode may use, or another profile "
            "(--mode / --profile)"
        )
    else:
        why = f"every line kept is shorter than snap_m = {snap_m} m (coordinates in km?)"
    return RoadDataError(
        f"{where}: no line usable by profile {profile.name!r} (mode {profile.mode!r}): {why}"
    )


# ====================================================================== sources
@dataclass
class _Features:
    """The rows of a road layer: the needed columns, the geometries (WKB as read from a
    file, or shapely objects from a frame) and the declared CRS (None: unknown)."""

    data: dict[str, np.ndarray]
    crs: Any
    wkb: np.ndarray | None = None
    geoms: np.ndarray | None = None

    @property
    def rows(self) -> int:
        """Number of feature rows."""
        return len(self.wkb if self.wkb is not None else self.geoms)

    def geometries(self) -> np.ndarray:
        """Shapely geometries, one per row (None where missing)."""
        import shapely

        return self.geoms if self.geoms is not None else shapely.from_wkb(self.wkb)


class _FileSource:
    """A road layer in a file GDAL (or, for GeoParquet, pyarrow) reads."""

    def __init__(self, path: str | os.PathLike[str], layer: str | int | None) -> None:
        import pyogrio

        self.path, self.format = _check_road_file(path)
        self.name = str(path)
        self.layer = layer
        self.where = f"{self.name}" + (f" (layer {layer!r})" if layer is not None else "")
        low = self.name.lower()
        # Every open of a shapefile matches its .prj against the PROJ database (~45 ms
        # for the NLS file, more than reading its data), so a shapefile is opened once,
        # reading all its (dBase, cheap) columns; other formats are inspected first so
        # that only the needed columns of possibly wide layers are read.
        self.one_pass = low.endswith((".shp", ".dbf", ".shz", ".shp.zip")) or self.format == "shp"
        # pip wheels of pyogrio have no Parquet driver: read GeoParquet with pyarrow
        # instead (schema first, then only the needed columns).
        self.via_arrow = self.format == "parquet" and "Parquet" not in pyogrio.list_drivers()
        self._whole: tuple[Any, ...] | None = None

    def fields(self) -> list[str]:
        """Names of the attribute columns."""
        import pyogrio
        import pyogrio.raw

        try:
            if self.via_arrow:
                return [str(f) for f in geoparquet_fields(self.name)]
            if self.one_pass:
                self._whole = pyogrio.raw.read(self.name, layer=self.layer)
                return [str(f) for f in self._whole[0]["fields"]]
            return [str(f) for f in pyogrio.read_info(self.name, layer=self.layer)["fields"]]
        except Exception as e:  # pyogrio raises DataSourceError / DataLayerError
            raise self._cannot_open(e) from e

    def _cannot_open(self, e: Exception) -> RoadDataError:
        """The error for a layer GDAL (or pyarrow) cannot open or read: what the file is
        by its content, the reader's words, the layers when a layer was asked for."""
        import pyogrio

        what = FORMAT_NAMES.get(self.format, self.format)
        layers = ""
        if self.layer is not None:
            try:
                names = [str(n) for n in pyogrio.list_layers(self.name)[:, 0]]
                layers = f"; its layers are {names}"
            except Exception:  # the file itself is unreadable
                layers = ""
        said = " ".join(str(e).split()).split("; It might help", 1)[0]
        return RoadDataError(
            f"{self.where}: cannot open road layer ({what} by its content): {said}{layers}; "
            "the file is corrupt, truncated or not a road layer: export it again "
            "(GeoPackage, Shapefile, GeoParquet or .osm.pbf)"
        )

    def read(self, columns: list[str]) -> _Features:
        """The rows with only ``columns`` (all must exist)."""
        import pyogrio.raw

        if self.via_arrow:
            try:
                meta_in, _, wkb, field_data = read_geoparquet(self.name, columns=columns)
            except GeoParquetError as e:
                raise RoadDataError(f"{self.where}: cannot open road layer: {e}") from e
        elif self._whole is not None:
            meta_in, _, wkb, field_data = self._whole
        else:
            try:
                meta_in, _, wkb, field_data = pyogrio.raw.read(
                    self.name, layer=self.layer, columns=columns
                )
            except Exception as e:  # a file that opens but whose data is corrupt
                raise self._cannot_open(e) from e
        data = dict(zip([str(c) for c in meta_in["fields"]], field_data, strict=True))
        return _Features({c: data[c] for c in columns}, meta_in.get("crs"), wkb=wkb)


class _FrameSource:
    """A ``geopandas.GeoDataFrame`` of road lines; its columns are read as a file's."""

    def __init__(self, frame: Any) -> None:
        self.name = "GeoDataFrame"
        self.where = f"GeoDataFrame ({len(frame)} rows)"
        try:
            self.geometry_name = frame.geometry.name
        except AttributeError as e:  # no active geometry column
            raise RoadDataError(
                f"{self.where}: has no active geometry column; call "
                "frame.set_geometry('<column>') first"
            ) from e
        self.frame = frame

    def fields(self) -> list[str]:
        """Names of the attribute columns."""
        return [str(c) for c in self.frame.columns if c != self.geometry_name]

    def read(self, columns: list[str]) -> _Features:
        """The rows with only ``columns`` (all must exist)."""
        by_name = {str(c): c for c in self.frame.columns if c != self.geometry_name}
        data = {c: _frame_values(self.frame[by_name[c]]) for c in columns}
        geoms = np.asarray(self.frame.geometry.array, dtype=object)
        return _Features(data, self.frame.crs, geoms=geoms)


#: Extensions of road files looked for inside a directory given as the road file.
_ROAD_SUFFIXES = (".gpkg", ".shp", ".parquet", ".geoparquet", ".pbf", ".geojson", ".fgb")


def _check_road_file(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """The road file checked (exists, a file, readable, not empty, not truncated) and its
    format sniffed from the content. A directory is refused naming the road files in it
    (an ESRI File Geodatabase, ``*.gdb``, is a directory and is left to GDAL, as are GDAL
    virtual paths such as ``/vsizip/roads.zip/roads.shp``)."""
    p = Path(path)
    if str(path).startswith("/vsi"):  # a GDAL virtual path (/vsizip/..., /vsicurl/...)
        return p, "vsi"
    if p.is_dir() and p.suffix.lower() == ".gdb":
        return p, "gdb"
    if p.is_dir():
        inside = sorted(c.name for c in p.iterdir() if c.name.lower().endswith(_ROAD_SUFFIXES))
        raise InputFileError(
            f"road file {p} is a directory, not a file; give the road file inside it"
            + (f" (it holds {inside[:5]})" if inside else " (it holds no road file)")
        )
    p = check_input_file(p, "road file")
    fmt = sniff_format(p)
    if fmt in ("tiff", "empty"):
        raise RoadDataError(
            f"road file {p} is {FORMAT_NAMES[fmt]} by its content, not road lines; give a "
            "GeoPackage, Shapefile, GeoParquet or .osm.pbf of roads"
        )
    if fmt in ("gpkg", "parquet", "zip", "pbf"):
        check_input_file(p, "road file", kinds=(fmt,))  # truncated files named as such
    return p, fmt


def _read_pbf_instead(
    source: _FileSource,
    profile: SpeedProfile,
    class_column: str | None,
    crs: Any,
    oneway_column: str | None,
    split_at_vertices: bool,
) -> RoadNetwork:
    """A file that is OpenStreetMap PBF by its content, whatever its name, is read as
    OSM (:func:`~hexaccess.network.read_osm_pbf`); options that apply only to vector
    layers are an error rather than ignored."""
    from hexaccess.network.osm import read_osm_pbf

    given = {
        k: v
        for k, v in (
            ("layer", source.layer),
            ("crs", crs),
            ("oneway_column", oneway_column),
        )
        if v is not None
    }
    if class_column not in (None, "highway"):
        given["class_column"] = class_column
    if given:
        raise RoadDataError(
            f"{source.name} is an OpenStreetMap .osm.pbf file by its content; {sorted(given)} "
            "apply to vector layers only (OSM uses the highway tag, WGS84 and the oneway "
            "tags of the profile's [osm] table): leave them out"
        )
    return read_osm_pbf(source.path, profile, split_at_vertices=split_at_vertices)


def _frame_values(column: pd.Series) -> np.ndarray:
    """A frame column as a file reader gives it: a numpy array, missing values of text
    columns as None (as GDAL reads nulls)."""
    values = column.to_numpy()
    if values.dtype == object:
        missing = pd.isna(values)
        if missing.any():
            values = values.copy()
            values[missing] = None
    return values


def _road_source(path: Any, layer: str | int | None) -> _FileSource | _FrameSource:
    """The reader for ``path``: a file path or a GeoDataFrame (geopandas is never
    imported here: a frame exists only if the caller imported it)."""
    gpd = sys.modules.get("geopandas")
    if gpd is not None and isinstance(path, gpd.GeoDataFrame):
        if layer is not None:
            raise RoadDataError(
                f"layer={layer!r} applies to files; a GeoDataFrame is one layer already"
            )
        return _FrameSource(path)
    if isinstance(path, (str, os.PathLike)):
        return _FileSource(path, layer)
    if isinstance(path, pd.DataFrame):
        raise RoadDataError(
            "roads given as a pandas DataFrame without geometry; pass a geopandas "
            "GeoDataFrame of road lines (with a CRS) or the path of a road file"
        )
    raise RoadDataError(
        f"roads must be the path of a road file or a geopandas GeoDataFrame of road lines, "
        f"got {type(path).__name__}"
    )


# ====================================================================== columns
@dataclass(frozen=True)
class _Columns:
    """The columns the reader uses: class, one-way (optional) and ferry detection."""

    class_column: str
    oneway: str | None
    ferry: list[str]

    @property
    def to_read(self) -> list[str]:
        """Every column to read, each once, class column first."""
        extra = [self.oneway] if self.oneway else []
        return list(dict.fromkeys([self.class_column, *self.ferry, *extra]))


def _choose_columns(
    fields: list[str],
    profile: SpeedProfile,
    class_column: str | None,
    oneway_column: str | None,
    where: str,
) -> _Columns:
    """Check the requested columns against the file and the profile; fill defaults."""
    if class_column is None:
        present = [s for s in profile.class_speeds_kmh if s in fields]
        if not present:
            raise RoadDataError(
                f"{where}: none of the class columns of profile {profile.name!r} "
                f"({list(profile.class_speeds_kmh)}) is in the file (columns: {fields}); "
                "pass class_column=... and add a matching [speeds_kmh.<column>] table"
            )
        class_column = present[0]
    if class_column not in fields:
        raise RoadDataError(f"{where}: class column {class_column!r} missing; columns are {fields}")
    if class_column not in profile.class_speeds_kmh:
        raise RoadDataError(
            f"{where}: profile {profile.name!r} ({profile.source}) has no speed table for "
            f"class column {class_column!r}; it has {list(profile.class_speeds_kmh)}. "
            f"Add [speeds_kmh.{class_column}] to the profile"
        )
    if oneway_column is None:
        oneway_column = next((f for f in fields if f.lower() == "oneway"), None)
    elif oneway_column not in fields:
        raise RoadDataError(
            f"{where}: oneway column {oneway_column!r} missing; columns are {fields}"
        )
    ferry_cols = [c for c in profile.ferry_detect if c in fields]
    return _Columns(class_column, oneway_column, ferry_cols)


# ==================================================================== geometry
@dataclass
class _Lines:
    """Line parts (one per LineString, or per part of a MultiLineString) in metres.

    ``coords`` holds every part's points in order (``ncoord`` per part); ``part_row`` is
    the feature row of each part; ``length`` its length (geodesic for lon/lat input).
    ``seg_all[i]`` is the length of the segment from point ``i`` to ``i + 1`` (meaningful
    within a part), known only for lon/lat input (geodesic), else None.
    """

    parts: np.ndarray
    part_row: I64
    ncoord: npt.NDArray[np.integer]
    coords: F64
    crs: Any = None
    length: F64 | None = None
    seg_all: F64 | None = None


def _line_parts(geoms: np.ndarray, where: str) -> _Lines:
    """Check that every row is a line with 2+ points; split multi-lines into parts."""
    import shapely

    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise RoadDataError(
            f"{where}: rows {_rows_text(np.flatnonzero(missing))} have no geometry "
            "(null or empty); fix or remove them"
        )
    type_id = shapely.get_type_id(geoms)
    bad = ~np.isin(type_id, [1, 2, 5])  # LineString, LinearRing, MultiLineString
    if bad.any():
        kinds = sorted(set(shapely.get_type_id(geoms[bad]).tolist()))
        names = [_GEOM_NAMES.get(k, str(k)) for k in kinds]
        raise RoadDataError(
            f"{where}: rows {_rows_text(np.flatnonzero(bad))} are not lines "
            f"(geometry types {names}); road layers must contain LineString or "
            "MultiLineString features"
        )
    geoms = shapely.force_2d(geoms)
    parts, part_row = shapely.get_parts(geoms, return_index=True)
    part_row = part_row.astype(np.int64)
    ncoord = shapely.get_num_coordinates(parts)
    short = ncoord < 2
    if short.any():
        raise RoadDataError(
            f"{where}: rows {_rows_text(part_row[short])} have line parts with fewer than 2 points"
        )
    return _Lines(parts, part_row, ncoord, shapely.get_coordinates(parts))


def _check_finite_coords(lines: _Lines, coords: F64, where: str) -> None:
    bad_xy = ~np.isfinite(coords).all(axis=1)
    if bad_xy.any():
        rows = np.repeat(lines.part_row, lines.ncoord)[bad_xy]
        raise RoadDataError(
            f"{where}: rows {_rows_text(np.unique(rows))} have non-finite coordinates"
        )


def _to_metric(lines: _Lines, src_crs: Any, where: str) -> _Lines:
    """Lines in a metric projected CRS as they are; others reprojected to local UTM."""
    import shapely

    if _is_metric_projected(src_crs):
        lines.crs = src_crs
        lines.length = shapely.length(lines.parts)
    else:
        _reproject_to_utm(lines, src_crs, where)
    _check_finite_coords(lines, lines.coords, where)
    return lines


def _reproject_to_utm(lines: _Lines, src_crs: Any, where: str) -> None:
    """Reproject ``lines`` in place to the local UTM zone; lon/lat input keeps its
    geodesic lengths (segments and parts), other CRSs get planar UTM lengths."""
    import pyproj
    import shapely

    coords = lines.coords
    _check_finite_coords(lines, coords, where)
    lon, lat = pyproj.Transformer.from_crs(src_crs, "EPSG:4326", always_xy=True).transform(
        coords[:, 0], coords[:, 1]
    )
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    _check_lonlat_domain(lines, lon, lat, src_crs, where)
    if src_crs.is_geographic:
        lines.seg_all, lines.length = _geodesic_lengths(lines, lon, lat)
    lines.crs = _local_utm(np.asarray(lon), np.asarray(lat))
    tr = pyproj.Transformer.from_crs("EPSG:4326", lines.crs, always_xy=True)
    px, py = tr.transform(np.asarray(lon), np.asarray(lat))
    lines.coords = np.column_stack([px, py])
    lines.parts = shapely.set_coordinates(lines.parts.copy(), lines.coords)
    if lines.length is None:
        lines.length = shapely.length(lines.parts)


def _check_lonlat_domain(lines: _Lines, lon: F64, lat: F64, src_crs: Any, where: str) -> None:
    """Like the population loaders: metres read as degrees (a wrong or missing CRS) are
    caught here, not as nonsense lengths or a failed UTM zone look-up."""
    out = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90.0))
    if out.any():
        i = int(np.flatnonzero(out)[0])
        rows = np.unique(np.repeat(lines.part_row, lines.ncoord)[out])
        raise RoadDataError(
            f"{where}: rows {_rows_text(rows)} have coordinates outside the domain of "
            f"{src_crs.name} (first: ({lines.coords[i, 0]}, {lines.coords[i, 1]})); the CRS "
            "is probably wrong: pass the file's real crs=... (e.g. 'EPSG:3067' for "
            "TM35FIN metres)"
        )


def _geodesic_lengths(lines: _Lines, lon: F64, lat: F64) -> tuple[F64, F64]:
    """Geodesic lengths of every segment (across part boundaries too) and every part."""
    seg = _geodesic_segments(np.asarray(lon), np.asarray(lat))
    same = np.ones(lines.coords.shape[0] - 1, dtype=bool)
    ends = np.cumsum(lines.ncoord)[:-1] - 1  # index of each part's last point
    same[ends] = False  # segments crossing part boundaries
    n_parts = lines.parts.size
    seg_part = np.repeat(np.arange(n_parts), lines.ncoord - 1)
    return seg, np.bincount(seg_part, weights=seg[same], minlength=n_parts)


# ======================================================================== nodes
def _end_nodes(coords: F64, ncoord: npt.NDArray[np.integer], snap_m: float) -> tuple[F64, I64]:
    """Nodes made of the parts' end points snapped to the ``snap_m`` grid.

    Returns the node coordinates (first point of each cell, in cell order) and the node
    of every part's first point, then of every part's last point.
    """
    last = np.cumsum(ncoord) - 1
    first = last - ncoord + 1
    ends_xy = np.concatenate([coords[first], coords[last]])
    grid = np.round(ends_xy / snap_m).astype(np.int64)
    _, first_idx, inverse = np.unique(_cell_keys(grid), return_index=True, return_inverse=True)
    return ends_xy[first_idx], inverse.reshape(-1)


def _cell_keys(grid: npt.NDArray[np.int64]) -> np.ndarray:
    """One sortable key per row of integer grid cells ``(gx, gy)``, ordered like the
    rows lexicographically: an int64 ``gx * span + gy`` when it fits (a 1-D sort is
    several times faster than ``np.unique(axis=0)``), else the rows themselves viewed as
    structured records (same order, the slow path)."""
    if grid.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    lo = grid.min(axis=0)
    span = grid.max(axis=0) - lo + 1
    if float(span[0]) * float(span[1]) < 2.0**62:
        g = grid - lo
        return g[:, 0] * span[1] + g[:, 1]
    g = np.ascontiguousarray(grid)
    return g.view([("x", np.int64), ("y", np.int64)]).ravel()


# ======================================================================== edges
@dataclass
class _Edges:
    """Edges before classes: the part each comes from, its end nodes, length, midpoint
    and whether it pays a ferry's boarding (the first edge of its part); all the nodes
    (end points first, then shape points when splitting)."""

    part: I64
    tail: I64
    head: I64
    length: F64
    mid: F64
    first: npt.NDArray[np.bool_]
    node_xy: F64
    n_end_nodes: int
    meta: dict[str, Any] = field(default_factory=dict)


def _unsplit_edges(lines: _Lines, node_xy: F64, end_node: I64) -> _Edges:
    """One edge per line part, between its end points."""
    import shapely

    n_parts = lines.parts.size
    mid = shapely.get_coordinates(shapely.line_interpolate_point(lines.parts, 0.5, normalized=True))
    return _Edges(
        part=np.arange(n_parts, dtype=np.int64),
        tail=end_node[:n_parts].astype(np.int64),
        head=end_node[n_parts:].astype(np.int64),
        length=lines.length,
        mid=mid,
        first=np.ones(n_parts, dtype=bool),
        node_xy=node_xy,
        n_end_nodes=node_xy.shape[0],
    )


def _split_edges(lines: _Lines, node_xy: F64, end_node: I64, snap_m: float) -> _Edges:
    """One edge per segment between consecutive shape points (see :func:`_split_parts`)."""
    seg_all = lines.seg_all
    if seg_all is None:  # planar (input or reprojected) coordinates
        d = np.diff(lines.coords, axis=0)
        seg_all = np.hypot(d[:, 0], d[:, 1])
    n_end_nodes = node_xy.shape[0]
    part, tail, head, length, mid, shape_xy, meta = _split_parts(
        lines.coords, lines.ncoord, end_node, n_end_nodes, seg_all, snap_m
    )
    return _Edges(
        part=part,
        tail=tail,
        head=head,
        length=length,
        mid=mid,
        # the first segment (as drawn) of each part pays a ferry's boarding time
        first=np.concatenate([[True], part[1:] != part[:-1]]),
        node_xy=np.concatenate([node_xy, shape_xy]),
        n_end_nodes=n_end_nodes,
        meta=meta,
    )


def _split_parts(
    coords: F64,
    ncoord: npt.NDArray[np.integer],
    end_node: npt.NDArray[np.integer],
    n_end_nodes: int,
    seg_all: F64,
    snap_m: float,
) -> tuple[I64, I64, I64, F64, F64, F64, dict[str, Any]]:
    """One edge per segment between consecutive shape points of each line part.

    ``end_node`` holds the node of every part's first point, then of every part's last
    point (ids < ``n_end_nodes``). Interior shape points get new ids from ``n_end_nodes``
    on, one per run of consecutive points of a part that snap to the same ``snap_m``
    cell. Returns per edge ``(part, tail, head, length, midpoint xy)``, the coordinates
    of the new nodes and counts for ``meta``.
    """
    n_parts = ncoord.size
    nc = coords.shape[0]
    coord_part = np.repeat(np.arange(n_parts, dtype=np.int64), ncoord)
    g = np.round(coords / snap_m).astype(np.int64)
    # a run = consecutive points of one part in the same snap cell = one node
    new_run = np.ones(nc, dtype=bool)
    new_run[1:] = (coord_part[1:] != coord_part[:-1]) | (g[1:] != g[:-1]).any(axis=1)
    run = np.cumsum(new_run) - 1
    run_start = np.flatnonzero(new_run)
    last = np.cumsum(ncoord) - 1
    first = last - ncoord + 1
    run_node = np.full(run_start.size, -1, dtype=np.int64)
    # the runs holding a part's first / last point are its (shared) end nodes; when one
    # run holds both, both ends snapped to the same cell and so are the same node
    run_node[run[last]] = end_node[n_parts:]
    run_node[run[first]] = end_node[:n_parts]
    private = run_node < 0
    run_node[private] = n_end_nodes + np.arange(int(private.sum()), dtype=np.int64)
    shape_xy = coords[run_start[private]]

    same_part = coord_part[1:] == coord_part[:-1]
    seg = np.flatnonzero(same_part & (run[1:] != run[:-1]))
    collapsed = same_part & (run[1:] == run[:-1])
    # the length inside a run (collapsed segments) goes to the edge leaving the run, or,
    # for a part's last run, to the edge entering it: line lengths (and so travel times
    # between end points) stay those of the unsplit network
    internal = np.bincount(
        run[:-1][collapsed], weights=seg_all[collapsed], minlength=run_start.size
    )
    e_part = coord_part[seg]
    last_of_part = np.concatenate([e_part[1:] != e_part[:-1], [True]])
    e_len = seg_all[seg] + internal[run[seg]]
    e_len[last_of_part] += internal[run[seg + 1]][last_of_part]
    e_mid = (coords[seg] + coords[seg + 1]) / 2  # segments are straight
    meta = {
        "collapsed_segments": int(collapsed.sum()),
        "collapsed_km": float(seg_all[collapsed].sum() / 1000),
    }
    return e_part, run_node[run[seg]], run_node[run[seg + 1]], e_len, e_mid, shape_xy, meta


# ================================================================== attributes
@dataclass
class _PartAttributes:
    """Per line part: class value, ferry flag, excluded by the profile, speed (km/h;
    NaN for ferries and excluded parts) and direction (+1, -1, 0 two-way)."""

    classes: np.ndarray
    ferry: npt.NDArray[np.bool_]
    excluded: npt.NDArray[np.bool_]
    excluded_meta: dict[str, dict[str, Any]]
    speed: F64
    oneway: npt.NDArray[np.int8]


def _part_attributes(
    data: dict[str, np.ndarray],
    lines: _Lines,
    columns: _Columns,
    profile: SpeedProfile,
    where: str,
) -> _PartAttributes:
    """Classes, ferries, exclusions, speeds and directions of every line part."""
    part_row, n_parts = lines.part_row, lines.parts.size
    class_column = columns.class_column
    classes = np.asarray(data[class_column])[part_row]
    keys = _class_keys(classes)
    na = pd.isna(pd.Series(classes)).to_numpy()
    ferry = np.zeros(n_parts, dtype=bool)
    for c in columns.ferry:
        ferry |= np.isin(_class_keys(np.asarray(data[c])[part_row]), list(profile.ferry_detect[c]))
    if (na & ~ferry).any():
        raise RoadDataError(
            f"{where}: class column {class_column!r} is empty in rows "
            f"{_rows_text(np.unique(part_row[na & ~ferry]))}"
        )
    excluded = np.isin(keys, list(profile.exclude.get(class_column, ()))) & ~ferry
    excluded_meta = {
        str(k): {
            "lines": int(np.unique(part_row[excluded & (keys == k)]).size),
            "km": float(lines.length[excluded & (keys == k)].sum() / 1000),
        }
        for k in pd.unique(keys[excluded])
    }
    speed = np.full(n_parts, np.nan)
    road = ~ferry & ~excluded
    speed[road] = _speeds_for(keys[road], profile, class_column, where, part_row[road])
    if columns.oneway is not None and profile.respect_oneway:
        ow = _parse_oneway(np.asarray(data[columns.oneway])[part_row], where, columns.oneway)
    else:
        ow = np.zeros(n_parts, dtype=np.int8)
    return _PartAttributes(classes, ferry, excluded, excluded_meta, speed, ow)


# ==================================================================== assembly
def _network(
    edges: _Edges,
    attrs: _PartAttributes,
    lines: _Lines,
    columns: _Columns,
    profile: SpeedProfile,
    snap_m: float,
    split_at_vertices: bool,
    meta: dict[str, Any],
) -> RoadNetwork:
    """Edges with their parts' attributes, excluded edges and their nodes dropped."""
    # per edge from here on (one edge per part, or per segment when splitting)
    rev = attrs.oneway[edges.part] == -1
    edges.tail[rev], edges.head[rev] = edges.head[rev].copy(), edges.tail[rev].copy()
    keep = ~attrs.excluded[edges.part]
    kp = edges.part[keep]
    time_s = _edge_times(
        edges.length[keep], attrs.speed[kp], attrs.ferry[kp], profile, boarding=edges.first[keep]
    )
    n_nodes = edges.node_xy.shape[0]
    used, tail, head = _drop_unused_nodes(n_nodes, edges.tail[keep], edges.head[keep])
    split_meta = dict(edges.meta)
    if split_at_vertices:
        split_meta.update(_split_node_meta(edges, used, tail, head, attrs.ferry[kp], snap_m))
    out_epsg = lines.crs.to_epsg()  # slow for WKT without an authority code: once
    return RoadNetwork(
        x=edges.node_xy[used, 0],
        y=edges.node_xy[used, 1],
        crs=lines.crs.to_wkt() if out_epsg is None else f"EPSG:{out_epsg}",
        tail=tail,
        head=head,
        length_m=edges.length[keep],
        time_s=time_s,
        road_class=attrs.classes[kp],
        oneway=(attrs.oneway != 0)[kp],
        ferry=attrs.ferry[kp],
        mid_x=edges.mid[keep, 0],
        mid_y=edges.mid[keep, 1],
        source_row=lines.part_row[kp],
        class_column=columns.class_column,
        profile=profile,
        meta={**meta, **split_meta},
    )


def _drop_unused_nodes(n_nodes: int, tail: I64, head: I64) -> tuple[np.ndarray, I64, I64]:
    """Drop nodes only used by excluded edges and renumber; the order is kept, so line
    end points stay first when splitting. Returns the kept-node mask, tail, head."""
    used = np.zeros(n_nodes, dtype=bool)
    used[tail] = True
    used[head] = True
    new_id = np.cumsum(used) - 1
    return used, new_id[tail], new_id[head]


def _split_node_meta(
    edges: _Edges,
    used: np.ndarray,
    tail: I64,
    head: I64,
    ferry: npt.NDArray[np.bool_],
    snap_m: float,
) -> dict[str, Any]:
    """Shape-point flags and counts of the kept nodes of a split network."""
    n_used_end = int(used[: edges.n_end_nodes].sum())
    shape_point = np.arange(int(used.sum())) >= n_used_end
    ferry_node = np.zeros(shape_point.size, dtype=bool)
    ferry_node[tail[ferry]] = True
    ferry_node[head[ferry]] = True
    # coincidences counted among the nodes actually kept
    node_grid = np.round(edges.node_xy[used] / snap_m).astype(np.int64)
    _, g_inv, g_cnt = np.unique(_cell_keys(node_grid), return_inverse=True, return_counts=True)
    return {
        "end_point_nodes": n_used_end,
        "shape_point": shape_point,
        "ferry_shape_point": ferry_node & shape_point,
        "shape_points_at_other_nodes": int((shape_point & (g_cnt[g_inv.reshape(-1)] > 1)).sum()),
    }
