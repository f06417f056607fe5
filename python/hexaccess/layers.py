"""Study results as GIS layers: GeoDataFrames of cells, offices, catchments and
municipalities, and the files ``layers.gpkg`` and ``geoparquet/*.parquet``.

Every layer is in EPSG:4326 (H3's own CRS and GeoParquet's default) unless ``crs=``
reprojects it, and every layer has a ``population`` column: the study's population
column (the first solved one unless ``column=`` names another). The cells layer sums to
the study total; the municipalities layer too (unreachable people included); offices
and catchments sum to the people who reach an office (the total minus
``population_unreachable`` of ``summary.json``).

Geometry is built without per-cell Python loops: H3 cell polygons come from the Rust
core's boundary rings (:func:`hexaccess.h3.cell_polygons`), and a group of cells (an
office's catchment, a municipality) is dissolved on the H3 cell graph in the Rust core
(:func:`hexaccess.h3.cell_unions`), not by polygon overlay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess import analysis
from hexaccess.errors import AnalysisInputError
from hexaccess.h3 import cell_centers, cell_polygons, cell_unions, cell_wkb, str_to_cell

if TYPE_CHECKING:
    import geopandas as gpd

    from hexaccess.outputs import OutputDirectory
    from hexaccess.study import AccessibilityResult

__all__ = [
    "GEOPARQUET_DIR",
    "GPKG_NAME",
    "LAYER_NAMES",
    "WGS84",
    "LayerBuilder",
    "dissolve_cells",
    "write_layers",
]

#: The CRS of every layer unless reprojected: H3's own, and GeoParquet's default.
WGS84 = "EPSG:4326"
#: The layers, in the order they are written (a contract: names only ever added).
LAYER_NAMES = ("cells", "offices", "catchments", "municipalities")
#: The GeoPackage holding every layer, and the folder of the GeoParquet files.
GPKG_NAME = "layers.gpkg"
GEOPARQUET_DIR = "geoparquet"

# The catchment statistics of analysis.catchments (beside the office's own columns).
_STATS = analysis.CATCHMENT_STATS


# ------------------------------------------------------------------ dissolving
def _as_cells(cells: Any) -> npt.NDArray[np.uint64]:
    """H3 cells as ``uint64`` from integers or hexadecimal strings."""
    arr = np.asarray(cells)
    if arr.dtype.kind in "OUS":
        return str_to_cell(list(arr))
    return np.ascontiguousarray(arr, dtype=np.uint64)


def _dissolve(cells: npt.NDArray[np.uint64], keys: pd.Series) -> tuple[pd.Index, Any]:
    """(sorted distinct non-null keys, the union of each key's cells)."""
    codes, uniques = pd.factorize(keys, sort=True, use_na_sentinel=True)
    geoms = cell_unions(cells, codes.astype(np.int64), len(uniques))
    return pd.Index(uniques), geoms


def dissolve_cells(cells: Any, groups: Any) -> gpd.GeoDataFrame:
    """The union of the H3 cells of each group, as a GeoDataFrame (EPSG:4326).

    ``cells`` are H3 cells (``uint64`` or hexadecimal strings) and ``groups`` a value
    per cell (an office id, a municipality code ...). The result has one row per
    distinct non-null group value, sorted, as its index (named after ``groups`` when
    it is a named Series), and one ``geometry`` column: a Polygon or MultiPolygon,
    with holes where cells of other groups (or none) lie inside. Cells with a null
    group are left out; a cell listed twice in a group counts once.

    Computed on the H3 cell graph in the Rust core (:func:`hexaccess.h3.cell_unions`:
    outline edges of each group chained into rings, holes assigned by connected
    component; no overlay, no per-cell Python loop): about 2 s for 4 M resolution-9
    cells in 50 groups on 2 cores.
    """
    import geopandas as gpd

    cells = _as_cells(cells)
    name = groups.name if isinstance(groups, pd.Series) else None
    keys = pd.Series(groups.to_numpy() if isinstance(groups, pd.Series) else np.asarray(groups))
    if len(keys) != len(cells):
        raise AnalysisInputError(
            f"dissolve_cells: {len(cells)} cells but {len(keys)} group values; give one "
            "group value per cell"
        )
    index, geoms = _dissolve(cells, keys)
    index.name = name
    return gpd.GeoDataFrame({"geometry": geoms}, index=index, geometry="geometry", crs=WGS84)


# ------------------------------------------------------------------ layers
def _finite(frame: pd.DataFrame) -> pd.DataFrame:
    """Float columns with ``inf`` (unreached) as null: GIS formats have no infinity."""
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            v = out[c].to_numpy(dtype=np.float64)
            if not np.isfinite(v[~np.isnan(v)]).all():
                out[c] = np.where(np.isfinite(v), v, np.nan)
    return out


def _geoframe(frame: pd.DataFrame, geometry: Any, crs: Any) -> gpd.GeoDataFrame:
    """``frame`` with ``geometry`` in EPSG:4326, reprojected to ``crs`` if given."""
    import geopandas as gpd

    target = None if crs is None else check_crs(crs)
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, index=frame.index), crs=WGS84)
    return gdf if target is None else gdf.to_crs(target)


