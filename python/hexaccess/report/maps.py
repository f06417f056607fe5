"""Maps of the report: travel time over the H3 hexagons (matplotlib PNG) and the
municipality choropleth of mean time (inline SVG with hover tooltips).

Every map is drawn in one metric projection per study (:class:`Geography`): a
transverse Mercator centred on the study area (``+proj=tmerc`` at the centre of the
cells' bounding box, GRS80). It is conformal, north is up along the central meridian
(grid north differs from true north by under 3 degrees at 300 km from it in Finland)
and its scale error is below 0.2 % within 300 km of the central meridian, so the scale
bar is true to the width of its line. For Finland it is within a few hundred metres of
ETRS-TM35FIN (EPSG:3067, the national map projection: TM at 27 E); the local centre
works the same for a synthetic country or any other study area, without a table of
national projections.

A national map draws each hexagon at a resolution the page can show: the finest one
whose cells are at least :data:`MIN_CELL_PX` pixels across at the map's scale and of
which there are at most :data:`MAX_MAP_CELLS` (population-weighted mean time per parent
cell, :func:`hexaccess.analysis.aggregate_cells`); the map says which resolution it
shows. Cell outlines come from :func:`hexaccess.h3.cell_boundary_coords` (vectorised,
Rust) and are drawn as one ``PolyCollection``; municipal borders are dissolved from the
cells (:func:`hexaccess.layers.dissolve_cells`) unless a layer is given.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess import analysis
from hexaccess import h3 as hx
from hexaccess.report.charts import DPI, mpl
from hexaccess.study.road import AccessibilityResult

#: Most hexagons drawn on one map (more are aggregated to a coarser resolution), so a
#: national map renders in a second or two.
MAX_MAP_CELLS = 60_000
#: Smallest width of a drawn hexagon in pixels: finer cells are aggregated to their
#: parents (a one-pixel hexagon is noise, not a hexagon).
MIN_CELL_PX = 2.0
#: Grey of cells nobody reaches (or whose change cannot be computed).
UNREACHED = "#a6a6a6"


# ------------------------------------------------------------------ geography
@dataclass(frozen=True)
class Geography:
    """The projection, extent and municipal borders shared by every map of a study.

    ``crs`` is the PROJ string of the local transverse Mercator; ``bounds`` the
    projected extent of the cells (metres, padded); ``areas`` the municipalities as
    projected polygons indexed by code, simplified to a fraction of a pixel of the
    largest map (or ``None`` without municipalities); ``borders`` their outlines as
    one array of lines."""

    crs: str
    bounds: tuple[float, float, float, float]
    areas: Any = None
    borders: Any = None

    def project(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Any, Any]:
        """Projected (x, y) metres of lon/lat degrees (vectorised)."""
        return _transformer(self.crs).transform(np.asarray(lon), np.asarray(lat))

    @property
    def size_m(self) -> tuple[float, float]:
        """Width and height of the extent in metres."""
        x0, y0, x1, y1 = self.bounds
        return x1 - x0, y1 - y0


def _transformer(crs: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def parse_cells(strings: Sequence[str] | npt.ArrayLike) -> npt.NDArray[np.uint64]:
    """Hexadecimal H3 strings as ``uint64`` cells, vectorised (one lookup of every
    character's nibble; no per-cell Python loop)."""
    raw = np.asarray(strings).astype("S16")
    b = raw.view(np.uint8).reshape(len(raw), 16)
    lut = np.zeros(256, dtype=np.uint64)
    for i, ch in enumerate(b"0123456789abcdef"):
        lut[ch] = i
        lut[ord(chr(ch).upper())] = i
    length = (b != 0).sum(axis=1)
    shift = (length[:, None] - 1 - np.arange(16)[None, :]) * 4
    used = shift >= 0
    nib = lut[b] << np.where(used, shift, 0).astype(np.uint64)
    return np.where(used, nib, np.uint64(0)).sum(axis=1, dtype=np.uint64)


def geography(result: AccessibilityResult, areas: Any = None) -> Geography:
    """The :class:`Geography` of ``result``'s cells. ``areas`` (a GeoDataFrame of
    municipality polygons indexed by code, any CRS) are the borders drawn; without it
    they are derived from the cells' ``municipality`` column when there is one
    (:func:`municipal_areas`)."""
    cells = parse_cells(result.cells["h3"].to_numpy())
    lat, lon = hx.cell_centers(cells)
    lon0, lat0 = (lon.min() + lon.max()) / 2.0, (lat.min() + lat.max()) / 2.0
    crs = (
        f"+proj=tmerc +lat_0={lat0:.4f} +lon_0={lon0:.4f} +k=1 +x_0=0 +y_0=0 "
        "+ellps=GRS80 +units=m +no_defs"
    )
    x, y = _transformer(crs).transform(lon, lat)
    res = int(hx.cell_resolution(cells[:1])[0]) if len(cells) else 8
    pad = max(0.03 * max(np.ptp(x), np.ptp(y)), 4.0 * hx.mean_edge_length_m(max(res - 2, 0)))
    bounds = (x.min() - pad, y.min() - pad, x.max() + pad, y.max() + pad)
    if areas is None and "municipality" in result.cells.columns:
        codes = result.cells["municipality"].astype(object).to_numpy()
        areas = municipal_areas(cells, codes, crs, np.column_stack([x, y]))
    if areas is None:
        return Geography(crs, bounds)
    import shapely

    projected = areas.to_crs(crs).geometry
    # A third of a pixel of a 1,500-pixel map: finer detail is never seen, and drawing
    # it would cost seconds per map.
    tolerance = max(bounds[2] - bounds[0], bounds[3] - bounds[1]) / 4500.0
    fine = shapely.simplify(np.asarray(projected.values), tolerance)
    projected = projected.__class__(fine, index=projected.index, crs=crs)
    return Geography(crs, bounds, projected, shapely.get_parts(shapely.boundary(fine)))


#: Most cells of the filled territory whose union gives the municipal borders.
_MAX_FILL_CELLS = 100_000
#: Concavity of the study area's outline (shapely ``concave_hull``: 0 follows every
#: point, 1 is the convex hull); 0.05 follows Finland's coast and keeps sparse Lapland
#: whole.
_HULL_RATIO = 0.05


def municipal_areas(
    cells: npt.NDArray[np.uint64],
    municipality: npt.ArrayLike,
    crs: str,
    xy: npt.NDArray[np.float64],
) -> Any:
    """Municipal territories from the populated cells' municipality codes, when no
    border layer is given: the populated cells alone are scattered islands (their
    outlines are no borders), so the study area (the concave hull of the cells' centres
    ``xy``, projected in ``crs``) is filled with H3 cells at the finest resolution that
    gives at most :data:`_MAX_FILL_CELLS`, each given the municipality of the nearest
    populated cell, and those are dissolved per municipality
    (:func:`hexaccess.layers.dissolve_cells`; a GeoDataFrame in EPSG:4326). Borders are
    thus right to about one fill cell (2 km for Finland) and follow the settled area."""
    import shapely
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    from hexaccess.layers import dissolve_cells

    codes = np.asarray(municipality, dtype=object)
    known = np.flatnonzero(pd.notna(codes))
    res = int(hx.cell_resolution(cells[:1])[0]) if len(cells) else 0
    hull = shapely.concave_hull(shapely.multipoints(xy[known]), ratio=_HULL_RATIO)
    while res > 0 and hull.area / (hx.mean_cell_area_km2(res) * 1e6) > _MAX_FILL_CELLS:
        res -= 1
    hull = hull.buffer(hx.mean_edge_length_m(res), quad_segs=2)
    back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    hull_ll = shapely.transform(hull, lambda p: np.column_stack(back.transform(p[:, 0], p[:, 1])))
    fill = hx.polygon_cells([hull_ll], res)
    if len(fill) == 0 or len(known) == 0:
        return dissolve_cells(cells, codes)
    flat, flng = hx.cell_centers(fill)
    fx, fy = _transformer(crs).transform(flng, flat)
    _, nearest = cKDTree(xy[known]).query(np.column_stack([fx, fy]))
    return dissolve_cells(fill, codes[known][nearest])


# ------------------------------------------------------------------ cell map
def _display_cells(
    result: AccessibilityResult, values: npt.NDArray[np.float64], px_m: float
) -> tuple[pd.DataFrame, int, int]:
    """The cells drawn (``cell``, ``value``) at the finest resolution that is at least
    :data:`MIN_CELL_PX` pixels wide and has at most :data:`MAX_MAP_CELLS` cells; with
    the data's resolution and the resolution drawn."""
    cells = parse_cells(result.cells["h3"].to_numpy())
    weights = result.cells[result.columns[0]].to_numpy(dtype=float)
    data_res = int(hx.cell_resolution(cells[:1])[0]) if len(cells) else 0
    res = data_res
    # Width across flats of a hexagon: sqrt(3) x its edge.
    while res > 0 and np.sqrt(3.0) * hx.mean_edge_length_m(res) < MIN_CELL_PX * px_m:
        res -= 1
    frame = analysis.aggregate_cells(cells, values, weights, res)
    while len(frame) > MAX_MAP_CELLS and res > 0:
        res -= 1
        frame = analysis.aggregate_cells(cells, values, weights, res)
    return frame, data_res, res


def _hexagons(geo: Geography, cells: npt.NDArray[np.uint64]) -> npt.NDArray[np.float64]:
    """Projected outlines of ``cells`` as one ``(n, k, 2)`` array (rings with fewer than
    ``k`` vertices repeat their last one), for matplotlib's fast polygon path."""
    coords, offsets = hx.cell_boundary_coords(cells)
    x, y = geo.project(coords[:, 0], coords[:, 1])
    counts = np.diff(offsets)
    k = int(counts.max()) if len(counts) else 6
    take = offsets[:-1, None] + np.minimum(np.arange(k)[None, :], counts[:, None] - 1)
    return np.stack([x[take], y[take]], axis=-1)


@dataclass(frozen=True)
class _Layout:
    """Pixel layout of a map figure: the axes box and the figure around it."""

    width: int
    height: int
    axes: tuple[float, float, float, float]  # left, bottom, width, height in pixels
    px_m: float  # metres per pixel


def _layout(geo: Geography, width_px: int, title: bool, max_height_px: int) -> _Layout:
    """The axes keep the extent's aspect: ``width_px`` wide, as tall as that needs (at
    most ``max_height_px``, narrower then), with room for a title and the colour bar."""
    top, bottom, side = (34 if title else 10), 78, 8
    aw = width_px - 2 * side
    w_m, h_m = geo.size_m
    ah = aw * h_m / w_m
    if ah > max_height_px:
        aw, ah = aw * max_height_px / ah, float(max_height_px)
    ah = max(ah, 200.0)
    height = round(top + ah + bottom)
    left = (width_px - aw) / 2.0
    return _Layout(width_px, height, (left, bottom, aw, ah), max(w_m / aw, h_m / ah))


def _axes(plt: Any, lay: _Layout, geo: Geography) -> tuple[Any, Any]:
    """Figure and map axes of ``lay``, the axes' limits set to the extent at equal
    scale in x and y (north up)."""
    fig = plt.figure(figsize=(lay.width / DPI, lay.height / DPI), dpi=DPI)
    left, bottom, aw, ah = lay.axes
    ax = fig.add_axes((left / lay.width, bottom / lay.height, aw / lay.width, ah / lay.height))
    x0, y0, x1, y1 = geo.bounds
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    ax.set_xlim(cx - aw * lay.px_m / 2.0, cx + aw * lay.px_m / 2.0)
    ax.set_ylim(cy - ah * lay.px_m / 2.0, cy + ah * lay.px_m / 2.0)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_edgecolor("#888888")
        s.set_linewidth(0.6)
    return fig, ax


def coverage_map(
    result: AccessibilityResult,
    values_min: np.ndarray | None = None,
    *,
    title: str = "",
    cmap: str = "viridis_r",
    vmin: float = 0.0,
    vmax: float = 90.0,
    label: str = "one-way travel time to the nearest office, min",
    offices: np.ndarray | None = None,
    geo: Geography | None = None,
    width_px: int = 620,
    max_height_px: int = 1400,
    catchments: pd.DataFrame | None = None,
    labels: int = 10,
    office_color: str = "#d62728",
    other_offices: np.ndarray | None = None,
    other_label: str = "",
) -> Any:
    """Map of per-cell values (default travel time, minutes) over the H3 hexagons:
    municipal borders, the ``offices`` (default the searched ones) marked, the
    ``labels`` largest ``catchments`` (an ``offices.csv`` table) named, a colour bar
    titled ``label``, a scale bar and a north arrow; unreachable cells grey.
    ``other_offices`` (indices) are drawn as hollow rings (``other_label``), e.g. a
    baseline's offices on a map of change. ``geo`` is the study's :class:`Geography`
    (computed from ``result`` when not given); the figure is ``width_px`` pixels wide."""
    plt = mpl()  # first: a missing matplotlib names the extra to install
    from matplotlib.collections import PolyCollection

    geo = geo or geography(result)
    cells = result.cells
    v = cells["time_s"].to_numpy() / 60.0 if values_min is None else np.asarray(values_min)
    lay = _layout(geo, width_px, bool(title), max_height_px)
    frame, data_res, res = _display_cells(result, np.asarray(v, dtype=float), lay.px_m)
    fig, ax = _axes(plt, lay, geo)
    colours = plt.get_cmap(cmap).with_extremes(bad=UNREACHED)
    vals = np.ma.masked_invalid(frame["value"].to_numpy(dtype=float))
    coll = PolyCollection(_hexagons(geo, frame["cell"].to_numpy()), array=vals, cmap=colours)
    coll.set_clim(vmin, vmax)
    coll.set_edgecolor("face")
    coll.set_linewidth(0.15)
    ax.add_collection(coll)
    handles = _draw_borders(ax, geo)
    idx = result.office_indices if offices is None else np.asarray(offices)
    handles += _draw_offices(ax, geo, result, idx, office_color, other_offices, other_label)
    if catchments is not None and labels:
        _label_catchments(ax, geo, result, catchments, labels, lay.px_m)
    if vals.mask.any():
        from matplotlib.patches import Patch

        handles.append(Patch(facecolor=UNREACHED, label="unreachable"))
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.85)
    _scale_bar(ax, lay)
    _north_arrow(ax)
    _colour_bar(fig, coll, lay, label, vmin)
    note = f"H3 resolution {res}" + (f" (data {data_res}, aggregated)" if res < data_res else "")
    fig.text(
        0.99,
        0.005,
        f"{note}; transverse Mercator",
        ha="right",
        va="bottom",
        fontsize=7,
        color="#555555",
    )
    if title:
        fig.suptitle(title, y=1 - 6 / lay.height, va="top", fontsize=11)
    return fig


