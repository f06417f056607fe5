"""Deterministic synthetic inputs for demos, tests and benchmarks.

Two generators, one module each, both seeded (same parameters and seed, same arrays):

- :mod:`hexaccess.synthetic.grid`: :func:`grid_network`, a road-like graph of any size
  as plain edge arrays (:class:`GridNetwork`), for the engine's tests and benchmarks;
- :mod:`hexaccess.synthetic.country`: :func:`generate_country`, a whole national input
  set (population grid, road network, offices, lakes) returned as the same objects the
  real loaders return, and :func:`default_scenario`, the national default of
  ``hexaccess run`` without inputs. Its parameters ship in ``data/synthetic_country.toml``
  (:data:`PARAMS_FILE`).

``hexaccess.country`` is the old path of :mod:`hexaccess.synthetic.country` (kept for one
release).
"""

from __future__ import annotations

from hexaccess.synthetic.country import (
    DEFAULT_PARAMS,
    PARAMS_FILE,
    SyntheticCountry,
    SyntheticScenario,
    default_scenario,
    generate_country,
    load_params,
)
from hexaccess.synthetic.grid import GRID_SPEEDS_KMH, GridNetwork, grid_network
from hexaccess.synthetic.osm_pbf import SyntheticPbf, generate_osm_pbf

__all__ = [
    "DEFAULT_PARAMS",
    "GRID_SPEEDS_KMH",
    "PARAMS_FILE",
    "GridNetwork",
    "SyntheticCountry",
    "SyntheticPbf",
    "SyntheticScenario",
    "default_scenario",
    "generate_country",
    "generate_osm_pbf",
    "grid_network",
    "load_params",
]
