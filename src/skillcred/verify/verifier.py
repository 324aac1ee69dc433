"""The employer's verifier: a numbered pipeline of checks, offline, failing closed.

Steps (check ids in brackets; ``credential[i]`` for each credential of a presentation):

0. establish the verification time (``at``, else the clock)
1. parse and shape: a JSON object, a VerifiablePresentation or VerifiableCredential, the VC
   2.0 context first; ids and ``holder`` URLs          [presentation.shape, credential[i].shape]
   ``relatedResource`` well formed, each digest checked against the bundled bytes where the
   resource is a bundled context, else indeterminate     [credential[i].related_resource]
   a presentation holding no credentials fails when ``require_credentials``
                                                               [presentation.credentials]
2. contexts and terms: every context bundled (never fetched); no term the contexts do not
   define (JSON-LD safe mode)                      [*.contexts, *.terms]
3-4. presentation proof: purpose ``authentication``, challenge and domain equal to what the
   verifier expects (no expected challenge = possible replay = indeterminate; no expected
   domain = possibly made for someone else = indeterminate), signature valid, verification
   method authorized by its controller    [presentation.proof, presentation.challenge,
   presentation.domain, presentation.holder]; an unsigned presentation fails
   (``proof_missing``) unless ``allow_unsigned_presentations``
5-6. credential proof: purpose ``assertionMethod``, cryptosuite allowed, signature valid; the
   verification method is controlled by the credential's issuer  [credential[i].proof,
   credential[i].issuer]
7. validity period ``validFrom`` / ``validUntil`` (with a small clock skew)
                                                              [credential[i].validity]
8. status: Bitstring Status List from given files, the presentation or the verifier cache;
   the list's own proof and issuer are checked; revoked or suspended fails; unavailable or
   stale is indeterminate, which fails unless the caller explicitly accepts it
                                                              [credential[i].status]
9. issuer trusted for this kind of achievement (trust list)   [credential[i].trust]
10. ``credentialSchema`` validated against the bundled schemas [credential[i].schema]
11. holder binding: each credential's subject is the presentation's signer (unless
    ``require_holder_binding=False``: not applicable, UNSAFE)  [credential[i].holder_binding]

Later steps still run after an early failure (a bad signature should still show whether the
credential was also expired), but nothing from a failed credential is ever accepted.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property
from typing import Any

from skillcred._internal.fileio import MAX_JSON_DEPTH, check_depth, copy_json
from skillcred._internal.integrity import check_related_resources
from skillcred._internal.jsonld import check_terms, rows_memo
from skillcred._internal.timeutil import format_datetime, parse_datetime, utcnow
from skillcred.claims import Claim, credential_claims
from skillcred.did import DID_DOCUMENTS_ADVICE, DidResolver
from skillcred.errors import (
    InvalidArgument,
    MalformedDocument,
    SkillcredError,
    SkillcredSecurityWarning,
    UnknownContext,
    UnsupportedFeature,
)
from skillcred.loader import OfflineLoader, default_loader
from skillcred.proofs import (
    CRYPTOSUITES,
    VERIFIABLE_CRYPTOSUITES,
    ProofReport,
    check_proofs,
    check_proofs_depth_checked,
    signed_parts,
)
from skillcred.schemas import known_schema_ids, validate
from skillcred.securing import OpenedCredential, holder_jwk_for, is_envelope, open_envelope
from skillcred.status import (
    MAX_LIST_BYTES,
    MIN_LIST_ENTRIES,
    BitstringStatusList,
    is_stale,
    list_valid_from,
    read_status,
    stale_after,
)
from skillcred.trust import TrustedIssuer, TrustList
from skillcred.verify.report import (
    Check,
    CheckStatus,
    VerificationReport,
    VerifiedCredential,
    VerifiedPresentation,
    credential_maker,
)

__all__ = ["VerificationPolicy", "Verifier"]

#: the only maker of :class:`VerifiedCredential` (taken once, at import: see credential_maker)
_make_verified_credential = credential_maker()

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
STATUS_LIST_TYPE = "BitstringStatusListCredential"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+$")


#: Default :attr:`VerificationPolicy.max_credentials`: far more than a skills passport holds.
MAX_PRESENTED_CREDENTIALS = 200
#: Of the copies of one status list a presentation carries, only this many (the newest by their
#: claimed ``validFrom``) are tried: a holder needs one, and each costs a proof check per
#: credential where a presentation is checked credential by credential (the service's unsigned
#: presentations). The verifier's own copies are always tried.
MAX_STAPLED_COPIES = 4


@dataclass(frozen=True)
class VerificationPolicy:
    """What the verifier requires. Anything weaker is named ``unsafe_*`` and warns; so does
    ``require_holder_binding=False`` (named for the VC-API option it mirrors)."""

    trust: TrustList | None = None
    allowed_suites: tuple[str, ...] = VERIFIABLE_CRYPTOSUITES  # incl. ecdsa-sd-2023 derived proofs
    clock_skew: timedelta = timedelta(minutes=5)
    #: A presentation holding more credentials is refused before any of them is processed:
    #: an untrusted file must not buy minutes of canonicalization (8 MB holds ~3,000).
    max_credentials: int = MAX_PRESENTED_CREDENTIALS
    unsafe_accept_unknown_status: bool = False
    unsafe_no_challenge: bool = False
    #: A status list issued (``validFrom``) before this is not fresh enough: the status is then
    #: indeterminate (``status_list_too_old``), however long the list itself says it is valid.
    #: Set it to when you last learnt of a revocation, or to "an hour ago" for a risky decision.
    status_not_before: datetime | None = None
    #: Use the status lists a presentation carries (stapled by the holder, who chooses which
    #: copy to staple). False: only the lists given to the verifier count.
    status_from_presentation: bool = True
    #: A presentation holding no credentials is refused (``no_credentials``). VC DM 2.0 §4.13
    #: lets ``verifiableCredential`` be absent, and the shape check accepts that; but a skills
    #: passport that shows nothing cannot be matched, so gap analysis refuses it by default.
    require_credentials: bool = True
    #: Every credential of a presentation must be about its signer (holder binding): an
    #: employer checking a skills passport relies on it. VC DM 2.0 does not require it; off
    #: (a generic VC-API verifier) the check is ``not_applicable`` with an UNSAFE reason, warns,
    #: and nothing about another subject is ever counted.
    require_holder_binding: bool = True
    #: Verify a presentation without a ``proof`` as a well-formed presentation plus its
    #: credentials, each on its own (the HTTP service: VC-API verifiers accept these). Nobody
    #: is authenticated as its presenter, so none of its credentials is accepted as the
    #: presenter's and an expected challenge or domain cannot be met. False: ``proof_missing``.
    allow_unsigned_presentations: bool = False
    #: Accept a presentation without checking whom it was made for (no expected ``domain``):
    #: one a candidate made for another employer then passes here. Warns.
    unsafe_no_domain: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.max_credentials, int) or self.max_credentials < 1:
            raise InvalidArgument("max_credentials must be a positive integer")
        if self.status_not_before is not None and not isinstance(self.status_not_before, datetime):
            raise InvalidArgument("status_not_before must be a datetime (or None)")
        if not isinstance(self.status_from_presentation, bool):
            raise InvalidArgument("status_from_presentation must be True or False")
        for name in ("require_credentials", "require_holder_binding", "allow_unsigned_presentations"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidArgument(f"{name} must be True or False")
        if self.unsafe_accept_unknown_status:
            warnings.warn("unsafe: credentials whose status cannot be determined are accepted",
                          SkillcredSecurityWarning, stacklevel=3)
        if not self.require_holder_binding:
            warnings.warn("unsafe: holder binding is off: a presentation's credentials need not be about its "
                          "presenter (require_holder_binding=False)", SkillcredSecurityWarning, stacklevel=3)
        if self.unsafe_no_challenge:
            warnings.warn("unsafe: presentations are accepted without a challenge (replay possible)",
                          SkillcredSecurityWarning, stacklevel=3)
        if self.unsafe_no_domain:
            warnings.warn("unsafe: presentations are accepted without a domain (one made for another verifier "
                          "passes)", SkillcredSecurityWarning, stacklevel=3)


def _types(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def _contexts(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


# ``type(x) is dict or isinstance(x, Mapping)``: the same test, without the ABC machinery for the
# plain dicts parsed JSON is made of (these run several times for every credential verified)

def _issuer_id(doc: Mapping[str, Any]) -> str | None:
    iss = doc.get("issuer")
    if type(iss) is dict or isinstance(iss, Mapping):
        iss = iss.get("id")
    return iss if isinstance(iss, str) else None


def _issuer_name(doc: Mapping[str, Any]) -> str:
    iss = doc.get("issuer")
    if type(iss) is dict or isinstance(iss, Mapping):
        return str(iss.get("name") or iss.get("id") or "?")
    return str(iss or "?")


def _subjects(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    s = doc.get("credentialSubject")
    if isinstance(s, list):
        return [x for x in s if type(x) is dict or isinstance(x, Mapping)]
    return [s] if type(s) is dict or isinstance(s, Mapping) else []


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


@dataclass(frozen=True)
class _StatusCopy:
    """One copy of a status list credential, and whether the holder supplied it."""

    document: Mapping[str, Any]
    #: carried by the presentation (the holder chose it) rather than given to the verifier
    from_presentation: bool = False
    #: sha-256 of the copy's canonical JSON, for the verifier's own copies (which it holds as
    #: private deep copies, so the digest stays true); a carried copy is hashed when used
    digest: str | None = None

    @cached_property
    def timed(self) -> bool:
        """Whether a proof of this copy has ``expires``: then its proof check depends on the
        time, and no verdict on it is kept beyond one verification (``Verifier._chosen``)."""
        proofs = self.document.get("proof")
        return any(isinstance(p, Mapping) and "expires" in p for p in _as_list(proofs))

    @cached_property
    def described(self) -> str:
        """Which copy this is, for a check's reason (worked out once per copy: the copy's
        document is a private copy that never changes, and each entry read from it names it)."""
        start = self.document.get("validFrom")
        origin = "carried by the presentation" if self.from_presentation else "held by the verifier"
        return f"validFrom {start if isinstance(start, str) else '(none)'}, {origin}"


_OLDEST = datetime.min.replace(tzinfo=UTC)
#: the statuses ``Check.ok`` accepts
_OK = ("passed", "not_applicable")


#: how many status lists' proof checks and expanded bitstrings a verifier keeps (each list is a
#: few KB expanded; an employer checks the lists of a handful of institutes)
STATUS_CACHE_SIZE = 256
#: how many parsed validity dates a verifier keeps (cleared when full: a few hundred KB at most)
DATE_CACHE_SIZE = 4096


def _content_digest(doc: Mapping[str, Any]) -> str | None:
    """sha-256 of a document's canonical JSON (sorted keys, no spaces): its exact content;
    None for something that is not plain JSON (a library caller's object: then not cached)."""
    try:
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _newest_first(copies: Sequence[_StatusCopy]) -> list[_StatusCopy]:
    """The copies by claimed ``validFrom``, newest first; on a tie the verifier's own before the
    presentation's, and the one added last first. At most :data:`MAX_STAPLED_COPIES` of the
    presentation's. Claimed, because nothing is verified yet: a forged newer copy comes first and
    is skipped when its proof fails."""
    ranked = sorted(enumerate(copies), reverse=True, key=lambda ic: (
        list_valid_from(ic[1].document) or _OLDEST, not ic[1].from_presentation, ic[0]))
    out: list[_StatusCopy] = []
    stapled = 0
    for _, c in ranked:
        if c.from_presentation:
            stapled += 1
            if stapled > MAX_STAPLED_COPIES:
                continue
        out.append(c)
    return out


def _which(described: str, skipped: int) -> str:
    """Which status list copy decided, for the reason text."""
    if skipped:
        return described + f"; {skipped} newer cop{'y' if skipped == 1 else 'ies'} that did not verify ignored"
    return described


def _status_verdict(purpose: str, url: str, index: int, is_set: bool, which: str) -> tuple[CheckStatus, str, str]:
    """The outcome of one status entry read from a list copy that may decide."""
    if is_set:
        word = {"revocation": "revoked", "suspension": "suspended"}.get(purpose)
        if word is None:  # refresh / message: a set bit is information, not a verdict we know
            return ("indeterminate", f"{purpose} status is set (status list {url}, index {index}; "
                    f"{which})", "status_set")
        return "failed", f"{word} (status list {url}, index {index}; {which})", word
    shown = "revoked" if purpose == "revocation" else "suspended" if purpose == "suspension" else purpose
    return "passed", f"not {shown} ({which})", "ok"


_PLAIN_ENTRY_KEYS = frozenset({"id", "type", "statusPurpose", "statusListIndex", "statusListCredential"})


def _plain_entry_key(entry: Any, issuer: str | None) -> tuple[str, str, str | None] | None:
    """(list URL, purpose, issuer) of a one-bit ``BitstringStatusListEntry`` without messages
    whose index is a plain decimal string; None for anything else (judged in full)."""
    if not (type(entry) is dict or isinstance(entry, Mapping)) or not _PLAIN_ENTRY_KEYS.issuperset(entry) \
            or entry.get("type") != "BitstringStatusListEntry":
        return None
    url, purpose, index = entry.get("statusListCredential"), entry.get("statusPurpose"), entry.get("statusListIndex")
    if not (isinstance(url, str) and isinstance(purpose, str) and purpose and isinstance(index, str)
            and index.isascii() and index.isdigit() and len(index) <= 18):
        return None
    return url, purpose, issuer


@dataclass
class _Run:
    """Accumulates the checks of one verification."""

    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: every copy of each status list: the verifier's plus those this document carries (never
    #: kept for the next one; tuples, so a copy of the verifier's dict cannot change it)
    status_lists: dict[str, tuple[_StatusCopy, ...]] = field(default_factory=dict)
    #: what the verifier expects, for SD-JWT key binding inside a presentation
    challenge: str | None = None
    domain: str | None = None
    #: every context URL anywhere in the presentation is bundled (so in its credentials too)
    contexts_known: bool = False
    #: proof checks of status list copies, by id() of the copy's document (each copy is checked
    #: once per verification, however many credentials point at its list)
    status_proofs: dict[int, ProofReport] = field(default_factory=dict)
    #: an unsigned presentation verified under ``allow_unsigned_presentations``: no presenter
    unsigned: bool = False
    #: the verifier's private copy of the document checked, and every context URL in it (both
    #: made in the one walk that also bounds its depth, see ``_private_copy``)
    document: Any = None
    document_contexts: tuple[str, ...] = ()
    #: ``Verifier._scope`` per credential (by id() of the document, which the run keeps alive):
    #: the trust check and the counted claims judge the same claims once
    scopes: dict[int, Any] = field(default_factory=dict)
    #: ``Verifier._list_dates`` per chosen status list copy (by id(), the copy kept alive here)
    list_dates: dict[tuple[int, str, str], Any] = field(default_factory=dict)
    #: when status is judged: the verification time, but never later than now (a status list
    #: says what is revoked today; what will be revoked on a future ``at`` cannot be known)
    status_at: datetime | None = None

    #: how the caller words a check's advice (``Verifier(wording=...)``), None: the library's
    wording: Callable[[str, str, str], str] | None = None
    #: ``format_datetime`` of the times this run names (the verification time in every
    #: credential's validity reason and the report's ``checked_at``), each formatted once
    when_texts: dict[datetime, str] = field(default_factory=dict)

    def when_text(self, when: datetime) -> str:
        text = self.when_texts.get(when)
        if text is None:
            text = self.when_texts[when] = _second_text(when)
        return text

    def add(self, cid: str, step: int, status: CheckStatus, reason: str, code: str = "ok") -> Check:
        if status == "passed":  # most checks: no hint, no rewording, code "ok"
            c = Check(cid, step, status, reason, "ok", None)
            self.checks.append(c)
            return c
        hint = _hint_of(status, reason, code)
        if hint is not None and self.wording is not None:
            reason = self.wording(reason, code, hint)
        c = Check(cid, step, status, reason, code, hint)
        self.checks.append(c)
        return c


#: ``format_datetime`` of whole seconds in UTC, shared by every verification (each names its
#: verification time twice; verifications made within one second name the same text)
_SECOND_TEXTS: dict[datetime, str] = {}


def _second_text(when: datetime) -> str:
    """``format_datetime(when)``, remembered per second for a UTC time (the clock's): what it
    prints depends only on the second (a time in another zone is formatted afresh)."""
    global _LAST_SECOND
    if when.tzinfo is not UTC:
        return format_datetime(when)
    last = _LAST_SECOND  # the second the previous verification named, most often this one
    if last is not None and last[0] <= when < last[1]:
        return last[2]
    second = when.replace(microsecond=0)
    text = _SECOND_TEXTS.get(second)
    if text is None:
        text = format_datetime(second)
        if len(_SECOND_TEXTS) >= 64:
            _SECOND_TEXTS.clear()
        _SECOND_TEXTS[second] = text
    _LAST_SECOND = (second, second + _ONE_SECOND, text)  # one tuple, replaced whole (threads)
    return text


#: (start, end, text) of the second ``_second_text`` named last: two comparisons instead of
#: ``replace`` and a dict lookup of an aware datetime for the verifications within it
_LAST_SECOND: tuple[datetime, datetime, str] | None = None
_ONE_SECOND = timedelta(seconds=1)


#: check code -> the parameter its reason advises (``Check.hint``); every reason of such a code
#: names it in the library's words, which a front end may reword (``Verifier(wording=...)``)
_HINTS = {
    "too_many_credentials": "max_credentials",
    "challenge_not_given": "challenge",
    "domain_not_given": "domain",
    "unsafe_no_holder_binding": "require_holder_binding",
    "status_unavailable": "status_lists",
    "status_list_too_old": "status_not_before",
}
#: advice some reasons quote from a refusal they carry (a did:web issuer not resolvable offline,
#: in a proof or a status list's check): phrase -> ``Check.hint``, whatever the check's code
_QUOTED_HINTS = ((DID_DOCUMENTS_ADVICE, "did_documents"),)


def _hint_of(status: str, reason: str, code: str) -> str | None:
    """``Check.hint`` of a check: the parameter its reason advises, or None."""
    if status == "passed":
        return None
    hint = _HINTS.get(code)
    if hint is None:
        hint = next((h for phrase, h in _QUOTED_HINTS if phrase in reason), None)
    return hint


ENVELOPED_VP = "EnvelopedVerifiablePresentation"
#: registered JWT / SD-JWT claims of a presentation token: the envelope's, not the presentation's data
_JWT_CLAIMS = frozenset({"iss", "sub", "aud", "nonce", "iat", "exp", "nbf", "jti", "cnf", "_sd", "_sd_alg"})


class Verifier:
    """Verifies credentials and presentations offline against a policy.

    ``status_lists`` are BitstringStatusListCredentials the caller has (files, a cache); every
    copy is kept, and of all the copies of one list (these and those a presentation carries)
    the newest one whose proof and issuer check out decides. ``did_documents`` add DID
    documents beyond those in the trust list -- never *for* a DID the trust list names: for
    those, only the trust list's document counts (a conflict fails, named
    ``did_document_conflict``).
    """

    def __init__(
        self,
        policy: VerificationPolicy | None = None,
        *,
        status_lists: Iterable[Mapping[str, Any]] = (),
        did_documents: Iterable[Mapping[str, Any]] = (),
        loader: OfflineLoader | None = None,
        token_status_lists: Iterable[str] = (),
        type_metadata: Iterable[Mapping[str, Any]] = (),
        wording: Callable[[str, str, str], str] | None = None,
    ) -> None:
        self.policy = policy or VerificationPolicy()
        #: ``(reason, code, hint) -> reason``: how a front end words the advice of a check that
        #: has a ``hint`` (the command line names its options); applied as each check is made,
        #: so every text built from the reasons (rejected credentials, passports) agrees
        self._wording = wording
        from skillcred.sdjwt_vc import trusted_metadata

        # SD-JWT VC: type metadata beyond skillcred's bundled types (never fetched), and the
        # IETF Token Status Lists (statuslist+jwt) the verifier holds, by their uri
        self._type_metadata = trusted_metadata(type_metadata)
        self._tokens: dict[str, tuple[Any, ...]] = {}
        self._token_checks: dict[tuple[str, str], tuple[CheckStatus, str, str] | None] = {}
        for t in token_status_lists:
            self.add_token_status_list(t)
        self._loader = loader or default_loader()
        # The trust list's DID documents are authoritative: a document from anywhere else (a
        # --did-document file, a wallet's store, the party being checked) can never replace or
        # extend a trusted issuer's, and a differing one makes that DID fail to resolve, by name.
        pinned = {} if self.policy.trust is None else self.policy.trust.authoritative_documents()
        self._resolver = DidResolver(did_documents, authoritative=pinned)
        self._status: dict[str, tuple[_StatusCopy, ...]] = {}
        # Work done once per verifier (item 9 of issue 14): a status list's proof check and its
        # expanded bitstring, by the list's exact content. Lists are immutable values (a new
        # copy is a new key), so nothing invalidates an entry; both are bounded (oldest out).
        self._status_proof_cache: OrderedDict[tuple[str, str | None], ProofReport] = OrderedDict()
        self._decoded_cache: OrderedDict[tuple[str, int, int, int], BitstringStatusList] = OrderedDict()
        # The copies of a list usable under the policy, newest first, by the tuple of copies
        # (the verifier's own tuples are the same objects in every run; the cache keeps each
        # tuple alive, so an id() is never reused while it is held).
        self._ranked_cache: OrderedDict[int, tuple[Sequence[_StatusCopy], tuple[_StatusCopy, ...]]] = \
            OrderedDict()
        # A plain entry's list-side checks (the list is the one named, of the purpose, one bit
        # per entry, readable), passed once for a chosen copy: (url, purpose) -> (the copy's
        # document, its expanded bits). Another plain entry of the same list and purpose read
        # from the same chosen copy only needs its index read. Both caches are bounded, oldest
        # out, and never reordered on a hit (a lookup racing an eviction cannot fail).
        self._plain_reads: OrderedDict[tuple[str, str], tuple[Mapping[str, Any], BitstringStatusList]] = \
            OrderedDict()
        # For each of the verifier's own copies seen to decide: the earliest time it was seen
        # to, and when it turns stale, by (id() of the copy, url, which): see ``_dates_at``.
        # The entry holds the copy, so the id is not reused while it is kept; bounded, oldest out.
        self._date_spans: OrderedDict[tuple[int, str, str],
                                      tuple[Mapping[str, Any], datetime, datetime | None]] = OrderedDict()
        # Which of the verifier's own copies of a list decides for an issuer, and how many newer
        # ones were skipped (``_newest_verified``), by (id() of the ranked copies, url, issuer):
        # the same for every credential pointing at the list, however many. Only kept when no
        # copy's proof depends on the time (``expires``) and none is the holder's; the entry
        # holds the ranked tuple, so its id is not reused while kept; bounded, oldest out.
        self._chosen: OrderedDict[tuple[int, str, str | None], tuple[Sequence[_StatusCopy], _StatusCopy, int]] = \
            OrderedDict()
        # The chosen copy of a list for plain entries (``_plain_entry_key``: list URL, purpose,
        # issuer), with the URL its copies are held under, the tuple of copies it was chosen
        # from and the reason's words for it: while a run holds that very tuple (the verifier's
        # own, neither added to since nor joined by a presentation's copies), ``_ranked`` and
        # ``_newest_verified`` would choose it again (both are kept per tuple; the policy and
        # resolver are fixed), so an entry of an institute's credential goes straight to its
        # list's dates and its bit. Only settled from ``_newest_verified``'s own kept choice;
        # bounded, oldest out; the entry holds the tuple, so an identity is never reused.
        self._settled: OrderedDict[tuple[str, str, str | None],
                                   tuple[str, tuple[_StatusCopy, ...], _StatusCopy, str]] = OrderedDict()
        # Parsed validity dates by their exact text (``_validity``): a verifier checking many
        # credentials of one issuer meets the same few timestamps again and again (bounded)
        self._parsed_dates: dict[str, datetime] = {}
        for sl in status_lists:
            self.add_status_list(sl)

    def add_status_list(self, credential: Mapping[str, Any], *, from_presentation: bool = False) -> None:
        """Make a status-list credential available (it is verified when it is used).

        Copies of a list already held are kept too, not replaced: an older copy given later must
        not hide a newer one. ``from_presentation`` marks a copy the holder supplied (a caller
        checking a presentation's credentials one by one): it is then ignored when the policy
        says ``status_from_presentation=False``, and loses a tie with the verifier's own.
        """
        if STATUS_LIST_TYPE not in _types(credential.get("type")) or not isinstance(credential.get("id"), str):
            raise MalformedDocument("not a BitstringStatusListCredential with an id")
        key = str(credential["id"])
        own = copy_json(dict(credential))  # a private copy: the caller changing theirs changes nothing here
        self._status[key] = (*self._status.get(key, ()), _StatusCopy(own, from_presentation, _content_digest(own)))

    def add_token_status_list(self, token: str) -> None:
        """Make an IETF Status List Token (``statuslist+jwt``) available, filed under its ``sub``
        (the ``uri`` credentials name). Like Bitstring lists every copy is kept and each is
        verified when used: the newest (``iat``) that verifies and is the issuer's decides."""
        from skillcred.token_status import peek_status_list_token

        read = peek_status_list_token(token)
        self._tokens[read.uri] = (*self._tokens.get(read.uri, ()), read)

    def status_entry(self, entry: Mapping[str, Any], *, issuer: str | None,
                     at: datetime | None = None) -> tuple[CheckStatus, str, str]:
        """Judge one stored ``credentialStatus`` entry against the lists this verifier holds, by
        the same rules as a full check (newest copy whose proof and issuer check out; stale or
        too old lists are indeterminate): ``(status, reason, code)``. For a store of claims
        verified earlier (the talent pool's ``refresh``) that must re-judge status without the
        credential itself."""
        run = _Run(status_lists=dict(self._status))
        return self._worded(self._one_status(run, entry, issuer, at or utcnow()))

    def _worded(self, verdict: tuple[CheckStatus, str, str]) -> tuple[CheckStatus, str, str]:
        """A status verdict's reason in the caller's words (``wording``), as a check's would be."""
        status, reason, code = verdict
        hint = _hint_of(status, reason, code) if self._wording is not None else None
        return verdict if hint is None or self._wording is None else (status, self._wording(reason, code, hint), code)

    def status_entries(self, entries: Iterable[tuple[Mapping[str, Any], str | None]], *,
                       at: datetime | None = None) -> list[tuple[CheckStatus, str, str]]:
        """:meth:`status_entry` for many ``(entry, issuer)`` pairs at once, judged as one
        verification judges the entries of all its credentials: each list copy's proof and
        dates are checked once and its bitstring expanded once, however many entries point at
        it (a pool's refresh reads hundreds of thousands of entries of a handful of lists)."""
        run = _Run(status_lists=dict(self._status))
        when = at or utcnow()
        # plain entries (one bit, no messages) of one (list, purpose, issuer) differ only in
        # their index: once the first has been judged in full and the list may decide, the
        # others are a bit read from the same chosen copy (an index past its end: judged in full)
        chosen: dict[tuple[str, str, str | None], tuple[BitstringStatusList, str] | None] = {}
        out: list[tuple[CheckStatus, str, str]] = []
        for entry, issuer in entries:
            key = _plain_entry_key(entry, issuer)
            known = chosen.get(key) if key is not None else None
            if known is not None and key is not None:
                bits, which = known
                index = int(entry["statusListIndex"])
                if index < bits.size:
                    out.append(_status_verdict(key[1], key[0], index, bits.get(index) != 0, which))
                    continue
            outcome = self._one_status(run, entry, issuer, when)
            out.append(self._worded(outcome))
            if key is not None and key not in chosen and outcome[2] in ("ok", "revoked", "suspended", "status_set"):
                chosen[key] = self._chosen_bits(run, key[0], issuer, when)
        return out

    def status_list_bits(self, url: str, purpose: str, issuer: str | None, *,
                         at: datetime | None = None) -> tuple[BitstringStatusList, str] | None:
        """The expanded one-bit list that every plain entry of ``(url, purpose, issuer)`` is
        read from (and the copy's description), when that list may decide them -- judged as
        :meth:`status_entries` judges the first such entry (the copy's proof, issuer, purpose
        and dates). None when it may not: judge the entries one by one. A pool's refresh
        compares the stored bits with this list inside the database instead of reading every
        reference out; an index at or past the list's size is not decided by it."""
        run = _Run(status_lists=dict(self._status))
        when = at or utcnow()
        probe = {"type": "BitstringStatusListEntry", "statusPurpose": purpose, "statusListIndex": "0",
                 "statusListCredential": url}
        if self._one_status(run, probe, issuer, when)[2] not in ("ok", "revoked", "suspended", "status_set"):
            return None
        return self._chosen_bits(run, url, issuer, when)

    def _chosen_bits(self, run: _Run, url: str, issuer: str | None,
                     when: datetime) -> tuple[BitstringStatusList, str] | None:
        """The expanded one-bit list of the copy :meth:`_one_status` chose for ``url`` (cached
        in ``run`` and the verifier: no proof is checked again) and its description."""
        copies = run.status_lists.get(url.split("#", 1)[0], ())
        copy, skipped, _problem = self._newest_verified(run, self._ranked(copies), url, issuer, when)
        if copy is None:
            return None
        subject = copy.document.get("credentialSubject")
        if isinstance(subject, list) and len(subject) == 1:
            subject = subject[0]
        if not isinstance(subject, Mapping) or "encodedList" not in subject:
            return None
        return self._decode_list(subject["encodedList"]), _which(copy.described, skipped)

    # -- public API ----------------------------------------------------------------------------

    def check(
        self,
        document: Mapping[str, Any],
        *,
        challenge: str | None = None,
        domain: str | None = None,
        at: datetime | None = None,
        source: str | None = None,
    ) -> VerificationReport:
        """Run every check; returns the report and never raises for a verification outcome."""
        with rows_memo():
            # the report alone: every check runs as in assess, but the accepted credentials'
            # counted claims (what gap analysis reads, not a check) are not worked out
            return self._assess(document, challenge=challenge, domain=domain, at=at, source=source,
                                accept=False).report

    def assess(
        self,
        document: Mapping[str, Any],
        *,
        challenge: str | None = None,
        domain: str | None = None,
        at: datetime | None = None,
        source: str | None = None,
    ) -> VerifiedPresentation:
        """The report plus the credentials that may be relied on and those that may not."""
        with rows_memo():  # each document goes to RDF once, for its terms check and its proofs
            return self._assess(document, challenge=challenge, domain=domain, at=at, source=source)

    def _assess(
        self,
        document: object,  # typed as Mapping by the public methods; untyped callers may pass any JSON
        *,
        challenge: str | None,
        domain: str | None,
        at: datetime | None,
        source: str | None,
        accept: bool = True,
    ) -> VerifiedPresentation:
        now = utcnow()
        when = at or now
        run = _Run(status_lists=dict(self._status), challenge=challenge, domain=domain, wording=self._wording)
        aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
        if aware > now + self.policy.clock_skew:
            # "still valid on the start date": dates are judged then, status as of now (a list
            # judged at a future time would always be stale, so every credential would fail)
            run.status_at = now
            run.warnings.append(f"checked at {format_datetime(aware)}, a time in the future: validity dates are "
                                f"judged then, revocation and suspension as of now ({format_datetime(now)})")
        if self.policy.trust is None:
            run.warnings.append("no trust list given: issuers are NOT checked against a list of trusted issuers")
        if not self.policy.require_holder_binding:
            run.warnings.append("holder binding is off (require_holder_binding=False): a presentation's credentials "
                                "need not be about its presenter")
        kind: str = "credential"
        vp_id: str | None = None
        creds: list[Any] = []
        holder_ok = False
        holder: str | None = None
        try:
            # one walk: the depth bound, a private copy (the caller changing theirs during or
            # after the verification changes nothing here) and the context URLs
            contexts: list[str] = []
            document = _private_copy(document, MAX_JSON_DEPTH, contexts)
            run.document, run.document_contexts = document, tuple(contexts)
        except MalformedDocument as exc:
            run.add("document.shape", 1, "failed", exc.message, exc.code)
            return self._finish(run, "credential", when, source, None, [], [], None)
        if not isinstance(document, Mapping):
            run.add("document.shape", 1, "failed", "not a JSON object", "malformed_document")
            return self._finish(run, "credential", when, source, None, [], [], None)
        types = _types(document.get("type"))
        if "VerifiablePresentation" in types:
            kind = "presentation"
            vp_id = document.get("id") if isinstance(document.get("id"), str) else None
            holder_ok, holder, creds = self._presentation(run, document, challenge, domain, when)
        elif ENVELOPED_VP in types:  # a bare vp+jwt / vp+sd-jwt / vp+cose (skillcred verify token)
            kind = "presentation"
            holder_ok, holder, creds, vp_id = self._enveloped_presentation(run, document, challenge, domain, when)
        elif "VerifiableCredential" in types or is_envelope(document):  # a vc+jwt / SD-JWT / COSE one too
            creds = [document]
            holder_ok = True
        else:
            run.add("document.shape", 1, "failed",
                    "neither a VerifiablePresentation nor a VerifiableCredential", "malformed_document")
            return self._finish(run, "credential", when, source, None, [], [], None)

        accepted: list[VerifiedCredential] = []
        rejected: list[tuple[int, str | None, str]] = []
        ids: list[str | None] = []
        for i, cred in enumerate(creds):
            prefix = f"credential[{i}]" if kind == "presentation" else "credential"
            before = len(run.checks)
            cid, cred = self._credential(run, prefix, cred, when, holder if kind == "presentation" else None)
            ids.append(cid)
            mine = run.checks[before:]
            failed = [c for c in mine if c.status not in _OK]  # not c.ok, without the property call
            if failed or not holder_ok or run.unsigned:
                why = failed[0] if failed else None
                rejected.append((i, cid, f"{why.family}: {why.reason}" if why else
                                 "the presentation is unsigned: nobody is authenticated as its presenter"
                                 if run.unsigned and holder_ok else "the presentation itself did not verify"))
            elif accept:
                counted, not_counted = self._counted_claims(
                    run, cred, _issuer_id(cred), holder if kind == "presentation" else None)
                accepted.append(_make_verified_credential(
                    index=i, id=cid, issuer=str(_issuer_id(cred)), issuer_name=_issuer_name(cred),
                    subject=str(_subjects(cred)[0].get("id")) if _subjects(cred) else None,
                    # ``cred`` is part of the run's private copy (or claims opened from a token):
                    # nothing else holds it once the run ends
                    document=cred if isinstance(cred, dict) else dict(cred), claims=tuple(counted),
                    not_counted=tuple(not_counted),
                ))
        if kind == "presentation" and not creds and not any(c.id == "presentation.credentials" for c in run.checks):
            if self.policy.require_credentials:
                run.add("presentation.credentials", 1, "failed", "the presentation holds no credentials, so it "
                        "shows nothing to rely on (VerificationPolicy.require_credentials)", "no_credentials")
            else:
                run.add("presentation.credentials", 1, "not_applicable",
                        "the presentation holds no credentials (VC DM 2.0 §4.13 allows it; "
                        "require_credentials=False)", "no_credentials_allowed")
        return self._finish(run, kind, when, source, vp_id, ids, accepted, holder if holder_ok else None,
                            rejected)

    def verify(self, document: Mapping[str, Any], **kwargs: Any) -> VerifiedPresentation:
        """Like :meth:`assess`, but raise :class:`VerificationFailed` unless everything passed."""
        result = self.assess(document, **kwargs)
        result.report.raise_for_failure()
        return result

    # -- internals -----------------------------------------------------------------------------

    def _finish(self, run: _Run, kind: str, when: datetime, source: str | None, vp_id: str | None,
                ids: Sequence[str | None], accepted: list[VerifiedCredential], holder: str | None,
                rejected: list[tuple[int, str | None, str]] | None = None) -> VerifiedPresentation:
        report = VerificationReport(
            kind=kind,  # type: ignore[arg-type]
            checked_at=run.when_text(when), checks=tuple(run.checks), source=source,
            presentation_id=vp_id, credential_ids=tuple(ids), warnings=tuple(run.warnings),
        )
        if not report.verified and kind == "credential":
            if accepted:
                rejected = [(0, accepted[0].id, "the credential did not verify")]
            accepted = []
        return VerifiedPresentation(report=report, holder=holder, accepted=tuple(accepted),
                                    rejected=tuple(rejected or []))

    def _shape_and_terms(self, run: _Run, prefix: str, doc: Mapping[str, Any], required_type: str,
                         *, contexts_known: bool = False) -> bool:
        ctx = _contexts(doc.get("@context"))
        problems = []
        if not ctx or ctx[0] not in (VC_V2, VC_V1):
            problems.append(f"@context must start with {VC_V2}")
        if required_type not in _types(doc.get("type")):
            problems.append(f"type must include {required_type}")
        if "id" in doc and not (isinstance(doc["id"], str) and _URL.match(doc["id"])):
            problems.append("id must be a URL")  # VC DM 2.0 §4.4
        if required_type == "VerifiableCredential":
            if not _issuer_id(doc):
                problems.append("issuer is missing")
            if not _subjects(doc):
                problems.append("credentialSubject is missing")
        elif "holder" in doc:  # VC DM 2.0 §4.13: a URL, or an object whose id is one
            holder = doc["holder"]
            hid = holder.get("id") if isinstance(holder, Mapping) else holder
            if not (isinstance(hid, str) and _URL.match(hid)):
                problems.append("holder must be a URL or an object with an id that is a URL")
        if problems:
            run.add(f"{prefix}.shape", 1, "failed", "; ".join(problems), "malformed_document")
        else:
            run.add(f"{prefix}.shape", 1, "passed", f"a {required_type} on VC Data Model "
                    f"{'2.0' if ctx[0] == VC_V2 else '1.1'}")
        if required_type == "VerifiableCredential":
            self._related_resources(run, prefix, doc)
        urls = run.document_contexts if doc is run.document else None
        unknown = [] if contexts_known else sorted(
            {c for c in (self._all_context_urls(doc) if urls is None else urls) if not self._loader.knows(c)})
        if unknown:
            run.add(f"{prefix}.contexts", 2, "failed",
                    f"context {', '.join(unknown)} is not bundled (contexts are never fetched)", UnknownContext.code)
            run.add(f"{prefix}.terms", 2, "indeterminate", "not checked: a context is unknown", "unknown_context")
            return False
        run.add(f"{prefix}.contexts", 2, "passed", "every context is bundled and pinned")
        if required_type == "VerifiablePresentation":
            run.contexts_known = True
        try:
            # safe mode over exactly what the proofs sign; the RDF is remembered for them
            # (and not computed at all when no proof canonicalizes to RDF)
            rdf = _proofs_need_rdf(doc)
            for part in signed_parts(doc):
                check_terms(part, loader=self._loader, rdf=rdf)
        except SkillcredError as exc:
            run.add(f"{prefix}.terms", 2, "failed", exc.message, exc.code)
            return False
        run.add(f"{prefix}.terms", 2, "passed", "every term is defined by the contexts")
        return not problems

    def _related_resources(self, run: _Run, prefix: str, doc: Mapping[str, Any]) -> None:
        """VC DM 2.0 §5.3: well-formed entries; a digest checked where the bytes are held
        offline (a bundled context), indeterminate where they are not (never fetched)."""
        if "relatedResource" not in doc:
            return
        try:
            outcome = check_related_resources(doc["relatedResource"], self._loader.pinned_bytes)
        except SkillcredError as exc:  # a bundled context that fails its pin: not checkable
            run.add(f"{prefix}.related_resource", 1, "indeterminate", exc.message, "related_resource_unavailable")
            return
        run.add(f"{prefix}.related_resource", 1, outcome.status, outcome.reason, outcome.code)

    def _all_context_urls(self, doc: Any) -> list[str]:
        """Every context URL anywhere in ``doc`` (embedded contexts included)."""
        out: list[str] = []
        _collect_context_urls(doc, out)
        return out

    def _presentation(self, run: _Run, vp: Mapping[str, Any], challenge: str | None, domain: str | None,
                      when: datetime) -> tuple[bool, str | None, list[Any]]:
        all_vcs = _as_list(vp.get("verifiableCredential"))
        if len(all_vcs) > self.policy.max_credentials:  # before any expensive step
            run.add("presentation.credentials", 1, "failed",
                    f"the presentation holds {len(all_vcs)} credentials, more than the {self.policy.max_credentials} "
                    "this verifier accepts (VerificationPolicy.max_credentials); "
                    "nothing in it was checked", "too_many_credentials")
            return False, None, []
        ok = self._shape_and_terms(run, "presentation", vp, "VerifiablePresentation")
        creds = []
        for vc in all_vcs:
            if isinstance(vc, Mapping) and STATUS_LIST_TYPE in _types(vc.get("type")):
                key = str(vc.get("id"))  # status lists travelling with it: one more copy each
                run.status_lists[key] = (*run.status_lists.get(key, ()), _StatusCopy(vc, from_presentation=True))
            else:
                creds.append(vc)
        if "proof" not in vp and self.policy.allow_unsigned_presentations:
            return self._unsigned(run, challenge, domain) and ok, None, creds
        if not isinstance(vp.get("proof"), Mapping | list):
            run.add("presentation.proof", 3, "failed", "the presentation is not signed", "proof_missing")
            return False, None, creds
        report = check_proofs_depth_checked(
            vp, resolver=self._resolver, expected_purpose="authentication", challenge=challenge,
            domain=domain, at=when, allowed_suites=self.policy.allowed_suites, loader=self._loader)
        bad = [c for c in report.checks if c.status != "passed"]
        if bad:
            run.add("presentation.proof", 4, "failed", bad[0].reason, bad[0].code)
            ok = False
        else:
            run.add("presentation.proof", 4, "passed",
                    f"signed by {report.controllers[0]} for authentication"
                    + (f", challenge and domain {domain} match" if challenge and domain else ""))
        if challenge is None:
            ok = self._challenge_unexpected(run) and ok
        else:
            run.add("presentation.challenge", 4, "passed" if not bad else "failed",
                    "the proof carries the expected challenge" if not bad else "see presentation.proof",
                    "ok" if not bad else bad[0].code)
        if not self._domain_expected(run, domain):
            ok = False
        elif domain is not None:
            run.add("presentation.domain", 4, "passed" if not bad else "failed",
                    f"the proof is made for {domain}" if not bad else "see presentation.proof",
                    "ok" if not bad else bad[0].code)
        signer = report.controllers[0] if report.controllers and not bad else None
        vp_holder = vp.get("holder")
        if isinstance(vp_holder, Mapping):
            vp_holder = vp_holder.get("id")
        if vp_holder is not None and signer is not None and vp_holder != signer:
            run.add("presentation.holder", 4, "failed",
                    f"holder {vp_holder} is not the signer {signer}", "holder_mismatch")
            ok = False
        return ok and signer is not None, signer, creds

    @staticmethod
    def _unsigned(run: _Run, challenge: str | None, domain: str | None) -> bool:
        """An unsigned presentation under ``allow_unsigned_presentations``: nobody to
        authenticate, so its credentials are verified each on its own and none is accepted as
        the presenter's; an expected challenge or domain cannot be met by it."""
        run.unsigned = True
        if challenge is not None or domain is not None:
            run.add("presentation.proof", 3, "failed", "the presentation is not signed, so the expected "
                    "challenge/domain cannot be checked", "proof_missing")
            return False
        run.add("presentation.proof", 3, "not_applicable",
                "unsigned presentation: nobody is authenticated as its presenter", "unsigned_presentation")
        run.warnings.append("the presentation is unsigned: its presenter is not authenticated and the credentials "
                            "are verified on their own (no holder binding, no replay protection)")
        return True

    def _challenge_unexpected(self, run: _Run) -> bool:
        """No expected challenge: ``presentation.challenge`` is indeterminate (a replay cannot be
        told apart) unless the policy says ``unsafe_no_challenge``. False: that fails it."""
        if self.policy.unsafe_no_challenge:
            run.add("presentation.challenge", 4, "not_applicable",
                    "UNSAFE: no challenge expected; replay protection is off", "unsafe_no_challenge")
            return True
        run.add("presentation.challenge", 4, "indeterminate",
                "no expected challenge was given, so a replayed presentation cannot be told apart "
                "(pass challenge=...)", "challenge_not_given")
        return False

    def _domain_expected(self, run: _Run, domain: str | None) -> bool:
        """No expected domain: ``presentation.domain`` is indeterminate (a presentation made for
        another verifier cannot be told apart) unless the policy says ``unsafe_no_domain``.
        Returns False when that fails the presentation; with a domain, the caller judges it."""
        if domain is not None:
            return True
        if self.policy.unsafe_no_domain:
            run.add("presentation.domain", 4, "not_applicable",
                    "UNSAFE: no domain expected; a presentation made for another verifier passes",
                    "unsafe_no_domain")
            return True
        run.add("presentation.domain", 4, "indeterminate",
                "no expected domain was given, so a presentation the candidate made for another "
                "verifier cannot be told apart (pass domain=...)", "domain_not_given")
        return False

    def _enveloped_presentation(self, run: _Run, env: Mapping[str, Any], challenge: str | None,
                                domain: str | None, when: datetime
                                ) -> tuple[bool, str | None, list[Any], str | None]:
        """An ``EnvelopedVerifiablePresentation`` (a vp+jwt, vp+sd-jwt or vp+cose file): the
        token's signature by the holder's key stands in for the presentation proof, its
        ``nonce``/``aud`` (an SD-JWT's Key Binding JWT) for challenge and domain; then its
        enveloped credentials go through every step like a Data Integrity presentation's."""
        from skillcred.jose import unwrap_enveloped_credential, verify_cose, verify_jwt
        from skillcred.sdjwt import verify_sd_jwt

        try:
            media_type, token = unwrap_enveloped_credential(env, envelope_type=ENVELOPED_VP)
            label = media_type.removeprefix("application/")
            if label == "vp+jwt":
                res = verify_jwt(token, resolver=self._resolver, expected_typ="vp+jwt", at=when,
                                 verify_credentials=False)
                claims, signer = res.payload, res.controller
                nonce, aud = claims.get("nonce"), claims.get("aud")
            elif label == "vp+cose":
                res = verify_cose(token, resolver=self._resolver, expected_typ="vp+cose", at=when,
                                  verify_credentials=False)
                claims, signer = res.payload, res.controller
                nonce, aud = claims.get("nonce"), claims.get("aud")
            elif label == "vp+sd-jwt":
                sd = verify_sd_jwt(token, resolver=self._resolver, expected_nonce=challenge, expected_aud=domain,
                                   require_key_binding=False, at=when, expected_typ="vp+sd-jwt")
                # the Key Binding JWT, when there, was checked against challenge and domain
                claims, signer = sd.claims, sd.issuer
                nonce, aud = (challenge, domain) if sd.key_bound else (None, None)
            else:
                raise InvalidArgument(f"enveloped presentations of type {media_type} are not supported")
        except SkillcredError as exc:
            run.add("presentation.shape", 1, "passed", "an EnvelopedVerifiablePresentation")
            run.add("presentation.proof", 4, "failed", exc.message, str(getattr(exc, "reason", exc.code)))
            return False, None, [], None
        vp_id = claims.get("id") if isinstance(claims.get("id"), str) else None
        all_vcs = _as_list(claims.get("verifiableCredential"))
        if len(all_vcs) > self.policy.max_credentials:
            run.add("presentation.credentials", 1, "failed",
                    f"the presentation holds {len(all_vcs)} credentials, more than the {self.policy.max_credentials} "
                    "this verifier accepts (VerificationPolicy.max_credentials); "
                    "nothing in it was checked", "too_many_credentials")
            return False, None, [], vp_id
        # JWT claims (iss, nonce, aud, iat, ...) are the envelope's, not JSON-LD data
        data = {k: v for k, v in claims.items() if k not in _JWT_CLAIMS}
        ok = self._shape_and_terms(run, "presentation", data, "VerifiablePresentation")
        run.add("presentation.proof", 4, "passed", f"{label} signed by {signer} for authentication")
        if challenge is None:
            ok = self._challenge_unexpected(run) and ok
        elif nonce != challenge or (domain is not None and domain not in _as_list(aud)):
            run.add("presentation.challenge", 4, "failed",
                    f"the {label} does not carry the expected challenge and domain (nonce/aud)",
                    "challenge_mismatch")
            ok = False
        else:
            run.add("presentation.challenge", 4, "passed", "the token carries the expected challenge (nonce)"
                    + (f" and domain {domain} (aud)" if domain else ""))
        if not self._domain_expected(run, domain):
            ok = False
        elif domain is not None:
            made_for = domain in _as_list(aud)
            run.add("presentation.domain", 4, "passed" if made_for else "failed",
                    f"the {label} is made for {domain} (aud)" if made_for else "see presentation.challenge",
                    "ok" if made_for else "challenge_mismatch")
        return ok, signer, all_vcs, vp_id

    def _credential(self, run: _Run, prefix: str, cred: Any, when: datetime,
                    holder: str | None) -> tuple[str | None, Any]:
        """Check one credential; returns its id and the document later steps judged (for an
        enveloped JWT / SD-JWT: its verified, disclosed claims)."""
        if not isinstance(cred, Mapping):
            run.add(f"{prefix}.shape", 1, "failed", "not a JSON object", "malformed_document")
            return None, cred
        opened: OpenedCredential | None = None
        if is_envelope(cred):
            try:
                # a credential checked on its own has no presenter to be bound to
                opened = open_envelope(cred, resolver=self._resolver, challenge=run.challenge,
                                       domain=run.domain, at=when, require_key_binding=prefix != "credential")
            except SkillcredError as exc:
                run.add(f"{prefix}.shape", 1, "passed", "an EnvelopedVerifiableCredential")
                run.add(f"{prefix}.proof", 5, "failed", exc.message, str(getattr(exc, "reason", exc.code)))
                return None, cred
            cred = opened.claims
            try:
                check_depth(cred)  # the claims come from inside the token: not depth-checked yet
            except MalformedDocument as exc:
                run.add(f"{prefix}.shape", 1, "failed", exc.message, exc.code)
                return None, cred
            from skillcred.sdjwt_vc import is_sd_jwt_vc

            if opened.fmt == "sd-jwt" and is_sd_jwt_vc(cred):
                return self._sd_jwt_vc(run, prefix, opened, when, holder)
        cid = cred.get("id") if isinstance(cred.get("id"), str) else None
        # a credential of the presentation itself is part of what its contexts check covered
        self._shape_and_terms(run, prefix, cred, "VerifiableCredential",
                              contexts_known=run.contexts_known and opened is None)
        issuer = _issuer_id(cred)
        # 5-6: proof and issuer binding
        if opened is not None:
            what = opened.label
            shown = f"; disclosed: {', '.join(opened.disclosed) or 'nothing selectively disclosable'}" \
                if opened.fmt == "sd-jwt" else ""
            run.add(f"{prefix}.proof", 5, "passed", f"{what} signature verified{shown}")
            if opened.signer == issuer:
                run.add(f"{prefix}.issuer", 6, "passed", f"signed with a key controlled by the issuer {issuer}")
            else:
                run.add(f"{prefix}.issuer", 6, "failed", f"signed by {opened.signer}, not the issuer {issuer}",
                        "issuer_key_mismatch")
            self._rest(run, prefix, cred, issuer, when, holder, opened)
            return cid, cred
        report = check_proofs_depth_checked(
            cred, resolver=self._resolver, expected_purpose="assertionMethod", at=when,
            allowed_suites=self.policy.allowed_suites, loader=self._loader)
        bad = [c for c in report.checks if c.status != "passed"]
        decisive = [d for c in report.checks for d in c.disclosable_decisive]
        if bad:
            run.add(f"{prefix}.proof", 5, "failed", bad[0].reason, bad[0].code)
            run.add(f"{prefix}.issuer", 6, "indeterminate", "not established: the proof did not verify",
                    "proof_invalid")
        elif decisive:
            # A valid ecdsa-sd-2023 proof, but the issuer let the holder choose whether to show
            # what decides validity, status or the issuer: a withheld one would leave no trace.
            run.add(f"{prefix}.proof", 5, "failed",
                    "the issuer made what decides validity, status or the issuer selectively disclosable "
                    f"(a holder could withhold it): {'; '.join(decisive)}", "decisive_claim_disclosable")
            run.add(f"{prefix}.issuer", 6, "indeterminate", "not established: the proof is refused", "proof_invalid")
        else:
            run.add(f"{prefix}.proof", 5, "passed", f"{report.checks[0].cryptosuite} signature verified")
            if issuer in report.controllers:
                run.add(f"{prefix}.issuer", 6, "passed", f"signed with a key controlled by the issuer {issuer}")
            else:
                run.add(f"{prefix}.issuer", 6, "failed",
                        f"signed by {', '.join(report.controllers)}, which is not the issuer {issuer}",
                        "issuer_key_mismatch")
        partial = not bad and report.checks[0].cryptosuite == "ecdsa-sd-2023"
        self._rest(run, prefix, cred, issuer, when, holder, None, partial=partial)
        return cid, cred

    def _sd_jwt_vc(self, run: _Run, prefix: str, opened: OpenedCredential, when: datetime,
                   holder: str | None) -> tuple[str | None, Any]:
        """A flat IETF SD-JWT VC: its ``vct`` must have type metadata here (bundled or given,
        never fetched) and the disclosed claims must fit its schema; later steps judge the
        Open Badges reading of the claims (:func:`skillcred.sdjwt_vc.credential_view`)."""
        from skillcred.sdjwt_vc import check_type_metadata, credential_view

        claims = opened.claims
        view = credential_view(claims)
        cid = view.get("id") if isinstance(view.get("id"), str) else None
        run.add(f"{prefix}.shape", 1, "passed", f"an IETF SD-JWT VC ({opened.label}) of type {claims.get('vct')}")
        schema: tuple[CheckStatus, str, str]
        try:
            meta = check_type_metadata(claims, self._type_metadata)
        except SkillcredError as exc:
            reason = str(getattr(exc, "reason", exc.code))
            run.add(f"{prefix}.type_metadata", 2, "indeterminate" if reason == "vct_unknown" else "failed",
                    exc.message, reason)
            schema = ("indeterminate", "not checked: the type metadata is unusable", "vct_unknown")
        else:
            run.add(f"{prefix}.type_metadata", 2, "passed", f"type metadata of {claims.get('vct')} "
                    f"({meta.get('name') or 'unnamed'}) held offline")
            schema = ("passed", "the disclosed claims fit the JSON Schema of the type metadata", "ok")
        issuer = _issuer_id(view)
        shown = ", ".join(opened.disclosed) or "nothing selectively disclosable"
        run.add(f"{prefix}.proof", 5, "passed", f"{opened.label} signature verified; disclosed: {shown}")
        if opened.signer == issuer:
            run.add(f"{prefix}.issuer", 6, "passed", f"signed with a key controlled by the issuer {issuer}")
        else:
            run.add(f"{prefix}.issuer", 6, "failed", f"signed by {opened.signer}, not the issuer {issuer}",
                    "issuer_key_mismatch")
        self._rest(run, prefix, view, issuer, when, holder, opened, schema=schema)
        return cid, view

    def _rest(self, run: _Run, prefix: str, cred: Mapping[str, Any], issuer: str | None, when: datetime,
              holder: str | None, opened: OpenedCredential | None, *, partial: bool = False,
              schema: tuple[CheckStatus, str, str] | None = None) -> None:
        """Steps 7-11, the same however the credential was secured."""
        self._validity(run, prefix, cred, when)
        self._status_check(run, prefix, cred, issuer, run.status_at or when)
        self._trust(run, prefix, cred, issuer)
        if schema is not None:
            run.add(f"{prefix}.schema", 10, *schema)
        elif partial or (opened is not None and opened.fmt == "sd-jwt"):
            run.add(f"{prefix}.schema", 10, "not_applicable",
                    "selectively disclosed: the hidden claims cannot be checked against a schema",
                    "schema_not_applicable")
        else:
            self._schema(run, prefix, cred)
        if run.unsigned:
            run.add(f"{prefix}.holder_binding", 11, "not_applicable",
                    "unsigned presentation: there is no authenticated presenter to bind the credential to",
                    "unsigned_presentation")
            return
        if not self.policy.require_holder_binding and (holder is not None or prefix != "credential"):
            run.add(f"{prefix}.holder_binding", 11, "not_applicable",
                    "UNSAFE: holder binding is not required (require_holder_binding=False): "
                    "the credential may be about someone other than the presenter, "
                    "and nothing it says about anyone else is counted", "unsafe_no_holder_binding")
            return
        if opened is not None and opened.fmt == "sd-jwt" and holder is not None:
            if not opened.key_bound or opened.holder_jwk is None or holder_jwk_for(holder) != {
                    k: opened.holder_jwk.get(k) for k in ("kty", "crv", "x", "y") if k in opened.holder_jwk}:
                run.add(f"{prefix}.holder_binding", 11, "failed",
                        "the SD-JWT's key binding is not the presenter's key", "subject_not_holder")
                return
        if holder is not None or prefix != "credential":
            subjects = {str(s.get("id")) for s in _subjects(cred) if s.get("id")}
            if holder is None:
                run.add(f"{prefix}.holder_binding", 11, "indeterminate",
                        "the presentation signer is not established", "holder_unknown")
            elif holder in subjects:
                others = sorted(subjects - {holder})
                run.add(f"{prefix}.holder_binding", 11, "passed", "the subject is the presenter" + (
                    f"; what it says about {', '.join(others)} is not counted" if others else ""))
            else:
                run.add(f"{prefix}.holder_binding", 11, "failed",
                        f"the credential is about {', '.join(sorted(subjects)) or 'nobody'}, not the presenter "
                        f"{holder}", "subject_not_holder")

    def _validity(self, run: _Run, prefix: str, cred: Mapping[str, Any], when: datetime) -> None:
        skew = self.policy.clock_skew
        try:
            start = cred.get("validFrom") or cred.get("issuanceDate")
            end = cred.get("validUntil") or cred.get("expirationDate")
            if start is not None and self._date(start, "validFrom") > when + skew:
                run.add(f"{prefix}.validity", 7, "failed", f"not yet valid: valid from {start}", "not_yet_valid")
                return
            if end is not None and self._date(end, "validUntil") < when - skew:
                run.add(f"{prefix}.validity", 7, "failed", f"expired: valid until {end}", "expired")
                return
        except MalformedDocument as exc:
            run.add(f"{prefix}.validity", 7, "failed", exc.message, "malformed_date")
            return
        span = f"valid {start or '(no start)'} to {end or '(no end)'}"
        run.add(f"{prefix}.validity", 7, "passed", f"{span}, checked at {run.when_text(when)}")

    def _date(self, value: Any, name: str) -> datetime:
        """``parse_datetime(value, field=name)``, once per verifier for each exact text (a
        refusal is raised afresh each time, naming the field; only what parsed is kept)."""
        if type(value) is str:
            parsed = self._parsed_dates.get(value)
            if parsed is not None:
                return parsed
        parsed = parse_datetime(value, field=name)
        if type(value) is str:
            if len(self._parsed_dates) >= DATE_CACHE_SIZE:
                self._parsed_dates.clear()
            self._parsed_dates[value] = parsed
        return parsed

    def _status_check(self, run: _Run, prefix: str, cred: Mapping[str, Any], issuer: str | None,
                      when: datetime) -> None:
        entries = _as_list(cred.get("credentialStatus"))
        if "@context" not in cred and "status" in cred:  # an SD-JWT VC's status (Token Status List)
            entries.append(cred["status"])
        if not entries:
            run.add(f"{prefix}.status", 8, "not_applicable", "the credential has no status entry")
            return
        outcomes = [self._one_status(run, entry, issuer, when) for entry in entries]
        if all(o[0] == "passed" for o in outcomes) and not run.status_at:  # the common case, in short
            run.add(f"{prefix}.status", 8, "passed", "; ".join([o[1] for o in outcomes]))
            return
        failed = [o for o in outcomes if o[0] == "failed"]
        unknown = [o for o in outcomes if o[0] == "indeterminate"]
        if failed:
            run.add(f"{prefix}.status", 8, "failed", failed[0][1], failed[0][2])
        elif unknown:
            if self.policy.unsafe_accept_unknown_status:
                run.add(f"{prefix}.status", 8, "not_applicable",
                        f"UNSAFE: accepted although {unknown[0][1]}", "unsafe_status_unknown")
            else:
                run.add(f"{prefix}.status", 8, "indeterminate", unknown[0][1], unknown[0][2])
        else:
            as_of = f" (as of now, {format_datetime(when)}, not at the future check time)" if run.status_at else ""
            run.add(f"{prefix}.status", 8, "passed", "; ".join(o[1] for o in outcomes) + as_of)

    def _one_status(self, run: _Run, entry: Any, issuer: str | None,
                    when: datetime) -> tuple[CheckStatus, str, str]:
        plain = _plain_entry_key(entry, issuer)
        settled = self._settled.get(plain) if plain is not None else None
        if plain is not None and settled is not None and run.status_lists.get(settled[0]) is settled[1]:
            # the copy that decided for this list, purpose and issuer last time, from the same
            # tuple of the verifier's own copies: ranking them and choosing among them again
            # gives the same copy (see ``_settled``); its dates and the entry are judged below
            url: Any = plain[0]
            purpose: Any = plain[1]
            chosen, which = settled[2], settled[3]
        else:
            if not (type(entry) is dict or isinstance(entry, Mapping)):
                return "failed", "credentialStatus entry is not an object", "status_malformed"
            if "type" not in entry and "status_list" in entry:
                return self._token_status(entry["status_list"], issuer, when)
            if entry.get("type") != "BitstringStatusListEntry":
                return "indeterminate", f"status type {entry.get('type')!r} is not supported", "status_unsupported"
            url = entry.get("statusListCredential")
            purpose = entry.get("statusPurpose")
            base = str(url).split("#", 1)[0]
            copies = run.status_lists.get(base, ()) if isinstance(url, str) else ()
            usable = self._ranked(copies)
            if not usable:
                carried = (" (the presentation carries a copy, but this verifier uses only its own lists: "
                           "status_from_presentation=False)" if copies else "")
                return ("indeterminate", f"{purpose} status unknown: status list {url} is not available offline"
                        f"{carried} (give it with status_lists or 'skillcred status import')", "status_unavailable")
            chosen_, skipped, problem = self._newest_verified(run, usable, str(url), issuer, when)
            if chosen_ is None:
                assert problem is not None
                return problem
            chosen = chosen_
            which = _which(chosen.described, skipped)
            held = self._chosen.get((id(usable), str(url), issuer))
            if plain is not None and held is not None and held[0] is usable and held[1] is chosen \
                    and isinstance(copies, tuple):
                # only what ``_newest_verified`` keeps for every credential (the verifier's own
                # copies, no proof depending on the time) is settled
                self._settled[plain] = (base, copies, chosen, which)
                if len(self._settled) > STATUS_CACHE_SIZE:
                    self._settled.popitem(last=False)
        lst = chosen.document
        try:
            # the list's own dates, judged once per run for each chosen copy
            date_key = (id(lst), str(url), which)
            dated = run.list_dates.get(date_key)
            if dated is None or dated[0] is not lst:
                dated = (lst, self._dates_at(chosen, str(url), which, when))
                run.list_dates[date_key] = dated
            if dated[1] is not None:
                return dated[1]
            if plain is not None:
                read = self._plain_reads.get((plain[0], plain[1]))
                if read is not None and read[0] is lst:
                    index = int(entry["statusListIndex"])
                    if index < read[1].size:  # past the end: read in full for the error
                        return _status_verdict(plain[1], plain[0], index, read[1].get(index) != 0, which)
            result = read_status(entry, lst, decode=self._decode_list)
            if plain is not None and not chosen.from_presentation:  # a holder's copy is never kept
                self._remember_plain(plain[0], plain[1], lst)
        except (MalformedDocument, UnsupportedFeature) as exc:
            return "indeterminate", f"status list {url}: {exc.message}", exc.code
        return _status_verdict(str(purpose), str(url), result.index, result.is_set, which)

    def _remember_plain(self, url: str, purpose: str, lst: Mapping[str, Any]) -> None:
        """After ``read_status`` accepted a plain entry of ``url`` and ``purpose`` on ``lst``:
        remember the copy and its one-bit expansion (what that read decoded) for the next."""
        subject = lst.get("credentialSubject")
        if isinstance(subject, list) and len(subject) == 1:
            subject = subject[0]
        if not isinstance(subject, Mapping) or not isinstance(subject.get("encodedList"), str):
            return
        self._plain_reads[(url, purpose)] = (lst, self._decode_list(subject["encodedList"]))
        if len(self._plain_reads) > STATUS_CACHE_SIZE:
            self._plain_reads.popitem(last=False)

    def _ranked(self, copies: Sequence[_StatusCopy]) -> tuple[_StatusCopy, ...]:
        """The copies the policy lets decide (``status_from_presentation``), newest first
        (:func:`_newest_first`), once per verifier for each tuple of copies it is given."""
        key = id(copies)
        held = self._ranked_cache.get(key)
        if held is not None and held[0] is copies:
            return held[1]
        usable = [c for c in copies if self.policy.status_from_presentation or not c.from_presentation]
        ranked = tuple(_newest_first(usable))
        # only the verifier's own copies are remembered (a presentation's never outlive its run);
        # tuples, so nothing changes them
        if isinstance(copies, tuple) and not any(c.from_presentation for c in copies):
            self._ranked_cache[key] = (copies, ranked)
            if len(self._ranked_cache) > STATUS_CACHE_SIZE:
                self._ranked_cache.popitem(last=False)
        return ranked

    def _dates_at(self, copy: _StatusCopy, url: str, which: str,
                  when: datetime) -> tuple[CheckStatus, str, str] | None:
        """:meth:`_list_dates` of a copy; for the verifier's own copies, once the copy was seen
        to decide, a comparison of times (an employer checking hundreds of credentials against
        the same lists read each list's dates again for every one).

        Exact, not a guess: :meth:`_list_dates` says a copy may decide at ``t`` when it is not
        stale at ``t`` (``t`` up to :func:`stale_after`, from then on stale for good), is not
        before its ``validFrom`` (less the skew; once past, past for good) and is not older
        than ``status_not_before`` (the policy's, fixed at construction: the same at every
        ``t``). So once it may decide at ``t0``, it may decide at exactly those ``t >= t0``
        that are not after :func:`stale_after`; an earlier time is judged in full. A holder's
        copy is always judged in full: it belongs to its run and is never kept."""
        if copy.from_presentation:
            return self._list_dates(copy.document, url, which, when)
        at = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
        key = (id(copy.document), url, which)
        span = self._date_spans.get(key)
        if span is not None and span[0] is copy.document and span[1] <= at and (span[2] is None or at <= span[2]):
            return None
        outcome = self._list_dates(copy.document, url, which, when)
        if outcome is None:
            # the dates just read without an error: stale_after reads the same ones
            start = at if span is None or span[0] is not copy.document else min(span[1], at)
            self._date_spans[key] = (copy.document, start, stale_after(copy.document))
            if len(self._date_spans) > STATUS_CACHE_SIZE:
                self._date_spans.popitem(last=False)
        return outcome

    def _list_dates(self, lst: Mapping[str, Any], url: str, which: str,
                    when: datetime) -> tuple[CheckStatus, str, str] | None:
        """Whether a status list copy may decide at ``when`` (its staleness, validFrom and the
        policy's status_not_before): None when it may, else the outcome. Raises
        MalformedDocument for an unreadable date (the caller reports it)."""
        if is_stale(lst, at=when):
            return ("indeterminate", f"status list {url} ({which}) is stale (past its validUntil/ttl); "
                    "get a fresh copy", "status_list_stale")
        start = lst.get("validFrom")
        if start and parse_datetime(start) > when + self.policy.clock_skew:
            return "indeterminate", f"status list {url} ({which}) is not valid yet", "status_list_not_yet_valid"
        not_before = self.policy.status_not_before
        if not_before is not None:
            floor = not_before if not_before.tzinfo is not None else not_before.replace(tzinfo=UTC)
            if not start or parse_datetime(start, field="validFrom") < floor:
                return ("indeterminate", f"status list {url} ({which}) is older than the required "
                        f"{format_datetime(floor)} (status_not_before); get a newer "
                        "copy ('skillcred status import')", "status_list_too_old")
        return None

    def _token_status(self, ref: Any, issuer: str | None, when: datetime) -> tuple[CheckStatus, str, str]:
        """An IETF Token Status List reference ``{idx, uri}``, read offline with the Bitstring
        rules: only the verifier's own copies, the newest (``iat``) that verifies and is the
        credential issuer's decides; stale (``exp``/``ttl``), not yet valid and older than
        ``status_not_before`` are indeterminate; 1 revoked and 2 suspended fail."""
        from skillcred.token_status import STATUS_INVALID, STATUS_SUSPENDED, verify_status_list_token

        if not isinstance(ref, Mapping) or not isinstance(ref.get("uri"), str) or isinstance(ref.get("idx"), bool) \
                or not isinstance(ref.get("idx"), int) or ref["idx"] < 0:
            return "failed", "status.status_list is not {idx: integer >= 0, uri: string}", "status_malformed"
        uri, idx = str(ref["uri"]), int(ref["idx"])
        copies = sorted(self._tokens.get(uri, ()), key=lambda c: c.iat if c.iat is not None else -1, reverse=True)
        if not copies:
            return ("indeterminate", f"status unknown: token status list {uri} is not available offline (give it "
                    "with token_status_lists or 'skillcred status import')", "status_unavailable")
        problem: tuple[CheckStatus, str, str] | None = None
        chosen = None
        for c in copies:
            key = (c.token, str(issuer))
            if key not in self._token_checks:
                try:
                    verify_status_list_token(c.token, resolver=self._resolver, issuer=str(issuer))
                    outcome: tuple[CheckStatus, str, str] | None = None
                except SkillcredError as exc:
                    code = "status_list_wrong_issuer" if getattr(exc, "reason", "") in (
                        "iss_mismatch", "issuer_key_mismatch") else "status_list_invalid"
                    outcome = ("indeterminate", f"token status list {uri} (iat {c.iat}) does not verify as the "
                               f"credential issuer's: {exc.message}", code)
                if len(self._token_checks) > STATUS_CACHE_SIZE:
                    self._token_checks.clear()
                self._token_checks[key] = outcome
            outcome = self._token_checks[key]
            if outcome is None:
                chosen = c
                break
            problem = problem or outcome
        if chosen is None:
            assert problem is not None
            return problem
        now = when.timestamp()
        skew = self.policy.clock_skew.total_seconds()
        which = f"token status list {uri}, iat {chosen.iat}"
        if chosen.exp is not None and chosen.exp < now - skew:
            return "indeterminate", f"{which} is stale (past its exp); get a fresh copy", "status_list_stale"
        if chosen.ttl is not None and chosen.iat is not None and chosen.iat + chosen.ttl < now:
            return "indeterminate", f"{which} is stale (past its ttl); get a fresh copy", "status_list_stale"
        if chosen.iat is not None and chosen.iat > now + skew:
            return "indeterminate", f"{which} is not valid yet", "status_list_not_yet_valid"
        floor = self.policy.status_not_before
        if floor is not None:
            floor = floor if floor.tzinfo is not None else floor.replace(tzinfo=UTC)
            if chosen.iat is None or chosen.iat < floor.timestamp():
                return ("indeterminate", f"{which} is older than the required {format_datetime(floor)} "
                        "(status_not_before); get a newer copy", "status_list_too_old")
        try:
            value = chosen.status_list().get(idx)
        except SkillcredError as exc:
            return "indeterminate", f"{which}: {exc.message}", str(getattr(exc, "reason", exc.code))
        if value == STATUS_INVALID:
            return "failed", f"revoked ({which}, index {idx})", "revoked"
        if value == STATUS_SUSPENDED:
            return "failed", f"suspended ({which}, index {idx})", "suspended"
        if value != 0:
            return "indeterminate", f"status {value:#x} is set ({which}, index {idx})", "status_set"
        return "passed", f"valid ({which})", "ok"

    def _newest_verified(self, run: _Run, copies: Sequence[_StatusCopy], url: str, issuer: str | None,
                         when: datetime) -> tuple[_StatusCopy | None, int, tuple[CheckStatus, str, str] | None]:
        """The newest copy (``copies`` come newest first, see :meth:`_ranked`) whose proof verifies
        and whose issuer is the credential's, and how many newer copies were skipped; when none
        verifies, None and the outcome for the newest copy.

        Newest, because a holder may staple a copy issued before the revocation that is still
        within its validity period; verified first, because a forged "newer" copy must neither
        be used nor hide a genuine older one."""
        key = (id(copies), url, issuer)
        held = self._chosen.get(key)
        if held is not None and held[0] is copies:
            return held[1], held[2], None
        problem: tuple[CheckStatus, str, str] | None = None
        skipped = 0
        for copy in copies:  # already newest first (``_ranked``)
            doc = copy.document
            proof = run.status_proofs.get(id(doc))
            if proof is None:
                proof = self._status_proof(copy, when)
                run.status_proofs[id(doc)] = proof  # ``doc`` stays referenced by run.status_lists
            if not proof.verified:
                bad = next(c for c in proof.checks if c.status != "passed")
                outcome: tuple[CheckStatus, str, str] = (
                    "indeterminate", f"status list {url} ({copy.described}) does not verify: {bad.reason}",
                    "status_list_invalid")
            elif _issuer_id(doc) != issuer or issuer not in proof.controllers:
                outcome = ("indeterminate", f"status list {url} ({copy.described}) is not issued by the "
                           "credential's issuer", "status_list_wrong_issuer")
            else:
                # the same answer for the next credential: every proof judged here depends only
                # on its copy (private, never changed), this verifier's resolver and policy
                # (fixed at construction) and, for a proof with ``expires``, the time
                if isinstance(copies, tuple) and not any(c.from_presentation or c.timed for c in copies):
                    self._chosen[key] = (copies, copy, skipped)
                    if len(self._chosen) > STATUS_CACHE_SIZE:
                        self._chosen.popitem(last=False)
                return copy, skipped, None
            problem = problem or outcome
            skipped += 1
        if problem is not None and skipped > 1:
            status, reason, code = problem
            others = f"{skipped - 1} other cop{'y' if skipped == 2 else 'ies'}"
            problem = (status, f"{reason}; {others} did not verify either", code)
        return None, skipped, problem

    def _status_proof(self, copy: _StatusCopy, when: datetime) -> ProofReport:
        """The proof check of a status list copy, done once per verifier for each exact content.

        The outcome depends only on the content, this verifier's resolver and policy (fixed at
        construction) and, for a proof with ``expires``, the time: then the time is in the key."""
        doc = copy.document
        proofs = doc.get("proof")
        timed = any(isinstance(p, Mapping) and "expires" in p for p in _as_list(proofs))
        digest = copy.digest or _content_digest(doc)
        if digest is None:
            return check_proofs(doc, resolver=self._resolver, expected_purpose="assertionMethod", at=when,
                                allowed_suites=self.policy.allowed_suites, loader=self._loader)
        key = (digest, format_datetime(when) if timed else None)
        cached = self._status_proof_cache.get(key)
        if cached is not None:
            self._status_proof_cache.move_to_end(key)
            return cached
        report = check_proofs(doc, resolver=self._resolver, expected_purpose="assertionMethod", at=when,
                              allowed_suites=self.policy.allowed_suites, loader=self._loader)
        self._status_proof_cache[key] = report
        if len(self._status_proof_cache) > STATUS_CACHE_SIZE:
            self._status_proof_cache.popitem(last=False)
        return report

    def _decode_list(self, encoded_list: Any, *, status_size: int = 1, min_entries: int = MIN_LIST_ENTRIES,
                     max_bytes: int = MAX_LIST_BYTES) -> BitstringStatusList:
        """:meth:`BitstringStatusList.decode`, once per verifier for each list (read-only use:
        the verifier only reads bits of the lists it expands)."""
        if not isinstance(encoded_list, str):
            return BitstringStatusList.decode(encoded_list, status_size=status_size, min_entries=min_entries,
                                              max_bytes=max_bytes)
        key = (encoded_list, status_size, min_entries, max_bytes)
        bits = self._decoded_cache.get(key)
        if bits is None:
            bits = BitstringStatusList.decode(encoded_list, status_size=status_size, min_entries=min_entries,
                                              max_bytes=max_bytes)
            self._decoded_cache[key] = bits
            if len(self._decoded_cache) > STATUS_CACHE_SIZE:
                self._decoded_cache.popitem(last=False)
        else:
            self._decoded_cache.move_to_end(key)
        return bits

    def _scope(self, run: _Run, cred: Mapping[str, Any], issuer: str | None
               ) -> tuple[TrustedIssuer | None, list[Claim], list[tuple[Claim, str]], list[tuple[str, str]]]:
        """The one place trust scope is judged, for the trust check and for what gap analysis
        counts: every claim of every subject and achievement, inside or outside the scope of
        the issuer's trust-list entry (without a trust list, everything is inside)."""
        key = id(cred)  # the run keeps ``cred`` alive (its private copy), so the id is not reused
        held = run.scopes.get(key)
        if held is not None and held[0] is cred and held[1] == issuer:
            return held[2]  # type: ignore[no-any-return]
        found = credential_claims(cred)
        entry = self.policy.trust.get(issuer or "") if self.policy.trust is not None else None
        if entry is None:
            out: tuple[TrustedIssuer | None, list[Claim], list[tuple[Claim, str]], list[tuple[str, str]]] = (
                None, list(found.claims), [], list(found.ignored))
        else:
            inside, outside = entry.judge(found.claims)
            out = entry, inside, outside, list(found.ignored)
        run.scopes[key] = (cred, issuer, out)
        return (out[0], list(out[1]), list(out[2]), list(out[3]))

    def _counted_claims(self, run: _Run, cred: Mapping[str, Any], issuer: str | None,
                        holder: str | None) -> tuple[list[Claim], list[tuple[str, str]]]:
        """The claims of a verified credential that may be counted, and the others with why."""
        _entry, inside, outside, ignored = self._scope(run, cred, issuer)
        not_counted = [(c.describe(), f"outside the trust scope: {why}") for c, why in outside] + ignored
        counted: list[Claim] = []
        for c in inside:
            if holder is not None and c.subject != holder:
                not_counted.append((c.describe(), f"about {c.subject or 'an unnamed subject'}, "
                                    f"not the presenter {holder}"))
            else:
                counted.append(c)
        return counted, not_counted

    def _trust(self, run: _Run, prefix: str, cred: Mapping[str, Any], issuer: str | None) -> None:
        trust = self.policy.trust
        if trust is None:
            run.add(f"{prefix}.trust", 9, "not_applicable",
                    "NOT PERFORMED: no trust list given, so the issuer is not checked", "trust_not_checked")
            return
        held = trust.get(issuer or "")
        if held is None:
            run.add(f"{prefix}.trust", 9, "failed", f"issuer {issuer} is not in the trust list", "issuer_untrusted")
            return
        if held.unrestricted:
            # an unrestricted entry permits every claim (TrustedIssuer.permits): nothing to judge
            # claim by claim here, so the claims are not built for this check (what is counted
            # of an accepted credential is still worked out from them, see _counted_claims)
            run.add(f"{prefix}.trust", 9, "passed", f"{held.name} is trusted for every kind of credential")
            return
        entry, inside, outside, _ignored = self._scope(run, cred, issuer)
        if entry is None:  # the same lookup as above (the trust list is not changed meanwhile)
            run.add(f"{prefix}.trust", 9, "failed", f"issuer {issuer} is not in the trust list", "issuer_untrusted")
            return
        countable = [c for c in inside if c.ref is not None]
        if outside and not countable:
            run.add(f"{prefix}.trust", 9, "failed", outside[0][1], "issuer_not_trusted_for_kind")
        elif outside:
            shown = "; ".join(f"{c.describe()}" for c, _ in outside[:3]) + ("; ..." if len(outside) > 3 else "")
            run.add(f"{prefix}.trust", 9, "passed",
                    f"{entry.name} is trusted for {len(countable)} of {len(countable) + len(outside)} claims; "
                    f"NOT counted (outside its trust scope): {shown}")
        else:
            run.add(f"{prefix}.trust", 9, "passed",
                    f"{entry.name} is trusted for every kind of credential" if entry.unrestricted
                    else f"{entry.name} is trusted for everything this credential claims")

    def _schema(self, run: _Run, prefix: str, cred: Mapping[str, Any]) -> None:
        refs = _as_list(cred.get("credentialSchema"))
        if not refs:
            run.add(f"{prefix}.schema", 10, "not_applicable", "the credential names no schema")
            return
        known = _known_schemas()
        for ref in refs:
            mapping = type(ref) is dict or isinstance(ref, Mapping)
            sid = ref.get("id") if mapping else None
            if not mapping or ref.get("type") != "JsonSchema" or sid not in known:
                run.add(f"{prefix}.schema", 10, "indeterminate",
                        f"schema {sid or ref!r} ({ref.get('type') if isinstance(ref, Mapping) else '?'}) "
                        "is not available offline", "schema_unavailable")
                return
            try:
                validate(cred, str(sid))
            except SkillcredError as exc:
                run.add(f"{prefix}.schema", 10, "failed", exc.message, exc.code)
                return
        names = ", ".join(str(r.get("id")).rsplit("/", 1)[-1] for r in refs)
        run.add(f"{prefix}.schema", 10, "passed", f"valid against {names}")


@cache
def _known_schemas() -> frozenset[str]:
    """The bundled schema ids (fixed for the process: they are read once, see ``schemas``)."""
    return frozenset(known_schema_ids())


def _private_copy(value: Any, limit: int, contexts: list[str]) -> Any:
    """A deep copy of a parsed JSON value, refusing nesting deeper than ``limit`` (what
    ``check_depth`` refuses) and collecting every context URL (what ``_collect_context_urls``
    collects), in one walk instead of three. Never more than ``limit`` frames deep."""
    if isinstance(value, _CONTAINERS) and value and limit <= 1:  # its contents would be a level too deep
        raise MalformedDocument(f"document nests deeper than {MAX_JSON_DEPTH} levels")
    return _copy_container(value, limit, contexts) if isinstance(value, _CONTAINERS) else value


_CONTAINERS = (dict, list)


def _copy_container(value: dict[Any, Any] | list[Any], limit: int, contexts: list[str]) -> Any:
    """``_private_copy`` of a dict or list within its depth bound: a shallow copy made in C, then
    only the nested objects and arrays replaced by their copies (most values of a credential
    are strings; walking them one by one in Python was a tenth of a full verification).

    A value's exact type is compared first (a string, the most common, is passed over at once)
    and ``isinstance`` asked only of the rest, so a subclass of dict or list is still copied
    and bounded."""
    if type(value) is dict or isinstance(value, dict):
        out: Any = value.copy() if type(value) is dict else dict(value)
        if "@context" in out:
            for c in _contexts(out["@context"]):
                if isinstance(c, str):
                    contexts.append(c)
        items: Iterable[tuple[Any, Any]] = out.items()
    else:
        out = list(value)
        items = enumerate(out)
    for k, v in items:
        if type(v) is str:
            continue
        if isinstance(v, _CONTAINERS):
            if v and limit <= 2:  # its contents would be a level too deep
                raise MalformedDocument(f"document nests deeper than {MAX_JSON_DEPTH} levels")
            out[k] = _copy_container(v, limit - 1, contexts)
    return out


def _collect_context_urls(node: Any, out: list[str]) -> None:
    # recursion is bounded: documents passed check_depth (64 levels) before they get here
    if isinstance(node, Mapping):
        for k, v in node.items():
            if k == "@context":
                for c in _contexts(v):
                    if isinstance(c, str):
                        out.append(c)
                    elif isinstance(c, Mapping):
                        _collect_context_urls(c, out)
            elif isinstance(v, dict | list):
                _collect_context_urls(v, out)
    elif isinstance(node, list):
        for v in node:
            if isinstance(v, dict | list):
                _collect_context_urls(v, out)


def _proofs_need_rdf(doc: Mapping[str, Any]) -> bool:
    """Whether a proof of ``doc`` canonicalizes it to RDF (an RDFC suite, or any proof not
    known to be JCS). Then the terms check converts it to RDF, and the proof check reuses
    those rows; otherwise (JCS proofs only, or no proof: JOSE, SD-JWT claims) nothing needs
    the RDF and the terms check decides on the expansion alone (the same decisions)."""
    proof = doc.get("proof")
    for p in proof if isinstance(proof, list) else [] if proof is None else [proof]:
        suite = p.get("cryptosuite") if isinstance(p, Mapping) else None
        if not (isinstance(suite, str) and p.get("type") == "DataIntegrityProof" and suite in CRYPTOSUITES
                and CRYPTOSUITES[suite].canonicalization == "jcs"):
            return True
    return False