def _draw_borders(ax: Any, geo: Geography) -> list[Any]:
    """Municipal borders as one path (thin dark lines); the legend handle, if drawn."""
    if geo.borders is None or len(geo.borders) == 0:
        return []
    import shapely
    from matplotlib.lines import Line2D
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    xy, part = shapely.get_coordinates(geo.borders, return_index=True)
    if not len(xy):
        return []
    codes = np.full(len(xy), Path.LINETO, dtype=np.uint8)
    codes[np.r_[0, np.flatnonzero(np.diff(part)) + 1]] = Path.MOVETO
    patch = PathPatch(Path(xy, codes), facecolor="none", edgecolor="#333333", linewidth=0.45)
    patch.set_alpha(0.7)
    # add_artist, not add_patch: the limits are set, and add_patch would walk every
    # vertex in Python to update them (seconds for national borders).
    ax.add_artist(patch)
    return [Line2D([], [], color="#333333", linewidth=0.8, label="municipal border")]


def _draw_offices(
    ax: Any,
    geo: Geography,
    result: AccessibilityResult,
    idx: np.ndarray,
    color: str,
    other: np.ndarray | None,
    other_label: str,
) -> list[Any]:
    """Offices as dots (and ``other`` offices as hollow rings); their legend handles."""
    frame = result.access.offices.frame
    handles = []
    if other is not None and len(other):
        of = frame.iloc[np.asarray(other)]
        x, y = geo.project(of["lon"].to_numpy(), of["lat"].to_numpy())
        handles.append(
            ax.scatter(
                x,
                y,
                s=34,
                facecolors="none",
                edgecolors="black",
                linewidths=0.9,
                zorder=3,
                label=f"{other_label} ({len(of)})",
            )
        )
    of = frame.iloc[idx]
    x, y = geo.project(of["lon"].to_numpy(), of["lat"].to_numpy())
    handles.append(
        ax.scatter(
            x,
            y,
            s=24,
            c=color,
            edgecolors="white",
            linewidths=0.8,
            zorder=4,
            label=f"offices ({len(of)})",
        )
    )
    return handles


