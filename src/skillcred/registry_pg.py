"""The issuer's registry on PostgreSQL, for several service instances issuing at once.

The same :class:`skillcred.registry.RegistryBackend` as :class:`skillcred.registry.Registry`
(SQLite, the embedded default), with the same meaning: issuing one credential or a batch,
reading and listing records, status changes, status lists, and the OpenID4VCI offers and
nonces. The rules both follow (which purposes, when a list is full, what an offer's code or
token exchange means...) are the shared helpers of :mod:`skillcred.registry`; only the SQL and
the locking are here. Needs ``psycopg`` 3 (the ``serve`` extra).

Allocation is safe under concurrency, across processes and machines:

* allocators of one purpose take a transaction-scoped advisory lock for that purpose first
  (always in the same purpose order, so they never deadlock), then the current list's row with
  ``SELECT ... FOR UPDATE``; both are held by a short transaction of its own (milliseconds),
  never while a credential is signed;
* the next list is opened under the same lock, so two instances never open the same list;
* the primary key ``(list_url, idx)`` makes a duplicate index impossible whatever happens, and
  a taken index is simply drawn again (``ON CONFLICT DO NOTHING``);
* serialization failures, deadlocks and unique violations of a racing list creation retry the
  allocation transaction.

Unlike the SQLite registry, signing happens *between* two transactions (allocate; sign; record),
so instances sign in parallel instead of queueing on one write lock. If signing fails, the
reserved indexes are released again; if the process dies in between, the indexes stay reserved
for a credential that does not exist: wasted slots, never a slot given twice.
"""

from __future__ import annotations

