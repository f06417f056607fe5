"""Independent reference for transit routing tests: earliest arrival by reachability in
a time-expanded graph searched with ``scipy.sparse.csgraph.dijkstra``.

A test helper, not package code; import it as ``from reference import earliest_arrival``
from a test in ``tests/transit/`` (pytest puts a test's folder on ``sys.path``), or by
path with ``importlib`` from elsewhere.

Semantics (those of :mod:`hexaccess.transit.timetable`; a router must give the same
times):

- An origin ``(stop, t)`` means being at ``stop`` at time ``t``; the first vehicle may be
  any connection leaving that stop at ``>= t`` (no slack: the router adds its boarding
  slack to ``t``). No footpath is walked before the first vehicle.
- On board, the traveller may stay on the trip's next connection (``conn_seq + 1``).
- After leaving a vehicle at stop ``a`` at time ``T``: board again at ``a`` a
  connection leaving at ``>= T + stop_transfer_s[a]``, or walk ONE footpath ``a -> b``
  and board at ``b`` a connection leaving at ``>= T + foot_s + stop_transfer_s[b]``.
  Two footpaths in a row are never walked (the footpaths are used as given, not closed
  transitively, as RAPTOR and CSA assume).
- ``max_transfers`` limits boardings to ``max_transfers + 1``; ``None``: no limit.
- The arrival time at a stop is the earliest of: an origin's time there, a vehicle's
  arrival there, and a vehicle's arrival at ``a`` plus ``foot_s`` of a footpath
  ``a -> stop`` (walking after the last vehicle counts; the transfer slack of the stop
  walked to does not, as nothing is boarded there).

Graph: per stop one *wait* node per distinct departure time (chained in time order),
per connection a *departure* and an *arrival* node, one copy of the connection nodes
per boarding number (layer) when transfers are limited. Arcs: wait -> next wait,
wait -> departure (boarding), departure -> arrival (riding), arrival -> next
connection's departure of the same trip (staying on), arrival -> the first wait node
that the change rule allows (same stop or one footpath), into the next layer. Every arc
weighs its time difference + 1 s (strictly positive, so sparse zeros never vanish); only
reachability is used: the times come from the nodes, not from the path lengths.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from hexaccess.transit import Timetable

__all__ = ["earliest_arrival"]

_BIG = np.int64(1) << 34  # key = stop * _BIG + time; times stay far below 2^34 s


def _first_wait(
    wkey: npt.NDArray[np.int64],
    wstop: npt.NDArray[np.int64],
    stop: npt.NDArray[np.int64],
    time: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Index of the first wait node at ``stop`` with time ``>= time`` (-1: none)."""
    i = np.searchsorted(wkey, stop * _BIG + time, side="left")
    ok = i < wkey.size
    ok[ok] = wstop[i[ok]] == stop[ok]
    return np.where(ok, i, -1)


