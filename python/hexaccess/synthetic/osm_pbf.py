"""A synthetic national OpenStreetMap extract (``.osm.pbf``), deterministic and seeded,
for benchmarks of the OSM readers at any size (1 M to tens of millions of way nodes).

The country is a jittered lattice of countryside roads (2 km apart) tagged with a road
hierarchy like real OSM (``trunk`` / ``primary`` / ``secondary`` / ``tertiary`` lines,
``unclassified`` and ``track`` elsewhere, some lattice roads missing: sparse
countryside), a pair of one-way ``motorway`` carriageways every tenth lattice row with
``motorway_link`` ramps, towns of random size (street grids of ``residential`` blocks
with ``secondary`` main streets, one-way streets both ways, ``service`` stubs, some
``access=private``) joined to the lattice through a ``junction=roundabout``, and a few
lattice roads replaced by ``route=ferry`` crossings. Every way has a shape node every
20-40 m. Node and way ids ascend; the file is written by the Rust core (blocks of 8000
elements, zlib, in parallel): about 0.6 µs per node, generation included, against
8 µs per node (with its share of the ways) for pyosmium's ``SimpleWriter`` (measured).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hexaccess.errors import InputError
from hexaccess.synthetic.country import _whole_number

__all__ = ["SyntheticPbf", "generate_osm_pbf"]

_SPACING_M = 2000.0  # countryside lattice
_BLOCK_M = 150.0  # town blocks
_M_PER_DEG_LAT = 110_574.0
#: Way nodes per lattice cell on average (countryside + towns): sizes the lattice.
_NODES_PER_CELL = 340.0


@dataclass(frozen=True)
class SyntheticPbf:
    """What was written: the file, its nodes, ways and way node entries, the lattice
    size (junctions per side) and the number of towns."""

    path: Path
    nodes: int
    ways: int
    way_nodes: int
    lattice: int
    towns: int


class _Builder:
    """Nodes (metres in a local plane) and ways (node lists, tag set names)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.x = np.empty(1 << 16)
        self.y = np.empty(1 << 16)
        self.n_nodes = 0
        self.refs: list[np.ndarray] = []
        self.lens: list[np.ndarray] = []
        self.tags: list[np.ndarray] = []
        self.tag_sets: dict[tuple[tuple[str, str], ...], int] = {}

    def nodes(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Add nodes; their indices."""
        x, y = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
        n0, n1 = self.n_nodes, self.n_nodes + x.size
        if n1 > self.x.size:  # grow by doubling (amortised O(1) per node)
            cap = max(2 * self.x.size, n1)
            self.x = np.concatenate([self.x[:n0], np.empty(cap - n0)])
            self.y = np.concatenate([self.y[:n0], np.empty(cap - n0)])
        self.x[n0:n1], self.y[n0:n1] = x, y
        self.n_nodes = n1
        return np.arange(n0, n1, dtype=np.int64)

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates of the nodes so far (views)."""
        return self.x[: self.n_nodes], self.y[: self.n_nodes]

    def tag_set(self, **tags: str) -> int:
        """Id of a tag set."""
        key = tuple(sorted(tags.items()))
        return self.tag_sets.setdefault(key, len(self.tag_sets))

    def ways(self, refs: np.ndarray, lens: np.ndarray, tags: np.ndarray) -> None:
        """Add ways: node indices concatenated, their lengths and tag set ids."""
        self.refs.append(np.asarray(refs, dtype=np.int64))
        self.lens.append(np.asarray(lens, dtype=np.int64))
        self.tags.append(np.broadcast_to(np.asarray(tags, dtype=np.uint32), np.shape(lens)))

    def polylines(self, a: np.ndarray, b: np.ndarray, tags: np.ndarray, wiggle: float) -> None:
        """Ways from node ``a`` to node ``b`` with new shape nodes every 20-40 m, bent
        sideways by up to ``wiggle`` metres (a half sine)."""
        x, y = self.xy()
        xa, ya, xb, yb = x[a], y[a], x[b], y[b]
        length = np.hypot(xb - xa, yb - ya)
        step = self.rng.uniform(20.0, 40.0, a.size)
        k = np.maximum(np.ceil(length / step).astype(np.int64) - 1, 0)
        w = np.repeat(np.arange(a.size), k)
        first = np.repeat(np.cumsum(k) - k, k)
        t = (np.arange(w.size) - first + 1) / np.repeat(k + 1, k)
        amp = self.rng.uniform(-wiggle, wiggle, a.size)[w] * np.sin(np.pi * t)
        nx, ny = -(yb - ya)[w], (xb - xa)[w]
        norm = np.maximum(np.hypot(nx, ny), 1e-9)
        inner = self.nodes(
            xa[w] + t * (xb - xa)[w] + amp * nx / norm, ya[w] + t * (yb - ya)[w] + amp * ny / norm
        )
        lens = k + 2
        starts = np.cumsum(lens) - lens
        refs = np.empty(int(lens.sum()), dtype=np.int64)
        refs[starts] = a
        refs[starts + lens - 1] = b
        mid = np.ones(refs.size, dtype=bool)
        mid[starts] = False
        mid[starts + lens - 1] = False
        refs[mid] = inner
        self.ways(refs, lens, tags)


def _lattice(bld: _Builder, g: int) -> np.ndarray:
    """The countryside lattice: ``g x g`` jittered junctions, roads by a hierarchy."""
    rng = bld.rng
    jj, ii = np.meshgrid(np.arange(g), np.arange(g), indexing="ij")
    jitter = rng.uniform(-300, 300, (2, g, g))
    junction = bld.nodes(ii * _SPACING_M + jitter[0], jj * _SPACING_M + jitter[1]).reshape(g, g)
    names = ["trunk", "primary", "secondary", "tertiary"]
    for axis in (0, 1):  # roads along rows (axis 0: east-west), then along columns
        line = np.arange(g)[:, None] * np.ones((1, g - 1), dtype=np.int64)
        if axis == 0:
            a, b = junction[:, :-1], junction[:, 1:]
        else:
            a, b, line = junction[:-1, :].T, junction[1:, :].T, line
        tiers = [line % 10 == 0, line % 5 == 0, line % 3 == 0, line % 2 == 0]
        rank = np.select(tiers, [0, 1, 2, 3], 4)
        minor = rng.random(rank.shape)
        sets = np.array(
            [bld.tag_set(highway=n) for n in names]
            + [
                bld.tag_set(highway="unclassified"),
                bld.tag_set(highway="track"),
                bld.tag_set(route="ferry"),
                bld.tag_set(highway="unclassified", access="private"),
            ],
            dtype=np.uint32,
        )
        kind = np.where(rank < 4, rank, np.where(minor < 0.7, 4, 5))
        kind = np.where((rank >= 2) & (minor > 0.995), 6, kind)  # ferry crossings
        kind = np.where((kind == 4) & (minor < 0.02), 7, kind)
        keep = (rank < 4) | (rng.random(rank.shape) > 0.12)  # sparse countryside
        bld.polylines(a[keep], b[keep], sets[kind[keep]], wiggle=60.0)
    return junction


def _motorways(bld: _Builder, junction: np.ndarray) -> None:
    """Carriageway pairs midway between lattice rows 5, 15, ...; ramps every 5th column."""
    g = junction.shape[0]
    motorway = np.uint32(bld.tag_set(highway="motorway"))
    link = bld.tag_set(highway="motorway_link", oneway="yes")
    for row in range(5, g - 1, 10):
        xs = np.arange(g) * _SPACING_M
        y0 = (row + 0.5) * _SPACING_M
        north = bld.nodes(xs, np.full(g, y0 + 15.0))
        south = bld.nodes(xs, np.full(g, y0 - 15.0))
        bld.polylines(south[:-1], south[1:], motorway, wiggle=5.0)  # eastbound
        bld.polylines(north[1:], north[:-1], motorway, wiggle=5.0)  # westbound
        cols = np.arange(0, g, 5)
        j = junction[row, cols]
        on = np.concatenate([j, north[cols]])  # ramps on (to the south carriageway) and off
        off = np.concatenate([south[cols], j])
        bld.polylines(on, off, np.uint32(link), wiggle=20.0)


def _towns(bld: _Builder, junction: np.ndarray, share: float) -> int:
    """Street-grid towns beside a share of the lattice junctions, each joined through a
    roundabout; sizes from 3x3 to 24x24 blocks (a few cities)."""
    rng = bld.rng
    x_all, y_all = (v.copy() for v in bld.xy())
    sites = junction.ravel()[rng.random(junction.size) < share]
    res = [bld.tag_set(highway="residential"), bld.tag_set(highway="residential", oneway="yes")]
    res += [bld.tag_set(highway="residential", oneway="-1"), bld.tag_set(highway="secondary")]
    res += [bld.tag_set(highway="living_street")]
    service = [bld.tag_set(highway="service"), bld.tag_set(highway="service", access="private")]
    ring_tags = bld.tag_set(highway="tertiary", junction="roundabout")
    entry = bld.tag_set(highway="tertiary")
    for site in sites:
        n = int(min(3 + rng.geometric(0.25), 24))
        x0, y0 = x_all[site] + 300.0, y_all[site] + 300.0
        jj, ii = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
        grid = bld.nodes(x0 + ii * _BLOCK_M, y0 + jj * _BLOCK_M).reshape(n + 1, n + 1)
        a = np.concatenate([grid[:, :-1].ravel(), grid[:-1, :].ravel()])
        b = np.concatenate([grid[:, 1:].ravel(), grid[1:, :].ravel()])
        main = np.concatenate([np.repeat(np.arange(n + 1), n), np.tile(np.arange(n + 1), n)])
        u = rng.random(a.size)
        kind = np.select([main == n // 2, u < 0.08, u < 0.11, u < 0.14], [3, 1, 2, 4], 0)
        bld.polylines(a, b, np.asarray(res, dtype=np.uint32)[kind], wiggle=3.0)
        stub_at = grid.ravel()[rng.random(grid.size) < 0.3]
        x, y = bld.xy()
        ends = bld.nodes(x[stub_at] + 20.0, y[stub_at] + 60.0)
        priv = (rng.random(stub_at.size) < 0.25).astype(np.int64)
        bld.polylines(stub_at, ends, np.asarray(service, dtype=np.uint32)[priv], wiggle=5.0)
        ang = np.linspace(0, 2 * np.pi, 9)[:-1]
        cx, cy = x0 - 150.0, y0 - 150.0
        ring = bld.nodes(cx + 20 * np.cos(ang), cy + 20 * np.sin(ang))
        bld.ways(np.concatenate([ring[::-1], ring[-1:]]), np.array([9]), np.uint32(ring_tags))
        bld.polylines(
            np.array([site, ring[1]]), np.array([ring[5], grid[0, 0]]), np.uint32(entry), 10.0
        )
    return int(sites.size)


#: Largest synthetic extract (way node entries): about 40 GB of reader memory at most.
MAX_WAY_NODES = 400_000_000


def _check_centre(centre: object) -> tuple[float, float]:
    """``(lon, lat)`` of the extract's centre, finite and away from the poles."""
    try:
        lon, lat = (float(v) for v in centre)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise InputError(f"centre_lonlat must be (lon, lat) in degrees, got {centre!r}") from None
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -70 <= lat <= 70):
        raise InputError(
            f"centre_lonlat must be a finite (lon, lat) with lon in -180..180 and lat in "
            f"-70..70 (the extract spans several degrees), got {centre!r}"
        )
    return lon, lat


def generate_osm_pbf(
    path: str | Path,
    way_nodes: int = 1_000_000,
    *,
    seed: int = 0,
    centre_lonlat: tuple[float, float] = (25.0, 62.0),
) -> SyntheticPbf:
    """Write a synthetic national extract of about ``way_nodes`` way node entries (the
    size that drives the readers' time and memory) to ``path``; same arguments and
    seed, same file."""
    from hexaccess import _core

    way_nodes = _whole_number("way_nodes", way_nodes, 1_000, MAX_WAY_NODES)
    seed = _whole_number("seed", seed, 0)
    lon0, lat0 = _check_centre(centre_lonlat)
    if not Path(path).parent.is_dir():
        raise InputError(
            f"cannot write the synthetic PBF {path}: its directory {Path(path).parent} does "
            "not exist; create it first or give a path in an existing directory"
        )
    rng = np.random.default_rng(seed)
    g = max(round(float(np.sqrt(way_nodes / _NODES_PER_CELL))), 3)
    bld = _Builder(rng)
    junction = _lattice(bld, g)
    _motorways(bld, junction)
    towns = _towns(bld, junction, share=0.2)
    x, y = bld.xy()
    half = g * _SPACING_M / 2
    lat = lat0 + (y - half) / _M_PER_DEG_LAT
    lon = lon0 + (x - half) / (_M_PER_DEG_LAT * np.cos(np.radians(lat)))
    lens = np.concatenate(bld.lens)
    strings = sorted({s for key in bld.tag_sets for kv in key for s in kv})
    sid = {s: i for i, s in enumerate(strings)}
    sets = sorted(bld.tag_sets.items(), key=lambda kv: kv[1])
    set_len = np.array([len(k) for k, _ in sets], dtype=np.uint64)
    refs = np.concatenate(bld.refs) + 1  # OSM ids from 1
    # Written beside the target and moved into place in one step, so a killed run never
    # leaves a half-written PBF under the real name.
    partial = Path(path).with_name(f".{Path(path).name}.partial-{os.getpid()}")
    try:
        _core._osm_write_pbf(
            str(partial),
            np.arange(1, x.size + 1, dtype=np.int64),
            np.round(lat * 1e7).astype(np.int32),
            np.round(lon * 1e7).astype(np.int32),
            np.arange(1, lens.size + 1, dtype=np.int64),
            np.concatenate([[0], np.cumsum(lens)]).astype(np.uint64),
            refs,
            np.concatenate(bld.tags).astype(np.uint32),
            np.concatenate([[0], np.cumsum(set_len)]).astype(np.uint64),
            np.array([sid[k] for key, _ in sets for k, _ in key], dtype=np.uint32),
            np.array([sid[v] for key, _ in sets for _, v in key], dtype=np.uint32),
            strings,
        )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return SyntheticPbf(Path(path), int(x.size), int(lens.size), int(refs.size), g, towns)
