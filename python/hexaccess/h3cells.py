"""Vectorised H3 helpers used by the loaders.

Cells are ``uint64`` H3 indexes. The Rust core provides array versions of these
functions (``hexaccess._core``); when the extension is not importable they fall back to
``h3`` (h3-py), one call per element, which is correct but slower.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

try:  # the fast path: h3o inside the Rust core
    from hexaccess import _core as _rust

    _HAVE_RUST_H3 = hasattr(_rust, "latlng_to_cells")
except ImportError:  # pragma: no cover - exercised when the extension is missing
    _rust = None
    _HAVE_RUST_H3 = False


def _check_resolution(resolution: int) -> int:
    resolution = int(resolution)
    if not 0 <= resolution <= 15:
        raise ValueError(f"H3 resolution must be an integer in 0..15, got {resolution}")
    return resolution


def latlng_to_cells(
    lat: npt.ArrayLike, lng: npt.ArrayLike, resolution: int
) -> npt.NDArray[np.uint64]:
    """H3 cell of each (lat, lng) point in degrees (WGS84) at ``resolution``."""
    resolution = _check_resolution(resolution)
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    lng = np.ascontiguousarray(lng, dtype=np.float64)
    if lat.shape != lng.shape or lat.ndim != 1:
        raise ValueError(
            f"lat and lng must be 1-D arrays of equal length, got {lat.shape} and {lng.shape}"
        )
    bad = ~(np.isfinite(lat) & np.isfinite(lng) & (np.abs(lat) <= 90.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
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


def cell_centers(cells: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
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


def cell_children(cells: npt.ArrayLike, resolution: int) -> npt.NDArray[np.uint64]:
    """All children at ``resolution`` of each H3 cell (at ``resolution`` or coarser),
    concatenated in input order, each cell's children ascending. A pentagon has fewer
    children than ``7**k``: find a child's cell with ``cell_to_parent``, not by position.
    """
    resolution = _check_resolution(resolution)
    cells = np.ascontiguousarray(cells, dtype=np.uint64)
    if _HAVE_RUST_H3 and hasattr(_rust, "cell_children"):
        return _rust.cell_children(cells, resolution)
    import h3.api.numpy_int as h3n

    parts = [np.sort(np.asarray(h3n.cell_to_children(int(c), resolution))) for c in cells]
    return np.concatenate(parts).astype(np.uint64) if parts else np.zeros(0, np.uint64)


def cell_to_str(cells: npt.ArrayLike) -> list[str]:
    """Hexadecimal strings (``'8811aa...ff'``) of H3 cells, as most tools print them."""
    return [format(int(c), "x") for c in np.asarray(cells, dtype=np.uint64)]


def str_to_cell(strings: list[str] | npt.ArrayLike) -> npt.NDArray[np.uint64]:
    """Parse hexadecimal H3 strings; raises ValueError naming the first bad entry."""
    out = np.empty(len(strings), dtype=np.uint64)
    for i, s in enumerate(strings):
        try:
            out[i] = int(str(s), 16)
        except ValueError:
            raise ValueError(f"entry {i}: {s!r} is not a hexadecimal H3 cell id") from None
    return out
