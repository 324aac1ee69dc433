"""The worker's side of OpenID4VP: which wallet credentials answer a verified request, and the
``vp_token`` that discloses only what it asks for, bound to its ``nonce`` and verifier.

Each credential is presented on its own (a ``vp_token`` entry per credential under the query it
answers), in the form its OpenID4VP format prescribes (see :data:`FORMATS`): so a Data Integrity
credential, a vc+jwt and an SD-JWT can answer one request together.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from skillcred._internal.timeutil import utcnow
from skillcred._internal.urlpolicy import url_refusal, warn_http_loopback
from skillcred.errors import InvalidArgument, Oid4vpRequestInvalid, SkillcredError
from skillcred.jose import envelop_credential, secure_presentation_jwt
from skillcred.keys import KeyPair
from skillcred.oid4vp._dcql import FORMATS, CredentialMatch, match_credential, missing_required_sets
from skillcred.oid4vp._suites import vp_cryptosuite
from skillcred.secured import SecuredCredential
from skillcred.securing import is_sd_base
from skillcred.wallet import Wallet, WalletEntry

VC_V2 = "https://www.w3.org/ns/credentials/v2"
#: the most a request object fetched from a verifier may weigh (bytes)
MAX_FETCH = 256 * 1024
#: the most of a verifier's reply to a posted response that is read (bytes)
MAX_REPLY = 64 * 1024
#: how long a vp+jwt presentation stays valid (seconds): one request's lifetime is minutes
VP_JWT_TTL = 600


def oid4vp_format(secured: SecuredCredential) -> str | None:
    """The OpenID4VP format a wallet credential is presented in (None: none of :data:`FORMATS`).
    An SD-JWT is ``dc+sd-jwt`` (IETF SD-JWT VC) or ``vc+sd-jwt`` (W3C claims) by its ``typ``."""
    if secured.format == "sd-jwt" and not secured.presentation:
        return "dc+sd-jwt" if secured.media_type == "application/dc+sd-jwt" else "vc+sd-jwt"
    return next((name for name, info in FORMATS.items() if secured.format in info.secured), None)


def dcql_document(fmt: str, secured: SecuredCredential) -> Mapping[str, Any]:
    """What a DCQL query is evaluated against: an SD-JWT VC's flat claims (the query's paths
    name them, :func:`skillcred.sdjwt_vc.flat_claims`), else the credential's JSON."""
    if fmt == "dc+sd-jwt" and secured.token is not None:
        from skillcred.sdjwt_vc import sd_jwt_claims

        return sd_jwt_claims(secured.token)
    return secured.document


@dataclass(frozen=True)
class Answer:
    """One wallet credential answering one credential query; ``disclose`` are the JSON pointers
    released (for SD-JWT and ecdsa-sd-2023; other credentials are shown whole)."""

    query_id: str
    format: str
    entry: WalletEntry
    secured: SecuredCredential
    disclose: tuple[str, ...]

    @property
    def selective(self) -> bool:
        return self.secured.format == "sd-jwt" or (self.secured.format == "di" and is_sd_base(self.secured.document))


@dataclass
class ResponsePlan:
    """What a wallet would send for a request: the answers, and the required credential sets it
    cannot meet (``missing``: each the list of options, each a list of query ids)."""

    request: dict[str, Any]
    answers: list[Answer] = field(default_factory=list)
    missing: list[list[list[str]]] = field(default_factory=list)

    @property
    def satisfied(self) -> bool:
        return not self.missing


