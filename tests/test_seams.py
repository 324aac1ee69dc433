"""Issue 14, the seams: one typed secured credential, every format through ``skillcred verify``,
and status-list work done once per verifier.

* ``SecuredCredential`` replaces the ``securedAs``/``token`` marker dict everywhere but the
  on-disk record; ``wallet gap`` used to refuse a vc+jwt / SD-JWT credential the wallet had
  accepted ("term 'securedAs', 'token' is not defined").
* ``skillcred verify FILE`` takes a JSON document, a vc+jwt / vp+jwt, an SD-JWT (with or without
  key binding) and COSE, told from the content; ``--proof-only --key-document VM`` works for
  tokens too: every verification fixture of the vc-jose-cose suite ends as expected.json says
  (or as an explicit, asserted deviation).
* A status list's proof check and expansion are counted (never timed): once per verifier.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, VECTORS
from skillcred._internal.fileio import dump_json, load_json_object
from skillcred.did import key_did_url
from skillcred.errors import InvalidArgument, MalformedDocument, WalletError
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.jose import secure_credential_cose, secure_presentation_cose, secure_presentation_jwt
from skillcred.keys import KeyPair
from skillcred.sdjwt import present_sd_jwt
from skillcred.secured import SecuredCredential
from skillcred.status import BitstringStatusList
from skillcred.verify import VerificationPolicy, Verifier
from skillcred.verify import verifier as verifier_module
from skillcred.wallet import Wallet
from support.cli import CliResult, clean_env, run_cli

ACHIEVEMENTS = REPO / "examples" / "achievements"
PROFILE = REPO / "examples" / "profiles" / "cnc-verspaner.json"
FRAMEWORK = REPO / "examples" / "frameworks" / "metaal-vaardigheden.json"
JOSE = VECTORS / "vc-jose-cose"
# requirements of examples/profiles/cnc-verspaner.json (ESCO "computer numerical control machine
# operator") that the CNC badge (level 3 of 3) and the drawing badge (level 4) meet by their ESCO
# alignments: "program a CNC controller" (level 3) and "read standard blueprints" (level 3)
CNC, TEKENING = "program a CNC controller", "read standard blueprints"


class World:
    """An institute (did:key), a worker's wallet, and credentials in every format."""

    def __init__(self, root: Path) -> None:
        self.root = root
        init_issuer(root / "roc", name="ROC Techniek Midden", url="https://roc-techniek.example")
        self.wallet = Wallet.init(root / "wallet")
        self.holder_key = self.wallet.holder_key()
        cnc = load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml")
        tek = load_achievement(ACHIEVEMENTS / "technisch-tekeninglezen.yaml")
        with Issuer.open(root / "roc") as roc:
            self.issuer_key = roc._key
            self.issuer_vm = roc.profile.verification_method
            self.jwt_record = dict(roc.issue(cnc, self.wallet.holder, level="3", fmt="jwt")[0].document)
            self.sd_record = dict(roc.issue(tek, self.wallet.holder, level="4", fmt="sd-jwt")[0].document)
            self.di_doc = dict(roc.issue(cnc, self.wallet.holder, level="4")[0].document)
            self.revoked = dict(roc.issue(tek, self.wallet.holder, level="1", fmt="jwt")[0].document)
            roc.revoke(self.revoked["id"])
            self.many = [dict(roc.issue(cnc, self.wallet.holder, level="2")[0].document) for _ in range(5)]
            roc.publish_status(root / "status")
        self.status_files = sorted(p for p in (root / "status").iterdir() if p.name != "index.json")
        self.status_lists = [load_json_object(p) for p in self.status_files]
        self.home = root / "home"
        self.home.mkdir()

    def file(self, name: str, data: str | bytes) -> Path:
        path = self.root / "files" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def cose(self) -> bytes:
        """The DI credential's claims secured as vc+cose by the same institute."""
        claims = {k: v for k, v in self.di_doc.items() if k != "proof"}
        return secure_credential_cose(claims, self.issuer_key, kid=self.issuer_vm)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield World(tmp_path_factory.mktemp("seams"))


def cli(world: World, *args: Any) -> CliResult:
    env = clean_env(drop=("SKILLCRED_TRUST", "SKILLCRED_STATUS_CACHE", "SKILLCRED_WALLET"), HOME=str(world.home),
                    XDG_CONFIG_HOME=str(world.home / "cfg"), XDG_CACHE_HOME=str(world.home / "cache"),
                    XDG_DATA_HOME=str(world.home / "data"))
    return run_cli(*map(str, args), env=env)


