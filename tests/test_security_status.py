"""Issue #13 item 6, status-list freshness: a candidate must not get a revoked credential
accepted by showing an *older* copy of the institute's status list (one issued before the
revocation, still within its validity period), and no copy that fails its proof may decide.

The world: institute A (did:key) issued a credential to the wallet's holder. A published its
status lists (``v1``, an hour ago), then revoked the credential and published again (``v2``,
now). Both copies are genuine and neither is stale, so only their ``validFrom`` tells them
apart. Institute C plays the forger. Expected codes are the documented ones (docs/verifying.md,
docs/errors.md). The last part runs the employer's command line (``status import``,
``verify``, ``match``, ``rank``) in-process (support.cli) with a clean home folder.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from skillcred._internal.fileio import dump_json, load_json_object
from skillcred._internal.timeutil import format_datetime, parse_datetime, utcnow
from skillcred.errors import InvalidArgument, SkillcredError
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair, read_key_file
from skillcred.proofs import add_proof
from skillcred.status import BitstringStatusList, list_valid_from
from skillcred.trust import TrustList
from skillcred.verify import Check, VerificationPolicy, VerificationReport, Verifier
from skillcred.verify import verifier as verifier_module
from skillcred.wallet import Wallet
from support.cli import CliResult, home_env, run_cli

ACHIEVEMENTS = REPO / "examples" / "achievements"
PROFILE = REPO / "examples" / "profiles" / "cnc-verspaner.json"
CHALLENGE = "7b2e-freshness-challenge"
DOMAIN = "werkgever.example"
Doc = dict[str, Any]


@dataclass
class World:
    root: Path
    a: Issuer
    c: Issuer  # the forger
    a_key: KeyPair
    c_key: KeyPair
    wallet: Wallet
    holder_key: KeyPair
    revoked: Doc  # revoked between v1 and v2
    good: Doc  # never revoked
    v1: list[Doc]  # A's lists (revocation, suspension) an hour ago: nothing revoked
    v2: list[Doc]  # A's lists now: ``revoked`` is revoked

    def vp(self, *docs: Doc) -> Doc:
        return self.wallet.present(list(docs), key=self.holder_key, challenge=CHALLENGE, domain=DOMAIN)

    def trust(self) -> TrustList:
        tl = TrustList()
        tl.add(self.a.profile.did, name="ROC Techniek")
        return tl


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("freshness")
    init_issuer(root / "a", name="ROC Techniek", url="https://roc-techniek.example")
    init_issuer(root / "c", name="Diplomafabriek", url="https://diplomafabriek.example")
    wallet = Wallet.init(root / "wallet")
    with Issuer.open(root / "a") as a, Issuer.open(root / "c") as c:
        cnc = load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml")
        revoked, _ = a.issue(cnc, wallet.holder, level="3")
        good, _ = a.issue(cnc, wallet.holder, level="4")
        v1 = [doc for _, doc in a.status_list_credentials(now=utcnow() - timedelta(hours=1))]
        assert a.revoke(revoked.id)
        v2 = [doc for _, doc in a.status_list_credentials()]
        yield World(root, a, c, read_key_file(root / "a" / "issuer-key.pem"),
                    read_key_file(root / "c" / "issuer-key.pem"), wallet, wallet.holder_key(),
                    dict(revoked.document), dict(good.document), v1, v2)


def verifier(w: World, status: list[Doc], **policy: Any) -> Verifier:
    return Verifier(VerificationPolicy(trust=w.trust(), **policy), status_lists=status)


def check(v: Verifier, doc: Doc) -> VerificationReport:
    return v.check(doc, challenge=CHALLENGE, domain=DOMAIN)


def status_of(report: VerificationReport, i: int = 0) -> Check:
    cid = f"credential[{i}].status" if report.kind == "presentation" else "credential.status"
    found = [c for c in report.checks if c.id == cid]
    assert len(found) == 1, [c.id for c in report.checks]
    return found[0]


def assert_status(report: VerificationReport, status: str, code: str, i: int = 0) -> Check:
    c = status_of(report, i)
    assert (c.status, c.code) == (status, code), c
    if status != "passed":
        assert report.verified is False
    return c


def revocation(lists: list[Doc]) -> Doc:
    (lst,) = [x for x in lists if x["credentialSubject"]["statusPurpose"] == "revocation"]
    return lst


def resign(doc: Doc, key: KeyPair, signer: Issuer, **changes: Any) -> Doc:
    """``doc`` with ``changes`` applied (None deletes a member), signed again with ``key``."""
    out = copy.deepcopy(doc)
    del out["proof"]
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return add_proof(out, key, verification_method=signer.profile.verification_method,
                     cryptosuite=signer.profile.suite)


def later(doc: Doc, by: timedelta = timedelta(minutes=30)) -> str:
    start = parse_datetime(doc["validFrom"])
    return format_datetime(start + by)


def test_the_two_copies_are_both_genuine_and_fresh(world: World) -> None:
    """The premise: v1 alone accepts the revoked credential, v2 alone rejects it."""
    v1_from, v2_from = list_valid_from(revocation(world.v1)), list_valid_from(revocation(world.v2))
    assert v1_from is not None and v2_from is not None and v1_from < v2_from
    assert check(verifier(world, world.v1), world.vp(world.revoked)).verified is True
    assert_status(check(verifier(world, world.v2), world.vp(world.revoked)), "failed", "revoked")


# --------------------------------------------------------------------------------------------
# The newest copy that verifies decides


def test_a_stapled_older_list_does_not_override_the_verifiers_newer_one(world: World) -> None:
    report = check(verifier(world, world.v2), world.vp(world.revoked, *world.v1))
    c = assert_status(report, "failed", "revoked")
    assert f"validFrom {revocation(world.v2)['validFrom']}, held by the verifier" in c.reason


def test_a_stapled_newer_list_beats_the_verifiers_older_one(world: World) -> None:
    report = check(verifier(world, world.v1), world.vp(world.revoked, *world.v2))
    c = assert_status(report, "failed", "revoked")
    assert f"validFrom {revocation(world.v2)['validFrom']}, carried by the presentation" in c.reason


@pytest.mark.parametrize("order", ["v1 then v2", "v2 then v1"])
def test_every_copy_given_to_the_verifier_counts_whatever_the_order(world: World, order: str) -> None:
    """Before: the copy given last replaced the others, so an old file given after the cache won."""
    given = world.v1 + world.v2 if order == "v1 then v2" else world.v2 + world.v1
    assert_status(check(verifier(world, given), world.vp(world.revoked)), "failed", "revoked")
    v = verifier(world, world.v2)
    for lst in world.v1:  # added later, one by one
        v.add_status_list(lst)
    assert_status(check(v, world.vp(world.revoked)), "failed", "revoked")


def test_a_bare_credential_is_judged_by_the_newest_copy_too(world: World) -> None:
    assert_status(verifier(world, world.v2 + world.v1).check(world.revoked), "failed", "revoked")


def test_several_stapled_copies_the_newest_wins(world: World) -> None:
    report = check(verifier(world, []), world.vp(world.revoked, *world.v1, *world.v2, *world.v1))
    assert "carried by the presentation" in assert_status(report, "failed", "revoked").reason


def test_on_a_tie_the_verifiers_own_copy_is_named(world: World) -> None:
    report = check(verifier(world, world.v2), world.vp(world.good, *world.v2))
    c = assert_status(report, "passed", "ok")
    assert c.reason.count("held by the verifier") == 2 and "presentation" not in c.reason
    assert report.verified is True


def test_the_good_credential_still_verifies_with_mixed_copies(world: World) -> None:
    report = check(verifier(world, world.v1), world.vp(world.good, *world.v2))
    c = assert_status(report, "passed", "ok")
    assert c.reason.startswith("not revoked (validFrom ") and "carried by the presentation" in c.reason
    assert report.verified is True


def test_stapled_copies_do_not_stay_with_the_verifier(world: World) -> None:
    v = verifier(world, world.v1)
    assert_status(check(v, world.vp(world.revoked, *world.v2)), "failed", "revoked")
    # the next candidate staples nothing: the verifier knows only v1 again
    report = check(v, world.vp(world.revoked))
    assert "held by the verifier" in assert_status(report, "passed", "ok").reason


# --------------------------------------------------------------------------------------------
# Forged or invalid "newer" copies: never used, never hiding a genuine one


def forgeries(w: World) -> dict[str, Doc]:
    """Copies of A's revocation list claiming to be newer than v2 and showing nothing revoked."""
    v2 = revocation(w.v2)
    cleared = copy.deepcopy(v2)
    cleared["validFrom"] = later(v2)
    cleared["credentialSubject"]["encodedList"] = BitstringStatusList().encode()  # proof now broken
    subject = copy.deepcopy(v2["credentialSubject"])
    subject["encodedList"] = BitstringStatusList().encode()
    return {
        "tampered": cleared,
        "signed by C in A's name": resign(v2, w.c_key, w.c, validFrom=later(v2), credentialSubject=subject),
        "issued and signed by C": resign(v2, w.c_key, w.c, validFrom=later(v2), credentialSubject=subject,
                                         issuer=w.c.profile.did),
        "no proof": {k: v for k, v in cleared.items() if k != "proof"},
    }


