"""The verifier's check of an OpenID4VP response: binding, the one :class:`Verifier`, DCQL
satisfaction, then gap analysis against the vacancy.

Order (the first failure names the reason, :class:`Oid4vpRefused`): the ``vp_token`` is a JSON
object of known query ids, each a non-empty list of presentations of the query's format
(``vp_token_malformed``, ``query_unknown``, ``format_mismatch``, ``too_many_presentations``);
each presentation is bound to this request -- nonce (``nonce_mismatch``) and this verifier as
audience (``audience_mismatch``; a response made for another verifier) -- read from the
presentation first so the reason is exact, then proven by the Verifier's own checks, which must
all pass (``presentation_invalid``, naming the failed check); every credential answers the query
it was given for (``dcql_claims_missing``); one holder throughout (``holder_mismatch``); every
required credential set met (``dcql_unsatisfied``). Then :func:`skillcred.match.match`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from skillcred._internal import base64url
from skillcred.errors import MalformedDocument, Oid4vpRefused, SkillcredError
from skillcred.keys import PublicKey
from skillcred.match import Framework, JobProfile, MatchReport, match
from skillcred.oid4vp._dcql import match_credential, missing_required_sets
from skillcred.sdjwt_vc import sd_jwt_claims
from skillcred.securing import holder_jwk_for, is_envelope
from skillcred.verify.report import VerifiedCredential
from skillcred.verify.verifier import Verifier

#: more presentations than this in one response are refused unread
MAX_PRESENTATIONS = 50
ENVELOPED_VP = "EnvelopedVerifiablePresentation"
VC_V2 = "https://www.w3.org/ns/credentials/v2"


@dataclass(frozen=True)
class ResponseResult:
    """A response that passed every check: the per-presentation verification reports, the
    credentials accepted, the holder, and the match against the vacancy."""

    holder: str | None
    reports: tuple[dict[str, Any], ...]
    credentials: tuple[VerifiedCredential, ...]
    answered: tuple[str, ...]
    match: MatchReport
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"verified": True, "holder": self.holder, "answered": list(self.answered),
                "essential_coverage": self.match.essential_coverage, "coverage": self.match.coverage,
                "score": self.match.score, "match": self.match.to_dict(), "reports": list(self.reports),
                "warnings": list(self.warnings)}


def parse_vp_token(raw: str | Mapping[str, Any]) -> dict[str, list[Any]]:
    """The ``vp_token`` as ``{query id: [presentation, ...]}`` (a single presentation is taken as a
    list of one); :class:`Oid4vpRefused` (``vp_token_malformed``) for anything else."""
    value: Any = raw
    if isinstance(raw, str):
        try:
            from skillcred._internal.fileio import parse_json

            value = parse_json(raw.encode("utf-8"), source="vp_token")
        except MalformedDocument as exc:
            raise Oid4vpRefused("vp_token_malformed", f"the vp_token is not strict JSON: {exc.message}") from None
    if not isinstance(value, Mapping) or not value:
        raise Oid4vpRefused("vp_token_malformed", "the vp_token is not a JSON object of credential query ids")
    out: dict[str, list[Any]] = {}
    count = 0
    for qid, entry in value.items():
        items = entry if isinstance(entry, list) else [entry]
        if not items:
            raise Oid4vpRefused("vp_token_malformed", f"the vp_token's {qid!r} holds no presentation")
        count += len(items)
        if count > MAX_PRESENTATIONS:
            raise Oid4vpRefused("too_many_presentations", f"more than {MAX_PRESENTATIONS} presentations")
        out[str(qid)] = list(items)
    return out


def _jwt_payload(token: str, what: str) -> dict[str, Any]:
    parts = token.split(".")
    try:
        payload = json.loads(base64url.decode(parts[1])) if len(parts) == 3 else None
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        raise Oid4vpRefused("presentation_invalid", f"the {what} is not a JWS with a JSON payload")
    return payload


def _jwt_header(token: str) -> dict[str, Any]:
    try:
        header = json.loads(base64url.decode(token.split(".")[0]))
    except (ValueError, UnicodeDecodeError):
        header = None
    return header if isinstance(header, dict) else {}


def _binding(fmt: str, pres: Any, nonce: str, client_id: str) -> tuple[Any, Any, dict[str, Any]]:
    """(nonce, audience) a presentation claims (unverified: for a named reason), and the
    document the Verifier checks."""
    if fmt == "ldp_vc":
        if not isinstance(pres, dict) or "VerifiablePresentation" not in _types(pres.get("type")):
            raise Oid4vpRefused("format_mismatch", "an ldp_vc answer must be a Data Integrity VerifiablePresentation")
        proofs = pres.get("proof")
        proof = proofs[0] if isinstance(proofs, list) and proofs else proofs
        proof = proof if isinstance(proof, dict) else {}
        for c in _as_list(pres.get("verifiableCredential")):
            if not isinstance(c, dict) or is_envelope(c):
                raise Oid4vpRefused("format_mismatch",
                                    "an ldp_vc presentation may hold only Data Integrity credentials")
        return proof.get("challenge"), proof.get("domain"), pres
    if not isinstance(pres, str):
        raise Oid4vpRefused("format_mismatch", f"a {fmt} answer must be a compact token string")
    if fmt == "jwt_vc_json":
        claims = _jwt_payload(pres, "vp+jwt presentation")
        for c in _as_list(claims.get("verifiableCredential")):
            if not (isinstance(c, dict) and isinstance(c.get("id"), str)
                    and c["id"].startswith("data:application/vc+jwt,")):
                raise Oid4vpRefused("format_mismatch", "a jwt_vc_json presentation may hold only vc+jwt credentials")
        env = {"@context": [VC_V2], "type": ENVELOPED_VP, "id": "data:application/vp+jwt," + pres}
        return claims.get("nonce"), claims.get("aud"), env
    # vc+sd-jwt, dc+sd-jwt (IETF SD-JWT VC): the SD-JWT with its Key Binding JWT
    if "~" not in pres or pres.endswith("~"):
        raise Oid4vpRefused("key_binding_missing", "the SD-JWT has no Key Binding JWT: it is not bound to this request")
    kb = _jwt_payload(pres.rsplit("~", 1)[1], "Key Binding JWT")
    typ = _jwt_header(pres.split("~", 1)[0]).get("typ")
    if (fmt == "dc+sd-jwt") != (typ == "dc+sd-jwt"):
        raise Oid4vpRefused("format_mismatch", f"a {fmt} answer holds an SD-JWT of typ {typ!r}")
    env = {"@context": [VC_V2], "type": "EnvelopedVerifiableCredential", "id": f"data:application/{fmt}," + pres}
    return kb.get("nonce"), kb.get("aud"), env


def _types(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [t for t in value if isinstance(t, str)] \
        if isinstance(value, list) else []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def check_response(
    request: Mapping[str, Any],
    vp_token: str | Mapping[str, Any],
    *,
    verifier: Verifier,
    profile: JobProfile,
    framework: Framework | None = None,
    at: datetime | None = None,
) -> ResponseResult:
    """Check a response to ``request`` (the request object's claims as the verifier made them);
    :class:`Oid4vpRefused` naming the first failed check (module docstring), else the result."""
    query = request["dcql_query"]
    nonce, client_id = str(request["nonce"]), str(request["client_id"])
    by_id = {cq["id"]: cq for cq in query["credentials"]}
    token = parse_vp_token(vp_token)
    reports: list[dict[str, Any]] = []
    accepted: list[VerifiedCredential] = []
    holders: set[str] = set()
    answered: list[str] = []
    warnings: list[str] = []
    for qid, items in token.items():
        if qid not in by_id:
            raise Oid4vpRefused("query_unknown", f"the vp_token answers {qid!r}, which the request did not ask")
        fmt = by_id[qid]["format"]
        for i, pres in enumerate(items):
            where = f"{qid}[{i}]"
            got_nonce, got_aud, doc = _binding(fmt, pres, nonce, client_id)
            if got_nonce != nonce:
                raise Oid4vpRefused("nonce_mismatch", f"{where} is bound to another nonce (a replayed or stale "
                                    "presentation)")
            if got_aud != client_id and not (isinstance(got_aud, list) and client_id in got_aud):
                raise Oid4vpRefused("audience_mismatch", f"{where} was made for {got_aud!r}, not this verifier "
                                    f"({client_id})")
            result = verifier.assess(doc, challenge=nonce, domain=client_id, at=at, source=where)
            report = result.report
            reports.append({"query": qid, **report.to_dict()})
            warnings.extend(report.warnings)
            if not report.verified or not result.accepted:
                fails = report.failures()
                bad = fails[0] if fails else None
                why = f"{bad.id}: {bad.reason} ({bad.code})" if bad else "no credential in it could be accepted"
                raise Oid4vpRefused("presentation_invalid", f"{where} did not verify: {why}")
            # an SD-JWT VC answers in its flat claims (what the query's paths name); the
            # Verifier accepted it, so reading the disclosed claims again needs no second check
            flat = sd_jwt_claims(pres) if fmt == "dc+sd-jwt" else None
            for vc in result.accepted:
                if not any(m.query_id == qid for m in match_credential({"credentials": [by_id[qid]]}, fmt,
                                                                       flat or vc.document)):
                    raise Oid4vpRefused("dcql_claims_missing", f"{where}: credential {vc.id or '(no id)'} does not "
                                        f"show the claims query {qid!r} asks for")
                holder = result.holder or _key_bound_subject(vc, flat)
                if holder is None:
                    raise Oid4vpRefused("holder_mismatch", f"{where}: the presenter is not bound to the credential's "
                                        "subject")
                holders.add(holder)
                accepted.append(vc)
            answered.append(qid)
    if len(holders) > 1:
        raise Oid4vpRefused("holder_mismatch", f"the presentations come from {len(holders)} different holders")
    missing = missing_required_sets(query, answered)
    if missing:
        shown = " or ".join("+".join(opt) for opt in missing[0])
        raise Oid4vpRefused("dcql_unsatisfied", f"a required credential is missing: nothing answers {shown}")
    holder = next(iter(holders), None)
    report_ = match(profile, _reindexed(accepted), framework=framework, candidate=holder)
    return ResponseResult(holder=holder, reports=tuple(reports), credentials=tuple(accepted),
                          answered=tuple(dict.fromkeys(answered)), match=report_,
                          warnings=tuple(dict.fromkeys(warnings)))


def _key_bound_subject(vc: VerifiedCredential, claims: Mapping[str, Any] | None = None) -> str | None:
    """The subject of an SD-JWT presented bare: its Key Binding JWT (checked by the Verifier)
    proves the presenter holds ``cnf``; that key must be the subject DID's own. ``claims`` are
    an SD-JWT VC's own claims (its Open Badges reading, ``vc.document``, has no ``cnf``)."""
    cnf = (claims if claims is not None else vc.document).get("cnf")
    subject = vc.subject
    if subject is None or not isinstance(cnf, Mapping) or not isinstance(cnf.get("jwk"), Mapping):
        return None
    expected = holder_jwk_for(subject)
    try:
        return subject if expected is not None and PublicKey.from_jwk(dict(cnf["jwk"])) == \
            PublicKey.from_jwk(dict(expected)) else None
    except SkillcredError:  # an unusable cnf binds nobody
        return None


def _reindexed(creds: Sequence[VerifiedCredential]) -> list[VerifiedCredential]:
    """Credentials from several presentations, numbered across the response (their index is
    per presentation)."""
    from dataclasses import replace

    return [replace(c, index=i) for i, c in enumerate(creds)]
