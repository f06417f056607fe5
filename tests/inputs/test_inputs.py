"""Opening inputs by file type (``hexaccess.inputs``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from pyproj import CRS

from hexaccess import inputs
from hexaccess.population import read_square_grid


def _squares(tmp_path):
    """Four 1 km squares near Helsinki (EPSG:3067) with people, as GeoParquet."""
    x0, y0 = 385_000.0, 6_672_000.0
    boxes = [shapely.box(x0 + i * 1000, y0, x0 + (i + 1) * 1000, y0 + 1000) for i in range(4)]
    table = pa.table(
        {
            "total": pa.array([100, 0, 250, 40]),
            "geometry": pa.array(list(shapely.to_wkb(np.asarray(boxes))), type=pa.binary()),
        }
    )
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {"encoding": "WKB", "crs": json.loads(CRS.from_epsg(3067).to_json())}
        },
    }
    path = tmp_path / "squares.parquet"
    pq.write_table(table.replace_schema_metadata({b"geo": json.dumps(geo).encode()}), path)
    return path


def test_geoparquet_square_grid_is_read_as_squares(tmp_path):
    path = _squares(tmp_path)
    grid = inputs.read_population_any(path, columns=["total"])
    direct = read_square_grid(path, ["total"])
    assert grid.total() == 390
    pd.testing.assert_frame_equal(grid.frame, direct.frame)
    with pytest.raises(ValueError, match="say which attribute columns hold people"):
        inputs.read_population_any(path)


def test_plain_parquet_tables_still_need_grd_id_or_h3(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"people": [1, 2]}).to_parquet(path)
    with pytest.raises(ValueError, match="needs a GRD_ID column"):
        inputs.read_population_any(path)
