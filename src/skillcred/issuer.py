"""The training institute's side: set up once, issue skill credentials, revoke and publish.

An *issuer folder* holds everything an institute needs, offline::

    issuer.json         profile: name, url, DID, verification method, suite, status URL base
    issuer-key.pem      the signing key (PKCS#8, mode 0600, encrypted with a passphrase)
    did.json            for did:web: the DID document to publish at the institute's domain
    registry.sqlite     every issued credential and its status-list indexes

Issuing turns an achievement definition (``examples/achievements/*.yaml``) plus a subject DID
into a signed Open Badges 3.0 credential with revocation and suspension status entries. The
credential is built from the models, validated against its JSON Schema, signed, and recorded
in one registry transaction: nothing is half-issued.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import io
import itertools
import math
import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import ValidationError

from skillcred._internal.fileio import (
    MAX_JSON_BYTES,
    atomic_write,
    dump_json,
    load_json_object,
    open_input,
    read_bounded,
)
from skillcred._internal.timeutil import format_datetime, parse_datetime, utcnow
from skillcred.did import key_did, key_did_document, key_did_url, web_did, web_did_document, web_did_url_path
from skillcred.errors import (
    EscoUnknownConcept,
    InvalidArgument,
    MalformedDocument,
    SchemaViolation,
    SkillcredError,
    StoreError,
)
from skillcred.keys import KEY_TYPES, KeyPair, KeyType, PublicKey, read_key_file, write_key_file
from skillcred.models import (
    AchievementDefinition,
    AchievementSubject,
    CredentialSchemaRef,
    Evidence,
    IdentityObject,
    OpenBadgeCredential,
    Profile,
    Result,
    StatusEntry,
)
from skillcred.proofs import CRYPTOSUITES, add_proof, add_proof_to_own, default_suite_for
from skillcred.registry import Allocation, IssuedRecord, Registry, RegistryBackend, StatusListInfo, open_registry
from skillcred.schemas import ACHIEVEMENT_DEFINITION, CREDENTIAL_SCHEMA_BY_KIND, validate
from skillcred.secured import SecuredCredential
from skillcred.securing import SD_SUITE, mandatory_pointers, secure_token
from skillcred.status import BitstringStatusList, status_entry, status_list_credential

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import Future

    from skillcred._internal import batch as batch_module
    from skillcred.esco import Taxonomy

__all__ = [
    "BatchResult",
    "EvidenceInput",
    "Issuer",
    "IssuerProfile",
    "RowError",
    "check_esco_alignments",
    "count_roster_rows",
    "get_issued",
    "init_issuer",
    "iter_issued",
    "iter_roster",
    "load_achievement",
    "open_issuer_registry",
]

PROFILE_FILE = "issuer.json"
KEY_FILE = "issuer-key.pem"
DID_FILE = "did.json"
REGISTRY_FILE = "registry.sqlite"
DEFAULT_LIST_SIZE = 131_072


def _rubric_levels(achievement: Any) -> list[str]:
    """The ``level`` values of an achievement's rubric (none: a pass/fail achievement)."""
    return [lvl.level for rd in achievement.resultDescription or [] for lvl in rd.rubricCriterionLevel or []]


@dataclass(frozen=True)
class IssuerProfile:
    """The contents of ``issuer.json``."""

    name: str
    url: str
    did: str
    did_method: Literal["key", "web"]
    verification_method: str
    key_type: KeyType
    suite: str
    status_base_url: str
    list_size: int = DEFAULT_LIST_SIZE

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any], *, source: str) -> IssuerProfile:
        try:
            return cls(**data)
        except TypeError as exc:
            raise MalformedDocument(f"not a skillcred issuer profile ({exc})", path=source) from exc


def init_issuer(
    folder: str | os.PathLike[str],
    *,
    name: str,
    url: str,
    did_method: Literal["key", "web"] = "key",
    key_type: KeyType = "ed25519",
    suite: str | None = None,
    status_base_url: str | None = None,
    passphrase: bytes | None = None,
    list_size: int = DEFAULT_LIST_SIZE,
) -> IssuerProfile:
    """Create an issuer folder: key, profile, registry (and ``did.json`` for did:web).

    Refuses a folder that already holds an issuer. On any failure the files created so far
    are removed again, so a half-initialised issuer never exists.
    """
    root = Path(folder)
    if (root / PROFILE_FILE).exists():
        raise StoreError("an issuer already exists here; refusing to overwrite it", path=str(root))
    if not name.strip():
        raise InvalidArgument("name must not be empty: every credential names the institute", field="name")
    if key_type not in KEY_TYPES:
        raise InvalidArgument(f"key type must be one of {', '.join(KEY_TYPES)}")
    if not url.startswith("https://") and not url.startswith("http://"):
        raise InvalidArgument(f"url must be an http(s) URL, not {url!r}", field="url")
    if list_size < DEFAULT_LIST_SIZE or list_size % 8:
        raise InvalidArgument(f"status lists must hold at least {DEFAULT_LIST_SIZE} entries")
    key = KeyPair.generate(key_type)
    chosen_suite = suite or default_suite_for(key)
    if chosen_suite not in CRYPTOSUITES:
        raise InvalidArgument(f"unknown cryptosuite {chosen_suite!r}")
    if key_type not in CRYPTOSUITES[chosen_suite].key_types:
        raise InvalidArgument(f"{chosen_suite} cannot be used with a {key_type} key")
    if did_method == "key":
        did, vm = key_did(key.public_key), key_did_url(key.public_key)
    elif did_method == "web":
        if not url.startswith("https://"):
            raise InvalidArgument("did:web needs an https:// url (the domain that publishes did.json)", field="url")
        did = web_did(url)
        vm = f"{did}#{key.public_multikey}"
    else:
        raise InvalidArgument("did_method must be key or web", field="did_method")
    profile = IssuerProfile(
        name=name, url=url.rstrip("/"), did=did, did_method=did_method, verification_method=vm,
        key_type=key_type, suite=chosen_suite,
        status_base_url=(status_base_url or f"{url.rstrip('/')}/status").rstrip("/"),
        list_size=list_size,
    )
    created: list[Path] = []
    try:
        root.mkdir(parents=True, exist_ok=True)
        write_key_file(root / KEY_FILE, key, passphrase)
        created.append(root / KEY_FILE)
        if did_method == "web":
            atomic_write(root / DID_FILE, dump_json(web_did_document(did, [key.public_key])))
            created.append(root / DID_FILE)
        Registry.open(root / REGISTRY_FILE, create=True).close()
        created.extend(root / n for n in (REGISTRY_FILE, REGISTRY_FILE + "-wal", REGISTRY_FILE + "-shm"))
        atomic_write(root / PROFILE_FILE, dump_json(profile.to_json()))  # last: marks completion
    except BaseException:
        for p in created:
            with contextlib.suppress(OSError):
                p.unlink()
        raise
    return profile


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error as a person can act on it: the problem and its line and column (1-based)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}{f' ({context})' if context else ''}"


