"""Speed profiles: how fast each mode moves on each road class, as data.

A profile is a TOML file. The packaged profiles ``car_fi``, ``walk`` and ``bike`` live in
``hexaccess/profiles/`` and document where every number comes from. Calibration writes
fitted profiles back with :meth:`SpeedProfile.to_toml`.

TOML layout (all keys required unless marked optional)::

    name = "car_fi"
    mode = "car"                      # car | walk | bike
    description = "..."               # optional
    terminal_time_s = 120             # parking + walking at both ends of a trip, seconds
    respect_oneway = true             # false: one-way roads are usable both ways

    [speeds_kmh.IGDS_LEVEL]           # one table per class column ("scheme")
    26 = 105                          # class value (as written in the data) = km/h

    [exclude]                         # optional: classes this mode may not use
    highway = ["motorway"]            # (edges dropped and counted, never silently)

    [ferry]
    speed_kmh = 8                     # speed on ferry edges (all schemes)
    boarding_s = 600                  # waiting + boarding, added once per ferry edge
    [ferry.detect]                    # column = values that mark an edge as a ferry
    IGDS_LEVEL = [24]

    [urban_slowdown]                  # speed factor by population density class
    density_thresholds_per_km2 = [500, 1500]   # strictly increasing, > 0
    factors = [1.0, 0.85, 0.7]        # len(thresholds) + 1; density < 500 -> 1.0 ...

    [access]                          # leg between a point (cell centre) and the network
    speed_kmh = 30
    detour_factor = 1.3               # network distance / straight-line distance
    max_distance_m = 20000            # farther points are reported as not connected
    warn_distance_m = 5000            # optional (default 5000): longer legs are warned about
    attach = "large_scc"              # optional: which strongly connected pieces places join
    attach_min_km = 2.0               # optional: road km of a kept SCC other than the largest
    snap = "edge"                     # optional: "edge" (nearest edge, split) or "node"

    [osm]                             # optional; OpenStreetMap tag handling
    oneway_tags = ["oneway"]          # first tag present decides
    access_tags = ["access", "vehicle", "motor_vehicle", "motorcar"]  # last present decides
    maxspeed_tags = ["maxspeed"]      # optional: per-way limits (first present), else class
    maxspeed_factor = 0.85            # optional: driven speed = limit x factor (0.3-1.2)
    destination_access = ["destination"]   # optional: no through traffic on such ways
    restriction_tags = ["restriction", "restriction:motorcar"]  # optional: turn
    restriction_exempt = ["motorcar"]      # restrictions (last present decides; except=)
    [osm.maxspeed_zones]              # optional: implicit limits, e.g. "FI:urban" = 50
    [osm.turn_costs]                  # optional: seconds per turn at junctions
    left_s = 8                        # geometric left/right: across traffic is left where
                                      # people drive on the right
    right_s = 3
    u_turn_s = 30
    straight_deg = 30                 # |deviation| up to this is straight on (no cost)
    [urban_slowdown] osm = false      # optional: also slow OSM (street-level) networks

Validation bounds (physically sensible; a value outside raises ``ProfileError`` naming the
TOML key and the file):

==========================  =====================================================
class speeds, access speed  car 5-130 km/h, bike 2-45 km/h, walk 0.5-10 km/h
ferry speed                 1-60 km/h
ferry boarding              0-7200 s
terminal time               0-1800 s
urban slowdown factors      in (0, 1]; thresholds finite, > 0, strictly increasing
access detour factor        1-3
max access distance         (0, 200 000] m
access warning distance     (0, 200 000] m
==========================  =====================================================

Every table is checked for unknown keys (a typo such as ``boarding_time_s`` would
otherwise leave the default in force without a word); the error names the key, the file
and the nearest known key. The file must be UTF-8 (as TOML requires).

Access legs: a point (cell centre or office) joins its nearest road node by a straight
line times ``detour_factor``, at ``speed_kmh``. Legs longer than ``warn_distance_m``
(default :data:`DEFAULT_WARN_ACCESS_DISTANCE_M`, 5 km) are warned about, naming the
office or the cells and the distance; beyond ``max_distance_m`` an office is an error
and a cell is counted unreachable. A ``warn_distance_m`` at or above ``max_distance_m``
never warns.

Graph hygiene (``attach``, ``attach_min_km``, ``snap``; defaults in
:mod:`hexaccess.defaults`: ``large_scc``, 2 km, ``edge``): places join only strongly
connected components (SCCs) of the mode's directed road graph from which every other
node of the component can be reached and back. ``large_scc`` keeps the largest SCC and
every SCC with at least ``attach_min_km`` of road; ``office_scc`` keeps the largest SCC and
every SCC with an office and at least ``attach_min_km`` of road; ``largest_scc`` keeps
only the largest; ``all`` keeps every node (the old behaviour, one-way traps included).
With ``snap = "edge"`` a place joins the nearest point of the nearest kept, non-ferry
edge, which is split there; ``"node"`` joins the nearest kept node.

Car rules on OpenStreetMap (all off unless the profile sets them; the packaged ``car_fi``
sets them, see its comments and :mod:`hexaccess.network.turns`): a way's ``maxspeed``
(times ``maxspeed_factor``) replaces its class speed; ways whose most specific access
tag is a ``destination_access`` value may be driven only at the start or the end of a
trip, never through; ``type=restriction`` relations (via a node) forbid or mandate turns;
``[osm.turn_costs]`` adds seconds to left, right and U-turns at junctions. Restrictions,
destination-only ways and turn costs route on a turn-expanded graph (exact, not a
penalty). The urban slowdown models streets a coarse map lacks, so it is not applied to
OSM networks unless ``[urban_slowdown] osm = true``.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hexaccess import defaults
from hexaccess._files import FORMAT_NAMES, check_input_file, sniff_format
from hexaccess.errors import InputFileError, ProfileError, UnknownNameError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "MODES",
    "PACKAGED_PROFILES",
    "ProfileError",
    "SpeedProfile",
    "load_profile",
]

MODES = ("car", "walk", "bike")
PACKAGED_PROFILES = ("car_fi", "walk", "bike")

#: (low, high) bounds of class speeds and access speed per mode, km/h (inclusive).
SPEED_BOUNDS_KMH: dict[str, tuple[float, float]] = {
    "car": (5.0, 130.0),
    "bike": (2.0, 45.0),
    "walk": (0.5, 10.0),
}
FERRY_SPEED_BOUNDS_KMH = (1.0, 60.0)
FERRY_BOARDING_BOUNDS_S = (0.0, 7200.0)
TERMINAL_BOUNDS_S = (0.0, 1800.0)
DETOUR_BOUNDS = (1.0, 3.0)
MAX_ACCESS_BOUNDS_M = (0.0, 200_000.0)  # low bound exclusive
#: Default of ``[access] warn_distance_m``: access legs longer than this warn (metres).
DEFAULT_WARN_ACCESS_DISTANCE_M = 5_000.0

#: Bounds of ``[osm] maxspeed_factor`` and of a turn cost (seconds).
MAXSPEED_FACTOR_BOUNDS = (0.3, 1.2)
TURN_COST_BOUNDS_S = (0.0, 600.0)
#: ``[osm.turn_costs]`` keys and their defaults (no costs; straight within 30 degrees).
TURN_COST_DEFAULTS: dict[str, Any] = {
    "left_s": 0.0,
    "right_s": 0.0,
    "u_turn_s": 0.0,
    "straight_deg": 30.0,
}

_DEFAULT_OSM_ONEWAY_TAGS = ("oneway",)
_DEFAULT_OSM_ACCESS_TAGS = ("access",)


def _class_key(value: Any) -> str:
    """Canonical string key of a road-class value (``26``, ``26.0`` and ``"26"`` agree)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    try:  # numpy scalars
        import numpy as np

        if isinstance(value, np.floating) and float(value).is_integer():
            return str(int(value))
        if isinstance(value, np.integer):
            return str(int(value))
    except ImportError:  # pragma: no cover
        pass
    return str(value)


