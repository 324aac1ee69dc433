"""Issue #16, the rest: rosters as institutes have them (item 5), a gap report that leads with
the verdict (item 8), no silent weakening in ``rank`` and a future ``--at`` (item 9), messages
(item 11) and docs in step with the code (item 12).

Built on the fixtures of ``test_user_side`` (a module-wide did:key issuer, a wallet per test).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

import test_user_side as base
from conftest import REPO
from skillcred._internal.timeutil import format_datetime, utcnow
from skillcred.issuer import Issuer
from skillcred.wallet import Wallet
from test_user_side import CHALLENGE, DOMAIN, invoke

# the fixtures of test_user_side, found by pytest by name
issuer_dir, issuer, wallet, stocked, presented = (base.issuer_dir, base.issuer, base.wallet, base.stocked,
                                                  base.presented)

PROFILE = REPO / "examples" / "profiles" / "cnc-verspaner.json"
CATALOG = REPO / "examples" / "catalogs" / "metaal-opleidingen.json"
FRAMEWORK = REPO / "examples" / "frameworks" / "metaal-vaardigheden.json"


def _lists(p: dict[str, Path]) -> list[str]:
    return [a for f in sorted(p["status"].iterdir()) if f.name != "index.json" for a in ("--status-list", str(f))]


def _verify(p: dict[str, Path], *args: str | Path) -> tuple[Result, dict[str, Any]]:
    r = invoke("verify", p["vp"], "--trust", p["trust"], "--challenge", CHALLENGE, "--domain", DOMAIN,
               *_lists(p), "--status-cache", p["status"] / "cache", "--json", *args)
    return r, json.loads(r.stdout)


# -- 9. rank without challenges; a future --at ------------------------------------------------

@pytest.fixture
def apps(presented: dict[str, Path], tmp_path: Path) -> Path:
    folder = tmp_path / "apps"
    folder.mkdir()
    (folder / "jan.json").write_bytes(presented["vp"].read_bytes())
    return folder


def _rank(p: dict[str, Path], folder: Path, *extra: str | Path) -> Result:
    return invoke("rank", folder, "--profile", PROFILE, "--trust", p["trust"], "--json", "--jobs", "1",
                  "--status-cache", p["status"] / "cache", *_lists(p), *extra)


@pytest.mark.parametrize("extra", [(), ("--domain", DOMAIN)])
def test_rank_without_challenges_refuses_before_verifying_anything(presented: dict[str, Path], apps: Path,
                                                                   extra: tuple[str, ...]) -> None:
    r = _rank(presented, apps, *extra)
    assert r.exit_code == 2
    assert r.stdout == ""  # nothing ranked
    assert "no challenge file" in r.stderr and "--unsafe-no-challenge" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_rank_with_unsafe_no_challenge_ranks_and_says_what_is_not_checked(presented: dict[str, Path],
                                                                         apps: Path) -> None:
    r = _rank(presented, apps, "--unsafe-no-challenge", "--domain", DOMAIN)
    assert r.exit_code == 0, r.stderr
    assert "UNSAFE" in r.stderr and "without a challenge" in r.stderr
    assert "without a domain" not in r.stderr  # --domain given: that check runs
    row = json.loads(r.stdout)[0]
    assert row["presentation_verified"] is True and row["challenge_checked"] is False


def test_rank_with_a_challenge_file_needs_no_unsafe_switch(presented: dict[str, Path], apps: Path) -> None:
    (apps / "challenges.json").write_text(json.dumps({"jan.json": {"challenge": CHALLENGE, "domain": DOMAIN}}),
                                          encoding="utf-8")
    r = _rank(presented, apps)
    assert r.exit_code == 0, r.stderr
    assert "UNSAFE" not in r.stderr
    assert json.loads(r.stdout)[0]["challenge_checked"] is True
    # a replay (another challenge on file) still fails the candidate
    (apps / "challenges.json").write_text(json.dumps({"jan.json": {"challenge": "other", "domain": DOMAIN}}),
                                          encoding="utf-8")
    assert json.loads(_rank(presented, apps).stdout)[0]["presentation_verified"] is False


def _future(days: int) -> str:
    return format_datetime(utcnow() + timedelta(days=days))


@pytest.mark.parametrize("days", [30, 400])  # past the status lists' 7-day validity, within the 5-year one
def test_a_future_at_judges_dates_then_and_status_as_of_now(presented: dict[str, Path], days: int) -> None:
    r, out = _verify(presented, "--at", _future(days))
    assert r.exit_code == 0, r.stdout
    assert out["verified"] is True
    checks = {c["id"]: c for c in out["checks"]}
    status = [c for k, c in checks.items() if k.endswith(".status")]
    assert status and all(c["status"] == "passed" and "as of now" in c["reason"] for c in status)
    assert "a time in the future" in r.stderr and "as of now" in r.stderr


def test_a_future_at_past_the_validity_still_fails_as_expired(presented: dict[str, Path]) -> None:
    r, out = _verify(presented, "--at", _future(6 * 366))  # the CNC skill is valid for 5 years
    assert r.exit_code == 1
    codes = {c["code"] for c in out["checks"] if c["id"].endswith(".validity")}
    assert "expired" in codes


def test_a_future_at_still_sees_a_revocation_made_today(presented: dict[str, Path], issuer: Issuer) -> None:
    vp = json.loads(presented["vp"].read_text(encoding="utf-8"))
    issuer.revoke(vp["verifiableCredential"][0]["id"])
    issuer.publish_status(presented["status"])
    r, out = _verify(presented, "--at", _future(30))
    assert r.exit_code == 1
    assert any(c["code"] == "revoked" for c in out["checks"])


def test_now_and_a_past_at_do_not_warn_about_the_future(presented: dict[str, Path]) -> None:
    r, out = _verify(presented)
    assert out["verified"] is True and "future" not in r.stderr
    assert all("as of now" not in c["reason"] for c in out["checks"])
    r, _out = _verify(presented, "--at", format_datetime(utcnow() - timedelta(minutes=1)))
    assert "future" not in r.stderr


# -- 8. the gap report leads with the verdict --------------------------------------------------

@pytest.fixture
def named(wallet: Wallet, issuer: Issuer, tmp_path: Path) -> dict[str, Path]:
    """A presentation of a named worker's CNC skill (level 3 of its rubric), with status and trust."""
    wallet.add([("cnc", base.issue(issuer, wallet.holder, "cnc-programmeren.yaml", "3", name="Jan de Vries"))])
    vp = tmp_path / "vp.json"
    assert base.present(wallet, vp, "--select", "cnc").exit_code == 0
    status = tmp_path / "status"
    issuer.publish_status(status)
    trust = tmp_path / "trust.json"
    assert invoke("trust", "add", "--trust", trust, issuer.profile.did, "--name", "ROC").exit_code == 0
    return {"vp": vp, "status": status, "trust": trust}


