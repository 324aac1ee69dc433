"""OpenID4VP 1.0 authorization requests: signed request objects (JAR, RFC 9101) and request URIs.

The verifier's client id is ``decentralized_identifier:<DID>`` (OpenID4VP 1.0 §5.9.3): the
request object is signed with a key of that DID (the ``kid`` is a DID URL of it), so a wallet
that resolves the DID knows who asks, without any registration. did:key resolves offline; a
did:web verifier's document is given to the wallet (``--verifier-did-document``, or kept in
the wallet), never fetched here; the ``kid`` must be listed for ``authentication`` or
``assertionMethod`` (:mod:`skillcred.oid4vp._didweb`).
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from skillcred._internal import base64url
from skillcred._internal.timeutil import utcnow
from skillcred._internal.urlpolicy import url_refusal
from skillcred.did import DidResolver
from skillcred.errors import InvalidArgument, Oid4vpRequestInvalid, ResolutionError, UnsupportedFeature
from skillcred.jose import ALLOWED_ALGORITHMS
from skillcred.keys import KeyPair
from skillcred.oid4vp._dcql import FORMATS, check_query
from skillcred.oid4vp._didweb import REQUEST_KEY_PURPOSES, authorized_for_requests

REQUEST_TYP = "oauth-authz-req+jwt"
CLIENT_ID_PREFIX = "decentralized_identifier:"
#: the ``aud`` of a request object for a wallet not known in advance (OpenID4VP 1.0 §5.8)
WALLET_AUDIENCE = "https://self-issued.me/v2"
RESPONSE_MODES = ("direct_post",)
#: a request object larger than this is refused unread (a QR-code request is a few KiB)
MAX_REQUEST_OBJECT = 256 * 1024
#: how long a request object (and the transaction it opens) is answerable, by default
DEFAULT_TTL = 600
#: clock skew allowed on iat/exp
_LEEWAY = 60


def client_id_for(did: str) -> str:
    """The OpenID4VP client id of a verifier identified by ``did`` (did:key or did:web)."""
    if not isinstance(did, str) or not did.startswith(("did:key:", "did:web:")):
        raise InvalidArgument(f"a verifier is identified by a did:key or did:web, not {did!r}")
    return CLIENT_ID_PREFIX + did


def new_request_payload(
    *,
    client_id: str,
    response_uri: str,
    dcql_query: Mapping[str, Any],
    purpose: str | None = None,
    client_name: str | None = None,
    nonce: str | None = None,
    state: str | None = None,
    ttl: int = DEFAULT_TTL,
    now: datetime | None = None,
    formats: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The claims of a request object: a fresh ``nonce`` and ``state`` (128 bits each) unless
    given, ``response_mode`` ``direct_post`` to ``response_uri``, the DCQL query, and the
    verifier metadata (its name, the formats it takes). ``purpose`` is shown to the worker."""
    if not client_id.startswith(CLIENT_ID_PREFIX):
        raise InvalidArgument(f"client_id must start with {CLIENT_ID_PREFIX}")
    check_query(dcql_query)
    at = int((now or utcnow()).timestamp())
    used = sorted({cq["format"] for cq in dcql_query["credentials"]} if formats is None else set(formats))
    metadata: dict[str, Any] = {"vp_formats_supported": {f: dict(FORMATS[f].vp_formats_supported) for f in used}}
    if client_name:
        metadata["client_name"] = client_name
    # no "iss": JAR allows it, but with a decentralized_identifier: client id wallets compare it
    # with the kid's DID (@openid4vc/openid4vp refuses the prefixed value); client_id says who asks
    payload: dict[str, Any] = {
        "aud": WALLET_AUDIENCE,
        "client_id": client_id,
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": response_uri,
        "nonce": nonce or secrets.token_urlsafe(16),
        "state": state or secrets.token_urlsafe(16),
        "dcql_query": dict(dcql_query),
        "client_metadata": metadata,
        "iat": at,
        "exp": at + ttl,
    }
    if purpose:
        # shown to the worker before consent; not a registered parameter, so namespaced
        payload["skillcred_purpose"] = purpose
    return payload


