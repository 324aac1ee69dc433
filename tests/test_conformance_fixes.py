"""Issue #15: what the W3C suites want of the data model and the VC-API, each as a rule of
the one :class:`Verifier` (or of the issuing service) with its own cases.

* an issue request whose credential has no ``issuer``, or ``issuer: null`` (VC 2.0 and 1.1),
  is refused with 400 and nothing is recorded;
* ``relatedResource`` (VC DM 2.0 §5.3) is validated at issue and in the verifier's shape step;
  a digest is checked against the bundled bytes where the resource is a bundled context, and
  is *indeterminate* (never passed) for anything else;
* a presentation without ``verifiableCredential`` passes the data-model check;
  ``VerificationPolicy.require_credentials`` (default on) refuses it by name;
* holder binding is a stated policy (``require_holder_binding``, ``serve
  --unsafe-no-holder-binding``);
* the service verifies unsigned presentations through the one ``Verifier``
  (``allow_unsigned_presentations``): one set of presentations gets the same verdicts and the
  same failing checks from ``skillcred verify --json``, ``Verifier.assess`` and HTTP.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from service_support import (
    SUBJECT,
    VC_V1,
    VC_V2,
    IssuerSetup,
    Server,
    credential,
    make_issuer,
    start_server,
)
from skillcred._internal import base58, base64url
from skillcred._internal.integrity import check_related_resources, related_resource_shape_problem
from skillcred.did import key_did, key_did_url
from skillcred.errors import InvalidArgument, SkillcredSecurityWarning
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair, read_key_file
from skillcred.loader import default_loader
from skillcred.proofs import add_proof
from skillcred.registry import Registry
from skillcred.trust import TrustList
from skillcred.verify import Check, VerificationPolicy, VerificationReport, Verifier
from support.cli import run_cli

V2_BYTES = (REPO / "contexts" / "credentials-v2.jsonld").read_bytes()
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
CHALLENGE = "c-5d1e7a"
DOMAIN = "werkgever.example"
OPTIONS = {"challenge": CHALLENGE, "domain": DOMAIN}
REVOCATION = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}
OTHER = key_did(KeyPair.generate("ed25519").public_key)  # somebody who is not the presenter


def sri(alg: str, data: bytes) -> str:
    return f"{alg}-{base64.b64encode(hashlib.new(alg, data).digest()).decode()}"


def multihash(alg: str, data: bytes) -> bytes:
    code = {"sha256": 0x12, "sha384": 0x20}[alg]
    digest = hashlib.new(alg, data).digest()
    return bytes([code, len(digest)]) + digest


def mb_u(alg: str, data: bytes) -> str:
    return "u" + base64url.encode(multihash(alg, data))


def mb_z(alg: str, data: bytes) -> str:
    return base58.encode(multihash(alg, data))


def the(report: VerificationReport, cid: str) -> Check:
    found = [c for c in report.checks if c.id == cid]
    assert len(found) == 1, (cid, [c.id for c in report.checks])
    return found[0]


def failing(report: VerificationReport) -> set[str]:
    return {c.id for c in report.checks if not c.ok}


# ============================================================================================
# relatedResource: the rule itself (no signatures needed)


def held(url: str) -> bytes | None:
    return V2_BYTES if url == VC_V2 else None


@pytest.mark.parametrize(("value", "needle"), [
    ("https://example.org/a", "object"),
    (["https://example.org/a"], "object"),
    ([], "empty"),
    ({"digestSRI": sri("sha384", b"x")}, "id"),
    ({"id": None, "digestSRI": sri("sha384", b"x")}, "id"),
    ({"id": "not a url", "digestSRI": sri("sha384", b"x")}, "id"),
    ({"id": ["https://example.org/a"], "digestSRI": sri("sha384", b"x")}, "id"),
    ([{"id": "https://example.org/a", "digestSRI": sri("sha384", b"x")},
      {"id": "https://example.org/a", "digestMultibase": mb_u("sha256", b"x")}], "twice"),
    ({"id": "https://example.org/a"}, "neither"),
    ({"id": "https://example.org/a", "mediaType": "image/png"}, "neither"),
    ({"id": "https://example.org/a", "digestSRI": 7}, "digestSRI"),
    ({"id": "https://example.org/a", "digestSRI": ""}, "digestSRI"),
    ({"id": "https://example.org/a", "digestMultibase": ["uEiA"]}, "digestMultibase"),
    ([{"id": f"https://example.org/{i}", "digestSRI": sri("sha256", b"x")} for i in range(101)], "more than"),
])
def test_malformed_related_resources_fail(value: Any, needle: str) -> None:
    problem = related_resource_shape_problem(value)
    assert problem is not None and needle in problem
    outcome = check_related_resources(value, held)
    assert (outcome.status, outcome.code) == ("failed", "related_resource_malformed")


@pytest.mark.parametrize("digests", [
    {"digestSRI": sri("sha256", V2_BYTES)},
    {"digestSRI": sri("sha384", V2_BYTES)},
    {"digestSRI": sri("sha512", V2_BYTES)},
    {"digestMultibase": mb_u("sha256", V2_BYTES)},
    {"digestMultibase": mb_u("sha384", V2_BYTES)},
    {"digestMultibase": mb_z("sha256", V2_BYTES)},
    {"digestSRI": sri("sha384", V2_BYTES), "digestMultibase": mb_u("sha256", V2_BYTES)},
    # SRI: the strongest algorithm decides; an alternative value of it may match
    {"digestSRI": f"{sri('sha256', b'other')} {sri('sha384', b'other')} {sri('sha384', V2_BYTES)}"},
    {"digestSRI": f"{sri('sha384', V2_BYTES)}?ct=application/ld+json"},
])
def test_matching_digests_of_a_bundled_context_pass(digests: dict[str, str]) -> None:
    outcome = check_related_resources({"id": VC_V2, **digests}, held)
    assert outcome.status == "passed", outcome


@pytest.mark.parametrize("digests", [
    {"digestSRI": sri("sha384", V2_BYTES + b" ")},
    {"digestSRI": sri("sha256", V2_BYTES)[:-4] + "AAA="},
    {"digestMultibase": mb_u("sha256", V2_BYTES[:-1])},
    {"digestMultibase": mb_z("sha384", b"")},
    # one good digest does not excuse a wrong one beside it
    {"digestSRI": sri("sha384", V2_BYTES), "digestMultibase": mb_u("sha256", b"not it")},
    # the strongest SRI algorithm is wrong: a weaker one that matches does not count
    {"digestSRI": f"{sri('sha256', V2_BYTES)} {sri('sha512', b'not it')}"},
    # a multihash that claims sha2-256 but holds a truncated digest
    {"digestMultibase": "u" + base64url.encode(bytes([0x12, 0x20]) + hashlib.sha256(V2_BYTES).digest()[:16])},
    {"digestMultibase": "u!!!"},
    # the VC DM 2.0 suite's "wrong digest" cases: a bare sha-256 value with no multihash header,
    # and an SRI sha384 value written in base64url (no bytes can ever match either)
    {"digestMultibase": "uM4RgWQc3RUDtjJCSgTJtTfvpZ7SPEg_LNO0ESlovQC0"},
    {"digestMultibase": "u" + base64url.encode(hashlib.sha256(V2_BYTES).digest())},
    {"digestSRI": "sha384-_rCVIV7fSXXTNIvpiq26jRDyj8JG8TDjij-tD0ewLk4JpnXEz6a5AeeY_1qQ0d0P"},
    # a multihash whose length says more bytes than it holds
    {"digestMultibase": "u" + base64url.encode(bytes([0x12, 0x40]) + hashlib.sha256(V2_BYTES).digest())},
])
def test_wrong_digests_of_a_bundled_context_fail(digests: dict[str, str]) -> None:
    outcome = check_related_resources({"id": VC_V2, **digests}, held)
    assert outcome.status == "failed", outcome
    assert outcome.code in ("related_resource_digest_mismatch",)


@pytest.mark.parametrize(("value", "code"), [
    ({"id": "https://example.org/logo.png", "digestSRI": sri("sha384", b"png")}, "related_resource_unavailable"),
    ({"id": EXAMPLES_V2, "digestMultibase": mb_u("sha256", b"whatever")}, "related_resource_unavailable"),
    ({"id": VC_V2, "digestSRI": "sha1-" + base64.b64encode(hashlib.sha1(V2_BYTES).digest()).decode()},
     "related_resource_digest_unsupported"),
    ({"id": VC_V2, "digestMultibase": "m" + base64.b64encode(multihash("sha256", V2_BYTES)).decode()},
     "related_resource_digest_unsupported"),
    ({"id": VC_V2, "digestMultibase": "u" + base64url.encode(bytes([0x16, 32]) + bytes(32))},  # sha3-256
     "related_resource_digest_unsupported"),
    # a matching bundled resource does not make an unknown one beside it checked
    ([{"id": VC_V2, "digestSRI": sri("sha384", V2_BYTES)},
      {"id": "https://example.org/logo.png", "digestSRI": sri("sha384", b"png")}], "related_resource_unavailable"),
])
def test_digests_that_cannot_be_checked_are_indeterminate_never_passed(value: Any, code: str) -> None:
    outcome = check_related_resources(value, held)
    assert (outcome.status, outcome.code) == ("indeterminate", code), outcome


def test_a_mismatch_is_a_failure_even_beside_an_unavailable_resource() -> None:
    outcome = check_related_resources([{"id": "https://example.org/logo.png", "digestSRI": sri("sha384", b"x")},
                                       {"id": VC_V2, "digestSRI": sri("sha384", b"not it")}], held)
    assert (outcome.status, outcome.code) == ("failed", "related_resource_digest_mismatch")


def test_the_loader_gives_the_exact_pinned_bytes_of_bundled_contexts_only() -> None:
    loader = default_loader()
    assert loader.pinned_bytes(VC_V2) == V2_BYTES
    assert loader.pinned_bytes("https://example.org/not-bundled") is None


# ============================================================================================
# The one Verifier (library): institutes, a wallet holder, real OB credentials


@dataclass
class World:
    a: Issuer
    folder: Path
    key: KeyPair
    holder: KeyPair
    holder_did: str
    trust: TrustList

    def status_lists(self) -> list[dict[str, Any]]:
        return [doc for _, doc in self.a.status_list_credentials()]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("conf") / "a"
    init_issuer(folder, name="ROC Techniek", url="https://roc-techniek.example")
    a = Issuer.open(folder)
    holder = KeyPair.generate("ed25519")
    trust = TrustList()
    trust.add(a.profile.did, name="ROC Techniek")
    yield World(a, folder, read_key_file(folder / "issuer-key.pem"), holder, key_did(holder.public_key), trust)
    a.close()


def ob_credential(w: World, subject: str) -> dict[str, Any]:
    record, new = w.a.issue(load_achievement(REPO / "examples" / "achievements" / "cnc-programmeren.yaml"), subject,
                            level="3")
    assert new
    return dict(record.document)


def resigned(w: World, vc: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``vc`` with ``changes`` made and signed again by its institute (so only they are judged)."""
    doc = {k: v for k, v in vc.items() if k != "proof"}
    doc.update(changes)
    return add_proof(doc, w.key, verification_method=vc["proof"]["verificationMethod"],
                     cryptosuite=vc["proof"]["cryptosuite"])


