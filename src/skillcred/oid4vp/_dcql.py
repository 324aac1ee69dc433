"""DCQL (Digital Credentials Query Language, OpenID4VP 1.0 §6) for skills passports.

A vacancy is the natural query: :func:`query_from_profile` asks only for the credentials that can
evidence the profile's requirements (an alignment to one of its skills, one of its achievements
or qualifications) and only for the claims that do (the matching alignment, the achievement id,
the result and rubric that give a level) -- never a name, a birth date or the rest of a diploma.
Data minimisation is the point: what the query does not name, a wallet does not disclose.

One query per (evidence group, format): essential requirements form a *required* credential set,
optional ones an optional set. Each set's options are the formats the employer accepts, and a
wallet answers every query it can (so one response can mix formats).

The same evaluation runs on both sides: :func:`match_credential` tells a wallet which stored
credential answers which query (and which claim paths to disclose), and a verifier that each
presented, verified credential answers the query it was given for; :func:`missing_required_sets`
says which required set nothing answered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skillcred.claims import QUALIFICATION_PREFIX
from skillcred.errors import InvalidArgument
from skillcred.match import JobProfile
from skillcred.secured import SecuredFormat

__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "OB_CREDENTIAL_TYPE",
    "CredentialMatch",
    "FormatInfo",
    "check_query",
    "expanded_types",
    "match_credential",
    "missing_required_sets",
    "query_from_profile",
]

OB_CREDENTIAL_TYPE = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential"
VC_TYPE = "https://www.w3.org/2018/credentials#VerifiableCredential"
#: compact type names of the bundled VC 2.0 / OB 3.0 contexts -> their IRI (DCQL ``type_values``
#: are fully expanded types; these are the only ones a skills passport query names)
_EXPANDED = {
    "VerifiableCredential": VC_TYPE,
    "OpenBadgeCredential": OB_CREDENTIAL_TYPE,
    "AchievementCredential": OB_CREDENTIAL_TYPE,  # OB 3.0's context maps both to one IRI
}


@dataclass(frozen=True)
class FormatInfo:
    """How one OpenID4VP credential format maps to skillcred's securing formats."""

    secured: tuple[SecuredFormat, ...]  #: which :class:`SecuredCredential` formats it carries
    presentation: str  #: what a vp_token entry of it is (docs)
    vp_formats_supported: Mapping[str, Any]  #: the verifier metadata entry


#: The one format table (OpenID4VP 1.0 Appendix B). ``dc+sd-jwt`` is the IETF SD-JWT VC of
#: skillcred.sdjwt_vc (flat claims, ``meta.vct_values``); ``vc+sd-jwt`` is the W3C SD-JWT of
#: skillcred.sdjwt (``dcql`` 3.x knows it, with ``type_values`` meta).
FORMATS: dict[str, FormatInfo] = {
    "ldp_vc": FormatInfo(("di",), "a Data Integrity VerifiablePresentation (challenge = nonce, domain = client_id)",
                         {"proof_type_values": ["DataIntegrityProof"],
                          "cryptosuite_values": ["eddsa-rdfc-2022", "ecdsa-rdfc-2019", "ecdsa-sd-2023",
                                                 "eddsa-jcs-2022", "ecdsa-jcs-2019"]}),
    "jwt_vc_json": FormatInfo(("jwt",), "a vp+jwt signed by the holder (nonce, aud = client_id)",
                              {"alg_values": ["EdDSA", "ES256", "ES384"]}),
    "vc+sd-jwt": FormatInfo(("sd-jwt",), "the SD-JWT with only the asked disclosures and a KB-JWT "
                            "(nonce, aud = client_id)",
                            {"sd-jwt_alg_values": ["EdDSA", "ES256", "ES384"],
                             "kb-jwt_alg_values": ["EdDSA", "ES256", "ES384"]}),
    "dc+sd-jwt": FormatInfo(("sd-jwt",), "the SD-JWT VC with only the asked disclosures and a KB-JWT "
                            "(nonce, aud = client_id)",
                            {"sd-jwt_alg_values": ["EdDSA", "ES256", "ES384"],
                             "kb-jwt_alg_values": ["EdDSA", "ES256", "ES384"]}),
}
DEFAULT_FORMATS: tuple[str, ...] = tuple(FORMATS)

