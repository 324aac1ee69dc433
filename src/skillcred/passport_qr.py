"""QR codes for the printed passport: what a code holds, and checking a scanned one.

A printed page proves nothing by itself (anyone can print one). Each credential on it carries a
QR code that ties the paper to one exact signed credential, so an employer who holds the
credential digitally (or a presentation of it) can check offline that the two are the same, and
then verify the signature, dates, revocation and trust as usual.

Payload format, version 1 (text, QR byte mode; documented in docs/wallet.md)::

    skillcred:qr1:ref:sha256=<DIGEST>:<CREDENTIAL-ID>
    skillcred:qr1:vc:<BASE64URL(DEFLATE(JCS(credential)))>

``DIGEST`` is the unpadded base64url SHA-256 of the credential's *digest input*: for a Data
Integrity credential its RFC 8785 (JCS) canonical JSON, proof included; for a ``vc+jwt`` or
COSE credential the token text; for an SD-JWT the issuer-signed JWT (the part before the first
``~``: disclosures are hashed in it, and which ones a holder releases varies). The ``vc`` form
carries a whole Data Integrity credential (raw DEFLATE, RFC 1951) when it is small enough to
scan from paper (:data:`MAX_INLINE_CHARS`); it then verifies offline without any file. The id is
last so that it may hold ``:``. Anything else is refused (:class:`QrCodeInvalid`), never guessed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import warnings
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from skillcred._internal.jcs import canonicalize_json
from skillcred._internal.strictjson import loads as loads_strict
from skillcred.errors import MalformedDocument, QrCodeInvalid
from skillcred.secured import SecuredCredential

__all__ = [
    "MAX_INLINE_CHARS",
    "QR_PREFIX",
    "QrMatch",
    "QrPayload",
    "credential_digest",
    "decode_qr_image",
    "encode_qr_payload",
    "match_qr",
    "parse_qr_payload",
    "qr_svg",
]

QR_PREFIX = "skillcred:qr1:"
#: a ``vc`` payload longer than this is not printed (the reference form is used): beyond it the
#: code gets too dense to scan reliably from an A4 printout at the size the page gives it
MAX_INLINE_CHARS = 1200
#: a scanned text longer than this is refused before decoding (a QR code holds at most 2953 bytes)
MAX_PAYLOAD_CHARS = 4296
#: a page scanned at 600 dpi; a larger image (a decompression bomb) is refused before decoding
MAX_IMAGE_PIXELS = 60_000_000
#: inflating a ``vc`` payload stops here (a credential is a few KiB; a deflate bomb is not)
MAX_INFLATED_BYTES = 256 * 1024


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64u(text: str) -> bytes:
    if not text or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text):
        raise binascii.Error("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def credential_digest(credential: SecuredCredential | Mapping[str, Any]) -> str:
    """The v1 digest of a credential (see the module docstring): base64url SHA-256, unpadded.

    A wallet record (a token's claims plus ``securedAs``/``token``) is read as its token."""
    secured = credential if isinstance(credential, SecuredCredential) else SecuredCredential.from_record(credential)
    if secured.format == "di":
        data = canonicalize_json(dict(secured.document))
    else:
        assert secured.token is not None
        data = (secured.token.split("~", 1)[0] if secured.format == "sd-jwt" else secured.token).encode("ascii")
    return _b64u(hashlib.sha256(data).digest())


@dataclass(frozen=True)
class QrPayload:
    """A decoded payload: a reference (``credential_id`` + ``digest``) or a whole credential."""

    form: Literal["ref", "vc"]
    credential_id: str
    digest: str
    #: the credential itself (``vc`` form only)
    credential: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "form": self.form, "credentialId": self.credential_id,
                "digest": {"alg": "sha-256", "value": self.digest}}


