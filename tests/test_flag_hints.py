"""Library words, command-line words (issue #14 items 4 and 6).

Why: the library is the product and a library user never typed ``--status-list``; the
command line is one front end of it. So a verification check whose reason advises something
(give the status list, pass the challenge, ...) names the *library parameter* and carries it
in ``Check.hint``; the CLI's verifiers word it as their option, so what ``skillcred verify``
prints (text and ``--json``) says ``--status-list`` as it always did. Likewise a batch row that
fails inside a worker process comes back with its error code and field, so the parent words it
as it words a row that failed in the serial path ("needs --level").

The expected phrases are written here by hand from the option names (docs/verifying.md), not
read back from the code under test.
"""

from __future__ import annotations

import csv
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from skillcred._cli._common import check_words, option_words
from skillcred._internal import batch
from skillcred._internal.fileio import dump_json
from skillcred.did import key_did
from skillcred.errors import SkillcredSecurityWarning
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.verify import Check, VerificationPolicy, VerificationReport, Verifier
from skillcred.wallet import Wallet
from support.cli import CliResult, home_env, run_cli

ACHIEVEMENTS = REPO / "examples" / "achievements"
CNC = ACHIEVEMENTS / "cnc-programmeren.yaml"
DIPLOMA = ACHIEVEMENTS / "mbo-verspaner-diploma.yaml"
CHALLENGE = "c7d1e0a4-flag-hints-challenge"
DOMAIN = "werkgever.example"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")
PASSPHRASE = "flag hints passphrase"


