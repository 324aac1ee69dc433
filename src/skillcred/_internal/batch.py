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

Workers are forked when this process has no other thread, and all of them are started before
the file-writing threads exist (so no lock is inherited held; a forked worker never touches
the inherited SQLite connection and leaves with ``os._exit``, as multiprocessing workers do).
Otherwise they come from ``forkserver`` (``spawn`` where that does not exist), which needs
the usual ``if __name__ == "__main__":`` guard in a calling script. Each worker receives the
issuer profile and signing key once, when it starts.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillcred._internal.fileio import TEMP_SUFFIX, clean_stale_temps, dump_json, temp_name
from skillcred._internal.fileio import _fsync_dir as fsync_dir
from skillcred.errors import SkillcredError, StoreError

if TYPE_CHECKING:  # pragma: no cover
    from skillcred.issuer import Issuer, IssuerProfile
    from skillcred.models import AchievementDefinition
    from skillcred.registry import Allocation

__all__ = ["CHUNK_ROWS", "MIN_PARALLEL_ROWS", "BuildJob", "Pools", "default_workers", "fork_map", "run_chunks"]

#: Rows per registry transaction (and per progress update).
CHUNK_ROWS = 256
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


def _context() -> Any:
    """``fork`` when this process has no other thread (no lock can be inherited held, and a
    script need not guard its main module), else ``forkserver``, else ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["skillcred.issuer", "skillcred._internal.batch"])
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


# -- worker side ---------------------------------------------------------------------------------

_ISSUER: Issuer | None = None


def _init_worker(folder: str, profile: IssuerProfile, secret_multikey: str, fast_jsonld: bool) -> None:
    global _ISSUER
    from skillcred._internal import jsonld
    from skillcred.issuer import Issuer
    from skillcred.keys import KeyPair

    jsonld.set_fast_path(fast_jsonld)
    _ISSUER = Issuer(Path(folder), profile, KeyPair.from_multikey(secret_multikey), None)  # type: ignore[arg-type]


def _build_many(
    definitions: dict[int, AchievementDefinition], jobs: Sequence[BuildJob]
) -> list[tuple[dict[str, Any], bytes] | tuple[None, str]]:
    """Build, validate and sign each job: ``(document, file bytes)`` or ``(None, error message)``."""
    assert _ISSUER is not None, "worker not initialized"
    out: list[tuple[dict[str, Any], bytes] | tuple[None, str]] = []
    for job in jobs:
        try:
            doc = _ISSUER._build(
                definitions[job.definition], credential_id=job.credential_id, subject=job.subject,
                name=job.name, level=job.level, evidence=job.evidence, valid_from=job.valid_from,
                valid_until=job.valid_until, allocations=list(job.allocations),
            )
        except (SkillcredError, ValueError) as exc:  # what the serial path reports per row
            out.append((None, str(exc)))
            continue
        out.append((doc, dump_json(doc)))
    return out


# -- parent side ---------------------------------------------------------------------------------


class _BuildFailed(Exception):  # carries a row's message back through the registry
    """A row that could not be built (bad level, schema violation...): reported, not recorded."""


class Pools:
    """The worker processes and file-writing threads of one batch."""

    def __init__(self, issuer: Issuer, workers: int) -> None:
        from skillcred._internal import jsonld

        self.workers = workers
        self.processes = ProcessPoolExecutor(
            max_workers=workers, mp_context=_context(), initializer=_init_worker,
            initargs=(str(issuer.folder), issuer.profile, issuer._key.secret_multikey,
                      jsonld.fast_path_enabled()),
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
    ) -> Iterator[tuple[dict[str, Any], bytes] | tuple[None, str]]:
        """Sign ``jobs`` on every worker; yields the results in job order as they arrive."""
        if not jobs:
            return
        # a few pieces per worker: even load, few round trips, and results arrive early
        pieces = max(1, min(len(jobs), self.workers * 4))
        size = -(-len(jobs) // pieces)
        futures = [self.processes.submit(_build_many, definitions, jobs[i:i + size])
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
