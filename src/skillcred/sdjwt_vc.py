"""The EU wallet credential profile: IETF SD-JWT VC (``dc+sd-jwt``, draft-ietf-oauth-sd-jwt-vc).

EUDI / NL wallets take a flat JSON object of claims, not a JSON-LD credential: the NL wallet
profile forbids nested objects and arrays in the claims a wallet shows. So an Open Badges 3.0
credential is *mapped* to flat claims (docs/issuing.md, "SD-JWT VC"):

* always visible -- ``iss`` (issuer DID), ``sub`` (holder DID), ``vct``, ``vct#integrity``,
  ``iat``, ``nbf`` (validFrom), ``exp`` (validUntil), ``cnf`` (holder key), ``status``
  (Token Status List), ``jti`` (credential id), ``issuer_name``, ``issuer_url``,
  ``achievement_id``, ``achievement_name``, ``achievement_type``, ``achievement_description``,
  ``achievement_criteria``, ``awarded_date``, and non-skill alignments (qualifications, NLQF /
  EQF levels) as ``alignment_N_url|name|framework|code|type``;
* selectively disclosable -- the skills (``skill_N`` = the skill URI, ``skill_N_name``,
  ``skill_N_framework``, ``skill_N_code``), and the personal details the W3C SD-JWT hides too:
  ``holder_name``, ``result_level``, ``result_level_name``, ``assessor``, ``activity_start``,
  ``activity_end``, ``evidence_name``, ``evidence_narrative``, ``evidence_description``.

What decides validity, status, issuer or holder binding is never disclosable
(:data:`skillcred.sdjwt.DECISIVE_CLAIMS`, plus ``sub``).

``vct`` is one of three types, one per credential kind (:data:`VCT_BY_KIND`); each has a
**type metadata** document (display name, claim display, embedded JSON Schema, data-URI logo)
that ships with skillcred (:func:`type_metadata`), is served by ``skillcred serve`` at
``/.well-known/vct/...`` and is what the verifier checks against, offline. A ``vct`` that is
neither bundled nor given to the verifier as trusted metadata is refused (fail closed).

The verifier reads a flat SD-JWT VC through :func:`credential_view`: the Open Badges shape its
claims map back to, so trust scopes, matching and the wallet treat it like any credential.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from skillcred._internal.timeutil import format_datetime, parse_datetime, utcnow
from skillcred.errors import InvalidArgument, TokenInvalid
from skillcred.keys import KeyPair
from skillcred.schemas import CREDENTIAL_SCHEMA_BY_KIND

__all__ = [
    "TYP",
    "VCT_BY_KIND",
    "check_type_metadata",
    "credential_view",
    "flat_claims",
    "is_sd_jwt_vc",
    "issue_sd_jwt_vc",
    "metadata_bytes",
    "metadata_integrity",
    "trusted_metadata",
    "type_metadata",
    "well_known_path",
]

TYP = "dc+sd-jwt"
VCT_BASE = "https://w3id.org/skillcred/vct/v1/"
VCT_BY_KIND = {
    "skill": VCT_BASE + "skill-credential",
    "diploma": VCT_BASE + "diploma-credential",
    "on-the-job": VCT_BASE + "on-the-job-credential",
}
_TITLES = {"skill": "Skill credential", "diploma": "Diploma", "on-the-job": "On-the-job learning attestation"}
_LOGO = ("data:image/svg+xml;base64," + base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" '
    b'fill="#1d4e89"/><path d="M18 34l9 9 19-21" stroke="#fff" stroke-width="6" fill="none"/></svg>').decode())

#: (claim, label, selectively disclosable); ``N`` stands for 1, 2, ...
_CLAIMS: tuple[tuple[str, str, bool], ...] = (
    ("jti", "Credential id", False),
    ("issuer_name", "Issued by", False),
    ("issuer_url", "Issuer website", False),
    ("achievement_id", "Achievement id", False),
    ("achievement_name", "Achievement", False),
    ("achievement_type", "Achievement type", False),
    ("achievement_description", "Description", False),
    ("achievement_criteria", "Criteria", False),
    ("awarded_date", "Awarded on", False),
    ("holder_name", "Name", True),
    ("result_level", "Level", True),
    ("result_level_name", "Level name", True),
    ("assessor", "Assessor", True),
    ("activity_start", "Period start", True),
    ("activity_end", "Period end", True),
    ("evidence_name", "Evidence", True),
    ("evidence_narrative", "Evidence narrative", True),
    ("evidence_description", "Evidence details", True),
)
_NUMBERED: tuple[tuple[str, str, bool], ...] = (
    ("skill_N", "Skill N", True),
    ("skill_N_name", "Skill N name", True),
    ("skill_N_framework", "Skill N framework", True),
    ("skill_N_code", "Skill N code", True),
    ("alignment_N_url", "Alignment N", False),
    ("alignment_N_name", "Alignment N name", False),
    ("alignment_N_framework", "Alignment N framework", False),
    ("alignment_N_code", "Alignment N code", False),
    ("alignment_N_type", "Alignment N type", False),
)
#: registered claims of an SD-JWT VC that the mapping uses (never disclosable)
_REGISTERED = ("iss", "sub", "vct", "vct#integrity", "iat", "nbf", "exp", "cnf", "status")
_LEVEL_FRAMEWORKS = frozenset({"NLQF", "EQF"})
_QUALIFICATION_TARGET = "ceterms:Credential"
_MAX_ALIGNMENTS = 200


def is_sd_jwt_vc(claims: Mapping[str, Any]) -> bool:
    """A flat SD-JWT VC (a ``vct``, no JSON-LD ``@context``): read with :func:`credential_view`."""
    return isinstance(claims, Mapping) and "vct" in claims and "@context" not in claims


# -- type metadata --------------------------------------------------------------------------------


def _schema(kind: str) -> dict[str, Any]:
    text = {"type": "string", "maxLength": 10_000}
    props: dict[str, Any] = {
        "iss": {"type": "string", "pattern": "^[a-z][a-z0-9+.-]*:"},
        "sub": {"type": "string", "pattern": "^did:"},
        "vct": {"const": VCT_BY_KIND[kind]},
        "vct#integrity": {"type": "string"},
        "iat": {"type": "integer"}, "nbf": {"type": "integer"}, "exp": {"type": "integer"},
        "cnf": {"type": "object", "required": ["jwk"]},
        "status": {"type": "object", "required": ["status_list"], "properties": {"status_list": {
            "type": "object", "required": ["idx", "uri"],
            "properties": {"idx": {"type": "integer", "minimum": 0}, "uri": {"type": "string"}}}}},
    }
    props.update({name: text for name, _label, _sd in _CLAIMS})
    patterns = {"^" + name.replace("N", "[1-9][0-9]{0,2}", 1) + "$": text for name, _label, _sd in _NUMBERED}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "required": ["iss", "vct", "iat", "achievement_id", "achievement_name"],
            "properties": props, "patternProperties": patterns, "additionalProperties": False}


@cache
def _metadata(kind: str) -> str:
    claims: list[dict[str, Any]] = []
    for name, label, sd in (*_CLAIMS, *_NUMBERED):
        claims.append({"path": [name.replace("N", "1", 1) if "_N" in name else name],
                       "display": [{"lang": "en-US", "label": label.replace(" N", " 1")}],
                       "sd": "always" if sd else "never"})
    doc = {
        "vct": VCT_BY_KIND[kind],
        "name": _TITLES[kind],
        "description": f"A skills-passport {_TITLES[kind].lower()} (Open Badges 3.0 achievement) issued with "
                       "skillcred; skills and personal details are selectively disclosable.",
        "display": [{"lang": "en-US", "name": _TITLES[kind],
                     "rendering": {"simple": {"logo": {"uri": _LOGO, "alt_text": "skillcred"},
                                              "background_color": "#1d4e89", "text_color": "#ffffff"}}}],
        "claims": claims,
        "schema": _schema(kind),
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def type_metadata(vct_or_kind: str) -> dict[str, Any]:
    """The bundled type metadata document of a skillcred ``vct`` (or credential kind)."""
    kind = next((k for k, v in VCT_BY_KIND.items() if vct_or_kind in (k, v)), None)
    if kind is None:
        raise InvalidArgument(f"{vct_or_kind!r} is not a skillcred vct or credential kind")
    loaded: dict[str, Any] = json.loads(_metadata(kind))
    return loaded


def metadata_bytes(document: Mapping[str, Any]) -> bytes:
    """The exact bytes a type metadata document is served as (what ``vct#integrity`` covers)."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


def metadata_integrity(document: Mapping[str, Any]) -> str:
    """``vct#integrity``: a W3C Subresource Integrity string (``sha256-<base64>``) of :func:`metadata_bytes`."""
    return "sha256-" + base64.b64encode(hashlib.sha256(metadata_bytes(document)).digest()).decode("ascii")


def well_known_path(vct: str) -> str:
    """Where the draft says a vct URL's metadata lives: ``https://h/p`` -> ``/.well-known/vct/p``."""
    m = re.fullmatch(r"https://[^/]+/(.+)", vct)
    if m is None:
        raise InvalidArgument(f"vct {vct!r} is not an https URL")
    return "/.well-known/vct/" + m.group(1)


def check_type_metadata(claims: Mapping[str, Any], trusted: Mapping[str, Mapping[str, Any]] | None = None
                        ) -> dict[str, Any]:
    """The type metadata that describes these (disclosed) claims, after checking them against it.

    Bundled metadata first, then ``trusted`` (vct -> document the verifier was given); nothing is
    fetched. Raises :class:`TokenInvalid` ``vct_unknown`` (no metadata: the claims cannot be
    read, fail closed), ``vct_integrity_mismatch`` (``vct#integrity`` is not the metadata held)
    or ``vct_schema_invalid`` (the claims break the embedded JSON Schema)."""
    vct = claims.get("vct")
    if not isinstance(vct, str) or not vct:
        raise TokenInvalid("vct_unknown", "the SD-JWT VC has no vct (its type)")
    if vct in VCT_BY_KIND.values():
        doc = type_metadata(vct)
    elif trusted and vct in trusted:
        doc = dict(trusted[vct])
    else:
        raise TokenInvalid("vct_unknown", f"vct {vct} has no type metadata here (not a skillcred type and not "
                           "given as trusted type metadata); metadata is never fetched, so the token is refused")
    integrity = claims.get("vct#integrity")
    if integrity is not None and integrity != metadata_integrity(doc):
        raise TokenInvalid("vct_integrity_mismatch", f"vct#integrity does not match the type metadata of {vct}")
    schema = doc.get("schema")
    if isinstance(schema, Mapping):
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            errors = sorted(Draft202012Validator(schema).iter_errors(dict(claims)), key=lambda e: list(e.path))
        except SchemaError as exc:
            raise TokenInvalid("vct_schema_invalid", f"the type metadata schema of {vct} is unusable: "
                               f"{exc.message}") from None
        if errors:
            where = "/".join(str(p) for p in errors[0].path) or "(top)"
            raise TokenInvalid("vct_schema_invalid", f"{where}: {errors[0].message[:200]} (type metadata of {vct})")
    return doc


def trusted_metadata(documents: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """vct -> document for type metadata a verifier is given; refuses what it cannot honour."""
    out: dict[str, dict[str, Any]] = {}
    for doc in documents:
        vct = doc.get("vct") if isinstance(doc, Mapping) else None
        if not isinstance(vct, str) or not vct:
            raise InvalidArgument("type metadata needs a vct")
        if vct in VCT_BY_KIND.values():
            raise InvalidArgument(f"{vct} is a skillcred type: its bundled metadata cannot be replaced")
        if "extends" in doc:
            raise InvalidArgument(f"type metadata of {vct} extends another type; give a self-contained document")
        out[vct] = dict(doc)
    return out


# -- mapping --------------------------------------------------------------------------------------


def _epoch(value: Any) -> int | None:
    return int(parse_datetime(value).timestamp()) if isinstance(value, str) else None


def _kind(credential: Mapping[str, Any]) -> str:
    refs = credential.get("credentialSchema")
    ids = {r.get("id") for r in (refs if isinstance(refs, list) else [refs]) if isinstance(r, Mapping)}
    kind = next((k for k, sid in CREDENTIAL_SCHEMA_BY_KIND.items() if sid in ids), None)
    if kind is None:
        raise InvalidArgument("the credential names no skillcred credential schema, so its SD-JWT VC type is unknown")
    return kind


def flat_claims(credential: Mapping[str, Any], *, status: Mapping[str, Any] | None = None,
                issued_at: datetime | None = None) -> tuple[dict[str, Any], list[str]]:
    """The flat SD-JWT VC claims of an (unsigned) Open Badges 3.0 credential, and the JSON
    pointers to make selectively disclosable. ``status`` is ``{"idx": n, "uri": url}``."""
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or not isinstance(subject.get("achievement"), Mapping):
        raise InvalidArgument("an SD-JWT VC maps one credentialSubject with one achievement")
    ach: Mapping[str, Any] = subject["achievement"]
    issuer = credential.get("issuer")
    iss = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    kind = _kind(credential)
    claims: dict[str, Any] = {"iss": iss, "vct": VCT_BY_KIND[kind],
                              "vct#integrity": metadata_integrity(type_metadata(kind)),
                              "iat": int((issued_at or utcnow()).timestamp())}
    if isinstance(subject.get("id"), str):
        claims["sub"] = subject["id"]
    if (nbf := _epoch(credential.get("validFrom"))) is not None:
        claims["nbf"] = nbf
    if (exp := _epoch(credential.get("validUntil"))) is not None:
        claims["exp"] = exp
    if status is not None:
        claims["status"] = {"status_list": {"idx": int(status["idx"]), "uri": str(status["uri"])}}

    def put(name: str, value: Any) -> None:
        if isinstance(value, str) and value:
            claims[name] = value

    put("jti", credential.get("id"))
    if isinstance(issuer, Mapping):
        put("issuer_name", issuer.get("name"))
        put("issuer_url", issuer.get("url"))
    put("achievement_id", ach.get("id"))
    put("achievement_name", ach.get("name"))
    put("achievement_type", ach.get("achievementType"))
    put("achievement_description", ach.get("description"))
    if isinstance(ach.get("criteria"), Mapping):
        put("achievement_criteria", ach["criteria"].get("narrative"))
    put("awarded_date", credential.get("awardedDate"))
    ident = subject.get("identifier")
    if isinstance(ident, list) and ident and isinstance(ident[0], Mapping):
        put("holder_name", ident[0].get("identityHash"))
    levels = {lvl.get("id"): lvl for rd in ach.get("resultDescription") or [] if isinstance(rd, Mapping)
              for lvl in rd.get("rubricCriterionLevel") or [] if isinstance(lvl, Mapping)}
    for r in subject.get("result") or []:
        if isinstance(r, Mapping) and r.get("achievedLevel") in levels:
            lvl = levels[r["achievedLevel"]]
            put("result_level", lvl.get("level"))
            put("result_level_name", lvl.get("name"))
            break
    if isinstance(subject.get("source"), Mapping):
        put("assessor", subject["source"].get("name"))
    put("activity_start", subject.get("activityStartDate"))
    put("activity_end", subject.get("activityEndDate"))
    evidence = credential.get("evidence")
    if isinstance(evidence, list) and evidence and isinstance(evidence[0], Mapping):
        put("evidence_name", evidence[0].get("name"))
        put("evidence_narrative", evidence[0].get("narrative"))
        put("evidence_description", evidence[0].get("description"))
    skills = others = 0
    for a in ach.get("alignment") or []:
        if not isinstance(a, Mapping):
            continue
        if a.get("targetType") == _QUALIFICATION_TARGET or a.get("targetFramework") in _LEVEL_FRAMEWORKS:
            others += 1
            for part, member in (("url", "targetUrl"), ("name", "targetName"), ("framework", "targetFramework"),
                                 ("code", "targetCode"), ("type", "targetType")):
                put(f"alignment_{others}_{part}", a.get(member))
        else:
            skills += 1
            put(f"skill_{skills}", a.get("targetUrl"))
            for part, member in (("name", "targetName"), ("framework", "targetFramework"), ("code", "targetCode")):
                put(f"skill_{skills}_{part}", a.get(member))
        if skills + others > _MAX_ALIGNMENTS:
            raise InvalidArgument(f"an SD-JWT VC maps at most {_MAX_ALIGNMENTS} alignments")
    disclosable_names = {n for n, _l, sd in _CLAIMS if sd}
    pointers = [f"/{name}" for name in claims
                if name in disclosable_names or re.fullmatch(r"skill_\d+(_name|_framework|_code)?", name)]
    return claims, pointers


def issue_sd_jwt_vc(
    credential: Mapping[str, Any],
    key: KeyPair,
    *,
    kid: str,
    holder_jwk: Mapping[str, Any] | None,
    status: Mapping[str, Any] | None = None,
    issued_at: datetime | None = None,
    decoys: int | None = None,
) -> str:
    """Issue an SD-JWT VC (``typ: dc+sd-jwt``) from an unsigned Open Badges 3.0 credential.

    ``credential`` is the OB 3.0 JSON skillcred builds (it names its skillcred credential schema,
    which picks the ``vct``); ``kid`` the issuer's verification method (a DID URL of the issuer
    named in ``credential``); ``holder_jwk`` the holder's public JWK (``cnf``: key binding);
    ``status`` the Token Status List slot ``{"idx": n, "uri": url}``. Returns
    ``<issuer-signed JWT>~<disclosure>~...~`` (no key binding yet)."""
    from skillcred.sdjwt import issue_sd_jwt

    claims, pointers = flat_claims(credential, status=status, issued_at=issued_at)
    if not isinstance(claims.get("iss"), str):
        raise InvalidArgument("the credential names no issuer id")
    return issue_sd_jwt(claims, key, kid=kid, disclosable=pointers, holder_jwk=holder_jwk, decoys=decoys,
                        typ=TYP, vct=claims["vct"])


def sd_jwt_claims(token: str) -> dict[str, Any]:
    """The claims an SD-JWT (VC) shows with the disclosures it carries, *unverified*: for
    reading a token whose signature was checked elsewhere (the wallet's own, or one the
    Verifier accepted), e.g. to evaluate a DCQL query against its flat claims. Raises
    :class:`TokenInvalid` for a token that is not an SD-JWT."""
    from skillcred.sdjwt import unverified_claims

    return unverified_claims(token)


def _iso(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return format_datetime(datetime.fromtimestamp(value, tz=UTC))
    except (OverflowError, OSError, ValueError):
        return None


def credential_view(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The Open Badges shape the (disclosed) claims of a flat SD-JWT VC map back to.

    Read by trust scopes, matching, the wallet and the verifier's later steps; it is a reading of
    the token, never signed or presented (the token is). ``sub`` is the subject; without one the
    holder key's did:key (``cnf``) is."""
    sub = claims.get("sub")
    if not isinstance(sub, str):
        sub = None
        cnf = claims.get("cnf")
        if isinstance(cnf, Mapping) and isinstance(cnf.get("jwk"), Mapping):
            from skillcred.did import key_did
            from skillcred.errors import SkillcredError
            from skillcred.keys import PublicKey

            try:
                sub = key_did(PublicKey.from_jwk(dict(cnf["jwk"])))
            except SkillcredError:
                sub = None
    ach: dict[str, Any] = {"type": ["Achievement"]}
    for field, name in (("id", "achievement_id"), ("name", "achievement_name"),
                        ("achievementType", "achievement_type"), ("description", "achievement_description")):
        if isinstance(claims.get(name), str):
            ach[field] = claims[name]
    if isinstance(claims.get("achievement_criteria"), str):
        ach["criteria"] = {"narrative": claims["achievement_criteria"]}
    alignments: list[dict[str, Any]] = []
    for n in range(1, _MAX_ALIGNMENTS + 2):
        if not any(k.startswith((f"skill_{n}", f"alignment_{n}_")) and re.fullmatch(
                rf"(skill_{n}(_.+)?|alignment_{n}_.+)", k) for k in claims):
            continue
        for prefix, url_key in ((f"skill_{n}", f"skill_{n}"), (f"alignment_{n}", f"alignment_{n}_url")):
            a = {"type": ["Alignment"]}
            for member, key in (("targetUrl", url_key), ("targetName", f"{prefix}_name"),
                                ("targetFramework", f"{prefix}_framework"), ("targetCode", f"{prefix}_code"),
                                ("targetType", f"{prefix}_type")):
                if isinstance(claims.get(key), str):
                    a[member] = claims[key]
            if len(a) > 1:
                alignments.append(a)
    if alignments:
        ach["alignment"] = alignments
    subject: dict[str, Any] = {"type": ["AchievementSubject"], "achievement": ach}
    if sub:
        subject["id"] = sub
    if isinstance(claims.get("holder_name"), str):
        subject["identifier"] = [{"type": "IdentityObject", "identityHash": claims["holder_name"]}]
    if isinstance(claims.get("result_level"), str):
        level = claims["result_level"]
        rd_id, lvl_id = "urn:skillcred:sd-jwt-vc:result", f"urn:skillcred:sd-jwt-vc:level:{level}"
        ach["resultDescription"] = [{"id": rd_id, "type": ["ResultDescription"], "name": "Level",
                                     "resultType": "RubricCriterionLevel", "rubricCriterionLevel": [
                                         {"id": lvl_id, "type": ["RubricCriterionLevel"], "level": level,
                                          "name": claims.get("result_level_name") or level}]}]
        subject["result"] = [{"type": ["Result"], "resultDescription": rd_id, "achievedLevel": lvl_id}]
    if isinstance(claims.get("assessor"), str):
        subject["source"] = {"type": ["Profile"], "name": claims["assessor"]}
    for field, name in (("activityStartDate", "activity_start"), ("activityEndDate", "activity_end")):
        if isinstance(claims.get(name), str):
            subject[field] = claims[name]
    issuer: dict[str, Any] = {"type": ["Profile"], "id": claims.get("iss")}
    for field, name in (("name", "issuer_name"), ("url", "issuer_url")):
        if isinstance(claims.get(name), str):
            issuer[field] = claims[name]
    view: dict[str, Any] = {"type": ["VerifiableCredential", "OpenBadgeCredential"], "vct": claims.get("vct"),
                            "issuer": issuer, "credentialSubject": subject}
    if isinstance(claims.get("jti"), str):
        view["id"] = claims["jti"]
    if isinstance(ach.get("name"), str):
        view["name"] = ach["name"]
    kind = next((k for k, v in VCT_BY_KIND.items() if v == claims.get("vct")), None)
    if kind is not None:
        view["credentialSchema"] = [{"id": CREDENTIAL_SCHEMA_BY_KIND[kind], "type": "JsonSchema"}]
    if (start := _iso(claims.get("nbf")) or _iso(claims.get("iat"))) is not None:
        view["validFrom"] = start
    if (end := _iso(claims.get("exp"))) is not None:
        view["validUntil"] = end
    if isinstance(claims.get("awarded_date"), str):
        view["awardedDate"] = claims["awarded_date"]
    if "status" in claims:  # whatever it holds: the verifier judges it (a malformed one fails)
        view["status"] = dict(claims["status"]) if isinstance(claims["status"], Mapping) else claims["status"]
    evidence = {field: claims[name] for field, name in (("name", "evidence_name"), ("narrative", "evidence_narrative"),
                                                        ("description", "evidence_description"))
                if isinstance(claims.get(name), str)}
    if evidence:
        view["evidence"] = [{"type": ["Evidence"], **evidence}]
    return view
