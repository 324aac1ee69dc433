"""Protocol hardening: https only on both wallet sides (plain http to this machine only behind
``--unsafe-allow-http-loopback``, which warns), the URLs issuers and verifiers put in offers and
requests, issuer metadata that lists only what is still on offer, and ``verify`` reading a
baked badge directly.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from skillcred._internal.fileio import load_json_object
from skillcred._internal.urlpolicy import is_loopback_host, url_refusal
from skillcred.badge import bake, plain_badge
from skillcred.did import key_did, key_did_url
from skillcred.errors import InvalidArgument, Oid4vciError, Oid4vpRequestInvalid, SkillcredSecurityWarning
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.match import load_profile
from skillcred.oid4vci import OfferInput, Oid4vciIssuer, create_offers, receive
from skillcred.oid4vci.issuer import MAX_TX_ATTEMPTS, TOKEN_SECONDS
from skillcred.oid4vci.offers import PRE_AUTHORIZED_GRANT, offer_uri
from skillcred.oid4vci.wallet import _Http
from skillcred.oid4vp import (
    client_id_for,
    fetch_request_object,
    new_request_payload,
    post_response,
    query_from_profile,
    sign_request_object,
    verify_request_object,
)
from skillcred.wallet import Wallet
from support.cli import CliResult, run_cli, user_env
from support.oid4vci_direct import DirectHttp

ACHIEVEMENTS = REPO / "examples" / "achievements"
MIG = ACHIEVEMENTS / "mig-mag-lassen.yaml"
FORKLIFT = ACHIEVEMENTS / "heftruck-certificaat.yaml"
CNC = ACHIEVEMENTS / "cnc-programmeren.yaml"
PROFILE = REPO / "examples" / "profiles" / "cnc-verspaner.json"
LOOPBACK = "--unsafe-allow-http-loopback"
HTTPS = "https://issuer.roc-techniek.example"
PASSPHRASE = "protocol polish passphrase"


# -- the URL rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "localhost", "LocalHost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "192.168.1.1", "::", "127.0.0.1.nip.io",
                                  "localhost.example", "evil-localhost", "", None, "::ffff:8.8.8.8"])
def test_hosts_that_only_look_local_are_not_loopback(host: str | None) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize("url", ["https://a.example/x", "https://127.0.0.1:8443/", "HTTPS://a.example"])
def test_https_is_always_fine(url: str) -> None:
    assert url_refusal(url) is None
    assert url_refusal(url, unsafe_allow_http_loopback=True) is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/x", "http://localhost/x", "http://[::1]:1/x",
                                 "http://127.0.0.5/"])
def test_http_to_this_machine_needs_the_unsafe_switch(url: str) -> None:
    refusal = url_refusal(url)
    assert refusal is not None and "--unsafe-allow-http-loopback" in refusal
    assert url_refusal(url, unsafe_allow_http_loopback=True) is None


@pytest.mark.parametrize("url", ["http://a.example/x", "http://10.0.0.1/x", "http://0.0.0.0:80/",
                                 "http://127.0.0.1.nip.io/", "http://localhost.example/", "file:///etc/passwd",
                                 "ftp://127.0.0.1/", "https:///x", "http:///x", "javascript:alert(1)", "x.example",
                                 "http://[::1"])
def test_other_urls_are_refused_even_with_the_switch(url: str) -> None:
    assert url_refusal(url) is not None
    assert url_refusal(url, unsafe_allow_http_loopback=True) is not None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """For refusals: the switch's own warning (given or not before the refusal) is not the point."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkillcredSecurityWarning)
        yield


# -- OpenID4VCI: the wallet side --------------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[Issuer]:
    init_issuer(tmp_path / "issuer", name="ROC Techniek", url="https://roc-techniek.example")
    iss = Issuer.open(tmp_path / "issuer")
    yield iss
    iss.close()


def _offer(issuer: Issuer, url: str, path: Path = MIG, *, unsafe: bool = False, **kw: Any) -> Any:
    items = [OfferInput(load_achievement(path), "Jan Jansen", "3" if path != FORKLIFT else None)]
    if unsafe:
        with pytest.warns(SkillcredSecurityWarning, match="unsafe_allow_http_loopback"):
            return create_offers(issuer.registry, items, credential_issuer=url, unsafe_allow_http_loopback=True,
                                 **kw)[0]
    return create_offers(issuer.registry, items, credential_issuer=url, **kw)[0]


