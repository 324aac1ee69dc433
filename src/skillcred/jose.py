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
import binascii
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from jwcrypto import jwk as _jwk

from skillcred._internal import cbor, jws
from skillcred.did import DidResolver, ResolvedMethod
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

_ENVELOPED = "EnvelopedVerifiableCredential"


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


def unwrap_enveloped_credential(obj: Any, *, envelope_type: str = _ENVELOPED) -> tuple[str, str]:
    """``(media_type, token)`` of an ``EnvelopedVerifiableCredential`` (not verified);
    ``envelope_type="EnvelopedVerifiablePresentation"`` unwraps an enveloped presentation."""
    if not isinstance(obj, Mapping):
        raise TokenInvalid("credential_not_enveloped", "a credential in a presentation is not an object")
    types = obj.get("type")
    types = [types] if isinstance(types, str) else types
    if not isinstance(types, list) or envelope_type not in types:
        raise TokenInvalid(
            "credential_not_enveloped",
            f"credentials in a JOSE/SD-JWT presentation must be {envelope_type}",
        )
    url = obj.get("id")
    if not isinstance(url, str) or not url.startswith("data:") or "," not in url:
        raise TokenInvalid("enveloped_credential_malformed", "the enveloped credential's id is not a data: URL")
    meta, _, data = url[len("data:"):].partition(",")
    params = meta.split(";")
    media_type = params[0].strip().lower()
    if "base64" in params[1:]:
        if media_type in ("application/vc+cose", "application/vp+cose"):
            return media_type, data
        raise TokenInvalid("enveloped_credential_malformed", f"{media_type} is not carried as base64")
    if media_type in ("application/vc+cose", "application/vp+cose"):
        raise TokenInvalid("enveloped_credential_malformed", "a COSE credential must be base64 in its data: URL")
    return media_type, urllib.parse.unquote(data)


@dataclass(frozen=True)
class JoseResult:
    """A verified ``vc+jwt`` / ``vp+jwt``."""

    payload: dict[str, Any]
    header: dict[str, Any]
    kid: str
    verification_method: str
    controller: str
    #: verified enveloped credentials of a presentation (JoseResult or SdJwtResult), in order
    credentials: tuple[Any, ...] = field(default=())
    #: media types of enveloped credentials not verified (only with ``skip_unsupported=True``)
    unverified: tuple[str, ...] = field(default=())


def verify_enveloped_credential(
    obj: Any, *, resolver: DidResolver, at: datetime | None = None, check_times: bool = True
) -> Any:
    """Unwrap and verify one ``EnvelopedVerifiableCredential`` (vc+jwt, vc+sd-jwt, vc+cose);
    ``check_times=False`` leaves out exp/nbf/validity (``verify --proof-only``)."""
    media_type, token = unwrap_enveloped_credential(obj)
    if media_type == "application/vc+jwt":
        return verify_jwt(token, resolver=resolver, expected_typ="vc+jwt", at=at, check_times=check_times)
    if media_type == "application/vc+sd-jwt":
        from skillcred.sdjwt import verify_sd_jwt

        return verify_sd_jwt(
            token, resolver=resolver, expected_nonce=None, expected_aud=None,
            require_key_binding=False, at=at, expected_typ="vc+sd-jwt", check_times=check_times,
        )
    if media_type == "application/vc+cose":
        return verify_cose(token, resolver=resolver, expected_typ="vc+cose", at=at, check_times=check_times)
    raise TokenInvalid("enveloped_credential_malformed", f"unknown enveloped media type {media_type!r}")


def verify_nested(
    claims: Mapping[str, Any], resolver: DidResolver, at: datetime, skip_unsupported: bool,
    check_times: bool = True,
) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    vcs = claims.get("verifiableCredential", [])
    vcs = vcs if isinstance(vcs, list) else [vcs]
    verified: list[Any] = []
    unverified: list[str] = []
    for i, obj in enumerate(vcs):
        try:
            verified.append(verify_enveloped_credential(obj, resolver=resolver, at=at, check_times=check_times))
        except UnsupportedFeature:
            if not skip_unsupported:
                raise
            unverified.append(unwrap_enveloped_credential(obj)[0])
        except TokenInvalid as exc:
            raise TokenInvalid(
                "credential_invalid", f"verifiableCredential[{i}]: {exc.message}"
            ) from exc
    return tuple(verified), tuple(unverified)


