"""A credential and how it is secured: one frozen type for every format skillcred takes.

Before this type, a JOSE- or COSE-secured credential travelled between issuer, wallet,
presentation building and verification as a "marker dict" (the claims plus ``securedAs`` and
``token``) that only some modules understood: handed to the verifier, its two extra members
were undefined JSON-LD terms, so ``wallet gap`` refused credentials the wallet had accepted.
:class:`SecuredCredential` names the format and keeps the token beside the claims, so nothing
downstream has to guess; the marker dict survives only as the on-disk wallet and registry
record (:meth:`SecuredCredential.to_record` / :meth:`SecuredCredential.from_record`), read and
written at that boundary so existing wallets keep loading.

Formats:

* ``di``: a JSON document with an embedded Data Integrity proof (``document`` is the whole
  signed document, ``token`` is None);
* ``jwt``: a compact JWS ``vc+jwt`` (or ``vp+jwt``);
* ``sd-jwt``: an SD-JWT ``vc+sd-jwt`` / ``dc+sd-jwt`` (or ``vp+sd-jwt``), with or without a
  Key Binding JWT;
* ``cose``: a COSE_Sign1 ``vc+cose`` (or ``vp+cose``), kept as base64 text.

:meth:`SecuredCredential.from_file_bytes` tells them apart from the content alone (never from a
file name), and :meth:`SecuredCredential.envelope` gives what a presentation (or the verifier)
carries: the Data Integrity document itself, or an ``EnvelopedVerifiableCredential`` /
``EnvelopedVerifiablePresentation`` holding the token as a ``data:`` URL.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from skillcred._internal.fileio import parse_json
from skillcred.did import DidResolver
from skillcred.errors import InvalidArgument, MalformedDocument

__all__ = [
    "FORMATS",
    "SecuredCredential",
    "SecuredFormat",
]

SecuredFormat = Literal["di", "jwt", "sd-jwt", "cose"]
FORMATS: tuple[SecuredFormat, ...] = ("di", "jwt", "sd-jwt", "cose")
VC_V2 = "https://www.w3.org/ns/credentials/v2"
#: the members of the on-disk record that are not claims (the wallet's and registry's format)
RECORD_KEYS = ("securedAs", "token")

_JWS_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_SD_JWT_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(~[A-Za-z0-9_-]*)*~"
                        r"([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?")
_B64_RE = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_HEX_RE = re.compile(r"(?:[0-9a-fA-F]{2})+")
#: a tagged COSE_Sign1 (tag 18, an array of 4) or an untagged one: what CBOR COSE starts with
_COSE_STARTS = (b"\xd2\x84", b"\x84")


def _b64u_json(part: str) -> Any:
    """A base64url JSON part of a JWS, undecodable -> None (detection never verifies)."""
    try:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _types(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def _is_presentation(typ: Any, claims: Any) -> bool:
    """A presentation by its declared media type, else by its (unverified) ``type``."""
    if isinstance(typ, str) and typ.removeprefix("application/").startswith("vp+"):
        return True
    if isinstance(typ, str) and typ.removeprefix("application/").startswith(("vc+", "dc+")):
        return False
    return isinstance(claims, Mapping) and "VerifiablePresentation" in _types(claims.get("type"))


@dataclass(frozen=True)
class SecuredCredential:
    """A credential (or, with ``presentation=True``, a presentation) and how it is secured.

    ``document`` is what the credential says: for ``di`` the whole signed document; for a
    token the claims (verified ones after :meth:`open`, the undecoded payload straight after
    :meth:`from_file_bytes`). ``token`` is the compact JWS / SD-JWT, or the COSE message as
    base64 text; what is presented and verified is always the token, never ``document``.
    """

    format: SecuredFormat
    document: Mapping[str, Any]
    token: str | None = None
    presentation: bool = False
    #: the token's declared media type (``typ`` / COSE label 16), e.g. ``dc+sd-jwt``
    typ: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise InvalidArgument(f"format must be one of {', '.join(FORMATS)}, not {self.format!r}")
        if (self.format == "di") != (self.token is None):
            raise InvalidArgument("a Data Integrity credential has no token; every other format has one")

    # -- names -----------------------------------------------------------------------------

    @property
    def media_type(self) -> str:
        """``application/vc+jwt`` and so on; ``application/vc`` for Data Integrity."""
        kind = "vp" if self.presentation else "vc"
        if self.format == "di":
            return f"application/{kind}"
        if self.format == "sd-jwt" and not self.presentation and self.typ and \
                self.typ.removeprefix("application/") == "dc+sd-jwt":
            return "application/dc+sd-jwt"
        return f"application/{kind}+{self.format}"

    @property
    def label(self) -> str:
        """How the format is named in reports: ``Data Integrity``, ``vc+jwt``, ``vp+sd-jwt``..."""
        return "Data Integrity" if self.format == "di" else self.media_type.removeprefix("application/")

    # -- the wallet's and registry's record (the on-disk format) ----------------------------

    def to_record(self) -> dict[str, Any]:
        """The JSON the wallet and the issuer's registry store: a Data Integrity document as
        is; a token as its claims plus ``securedAs`` and ``token`` (readable with any JSON tool,
        and the format every existing wallet already holds)."""
        if self.format == "di":
            return dict(self.document)
        return {**{k: v for k, v in self.document.items() if k not in RECORD_KEYS},
                "securedAs": self.format, "token": self.token}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> SecuredCredential:
        """Read a stored record back (see :meth:`to_record`); anything without ``securedAs``
        is a Data Integrity document."""
        fmt = record.get("securedAs")
        if fmt is None:
            return cls("di", dict(record))
        token = record.get("token")
        if fmt not in FORMATS or fmt == "di" or not isinstance(token, str) or not token:
            raise MalformedDocument(f"a stored record secured as {fmt!r} needs a token")
        typ = None
        if fmt == "sd-jwt":  # vc+sd-jwt or dc+sd-jwt: the envelope's media type says which
            header = _b64u_json(token.split("~", 1)[0].split(".", 1)[0])
            typ = header.get("typ") if isinstance(header, Mapping) and isinstance(header.get("typ"), str) else None
        return cls(fmt, {k: v for k, v in record.items() if k not in RECORD_KEYS}, token, typ=typ)

    # -- detection ---------------------------------------------------------------------------

    @classmethod
    def from_file_bytes(cls, data: bytes, source: str = "<input>") -> SecuredCredential:
        """What a file holds, told from its content: a JSON document (Data Integrity), a compact
        JWS (``vc+jwt`` / ``vp+jwt``), an SD-JWT (with or without key binding), or COSE
        (raw CBOR, base64, or hex - which verification then refuses, as VC-JOSE-COSE carries
        COSE as base64). Nothing is verified here; raises :class:`MalformedDocument` naming
        ``source`` for anything else."""
        if data.startswith(_COSE_STARTS):  # raw CBOR: every byte counts (no strip: 0x20 may end a signature)
            return cls._cose(data, base64.b64encode(data).decode("ascii"))
        raw = data.strip()
        if raw[:1] in (b"{", b"["):
            value = parse_json(data, source=source)
            if not isinstance(value, dict):
                raise MalformedDocument("expected one credential or presentation (a JSON object)", path=source)
            return cls("di", value, presentation="VerifiablePresentation" in _types(value.get("type")))
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedDocument("not a credential: neither JSON, a JWT / SD-JWT nor COSE", path=source) from None
        text = "".join(text.split()) if not ("." in text or "~" in text) else text
        if "~" in text and _SD_JWT_RE.fullmatch(text):
            header, payload = (_b64u_json(p) for p in text.split("~", 1)[0].split(".")[:2])
            typ = header.get("typ") if isinstance(header, Mapping) else None
            return cls("sd-jwt", payload if isinstance(payload, dict) else {}, text,
                       _is_presentation(typ, payload), typ if isinstance(typ, str) else None)
        if _JWS_RE.fullmatch(text):
            header, payload = (_b64u_json(p) for p in text.split(".")[:2])
            if not isinstance(header, Mapping):
                raise MalformedDocument("not a JWT: its header is not base64url JSON", path=source)
            typ = header.get("typ")
            return cls("jwt", payload if isinstance(payload, dict) else {}, text,
                       _is_presentation(typ, payload), typ if isinstance(typ, str) else None)
        if _HEX_RE.fullmatch(text) and bytes.fromhex(text).startswith(_COSE_STARTS):
            return cls._cose(bytes.fromhex(text), text)  # detected; refused when verified
        if _B64_RE.fullmatch(text):
            try:
                decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
            except (binascii.Error, ValueError):
                decoded = b""
            if decoded.startswith(_COSE_STARTS):
                return cls._cose(decoded, text)
        raise MalformedDocument("not a credential: neither JSON, a JWT / SD-JWT nor COSE", path=source)

    @classmethod
    def _cose(cls, message: bytes, text: str) -> SecuredCredential:
        from skillcred.jose import peek_cose

        typ, claims = peek_cose(message)
        return cls("cose", claims or {}, text, _is_presentation(typ, claims), typ)

    # -- presenting and verifying --------------------------------------------------------------

    def envelope(self) -> dict[str, Any]:
        """What a presentation carries for this credential, and what the verifier checks: the
        Data Integrity document itself, or an ``EnvelopedVerifiableCredential`` (an
        ``EnvelopedVerifiablePresentation`` for a presentation) with the token in a ``data:``
        URL (COSE as ``;base64``, VC-JOSE-COSE §3.3.1)."""
        if self.format == "di":
            return dict(self.document)
        assert self.token is not None
        sep = ";base64," if self.format == "cose" else ","
        kind = "EnvelopedVerifiablePresentation" if self.presentation else "EnvelopedVerifiableCredential"
        return {"@context": [VC_V2], "id": f"data:{self.media_type}{sep}{self.token}", "type": kind}

    def open(self, *, resolver: DidResolver, at: datetime | None = None) -> SecuredCredential:
        """Verify a token credential (signature, issuer key, times; an SD-JWT with every
        disclosure the holder has) and return it with the verified claims as ``document``.
        A Data Integrity credential is returned as is (its proof is checked where it is used)."""
        if self.format == "di" or self.presentation:
            return self
        assert self.token is not None
        if self.format == "jwt":
            from skillcred.jose import verify_jwt

            claims = verify_jwt(self.token, resolver=resolver, expected_typ="vc+jwt", at=at).payload
        elif self.format == "cose":
            from skillcred.jose import verify_cose

            claims = verify_cose(self.token, resolver=resolver, expected_typ="vc+cose", at=at).payload
        else:
            from skillcred.sdjwt import verify_sd_jwt

            claims = verify_sd_jwt(self.token, resolver=resolver, expected_nonce=None, expected_aud=None,
                                   require_key_binding=False, at=at,
                                   expected_typ=("vc+sd-jwt", "dc+sd-jwt")).claims
            from skillcred.sdjwt_vc import check_type_metadata, credential_view, is_sd_jwt_vc

            if is_sd_jwt_vc(claims):  # a flat IETF SD-JWT VC: read as the Open Badges credential it maps to
                check_type_metadata(claims)
                claims = credential_view(claims)
        return replace(self, document=dict(claims))