@pytest.mark.parametrize("base", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"])
def test_a_loopback_http_offer_is_refused_by_default_before_anything_is_fetched(
        tmp_path: Path, issuer: Issuer, base: str) -> None:
    offer = _offer(issuer, base, unsafe=True)
    holder = KeyPair.generate("ed25519")
    wallet = Wallet.init(tmp_path / "w", key=holder)
    http = DirectHttp(Oid4vciIssuer.for_issuer(issuer, base), base)
    with pytest.raises(Oid4vciError) as info:
        receive(wallet, offer.uri, holder, http=http)
    assert info.value.error == "invalid_request" and "--unsafe-allow-http-loopback" in info.value.message
    assert http.calls == [] and wallet.entries() == []


def test_with_the_switch_a_loopback_http_offer_is_received_and_it_warns(tmp_path: Path, issuer: Issuer) -> None:
    base = "http://127.0.0.1:8000"
    offer = _offer(issuer, base, unsafe=True)
    holder = KeyPair.generate("ed25519")
    wallet = Wallet.init(tmp_path / "w", key=holder)
    with pytest.warns(SkillcredSecurityWarning, match="unsafe_allow_http_loopback"):
        result = receive(wallet, offer.uri, holder, http=DirectHttp(Oid4vciIssuer.for_issuer(issuer, base), base),
                         unsafe_allow_http_loopback=True)
    assert [e.id for e in wallet.entries()] == [result.entry.id]


@pytest.mark.parametrize("document", [
    {"credential_issuer": "http://issuer.example"},
    {"credential_issuer": "http://10.0.0.1"},
    {"credential_issuer": "http://127.0.0.1.nip.io"},
])
def test_an_offer_naming_a_plain_http_issuer_elsewhere_is_refused_even_with_the_switch(
        tmp_path: Path, issuer: Issuer, document: dict[str, Any]) -> None:
    real = _offer(issuer, HTTPS)
    forged = offer_uri({**real.document, **document})
    holder = KeyPair.generate("ed25519")
    wallet = Wallet.init(tmp_path / "w", key=holder)
    http = DirectHttp(Oid4vciIssuer.for_issuer(issuer, HTTPS), HTTPS)
    for unsafe in (False, True):
        with pytest.raises(Oid4vciError) as info, _quiet():
            receive(wallet, forged, holder, http=http, unsafe_allow_http_loopback=unsafe)
        assert info.value.error == "invalid_request" and "plain http" in info.value.message
    assert http.calls == [] and wallet.entries() == []


@pytest.mark.parametrize("uri", ["http://127.0.0.1:1/offer/1", "http://issuer.example/offer/1"])
def test_an_offer_by_reference_over_plain_http_is_refused(tmp_path: Path, uri: str) -> None:
    holder = KeyPair.generate("ed25519")
    wallet = Wallet.init(tmp_path / "w", key=holder)
    ref = "openid-credential-offer://?credential_offer_uri=" + uri
    with pytest.raises(Oid4vciError, match="plain http"):
        receive(wallet, ref, holder, http=DirectHttp(None, ""))  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/x", "http://localhost:1/x", "http://[::1]:1/x"])
def test_the_wallet_http_client_refuses_loopback_http_unless_told(url: str) -> None:
    with pytest.raises(Oid4vciError, match="unsafe-allow-http-loopback"):
        _Http().request("GET", url, what="test")
    with pytest.raises(Oid4vciError, match="plain http"):
        _Http(unsafe_allow_http_loopback=True).request("GET", "http://issuer.example/x", what="test")


# -- OpenID4VCI: the offers' URL ----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost", "http://[::1]:9"])
def test_an_offer_to_a_loopback_http_issuer_needs_the_switch(issuer: Issuer, url: str) -> None:
    with pytest.raises(InvalidArgument, match="unsafe-allow-http-loopback"):
        _offer(issuer, url)
    assert issuer.registry.offered_configurations() == {}
    assert _offer(issuer, url, unsafe=True).document["credential_issuer"] == url


@pytest.mark.parametrize("url", ["http://issuer.example", "http://10.1.2.3:8000", "http://localhost.example"])
def test_an_offer_to_a_plain_http_issuer_elsewhere_is_refused_always(issuer: Issuer, url: str) -> None:
    for unsafe in (False, True):
        with pytest.raises(InvalidArgument, match="plain http"), \
                _quiet():
            create_offers(issuer.registry, [OfferInput(load_achievement(MIG), "Jan", "3")], credential_issuer=url,
                          unsafe_allow_http_loopback=unsafe)
    assert issuer.registry.offered_configurations() == {}


# -- OpenID4VCI: the metadata lists only what is on offer --------------------------------------------


def _configs(oid: Oid4vciIssuer) -> set[str]:
    return set(oid.credential_issuer_metadata()["credential_configurations_supported"])


def _code(offer: Any) -> str:
    return str(offer.document["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"])


def test_an_expired_offer_leaves_the_metadata(issuer: Issuer) -> None:
    clock = Clock(time.time())
    oid = Oid4vciIssuer.for_issuer(issuer, HTTPS, clock=clock)
    short = _offer(issuer, HTTPS, valid_seconds=60, now=int(clock.now))
    long = _offer(issuer, HTTPS, FORKLIFT, valid_seconds=3600, now=int(clock.now))
    assert _configs(oid) == {short.configuration_id, long.configuration_id}
    clock.now += 61
    assert _configs(oid) == {long.configuration_id}
    clock.now += 3600
    assert _configs(oid) == set()
    assert set(issuer.registry.offered_configurations()) == {short.configuration_id, long.configuration_id}


def test_a_configuration_stays_while_any_of_its_offers_is_open(issuer: Issuer) -> None:
    clock = Clock(time.time())
    oid = Oid4vciIssuer.for_issuer(issuer, HTTPS, clock=clock)
    old = _offer(issuer, HTTPS, valid_seconds=60, now=int(clock.now) - 120)  # expired already
    fresh = _offer(issuer, HTTPS, valid_seconds=600, now=int(clock.now))
    assert old.configuration_id == fresh.configuration_id
    assert _configs(oid) == {fresh.configuration_id}


def test_a_redeemed_offer_stays_listed_while_its_token_is_valid_then_leaves(issuer: Issuer) -> None:
    clock = Clock(time.time())
    oid = Oid4vciIssuer.for_issuer(issuer, HTTPS, clock=clock)
    offer = _offer(issuer, HTTPS, valid_seconds=60, now=int(clock.now))  # the offer ends before the token
    assert TOKEN_SECONDS > 60
    oid.token({"grant_type": [PRE_AUTHORIZED_GRANT], "pre-authorized_code": [_code(offer)]}, client="w")
    clock.now += 61
    assert _configs(oid) == {offer.configuration_id}  # the wallet is between token and credential
    clock.now += TOKEN_SECONDS
    assert _configs(oid) == set()  # offer and token ran out: nothing can be taken with it any more


def test_an_issued_offer_stays_until_it_expires_so_a_replay_gets_invalid_grant(tmp_path: Path,
                                                                             issuer: Issuer) -> None:
    clock = Clock(time.time())
    oid = Oid4vciIssuer.for_issuer(issuer, HTTPS, clock=clock)
    offer = _offer(issuer, HTTPS, valid_seconds=600, now=int(clock.now))
    holder = KeyPair.generate("ed25519")
    receive(Wallet.init(tmp_path / "w", key=holder), offer.uri, holder, http=DirectHttp(oid, HTTPS))
    assert issuer.registry.offer(offer.id).state == "issued"
    assert _configs(oid) == {offer.configuration_id}
    with pytest.raises(Oid4vciError) as info:  # the replay reaches the token endpoint
        receive(Wallet.init(tmp_path / "w2", key=holder), offer.uri, holder, http=DirectHttp(oid, HTTPS))
    assert info.value.error == "invalid_grant"
    clock.now += 601
    assert _configs(oid) == set()


def test_a_voided_offer_refuses_even_the_right_code(issuer: Issuer) -> None:
    oid = Oid4vciIssuer.for_issuer(issuer, HTTPS)
    offer = _offer(issuer, HTTPS, tx_code=True)
    assert offer.tx_code is not None
    wrong = f"{(int(offer.tx_code) + 1) % 10**6:06d}"
    for _ in range(MAX_TX_ATTEMPTS):
        with pytest.raises(Oid4vciError):
            oid.token({"grant_type": [PRE_AUTHORIZED_GRANT], "pre-authorized_code": [_code(offer)],
                       "tx_code": [wrong]}, client="w")
    assert issuer.registry.offer(offer.id).state == "dead"
    assert _configs(oid) == {offer.configuration_id}  # until it expires: a retry is told invalid_grant
    with pytest.raises(Oid4vciError) as info:
        oid.token({"grant_type": [PRE_AUTHORIZED_GRANT], "pre-authorized_code": [_code(offer)],
                   "tx_code": [offer.tx_code]}, client="w")
    assert info.value.error == "invalid_grant"


def test_an_offer_for_an_expired_configuration_is_told_apart_from_a_live_one(tmp_path: Path, issuer: Issuer) -> None:
    """A wallet holding a stale offer is told its issuer does not offer it (nothing redeemed)."""
    clock = Clock(time.time())
    oid = Oid4vciIssuer.for_issuer(issuer, HTTPS, clock=clock)
    offer = _offer(issuer, HTTPS, valid_seconds=60, now=int(clock.now) - 61)
    holder = KeyPair.generate("ed25519")
    with pytest.raises(Oid4vciError) as info:
        receive(Wallet.init(tmp_path / "w", key=holder), offer.uri, holder, http=DirectHttp(oid, HTTPS))
    assert info.value.error == "unsupported_credential_configuration"
    assert issuer.registry.offer(offer.id).state == "offered"


# -- OpenID4VP: the wallet side --------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/oid4vp/requests/x", "http://localhost:1/r", "http://[::1]:1/r"])
def test_fetching_a_request_over_loopback_http_needs_the_switch(url: str) -> None:
    with pytest.raises(InvalidArgument, match="unsafe-allow-http-loopback"):
        fetch_request_object(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/oid4vp/response", "http://localhost:1/r"])
def test_posting_a_response_over_loopback_http_needs_the_switch(url: str) -> None:
    with pytest.raises(InvalidArgument, match="unsafe-allow-http-loopback"):
        post_response(url, {"q": ["x"]}, "state")


@pytest.mark.parametrize("url", ["http://werk.example/r", "http://10.0.0.1/r", "http://127.0.0.1.nip.io/r",
                                 "ftp://127.0.0.1/r", "file:///etc/passwd"])
def test_plain_http_to_another_machine_is_never_fetched_or_posted_to(url: str) -> None:
    for unsafe in (False, True):
        with pytest.raises(InvalidArgument), _quiet():
            fetch_request_object(url, unsafe_allow_http_loopback=unsafe)
        with pytest.raises(InvalidArgument), _quiet():
            post_response(url, {"q": ["x"]}, "state", unsafe_allow_http_loopback=unsafe)


@pytest.mark.loopback
def test_with_the_switch_loopback_http_is_tried_and_it_warns() -> None:
    """Port 1 on this machine answers nothing: the request is tried (and fails as unreachable)."""
    with pytest.warns(SkillcredSecurityWarning, match="unsafe_allow_http_loopback"), \
            pytest.raises(Oid4vpRequestInvalid) as info:
        fetch_request_object("http://127.0.0.1:1/oid4vp/requests/x", unsafe_allow_http_loopback=True)
    assert info.value.reason == "request_unavailable"
    with pytest.warns(SkillcredSecurityWarning, match="unsafe_allow_http_loopback"), \
            pytest.raises(InvalidArgument, match="cannot reach"):
        post_response("http://127.0.0.1:1/oid4vp/response", {"q": ["x"]}, "s", unsafe_allow_http_loopback=True)


@pytest.mark.parametrize(("response_uri", "ok"), [
    ("https://werk.example/oid4vp/response", True),
    ("http://127.0.0.1:8000/oid4vp/response", True),  # the transport decides (needs the switch to post)
    ("http://werk.example/oid4vp/response", False),
    ("http://10.0.0.1/oid4vp/response", False),
    ("http://localhost.example/oid4vp/response", False),
])
def test_a_request_sending_the_answer_over_plain_http_elsewhere_is_not_answered(response_uri: str, ok: bool) -> None:
    key = KeyPair.generate("ed25519")
    query = query_from_profile(load_profile(PROFILE), raw_requirements=load_json_object(PROFILE)["requirements"])
    payload = new_request_payload(client_id=client_id_for(key_did(key.public_key)), response_uri=response_uri,
                                  dcql_query=query)
    token = sign_request_object(payload, key, kid=key_did_url(key.public_key))
    if ok:
        assert verify_request_object(token)["response_uri"] == response_uri
    else:
        with pytest.raises(Oid4vpRequestInvalid) as info:
            verify_request_object(token)
        assert info.value.reason == "response_uri_invalid"


# -- the CLI ----------------------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return user_env(tmp_path, SKILLCRED_PASSPHRASE=PASSPHRASE, SKILLCRED_STATUS_CACHE=str(tmp_path / "status-cache"))


def run(env: dict[str, str], *args: str | Path, stdin: bytes | None = None) -> CliResult:
    return run_cli(*args, env=env, stdin=stdin)


def assert_oneline(proc: CliResult, *needles: str, warned: bool = False) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    if warned:
        assert lines[0].startswith(f"skillcred: warning: UNSAFE: {LOOPBACK}"), proc.stderr
        lines = lines[1:]
    assert len(lines) == 1 and lines[0].startswith("skillcred: error:"), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def roc(tmp_path: Path, env: dict[str, str]) -> Path:
    folder = tmp_path / "roc"
    proc = run(env, "issuer", "init", folder, "--name", "ROC Techniek", "--url", "https://roc.example")
    assert proc.returncode == 0, proc.stderr
    return folder


def _offers_in(folder: Path) -> int:
    import sqlite3

    with sqlite3.connect(folder / "registry.sqlite") as db:
        return int(db.execute("SELECT COUNT(*) FROM oid4vci_offers").fetchone()[0])


def test_cli_offer_to_loopback_http_needs_the_switch_and_warns(env: dict[str, str], roc: Path) -> None:
    base = ["offer", "--issuer", roc, "--achievement", MIG, "--subject-name", "Jan", "--level", "3"]
    assert_oneline(run(env, *base, "--public-url", "http://127.0.0.1:8000"), LOOPBACK)
    assert _offers_in(roc) == 0
    proc = run(env, *base, "--public-url", "http://127.0.0.1:8000", LOOPBACK)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("openid-credential-offer://")
    warned = [line for line in proc.stderr.splitlines() if line.startswith("skillcred: warning:")]
    assert len(warned) == 1 and LOOPBACK in warned[0]  # once, not also the library's own
    assert _offers_in(roc) == 1


@pytest.mark.parametrize("url", ["http://serve.example", "http://192.168.1.10:8000"])
def test_cli_offer_to_plain_http_elsewhere_is_refused_even_with_the_switch(env: dict[str, str], roc: Path,
                                                                            url: str) -> None:
    base = ["offer", "--issuer", roc, "--achievement", MIG, "--subject-name", "Jan", "--level", "3",
            "--public-url", url]
    assert_oneline(run(env, *base), "plain http")
    assert_oneline(run(env, *base, LOOPBACK), "plain http", warned=True)
    assert _offers_in(roc) == 0


def test_cli_wallet_receive_of_a_loopback_http_offer_needs_the_switch(tmp_path: Path, env: dict[str, str],
                                                                      roc: Path) -> None:
    uri = run(env, "offer", "--issuer", roc, "--achievement", MIG, "--subject-name", "Jan", "--level", "3",
              "--public-url", "http://127.0.0.1:1", LOOPBACK).stdout.splitlines()[0]
    wallet = tmp_path / "w"
    assert run(env, "wallet", "init", "--wallet", wallet).returncode == 0
    assert_oneline(run(env, "wallet", "receive", "--wallet", wallet, uri, "--yes"), "plain http", LOOPBACK)
    assert json.loads(run(env, "wallet", "list", "--wallet", wallet, "--json").stdout) == []


def test_cli_wallet_receive_never_talks_plain_http_elsewhere(tmp_path: Path, env: dict[str, str], issuer: Issuer
                                                             ) -> None:
    real = _offer(issuer, HTTPS)
    forged = offer_uri({**real.document, "credential_issuer": "http://issuer.example"})
    wallet = tmp_path / "w"
    assert run(env, "wallet", "init", "--wallet", wallet).returncode == 0
    assert_oneline(run(env, "wallet", "receive", "--wallet", wallet, forged, "--yes"), "plain http")
    assert_oneline(run(env, "wallet", "receive", "--wallet", wallet, forged, "--yes", LOOPBACK), "plain http",
                   warned=True)


@pytest.mark.parametrize("uri", [
    "openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3Az6Mk&request_uri=http%3A%2F%2F127.0.0.1%3A1%2Fr",
    "openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3Az6Mk&request_uri=http%3A%2F%2Flocalhost%3A1%2Fr",
])
def test_cli_present_oid4vp_to_loopback_http_needs_the_switch(tmp_path: Path, env: dict[str, str], uri: str) -> None:
    wallet = tmp_path / "w"
    assert run(env, "wallet", "init", "--wallet", wallet).returncode == 0
    assert_oneline(run(env, "present", "--wallet", wallet, "--oid4vp", uri, "--yes"), "request_uri", LOOPBACK)


def test_cli_present_oid4vp_never_fetches_plain_http_elsewhere(tmp_path: Path, env: dict[str, str]) -> None:
    wallet = tmp_path / "w"
    assert run(env, "wallet", "init", "--wallet", wallet).returncode == 0
    uri = ("openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3Az6Mk"
           "&request_uri=http%3A%2F%2Fwerk.example%2Fr")
    assert_oneline(run(env, "present", "--wallet", wallet, "--oid4vp", uri, "--yes"), "plain http")
    assert_oneline(run(env, "present", "--wallet", wallet, "--oid4vp", uri, "--yes", LOOPBACK), "plain http",
                   warned=True)


def test_cli_the_switch_belongs_to_oid4vp_only(tmp_path: Path, env: dict[str, str]) -> None:
    wallet = tmp_path / "w"
    assert run(env, "wallet", "init", "--wallet", wallet).returncode == 0
    assert_oneline(run(env, "present", "--wallet", wallet, "--all", "--challenge", "c", "--domain", "d", LOOPBACK),
                   "apply to --oid4vp")


def test_cli_request_new_verifier_url_rules(tmp_path: Path, env: dict[str, str]) -> None:
    base = ["request", "new", "--profile", PROFILE, "--no-qr", "--verifier", tmp_path / "v"]
    assert_oneline(run(env, *base, "--verifier-url", "http://127.0.0.1:8000"), LOOPBACK)
    for url in ("http://werk.example", "http://10.0.0.1:8000"):
        assert_oneline(run(env, *base, "--verifier-url", url), "plain http")
        assert_oneline(run(env, *base, "--verifier-url", url, LOOPBACK), "plain http")
    assert not (tmp_path / "v").exists()  # nothing half-made
    proc = run(env, *base, "--verifier-url", "http://127.0.0.1:8000", LOOPBACK)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("openid4vp://") and f"UNSAFE: {LOOPBACK}" in proc.stderr
    proc = run(env, *base, "--verifier-url", "https://werk.example")
    assert proc.returncode == 0 and "UNSAFE" not in proc.stderr


@pytest.mark.parametrize("url", ["http://vc.roc.example", "http://10.0.0.1:8000"])
def test_cli_serve_refuses_a_plain_http_public_url_elsewhere(tmp_path: Path, env: dict[str, str], roc: Path,
                                                             url: str) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text('{"issuers": []}')
    token = tmp_path / "token.txt"
    token.write_text("t" * 40)
    os.chmod(token, 0o600)
    proc = run(env, "serve", "--issuer", roc, "--trust", trust, "--token-file", token, "--public-url", url,
               "--port", "1")
    assert_oneline(proc, "--public-url", "plain http")


# -- verify reads a baked badge ------------------------------------------------------------------------


@pytest.fixture
def baked(tmp_path: Path, env: dict[str, str], roc: Path) -> dict[str, Path]:
    """A Data Integrity credential baked in a PNG and a vc+jwt baked in an SVG, the trust list
    naming their issuer and its published status lists."""
    did = json.loads((roc / "issuer.json").read_text())["did"]
    holder = run(env, "wallet", "init", "--wallet", tmp_path / "w").stdout.strip()
    base = ["issue", "--issuer", roc, "--achievement", CNC, "--subject", holder, "--level", "3"]
    assert run(env, *base, "-o", tmp_path / "c.json", "--bake", tmp_path / "c.png").returncode == 0
    assert run(env, *base, "--format", "jwt", "-o", tmp_path / "c.jwt", "--bake", tmp_path / "c.svg").returncode == 0
    assert run(env, "trust", "add", "--trust", tmp_path / "trust.json", did, "--name", "ROC Techniek").returncode == 0
    assert run(env, "status", "publish", "--issuer", roc, "--out-dir", tmp_path / "pub").returncode == 0
    return {"png": tmp_path / "c.png", "svg": tmp_path / "c.svg", "json": tmp_path / "c.json",
            "jwt": tmp_path / "c.jwt", "trust": tmp_path / "trust.json", "pub": tmp_path / "pub"}


def _verify_args(files: dict[str, Path]) -> list[str | Path]:
    lists = sorted(files["pub"] / name for name in json.loads((files["pub"] / "index.json").read_text()).values())
    assert lists
    return ["verify", "--trust", files["trust"], *[a for p in lists for a in ("--status-list", p)]]


@pytest.mark.parametrize(("image", "plain", "label"), [("png", "json", "baked PNG, Data Integrity"),
                                                       ("svg", "jwt", "baked SVG, vc+jwt")])
def test_verify_reads_a_baked_badge_and_names_its_format(env: dict[str, str], baked: dict[str, Path], image: str,
                                                         plain: str, label: str) -> None:
    proc = run(env, *_verify_args(baked), baked[image])
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert f"  format: {label} (told from the content)" in proc.stdout.splitlines()
    same = run(env, *_verify_args(baked), baked[plain])  # the same credential as a file: the same checks
    assert same.returncode == 0
    def checks(out: str) -> list[str]:
        return [re.sub(r"checked at \S+", "", line) for line in out.splitlines()[2:]]

    assert checks(proc.stdout) == checks(same.stdout) and len(checks(proc.stdout)) > 8
    report = json.loads(run(env, *_verify_args(baked), "--json", baked[image]).stdout)
    assert report["verified"] is True and report["baked"] == image
    assert report["format"] == label.split(", ")[1]


def test_verify_reads_a_baked_badge_from_stdin(env: dict[str, str], baked: dict[str, Path]) -> None:
    proc = run(env, *_verify_args(baked), "-", stdin=baked["png"].read_bytes())
    assert proc.returncode == 0, proc.stdout
    assert "  format: baked PNG, Data Integrity (told from the content)" in proc.stdout.splitlines()


def test_a_tampered_credential_in_a_badge_does_not_verify(tmp_path: Path, env: dict[str, str],
                                                          baked: dict[str, Path]) -> None:
    doc = json.loads(baked["json"].read_text())
    doc["credentialSubject"]["result"][0]["achievedLevel"] = "tampered"
    forged = tmp_path / "forged.png"
    forged.write_bytes(bake(plain_badge("png"), doc))
    proc = run(env, *_verify_args(baked), forged)
    assert proc.returncode == 1 and "NOT VERIFIED" in proc.stdout.upper()


@pytest.mark.parametrize(("content", "needle"), [
    (plain_badge("png"), "carries no Open Badges 3.0 credential"),
    (plain_badge("svg"), "carries no Open Badges 3.0 credential"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, ""),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', ""),
])
def test_verify_of_an_unusable_badge_is_one_line(tmp_path: Path, env: dict[str, str], baked: dict[str, Path],
                                                 content: bytes, needle: str) -> None:
    path = tmp_path / "bad-badge"
    path.write_bytes(content)
    assert_oneline(run(env, *_verify_args(baked), path), str(path), needle)


def test_verify_keeps_the_json_size_limit_for_files_that_are_not_images(tmp_path: Path, env: dict[str, str],
                                                                        baked: dict[str, Path]) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b'{"a": "' + b"x" * (9 * 1024 * 1024) + b'"}')
    assert_oneline(run(env, *_verify_args(baked), big), "byte limit")
