"""Road networks: vector roads or OpenStreetMap → graph arrays for the engine.

A :class:`RoadNetwork` holds nodes (x, y in a metric CRS) and one row per road *edge*
(a piece of road between two graph nodes, shape points folded into its length unless
split), with a one-way flag. :meth:`RoadNetwork.to_edge_arrays` turns it into directed arcs
``(tail, head, time_s, length_m)`` for the engine.

Readers
-------
- :func:`read_roads`: Shapefile / GeoPackage / GeoParquet (anything GDAL reads) via
  ``pyogrio.raw.read`` + shapely 2 vectorised functions. Graph nodes are line end points;
  end points closer than ``snap_m`` (grid rounding) are one node. Lines must be *noded*
  (meet at end points), as the NLS 1:1 M network is.
- :func:`read_osm_pbf`: OpenStreetMap PBF/XML via pyosmium. Graph nodes are OSM nodes used
  by two or more ways (junctions) and way ends; intermediate nodes are folded into lengths
  (geodesic, WGS84).

Both take ``split_at_vertices=True`` to make every shape point a node and every segment
an edge: sparse networks (the NLS 1:1 M lines average ~5 km) then offer a node close to
every point along the road, so :func:`connect_points` attaches cells to the road that
passes them. Travel times between the unsplit nodes do not change.

Nothing is dropped silently: rows the profile excludes for the mode (``[exclude]``) and,
for OSM, ways with unknown or forbidden tags are counted in ``RoadNetwork.meta``; unknown
classes in vector files are an error.

Units: metres, seconds, km/h in profiles, people/km² for densities.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.geoparquet import GeoParquetError, geoparquet_fields, read_geoparquet
from hexaccess.profiles import SpeedProfile, _class_key, load_profile

__all__ = [
    "RoadDataError",
    "RoadNetwork",
    "apply_urban_slowdown",
    "apply_urban_slowdown_polygons",
    "connect_points",
    "diagnostics",
    "read_osm_pbf",
    "read_roads",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class RoadDataError(ValueError):
    """Invalid road data; the message names the file and the offending rows/values."""


# ====================================================================== network
@dataclass
class RoadNetwork:
    """Road graph: nodes in a metric CRS and one row per (undirected or one-way) edge.

    Edge ``i`` runs from node ``tail[i]`` to ``head[i]`` (for one-way edges: the allowed
    direction). ``time_s`` already includes the profile's class speed, ferry boarding and,
    once applied, the urban slowdown. ``source_row`` is the 0-based feature row (vector
    files) or the OSM way id (OSM) each edge comes from; ``mid_x, mid_y`` the point halfway
    along the edge geometry (used for density look-ups).
    """

    x: F64
    y: F64
    crs: str
    tail: I64
    head: I64
    length_m: F64
    time_s: F64
    road_class: np.ndarray
    oneway: npt.NDArray[np.bool_]
    ferry: npt.NDArray[np.bool_]
    mid_x: F64
    mid_y: F64
    source_row: I64
    class_column: str
    profile: SpeedProfile
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.x = np.ascontiguousarray(self.x, dtype=np.float64)
        self.y = np.ascontiguousarray(self.y, dtype=np.float64)
        self.tail = np.ascontiguousarray(self.tail, dtype=np.int64)
        self.head = np.ascontiguousarray(self.head, dtype=np.int64)
        self.length_m = np.ascontiguousarray(self.length_m, dtype=np.float64)
        self.time_s = np.ascontiguousarray(self.time_s, dtype=np.float64)
        self.oneway = np.ascontiguousarray(self.oneway, dtype=bool)
        self.ferry = np.ascontiguousarray(self.ferry, dtype=bool)
        self.mid_x = np.ascontiguousarray(self.mid_x, dtype=np.float64)
        self.mid_y = np.ascontiguousarray(self.mid_y, dtype=np.float64)
        self.source_row = np.ascontiguousarray(self.source_row, dtype=np.int64)
        self.road_class = np.asarray(self.road_class)
        if self.x.shape != self.y.shape or self.x.ndim != 1:
            raise ValueError("node x and y must be 1-D arrays of equal length")
        m = self.tail.shape[0]
        for name in (
            "head",
            "length_m",
            "time_s",
            "road_class",
            "oneway",
            "ferry",
            "mid_x",
            "mid_y",
            "source_row",
        ):
            if getattr(self, name).shape != (m,):
                raise ValueError(f"edge array {name!r} must have shape ({m},)")
        n = self.x.shape[0]
        for name in ("tail", "head"):
            a = getattr(self, name)
            bad = (a < 0) | (a >= n)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"edge {i}: {name} = {a[i]} is not a node id in [0, {n})")
        for name in ("length_m", "time_s"):
            a = getattr(self, name)
            bad = ~(np.isfinite(a) & (a >= 0))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"edge {i}: {name} = {a[i]} must be finite and >= 0")

    @property
    def num_nodes(self) -> int:
        """Number of graph nodes."""
        return int(self.x.shape[0])

    @property
    def num_edges(self) -> int:
        """Number of edge rows (a two-way edge counts once)."""
        return int(self.tail.shape[0])

    def to_edge_arrays(
        self, both_directions: bool = True, return_edge_ids: bool = False
    ) -> tuple[I64, I64, F64, F64] | tuple[I64, I64, F64, F64, I64]:
        """Directed arcs ``(tail, head, time_s, length_m)`` for the engine.

        ``both_directions=True`` (default): every edge gives its forward arc, then every
        two-way edge gives its reverse arc (forward block first, then reverse block, each
        in edge order); pass the result to the engine with ``bidirectional=False``.
        ``both_directions=False``: one row per edge, for the engine's
        ``bidirectional=True``; only valid when no edge is one-way (else ``ValueError``).
        With ``return_edge_ids`` a fifth array gives each arc's edge row.
        """
        if both_directions:
            rev = np.flatnonzero(~self.oneway)
            fwd = np.arange(self.num_edges, dtype=np.int64)
            ids = np.concatenate([fwd, rev])
            tail = np.concatenate([self.tail, self.head[rev]])
            head = np.concatenate([self.head, self.tail[rev]])
        else:
            if self.oneway.any():
                raise ValueError(
                    f"{int(self.oneway.sum())} edges are one-way; use both_directions=True "
                    "(engine bidirectional=False) so one-way edges get only their forward arc"
                )
            ids = np.arange(self.num_edges, dtype=np.int64)
            tail, head = self.tail.copy(), self.head.copy()
        out = (tail, head, self.time_s[ids], self.length_m[ids])
        return (*out, ids) if return_edge_ids else out

    def node_lonlat(self) -> tuple[F64, F64]:
        """(lon, lat) in degrees (WGS84) of every node."""
        return _to_lonlat(self.x, self.y, self.crs)

    def replace(self, **changes: Any) -> RoadNetwork:
        """A copy with some fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)