#: claim paths that evidence a requirement, by what the requirement names
_EVIDENCE_PATHS: dict[str, list[str | int | None]] = {
    "skill": ["credentialSubject", "achievement", "alignment", None, "targetUrl"],
    "achievement": ["credentialSubject", "achievement", "id"],
    "qualification": ["credentialSubject", "achievement", "alignment", None, "targetCode"],
}
#: claims that give the level the evidence is at (asked for when a requirement sets a level)
_LEVEL_PATHS: dict[str, list[str | int | None]] = {
    "result": ["credentialSubject", "result"],
    "rubric": ["credentialSubject", "achievement", "resultDescription"],
}
#: SD-JWT VC (flat claims, skillcred.sdjwt_vc.flat_claims): a DCQL path cannot range over
#: ``skill_1``, ``skill_2``..., so a query names each numbered slot, up to this many per credential
#: (an achievement rarely aligns more skills; one past this is not found by the query)
DC_SLOTS = 8
_ID = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_VALUES = 1000


def expanded_types(doc: Mapping[str, Any]) -> set[str]:
    """The credential's ``type`` values as IRIs (compact names of the bundled contexts expanded)."""
    raw = doc.get("type")
    names = [raw] if isinstance(raw, str) else [t for t in raw if isinstance(t, str)] if isinstance(raw, list) else []
    return {_EXPANDED.get(t, t) for t in names}


