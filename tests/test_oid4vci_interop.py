"""OpenID4VCI on loopback, both directions, with another implementation: ``@openid4vc/openid4vci``
0.4.6 (and ``@openid4vc/oauth2``), pinned in ``tests/interop/oid4vci/``.

* its wallet receives from ``skillcred serve`` in each format (its zod checks of the offer,
  metadata, token, nonce and credential responses pass), with ES256 and EdDSA key proofs, a JWK
  or a did:key in the header;
* ``skillcred wallet receive`` receives from an issuer built with the same packages;
* the endpoints refuse, with the spec's error, a replayed offer, a reused pre-authorized code, a
  key proof with a wrong nonce / audience / algorithm, a wrong transaction code and an expired
  offer;
* a received credential verifies, matches and revokes exactly like one issued by file.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from conftest import REPO
from interop_support import node_or_skip, peer_dir, run_node
from service_support import Client, IssuerSetup, Server, free_port, make_issuer, start_server
from skillcred.did import DidResolver, key_did
from skillcred.errors import SkillcredSecurityWarning
from skillcred.issuer import load_achievement
from skillcred.keys import KeyPair, PublicKey
from skillcred.oid4vci import OfferInput, create_offers, make_key_proof, parse_offer_uri
from skillcred.oid4vci.offers import PRE_AUTHORIZED_GRANT
from skillcred.proofs import check_proofs
from skillcred.registry import Registry
from skillcred.sdjwt_vc import VCT_BY_KIND
from skillcred.secured import SecuredCredential
from support.cli import CliResult, clean_env, run_cli

pytestmark = pytest.mark.loopback

#: the test service is plain http on 127.0.0.1: the wallet and offer need the unsafe switch for it
LOOPBACK = "--unsafe-allow-http-loopback"
MIG = REPO / "examples" / "achievements" / "mig-mag-lassen.yaml"
LASSER = REPO / "examples" / "profiles" / "lasser.json"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def cli(*args: str | Path, check: bool = True) -> CliResult:
    """The command line in this process (run_cli; the file is ``loopback``, so it reaches the
    test's servers and node peers as a child did), with no ``SKILLCRED_*`` settings."""
    proc = run_cli(*args, env=clean_env())
    assert "Traceback" not in proc.stderr, proc.stderr
    if check:
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


def assert_oneline(proc: CliResult, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("skillcred: error:")]
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


@dataclass
class World:
    setup: IssuerSetup
    server: Server
    url: str
    root: Path

    def offer(self, fmt: str = "jwt_vc_json", *, tx_code: bool = False, name: str = "Jan Jansen"
              ) -> tuple[str, str | None]:
        args = ["offer", "--issuer", self.setup.folder, "--achievement", MIG, "--subject-name", name,
                "--level", "3", "--format", fmt, "--public-url", self.url, LOOPBACK]
        proc = cli(*args, *(["--tx-code"] if tx_code else []))
        tx = next((line.split()[2] for line in proc.stderr.splitlines() if line.startswith("transaction code:")),
                  None)
        return proc.stdout.splitlines()[0], tx

    def client(self) -> Client:
        return self.server.client()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("oid4vci")
    setup = make_issuer(root)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(setup, "--public-url", url, port=port)
    yield World(setup, server, url, root)
    server.stop()


@pytest.fixture
def wallet(tmp_path: Path) -> tuple[Path, str]:
    folder = tmp_path / "wallet"
    holder = cli("wallet", "init", "--wallet", folder).stdout.splitlines()[0]
    return folder, holder


def _peer_checks(world: World, result: dict[str, Any], fmt: str) -> dict[str, Any]:
    """What the peer wallet got: the credential of the offer, about the peer's key, verifying."""
    assert result["format"] == fmt and result["token_type"] == "Bearer"
    assert result["authorization_servers"] == [world.url]
    (credential,) = result["credentials"]
    holder = result["holder"]
    assert holder == key_did(PublicKey.from_jwk(result["holder_jwk"]))
    if fmt == "ldp_vc":
        report = check_proofs(credential, resolver=DidResolver(), expected_purpose="assertionMethod")
        assert report.verified and list(report.controllers) == [world.setup.did]
        claims = credential
    else:
        opened = SecuredCredential.from_file_bytes(credential.encode()).open(resolver=DidResolver())
        assert opened.format == ("jwt" if fmt == "jwt_vc_json" else "sd-jwt")
        claims = opened.document
    if fmt == "dc+sd-jwt":  # a real SD-JWT VC: the peer checked typ, vct (= the metadata's) and cnf
        assert opened.typ == "dc+sd-jwt" and result["vct"] == VCT_BY_KIND["skill"]
        (seen,) = result["sd_jwt_vc"]
        assert seen["vct"] == result["vct"] and "/tokens/" in seen["status"]["status_list"]["uri"]
        assert claims["vct"] == result["vct"]  # the verifier's Open Badges reading of the flat claims
    assert claims["credentialSubject"]["id"] == holder
    assert claims["issuer"]["id"] == world.setup.did
    with Registry.open(world.setup.folder / "registry.sqlite") as reg:
        (record,) = [r for r in reg.records() if r.id == claims["id"]]
    assert record.subject == holder and record.row_key and record.row_key.startswith("oid4vci:")
    return claims


# --------------------------------------------------------------------------------------------
# the peer wallet receives from skillcred serve


@pytest.mark.parametrize(("fmt", "alg", "signer", "tx"), [
    ("jwt_vc_json", "ES256", "jwk", False),
    ("jwt_vc_json", "EdDSA", "did", True),
    ("ldp_vc", "EdDSA", "did", False),
    ("ldp_vc", "ES256", "jwk", True),
    ("dc+sd-jwt", "ES256", "jwk", True),
    ("dc+sd-jwt", "EdDSA", "did", False),
])
def test_the_peer_wallet_receives_from_skillcred_serve(world: World, fmt: str, alg: str, signer: str,
                                                       tx: bool) -> None:
    uri, tx_code = world.offer(fmt, tx_code=tx)
    result = run_node("oid4vci", "wallet.mjs", input_json={"offer": uri, "alg": alg, "signer": signer,
                                                           "tx_code": tx_code})
    _peer_checks(world, result, fmt)


def test_the_peer_wallet_cannot_redeem_an_offer_twice(world: World) -> None:
    uri, _ = world.offer()
    run_node("oid4vci", "wallet.mjs", input_json={"offer": uri})
    folder = peer_dir("oid4vci")
    proc = subprocess.run([node_or_skip(), str(folder / "wallet.mjs")], input=json.dumps({"offer": uri}),
                          capture_output=True, text=True, cwd=folder, timeout=300, check=False)
    assert proc.returncode != 0 and "invalid_grant" in proc.stderr


# --------------------------------------------------------------------------------------------
# skillcred wallet receive from the peer issuer


PEER_CLAIMS = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "urn:uuid:4d1e1d0e-7a57-4f0e-9c55-1f3c0b6a0001",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "name": "Heftruck rijden",
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {
        "id": "filled-in-by-the-peer", "type": ["AchievementSubject"],
        "achievement": {"id": "https://peer.example/achievements/heftruck", "type": ["Achievement"],
                        "name": "Heftruck rijden", "description": "Heftruck rijden (EN-ISO 3691)",
                        "criteria": {"narrative": "Praktijkexamen"}},
    },
}