# ================================================================== CRS helpers
def _parse_crs(crs: Any, where: str) -> Any:
    import pyproj

    if crs is None or crs == "":
        raise RoadDataError(
            f"{where}: unknown CRS (the file declares none, or declares it unknown); pass "
            "crs=..., e.g. crs='EPSG:3067' for Finnish TM35FIN data or crs='EPSG:4326' for "
            "lon/lat degrees"
        )
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as e:
        raise RoadDataError(f"{where}: cannot interpret CRS {str(crs)[:80]!r}: {e}") from e


def _is_metric_projected(crs: Any) -> bool:
    if not crs.is_projected:
        return False
    units = {a.unit_name.lower() for a in crs.axis_info}
    return units <= {"metre", "meter", "m"}


def _local_utm(lon: F64, lat: F64) -> Any:
    """UTM CRS (WGS84) of the zone containing the data's bounding-box centre."""
    import pyproj
    from pyproj.aoi import AreaOfInterest
    from pyproj.database import query_utm_crs_info

    aoi = AreaOfInterest(
        float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))
    )
    clon, clat = (
        (aoi.west_lon_degree + aoi.east_lon_degree) / 2,
        (aoi.south_lat_degree + aoi.north_lat_degree) / 2,
    )
    zone = int((clon + 180) // 6) % 60 + 1
    epsg = (32600 if clat >= 0 else 32700) + zone
    infos = query_utm_crs_info(datum_name="WGS 84", area_of_interest=aoi)
    codes = {int(i.code) for i in infos}
    return pyproj.CRS.from_epsg(epsg if not codes or epsg in codes else min(codes))


def _check_finite_coords(coords: F64, part_row: I64, ncoord: I64, where: str) -> None:
    bad_xy = ~np.isfinite(coords).all(axis=1)
    if bad_xy.any():
        rows = np.repeat(part_row, ncoord)[bad_xy]
        raise RoadDataError(
            f"{where}: rows {_rows_text(np.unique(rows))} have non-finite coordinates"
        )


def _to_lonlat(x: F64, y: F64, crs: str) -> tuple[F64, F64]:
    import pyproj

    tr = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _geodesic_segments(lon: F64, lat: F64) -> F64:
    """Geodesic (WGS84) lengths of the segments between consecutive points, metres."""
    import pyproj

    if lon.size < 2:
        return np.zeros(0)
    _, _, d = pyproj.Geod(ellps="WGS84").inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return np.asarray(d, dtype=np.float64)


# ============================================================== class handling
def _class_keys(values: np.ndarray) -> np.ndarray:
    """Canonical string key of each class value (vectorised over unique values)."""
    inv, uniq = pd.factorize(pd.Series(values), use_na_sentinel=False)
    keys = np.array([_class_key(u) for u in uniq], dtype=object)
    return keys[inv] if len(keys) else np.zeros(0, dtype=object)


def _rows_text(rows: np.ndarray, limit: int = 5) -> str:
    rows = np.asarray(rows)
    txt = ", ".join(str(int(r)) for r in rows[:limit])
    return txt + (f", ... ({rows.size} rows)" if rows.size > limit else "")


def _class_speeds(keys: np.ndarray, profile: SpeedProfile, class_column: str) -> F64:
    """Profile speed (km/h) of each class key (from :func:`_class_keys`); NaN where the
    profile's ``[speeds_kmh.<class_column>]`` table has no entry for the key."""
    table = profile.class_speeds_kmh[class_column]
    return pd.Series(keys, dtype=object).map(table).to_numpy(dtype=np.float64, na_value=np.nan)


def _speeds_for(
    keys: np.ndarray,
    profile: SpeedProfile,
    class_column: str,
    where: str,
    rows: np.ndarray,
) -> F64:
    speed = _class_speeds(keys, profile, class_column)
    unknown = np.isnan(speed)
    if unknown.any():
        counts = Counter(keys[unknown].tolist())
        listing = ", ".join(
            f"{v!r} ({n} rows, first row {int(rows[unknown][keys[unknown] == v][0])})"
            for v, n in sorted(counts.items())
        )
        v0 = sorted(counts)[0]
        raise RoadDataError(
            f"{where}: {class_column} values not in speed profile {profile.name!r} "
            f"({profile.source}): {listing}. Add a speed under [speeds_kmh.{class_column}] "
            f"(or list the value under [exclude] {class_column} = [...] if the mode may not "
            f"use it), e.g. profile.with_overrides(speeds_kmh__{class_column}__{v0}=50)"
        )
    return speed


def _edge_times(
    length_m: F64,
    speed_kmh: F64,
    ferry: np.ndarray,
    profile: SpeedProfile,
    boarding: np.ndarray | None = None,
) -> F64:
    """Travel time per edge. Ferry edges run at the ferry speed; the edges flagged in
    ``boarding`` (default: every ferry edge) also pay the boarding time. Lines split at
    their shape points flag only one piece per ferry line, so a crossing pays it once."""
    t = np.empty_like(length_m)
    road = ~ferry
    t[road] = length_m[road] / (speed_kmh[road] / 3.6)
    t[ferry] = length_m[ferry] / (profile.ferry_speed_kmh / 3.6)
    board = ferry if boarding is None else ferry & boarding
    t[board] += profile.ferry_boarding_s
    return t


_ONEWAY_FWD = {"1", "yes", "true", "t", "y", "ft"}
_ONEWAY_REV = {"-1", "reverse", "tf"}
_ONEWAY_NO = {"0", "no", "false", "f", "n", "", "none", "nan", "b"}


def _parse_oneway(values: np.ndarray, where: str, column: str) -> npt.NDArray[np.int8]:
    """Oneway column → +1 forward, -1 reverse, 0 two-way (unknown values raise)."""
    keys = _class_keys(values)
    out = np.zeros(keys.shape[0], dtype=np.int8)
    lower = np.array([k.strip().lower() for k in pd.unique(keys)], dtype=object)
    uniq = pd.unique(keys)
    for k, low in zip(uniq, lower, strict=True):
        if low in _ONEWAY_FWD:
            out[keys == k] = 1
        elif low in _ONEWAY_REV:
            out[keys == k] = -1
        elif low not in _ONEWAY_NO:
            rows = np.flatnonzero(keys == k)
            raise RoadDataError(
                f"{where}: column {column!r} has value {k!r} (rows {_rows_text(rows)}); "
                "expected yes/true/1 (one-way along the line), -1/reverse (against it) "
                "or no/false/0/empty (two-way)"
            )
    return out


# ================================================================= read_roads
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
    path: str | Path,
    profile: SpeedProfile | str | Path,
    layer: str | int | None = None,
    class_column: str | None = None,
    crs: Any = None,
    *,
    oneway_column: str | None = None,
    snap_m: float = 0.1,
    split_at_vertices: bool = False,
) -> RoadNetwork:
    """Read a noded line layer (Shapefile, GeoPackage, GeoParquet, ...) into a network.

    Parameters
    ----------
    path, layer
        File and layer (default: the first layer).
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
        ``False`` (default): one edge per line part, between its end points, with the
        shape points folded into its length. ``True``: every shape point becomes a node
        and every segment between consecutive shape points an edge (own length, time and
        midpoint; class, one-way, ferry and ``source_row`` inherited from the line), so
        that points attach to the road actually passing them rather than to a junction
        kilometres away. See *Splitting at shape points* below.

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
    import pyogrio
    import pyogrio.raw
    import shapely

    t0 = time.perf_counter()
    profile = load_profile(profile)
    path = str(path)
    where = f"{path}" + (f" (layer {layer!r})" if layer is not None else "")
    if not np.isfinite(snap_m) or snap_m <= 0:
        raise ValueError(f"snap_m must be > 0, got {snap_m}")
    # Every open of a shapefile matches its .prj against the PROJ database (~45 ms for
    # the NLS file, more than reading its data), so a shapefile is opened once, reading
    # all its (dBase, cheap) columns; other formats are inspected first so that only the
    # needed columns of possibly wide layers are read.
    low = path.lower()
    one_pass = low.endswith((".shp", ".dbf", ".shz", ".shp.zip"))
    # pip wheels of pyogrio have no Parquet driver: read GeoParquet with pyarrow instead
    # (schema first, then only the needed columns).
    via_arrow = low.endswith((".parquet", ".geoparquet")) and (
        "Parquet" not in pyogrio.list_drivers()
    )
    try:
        if via_arrow:
            fields = [str(f) for f in geoparquet_fields(path)]
        elif one_pass:
            meta_in, _, wkb, field_data = pyogrio.raw.read(path, layer=layer)
            fields = [str(f) for f in meta_in["fields"]]
        else:
            fields = [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]
    except Exception as e:  # pyogrio raises DataSourceError / DataLayerError
        raise RoadDataError(f"{where}: cannot open road layer: {e}") from e
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
    columns = list(
        dict.fromkeys([class_column, *ferry_cols] + ([oneway_column] if oneway_column else []))
    )

    if via_arrow:
        try:
            meta_in, _, wkb, field_data = read_geoparquet(path, columns=columns)
        except GeoParquetError as e:
            raise RoadDataError(f"{where}: cannot open road layer: {e}") from e
    elif not one_pass:
        meta_in, _, wkb, field_data = pyogrio.raw.read(path, layer=layer, columns=columns)
    t_read = time.perf_counter() - t0
    data = dict(zip([str(c) for c in meta_in["fields"]], field_data, strict=True))
    data = {c: data[c] for c in columns}
    file_crs = crs if crs is not None else meta_in.get("crs")
    src_crs = _parse_crs(file_crs, where)
    n_rows = len(wkb)

    geoms = shapely.from_wkb(wkb)
    # ---------------------------------------------------------- geometry checks
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
    coords = shapely.get_coordinates(parts)

    # ------------------------------------------------------------ CRS / lengths
    # seg_all[i]: length of the segment from coordinate i to i + 1 (meaningful only
    # where both belong to the same part); needed only when splitting
    seg_all: F64 | None = None
    if _is_metric_projected(src_crs):
        out_crs = src_crs
        length = shapely.length(parts)
    else:
        import pyproj

        _check_finite_coords(coords, part_row, ncoord, where)
        lon, lat = pyproj.Transformer.from_crs(src_crs, "EPSG:4326", always_xy=True).transform(
            coords[:, 0], coords[:, 1]
        )
        lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        # Like the population loaders: metres read as degrees (a wrong or missing CRS)
        # are caught here, not as nonsense lengths or a failed UTM zone look-up.
        out = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90.0))
        if out.any():
            i = int(np.flatnonzero(out)[0])
            rows = np.unique(np.repeat(part_row, ncoord)[out])
            raise RoadDataError(
                f"{where}: rows {_rows_text(rows)} have coordinates outside the domain of "
                f"{src_crs.name} (first: ({coords[i, 0]}, {coords[i, 1]})); the CRS is "
                "probably wrong: pass the file's real crs=... (e.g. 'EPSG:3067' for "
                "TM35FIN metres)"
            )
        if src_crs.is_geographic:
            seg = _geodesic_segments(np.asarray(lon), np.asarray(lat))
            seg_all = seg
            same = np.ones(coords.shape[0] - 1, dtype=bool)
            ends = np.cumsum(ncoord)[:-1] - 1  # index of each part's last point
            same[ends] = False  # segments crossing part boundaries
            seg_part = np.repeat(np.arange(parts.size), ncoord - 1)
            length = np.bincount(seg_part, weights=seg[same], minlength=parts.size)
        else:
            length = None
        out_crs = _local_utm(np.asarray(lon), np.asarray(lat))
        tr = pyproj.Transformer.from_crs("EPSG:4326", out_crs, always_xy=True)
        px, py = tr.transform(np.asarray(lon), np.asarray(lat))
        coords = np.column_stack([px, py])
        parts = shapely.set_coordinates(parts.copy(), coords)
        if length is None:
            length = shapely.length(parts)
    _check_finite_coords(coords, part_row, ncoord, where)

    # ------------------------------------------------------------------- nodes
    last = np.cumsum(ncoord) - 1
    first = last - ncoord + 1
    ends_xy = np.concatenate([coords[first], coords[last]])
    grid = np.round(ends_xy / snap_m).astype(np.int64)
    _, first_idx, inverse = np.unique(_cell_keys(grid), return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    node_xy = ends_xy[first_idx]
    n_end_nodes = node_xy.shape[0]
    n_parts = parts.size

    # ------------------------------------------------------------------- edges
    split_meta: dict[str, Any] = {}
    if split_at_vertices:
        if seg_all is None:  # planar (input or reprojected) coordinates
            d = np.diff(coords, axis=0)
            seg_all = np.hypot(d[:, 0], d[:, 1])
        e_part, e_tail, e_head, e_len, e_mid, shape_xy, split_meta = _split_parts(
            coords, ncoord, inverse, n_end_nodes, seg_all, snap_m
        )
        node_xy = np.concatenate([node_xy, shape_xy])
        # the first segment (as drawn) of each part pays a ferry's boarding time
        e_first = np.concatenate([[True], e_part[1:] != e_part[:-1]])
    else:
        e_part = np.arange(n_parts, dtype=np.int64)
        e_tail, e_head = inverse[:n_parts].astype(np.int64), inverse[n_parts:].astype(np.int64)
        e_len = length
        e_mid = shapely.get_coordinates(shapely.line_interpolate_point(parts, 0.5, normalized=True))
        e_first = np.ones(n_parts, dtype=bool)

    # ------------------------------------------------------- classes and times
    classes = np.asarray(data[class_column])[part_row]
    keys = _class_keys(classes)
    na = pd.isna(pd.Series(classes)).to_numpy()
    ferry = np.zeros(n_parts, dtype=bool)
    for c in ferry_cols:
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
            "km": float(length[excluded & (keys == k)].sum() / 1000),
        }
        for k in pd.unique(keys[excluded])
    }
    speed = np.full(n_parts, np.nan)
    road = ~ferry & ~excluded
    speed[road] = _speeds_for(keys[road], profile, class_column, where, part_row[road])
    if oneway_column is not None and profile.respect_oneway:
        ow = _parse_oneway(np.asarray(data[oneway_column])[part_row], where, oneway_column)
    else:
        ow = np.zeros(n_parts, dtype=np.int8)
    # per edge from here on (one edge per part, or per segment when splitting)
    rev = ow[e_part] == -1
    e_tail[rev], e_head[rev] = e_head[rev].copy(), e_tail[rev].copy()
    keep = ~excluded[e_part]
    kp = e_part[keep]
    time_s = _edge_times(e_len[keep], speed[kp], ferry[kp], profile, boarding=e_first[keep])

    # drop nodes only used by excluded edges and renumber (order is kept, so line end
    # points stay first when splitting)
    tail, head = e_tail[keep], e_head[keep]
    used = np.zeros(node_xy.shape[0], dtype=bool)
    used[tail] = True
    used[head] = True
    new_id = np.cumsum(used) - 1
    tail, head = new_id[tail], new_id[head]
    if split_at_vertices:
        n_used_end = int(used[:n_end_nodes].sum())
        shape_point = np.arange(int(used.sum())) >= n_used_end
        ferry_node = np.zeros(shape_point.size, dtype=bool)
        ferry_node[tail[ferry[kp]]] = True
        ferry_node[head[ferry[kp]]] = True
        # coincidences counted among the nodes actually kept
        node_grid = np.round(node_xy[used] / snap_m).astype(np.int64)
        _, g_inv, g_cnt = np.unique(_cell_keys(node_grid), return_inverse=True, return_counts=True)
        split_meta.update(
            end_point_nodes=n_used_end,
            shape_point=shape_point,
            ferry_shape_point=ferry_node & shape_point,
            shape_points_at_other_nodes=int((shape_point & (g_cnt[g_inv.reshape(-1)] > 1)).sum()),
        )
    out_epsg = out_crs.to_epsg()  # slow for WKT without an authority code: once
    net = RoadNetwork(
        x=node_xy[used, 0],
        y=node_xy[used, 1],
        crs=out_crs.to_wkt() if out_epsg is None else f"EPSG:{out_epsg}",
        tail=tail,
        head=head,
        length_m=e_len[keep],
        time_s=time_s,
        road_class=classes[kp],
        oneway=(ow != 0)[kp],
        ferry=ferry[kp],
        mid_x=e_mid[keep, 0],
        mid_y=e_mid[keep, 1],
        source_row=part_row[kp],
        class_column=class_column,
        profile=profile,
        meta={
            "source": path,
            "layer": layer,
            "rows": n_rows,
            "line_parts": int(n_parts),
            "snap_m": snap_m,
            "oneway_column": oneway_column,
            "ferry_columns": ferry_cols,
            "excluded": excluded_meta,
            "split_at_vertices": bool(split_at_vertices),
            **split_meta,
            "read_s": t_read,
            "load_s": time.perf_counter() - t0,
        },
    )
    return net


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


# ================================================================ read_osm_pbf
_FORBIDDEN_ACCESS = {"no", "private"}


def read_osm_pbf(
    path: str | Path,
    profile: SpeedProfile | str | Path,
    *,
    split_at_vertices: bool = False,
) -> RoadNetwork:
    """Read OpenStreetMap ways usable by the profile's mode into a network.

    Ways are kept when their ``highway`` value has a speed in ``[speeds_kmh.highway]``
    (or ``route`` is a ferry per ``[ferry.detect]``) and the most specific access tag in
    ``[osm] access_tags`` is not ``no``/``private``. Graph nodes are OSM nodes shared by
    two or more kept ways, way ends, and the ends of runs of nodes missing from the
    extract (ways cut at the extract boundary keep their inside pieces). One-way: the
    first tag of ``[osm] oneway_tags`` present (yes/true/1, -1/reverse, no); without one,
    ``junction=roundabout|circular`` and ``highway=motorway`` are one-way for profiles that
    list ``oneway``. Node coordinates are projected to the local UTM zone; lengths are
    geodesic. Skipped ways are counted in ``meta`` (``excluded``, ``unknown_highway``,
    ``access_forbidden``, ``unknown_oneway``, ``ways_without_located_segment`` for ways
    whose nodes lie outside the extract); unknown ``highway`` values also warn.

    ``split_at_vertices=True`` makes every located OSM node of a kept way a graph node
    and every segment between consecutive nodes an edge (as in :func:`read_roads`).
    Nodes are OSM nodes, so shared nodes are junctions as before and the split network
    is a subdivision of the unsplit one (same times between its nodes). Ferry boarding
    is paid on the first segment of each edge the unsplit reader would make, i.e. once
    per crossing; ``meta["shape_point"]`` flags nodes that exist only because of the
    split and ``meta["ferry_shape_point"]`` those inside ferry routes (mid-water: exclude
    them from :func:`connect_points` with ``node_mask``).
    """
    import osmium

    t0 = time.perf_counter()
    profile = load_profile(profile)
    path = str(path)
    if not Path(path).is_file():
        raise FileNotFoundError(f"OSM file not found: {path}")
    speeds = profile.class_speeds_kmh.get("highway")
    if speeds is None:
        raise RoadDataError(
            f"{path}: profile {profile.name!r} ({profile.source}) has no [speeds_kmh.highway] "
            "table for OpenStreetMap data"
        )
    exclude = set(profile.exclude.get("highway", ()))
    ferry_routes = set(profile.ferry_detect.get("route", ()))
    access_tags = list(profile.osm_access_tags)
    oneway_tags = list(profile.osm_oneway_tags)
    implied_oneway = profile.respect_oneway and "oneway" in oneway_tags

    refs: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    valid: list[bool] = []
    way_len: list[int] = []
    way_id: list[int] = []
    way_class: list[str] = []
    way_ferry: list[bool] = []
    way_oneway: list[int] = []
    c_excluded: Counter[str] = Counter()
    c_unknown: Counter[str] = Counter()
    c_access: Counter[str] = Counter()
    c_oneway: Counter[str] = Counter()

    fp = (
        osmium.FileProcessor(path)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway", "route"))
    )
    for w in fp:
        tags = w.tags
        hw = tags.get("highway")
        is_ferry = False
        if hw is None:
            if tags.get("route") not in ferry_routes:
                continue
            cls, is_ferry = "ferry", True
        elif hw in exclude:
            c_excluded[hw] += 1
            continue
        elif hw not in speeds:
            c_unknown[hw] += 1
            continue
        else:
            cls = hw
        acc = None
        for t in access_tags:
            v = tags.get(t)
            if v is not None:
                acc = v
        if acc in _FORBIDDEN_ACCESS:
            c_access[f"{cls}:{acc}"] += 1
            continue
        ow = 0
        if profile.respect_oneway and not is_ferry:
            val = next((tags.get(t) for t in oneway_tags if t in tags), None)
            if val is None:
                if implied_oneway and (
                    tags.get("junction") in ("roundabout", "circular") or hw == "motorway"
                ):
                    ow = 1
            elif val in ("yes", "true", "1"):
                ow = 1
            elif val in ("-1", "reverse"):
                ow = -1
            elif val not in ("no", "false", "0"):
                c_oneway[val] += 1  # e.g. reversible/alternating: treated as two-way
        n0 = len(refs)
        for nd in w.nodes:
            refs.append(nd.ref)
            loc = nd.location
            ok = loc.valid()
            valid.append(ok)
            xs.append(loc.x if ok else 0)
            ys.append(loc.y if ok else 0)
        way_len.append(len(refs) - n0)
        way_id.append(w.id)
        way_class.append(cls)
        way_ferry.append(is_ferry)
        way_oneway.append(ow)
    t_read = time.perf_counter() - t0
    if c_unknown:
        warnings.warn(
            f"{path}: skipped ways with highway values that profile {profile.name!r} neither "
            f"rates nor excludes: {dict(c_unknown)}; add them to [speeds_kmh.highway] or "
            "[exclude] highway",
            stacklevel=2,
        )
    meta: dict[str, Any] = {
        "source": path,
        "ways": len(way_id),
        "excluded": dict(c_excluded),
        "unknown_highway": dict(c_unknown),
        "access_forbidden": dict(c_access),
        "unknown_oneway": dict(c_oneway),
        "read_s": t_read,
    }
    if not way_id:
        raise RoadDataError(f"{path}: no ways usable by profile {profile.name!r}; {meta}")

    ref = np.asarray(refs, dtype=np.int64)
    ok = np.asarray(valid, dtype=bool)
    lon = np.asarray(xs, dtype=np.float64) * 1e-7
    lat = np.asarray(ys, dtype=np.float64) * 1e-7
    wlen = np.asarray(way_len, dtype=np.int64)
    widx = np.repeat(np.arange(wlen.size), wlen)
    n = ref.size
    # segment i joins entries i and i+1 of the same way, both with a location
    seg_ok = (widx[:-1] == widx[1:]) & ok[:-1] & ok[1:]
    prev_ok = np.concatenate([[False], seg_ok])  # entry i is the end of a segment
    next_ok = np.concatenate([seg_ok, [False]])  # entry i starts a segment
    in_seg = prev_ok | next_ok
    # junctions: refs used by >= 2 way entries that lie on usable segments
    _, uinv, ucount = np.unique(ref[in_seg], return_inverse=True, return_counts=True)
    count = np.zeros(n, dtype=np.int64)
    count[in_seg] = ucount[uinv.reshape(-1)]
    junction = in_seg & ((count >= 2) | ~prev_ok | ~next_ok)  # nodes without splitting
    is_node = in_seg if split_at_vertices else junction
    start = is_node & next_ok
    edge_of_entry = np.cumsum(start) - 1
    s = np.flatnonzero(seg_ok)
    if s.size == 0:
        raise RoadDataError(f"{path}: no usable way has two consecutive located nodes")
    meta["ways_without_located_segment"] = int(wlen.size - np.unique(widx[s]).size)
    eid = edge_of_entry[s]
    n_edges = int(start.sum())
    first_seg = np.flatnonzero(np.diff(np.concatenate([[-1], eid])) != 0)
    tail_entry = s[first_seg]
    head_entry = np.concatenate([s[first_seg[1:] - 1], [s[-1]]]) + 1

    # projected coordinates (local UTM) and geodesic lengths
    import pyproj

    utm = _local_utm(lon[ok], lat[ok])
    px, py = pyproj.Transformer.from_crs("EPSG:4326", utm, always_xy=True).transform(lon, lat)
    px, py = np.asarray(px), np.asarray(py)
    seg_len = np.zeros(max(n - 1, 0))
    seg_len[s] = _geodesic_segments(lon, lat)[s]
    length = np.bincount(eid, weights=seg_len[s], minlength=n_edges)
    # midpoints: interpolate along the projected polyline at half the edge length
    cum = np.cumsum(seg_len[s])
    start_cum = cum[first_seg] - seg_len[s][first_seg]
    k = np.searchsorted(cum, start_cum + length / 2, side="left")
    k = np.minimum(k, s.size - 1)
    sk = s[k]
    frac = np.where(
        seg_len[sk] > 0,
        (start_cum + length / 2 - (cum[k] - seg_len[sk]))
        / np.where(seg_len[sk] > 0, seg_len[sk], 1.0),
        0.0,
    )
    frac = np.clip(frac, 0.0, 1.0)
    mid_x = px[sk] + frac * (px[sk + 1] - px[sk])
    mid_y = py[sk] + frac * (py[sk + 1] - py[sk])

    node_refs, node_inv = np.unique(
        np.concatenate([ref[tail_entry], ref[head_entry]]), return_inverse=True
    )
    node_inv = node_inv.reshape(-1)
    tail, head = node_inv[:n_edges].astype(np.int64), node_inv[n_edges:].astype(np.int64)
    node_entry = np.empty(node_refs.size, dtype=np.int64)
    node_entry[node_inv] = np.concatenate([tail_entry, head_entry])

    ew = widx[tail_entry]
    w_ow = np.asarray(way_oneway, dtype=np.int8)[ew]
    rev = w_ow == -1
    tail[rev], head[rev] = head[rev].copy(), tail[rev].copy()
    classes = np.asarray(way_class, dtype=object)[ew]
    ferry = np.asarray(way_ferry, dtype=bool)[ew]
    speed = np.full(n_edges, np.nan)
    speed[~ferry] = pd.Series(classes[~ferry], dtype=object).map(speeds).to_numpy(dtype=np.float64)
    # boarding once per unsplit edge: on the pieces that start at an unsplit node (all
    # edges when not splitting)
    boarding = junction[tail_entry]
    meta["node_refs"] = node_refs
    meta["split_at_vertices"] = bool(split_at_vertices)
    if split_at_vertices:
        shape_point = ~junction[node_entry]
        ferry_node = np.zeros(node_refs.size, dtype=bool)
        ferry_node[tail[ferry]] = True
        ferry_node[head[ferry]] = True
        meta["shape_point"] = shape_point
        meta["ferry_shape_point"] = ferry_node & shape_point
    meta["load_s"] = time.perf_counter() - t0
    return RoadNetwork(
        x=px[node_entry],
        y=py[node_entry],
        crs=f"EPSG:{utm.to_epsg()}",
        tail=tail,
        head=head,
        length_m=length,
        time_s=_edge_times(length, speed, ferry, profile, boarding=boarding),
        road_class=classes,
        oneway=w_ow != 0,
        ferry=ferry,
        mid_x=mid_x,
        mid_y=mid_y,
        source_row=np.asarray(way_id, dtype=np.int64)[ew],
        class_column="highway",
        profile=profile,
        meta=meta,
    )


# ============================================================= urban slowdown
def _apply_factor(network: RoadNetwork, factor: F64, how: str) -> RoadNetwork:
    if network.meta.get("urban_slowdown"):
        raise ValueError(
            f"urban slowdown already applied ({network.meta['urban_slowdown']}); "
            "apply it once, to the network as read"
        )
    factor = np.where(network.ferry, 1.0, factor)
    meta = dict(network.meta)
    meta["urban_slowdown"] = how
    meta["slowdown_factor"] = factor
    return network.replace(time_s=network.time_s / factor, meta=meta)


def apply_urban_slowdown(
    network: RoadNetwork, density_at: Callable[[F64, F64], npt.ArrayLike]
) -> RoadNetwork:
    """Slow edges down by the population density around their midpoints.

    ``density_at(x, y)`` gets arrays of edge-midpoint coordinates in ``network.crs`` and
    returns people/km² (NaN = unknown → no slowdown). Each non-ferry edge's speed is
    multiplied by the profile's factor for that density class, i.e. its time is divided
    by it. Returns a new network (``meta["slowdown_factor"]`` holds the factors); applying
    twice raises.
    """
    d = np.asarray(density_at(network.mid_x.copy(), network.mid_y.copy()), dtype=np.float64)
    if d.shape != (network.num_edges,):
        raise ValueError(
            f"density_at returned shape {d.shape}, expected ({network.num_edges},) "
            "(one density per edge midpoint)"
        )
    if (d < 0).any():
        i = int(np.flatnonzero(d < 0)[0])
        raise ValueError(f"density_at returned a negative density {d[i]} for edge {i}")
    factor = np.asarray(network.profile.slowdown_factor(d), dtype=np.float64)
    return _apply_factor(network, factor, "density")


def apply_urban_slowdown_polygons(
    network: RoadNetwork, polygons: Sequence[Any] | np.ndarray, factor: float
) -> RoadNetwork:
    """Multiply by ``factor`` (in (0, 1]) the speed of edges whose midpoint lies in any
    of ``polygons`` (shapely geometries in ``network.crs``; STRtree look-up). Ferries are
    not slowed. Returns a new network; applying a slowdown twice raises.
    """
    import shapely

    if not (np.isfinite(factor) and 0 < factor <= 1):
        raise ValueError(f"factor must be in (0, 1], got {factor}")
    polys = np.asarray(polygons, dtype=object)
    tree = shapely.STRtree(polys)
    pts = shapely.points(network.mid_x, network.mid_y)
    hit = np.zeros(network.num_edges, dtype=bool)
    pairs = tree.query(pts, predicate="intersects")
    hit[pairs[0]] = True
    f = np.where(hit, float(factor), 1.0)
    return _apply_factor(network, f, f"polygons (factor {factor})")


# ============================================================== connect_points
def connect_points(
    network: RoadNetwork,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    profile: SpeedProfile | str | Path | None = None,
    *,
    node_mask: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """Attach points (cell centres, offices) to their nearest network node.

    ``x, y`` are in ``network.crs``. Returns one row per input point, in input order:
    ``node`` (nearest node id, restricted to ``node_mask`` when given, e.g. the main
    component), ``distance_m`` (straight line), ``access_length_m`` (times the detour factor),
    ``access_time_s`` (at the access speed) and ``connected`` (distance within the
    profile's ``max_access_distance_m``). Points beyond are kept with
    ``connected = False``; points with non-finite coordinates get node -1.
    """
    from scipy.spatial import cKDTree

    prof = network.profile if profile is None else load_profile(profile)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D arrays of equal length, got {x.shape}, {y.shape}")
    cand = np.arange(network.num_nodes)
    if node_mask is not None:
        mask = np.asarray(node_mask, dtype=bool)
        if mask.shape != (network.num_nodes,):
            raise ValueError(f"node_mask must have shape ({network.num_nodes},)")
        cand = np.flatnonzero(mask)
    if cand.size == 0:
        raise ValueError("no candidate nodes to connect to")
    finite = np.isfinite(x) & np.isfinite(y)
    tree = cKDTree(np.column_stack([network.x[cand], network.y[cand]]))
    dist = np.full(x.shape, np.inf)
    node = np.full(x.shape, -1, dtype=np.int64)
    if finite.any():
        d, i = tree.query(np.column_stack([x[finite], y[finite]]))
        dist[finite] = d
        node[finite] = cand[i]
    length = dist * prof.access_detour_factor
    return pd.DataFrame(
        {
            "node": node,
            "distance_m": dist,
            "access_length_m": length,
            "access_time_s": length / (prof.access_speed_kmh / 3.6),
            "connected": finite & (dist <= prof.max_access_distance_m),
        }
    )


# ================================================================= diagnostics
def diagnostics(
    network: RoadNetwork,
    node_weights: npt.ArrayLike | None = None,
    source_nodes: npt.ArrayLike | None = None,
) -> dict[str, Any]:
    """Size, km by class and connectivity of a network.

    Returns a dict with ``nodes``, ``edges``, ``arcs`` (directed), ``oneway_edges``,
    ``ferry_edges``, ``self_loops``, ``total_km``, ``km_by_class`` (Series), ``components``
    (DataFrame, one row per weakly connected component, largest first: ``nodes``,
    ``edges``, ``km`` and, when given, ``weight`` = sum of ``node_weights`` (e.g.
    population attached to its nodes) and ``sources`` = number of ``source_nodes`` in it),
    ``node_component`` (component id per node), ``strong_components`` and
    ``nodes_outside_largest_strong`` (one-way traps), and, with ``source_nodes``,
    ``islands_without_source`` (components without a source, with their weight).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = network.num_nodes
    tail, head, _, _ = network.to_edge_arrays()
    g = coo_matrix((np.ones(tail.size), (tail, head)), shape=(n, n)).tocsr()
    ncomp, label = connected_components(g, directed=True, connection="weak")
    nstrong, slabel = connected_components(g, directed=True, connection="strong")
    sizes = np.bincount(slabel, minlength=nstrong)
    edge_comp = label[network.tail]
    comp = pd.DataFrame(
        {
            "nodes": np.bincount(label, minlength=ncomp),
            "edges": np.bincount(edge_comp, minlength=ncomp),
            "km": np.bincount(edge_comp, weights=network.length_m, minlength=ncomp) / 1000,
        }
    )
    if node_weights is not None:
        w = np.asarray(node_weights, dtype=np.float64)
        if w.shape != (n,):
            raise ValueError(f"node_weights must have shape ({n},), got {w.shape}")
        comp["weight"] = np.bincount(label, weights=w, minlength=ncomp)
    if source_nodes is not None:
        src = np.asarray(source_nodes, dtype=np.int64)
        if ((src < 0) | (src >= n)).any():
            raise ValueError("source_nodes contains ids outside [0, num_nodes)")
        comp["sources"] = np.bincount(label[src], minlength=ncomp)
    comp.index.name = "component"
    order = comp.sort_values(["nodes", "km"], ascending=False, kind="stable").index
    comp = comp.loc[order]
    keys = _class_keys(network.road_class)
    keys = np.where(network.ferry, "ferry:" + keys.astype(str), keys)
    km_by_class = pd.Series(network.length_m / 1000).groupby(keys).sum().rename("km")
    out: dict[str, Any] = {
        "nodes": n,
        "edges": network.num_edges,
        "arcs": int(tail.size),
        "oneway_edges": int(network.oneway.sum()),
        "ferry_edges": int(network.ferry.sum()),
        "self_loops": int((network.tail == network.head).sum()),
        "total_km": float(network.length_m.sum() / 1000),
        "km_by_class": km_by_class,
        "components": comp,
        "node_component": label,
        "strong_components": int(nstrong),
        "nodes_outside_largest_strong": int(n - sizes.max()) if n else 0,
    }
    if source_nodes is not None:
        out["islands_without_source"] = comp[comp["sources"] == 0]
    return out
