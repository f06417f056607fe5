"""The command line as a user meets it: exit codes, one-line errors, the output directory
checked before any work, whole results replacing whole results, and runs killed at
random moments never leaving a mixed directory."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from fixtures.worlds import tiny_world

import hexaccess
from hexaccess.cli import build_parser, main
from hexaccess.outputs import read_manifest, verify_output


def _run_args(world, out, *extra):
    return [
        "run", "--population", str(world.population), "--roads", str(world.roads),
        "--offices", str(world.offices), "--out", str(out), "--quiet", *extra,
    ]  # fmt: skip


@pytest.fixture
def world(tmp_path):
    return tiny_world(tmp_path)


@pytest.fixture
def no_reading(monkeypatch):
    """Fail the test if any input is read (the error must come first)."""
    from hexaccess import inputs

    def fail(*a, **k):
        pytest.fail("an input was read before the error")

    monkeypatch.setattr(inputs, "read_population_any", fail)


def _one_line_error(capsys, *words):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    for w in words:
        assert w in err, err
    return err


def test_an_out_that_is_a_file_is_refused_before_any_work(world, tmp_path, capsys, no_reading):
    out = tmp_path / "taken"
    out.write_text("not a directory")
    assert main(_run_args(world, out)) == 2
    _one_line_error(capsys, "hexaccess run:", str(out))
    assert out.read_text() == "not a directory"


def test_an_out_inside_a_file_is_refused_before_any_work(world, tmp_path, capsys, no_reading):
    (tmp_path / "plain").write_text("x")
    assert main(_run_args(world, tmp_path / "plain" / "out")) == 2
    _one_line_error(capsys, "plain")


def test_foreign_files_are_kept_unless_overwrite(world, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("years of work")
    assert main(_run_args(world, out)) == 2
    _one_line_error(capsys, "--overwrite", str(out))
    assert (out / "thesis.docx").read_text() == "years of work"
    assert main(_run_args(world, out, "--overwrite")) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "bands.csv", "cells.parquet", "geoparquet", "layers.gpkg", "manifest.json",
        "summary.json",
    ]  # fmt: skip
    verify_output(out, kind="run")


def test_a_new_result_replaces_the_whole_previous_one(world, tmp_path):
    """Files of an earlier run (a report's report.html, offices.csv ...) must not survive
    beside a new result and look current."""
    out = tmp_path / "out"
    report = [
        "report", "--population", str(world.population), "--roads", str(world.roads),
        "--offices", str(world.offices), "--out", str(out), "--quiet",
    ]  # fmt: skip
    assert main(report) == 0
    assert (out / "report.html").exists() and (out / "offices.csv").exists()
    assert main(_run_args(world, out)) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {
        "bands.csv", "cells.parquet", "manifest.json", "summary.json", "layers.gpkg", "geoparquet",
    }  # fmt: skip
    assert read_manifest(out)["kind"] == "run"


def test_bad_input_is_one_line_and_exit_code_2(world, tmp_path, capsys):
    bad = tmp_path / "offices.csv"
    bad.write_text("name,lon,lat\nA,24.9,not-a-number\n")
    args = _run_args(world, tmp_path / "out")
    args[args.index("--offices") + 1] = str(bad)
    assert main(args) == 2
    _one_line_error(capsys, "hexaccess run:")
    assert not (tmp_path / "out").exists()


def test_a_bug_is_reported_as_a_bug_with_the_traceback_behind_debug(
    world, tmp_path, capsys, monkeypatch
):
    def broken(self, network=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(hexaccess.api.Study, "solve", broken)
    assert main(_run_args(world, tmp_path / "out")) == 1
    err = capsys.readouterr().err
    assert "internal error" in err and "bug" in err and "--debug" in err
    assert "Traceback" not in err
    assert main(_run_args(world, tmp_path / "out", "--debug")) == 1
    assert "Traceback" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_options_a_scenario_file_sets_are_refused_beside_it(world, tmp_path, capsys):
    scn = tmp_path / "s.toml"
    scn.write_text(
        f'[inputs]\npopulation = "{world.population}"\nroads = "{world.roads}"\n'
        f'[[offices]]\nfile = "{world.offices}"\n[outputs]\ndir = "{tmp_path / "o"}"\n'
    )
    for extra in (["--out", str(tmp_path / "x")], ["--resolution", "7"], ["--graph", "hex"]):
        assert main(["run", str(scn), "--quiet", *extra]) == 2
        _one_line_error(capsys, "cannot be combined with a scenario file", extra[0])
    assert main(["run", str(scn), "--quiet"]) == 0
    verify_output(tmp_path / "o")


def test_hex_options_without_the_hexagon_graph_are_refused(world, tmp_path, capsys, no_reading):
    assert main(_run_args(world, tmp_path / "o", "--hex-resolution", "9")) == 2
    _one_line_error(capsys, "--graph hex")


def test_quiet_prints_nothing(world, tmp_path, capsys):
    assert main(_run_args(world, tmp_path / "o")) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_every_command_has_debug_and_overwrite():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        options = {s for a in p._actions for s in a.option_strings}
        assert {"--debug", "--overwrite", "--quiet"} <= options, name


# --------------------------------------------------------------- fault injection
def _cli(world, out):
    return [sys.executable, "-m", "hexaccess", *_run_args(world, out, "--overwrite")]


#: The files of ``hexaccess run --out`` (the GIS layers included, the default; without a
#: municipality table there is no municipalities layer).
RUN_OUTPUTS = {
    "bands.csv", "summary.json", "cells.parquet", "layers.gpkg",
    *(f"geoparquet/{n}.parquet" for n in ("cells", "offices", "catchments")),
}  # fmt: skip


def _check_complete(out, generation_files):
    """``out`` holds exactly one complete result: it matches its manifest."""
    manifest = verify_output(out, kind="run")
    assert {f["path"] for f in manifest["files"]} == generation_files


@pytest.mark.slow
def test_runs_killed_at_random_moments_never_leave_a_mixed_directory(world, tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    first = subprocess.run(_cli(world, out), env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    files = RUN_OUTPUTS
    _check_complete(out, files)
    started = time.perf_counter()
    again = subprocess.run(_cli(world, out), env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    run_time = time.perf_counter() - started
    rng = random.Random(20261201)
    for _ in range(20):
        proc = subprocess.Popen(_cli(world, out), env=env, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, run_time * 1.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _check_complete(out, files)
        assert json.loads((out / "summary.json").read_text())["population_total"] > 0
        pd.read_parquet(out / "cells.parquet")  # readable, never half-written
    # Nothing of the killed runs is in the way of the next one.
    final = subprocess.run(_cli(world, out), env=env, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    _check_complete(out, files)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")]
    assert all(name.endswith(".lock") for name in leftovers), leftovers


@pytest.mark.slow
def test_two_concurrent_runs_into_one_directory_never_mix(world, tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for _ in range(3):
        procs = [
            subprocess.Popen(_cli(world, out), env=env, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        codes, errs = zip(*[(p.wait(), p.stderr.read()) for p in procs], strict=True)
        assert 0 in codes, errs
        for code, err in zip(codes, errs, strict=True):
            assert code in (0, 2), err
            if code == 2:
                assert "another hexaccess run" in err, err
        _check_complete(out, RUN_OUTPUTS)
