"""``skillcred serve``: the VC-API endpoints of a real server process on a loopback port.

Issuing needs the bearer token; verification is open and never answers 200 for a rejection;
status lists are served signed with caching headers; oversized bodies are refused at once.
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import NetworkBlocked
from service_support import (
    SKILLCRED,
    SUBJECT,
    VC_V1,
    VC_V2,
    IssuerSetup,
    Server,
    credential,
    issued_by,
    make_issuer,
    running,
    start_server,
    stream_until_answer,
)
from skillcred.did import key_did, key_did_url
from skillcred.keys import KeyPair
from skillcred.proofs import add_proof, check_proofs
from skillcred.registry import Registry
from skillcred.status import read_status

pytestmark = pytest.mark.loopback

PROBLEM = "application/problem+json"
REVOCATION = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}
SUSPENSION = {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> IssuerSetup:
    return make_issuer(tmp_path_factory.mktemp("service"))


@pytest.fixture(scope="module")
def server(setup: IssuerSetup) -> Iterator[Server]:
    srv = start_server(setup)
    yield srv
    srv.stop()


def issue(server: Server, setup: IssuerSetup, cred: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"credential": issued_by(setup.did, cred or credential())}
    if options:
        body["options"] = options
    reply = server.client().post("/credentials/issue", body, headers=setup.auth)
    assert reply.status == 201, reply.raw
    assert reply.content_type == "application/json"
    return dict(reply.json["verifiableCredential"])


def verify(server: Server, vc: dict[str, Any]) -> Any:
    return server.client().post("/credentials/verify", {"verifiableCredential": vc})


def set_status(server: Server, setup: IssuerSetup, cid: str, purpose: str, value: bool) -> Any:
    return server.client().post("/credentials/status", {
        "credentialId": cid,
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": value, "statusPurpose": purpose}],
    }, headers=setup.auth)


def status_list(server: Server, vc: dict[str, Any], purpose: str) -> tuple[dict[str, Any], dict[str, Any]]:
    entries = vc["credentialStatus"] if isinstance(vc["credentialStatus"], list) else [vc["credentialStatus"]]
    entry = next(e for e in entries if e["statusPurpose"] == purpose)
    name = entry["statusListCredential"].rsplit("/", 1)[-1]
    reply = server.client().get(f"/status/{name}")
    assert reply.status == 200, reply.raw
    return entry, reply.json


# --------------------------------------------------------------------------------------------
# basics


def test_health_and_openapi(server: Server) -> None:
    c = server.client()
    assert c.get("/health").json == {"status": "ok"}
    doc = c.get("/openapi.json").json
    assert set(doc["paths"]) >= {"/credentials/issue", "/credentials/verify", "/presentations/verify",
                                 "/credentials/status", "/status/{list_name}", "/.well-known/did.json", "/health"}
    assert doc["paths"]["/credentials/issue"]["post"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in doc["paths"]["/credentials/verify"]["post"]
    assert c.get("/nope").status == 404


def test_the_loopback_marker_opens_loopback_only() -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkBlocked):
            s.connect(("192.0.2.1", 80))
        with pytest.raises(NetworkBlocked):
            socket.getaddrinfo("www.w3.org", 443)
        with pytest.raises(NetworkBlocked):
            socket.create_connection(("localhost", 80))  # names are not resolved, not even this one
    finally:
        s.close()


# --------------------------------------------------------------------------------------------
# authentication


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic eDp5"},
                                     {"Authorization": "Bearer"}])
def test_issuing_and_status_changes_need_the_token(server: Server, setup: IssuerSetup,
                                                   headers: dict[str, str]) -> None:
    c = server.client()
    before = Registry.open(setup.folder / "registry.sqlite").count()
    reply = c.post("/credentials/issue", {"credential": credential()}, headers=headers)
    assert reply.status == 401
    assert reply.content_type == PROBLEM and reply.json["status"] == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")
    vc = issue(server, setup, credentialStatus=REVOCATION)
    reply = c.post("/credentials/status", {"credentialId": vc["id"], "credentialStatus": [
        {"type": "BitstringStatusListEntry", "status": True, "statusPurpose": "revocation"}]}, headers=headers)
    assert reply.status == 401
    assert verify(server, vc).status == 200  # not revoked
    name = vc["credentialStatus"]["statusListCredential"].rsplit("/", 1)[-1]
    assert c.post(f"/status/{name}/publish", headers=headers).status == 401
    assert Registry.open(setup.folder / "registry.sqlite").count() == before + 1


# --------------------------------------------------------------------------------------------
# issuing


def test_issue_signs_as_given_and_records_it(server: Server, setup: IssuerSetup) -> None:
    cred = credential(id="urn:uuid:6e3e3f2c-7d0a-4c38-9d2f-0c4f8e2b9a11", name="Lassen",
                      validFrom="2025-01-01T00:00:00Z")
    vc = issue(server, setup, cred)
    unsigned = {k: v for k, v in vc.items() if k != "proof"}
    assert unsigned == {**cred, "issuer": setup.did}
    # member order as posted; the issuer goes after type
    assert list(vc) == ["@context", "type", "issuer", "credentialSubject", "id", "name", "validFrom", "proof"]
    proof = vc["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == setup.suite
    assert proof["proofPurpose"] == "assertionMethod" and proof["verificationMethod"].startswith(setup.did + "#")
    assert check_proofs(vc, expected_purpose="assertionMethod").verified
    with Registry.open(setup.folder / "registry.sqlite") as reg:
        record = reg.get(cred["id"])
    assert record.kind == "vc-api" and record.subject == SUBJECT and record.document == vc
    # the same id twice is a conflict
    reply = server.client().post("/credentials/issue", {"credential": issued_by(setup.did, cred)},
                                 headers=setup.auth)
    assert reply.status == 409 and reply.content_type == PROBLEM


def test_issue_gives_an_id_and_accepts_the_issuer_object(server: Server, setup: IssuerSetup) -> None:
    vc = issue(server, setup, credential(issuer={"id": setup.did, "name": "ROC"}))
    assert vc["id"].startswith("urn:uuid:")
    assert vc["issuer"] == {"id": setup.did, "name": "ROC"}
    vc2 = issue(server, setup, credential(issuer=setup.did),
                credentialId="urn:uuid:0a0b0c0d-0000-4000-8000-000000000001")
    assert "id" not in vc2  # options.credentialId names the registry row, the credential is as given
    with Registry.open(setup.folder / "registry.sqlite") as reg:
        assert reg.get("urn:uuid:0a0b0c0d-0000-4000-8000-000000000001").document == vc2


def test_issue_vc_1_1(server: Server, setup: IssuerSetup) -> None:
    cred = {"@context": [VC_V1], "type": ["VerifiableCredential"], "credentialSubject": {"id": SUBJECT}}
    vc = issue(server, setup, cred, credentialStatus=REVOCATION)
    assert vc["issuanceDate"].endswith("Z")
    assert vc["@context"] == [VC_V1, "https://w3id.org/security/data-integrity/v2",
                              "https://www.w3.org/ns/credentials/status/v1"]
    assert vc["credentialStatus"]["type"] == "BitstringStatusListEntry"
    reply = verify(server, vc)
    assert reply.status == 200, reply.raw
    assert reply.json["verified"] is True


@pytest.mark.parametrize(("cred", "status", "needle"), [
    (credential(issuer="did:key:z6MkhTNL7i2etLerDK8Acz5t528giE5KA4p75T6ka1E1D74r"), 400, "issues as"),
    (credential(issuer={"id": "did:example:other"}), 400, "issues as"),
    (credential(issuer=7), 400, "issuer"),
    ({"@context": ["https://example.org/ctx"], "type": ["VerifiableCredential"], "credentialSubject": {}}, 400,
     "@context"),
    ({"@context": [VC_V2], "type": ["Thing"], "credentialSubject": {"id": SUBJECT}}, 400, "VerifiableCredential"),
    ({"@context": [VC_V2], "type": ["VerifiableCredential"], "credentialSubject": []}, 400, "credentialSubject"),
    (credential(proof={"type": "DataIntegrityProof"}), 400, "already has a proof"),
    (credential(favouriteColour="blue"), 400, "favouriteColour"),
    (credential(id="not a url"), 400, "URL"),
    ({"@context": [VC_V2, "https://example.org/unknown-context"], "type": ["VerifiableCredential"],
      "credentialSubject": {"id": SUBJECT}}, 400, "not bundled"),
    ({"type": ["VerifiableCredential"], "credentialSubject": {"id": SUBJECT}}, 400, "@context"),
])
def test_issue_refuses_bad_credentials(server: Server, setup: IssuerSetup, cred: dict[str, Any], status: int,
                                       needle: str) -> None:
    # each names the issuer (a missing one is refused first: tests/test_conformance_fixes.py)
    reply = server.client().post("/credentials/issue", {"credential": issued_by(setup.did, cred)},
                                 headers=setup.auth)
    assert reply.status == status, reply.raw
    assert reply.content_type == PROBLEM
    body = reply.json
    assert body["status"] == status and needle in body["detail"]


@pytest.mark.parametrize(("body", "status"), [
    ({"credential": "a string"}, 422),
    ({"credential": credential(), "options": {"credentialStatus": {"type": "StatusList2021Entry"}}}, 422),
    ({"credential": credential(), "options": {"credentialStatus": {"type": "BitstringStatusListEntry",
                                                                   "statusPurpose": "refresh"}}}, 422),
    ({"credential": credential(), "options": {"credentialStatus": [REVOCATION, REVOCATION]}}, 400),
    ({"options": {}}, 422),
    ([], 422),
])
def test_issue_refuses_bad_requests(server: Server, setup: IssuerSetup, body: Any, status: int) -> None:
    if isinstance(body, dict) and isinstance(body.get("credential"), dict):
        body = {**body, "credential": issued_by(setup.did, body["credential"])}
    reply = server.client().post("/credentials/issue", body, headers=setup.auth)
    assert reply.status == status, reply.raw
    assert reply.content_type == PROBLEM and reply.json["status"] == status


def test_issue_refuses_status_entries_it_did_not_allocate(server: Server, setup: IssuerSetup) -> None:
    forged = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "5",
              "statusListCredential": f"{server.base_url}/status/revocation-1"}
    reply = server.client().post("/credentials/issue",
                                 {"credential": credential(issuer=setup.did, credentialStatus=forged)},
                                 headers=setup.auth)
    assert reply.status == 400 and "allocated by the service" in reply.json["detail"]


_NAMED = b'{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], ' \
         b'"credentialSubject": {"id": "did:example:1"}, "name": %s}, "verifiableCredential": {}}'


@pytest.mark.parametrize("raw", [b"{not json", b"[" * 100_000, b"\xff\xfe", b'{"credential": NaN}',
                                 _NAMED % b"NaN", _NAMED % b"-Infinity", _NAMED % b"1e400", _NAMED % (b"9" * 5000),
                                 json.dumps({"credential": json.loads("[" * 70 + "]" * 70)}).encode()])
def test_hostile_bodies_get_4xx(server: Server, setup: IssuerSetup, raw: bytes) -> None:
    for path, headers in (("/credentials/issue", setup.auth), ("/credentials/verify", {})):
        reply = server.client().request("POST", path, raw=raw, headers=headers)
        assert 400 <= reply.status < 500, (path, reply.status, reply.raw[:300])
        assert reply.content_type == PROBLEM
        if path == "/credentials/verify":
            assert reply.json["verified"] is False


def test_deeply_nested_credential_is_refused(server: Server, setup: IssuerSetup) -> None:
    deep: dict[str, Any] = {"id": SUBJECT}
    for _ in range(100):
        deep = {"x": deep}
    reply = server.client().post("/credentials/issue",
                                 {"credential": credential(issuer=setup.did, credentialSubject=deep)},
                                 headers=setup.auth)
    assert reply.status == 400 and "nests deeper" in reply.json["detail"]


# --------------------------------------------------------------------------------------------
# oversized bodies: refused at once, without reading them




def test_a_100_mb_body_is_refused_before_it_is_read(server: Server, setup: IssuerSetup) -> None:
    # bounded in bytes: the answer comes while most of the body is still unsent
    size = 100 * 1024 * 1024
    head = (f"POST /credentials/issue HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {setup.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n").encode()
    answer, sent = stream_until_answer(server.port, head, b" " * 65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < size // 4
    # without a Content-Length (chunked), the bytes are counted as they arrive
    head = (b"POST /credentials/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    piece = b"10000\r\n" + b" " * 65536 + b"\r\n"
    answer, sent = stream_until_answer(server.port, head, piece)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < size // 4
    assert b"application/problem+json" in answer
    assert server.client().get("/health").status == 200


# --------------------------------------------------------------------------------------------
# verifying credentials


def test_verify_and_tampering(server: Server, setup: IssuerSetup) -> None:
    vc = issue(server, setup, credentialStatus=[REVOCATION, SUSPENSION])
    ok = verify(server, vc)
    assert ok.status == 200 and ok.content_type == "application/json"
    body = ok.json
    assert body["verified"] is True and body["errors"] == []
    assert {"credential.proof", "credential.issuer", "credential.status", "credential.trust"} <= set(body["checks"])
    for mutate in (lambda d: d["credentialSubject"].update(id="did:example:mallory"),
                   lambda d: d["proof"].update(proofValue=d["proof"]["proofValue"][:-2] + "zz"),
                   lambda d: d.pop("proof"),
                   lambda d: d.update(validUntil="2020-01-01T00:00:00Z")):
        bad = copy.deepcopy(vc)
        mutate(bad)
        reply = verify(server, bad)
        assert reply.status == 400, reply.raw
        assert reply.content_type == PROBLEM
        assert reply.json["verified"] is False and reply.json["errors"]
        assert reply.json["errors"][0]["type"].startswith("https://www.w3.org/TR/")


def test_verify_rejects_untrusted_issuers(server: Server, tmp_path: Path) -> None:
    other = make_issuer(tmp_path / "other", trusted=False)  # not in the main server's trust list
    with running(other) as srv:
        vc = issue(srv, other)
    reply = verify(server, vc)
    assert reply.status == 400
    assert any(e["check"] == "credential.trust" for e in reply.json["errors"])


def test_revoke_suspend_unsuspend(server: Server, setup: IssuerSetup) -> None:
    vc = issue(server, setup, credentialStatus=[REVOCATION, SUSPENSION])
    assert isinstance(vc["credentialStatus"], list) and len(vc["credentialStatus"]) == 2
    reply = set_status(server, setup, vc["id"], "suspension", True)
    assert reply.status == 200 and reply.json["credentialStatus"][0]["changed"] is True
    assert verify(server, vc).json["errors"][0]["code"] == "suspended"
    entry, lst = status_list(server, vc, "suspension")
    assert read_status(entry, lst).is_set
    assert set_status(server, setup, vc["id"], "suspension", False).status == 200
    assert verify(server, vc).status == 200
    assert set_status(server, setup, vc["id"], "revocation", True).json["credentialStatus"][0]["changed"]
    assert set_status(server, setup, vc["id"], "revocation", True).json["credentialStatus"][0]["changed"] is False
    rejected = verify(server, vc)
    assert rejected.status == 400 and rejected.json["errors"][0]["code"] == "revoked"
    reinstate = set_status(server, setup, vc["id"], "revocation", False)
    assert reinstate.status == 400 and "permanent" in reinstate.json["detail"]
    assert set_status(server, setup, "urn:uuid:unknown", "revocation", True).status == 404
    no_entry = issue(server, setup, credentialStatus=REVOCATION)
    reply = set_status(server, setup, no_entry["id"], "suspension", True)
    assert reply.status == 400 and "no suspension status entry" in reply.json["detail"]


def test_status_list_is_served_with_caching_headers(server: Server, setup: IssuerSetup) -> None:
    vc = issue(server, setup, credentialStatus=REVOCATION)
    entry, lst = status_list(server, vc, "revocation")
    assert lst["id"] == entry["statusListCredential"] and lst["id"].startswith(server.base_url + "/status/")
    assert lst["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert lst["issuer"] == setup.did
    assert check_proofs(lst, expected_purpose="assertionMethod").verified
    assert read_status(entry, lst).is_set is False
    name = lst["id"].rsplit("/", 1)[-1]
    c = server.client()
    reply = c.get(f"/status/{name}")
    assert reply.headers["cache-control"] == "public, max-age=60"
    etag = reply.headers["etag"]
    assert reply.headers["last-modified"].endswith("GMT")
    assert c.get(f"/status/{name}", headers={"If-None-Match": etag}).status == 304
    set_status(server, setup, vc["id"], "revocation", True)
    changed = c.get(f"/status/{name}", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["etag"] != etag
    assert read_status(entry, changed.json).is_set
    assert c.get("/status/revocation-999").status == 404
    assert c.get("/status/..%2Fetc").status in (404, 422)
    assert c.post(f"/status/{name}/publish", headers=setup.auth).status == 204


# --------------------------------------------------------------------------------------------
# presentations


@pytest.fixture(scope="module")
def holder() -> KeyPair:
    return KeyPair.generate("ed25519")


def presentation(vcs: list[dict[str, Any]], holder: KeyPair | None, *, challenge: str | None = "c-123",
                 domain: str | None = "employer.example", holder_field: Any = "auto") -> dict[str, Any]:
    vp: dict[str, Any] = {"@context": [VC_V2], "type": ["VerifiablePresentation"], "verifiableCredential": vcs}
    if holder_field == "auto" and holder is not None:
        vp["holder"] = key_did(holder.public_key)
    elif holder_field not in ("auto", None):
        vp["holder"] = holder_field
    if holder is None:
        return vp
    return add_proof(vp, holder, verification_method=key_did_url(holder.public_key), proof_purpose="authentication",
                     challenge=challenge, domain=domain)


def test_presentations(server: Server, setup: IssuerSetup, holder: KeyPair) -> None:
    mine = issue(server, setup, credential(credentialSubject={"id": key_did(holder.public_key)}),
                 credentialStatus=REVOCATION)
    c = server.client()

    def check(vp: dict[str, Any], options: dict[str, Any] | None) -> Any:
        body: dict[str, Any] = {"verifiablePresentation": vp}
        if options is not None:
            body["options"] = options
        return c.post("/presentations/verify", body)

    good = presentation([mine], holder)
    ok = check(good, {"challenge": "c-123", "domain": "employer.example"})
    assert ok.status == 200, ok.raw
    assert "presentation.proof" in ok.json["checks"] and "credential[0].holder_binding" in ok.json["checks"]
    for options in ({"challenge": "other", "domain": "employer.example"},
                    {"challenge": "c-123", "domain": "evil.example"},
                    {"domain": "employer.example"}, None):
        reply = check(good, options)
        assert reply.status == 400, (options, reply.raw)
        assert reply.json["verified"] is False
    tampered = copy.deepcopy(good)
    tampered["verifiableCredential"][0]["credentialSubject"]["id"] = "did:example:mallory"
    assert check(tampered, {"challenge": "c-123", "domain": "employer.example"}).status == 400
    # someone else presenting my credential: holder binding fails
    thief = KeyPair.generate("ed25519")
    stolen = presentation([mine], thief)
    assert check(stolen, {"challenge": "c-123", "domain": "employer.example"}).status == 400
    # holder must be a URL or an object with an id
    bad_holder = presentation([mine], holder, holder_field={"name": "Jan"})
    reply = check(bad_holder, {"challenge": "c-123", "domain": "employer.example"})
    # (the one Verifier's shape check now judges it: presentation.shape, no longer the service's holder_shape)
    assert reply.status == 400 and any(e["check"] == "presentation.shape" and "holder" in e["detail"]
                                       for e in reply.json["errors"])


def test_unsigned_presentations(server: Server, setup: IssuerSetup, holder: KeyPair) -> None:
    vc = issue(server, setup, credentialStatus=REVOCATION)
    c = server.client()
    unsigned = presentation([vc], None)
    ok = c.post("/presentations/verify", {"verifiablePresentation": unsigned})
    assert ok.status == 200, ok.raw
    assert ok.json["warnings"] and "unsigned" in ok.json["warnings"][0]["title"]
    assert "credential[0].proof" in ok.json["checks"]
    # an expected challenge cannot be met by an unsigned presentation
    reply = c.post("/presentations/verify", {"verifiablePresentation": unsigned, "options": {"challenge": "x"}})
    assert reply.status == 400
    # a bad credential inside fails the presentation
    bad = copy.deepcopy(vc)
    bad["credentialSubject"]["id"] = "did:example:mallory"
    assert c.post("/presentations/verify", {"verifiablePresentation": presentation([bad], None)}).status == 400
    assert c.post("/presentations/verify", {"verifiablePresentation": presentation([], None)}).status == 400
    set_status(server, setup, vc["id"], "revocation", True)
    assert c.post("/presentations/verify", {"verifiablePresentation": unsigned}).status == 400


def test_presentations_with_too_many_credentials_are_refused_unchecked(server: Server, setup: IssuerSetup,
                                                                      holder: KeyPair) -> None:
    """Signed or not, more credentials than the verifier's max_credentials (200) are refused
    before any of them is checked: a request must not buy minutes of canonicalization."""
    from skillcred.verify.verifier import MAX_PRESENTED_CREDENTIALS

    vc = issue(server, setup)
    many = [vc] * (MAX_PRESENTED_CREDENTIALS + 1)
    c = server.client()
    for vp in (presentation(many, None), presentation(many, holder)):
        reply = c.post("/presentations/verify", {"verifiablePresentation": vp,
                                                 "options": {"challenge": "c-123", "domain": "employer.example"}
                                                 if "proof" in vp else {}})
        assert reply.status == 400, reply.raw
        assert "presentation.credentials" in str(reply.json), reply.json
        assert "more than the 200" in str(reply.json)
        assert "credential[0].proof" not in str(reply.json)


# --------------------------------------------------------------------------------------------
# did:web, public URL, open issuing, command line


def test_serve_max_credentials_sets_the_cap(tmp_path: Path, holder: KeyPair) -> None:
    setup = make_issuer(tmp_path)
    with running(setup, "--max-credentials", "2") as srv:
        vc = issue(srv, setup, credential(credentialSubject={"id": key_did(holder.public_key)}))
        c = srv.client()
        for n, status in ((2, 200), (3, 400)):
            vp = presentation([vc] * n, holder)
            reply = c.post("/presentations/verify", {"verifiablePresentation": vp,
                                                     "options": {"challenge": "c-123", "domain": "employer.example"}})
            assert reply.status == status, reply.raw
        assert "more than the 2" in str(reply.json)


def test_did_web_issuer_public_url_and_open_issuing(tmp_path: Path) -> None:
    setup = make_issuer(tmp_path, did_method="web", key_type="p256")
    with running(setup, "--unsafe-open-issuing", "--public-url", "https://vc.roc.example/", token=False) as srv:
        c = srv.client()
        started = srv.log().count("UNSAFE")
        assert started >= 1
        doc = c.get("/.well-known/did.json")
        assert doc.status == 200 and doc.content_type == "application/did+json"
        assert doc.json["id"] == setup.did == "did:web:roc.example"
        vc = issue(srv, setup, credentialStatus=REVOCATION)  # no token needed
        issue(srv, setup)
        assert vc["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
        assert vc["credentialStatus"]["statusListCredential"].startswith("https://vc.roc.example/status/revocation-")
        name = vc["credentialStatus"]["statusListCredential"].rsplit("/", 1)[-1]
        assert c.get(f"/status/{name}").json["id"] == vc["credentialStatus"]["statusListCredential"]
        assert verify(srv, vc).status == 200
        time.sleep(0.2)
        assert srv.log().count("UNSAFE") >= started + 2  # and on every issue
    key_setup = make_issuer(tmp_path / "key")
    with running(key_setup) as srv:
        assert srv.client().get("/.well-known/did.json").status == 404


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SKILLCRED, "serve", *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_command_line_refusals(setup: IssuerSetup, tmp_path: Path) -> None:
    base = ["--issuer", str(setup.folder), "--trust", str(setup.trust_file), "--port", "1"]
    proc = _serve(*base)
    assert proc.returncode == 2 and "--token-file" in proc.stderr
    proc = _serve(*base, "--token-file", str(setup.token_file), "--unsafe-open-issuing")
    assert proc.returncode == 2 and "not both" in proc.stderr
    empty = tmp_path / "empty-token"
    empty.write_text("\n")
    proc = _serve(*base, "--token-file", str(empty))
    assert proc.returncode == 2 and "empty" in proc.stderr
    proc = _serve(*base, "--token-file", str(setup.token_file), "--registry", "postgresql://nobody@127.0.0.1:1/x")
    assert proc.returncode == 2 and "cannot connect" in proc.stderr and "Traceback" not in proc.stderr
    assert _serve("--help").stdout.startswith("Usage:")
