"""Encrypted OpenID4VP responses: response mode ``direct_post.jwt`` (OpenID4VP 1.0 §8.3).

The verifier puts a fresh ephemeral P-256 public key in each request object's
``client_metadata.jwks`` (``use: enc``, ``alg: ECDH-ES``, a ``kid``) with the content encryptions
it takes (``encrypted_response_enc_values_supported``); the wallet encrypts the response
parameters (``{"vp_token": ..., "state": ...}``) to that key as a compact JWE (RFC 7516, key
agreement ECDH-ES direct, RFC 7518 §4.6) and posts ``response=<JWE>``. Only ECDH-ES on P-256
with A128GCM/A256GCM is produced or accepted: no key wrapping, no RSA, no symmetric (``dir``)
keys, no compression (``zip``: a decompression bomb needs no key). Everything is checked on
the protected header *before* any decryption, and sizes are bounded before anything is parsed.

A response that was encrypted is not thereby authentic -- anyone holding the public key can
encrypt -- so the inner ``vp_token`` then goes through exactly the checks of a plain one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwe as _jwe
from jwcrypto import jwk as _jwk
from jwcrypto.common import JWException

from skillcred._internal import base64url
from skillcred.errors import Oid4vpRefused, Oid4vpRequestInvalid

ENCRYPTED_MODE = "direct_post.jwt"
#: the only key agreement used: ECDH-ES direct (the derived key is the content key)
JWE_ALG = "ECDH-ES"
#: content encryptions this implementation makes and takes (the first is the default offer)
ENC_VALUES = ("A128GCM", "A256GCM")
DEFAULT_ENC = "A128GCM"
#: an encrypted response larger than this is refused before it is parsed (the body bound of
#: the endpoint is larger; a JWE of a plain response's size stays well below it)
MAX_JWE = 1024 * 1024
#: a protected header longer than this is refused unread (a real one is ~300 bytes)
MAX_HEADER = 4096


@dataclass(frozen=True)
class ResponseEncryption:
    """What a wallet encrypts a response with: the verifier's public key (JWK) and an ``enc``."""

    jwk: dict[str, Any]
    enc: str

    @property
    def kid(self) -> str:
        return str(self.jwk["kid"])

    def to_dict(self) -> dict[str, Any]:
        return {"alg": JWE_ALG, "enc": self.enc, "kid": self.kid}