def check_crs(crs: Any) -> Any:
    """``crs`` as a pyproj CRS, or an error naming the value and the forms accepted."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(crs)
    except CRSError as exc:
        raise AnalysisInputError(
            f"crs={crs!r} is not a coordinate reference system pyproj knows ({exc}); give an "
            "EPSG code such as 'EPSG:3067' or 3067, a WKT or PROJ string, or a pyproj.CRS"
        ) from None


def _without_clashes(frame: pd.DataFrame, taken: set[str]) -> pd.DataFrame:
    """Columns of the user's input that clash with computed ones get ``_input`` (kept,
    not dropped); a ``geometry`` column of the input is replaced by the layer's."""
    frame = frame.drop(columns=[c for c in frame.columns if c == "geometry"])
    return frame.rename(columns={c: f"{c}_input" for c in frame.columns if c in taken})


def _municipality_polygons(info: Any) -> Any:
    """The polygons of a municipality layer given as the study's ``municipalities``
    (a GeoDataFrame indexed by code), or ``None`` for a plain table."""
    import geopandas as gpd

    if isinstance(info, gpd.GeoDataFrame) and info.geometry.notna().any():
        return info.geometry.to_crs(WGS84)
    return None


@dataclass
class LayerBuilder:
    """Builds the layers of one solved office network (the catchment table is computed
    once for the offices and catchments layers).

    ``result`` is a solved network (:class:`~hexaccess.api.StudyResult` or an engine
    :class:`~hexaccess.study.AccessibilityResult`), ``column`` the population column
    (default: the first solved), ``municipalities`` the municipalities table or polygon
    layer (:func:`hexaccess.offices.read_municipalities`), ``sites`` (optimisation) a
    table of the chosen sites replacing the offices' attributes, one row per
    ``result.office_indices`` entry in that order.
    """

    result: AccessibilityResult
    column: str | None = None
    municipalities: pd.DataFrame | None = None
    sites: pd.DataFrame | None = None
    _column: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self._column = analysis._column(self.result, self.column)

    @cached_property
    def cell_ids(self) -> npt.NDArray[np.uint64]:
        """The populated cells (``uint64``)."""
        return _as_cells(self.result.cells["h3"].to_numpy())

    @cached_property
    def cell_attributes(self) -> pd.DataFrame:
        """The cells layer's table without geometry (see :meth:`cell_layer`)."""
        cells = self.result.cells
        frame = _without_clashes(cells, {"population", "time_min", "distance_km"})
        frame = frame.assign(
            population=cells[self._column].to_numpy(dtype=np.float64),
            time_min=cells["time_s"].to_numpy(dtype=np.float64) / 60.0,
            distance_km=cells["distance_m"].to_numpy(dtype=np.float64) / 1000.0,
        )
        return _finite(frame.reset_index(drop=True))

    def cell_layer(self, geometry: str = "polygon", crs: Any = None) -> gpd.GeoDataFrame:
        """One row per populated cell: the cells table (``h3``, ``municipality``, the
        population columns, ``time_s``, ``distance_m``, ``office``, ``office_name``,
        ``connected``, ``reached``), ``population`` (the chosen column), ``time_min``
        and ``distance_km``; unreached times and distances are null, not infinite.
        ``geometry="polygon"`` (the H3 cell) or ``"centre"`` (its centre point)."""
        import shapely

        if geometry not in ("polygon", "centre"):
            raise AnalysisInputError(
                f"cell_layer: geometry must be 'polygon' or 'centre', got {geometry!r}"
            )
        if geometry == "centre":
            lat, lng = cell_centers(self.cell_ids)
            geoms = shapely.points(lng, lat)
        else:
            geoms = cell_polygons(self.cell_ids)
        return _geoframe(self.cell_attributes, geoms, crs)

    @cached_property
    def _office_table(self) -> pd.DataFrame:
        """Per office of the network: its attributes and catchment statistics, indexed by
        the office's index into the study's offices."""
        stats = analysis.catchments(self.result, self._column).set_index("office")
        stats = stats[list(_STATS)]
        if self.sites is not None:
            attrs = self.sites.reset_index(drop=True).copy()
            attrs.index = pd.Index(np.asarray(self.result.office_indices), name="office")
        else:
            frame = self.result.access.offices.frame
            idx = stats.index.to_numpy()
            attrs = frame.iloc[idx].copy()
            attrs.index = pd.Index(idx, name="office")
        attrs = _without_clashes(attrs, set(_STATS) | {"office"})
        table = attrs.join(stats, how="left")
        table["population"] = table["population"].fillna(0.0)
        table["cells"] = table["cells"].fillna(0).astype(np.int64)
        return table

    def office_layer(self, crs: Any = None) -> gpd.GeoDataFrame:
        """One point per office of the network: ``office`` (its index among the study's
        offices), every column of the offices input (or of ``chosen.csv``), and the
        catchment statistics (``population``, ``share_pct``, ``cells``, mean and
        longest trips); offices nobody has as nearest keep their row with population
        0."""
        import shapely

        table = self._office_table.reset_index()
        geoms = shapely.points(table["lon"].to_numpy(float), table["lat"].to_numpy(float))
        return _geoframe(_finite(table), geoms, crs)

    def catchment_layer(self, crs: Any = None) -> gpd.GeoDataFrame:
        """One (Multi)Polygon per office: the union of the cells that have it as their
        nearest office (unreachable cells belong to none), with the office layer's
        columns; an office without any cell keeps its row with a null geometry."""
        table = self._office_table.reset_index()
        office = self.result.cells["office"]
        keys = pd.Series(np.where(office.to_numpy() >= 0, office.to_numpy(), None), dtype=object)
        index, geoms = _dissolve(self.cell_ids, keys)
        by_office = pd.Series(geoms, index=index.astype(np.int64), dtype=object)
        geometry = by_office.reindex(table["office"].to_numpy()).to_numpy()
        geometry = np.where(pd.isna(geometry), None, geometry)
        return _geoframe(_finite(table), geometry, crs)

    def municipality_layer(self, crs: Any = None) -> gpd.GeoDataFrame:
        """One row per municipality of residence: the table of
        :func:`hexaccess.analysis.municipality_table` (code, name, population,
        unreachable people, mean and longest trips ...) with the municipality's polygon
        when the study's ``municipalities`` is a polygon layer, else the union of its
        populated cells. Needs cells with a municipality (a municipality table)."""
        table = analysis.municipality_table(self.result, self._column, self.municipalities)
        table = pd.DataFrame(table).reset_index(drop=True)
        codes = table["municipality"]
        polygons = _municipality_polygons(self.municipalities)
        if polygons is not None:
            missing = sorted({str(c) for c in codes if c not in polygons.index})
            if missing:
                raise AnalysisInputError(
                    f"the municipality polygons have no polygon for code(s) {missing[:10]} "
                    f"of the population's municipality table (the polygons have codes "
                    f"{sorted(map(str, polygons.index))[:10]} ...); give polygons with the "
                    "same municipality codes"
                )
            geometry = polygons.reindex(codes.to_numpy()).to_numpy()
        else:
            keys = self.result.cells["municipality"].astype(object)
            index, geoms = _dissolve(self.cell_ids, keys.reset_index(drop=True))
            geometry = pd.Series(geoms, index=index, dtype=object).reindex(codes).to_numpy()
        return _geoframe(_finite(table), geometry, crs)

    def has_municipalities(self) -> bool:
        """Whether the cells know their municipality (the municipalities layer exists)."""
        return "municipality" in self.result.cells.columns

    def layers(self, crs: Any = None) -> dict[str, gpd.GeoDataFrame]:
        """Every layer by name (:data:`LAYER_NAMES`); ``municipalities`` only when the
        cells know their municipality."""
        out = {
            "cells": self.cell_layer(crs=crs),
            "offices": self.office_layer(crs=crs),
            "catchments": self.catchment_layer(crs=crs),
        }
        if self.has_municipalities():
            out["municipalities"] = self.municipality_layer(crs=crs)
        return out


