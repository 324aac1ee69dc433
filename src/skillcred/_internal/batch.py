"""Batch issuance on every core: signing in worker processes, the registry in this one.

:meth:`skillcred.issuer.Issuer.issue_batch` hands big rosters here. The work per credential
splits in two:

* *building and signing* (the OpenBadgeCredential model, its JSON Schema check, canonicalizing,
  signing, serializing): CPU-bound, independent per credential, done by a process pool;
* *the registry* (row-key check, status index allocation, the record itself) and writing the
  files: done here, in the parent, in the same order as the serial path.

Chunks of rows go through :meth:`skillcred.registry.Registry.issue_many`: one transaction per
chunk allocates the status indexes, the pool signs the chunk, the records are inserted and the
transaction commits; only then are the chunk's files written (by a small thread pool, which
overlaps their syncing with signing the next chunk). A crash leaves each credential of a chunk
either complete (record + indexes) or absent, exactly as one transaction per credential did;
a re-run issues what is missing (row keys make it idempotent). A credential file is never
written before its record is committed.

While a chunk is signed, a thread of this process plans the next one (:func:`prefetch`: the
rows read, checked and given their ids, exactly as a plain loop would), so the workers do not
wait for it; and a batch that hands no documents back gets each from its worker as the JSON
text the registry stores (:class:`skillcred._internal.registry_types.EncodedDocument`), not as an object to
unpickle and encode again.

For very large batches the credentials can go to one JSON Lines archive instead of one file
each (:class:`Archive`, ``issue_batch(..., archive=True)``, ``skillcred issue --batch --jsonl``):
a chunk's lines are appended and synced once, and a journal next to the archive records, after
each synced chunk, how many bytes of it are complete. A re-run (or any later open) cuts the
archive back to the journaled length, which drops a torn or unsynced tail, and appends what the
registry holds but the archive lacks; so again a credential is in the archive exactly once, and
never before its record is committed.

Workers are forked when this process has no other thread, and all of them are started before
the file-writing threads exist (so no lock is inherited held; a forked worker never touches
the inherited SQLite connection and leaves with ``os._exit``, as multiprocessing workers do).
Otherwise they come from ``forkserver`` (``spawn`` where that does not exist), which needs
the usual ``if __name__ == "__main__":`` guard in a calling script.

This module knows nothing of the issuer role (it does not import :mod:`skillcred.issuer`):
the caller hands :class:`Pools` a *signer factory*, a module-level (so picklable) function,
and its picklable arguments (for the issuer: the folder, the profile and the signing key).
Each worker calls it once, when it starts, and signs every job with the :data:`Signer` it
returns.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import sqlite3
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillcred._internal.fileio import TEMP_SUFFIX, atomic_write, clean_stale_temps, dump_json, temp_name
from skillcred._internal.fileio import _fsync_dir as fsync_dir
from skillcred.errors import SkillcredError, StoreError

if TYPE_CHECKING:  # pragma: no cover
    from skillcred._internal.registry_types import Allocation, EncodedDocument
    from skillcred.models import AchievementDefinition

__all__ = ["ARCHIVE_NAME", "CHUNK_ROWS", "MIN_PARALLEL_ROWS", "Archive", "BuildJob", "KeyLog", "Pools", "Signer",
           "archive_line", "default_workers", "fork_map", "prefetch", "run_chunks"]

#: Rows per registry transaction (and per progress update). The workers idle while a chunk
#: commits (a synced WAL write, ~4 ms on a VM disk); 512 rows keep that near 3 % of a chunk and
#: the chunk's documents in flight a few megabytes. (1,024 rows write 16 % less to the registry
#: per row at 100,000 credentials, since a chunk's random ids and status indexes dirty about one
#: index page per row and index whatever its size, and halve the commits; but the parent's
#: memory then rose 104 -> 119 MiB over a 50,000-row run instead of staying flat, so not yet.)
CHUNK_ROWS = 512
#: Below this many rows a batch stays serial: starting the workers costs more than it saves.
MIN_PARALLEL_ROWS = 200
#: Threads writing credential files (one chunk each; I/O-bound).
WRITE_THREADS = 2


def default_workers() -> int:
    """Every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def _context(preload: Sequence[str] = ()) -> Any:
    """``fork`` when this process has no other thread (no lock can be inherited held, and a
    script need not guard its main module), else ``forkserver`` (importing ``preload``, the
    signer's module, once for every worker), else ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([*preload, "skillcred._internal.batch"])
        return ctx
    return multiprocessing.get_context("spawn")


def _ready() -> int:
    return os.getpid()


@dataclass(frozen=True)
class BuildJob:
    """What a worker needs to build and sign one credential (all picklable)."""

    definition: int  # index into the definitions sent with the chunk
    credential_id: str
    subject: str
    name: str | None
    level: str | None
    evidence: Any  # EvidenceInput
    valid_from: Any  # datetime
    valid_until: Any  # datetime | None
    allocations: tuple[Allocation, ...]


#: Builds, validates and signs one job's credential in a worker (raises SkillcredError or
#: ValueError for a row that cannot be issued, which is reported on that row).
Signer = Callable[["AchievementDefinition", BuildJob], dict[str, Any]]

# -- worker side ---------------------------------------------------------------------------------

_SIGNER: Signer | None = None


def _die_with_parent(parent: int) -> None:
    """Linux: have the kernel kill this worker when the batch's process dies (a crash, kill -9),
    instead of leaving it blocked forever on a pipe whose other end it inherited."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError, ImportError):  # not Linux
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _init_worker(make_signer: Callable[..., Signer], signer_args: tuple[Any, ...], fast_jsonld: bool,
                 parent: int | None = None) -> None:
    global _SIGNER
    if parent is not None:
        _die_with_parent(parent)
    from skillcred._internal import jsonld

    jsonld.set_fast_path(fast_jsonld)
    _SIGNER = make_signer(*signer_args)


