"""JOSE-secured credentials and presentations (W3C VC-JOSE-COSE, https://www.w3.org/TR/vc-jose-cose/).

A credential secured with JOSE is a compact JWS whose payload IS the credential (VC 2.0: no
``vc``/``vp`` wrapper claim) and whose protected header carries ``alg``, ``kid``,
``typ: vc+jwt`` (``vp+jwt`` for presentations) and ``cty: vc`` (``vp``).

Verification is strict and ordered so that no key is touched before the token is known to be of
an acceptable shape:

1. compact form, canonical base64url (no padding, no unused bits set: one encoding per token),
   strict UTF-8 JSON (no duplicate names, no NaN/Infinity: :mod:`skillcred._internal.strictjson`);
2. ``alg`` in the allow-list (EdDSA, ES256, ES384, ES512). ``none``, HMAC (``HS*``: the classic
   "public key as HMAC secret" confusion), RSA (``RS*``/``PS*``) and ``ES512`` are rejected
   here, before any key is resolved;
3. media type: ``typ`` (and ``cty`` when present) must be the expected one;
4. no ``vc``/``vp`` claims (VC 1.1 JWT style);
5. ``kid`` resolves through the :class:`~skillcred.did.DidResolver` to a verification method
   whose controller is the credential's ``issuer`` (the presentation's ``holder``); a ``kid``
   that is not an absolute URL is looked up in the issuer's controller document (by fragment,
   by the JWK's ``kid`` member, or by its RFC 7638 thumbprint);
6. the key type must be the one ``alg`` names; then the signature, then the proof purpose
   (``assertionMethod`` / ``authentication``) and the validity period;
7. in a presentation, every ``EnvelopedVerifiableCredential`` is unwrapped and verified.

COSE (``application/vc+cose``, a tagged COSE_Sign1 with the credential as JSON payload) gets
the same checks through :func:`verify_cose` (CBOR read by the one strict codec,
:mod:`skillcred._internal.cbor` in COSE mode).

Every failure is a :class:`~skillcred.errors.TokenInvalid` with a named ``reason``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from jwcrypto import jwk as _jwk

from skillcred._internal import cbor, jws, vcjose
from skillcred._internal.vcjose import JoseResult, unwrap_enveloped_credential, unwrap_nested
from skillcred.did import DidResolver
from skillcred.errors import (
    InvalidArgument,
    MalformedDocument,
    TokenInvalid,
    UnsupportedFeature,
)
from skillcred.keys import KeyPair

__all__ = [
    "ALLOWED_ALGORITHMS",
    "JoseResult",
    "envelop_cose_credential",
    "envelop_credential",
    "key_pair_from_jwk",
    "peek_cose",
    "peek_jwt",
    "secure_credential_cose",
    "secure_credential_jwt",
    "secure_presentation_cose",
    "secure_presentation_jwt",
    "sign_jwt",
    "unwrap_enveloped_credential",
    "unwrap_nested",
    "verify_cose",
    "verify_enveloped_credential",
    "verify_jwt",
    "verify_signed_jwt",
]

#: JWS algorithms accepted, and the skillcred key type each one requires.
ALLOWED_ALGORITHMS: dict[str, str] = jws.ALLOWED_ALGORITHMS

# the envelope and COSE pieces this module shares with skillcred._internal.vcjose (their home)
_ENVELOPED = vcjose.ENVELOPED
_COSE_ALG_IDS = vcjose.COSE_ALG_IDS
_cbor_decode = vcjose.cbor_decode
_cose_bytes = vcjose.cose_bytes
_sig_structure = vcjose.sig_structure


# -- issuing -------------------------------------------------------------------------------------


def key_pair_from_jwk(jwk: Mapping[str, Any]) -> KeyPair:
    """A :class:`KeyPair` from a private JWK (OKP Ed25519, EC P-256/P-384/P-521), read with jwcrypto.

    Other key types (P-521, RSA, symmetric) raise :class:`UnsupportedFeature`.
    """
    try:
        key = _jwk.JWK(**{k: v for k, v in jwk.items() if k != "alg"})
        if not key.has_private:
            raise InvalidArgument("the JWK has no private part ('d')")
        raw = key.get_op_key("sign")
    except InvalidArgument:
        raise
    except Exception as exc:
        raise UnsupportedFeature(
            f"JWK kty={jwk.get('kty')!r} crv={jwk.get('crv')!r} cannot be used: {exc}"
        ) from exc
    try:
        return KeyPair.from_cryptography(raw)
    except (UnsupportedFeature, AttributeError, TypeError) as exc:
        raise UnsupportedFeature(
            f"JWK kty={jwk.get('kty')!r} crv={jwk.get('crv')!r} is not supported "
            "(use Ed25519, P-256, P-384 or P-521)"
        ) from exc


def _secure(document: Mapping[str, Any], key: KeyPair, kid: str, kind: Literal["vc", "vp"]) -> str:
    if not isinstance(document, Mapping):
        raise InvalidArgument(f"the {'credential' if kind == 'vc' else 'presentation'} must be a JSON object")
    if not isinstance(key, KeyPair):
        raise InvalidArgument("key must be a skillcred KeyPair (Ed25519, P-256, P-384 or P-521)")
    if not isinstance(kid, str) or not kid:
        raise InvalidArgument("kid must be a non-empty string (the verification method URL)")
    for claim in ("vc", "vp"):
        if claim in document:
            raise InvalidArgument(f"a VC 2.0 JOSE payload must not carry a {claim!r} claim")
    if "proof" in document:
        raise InvalidArgument("the document already has an embedded proof; secure the unsigned one")
    header = {"alg": key.public_key.jws_algorithm, "kid": kid, "typ": f"{kind}+jwt", "cty": kind}
    return jws.sign_jws(header, jws.json_bytes(dict(document)), key)


def secure_credential_jwt(credential: dict[str, Any], key: KeyPair, *, kid: str) -> str:
    """Secure a VC 2.0 credential as ``application/vc+jwt`` (compact JWS; payload = credential)."""
    return _secure(credential, key, kid, "vc")


def secure_presentation_jwt(presentation: dict[str, Any], key: KeyPair, *, kid: str) -> str:
    """Secure a VC 2.0 presentation as ``application/vp+jwt``."""
    return _secure(presentation, key, kid, "vp")


def envelop_credential(token: str, media_type: str = "application/vc+jwt") -> dict[str, Any]:
    """An ``EnvelopedVerifiableCredential`` holding ``token`` as a data: URL (for a presentation)."""
    if media_type not in ("application/vc+jwt", "application/vc+sd-jwt"):
        raise InvalidArgument(f"cannot envelop media type {media_type!r}")
    if not isinstance(token, str) or not token or any(c in token for c in " ,\n"):
        raise InvalidArgument("the token must be a compact serialization")
    return {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "id": f"data:{media_type},{token}",
        "type": _ENVELOPED,
    }


# -- COSE (COSE_Sign1, RFC 9052; VC-JOSE-COSE §3.3) ---------------------------------------------
#
# CBOR is the one strict codec of :mod:`skillcred._internal.cbor` in its COSE mode: definite
# lengths, shortest heads, the types COSE_Sign1 headers and payloads need, bounded depth.


def _secure_cose(document: Mapping[str, Any], key: KeyPair, kid: str, kind: Literal["vc", "vp"]) -> bytes:
    _secure(document, key, kid, kind)  # same argument checks as JOSE (result discarded)
    protected = cbor.encode({
        1: _COSE_ALG_IDS[key.public_key.jws_algorithm],
        3: f"application/{kind}",
        4: kid.encode("utf-8"),
        16: f"application/{kind}+cose",
    }, cose=True)
    payload = jws.json_bytes(dict(document))
    signature = key.sign(_sig_structure(protected, payload))
    return b"\xd2" + cbor.encode([protected, {}, payload, signature], cose=True)


def secure_credential_cose(credential: dict[str, Any], key: KeyPair, *, kid: str) -> bytes:
    """Secure a credential as ``application/vc+cose`` (tagged COSE_Sign1, CBOR bytes)."""
    return _secure_cose(credential, key, kid, "vc")


def secure_presentation_cose(presentation: dict[str, Any], key: KeyPair, *, kid: str) -> bytes:
    """Secure a presentation as ``application/vp+cose``."""
    return _secure_cose(presentation, key, kid, "vp")


def envelop_cose_credential(data: bytes) -> dict[str, Any]:
    """An ``EnvelopedVerifiableCredential`` for a COSE credential (base64 data: URL, §3.3.1)."""
    return {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "id": "data:application/vc+cose;base64," + base64.b64encode(data).decode("ascii"),
        "type": _ENVELOPED,
    }


# -- verifying (the code is in skillcred._internal.vcjose, below this module and skillcred.sdjwt) --

def _verify_sd_jwt(*args: Any, **kwargs: Any) -> Any:
    """:func:`skillcred.sdjwt.verify_sd_jwt`, loaded when a presentation envelops a vc+sd-jwt
    (sdjwt builds on the same core and never imports this module: no cycle)."""
    from skillcred.sdjwt import verify_sd_jwt

    return verify_sd_jwt(*args, **kwargs)


def verify_enveloped_credential(
    obj: Any, *, resolver: DidResolver, at: datetime | None = None, check_times: bool = True
) -> Any:
    """Unwrap and verify one ``EnvelopedVerifiableCredential`` (vc+jwt, vc+sd-jwt, vc+cose);
    ``check_times=False`` leaves out exp/nbf/validity (``verify --proof-only``)."""
    return vcjose.verify_enveloped_credential(obj, resolver=resolver, at=at, check_times=check_times,
                                              verify_sd_jwt=_verify_sd_jwt)


def verify_jwt(
    token: str,
    *,
    resolver: DidResolver,
    expected_typ: Literal["vc+jwt", "vp+jwt"],
    purpose: str | None = None,
    at: datetime | None = None,
    verify_credentials: bool = True,
    skip_unsupported: bool = False,
    check_times: bool = True,
    unsafe_skip_party_binding: bool = False,
) -> JoseResult:
    """Verify a ``vc+jwt`` or ``vp+jwt`` (see the module docstring for the order of checks).

    ``purpose`` defaults to ``assertionMethod`` for credentials and ``authentication`` for
    presentations. A presentation's enveloped credentials are verified too
    (``verify_credentials``; with ``False`` they are only unwrapped, so a malformed one still
    fails); with ``skip_unsupported=True`` a COSE one is listed in ``unverified`` instead of
    raising :class:`UnsupportedFeature`. ``unsafe_skip_party_binding`` (``verify
    --proof-only``, warns) accepts a key of any controller the resolver holds: the signature
    alone, as a Data Integrity proof-only check.
    """
    return vcjose.verify_jwt(token, resolver=resolver, expected_typ=expected_typ, purpose=purpose, at=at,
                             verify_credentials=verify_credentials, skip_unsupported=skip_unsupported,
                             check_times=check_times, unsafe_skip_party_binding=unsafe_skip_party_binding,
                             verify_sd_jwt=_verify_sd_jwt)


def verify_cose(
    data: bytes | str,
    *,
    resolver: DidResolver,
    expected_typ: Literal["vc+cose", "vp+cose"],
    purpose: str | None = None,
    at: datetime | None = None,
    verify_credentials: bool = True,
    skip_unsupported: bool = False,
    check_times: bool = True,
    unsafe_skip_party_binding: bool = False,
) -> JoseResult:
    """Verify an ``application/vc+cose`` / ``vp+cose`` COSE_Sign1 (bytes, or base64 text).

    Same checks as :func:`verify_jwt`; ``header`` in the result holds the protected header
    with its integer labels.
    """
    return vcjose.verify_cose(data, resolver=resolver, expected_typ=expected_typ, purpose=purpose, at=at,
                              verify_credentials=verify_credentials, skip_unsupported=skip_unsupported,
                              check_times=check_times, unsafe_skip_party_binding=unsafe_skip_party_binding,
                              verify_sd_jwt=_verify_sd_jwt)


def peek_cose(data: bytes | str) -> tuple[str | None, dict[str, Any] | None]:
    """The declared media type (protected label 16) and the JSON payload of a COSE_Sign1,
    read WITHOUT verifying anything: for telling formats apart (``skillcred.secured``), never
    for trusting what it says. Anything unreadable gives ``(None, None)``."""
    try:
        msg = _cbor_decode(_cose_bytes(data))
        if isinstance(msg, cbor.Tag):
            msg = msg.value
        if not (isinstance(msg, list) and len(msg) == 4 and isinstance(msg[0], bytes) and isinstance(msg[2], bytes)):
            return None, None
        protected = _cbor_decode(msg[0]) if msg[0] else {}
        typ = protected.get(16) if isinstance(protected, dict) else None
        claims = jws.json_loads(msg[2], "COSE payload")
    except (TokenInvalid, MalformedDocument):
        return None, None
    return (typ if isinstance(typ, str) else None), (claims if isinstance(claims, dict) else None)


def sign_jwt(payload: Mapping[str, Any], key: KeyPair, *, kid: str, typ: str) -> str:
    """A compact JWS of any JSON object (``alg`` from the key, ``kid``, ``typ``): for tokens
    that are not credentials, such as a Token Status List (``statuslist+jwt``)."""
    if not isinstance(payload, Mapping):
        raise InvalidArgument("payload must be a JSON object")
    header = {"alg": key.public_key.jws_algorithm, "kid": kid, "typ": typ}
    return jws.sign_jws(header, jws.json_bytes(dict(payload)), key)


def verify_signed_jwt(token: str, *, resolver: DidResolver, expected_typ: str, party: str,
                      purpose: str = "assertionMethod", what: str = "token") -> tuple[dict[str, Any], Any]:
    """Verify a compact JWS that is not a credential: ``alg`` allow-list, ``typ``, ``kid``
    resolved to a key controlled by ``party`` and listed under ``purpose``, signature. Returns
    ``(header, payload)``; claims and times are the caller's to judge."""
    parsed = jws.parse_compact(token, what)
    jws.check_media_type(parsed.header, expected_typ, what)
    method = jws.resolve_kid(resolver, parsed.header.get("kid"), party, what)
    jws.verify_signature(parsed, method, what)
    jws.check_purpose(method, purpose, what)
    return parsed.header, parsed.payload


def peek_jwt(token: str, what: str = "token") -> tuple[dict[str, Any], Any]:
    """``(header, payload)`` of a compact JWS, checked for shape and ``alg`` but NOT verified."""
    parsed = jws.parse_compact(token, what)
    return parsed.header, parsed.payload
