"""Every H3 helper of hexaccess, vectorised: indexing points, centres, parents,
children, resolutions, hexadecimal strings, mean cell sizes and polygon tiling.

Cells are ``uint64`` H3 indexes. The Rust core provides array versions of the heavy
functions (h3o inside ``hexaccess._core``); when the extension is not importable they
fall back to ``h3`` (h3-py), one call per element, which is correct but slower. The
parent and resolution helpers read the index bits directly and need neither.

Mistakes raise :class:`~hexaccess.errors.EngineInputError` (a ``ValueError``) naming
the first bad entry.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess._engine import rust_available, rust_core
from hexaccess.errors import EngineInputError

__all__ = [
    "cell_boundaries",
    "cell_boundary_coords",
    "cell_centers",
    "cell_children",
    "cell_polygons",
    "cell_resolution",
    "cell_to_parent",
    "cell_to_str",
    "cell_unions",
    "cell_wkb",
    "check_resolution",
    "latlng_to_cells",
    "mean_cell_area_km2",
    "mean_edge_length_m",
    "polygon_cells",
    "str_to_cell",
    "valid_cell_mask",
]

U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]

# The fast path: h3o inside the Rust core. Tests set _HAVE_RUST_H3 = False to run the
# h3-py fallback.
_rust = rust_core() if rust_available() else None
_HAVE_RUST_H3 = _rust is not None and hasattr(_rust, "latlng_to_cells")

# Bit layout of an H3 cell index (see the H3 documentation, "H3 index representation").
_H3_RES_SHIFT = np.uint64(52)
_H3_MODE_SHIFT = np.uint64(59)


def _core_call(function: Any, *args: Any) -> Any:
    """A Rust core function; its input errors (``ValueError`` naming the entry) as
    :class:`EngineInputError`, like every check of this module."""
    try:
        return function(*args)
    except ValueError as exc:
        raise EngineInputError(str(exc)) from None


def check_resolution(resolution: int) -> int:
    """``resolution`` as an ``int`` in ``0..15`` (H3's resolutions)."""
    resolution = int(resolution)
    if not 0 <= resolution <= 15:
        raise EngineInputError(f"H3 resolution must be an integer in 0..15, got {resolution}")
    return resolution


_check_resolution = check_resolution  # the name the loaders used before


# ------------------------------------------------------------------ points and centres
def latlng_to_cells(lat: npt.ArrayLike, lng: npt.ArrayLike, resolution: int) -> U64:
    """H3 cell of each (lat, lng) point in degrees (WGS84) at ``resolution``."""
    resolution = check_resolution(resolution)
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    lng = np.ascontiguousarray(lng, dtype=np.float64)
    if lat.shape != lng.shape or lat.ndim != 1:
        raise EngineInputError(
            f"lat and lng must be 1-D arrays of equal length, got {lat.shape} and {lng.shape}"
        )
    bad = ~(np.isfinite(lat) & np.isfinite(lng) & (np.abs(lat) <= 90.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise EngineInputError(
            f"point {i} has invalid coordinates (lat={lat[i]}, lng={lng[i]}); "
            "expected finite WGS84 degrees with |lat| <= 90"
        )
    if _HAVE_RUST_H3:
        return _rust.latlng_to_cells(lat, lng, resolution)
    import h3.api.numpy_int as h3n

    out = np.empty(lat.shape, dtype=np.uint64)
    for i in range(lat.size):
        out[i] = h3n.latlng_to_cell(lat[i], lng[i], resolution)
    return out


def cell_centers(cells: npt.ArrayLike) -> tuple[F64, F64]:
    """(lat, lng) in degrees of the centre of each H3 cell."""
    cells = np.ascontiguousarray(cells, dtype=np.uint64)
    if _HAVE_RUST_H3:
        return _rust.cell_centers(cells)
    import h3.api.numpy_int as h3n

    lat = np.empty(cells.shape, dtype=np.float64)
    lng = np.empty(cells.shape, dtype=np.float64)
    for i in range(cells.size):
        lat[i], lng[i] = h3n.cell_to_latlng(int(cells[i]))
    return lat, lng


# ------------------------------------------------------------------ hierarchy
def cell_resolution(cells: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Resolution of each H3 cell (read from the index bits)."""
    cells = np.asarray(cells, dtype=np.uint64)
    return ((cells >> _H3_RES_SHIFT) & np.uint64(0xF)).astype(np.int64)


def valid_cell_mask(cells: U64) -> npt.NDArray[np.bool_]:
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


def cell_to_parent(cells: npt.ArrayLike, resolution: int) -> U64:
    """Parent (ancestor) at ``resolution`` of H3 cells at that resolution or finer."""
    cells = np.asarray(cells, dtype=np.uint64)
    resolution = check_resolution(resolution)
    if (cell_resolution(cells) < resolution).any():
        raise EngineInputError(f"some cells are coarser than resolution {resolution}")
    r = np.uint64(resolution)
    low = np.uint64((1 << ((15 - resolution) * 3)) - 1)
    cleared = cells & ~(np.uint64(0xF) << _H3_RES_SHIFT)
    return cleared | (r << _H3_RES_SHIFT) | low


def cell_children(cells: npt.ArrayLike, resolution: int) -> U64:
    """All children at ``resolution`` of each H3 cell (at ``resolution`` or coarser),
    concatenated in input order, each cell's children ascending. A pentagon has fewer
    children than ``7**k``: find a child's cell with ``cell_to_parent``, not by position.
    """
    resolution = check_resolution(resolution)
    cells = np.ascontiguousarray(cells, dtype=np.uint64)
    if _HAVE_RUST_H3 and hasattr(_rust, "cell_children"):
        return _rust.cell_children(cells, resolution)
    import h3.api.numpy_int as h3n

    parts = [np.sort(np.asarray(h3n.cell_to_children(int(c), resolution))) for c in cells]
    return np.concatenate(parts).astype(np.uint64) if parts else np.zeros(0, np.uint64)


# ------------------------------------------------------------------ strings
def cell_to_str(cells: npt.ArrayLike) -> list[str]:
    """Hexadecimal strings (``'8811aa...ff'``) of H3 cells, as most tools print them."""
    return [format(int(c), "x") for c in np.asarray(cells, dtype=np.uint64)]


def str_to_cell(strings: list[str] | npt.ArrayLike) -> U64:
    """Parse hexadecimal H3 strings; raises naming the first bad entry.

    Vectorised over the characters (16 numpy passes, not one Python call per string);
    anything the fast path does not take (a ``0x`` prefix, blanks, bad digits) goes
    through Python's ``int(s, 16)`` per entry, which names the first bad one.
    """
    fast = _hex_to_u64(strings)
    if fast is not None:
        return fast
    out = np.empty(len(strings), dtype=np.uint64)
    for i, s in enumerate(strings):
        try:
            out[i] = int(str(s), 16)
        except ValueError:
            raise EngineInputError(f"entry {i}: {s!r} is not a hexadecimal H3 cell id") from None
    return out


_HEX = np.full(256, 255, dtype=np.uint8)
_HEX[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
_HEX[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
_HEX[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)


def _hex_to_u64(strings: Any) -> U64 | None:
    """Plain hexadecimal strings of 1..16 digits as ``uint64``, or ``None`` if any entry
    is something else (the caller then parses one by one)."""
    try:
        arr = np.asarray(strings, dtype="S16")
        longer = np.asarray(strings, dtype="S17")
    except (UnicodeEncodeError, ValueError, TypeError):
        return None
    if arr.ndim != 1 or (np.char.str_len(longer) > 16).any():
        return None
    n = len(arr)
    digits = _HEX[arr.view(np.uint8).reshape(n, 16)]
    length = np.char.str_len(arr)
    inside = np.arange(16) < length[:, None]
    # Outside a string its padding (NUL) maps to 255 too; only digits inside must be valid.
    if n == 0 or (length == 0).any() or (digits[inside] == 255).any():
        return None if n else np.zeros(0, np.uint64)
    out = np.zeros(n, dtype=np.uint64)
    for j in range(16):
        d = digits[:, j].astype(np.uint64)
        out = np.where(inside[:, j], (out << np.uint64(4)) | d, out)
    return out


# ------------------------------------------------------------------ sizes and areas
def mean_edge_length_m(resolution: int) -> float:
    """Average H3 cell edge length at ``resolution`` (metres)."""
    import h3

    return float(h3.average_hexagon_edge_length(check_resolution(resolution), unit="m"))


def mean_cell_area_km2(resolution: int) -> float:
    """Average H3 cell area at ``resolution`` (km²)."""
    import h3

    return float(h3.average_hexagon_area(check_resolution(resolution), unit="km^2"))


def cell_boundaries(cells: npt.ArrayLike) -> list[F64]:
    """Outline of each H3 cell as a ``(k, 2)`` array of (lng, lat) degrees (x, y order,
    for plotting), from h3-py's ``cell_to_boundary``."""
    import h3.api.numpy_int as h3n

    cells = np.asarray(cells, dtype=np.uint64)
    return [np.asarray(h3n.cell_to_boundary(int(c)))[:, ::-1] for c in cells]


def cell_boundary_coords(cells: npt.ArrayLike) -> tuple[F64, npt.NDArray[np.int64]]:
    """Boundary rings of H3 cells, flat: ``(coords, offsets)``.

    ``coords`` is a float64 ``(m, 2)`` array of (lng, lat) degrees (x, y order) and
    ``offsets`` an int64 array of ``len(cells) + 1`` entries starting at 0, so cell
    ``i``'s ring is ``coords[offsets[i]:offsets[i + 1]]``. The vertices are those of
    H3's ``cellToBoundary`` in its counter-clockwise order; the ring is **not** closed
    (its first vertex is not repeated at the end). Hexagons have 6 vertices, pentagons
    5, cells cut by an icosahedron edge up to 10.

    Antimeridian: a ring whose longitudes span more than 180 degrees crosses it; its
    negative longitudes get +360, so the polygon extends past +180 degrees (e.g.
    179.9..180.1) rather than wrapping round the globe, which keeps its planar area
    and validity right (GIS tools draw it just east of the date line). Cells that hold
    a pole (only at resolutions 0 and 1) keep H3's longitudes.

    Computed in the Rust core (h3o, in parallel, GIL released); without the extension,
    h3-py one cell at a time.
    """
    cells = np.ascontiguousarray(cells, dtype=np.uint64)
    if cells.ndim != 1:
        raise EngineInputError(f"cells must be a 1-D array, got shape {cells.shape}")
    if _HAVE_RUST_H3 and hasattr(_rust, "cell_boundaries"):
        coords, offsets = _core_call(_rust.cell_boundaries, cells)
        return np.asarray(coords, dtype=np.float64).reshape(-1, 2), offsets
    return _boundary_coords_h3py(cells)


def _boundary_coords_h3py(cells: U64) -> tuple[F64, npt.NDArray[np.int64]]:
    """The h3-py fallback of :func:`cell_boundary_coords` (same output)."""
    import h3.api.numpy_int as h3n

    bad = ~valid_cell_mask(cells)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise EngineInputError(f"entry {i}: {int(cells[i]):#x} is not a valid H3 cell index")
    rings = [np.asarray(h3n.cell_to_boundary(int(c)), dtype=np.float64)[:, ::-1] for c in cells]
    counts = np.array([len(r) for r in rings], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    coords = np.concatenate(rings) if rings else np.zeros((0, 2))
    if len(cells):
        lng = coords[:, 0]
        span = np.maximum.reduceat(lng, offsets[:-1]) - np.minimum.reduceat(lng, offsets[:-1])
        lat = coords[:, 1]
        one_side = (np.maximum.reduceat(lat, offsets[:-1]) < 0) | (
            np.minimum.reduceat(lat, offsets[:-1]) > 0
        )
        # Winding round the pole: the short-way longitude steps sum to a full turn.
        step = (np.roll(lng, -1) - lng + 180.0) % 360.0 - 180.0
        last = offsets[1:] - 1
        step[last] = (lng[offsets[:-1]] - lng[last] + 180.0) % 360.0 - 180.0
        pole = one_side & (np.abs(np.add.reduceat(step, offsets[:-1])) > 180.0)
        unwrap = np.repeat((span > 180.0) & ~pole, counts)
        coords[:, 0] = np.where(unwrap & (lng < 0), lng + 360.0, lng)
    return np.ascontiguousarray(coords), offsets


def cell_polygons(
    cells: npt.ArrayLike, *, snap_degrees: float | None = None
) -> npt.NDArray[np.object_]:
    """Shapely Polygons (EPSG:4326, lng/lat) of H3 cells, one per cell in input order,
    from :func:`cell_boundary_coords`, built vectorised (``shapely.from_ragged_array``
    on the closed rings: no per-cell Python loop). Antimeridian cells extend past +180
    degrees as documented there.

    ``snap_degrees`` rounds every vertex to that grid first: neighbouring cells compute
    a shared vertex each from their own face coordinates, which now and then differ in
    the last bits, and an exact-noding operation such as a coverage union needs them
    identical (:func:`hexaccess.layers.dissolve_cells` snaps to 1e-9 degrees).
    """
    import shapely

    coords, offsets = cell_boundary_coords(cells)
    n = len(offsets) - 1
    if snap_degrees:
        coords = np.round(coords / snap_degrees) * snap_degrees
    # Close each ring: its first vertex again after its last (one extra row per cell).
    closed_offsets = offsets + np.arange(n + 1)
    closed = np.empty((len(coords) + n, 2), dtype=np.float64)
    shift = np.repeat(np.arange(n), np.diff(offsets))
    closed[np.arange(len(coords)) + shift] = coords
    closed[closed_offsets[1:] - 1] = coords[offsets[:-1]]
    return shapely.from_ragged_array(
        shapely.GeometryType.POLYGON, closed, (closed_offsets, np.arange(n + 1))
    )


def cell_wkb(cells: npt.ArrayLike) -> tuple[Any, tuple[float, float, float, float]]:
    """Each cell's polygon as WKB in a pyarrow ``large_binary`` array (zero-copy from
    the Rust core; no geometry objects), and the bounding box ``(min lng, min lat, max
    lng, max lat)`` of all vertices: what GeoParquet and GeoPackage writers take. The
    polygons are those of :func:`cell_polygons` (ISO WKB, little endian, closed rings).
    """
    import pyarrow as pa

    cells = np.ascontiguousarray(cells, dtype=np.uint64)
    if _HAVE_RUST_H3 and hasattr(_rust, "cell_wkb"):
        data, offsets, bbox = _core_call(_rust.cell_wkb, cells)
        array = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), len(cells), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
        )
        return array, tuple(float(v) for v in bbox)
    import shapely

    polygons = cell_polygons(cells)
    box = shapely.total_bounds(polygons) if len(cells) else np.full(4, np.nan)
    return pa.array(shapely.to_wkb(polygons), type=pa.large_binary()), tuple(map(float, box))


#: Vertex grid (degrees, ~0.1 mm) of the GEOS fallback of :func:`cell_unions`: the
#: coverage union needs shared vertices bit-identical.
SNAP_DEGREES = 1e-9


def cell_unions(
    cells: npt.ArrayLike, groups: npt.ArrayLike, num_groups: int
) -> npt.NDArray[np.object_]:
    """The union of the cells of each group, one shapely geometry per group.

    ``groups[i]`` is cell ``i``'s group in ``0..num_groups`` (negative: in none). Group
    ``g`` becomes a Polygon, or a MultiPolygon when its cells form several connected
    parts, with holes where other cells lie inside; ``None`` for a group without cells.
    EPSG:4326 (lng, lat), shells counter-clockwise; a (cell, group) given twice counts
    once; antimeridian outlines extend past +180 degrees like
    :func:`cell_boundary_coords`.

    The Rust core computes it on the cell graph, not by overlay: an edge of a cell is on
    the outline when the neighbour across it is not in the group, outline edges chain
    into rings at shared vertices, and a ring belongs to the connected component of the
    cells along it (its counter-clockwise ring is the shell). Linear in the cells, no
    point-in-polygon test. Without the extension: GEOS's coverage union per group of
    cell polygons snapped to :data:`SNAP_DEGREES`.
    """
    import shapely

    cells = np.ascontiguousarray(cells, dtype=np.uint64)
    groups = np.ascontiguousarray(groups, dtype=np.int64)
    if cells.shape != groups.shape or cells.ndim != 1:
        raise EngineInputError(
            f"cells and groups must be 1-D arrays of equal length, got {cells.shape} and "
            f"{groups.shape}"
        )
    if _HAVE_RUST_H3 and hasattr(_rust, "dissolve_cells"):
        coords, rings, polygons, parts = _core_call(
            _rust.dissolve_cells, cells, groups, int(num_groups)
        )
        multi = shapely.from_ragged_array(
            shapely.GeometryType.MULTIPOLYGON, coords, (rings, polygons, parts)
        )
        count = np.diff(parts)
        out = np.where(count == 1, shapely.get_geometry(multi, 0), multi)
        out[count == 0] = None
        return out
    return _cell_unions_geos(cells, groups, int(num_groups))


def _cell_unions_geos(cells: U64, groups: npt.NDArray[np.int64], num_groups: int) -> Any:
    """The GEOS fallback of :func:`cell_unions` (a loop over groups, not cells)."""
    import shapely
    from shapely.errors import GEOSException

    bad = (groups >= num_groups) & (groups >= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise EngineInputError(
            f"entry {i}: group code {groups[i]} is not below the number of groups ({num_groups})"
        )
    keep = np.flatnonzero(groups >= 0)
    pairs = np.unique(np.stack([groups[keep].astype(np.uint64), cells[keep]]), axis=1)
    polygons = cell_polygons(pairs[1], snap_degrees=SNAP_DEGREES)
    bounds = np.searchsorted(pairs[0].astype(np.int64), np.arange(num_groups + 1))
    out = np.full(num_groups, None, dtype=object)
    for g in np.flatnonzero(np.diff(bounds)):
        part = polygons[bounds[g] : bounds[g + 1]]
        try:
            out[g] = shapely.coverage_union_all(part)
        except GEOSException:  # a near-miss vertex GEOS cannot node: the overlay union
            out[g] = shapely.union_all(part, grid_size=SNAP_DEGREES)
    return out


def polygon_cells(polygons: Any, resolution: int) -> U64:
    """Cells whose centre lies in any of ``polygons`` (shapely geometries or objects
    with ``__geo_interface__``, lon/lat degrees), sorted and unique. Uses H3's polygon
    tiler (h3-py ``geo_to_cells``)."""
    import h3
    import shapely

    geoms = [polygons] if not isinstance(polygons, (list, tuple, np.ndarray)) else polygons
    out: list[np.ndarray] = []
    for g in geoms:
        for part in shapely.get_parts(shapely.geometry.shape(g)):
            out.append(str_to_cell(h3.geo_to_cells(part, int(resolution))))
    return np.unique(np.concatenate(out)) if out else np.zeros(0, np.uint64)