@dataclass(frozen=True)
class SpeedProfile:
    """A validated speed profile for one travel mode.

    Build it with :func:`load_profile` or :meth:`from_dict`; constructing it directly also
    validates. ``class_speeds_kmh`` maps a class column name (``"IGDS_LEVEL"``,
    ``"LUOKKA"``, OSM ``"highway"``) to ``{class value as string: km/h}``.
    """

    name: str
    mode: str
    class_speeds_kmh: Mapping[str, Mapping[str, float]]
    ferry_speed_kmh: float
    ferry_boarding_s: float
    ferry_detect: Mapping[str, tuple[str, ...]]
    urban_density_thresholds: tuple[float, ...]
    urban_factors: tuple[float, ...]
    terminal_time_s: float
    access_speed_kmh: float
    access_detour_factor: float
    max_access_distance_m: float
    respect_oneway: bool = True
    warn_access_distance_m: float = DEFAULT_WARN_ACCESS_DISTANCE_M
    exclude: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    osm_oneway_tags: tuple[str, ...] = _DEFAULT_OSM_ONEWAY_TAGS
    osm_access_tags: tuple[str, ...] = _DEFAULT_OSM_ACCESS_TAGS
    description: str = ""
    access_attach: str = defaults.ACCESS_ATTACH
    access_attach_min_km: float = defaults.ATTACH_MIN_COMPONENT_KM
    access_snap: str = defaults.ACCESS_SNAP
    osm_maxspeed_tags: tuple[str, ...] = ()
    osm_maxspeed_factor: float = 1.0
    osm_maxspeed_zones: Mapping[str, float] = field(default_factory=dict)
    osm_destination_access: tuple[str, ...] = ()
    osm_restriction_tags: tuple[str, ...] = ()
    osm_restriction_exempt: tuple[str, ...] = ()
    turn_costs: Mapping[str, Any] = field(default_factory=lambda: dict(TURN_COST_DEFAULTS))
    urban_slowdown_osm: bool = False
    source: str = field(default="<memory>", compare=False)

    def __post_init__(self) -> None:
        _validate(self)

    # ------------------------------------------------------------------ lookups
    def speed_kmh(self, scheme: str, value: Any) -> float:
        """Speed of class ``value`` of the class column ``scheme``.

        An unknown column or class raises :class:`~hexaccess.errors.UnknownNameError`
        (a ``KeyError``) naming the profile and the classes it knows.
        """
        table = self.class_speeds_kmh.get(scheme)
        if table is None:
            raise UnknownNameError(
                f"speed profile {self.name!r} ({self.source}) has no class table for column "
                f"{scheme!r}; known: {sorted(self.class_speeds_kmh)} (add [speeds_kmh.{scheme}])"
            )
        key = _class_key(value)
        speed = table.get(key)
        if speed is None:
            raise UnknownNameError(
                f"speed profile {self.name!r} ({self.source}) has no speed for {scheme} = "
                f"{key!r}; known classes: {sorted(table)} (add it under [speeds_kmh.{scheme}])"
            )
        return speed

    def is_excluded(self, column: str, value: Any) -> bool:
        """Whether ``value`` in ``column`` is a class this mode may not use."""
        return _class_key(value) in self.exclude.get(column, ())

    def is_ferry(self, column: str, value: Any) -> bool:
        """Whether ``value`` in ``column`` marks a ferry edge."""
        return _class_key(value) in self.ferry_detect.get(column, ())

    def slowdown_factor(self, density_per_km2: Any) -> Any:
        """Urban speed factor for people/km² (scalar or array; NaN density -> factor 1)."""
        import numpy as np

        d = np.asarray(density_per_km2, dtype=np.float64)
        idx = np.searchsorted(np.asarray(self.urban_density_thresholds), d, side="right")
        f = np.asarray(self.urban_factors, dtype=np.float64)[idx]
        f = np.where(np.isnan(d), 1.0, f)
        return f if f.ndim else float(f)

    @property
    def has_turn_costs(self) -> bool:
        """Whether any turn costs seconds (``[osm.turn_costs]``)."""
        return any(float(self.turn_costs[k]) > 0 for k in ("left_s", "right_s", "u_turn_s"))

    # ------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """TOML-shaped nested dict (inverse of :meth:`from_dict`)."""
        d: dict[str, Any] = {
            "name": self.name,
            "mode": self.mode,
            "description": self.description,
            "terminal_time_s": self.terminal_time_s,
            "respect_oneway": self.respect_oneway,
            "speeds_kmh": {s: dict(t) for s, t in self.class_speeds_kmh.items()},
            "exclude": {c: list(v) for c, v in self.exclude.items()},
            "ferry": {
                "speed_kmh": self.ferry_speed_kmh,
                "boarding_s": self.ferry_boarding_s,
                "detect": {c: list(v) for c, v in self.ferry_detect.items()},
            },
            "urban_slowdown": {
                "density_thresholds_per_km2": list(self.urban_density_thresholds),
                "factors": list(self.urban_factors),
                "osm": self.urban_slowdown_osm,
            },
            "access": {
                "speed_kmh": self.access_speed_kmh,
                "detour_factor": self.access_detour_factor,
                "max_distance_m": self.max_access_distance_m,
                "warn_distance_m": self.warn_access_distance_m,
                "attach": self.access_attach,
                "attach_min_km": self.access_attach_min_km,
                "snap": self.access_snap,
            },
            "osm": {
                "oneway_tags": list(self.osm_oneway_tags),
                "access_tags": list(self.osm_access_tags),
                "maxspeed_tags": list(self.osm_maxspeed_tags),
                "maxspeed_factor": self.osm_maxspeed_factor,
                "maxspeed_zones": dict(self.osm_maxspeed_zones),
                "destination_access": list(self.osm_destination_access),
                "restriction_tags": list(self.osm_restriction_tags),
                "restriction_exempt": list(self.osm_restriction_exempt),
                "turn_costs": dict(self.turn_costs),
            },
        }
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<memory>") -> SpeedProfile:
        """Build and validate a profile from a TOML-shaped dict."""
        return _from_dict(data, source)

    def to_toml(self, path: str | Path | None = None) -> str:
        """Serialise to TOML text (written to ``path`` when given). Round-trips exactly."""
        text = _dump_toml(self.to_dict())
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def with_overrides(self, **params: Any) -> SpeedProfile:
        """A new validated profile with some values replaced (for calibration).

        Keys are field names (``terminal_time_s=90``, ``access_speed_kmh=25``,
        ``urban_factors=(1, 0.8, 0.6)``) or TOML key paths with ``__`` (or ``.`` via
        ``**{...}``) as separator: ``speeds_kmh__IGDS_LEVEL__26=100``,
        ``**{"ferry.boarding_s": 300}``. Unknown keys raise ``ProfileError``.
        """
        d = self.to_dict()
        for key, value in params.items():
            path = _FIELD_TO_PATH.get(key)
            if path is None:
                path = tuple(p for p in re.split(r"__|\.", key) if p)
            if not path:
                raise ProfileError(f"with_overrides: empty key {key!r}")
            node: dict[str, Any] = d
            for i, part in enumerate(path[:-1]):
                nxt = node.get(part)
                if not isinstance(nxt, dict):
                    raise ProfileError(
                        f"with_overrides: unknown key {key!r} ({'.'.join(path[: i + 1])} is "
                        f"not a table of profile {self.name!r})"
                    )
                node = nxt
            leaf = path[-1]
            # class speeds may add new classes; everything else must already exist
            if leaf not in node and not (len(path) == 3 and path[0] == "speeds_kmh"):
                raise ProfileError(
                    f"with_overrides: unknown key {key!r} for profile {self.name!r}; "
                    f"known fields: {sorted(_FIELD_TO_PATH)}"
                )
            node[leaf] = list(value) if isinstance(value, tuple) else value
        return _from_dict(d, f"{self.source} with overrides {sorted(params)}")


