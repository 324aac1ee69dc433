"""The passport from the worker's side (issue 16 item 1): the worker's name, what each credential
is (level within its scale, diploma level, qualification code, evidence), an honest status (dates
are not revocation), ``passport --json``, the printable page's A4 layout, and ``--only``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from passport_support import WORKER, PassportWorld, assert_one_line_error, env_for, make_world, run
from skillcred.passport import build_passport, credential_details
from skillcred.passport_qr import credential_digest, parse_qr_payload
from support.cli import run_cli


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PassportWorld]:
    yield make_world(tmp_path_factory.mktemp("pp"))


def _json(tmp_path: Path, world: PassportWorld, *extra: str) -> dict[str, Any]:
    r = run(tmp_path, "passport", "--wallet", str(world.wallet.root), "--json", *extra)
    assert r.returncode == 0, r.stderr
    out: dict[str, Any] = json.loads(r.stdout)  # stdout is the JSON object alone
    return out


def _by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["achievement"]: c for c in data["credentials"]}


# -- what the claims say -------------------------------------------------------------------------


def test_details_read_name_level_in_scale_diploma_level_code_and_evidence(world: PassportWorld) -> None:
    soft = credential_details(world.docs["soft"])
    assert soft.subject_name == WORKER
    assert soft.level_in_scale == "Gevorderd (level 2 of 3)"
    assert soft.description and soft.description.startswith("Eigen werk")
    (ev,) = soft.evidence
    assert ev["assessor"] == "Piet Bakker (leermeester)" and ev["workplace"] == "Metaalbedrijf De Vries"
    assert ev["hours"] == "480" and ev["narrative"] == "Plande het werk van een team van vier."
    assert (ev["period_start"], ev["period_end"]) == ("2026-01-05", "2026-06-26")
    diploma = credential_details(world.docs["diploma"])
    assert diploma.diploma_level == "NLQF 3, EQF 3"
    assert diploma.qualification_code == "MBO-VERSP-3, CREBO 25751"
    assert diploma.field_of_study == "Metaal en techniek"
    assert diploma.awarded == world.docs["diploma"]["awardedDate"]
    assert diploma.level_in_scale is None and diploma.evidence == ()
    cnc = credential_details(world.docs["cnc"])
    assert cnc.level_in_scale is not None and cnc.level_in_scale.endswith("(level 3 of 5)")
    assert cnc.diploma_level is None and cnc.qualification_code is None


@pytest.mark.parametrize("doc", [
    {},
    {"credentialSubject": "text"},
    {"credentialSubject": [{"achievement": ["not", "an", "object"], "identifier": "x", "result": "y"}]},
    {"credentialSubject": {"achievement": {"resultDescription": [{"rubricCriterionLevel": "z"}], "alignment": [1]},
                           "result": [{"achievedLevel": 5}], "identifier": [{"identityType": "name", "hashed": True,
                                                                               "identityHash": "sha256$abc"}]},
     "evidence": ["not an object", {"description": 7}]},
])
def test_details_of_odd_claims_leave_out_what_is_missing(doc: dict[str, Any]) -> None:
    d = credential_details(doc)
    assert d.subject_name is None  # a hashed identifier is not a name to print
    assert d.level_in_scale is None and d.diploma_level is None and d.qualification_code is None


def test_description_in_another_format_is_shown_as_is_and_language_is_taken_only_when_well_formed() -> None:
    doc = {"credentialSubject": {"achievement": {"inLanguage": "nl-NL"}},
           "evidence": [{"description": "Geleerd bij: De Vries; 3 maanden"}]}
    d = credential_details(doc)
    assert d.lang == "nl-NL" and d.evidence[0]["description"] == "Geleerd bij: De Vries; 3 maanden"
    for bad in ('nl" onload="x', "", "n", "nl NL", 7):
        assert credential_details({"credentialSubject": {"achievement": {"inLanguage": bad}}}).lang is None


# -- honest status -------------------------------------------------------------------------------


def test_without_status_lists_no_credential_is_called_valid(tmp_path: Path, world: PassportWorld) -> None:
    r = run(tmp_path, "passport", "--wallet", str(world.wallet.root))
    assert r.returncode == 0, r.stderr
    assert f"Skills passport of {WORKER} ({world.wallet.holder})" in r.stdout
    assert "revocation not checked here" in r.stdout
    assert "[valid]" not in r.stdout and r.stdout.count("[valid dates, revocation not checked]") == 4
    assert "Gevorderd (level 2 of 3)" in r.stdout and "code: MBO-VERSP-3, CREBO 25751" in r.stdout
    assert "assessor: Piet Bakker (leermeester); workplace: Metaalbedrijf De Vries; hours: 480" in r.stdout
    data = _json(tmp_path, world)
    assert data["revocationChecked"] is False and data["holderName"] == WORKER
    assert {c["revocation"] for c in data["credentials"]} == {"not-checked"}
    html = build_passport(world.wallet.holder, world.wallet.entries(), documents={
        d["id"]: d for d in world.docs.values()}).to_html()
    assert 'class="badge valid"' not in html and html.count('class="badge unchecked"') == 4


@pytest.mark.parametrize(("action", "label"), [("revoke", "REVOKED"), ("suspend", "SUSPENDED")])
def test_with_status_lists_a_revoked_or_suspended_credential_says_so(
    tmp_path: Path, world: PassportWorld, action: str, label: str
) -> None:
    if action == "revoke":  # permanent: not in the shared world
        (tmp_path / "own").mkdir()
        world = make_world(tmp_path / "own")
    lists = world.publish_status(**{action: "cnc"})
    flags = [a for p in lists for a in ("--status-list", str(p))]
    data = _json(tmp_path, world, *flags)
    by = _by_name(data)
    cnc = next(c for c in data["credentials"] if c["id"] == world.docs["cnc"]["id"])
    assert data["revocationChecked"] is True
    assert cnc["revocation"] == label.lower() and cnc["statusLabel"] == label
    others = [c for c in by.values() if c["id"] != cnc["id"]]
    assert [c["revocation"] for c in others] == ["not-revoked"] * 3
    assert {c["statusLabel"] for c in others} == {"valid"}
    text = run(tmp_path, "passport", "--wallet", str(world.wallet.root), *flags).stdout
    assert text.count(f"[{label}]") == 1 and text.count("[valid]") == 3 and "not checked" not in text
    page = tmp_path / "p.html"
    assert run(tmp_path, "passport", "--wallet", str(world.wallet.root), "--html", str(page), *flags).returncode == 0
    html = page.read_text(encoding="utf-8")
    card = html[html.index(f'data-credential-id="{world.docs["cnc"]["id"]}"'):]
    assert f'class="badge expired">{label}<' in card[:card.index("</h3>")]


def test_a_missing_status_list_is_unknown_not_valid(tmp_path: Path, world: PassportWorld) -> None:
    lists = world.publish_status()
    only_revocation = [p for p in lists if "revocation" in p.name]
    assert only_revocation and len(only_revocation) < len(lists)
    data = _json(tmp_path, world, *[a for p in only_revocation for a in ("--status-list", str(p))])
    assert {c["revocation"] for c in data["credentials"]} == {"unknown"}  # suspension could not be checked
    assert all("unknown" in c["statusLabel"] for c in data["credentials"])


def test_dates_still_decide_an_expired_credential_as_of_a_later_date(tmp_path: Path, world: PassportWorld) -> None:
    data = _json(tmp_path, world, "--at", "2032-01-01")
    by = _by_name(data)
    cnc = next(c for c in by.values() if c["id"] == world.docs["cnc"]["id"])
    assert cnc["status"] == "expired" and cnc["statusLabel"] == "EXPIRED"
    assert by["MBO-diploma Verspaner"]["statusLabel"] == "valid dates, revocation not checked"


# -- JSON, page layout, selection ------------------------------------------------------------------


def test_json_has_every_credential_with_its_code_digest_and_what_the_printout_proves(
    tmp_path: Path, world: PassportWorld
) -> None:
    data = _json(tmp_path, world)
    assert data["count"] == 4 and len(data["credentials"]) == 4
    assert [c["group"] for c in data["credentials"]] == ["diploma", "skill", "skill", "soft-skill"]
    for c in data["credentials"]:
        doc = next(d for d in world.docs.values() if d["id"] == c["id"])
        assert c["digest"] == credential_digest(doc)
        payload = parse_qr_payload(c["qr_payload"])
        assert payload.credential_id == c["id"] and payload.digest == c["digest"]
        assert c["subject_name"] == WORKER and c["valid_from"] == doc["validFrom"]
    assert any("proves nothing" in p for p in data["printoutProves"])


def test_page_is_an_a4_document_that_wraps_long_strings_and_says_what_it_proves(world: PassportWorld) -> None:
    docs = {d["id"]: d for d in world.docs.values()}
    html = build_passport(world.wallet.holder, world.wallet.entries(), documents=docs).to_html()
    assert "@page{size:A4" in html and "overflow-wrap:anywhere" in html and "break-inside:avoid" in html
    assert "What this printout proves, and what it does not" in html
    assert html.count("<svg class=\"qr\"") == 4 and "<script" not in html
    assert f'<div class="name"><bdi>{WORKER}</bdi></div>' in html
    assert "Evidence (<bdi>On-the-job learning</bdi>)" in html
    assert "Assessor: <bdi>Piet Bakker (leermeester)</bdi>" in html
    # issued by + awarded, not the validFrom date called "issued"
    assert "awarded <bdi>" in html and "valid from <bdi>" in html
    no_docs = build_passport(world.wallet.holder, world.wallet.entries()).to_html()
    assert "<svg" not in no_docs and "revocation not checked" in no_docs


def test_hostile_evidence_and_names_are_text_on_the_page_and_in_the_terminal() -> None:
    from skillcred.wallet import summarize

    doc = {"id": "urn:uuid:1", "credentialSubject": {
        "id": "did:example:1", "identifier": [{"identityType": "name", "identityHash": "<script>x</script>\x1b[2J"}],
        "achievement": {"name": "A", "description": '<img src="https://evil.example/x">'}},
        "evidence": [{"narrative": "</div><script>alert(1)</script>", "description": "Assessor: \u202eevil"}]}
    pp = build_passport("did:example:1", [summarize(doc)], documents={"urn:uuid:1": doc})
    html, text = pp.to_html(), pp.to_text()
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert "\x1b" not in text and "\u202e" not in text and "\u202e" not in html


def test_only_prints_what_the_worker_chose(tmp_path: Path, world: PassportWorld) -> None:
    page = tmp_path / "only.html"
    r = run(tmp_path, "passport", "--wallet", str(world.wallet.root), "--only", "cnc", "--only", "diploma",
            "--html", str(page), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert {c["id"] for c in data["credentials"]} == {world.docs["cnc"]["id"], world.docs["diploma"]["id"]}
    html = page.read_text(encoding="utf-8")
    for left_out in ("soft", "vca"):
        assert world.docs[left_out]["id"] not in html
        assert world.docs[left_out]["credentialSubject"]["achievement"]["name"] not in html
    assert html.count('<svg class="qr"') == 2
    assert_one_line_error(run(tmp_path, "passport", "--wallet", str(world.wallet.root), "--only", "nothing-like-it"),
                          "no credential 'nothing-like-it'")
    assert_one_line_error(run(tmp_path, "passport", "--wallet", str(world.wallet.root), "--only", "on-the-job"),
                          "no on-the-job credentials")


def test_pdf_without_a_browser_fails_in_one_line_and_writes_nothing(tmp_path: Path, world: PassportWorld) -> None:
    pdf, page = tmp_path / "p.pdf", tmp_path / "p.html"
    for browser in (str(tmp_path / "no-such-chromium"), "/bin/false"):  # missing; runs but prints nothing
        proc = run_cli("passport", "--wallet", world.wallet.root, "--pdf", pdf, "--html", page,
                       env={**env_for(tmp_path), "SKILLCRED_CHROMIUM": browser})
        assert_one_line_error(proc, str(pdf), "PDF")
        assert not pdf.exists() and not page.exists()
        assert proc.stdout == ""


def test_a_credential_about_someone_else_does_not_name_the_worker(world: PassportWorld) -> None:
    from skillcred.wallet import summarize

    other = json.loads(json.dumps(world.docs["cnc"]))
    other["id"] = "urn:uuid:someone-else"
    other["credentialSubject"]["id"] = "did:example:colleague"
    other["credentialSubject"]["identifier"][0]["identityHash"] = "Karel Kopie"
    docs = {**{d["id"]: d for d in world.docs.values()}, other["id"]: other}
    pp = build_passport(world.wallet.holder, [*world.wallet.entries(), summarize(other)], documents=docs)
    assert pp.holder_name == WORKER and "Karel Kopie" not in pp.to_text().splitlines()[0]


def test_library_build_passport_as_of_a_date(world: PassportWorld) -> None:
    pp = build_passport(world.wallet.holder, world.wallet.entries(), at=datetime(2020, 1, 1, tzinfo=UTC),
                        documents={d["id"]: d for d in world.docs.values()})
    assert {pp.status_of(e)[1] for _, _, es in pp.groups for e in es} == {"not yet valid"}
    assert pp.holder_name == WORKER