def no_traceback(result: CliResult) -> None:
    assert "Traceback" not in result.output and "Traceback" not in (result.stderr or "")


# -- 1. SecuredCredential: the record boundary, detection, envelopes ----------------------------


def test_wallet_gap_counts_vc_jwt_and_sd_jwt_credentials(world: World, tmp_path: Path) -> None:
    """The regression: the wallet accepted both tokens, and 'wallet gap' refused them."""
    wallet = Wallet.init(tmp_path / "w", key=world.holder_key)
    jwt = world.file("cnc.jwt", world.jwt_record["token"] + "\n")
    sd = world.file("tekening.sd-jwt", world.sd_record["token"])
    added = cli(world, "wallet", "add", "--wallet", wallet.root, jwt, sd)
    assert added.returncode == 0, added.output
    listed = json.loads(cli(world, "wallet", "list", "--wallet", wallet.root, "--json").stdout)
    assert sorted(e["format"] for e in listed) == ["jwt", "sd-jwt"]
    gap = cli(world, "wallet", "gap", "--wallet", wallet.root, "--profile", PROFILE, "--framework", FRAMEWORK,
              "--json")
    assert gap.returncode == 0, gap.output
    report = json.loads(gap.stdout)
    assert report["not_counted"] == []  # before: both "not counted": 'securedAs', 'token' undefined
    status = {r["label"]: r["status"] for r in report["requirements"]}
    assert status[CNC] == "met" and status[TEKENING] == "met"
    assert report["essential_coverage"] > 0


def test_a_stored_record_round_trips_and_old_records_load(world: World, tmp_path: Path) -> None:
    record = world.jwt_record  # what the issuer's registry and every existing wallet hold
    secured = SecuredCredential.from_record(record)
    assert secured.format == "jwt" and secured.token == record["token"]
    assert "securedAs" not in secured.document and "token" not in secured.document
    assert secured.to_record() == record
    assert SecuredCredential.from_record(world.di_doc) == SecuredCredential("di", world.di_doc)
    # a record written by the old code is read by the wallet as it is
    wallet = Wallet.init(tmp_path / "old", key=world.holder_key)
    wallet.add([("old.json", dict(record))])
    assert wallet.secured(record["id"]).envelope()["id"] == f"data:application/vc+jwt,{record['token']}"
    for broken in ({**record, "token": ""}, {**record, "securedAs": "pgp"}, {k: v for k, v in record.items()
                                                                            if k != "token"}):
        with pytest.raises(MalformedDocument):
            SecuredCredential.from_record(broken)


def test_a_wallet_record_whose_claims_differ_from_its_token_is_refused(world: World, tmp_path: Path) -> None:
    wallet = Wallet.init(tmp_path / "w", key=world.holder_key)
    forged = {**world.jwt_record, "name": "Something else"}
    with pytest.raises(WalletError, match="do not match its token"):
        wallet.add([("forged.json", forged)])


def test_secured_credential_invariants() -> None:
    with pytest.raises(InvalidArgument):
        SecuredCredential("di", {}, "token")
    with pytest.raises(InvalidArgument):
        SecuredCredential("jwt", {})
    with pytest.raises(InvalidArgument):
        SecuredCredential("pgp", {}, "x")  # type: ignore[arg-type]


def _detect(data: bytes | str) -> SecuredCredential:
    return SecuredCredential.from_file_bytes(data.encode() if isinstance(data, str) else data, "f")


