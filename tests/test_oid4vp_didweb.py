"""did:web verifiers (issue 19, item 1): an employer signs OpenID4VP requests as
``decentralized_identifier:did:web:...`` with its own key, and the wallet checks them against a
DID document it was given, never fetched.

Attack classes, each with variants, each refused by name: a ``kid`` of another DID (another
did:web, a did:key of the very same key); a document that does not list the ``kid`` (another
key's document, a document of another DID); a ``kid`` listed but not for authentication or
assertionMethod (key agreement only, bare ``verificationMethod``); a listed ``kid`` whose key
did not sign; an unknown did:web (refused, and nothing is fetched). The verifier side: a key
the given document does not authorise is refused before anything is written, and a folder
keeps the identity it was made with.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oid4vp_support import LASSER, World, free_port, make_world, run, verifier_server
from skillcred._internal import base64url
from skillcred._internal.fileio import load_json_object
from skillcred.did import key_did_url, web_did_document
from skillcred.errors import InvalidArgument, Oid4vpRequestInvalid, StoreError
from skillcred.keys import KeyPair, write_key_file
from skillcred.match import load_profile
from skillcred.oid4vp import (
    client_id_for,
    new_request_payload,
    query_from_profile,
    sign_request_object,
    verify_request_object,
)
from skillcred.oid4vp._store import DID_DOCUMENT_FILE, KEY_FILE, VerifierStore
from skillcred.wallet import Wallet
from support.cli import CliResult

LOOPBACK = "--unsafe-allow-http-loopback"
DID = "did:web:werk.example"
OTHER = "did:web:nep-werk.example"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("oid4vp-didweb"))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every attempt to open a connection or a URL is recorded and fails: a did:web must never
    be fetched by the wallet."""
    tried: list[str] = []

    def refuse(*args: Any, **kw: Any) -> Any:
        tried.append(repr(args[:1]))
        raise OSError("network use in a test of offline resolution")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return tried


def _payload(world: World, did: str = DID) -> dict[str, Any]:
    query = query_from_profile(load_profile(LASSER), raw_requirements=load_json_object(LASSER)["requirements"])
    return new_request_payload(client_id=client_id_for(did), response_uri="https://werk.example/oid4vp/response",
                               dcql_query=query, purpose="Vacature lasser", client_name="Werk BV")


def _sign_raw(payload: dict[str, Any], key: KeyPair, kid: str) -> str:
    """A request object signed with any ``kid`` (sign_request_object refuses a kid of another DID,
    an attacker's signer does not)."""
    header = {"alg": key.public_key.jws_algorithm, "kid": kid, "typ": "oauth-authz-req+jwt"}
    head = base64url.encode(json.dumps(header).encode()) + "." + base64url.encode(json.dumps(payload).encode())
    return head + "." + base64url.encode(key.sign(head.encode("ascii")))


def _reason(call: Any, *args: Any, **kw: Any) -> Oid4vpRequestInvalid:
    with pytest.raises(Oid4vpRequestInvalid) as info:
        call(*args, **kw)
    return info.value


# -- the wallet: verify_request_object ------------------------------------------------------------


def test_a_did_web_request_verifies_against_the_given_document(world: World, tmp_path: Path,
                                                               no_network: list[str]) -> None:
    key = KeyPair.generate()
    store = VerifierStore.init(tmp_path / "v", key=key, did=DID)
    doc = store.did_document()
    assert doc["id"] == DID and store.verification_method in doc["authentication"]
    token = sign_request_object({**_payload(world), "client_id": store.client_id}, store.key(),
                                kid=store.verification_method)
    claims = verify_request_object(token, expected_client_id="decentralized_identifier:" + DID, did_documents=[doc])
    assert claims["client_id"] == "decentralized_identifier:" + DID
    # a document listing the key for assertionMethod only speaks for the DID as well
    vm = doc["verificationMethod"][0]
    only_assert = {"id": DID, "verificationMethod": [vm], "assertionMethod": [vm["id"]]}
    assert verify_request_object(token, did_documents=[only_assert])["nonce"] == claims["nonce"]
    assert no_network == []


@pytest.mark.parametrize("kid_of", ["other_did_web", "did_key_of_same_key", "no_fragment"])
def test_a_kid_of_another_did_is_refused(world: World, kid_of: str) -> None:
    key = KeyPair.generate()
    doc = web_did_document(DID, [key.public_key])
    other_doc = web_did_document(OTHER, [key.public_key])
    kid = {"other_did_web": other_doc["verificationMethod"][0]["id"],
           "did_key_of_same_key": key_did_url(key.public_key), "no_fragment": DID}[kid_of]
    token = _sign_raw(_payload(world), key, kid)
    exc = _reason(verify_request_object, token, did_documents=[doc, other_doc])
    assert exc.reason == "client_id_mismatch" and DID in str(exc)


