"""``skillcred verify --qr IMAGE|TEXT [--credential FILE | --presentation FILE]`` (issue 21 item 3):
a printed code must name exactly the credential the employer holds (same id, same digest), and
that document must verify; everything else is refused or reported, never guessed."""

from __future__ import annotations

import base64
import io
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from passport_support import PassportWorld, assert_one_line_error, make_world, run
from skillcred._internal.jcs import canonicalize_json
from skillcred.errors import QrCodeInvalid
from skillcred.passport_qr import (
    MAX_INLINE_CHARS,
    QR_PREFIX,
    credential_digest,
    decode_qr_image,
    encode_qr_payload,
    match_qr,
    parse_qr_payload,
)
from skillcred.secured import SecuredCredential

CHALLENGE, DOMAIN = "c-8d1e5f", "werkgever.example"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PassportWorld]:
    yield make_world(tmp_path_factory.mktemp("qr"))


@pytest.fixture(scope="module")
def status_flags(world: PassportWorld) -> list[str]:
    return [a for p in world.publish_status() for a in ("--status-list", str(p))]


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _png_of(*texts: str) -> bytes:
    """One PNG with a QR code per text, side by side (as a scan of a page would hold them)."""
    import qrcode
    from PIL import Image

    images = [qrcode.make(t, border=4).get_image().convert("L") for t in texts]  # type: ignore[no-untyped-call]
    sheet = Image.new("L", (sum(i.width for i in images) + 40 * len(images), max(i.height for i in images)), 255)
    x = 0
    for i in images:
        sheet.paste(i, (x, 0))
        x += i.width + 40
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return buf.getvalue()


# -- the payload ---------------------------------------------------------------------------------


def test_reference_payload_round_trips_and_names_id_and_digest(world: PassportWorld) -> None:
    doc = world.docs["cnc"]
    text = encode_qr_payload(doc)
    assert text == f"{QR_PREFIX}ref:sha256={credential_digest(doc)}:{doc['id']}"
    p = parse_qr_payload(text)
    assert (p.form, p.credential_id, p.digest, p.credential) == ("ref", doc["id"], credential_digest(doc), None)
    # the digest is SHA-256 over the JCS form, proof included: any change moves it
    import hashlib

    assert credential_digest(doc) == _b64u(hashlib.sha256(canonicalize_json(doc)).digest())
    assert credential_digest({**doc, "name": doc["name"] + " "}) != credential_digest(doc)
    assert credential_digest({**doc, "proof": {**doc["proof"], "created": "2020-01-01T00:00:00Z"}}) != \
        credential_digest(doc)
    assert encode_qr_payload(doc, inline=False) == text


def test_a_small_credential_is_carried_whole(world: PassportWorld) -> None:
    doc = world.docs["vca"]
    text = encode_qr_payload(doc)
    assert text.startswith(f"{QR_PREFIX}vc:") and len(text) <= MAX_INLINE_CHARS
    p = parse_qr_payload(text)
    assert p.form == "vc" and p.credential == doc and p.digest == credential_digest(doc)
    assert encode_qr_payload(doc, inline=False).startswith(f"{QR_PREFIX}ref:")


def test_token_credentials_are_digested_by_their_token(tmp_path: Path, world: PassportWorld) -> None:
    from passport_support import ACHIEVEMENTS
    from skillcred.issuer import Issuer, load_achievement

    with Issuer.open(world.issuer_dir) as iss:
        jwt_rec, _ = iss.issue(load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml"), world.wallet.holder,
                               level="2", fmt="jwt")
        sd_rec, _ = iss.issue(load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml"), world.wallet.holder,
                              level="1", fmt="sd-jwt")
    import hashlib

    jwt, sd = jwt_rec.document, sd_rec.document
    assert credential_digest(jwt) == _b64u(hashlib.sha256(jwt["token"].encode()).digest())
    issuer_part = sd["token"].split("~", 1)[0]
    assert credential_digest(sd) == _b64u(hashlib.sha256(issuer_part.encode()).digest())
    assert encode_qr_payload(jwt).startswith(f"{QR_PREFIX}ref:")  # tokens are never inlined
    # an enveloped vc+jwt in a presentation is matched by the same digest
    envelope = SecuredCredential.from_record(jwt).envelope()
    vp = {"type": ["VerifiablePresentation"], "verifiableCredential": [world.docs["cnc"], envelope]}
    assert match_qr(parse_qr_payload(encode_qr_payload(jwt)), [vp]).code == "qr_match"


