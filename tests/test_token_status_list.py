"""IETF Token Status List (draft-ietf-oauth-status-list): the array, the signed statuslist+jwt,
the registry-derived lists (revoke/suspend change both kinds), and the verifier's offline,
fail-closed reading of them (own lists only, newest verified copy wins, stale / not yet valid /
too old are indeterminate, a forged or foreign list never decides)."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from skillcred.did import DidResolver, key_did
from skillcred.errors import InvalidArgument, TokenInvalid
from skillcred.issuer import EvidenceInput, Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.secured import SecuredCredential
from skillcred.token_status import (
    STATUS_INVALID,
    STATUS_SUSPENDED,
    STATUS_VALID,
    TokenStatusList,
    peek_status_list_token,
    sign_status_list_token,
    token_list_url,
    verify_status_list_token,
)
from skillcred.verify import VerificationPolicy, Verifier
from support.cli import CliResult, clean_env, run_cli

ROOT = Path(__file__).resolve().parents[1]
CNC = ROOT / "examples" / "achievements" / "cnc-programmeren.yaml"


def _b64u_json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# -- the array (draft §4.1 and its examples) ------------------------------------------------------


def test_draft_example_one_bit() -> None:
    lst = TokenStatusList.decode("eNrbuRgAAhcBXQ", 1)
    assert [lst.get(i) for i in range(16)] == [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]


def test_draft_example_two_bits() -> None:
    lst = TokenStatusList.decode("eNo76fITAAPfAgc", 2)
    assert [lst.get(i) for i in range(12)] == [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_set_get_encode_decode_round_trip(bits: int) -> None:
    lst = TokenStatusList(64, bits)
    values = {0: 1, 5: (1 << bits) - 1, 63: 1, 17: 0}
    for i, v in values.items():
        lst.set(i, v)
    back = TokenStatusList.decode(lst.encode(), bits)
    assert all(back.get(i) == v for i, v in values.items())
    assert back.get(1) == 0
    # least significant bits first: index 0 is bit 0 of byte 0
    assert zlib.decompress(base64.urlsafe_b64decode(lst.encode() + "=="))[0] & 1 == 1


@pytest.mark.parametrize("lst,bits", [
    ("eNrbuRgAAhcBXQ", 3),         # bits not 1/2/4/8
    ("eNrbuRgAAhcBXQ", True),
    ("not base64!", 1),
    (base64.urlsafe_b64encode(b"plain, not zlib").rstrip(b"=").decode(), 1),
    (base64.urlsafe_b64encode(zlib.compress(b"\x00" * 100)[:-6]).rstrip(b"=").decode(), 1),  # truncated
    ("", 1),
    (None, 1),
])
def test_malformed_lists_are_refused(lst: Any, bits: Any) -> None:
    with pytest.raises(TokenInvalid) as exc:
        TokenStatusList.decode(lst, bits)
    assert exc.value.reason == "status_list_malformed"


def test_a_decompression_bomb_is_refused() -> None:
    bomb = base64.urlsafe_b64encode(zlib.compress(b"\x00" * (17 * 1024 * 1024))).rstrip(b"=").decode()
    assert len(bomb) < 40_000
    with pytest.raises(TokenInvalid, match="expands beyond"):
        TokenStatusList.decode(bomb, 1)


def test_index_out_of_range_and_bad_values() -> None:
    lst = TokenStatusList(8, 2)
    for bad in (-1, 8, True, "1"):
        with pytest.raises(TokenInvalid):
            lst.get(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        lst.set(0, 4)
    with pytest.raises(InvalidArgument):
        TokenStatusList(8, 3)


def test_token_list_url() -> None:
    assert token_list_url("https://roc.example/status/revocation-3") == \
        "https://roc.example/status/tokens/revocation-3.jwt"


# -- the signed token -----------------------------------------------------------------------------


@pytest.fixture
def key() -> KeyPair:
    return KeyPair.generate("p256")


def _kid(key: KeyPair) -> str:
    return f"{key_did(key.public_key)}#{key.public_multikey}"


def test_signed_token_shape_and_verification(key: KeyPair) -> None:
    lst = TokenStatusList(16, 2)
    lst.set(3, STATUS_INVALID)
    token = sign_status_list_token(lst, uri="https://x.example/s/1", key=key, kid=_kid(key),
                                   issuer=key_did(key.public_key), ttl=3600)
    header, payload = (_b64u_json(p) for p in token.split(".")[:2])
    assert header == {"alg": "ES256", "kid": _kid(key), "typ": "statuslist+jwt"}
    assert payload["sub"] == "https://x.example/s/1" and payload["status_list"]["bits"] == 2
    assert payload["exp"] - payload["iat"] == 7 * 86400 and payload["ttl"] == 3600
    read = verify_status_list_token(token, resolver=DidResolver(), issuer=key_did(key.public_key))
    assert read.status_list().get(3) == STATUS_INVALID


def test_a_token_of_someone_else_or_forged_is_refused(key: KeyPair) -> None:
    other = KeyPair.generate("p256")
    lst = TokenStatusList(16, 2)
    token = sign_status_list_token(lst, uri="u:1", key=other, kid=_kid(other), issuer=key_did(other.public_key))
    with pytest.raises(TokenInvalid):  # iss names the other party
        verify_status_list_token(token, resolver=DidResolver(), issuer=key_did(key.public_key))
    # iss claims to be the issuer, signed by another key
    forged = sign_status_list_token(lst, uri="u:1", key=other, kid=_kid(other), issuer=key_did(key.public_key))
    with pytest.raises(TokenInvalid):
        verify_status_list_token(forged, resolver=DidResolver(), issuer=key_did(key.public_key))
    good = sign_status_list_token(lst, uri="u:1", key=key, kid=_kid(key), issuer=key_did(key.public_key))
    h, p, s = good.split(".")
    with pytest.raises(TokenInvalid):
        verify_status_list_token(f"{h}.{p}.{s[:-4]}AAAA", resolver=DidResolver(), issuer=key_did(key.public_key))


@pytest.mark.parametrize("header", [{"alg": "ES256", "typ": "JWT"}, {"alg": "none", "typ": "statuslist+jwt"}])
def test_peek_refuses_a_wrong_typ_or_alg(header: dict[str, str]) -> None:
    def enc(o: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
    token = f"{enc(header)}.{enc({'sub': 'u', 'status_list': {'bits': 1, 'lst': 'eNrbuRgAAhcBXQ'}})}.AAAA"
    with pytest.raises(TokenInvalid):
        peek_status_list_token(token)


# -- the registry, the issuer and the verifier ----------------------------------------------------


@pytest.fixture
def issuer_dir(tmp_path: Path) -> Path:
    init_issuer(tmp_path / "roc", name="ROC", url="https://roc.example", key_type="p256")
    return tmp_path / "roc"


def _issue(issuer_dir: Path, fmt: str = "dc+sd-jwt") -> Any:
    holder = KeyPair.generate("p256")
    with Issuer.open(issuer_dir) as iss:
        rec, _ = iss.issue(load_achievement(CNC), key_did(holder.public_key), level="3", fmt=fmt,
                           evidence=EvidenceInput(narrative="x"))
    return rec


def _slot(rec: Any) -> tuple[str, int]:
    ref = _b64u_json(rec.document["token"].split(".")[1])["status"]["status_list"]
    return ref["uri"], ref["idx"]


def _tokens(issuer_dir: Path, **kw: Any) -> dict[str, str]:
    with Issuer.open(issuer_dir) as iss:
        return dict(iss.token_status_lists(**kw))


def _verify(rec: Any, tokens: list[str], **policy: Any) -> Any:
    env = SecuredCredential.from_record(rec.document).envelope()
    return Verifier(VerificationPolicy(**policy), token_status_lists=tokens).check(env)


def _status(report: Any) -> tuple[str, str]:
    c = next(c for c in report.checks if c.id == "credential.status")
    return c.status, c.code


def test_revoke_and_suspend_set_the_token_list_and_the_bitstring_list(issuer_dir: Path) -> None:
    a, b, c = (_issue(issuer_dir) for _ in range(3))
    with Issuer.open(issuer_dir) as iss:
        assert iss.revoke(a.id) and iss.suspend(b.id)
        # the bitstring lists change as before
        sets = {i.purpose: set(i.set_indexes) for i in iss.registry.status_lists()}
    assert len(sets["revocation"]) == 1 and len(sets["suspension"]) == 1
    tokens = _tokens(issuer_dir)
    uri, _ = _slot(a)
    lst = peek_status_list_token(tokens[uri]).status_list()
    assert lst.get(_slot(a)[1]) == STATUS_INVALID
    assert lst.get(_slot(b)[1]) == STATUS_SUSPENDED
    assert lst.get(_slot(c)[1]) == STATUS_VALID
    assert _status(_verify(a, [tokens[uri]])) == ("failed", "revoked")
    assert _status(_verify(b, [tokens[uri]])) == ("failed", "suspended")
    assert _status(_verify(c, [tokens[uri]])) == ("passed", "ok")
    with Issuer.open(issuer_dir) as iss:  # a revoked and suspended one is revoked
        iss.suspend(a.id)
        iss.unsuspend(b.id)
    tokens = _tokens(issuer_dir)
    assert _status(_verify(a, [tokens[uri]])) == ("failed", "revoked")
    assert _status(_verify(b, [tokens[uri]])) == ("passed", "ok")


def test_the_token_list_is_as_long_as_the_bitstring_list(issuer_dir: Path) -> None:
    rec = _issue(issuer_dir)
    lst = peek_status_list_token(_tokens(issuer_dir)[_slot(rec)[0]]).status_list()
    assert lst.size == 131_072 and lst.bits == 2


def test_newest_verified_copy_decides_and_a_forged_newer_one_is_ignored(issuer_dir: Path) -> None:
    rec = _issue(issuer_dir)
    uri, _ = _slot(rec)
    old = _tokens(issuer_dir, now=datetime.now(UTC) - timedelta(hours=2))[uri]
    with Issuer.open(issuer_dir) as iss:
        iss.revoke(rec.id)
    new = _tokens(issuer_dir)[uri]
    assert _status(_verify(rec, [old])) == ("passed", "ok")  # the old copy alone does not know yet
    assert _status(_verify(rec, [old, new])) == ("failed", "revoked")
    assert _status(_verify(rec, [new, old])) == ("failed", "revoked")
    # a forged "newer" copy saying valid, signed by someone else, neither decides nor hides the real one
    mallory = KeyPair.generate("p256")
    with Issuer.open(issuer_dir) as iss:
        forged = sign_status_list_token(TokenStatusList(131_072, 2), uri=uri, key=mallory, kid=_kid(mallory),
                                        issuer=iss.profile.did, now=datetime.now(UTC) + timedelta(seconds=30))
    assert _status(_verify(rec, [new, forged])) == ("failed", "revoked")
    assert _status(_verify(rec, [forged]))[0] == "indeterminate"


def test_unavailable_stale_not_yet_valid_and_too_old_are_indeterminate(issuer_dir: Path) -> None:
    rec = _issue(issuer_dir)
    uri, _ = _slot(rec)
    assert _status(_verify(rec, [])) == ("indeterminate", "status_unavailable")
    stale = _tokens(issuer_dir, now=datetime.now(UTC) - timedelta(days=10))[uri]
    assert _status(_verify(rec, [stale])) == ("indeterminate", "status_list_stale")
    future = _tokens(issuer_dir, now=datetime.now(UTC) + timedelta(hours=3))[uri]
    assert _status(_verify(rec, [future])) == ("indeterminate", "status_list_not_yet_valid")
    recent = _tokens(issuer_dir, now=datetime.now(UTC) - timedelta(hours=1))[uri]
    floor = datetime.now(UTC) - timedelta(minutes=5)
    assert _status(_verify(rec, [recent], status_not_before=floor)) == ("indeterminate", "status_list_too_old")
    assert _status(_verify(rec, [recent])) == ("passed", "ok")


def test_ttl_makes_a_copy_stale(issuer_dir: Path) -> None:
    rec = _issue(issuer_dir)
    uri, _ = _slot(rec)
    with Issuer.open(issuer_dir) as iss:
        token = sign_status_list_token(TokenStatusList(131_072, 2), uri=uri, key=iss._key,
                                       kid=iss.profile.verification_method, issuer=iss.profile.did, ttl=60,
                                       now=datetime.now(UTC) - timedelta(minutes=5))
    assert _status(_verify(rec, [token])) == ("indeterminate", "status_list_stale")


def test_a_list_of_another_issuer_is_not_the_credentials(issuer_dir: Path, tmp_path: Path) -> None:
    rec = _issue(issuer_dir)
    uri, _ = _slot(rec)
    init_issuer(tmp_path / "other", name="Other", url="https://other.example", key_type="p256")
    with Issuer.open(tmp_path / "other") as other:
        token = sign_status_list_token(TokenStatusList(131_072, 2), uri=uri, key=other._key,
                                       kid=other.profile.verification_method, issuer=other.profile.did)
    assert _status(_verify(rec, [token])) == ("indeterminate", "status_list_wrong_issuer")


def test_unsafe_accept_unknown_status_accepts_an_unavailable_list(issuer_dir: Path) -> None:
    rec = _issue(issuer_dir)
    with pytest.warns(match="status"):
        report = _verify(rec, [], unsafe_accept_unknown_status=True)
    assert _status(report) == ("not_applicable", "unsafe_status_unknown")


# -- the command line -----------------------------------------------------------------------------


def _run(*args: str) -> CliResult:
    """The command line as a user runs it (in-process, as a fresh process would); never a traceback."""
    proc = run_cli(*args, env=clean_env(drop=("SKILLCRED_PASSPHRASE", "SKILLCRED_DEBUG")))
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_cli_issue_publish_import_verify_revoke(issuer_dir: Path, tmp_path: Path) -> None:
    holder = KeyPair.generate("p256")
    token_file = tmp_path / "jan.sdjwt"
    res = _run("issue", "--issuer", str(issuer_dir), "--achievement", str(CNC), "--subject",
               key_did(holder.public_key), "--level", "3", "--format", "dc+sd-jwt", "-o", str(token_file))
    assert res.returncode == 0, res.stderr
    cred_id = res.stdout.strip().splitlines()[0]
    assert _b64u_json(token_file.read_text().split(".")[0])["typ"] == "dc+sd-jwt"
    out = tmp_path / "pub"
    res = _run("status", "publish", "--issuer", str(issuer_dir), "--out-dir", str(out))
    assert res.returncode == 0, res.stderr
    index = json.loads((out / "index.json").read_text())
    assert index["https://roc.example/status/tokens/revocation-1.jwt"] == "tokens/revocation-1.jwt"
    cache = tmp_path / "cache"
    res = _run("status", "import", "--cache", str(cache), str(out / "tokens" / "revocation-1.jwt"))
    assert res.returncode == 0 and "token status list" in res.stdout, res.stderr
    res = _run("verify", str(token_file), "--status-cache", str(cache))
    assert res.returncode == 0, res.stdout + res.stderr
    assert _run("revoke", "--issuer", str(issuer_dir), cred_id).returncode == 0
    _run("status", "publish", "--issuer", str(issuer_dir), "--out-dir", str(out))
    res = _run("verify", str(token_file), "--status-list", str(out / "tokens" / "revocation-1.jwt"),
               "--status-cache", str(tmp_path / "empty"))
    assert res.returncode == 1 and "revoked" in res.stdout + res.stderr


def test_cli_status_import_refuses_junk_and_keeps_the_newer_copy(issuer_dir: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.jwt"
    junk.write_text("eyJhbGciOiJFUzI1NiJ9.e30.AAAA\n")
    res = _run("status", "import", "--cache", str(tmp_path / "c"), str(junk))
    assert res.returncode == 2 and "junk.jwt" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "c").exists()
    rec = _issue(issuer_dir)
    uri, _ = _slot(rec)
    new = _tokens(issuer_dir)[uri]
    old = _tokens(issuer_dir, now=datetime.now(UTC) - timedelta(hours=1))[uri]
    (tmp_path / "new.jwt").write_text(new)
    (tmp_path / "old.jwt").write_text(old)
    assert _run("status", "import", "--cache", str(tmp_path / "c"), str(tmp_path / "new.jwt")).returncode == 0
    res = _run("status", "import", "--cache", str(tmp_path / "c"), str(tmp_path / "old.jwt"))
    assert "newer copy" in res.stderr
    (cached,) = (tmp_path / "c").glob("*.jwt")
    assert cached.read_text().strip() == new




@pytest.fixture(scope="module")
def pg_cluster() -> Any:
    from service_support import start_postgres

    yield from start_postgres()


@pytest.mark.loopback
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_both_registries_derive_the_same_token_status_values(kind: str, tmp_path: Path,
                                                             request: pytest.FixtureRequest) -> None:
    from skillcred.registry import Registry

    if kind == "sqlite":
        reg: Any = Registry.open(tmp_path / "r.sqlite", create=True)
    else:
        from skillcred.registry_pg import PgRegistry

        reg = PgRegistry.open(request.getfixturevalue("pg_cluster").new_database())
    try:
        slots = {}
        for cid in ("a", "b", "c", "d"):
            rec, _ = reg.issue(credential_id=f"urn:uuid:{cid}", row_key=None, subject="did:example:h",
                               achievement="x", kind="skill", issued_at="2026-01-01T00:00:00Z", valid_until=None,
                               status_base_url="https://roc.example/status", list_size=131_072,
                               build=lambda allocs: {"a": [[x.purpose, x.list_url, x.index] for x in allocs]})
            slots[cid] = next((u, i) for p, u, i in rec.document["a"] if p == "revocation")
        reg.set_status("urn:uuid:a", "revocation", True)
        reg.set_status("urn:uuid:b", "suspension", True)
        reg.set_status("urn:uuid:c", "suspension", True)
        reg.set_status("urn:uuid:c", "revocation", True)
        values = reg.token_status_values()
        url = slots["a"][0]
        assert values == {url: {slots["a"][1]: 1, slots["b"][1]: 2, slots["c"][1]: 1}}
        assert reg.token_list_urls_in_use() == set()  # no record names a token status list
        reg.issue(credential_id="urn:uuid:e", row_key=None, subject="did:example:h", achievement="x", kind="skill",
                  issued_at="2026-01-01T00:00:00Z", valid_until=None, status_base_url="https://roc.example/status",
                  list_size=131_072, build=lambda allocs: {"status": {"status_list": {"idx": 1, "uri": "u"}}})
        assert reg.token_list_urls_in_use() == {url}
    finally:
        reg.close()


def test_an_issuer_without_sd_jwt_vcs_publishes_no_token_lists(issuer_dir: Path, tmp_path: Path) -> None:
    _issue(issuer_dir, fmt="di")
    with Issuer.open(issuer_dir) as iss:
        assert iss.token_status_lists() == []
        index = iss.publish_status(tmp_path / "pub")
    assert not (tmp_path / "pub" / "tokens").exists() and all("/tokens/" not in u for u in index)
    _issue(issuer_dir)  # the first SD-JWT VC puts its list in use
    with Issuer.open(issuer_dir) as iss:
        assert [u for u, _t in iss.token_status_lists()] == ["https://roc.example/status/tokens/revocation-1.jwt"]
