"""Packaging: the licence, the extras of ``pyproject.toml``, and what a missing extra says.

The core install (no extras) must run a study; every optional feature imports its package
through ``hexaccess._extras.require`` and, when it is missing, names the ``pip install``
to run. These tests run both in the development install and in the core-only venv that
``.ci/run`` builds from the release wheel (so they need nothing beyond the core and
pytest).
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hexaccess import _extras
from hexaccess.errors import HexaccessError, MissingDependencyError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"

#: The optional packages by extra, as the issue assigns them (the expectation the
#: pyproject and ``_extras.EXTRAS`` are checked against).
OPTIONAL = {"report": "matplotlib", "optimise": "highspy", "osm": "osmium", "dask": "dask"}


def _project() -> dict:
    if not PYPROJECT.is_file():
        pytest.skip(f"no source tree beside the tests ({PYPROJECT} missing)")
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]


def _names(requirements: list[str]) -> set[str]:
    """Distribution names of requirement strings (``dask[distributed]>=1`` -> dask);
    ``hexaccess[a,b]`` contributes ``hexaccess[a]`` and ``hexaccess[b]``."""
    out: set[str] = set()
    for req in requirements:
        m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[([^\]]*)\])?", req)
        assert m, req
        name = m.group(1).lower()
        if name == "hexaccess":
            out |= {f"hexaccess[{e.strip()}]" for e in (m.group(2) or "").split(",")}
        else:
            out.add(name)
    return out


def test_the_licence_is_mit_as_declared() -> None:
    licence = ROOT / "LICENSE"
    if not licence.is_file():
        pytest.skip(f"no source tree beside the tests ({licence} missing)")
    text = licence.read_text(encoding="utf-8")
    assert text.startswith("MIT License"), "LICENSE is not the MIT text pyproject declares"
    assert "Copyright (c)" in text and "hexaccess contributors" in text
    assert _project()["license"] == "MIT"
    assert "LICENSE" in _project()["license-files"]


def test_optional_packages_are_not_core_dependencies() -> None:
    core = _names(_project()["dependencies"])
    assert not core & set(OPTIONAL.values()), "an optional package is a core dependency"
    # The design keeps these in the core (fallback engine, kernels, raster population).
    assert {"numpy", "numba", "pyarrow", "h3", "rasterio", "scipy"} <= core


def test_every_optional_package_sits_behind_its_extra() -> None:
    extras = _project()["optional-dependencies"]
    for extra, package in OPTIONAL.items():
        assert package in _names(extras[extra]), f"[{extra}] does not install {package}"
        assert _extras.EXTRAS[package] == extra, f"_extras names the wrong extra for {package}"
    assert set(_extras.EXTRAS) == set(OPTIONAL.values())


def test_all_holds_every_feature_extra_and_test_the_ones_the_suite_needs() -> None:
    extras = _project()["optional-dependencies"]
    tooling = {"all", "test", "docs", "bench"}
    features = set(extras) - tooling
    assert features == set(OPTIONAL), "an extra is neither a feature nor tooling"
    assert _names(extras["all"]) == {f"hexaccess[{e}]" for e in features}
    # CI installs .[test]: the suite runs the report, the MIPs and the pyosmium reader.
    assert {"hexaccess[report]", "hexaccess[optimise]", "hexaccess[osm]"} <= _names(extras["test"])


@pytest.mark.parametrize(("module", "extra"), sorted(OPTIONAL.items(), key=lambda kv: kv[1]))
def test_a_missing_extra_names_the_pip_install(monkeypatch, module: str, extra: str) -> None:
    # None in sys.modules makes `import module` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError) as err:
        _extras.require(module, extra, "Doing X")
    msg = str(err.value)
    assert f'pip install "hexaccess[{extra}]"' in msg
    assert msg.startswith("Doing X") and repr(module) in msg
    # Code that guarded the import with `except ImportError` keeps working.
    assert isinstance(err.value, ImportError) and isinstance(err.value, HexaccessError)


def test_a_present_package_is_returned() -> None:
    assert _extras.require("json", "report", "x") is sys.modules["json"]


def test_the_report_and_the_curve_name_the_report_extra(monkeypatch, tmp_path) -> None:
    from hexaccess.optimise.curve import plot_coverage_curve
    from hexaccess.report.charts import mpl

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match=re.escape('pip install "hexaccess[report]"')):
        mpl()
    curve = pd.DataFrame({"offices": [1, 2], "coverage_pct": [50.0, 60.0]})
    with pytest.raises(MissingDependencyError, match="coverage curve"):
        plot_coverage_curve(curve, tmp_path / "curve.png")
    assert not (tmp_path / "curve.png").exists()


def test_the_mip_names_the_optimise_extra(monkeypatch) -> None:
    from hexaccess.optimise import mip

    monkeypatch.setitem(sys.modules, "highspy", None)
    z = np.zeros(1)
    with pytest.raises(MissingDependencyError, match=re.escape('"hexaccess[optimise]"')):
        mip._run_highs(z, np.zeros((0, 1)), z[:0], z[:0], z, z, z > 0, 0.0, 1.0, 0.0)


def test_the_cli_prints_a_missing_extra_as_one_line(monkeypatch, capsys) -> None:
    from hexaccess.cli._errors import EXIT_INPUT, reports_errors

    monkeypatch.setitem(sys.modules, "matplotlib", None)

    @reports_errors("hexaccess report")
    def command(args: object) -> int:
        _extras.require("matplotlib", "report", "The HTML report")
        return 0

    assert command(object()) == EXIT_INPUT
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert 'pip install "hexaccess[report]"' in err


#: Run in a fresh interpreter with every optional package blocked: the main job's
#: modules import, and a PBF is read by the Rust reader without pyosmium.
BLOCKED_RUN = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None
import hexaccess.api, hexaccess.cli, hexaccess.report, hexaccess.optimise, hexaccess.scenario
from hexaccess import _core
from hexaccess.network import read_osm_pbf
from hexaccess.synthetic.osm_pbf import generate_osm_pbf
generate_osm_pbf({pbf!r}, 2_000, seed=1)
net = read_osm_pbf({pbf!r}, "car_fi")
assert net.meta["engine"] == "rust", net.meta
assert net.num_edges > 0
print("ok", net.num_edges)
"""


def test_the_main_job_imports_and_reads_pbf_without_any_extra(tmp_path) -> None:
    code = BLOCKED_RUN.format(blocked=sorted(OPTIONAL.values()), pbf=str(tmp_path / "x.pbf"))
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("ok")
