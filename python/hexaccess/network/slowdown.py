"""Urban slowdown: slower edges where many people live (by density or by polygons)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess.errors import RoadDataError
from hexaccess.network.model import F64, RoadNetwork

__all__ = ["apply_urban_slowdown", "apply_urban_slowdown_polygons"]


def _apply_factor(network: RoadNetwork, factor: F64, how: str) -> RoadNetwork:
    """Divide the times of non-ferry edges by ``factor``; refuse a second slowdown."""
    if network.meta.get("urban_slowdown"):
        raise RoadDataError(
            f"urban slowdown already applied ({network.meta['urban_slowdown']}); "
            "apply it once, to the network as read"
        )
    factor = np.where(network.ferry, 1.0, factor)
    meta = dict(network.meta)
    meta["urban_slowdown"] = how
    meta["slowdown_factor"] = factor
    return network.replace(time_s=network.time_s / factor, meta=meta)


def apply_urban_slowdown(
    network: RoadNetwork, density_at: Callable[[F64, F64], npt.ArrayLike]
) -> RoadNetwork:
    """Slow edges down by the population density around their midpoints.

    ``density_at(x, y)`` gets arrays of edge-midpoint coordinates in ``network.crs`` and
    returns people/km² (NaN = unknown → no slowdown). Each non-ferry edge's speed is
    multiplied by the profile's factor for that density class, i.e. its time is divided
    by it. Returns a new network (``meta["slowdown_factor"]`` holds the factors); applying
    twice raises.
    """
    d = np.asarray(density_at(network.mid_x.copy(), network.mid_y.copy()), dtype=np.float64)
    if d.shape != (network.num_edges,):
        raise RoadDataError(
            f"density_at returned shape {d.shape}, expected ({network.num_edges},) "
            "(one density per edge midpoint)"
        )
    if (d < 0).any():
        i = int(np.flatnonzero(d < 0)[0])
        raise RoadDataError(f"density_at returned a negative density {d[i]} for edge {i}")
    factor = np.asarray(network.profile.slowdown_factor(d), dtype=np.float64)
    return _apply_factor(network, factor, "density")


def apply_urban_slowdown_polygons(
    network: RoadNetwork, polygons: Sequence[Any] | np.ndarray, factor: float
) -> RoadNetwork:
    """Multiply by ``factor`` (in (0, 1]) the speed of edges whose midpoint lies in any
    of ``polygons`` (shapely geometries in ``network.crs``; STRtree look-up). Ferries are
    not slowed. Returns a new network; applying a slowdown twice raises.
    """
    import shapely

    if not (np.isfinite(factor) and 0 < factor <= 1):
        raise RoadDataError(f"factor must be in (0, 1], got {factor}")
    polys = np.asarray(polygons, dtype=object)
    tree = shapely.STRtree(polys)
    pts = shapely.points(network.mid_x, network.mid_y)
    hit = np.zeros(network.num_edges, dtype=bool)
    pairs = tree.query(pts, predicate="intersects")
    hit[pairs[0]] = True
    f = np.where(hit, float(factor), 1.0)
    return _apply_factor(network, f, f"polygons (factor {factor})")