def _build_many(
    definitions: dict[int, AchievementDefinition], jobs: Sequence[BuildJob], compact: bool = False,
    encoded: bool = False,
) -> list[tuple[dict[str, Any] | EncodedDocument, bytes] | tuple[None, _BuildFailed]]:
    """Build, validate and sign each job: ``(document, file bytes)`` or ``(None, error message)``;
    the bytes are an archive line (:func:`archive_line`) when ``compact``, else a file. With
    ``encoded`` the document comes back as the registry's JSON text (an archive line is that
    text already): a string crosses the pipe for less than the object, and the parent stores
    it without encoding it again."""
    from skillcred._internal.registry_types import EncodedDocument

    assert _SIGNER is not None, "worker not initialized"
    out: list[tuple[dict[str, Any] | EncodedDocument, bytes] | tuple[None, _BuildFailed]] = []
    for job in jobs:
        try:
            doc = _SIGNER(definitions[job.definition], job)
        except (SkillcredError, ValueError) as exc:  # what the serial path reports per row
            # its code and field cross the pipe too: the parent's front end words the message
            # as it does a serial row's ("needs --level" on the command line)
            code, field = (exc.code, exc.field) if isinstance(exc, SkillcredError) else (None, None)
            out.append((None, _BuildFailed(str(exc), code, field)))
            continue
        data = archive_line(doc) if compact else dump_json(doc)
        if not encoded:
            out.append((doc, data))
        elif compact:
            out.append((EncodedDocument(data[:-1].decode("utf-8")), data))  # the line without its "\n"
        else:
            out.append((EncodedDocument(json.dumps(doc, ensure_ascii=False)), data))
    return out


# -- parent side ---------------------------------------------------------------------------------