def plan_response(wallet: Wallet, request: Mapping[str, Any], *, selectors: Sequence[str] = ()) -> ResponsePlan:
    """Match the wallet's credentials against the request's DCQL query (``request`` is a verified
    request object, :func:`verify_request_object`). With ``selectors`` (as for ``present
    --select``) only those credentials are considered. A credential answering several queries is
    presented once, under the first (essential ones come first), disclosing what all of them ask.
    Credentials about someone else and damaged files are never considered."""
    query = request["dcql_query"]
    if selectors:
        entries = wallet.choose(selectors).entries
    else:
        entries = [e for e in wallet.listing().entries]
    plan = ResponsePlan(dict(request))
    for e in entries:
        try:
            secured = wallet.secured(e.id)
        except SkillcredError:  # a damaged file answers nothing; choose() reports those
            continue
        subjects = _subject_ids(secured.document)
        if wallet.holder not in subjects:
            continue
        fmt = oid4vp_format(secured)
        if fmt is None:
            continue
        try:
            doc = dcql_document(fmt, secured)
        except SkillcredError:  # an unreadable token answers nothing
            continue
        found: list[CredentialMatch] = match_credential(query, fmt, doc)
        if not found:
            continue
        pointers = tuple(dict.fromkeys(p for m in found for p in m.disclose))
        plan.answers.append(Answer(found[0].query_id, fmt, e, secured, pointers))
    plan.missing = missing_required_sets(query, {a.query_id for a in plan.answers})
    return plan


def _subject_ids(doc: Mapping[str, Any]) -> set[str]:
    subj = doc.get("credentialSubject")
    subjects = subj if isinstance(subj, list) else [subj]
    return {str(s.get("id")) for s in subjects if isinstance(s, Mapping)}


def build_vp_token(wallet: Wallet, plan: ResponsePlan, *, key: KeyPair, at: datetime | None = None
                   ) -> dict[str, list[Any]]:
    """The ``vp_token`` for ``plan``: per query id, one presentation per credential, each bound
    to the request's ``nonce`` and to the verifier's ``client_id`` (Data Integrity challenge and
    domain, in a cryptosuite the verifier lists, :func:`~skillcred.oid4vp._suites.vp_cryptosuite`;
    vp+jwt ``nonce``/``aud``; an SD-JWT's Key Binding JWT)."""
    if not plan.answers:
        raise InvalidArgument("no credential in this wallet answers the request")
    nonce, client_id = plan.request["nonce"], plan.request["client_id"]
    now = int((at or utcnow()).timestamp())
    out: dict[str, list[Any]] = {}
    for a in plan.answers:
        if a.format == "ldp_vc":
            pres: Any = wallet.present([a.secured], key=key, challenge=nonce, domain=client_id,
                                       disclose=a.disclose if a.selective else (), created=at,
                                       cryptosuite=vp_cryptosuite(plan.request, key))
        elif a.format == "jwt_vc_json":
            assert a.secured.token is not None
            vp = {"@context": [VC_V2], "id": f"urn:uuid:{uuid.uuid4()}", "type": ["VerifiablePresentation"],
                  "holder": wallet.holder, "verifiableCredential": [envelop_credential(a.secured.token)],
                  "nonce": nonce, "aud": client_id, "iat": now, "exp": now + VP_JWT_TTL}
            pres = secure_presentation_jwt(vp, key, kid=wallet.verification_method)
        else:  # vc+sd-jwt, dc+sd-jwt: the SD-JWT with the asked disclosures and a KB-JWT
            from skillcred.sdjwt import present_sd_jwt

            assert a.secured.token is not None
            pres = present_sd_jwt(a.secured.token, disclose=list(a.disclose), holder_key=key, nonce=nonce,
                                  aud=client_id, iat=now)
        out.setdefault(a.query_id, []).append(pres)
    return out


# -- transport ------------------------------------------------------------------------------------


def _check_url(url: str, what: str, unsafe_allow_http_loopback: bool) -> None:
    """https only; plain http only to this machine and only when the caller allows it (warns)."""
    reason = url_refusal(url, unsafe_allow_http_loopback=unsafe_allow_http_loopback)
    if reason is not None:
        raise InvalidArgument(f"{what} {url!r} {reason}")
    if unsafe_allow_http_loopback:
        warn_http_loopback(f"the OpenID4VP {what}", stacklevel=4)


