"""Hostile inputs for roads, OpenStreetMap, offices, speed profiles and access legs.

Each case writes its own tiny inputs (the tiny world of ``fixtures.worlds``, then one
thing broken), drives the command line or the API once and classifies what happened:

- ``clear``: the error (exit 2, one line on stderr; or the expected error class) or the
  warning names every expected word (file, row, value, fix);
- ``accepted``: a correct result, checked;
- ``vague`` (an error without the words), ``traceback`` (exit 1 or an exception that is
  not a ``HexaccessError``), ``silent`` (exit 0 / a result where an error or a warning
  was due, or a wrong result), ``refused`` (a clear error where the input is fine).

The test asserts the target outcome of every case (``clear`` or ``accepted``).
:func:`run_case` is also what the before/after classification of the catalogue runs.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
import struct
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from fixtures.worlds import OFFICES, X0, Y0, tiny_world
from pyogrio.raw import write
from pyproj import Transformer

import hexaccess

Action = Callable[[], Any]


# ------------------------------------------------------------------ the cases
@dataclass(frozen=True)
class Case:
    """One hostile input: ``build(tmp_path)`` writes the inputs and returns the call;
    ``cli`` says whether the call returns ``main``'s exit code (run by :func:`run_case`
    with stderr captured) or an API value. ``expect`` is ``error``, ``warn`` or
    ``accept``; ``words`` must appear in the message; ``check(value, messages)``
    verifies an accepted result."""

    id: str
    build: Callable[[Path], Any]
    expect: str
    words: tuple[str, ...] = ()
    cli: bool = False
    error: type[BaseException] = hexaccess.HexaccessError
    check: Callable[[Any, list[str]], None] | None = None

    @property
    def goal(self) -> str:
        """The outcome the inputs deserve."""
        return "accepted" if self.expect == "accept" else "clear"


CASES: list[Case] = []


def case(
    id: str,
    expect: str = "error",
    *words: str,
    cli: bool = False,
    error: type[BaseException] = hexaccess.HexaccessError,
    check: Callable[[Any, list[str]], None] | None = None,
) -> Callable[[Callable[[Path], Any]], Callable[[Path], Any]]:
    """Register ``build`` as a case (a decorator)."""

    def register(build: Callable[[Path], Any]) -> Callable[[Path], Any]:
        CASES.append(Case(id, build, expect, tuple(words), cli, error, check))
        return build

    return register


# ------------------------------------------------------------------ helpers
def _world(tmp_path: Path, offices: Sequence[Any] = OFFICES) -> Any:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return tiny_world(tmp_path, offices=list(offices))


def _run_args(w: Any, tmp_path: Path, **replace: Any) -> list[Any]:
    """``hexaccess run`` on the tiny world; ``replace`` swaps one input (``--roads`` ...)."""
    given = {
        "population": w.population,
        "roads": w.roads,
        "offices": w.offices,
        "municipality_table": w.municipality_table,
        "municipalities": w.municipalities,
        "out": tmp_path / "out",
        **replace,
    }
    args: list[Any] = ["run"]
    for key, value in given.items():
        if value is not None:
            args += [f"--{key.replace('_', '-')}", value]
    return args


def _study(w: Any, **replace: Any) -> hexaccess.Study:
    inputs = {
        "population": w.population,
        "roads": w.roads,
        "offices": w.offices,
        "municipality_table": w.municipality_table,
        "municipalities": w.municipalities,
        **replace,
    }
    return hexaccess.Study(**inputs)


def _profile_text(old: str = "", new: str = "", name: str = "car_fi") -> str:
    from hexaccess.profiles import load_profile

    text = Path(load_profile(name).source).read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new, 1) if old else text


def _profile(tmp_path: Path, old: str = "", new: str = "", **kw: Any) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(_profile_text(old, new, **kw), encoding="utf-8")
    return path


def _osm_pbf(path: Path, n_nodes: int = 20_000, highway: str = "primary") -> Path:
    """A PBF with ``n_nodes`` nodes near Helsinki and ways of 10 nodes (several blocks)."""
    import osmium

    rng = np.random.default_rng(7)
    lon = 24.9 + rng.random(n_nodes) * 0.1
    lat = 60.2 + rng.random(n_nodes) * 0.05
    w = osmium.SimpleWriter(str(path))
    for i in range(n_nodes):
        w.add_node(osmium.osm.mutable.Node(id=i + 1, location=(lon[i], lat[i]), tags={}))
    for j in range(n_nodes // 10):
        nodes = list(range(j * 10 + 1, j * 10 + 11))
        w.add_way(osmium.osm.mutable.Way(id=j + 1, nodes=nodes, tags={"highway": highway}))
    w.close()
    return path


def _lines_gpkg(path: Path, values: Sequence[Any], column: str, kind: str = "LineString") -> Path:
    a, b = (X0, Y0), (X0 + 10_000, Y0)
    geoms = [shapely.LineString([a, b]) if kind == "LineString" else shapely.Point(a)] * len(values)
    write(
        path,
        geometry=shapely.to_wkb(np.array(geoms, dtype=object)),
        field_data=[np.array(values)],
        fields=[column],
        geometry_type=kind,
        crs="EPSG:3067",
        driver="GPKG",
    )
    return path


def _offices_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _lonlat(dx: float, dy: float) -> tuple[float, float]:
    lon, lat = Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True).transform(
        X0 + dx, Y0 + dy
    )
    return float(lon), float(lat)


def _read(path: Any) -> Callable[[], Any]:
    from hexaccess.network import read_roads

    return lambda: read_roads(path, "car_fi")


def _read_offices(path: Any, **kw: Any) -> Callable[[], Any]:
    from hexaccess.offices import read_offices

    return lambda: read_offices(path, **kw)


def _load(path: Any) -> Callable[[], Any]:
    from hexaccess.profiles import load_profile

    return lambda: load_profile(path)


# ====================================================================== roads
@case("roads-directory", "error", "roads", "directory", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path)
    folder = tmp_path / "roads"
    folder.mkdir()
    shutil.copy(w.roads, folder / "roads.gpkg")
    return _run_args(w, tmp_path, roads=folder)


@case("roads-directory-named-gpkg", "error", "roads.gpkg", "directory", error=hexaccess.InputError)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    folder = tmp_path / "roads.gpkg"
    folder.mkdir()
    return lambda: _study(w, roads=folder).solve()


@case("pbf-directory", "error", "net.osm.pbf", "directory", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path)
    (tmp_path / "net.osm.pbf").mkdir()
    return _run_args(w, tmp_path, roads=tmp_path / "net.osm.pbf")


@case("pbf-empty", "error", "net.osm.pbf", "empty", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path)
    (tmp_path / "net.osm.pbf").write_bytes(b"")
    return _run_args(w, tmp_path, roads=tmp_path / "net.osm.pbf")


@case("pbf-truncated", "error", "net.osm.pbf", "truncated", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path)
    full = _osm_pbf(tmp_path / "full.osm.pbf").read_bytes()
    (tmp_path / "net.osm.pbf").write_bytes(full[: len(full) // 2])
    return _run_args(w, tmp_path, roads=tmp_path / "net.osm.pbf")


@case("pbf-cut-in-first-block", "error", "net.osm.pbf", "OpenStreetMap")
def _(tmp_path: Path) -> Any:
    from hexaccess.network import read_osm_pbf

    full = _osm_pbf(tmp_path / "full.osm.pbf").read_bytes()
    (tmp_path / "net.osm.pbf").write_bytes(full[:3])
    return lambda: read_osm_pbf(tmp_path / "net.osm.pbf", "car_fi")


@case("pbf-is-csv-text", "error", "net.osm.pbf", "not an OpenStreetMap", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path)
    (tmp_path / "net.osm.pbf").write_text("id,highway\n1,primary\n")
    return _run_args(w, tmp_path, roads=tmp_path / "net.osm.pbf")


@case("pbf-is-html-error-page", "error", "net.osm.pbf", "not an OpenStreetMap")
def _(tmp_path: Path) -> Any:
    from hexaccess.network import read_osm_pbf

    (tmp_path / "net.osm.pbf").write_text("<!DOCTYPE html><html><body>502 Bad Gateway</body>")
    return lambda: read_osm_pbf(tmp_path / "net.osm.pbf", "car_fi")


def _same_as_gpkg(value: Any, messages: list[str]) -> None:
    result, reference = value
    assert result.summary()["mean_time_min"] == reference.summary()["mean_time_min"]


@case("pbf-name-holds-a-geopackage", "accept", check=_same_as_gpkg)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path)
    shutil.copy(w.roads, tmp_path / "roads.osm.pbf")
    return lambda: (_study(w, roads=tmp_path / "roads.osm.pbf").solve(), _study(w).solve())


def _osm_xml_ok(value: Any, messages: list[str]) -> None:
    assert value.num_edges == 1 and value.class_column == "highway"


@case("pbf-name-holds-osm-xml", "accept", check=_osm_xml_ok)
def _(tmp_path: Path) -> Any:
    from hexaccess.network import read_osm_pbf

    (tmp_path / "net.osm.pbf").write_text(
        '<?xml version="1.0"?>\n<osm version="0.6"><node id="1" lat="60.2" lon="24.9"/>'
        '<node id="2" lat="60.21" lon="24.9"/><way id="1"><nd ref="1"/><nd ref="2"/>'
        '<tag k="highway" v="primary"/></way></osm>\n'
    )
    return lambda: read_osm_pbf(tmp_path / "net.osm.pbf", "car_fi", split_at_vertices=False)


@case("pbf-only-footways-for-car", "error", "net.osm.pbf", "no ways usable", "car_fi")
def _(tmp_path: Path) -> Any:
    from hexaccess.network import read_osm_pbf

    _osm_pbf(tmp_path / "net.osm.pbf", 200, highway="footway")
    return lambda: read_osm_pbf(tmp_path / "net.osm.pbf", "car_fi")


@case("gpkg-garbage", "error", "roads.gpkg", "corrupt", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    (tmp_path / "roads.gpkg").write_bytes(np.random.default_rng(1).bytes(5000))
    return _run_args(w, tmp_path, roads=tmp_path / "roads.gpkg")


@case("gpkg-truncated", "error", "roads.gpkg", "truncated", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    data = Path(w.roads).read_bytes()
    (tmp_path / "roads.gpkg").write_bytes(data[: len(data) // 2])
    return _run_args(w, tmp_path, roads=tmp_path / "roads.gpkg")


@case("gpkg-empty-file", "error", "roads.gpkg", "empty", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    (tmp_path / "roads.gpkg").write_bytes(b"")
    return _run_args(w, tmp_path, roads=tmp_path / "roads.gpkg")


@case("gpkg-no-features", "error", "zero.gpkg", "no features", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path)
    _lines_gpkg(tmp_path / "zero.gpkg", np.zeros(0, dtype=np.int32), "IGDS_LEVEL")
    return _run_args(w, tmp_path, roads=tmp_path / "zero.gpkg")


@case("gpkg-only-footways-for-car", "error", "foot.gpkg", "no line usable", "footway", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path)
    _lines_gpkg(tmp_path / "foot.gpkg", np.array(["footway", "path"], dtype=object), "highway")
    return _run_args(w, tmp_path, roads=tmp_path / "foot.gpkg")


@case("gpkg-points-not-lines", "error", "points.gpkg", "not lines", "Point")
def _(tmp_path: Path) -> Any:
    return _read(_lines_gpkg(tmp_path / "points.gpkg", [23], "IGDS_LEVEL", kind="Point"))


@case("gpkg-unknown-road-class", "error", "roads.gpkg", "IGDS_LEVEL", "'99'", "speeds_kmh")
def _(tmp_path: Path) -> Any:
    return _read(_lines_gpkg(tmp_path / "roads.gpkg", np.array([23, 99], np.int32), "IGDS_LEVEL"))


@case("parquet-garbage", "error", "roads.parquet", "corrupt")
def _(tmp_path: Path) -> Any:
    (tmp_path / "roads.parquet").write_bytes(np.random.default_rng(2).bytes(5000))
    return _read(tmp_path / "roads.parquet")


@case("parquet-truncated", "error", "roads.parquet", "truncated", cli=True)
def _(tmp_path: Path) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    w = _world(tmp_path / "w")
    pq.write_table(pa.table({"IGDS_LEVEL": list(range(5000))}), tmp_path / "full.parquet")
    data = (tmp_path / "full.parquet").read_bytes()
    (tmp_path / "roads.parquet").write_bytes(data[: len(data) // 2])
    return _run_args(w, tmp_path, roads=tmp_path / "roads.parquet")


@case("parquet-without-geometry", "error", "plain.parquet", "GeoParquet")
def _(tmp_path: Path) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"IGDS_LEVEL": [23, 22]}), tmp_path / "plain.parquet")
    return _read(tmp_path / "plain.parquet")


@case("roads-is-a-raster", "error", "roads.tif", "raster", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path)
    (tmp_path / "roads.tif").write_bytes(b"II*\x00" + struct.pack("<I", 8) + bytes(200))
    return _run_args(w, tmp_path, roads=tmp_path / "roads.tif")


# ===================================================================== offices
@case("offices-directory", "error", "offices.csv", "directory", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    (tmp_path / "offices.csv").mkdir()
    return _run_args(w, tmp_path, offices=tmp_path / "offices.csv")


@case("offices-directory-api", "error", "offices.csv", "directory", error=hexaccess.InputFileError)
def _(tmp_path: Path) -> Any:
    (tmp_path / "offices.csv").mkdir()
    return _read_offices(tmp_path / "offices.csv")


def _latin1_names(value: Any, messages: list[str]) -> None:
    assert value.names == ["Märsta", "Åbo"], value.names
    assert any("Windows-1252" in m and "UTF-8" in m for m in messages), messages


@case("offices-latin1", "accept", check=_latin1_names)
def _(tmp_path: Path) -> Any:
    text = "name,lon,lat\nMärsta,24.90,60.20\nÅbo,22.27,60.45\n"
    return _read_offices(_offices_csv(tmp_path / "o.csv", text, "latin-1"))


def _latin1_run(value: Any, messages: list[str]) -> None:
    cells = pd.read_parquet(value / "cells.parquet")
    assert "Märsta" in set(cells["office_name"].dropna()), set(cells["office_name"])


@case("offices-latin1-cli", "accept", cli=True, check=_latin1_run)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    frame = pd.read_csv(w.offices, dtype={"municipality": str})
    frame["name"] = ["Märsta", "Nörre", "Östby"]
    path = tmp_path / "offices.csv"
    path.write_bytes(frame.to_csv(index=False).encode("latin-1"))
    return _run_args(w, tmp_path, offices=path)


def _utf16_names(value: Any, messages: list[str]) -> None:
    assert value.names == ["Äänekoski"] and value.lat.tolist() == [62.6]


@case("offices-utf16-with-bom", "accept", check=_utf16_names)
def _(tmp_path: Path) -> Any:
    return _read_offices(_offices_csv(tmp_path / "o.csv", "name,lon,lat\nÄänekoski,25.7,62.6\n",
                                      "utf-16"))  # fmt: skip


@case("offices-empty-file", "error", "offices.csv", "empty", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    (tmp_path / "offices.csv").write_bytes(b"")
    return _run_args(w, tmp_path, offices=tmp_path / "offices.csv")


@case("offices-blank-lines-only", "error", "o.csv", "no offices", "header")
def _(tmp_path: Path) -> Any:
    return _read_offices(_offices_csv(tmp_path / "o.csv", "\n\n\n"))


@case("offices-header-only", "error", "offices.csv", "no offices", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    path = _offices_csv(tmp_path / "offices.csv", "name,lon,lat\n")
    return _run_args(w, tmp_path, offices=path)


@case("offices-nan-lon", "error", "o.csv", "'B'", "nan", "row 2", "line 3")
def _(tmp_path: Path) -> Any:
    return _read_offices(_offices_csv(tmp_path / "o.csv", "name,lon,lat\nA,24,60\nB,nan,60\n"))


@case("offices-infinite-lat", "error", "o.csv", "'B'", "inf", "row 2")
def _(tmp_path: Path) -> Any:
    return _read_offices(_offices_csv(tmp_path / "o.csv", "name,lon,lat\nA,24,60\nB,24,inf\n"))


@case("offices-infinite-lon-with-municipality", "error", "o.csv", "'B'", "inf", "row 2")
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    body = "name,lon,lat,municipality\nA,24.9,60.2,001\nB,inf,60.2,001\n"
    return _read_offices(_offices_csv(tmp_path / "o.csv", body), municipalities=w.municipalities)


@case("offices-lat-out-of-range", "error", "offices.csv", "'North'", "95", "row 2", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    frame = pd.read_csv(w.offices, dtype={"municipality": str})
    frame.loc[1, "lat"] = 95.0
    path = tmp_path / "offices.csv"
    frame.to_csv(path, index=False)
    return _run_args(w, tmp_path, offices=path)


@case("offices-lon-is-text", "error", "o.csv", "'A'", "sixty", "row 1")
def _(tmp_path: Path) -> Any:
    return _read_offices(_offices_csv(tmp_path / "o.csv", "name,lon,lat\nA,sixty,60\n"))


@case("offices-no-coordinates", "error", "o.csv", "'B'", "no coordinates", "row 2")
def _(tmp_path: Path) -> Any:
    return _read_offices(_offices_csv(tmp_path / "o.csv", "name,lon,lat\nA,24,60\nB,,\n"))


def _decimal_commas(value: Any, messages: list[str]) -> None:
    assert value.lon.tolist() == [24.95] and value.lat.tolist() == [60.17]


@case("offices-semicolons-decimal-commas", "accept", check=_decimal_commas)
def _(tmp_path: Path) -> Any:
    return _read_offices(_offices_csv(tmp_path / "o.csv", "name;lon;lat\nKamppi;24,95;60,17\n"))


@case("offices-row-with-extra-field", "error", "o.csv", "line 3", "4 fields")
def _(tmp_path: Path) -> Any:
    body = "name,lon,lat\nA,24.9,60.2\nHelsinki, Kamppi,24.9,60.2\n"
    return _read_offices(_offices_csv(tmp_path / "o.csv", body))


def _both_kept(value: Any, messages: list[str]) -> None:
    assert len(value) == 2 and value.names == ["Kela", "Kela"]
    assert any("duplicate office names" in m and "Kela" in m for m in messages), messages


@case("offices-duplicate-names", "accept", check=_both_kept)
def _(tmp_path: Path) -> Any:
    return _read_offices(_offices_csv(tmp_path / "o.csv", "name,lon,lat\nKela,24,60\nKela,25,61\n"))


@case("offices-binary-file", "error", "o.csv", "by its content")
def _(tmp_path: Path) -> Any:
    path = tmp_path / "o.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return _read_offices(path)


@case("offices-garbage-geopackage", "error", "o.gpkg", "corrupt")
def _(tmp_path: Path) -> Any:
    path = tmp_path / "o.gpkg"
    path.write_bytes(b"SQLite format 3\x00" + np.random.default_rng(3).bytes(4000))
    return _read_offices(path)


def _gz_ok(value: Any, messages: list[str]) -> None:
    assert value.names == ["A"] and value.lon.tolist() == [24.9]


@case("offices-gzip-csv", "accept", check=_gz_ok)
def _(tmp_path: Path) -> Any:
    path = tmp_path / "o.csv.gz"
    path.write_bytes(gzip.compress(b"name,lon,lat\nA,24.9,60.2\n"))
    return _read_offices(path)


def _padded(value: Any, messages: list[str]) -> None:
    assert value.frame["municipality"].tolist() == ["001"]
    assert value.frame["coord_source"].tolist() == ["municipality_centre"]


@case("offices-code-lost-leading-zeros", "accept", check=_padded)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    path = _offices_csv(tmp_path / "o.csv", "name,municipality\nTown hall,1\n")
    return _read_offices(path, municipalities=w.municipalities)


@case("offices-unknown-municipality", "error", "o.csv", "'999'", "row 1", "leading zeros")
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    path = _offices_csv(tmp_path / "o.csv", "name,municipality\nTown hall,999\n")
    return _read_offices(path, municipalities=w.municipalities)


# ================================================================ access legs
SEA = ("Sea", (5_000, -20_000), "001")  # 20 km south of the road triangle: the sea


@case("office-at-sea-cli", "warn", "'Sea'", "20.", "km", "warn_distance_m", cli=True)
def _(tmp_path: Path) -> Any:
    return _run_args(_world(tmp_path, [*OFFICES, SEA]), tmp_path)


@case("office-at-sea-api", "warn", "'Sea'", "20.", "km", "warn_distance_m")
def _(tmp_path: Path) -> Any:
    return lambda: _study(_world(tmp_path, [*OFFICES, SEA])).solve()


def _no_leg_warning(value: Any, messages: list[str]) -> None:
    assert not [m for m in messages if "warn_distance_m" in m], messages
    legs = value.summary()["network"]
    assert legs.get("access_warn_distance_m") == 25_000


@case("office-at-sea-warn-distance-raised", "accept", check=_no_leg_warning)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path, [*OFFICES, SEA])
    prof = _profile(tmp_path, "max_distance_m = 30000", "max_distance_m = 30000\n"
                    "warn_distance_m = 25000")  # fmt: skip
    return lambda: _study(w, profile=prof).solve()


@case("office-beyond-max-distance", "error", "'Far'", "45.", "km", "max_distance_m", cli=True)
def _(tmp_path: Path) -> Any:
    return _run_args(_world(tmp_path, [*OFFICES, ("Far", (5_000, -45_000), "001")]), tmp_path)


def _long_cell_world(tmp_path: Path) -> Any:
    """The tiny world plus one square of 70 people 15 km south of the road triangle."""
    w = _world(tmp_path)
    e, n = Transformer.from_crs("EPSG:3067", "EPSG:3035", always_xy=True).transform(
        X0 + 5_000, Y0 - 15_000
    )
    gid = f"CRS3035RES1000mN{int(n // 1000 * 1000)}E{int(e // 1000 * 1000)}"
    pop = pd.read_csv(w.population)
    pd.concat([pop, pd.DataFrame([{"GRD_ID": gid, "T": 70, "Y_GE65": 7}])]).to_csv(
        w.population, index=False
    )
    table = pd.read_csv(w.municipality_table, dtype={"municipality": str})
    pd.concat([table, pd.DataFrame([{"GRD_ID": gid, "municipality": "001"}])]).to_csv(
        w.municipality_table, index=False
    )
    return w


@case("cells-with-long-access-legs", "warn", "populated cells", "people", "15.9 km", "cell 8")
def _(tmp_path: Path) -> Any:
    return lambda: _study(_long_cell_world(tmp_path)).solve()


def _counted_unreachable(value: Any, messages: list[str]) -> None:
    s = value.summary()
    assert s["population_unconnected"] == 500 and s["population_total"] == 1650


@case("cells-beyond-max-distance-are-unreachable", "accept", check=_counted_unreachable)
def _(tmp_path: Path) -> Any:
    return lambda: _study(_world(tmp_path)).solve()


# ==================================================================== profiles
@case("profile-directory", "error", "car.toml", "directory", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    (tmp_path / "car.toml").mkdir()
    return _run_args(w, tmp_path, profile=tmp_path / "car.toml")


@case("profile-unknown-top-level-key", "error", "profile.toml", "'speed'", "unknown key", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    prof = _profile(tmp_path, 'name = "car_fi"', 'name = "car_fi"\nspeed = 3')
    return _run_args(w, tmp_path, profile=prof)


@case("profile-typo-in-ferry-table", "error", "ferry.boarding_time_s", "'boarding_s'")
def _(tmp_path: Path) -> Any:
    return _load(_profile(tmp_path, "boarding_s = 600", "boarding_s = 600\nboarding_time_s = 60"))


@case("profile-typo-in-access-table", "error", "access.max_dist_m", "unknown key", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    prof = _profile(tmp_path, "max_distance_m = 30000", "max_distance_m = 30000\nmax_dist_m = 5")
    return _run_args(w, tmp_path, profile=prof)


@case("profile-typo-in-osm-table", "error", "osm.oneway_tag", "'oneway_tags'")
def _(tmp_path: Path) -> Any:
    return _load(_profile(tmp_path, "[osm]\n", '[osm]\noneway_tag = ["oneway:car"]\n'))


@case("profile-typo-in-slowdown-table", "error", "urban_slowdown.factor", "'factors'")
def _(tmp_path: Path) -> Any:
    old = "factors = [1.0, 0.85, 0.7, 0.6, 0.5]"
    return _load(_profile(tmp_path, old, old + "\nfactor = [1.0, 1.0, 1.0, 1.0, 1.0]"))


@case("profile-speed-is-text", "error", "speeds_kmh.IGDS_LEVEL.26", "'fast'")
def _(tmp_path: Path) -> Any:
    return _load(_profile(tmp_path, "26 = 105", "26 = 'fast'"))


@case("profile-class-table-is-a-number", "error", "speeds_kmh.LUOKKA", "table")
def _(tmp_path: Path) -> Any:
    old = _profile_text().split("[speeds_kmh.LUOKKA]")[1].split("\n# OpenStreetMap")[0]
    return _load(_profile(tmp_path, "[speeds_kmh.LUOKKA]" + old, "[speeds_kmh]\nLUOKKA = 50\n"))


@case("profile-access-is-a-number", "error", "'access'", "table")
def _(tmp_path: Path) -> Any:
    text = _profile_text().replace("[osm]", "[osm_]").split("[access]")[0]
    path = tmp_path / "profile.toml"
    path.write_text("access = 5\n" + text, encoding="utf-8")
    return _load(path)


@case("profile-oneway-is-text", "error", "respect_oneway", "'yes'")
def _(tmp_path: Path) -> Any:
    return _load(_profile(tmp_path, "respect_oneway = true", "respect_oneway = 'yes'"))


@case("profile-negative-speed", "error", "speeds_kmh.IGDS_LEVEL.23", "-85", "range", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    return _run_args(w, tmp_path, profile=_profile(tmp_path, "23 = 85", "23 = -85"))


@case("profile-zero-speed", "error", "speeds_kmh.IGDS_LEVEL.21", "0.0 km/h", "range")
def _(tmp_path: Path) -> Any:
    return _load(_profile(tmp_path, "21 = 60", "21 = 0"))


@case("profile-zero-access-speed", "error", "access.speed_kmh", "0.0 km/h")
def _(tmp_path: Path) -> Any:
    return _load(_profile(tmp_path, "speed_kmh = 30", "speed_kmh = 0"))


@case("profile-nan-terminal-time", "error", "terminal_time_s", "finite")
def _(tmp_path: Path) -> Any:
    return _load(_profile(tmp_path, "terminal_time_s = 120", "terminal_time_s = nan"))


@case("profile-negative-warn-distance", "error", "access.warn_distance_m", "-1")
def _(tmp_path: Path) -> Any:
    return _load(_profile(tmp_path, "max_distance_m = 30000", "max_distance_m = 30000\n"
                          "warn_distance_m = -1"))  # fmt: skip


@case("profile-for-another-mode", "error", "car_fi", "'car'", "'walk'", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    return [*_run_args(w, tmp_path, profile="car_fi"), "--mode", "walk"]


@case("profile-unknown-mode", "error", "'mode'", "'bus'")
def _(tmp_path: Path) -> Any:
    return _load(_profile(tmp_path, 'mode = "car"', 'mode = "bus"'))


@case("profile-mode-capitalised", "error", "'mode'", "'Car'", "'car'")
def _(tmp_path: Path) -> Any:
    return _load(_profile(tmp_path, 'mode = "car"', 'mode = "Car"'))


@case("profile-latin1", "error", "profile.toml", "UTF-8", cli=True)
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    path = tmp_path / "profile.toml"
    path.write_bytes(_profile_text('description = "', 'description = "Määritelty: ').encode(
        "latin-1"))  # fmt: skip
    return _run_args(w, tmp_path, profile=path)


@case("profile-empty-file", "error", "profile.toml", "empty")
def _(tmp_path: Path) -> Any:
    (tmp_path / "profile.toml").write_bytes(b"")
    return _load(tmp_path / "profile.toml")


@case("profile-is-a-geopackage", "error", "profile.toml", "by its content")
def _(tmp_path: Path) -> Any:
    w = _world(tmp_path / "w")
    shutil.copy(w.roads, tmp_path / "profile.toml")
    return _load(tmp_path / "profile.toml")


@case("profile-misspelt-packaged-name", "error", "car-fi", "did you mean 'car_fi'", cli=True)
def _(tmp_path: Path) -> Any:
    return _run_args(_world(tmp_path / "w"), tmp_path, profile="car-fi")


# ===================================================================== running
def _cli(args: Sequence[Any]) -> tuple[int, list[str]]:
    """``hexaccess ARGS`` in-process: the exit code and the non-empty stderr lines."""
    from hexaccess.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, [line for line in err.getvalue().splitlines() if line.strip()]


def _has(text: str, words: Sequence[str]) -> bool:
    low = text.lower()
    return all(w.lower() in low for w in words)


def _cli_outcome(c: Case, args: Sequence[Any]) -> tuple[str, str]:
    code, lines = _cli(args)
    text = " | ".join(lines)
    if code == 1 or any("Traceback" in line for line in lines):
        return "traceback", text
    if code == 2:
        ok = len(lines) == 1 and _has(lines[0], c.words) and c.expect == "error"
        return ("clear" if ok else "refused" if c.expect != "error" else "vague"), text
    if code != 0:
        return "traceback", f"exit {code}: {text}"
    if c.expect == "error":
        return "silent", text
    if c.expect == "warn":
        said = [line for line in lines if line.startswith("warning:") and _has(line, c.words)]
        return ("clear" if said else "silent"), text
    out = Path(args[args.index("--out") + 1])
    return _checked(c, out, lines)


def _checked(c: Case, value: Any, messages: list[str]) -> tuple[str, str]:
    assert c.check is not None
    try:
        c.check(value, messages)
    except AssertionError as exc:
        return "silent", f"wrong result: {exc}"
    return "accepted", ""


def _api_outcome(c: Case, call: Action) -> tuple[str, str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = call()
        except hexaccess.HexaccessError as exc:
            msg = f"{type(exc).__name__}: {exc}"
            if c.expect != "error":
                return "refused", msg
            clear = isinstance(exc, c.error) and _has(str(exc), c.words)
            return ("clear" if clear else "vague"), msg
        except Exception as exc:  # anything else reaches the user as a traceback
            return "traceback", f"{type(exc).__name__}: {exc}"
    messages = [str(w.message) for w in caught]
    if c.expect == "error":
        return "silent", f"returned {type(value).__name__}; warnings {messages}"
    if c.expect == "warn":
        said = [m for m in messages if _has(m, c.words)]
        return ("clear" if said else "silent"), f"warnings: {messages}"
    return _checked(c, value, messages)


def run_case(c: Case, tmp_path: Path) -> tuple[str, str]:
    """Build the case's inputs in ``tmp_path`` and run it: ``(outcome, what was said)``."""
    made = c.build(tmp_path)
    if c.cli:
        return _cli_outcome(c, made)
    return _api_outcome(c, made)


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_case(c: Case, tmp_path: Path) -> None:
    outcome, said = run_case(c, tmp_path)
    assert outcome == c.goal, f"{c.id}: {outcome}: {said}"


def test_catalogue_is_large_and_ids_are_unique() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


if __name__ == "__main__":  # pragma: no cover - the before/after classification
    import sys
    import tempfile

    if sys.argv[1:] == ["--list"]:
        print(" ".join(c.id for c in CASES))
        sys.exit(0)
    for c in CASES:
        if len(sys.argv) > 1 and c.id not in sys.argv[1:]:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)
            try:
                outcome, said = run_case(c, Path(tmp))
            except Exception as exc:  # the case's own inputs failed to build
                outcome, said = "traceback", f"{type(exc).__name__}: {exc}"
        print(f"{c.id}\t{outcome}\t{' '.join(said.split())[:300]}", flush=True)