class _BuildFailed(Exception):  # carries a row's message back through the registry
    """A row that could not be built (bad level, schema violation...): reported, not recorded.
    Made in a worker and pickled to the parent (its ``args`` are what it is rebuilt from), with
    the error's ``code`` and ``field`` (see ``SkillcredError.field``) beside the message."""

    def __init__(self, message: str, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message, code, field)
        self.message = message
        self.code = code
        self.field = field

    def __str__(self) -> str:
        return self.message


class Pools:
    """The worker processes and file-writing threads of one batch.

    ``make_signer(*signer_args)`` runs once in each worker and returns its :data:`Signer`;
    both must pickle (a module-level function and plain data) when workers are not forked.
    """

    def __init__(self, make_signer: Callable[..., Signer], signer_args: tuple[Any, ...], workers: int, *,
                 compact: bool = False, encoded: bool = False) -> None:
        from skillcred._internal import jsonld

        self.workers = workers
        self.compact = compact
        self.encoded = encoded  # documents come back as EncodedDocument (see _build_many)
        context = _context([make_signer.__module__])
        forked = context.get_start_method() == "fork"  # else the parent is the fork server
        self.processes = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker,
            initargs=(make_signer, signer_args, jsonld.fast_path_enabled(), os.getpid() if forked else None),
        )
        # start every worker now, before any thread of ours exists (see the module docstring)
        for f in [self.processes.submit(_ready) for _ in range(workers)]:
            f.result()
        self.threads = ThreadPoolExecutor(max_workers=WRITE_THREADS, thread_name_prefix="skillcred-write")

    def close(self) -> None:
        self.threads.shutdown(wait=True)
        self.processes.shutdown(wait=True, cancel_futures=True)

    def build(
        self, definitions: dict[int, AchievementDefinition], jobs: list[BuildJob]
    ) -> Iterator[tuple[dict[str, Any] | EncodedDocument, bytes] | tuple[None, _BuildFailed]]:
        """Sign ``jobs`` on every worker; yields the results in job order as they arrive."""
        if not jobs:
            return
        # a few pieces per worker: even load, few round trips, and results arrive early
        pieces = max(1, min(len(jobs), self.workers * 4))
        size = -(-len(jobs) // pieces)
        futures = [self.processes.submit(_build_many, definitions, jobs[i:i + size], self.compact, self.encoded)
                   for i in range(0, len(jobs), size)]
        try:
            for f in futures:
                yield from f.result()
        finally:
            for f in futures:
                f.cancel()

    def write_many(self, folder: Path, files: list[tuple[Path, bytes]]) -> list[Future[None]]:
        """Write a chunk's files in the background; durable once the future is done."""
        if not files:
            return []
        return [self.threads.submit(_write_files, folder, files)]

    def append_many(self, archive: Archive, lines: list[tuple[str, bytes]]) -> list[Future[None]]:
        """Append a chunk's lines to ``archive`` in the background; durable once done."""
        if not lines:
            return []
        return [self.threads.submit(archive.append, lines)]


# -- keys seen so far, off the heap ----------------------------------------------------------------


class KeyLog:
    """Keys (with a number each) seen so far in a batch, kept in a private temporary SQLite
    database rather than in a Python set or dict.

    A batch has to remember every row key of its roster (a repeated key is refused) and every
    id in its archive (a credential goes in once): in a dict that is the one part of the
    parent's memory that grows with the roster, ~300 bytes a row (30 MB per 100,000). SQLite's
    temporary database keeps at most ``cache_kib`` of it in memory and the rest in a file
    that is deleted when the log is closed (or when the process dies: the file is unlinked
    as soon as it is made), so memory stays flat however long the roster. Keys are exact (the
    UTF-8 bytes of the string, lone surrogates included), not digests. A lookup or an insert
    is one B-tree step, a few microseconds. One thread at a time (the caller serializes).
    """

    def __init__(self, cache_kib: int = 2048) -> None:
        # "" is SQLite's private temporary database: on disk, beyond its page cache
        self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        with self._failing():
            self._db.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute("CREATE TABLE keys (k BLOB PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID")
        self._count = 0

    @staticmethod
    @contextlib.contextmanager
    def _failing() -> Iterator[None]:
        """SQLite's errors (the temporary folder full or not writable) as a StoreError."""
        try:
            yield
        except sqlite3.Error as exc:
            import tempfile

            raise StoreError(f"cannot keep the batch's row keys in the temporary folder: {exc}",
                             path=tempfile.gettempdir()) from exc

    @staticmethod
    def _bytes(key: str) -> bytes:
        return key.encode("utf-8", "surrogatepass")

    def add(self, key: str, value: int = 0) -> int | None:
        """Record ``key`` with ``value``; if it was already there, keep the first and return
        its value (else None)."""
        k = self._bytes(key)
        with self._failing():
            if self._db.execute("INSERT OR IGNORE INTO keys VALUES (?, ?)", (k, value)).rowcount:
                self._count += 1
                return None
            row = self._db.execute("SELECT v FROM keys WHERE k = ?", (k,)).fetchone()
        return int(row[0])

    def update(self, keys: Iterable[str]) -> None:
        """Record each of ``keys`` (value 0); those already there stay as they are."""
        before = self._db.total_changes
        with self._failing():
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT OR IGNORE INTO keys VALUES (?, 0)", ((self._bytes(k),) for k in keys))
            finally:
                self._db.execute("COMMIT")
        self._count += self._db.total_changes - before

    def __contains__(self, key: str) -> bool:
        with self._failing():
            return self._db.execute("SELECT 1 FROM keys WHERE k = ?", (self._bytes(key),)).fetchone() is not None

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        self._db.close()


# -- the JSON Lines archive ----------------------------------------------------------------------

#: The archive's file name inside the batch's output folder (its journal: ``<name>.journal``).
ARCHIVE_NAME = "credentials.jsonl"


def archive_line(document: dict[str, Any]) -> bytes:
    """One credential as an archive line: compact UTF-8 JSON (a newline inside a string is
    escaped, so the line holds no other) and ``\n``."""
    return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


class Archive:
    """The credentials of a batch as one JSON Lines file, with a crash-safe journal.

    ``<folder>/credentials.jsonl`` holds one credential per line; ``credentials.jsonl.journal``
    (replaced atomically after every synced append) says how many bytes and lines of it are
    complete. Opening cuts the archive back to that length (what lies beyond was not synced
    when the journal last moved: a torn line, or lines a re-run appends again) and indexes the
    ids of what remains, so :meth:`has` says whether a registered credential is already in it.
    Appends are serialized by a lock: chunks written by two threads never interleave.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / ARCHIVE_NAME
        self.journal = folder / f"{ARCHIVE_NAME}.journal"
        self._lock = threading.Lock()
        self._ids = KeyLog()  # off the heap: a 100,000-line archive would hold ~15 MB of ids
        self.length, self.lines = self._committed()
        try:
            self._recover()
        except BaseException:
            self._ids.close()
            raise

    def close(self) -> None:
        """Drop the index of ids (the archive itself is complete after every append)."""
        with self._lock:
            self._ids.close()

    def _committed(self) -> tuple[int, int]:
        try:
            state = json.loads(self.journal.read_bytes())
            length, lines = state["length"], state["lines"]
        except FileNotFoundError:
            return 0, 0
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError("the archive's journal is unreadable; the archive cannot be trusted",
                             path=str(self.journal)) from exc
        if not (isinstance(length, int) and isinstance(lines, int) and length >= 0 and lines >= 0):
            raise StoreError("the archive's journal is damaged", path=str(self.journal))
        return length, lines

    def _recover(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as exc:
            raise StoreError(f"cannot open the archive: {exc.strerror}", path=str(self.path)) from exc
        try:
            size = os.fstat(fd).st_size
            if size < self.length:
                raise StoreError(f"the archive is shorter ({size} bytes) than its journal says ({self.length}): "
                                 "it was truncated or replaced", path=str(self.path))
            if size > self.length:  # an unsynced or torn tail: not part of the archive
                os.ftruncate(fd, self.length)
                os.fsync(fd)
            with os.fdopen(os.dup(fd), "rb") as fh:
                count = 0
                ids: list[str] = []
                for line in fh:
                    count += 1
                    try:
                        cid = json.loads(line)["id"]
                        if not isinstance(cid, str):
                            raise TypeError("id is not a string")
                    except (ValueError, KeyError, TypeError) as exc:
                        raise StoreError(f"line {count} of the archive is not a credential",
                                         path=str(self.path)) from exc
                    ids.append(cid)
                    if len(ids) >= 4096:  # a bounded list between inserts
                        self._ids.update(ids)
                        ids = []
                self._ids.update(ids)
            if count != self.lines:
                raise StoreError(f"the archive holds {count} lines, its journal says {self.lines}",
                                 path=str(self.path))
        finally:
            os.close(fd)

    def has(self, credential_id: str) -> bool:
        """Whether the credential is in the (complete part of the) archive."""
        with self._lock:
            return credential_id in self._ids

    def append(self, lines: Sequence[tuple[str, bytes]]) -> None:
        """Append ``(credential id, line)`` pairs: written, synced, then the journal moved."""
        with self._lock:
            fresh: list[tuple[str, bytes]] = []
            ids: set[str] = set()  # an id twice in one call goes in once
            for cid, data in lines:
                if cid not in ids and cid not in self._ids:
                    ids.add(cid)
                    fresh.append((cid, data))
            if not fresh:
                return
            data = b"".join(d for _cid, d in fresh)
            try:
                fd = os.open(self.path, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
                try:
                    os.lseek(fd, self.length, os.SEEK_SET)  # over any tail a failed append left
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    os.ftruncate(fd, self.length + len(data))  # what a failed append left beyond
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise StoreError(f"cannot write the archive: {exc.strerror}", path=str(self.path)) from exc
            length, count = self.length + len(data), self.lines + len(fresh)
            atomic_write(self.journal, json.dumps({"length": length, "lines": count}).encode() + b"\n")
            self.length, self.lines = length, count
            self._ids.update(ids)


def _syncfs_function() -> Any:
    try:
        import ctypes

        func = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError, ImportError):  # not Linux / no libc symbol
        return None
    func.argtypes = [ctypes.c_int]
    return func


_SYNCFS = _syncfs_function()


def _sync_filesystem(folder: Path) -> bool:
    """``syncfs(2)`` on the file system holding ``folder``; False when not available."""
    if _SYNCFS is None:
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        return bool(_SYNCFS(fd) == 0)
    finally:
        os.close(fd)


def _write_files(folder: Path, files: list[tuple[Path, bytes]]) -> None:
    """Write a chunk of files atomically: temporary files, synced, renamed, synced.

    What :func:`atomic_write` does per file (data synced before the rename, so a crash never
    leaves a short file under the final name; the rename synced afterwards), done for the
    whole chunk with two ``syncfs`` calls instead of two ``fsync`` calls per file: this halves
    the kernel time of writing 100,000 credential files. Without ``syncfs`` (not Linux), each
    file is synced itself.
    """
    per_file = _SYNCFS is None
    written: list[tuple[Path, Path]] = []
    clean_stale_temps(folder)  # what a killed earlier batch left (once per folder and process)
    try:
        for target, data in files:
            tmp = target.with_name(f"{temp_name(target)}batch{TEMP_SUFFIX}")  # named as atomic_write's
            written.append((tmp, target))
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                if per_file:
                    os.fsync(fd)
            finally:
                os.close(fd)
        if not per_file and not _sync_filesystem(folder):
            for tmp, _target in written:  # syncfs failed: fall back to one fsync per file
                fd = os.open(tmp, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        for tmp, target in written:
            os.replace(tmp, target)
        written = []
        if per_file or not _sync_filesystem(folder):
            fsync_dir(folder)
    except OSError as exc:
        for tmp, _target in written:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise StoreError(f"cannot write a credential file: {exc.strerror}", path=str(folder)) from exc


def run_chunks(
    chunks: Iterable[Any],
    process: Callable[[Any], tuple[int, Any]],
    finish: Callable[[Any], None],
    progress: Callable[[int], None] | None,
) -> None:
    """Process chunks in order; finish each (its file writes) while the next one is signed.

    ``process(chunk)`` does the registry work, starts the chunk's file writes and returns
    ``(rows, done)``; ``finish(done)`` waits for those writes and records the outcomes. A
    chunk's rows are reported to ``progress`` once it is finished, so the bar counts rows
    that are registered *and* written, in order, each exactly once.
    """
    pending: list[tuple[int, Any]] = []
    for chunk in chunks:
        pending.append(process(chunk))
        while len(pending) > 1:
            rows, done = pending.pop(0)
            finish(done)
            if progress:
                progress(rows)
    for rows, done in pending:
        finish(done)
        if progress:
            progress(rows)


class _Raised:  # an exception of the planning thread, re-raised in the consuming one
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_DONE = object()


def prefetch(items: Iterable[Any], *, depth: int = 1) -> Generator[Any, None, None]:
    """``items``, produced by a background thread up to ``depth`` ahead of the consumer.

    :func:`run_chunks` plans a chunk (reading and checking its roster rows) while the one
    before it is being signed: without this the workers idle while this process plans, a
    fifth of a chunk's time. The thread is the only one to touch ``items`` (and what producing
    them reads), in order, so the chunks are the same as a plain loop's; an exception it
    meets is raised here, at the same place in the sequence. Closing this generator early
    (the consumer failed) stops the thread before it produces another item.
    Start it after the worker processes exist (see the module docstring).
    """
    import queue

    out: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_Raised(exc))
            return
        put(_DONE)

    thread = threading.Thread(target=produce, name="skillcred-plan", daemon=True)
    thread.start()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join()


# -- forked map (skillcred rank) -------------------------------------------------------------------

_FORK_STATE: tuple[Callable[..., Any], tuple[Any, ...]] | None = None


def _call_forked(item: tuple[int, Any]) -> tuple[int, Any]:
    assert _FORK_STATE is not None
    func, args = _FORK_STATE
    return item[0], func(item[1], *args)


def fork_map(
    func: Callable[..., Any], items: Sequence[Any], args: tuple[Any, ...], *, jobs: int,
    progress: Callable[[int], None] | None = None,
) -> list[Any]:
    """``[func(item, *args) for item in items]`` on ``jobs`` forked processes, in order.

    For work whose state (a verifier, a profile...) is expensive or impossible to pickle: the
    workers are forked, so they inherit ``func`` and ``args`` as they are; only items and
    results cross a pipe. ``progress(1)`` is called as each item completes. Falls back to a
    plain loop when ``jobs`` is 1, when there are few items, or when forking is not safe
    (other threads running) or not available.
    """
    global _FORK_STATE
    if (jobs <= 1 or len(items) < 2 * jobs or "fork" not in multiprocessing.get_all_start_methods()
            or threading.active_count() > 1 or _FORK_STATE is not None):
        out = []
        for item in items:
            out.append(func(item, *args))
            if progress:
                progress(1)
        return out
    results: list[Any] = [None] * len(items)
    _FORK_STATE = (func, args)
    try:
        with multiprocessing.get_context("fork").Pool(processes=jobs) as pool:
            for i, value in pool.imap_unordered(_call_forked, list(enumerate(items)), chunksize=1):
                results[i] = value
                if progress:
                    progress(1)
    finally:
        _FORK_STATE = None
    return results
