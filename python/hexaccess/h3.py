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
    "cell_centers",
    "cell_children",
    "cell_resolution",
    "cell_to_parent",
    "cell_to_str",
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
    """Parse hexadecimal H3 strings; raises naming the first bad entry."""
    out = np.empty(len(strings), dtype=np.uint64)
    for i, s in enumerate(strings):
        try:
            out[i] = int(str(s), 16)
        except ValueError:
            raise EngineInputError(f"entry {i}: {s!r} is not a hexadecimal H3 cell id") from None
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
