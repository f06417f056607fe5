"""Griffe extension: render hexaccess's reST-flavoured docstrings as Markdown.

The package's docstrings are written for people reading the source (and ``help()``):
numpy-style sections, ``double backticks``, Sphinx roles (:func:`x`, :class:`~a.b.C`),
``::`` literal blocks, ``>>>`` examples, simple ``====`` tables and definition lists.
mkdocstrings renders Markdown, so before it parses a docstring this extension rewrites
those reST constructs into their Markdown equivalents. The source stays as it is.

Roles become cross-references: a role whose target exists in the package links to its
page (an *optional* link: a private or unrendered target shows as plain code); a role
naming a ``hexaccess`` object that does not exist is a broken reference and is logged at
the level given by the ``broken_refs`` option (``warning`` makes ``mkdocs build
--strict`` fail on it, ``info`` only lists it); ``known_broken`` lists ``"module: role"``
entries that are only listed until they are fixed.

Names the top level serves lazily (``hexaccess.Study`` via ``__getattr__``, listed in
``hexaccess._LAZY``) are added as aliases so that ``::: hexaccess.Study`` and
:class:`hexaccess.Study` work as they do at run time.
"""

from __future__ import annotations

import ast
import builtins
import html
import importlib.util
import logging
import re
import textwrap
from pathlib import Path
from typing import Any

import griffe

_log = logging.getLogger("mkdocs.plugins.hexaccess_docs")

#: ``:role:`target``` or ``:role:`title <target>```; the role name is not checked.
_ROLE = re.compile(r":(?:py:)?(?P<role>[a-z]+):`(?P<body>[^`]+)`")
#: Numpy section titles griffe understands: definition lists stop where they begin.
_NUMPY_SECTIONS = {
    "parameters", "other parameters", "returns", "yields", "receives", "raises", "warns",
    "attributes", "methods", "functions", "classes", "modules", "examples", "notes",
    "see also", "references", "deprecated", "warnings",
}  # fmt: skip
#: Sections whose entries are ``name`` lines with an indented description.
_ITEM_SECTIONS = {"parameters", "other parameters", "raises", "warns", "attributes"}
#: The first line of such an entry: ``name``, ``a, b``, ``*args``, ``name : type``.
_ITEM = re.compile(r"^\*{0,2}[A-Za-z_][\w.]*(\s*,\s*\*{0,2}[A-Za-z_][\w.]*)*\s*(:(?![a-z]+:`).*)?$")
_BORDER = re.compile(r"^\s*=+(\s+=+)+\s*$")


