"""Coordinate reference systems of road data: parsing, the local UTM zone, lon/lat and
geodesic segment lengths (WGS84). pyproj is imported lazily: it is slow to import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hexaccess.errors import RoadDataError

if TYPE_CHECKING:  # model imports this module (node_lonlat)
    from hexaccess.network.model import F64


def _parse_crs(crs: Any, where: str) -> Any:
    """A ``pyproj.CRS`` from anything pyproj reads; ``where`` names the input in errors."""
    import pyproj

    if crs is None or crs == "":
        raise RoadDataError(
            f"{where}: unknown CRS (the file declares none, or declares it unknown); pass "
            "crs=..., e.g. crs='EPSG:3067' for Finnish TM35FIN data or crs='EPSG:4326' for "
            "lon/lat degrees"
        )
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as e:
        raise RoadDataError(f"{where}: cannot interpret CRS {str(crs)[:80]!r}: {e}") from e


def _is_metric_projected(crs: Any) -> bool:
    """Whether ``crs`` is projected with metre axes (usable as is)."""
    if not crs.is_projected:
        return False
    units = {a.unit_name.lower() for a in crs.axis_info}
    return units <= {"metre", "meter", "m"}


def _local_utm(lon: F64, lat: F64) -> Any:
    """UTM CRS (WGS84) of the zone containing the data's bounding-box centre."""
    import pyproj
    from pyproj.aoi import AreaOfInterest
    from pyproj.database import query_utm_crs_info

    aoi = AreaOfInterest(
        float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))
    )
    clon, clat = (
        (aoi.west_lon_degree + aoi.east_lon_degree) / 2,
        (aoi.south_lat_degree + aoi.north_lat_degree) / 2,
    )
    zone = int((clon + 180) // 6) % 60 + 1
    epsg = (32600 if clat >= 0 else 32700) + zone
    if -80 < clat < 84 and (clon + 180) % 6 != 0:
        # The zone's area of use (its 6-degree band, 0-84 N or 80 S-0) holds the centre,
        # which lies in the area of interest: the query below would list it. Skipped:
        # it costs 0.1 s, a tenth of reading a 1 M node extract.
        return pyproj.CRS.from_epsg(epsg)
    infos = query_utm_crs_info(datum_name="WGS 84", area_of_interest=aoi)
    codes = {int(i.code) for i in infos}
    return pyproj.CRS.from_epsg(epsg if not codes or epsg in codes else min(codes))


def _utm_zone(crs: Any) -> tuple[int, bool] | None:
    """``(zone, south)`` of a WGS84 UTM CRS (EPSG 326xx / 327xx), which the core projects
    itself (:func:`hexaccess._core.utm_forward`: PROJ's algorithm on all threads); None
    for any other CRS (project it with pyproj)."""
    epsg = crs.to_epsg()
    if epsg is not None and (32601 <= epsg <= 32660 or 32701 <= epsg <= 32760):
        return epsg % 100, epsg >= 32700
    return None


def _own_f64(v: Any) -> F64:
    """``v`` as a contiguous writeable float64 array (itself when it is one already): the
    core projects such arrays in place."""
    return np.require(v, dtype=np.float64, requirements=["C", "W"])


def _to_lonlat(x: F64, y: F64, crs: str) -> tuple[F64, F64]:
    """(lon, lat) in degrees (WGS84) of points ``x, y`` in ``crs``."""
    import pyproj

    tr = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _geodesic_segments(lon: F64, lat: F64) -> F64:
    """Geodesic (WGS84) lengths of the segments between consecutive points, metres."""
    import pyproj

    if lon.size < 2:
        return np.zeros(0)
    _, _, d = pyproj.Geod(ellps="WGS84").inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return np.asarray(d, dtype=np.float64)
