"""hexaccess.outputs: the manifest, the checks before computing, the lock, and the
promise that a reader sees one whole result -- also when the writer is SIGKILLed at a
random moment or a second run writes to the same directory."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from hexaccess import outputs
from hexaccess.errors import CorruptOutputError, HexaccessError, OutputError
from hexaccess.outputs import MANIFEST_NAME, prepare_output, read_manifest, verify_output

DRIVER = Path(__file__).with_name("_fault_driver.py")


def _write_result(target: Path, files: dict[str, bytes], **provenance: object) -> list[Path]:
    with prepare_output(target, kind="run") as out:
        for name, data in files.items():
            out.file(name).write_bytes(data)
        return out.commit(provenance=provenance)


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


FIRST = {"bands.csv": b"band,people\n0,10\n", "sub/deep/table.bin": bytes(range(256)) * 40}


# --------------------------------------------------------------------------- manifest


def test_manifest_lists_every_file_with_size_and_hash(tmp_path: Path) -> None:
    target = tmp_path / "out"
    before = datetime.now(timezone.utc).replace(microsecond=0)
    paths = _write_result(
        target, FIRST, profile="car", source=tmp_path / "roads.gpkg", cells=np.int64(7)
    )
    manifest = json.loads((target / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["kind"] == "run"
    assert manifest["hexaccess_version"] == version("hexaccess")
    created = datetime.strptime(manifest["created_utc"], "%Y-%m-%dT%H:%M:%SZ")
    created = created.replace(tzinfo=timezone.utc)
    assert before <= created <= datetime.now(timezone.utc) + timedelta(seconds=1)
    assert manifest["provenance"] == {
        "profile": "car",
        "source": str(tmp_path / "roads.gpkg"),
        "cells": 7,
    }
    expected = [
        {"path": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in sorted(FIRST.items())
    ]
    assert manifest["files"] == expected
    assert paths == [target / "bands.csv", target / "sub/deep/table.bin", target / MANIFEST_NAME]
    assert read_manifest(target) == manifest
    assert verify_output(target, kind="run") == manifest
    assert _leftovers(tmp_path) == []  # no staging, old or lock file left behind


def _flip_a_byte(target: Path) -> None:
    path = target / "sub/deep/table.bin"
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(target: Path) -> None:
    path = target / "sub/deep/table.bin"
    path.write_bytes(path.read_bytes()[:-1])


@pytest.mark.parametrize(
    ("damage", "culprit", "words"),
    [
        (_flip_a_byte, "sub/deep/table.bin", "SHA-256"),
        (lambda t: (t / "bands.csv").unlink(), "bands.csv", "missing"),
        (lambda t: (t / "sub" / "stale.csv").write_text("x"), "sub/stale.csv", "not listed"),
        (_truncate, "sub/deep/table.bin", "bytes"),
        (lambda t: (t / MANIFEST_NAME).unlink(), None, "no manifest.json"),
        (lambda t: (t / MANIFEST_NAME).write_text("{"), MANIFEST_NAME, "not valid JSON"),
    ],
    ids=["flipped-byte", "missing", "extra", "truncated", "no-manifest", "bad-manifest"],
)
def test_verify_output_names_the_first_file_that_does_not_match(
    tmp_path: Path, damage, culprit: str | None, words: str
) -> None:
    target = tmp_path / "out"
    _write_result(target, FIRST)
    verify_output(target)
    damage(target)
    with pytest.raises(CorruptOutputError, match=words) as caught:
        verify_output(target)
    assert str(target if culprit is None else target / culprit) in str(caught.value)
    assert isinstance(caught.value, OutputError)


def test_verify_output_checks_the_kind(tmp_path: Path) -> None:
    _write_result(tmp_path / "out", FIRST)
    with pytest.raises(CorruptOutputError, match="'run' output, not 'report'"):
        verify_output(tmp_path / "out", kind="report")


def test_read_manifest_is_none_without_one(tmp_path: Path) -> None:
    assert read_manifest(tmp_path) is None
    assert read_manifest(tmp_path / "nowhere") is None


# --------------------------------------------------------------------------- targets


def test_a_file_as_target_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("mine")
    with pytest.raises(OutputError, match=r"out is a file, not a directory"):
        prepare_output(tmp_path / "out")
    assert (tmp_path / "out").read_text() == "mine"
    assert _leftovers(tmp_path) == []


def test_a_parent_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "parent").write_text("mine")
    with pytest.raises(OutputError, match=r"parent is a file") as caught:
        prepare_output(tmp_path / "parent" / "deeper" / "out")
    assert str(tmp_path / "parent" / "deeper" / "out") in str(caught.value)


def _unwritable_parent(tmp_path: Path) -> Path:
    """A directory nobody may create entries in: a chmod-ed one, or (as root, whom chmod
    does not stop) Linux's sysfs, which refuses new files even to root."""
    if os.geteuid() != 0:
        parent = tmp_path / "locked"
        parent.mkdir()
        parent.chmod(0o500)
        return parent
    return Path("/sys")