_FIELD_TO_PATH: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "mode": ("mode",),
    "description": ("description",),
    "terminal_time_s": ("terminal_time_s",),
    "respect_oneway": ("respect_oneway",),
    "class_speeds_kmh": ("speeds_kmh",),
    "ferry_speed_kmh": ("ferry", "speed_kmh"),
    "ferry_boarding_s": ("ferry", "boarding_s"),
    "ferry_detect": ("ferry", "detect"),
    "exclude": ("exclude",),
    "urban_density_thresholds": ("urban_slowdown", "density_thresholds_per_km2"),
    "urban_factors": ("urban_slowdown", "factors"),
    "access_speed_kmh": ("access", "speed_kmh"),
    "access_detour_factor": ("access", "detour_factor"),
    "max_access_distance_m": ("access", "max_distance_m"),
    "warn_access_distance_m": ("access", "warn_distance_m"),
    "access_attach": ("access", "attach"),
    "access_attach_min_km": ("access", "attach_min_km"),
    "access_snap": ("access", "snap"),
    "osm_oneway_tags": ("osm", "oneway_tags"),
    "osm_access_tags": ("osm", "access_tags"),
    "osm_maxspeed_tags": ("osm", "maxspeed_tags"),
    "osm_maxspeed_factor": ("osm", "maxspeed_factor"),
    "osm_maxspeed_zones": ("osm", "maxspeed_zones"),
    "osm_destination_access": ("osm", "destination_access"),
    "osm_restriction_tags": ("osm", "restriction_tags"),
    "osm_restriction_exempt": ("osm", "restriction_exempt"),
    "turn_costs": ("osm", "turn_costs"),
    "urban_slowdown_osm": ("urban_slowdown", "osm"),
}