def _label_catchments(
    ax: Any,
    geo: Geography,
    result: AccessibilityResult,
    catchments: pd.DataFrame,
    n: int,
    px_m: float,
) -> None:
    """The office names of the ``n`` most populous catchments, haloed for reading;
    larger catchments first, and a name that would overlap one already written is
    moved to another corner of its dot or left out."""
    import matplotlib.patheffects as pe

    top = catchments.sort_values("population", ascending=False, kind="stable").head(n)
    frame = result.access.offices.frame.iloc[top["office"].to_numpy()]
    x, y = geo.project(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    halo = [pe.withStroke(linewidth=2.6, foreground="white")]
    placed: list[tuple[float, float, float, float]] = []
    size_pt = 7.5
    for xi, yi, name in zip(x, y, top["name"].astype(str), strict=True):
        # Text box in pixels (about 0.6 em per character); offsets in points = pixels
        # at 100 dpi x 72/100.
        w, h = 0.6 * size_pt * 100 / 72 * len(name), size_pt * 100 / 72
        px, py = xi / px_m, yi / px_m
        for dx, dy in ((5, 4), (5, -4 - h), (-5 - w, 4), (-5 - w, -4 - h)):
            box = (px + dx, py + dy, px + dx + w, py + dy + h)
            if not any(_overlap(box, b) for b in placed):
                placed.append(box)
                ax.annotate(
                    name,
                    (xi, yi),
                    xytext=(dx * 0.72, dy * 0.72),
                    textcoords="offset points",
                    fontsize=size_pt,
                    zorder=5,
                    path_effects=halo,
                    va="bottom",
                    ha="left",
                )
                break


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def nice_length(target_m: float) -> float:
    """The largest 1, 2 or 5 x 10^k metres not above ``target_m``."""
    exp = 10.0 ** np.floor(np.log10(max(target_m, 1.0)))
    return float(max(m * exp for m in (1.0, 2.0, 5.0) if m * exp <= target_m))


def _scale_bar(ax: Any, lay: _Layout) -> None:
    """A two-part black-and-white scale bar at the lower left, labelled in km or m."""
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, _ = ax.get_ylim()
    length = nice_length(0.25 * (x1 - x0))
    left, base, h = x0 + 14 * lay.px_m, y0 + 16 * lay.px_m, 5 * lay.px_m
    for k, colour in enumerate(("black", "white")):
        ax.add_patch(
            Rectangle(
                (left + k * length / 2, base),
                length / 2,
                h,
                facecolor=colour,
                edgecolor="black",
                linewidth=0.7,
                zorder=6,
            )
        )
    import matplotlib.patheffects as pe

    unit, div = ("km", 1000.0) if length >= 1000 else ("m", 1.0)
    halo = [pe.withStroke(linewidth=2.6, foreground="white")]
    for pos, text in ((0.0, "0"), (length, f"{length / div:g} {unit}")):
        ax.text(
            left + pos,
            base + h + 3 * lay.px_m,
            text,
            ha="center",
            va="bottom",
            fontsize=7.5,
            zorder=6,
            path_effects=halo,
        )


def _north_arrow(ax: Any) -> None:
    """An arrow with N at the upper right: north is up (along the central meridian)."""
    ax.annotate(
        "N",
        xy=(0.95, 0.985),
        xytext=(0.95, 0.925),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2},
    )