class ReSTDocstrings(griffe.Extension):
    """Rewrite the docstrings of one package from reST to Markdown (see the module)."""

    def __init__(
        self,
        package: str = "hexaccess",
        broken_refs: str = "warning",
        known_broken: list[str] | None = None,
    ) -> None:
        self.package = package
        self.level = logging.getLevelName(broken_refs.upper())
        if not isinstance(self.level, int):
            raise ValueError(f"broken_refs: give warning or info, not {broken_refs!r}")
        #: ``"module: role"`` entries logged at info level (waiting for their fix).
        self.known_broken = set(known_broken or ())

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **_: Any) -> None:
        """Rewrite every docstring of the package once it is loaded."""
        if pkg.name != self.package or pkg.extra.get("rst_docstrings", {}).get("done"):
            return
        pkg.extra["rst_docstrings"] = {"done": True}
        _add_lazy_aliases(pkg)
        for obj in _own_objects(pkg):
            if obj.is_attribute and obj.docstring is None:
                _comment_docstring(obj)
            if obj.docstring is not None:
                obj.docstring.value = self.convert(obj, obj.docstring.value, loader)

    # Older griffe releases name the same event on_package_loaded.
    on_package_loaded = on_package

    def convert(self, obj: griffe.Object, text: str, loader: griffe.GriffeLoader) -> str:
        """The Markdown form of one docstring (roles resolved in ``obj``'s scope)."""
        lines = _prose_after_items(text.splitlines(), obj)
        lines = _doctest_blocks(lines)
        lines = _literal_blocks(lines)
        lines = _simple_tables(lines)
        lines = _definition_lists(lines)
        lines = _blank_line_before_lists(lines)
        original = text.splitlines()

        def role(match: re.Match[str]) -> str:
            # The line of the source docstring, for the message (the rewrite adds lines).
            line = next((k for k, o in enumerate(original) if match[0] in o), 0)
            return self._role(obj, match, line, loader)

        in_fence = False
        out = []
        for line in lines:
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
            out.append(line if in_fence else _ROLE.sub(role, line))
        return "\n".join(out)

    def _role(
        self, obj: griffe.Object, match: re.Match[str], line: int, loader: griffe.GriffeLoader
    ) -> str:
        body = match["body"].strip()
        explicit = re.fullmatch(r"(?P<title>.+?)\s*<(?P<target>[^>]+)>", body)
        if explicit:
            title, target = explicit["title"], explicit["target"]
        else:
            target = body.lstrip("~")
            title = target.rsplit(".", 1)[-1] if body.startswith("~") else target
        code = f"<code>{html.escape(title)}</code>"
        path = _resolve(obj, target.removesuffix("()"), self.package, loader)
        if path is None:
            return f"`{title}`"  # a builtin or another package's object: plain code
        if not _exists(loader, path):
            self._broken(obj, line, match[0], path)
            return f"`{title}`"
        return f'<autoref identifier="{html.escape(path)}" optional>{code}</autoref>'

    def _broken(self, obj: griffe.Object, line: int, role: str, path: str) -> None:
        module = obj if obj.is_module else obj.module
        known = f"{module.path}: {role}" in self.known_broken
        level = logging.INFO if known else self.level
        where = _where(obj, line)
        _log.log(level, "%s: broken cross-reference %s (no object %s)", where, role, path)


def _where(obj: griffe.Object, line: int) -> str:
    """``file:line`` of a docstring line, relative to the working directory when possible."""
    filepath = Path(str(obj.filepath))
    try:
        filepath = filepath.relative_to(Path.cwd())
    except ValueError:
        pass
    start = obj.docstring.lineno if obj.docstring and obj.docstring.lineno else 0
    return f"{filepath}:{start + line}"


def _own_objects(module: griffe.Module):
    """Every module, class, function and attribute defined (not imported) in ``module``."""
    stack: list[griffe.Object] = [module]
    while stack:
        obj = stack.pop()
        yield obj
        stack.extend(m for m in obj.members.values() if not m.is_alias)


def _comment_docstring(attr: griffe.Attribute) -> None:
    """Sphinx's ``#:`` comments above an assignment are its docstring (griffe reads only
    string literals)."""
    try:
        lines = attr.lines_collection[attr.filepath]
    except (KeyError, TypeError):
        return
    first = (attr.lineno or 0) - 2  # 0-based index of the line above the assignment
    comment: list[str] = []
    while 0 <= first < len(lines) and lines[first].lstrip().startswith("#:"):
        comment.insert(0, lines[first].lstrip()[2:].removeprefix(" "))
        first -= 1
    if comment:
        attr.docstring = griffe.Docstring("\n".join(comment), lineno=first + 2, parent=attr)


def _add_lazy_aliases(pkg: griffe.Module) -> None:
    """Expose the names the package serves through ``__getattr__`` (``_LAZY``)."""
    lazy = pkg.members.get("_LAZY")
    if lazy is None or lazy.is_alias or lazy.value is None:
        return
    try:
        names = ast.literal_eval(str(lazy.value))
    except (ValueError, SyntaxError):
        return
    for name, module in names.items():
        if name not in pkg.members:
            pkg.set_member(name, griffe.Alias(name, f"{module}.{name}", parent=pkg))


