"""Reading OpenStreetMap (PBF/XML) into a :class:`~hexaccess.network.RoadNetwork`.

Two readers of the same rules, one result: the core's Rust reader (``engine="rust"``,
the default for PBF: two passes, blobs decoded in parallel, only the kept ways' nodes
located; memory proportional to the kept way nodes) and pyosmium (XML, and the
fallback). Named steps: the profile's OSM rules, the scan of the ways (keep, skip and
count), edges between graph nodes (junctions, way ends, ends of located runs; with
splitting every located node) with geodesic lengths (:class:`_OsmArrays`, what both
readers produce), then the projection to the local UTM zone and the attributes.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess._extras import require
from hexaccess._files import FORMAT_NAMES, check_input_file, sniff_format
from hexaccess.errors import InputFileError, RoadDataError
from hexaccess.network._attributes import _edge_times
from hexaccess.network._crs import _geodesic_segments, _local_utm
from hexaccess.network.model import F64, I64, SPLIT_AT_VERTICES_DEFAULT, RoadNetwork
from hexaccess.profiles import SpeedProfile, load_profile

__all__ = ["read_osm_pbf"]

_FORBIDDEN_ACCESS = {"no", "private"}


#: Readers of ``.osm.pbf`` files: the Rust two-pass reader of the core, pyosmium.
ENGINES = ("rust", "pyosmium")


def read_osm_pbf(
    path: str | Path,
    profile: SpeedProfile | str | Path,
    *,
    split_at_vertices: bool = SPLIT_AT_VERTICES_DEFAULT,
    engine: str | None = None,
) -> RoadNetwork:
    """Read OpenStreetMap ways usable by the profile's mode into a network.

    Ways are kept when their ``highway`` value has a speed in ``[speeds_kmh.highway]``
    (or ``route`` is a ferry per ``[ferry.detect]``) and the most specific access tag in
    ``[osm] access_tags`` is not ``no``/``private``. Graph nodes are OSM nodes shared by
    two or more kept ways, way ends, and the ends of runs of nodes missing from the
    extract (ways cut at the extract boundary keep their inside pieces). One-way: the
    first tag of ``[osm] oneway_tags`` present (yes/true/1, -1/reverse, no); without one,
    ``junction=roundabout|circular`` and ``highway=motorway`` are one-way for profiles that
    list ``oneway``. Node coordinates are projected to the local UTM zone; lengths are
    geodesic. Skipped ways are counted in ``meta`` (``excluded``, ``unknown_highway``,
    ``access_forbidden``, ``unknown_oneway``, ``ways_without_located_segment`` for ways
    whose nodes lie outside the extract, ``clipped_ways`` for ways with at least one node
    outside it: cut at its boundary); unknown ``highway`` values also warn.

    ``split_at_vertices=True`` (default, :data:`SPLIT_AT_VERTICES_DEFAULT`, as the CLI)
    makes every located OSM node of a kept way a graph node and every segment between
    consecutive nodes an edge (as in :func:`read_roads`); ``False`` keeps only the nodes
    above. Nodes are OSM nodes, so shared nodes are junctions as before and the split
    network is a subdivision of the unsplit one (same times between its nodes). Ferry
    boarding is paid on the first segment of each edge the unsplit reader would make,
    i.e. once per crossing; ``meta["shape_point"]`` flags nodes that exist only because
    of the split and ``meta["ferry_shape_point"]`` those inside ferry routes (mid-water:
    exclude them from :func:`connect_points` with ``node_mask``).

    ``engine``: ``"rust"`` (the core's two-pass reader: blobs decoded in parallel, memory
    proportional to the kept way nodes), ``"pyosmium"``, or None (default: Rust when the
    compiled extension has it, else pyosmium). Both give the same network; OSM XML is
    always read by pyosmium. ``meta["engine"]`` says which one read the file.
    """
    t0 = time.perf_counter()
    profile = load_profile(profile)
    osm_format = _check_osm_file(path)
    path = str(path)
    if osm_format is None:  # a vector layer by its content, whatever its name
        from hexaccess.network.vector import read_roads

        return read_roads(path, profile, split_at_vertices=split_at_vertices)
    engine = _choose_engine(engine, osm_format)
    rules = _osm_rules(profile, path)
    if engine == "rust":
        arrays, counts = _rust_scan(path, rules, profile, split_at_vertices)
    else:
        arrays, counts = _pyosmium_scan(path, rules, osm_format, profile, split_at_vertices)
    meta = counts | {"engine": engine, "read_s": time.perf_counter() - t0}
    net = _osm_network(arrays, rules, profile, split_at_vertices, meta)
    net.meta["load_s"] = time.perf_counter() - t0
    return net


def _rust_reader() -> Any:
    """The core's PBF reader, or None when the compiled extension lacks it."""
    try:
        from hexaccess import _core
    except ImportError:
        return None
    return getattr(_core, "_osm_read_pbf", None)


