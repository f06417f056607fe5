"""Input-layer benchmarks on the real reference data, ours against the obvious peer path.

Run: ``python -m pytest benches/bench_inputs.py --benchmark-only -q`` (about 1-2 min).

Groups (contenders in one group run on the same input in the same process):

- ``read-roads-nls``: :func:`hexaccess.network.read_roads` on the NLS 1:1 M road
  shapefile (profile ``car_fi``), plain and with ``split_at_vertices``, against geopandas
  ``read_file`` + ``explode`` + shapely end points + ``np.unique`` node building (same
  snapping, speeds and ferry rule; node/edge counts, lengths and times asserted equal).
- ``eurostat-grid-full``: :func:`hexaccess.population.read_eurostat_grid` on all 89,971
  squares of the Eurostat 1 km census grid at H3 resolution 8 (no peer: an exact overlay
  of every square is far slower, see the subset group).
- ``eurostat-grid-subset``: the first 3,000 squares, ours (lattice sampling, column ``T``
  only) against a geopandas overlay of the squares with the H3 cell polygons they touch
  (area-weighted shares); totals asserted equal, and the share of people the two place
  in different cells is reported in ``extra_info``.

Peak memory is measured in a fresh subprocess per contender (its peak resident set,
``VmHWM``: the whole process, imports included, as a user would see it) and stored in
``benchmark.extra_info`` as ``peak_rss_mb`` and ``call_rss_mb`` (growth of the peak
during the call, after imports and input set-up).

The data are read from ``../shared/data`` (never copied into the repository); every
benchmark skips, naming the missing file, when it is absent. geopandas is needed for the
peers only (``pip install geopandas``); without it the peer benchmarks skip.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _rss import PRELUDE

from hexaccess.network import read_roads
from hexaccess.population import read_eurostat_grid
from hexaccess.profiles import SpeedProfile, load_profile

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ROADS = DATA / "finland" / "roads_mml_1milj" / "road.shp"
CENSUS = DATA / "finland" / "census2021_1km.csv"
RESOLUTION = 8
SUBSET = 3_000
SNAP_M = 0.1  # read_roads' default, used by the peer too


def _needs(path: Path) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not path.is_file(), reason=f"reference data not found: {path} (see ../shared/data)"
    )


# ================================================================ peak memory
def _peak_memory(setup: str, call: str) -> dict[str, float]:
    """Peak RSS (MB) of a fresh Python process that runs ``setup`` then ``call``.

    The high-water mark is read in the child after the set-up and again after the call;
    a child is used so that the benchmark's own allocations (and earlier benchmarks) do
    not count. On Linux it is ``VmHWM`` of ``/proc/self/status``: ``ru_maxrss`` (self
    or children) survives ``exec`` and so starts at the RSS of the forking pytest process,
    hundreds of MB after the grid benchmarks. Elsewhere ``ru_maxrss`` is the fallback.
    """
    code = "\n".join(
        [
            PRELUDE,
            "import json",
            textwrap.dedent(setup),
            "before = peak_rss_kib()",
            textwrap.dedent(call),
            "after = peak_rss_kib()",
            "print(json.dumps([before, after]))",
        ]
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300
    )
    if out.returncode != 0:
        raise RuntimeError(f"memory probe failed:\n{out.stderr[-2000:]}")
    before, after = json.loads(out.stdout.strip().splitlines()[-1])
    # both in KiB on Linux
    return {"peak_rss_mb": round(after / 1024, 1), "call_rss_mb": round((after - before) / 1024, 1)}


# ======================================================================= roads
def peer_read_roads(path: Path, profile: SpeedProfile, class_column: str = "IGDS_LEVEL") -> dict:
    """The obvious geopandas path to the same graph as ``read_roads`` (no one-way column
    in the NLS file): read, explode multi-parts, take end points, merge end points on a
    ``SNAP_M`` grid with ``np.unique``, times from the profile's class speeds and ferry
    rule."""
    import geopandas as gpd
    import shapely

    gdf = gpd.read_file(path, columns=[class_column], engine="pyogrio")
    gdf = gdf.explode(index_parts=False)
    geoms = gdf.geometry.to_numpy()
    m = geoms.size
    ends = np.concatenate(
        [
            shapely.get_coordinates(shapely.get_point(geoms, 0)),
            shapely.get_coordinates(shapely.get_point(geoms, -1)),
        ]
    )
    grid = np.round(ends / SNAP_M).astype(np.int64)
    _, inverse = np.unique(grid, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    length = shapely.length(geoms)
    cls = gdf[class_column].astype(str).to_numpy()
    ferry = np.isin(cls, [str(v) for v in profile.ferry_detect.get(class_column, ())])
    speed = pd.Series(cls).map(profile.class_speeds_kmh[class_column]).to_numpy(dtype=float)
    time_s = np.where(
        ferry,
        length / (profile.ferry_speed_kmh / 3.6) + profile.ferry_boarding_s,
        length / (speed / 3.6),
    )
    return {
        "nodes": int(inverse.max()) + 1,
        "tail": inverse[:m],
        "head": inverse[m:],
        "length_m": length,
        "time_s": time_s,
    }


@pytest.fixture(scope="module")
def car() -> SpeedProfile:
    return load_profile("car_fi")


@_needs(ROADS)
@pytest.mark.benchmark(group="read-roads-nls")
def test_read_roads_hexaccess(benchmark: Any, car: SpeedProfile) -> None:
    net = benchmark.pedantic(
        read_roads, args=(ROADS, car), kwargs={"split_at_vertices": False}, rounds=5, iterations=1
    )
    benchmark.extra_info.update(nodes=net.num_nodes, edges=net.num_edges)
    benchmark.extra_info.update(
        _peak_memory(
            "from hexaccess.network import read_roads",
            f"read_roads({str(ROADS)!r}, 'car_fi', split_at_vertices=False)",
        )
    )
    assert net.num_edges == net.meta["rows"]  # single-part lines, none excluded for cars


@_needs(ROADS)
@pytest.mark.benchmark(group="read-roads-nls")
def test_read_roads_hexaccess_split(benchmark: Any, car: SpeedProfile) -> None:
    net = benchmark.pedantic(
        read_roads, args=(ROADS, car), kwargs={"split_at_vertices": True}, rounds=5, iterations=1
    )
    benchmark.extra_info.update(nodes=net.num_nodes, edges=net.num_edges, split=True)
    whole = read_roads(ROADS, car, split_at_vertices=False)
    np.testing.assert_allclose(net.length_m.sum(), whole.length_m.sum(), rtol=1e-9)


@_needs(ROADS)
@pytest.mark.benchmark(group="read-roads-nls")
def test_read_roads_geopandas_peer(benchmark: Any, car: SpeedProfile) -> None:
    pytest.importorskip("geopandas", reason="peer needs geopandas (pip install geopandas)")
    peer = benchmark.pedantic(peer_read_roads, args=(ROADS, car), rounds=5, iterations=1)
    benchmark.extra_info.update(nodes=peer["nodes"], edges=int(peer["tail"].size))
    benchmark.extra_info.update(
        _peak_memory(
            "from bench_inputs import peer_read_roads\n"
            "from hexaccess.profiles import load_profile\n"
            "import geopandas\n"
            "car = load_profile('car_fi')",
            f"peer_read_roads({str(ROADS)!r}, car)",
        )
    )
    net = read_roads(ROADS, car, split_at_vertices=False)
    assert peer["nodes"] == net.num_nodes
    assert peer["tail"].size == net.num_edges
    # same graph: edges in file order; node ids from the same sorted snap grid
    np.testing.assert_array_equal(peer["tail"], net.tail)
    np.testing.assert_array_equal(peer["head"], net.head)
    np.testing.assert_allclose(peer["length_m"], net.length_m, rtol=1e-12)
    np.testing.assert_allclose(peer["time_s"], net.time_s, rtol=1e-12)


# ============================================================ population grid
@pytest.fixture(scope="module")
def census_subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first ``SUBSET`` squares of the census grid, as their own CSV."""
    if not CENSUS.is_file():
        pytest.skip(f"reference data not found: {CENSUS} (see ../shared/data)")
    path = tmp_path_factory.mktemp("census") / f"census_first_{SUBSET}.csv"
    pd.read_csv(CENSUS, nrows=SUBSET, dtype={"GRD_ID": str}).to_csv(path, index=False)
    return path