def test_a_document_that_does_not_list_the_kid_is_refused(world: World) -> None:
    key, other_key = KeyPair.generate(), KeyPair.generate()
    signed_as = f"{DID}#{key.public_key.multikey}"
    token = _sign_raw(_payload(world), key, signed_as)
    # the employer's real document lists only its other key
    exc = _reason(verify_request_object, token, did_documents=[web_did_document(DID, [other_key.public_key])])
    assert exc.reason == "client_id_unresolved" and "is not a verification method of " + DID in str(exc)
    # a document listing the key, but for another DID, does not make it the employer's
    exc = _reason(verify_request_object, token, did_documents=[web_did_document(OTHER, [key.public_key])])
    assert exc.reason == "client_id_unresolved" and DID in str(exc)


@pytest.mark.parametrize("listed_under", ["keyAgreement", "capabilityDelegation", None])
def test_a_kid_not_authorised_for_authentication_or_assertion_is_refused(world: World,
                                                                         listed_under: str | None) -> None:
    key = KeyPair.generate()
    vm = web_did_document(DID, [key.public_key])["verificationMethod"][0]
    doc: dict[str, Any] = {"id": DID, "verificationMethod": [vm]}
    if listed_under:
        doc[listed_under] = [vm["id"]]
    token = _sign_raw(_payload(world), key, vm["id"])
    exc = _reason(verify_request_object, token, did_documents=[doc])
    assert exc.reason == "request_key_not_authorized" and vm["id"] in str(exc)


def test_a_listed_kid_whose_key_did_not_sign_is_refused(world: World) -> None:
    key, forger = KeyPair.generate(), KeyPair.generate()
    doc = web_did_document(DID, [key.public_key])
    token = _sign_raw(_payload(world), forger, doc["verificationMethod"][0]["id"])
    assert _reason(verify_request_object, token, did_documents=[doc]).reason == "request_signature_invalid"


@pytest.mark.parametrize("given", ["nothing", "another_dids_document"])
def test_an_unknown_did_web_is_refused_without_a_fetch(world: World, no_network: list[str], given: str) -> None:
    key = KeyPair.generate()
    doc = web_did_document(DID, [key.public_key])
    token = sign_request_object(_payload(world), key, kid=doc["verificationMethod"][0]["id"])
    docs = [] if given == "nothing" else [web_did_document(OTHER, [key.public_key])]
    exc = _reason(verify_request_object, token, did_documents=docs)
    assert exc.reason == "client_id_unresolved"
    assert DID in str(exc) and "never fetches" in str(exc) and "(verifier_did_document)" in str(exc)
    assert no_network == []


# -- the verifier's folder ------------------------------------------------------------------------


def test_the_verifier_adopts_a_key_its_published_document_authorises(tmp_path: Path) -> None:
    key, other = KeyPair.generate(), KeyPair.generate()
    published = web_did_document(DID, [other.public_key, key.public_key])
    store = VerifierStore.init(tmp_path / "v", key=key, did=DID, did_document=published)
    assert store.verification_method == f"{DID}#{key.public_key.multikey}"  # the method of this key
    assert store.did_document() == published and store.key().public_key == key.public_key


@pytest.mark.parametrize("case", ["key_not_listed", "key_agreement_only", "document_of_another_did",
                                  "did_key_mismatch"])
def test_a_key_the_document_does_not_authorise_is_refused_before_writing(tmp_path: Path, case: str) -> None:
    key, other = KeyPair.generate(), KeyPair.generate()
    vm = web_did_document(DID, [key.public_key])["verificationMethod"][0]
    kw: dict[str, Any] = {
        "key_not_listed": {"did": DID, "did_document": web_did_document(DID, [other.public_key])},
        "key_agreement_only": {"did": DID, "did_document": {"id": DID, "verificationMethod": [vm],
                                                          "keyAgreement": [vm["id"]]}},
        "document_of_another_did": {"did": DID, "did_document": web_did_document(OTHER, [key.public_key])},
        "did_key_mismatch": {"did": key_did_url(other.public_key).split("#")[0]},
    }[case]
    with pytest.raises(InvalidArgument):
        VerifierStore.init(tmp_path / "v", key=key, **kw)
    assert not (tmp_path / "v").exists()


def test_a_swapped_key_file_is_caught(tmp_path: Path) -> None:
    store = VerifierStore.init(tmp_path / "v", key=KeyPair.generate(), did=DID)
    (tmp_path / "v" / KEY_FILE).unlink()
    write_key_file(tmp_path / "v" / KEY_FILE, KeyPair.generate())
    with pytest.raises(StoreError, match="is not the key of"):
        store.key()


# -- the command line, both sides -----------------------------------------------------------------