# ------------------------------------------------------------------ writing
def write_layers(target: OutputDirectory, builder: LayerBuilder, under: str = "") -> list[Path]:
    """Write every layer of ``builder`` into ``target``'s staging directory (under the
    sub-folder ``under``): one GeoPackage ``layers.gpkg`` with the layers
    :data:`LAYER_NAMES` (``municipalities`` only when the cells know their
    municipality), and ``geoparquet/<layer>.parquet`` per layer (GeoParquet 1.0.0: WKB,
    ``geo`` metadata with the CRS as PROJJSON, the geometry types, the bounding box and
    counter-clockwise shells). EPSG:4326.

    Both go through Arrow (pyogrio's ``write_arrow``, pyarrow's Parquet writer); the
    cells' polygons are WKB straight from the Rust core (:func:`hexaccess.h3.cell_wkb`),
    never geometry objects. Returns the paths written, the GeoPackage first.
    """
    prefix = f"{under.strip('/')}/" if under else ""
    gpkg = target.file(f"{prefix}{GPKG_NAME}")
    wkb, bbox = cell_wkb(builder.cell_ids)
    tables = {"cells": (builder.cell_attributes, wkb, ["Polygon"], bbox)}
    others = {"offices": builder.office_layer, "catchments": builder.catchment_layer}
    if builder.has_municipalities():
        others["municipalities"] = builder.municipality_layer
    for name, make in others.items():
        tables[name] = _wkb_of(make())
    written = [gpkg]
    for name, (attributes, geometry, types, box) in tables.items():
        table = _arrow_table(attributes, geometry)
        _write_gpkg_layer(gpkg, name, table, types)
        path = target.file(f"{prefix}{GEOPARQUET_DIR}/{name}.parquet")
        _write_geoparquet(path, table, types, box)
        written.append(path)
    return written