def query_from_profile(profile: JobProfile, *, formats: Sequence[str] = DEFAULT_FORMATS,
                       raw_requirements: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The DCQL query a vacancy needs: see the module docstring. ``raw_requirements`` (the
    profile file's ``requirements``) tell skill from achievement refs; without them a ref that
    is neither a qualification nor an ESCO skill is asked for as either."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InvalidArgument(f"unknown credential format(s) {', '.join(unknown) or '(none)'}; "
                              f"use {', '.join(FORMATS)}")
    formats = list(dict.fromkeys(formats))
    kinds: dict[str, str] = {}
    for r in raw_requirements or ():
        if isinstance(r.get("achievement"), str):
            kinds[r["achievement"]] = "achievement"
        elif isinstance(r.get("skill"), str):
            kinds[r["skill"]] = "skill"
    if not profile.requirements:
        raise InvalidArgument("the profile has no requirements: there is nothing to ask for")
    credentials: list[dict[str, Any]] = []
    sets: list[dict[str, Any]] = []
    for essential in (True, False):
        by_kind: dict[str, list[str]] = {}
        for req in profile.requirements:
            if req.essential is not essential:
                continue
            if req.ref.startswith(QUALIFICATION_PREFIX):
                kind, value = "qualification", req.ref[len(QUALIFICATION_PREFIX):]
            else:
                kind, value = kinds.get(req.ref, "skill" if "/esco/skill/" in req.ref else "any"), req.ref
            for k in (("skill", "achievement") if kind == "any" else (kind,)):
                bucket = by_kind.setdefault(k, [])
                if value not in bucket:
                    bucket.append(value)
        if not by_kind:
            continue
        if any(len(v) > MAX_VALUES for v in by_kind.values()):
            raise InvalidArgument(f"the profile names more than {MAX_VALUES} requirements of one kind")
        with_level = any(r.level is not None for r in profile.requirements if r.essential is essential)
        options = []
        for fmt in formats:
            qid = f"{'essential' if essential else 'optional'}_{fmt.replace('+', '_').replace('-', '_')}"
            if fmt == "dc+sd-jwt":
                credentials.append({"id": qid, "format": fmt, "multiple": True,
                                    "meta": {"vct_values": list(_vct_values())},
                                    **_flat_claims_query(by_kind, with_level)})
                options.append([qid])
                continue
            claims: list[dict[str, Any]] = [
                {"id": kind, "path": list(_EVIDENCE_PATHS[kind]), "values": values}
                for kind, values in by_kind.items()
            ]
            claim_sets: list[list[str]] = []
            if with_level:
                claims += [{"id": name, "path": list(path)} for name, path in _LEVEL_PATHS.items()]
                claim_sets += [[kind, *_LEVEL_PATHS] for kind in by_kind]
            claim_sets += [[kind] for kind in by_kind]
            credentials.append({
                "id": qid, "format": fmt, "multiple": True,
                "meta": {"type_values": [[OB_CREDENTIAL_TYPE]]},
                "claims": claims, "claim_sets": claim_sets,
            })
            options.append([qid])
        sets.append({"options": options, "required": essential})
    return {"credentials": credentials, "credential_sets": sets}


def _vct_values() -> tuple[str, ...]:
    from skillcred.sdjwt_vc import VCT_BY_KIND

    return tuple(VCT_BY_KIND.values())


def _flat_claims_query(by_kind: Mapping[str, list[str]], with_level: bool) -> dict[str, Any]:
    """The ``claims`` and ``claim_sets`` of an SD-JWT VC query: the evidence is one numbered flat
    claim (``skill_N`` = an alignment's targetUrl, ``achievement_id``, ``alignment_N_code`` with
    its ``alignment_N_type``), each slot its own claim set, so the wallet discloses the one slot
    that matches (and ``result_level`` when the profile sets levels), nothing else."""
    claims: list[dict[str, Any]] = []
    sets: list[list[str]] = []
    for kind, values in by_kind.items():
        if kind == "achievement":
            claims.append({"id": "achievement", "path": ["achievement_id"], "values": values})
            sets.append(["achievement"])
            continue
        for n in range(1, DC_SLOTS + 1):
            if kind == "skill":
                claims.append({"id": f"skill_{n}", "path": [f"skill_{n}"], "values": values})
                sets.append([f"skill_{n}"])
            else:
                claims += [{"id": f"qualification_{n}", "path": [f"alignment_{n}_code"], "values": values},
                           {"id": f"qualification_{n}_type", "path": [f"alignment_{n}_type"]}]
                sets.append([f"qualification_{n}", f"qualification_{n}_type"])
    if with_level:
        claims.append({"id": "level", "path": ["result_level"]})
        sets = [[*cs, "level"] for cs in sets] + sets
    return {"claims": claims, "claim_sets": sets}


def check_query(query: Any) -> dict[str, Any]:
    """``query`` if it is a DCQL query this module can evaluate; else :class:`InvalidArgument`
    naming the problem. Unknown formats, duplicate ids, a claim set naming an unknown claim id and
    paths that are not strings / non-negative integers / null are refused."""
    if not isinstance(query, dict) or not isinstance(query.get("credentials"), list) or not query["credentials"]:
        raise InvalidArgument("dcql_query has no credentials")
    ids: set[str] = set()
    for cq in query["credentials"]:
        if not isinstance(cq, dict) or not isinstance(cq.get("id"), str) or not _ID.match(cq["id"]):
            raise InvalidArgument("a DCQL credential query has no valid id")
        if cq["id"] in ids:
            raise InvalidArgument(f"DCQL credential query id {cq['id']!r} is used twice")
        ids.add(cq["id"])
        if cq.get("format") not in FORMATS:
            raise InvalidArgument(f"DCQL credential query {cq['id']!r}: format {cq.get('format')!r} is not supported "
                                  f"(supported: {', '.join(FORMATS)})")
        claim_ids: set[str] = set()
        claims = cq.get("claims", [])
        if not isinstance(claims, list):
            raise InvalidArgument(f"DCQL credential query {cq['id']!r}: claims is not a list")
        for cl in claims:
            if not isinstance(cl, dict) or not isinstance(cl.get("path"), list) or not cl["path"]:
                raise InvalidArgument(f"DCQL credential query {cq['id']!r}: a claim has no path")
            for p in cl["path"]:
                if not (p is None or isinstance(p, str) or (isinstance(p, int) and not isinstance(p, bool) and p >= 0)):
                    raise InvalidArgument(f"DCQL credential query {cq['id']!r}: path element {p!r} is not valid")
            if "values" in cl and not isinstance(cl["values"], list):
                raise InvalidArgument(f"DCQL credential query {cq['id']!r}: claim values is not a list")
            if isinstance(cl.get("id"), str):
                claim_ids.add(cl["id"])
        for cs in cq.get("claim_sets", []) or []:
            if not isinstance(cs, list) or any(c not in claim_ids for c in cs):
                raise InvalidArgument(f"DCQL credential query {cq['id']!r}: a claim set names an unknown claim id")
    for s in query.get("credential_sets", []) or []:
        if not isinstance(s, dict) or not isinstance(s.get("options"), list) or not s["options"]:
            raise InvalidArgument("a DCQL credential set has no options")
        for opt in s["options"]:
            if not isinstance(opt, list) or any(i not in ids for i in opt):
                raise InvalidArgument("a DCQL credential set option names an unknown credential query")
    return query


def _select(node: Any, path: Sequence[str | int | None], at: tuple[str | int, ...]
            ) -> list[tuple[tuple[str | int, ...], Any]]:
    """The (concrete path, value) pairs a DCQL claims path selects (OpenID4VP 1.0 §7)."""
    if not path:
        return [(at, node)]
    head, rest = path[0], path[1:]
    if head is None:
        if not isinstance(node, list):
            return []
        return [hit for i, item in enumerate(node) for hit in _select(item, rest, (*at, i))]
    if isinstance(head, int):
        if not isinstance(node, list) or head >= len(node):
            return []
        return _select(node[head], rest, (*at, head))
    if isinstance(node, list) and head in ("credentialSubject", "achievement"):
        # VC DM allows one subject (achievement) or several; a path through one means each
        return [hit for i, item in enumerate(node) for hit in _select(item, path, (*at, i))]
    if not isinstance(node, Mapping) or head not in node:
        return []
    return _select(node[head], rest, (*at, head))


def _matches(claim: Mapping[str, Any], doc: Mapping[str, Any]) -> list[tuple[str | int, ...]]:
    hits = _select(doc, claim["path"], ())
    if "values" in claim:
        wanted = claim["values"]
        # a qualification code may be written as a number by one issuer and a string by another
        hits = [(p, v) for p, v in hits if isinstance(v, str | int) and not isinstance(v, bool)
                and any(v == w or (isinstance(v, int) and str(v) == w) for w in wanted)]
    return [p for p, _ in hits]


def _pointer(parts: Iterable[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True)
class CredentialMatch:
    """A credential answering one credential query, and the JSON pointers to disclose for it."""

    query_id: str
    disclose: tuple[str, ...]


def match_credential(query: Mapping[str, Any], fmt: str, doc: Mapping[str, Any]) -> list[CredentialMatch]:
    """The credential queries of ``query`` that ``doc`` (in OpenID4VP format ``fmt``) answers;
    for ``dc+sd-jwt`` ``doc`` is the SD-JWT VC's flat claims (:func:`skillcred.sdjwt_vc.sd_jwt_claims`).

    For each, the pointers to disclose: of every claim of the first satisfied claim set, each
    place it selected; a path through an array element (an alignment) releases that element
    whole, since an alignment is only meaningful with its type and framework.
    """
    out = []
    types = expanded_types(doc)
    for cq in query.get("credentials", []):
        if cq.get("format") != fmt:
            continue
        meta = cq.get("meta") or {}
        tv = meta.get("type_values")
        if tv and not any(set(alt) <= types for alt in tv):
            continue
        vct = meta.get("vct_values")  # an SD-JWT VC: ``doc`` is its flat (disclosed) claims
        if fmt == "dc+sd-jwt" and isinstance(vct, list) and doc.get("vct") not in vct:
            continue
        claims = {c.get("id", str(i)): c for i, c in enumerate(cq.get("claims", []) or [])}
        sets = cq.get("claim_sets") or [list(claims)]
        for option in sets:
            found = {cid: _matches(claims[cid], doc) for cid in option}
            if all(found.values()):
                pointers: list[str] = []
                for cid, paths in found.items():
                    path = claims[cid]["path"]
                    for concrete in paths:
                        parts = list(concrete)
                        if None in path and len(parts) > path.index(None) + 1:
                            parts = parts[: _concrete_index(path, concrete) + 1]
                        p = _pointer(parts)
                        if p not in pointers:
                            pointers.append(p)
                out.append(CredentialMatch(cq["id"], tuple(pointers)))
                break
    return out


def _concrete_index(path: Sequence[str | int | None], concrete: Sequence[str | int]) -> int:
    """The position, in ``concrete``, of the array index that ``path``'s last ``None`` selected
    (list-valued subjects/achievements add indexes, so count from the end)."""
    last_none = max(i for i, p in enumerate(path) if p is None)
    return len(concrete) - (len(path) - last_none)


def missing_required_sets(query: Mapping[str, Any], answered: Iterable[str]) -> list[list[list[str]]]:
    """The options of each required credential set that no answered query id completes (one
    entry per unmet set). Without ``credential_sets`` every credential query is required."""
    done = set(answered)
    sets = query.get("credential_sets")
    if not sets:
        return [[[cq["id"]]] for cq in query.get("credentials", []) if cq["id"] not in done]
    return [s["options"] for s in sets
            if s.get("required", True) and not any(all(i in done for i in opt) for opt in s["options"])]
