"""The issuer's registry: every credential it issued, and the status-list indexes it holds.

SQLite (in the issuer folder) is the embedded default. Each issuance is one transaction that
checks the row key, allocates the status indexes, signs, and records the credential, so a
crash or a bad row leaves either a complete record or nothing. ``BEGIN IMMEDIATE`` serializes
writers across processes; the primary key ``(list_url, idx)`` makes a duplicate index
impossible even if two allocators raced.

Indexes are drawn at random over the whole list (herd privacy: the index says nothing about
when or in which order a credential was issued). A list is filled to half its size before the
next one is opened, which keeps random probing cheap and the lists sparse.
"""

from __future__ import annotations

import itertools
import json
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from skillcred._internal.registry_types import (
    OFFER_HISTORY_SECONDS,
    PURPOSES,
    TOKEN_LISTS_IN_USE_SQL,
    TOKEN_STATUS_SQL,
    Allocation,
    BuildMany,
    IssuedRecord,
    IssueRequest,
    OfferRecord,
    RegistryBackend,
    StatusListInfo,
    built_record,
    check_distinct_row_keys,
    check_purposes,
    check_status_change,
    check_status_purpose,
    claim_outcome,
    encoded_text,
    exchange_outcome,
    is_postgres_url,
    needs_new_list,
    record_from_row,
    status_list_url,
    token_status_values_of,
    too_many_offers,
)
from skillcred._internal.registry_types import (
    EncodedDocument as EncodedDocument,  # the JSON text a batch hands the registry (tests build them)
)
from skillcred.errors import InvalidArgument, StoreError

