"""The registry's shared vocabulary: the records, requests and rules both backends use, and
the :class:`RegistryBackend` Protocol they implement.

Its own module so that :mod:`skillcred.registry` (SQLite, and ``open_registry``, which picks a
backend) and :mod:`skillcred.registry_pg` (PostgreSQL) both build on it without importing each
other. The public names are promised from :mod:`skillcred.registry` (docs/stability.md).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from skillcred.errors import InvalidArgument

PURPOSES = ("revocation", "suspension")


#: set revocation bits (value 1), and the revocation slot of each suspended credential (value 2)
TOKEN_STATUS_SQL = (
    "SELECT list_url, idx, 1 FROM {prefix}allocations WHERE purpose = 'revocation' AND value <> 0 "
    "UNION ALL SELECT r.list_url, r.idx, 2 FROM {prefix}allocations s JOIN {prefix}allocations r "
    "ON r.credential_id = s.credential_id AND r.purpose = 'revocation' "
    "WHERE s.purpose = 'suspension' AND s.value <> 0"
)

#: revocation lists with at least one credential whose record carries a Token Status List entry
TOKEN_LISTS_IN_USE_SQL = (
    "SELECT DISTINCT a.list_url FROM {prefix}allocations a JOIN {prefix}credentials c ON c.id = a.credential_id "
    "WHERE a.purpose = 'revocation' AND CAST(c.document AS TEXT) LIKE '%\"status_list\"%'"
)


def token_status_values_of(rows: Iterable[Sequence[Any]]) -> dict[str, dict[int, int]]:
    out: dict[str, dict[int, int]] = {}
    for url, idx, value in rows:
        slot = out.setdefault(str(url), {})
        slot[int(idx)] = min(slot.get(int(idx), 2), int(value))  # revoked wins over suspended
    return out


# -- rules both backends follow (one copy, so SQLite and PostgreSQL cannot drift apart) ----------


def check_purposes(purposes: Sequence[str]) -> tuple[str, ...]:
    """The status purposes to allocate, in the fixed order of :data:`PURPOSES`.

    Unknown or repeated purposes are refused; the fixed order is what keeps two PostgreSQL
    allocators from ever waiting on each other's lists (and makes both backends allocate alike)."""
    for p in purposes:
        if p not in PURPOSES:
            raise InvalidArgument(f"status purpose must be one of {', '.join(PURPOSES)}")
    if len(set(purposes)) != len(purposes):
        raise InvalidArgument("each status purpose can be allocated once per credential")
    return tuple(p for p in PURPOSES if p in purposes)


def check_distinct_row_keys(requests: Sequence[IssueRequest]) -> list[str]:
    """The row keys of a batch, refused when one repeats (one call records each key once)."""
    keys = [r.row_key for r in requests if r.row_key is not None]
    if len(keys) != len(set(keys)):
        raise InvalidArgument("issue_many: row keys must be distinct within one call")
    return keys


def needs_new_list(used: int, size: int) -> bool:
    """A list takes credentials until half its indexes are used (random probing stays cheap and
    the list sparse, for herd privacy); then the next list is opened."""
    return used >= size // 2


def status_list_url(base_url: str, purpose: str, seq: int) -> str:
    """The URL of the ``seq``-th list of ``purpose`` under ``base_url``."""
    return f"{base_url.rstrip('/')}/{purpose}-{seq}"


def record_from_row(row: Sequence[Any], revoked: Any, suspended: Any) -> IssuedRecord:
    """An :class:`IssuedRecord` from ``(id, row_key, subject, achievement, kind, issued_at,
    valid_until, document JSON or None)`` and the two status values."""
    return IssuedRecord(
        id=row[0], row_key=row[1], subject=row[2], achievement=row[3], kind=row[4],
        issued_at=row[5], valid_until=row[6], document=json.loads(row[7]) if row[7] else {},
        revoked=bool(revoked), suspended=bool(suspended),
    )