# ---------------------------------------------------------------- validation
def _err(source: str, key: str, msg: str) -> ProfileError:
    return ProfileError(f"{source}: key '{key}': {msg}")


def _number(source: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, (np.integer, np.floating)):
                value = float(value)
            else:
                raise TypeError
        except (ImportError, TypeError):
            raise _err(source, key, f"expected a number, got {value!r}") from None
    v = float(value)
    if not math.isfinite(v):
        raise _err(source, key, f"must be finite, got {v}")
    return v


def _in_range(source: str, key: str, v: float, lo: float, hi: float, unit: str) -> None:
    if not lo <= v <= hi:
        hint = ""
        if v <= 0 and key.startswith("speeds_kmh."):
            hint = (
                "; a class this mode may not use goes under [exclude] <column> = [...], not speed 0"
            )
        raise _err(
            source, key, f"{v} {unit} is outside the allowed range [{lo}, {hi}] {unit}{hint}"
        )


def _validate(p: SpeedProfile) -> None:
    src = p.source
    if not isinstance(p.name, str) or not p.name:
        raise _err(src, "name", f"must be a non-empty string, got {p.name!r}")
    if p.mode not in MODES:
        near = _near(str(p.mode).lower(), MODES) if isinstance(p.mode, str) else ""
        raise _err(src, "mode", f"must be one of {MODES}, got {p.mode!r}{near}")
    lo, hi = SPEED_BOUNDS_KMH[p.mode]
    if not p.class_speeds_kmh:
        raise _err(src, "speeds_kmh", "needs at least one class table, e.g. [speeds_kmh.highway]")
    for scheme, table in p.class_speeds_kmh.items():
        if not table:
            raise _err(src, f"speeds_kmh.{scheme}", "class table is empty")
        for cls, v in table.items():
            key = f"speeds_kmh.{scheme}.{cls}"
            _in_range(src, key, _number(src, key, v), lo, hi, "km/h")
    _in_range(src, "ferry.speed_kmh", p.ferry_speed_kmh, *FERRY_SPEED_BOUNDS_KMH, "km/h")
    _in_range(src, "ferry.boarding_s", p.ferry_boarding_s, *FERRY_BOARDING_BOUNDS_S, "s")
    _in_range(src, "terminal_time_s", p.terminal_time_s, *TERMINAL_BOUNDS_S, "s")
    _validate_access(p, lo, hi)
    for col, vals in p.exclude.items():
        both = sorted(set(vals) & set(p.class_speeds_kmh.get(col, {})))
        if both:
            raise _err(
                src, f"exclude.{col}", f"classes {both} also have a speed in speeds_kmh.{col}"
            )
    _validate_slowdown(p)
    _validate_osm(p)