def unwrap_nested(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The media types of a presentation's enveloped credentials, each unwrapped (a malformed
    envelope raises ``credential_invalid``) but not verified."""
    vcs = claims.get("verifiableCredential", [])
    out: list[str] = []
    for i, obj in enumerate(vcs if isinstance(vcs, list) else [vcs]):
        try:
            out.append(unwrap_enveloped_credential(obj)[0])
        except TokenInvalid as exc:
            raise TokenInvalid("credential_invalid", f"verifiableCredential[{i}]: {exc.message}") from exc
    return tuple(out)


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
    if expected_typ not in ("vc+jwt", "vp+jwt"):
        raise InvalidArgument("expected_typ must be 'vc+jwt' or 'vp+jwt'")
    kind = expected_typ[:2]
    what = "credential" if kind == "vc" else "presentation"
    when = jws.as_utc(at)
    parsed = jws.parse_compact(token, what)
    jws.check_media_type(parsed.header, expected_typ, what)
    claims = parsed.payload
    if not isinstance(claims, dict):
        raise TokenInvalid("malformed", f"{what} payload is not a JSON object")
    for claim in ("vc", "vp"):
        if claim in claims:
            raise TokenInvalid(
                "vc_vp_claim_present",
                f"{what} payload has a {claim!r} claim (VC 1.1 JWT style, forbidden in VC-JOSE-COSE)",
            )
    types = claims.get("type")
    types = [types] if isinstance(types, str) else types
    wanted = "VerifiableCredential" if kind == "vc" else "VerifiablePresentation"
    if not isinstance(types, list) or wanted not in types:
        raise TokenInvalid("type_invalid", f"{what} type does not include {wanted}")
    party = jws.controller_claim(claims, "issuer" if kind == "vc" else "holder")
    jws.unsafe_party_binding(unsafe_skip_party_binding, what)
    method = jws.resolve_kid(resolver, parsed.header.get("kid"), None if unsafe_skip_party_binding else party, what)
    jws.verify_signature(parsed, method, what)
    return _finish(claims, parsed.header, str(parsed.header["kid"]), method, kind=kind, purpose=purpose,
                   what=what, when=when, resolver=resolver, verify_credentials=verify_credentials,
                   skip_unsupported=skip_unsupported, check_times=check_times)


def _finish(
    claims: dict[str, Any], header: dict[str, Any], kid: str, method: ResolvedMethod, *, kind: str,
    purpose: str | None, what: str, when: datetime, resolver: DidResolver, verify_credentials: bool,
    skip_unsupported: bool, check_times: bool = True,
) -> JoseResult:
    """The checks after the signature, shared by JWT and COSE: purpose, times (unless
    ``check_times`` is off: a proof-only check), nested credentials."""
    jws.check_purpose(method, purpose or ("assertionMethod" if kind == "vc" else "authentication"), what)
    jws.check_times(claims, when, what, compare=check_times)
    nested: tuple[Any, ...] = ()
    unverified: tuple[str, ...] = ()
    if kind == "vp" and verify_credentials:
        nested, unverified = verify_nested(claims, resolver, when, skip_unsupported, check_times)
    elif kind == "vp":
        unwrap_nested(claims)
    return JoseResult(payload=claims, header=header, kid=kid, verification_method=method.id,
                      controller=method.controller, credentials=nested, unverified=unverified)


# -- COSE (COSE_Sign1, RFC 9052; VC-JOSE-COSE §3.3) ---------------------------------------------
#
# CBOR is the one strict codec of :mod:`skillcred._internal.cbor` in its COSE mode: definite
# lengths, shortest heads, the types COSE_Sign1 headers and payloads need, bounded depth.

_COSE_ALGS: dict[int, str] = {-8: "EdDSA", -7: "ES256", -35: "ES384", -36: "ES512"}
_COSE_ALG_IDS = {v: k for k, v in _COSE_ALGS.items()}
_COSE_SIGN1_TAG = 18


def _cbor_decode(data: bytes) -> Any:
    """The shared strict CBOR reader (:mod:`skillcred._internal.cbor`, COSE mode); its error
    becomes this module's ``TokenInvalid`` so a bad COSE message fails like a bad JWS."""
    try:
        return cbor.decode(data, cose=True)
    except cbor.CBORError as exc:
        raise TokenInvalid("malformed", f"COSE: {exc}") from exc


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor.encode(["Signature1", protected, b"", payload], cose=True)


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