def test_detection_of_every_format(world: World) -> None:
    jwt, sd = world.jwt_record["token"], world.sd_record["token"]
    assert (_detect(json.dumps(world.di_doc)).format, _detect(json.dumps(world.di_doc)).presentation) == ("di", False)
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"]}
    assert _detect(json.dumps(vp)).presentation is True
    got = _detect(f"\n  {jwt}\n")
    assert (got.format, got.presentation, got.typ, got.label) == ("jwt", False, "vc+jwt", "vc+jwt")
    assert got.document["id"] == world.jwt_record["id"]  # the (unverified) payload
    vp_jwt = secure_presentation_jwt({**vp, "holder": world.wallet.holder}, world.holder_key,
                                     kid=key_did_url(world.holder_key.public_key))
    assert (_detect(vp_jwt).format, _detect(vp_jwt).label) == ("jwt", "vp+jwt")
    assert (_detect(sd).format, _detect(sd).label) == ("sd-jwt", "vc+sd-jwt")
    kb = present_sd_jwt(sd, disclose=[], holder_key=world.holder_key, nonce="n", aud="a")
    assert kb.count("~") >= 1 and not kb.endswith("~")  # a Key Binding JWT at the end
    assert _detect(kb).format == "sd-jwt"
    cose = world.cose()
    b64 = base64.b64encode(cose).decode()
    for form in (cose, b64, "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)), cose.hex()):
        got = _detect(form)
        assert (got.format, got.label, got.document.get("id")) == ("cose", "vc+cose", world.di_doc["id"])
    assert _detect(b64).token == b64 and _detect(cose).token == b64  # kept as base64 text
    assert _detect(cose.hex()).token == cose.hex()  # detected; verification refuses hex (VC-JOSE-COSE: base64)


@pytest.mark.parametrize("garbage", [b"", b"hello world", b"\xff\xfe\x00", b"a.b", b"eyJ.eyJ.sig.extra",
                                     b"not~an~sd-jwt", b"[1, 2]", b"\x00\x01\x02"])
def test_detection_refuses_what_is_no_credential(garbage: bytes) -> None:
    with pytest.raises(MalformedDocument):
        _detect(garbage)


def test_envelopes(world: World) -> None:
    jwt = SecuredCredential.from_record(world.jwt_record)
    assert jwt.envelope() == {"@context": ["https://www.w3.org/ns/credentials/v2"],
                              "id": f"data:application/vc+jwt,{jwt.token}", "type": "EnvelopedVerifiableCredential"}
    cose = _detect(world.cose())
    assert cose.envelope()["id"] == f"data:application/vc+cose;base64,{cose.token}"
    vp = _detect(secure_presentation_cose({"@context": ["https://www.w3.org/ns/credentials/v2"],
                                           "type": ["VerifiablePresentation"], "holder": world.wallet.holder},
                                          world.holder_key, kid=key_did_url(world.holder_key.public_key)))
    assert vp.envelope()["type"] == "EnvelopedVerifiablePresentation"
    assert vp.envelope()["id"].startswith("data:application/vp+cose;base64,")
    assert SecuredCredential("di", world.di_doc).envelope() == world.di_doc


# -- 2. skillcred verify FILE: every format ----------------------------------------------------


def _status_args(world: World) -> list[Any]:
    return [a for p in world.status_files for a in ("--status-list", p)]


@pytest.mark.parametrize("kind", ["jwt", "sd-jwt", "cose-base64", "cose-binary", "di"])
def test_verify_takes_every_format(world: World, kind: str) -> None:
    data: str | bytes = {"jwt": world.jwt_record["token"], "sd-jwt": world.sd_record["token"],
                         "cose-base64": base64.b64encode(world.cose()).decode(), "cose-binary": world.cose(),
                         "di": dump_json(world.di_doc)}[kind]
    path = world.file(f"cred-{kind}", data)
    result = cli(world, "verify", path, *_status_args(world))
    no_traceback(result)
    assert result.returncode == 0, result.output
    label = {"jwt": "vc+jwt", "sd-jwt": "vc+sd-jwt", "di": "Data Integrity"}.get(kind, "vc+cose")
    assert f"format: {label}" in result.stdout and result.stdout.startswith("VERIFIED")
    as_json = json.loads(cli(world, "verify", path, "--json", *_status_args(world)).stdout)
    assert as_json["verified"] is True and as_json["format"] == label
    status = next(c for c in as_json["checks"] if c["id"] == "credential.status")
    assert status["status"] == "passed"  # every check ran: status too


def test_verify_a_token_that_fails(world: World) -> None:
    token = world.jwt_record["token"]
    head, payload, sig = token.split(".")
    flipped = world.file("tampered.jwt", f"{head}.{payload}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}")
    result = cli(world, "verify", flipped, *_status_args(world))
    assert result.returncode == 1 and "signature" in result.stdout
    revoked = world.file("revoked.jwt", world.revoked["token"])
    result = cli(world, "verify", revoked, *_status_args(world), "--json")
    assert result.returncode == 1
    assert next(c for c in json.loads(result.stdout)["checks"] if c["id"] == "credential.status")["code"] == "revoked"
    hexed = world.file("cred.cose.hex", world.cose().hex())
    result = cli(world, "verify", hexed, *_status_args(world))
    assert result.returncode == 1 and "malformed" in result.stdout  # hex is not VC-JOSE-COSE's encoding


@pytest.mark.parametrize("data", [b"hello world", b"\xff\xfe\x00garbage", b"a.b"])
def test_verify_unusable_input_exits_2_in_one_line(world: World, data: bytes) -> None:
    result = cli(world, "verify", world.file("junk.txt", data))
    no_traceback(result)
    assert result.returncode == 2
    assert len((result.stderr or result.output).strip().splitlines()) == 1


def _vp(world: World, creds: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
            "holder": world.wallet.holder, "verifiableCredential": creds, **extra}


@pytest.mark.parametrize("fmt", ["jwt", "cose"])
def test_an_enveloped_presentation_goes_through_every_check(world: World, fmt: str) -> None:
    envs = [SecuredCredential.from_record(world.jwt_record).envelope()]
    vp = _vp(world, envs, nonce="ch-123", aud="werkgever.example")
    kid = key_did_url(world.holder_key.public_key)
    token = (secure_presentation_jwt(vp, world.holder_key, kid=kid) if fmt == "jwt"
             else base64.b64encode(secure_presentation_cose(vp, world.holder_key, kid=kid)).decode())
    path = world.file(f"vp.{fmt}", token)
    ok = cli(world, "verify", path, "--challenge", "ch-123", "--domain", "werkgever.example", *_status_args(world))
    assert ok.returncode == 0, ok.output
    assert f"format: vp+{fmt}" in ok.stdout and ok.stdout.startswith("VERIFIED")
    report = json.loads(cli(world, "verify", path, "--challenge", "ch-123", "--domain", "werkgever.example",
                            "--json", *_status_args(world)).stdout)
    checks = {c["id"]: c["status"] for c in report["checks"]}
    assert checks["presentation.proof"] == "passed" and checks["credential[0].holder_binding"] == "passed"
    assert checks["credential[0].status"] == "passed"
    for wrong in (("--challenge", "replayed", "--domain", "werkgever.example"),
                  ("--challenge", "ch-123", "--domain", "other.example")):
        bad = cli(world, "verify", path, *wrong, "--json", *_status_args(world))
        assert bad.returncode == 1
        assert {c["id"]: c["code"] for c in json.loads(bad.stdout)["checks"]}["presentation.challenge"] == \
            "challenge_mismatch"
    missing = cli(world, "verify", path, "--json", *_status_args(world))
    assert missing.returncode == 1
    assert {c["id"]: c["code"] for c in json.loads(missing.stdout)["checks"]}["presentation.challenge"] == \
        "challenge_not_given"


def test_an_enveloped_presentation_signed_by_another_key_fails(world: World) -> None:
    other = KeyPair.generate()
    vp = _vp(world, [SecuredCredential.from_record(world.jwt_record).envelope()], nonce="c", aud="d")
    token = secure_presentation_jwt(vp, other, kid=key_did_url(other.public_key))  # holder is the worker
    result = cli(world, "verify", world.file("vp-other.jwt", token), "--challenge", "c", "--domain", "d", "--json")
    assert result.returncode == 1
    proof = next(c for c in json.loads(result.stdout)["checks"] if c["id"] == "presentation.proof")
    assert proof["status"] == "failed"


def test_library_and_cli_give_one_verdict_for_a_token(world: World) -> None:
    """The CLI wraps the token as the envelope the Verifier checks: the same verdict, the same checks."""
    path = world.file("same.jwt", world.jwt_record["token"])
    cli_report = json.loads(cli(world, "verify", path, "--json", *_status_args(world)).stdout)
    lib = Verifier(status_lists=world.status_lists).check(
        SecuredCredential.from_file_bytes(path.read_bytes()).envelope())
    assert cli_report["verified"] is lib.verified is True
    assert [c["id"] for c in cli_report["checks"]] == [c.id for c in lib.checks]


# -- the vc-jose-cose fixtures through `skillcred verify --proof-only --key-document VM` ------------


def _cases() -> list[dict[str, Any]]:
    return [c for c in json.loads((JOSE / "expected.json").read_text()) if c["fn"] == "verify"]


KEY_FILES = ["vm-ed25519.json", "vm-p256.json", "vm-p384.json", "vm-p521.json", "vm-did-ed25519.json"]


@pytest.fixture(scope="module")
def public_vms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The suite's verification methods without their secret keys (what a verifier is given)."""
    folder = tmp_path_factory.mktemp("vms")
    out = {}
    for name in KEY_FILES:
        vm = json.loads((JOSE / name).read_text())
        vm.pop("secretKeyJwk")
        (folder / name).write_text(json.dumps(vm))
        out[name] = folder / name
    return out


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['number']:02d}-{c['input_file']}")
def test_every_vc_jose_cose_fixture_through_verify_proof_only(case: dict[str, Any], world: World,
                                                              public_vms: dict[str, Path]) -> None:
    """Exactly as issue 15 says: ``skillcred verify --proof-only --key-document VM FILE`` with the
    case's own verification method, and every case ends as expected.json says. (Case 9 is
    signed with the P-521 key, not the case's Ed25519 one; presentations 7 and 22 carry
    credentials signed with other keys, which --proof-only unwraps but does not verify; the
    holder of 31 is a did:example that signs with the issuer's P-384 key.)"""
    result = cli(world, "verify", "--proof-only", "--key-document", public_vms[case["key_file"]],
                 JOSE / case["input_file"], "--json")
    no_traceback(result)
    expected = case["expected_result"]
    assert result.returncode == (0 if expected == "success" else 1), result.output
    report = json.loads(result.stdout)
    assert report["verified"] is (expected == "success")
    if case["input_file"].endswith(".txt"):  # a token: the format is named
        assert report["format"].split("+")[1] in ("jwt", "sd-jwt", "cose")
    assert "--proof-only checked the signature alone" in result.stderr


