"""Type stubs of the compiled extension ``hexaccess._core`` (rust/src/python/).

Use the public API in :mod:`hexaccess` (``hexaccess.Graph`` and friends); these
functions are its low-level engine. All of them release the GIL while they compute.
"""

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__version__: str
#: Graphs with at least this many nodes are searched on several threads by ``nearest``.
PARALLEL_MIN_NODES: int

_I64 = npt.NDArray[np.int64]
_I32 = npt.NDArray[np.int32]
_F64 = npt.NDArray[np.float64]
_U64 = npt.NDArray[np.uint64]

class Graph:
    """Immutable CSR travel-time graph; shared by all searches and threads."""

    def __init__(
        self,
        num_nodes: int,
        tail: _I64,
        head: _I64,
        time_s: _F64,
        length_m: _F64,
        bidirectional: bool = False,
    ) -> None: ...
    @property
    def num_nodes(self) -> int: ...
    @property
    def num_arcs(self) -> int: ...
    @property
    def memory_bytes(self) -> int: ...
    def csr(self) -> tuple[_I64, _I64, _F64, _F64]:
        """Copies of ``(indptr, head, time_s, length_m)``."""

def nearest(
    graph: Graph,
    sources: _I64,
    offsets: _F64 | None = None,
    cutoff: float | None = None,
    threads: int | None = None,
) -> tuple[_F64, _I32, _F64]:
    """One multi-source search: per node ``(time_s, source, length_m)``; unreached nodes
    have ``inf, -1, inf``. Large graphs are searched on ``threads`` threads."""

