"""Attaching points (cell centres, offices) to the road network.

Graph hygiene first (:func:`attachable_nodes`): places may join only the strongly
connected components (SCCs) of the mode's directed road graph that the profile's
``[access] attach`` rule keeps, so nobody joins a one-way trap or a 3-node fragment a few
metres closer than the main streets. Then :func:`connect_points` finds each place's
nearest kept node (``snap="node"``) or the nearest point of the nearest kept edge
(``snap="edge"``, as R5 does), and :func:`split_edges` splits the edges at those points.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess import defaults
from hexaccess.errors import RoadDataError
from hexaccess.network.model import RoadNetwork
from hexaccess.network.stats import strong_component_table, strong_components, weak_components
from hexaccess.profiles import SpeedProfile, load_profile

__all__ = ["AttachableNodes", "attachable_nodes", "connect_points", "split_edges"]

#: A snap point closer than this (metres) to an edge end joins that node (no split).
SNAP_NODE_TOLERANCE_M = 0.01


@dataclass(frozen=True)
class AttachableNodes:
    """The nodes places may join under an attach rule, with the strong components.

    ``label`` is the SCC of every node, ``table`` one row per SCC (``nodes``, ``km``,
    ``kept``), ``mask`` the nodes places may join (kept SCCs, minus any ``node_mask``).
    """

    rule: str
    min_km: float
    label: npt.NDArray[np.int64]
    table: pd.DataFrame
    mask: npt.NDArray[np.bool_]


def attachable_nodes(
    network: RoadNetwork,
    rule: str = defaults.ACCESS_ATTACH,
    min_km: float = defaults.ATTACH_MIN_COMPONENT_KM,
    anchor_x: npt.ArrayLike | None = None,
    anchor_y: npt.ArrayLike | None = None,
    *,
    node_mask: npt.ArrayLike | None = None,
) -> AttachableNodes:
    """Nodes that places may join under ``rule`` (``defaults.ACCESS_ATTACH_RULES``).

    ``largest_scc``: the largest SCC (by km, then nodes). ``large_scc``: that plus every
    SCC with at least ``min_km`` of road (real islands, not artefacts). ``office_scc``:
    the largest plus, for each anchor (office; ``anchor_x, anchor_y`` in the network
    CRS), the SCC of its nearest node among the SCCs of at least ``min_km``, so an island
    served by its own office stays usable but a fragment never wins over the main
    streets. ``all``: every node. ``node_mask`` (e.g. no mid-water ferry points) further
    restricts the set.
    """
    if rule not in defaults.ACCESS_ATTACH_RULES:
        known = list(defaults.ACCESS_ATTACH_RULES)
        raise RoadDataError(f"attach rule {rule!r} is not one of {known}")
    n = network.num_nodes
    base = np.ones(n, dtype=bool) if node_mask is None else np.asarray(node_mask, dtype=bool)
    if base.shape != (n,):
        raise RoadDataError(f"node_mask must have shape ({n},)")
    count, label = strong_components(network)
    table = strong_component_table(network, label, count)
    kept = np.zeros(count, dtype=bool)
    if rule == "all" or count == 0:
        kept[:] = True
    else:
        kept[np.lexsort((table["nodes"].to_numpy(), table["km"].to_numpy()))[-1]] = True
    if rule == "large_scc":
        kept |= table["km"].to_numpy() >= min_km
    if rule in ("large_scc", "office_scc"):
        kept |= _far_islands(network, label, count, kept)
    if rule == "office_scc" and anchor_x is not None and count:
        from scipy.spatial import cKDTree

        ax = np.asarray(anchor_x, dtype=np.float64)
        ay = np.asarray(anchor_y, dtype=np.float64)
        ok = np.isfinite(ax) & np.isfinite(ay)
        big = (table["km"].to_numpy() >= min_km) | kept
        cand = np.flatnonzero(big[label] & base)
        if cand.size and ok.any():
            tree = cKDTree(np.column_stack([network.x[cand], network.y[cand]]))
            _, i = tree.query(np.column_stack([ax[ok], ay[ok]]))
            kept[label[cand[i]]] = True
    table["kept"] = kept
    return AttachableNodes(rule, float(min_km), label, table, kept[label] & base)


def _far_islands(
    network: RoadNetwork, label: npt.NDArray[np.int64], count: int, kept: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """SCCs that are a whole weakly connected component (no road links them to any other
    road) and lie farther than :data:`defaults.ATTACH_ISLAND_GAP_M` from every kept node:
    islands, which stay joinable (see the default's comment)."""
    out = np.zeros(count, dtype=bool)
    if count == 0 or not kept.any():
        return out
    _, weak = weak_components(network)
    # An SCC is a whole weak component when its weak component holds no other SCC.
    first = np.full(count, -1, dtype=np.int64)
    first[label] = weak
    sccs_per_weak = np.bincount(first, minlength=int(weak.max()) + 1)
    alone = (sccs_per_weak[first] == 1) & ~kept
    nodes = np.flatnonzero(alone[label])
    if nodes.size == 0:
        return out
    gap = _distance_to_kept_road(network, kept[label], nodes)
    nearest = np.full(count, np.inf)
    np.minimum.at(nearest, label[nodes], gap)
    return alone & (nearest > defaults.ATTACH_ISLAND_GAP_M)


def _distance_to_kept_road(
    network: RoadNetwork, kept_node: npt.NDArray[np.bool_], nodes: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Distance (metres) from each of ``nodes`` to the nearest edge between kept nodes
    (straight segments; vectorised with a shapely STRtree)."""
    import shapely

    inside = kept_node[network.tail] & kept_node[network.head]
    t, h = network.tail[inside], network.head[inside]
    xy = np.stack(
        [
            np.column_stack([network.x[t], network.y[t]]),
            np.column_stack([network.x[h], network.y[h]]),
        ],
        axis=1,
    )
    points = shapely.points(network.x[nodes], network.y[nodes])
    if len(xy) == 0:  # kept nodes without edges: their points are the road
        xy = np.stack([np.column_stack([network.x[kept_node], network.y[kept_node]])] * 2, axis=1)
    tree = shapely.STRtree(shapely.linestrings(xy))
    (which, _), gap = tree.query_nearest(points, return_distance=True, all_matches=False)
    out = np.full(nodes.size, np.inf)
    out[which] = gap
    return out


def connect_points(
    network: RoadNetwork,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    profile: SpeedProfile | str | Path | None = None,
    *,
    node_mask: npt.ArrayLike | None = None,
    snap: str = "node",
    edge_mask: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """Attach points (cell centres, offices) to the network.

    ``x, y`` are in ``network.crs``. Returns one row per input point, in input order:
    ``node`` (nearest node id, restricted to ``node_mask`` when given, e.g. the kept
    components; with ``snap="edge"`` the nearer end of the snapped edge), ``edge`` and
    ``fraction`` (with ``snap="edge"``: the nearest edge with both ends in the mask, not a
    ferry, and the position of the nearest point along its straight tail → head segment,
    0..1; else -1 and NaN), ``snap_x, snap_y`` (the point joined), ``distance_m``
    (straight line to it), ``access_length_m`` (times the detour factor),
    ``access_time_s`` (at the access speed) and ``connected`` (distance within the
    profile's ``max_access_distance_m``). Points beyond are kept with ``connected =
    False``; points with non-finite coordinates get node -1. ``edge_mask`` (per edge)
    further restricts the edges ``snap="edge"`` may use (e.g. both ends in one SCC).
    """
    prof = network.profile if profile is None else load_profile(profile)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise RoadDataError(f"x and y must be 1-D arrays of equal length, got {x.shape}, {y.shape}")
    if snap not in defaults.ACCESS_SNAP_MODES:
        raise RoadDataError(f"snap={snap!r} is not one of {list(defaults.ACCESS_SNAP_MODES)}")
    mask = np.ones(network.num_nodes, dtype=bool)
    if node_mask is not None:
        mask = np.asarray(node_mask, dtype=bool)
        if mask.shape != (network.num_nodes,):
            raise RoadDataError(f"node_mask must have shape ({network.num_nodes},)")
    if not mask.any():
        src = network.meta.get("source", "the road network")
        raise RoadDataError(
            f"{src}: no road node to join points to (the network has {network.num_nodes} "
            "nodes"
            + (", none allowed by node_mask" if node_mask is not None else "")
            + "); give roads with lines the profile's mode may use"
        )
    finite = np.isfinite(x) & np.isfinite(y)
    out = _nearest_nodes(network, x, y, finite, mask)
    if snap == "edge":
        usable = mask[network.tail] & mask[network.head]
        if edge_mask is not None:
            em = np.asarray(edge_mask, dtype=bool)
            if em.shape != (network.num_edges,):
                raise RoadDataError(f"edge_mask must have shape ({network.num_edges},)")
            usable &= em
        _snap_to_edges(network, x, y, finite, usable, out)
    length = out["distance_m"] * prof.access_detour_factor
    out["access_length_m"] = length
    out["access_time_s"] = length / (prof.access_speed_kmh / 3.6)
    out["connected"] = finite & (out["distance_m"] <= prof.max_access_distance_m)
    return pd.DataFrame(out)


def _nearest_nodes(
    network: RoadNetwork,
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    finite: npt.NDArray[np.bool_],
    mask: npt.NDArray[np.bool_],
) -> dict[str, np.ndarray]:
    """The nearest masked node of every finite point (one KD-tree)."""
    from scipy.spatial import cKDTree

    cand = np.flatnonzero(mask)
    dist = np.full(x.shape, np.inf)
    node = np.full(x.shape, -1, dtype=np.int64)
    if finite.any():
        tree = cKDTree(np.column_stack([network.x[cand], network.y[cand]]))
        d, i = tree.query(np.column_stack([x[finite], y[finite]]))
        dist[finite] = d
        node[finite] = cand[i]
    safe = np.maximum(node, 0)
    return {
        "node": node,
        "edge": np.full(x.shape, -1, dtype=np.int64),
        "fraction": np.full(x.shape, np.nan),
        "snap_x": np.where(node >= 0, network.x[safe], np.nan),
        "snap_y": np.where(node >= 0, network.y[safe], np.nan),
        "distance_m": dist,
    }


def _snap_to_edges(
    network: RoadNetwork,
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    finite: npt.NDArray[np.bool_],
    edge_ok: npt.NDArray[np.bool_],
    out: dict[str, np.ndarray],
) -> None:
    """Replace the nearest-node rows of ``out`` by the nearest point of the nearest
    usable edge (``edge_ok``, not a ferry: nobody boards mid-water), in place."""
    import shapely

    t, h = network.tail, network.head
    usable = np.flatnonzero(edge_ok & ~network.ferry & (t != h))
    pts = np.flatnonzero(finite)
    if usable.size == 0 or pts.size == 0:
        return  # only isolated nodes: the nearest node is the answer
    ax, ay = network.x[t[usable]], network.y[t[usable]]
    bx, by = network.x[h[usable]], network.y[h[usable]]
    segs = shapely.linestrings(np.stack([np.column_stack([ax, ay]), np.column_stack([bx, by])], 1))
    tree = shapely.STRtree(segs)
    i_pt, i_seg = tree.query_nearest(shapely.points(x[pts], y[pts]), all_matches=False)
    p, k = pts[i_pt], i_seg
    dx, dy = bx[k] - ax[k], by[k] - ay[k]
    dd = dx * dx + dy * dy
    f = np.where(dd > 0, ((x[p] - ax[k]) * dx + (y[p] - ay[k]) * dy) / np.where(dd > 0, dd, 1), 0)
    f = np.clip(f, 0.0, 1.0)
    sx, sy = ax[k] + f * dx, ay[k] + f * dy
    d = np.hypot(x[p] - sx, y[p] - sy)
    # Never farther than the nearest node (float ties): keep the node then.
    better = d < out["distance_m"][p]
    p, k, f, sx, sy, d = p[better], k[better], f[better], sx[better], sy[better], d[better]
    e = usable[k]
    out["edge"][p] = e
    out["fraction"][p] = f
    out["node"][p] = np.where(f < 0.5, t[e], h[e])
    out["snap_x"][p], out["snap_y"][p], out["distance_m"][p] = sx, sy, d


def split_edges(
    network: RoadNetwork,
    edge: npt.ArrayLike,
    fraction: npt.ArrayLike,
    node: npt.ArrayLike,
    tolerance_m: float = SNAP_NODE_TOLERANCE_M,
) -> tuple[RoadNetwork, npt.NDArray[np.int64]]:
    """Split edges at snap points: ``(network with the new nodes, node of every point)``.

    Point ``i`` lies at ``fraction[i]`` along edge ``edge[i]`` (-1: it joins ``node[i]``
    as it is). Points within ``tolerance_m`` of an edge end join that end; the others get
    one new node per distinct (edge, fraction), numbered from ``network.num_nodes`` on,
    and the edge becomes a chain of pieces in its direction (one-way stays one-way) with
    length and time in proportion to the fractions, so times between the old nodes do
    not change; each piece keeps its edge's class, source row and midpoint (so density
    look-ups give it the whole edge's slowdown). Old node ids are kept; a split edge's
    first piece keeps the edge's row, the other pieces are appended
    (``meta["split_parent"]`` names the edge of every row).
    """
    edge = np.asarray(edge, dtype=np.int64)
    frac = np.asarray(fraction, dtype=np.float64)
    out = np.asarray(node, dtype=np.int64).copy()
    t, h, n = network.tail, network.head, network.num_nodes
    on = np.flatnonzero(edge >= 0)
    e_on, f_on = edge[on], frac[on]
    seg = np.hypot(network.x[h[e_on]] - network.x[t[e_on]], network.y[h[e_on]] - network.y[t[e_on]])
    inner = (f_on * seg > tolerance_m) & ((1 - f_on) * seg > tolerance_m)
    out[on] = np.where(f_on < 0.5, t[e_on], h[e_on])
    if not inner.any():
        return network, out
    keys, inverse = np.unique(
        np.column_stack([e_on[inner].astype(np.float64), f_on[inner]]), axis=0, return_inverse=True
    )
    ue, uf = keys[:, 0].astype(np.int64), keys[:, 1]
    k = ue.size
    new_id = n + np.arange(k, dtype=np.int64)
    out[on[inner]] = new_id[np.asarray(inverse).reshape(-1)]
    first = np.r_[True, ue[1:] != ue[:-1]]
    last = np.r_[ue[1:] != ue[:-1], True]
    # Pieces: one ending at each split node, plus one from each edge's last split to its head.
    p_tail = np.concatenate([np.where(first, t[ue], np.roll(new_id, 1)), new_id[last]])
    p_head = np.concatenate([new_id, h[ue[last]]])
    f0 = np.concatenate([np.where(first, 0.0, np.roll(uf, 1)), uf[last]])
    f1 = np.concatenate([uf, np.ones(int(last.sum()))])
    parent = np.concatenate([ue, ue[last]])
    in_place = np.concatenate([first, np.zeros(int(last.sum()), dtype=bool)])
    return _with_pieces(network, ue, uf, p_tail, p_head, f0, f1, parent, in_place), out


def _with_pieces(
    network: RoadNetwork,
    ue: npt.NDArray[np.int64],
    uf: npt.NDArray[np.float64],
    p_tail: npt.NDArray[np.int64],
    p_head: npt.NDArray[np.int64],
    f0: npt.NDArray[np.float64],
    f1: npt.NDArray[np.float64],
    parent: npt.NDArray[np.int64],
    in_place: npt.NDArray[np.bool_],
) -> RoadNetwork:
    """The network with split nodes at ``uf`` along edges ``ue`` and the pieces
    ``p_tail → p_head`` (fractions ``f0..f1`` of edge ``parent``); pieces ``in_place``
    overwrite their parent's row, the others are appended."""
    t, h, n, m = network.tail, network.head, network.num_nodes, network.num_edges
    x0, y0 = network.x[t], network.y[t]
    dx, dy = network.x[h] - x0, network.y[h] - y0
    span = f1 - f0
    # Pieces keep their edge's midpoint: density look-ups (urban slowdown, calibration)
    # give a split edge the speed of the whole edge, as if it had not been split.
    fields = {
        "tail": p_tail,
        "head": p_head,
        "length_m": network.length_m[parent] * span,
        "time_s": network.time_s[parent] * span,
        "mid_x": network.mid_x[parent],
        "mid_y": network.mid_y[parent],
    }
    new: dict[str, np.ndarray] = {}
    for name in ("tail", "head", "length_m", "time_s", "mid_x", "mid_y"):
        col = getattr(network, name).copy()
        col[parent[in_place]] = fields[name][in_place]
        new[name] = np.concatenate([col, fields[name][~in_place]])
    extra = parent[~in_place]
    for name in ("road_class", "oneway", "ferry", "source_row"):
        col = getattr(network, name)
        new[name] = np.concatenate([col, col[extra]])
    new["x"] = np.concatenate([network.x, x0[ue] + uf * dx[ue]])
    new["y"] = np.concatenate([network.y, y0[ue] + uf * dy[ue]])
    meta = _split_meta(network.meta, n, m, ue.size, extra)
    return network.replace(**new, meta=meta)


#: Per-node arrays the readers put in ``meta`` and the value of a split node in them.
_NODE_META_FILL = {"node_refs": -1, "shape_point": True, "ferry_shape_point": False}
#: Per-edge arrays in ``meta`` (appended pieces take their parent edge's value).
_EDGE_META = ("slowdown_factor",)


def _split_meta(meta: dict, n: int, m: int, k: int, extra: np.ndarray) -> dict:
    """``meta`` with its per-node arrays extended by ``k`` split nodes and its per-edge
    arrays by the appended pieces (parents ``extra``)."""
    out = dict(meta)
    for key, val in meta.items():
        if not isinstance(val, np.ndarray) or val.ndim != 1:
            continue
        if key in _NODE_META_FILL or (key not in _EDGE_META and val.shape == (n,)):
            fill = _NODE_META_FILL.get(key, False if val.dtype == bool else -1)
            if val.dtype.kind == "f":
                fill = np.nan
            out[key] = np.concatenate([val, np.full(k, fill, dtype=val.dtype)])
        elif val.shape == (m,):
            out[key] = np.concatenate([val, val[extra]])
    base = np.asarray(meta.get("split_parent", np.arange(m)), dtype=np.int64)
    out["split_parent"] = np.concatenate([base, base[extra]])
    out["split_nodes"] = int(meta.get("split_nodes", 0)) + k
    return out
