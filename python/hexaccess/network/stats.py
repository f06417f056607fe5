"""Network diagnostics: size, km by class, weak and strong connectivity.

(Named ``stats`` rather than ``diagnostics`` so that the submodule does not shadow the
function :func:`hexaccess.network.diagnostics`.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.errors import RoadDataError
from hexaccess.network._attributes import _class_keys
from hexaccess.network.model import RoadNetwork

__all__ = ["diagnostics", "strong_component_table", "strong_components"]


def diagnostics(
    network: RoadNetwork,
    node_weights: npt.ArrayLike | None = None,
    source_nodes: npt.ArrayLike | None = None,
) -> dict[str, Any]:
    """Size, km by class and connectivity of a network.

    Returns a dict with ``nodes``, ``edges``, ``arcs`` (directed), ``oneway_edges``,
    ``ferry_edges``, ``self_loops``, ``total_km``, ``km_by_class`` (Series), ``components``
    (DataFrame, one row per weakly connected component, largest first: ``nodes``,
    ``edges``, ``km`` and, when given, ``weight`` = sum of ``node_weights`` (e.g.
    population attached to its nodes) and ``sources`` = number of ``source_nodes`` in it),
    ``node_component`` (component id per node), ``strong_components`` and
    ``nodes_outside_largest_strong`` (one-way traps), and, with ``source_nodes``,
    ``islands_without_source`` (components without a source, with their weight).
    """
    from scipy.sparse.csgraph import connected_components

    n = network.num_nodes
    tail, head, _, _ = network.to_edge_arrays()
    g = _mode_graph(n, tail, head)
    ncomp, label = connected_components(g, directed=True, connection="weak")
    nstrong, slabel = connected_components(g, directed=True, connection="strong")
    sizes = np.bincount(slabel, minlength=nstrong)
    comp = _component_table(network, label, ncomp, node_weights, source_nodes)
    out: dict[str, Any] = {
        "nodes": n,
        "edges": network.num_edges,
        "arcs": int(tail.size),
        "oneway_edges": int(network.oneway.sum()),
        "ferry_edges": int(network.ferry.sum()),
        "self_loops": int((network.tail == network.head).sum()),
        "total_km": float(network.length_m.sum() / 1000),
        "km_by_class": _km_by_class(network),
        "components": comp,
        "node_component": label,
        "strong_components": int(nstrong),
        "nodes_outside_largest_strong": int(n - sizes.max()) if n else 0,
    }
    if source_nodes is not None:
        out["islands_without_source"] = comp[comp["sources"] == 0]
    return out


def _component_table(
    network: RoadNetwork,
    label: np.ndarray,
    ncomp: int,
    node_weights: npt.ArrayLike | None,
    source_nodes: npt.ArrayLike | None,
) -> pd.DataFrame:
    """One row per weak component (``label`` per node), largest (nodes, then km) first."""
    n = network.num_nodes
    edge_comp = label[network.tail]
    comp = pd.DataFrame(
        {
            "nodes": np.bincount(label, minlength=ncomp),
            "edges": np.bincount(edge_comp, minlength=ncomp),
            "km": np.bincount(edge_comp, weights=network.length_m, minlength=ncomp) / 1000,
        }
    )
    if node_weights is not None:
        w = np.asarray(node_weights, dtype=np.float64)
        if w.shape != (n,):
            raise RoadDataError(f"node_weights must have shape ({n},), got {w.shape}")
        comp["weight"] = np.bincount(label, weights=w, minlength=ncomp)
    if source_nodes is not None:
        src = np.asarray(source_nodes, dtype=np.int64)
        if ((src < 0) | (src >= n)).any():
            raise RoadDataError("source_nodes contains ids outside [0, num_nodes)")
        comp["sources"] = np.bincount(label[src], minlength=ncomp)
    comp.index.name = "component"
    order = comp.sort_values(["nodes", "km"], ascending=False, kind="stable").index
    return comp.loc[order]


def _km_by_class(network: RoadNetwork) -> pd.Series:
    """Kilometres per class key; ferries as ``ferry:<class>``."""
    keys = _class_keys(network.road_class)
    keys = np.where(network.ferry, "ferry:" + keys.astype(str), keys)
    return pd.Series(network.length_m / 1000).groupby(keys).sum().rename("km")


def strong_components(network: RoadNetwork) -> tuple[int, npt.NDArray[np.int64]]:
    """Strongly connected components of the directed road graph of the network's mode
    (one-way edges one way, the others both): ``(count, label per node)``. Within one
    component every node reaches every other; a one-way trap or a dead-end one-way piece
    is its own small component. Vectorised (scipy), linear in the arcs."""
    return _components(network, "strong")


def weak_components(network: RoadNetwork) -> tuple[int, npt.NDArray[np.int64]]:
    """Weakly connected components (pieces linked by any road, whatever its direction):
    ``(count, label per node)``."""
    return _components(network, "weak")


def _components(network: RoadNetwork, connection: str) -> tuple[int, npt.NDArray[np.int64]]:
    from scipy.sparse.csgraph import connected_components

    tail, head, _, _ = network.to_edge_arrays()
    g = _mode_graph(network.num_nodes, tail, head)
    count, label = connected_components(g, directed=True, connection=connection)
    return int(count), label.astype(np.int64)


def _mode_graph(n: int, tail: npt.NDArray[np.int64], head: npt.NDArray[np.int64]) -> Any:
    """The directed road graph of the network's mode (its ``to_edge_arrays``: one-way
    edges one way, the others both) as a CSR adjacency matrix."""
    from scipy.sparse import coo_matrix

    # bool: parallel arcs merge into one entry, never wrapping round to an explicit zero.
    return coo_matrix((np.ones(tail.size, dtype=bool), (tail, head)), shape=(n, n)).tocsr()


def strong_component_table(
    network: RoadNetwork, label: npt.NDArray[np.int64], count: int
) -> pd.DataFrame:
    """One row per strong component (index = label): ``nodes`` and ``km`` (edges with
    both ends in it; an edge between two components belongs to neither)."""
    inside = label[network.tail] == label[network.head]
    km = np.bincount(label[network.tail][inside], weights=network.length_m[inside], minlength=count)
    table = pd.DataFrame({"nodes": np.bincount(label, minlength=count), "km": km / 1000})
    table.index.name = "strong_component"
    return table
