"""The HTML report renders: opened in headless Chromium, asserted on the page's DOM, and
a screenshot kept under the test's tmp dir for review (its path is printed)."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
from test_analysis import tiny_access, tiny_world

from hexaccess import analysis, report
from hexaccess.offices import read_municipalities


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless Chromium not installed (Debian: apt-get install -y chromium)")


def _headless(browser: str, *args: str) -> subprocess.CompletedProcess:
    # --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def html_report(tmp_path):
    world = tiny_world(tmp_path)
    access = tiny_access(world)
    munis = read_municipalities(world.municipalities)
    with pytest.warns(UserWarning):
        results = {
            "three": analysis.solve_network(access, [0, 1, 2], name="three"),
            "two": analysis.solve_network(access, [0, 1], name="two"),
        }
    cmp = analysis.compare(results, threshold_min=1)
    lang = {n: analysis.language_access(r, munis) for n, r in results.items()}
    path = report.write_report(
        tmp_path / "report.html",
        results,
        title="Tiny <study> & report",
        municipalities=munis,
        visits_per_person={"Kela": 0.35},
        comparison=cmp,
        language=lang,
        reference=analysis.band_table(results["three"]).iloc[:-1],
    )
    return path, results


def test_report_is_self_contained(html_report):
    path, _ = html_report
    text = path.read_text()
    assert "Tiny &lt;study&gt; &amp; report" in text  # escaped, never raw HTML
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing fetched from a network
    assert text.count("data:image/png;base64,") == 4  # bands, two maps, comparison map


def test_report_renders_in_headless_chromium(html_report, tmp_path):
    path, results = html_report
    browser = _chromium()
    dom = _headless(browser, "--dump-dom", path.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    for heading in (
        "Travel-time bands",
        "Network: three",
        "Network: two",
        "Coverage map",
        "Catchments (offices.csv)",
        "Municipalities with the longest trips",
        "Language access",
        "Scenario comparison",
        "How this was made",
    ):
        assert heading in page, heading
    # Catchment table lists every open office with its population, as computed.
    catch = analysis.catchments(results["three"])
    for row in catch.itertuples():
        assert f"<td>{row.name}</td>" in page
        assert f"{row.population:,.0f}" in page
    assert "Kaksikko" in page  # municipality names from the table
    assert len(re.findall(r"<img[^>]+src=\"data:image/png;base64,", page)) == 4
    shot = tmp_path / "report.png"
    res = _headless(browser, f"--screenshot={shot}", "--window-size=1200,2400", path.as_uri())
    assert res.returncode == 0 and shot.exists() and shot.stat().st_size > 10_000, res.stderr
    print(f"\nreport screenshot: {shot}")


def test_large_maps_are_aggregated(html_report, monkeypatch):
    _, results = html_report
    r = results["three"]
    monkeypatch.setattr(report, "MAX_MAP_CELLS", 3)
    t = r.cells["time_s"].to_numpy() / 60
    frame = report._map_cells(r.cells, t, r.cells["total"].to_numpy(float))
    assert len(frame) <= 3
    # Aggregation keeps the population-weighted mean of the reached cells.
    ok = np.isfinite(t)
    w = r.cells["total"].to_numpy(float) + 1e-9
    finite = np.isfinite(frame["v"])
    assert np.average(frame["v"][finite], weights=frame["w"][finite]) == pytest.approx(
        np.average(t[ok], weights=w[ok]), rel=1e-6
    )