def _match(p: dict[str, Path], challenge: str, *extra: str | Path) -> Result:
    return invoke("match", p["vp"], "--profile", PROFILE, "--catalog", CATALOG, "--framework", FRAMEWORK,
                  "--trust", p["trust"], "--challenge", challenge, "--domain", DOMAIN, *_lists(p),
                  "--status-cache", p["status"] / "cache", *extra)


def test_a_verified_gap_report_leads_with_the_verdict_in_text_json_and_html(named: dict[str, Path],
                                                                             tmp_path: Path) -> None:
    page = tmp_path / "gap.html"
    text = _match(named, CHALLENGE, "--html", page)
    lines = text.stdout.splitlines()
    assert lines[0].startswith("VERIFIED: the presentation verified, checked at ")
    assert lines[1].startswith("Gap analysis: Jan de Vries (did:key:")  # the name, then the DID
    assert re.search(r"at level 3 \([^)]*of 5\)", text.stdout)  # the rubric's name and scale with the number
    assert "Training plan" in text.stdout
    data = json.loads(_match(named, CHALLENGE, "--json").stdout)
    assert next(iter(data)) == "verified" and data["verified"] is True
    assert data["candidate_name"] == "Jan de Vries" and data["checked_at"].endswith("Z")
    assert data["plan"]["modules"]
    html = page.read_text(encoding="utf-8")
    body = html.split("<body>", 1)[1]
    assert body.startswith('<p class="verdict ok"><strong><bdi>VERIFIED: ')
    assert "Jan de Vries" in html and "Checked at" in html
    assert "@page{size:A4" in html and "break-after:avoid" in html and 'class="plan"' in html


@pytest.mark.parametrize("challenge", ["a-replayed-challenge", ""])
def test_a_failed_presentation_gets_the_verdict_and_no_plan_anywhere(named: dict[str, Path], tmp_path: Path,
                                                                     challenge: str) -> None:
    page = tmp_path / "gap.html"
    text = _match(named, challenge, "--html", page)
    assert text.exit_code == 1
    assert text.stdout.splitlines()[0].startswith("NOT VERIFIED: the presentation did not verify (presentation.")
    assert "Training plan" not in text.stdout and "MISSING" not in text.stdout  # not "nothing met"
    data = json.loads(_match(named, challenge, "--json").stdout)
    assert data["verified"] is False and data["verification_failure"].startswith("presentation.")
    assert "plan" not in data and data["summary"].startswith("NOT VERIFIED")
    assert data["verification"]["presentation_verified"] is False  # the two verdicts agree
    html = page.read_text(encoding="utf-8")
    assert html.split("<body>", 1)[1].startswith('<p class="verdict bad"><strong><bdi>NOT VERIFIED: ')
    assert "Training plan" not in html and "<th>Requirement</th>" not in html


def test_library_match_without_a_verdict_stays_as_it_was_and_a_failure_plans_nothing() -> None:
    from skillcred.match import load_catalog, load_profile, match
    from skillcred.verify.report import VerifiedCredential

    vc = VerifiedCredential(index=0, id="urn:uuid:x", issuer="did:key:z", issuer_name="ROC", subject=None,
                            document={"credentialSubject": {"name": "Jan"}}, claims=(), not_counted=())
    plain = match(load_profile(PROFILE), [vc], catalog=load_catalog(CATALOG))
    assert plain.verified is None and "verified" not in plain.to_dict() and plain.plan is not None
    assert plain.to_text().startswith("Gap analysis: Jan for ")  # no verdict line: the caller verified
    failed = match(load_profile(PROFILE), [vc], catalog=load_catalog(CATALOG), verification_failure="proof: bad")
    assert failed.verified is False and failed.plan is None
    assert failed.not_counted == (("urn:uuid:x", "the presentation did not verify"),)
    assert "Training plan" not in failed.to_html()