def _resolve(
    obj: griffe.Object, target: str, package: str, loader: griffe.GriffeLoader
) -> str | None:
    """Full path of a package object ``target`` names, as Python would see it from ``obj``.

    None when it names a builtin or another package's object (not checked). A name not
    in scope is returned as written, so that the caller reports it as broken. A leading
    dot (Sphinx) means the current module, then its package.
    """
    if target.startswith("."):
        module = obj if obj.is_module else obj.module
        scopes = [module.path, *([module.parent.path] if module.parent else [])]
        candidates = [f"{scope}{target}" for scope in scopes]
        return next((c for c in candidates if _exists(loader, c)), candidates[0])
    first, _, rest = target.partition(".")
    try:
        head = obj.resolve(first)
    except Exception:  # griffe.NameResolutionError, or an alias that cannot resolve
        if first != package and (hasattr(builtins, first) or _importable(first)):
            return None
        return target
    if head.split(".")[0] != package:
        return None
    return f"{head}.{rest}" if rest else head


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _exists(loader: griffe.GriffeLoader, path: str) -> bool:
    try:
        loader.modules_collection.get_member(path)
    except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return False
    return True


def _prose_after_items(lines: list[str], obj: griffe.Object) -> list[str]:
    """Prose written after a Parameters (Raises, ...) section becomes a Notes section.

    Numpy-style sections run to the next section header, so a closing paragraph would
    be read as more parameters (``Ties``, ``that``, ...); as Notes it renders as written.
    """
    out: list[str] = []
    section = ""
    for i, line in enumerate(lines):
        if _is_section_header(lines, i, known_only=False):
            section = line.strip().lower()
        elif (
            section in _ITEM_SECTIONS
            and line.strip()
            and not line[0].isspace()
            and i > 0
            and not lines[i - 1].strip()
            and not _ITEM.match(line)
        ):
            _log.info("%s: prose after the %s section shown as Notes", _where(obj, i), section)
            out += ["Notes", "-----"]
            section = "notes"
        out.append(line)
    return out


