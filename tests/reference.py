"""Slow, obviously-correct pure-Python references for the search semantics.

Both functions take the raw edge list (not the CSR) and plain Python floats, so they
share no code with either backend. They are meant for graphs of a few dozen arcs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Labels = tuple[npt.NDArray[np.float64], npt.NDArray[np.int32], npt.NDArray[np.float64]]


def _arcs(
    tail: Sequence[int],
    head: Sequence[int],
    time_s: Sequence[float],
    length_m: Sequence[float],
    bidirectional: bool,
) -> list[tuple[int, int, float, float]]:
    arcs = [
        (int(u), int(v), float(t), float(ln))
        for u, v, t, ln in zip(tail, head, time_s, length_m, strict=True)
    ]
    if bidirectional:
        arcs += [(v, u, t, ln) for u, v, t, ln in arcs]
    return arcs


def _start(sources: Sequence[int], offsets: Sequence[float] | None, cutoff: float | None):
    offsets = [0.0] * len(sources) if offsets is None else [float(o) for o in offsets]
    cutoff = math.inf if cutoff is None else float(cutoff)
    return [int(s) for s in sources], offsets, cutoff


def _to_arrays(num_nodes: int, labels: list[tuple[float, int, float] | None]) -> Labels:
    time = np.full(num_nodes, np.inf)
    source = np.full(num_nodes, -1, dtype=np.int32)
    length = np.full(num_nodes, np.inf)
    for v, label in enumerate(labels):
        if label is not None:
            time[v], source[v], length[v] = label
    return time, source, length


def reference_labels(
    num_nodes: int,
    tail: Sequence[int],
    head: Sequence[int],
    time_s: Sequence[float],
    length_m: Sequence[float],
    bidirectional: bool,
    sources: Sequence[int],
    offsets: Sequence[float] | None,
    cutoff: float | None,
) -> Labels:
    """Labels ``(time, source, length)`` by Bellman-Ford iteration to a fixpoint.

    Every node starts unlabelled; source ``i`` offers ``(o_i + 0.0, i, 0.0)`` if
    ``o_i <= cutoff``; then all arcs are swept repeatedly, each offering
    ``(time_u + t, source_u, length_u + l)`` to its head (if the time is <= cutoff),
    and a node keeps the lexicographically smallest label it was offered, until a sweep
    changes nothing. Labels only decrease and a cycle never improves a label (weights
    are >= 0), so this terminates after at most ``num_nodes`` changing sweeps with the
    lexicographic minimum over all paths of ``(time, source index, length)``.

    Exactness: with **integer-valued weights** (and sums below 2**53) every float sum is
    exact, the path-wise minimum coincides with the least fixpoint of
    ``docs/engine-semantics.md``, and this function returns exactly the contract's
    labels. With general float weights it may not: a path whose prefix is *not* a
    shortest path can round to the same total time as the shortest one and carry a
    smaller source index, which the contract (labels from tight arcs of the final
    labels) does not allow. Use :func:`reference_labels_tight` for float weights.

    Unreached nodes get ``(inf, -1, inf)``.
    """
    sources, offsets, cutoff = _start(sources, offsets, cutoff)
    arcs = _arcs(tail, head, time_s, length_m, bidirectional)
    labels: list[tuple[float, int, float] | None] = [None] * num_nodes
    for i, (s, o) in enumerate(zip(sources, offsets, strict=True)):
        offer = (o + 0.0, i, 0.0)
        if o <= cutoff and (labels[s] is None or offer < labels[s]):
            labels[s] = offer
    changed = True
    while changed:
        changed = False
        for u, v, t, ln in arcs:
            label_u = labels[u]
            if label_u is None or not label_u[0] + t <= cutoff:
                continue
            offer = (label_u[0] + t, label_u[1], label_u[2] + ln)
            if labels[v] is None or offer < labels[v]:
                labels[v] = offer
                changed = True
    return _to_arrays(num_nodes, labels)


def reference_labels_tight(
    num_nodes: int,
    tail: Sequence[int],
    head: Sequence[int],
    time_s: Sequence[float],
    length_m: Sequence[float],
    bidirectional: bool,
    sources: Sequence[int],
    offsets: Sequence[float] | None,
    cutoff: float | None,
) -> Labels:
    """The contract's labels for any float weights, in two Bellman-Ford phases.

    Phase 1 computes the shortest times alone (minimum over paths of the left-to-right
    float sum; this needs only monotonicity of float addition). Phase 2 then follows
    the contract's definition literally: on the *tight* arcs ``time_u + t == time_v``
    and the sources with ``o_i + 0.0 == time_v``, it iterates ``(source, length)`` to
    the least fixpoint from "unlabelled", keeping the lexicographically smallest offer.
    """
    sources, offsets, cutoff = _start(sources, offsets, cutoff)
    arcs = _arcs(tail, head, time_s, length_m, bidirectional)

    time: list[float | None] = [None] * num_nodes
    for s, o in zip(sources, offsets, strict=True):
        if o <= cutoff and (time[s] is None or o + 0.0 < time[s]):
            time[s] = o + 0.0
    changed = True
    while changed:
        changed = False
        for u, v, t, _ in arcs:
            if time[u] is not None and time[u] + t <= cutoff:
                if time[v] is None or time[u] + t < time[v]:
                    time[v] = time[u] + t
                    changed = True

    best: list[tuple[int, float] | None] = [None] * num_nodes
    for i, (s, o) in enumerate(zip(sources, offsets, strict=True)):
        if o <= cutoff and o + 0.0 == time[s] and (best[s] is None or (i, 0.0) < best[s]):
            best[s] = (i, 0.0)
    tight = [
        (u, v, ln)
        for u, v, t, ln in arcs
        if time[u] is not None and time[v] is not None and time[u] + t == time[v]
    ]
    changed = True
    while changed:
        changed = False
        for u, v, ln in tight:
            if best[u] is None:
                continue
            offer = (best[u][0], best[u][1] + ln)
            if best[v] is None or offer < best[v]:
                best[v] = offer
                changed = True

    labels: list[tuple[float, int, float] | None] = [
        None if t is None else (t, b[0], b[1]) for t, b in zip(time, best, strict=True)
    ]
    return _to_arrays(num_nodes, labels)
