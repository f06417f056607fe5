"""GIS layer benchmarks (issue #11): building and writing the layers of a national study.

Run: ``python -m pytest benches/bench_layers.py --benchmark-only -q -s`` (about 3-5 min
on the project's 2-core machine).

Inputs: the H3 cells of a Finland-sized polygon (no data needed):

- ``res8``: a random 40 % of its resolution-8 cells, about 200,000 cells (the national
  populated cells of the Finland study number 200,270); scattered, so catchments and
  municipalities have thousands of parts and holes - the hard case for a dissolve;
- ``res9``: all its resolution-9 cells, about 3.5 M (the national hexagon graph).

Each cell gets people, a time, one of 50 offices (the nearest, planar) and one of
about 300 municipalities (blocks of a grid), as a study's cells table.

Groups (contenders in one group run on the same input in the same process):

- ``layers-res8``: ours (:class:`hexaccess.layers.LayerBuilder` +
  :func:`hexaccess.layers.write_layers`: the four layers into ``layers.gpkg`` and
  GeoParquet) against the naive path a user would write: h3-py ``cell_to_boundary`` and
  a shapely ``Polygon`` per cell, geopandas ``dissolve`` by office and municipality,
  ``to_file`` (GeoPackage) and ``to_parquet``. The counts of features with a geometry
  and the total population of every layer are asserted equal.
- ``cell-polygons-res8``: :func:`hexaccess.h3.cell_polygons` against the h3-py loop.
- ``layers-res9``: ours on the 3.5 M cells (no peer: the naive path takes minutes).

File sizes and the peak resident memory of each of our runs (a fresh subprocess,
``VmHWM``) are stored in ``benchmark.extra_info`` and printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from _rss import PRELUDE

from hexaccess import h3 as hh
from hexaccess.layers import LayerBuilder, write_layers
from hexaccess.offices import Offices
from hexaccess.outputs import prepare_output

#: A rough outline of Finland (lon, lat), sized so that its resolution-9 cells are as
#: many as mainland Finland's (3.5 M; about 282,000 km²).
FINLAND = [
    (21.8, 60.7), (27.2, 60.7), (29.4, 61.8), (28.9, 64.1), (29.3, 67.0),
    (28.3, 69.0), (26.4, 69.0), (23.9, 67.8), (21.9, 65.8), (21.8, 63.3),
]  # fmt: skip
OFFICES = 50
SEED = 2026


def make_result(resolution: int, keep: float) -> SimpleNamespace:
    """A solved-study stand-in (what :class:`LayerBuilder` reads): cells table, offices,
    office indices. Deterministic."""
    cells = hh.polygon_cells(shapely.Polygon(FINLAND), resolution)
    rng = np.random.default_rng(SEED)
    if keep < 1.0:
        cells = cells[rng.random(len(cells)) < keep]
    lat, lng = hh.cell_centers(cells)
    olat, olng = rng.uniform(60.2, 69.5, OFFICES), rng.uniform(21.5, 29.5, OFFICES)
    office = np.empty(len(cells), dtype=np.int64)
    for s in range(0, len(cells), 100_000):  # nearest office, in blocks of cells
        dy = lat[s : s + 100_000, None] - olat
        dx = (lng[s : s + 100_000, None] - olng) * np.cos(np.radians(65.0))
        office[s : s + 100_000] = np.argmin(dx * dx + dy * dy, axis=1)
    block = (np.floor((lat - 59.0) * 2.0) * 30 + np.floor((lng - 20.0) * 1.5)).astype(int)
    names = np.array([f"office {i}" for i in range(OFFICES)], dtype=object)
    frame = pd.DataFrame(
        {
            "h3": hh.cell_to_str(cells),
            "municipality": pd.Series(block).astype(str).str.zfill(3).to_numpy(),
            "total": rng.integers(1, 200, len(cells)).astype(np.float64),
            "time_s": rng.uniform(0, 5400, len(cells)),
            "distance_m": rng.uniform(0, 90_000, len(cells)),
            "office": office,
            "office_name": names[office],
            "connected": True,
            "reached": True,
        }
    )
    offices = Offices(pd.DataFrame({"name": names, "lon": olng, "lat": olat}))
    return SimpleNamespace(
        cells=frame,
        columns=("total",),
        office_indices=np.arange(OFFICES),
        access=SimpleNamespace(offices=offices),
        provenance={},
    )


def ours(result: Any, out: Path) -> dict[str, int]:
    """Build and write every layer (as ``hexaccess run`` does); file sizes in bytes."""
    with prepare_output(out, overwrite=True) as target:
        paths = write_layers(target, LayerBuilder(result))
        sizes = {str(p.relative_to(target.staging)): p.stat().st_size for p in paths}
        target.commit({})
    return sizes


def naive(result: Any, out: Path) -> dict[str, int]:
    """What a user would write with h3-py, shapely and geopandas."""
    import geopandas as gpd
    import h3

    cells = result.cells
    polygons = [shapely.Polygon(np.asarray(h3.cell_to_boundary(c))[:, ::-1]) for c in cells.h3]
    gdf = gpd.GeoDataFrame(cells.assign(population=cells["total"]), geometry=polygons, crs=4326)
    offices = result.access.offices.frame
    stats = gdf.groupby("office")["population"].sum()
    office_gdf = gpd.GeoDataFrame(
        offices.assign(population=stats.reindex(range(len(offices))).fillna(0).to_numpy()),
        geometry=gpd.points_from_xy(offices.lon, offices.lat),
        crs=4326,
    )
    layers = {
        "cells": gdf,
        "offices": office_gdf,
        "catchments": gdf[["office", "population", "geometry"]].dissolve("office", aggfunc="sum"),
        "municipalities": gdf[["municipality", "population", "geometry"]].dissolve(
            "municipality", aggfunc="sum"
        ),
    }
    out.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for name, layer in layers.items():
        layer.to_file(out / "layers.gpkg", layer=name, driver="GPKG")
        layer.to_parquet(out / f"{name}.parquet")
        sizes[f"{name}.parquet"] = (out / f"{name}.parquet").stat().st_size
    sizes["layers.gpkg"] = (out / "layers.gpkg").stat().st_size
    return sizes


def _check_same_layers(ours_dir: Path, naive_dir: Path) -> None:
    import geopandas as gpd

    for name in ("cells", "offices", "catchments", "municipalities"):
        a = gpd.read_parquet(ours_dir / "geoparquet" / f"{name}.parquet")
        b = gpd.read_parquet(naive_dir / f"{name}.parquet")
        # geopandas' dissolve drops the offices nobody has as nearest; ours keeps them
        # with a null geometry.
        assert a.geometry.notna().sum() == b.geometry.notna().sum(), name
        assert a["population"].sum() == pytest.approx(b["population"].sum()), name


def _peak(resolution: int, keep: float, out: Path) -> dict[str, Any]:
    """Our run in a fresh process: its seconds (input set-up excluded), peak RSS (MB;
    the whole process) and the growth of the peak during the run."""
    code = "\n".join(
        [
            PRELUDE,
            f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})",
            textwrap.dedent(
                f"""
                import json, time
                from pathlib import Path
                from bench_layers import make_result, ours
                result = make_result({resolution}, {keep})
                before = peak_rss_kib()
                t0 = time.perf_counter()
                sizes = ours(result, Path({str(out)!r}))
                seconds = time.perf_counter() - t0
                print(json.dumps(dict(seconds=seconds, before=before, after=peak_rss_kib(),
                                      sizes=sizes, cells=len(result.cells))))
                """
            ),
        ]
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    data["peak_rss_mb"] = data["after"] / 1024
    data["call_rss_mb"] = (data["after"] - data["before"]) / 1024
    return data


def _report(benchmark: Any, label: str, run: dict[str, Any]) -> None:
    sizes = {k: round(v / 2**20, 1) for k, v in run["sizes"].items()}
    benchmark.extra_info.update(
        cells=run["cells"], seconds_fresh_process=run["seconds"],
        peak_rss_mb=run["peak_rss_mb"], call_rss_mb=run["call_rss_mb"], file_mib=sizes,
    )  # fmt: skip
    print(
        f"\n{label}: {run['cells']:,} cells, {run['seconds']:.1f} s in a fresh process, peak "
        f"RSS {run['peak_rss_mb']:,.0f} MB (+{run['call_rss_mb']:,.0f} MB during the run); "
        f"files (MiB): {sizes}"
    )


@pytest.fixture(scope="module")
def res8() -> SimpleNamespace:
    return make_result(8, 0.4)


@pytest.mark.benchmark(group="cell-polygons-res8")
def test_cell_polygons_ours(benchmark, res8) -> None:
    cells = hh.str_to_cell(list(res8.cells["h3"]))
    polygons = benchmark.pedantic(hh.cell_polygons, args=(cells,), rounds=3, iterations=1)
    assert len(polygons) == len(cells) and shapely.is_valid(polygons[:1000]).all()


@pytest.mark.benchmark(group="cell-polygons-res8")
def test_cell_polygons_h3py_loop(benchmark, res8) -> None:
    import h3

    def loop(strings):
        return [shapely.Polygon(np.asarray(h3.cell_to_boundary(c))[:, ::-1]) for c in strings]

    polygons = benchmark.pedantic(loop, args=(list(res8.cells["h3"]),), rounds=1, iterations=1)
    assert len(polygons) == len(res8.cells)


@pytest.mark.benchmark(group="layers-res8")
def test_layers_res8_ours(benchmark, res8, tmp_path) -> None:
    out = tmp_path / "ours"
    benchmark.pedantic(ours, args=(res8, out), rounds=1, iterations=1)
    _report(benchmark, "ours, resolution 8", _peak(8, 0.4, tmp_path / "fresh"))


@pytest.mark.benchmark(group="layers-res8")
def test_layers_res8_naive(benchmark, res8, tmp_path) -> None:
    if os.environ.get("HEXACCESS_BENCH_SKIP_NAIVE"):
        pytest.skip("HEXACCESS_BENCH_SKIP_NAIVE is set")
    started = time.perf_counter()
    sizes = benchmark.pedantic(naive, args=(res8, tmp_path / "naive"), rounds=1, iterations=1)
    benchmark.extra_info.update(seconds=time.perf_counter() - started, file_bytes=sizes)
    ours(res8, tmp_path / "ours")
    _check_same_layers(tmp_path / "ours", tmp_path / "naive")
    shutil.rmtree(tmp_path / "naive")


@pytest.mark.benchmark(group="layers-res9")
def test_layers_res9_ours(benchmark, tmp_path) -> None:
    result = make_result(9, 1.0)
    assert 3_000_000 < len(result.cells) < 4_000_000
    benchmark.pedantic(ours, args=(result, tmp_path / "ours"), rounds=1, iterations=1)
    del result
    shutil.rmtree(tmp_path / "ours")
    _report(benchmark, "ours, resolution 9", _peak(9, 1.0, tmp_path / "fresh"))
