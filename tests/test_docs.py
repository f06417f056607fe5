"""The documentation works as shown: the API reference builds without a warning, every
Python example of the README runs as pasted, and every ``hexaccess`` command it shows
parses with the real command-line parser."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.shared import SHARED_DATA

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
#: A README example must run in well under a minute (it is pasted by readers).
EXAMPLE_SECONDS = 60


def _code_blocks(language: str) -> list[tuple[int, str]]:
    """(line number, code) of every fenced ``language`` block of the README."""
    blocks, current, start = [], None, 0
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        fence = re.match(r"^\s*```\s*([\w+-]*)", line)
        if fence and current is None:
            current, start, lang = [], number, fence.group(1)
        elif fence:
            if lang == language:
                blocks.append((start, "\n".join(current)))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def _commands(code: str) -> list[str]:
    """Commands of a shell block that run ``hexaccess`` (also after ``&&`` or ``;``), with
    backslash continuations joined and a ``$`` prompt dropped."""
    joined = re.sub(r"\\\n\s*", " ", code)
    parts = (part.strip() for line in joined.splitlines() for part in re.split(r"&&|;", line))
    return [p.removeprefix("$ ") for p in parts if p.removeprefix("$ ").startswith("hexaccess ")]


def _alternatives(args: list[str]) -> list[list[str]]:
    """``--objective a|b|c`` in the README means one of a, b, c: try each."""
    alternatives = re.compile(r"[\w.:-]+(\|[\w.:-]+)+")
    choices = [arg.split("|") if alternatives.fullmatch(arg) else [arg] for arg in args]
    width = max(len(c) for c in choices)
    return [[c[min(k, len(c) - 1)] for c in choices] for k in range(width)]


PYTHON_BLOCKS = _code_blocks("python")
SHELL_COMMANDS = [
    (line, command)
    for language in ("bash", "sh", "shell", "console")
    for line, code in _code_blocks(language)
    for command in _commands(code)
]


def test_api_reference_builds(tmp_path: Path) -> None:
    """``mkdocs build --strict`` (warnings are errors) renders the reference."""
    for module in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers"):
        if importlib.util.find_spec(module) is None:
            pytest.fail(f"{module} is not installed: install the test extra ('.[test]')")
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = (done.stdout + done.stderr)[-6000:]
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{log}"
    page = site / "api" / "hexaccess" / "index.html"
    assert page.exists(), f"no page for the top level in {site}:\n{log}"
    html = page.read_text(encoding="utf-8")
    assert 'id="hexaccess.Study"' in html, "hexaccess.Study is not documented on its page"
    assert 'id="hexaccess.Graph"' in html, "hexaccess.Graph is not documented on its page"


@pytest.mark.parametrize(
    "code", [code for _, code in PYTHON_BLOCKS], ids=[f"README.md:{n}" for n, _ in PYTHON_BLOCKS]
)
def test_readme_python_examples_run(code: str, tmp_path: Path) -> None:
    """Each block runs on its own, as pasted, in a fresh interpreter and an empty directory.

    Paths ``../shared/data/...`` resolve as from the repository root: the directory the
    block runs in has a ``../shared`` link to the reference data.
    """
    cwd = tmp_path / "work"
    cwd.mkdir()
    if "../shared/" in code:
        if not SHARED_DATA.is_dir():
            pytest.skip(f"the example reads ../shared/data, not present: {SHARED_DATA}")
        (tmp_path / "shared").symlink_to(SHARED_DATA.parent, target_is_directory=True)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=EXAMPLE_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the example takes more than {EXAMPLE_SECONDS} s: too long for the README")
    seconds = time.perf_counter() - started
    assert done.returncode == 0, f"the example fails ({seconds:.1f} s):\n{done.stderr[-4000:]}"


@pytest.mark.parametrize(
    "command",
    [command for _, command in SHELL_COMMANDS],
    ids=[f"README.md:{n}:{c.split()[1] if len(c.split()) > 1 else ''}" for n, c in SHELL_COMMANDS],
)
def test_readme_shell_examples_parse(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Every ``hexaccess ...`` line of the README parses; placeholders (P, R) are strings."""
    from hexaccess.cli import build_parser

    args = shlex.split(command, comments=True)[1:]
    for variant in _alternatives(args):
        try:
            build_parser().parse_args(variant)
        except SystemExit as exc:
            error = capsys.readouterr().err.strip().splitlines()[-1:]
            pytest.fail(f"`hexaccess {shlex.join(variant)}` does not parse ({exc.code}): {error}")


def test_readme_has_examples() -> None:
    """The extraction itself works (a renamed fence would silently test nothing)."""
    assert PYTHON_BLOCKS, "no ```python block in README.md"
    assert SHELL_COMMANDS, "no hexaccess command in a ```bash block of README.md"


SCENARIO_BLOCKS = [(n, c) for n, c in _code_blocks("toml") if "[inputs]" in c]


@pytest.mark.slow
@pytest.mark.parametrize(
    "code", [c for _, c in SCENARIO_BLOCKS], ids=[f"README.md:{n}" for n, _ in SCENARIO_BLOCKS]
)
def test_readme_scenario_files_run(code: str, tmp_path: Path) -> None:
    """Each scenario file of the README, saved as ``study.toml`` in a directory beside
    ``../shared`` (as the README says: the repository root), runs with ``hexaccess run``
    and writes a complete, verified output directory."""
    from hexaccess.cli import main
    from hexaccess.outputs import verify_output

    if "../shared/" in code and not SHARED_DATA.is_dir():
        pytest.skip(f"the scenario reads ../shared/data, not present: {SHARED_DATA}")
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "shared").symlink_to(SHARED_DATA.parent, target_is_directory=True)
    (root / "study.toml").write_text(code, encoding="utf-8")
    assert main(["run", str(root / "study.toml"), "--quiet"]) == 0
    out = re.search(r'^dir\s*=\s*"([^"]+)"', code, flags=re.M)
    assert out, "the scenario names no [outputs] dir"
    manifest = verify_output(root / out.group(1))
    assert any(f["path"].endswith("bands.csv") for f in manifest["files"])


def test_readme_has_a_scenario_file() -> None:
    assert SCENARIO_BLOCKS, "no scenario ```toml block in README.md"
