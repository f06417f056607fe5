"""The report of a national study, judged as a person would at a 1,400-pixel window.

``hexaccess report`` (``Study.report``) on a synthetic Finland-sized country (5.4 M
people at H3 resolution 9: 115,366 cells; three office networks; a reference band
table) and on the real Finnish inputs of ``../shared/data`` (two networks), opened in
headless Chromium. A small script injected into a COPY of the page (never into the
product) measures the page and writes JSON into ``<pre id="measure">``, read back with
``--dump-dom``. Asserted:

- every section is there;
- the page is at most :data:`HEIGHT_BOUND` pixels tall (folds closed, as it opens);
- no table is wider than its container and nothing scrolls sideways, with the folds
  closed and with every fold open;
- the national map is at least 1,000 pixels tall, shown at its natural size;
- every link is relative and names a file of the output directory;
- the key numbers of the first screen are the figures derived here from the cells with
  numpy.

Screenshots of the first screen and of the whole page are kept as artifacts of the test
run: in ``$HEXACCESS_ARTIFACTS/report/`` when that is set, else ``<repo>/artifacts/report/``.
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
from fixtures.browser import chromium, headless
from fixtures.shared import shared_file

import hexaccess

#: Most pixels the page may be tall at 1,400 pixels, folds closed: by number of office
#: networks (measured: 2,971 and 7,255 for one and three synthetic networks, 5,767 for
#: two Finnish ones).
HEIGHT_BOUND = {1: 4_500, 2: 7_500, 3: 9_000}

#: Measures the page into <pre id="measure">: run after every image has loaded.
MEASURE = """<script>
window.addEventListener("load", () => {
  const m = {};
  const de = document.documentElement;
  const tables = () => [...document.querySelectorAll("table")].map((t, i) => ({
    i, w: t.scrollWidth, c: t.parentElement.clientWidth, shown: t.getClientRects().length > 0,
    where: (t.closest("section") || {}).id || ""}));
  const sections = () => [...document.querySelectorAll("section")].map(s => ({
    id: s.id, w: s.scrollWidth, c: s.clientWidth, h: s.offsetHeight}));
  m.closed = {height: de.scrollHeight, width: de.scrollWidth, client: de.clientWidth,
              tables: tables(), sections: sections()};
  m.images = [...document.querySelectorAll("img")].map(im => ({
    id: im.id, nw: im.naturalWidth, nh: im.naturalHeight, w: im.width, h: im.height}));
  m.svgs = [...document.querySelectorAll("svg.choropleth")].map(s => ({
    id: s.id, w: s.getBoundingClientRect().width, c: s.parentElement.clientWidth,
    uses: s.querySelectorAll("use").length}));
  m.ids = [...document.querySelectorAll("[id]")].map(e => e.id);
  m.links = [...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href"));
  m.cards = [...document.querySelectorAll(".card")].map(c => ({
    key: c.dataset.key,
    value: parseFloat(c.dataset.value), text: c.querySelector(".v").textContent}));
  m.cardRows = [...document.querySelectorAll("#key-numbers .net")].map(n => n.dataset.network);
  m.firstScreen = ["key-numbers", "band-chart", "national-map"].map(id => {
    const r = document.getElementById(id).getBoundingClientRect();
    return {id, top: r.top, left: r.left, right: r.right}; });
  document.querySelectorAll("details").forEach(d => { d.open = true; });
  m.open = {height: de.scrollHeight, width: de.scrollWidth, tables: tables(),
            sections: sections()};
  const pre = document.createElement("pre");
  pre.id = "measure";
  pre.textContent = JSON.stringify(m);
  document.body.appendChild(pre);
});
</script>"""


def _artifacts() -> Path:
    """Where the screenshots are kept (outside tmp_path on purpose: they are for review)."""
    root = os.environ.get("HEXACCESS_ARTIFACTS")
    base = Path(root) if root else Path(__file__).resolve().parents[2] / "artifacts"
    out = base / "report"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _measure(browser: str, report: Path, scratch: Path) -> dict:
    """The page's measurements: a copy of the report with :data:`MEASURE` appended,
    opened at 1,400 x 900 pixels."""
    scratch.mkdir(parents=True, exist_ok=True)
    copy = scratch / "measure.html"
    copy.write_text(report.read_text().replace("</body>", MEASURE + "</body>"))
    res = headless(
        browser, "--window-size=1400,900", "--virtual-time-budget=20000", "--dump-dom",
        copy.as_uri(),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    found = re.search(r'<pre id="measure">(.*?)</pre>', res.stdout, re.S)
    assert found, "the measuring script did not run"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _screenshots(browser: str, report: Path, name: str, height: int) -> list[Path]:
    """The first screen (1,400 x 900) and the whole page at 1,400 pixels."""
    from PIL import Image

    out = _artifacts()
    shots = []
    for label, size in (("first-screen", "1400,900"), ("full-page", f"1400,{height}")):
        shot = out / f"{name}-{label}.png"
        res = headless(browser, f"--screenshot={shot}", f"--window-size={size}", report.as_uri())
        assert res.returncode == 0 and shot.exists(), res.stderr[-2000:]
        with Image.open(shot) as img:
            assert img.size == tuple(int(v) for v in size.split(","))
        shots.append(shot)
        print(f"\nreport screenshot ({label}): {shot}")
    return shots


def _check_page(m: dict, networks: list[str], out: Path) -> None:
    """The assertions every rendered report must pass (see the module docstring)."""
    ids = set(m["ids"])
    for ident in ("overview", "key-numbers", "band-chart", "national-map", "provenance"):
        assert ident in ids, ident
    for i in range(1, len(networks) + 1):
        for part in ("network", "catchments", "municipalities", "municipality-map", "language"):
            assert f"{part}-n{i}" in ids, f"{part}-n{i}"
    if len(networks) > 1:
        assert {"comparison", "comparison-maps"} <= ids
    height = m["closed"]["height"]
    print(f"\npage height at 1,400 px: {height} (bound {HEIGHT_BOUND[len(networks)]})")
    assert height <= HEIGHT_BOUND[len(networks)]
    for state in ("closed", "open"):
        assert m[state]["width"] <= 1400, f"the page scrolls sideways ({state})"
        wide = [t for t in m[state]["tables"] if t["shown"] and t["w"] > t["c"]]
        assert not wide, f"tables wider than their container ({state}): {wide}"
        assert sum(t["shown"] for t in m[state]["tables"]) > 0
        wide = [s for s in m[state]["sections"] if s["w"] > s["c"]]
        assert not wide, f"sections wider than the page ({state}): {wide}"
    assert all(t["shown"] for t in m["open"]["tables"])  # every table measured open
    national = next(im for im in m["images"] if im["id"] == "national-map")
    assert national["nh"] >= 1000 and (national["w"], national["h"]) == (
        national["nw"],
        national["nh"],
    )  # shown at its natural size, not shrunk
    for svg in m["svgs"]:
        assert svg["uses"] > 0 and svg["w"] <= svg["c"]
    # The first screen: cards on top, the chart and the map beside it, side by side.
    top = {b["id"]: b for b in m["firstScreen"]}
    assert top["key-numbers"]["top"] < top["band-chart"]["top"] < 900
    assert (
        top["national-map"]["top"] < 900
        and top["band-chart"]["right"] <= (top["national-map"]["left"])
    )
    links = m["links"]
    assert links, "the tables are linked"
    for href in links:
        assert not re.match(r"^[a-z]+:|^/", href), href  # relative, no network
        assert (out / unquote(href)).is_file(), href


def _check_key_numbers(m: dict, results: dict, column: str = "total") -> None:
    """The cards, derived again from each network's cells."""
    assert m["cardRows"] == list(results)
    per = len(m["cards"]) // len(results)
    for k, (name, r) in enumerate(results.items()):
        cards = {c["key"]: c for c in m["cards"][k * per : (k + 1) * per]}
        t = r.cells["time_s"].to_numpy() / 60.0
        w = r.cells[column].to_numpy(dtype=float)
        ok = np.isfinite(t)
        want = {
            "people": (w.sum(), f"{w.sum():,.0f}"),
            "mean": (np.average(t[ok], weights=w[ok]), None),
            "unreachable": (w[~ok].sum(), f"{w[~ok].sum():,.0f}"),
            **{f"within-{x}": (w[t < x].sum() / w.sum() * 100, None) for x in (30, 60, 90)},
        }
        want["mean"] = (want["mean"][0], f"{want['mean'][0]:.1f} min")
        for x in (30, 60, 90):
            v = want[f"within-{x}"][0]
            want[f"within-{x}"] = (v, f"{v:.1f} %")
        for key, (value, text) in want.items():
            assert cards[key]["value"] == pytest.approx(value, rel=1e-9, abs=1e-9), (name, key)
            assert cards[key]["text"] == text, (name, key)


def _synthetic_study(networks: int):
    from hexaccess.synthetic import generate_country

    c = generate_country(5_400_000, seed=7, resolution=9)
    m = c.municipalities
    # Every ninth municipality bilingual, so language access has a population.
    language = np.where(
        np.arange(len(m)) % 9 == 0,
        "Bilingual municipality with Finnish-speaking majority",
        "Monolingual Finnish-speaking municipality",
    )
    munis = pd.DataFrame({
        "municipality": m["municipality"], "name_fi": m["name"], "name_sv": m["name"],
        "language": language, "region": "R", "centre_lon": m["lon"], "centre_lat": m["lat"],
    })  # fmt: skip
    frame = c.offices.frame
    order = np.argsort(-frame["seat_population"].to_numpy(), kind="stable")
    nets = {"joint50": 50, "regional18": 18, "seats120": 120}
    offices = {n: frame.iloc[order[:k]] for n, k in list(nets.items())[:networks]}
    return hexaccess.Study(c.population, c.roads, offices, resolution=9, municipalities=munis)


#: A reference band table (a published study's shares), drawn on the band chart.
REFERENCE = pd.DataFrame({
    "band_start_min": np.arange(0, 90, 10), "band_end_min": np.arange(10, 100, 10),
    "share_pct": [25.0, 40, 15, 9, 5, 3, 2, 0.7, 0.3],
})  # fmt: skip


def _report(study, out: Path, reference: pd.DataFrame, visits=None) -> tuple[dict, float]:
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # long access legs: not this test's
        outputs = study.report(
            out,
            hexaccess.ReportOptions(reference=reference, visits_per_person=visits),
            warn=lambda _m: None,
        )
    return outputs.results, time.perf_counter() - t0


@pytest.mark.parametrize("networks", [3, 1])
def test_a_national_report_reads_well_at_1400_pixels(tmp_path, networks):
    browser = chromium()
    study = _synthetic_study(networks)
    out = tmp_path / "report"
    results, seconds = _report(study, out, REFERENCE, visits={"Kela": 0.35, "Tax": 0.2})
    report = out / "report.html"
    size = report.stat().st_size
    print(f"\n{networks} network(s), {len(results['joint50'].cells):,} cells: solved and "
          f"written in {seconds:.1f} s; report.html {size / 1e6:.2f} MB")  # fmt: skip
    assert size < 4e6  # a report that mails and opens quickly
    m = _measure(browser, report, tmp_path / "scratch")
    _check_page(m, list(results), out)
    _check_key_numbers(m, results)
    if networks == 1:
        assert "offices.csv" in m["links"]  # one network: its tables beside the report
    else:
        assert {"joint50/offices.csv", "comparison_changes.csv"} <= set(m["links"])
    _screenshots(browser, report, f"synthetic-{networks}", m["closed"]["height"])


@pytest.mark.shared_data
def test_the_finland_report_reads_well_at_1400_pixels(tmp_path):
    browser = chromium()
    data = "finland/"
    offices = pd.read_csv(shared_file(data + "study_offices_50.csv"), dtype={"municipality": str})
    regional = offices[offices["regional_centre"].astype(bool)]
    study = hexaccess.Study(
        shared_file(data + "census2021_1km.csv"),
        shared_file(data + "roads_mml_1milj/road.shp"),
        {"joint50": offices.drop(columns="regional_centre"),
         "regional18": regional.drop(columns="regional_centre")},
        municipality_table=shared_file(data + "grid_municipality.csv"),
        municipalities=shared_file(data + "municipalities.csv"),
        exclude_municipalities="aland",
    )  # fmt: skip
    reference = pd.read_csv(shared_file(data + "study_bands_50.csv"))
    out = tmp_path / "report"
    results, seconds = _report(study, out, reference)
    report = out / "report.html"
    mb = report.stat().st_size / 1e6
    print(
        f"\nFinland, 2 networks, {len(results['joint50'].cells):,} cells: read, solved and "
        f"written in {seconds:.1f} s; report.html {mb:.2f} MB"
    )
    m = _measure(browser, report, tmp_path / "scratch")
    _check_page(m, list(results), out)
    _check_key_numbers(m, results)
    text = report.read_text()
    for name in ("Helsinki", "Tampere", "Oulu"):  # the largest catchments, by name
        assert re.search(rf'<td class="t">{name}</td>', text), name
    _screenshots(browser, report, "finland-2", m["closed"]["height"])