def _cose_bytes(data: bytes | str) -> bytes:
    if isinstance(data, bytes):
        return data
    if not isinstance(data, str):
        raise TokenInvalid("malformed", "COSE input must be bytes or base64 text")
    text = "".join(data.split())
    if not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text):
        raise TokenInvalid("malformed", "COSE input is not base64")
    text = text.rstrip("=")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TokenInvalid("malformed", "COSE input is not base64") from exc
    if base64.b64encode(raw).rstrip(b"=").decode("ascii") != text:  # one encoding per COSE message
        raise TokenInvalid("malformed", "COSE input is not canonical base64 (non-zero unused bits)")
    return raw


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
    if expected_typ not in ("vc+cose", "vp+cose"):
        raise InvalidArgument("expected_typ must be 'vc+cose' or 'vp+cose'")
    kind = expected_typ[:2]
    what = "credential" if kind == "vc" else "presentation"
    when = jws.as_utc(at)
    raw = _cose_bytes(data)
    if len(raw) > jws.MAX_TOKEN:
        raise TokenInvalid("malformed", f"{what} is too large")
    msg = _cbor_decode(raw)
    if isinstance(msg, cbor.Tag):
        if msg.number != _COSE_SIGN1_TAG:
            raise TokenInvalid("malformed", f"{what}: CBOR tag {msg.number} is not COSE_Sign1 (18)")
        msg = msg.value
    if not (isinstance(msg, list) and len(msg) == 4 and isinstance(msg[0], bytes)
            and isinstance(msg[1], dict) and isinstance(msg[2], bytes) and isinstance(msg[3], bytes)):
        raise TokenInvalid("malformed", f"{what} is not a COSE_Sign1 [protected, unprotected, payload, signature]")
    protected_raw, unprotected, payload_raw, signature = msg
    protected = _cbor_decode(protected_raw) if protected_raw else {}
    if not isinstance(protected, dict):
        raise TokenInvalid("malformed", f"{what} protected header is not a map")
    if 1 in unprotected or 4 in unprotected or 16 in unprotected:
        raise TokenInvalid("malformed", f"{what}: alg/kid/typ must be in the protected header")
    alg_id = protected.get(1)
    if alg_id not in _COSE_ALGS:
        raise TokenInvalid("alg_not_allowed",
                           f"{what}: COSE algorithm {alg_id!r} is not allowed (EdDSA, ES256, ES384, ES512)")
    if 2 in protected:
        raise TokenInvalid("crit_not_understood", f"{what} protected header has 'crit'")
    if not jws.media_type_equal(protected.get(16), expected_typ):
        raise TokenInvalid("media_type_invalid", f"{what} typ is {protected.get(16)!r}, expected {expected_typ}")
    if 3 in protected and not jws.media_type_equal(protected[3], kind):
        raise TokenInvalid("media_type_invalid",
                           f"{what} content type is {protected[3]!r}, expected application/{kind}")
    claims = jws.json_loads(payload_raw, f"{what} payload")
    if not isinstance(claims, dict):
        raise TokenInvalid("malformed", f"{what} payload is not a JSON object")
    for claim in ("vc", "vp"):
        if claim in claims:
            raise TokenInvalid("vc_vp_claim_present", f"{what} payload has a {claim!r} claim")
    types = claims.get("type")
    types = [types] if isinstance(types, str) else types
    wanted = "VerifiableCredential" if kind == "vc" else "VerifiablePresentation"
    if not isinstance(types, list) or wanted not in types:
        raise TokenInvalid("type_invalid", f"{what} type does not include {wanted}")
    kid_raw = protected.get(4)
    try:
        kid = kid_raw.decode("utf-8") if isinstance(kid_raw, bytes) else kid_raw
    except UnicodeDecodeError:
        kid = None
    party = jws.controller_claim(claims, "issuer" if kind == "vc" else "holder")
    jws.unsafe_party_binding(unsafe_skip_party_binding, what)
    method = jws.resolve_kid(resolver, kid, None if unsafe_skip_party_binding else party, what)
    alg = _COSE_ALGS[alg_id]
    if method.public_key.key_type != ALLOWED_ALGORITHMS[alg]:
        raise TokenInvalid("alg_key_mismatch", f"{what} alg {alg} does not fit the {method.public_key.key_type} key")
    if not method.public_key.verify(signature, _sig_structure(protected_raw, payload_raw)):
        raise TokenInvalid("signature_invalid", f"{what} signature does not verify")
    return _finish(claims, {str(k): v for k, v in protected.items()}, str(kid), method, kind=kind,
                   purpose=purpose, what=what, when=when, resolver=resolver,
                   verify_credentials=verify_credentials, skip_unsupported=skip_unsupported,
                   check_times=check_times)


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
