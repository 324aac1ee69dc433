"""Issue #13 item 9: no control or bidi character from a file reaches the terminal or an HTML page.

An issuer's name, an achievement's name, a profile's labels, a DID document's id, a trust-list
entry, a file name: whoever wrote them chooses every character. Printed raw, ``"ROC\\r✔ VERIFIED"``
overwrites the verdict line, ``\\x1b[2J`` clears the screen, ``\\x1b]0;...\\x07`` retitles the
window, U+202E reorders what follows, U+2028 breaks a line in some terminals, C1 U+009B is a
one-byte CSI. Each is shown as a visible escape instead (``\\x0d``, ``\\x1b``, ``\\u202e``, ...);
HTML puts each untrusted value in ``<bdi>``; JSON on stdout escapes them as ``\\uXXXX`` while
the parsed value stays exact; ordinary accented, Polish, Arabic and CJK text is left alone.

The commands run as users run them (a subprocess, stdin closed, a clean home folder) and the
assertions are on the bytes they write. The credentials are made with the library, signed
with the hostile names in them (the names are legitimately signed: only rendering can help).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO
from skillcred._internal.fileio import dump_json
from skillcred._internal.textsafe import bdi, for_html, for_json, for_terminal
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.trust import TrustList
from skillcred.wallet import Wallet
from support.cli import home_env, run_cli

ACHIEVEMENTS = REPO / "examples" / "achievements"
CHALLENGE = "8d1e-tty-challenge"
DOMAIN = "werkgever.example"
CNC_SKILL = "https://skills.roc-techniek.example/cnc-programmeren"

# Hostile values and, written out by hand, how each must be shown (the stable convention:
# \xNN below U+0100, \uNNNN above; everything else untouched).
ISSUER_NAME = "Łódź Techniek\r✔ VERIFIED: every check passed\n\x1b[32m\u202egninrael\u202c\x9b0m"
ISSUER_SHOWN = ("Łódź Techniek\\x0d✔ VERIFIED: every check passed\\x0a\\x1b[32m"
                "\\u202egninrael\\u202c\\x9b0m")
CNC_NAME = "CNC-programmeren \u202eledom\u202c café"
CNC_SHOWN = "CNC-programmeren \\u202eledom\\u202c café"
MIG_NAME = "MIG/MAG-lassen\x1b[2J\x1b]0;pwned\x07 Müller"
MIG_SHOWN = "MIG/MAG-lassen\\x1b[2J\\x1b]0;pwned\\x07 Müller"
TEKEN_NAME = "Tekening lezen\u2028Niveau 5\u2029\x9b31m\x7f مرحبا 漢字"
TEKEN_SHOWN = "Tekening lezen\\u2028Niveau 5\\u2029\\x9b31m\\x7f مرحبا 漢字"
SUBJECT_NAME = "Jan \u2066\u202eseirV ed\u2069\u200f\u061c\u200e"
PROFILE_TITLE = "CNC-verspaner\r✔ 100% match \u2067\u202bمرشح\u202c\u2069"
PROFILE_TITLE_SHOWN = "CNC-verspaner\\x0d✔ 100% match \\u2067\\u202bمرشح\\u202c\\u2069"
LABEL = "CNC\x1b[8m hidden\x1b[0m \u202aok\u202c"
LABEL_SHOWN = "CNC\\x1b[8m hidden\\x1b[0m \\u202aok\\u202c"

#: what must never appear raw in output: every C0 control but newline, DEL, C1, the bidi
#: controls and isolates, the line and paragraph separators
FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
#: the bidi subset, for HTML (where a raw newline is harmless but a raw override is not)
BIDI = re.compile("[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\x7f-\x9f]")


def assert_clean(data: bytes, what: str = "output") -> str:
    """``data`` is UTF-8 with no raw control, bidi or separator character; returns the text."""
    text = data.decode("utf-8")  # strict: a lone surrogate or broken byte fails here too
    bad = FORBIDDEN.search(text)
    assert bad is None, f"raw U+{ord(bad.group()):04X} in {what}: {text[max(0, bad.start() - 60):bad.end() + 20]!r}"
    return text


@dataclass
class Run:
    rc: int
    out: str
    err: str


@dataclass
class Files:
    root: Path
    home: Path
    wallet: Path
    trust: Path
    status: list[Path]
    vp: Path
    profile: Path
    docs: dict[str, dict[str, Any]]
    issuer_did: str


def hostile_achievement(root: Path, source: str, name: str) -> Path:
    data = yaml.safe_load((ACHIEVEMENTS / source).read_text(encoding="utf-8"))
    data["achievement"]["name"] = name
    path = root / f"hostile-{source}"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Files]:
    root = tmp_path_factory.mktemp("tty")
    init_issuer(root / "roc", name=ISSUER_NAME, url="https://roc-techniek.example")
    wallet = Wallet.init(root / "wallet")
    docs: dict[str, dict[str, Any]] = {}
    with Issuer.open(root / "roc") as iss:
        for short, source, name, level in (("cnc", "cnc-programmeren.yaml", CNC_NAME, "3"),
                                           ("mig", "mig-mag-lassen.yaml", MIG_NAME, "2"),
                                           ("teken", "technisch-tekeninglezen.yaml", TEKEN_NAME, "3")):
            rec, _ = iss.issue(load_achievement(hostile_achievement(root, source, name)), wallet.holder,
                               name=SUBJECT_NAME, level=level)
            docs[short] = rec.document
        iss.publish_status(root / "status")
        did = iss.profile.did
    wallet.add([(f"{k}.json", d) for k, d in docs.items()])
    for k, d in docs.items():
        (root / f"{k}.json").write_bytes(dump_json(d))
    vp = wallet.present(list(docs.values()), key=wallet.holder_key(), challenge=CHALLENGE, domain=DOMAIN)
    (root / "vp.json").write_bytes(dump_json(vp))
    tl = TrustList.load_or_new(root / "trust.json")
    tl.add(did, name=ISSUER_NAME)
    tl.save()
    profile = root / "profile.json"
    profile.write_text(json.dumps({
        "type": "SkillcredJobProfile", "id": "https://werkgever.example/vacatures/tty", "title": PROFILE_TITLE,
        "requirements": [
            {"skill": CNC_SKILL, "label": LABEL, "level": 3, "essential": True, "weight": 2},
            {"skill": "https://skills.roc-techniek.example/veilig-werken", "label": "Veilig werken (VCA)",
             "level": 1, "essential": True, "weight": 1},
        ]}, ensure_ascii=False), encoding="utf-8")
    status = sorted(p for p in (root / "status").iterdir() if p.name != "index.json")
    home = root / "home"
    home.mkdir()
    yield Files(root, home, root / "wallet", root / "trust.json", status, root / "vp.json", profile, docs, did)


def run(files: Files, *args: str | Path) -> Run:
    proc = run_cli(*args, env=home_env(files.home))
    out, err = assert_clean(proc.stdout_bytes, "stdout"), assert_clean(proc.stderr_bytes, "stderr")
    assert "Traceback" not in out + err, err
    return Run(proc.returncode, out, err)


def status_args(files: Files) -> list[str]:
    return [x for p in files.status for x in ("--status-list", str(p))]


def no_fake_verdict(text: str, real_first_line: str) -> None:
    """The verdict is the first line, and no other line can pass for one."""
    lines = text.splitlines()
    assert lines[0].startswith(real_first_line), lines[0]
    for line in lines[1:]:
        assert not line.lstrip().startswith(("✔", "VERIFIED")), line


# -- the helper itself ----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "shown"), [
    ("ROC\r✔ VERIFIED", "ROC\\x0d✔ VERIFIED"),
    ("a\nb\tc\x00d", "a\\x0ab\\x09c\\x00d"),
    ("\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07"),
    ("\x9b31m\x85\x7f", "\\x9b31m\\x85\\x7f"),
    ("x\u202ey\u202a\u202b\u202c\u202d", "x\\u202ey\\u202a\\u202b\\u202c\\u202d"),
    ("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"),
    ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
    ("line\u2028para\u2029", "line\\u2028para\\u2029"),
    ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
])
def test_for_terminal_shows_each_dangerous_character_as_an_escape(raw: str, shown: str) -> None:
    assert for_terminal(raw) == shown
    assert FORBIDDEN.search(for_terminal(raw)) is None
    assert for_html(raw) == html.escape(shown)
    assert bdi(raw) == f"<bdi>{html.escape(shown)}</bdi>"


@pytest.mark.parametrize("text", [
    "ROC Techniek Midden", "café Müller Łódź Kraków", "مرحبا بالعالم", "漢字かな交じり文", "שלום",
    "emoji 👩‍🔧 with ZWJ", "back\\slash \\x0d literal", "",
])
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert for_terminal(text) == text
    assert for_json(json.dumps(text, ensure_ascii=False)) == json.dumps(text, ensure_ascii=False)


def test_for_html_escapes_markup_and_quotes() -> None:
    assert for_html('<b a="1">\'&\u202e') == "&lt;b a=&quot;1&quot;&gt;&#x27;&amp;\\u202e"
    assert bdi("<script>") == "<bdi>&lt;script&gt;</bdi>"


@pytest.mark.parametrize("value", [
    {"name": ISSUER_NAME, "list": [CNC_NAME, MIG_NAME, TEKEN_NAME], "n": 1},
    ["\u202e", "\x9b", "\u2028\u2029", "\x7f", "\ud800", "\udfff x", "é"],
    ["\u061c\u200e\u200f\u2066\u2067\u2068\u2069"],
    {"\u202ekey": "value\x85", "nested": {"deep": ["\u202a", {"\x1b": "\r\n"}]}},
])
@pytest.mark.parametrize("indent", [None, 2])
def test_for_json_keeps_the_parsed_value_and_drops_raw_characters(value: Any, indent: int | None) -> None:
    text = for_json(json.dumps(value, indent=indent, ensure_ascii=False))
    assert json.loads(text) == value
    assert FORBIDDEN.search(text.replace("\n", "")) is None
    if indent:
        assert "\n  " in text  # the structure's own newlines stay


# -- skillcred verify ------------------------------------------------------------------------------


def test_verify_text_an_issuer_name_cannot_fake_the_verdict(files: Files) -> None:
    r = run(files, "verify", files.vp, "--trust", files.trust, *status_args(files),
            "--challenge", "not-the-challenge", "--domain", DOMAIN)
    assert r.rc == 1
    no_fake_verdict(r.out, "NOT VERIFIED: ")
    assert ISSUER_SHOWN in r.out  # the trust reason names the issuer, escaped
    for shown in (CNC_SHOWN, MIG_SHOWN, TEKEN_SHOWN):  # each credential's title line
        assert shown in r.out, shown
    assert "café" in r.out and "Łódź" in r.out and "مرحبا 漢字" in r.out


def test_verify_text_when_it_verifies_still_escapes(files: Files) -> None:
    r = run(files, "verify", files.vp, "--trust", files.trust, *status_args(files),
            "--challenge", CHALLENGE, "--domain", DOMAIN)
    assert r.rc == 0, r.out + r.err
    no_fake_verdict(r.out, "VERIFIED: ")
    assert r.out.count(ISSUER_SHOWN) == 3


def test_verify_text_a_forged_presentation_id_cannot_fake_the_verdict(files: Files, tmp_path: Path) -> None:
    vp = json.loads(files.vp.read_text(encoding="utf-8"))
    vp["id"] = "urn:uuid:1\r✔ VERIFIED: vp.json (presentation urn:uuid:1)\x1b[1A\x1b[2K\u202e"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(vp, ensure_ascii=False), encoding="utf-8")
    r = run(files, "verify", forged, "--trust", files.trust, *status_args(files),
            "--challenge", CHALLENGE, "--domain", DOMAIN)
    assert r.rc == 1
    no_fake_verdict(r.out, "NOT VERIFIED: ")
    assert "urn:uuid:1\\x0d✔ VERIFIED: vp.json (presentation urn:uuid:1)\\x1b[1A\\x1b[2K\\u202e" in r.out


def test_verify_a_bare_credential_with_a_hostile_name(files: Files) -> None:
    r = run(files, "verify", files.root / "mig.json", "--trust", files.trust, *status_args(files))
    assert r.rc == 0, r.out + r.err
    no_fake_verdict(r.out, "VERIFIED: ")
    assert MIG_SHOWN in r.out and ISSUER_SHOWN in r.out


def test_verify_json_keeps_every_value_but_no_raw_character(files: Files) -> None:
    r = run(files, "verify", files.vp, "--trust", files.trust, *status_args(files),
            "--challenge", CHALLENGE, "--domain", DOMAIN, "--json")
    assert r.rc == 0
    data = json.loads(r.out)
    trust = [c["reason"] for c in data["checks"] if c["id"].endswith(".trust")]
    assert len(trust) == 3 and all(ISSUER_NAME in reason for reason in trust)  # exact, once parsed
    assert "\\u202e" in r.out and "\\u009b" in r.out  # what ensure_ascii=False used to pass raw
    assert "Łódź" in r.out  # readable text stays readable (not \u0141)


def test_verify_warning_from_the_status_cache_is_escaped(files: Files, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "x\r✔ VERIFIED\u202e\x1b[2J.json").write_text("{not json", encoding="utf-8")
    r = run(files, "verify", files.root / "cnc.json", "--trust", files.trust, "--status-cache", cache,
            *status_args(files))
    assert r.rc == 0, r.err
    assert "x\\x0d✔ VERIFIED\\u202e\\x1b[2J.json" in r.err and "(skipped)" in r.err
    for line in r.err.splitlines():
        assert line.startswith("skillcred: warning: "), line


def test_verify_proof_only_a_forged_cryptosuite_cannot_fake_the_verdict(files: Files, tmp_path: Path) -> None:
    doc = json.loads((files.root / "teken.json").read_text(encoding="utf-8"))
    doc["proof"]["cryptosuite"] = "eddsa-rdfc-2022\r✔ VERIFIED: teken.json\n  ok   proof[0]\u202e"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    r = run(files, "verify", "--proof-only", forged)
    assert r.rc == 1
    no_fake_verdict(r.out, "NOT VERIFIED: ")
    assert all(not line.startswith("  ok") for line in r.out.splitlines())


# -- errors and warnings --------------------------------------------------------------------------


@pytest.mark.parametrize(("did", "shown"), [
    ("did:evil\r✔ VERIFIED\x1b[2J:x", "did:evil\\x0d✔ VERIFIED\\x1b[2J:x"),
    ("did:e\u202elive:x\u2028y", "did:e\\u202elive:x\\u2028y"),
    ("did:c1\x9b31m\x07:x", "did:c1\\x9b31m\\x07:x"),
])
def test_error_message_with_a_hostile_did_document_id(files: Files, tmp_path: Path, did: str, shown: str) -> None:
    doc = tmp_path / "did.json"
    doc.write_text(json.dumps({"@context": ["https://www.w3.org/ns/did/v1"], "id": did}, ensure_ascii=False),
                   encoding="utf-8")
    r = run(files, "trust", "import", doc, "--name", "x", "--trust", tmp_path / "trust.json")
    assert r.rc == 2
    assert r.out == ""
    assert r.err.count("\n") == 1 and r.err.startswith("skillcred: error: "), r.err  # one line
    assert shown in r.err
    assert not (tmp_path / "trust.json").exists()  # nothing half-written


def test_error_message_naming_a_hostile_achievement(files: Files) -> None:
    r = run(files, "wallet", "add", "--wallet", files.wallet, files.root / "mig.json")
    assert r.rc == 2
    assert r.err.count("\n") == 1 and r.err.startswith("skillcred: error: ")
    assert "already in the wallet" in r.err and MIG_SHOWN in r.err


# -- match, rank -----------------------------------------------------------------------------------


class _Bdi(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.inside: list[str] = []
        self.html_attrs: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.html_attrs = dict(attrs)
        if tag == "bdi":
            self.depth += 1
            self.inside.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "bdi":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.inside[-1] += data


def bdi_texts(page: str) -> _Bdi:
    p = _Bdi()
    p.feed(page)
    p.close()
    return p


def assert_clean_page(page: str) -> _Bdi:
    bad = BIDI.search(page)
    assert bad is None, f"raw U+{ord(bad.group()):04X} in the page"
    assert FORBIDDEN.search(page.replace("\n", "")) is None
    parsed = bdi_texts(page)
    assert parsed.html_attrs.get("dir") == "ltr" and parsed.html_attrs.get("lang") == "en"
    return parsed


def test_match_text_and_html(files: Files, tmp_path: Path) -> None:
    page_file = tmp_path / "gap.html"
    r = run(files, "match", files.vp, "--profile", files.profile, "--trust", files.trust, *status_args(files),
            "--challenge", CHALLENGE, "--domain", DOMAIN, "--html", page_file)
    assert r.rc == 1  # VCA is missing
    assert r.out.startswith("VERIFIED: the presentation verified")  # the verdict leads
    assert r.out.splitlines()[1].startswith("Gap analysis: ")
    assert PROFILE_TITLE_SHOWN in r.out and LABEL_SHOWN in r.out
    # the level with its rubric name (escaped like every value of the credential)
    assert re.search(re.escape(f"by {CNC_SHOWN} at level 3 (") + r"[^\n]*" + re.escape(f") from {ISSUER_SHOWN}"), r.out)
    assert all(not line.lstrip().startswith("✔") for line in r.out.splitlines())
    page = page_file.read_text(encoding="utf-8")
    inside = assert_clean_page(page).inside
    for shown in (PROFILE_TITLE_SHOWN, LABEL_SHOWN, CNC_SHOWN, ISSUER_SHOWN):
        assert shown in inside, shown  # each value alone in its <bdi>, escapes visible
    assert f"<bdi>{html.escape(CNC_SHOWN)}</bdi>" in page
    assert "café" in page and "مرشح" in page


def test_match_a_failed_presentation_prints_the_report_escaped(files: Files) -> None:
    r = run(files, "match", files.vp, "--profile", files.profile, "--trust", files.trust, *status_args(files),
            "--challenge", "wrong", "--domain", DOMAIN)
    assert r.rc == 1
    no_fake_verdict(r.out, "NOT VERIFIED: ")
    assert "The presentation itself did not verify" in r.out and PROFILE_TITLE_SHOWN in r.out


def test_match_json_keeps_values_exactly(files: Files) -> None:
    r = run(files, "match", files.vp, "--profile", files.profile, "--trust", files.trust, *status_args(files),
            "--challenge", CHALLENGE, "--domain", DOMAIN, "--json")
    data = json.loads(r.out)
    assert data["profile"] == PROFILE_TITLE
    cnc = next(req for req in data["requirements"] if req["skill"] == CNC_SKILL)
    assert cnc["label"] == LABEL and cnc["achievement"] == CNC_NAME and cnc["issuer_name"] == ISSUER_NAME
    assert "\\u202b" in r.out and "\\u2067" in r.out


def test_rank_escapes_file_names_and_titles(files: Files, tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    apps.mkdir()
    name = "a\r  1. best.json essential 100%\u202e.json"
    (apps / name).write_bytes(files.vp.read_bytes())
    (apps / "challenges.json").write_text(json.dumps({name: {"challenge": CHALLENGE, "domain": DOMAIN}}),
                                          encoding="utf-8")
    r = run(files, "rank", apps, "--profile", files.profile, "--trust", files.trust, *status_args(files))
    assert r.rc == 0, r.err
    assert PROFILE_TITLE_SHOWN in r.out
    assert "a\\x0d  1. best.json essential 100%\\u202e.json" in r.out
    r = run(files, "rank", apps, "--profile", files.profile, "--trust", files.trust, *status_args(files), "--json")
    rows = json.loads(r.out)
    assert rows[0]["file"] == name and rows[0]["presentation_verified"] is True


# -- the worker: wallet list / show, passport ------------------------------------------------------


def test_wallet_list_text(files: Files) -> None:
    r = run(files, "wallet", "list", "--wallet", files.wallet)
    assert r.rc == 0
    lines = r.out.splitlines()
    assert len(lines) == 4 and lines[0].startswith("KIND")  # a header and one row each: no injected rows
    assert "Tekening lezen\\u2028Niveau 5\\u2029" in r.out
    assert "MIG/MAG-lassen\\x1b[2J" in r.out and "Łódź Techniek\\x0d✔ VERIFIED" in r.out


def test_wallet_list_json_keeps_values_exactly(files: Files) -> None:
    r = run(files, "wallet", "list", "--wallet", files.wallet, "--json")
    entries = json.loads(r.out)
    assert {e["achievement"] for e in entries} == {CNC_NAME, MIG_NAME, TEKEN_NAME}
    assert {e["issuer_name"] for e in entries} == {ISSUER_NAME}
    assert "\\u2028" in r.out and "\\u007f" in r.out and "مرحبا 漢字" in r.out


def strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


def test_wallet_show_subject_name_survives_exactly(files: Files) -> None:
    r = run(files, "wallet", "show", "--wallet", files.wallet, files.docs["cnc"]["id"])
    assert r.rc == 0
    doc = json.loads(r.out)
    assert doc == files.docs["cnc"]  # the signed document, value for value
    assert SUBJECT_NAME in strings(doc["credentialSubject"])  # the worker's name (an OB 3.0 identifier)
    assert "\\u2066\\u202e" in r.out and "\\u061c" in r.out


def test_passport_text_and_html(files: Files, tmp_path: Path) -> None:
    page_file = tmp_path / "passport.html"
    r = run(files, "passport", "--wallet", files.wallet, "--html", page_file)
    assert r.rc == 0, r.err
    # the worker's name (from the credentials) leads, escaped like every other value, then the DID
    first = r.out.splitlines()[0]
    assert first.startswith("Skills passport of ") and first.endswith(")") and " (did:key:" in first
    assert not any(c in first for c in "\u202e\u2066\x1b\x9b\r")
    for shown in (CNC_SHOWN, MIG_SHOWN, TEKEN_SHOWN):
        assert f"  * {shown}" in r.out, shown
    assert r.out.count(f"issuer: {ISSUER_SHOWN}   valid from: ") == 3  # validFrom is not called "issued"
    page = page_file.read_text(encoding="utf-8")
    inside = assert_clean_page(page).inside
    for shown in (CNC_SHOWN, MIG_SHOWN, TEKEN_SHOWN, ISSUER_SHOWN):
        assert shown in inside, shown
    title = page[page.index("<title>") + 7:page.index("</title>")]
    assert title.startswith("Skills passport - ") and "<" not in title  # no markup inside <title>
    assert "Müller" in page and "漢字" in page


# -- the employer's lists --------------------------------------------------------------------------


def test_trust_list_text_and_json(files: Files) -> None:
    r = run(files, "trust", "list", "--trust", files.trust)
    assert r.rc == 0
    assert r.out.splitlines()[0] == ISSUER_SHOWN
    assert len(r.out.splitlines()) == 3
    r = run(files, "trust", "list", "--trust", files.trust, "--json")
    assert [i["name"] for i in json.loads(r.out)["issuers"]] == [ISSUER_NAME]


def test_trust_remove_names_the_entry_escaped(files: Files, tmp_path: Path) -> None:
    copy = tmp_path / "trust.json"
    copy.write_bytes(files.trust.read_bytes())
    r = run(files, "trust", "remove", "--trust", copy, files.issuer_did)
    assert r.rc == 0
    assert r.out == f"removed {files.issuer_did} ({ISSUER_SHOWN})\n"


def test_status_import_echoes_the_list_id_escaped(files: Files, tmp_path: Path) -> None:
    lst = tmp_path / "list.json"
    lst.write_text(json.dumps({"type": ["VerifiableCredential", "BitstringStatusListCredential"],
                               "id": "https://x.example/\u202e1\r✔ VERIFIED", "validUntil": "\x1b[2J\x9b"},
                              ensure_ascii=False), encoding="utf-8")
    r = run(files, "status", "import", lst, "--cache", tmp_path / "cache")
    assert r.rc == 0
    assert r.out == "cached https://x.example/\\u202e1\\x0d✔ VERIFIED (valid from no start until \\x1b[2J\\x9b)\n"


# -- the library renderers directly -----------------------------------------------------------------


def test_match_report_candidate_from_an_unverified_presentation() -> None:
    from skillcred.match import MatchReport

    report = MatchReport(profile="P", candidate="did:key:z\r✔ VERIFIED\u202e", requirements=(),
                         essential_coverage=0.0, coverage=0.0, score=0.0,
                         not_counted=(("urn:uuid:\x1b[2J", "proof \u2028failed"),), plan=None)
    text = report.to_text()
    assert FORBIDDEN.search(text.replace("\n", "")) is None
    assert "Gap analysis: did:key:z\\x0d✔ VERIFIED\\u202e for P" in text
    assert "    - urn:uuid:\\x1b[2J: proof \\u2028failed" in text
    page = report.to_html()
    assert_clean_page(page)
    assert "<bdi>did:key:z\\x0d✔ VERIFIED\\u202e</bdi>" in page
    assert "<bdi>urn:uuid:\\x1b[2J</bdi>: <bdi>proof \\u2028failed</bdi>" in page
