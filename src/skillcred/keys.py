"""Key pairs for issuers and holders: Ed25519, P-256 and P-384 (and P-521 for JOSE/COSE: ES512).

Built on ``cryptography``; encoded as Multikey (multicodec + base58btc multibase, the form
did:key and Data Integrity use) and as JWK. Key files are PKCS#8 PEM at mode 0600, encrypted
with the best available PKCS#8 encryption when a passphrase is given.

Signatures are what the Data Integrity suites (and JOSE) need: raw 64-byte Ed25519, and ECDSA in IEEE
P1363 form (``r || s``, fixed width) hashed with SHA-256 on P-256, SHA-384 on P-384, SHA-512 on P-521.
"""

from __future__ import annotations

import functools
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

# ``cryptography.hazmat.primitives.serialization`` (PEM, with the SSH and cipher modules it
# loads) is imported where a key is written or read as PEM: verifying never needs it.
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from skillcred._internal import base58, base64url
from skillcred._internal.fileio import MAX_SECRET_BYTES, atomic_write, open_input, read_at_most
from skillcred.errors import (
    InvalidArgument,
    KeyFileError,
    KeyPermissionError,
    SkillcredSecurityWarning,
    UnsupportedFeature,
    WrongPassphrase,
)

__all__ = [
    "KEY_TYPES",
    "KeyPair",
    "KeyType",
    "PublicKey",
    "generate",
    "read_key_file",
    "write_key_file",
]

KeyType = Literal["ed25519", "p256", "p384", "p521"]
#: The key types skillcred makes keys of (issuers, wallets, ``keys generate``): every one of
#: them has a Data Integrity cryptosuite. P-521 is for JOSE/COSE only (ES512: the vc-jose-cose
#: suite's keys), so it is verified and signed with, never offered as a key to create.
KEY_TYPES: tuple[KeyType, ...] = tuple(k for k in get_args(KeyType) if k != "p521")

_PUB_CODEC: dict[KeyType, str] = {"ed25519": "ed25519-pub", "p256": "p256-pub", "p384": "p384-pub",
                                  "p521": "p521-pub"}
#: The same codecs as unsigned-varint prefixes (0xed, 0x1200, 0x1201): decoding a verification
#: method's key is on every verification's path, and ``multicodec.unwrap`` spends most of its
#: time in run-time type checks. tests/test_keys.py checks these against ``multicodec.wrap``.
#: P-521 (0x1202) is not among them: it is a JOSE (publicKeyJwk) key here, never a did:key or Multikey.
_PUB_PREFIX: dict[bytes, KeyType] = {b"\xed\x01": "ed25519", b"\x80\x24": "p256", b"\x81\x24": "p384"}
_PREFIX_OF: dict[KeyType, bytes] = {kt: prefix for prefix, kt in _PUB_PREFIX.items()}
# multiformats itself (~25 ms to import, a tenth of a cold `skillcred verify`) is imported only
# where these tables do not reach: secret keys, P-521 and naming an unknown codec.
_PRIV_CODEC: dict[KeyType, str] = {
    "ed25519": "ed25519-priv",
    "p256": "p256-priv",
    "p384": "p384-priv",
    "p521": "p521-priv",
}
_CURVES: dict[KeyType, ec.EllipticCurve] = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "p521": ec.SECP521R1()}
_HASHES: dict[KeyType, hashes.HashAlgorithm] = {"p256": hashes.SHA256(), "p384": hashes.SHA384(),
                                                "p521": hashes.SHA512()}
_SCALAR_BYTES: dict[KeyType, int] = {"p256": 32, "p384": 48, "p521": 66}
_JWK_CRV: dict[KeyType, str] = {"ed25519": "Ed25519", "p256": "P-256", "p384": "P-384", "p521": "P-521"}
_JWK_ALG: dict[KeyType, str] = {"ed25519": "EdDSA", "p256": "ES256", "p384": "ES384", "p521": "ES512"}

_PublicRaw = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
_PrivateRaw = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


_b64u = base64url.encode
#: canonical base64url only (a ValueError otherwise): one JWK, one spelling of each coordinate
_b64u_decode = base64url.decode


