"""The foundation CLI: ``keys generate``, ``keys show``, ``did show``, ``sign``, ``verify``.

The commands run as a user runs them (in-process through support.cli, faithful to the
console script in a subprocess): stdin not a terminal (so nothing may prompt), checking exit
codes and that no traceback reaches the user. What the CLI writes is checked independently of skillcred: key
files with ``cryptography``, the printed did:key with a base58btc/multicodec encoder written
here, and the signatures of ``sign`` by re-implementing the Data Integrity verification
(vc-di-eddsa / vc-di-ecdsa: hash(canonical proof config) || hash(canonical document)) with
JCS done by ``json.dumps`` (valid for these ASCII-only, number-free documents) and RDFC-1.0
done by pyld's URDNA2015, and signature checks done by ``cryptography``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from conftest import REPO
from support.cli import CliResult, run_cli
from support.independent import PUB_PREFIX, b58decode, b58encode

KEY_TYPES = ("ed25519", "p256", "p384")
SUITES = [
    ("eddsa-rdfc-2022", "ed25519"),
    ("eddsa-jcs-2022", "ed25519"),
    ("ecdsa-rdfc-2019", "p256"),
    ("ecdsa-rdfc-2019", "p384"),
    ("ecdsa-jcs-2019", "p256"),
    ("ecdsa-jcs-2019", "p384"),
]
VC_V2 = "https://www.w3.org/ns/credentials/v2"
CREDENTIAL: dict[str, Any] = {
    "@context": [VC_V2],
    "type": ["VerifiableCredential"],
    "issuer": "did:example:issuer",
    "validFrom": "2025-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:subject", "name": "Jan"},
}
PASSPHRASE = "vakschool-geheim-7781"
WRONG_PASSPHRASE = "definitely-not-it-4412"


# --------------------------------------------------------------------------------------------
# running the CLI


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCRED_")}
    env.update(extra)
    return env


def run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None,
        stdin: str | None = None) -> CliResult:
    proc = run_cli(*args, env=env if env is not None else _env(), cwd=cwd, stdin=stdin)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout
    return proc


def one_line_error(proc: CliResult) -> str:
    """Exit 2 with exactly one line on stderr; return it."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


# --------------------------------------------------------------------------------------------
# independent encoders / verifiers

# (base58btc and the multicodec table: support.independent)


def key_type_of(key: Any) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "ed25519"
    return {"secp256r1": "p256", "secp384r1": "p384"}[key.curve.name]


def public_raw(pub: Any) -> bytes:
    if isinstance(pub, ed25519.Ed25519PublicKey):
        return pub.public_bytes_raw()
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)  # type: ignore[no-any-return]


def did_key_of_pem(path: Path, password: bytes | None = None) -> str:
    """The did:key of a key file, computed with cryptography + the multicodec table only."""
    priv = serialization.load_pem_private_key(path.read_bytes(), password=password)
    kt = key_type_of(priv)
    return "did:key:z" + b58encode(PUB_PREFIX[kt] + public_raw(priv.public_key()))


def public_key_from_multikey(mk: str) -> Any:
    raw = b58decode(mk[1:])
    if raw[:2] == PUB_PREFIX["ed25519"]:
        return ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])
    curve = {PUB_PREFIX["p256"]: ec.SECP256R1(), PUB_PREFIX["p384"]: ec.SECP384R1()}[raw[:2]]
    return ec.EllipticCurvePublicKey.from_encoded_point(curve, raw[2:])


def _contexts() -> dict[str, Any]:
    manifest = json.loads((REPO / "contexts" / "MANIFEST.json").read_text())
    return {url: json.loads((REPO / "contexts" / e["file"]).read_text()) for url, e in manifest.items()}


def _pyld_loader(url: str, options: Any = None) -> dict[str, Any]:
    docs = _contexts()
    if url not in docs:
        raise RuntimeError(f"test loader: {url} not bundled")
    return {"contextUrl": None, "documentUrl": url, "document": docs[url]}


