"""What the W3C conformance suites check of a VC-API implementation, run against ``skillcred serve``.

The suites themselves (w3c/vc-data-model-2.0-test-suite, w3c/vc-di-eddsa-test-suite,
w3c/vc-di-ecdsa-test-suite, w3c/vc-bitstring-status-list-test-suite and the shared
w3c-ccg/data-integrity-test-suite-assertion) are mocha projects that live in GitHub
repositories and are not published on npm (``npm view`` answers 404 for each, and for
``vc-test-suite-implementations``, the registry of implementations they run against). This
machine reaches only the PyPI, Debian and npm registries, so they cannot be run here. This
module is NOT those suites: it re-implements, in pytest, the behaviours they assert for the
endpoints a VC-API issuer/verifier exposes, against a real server process on loopback, for each
of the four cryptosuites skillcred issues with. Each test names the suite and the assertion it
stands in for. Not covered: anything about other implementations (interop matrices), selective
disclosure, VC-JOSE-COSE, enveloped credentials, and the suites' report generation.
"""

from __future__ import annotations

import base64
import copy
import gzip
import re
from collections.abc import Iterator
from typing import Any

import pytest
from multiformats import multibase

from service_support import (
    SUBJECT,
    VC_V1,
    VC_V2,
    IssuerSetup,
    Server,
    credential,
    issued_by,
    make_issuer,
    start_server,
)
from skillcred.did import DidResolver, key_did, key_did_url
from skillcred.keys import KeyPair, read_key_file
from skillcred.proofs import add_proof, check_proofs

pytestmark = pytest.mark.loopback

SUITES = [("ed25519", "eddsa-rdfc-2022"), ("ed25519", "eddsa-jcs-2022"),
          ("p256", "ecdsa-rdfc-2019"), ("p384", "ecdsa-jcs-2019")]
SIGNATURE_BYTES = {"ed25519": 64, "p256": 64, "p384": 96}
MULTIKEY_PREFIX = {"ed25519": "z6Mk", "p256": "zDn", "p384": "z82"}
DATE_TIME_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
PROBLEM = "application/problem+json"
REVOCATION = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}
SUSPENSION = {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}


