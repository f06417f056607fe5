"""``hexaccess run`` with no arguments: the 2020 Finland study on the data shipped inside
the package (``hexaccess/data/finland2020``), never on ``../shared``.

The study run is checked against figures derived independently of it: the mainland
population (5,439,866, and, when ``../shared`` is present, the sum of the census grid
without the Åland squares) and the study's published band table (every band within
3 pp, as issue #16 asks). The shipped data is checked for size, integrity (its
``SOURCES.json`` hashes) and reproducibility (the build script re-run from ``../shared``
gives the same tables).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from fixtures.shared import SHARED_DATA

from hexaccess import cli, datasets
from hexaccess.errors import InputFileError
from hexaccess.population import ALAND_MUNICIPALITIES

REPO = Path(__file__).resolve().parents[2]
SHARED_FINLAND = SHARED_DATA / "finland"
#: Mainland Finland in the Eurostat 2021 grid (../shared/data/README.md, MISSION.md).
MAINLAND_POPULATION = 5_439_866
MAX_BAND_DIFF_PP = 3.0
MAX_DATA_BYTES = 10 * 1024 * 1024

#: Runs the CLI with an audit hook that refuses every Python-level open, listing and
#: scan of a path under ../shared, so a run that consulted it fails. (C libraries that
#: open files themselves bypass the hook; the manifest's input paths cover those.)
GUARDED_CLI = textwrap.dedent(
    """
    import os, sys
    shared = os.path.realpath(sys.argv[1])
    def guard(event, args):
        if event not in ("open", "os.listdir", "os.scandir") or not args:
            return
        path = args[0]
        if isinstance(path, (str, bytes, os.PathLike)):
            real = os.path.realpath(os.fsdecode(path))
            if real == shared or real.startswith(shared + os.sep):
                raise PermissionError(f"../shared consulted: {real}")
    sys.addaudithook(guard)
    from hexaccess import cli
    sys.exit(cli.main(sys.argv[2:]))
    """
)


def _guarded_run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``hexaccess run ARGS`` in a fresh interpreter, cwd ``tmp``, ../shared refused."""
    script = tmp / "guarded_cli.py"
    script.write_text(GUARDED_CLI, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEXACCESS")}
    return subprocess.run(
        [sys.executable, str(script), str(SHARED_DATA), "run", *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The no-argument study, run once for this module (``--no-layers``: the GIS layers
    of 196,181 cells take time and are not what is checked here)."""
    tmp = tmp_path_factory.mktemp("default")
    out = tmp / "out"
    proc = _guarded_run(tmp, "--out", str(out), "--quiet", "--no-layers")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout == "" and proc.stderr == ""  # --quiet: nothing but errors
    return out


def _published() -> pd.DataFrame:
    return pd.read_csv(datasets.finland_2020().bands)


def test_the_guard_refuses_shared(tmp_path: Path) -> None:
    """The guard of the default run is real: a run that reads ../shared fails."""
    if not SHARED_FINLAND.exists():
        pytest.skip(f"../shared/data not present: {SHARED_FINLAND} (nothing to guard)")
    proc = _guarded_run(
        tmp_path,
        *("--population", str(SHARED_FINLAND / "census2021_1km.csv")),
        *("--roads", str(datasets.finland_2020().roads)),
        *("--offices", str(datasets.finland_2020().offices)),
        *("--out", str(tmp_path / "out"), "--quiet"),
    )
    assert proc.returncode != 0
    assert "../shared consulted" in proc.stderr


def test_default_population_is_mainland_finland(default_run: Path) -> None:
    summary = json.loads((default_run / "summary.json").read_text())
    assert summary["population_total"] == MAINLAND_POPULATION
    if SHARED_FINLAND.exists():  # the same figure from the source files themselves
        grid = pd.read_csv(SHARED_FINLAND / "census2021_1km.csv", usecols=["GRD_ID", "T"])
        munis = pd.read_csv(SHARED_FINLAND / "grid_municipality.csv", dtype=str)
        aland = grid["GRD_ID"].map(munis.set_index("GRD_ID")["municipality"])
        assert grid.loc[~aland.isin(ALAND_MUNICIPALITIES), "T"].sum() == MAINLAND_POPULATION
    assert summary["offices"] == 50 and summary["offices_fixed"] == 18
    assert "finland2020" in summary["data"]
    assert summary["attribution"] == datasets.ATTRIBUTION


def test_every_band_within_3_pp_of_the_published_table(default_run: Path) -> None:
    ours = pd.read_csv(default_run / "bands.csv")
    published = _published()
    keys = ["band_start_min", "band_end_min"]
    published = published.astype({k: float for k in keys})  # ours end with inf
    side = ours.merge(published, on=keys, how="outer", suffixes=("", "_pub")).fillna(0.0)
    diff = (side["share_pct"] - side["share_pct_pub"]).abs()
    assert len(side) >= len(published)
    assert diff.max() <= MAX_BAND_DIFF_PP, side.assign(diff=diff).to_string()
    summary = json.loads((default_run / "summary.json").read_text())
    assert summary["published_max_abs_diff_pp"] == pytest.approx(diff.max())
    assert summary["published_population_total"] == published["population"].sum()


def test_the_run_used_only_the_shipped_files(default_run: Path) -> None:
    manifest = json.loads((default_run / "manifest.json").read_text())
    folder = datasets.finland_2020().folder.resolve()
    paths = [v["path"] for v in manifest["provenance"]["inputs"].values() if "path" in v]
    assert len(paths) == 4  # population, roads, offices, municipalities
    assert all(Path(p).resolve().parent == folder for p in paths), paths
    excluded = manifest["provenance"]["exclude_municipalities"]
    assert sorted(excluded) == sorted(ALAND_MUNICIPALITIES)


def test_the_published_table_is_the_studys() -> None:
    """The shipped table is the one in ../shared (byte for byte) and sums to the
    study's population."""
    published = _published()
    assert published["population"].sum() == 5_396_171  # MISSION.md: the study's total
    assert published["share_pct"].sum() == pytest.approx(100.0, abs=0.01)
    source = SHARED_FINLAND / "study_bands_50.csv"
    if not source.exists():
        pytest.skip(f"../shared/data not present: {source} (the shipped copy is checked alone)")
    assert datasets.finland_2020().bands.read_bytes() == source.read_bytes()


def test_no_arguments_prints_the_study_beside_the_published_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``hexaccess run`` as a newcomer types it: the table beside the published one and
    the data's attribution; without ``--out`` nothing is written (as before)."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run"]) == 0
    text = capsys.readouterr().out
    assert "2020 Finland study" in text and "published" in text
    assert datasets.ATTRIBUTION in text
    assert "SYNTHETIC" not in text
    for row in _published().itertuples():  # every published share is printed
        assert f"{row.share_pct:.2f}" in text
    assert list(tmp_path.iterdir()) == []


def test_demo_synthetic_is_the_synthetic_country(tmp_path: Path) -> None:
    out = tmp_path / "syn"
    assert cli.main(["run", "--demo", "synthetic", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert "SYNTHETIC" in summary["data"]
    assert summary["offices"] == 50 and summary["offices_fixed"] == 18


def test_demo_finland_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from hexaccess.cli import run

    called: list[str | None] = []
    monkeypatch.setattr(run, "run_finland", lambda args: called.append(args.demo) or 0)
    assert cli.main(["run", "--demo", "finland"]) == 0
    assert cli.main(["run"]) == 0
    assert called == ["finland", None]


def test_demo_with_inputs_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = datasets.finland_2020()
    code = cli.main(["run", "--demo", "synthetic", "--population", str(data.population)])
    assert code == 2
    assert "--demo synthetic given with inputs" in capsys.readouterr().err
    assert cli.main(["run", str(tmp_path / "study.toml"), "--demo", "finland"]) == 2
    assert "--demo finland given with the scenario file" in capsys.readouterr().err
    assert cli.main(["run", "--resolution", "7"]) == 2  # the demo's own settings
    assert "--demo finland" in capsys.readouterr().err


# ----------------------------------------------------------- the shipped data itself
def test_shipped_data_is_small_and_matches_its_manifest() -> None:
    data = datasets.finland_2020()
    files = sorted(p for p in data.folder.iterdir() if p.is_file())
    sizes = {p.name: p.stat().st_size for p in files}
    assert sum(sizes.values()) <= MAX_DATA_BYTES, sizes
    manifest = json.loads(data.sources.read_text(encoding="utf-8"))["files"]
    assert set(manifest) == set(sizes) - {"SOURCES.json"}
    for name, entry in manifest.items():
        body = (data.folder / name).read_bytes()
        assert entry == {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}, name
    assert (REPO / "data" / "LICENSES.md").read_bytes() == data.licences.read_bytes()


def test_shipped_files_are_what_the_readers_expect() -> None:
    data = datasets.finland_2020()
    grid = pd.read_csv(data.population, dtype={"GRD_ID": str, "municipality": str})
    assert list(grid.columns) == ["GRD_ID", "T", "Y_GE65", "municipality"]
    mainland = ~grid["municipality"].isin(ALAND_MUNICIPALITIES)
    assert grid.loc[mainland, "T"].sum() == MAINLAND_POPULATION
    roads = pq.read_table(data.roads)
    assert roads.column_names == ["IGDS_LEVEL", "LUOKKA", "geometry"]
    geo = json.loads(roads.schema.metadata[b"geo"])
    assert geo["columns"]["geometry"]["crs"]["id"] == {"authority": "EPSG", "code": 3067}
    offices = pd.read_csv(data.offices)
    assert len(offices) == 50 and offices["fixed"].sum() == 18
    assert (offices["fixed"] == offices["regional_centre"]).all()


def test_a_missing_data_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datasets.resources, "files", lambda package: tmp_path)
    with pytest.raises(InputFileError, match=r"lacks population\.csv\.gz.*reinstall hexaccess"):
        datasets.finland_2020()


def test_the_build_script_reproduces_the_shipped_data(tmp_path: Path) -> None:
    if not SHARED_FINLAND.exists():
        pytest.skip(f"../shared/data not present: {SHARED_FINLAND} (the sources to rebuild)")
    out = tmp_path / "finland2020"
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_default_data.py"),
         "--source", str(SHARED_FINLAND), "--out", str(out),
         "--licenses", str(tmp_path / "LICENSES.md")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    shipped = datasets.finland_2020().folder
    names = sorted(p.name for p in shipped.iterdir())
    assert sorted(p.name for p in out.iterdir()) == names
    for name in names:
        if name.endswith(".parquet"):  # the content: bytes may differ across pyarrow versions
            new, old = pq.read_table(out / name), pq.read_table(shipped / name)
            assert new.equals(old) and new.schema.metadata == old.schema.metadata, name
        elif name != "SOURCES.json":
            assert (out / name).read_bytes() == (shipped / name).read_bytes(), name
    new_files = json.loads((out / "SOURCES.json").read_text())
    old_files = json.loads((shipped / "SOURCES.json").read_text())
    assert new_files["source_sha256"] == old_files["source_sha256"]