def _colour_bar(fig: Any, coll: Any, lay: _Layout, label: str, vmin: float) -> None:
    """A horizontal colour bar under the map, titled with ``label`` (its units)."""
    cax = fig.add_axes((0.12, 42 / lay.height, 0.76, 11 / lay.height))
    extend = "both" if vmin < 0 else "max"
    bar = fig.colorbar(coll, cax=cax, orientation="horizontal", extend=extend)
    bar.ax.tick_params(labelsize=8)
    bar.ax.set_title(label, fontsize=9, pad=3)


# ------------------------------------------------------------ choropleth (SVG)
def municipality_svg(
    geo: Geography,
    table: pd.DataFrame,
    *,
    width_px: int = 440,
    vmax: float = 90.0,
    cmap: str = "viridis_r",
    offices: tuple[Any, Any, Sequence[str]] | None = None,
    ident: str = "",
    shapes: str = "",
) -> str:
    """An inline SVG choropleth of each municipality's mean time (a
    ``municipalities.csv`` table): hovering a municipality shows its name, people, mean
    and longest time and the within-share (SVG ``<title>``: no script). ``offices`` are
    (lon, lat, names) drawn as dots. The outlines are the ``<path>`` elements of
    :func:`municipality_shapes` with the ids prefixed ``shapes``, referenced by
    ``<use>``, so several maps share one copy of the geometry."""
    plt = mpl()
    w_m, h_m = geo.size_m
    scale = width_px / w_m
    height = round(h_m * scale) + 46
    colours = plt.get_cmap(cmap)
    x0, _, _, y1 = geo.bounds
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" class="choropleth"'
        + (f' id="{ident}"' if ident else "")
        + f' width="{width_px}" height="{height}" viewBox="0 0 {width_px} {height}" '
        'role="img"><desc>mean travel time by municipality</desc>'
    ]
    within = [c for c in table.columns if c.startswith("share_within_")]
    codes = [str(c) for c in geo.areas.index] if geo.areas is not None else []
    rows = table.set_index(table["municipality"].astype(str))
    # Outline, fill rule and hover style reach the shared paths through the <use>s.
    parts.append('<g class="areas" stroke="#ffffff" stroke-width="5" fill-rule="evenodd">')
    for i, code in enumerate(codes):
        if code not in rows.index:
            continue
        row = rows.loc[code]
        mean = float(row["mean_time_min"])
        fill = UNREACHED if not np.isfinite(mean) else _hex(colours(min(mean / vmax, 1.0)))
        parts.append(
            f'<use href="#{shapes}{i}" fill="{fill}"><title>{html.escape(_tip(row, within))}'
            "</title></use>"
        )
    parts.append("</g>")
    if offices is not None:
        parts.append(_svg_offices(geo, offices, scale, x0, y1))
    parts.append(_svg_legend(colours, width_px, height, vmax, f"{ident or 'm'}-lg"))
    parts.append(_svg_scale_bar(scale, height))
    parts.append("</svg>")
    return "".join(parts)