@pytest.fixture(scope="module")
def employer(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A did:web employer made by ``request new --verifier-key --verifier-did`` and served;
    yields (folder, the request URI)."""
    base = tmp_path_factory.mktemp("didweb-employer")
    run("keys", "generate", "-o", str(base / "werk.pem"), cwd=world.dir)
    folder, port = base / "v", free_port()
    url = f"http://127.0.0.1:{port}"
    proc = run("request", "new", "--profile", str(LASSER), "--verifier-url", url, LOOPBACK, "--verifier",
               str(folder), "--no-qr", "--verifier-key", str(base / "werk.pem"), "--verifier-did", DID,
               "--name", "Werk BV", "--purpose", "Vacature lasser", cwd=world.dir)
    # the employer is told where to publish the document and that wallets are given it
    assert str(folder / DID_DOCUMENT_FILE) in proc.stderr and "https://werk.example/.well-known/did.json" in proc.stderr
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SKILLCRED_PASSPHRASE", "pw")  # the command line encrypted the folder's key copy with it
        with verifier_server(world, folder, port=port):
            yield folder, proc.stdout.splitlines()[0]


@pytest.mark.loopback
def test_a_did_web_employers_request_is_answered_with_its_given_document(world: World,
                                                                        employer: tuple[Path, str]) -> None:
    folder, uri = employer
    assert uri.startswith("openid4vp://?client_id=decentralized_identifier%3Adid%3Aweb%3Awerk.example&")
    proc = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", uri, "--yes", "--verifier-did-document",
               str(folder / DID_DOCUMENT_FILE), cwd=world.dir)
    # the worker is shown the did:web (the employer's domain) before anything goes out
    assert f"Werk BV -- {DID}" in proc.stderr and "accepted" in proc.stderr
    out = json.loads(run("request", "results", "--verifier", str(folder), "--json", cwd=world.dir).stdout)
    assert out["responses"][-1]["verified"] and out["responses"][-1]["holder"] == world.holder


@pytest.mark.loopback
def test_a_wallet_without_the_document_refuses_and_sends_nothing(world: World, employer: tuple[Path, str]) -> None:
    folder, uri = employer
    before = len(json.loads(run("request", "results", "--verifier", str(folder), "--json", cwd=world.dir,
                                ok=False).stdout)["responses"])
    proc = run("present", "--wallet", "w2", LOOPBACK, "--oid4vp", uri, "--yes", cwd=world.dir, ok=False)
    assert proc.returncode == 2 and "client_id_unresolved" in proc.stderr and DID in proc.stderr
    assert "--verifier-did-document" in proc.stderr
    # a forged document (another key under the employer's DID) is refused as well
    forged = world.dir / "forged-did.json"
    forged.write_text(json.dumps(web_did_document(DID, [KeyPair.generate().public_key])))
    proc = run("present", "--wallet", "w2", LOOPBACK, "--oid4vp", uri, "--yes", "--verifier-did-document",
               str(forged), cwd=world.dir, ok=False)
    assert proc.returncode == 2 and "client_id_unresolved" in proc.stderr
    after = json.loads(run("request", "results", "--verifier", str(folder), "--json", cwd=world.dir,
                           ok=False).stdout)["responses"]
    assert len(after) == before  # nothing reached the verifier


@pytest.mark.loopback
def test_a_document_kept_in_the_wallet_is_used(world: World, employer: tuple[Path, str],
                                               tmp_path: Path) -> None:
    folder, uri = employer
    Wallet.open(world.other_wallet).remember_did_documents([load_json_object(folder / DID_DOCUMENT_FILE)])
    proc = run("present", "--wallet", "w2", LOOPBACK, "--oid4vp", uri, "--yes", cwd=world.dir)
    assert "accepted" in proc.stderr


def test_request_new_refuses_bad_verifier_identities_in_one_line(world: World, tmp_path: Path) -> None:
    run("keys", "generate", "-o", str(tmp_path / "k.pem"), cwd=world.dir)
    other = tmp_path / "other.json"
    other.write_text(json.dumps(web_did_document(DID, [KeyPair.generate().public_key])))
    base = ["request", "new", "--profile", str(LASSER), "--verifier-url", "https://werk.example", "--no-qr"]
    for extra, needle in [
        (["--verifier-did", DID], "--verifier-key"),
        (["--verifier-key", str(tmp_path / "k.pem"), "--verifier-did-document", str(other)], "--verifier-did"),
        (["--verifier-key", str(tmp_path / "k.pem"), "--verifier-did", "https://werk.example"], "did:web"),
        (["--verifier-key", str(tmp_path / "k.pem"), "--verifier-did", DID, "--verifier-did-document", str(other)],
         "lists no verification method with this key"),
    ]:
        proc = run(*base, "--verifier", str(tmp_path / "v"), *extra, cwd=world.dir, ok=False)
        assert_oneline(proc, needle)
        assert not (tmp_path / "v").exists()  # nothing half-made
    # a folder keeps the identity it was made with
    run(*base, "--verifier", str(tmp_path / "v"), cwd=world.dir)
    proc = run(*base, "--verifier", str(tmp_path / "v"), "--verifier-key", str(tmp_path / "k.pem"),
               "--verifier-did", DID, cwd=world.dir, ok=False)
    assert_oneline(proc, "already signs requests as did:key:")


def assert_oneline(proc: CliResult, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("skillcred: error:")]
    assert len(errors) == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