FORGERIES = ["tampered", "signed by C in A's name", "issued and signed by C", "no proof"]


@pytest.mark.parametrize("kind", FORGERIES)
def test_a_stapled_forged_newer_list_falls_back_to_the_verifiers_genuine_one(world: World, kind: str) -> None:
    forged = forgeries(world)[kind]
    report = check(verifier(world, world.v2), world.vp(world.revoked, forged))
    c = assert_status(report, "failed", "revoked")
    assert "held by the verifier" in c.reason and "1 newer copy that did not verify ignored" in c.reason


@pytest.mark.parametrize("kind", FORGERIES)
def test_a_forged_newer_list_alone_is_never_accepted(world: World, kind: str) -> None:
    forged = forgeries(world)[kind]
    report = check(verifier(world, []), world.vp(world.revoked, forged))
    code = "status_list_invalid" if kind in ("tampered", "no proof") else "status_list_wrong_issuer"
    assert_status(report, "indeterminate", code)
    assert report.verified is False


def test_a_forged_newer_list_does_not_hide_a_genuine_stapled_one(world: World) -> None:
    forged = forgeries(world)
    report = check(verifier(world, world.v1), world.vp(world.revoked, forged["tampered"], *world.v2,
                                                           forged["signed by C in A's name"]))
    c = assert_status(report, "failed", "revoked")
    assert "carried by the presentation" in c.reason and "2 newer copies that did not verify ignored" in c.reason