def municipality_shapes(geo: Geography, *, width_px: int = 440, prefix: str = "mun") -> str:
    """The municipalities' outlines as ``<path id="{prefix}{i}">`` elements (i = their
    order in ``geo.areas``) in a hidden SVG, in the pixel frame of
    :func:`municipality_svg` at ``width_px``: simplified to half a pixel, integer
    coordinates in tenths of a pixel, relative moves (a few bytes per vertex)."""
    import shapely

    if geo.areas is None:
        return ""
    w_m, _ = geo.size_m
    scale = width_px / w_m
    x0, _, _, y1 = geo.bounds
    geoms = shapely.simplify(np.asarray(geo.areas.values), 0.5 / scale)
    polygons, owner = shapely.get_parts(geoms, return_index=True)
    rings = shapely.get_rings(polygons)
    ring_owner = np.repeat(owner, shapely.get_num_interior_rings(polygons) + 1)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    px = np.column_stack([(xy[:, 0] - x0) * scale, (y1 - xy[:, 1]) * scale]) * 10.0
    px = np.round(px).astype(np.int64)
    paths = [""] * len(geoms)
    starts = np.r_[0, np.flatnonzero(np.diff(ring)) + 1, len(ring)]
    for a, b in itertools.pairwise(starts):
        pts = px[a : b - 1]  # the ring's closing vertex is the Z
        if len(pts) < 3:
            continue
        d = np.diff(pts, axis=0)
        rel = " ".join(map(str, d.ravel().tolist()))
        paths[ring_owner[ring[a]]] += f"M{pts[0, 0]} {pts[0, 1]}l{rel}z"
    body = "".join(
        f'<path id="{prefix}{i}" d="{d}" transform="scale(0.1)"/>' for i, d in enumerate(paths)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0" class="defs" '
        f'aria-hidden="true"><defs>{body}</defs></svg>'
    )