def earliest_arrival(
    tt: Timetable, origins: list[tuple[int, int]], max_transfers: int | None
) -> npt.NDArray[np.float64]:
    """Earliest arrival (seconds since midnight) at every stop from ``origins``
    (``(stop index, time at the stop)``); ``inf`` where unreachable. See the module
    docstring for the exact rules."""
    n_c = tt.n_connections
    dep_stop = tt.conn_dep_stop.astype(np.int64)
    arr_stop = tt.conn_arr_stop.astype(np.int64)
    dep = tt.conn_dep_time.astype(np.int64)
    arr = tt.conn_arr_time.astype(np.int64)
    # wait nodes: distinct (stop, departure time), sorted
    wkey = np.unique(dep_stop * _BIG + dep)
    wstop, wtime = wkey // _BIG, wkey % _BIG
    n_w = wkey.size
    layers = 1 if max_transfers is None else max_transfers + 1
    # node ids: wait layer j (j < layers): j * n_w + w; connection layer k (1..layers):
    # base + (k - 1) * 2 n_c + c (departure) or + n_c + c (arrival); source last
    base = layers * n_w
    n_nodes = base + layers * 2 * n_c + 1
    source = n_nodes - 1
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    wts: list[npt.NDArray[np.int64]] = []

    def arc(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], w: npt.NDArray[np.int64]) -> None:
        assert (w >= 0).all(), "a time-expanded arc goes back in time"
        rows.append(a)
        cols.append(b)
        wts.append(w + 1)

    same_stop = wstop[1:] == wstop[:-1]
    chain = np.flatnonzero(same_stop)
    board_w = np.searchsorted(wkey, dep_stop * _BIG + dep)
    # next connection of the same trip (staying on board)
    order = np.lexsort((tt.conn_seq, tt.conn_trip))
    nxt_pairs = np.flatnonzero(
        (tt.conn_trip[order][1:] == tt.conn_trip[order][:-1])
        & (tt.conn_seq[order][1:] == tt.conn_seq[order][:-1] + 1)
    )
    c_from, c_to = order[nxt_pairs], order[nxt_pairs + 1]
    # change targets: same stop, and one footpath (foot_from == arrival stop)
    slack = tt.stop_transfer_s.astype(np.int64)
    same_w = _first_wait(wkey, wstop, arr_stop, arr + slack[arr_stop])
    f_from = tt.foot_from.astype(np.int64)
    f_to = tt.foot_to.astype(np.int64)
    f_s = tt.foot_s.astype(np.int64)
    f_start = np.searchsorted(f_from, np.arange(tt.n_stops + 1))
    n_f = f_start[arr_stop + 1] - f_start[arr_stop]
    fc = np.repeat(np.arange(n_c), n_f)  # connection of each (connection, footpath) pair
    fk = f_start[arr_stop][fc] + (np.arange(fc.size) - np.repeat(np.cumsum(n_f) - n_f, n_f))
    foot_w = _first_wait(wkey, wstop, f_to[fk], arr[fc] + f_s[fk] + slack[f_to[fk]])

    for j in range(layers):
        w0 = j * n_w
        arc(w0 + chain, w0 + chain + 1, wtime[chain + 1] - wtime[chain])
        d0 = base + j * 2 * n_c  # connection layer k = j + 1
        a0 = d0 + n_c
        arc(w0 + board_w, d0 + np.arange(n_c), dep - wtime[board_w])
        arc(d0 + np.arange(n_c), a0 + np.arange(n_c), arr - dep)
        arc(a0 + c_from, d0 + c_to, dep[c_to] - arr[c_from])
        nw = (j + 1) * n_w if max_transfers is not None else 0  # next wait layer
        if max_transfers is not None and j + 1 >= layers:
            continue  # no boarding after the last allowed one
        ok = same_w >= 0
        arc(a0 + np.flatnonzero(ok), nw + same_w[ok], wtime[same_w[ok]] - arr[ok])
        ok = foot_w >= 0
        arc(a0 + fc[ok], nw + foot_w[ok], wtime[foot_w[ok]] - arr[fc[ok]])

    o_stop = np.array([s for s, _ in origins], dtype=np.int64)
    o_time = np.array([t for _, t in origins], dtype=np.int64)
    t0 = int(o_time.min()) if o_time.size else 0
    ow = _first_wait(wkey, wstop, o_stop, o_time)
    ok = ow >= 0
    arc(np.full(int(ok.sum()), source), ow[ok], wtime[ow[ok]] - t0)

    r, c, w = (np.concatenate(x) if x else np.zeros(0, np.int64) for x in (rows, cols, wts))
    graph = coo_matrix((w.astype(np.float64), (r, c)), shape=(n_nodes, n_nodes)).tocsr()
    reached = np.isfinite(dijkstra(graph, directed=True, indices=source))

    best = np.full(tt.n_stops, np.inf)
    np.minimum.at(best, o_stop, o_time.astype(np.float64))
    arrived = np.zeros(n_c, dtype=bool)
    for k in range(layers):
        arrived |= reached[base + k * 2 * n_c + n_c : base + (k + 1) * 2 * n_c]
    np.minimum.at(best, arr_stop[arrived], arr[arrived].astype(np.float64))
    walk = arrived[fc]
    np.minimum.at(best, f_to[fk[walk]], (arr[fc[walk]] + f_s[fk[walk]]).astype(np.float64))
    return best