@pytest.mark.parametrize(("text", "needle"), [
    ("hello", "not a skillcred passport QR code"),
    ("https://evil.example/verify?id=1", "not a skillcred passport QR code"),
    ("skillcred:qr2:ref:sha256=AAAA:urn:x", "version '2' is not supported"),
    ("skillcred:qr1:", "unknown payload form ''"),
    ("skillcred:qr1:url:https://x", "unknown payload form 'url'"),
    ("skillcred:qr1:ref:sha1=" + _b64u(b"x" * 20) + ":urn:uuid:1", "'sha1' is not supported"),
    ("skillcred:qr1:ref:sha256=" + _b64u(b"x" * 31) + ":urn:uuid:1", "not an unpadded base64url SHA-256"),
    ("skillcred:qr1:ref:sha256=" + _b64u(b"x" * 32) + "=:urn:uuid:1", "not an unpadded base64url SHA-256"),
    ("skillcred:qr1:ref:sha256=" + base64.b64encode(b"\xfb" * 32).decode() + ":urn:uuid:1", "base64url SHA-256"),
    ("skillcred:qr1:ref:sha256=" + _b64u(b"x" * 32) + ":", "credential id is missing"),
    ("skillcred:qr1:ref:sha256=" + _b64u(b"x" * 32) + ":urn:uuid:1 2", "spaces or control characters"),
    ("skillcred:qr1:ref:sha256=" + _b64u(b"x" * 32) + ":urn:\x07", "spaces or control characters"),
    ("skillcred:qr1:vc:!!!", "not base64url DEFLATE"),
    ("skillcred:qr1:vc:" + _b64u(b"not deflate at all"), "not base64url DEFLATE"),
    ("skillcred:qr1:vc:" + _b64u(zlib.compress(b'{"id":"x"}')[2:-6]), "truncated"),
    ("skillcred:qr1:vc:" + _b64u(zlib.compress(b'{"id":"urn:uuid:1","name":"A"}' * 9, wbits=-15)[:-3]),
     "truncated"),
    ("skillcred:qr1:vc:" + "A" * 5000, "longer than any QR code holds"),
])
def test_malformed_payloads_are_refused_with_the_reason(text: str, needle: str) -> None:
    with pytest.raises(QrCodeInvalid) as info:
        parse_qr_payload(text)
    assert needle in info.value.message and info.value.code == "qr_invalid"


def _vc(raw: bytes) -> str:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return f"{QR_PREFIX}vc:{_b64u(c.compress(raw) + c.flush())}"


@pytest.mark.parametrize(("raw", "needle"), [
    (b"\0" * (2 * 1024 * 1024), "larger than"),          # a deflate bomb: stopped at the cap
    (b'{"id": "a", "id": "b"}', "not JSON"),             # duplicate member names (strict JSON)
    (b"[1, 2]", "not a JSON object with an id"),
    (b'{"type": "VerifiableCredential"}', "not a JSON object with an id"),
    (b"\xff\xfe", "not JSON"),
])
def test_a_damaged_embedded_credential_is_refused(raw: bytes, needle: str) -> None:
    with pytest.raises(QrCodeInvalid) as info:
        parse_qr_payload(_vc(raw))
    assert needle in info.value.message


# -- images ------------------------------------------------------------------------------------------


def test_images_decode_every_code_and_refuse_what_is_no_code(world: PassportWorld) -> None:
    a, b = encode_qr_payload(world.docs["cnc"]), encode_qr_payload(world.docs["diploma"])
    assert sorted(decode_qr_image(_png_of(a, b))) == sorted([a, b])
    from PIL import Image

    blank = io.BytesIO()
    Image.new("L", (200, 200), 255).save(blank, format="PNG")
    for data, needle in ((blank.getvalue(), "no QR code found"), (b"\x89PNG\r\n\x1a\nbroken", "not a readable image"),
                         (b"GIF89a", "not a readable image"), (b"", "not a readable image")):
        with pytest.raises(QrCodeInvalid) as info:
            decode_qr_image(data)
        assert needle in info.value.message
    # a decompression bomb: a huge image that compresses to almost nothing, refused from its header
    for side in (8_000, 10_000):  # under and over Pillow's own warning limit
        bomb = io.BytesIO()
        Image.new("1", (side, side), 1).save(bomb, format="PNG")
        assert len(bomb.getvalue()) < 100_000
        with pytest.raises(QrCodeInvalid) as info:
            decode_qr_image(bomb.getvalue())
        assert "larger than a page scan" in info.value.message


