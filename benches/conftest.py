"""Shared benchmark inputs. Sizes come from the environment so the CI gate can run a
reduced size: HEXACCESS_BENCH_GRID=W gives a W×W road grid (default 1000: 1 M nodes,
about 3.8 M arcs)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.sparse as sp

import hexaccess
from hexaccess import synthetic

GRID = int(os.environ.get("HEXACCESS_BENCH_GRID", "1000"))


@pytest.fixture(scope="session")
def road_grid():
    net = synthetic.grid_network(GRID, GRID, seed=1)
    graph = hexaccess.Graph.from_edges(
        net.tail, net.head, net.time_s, net.length_m, num_nodes=net.num_nodes, bidirectional=True
    )
    indptr, head, time, _ = graph.csr()
    matrix = sp.csr_matrix((time, head, indptr), shape=(net.num_nodes,) * 2)
    rng = np.random.default_rng(0)
    offices = rng.choice(net.num_nodes, 50, replace=False)
    return net, graph, matrix, offices


#: People in the synthetic country of the hexagon-graph benchmark (the gate's reduced size).
HEX_PEOPLE = int(os.environ.get("HEXACCESS_BENCH_HEX_PEOPLE", "1000000"))


@pytest.fixture(scope="session")
def synthetic_hex():
    """Resolution-9 hexagon friction graph of a synthetic country, its 50 offices."""
    import warnings

    from hexaccess import country, hexgrid

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scn = country.default_scenario(HEX_PEOPLE)
        acc = hexgrid.build_hex_access(scn.roads, scn.population, scn.offices, water=scn.water)
    graph = acc.graph
    indptr, head, time, _ = graph.csr()
    matrix = sp.csr_matrix((time, head, indptr), shape=(graph.num_nodes,) * 2)
    return graph, matrix, acc.office_node
