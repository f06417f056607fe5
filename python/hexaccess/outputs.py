"""The one safe writer of output directories.

Every command that writes a directory (``hexaccess run --out``, ``report``, ``calibrate``,
``optimise``, the ``--matrix`` cache) goes through :func:`prepare_output` and
:meth:`OutputDirectory.commit`::

    out = prepare_output(args.out, overwrite=args.overwrite, kind="run")  # before computing
    with out:
        bands.to_csv(out.file("bands.csv"))
        out.commit(provenance={"profile": "car"})

A reader of the target then sees the whole previous result or the whole new one, never a
mix, whatever happens to the writer (an exception, Ctrl-C, SIGKILL, a power cut), no file of
an earlier run survives beside the new ones, and two runs into one directory cannot
interleave. Each step is there for one reason:

Checks before computing
    :func:`prepare_output` refuses a file where the directory should be, a parent that
    cannot be created or written, and a non-empty directory without a hexaccess manifest
    (someone's own files: ``overwrite=True`` replaces them) -- before hours of computation,
    not after them.
Lock
    ``fcntl.flock`` on a sibling ``.<name>.lock`` (``msvcrt.locking`` on Windows) makes a
    second run into the same target fail at once, naming the pid of the first, instead of
    both writing and one silently losing. The kernel drops the lock when its process dies,
    even by SIGKILL, so a rerun never finds a stale lock. The lock file lives beside the
    target, not in it, because the target directory itself is replaced on commit.
Staging beside the target
    Files are written into ``.<name>.staging-<pid>-<random>`` in the target's parent, so
    the final move is a rename within one file system (a single atomic step; a move across
    file systems would be a copy, visible half-done). A killed run leaves only this hidden
    directory; the next :func:`prepare_output` of the same target deletes it (safe: it
    holds the lock, so nobody else is writing there).
Manifest
    ``manifest.json`` lists every file with its size and SHA-256, the kind of output, the
    hexaccess version, the time and the provenance. :func:`verify_output` checks a
    directory against it, and :func:`prepare_output` uses it to tell a previous hexaccess
    result (replaced without asking) from a user's files (replaced only with overwrite).
fsync
    The files, the manifest and every staged directory are flushed to disk *before* the
    rename, and the parent directory after it. Without this, a crash soon after the rename
    may leave a directory whose files are empty or short: file systems commit the rename
    (metadata) on their own schedule, not necessarily after the data written just before.
Atomic exchange
    On Linux ``renameat2(RENAME_EXCHANGE)`` (through ctypes) swaps the old and the new
    directory in one step: at no moment is the target missing or half-replaced. The old
    result, now at the staging path, is deleted afterwards. Where that call is missing
    (other systems, old kernels, file systems without it) the old directory is renamed
    aside, the new one renamed in and the old one deleted: a reader may then, for an
    instant, find no directory, but never a mix; and if the writer dies in that instant,
    the next :func:`prepare_output` puts the old result back.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import stat
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from hexaccess.errors import CorruptOutputError, OutputError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
try:  # Windows
    import msvcrt
except ImportError:
    msvcrt = None  # type: ignore[assignment]

__all__ = [
    "MANIFEST_NAME",
    "OutputDirectory",
    "prepare_output",
    "read_manifest",
    "verify_output",
]

#: Name of the manifest written into every output directory.
MANIFEST_NAME = "manifest.json"
#: ``format`` value that marks a manifest as ours (a user's own manifest.json is not).
MANIFEST_FORMAT = "hexaccess-output"
MANIFEST_VERSION = 1

_READ_CHUNK = 1 << 20
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100
#: renameat2 syscall numbers, for C libraries without the wrapper (glibc < 2.28, musl).
_SYS_RENAMEAT2 = {"x86_64": 316, "aarch64": 276}
#: errno values meaning "this kernel or file system cannot exchange": use the fallback.
_EXCHANGE_UNSUPPORTED = {
    getattr(errno, name)
    for name in ("ENOSYS", "EINVAL", "EOPNOTSUPP", "ENOTSUP")
    if hasattr(errno, name)
}
#: Windows locks one byte far beyond the pid, so the pid stays readable by the loser.
_WINDOWS_LOCK_OFFSET = 1 << 20


# --------------------------------------------------------------------------- the lock


class _Lock:
    """An exclusive, non-blocking lock on ``.<name>.lock`` beside the target, holding the
    pid of its owner (for the loser's message)."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.path = target.parent / f".{target.name}.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`OutputError` naming the pid that holds it."""
        if fcntl is None and msvcrt is None:  # pragma: no cover - neither POSIX nor Windows
            self._fd = self._create_pid_file()
            return
        for _ in range(20):
            fd = self._open()
            if not self._try_lock(fd):
                holder = _read_pid(fd)
                os.close(fd)
                raise OutputError(_busy_message(holder, self.target))
            # The previous owner unlinks the file on release; if it did so between our open
            # and our lock, we hold a lock on a file nobody else sees: take the new one.
            if _is_file_at(fd, self.path):
                break
            os.close(fd)
        else:  # pragma: no cover - twenty runs finishing in between
            raise OutputError(f"could not lock {self.path}: it keeps being replaced")
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Release the lock (idempotent)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if fcntl is not None:
            # Unlinked while still held, so no run can lock it after us and miss a newer
            # file (see the check in acquire); a killed run leaves it, which is harmless.
            with contextlib.suppress(OSError):
                self.path.unlink()
        elif msvcrt is not None:
            with contextlib.suppress(OSError):
                os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        os.close(fd)  # closing the descriptor releases a flock
        if fcntl is None and msvcrt is None:  # pragma: no cover
            with contextlib.suppress(OSError):
                self.path.unlink()

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(
                f"cannot create the lock file {self.path} for {self.target}: "
                f"{exc.strerror}; choose another output directory or fix the permissions"
            ) from exc

    def _try_lock(self, fd: int) -> bool:
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EDEADLK):
                return False
            os.close(fd)
            raise OutputError(
                f"cannot lock {self.path} for {self.target}: {exc.strerror} (a file system "
                "without locks?); choose an output directory on a local disk"
            ) from exc
        return True

    def _create_pid_file(self) -> int:  # pragma: no cover - platforms without locks
        """Last resort: an O_EXCL pid file (a killed run leaves it; the message says so)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            fd = os.open(self.path, os.O_RDONLY)
            holder = _read_pid(fd)
            os.close(fd)
            raise OutputError(
                _busy_message(holder, self.target) + f" (if no run is going, delete {self.path})"
            ) from None
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd


def _busy_message(holder: int | None, target: Path) -> str:
    pid = "unknown" if holder is None else str(holder)
    return (
        f"another hexaccess run (pid {pid}) is writing to {target}; wait for it to finish "
        "or choose another output directory"
    )


def _read_pid(fd: int) -> int | None:
    """The pid written in a lock file; retried briefly because the owner writes it just
    after taking the lock."""
    for _ in range(5):
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode("ascii", "replace").strip()
        if text.isdigit():
            return int(text)
        time.sleep(0.01)
    return None


def _is_file_at(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


# ------------------------------------------------------------------ preparing a target


def prepare_output(
    target: str | os.PathLike[str], *, overwrite: bool = False, kind: str = "run"
) -> OutputDirectory:
    """Check an output directory *before* any computation, lock it and open a staging
    directory beside it.

    Parameters
    ----------
    target
        The directory the result goes to; created on commit if missing (its parents are
        created now).
    overwrite
        Replace a non-empty directory that holds no hexaccess manifest (a user's files;
        everything in it is deleted on commit). A previous hexaccess result is always
        replaced.
    kind
        What the output is (``"run"``, ``"report"``, ``"calibrate"``, ``"optimise"``,
        ``"matrix"``...); written to the manifest and checked by :func:`verify_output`.

    Raises
    ------
    OutputError
        The target is a file; its parent cannot be created or written; it holds files not
        from a hexaccess run and ``overwrite`` is false ("give --overwrite to replace
        it"); another process holds its lock ("another hexaccess run (pid N) is writing
        to DIR").

    Notes
    -----
    Staging and old directories left by killed runs of this target are removed (we hold
    the lock, so they are stale), and a previous result a killed run had moved aside is
    put back.
    """
    path = _resolve_target(target)
    _check_parent(path)
    lock = _Lock(path)
    lock.acquire()
    try:
        _clean_leftovers(path)
        _check_target_contents(path, overwrite)
        staging = _make_staging(path)
    except BaseException:
        lock.release()
        raise
    return OutputDirectory(path, staging, kind, lock)


def _resolve_target(target: str | os.PathLike[str]) -> Path:
    """Absolute target with symlinks resolved (a link to a directory replaces the real
    directory, in its own parent); refuses a file."""
    path = Path(target).expanduser().resolve()
    if path.parent == path:
        raise OutputError(f"{path} is the root of the file system; choose a directory in it")
    if path.exists() and not path.is_dir():
        raise OutputError(
            f"{path} is a file, not a directory; choose a new directory (or a previous "
            "hexaccess output) as the output, or remove the file"
        )
    return path


def _check_parent(path: Path) -> None:
    """Create the parent of the target and check it can take the staging directory."""
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = _first_file_ancestor(parent)
        why = f"{blocker} is a file" if blocker else exc.strerror
        raise OutputError(
            f"cannot create {parent}, the parent of the output directory {path}: {why}; "
            "choose another output directory"
        ) from exc
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write in {parent} (permission denied), where the output directory "
            f"{path.name} and its staging directory go; choose another output directory "
            "or fix the permissions"
        )


def _first_file_ancestor(path: Path) -> Path | None:
    """The first existing component of ``path`` that is not a directory, if any."""
    for ancestor in reversed((path, *path.parents)):
        if ancestor.exists() and not ancestor.is_dir():
            return ancestor
    return None


def _check_target_contents(path: Path, overwrite: bool) -> None:
    """Refuse a non-empty directory that is not wholly a hexaccess output unless
    ``overwrite``; refuse, even with ``overwrite``, a directory whose replacement would
    destroy what no output option should (:func:`_refuse_protected`)."""
    if not path.is_dir():
        return
    entries = sorted(os.listdir(path))
    if not entries or _is_hexaccess_output(path, entries):
        return
    _refuse_protected(path)
    if overwrite:
        return
    shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
    raise OutputError(
        f"{path} already holds files that are not from a hexaccess run ({shown}); give "
        "--overwrite to replace it (everything in it is deleted), or choose another directory"
    )


def _refuse_protected(path: Path) -> None:
    """``--overwrite`` deletes the whole directory: never for a file-system root or
    mount point, a shared directory with the sticky bit (``/tmp``), the home directory,
    or the working directory and its ancestors (a typo such as ``--out .`` or
    ``--out ..``). Such a target is refused with the reason; the user names a new
    sub-directory instead."""
    resolved = path.resolve()
    reasons = []
    if resolved == Path(resolved.anchor) or os.path.ismount(resolved):
        reasons.append("a file-system root or mount point")
    if resolved.stat().st_mode & stat.S_ISVTX:
        reasons.append("a shared directory (sticky bit, like /tmp)")
    home = Path.home().resolve() if "HOME" in os.environ else None
    if home is not None and resolved == home:
        reasons.append("the home directory")
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        reasons.append("the working directory or one of its parents")
    if reasons:
        raise OutputError(
            f"{path} is {' and '.join(reasons)}: an output replaces its whole directory, so "
            "hexaccess never writes one there, even with --overwrite; give a new "
            f"sub-directory, e.g. {path / 'hexaccess-out'}"
        )


def _is_hexaccess_output(path: Path, entries: list[str]) -> bool:
    """The directory is one hexaccess result: our manifest, and nothing beside the files
    it lists (a user's file added later makes it foreign again)."""
    try:
        manifest = read_manifest(path)
    except CorruptOutputError:
        return False
    if manifest is None:
        return False
    listed = {str(f.get("path", "")).split("/")[0] for f in manifest.get("files", [])}
    return set(entries) <= listed | {MANIFEST_NAME}


def _leftover_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(target.name)}\.(staging|old)-\d+-[0-9a-f]{{8}}")


def _clean_leftovers(target: Path) -> None:
    """Delete staging/old directories of killed runs; restore an old result a killed run
    had moved aside (fallback commit) but not yet replaced."""
    pattern = _leftover_pattern(target)
    found = [p for p in target.parent.iterdir() if pattern.fullmatch(p.name)]
    old = [p for p in found if pattern.fullmatch(p.name).group(1) == "old"]  # type: ignore[union-attr]
    if old and not os.path.lexists(target):
        newest = max(old, key=lambda p: p.stat().st_mtime)
        _rename(newest, target)
        found.remove(newest)
    for leftover in found:
        shutil.rmtree(leftover, ignore_errors=True)


def _sibling(target: Path, role: str) -> Path:
    """``.<name>.<role>-<pid>-<random>`` in the target's parent (same file system)."""
    return target.parent / f".{target.name}.{role}-{os.getpid()}-{secrets.token_hex(4)}"


def _make_staging(target: Path) -> Path:
    staging = _sibling(target, "staging")
    try:
        staging.mkdir()
    except OSError as exc:
        raise OutputError(
            f"cannot create the staging directory {staging} for {target}: {exc.strerror}"
        ) from exc
    return staging


# ------------------------------------------------------------------ the output itself


class OutputDirectory:
    """An output being written: files go into :attr:`staging`; :meth:`commit` moves them
    to :attr:`target` in one step, :meth:`abort` drops them.

    Made by :func:`prepare_output`. Also a context manager: leaving the ``with`` block
    without a commit (an exception or not) aborts, so the target stays as it was.
    """

    target: Path
    staging: Path
    kind: str

    def __init__(self, target: Path, staging: Path, kind: str, lock: _Lock) -> None:
        self.target = target
        self.staging = staging
        self.kind = kind
        self._lock = lock
        self._state = "open"

    def __repr__(self) -> str:
        return f"OutputDirectory({str(self.target)!r}, kind={self.kind!r}, {self._state})"

    def __enter__(self) -> OutputDirectory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._state == "open":
            self.abort()

    def file(self, name: str | os.PathLike[str]) -> Path:
        """Path of ``name`` (relative, subfolders allowed) in the staging directory, with
        its parent folders created."""
        self._require_open("write a file to")
        path = self.staging / _relative_name(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def commit(self, provenance: Mapping[str, Any] | None = None) -> list[Path]:
        """Write the manifest, flush everything to disk and move the staging directory
        into place atomically (the previous result is replaced and deleted). Releases the
        lock. Returns the final paths of the files, manifest last.

        ``provenance`` (inputs, settings, anything JSON can hold; paths and numpy values
        are converted) is stored under ``"provenance"`` in the manifest.
        """
        self._require_open("commit")
        try:
            names = _files_under(self.staging)
            _refuse_unwritable_entries(self.staging, names)
            entries = [_describe_and_sync(self.staging, name) for name in names]
            manifest = self._manifest(entries, provenance)
            _write_manifest(self.staging / MANIFEST_NAME, manifest)
            _sync_directories(self.staging)
            _move_into_place(self.staging, self.target)
        except BaseException:
            self.abort()
            raise
        self._state = "committed"
        self._lock.release()
        return [self.target / name for name in names] + [self.target / MANIFEST_NAME]

    def abort(self) -> None:
        """Delete the staging directory and release the lock; the target is untouched.
        Does nothing after a commit or a previous abort."""
        if self._state != "open":
            return
        self._state = "aborted"
        shutil.rmtree(self.staging, ignore_errors=True)
        self._lock.release()

    def _require_open(self, action: str) -> None:
        if self._state != "open":
            raise OutputError(
                f"cannot {action} {self.target}: this output was already {self._state}; "
                "call prepare_output again"
            )

    def _manifest(
        self, entries: list[dict[str, Any]], provenance: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "manifest_version": MANIFEST_VERSION,
            "kind": self.kind,
            "hexaccess_version": _hexaccess_version(),
            "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "provenance": dict(provenance or {}),
            "files": entries,
        }


def _relative_name(name: str | os.PathLike[str]) -> Path:
    """Check an output file name: relative, inside the directory, not the manifest."""
    relative = Path(name)
    if relative.anchor or ".." in relative.parts or not relative.parts:
        raise OutputError(
            f"output file name {os.fspath(name)!r} must be a relative path inside the output "
            "directory (not absolute, no '..')"
        )
    if relative.as_posix() == MANIFEST_NAME:
        raise OutputError(f"{MANIFEST_NAME} is written by commit(); choose another file name")
    return relative


def _files_under(root: Path) -> list[str]:
    """Relative POSIX paths of every entry under ``root`` that is not a directory (files,
    links), sorted, without the top-level manifest."""
    names = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder).relative_to(root)
        # Links to directories are not walked into (os.walk does not follow them): list
        # them as entries, so commit refuses them and verify_output reports them.
        linked = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        names.extend((base / f).as_posix() for f in [*files, *linked])
    return sorted(n for n in names if n != MANIFEST_NAME)


def _refuse_unwritable_entries(staging: Path, names: list[str]) -> None:
    """Outputs hold regular files only; the manifest is written by commit itself."""
    if (staging / MANIFEST_NAME).exists():
        raise OutputError(
            f"{staging / MANIFEST_NAME} was written by the caller; {MANIFEST_NAME} is "
            "reserved for commit()"
        )
    for name in names:
        if not stat.S_ISREG(os.lstat(staging / name).st_mode):
            raise OutputError(
                f"{staging / name} is not a regular file (a link?); outputs hold files only"
            )


def _describe_and_sync(root: Path, name: str) -> dict[str, Any]:
    """Manifest entry of one staged file, read once for size and hash; the file is
    fsynced so its data is on disk before the rename that publishes it."""
    digest = hashlib.sha256()
    size = 0
    # Windows flushes only handles opened for writing; POSIX fsyncs a read-only one.
    with open(root / name, "r+b" if os.name == "nt" else "rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            digest.update(chunk)
            size += len(chunk)
        os.fsync(handle.fileno())
    return {"path": name, "bytes": size, "sha256": digest.hexdigest()}


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, ensure_ascii=False, default=_jsonable) + "\n"
    with open(path, "xb") as handle:
        handle.write(text.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())


def _jsonable(value: Any) -> Any:
    """JSON form of provenance values json does not know (paths, numpy, sets, times)."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    return str(value)


def _hexaccess_version() -> str:
    # From the installed metadata, not hexaccess.__version__: this module must not import
    # the package's top level (it sits in the engine layer).
    try:
        return version("hexaccess")
    except PackageNotFoundError:
        return "0+unknown"


def _sync_directories(root: Path) -> None:
    """fsync every directory under ``root`` (their entries), deepest first."""
    for folder, _dirs, _files in os.walk(root, topdown=False):
        _fsync_directory(Path(folder))


def _fsync_directory(path: Path) -> None:
    if os.name == "nt":  # directories cannot be opened (nor need syncing) on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------ the atomic move


def _move_into_place(staging: Path, target: Path) -> None:
    """Publish ``staging`` as ``target``: an atomic exchange where the system has one,
    otherwise old aside, new in, old deleted."""
    if not os.path.lexists(target):
        _rename(staging, target)
        _fsync_directory(target.parent)
        return
    if _exchange(staging, target):
        _fsync_directory(target.parent)
        shutil.rmtree(staging, ignore_errors=True)  # the staging path now holds the old result
        return
    old = _sibling(target, "old")
    _rename(target, old)
    try:
        _rename(staging, target)
    except BaseException:
        os.rename(old, target)
        raise
    _fsync_directory(target.parent)
    shutil.rmtree(old, ignore_errors=True)


def _rename(source: Path, destination: Path) -> None:
    try:
        os.rename(source, destination)
    except OSError as exc:
        raise OutputError(f"cannot move {source} to {destination}: {exc.strerror}") from exc


def _exchange(staging: Path, target: Path) -> bool:
    """Swap two directories in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False
    where the system or file system cannot."""
    call = _renameat2()
    if call is None:
        return False
    result = call(_AT_FDCWD, os.fsencode(staging), _AT_FDCWD, os.fsencode(target), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in _EXCHANGE_UNSUPPORTED:
        return False
    raise OutputError(f"cannot swap {staging} into {target}: {os.strerror(code)}")


@functools.lru_cache(maxsize=1)
def _renameat2() -> Callable[..., int] | None:
    """``renameat2`` from the C library, or the raw syscall, or None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover
        return None
    types = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    wrapper = getattr(libc, "renameat2", None)
    if wrapper is not None:
        wrapper.argtypes = types
        wrapper.restype = ctypes.c_int
        return wrapper
    number = _SYS_RENAMEAT2.get(platform.machine())  # pragma: no cover - old C libraries
    if number is None:  # pragma: no cover
        return None
    syscall = libc.syscall  # pragma: no cover
    syscall.restype = ctypes.c_long  # pragma: no cover
    return functools.partial(_raw_renameat2, syscall, number)  # pragma: no cover


def _raw_renameat2(  # pragma: no cover - C libraries without the wrapper
    syscall: Any, number: int, olddir: int, old: bytes, newdir: int, new: bytes, flags: int
) -> int:
    return int(
        syscall(
            ctypes.c_long(number),
            ctypes.c_int(olddir),
            ctypes.c_char_p(old),
            ctypes.c_int(newdir),
            ctypes.c_char_p(new),
            ctypes.c_uint(flags),
        )
    )


# ------------------------------------------------------------------ reading back


def read_manifest(directory: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The manifest of an output directory, or None when it has none.

    Raises :class:`CorruptOutputError` when ``manifest.json`` is there but is not valid
    JSON or not a hexaccess manifest.
    """
    path = Path(directory) / MANIFEST_NAME
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise CorruptOutputError(
            f"{path} is not valid JSON ({exc}); the output is damaged: rerun the command "
            "that wrote it"
        ) from exc
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != MANIFEST_FORMAT
        or not isinstance(manifest.get("files"), list)
    ):
        raise CorruptOutputError(
            f"{path} is not a hexaccess manifest (no format {MANIFEST_FORMAT!r} with a list "
            "of files); this directory was not written by hexaccess"
        )
    return manifest


def verify_output(directory: str | os.PathLike[str], *, kind: str | None = None) -> dict[str, Any]:
    """Check a directory against its manifest and return the manifest.

    Every listed file must be present with its size and SHA-256, no unlisted file may be
    there, and the kind must be ``kind`` when given. Raises :class:`CorruptOutputError`
    naming the first file that does not match (or the missing manifest).
    """
    root = Path(directory)
    manifest = read_manifest(root)
    if manifest is None:
        raise CorruptOutputError(
            f"{root} has no {MANIFEST_NAME}: not a complete hexaccess output (an "
            "interrupted run, or files from elsewhere); rerun the command that writes it"
        )
    if kind is not None and manifest.get("kind") != kind:
        raise CorruptOutputError(
            f"{root / MANIFEST_NAME} describes a {manifest.get('kind')!r} output, not "
            f"{kind!r}; choose the directory of a {kind!r} run"
        )
    listed = set()
    for number, entry in enumerate(manifest["files"]):
        name = _listed_name(root, number, entry)
        _check_listed_file(root / name, entry)
        listed.add(name)
    for name in _files_under(root):
        if name not in listed:
            raise CorruptOutputError(
                f"{root / name} is not listed in {root / MANIFEST_NAME}: added after the run "
                "or left from another one; remove it or rerun the command"
            )
    return manifest


def _listed_name(root: Path, number: int, entry: Any) -> str:
    """The relative path of a manifest entry, checked to stay inside ``root``."""
    ok = (
        isinstance(entry, dict)
        and isinstance(entry.get("path"), str)
        and isinstance(entry.get("bytes"), int)
        and isinstance(entry.get("sha256"), str)
    )
    name = PurePosixPath(entry["path"]) if ok else None
    if name is None or name.is_absolute() or ".." in name.parts or not name.parts:
        raise CorruptOutputError(
            f"{root / MANIFEST_NAME}: file entry {number} is malformed ({entry!r}); the "
            "output is damaged: rerun the command that wrote it"
        )
    return name.as_posix()


def _check_listed_file(path: Path, entry: dict[str, Any]) -> None:
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise CorruptOutputError(
            f"{path} is missing (listed in the manifest); rerun the command that wrote it"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise CorruptOutputError(f"{path} is not a regular file (the manifest lists a file)")
    if info.st_size != entry["bytes"]:
        raise CorruptOutputError(
            f"{path} has {info.st_size} bytes, the manifest says {entry['bytes']}: truncated "
            "or changed; rerun the command that wrote it"
        )
    if _sha256(path) != entry["sha256"]:
        raise CorruptOutputError(
            f"{path} does not match its SHA-256 in the manifest: the file was changed; "
            "rerun the command that wrote it"
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