import json
import random
import secrets
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from skillcred._internal.registry_types import (
    OFFER_HISTORY_SECONDS,
    PURPOSES,
    TOKEN_LISTS_IN_USE_SQL,
    TOKEN_STATUS_SQL,
    Allocation,
    BuildMany,
    EncodedDocument,
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
from skillcred.errors import InvalidArgument, StoreError

if TYPE_CHECKING:  # pragma: no cover
    import psycopg

__all__ = ["PgRegistry", "is_postgres_url", "redact_url"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS skillcred_credentials (
        id TEXT PRIMARY KEY,
        row_key TEXT UNIQUE,
        subject TEXT NOT NULL,
        achievement TEXT NOT NULL,
        kind TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        valid_until TEXT,
        document TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS skillcred_status_lists (
        url TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,
        seq INTEGER NOT NULL,
        size INTEGER NOT NULL,
        used INTEGER NOT NULL DEFAULT 0,
        UNIQUE (purpose, seq)
    )""",
    """CREATE TABLE IF NOT EXISTS skillcred_allocations (
        list_url TEXT NOT NULL REFERENCES skillcred_status_lists(url),
        idx INTEGER NOT NULL,
        credential_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        value SMALLINT NOT NULL DEFAULT 0,
        PRIMARY KEY (list_url, idx)
    )""",
    "CREATE INDEX IF NOT EXISTS skillcred_allocations_by_credential "
    "ON skillcred_allocations (credential_id)",
    "CREATE INDEX IF NOT EXISTS skillcred_allocations_set "
    "ON skillcred_allocations (list_url) WHERE value <> 0",
    # the order credentials were recorded in (SQLite's rowid): ties of issued_at list in that order
    "ALTER TABLE skillcred_credentials ADD COLUMN IF NOT EXISTS seq BIGSERIAL",
    "CREATE INDEX IF NOT EXISTS skillcred_credentials_order ON skillcred_credentials (issued_at, seq)",
    """CREATE TABLE IF NOT EXISTS skillcred_oid4vci_offers (
        id TEXT PRIMARY KEY,
        code_hash TEXT NOT NULL UNIQUE,
        tx_code_hash TEXT,
        tx_attempts INTEGER NOT NULL DEFAULT 0,
        configuration_id TEXT NOT NULL,
        offer TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        state TEXT NOT NULL DEFAULT 'offered',
        token_hash TEXT UNIQUE,
        token_expires_at BIGINT,
        credential_id TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS skillcred_oid4vci_nonces (
        nonce_hash TEXT PRIMARY KEY,
        expires_at BIGINT NOT NULL
    )""",
)
#: advisory lock keys (first int4: a namespace for skillcred; second: what is locked)
_LOCK_NS = 0x5C1D
_SCHEMA_LOCK = 1
_OFFERS_LOCK = 2  # the open-offer limit is checked and kept by one writer at a time
_NONCES_LOCK = 3  # likewise the waiting-nonce limit
_RETRIES = 30
#: credentials read per query by iter_records (keyset pages: no cursor left open between reads)
_PAGE = 500
_COLUMNS = "id, row_key, subject, achievement, kind, issued_at, valid_until"


def redact_url(url: str) -> str:
    """``postgresql://user@host:port/db`` without the password (for messages and logs)."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(url)
    except Exception:  # any parse problem: show nothing of it
        return "postgresql://(unparseable URL)"
    user = f"{info['user']}@" if info.get("user") else ""
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{user}{info.get('host', '')}{port}/{info.get('dbname', '')}"


def _purpose_key(purpose: str) -> int:
    return zlib.crc32(purpose.encode("utf-8")) & 0x7FFFFFFF


def _clean(value: str) -> str:
    """PostgreSQL text cannot hold NUL; the columns besides ``document`` are descriptive."""
    return value.replace("\x00", "\ufffd")


class PgRegistry:
    """A registry in a PostgreSQL database. Open with :meth:`open`; one connection, used by one
    thread at a time (a service keeps a small pool of these)."""

    def __init__(self, conn: psycopg.Connection[Any], url: str) -> None:
        self._conn = conn
        #: where the registry is, for messages (no password)
        self.path = redact_url(url)

    @classmethod
    def open(cls, url: str, *, connect_timeout: int = 10) -> PgRegistry:
        """Connect and create the tables when missing (safe when several instances start)."""
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise StoreError("a PostgreSQL registry needs psycopg: pip install 'skillcred[serve]'") from exc
        where = redact_url(url)
        try:
            conn = psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to the registry database: {_first_line(exc)}", path=where) from None
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_NS, _SCHEMA_LOCK))
                for statement in _SCHEMA:
                    conn.execute(statement)
        except psycopg.Error as exc:
            conn.close()
            raise StoreError(f"cannot set up the registry tables: {_first_line(exc)}", path=where) from None
        return cls(conn, url)

    def close(self) -> None:
        self._conn.close()

    @property
    def closed(self) -> bool:
        return bool(self._conn.closed)

    def __enter__(self) -> PgRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        """Record a new credential; returns ``(record, newly_issued)`` (see ``Registry.issue``).

        Indexes are reserved in one short transaction, ``build`` signs outside any transaction,
        and the credential is recorded in a second one. A failure in ``build`` or in recording
        releases the reserved indexes again.
        """
        import psycopg

        ordered = check_purposes(purposes)
        with self._errors():
            if row_key is not None:
                found = self._conn.execute(
                    "SELECT id FROM skillcred_credentials WHERE row_key = %s", (row_key,)
                ).fetchone()
                if found:
                    return self._record(found[0]), False
            if self._conn.execute(
                "SELECT 1 FROM skillcred_credentials WHERE id = %s", (credential_id,)
            ).fetchone():
                raise StoreError(f"credential {credential_id} is already registered")
            # a fixed order of purposes: two allocators never wait for each other's lists
            allocations = self._reserve([credential_id], ordered, status_base_url, list_size)[0]
        try:
            document = build(allocations)
            with self._errors(), self._conn.transaction():
                self._conn.execute(
                    "INSERT INTO skillcred_credentials (id, row_key, subject, achievement, kind, "
                    "issued_at, valid_until, document) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (credential_id, row_key, _clean(subject), _clean(achievement), _clean(kind),
                     issued_at, valid_until, json.dumps(document, ensure_ascii=False)),
                )
        except psycopg.errors.UniqueViolation as exc:
            self._release(credential_id, allocations)
            if row_key is not None and "row_key" in str(exc):
                found = self._conn.execute(
                    "SELECT id FROM skillcred_credentials WHERE row_key = %s", (row_key,)
                ).fetchone()
                if found:
                    return self._record(found[0]), False
            raise StoreError(f"credential {credential_id} is already registered") from None
        except BaseException:
            self._release(credential_id, allocations)
            raise
        return self._record(credential_id), True

    def issue_many(
        self,
        requests: Sequence[IssueRequest],
        build: BuildMany,
        *,
        purposes: tuple[str, ...] = PURPOSES,
    ) -> list[tuple[IssuedRecord, bool] | BaseException]:
        """:meth:`issue` for several credentials (see ``Registry.issue_many`` for ``build``).

        One short transaction per status base URL reserves every index of the call, ``build``
        signs outside any transaction, and one transaction records every credential that was
        built (a failed one gets its indexes back and its exception in its place). If
        recording fails, nothing of the call is recorded and every index is released.
        """
        import psycopg

        keys = check_distinct_row_keys(requests)
        ordered = check_purposes(purposes)
        out: list[tuple[IssuedRecord, bool] | BaseException | None] = [None] * len(requests)
        with self._errors():
            known = dict(self._conn.execute(
                "SELECT row_key, id FROM skillcred_credentials WHERE row_key = ANY(%s)", (keys,)
            ).fetchall()) if keys else {}
            fresh = [i for i, r in enumerate(requests) if r.row_key is None or r.row_key not in known]
            taken = {row[0] for row in self._conn.execute(
                "SELECT id FROM skillcred_credentials WHERE id = ANY(%s)",
                ([requests[i].credential_id for i in fresh],),
            ).fetchall()} if fresh else set()
            if taken:
                raise StoreError(f"credential {sorted(taken)[0]} is already registered")
            for i, r in enumerate(requests):
                if r.row_key is not None and r.row_key in known:
                    out[i] = (self._record(known[r.row_key]), False)
            by_base: dict[tuple[str, int], list[int]] = {}
            for i in fresh:
                by_base.setdefault((requests[i].status_base_url, requests[i].list_size), []).append(i)
            reserved: dict[int, list[Allocation]] = {}
            try:
                for (base, size), positions in by_base.items():
                    got = self._reserve([requests[i].credential_id for i in positions], ordered, base, size)
                    reserved.update(zip(positions, got, strict=True))
            except BaseException:
                self._release_many([(requests[i].credential_id, a) for i, allocs in reserved.items() for a in allocs])
                raise
        pending = [(i, reserved[i]) for i in fresh]
        rows: list[tuple[int, dict[str, Any] | EncodedDocument]] = []
        try:
            documents = iter(build(pending)) if pending else iter(())
            for i, allocs in pending:
                document = next(documents, None)
                if document is None:
                    raise InvalidArgument("issue_many: build must return one result per request")
                if isinstance(document, BaseException):
                    self._release(requests[i].credential_id, allocs)
                    out[i] = document
                else:
                    rows.append((i, document))
            with self._errors(), self._conn.transaction():
                with self._conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO skillcred_credentials (id, row_key, subject, achievement, kind, "
                        "issued_at, valid_until, document) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                        [(r.credential_id, r.row_key, _clean(r.subject), _clean(r.achievement), _clean(r.kind),
                          r.issued_at, r.valid_until, encoded_text(doc))
                         for r, doc in ((requests[i], d) for i, d in rows)],
                    )
        except psycopg.errors.UniqueViolation:
            self._release_many([(requests[i].credential_id, a) for i, allocs in pending for a in allocs])
            raise StoreError("a credential of this batch was registered meanwhile; run it again") from None
        except BaseException:
            self._release_many([(requests[i].credential_id, a) for i, allocs in pending for a in allocs])
            raise
        for i, doc in rows:
            out[i] = (built_record(requests[i], doc), True)
        return out  # type: ignore[return-value]

    def _reserve(
        self, credential_ids: list[str], purposes: tuple[str, ...], base_url: str, size: int
    ) -> list[list[Allocation]]:
        """Indexes in each of ``purposes`` for each credential, in one transaction."""
        import psycopg

        for attempt in range(_RETRIES):
            try:
                with self._conn.transaction():
                    return [[self._allocate(self._conn, p, cid, base_url, size) for p in purposes]
                            for cid in credential_ids]
            except (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected,
                    psycopg.errors.UniqueViolation):
                # a racing list creation or a transient conflict: back off a little, redo
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
        raise StoreError("could not allocate status list indexes (too much contention); try again")

    def _allocate(
        self, db: psycopg.Connection[Any], purpose: str, credential_id: str, base_url: str, size: int
    ) -> Allocation:
        """Reserve one random free index in the current list of ``purpose`` under ``base_url``.

        Must run inside a transaction (the list row lock is held until it ends).
        """
        prefix = base_url.rstrip("/") + "/"
        # One allocator per purpose at a time, across every connection: the lock is taken
        # before any row lock, always in the same purpose order, so allocators never deadlock
        # (a list filling up while another waits for it cannot strand anyone).
        db.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_NS, _purpose_key(purpose)))
        current = (
            "SELECT url, size, used FROM skillcred_status_lists "
            "WHERE purpose = %s AND starts_with(url, %s) ORDER BY seq DESC LIMIT 1 FOR UPDATE"
        )
        row = db.execute(current, (purpose, prefix)).fetchone()
        if row is None or needs_new_list(int(row[2]), int(row[1])):
            seq_row = db.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM skillcred_status_lists WHERE purpose = %s",
                (purpose,),
            ).fetchone()
            assert seq_row is not None
            url = status_list_url(base_url, purpose, seq_row[0])
            db.execute(
                "INSERT INTO skillcred_status_lists (url, purpose, seq, size) VALUES (%s, %s, %s, %s)",
                (url, purpose, seq_row[0], size),
            )
            row = db.execute(current, (purpose, prefix)).fetchone()
            assert row is not None and row[0] == url
        list_url, list_size = str(row[0]), int(row[1])
        db.execute("UPDATE skillcred_status_lists SET used = used + 1 WHERE url = %s", (list_url,))
        while True:
            idx = secrets.randbelow(list_size)
            taken = db.execute(
                "INSERT INTO skillcred_allocations (list_url, idx, credential_id, purpose) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (list_url, idx) DO NOTHING RETURNING idx",
                (list_url, idx, credential_id, purpose),
            ).fetchone()
            if taken is not None:
                return Allocation(purpose, list_url, idx)
            # taken: draw again (the list is at most half full)

    def _release(self, credential_id: str, allocations: list[Allocation]) -> None:
        """Give reserved indexes back (best effort: a leftover is a wasted slot, nothing worse)."""
        self._release_many([(credential_id, a) for a in allocations])

    def _release_many(self, items: list[tuple[str, Allocation]]) -> None:
        if not items:
            return
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                cur.executemany(
                    "DELETE FROM skillcred_allocations WHERE list_url = %s AND idx = %s "
                    "AND credential_id = %s AND NOT EXISTS "
                    "(SELECT 1 FROM skillcred_credentials WHERE id = %s)",
                    [(a.list_url, a.index, cid, cid) for cid, a in items],
                )
        except Exception:  # the original error matters more
            pass

    # -- reading ---------------------------------------------------------------------------

    def _record(self, credential_id: str) -> IssuedRecord:
        with self._errors():
            row = self._conn.execute(
                "SELECT id, row_key, subject, achievement, kind, issued_at, valid_until, document "
                "FROM skillcred_credentials WHERE id = %s",
                (credential_id,),
            ).fetchone()
            if row is None:
                raise StoreError(f"no credential {credential_id!r} in this registry", path=self.path)
            flags = dict(self._conn.execute(
                "SELECT purpose, value FROM skillcred_allocations WHERE credential_id = %s",
                (credential_id,),
            ).fetchall())
        return record_from_row(row, flags.get("revocation"), flags.get("suspension"))

    def get(self, credential_id: str) -> IssuedRecord:
        return self._record(credential_id)

    def count(self) -> int:
        with self._errors():
            row = self._conn.execute("SELECT COUNT(*) FROM skillcred_credentials").fetchone()
        return int(row[0]) if row else 0

    def records(self) -> list[IssuedRecord]:
        return list(self.iter_records())

    def iter_records(
        self, *, subject: str | None = None, achievement: str | None = None, with_documents: bool = True,
    ) -> Iterator[IssuedRecord]:
        """As :meth:`skillcred.registry.Registry.iter_records`: in issue order, read a page at a
        time (keyset pagination, so no query stays open while the caller works)."""
        after: tuple[str, int] | None = None
        while True:
            with self._errors():
                rows = self._conn.execute(
                    f"SELECT {', '.join('c.' + c for c in _COLUMNS.split(', '))}, "
                    f"{'c.document' if with_documents else 'NULL'}, "
                    "MAX(CASE WHEN a.purpose = 'revocation' THEN a.value END), "
                    "MAX(CASE WHEN a.purpose = 'suspension' THEN a.value END), c.seq "
                    "FROM skillcred_credentials c LEFT JOIN skillcred_allocations a ON a.credential_id = c.id "
                    "WHERE (%(s)s::text IS NULL OR c.subject = %(s)s) "
                    "AND (%(a)s::text IS NULL OR c.achievement = %(a)s) "
                    "AND (%(t)s::text IS NULL OR (c.issued_at, c.seq) > (%(t)s, %(q)s)) "
                    "GROUP BY c.id ORDER BY c.issued_at, c.seq LIMIT %(n)s",
                    {"s": subject, "a": achievement, "t": after[0] if after else None,
                     "q": after[1] if after else 0, "n": _PAGE},
                ).fetchall()
            for row in rows:
                yield record_from_row(row, row[8], row[9])
            if len(rows) < _PAGE:
                return
            after = (rows[-1][5], int(rows[-1][10]))

    def status_lists(self) -> list[StatusListInfo]:
        with self._errors():
            rows = self._conn.execute(
                "SELECT s.url, s.purpose, s.size, "
                "COALESCE(array_agg(a.idx ORDER BY a.idx) FILTER (WHERE a.idx IS NOT NULL), '{}') "
                "FROM skillcred_status_lists s LEFT JOIN skillcred_allocations a "
                "ON a.list_url = s.url AND a.value <> 0 "
                "GROUP BY s.url, s.purpose, s.size, s.seq ORDER BY s.purpose, s.seq"
            ).fetchall()
        return [StatusListInfo(url, purpose, size, tuple(bits)) for url, purpose, size, bits in rows]

    def token_status_values(self) -> dict[str, dict[int, int]]:
        """As :meth:`skillcred.registry.Registry.token_status_values`."""
        with self._errors():
            rows = self._conn.execute(TOKEN_STATUS_SQL.format(prefix="skillcred_")).fetchall()
        return token_status_values_of(rows)

    def token_list_urls_in_use(self) -> set[str]:
        """As :meth:`skillcred.registry.Registry.token_list_urls_in_use`."""
        with self._errors():
            return {r[0] for r in self._conn.execute(
                TOKEN_LISTS_IN_USE_SQL.format(prefix="skillcred_")).fetchall()}

    def allocations(self) -> list[tuple[str, int, str, str]]:
        """Every reserved index as ``(list_url, idx, credential_id, purpose)`` (diagnostics)."""
        with self._errors():
            return [(r[0], int(r[1]), r[2], r[3]) for r in self._conn.execute(
                "SELECT list_url, idx, credential_id, purpose FROM skillcred_allocations "
                "ORDER BY list_url, idx"
            ).fetchall()]

    # -- status changes --------------------------------------------------------------------

    def set_status(self, credential_id: str, purpose: str, value: bool) -> bool:
        """Set or clear a credential's status bit; returns whether it changed."""
        check_status_purpose(purpose)
        with self._errors(), self._conn.transaction():
            row = self._conn.execute(
                "SELECT value FROM skillcred_allocations WHERE credential_id = %s AND purpose = %s "
                "AND EXISTS (SELECT 1 FROM skillcred_credentials c WHERE c.id = %s) FOR UPDATE",
                (credential_id, purpose, credential_id),
            ).fetchone()
            if row is None:
                known = self._conn.execute(
                    "SELECT 1 FROM skillcred_credentials WHERE id = %s", (credential_id,)
                ).fetchone()
                if not known:
                    raise StoreError(f"no credential {credential_id!r} in this registry", path=self.path)
                raise StoreError(f"credential {credential_id} has no {purpose} status entry")
            if not check_status_change(purpose, row[0], value):
                return False
            self._conn.execute(
                "UPDATE skillcred_allocations SET value = %s WHERE credential_id = %s AND purpose = %s",
                (int(value), credential_id, purpose),
            )
            return True

    # -- OpenID4VCI offers (the protocol rules are in skillcred.oid4vci and the shared outcome
    # helpers of skillcred.registry; these are the atomic steps, each one transaction)

    def _offer(self, where: str, value: str, *, lock: bool = False) -> tuple[OfferRecord, tuple[Any, ...]] | None:
        row = self._conn.execute(
            "SELECT id, configuration_id, offer, created_at, expires_at, state, credential_id, "
            f"tx_code_hash, tx_attempts, token_expires_at FROM skillcred_oid4vci_offers WHERE {where} = %s"
            f"{' FOR UPDATE' if lock else ''}", (value,),
        ).fetchone()
        if row is None:
            return None
        return OfferRecord(row[0], row[1], json.loads(row[2]), int(row[3]), int(row[4]), row[5], row[6]), row[7:]

    def add_offers(self, rows: Sequence[tuple[str, str, str | None, str, dict[str, Any], int, int]], *,
                   max_open: int, now: int) -> None:
        """As :meth:`skillcred.registry.Registry.add_offers` (the limit holds across instances:
        writers of offers take one advisory lock)."""
        with self._errors(), self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_NS, _OFFERS_LOCK))
            self._conn.execute("DELETE FROM skillcred_oid4vci_offers WHERE expires_at < %s "
                               "AND state IN ('offered', 'dead')", (now - OFFER_HISTORY_SECONDS,))
            found = self._conn.execute("SELECT COUNT(*) FROM skillcred_oid4vci_offers WHERE state = 'offered' "
                                       "AND expires_at > %s", (now,)).fetchone()
            too_many_offers(int(found[0]) if found else 0, len(rows), max_open)
            with self._conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO skillcred_oid4vci_offers (id, code_hash, tx_code_hash, configuration_id, offer, "
                    "created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [(r[0], r[1], r[2], _clean(r[3]), json.dumps(r[4], sort_keys=True), r[5], r[6]) for r in rows],
                )

    def offer(self, offer_id: str) -> OfferRecord:
        with self._errors():
            found = self._offer("id", offer_id)
        if found is None:
            raise StoreError(f"no offer {offer_id!r} in this registry", path=self.path)
        return found[0]

    def offered_configurations(self, *, open_at: int | None = None) -> dict[str, dict[str, Any]]:
        """As :meth:`skillcred.registry.Registry.offered_configurations` (``open_at``: only
        configurations of offers a wallet can still take then)."""
        where, args = "", tuple[int, ...]()
        if open_at is not None:
            where = ("WHERE expires_at > %s "
                     "OR (state IN ('token', 'issuing') AND token_expires_at > %s) ")
            args = (open_at, open_at)
        with self._errors():
            rows = self._conn.execute(
                "SELECT configuration_id, MIN(offer COLLATE \"C\") FROM skillcred_oid4vci_offers " + where +
                "GROUP BY configuration_id ORDER BY configuration_id COLLATE \"C\"", args).fetchall()
        return {cid: json.loads(offer) for cid, offer in rows}

    def exchange_offer_code(self, code_hash: str, tx_code_hash: str | None, token_hash: str, *, now: int,
                            token_expires_at: int, max_tx_attempts: int) -> tuple[str, OfferRecord | None]:
        """As :meth:`skillcred.registry.Registry.exchange_offer_code` (the offer's row is locked
        for the exchange, so a code is traded once however many instances race for it)."""
        with self._errors(), self._conn.transaction():
            found = self._offer("code_hash", code_hash, lock=True)
            if found is None:
                return "unknown", None
            offer, (want_tx, attempts, _) = found
            outcome = exchange_outcome(offer, want_tx, int(attempts), tx_code_hash, now=now,
                                       max_tx_attempts=max_tx_attempts)
            if outcome in ("tx_wrong", "tx_locked") and offer.state == "offered":
                self._conn.execute(
                    "UPDATE skillcred_oid4vci_offers SET tx_attempts = tx_attempts + 1, "
                    "state = CASE WHEN %s THEN 'dead' ELSE state END WHERE id = %s",
                    (outcome == "tx_locked", offer.id))
            if outcome != "ok":
                return outcome, offer
            self._conn.execute("UPDATE skillcred_oid4vci_offers SET state = 'token', token_hash = %s, "
                               "token_expires_at = %s WHERE id = %s", (token_hash, token_expires_at, offer.id))
            return "ok", offer

    def claim_offer_token(self, token_hash: str, *, now: int) -> tuple[str, OfferRecord | None]:
        """As :meth:`skillcred.registry.Registry.claim_offer_token`."""
        with self._errors(), self._conn.transaction():
            found = self._offer("token_hash", token_hash, lock=True)
            if found is None:
                return "unknown", None
            offer, (_, _, token_expires_at) = found
            outcome = claim_outcome(offer, None if token_expires_at is None else int(token_expires_at), now=now)
            if outcome != "ok":
                return outcome, offer
            self._conn.execute("UPDATE skillcred_oid4vci_offers SET state = 'issuing' WHERE id = %s", (offer.id,))
            return "ok", offer

    def finish_offer(self, offer_id: str, credential_id: str | None) -> None:
        """As :meth:`skillcred.registry.Registry.finish_offer`."""
        with self._errors(), self._conn.transaction():
            if credential_id is None:
                self._conn.execute("UPDATE skillcred_oid4vci_offers SET state = 'token' "
                                   "WHERE id = %s AND state = 'issuing'", (offer_id,))
            else:
                self._conn.execute("UPDATE skillcred_oid4vci_offers SET state = 'issued', credential_id = %s "
                                   "WHERE id = %s", (credential_id, offer_id))

    def add_nonce(self, nonce_hash: str, *, expires_at: int, now: int, max_open: int) -> bool:
        """As :meth:`skillcred.registry.Registry.add_nonce`."""
        with self._errors(), self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_NS, _NONCES_LOCK))
            self._conn.execute("DELETE FROM skillcred_oid4vci_nonces WHERE expires_at <= %s", (now,))
            found = self._conn.execute("SELECT COUNT(*) FROM skillcred_oid4vci_nonces").fetchone()
            if found is not None and int(found[0]) >= max_open:
                return False
            self._conn.execute("INSERT INTO skillcred_oid4vci_nonces (nonce_hash, expires_at) VALUES (%s, %s)",
                               (nonce_hash, expires_at))
            return True

    def take_nonce(self, nonce_hash: str, *, now: int) -> bool:
        """As :meth:`skillcred.registry.Registry.take_nonce`."""
        with self._errors():
            row = self._conn.execute("DELETE FROM skillcred_oid4vci_nonces WHERE nonce_hash = %s RETURNING expires_at",
                                     (nonce_hash,)).fetchone()
        return row is not None and int(row[0]) > now

    # -- errors ----------------------------------------------------------------------------

    def _errors(self) -> _PgErrors:
        return _PgErrors(self.path)


class _PgErrors:
    """Turn database errors into skillcred errors (messages never carry the password)."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        if exc is None:
            return False
        import psycopg

        if isinstance(exc, psycopg.errors.UniqueViolation):
            return False  # callers decide what a duplicate means
        if isinstance(exc, psycopg.DataError):
            raise InvalidArgument(f"value not accepted by the registry database: {_first_line(exc)}") from None
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            raise StoreError(f"registry database unavailable: {_first_line(exc)}", path=self.where) from None
        if isinstance(exc, psycopg.Error):
            raise StoreError(f"registry database error: {_first_line(exc)}", path=self.where) from None
        return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _implements_the_protocol(registry: PgRegistry) -> RegistryBackend:
    return registry  # mypy checks here that PgRegistry is a complete RegistryBackend
