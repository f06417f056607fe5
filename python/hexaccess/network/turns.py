"""Car rules that a node graph cannot express, routed exactly on a turn-expanded graph:
turn restrictions (OSM ``type=restriction`` relations via a node), turn costs (seconds
for left, right and U-turns at junctions, as R5 and OSRM add) and destination-only ways
(``access=destination``: no through traffic, only trips that start or end there).

Only the nodes where a rule acts are expanded: junctions and dead ends when the profile
prices turns, the via nodes of turn restrictions, and the nodes where a destination-only
area meets ordinary roads. An expanded node gets one state per arriving arc (its
*in-ports*), so a turn (arriving arc, leaving arc) is an arc between states that can be
forbidden or priced; every other node stays one state, as in the plain graph (there, a
road continues and a U-turn is free: between junctions the graph has no direction, as
OSRM's compressed roads have none). A split OSM network is mostly shape points, so the
expanded graph is hardly larger than the plain one.

Road node ids are kept: state ``v`` is where trips from road node ``v`` start (for a
plain node, also where trips to it end); :meth:`TurnGraph.destination_state` names where
trips to it end. Places join those states, so nothing above the graph changes; a
network without rules is never expanded.

Destination-only arcs are routed in two layers: *start zone* (the trip began inside a
destination-only area, at a node on no ordinary road, and has not left it) and *end zone*
(it entered one from an ordinary road); an end-zone state never continues onto an
ordinary road, and a trip may not end through one at a node on an ordinary road. That is
R5's rule for ``NO_THRU_TRAFFIC`` edges, exact rather than OSRM's penalty.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess.errors import RoadDataError
from hexaccess.network.model import F64, I64, RoadNetwork
from hexaccess.profiles import SpeedProfile

__all__ = ["TurnGraph", "needs_turn_graph", "turn_graph"]

# Layers: start zone (destination-only arcs), ordinary roads, end zone.
_START, _ROAD, _END = 0, 1, 2


@dataclass(frozen=True)
class TurnGraph:
    """Forward arcs of the expanded graph (``tail → head``, seconds, metres) over
    ``num_nodes`` states (road nodes ``0..R-1`` first, where trips start), the state
    where trips to each road node end (``dest_state``), and what the diagnostics report
    (``stats``)."""

    tail: I64
    head: I64
    time_s: F64
    length_m: F64
    num_nodes: int
    num_road_nodes: int
    dest_state: I64
    stats: dict[str, Any] = field(default_factory=dict)

    def destination_state(self, node: npt.ArrayLike) -> I64:
        """The state where trips to road nodes ``node`` end."""
        return self.dest_state[np.asarray(node, dtype=np.int64)]


def needs_turn_graph(network: RoadNetwork, profile: SpeedProfile) -> bool:
    """Whether the network has a rule only the expanded graph routes: turn costs in the
    profile (OSM networks), turn-restriction rows, or a destination-only edge."""
    rows = network.meta.get("turn_restriction_rows")
    dest = network.meta.get("destination_only")
    return bool(
        _prices_turns(network, profile)
        or (rows is not None and len(rows["via"]))
        or (dest is not None and np.asarray(dest).any())
    )


def _prices_turns(network: RoadNetwork, profile: SpeedProfile) -> bool:
    return network.class_column == "highway" and profile.has_turn_costs


@dataclass(frozen=True)
class _Arcs:
    """The directed road arcs and the node classes the expansion needs."""

    tail: I64
    head: I64
    time_s: F64
    length_m: F64
    eid: I64
    dest: npt.NDArray[np.bool_]  # per arc: destination-only
    expanded: npt.NDArray[np.bool_]  # per node
    inside: npt.NDArray[np.bool_]  # per node: on destination-only arcs only
    on_road: npt.NDArray[np.bool_]  # per node: on an ordinary arc


def turn_graph(network: RoadNetwork, profile: SpeedProfile) -> TurnGraph:
    """The turn-expanded graph of ``network`` under the profile's turn rules."""
    tail, head, time_s, length_m, eid = network.to_edge_arrays(
        both_directions=True, return_edge_ids=True
    )
    n = network.num_nodes
    dest_meta = network.meta.get("destination_only")
    dest = (
        np.zeros(tail.size, dtype=bool) if dest_meta is None else np.asarray(dest_meta, bool)[eid]
    )
    on_road = np.zeros(n, dtype=bool)
    on_road[tail[~dest]] = on_road[head[~dest]] = True
    on_dest = np.zeros(n, dtype=bool)
    on_dest[tail[dest]] = on_dest[head[dest]] = True
    expanded = (on_dest & on_road) | _via_nodes(network)
    deg = _degrees(network) if _prices_turns(network, profile) else None
    if deg is not None:
        expanded |= (deg >= 3) | (deg == 1)
    arcs = _Arcs(tail, head, time_s, length_m, eid, dest, expanded, on_dest & ~on_road, on_road)
    a, b = _turn_pairs(tail, head, n, expanded)
    stats: dict[str, Any] = {
        "arcs": int(tail.size),
        "expanded_nodes": int(expanded.sum()),
        "turns": int(a.size),
        "destination_only_arcs": int(dest.sum()),
    }
    allowed = _allowed_turns(network, eid, head, a, b, stats)
    cost = _turn_costs(network, profile, deg, tail, head, eid, a, b, stats)
    return _assemble(arcs, a[allowed], b[allowed], cost[allowed], n, stats)