@dataclass
class World:
    root: Path
    home: Path
    vp: dict[str, Any]  # cnc (A, did:key) + diploma (B, did:web), for CHALLENGE/DOMAIN
    vp_file: Path
    status: list[dict[str, Any]]  # every published list of A and B
    status_files: list[Path]
    b_did_document: dict[str, Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("flag-hints")
    init_issuer(root / "a", name="ROC Techniek", url="https://roc-techniek.example")
    init_issuer(root / "b", name="Lasinstituut Noord", url="https://lasinstituut-noord.example", did_method="web")
    wallet = Wallet.init(root / "wallet")
    with Issuer.open(root / "a") as a, Issuer.open(root / "b") as b:
        cnc, _ = a.issue(load_achievement(CNC), wallet.holder, level="3")
        diploma, _ = b.issue(load_achievement(DIPLOMA), wallet.holder)
        a.publish_status(root / "status-a")
        b.publish_status(root / "status-b")
    vp = wallet.present([cnc.document, diploma.document], key=wallet.holder_key(), challenge=CHALLENGE,
                        domain=DOMAIN)
    (root / "vp.json").write_bytes(dump_json(vp))
    files = sorted(p for d in ("status-a", "status-b") for p in (root / d).iterdir()
                   if p.is_file() and p.name != "index.json")
    assert len(files) == 4  # revocation and suspension list of each institute
    home = root / "home"
    home.mkdir()
    yield World(root, home, vp, root / "vp.json", [json.loads(p.read_text(encoding="utf-8")) for p in files],
                files, json.loads((root / "b" / "did.json").read_text(encoding="utf-8")))


def _check(report: VerificationReport, cid: str) -> Check:
    found = [c for c in report.checks if c.id == cid]
    assert len(found) == 1, [c.id for c in report.checks]
    return found[0]


def _quiet_verifier(policy: VerificationPolicy | None = None, **kw: Any) -> Verifier:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unsafe switches warn; not what is tested here
        return Verifier(policy, **kw)


def _full(world: World, policy: VerificationPolicy | None = None, **kw: Any) -> Verifier:
    """Everything a full verification needs: both institutes' lists and B's DID document."""
    return _quiet_verifier(policy, status_lists=world.status, did_documents=[world.b_did_document], **kw)


# -- the library names its parameters, and says which in Check.hint ------------------------------

def test_no_challenge_and_no_domain_advise_the_parameters(world: World) -> None:
    report = _full(world).check(world.vp)
    challenge, domain = _check(report, "presentation.challenge"), _check(report, "presentation.domain")
    assert (challenge.status, challenge.code, challenge.hint) == ("indeterminate", "challenge_not_given", "challenge")
    assert (domain.status, domain.code, domain.hint) == ("indeterminate", "domain_not_given", "domain")
    assert challenge.reason.endswith("(pass challenge=...)") and domain.reason.endswith("(pass domain=...)")
    assert not FLAG.search(challenge.reason + domain.reason)


def test_a_status_list_not_held_advises_status_lists(world: World) -> None:
    report = _quiet_verifier(did_documents=[world.b_did_document]).check(world.vp, challenge=CHALLENGE,
                                                                         domain=DOMAIN)
    for i in (0, 1):
        status = _check(report, f"credential[{i}].status")
        assert (status.status, status.code, status.hint) == ("indeterminate", "status_unavailable", "status_lists")
        assert "(give it with status_lists or 'skillcred status import')" in status.reason
        assert not FLAG.search(status.reason)


def test_a_carried_copy_that_does_not_count_names_status_from_presentation(world: World) -> None:
    carried = dict(world.vp)
    carried["verifiableCredential"] = [*world.vp["verifiableCredential"], *world.status]
    carried.pop("proof")  # the proof no longer matches; what is read here is the status check
    report = _quiet_verifier(VerificationPolicy(status_from_presentation=False),
                             did_documents=[world.b_did_document]).check(carried, challenge=CHALLENGE,
                                                                          domain=DOMAIN)
    status = _check(report, "credential[0].status")
    assert (status.code, status.hint) == ("status_unavailable", "status_lists")
    assert "status_from_presentation=False)" in status.reason and not FLAG.search(status.reason)


def test_a_list_older_than_status_not_before_names_it(world: World) -> None:
    policy = VerificationPolicy(status_not_before=datetime(2999, 1, 1, tzinfo=UTC))
    report = _full(world, policy).check(world.vp, challenge=CHALLENGE, domain=DOMAIN)
    status = _check(report, "credential[0].status")
    assert (status.status, status.code, status.hint) == ("indeterminate", "status_list_too_old", "status_not_before")
    assert "(status_not_before)" in status.reason and not FLAG.search(status.reason)


def test_too_many_credentials_names_max_credentials(world: World) -> None:
    report = _full(world, VerificationPolicy(max_credentials=1)).check(world.vp, challenge=CHALLENGE, domain=DOMAIN)
    held = _check(report, "presentation.credentials")
    assert (held.status, held.code, held.hint) == ("failed", "too_many_credentials", "max_credentials")
    assert "(VerificationPolicy.max_credentials)" in held.reason and not FLAG.search(held.reason)


def test_an_unresolvable_did_web_issuer_advises_did_documents(world: World) -> None:
    report = _quiet_verifier(status_lists=world.status).check(world.vp, challenge=CHALLENGE, domain=DOMAIN)
    proof = _check(report, "credential[1].proof")  # B, did:web, whose document nobody gave
    assert (proof.status, proof.code, proof.hint) == ("failed", "verification_method_unresolved", "did_documents")
    assert "or pass did_documents)" in proof.reason and not FLAG.search(proof.reason)
    status = _check(report, "credential[1].status")  # B's own status list cannot be verified either
    assert (status.code, status.hint) == ("status_list_invalid", "did_documents")
    assert "or pass did_documents)" in status.reason and not FLAG.search(status.reason)


def test_a_status_list_that_does_not_verify_for_another_reason_gets_no_hint(world: World) -> None:
    tampered = json.loads(json.dumps(world.status))
    for lst in tampered:
        start = datetime.fromisoformat(lst["validFrom"].replace("Z", "+00:00")) - timedelta(seconds=1)
        lst["validFrom"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")  # still valid, no longer what was signed
    bad = _quiet_verifier(status_lists=tampered, did_documents=[world.b_did_document]).check(
        world.vp, challenge=CHALLENGE, domain=DOMAIN)
    status = _check(bad, "credential[0].status")
    assert status.code == "status_list_invalid" and status.hint is None  # nothing to pass would settle it


def test_holder_binding_switched_off_names_require_holder_binding(world: World) -> None:
    with pytest.warns(SkillcredSecurityWarning):
        policy = VerificationPolicy(require_holder_binding=False)
    report = _full(world, policy).check(world.vp, challenge=CHALLENGE, domain=DOMAIN)
    binding = _check(report, "credential[0].holder_binding")
    assert (binding.status, binding.code, binding.hint) == ("not_applicable", "unsafe_no_holder_binding",
                                                           "require_holder_binding")
    assert "(require_holder_binding=False)" in binding.reason and not FLAG.search(binding.reason)


def test_passed_checks_carry_no_hint_and_to_dict_never_shows_one(world: World) -> None:
    report = _full(world).check(world.vp, challenge=CHALLENGE, domain=DOMAIN)
    assert report.verified
    assert all(c.hint is None for c in report.checks)
    hinted = _full(world).check(world.vp)
    assert any(c.hint for c in hinted.checks)
    assert all("hint" not in c for c in hinted.to_dict()["checks"])  # the --json shape stays as it was


# -- a front end's wording ------------------------------------------------------------------------

def test_a_verifier_with_wording_rewords_only_hinted_checks(world: World) -> None:
    seen: list[tuple[str, str]] = []

    def words(reason: str, code: str, hint: str) -> str:
        seen.append((code, hint))
        return f"{reason} [front end: {hint}]"

    report = _full(world, wording=words).check(world.vp)
    assert sorted(seen) == [("challenge_not_given", "challenge"), ("domain_not_given", "domain")]
    assert _check(report, "presentation.challenge").reason.endswith("(pass challenge=...) [front end: challenge]")
    assert not any("[front end" in c.reason for c in report.checks if c.hint is None)


def test_a_stored_status_entry_is_worded_like_a_check(world: World) -> None:
    """The talent pool's refresh judges stored entries without their credential (status_entry,
    status_entries): the same reason, in the same words as the check would have it."""
    cred = world.vp["verifiableCredential"][0]
    entries = cred["credentialStatus"] if isinstance(cred["credentialStatus"], list) else [cred["credentialStatus"]]
    issuer = cred["issuer"] if isinstance(cred["issuer"], str) else cred["issuer"]["id"]
    plain, worded = Verifier(), Verifier(wording=check_words)
    for entry in entries:
        status, reason, code = plain.status_entry(entry, issuer=issuer)
        assert (status, code) == ("indeterminate", "status_unavailable")
        assert "(give it with status_lists or" in reason and not FLAG.search(reason)
        for got in (worded.status_entry(entry, issuer=issuer), worded.status_entries([(entry, issuer)])[0]):
            assert got[0] == "indeterminate" and got[1].endswith(
                "(give it with --status-list or 'skillcred status import')")


def test_the_cli_wording_needs_the_code_and_the_hint() -> None:
    reason = "status unknown: status list https://x.example/1 is not available offline " \
             "(give it with status_lists or 'skillcred status import')"
    assert check_words(reason, "status_unavailable", "status_lists").endswith(
        "(give it with --status-list or 'skillcred status import')")
    assert check_words(reason, "status_unavailable", "challenge") == reason  # another parameter
    assert check_words(reason, "status_list_too_old", "status_lists") == reason  # another check
    both = "x (the presentation carries a copy, but this verifier uses only its own lists: " \
           "status_from_presentation=False) (give it with status_lists or 'skillcred status import')"
    assert check_words(both, "status_unavailable", "status_lists") == (
        "x (the presentation carries a copy, but this verifier uses only its own lists: "
        "status_from_presentation=False, --own-status-lists-only) (give it with --status-list or "
        "'skillcred status import')")


# -- the command line prints its options, as before -------------------------------------------------

def _verify(world: World, *args: str | Path) -> CliResult:
    proc = run_cli("verify", world.vp_file, *args, env=home_env(world.home))
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


def _json_check(proc: CliResult, cid: str) -> dict[str, Any]:
    found = [c for c in json.loads(proc.stdout)["checks"] if c["id"] == cid]
    assert len(found) == 1
    return found[0]


def _status_args(world: World) -> list[str]:
    return [x for p in world.status_files for x in ("--status-list", str(p))]


@pytest.mark.parametrize("json_out", [True, False])
def test_the_cli_says_pass_challenge_and_domain(world: World, json_out: bool) -> None:
    proc = _verify(world, "--did-document", world.root / "b" / "did.json", *_status_args(world),
                   *(["--json"] if json_out else []))
    assert proc.returncode == 1
    if json_out:
        assert _json_check(proc, "presentation.challenge")["reason"].endswith("(pass --challenge)")
        assert _json_check(proc, "presentation.domain")["reason"].endswith("(pass --domain)")
        assert "hint" not in _json_check(proc, "presentation.challenge")
    else:
        assert "(pass --challenge)" in proc.stdout and "(pass --domain)" in proc.stdout
    assert "challenge=..." not in proc.stdout and "domain=..." not in proc.stdout


def test_the_cli_says_status_list_did_document_and_the_other_options(world: World) -> None:
    base = ["--challenge", CHALLENGE, "--domain", DOMAIN, "--json"]
    no_lists = _verify(world, "--did-document", world.root / "b" / "did.json", *base)
    status = _json_check(no_lists, "credential[0].status")
    assert status["code"] == "status_unavailable"
    assert status["reason"].endswith("(give it with --status-list or 'skillcred status import')")
    no_doc = _verify(world, *_status_args(world), *base)
    assert _json_check(no_doc, "credential[1].proof")["reason"].endswith(
        "(add it to the trust list or pass --did-document)")
    # the same advice quoted inside another check's reason: B's status list cannot be verified
    assert _json_check(no_doc, "credential[1].status")["reason"].endswith(
        "(add it to the trust list or pass --did-document)")
    too_old = _verify(world, "--did-document", world.root / "b" / "did.json", *_status_args(world),
                      "--status-not-before", "2999-01-01", *base)
    assert "(status_not_before, --status-not-before)" in _json_check(too_old, "credential[0].status")["reason"]
    too_many = _verify(world, "--max-credentials", "1", *base)
    assert "(VerificationPolicy.max_credentials, --max-credentials)" in _json_check(
        too_many, "presentation.credentials")["reason"]
    for proc in (no_lists, no_doc, too_old, too_many):
        assert proc.returncode == 1
        library_words = ("status_lists or", "or pass did_documents)", "(status_not_before)",
                         "(VerificationPolicy.max_credentials)")
        assert not any(w in proc.stdout for w in library_words), proc.stdout


# -- batch rows that fail in a worker are worded as serial ones --------------------------------------

def _roster(path: Path, rows: int, holder: str) -> tuple[Path, set[int]]:
    """A roster of CNC credentials (a graded skill); every 41st row leaves the level out."""
    missing: set[int] = set()
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "subject", "name", "achievement", "level"])
        for i in range(rows):
            level = "" if i % 41 == 6 else str(1 + i % 5)
            if not level:
                missing.add(i + 2)  # the file's line: the header is line 1
            w.writerow([f"r{i}", holder, f"Student {i}", str(CNC), level])
    return path, missing


