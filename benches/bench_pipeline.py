"""The whole national run on the real Finnish inputs, step by step, plus peak memory.

Load the Eurostat 1 km census grid onto H3 res 8, load the NLS 1:1 M roads, build the
study graph (cells and offices attached, urban slowdown), solve the 50-office network.
Skipped when ../shared/data is absent. Run: pytest benches/bench_pipeline.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _rss import PRELUDE

from hexaccess import accessibility, offices, population
from hexaccess.network import read_roads
from hexaccess.profiles import load_profile

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "finland"
pytestmark = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"../shared/data not present: {DATA} (real Finnish inputs)"
)

CENSUS = DATA / "census2021_1km.csv"
TABLE = DATA / "grid_municipality.csv"
ROADS = DATA / "roads_mml_1milj" / "road.shp"
OFFICES = DATA / "study_offices_50.csv"


def _population():
    return population.read_eurostat_grid(
        CENSUS,
        resolution=8,
        municipality_table=TABLE,
        exclude_municipalities=population.ALAND_MUNICIPALITIES,
    )


@pytest.fixture(scope="module")
def inputs():
    profile = load_profile("car_fi")
    return _population(), read_roads(ROADS, profile), offices.read_offices(OFFICES), profile


@pytest.mark.benchmark(group="finland-pipeline")
def test_load_census_grid(benchmark):
    grid = benchmark.pedantic(_population, rounds=2, iterations=1)
    benchmark.extra_info["cells"] = len(grid.cells)
    assert grid.total() == 5_439_866


@pytest.mark.benchmark(group="finland-pipeline")
def test_load_roads(benchmark):
    net = benchmark.pedantic(read_roads, args=(ROADS, load_profile("car_fi")), rounds=3)
    benchmark.extra_info["nodes"] = net.num_nodes
    assert net.num_edges == 13_696


@pytest.mark.benchmark(group="finland-pipeline")
def test_build_study_graph(benchmark, inputs):
    pop, net, offs, profile = inputs
    acc = benchmark.pedantic(
        accessibility.build_access_graph, args=(net, pop, offs, profile), rounds=3
    )
    benchmark.extra_info["graph_nodes"] = acc.graph.num_nodes


@pytest.mark.benchmark(group="finland-pipeline")
def test_solve_50_offices(benchmark, inputs):
    pop, net, offs, profile = inputs
    acc = accessibility.build_access_graph(net, pop, offs, profile)
    result = benchmark.pedantic(accessibility.solve, args=(acc, ["total", "age_65_plus"]), rounds=5)
    assert result.histogram.total() == 5_439_866


PEAK_SCRIPT = """
import json, time
from hexaccess import accessibility, inputs
t0 = time.perf_counter()
prof = inputs.profile_for(None, "car")
pop = inputs.read_population_any({census!r}, municipality_table={table!r},
                                 exclude_municipalities=inputs.municipality_codes("aland"))
net = inputs.read_roads_any({roads!r}, prof)
offs = inputs.read_offices_any({offices!r})
res = accessibility.solve(accessibility.build_access_graph(net, pop, offs, prof))
# This process's own peak (VmHWM, see _rss.py), not the forking pytest process's.
print(json.dumps({{"seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb()}}))
"""


def test_whole_run_peak_memory():
    """One cold end-to-end run in a fresh process: wall time and peak resident memory."""
    script = PRELUDE + PEAK_SCRIPT.format(
        census=str(CENSUS), table=str(TABLE), roads=str(ROADS), offices=str(OFFICES)
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    stats = json.loads(out.strip().splitlines()[-1])
    print(f"\nwhole national run: {stats['seconds']:.1f} s, peak RSS {stats['peak_rss_mb']:.0f} MB")
    assert stats["peak_rss_mb"] < 4096