# -- the command -----------------------------------------------------------------------------------


def test_code_matches_the_credential_and_it_verifies(tmp_path: Path, world: PassportWorld,
                                                     status_flags: list[str]) -> None:
    text = encode_qr_payload(world.docs["cnc"])
    r = run(tmp_path, "verify", "--qr", text, "--credential", str(world.file("cnc")), *status_flags)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("QR VERIFIED: 1 code(s)") and "(qr_match)" in r.stdout
    assert "\nVERIFIED: " in r.stdout
    image = tmp_path / "scan.png"
    image.write_bytes(_png_of(text))
    r = run(tmp_path, "verify", "--qr", str(image), "--credential", str(world.file("cnc")), *status_flags, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["verified"] is True and out["qr"][0]["code"] == "qr_match"
    assert out["qr"][0]["payload"]["credentialId"] == world.docs["cnc"]["id"]
    assert out["verification"][0]["verified"] is True
    listed = tmp_path / "code.txt"  # the text typed from under the code
    listed.write_text(text + "\n", encoding="utf-8")
    assert run(tmp_path, "verify", "--qr", str(listed), "--credential", str(world.file("cnc")),
               *status_flags).returncode == 0
    assert run(tmp_path, "verify", "--qr", "-", "--credential", str(world.file("cnc")), *status_flags,
               input_text=text).returncode == 0


def test_an_altered_credential_with_the_same_id_is_a_digest_mismatch(tmp_path: Path, world: PassportWorld,
                                                                     status_flags: list[str]) -> None:
    text = encode_qr_payload(world.docs["cnc"])
    for change in ({"name": "CNC-programmeren (expert)"}, {"validUntil": "2099-01-01T00:00:00Z"}):
        altered = tmp_path / "altered.json"
        altered.write_text(json.dumps({**world.docs["cnc"], **change}), encoding="utf-8")
        r = run(tmp_path, "verify", "--qr", text, "--credential", str(altered), *status_flags)
        assert r.returncode == 1, r.stdout + r.stderr
        assert r.stdout.startswith("QR NOT VERIFIED") and "(qr_digest_mismatch)" in r.stdout


def test_another_credential_is_not_found_even_when_it_verifies(tmp_path: Path, world: PassportWorld,
                                                              status_flags: list[str]) -> None:
    r = run(tmp_path, "verify", "--qr", encode_qr_payload(world.docs["cnc"]), "--credential",
            str(world.file("diploma")), *status_flags, "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["verified"] is False and out["qr"][0]["code"] == "qr_not_found"
    assert out["verification"][0]["verified"] is True  # the document is fine; it is just not the printed one
    # a page scan with two codes against one credential: the other code is not matched
    image = tmp_path / "page.png"
    image.write_bytes(_png_of(encode_qr_payload(world.docs["cnc"]), encode_qr_payload(world.docs["diploma"])))
    r = run(tmp_path, "verify", "--qr", str(image), "--credential", str(world.file("cnc")), *status_flags)
    assert r.returncode == 1 and "(qr_match)" in r.stdout and "(qr_not_found)" in r.stdout


def _present(tmp_path: Path, world: PassportWorld, *select: str, domain: str = DOMAIN) -> Path:
    vp = tmp_path / f"vp-{'-'.join(select)}-{domain}.json"
    r = run(tmp_path, "present", "--wallet", str(world.wallet.root), *[a for s in select for a in ("--select", s)],
            "--challenge", CHALLENGE, "--domain", domain, "-o", str(vp))
    assert r.returncode == 0, r.stderr
    return vp


def test_code_matches_a_credential_in_a_presentation(tmp_path: Path, world: PassportWorld,
                                                     status_flags: list[str]) -> None:
    vp = _present(tmp_path, world, "cnc", "diploma")
    image = tmp_path / "page.png"
    image.write_bytes(_png_of(encode_qr_payload(world.docs["cnc"]), encode_qr_payload(world.docs["diploma"])))
    ok = run(tmp_path, "verify", "--qr", str(image), "--presentation", str(vp), "--challenge", CHALLENGE,
             "--domain", DOMAIN, *status_flags)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.count("(qr_match)") == 2
    # the presentation's own checks still run: another verifier's domain fails, match or not
    other = run(tmp_path, "verify", "--qr", str(image), "--presentation", str(vp), "--challenge", CHALLENGE,
                "--domain", "other.example", *status_flags)
    assert other.returncode == 1 and other.stdout.count("(qr_match)") == 2 and "domain" in other.stdout
    # a presentation that lacks the printed credential
    only_cnc = _present(tmp_path, world, "cnc")
    r = run(tmp_path, "verify", "--qr", encode_qr_payload(world.docs["soft"]), "--presentation", str(only_cnc),
            "--challenge", CHALLENGE, "--domain", DOMAIN, *status_flags)
    assert r.returncode == 1 and "(qr_not_found)" in r.stdout


def test_a_whole_credential_in_the_code_verifies_without_a_file(tmp_path: Path, world: PassportWorld,
                                                                status_flags: list[str]) -> None:
    text = encode_qr_payload(world.docs["vca"])
    r = run(tmp_path, "verify", "--qr", text, *status_flags)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "carried whole in the code" in r.stdout and "\nVERIFIED: QR code" in r.stdout
    # a forged whole credential (changed after signing) is carried fine, and fails its signature
    forged = {**world.docs["vca"], "name": "VCA-VIL"}
    forged["credentialSubject"] = {**forged["credentialSubject"], "achievement": {
        **forged["credentialSubject"]["achievement"], "name": "VCA-VIL voor leidinggevenden"}}
    r = run(tmp_path, "verify", "--qr", _vc(canonicalize_json(forged)), *status_flags)
    assert r.returncode == 1 and "NOT VERIFIED" in r.stdout and "signature" in r.stdout
    # and with a file too, the file must be the same credential
    assert run(tmp_path, "verify", "--qr", text, "--credential", str(world.file("vca")),
               *status_flags).returncode == 0
    assert run(tmp_path, "verify", "--qr", text, "--credential", str(world.file("cnc")),
               *status_flags).returncode == 1


def test_unusable_input_is_one_line_and_exit_2(tmp_path: Path, world: PassportWorld) -> None:
    cnc, ref = str(world.file("cnc")), encode_qr_payload(world.docs["cnc"])
    vp = _present(tmp_path, world, "cnc")
    not_image = tmp_path / "photo.png"
    not_image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    cases: list[tuple[tuple[str, ...], str]] = [
        (("--qr", "garbage", "--credential", cnc), "not a skillcred passport QR code"),
        (("--qr", str(tmp_path / "missing-scan.png"), "--credential", cnc), "no such file"),
        (("--qr", str(not_image), "--credential", cnc), "not a readable image"),
        (("--qr", ref), "holds only its id and digest"),
        (("--qr", ref, "--credential", cnc, "--presentation", str(vp)), "not both"),
        (("--qr", ref, "--credential", str(vp)), "give it with --presentation"),
        (("--qr", ref, "--presentation", cnc), "give it with --credential"),
        (("--qr", ref, cnc), "give no FILE"),
        (("--qr", "-", "--credential", "-"), "can be read from stdin"),
        (("--credential", cnc), "go with --qr"),
        ((), "give the FILE to verify"),
    ]
    for args, needle in cases:
        assert_one_line_error(run(tmp_path, "verify", *args), needle)


def test_library_match_says_which_and_why(world: PassportWorld) -> None:
    p = parse_qr_payload(encode_qr_payload(world.docs["soft"]))
    m = match_qr(p, [world.docs["cnc"], world.docs["soft"]])
    assert m.matched and m.credential == world.docs["soft"] and m.to_dict()["code"] == "qr_match"
    tampered: dict[str, Any] = json.loads(json.dumps(world.docs["soft"]))
    tampered["evidence"][0]["narrative"] = "Leidde een team van veertig."
    m = match_qr(p, [tampered])
    assert not m.matched and m.code == "qr_digest_mismatch" and "differs" in m.reason
    assert match_qr(p, []).code == "qr_not_found"
    assert match_qr(p, [{"type": "VerifiablePresentation", "verifiableCredential": "not a list"}]).code == \
        "qr_not_found"