def _via_nodes(network: RoadNetwork) -> npt.NDArray[np.bool_]:
    """The road nodes that are the via node of a turn-restriction row."""
    out = np.zeros(network.num_nodes, dtype=bool)
    rows = network.meta.get("turn_restriction_rows")
    if rows is None or not len(rows["via"]):
        return out
    refs = np.asarray(network.meta["node_refs"], dtype=np.int64)
    out[np.isin(refs, np.asarray(rows["via"], dtype=np.int64)) & (refs >= 0)] = True
    return out


def _turn_pairs(tail: I64, head: I64, n: int, at: npt.NDArray[np.bool_]) -> tuple[I64, I64]:
    """Every (arc in, arc out) pair that meets at a node of ``at``, U-turns included."""
    order = np.argsort(tail, kind="stable")
    out_deg = np.bincount(tail, minlength=n)
    out_start = np.concatenate([[0], np.cumsum(out_deg)])
    arriving = np.flatnonzero(at[head])
    per_in = out_deg[head[arriving]]
    a = np.repeat(arriving, per_in)
    first = np.cumsum(per_in) - per_in
    within = np.arange(a.size, dtype=np.int64) - np.repeat(first, per_in)
    b = order[out_start[head[a]] + within]
    return a, b


def _allowed_turns(
    network: RoadNetwork, eid: I64, head: I64, a: I64, b: I64, stats: dict[str, Any]
) -> npt.NDArray[np.bool_]:
    """False for the turns the restriction rows forbid (``no_*``: that turn; ``only_*``:
    every other turn from that arc); rows that match no arc are counted by reason."""
    allowed = np.ones(a.size, dtype=bool)
    rows = network.meta.get("turn_restriction_rows")
    stats["restrictions_applied"] = 0
    stats["restrictions_not_applied"] = {}
    if rows is None or not len(rows["via"]):
        return allowed
    refs = np.asarray(network.meta["node_refs"], dtype=np.int64)
    real = np.flatnonzero(refs >= 0)
    by_ref = dict(zip(refs[real].tolist(), real.tolist(), strict=True))
    way = network.source_row
    at = _turns_at(head[a], {by_ref.get(int(r), -1) for r in rows["via"]} - {-1})
    missing: Counter[str] = Counter()
    applied = 0
    for f, v_ref, t, only in zip(
        rows["from"].tolist(),
        rows["via"].tolist(),
        rows["to"].tolist(),
        rows["only"].tolist(),
        strict=True,
    ):
        v = by_ref.get(v_ref)
        if v is None:
            missing["via_node_not_in_network"] += 1
            continue
        pairs = at[v]
        arriving = pairs[way[eid[a[pairs]]] == f]
        leaving_to = way[eid[b[arriving]]] == t
        if not arriving.size or (not only and not leaving_to.any()):
            missing["ways_not_in_network"] += 1
            continue
        # OSM requires the from and to ways to end at the via node; one passing through
        # it would name both directions, so the turn meant is unknown (OSRM skips these)
        if np.unique(eid[a[arriving]]).size > 1 or np.unique(eid[b[arriving[leaving_to]]]).size > 1:
            missing["way_passes_through_via"] += 1
            continue
        allowed[arriving[~leaving_to if only else leaving_to]] = False
        applied += 1
    stats["restrictions_applied"] = applied
    stats["restrictions_not_applied"] = dict(sorted(missing.items()))
    stats["turns_forbidden"] = int((~allowed).sum())
    return allowed


def _turns_at(turn_node: I64, nodes: set[int]) -> dict[int, I64]:
    """The turns (indices) at each of ``nodes``, grouped in one sort."""
    vias = np.array(sorted(nodes), dtype=np.int64)
    sel = np.flatnonzero(np.isin(turn_node, vias))
    order = sel[np.argsort(turn_node[sel], kind="stable")]
    at_node = turn_node[order]
    lo = np.searchsorted(at_node, vias, side="left")
    hi = np.searchsorted(at_node, vias, side="right")
    return {int(v): order[i:j] for v, i, j in zip(vias, lo, hi, strict=True)}


