"""The employer's verifier folder: its key and DID, and an SQLite store of requests (one per
vacancy), transactions (one per fetch of a request object: its own nonce and state) and the
responses received, with their verification and match reports.

A vacancy's QR code is public and many candidates answer it, so the *request* is long-lived
and each fetch of its ``request_uri`` opens a fresh transaction: nonce and state are never
shared between two wallets. A transaction is answerable once (:meth:`VerifierStore.consume`
marks it used in one ``BEGIN IMMEDIATE`` transaction, so two concurrent replays cannot both
pass) and only until it expires.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillcred._internal.fileio import atomic_write, dump_json, load_json_object
from skillcred._internal.timeutil import format_datetime, utcnow
from skillcred.did import key_did, key_did_url
from skillcred.errors import InvalidArgument, Oid4vpRefused, StoreError
from skillcred.keys import KeyPair, KeyType, read_key_file, write_key_file
from skillcred.oid4vp._didweb import method_key, verifier_method
from skillcred.oid4vp._request import DEFAULT_TTL, client_id_for

VERIFIER_FILE = "verifier.json"
KEY_FILE = "verifier-key.pem"
#: a did:web verifier's DID document (publish it at the did:web's URL; give it to wallets)
DID_DOCUMENT_FILE = "did.json"
DB_FILE = "verifier.sqlite"
#: open transactions kept per request; the oldest expired ones go first
MAX_OPEN_TRANSACTIONS = 100_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    title TEXT NOT NULL,
    purpose TEXT,
    verifier_url TEXT NOT NULL,
    profile TEXT NOT NULL,
    dcql_query TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    state TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id),
    payload TEXT NOT NULL,
    expires REAL NOT NULL,
    used_at TEXT
);
CREATE TABLE IF NOT EXISTS responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES requests(id),
    state TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    verified INTEGER NOT NULL,
    reason TEXT,
    holder TEXT,
    essential_coverage REAL,
    score REAL,
    result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_by_request ON responses(request_id);
"""


def default_verifier_path() -> Path:
    """``$SKILLCRED_VERIFIER``, else ``$XDG_DATA_HOME/skillcred/verifier`` (``~/.local/share``)."""
    env = os.environ.get("SKILLCRED_VERIFIER")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "skillcred" / "verifier"


@dataclass(frozen=True)
class StoredRequest:
    id: str
    created_at: str
    title: str
    purpose: str | None
    verifier_url: str
    profile: dict[str, Any]
    dcql_query: dict[str, Any]


@dataclass(frozen=True)
class StoredResponse:
    id: int
    request_id: str
    received_at: str
    verified: bool
    reason: str | None
    holder: str | None
    essential_coverage: float | None
    score: float | None
    result: dict[str, Any]