class Impl:
    """One implementation under test: a server issuing with one key type and cryptosuite."""

    def __init__(self, key_type: str, suite: str, setup: IssuerSetup, server: Server) -> None:
        self.key_type, self.suite, self.setup, self.server = key_type, suite, setup, server
        self.client = server.client()
        self.key = read_key_file(setup.folder / "issuer-key.pem")

    def issue(self, cred: dict[str, Any], **options: Any) -> Any:
        body: dict[str, Any] = {"credential": issued_by(self.setup.did, cred)}  # as the suites do
        if options:
            body["options"] = options
        return self.client.post("/credentials/issue", body, headers=self.setup.auth)

    def issued(self, cred: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
        reply = self.issue(cred or credential(id=f"urn:uuid:{__import__('uuid').uuid4()}"), **options)
        assert reply.status == 201, reply.raw
        return dict(reply.json["verifiableCredential"])

    def verify(self, vc: Any, **options: Any) -> Any:
        body: dict[str, Any] = {"verifiableCredential": vc}
        if options:
            body["options"] = options
        return self.client.post("/credentials/verify", body)


@pytest.fixture(scope="module", params=SUITES, ids=[s for _, s in SUITES])
def impl(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Impl]:
    key_type, suite = request.param
    setup = make_issuer(tmp_path_factory.mktemp(suite), key_type=key_type, suite=suite)
    server = start_server(setup)
    yield Impl(key_type, suite, setup, server)
    server.stop()


@pytest.fixture(scope="module")
def issued_vc(impl: Impl) -> dict[str, Any]:
    return impl.issued(credential(id="urn:uuid:4f0c1b8e-1d2a-4c3b-9e8f-7a6b5c4d3e2f", name="Lassen niveau 3",
                                  validFrom="2025-01-01T00:00:00Z"))


def assert_rejected(reply: Any) -> None:
    """VC-API: a rejection is a 4xx with errors (the suites only accept a status >= 400)."""
    assert 400 <= reply.status < 500, reply.raw[:400]
    assert reply.content_type == PROBLEM
    body = reply.json
    assert body["verified"] is False and body["errors"], body
    assert all(isinstance(e["type"], str) and e["title"] for e in body["errors"])


# ============================================================================================
# Issuer: VC-API issue + VC DM 2.0 + vc-di-eddsa / vc-di-ecdsa "create" assertions


def test_issue_returns_201_and_a_verifiable_credential(impl: Impl, issued_vc: dict[str, Any]) -> None:
    """vc-api issuer suite: POST /credentials/issue answers 201 {verifiableCredential}; VC DM 2.0
    §4.3/§4.5/§4.7: @context starts with the v2 context, type has VerifiableCredential, issuer is
    a URL (the issuer's DID)."""
    assert issued_vc["@context"][0] == VC_V2
    assert "VerifiableCredential" in issued_vc["type"]
    assert issued_vc["issuer"] == impl.setup.did
    assert issued_vc["credentialSubject"] == {"id": SUBJECT}
    assert issued_vc["id"] == "urn:uuid:4f0c1b8e-1d2a-4c3b-9e8f-7a6b5c4d3e2f"


def test_proof_is_a_data_integrity_proof_of_the_suite(impl: Impl, issued_vc: dict[str, Any]) -> None:
    """vc-di-eddsa/ecdsa data model: proof type MUST be DataIntegrityProof; cryptosuite MUST be the
    suite's; proofValue MUST be base58-btc multibase of a signature of the right length; created is a
    dateTimeStamp; proofPurpose assertionMethod."""
    proof = issued_vc["proof"]
    assert isinstance(proof, dict)
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == impl.suite
    assert proof["proofPurpose"] == "assertionMethod"
    assert DATE_TIME_STAMP.match(proof["created"])
    assert proof["proofValue"].startswith("z")
    assert len(multibase.decode(proof["proofValue"])) == SIGNATURE_BYTES[impl.key_type]
    if impl.suite.endswith("jcs-2019") or impl.suite.endswith("jcs-2022"):
        assert proof["@context"] == issued_vc["@context"]  # JCS proofs carry the document's context


def test_verification_method_is_a_multikey_of_the_issuer(impl: Impl, issued_vc: dict[str, Any]) -> None:
    """vc-di-eddsa/ecdsa: the verification method's publicKeyMultibase MUST start with the base58-btc
    prefix z (Multikey, any other encoding MUST NOT be allowed); it is controlled by the issuer."""
    method = DidResolver().resolve_method(issued_vc["proof"]["verificationMethod"])
    assert method.method["type"] == "Multikey"
    assert method.method["publicKeyMultibase"].startswith(MULTIKEY_PREFIX[impl.key_type])
    assert method.controller == impl.setup.did
    assert method.authorized_for("assertionMethod")


def test_issued_credential_verifies_independently(issued_vc: dict[str, Any]) -> None:
    """vc-di-* interop: another verifier accepts the issued proof (here the library, offline)."""
    assert check_proofs(issued_vc, expected_purpose="assertionMethod").verified


@pytest.mark.parametrize(("name", "cred"), [
    ("no @context", {"type": ["VerifiableCredential"], "credentialSubject": {"id": SUBJECT}}),
    ("v2 context not first", {"@context": ["https://www.w3.org/ns/credentials/examples/v2", VC_V2],
                              "type": ["VerifiableCredential"], "credentialSubject": {"id": SUBJECT}}),
    ("no type", {"@context": [VC_V2], "credentialSubject": {"id": SUBJECT}}),
    ("type without VerifiableCredential", {"@context": [VC_V2], "type": ["ExampleCredential"],
                                           "credentialSubject": {"id": SUBJECT}}),
    ("type not mapped by a context", credential(type=["VerifiableCredential", "UndefinedCredential"])),
    ("no credentialSubject", {"@context": [VC_V2], "type": ["VerifiableCredential"]}),
    ("credentialSubject a string", credential(credentialSubject=SUBJECT)),
    ("id not a URL", credential(id="12345")),
    ("two ids", credential(id=["urn:uuid:1", "urn:uuid:2"])),
    ("issuer not a URL", credential(issuer="not a url")),
    ("validFrom not a dateTimeStamp", credential(validFrom="2025-01-01")),
    ("validUntil without time zone", credential(validUntil="2030-01-01T00:00:00")),
    ("credentialStatus without type", credential(credentialStatus={"id": "https://example.org/status/1"})),
    ("credentialSchema without id", credential(credentialSchema={"type": "JsonSchema"})),
    ("evidence without type", credential(evidence=[{"id": "https://example.org/evidence/1"}])),
    ("undefined term", credential(credentialSubject={"id": SUBJECT, "undefinedClaim": 1})),
])
def test_issuer_rejects_what_the_data_model_forbids(impl: Impl, name: str, cred: dict[str, Any]) -> None:
    """VC DM 2.0 suite (§4.3 contexts, §4.4 identifiers, §4.5 types, §4.7 issuer, §4.8 subject,
    §4.9 validity, §4.10 status, §4.11 schemas, §5.6 evidence): the issuer MUST NOT issue these.
    The VC-API answer is a 4xx with a problem-details body."""
    reply = impl.issue(cred)
    assert 400 <= reply.status < 500, (name, reply.status, reply.raw[:300])
    assert reply.content_type == PROBLEM
    assert {"type", "title", "status"} <= set(reply.json)


def test_issuer_accepts_vc_1_1(impl: Impl) -> None:
    """vc-api issuer suite (VC 1.1 column) / DI assertion suite: a VC 1.1 credential is issued and
    the proof's terms are defined (the Data Integrity context is added)."""
    vc = impl.issued({"@context": [VC_V1], "type": ["VerifiableCredential"], "credentialSubject": {"id": SUBJECT},
                      "issuanceDate": "2025-01-01T00:00:00Z"})
    assert vc["@context"][0] == VC_V1 and "https://w3id.org/security/data-integrity/v2" in vc["@context"]
    assert impl.verify(vc).status == 200


# ============================================================================================
# Verifier: vc-api verifier + data-integrity-test-suite-assertion "verify" checks


def test_verifier_accepts_a_valid_credential(impl: Impl, issued_vc: dict[str, Any]) -> None:
    """vc-di-* verify: 'MUST verify a valid VC'; VC-API: 200 {verified: true, checks, warnings, errors}."""
    reply = impl.verify(issued_vc)
    assert reply.status == 200 and reply.content_type == "application/json"
    body = reply.json
    assert body["verified"] is True and body["errors"] == [] and isinstance(body["warnings"], list)
    assert "credential.proof" in body["checks"]


def _resigned(impl: Impl, vc: dict[str, Any], **kw: Any) -> dict[str, Any]:
    unsigned = {k: v for k, v in vc.items() if k != "proof"}
    return add_proof(unsigned, impl.key, verification_method=vc["proof"]["verificationMethod"],
                     cryptosuite=impl.suite, **kw)


MUTATIONS: dict[str, Any] = {
    "proof missing": lambda impl, vc: vc.pop("proof"),
    "proof null": lambda impl, vc: vc.update(proof=None),
    "proof.type missing": lambda impl, vc: vc["proof"].pop("type"),
    "proof.type not DataIntegrityProof": lambda impl, vc: vc["proof"].update(type="Ed25519Signature2020"),
    "proof.verificationMethod missing": lambda impl, vc: vc["proof"].pop("verificationMethod"),
    "proof.verificationMethod invalid": lambda impl, vc: vc["proof"].update(verificationMethod="did:example:1#k"),
    "proof.verificationMethod of another key": lambda impl, vc: vc["proof"].update(
        verificationMethod=key_did_url(KeyPair.generate(impl.key_type).public_key)),
    "proof.proofPurpose missing": lambda impl, vc: vc["proof"].pop("proofPurpose"),
    "proof.proofPurpose invalid": lambda impl, vc: vc["proof"].update(proofPurpose="notAPurpose"),
    "proof.proofPurpose authentication (validly signed)": lambda impl, vc: vc.update(
        proof=_resigned(impl, vc, proof_purpose="authentication")["proof"]),
    "proof.proofValue missing": lambda impl, vc: vc["proof"].pop("proofValue"),
    "proof.proofValue null": lambda impl, vc: vc["proof"].update(proofValue=None),
    "proof.proofValue not multibase": lambda impl, vc: vc["proof"].update(proofValue=vc["proof"]["proofValue"][1:]),
    "proof.proofValue not base58btc": lambda impl, vc: vc["proof"].update(proofValue="not-multibase-bs58!!"),
    "proof.proofValue too long": lambda impl, vc: vc["proof"].update(proofValue=multibase.encode(
        multibase.decode(vc["proof"]["proofValue"]) + bytes(32), "base58btc")),
    "proof.cryptosuite unknown": lambda impl, vc: vc["proof"].update(cryptosuite="unknown-suite-2099"),
    "proof.cryptosuite not a string": lambda impl, vc: vc["proof"].update(cryptosuite=7),
    "proof.cryptosuite swapped": lambda impl, vc: vc["proof"].update(
        cryptosuite=impl.suite.replace("rdfc", "XX").replace("jcs", "rdfc").replace("XX", "jcs")),
    "proof.created not a dateTimeStamp": lambda impl, vc: vc["proof"].update(created="yesterday"),
    "credentialSubject tampered": lambda impl, vc: vc["credentialSubject"].update(id="did:example:mallory"),
    "name tampered": lambda impl, vc: vc.update(name="Lassen niveau 4"),
    # (appending a context is not tampering: RDFC signs the same graph, and the JCS suites accept a
    # document @context that starts with the proof's, DI 1.0 / vc-di-eddsa verify steps)
    "@context reordered": lambda impl, vc: vc.update(**{"@context": [
        "https://www.w3.org/ns/credentials/examples/v2", VC_V2]}),
    "@context missing": lambda impl, vc: vc.pop("@context"),
    "validUntil in the past": lambda impl, vc: vc.update(validUntil="2020-01-01T00:00:00Z"),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_verifier_rejects(impl: Impl, issued_vc: dict[str, Any], mutation: str) -> None:
    """data-integrity-test-suite-assertion verify checks ('If the proof field is missing or invalid,
    an error MUST be raised', type/verificationMethod/proofPurpose/proofValue/cryptosuite/created
    missing or invalid, proofValue not multibase, wrong length), vc-di-eddsa/ecdsa verify
    (INVALID_PROOF_VALUE, UNKNOWN_CRYPTOSUITE_TYPE), VC DM 2.0 (tampered claims, validity period):
    each is a 4xx with errors, never a 200."""
    vc = copy.deepcopy(issued_vc)
    MUTATIONS[mutation](impl, vc)
    assert_rejected(impl.verify(vc))


@pytest.mark.parametrize("options", [{"expectedProofPurpose": "authentication"},
                                     {"domain": "domain.example"},
                                     {"domain": "domain.example", "challenge": "1235abcd6789"}])
def test_verifier_checks_the_expected_proof_options(impl: Impl, issued_vc: dict[str, Any],
                                                    options: dict[str, str]) -> None:
    """DI assertion suite: 'If the proof.proofPurpose value does not match
    options.expectedProofPurpose', 'If options.domain / options.challenge is set and it does not
    match proof.domain / proof.challenge, an error MUST be raised.'"""
    assert_rejected(impl.verify(issued_vc, **options))
    assert impl.verify(issued_vc, expectedProofPurpose="assertionMethod").status == 200


def test_problem_details_name_vc_dm_error_types(impl: Impl, issued_vc: dict[str, Any]) -> None:
    """VC DM 2.0 §7.1 / VC-API: errors are problem details whose type names the VC DM error class."""
    vc = copy.deepcopy(issued_vc)
    vc["credentialSubject"]["id"] = "did:example:mallory"
    body = impl.verify(vc).json
    assert body["type"] == "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR"
    assert body["status"] == 400 and body["title"] and body["detail"]


# ============================================================================================
# Presentations: VC DM 2.0 §4.13 and vc-api presentation verification


def _vp(vcs: list[dict[str, Any]], holder: KeyPair | None, *, holder_field: Any = "auto",
        challenge: str = "1235abcd6789", domain: str = "domain.example", **extra: Any) -> dict[str, Any]:
    vp: dict[str, Any] = {"@context": [VC_V2], "type": ["VerifiablePresentation"], "verifiableCredential": vcs}
    vp.update(extra)
    if holder_field == "auto":
        if holder is not None:
            vp["holder"] = key_did(holder.public_key)
    elif holder_field is not None:
        vp["holder"] = holder_field
    if holder is None:
        return vp
    return add_proof(vp, holder, verification_method=key_did_url(holder.public_key), proof_purpose="authentication",
                     challenge=challenge, domain=domain)


def test_presentations(impl: Impl) -> None:
    """VC DM 2.0 §4.13 (type VerifiablePresentation MUST be present; holder, if present, a URL or an
    object with an id; verifiableCredential values are credentials) and the VC-API presentation
    verifier (challenge and domain of an authentication proof MUST match)."""
    holder = KeyPair.generate(impl.key_type)
    vc = impl.issued(credential(credentialSubject={"id": key_did(holder.public_key)}))
    c = impl.client
    opts = {"challenge": "1235abcd6789", "domain": "domain.example"}

    def post(vp: dict[str, Any], options: dict[str, str] | None = opts) -> Any:
        body: dict[str, Any] = {"verifiablePresentation": vp}
        if options is not None:
            body["options"] = options
        return c.post("/presentations/verify", body)

    assert post(_vp([vc], holder)).status == 200
    assert post(_vp([vc], holder, holder_field={"id": key_did(holder.public_key)})).status == 200
    assert post(_vp([vc], holder, id="urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5")).status == 200
    assert post(_vp([vc], None), None).status == 200  # unsigned, no challenge asked
    assert_rejected(post(_vp([vc], holder, challenge="wrong")))
    assert_rejected(post(_vp([vc], holder, domain="wrong.example")))
    assert_rejected(post(_vp([vc], holder, holder_field={"name": "no id"})))
    assert_rejected(post(_vp([vc], holder, holder_field="did:example:someone-else")))
    no_type = _vp([vc], None)
    no_type.pop("type")
    reply = post(no_type, None)
    assert 400 <= reply.status < 500
    assert_rejected(post(_vp(["https://example.org/credentials/1"], None), None))  # not an object
    tampered = _vp([vc], holder)
    tampered["verifiableCredential"][0]["credentialSubject"]["id"] = "did:example:mallory"
    assert_rejected(post(tampered))


# ============================================================================================
# Bitstring Status List suite: issue with status, publish, read, revoke/suspend, verify


def _decode(encoded: str) -> bytes:
    assert encoded.startswith("u"), "encodedList MUST be multibase base64url ('u')"
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    return gzip.decompress(raw)


@pytest.mark.parametrize("purpose", ["revocation", "suspension"])
def test_status_list_entries_and_lists(impl: Impl, purpose: str) -> None:
    """vc-bitstring-status-list suite (10-issue, 10-data_model, 20-verify, 30-interop): the entry's
    type, statusPurpose, statusListIndex (a base-10 integer string) and statusListCredential (a URL);
    the list credential is a BitstringStatusListCredential whose subject's encodedList is multibase
    base64url of GZIP of at least 16 KB; it is signed by the issuer; setting the status (POST
    /credentials/status, then publish) sets the bit and makes verification fail."""
    vc = impl.issued(credential(id=f"urn:uuid:{__import__('uuid').uuid4()}"),
                     credentialStatus={"type": "BitstringStatusListEntry", "statusPurpose": purpose})
    entry = vc["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == purpose
    assert re.fullmatch(r"[0-9]+", entry["statusListIndex"])
    assert entry["statusListCredential"].startswith(impl.server.base_url + "/status/")
    assert entry["id"].startswith("http")
    assert impl.verify(vc).status == 200

    name = entry["statusListCredential"].rsplit("/", 1)[-1]
    reply = impl.client.get(f"/status/{name}")
    assert reply.status == 200
    slc = reply.json
    assert slc["id"] == entry["statusListCredential"]
    assert {"VerifiableCredential", "BitstringStatusListCredential"} <= set(slc["type"])
    assert slc["issuer"] == impl.setup.did
    assert slc["credentialSubject"]["type"] == "BitstringStatusList"
    assert slc["credentialSubject"]["statusPurpose"] == purpose
    bits = _decode(slc["credentialSubject"]["encodedList"])
    assert len(bits) * 8 >= 131_072
    index = int(entry["statusListIndex"])
    assert (bits[index // 8] >> (7 - index % 8)) & 1 == 0
    assert check_proofs(slc, expected_purpose="assertionMethod").verified
    assert slc["proof"]["cryptosuite"] == impl.suite

    # the suite's request body: credentialStatus as one object, status omitted (= set)
    update = impl.client.post("/credentials/status", {"credentialId": vc["id"], "credentialStatus": {
        "type": "BitstringStatusListEntry", "statusPurpose": purpose}}, headers=impl.setup.auth)
    assert update.status == 200, update.raw
    assert impl.client.post(f"/status/{name}/publish", {}, headers=impl.setup.auth).status == 204
    bits = _decode(impl.client.get(f"/status/{name}").json["credentialSubject"]["encodedList"])
    assert (bits[index // 8] >> (7 - index % 8)) & 1 == 1
    assert_rejected(impl.verify(vc))
    if purpose == "suspension":  # suspension can be lifted; revocation cannot
        lift = impl.client.post("/credentials/status", {"credentialId": vc["id"], "credentialStatus": [{
            "type": "BitstringStatusListEntry", "status": False, "statusPurpose": purpose}]}, headers=impl.setup.auth)
        assert lift.status == 200
        assert impl.verify(vc).status == 200