@pytest.mark.parametrize(("case_file", "key_file", "signer"), [
    ("presentation-jose-multiple.txt", "vm-p384.json", "#key-2"),
    ("presentation-sdjwt-selective.txt", "vm-p384.json", "#key-2"),
    ("presentation-cose-single.txt", "vm-p384.json", "#key-2"),
])
def test_proof_only_of_a_presentation_is_its_own_signature(case_file: str, key_file: str, signer: str,
                                                           world: World, public_vms: dict[str, Path]) -> None:
    """What passes is the presentation's signature with the given key, said as such; its
    credentials are named as not checked, and a wrong key still fails."""
    result = cli(world, "verify", "--proof-only", "--key-document", public_vms[key_file], JOSE / case_file, "--json")
    check = json.loads(result.stdout)["checks"][0]
    assert result.returncode == 0 and check["verificationMethod"].endswith(signer)
    assert "enveloped credential" in check["reason"] and "not checked" in check["reason"]
    other = cli(world, "verify", "--proof-only", "--key-document", public_vms["vm-p256.json"], JOSE / case_file,
                "--json")
    assert other.returncode == 1 and json.loads(other.stdout)["checks"][0]["code"] == "kid_unresolved"


def test_without_proof_only_the_unbound_key_and_the_credentials_still_count(world: World,
                                                                           public_vms: dict[str, Path]) -> None:
    """The full verification of the COSE presentation (case 31) still fails: its holder
    did:example is not the controller of the key that signed it."""
    result = cli(world, "verify", "--key-document", public_vms["vm-p384.json"],
                 JOSE / "presentation-cose-single.txt", "--json", "--unsafe-no-challenge", "--unsafe-no-domain")
    assert result.returncode == 1
    assert not json.loads(result.stdout)["verified"]


