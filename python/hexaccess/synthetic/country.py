"""Synthetic countries: deterministic, seeded national inputs of any size.

:func:`generate_country` (also ``hexaccess.synthetic.generate_country``; the old path
``hexaccess.country`` still works) makes a whole country from a few parameters (the defaults, in
``data/synthetic_country.toml``, give a Finland-sized one: 5.4 M people over
300,000 km²) and returns the same objects the real loaders return, so every pipeline
runs on it unchanged:

- ``population``: a :class:`~hexaccess.population.PopulationGrid` (H3 cells, columns
  ``total`` and ``age_65_plus``, a ``municipality`` code per cell);
- ``roads``: a :class:`~hexaccess.network.RoadNetwork` with NLS-style classes
  (``IGDS_LEVEL`` 26 motorway, 23 main, 22 regional, 21 local) timed by the ``car_fi``
  profile;
- ``offices``: :class:`~hexaccess.offices.Offices`, one candidate site per municipality
  seat, the largest towns marked ``fixed`` (regional centres);
- ``water``: lake polygons (lon/lat) for the hexagon graph's mask; some lakes hold an
  island with people and local roads but no bridge, so some people are unreachable.

How it is made: towns with Zipf-distributed sizes, placed densely in the south (a Beta
distribution of northness) and spread as Gaussian blobs; the rest of the people live in
the countryside with a density that decays northwards; the 65+ share is higher in the
countryside and in the north. Roads: motorways join the largest towns (a minimum
spanning tree), main roads the next tier, every other town gets a regional road to its
nearest larger town, and a jittered local road grid covers the land (segments in lakes
are dropped; trunk roads cross lakes on bridges). Everything is vectorised; people are
placed with sample points (``people_per_point`` each, at most ``max_points``) and an
exact multinomial split, so totals are exact for any size from 100 k to 50 M people.

Same parameters and seed → identical arrays. Not real data: results on it say
*synthetic* wherever they are printed.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.errors import InputError, UnknownNameError
from hexaccess.h3 import cell_centers, latlng_to_cells
from hexaccess.network import RoadNetwork
from hexaccess.offices import Offices
from hexaccess.population import PopulationGrid
from hexaccess.profiles import SpeedProfile, load_profile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "DEFAULT_PARAMS",
    "LOCAL",
    "MAIN",
    "MOTORWAY",
    "PARAMS_FILE",
    "REGIONAL",
    "Scenario",
    "SyntheticCountry",
    "SyntheticScenario",
    "default_scenario",
    "generate_country",
    "load_params",
]

#: The parameter file, shipped inside the package (``data/synthetic_country.toml`` at the
#: repository root links to it), so an installed hexaccess has it too.
PARAMS_FILE = Path(__file__).resolve().parents[1] / "data" / "synthetic_country.toml"

#: Written into the population's load report and the road network's metadata.
SOURCE_LABEL = "SYNTHETIC (hexaccess.country)"


def _read_params(path: str | Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        return tomllib.load(f)


#: The default parameters (the contents of :data:`PARAMS_FILE`).
DEFAULT_PARAMS: dict[str, Any] = _read_params(PARAMS_FILE)

#: NLS 1:1 M road classes (IGDS_LEVEL) used for the synthetic hierarchy.
MOTORWAY, MAIN, REGIONAL, LOCAL = 26, 23, 22, 21

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def load_params(path: str | Path | None = None, **overrides: Any) -> dict[str, Any]:
    """Parameters from ``path`` (default: the packaged :data:`PARAMS_FILE`), with
    top-level ``overrides`` (e.g. ``people=1e6``); an unknown key raises
    :class:`~hexaccess.errors.UnknownNameError`."""
    params = _read_params(path) if path is not None else copy.deepcopy(DEFAULT_PARAMS)
    for key, value in overrides.items():
        if value is None:
            continue
        if key not in params:
            raise UnknownNameError(f"unknown country parameter {key!r}; known: {sorted(params)}")
        params[key] = value
    return params


@dataclass(frozen=True)
class SyntheticCountry:
    """A generated country (see the module docstring). ``crs`` is the projected CRS of
    the road network (a Lambert azimuthal equal-area projection centred on the country);
    ``towns`` and ``municipalities`` are tables in that CRS and in lon/lat."""

    population: PopulationGrid
    roads: RoadNetwork
    offices: Offices
    water: list[Any]
    towns: pd.DataFrame
    municipalities: pd.DataFrame
    crs: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def people(self) -> int:
        """Number of people in the country (the population's ``total``)."""
        return self.population.total("total")


class SyntheticScenario(NamedTuple):
    """The national default scenario: inputs for ``accessibility.build_access_graph``
    (``roads, population, offices``) and ``hexgrid.build_hex_access`` (plus ``water``)."""

    roads: RoadNetwork
    population: PopulationGrid
    offices: Offices
    water: list[Any]
    country: SyntheticCountry


#: The old name of :class:`SyntheticScenario` (it clashed with ``scenario.Scenario``).
Scenario = SyntheticScenario


# ---------------------------------------------------------------------- geometry
def _lakes(
    rng: np.random.Generator, width: float, height: float, params: dict[str, Any], scale: float
) -> tuple[list[Any], list[Any]]:
    """Elliptic lakes (projected metres) covering about ``lake_share`` of the area, and
    islands inside some of the larger ones."""
    import shapely
    from shapely import affinity

    w = params["water"]
    n = max(round(float(w["lakes"]) * scale), 3)
    # Log-normal sizes, rescaled so the summed area hits the target share.
    size = rng.lognormal(0.0, 0.9, n)
    target = w["lake_share"] * width * height
    a = np.sqrt(size / size.sum() * target / np.pi)  # equivalent radius
    ratio = rng.uniform(1.2, 3.0, n)  # elongated, like glacial lakes
    cx = rng.uniform(0.03, 0.97, n) * width
    cy = rng.uniform(0.03, 0.97, n) * height
    angle = rng.uniform(0, 180, n)
    has_island = (a > np.quantile(a, 0.7)) & (rng.random(n) < w["island_share"] / 0.3)
    unit = shapely.Point(0, 0).buffer(1.0, quad_segs=12)
    lakes, islands = [], []
    for i in range(n):
        rx, ry = a[i] * np.sqrt(ratio[i]), a[i] / np.sqrt(ratio[i])
        e = affinity.translate(
            affinity.rotate(affinity.scale(unit, rx, ry), angle[i]), cx[i], cy[i]
        )
        if has_island[i]:
            isl = affinity.translate(
                affinity.rotate(affinity.scale(unit, 0.3 * rx, 0.3 * ry), angle[i]), cx[i], cy[i]
            )
            islands.append(isl)
            e = e.difference(isl)
        lakes.append(e)
    return lakes, islands


def _in(geom: Any, x: F64, y: F64) -> npt.NDArray[np.bool_]:
    import shapely

    if geom is None or geom.is_empty:
        return np.zeros(x.shape, dtype=bool)
    return shapely.contains_xy(geom, x, y)


def _mst_edges(x: F64, y: F64) -> npt.NDArray[np.int64]:
    """Euclidean minimum spanning tree of points, as ``(k, 2)`` index pairs."""
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial import Delaunay

    n = x.size
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    if n < 4:
        pairs = np.array([(i, j) for i in range(n) for j in range(i + 1, n)], dtype=np.int64)
    else:
        tri = Delaunay(np.column_stack([x, y]))
        s = tri.simplices
        pairs = np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
        pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    from scipy.sparse import coo_matrix

    d = np.hypot(x[pairs[:, 0]] - x[pairs[:, 1]], y[pairs[:, 0]] - y[pairs[:, 1]]) + 1e-9
    mst = minimum_spanning_tree(coo_matrix((d, (pairs[:, 0], pairs[:, 1])), shape=(n, n)))
    m = mst.tocoo()
    return np.column_stack([m.row, m.col]).astype(np.int64)


class _RoadBuilder:
    """Collects road lines split into pieces of at most ``segment`` metres."""

    def __init__(self, segment: float) -> None:
        self.segment = segment
        self.x: list[F64] = []
        self.y: list[F64] = []
        self.n = 0
        self.edges: list[npt.NDArray[np.int64]] = []
        self.cls: list[npt.NDArray[np.int64]] = []

    def add_nodes(self, x: F64, y: F64) -> npt.NDArray[np.int64]:
        ids = np.arange(self.n, self.n + x.size, dtype=np.int64)
        self.x.append(np.asarray(x, float))
        self.y.append(np.asarray(y, float))
        self.n += x.size
        return ids

    def add_lines(self, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], cls: int) -> None:
        """Straight roads from node ``a[i]`` to ``b[i]``, split with new shape nodes."""
        if a.size == 0:
            return
        x = np.concatenate(self.x)
        y = np.concatenate(self.y)
        length = np.hypot(x[b] - x[a], y[b] - y[a])
        k = np.maximum(np.ceil(length / self.segment).astype(np.int64), 1)
        # Interior points j/k, j = 1..k-1 of each line, vectorised.
        inner = k - 1
        line = np.repeat(np.arange(a.size), inner)
        j = np.arange(line.size) - np.repeat(np.cumsum(inner) - inner, inner) + 1
        t = j / k[line]
        mid = self.add_nodes(
            x[a[line]] + t * (x[b[line]] - x[a[line]]), y[a[line]] + t * (y[b[line]] - y[a[line]])
        )
        # Node sequence of each line: a, interior..., b.
        start = np.cumsum(k + 1) - (k + 1)
        seq = np.empty(int((k + 1).sum()), dtype=np.int64)
        seq[start] = a
        seq[start + k] = b
        interior = np.ones(seq.size, dtype=bool)
        interior[start] = False
        interior[start + k] = False
        seq[interior] = mid
        last = np.zeros(seq.size, dtype=bool)
        last[start + k] = True
        tails = seq[:-1][~last[:-1]]
        heads = seq[1:][~last[:-1]]
        self.edges.append(np.column_stack([tails, heads]))
        self.cls.append(np.full(tails.size, cls, dtype=np.int64))