def _turn_costs(
    network: RoadNetwork,
    profile: SpeedProfile,
    deg: I64 | None,
    tail: I64,
    head: I64,
    eid: I64,
    a: I64,
    b: I64,
    stats: dict[str, Any],
) -> F64:
    """Seconds of each turn (all at expanded nodes): U-turns (back along the same edge),
    left and right turns at junctions (three or more neighbouring nodes) by the
    deviation angle."""
    cost = np.zeros(a.size)
    if deg is None:  # the profile prices no turns on this network
        return cost
    if not network.meta.get("split_at_vertices", True):
        raise RoadDataError(
            f"profile {profile.name!r}: [osm.turn_costs] needs each edge's direction at its "
            "ends, which an unsplit OSM edge (split_at_vertices=False) does not give; read "
            "the extract with split_at_vertices=True (the default) or remove the turn costs"
        )
    tc = profile.turn_costs
    u_turn = (eid[a] == eid[b]) & (head[b] == tail[a])
    k = np.flatnonzero((deg[head[a]] >= 3) & ~u_turn)  # turns at junctions
    ak, bk = a[k], b[k]
    x, y = network.x, network.y
    h_in = np.arctan2(y[head[ak]] - y[tail[ak]], x[head[ak]] - x[tail[ak]])
    h_out = np.arctan2(y[head[bk]] - y[tail[bk]], x[head[bk]] - x[tail[bk]])
    turn = np.remainder(np.degrees(h_out - h_in) + 180.0, 360.0) - 180.0  # + is left
    left, right = k[turn > tc["straight_deg"]], k[turn < -tc["straight_deg"]]
    cost[left] = tc["left_s"]
    cost[right] = tc["right_s"]
    cost[u_turn] = tc["u_turn_s"]
    stats["turn_costs"] = {
        "left": int(left.size),
        "right": int(right.size),
        "u_turn": int(u_turn.sum()),
    }
    return cost