def _public_vm(name: str) -> dict[str, Any]:
    vm = json.loads((JOSE / name).read_text())
    vm.pop("secretKeyJwk")
    return dict(vm)


def test_the_unbound_key_lookup_warns_and_refuses_an_ambiguous_kid() -> None:
    """``unsafe_skip_party_binding`` is the library's door to a proof-only check: it warns, and a
    relative kid that names methods in two documents resolves to neither."""
    from skillcred.did import DidResolver
    from skillcred.errors import SkillcredSecurityWarning, TokenInvalid
    from skillcred.jose import verify_jwt

    token = (JOSE / "credential-jose-minimal.txt").read_text().strip()
    vm = _public_vm("vm-p256.json")
    doc = {"id": vm["controller"], "verificationMethod": [vm], "assertionMethod": [vm["id"]]}
    with pytest.warns(SkillcredSecurityWarning, match="unsafe_skip_party_binding"):
        result = verify_jwt(token, resolver=DidResolver([doc]), expected_typ="vc+jwt", check_times=False,
                            unsafe_skip_party_binding=True)
    assert result.verification_method == vm["id"]
    twin = {"id": "https://twin.example", "verificationMethod": [{**vm, "id": "https://twin.example#k",
                                                                 "controller": "https://twin.example"}],
            "assertionMethod": ["https://twin.example#k"]}
    with pytest.warns(SkillcredSecurityWarning), pytest.raises(TokenInvalid, match="several documents"):
        verify_jwt(token, resolver=DidResolver([doc, twin]), expected_typ="vc+jwt", check_times=False,
                   unsafe_skip_party_binding=True)
    # bound (the default), the twin's copy of the key is not the issuer's: only the issuer's doc counts
    assert verify_jwt(token, resolver=DidResolver([doc, twin]), expected_typ="vc+jwt",
                      check_times=False).verification_method == vm["id"]


