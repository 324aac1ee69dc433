"""The VC-JOSE-COSE core below :mod:`skillcred.jose` and :mod:`skillcred.sdjwt`: verifying a
``vc+jwt``/``vp+jwt`` and a COSE_Sign1, opening an ``EnvelopedVerifiableCredential``, and the
one dispatcher that verifies the credentials a presentation envelops.

Why here: a ``vp+jwt`` may envelop a ``vc+sd-jwt`` and a ``vp+sd-jwt`` a ``vc+jwt``, so each
format's presentation verifier needs the other's credential verifier. With this code in
``jose`` the two public modules imported each other (at call time). Here it imports neither:
``sdjwt`` builds on this module, ``jose`` on both, and the SD-JWT verifier reaches the
dispatcher as an argument (``verify_sd_jwt``). The public names and their documentation are
those of :mod:`skillcred.jose`.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from skillcred._internal import cbor, jws
from skillcred.did import DidResolver, ResolvedMethod
from skillcred.errors import InvalidArgument, TokenInvalid, UnsupportedFeature

#: :func:`skillcred.sdjwt.verify_sd_jwt`, as the dispatcher calls it for an enveloped vc+sd-jwt
SdJwtVerifier = Callable[..., Any]


ENVELOPED = "EnvelopedVerifiableCredential"


def unwrap_enveloped_credential(obj: Any, *, envelope_type: str = ENVELOPED) -> tuple[str, str]:
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
    obj: Any, *, resolver: DidResolver, at: datetime | None = None, check_times: bool = True,
    verify_sd_jwt: SdJwtVerifier,
) -> Any:
    """Unwrap and verify one ``EnvelopedVerifiableCredential`` (vc+jwt, vc+sd-jwt, vc+cose);
    ``check_times=False`` leaves out exp/nbf/validity (``verify --proof-only``); a vc+sd-jwt
    goes to ``verify_sd_jwt`` (:func:`skillcred.sdjwt.verify_sd_jwt`, given by the caller)."""
    media_type, token = unwrap_enveloped_credential(obj)
    if media_type == "application/vc+jwt":
        return verify_jwt(token, resolver=resolver, expected_typ="vc+jwt", at=at, check_times=check_times)
    if media_type == "application/vc+sd-jwt":
        return verify_sd_jwt(
            token, resolver=resolver, expected_nonce=None, expected_aud=None,
            require_key_binding=False, at=at, expected_typ="vc+sd-jwt", check_times=check_times,
        )
    if media_type == "application/vc+cose":
        return verify_cose(token, resolver=resolver, expected_typ="vc+cose", at=at, check_times=check_times)
    raise TokenInvalid("enveloped_credential_malformed", f"unknown enveloped media type {media_type!r}")


def verify_nested(
    claims: Mapping[str, Any], resolver: DidResolver, at: datetime, skip_unsupported: bool,
    check_times: bool = True, *, verify_sd_jwt: SdJwtVerifier,
) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """Verify each enveloped credential of a presentation's ``claims`` (see
    :func:`verify_enveloped_credential`); an unsupported one is listed when ``skip_unsupported``."""
    vcs = claims.get("verifiableCredential", [])
    vcs = vcs if isinstance(vcs, list) else [vcs]
    verified: list[Any] = []
    unverified: list[str] = []
    for i, obj in enumerate(vcs):
        try:
            verified.append(verify_enveloped_credential(obj, resolver=resolver, at=at, check_times=check_times,
                                                        verify_sd_jwt=verify_sd_jwt))
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
    verify_sd_jwt: SdJwtVerifier | None = None,
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
    return finish(claims, parsed.header, str(parsed.header["kid"]), method, kind=kind, purpose=purpose,
                   what=what, when=when, resolver=resolver, verify_credentials=verify_credentials,
                   skip_unsupported=skip_unsupported, check_times=check_times, verify_sd_jwt=verify_sd_jwt)


def finish(
    claims: dict[str, Any], header: dict[str, Any], kid: str, method: ResolvedMethod, *, kind: str,
    purpose: str | None, what: str, when: datetime, resolver: DidResolver, verify_credentials: bool,
    skip_unsupported: bool, check_times: bool = True, verify_sd_jwt: SdJwtVerifier | None = None,
) -> JoseResult:
    """The checks after the signature, shared by JWT and COSE: purpose, times (unless
    ``check_times`` is off: a proof-only check), nested credentials."""
    jws.check_purpose(method, purpose or ("assertionMethod" if kind == "vc" else "authentication"), what)
    jws.check_times(claims, when, what, compare=check_times)
    nested: tuple[Any, ...] = ()
    unverified: tuple[str, ...] = ()
    if kind == "vp" and verify_credentials:
        if verify_sd_jwt is None:
            raise InvalidArgument("verifying a presentation's credentials needs verify_sd_jwt")
        nested, unverified = verify_nested(claims, resolver, when, skip_unsupported, check_times,
                                           verify_sd_jwt=verify_sd_jwt)
    elif kind == "vp":
        unwrap_nested(claims)
    return JoseResult(payload=claims, header=header, kid=kid, verification_method=method.id,
                      controller=method.controller, credentials=nested, unverified=unverified)


COSE_ALGS: dict[int, str] = {-8: "EdDSA", -7: "ES256", -35: "ES384", -36: "ES512"}


COSE_ALG_IDS = {v: k for k, v in COSE_ALGS.items()}


COSE_SIGN1_TAG = 18


def cbor_decode(data: bytes) -> Any:
    """The shared strict CBOR reader (:mod:`skillcred._internal.cbor`, COSE mode); its error
    becomes this module's ``TokenInvalid`` so a bad COSE message fails like a bad JWS."""
    try:
        return cbor.decode(data, cose=True)
    except cbor.CBORError as exc:
        raise TokenInvalid("malformed", f"COSE: {exc}") from exc


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor.encode(["Signature1", protected, b"", payload], cose=True)


