"""The core's UTM projection (``_core.utm_forward`` and the segment / edge midpoints)
against pyproj (PROJ's own implementation of the same algorithm): 100,000 random
points across a zone and the zone edges, to 1e-6 m; the OSM readers' projection step
against its pyproj fallback; clear errors on bad input."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pyproj
import pytest

from hexaccess import _core
from hexaccess.network import osm
from hexaccess.network._crs import _utm_zone

TOL_M = 1e-6


def _pyproj(lon, lat, zone: int, south: bool):
    epsg = (32700 if south else 32600) + zone
    tr = pyproj.Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
    x, y = tr.transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def _central(zone: int) -> float:
    return -183.0 + 6.0 * zone


@pytest.mark.parametrize(("zone", "south"), [(35, False), (35, True), (1, False), (60, True)])
def test_random_points_match_pyproj(zone, south):
    rng = np.random.default_rng(zone + 100 * south)
    n = 100_000
    lon = _central(zone) + rng.uniform(-3.5, 3.5, n)
    lat = rng.uniform(-80.0, 84.0, n)
    x, y = _core.utm_forward(lon, lat, zone, south)
    ex, ey = _pyproj(lon, lat, zone, south)
    err = np.hypot(x - ex, y - ey)
    assert err.max() < TOL_M, f"max error {err.max():.3g} m"


def test_zone_edges_and_date_line_match_pyproj():
    lat = np.linspace(-80.0, 84.0, 165)
    for zone in (1, 31, 60):
        c = _central(zone)
        for dlon in (-3.5, -3.0, 0.0, 3.0, 3.5):
            lon = np.full(lat.size, c + dlon)
            for south in (False, True):
                x, y = _core.utm_forward(lon, lat, zone, south)
                ex, ey = _pyproj(lon, lat, zone, south)
                assert np.hypot(x - ex, y - ey).max() < TOL_M, (zone, dlon, south)
    # the date line from either side, and longitudes given beyond +-180
    lon = np.array([-180.0, 180.0, -177.0, 183.0, 177.0, -183.0])
    lat = np.array([10.0, 10.0, -45.0, -45.0, 60.0, 60.0])
    for zone in (1, 60):
        x, y = _core.utm_forward(lon, lat, zone, False)
        ex, ey = _pyproj(lon, lat, zone, False)
        assert np.hypot(x - ex, y - ey).max() < TOL_M


def test_in_place_writes_over_the_inputs():
    rng = np.random.default_rng(3)
    lon, lat = 24.0 + rng.uniform(-3, 3, 1000), rng.uniform(55, 70, 1000)
    ex, ey = _pyproj(lon, lat, 35, False)
    lon_in, lat_in = lon.copy(), lat.copy()
    x, y = _core.utm_forward(lon_in, lat_in, 35, False, inplace=True)
    assert x is lon_in and y is lat_in
    assert np.hypot(x - ex, y - ey).max() < TOL_M
    frozen = lon.copy()
    frozen.flags.writeable = False
    with pytest.raises(TypeError, match="not writeable"):
        _core.utm_forward(frozen, lat.copy(), 35, False, inplace=True)


def test_segment_and_edge_points_match_pyproj_then_lerp():
    rng = np.random.default_rng(5)
    n = 20_000
    lon0, lat0 = 27.0 + rng.uniform(-3.4, 3.4, n), rng.uniform(59.0, 70.0, n)
    lon1, lat1 = lon0 + rng.normal(0, 1e-3, n), lat0 + rng.normal(0, 1e-3, n)
    frac = rng.random(n)
    x0, y0 = _pyproj(lon0, lat0, 35, False)
    x1, y1 = _pyproj(lon1, lat1, 35, False)
    ex, ey = x0 + frac * (x1 - x0), y0 + frac * (y1 - y0)
    sx, sy = _core.utm_segment_points(lon0, lat0, lon1, lat1, frac, 35, False)
    assert np.hypot(sx - ex, sy - ey).max() < TOL_M
    # the same midpoints between already projected nodes: nodes 0..n-1 and n..2n-1
    x, y = np.concatenate([x0, x1]), np.concatenate([y0, y1])
    tail, head = np.arange(n), np.arange(n) + n
    mx, my = _core.edge_points(x, y, tail, head, frac)
    assert np.hypot(mx - ex, my - ey).max() < TOL_M
    ix, iy = _core.utm_segment_points(lon0.copy(), lat0.copy(), lon1, lat1, frac, 35, False, True)
    np.testing.assert_array_equal(ix, sx)
    np.testing.assert_array_equal(iy, sy)


def test_bad_input_is_a_clear_error():
    a = np.zeros(3)
    with pytest.raises(ValueError, match="UTM zone 61"):
        _core.utm_forward(a, a, 61, False)
    with pytest.raises(ValueError, match="different lengths"):
        _core.utm_forward(a, np.zeros(2), 35, False)
    with pytest.raises(ValueError, match="node 7 is not a node index"):
        _core.edge_points(a, a, np.array([0, 7]), np.array([1, 2]), np.zeros(2))
    assert _utm_zone(pyproj.CRS.from_epsg(32735)) == (35, True)
    assert _utm_zone(pyproj.CRS.from_epsg(3067)) is None  # TM35FIN: pyproj projects it


def _arrays(split: bool) -> SimpleNamespace:
    """What the projection step reads of the scans' graph (``_OsmArrays``): a random
    walk of nodes in Finland, edges between consecutive nodes."""
    rng = np.random.default_rng(8)
    n = 5000
    lon = 25.0 + np.cumsum(rng.normal(0, 1e-3, n))
    lat = 62.0 + np.cumsum(rng.normal(0, 1e-3, n))
    ends = None if split else (lon[:-1] * 1.0, lat[:-1] * 1.0, lon[1:] * 1.0, lat[1:] * 1.0)
    return SimpleNamespace(
        node_lon=lon,
        node_lat=lat,
        tail=np.arange(n - 1),
        head=np.arange(1, n),
        mid_frac=rng.random(n - 1),
        mid_ends=ends,
        bbox=(lon.min(), lat.min(), lon.max(), lat.max()),
    )


@pytest.mark.parametrize("split", [True, False])
def test_osm_projection_matches_its_pyproj_fallback(split, monkeypatch):
    core = osm._osm_projection(_arrays(split))
    monkeypatch.setattr("hexaccess.network._crs._utm_zone", lambda crs: None)
    ref = osm._osm_projection(_arrays(split))
    assert core[0] == ref[0] and core[0].to_epsg() == 32635
    for got, want in zip(core[1:], ref[1:], strict=True):
        assert np.abs(got - want).max() < TOL_M