def new_encryption_key() -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh P-256 key for one transaction: ``(public JWK, private JWK)``. The public one
    carries ``use: enc``, ``alg: ECDH-ES`` and a ``kid`` (its RFC 7638 thumbprint, so unique
    per key and telling nothing else)."""
    key = _jwk.JWK.generate(kty="EC", crv="P-256")
    kid = key.thumbprint()
    public = {**json.loads(key.export_public()), "use": "enc", "alg": JWE_ALG, "kid": kid}
    private = {**json.loads(key.export_private()), "use": "enc", "alg": JWE_ALG, "kid": kid}
    return public, private


def encryption_metadata(public_jwk: Mapping[str, Any], enc_values: Sequence[str] = (DEFAULT_ENC,)
                        ) -> dict[str, Any]:
    """The ``client_metadata`` entries of an encrypting request: the key set and the ``enc``
    values offered (each one of :data:`ENC_VALUES`)."""
    bad = [e for e in enc_values if e not in ENC_VALUES]
    if not enc_values or bad:
        raise ValueError(f"enc values must be among {', '.join(ENC_VALUES)}, not {bad or 'none'}")
    return {"jwks": {"keys": [dict(public_jwk)]},
            "encrypted_response_enc_values_supported": list(dict.fromkeys(enc_values))}


def response_encryption(request: Mapping[str, Any]) -> ResponseEncryption | None:
    """How the wallet must encrypt its response to ``request`` (a verified request object):
    None for ``direct_post``; for ``direct_post.jwt`` the first key of ``client_metadata.jwks``
    fit for it (EC P-256, ``use`` enc or unset, ``alg`` ECDH-ES or unset, a ``kid``, no private
    part) and the first offered ``enc`` this wallet makes (A128GCM when none is offered, the
    spec's default). :class:`Oid4vpRequestInvalid` (``encryption_key_unsupported``,
    ``encryption_enc_unsupported``) when there is none: sending in the clear instead would give
    the response to whoever the verifier wanted to keep it from."""
    if request.get("response_mode") != ENCRYPTED_MODE:
        return None
    meta = request.get("client_metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    jwks = meta.get("jwks")
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list) or not keys:
        raise Oid4vpRequestInvalid("encryption_key_unsupported", "the request asks for an encrypted response "
                                   "(direct_post.jwt) but its client_metadata has no jwks to encrypt to")
    found = next((k for k in keys if _usable(k)), None)
    if found is None:
        kinds = ", ".join(sorted({f"{k.get('kty')}/{k.get('crv') or k.get('alg') or '-'}" for k in keys
                                  if isinstance(k, Mapping)})) or "none"
        raise Oid4vpRequestInvalid("encryption_key_unsupported", f"the request's encryption keys ({kinds}) are "
                                   f"not {JWE_ALG} P-256 public keys for encryption; nothing was sent")
    offered = meta.get("encrypted_response_enc_values_supported", [DEFAULT_ENC])
    if not isinstance(offered, list) or not offered:
        offered = [DEFAULT_ENC]
    enc = next((e for e in offered if e in ENC_VALUES), None)
    if enc is None:
        raise Oid4vpRequestInvalid("encryption_enc_unsupported", f"the request offers enc {offered!r}; this wallet "
                                   f"encrypts with {', '.join(ENC_VALUES)}; nothing was sent")
    return ResponseEncryption({k: found[k] for k in ("kty", "crv", "x", "y", "kid", "use", "alg") if k in found},
                              str(enc))


def _usable(key: Any) -> bool:
    if not isinstance(key, Mapping) or key.get("kty") != "EC" or key.get("crv") != "P-256":
        return False
    if key.get("use", "enc") != "enc" or key.get("alg", JWE_ALG) != JWE_ALG or "d" in key:
        return False
    if not isinstance(key.get("kid"), str) or not key["kid"]:
        return False
    try:  # 32-byte coordinates of a point on the curve (an invalid-curve point leaks the key)
        x, y = base64url.decode(str(key["x"])), base64url.decode(str(key["y"]))
        if len(x) != 32 or len(y) != 32:
            return False
        ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()).public_key()
    except (KeyError, TypeError, ValueError):
        return False
    return True


def encrypt_response(params: Mapping[str, Any], encryption: ResponseEncryption) -> str:
    """The compact JWE of the response parameters (``vp_token``, ``state``) to the verifier's
    key; the protected header names the key (``kid``) so the verifier finds it."""
    header = {"alg": JWE_ALG, "enc": encryption.enc, "kid": encryption.kid}
    key = _jwk.JWK(**{k: encryption.jwk[k] for k in ("kty", "crv", "x", "y")})
    token = _jwe.JWE(json.dumps(dict(params), separators=(",", ":")).encode("utf-8"),
                     protected=json.dumps(header), algs=[JWE_ALG, *ENC_VALUES])
    token.add_recipient(key)
    return str(token.serialize(compact=True))


def peek_header(token: str) -> dict[str, Any]:
    """The protected header of a compact JWE, unverified, after the size and shape checks;
    :class:`Oid4vpRefused` ``response_not_decryptable`` for anything that is not one."""
    if not isinstance(token, str) or len(token) > MAX_JWE:
        raise Oid4vpRefused("response_too_large", f"the encrypted response is larger than {MAX_JWE} bytes")
    parts = token.strip().split(".")
    if len(parts) != 5:
        raise Oid4vpRefused("response_not_decryptable", "the response is not a compact JWE (five parts)")
    if len(parts[0]) > MAX_HEADER:
        raise Oid4vpRefused("response_not_decryptable", "the JWE's protected header is too large")
    try:
        header = json.loads(base64url.decode(parts[0]))
    except (ValueError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict):
        raise Oid4vpRefused("response_not_decryptable", "the JWE's protected header is not base64url JSON")
    return header


def decrypt_response(token: str, private_jwk: Mapping[str, Any], *, enc_values: Sequence[str]) -> dict[str, Any]:
    """The response parameters inside ``token``, encrypted to ``private_jwk`` with one of
    ``enc_values`` (those the request offered). The header is checked before decrypting
    (:class:`Oid4vpRefused`): ``alg`` ECDH-ES (``response_alg_not_allowed``: ``dir``, RSA and
    key wrapping are not offered), ``enc`` offered (``response_enc_not_offered``), ``kid`` this
    key's (``response_key_mismatch``), no ``zip`` and no encrypted key (``response_not_decryptable``);
    then a failed decryption (another key, an altered ciphertext, tag or header) is
    ``response_not_decryptable`` and the plaintext must be a JSON object."""
    header = peek_header(token)
    parts = token.strip().split(".")
    alg, enc = header.get("alg"), header.get("enc")
    if alg != JWE_ALG:
        raise Oid4vpRefused("response_alg_not_allowed", f"the response is encrypted with alg {alg!r}; this verifier "
                            f"offered only {JWE_ALG}")
    offered = [e for e in enc_values if e in ENC_VALUES]
    if enc not in offered:
        raise Oid4vpRefused("response_enc_not_offered", f"the response is encrypted with enc {enc!r}; the request "
                            f"offered {', '.join(offered) or 'none'}")
    if header.get("kid") != private_jwk.get("kid"):
        raise Oid4vpRefused("response_key_mismatch", "the response is encrypted to another key than this "
                            "request's")
    if "zip" in header or "crit" in header or parts[1]:
        raise Oid4vpRefused("response_not_decryptable", "the JWE uses compression, critical extensions or an "
                            "encrypted key, none of which ECDH-ES direct responses have")
    key = _jwk.JWK(**{k: private_jwk[k] for k in ("kty", "crv", "x", "y", "d")})
    box = _jwe.JWE(algs=[JWE_ALG, *offered])
    try:
        box.deserialize(token.strip(), key=key)
    except (JWException, ValueError, TypeError, KeyError) as exc:
        raise Oid4vpRefused("response_not_decryptable", "the encrypted response does not decrypt with this "
                            f"request's key: it was made for another key or altered ({type(exc).__name__})") from None
    try:
        params = json.loads(box.payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        params = None
    if not isinstance(params, dict):
        raise Oid4vpRefused("response_malformed", "the decrypted response is not a JSON object")
    return params