class _CountingPools(batch.Pools):
    made = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        type(self).made += 1
        super().__init__(*args, **kwargs)


def test_a_row_failing_in_a_worker_keeps_its_code_and_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    holder = key_did(KeyPair.generate("ed25519").public_key)
    roster, missing = _roster(tmp_path / "roster.csv", batch.MIN_PARALLEL_ROWS + 10, holder)
    init_issuer(tmp_path / "roc", name="ROC Techniek", url="https://roc-techniek.example")
    monkeypatch.setattr(batch, "Pools", _CountingPools)
    _CountingPools.made = 0
    with Issuer.open(tmp_path / "roc") as iss:
        result = iss.issue_batch(roster, tmp_path / "out", workers=2)
    assert _CountingPools.made == 1  # the worker processes signed, not the parent
    assert sorted(e.line for e in result.errors) == sorted(missing) and len(missing) >= 5
    for e in result.errors:
        assert (e.code, e.field) == ("invalid_argument", "level")
        assert "needs a level (" in e.message and not FLAG.search(e.message)
        assert "needs --level (one of" in option_words(e.message, e.code, e.field)
    assert result.issued_count == batch.MIN_PARALLEL_ROWS + 10 - len(missing)


def test_the_cli_batch_says_needs_level_for_worker_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    holder = key_did(KeyPair.generate("ed25519").public_key)
    folder = tmp_path / "roc"
    init_issuer(folder, name="ROC Techniek", url="https://roc-techniek.example", passphrase=PASSPHRASE.encode())
    monkeypatch.setattr(batch, "default_workers", lambda: 2)  # the multi-worker path on any machine
    monkeypatch.setattr(batch, "Pools", _CountingPools)
    _CountingPools.made = 0
    env = {**home_env(tmp_path / "home"), "SKILLCRED_PASSPHRASE": PASSPHRASE}
    big, missing = _roster(tmp_path / "big.csv", batch.MIN_PARALLEL_ROWS + 10, holder)
    proc = run_cli("issue", "--issuer", folder, "--batch", big, "--out-dir", tmp_path / "out-big", env=env)
    assert _CountingPools.made == 1
    small, small_missing = _roster(tmp_path / "small.csv", 10, holder)  # serial: below MIN_PARALLEL_ROWS
    serial = run_cli("issue", "--issuer", folder, "--batch", small, "--out-dir", tmp_path / "out-small", env=env)
    assert _CountingPools.made == 1 and small_missing == {8}
    for p, lines in ((proc, missing), (serial, small_missing)):
        assert p.returncode == 2 and "Traceback" not in p.stderr
        errors = [ln for ln in p.stderr.splitlines() if ln.startswith("skillcred: error:")]
        assert [int(ln.split(":")[3]) for ln in errors] == sorted(lines)
        for ln in errors:
            assert "needs --level (one of 1, 2, 3, 4, 5)" in ln and "needs a level" not in ln, ln
    # the worker's row reads exactly as the serial row of the same line
    line = 8
    assert [ln.split(":", 3)[3] for ln in proc.stderr.splitlines() if f"big.csv:{line}:" in ln] == \
        [ln.split(":", 3)[3] for ln in serial.stderr.splitlines() if f"small.csv:{line}:" in ln]
