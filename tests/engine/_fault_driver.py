"""Writes one "generation" of a multi-file result through hexaccess.outputs, for the fault
injection and concurrency tests in test_outputs.py (run as a subprocess, killed at random).

    python tests/_fault_driver.py TARGET GENERATION [--scale FACTOR] [--chunk-delay SECONDS]
                                  [--wait-for FILE]

Every file starts with ``generation=<N>`` and its body repeats N, so a reader can tell
which run each file came from. Large files are written in 64 KiB chunks, flushed one by
one (with an optional pause) so that a kill lands in the middle of a write. Prints
``ready`` once the target is prepared (locked) and ``committed`` at the end. Exit code 2
and one line on stderr for a HexaccessError, as the command line does.

Only ``hexaccess.errors`` and ``hexaccess.outputs`` are loaded, under an empty stand-in for
the package: importing the whole package (numpy, pandas, the Rust core) would cost about a
second per start, and the tests start this script some hundred times.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

CHUNK = 64 * 1024
#: (relative path, size in MiB or None for a small file)
FILES = [
    ("big.bin", 2.0),
    ("data/part.bin", 1.0),
    ("bands.csv", None),
    ("summary.json", None),
    ("data/notes.txt", None),
]


def _load_outputs() -> types.ModuleType:
    spec = importlib.util.find_spec("hexaccess")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("hexaccess is not installed")
    stand_in = types.ModuleType("hexaccess")
    stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules["hexaccess"] = stand_in
    import hexaccess.outputs

    return hexaccess.outputs


def header(generation: int) -> bytes:
    """First line of every file of a generation."""
    return f"generation={generation}\n".encode()


def _write(path: Path, generation: int, mib: float | None, delay: float) -> None:
    with open(path, "wb") as handle:
        handle.write(header(generation))
        if mib is None:
            handle.write(f"small file of generation {generation}\n".encode())
            return
        pattern = f"{generation:08d}\n".encode()
        block = (pattern * (CHUNK // len(pattern) + 1))[:CHUNK]
        for _ in range(int(mib * 1024 * 1024) // CHUNK):
            handle.write(block)
            handle.flush()
            if delay:
                time.sleep(delay)


def write_generation(
    outputs: types.ModuleType,
    target: str | Path,
    generation: int,
    *,
    scale: float = 1.0,
    chunk_delay: float = 0.0,
    say: Callable[[str], None] = print,
) -> None:
    """Write one generation through ``outputs.prepare_output`` and ``commit`` (also called
    in-process by the tests, for reruns without a process start)."""
    out = outputs.prepare_output(target, kind="fault-test")
    say(f"ready {time.monotonic():.6f}")
    with out:
        for name, mib in FILES:
            size = None if mib is None else mib * scale
            _write(out.file(name), generation, size, chunk_delay)
        before_commit = time.monotonic()
        out.commit(provenance={"generation": generation})
    say(f"committed {before_commit:.6f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("target")
    parser.add_argument("generation", type=int)
    parser.add_argument("--scale", type=float, default=1.0, help="factor on the big files")
    parser.add_argument("--chunk-delay", type=float, default=0.0)
    parser.add_argument("--wait-for", type=Path, help="start once this file exists")
    args = parser.parse_args(argv)
    outputs = _load_outputs()
    if args.wait_for is not None:  # a starting line for concurrent runs, after the imports
        print("waiting", flush=True)
        while not args.wait_for.exists():
            time.sleep(0.001)
    from hexaccess.errors import HexaccessError

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        write_generation(
            outputs,
            args.target,
            args.generation,
            scale=args.scale,
            chunk_delay=args.chunk_delay,
            say=say,
        )
    except HexaccessError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