class VerifierStore:
    """A verifier folder (see the module docstring). :meth:`init` makes one; :meth:`open` reads it."""

    def __init__(self, root: Path, did: str, verification_method: str, name: str | None) -> None:
        self.root = root
        self.did = did
        self.verification_method = verification_method
        self.name = name

    @property
    def client_id(self) -> str:
        return client_id_for(self.did)

    @classmethod
    def init(cls, root: str | os.PathLike[str], *, name: str | None = None, key_type: KeyType = "ed25519",
             passphrase: bytes | None = None, key: KeyPair | None = None, did: str | None = None,
             did_document: Mapping[str, Any] | None = None) -> VerifierStore:
        """A new verifier folder (refused if ``root`` already holds one): a fresh did:key, or
        the employer's own ``key`` -- as its did:key, or with ``did`` a did:web whose
        ``did_document`` (else a new one, :data:`DID_DOCUMENT_FILE`, to publish) lists that key
        for authentication or assertionMethod (:func:`skillcred.oid4vp._didweb.verifier_method`).
        Everything is checked before anything is written."""
        path = Path(root)
        if (path / VERIFIER_FILE).exists():
            raise StoreError(f"{path} is already a verifier folder", path=str(path))
        if (did is not None or did_document is not None) and key is None:
            raise InvalidArgument("a verifier DID needs the key it signs with")
        if did_document is not None and did is None:
            raise InvalidArgument("a verifier DID document needs the DID it is for")
        key = key or KeyPair.generate(key_type)
        document: dict[str, Any] | None = None
        if did is None or did.startswith("did:key:"):
            if did is not None and did != key_did(key.public_key):
                raise InvalidArgument(f"{did} is not the did:key of this key")
            did, vm = key_did(key.public_key), key_did_url(key.public_key)
        else:
            vm, document = verifier_method(did, key.public_key, did_document)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_key_file(path / KEY_FILE, key, passphrase=passphrase)
        if document is not None:
            atomic_write(path / DID_DOCUMENT_FILE, dump_json(document))
        meta = {"version": 1, "did": did, "verificationMethod": vm, "name": name}
        atomic_write(path / VERIFIER_FILE, dump_json(meta))
        store = cls.open(path)
        store._connect().close()
        return store

    @classmethod
    def open(cls, root: str | os.PathLike[str]) -> VerifierStore:
        path = Path(root)
        if not (path / VERIFIER_FILE).is_file():
            raise StoreError(f"{path} is not a verifier folder (no {VERIFIER_FILE}); "
                             "'skillcred request new' makes one", path=str(path))
        meta = load_json_object(path / VERIFIER_FILE)
        did, vm = meta.get("did"), meta.get("verificationMethod")
        if not isinstance(did, str) or not isinstance(vm, str) or not vm.startswith(did + "#"):
            raise StoreError(f"{path / VERIFIER_FILE} is damaged (did / verificationMethod)", path=str(path))
        name = meta.get("name") if isinstance(meta.get("name"), str) else None
        return cls(path, did, vm, name)

    def key(self, passphrase: bytes | None = None) -> KeyPair:
        """The key request objects are signed with (a key file others can read only warns:
        it signs requests, not credentials)."""
        key = read_key_file(self.root / KEY_FILE, passphrase)
        if self.did.startswith("did:web:"):
            if key.public_key != method_key(self.did_document(), self.verification_method):
                raise StoreError(f"{self.root / KEY_FILE} is not the key of {self.verification_method}",
                                 path=str(self.root))
        elif key_did(key.public_key) != self.did:
            raise StoreError(f"{self.root / KEY_FILE} is not the key of {self.did}", path=str(self.root))
        return key

    def did_document(self) -> dict[str, Any]:
        """A did:web verifier's DID document (:data:`DID_DOCUMENT_FILE`): what wallets are given
        to check its requests (they never fetch it). A did:key verifier has none to give."""
        if not self.did.startswith("did:web:"):
            raise InvalidArgument(f"{self.did} is a did:key: wallets derive its document, none is kept")
        doc = load_json_object(self.root / DID_DOCUMENT_FILE)
        if doc.get("id") != self.did:
            raise StoreError(f"{self.root / DID_DOCUMENT_FILE} is not the DID document of {self.did}",
                             path=str(self.root))
        return doc

    # -- database ------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.root / DB_FILE, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.root / DB_FILE}: {exc}", path=str(self.root)) from exc
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.root / DB_FILE}: {exc}", path=str(self.root)) from exc
        finally:
            conn.close()

    # -- requests ------------------------------------------------------------------------------

    def add_request(self, *, title: str, purpose: str | None, verifier_url: str, profile: dict[str, Any],
                    dcql_query: dict[str, Any]) -> StoredRequest:
        rid = secrets.token_urlsafe(12)
        now = format_datetime(utcnow())
        with self._tx() as db:
            db.execute("INSERT INTO requests VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (rid, now, title, purpose, verifier_url, json.dumps(profile), json.dumps(dcql_query)))
        return StoredRequest(rid, now, title, purpose, verifier_url, profile, dcql_query)

    def requests(self) -> list[StoredRequest]:
        conn = self._connect()
        try:
            rows = conn.execute("SELECT * FROM requests ORDER BY created_at, rowid").fetchall()
        finally:
            conn.close()
        return [StoredRequest(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), json.loads(r[6])) for r in rows]

    def request(self, rid: str | None = None) -> StoredRequest:
        """The request ``rid`` (None: the newest one)."""
        reqs = self.requests()
        if not reqs:
            raise InvalidArgument(f"no requests in {self.root} yet ('skillcred request new')")
        if rid is None:
            return reqs[-1]
        found = [r for r in reqs if r.id == rid]
        if not found:
            raise InvalidArgument(f"no request {rid!r} in {self.root}")
        return found[0]

    # -- transactions --------------------------------------------------------------------------

    def open_transaction(self, rid: str, payload: dict[str, Any]) -> None:
        """Record the claims of a request object just made for ``rid`` (its state is the key)."""
        now = utcnow().timestamp()
        with self._tx() as db:
            db.execute("DELETE FROM transactions WHERE expires < ? AND used_at IS NULL", (now - DEFAULT_TTL,))
            (count,) = db.execute("SELECT COUNT(*) FROM transactions WHERE request_id = ? AND used_at IS NULL",
                                  (rid,)).fetchone()
            if count >= MAX_OPEN_TRANSACTIONS:
                raise Oid4vpRefused("too_many_open_requests", "too many unanswered request objects; try again later")
            db.execute("INSERT INTO transactions VALUES (?, ?, ?, ?, NULL)",
                       (payload["state"], rid, json.dumps(payload), float(payload["exp"])))

    def consume(self, state: str) -> tuple[str, dict[str, Any]]:
        """Mark the transaction of ``state`` answered and return (request id, request claims);
        :class:`Oid4vpRefused`: ``state_unknown``, ``state_used`` (a replay) or
        ``request_expired``. Marked before the response is checked, so a replay racing the first
        response loses."""
        now = utcnow()
        with self._tx() as db:
            row = db.execute("SELECT request_id, payload, expires, used_at FROM transactions WHERE state = ?",
                             (state,)).fetchone()
            if row is None:
                raise Oid4vpRefused("state_unknown", "this verifier made no request with that state")
            if row[3] is not None:
                raise Oid4vpRefused("state_used", "this request was already answered: a response is accepted once "
                                    "(a replay)")
            if now.timestamp() > row[2]:
                raise Oid4vpRefused("request_expired", "the request expired before the response came")
            db.execute("UPDATE transactions SET used_at = ? WHERE state = ?", (format_datetime(now), state))
        return str(row[0]), json.loads(row[1])

    # -- responses -----------------------------------------------------------------------------

    def add_response(self, rid: str, state: str, *, verified: bool, reason: str | None, holder: str | None,
                     essential_coverage: float | None, score: float | None, result: dict[str, Any]) -> int:
        with self._tx() as db:
            cur = db.execute("INSERT INTO responses (request_id, state, received_at, verified, reason, holder, "
                             "essential_coverage, score, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (rid, state, format_datetime(utcnow()), int(verified), reason, holder,
                              essential_coverage, score, json.dumps(result)))
            return int(cur.lastrowid or 0)

    def responses(self, rid: str) -> list[StoredResponse]:
        conn = self._connect()
        try:
            rows = conn.execute("SELECT id, request_id, received_at, verified, reason, holder, essential_coverage, "
                                "score, result FROM responses WHERE request_id = ? ORDER BY id", (rid,)).fetchall()
        finally:
            conn.close()
        return [StoredResponse(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6], r[7], json.loads(r[8])) for r in rows]


def ranked(responses: Sequence[StoredResponse]) -> list[StoredResponse]:
    """The verified responses in ``skillcred rank`` order (essential coverage, then score, both
    descending; :func:`skillcred.match.rank_key`), ties in arrival order."""
    ok = [r for r in responses if r.verified]
    return sorted(ok, key=lambda r: (-(r.essential_coverage or 0.0), -(r.score or 0.0), r.id))
