"""The report's page: sections, layout and the one HTML file (see the package docstring)."""

from __future__ import annotations

import datetime as _dt
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hexaccess import analysis, defaults
from hexaccess.errors import UnknownNameError
from hexaccess.report import maps
from hexaccess.report.charts import band_chart, img_tag, png_bytes
from hexaccess.report.tables import file_link, html_table
from hexaccess.study.road import AccessibilityResult

#: Width of the page's content at a 1,400-pixel window (CSS ``max-width`` less padding).
PAGE_WIDTH_PX = 1320
#: Width of the national map on the first screen, and of each map of change.
MAP_WIDTH_PX = 620
CHANGE_MAP_WIDTH_PX = 560
#: Width of a municipality choropleth.
CHOROPLETH_WIDTH_PX = 440

#: Columns of the top rows shown on the page (the CSV files have every column).
BAND_COLUMNS = ("band", "population", "share_pct", "cumulative_pct")
CATCHMENT_COLUMNS = (
    "name",
    "municipality",
    "population",
    "share_pct",
    "mean_time_min",
    "max_time_min",
    "mean_distance_km",
)
MUNICIPALITY_COLUMNS = (
    "name",
    "municipality",
    "population",
    "mean_time_min",
    "max_time_min",
    "mean_distance_km",
)

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1360px;padding:0 20px 40px;color:#222;font-size:14px;line-height:1.35}
h1{font-size:1.7em;margin:.5em 0 .1em}
h2{font-size:1.3em;border-bottom:2px solid #d8d8d8;margin:1.5em 0 .5em;padding-bottom:.15em}
h3{font-size:1.02em;margin:.9em 0 .3em}
section{width:100%}
.cards{display:grid;gap:6px;margin:.5em 0 .8em}
.cards .net{font-weight:650;align-self:center;overflow-wrap:anywhere}
.cards .net small{display:block;font-weight:400;color:#666}
.card{background:#f1f4f7;border-radius:6px;padding:6px 10px;min-width:0}
.card .v{display:block;font-size:1.4em;font-weight:650;white-space:nowrap}
.card .l{display:block;color:#555;font-size:.8em}
.overview{display:grid;grid-template-columns:minmax(0,1fr) auto;gap:24px;align-items:start}
.grid2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:24px;align-items:start}
.maps2{display:grid;grid-template-columns:repeat(auto-fill,minmax(0,560px));gap:24px}
.muni{display:grid;grid-template-columns:auto minmax(0,1fr);gap:24px;align-items:start}
table{border-collapse:collapse;table-layout:fixed;width:100%;font-size:.84em;margin:.25em 0}
th,td{border-bottom:1px solid #e4e4e4;padding:3px 5px;text-align:right;
overflow-wrap:anywhere;vertical-align:bottom}
th{background:#f3f3f3;font-weight:600;font-size:.94em;overflow-wrap:break-word}
th.t,td.t{text-align:left}
img,svg.choropleth{max-width:100%;height:auto;display:block}
svg.defs{position:absolute;width:0;height:0}
.choropleth use:hover{stroke:#000;stroke-width:14}
figure{margin:0} figcaption{color:#555;font-size:.82em;margin:.2em 0}
.note{color:#666;font-size:.84em;margin:.15em 0 .6em}
details{margin:.5em 0} summary{cursor:pointer;font-weight:600}
pre{background:#f7f7f7;padding:.5em;font-size:.75em;white-space:pre-wrap;overflow-wrap:anywhere}
"""


@dataclass(frozen=True)
class _Page:
    """What every section needs: the tables, the geography, where the CSVs are."""

    results: Mapping[str, AccessibilityResult]
    figures: Mapping[str, dict[str, pd.DataFrame]]
    column: str
    geo: maps.Geography
    links: Mapping[str, str] | None
    rows: int
    catchment_rows: int
    band_minutes: float

    def link(self, network: str | None, name: str) -> str:
        """Relative link to a written table (``network`` None: beside the report)."""
        if self.links is None:
            return ""
        return file_link("" if network is None else self.links.get(network), name)


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
    municipality_rows: int = 15,
    tables: Mapping[str, Mapping[str, pd.DataFrame]] | None = None,
    links: Mapping[str, str] | None = None,
    catchment_rows: int = 10,
    areas: Any = None,
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
    here from the other arguments. ``links`` maps each network to the directory of its
    written tables relative to the report (``""`` beside it, ``"<name>/"``; comparison
    tables beside the report): long tables show their first ``municipality_rows`` /
    ``catchment_rows`` rows and link the whole CSV; without ``links`` nothing is
    linked. ``areas`` (a GeoDataFrame of municipality polygons indexed by code) are
    the borders drawn; by default they are dissolved from the cells.
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
    page = _Page(
        results,
        figures,
        column,
        maps.geography(first, areas),
        links,
        municipality_rows,
        catchment_rows,
        band_minutes,
    )
    body = [_overview(page, title, ref)]
    shapes = maps.municipality_shapes(page.geo, width_px=CHOROPLETH_WIDTH_PX)
    body.append(shapes)
    for i, name in enumerate(results):
        lang = language.get(name)
        if lang is not None and "language_means.csv" not in figures[name]:
            figures[name].update(
                analysis.language_tables(lang, column, band_minutes, municipalities)
            )
        body.append(_network_section(page, i, name, lang))
    if comparison is not None:
        body.append(_comparison_section(page, comparison))
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


def _slug(i: int) -> str:
    return f"n{i + 1}"


# ---------------------------------------------------------------- first screen
def _overview(page: _Page, title: str, ref: pd.DataFrame | None) -> str:
    """Title, key numbers per network, the band chart against the reference with its
    table, and the national map of the first network: the answer on one screen."""
    first_name, first = next(iter(page.results.items()))
    bands = {n: f["bands_all.csv"] for n, f in page.figures.items()}
    start = analysis.band_tail_start(list(bands.values()))
    shown = {n: analysis.collapse_band_tail(t, start) for n, t in bands.items()}
    shown_ref = analysis.collapse_band_tail(_with_band(ref), start) if ref is not None else None
    what = f"Share of people by {page.band_minutes:g}-minute band" + (
        " against the reference" if ref is not None else ""
    )
    chart = band_chart(shown, shown_ref, what, size=(6.7, 3.7))
    chart_img = img_tag(png_bytes(chart), what, ident="band-chart-img")
    fig = maps.coverage_map(
        first,
        geo=page.geo,
        catchments=page.figures[first_name]["offices.csv"],
        title=f"{first_name}: travel time to the nearest office",
        width_px=MAP_WIDTH_PX,
    )
    map_img = img_tag(png_bytes(fig), f"map of travel time, {first_name}", ident="national-map")
    return (
        f'<section id="overview"><h1>{html.escape(title)}</h1>{_made_note(page, first)}'
        f"{_key_numbers(page)}"
        '<div class="overview"><div class="main">'
        f'<figure id="band-chart">{chart_img}</figure>'
        f"<h3>Bands, share of people (%)</h3>{_overview_bands(page, shown, shown_ref)}"
        f"{_reading_note(page)}</div>"
        f'<figure class="map" id="national-map-figure">{map_img}<figcaption>'
        f"{html.escape(first_name)}: the {page.catchment_rows} largest catchments are named; "
        "grey: nobody there reaches an office.</figcaption></figure></div></section>"
    )


def _with_band(ref: pd.DataFrame) -> pd.DataFrame:
    """A reference band table with ``band`` labels (as the bands tables have them)."""
    labels = analysis.band_labels(ref["band_start_min"], ref["band_end_min"])
    return ref.assign(band=labels)


def _made_note(page: _Page, first: AccessibilityResult) -> str:
    """What made the report (version, time, column, profile, resolution)."""
    import hexaccess

    version = first.provenance.get("engine_version", hexaccess.__version__)
    return (
        f'<p class="note">hexaccess {html.escape(str(version))}, generated '
        f"{_dt.datetime.now().isoformat(timespec='seconds')}; population column "
        f"<b>{html.escape(page.column)}</b>; profile "
        f"<b>{html.escape(str(first.provenance.get('profile', '')))}</b>; H3 resolution "
        f"{html.escape(str(first.provenance.get('resolution', '')))}; "
        f"{len(first.cells):,} populated cells.</p>"
    )


def _key_numbers(page: _Page) -> str:
    """One row of cards per network: people, mean time, the share within each minute
    threshold of ``coverage.csv``, the unreachable (numbers of ``means.csv``,
    ``coverage.csv`` and ``bands_all.csv``)."""
    rows, k = [], 0
    for i, (name, result) in enumerate(page.results.items()):
        f = page.figures[name]
        m = f["means.csv"]
        m = m[m["column"] == page.column].iloc[0]
        cov = f["coverage.csv"]
        cov = cov[(cov["column"] == page.column) & (cov["measure"] == "minutes")]
        bands = f["bands_all.csv"]
        unreach = float(bands.loc[bands["band"] == "unreachable", "share_pct"].iloc[0])
        cards = [
            _card("people", m["population_total"], f"{m['population_total']:,.0f}", "people"),
            _card(
                "mean",
                m["mean_time_min"],
                f"{m['mean_time_min']:.1f} min",
                "mean time to the nearest office",
            ),
            *(
                _card(f"within-{t:g}", s, f"{s:.1f} %", f"within {t:g} min")
                for t, s in zip(cov["threshold"], cov["share_pct"], strict=True)
            ),
            _card(
                "unreachable",
                m["population_unreachable"],
                f"{m['population_unreachable']:,.0f}",
                f"unreachable ({unreach:.2f} %)",
            ),
        ]
        k = max(k, len(cards))
        offices = len(np.asarray(result.office_indices))
        rows.append(
            f'<div class="net" data-network="{html.escape(name)}" id="key-{_slug(i)}">'
            f"{html.escape(name)}<small>{offices} offices</small></div>" + "".join(cards)
        )
    style = f"grid-template-columns:150px repeat({k},minmax(0,1fr))"
    return f'<div class="cards" id="key-numbers" style="{style}">{"".join(rows)}</div>'


def _card(key: str, value: float, text: str, label: str) -> str:
    """One key number: the exact value in ``data-value`` (for checks), ``text`` shown."""
    return (
        f'<div class="card" data-key="{key}" data-value="{float(value)!r}"><span class="v">'
        f'{html.escape(text)}</span><span class="l">{html.escape(label)}</span></div>'
    )


def _overview_bands(
    page: _Page, shown: Mapping[str, pd.DataFrame], ref: pd.DataFrame | None
) -> str:
    """Each network's share and cumulative share per band side by side (and the
    reference's share): the numbers of the chart."""
    names = list(shown)
    order = list(dict.fromkeys(b for t in shown.values() for b in t["band"]))
    table = pd.DataFrame({"band": order})
    for n in names:
        t = shown[n].set_index("band")
        table[f"{n} %"] = t["share_pct"].reindex(order).to_numpy()
        table[f"{n} cum. %"] = t["cumulative_pct"].reindex(order).to_numpy()
    if ref is not None:
        table["reference %"] = ref.set_index("band")["share_pct"].reindex(order).to_numpy()
    return html_table(table, css_class="bands-overview", headers=False)


def _reading_note(page: _Page) -> str:
    """How to read the numbers (the conventions of :mod:`hexaccess.analysis`)."""
    return (
        '<p class="note">Shares are of all people of the population column, unreachable '
        "people included; &ldquo;within <i>m</i> min&rdquo; means a fastest one-way trip "
        "shorter than <i>m</i> minutes; mean times are over the people who reach an office. "
        "Bands past the last one holding at least 0.1 % of the people are merged into one "
        "&ldquo;N+&rdquo; row (the CSV tables keep every band).</p>"
    )


# ------------------------------------------------------------ network sections
def _network_section(page: _Page, i: int, name: str, lang: analysis.LanguageAccess | None) -> str:
    """One network: coverage and means, municipalities (choropleth and the longest
    trips), the largest catchments, its band table, map and language access."""
    f, result, slug = page.figures[name], page.results[name], _slug(i)
    start = analysis.band_tail_start([f["bands_all.csv"]])
    parts = [
        f'<section class="network" id="network-{slug}" data-network="{html.escape(name)}">'
        f"<h2>Network: {html.escape(name)}</h2>",
        '<div class="grid2"><div>',
        f"<h3>Coverage</h3>{_coverage_part(page, name)}",
        "</div><div>",
        f"<h3>Means</h3>{html_table(f['means.csv'], link=page.link(name, 'means.csv'))}",
        "</div></div>",
        _municipality_block(page, i, name),
        "<details><summary>Band table</summary>"
        + html_table(
            analysis.collapse_band_tail(f["bands_all.csv"], start),
            link=page.link(name, "bands_all.csv"),
            columns=BAND_COLUMNS,
        )
        + "</details>",
    ]
    if i > 0:
        fig = maps.coverage_map(
            result,
            geo=page.geo,
            catchments=f["offices.csv"],
            width_px=MAP_WIDTH_PX,
            title=f"{name}: travel time to the nearest office",
        )
        parts.append(
            f'<details id="map-{slug}"><summary>Map of travel time: {html.escape(name)}'
            f"</summary>{img_tag(png_bytes(fig), f'map of travel time, {name}')}</details>"
        )
    if lang is not None:
        parts.append(_language_part(page, slug, name, lang))
    parts.append(_files_note(page, name))
    parts.append("</section>")
    return "".join(parts)


def _coverage_part(page: _Page, name: str) -> str:
    """Coverage of the report's population column; the other columns folded."""
    cov = page.figures[name]["coverage.csv"]
    main = cov["column"] == page.column
    link = page.link(name, "coverage.csv")
    if main.all():
        return html_table(cov, link=link)
    return (
        html_table(cov[main], link=link)
        + "<details><summary>Coverage of the other population columns</summary>"
        + html_table(cov[~main])
        + "</details>"
    )


def _catchments_part(page: _Page, slug: str, name: str) -> str:
    """The largest catchments (``offices.csv`` sorted by people), the whole file linked."""
    table = page.figures[name]["offices.csv"]
    top = table.sort_values("population", ascending=False, kind="stable")
    shown = [*CATCHMENT_COLUMNS, *(c for c in top.columns if c.startswith("visits_"))]
    return f'<h3 id="catchments-{slug}">Largest catchments</h3>' + html_table(
        top,
        max_rows=page.catchment_rows,
        what="offices",
        order="by people",
        link=page.link(name, "offices.csv"),
        columns=shown,
    )


def _municipality_block(page: _Page, i: int, name: str) -> str:
    """The choropleth of mean time beside the municipalities with the longest trips and
    the largest catchments (catchments alone without municipalities)."""
    slug = _slug(i)
    catch = _catchments_part(page, slug, name)
    table = page.figures[name].get("municipalities.csv")
    if table is None or page.geo.areas is None:
        return catch
    result = page.results[name]
    of = result.access.offices.frame.iloc[np.asarray(result.office_indices)]
    svg = maps.municipality_svg(
        page.geo,
        table,
        width_px=CHOROPLETH_WIDTH_PX,
        ident=f"choropleth-{slug}",
        offices=(of["lon"].to_numpy(), of["lat"].to_numpy(), of["name"].astype(str).tolist()),
        shapes="mun",
    )
    munis = html_table(
        table,
        max_rows=page.rows,
        what="municipalities",
        order="longest mean trip first",
        link=page.link(name, "municipalities.csv"),
        columns=_municipality_columns(table),
    )
    return (
        f'<div class="muni"><figure id="municipality-map-{slug}">{svg}<figcaption>Mean time '
        "by municipality (hover for the numbers).</figcaption></figure><div>"
        f'<h3 id="municipalities-{slug}">Municipalities with the longest trips</h3>{munis}'
        f"{catch}</div></div>"
    )


def _municipality_columns(table: pd.DataFrame) -> list[str]:
    """The columns of a municipality table shown in its top rows: names, people, times,
    the within-share and the unreachable."""
    extra = [c for c in table.columns if c.startswith("share_within_")]
    return [*MUNICIPALITY_COLUMNS, *extra, "population_unreachable"]


def _language_part(page: _Page, slug: str, name: str, lang: analysis.LanguageAccess) -> str:
    """Language access of one network, folded (its mean time in the fold's title): the
    means, bands and municipalities of the language population."""
    f = page.figures[name]
    means = f["language_means.csv"]
    m = means[means["column"] == page.column].iloc[0]
    start = analysis.band_tail_start([f["language_bands.csv"]])
    munis = f["language_municipalities.csv"]
    return (
        f'<details id="language-{slug}"><summary>Language access: Swedish-speaking and '
        f"bilingual municipalities ({m['population_total']:,.0f} people; mean "
        f"{m['mean_time_min']:.1f} min to an office serving in Swedish)</summary>"
        f'<p class="note">time to the nearest of the {len(lang.offices)} offices in a '
        "bilingual or Swedish-language municipality</p>"
        + html_table(means, link=page.link(name, "language_means.csv"))
        + '<div class="grid2"><div>'
        + html_table(
            analysis.collapse_band_tail(f["language_bands.csv"], start),
            link=page.link(name, "language_bands.csv"),
            columns=BAND_COLUMNS,
        )
        + "</div><div>"
        + html_table(
            munis,
            max_rows=page.rows,
            what="municipalities",
            order="longest mean trip first",
            link=page.link(name, "language_municipalities.csv"),
            columns=_municipality_columns(munis),
        )
        + "</div></div></details>"
    )


def _files_note(page: _Page, name: str) -> str:
    """Links to every table of the network written beside the report."""
    if page.links is None:
        return ""
    links = " · ".join(page.link(name, t) for t in page.figures[name])
    return f'<p class="note files">Tables of {html.escape(name)}: {links}</p>'


# ------------------------------------------------------------------ comparison
def _comparison_section(page: _Page, comparison: analysis.Comparison) -> str:
    """Who gains and who loses, the bands side by side, and a map of the change of
    travel time per network against the baseline."""
    baseline = comparison.names[0]
    start = analysis.band_tail_start([comparison.bands])
    bands = analysis.collapse_band_tail(comparison.bands, start)
    imgs = []
    base_idx = np.asarray(page.results[baseline].office_indices)
    for n in comparison.names[1:]:
        diff = comparison.cells[f"diff_min_{n}"].to_numpy()
        fig = maps.coverage_map(
            page.results[n],
            np.where(np.isfinite(diff), diff, np.nan),
            geo=page.geo,
            title=f"{n} minus {baseline}",
            cmap="RdBu_r",
            vmin=-30,
            vmax=30,
            label="change of travel time, min (blue = closer)",
            width_px=CHANGE_MAP_WIDTH_PX,
            labels=0,
            office_color="black",
            other_offices=base_idx,
            other_label=f"{baseline} offices",
        )
        imgs.append(f"<figure>{img_tag(png_bytes(fig), f'change of travel time, {n}')}</figure>")
    return (
        '<section id="comparison"><h2>Scenario comparison</h2>'
        f'<p class="note">baseline {html.escape(baseline)}; gains and losses '
        f"beyond {comparison.threshold_min:g} minutes</p>"
        + html_table(comparison.changes, link=page.link(None, "comparison_changes.csv"))
        + f'<div class="maps2" id="comparison-maps">{"".join(imgs)}</div>'
        + "<details><summary>Bands side by side</summary>"
        + html_table(bands, link=page.link(None, "comparison_bands.csv"))
        + "</details></section>"
    )


def _provenance_section(results: Mapping[str, AccessibilityResult]) -> str:
    """How it was made: every network's provenance as JSON, folded."""
    prov = {n: analysis.result_provenance(r) for n, r in results.items()}
    return (
        '<section id="provenance"><h2>How this was made</h2>'
        "<details><summary>provenance (inputs with SHA-256, profile, engine)</summary>"
        f"<pre>{html.escape(json.dumps(prov, indent=2, default=str))}</pre></details></section>"
    )


def _document(title: str, body: Sequence[str]) -> str:
    """The whole HTML page around the body parts (inline CSS, nothing external)."""
    css = re.sub(r"\n", "", _CSS)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{css}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