def jcs(value: Any) -> bytes:
    # RFC 8785 equals sorted-key compact JSON for documents with only ASCII strings and no numbers
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def rdfc(value: Any) -> bytes:
    from pyld import jsonld

    out = jsonld.normalize(
        value, {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": _pyld_loader}
    )
    return str(out).encode("utf-8")


def independently_verified(signed: dict[str, Any]) -> bool:
    """Data Integrity verify (single proof, did:key method) without skillcred."""
    proof = dict(signed["proof"])
    doc = {k: v for k, v in signed.items() if k != "proof"}
    suite = proof["cryptosuite"]
    mk = proof["verificationMethod"].split("#", 1)[1]
    pub = public_key_from_multikey(mk)
    kt = key_type_of(pub)
    sig = b58decode(proof.pop("proofValue")[1:])
    config = dict(proof)
    config["@context"] = doc["@context"]
    canon = jcs if suite.endswith("jcs-2022") or suite.endswith("jcs-2019") else rdfc
    h = hashlib.sha384 if kt == "p384" else hashlib.sha256
    hash_data = h(canon(config)).digest() + h(canon(doc)).digest()
    try:
        if kt == "ed25519":
            pub.verify(sig, hash_data)
        else:
            n = len(sig) // 2
            der = encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))
            pub.verify(der, hash_data, ec.ECDSA(hashes.SHA384() if kt == "p384" else hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


# --------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="module")
def plain_keys(keydir: Path) -> dict[str, tuple[Path, str]]:
    """One unencrypted key per type, made by the CLI: path and the did:key it printed."""
    out = {}
    for kt in KEY_TYPES:
        path = keydir / f"{kt}.pem"
        proc = run("keys", "generate", "--type", kt, "-o", path)
        assert proc.returncode == 0, proc.stderr
        out[kt] = (path, proc.stdout.splitlines()[0])
    return out


@pytest.fixture
def credential_file(tmp_path: Path) -> Path:
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(CREDENTIAL))
    return path


# --------------------------------------------------------------------------------------------
# keys generate


@pytest.mark.parametrize("kt", KEY_TYPES)
def test_keys_generate_unencrypted(tmp_path: Path, kt: str) -> None:
    path = tmp_path / "k.pem"
    proc = run("keys", "generate", "--type", kt, "-o", path)
    assert proc.returncode == 0, proc.stderr
    did = proc.stdout.splitlines()[0]
    assert re.fullmatch(r"did:key:z[1-9A-HJ-NP-Za-km-z]+", did)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert did == did_key_of_pem(path)  # the printed DID is the file's key
    assert key_type_of(serialization.load_pem_private_key(path.read_bytes(), None)) == kt
    # no passphrase source and no terminal: it warns instead of prompting
    assert "warning" in proc.stderr.lower() and "unencrypted" in proc.stderr.lower()


@pytest.mark.parametrize("kt", KEY_TYPES)
def test_keys_generate_with_env_passphrase(tmp_path: Path, kt: str) -> None:
    path = tmp_path / "k.pem"
    proc = run("keys", "generate", "--type", kt, "-o", path, env=_env(SKILLCRED_PASSPHRASE=PASSPHRASE))
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr.lower()
    data = path.read_bytes()
    assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(TypeError):  # cryptography: encrypted, a password is required
        serialization.load_pem_private_key(data, password=None)
    assert proc.stdout.splitlines()[0] == did_key_of_pem(path, PASSPHRASE.encode())
    assert PASSPHRASE not in proc.stdout + proc.stderr


def test_keys_generate_with_passphrase_file(tmp_path: Path) -> None:
    pf = tmp_path / "pass.txt"
    pf.write_text(PASSPHRASE + "\n")  # a trailing newline (as editors write) is not part of it
    path = tmp_path / "k.pem"
    proc = run("keys", "generate", "--type", "p256", "-o", path, "--passphrase-file", pf)
    assert proc.returncode == 0, proc.stderr
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    assert proc.stdout.splitlines()[0] == did_key_of_pem(path, PASSPHRASE.encode())
    assert PASSPHRASE not in proc.stdout + proc.stderr
    # the same passphrase file opens it
    shown = run("did", "show", "--key", path, "--passphrase-file", pf)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == proc.stdout.splitlines()[0]


def test_keys_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    first = run("keys", "generate", "-o", path)
    assert first.returncode == 0
    before = path.read_bytes()
    again = run("keys", "generate", "-o", path)
    line = one_line_error(again)
    assert str(path) in line
    assert path.read_bytes() == before
    forced = run("keys", "generate", "--type", "p384", "-o", path, "--force")
    assert forced.returncode == 0, forced.stderr
    assert path.read_bytes() != before
    assert forced.stdout.splitlines()[0] == did_key_of_pem(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_keys_generate_into_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "k.pem"
    line = one_line_error(run("keys", "generate", "-o", path))
    assert str(path) in line
    assert not (tmp_path / "missing").exists()


def test_keys_generate_unknown_type(tmp_path: Path) -> None:
    proc = run("keys", "generate", "--type", "rsa", "-o", tmp_path / "k.pem")
    assert proc.returncode == 2
    assert not (tmp_path / "k.pem").exists()


# --------------------------------------------------------------------------------------------
# keys show / did show


@pytest.mark.parametrize("kt", KEY_TYPES)
def test_did_show_matches_generate(plain_keys: dict[str, tuple[Path, str]], kt: str) -> None:
    path, did = plain_keys[kt]
    proc = run("did", "show", "--key", path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == did
    mk = did.removeprefix("did:key:")
    assert lines[1] == f"{did}#{mk}"
    doc_proc = run("did", "show", "--key", path, "--document")
    doc = json.loads(doc_proc.stdout.split("\n", 2)[2])
    assert doc["id"] == did
    assert doc["verificationMethod"][0]["publicKeyMultibase"] == mk


@pytest.mark.parametrize("kt", KEY_TYPES)
def test_keys_show_prints_only_public_material(plain_keys: dict[str, tuple[Path, str]], kt: str) -> None:
    path, did = plain_keys[kt]
    priv = serialization.load_pem_private_key(path.read_bytes(), None)
    if isinstance(priv, ed25519.Ed25519PrivateKey):
        secret = priv.private_bytes_raw()
    else:
        assert isinstance(priv, ec.EllipticCurvePrivateKey)
        secret = priv.private_numbers().private_value.to_bytes(48 if kt == "p384" else 32, "big")
    import base64

    secret_b64u = base64.urlsafe_b64encode(secret).rstrip(b"=").decode()
    proc = run("keys", "show", "--key", path)
    assert proc.returncode == 0, proc.stderr
    assert f"publicKeyMultibase: {did.removeprefix('did:key:')}" in proc.stdout
    jwk_proc = run("keys", "show", "--key", path, "--jwk")
    jwk = json.loads(jwk_proc.stdout)
    assert "d" not in jwk
    for out in (proc.stdout, jwk_proc.stdout, proc.stderr, jwk_proc.stderr):
        assert secret.hex() not in out and secret_b64u not in out
        assert "PRIVATE KEY" not in out


def test_did_show_encrypted_key(tmp_path: Path) -> None:
    path = tmp_path / "enc.pem"
    gen = run("keys", "generate", "--type", "p384", "-o", path, env=_env(SKILLCRED_PASSPHRASE=PASSPHRASE))
    assert gen.returncode == 0
    did = gen.stdout.splitlines()[0]

    ok = run("did", "show", "--key", path, env=_env(SKILLCRED_PASSPHRASE=PASSPHRASE))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0] == did

    wrong = run("did", "show", "--key", path, env=_env(SKILLCRED_PASSPHRASE=WRONG_PASSPHRASE))
    line = one_line_error(wrong)
    assert str(path) in line
    assert "passphrase" in line.lower()
    assert WRONG_PASSPHRASE not in wrong.stdout + wrong.stderr
    assert PASSPHRASE not in wrong.stdout + wrong.stderr
    assert wrong.stdout == ""

    # no passphrase at all and no terminal: an error, not a prompt
    missing = run("did", "show", "--key", path)
    line = one_line_error(missing)
    assert str(path) in line
    assert missing.stdout == ""


def test_did_show_bad_key_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    assert str(missing) in one_line_error(run("did", "show", "--key", missing))
    junk = tmp_path / "junk.pem"
    junk.write_bytes(os.urandom(200))
    assert str(junk) in one_line_error(run("did", "show", "--key", junk))
    truncated = tmp_path / "trunc.pem"
    gen = run("keys", "generate", "-o", tmp_path / "full.pem")
    assert gen.returncode == 0
    truncated.write_bytes((tmp_path / "full.pem").read_bytes()[:60])
    assert str(truncated) in one_line_error(run("did", "show", "--key", truncated))


# --------------------------------------------------------------------------------------------
# sign / verify


@pytest.mark.parametrize(("suite", "kt"), SUITES)
def test_sign_and_verify_each_suite(
    plain_keys: dict[str, tuple[Path, str]], credential_file: Path, tmp_path: Path, suite: str, kt: str
) -> None:
    key_path, did = plain_keys[kt]
    out = tmp_path / "signed.json"
    proc = run("sign", credential_file, "--key", key_path, "--suite", suite, "-o", out)
    assert proc.returncode == 0, proc.stderr
    signed = json.loads(out.read_text())
    proof = signed["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == suite
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == f"{did}#{did.removeprefix('did:key:')}"
    # the credential itself is unchanged
    assert {k: v for k, v in signed.items() if k != "proof"} == CREDENTIAL
    # the signature verifies by the spec's algorithm, outside skillcred
    assert independently_verified(signed)

    verified = run("verify", "--proof-only", out)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "VERIFIED" in verified.stdout and "NOT VERIFIED" not in verified.stdout

    # tamper with one claim
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["name"] = "Jen"
    assert not independently_verified(tampered)
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    res = run("verify", "--proof-only", bad)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "NOT VERIFIED" in res.stdout
    assert "signature" in res.stdout.lower()

    res_json = run("verify", "--proof-only", "--json", bad)
    assert res_json.returncode == 1
    report = json.loads(res_json.stdout)
    assert report["verified"] is False
    assert any("signature" in p["code"] for p in report["proofs"])

    ok_json = run("verify", "--proof-only", "--json", out)
    assert ok_json.returncode == 0
    assert json.loads(ok_json.stdout)["verified"] is True


@pytest.mark.parametrize("kt", KEY_TYPES)
def test_sign_default_suite_and_stdout(
    plain_keys: dict[str, tuple[Path, str]], credential_file: Path, kt: str
) -> None:
    proc = run("sign", credential_file, "--key", plain_keys[kt][0])
    assert proc.returncode == 0, proc.stderr
    signed = json.loads(proc.stdout)
    assert signed["proof"]["cryptosuite"] == ("eddsa-rdfc-2022" if kt == "ed25519" else "ecdsa-rdfc-2019")
    assert independently_verified(signed)


def test_sign_with_encrypted_key(tmp_path: Path, credential_file: Path) -> None:
    key = tmp_path / "enc.pem"
    assert run("keys", "generate", "-o", key, env=_env(SKILLCRED_PASSPHRASE=PASSPHRASE)).returncode == 0
    out = tmp_path / "s.json"
    ok = run("sign", credential_file, "--key", key, "-o", out, env=_env(SKILLCRED_PASSPHRASE=PASSPHRASE))
    assert ok.returncode == 0, ok.stderr
    assert independently_verified(json.loads(out.read_text()))
    out2 = tmp_path / "s2.json"
    wrong = run("sign", credential_file, "--key", key, "-o", out2, env=_env(SKILLCRED_PASSPHRASE=WRONG_PASSPHRASE))
    assert str(key) in one_line_error(wrong)
    assert WRONG_PASSPHRASE not in wrong.stderr
    assert not out2.exists()


@pytest.mark.parametrize(
    ("kt", "suite"),
    [("ed25519", "ecdsa-rdfc-2019"), ("ed25519", "ecdsa-jcs-2019"), ("p256", "eddsa-rdfc-2022"),
     ("p384", "eddsa-jcs-2022")],
)
def test_sign_with_mismatched_suite(
    plain_keys: dict[str, tuple[Path, str]], credential_file: Path, tmp_path: Path, kt: str, suite: str
) -> None:
    out = tmp_path / "s.json"
    line = one_line_error(run("sign", credential_file, "--key", plain_keys[kt][0], "--suite", suite, "-o", out))
    assert suite in line
    assert not out.exists()


def _sign_doc(doc: Any, tmp_path: Path, key: Path,
              suite: str = "eddsa-rdfc-2022") -> tuple[CliResult, Path]:
    src = tmp_path / "in.json"
    src.write_text(json.dumps(doc))
    out = tmp_path / "out.json"
    return run("sign", src, "--key", key, "--suite", suite, "-o", out), out


def test_sign_refuses_undefined_term(plain_keys: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    doc = dict(CREDENTIAL, foo="bar")
    proc, out = _sign_doc(doc, tmp_path, plain_keys["ed25519"][0])
    assert "foo" in one_line_error(proc)
    assert not out.exists()


def test_sign_refuses_nested_undefined_term(plain_keys: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    doc = copy.deepcopy(CREDENTIAL)
    doc["credentialSubject"]["weldingLevel"] = 3
    proc, out = _sign_doc(doc, tmp_path, plain_keys["ed25519"][0])
    assert "weldingLevel" in one_line_error(proc)
    assert not out.exists()


def test_sign_refuses_unbundled_context(plain_keys: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    url = "https://roc.example/contexts/skills-v1.jsonld"
    doc = dict(CREDENTIAL, **{"@context": [VC_V2, url]})
    proc, out = _sign_doc(doc, tmp_path, plain_keys["ed25519"][0])
    assert url in one_line_error(proc)
    assert not out.exists()


def test_sign_non_json_input(plain_keys: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    src = tmp_path / "credential.json"
    src.write_text("{ this is not json")
    line = one_line_error(run("sign", src, "--key", plain_keys["ed25519"][0]))
    assert str(src) in line


def test_sign_json_that_is_not_an_object(plain_keys: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    src = tmp_path / "list.json"
    src.write_text("[1, 2]")
    assert str(src) in one_line_error(run("sign", src, "--key", plain_keys["ed25519"][0]))


def test_sign_missing_input_file(plain_keys: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    src = tmp_path / "missing.json"
    assert str(src) in one_line_error(run("sign", src, "--key", plain_keys["ed25519"][0]))


def test_sign_missing_key_file(credential_file: Path, tmp_path: Path) -> None:
    key = tmp_path / "missing.pem"
    assert str(key) in one_line_error(run("sign", credential_file, "--key", key))


def test_sign_from_stdin(plain_keys: dict[str, tuple[Path, str]]) -> None:
    proc = run("sign", "-", "--key", plain_keys["p256"][0], "--suite", "ecdsa-jcs-2019", stdin=json.dumps(CREDENTIAL))
    assert proc.returncode == 0, proc.stderr
    assert independently_verified(json.loads(proc.stdout))


def test_verify_non_json(tmp_path: Path) -> None:
    src = tmp_path / "x.json"
    src.write_bytes(b"\x00\x01 not json")
    assert str(src) in one_line_error(run("verify", "--proof-only", src))


def test_verify_missing_file(tmp_path: Path) -> None:
    src = tmp_path / "missing.json"
    assert str(src) in one_line_error(run("verify", "--proof-only", src))


def test_verify_document_without_proof(credential_file: Path) -> None:
    proc = run("verify", "--proof-only", credential_file)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "NOT VERIFIED" in proc.stdout
    js = run("verify", "--proof-only", "--json", credential_file)
    assert js.returncode == 1
    assert json.loads(js.stdout)["verified"] is False


def test_verify_proof_with_did_web_method_is_not_fetched(
    plain_keys: dict[str, tuple[Path, str]], credential_file: Path, tmp_path: Path
) -> None:
    """A proof naming a did:web that is not stored locally fails (exit 1), offline."""
    out = tmp_path / "s.json"
    assert run("sign", credential_file, "--key", plain_keys["ed25519"][0], "-o", out).returncode == 0
    signed = json.loads(out.read_text())
    signed["proof"]["verificationMethod"] = "did:web:roc.example#key-1"
    out.write_text(json.dumps(signed))
    proc = run("verify", "--proof-only", out)
    assert proc.returncode == 1
    assert "offline" in proc.stdout


def independently_signed(doc: dict[str, Any], key_path: Path, suite: str, vm: str) -> dict[str, Any]:
    """A Data Integrity proof made without skillcred (JCS suites, cryptography signing)."""
    priv = serialization.load_pem_private_key(key_path.read_bytes(), None)
    kt = key_type_of(priv)
    proof = {"type": "DataIntegrityProof", "cryptosuite": suite, "created": "2025-02-01T10:00:00Z",
             "verificationMethod": vm, "proofPurpose": "assertionMethod", "@context": doc["@context"]}
    h = hashlib.sha384 if kt == "p384" else hashlib.sha256
    hash_data = h(jcs(proof)).digest() + h(jcs(doc)).digest()
    if isinstance(priv, ed25519.Ed25519PrivateKey):
        sig = priv.sign(hash_data)
    else:
        assert isinstance(priv, ec.EllipticCurvePrivateKey)
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        digest = hashes.SHA384() if kt == "p384" else hashes.SHA256()
        r, s_ = decode_dss_signature(priv.sign(hash_data, ec.ECDSA(digest)))
        n = 48 if kt == "p384" else 32
        sig = r.to_bytes(n, "big") + s_.to_bytes(n, "big")
    proof["proofValue"] = "z" + b58encode(sig)
    return dict(doc, proof=proof)


@pytest.mark.parametrize(("suite", "kt"), [("eddsa-jcs-2022", "ed25519"), ("ecdsa-jcs-2019", "p256"),
                                           ("ecdsa-jcs-2019", "p384")])
def test_verify_independently_signed_did_key_proof(
    plain_keys: dict[str, tuple[Path, str]], tmp_path: Path, suite: str, kt: str
) -> None:
    key_path, did = plain_keys[kt]
    signed = independently_signed(CREDENTIAL, key_path, suite, f"{did}#{did.removeprefix('did:key:')}")
    assert independently_verified(signed)
    out = tmp_path / "s.json"
    out.write_text(json.dumps(signed))
    proc = run("verify", "--proof-only", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    signed["proof"]["created"] = "2025-02-01T10:00:01Z"  # proof options are signed too
    out.write_text(json.dumps(signed))
    assert run("verify", "--proof-only", out).returncode == 1


def test_verify_with_key_document_for_did_web(
    plain_keys: dict[str, tuple[Path, str]], tmp_path: Path
) -> None:
    """A did:web proof verifies only with ``--key-document``, and only if it authorizes it."""
    key_path, did_key = plain_keys["ed25519"]
    mk = did_key.removeprefix("did:key:")
    did = "did:web:roc.example"
    vm = f"{did}#key-1"
    doc = {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
           "id": did,
           "verificationMethod": [{"id": vm, "type": "Multikey", "controller": did, "publicKeyMultibase": mk}],
           "assertionMethod": [vm]}
    did_doc = tmp_path / "did.json"
    did_doc.write_text(json.dumps(doc))
    out = tmp_path / "s.json"
    out.write_text(json.dumps(independently_signed(CREDENTIAL, key_path, "eddsa-jcs-2022", vm)))

    ok = run("verify", "--proof-only", out, "--key-document", did_doc)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    offline = run("verify", "--proof-only", out)  # nothing stored: never fetched, not verified
    assert offline.returncode == 1
    assert "offline" in offline.stdout

    doc["assertionMethod"] = []
    doc["authentication"] = [vm]
    did_doc.write_text(json.dumps(doc))
    res = run("verify", "--proof-only", "--json", out, "--key-document", did_doc)
    assert res.returncode == 1
    assert json.loads(res.stdout)["proofs"][0]["code"] == "verification_method_not_authorized"

    bad_doc = tmp_path / "bad.json"
    bad_doc.write_text("not json")
    assert str(bad_doc) in one_line_error(run("verify", "--proof-only", out, "--key-document", bad_doc))


# --------------------------------------------------------------------------------------------
# help


@pytest.mark.parametrize(
    ("args", "purpose"),
    [
        ((), "Verifiable Credentials"),
        (("keys",), "signing keys"),
        (("keys", "generate"), "Generate a key pair"),
        (("keys", "show"), "public half"),
        (("did",), "DIDs"),
        (("did", "show"), "did:key"),
        (("sign",), "Data Integrity proof"),
        (("verify",), "Verify"),
    ],
)
def test_help(args: tuple[str, ...], purpose: str) -> None:
    proc = run(*args, "--help")
    assert proc.returncode == 0, proc.stderr
    assert purpose in proc.stdout
    assert proc.stdout.startswith("Usage:")


def test_help_via_click_runner() -> None:
    from skillcred._cli import cli

    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("keys", "did", "sign", "verify"):
        assert command in result.output


def test_unknown_command_is_a_usage_error() -> None:
    proc = run("frobnicate")
    assert proc.returncode == 2