def _validate_osm(p: SpeedProfile) -> None:
    """The car rules of ``[osm]``: factor, zone limits and turn costs."""
    src = p.source
    f = _number(src, "osm.maxspeed_factor", p.osm_maxspeed_factor)
    _in_range(src, "osm.maxspeed_factor", f, *MAXSPEED_FACTOR_BOUNDS, "")
    for zone, v in p.osm_maxspeed_zones.items():
        key = f"osm.maxspeed_zones.{zone}"
        _in_range(src, key, _number(src, key, v), 1.0, 300.0, "km/h")
    tc = p.turn_costs
    for k in ("left_s", "right_s", "u_turn_s"):
        key = f"osm.turn_costs.{k}"
        _in_range(src, key, _number(src, key, tc[k]), *TURN_COST_BOUNDS_S, "s")
    _in_range(
        src, "osm.turn_costs.straight_deg", _number(src, "", tc["straight_deg"]), 0, 90, "deg"
    )


def _validate_access(p: SpeedProfile, lo: float, hi: float) -> None:
    """The ``[access]`` leg: speed (the mode's bounds), detour factor and distances."""
    src = p.source
    _in_range(src, "access.speed_kmh", p.access_speed_kmh, lo, hi, "km/h")
    _in_range(src, "access.detour_factor", p.access_detour_factor, *DETOUR_BOUNDS, "")
    top = MAX_ACCESS_BOUNDS_M[1]
    for key, v in (
        ("access.max_distance_m", p.max_access_distance_m),
        ("access.warn_distance_m", p.warn_access_distance_m),
    ):
        v = _number(src, key, v)
        if not MAX_ACCESS_BOUNDS_M[0] < v <= top:
            raise _err(src, key, f"{v} m is outside (0, {top:.0f}] m")
    _validate_attach(p)


def _validate_attach(p: SpeedProfile) -> None:
    """``[access] attach``, ``attach_min_km`` and ``snap`` (graph hygiene)."""
    src = p.source
    for key, v, known in (
        ("access.attach", p.access_attach, defaults.ACCESS_ATTACH_RULES),
        ("access.snap", p.access_snap, defaults.ACCESS_SNAP_MODES),
    ):
        if v not in known:
            raise _err(src, key, f"{v!r} is not one of {list(known)}")
    km = _number(src, "access.attach_min_km", p.access_attach_min_km)
    if not 0.0 <= km <= MAX_ACCESS_BOUNDS_M[1] / 1000:
        raise _err(src, "access.attach_min_km", f"{km} km is outside [0, 200] km")


