"""Files that are never half-written, and JSON that is never trusted.

* :func:`atomic_write` writes a temp file in the same folder, fsyncs it, renames it over the
  target and fsyncs the folder: a crash leaves either the old file or the new one.
* :func:`locked` serialises writers of one store across processes (``flock`` on a lock file).
* :func:`load_json_file` / :func:`parse_json` bound the input size and nesting depth, so a
  hostile file fails fast with a one-line message instead of eating memory or the stack.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillcred._internal import strictjson
from skillcred.errors import MalformedDocument, StoreError

#: Largest JSON document skillcred reads (a presentation with many credentials is < 1 MB).
MAX_JSON_BYTES = 8 * 1024 * 1024
#: Deepest nesting accepted; real credentials nest < 15 levels.
MAX_JSON_DEPTH = 64


def atomic_write(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` atomically and durably, with permission ``mode``."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise StoreError(f"cannot write here: {exc.strerror}", path=str(target)) from exc
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
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
    document, cost one type check.
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
        if isinstance(child, dict | list):
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


def load_json_file(
    path: str | os.PathLike[str], *, max_bytes: int = MAX_JSON_BYTES
) -> Any:
    """Read and parse a JSON file; a missing, unreadable or oversized file is one clear error."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError as exc:
        raise MalformedDocument("file not found", path=str(p)) from exc
    except OSError as exc:
        raise MalformedDocument(f"cannot read file: {exc.strerror}", path=str(p)) from exc
    if size > max_bytes:
        raise MalformedDocument(
            f"file is {size:,} bytes, larger than the {max_bytes:,}-byte limit", path=str(p)
        )
    try:
        raw = p.read_bytes()
    except IsADirectoryError as exc:
        raise MalformedDocument("is a directory, not a file", path=str(p)) from exc
    except OSError as exc:
        raise MalformedDocument(f"cannot read file: {exc.strerror}", path=str(p)) from exc
    return parse_json(raw, source=str(p), max_bytes=max_bytes)


def load_json_object(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Like :func:`load_json_file` but the top level must be a JSON object."""
    value = load_json_file(path)
    if not isinstance(value, dict):
        raise MalformedDocument("expected a JSON object at the top level", path=str(path))
    return value


def dump_json(value: Any) -> bytes:
    """The project's on-disk JSON form: UTF-8, 2-space indent, trailing newline."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