def _choose_engine(engine: str | None, osm_format: str) -> str:
    """The reader for this file: XML always pyosmium; None: Rust when compiled in."""
    if engine is not None and engine not in ENGINES:
        raise RoadDataError(
            f"unknown OSM reader engine={engine!r}; use one of {', '.join(ENGINES)} (or None "
            "for the default: the Rust reader when the compiled extension has it)"
        )
    if osm_format != "pbf":
        return "pyosmium"
    if engine is None:
        return "rust" if _rust_reader() is not None else "pyosmium"
    if engine == "rust" and _rust_reader() is None:
        raise RoadDataError(
            "engine='rust': the compiled hexaccess extension has no OSM reader (an old "
            "build?); rebuild it (pip install -e .) or pass engine='pyosmium'"
        )
    return engine


def _scan_counts(
    path: str, profile: SpeedProfile, n_ways: int, skipped: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """The ``meta`` counters of a scan: unknown ``highway`` values warn; no usable way
    at all is an error naming the skipped values."""
    if skipped["unknown_highway"]:
        warnings.warn(
            f"{path}: skipped ways with highway values that profile {profile.name!r} neither "
            f"rates nor excludes: {skipped['unknown_highway']}; add them to "
            "[speeds_kmh.highway] or [exclude] highway",
            stacklevel=4,
        )
    if not n_ways:
        shown = {k: skipped[k] for k in ("excluded", "unknown_highway", "access_forbidden")}
        raise RoadDataError(
            f"{path}: no ways usable by profile {profile.name!r} (mode {profile.mode!r}); "
            f"skipped ways by highway value: {shown}; give an extract with roads this mode "
            "may use, or another profile (--mode / --profile)"
        )
    return {"source": path, "ways": n_ways, **skipped}


def _check_osm_file(path: str | Path) -> str | None:
    """The osmium format of ``path`` from its content: ``"pbf"``, ``"osm"`` (XML) or
    compressed XML (``"osm.gz"``, ``"osm.bz2"``);
    ``None`` for a vector layer (GeoPackage, GeoParquet, ...) misnamed ``.osm.pbf``, which
    :func:`~hexaccess.network.read_roads` reads. Missing, directory, empty, truncated or
    other content: an error naming the file and what it is."""
    p = Path(path)
    if p.is_dir():
        raise InputFileError(
            f"OSM file {p} is a directory, not a file; give the .osm.pbf file inside it"
        )
    if not p.exists():
        raise InputFileError(f"OSM file not found: {p}")
    check_input_file(p, "OSM file")
    fmt = sniff_format(p)
    if fmt == "pbf":
        check_input_file(p, "OSM file", kinds=("pbf",))
        return "pbf"
    with open(p, "rb") as fh:
        head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if fmt == "text" and head.startswith((b"<?xml", b"<osm")):
        return "osm"
    if fmt == "gzip" or head.startswith(b"BZh"):  # compressed OSM XML (.osm.gz, .osm.bz2)
        return "osm.gz" if fmt == "gzip" else "osm.bz2"
    if fmt in ("gpkg", "parquet", "shp", "zip", "json"):
        return None
    raise RoadDataError(
        f"OSM file {p} is {FORMAT_NAMES.get(fmt, fmt)} by its content, not an "
        "OpenStreetMap .osm.pbf (or .osm XML) file; download the extract again (e.g. from "
        "download.geofabrik.de) or give a GeoPackage/Shapefile of roads"
    )


# ======================================================================== rules
@dataclass(frozen=True)
class _OsmRules:
    """What the profile says about OSM tags: speeds by ``highway``, excluded values,
    ferry ``route`` values, access and one-way tags."""

    speeds: dict[str, float]
    exclude: set[str]
    ferry_routes: set[str]
    access_tags: list[str]
    oneway_tags: list[str]
    respect_oneway: bool
    implied_oneway: bool
    maxspeed_tags: list[str] = field(default_factory=list)
    maxspeed_zones: dict[str, float] = field(default_factory=dict)
    destination_access: set[str] = field(default_factory=set)
    restriction_tags: list[str] = field(default_factory=list)
    restriction_exempt: set[str] = field(default_factory=set)


def _osm_rules(profile: SpeedProfile, path: str) -> _OsmRules:
    """The profile's OSM rules; a profile without a ``highway`` speed table is an error."""
    speeds = profile.class_speeds_kmh.get("highway")
    if speeds is None:
        raise RoadDataError(
            f"{path}: profile {profile.name!r} ({profile.source}) has no [speeds_kmh.highway] "
            "table for OpenStreetMap data"
        )
    oneway_tags = list(profile.osm_oneway_tags)
    return _OsmRules(
        speeds=speeds,
        exclude=set(profile.exclude.get("highway", ())),
        ferry_routes=set(profile.ferry_detect.get("route", ())),
        access_tags=list(profile.osm_access_tags),
        oneway_tags=oneway_tags,
        respect_oneway=profile.respect_oneway,
        implied_oneway=profile.respect_oneway and "oneway" in oneway_tags,
        maxspeed_tags=list(profile.osm_maxspeed_tags),
        maxspeed_zones=dict(profile.osm_maxspeed_zones),
        destination_access=set(profile.osm_destination_access),
        restriction_tags=list(profile.osm_restriction_tags),
        restriction_exempt=set(profile.osm_restriction_exempt),
    )


#: Units of OSM ``maxspeed`` values (km/h per unit); no unit is km/h.
_SPEED_UNITS = {"": 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344, "knots": 1.852}


def parse_maxspeed(value: str, zones: dict[str, float]) -> float | None:
    """km/h of an OSM ``maxspeed`` value: a zone of ``zones`` (``"FI:urban"``), a number
    (km/h) or a number with a unit (mph, km/h, kmh, kph, knots); None for anything else
    (``none``, ``signals``, ``walk``, ``50;30``) and outside 1-300 km/h. The same rule as
    the core's reader (``rust/src/osm/tags.rs``), so both readers give the same speeds."""
    v = value.strip()
    if v in zones:
        return float(zones[v])
    end = next((i for i, c in enumerate(v) if c not in "0123456789."), len(v))
    try:
        number = float(v[:end])
    except ValueError:
        return None
    factor = _SPEED_UNITS.get(v[end:].strip())
    if factor is None:
        return None
    kmh = number * factor
    return kmh if 1.0 <= kmh <= 300.0 else None


# ======================================================================== scan
@dataclass
class _WayTable:
    """Kept ways, their node entries (ref, location in 1e-7 degrees, valid) in order,
    and counts of the skipped ways by reason."""

    refs: list[int] = field(default_factory=list)
    xs: list[int] = field(default_factory=list)
    ys: list[int] = field(default_factory=list)
    valid: list[bool] = field(default_factory=list)
    way_len: list[int] = field(default_factory=list)
    way_id: list[int] = field(default_factory=list)
    way_class: list[str] = field(default_factory=list)
    way_ferry: list[bool] = field(default_factory=list)
    way_oneway: list[int] = field(default_factory=list)
    way_maxspeed: list[float] = field(default_factory=list)
    way_destination: list[bool] = field(default_factory=list)
    excluded: Counter[str] = field(default_factory=Counter)
    unknown: Counter[str] = field(default_factory=Counter)
    access: Counter[str] = field(default_factory=Counter)
    oneway: Counter[str] = field(default_factory=Counter)
    maxspeed_unused: Counter[str] = field(default_factory=Counter)

    def add(self, way: Any, cls: str, is_ferry: bool, oneway: int) -> None:
        """Append a kept way and its node entries."""
        n0 = len(self.refs)
        for nd in way.nodes:
            self.refs.append(nd.ref)
            loc = nd.location
            ok = loc.valid()
            self.valid.append(ok)
            self.xs.append(loc.x if ok else 0)
            self.ys.append(loc.y if ok else 0)
        self.way_len.append(len(self.refs) - n0)
        self.way_id.append(way.id)
        self.way_class.append(cls)
        self.way_ferry.append(is_ferry)
        self.way_oneway.append(oneway)


def _scan_ways(path: str, rules: _OsmRules, osm_format: str = "pbf") -> _WayTable:
    """One pass over the ways with ``highway`` or ``route`` tags (node locations on).
    The format is the sniffed one, not the extension's; a read error (a file cut short
    inside a block, corrupt data) names the file."""
    osmium = require(
        "osmium", "osm", f"Reading {path} with pyosmium (OSM XML, or engine='pyosmium')"
    )

    table = _WayTable()
    fp = (
        osmium.FileProcessor(osmium.io.File(path, osm_format))
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway", "route"))
    )
    try:
        for w in fp:
            kept = _way_class(w.tags, rules, table)
            if kept is None:
                continue
            cls, is_ferry, destination = kept
            table.add(w, cls, is_ferry, _way_direction(w.tags, is_ferry, rules, table))
            table.way_destination.append(destination)
            table.way_maxspeed.append(0.0 if is_ferry else _way_maxspeed(w.tags, rules, table))
    except RuntimeError as e:  # osmium: "PBF error: unexpected EOF", XML errors, ...
        raise RoadDataError(
            f"OSM file {path} is truncated or corrupt ({' '.join(str(e).split())}); download "
            "the extract again"
        ) from None
    return table


def _way_class(tags: Any, rules: _OsmRules, table: _WayTable) -> tuple[str, bool, bool] | None:
    """``(class, is_ferry, destination only)`` of a way the mode may use, else None
    (counted in ``table`` when skipped for a reason the user may want to know)."""
    hw = tags.get("highway")
    is_ferry = False
    if hw is None:
        if tags.get("route") not in rules.ferry_routes:
            return None
        cls, is_ferry = "ferry", True
    elif hw in rules.exclude:
        table.excluded[hw] += 1
        return None
    elif hw not in rules.speeds:
        table.unknown[hw] += 1
        return None
    else:
        cls = hw
    acc = None
    for t in rules.access_tags:  # the last (most specific) tag present wins
        v = tags.get(t)
        if v is not None:
            acc = v
    if acc in _FORBIDDEN_ACCESS:
        table.access[f"{cls}:{acc}"] += 1
        return None
    return cls, is_ferry, acc in rules.destination_access


def _way_maxspeed(tags: Any, rules: _OsmRules, table: _WayTable) -> float:
    """The way's limit (km/h, as float32 like the core's reader; 0: none), from the
    first ``maxspeed_tags`` tag present; values that give no speed are counted."""
    val = next((tags.get(t) for t in rules.maxspeed_tags if t in tags), None)
    if val is None:
        return 0.0
    kmh = parse_maxspeed(val, rules.maxspeed_zones)
    if kmh is None:
        table.maxspeed_unused[val] += 1
        return 0.0
    return float(np.float32(kmh))


def _way_direction(tags: Any, is_ferry: bool, rules: _OsmRules, table: _WayTable) -> int:
    """+1 one-way along the way, -1 against it, 0 two-way; unknown values are counted."""
    if not rules.respect_oneway or is_ferry:
        return 0
    val = next((tags.get(t) for t in rules.oneway_tags if t in tags), None)
    if val is None:
        if rules.implied_oneway and (
            tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway"
        ):
            return 1
        return 0
    if val in ("yes", "true", "1"):
        return 1
    if val in ("-1", "reverse"):
        return -1
    if val not in ("no", "false", "0"):
        table.oneway[val] += 1  # e.g. reversible/alternating: treated as two-way
    return 0


def _pyosmium_scan(
    path: str, rules: _OsmRules, osm_format: str, profile: SpeedProfile, split: bool
) -> tuple[_OsmArrays, dict[str, Any]]:
    """The pyosmium reader: one scan of the ways (locations from osmium's node index),
    then the edges cut with numpy."""
    ways = _scan_ways(path, rules, osm_format)
    skipped = {
        "excluded": dict(ways.excluded),
        "unknown_highway": dict(ways.unknown),
        "access_forbidden": dict(ways.access),
        "unknown_oneway": dict(ways.oneway),
    }
    counts = _scan_counts(path, profile, len(ways.way_id), skipped)
    edges = _osm_edges(ways, split, path)
    counts["ways_without_located_segment"] = edges.ways_without_located_segment
    counts["clipped_ways"] = edges.clipped_ways
    counts["maxspeed_unused"] = dict(sorted(ways.maxspeed_unused.items()))
    rows, counts["restrictions_skipped"] = _scan_restrictions(path, rules, osm_format)
    counts["turn_restriction_rows"] = rows
    return _arrays_from_edges(ways, edges), counts


def _scan_restrictions(
    path: str, rules: _OsmRules, osm_format: str
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """``type=restriction`` relations as rows (from way, via node, to way, only) and the
    relations not applied by reason: the rules of ``rust/src/osm/restrictions.rs``."""
    osmium = require("osmium", "osm", f"Reading the turn restrictions of {path} with pyosmium")

    from_w: list[int] = []
    via_n: list[int] = []
    to_w: list[int] = []
    only_f: list[bool] = []
    skipped: Counter[str] = Counter()
    if rules.restriction_tags:
        fp = osmium.FileProcessor(osmium.io.File(path, osm_format)).with_filter(
            osmium.filter.EntityFilter(osmium.osm.RELATION)
        )
        for rel in fp:
            if rel.tags.get("type") != "restriction":
                continue
            members = [(m.role, m.type, m.ref) for m in rel.members]
            rows, reason = _restriction_rows(rel.tags, members, rules)
            if reason:
                skipped[reason] += 1
            for f, v, t, o in rows:
                from_w.append(f)
                via_n.append(v)
                to_w.append(t)
                only_f.append(o)
    table = {
        "from": np.asarray(from_w, dtype=np.int64),
        "via": np.asarray(via_n, dtype=np.int64),
        "to": np.asarray(to_w, dtype=np.int64),
        "only": np.asarray(only_f, dtype=bool),
    }
    return table, dict(sorted(skipped.items()))


def _restriction_rows(
    tags: Any, members: list[tuple[str, str, int]], rules: _OsmRules
) -> tuple[list[tuple[int, int, int, bool]], str]:
    """The rows of one relation, or no rows and the reason it does not apply."""
    value = None
    for t in rules.restriction_tags:  # the last (most specific) tag present wins
        if t in tags:
            value = tags.get(t)
    if value is None:
        return [], "other_vehicle"
    exempt = tags.get("except")
    if exempt is not None and {e.strip() for e in exempt.split(";")} & rules.restriction_exempt:
        return [], "exempt"
    if not value.startswith(("only_", "no_")):
        return [], "unknown_value"
    only = value.startswith("only_")
    if any(r == "via" and t == "w" for r, t, _ in members):
        return [], "via_way"
    via = [ref for r, t, ref in members if r == "via" and t == "n"]
    frm = [ref for r, t, ref in members if r == "from" and t == "w"]
    to = [ref for r, t, ref in members if r == "to" and t == "w"]
    if len(via) != 1 or not frm or not to:
        return [], "incomplete"
    if only and len(to) > 1:
        return [], "only_with_several_to_ways"
    return [(f, via[0], t, only) for f in frm for t in to], ""


def _rust_scan(
    path: str, rules: _OsmRules, profile: SpeedProfile, split: bool
) -> tuple[_OsmArrays, dict[str, Any]]:
    """The core's two-pass reader (ways, then only their nodes; blobs in parallel)."""
    read = _rust_reader()
    try:
        d = read(
            path,
            list(rules.speeds),
            sorted(rules.exclude),
            sorted(rules.ferry_routes),
            list(rules.access_tags),
            list(rules.oneway_tags),
            bool(rules.respect_oneway),
            bool(split),
            maxspeed_tags=list(rules.maxspeed_tags),
            maxspeed_zones=list(rules.maxspeed_zones.items()),
            destination_access=sorted(rules.destination_access),
            restriction_tags=list(rules.restriction_tags),
            restriction_exempt=sorted(rules.restriction_exempt),
        )
    except OSError as e:
        raise InputFileError(f"OSM file {path} cannot be read: {e}") from None
    except ValueError as e:  # a blob cut short or corrupt
        raise RoadDataError(
            f"OSM file {path} is truncated or corrupt ({' '.join(str(e).split())}); download "
            "the extract again"
        ) from None
    skipped = {
        k: dict(sorted(d[k].items()))
        for k in ("excluded", "unknown_highway", "access_forbidden", "unknown_oneway")
    }
    counts = _scan_counts(path, profile, d["ways"], skipped)
    if d["tail"].size == 0:
        raise RoadDataError(f"{path}: no usable way has two consecutive located nodes")
    counts["ways_without_located_segment"] = int(d["ways_without_located_segment"])
    counts["clipped_ways"] = int(d["clipped_ways"])
    counts["maxspeed_unused"] = dict(sorted(d["maxspeed_unused"].items()))
    counts["restrictions_skipped"] = dict(sorted(d["restrictions_skipped"].items()))
    counts["turn_restriction_rows"] = {
        k: d[f"restriction_{k}"] for k in ("from", "via", "to", "only")
    }
    split_ends = d["mid_lon0"].size == 0
    arrays = _OsmArrays(
        node_ref=d["node_id"],
        node_lon=d["node_lon"],
        node_lat=d["node_lat"],
        node_shape=d["node_shape"],
        tail=d["tail"],
        head=d["head"],
        class_id=d["class"],
        class_names=[*rules.speeds, "ferry"],
        ferry=d["ferry"],
        way_dir=d["oneway"],
        maxspeed=d["maxspeed_kmh"],
        destination=d["destination"],
        length=d["length_m"],
        boarding=d["boarding"],
        way_id=d["way_id"],
        mid_frac=d["mid_frac"],
        mid_ends=None if split_ends else tuple(d[f"mid_{c}"] for c in _MID_KEYS),
        bbox=tuple(float(v) for v in d["bbox"]),
    )
    return arrays, counts


_MID_KEYS = ("lon0", "lat0", "lon1", "lat1")


# ======================================================================= edges
@dataclass
class _OsmEdges:
    """Node entries (all ways concatenated) and the edges cut from them.

    Segment ``i`` joins entries ``i`` and ``i + 1``; ``seg`` lists the usable ones (same
    way, both located), ``edge_of_seg`` the edge each belongs to and ``first_seg`` the
    position in ``seg`` of each edge's first segment. ``tail_entry``/``head_entry`` are
    the entries at each edge's ends; ``junction`` flags the entries that are nodes
    without splitting.
    """

    ref: I64
    lon: F64
    lat: F64
    located: np.ndarray
    way_of_entry: I64
    seg: I64
    edge_of_seg: I64
    n_edges: int
    first_seg: I64
    tail_entry: I64
    head_entry: I64
    junction: np.ndarray
    ways_without_located_segment: int
    clipped_ways: int


def _osm_edges(ways: _WayTable, split_at_vertices: bool, path: str) -> _OsmEdges:
    """Cut the ways into edges at graph nodes (every located entry when splitting)."""
    ref = np.asarray(ways.refs, dtype=np.int64)
    ok = np.asarray(ways.valid, dtype=bool)
    wlen = np.asarray(ways.way_len, dtype=np.int64)
    widx = np.repeat(np.arange(wlen.size), wlen)
    n = ref.size
    # segment i joins entries i and i+1 of the same way, both with a location
    seg_ok = (widx[:-1] == widx[1:]) & ok[:-1] & ok[1:]
    prev_ok = np.concatenate([[False], seg_ok])  # entry i is the end of a segment
    next_ok = np.concatenate([seg_ok, [False]])  # entry i starts a segment
    in_seg = prev_ok | next_ok
    # junctions: refs used by >= 2 way entries that lie on usable segments
    _, uinv, ucount = np.unique(ref[in_seg], return_inverse=True, return_counts=True)
    count = np.zeros(n, dtype=np.int64)
    count[in_seg] = ucount[uinv.reshape(-1)]
    junction = in_seg & ((count >= 2) | ~prev_ok | ~next_ok)  # nodes without splitting
    is_node = in_seg if split_at_vertices else junction
    start = is_node & next_ok
    edge_of_entry = np.cumsum(start) - 1
    s = np.flatnonzero(seg_ok)
    if s.size == 0:
        raise RoadDataError(f"{path}: no usable way has two consecutive located nodes")
    eid = edge_of_entry[s]
    first_seg = np.flatnonzero(np.diff(np.concatenate([[-1], eid])) != 0)
    return _OsmEdges(
        ref=ref,
        lon=np.asarray(ways.xs, dtype=np.float64) * 1e-7,
        lat=np.asarray(ways.ys, dtype=np.float64) * 1e-7,
        located=ok,
        way_of_entry=widx,
        seg=s,
        edge_of_seg=eid,
        n_edges=int(start.sum()),
        first_seg=first_seg,
        tail_entry=s[first_seg],
        head_entry=np.concatenate([s[first_seg[1:] - 1], [s[-1]]]) + 1,
        junction=junction,
        ways_without_located_segment=int(wlen.size - np.unique(widx[s]).size),
        clipped_ways=int(np.unique(widx[~ok]).size),
    )


# ==================================================================== geometry
@dataclass
class _OsmArrays:
    """The graph of a scan before projection, whichever reader made it: nodes (sorted
    OSM ids, lon/lat, shape-point flag), edges as drawn (tail, head, class id into
    ``class_names``, ferry, way direction, geodesic length, boarding, way id) and each
    edge's midpoint as a fraction along one segment, whose end points are ``mid_ends``
    (lon0, lat0, lon1, lat1) or, when None, the edge's own ends (split edges)."""

    node_ref: I64
    node_lon: F64
    node_lat: F64
    node_shape: np.ndarray
    tail: I64
    head: I64
    class_id: np.ndarray
    class_names: list[str]
    ferry: np.ndarray
    way_dir: np.ndarray
    maxspeed: npt.NDArray[np.float32]
    destination: np.ndarray
    length: F64
    boarding: np.ndarray
    way_id: I64
    mid_frac: F64
    mid_ends: tuple[F64, F64, F64, F64] | None
    bbox: tuple[float, float, float, float]


def _osm_lengths(e: _OsmEdges) -> tuple[F64, I64, F64]:
    """Geodesic edge lengths, and per edge the segment holding its midpoint (the first
    whose cumulative length reaches half the edge's) with the fraction along it."""
    lon, lat, s = e.lon, e.lat, e.seg
    seg_len = np.zeros(max(e.ref.size - 1, 0))
    seg_len[s] = _geodesic_segments(lon, lat)[s]
    length = np.bincount(e.edge_of_seg, weights=seg_len[s], minlength=e.n_edges)
    cum = np.cumsum(seg_len[s])
    start_cum = cum[e.first_seg] - seg_len[s][e.first_seg]
    k = np.searchsorted(cum, start_cum + length / 2, side="left")
    k = np.minimum(k, s.size - 1)
    sk = s[k]
    frac = np.where(
        seg_len[sk] > 0,
        (start_cum + length / 2 - (cum[k] - seg_len[sk]))
        / np.where(seg_len[sk] > 0, seg_len[sk], 1.0),
        0.0,
    )
    return length, sk, np.clip(frac, 0.0, 1.0)


def _osm_nodes(e: _OsmEdges) -> tuple[I64, I64, I64, I64]:
    """Graph nodes (sorted OSM refs at edge ends): refs, edge tails and heads (as
    drawn), and one entry per node (for its coordinates)."""
    node_refs, node_inv = np.unique(
        np.concatenate([e.ref[e.tail_entry], e.ref[e.head_entry]]), return_inverse=True
    )
    node_inv = node_inv.reshape(-1)
    n_edges = e.n_edges
    tail, head = node_inv[:n_edges].astype(np.int64), node_inv[n_edges:].astype(np.int64)
    node_entry = np.empty(node_refs.size, dtype=np.int64)
    node_entry[node_inv] = np.concatenate([e.tail_entry, e.head_entry])
    return node_refs, tail, head, node_entry


def _arrays_from_edges(ways: _WayTable, e: _OsmEdges) -> _OsmArrays:
    """The pyosmium scan's entries and edges as graph arrays."""
    node_refs, tail, head, node_entry = _osm_nodes(e)
    length, sk, frac = _osm_lengths(e)
    ew = e.way_of_entry[e.tail_entry]
    way_classes = np.asarray(ways.way_class, dtype=object)
    class_names, way_class = np.unique(way_classes, return_inverse=True)
    lon, lat = e.lon[e.located], e.lat[e.located]
    return _OsmArrays(
        node_ref=node_refs,
        node_lon=e.lon[node_entry],
        node_lat=e.lat[node_entry],
        node_shape=~e.junction[node_entry],
        tail=tail,
        head=head,
        class_id=way_class.reshape(-1)[ew],
        class_names=[str(c) for c in class_names],
        ferry=np.asarray(ways.way_ferry, dtype=bool)[ew],
        way_dir=np.asarray(ways.way_oneway, dtype=np.int8)[ew],
        maxspeed=np.asarray(ways.way_maxspeed, dtype=np.float32)[ew],
        destination=np.asarray(ways.way_destination, dtype=bool)[ew],
        length=length,
        boarding=e.junction[e.tail_entry],
        way_id=np.asarray(ways.way_id, dtype=np.int64)[ew],
        mid_frac=frac,
        mid_ends=(e.lon[sk], e.lat[sk], e.lon[sk + 1], e.lat[sk + 1]),
        bbox=(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())),
    )


def _lerp(v0: F64, v1: F64, frac: F64) -> F64:
    """``v0 + frac * (v1 - v0)`` evaluated as ``(v1 - v0) * frac + v0``, the formula of
    the core's :func:`~hexaccess._core.edge_points` (the pyproj fallback's midpoints)."""
    out = np.subtract(v1, v0)
    out *= frac
    out += v0
    return out


def _osm_projection(a: _OsmArrays) -> tuple[Any, F64, F64, F64, F64]:
    """Local UTM CRS (of the located nodes' bounding box), projected node coordinates
    and edge midpoints (interpolated along the projected segment).

    WGS84 UTM zones (always, from :func:`_local_utm`) are projected by the core: PROJ's
    algorithm (within 1e-6 m of pyproj), on all threads, in place, and the midpoints in
    one pass without per-edge temporaries; both readers go through here, so they stay
    identical. pyproj still names the CRS (and projects any other CRS)."""
    from hexaccess import _core
    from hexaccess.network._crs import _own_f64, _utm_zone

    w, s, e, n = a.bbox
    utm = _local_utm(np.array([w, e]), np.array([s, n]))
    zone = _utm_zone(utm)
    frac = np.ascontiguousarray(a.mid_frac, dtype=np.float64)
    # in place: the lon/lat arrays are the scan's own copies (saves 16 bytes per node)
    lon, lat = _own_f64(a.node_lon), _own_f64(a.node_lat)
    a.node_lon = a.node_lat = np.zeros(0)
    if zone is None:
        import pyproj

        tr = pyproj.Transformer.from_crs("EPSG:4326", utm, always_xy=True)
        x, y = (np.asarray(v) for v in tr.transform(lon, lat, inplace=True))
    else:
        x, y = _core.utm_forward(lon, lat, zone[0], zone[1], inplace=True)
    if a.mid_ends is None:
        tail = np.ascontiguousarray(a.tail, dtype=np.int64)
        head = np.ascontiguousarray(a.head, dtype=np.int64)
        mid_x, mid_y = _core.edge_points(x, y, tail, head, frac)
    else:
        lon0, lat0, lon1, lat1 = (_own_f64(v) for v in a.mid_ends)
        a.mid_ends = None
        if zone is None:
            x0, y0 = (np.asarray(v) for v in tr.transform(lon0, lat0, inplace=True))
            x1, y1 = (np.asarray(v) for v in tr.transform(lon1, lat1, inplace=True))
            mid_x, mid_y = _lerp(x0, x1, frac), _lerp(y0, y1, frac)
        else:  # written over lon0/lat0: two arrays per edge fewer at the peak
            mid_x, mid_y = _core.utm_segment_points(
                lon0, lat0, lon1, lat1, frac, zone[0], zone[1], inplace=True
            )
    a.mid_ends, a.mid_frac = None, np.zeros(0)
    return utm, x, y, mid_x, mid_y


# ==================================================================== assembly
def _apply_maxspeed(speed: F64, a: _OsmArrays, profile: SpeedProfile, meta: dict) -> None:
    """Tagged limits × ``[osm] maxspeed_factor`` replace the class speed (in place),
    within the mode's speed bounds; ``meta`` counts the edges that use them."""
    if not profile.osm_maxspeed_tags:
        return
    from hexaccess.profiles import SPEED_BOUNDS_KMH

    tagged = (np.asarray(a.maxspeed) > 0) & ~np.asarray(a.ferry, dtype=bool)
    lo, hi = SPEED_BOUNDS_KMH[profile.mode]
    driven = np.asarray(a.maxspeed, dtype=np.float64)[tagged] * profile.osm_maxspeed_factor
    speed[tagged] = np.clip(driven, lo, hi)
    meta["maxspeed_edges"] = int(tagged.sum())


def _osm_network(
    a: _OsmArrays,
    rules: _OsmRules,
    profile: SpeedProfile,
    split_at_vertices: bool,
    meta: dict[str, Any],
) -> RoadNetwork:
    """Edges with their ways' class, ferry flag, direction and time."""
    utm, x, y, mid_x, mid_y = _osm_projection(a)
    tail, head = np.asarray(a.tail, dtype=np.int64), np.asarray(a.head, dtype=np.int64)
    rev = a.way_dir == -1
    tail[rev], head[rev] = head[rev], tail[rev]
    table = np.array([rules.speeds.get(c, np.nan) for c in a.class_names], dtype=np.float64)
    speed = table[a.class_id]
    _apply_maxspeed(speed, a, profile, meta)
    speed[a.ferry] = np.nan
    classes = np.asarray(a.class_names, dtype=object)[a.class_id]
    meta["node_refs"] = np.asarray(a.node_ref, dtype=np.int64)
    meta["split_at_vertices"] = bool(split_at_vertices)
    if rules.destination_access:
        meta["destination_only"] = np.asarray(a.destination, dtype=bool)
    if split_at_vertices:
        shape_point = np.asarray(a.node_shape, dtype=bool)
        ferry_node = np.zeros(shape_point.size, dtype=bool)
        ferry_node[tail[a.ferry]] = True
        ferry_node[head[a.ferry]] = True
        meta["shape_point"] = shape_point
        meta["ferry_shape_point"] = ferry_node & shape_point
    ferry = np.asarray(a.ferry, dtype=bool)
    return RoadNetwork(
        x=x,
        y=y,
        crs=f"EPSG:{utm.to_epsg()}",
        tail=tail,
        head=head,
        length_m=a.length,
        time_s=_edge_times(a.length, speed, ferry, profile, boarding=a.boarding),
        road_class=classes,
        oneway=a.way_dir != 0,
        ferry=ferry,
        mid_x=mid_x,
        mid_y=mid_y,
        source_row=a.way_id,
        class_column="highway",
        profile=profile,
        meta=meta,
    )
