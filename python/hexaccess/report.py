"""A self-contained HTML report of an accessibility study (``hexaccess report``).

One HTML file, no network needed to view it: tables are HTML, charts and maps are
matplotlib PNGs embedded as base64 ``data:`` URIs. Sections: per office network the
summary figures, the band table and chart, a coverage map (travel time over the H3
hexagons, offices drawn), the catchment and municipality tables and language access;
then the scenario comparison when several networks are given; and how it was made
(provenance).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hexaccess import analysis, defaults
from hexaccess.errors import UnknownNameError
from hexaccess.study.road import AccessibilityResult

__all__ = ["band_chart", "coverage_map", "write_report"]

#: Largest number of hexagons drawn on a map; finer grids are aggregated to the parent
#: resolution (population-weighted mean time) so a national map renders in seconds.
MAX_MAP_CELLS = 60_000

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:2px 6px;text-align:right}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
img{max-width:100%} .note{color:#666;font-size:.85em}
pre{background:#f7f7f7;padding:.5em;font-size:.75em;overflow-x:auto}
"""


def _png(fig: Any) -> str:
    """A matplotlib figure as a base64 PNG ``<img>`` (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="chart" src="data:image/png;base64,{data}">'


def _mpl() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # headless: never needs a display
    import matplotlib.pyplot as plt

    return plt


def _labelled(table: pd.DataFrame) -> pd.DataFrame:
    """The table with a ``band`` label column (added from the band edges if missing)."""
    if "band" in table.columns:
        return table
    return table.assign(band=analysis.band_labels(table["band_start_min"], table["band_end_min"]))


def band_chart(
    tables: Mapping[str, pd.DataFrame],
    reference: pd.DataFrame | None = None,
    title: str = "",
    *,
    trim_tail: bool = True,
    xlabel: str = "one-way travel time to the nearest office, minutes",
) -> Any:
    """Grouped bars of the share per band (``share_pct``) for each table, in order, and a
    reference table last. Tables need ``band`` labels or ``band_start_min`` and
    ``band_end_min``. With ``trim_tail``, trailing bands where every table has under
    0.05 % are left out."""
    plt = _mpl()
    series = {n: _labelled(t[t["band"] != "unreachable"] if "band" in t else t)
              for n, t in tables.items()}  # fmt: skip
    if reference is not None:
        series["reference"] = _labelled(reference)
    labels: list[str] = []
    for t in series.values():
        for b in t["band"]:
            if b not in labels:
                labels.append(b)
    shares = {
        n: t.set_index("band")["share_pct"].reindex(labels).fillna(0.0) for n, t in series.items()
    }
    if trim_tail:
        # Trailing bands with (almost) nobody say nothing on a chart.
        keep = max(
            (int(np.flatnonzero(s.to_numpy() >= 0.05).max(initial=0)) for s in shares.values()),
            default=0,
        )
        labels = labels[: keep + 1]
    labels, shares, merged = _merge_bars(labels, shares, series)
    if merged > 1:
        title = f"{title} (bars of {merged} neighbouring bands each)".strip()
    fig, ax = plt.subplots(figsize=(9, 3.6))
    width = 0.8 / max(len(shares), 1)
    x = np.arange(len(labels))
    for k, (n, s) in enumerate(shares.items()):
        ax.bar(x + k * width - 0.4 + width / 2, s.reindex(labels).to_numpy(), width, label=n)
    ax.set_xticks(x, labels, rotation=45, ha="right")
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_ylabel("share of population, %")
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return fig


def _merge_bars(
    labels: list[str], shares: dict[str, pd.Series], series: Mapping[str, pd.DataFrame]
) -> tuple[list[str], dict[str, pd.Series], int]:
    """At most :data:`hexaccess.defaults.MAX_CHART_BARS` bars: finer tables are drawn
    with ``k`` neighbouring bands summed into one bar (the CSV tables keep every band);
    returns the labels, the shares and ``k`` (1 when nothing was merged)."""
    if len(labels) <= defaults.MAX_CHART_BARS:
        return labels, shares, 1
    k = -(-len(labels) // defaults.MAX_CHART_BARS)
    edges: dict[str, tuple[float, float]] = {}
    for t in series.values():
        if {"band_start_min", "band_end_min"} <= set(t.columns):
            ends = zip(t["band_start_min"], t["band_end_min"], strict=True)
            edges.update(zip(t["band"], ends, strict=True))
    groups = [labels[i : i + k] for i in range(0, len(labels), k)]
    new_labels = []
    for g in groups:
        if g[0] in edges and g[-1] in edges:
            new_labels.append(f"{edges[g[0]][0]:g}-{edges[g[-1]][1]:g}")
        else:
            new_labels.append(f"{g[0]}…{g[-1]}")
    merged = {
        n: pd.Series([float(s.reindex(g).sum()) for g in groups], index=new_labels)
        for n, s in shares.items()
    }
    return new_labels, merged, k


def _map_cells(cells: pd.DataFrame, values: np.ndarray, weights: np.ndarray) -> pd.DataFrame:
    """Cells (h3 strings) with a value; aggregated to a coarser resolution when there
    are more than :data:`MAX_MAP_CELLS` (weighted mean of finite values)."""
    import h3

    frame = pd.DataFrame({"h3": cells["h3"].to_numpy(), "v": values, "w": weights})
    if len(frame) == 0:
        return frame
    res = h3.get_resolution(frame["h3"].iloc[0])
    while len(frame) > MAX_MAP_CELLS and res > 0:
        res -= 1
        frame["h3"] = [h3.cell_to_parent(c, res) for c in frame["h3"]]
        ok = np.isfinite(frame["v"].to_numpy())
        # Weight 1e-9 keeps empty cells' values in the mean without letting them count.
        w = frame["w"].to_numpy() + 1e-9
        frame = (
            frame.assign(wv=np.where(ok, frame["v"] * w, 0.0), wr=np.where(ok, w, 0.0), w=w)
            .groupby("h3", sort=False)
            .agg(wv=("wv", "sum"), wr=("wr", "sum"), w=("w", "sum"))
            .reset_index()
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["v"] = np.where(frame["wr"] > 0, frame["wv"] / frame["wr"], np.inf)
        frame = frame[["h3", "v", "w"]]
    return frame


def coverage_map(
    result: AccessibilityResult,
    values_min: np.ndarray | None = None,
    *,
    title: str = "",
    cmap: str = "viridis_r",
    vmin: float = 0.0,
    vmax: float = 90.0,
    label: str = "one-way travel time to the nearest office, minutes",
    offices: np.ndarray | None = None,
) -> Any:
    """Map of per-cell values (default travel time, minutes) over the H3 hexagons, with
    the searched offices as markers. Unreachable cells are grey. Longitudes are scaled
    by cos(latitude) so the map is not stretched east-west."""
    import h3
    from matplotlib.collections import PolyCollection

    plt = _mpl()
    cells = result.cells
    v = cells["time_s"].to_numpy() / 60.0 if values_min is None else np.asarray(values_min)
    frame = _map_cells(cells, v, cells[result.columns[0]].to_numpy(dtype=float))
    polys = [np.asarray(h3.cell_to_boundary(c))[:, ::-1] for c in frame["h3"]]  # (lon, lat)
    lat0 = float(np.mean([p[:, 1].mean() for p in polys])) if polys else 0.0
    k = np.cos(np.deg2rad(lat0))
    polys = [np.column_stack([p[:, 0] * k, p[:, 1]]) for p in polys]
    fig, ax = plt.subplots(figsize=(7, 8))
    vals = frame["v"].to_numpy(dtype=float)
    finite = np.isfinite(vals)
    coll = PolyCollection(
        [p for p, f in zip(polys, finite, strict=True) if f], array=vals[finite], cmap=cmap
    )
    coll.set_clim(vmin, vmax)
    coll.set_edgecolor("face")
    coll.set_linewidth(0.1)
    ax.add_collection(coll)
    if (~finite).any():
        ax.add_collection(
            PolyCollection(
                [p for p, f in zip(polys, finite, strict=True) if not f],
                facecolor="#999999",
                edgecolor="#999999",
                linewidth=0.1,
            )
        )
    idx = result.office_indices if offices is None else np.asarray(offices)
    of = result.access.offices.frame.iloc[idx]
    ax.scatter(
        of["lon"].to_numpy() * k,
        of["lat"].to_numpy(),
        s=28,
        c="red",
        edgecolors="white",
        linewidths=0.8,
        zorder=3,
        label=f"offices ({len(of)})",
    )
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="lower right", fontsize=8)
    fig.colorbar(coll, ax=ax, shrink=0.6, label=label, extend="max")
    if title:
        ax.set_title(title)
    return fig


def _table(frame: pd.DataFrame, max_rows: int | None = None, digits: int = 2) -> str:
    """An HTML table (escaped), numbers rounded, optionally the first ``max_rows``."""
    f = frame if max_rows is None else frame.head(max_rows)
    f = f.copy()
    for c in f.columns:
        if pd.api.types.is_float_dtype(f[c]):
            big = c.startswith(("population", "visits"))
            f[c] = f[c].map(
                lambda x, big=big: (
                    "" if pd.isna(x) else (f"{x:,.0f}" if big else f"{x:,.{digits}f}")
                )
            )
    note = ""
    if max_rows is not None and len(frame) > max_rows:
        note = f'<p class="note">first {max_rows} of {len(frame)} rows (all rows in the CSV)</p>'
    return f.to_html(index=False, escape=True, border=0) + note


def _version(result: AccessibilityResult) -> str:
    import hexaccess

    return str(result.provenance.get("engine_version", hexaccess.__version__))


def _section(title: str, *parts: str) -> str:
    return f"<h2>{html.escape(title)}</h2>\n" + "\n".join(parts)


def _h3(title: str) -> str:
    return f"<h3>{html.escape(title)}</h3>"


def _collapse_tail(bands: pd.DataFrame, max_minutes: float = 180.0) -> pd.DataFrame:
    """For reading: bands from ``max_minutes`` on become one ``"180+"`` row (long ferry
    trips can add dozens of near-empty bands); the CSV tables keep every band."""
    reached = bands[bands["band"] != "unreachable"]
    tail = reached[reached["band_start_min"] >= max_minutes]
    if len(tail) <= 1:
        return bands
    head = reached[reached["band_start_min"] < max_minutes]
    row = {
        "band": f"{max_minutes:g}+",
        "band_start_min": max_minutes,
        "band_end_min": float(tail["band_end_min"].max()),
        "population": float(tail["population"].sum()),
        "share_pct": float(tail["share_pct"].sum()),
        "cumulative_pct": float(tail["cumulative_pct"].iloc[-1]),
    }
    rest = bands[bands["band"] == "unreachable"]
    return pd.concat([head, pd.DataFrame([row]), rest], ignore_index=True)


def write_report(
    path: str | Path,
    results: Mapping[str, AccessibilityResult],
    *,
    title: str = defaults.TITLE,
    column: str | None = None,
    band_minutes: float = defaults.BAND_MINUTES,
    coverage_minutes: Sequence[float] = defaults.COVERAGE_MINUTES,
    coverage_km: Sequence[float] = defaults.COVERAGE_KM,
    municipalities: pd.DataFrame | None = None,
    visits_per_person: Mapping[str, float] | None = None,
    comparison: analysis.Comparison | None = None,
    language: Mapping[str, analysis.LanguageAccess] | None = None,
    reference: pd.DataFrame | str | Path | None = None,
    municipality_rows: int = 25,
    tables: Mapping[str, Mapping[str, pd.DataFrame]] | None = None,
) -> Path:
    """Write the HTML report of one or more office networks to the file ``path``;
    returns it. Nothing else is written.

    ``path``'s directory must exist: the report is written into it, never creates or
    cleans it (give a file of the staging directory of
    :func:`hexaccess.outputs.prepare_output`, which commits it).

    ``reference`` (a band table like ``bands.csv``, or its path; checked with
    :func:`hexaccess.calibrate.read_reference`) is drawn beside the bands, e.g. the
    published study. ``tables`` are each network's tables as written
    (:func:`hexaccess.analysis.network_tables`, keyed by network and file name), so the
    report shows exactly the CSV figures; a network without them gets them computed
    here from the other arguments.
    """
    if not results:
        raise analysis.AnalysisInputError("the report needs at least one result")
    from hexaccess.calibrate import read_reference

    ref = read_reference(reference) if reference is not None else None
    path = analysis.existing_directory(Path(path).parent) / Path(path).name
    first = next(iter(results.values()))
    column = analysis._column(first, column)
    language = language or {}
    if comparison is not None:
        _check_comparison(comparison, results)
    figures = _network_figures(
        results,
        tables or {},
        column,
        band_minutes=band_minutes,
        coverage_minutes=coverage_minutes,
        coverage_km=coverage_km,
        visits_per_person=visits_per_person,
        municipalities=municipalities,
        language=language,
    )
    body = _header(title, first, column)
    band_tables = {n: t["bands_all.csv"] for n, t in figures.items()}
    body.append(
        _section(
            "Travel-time bands",
            _png(band_chart(band_tables, ref, f"Population by {band_minutes:g}-minute band")),
        )
    )
    for name, result in results.items():
        parts = _network_parts(name, result, figures[name], municipality_rows)
        lang = language.get(name)
        if lang is not None:
            parts += _language_parts(
                lang, figures[name], column, band_minutes, municipalities, municipality_rows
            )
        body.append(_section(f"Network: {name}", *parts))
    if comparison is not None:
        body.append(_section("Scenario comparison", *_comparison_parts(comparison, results)))
    body.append(_provenance_section(results))
    path.write_text(_document(title, body), encoding="utf-8")
    return path


#: The tables every network section shows (:func:`hexaccess.analysis.network_tables`).
_NETWORK_TABLES = ("bands_all.csv", "means.csv", "coverage.csv", "offices.csv")


def _network_figures(
    results: Mapping[str, AccessibilityResult],
    given: Mapping[str, Mapping[str, pd.DataFrame]],
    column: str,
    *,
    language: Mapping[str, analysis.LanguageAccess],
    **options: Any,
) -> dict[str, dict[str, pd.DataFrame]]:
    """Each network's tables: the given ones (copied: language tables may be added), or
    computed with :func:`hexaccess.analysis.network_tables` and ``options``."""
    figures: dict[str, dict[str, pd.DataFrame]] = {}
    for n, r in results.items():
        if n in given:
            figures[n] = dict(given[n])
            missing = [t for t in _NETWORK_TABLES if t not in figures[n]]
            if missing:
                raise analysis.AnalysisInputError(
                    f"the tables given for network {n!r} lack {missing}; give every table "
                    "of hexaccess.analysis.network_tables (or none, to compute them)"
                )
        else:
            figures[n] = analysis.network_tables(r, column, language=language.get(n), **options)
    return figures


def _check_comparison(
    comparison: analysis.Comparison, results: Mapping[str, AccessibilityResult]
) -> None:
    """A comparison maps the networks it compares: each must be one of the results."""
    unknown = [n for n in comparison.names[1:] if n not in results]
    if unknown:
        raise UnknownNameError(
            f"the comparison's network(s) {unknown} are not among the report's results "
            f"{list(results)}; compare the networks the report shows"
        )


def _header(title: str, first: AccessibilityResult, column: str) -> list[str]:
    """Title and the note of what made the report (version, time, column, profile)."""
    return [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">hexaccess {html.escape(str(_version(first)))}'
        f", generated {_dt.datetime.now().isoformat(timespec='seconds')}; population column "
        f"<b>{html.escape(column)}</b>; profile "
        f"<b>{html.escape(str(first.provenance.get('profile', '')))}</b>, H3 resolution "
        f"{html.escape(str(first.provenance.get('resolution', '')))}.</p>",
    ]


def _network_parts(
    name: str, result: AccessibilityResult, fig: Mapping[str, pd.DataFrame], rows: int
) -> list[str]:
    """One network: summary, bands, map, catchments and the ``rows`` municipalities with
    the longest trips."""
    parts = [
        _h3("Summary"),
        _table(fig["means.csv"]),
        _table(fig["coverage.csv"]),
        _h3("Band table"),
        _table(_collapse_tail(fig["bands_all.csv"])),
        _h3("Coverage map"),
        _png(coverage_map(result, title=f"{name}: travel time to the nearest office")),
        _h3("Catchments (offices.csv)"),
        _table(fig["offices.csv"]),
    ]
    if "municipalities.csv" in fig:
        parts += [
            _h3("Municipalities with the longest trips (municipalities.csv)"),
            _table(fig["municipalities.csv"], rows),
        ]
    return parts


def _language_parts(
    lang: analysis.LanguageAccess,
    fig: dict[str, pd.DataFrame],
    column: str,
    band_minutes: float,
    municipalities: pd.DataFrame | None,
    rows: int,
) -> list[str]:
    """Language access of one network; its tables are added to ``fig`` when the tables
    were given without them."""
    if "language_means.csv" not in fig:
        fig.update(analysis.language_tables(lang, column, band_minutes, municipalities))
    return [
        _h3("Language access: Swedish-speaking and bilingual municipalities"),
        f'<p class="note">time to the nearest of the {len(lang.offices)} offices in a '
        "bilingual or Swedish-language municipality</p>",
        _table(fig["language_means.csv"]),
        _table(_collapse_tail(fig["language_bands.csv"])),
        _table(fig["language_municipalities.csv"], rows),
    ]


def _comparison_parts(
    comparison: analysis.Comparison, results: Mapping[str, AccessibilityResult]
) -> list[str]:
    """The comparison's tables and one map of the change of travel time per network."""
    baseline = comparison.names[0]
    parts = [
        f'<p class="note">baseline {html.escape(baseline)}; gains and losses '
        f"beyond {comparison.threshold_min:g} minutes</p>",
        _table(comparison.changes),
        _table(comparison.bands),
    ]
    for n in comparison.names[1:]:
        diff = comparison.cells[f"diff_min_{n}"].to_numpy()
        change_map = coverage_map(
            results[n],
            np.where(np.isfinite(diff), diff, np.nan),
            title=f"{n} minus {baseline}, minutes",
            cmap="RdBu_r",
            vmin=-30,
            vmax=30,
            label="change of travel time, minutes (blue = closer)",
        )
        parts.append(_png(change_map))
    return parts


def _provenance_section(results: Mapping[str, AccessibilityResult]) -> str:
    """How it was made: every network's provenance as JSON, folded."""
    prov = {n: analysis.result_provenance(r) for n, r in results.items()}
    return _section(
        "How this was made",
        "<details><summary>provenance (inputs with SHA-256, profile, engine)</summary>"
        f"<pre>{html.escape(json.dumps(prov, indent=2, default=str))}</pre></details>",
    )


def _document(title: str, body: Sequence[str]) -> str:
    """The whole HTML page around the body parts (inline CSS, nothing external)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
