"""The employer's trust list: which issuers it trusts, and for what.

A valid signature only says *who* signed. Whether that signer may attest a welding
certificate is a decision of the employer, recorded here: each trusted issuer has a DID, a
display name, for did:web its DID document (stored locally so verification stays offline),
and optionally what it may attest — OB achievement types (``Diploma``, ``Certification``, ...)
and/or skill frameworks (a ``targetFramework`` name or a ``targetUrl`` prefix). An issuer
listed without restrictions is trusted for every kind.

File format: ``schemas/trust-list.schema.json``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillcred._internal.fileio import atomic_write, dump_json, load_json_object, locked
from skillcred._internal.timeutil import format_datetime, utcnow
from skillcred.claims import Claim, credential_claims
from skillcred.did import DidResolver, key_did_document
from skillcred.errors import InvalidArgument, MalformedDocument, ResolutionError
from skillcred.schemas import SCHEMA_BASE, validate

__all__ = ["ACHIEVEMENT_TYPES", "TRUST_LIST_SCHEMA", "TrustList", "TrustedIssuer", "default_trust_path",
           "parse_may_attest"]

TRUST_LIST_SCHEMA = SCHEMA_BASE + "trust-list.json"
FRAMEWORK_PREFIX = "framework:"
#: Open Badges 3.0 AchievementType values (the enumeration of the achievement-definition
#: schema); ``--may-attest`` accepts these, ``ext:NAME`` (OB's extension form) or ``framework:...``
ACHIEVEMENT_TYPES: tuple[str, ...] = (
    "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree", "Award",
    "Badge", "BachelorDegree", "Certificate", "CertificateOfCompletion", "Certification", "CommunityService",
    "Competency", "Course", "CoCurricular", "Degree", "Diploma", "DoctoralDegree", "Fieldwork",
    "GeneralEducationDevelopment", "JourneymanCertificate", "LearningProgram", "License", "Membership",
    "ProfessionalDoctorate", "QualityAssuranceCredential", "MasterCertificate", "MasterDegree",
    "MicroCredential", "ResearchDoctorate", "SecondarySchoolDiploma",
)
#: URI namespaces whose framework is known whatever an alignment calls it
KNOWN_NAMESPACES: dict[str, str] = {"http://data.europa.eu/esco/": "ESCO"}


def _namespace_of(uri: str | None) -> str | None:
    if uri is None:
        return None
    return next((name for prefix, name in KNOWN_NAMESPACES.items() if uri.startswith(prefix)), None)


def _in_framework(trusted: str, label: str | None, uri: str | None) -> bool:
    """Does a trust entry's framework (a URL prefix or a name) cover a claim's URI?"""
    if "://" in trusted:
        return uri is not None and uri.startswith(trusted)
    known = [p for p, n in KNOWN_NAMESPACES.items() if n == trusted]
    if known:  # a well-known framework's name stands for its namespace, nothing else
        return uri is not None and any(uri.startswith(p) for p in known)
    owner = _namespace_of(uri)
    return label == trusted and owner is None


def parse_may_attest(values: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``--may-attest`` values -> (achievement types, frameworks), each one checked.

    An achievement type must be one of Open Badges 3.0's (:data:`ACHIEVEMENT_TYPES`, exact
    case) or an OB extension ``ext:NAME``; a framework is ``framework:`` followed by a
    non-empty name or URL prefix. Anything else is refused, with the nearest known value as a
    hint: a typo must not silently make a restriction that matches nothing (or, worse, be
    read as no restriction at all)."""
    import difflib

    types: list[str] = []
    frameworks: list[str] = []
    for raw in values:
        value = raw.strip()
        if value.startswith(FRAMEWORK_PREFIX):
            fw = value[len(FRAMEWORK_PREFIX):].strip()
            if not fw:
                raise InvalidArgument(f"may_attest {raw!r}: 'framework:' needs a framework name or URL prefix "
                                      "(e.g. framework:ESCO or framework:https://skills.example/)", field="may_attest")
            if fw not in frameworks:
                frameworks.append(fw)
            continue
        if value in ACHIEVEMENT_TYPES or (value.startswith("ext:") and len(value) > 4):
            if value not in types:
                types.append(value)
            continue
        folded = {t.casefold(): t for t in ACHIEVEMENT_TYPES}
        close = ([folded[value.casefold()]] if value.casefold() in folded else
                 [folded[c] for c in difflib.get_close_matches(value.casefold(), list(folded), n=1, cutoff=0.6)])
        if not close and value.casefold().startswith(("framework", "frame")):
            close = [f"framework:{value.split(':', 1)[-1].strip() or 'NAME'}"]
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InvalidArgument(f"may_attest {raw!r} is not an Open Badges achievement type nor "
                              f"'framework:NAME_OR_URL'{hint} (known types: Diploma, Certification, Competency, "
                              "License, ...; see docs/verifying.md)", field="may_attest")
    return tuple(types), tuple(frameworks)


