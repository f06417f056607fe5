"""Tests of hexaccess.offices: loading, coordinate sources and input errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from fixtures.shared import SHARED_DATA

from hexaccess.offices import OfficeInputError, Offices, read_municipalities, read_offices

DATA = SHARED_DATA / "finland"

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


# ------------------------------------------------------------------ GeoDataFrames
def _geodataframe_3067(tmp_path: Path) -> tuple[object, Path]:
    """Three offices as a GeoDataFrame in EPSG:3067 and as a CSV of the same points in
    lon/lat (both with a user id and municipality codes)."""
    gpd = pytest.importorskip("geopandas")
    lon = np.array([24.93, 25.47, 27.68])
    lat = np.array([60.17, 65.01, 62.89])
    x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3067", always_xy=True).transform(lon, lat)
    ids = ["K-1", "K-2", "K-3"]
    names = ["Helsinki", "Oulu", "Kuopio"]
    munis = ["091", "049", "478"]  # deliberately not where the points are
    gdf = gpd.GeoDataFrame(
        {"office_id": ids, "name": names, "municipality": munis},
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:3067",
        index=[10, 20, 30],
    )
    rows = "\n".join(
        f"{i},{n},{float(lo)!r},{float(la)!r},{m}"
        for i, n, lo, la, m in zip(ids, names, lon, lat, munis, strict=True)
    )
    csv = write(tmp_path / "lonlat.csv", "office_id,name,lon,lat,municipality\n" + rows)
    return gdf, csv


def test_geodataframe_in_any_crs_equals_the_lonlat_csv(tmp_path: Path) -> None:
    gdf, csv = _geodataframe_3067(tmp_path)
    from_gdf, from_csv = read_offices(gdf), read_offices(csv)
    assert from_gdf.names == from_csv.names == ["Helsinki", "Oulu", "Kuopio"]
    assert from_gdf.lon == pytest.approx(from_csv.lon, abs=1e-9)
    assert from_gdf.lat == pytest.approx(from_csv.lat, abs=1e-9)
    assert from_gdf.frame["office_id"].tolist() == ["K-1", "K-2", "K-3"]  # user ids kept
    assert from_gdf.frame["coord_source"].tolist() == ["geometry"] * 3
    assert "geometry" not in from_gdf.frame.columns  # the coordinates are lon/lat


def test_geodataframe_geometry_wins_over_municipal_centres(tmp_path: Path, munis: Path) -> None:
    """Regression: with a municipalities table, a GeoDataFrame's offices were all moved
    to their municipal centres (the geometry ignored)."""
    gdf, csv = _geodataframe_3067(tmp_path)
    o = read_offices(gdf, municipalities=munis)
    expected = read_offices(csv)
    assert o.lon == pytest.approx(expected.lon, abs=1e-9)
    assert o.lat == pytest.approx(expected.lat, abs=1e-9)
    assert o.frame["coord_source"].tolist() == ["geometry"] * 3
    assert o.frame["municipality"].tolist() == ["091", "049", "478"]
    # Only an office without a geometry falls back to its municipal centre.
    gdf.loc[20, "geometry"] = None
    o = read_offices(gdf, municipalities=munis)
    assert o.frame["coord_source"].tolist() == ["geometry", "municipality_centre", "geometry"]
    assert (o.lon[1], o.lat[1]) == (24.65, 60.21)
    assert o.lon[0] == pytest.approx(expected.lon[0], abs=1e-9)


def test_geodataframe_errors(tmp_path: Path) -> None:
    gpd = pytest.importorskip("geopandas")
    gdf, _ = _geodataframe_3067(tmp_path)
    with pytest.raises(OfficeInputError, match="GeoDataFrame has no CRS; set one"):
        read_offices(gdf.set_crs(None, allow_override=True))
    poly = gpd.GeoDataFrame({"name": ["P"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=3067)
    with pytest.raises(OfficeInputError, match="office 'P': geometry is not a point"):
        read_offices(poly)


def test_dataframe_with_lonlat_and_input_errors_are_not_bare() -> None:
    from hexaccess.errors import UnknownNameError

    df = pd.DataFrame({"name": ["X", "Y"], "lon": [24.0, 25.0], "lat": [60.0, 61.0], "id": [7, 8]})
    o = read_offices(df)
    assert o.lon.tolist() == [24.0, 25.0] and o.frame["id"].tolist() == [7, 8]
    with pytest.raises(UnknownNameError, match="unknown office name"):
        o.subset(["Z"])
    with pytest.raises(OfficeInputError, match="lacks column"):
        Offices(pd.DataFrame({"name": ["X"]}))
    with pytest.raises(OfficeInputError, match="unknown CRS"):
        read_offices(pd.DataFrame({"name": ["X"], "x": [1.0], "y": [2.0]}), crs="EPSG:999999")


def test_text_encodings_separators_and_decimal_commas(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,lon,lat\nSäkylä,22.3,61.0\n".encode("latin-1"))
    with pytest.warns(UserWarning, match=r"not UTF-8 \(byte 0xe4 on line 2\); read it as Windows"):
        assert read_offices(latin).names == ["Säkylä"]
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffname;lon;lat\nSäkylä;22,3;61,0\n".encode())
    o = read_offices(bom)
    assert o.names == ["Säkylä"] and o.lon.tolist() == [22.3] and o.lat.tolist() == [61.0]
    tsv = write(tmp_path / "o.tsv", "name\tlon\tlat\nA\t24\t60")
    assert read_offices(tsv).lon.tolist() == [24.0]
    geojson = write(
        tmp_path / "o.csv",  # the content decides, not the extension
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"name": "G"}, "geometry": {"type": "Point", "coordinates": [24.5, 60.5]}}]}',
    )
    assert read_offices(geojson).frame["coord_source"].tolist() == ["geometry"]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("name,lon,lat\nA,24,60\nB,24,inf", r"office 'B': lon/lat = 24/inf .*\(row 2, line 3\)"),
        ("name,lon,lat\nA,24,60\nB,,", r"office 'B' has no coordinates \(row 2, line 3\)"),
        ("name,lon,lat\nA,24,60,1", r"line 2 has 4 fields but the header has 3"),
        ("name,municipality\nA,90", r"unknown municipality code '090' \(row 1, line 2\).*near"),
    ],
)
def test_errors_name_the_row_and_line(tmp_path: Path, munis: Path, body: str, match: str) -> None:
    with pytest.raises(OfficeInputError, match=match):
        read_offices(write(tmp_path / "o.csv", body), municipalities=munis)


def test_duplicate_names_warning_names_the_rows_and_codes_get_their_zeros(
    tmp_path: Path, munis: Path
) -> None:
    p = write(tmp_path / "o.csv", "name,lon,lat\nKela,24,60\nX,25,61\nKela,26,62")
    with pytest.warns(UserWarning, match=r"duplicate office names: \['Kela'\] \('Kela' in rows"):
        read_offices(p)
    q = write(tmp_path / "q.csv", "name,municipality\nHelsinki,91")
    o = read_offices(q, municipalities=munis)
    assert o.frame["municipality"].tolist() == ["091"] and o.lon.tolist() == [24.95]
    for path in (tmp_path / "d.csv", tmp_path / "e.csv"):
        if path.stem == "d":
            path.mkdir()
        else:
            path.write_bytes(b"")
        with pytest.raises(FileNotFoundError, match="directory" if path.stem == "d" else "empty"):
            read_offices(path)
