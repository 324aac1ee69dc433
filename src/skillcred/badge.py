"""Baked Open Badges: a credential carried inside the badge image people share.

Open Badges 3.0 §5.3 ("baking") puts the signed credential into the image itself, so the
picture a learner posts or mails *is* the credential:

* **PNG**: one ``iTXt`` chunk with the keyword ``openbadgecredential``, uncompressed; its text
  is the compact JWS of a VC-JWT credential, or the JSON of a credential with an embedded
  (Data Integrity) proof;
* **SVG**: one ``<openbadges:credential>`` element in the namespace
  ``https://purl.imsglobal.org/ob/v3p0`` right inside the root ``<svg>``; a VC-JWT goes into its
  ``verify`` attribute, a JSON credential into its text (a CDATA section).

Unbaking reads images from strangers, before any signature is checked, so it is strict and
bounded: a PNG is walked chunk by chunk with every length checked against what is left and
every CRC checked (a truncated or corrupt file is refused, not half-read); a chunk longer than
the image limit is refused before anything is read; the credential's text is bounded like any
JSON file; an image holding more than one credential is refused (which one would the holder
mean?). An SVG is parsed with :mod:`defusedxml`: no DOCTYPE at all (so no entity, internal or
external, and no billion laughs), and no reference out of the file (an ``href`` /
``xlink:href`` that is not a ``#fragment`` or a ``data:`` URL, an XInclude), because a badge
that pulls content from elsewhere is not the same badge for everyone who opens it.

Every refusal is a :class:`~skillcred.errors.BadgeInvalid` whose ``reason`` names what is
wrong (``docs/errors.md``). Nothing here verifies the credential: that is the wallet's and the
verifier's job, exactly as for a credential file.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any, Literal, cast

# The XML stack (defusedxml, xml.sax and, through it, the stdlib URL and HTTP clients) loads only
# when an SVG is read or written: `skillcred verify` asks this module whether a file is a baked
# badge, and a PNG or a JSON file must not pay for the XML parsers.
if TYPE_CHECKING:
    from xml.dom import minidom
    from xml.etree import ElementTree

from skillcred._internal.fileio import MAX_JSON_BYTES, parse_json
from skillcred.errors import BadgeInvalid, MalformedDocument
from skillcred.secured import SecuredCredential

__all__ = [
    "MAX_BADGE_BYTES",
    "OB3_NAMESPACE",
    "PNG_KEYWORD",
    "BadgeFormat",
    "UnbakedBadge",
    "achievement_image",
    "badge_format",
    "bake",
    "credential_text",
    "default_image",
    "plain_badge",
    "unbake",
]

BadgeFormat = Literal["png", "svg"]

#: the iTXt keyword of an OB 3.0 baked PNG (OB 2.0 used ``openbadges``)
PNG_KEYWORD = b"openbadgecredential"
#: the namespace of the ``<openbadges:credential>`` element (OB 2.0: ``http://openbadges.org``)
OB3_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
#: largest badge image read: badge images are a few hundred KB; this leaves room for large ones
MAX_BADGE_BYTES = 32 * 1024 * 1024
#: largest credential text in an image: the same bound as any JSON file skillcred reads
MAX_CREDENTIAL_BYTES = MAX_JSON_BYTES

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_OB2_PNG_KEYWORD = b"openbadges"
_OB2_NAMESPACE = "http://openbadges.org"
_XLINK = "http://www.w3.org/1999/xlink"
_XINCLUDE = "http://www.w3.org/2001/XInclude"
_SVG_NS = "http://www.w3.org/2000/svg"
_CREDENTIAL_TAG = f"{{{OB3_NAMESPACE}}}credential"
_PNG_MAX_CHUNK = 2**31 - 1  # PNG §5.3: a chunk length is at most 2^31 - 1
_JWS_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
#: elements and attributes that run code when a browser shows the SVG; refused when baking,
#: so a badge skillcred writes is never a script carrier
_ACTIVE_ELEMENTS = frozenset({"script", "foreignobject", "iframe", "embed", "object", "handler"})
_CSS_URL_RE = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.IGNORECASE)


def _css_loads_external(text: str) -> bool:
    """Does CSS text (a ``<style>`` element, a ``style`` or presentation attribute) load content
    from outside the file: an ``@import``, or a ``url(...)`` that is not a ``#fragment`` or a
    ``data:`` URL?"""
    if "@import" in text.lower():
        return True
    return any(not (m.group(1).startswith("#") or m.group(1).lower().startswith("data:"))
               for m in _CSS_URL_RE.finditer(text))


@dataclass(frozen=True)
class UnbakedBadge:
    """What a baked image carries.

    ``text`` is the credential exactly as baked (JSON text or a compact JWS); ``credential`` is
    it parsed: a JSON document (Data Integrity) or a :class:`SecuredCredential` (a token), not
    yet verified.
    """

    image_format: BadgeFormat
    text: str
    credential: dict[str, Any] | SecuredCredential

    @property
    def is_token(self) -> bool:
        """True for a VC-JWT (or other token) credential, False for a JSON document."""
        return isinstance(self.credential, SecuredCredential)


def badge_format(data: bytes) -> BadgeFormat | None:
    """``png`` or ``svg`` told from the content (never from a file name), else None."""
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    head = data[:4096].lstrip()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip()
    if head.startswith(b"<") and (b"<svg" in data[:65536] or b":svg" in data[:65536]):
        return "svg"
    return None


# -- the credential text -----------------------------------------------------------------------


def credential_text(credential: Mapping[str, Any] | SecuredCredential, *, source: str = "<input>") -> str:
    """The text OB 3.0 §5.3 bakes for ``credential``: the compact JWS of a VC-JWT, or the JSON
    of a credential with an embedded proof. Other formats (SD-JWT, COSE) and presentations are
    refused: §5.3 defines no carrier for them, so no badge reader would find them."""
    if isinstance(credential, SecuredCredential):
        if credential.presentation:
            raise BadgeInvalid("not_a_credential", f"a {credential.label} is a presentation, not a credential",
                               path=source)
        if credential.format == "jwt" and credential.token is not None:
            return credential.token
        if credential.format != "di":
            raise BadgeInvalid("credential_format_unsupported",
                               f"a {credential.label} cannot be baked: Open Badges 3.0 bakes a VC-JWT or a "
                               "credential with an embedded proof", path=source)
        credential = credential.document
    types = credential.get("type")
    types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    if "VerifiableCredential" not in types:
        raise BadgeInvalid("not_a_credential", "not a verifiable credential (type lacks VerifiableCredential)",
                           path=source)
    if "proof" not in credential:
        raise BadgeInvalid("credential_unsigned", "the credential has no proof: a badge carries a signed credential",
                           path=source)
    return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))


def _parse_credential_text(text: str, source: str) -> dict[str, Any] | SecuredCredential:
    stripped = text.strip()
    if not stripped:
        raise BadgeInvalid("credential_malformed", "the badge's credential is empty", path=source)
    if stripped.startswith("{"):
        try:
            value = parse_json(stripped.encode("utf-8"), source=source, max_bytes=MAX_CREDENTIAL_BYTES)
        except MalformedDocument as exc:
            raise BadgeInvalid("credential_malformed", f"the badge's credential is not valid JSON: {exc.message}",
                               path=source) from exc
        if not isinstance(value, dict):
            raise BadgeInvalid("credential_malformed", "the badge's credential is not a JSON object", path=source)
        return value
    if not _JWS_RE.fullmatch(stripped):
        raise BadgeInvalid("credential_malformed", "the badge's credential is neither JSON nor a compact JWS",
                           path=source)
    try:
        secured = SecuredCredential.from_file_bytes(stripped.encode("ascii"), source)
    except MalformedDocument as exc:
        raise BadgeInvalid("credential_malformed", f"the badge's credential is not a credential: {exc.message}",
                           path=source) from exc
    if secured.presentation:
        raise BadgeInvalid("not_a_credential", "the badge carries a presentation, not a credential", path=source)
    return secured


# -- PNG ---------------------------------------------------------------------------------------


def _png_chunks(data: bytes, source: str) -> list[tuple[bytes, bytes]]:
    """Every chunk of a PNG as (type, data), each length and CRC checked, up to IEND."""
    if not data.startswith(_PNG_SIGNATURE):
        raise BadgeInvalid("not_a_badge_image", "not a PNG image", path=source)
    chunks: list[tuple[bytes, bytes]] = []
    pos = len(_PNG_SIGNATURE)
    while True:
        if len(data) - pos < 12:
            raise BadgeInvalid("png_truncated", "the PNG ends in the middle of a chunk (no IEND)", path=source)
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        if length > _PNG_MAX_CHUNK or length > MAX_BADGE_BYTES:
            raise BadgeInvalid("png_chunk_too_large",
                               f"a PNG chunk declares {length} bytes, more than the {MAX_BADGE_BYTES} allowed",
                               path=source)
        if not re.fullmatch(rb"[A-Za-z]{4}", ctype):
            raise BadgeInvalid("png_malformed", "a PNG chunk has an invalid type", path=source)
        end = pos + 8 + length
        if end + 4 > len(data):
            raise BadgeInvalid("png_truncated",
                               f"the PNG ends inside its {ctype.decode('ascii')} chunk", path=source)
        body = data[pos + 8:end]
        (crc,) = struct.unpack(">I", data[end:end + 4])
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            raise BadgeInvalid("png_crc_mismatch",
                               f"the PNG's {ctype.decode('ascii')} chunk fails its CRC (the file is corrupt)",
                               path=source)
        if not chunks and ctype != b"IHDR":
            raise BadgeInvalid("png_malformed", "the PNG does not start with an IHDR chunk", path=source)
        chunks.append((ctype, body))
        pos = end + 4
        if ctype == b"IEND":
            return chunks


def _itxt_keyword(body: bytes) -> bytes:
    return body.split(b"\x00", 1)[0]


def _png_credential(chunks: list[tuple[bytes, bytes]], source: str) -> str | None:
    found: list[bytes] = []
    ob2 = False
    for ctype, body in chunks:
        if ctype == b"iTXt":
            keyword = _itxt_keyword(body)
            if keyword == PNG_KEYWORD:
                found.append(body)
            elif keyword == _OB2_PNG_KEYWORD:
                ob2 = True
        elif ctype in (b"tEXt", b"zTXt") and _itxt_keyword(body) == PNG_KEYWORD:
            raise BadgeInvalid("png_malformed", f"the credential is in a {ctype.decode('ascii')} chunk; "
                               "Open Badges 3.0 bakes it in an iTXt chunk", path=source)
    if len(found) > 1:
        raise BadgeInvalid("several_credentials",
                           f"the PNG carries {len(found)} 'openbadgecredential' chunks; a badge carries one",
                           path=source)
    if not found:
        if ob2:
            raise BadgeInvalid("ob2_badge", "an Open Badges 2.0 badge (iTXt 'openbadges'): only Open Badges 3.0 "
                               "credentials are read", path=source)
        return None
    body = found[0]
    rest = body[len(PNG_KEYWORD) + 1:]
    if len(rest) < 2:
        raise BadgeInvalid("png_malformed", "the 'openbadgecredential' iTXt chunk is cut short", path=source)
    flag, method, rest = rest[0], rest[1], rest[2:]
    parts = rest.split(b"\x00", 2)
    if len(parts) != 3:
        raise BadgeInvalid("png_malformed", "the 'openbadgecredential' iTXt chunk lacks its language tag or "
                           "translated keyword", path=source)
    if flag != 0 or method != 0:
        raise BadgeInvalid("png_compressed_credential",
                           "the credential chunk is compressed; Open Badges 3.0 bakes it uncompressed", path=source)
    text = parts[2]
    if len(text) > MAX_CREDENTIAL_BYTES:
        raise BadgeInvalid("credential_too_large",
                           f"the baked credential has {len(text)} bytes, more than {MAX_CREDENTIAL_BYTES}",
                           path=source)
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise BadgeInvalid("credential_malformed", "the baked credential is not UTF-8 text", path=source) from None


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def _bake_png(image: bytes, text: str, source: str) -> bytes:
    chunks = _png_chunks(image, source)
    if _png_credential(chunks, source) is not None:
        raise BadgeInvalid("already_baked", "the image already carries a credential", path=source)
    itxt = PNG_KEYWORD + b"\x00\x00\x00\x00\x00" + text.encode("utf-8")
    out = [_PNG_SIGNATURE]
    for ctype, body in chunks:
        if ctype == b"IEND":
            out.append(_png_chunk(b"iTXt", itxt))
        out.append(_png_chunk(ctype, body))
    return b"".join(out)


# -- SVG ---------------------------------------------------------------------------------------


def _svg_root(data: bytes, source: str) -> ElementTree.Element:
    """The SVG parsed with defusedxml: no DTD, no entities, no external references."""
    from xml.etree import ElementTree

    import defusedxml  # type: ignore[import-untyped]
    import defusedxml.ElementTree  # type: ignore[import-untyped]

    try:
        root = cast(ElementTree.Element, defusedxml.ElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True))
    except defusedxml.DTDForbidden:
        raise BadgeInvalid("svg_dtd_forbidden", "the SVG has a DOCTYPE (a DTD can define entities and pull in "
                           "external files); a badge SVG needs none", path=source) from None
    except defusedxml.EntitiesForbidden:
        raise BadgeInvalid("svg_entity_forbidden", "the SVG defines entities", path=source) from None
    except defusedxml.ExternalReferenceForbidden:
        raise BadgeInvalid("svg_external_reference", "the SVG refers to an external document", path=source) from None
    except ElementTree.ParseError as exc:
        raise BadgeInvalid("svg_malformed", f"not well-formed XML: {exc}", path=source) from None
    except defusedxml.DefusedXmlException as exc:  # anything else defusedxml forbids
        raise BadgeInvalid("svg_malformed", f"the SVG uses a forbidden XML feature: {exc}", path=source) from None
    if root.tag not in (f"{{{_SVG_NS}}}svg", "svg"):
        raise BadgeInvalid("not_a_badge_image", "the XML document is not an SVG image", path=source)
    for el in root.iter():  # comments and processing instructions are not kept by the parser
        if el.tag.startswith(f"{{{_XINCLUDE}}}"):
            raise BadgeInvalid("svg_external_reference", "the SVG includes another document (XInclude)", path=source)
        if el.tag.rsplit("}", 1)[-1] == "style" and _css_loads_external(el.text or ""):
            raise BadgeInvalid("svg_external_reference", "the SVG's style sheet loads content from outside the file",
                               path=source)
        for name, value in el.attrib.items():
            local = name.rsplit("}", 1)[-1]
            if local == "href" or name == f"{{{_XLINK}}}href":
                ref = value.strip()
                if not (ref.startswith("#") or ref.lower().startswith("data:")):
                    raise BadgeInvalid("svg_external_reference",
                                       f"the SVG refers to content outside the file ({ref[:80]!r})", path=source)
            elif _css_loads_external(value):
                raise BadgeInvalid("svg_external_reference",
                                   f"the SVG's {local} attribute loads content from outside the file", path=source)
    return root


def _svg_credential(root: ElementTree.Element, source: str) -> str | None:
    nodes = [el for el in root.iter() if el.tag == _CREDENTIAL_TAG]
    if len(nodes) > 1:
        raise BadgeInvalid("several_credentials",
                           f"the SVG carries {len(nodes)} <openbadges:credential> elements; a badge carries one",
                           path=source)
    if not nodes:
        if any(el.tag == f"{{{_OB2_NAMESPACE}}}assertion" for el in root.iter()):
            raise BadgeInvalid("ob2_badge", "an Open Badges 2.0 badge (<openbadges:assertion>): only Open Badges 3.0 "
                               "credentials are read", path=source)
        return None
    node = nodes[0]
    verify = node.get("verify")
    text = (node.text or "").strip()
    if verify is not None and text:
        raise BadgeInvalid("credential_malformed", "the <openbadges:credential> element has both a 'verify' "
                           "attribute and text: which one is the credential?", path=source)
    value = verify if verify is not None else text
    if len(value.encode("utf-8")) > MAX_CREDENTIAL_BYTES:
        raise BadgeInvalid("credential_too_large", "the baked credential is larger than any credential file may be",
                           path=source)
    return value


def _bake_svg(image: bytes, text: str, is_token: bool, source: str) -> bytes:
    root = _svg_root(image, source)
    if _svg_credential(root, source) is not None:
        raise BadgeInvalid("already_baked", "the image already carries a credential", path=source)
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1].lower() in _ACTIVE_ELEMENTS:
            raise BadgeInvalid("svg_active_content", f"the SVG holds a <{el.tag.rsplit('}', 1)[-1]}> element; "
                               "a badge must not carry scripts", path=source)
        for name, value in el.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on") or value.strip().lower().startswith(("javascript:", "vbscript:")):
                raise BadgeInvalid("svg_active_content", f"the SVG has a script attribute ({local})", path=source)
    # Checked above with ElementTree (namespaces resolved); written with minidom, which keeps the
    # document's own prefixes and layout instead of renaming them ns0:, ns1:, ...
    import defusedxml.minidom  # type: ignore[import-untyped]

    doc: minidom.Document = defusedxml.minidom.parseString(image, forbid_dtd=True, forbid_entities=True,
                                                          forbid_external=True)
    try:
        svg = doc.documentElement
        assert svg is not None  # parsed above: a document with a root element
        node = doc.createElementNS(OB3_NAMESPACE, "openbadges:credential")
        node.setAttribute("xmlns:openbadges", OB3_NAMESPACE)
        if is_token:
            node.setAttribute("verify", text)
        elif "]]>" in text:
            node.appendChild(doc.createTextNode(text))  # a CDATA section cannot hold "]]>": escaped text then
        else:
            node.appendChild(doc.createCDATASection(text))
        svg.insertBefore(node, svg.firstChild)  # "directly after the <svg> tag" (OB 3.0 §5.3)
        return doc.toxml(encoding="utf-8")
    finally:
        doc.unlink()


# -- the API -----------------------------------------------------------------------------------


def unbake(data: bytes, *, source: str = "<input>") -> UnbakedBadge:
    """The one credential a baked PNG or SVG carries, parsed but not verified.

    Raises :class:`BadgeInvalid` for an image that is not a PNG/SVG, is truncated, corrupt or
    hostile, carries no credential, more than one, or one that is not JSON / a compact JWS.
    """
    if len(data) > MAX_BADGE_BYTES:
        raise BadgeInvalid("image_too_large", f"the image is larger than {MAX_BADGE_BYTES} bytes", path=source)
    fmt = badge_format(data)
    if fmt == "png":
        text = _png_credential(_png_chunks(data, source), source)
    elif fmt == "svg":
        text = _svg_credential(_svg_root(data, source), source)
    else:
        raise BadgeInvalid("not_a_badge_image", "not a PNG or SVG image", path=source)
    if text is None:
        raise BadgeInvalid("no_credential", f"the {fmt.upper()} carries no Open Badges 3.0 credential", path=source)
    return UnbakedBadge(fmt, text, _parse_credential_text(text, source))


def bake(
    image: bytes,
    credential: Mapping[str, Any] | SecuredCredential,
    *,
    source: str = "<image>",
    credential_source: str = "<credential>",
) -> bytes:
    """``image`` (PNG or SVG) with ``credential`` baked in (OB 3.0 §5.3).

    The rest of a PNG is kept byte for byte (the chunk goes before IEND); an SVG is refused
    when it has a DOCTYPE, an external reference or active content (scripts, ``on*``
    handlers), so skillcred never hands out a badge that runs code or changes with the web. An
    image that already carries a credential is refused (``already_baked``).
    """
    if len(image) > MAX_BADGE_BYTES:
        raise BadgeInvalid("image_too_large", f"the image is larger than {MAX_BADGE_BYTES} bytes", path=source)
    text = credential_text(credential, source=credential_source)
    is_token = isinstance(credential, SecuredCredential) and credential.format == "jwt"
    fmt = badge_format(image)
    if fmt == "png":
        return _bake_png(image, text, source)
    if fmt == "svg":
        return _bake_svg(image, text, is_token, source)
    raise BadgeInvalid("not_a_badge_image", "not a PNG or SVG image (only those can be baked)", path=source)


def achievement_image(credential: Mapping[str, Any] | SecuredCredential) -> tuple[BadgeFormat, bytes] | None:
    """The achievement's own image when the credential embeds it as a PNG or SVG ``data:`` URL
    (an image given by web address is never fetched: None then)."""
    doc = credential.document if isinstance(credential, SecuredCredential) else credential
    subjects = doc.get("credentialSubject")
    for subject in subjects if isinstance(subjects, list) else [subjects]:
        achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
        image = achievement.get("image") if isinstance(achievement, Mapping) else None
        url = image.get("id") if isinstance(image, Mapping) else image
        if not isinstance(url, str):
            continue
        match = re.fullmatch(r"data:(image/png|image/svg\+xml)(;[^,;]*)*?(;base64)?,(.*)", url.strip(), re.S)
        if not match:
            continue
        try:
            from urllib.parse import unquote_to_bytes

            raw = (base64.b64decode(match.group(4), validate=True) if match.group(3)
                   else unquote_to_bytes(match.group(4)))
        except (binascii.Error, ValueError):
            continue
        fmt = badge_format(raw)
        if fmt is not None:
            return fmt, raw
    return None


def _achievement_name(credential: Mapping[str, Any] | SecuredCredential) -> str:
    doc = credential.document if isinstance(credential, SecuredCredential) else credential
    subjects = doc.get("credentialSubject")
    for subject in subjects if isinstance(subjects, list) else [subjects]:
        achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
        if isinstance(achievement, Mapping) and isinstance(achievement.get("name"), str):
            return str(achievement["name"])
    return str(doc.get("name") or "Badge")


def plain_badge(fmt: BadgeFormat, title: str = "Badge") -> bytes:
    """A simple generated badge image (a ribbon-blue disc; the SVG also shows ``title``), for
    credentials whose achievement has no image of its own. Made here: no network, no template."""
    if fmt == "svg":
        label = escape(title[:40])
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="{_SVG_NS}" width="256" height="256" viewBox="0 0 256 256">'
            '<circle cx="128" cy="128" r="120" fill="#1f4e79"/>'
            '<circle cx="128" cy="128" r="100" fill="none" stroke="#f2c14e" stroke-width="8"/>'
            f'<text x="128" y="136" font-family="sans-serif" font-size="18" fill="#ffffff" '
            f'text-anchor="middle">{label}</text></svg>\n'
        ).encode()
    size = 128
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter: none
        for x in range(size):
            d2 = (x - 63.5) ** 2 + (y - 63.5) ** 2
            if d2 <= 60**2:
                row += b"\xf2\xc1\x4e\xff" if 48**2 <= d2 <= 52**2 else b"\x1f\x4e\x79\xff"
            else:
                row += b"\x00\x00\x00\x00"
        rows.append(bytes(row))
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (_PNG_SIGNATURE + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + _png_chunk(b"IEND", b""))


def default_image(credential: Mapping[str, Any] | SecuredCredential, fmt: BadgeFormat | None = None) -> bytes:
    """The image to bake ``credential`` into when none is given: the achievement's own (when it
    is of format ``fmt``, or any when ``fmt`` is None), else a generated plain badge."""
    own = achievement_image(credential)
    if own is not None and (fmt is None or own[0] == fmt):
        return own[1]
    return plain_badge(fmt or "png", _achievement_name(credential))