def test_an_unwritable_parent_is_refused(tmp_path: Path) -> None:
    parent = _unwritable_parent(tmp_path)
    try:
        with pytest.raises(OutputError, match=r"(?i)permission denied") as caught:
            prepare_output(parent / "hexaccess-out")
        assert str(parent / "hexaccess-out") in str(caught.value)
    finally:
        if parent != Path("/sys"):
            parent.chmod(0o700)
    assert not (parent / "hexaccess-out").exists()


def test_foreign_files_need_overwrite_and_none_survives_it(tmp_path: Path) -> None:
    target = tmp_path / "out"
    (target / "photos").mkdir(parents=True)
    (target / "photos" / "cat.jpg").write_bytes(b"meow")
    (target / "notes.txt").write_text("keep?")
    with pytest.raises(OutputError, match=r"not from a hexaccess run .*give --overwrite"):
        prepare_output(target)
    assert _tree(target) == {"notes.txt": b"keep?", "photos/cat.jpg": b"meow"}
    with prepare_output(target, overwrite=True) as out:
        out.file("bands.csv").write_bytes(b"new")
        out.commit()
    assert sorted(_tree(target)) == ["bands.csv", MANIFEST_NAME]
    assert not (target / "photos").exists()
    verify_output(target)


def test_a_foreign_manifest_json_is_not_taken_for_ours(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / MANIFEST_NAME).write_text('{"name": "my web app", "files": []}')
    with pytest.raises(OutputError, match="give --overwrite"):
        prepare_output(target)


