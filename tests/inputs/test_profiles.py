"""Speed profiles: packaged files load, bounds are enforced with useful messages, TOML
round-trips, overrides for calibration."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from hexaccess.profiles import (
    PACKAGED_PROFILES,
    SPEED_BOUNDS_KMH,
    ProfileError,
    SpeedProfile,
    load_profile,
)


@pytest.mark.parametrize("name", PACKAGED_PROFILES)
def test_packaged_profiles_load_within_bounds(name: str) -> None:
    p = load_profile(name)
    assert p.name == name
    lo, hi = SPEED_BOUNDS_KMH[p.mode]
    for table in p.class_speeds_kmh.values():
        assert all(lo <= v <= hi for v in table.values())
    assert p.source.endswith(f"{name}.toml")
    # the raw file and the model agree on every class speed
    raw = tomllib.loads(Path(p.source).read_text(encoding="utf-8"))
    for scheme, table in raw["speeds_kmh"].items():
        for cls, v in table.items():
            assert p.speed_kmh(scheme, cls) == float(v)


def test_car_profile_classes_cover_nls_and_ferry() -> None:
    p = load_profile("car_fi")
    for level in (21, 22, 23, 26):  # the NLS road categories of the shared README
        assert p.speed_kmh("IGDS_LEVEL", level) > 0
    # faster road categories are not slower
    speeds = [p.speed_kmh("IGDS_LEVEL", v) for v in (21, 22, 23, 26)]
    assert speeds == sorted(speeds)
    assert p.is_ferry("IGDS_LEVEL", 24) and not p.is_ferry("IGDS_LEVEL", 23)
    assert p.speed_kmh("IGDS_LEVEL", 26.0) == p.speed_kmh("IGDS_LEVEL", "26")
    assert p.is_excluded("highway", "footway")


def test_slowdown_classes() -> None:
    p = load_profile("car_fi")
    th, fa = p.urban_density_thresholds, p.urban_factors
    d = np.array([0.0, th[0] - 1e-9, th[0], th[-1], 1e9, np.nan])
    expect = [fa[0], fa[0], fa[1], fa[-1], fa[-1], 1.0]
    assert np.array_equal(p.slowdown_factor(d), expect)
    assert p.slowdown_factor(0.0) == fa[0]


def test_toml_round_trip(tmp_path: Path) -> None:
    for name in PACKAGED_PROFILES:
        p = load_profile(name)
        out = tmp_path / f"{name}_copy.toml"
        p.to_toml(out)
        q = load_profile(out)
        assert q == p
        assert q.to_toml() == p.to_toml()


def test_round_trip_of_awkward_values(tmp_path: Path) -> None:
    p = load_profile("walk").with_overrides(
        description='quote " backslash \\ newline \n tab \t ü',
        terminal_time_s=0.1 + 0.2,  # needs full repr to round-trip
    )
    out = tmp_path / "w.toml"
    p.to_toml(out)
    q = load_profile(out)
    assert q == p
    assert q.terminal_time_s == 0.1 + 0.2


def _write_modified(tmp_path: Path, old: str, new: str, name: str = "car_fi") -> Path:
    src = Path(load_profile(name).source).read_text(encoding="utf-8")
    assert old in src, old
    path = tmp_path / "bad.toml"
    path.write_text(src.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("26 = 105", "26 = 200", "speeds_kmh.IGDS_LEVEL.26"),
        ("26 = 105", "26 = 2", "speeds_kmh.IGDS_LEVEL.26"),
        ("terminal_time_s = 120", "terminal_time_s = 2000", "terminal_time_s"),
        ("terminal_time_s = 120", "terminal_time_s = -1", "terminal_time_s"),
        ("factors = [1.0, 0.85", "factors = [1.5, 0.85", "urban_slowdown.factors"),
        ("factors = [1.0, 0.85", "factors = [0.0, 0.85", "urban_slowdown.factors"),
        ("factors = [1.0, 0.85,", "factors = [1.0,", "urban_slowdown.factors"),
        ("[200, 1000,", "[1000, 200,", "urban_slowdown.density_thresholds_per_km2"),
        ("detour_factor = 1.3", "detour_factor = 0.9", "access.detour_factor"),
        ("max_distance_m = 30000", "max_distance_m = 0", "access.max_distance_m"),
        ("boarding_s = 600", "boarding_s = 9000", "ferry.boarding_s"),
        ('mode = "car"', 'mode = "plane"', "mode"),
        ("speed_kmh = 8\n", "speed_kmh = 'fast'\n", "ferry.speed_kmh"),
        ("speed_kmh = 8\n", "", "ferry.speed_kmh"),
        ('highway = ["footway",', 'highway = ["residential", "footway",', "exclude.highway"),
    ],
)
def test_bounds_errors_name_key_and_file(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = _write_modified(tmp_path, old, new)
    with pytest.raises(ProfileError) as e:
        load_profile(path)
    msg = str(e.value)
    assert f"'{key}'" in msg
    assert str(path) in msg


def test_walk_speed_bound_is_mode_specific(tmp_path: Path) -> None:
    path = _write_modified(tmp_path, "23 = 4.8", "23 = 30", name="walk")
    with pytest.raises(ProfileError, match=r"speeds_kmh\.IGDS_LEVEL\.23.*\[0\.5, 10\.0\]"):
        load_profile(path)


def test_unknown_key_and_bad_toml(tmp_path: Path) -> None:
    path = _write_modified(tmp_path, 'name = "car_fi"', 'name = "car_fi"\nspeed = 3')
    with pytest.raises(ProfileError, match="'speed': unknown key"):
        load_profile(path)
    bad = tmp_path / "broken.toml"
    bad.write_text("name = ", encoding="utf-8")
    with pytest.raises(ProfileError, match="invalid TOML"):
        load_profile(bad)
    with pytest.raises(FileNotFoundError, match="neither a packaged profile"):
        load_profile("no_such_profile")


def test_with_overrides() -> None:
    p = load_profile("car_fi")
    q = p.with_overrides(
        speeds_kmh__IGDS_LEVEL__26=100,
        terminal_time_s=90,
        urban_factors=(1.0, 0.9, 0.8, 0.7, 0.6),
        **{"ferry.boarding_s": 300},
    )
    assert q.speed_kmh("IGDS_LEVEL", 26) == 100
    assert q.terminal_time_s == 90
    assert q.urban_factors == (1.0, 0.9, 0.8, 0.7, 0.6)
    assert q.ferry_boarding_s == 300
    # untouched values and the original profile are unchanged
    assert q.speed_kmh("IGDS_LEVEL", 23) == p.speed_kmh("IGDS_LEVEL", 23)
    assert p.speed_kmh("IGDS_LEVEL", 26) == 105 and p.terminal_time_s == 120
    # new classes may be added for a scheme
    assert p.with_overrides(speeds_kmh__IGDS_LEVEL__99=40).speed_kmh("IGDS_LEVEL", 99) == 40
    with pytest.raises(ProfileError, match=r"speeds_kmh\.IGDS_LEVEL\.26"):
        p.with_overrides(speeds_kmh__IGDS_LEVEL__26=500)
    with pytest.raises(ProfileError, match="unknown key 'terminal_time'"):
        p.with_overrides(terminal_time=5)
    with pytest.raises(ProfileError, match="unknown key 'foo__bar'"):
        p.with_overrides(foo__bar=1)


def test_direct_construction_validates() -> None:
    base = load_profile("bike")
    with pytest.raises(ProfileError, match=r"access\.speed_kmh"):
        SpeedProfile(**{**base.__dict__, "access_speed_kmh": math.inf})


def test_profiles_package_ships_its_toml_files_and_names_unknown_classes() -> None:
    import hexaccess.profiles
    from hexaccess.errors import UnknownNameError
    from hexaccess.profiles import _class_key

    here = Path(hexaccess.profiles.__file__).parent
    for name in PACKAGED_PROFILES:
        assert Path(load_profile(name).source) == here / f"{name}.toml"
    assert _class_key(26.0) == "26"
    p = load_profile("car_fi")
    with pytest.raises(UnknownNameError, match=r"no speed for IGDS_LEVEL = '99'.*known classes"):
        p.speed_kmh("IGDS_LEVEL", 99)
    with pytest.raises(KeyError, match="no class table for column 'NOPE'"):  # still a KeyError
        p.speed_kmh("NOPE", 1)


def test_access_warn_distance_default_round_trip_and_bounds(tmp_path: Path) -> None:
    from hexaccess.profiles import DEFAULT_WARN_ACCESS_DISTANCE_M

    p = load_profile("car_fi")
    assert p.warn_access_distance_m == DEFAULT_WARN_ACCESS_DISTANCE_M == 5000.0
    q = p.with_overrides(warn_access_distance_m=12_000)
    assert q.to_dict()["access"]["warn_distance_m"] == 12_000
    out = tmp_path / "q.toml"
    q.to_toml(out)
    assert load_profile(out) == q
    with pytest.raises(ProfileError, match=r"'access\.warn_distance_m'.*outside"):
        p.with_overrides(**{"access.warn_distance_m": 0})


@pytest.mark.parametrize(
    ("old", "new", "key", "near"),
    [
        ("boarding_s = 600", "boarding_s = 600\nboarding_time_s = 1", "ferry.boarding_time_s",
         "boarding_s"),
        ("detour_factor = 1.3", "detour_factor = 1.3\ndetour = 2", "access.detour",
         "detour_factor"),
        ("[osm]\n", "[osm]\naccess_tag = ['a']\n", "osm.access_tag", "access_tags"),
    ],
)  # fmt: skip
def test_unknown_keys_in_tables_name_the_nearest_key(
    tmp_path: Path, old: str, new: str, key: str, near: str
) -> None:
    path = _write_modified(tmp_path, old, new)
    with pytest.raises(ProfileError, match=rf"'{key}': unknown key \(did you mean '{near}'\?\)"):
        load_profile(path)


def test_profile_files_that_are_not_utf8_toml(tmp_path: Path) -> None:
    src = Path(load_profile("car_fi").source).read_text(encoding="utf-8")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(src.replace('description = "', 'description = "ä', 1).encode("latin-1"))
    with pytest.raises(ProfileError, match=r"not UTF-8 text \(byte 0xe4 on line \d+"):
        load_profile(latin)
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + src.encode("utf-8"))
    assert load_profile(bom) == load_profile("car_fi")
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(FileNotFoundError, match="is a directory"):
        load_profile(tmp_path / "dir.toml")
    with pytest.raises(FileNotFoundError, match="did you mean 'car_fi'"):
        load_profile("car-fi")