def load_achievement(path: str | os.PathLike[str], *, esco: Taxonomy | None = None) -> AchievementDefinition:
    """Read an achievement file (JSON or YAML) and validate it before anything is signed.

    An alignment to ESCO (``targetFramework: ESCO``, or an ESCO concept URI as ``targetUrl`` or
    ``targetCode``) must name a concept the ESCO taxonomy has (``esco``, by default the user's
    imported store or the embedded snapshot): an unknown URI is refused, naming it, rather than
    signed into a credential no vacancy can match. A missing ``targetName`` is filled with
    ESCO's preferred label and a missing ``targetUrl`` with the URI from ``targetCode``."""
    p = Path(path)
    if p.suffix.lower() in (".yaml", ".yml"):
        raw = read_bounded(p, max_bytes=MAX_JSON_BYTES, what="achievement file")
        try:
            data = yaml.safe_load(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise MalformedDocument(f"cannot read achievement file: {exc}", path=str(p)) from exc
        except yaml.YAMLError as exc:
            raise MalformedDocument(f"not valid YAML: {_yaml_problem(exc)}", path=str(p)) from exc
        if not isinstance(data, dict):
            raise MalformedDocument("expected a mapping at the top level", path=str(p))
    else:
        data = load_json_object(p)
    _complete_esco_alignments(data, str(p), esco)
    validate(data, ACHIEVEMENT_DEFINITION, source=str(p))
    try:
        return AchievementDefinition.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise SchemaViolation(f"{where}: {first['msg']}", path=str(p), json_path=where) from exc


def _esco_alignment_uri(a: dict[str, Any], source: str) -> str:
    from skillcred.esco import is_esco_uri

    url, code = a.get("targetUrl"), a.get("targetCode")
    uri = url if isinstance(url, str) and is_esco_uri(url) else code
    if not isinstance(uri, str) or not is_esco_uri(uri):
        raise SchemaViolation(f"an ESCO alignment ({a.get('targetName') or url or code!r}) names no ESCO concept "
                              "URI in targetUrl or targetCode", path=source)
    if isinstance(url, str) and isinstance(code, str) and is_esco_uri(code) and url != code:
        raise SchemaViolation(f"an ESCO alignment names two concepts: targetUrl {url} and targetCode {code}",
                              path=source)
    return uri


def _complete_esco_alignments(data: dict[str, Any], source: str, esco: Taxonomy | None) -> None:
    """Check an achievement file's ESCO alignments against the taxonomy and fill their label."""
    ach = data.get("achievement")
    if not isinstance(ach, dict) or not isinstance(ach.get("alignment"), list):
        return
    from skillcred.esco import default_taxonomy, iter_esco_alignments

    found = list(iter_esco_alignments(ach["alignment"]))
    if not found:
        return
    tax = esco or default_taxonomy()
    for a in found:
        uri = _esco_alignment_uri(a, source)
        if not tax.has(uri):
            raise EscoUnknownConcept(f"alignment {uri} is not an ESCO concept ({tax.describe()})", path=source)
        a.setdefault("targetUrl", uri)
        if not a.get("targetName"):
            a["targetName"] = tax.label(uri, "en") or uri
        a.setdefault("targetFramework", "ESCO")


def check_esco_alignments(definition: AchievementDefinition, esco: Taxonomy | None = None) -> None:
    """Refuse a definition whose ESCO alignments name a concept the taxonomy does not have
    (the check :func:`load_achievement` makes, for definitions built in code)."""
    alignments = [a.model_dump(exclude_none=True) for a in definition.achievement.alignment or []]
    from skillcred.esco import default_taxonomy, iter_esco_alignments

    found = list(iter_esco_alignments(alignments))
    if not found:
        return
    tax = esco or default_taxonomy()
    for a in found:
        uri = _esco_alignment_uri(a, definition.achievement.id or definition.achievement.name)
        if not tax.has(uri):
            raise EscoUnknownConcept(f"alignment {uri} of achievement {definition.achievement.name!r} is not an "
                                     f"ESCO concept ({tax.describe()})")


@dataclass(frozen=True)
class EvidenceInput:
    """What an assessor records for on-the-job learning (all optional for other kinds)."""

    narrative: str | None = None
    workplace: str | None = None
    hours: float | None = None
    assessor: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None

    def is_empty(self) -> bool:
        return all(v is None for v in self.__dict__.values())


_DID_SYNTAX = re.compile(r"did:[a-z0-9]+:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2}|:)*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})")


def check_subject_did(subject: str) -> None:
    """Refuse a subject that is no usable DID: a credential issued to it could never be
    presented (nobody holds its key), so the worker would silently get nothing.

    A did:key must decode to a supported public key (a typo in a roster usually breaks its
    base58 or its key), a did:web must name a host and safe path segments; other methods must
    follow the DID syntax (W3C DID Core §3.1)."""
    if not _DID_SYNTAX.fullmatch(subject):
        raise InvalidArgument(f"subject {subject!r} is not a DID (did:METHOD:ID)")
    try:
        if subject.startswith("did:key:"):
            key_did_document(subject)
        elif subject.startswith("did:web:"):
            web_did_url_path(subject)
    except SkillcredError as exc:
        raise InvalidArgument(f"subject {subject!r} is not a usable DID: {exc.message}") from None


def check_evidence(evidence: EvidenceInput) -> None:
    """Hours are a finite number >= 0 and a period does not end before it starts."""
    hours = evidence.hours
    if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int | float)
                              or not math.isfinite(hours) or hours < 0):
        raise InvalidArgument(f"hours must be a number >= 0, not {hours!r}")
    start, end = evidence.period_start, evidence.period_end
    if start is not None and end is not None:
        a = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
        b = end if end.tzinfo is not None else end.replace(tzinfo=UTC)
        if b < a:
            raise InvalidArgument(f"the period ends ({format_datetime(b)[:10]}) before it starts "
                                  f"({format_datetime(a)[:10]})")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str
    #: the error's code and the parameter it is about, when known (see SkillcredError.field)
    code: str | None = None
    field: str | None = None


def _code_and_field(exc: BaseException) -> tuple[str | None, str | None]:
    """A row's error code and field (:class:`RowError`), so a front end can word it as its own;
    a row that failed in a batch worker brings them along (``batch._BuildFailed``)."""
    if isinstance(exc, SkillcredError):
        return exc.code, exc.field
    code, field = getattr(exc, "code", None), getattr(exc, "field", None)
    return (code if isinstance(code, str) else None), (field if isinstance(field, str) else None)


