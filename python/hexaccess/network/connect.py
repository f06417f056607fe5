"""Attaching points (cell centres, offices) to the road network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.errors import RoadDataError
from hexaccess.network.model import RoadNetwork
from hexaccess.profiles import SpeedProfile, load_profile

__all__ = ["connect_points"]


def connect_points(
    network: RoadNetwork,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    profile: SpeedProfile | str | Path | None = None,
    *,
    node_mask: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """Attach points (cell centres, offices) to their nearest network node.

    ``x, y`` are in ``network.crs``. Returns one row per input point, in input order:
    ``node`` (nearest node id, restricted to ``node_mask`` when given, e.g. the main
    component), ``distance_m`` (straight line), ``access_length_m`` (times the detour factor),
    ``access_time_s`` (at the access speed) and ``connected`` (distance within the
    profile's ``max_access_distance_m``). Points beyond are kept with
    ``connected = False``; points with non-finite coordinates get node -1.
    """
    from scipy.spatial import cKDTree

    prof = network.profile if profile is None else load_profile(profile)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise RoadDataError(f"x and y must be 1-D arrays of equal length, got {x.shape}, {y.shape}")
    cand = np.arange(network.num_nodes)
    if node_mask is not None:
        mask = np.asarray(node_mask, dtype=bool)
        if mask.shape != (network.num_nodes,):
            raise RoadDataError(f"node_mask must have shape ({network.num_nodes},)")
        cand = np.flatnonzero(mask)
    if cand.size == 0:
        src = network.meta.get("source", "the road network")
        raise RoadDataError(
            f"{src}: no road node to join points to (the network has {network.num_nodes} "
            "nodes"
            + (", none allowed by node_mask" if node_mask is not None else "")
            + "); give roads with lines the profile's mode may use"
        )
    finite = np.isfinite(x) & np.isfinite(y)
    tree = cKDTree(np.column_stack([network.x[cand], network.y[cand]]))
    dist = np.full(x.shape, np.inf)
    node = np.full(x.shape, -1, dtype=np.int64)
    if finite.any():
        d, i = tree.query(np.column_stack([x[finite], y[finite]]))
        dist[finite] = d
        node[finite] = cand[i]
    length = dist * prof.access_detour_factor
    return pd.DataFrame(
        {
            "node": node,
            "distance_m": dist,
            "access_length_m": length,
            "access_time_s": length / (prof.access_speed_kmh / 3.6),
            "connected": finite & (dist <= prof.max_access_distance_m),
        }
    )