def new_record(r: IssueRequest, document: dict[str, Any]) -> IssuedRecord:
    """The record of a credential just issued from ``r`` (no status bit set yet)."""
    return IssuedRecord(
        id=r.credential_id, row_key=r.row_key, subject=r.subject, achievement=r.achievement,
        kind=r.kind, issued_at=r.issued_at, valid_until=r.valid_until, document=document,
        revoked=False, suspended=False,
    )


def check_status_change(purpose: str, current: int, value: bool) -> bool:
    """Whether setting ``purpose`` to ``value`` changes anything; refuses un-revoking."""
    if purpose == "revocation" and current and not value:
        raise InvalidArgument("revocation is permanent: a revoked credential cannot be reinstated")
    return bool(current) != value


def check_status_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise InvalidArgument(f"status purpose must be one of {', '.join(PURPOSES)}")


#: unused offers are forgotten a month after they expire
OFFER_HISTORY_SECONDS = 30 * 86400


def too_many_offers(open_now: int, adding: int, max_open: int) -> None:
    if open_now + adding > max_open:
        raise InvalidArgument(f"too many open offers ({open_now}; at most {max_open}): "
                              "let some expire or be redeemed first")


def exchange_outcome(offer: OfferRecord, want_tx: str | None, attempts: int, tx_code_hash: str | None, *,
                     now: int, max_tx_attempts: int) -> str:
    """What trading an offer's pre-authorized code means, before anything is written:
    ``ok``, ``used``, ``expired``, ``tx_missing``, ``tx_wrong`` or ``tx_locked`` (the caller
    records a wrong transaction code for the last two, and the token for ``ok``)."""
    if offer.state != "offered":
        return "tx_locked" if offer.state == "dead" else "used"
    if offer.expires_at <= now:
        return "expired"
    if want_tx is not None:
        if tx_code_hash is None:
            return "tx_missing"
        if not secrets.compare_digest(want_tx, tx_code_hash):
            return "tx_locked" if attempts + 1 >= max_tx_attempts else "tx_wrong"
    return "ok"


def claim_outcome(offer: OfferRecord, token_expires_at: int | None, *, now: int) -> str:
    """What taking an access token means: ``ok``, ``used`` or ``expired``."""
    if offer.state != "token":
        return "used"
    if token_expires_at is None or token_expires_at <= now:
        return "expired"
    return "ok"


@dataclass(frozen=True)
class Allocation:
    purpose: str
    list_url: str
    index: int


@dataclass(frozen=True)
class IssueRequest:
    """One credential to record with :meth:`Registry.issue_many` (the arguments of :meth:`Registry.issue`)."""

    credential_id: str
    row_key: str | None
    subject: str
    achievement: str
    kind: str
    issued_at: str
    valid_until: str | None
    status_base_url: str
    list_size: int


@dataclass(frozen=True)
class IssuedRecord:
    id: str
    row_key: str | None
    subject: str
    achievement: str
    kind: str
    issued_at: str
    valid_until: str | None
    document: dict[str, Any]
    revoked: bool
    suspended: bool


@dataclass(frozen=True)
class StatusListInfo:
    url: str
    purpose: str
    size: int
    set_indexes: tuple[int, ...]


@dataclass(frozen=True)
class OfferRecord:
    """One OpenID4VCI credential offer (see :mod:`skillcred.oid4vci`): what it issues
    (``offer``: achievement, name, level, format) and where it is in its life:
    ``offered`` -> ``token`` (code exchanged) -> ``issuing`` -> ``issued``, or ``dead``."""

    id: str
    configuration_id: str
    offer: dict[str, Any]
    created_at: int
    expires_at: int
    state: str
    credential_id: str | None


@dataclass(frozen=True)
class EncodedDocument:
    """A signed document its builder has already serialized (a batch worker: the JSON it
    writes anyway). :meth:`Registry.issue_many` stores ``text`` as it is instead of encoding
    the document again, and the record it returns for it has ``document={}``: the caller asked
    for no document back (a batch that keeps no records), so the parent process neither
    receives the document from the worker nor encodes it, about a sixth of its work per
    credential. ``text`` must be the document's JSON (an object); only skillcred's own batch
    code makes these."""

    text: str


