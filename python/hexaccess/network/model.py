"""The road graph model: :class:`RoadNetwork` and the readers' shared defaults."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess import defaults
from hexaccess.errors import RoadDataError
from hexaccess.network._crs import _to_lonlat
from hexaccess.profiles import SpeedProfile

__all__ = ["F64", "I64", "SPLIT_AT_VERTICES_DEFAULT", "RoadNetwork"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: Default of ``split_at_vertices`` in :func:`~hexaccess.network.read_roads` and
#: :func:`~hexaccess.network.read_osm_pbf` (True): every shape point is a node, so people
#: attach to the road that passes them. It is :data:`hexaccess.defaults.SPLIT_ROADS`,
#: the value the CLI, scenario files and :class:`hexaccess.Study` use, so the readers
#: give the same numbers as a study on the same inputs.
SPLIT_AT_VERTICES_DEFAULT: bool = defaults.SPLIT_ROADS

_EDGE_FIELDS = (
    "head",
    "length_m",
    "time_s",
    "road_class",
    "oneway",
    "ferry",
    "mid_x",
    "mid_y",
    "source_row",
)


@dataclass
class RoadNetwork:
    """Road graph: nodes in a metric CRS and one row per (undirected or one-way) edge.

    Edge ``i`` runs from node ``tail[i]`` to ``head[i]`` (for one-way edges: the allowed
    direction). ``time_s`` already includes the profile's class speed, ferry boarding and,
    once applied, the urban slowdown. ``source_row`` is the 0-based feature row (vector
    files) or the OSM way id (OSM) each edge comes from; ``mid_x, mid_y`` the point halfway
    along the edge geometry (used for density look-ups).
    """

    x: F64
    y: F64
    crs: str
    tail: I64
    head: I64
    length_m: F64
    time_s: F64
    road_class: np.ndarray
    oneway: npt.NDArray[np.bool_]
    ferry: npt.NDArray[np.bool_]
    mid_x: F64
    mid_y: F64
    source_row: I64
    class_column: str
    profile: SpeedProfile
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.x = np.ascontiguousarray(self.x, dtype=np.float64)
        self.y = np.ascontiguousarray(self.y, dtype=np.float64)
        self.tail = np.ascontiguousarray(self.tail, dtype=np.int64)
        self.head = np.ascontiguousarray(self.head, dtype=np.int64)
        self.length_m = np.ascontiguousarray(self.length_m, dtype=np.float64)
        self.time_s = np.ascontiguousarray(self.time_s, dtype=np.float64)
        self.oneway = np.ascontiguousarray(self.oneway, dtype=bool)
        self.ferry = np.ascontiguousarray(self.ferry, dtype=bool)
        self.mid_x = np.ascontiguousarray(self.mid_x, dtype=np.float64)
        self.mid_y = np.ascontiguousarray(self.mid_y, dtype=np.float64)
        self.source_row = np.ascontiguousarray(self.source_row, dtype=np.int64)
        self.road_class = np.asarray(self.road_class)
        self._check_shapes()
        self._check_values()

    def _check_shapes(self) -> None:
        if self.x.shape != self.y.shape or self.x.ndim != 1:
            raise RoadDataError("node x and y must be 1-D arrays of equal length")
        m = self.tail.shape[0]
        for name in _EDGE_FIELDS:
            if getattr(self, name).shape != (m,):
                raise RoadDataError(f"edge array {name!r} must have shape ({m},)")

    def _check_values(self) -> None:
        n = self.x.shape[0]
        for name in ("tail", "head"):
            a = getattr(self, name)
            bad = (a < 0) | (a >= n)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise RoadDataError(f"edge {i}: {name} = {a[i]} is not a node id in [0, {n})")
        for name in ("length_m", "time_s"):
            a = getattr(self, name)
            bad = ~(np.isfinite(a) & (a >= 0))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise RoadDataError(f"edge {i}: {name} = {a[i]} must be finite and >= 0")

    @property
    def num_nodes(self) -> int:
        """Number of graph nodes."""
        return int(self.x.shape[0])

    @property
    def num_edges(self) -> int:
        """Number of edge rows (a two-way edge counts once)."""
        return int(self.tail.shape[0])

    def to_edge_arrays(
        self, both_directions: bool = True, return_edge_ids: bool = False
    ) -> tuple[I64, I64, F64, F64] | tuple[I64, I64, F64, F64, I64]:
        """Directed arcs ``(tail, head, time_s, length_m)`` for the engine.

        ``both_directions=True`` (default): every edge gives its forward arc, then every
        two-way edge gives its reverse arc (forward block first, then reverse block, each
        in edge order); pass the result to the engine with ``bidirectional=False``.
        ``both_directions=False``: one row per edge, for the engine's
        ``bidirectional=True``; only valid when no edge is one-way (else
        :class:`~hexaccess.errors.RoadDataError`, a ``ValueError``).
        With ``return_edge_ids`` a fifth array gives each arc's edge row.
        """
        if both_directions:
            rev = np.flatnonzero(~self.oneway)
            fwd = np.arange(self.num_edges, dtype=np.int64)
            ids = np.concatenate([fwd, rev])
            tail = np.concatenate([self.tail, self.head[rev]])
            head = np.concatenate([self.head, self.tail[rev]])
        else:
            if self.oneway.any():
                raise RoadDataError(
                    f"{int(self.oneway.sum())} edges are one-way; use both_directions=True "
                    "(engine bidirectional=False) so one-way edges get only their forward arc"
                )
            ids = np.arange(self.num_edges, dtype=np.int64)
            tail, head = self.tail.copy(), self.head.copy()
        out = (tail, head, self.time_s[ids], self.length_m[ids])
        return (*out, ids) if return_edge_ids else out

    def node_lonlat(self) -> tuple[F64, F64]:
        """(lon, lat) in degrees (WGS84) of every node."""
        return _to_lonlat(self.x, self.y, self.crs)

    def replace(self, **changes: Any) -> RoadNetwork:
        """A copy with some fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)
