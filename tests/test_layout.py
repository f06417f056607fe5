"""The package's shape, checked: short functions, layers imported in one direction, one
error hierarchy. See ARCHITECTURE.md for the map these rules keep true."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

import hexaccess

PACKAGE = Path(hexaccess.__file__).parent
MAX_FUNCTION_LINES = 80

#: Layer of every top-level module or subpackage; a module may import only its own layer
#: or lower ones (engine -> inputs -> study -> analysis/optimise/report -> the study API
#: and scenario files -> cli).
LAYERS = {
    "errors": 0,
    "defaults": 0,
    "_core": 0,
    "_engine": 0,
    "_backend": 0,
    "_numba_backend": 0,
    "graph": 0,
    "results": 0,
    "h3": 0,
    "h3cells": 0,
    "outputs": 0,
    "_files": 0,
    "_extras": 0,
    "profiles": 1,
    "population": 1,
    "network": 1,
    "offices": 1,
    "geoparquet": 1,
    "inputs": 1,
    "datasets": 1,
    "synthetic": 1,
    "transit": 1,
    "country": 1,
    "study": 2,
    "accessibility": 2,
    "hexgrid": 2,
    "analysis": 3,
    "layers": 3,
    "optimise": 3,
    "distributed": 3,
    "coverage": 3,
    "_optimise_kernels": 3,
    "report": 3,
    "calibrate": 3,
    "api": 4,
    "scenario": 4,
    "cli": 5,
    "cli_common": 5,
    "cli_analysis": 5,
    "cli_optimise": 5,
    "__init__": 6,
    "__main__": 6,
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _top(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _code_lines(source: str, node: ast.AST) -> int:
    """Lines of a function that hold code: no blank lines, comments or docstring."""
    first, last = node.lineno, node.end_lineno or node.lineno
    skip: set[int] = set()
    body = getattr(node, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            skip.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    code: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (
            tokenize.COMMENT,
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
            tokenize.ENDMARKER,
        ):
            continue
        for line in range(tok.start[0], tok.end[0] + 1):
            if first <= line <= last:
                code.add(line)
    return len(code - skip)


def test_no_function_is_longer_than_80_lines_of_code() -> None:
    long = []
    for path in _modules():
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _code_lines(source, node)
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({n})")
    assert not long, "functions over 80 lines of code: " + ", ".join(long)


def _imported(tree: ast.AST, path: Path) -> set[str]:
    """Top-level hexaccess modules a file imports (absolute and relative imports)."""
    out: set[str] = set()
    depth = len(path.relative_to(PACKAGE).parts) - 1
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "hexaccess" and len(parts) > 1:
                    out.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level > depth:  # relative import reaching the package root
                    base = (node.module or "").split(".")[0]
                    out.update([base] if base else [a.name for a in node.names])
                continue
            parts = (node.module or "").split(".")
            if parts[0] != "hexaccess":
                continue
            if len(parts) > 1:
                out.add(parts[1])
            else:
                out.update(a.name for a in node.names)
    return out


def test_layers_import_in_one_direction() -> None:
    wrong = []
    for path in _modules():
        top = _top(path)
        if top not in LAYERS:
            wrong.append(f"{path.relative_to(PACKAGE)}: module not placed in a layer")
            continue
        if top == "__init__":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in _imported(tree, path):
            if name in LAYERS and LAYERS[name] > LAYERS[top]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports hexaccess.{name}")
    assert not wrong, "imports against the layers: " + "; ".join(sorted(wrong))


def test_nothing_below_the_cli_imports_it() -> None:
    for path in _modules():
        top = _top(path)
        if LAYERS.get(top, 0) >= LAYERS["cli"]:
            continue
        names = _imported(ast.parse(path.read_text(encoding="utf-8")), path)
        assert not {n for n in names if n.startswith("cli")}, path


def test_every_error_class_lives_in_errors_and_derives_from_the_base() -> None:
    stray = []
    for path in _modules():
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.endswith(("Error", "Warning")):
                if not node.name.startswith("_"):
                    stray.append(f"{path.relative_to(PACKAGE)}: {node.name}")
    assert not stray, "error classes outside hexaccess/errors.py: " + ", ".join(stray)
    from hexaccess import errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        # a missing optional package is not bad input: an ImportError, not a ValueError
        if issubclass(cls, Warning) or cls in (
            errors.HexaccessError,
            errors.MissingDependencyError,
        ):
            continue
        assert issubclass(cls, errors.HexaccessError), name
        assert issubclass(cls, ValueError), name


@pytest.mark.parametrize("name", ["HexaccessError", "Study", "StudyResult"])
def test_the_study_api_is_at_the_top_level(name: str) -> None:
    assert hasattr(hexaccess, name)