def _validate_slowdown(p: SpeedProfile) -> None:
    """``[urban_slowdown]``: thresholds increasing and > 0, one more factor, in (0, 1]."""
    src = p.source
    th, fa = p.urban_density_thresholds, p.urban_factors
    kt = "urban_slowdown.density_thresholds_per_km2"
    for i, t in enumerate(th):
        if not (math.isfinite(t) and t > 0):
            raise _err(src, kt, f"threshold {i} = {t} must be finite and > 0 people/km²")
        if i and t <= th[i - 1]:
            raise _err(src, kt, f"thresholds must be strictly increasing, got {list(th)}")
    if len(fa) != len(th) + 1:
        raise _err(
            src,
            "urban_slowdown.factors",
            f"needs len(thresholds) + 1 = {len(th) + 1} factors, got {len(fa)}",
        )
    for i, f in enumerate(fa):
        if not (math.isfinite(f) and 0 < f <= 1):
            raise _err(src, "urban_slowdown.factors", f"factor {i} = {f} must be in (0, 1]")


def _near(word: str, known: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``known``, or ``""``."""
    import difflib

    match = difflib.get_close_matches(word, [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


#: The keys each table of a profile may hold (``""``: the top level). The class tables
#: (``speeds_kmh.*``), ``exclude`` and ``ferry.detect`` are keyed by the data's columns
#: and values, so any key is allowed there.
_KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "": (
        "name",
        "mode",
        "description",
        "terminal_time_s",
        "respect_oneway",
        "speeds_kmh",
        "ferry",
        "exclude",
        "urban_slowdown",
        "access",
        "osm",
    ),
    "ferry": ("speed_kmh", "boarding_s", "detect"),
    "urban_slowdown": ("density_thresholds_per_km2", "factors", "osm"),
    "access": (
        "speed_kmh",
        "detour_factor",
        "max_distance_m",
        "warn_distance_m",
        "attach",
        "attach_min_km",
        "snap",
    ),
    "osm": (
        "oneway_tags",
        "access_tags",
        "maxspeed_tags",
        "maxspeed_factor",
        "maxspeed_zones",
        "destination_access",
        "restriction_tags",
        "restriction_exempt",
        "turn_costs",
    ),
    "osm.turn_costs": tuple(TURN_COST_DEFAULTS),
}
_TABLES = ("speeds_kmh", "exclude", "ferry", "urban_slowdown", "access", "osm")


def _check_keys(data: Mapping[str, Any], source: str) -> None:
    """Every table is a table and holds only known keys: a misspelt key would otherwise
    be ignored and its default used without a word."""
    if not isinstance(data, Mapping):
        raise ProfileError(f"{source}: a profile is a TOML table of keys, got {data!r}")
    for name in _TABLES:
        if name in data and not isinstance(data[name], Mapping):
            raise _err(
                source, name, f"must be a table ([{name}] with keys below it), got {data[name]!r}"
            )
    for table, known in _KNOWN_KEYS.items():
        node: Any = data
        for part in table.split(".") if table else ():
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
        if not isinstance(node, Mapping):
            raise _err(source, table, f"must be a table ([{table}] with keys below it)")
        extra = sorted(str(k) for k in node if k not in known)
        if not extra:
            continue
        full = [f"{table}.{k}" if table else k for k in extra]
        also = f" (also unknown: {full[1:]})" if len(full) > 1 else ""
        where = f"[{table}]" if table else "the top level"
        raise _err(
            source,
            full[0],
            f"unknown key{_near(extra[0], known)}{also}; {where} knows {sorted(known)} "
            "(see the hexaccess.profiles module docs for the layout)",
        )


def _get(data: Mapping[str, Any], path: tuple[str, ...], source: str, default: Any = ...) -> Any:
    node: Any = data
    for i, part in enumerate(path):
        if not isinstance(node, Mapping) or part not in node:
            if default is not ...:
                return default
            where = ".".join(path[: i + 1])
            raise _err(source, where, "missing (see hexaccess.profiles module docs for layout)")
        node = node[part]
    return node


def _value_lists(
    data: Mapping[str, Any], path: tuple[str, ...], source: str
) -> dict[str, tuple[str, ...]]:
    raw = _get(data, path, source, {})
    key = ".".join(path)
    if not isinstance(raw, Mapping):
        raise _err(source, key, "must be a table {column = [values]}")
    out: dict[str, tuple[str, ...]] = {}
    for col, vals in raw.items():
        if not isinstance(vals, (list, tuple)):
            raise _err(source, f"{key}.{col}", f"expected a list of values, got {vals!r}")
        bad = [v for v in vals if isinstance(v, (list, tuple, Mapping))]
        if bad:
            raise _err(source, f"{key}.{col}", f"expected plain values, got {bad[0]!r}")
        out[str(col)] = tuple(_class_key(v) for v in vals)
    return out


def _class_speed_tables(data: Mapping[str, Any], source: str) -> dict[str, dict[str, float]]:
    """``[speeds_kmh.<column>]`` tables: class value -> km/h (numbers only)."""
    speeds_raw = _get(data, ("speeds_kmh",), source)
    if not isinstance(speeds_raw, Mapping):
        raise _err(source, "speeds_kmh", "must be a table of class tables")
    speeds: dict[str, dict[str, float]] = {}
    for scheme, table in speeds_raw.items():
        if not isinstance(table, Mapping):
            raise _err(
                source,
                f"speeds_kmh.{scheme}",
                f"must be a table {{class = km/h}} ([speeds_kmh.{scheme}]), got {table!r}",
            )
        speeds[str(scheme)] = {
            _class_key(k): _number(source, f"speeds_kmh.{scheme}.{k}", v) for k, v in table.items()
        }
    return speeds


def _number_list(data: Mapping[str, Any], path: tuple[str, ...], source: str) -> tuple[float, ...]:
    key = ".".join(path)
    seq = _get(data, path, source)
    if not isinstance(seq, (list, tuple)):
        raise _err(source, key, f"expected a list of numbers, got {seq!r}")
    return tuple(_number(source, key, v) for v in seq)


def _text(data: Mapping[str, Any], key: str, source: str, default: Any = ...) -> Any:
    v = _get(data, (key,), source, default)
    if not isinstance(v, str):
        raise _err(source, key, f"expected a string (in quotes), got {v!r}")
    return v


def _text_in(data: Mapping[str, Any], path: tuple[str, ...], source: str, default: str) -> str:
    """A string key inside a table (e.g. ``[access] attach``), with its default."""
    v = _get(data, path, source, default)
    if not isinstance(v, str):
        raise _err(source, ".".join(path), f"expected a string (in quotes), got {v!r}")
    return v


def _from_dict(data: Mapping[str, Any], source: str) -> SpeedProfile:
    _check_keys(data, source)

    def num(*path: str, default: Any = ...) -> float:
        return _number(source, ".".join(path), _get(data, path, source, default))

    def str_list(*path: str, default: Any = ...) -> tuple[str, ...]:
        v = _get(data, path, source, default)
        if isinstance(v, tuple):
            return v
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise _err(source, ".".join(path), f"expected a list of strings, got {v!r}")
        return tuple(v)

    oneway = _get(data, ("respect_oneway",), source, True)
    if not isinstance(oneway, bool):
        raise _err(source, "respect_oneway", f"expected true or false, got {oneway!r}")
    return SpeedProfile(
        name=_get(data, ("name",), source),
        mode=_get(data, ("mode",), source),
        description=_text(data, "description", source, ""),
        class_speeds_kmh=_class_speed_tables(data, source),
        ferry_speed_kmh=num("ferry", "speed_kmh"),
        ferry_boarding_s=num("ferry", "boarding_s"),
        ferry_detect=_value_lists(data, ("ferry", "detect"), source),
        urban_density_thresholds=_number_list(
            data, ("urban_slowdown", "density_thresholds_per_km2"), source
        ),
        urban_factors=_number_list(data, ("urban_slowdown", "factors"), source),
        terminal_time_s=num("terminal_time_s"),
        access_speed_kmh=num("access", "speed_kmh"),
        access_detour_factor=num("access", "detour_factor"),
        max_access_distance_m=num("access", "max_distance_m"),
        warn_access_distance_m=num(
            "access", "warn_distance_m", default=DEFAULT_WARN_ACCESS_DISTANCE_M
        ),
        access_attach=_text_in(data, ("access", "attach"), source, defaults.ACCESS_ATTACH),
        access_attach_min_km=num(
            "access", "attach_min_km", default=defaults.ATTACH_MIN_COMPONENT_KM
        ),
        access_snap=_text_in(data, ("access", "snap"), source, defaults.ACCESS_SNAP),
        respect_oneway=oneway,
        exclude=_value_lists(data, ("exclude",), source),
        osm_oneway_tags=str_list("osm", "oneway_tags", default=list(_DEFAULT_OSM_ONEWAY_TAGS)),
        osm_access_tags=str_list("osm", "access_tags", default=list(_DEFAULT_OSM_ACCESS_TAGS)),
        osm_maxspeed_tags=str_list("osm", "maxspeed_tags", default=[]),
        osm_maxspeed_factor=num("osm", "maxspeed_factor", default=1.0),
        osm_maxspeed_zones=_zone_table(data, source),
        osm_destination_access=str_list("osm", "destination_access", default=[]),
        osm_restriction_tags=str_list("osm", "restriction_tags", default=[]),
        osm_restriction_exempt=str_list("osm", "restriction_exempt", default=[]),
        turn_costs=_turn_costs(data, source),
        urban_slowdown_osm=_flag(data, ("urban_slowdown", "osm"), source, False),
        source=source,
    )


def _flag(data: Mapping[str, Any], path: tuple[str, ...], source: str, default: bool) -> bool:
    v = _get(data, path, source, default)
    if not isinstance(v, bool):
        raise _err(source, ".".join(path), f"expected true or false, got {v!r}")
    return v


def _zone_table(data: Mapping[str, Any], source: str) -> dict[str, float]:
    """``[osm.maxspeed_zones]``: zone value (``"FI:urban"``) -> km/h."""
    raw = _get(data, ("osm", "maxspeed_zones"), source, {})
    if not isinstance(raw, Mapping):
        raise _err(source, "osm.maxspeed_zones", 'must be a table {"FI:urban" = 50, ...}')
    return {str(k): _number(source, f"osm.maxspeed_zones.{k}", v) for k, v in raw.items()}


def _turn_costs(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """``[osm.turn_costs]`` over its defaults (seconds; ``straight_deg`` in degrees)."""
    raw = _get(data, ("osm", "turn_costs"), source, {})
    out = dict(TURN_COST_DEFAULTS)
    for k, v in raw.items():
        key = f"osm.turn_costs.{k}"
        out[k] = _number(source, key, v)
    return out


# ------------------------------------------------------------------- loading
def load_profile(path_or_name: str | Path | SpeedProfile) -> SpeedProfile:
    """Load a profile: a packaged name (``car_fi``, ``walk``, ``bike``) or a TOML path.

    A :class:`SpeedProfile` passes through unchanged. A path must be a readable UTF-8
    TOML file (a directory, an empty file, another format or another text encoding is
    an error naming the file and the fix).
    """
    if isinstance(path_or_name, SpeedProfile):
        return path_or_name
    if isinstance(path_or_name, str) and path_or_name in PACKAGED_PROFILES:
        # The packaged *.toml files sit beside this module (shipped as package data).
        res = resources.files(__name__).joinpath(f"{path_or_name}.toml")
        text = res.read_text(encoding="utf-8")
        source = str(res)
    else:
        if not isinstance(path_or_name, (str, os.PathLike)):
            raise ProfileError(
                f"a speed profile is a packaged name {PACKAGED_PROFILES}, a TOML path or a "
                f"SpeedProfile; got {type(path_or_name).__name__}"
            )
        p = Path(path_or_name)
        if not p.exists():
            raise InputFileError(
                f"speed profile {str(path_or_name)!r} is neither a packaged profile "
                f"{PACKAGED_PROFILES} nor an existing TOML file"
                f"{_near(str(path_or_name), PACKAGED_PROFILES)}"
            )
        source = str(p)
        text = _profile_text(check_input_file(p, "speed profile"), source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"{source}: invalid TOML: {e}") from e
    return _from_dict(data, source)


def _profile_text(path: Path, source: str) -> str:
    """The text of a profile file: UTF-8 (a BOM is dropped); any other content is an
    error naming what the file is and the fix."""
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ProfileError(
            f"{source}: the file is UTF-16 text; TOML files must be UTF-8: save it as UTF-8"
        )
    fmt = sniff_format(path)
    if fmt not in ("text", "csv", "json"):
        raise ProfileError(
            f"{source}: is {FORMAT_NAMES.get(fmt, fmt)} by its content, not a TOML text "
            "file; give a speed profile .toml (see hexaccess.profiles)"
        )
    try:
        return raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ProfileError(
            f"{source}: not UTF-8 text (byte 0x{raw[e.start]:02x} on line {line}, probably "
            "Latin-1/Windows-1252); TOML files must be UTF-8: save it as UTF-8 (e.g. "
            "iconv -f latin1 -t utf-8)"
        ) from None


# ------------------------------------------------------------- TOML writing
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(k: str) -> str:
    return k if _BARE_KEY.match(k) else _toml_str(k)


def _toml_str(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    out = "".join(c if ord(c) >= 0x20 else f"\\u{ord(c):04x}" for c in out)
    return f'"{out}"'


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)  # shortest round-trip form
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _dump_toml(d: Mapping[str, Any], prefix: str = "") -> str:
    scalars = [
        f"{_toml_key(k)} = {_toml_value(v)}" for k, v in d.items() if not isinstance(v, Mapping)
    ]
    chunks: list[str] = []
    if prefix:
        chunks.append("\n".join([f"[{prefix}]", *scalars]))
    elif scalars:
        chunks.append("\n".join(scalars))
    for k, v in d.items():
        if isinstance(v, Mapping):
            name = f"{prefix}.{_toml_key(k)}" if prefix else _toml_key(k)
            chunks.append(_dump_toml(v, name))
    text = "\n\n".join(chunks)
    return text + "\n" if not prefix else text