def peer_overlay(path: Path, resolution: int = RESOLUTION) -> pd.Series:
    """People (column ``T``) per H3 cell by exact area-weighted overlay in EPSG:3035.

    Candidate cells: every cell within 2 rings of the cell holding a square's centre (a
    resolution-8 cell is ~0.9 km across, so this covers a 1 km square; checked below by
    the shares of every square summing to 1). H3 cell boundaries are transformed vertex
    by vertex to EPSG:3035 (equal-area, so area shares are people shares).
    """
    import geopandas as gpd
    import h3
    import pyproj
    import shapely

    df = pd.read_csv(path, usecols=["GRD_ID", "T"], dtype={"GRD_ID": str})
    parts = df["GRD_ID"].str.extract(r"^CRS3035RES(?P<s>\d+)mN(?P<n>\d+)E(?P<e>\d+)$")
    side, north, east = (parts[c].to_numpy(dtype=float) for c in ("s", "n", "e"))
    squares = gpd.GeoDataFrame(
        {"square": np.arange(len(df)), "T": df["T"].to_numpy(dtype=float)},
        geometry=shapely.box(east, north, east + side, north + side),
        crs="EPSG:3035",
    )
    to_ll = pyproj.Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(east + side / 2, north + side / 2)
    centre = {h3.latlng_to_cell(la, lo, resolution) for la, lo in zip(lat, lon, strict=True)}
    cells = sorted({c for cc in centre for c in h3.grid_disk(cc, 2)})
    ring = [h3.cell_to_boundary(c) for c in cells]  # ((lat, lng), ...) per cell
    n_vert = np.array([len(r) for r in ring])
    latlng = np.array([p for r in ring for p in r])
    to_laea = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
    x, y = to_laea.transform(latlng[:, 1], latlng[:, 0])
    rings = shapely.linearrings(
        np.column_stack([x, y]), indices=np.repeat(np.arange(len(cells)), n_vert)
    )
    hexes = gpd.GeoDataFrame({"cell": cells}, geometry=shapely.polygons(rings), crs="EPSG:3035")
    inter = gpd.overlay(squares, hexes, how="intersection", keep_geom_type=True)
    share = inter.area.to_numpy() / (side[inter["square"].to_numpy()] ** 2)
    cover = np.bincount(inter["square"].to_numpy(), weights=share, minlength=len(df))
    if not np.allclose(cover, 1.0, atol=1e-6):
        raise AssertionError(f"candidate cells do not cover every square: {cover.min()}")
    people = inter["T"].to_numpy() * share
    out = pd.Series(people).groupby(inter["cell"].to_numpy()).sum()
    out.index = [h3.str_to_int(c) for c in out.index]
    return out