def encoded_text(document: dict[str, Any] | EncodedDocument) -> str:
    """The JSON text the registry stores for a built document."""
    if isinstance(document, EncodedDocument):
        return document.text
    return json.dumps(document, ensure_ascii=False)


def built_record(r: IssueRequest, document: dict[str, Any] | EncodedDocument) -> IssuedRecord:
    """:func:`new_record`, with no document for an :class:`EncodedDocument`."""
    return new_record(r, {} if isinstance(document, EncodedDocument) else document)


BuildOne = Callable[[list[Allocation]], dict[str, Any]]
BuildMany = Callable[[list[tuple[int, list[Allocation]]]],
                     Iterable[dict[str, Any] | EncodedDocument | BaseException]]


@runtime_checkable
class RegistryBackend(Protocol):
    """What issuing, status publication, OpenID4VCI and the service need of a registry.

    :class:`Registry` (SQLite, in the issuer folder) and
    :class:`skillcred.registry_pg.PgRegistry` (PostgreSQL, for several service instances)
    both implement all of it with the same meaning (``tests/test_registry_protocol.py`` runs
    one set of tests against both); :func:`open_registry` opens either from a path or URL.
    The backends differ only in *when* they sign: SQLite inside its write transaction,
    PostgreSQL between two short ones (so instances sign in parallel).
    """

    #: where the registry is, for messages (a file path, or a URL without its password)
    path: Any

    def close(self) -> None: ...

    def __enter__(self) -> RegistryBackend: ...

    def __exit__(self, *exc: object) -> None: ...

    # issuing
    def issue(
        self, *, credential_id: str, row_key: str | None, subject: str, achievement: str, kind: str,
        issued_at: str, valid_until: str | None, status_base_url: str, list_size: int, build: BuildOne,
        purposes: tuple[str, ...] = PURPOSES,
    ) -> tuple[IssuedRecord, bool]: ...

    def issue_many(
        self, requests: Sequence[IssueRequest], build: BuildMany, *, purposes: tuple[str, ...] = PURPOSES,
    ) -> list[tuple[IssuedRecord, bool] | BaseException]: ...

    # reading
    def get(self, credential_id: str) -> IssuedRecord: ...

    def count(self) -> int: ...

    def records(self) -> list[IssuedRecord]: ...

    def iter_records(
        self, *, subject: str | None = None, achievement: str | None = None, with_documents: bool = True,
    ) -> Iterator[IssuedRecord]: ...

    # status
    def status_lists(self) -> list[StatusListInfo]: ...

    def set_status(self, credential_id: str, purpose: str, value: bool) -> bool: ...

    def token_status_values(self) -> dict[str, dict[int, int]]: ...

    def token_list_urls_in_use(self) -> set[str]: ...

    # OpenID4VCI offers and nonces
    def add_offers(self, rows: Sequence[tuple[str, str, str | None, str, dict[str, Any], int, int]], *,
                   max_open: int, now: int) -> None: ...

    def offer(self, offer_id: str) -> OfferRecord: ...

    def offered_configurations(self, *, open_at: int | None = None) -> dict[str, dict[str, Any]]: ...

    def exchange_offer_code(self, code_hash: str, tx_code_hash: str | None, token_hash: str, *, now: int,
                            token_expires_at: int, max_tx_attempts: int) -> tuple[str, OfferRecord | None]: ...

    def claim_offer_token(self, token_hash: str, *, now: int) -> tuple[str, OfferRecord | None]: ...

    def finish_offer(self, offer_id: str, credential_id: str | None) -> None: ...

    def add_nonce(self, nonce_hash: str, *, expires_at: int, now: int, max_open: int) -> bool: ...

    def take_nonce(self, nonce_hash: str, *, now: int) -> bool: ...


def is_postgres_url(value: str | Path) -> bool:
    """Whether a ``--registry`` value names a PostgreSQL database (else it is a SQLite file)."""
    return isinstance(value, str) and value.startswith(("postgresql://", "postgres://"))
