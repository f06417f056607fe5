"""Road networks: vector roads or OpenStreetMap → graph arrays for the engine.

A :class:`RoadNetwork` holds nodes (x, y in a metric CRS) and one row per road *edge*
(a piece of road between two graph nodes, shape points folded into its length unless
split), with a one-way flag. :meth:`RoadNetwork.to_edge_arrays` turns it into directed arcs
``(tail, head, time_s, length_m)`` for the engine.

Readers
-------
- :func:`read_roads`: Shapefile / GeoPackage / GeoParquet (anything GDAL reads) via
  ``pyogrio.raw.read`` + shapely 2 vectorised functions, or a ``geopandas.GeoDataFrame``.
  Graph nodes are line end points; end points closer than ``snap_m`` (grid rounding) are
  one node. Lines must be *noded* (meet at end points), as the NLS 1:1 M network is.
- :func:`read_osm_pbf`: OpenStreetMap PBF (the Rust reader; pyosmium for XML or as the
  fallback). Graph nodes are OSM nodes used by two or more ways (junctions) and way
  ends; intermediate nodes are folded into lengths (geodesic, WGS84).

Both split at shape points by default (``split_at_vertices=True``,
:data:`SPLIT_AT_VERTICES_DEFAULT`, as the CLI): every shape point is a node and every
segment an edge, so sparse networks (the NLS 1:1 M lines average ~5 km) offer a node
close to every point along the road and :func:`connect_points` attaches cells to the
road that passes them. Travel times between the unsplit nodes do not change;
``split_at_vertices=False`` gives the junction-only graph.

Nothing is dropped silently: rows the profile excludes for the mode (``[exclude]``) and,
for OSM, ways with unknown or forbidden tags are counted in ``RoadNetwork.meta``; unknown
classes in vector files are an error, and so is a layer that gives no edge at all (no
features, or every line excluded for the mode).

Files are checked before any reader opens them (``hexaccess._files``): a missing,
empty, unreadable or truncated file, or a directory, is an
:class:`~hexaccess.errors.InputFileError` naming it; the format is taken from the
content, so an OpenStreetMap PBF named ``.gpkg`` is read as OSM and a GeoPackage named
``.osm.pbf`` as a vector layer; a PBF cut short inside a block, corrupt data, or
content that is no road file is a :class:`~hexaccess.errors.RoadDataError` saying so.

Units: metres, seconds, km/h in profiles, people/km² for densities.

Modules: :mod:`~hexaccess.network.model` (the graph), :mod:`~hexaccess.network.vector`
and :mod:`~hexaccess.network.osm` (readers), :mod:`~hexaccess.network.connect`
(attaching points), :mod:`~hexaccess.network.slowdown` (urban slowdown),
:mod:`~hexaccess.network.stats` (diagnostics); ``_crs`` and ``_attributes`` hold the
readers' shared helpers.
"""

from __future__ import annotations

from hexaccess.errors import RoadDataError

# private names other modules use (study.hexagon): explicit re-exports
from hexaccess.network._attributes import _class_keys as _class_keys
from hexaccess.network._attributes import _class_speeds as _class_speeds
from hexaccess.network.connect import connect_points
from hexaccess.network.model import F64 as F64
from hexaccess.network.model import I64 as I64
from hexaccess.network.model import SPLIT_AT_VERTICES_DEFAULT, RoadNetwork
from hexaccess.network.osm import read_osm_pbf
from hexaccess.network.slowdown import apply_urban_slowdown, apply_urban_slowdown_polygons
from hexaccess.network.stats import diagnostics
from hexaccess.network.vector import read_roads

__all__ = [
    "SPLIT_AT_VERTICES_DEFAULT",
    "RoadDataError",
    "RoadNetwork",
    "apply_urban_slowdown",
    "apply_urban_slowdown_polygons",
    "connect_points",
    "diagnostics",
    "read_osm_pbf",
    "read_roads",
]