def encode_qr_payload(credential: SecuredCredential | Mapping[str, Any], *, inline: bool = True) -> str:
    """The text to put in the credential's QR code: the whole credential when ``inline`` and it
    is a Data Integrity credential small enough (:data:`MAX_INLINE_CHARS`), else the reference."""
    secured = credential if isinstance(credential, SecuredCredential) else SecuredCredential.from_record(credential)
    cid = str(secured.document.get("id") or "")
    if not cid:
        raise QrCodeInvalid("a credential without an id cannot be referenced from a QR code")
    if inline and secured.format == "di":
        packed = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = packed.compress(canonicalize_json(dict(secured.document))) + packed.flush()
        text = f"{QR_PREFIX}vc:{_b64u(data)}"
        if len(text) <= MAX_INLINE_CHARS:
            return text
    return f"{QR_PREFIX}ref:sha256={credential_digest(secured)}:{cid}"


def parse_qr_payload(text: str, *, source: str = "QR code") -> QrPayload:
    """Read a scanned payload; anything that is not exactly a v1 payload raises
    :class:`QrCodeInvalid` naming what is wrong (an unknown version is named as such)."""
    text = text.strip()
    if len(text) > MAX_PAYLOAD_CHARS:
        raise QrCodeInvalid(f"{len(text)} characters: longer than any QR code holds", path=source)
    if not text.startswith(QR_PREFIX):
        if text.startswith("skillcred:qr"):
            raise QrCodeInvalid(f"payload version {text.split(':')[1][2:]!r} is not supported (this "
                                "skillcred reads version 1)", path=source)
        raise QrCodeInvalid("not a skillcred passport QR code (expected 'skillcred:qr1:...')", path=source)
    form, _, rest = text[len(QR_PREFIX):].partition(":")
    if form == "ref":
        algo, _, rest = rest.partition("=")
        digest, _, cid = rest.partition(":")
        if algo != "sha256":
            raise QrCodeInvalid(f"digest algorithm {algo!r} is not supported (sha256)", path=source)
        try:
            if len(_unb64u(digest)) != 32 or _b64u(_unb64u(digest)) != digest:
                raise binascii.Error("length")
        except (binascii.Error, ValueError):
            raise QrCodeInvalid("the digest is not an unpadded base64url SHA-256 value", path=source) from None
        if not cid or any(c.isspace() or ord(c) < 0x20 for c in cid):
            raise QrCodeInvalid("the credential id is missing or holds spaces or control characters", path=source)
        return QrPayload("ref", cid, digest)
    if form == "vc":
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(_unb64u(rest), MAX_INFLATED_BYTES)
        except (binascii.Error, ValueError, zlib.error):
            raise QrCodeInvalid("the embedded credential is not base64url DEFLATE data", path=source) from None
        if inflater.unconsumed_tail or not inflater.eof:
            raise QrCodeInvalid("the embedded credential is truncated or larger than "
                                f"{MAX_INFLATED_BYTES} bytes", path=source)
        try:
            doc = loads_strict(data)
        except MalformedDocument as exc:
            raise QrCodeInvalid(f"the embedded credential is not JSON: {exc.message}", path=source) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
            raise QrCodeInvalid("the embedded credential is not a JSON object with an id", path=source)
        return QrPayload("vc", doc["id"], credential_digest(SecuredCredential("di", doc)), doc)
    raise QrCodeInvalid(f"unknown payload form {form!r} (expected 'ref' or 'vc')", path=source)


@dataclass(frozen=True)
class QrMatch:
    """How a scanned code compares with the credentials an employer holds.

    ``code``: ``qr_match`` (same id, same digest), ``qr_digest_mismatch`` (a credential with that
    id whose content differs: altered, re-issued, or selectively disclosed), ``qr_not_found``."""

    code: Literal["qr_match", "qr_digest_mismatch", "qr_not_found"]
    payload: QrPayload
    reason: str
    #: the matching credential (or the one with the same id), as an envelope for the verifier
    credential: dict[str, Any] | None = None

    @property
    def matched(self) -> bool:
        return self.code == "qr_match"

    def to_dict(self) -> dict[str, Any]:
        return {"matched": self.matched, "code": self.code, "reason": self.reason, "payload": self.payload.to_dict()}