__all__ = ["Allocation", "IssueRequest", "IssuedRecord", "OfferRecord", "Registry", "RegistryBackend",
           "StatusListInfo", "open_registry"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    row_key TEXT UNIQUE,
    subject TEXT NOT NULL,
    achievement TEXT NOT NULL,
    kind TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    valid_until TEXT,
    document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS status_lists (
    url TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    seq INTEGER NOT NULL,
    size INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    UNIQUE (purpose, seq)
);
CREATE TABLE IF NOT EXISTS allocations (
    list_url TEXT NOT NULL REFERENCES status_lists(url),
    idx INTEGER NOT NULL,
    credential_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    value INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (list_url, idx)
);
CREATE INDEX IF NOT EXISTS allocations_by_credential ON allocations(credential_id);
CREATE TABLE IF NOT EXISTS oid4vci_offers (
    id TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    tx_code_hash TEXT,
    tx_attempts INTEGER NOT NULL DEFAULT 0,
    configuration_id TEXT NOT NULL,
    offer TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'offered',
    token_hash TEXT UNIQUE,
    token_expires_at INTEGER,
    credential_id TEXT
);
CREATE TABLE IF NOT EXISTS oid4vci_nonces (
    nonce_hash TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
"""

T = TypeVar("T")

#: SQLite's own WAL auto-checkpoint threshold, in pages (restored after :meth:`Registry.bulk_writes`).
_DEFAULT_CHECKPOINT_PAGES = 1000
#: The threshold during a batch (:meth:`Registry.bulk_writes`): 16,384 pages, 64 MiB of WAL on disk.
BULK_CHECKPOINT_PAGES = 16_384

def open_registry(target: str | Path, *, create: bool = False) -> RegistryBackend:
    """The registry at ``target``: a ``postgresql://`` URL (tables created when missing), a
    ``sqlite:///path`` URL or a SQLite file path (``create`` makes a missing file)."""
    if is_postgres_url(target):
        from skillcred.registry_pg import PgRegistry

        return PgRegistry.open(str(target))
    text = str(target)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite://"):]
    return Registry.open(text, create=create)


class Registry:
    """A SQLite registry file. Open with :meth:`open`; safe to use from several processes."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        # issue_many's picture of the status lists: list URL -> [bitmap of allocated indexes,
        # the list's allocation count it matches]; valid while ``_taken_version`` is the
        # database's data_version (no other connection has committed since) -- see _draw
        self._taken: dict[str, list[Any]] = {}
        self._taken_version: int | None = None

    @classmethod
    def open(cls, path: str | Path, *, create: bool = False) -> Registry:
        p = Path(path)
        if not create and not p.exists():
            raise StoreError("registry not found (is this an issuer folder?)", path=str(p))
        try:
            conn = sqlite3.connect(p, timeout=60.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.executescript(_SCHEMA)
            cols = {r[1] for r in conn.execute("PRAGMA table_info(status_lists)")}
            if "used" not in cols:  # registries made before the counter existed
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ALTER TABLE status_lists ADD COLUMN used INTEGER NOT NULL DEFAULT 0")
                conn.execute("UPDATE status_lists SET used = "
                             "(SELECT COUNT(*) FROM allocations a WHERE a.list_url = status_lists.url)")
                conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"registry is not a usable SQLite database: {exc}", path=str(p)) from exc
        return cls(conn, p)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One exclusive write transaction; rolled back on any exception."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"registry is busy or locked: {exc}", path=str(self.path)) from exc
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")

    @contextmanager
    def bulk_writes(self, checkpoint_pages: int = BULK_CHECKPOINT_PAGES) -> Iterator[None]:
        """A long run of write transactions (a batch): the WAL is checkpointed every
        ``checkpoint_pages`` pages instead of SQLite's default 1,000, and once at the end.

        Why: a batch commits a chunk of credentials at a time, and each commit writes every
        page it dirtied to the WAL; a checkpoint then copies those pages into the database
        file, in the committing thread, while the signing workers wait. The credentials'
        random ids and status indexes put each chunk's index entries on pages spread over
        the whole index, so at 100,000 credentials a chunk dirties ~2,000 index pages and
        the 1,000-page default checkpointed after nearly every commit: every index page was
        copied once per chunk, and the parent's cost per credential grew with the registry
        (the WAL traffic per row doubled between 10,000 and 100,000 rows). A checkpoint every
        ``checkpoint_pages`` copies a page touched by many chunks once. Durability is the
        same (each commit still syncs the WAL); only the WAL file grows larger in between
        (``checkpoint_pages`` x 4 KiB on disk, not in memory), and it is truncated at the end.
        """
        self._conn.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint_pages)}")
        try:
            yield
        finally:
            self._conn.execute(f"PRAGMA wal_autocheckpoint = {_DEFAULT_CHECKPOINT_PAGES}")
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError:  # busy (a reader elsewhere): the next checkpoint does it
                pass

    # -- issuing ---------------------------------------------------------------------------

    def issue(
        self,
        *,
        credential_id: str,
        row_key: str | None,
        subject: str,
        achievement: str,
        kind: str,
        issued_at: str,
        valid_until: str | None,
        status_base_url: str,
        list_size: int,
        build: Callable[[list[Allocation]], dict[str, Any]],
        purposes: tuple[str, ...] = PURPOSES,
    ) -> tuple[IssuedRecord, bool]:
        """Record a new credential atomically; returns ``(record, newly_issued)``.

        When ``row_key`` is already registered nothing is issued and the existing record is
        returned (idempotent batches). Otherwise status indexes are allocated and ``build``
        is called with them inside the transaction to produce the signed document; if it
        raises, nothing is recorded. ``purposes`` names the status lists to allocate in
        (default: revocation and suspension); lists are kept per ``status_base_url``.
        """
        purposes = check_purposes(purposes)
        with self._write() as db:
            if row_key is not None:
                existing = db.execute("SELECT id FROM credentials WHERE row_key = ?", (row_key,)).fetchone()
                if existing:
                    return self._record(existing[0]), False
            allocations = [self._allocate(db, p, credential_id, status_base_url, list_size) for p in purposes]
            document = build(allocations)
            try:
                db.execute(
                    "INSERT INTO credentials (id, row_key, subject, achievement, kind, issued_at, "
                    "valid_until, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (credential_id, row_key, subject, achievement, kind, issued_at, valid_until,
                     json.dumps(document, ensure_ascii=False)),
                )
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"credential {credential_id} is already registered") from exc
        return self._record(credential_id), True

    def issue_many(
        self,
        requests: Sequence[IssueRequest],
        build: BuildMany,
        *,
        purposes: tuple[str, ...] = PURPOSES,
    ) -> list[tuple[IssuedRecord, bool] | BaseException]:
        """:meth:`issue` for several credentials in one transaction (batch issuance).

        A request whose row key is registered gets its existing record (``False``). For the
        others the status indexes are allocated, then ``build`` is called *once* with
        ``(position in requests, allocations)`` for each and returns (or yields, as they are
        ready), in the same order, the signed document (or its :class:`EncodedDocument`) or an
        exception (that credential is not recorded and its indexes are released; the exception
        is returned in its place).
        Everything commits together, so a crash leaves each credential complete or absent. Row
        keys must be distinct in one call.
        Other writers wait while ``build`` runs (the transaction holds the write lock), which
        is also why counting a list's allocations once per call is exact.
        """
        keys = check_distinct_row_keys(requests)
        purposes = check_purposes(purposes)
        out: list[tuple[IssuedRecord, bool] | BaseException | None] = [None] * len(requests)
        try:
            with self._write() as db:
                self._issue_many(db, requests, build, purposes, keys, out)
        except BaseException:
            self._taken.clear()  # rolled back: what was drawn in it is free again
            raise
        return out  # type: ignore[return-value]

    def _issue_many(
        self, db: sqlite3.Connection, requests: Sequence[IssueRequest], build: BuildMany,
        purposes: tuple[str, ...], keys: Sequence[str], out: list[tuple[IssuedRecord, bool] | BaseException | None],
    ) -> None:
        """:meth:`issue_many` inside its transaction.

        The status indexes are drawn in memory (:meth:`_draw`) and inserted only once ``build``
        has its jobs (after its first result: a parallel builder is then signing the rest), so
        the workers do not wait while this process writes ~1,000 random index entries per chunk."""
        version = db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._taken_version:  # another connection committed: its allocations are unknown here
            self._taken.clear()
            self._taken_version = version
        fill: dict[tuple[str, str], list[Any]] = {}
        used: dict[str, int] = {}  # allocations per list, added to status_lists.used once at the end
        drawn: list[tuple[str, int, str, str]] = []  # the allocations rows, inserted below
        known = self._registered_row_keys(db, keys)
        pending: list[tuple[int, list[Allocation]]] = []
        for i, r in enumerate(requests):
            if r.row_key is not None and r.row_key in known:
                out[i] = (self._record(known[r.row_key]), False)
                continue
            pending.append((i, [self._allocate(db, p, r.credential_id, r.status_base_url, r.list_size, fill,
                                               used, drawn) for p in purposes]))
        # consumed as it comes: a builder that signs in parallel may yield results in order
        # while it is still signing the rest, and the rows are inserted meanwhile
        documents: Iterator[Any] = iter(build(pending)) if pending else iter(())
        first = next(documents, None)
        if drawn:
            drawn.sort()  # in index order: neighbouring entries share B-tree pages
            try:
                db.executemany("INSERT INTO allocations (list_url, idx, credential_id, purpose) "
                               "VALUES (?, ?, ?, ?)", drawn)
            except sqlite3.IntegrityError as exc:  # the in-memory picture was wrong: nothing is recorded
                raise StoreError(f"a status index drawn for this batch is already allocated: {exc}",
                                 path=str(self.path)) from exc
        if first is not None:
            documents = itertools.chain([first], documents)
        for i, allocs in pending:
            document = next(documents, None)
            if document is None:
                raise InvalidArgument("issue_many: build must return one result per request")
            r = requests[i]
            if isinstance(document, BaseException):
                for a in allocs:
                    used[a.list_url] -= 1
                    self._release(a.list_url, a.index)
                db.execute("DELETE FROM allocations WHERE credential_id = ?", (r.credential_id,))
                out[i] = document
                continue
            try:
                db.execute(
                    "INSERT INTO credentials (id, row_key, subject, achievement, kind, issued_at, "
                    "valid_until, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (r.credential_id, r.row_key, r.subject, r.achievement, r.kind, r.issued_at,
                     r.valid_until, encoded_text(document)),
                )
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"credential {r.credential_id} is already registered") from exc
            out[i] = (built_record(r, document), True)
        db.executemany("UPDATE status_lists SET used = used + ? WHERE url = ?",
                       [(n, url) for url, n in used.items() if n])

    @staticmethod
    def _registered_row_keys(db: sqlite3.Connection, keys: Sequence[str]) -> dict[str, str]:
        """row key -> credential id, for those of ``keys`` already registered (one query per 500)."""
        found: dict[str, str] = {}
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit is 999 on old builds
            part = keys[start:start + 500]
            found.update(db.execute(
                f"SELECT row_key, id FROM credentials WHERE row_key IN ({','.join('?' * len(part))})", part
            ).fetchall())
        return found

    def _allocate(
        self, db: sqlite3.Connection, purpose: str, credential_id: str, base_url: str, size: int,
        fill: dict[tuple[str, str], list[Any]] | None = None, used: dict[str, int] | None = None,
        drawn: list[tuple[str, int, str, str]] | None = None,
    ) -> Allocation:
        # ``fill`` (issue_many) remembers [url, size, allocated] of the open list per purpose and
        # base URL for the rest of the transaction, instead of counting again each time; ``used``
        # collects the allocations per list so status_lists.used is updated once per transaction;
        # ``drawn`` (issue_many) takes the allocation row instead of inserting it (see _draw).
        key = (purpose, base_url.rstrip("/"))
        state = fill.get(key) if fill is not None else None
        if state is not None:
            row: Any = state
        else:
            row = db.execute(
                "SELECT url, size, used "  # a maintained counter: counting rows was O(list) per issue
                "FROM status_lists s WHERE purpose = ? AND substr(url, 1, ?) = ? "
                "ORDER BY seq DESC LIMIT 1",
                (purpose, len(base_url.rstrip("/")) + 1, base_url.rstrip("/") + "/"),
            ).fetchone()
        if row is None or needs_new_list(row[2], row[1]):
            seq = (db.execute("SELECT COALESCE(MAX(seq), 0) FROM status_lists WHERE purpose = ?",
                              (purpose,)).fetchone()[0]) + 1
            url = status_list_url(base_url, purpose, seq)
            db.execute("INSERT INTO status_lists (url, purpose, seq, size) VALUES (?, ?, ?, ?)",
                       (url, purpose, seq, size))
            list_url, list_size, allocated = url, size, 0
        else:
            list_url, list_size, allocated = row[0], row[1], row[2]
        if drawn is not None and used is not None and fill is not None:
            idx = self._draw(db, list_url, list_size, allocated)
            drawn.append((list_url, idx, credential_id, purpose))
            used[list_url] = used.get(list_url, 0) + 1
            fill[key] = [list_url, list_size, allocated + 1]
            return Allocation(purpose, list_url, idx)
        while True:
            idx = secrets.randbelow(list_size)
            try:
                db.execute(
                    "INSERT INTO allocations (list_url, idx, credential_id, purpose) VALUES (?, ?, ?, ?)",
                    (list_url, idx, credential_id, purpose),
                )
                if used is None:
                    db.execute("UPDATE status_lists SET used = used + 1 WHERE url = ?", (list_url,))
                else:
                    used[list_url] = used.get(list_url, 0) + 1
                if fill is not None:
                    fill[key] = [list_url, list_size, allocated + 1]
                return Allocation(purpose, list_url, idx)
            except sqlite3.IntegrityError:
                continue  # taken: draw again (the list is at most half full)

    def _draw(self, db: sqlite3.Connection, list_url: str, size: int, allocated: int) -> int:
        """A free index of ``list_url``, drawn uniformly at random as :meth:`_allocate` draws
        (herd privacy), but tested against a bitmap of the list in memory instead of by
        inserting the row and catching the clash: issue_many then inserts a chunk's rows
        together, while the chunk is being signed.

        The bitmap is read from the allocations once (a few milliseconds for a half-full list)
        and kept up to date with what this connection draws, releases and rolls back. It is
        trusted only while both hold: no other connection has committed since it was read
        (SQLite's ``data_version``, checked at the start of each transaction; the write lock
        keeps others out during it), and the list's allocation count is the one it was read
        at (this connection's own :meth:`issue` counts up without it). Otherwise it is read
        again. The primary key still refuses a duplicate index, whatever the bitmap says.
        """
        state = self._taken.get(list_url)
        if state is None or state[1] != allocated or len(state[0]) * 8 < size:
            bits = bytearray(-(-size // 8))
            for (idx,) in db.execute("SELECT idx FROM allocations WHERE list_url = ?", (list_url,)):
                if 0 <= idx < size:
                    bits[idx >> 3] |= 1 << (idx & 7)
            state = self._taken[list_url] = [bits, allocated]
        bits = state[0]
        while True:
            idx = secrets.randbelow(size)
            if not bits[idx >> 3] & (1 << (idx & 7)):  # else taken: draw again (the list is at most half full)
                bits[idx >> 3] |= 1 << (idx & 7)
                state[1] += 1
                return idx

    def _release(self, list_url: str, idx: int) -> None:
        """An index drawn by :meth:`_draw` is free again (its credential was not built)."""
        state = self._taken.get(list_url)
        if state is not None:
            state[0][idx >> 3] &= ~(1 << (idx & 7)) & 0xFF
            state[1] -= 1

    # -- reading ---------------------------------------------------------------------------

    def _record(self, credential_id: str) -> IssuedRecord:
        row = self._conn.execute(
            "SELECT id, row_key, subject, achievement, kind, issued_at, valid_until, document "
            "FROM credentials WHERE id = ?",
            (credential_id,),
        ).fetchone()
        if row is None:
            raise StoreError(f"no credential {credential_id!r} in this registry", path=str(self.path))
        flags = dict(self._conn.execute(
            "SELECT purpose, value FROM allocations WHERE credential_id = ?", (credential_id,)
        ).fetchall())
        return record_from_row(row, flags.get("revocation"), flags.get("suspension"))

    def get(self, credential_id: str) -> IssuedRecord:
        return self._record(credential_id)

    def count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM credentials").fetchone()[0])

    def records(self) -> list[IssuedRecord]:
        return list(self.iter_records())

    def iter_records(
        self, *, subject: str | None = None, achievement: str | None = None, with_documents: bool = True,
    ) -> Iterator[IssuedRecord]:
        """Issued credentials in issue order, read as they are needed (one query, any size).

        ``subject`` / ``achievement`` select exact matches. ``with_documents=False`` leaves the
        signed documents out (``document`` is ``{}``): a listing of 100,000 credentials then
        stays small.
        """
        cursor = self._conn.execute(
            "SELECT c.id, c.row_key, c.subject, c.achievement, c.kind, c.issued_at, c.valid_until, "
            f"{'c.document' if with_documents else 'NULL'}, "
            "MAX(CASE WHEN a.purpose = 'revocation' THEN a.value END), "
            "MAX(CASE WHEN a.purpose = 'suspension' THEN a.value END) "
            "FROM credentials c LEFT JOIN allocations a ON a.credential_id = c.id "
            "WHERE (?1 IS NULL OR c.subject = ?1) AND (?2 IS NULL OR c.achievement = ?2) "
            "GROUP BY c.id ORDER BY c.issued_at, c.rowid",  # ties: the order they were recorded
            (subject, achievement),
        )
        for row in cursor:
            yield record_from_row(row, row[8], row[9])

    def status_lists(self) -> list[StatusListInfo]:
        out = []
        for url, purpose, size in self._conn.execute(
            "SELECT url, purpose, size FROM status_lists ORDER BY purpose, seq"
        ).fetchall():
            bits = tuple(r[0] for r in self._conn.execute(
                "SELECT idx FROM allocations WHERE list_url = ? AND value = 1 ORDER BY idx", (url,)
            ))
            out.append(StatusListInfo(url, purpose, size, bits))
        return out

    # -- status changes --------------------------------------------------------------------

    def token_status_values(self) -> dict[str, dict[int, int]]:
        """The non-zero Token Status List values, by revocation list URL and index.

        A token status list mirrors a revocation list index for index (skillcred.token_status):
        ``1`` where the revocation bit is set, else ``2`` where the same credential's
        suspension bit is. Two queries over the set bits only, so the cost follows the number
        of revoked and suspended credentials, not the registry's size."""
        return token_status_values_of(self._conn.execute(TOKEN_STATUS_SQL.format(prefix="")).fetchall())

    def token_list_urls_in_use(self) -> set[str]:
        """The revocation lists that hold an SD-JWT VC (its stored record names a Token Status
        List): those whose token status list is published. (A scan of the records: for
        ``status publish``, not for every request.)"""
        return {r[0] for r in self._conn.execute(TOKEN_LISTS_IN_USE_SQL.format(prefix=""))}

    def set_status(self, credential_id: str, purpose: str, value: bool) -> bool:
        """Set or clear a credential's status bit; returns whether it changed."""
        check_status_purpose(purpose)
        with self._write() as db:
            row = db.execute(
                "SELECT value FROM allocations WHERE credential_id = ? AND purpose = ?",
                (credential_id, purpose),
            ).fetchone()
            if row is None:
                known = db.execute("SELECT 1 FROM credentials WHERE id = ?", (credential_id,)).fetchone()
                if not known:
                    raise StoreError(f"no credential {credential_id!r} in this registry", path=str(self.path))
                raise StoreError(f"credential {credential_id} has no {purpose} status entry")
            if not check_status_change(purpose, row[0], value):
                return False
            db.execute(
                "UPDATE allocations SET value = ? WHERE credential_id = ? AND purpose = ?",
                (int(value), credential_id, purpose),
            )
            return True

    # -- OpenID4VCI offers (the protocol rules are in skillcred.oid4vci; these are the atomic steps)

    def _offer(self, db: sqlite3.Connection, where: str, value: str) -> tuple[OfferRecord, tuple[Any, ...]] | None:
        row = db.execute(
            "SELECT id, configuration_id, offer, created_at, expires_at, state, credential_id, "
            f"tx_code_hash, tx_attempts, token_expires_at FROM oid4vci_offers WHERE {where} = ?", (value,),
        ).fetchone()
        if row is None:
            return None
        return OfferRecord(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5], row[6]), row[7:]

    def add_offers(self, rows: Sequence[tuple[str, str, str | None, str, dict[str, Any], int, int]], *,
                   max_open: int, now: int) -> None:
        """Record offers ``(id, code_hash, tx_code_hash, configuration_id, offer, created, expires)``
        in one transaction; refused when more than ``max_open`` unexpired offers would be open."""
        with self._write() as db:
            db.execute("DELETE FROM oid4vci_offers WHERE expires_at < ? AND state IN ('offered', 'dead')",
                       (now - OFFER_HISTORY_SECONDS,))  # keep a month of history, then forget unused offers
            open_now = db.execute("SELECT COUNT(*) FROM oid4vci_offers WHERE state = 'offered' "
                                  "AND expires_at > ?", (now,)).fetchone()[0]
            too_many_offers(open_now, len(rows), max_open)
            db.executemany(
                "INSERT INTO oid4vci_offers (id, code_hash, tx_code_hash, configuration_id, offer, "
                "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r[0], r[1], r[2], r[3], json.dumps(r[4], sort_keys=True), r[5], r[6]) for r in rows],
            )

    def offer(self, offer_id: str) -> OfferRecord:
        found = self._offer(self._conn, "id", offer_id)
        if found is None:
            raise StoreError(f"no offer {offer_id!r} in this registry", path=str(self.path))
        return found[0]

    def offered_configurations(self, *, open_at: int | None = None) -> dict[str, dict[str, Any]]:
        """Each credential configuration offered, with one of its offers (for metadata).

        With ``open_at`` (a Unix time) only those of offers not expired then, whatever their
        state, or redeemed for an access token that is still valid (the wallet is between token
        and credential). An expired offer is history, not something the issuer offers; a used or
        voided one that has not expired stays listed, so that a wallet replaying it reaches the
        token endpoint and is told ``invalid_grant``, the protocol's answer for a used code."""
        where, args = "", tuple[int, ...]()
        if open_at is not None:
            where = ("WHERE expires_at > ? "
                     "OR (state IN ('token', 'issuing') AND token_expires_at > ?) ")
            args = (open_at, open_at)
        return {cid: json.loads(offer) for cid, offer in self._conn.execute(
            "SELECT configuration_id, MIN(offer) FROM oid4vci_offers " + where + "GROUP BY configuration_id "
            "ORDER BY configuration_id", args)}

    def exchange_offer_code(self, code_hash: str, tx_code_hash: str | None, token_hash: str, *, now: int,
                            token_expires_at: int, max_tx_attempts: int) -> tuple[str, OfferRecord | None]:
        """Trade a pre-authorized code for an access token, once. Returns ``(outcome, offer)``:
        ``ok``, ``unknown``, ``used``, ``expired``, ``tx_missing``, ``tx_wrong`` or ``tx_locked``
        (too many wrong transaction codes: the offer is dead)."""
        with self._write() as db:
            found = self._offer(db, "code_hash", code_hash)
            if found is None:
                return "unknown", None
            offer, (want_tx, attempts, _) = found
            outcome = exchange_outcome(offer, want_tx, attempts, tx_code_hash, now=now,
                                       max_tx_attempts=max_tx_attempts)
            if outcome in ("tx_wrong", "tx_locked") and offer.state == "offered":
                db.execute("UPDATE oid4vci_offers SET tx_attempts = tx_attempts + 1, "
                           "state = CASE WHEN ? THEN 'dead' ELSE state END WHERE id = ?",
                           (outcome == "tx_locked", offer.id))
            if outcome != "ok":
                return outcome, offer
            db.execute("UPDATE oid4vci_offers SET state = 'token', token_hash = ?, token_expires_at = ? "
                       "WHERE id = ?", (token_hash, token_expires_at, offer.id))
            return "ok", offer

    def claim_offer_token(self, token_hash: str, *, now: int) -> tuple[str, OfferRecord | None]:
        """Take an access token to issue its one credential: ``ok`` (the offer is now
        ``issuing``), ``unknown``, ``used`` or ``expired``."""
        with self._write() as db:
            found = self._offer(db, "token_hash", token_hash)
            if found is None:
                return "unknown", None
            offer, (_, _, token_expires_at) = found
            outcome = claim_outcome(offer, token_expires_at, now=now)
            if outcome != "ok":
                return outcome, offer
            db.execute("UPDATE oid4vci_offers SET state = 'issuing' WHERE id = ?", (offer.id,))
            return "ok", offer

    def finish_offer(self, offer_id: str, credential_id: str | None) -> None:
        """``issued`` with the credential's id, or (``None``: issuing failed) back to ``token``
        so the wallet may correct its request with the same access token."""
        with self._write() as db:
            if credential_id is None:
                db.execute("UPDATE oid4vci_offers SET state = 'token' WHERE id = ? AND state = 'issuing'",
                           (offer_id,))
            else:
                db.execute("UPDATE oid4vci_offers SET state = 'issued', credential_id = ? WHERE id = ?",
                           (credential_id, offer_id))

    def add_nonce(self, nonce_hash: str, *, expires_at: int, now: int, max_open: int) -> bool:
        """Remember a fresh ``c_nonce``; False when ``max_open`` unexpired ones are waiting."""
        with self._write() as db:
            db.execute("DELETE FROM oid4vci_nonces WHERE expires_at <= ?", (now,))
            if db.execute("SELECT COUNT(*) FROM oid4vci_nonces").fetchone()[0] >= max_open:
                return False
            db.execute("INSERT INTO oid4vci_nonces (nonce_hash, expires_at) VALUES (?, ?)", (nonce_hash, expires_at))
            return True

    def take_nonce(self, nonce_hash: str, *, now: int) -> bool:
        """Use up a ``c_nonce``: True once, for a known unexpired nonce."""
        with self._write() as db:
            row = db.execute("DELETE FROM oid4vci_nonces WHERE nonce_hash = ? RETURNING expires_at",
                             (nonce_hash,)).fetchone()
            return row is not None and int(row[0]) > now


def _implements_the_protocol(registry: Registry) -> RegistryBackend:
    return registry  # mypy checks here that Registry is a complete RegistryBackend
