"""GeoParquet without GDAL's Parquet driver (pip wheels of pyogrio ship without it).

Reads a WKB-encoded GeoParquet file with geopandas (pyarrow underneath) into the shape
``pyogrio.raw.read`` returns, so the vector loaders (population squares, roads) accept
``.parquet`` files whatever GDAL build is installed. The ``geo`` metadata is checked
first, so every problem with the file or its metadata is a :class:`GeoParquetError`
naming the file and what is wrong, not a geopandas traceback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess._files import check_input_file
from hexaccess.errors import GeoParquetError

__all__ = ["GeoParquetError", "geoparquet_fields", "read_geoparquet"]


def _geo_metadata(source: str, schema: Any) -> tuple[str, dict[str, Any]]:
    """``(geometry column, its column metadata)`` from the schema's ``geo`` metadata."""
    md = schema.metadata or {}
    if b"geo" not in md:
        raise GeoParquetError(f"{source}: Parquet file without GeoParquet 'geo' metadata")
    try:
        geo = json.loads(md[b"geo"])
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise GeoParquetError(f"{source}: the 'geo' metadata is not valid JSON ({e})") from None
    if not isinstance(geo, dict):
        raise GeoParquetError(f"{source}: the 'geo' metadata is not a JSON object")
    gcol = geo.get("primary_column")
    columns = geo.get("columns")
    if not isinstance(gcol, str) or not isinstance(columns, dict):
        raise GeoParquetError(
            f"{source}: the 'geo' metadata needs 'primary_column' (a column name) and "
            f"'columns' (an object); it has keys {sorted(geo)}"
        )
    info = columns.get(gcol)
    if not isinstance(info, dict):
        raise GeoParquetError(
            f"{source}: the 'geo' metadata describes no primary column {gcol!r} under "
            f"'columns' (it describes {sorted(columns)})"
        )
    if gcol not in schema.names:
        raise GeoParquetError(
            f"{source}: geometry column {gcol!r} named by the 'geo' metadata is not in the "
            f"file (columns: {list(schema.names)})"
        )
    encoding = info.get("encoding", "WKB")
    if not isinstance(encoding, str) or encoding.upper() != "WKB":
        raise GeoParquetError(
            f"{source}: only WKB-encoded GeoParquet is supported (encoding {encoding!r})"
        )
    return gcol, info


def _schema(path: str | os.PathLike[str]) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    check_input_file(path, "GeoParquet file", kinds=("parquet",))  # missing, cut short...
    try:
        return pq.read_schema(path)
    except (OSError, pa.ArrowException) as e:
        raise GeoParquetError(f"{path}: cannot read as Parquet ({e})") from None


def geoparquet_fields(path: str | os.PathLike[str]) -> list[str]:
    """The non-geometry column names of a GeoParquet file, in file order (reads the
    schema only)."""
    schema = _schema(path)
    gcol, _ = _geo_metadata(str(path), schema)
    return [n for n in schema.names if n != gcol]


def read_geoparquet(
    path: str | os.PathLike[str], columns: Sequence[str] | None = None
) -> tuple[dict[str, Any], npt.NDArray[Any], npt.NDArray[Any], list[npt.NDArray[Any]]]:
    """``(meta, fids, wkb, field_arrays)`` like ``pyogrio.raw.read``: ``meta`` has
    ``crs`` and ``fields`` (the non-geometry column names read, in file order).

    ``columns``: read only these (names not in the file are skipped, as pyogrio does).
    ``crs`` is the file's CRS (PROJJSON as a string), ``"OGC:CRS84"`` when the metadata
    has no ``crs`` key, and ``None`` for an explicit ``"crs": null`` (unknown, per the
    GeoParquet spec). The ``geo`` metadata is checked here first (each problem one
    :class:`GeoParquetError` naming the file), then geopandas reads the file (pyarrow
    underneath) and its geometries are handed on as WKB."""
    import geopandas as gpd
    import pyarrow as pa
    import shapely

    source = str(path)
    schema = _schema(path)
    gcol, info = _geo_metadata(source, schema)
    names = [n for n in schema.names if n != gcol]
    if columns is not None:
        wanted = set(columns)
        names = [n for n in names if n in wanted]
    crs = info.get("crs", "OGC:CRS84")  # a missing key means CRS84
    if isinstance(crs, dict):  # PROJJSON
        crs = json.dumps(crs)
    elif crs is not None and not isinstance(crs, str):
        raise GeoParquetError(f"{source}: 'crs' of column {gcol!r} is {crs!r}, not PROJJSON")
    gtype = schema.field(gcol).type
    binary = (pa.types.is_binary, pa.types.is_large_binary, pa.types.is_fixed_size_binary)
    binary += (getattr(pa.types, "is_binary_view", lambda t: False),)
    if not any(test(gtype) for test in binary):
        raise GeoParquetError(
            f"{source}: geometry column {gcol!r} holds {gtype}, not WKB bytes; write the "
            "geometry as WKB (e.g. GeoDataFrame.to_parquet)"
        )
    try:
        frame = gpd.read_parquet(path, columns=[*names, gcol])
    except (OSError, ValueError, TypeError, pa.ArrowException, shapely.errors.GEOSException) as e:
        raise GeoParquetError(f"{source}: cannot read ({e}){_bad_wkb_row(path, gcol)}") from None
    geom = np.asarray(shapely.to_wkb(frame[gcol].to_numpy()), dtype=object)
    fields = [frame[n].to_numpy() for n in names]
    meta = {"crs": crs, "fields": names, "geometry_type": None}
    return meta, np.arange(len(geom)), geom, fields


def _bad_wkb_row(path: str | os.PathLike[str], gcol: str) -> str:
    """``"; feature N holds bytes that are not WKB ..."`` for the first geometry that does
    not decode (so the error names the row to fix), or ``""`` if every one decodes."""
    import pandas as pd
    import pyarrow.parquet as pq
    import shapely

    try:
        raw = pq.read_table(path, columns=[gcol]).column(gcol).to_numpy(zero_copy_only=False)
    except Exception:  # the file itself is unreadable: the caller's message says so
        return ""
    decoded = shapely.from_wkb(raw, on_invalid="ignore")
    bad = np.flatnonzero(pd.notna(raw) & shapely.is_missing(decoded))
    if len(bad) == 0:
        return ""
    head = bytes(raw[bad[0]][:16])
    return (
        f"; feature {bad[0]} (row {bad[0] + 1} of {len(raw)}) holds bytes that are not WKB "
        f"({head!r}...), {len(bad)} such feature(s) in all: rewrite the geometry column as "
        "WKB (e.g. GeoDataFrame.to_parquet)"
    )
