"""The printed passport (issue 21 item 3, issue 16 item 1): ``passport --pdf`` prints A4 through
headless Chromium; the PDF's pages are rendered to PNG (poppler's pdftoppm, installed by
``make browser``) and every QR code on them is decoded with an independent decoder (zxing-cpp)
to what the page says next to it (the credential id and its SHA-256 digest) and to the credential
itself; a decoded page scan then passes ``verify --qr``. The screen layout is looked at at 1280 px.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from passport_support import WORKER, PassportWorld, make_world, run
from skillcred.passport import find_chromium
from skillcred.passport_qr import credential_digest, decode_qr_image, parse_qr_payload

PDFTOPPM = shutil.which("pdftoppm")
PDFTOTEXT = shutil.which("pdftotext")


def _need_tools() -> None:
    if find_chromium() is None:
        pytest.skip("no Chromium (run 'make browser' as root, or apt-get install chromium): the PDF was not printed")
    if PDFTOPPM is None or PDFTOTEXT is None:
        pytest.skip("no pdftoppm/pdftotext (poppler-utils; 'make browser' installs it): the PDF was not looked at")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PassportWorld]:
    yield make_world(tmp_path_factory.mktemp("print"))


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _has_code(page: Path) -> bool:
    from skillcred.errors import QrCodeInvalid

    try:
        return bool(decode_qr_image(page.read_bytes()))
    except QrCodeInvalid:
        return False


def _print(tmp_path: Path, world: PassportWorld, *extra: str) -> tuple[Path, list[Path], str]:
    """passport --pdf, then each page as a PNG (200 dpi) and the PDF's text."""
    pdf = tmp_path / "passport.pdf"
    r = run(tmp_path, "passport", "--wallet", str(world.wallet.root), "--pdf", str(pdf), *extra)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and f"PDF passport written to {pdf}" in r.stderr
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert PDFTOPPM and PDFTOTEXT
    subprocess.run([PDFTOPPM, "-r", "200", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120,
                   capture_output=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    # -raw: content-stream order, and no dehyphenation -- the default mode joins a line that ends
    # in "-" to the next one by dropping the hyphen, so a UUID or base64url digest that wrapped
    # after one of its own hyphens read as a different string (failed about one run in five)
    text = subprocess.run([PDFTOTEXT, "-raw", str(pdf), "-"], check=True, timeout=60, capture_output=True,
                          text=True).stdout
    return pdf, pages, text


def test_printed_pdf_is_a4_and_its_qr_codes_decode_to_what_the_page_says(
    tmp_path: Path, world: PassportWorld
) -> None:
    _need_tools()
    pdf, pages, text = _print(tmp_path, world)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60).stdout
    assert "(A4)" in info, info
    assert pages and all(_png_size(p.read_bytes()) in ((1653, 2339), (1654, 2339)) for p in pages)  # A4, 200 dpi
    flat = "".join(text.split())  # ids and digests wrap in the narrow QR caption
    for needle in (WORKER, "Skills passport", "What this printout proves, and what it does not", "proves nothing",
                   "revocation not checked here", "Gevorderd (level 2 of 3)", "MBO-VERSP-3, CREBO 25751"):
        assert "".join(needle.split()) in flat, needle
    decoded = [parse_qr_payload(t) for p in pages for t in decode_qr_image(p.read_bytes(), source=p.name)]
    by_id = {d["id"]: d for d in world.docs.values()}
    assert sorted(p.credential_id for p in decoded) == sorted(by_id)  # one code per credential, each readable
    for p in decoded:
        assert p.digest == credential_digest(by_id[p.credential_id])
        assert p.credential_id in flat and p.digest in flat  # the page states what its code holds
        assert p.form == ("vc" if p.credential_id == world.docs["vca"]["id"] else "ref")
    assert next(p for p in decoded if p.form == "vc").credential == world.docs["vca"]
    for i, p in enumerate(pages):
        shutil.copy(p, tmp_path / f"keep-{i}.png")  # left in pytest's tmp folder for a human look


def test_a_scanned_printout_checks_against_the_credentials_sent(tmp_path: Path, world: PassportWorld) -> None:
    _need_tools()
    _, pages, _ = _print(tmp_path, world, "--only", "cnc", "--only", "vca")
    page = pages[0]
    codes = decode_qr_image(page.read_bytes())
    assert len(codes) == 2  # only what the worker chose is printed (the rest of the pages: the footer)
    assert all("QR" not in p.name and not _has_code(p) for p in pages[1:])
    lists = [a for p in world.publish_status() for a in ("--status-list", str(p))]
    vp = tmp_path / "vp.json"
    assert run(tmp_path, "present", "--wallet", str(world.wallet.root), "--select", "cnc", "--select", "vca",
               "--challenge", "c-1", "--domain", "werkgever.example", "-o", str(vp)).returncode == 0
    r = run(tmp_path, "verify", "--qr", str(page), "--presentation", str(vp), "--challenge", "c-1",
            "--domain", "werkgever.example", *lists)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("QR VERIFIED: 2 code(s)") and r.stdout.count("(qr_match)") == 2
    # the same scan against a presentation of only one of them does not pass
    one = tmp_path / "one.json"
    assert run(tmp_path, "present", "--wallet", str(world.wallet.root), "--select", "cnc", "--challenge", "c-1",
               "--domain", "werkgever.example", "-o", str(one)).returncode == 0
    r = run(tmp_path, "verify", "--qr", str(page), "--presentation", str(one), "--challenge", "c-1",
            "--domain", "werkgever.example", *lists)
    assert r.returncode == 1 and "(qr_not_found)" in r.stdout


def test_screen_layout_at_1280_px(tmp_path: Path, world: PassportWorld) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium (run 'make browser' as root): the page was not rendered")
    page = tmp_path / "passport.html"
    assert run(tmp_path, "passport", "--wallet", str(world.wallet.root), "--html", str(page)).returncode == 0
    shot = tmp_path / "screen.png"
    flags = [chromium, "--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
             f"--user-data-dir={tmp_path / 'profile'}", "--no-sandbox", f"--screenshot={shot}",
             "--window-size=1280,2200", "--hide-scrollbars", page.as_uri()]
    s = subprocess.run(flags, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                       env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert s.returncode == 0, s.stderr[-2000:]
    data = shot.read_bytes()
    assert _png_size(data) == (1280, 2200) and len(data) > 30_000
    # the codes on screen decode too (someone may scan the screen)
    assert len(decode_qr_image(data)) == 4