def sign_request_object(payload: Mapping[str, Any], key: KeyPair, *, kid: str) -> str:
    """The compact JWS (``typ: oauth-authz-req+jwt``) of ``payload``, signed with ``key``.

    ``kid`` must be a DID URL of the DID in ``payload["client_id"]`` (the wallet checks it)."""
    client_id = str(payload.get("client_id", ""))
    did = client_id.removeprefix(CLIENT_ID_PREFIX)
    if not client_id.startswith(CLIENT_ID_PREFIX) or not kid.startswith(did + "#"):
        raise InvalidArgument("the request object's kid must be a DID URL of the client_id's DID")
    header = {"alg": key.public_key.jws_algorithm, "kid": kid, "typ": REQUEST_TYP}
    signing_input = (base64url.encode(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + base64url.encode(json.dumps(dict(payload), separators=(",", ":"),
                                                   ensure_ascii=False).encode()))
    return signing_input + "." + base64url.encode(key.sign(signing_input.encode("ascii")))


def _part(text: str, what: str) -> Any:
    try:
        return json.loads(base64url.decode(text))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Oid4vpRequestInvalid("request_malformed", f"the request object's {what} is not base64url JSON") from exc


def verify_request_object(
    token: str | bytes,
    *,
    expected_client_id: str | None = None,
    did_documents: Iterable[Mapping[str, Any]] = (),
    at: datetime | None = None,
) -> dict[str, Any]:
    """The claims of a signed request object, after every check a wallet makes before showing
    it to the worker; :class:`Oid4vpRequestInvalid` naming the first that fails.

    Checked: size; a compact JWS with ``typ`` ``oauth-authz-req+jwt`` and an allowed ``alg``;
    ``client_id`` with the ``decentralized_identifier:`` prefix, equal to ``expected_client_id``
    (the one in the URI the worker scanned); the ``kid`` a DID URL of that DID, resolved (did:key
    offline, did:web from ``did_documents`` only), listed for authentication or assertionMethod,
    and the signature valid with it; ``iat``/``exp``
    (``aud`` is not compared: see the code);
    ``response_type`` ``vp_token``, ``response_mode`` ``direct_post`` with an http(s)
    ``response_uri``; ``nonce`` and ``state``; a DCQL query this wallet can evaluate.
    """
    if isinstance(token, bytes):
        token = token.decode("ascii", errors="replace")
    token = token.strip()
    if len(token) > MAX_REQUEST_OBJECT:
        raise Oid4vpRequestInvalid("request_too_large", f"the request object is larger than {MAX_REQUEST_OBJECT} bytes")
    parts = token.split(".")
    if len(parts) != 3:
        raise Oid4vpRequestInvalid("request_malformed", "the request object is not a compact JWS (a signed JWT)")
    header, payload = _part(parts[0], "header"), _part(parts[1], "payload")
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise Oid4vpRequestInvalid("request_malformed", "the request object's header or payload is not a JSON object")
    if header.get("typ") != REQUEST_TYP:
        raise Oid4vpRequestInvalid("request_typ_invalid", f"typ is {header.get('typ')!r}, expected {REQUEST_TYP}")
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise Oid4vpRequestInvalid("request_alg_not_allowed", f"alg {alg!r} is not allowed (an unsigned request "
                                   "could come from anyone)")
    client_id = payload.get("client_id")
    if not isinstance(client_id, str) or not client_id.startswith(CLIENT_ID_PREFIX):
        raise Oid4vpRequestInvalid("client_id_unsupported", f"client_id {client_id!r} is not a "
                                   f"{CLIENT_ID_PREFIX} client id")
    if expected_client_id is not None and client_id != expected_client_id:
        raise Oid4vpRequestInvalid("client_id_mismatch", f"the request object is from {client_id}, but the request "
                                   f"URI named {expected_client_id}")
    did = client_id[len(CLIENT_ID_PREFIX):]
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid.startswith(did + "#"):
        raise Oid4vpRequestInvalid("client_id_mismatch", f"the request object is signed with {kid!r}, which is not a "
                                   f"key of {did}")
    try:
        resolver = DidResolver(did_documents)
    except InvalidArgument as exc:
        raise Oid4vpRequestInvalid("client_id_unresolved", f"a DID document given for the verifier is unusable: "
                                   f"{exc.message}") from exc
    if did.startswith("did:web:") and did not in resolver.known():
        # never fetched (see skillcred.oid4vp._didweb): the worker is given the document
        raise Oid4vpRequestInvalid("client_id_unresolved", f"the verifier {did} is a did:web whose DID document "
                                   "this wallet does not hold (a wallet never fetches it): get it from the "
                                   "employer and pass --verifier-did-document FILE")
    try:
        method = resolver.resolve_method(kid)
    except (ResolutionError, UnsupportedFeature, InvalidArgument) as exc:
        raise Oid4vpRequestInvalid("client_id_unresolved", f"cannot resolve the verifier's key {kid}: "
                                   f"{exc.message}") from exc
    if not authorized_for_requests(method):
        raise Oid4vpRequestInvalid("request_key_not_authorized", f"{kid} is not listed for "
                                   f"{' or '.join(REQUEST_KEY_PURPOSES)} in the DID document of {did}: it does "
                                   "not speak for that verifier")
    if method.public_key.key_type != ALLOWED_ALGORITHMS[alg]:
        raise Oid4vpRequestInvalid("request_signature_invalid", "alg does not fit the verifier's key")
    try:
        signature = base64url.decode(parts[2])
    except ValueError as exc:
        raise Oid4vpRequestInvalid("request_malformed", "the signature is not base64url") from exc
    if not method.public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii")):
        raise Oid4vpRequestInvalid("request_signature_invalid", "the request object's signature does not verify "
                                   f"with {kid}: it was altered or not made by {did}")
    now = (at or utcnow()).timestamp()
    exp, iat = payload.get("exp"), payload.get("iat")
    if isinstance(exp, bool) or not isinstance(exp, int | float) or now > exp + _LEEWAY:
        raise Oid4vpRequestInvalid("request_expired", "the request has expired (or has no exp): ask the employer "
                                   "for a new one")
    if isinstance(iat, int | float) and not isinstance(iat, bool) and iat > now + _LEEWAY:
        raise Oid4vpRequestInvalid("request_not_yet_valid", "the request's iat is in the future")
    # ``aud`` is not compared: a wallet answering a QR code has no identity a verifier could name
    # (verifiers write https://self-issued.me/v2, or their request_uri as @openid4vc/openid4vp does)
    if payload.get("response_type") != "vp_token":
        raise Oid4vpRequestInvalid("response_type_unsupported", "response_type is not vp_token")
    if payload.get("response_mode") not in RESPONSE_MODES:
        raise Oid4vpRequestInvalid("response_mode_unsupported", f"response_mode {payload.get('response_mode')!r} is "
                                   f"not supported ({', '.join(RESPONSE_MODES)})")
    uri = payload.get("response_uri")
    if not isinstance(uri, str) or urllib.parse.urlsplit(uri).scheme not in ("http", "https") \
            or not urllib.parse.urlsplit(uri).netloc:
        raise Oid4vpRequestInvalid("response_uri_invalid", "response_uri is not an http(s) URL")
    if url_refusal(uri, unsafe_allow_http_loopback=True) is not None:  # loopback http: the sender decides
        raise Oid4vpRequestInvalid("response_uri_invalid", "response_uri is plain http to another machine "
                                   "(only https is accepted)")
    for name in ("nonce", "state"):
        if not isinstance(payload.get(name), str) or not payload[name]:
            raise Oid4vpRequestInvalid("request_malformed", f"the request has no {name}")
    try:
        check_query(payload.get("dcql_query"))
    except InvalidArgument as exc:
        raise Oid4vpRequestInvalid("dcql_query_invalid", exc.message) from exc
    return payload


def request_uri_for(client_id: str, request_uri: str) -> str:
    """The ``openid4vp://`` URI a QR code carries: the client id and where to fetch the request."""
    return "openid4vp://?" + urllib.parse.urlencode({"client_id": client_id, "request_uri": request_uri})


def parse_request_uri(uri: str) -> tuple[str | None, str]:
    """``(client_id, request_uri)`` of an ``openid4vp://`` (or ``https://``-wallet) request URI, or
    a bare ``http(s)`` request_uri (client id then unknown). :class:`InvalidArgument` otherwise."""
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidArgument("the request URI is empty")
    parts = urllib.parse.urlsplit(uri.strip())
    query = urllib.parse.parse_qs(parts.query)
    if "request_uri" in query:
        ru = query["request_uri"][0]
        cid = query.get("client_id", [None])[0]
        if urllib.parse.urlsplit(ru).scheme not in ("http", "https"):
            raise InvalidArgument("the request_uri in the request URI is not an http(s) URL")
        return cid, ru
    if parts.scheme in ("http", "https") and parts.netloc:
        return None, uri.strip()
    if "request" in query or "dcql_query" in query:
        raise InvalidArgument("the request URI carries the request by value; only signed requests by reference "
                              "(request_uri) are accepted")
    raise InvalidArgument("not an OpenID4VP request URI (openid4vp://?client_id=...&request_uri=...)")