def _widens(held: TrustedIssuer, types: Sequence[str], frameworks: Sequence[str]) -> bool:
    """Would an entry restricted to ``types`` / ``frameworks`` permit more than ``held``?"""
    # the two restrictions are combined with "and": each one held is widened by dropping it,
    # or by adding values to it; one not held cannot be widened (adding it narrows)
    types_wider = bool(held.achievement_types) and (not types or bool(set(types) - set(held.achievement_types)))
    frameworks_wider = bool(held.frameworks) and (not frameworks or bool(set(frameworks) - set(held.frameworks)))
    return types_wider or frameworks_wider


def default_trust_path() -> Path | None:
    """``$SKILLCRED_TRUST``, else ``$XDG_CONFIG_HOME/skillcred/trust.json`` if it exists."""
    env = os.environ.get("SKILLCRED_TRUST")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    p = Path(base) / "skillcred" / "trust.json"
    return p if p.exists() else None


@dataclass(frozen=True)
class TrustedIssuer:
    id: str
    name: str
    achievement_types: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    did_document: Mapping[str, Any] | None = None
    added: str | None = None

    @property
    def unrestricted(self) -> bool:
        return not self.achievement_types and not self.frameworks

    def permits(self, claim: Claim) -> tuple[bool, str]:
        """Is this issuer trusted for ``claim``? Returns (answer, reason).

        The achievement-type restriction applies to every claim (by the type of the achievement
        it comes from). A framework restriction applies to what gap analysis counts -- the URI:
        a skill's ``targetUrl``, a qualification's alignment, and the achievement id itself
        (an issuer trusted for skills of one framework must not meet a requirement on another
        framework's URI by choosing that URI as its achievement's id). A framework given by
        *name* matches the issuer's own ``targetFramework`` label, which the issuer chooses; it
        is therefore never accepted for a URI inside a namespace known to belong to another
        framework (ESCO's), and a name of such a framework covers exactly its namespace.
        """
        if self.unrestricted:
            return True, f"{self.name} is trusted for every kind of credential"
        if self.achievement_types and claim.achievement_type not in self.achievement_types:
            return False, (f"{self.name} is trusted for {', '.join(self.achievement_types)}, "
                           f"not for {claim.achievement_type or 'an achievement without a type'}")
        if self.frameworks:
            if claim.kind == "achievement" and claim.ref is None:
                # nothing countable by itself; its alignments are judged one by one
                return True, f"{self.name} is trusted for this kind of achievement"
            uri = claim.url if claim.kind != "achievement" else claim.ref
            if not any(_in_framework(f, claim.framework, uri) for f in self.frameworks):
                return False, (f"{self.name} is trusted only for {', '.join(self.frameworks)}; "
                               f"not for {claim.describe()}" + (f" <{uri}>" if uri else ""))
        return True, f"{self.name} is trusted for this kind of credential"

    def judge(self, claims: Sequence[Claim]) -> tuple[list[Claim], list[tuple[Claim, str]]]:
        """Split ``claims`` into those this issuer may attest and those it may not (with why)."""
        inside: list[Claim] = []
        outside: list[tuple[Claim, str]] = []
        for c in claims:
            ok, why = self.permits(c)
            if ok:
                inside.append(c)
            else:
                outside.append((c, why))
        return inside, outside

    def may_attest(self, achievement: Mapping[str, Any]) -> tuple[bool, str]:
        """Is this issuer trusted for everything ``achievement`` claims? Returns (answer, reason).

        Kept for callers that judge one achievement; the verifier judges every claim of every
        subject with :meth:`judge`."""
        claims = credential_claims({"credentialSubject": {"achievement": achievement}}).claims
        _inside, outside = self.judge(claims)
        if outside:
            return False, outside[0][1]
        return True, (f"{self.name} is trusted for every kind of credential" if self.unrestricted
                      else f"{self.name} is trusted for this kind of credential")

    def describe_scope(self) -> str:
        """What this issuer may attest, in words: ``everything`` or its restrictions."""
        if self.unrestricted:
            return "everything"
        return ", ".join([*self.achievement_types, *("framework " + f for f in self.frameworks)])

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.achievement_types or self.frameworks:
            out["mayAttest"] = {"achievementTypes": list(self.achievement_types),
                                "frameworks": list(self.frameworks)}
        if self.did_document is not None:
            out["didDocument"] = dict(self.did_document)
        if self.added:
            out["added"] = self.added
        return out