def vp(w: World, vcs: list[dict[str, Any]] | None, *, key: KeyPair | None = None, sign: bool = True,
       **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": [VC_V2], "type": ["VerifiablePresentation"]}
    if vcs is not None:
        doc["verifiableCredential"] = vcs
    doc.update(extra)
    if not sign:
        return doc
    k = key or w.holder
    return add_proof(doc, k, verification_method=key_did_url(k.public_key), proof_purpose="authentication",
                     challenge=CHALLENGE, domain=DOMAIN)


def verifier(w: World, **policy: Any) -> Verifier:
    return Verifier(VerificationPolicy(trust=w.trust, **policy), status_lists=w.status_lists())


def test_related_resource_in_a_credential_is_checked_in_the_shape_step(world: World) -> None:
    vc = ob_credential(world, world.holder_did)
    v = verifier(world)
    good = resigned(world, vc, relatedResource=[{"id": VC_V2, "digestSRI": sri("sha384", V2_BYTES)}])
    report = v.check(good)
    assert report.verified, report.failures()
    assert the(report, "credential.related_resource").status == "passed"
    assert the(report, "credential.related_resource").step == 1
    # without relatedResource there is no such check at all
    assert not [c for c in v.check(vc).checks if c.family == "related_resource"]
    cases = {
        "related_resource_digest_mismatch": [{"id": VC_V2, "digestSRI": sri("sha384", b"other bytes")}],
        "related_resource_malformed": [{"id": VC_V2, "digestSRI": sri("sha384", V2_BYTES)},
                                       {"id": VC_V2, "digestMultibase": mb_u("sha256", V2_BYTES)}],
        "related_resource_unavailable": [{"id": "https://roc-techniek.example/logo.png",
                                          "digestMultibase": mb_u("sha256", b"png")}],
    }
    for code, value in cases.items():
        report = v.check(resigned(world, vc, relatedResource=value))
        check = the(report, "credential.related_resource")
        assert check.code == code and not report.verified, (code, check)
        assert check.status == ("indeterminate" if code == "related_resource_unavailable" else "failed")
        assert check.to_dict()["problem_type"].startswith("https://www.w3.org/TR/vc-data-model")
        assert not [c for c in report.checks if c.id == "credential.proof" and not c.ok]  # the proof is fine
    # inside a presentation the check is the credential's, by index
    inside = v.check(vp(world, [resigned(world, vc, relatedResource=cases["related_resource_malformed"])]),
                     challenge=CHALLENGE, domain=DOMAIN)
    assert the(inside, "credential[0].related_resource").code == "related_resource_malformed"


def test_ids_and_holder_of_a_presentation_must_be_urls(world: World) -> None:
    vc = ob_credential(world, world.holder_did)
    v = verifier(world)
    signed = vp(world, [vc])
    for extra in ({"id": "not a url"}, {"id": 5}, {"holder": "Jan"}, {"holder": {"name": "Jan"}},
                  {"holder": {"id": None}}):
        # (the signer refuses to sign these: changed after signing, the shape check names them)
        report = v.check({**signed, **extra}, challenge=CHALLENGE, domain=DOMAIN)
        assert the(report, "presentation.shape").status == "failed", extra
        assert "URL" in the(report, "presentation.shape").reason
    ok = v.check(vp(world, [vc], id="urn:uuid:7c3e", holder={"id": world.holder_did}),
                 challenge=CHALLENGE, domain=DOMAIN)
    assert ok.verified, ok.failures()


@pytest.mark.parametrize("vcs", [None, []], ids=["absent", "empty list"])
def test_a_presentation_without_credentials_is_well_formed_but_refused_for_gap_analysis(
        world: World, vcs: list[dict[str, Any]] | None) -> None:
    doc = vp(world, vcs)
    report = verifier(world).check(doc, challenge=CHALLENGE, domain=DOMAIN)
    assert the(report, "presentation.shape").status == "passed"
    assert the(report, "presentation.proof").status == "passed"
    assert failing(report) == {"presentation.credentials"}
    assert the(report, "presentation.credentials").code == "no_credentials"
    allowed = verifier(world, require_credentials=False).assess(doc, challenge=CHALLENGE, domain=DOMAIN)
    assert allowed.report.verified, allowed.report.failures()
    check = the(allowed.report, "presentation.credentials")
    assert (check.status, check.code) == ("not_applicable", "no_credentials_allowed")
    assert allowed.accepted == () and allowed.holder == world.holder_did
    # allowing an empty presentation weakens nothing else: a bad proof still fails it
    forged = copy.deepcopy(doc)
    forged["proof"]["challenge"] = "other"
    assert not verifier(world, require_credentials=False).check(forged, challenge=CHALLENGE, domain=DOMAIN).verified


def test_a_status_list_alone_is_still_no_credential(world: World) -> None:
    doc = vp(world, world.status_lists()[:1])
    report = verifier(world).check(doc, challenge=CHALLENGE, domain=DOMAIN)
    assert the(report, "presentation.credentials").code == "no_credentials"


def test_holder_binding_is_required_by_default_and_can_be_switched_off_unsafely(world: World) -> None:
    about_other = ob_credential(world, OTHER)
    mine = ob_credential(world, world.holder_did)
    doc = vp(world, [about_other, mine])
    strict = verifier(world).assess(doc, challenge=CHALLENGE, domain=DOMAIN)
    assert the(strict.report, "credential[0].holder_binding").code == "subject_not_holder"
    assert the(strict.report, "credential[1].holder_binding").status == "passed"
    assert [c.index for c in strict.accepted] == [1]
    with pytest.warns(SkillcredSecurityWarning, match="holder binding"):
        policy = VerificationPolicy(trust=world.trust, require_holder_binding=False)
    loose = Verifier(policy, status_lists=world.status_lists()).assess(doc, challenge=CHALLENGE, domain=DOMAIN)
    assert loose.report.verified, loose.report.failures()
    for i in (0, 1):
        check = the(loose.report, f"credential[{i}].holder_binding")
        assert (check.status, check.code) == ("not_applicable", "unsafe_no_holder_binding")
        assert check.reason.startswith("UNSAFE")
    assert any("holder binding is off" in w for w in loose.report.warnings)
    # what a credential says about someone else is still never counted as the presenter's
    other = next(c for c in loose.accepted if c.index == 0)
    assert other.claims == () and other.not_counted
    assert all("not the presenter" in why for _, why in other.not_counted)
    assert next(c for c in loose.accepted if c.index == 1).claims
    # switching it off weakens nothing else: a tampered credential, a wrong challenge still fail
    tampered = copy.deepcopy(doc)
    tampered["verifiableCredential"][1]["credentialSubject"]["id"] = OTHER
    assert not Verifier(policy, status_lists=world.status_lists()).check(
        tampered, challenge=CHALLENGE, domain=DOMAIN).verified
    assert not Verifier(policy, status_lists=world.status_lists()).check(
        doc, challenge="another", domain=DOMAIN).verified


@pytest.mark.parametrize("name", ["require_credentials", "require_holder_binding", "allow_unsigned_presentations"])
@pytest.mark.parametrize("value", [None, 0, "no"])
def test_policy_switches_must_be_booleans(name: str, value: Any) -> None:
    with pytest.raises(InvalidArgument, match=name):
        VerificationPolicy(**{name: value})


def test_unsigned_presentations_are_refused_unless_the_policy_allows_them(world: World) -> None:
    mine = ob_credential(world, world.holder_did)
    unsigned = vp(world, [mine], sign=False)
    default = verifier(world).assess(unsigned)
    assert the(default.report, "presentation.proof").code == "proof_missing" and default.accepted == ()
    allowing = verifier(world, allow_unsigned_presentations=True)
    result = allowing.assess(unsigned)
    assert result.report.verified, result.report.failures()
    proof = the(result.report, "presentation.proof")
    assert (proof.status, proof.code) == ("not_applicable", "unsigned_presentation")
    binding = the(result.report, "credential[0].holder_binding")
    assert (binding.status, binding.code) == ("not_applicable", "unsigned_presentation")
    assert the(result.report, "credential[0].proof").status == "passed"
    assert any("unsigned" in w for w in result.report.warnings)
    # nobody is authenticated as its presenter: nothing in it is accepted as the presenter's
    assert result.accepted == () and result.holder is None
    assert [r[0] for r in result.rejected] == [0] and "unsigned" in result.rejected[0][2]
    # an expected challenge or domain cannot be met without a proof
    for kw in ({"challenge": CHALLENGE}, {"domain": DOMAIN}, {"challenge": CHALLENGE, "domain": DOMAIN}):
        r = allowing.check(unsigned, **kw)
        assert the(r, "presentation.proof").code == "proof_missing" and not r.verified, kw
    # a proof that is present but not a proof is not "unsigned"
    assert not allowing.check({**unsigned, "proof": None}).verified
    assert not allowing.check({**unsigned, "proof": "x"}).verified
    # a bad credential inside still fails it
    bad = copy.deepcopy(unsigned)
    bad["verifiableCredential"][0]["credentialSubject"]["id"] = OTHER
    assert "credential[0].proof" in failing(allowing.check(bad))


# ============================================================================================
# The HTTP service


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> IssuerSetup:
    return make_issuer(tmp_path_factory.mktemp("conf-service"))


@pytest.fixture(scope="module")
def server(setup: IssuerSetup) -> Iterator[Server]:
    srv = start_server(setup)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def generic(setup: IssuerSetup) -> Iterator[Server]:
    """A generic VC-API deployment (what the W3C suites need)."""
    srv = start_server(setup, "--unsafe-no-holder-binding", "--allow-empty-presentations")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def holder() -> KeyPair:
    return KeyPair.generate("ed25519")


def post_issue(server: Server, setup: IssuerSetup, cred: Any, **options: Any) -> Any:
    body: dict[str, Any] = {"credential": cred}
    if options:
        body["options"] = options
    return server.client().post("/credentials/issue", body, headers=setup.auth)


def issued(server: Server, setup: IssuerSetup, cred: dict[str, Any], **options: Any) -> dict[str, Any]:
    reply = post_issue(server, setup, cred, **options)
    assert reply.status == 201, reply.raw
    return dict(reply.json["verifiableCredential"])


def rows(setup: IssuerSetup) -> int:
    with Registry.open(setup.folder / "registry.sqlite") as reg:
        return reg.count()


V11 = {"@context": [VC_V1], "type": ["VerifiableCredential"], "issuanceDate": "2025-01-01T00:00:00Z",
       "credentialSubject": {"id": SUBJECT}}


@pytest.mark.loopback
@pytest.mark.parametrize(("cred", "needle"), [
    (credential(), "no issuer"),
    (credential(issuer=None), "null"),
    ({k: v for k, v in V11.items()}, "no issuer"),
    ({**V11, "issuer": None}, "null"),
    (credential(issuer={}), "no id"),
    (credential(issuer={"id": None}), "no id"),
    (credential(issuer={"name": "ROC Techniek"}), "no id"),
    ({**V11, "issuer": {"name": "ROC Techniek"}}, "no id"),
], ids=["2.0 missing", "2.0 null", "1.1 missing", "1.1 null", "{}", "{id: null}", "object without id",
        "1.1 object without id"])
def test_issue_refuses_a_credential_without_an_issuer(server: Server, setup: IssuerSetup, cred: dict[str, Any],
                                                      needle: str) -> None:
    before = rows(setup)
    reply = post_issue(server, setup, cred, credentialStatus=REVOCATION)
    assert reply.status == 400, reply.raw
    assert reply.content_type == "application/problem+json"
    assert needle in reply.json["detail"] and setup.did in reply.json["detail"]
    assert rows(setup) == before  # nothing half-written: no registry row, no status index


@pytest.mark.loopback
def test_issue_keeps_an_issuer_that_names_the_service(server: Server, setup: IssuerSetup) -> None:
    for cred in (credential(issuer=setup.did), credential(issuer={"id": setup.did, "name": "ROC"}),
                 {**V11, "issuer": setup.did}):
        vc = issued(server, setup, cred)
        assert vc["issuer"] == cred["issuer"]


@pytest.mark.loopback
@pytest.mark.parametrize(("related", "needle"), [
    ("https://example.org/a", "object"),
    ([{"digestSRI": sri("sha384", b"x")}], "id"),
    ([{"id": "https://example.org/a"}], "neither"),
    ([{"id": "https://example.org/a", "digestSRI": sri("sha384", b"x")},
      {"id": "https://example.org/a", "digestSRI": sri("sha384", b"y")}], "twice"),
    ([{"id": VC_V2, "digestSRI": sri("sha384", b"not the context")}], "does not match"),
    ([{"id": VC_V2, "digestMultibase": mb_u("sha256", b"not the context")}], "does not match"),
])
def test_issue_refuses_malformed_or_wrong_related_resources(server: Server, setup: IssuerSetup, related: Any,
                                                            needle: str) -> None:
    before = rows(setup)
    reply = post_issue(server, setup, credential(issuer=setup.did, relatedResource=related))
    assert reply.status == 400, reply.raw
    assert needle in reply.json["detail"]
    assert rows(setup) == before


@pytest.mark.loopback
def test_related_resources_through_the_service(server: Server, setup: IssuerSetup) -> None:
    good = issued(server, setup, credential(issuer=setup.did, relatedResource=[
        {"id": VC_V2, "digestSRI": sri("sha384", V2_BYTES)}]))
    reply = server.client().post("/credentials/verify", {"verifiableCredential": good})
    assert reply.status == 200, reply.raw
    assert "credential.related_resource" in reply.json["checks"]
    # a resource the service does not hold is issued (the issuer vouches for it), but the
    # verifier cannot check its digest offline: indeterminate, so not verified
    elsewhere = issued(server, setup, credential(issuer=setup.did, relatedResource=[
        {"id": "https://roc.example/logo.png", "digestSRI": sri("sha384", b"png")}]))
    reply = server.client().post("/credentials/verify", {"verifiableCredential": elsewhere})
    assert reply.status == 400
    err = next(e for e in reply.json["errors"] if e["check"] == "credential.related_resource")
    assert (err["checkStatus"], err["code"]) == ("indeterminate", "related_resource_unavailable")


def http_vp(vcs: list[dict[str, Any]] | None, key: KeyPair | None) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": [VC_V2], "type": ["VerifiablePresentation"]}
    if vcs is not None:
        doc["verifiableCredential"] = vcs
    if key is None:
        return doc
    return add_proof(doc, key, verification_method=key_did_url(key.public_key), proof_purpose="authentication",
                     challenge=CHALLENGE, domain=DOMAIN)


def verify_vp(server: Server, doc: dict[str, Any], options: dict[str, Any] | None = None) -> Any:
    body: dict[str, Any] = {"verifiablePresentation": doc}
    if options is not None:
        body["options"] = options
    return server.client().post("/presentations/verify", body)


@pytest.mark.loopback
def test_service_empty_presentations_follow_its_policy(server: Server, generic: Server, holder: KeyPair) -> None:
    for vcs in (None, []):
        signed, unsigned = http_vp(vcs, holder), http_vp(vcs, None)
        for doc, options in ((signed, OPTIONS), (unsigned, None)):
            refused = verify_vp(server, doc, options)
            assert refused.status == 400, refused.raw
            assert [e["code"] for e in refused.json["errors"]] == ["no_credentials"]
            accepted = verify_vp(generic, doc, options)
            assert accepted.status == 200, accepted.raw
            assert accepted.json["errors"] == []


@pytest.mark.loopback
def test_service_holder_binding_follows_its_policy(server: Server, generic: Server, setup: IssuerSetup,
                                                   holder: KeyPair) -> None:
    about_other = issued(server, setup, credential(issuer=setup.did, credentialSubject={"id": OTHER}))
    doc = http_vp([about_other], holder)
    strict = verify_vp(server, doc, OPTIONS)
    assert strict.status == 400
    assert [(e["check"], e["code"]) for e in strict.json["errors"]] == [
        ("credential[0].holder_binding", "subject_not_holder")]
    loose = verify_vp(generic, doc, OPTIONS)
    assert loose.status == 200, loose.raw
    assert "credential[0].holder_binding" not in loose.json["checks"]  # not applicable, not passed
    assert any("holder binding is off" in w["title"] for w in loose.json["warnings"])
    # the rest of the checks still hold on the generic deployment
    tampered = copy.deepcopy(doc)
    tampered["verifiableCredential"][0]["credentialSubject"]["id"] = "did:example:mallory"
    assert verify_vp(generic, tampered, OPTIONS).status == 400
    assert verify_vp(generic, doc, {"challenge": "other", "domain": DOMAIN}).status == 400
    assert verify_vp(generic, doc, None).status == 400  # no challenge: a replay cannot be told apart
    assert "warning: --unsafe-no-holder-binding" in generic.log()
    assert "--unsafe-no-holder-binding" not in server.log()


# ============================================================================================
# One file, one verdict: CLI, library and HTTP


@pytest.fixture(scope="module")
def presentations(tmp_path_factory: pytest.TempPathFactory, server: Server, setup: IssuerSetup,
                  holder: KeyPair) -> dict[str, dict[str, Any]]:
    me = key_did(holder.public_key)
    good = issued(server, setup, credential(issuer=setup.did, credentialSubject={"id": me}),
                  credentialStatus=REVOCATION)
    revoked = issued(server, setup, credential(issuer=setup.did, credentialSubject={"id": me}),
                     credentialStatus=REVOCATION)
    reply = server.client().post("/credentials/status", {"credentialId": revoked["id"], "credentialStatus": [
        {"type": "BitstringStatusListEntry", "status": True, "statusPurpose": "revocation"}]}, headers=setup.auth)
    assert reply.status == 200, reply.raw
    other = make_issuer(tmp_path_factory.mktemp("untrusted"), trusted=False, name="Diplomafabriek")
    other_key = read_key_file(other.folder / "issuer-key.pem")
    untrusted = add_proof(credential(issuer=other.did, credentialSubject={"id": me}), other_key,
                          verification_method=key_did_url(other_key.public_key))
    tampered = copy.deepcopy(good)
    tampered["credentialSubject"]["id"] = OTHER
    return {
        "good": http_vp([good], holder),
        "tampered": http_vp([tampered], holder),
        "revoked": http_vp([revoked], holder),
        "untrusted": http_vp([untrusted], holder),
        "unsigned": http_vp([good], None),
    }


EXPECTED_FAILING = {  # what each presentation must be caught by (docs/verifying.md), at least
    "good": set(),
    "tampered": {"credential[0].proof"},
    "revoked": {"credential[0].status"},
    "untrusted": {"credential[0].trust"},
}


@pytest.mark.loopback
def test_the_same_file_gets_the_same_verdict_through_every_door(
        tmp_path: Path, server: Server, setup: IssuerSetup, presentations: dict[str, dict[str, Any]]) -> None:
    client = server.client()
    list_files = []
    for vc in (presentations["revoked"]["verifiableCredential"][0], presentations["good"]["verifiableCredential"][0]):
        name = vc["credentialStatus"]["statusListCredential"].rsplit("/", 1)[-1]
        reply = client.get(f"/status/{name}")
        assert reply.status == 200
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(reply.json))
        list_files.append(path)
    status_docs = [json.loads(p.read_text()) for p in dict.fromkeys(list_files)]
    trust = TrustList.load(setup.trust_file)
    cli_policy = Verifier(VerificationPolicy(trust=trust), status_lists=status_docs)
    service_policy = Verifier(VerificationPolicy(trust=trust, allow_unsigned_presentations=True),
                              status_lists=status_docs)
    for name, doc in presentations.items():
        signed = "proof" in doc
        options = OPTIONS if signed else {}
        file = tmp_path / f"{name}.json"
        file.write_text(json.dumps(doc))
        args = ["verify", str(file), "--json", "--trust", str(setup.trust_file)]
        for p in dict.fromkeys(list_files):
            args += ["--status-list", str(p)]
        if signed:
            args += ["--challenge", CHALLENGE, "--domain", DOMAIN]
        proc = run_cli(*args)
        assert "Traceback" not in proc.stderr, proc.stderr
        cli = json.loads(proc.stdout)
        cli_failing = {c["id"] for c in cli["checks"] if c["status"] in ("failed", "indeterminate")}
        assert proc.returncode == (0 if cli["verified"] else 1), (name, proc.returncode)
        lib = cli_policy.assess(doc, **options).report
        http = verify_vp(server, doc, options or None)
        http_failing = {e["check"] for e in http.json["errors"]}
        assert http.status == (200 if http.json["verified"] else 400)
        lib_service = service_policy.assess(doc, **options).report
        # the CLI and the library under the CLI's policy agree on everything
        assert (cli["verified"], cli_failing) == (lib.verified, failing(lib)), name
        assert [c["id"] for c in cli["checks"]] == [c.id for c in lib.checks], name
        # HTTP and the library under the service's policy agree on everything
        assert (http.json["verified"], http_failing) == (lib_service.verified, failing(lib_service)), name
        assert set(http.json["checks"]) == {c.id for c in lib_service.checks if c.status == "passed"}, name
        if signed:  # the two policies differ only for unsigned presentations: all doors agree
            assert (cli["verified"], cli_failing) == (http.json["verified"], http_failing), name
            assert failing(lib) >= EXPECTED_FAILING[name] and lib.verified == (name == "good"), (name, failing(lib))
    # unsigned: the service's policy verifies it as a presentation plus its credentials; the
    # CLI's refuses it for want of a proof, and for nothing else about the presentation
    unsigned = presentations["unsigned"]
    assert service_policy.check(unsigned).verified
    assert verify_vp(server, unsigned).status == 200
    assert {c.id: c.code for c in cli_policy.check(unsigned).checks if not c.ok} == {
        "presentation.proof": "proof_missing", "credential[0].holder_binding": "holder_unknown"}