def _degrees(network: RoadNetwork) -> I64:
    """Distinct neighbouring nodes of every node (three or more: a junction, where a
    turn is a choice; one: a dead end, where the only way on is a U-turn)."""
    lo = np.minimum(network.tail, network.head)
    hi = np.maximum(network.tail, network.head)
    n = network.num_nodes
    key = (lo * n + hi)[lo != hi]
    key.sort()  # a sort, not np.unique: its hash path is 10x slower on 10^7 keys
    key = key[np.concatenate([[True], key[1:] != key[:-1]])]
    return np.bincount(np.concatenate([key // n, key % n]), minlength=n)


def _assemble(arcs: _Arcs, a: I64, b: I64, cost: F64, n: int, stats: dict[str, Any]) -> TurnGraph:
    """States and arcs (see the module doc): road nodes ``0..R-1`` (a plain node's one
    state; for an inside node its start zone; for an expanded node where trips start),
    end-zone states of plain inside nodes, in-ports of the arcs into expanded nodes (one
    per layer of the arc), and a destination state for every node that is not a plain
    ordinary one."""
    ids = _StateIds(arcs, n)
    parts = [
        _plain_departures(arcs, ids),
        _origin_departures(arcs, ids),
        _turns(arcs, ids, a, b, cost),
        _arrivals(arcs, ids, n),
    ]
    tail, head, time_s, length_m = (np.concatenate(c) for c in zip(*parts, strict=True))
    stats["states"] = ids.count
    return TurnGraph(
        tail=tail,
        head=head,
        time_s=time_s,
        length_m=length_m,
        num_nodes=ids.count,
        num_road_nodes=n,
        dest_state=ids.dest,
        stats=stats,
    )


_Block = tuple[I64, I64, F64, F64]


class _StateIds:
    """Numbering of the states: ``end_zone[v]`` (plain inside nodes), ``port[arc, layer]``
    (arcs into expanded nodes; -1 elsewhere) and ``dest[v]``."""

    def __init__(self, arcs: _Arcs, n: int) -> None:
        plain = ~arcs.expanded
        next_id = n
        self.end_zone = np.full(n, -1, dtype=np.int64)
        inside = np.flatnonzero(plain & arcs.inside)
        self.end_zone[inside] = next_id + np.arange(inside.size)
        next_id += inside.size
        self.port = np.full((arcs.tail.size, 3), -1, dtype=np.int64)
        into = arcs.expanded[arcs.head]
        for layer, sel in ((_ROAD, into & ~arcs.dest), (_START, into & arcs.dest),
                           (_END, into & arcs.dest)):  # fmt: skip
            k = np.flatnonzero(sel)
            self.port[k, layer] = next_id + np.arange(k.size)
            next_id += k.size
        self.dest = np.arange(n, dtype=np.int64)
        own = np.flatnonzero(arcs.expanded | arcs.inside)
        self.dest[own] = next_id + np.arange(own.size)
        next_id += own.size
        self.own_dest = own
        self.count = int(next_id)

    def arrival(self, arcs: _Arcs, arc: I64, layer: int) -> I64:
        """The state reached by traversing ``arc`` into ``layer``."""
        v = arcs.head[arc]
        plain_state = self.end_zone[v] if layer == _END else v
        return np.where(arcs.expanded[v], self.port[arc, layer], plain_state)


def _plain_departures(arcs: _Arcs, ids: _StateIds) -> _Block:
    """Arcs leaving plain nodes: ordinary ones from the node's state; destination-only
    ones (from inside nodes) from the start zone and from the end zone, same layer."""
    leave = np.flatnonzero(~arcs.expanded[arcs.tail])
    road, dest = leave[~arcs.dest[leave]], leave[arcs.dest[leave]]
    blocks = [
        (arcs.tail[road], ids.arrival(arcs, road, _ROAD), road),
        (arcs.tail[dest], ids.arrival(arcs, dest, _START), dest),
        (ids.end_zone[arcs.tail[dest]], ids.arrival(arcs, dest, _END), dest),
    ]
    return _blocks(arcs, blocks)


def _origin_departures(arcs: _Arcs, ids: _StateIds) -> _Block:
    """Arcs leaving an expanded node where a trip starts: ordinary ones onto the road;
    destination-only ones into the start zone inside an area, the end zone from a road."""
    leave = np.flatnonzero(arcs.expanded[arcs.tail])
    road, dest = leave[~arcs.dest[leave]], leave[arcs.dest[leave]]
    start = dest[~arcs.on_road[arcs.tail[dest]]]
    enter = dest[arcs.on_road[arcs.tail[dest]]]
    blocks = [
        (arcs.tail[road], ids.arrival(arcs, road, _ROAD), road),
        (arcs.tail[start], ids.arrival(arcs, start, _START), start),
        (arcs.tail[enter], ids.arrival(arcs, enter, _END), enter),
    ]
    return _blocks(arcs, blocks)


def _blocks(arcs: _Arcs, blocks: list[tuple[I64, I64, I64]]) -> _Block:
    """(tail states, head states, arc) blocks as arrays: the arc's time and length."""
    tail = np.concatenate([t for t, _, _ in blocks])
    head = np.concatenate([h for _, h, _ in blocks])
    arc = np.concatenate([k for _, _, k in blocks])
    return tail, head, arcs.time_s[arc], arcs.length_m[arc]


def _turns(arcs: _Arcs, ids: _StateIds, a: I64, b: I64, cost: F64) -> _Block:
    """The allowed turns at expanded nodes, per layer change: start zone → start zone or
    road; road → road or end zone; end zone → end zone (never back onto a road)."""
    da, db = arcs.dest[a], arcs.dest[b]
    out = []
    for sel, la, lb in (
        (~da & ~db, _ROAD, _ROAD),
        (~da & db, _ROAD, _END),
        (da & db, _START, _START),
        (da & ~db, _START, _ROAD),
        (da & db, _END, _END),
    ):
        k = np.flatnonzero(sel)
        out.append(
            (
                ids.port[a[k], la],
                ids.arrival(arcs, b[k], lb),
                arcs.time_s[b[k]] + cost[k],
                arcs.length_m[b[k]],
            )
        )
    return tuple(np.concatenate(c) for c in zip(*out, strict=True))  # type: ignore[return-value]


def _arrivals(arcs: _Arcs, ids: _StateIds, n: int) -> _Block:
    """Zero arcs into the destination states: from every in-port (an end-zone port only
    at a node on no ordinary road), from a plain inside node's two zones, and from every
    node's own start state (a trip that stays at its node)."""
    into = np.flatnonzero(arcs.expanded[arcs.head])
    v = arcs.head[into]
    tails = [ids.port[into, _ROAD], ids.port[into, _START]]
    heads = [ids.dest[v], ids.dest[v]]
    end = into[~arcs.on_road[v]]
    tails.append(ids.port[end, _END])
    heads.append(ids.dest[arcs.head[end]])
    own = ids.own_dest
    tails += [own, ids.end_zone[own]]
    heads += [ids.dest[own], ids.dest[own]]
    tail, head = np.concatenate(tails), np.concatenate(heads)
    keep = (tail >= 0) & (head >= 0)
    zero = np.zeros(int(keep.sum()))
    return tail[keep], head[keep], zero, zero
