"""Public transport: GTFS timetables, the transit profile and (when present) routing.

- :mod:`hexaccess.transit.timetable`: :class:`Timetable`, one service day as numpy
  arrays (the contract with the router) and its rules;
- :mod:`hexaccess.transit.gtfs`: :func:`read_gtfs` (GTFS zips or folders for a date),
  :func:`far_stops`, :func:`walking_footpaths`;
- :mod:`hexaccess.transit.profile`: :class:`TransitProfile` and
  :func:`load_transit_profile` (the packaged ``profiles/transit.toml``);
- :mod:`hexaccess.transit.route`: the router, imported lazily (``hexaccess.transit.route``)
  so that reading a feed never needs it.
"""

from __future__ import annotations

import importlib
from typing import Any

from hexaccess.transit.gtfs import GtfsError, far_stops, read_gtfs, walking_footpaths
from hexaccess.transit.profile import (
    PACKAGED_TRANSIT_PROFILES,
    TransitProfile,
    load_transit_profile,
)
from hexaccess.transit.timetable import NO_TRANSFER_S, Timetable, build_timetable

__all__ = [
    "NO_TRANSFER_S",
    "PACKAGED_TRANSIT_PROFILES",
    "GtfsError",
    "Timetable",
    "TransitProfile",
    "build_timetable",
    "far_stops",
    "load_transit_profile",
    "read_gtfs",
    "walking_footpaths",
]


def __getattr__(name: str) -> Any:
    """``hexaccess.transit.route`` on first use (the router's module, if installed)."""
    if name == "route":
        return importlib.import_module("hexaccess.transit.route")
    raise AttributeError(f"module 'hexaccess.transit' has no attribute {name!r}")
