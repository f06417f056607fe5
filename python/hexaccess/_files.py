"""The checks every input file gets before a reader opens it: it exists, is a file, can
be read, is not empty, and its content is the format the reader expects (sniffed from the
first bytes, not taken from the extension); a file that starts like a known format but is
cut short is named as truncated.

Engine layer: imports only :mod:`hexaccess.errors` and the standard library, so every
reader (population, roads, offices, profiles, caches) can call it.

Formats :func:`sniff_format` returns: ``"parquet"``, ``"gpkg"`` (any SQLite file),
``"tiff"`` (TIFF/BigTIFF, e.g. GeoTIFF), ``"pbf"`` (OpenStreetMap PBF), ``"zip"``,
``"gzip"``, ``"shp"`` (an ESRI Shapefile's ``.shp``), ``"json"`` (text starting with ``{``
or ``[``, e.g. GeoJSON), ``"csv"`` (text whose first line has a comma, semicolon or tab),
``"text"`` (other text), ``"binary"`` (anything else) and ``"empty"`` (0 bytes).

:func:`read_csv` is the one ``pandas.read_csv`` of the package's CSV readers: it first
reads the header row with the :mod:`csv` module (in the reader's encoding and
separator) and refuses a repeated column name, which pandas would silently rename
(``T,T`` read as ``T`` and ``T.1``, so a reader could take the wrong column).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hexaccess.errors import HexaccessError, InputFileError

if TYPE_CHECKING:  # pandas is imported by the call, not by the engine layer
    import pandas as pd

__all__ = ["FORMAT_NAMES", "check_input_file", "duplicate_columns", "read_csv", "sniff_format"]

#: How each sniffed format is named in messages.
FORMAT_NAMES = {
    "parquet": "a Parquet file",
    "gpkg": "a GeoPackage/SQLite database",
    "tiff": "a (Geo)TIFF raster",
    "pbf": "an OpenStreetMap .osm.pbf file",
    "zip": "a ZIP archive",
    "gzip": "a gzip-compressed file",
    "shp": "an ESRI Shapefile (.shp)",
    "json": "a JSON/GeoJSON text file",
    "csv": "a CSV text file",
    "text": "a text file",
    "binary": "a binary file of unknown format",
    "empty": "an empty file (0 bytes)",
}

_HEAD = 4096
_TEXT_CONTROL = set(range(32)) - {9, 10, 12, 13}


def _looks_like_pbf(head: bytes) -> bool:
    """An OSM PBF starts with a 4-byte big-endian BlobHeader length, then field 1
    (``type``, a string: ``OSMHeader``)."""
    if len(head) < 6 or head[4] != 0x0A:
        return False
    (size,) = struct.unpack(">I", head[:4])
    return 0 < size < 64 * 1024 and head[6 : 6 + head[5]] in (b"OSMHeader", b"OSMData")


def _text_kind(head: bytes) -> str:
    """``json``, ``csv``, ``text`` or ``binary`` for the first bytes of a file (UTF-8,
    8-bit text, or UTF-16 with its byte-order mark)."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 (Excel's "Unicode text")
        codec = "utf-16-le" if head[0] == 0xFF else "utf-16-be"
        head = head[2:].decode(codec, "ignore").encode("utf-8")
    if b"\x00" in head:
        return "binary"
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if sum(b in _TEXT_CONTROL for b in body) > max(2, len(body) // 100):
        return "binary"
    stripped = body.lstrip()
    if stripped[:1] in (b"{", b"["):
        return "json"
    first = stripped.split(b"\n", 1)[0]
    if any(sep in first for sep in (b",", b";", b"\t")):
        return "csv"
    return "text"


def _sniff_head(head: bytes) -> str:
    """The format of a file from its first bytes (see the module docstring)."""
    if not head:
        return "empty"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\x00\x00\x27\x0a"):
        return "shp"
    if _looks_like_pbf(head):
        return "pbf"
    return _text_kind(head)


def sniff_format(path: str | os.PathLike[str]) -> str:
    """The format of ``path`` from its content (one of the names in the module
    docstring); the file must exist and be readable."""
    with open(path, "rb") as fh:
        return _sniff_head(fh.read(_HEAD))


def _tail(path: Path, size: int, n: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(max(0, size - n))
        return fh.read(n)


def _sqlite_truncated(head: bytes, size: int) -> bool:
    """True when a SQLite file is shorter than its header says (whole pages, and the
    page count of a valid header)."""
    if len(head) < 100:
        return True
    (page,) = struct.unpack(">H", head[16:18])
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return True
    if size % page:
        return True
    (pages,) = struct.unpack(">I", head[28:32])
    valid = head[24:28] == head[92:96]  # the in-header page count is trustworthy
    return bool(valid and pages and pages * page > size)


def _truncated(path: Path, fmt: str, head: bytes, size: int) -> str | None:
    """Why a file of a known format is cut short, or None when it looks whole."""
    if fmt == "parquet":
        if size < 12 or _tail(path, size, 4) != b"PAR1":
            return "its Parquet footer is missing (the file ends early)"
    elif fmt == "gpkg":
        if _sqlite_truncated(head, size):
            return "its size does not match the SQLite header (the file ends early)"
    elif fmt == "tiff":
        fmt_big = head[2:4] in (b"+\x00", b"\x00+")
        if size < (16 if fmt_big else 8):
            return "it ends inside the TIFF header"
        order = "<" if head[:2] == b"II" else ">"
        field = (order + "Q", head[8:16]) if fmt_big else (order + "I", head[4:8])
        (offset,) = struct.unpack(*field)
        if offset >= size:
            return f"its first image directory (at byte {offset}) lies past the end"
    elif fmt == "zip":
        if b"PK\x05\x06" not in _tail(path, size, 65557):
            return "its ZIP directory is missing (the file ends early)"
    elif fmt == "pbf":
        (hdr,) = struct.unpack(">I", head[:4])
        if size < 4 + hdr:
            return "it ends inside the first block header"
    return None


def _expected(kinds: tuple[str, ...]) -> str:
    return " or ".join(FORMAT_NAMES.get(k, k) for k in kinds)


def check_input_file(
    path: str | os.PathLike[str], role: str, *, kinds: tuple[str, ...] = ()
) -> Path:
    """``path`` as a :class:`~pathlib.Path` once it is known to be a readable, non-empty
    file; with ``kinds`` (names from :func:`sniff_format`), its content must also be one
    of those formats and not truncated. ``role`` names the input in the message (e.g.
    ``"population file"``).

    Raises :class:`~hexaccess.errors.InputFileError` naming the role, the path and the
    fix: missing, a directory, unreadable, empty, another format, or cut short.
    """
    p = Path(path)
    if not p.exists():
        hint = " (the parent directory does not exist)" if not p.parent.exists() else ""
        raise InputFileError(f"{role} not found: {p}{hint}; check the path")
    if p.is_dir():
        raise InputFileError(f"{role} {p} is a directory, not a file; give the file inside it")
    if not p.is_file():
        raise InputFileError(f"{role} {p} is not a regular file; give a file path")
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            head = fh.read(_HEAD)
    except OSError as exc:
        raise InputFileError(
            f"{role} {p} cannot be read ({exc.strerror or exc}); check its permissions"
        ) from exc
    if size == 0:
        raise InputFileError(f"{role} {p} is empty (0 bytes); give a file with data")
    if not kinds:
        return p
    fmt = _sniff_head(head)
    if fmt not in kinds and not (fmt in ("csv", "text") and {"csv", "text"} & set(kinds)):
        raise InputFileError(
            f"{role} {p} is {FORMAT_NAMES.get(fmt, fmt)} by its content, not "
            f"{_expected(kinds)}; give a file in the right format (the extension alone "
            "does not decide it)"
        )
    why = _truncated(p, fmt, head, size)
    if why:
        raise InputFileError(
            f"{role} {p} is truncated or corrupt: {why}; download or export it again"
        )
    return p


# ---------------------------------------------------------------------- CSV headers
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def duplicate_columns(header: list[str]) -> dict[str, list[int]]:
    """The column names that occur more than once in ``header`` (compared without
    surrounding blanks, as the readers strip them), each with its 1-based positions."""
    seen: dict[str, list[int]] = {}
    for k, name in enumerate(header, start=1):
        seen.setdefault(str(name).strip(), []).append(k)
    return {name: where for name, where in seen.items() if len(where) > 1}


def _first_row(source: Any, sep: str, encoding: str | None) -> list[str] | None:
    """The header row of a CSV path or text buffer; None when it cannot be read here
    (undecodable, a compression this does not open): pandas then reports the problem."""
    if hasattr(source, "read"):  # a text buffer: read its first row, then rewind
        start = source.tell()
        try:
            return next(csv.reader(source, delimiter=sep), [])
        finally:
            source.seek(start)
    path = Path(source)
    opener = _OPENERS.get(path.suffix.lower(), open)
    if path.suffix.lower() in (".zip", ".zst", ".tar"):
        return None
    try:
        with opener(path, "rt", encoding=encoding or "utf-8-sig", newline="") as fh:
            rows: Iterator[list[str]] = csv.reader(fh, delimiter=sep)
            return next(rows, [])
    except (UnicodeError, OSError, EOFError, csv.Error, lzma.LZMAError):
        return None


def read_csv(
    source: str | os.PathLike[str] | io.StringIO,
    *,
    error: type[HexaccessError],
    name: str | None = None,
    role: str = "CSV file",
    **kwargs: Any,
) -> pd.DataFrame:
    """``pandas.read_csv(source, **kwargs)`` once the header row is known to name every
    column once. A repeated name (``T,T``; names compared without surrounding blanks)
    raises ``error`` (the reader's area class) naming the file (``name``, default the
    path), the ``role``, the column(s) and their positions, and the fix; pandas would
    rename the second one ``T.1`` and the reader could use the wrong column. ``source``
    is a path (``.gz``, ``.bz2`` and ``.xz`` are opened) or a text buffer (rewound)."""
    import pandas as pd

    if kwargs.get("header", "infer") is not None:
        sep = kwargs.get("sep", kwargs.get("delimiter", ","))
        row = _first_row(source, sep if isinstance(sep, str) and len(sep) == 1 else ",",
                         kwargs.get("encoding"))  # fmt: skip
        repeated = duplicate_columns(row or [])
        if repeated:
            shown = name if name is not None else str(source)
            which = "; ".join(
                f"{col!r} (columns {', '.join(map(str, where))})" for col, where in repeated.items()
            )
            first = next(iter(repeated))
            raise error(
                f"{shown}: the header line of the {role} repeats the column name(s) {which}; "
                f"pandas would silently rename the repeats ({first!r} -> '{first}.1') and the "
                "wrong column could be read: give every column a distinct name (rename or "
                "delete the repeated one)"
            )
    return pd.read_csv(source, **kwargs)