@_needs(CENSUS)
@pytest.mark.benchmark(group="eurostat-grid-full")
def test_eurostat_full_hexaccess(benchmark: Any) -> None:
    grid = benchmark.pedantic(
        read_eurostat_grid, args=(CENSUS,), kwargs={"resolution": RESOLUTION}, rounds=3
    )
    expected = pd.read_csv(CENSUS, usecols=["T"])["T"].sum()
    assert grid.total("total") == expected  # every square's people kept exactly
    benchmark.extra_info.update(squares=grid.load_report["squares"], cells=len(grid))
    benchmark.extra_info.update(
        _peak_memory(
            "from hexaccess.population import read_eurostat_grid",
            f"read_eurostat_grid({str(CENSUS)!r}, resolution={RESOLUTION})",
        )
    )


@pytest.mark.benchmark(group="eurostat-grid-subset")
def test_eurostat_subset_hexaccess(benchmark: Any, census_subset: Path) -> None:
    grid = benchmark.pedantic(
        read_eurostat_grid,
        args=(census_subset,),
        kwargs={"resolution": RESOLUTION, "columns": ["T"]},
        rounds=5,
    )
    benchmark.extra_info.update(squares=SUBSET, cells=len(grid))
    benchmark.extra_info.update(
        _peak_memory(
            "from hexaccess.population import read_eurostat_grid",
            f"read_eurostat_grid({str(census_subset)!r}, resolution={RESOLUTION}, columns=['T'])",
        )
    )
    assert grid.total("total") == pd.read_csv(census_subset)["T"].sum()


@pytest.mark.benchmark(group="eurostat-grid-subset")
def test_eurostat_subset_geopandas_overlay_peer(benchmark: Any, census_subset: Path) -> None:
    pytest.importorskip("geopandas", reason="peer needs geopandas (pip install geopandas)")
    pytest.importorskip("h3", reason="peer needs the h3 package for cell polygons")
    peer = benchmark.pedantic(peer_overlay, args=(census_subset,), rounds=2)
    benchmark.extra_info.update(
        _peak_memory(
            "from bench_inputs import peer_overlay\nimport geopandas, h3",
            f"peer_overlay(__import__('pathlib').Path({str(census_subset)!r}))",
        )
    )
    total = pd.read_csv(census_subset)["T"].sum()
    ours = read_eurostat_grid(census_subset, resolution=RESOLUTION, columns=["T"])
    assert ours.total("total") == total
    np.testing.assert_allclose(peer.sum(), total, rtol=1e-9)
    # agreement: share of people the lattice places in another cell than the overlay
    a = pd.Series(ours.frame["total"].to_numpy(dtype=float), index=ours.cells.astype(np.int64))
    b = pd.Series(peer.to_numpy(), index=np.asarray(peer.index, dtype=np.uint64).astype(np.int64))
    diff = a.sub(b, fill_value=0.0).abs().sum() / 2 / total
    benchmark.extra_info.update(squares=SUBSET, cells=int((peer > 0).sum()), moved_share=diff)
    # Two effects, measured on this subset: integer people per cell (largest remainder per
    # square; squares hold ~29 people) alone move ~1.7 % (the floor reached with a finer
    # lattice), the default 10 x 10 lattice adds ~1.2 %.
    assert diff < 0.05
