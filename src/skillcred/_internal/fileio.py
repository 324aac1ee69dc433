"""Files that are never half-written, and JSON that is never trusted.

* :func:`atomic_write` writes a temp file in the same folder, fsyncs it, renames it over the
  target and fsyncs the folder: a crash leaves either the old file or the new one.
* :func:`locked` serialises writers of one store across processes (``flock`` on a lock file).
* :func:`load_json_file` / :func:`parse_json` bound the input size and nesting depth, so a
  hostile file fails fast with a one-line message instead of eating memory or the stack.
* :func:`open_input` / :func:`read_bounded` are how every input file is read: only a regular
  file (a FIFO, a device or a socket given as a file would block or never end), never more
  than a limit whatever ``stat`` says, optionally never through a symbolic link.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from skillcred._internal import strictjson
from skillcred.errors import MalformedDocument, SkillcredError, StoreError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: Largest JSON document skillcred reads (a presentation with many credentials is < 1 MB).
MAX_JSON_BYTES = 8 * 1024 * 1024
#: Deepest nesting accepted; real credentials nest < 15 levels.
MAX_JSON_DEPTH = 64
#: Largest key, passphrase or token file (an encrypted P-384 PKCS#8 PEM is < 1 KB).
MAX_SECRET_BYTES = 64 * 1024


#: Hidden temp files of :func:`atomic_write` start with this (then the writer's pid): a run
#: killed between writing and renaming leaves one behind, holding signed personal data.
TEMP_PREFIX = ".skillcred-tmp-"
TEMP_SUFFIX = ".tmp"
#: A temp file older than this whose writer process is gone is removed by the next writer
#: in that folder. A live writer's temp file exists for milliseconds; the age guards against
#: a writer on another host sharing the folder (whose pid means nothing here).
STALE_TEMP_AGE = 300.0
_cleaned_folders: set[tuple[int, int]] = set()


def temp_name(target: Path) -> str:
    """A name prefix for a temp file next to ``target``: recognisable (:data:`TEMP_PREFIX`),
    with this process's pid (see :func:`clean_stale_temps`), short enough for any name."""
    return f"{TEMP_PREFIX}{os.getpid()}-{target.name[:80]}."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # a process of another account (or a nonsense pid): keep its file
    return True


