"""Reader of population rasters (WorldPop, GHS-POP GeoTIFF): pixels apportioned to H3."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess._files import check_input_file, sniff_format
from hexaccess.errors import PopulationInputError
from hexaccess.population._checks import MAX_COUNT
from hexaccess.population.apportion import (
    SampleFn,
    _apportion,
    _integerise_global,
    _lattice_offsets,
)
from hexaccess.population.grid import (
    DEFAULT_RESOLUTION,
    PopulationGrid,
    _check_resolution,
    _grid_from_parts,
)


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
    t0 = time.perf_counter()
    source = str(path)
    resolution = _check_resolution(resolution, apportion=True)
    arr, tf, rcrs = _read_band(path, band, crs, source)
    rows, cols, values = _populated_pixels(arr, band, source)
    sample_fn, n_per = _pixel_sampler(rows, cols, tf, samples)
    report: dict[str, Any] = {
        "source": source,
        "loader": "read_population_raster",
        "pixels": int(rows.size),
        "samples_per_square": n_per,
        "resolution": int(resolution),
    }
    _psq, pcell, shares = _apportion(
        rows.size,
        sample_fn,
        values,
        rcrs,
        resolution,
        n_per,
        lambda i: f"pixel (row {rows[i]}, col {cols[i]})",
        source,
    )
    if np.issubdtype(values.dtype, np.floating):
        report["raster_total"] = float(values.sum())
        pcell, shares = _round_per_cell(pcell, shares)
    grid = _grid_from_parts(pcell, None, shares, [column], resolution, report)
    grid.load_report["seconds"] = round(time.perf_counter() - t0, 3)
    return grid


def _read_band(
    path: str | os.PathLike[str], band: int, crs: Any, source: str
) -> tuple[np.ma.MaskedArray, Any, Any]:
    """``(masked band, affine transform, CRS as WKT or as given)``; a missing, empty,
    truncated or unreadable file is named."""
    import rasterio

    p = check_input_file(path, "population raster")
    if sniff_format(p) == "tiff":
        check_input_file(p, "population raster", kinds=("tiff",))  # cut short: named
    try:
        ds = rasterio.open(p)
    except Exception as e:
        raise PopulationInputError(f"{source}: cannot open raster ({e})") from None
    with ds:
        if isinstance(band, bool) or not isinstance(band, (int, np.integer)):
            raise PopulationInputError(f"{source}: band must be a whole number, got {band!r}")
        if not 1 <= band <= ds.count:
            raise PopulationInputError(f"{source}: band {band} does not exist (1..{ds.count})")
        try:
            arr = ds.read(band, masked=True)
        except Exception as e:  # rasterio raises RasterioIOError for missing tiles
            raise PopulationInputError(
                f"{source}: band {band} cannot be read ({' '.join(str(e).split())}); the "
                "raster is truncated or corrupt: download or export it again"
            ) from None
        tf = ds.transform
        rcrs = crs if crs is not None else ds.crs
        if rcrs is None:
            raise PopulationInputError(f"{source}: the raster has no CRS; pass crs='EPSG:....'")
        if hasattr(rcrs, "to_wkt"):
            rcrs = rcrs.to_wkt()
    return arr, tf, rcrs


def _populated_pixels(
    arr: np.ma.MaskedArray, band: int, source: str
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[Any]]:
    """``(rows, cols, values (n, 1))`` of the pixels with people: nodata, NaN and zero
    skipped; negative and infinite values refused. Values stay int64 for integer
    rasters and become float64 for float ones."""
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
            raise PopulationInputError(
                f"{source}: pixel (row {r}, col {c}) is infinite; declare it as the band's "
                "nodata value or fix the raster"
            )
    big = ~mask & (data > MAX_COUNT)
    if big.any():
        r, c = np.argwhere(big)[0]
        raise PopulationInputError(
            f"{source}: pixel (row {r}, col {c}) is {data[r, c]}, too large for a count "
            f"(overflow: above {MAX_COUNT:,} people); declare it as the band's nodata value "
            "or fix the raster"
        )
    sel = ~mask & (data > 0)
    rows, cols = np.nonzero(sel)
    if rows.size == 0:
        raise PopulationInputError(f"{source}: band {band} has no populated pixel")
    vals = data[rows, cols]
    return rows, cols, vals.astype(np.int64 if integer else np.float64)[:, None]


def _pixel_sampler(
    rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp], tf: Any, samples: int
) -> tuple[SampleFn, int]:
    """``(sample_fn, points per pixel)``: the ``s x s`` lattice of each pixel mapped
    through the raster's affine transform ``tf``."""
    uu, vv = _lattice_offsets(samples)
    n_per = uu.size

    def sample_fn(lo: int, hi: int) -> tuple[npt.NDArray[Any], ...]:
        sq = np.repeat(np.arange(lo, hi, dtype=np.int64), n_per)
        cc = (cols[lo:hi, None] + uu[None, :]).ravel()
        rr = (rows[lo:hi, None] + vv[None, :]).ravel()
        x = tf.a * cc + tf.b * rr + tf.c
        y = tf.d * cc + tf.e * rr + tf.f
        return sq, x, y

    return sample_fn, n_per


def _round_per_cell(
    pcell: npt.NDArray[np.uint64], shares: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """Real shares summed per cell, then rounded keeping the rounded raster total."""
    uc, inv = np.unique(pcell, return_inverse=True)
    sums = np.zeros((uc.size, 1), dtype=np.float64)
    np.add.at(sums, inv, shares)
    return uc, _integerise_global(sums, uc)