def sparse_batch(
    graph: Graph,
    set_indptr: _I64,
    set_nodes: _I64,
    set_offsets: _F64 | None = None,
    cutoff: float | None = None,
    targets: npt.NDArray[np.bool_] | None = None,
    threads: int | None = None,
    chunk: int = 256,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[_I64, _I64, _F64, _F64, _I32]:
    """``S`` searches; reached nodes as CSR ``(indptr, node, time_s, length_m, source)``."""

def histogram_batch(
    graph: Graph,
    set_indptr: _I64,
    set_nodes: _I64,
    weights: _F64,
    edges: _F64,
    set_offsets: _F64 | None = None,
    cutoff: float | None = None,
    threads: int | None = None,
    chunk: int = 64,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[_F64, _F64, _F64, _F64]:
    """``S`` searches reduced to ``(counts[S, bins, cols], unreachable[S, cols],
    time_sum[S, cols], length_sum[S, cols])``."""

def edge_scan(graph: Graph, sources: _I64) -> float:
    """The edge-scan bound: one label-update pass over all arcs (benchmarks only)."""

def latlng_to_cells(lat: _F64, lng: _F64, resolution: int) -> _U64: ...
def cell_centers(cells: _U64) -> tuple[_F64, _F64]:
    """``(lat, lng)`` in degrees."""

def cell_children(cells: _U64, resolution: int) -> _U64: ...
def cell_boundaries(cells: _U64) -> tuple[_F64, _I64]:
    """Boundary rings ``(coords, offsets)``: ``coords`` ``(m, 2)`` (lng, lat) degrees, cell
    ``i``'s ring ``coords[offsets[i]:offsets[i + 1]]`` (not closed)."""

def cell_wkb(cells: _U64) -> tuple[npt.NDArray[np.uint8], _I64, tuple[float, float, float, float]]:
    """Each cell's polygon as WKB ``(data, offsets, bbox)``."""

def dissolve_cells(cells: _U64, groups: _I64, num_groups: int) -> tuple[_F64, _I64, _I64, _I64]:
    """Union of each group's cells as MultiPolygon ragged arrays ``(coords, ring_offsets,
    polygon_offsets, group_offsets)``."""

def hex_graph(cells: _U64, speed_kmh: _F64) -> Graph:
    """Hexagon friction graph over sorted unique ``cells`` (speed <= 0: impassable)."""

def hex_edges(cells: _U64, speed_kmh: _F64) -> tuple[_I64, _I64, _F64, _F64]:
    """Undirected edge rows ``(tail, head, time_s, length_m)`` of the friction graph."""

def cell_nodes(cells: _U64, query: _U64) -> _I64:
    """Node id of each ``query`` cell in sorted ``cells`` (-1 if absent)."""

def evaluate_networks(
    indptr: _I64,
    candidate: _I32,
    time: npt.NDArray[np.uint16],
    distance: npt.NDArray[np.float32],
    weights: _F64,
    nptr: _I64,
    members: _I64,
    band_of_unit: _I64,
    num_candidates: int,
    threads: int | None = None,
) -> tuple[_F64, _F64, _F64, _F64]:
    """Per network ``(counts[S, bands], beyond[S], time_units_sum[S], distance_sum[S])``
    from a coverage matrix stored by cell."""

def utm_forward(
    lon: _F64, lat: _F64, zone: int, south: bool, inplace: bool = False
) -> tuple[_F64, _F64]:
    """``(easting, northing)`` metres in WGS84 UTM ``zone`` (1-60; ``south``: false
    northing 10,000 km) of points in degrees: PROJ's transverse Mercator (Poder/Engsager,
    order n^6); ``inf`` outside its domain. ``inplace``: written over ``lon``/``lat``
    (contiguous, writeable), which are returned."""

def utm_segment_points(
    lon0: _F64,
    lat0: _F64,
    lon1: _F64,
    lat1: _F64,
    frac: _F64,
    zone: int,
    south: bool,
    inplace: bool = False,
) -> tuple[_F64, _F64]:
    """Points at ``frac`` along segments (degrees): both ends projected to UTM, then
    ``(x1 - x0) * frac + x0`` in the plane. ``inplace``: written over ``lon0``/``lat0``."""

def edge_points(x: _F64, y: _F64, tail: _I64, head: _I64, frac: _F64) -> tuple[_F64, _F64]:
    """Points at ``frac`` along edges ``tail -> head`` between nodes ``x, y``:
    ``(x[head] - x[tail]) * frac + x[tail]``."""

class TransitProfiles:
    """Backward profile Connection Scan from all offices at once (rust/src/transit/):
    for every stop and time ``τ >= first_departure`` the earliest office arrival with at
    most ``k`` vehicles, ``k = 1..max_rides``. Connections sorted by ``(dep_time,
    arr_time, trip, seq)``, footpaths by ``foot_from``; targets are ``(stop, office,
    walk seconds)`` rows. ``horizon``: office arrivals after it are dropped (None: kept).
    ``walk_first``: one footpath may precede the first boarding; ``footpath_slack``: a
    boarding after a footpath also needs the change time of the stop walked to."""

    def __init__(
        self,
        num_stops: int,
        conn_dep_stop: _I32,
        conn_arr_stop: _I32,
        conn_dep_time: _I32,
        conn_arr_time: _I32,
        conn_trip: _I32,
        conn_seq: _I32,
        foot_from: _I32,
        foot_to: _I32,
        foot_s: _I32,
        stop_transfer_s: _I32,
        target_stop: _I32,
        target_office: _I32,
        target_walk_s: _I32,
        first_departure: int,
        horizon: int | None = None,
        max_rides: int = 4,
        walk_first: bool = False,
        footpath_slack: bool = True,
        threads: int | None = None,
    ) -> None: ...
    @property
    def num_stops(self) -> int: ...
    @property
    def max_rides(self) -> int: ...
    @property
    def first_departure(self) -> int: ...
    @property
    def horizon(self) -> int | None: ...
    @property
    def scanned(self) -> int:
        """Connections scanned."""
    @property
    def num_entries(self) -> int:
        """Profile entries over all rounds and stops."""
    @property
    def memory_bytes(self) -> int: ...
    def query(self, stop: _I32, time_s: _I32) -> tuple[_F64, _I32, _I32]:
        """``(arrival_s, office, rides)`` at each ``(stop[i], time_s[i])``: the earliest
        office arrival (inf: none), its office (-1) and the fewest rides reaching it (0)."""
    def evaluate_cells(
        self,
        cell_ptr: _I64,
        cell_stop: _I32,
        cell_walk_s: _I32,
        walk_only_s: _I32,
        walk_only_office: _I32,
        first_departure: int,
        num_departures: int,
        step_s: int = 60,
        max_time_s: int | None = None,
        percentiles: _F64 | None = None,
        threads: int | None = None,
    ) -> tuple[_F64, _F64, _F64, _I32, _I32, _I32, _I32]:
        """Per cell (legs as CSR; ``walk_only_s`` -1: none) over the departures
        ``first_departure + j * step_s``: ``(min_s, median_s, percentiles_s[cells, P],
        office, transfers, median_departure, unreachable)``; R5's nearest-rank
        percentiles, inf when unreachable, transfers -1 for walking alone."""
