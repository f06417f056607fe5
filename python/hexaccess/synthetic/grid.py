"""A synthetic road grid for the engine's tests and benchmarks.

``grid_network`` makes a road-like graph of any size: a perturbed planar grid of local
roads with a faster hierarchy (regional roads, main roads, motorways) on regular rows and
columns, a few missing links, and node ids in row-major order. Same seed, same graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hexaccess.errors import InputError

#: Speeds (km/h) of the grid's road hierarchy, slowest first.
GRID_SPEEDS_KMH = {"local": 40.0, "regional": 70.0, "main": 90.0, "motorway": 110.0}


@dataclass(frozen=True)
class GridNetwork:
    """Edge arrays (one row per undirected road segment) plus node coordinates (m)."""

    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    tail: npt.NDArray[np.int64]
    head: npt.NDArray[np.int64]
    time_s: npt.NDArray[np.float64]
    length_m: npt.NDArray[np.float64]
    width: int
    height: int

    @property
    def num_nodes(self) -> int:
        """Number of nodes (``width * height``; node ``i`` is row ``i // width``)."""
        return self.width * self.height


def grid_network(
    width: int,
    height: int,
    *,
    spacing_m: float = 500.0,
    seed: int = 0,
    missing_share: float = 0.05,
) -> GridNetwork:
    """A ``width × height`` road grid (about ``2·width·height`` segments).

    Every 8th row/column is a regional road, every 40th a main road and every 160th a
    motorway; node positions are jittered by up to 30 % of the spacing, segment times get
    a random 0–30 % slowdown, and ``missing_share`` of local segments are removed (which
    can leave small disconnected parts, as real networks have).
    """
    if width < 1 or height < 1:
        raise InputError(f"grid must be at least 1×1, got {width}×{height}")
    rng = np.random.default_rng(seed)
    n = width * height
    col, row = np.meshgrid(np.arange(width), np.arange(height))
    col, row = col.ravel(), row.ravel()
    x = col * spacing_m + rng.uniform(-0.3, 0.3, n) * spacing_m
    y = row * spacing_m + rng.uniform(-0.3, 0.3, n) * spacing_m
    ids = np.arange(n, dtype=np.int64).reshape(height, width)

    def level(index: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        speed = np.full(index.shape, GRID_SPEEDS_KMH["local"])
        speed[index % 8 == 0] = GRID_SPEEDS_KMH["regional"]
        speed[index % 40 == 0] = GRID_SPEEDS_KMH["main"]
        speed[index % 160 == 0] = GRID_SPEEDS_KMH["motorway"]
        return speed

    # Horizontal segments run along a row: their class is the row's; vertical ones the
    # column's.
    h_tail, h_head = ids[:, :-1].ravel(), ids[:, 1:].ravel()
    h_speed = level(np.repeat(np.arange(height), width - 1))
    v_tail, v_head = ids[:-1, :].ravel(), ids[1:, :].ravel()
    v_speed = level(np.tile(np.arange(width), height - 1))
    tail = np.concatenate([h_tail, v_tail])
    head = np.concatenate([h_head, v_head])
    speed = np.concatenate([h_speed, v_speed])
    keep = (speed > GRID_SPEEDS_KMH["local"]) | (rng.random(tail.size) >= missing_share)
    tail, head, speed = tail[keep], head[keep], speed[keep]
    length = np.hypot(x[tail] - x[head], y[tail] - y[head])
    time = length / (speed / 3.6) * rng.uniform(1.0, 1.3, tail.size)
    return GridNetwork(x, y, tail, head, time, length, width, height)