def fetch_request_object(request_uri: str, *, timeout: float = 20, unsafe_allow_http_loopback: bool = False) -> str:
    """GET the signed request object at ``request_uri`` (bounded; a redirect is not followed).
    https only; ``unsafe_allow_http_loopback`` also allows plain http to this machine (warns)."""
    _check_url(request_uri, "request_uri", unsafe_allow_http_loopback)
    req = urllib.request.Request(request_uri, headers={"Accept": "application/oauth-authz-req+jwt"})
    try:
        with _opener().open(req, timeout=timeout) as resp:
            data: bytes = resp.read(MAX_FETCH + 1)
    except urllib.error.HTTPError as exc:
        raise Oid4vpRequestInvalid("request_unavailable", f"{request_uri} answered HTTP {exc.code}: the request is "
                                   "unknown or withdrawn") from None
    except (urllib.error.URLError, OSError) as exc:
        raise Oid4vpRequestInvalid("request_unavailable", f"cannot fetch {request_uri}: {exc}") from None
    if len(data) > MAX_FETCH:
        raise Oid4vpRequestInvalid("request_too_large", f"the request object at {request_uri} is larger than "
                                   f"{MAX_FETCH} bytes")
    return data.decode("ascii", errors="replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirect())


@dataclass(frozen=True)
class PostResult:
    """The verifier's answer to a posted response: ``accepted`` on HTTP 200."""

    status: int
    body: dict[str, Any]

    @property
    def accepted(self) -> bool:
        return self.status == 200

    @property
    def reason(self) -> str | None:
        value = self.body.get("reason") if isinstance(self.body, dict) else None
        return value if isinstance(value, str) else None


def post_response(response_uri: str, vp_token: Mapping[str, Any], state: str, *, timeout: float = 60,
                  unsafe_allow_http_loopback: bool = False) -> PostResult:
    """POST ``vp_token`` and ``state`` to the verifier's ``response_uri`` (``direct_post``).
    https only; ``unsafe_allow_http_loopback`` also allows plain http to this machine (warns)."""
    _check_url(response_uri, "response_uri", unsafe_allow_http_loopback)
    body = urllib.parse.urlencode({"vp_token": json.dumps(vp_token, separators=(",", ":")),
                                   "state": state}).encode("ascii")
    req = urllib.request.Request(response_uri, data=body, method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with _opener().open(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read(MAX_REPLY)
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read(MAX_REPLY)
    except (urllib.error.URLError, OSError) as exc:
        raise InvalidArgument(f"cannot reach the verifier at {response_uri}: {exc}") from None
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        parsed = {}
    return PostResult(status, parsed if isinstance(parsed, dict) else {})


def describe_request(request: Mapping[str, Any]) -> list[str]:
    """What the worker is shown before consenting: who asks (name, DID), why, and for what."""
    meta = request.get("client_metadata") if isinstance(request.get("client_metadata"), Mapping) else {}
    name = meta.get("client_name") if isinstance(meta, Mapping) else None
    did = str(request["client_id"]).removeprefix("decentralized_identifier:")
    lines = [f"Who asks:  {name or '(no name given)'} -- {did} (the request is signed with this DID's key)"]
    purpose = request.get("skillcred_purpose")
    lines.append(f"Why:       {purpose}" if isinstance(purpose, str) and purpose else "Why:       (no purpose given)")
    lines.append(f"Answer to: {request['response_uri']}")
    for s in request["dcql_query"].get("credential_sets", []) or [{"options": [[c["id"]] for c in
                                                                           request["dcql_query"]["credentials"]]}]:
        ids = [i for opt in s["options"] for i in opt]
        queries = [c for c in request["dcql_query"]["credentials"] if c["id"] in ids]
        refs = sorted({str(v) for c in queries for cl in c.get("claims", []) for v in cl.get("values", [])})
        kind = "required" if s.get("required", True) else "optional"
        lines.append(f"Asks ({kind}): credentials showing one of {len(refs)} skill(s)/achievement(s) of the "
                     f"vacancy, in {', '.join(sorted({c['format'] for c in queries}))}")
    return lines


def describe_answers(answers: Iterable[Answer]) -> list[str]:
    """Per credential to be shared: its name, issuer and exactly which of its claims go out."""
    lines = []
    for a in answers:
        what = (", ".join(a.disclose) if a.disclose else "(nothing selectively disclosable)") if a.selective \
            else "the whole credential (it is not selectively disclosable)"
        lines.append(f"  - {a.entry.achievement} from {a.entry.issuer_name} [{a.format}]: {what}")
    return lines
