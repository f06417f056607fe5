"""OpenStreetMap readers (issue #14): ``.osm.pbf`` → road network on a synthetic
national extract, every contender in the same run.

Run: ``python -m pytest benches/bench_osm.py --benchmark-only -q -s``; the size comes
from ``HEXACCESS_BENCH_OSM_NODES`` (way node entries, default 1,000,000: about a
minute). The extract is :func:`hexaccess.synthetic.generate_osm_pbf` (seeded).

Contenders (each in a fresh ``python -c`` child, so that its peak resident memory,
``VmHWM``, is its own; the time is the read inside the child, imports excluded):

- ``rust``: :func:`hexaccess.network.read_osm_pbf` with ``engine="rust"`` (the core's
  two-pass reader) → :class:`~hexaccess.network.RoadNetwork` (car profile, split at
  vertices: the CLI default);
- ``pyosmium``: the same call with ``engine="pyosmium"`` (the previous reader), up to
  ``HEXACCESS_BENCH_OSM_PYOSMIUM_MAX`` way nodes (default 12 M: it needs about 0.4 KB per
  way node); its node and edge counts are asserted equal to the Rust reader's;
- ``pyrosm``: ``OSM(path).get_network("driving", nodes=True)`` (GeoDataFrames, not a
  routable graph: less work than ours), only when pyrosm is installed, up to
  ``HEXACCESS_BENCH_OSM_PYROSM_MAX`` way nodes (default 5 M: about 1.1 KB per way node);
- ``osmnx``: ``graph_from_xml`` on the extract converted to OSM XML (the conversion is
  not timed; osmnx reads no PBF), only when osmnx is installed, up to
  ``HEXACCESS_BENCH_OSM_OSMNX_MAX`` way nodes (default 1.5 M: about 3 KB and 60 µs per
  way node).

Seconds, peak RSS (MB) and graph sizes are stored in ``benchmark.extra_info`` and
printed one line per contender.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from _rss import PRELUDE

from hexaccess.synthetic import generate_osm_pbf

NODES = int(os.environ.get("HEXACCESS_BENCH_OSM_NODES", "1000000"))
PYOSMIUM_MAX = int(os.environ.get("HEXACCESS_BENCH_OSM_PYOSMIUM_MAX", "12000000"))
PYROSM_MAX = int(os.environ.get("HEXACCESS_BENCH_OSM_PYROSM_MAX", "5000000"))
OSMNX_MAX = int(os.environ.get("HEXACCESS_BENCH_OSM_OSMNX_MAX", "1500000"))
SEED = 14
_RESULTS: dict[str, dict[str, Any]] = {}

_READERS = {
    "rust": """
        from hexaccess.network import read_osm_pbf
        start()
        net = read_osm_pbf(PATH, "car_fi", engine="rust")
        out = {"nodes": net.num_nodes, "edges": net.num_edges}
    """,
    "pyosmium": """
        from hexaccess.network import read_osm_pbf
        start()
        net = read_osm_pbf(PATH, "car_fi", engine="pyosmium")
        out = {"nodes": net.num_nodes, "edges": net.num_edges}
    """,
    "pyrosm": """
        from pyrosm import OSM
        start()
        nodes, edges = OSM(PATH).get_network(network_type="driving", nodes=True)
        out = {"nodes": len(nodes), "edges": len(edges)}
    """,
    "osmnx": """
        import osmnx
        start()
        g = osmnx.graph_from_xml(XML, simplify=False, retain_all=True)
        out = {"nodes": g.number_of_nodes(), "edges": g.number_of_edges()}
    """,
}


@pytest.fixture(scope="session")
def national_pbf(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The synthetic national extract (written once per session)."""
    path = tmp_path_factory.mktemp("osm") / "national.osm.pbf"
    return generate_osm_pbf(path, NODES, seed=SEED)


def _child(reader: str, path: Path, xml: Path | None = None) -> dict[str, Any]:
    """Run one reader in a fresh interpreter: seconds (read only), peak MB, sizes."""
    body = textwrap.dedent(_READERS[reader])
    code = PRELUDE + textwrap.dedent(
        f"""
        import json, time, warnings
        warnings.simplefilter("ignore")
        PATH, XML = {str(path)!r}, {str(xml) if xml else ""!r}
        t = [0.0]
        def start():
            t[0] = time.perf_counter()
        """
    )
    code += body + "out.update(seconds=time.perf_counter() - t[0], peak_mb=peak_rss_mb())\n"
    code += "print(json.dumps(out))\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{reader} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _run(benchmark: Any, reader: str, path: Path, way_nodes: int, xml: Path | None = None):
    res: dict[str, Any] = {}

    def once() -> None:
        res.update(_child(reader, path, xml))

    benchmark.pedantic(once, rounds=1, iterations=1)
    res["way_nodes"] = way_nodes
    benchmark.extra_info.update(res)
    _RESULTS[reader] = res
    base = _RESULTS.get("pyosmium", {}).get("seconds")
    ratio = f", {base / res['seconds']:.1f}x faster than pyosmium" if base else ""
    print(
        f"\n[osm-pbf] {reader}: {way_nodes:,} way nodes, {res['seconds']:.2f} s, "
        f"peak {res['peak_mb']:.0f} MB ({res['peak_mb'] * 2**20 / way_nodes:.0f} B per way "
        f"node), {res['nodes']:,} nodes, {res['edges']:,} edges{ratio}"
    )
    return res


@pytest.mark.benchmark(group="osm-pbf")
def test_pyosmium_reader(benchmark, national_pbf):
    if national_pbf.way_nodes > PYOSMIUM_MAX:
        pytest.skip(f"{national_pbf.way_nodes:,} way nodes > HEXACCESS_BENCH_OSM_PYOSMIUM_MAX")
    _run(benchmark, "pyosmium", national_pbf.path, national_pbf.way_nodes)


@pytest.mark.benchmark(group="osm-pbf")
def test_rust_reader(benchmark, national_pbf):
    res = _run(benchmark, "rust", national_pbf.path, national_pbf.way_nodes)
    ref = _RESULTS.get("pyosmium")
    if ref is not None:  # same graph as the pyosmium reader
        assert (res["nodes"], res["edges"]) == (ref["nodes"], ref["edges"])
    assert res["edges"] > 0.8 * national_pbf.way_nodes  # split at vertices: ~1 edge/entry


@pytest.mark.benchmark(group="osm-pbf")
def test_pyrosm_get_network(benchmark, national_pbf):
    pytest.importorskip("pyrosm", reason="pyrosm not installed (peer, optional)")
    if national_pbf.way_nodes > PYROSM_MAX:
        pytest.skip(f"{national_pbf.way_nodes:,} way nodes > HEXACCESS_BENCH_OSM_PYROSM_MAX")
    _run(benchmark, "pyrosm", national_pbf.path, national_pbf.way_nodes)


@pytest.mark.benchmark(group="osm-pbf")
def test_osmnx_graph_from_xml(benchmark, national_pbf, tmp_path):
    pytest.importorskip("osmnx", reason="osmnx not installed (peer, optional)")
    if national_pbf.way_nodes > OSMNX_MAX:
        pytest.skip(f"{national_pbf.way_nodes:,} way nodes > HEXACCESS_BENCH_OSM_OSMNX_MAX")
    import osmium

    xml = tmp_path / "national.osm"
    with osmium.SimpleWriter(str(xml)) as w:  # not timed: osmnx reads OSM XML only
        for obj in osmium.FileProcessor(str(national_pbf.path)):
            w.add(obj)
    _run(benchmark, "osmnx", national_pbf.path, national_pbf.way_nodes, xml)