# ---------------------------------------------------------------------- generator
def _whole_number(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int, or an :class:`~hexaccess.errors.InputError` (a ValueError)
    naming ``name``: NaN, inf, fractions, bools, non-numbers and values outside
    ``low..high`` are refused (integral floats such as ``1e6`` are fine)."""
    span = f"in {low:,}..{high:,}" if high is not None else f">= {low:,}"
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} must be a whole number {span}, got {value!r}")
    if isinstance(value, (int, np.integer)):
        v = int(value)
    elif isinstance(value, (float, np.floating)):
        if not (np.isfinite(value) and float(value).is_integer()):
            raise InputError(f"{name} must be a whole number {span}, got {float(value)!r}")
        v = int(value)
    elif isinstance(value, str):
        try:
            v = int(value)
        except ValueError:
            raise InputError(f"{name} must be a whole number {span}, got {value!r}") from None
    else:
        raise InputError(f"{name} must be a whole number {span}, got {value!r}")
    if v < low or (high is not None and v > high):
        raise InputError(f"{name} must be {span}, got {v:,}")
    return v


@dataclass(frozen=True)
class _Extent:
    """The country's rectangle in its projected CRS (metres, centred on the projection
    centre, so it spans ``x0..-x0``, ``y0..-y0``) and the transformers to and from lon/lat.
    ``size`` is people relative to the default country, ``scale`` the area factor."""

    size: float
    scale: float
    area: float
    width: float
    height: float
    x0: float
    y0: float
    crs: str
    to_ll: Any
    from_ll: Any


@dataclass(frozen=True)
class _Water:
    """Lakes and their islands (projected metres relative to the extent's corner)."""

    lakes: list[Any]
    islands: list[Any]
    union: Any
    x0: float
    y0: float

    def on_land(self, x: F64, y: F64) -> npt.NDArray[np.bool_]:
        """Whether points (projected metres) lie outside every lake."""
        return ~_in(self.union, x - self.x0, y - self.y0)


@dataclass(frozen=True)
class _Towns:
    """Town centres (projected metres) and sizes, largest first; town 0 is the capital."""

    x: F64
    y: F64
    people: F64

    @property
    def count(self) -> int:
        return int(self.x.size)


@dataclass(frozen=True)
class _PeoplePoints:
    """Sample points of people: position, weight and whether they are rural."""

    x: F64
    y: F64
    weight: F64
    rural: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class _CellPeople:
    """People per populated H3 cell: all and aged 65+."""

    cells: npt.NDArray[np.uint64]
    total: I64
    older: I64


def _checked_inputs(
    people: Any, seed: Any, resolution: Any, p: dict[str, Any]
) -> tuple[int, int, int]:
    """``(people, seed, resolution)`` from the arguments or, where ``None``, ``p``."""
    n_people = _whole_number(
        "people" if people is not None else "params['people']",
        p["people"] if people is None else people,
        1_000,
        200_000_000,
    )
    seed = _whole_number(
        "seed" if seed is not None else "params['seed']", p["seed"] if seed is None else seed, 0
    )
    res = _whole_number(
        "resolution" if resolution is not None else "params['resolution']",
        p["resolution"] if resolution is None else resolution,
        0,
        15,
    )
    return n_people, seed, res


def _extent(p: dict[str, Any], n_people: int) -> _Extent:
    """The country's size and projection: area grows as ``size^area_exponent``."""
    from pyproj import Transformer

    size = n_people / float(p["people"])
    scale = size ** float(p["area_exponent"])  # area factor
    area = float(p["area_km2"]) * 1e6 * scale
    width = np.sqrt(area / float(p["aspect"]))
    height = area / width
    crs = (
        f"+proj=laea +lat_0={p['centre_lat']} +lon_0={p['centre_lon']} +x_0=0 +y_0=0 "
        "+datum=WGS84 +units=m +no_defs"
    )
    return _Extent(
        size=size,
        scale=scale,
        area=area,
        width=width,
        height=height,
        x0=-width / 2,  # the projection centre is the country's centre
        y0=-height / 2,
        crs=crs,
        to_ll=Transformer.from_crs(crs, "EPSG:4326", always_xy=True),
        from_ll=Transformer.from_crs("EPSG:4326", crs, always_xy=True),
    )


def _make_water(rng: np.random.Generator, ext: _Extent, p: dict[str, Any]) -> _Water:
    import shapely

    lakes, islands = _lakes(rng, ext.width, ext.height, p, ext.scale)
    union = shapely.union_all(lakes) if lakes else shapely.Polygon()
    shapely.prepare(union)
    return _Water(lakes, islands, union, ext.x0, ext.y0)


def _place_towns(
    rng: np.random.Generator, ext: _Extent, water: _Water, tp: dict[str, Any], n_people: int
) -> _Towns:
    """Zipf-sized towns on land, dense in the south (Beta-distributed northness); the
    capital (town 0) sits near the middle of the south coast."""
    n_towns = max(round(float(tp["count"]) * float(np.sqrt(ext.size))), 5)
    rank = np.arange(1, n_towns + 1)
    share = rank ** -float(tp["zipf_exponent"])
    town_people = share / share.sum() * n_people * float(tp["urban_share"])
    tx = np.empty(n_towns)
    ty = np.empty(n_towns)
    todo = np.arange(n_towns)
    a_beta, b_beta = tp["south_beta"]
    width, height, x0, y0 = ext.width, ext.height, ext.x0, ext.y0
    for _ in range(50):  # rejection: towns on land
        cx = rng.uniform(0.04, 0.96, todo.size) * width + x0
        cy = rng.beta(a_beta, b_beta, todo.size) * 0.96 * height + 0.02 * height + y0
        ok = water.on_land(cx, cy)
        tx[todo[ok]], ty[todo[ok]] = cx[ok], cy[ok]
        todo = todo[~ok]
        if todo.size == 0:
            break
    if todo.size:  # pragma: no cover - only with absurd lake shares
        raise InputError("could not place towns on land; lower water.lake_share")
    order = np.argsort(np.hypot(tx - 0.0, ty - (y0 + 0.06 * height)))
    cap = int(order[0])
    tx[[0, cap]], ty[[0, cap]] = tx[[cap, 0]], ty[[cap, 0]]
    return _Towns(tx, ty, town_people)


def _people_points(
    rng: np.random.Generator,
    ext: _Extent,
    water: _Water,
    towns: _Towns,
    p: dict[str, Any],
    n_people: int,
) -> _PeoplePoints:
    """Weighted sample points: Gaussian blobs around towns plus a countryside whose
    density decays northwards; points outside the country or in lakes are dropped."""
    tp = p["towns"]
    width, height, x0, y0 = ext.width, ext.height, ext.x0, ext.y0
    town_people = towns.people
    n_points = int(min(max(n_people // int(p["people_per_point"]), 10_000), p["max_points"]))
    urban_points = np.maximum(
        np.round(town_people / town_people.sum() * n_points * tp["urban_share"]).astype(int), 1
    )
    spread = (
        float(tp["spread_km_at_10k"])
        * 1000
        * (town_people / 10_000) ** float(tp["spread_exponent"])
    )
    town_of = np.repeat(np.arange(towns.count), urban_points)
    ux = towns.x[town_of] + rng.normal(0, 1, town_of.size) * spread[town_of]
    uy = towns.y[town_of] + rng.normal(0, 1, town_of.size) * spread[town_of]
    uw = (town_people / urban_points)[town_of]
    n_rural = max(n_points - town_of.size, 1000)
    decay = float(p["rural"]["north_decay"])
    # Truncated exponential northness by inverse CDF: density ∝ exp(-decay · northness).
    u = rng.random(n_rural)
    north = -np.log1p(-u * (1 - np.exp(-decay))) / decay
    rx = rng.uniform(0, 1, n_rural) * width + x0
    ry = north * height + y0
    rw = np.full(n_rural, n_people * (1 - float(tp["urban_share"])) / n_rural)
    px = np.concatenate([ux, rx])
    py = np.concatenate([uy, ry])
    pw = np.concatenate([uw, rw])
    rural = np.concatenate([np.zeros(ux.size, bool), np.ones(rx.size, bool)])
    inside = (px > x0) & (px < -x0) & (py > y0) & (py < -y0)
    keep = inside & water.on_land(px, py)
    return _PeoplePoints(px[keep], py[keep], pw[keep], rural[keep])


def _people_per_cell(
    rng: np.random.Generator,
    ext: _Extent,
    points: _PeoplePoints,
    age: dict[str, Any],
    n_people: int,
    res: int,
) -> _CellPeople:
    """An exact multinomial split of ``n_people`` over the points, the 65+ share higher
    in the countryside and the north, summed per H3 cell (empty cells dropped)."""
    px, py = points.x, points.y
    counts = rng.multinomial(n_people, points.weight / points.weight.sum())
    lon, lat = ext.to_ll.transform(px, py)
    cells = latlng_to_cells(np.asarray(lat), np.asarray(lon), res)
    northness = (py - ext.y0) / ext.height
    p65 = np.clip(
        age["base_65_share"] + age["rural_extra"] * points.rural + age["north_extra"] * northness,
        0,
        1,
    )
    old = rng.binomial(counts, p65)
    uniq, inv = np.unique(cells, return_inverse=True)
    total = np.bincount(inv, weights=counts, minlength=uniq.size).astype(np.int64)
    older = np.bincount(inv, weights=old, minlength=uniq.size).astype(np.int64)
    populated = total > 0
    return _CellPeople(uniq[populated], total[populated], older[populated])


def _municipal_seats(
    rng: np.random.Generator, ext: _Extent, water: _Water, towns: _Towns, n_muni: int
) -> tuple[F64, F64]:
    """One seat per municipality: the largest towns, then random points on land."""
    seats_x = list(towns.x[: min(n_muni, towns.count)])
    seats_y = list(towns.y[: min(n_muni, towns.count)])
    while len(seats_x) < n_muni:
        cx = rng.uniform(0, 1, n_muni) * ext.width + ext.x0
        cy = rng.uniform(0, 1, n_muni) * ext.height + ext.y0
        ok = water.on_land(cx, cy)
        seats_x.extend(cx[ok][: n_muni - len(seats_x)])
        seats_y.extend(cy[ok][: n_muni - len(seats_y)])
    return np.array(seats_x), np.array(seats_y)


def _municipalities(
    ext: _Extent, sx: F64, sy: F64, people: _CellPeople
) -> tuple[npt.NDArray[np.object_], pd.DataFrame]:
    """Each cell's municipality (nearest seat) and the municipalities table."""
    from scipy.spatial import cKDTree

    n_muni = sx.size
    codes = np.array([f"{i + 1:03d}" for i in range(n_muni)], dtype=object)
    clat, clon = cell_centers(people.cells)
    cx_, cy_ = ext.from_ll.transform(clon, clat)
    _, seat = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([cx_, cy_]))
    slon, slat = ext.to_ll.transform(sx, sy)
    muni_pop = pd.Series(people.total).groupby(codes[seat]).sum()
    table = pd.DataFrame(
        {
            "municipality": codes,
            "name": [f"Synthetic municipality {c}" for c in codes],
            "x": sx,
            "y": sy,
            "lon": slon,
            "lat": slat,
            "population": muni_pop.reindex(codes).fillna(0).astype(np.int64).to_numpy(),
        }
    )
    return codes[seat], table


def _population_grid(
    people: _CellPeople, municipality: npt.NDArray[np.object_], res: int, seed: int, points: int
) -> PopulationGrid:
    frame = pd.DataFrame(
        {"total": people.total, "age_65_plus": people.older, "municipality": municipality},
        index=pd.Index(people.cells, dtype=np.uint64, name="cell"),
    )
    return PopulationGrid(
        frame, res, load_report={"source": SOURCE_LABEL, "seed": seed, "points": points}
    )


def _trunk_roads(rb: _RoadBuilder, town_node: I64, towns: _Towns, rp: dict[str, Any]) -> None:
    """Motorways join the largest towns (a minimum spanning tree), main roads the next
    tier, every smaller town gets a regional road to its nearest larger town."""
    tx, ty, n_towns = towns.x, towns.y, towns.count
    n_mw = min(int(rp["motorway_towns"]), n_towns)
    n_main = min(int(rp["main_towns"]), n_towns)
    mw = _mst_edges(tx[:n_mw], ty[:n_mw])
    rb.add_lines(town_node[mw[:, 0]], town_node[mw[:, 1]], MOTORWAY)
    main = _mst_edges(tx[:n_main], ty[:n_main])
    main = main[~((main[:, 0] < n_mw) & (main[:, 1] < n_mw))]  # motorway already there
    rb.add_lines(town_node[main[:, 0]], town_node[main[:, 1]], MAIN)
    if n_towns > n_main:
        small = np.arange(n_main, n_towns)
        target = np.empty(small.size, dtype=np.int64)
        for i, t in enumerate(small):
            d = np.hypot(tx[:t] - tx[t], ty[:t] - ty[t])
            target[i] = int(np.argmin(d))
        rb.add_lines(town_node[small], town_node[target], REGIONAL)


def _local_roads(
    rng: np.random.Generator,
    rb: _RoadBuilder,
    ext: _Extent,
    water: _Water,
    town_node: I64,
    towns: _Towns,
    spacing_km: float,
) -> None:
    """A jittered local grid, links dropped where they touch water (islands keep their
    own grid pieces: roads with no bridge to the mainland); each town joins it at its
    nearest grid node on its side of any lake."""
    from scipy.spatial import cKDTree

    width, height, x0, y0 = ext.width, ext.height, ext.x0, ext.y0
    s = float(spacing_km) * 1000
    gw, gh = max(int(width // s), 2), max(int(height // s), 2)
    gi, gj = np.meshgrid(np.arange(gw), np.arange(gh))
    gx = x0 + (gi.ravel() + 0.5) * (width / gw) + rng.uniform(-0.25, 0.25, gi.size) * s
    gy = y0 + (gj.ravel() + 0.5) * (height / gh) + rng.uniform(-0.25, 0.25, gi.size) * s
    land = water.on_land(gx, gy)
    gnode = np.full(gx.size, -1, dtype=np.int64)
    gnode[land] = rb.add_nodes(gx[land], gy[land])
    ids = np.arange(gx.size).reshape(gh, gw)
    pairs = np.concatenate(
        [
            np.column_stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()]),
            np.column_stack([ids[:-1, :].ravel(), ids[1:, :].ravel()]),
        ]
    )
    pairs = pairs[land[pairs[:, 0]] & land[pairs[:, 1]]]
    # A link survives only if its quarter points are on land too.
    ok = np.ones(len(pairs), dtype=bool)
    for f in (0.25, 0.5, 0.75):
        mx = gx[pairs[:, 0]] + f * (gx[pairs[:, 1]] - gx[pairs[:, 0]])
        my = gy[pairs[:, 0]] + f * (gy[pairs[:, 1]] - gy[pairs[:, 0]])
        ok &= water.on_land(mx, my)
    pairs = pairs[ok]
    rb.add_lines(gnode[pairs[:, 0]], gnode[pairs[:, 1]], LOCAL)
    gl = np.flatnonzero(land)
    tx, ty = towns.x, towns.y
    _, near = cKDTree(np.column_stack([gx[gl], gy[gl]])).query(np.column_stack([tx, ty]))
    gn = gl[near]
    mx, my = (tx + gx[gn]) / 2, (ty + gy[gn]) / 2
    link = water.on_land(mx, my)
    rb.add_lines(town_node[link], gnode[gn[link]], LOCAL)


def _road_network(
    rb: _RoadBuilder, crs: str, profile: SpeedProfile | str | None, seed: int
) -> RoadNetwork:
    """The collected roads as a :class:`RoadNetwork` timed by ``profile``'s class speeds."""
    nx, ny = np.concatenate(rb.x), np.concatenate(rb.y)
    edges = np.concatenate(rb.edges)
    cls = np.concatenate(rb.cls)
    tail, head = edges[:, 0], edges[:, 1]
    length = np.hypot(nx[head] - nx[tail], ny[head] - ny[tail])
    prof = load_profile(profile if profile is not None else "car_fi")
    speed = np.array([prof.speed_kmh("IGDS_LEVEL", c) for c in (21, 22, 23, 26)])
    speed_of = dict(zip((21, 22, 23, 26), speed, strict=True))
    v = np.vectorize(speed_of.__getitem__, otypes=[float])(cls)
    return RoadNetwork(
        x=nx,
        y=ny,
        crs=crs,
        tail=tail,
        head=head,
        length_m=length,
        time_s=length / (v / 3.6),
        road_class=cls,
        oneway=np.zeros(cls.size, bool),
        ferry=np.zeros(cls.size, bool),
        mid_x=(nx[tail] + nx[head]) / 2,
        mid_y=(ny[tail] + ny[head]) / 2,
        source_row=np.arange(cls.size, dtype=np.int64),
        class_column="IGDS_LEVEL",
        profile=prof,
        meta={"source": SOURCE_LABEL, "seed": seed},
    )


def _build_roads(
    rng: np.random.Generator,
    ext: _Extent,
    water: _Water,
    towns: _Towns,
    rp: dict[str, Any],
    profile: SpeedProfile | str | None,
    seed: int,
) -> RoadNetwork:
    """The road hierarchy (trunk roads between towns, then the local grid)."""
    rb = _RoadBuilder(float(rp["segment_km"]) * 1000)
    town_node = rb.add_nodes(towns.x, towns.y)
    _trunk_roads(rb, town_node, towns, rp)
    _local_roads(rng, rb, ext, water, town_node, towns, rp["local_spacing_km"])
    return _road_network(rb, ext.crs, profile, seed)


def _seat_offices(municipalities: pd.DataFrame, fixed_count: int) -> Offices:
    """One candidate office per municipality seat; the ``fixed_count`` most populous
    municipalities' offices are ``fixed`` (regional centres)."""
    n_muni = len(municipalities)
    codes = municipalities["municipality"].to_numpy()
    order = np.argsort(-municipalities["population"].to_numpy(), kind="stable")
    fixed = np.zeros(n_muni, dtype=bool)
    fixed[order[:fixed_count]] = True
    return Offices(
        pd.DataFrame(
            {
                "name": [f"Office {c}" for c in codes],
                "lon": municipalities["lon"].to_numpy(),
                "lat": municipalities["lat"].to_numpy(),
                "fixed": fixed,
                "municipality": codes,
                "seat_population": municipalities["population"].to_numpy(),
            }
        )
    )


def _water_lonlat(ext: _Extent, water: _Water) -> list[Any]:
    """The lakes as lon/lat polygons (for the hexagon graph's mask)."""
    import shapely

    def to_lonlat(g: Any) -> Any:
        return shapely.transform(
            shapely.affinity.translate(g, ext.x0, ext.y0),
            lambda xy: np.column_stack(ext.to_ll.transform(xy[:, 0], xy[:, 1])),
        )

    return [to_lonlat(g) for g in water.lakes]


def _towns_table(ext: _Extent, towns: _Towns) -> pd.DataFrame:
    town_lon, town_lat = ext.to_ll.transform(towns.x, towns.y)
    return pd.DataFrame(
        {"x": towns.x, "y": towns.y, "people": towns.people, "lon": town_lon, "lat": town_lat}
    )


def generate_country(
    people: int | None = None,
    *,
    seed: int | None = None,
    params: dict[str, Any] | str | Path | None = None,
    profile: SpeedProfile | str | None = "car_fi",
    resolution: int | None = None,
) -> SyntheticCountry:
    """Generate a synthetic country (see the module docstring).

    ``people`` (default 5.4 M) is a whole number from 1,000 to 200 M (sizes from 100,000
    to 50 M are the tested range); the area grows as ``(people / default)^area_exponent``
    and towns, lakes and municipalities with it. ``seed`` is a whole number >= 0.
    ``params`` is a parameter dict (not modified) or TOML path (default
    ``data/synthetic_country.toml``). ``resolution`` (default ``params['resolution']``)
    is the H3 resolution of the population cells.
    """
    # load_params returns a fresh dict; a caller's dict is copied, never modified.
    p = copy.deepcopy(params) if isinstance(params, dict) else load_params(params)
    n_people, seed, res = _checked_inputs(people, seed, resolution, p)
    # One generator drives every step, in this order: same seed, same country.
    rng = np.random.default_rng(seed)
    ext = _extent(p, n_people)
    water = _make_water(rng, ext, p)
    towns = _place_towns(rng, ext, water, p["towns"], n_people)
    points = _people_points(rng, ext, water, towns, p, n_people)
    cell_people = _people_per_cell(rng, ext, points, p["age"], n_people, res)
    n_muni = max(round(float(p["municipalities"]["count"]) * float(np.sqrt(ext.size))), 3)
    sx, sy = _municipal_seats(rng, ext, water, towns, n_muni)
    cell_muni, municipalities = _municipalities(ext, sx, sy, cell_people)
    population = _population_grid(cell_people, cell_muni, res, seed, int(points.x.size))
    roads = _build_roads(rng, ext, water, towns, p["roads"], profile, seed)
    offices = _seat_offices(municipalities, int(p["offices"]["fixed"]))
    p["_generated"] = {
        "people": n_people,
        "seed": seed,
        "area_km2": ext.area / 1e6,
        "towns": towns.count,
        "lakes": len(water.lakes),
        "islands": len(water.islands),
        "municipalities": n_muni,
    }
    return SyntheticCountry(
        population,
        roads,
        offices,
        _water_lonlat(ext, water),
        _towns_table(ext, towns),
        municipalities,
        ext.crs,
        p,
    )


def default_scenario(
    people: int | None = None, *, seed: int | None = None, offices: int | None = None
) -> SyntheticScenario:
    """The national default scenario for ``hexaccess run`` without inputs: the default
    synthetic country and its ``fixed`` regional-centre offices plus the next largest
    municipality seats, ``offices`` in all (default 18 + 32 = 50; no optimiser is
    involved, this is a plausible network, not an optimal one)."""
    c = generate_country(people, seed=seed)
    total = int(c.params["offices"]["total"] if offices is None else offices)
    frame = c.offices.frame
    order = np.lexsort((-frame["seat_population"].to_numpy(), ~frame["fixed"].to_numpy()))
    chosen = np.zeros(len(frame), dtype=bool)
    chosen[order[:total]] = True
    return SyntheticScenario(c.roads, c.population, c.offices.subset(chosen), c.water, c)