def _credentials_of(document: Mapping[str, Any]) -> list[tuple[SecuredCredential, dict[str, Any]]]:
    """(credential, what a verifier checks for it) for a credential or each credential in a
    presentation; enveloped ones are read from their ``data:`` URL (unverified here)."""
    types = document.get("type")
    is_vp = "VerifiablePresentation" in (types if isinstance(types, list) else [types])
    items = document.get("verifiableCredential") if is_vp else [document]
    out = []
    for item in items if isinstance(items, list) else [items]:
        if not isinstance(item, Mapping):
            continue
        cid = item.get("id")
        if "EnvelopedVerifiableCredential" in str(item.get("type")) and isinstance(cid, str) and "," in cid:
            try:
                out.append((SecuredCredential.from_file_bytes(cid.split(",", 1)[1].encode("ascii")), dict(item)))
            except (MalformedDocument, UnicodeEncodeError):
                continue
        else:
            out.append((SecuredCredential("di", dict(item)), dict(item)))
    return out


def match_qr(payload: QrPayload, held: Iterable[Mapping[str, Any] | SecuredCredential]) -> QrMatch:
    """Compare a scanned payload with credentials, presentations or tokens the employer holds.

    Only the id and digest are compared here; whether the matching credential verifies is the
    verifier's job (``skillcred verify --qr`` runs both)."""
    same_id: dict[str, Any] | None = None
    for doc in held:
        pairs = ([(doc, doc.envelope())] if isinstance(doc, SecuredCredential) and not doc.presentation
                 else _credentials_of(doc.envelope() if isinstance(doc, SecuredCredential) else doc))
        for secured, envelope in pairs:
            if str(secured.document.get("id") or "") != payload.credential_id:
                continue
            try:
                digest = credential_digest(secured)
            except MalformedDocument:
                continue
            if digest == payload.digest:
                return QrMatch("qr_match", payload, f"credential {payload.credential_id}: same id and SHA-256 "
                               "digest as the printed code", envelope)
            same_id = envelope
    if same_id is not None:
        return QrMatch("qr_digest_mismatch", payload, f"credential {payload.credential_id} is held, but its content "
                       "differs from the printed code's digest (altered, re-issued, or only partly disclosed)",
                       same_id)
    return QrMatch("qr_not_found", payload, f"no credential {payload.credential_id} in what was given")


def decode_qr_image(data: bytes, *, source: str = "image") -> list[str]:
    """The texts of the QR codes in an image (PNG, JPEG, ...), read with zxing-cpp and Pillow
    (installed with ``skillcred[qr-scan]``); raises :class:`QrCodeInvalid` when the bytes are
    not an image or hold no QR code."""
    try:
        import io

        import zxingcpp  # type: ignore[import-not-found,unused-ignore]
        from PIL import Image, UnidentifiedImageError
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise QrCodeInvalid(f"reading QR images needs zxing-cpp and Pillow ({exc.name} is not installed); "
                            "give the scanned text instead", path=source) from None
    try:
        with warnings.catch_warnings():  # Pillow warns of a bomb at open; the size is refused just below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))  # reads the header only
        with opened as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise QrCodeInvalid(f"image of {img.width}x{img.height} pixels is larger than a page scan "
                                    f"({MAX_IMAGE_PIXELS} pixels)", path=source)
            img.load()
            results = zxingcpp.read_barcodes(img.convert("L"))
    except QrCodeInvalid:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise QrCodeInvalid(f"not a readable image ({type(exc).__name__})", path=source) from None
    texts = [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
    if not texts:
        raise QrCodeInvalid("no QR code found in the image", path=source)
    return texts


def qr_svg(text: str, *, title: str = "") -> str:
    """An inline ``<svg>`` QR code of ``text`` (error correction M, a 4-module quiet zone): one
    path, no scripts, no external references, so the passport page stays self-contained."""
    import qrcode  # type: ignore[import-untyped,unused-ignore]
    from qrcode.constants import ERROR_CORRECT_M  # type: ignore[import-untyped,unused-ignore]

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(text.encode("utf-8"))
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    path = "".join(f"M{x},{y}h1v1h-1z" for y, row in enumerate(matrix) for x, on in enumerate(row) if on)
    label = f"<title>{html.escape(title)}</title>" if title else ""
    return (f'<svg class="qr" viewBox="0 0 {size} {size}" role="img" shape-rendering="crispEdges">{label}'
            f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{path}" fill="#000"/></svg>')
