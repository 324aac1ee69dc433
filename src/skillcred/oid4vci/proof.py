"""Key proofs (OpenID4VCI 1.0 §8.2.1.1 and Appendix F.1): ``openid4vci-proof+jwt``.

The wallet signs a small JWT with the key the credential is to be bound to: ``aud`` is the
credential issuer, ``nonce`` the issuer's fresh ``c_nonce``, ``iat`` now. The issuer takes the
key from the header (``kid``: a did:key verification method, or ``jwk``; one of them, never
both) and binds the credential to it: the subject becomes the key's did:key (a JWK is the same
key as the did:key made of it), and an SD-JWT gets it as ``cnf.jwk``.

Only ES256 (P-256) and EdDSA (Ed25519) are taken, each with its own key type; ``none``, HMAC,
and any ``alg`` that does not fit the key are refused before the signature is looked at.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skillcred._internal.base64url import decode as b64u_decode
from skillcred._internal.base64url import encode as b64u_encode
from skillcred.did import key_did, key_did_url
from skillcred.errors import Oid4vciError, SkillcredError
from skillcred.keys import KeyPair, PublicKey

__all__ = ["PROOF_ALGS", "PROOF_TYP", "KeyProof", "check_key_proof", "make_key_proof"]

PROOF_TYP = "openid4vci-proof+jwt"
#: alg -> the key type it needs
PROOF_ALGS: dict[str, str] = {"ES256": "p256", "EdDSA": "ed25519"}
#: a proof older than this (seconds), or more than ``_FUTURE`` ahead, is refused
MAX_PROOF_AGE = 300
_FUTURE = 60
_MAX_PROOF_BYTES = 8 * 1024


@dataclass(frozen=True)
class KeyProof:
    """A checked key proof: the holder's key, its did:key, and the nonce it used."""

    public_key: PublicKey
    holder: str
    nonce: str | None


def make_key_proof(key: KeyPair, *, audience: str, nonce: str | None, issued_at: int | None = None,
                   kid: str | None = None, use_jwk: bool = False) -> str:
    """The wallet's key proof for ``audience`` (the credential issuer) and ``nonce``.

    The header names the key by ``kid`` (default: the key's did:key verification method) or,
    with ``use_jwk``, carries the public JWK itself."""
    alg = key.public_key.jws_algorithm
    if alg not in PROOF_ALGS:
        raise Oid4vciError("invalid_proof", f"key proofs are ES256 or EdDSA; a {key.key_type} key cannot make one")
    header: dict[str, Any] = {"typ": PROOF_TYP, "alg": alg}
    if use_jwk:
        header["jwk"] = key.public_key.jwk()
    else:
        header["kid"] = kid or key_did_url(key.public_key)
    payload: dict[str, Any] = {"aud": audience, "iat": int(time.time()) if issued_at is None else issued_at}
    if nonce is not None:
        payload["nonce"] = nonce
    signing_input = (f"{b64u_encode(json.dumps(header, separators=(',', ':')).encode())}."
                     f"{b64u_encode(json.dumps(payload, separators=(',', ':')).encode())}")
    return f"{signing_input}.{b64u_encode(key.sign(signing_input.encode('ascii')))}"


def _part(text: str, what: str) -> Any:
    try:
        return json.loads(b64u_decode(text))
    except (ValueError, SkillcredError) as exc:
        raise Oid4vciError("invalid_proof", f"the key proof's {what} is not base64url JSON") from exc


def _holder_key(header: Mapping[str, Any]) -> PublicKey:
    has_kid, has_jwk = "kid" in header, "jwk" in header
    if has_kid == has_jwk or "x5c" in header or "trust_chain" in header or "key_attestation" in header:
        raise Oid4vciError("invalid_proof", "the key proof must name its key by exactly one of kid (a did:key "
                                            "verification method) or jwk")
    try:
        if has_jwk:
            jwk = header["jwk"]
            if not isinstance(jwk, dict) or "d" in jwk or "k" in jwk:
                raise Oid4vciError("invalid_proof", "the key proof's jwk must be a public key")
            return PublicKey.from_jwk(jwk)
        kid = header["kid"]
        if not isinstance(kid, str) or not kid.startswith("did:key:"):
            raise Oid4vciError("invalid_proof", "the key proof's kid must be a did:key verification method")
        did, _, fragment = kid.partition("#")
        key = PublicKey.from_multikey(did.removeprefix("did:key:"))
        if fragment and fragment != did.removeprefix("did:key:"):
            raise Oid4vciError("invalid_proof", "the key proof's kid is not the did:key's own key")
        return key
    except Oid4vciError:
        raise
    except SkillcredError as exc:
        raise Oid4vciError("invalid_proof", f"the key proof's key is unusable: {exc.message}") from exc


def check_key_proof(token: Any, *, audience: str, now: int | None = None) -> KeyProof:
    """Check a key proof's type, algorithm, key, signature, audience and age (OpenID4VCI 1.0
    §8.2.1.1); the nonce is returned for the caller to use up (its store knows if it is fresh).
    Raises :class:`Oid4vciError` ``invalid_proof``."""
    if not isinstance(token, str) or len(token) > _MAX_PROOF_BYTES:
        raise Oid4vciError("invalid_proof", "the key proof must be a compact JWT of at most 8 KiB")
    parts = token.split(".")
    if len(parts) != 3:
        raise Oid4vciError("invalid_proof", "the key proof is not a compact JWS")
    header = _part(parts[0], "header")
    if not isinstance(header, dict):
        raise Oid4vciError("invalid_proof", "the key proof's header is not an object")
    if header.get("typ") != PROOF_TYP:
        raise Oid4vciError("invalid_proof", f"the key proof's typ must be {PROOF_TYP}, not {header.get('typ')!r}")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in PROOF_ALGS:
        raise Oid4vciError("invalid_proof", f"key proof algorithm {alg!r} is not accepted (ES256 or EdDSA)")
    if "crit" in header:
        raise Oid4vciError("invalid_proof", "the key proof has critical header parameters this issuer does not know")
    key = _holder_key(header)
    if key.key_type != PROOF_ALGS[alg]:
        raise Oid4vciError("invalid_proof", f"alg {alg} does not fit the proof's {key.key_type} key")
    try:
        signature = b64u_decode(parts[2])
    except (ValueError, SkillcredError) as exc:
        raise Oid4vciError("invalid_proof", "the key proof's signature is not base64url") from exc
    if not key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii")):
        raise Oid4vciError("invalid_proof", "the key proof's signature does not verify")
    payload = _part(parts[1], "payload")
    if not isinstance(payload, dict):
        raise Oid4vciError("invalid_proof", "the key proof's payload is not an object")
    aud = payload.get("aud")
    if aud != audience and not (isinstance(aud, list) and aud == [audience]):
        raise Oid4vciError("invalid_proof", f"the key proof is for {aud!r}, not for this issuer {audience}")
    iat = payload.get("iat")
    at = int(time.time()) if now is None else now
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise Oid4vciError("invalid_proof", "the key proof has no iat")
    if iat > at + _FUTURE or iat < at - MAX_PROOF_AGE:
        raise Oid4vciError("invalid_proof", "the key proof's iat is not recent (more than 5 minutes off)")
    nonce = payload.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise Oid4vciError("invalid_nonce", "the key proof's nonce must be a string")
    return KeyProof(key, key_did(key), nonce)