@dataclass
class TrustList:
    issuers: dict[str, TrustedIssuer] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrustList:
        p = Path(path)
        data = load_json_object(p)
        validate(data, TRUST_LIST_SCHEMA, source=str(p))
        out = cls(path=p)
        for entry in data.get("issuers", []):
            may = entry.get("mayAttest") or {}
            out.issuers[entry["id"]] = TrustedIssuer(
                id=entry["id"], name=entry["name"],
                achievement_types=tuple(may.get("achievementTypes", [])),
                frameworks=tuple(may.get("frameworks", [])),
                did_document=entry.get("didDocument"), added=entry.get("added"),
            )
        return out

    @classmethod
    def load_or_new(cls, path: str | os.PathLike[str]) -> TrustList:
        p = Path(path)
        return cls.load(p) if p.exists() else cls(path=p)

    def to_json(self) -> dict[str, Any]:
        return {"type": "SkillcredTrustList", "version": 1,
                "issuers": [i.to_json() for i in sorted(self.issuers.values(), key=lambda i: i.id)]}

    def save(self) -> None:
        if self.path is None:
            raise InvalidArgument("this trust list has no file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with locked(self.path.with_name(self.path.name + ".lock")):
            atomic_write(self.path, dump_json(self.to_json()))

    def add(self, did: str, *, name: str, did_document: Mapping[str, Any] | None = None,
            may_attest: Sequence[str] = (), replace: bool = False) -> TrustedIssuer:
        """Trust ``did``. ``may_attest`` items are achievement types or ``framework:NAME_OR_URL``
        (see :func:`parse_may_attest`; a typo is refused with a "did you mean").

        An issuer already in the list keeps its entry: adding it again with anything different
        (a name, a document, what it may attest -- dropping every restriction would widen
        "Certification only" to "everything") is refused unless ``replace``. Adding exactly
        the same entry again changes nothing."""
        types, frameworks = parse_may_attest(may_attest)
        if not did.startswith("did:"):
            raise InvalidArgument(f"an issuer is identified by its DID, not {did!r}")
        if did.startswith("did:key:"):
            try:
                key_did_document(did)
            except ResolutionError as exc:
                raise InvalidArgument(exc.message) from exc
            if did_document is not None:
                raise InvalidArgument("a did:key needs no DID document (it is derived from the key)")
        elif did.startswith("did:web:"):
            if did_document is None:
                raise InvalidArgument("a did:web issuer needs its DID document (did_document), "
                                      "so that verification works offline", field="did_document")
        else:
            raise InvalidArgument(f"DID method of {did} is not supported (did:key, did:web)")
        if did_document is not None:
            if did_document.get("id") != did:
                raise MalformedDocument(f"the DID document is for {did_document.get('id')!r}, not {did}")
            DidResolver([did_document])  # shape check
        held = self.issuers.get(did)
        if held is not None and not replace:
            same = (held.name == name and set(held.achievement_types) == set(types)
                    and set(held.frameworks) == set(frameworks)
                    and (held.did_document is None) == (did_document is None)
                    and (did_document is None or dict(held.did_document or {}) == dict(did_document)))
            if same:
                return held
            wider = " and would widen what it may attest" if _widens(held, types, frameworks) else ""
            raise InvalidArgument(
                f"{did} is already trusted (as {held.name!r} for {held.describe_scope()}); this would replace "
                f"the entry{wider}: pass replace=True to do so, or 'trust remove' it first", field="replace")
        entry = TrustedIssuer(id=did, name=name, achievement_types=types, frameworks=frameworks,
                              did_document=did_document, added=format_datetime(utcnow()))
        self.issuers[did] = entry
        return entry

    def remove(self, did: str) -> TrustedIssuer:
        try:
            return self.issuers.pop(did)
        except KeyError:
            raise InvalidArgument(f"{did} is not in the trust list") from None

    def get(self, did: str) -> TrustedIssuer | None:
        return self.issuers.get(did)

    def authoritative_documents(self) -> dict[str, Mapping[str, Any] | None]:
        """Each trusted DID with the DID document its entry holds (``None`` for a did:key, which
        is derived, or an entry stored without one). A verifier pins these: no document from
        elsewhere is used for these DIDs."""
        return {i.id: (None if i.id.startswith("did:key:") else i.did_document) for i in self.issuers.values()}

    def resolver(self) -> DidResolver:
        """A resolver that knows every stored did:web document (did:key needs none)."""
        return DidResolver(authoritative=self.authoritative_documents())
