"""The Rust PBF reader against the pyosmium reader (an independent implementation of
the same rules: osmium's own PBF decoder, node index and tag access, numpy cutting and
pyproj geodesics): identical node sets, arcs, classes, one-way flags and skip counts,
lengths and times equal to 1e-9, on the shared real extracts, on a hand-made PBF with
the awkward cases (written by pyosmium) and on the synthetic national generator's
output; plus the generator's own properties."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from fixtures.shared import shared_file

from hexaccess.errors import RoadDataError
from hexaccess.network import read_osm_pbf
from hexaccess.network.osm import _rust_reader

pytestmark = pytest.mark.skipif(_rust_reader() is None, reason="extension without OSM reader")

PROFILES = ("car_fi", "walk", "bike")
_COUNTS = ("ways", "excluded", "unknown_highway", "access_forbidden", "unknown_oneway")
#: The counters of the clipped extract and of the car rules (issue #14).
_CAR_RULE_COUNTS = (
    "ways_without_located_segment",
    "clipped_ways",
    "maxspeed_edges",
    "maxspeed_unused",
    "restrictions_skipped",
)


def _read(path: Path, profile: str, split: bool, engine: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown highway values warn in both readers
        return read_osm_pbf(path, profile, split_at_vertices=split, engine=engine)


def _assert_same(path: Path, profile: str, split: bool) -> None:
    a = _read(path, profile, split, "rust")
    b = _read(path, profile, split, "pyosmium")
    assert (a.meta["engine"], b.meta["engine"]) == ("rust", "pyosmium")
    np.testing.assert_array_equal(a.meta["node_refs"], b.meta["node_refs"])
    arcs_a = list(zip(a.tail, a.head, a.oneway, a.road_class, a.ferry, a.source_row, strict=True))
    arcs_b = list(zip(b.tail, b.head, b.oneway, b.road_class, b.ferry, b.source_row, strict=True))
    assert arcs_a == arcs_b
    np.testing.assert_allclose(a.length_m, b.length_m, rtol=1e-9, atol=0)
    np.testing.assert_allclose(a.time_s, b.time_s, rtol=1e-9, atol=0)
    assert a.crs == b.crs
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_allclose(a.mid_x, b.mid_x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(a.mid_y, b.mid_y, rtol=0, atol=1e-6)
    for k in (*_COUNTS, *_CAR_RULE_COUNTS):
        assert a.meta.get(k) == b.meta.get(k), k
    if "destination_only" in a.meta or "destination_only" in b.meta:
        np.testing.assert_array_equal(a.meta["destination_only"], b.meta["destination_only"])
    rows_a, rows_b = a.meta["turn_restriction_rows"], b.meta["turn_restriction_rows"]
    key_a = sorted(zip(*(rows_a[k].tolist() for k in ("from", "via", "to", "only")), strict=True))
    key_b = sorted(zip(*(rows_b[k].tolist() for k in ("from", "via", "to", "only")), strict=True))
    assert key_a == key_b
    if split:
        np.testing.assert_array_equal(a.meta["shape_point"], b.meta["shape_point"])
        np.testing.assert_array_equal(a.meta["ferry_shape_point"], b.meta["ferry_shape_point"])


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("extract", ["helsinki_centre", "kotka"])
def test_rust_reader_matches_pyosmium_on_shared_extracts(extract, profile, split):
    _assert_same(shared_file(f"osm/{extract}.osm.pbf"), profile, split)


def _awkward_pbf(path: Path) -> Path:
    """Ways with every tag rule and nodes missing from the extract (pyosmium writer)."""
    import osmium

    rng = np.random.default_rng(3)
    n = 400
    lon = 24.9 + rng.uniform(0, 0.02, n)
    lat = 60.17 + rng.uniform(0, 0.01, n)
    missing = set(rng.choice(np.arange(1, n + 1), 25, replace=False).tolist())
    tags = [
        {"highway": "primary"},
        {"highway": "residential", "oneway": "yes"},
        {"highway": "residential", "oneway": "-1"},
        {"highway": "tertiary", "oneway": "reversible"},
        {"highway": "secondary", "junction": "roundabout"},
        {"highway": "motorway"},
        {"highway": "motorway", "oneway": "no"},
        {"highway": "cycleway", "oneway:bicycle": "no", "oneway": "yes"},
        {"highway": "footway"},
        {"highway": "service", "access": "private"},
        {"highway": "service", "access": "no", "motor_vehicle": "yes", "bicycle": "no"},
        {"highway": "track", "foot": "private"},
        {"highway": "made_up_value"},
        {"route": "ferry"},
        {"route": "bus"},
        {"building": "yes"},
    ]
    with osmium.SimpleWriter(str(path)) as w:
        for i in range(n):
            if i + 1 not in missing:
                w.add_node(osmium.osm.mutable.Node(id=i + 1, location=(lon[i], lat[i])))
        for j in range(300):
            k = int(rng.integers(2, 9))
            nodes = rng.choice(np.arange(1, n + 1), k, replace=False).tolist()
            if j % 17 == 0:
                nodes.append(nodes[0])  # closed way
            if j % 23 == 0:
                nodes.insert(1, nodes[1])  # the same node twice in a row
            w.add_way(osmium.osm.mutable.Way(id=j + 1, nodes=nodes, tags=tags[j % len(tags)]))
    return path


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("profile", PROFILES)
def test_rust_reader_matches_pyosmium_on_awkward_tags(tmp_path, profile, split):
    _assert_same(_awkward_pbf(tmp_path / "awkward.osm.pbf"), profile, split)


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("profile", PROFILES)
def test_rust_reader_matches_pyosmium_on_synthetic_country(tmp_path, profile, split):
    from hexaccess.synthetic import generate_osm_pbf

    info = generate_osm_pbf(tmp_path / "syn.osm.pbf", 40_000, seed=5)
    _assert_same(info.path, profile, split)


def test_engine_choice_and_errors(tmp_path):
    path = _awkward_pbf(tmp_path / "a.osm.pbf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert read_osm_pbf(path, "car_fi").meta["engine"] == "rust"  # the default
    with pytest.raises(RoadDataError, match=r"engine='osmnx'.*rust, pyosmium"):
        read_osm_pbf(path, "car_fi", engine="osmnx")
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(path.read_bytes()[:-40])
    for engine in ("rust", "pyosmium"):
        with pytest.raises(RoadDataError, match=r"cut\.osm\.pbf.*(truncated|corrupt)"):
            read_osm_pbf(cut, "car_fi", engine=engine)


def test_rust_reader_warns_and_fails_like_pyosmium(tmp_path):
    import osmium

    path = tmp_path / "foot.osm.pbf"
    with osmium.SimpleWriter(str(path)) as w:
        for i in range(3):
            w.add_node(osmium.osm.mutable.Node(id=i + 1, location=(24.9 + i * 1e-3, 60.2)))
        w.add_way(osmium.osm.mutable.Way(id=1, nodes=[1, 2, 3], tags={"highway": "footway"}))
        w.add_way(osmium.osm.mutable.Way(id=2, nodes=[1, 3], tags={"highway": "bogus"}))
    for engine in ("rust", "pyosmium"):
        with pytest.warns(UserWarning, match="bogus"):
            with pytest.raises(RoadDataError, match=r"no ways usable.*'footway': 1"):
                read_osm_pbf(path, "car_fi", engine=engine)


# ================================================================== generator
def test_generator_is_deterministic_and_tagged_like_osm(tmp_path):
    import osmium

    from hexaccess.synthetic import generate_osm_pbf

    a = generate_osm_pbf(tmp_path / "a.osm.pbf", 60_000, seed=11)
    b = generate_osm_pbf(tmp_path / "b.osm.pbf", 60_000, seed=11)
    c = generate_osm_pbf(tmp_path / "c.osm.pbf", 60_000, seed=12)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.path.read_bytes() != c.path.read_bytes()
    highway, other, refs = Counter(), Counter(), 0
    for w in osmium.FileProcessor(str(a.path), osmium.osm.WAY):
        refs += len(w.nodes)
        t = dict(w.tags)
        highway[t.get("highway")] += 1
        for k in ("oneway", "junction", "access", "route"):
            if k in t:
                other[f"{k}={t[k]}"] += 1
    assert refs == a.way_nodes and 0.7 * 60_000 < refs < 1.3 * 60_000
    for cls in ("motorway", "motorway_link", "trunk", "primary", "secondary", "tertiary"):
        assert highway[cls] > 0, cls
    for cls in ("unclassified", "residential", "service", "track"):
        assert highway[cls] > 0, cls
    for tag in ("oneway=yes", "oneway=-1", "junction=roundabout", "access=private"):
        assert other[tag] > 0, tag
    assert other["route=ferry"] > 0 or highway[None] == 0


def test_generator_places_a_shape_node_every_20_to_40_m(tmp_path):
    from hexaccess.synthetic import generate_osm_pbf

    info = generate_osm_pbf(tmp_path / "s.osm.pbf", 30_000, seed=2)
    net = read_osm_pbf(info.path, "walk", split_at_vertices=True, engine="pyosmium")
    seg = net.length_m[net.road_class != "tertiary"]  # roundabout rings: 16 m chords
    # straight pieces: < 40 m; the sideways bend lengthens them by a few per cent
    assert np.quantile(seg, 0.02) > 10.0 and np.quantile(seg, 0.98) < 42.0
    assert 20.0 < np.median(seg) < 40.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"way_nodes": -5}, r"way_nodes must be in 1,000\.\.400,000,000, got -5"),
        ({"way_nodes": float("nan")}, "way_nodes must be a whole number .* got nan"),
        ({"way_nodes": "many"}, "way_nodes must be a whole number .* got 'many'"),
        ({"way_nodes": 2_000, "seed": -1}, "seed must be >= 0, got -1"),
        ({"way_nodes": 2_000, "centre_lonlat": (0, 95)}, r"centre_lonlat .* got \(0, 95\)"),
        ({"way_nodes": 2_000, "centre_lonlat": "ab"}, "centre_lonlat must be"),
    ],
)
def test_generator_refuses_bad_arguments(tmp_path, kwargs, match):
    from hexaccess.errors import InputError
    from hexaccess.synthetic import generate_osm_pbf

    with pytest.raises(InputError, match=match):
        generate_osm_pbf(tmp_path / "x.osm.pbf", **kwargs)
    with pytest.raises(InputError, match="does not exist"):
        generate_osm_pbf(tmp_path / "missing" / "x.osm.pbf", 2_000)
