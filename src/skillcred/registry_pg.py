"""The issuer's registry on PostgreSQL, for several service instances issuing at once.

Same interface and the same meaning as :class:`skillcred.registry.Registry` (SQLite, the
embedded default): ``issue`` / ``_allocate`` / ``set_status`` / ``status_lists`` / ``get`` /
``count`` / ``records``. Needs ``psycopg`` 3 (the ``serve`` extra).

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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from skillcred.errors import InvalidArgument, StoreError
from skillcred.registry import PURPOSES, Allocation, IssuedRecord, StatusListInfo

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
)
#: advisory lock keys (first int4: a namespace for skillcred; second: what is locked)
_LOCK_NS = 0x5C1D
_SCHEMA_LOCK = 1
_RETRIES = 30


def is_postgres_url(value: str) -> bool:
    return value.startswith(("postgresql://", "postgres://"))


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

        for p in purposes:
            if p not in PURPOSES:
                raise InvalidArgument(f"status purpose must be one of {', '.join(PURPOSES)}")
        if len(set(purposes)) != len(purposes):
            raise InvalidArgument("each status purpose can be allocated once per credential")
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
            ordered = tuple(p for p in PURPOSES if p in purposes)
            allocations = self._reserve(credential_id, ordered, status_base_url, list_size)
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

    def _reserve(
        self, credential_id: str, purposes: tuple[str, ...], base_url: str, size: int
    ) -> list[Allocation]:
        import psycopg

        for attempt in range(_RETRIES):
            try:
                with self._conn.transaction():
                    return [self._allocate(self._conn, p, credential_id, base_url, size) for p in purposes]
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
        if row is None or row[2] >= row[1] // 2:
            seq_row = db.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM skillcred_status_lists WHERE purpose = %s",
                (purpose,),
            ).fetchone()
            assert seq_row is not None
            url = f"{base_url.rstrip('/')}/{purpose}-{seq_row[0]}"
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
        try:
            with self._conn.transaction():
                for a in allocations:
                    self._conn.execute(
                        "DELETE FROM skillcred_allocations WHERE list_url = %s AND idx = %s "
                        "AND credential_id = %s AND NOT EXISTS "
                        "(SELECT 1 FROM skillcred_credentials WHERE id = %s)",
                        (a.list_url, a.index, credential_id, credential_id),
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
        return IssuedRecord(
            id=row[0], row_key=row[1], subject=row[2], achievement=row[3], kind=row[4],
            issued_at=row[5], valid_until=row[6], document=json.loads(row[7]),
            revoked=bool(flags.get("revocation")), suspended=bool(flags.get("suspension")),
        )

    def get(self, credential_id: str) -> IssuedRecord:
        return self._record(credential_id)

    def count(self) -> int:
        with self._errors():
            row = self._conn.execute("SELECT COUNT(*) FROM skillcred_credentials").fetchone()
        return int(row[0]) if row else 0

    def records(self) -> list[IssuedRecord]:
        with self._errors():
            ids = [r[0] for r in self._conn.execute(
                "SELECT id FROM skillcred_credentials ORDER BY issued_at, id"
            ).fetchall()]
        return [self._record(i) for i in ids]

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
            rows = self._conn.execute(
                "SELECT list_url, idx, 1 FROM skillcred_allocations WHERE purpose = 'revocation' AND value <> 0 "
                "UNION ALL SELECT r.list_url, r.idx, 2 FROM skillcred_allocations s JOIN skillcred_allocations r "
                "ON r.credential_id = s.credential_id AND r.purpose = 'revocation' "
                "WHERE s.purpose = 'suspension' AND s.value <> 0").fetchall()
        out: dict[str, dict[int, int]] = {}
        for url, idx, value in rows:
            slot = out.setdefault(str(url), {})
            slot[int(idx)] = min(slot.get(int(idx), 2), int(value))  # revoked wins over suspended
        return out

    def token_list_urls_in_use(self) -> set[str]:
        """As :meth:`skillcred.registry.Registry.token_list_urls_in_use`."""
        with self._errors():
            return {r[0] for r in self._conn.execute(
                "SELECT DISTINCT a.list_url FROM skillcred_allocations a JOIN skillcred_credentials c "
                "ON c.id = a.credential_id WHERE a.purpose = 'revocation' "
                "AND CAST(c.document AS TEXT) LIKE '%\"status_list\"%'").fetchall()}

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
        if purpose not in PURPOSES:
            raise InvalidArgument(f"status purpose must be one of {', '.join(PURPOSES)}")
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
            if purpose == "revocation" and row[0] and not value:
                raise InvalidArgument("revocation is permanent: a revoked credential cannot be reinstated")
            if bool(row[0]) == value:
                return False
            self._conn.execute(
                "UPDATE skillcred_allocations SET value = %s WHERE credential_id = %s AND purpose = %s",
                (int(value), credential_id, purpose),
            )
            return True

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
