"""GeoParquet without GDAL's Parquet driver (pip wheels of pyogrio ship without it).

Reads a WKB-encoded GeoParquet file with pyarrow into the shape ``pyogrio.raw.read``
returns, so the vector loaders (population squares, roads) accept ``.parquet`` files
whatever GDAL build is installed.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import numpy.typing as npt


class GeoParquetError(ValueError):
    """Not a GeoParquet file this reader understands; the message names the file."""


def read_geoparquet(
    path: str | os.PathLike[str],
) -> tuple[dict[str, Any], npt.NDArray[Any], npt.NDArray[Any], list[npt.NDArray[Any]]]:
    """``(meta, fids, wkb, field_arrays)`` like ``pyogrio.raw.read``: ``meta`` has
    ``crs`` and ``fields`` (the non-geometry column names, in file order)."""
    import pyarrow.parquet as pq

    source = str(path)
    table = pq.read_table(path)
    md = table.schema.metadata or {}
    if b"geo" not in md:
        raise GeoParquetError(f"{source}: Parquet file without GeoParquet 'geo' metadata")
    geo = json.loads(md[b"geo"])
    gcol = geo["primary_column"]
    info = geo["columns"][gcol]
    if info.get("encoding", "WKB").upper() != "WKB":
        raise GeoParquetError(f"{source}: only WKB-encoded GeoParquet is supported")
    crs = info.get("crs", "OGC:CRS84")
    if isinstance(crs, dict):  # PROJJSON
        crs = json.dumps(crs)
    elif crs is None:  # GeoParquet: null means "unknown", a missing key means CRS84
        crs = "OGC:CRS84"
    geom = np.asarray(table.column(gcol).to_pylist(), dtype=object)
    names = [n for n in table.column_names if n != gcol]
    fields = [table.column(n).to_numpy(zero_copy_only=False) for n in names]
    meta = {"crs": crs, "fields": names, "geometry_type": None}
    return meta, np.arange(len(geom)), geom, fields
