"""The skills passport: text, and a self-contained HTML page rendered in a real headless browser.

The page must work offline (no scripts, no external assets), show every credential, mark an
expired one, and escape what credentials say. Chromium (the Debian package, installed by
``make browser``, a dependency of ``make test``) renders it; the DOM it dumps and a screenshot
are checked, not just the HTML we wrote.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from html import escape as html_escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO
from skillcred.issuer import EvidenceInput, Issuer, init_issuer, load_achievement
from skillcred.passport import build_passport
from skillcred.wallet import Wallet
from support.cli import run_cli

CHROMIUM = "/usr/bin/chromium"
ACHIEVEMENTS = REPO / "examples" / "achievements"
PASSPHRASE = "passport test passphrase"
EVIDENCE = EvidenceInput(narrative="Plande het werk van een team van vier.", workplace="Metaalbedrijf De Vries",
                         hours=480, assessor="Piet Bakker (leermeester)")
HOSTILE_NAME = 'Lassen <script>alert("x")</script> & <img src="https://evil.example/p.png">'


def yaml_name(file: str) -> str:
    return str(yaml.safe_load((ACHIEVEMENTS / file).read_text(encoding="utf-8"))["achievement"]["name"])


class _Dom(HTMLParser):
    """Collects tags with their attributes, the text of each credential card, and all text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cards: dict[str, list[str]] = {}
        self.text: list[str] = []
        self._stack: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag in ("meta", "link", "img", "br", "hr", "input"):
            return
        card = a.get("data-credential-id")
        self._stack.append(card or (self._stack[-1] if self._stack else None))
        if card:
            self.cards[card] = []

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("meta", "link", "img", "br", "hr", "input") and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._stack and self._stack[-1]:
            self.cards[self._stack[-1]].append(data)


def parse(html: str) -> _Dom:
    d = _Dom()
    d.feed(html)
    d.close()
    return d


@pytest.fixture(scope="module")
def passport_wallet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Wallet, dict[str, dict[str, Any]]]]:
    """A wallet with a diploma, two skills (one expired), a soft skill and a hostile name."""
    base = tmp_path_factory.mktemp("passport")
    init_issuer(base / "roc", name="ROC Techniek & Co <Zwolle>", url="https://roc-techniek.example")
    hostile = yaml.safe_load((ACHIEVEMENTS / "technisch-tekeninglezen.yaml").read_text(encoding="utf-8"))
    hostile["achievement"]["id"] = "https://roc-techniek.example/achievements/hostile"
    hostile["achievement"]["name"] = HOSTILE_NAME
    (base / "hostile.yaml").write_text(yaml.safe_dump(hostile, allow_unicode=True), encoding="utf-8")
    w = Wallet.init(base / "wallet", passphrase=PASSPHRASE.encode())
    docs: dict[str, dict[str, Any]] = {}
    with Issuer.open(base / "roc") as iss:
        plan: list[tuple[str, Path, str | None, dict[str, Any]]] = [
            ("diploma", ACHIEVEMENTS / "mbo-verspaner-diploma.yaml", None, {}),
            ("cnc", ACHIEVEMENTS / "cnc-programmeren.yaml", "3", {}),
            ("expired", ACHIEVEMENTS / "mig-mag-lassen.yaml", "2",
             {"valid_from": datetime(2020, 1, 1, tzinfo=UTC), "valid_until": datetime(2021, 1, 1, tzinfo=UTC)}),
            ("soft", ACHIEVEMENTS / "plannen-en-organiseren.yaml", "2", {"evidence": EVIDENCE}),
            ("hostile", base / "hostile.yaml", "4", {}),
        ]
        for short, path, level, kw in plan:
            record, _ = iss.issue(load_achievement(path), w.holder, level=level, **kw)
            docs[short] = record.document
    w.add([(k, d) for k, d in docs.items()])
    yield w, docs