def _wkb_of(gdf: gpd.GeoDataFrame) -> tuple[pd.DataFrame, Any, list[str], tuple[float, ...]]:
    """(attributes, WKB array, geometry types, bbox) of a small layer; Polygons among
    MultiPolygons are written as MultiPolygons (one declared type per layer)."""
    import pyarrow as pa
    import shapely

    geoms = np.asarray(gdf.geometry.to_numpy(), dtype=object)
    kinds = set(shapely.get_type_id(geoms[~shapely.is_missing(geoms)]).tolist())
    polygon, multi = 3, 6
    if polygon in kinds and multi in kinds:
        single = shapely.get_type_id(geoms) == polygon
        geoms = geoms.copy()
        geoms[single] = shapely.multipolygons(geoms[single], indices=np.arange(single.sum()))
        kinds = {multi}
    names = {1: "Point", polygon: "Polygon", multi: "MultiPolygon"}
    types = sorted(names.get(k, shapely.GeometryType(k).name.title()) for k in kinds)
    # GeoParquet's "counterclockwise": shells CCW, holes CW (the Rust dissolve already
    # is; the GEOS fallback need not be).
    if hasattr(shapely, "orient_polygons"):  # shapely >= 2.1
        geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    present = geoms[~shapely.is_missing(geoms)]
    box = tuple(map(float, shapely.total_bounds(present))) if len(present) else (np.nan,) * 4
    wkb = pa.array(shapely.to_wkb(geoms), type=pa.large_binary())
    return pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), wkb, types, box


def _arrow_table(attributes: pd.DataFrame, geometry: Any) -> Any:
    """Attributes and a WKB ``geometry`` column as one Arrow table, in types every GIS
    format holds: null-only columns as strings, categories decoded, unsigned 64-bit
    integers as signed, a ``fid`` column of the input renamed (GeoPackage's own)."""
    import pyarrow as pa

    frame = attributes.rename(columns={"fid": "fid_input"}).reset_index(drop=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, f in enumerate(table.schema):
        t = f.type
        if pa.types.is_dictionary(t):
            t = t.value_type
        if pa.types.is_null(t):
            t = pa.string()
        elif pa.types.is_uint64(t):
            t = pa.int64()
        if t != f.type:
            table = table.set_column(i, f.name, table.column(i).cast(t))
    return table.append_column("geometry", geometry).replace_schema_metadata(None)


def _write_gpkg_layer(path: Path, name: str, table: Any, types: list[str]) -> None:
    """One layer of the GeoPackage (added to the file when it exists), with a spatial
    index, through pyogrio's Arrow writer."""
    import pyarrow as pa
    import pyogrio

    i = table.schema.get_field_index("geometry")
    field = pa.field(
        "geometry", table.schema.field(i).type, metadata={b"ARROW:extension:name": b"geoarrow.wkb"}
    )
    table = table.set_column(i, field, table.column(i))
    pyogrio.write_arrow(
        table,
        path,
        layer=name,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type=types[0] if len(types) == 1 else "Unknown",
        crs=WGS84,
        # GeoPackage 1.2 (not GDAL's newest, 1.4) so that older GDAL builds, e.g.
        # Debian's 3.6 under QGIS, open it without a warning.
        dataset_options={"VERSION": "1.2"},
    )


def _write_geoparquet(path: Path, table: Any, types: list[str], bbox: tuple[float, ...]) -> None:
    """A GeoParquet 1.0.0 file: the table with its ``geo`` metadata."""
    import json

    import pyarrow.parquet as pq
    from pyproj import CRS

    column: dict[str, Any] = {
        "encoding": "WKB",
        "geometry_types": types,
        "crs": CRS.from_user_input(WGS84).to_json_dict(),
    }
    if any("Polygon" in t for t in types):
        column["orientation"] = "counterclockwise"
    if all(np.isfinite(bbox)):
        column["bbox"] = [float(v) for v in bbox]
    geo = {"version": "1.0.0", "primary_column": "geometry", "columns": {"geometry": column}}
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    pq.write_table(table, path, compression="zstd")
