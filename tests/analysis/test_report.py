"""The HTML report renders: opened in headless Chromium, asserted on the page's DOM, and
a screenshot kept under the test's tmp dir for review (its path is printed)."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from fixtures.worlds import tiny_access, tiny_world

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
        reference=REFERENCE,
    )
    return path, results


#: A published-study-like reference band table: shares of the whole population.
REFERENCE = pd.DataFrame(
    {"band_start_min": [0, 10, 20], "band_end_min": [10, 20, 30], "share_pct": [30.0, 50.0, 20.0]}
)


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


def test_report_uses_the_tables_it_is_given(html_report, tmp_path):
    _, results = html_report
    tables = {
        n: analysis.network_tables(r, coverage_minutes=[47.5], coverage_km=[12.5])
        for n, r in results.items()
    }
    path = report.write_report(tmp_path / "given.html", results, tables=tables)
    text = path.read_text()
    assert "<td>47.50</td>" in text and "<td>12.50</td>" in text
    assert "<td>90.00</td>" not in text
    # Without tables, the thresholds are arguments of the report.
    path = report.write_report(tmp_path / "own.html", results, coverage_minutes=[47.5])
    assert "<td>47.50</td>" in path.read_text()


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (REFERENCE.drop(columns="band_end_min"), "needs band_start_min, band_end_min"),
        (REFERENCE.assign(share_pct=["30 %", "50 %", "20 %"]), r"row 0: share_pct '30 %'"),
        (REFERENCE.assign(share_pct=[30.0, np.nan, 70.0]), r"row 1 \(band 10-20 min\)"),
        (REFERENCE.assign(share_pct=[30.0, 50.0, 10.0]), r"sum to 90\.000 %, not ~100 %"),
    ],
)
def test_a_bad_reference_is_refused_clearly(html_report, tmp_path, reference, message):
    from hexaccess.calibrate import CalibrationError

    _, results = html_report
    with pytest.raises(CalibrationError, match=message):
        report.write_report(tmp_path / "bad.html", results, reference=reference)
    assert not (tmp_path / "bad.html").exists()


def test_the_report_writes_one_file_into_an_existing_directory(html_report, tmp_path):
    from hexaccess.errors import OutputError

    _, results = html_report
    one = {"three": results["three"]}
    # The directory is the caller's (hexaccess.outputs): never created here.
    with pytest.raises(OutputError, match="does not exist"):
        report.write_report(tmp_path / "missing" / "report.html", one)
    assert not (tmp_path / "missing").exists()
    out = tmp_path / "out"
    out.mkdir()
    path = report.write_report(out / "report.html", one)
    assert path == out / "report.html"
    assert list(out.iterdir()) == [path]  # nothing else, nothing beside it


def test_the_report_fills_a_staging_directory_that_commits(html_report, tmp_path):
    from hexaccess.outputs import prepare_output, verify_output

    _, results = html_report
    with prepare_output(tmp_path / "rep", kind="report") as out:
        staged = report.write_report(out.file("report.html"), {"three": results["three"]})
        assert staged.parent == out.staging
        final = out.commit()
    assert [p.name for p in final] == ["report.html", "manifest.json"]
    verify_output(tmp_path / "rep", kind="report")


def test_given_tables_and_comparisons_must_fit_the_results(html_report, tmp_path):
    from hexaccess.errors import UnknownNameError

    _, results = html_report
    tables = {n: analysis.network_tables(r) for n, r in results.items()}
    del tables["two"]["means.csv"]
    with pytest.raises(analysis.AnalysisInputError, match=r"network 'two' lack \['means.csv'\]"):
        report.write_report(tmp_path / "t.html", results, tables=tables)
    cmp = analysis.compare(results)
    with pytest.raises(UnknownNameError, match=r"network\(s\) \['two'\] are not among"):
        report.write_report(tmp_path / "c.html", {"three": results["three"]}, comparison=cmp)
    assert not (tmp_path / "t.html").exists() and not (tmp_path / "c.html").exists()