def test_a_forged_copy_among_the_verifiers_own_is_skipped_too(world: World) -> None:
    """A doctored file in the cache folder must not decide either."""
    report = check(verifier(world, [forgeries(world)["tampered"], *world.v1]), world.vp(world.revoked, *world.v2))
    assert_status(report, "failed", "revoked")


def test_when_no_copy_verifies_the_newest_ones_problem_is_reported(world: World) -> None:
    f = forgeries(world)
    report = check(verifier(world, [f["tampered"]]), world.vp(world.revoked, f["issued and signed by C"]))
    c = assert_status(report, "indeterminate", "status_list_invalid")
    assert "held by the verifier" in c.reason and "1 other copy did not verify either" in c.reason


def test_each_copy_is_proof_checked_once_and_stapled_copies_are_capped(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many credentials and many stapled copies must not multiply into proof checks."""
    calls: list[str] = []
    real = verifier_module.check_proofs

    def counting(doc: Any, **kw: Any) -> Any:
        calls.append(str(doc.get("id")))
        return real(doc, **kw)

    monkeypatch.setattr(verifier_module, "check_proofs", counting)
    tampered = forgeries(world)["tampered"]
    junk = []
    for minutes in range(1, 11):  # ten forged copies, each claiming to be newer still
        f = copy.deepcopy(tampered)
        f["validFrom"] = later(tampered, timedelta(minutes=minutes))
        junk.append(f)
    vp = world.vp(world.revoked, world.good, *junk, *world.v2)
    report = check(verifier(world, world.v1), vp)
    rev_url = revocation(world.v2)["id"]
    # revocation list: the 4 newest stapled copies (all forged) + the verifier's v1; suspension: v2
    assert calls.count(rev_url) == verifier_module.MAX_STAPLED_COPIES + 1
    assert len(calls) == verifier_module.MAX_STAPLED_COPIES + 2
    # the genuine stapled v2 was past the cap: the verifier's v1 decided (see docs/verifying.md)
    assert "held by the verifier" in status_of(report, 0).reason


# --------------------------------------------------------------------------------------------
# Policy: status_not_before, status_from_presentation


def test_status_not_before_after_v1_makes_v1_too_old(world: World) -> None:
    v1_from = list_valid_from(revocation(world.v1))
    assert v1_from is not None
    v = verifier(world, world.v1, status_not_before=v1_from + timedelta(seconds=1))
    report = check(v, world.vp(world.good))
    c = assert_status(report, "indeterminate", "status_list_too_old")
    assert "older than the required" in c.reason and revocation(world.v1)["validFrom"] in c.reason
    assert report.verified is False


def test_status_not_before_is_inclusive_and_a_newer_copy_satisfies_it(world: World) -> None:
    v1_from = list_valid_from(revocation(world.v1))
    assert v1_from is not None
    assert check(verifier(world, world.v1, status_not_before=v1_from), world.vp(world.good)).verified is True
    v = verifier(world, world.v1, status_not_before=v1_from + timedelta(minutes=1))
    assert_status(check(v, world.vp(world.revoked, *world.v2)), "failed", "revoked")
    assert check(v, world.vp(world.good, *world.v2)).verified is True


def test_status_not_before_naive_is_utc_and_a_list_without_validfrom_is_too_old(world: World) -> None:
    v1_from = list_valid_from(revocation(world.v1))
    assert v1_from is not None
    naive = v1_from.replace(tzinfo=None) + timedelta(seconds=1)
    assert_status(check(verifier(world, world.v1, status_not_before=naive), world.vp(world.good)),
                  "indeterminate", "status_list_too_old")
    undated = [resign(lst, world.a_key, world.a, validFrom=None, validUntil=None) for lst in world.v2]
    assert check(verifier(world, undated), world.vp(world.good)).verified is True  # a genuine list
    v = verifier(world, undated, status_not_before=v1_from)
    c = assert_status(check(v, world.vp(world.good)), "indeterminate", "status_list_too_old")
    assert "validFrom (none)" in c.reason


def test_status_not_before_does_not_excuse_a_stale_list(world: World) -> None:
    old = [doc for _, doc in world.a.status_list_credentials(now=utcnow() - timedelta(days=10))]
    report = check(verifier(world, old, status_not_before=utcnow() - timedelta(days=30)), world.vp(world.good))
    assert_status(report, "indeterminate", "status_list_stale")


def test_stapled_only_lists_are_ignored_when_the_policy_says_so(world: World) -> None:
    v = verifier(world, [], status_from_presentation=False)
    report = check(v, world.vp(world.good, *world.v2))
    c = assert_status(report, "indeterminate", "status_unavailable")
    assert "the presentation carries a copy" in c.reason
    assert report.verified is False
    assert check(verifier(world, []), world.vp(world.good, *world.v2)).verified is True  # default: used


def test_ignoring_stapled_lists_means_the_verifiers_own_decide(world: World) -> None:
    """The verifier's choice, with its cost: its own copy, even older, is then what counts."""
    v = verifier(world, world.v1, status_from_presentation=False)
    c = assert_status(check(v, world.vp(world.revoked, *world.v2)), "passed", "ok")
    assert "held by the verifier" in c.reason
    v = verifier(world, world.v2, status_from_presentation=False)
    assert_status(check(v, world.vp(world.revoked, *world.v1)), "failed", "revoked")


def test_copies_added_as_from_the_presentation_obey_the_policy(world: World) -> None:
    """How the service hands over the lists of an unsigned presentation, checked credential by
    credential: they stay the holder's copies."""
    v = verifier(world, [], status_from_presentation=False)
    for lst in world.v2:
        v.add_status_list(lst, from_presentation=True)
    assert_status(v.check(world.good), "indeterminate", "status_unavailable")
    v = verifier(world, world.v2)
    for lst in world.v2:
        v.add_status_list(lst, from_presentation=True)
    assert "held by the verifier" in assert_status(v.check(world.revoked), "failed", "revoked").reason


@pytest.mark.parametrize("bad", [{"status_not_before": "2026-01-01"}, {"status_not_before": 0},
                                 {"status_from_presentation": "no"}, {"status_from_presentation": None}])
def test_policy_refuses_bad_values(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        VerificationPolicy(**bad)


# --------------------------------------------------------------------------------------------
# The command line


@dataclass
class Cli:
    root: Path
    home: Path
    trust: Path
    v1: list[Path]
    v2: list[Path]
    vp_revoked_v1: Path  # the revoked credential, stapling v1
    vp_revoked_v2: Path  # the revoked credential, stapling v2
    vp_good_v2: Path  # the good credential, stapling v2
    v1_from: datetime


@pytest.fixture(scope="module")
def cli(world: World) -> Cli:
    root = world.root / "cli"
    root.mkdir()
    home = root / "home"
    home.mkdir()
    tl = TrustList.load_or_new(root / "trust.json")
    tl.add(world.a.profile.did, name="ROC Techniek")
    tl.save()
    paths: dict[str, list[Path]] = {}
    for tag, lists in (("v1", world.v1), ("v2", world.v2)):
        paths[tag] = []
        for lst in lists:
            p = root / f"{tag}-{lst['credentialSubject']['statusPurpose']}.json"
            p.write_bytes(dump_json(lst))
            paths[tag].append(p)
    vps = {}
    for name, docs in (("revoked-v1", [world.revoked, *world.v1]), ("revoked-v2", [world.revoked, *world.v2]),
                       ("good-v2", [world.good, *world.v2])):
        vps[name] = root / f"vp-{name}.json"
        vps[name].write_bytes(dump_json(world.vp(*docs)))
    v1_from = list_valid_from(revocation(world.v1))
    assert v1_from is not None
    return Cli(root, home, root / "trust.json", paths["v1"], paths["v2"], vps["revoked-v1"], vps["revoked-v2"],
               vps["good-v2"], v1_from)


def run(cli: Cli, *args: str | Path) -> CliResult:
    proc = run_cli(*args, env=home_env(cli.home))
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


def import_(cli: Cli, cache: Path, *files: Path) -> CliResult:
    return run(cli, "status", "import", *files, "--cache", cache)


def cached(cache: Path) -> dict[str, str]:
    """list id -> validFrom of what the cache holds."""
    return {d["id"]: d["validFrom"] for d in (load_json_object(p) for p in cache.glob("*.json"))}


def verify(cli: Cli, vp: Path, *args: str | Path) -> tuple[int, dict[str, Any]]:
    proc = run(cli, "verify", vp, "--trust", cli.trust, "--challenge", CHALLENGE, "--domain", DOMAIN, "--json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def cli_status(data: dict[str, Any]) -> dict[str, Any]:
    (c,) = [c for c in data["checks"] if c["id"] == "credential[0].status"]
    return c


def test_status_import_keeps_a_newer_cached_copy(cli: Cli, world: World, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert import_(cli, cache, *cli.v2).returncode == 0
    proc = import_(cli, cache, *cli.v1)
    assert proc.returncode == 0
    assert proc.stderr.count("skillcred: warning:") == 2 and "newer copy" in proc.stderr
    assert str(cli.v1[0]) in proc.stderr
    assert cached(cache) == {d["id"]: d["validFrom"] for d in world.v2}
    # one line per refused file, nothing cached claimed on stdout
    assert "cached" not in proc.stdout


def test_status_import_replaces_an_older_copy_and_order_does_not_matter(cli: Cli, world: World,
                                                                         tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert import_(cli, cache, *cli.v1).returncode == 0
    assert cached(cache) == {d["id"]: d["validFrom"] for d in world.v1}
    proc = import_(cli, cache, *cli.v2)
    assert proc.returncode == 0 and proc.stdout.count("cached ") == 2 and "warning" not in proc.stderr
    assert cached(cache) == {d["id"]: d["validFrom"] for d in world.v2}
    both = tmp_path / "both"
    assert import_(cli, both, *cli.v2, *cli.v1).returncode == 0  # newest first in one go
    assert cached(both) == {d["id"]: d["validFrom"] for d in world.v2}
    again = import_(cli, both, *cli.v2)  # the same copy again is fine
    assert again.returncode == 0 and "warning" not in again.stderr


def test_status_import_writes_nothing_when_one_file_is_not_a_list(cli: Cli, world: World, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    bad = tmp_path / "cred.json"
    bad.write_bytes(dump_json(world.good))
    proc = import_(cli, cache, *cli.v2, bad)
    assert proc.returncode == 2 and str(bad) in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not cache.exists()  # the good files before it were not imported either


def test_cli_verify_uses_the_newest_copy_either_way(cli: Cli, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    import_(cli, cache, *cli.v2)
    rc, data = verify(cli, cli.vp_revoked_v1, "--status-cache", cache)  # stapled v1, cached v2
    assert rc == 1 and cli_status(data)["code"] == "revoked"
    assert "held by the verifier" in cli_status(data)["reason"]
    old = tmp_path / "old"
    import_(cli, old, *cli.v1)
    rc, data = verify(cli, cli.vp_revoked_v2, "--status-cache", old)  # cached v1, stapled v2
    assert rc == 1 and cli_status(data)["code"] == "revoked"
    assert "carried by the presentation" in cli_status(data)["reason"]
    args = [x for p in cli.v1 for x in ("--status-list", p)]
    rc, data = verify(cli, cli.vp_revoked_v1, "--status-cache", cache, *args)  # a v1 file besides cache v2
    assert rc == 1 and cli_status(data)["code"] == "revoked"


def test_cli_status_not_before(cli: Cli, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    import_(cli, cache, *cli.v1)
    after = format_datetime(cli.v1_from + timedelta(seconds=1))
    rc, data = verify(cli, cli.vp_revoked_v1, "--status-cache", cache, "--status-not-before", after)
    assert rc == 1 and cli_status(data)["code"] == "status_list_too_old"
    rc, data = verify(cli, cli.vp_good_v2, "--status-cache", cache, "--status-not-before", after)
    assert rc == 0 and cli_status(data)["status"] == "passed"  # the stapled v2 is new enough
    day = format_datetime(cli.v1_from)[:10]  # a bare date: its midnight, so v1 is new enough
    rc, data = verify(cli, cli.vp_revoked_v1, "--status-cache", cache, "--status-not-before", day)
    assert rc == 0
    proc = run(cli, "verify", cli.vp_good_v2, "--trust", cli.trust, "--challenge", CHALLENGE, "--domain", DOMAIN,
               "--status-not-before", "last tuesday")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "--status-not-before" in proc.stderr


def test_cli_own_status_lists_only(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    rc, data = verify(cli, cli.vp_good_v2, "--status-cache", empty)
    assert rc == 0  # stapled v2 used by default
    rc, data = verify(cli, cli.vp_good_v2, "--status-cache", empty, "--own-status-lists-only")
    c = cli_status(data)
    assert rc == 1 and (c["status"], c["code"]) == ("indeterminate", "status_unavailable")
    assert "presentation carries a copy" in c["reason"]
    args = [x for p in cli.v2 for x in ("--status-list", p)]
    rc, data = verify(cli, cli.vp_revoked_v1, "--status-cache", empty, "--own-status-lists-only", *args)
    assert rc == 1 and cli_status(data)["code"] == "revoked"


def test_cli_match_and_rank_take_the_freshness_options(cli: Cli, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    import_(cli, cache, *cli.v1)
    after = format_datetime(cli.v1_from + timedelta(seconds=1))
    proc = run(cli, "match", cli.vp_revoked_v1, "--profile", PROFILE, "--trust", cli.trust, "--challenge", CHALLENGE,
               "--domain", DOMAIN, "--status-cache", cache, "--status-not-before", after, "--json")
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    (c,) = [c for c in out["verification"]["checks"] if c["id"] == "credential[0].status"]
    assert c["code"] == "status_list_too_old"
    assert len(out["not_counted"]) == 1 and "older than the required" in out["not_counted"][0]["reason"]
    folder = tmp_path / "candidates"
    folder.mkdir()
    (folder / "jan.json").write_bytes(cli.vp_good_v2.read_bytes())
    (folder / "challenges.json").write_text(json.dumps({"jan.json": CHALLENGE}))
    proc = run(cli, "rank", folder, "--profile", PROFILE, "--trust", cli.trust, "--domain", DOMAIN,
               "--status-cache", tmp_path / "empty", "--own-status-lists-only", "--json", "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["presentation_verified"] is True
    assert len(row["not_counted"]) == 1 and "presentation carries a copy" in row["not_counted"][0]["reason"]


# --------------------------------------------------------------------------------------------
# The service (``skillcred serve --status-not-before / --own-status-lists-only``)


def test_service_policy_options(world: World, tmp_path: Path) -> None:
    """The service holds its own issuer's lists, always current; other issuers' lists can only
    come with the presentation, which ``status_from_presentation=False`` refuses."""
    service = pytest.importorskip("skillcred.service")
    tl = TrustList.load_or_new(tmp_path / "trust.json")
    tl.add(world.a.profile.did, name="ROC Techniek")
    tl.add(world.c.profile.did, name="Diplomafabriek")
    tl.save()
    other, _ = world.c.issue(load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml"), world.wallet.holder,
                             level="2")
    c_lists = [doc for _, doc in world.c.status_list_credentials()]
    vp = world.vp(dict(other.document), *c_lists)
    unsigned = {k: v for k, v in vp.items() if k != "proof"}

    def state(**options: Any) -> Any:
        config = service.ServiceConfig(issuer_dir=str(world.root / "a"), trust_file=str(tmp_path / "trust.json"),
                                       public_url="https://roc-techniek.example", unsafe_open_issuing=True,
                                       **options)
        return service.ServiceState(service.ServiceConfig.from_json(config.to_json()))

    def status(checks: list[Check]) -> tuple[str, str]:
        (c,) = [c for c in checks if c.id == "credential[0].status"]
        return c.status, c.code

    default = state()
    assert status(default.verify_presentation(vp, CHALLENGE, DOMAIN)[0]) == ("passed", "ok")
    assert status(default.verify_presentation(unsigned, None, None)[0]) == ("passed", "ok")
    own_only = state(status_from_presentation=False)
    assert status(own_only.verify_presentation(vp, CHALLENGE, DOMAIN)[0]) == ("indeterminate", "status_unavailable")
    assert status(own_only.verify_presentation(unsigned, None, None)[0]) == ("indeterminate", "status_unavailable")
    checks, _ = own_only.verify_presentation(world.vp(world.revoked), CHALLENGE, DOMAIN)
    assert status(checks) == ("failed", "revoked")  # its own lists still count
    future = state(status_not_before=format_datetime(utcnow() + timedelta(days=1)))
    checks, _ = future.verify_presentation(world.vp(world.good), CHALLENGE, DOMAIN)
    assert status(checks) == ("indeterminate", "status_list_too_old")
    # the library names its field (the command line says --status-not-before: the next test)
    with pytest.raises(SkillcredError, match="status_not_before 'soon' is not"):
        state(status_not_before="soon")


def test_serve_refuses_a_bad_status_not_before_before_starting(cli: Cli, world: World) -> None:
    pytest.importorskip("skillcred.service")
    proc = run(cli, "serve", "--issuer", world.root / "a", "--trust", cli.trust, "--unsafe-open-issuing",
               "--status-not-before", "soon")
    assert proc.returncode == 2 and "--status-not-before" in proc.stderr
    assert "skillcred: error:" in proc.stderr and "serve:" not in proc.stderr  # nothing started
