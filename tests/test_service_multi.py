"""``skillcred serve`` hosting several issuer configurations (issue 15, "Also" item 1), over real
loopback HTTP: two institutes with their own keys and registries, and a JCS twin of the first
(its key, another cryptosuite, its registry) in one service.

Each configuration is at ``/issuers/{name}/...``; the first (the primary) also at the old paths.
What could break: a configuration signing with another's key or suite, one institute's lists
changing (or being signed) when another revokes, one institute revoking another's credential,
the old paths no longer being the primary's, a clash or a misfit suite starting a service.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service_support import (
    SKILLCRED,
    IssuerSetup,
    Server,
    credential,
    issued_by,
    make_issuer,
    running,
    start_server,
)
from skillcred.issuer import init_issuer
from skillcred.trust import TrustList

pytestmark = pytest.mark.loopback

REVOCATION = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}


@dataclass
class World:
    roc: IssuerSetup  # the primary, folder name "issuer"
    alfa: IssuerSetup  # a second institute (P-256 key, ecdsa-rdfc-2019), named "alfa"
    server: Server


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("multi")
    roc = make_issuer(root / "roc")
    alfa = make_issuer(root / "alfa", key_type="p256", name="Alfa-college")
    trust = TrustList.load_or_new(roc.trust_file)
    trust.add(alfa.did, name="Alfa-college")
    trust.save()
    server = start_server(roc, "--issuer", f"alfa={alfa.folder}",
                          "--issuer-suite", f"roc-jcs={roc.folder}:eddsa-jcs-2022")
    yield World(roc, alfa, server)
    server.stop()


def issue(world: World, path: str, setup: IssuerSetup, **options: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"credential": issued_by(setup.did, credential())}
    if options:
        body["options"] = options
    reply = world.server.client().post(path, body, headers=world.roc.auth)  # one token per service
    assert reply.status == 201, reply.raw
    return dict(reply.json["verifiableCredential"])


def list_path(world: World, vc: dict[str, Any]) -> str:
    url = vc["credentialStatus"]["statusListCredential"]
    assert url.startswith(world.server.base_url + "/")
    return str(url[len(world.server.base_url):])


def get_list(world: World, path: str) -> dict[str, Any]:
    reply = world.server.client().get(path)
    assert reply.status == 200, reply.raw
    return dict(reply.json)


def verify(world: World, vc: dict[str, Any]) -> Any:
    return world.server.client().post("/credentials/verify", {"verifiableCredential": vc})


def revoke(world: World, path: str, setup: IssuerSetup, cid: str) -> Any:
    return world.server.client().post(path, {"credentialId": cid, "credentialStatus": [
        {"type": "BitstringStatusListEntry", "status": True, "statusPurpose": "revocation"}]}, headers=world.roc.auth)


# --------------------------------------------------------------------------------------------
# issuing


@pytest.mark.parametrize(("name", "who", "suite"), [
    ("issuer", "roc", "eddsa-rdfc-2022"),
    ("alfa", "alfa", "ecdsa-rdfc-2019"),
    ("roc-jcs", "roc", "eddsa-jcs-2022"),
])
def test_each_configuration_signs_with_its_own_key_and_suite(world: World, name: str, who: str,
                                                             suite: str) -> None:
    setup: IssuerSetup = getattr(world, who)
    vc = issue(world, f"/issuers/{name}/credentials/issue", setup)
    assert vc["issuer"] == setup.did
    assert vc["proof"]["cryptosuite"] == suite
    assert vc["proof"]["verificationMethod"].startswith(setup.did + "#")
    reply = verify(world, vc)
    assert reply.status == 200 and reply.json["verified"] is True, reply.raw


def test_a_configuration_issues_only_in_its_own_name(world: World) -> None:
    """alfa's configuration does not sign a credential naming roc (nor the reverse), whatever
    the token: the key signs for its own DID only."""
    for path, other in (("/issuers/alfa/credentials/issue", world.roc),
                        ("/issuers/issuer/credentials/issue", world.alfa),
                        ("/issuers/roc-jcs/credentials/issue", world.alfa),
                        ("/credentials/issue", world.alfa)):
        body = {"credential": issued_by(other.did, credential())}
        reply = world.server.client().post(path, body, headers=world.roc.auth)  # one token per service
        assert reply.status == 400 and other.did in reply.json["detail"], (path, reply.raw)


def test_the_old_paths_serve_the_primary(world: World) -> None:
    vc = issue(world, "/credentials/issue", world.roc, credentialStatus=REVOCATION)
    assert vc["issuer"] == world.roc.did and vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    path = list_path(world, vc)
    assert path.startswith("/status/")
    doc = get_list(world, path)
    assert doc["issuer"] == world.roc.did and doc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    # the primary's lists are its own at /issuers/issuer/status/... as well
    assert get_list(world, "/issuers/issuer" + path)["id"] == doc["id"]
    # the old status path revokes the primary's credential
    assert revoke(world, "/credentials/status", world.roc, vc["id"]).status == 200
    assert verify(world, vc).json["verified"] is False


def test_unknown_configurations_are_404(world: World) -> None:
    client = world.server.client()
    body = {"credential": issued_by(world.roc.did, credential())}
    change = {"credentialId": "urn:uuid:x", "credentialStatus": REVOCATION}
    for method, path, payload in (("POST", "/issuers/nobody/credentials/issue", body),
                                  ("POST", "/issuers/nobody/credentials/status", change),
                                  ("GET", "/issuers/nobody/status/revocation-1", None),
                                  ("POST", "/issuers/nobody/status/revocation-1/publish", None)):
        reply = client.request(method, path, payload, headers=world.roc.auth)
        assert reply.status == 404 and "nobody" in reply.json["detail"], (path, reply.raw)
    reply = client.post("/issuers/..%2F/credentials/issue", body, headers=world.roc.auth)
    assert reply.status in (404, 422)


def test_issuing_per_configuration_still_needs_the_token(world: World) -> None:
    body = {"credential": issued_by(world.alfa.did, credential())}
    for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"}):
        reply = world.server.client().post("/issuers/alfa/credentials/issue", body, headers=headers)
        assert reply.status == 401


# --------------------------------------------------------------------------------------------
# status lists


def test_status_entries_point_at_each_configurations_own_lists(world: World) -> None:
    seen = {}
    for name, setup, suite in (("alfa", world.alfa, "ecdsa-rdfc-2019"),
                               ("roc-jcs", world.roc, "eddsa-jcs-2022")):
        vc = issue(world, f"/issuers/{name}/credentials/issue", setup, credentialStatus=REVOCATION)
        path = list_path(world, vc)
        assert path.startswith(f"/issuers/{name}/status/")
        doc = get_list(world, path)
        assert doc["issuer"] == setup.did and doc["proof"]["cryptosuite"] == suite
        assert doc["id"] == world.server.base_url + path
        seen[name] = path
        other = "roc-jcs" if name == "alfa" else "alfa"  # not served under another configuration
        assert world.server.client().get(path.replace(f"/issuers/{name}/", f"/issuers/{other}/")).status == 404
    assert seen["alfa"] != seen["roc-jcs"]
    # the JCS twin shares roc's registry, yet the primary does not serve (nor sign) its lists
    twin_name = seen["roc-jcs"].rsplit("/", 1)[-1]
    old = world.server.client().get(f"/status/{twin_name}")
    assert old.status == 404 or old.json["id"] != world.server.base_url + seen["roc-jcs"]


def test_revoking_one_institutes_credential_changes_only_its_lists(world: World) -> None:
    roc_vc = issue(world, "/issuers/issuer/credentials/issue", world.roc, credentialStatus=REVOCATION)
    twin_vc = issue(world, "/issuers/roc-jcs/credentials/issue", world.roc, credentialStatus=REVOCATION)
    alfa_vc = issue(world, "/issuers/alfa/credentials/issue", world.alfa, credentialStatus=REVOCATION)
    paths = {n: list_path(world, vc) for n, vc in (("roc", roc_vc), ("twin", twin_vc), ("alfa", alfa_vc))}
    before = {n: get_list(world, p)["credentialSubject"]["encodedList"] for n, p in paths.items()}

    assert revoke(world, "/issuers/alfa/credentials/status", world.alfa, alfa_vc["id"]).status == 200
    after = {n: get_list(world, p)["credentialSubject"]["encodedList"] for n, p in paths.items()}
    assert after["alfa"] != before["alfa"]
    assert after["roc"] == before["roc"] and after["twin"] == before["twin"]
    assert verify(world, alfa_vc).json["verified"] is False
    assert verify(world, roc_vc).json["verified"] is True
    assert verify(world, twin_vc).json["verified"] is True

    assert revoke(world, "/issuers/roc-jcs/credentials/status", world.roc, twin_vc["id"]).status == 200
    last = {n: get_list(world, p)["credentialSubject"]["encodedList"] for n, p in paths.items()}
    assert last["twin"] != after["twin"] and last["roc"] == after["roc"] and last["alfa"] == after["alfa"]
    assert verify(world, twin_vc).json["verified"] is False
    assert verify(world, roc_vc).json["verified"] is True


def test_one_institute_cannot_change_anothers_credential(world: World) -> None:
    alfa_vc = issue(world, "/issuers/alfa/credentials/issue", world.alfa, credentialStatus=REVOCATION)
    roc_vc = issue(world, "/issuers/issuer/credentials/issue", world.roc, credentialStatus=REVOCATION)
    for path, cid in (("/credentials/status", alfa_vc["id"]), ("/issuers/issuer/credentials/status", alfa_vc["id"]),
                      ("/issuers/roc-jcs/credentials/status", alfa_vc["id"]),
                      ("/issuers/alfa/credentials/status", roc_vc["id"])):
        assert revoke(world, path, world.roc, cid).status == 404, path
    assert verify(world, alfa_vc).json["verified"] is True
    assert verify(world, roc_vc).json["verified"] is True


def web_issuer(folder: Path, url: str) -> str:
    return init_issuer(folder, name="Webschool", url=url, did_method="web", passphrase=None).did


def test_did_web_documents_do_not_shadow_each_other(tmp_path: Path) -> None:
    """Each did:web configuration gets its DID document route; another did:web whose document
    would be at an occupied path (/.well-known/did.json of a bare domain) is not served over it."""
    roc = make_issuer(tmp_path / "roc", did_method="web")
    path_did = web_issuer(tmp_path / "school", "https://vc.example/school")
    bare_did = web_issuer(tmp_path / "other", "https://other.example")
    assert path_did == "did:web:vc.example:school" and bare_did == "did:web:other.example"
    with running(roc, "--issuer", f"school={tmp_path / 'school'}", "--issuer", f"other={tmp_path / 'other'}",
                 "--issuer-suite", f"jcs={roc.folder}:eddsa-jcs-2022") as server:
        reply = server.client().get("/.well-known/did.json")
        assert reply.status == 200 and reply.json == json.loads((roc.folder / "did.json").read_text())
        reply = server.client().get("/school/did.json")
        assert reply.status == 200 and reply.json["id"] == path_did
        assert reply.json == json.loads((tmp_path / "school" / "did.json").read_text())
        log = server.log()
        assert "did:web:other.example (other)" in log and "not served here" in log
        assert log.count("not served here") == 1  # the JCS twin shares roc's document: no warning
    plain = make_issuer(tmp_path / "plain")
    with running(plain, "--issuer", f"school={tmp_path / 'school'}") as server:
        assert server.client().get("/.well-known/did.json").status == 404  # the primary is a did:key
        assert server.client().get("/school/did.json").json["id"] == path_did


# --------------------------------------------------------------------------------------------
# configurations refused at start


def serve(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SKILLCRED, "serve", *map(str, args), "--port", "1"], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def assert_refused(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line]
    assert len(errors) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "skillcred serve: issuer" not in proc.stderr  # nothing started
    for word in words:
        assert word in errors[0], proc.stderr


def test_a_name_clash_is_refused_at_start(tmp_path: Path) -> None:
    a = make_issuer(tmp_path / "a")
    b = make_issuer(tmp_path / "b")
    common = ("--trust", a.trust_file, "--token-file", a.token_file)
    # both folders are called "issuer"
    assert_refused(serve("--issuer", a.folder, "--issuer", b.folder, *common), "'issuer'", "NAME=DIR")
    assert_refused(serve("--issuer", f"x={a.folder}", "--issuer", f"x={b.folder}", *common), "'x'")
    assert_refused(serve("--issuer", f"x={a.folder}", "--issuer-suite", f"x={a.folder}:eddsa-jcs-2022", *common),
                   "'x'")
    assert_refused(serve("--issuer", f"bad/name={a.folder}", *common), "bad/name")


@pytest.mark.parametrize(("key_type", "suite", "words"), [
    ("ed25519", "ecdsa-rdfc-2019", ("ecdsa-rdfc-2019", "ed25519")),
    ("ed25519", "ecdsa-jcs-2019", ("ecdsa-jcs-2019", "ed25519")),
    ("p256", "eddsa-jcs-2022", ("eddsa-jcs-2022", "p256")),
    ("p256", "eddsa-rdfc-2022", ("eddsa-rdfc-2022", "p256")),
    ("ed25519", "no-such-suite", ("unknown cryptosuite", "no-such-suite")),
])
def test_a_suite_that_does_not_fit_the_key_is_refused_at_start(tmp_path: Path, key_type: str, suite: str,
                                                                words: tuple[str, ...]) -> None:
    a = make_issuer(tmp_path / "a", key_type=key_type)
    proc = serve("--issuer", a.folder, "--issuer-suite", f"twin={a.folder}:{suite}", "--trust", a.trust_file,
                 "--token-file", a.token_file)
    assert_refused(proc, "twin", *words)


@pytest.mark.parametrize("value", ["twin", "twin=", "=DIR:eddsa-jcs-2022", "twin=DIR", "twin=DIR:",
                                   "twin=no-such-folder:eddsa-jcs-2022"])
def test_a_malformed_issuer_suite_is_refused(tmp_path: Path, value: str) -> None:
    a = make_issuer(tmp_path / "a")
    proc = serve("--issuer", a.folder, "--issuer-suite", value.replace("DIR", str(a.folder)),
                 "--trust", a.trust_file, "--token-file", a.token_file)
    assert_refused(proc, "--issuer-suite")


def test_a_missing_issuer_folder_is_refused(tmp_path: Path) -> None:
    a = make_issuer(tmp_path / "a")
    proc = serve("--issuer", a.folder, "--issuer", f"x={tmp_path / 'nothing'}", "--trust", a.trust_file,
                 "--token-file", a.token_file)
    assert_refused(proc, "--issuer", "nothing")
    (tmp_path / "empty").mkdir()
    proc = serve("--issuer", a.folder, "--issuer", f"x={tmp_path / 'empty'}", "--trust", a.trust_file,
                 "--token-file", a.token_file)
    assert_refused(proc, "issuer.json")


def test_the_service_config_round_trips_its_issuer_configurations() -> None:
    """Workers read the configuration from the environment as JSON: the hosted issuers survive."""
    from skillcred.service import ServiceConfig
    from skillcred.service.state import IssuerSpec

    config = ServiceConfig(issuer_dir="/x/roc", trust_file="t", public_url="http://h", issuer_name="roc",
                           issuers=(IssuerSpec("alfa", "/x/alfa"), IssuerSpec("roc-jcs", "/x/roc", "eddsa-jcs-2022")))
    again = ServiceConfig.from_json(config.to_json())
    assert again == config
    assert [(s.name, s.folder, s.suite) for s in again.hosted()] == [
        ("roc", "/x/roc", None), ("alfa", "/x/alfa", None), ("roc-jcs", "/x/roc", "eddsa-jcs-2022")]
    assert json.loads(config.to_json())["issuers"][1]["suite"] == "eddsa-jcs-2022"


def test_institutes_sharing_one_registry_keep_to_their_own(tmp_path: Path) -> None:
    """With one registry for all (``--registry``, as with PostgreSQL behind several instances),
    every row is visible to every configuration: each still changes only credentials in its own
    issuer's name, and serves and signs only its own lists."""
    roc = make_issuer(tmp_path / "roc")
    alfa = make_issuer(tmp_path / "alfa", key_type="p256", name="Alfa-college")
    trust = TrustList.load_or_new(roc.trust_file)
    trust.add(alfa.did, name="Alfa-college")
    trust.save()
    shared = tmp_path / "shared.sqlite"
    with running(roc, "--issuer", f"alfa={alfa.folder}", "--registry", str(shared)) as server:
        world = World(roc, alfa, server)
        roc_vc = issue(world, "/credentials/issue", roc, credentialStatus=REVOCATION)
        alfa_vc = issue(world, "/issuers/alfa/credentials/issue", alfa, credentialStatus=REVOCATION)
        assert shared.exists()
        for path, cid in (("/credentials/status", alfa_vc["id"]), ("/issuers/issuer/credentials/status", alfa_vc["id"]),
                          ("/issuers/alfa/credentials/status", roc_vc["id"])):
            reply = revoke(world, path, roc, cid)
            assert reply.status == 404 and "issued by" in reply.json["detail"], (path, reply.raw)
        assert verify(world, alfa_vc).json["verified"] is True and verify(world, roc_vc).json["verified"] is True
        alfa_list = list_path(world, alfa_vc)
        assert alfa_list.startswith("/issuers/alfa/status/")
        doc = get_list(world, alfa_list)
        assert doc["issuer"] == alfa.did and doc["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
        # the primary neither serves nor signs alfa's list (same name, its own list or none)
        old = server.client().get("/status/" + alfa_list.rsplit("/", 1)[-1])
        assert old.status == 404 or old.json["issuer"] == roc.did
        assert revoke(world, "/issuers/alfa/credentials/status", roc, alfa_vc["id"]).status == 200
        assert verify(world, alfa_vc).json["verified"] is False and verify(world, roc_vc).json["verified"] is True
