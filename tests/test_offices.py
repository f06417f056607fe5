"""Tests of hexaccess.offices: loading, coordinate sources and input errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from hexaccess.offices import OfficeInputError, Offices, read_municipalities, read_offices

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "finland"

HEADER = (
    "municipality,name_fi,name_sv,language,region,population_2019,population_2022,"
    "centre_lon,centre_lat"
)
BI_FI = "Bilingual municipality with Finnish-speaking majority"
MONO_SV = "Monolingual Swedish-speaking municipality"
MUNI_CSV = f"""{HEADER}
091,Helsinki,Helsingfors,{BI_FI},Uusimaa,653835,664028.0,24.95,60.17
049,Espoo,Esbo,{BI_FI},Uusimaa,289731,305274.0,24.65,60.21
478,Maarianhamina,Mariehamn,{MONO_SV},Ahvenanmaa,11679,11757.0,19.94,60.10
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


@pytest.fixture
def munis(tmp_path: Path) -> Path:
    return write(tmp_path / "municipalities.csv", MUNI_CSV)


def test_read_municipalities(munis: Path) -> None:
    m = read_municipalities(munis)
    assert m.index.tolist() == ["091", "049", "478"]
    assert m.loc["478", "name_sv"] == "Mariehamn"
    assert m["bilingual"].tolist() == [True, True, False]
    assert m["majority_language"].tolist() == ["fi", "fi", "sv"]
    assert m.loc["049", "centre_lon"] == 24.65


def test_coordinate_sources(tmp_path: Path, munis: Path) -> None:
    tr = pyproj.Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True)
    p = write(
        tmp_path / "o.csv",
        "name,lon,lat,municipality,agency,fixed,capacity\n"
        "A,25.0,60.2,091,Kela,true,3\n"
        "B,,,049,Police,no,\n"
        "C,,,478,,1,0\n",
    )
    o = read_offices(p, municipalities=munis)
    assert o.names == ["A", "B", "C"]
    assert o.lon.tolist() == [25.0, 24.65, 19.94] and o.lat.tolist() == [60.2, 60.21, 60.10]
    centre = "municipality_centre"
    assert o.frame["coord_source"].tolist() == ["lonlat", centre, centre]
    assert o.fixed.tolist() == [True, False, True]
    assert o.frame["agency"].tolist() == ["Kela", "Police", None]
    assert o.frame["capacity"].iloc[0] == 3 and np.isnan(o.frame["capacity"].iloc[1])
    assert o.frame["municipality"].tolist() == ["091", "049", "478"]
    # x/y in a projected CRS
    q = write(tmp_path / "xy.csv", "name,x,y\nD,385000,6672000\nE,500000,7000000")
    oq = read_offices(q, crs="EPSG:3067")
    ex, ey = tr.transform([385000, 500000], [6672000, 7000000])
    assert oq.lon == pytest.approx(ex, abs=1e-9) and oq.lat == pytest.approx(ey, abs=1e-9)
    assert repr(oq) == "Offices(2 offices, 0 fixed)"
    assert len(oq.to_cells(8)) == 2


def test_vector_formats(tmp_path: Path) -> None:
    import pyogrio.raw

    pts = np.array([shapely.Point(385000, 6672000), shapely.Point(430000, 7210000)], dtype=object)
    tr = pyproj.Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True)
    ex, ey = tr.transform([385000, 430000], [6672000, 7210000])
    for name, driver in (("o.gpkg", "GPKG"), ("o.geojson", "GeoJSON")):
        path = tmp_path / name
        pyogrio.raw.write(
            str(path),
            shapely.to_wkb(pts),
            [np.array(["Helsinki", "Oulu"], dtype=object), np.array([1, 0])],
            ["name", "fixed"],
            driver=driver,
            geometry_type="Point",
            crs="EPSG:3067",
        )
        o = read_offices(path)
        assert o.names == ["Helsinki", "Oulu"]
        assert o.lon == pytest.approx(ex, abs=1e-7) and o.lat == pytest.approx(ey, abs=1e-7)
        assert o.fixed.tolist() == [True, False]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("name,lon,lat,municipality\nA,,,999", "office 'A': unknown municipality code '999'"),
        ("name,lon,lat\nA,24,60\nB,,", "office 'B' has no coordinates"),
        ("name,lon,lat\nA,385000,6672000", "office 'A'.*outside WGS84 range.*x/y columns"),
        ("name,lon,lat\nA,24,", "office 'A': only one of lon/lat"),
        ("name,lon,lat\nA,24,sixty", "office 'A': lon/lat .* not numbers"),
        ("name,lon,lat,fixed\nA,24,60,maybe", "office 'A': fixed='maybe'"),
        ("name,lon,lat,capacity\nA,24,60,-1", "office 'A': capacity"),
        ("name,lon,lat\n", "no offices"),
        ("nimi,lon,lat\nA,24,60", "missing name column"),
        ("name,lon,lat\n,24,60", "row 1 has no 'name'"),
    ],
)
def test_errors(tmp_path: Path, munis: Path, body: str, match: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(body + "\n")
    with pytest.raises(OfficeInputError, match=match):
        read_offices(p, municipalities=munis)


def test_municipality_without_table(tmp_path: Path) -> None:
    p = write(tmp_path / "o.csv", "name,municipality\nA,091")
    with pytest.raises(OfficeInputError, match="pass municipalities="):
        read_offices(p)


def test_warnings(tmp_path: Path) -> None:
    p = write(tmp_path / "o.csv", "name,lon,lat\nA,24,60\nA,25,61\nB,24,60")
    with pytest.warns(UserWarning) as rec:
        o = read_offices(p)
    msgs = " ".join(str(w.message) for w in rec)
    assert "duplicate office names: ['A']" in msgs
    assert "identical coordinates: [['A', 'B']]" in msgs
    assert len(o) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Offices(pd.DataFrame({"name": ["X"], "lon": [24.0], "lat": [60.0]}))


def test_study_offices() -> None:
    path = DATA / "study_offices_50.csv"
    if not path.exists():
        pytest.skip(f"../shared/data not present: {path}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the study list is clean: no duplicates
        o = read_offices(
            path, municipalities=DATA / "municipalities.csv", fixed_column="regional_centre"
        )
    src = pd.read_csv(path, dtype={"municipality": str})
    assert len(o) == 50 and int(o.fixed.sum()) == 18 == int(src["regional_centre"].sum())
    assert o.lon.tolist() == src["lon"].tolist() and o.lat.tolist() == src["lat"].tolist()
    assert o.frame["municipality"].tolist() == src["municipality"].tolist()
    assert o.frame.loc[o.frame["name"] == "Helsinki", "municipality"].item() == "091"
    m = read_municipalities(DATA / "municipalities.csv")
    raw = pd.read_csv(DATA / "municipalities.csv", dtype={"municipality": str})
    assert len(m) == 310 == len(raw)
    assert int(m["bilingual"].sum()) == int(raw["language"].str.startswith("Bilingual").sum())