def _key_type_of(key: _PublicRaw | _PrivateRaw) -> KeyType:
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        if isinstance(key.curve, ec.SECP256R1):
            return "p256"
        if isinstance(key.curve, ec.SECP384R1):
            return "p384"
        if isinstance(key.curve, ec.SECP521R1):
            return "p521"
        raise UnsupportedFeature(f"elliptic curve {key.curve.name} is not supported")
    raise UnsupportedFeature(f"key type {type(key).__name__} is not supported")


@dataclass(frozen=True)
class PublicKey:
    """A verification key. Compare by Multikey; never raises on a bad signature."""

    key_type: KeyType
    _key: _PublicRaw = field(repr=False, compare=False)

    @classmethod
    def from_cryptography(cls, key: _PublicRaw) -> PublicKey:
        return cls(_key_type_of(key), key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self.key_type == other.key_type and self.raw == other.raw

    def __hash__(self) -> int:
        return hash((self.key_type, self.raw))

    @classmethod
    def from_multikey(cls, value: str) -> PublicKey:
        """Decode a ``publicKeyMultibase`` value (``z6Mk...``, ``zDn...``, ``z82...``).

        Only the one Multikey encoding is accepted: base58btc (``z``) of the multicodec prefix
        and the raw Ed25519 key or the compressed SEC1 point. The value is not echoed in errors
        (a secret key pasted here by mistake must not end up in a log). Decoded keys are
        remembered (they are immutable): a verifier meets the same issuer keys again and again,
        and decompressing a P-256 point costs more than the signature check.
        """
        if not isinstance(value, str) or not value.startswith("z"):
            raise InvalidArgument("not a Multikey public key: it must be base58btc ('z...')")
        return _public_key_from_multikey(value)

    @classmethod
    def _from_raw(cls, kt: KeyType, key_bytes: bytes) -> PublicKey:
        try:
            if kt == "ed25519":
                if len(key_bytes) != 32:
                    raise ValueError("Ed25519 public keys are 32 bytes")
                return cls(kt, ed25519.Ed25519PublicKey.from_public_bytes(key_bytes))
            return cls(kt, ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[kt], key_bytes))
        except ValueError as exc:
            raise InvalidArgument(f"invalid {kt} public key: {exc}") from exc

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> PublicKey:
        """Decode a public JWK (OKP Ed25519, EC P-256, P-384, P-521)."""
        try:
            kty, crv = jwk["kty"], jwk["crv"]
            if kty == "OKP" and crv == "Ed25519":
                return cls._from_raw("ed25519", _b64u_decode(jwk["x"]))
            if kty == "EC" and crv in ("P-256", "P-384", "P-521"):
                kt: KeyType = {"P-256": "p256", "P-384": "p384"}.get(crv, "p521")  # type: ignore[assignment]
                n = _SCALAR_BYTES[kt]
                x, y = _b64u_decode(jwk["x"]), _b64u_decode(jwk["y"])
                if len(x) != n or len(y) != n:
                    raise InvalidArgument(f"{crv} JWK coordinates must be {n} bytes")
                return cls._from_raw(kt, b"\x04" + x + y)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InvalidArgument):
                raise
            raise InvalidArgument(f"not a usable public JWK: {exc}") from exc
        raise UnsupportedFeature(f"JWK kty={jwk.get('kty')!r} crv={jwk.get('crv')!r} is not supported")

    @property
    def raw(self) -> bytes:
        """The bytes Multikey wraps: 32 raw bytes (Ed25519) or the compressed SEC1 point."""
        if isinstance(self._key, ed25519.Ed25519PublicKey):
            return self._key.public_bytes_raw()
        from cryptography.hazmat.primitives import serialization

        return self._key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )

    @property
    def multikey(self) -> str:
        """The ``publicKeyMultibase`` value: base58btc of multicodec-prefixed key bytes."""
        prefix = _PREFIX_OF.get(self.key_type)
        if prefix is not None:
            return base58.encode(prefix + self.raw)  # = multibase.encode(multicodec.wrap(...))
        from multiformats import multibase, multicodec

        return multibase.encode(multicodec.wrap(_PUB_CODEC[self.key_type], self.raw), "base58btc")

    def jwk(self) -> dict[str, str]:
        """Public JWK (RFC 8037 for Ed25519, RFC 7518 for EC)."""
        if isinstance(self._key, ed25519.Ed25519PublicKey):
            return {"kty": "OKP", "crv": "Ed25519", "x": _b64u(self._key.public_bytes_raw())}
        nums = self._key.public_numbers()
        n = _SCALAR_BYTES[self.key_type]
        return {
            "kty": "EC",
            "crv": _JWK_CRV[self.key_type],
            "x": _b64u(nums.x.to_bytes(n, "big")),
            "y": _b64u(nums.y.to_bytes(n, "big")),
        }

    @property
    def jws_algorithm(self) -> str:
        return _JWK_ALG[self.key_type]

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` is valid over ``data`` (P1363 form for ECDSA)."""
        try:
            if isinstance(self._key, ed25519.Ed25519PublicKey):
                if len(signature) != 64:
                    return False
                self._key.verify(signature, data)
                return True
            n = _SCALAR_BYTES[self.key_type]
            if len(signature) != 2 * n:
                return False
            r = int.from_bytes(signature[:n], "big")
            s = int.from_bytes(signature[n:], "big")
            der = encode_dss_signature(r, s)
            self._key.verify(der, data, ec.ECDSA(_HASHES[self.key_type]))
            return True
        except (InvalidSignature, ValueError):
            return False


@functools.lru_cache(maxsize=1024)
def _public_key_from_multikey(value: str) -> PublicKey:
    """:meth:`PublicKey.from_multikey` after its type check (errors are not cached)."""
    try:
        raw = base58.decode(value)  # = multibase.decode(value), ~30x faster
    except Exception as exc:
        raise InvalidArgument("not a Multikey public key: not valid base58btc multicodec") from exc
    kt = _PUB_PREFIX.get(raw[:2])
    if kt is None:  # not one of ours: let multiformats name the codec (or the damage)
        from multiformats import multicodec

        try:
            codec, _ = multicodec.unwrap(raw)
        except Exception as exc:  # multiformats raises several unrelated types
            raise InvalidArgument("not a Multikey public key: not valid base58btc multicodec") from exc
        raise UnsupportedFeature(f"Multikey codec {codec.name} is not supported")
    key_bytes = raw[2:]
    if kt != "ed25519" and (
        len(key_bytes) != 1 + _SCALAR_BYTES[kt] or key_bytes[:1] not in (b"\x02", b"\x03")
    ):
        raise InvalidArgument(
            f"invalid {kt} Multikey: expected a {1 + _SCALAR_BYTES[kt]}-byte compressed point"
        )
    return PublicKey._from_raw(kt, key_bytes)


@dataclass(frozen=True)
class KeyPair:
    """A signing key with its public half. ``repr`` never shows secret material."""

    key_type: KeyType
    _key: _PrivateRaw = field(repr=False, compare=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeyPair):
            return NotImplemented
        return self.public_key == other.public_key

    def __hash__(self) -> int:
        return hash(self.public_key)

    @classmethod
    def generate(cls, key_type: KeyType = "ed25519") -> KeyPair:
        """Make a fresh key pair from the OS random source."""
        if key_type == "ed25519":
            return cls(key_type, ed25519.Ed25519PrivateKey.generate())
        if key_type in _CURVES and key_type in KEY_TYPES:  # P-521: JOSE keys are read from JWKs, not made
            return cls(key_type, ec.generate_private_key(_CURVES[key_type]))
        raise UnsupportedFeature(f"key type {key_type!r} is not supported (use {', '.join(KEY_TYPES)})")

    @classmethod
    def from_cryptography(cls, key: _PrivateRaw) -> KeyPair:
        return cls(_key_type_of(key), key)

    @classmethod
    def from_multikey(cls, secret_multibase: str) -> KeyPair:
        """Decode a ``secretKeyMultibase`` value (ed25519-priv, p256-priv, p384-priv)."""
        if not isinstance(secret_multibase, str) or not secret_multibase.startswith("z"):
            raise InvalidArgument("not a Multikey secret key: it must be base58btc ('z...')")
        from multiformats import multibase, multicodec

        try:
            codec, raw = multicodec.unwrap(multibase.decode(secret_multibase))
        except Exception as exc:
            raise InvalidArgument("not a Multikey secret key") from exc
        for kt, name in _PRIV_CODEC.items():
            if codec.name == name:
                try:
                    if kt == "ed25519":
                        return cls(kt, _ed25519_from_secret(raw))
                    return cls(kt, ec.derive_private_key(int.from_bytes(raw, "big"), _CURVES[kt]))
                except ValueError as exc:
                    raise InvalidArgument(f"invalid {kt} secret key") from exc
        raise UnsupportedFeature(f"Multikey codec {codec.name} is not supported")

    @property
    def public_key(self) -> PublicKey:
        return PublicKey(self.key_type, self._key.public_key())

    @property
    def public_multikey(self) -> str:
        return self.public_key.multikey

    @property
    def secret_multikey(self) -> str:
        """``secretKeyMultibase`` (handle with care: this is the private key)."""
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            raw = self._key.private_bytes_raw()
        else:
            raw = self._key.private_numbers().private_value.to_bytes(
                _SCALAR_BYTES[self.key_type], "big"
            )
        from multiformats import multibase, multicodec

        return multibase.encode(multicodec.wrap(_PRIV_CODEC[self.key_type], raw), "base58btc")

    def private_jwk(self) -> dict[str, str]:
        """Private JWK (adds ``d``)."""
        jwk = self.public_key.jwk()
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            jwk["d"] = _b64u(self._key.private_bytes_raw())
        else:
            n = _SCALAR_BYTES[self.key_type]
            jwk["d"] = _b64u(self._key.private_numbers().private_value.to_bytes(n, "big"))
        return jwk

    def sign(self, data: bytes) -> bytes:
        """Sign ``data``: raw Ed25519, or ECDSA (SHA-256 / SHA-384) in P1363 ``r || s`` form."""
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.sign(data)
        der = self._key.sign(data, ec.ECDSA(_HASHES[self.key_type]))
        r, s = decode_dss_signature(der)
        n = _SCALAR_BYTES[self.key_type]
        return r.to_bytes(n, "big") + s.to_bytes(n, "big")

    def to_pem(self, passphrase: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted when ``passphrase`` is non-empty."""
        from cryptography.hazmat.primitives import serialization

        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc
        )

    @classmethod
    def from_pem(cls, data: bytes, passphrase: bytes | None = None, *, source: str = "<key>") -> KeyPair:
        """Load a PKCS#8 PEM key; every failure is a one-line :class:`KeyFileError`."""
        if b"-----BEGIN" not in data:
            raise KeyFileError("not a PEM key file", path=source)
        encrypted = b"ENCRYPTED PRIVATE KEY" in data
        if encrypted and not passphrase:
            raise WrongPassphrase("key file is encrypted: a passphrase is needed", path=source)
        from cryptography.hazmat.primitives import serialization

        try:
            key = serialization.load_pem_private_key(
                data, password=passphrase if encrypted else None
            )
        except ValueError as exc:
            if encrypted and ("password" in str(exc).lower() or "decrypt" in str(exc).lower()):
                raise WrongPassphrase("wrong passphrase for this key file", path=source) from exc
            raise KeyFileError("key file is damaged or truncated", path=source) from exc
        except (TypeError, UnsupportedAlgorithm) as exc:
            raise KeyFileError("key file is damaged or of an unsupported kind", path=source) from exc
        if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyFileError(
                f"{type(key).__name__.replace('PrivateKey', '').strip('_') or 'this'} keys are not "
                "supported (use ed25519, p256 or p384)",
                path=source,
            )
        try:
            pair = cls.from_cryptography(key)
        except UnsupportedFeature as exc:
            raise KeyFileError(exc.message, path=source) from exc
        if pair.key_type not in KEY_TYPES:  # P-521 has no Data Integrity suite: no issuer or wallet key
            raise KeyFileError(f"{pair.key_type} keys are not supported in key files (use ed25519, p256 or p384)",
                               path=source)
        return pair


def _ed25519_from_secret(raw: bytes) -> ed25519.Ed25519PrivateKey:
    """32-byte seed, or the legacy 64-byte ``seed || public`` form (older Multikey encoders,
    e.g. the Open Badges 3.0 guide's key), whose public half must then match."""
    if len(raw) == 64:
        key = ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])
        if key.public_key().public_bytes_raw() != raw[32:]:
            raise ValueError("the public half of the 64-byte secret key does not match its seed")
        return key
    return ed25519.Ed25519PrivateKey.from_private_bytes(raw)


def generate(key_type: KeyType = "ed25519") -> KeyPair:
    """Shorthand for :meth:`KeyPair.generate`."""
    return KeyPair.generate(key_type)


def write_key_file(
    path: str | os.PathLike[str], key: KeyPair, passphrase: bytes | None = None, *, overwrite: bool = False
) -> None:
    """Write ``key`` as PKCS#8 PEM at mode 0600 (atomically; refuses to overwrite by default)."""
    target = Path(path)
    if target.exists() and not overwrite:
        raise KeyFileError("refusing to overwrite an existing key file", path=str(target))
    # key material lands in a regular 0600 file, never through a link or into a pipe
    atomic_write(target, key.to_pem(passphrase), mode=0o600, follow_symlinks=False)


#: Permission bits that let group or others at a private key file (what ssh refuses too).
OPEN_KEY_MODE_BITS = 0o077


def read_key_file(
    path: str | os.PathLike[str],
    passphrase: bytes | None = None,
    *,
    strict_permissions: bool = False,
    unsafe_allow_open_key_permissions: bool = False,
) -> KeyPair:
    """Read a key file written by :func:`write_key_file` (or any PKCS#8 PEM of a supported type).

    The key file must be a regular file, not a symbolic link (a link lets whoever controls its
    target choose the key). A key file readable by group or others (``mode & 0o077``) may
    have been copied by another account: loading it warns (:class:`SkillcredSecurityWarning`,
    naming the file and its mode). With ``strict_permissions`` (keys that sign credentials:
    issuer keys, ``skillcred sign``) it is refused with :class:`KeyPermissionError`, unless
    ``unsafe_allow_open_key_permissions`` is given, which warns instead.
    """
    p = Path(path)
    with open_input(p, max_bytes=MAX_SECRET_BYTES, what="key file", error=KeyFileError,
                    follow_symlinks=False) as (fh, st):
        # the mode of the file opened (fstat), not of whatever the path names a moment later;
        # a signing key is refused before it is even decrypted
        open_mode = st.st_mode if st.st_mode & OPEN_KEY_MODE_BITS else 0
        if open_mode and strict_permissions and not unsafe_allow_open_key_permissions:
            raise KeyPermissionError(
                f"key file is accessible by group or others (mode {open_mode & 0o7777:04o}); it is not used "
                f"to sign. Fix: chmod 600 {p}", path=str(p))
        data = read_at_most(fh, MAX_SECRET_BYTES, source=str(p), what="key file", error=KeyFileError)
    key = KeyPair.from_pem(data, passphrase, source=str(p))
    if open_mode:  # warned once the file turned out to be a key (junk is one error, not two lines)
        _warn_open_key(p, open_mode, unsafe=strict_permissions)
    return key


def _warn_open_key(path: Path, mode: int, *, unsafe: bool) -> None:
    shown = f"{mode & 0o7777:04o}"
    if unsafe:
        message = (f"{path}: UNSAFE: signing with a key file accessible by group or others (mode {shown}; "
                   f"unsafe_allow_open_key_permissions); fix: chmod 600 {path}")
    else:
        message = f"{path}: key file is accessible by group or others (mode {shown}); fix: chmod 600 {path}"
    warnings.warn(message, SkillcredSecurityWarning, stacklevel=3)