def clean_stale_temps(folder: str | os.PathLike[str], *, now: float | None = None) -> list[str]:
    """Remove the temp files a killed writer left in ``folder``; returns the names removed.

    A temp file is stale when its name carries a pid that is no longer a running process
    *and* it was last modified more than :data:`STALE_TEMP_AGE` seconds ago: the pid keeps
    the file of a concurrent writer on this host, the age that of a writer elsewhere (a
    shared folder). Only regular files are removed (a link named like one is left alone).
    Done once per folder per process: a batch writing thousands of files scans it once.
    Never fails: cleaning is a courtesy, not a precondition of writing.
    """
    import time

    path = Path(folder) if str(folder) else Path(".")
    removed: list[str] = []
    try:
        st = os.stat(path)
        key = (st.st_dev, st.st_ino)
        if key in _cleaned_folders and now is None:
            return removed
        _cleaned_folders.add(key)
        names = [n for n in os.listdir(path) if n.startswith(TEMP_PREFIX) and n.endswith(TEMP_SUFFIX)]
    except OSError:
        return removed
    clock = time.time() if now is None else now
    for name in names:
        pid_text = name[len(TEMP_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit():
            continue
        try:
            lst = os.lstat(path / name)
            if not stat.S_ISREG(lst.st_mode) or clock - lst.st_mtime < STALE_TEMP_AGE:
                continue
            if int(pid_text) != os.getpid() and _pid_alive(int(pid_text)):
                continue
            os.unlink(path / name)
            removed.append(name)
        except OSError:
            continue
    return removed


_WRITE_PROBLEMS = {
    errno.ENOSPC: "the disk is full (no space left on device)",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied (the folder or file is not writable)",
    errno.EPERM: "permission denied (the folder or file is not writable)",
}


def write_problem(exc: OSError) -> str:
    """What a failed write means for the user ("the disk is full"), not only errno's text."""
    return _WRITE_PROBLEMS.get(exc.errno or 0) or exc.strerror or str(exc)


def _write_through(target: Path, data: bytes) -> None:
    """Write ``data`` into an existing file that is not a regular file (a FIFO, a terminal,
    ``/dev/stdout``, ``/dev/null``): it must stay what it is, so no temp file and no rename."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise StoreError(f"cannot write here: {write_problem(exc)}", path=str(target)) from exc
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise StoreError(f"cannot write: {write_problem(exc)}", path=str(target)) from exc
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644,
                 follow_symlinks: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically and durably, with permission ``mode``.

    Atomic replacement (temp file, fsync, rename, fsync of the folder) is for regular files
    and new paths only. A symbolic link is followed and its target written (the link stays a
    link); a FIFO, a terminal or a device (``/dev/stdout``, ``/dev/null``) is written through,
    never replaced by a regular file; a directory is refused. Temp files are named
    :func:`temp_name`, and stale ones a killed run left in the folder are removed first
    (:func:`clean_stale_temps`).

    ``follow_symlinks=False`` is for a store's own files (a wallet's credentials and index),
    where only regular files physically in the folder count: whatever is at ``path`` -- a
    link, a FIFO -- is then replaced by a regular file, never followed or written through.
    """
    target = Path(path)
    if not follow_symlinks:
        _replace_atomically(target, data, mode)
        return
    try:
        st: os.stat_result | None = os.stat(target)  # follows a link: judge what it points at
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise StoreError(f"cannot write here: {exc.strerror}", path=str(target)) from exc
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise StoreError("is a directory, not a file", path=str(target))
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_through(target, data)
        return
    if target.is_symlink():  # to a regular file or to nothing yet: replace the target, keep the link
        target = Path(os.path.realpath(target))
    _replace_atomically(target, data, mode)


def _replace_atomically(target: Path, data: bytes, mode: int) -> None:
    """Temp file in the same folder, fsync, rename over ``target``, fsync the folder."""
    folder = target.parent if str(target.parent) else Path(".")
    clean_stale_temps(folder)
    import tempfile  # here, not at the top: reading commands (verify) never write a file

    try:
        fd, tmp_name = tempfile.mkstemp(prefix=temp_name(target), suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise StoreError(f"cannot write here: {write_problem(exc)}", path=str(target)) from exc
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError):  # a full disk mid-write: one line naming the file; the old one is intact
            raise StoreError(f"cannot write: {write_problem(exc)}; the file was left as it was",
                             path=str(target)) from exc
        raise
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError as exc:  # some filesystems refuse fsync on a directory
        if exc.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(dfd)


@contextlib.contextmanager
def locked(lock_path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive inter-process lock on ``lock_path`` (created if missing)."""
    path = Path(lock_path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot open lock file: {exc.strerror}", path=str(path)) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 1, ``{"a": 1}`` is 2), exact up to
    ``limit``; above it, some number greater than ``limit``.

    Recursive, but never more than ``limit`` frames deep (it stops descending once the limit
    is passed), so hostile nesting cannot exhaust the stack. Scalars, the bulk of any
    document, cost one exact type test (``isinstance`` against ``dict | list`` was most of the
    walk); anything else, subclasses included, is judged by ``isinstance`` as before.
    """
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return 1
    if not children:
        return 1
    if limit <= 1:
        return 2
    deepest = 1
    for child in children:
        tc = type(child)
        if tc is str or tc is int or tc is bool or tc is float or child is None:
            continue
        if tc is dict or tc is list or isinstance(child, dict | list):
            d = _depth(child, limit - 1)
            if d > deepest:
                deepest = d
                if deepest > limit - 1:
                    break
    return deepest + 1


def copy_json(value: Any) -> Any:
    """A deep copy of a parsed JSON value (dicts, lists and immutable scalars).

    What ``copy.deepcopy`` does for such values, several times faster: no memo, no dispatch
    on types that JSON cannot hold. Anything else (a tuple, a datetime...) is shared, not copied.
    """
    if isinstance(value, dict):
        return {k: copy_json(v) if isinstance(v, dict | list) else v for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) if isinstance(v, dict | list) else v for v in value]
    return value


def check_depth(value: Any, *, max_depth: int = MAX_JSON_DEPTH, source: str | None = None) -> None:
    """Refuse a parsed value nested deeper than ``max_depth`` (library entry points call this
    so that recursion in JSON-LD processing or copying can never blow the stack)."""
    if _depth(value, max_depth) > max_depth:
        raise MalformedDocument(f"document nests deeper than {max_depth} levels", path=source)


def parse_json(
    data: bytes | str,
    *,
    source: str = "<input>",
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """Parse JSON with size and depth limits, strictly (:mod:`.strictjson`: UTF-8 only, no
    duplicate names, no NaN/Infinity); errors name ``source``."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data  # refused below
    if len(raw) > max_bytes:
        raise MalformedDocument(
            f"input is {len(raw):,} bytes, larger than the {max_bytes:,}-byte limit", path=source
        )
    # A cheap pre-check: the decoder recurses per nesting level, so refuse absurd nesting
    # before handing it over (counting brackets over-estimates depth, which is safe).
    depth = 0
    peak = 0
    in_string = False
    escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            peak = max(peak, depth)
            if peak > max_depth:
                raise MalformedDocument(
                    f"JSON nests deeper than {max_depth} levels", path=source
                )
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return strictjson.loads(raw, source=source)


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, for a message."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def _not_regular(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    return f"is {_kind(mode)}, not a regular file"


@contextlib.contextmanager
def open_input(
    path: str | os.PathLike[str],
    *,
    max_bytes: int,
    what: str = "file",
    error: type[SkillcredError] = MalformedDocument,
    follow_symlinks: bool = True,
) -> Iterator[tuple[BinaryIO, os.stat_result]]:
    """Open an input file for reading: a regular file only, at most ``max_bytes`` long.

    The file is opened with ``O_NONBLOCK | O_NOCTTY`` (so a FIFO without a writer, a terminal
    or a device cannot block the open) and checked with ``fstat`` on the open descriptor
    (so what is checked is what is read), *before* anything is read. A size over the limit is
    refused from ``fstat``; the stream yielded refuses to read past the limit too, for a file
    that grows or whose size is not what ``stat`` says. With ``follow_symlinks=False`` a
    symbolic link is refused (``O_NOFOLLOW``): for files that must be physically in a folder.

    Yields the stream and the ``fstat`` result; every failure is one ``error`` naming ``path``
    (``what`` names the file in "... not found" / "cannot read ...").
    """
    name = str(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise error(f"{what} not found", path=name) from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise error("is a symbolic link; only a regular file is accepted here", path=name) from exc
        message = f"cannot read {what}: {exc.strerror}"
        if exc.errno == errno.ENXIO:  # a socket (or a device without its driver): say which
            with contextlib.suppress(OSError):
                message = _not_regular(os.stat(path).st_mode)
        raise error(message, path=name) from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(_not_regular(st.st_mode), path=name)
        if st.st_size > max_bytes:
            raise error(f"{what} is {st.st_size:,} bytes, larger than the {max_bytes:,}-byte limit", path=name)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        raw = io.FileIO(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise
    limited = _LimitedReader(raw, max_bytes, lambda: error(
        f"{what} is larger than the {max_bytes:,}-byte limit", path=name))
    with io.BufferedReader(limited) as stream:
        try:
            yield stream, st
        except OSError as exc:  # a read failed (EIO, a file system gone away)
            raise error(f"cannot read {what}: {exc.strerror}", path=name) from exc


class _LimitedReader(io.RawIOBase):
    """A raw stream that raises (``make_error()``) once more than ``limit`` bytes were read."""

    def __init__(self, raw: io.FileIO, limit: int, make_error: Callable[[], SkillcredError]) -> None:
        super().__init__()
        self._raw = raw
        self._left = limit
        self._make_error = make_error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        # ask for one byte more than allowed at most: enough to notice a file that is too long
        n = self._raw.readinto(view[: max(0, min(len(view), self._left + 1))]) or 0
        self._left -= n
        if self._left < 0:
            raise self._make_error()
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def read_at_most(
    stream: BinaryIO,
    max_bytes: int,
    *,
    source: str,
    what: str = "input",
    error: type[SkillcredError] = MalformedDocument,
) -> bytes:
    """All of ``stream`` (standard input, a pipe...), but never more than ``max_bytes`` + 1
    bytes in memory: past the limit it is one ``error`` naming ``source``."""
    chunks: list[bytes] = []
    left = max_bytes + 1
    while left > 0:
        chunk = stream.read(min(left, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    if left <= 0:
        raise error(f"{what} is larger than the {max_bytes:,}-byte limit", path=source)
    return b"".join(chunks)


def read_bounded(
    path: str | os.PathLike[str],
    *,
    max_bytes: int,
    what: str = "file",
    error: type[SkillcredError] = MalformedDocument,
    follow_symlinks: bool = True,
) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see :func:`open_input`)."""
    with open_input(path, max_bytes=max_bytes, what=what, error=error, follow_symlinks=follow_symlinks) as (fh, _):
        return read_at_most(fh, max_bytes, source=str(path), what=what, error=error)


def load_json_file(
    path: str | os.PathLike[str], *, max_bytes: int = MAX_JSON_BYTES, follow_symlinks: bool = True
) -> Any:
    """Read and parse a JSON file; a missing, unreadable, oversized or not regular file (a
    FIFO, a device) is one clear error, found before anything is read."""
    raw = read_bounded(path, max_bytes=max_bytes, follow_symlinks=follow_symlinks)
    return parse_json(raw, source=str(path), max_bytes=max_bytes)


def load_json_object(path: str | os.PathLike[str], *, follow_symlinks: bool = True) -> dict[str, Any]:
    """Like :func:`load_json_file` but the top level must be a JSON object."""
    value = load_json_file(path, follow_symlinks=follow_symlinks)
    if not isinstance(value, dict):
        raise MalformedDocument("expected a JSON object at the top level", path=str(path))
    return value


def dump_json(value: Any) -> bytes:
    """The project's on-disk JSON form: UTF-8, 2-space indent, trailing newline."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