@contextlib.contextmanager
def peer_issuer(fmt: str, tx_code: str | None) -> Iterator[tuple[dict[str, Any], subprocess.Popen[str]]]:
    """The peer issuer on a loopback port: its first stdout line says where, and the offer."""
    folder = peer_dir("oid4vci")
    proc = subprocess.Popen([node_or_skip(), str(folder / "issuer.mjs")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps({"claims": PEER_CLAIMS, "format": fmt, "tx_code": tx_code}))
        proc.stdin.close()
        line = proc.stdout.readline()
        assert line, f"the peer issuer did not start: {proc.stderr.read() if proc.stderr else ''}"
        yield json.loads(line), proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _events(proc: subprocess.Popen[str]) -> list[dict[str, Any]]:
    proc.terminate()
    proc.wait(timeout=30)
    assert proc.stderr is not None
    return [json.loads(line) for line in proc.stderr.read().splitlines() if line.startswith("{")]


@pytest.mark.parametrize("fmt", ["jwt_vc_json", "dc+sd-jwt"])
def test_skillcred_wallet_receives_from_the_peer_issuer(wallet: tuple[Path, str], fmt: str) -> None:
    folder, holder = wallet
    with peer_issuer(fmt, "4321") as (started, proc):
        received = cli("wallet", "receive", "--wallet", folder, LOOPBACK, started["offer"], "--tx-code", "4321",
                       "--yes")
        events = _events(proc)
    assert received.stdout.splitlines()[0] == PEER_CLAIMS["id"]
    assert "Peer Institute" in received.stderr and f"[{fmt}]" in received.stderr
    proofs = [e for e in events if e["event"] == "proof"]
    assert proofs == [{"event": "proof", "holder": holder, "method": "did", "alg": "EdDSA"}]
    listing = json.loads(cli("wallet", "list", "--wallet", folder, "--json").stdout)
    assert [e["id"] for e in listing] == [PEER_CLAIMS["id"]]


def test_skillcred_wallet_receive_with_a_wrong_tx_code_stores_nothing(wallet: tuple[Path, str]) -> None:
    folder, _ = wallet
    with peer_issuer("jwt_vc_json", "4321") as (started, _proc):
        assert_oneline(cli("wallet", "receive", "--wallet", folder, LOOPBACK, started["offer"], "--tx-code", "9999",
                           "--yes", check=False), "invalid_grant")
        assert_oneline(cli("wallet", "receive", "--wallet", folder, LOOPBACK, started["offer"], "--yes", check=False),
                       "transaction code", "--tx-code")
    assert json.loads(cli("wallet", "list", "--wallet", folder, "--json").stdout) == []


# --------------------------------------------------------------------------------------------
# refusals over HTTP, with the spec's error


def _token(world: World, code: str, tx_code: str | None = None) -> Any:
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
    if tx_code is not None:
        form["tx_code"] = tx_code
    return world.client().post("/oid4vci/token", raw=urlencode(form).encode(), headers=FORM)


def _code(uri: str) -> str:
    return str(parse_offer_uri(uri)["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"])


def test_a_replayed_offer_is_refused(world: World, wallet: tuple[Path, str]) -> None:
    folder, _ = wallet
    uri, _ = world.offer()
    first = cli("wallet", "receive", "--wallet", folder, LOOPBACK, uri, "--yes")
    assert_oneline(cli("wallet", "receive", "--wallet", folder, LOOPBACK, uri, "--yes", check=False),
                   "invalid_grant", "already been redeemed")
    assert len(json.loads(cli("wallet", "list", "--wallet", folder, "--json").stdout)) == 1
    assert first.stdout.splitlines()[0].startswith("urn:uuid:")


def test_receive_without_a_terminal_needs_yes_and_takes_nothing(world: World, wallet: tuple[Path, str]) -> None:
    folder, _ = wallet
    uri, _ = world.offer()
    assert_oneline(cli("wallet", "receive", "--wallet", folder, LOOPBACK, uri, check=False), "--yes")
    assert _token(world, _code(uri)).status == 200  # the offer was not redeemed


def test_a_reused_pre_authorized_code_is_invalid_grant(world: World) -> None:
    uri, _ = world.offer()
    ok = _token(world, _code(uri))
    assert ok.status == 200 and ok.json["token_type"] == "Bearer"
    assert ok.headers["cache-control"] == "no-store"
    again = _token(world, _code(uri))
    assert (again.status, again.json["error"]) == (400, "invalid_grant")
    assert again.headers["cache-control"] == "no-store"


def test_a_wrong_transaction_code_is_invalid_grant_and_a_missing_one_invalid_request(world: World) -> None:
    uri, tx = world.offer(tx_code=True)
    assert tx is not None
    missing = _token(world, _code(uri))
    assert (missing.status, missing.json["error"]) == (400, "invalid_request")
    wrong = _token(world, _code(uri), f"{(int(tx) + 1) % 10**6:06d}")
    assert (wrong.status, wrong.json["error"]) == (400, "invalid_grant")
    assert _token(world, _code(uri), tx).status == 200


def test_an_expired_offer_is_invalid_grant(world: World) -> None:
    with Registry.open(world.setup.folder / "registry.sqlite") as reg:
        with pytest.warns(SkillcredSecurityWarning, match="unsafe_allow_http_loopback"):
            (offer,) = create_offers(reg, [OfferInput(load_achievement(MIG), "Jan Jansen", "3")],
                                     credential_issuer=world.url, valid_seconds=60, now=int(time.time()) - 120,
                                     unsafe_allow_http_loopback=True)
    reply = _token(world, _code(offer.uri))
    assert (reply.status, reply.json["error"]) == (400, "invalid_grant")
    assert "expired" in reply.json["error_description"]


def _redeemed(world: World, fmt: str = "jwt_vc_json") -> tuple[str, str]:
    uri, _ = world.offer(fmt)
    token = _token(world, _code(uri)).json["access_token"]
    return token, parse_offer_uri(uri)["credential_configuration_ids"][0]


def _credential(world: World, token: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return world.client().post("/oid4vci/credential", body, headers=headers)


def _nonce(world: World) -> str:
    reply = world.client().post("/oid4vci/nonce", raw=b"")
    assert reply.status == 200 and reply.headers["cache-control"] == "no-store"
    return str(reply.json["c_nonce"])


@pytest.mark.parametrize(("proof_kw", "error"), [
    ({"nonce": "not-the-issuers-nonce"}, "invalid_nonce"),
    ({"nonce": None}, "invalid_nonce"),
    ({"audience": "https://evil.example"}, "invalid_proof"),
    ({"audience": "http://127.0.0.1:1"}, "invalid_proof"),
    ({"key_type": "p384"}, "invalid_proof"),  # ES384: not an accepted algorithm
])
def test_key_proofs_with_a_wrong_nonce_audience_or_algorithm_are_refused(world: World, proof_kw: dict[str, Any],
                                                                         error: str) -> None:
    token, cid = _redeemed(world)
    key = KeyPair.generate(proof_kw.pop("key_type", "ed25519"))
    proof_kw.setdefault("audience", world.url)
    proof_kw.setdefault("nonce", _nonce(world))
    if key.key_type == "p384":
        from skillcred._internal.base64url import encode as b64u

        head = b64u(json.dumps({"typ": "openid4vci-proof+jwt", "alg": "ES384",
                                "kid": f"{key_did(key.public_key)}#{key.public_multikey}"}).encode())
        body = b64u(json.dumps({"aud": world.url, "iat": int(time.time()), "nonce": proof_kw["nonce"]}).encode())
        proof = f"{head}.{body}.{b64u(key.sign(f'{head}.{body}'.encode()))}"
    else:
        proof = make_key_proof(key, **proof_kw)
    reply = _credential(world, token, {"credential_configuration_id": cid, "proofs": {"jwt": [proof]}})
    assert (reply.status, reply.json["error"]) == (400, error), reply.json
    good = make_key_proof(key if key.key_type != "p384" else KeyPair.generate("p256"), audience=world.url,
                          nonce=_nonce(world))
    assert _credential(world, token, {"credential_configuration_id": cid, "proofs": {"jwt": [good]}}).status == 200


def test_the_credential_endpoint_needs_the_access_token_once(world: World) -> None:
    token, cid = _redeemed(world)
    key = KeyPair.generate("ed25519")

    def body() -> dict[str, Any]:
        return {"credential_configuration_id": cid,
                "proofs": {"jwt": [make_key_proof(key, audience=world.url, nonce=_nonce(world))]}}

    missing = _credential(world, None, body())
    assert missing.status == 401 and missing.json["error"] == "invalid_token"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert _credential(world, token, {**body(), "credential_configuration_id": "x"}).json["error"] == \
        "unsupported_credential_configuration"
    assert _credential(world, token, body()).status == 200
    again = _credential(world, token, body())
    assert (again.status, again.json["error"]) == (401, "invalid_token")


def test_token_requests_must_be_small_forms(world: World) -> None:
    as_json = world.client().post("/oid4vci/token", {"grant_type": PRE_AUTHORIZED_GRANT})
    assert (as_json.status, as_json.json["error"]) == (400, "invalid_request")
    big = world.client().post("/oid4vci/token", raw=b"a=" + b"b" * 5000, headers=FORM)
    assert big.status == 413 and big.json["error"] == "invalid_request"
    bad = world.client().post("/oid4vci/credential", raw=b"{not json", headers={"Authorization": "Bearer x"})
    assert (bad.status, bad.json["error"]) == (400, "invalid_credential_request")


def test_the_metadata_points_at_the_public_url(world: World) -> None:
    uri, _ = world.offer("ldp_vc")
    meta = world.client().get("/.well-known/openid-credential-issuer").json
    assert meta["credential_issuer"] == world.url
    assert meta["credential_endpoint"] == f"{world.url}/oid4vci/credential"
    assert meta["nonce_endpoint"] == f"{world.url}/oid4vci/nonce"
    assert parse_offer_uri(uri)["credential_configuration_ids"][0] in meta["credential_configurations_supported"]
    as_meta = world.client().get("/.well-known/oauth-authorization-server").json
    assert as_meta["issuer"] == world.url and as_meta["token_endpoint"] == f"{world.url}/oid4vci/token"
    assert as_meta["grant_types_supported"] == [PRE_AUTHORIZED_GRANT]


# --------------------------------------------------------------------------------------------
# received = issued by file


def test_a_received_credential_verifies_matches_and_revokes_like_one_issued_by_file(
        world: World, wallet: tuple[Path, str], tmp_path: Path) -> None:
    folder, holder = wallet
    issuer_dir = world.setup.folder
    by_file = tmp_path / "by-file.json"
    cli("issue", "--issuer", issuer_dir, "--achievement", MIG, "--subject", holder, "--name", "Jan Jansen",
        "--level", "3", "-o", by_file)
    file_id = json.loads(by_file.read_text())["id"]
    cli("wallet", "add", "--wallet", folder, by_file)
    uri, _ = world.offer("ldp_vc")
    received_id = cli("wallet", "receive", "--wallet", folder, LOOPBACK, uri, "--yes").stdout.splitlines()[0]

    def outcome(cred_id: str, status_dir: Path) -> tuple[int, list[tuple[str, str, str]], int, Any]:
        vp = tmp_path / f"vp-{cred_id[-6:]}.json"
        cli("present", "--wallet", folder, "--select", cred_id, "--challenge", "c-1", "--domain", "werkgever.example",
            "-o", vp)
        # every published list, the Token Status Lists (tokens/*.jwt, there once an SD-JWT VC is issued) too
        lists = [a for p in sorted(status_dir.rglob("*")) if p.is_file() and p.name != "index.json"
                 for a in ("--status-list", p)]
        verified = cli("verify", vp, "--trust", world.setup.trust_file, "--challenge", "c-1", "--domain",
                       "werkgever.example", "--json", *lists, check=False)
        checks = sorted((c["id"].split(".", 1)[-1], c["status"], c.get("code", ""))
                        for c in json.loads(verified.stdout)["checks"])
        matched = cli("match", vp, "--profile", LASSER, "--trust", world.setup.trust_file, "--challenge", "c-1",
                      "--domain", "werkgever.example", "--json", *lists, check=False)
        report = json.loads(matched.stdout)
        graded = sorted((r["skill"], r["status"], r["level"]) for r in report["requirements"]
                        if r["status"] != "missing")
        return verified.returncode, checks, matched.returncode, (graded, report["score"], report["coverage"])

    before = tmp_path / "status-before"
    cli("status", "publish", "--issuer", issuer_dir, "--out-dir", before)
    a, b = outcome(file_id, before), outcome(received_id, before)
    assert a[0] == 0 and a[:2] == b[:2]
    assert a[2:] == b[2:]
    assert ("http://data.europa.eu/esco/skill/60ff3eac-7d4d-4e51-87b8-74c3b5d62498", "met", 3) in a[3][0]
    for cred_id in (file_id, received_id):
        cli("revoke", "--issuer", issuer_dir, cred_id)
    after = tmp_path / "status-after"
    cli("status", "publish", "--issuer", issuer_dir, "--out-dir", after)
    a, b = outcome(file_id, after), outcome(received_id, after)
    assert a[0] == 1 and a[:2] == b[:2] and a[2:] == b[2:]
    assert a[3][0] == []  # a revoked credential counts for nothing
    assert ("status", "failed", "revoked") in [(c[0].rsplit(".", 1)[-1], c[1], c[2]) for c in a[1]]