def cose_bytes(data: bytes | str) -> bytes:
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
    verify_sd_jwt: SdJwtVerifier | None = None,
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
    raw = cose_bytes(data)
    if len(raw) > jws.MAX_TOKEN:
        raise TokenInvalid("malformed", f"{what} is too large")
    msg = cbor_decode(raw)
    if isinstance(msg, cbor.Tag):
        if msg.number != COSE_SIGN1_TAG:
            raise TokenInvalid("malformed", f"{what}: CBOR tag {msg.number} is not COSE_Sign1 (18)")
        msg = msg.value
    if not (isinstance(msg, list) and len(msg) == 4 and isinstance(msg[0], bytes)
            and isinstance(msg[1], dict) and isinstance(msg[2], bytes) and isinstance(msg[3], bytes)):
        raise TokenInvalid("malformed", f"{what} is not a COSE_Sign1 [protected, unprotected, payload, signature]")
    protected_raw, unprotected, payload_raw, signature = msg
    protected = cbor_decode(protected_raw) if protected_raw else {}
    if not isinstance(protected, dict):
        raise TokenInvalid("malformed", f"{what} protected header is not a map")
    if 1 in unprotected or 4 in unprotected or 16 in unprotected:
        raise TokenInvalid("malformed", f"{what}: alg/kid/typ must be in the protected header")
    alg_id = protected.get(1)
    if alg_id not in COSE_ALGS:
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
    alg = COSE_ALGS[alg_id]
    if method.public_key.key_type != jws.ALLOWED_ALGORITHMS[alg]:
        raise TokenInvalid("alg_key_mismatch", f"{what} alg {alg} does not fit the {method.public_key.key_type} key")
    if not method.public_key.verify(signature, sig_structure(protected_raw, payload_raw)):
        raise TokenInvalid("signature_invalid", f"{what} signature does not verify")
    return finish(claims, {str(k): v for k, v in protected.items()}, str(kid), method, kind=kind,
                   purpose=purpose, what=what, when=when, resolver=resolver,
                   verify_credentials=verify_credentials, skip_unsupported=skip_unsupported,
                   check_times=check_times, verify_sd_jwt=verify_sd_jwt)