@dataclass
class BatchResult:
    """What a batch did. ``issued`` / ``skipped`` hold the records only when the batch was
    asked to keep them (``keep_records``); the counts are always right."""

    issued: list[IssuedRecord] = field(default_factory=list)
    skipped: list[IssuedRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    issued_count: int = 0
    skipped_count: int = 0
    keep_records: bool = True

    def _add(self, record: IssuedRecord, new: bool) -> None:
        if new:
            self.issued_count += 1
        else:
            self.skipped_count += 1
        if self.keep_records:
            (self.issued if new else self.skipped).append(record)


def _time_ordered_id(valid_from: datetime) -> str:
    """A credential id that sorts by issuance: a UUIDv7 (RFC 9562, section 5.7) whose time is
    ``valid_from``, as a ``urn:uuid:``.

    Why: the registry indexes every credential by its id (``credentials.id`` and the status
    allocations' ``credential_id``). Random (v4) ids put each new entry on a random page of
    those indexes, so a batch chunk of 512 credentials dirtied ~500 pages of each, and every
    commit wrote them all to the WAL again: the registry's write traffic per credential grew
    with its size (15 KB early, ~38 KB near 100,000). Time-ordered ids append at the end of
    both indexes, a few pages per chunk, however large the registry.

    Privacy: the 48-bit time field is ``valid_from`` to the second, which the credential states
    anyway (``validFrom``), so the id discloses nothing new; the milliseconds are drawn at
    random (not the clock's), so ids of one second do not tell the order in which a batch
    issued them (a roster's order, often alphabetical, would otherwise show), and the other 74
    bits are random as in v4 (``secrets``), so an id is still unguessable. A ``valid_from``
    outside the field's range (before 1970) falls back to a v4 id.
    """
    seconds = math.floor(valid_from.timestamp())
    if not 0 <= seconds < (1 << 48) // 1000:
        return f"urn:uuid:{uuid.uuid4()}"
    millis = seconds * 1000 + secrets.randbelow(1000)
    rand = secrets.randbits(74)  # rand_a (12 bits) and rand_b (62 bits)
    value = (millis << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return f"urn:uuid:{uuid.UUID(int=value)}"


def _add_period(start: datetime, years: int | None, months: int | None) -> datetime:
    total = (years or 0) * 12 + (months or 0)
    y, m = divmod(start.month - 1 + total, 12)
    year, month = start.year + y, m + 1
    day = min(start.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                          31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
    return start.replace(year=year, month=month, day=day)


def load_issuer_key(
    folder: str | os.PathLike[str], passphrase: bytes | None = None, *,
    unsafe_allow_open_key_permissions: bool = False,
) -> tuple[IssuerProfile, KeyPair]:
    """An issuer folder's profile and key, checked against each other (what :meth:`Issuer.open`
    loads, without opening the registry: the service keeps its own registry connections)."""
    root = Path(folder)
    profile_path = root / PROFILE_FILE
    if not profile_path.exists():
        raise StoreError("not an issuer folder (no issuer.json; run 'skillcred issuer init')", path=str(root))
    profile = IssuerProfile.from_json(load_json_object(profile_path), source=str(profile_path))
    key = read_key_file(root / KEY_FILE, passphrase, strict_permissions=True,
                        unsafe_allow_open_key_permissions=unsafe_allow_open_key_permissions)
    if not profile.verification_method.endswith("#" + key.public_multikey):
        raise StoreError("issuer key does not match issuer.json", path=str(root))
    return profile, key


def sign_status_list(profile: IssuerProfile, key: KeyPair, info: StatusListInfo, *, valid_from: datetime,
                     valid_until: datetime) -> dict[str, Any]:
    """One signed BitstringStatusListCredential for a registry list, in ``profile``'s name and
    cryptosuite: the one signing path of ``status publish`` and the service's ``/status/...``."""
    bits = BitstringStatusList(info.size)
    for idx in info.set_indexes:
        bits.set(idx, 1)
    unsigned = status_list_credential(url=info.url, issuer=profile.did, purpose=info.purpose, status_list=bits,
                                      valid_from=valid_from, valid_until=valid_until)
    return add_proof(unsigned, key, verification_method=profile.verification_method,
                     cryptosuite=profile.suite, created=valid_from)


class Issuer:
    """An opened issuer folder. Construct with :meth:`open`; the key is loaded once."""

    def __init__(self, folder: Path, profile: IssuerProfile, key: KeyPair, registry: RegistryBackend) -> None:
        self.folder = folder
        self.profile = profile
        self._key = key
        self.registry = registry
        self._esco_checked: dict[int, AchievementDefinition] = {}

    @classmethod
    def open(
        cls, folder: str | os.PathLike[str], passphrase: bytes | None = None, *,
        registry: str | os.PathLike[str] | None = None,
        unsafe_allow_open_key_permissions: bool = False,
    ) -> Issuer:
        """Open an issuer folder and load its key.

        ``registry`` is where the credentials are recorded when not in the folder's
        ``registry.sqlite``: a ``postgresql://`` URL (the registry an institute's service
        instances share) or another SQLite file; the folder still holds key and profile.

        The key signs credentials in the institute's name, so a key file that group or others
        can read is refused (:class:`~skillcred.errors.KeyPermissionError`, fix with
        ``chmod 600``); ``unsafe_allow_open_key_permissions`` uses it anyway and warns.
        """
        root = Path(folder)
        profile, key = load_issuer_key(root, passphrase,
                                       unsafe_allow_open_key_permissions=unsafe_allow_open_key_permissions)
        return cls(root, profile, key, open_issuer_registry(root, registry))

    @property
    def public_key(self) -> PublicKey:
        """The issuer's public key (what its credentials verify with)."""
        return self._key.public_key

    def close(self) -> None:
        self.registry.close()

    def __enter__(self) -> Issuer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- building ----------------------------------------------------------------------------

    def _build(
        self,
        definition: AchievementDefinition,
        *,
        credential_id: str,
        subject: str,
        name: str | None,
        level: str | None,
        evidence: EvidenceInput,
        valid_from: datetime,
        valid_until: datetime | None,
        allocations: list[Allocation],
        fmt: str = "di",
        suite: str | None = None,
        holder_jwk: dict[str, Any] | None = None,
        config_cache: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The credential, built, checked against its schema and secured. ``config_cache``
        (batch workers) signs with :func:`~skillcred.proofs.add_proof_to_own`: the same proof,
        without the guards a caller's document needs, the proof configuration canonicalized
        once per ``created`` second."""
        ach = definition.achievement
        results = None
        if level is not None:
            try:
                rd, lvl = ach.level(level)
            except ValueError as exc:
                raise InvalidArgument(str(exc), field="level") from exc
            results = [Result(resultDescription=rd.id, achievedLevel=lvl.id)]
        elif definition.kind in ("skill", "on-the-job") and _rubric_levels(ach):
            # a graded achievement needs its level; a pass/fail one (a forklift licence, VCA)
            # has no rubric: the credential itself says "passed"
            raise InvalidArgument(f"a {definition.kind} credential of {ach.name!r} needs a level "
                                  f"(one of {', '.join(_rubric_levels(ach))})", field="level")
        source = Profile(name=evidence.assessor) if evidence.assessor else None
        if definition.kind == "on-the-job" and source is None:
            raise InvalidArgument("an on-the-job attestation needs the assessor (evidence.assessor)",
                                  field="evidence.assessor")
        ev_list = None
        if not evidence.is_empty() and (evidence.narrative or evidence.workplace or evidence.hours):
            details = []
            if evidence.workplace:
                details.append(f"Workplace: {evidence.workplace}")
            if evidence.hours is not None:
                details.append(f"Hours: {evidence.hours:g}")
            if evidence.assessor:
                details.append(f"Assessor: {evidence.assessor}")
            ev_list = [Evidence(
                name=f"{'On-the-job assessment' if definition.kind == 'on-the-job' else 'Assessment'}: {ach.name}",
                narrative=evidence.narrative or ach.criteria.narrative or ach.name,
                description="; ".join(details) or None,
                genre="On-the-job learning" if definition.kind == "on-the-job" else None,
            )]
        elif definition.kind == "on-the-job":
            raise InvalidArgument("an on-the-job attestation needs evidence (evidence.narrative)",
                                  field="evidence.narrative")
        subject_model = AchievementSubject(
            id=subject,
            achievement=ach,
            identifier=[IdentityObject(identityHash=name)] if name else None,
            result=results,
            source=source,
            activityStartDate=format_datetime(evidence.period_start) if evidence.period_start else None,
            activityEndDate=format_datetime(evidence.period_end) if evidence.period_end else None,
        )
        cred = OpenBadgeCredential(
            id=credential_id,
            name=ach.name,
            issuer=Profile(id=self.profile.did, name=self.profile.name, url=self.profile.url),
            validFrom=format_datetime(valid_from),
            validUntil=format_datetime(valid_until) if valid_until else None,
            awardedDate=format_datetime(valid_from) if definition.kind == "diploma" else None,
            credentialSubject=subject_model,
            evidence=ev_list,
            credentialSchema=[CredentialSchemaRef(id=CREDENTIAL_SCHEMA_BY_KIND[definition.kind])],
            credentialStatus=[
                StatusEntry.model_validate(status_entry(a.list_url, a.index, a.purpose)) for a in allocations
            ],
        )
        document = cred.to_json()
        validate(document, CREDENTIAL_SCHEMA_BY_KIND[definition.kind], source=credential_id)
        if fmt in ("jwt", "sd-jwt"):
            # VC-JOSE-COSE / SD-JWT: the registry keeps the claims and the token (what is handed out)
            token = secure_token(document, self._key, kid=self.profile.verification_method, fmt=fmt)  # type: ignore[arg-type]
            return SecuredCredential(fmt, document, token).to_record()  # type: ignore[arg-type]
        if fmt == "dc+sd-jwt":
            return self._sd_jwt_vc(document, subject, allocations, holder_jwk)
        if fmt != "di":
            raise InvalidArgument(f"format must be di, jwt, sd-jwt or dc+sd-jwt, not {fmt!r}")
        if suite == SD_SUITE:
            from skillcred.proofs.selective import add_base_proof

            return add_base_proof(document, self._key, verification_method=self.profile.verification_method,
                                  mandatory_pointers=mandatory_pointers(document))
        created = valid_from if valid_from <= utcnow() else None
        if config_cache is not None:  # a document built just above, by this process
            return add_proof_to_own(document, self._key, verification_method=self.profile.verification_method,
                                    cryptosuite=suite or self.profile.suite, created=created or utcnow(),
                                    config_cache=config_cache)
        return add_proof(
            document,
            self._key,
            verification_method=self.profile.verification_method,
            cryptosuite=suite or self.profile.suite,
            created=created,
        )

    def _sd_jwt_vc(self, document: dict[str, Any], subject: str, allocations: list[Allocation],
                   holder_jwk: dict[str, Any] | None) -> dict[str, Any]:
        """The IETF SD-JWT VC of a built credential, its Token Status List slot mirroring the
        revocation index (so revoke/suspend change both lists), as a registry record."""
        from skillcred.sdjwt_vc import credential_view, flat_claims, issue_sd_jwt_vc
        from skillcred.securing import holder_jwk_for
        from skillcred.token_status import token_list_url

        jwk = holder_jwk if holder_jwk is not None else holder_jwk_for(subject)
        if jwk is None:
            raise InvalidArgument("an SD-JWT VC is bound to the holder's key: give a did:key subject or the "
                                  "holder's public JWK")
        rev = next(a for a in allocations if a.purpose == "revocation")
        status = {"idx": rev.index, "uri": token_list_url(rev.list_url)}
        now = utcnow()
        token = issue_sd_jwt_vc(document, self._key, kid=self.profile.verification_method, holder_jwk=jwk,
                                status=status, issued_at=now)
        claims, _pointers = flat_claims(document, status=status, issued_at=now)
        claims["cnf"] = {"jwk": dict(jwk)}
        return SecuredCredential("sd-jwt", credential_view(claims), token, typ="dc+sd-jwt").to_record()

    # -- issuing -----------------------------------------------------------------------------

    def _plan(
        self,
        definition: AchievementDefinition,
        subject: str,
        *,
        name: str | None,
        level: str | None,
        evidence: EvidenceInput | None,
        valid_from: datetime | None,
        valid_until: datetime | None,
        row_key: str | None,
        time_ordered: bool = False,
    ) -> dict[str, Any]:
        """Check :meth:`issue`'s arguments and fix the dates and the id (shared with batches;
        ``time_ordered``: a batch's ids are :func:`_time_ordered_id`)."""
        if not isinstance(subject, str) or not subject.startswith("did:"):
            raise InvalidArgument(f"subject must be the holder's DID, not {subject!r}")
        check_subject_did(subject)
        if evidence is not None:
            check_evidence(evidence)
        if self._esco_checked.get(id(definition)) is not definition:  # once per definition (a batch reuses one)
            check_esco_alignments(definition)
            self._esco_checked[id(definition)] = definition
        # A naive datetime is UTC (as format_datetime reads it); comparing it with the aware
        # "now" below would otherwise raise TypeError half-way through issuing.
        if valid_from is not None and valid_from.tzinfo is None:
            valid_from = valid_from.replace(tzinfo=UTC)
        if valid_until is not None and valid_until.tzinfo is None:
            valid_until = valid_until.replace(tzinfo=UTC)
        start = valid_from or utcnow().replace(microsecond=0)
        until = valid_until
        if until is None and definition.validity is not None:
            until = _add_period(start, definition.validity.years, definition.validity.months)
        if until is not None and until <= start:
            raise InvalidArgument("valid-until must be after valid-from")
        credential_id = _time_ordered_id(start) if time_ordered else f"urn:uuid:{uuid.uuid4()}"
        return {"definition": definition, "credential_id": credential_id, "subject": subject,
                "name": name, "level": level, "evidence": evidence or EvidenceInput(), "valid_from": start,
                "valid_until": until, "row_key": row_key}

    def issue(
        self,
        definition: AchievementDefinition,
        subject: str,
        *,
        name: str | None = None,
        level: str | None = None,
        evidence: EvidenceInput | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        row_key: str | None = None,
        fmt: str = "di",
        suite: str | None = None,
        holder_jwk: dict[str, Any] | None = None,
    ) -> tuple[IssuedRecord, bool]:
        """Issue one credential (or return the one already issued for ``row_key``).

        Returns ``(record, newly_issued)``. ``valid_until`` defaults to the achievement's
        validity period (re-certification), if it has one. ``fmt`` is how it is secured:
        ``di`` (Data Integrity proof, the default), ``jwt`` (vc+jwt) or ``sd-jwt`` (vc+sd-jwt,
        personal details selectively disclosable) or ``dc+sd-jwt`` (IETF SD-JWT VC, flat claims,
        skills and personal details selectively disclosable, Token Status List; bound to
        ``holder_jwk``, by default the did:key subject's key); for the token formats
        ``record.document`` holds the claims (for ``dc+sd-jwt`` their Open Badges reading,
        :func:`skillcred.sdjwt_vc.credential_view`) plus ``securedAs`` and ``token``.
        """
        plan = self._plan(definition, subject, name=name, level=level, evidence=evidence,
                          valid_from=valid_from, valid_until=valid_until, row_key=row_key)
        until = plan["valid_until"]
        return self.registry.issue(
            credential_id=plan["credential_id"],
            row_key=row_key,
            subject=subject,
            achievement=definition.achievement.id,
            kind=definition.kind,
            issued_at=format_datetime(utcnow()),
            valid_until=format_datetime(until) if until else None,
            status_base_url=self.profile.status_base_url,
            list_size=self.profile.list_size,
            build=lambda allocs: self._build(
                definition, credential_id=plan["credential_id"], subject=subject, name=name, level=level,
                evidence=plan["evidence"], valid_from=plan["valid_from"], valid_until=until, allocations=allocs,
                fmt=fmt, suite=suite, holder_jwk=holder_jwk,
            ),
        )

    def issue_batch(
        self,
        roster: str | os.PathLike[str],
        out_dir: str | os.PathLike[str],
        *,
        default_achievement: AchievementDefinition | None = None,
        progress: Callable[[int], None] | None = None,
        workers: int | None = None,
        keep_documents: bool = True,
        keep_records: bool = True,
        roster_encoding: str | None = None,
        archive: bool = False,
        fmt: str = "di",
    ) -> BatchResult:
        """Issue one credential per roster row; write each to ``out_dir``.

        ``fmt`` is how each is secured, as for :meth:`issue` (a ``dc+sd-jwt`` row's subject is
        a did:key: its key is the holder key). A Data Integrity credential is written as
        ``<uuid>.json``; a token as ``<uuid>.jwt`` (vc+jwt) or ``<uuid>.sdjwt`` (the SD-JWTs),
        the token itself, as single issuing writes it. Token formats are built in this process
        (the parallel workers sign Data Integrity proofs).

        Roster columns (CSV with header): ``subject`` (required), ``name``, ``achievement``
        (file, relative to the roster), ``level``, ``key`` (row key; default
        ``achievement-id|subject``), ``valid_until``, ``evidence``, ``workplace``, ``hours``,
        ``assessor``, ``period_start``, ``period_end``. A bad row is reported with its line
        number and the others still issue; a row whose key was issued before (by an earlier
        run) is skipped. Within one roster, a row with the key of an earlier row (default: the
        same achievement and subject) is reported, not silently skipped. A broken line (see
        :func:`iter_roster`, which also says which encodings and separators are read;
        ``roster_encoding`` overrides UTF-8) fails the whole batch before anything is issued.

        ``workers`` processes build and sign (default: every core once the roster has 200
        rows; ``1``: all in this process); the registry and the files stay with this process
        (see :mod:`skillcred._internal.batch`). ``progress`` is called with the number of rows
        done (1 at a time, or a chunk at a time in parallel). ``keep_documents=False`` leaves
        the documents out of the returned records (they are in the registry and the files);
        ``keep_records=False`` keeps no record at all, only the counts and the errors. The
        roster is streamed (after one pass that checks it can be read to the end, so an
        unreadable roster fails before anything is issued): with ``keep_records=False``
        memory stays flat however long the roster (the row keys seen so far, to refuse a
        repeated one, and the archive's ids are kept in a temporary file, not in memory).

        ``archive=True`` (for very large batches) writes every credential as one line of
        ``out_dir/credentials.jsonl`` instead of a file each: appended and synced a chunk at a
        time, with a journal that makes a re-run after a crash complete the archive without
        duplicating a line (see :class:`skillcred._internal.batch.Archive`).
        """
        from skillcred._internal import batch

        roster_path = Path(roster)
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        result = BatchResult(keep_records=keep_records)
        try:  # the whole file is readable CSV without a broken line, before issuing
            n_rows = count_roster_rows(roster_path, encoding=roster_encoding)
        except MalformedDocument as exc:
            raise MalformedDocument(f"{exc.message}; nothing was issued", path=exc.path) from exc
        rows = iter_roster(roster_path, encoding=roster_encoding)
        cache: dict[str, AchievementDefinition] = {}
        if fmt not in ("di", "jwt", "sd-jwt", "dc+sd-jwt"):
            raise InvalidArgument(f"format must be di, jwt, sd-jwt or dc+sd-jwt, not {fmt!r}")
        with contextlib.ExitStack() as stack:  # the row-key log and the archive's id index, closed after
            seen = _RosterSeen()
            stack.callback(seen.close)
            sink = batch.Archive(out) if archive else None
            if sink is not None:
                stack.callback(sink.close)
            bulk = getattr(self.registry, "bulk_writes", None)  # SQLite: fewer, larger WAL checkpoints
            if bulk is not None:
                stack.enter_context(bulk())
            self._issue_batch_rows(rows, roster_path, out, cache, default_achievement, progress, workers,
                                   n_rows, keep_documents, result, seen, sink, fmt)
        return result

    def _issue_batch_rows(
        self, rows: Iterable[tuple[int, dict[str, str] | RowError]], roster_path: Path, out: Path,
        cache: dict[str, AchievementDefinition], default_achievement: AchievementDefinition | None,
        progress: Callable[[int], None] | None, workers: int | None, n_rows: int, keep_documents: bool,
        result: BatchResult, seen: _RosterSeen, sink: Any, fmt: str,
    ) -> None:
        """The rows of :meth:`issue_batch`: on the worker processes, or here one by one."""
        from skillcred._internal import batch

        n_workers = batch.default_workers() if workers is None else max(1, workers)
        if fmt == "di" and n_workers > 1 and (
            workers is not None or n_rows >= batch.MIN_PARALLEL_ROWS
        ):
            self._issue_batch_parallel(rows, roster_path, out, cache, default_achievement, progress,
                                       n_workers, keep_documents, result, seen, sink)
            return
        pending: list[tuple[str, bytes]] = []  # archive lines of committed records, not yet appended
        for line, row in rows:
            try:
                if isinstance(row, RowError):
                    raise InvalidArgument(row.message)
                definition = self._row_achievement(row, roster_path, cache, default_achievement)
                subject = (row.get("subject") or "").strip()
                if not subject:
                    raise InvalidArgument("missing subject DID")
                key = (row.get("key") or "").strip() or f"{definition.achievement.id}|{subject}"
                seen.check(line, key)
                record, new = self.issue(
                    definition, subject,
                    name=(row.get("name") or "").strip() or None,
                    level=(row.get("level") or "").strip() or None,
                    evidence=_row_evidence(row),
                    valid_until=_row_date(row, "valid_until"),
                    row_key=key,
                    fmt=fmt,
                )
                if sink is not None:  # appended (and synced) a chunk at a time, once per id
                    pending.append((record.id, batch.archive_line(record.document)))
                    if len(pending) >= batch.CHUNK_ROWS:
                        sink.append(pending)
                        pending = []
                else:
                    token = record.document.get("token") if fmt != "di" else None
                    suffix = ".json" if not isinstance(token, str) else ".jwt" if fmt == "jwt" else ".sdjwt"
                    target = out / f"{record.id.rsplit(':', 1)[-1]}{suffix}"
                    if new or not target.exists():
                        atomic_write(target, (token + "\n").encode("ascii") if isinstance(token, str)
                                     else dump_json(record.document))
                result._add(record if keep_documents else dataclasses.replace(record, document={}), new)
            except (SkillcredError, ValueError) as exc:
                result.errors.append(RowError(line, str(exc), *_code_and_field(exc)))
            finally:
                if progress:
                    progress(1)
        if sink is not None and pending:
            sink.append(pending)

    def _batch_plan(
        self, line: int, row: dict[str, str] | RowError, roster: Path,
        cache: dict[str, AchievementDefinition], default: AchievementDefinition | None,
        seen: _RosterSeen,
    ) -> dict[str, Any]:
        """A roster row checked and planned exactly as the serial loop does before issuing."""
        if isinstance(row, RowError):
            raise InvalidArgument(row.message)
        definition = self._row_achievement(row, roster, cache, default)
        subject = (row.get("subject") or "").strip()
        if not subject:
            raise InvalidArgument("missing subject DID")
        key = (row.get("key") or "").strip() or f"{definition.achievement.id}|{subject}"
        seen.check(line, key)
        return self._plan(
            definition, subject,
            name=(row.get("name") or "").strip() or None,
            level=(row.get("level") or "").strip() or None,
            evidence=_row_evidence(row),
            valid_from=None,
            valid_until=_row_date(row, "valid_until"),
            row_key=key,
            time_ordered=True,
        )

    def _issue_batch_parallel(
        self, rows: Iterable[tuple[int, dict[str, str] | RowError]], roster: Path, out: Path,
        cache: dict[str, AchievementDefinition], default: AchievementDefinition | None,
        progress: Callable[[int], None] | None, workers: int, keep_documents: bool, result: BatchResult,
        seen: _RosterSeen,
        sink: Any = None,
    ) -> None:
        """:meth:`issue_batch` with signing on ``workers`` processes, in registry chunks."""
        from skillcred._internal import batch
        from skillcred.registry import IssueRequest

        def chunks() -> Iterable[list[tuple[int, dict[str, Any] | RowError]]]:
            chunk: list[tuple[int, dict[str, Any] | RowError]] = []
            keys: set[str] = set()
            for line, row in rows:
                planned: dict[str, Any] | RowError
                try:
                    plan = self._batch_plan(line, row, roster, cache, default, seen)
                except (SkillcredError, ValueError) as exc:
                    planned = RowError(line, str(exc), *_code_and_field(exc))
                else:  # its registry request too, here on the planning thread, not between two chunks
                    plan["request"] = request(plan)
                    planned = plan
                key = planned["row_key"] if isinstance(planned, dict) else None
                if len(chunk) >= batch.CHUNK_ROWS or (key is not None and key in keys):
                    yield chunk  # a row key appears once per registry transaction
                    chunk, keys = [], set()
                chunk.append((line, planned))
                if key is not None:
                    keys.add(key)
            if chunk:
                yield chunk

        def process(
            chunk: list[tuple[int, dict[str, Any] | RowError]],
        ) -> tuple[int, tuple[list[tuple[int, Any, bool]], list[Path], list[Future[None]]]]:
            plans = [p for _line, p in chunk if isinstance(p, dict)]
            requests = [p["request"] for p in plans]
            definitions: dict[int, AchievementDefinition] = {}
            files: dict[str, bytes] = {}

            def build(pending: list[tuple[int, list[Any]]]) -> Iterable[Any]:
                jobs = []
                for pos, allocs in pending:
                    p = plans[pos]
                    definitions.setdefault(id(p["definition"]), p["definition"])
                    jobs.append(batch.BuildJob(
                        definition=id(p["definition"]), credential_id=p["credential_id"], subject=p["subject"],
                        name=p["name"], level=p["level"], evidence=p["evidence"], valid_from=p["valid_from"],
                        valid_until=p["valid_until"], allocations=tuple(allocs)))
                for job, built in zip(jobs, pools.build(definitions, jobs), strict=True):
                    if built[0] is None:
                        yield built[1]
                    else:
                        doc, data = built
                        files[job.credential_id] = data
                        yield doc

            outcomes = iter(self.registry.issue_many(requests, build) if requests else [])
            done: list[tuple[int, Any, bool]] = []
            writes: list[tuple[Path, bytes]] = []
            lines: list[tuple[str, bytes]] = []
            for line, planned in chunk:
                if isinstance(planned, RowError):
                    done.append((line, planned, False))
                    continue
                outcome = next(outcomes)
                if isinstance(outcome, BaseException):
                    done.append((line, RowError(line, str(outcome), *_code_and_field(outcome)), False))
                    continue
                record, new = outcome
                if sink is not None:  # the archive: a line per id, whatever chunk brings it
                    if new:
                        lines.append((record.id, files.pop(record.id)))
                    elif not sink.has(record.id):
                        lines.append((record.id, batch.archive_line(record.document)))
                    done.append((line, slim(record), new))
                    continue
                target = out / f"{record.id.rsplit(':', 1)[-1]}.json"
                if new:
                    writes.append((target, files.pop(record.id)))
                    inflight.add(target)
                elif target not in inflight and not target.exists():
                    # (a repeated row key: its file may still be on its way from the last chunk)
                    writes.append((target, dump_json(record.document)))
                    inflight.add(target)
                done.append((line, slim(record), new))
            if sink is not None:
                return len(chunk), (done, [], pools.append_many(sink, lines))
            return len(chunk), (done, [t for t, _d in writes], pools.write_many(out, writes))

        def finish(state: tuple[list[tuple[int, Any, bool]], list[Path], list[Any]]) -> None:
            done, targets, writes = state
            try:
                for w in writes:
                    w.result()
            except (SkillcredError, ValueError) as exc:  # the serial loop reports it on the row
                failed: str | None = str(exc)
            else:
                failed = None
            inflight.difference_update(targets)
            for line, item, new in done:
                if isinstance(item, RowError):
                    result.errors.append(item)
                elif failed is not None and not (sink.has(item.id) if sink is not None
                                                 else (out / f"{item.id.rsplit(':', 1)[-1]}.json").exists()):
                    result.errors.append(RowError(line, failed))
                else:
                    result._add(item, new)

        def request(p: dict[str, Any]) -> IssueRequest:
            """The registry request of a planned row (``issued_at``: when it was planned, a chunk
            or so before it is committed, as the plan's ``valid_from`` is)."""
            return IssueRequest(
                credential_id=p["credential_id"], row_key=p["row_key"], subject=p["subject"],
                achievement=p["definition"].achievement.id, kind=p["definition"].kind,
                issued_at=format_datetime(utcnow()),
                valid_until=format_datetime(p["valid_until"]) if p["valid_until"] else None,
                status_base_url=self.profile.status_base_url, list_size=self.profile.list_size,
            )

        def slim(record: IssuedRecord) -> IssuedRecord:
            """The record as the result keeps it: a batch that keeps no records only counts
            it (no copy without its document, made per row and dropped at once)."""
            if not result.keep_records or keep_documents or not record.document:
                return record
            return dataclasses.replace(record, document={})

        inflight: set[Path] = set()  # files of chunks whose writes are not finished yet
        # a batch that hands no documents back has them come from the workers as JSON text
        pools = batch.Pools(_batch_signer, (str(self.folder), self.profile, self._key.secret_multikey), workers,
                            compact=sink is not None, encoded=not (keep_documents and result.keep_records))
        planned = batch.prefetch(chunks())  # rows planned (read, checked, given an id) a chunk ahead
        try:
            batch.run_chunks(planned, process, finish, progress)
        finally:
            planned.close()  # stops the planning thread
            pools.close()

    def _row_achievement(
        self, row: dict[str, str], roster: Path, cache: dict[str, AchievementDefinition],
        default: AchievementDefinition | None,
    ) -> AchievementDefinition:
        ref = (row.get("achievement") or "").strip()
        if not ref:
            if default is None:
                raise InvalidArgument("no achievement in this row and no default_achievement given",
                                      field="default_achievement")
            return default
        memo = "\x00" + ref  # the cell as written (no path holds NUL): no Path built per row
        found = cache.get(memo)
        if found is not None:
            return found
        path = Path(ref) if Path(ref).is_absolute() else roster.parent / ref
        if str(path) not in cache:
            cache[str(path)] = load_achievement(path)
        cache[memo] = cache[str(path)]
        return cache[str(path)]

    # -- status ------------------------------------------------------------------------------

    def revoke(self, credential_id: str) -> bool:
        return self.registry.set_status(credential_id, "revocation", True)

    def suspend(self, credential_id: str) -> bool:
        return self.registry.set_status(credential_id, "suspension", True)

    def unsuspend(self, credential_id: str) -> bool:
        return self.registry.set_status(credential_id, "suspension", False)

    def status_list_credentials(
        self, *, valid_for: timedelta = timedelta(days=7), now: datetime | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """Build and sign every status-list credential: ``[(url, signed credential)]``."""
        when = (now or utcnow()).replace(microsecond=0)
        out = []
        for info in self.registry.status_lists():
            out.append((info.url, sign_status_list(self.profile, self._key, info, valid_from=when,
                                                   valid_until=when + valid_for)))
        return out

    def token_status_lists(
        self, *, valid_for: timedelta = timedelta(days=7), now: datetime | None = None
    ) -> list[tuple[str, str]]:
        """Sign the IETF Token Status Lists (``statuslist+jwt``) in use: ``[(uri, token)]``.

        One per revocation list that holds an SD-JWT VC, index for index
        (:mod:`skillcred.token_status`): 1 revoked, 2 suspended, 0 valid. An issuer of Data
        Integrity / vc+jwt credentials only has none (and publishes none)."""
        from skillcred.token_status import TokenStatusList, sign_status_list_token, token_list_url

        when = (now or utcnow()).replace(microsecond=0)
        in_use = self.registry.token_list_urls_in_use()
        values = self.registry.token_status_values() if in_use else {}
        out = []
        for info in self.registry.status_lists():
            if info.purpose != "revocation" or info.url not in in_use:
                continue
            lst = TokenStatusList(info.size, bits=2)
            for idx, value in values.get(info.url, {}).items():
                lst.set(idx, value)
            uri = token_list_url(info.url)
            out.append((uri, sign_status_list_token(lst, uri=uri, key=self._key, issuer=self.profile.did,
                                                    kid=self.profile.verification_method, valid_for=valid_for,
                                                    now=when)))
        return out

    def publish_status(self, out_dir: str | os.PathLike[str], *,
                       valid_for: timedelta = timedelta(days=7)) -> dict[str, str]:
        """Write each list credential as a file named after its URL's last segment, each Token
        Status List as ``tokens/<name>.jwt``, and index.json (URL -> file)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        index: dict[str, str] = {}
        for url, doc in self.status_list_credentials(valid_for=valid_for):
            name = url.rstrip("/").rsplit("/", 1)[-1]
            if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
                raise StoreError(f"status list URL {url} does not end in a safe file name")
            atomic_write(out / name, dump_json(doc))
            index[url] = name
        tokens = self.token_status_lists(valid_for=valid_for)
        if tokens:
            (out / "tokens").mkdir(exist_ok=True)
        for uri, token in tokens:
            name = uri.rsplit("/", 1)[-1]
            atomic_write(out / "tokens" / name, (token + "\n").encode("ascii"))
            index[uri] = f"tokens/{name}"
        atomic_write(out / "index.json", dump_json(index))
        return index


#: Largest roster read (a roster of a million learners is ~150 MB); it is streamed, not loaded.
MAX_ROSTER_BYTES = 1024 * 1024 * 1024


#: Cell separators a roster may use: a comma, a semicolon (what spreadsheets in Dutch and other
#: locales whose decimal mark is a comma export as "CSV"), a tab ("Unicode text" exports).
ROSTER_DELIMITERS = (",", ";", "\t")


def _roster_encoding(head: bytes, encoding: str | None) -> str:
    """The encoding to read a roster in: the one given, else UTF-16 by its byte-order mark,
    else UTF-8 (with or without a byte-order mark). Never guessed beyond that: a name read in
    the wrong encoding would be signed into a credential wrongly for good."""
    if encoding:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise InvalidArgument(f"unknown roster encoding {encoding!r} "
                                  "(e.g. utf-8, cp1252, latin-1, utf-16)") from None
        return "utf-8-sig" if name == "utf-8" else name
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


@contextlib.contextmanager
def _open_roster(path: Path, encoding: str | None = None) -> Iterator[Any]:
    """The roster opened for streaming (a text file object); errors name the file.

    A regular file only (a FIFO or a device would block or never end), read up to
    :data:`MAX_ROSTER_BYTES`, in the encoding :func:`_roster_encoding` picks."""
    with open_input(path, max_bytes=MAX_ROSTER_BYTES, what="roster file") as (raw, _):
        # newline="" as the csv module requires
        head = raw.peek(4)[:4] if isinstance(raw, io.BufferedReader) else b""
        with io.TextIOWrapper(raw, encoding=_roster_encoding(head, encoding), newline="") as fh:
            yield fh


def _undecodable(path: Path, encoding: str | None, exc: UnicodeDecodeError) -> str:
    """Where a roster stops being text in its encoding: the line, the byte, and what to do."""
    enc = _roster_encoding(b"", encoding) if encoding else "utf-8"
    where = ""
    if enc.startswith("utf-8"):  # line by line is exact for UTF-8 (a line break is never inside a character)
        with open_input(path, max_bytes=MAX_ROSTER_BYTES, what="roster file") as (raw, _):
            for number, line in enumerate(raw, 1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as bad:
                    where = f"line {number}: byte 0x{line[bad.start]:02x} "
                    break
    hint = ("; a spreadsheet saved as CSV on Windows is often Windows-1252: pass --roster-encoding cp1252 "
            "(library: roster_encoding='cp1252'), or save it as 'CSV UTF-8'" if not encoding else "")
    return f"{where or ''}is not {encoding or 'UTF-8'} text ({exc.reason}){hint}"


def _roster_dialect(first_line: str) -> str:
    """The separator whose header has a ``subject`` column (the most columns if several do)."""
    best: tuple[int, str] | None = None
    for d in ROSTER_DELIMITERS:
        try:
            cells = [c.strip() for c in next(csv.reader([first_line], delimiter=d))]
        except (csv.Error, StopIteration):
            continue
        if "subject" in cells and (best is None or len(cells) > best[0]):
            best = (len(cells), d)
    if best is None:
        raise InvalidArgument("roster needs a header row with at least a 'subject' column "
                              "(cells separated by commas, semicolons or tabs)")
    return best[1]


def iter_roster(
    path: str | os.PathLike[str], *, encoding: str | None = None,
) -> Iterator[tuple[int, dict[str, str] | RowError]]:
    """The roster's rows, read as they are needed: ``(line, cells)`` or ``(line, RowError)``.

    Streaming keeps a batch's memory flat however long the roster. The header is checked
    before the first row is returned, so a roster without a ``subject`` column fails before
    anything is issued. Blank rows are skipped; the line is the one the row starts on.

    Rosters as spreadsheets export them are read: UTF-8 with or without a byte-order mark,
    UTF-16 with one, another ``encoding`` when given; cells separated by commas, semicolons or
    tabs (whichever gives the header its ``subject`` column). A *broken line* — a row with
    more or fewer cells than the header, a quote never closed (which would swallow every row
    after it), bytes that are not text in the encoding — is a :class:`MalformedDocument`
    naming the line: :meth:`Issuer.issue_batch` reads the whole roster first, so such a roster
    fails before anything is issued.
    """
    p = Path(path)
    with _open_roster(p, encoding) as fh:
        line = 0
        offset = 0  # blank lines skipped before the header (the reader does not count them)
        try:
            first = fh.readline()
            while first and not first.strip():  # blank lines before the header
                offset += 1
                first = fh.readline()
            if not first.strip():
                raise MalformedDocument("roster is empty", path=str(p))
            try:
                delimiter = _roster_dialect(first)
            except InvalidArgument as exc:
                raise MalformedDocument(exc.message, path=str(p)) from None
            # strict: a quote never closed is an error, not the rest of the file in one cell;
            # a line break inside a quoted cell stays in the cell (a multi-line narrative)
            reader = csv.reader(itertools.chain([first], fh), delimiter=delimiter, strict=True)
            line = 1
            header = [h.strip() for h in next(reader)]
            ended = reader.line_num
            while True:
                line = ended + 1  # the line the row starts on (reader.line_num is its last)
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                ended = reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) != len(header):
                    raise MalformedDocument(
                        f"line {line + offset}: a broken line: {len(cells)} cell(s) where the header has "
                        f"{len(header)} (separator: {_SEPARATOR_NAMES[delimiter]})",
                        path=str(p))
                yield line + offset, dict(zip(header, cells, strict=True))
        except UnicodeDecodeError as exc:
            raise MalformedDocument(f"cannot read roster: {_undecodable(p, encoding, exc)}", path=str(p)) from exc
        except csv.Error as exc:
            what = ("a quoted cell is never closed" if "unexpected end of data" in str(exc) else str(exc))
            raise MalformedDocument(f"line {line + offset}: roster is not valid CSV: {what}",
                                    path=str(p)) from exc


_SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def count_roster_rows(path: str | os.PathLike[str], *, encoding: str | None = None) -> int:
    """How many rows :meth:`Issuer.issue_batch` will go through (for a progress bar); reading
    them all proves the roster has no broken line."""
    return sum(1 for _ in iter_roster(path, encoding=encoding))


def _row_date(row: dict[str, str], column: str) -> datetime | None:
    value = (row.get(column) or "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        value += "T00:00:00Z"
    return parse_datetime(value, field=column)


class _RosterSeen:
    """The row keys of one roster so far, to catch a row that would silently skip a worker:
    the key of an earlier row reads as "already issued". (The same achievement and subject
    under two explicit keys is two credentials on purpose, e.g. a re-certification.) Keeps
    the keys and their line numbers in a temporary SQLite database
    (:class:`skillcred._internal.batch.KeyLog`), not in a dict: a dict was ~100 bytes a row
    (10 MB per 100,000 rows), the one part of a batch's memory that grew."""

    def __init__(self) -> None:
        from skillcred._internal.batch import KeyLog

        self._keys = KeyLog()

    def check(self, line: int, key: str) -> None:
        earlier = self._keys.add(key, line)
        if earlier is not None:
            raise InvalidArgument(f"the same row key as line {earlier} ({key!r}): this row would be skipped "
                                  "as already issued; remove one of them or give each its own key")

    def close(self) -> None:
        self._keys.close()


_HOURS = re.compile(r"\d+(?:[.,]\d+)?")


def _row_hours(text: str) -> float | None:
    """A roster's hours cell: ``12``, ``12.5`` or, as a Dutch spreadsheet writes it, ``12,5``.

    ``1,000`` or ``1.000`` is refused: a thousands separator in one locale is the decimal mark
    in the other, and the two readings differ a thousandfold. Negative and non-finite values
    (``-8``, ``nan``) are refused too."""
    hours = text.strip()
    if not hours:
        return None
    if not _HOURS.fullmatch(hours):
        raise InvalidArgument(f"hours {hours!r} is not a number of hours >= 0 (e.g. 40, 12.5 or 12,5)")
    whole, _sep, frac = hours.replace(",", ".").partition(".")
    if len(frac) == 3 and whole != "0":
        raise InvalidArgument(f"hours {hours!r} is ambiguous (a thousands separator or a decimal mark?): "
                              "write 1000 or 1.5 / 1,5")
    return float(f"{whole}.{frac}" if frac else whole)


def _row_evidence(row: dict[str, str]) -> EvidenceInput:
    hours_value = _row_hours(row.get("hours") or "")
    return EvidenceInput(
        narrative=(row.get("evidence") or "").strip() or None,
        workplace=(row.get("workplace") or "").strip() or None,
        hours=hours_value,
        assessor=(row.get("assessor") or "").strip() or None,
        period_start=_row_date(row, "period_start"),
        period_end=_row_date(row, "period_end"),
    )


def _batch_signer(folder: str, profile: IssuerProfile, secret_multikey: str) -> batch_module.Signer:
    """The signer of a batch worker process (see :class:`skillcred._internal.batch.Pools`): an
    issuer without a registry (the parent keeps that), signing each job as ``issue`` would."""
    issuer = Issuer(Path(folder), profile, KeyPair.from_multikey(secret_multikey), None)  # type: ignore[arg-type]
    config_cache: dict[str, str] = {}  # canonical proof configurations, one per `created` second

    def sign(definition: AchievementDefinition, job: batch_module.BuildJob) -> dict[str, Any]:
        return issuer._build(
            definition, credential_id=job.credential_id, subject=job.subject, name=job.name, level=job.level,
            evidence=job.evidence, valid_from=job.valid_from, valid_until=job.valid_until,
            allocations=list(job.allocations), config_cache=config_cache,
        )

    return sign


def open_issuer_registry(
    folder: str | os.PathLike[str], registry: str | os.PathLike[str] | None = None,
) -> RegistryBackend:
    """The registry of an issuer folder: ``registry`` (a ``postgresql://`` URL or a SQLite
    file) when given, else the folder's own ``registry.sqlite`` (which must exist)."""
    if registry is None:
        return Registry.open(Path(folder) / REGISTRY_FILE)
    return open_registry(registry if isinstance(registry, str) else Path(registry))


def iter_issued(
    folder: str | os.PathLike[str], *, subject: str | None = None, achievement: str | None = None,
    with_documents: bool = False, registry: str | os.PathLike[str] | None = None,
) -> Iterator[IssuedRecord]:
    """What an issuer folder has issued, from its registry, in issue order (no key needed:
    the documents are signed already). Filters and ``with_documents`` as in
    :meth:`skillcred.registry.Registry.iter_records`; ``registry`` as in :meth:`Issuer.open`."""
    with open_issuer_registry(folder, registry) as reg:
        yield from reg.iter_records(subject=subject, achievement=achievement, with_documents=with_documents)


def get_issued(
    folder: str | os.PathLike[str], credential_id: str, *, registry: str | os.PathLike[str] | None = None,
) -> IssuedRecord:
    """One issued credential, with its signed document, from an issuer folder's registry."""
    with open_issuer_registry(folder, registry) as reg:
        return reg.get(credential_id)