def env_for(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCRED_")}
    e.update(HOME=str(tmp_path), SKILLCRED_PASSPHRASE=PASSPHRASE)
    return e


def names(docs: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {k: d["credentialSubject"]["achievement"]["name"] for k, d in docs.items()}


def test_passport_text_groups_and_marks_expired(
    tmp_path: Path, passport_wallet: tuple[Wallet, dict[str, dict[str, Any]]]
) -> None:
    w, docs = passport_wallet
    r = run_cli("passport", "--wallet", str(w.root), env=env_for(tmp_path))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert w.holder in out and "5 credential(s)" in out
    assert names(docs)["diploma"] == yaml_name("mbo-verspaner-diploma.yaml")
    for name in names(docs).values():
        assert name in out
    # each credential is two lines: name (+ level), then issuer/dates/[status]
    lines = out.splitlines()
    status_of = {}
    for i, line in enumerate(lines):
        for short, name in names(docs).items():
            if line.startswith(f"  * {name}"):
                status_of[short] = re.search(r"\[([^\]]+)\]\s*$", lines[i + 1]).group(1)  # type: ignore[union-attr]
    assert status_of["expired"] == "EXPIRED"
    # dates alone never make a credential "valid": revocation was not checked (no status lists)
    assert [s for k, s in status_of.items() if k != "expired"] == ["valid dates, revocation not checked"] * 4
    assert out.count("EXPIRED") == 1
    # groups in passport order, each under its heading
    headings = ["Diplomas and qualifications", "Vocational skills", "Soft skills"]
    assert [out.index(h) for h in headings] == sorted(out.index(h) for h in headings)
    assert out.index("Soft skills") < out.index(names(docs)["soft"])
    assert out.index("Vocational skills") < out.index(names(docs)["cnc"]) < out.index("Soft skills")
    # "as of" a date before the expiry, the expired one was valid
    r = run_cli("passport", "--wallet", str(w.root), "--at", "2020-06-01", env=env_for(tmp_path))
    assert r.returncode == 0 and "EXPIRED" not in r.stdout and "not yet valid" in r.stdout


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_passport_html_is_self_contained_and_renders_in_chromium(
    tmp_path: Path, passport_wallet: tuple[Wallet, dict[str, dict[str, Any]]]
) -> None:
    w, docs = passport_wallet
    page = tmp_path / "passport.html"
    r = run_cli("passport", "--wallet", str(w.root), "--html", str(page), env=env_for(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    html = page.read_text(encoding="utf-8")

    # self-contained: no scripts, no external (or any) loaded assets, no remote CSS
    assert "<script" not in html.lower()
    written = parse(html)
    for tag, attrs in written.tags:
        assert tag not in ("script", "link", "img", "iframe", "object", "embed", "base"), tag
        for attr, value in attrs.items():
            if attr in ("src", "href", "srcset", "action", "poster", "data", "background"):
                assert not re.search(r"https?://", value or "", re.I), (tag, attr, value)
            assert not attr.startswith("on"), (tag, attr)
    assert not re.search(r"url\s*\(|@import", html, re.I)
    assert "&lt;script&gt;" in html  # the hostile name is shown, escaped

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (run 'make browser' as root, or apt-get install chromium); "
                    "the static checks above passed, the real-browser rendering was not tested")
    profile = tmp_path / "chromium-profile"
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={profile}"]
    browser_env = {**os.environ, "HOME": str(tmp_path)}
    dump = subprocess.run([*flags, "--dump-dom", page.as_uri()], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, env=browser_env, timeout=90)
    assert dump.returncode == 0, dump.stderr[-2000:]
    dom = parse(dump.stdout)
    assert any(tag == "body" for tag, _ in dom.tags), dump.stdout[:500]
    rendered_text = " ".join(" ".join(dom.text).split())
    for name in names(docs).values():
        assert " ".join(name.split()) in rendered_text, name
    assert set(dom.cards) == {d["id"] for d in docs.values()}
    for short, d in docs.items():
        card = " ".join("".join(dom.cards[d["id"]]).split())
        assert names(docs)[short] in card
        assert ("EXPIRED" in card) == (short == "expired"), (short, card)
    # the hostile name became text: the browser made no script or image out of it
    assert not any(tag in ("script", "img") for tag, _ in dom.tags)
    assert HOSTILE_NAME in rendered_text

    shot = tmp_path / "pp.png"
    s = subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1000,1400", "--hide-scrollbars",
                        page.as_uri()], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       env=browser_env, timeout=90)
    assert s.returncode == 0, s.stderr[-2000:]
    data = shot.read_bytes()
    assert len(data) > 10_000, len(data)
    assert _png_size(data) == (1000, 1400)
    shutil.copy(shot, tmp_path / "keep.png")  # left in pytest's tmp folder for a human look


def test_passport_library_html_escapes_and_counts(passport_wallet: tuple[Wallet, dict[str, dict[str, Any]]]) -> None:
    w, docs = passport_wallet
    pp = build_passport(w.holder, w.entries(), at=datetime(2026, 1, 1, tzinfo=UTC))
    assert pp.count == 5
    kinds = {kind: [e.id for e in entries] for kind, _, entries in pp.groups}
    assert kinds["diploma"] == [docs["diploma"]["id"]]
    assert kinds["soft-skill"] == [docs["soft"]["id"]]
    assert set(kinds["skill"]) == {docs["cnc"]["id"], docs["expired"]["id"], docs["hostile"]["id"]}
    html = pp.to_html()
    assert "ROC Techniek &amp; Co &lt;Zwolle&gt;" in html and "<Zwolle>" not in html
    assert html_escape(HOSTILE_NAME) in html and "<script" not in html and "<img" not in html
    empty = build_passport(w.holder, []).to_html()
    assert "No credentials yet" in empty and "<script" not in empty