def test_proof_only_of_a_token_without_the_key_fails_by_name(world: World) -> None:
    result = cli(world, "verify", "--proof-only", JOSE / "credential-jose-minimal.txt", "--json")
    assert result.returncode == 1 and json.loads(result.stdout)["checks"][0]["code"] == "kid_unresolved"


def test_a_key_document_with_a_private_key_warns(world: World) -> None:
    result = cli(world, "verify", "--proof-only", "--key-document", JOSE / "vm-p256.json",
                 JOSE / "credential-jose-minimal.txt")
    assert result.returncode == 0
    assert "holds a private key; only its public key is used" in (result.stderr or result.output)


# -- 3. status lists: verified and expanded once per verifier -----------------------------------


class Counter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.status_proofs = 0
        self.decodes = 0
        real_check = verifier_module.check_proofs
        real_decode = BitstringStatusList.decode.__func__  # type: ignore[attr-defined]

        def check(doc: Any, **kw: Any) -> Any:
            if "BitstringStatusListCredential" in str(doc.get("type")):
                self.status_proofs += 1
            return real_check(doc, **kw)

        def decode(cls: Any, *a: Any, **kw: Any) -> Any:
            self.decodes += 1
            return real_decode(cls, *a, **kw)

        monkeypatch.setattr(verifier_module, "check_proofs", check)
        monkeypatch.setattr(BitstringStatusList, "decode", classmethod(decode))


def test_one_status_list_is_checked_once_for_many_credentials(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    count = Counter(monkeypatch)
    verifier = Verifier(status_lists=world.status_lists)
    for cred in world.many:
        report = verifier.check(cred)
        assert report.verified, report.failures()
    lists = len(world.status_lists)  # a revocation and a suspension list, both on every credential
    assert count.status_proofs == lists and count.decodes == lists
    Verifier(status_lists=world.status_lists).check(world.many[0])  # per verifier: a new one checks again
    assert count.status_proofs == 2 * lists


def test_a_changed_copy_is_checked_on_its_own(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same list id, other content (a forged bit flip): another cache key, and it fails."""
    count = Counter(monkeypatch)
    lists = [dict(lst) for lst in world.status_lists]
    forged = json.loads(json.dumps(lists[0]))
    forged["validFrom"] = "2099-01-01T00:00:00Z"  # "newer", so it is tried first; its proof breaks
    verifier = Verifier(status_lists=[*lists, forged])
    for cred in world.many[:3]:
        report = verifier.check(cred)
        assert report.verified
        assert "did not verify ignored" in next(c for c in report.checks if c.id == "credential.status").reason
    assert count.status_proofs == len(lists) + 1  # the forged copy once too, not once per credential


def test_the_verifier_keeps_its_own_copy_of_a_list(world: World) -> None:
    """A caller changing a list after handing it over cannot ride on the verdict of the original."""
    lists = json.loads(json.dumps(world.status_lists))
    verifier = Verifier(status_lists=lists)
    assert verifier.check(world.many[0]).verified
    for lst in lists:
        lst["credentialSubject"]["encodedList"] = "u" + "A" * 10
    assert verifier.check(world.many[1]).verified  # still the lists as given


def test_the_status_caches_are_bounded(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verifier_module, "STATUS_CACHE_SIZE", 1)
    count = Counter(monkeypatch)
    verifier = Verifier(status_lists=world.status_lists)
    for cred in world.many[:3]:
        assert verifier.check(cred).verified
    assert len(verifier._status_proof_cache) == 1 and len(verifier._decoded_cache) == 1
    assert count.status_proofs == 2 * 3  # two lists, one slot: each evicts the other


def test_a_presentation_with_unknown_status_still_counts_proofs_once(world: World,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's wallet gap waives status; the employer's verifier checks lists once per run too."""
    count = Counter(monkeypatch)
    vp = world.wallet.present(world.many, key=world.holder_key, challenge="c", domain="d")
    verifier = Verifier(VerificationPolicy(), status_lists=world.status_lists)
    report = verifier.check(vp, challenge="c", domain="d")
    assert report.verified, report.failures()
    assert count.status_proofs == len(world.status_lists)
