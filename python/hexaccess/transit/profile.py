"""The transit profile: walking to, from and between stops, transfer limits and slack,
and the departure window, as a TOML file like the speed profiles.

The packaged ``transit`` profile is ``hexaccess/profiles/transit.toml`` (every number's
source in its comments). Layout (keys optional unless marked; defaults are the packaged
values)::

    name = "transit"                  # required
    description = "..."
    [walk]
    speed_kmh = 4.8                   # 0.5-10 km/h
    detour_factor = 1.3               # 1-3: street distance / straight line
    max_access_m = 1000               # (0, 10 000] m: cell centre <-> stop, straight line
    max_transfer_m = 500              # [0, 5 000] m: stop <-> stop, straight line
    [transfers]
    max_transfers = 3                 # 0-20: boardings - 1
    boarding_slack_s = 60             # 0-1800 s: at the first stop, before boarding
    min_transfer_s = 120              # 0-1800 s: changing at one stop (default of a feed)
    [window]
    minutes = 120                     # 1-1440
    step_s = 60                       # 1-3600
    percentiles = [25, 50, 75]        # strictly increasing, each in [0, 100]

Unknown keys raise :class:`~hexaccess.errors.ProfileError` naming the key, the file and
the nearest known key (a misspelt key would otherwise leave its default in force); a
value outside its bounds names the key, the value and the bounds.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from hexaccess._files import check_input_file
from hexaccess.errors import InputFileError, ProfileError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["PACKAGED_TRANSIT_PROFILES", "TransitProfile", "load_transit_profile"]

PACKAGED_TRANSIT_PROFILES = ("transit",)

#: table -> key -> (attribute, low, high, whole number?); bounds inclusive except
#: ``max_access_m`` whose low bound 0 is exclusive.
_SCHEMA: dict[str, dict[str, tuple[str, float, float, bool]]] = {
    "walk": {
        "speed_kmh": ("walk_speed_kmh", 0.5, 10.0, False),
        "detour_factor": ("detour_factor", 1.0, 3.0, False),
        "max_access_m": ("max_access_m", 0.0, 10_000.0, False),
        "max_transfer_m": ("max_transfer_m", 0.0, 5_000.0, False),
    },
    "transfers": {
        "max_transfers": ("max_transfers", 0, 20, True),
        "boarding_slack_s": ("boarding_slack_s", 0, 1800, True),
        "min_transfer_s": ("min_transfer_s", 0, 1800, True),
    },
    "window": {
        "minutes": ("window_minutes", 1, 1440, True),
        "step_s": ("step_s", 1, 3600, True),
    },
}
_TOP_KEYS = ("name", "description", *_SCHEMA)
_WINDOW_KEYS = (*_SCHEMA["window"], "percentiles")


@dataclass(frozen=True)
class TransitProfile:
    """A validated transit profile (see the module docstring for each field's meaning
    and bounds). Build it with :func:`load_transit_profile`."""

    name: str = "transit"
    description: str = ""
    walk_speed_kmh: float = 4.8
    detour_factor: float = 1.3
    max_access_m: float = 1000.0
    max_transfer_m: float = 500.0
    max_transfers: int = 3
    boarding_slack_s: int = 60
    min_transfer_s: int = 120
    window_minutes: int = 120
    step_s: int = 60
    percentiles: tuple[float, ...] = (25.0, 50.0, 75.0)
    source: str = "<defaults>"

    @property
    def walk_speed_ms(self) -> float:
        """Walking speed in metres per second."""
        return self.walk_speed_kmh / 3.6

    def walk_seconds(self, straight_m: Any) -> Any:
        """Walking time (s) for straight-line distances (m): distance x detour / speed."""
        return straight_m * self.detour_factor / self.walk_speed_ms


def _near(word: str, known: Any) -> str:
    match = difflib.get_close_matches(word, [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _err(source: str, key: str, msg: str) -> ProfileError:
    return ProfileError(f"{source}: key '{key}': {msg}")


def _check_unknown(node: Mapping[str, Any], known: tuple[str, ...], table: str, src: str) -> None:
    extra = sorted(str(k) for k in node if k not in known)
    if extra:
        key = f"{table}.{extra[0]}" if table else extra[0]
        where = f"[{table}]" if table else "the top level"
        raise _err(
            src,
            key,
            f"unknown key{_near(extra[0], known)}; {where} of a transit profile knows "
            f"{sorted(known)} (see hexaccess.transit.profile)",
        )


def _bounded(src: str, key: str, value: Any, low: float, high: float, whole: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _err(src, key, f"expected a number, got {value!r}")
    if whole and float(value) != int(value):
        raise _err(src, key, f"expected a whole number, got {value!r}")
    v = float(value)
    low_ok = v > low if key == "walk.max_access_m" else v >= low
    if not (math.isfinite(v) and low_ok and v <= high):
        span = f"({low:g}, {high:g}]" if key == "walk.max_access_m" else f"[{low:g}, {high:g}]"
        raise _err(src, key, f"{value!r} is outside {span}")
    return v


def _percentiles(src: str, value: Any) -> tuple[float, ...]:
    key = "window.percentiles"
    if not isinstance(value, (list, tuple)) or not value:
        raise _err(src, key, f"expected a non-empty list of numbers, got {value!r}")
    out = tuple(_bounded(src, key, v, 0.0, 100.0, False) for v in value)
    if any(b <= a for a, b in itertools.pairwise(out)):
        raise _err(src, key, f"{list(value)} must be strictly increasing")
    return out


def transit_profile_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> TransitProfile:
    """A :class:`TransitProfile` from a parsed TOML table (``source`` names it in
    errors)."""
    if not isinstance(data, Mapping):
        raise ProfileError(f"{source}: a transit profile is a TOML table, got {data!r}")
    _check_unknown(data, _TOP_KEYS, "", source)
    if not isinstance(data.get("name"), str) or not data["name"]:
        raise _err(source, "name", "missing or empty: give the profile a name")
    kwargs: dict[str, Any] = {"name": data["name"], "source": source}
    kwargs["description"] = str(data.get("description", ""))
    for table, keys in _SCHEMA.items():
        node = data.get(table, {})
        if not isinstance(node, Mapping):
            raise _err(source, table, f"must be a table ([{table}] with keys below it)")
        _check_unknown(node, _WINDOW_KEYS if table == "window" else tuple(keys), table, source)
        for key, (attr, low, high, whole) in keys.items():
            if key in node:
                v = _bounded(source, f"{table}.{key}", node[key], low, high, whole)
                kwargs[attr] = int(v) if whole else v
        if table == "window" and "percentiles" in node:
            kwargs["percentiles"] = _percentiles(source, node["percentiles"])
    return TransitProfile(**kwargs)


def load_transit_profile(name_or_path: str | os.PathLike[str] | TransitProfile) -> TransitProfile:
    """The packaged ``"transit"`` profile, a TOML path, or a :class:`TransitProfile`
    (passed through). A missing path names the packaged profiles and the nearest one."""
    if isinstance(name_or_path, TransitProfile):
        return name_or_path
    if isinstance(name_or_path, str) and name_or_path in PACKAGED_TRANSIT_PROFILES:
        # The packaged TOML sits in hexaccess/profiles/ with the speed profiles.
        res = resources.files("hexaccess.profiles").joinpath(f"{name_or_path}.toml")
        text, source = res.read_text(encoding="utf-8"), str(res)
    else:
        if not isinstance(name_or_path, (str, os.PathLike)):
            raise ProfileError(
                f"a transit profile is a packaged name {PACKAGED_TRANSIT_PROFILES}, a TOML "
                f"path or a TransitProfile; got {type(name_or_path).__name__}"
            )
        p = Path(name_or_path)
        if not p.exists():
            raise InputFileError(
                f"transit profile {str(name_or_path)!r} is neither a packaged profile "
                f"{PACKAGED_TRANSIT_PROFILES} nor an existing TOML file"
                f"{_near(str(name_or_path), PACKAGED_TRANSIT_PROFILES)}"
            )
        raw = check_input_file(p, "transit profile").read_bytes()
        source = str(p)
        try:
            text = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
        except UnicodeDecodeError:
            raise ProfileError(
                f"{source}: not UTF-8 text; TOML files must be UTF-8: save it as UTF-8"
            ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"{source}: invalid TOML: {e}") from e
    return transit_profile_from_dict(data, source)