def test_an_empty_existing_directory_is_accepted(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    _write_result(target, FIRST)
    assert _tree(target).keys() == {*FIRST, MANIFEST_NAME}


def test_a_new_result_leaves_no_file_of_the_previous_one(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _write_result(target, FIRST)
    _write_result(target, {"other.csv": b"2"})  # a previous result needs no --overwrite
    assert _tree(target).keys() == {"other.csv", MANIFEST_NAME}
    verify_output(target)


def test_missing_parents_are_created(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out"
    _write_result(target, FIRST)
    verify_output(target)


# --------------------------------------------------------------------------- abort


def test_abort_leaves_the_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _write_result(target, FIRST)
    before = _tree(target)
    out = prepare_output(target)
    out.file("bands.csv").write_bytes(b"half")
    assert out.staging.parent == tmp_path and out.staging.name.startswith(".out.staging-")
    out.abort()
    assert _tree(target) == before
    assert _leftovers(tmp_path) == []
    out.abort()  # idempotent
    with pytest.raises(OutputError, match="already aborted"):
        out.commit()


def test_abort_without_a_previous_result_creates_nothing(tmp_path: Path) -> None:
    out = prepare_output(tmp_path / "out")
    out.file("x.csv").write_text("x")
    out.abort()
    assert list(tmp_path.iterdir()) == []


def test_an_exception_inside_with_leaves_the_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _write_result(target, FIRST)
    before = _tree(target)
    with pytest.raises(RuntimeError, match="boom"), prepare_output(target) as out:
        out.file("bands.csv").write_bytes(b"half")
        raise RuntimeError("boom")
    assert _tree(target) == before
    assert _leftovers(tmp_path) == []
    _write_result(target, {"x": b"1"})  # the lock was released


def test_file_names_must_stay_inside_the_output(tmp_path: Path) -> None:
    with prepare_output(tmp_path / "out") as out:
        for bad in ("../escape.csv", str(tmp_path / "abs.csv"), MANIFEST_NAME, ""):
            with pytest.raises(OutputError):
                out.file(bad)
        assert out.file("a/b/c.csv").parent.is_dir()


@pytest.mark.skipif(os.name != "posix", reason="symlinks need privileges on Windows")
def test_links_are_refused_at_commit_and_reported_by_verify(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _write_result(target, FIRST)
    before = _tree(target)
    with pytest.raises(OutputError, match="not a regular file"), prepare_output(target) as out:
        out.file("real.csv").write_text("x")
        os.symlink(tmp_path, out.staging / "linked-dir")
        out.commit()
    assert _tree(target) == before
    os.symlink(tmp_path, target / "linked-dir")
    with pytest.raises(CorruptOutputError, match="linked-dir is not listed"):
        verify_output(target)


def test_commit_twice_is_refused(tmp_path: Path) -> None:
    out = prepare_output(tmp_path / "out")
    out.commit()
    with pytest.raises(OutputError, match="already committed"):
        out.commit()
    assert verify_output(tmp_path / "out")["files"] == []


# --------------------------------------------------------------------------- leftovers


def test_stale_staging_and_old_directories_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _write_result(target, FIRST)
    stale = [tmp_path / ".out.staging-4242-deadbeef", tmp_path / ".out.old-17-0123abcd"]
    for path in stale:
        (path / "sub").mkdir(parents=True)
        (path / "sub" / "half.bin").write_bytes(b"\0" * 100)
    unrelated = [tmp_path / ".other.staging-1-deadbeef", tmp_path / ".out.staging-mine"]
    for path in unrelated:
        path.mkdir()
    out = prepare_output(target)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in unrelated)
    out.abort()
    verify_output(target)


def test_a_result_moved_aside_by_a_killed_commit_is_put_back(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _write_result(target, FIRST)
    before = _tree(target)
    os.rename(target, tmp_path / ".out.old-999-0badcafe")  # killed between the two renames
    prepare_output(target).abort()
    assert _tree(target) == before
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- the move


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux only")
def test_linux_commits_by_atomic_exchange(tmp_path: Path, monkeypatch) -> None:
    results: list[bool] = []
    real = outputs._exchange

    def spy(staging: Path, target: Path) -> bool:
        results.append(real(staging, target))
        return results[-1]

    monkeypatch.setattr(outputs, "_exchange", spy)
    _write_result(tmp_path / "out", FIRST)
    _write_result(tmp_path / "out", {"b": b"2"})
    assert results == [True]  # the first commit had nothing to exchange with
    assert _tree(tmp_path / "out").keys() == {"b", MANIFEST_NAME}


def test_the_fallback_renames_aside_and_deletes_the_old(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(outputs, "_renameat2", lambda: None)
    target = tmp_path / "out"
    _write_result(target, FIRST)
    _write_result(target, {"b": b"2"})
    assert _tree(target).keys() == {"b", MANIFEST_NAME}
    verify_output(target)
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- the lock


def test_a_second_writer_in_the_same_process_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "out"
    first = prepare_output(target)
    with pytest.raises(OutputError, match=rf"another hexaccess run \(pid {os.getpid()}\) is"):
        prepare_output(target)
    first.abort()
    prepare_output(target).abort()  # free again


# --------------------------------------------------------------------------- subprocesses

#: Pause after each 64 KiB chunk: the driver's 3 MiB then take ~0.2 s to write, a window
#: the random kills can hit anywhere.
CHUNK_DELAY = 0.004


def _load_driver():
    spec = importlib.util.spec_from_file_location("_fault_driver", DRIVER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_driver = _load_driver()


def _start_driver(
    target: Path, generation: int, delay: float = CHUNK_DELAY, *extra: str
) -> subprocess.Popen:
    command = [sys.executable, str(DRIVER), str(target), str(generation)]
    return subprocess.Popen(
        [*command, "--chunk-delay", str(delay), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _locked_span(stdout: str) -> tuple[float, float]:
    """(after prepare_output, before commit) of a driver that succeeded: both while it
    held the lock."""
    words = stdout.split()
    assert words[0::2] == ["ready", "committed"], stdout
    return float(words[1]), float(words[3])


def _one_generation(target: Path) -> int:
    """Verify ``target`` and return the one generation every file carries."""
    manifest = verify_output(target, kind="fault-test")
    found = {manifest["provenance"]["generation"]}
    for entry in manifest["files"]:
        with open(target / entry["path"], "rb") as handle:
            first = handle.readline().decode()
        match = re.fullmatch(r"generation=(\d+)\n", first)
        assert match, f"{entry['path']} starts with {first!r}"
        found.add(int(match.group(1)))
    assert len(found) == 1, f"files from several runs in {target}: {sorted(found)}"
    assert len(manifest["files"]) == 5
    return found.pop()


def test_sigkill_at_random_moments_leaves_one_whole_result(tmp_path: Path) -> None:
    target = tmp_path / "out"
    proc = _start_driver(target, 0)
    assert proc.stdout is not None and proc.stdout.readline().startswith("ready ")
    started = time.perf_counter()
    proc.communicate(timeout=60)
    duration = time.perf_counter() - started  # ready -> exit: writing, fsync, exchange
    assert proc.returncode == 0 and _one_generation(target) == 0
    rng = random.Random(20240611)
    tries, landed_mid_write, generation = 20, 0, 0
    for attempt in range(tries):
        new = 2 * attempt + 1
        proc = _start_driver(target, new)
        assert proc.stdout is not None and proc.stdout.readline().startswith("ready ")
        # Stratified delays: the tries cover the whole write (and a little after it).
        time.sleep(duration * 1.2 * (attempt + rng.random()) / tries)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        found = _one_generation(target)
        assert found in (generation, new), (attempt, found)
        landed_mid_write += any(".out.staging-" in name for name in _leftovers(tmp_path))
        # A rerun right after the kill (in this process, to save a start): the lock is
        # free again and the staging directory of the killed run is cleaned up.
        _driver.write_generation(outputs, target, new + 1, say=lambda _line: None)
        generation = _one_generation(target)
        assert generation == new + 1
        assert _leftovers(tmp_path) == []
    assert landed_mid_write >= tries // 3, landed_mid_write


def test_two_writers_at_once_never_mix(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _driver.write_generation(outputs, target, 0, say=lambda _line: None)
    both = 0
    for attempt in range(20):
        generations = (2 * attempt + 1, 2 * attempt + 2)
        go = tmp_path / f"go-{attempt}"
        start = ("--wait-for", str(go))
        procs = [_start_driver(target, g, CHUNK_DELAY / 2, *start) for g in generations]
        for proc in procs:  # both started and imported: let them go at the same moment
            assert proc.stdout is not None and proc.stdout.readline() == "waiting\n"
        go.touch()
        results = [p.communicate(timeout=60) for p in procs]
        codes = [p.returncode for p in procs]
        winners = [g for g, code in zip(generations, codes, strict=True) if code == 0]
        assert winners, results
        for other, code, (_out, err) in zip(reversed(procs), codes, results, strict=True):
            if code != 0:
                assert code == 2, err
                assert f"another hexaccess run (pid {other.pid}) is writing to {target}" in err
        if len(winners) == 2:  # then one after the other: the locked spans are disjoint
            (a0, a1), (b0, b1) = sorted(_locked_span(out) for out, _err in results)
            assert a1 < b0, (attempt, (a0, a1), (b0, b1))
        assert _one_generation(target) in winners
        both += len(winners) == 2
    assert both <= 10, both  # the runs did overlap most of the time (else this tests nothing)


def test_the_driver_reports_output_errors_with_exit_code_2(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file")
    proc = _start_driver(tmp_path / "out", 1)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.startswith("error: ") and "is a file" in err
    assert issubclass(OutputError, HexaccessError)


# ------------------------------------------------- directories --overwrite never replaces
def test_overwrite_never_replaces_a_shared_sticky_directory(tmp_path: Path) -> None:
    """Like /tmp: replacing it would delete every user's files (this happened once)."""
    shared = tmp_path / "scratch"
    shared.mkdir()
    shared.chmod(0o1777)
    (shared / "someone-elses.txt").write_text("keep")
    with pytest.raises(OutputError, match="sticky bit"):
        prepare_output(shared, overwrite=True)
    assert (shared / "someone-elses.txt").read_text() == "keep"


def test_overwrite_never_replaces_the_working_directory_or_its_parents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "inputs").mkdir(parents=True)
    (project / "inputs" / "pop.csv").write_text("x")
    monkeypatch.chdir(project / "inputs")
    for target in (project / "inputs", project, Path(".")):
        with pytest.raises(OutputError, match="working directory"):
            prepare_output(target, overwrite=True)
    assert (project / "inputs" / "pop.csv").exists()
    with prepare_output(project / "inputs" / "out", overwrite=True) as out:
        out.file("a.txt").write_text("fine")
        out.commit()


def test_a_result_with_a_users_file_added_is_no_longer_ours(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with prepare_output(target) as out:
        out.file("bands.csv").write_text("1")
        out.commit()
    (target / "my-notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="--overwrite"):
        prepare_output(target)
    assert (target / "my-notes.txt").exists()