def _doctest_blocks(lines: list[str]) -> list[str]:
    """``>>>`` sessions (with their output, up to a blank line) become ```` ```pycon ````."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not lines[i].lstrip().startswith(">>>"):
            out.append(lines[i])
            i += 1
            continue
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(re.sub(r"\s*#\s*doctest:.*$", "", lines[i].removeprefix(indent)))
            i += 1
        out += _fence(block, "pycon", indent, out)
    return out


def _fence(block: list[str], language: str, indent: str, before: list[str]) -> list[str]:
    """A fenced code block, with the blank line Markdown needs before it."""
    lead = [""] if before and before[-1].strip() else []
    return [*lead, f"{indent}```{language}", *(indent + b for b in block), f"{indent}```"]


def _literal_blocks(lines: list[str]) -> list[str]:
    """``text::`` + an indented block becomes ``text:`` + a fenced block."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.rstrip().endswith("::") or line.lstrip().startswith(("```", ">>>")):
            out.append(line)
            continue
        stripped = line.rstrip()[:-2].rstrip()
        if stripped:
            out.append(stripped + ":")
        base = len(line) - len(line.lstrip())
        j = i
        while j < len(lines) and not lines[j].strip():
            j += 1
        block_end = j
        while block_end < len(lines) and (
            not lines[block_end].strip()
            or len(lines[block_end]) - len(lines[block_end].lstrip()) > base
        ):
            block_end += 1
        while block_end > j and not lines[block_end - 1].strip():
            block_end -= 1
        if block_end == j:
            continue
        block = textwrap.dedent("\n".join(lines[j:block_end])).splitlines()
        out += _fence(block, "text", " " * base, out)
        i = block_end
    return out


def _simple_tables(lines: list[str]) -> list[str]:
    """reST simple tables (``====  ====`` borders) become Markdown tables."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not _BORDER.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        border = lines[i]
        end = i + 1
        while end < len(lines) and not (_BORDER.match(lines[end]) and _closes(lines, end)):
            end += 1
        if end >= len(lines):
            out.append(lines[i])
            i += 1
            continue
        spans = [m.span() for m in re.finditer(r"=+", border)]
        body = lines[i + 1 : end]
        header: list[str] = [""] * len(spans)
        if any(_BORDER.match(row) for row in body):
            split = next(k for k, row in enumerate(body) if _BORDER.match(row))
            header = _join_rows(body[:split], spans)[0]
            body = body[split + 1 :]
        indent = border[: len(border) - len(border.lstrip())]
        rows = [header, ["---"] * len(spans), *_join_rows(body, spans)]
        lead = [""] if out and out[-1].strip() else []
        out += lead + [indent + "| " + " | ".join(cells) + " |" for cells in rows]
        i = end + 1
    return out


def _closes(lines: list[str], k: int) -> bool:
    """A border closes the table when a blank line or the end follows it."""
    return k + 1 >= len(lines) or not lines[k + 1].strip()


def _join_rows(rows: list[str], spans: list[tuple[int, int]]) -> list[list[str]]:
    """Cells of a simple table's rows; a row with an empty first cell continues the last."""
    joined: list[list[str]] = []
    for row in rows:
        if not row.strip():
            continue
        cells = []
        for k, (start, stop) in enumerate(spans):
            stop = len(row) if k == len(spans) - 1 else spans[k + 1][0]
            cells.append(row[start:stop].strip().replace("|", "\\|"))
        if joined and not cells[0]:
            joined[-1] = [f"{a} {b}".strip() for a, b in zip(joined[-1], cells, strict=True)]
        else:
            joined.append(cells)
    return joined


def _definition_lists(lines: list[str]) -> list[str]:
    """``term`` + an indented definition (reST) becomes ``term`` + ``:   definition``.

    Only in the prose before the first numpy section: in a Parameters section the same
    shape is a parameter and griffe parses it.
    """
    out: list[str] = []
    in_fence = False
    after_definition = False  # reST needs no blank line between two entries
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if _is_section_header(lines, i):
            return out + lines[i:]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        term = (
            not in_fence
            and line.strip()
            and not line[0].isspace()
            and (i == 0 or not lines[i - 1].strip() or after_definition)
            and nxt.strip()
            and nxt[0].isspace()
            and not line.lstrip().startswith(("- ", "* ", "|", ">>>"))
        )
        after_definition = False
        if not term:
            out.append(line)
            i += 1
            continue
        out.append(line)
        j = i + 1
        while j < len(lines) and lines[j].strip() and lines[j][0].isspace():
            j += 1
        definition = textwrap.dedent("\n".join(lines[i + 1 : j])).splitlines()
        out.append(":   " + definition[0])
        out += ["    " + d for d in definition[1:]]
        i = j
        after_definition = True
    return out


def _is_section_header(lines: list[str], i: int, *, known_only: bool = True) -> bool:
    """A line underlined with dashes (numpy style); ``known_only``: a title griffe knows."""
    nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
    known = not known_only or lines[i].strip().lower() in _NUMPY_SECTIONS
    return bool(lines[i].strip() and nxt and set(nxt) == {"-"} and known)


def _blank_line_before_lists(lines: list[str]) -> list[str]:
    """Markdown starts a list only after a blank line; reST prose often has none."""
    out: list[str] = []
    in_fence = False
    for line in lines:
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        item = not in_fence and re.match(r"\s*(?:[-*]|\d+\.)\s", line)
        previous = out[-1] if out else ""
        previous_item = re.match(r"\s*(?:[-*]|\d+\.)\s", previous)
        if item and previous.strip() and not previous_item and not previous[:1].isspace():
            out.append("")
        out.append(line)
    return out