def _tip(row: pd.Series, within: list[str]) -> str:
    """The hover text of one municipality (numbers of ``municipalities.csv``)."""
    name = row.get("name")
    label = f"{name} ({row['municipality']})" if isinstance(name, str) else f"{row['municipality']}"
    text = f"{label}: {row['population']:,.0f} people"
    if np.isfinite(row["mean_time_min"]):
        text += f"; mean {row['mean_time_min']:.1f} min, longest {row['max_time_min']:.1f} min"
    for c in within:
        minutes = c.removeprefix("share_within_").removesuffix("min_pct")
        text += f"; {row[c]:.1f} % within {minutes} min"
    if row.get("population_unreachable", 0) > 0:
        text += f"; unreachable {row['population_unreachable']:,.0f}"
    return text


def _hex(rgba: Sequence[float]) -> str:
    r, g, b = (round(255 * c) for c in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _svg_offices(
    geo: Geography, offices: tuple[Any, Any, Sequence[str]], scale: float, x0: float, y1: float
) -> str:
    lon, lat, names = offices
    x, y = geo.project(lon, lat)
    return "".join(
        f'<circle cx="{(xi - x0) * scale:.1f}" cy="{(y1 - yi) * scale:.1f}" r="2.4" '
        f'fill="#d62728" stroke="white" stroke-width="0.8"><title>{html.escape(str(n))}'
        "</title></circle>"
        for xi, yi, n in zip(np.atleast_1d(x), np.atleast_1d(y), names, strict=True)
    )


def _svg_legend(colours: Any, width: int, height: int, vmax: float, gid: str) -> str:
    """A gradient bar with ticks, titled with the measure and its unit."""
    stops = "".join(
        f'<stop offset="{t:.2f}" stop-color="{_hex(colours(t))}"/>' for t in np.linspace(0, 1, 11)
    )
    x0, bw, y = 40, width - 80, height - 22
    step = 30.0 if vmax > 60 else 10.0
    ticks = "".join(
        f'<text x="{x0 + bw * v / vmax:.1f}" y="{y + 19}" font-size="10" '
        f'text-anchor="middle">{v:g}{"+" if v == vmax else ""}</text>'
        for v in np.arange(0, vmax + 1e-9, step)
    )
    return (
        f'<defs><linearGradient id="{gid}">{stops}</linearGradient></defs>'
        f'<text x="{width / 2}" y="{y - 4}" font-size="10" text-anchor="middle">'
        "mean travel time to the nearest office, min</text>"
        f'<rect x="{x0}" y="{y}" width="{bw}" height="8" fill="url(#{gid})" '
        f'stroke="#555" stroke-width="0.5"/>{ticks}'
    )


def _svg_scale_bar(scale: float, height: int) -> str:
    length = nice_length(110.0 / scale)
    px = length * scale
    unit, div = ("km", 1000.0) if length >= 1000 else ("m", 1.0)
    y = height - 58
    return (
        f'<rect x="12" y="{y}" width="{px:.1f}" height="4" fill="black"/>'
        f'<text x="12" y="{y - 3}" font-size="10">0</text>'
        f'<text x="{12 + px:.1f}" y="{y - 3}" font-size="10" text-anchor="middle">'
        f"{length / div:g} {unit}</text>"
        f'<text x="{12}" y="14" font-size="12" font-weight="bold">N ↑</text>'
    )
