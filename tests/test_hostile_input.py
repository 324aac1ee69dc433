"""Malformed and hostile input: every case ends in a clear failure, in bounded work and memory,
never a hang and never a traceback.

Through the command line (exit 2 for unusable input with a one-line message, exit 1 with a
report for a document that parses but does not verify) and through the library (a
``MalformedDocument`` from the readers, a report from the verifier). "Bounded" is counted, never
timed (a busy machine must not fail a test a quiet one passes): library calls run under a
budget of function calls (:class:`work_meter.WorkBudget`), poison graphs are held to the
canonicalizer's documented limits (:class:`work_meter.RdfcWork`), GZIP bombs to the bytes they
inflate, memory to its peak. A command-line run only has a hang guard (``HANG_GUARD``), which
fails the test saying so instead of hanging the run; how fast refusals are is measured in
``benchmarks/refusals.py``.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import os
import subprocess
import sys
import tracemalloc
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from multiformats import multibase

from conftest import REPO
from skillcred._internal import base58
from skillcred._internal.fileio import (
    MAX_JSON_BYTES,
    dump_json,
    load_json_file,
    load_json_object,
    parse_json,
)
from skillcred.did import key_did, key_did_url
from skillcred.errors import CanonicalizationError, MalformedDocument
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair, read_key_file
from skillcred.proofs import add_proof, check_proofs
from skillcred.status import MAX_LIST_BYTES
from skillcred.trust import TrustList
from skillcred.verify import VerificationPolicy, VerificationReport, Verifier
from skillcred.wallet import Wallet
from work_meter import InflatedBytes, RdfcWork, WorkBudget

SKILLCRED = Path(sys.executable).with_name("skillcred")
ACHIEVEMENTS = REPO / "examples" / "achievements"
HANG_GUARD = 120.0  # seconds; only stops a hung command from hanging the run, never a verdict
VC_V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
CHALLENGE = "hostile-challenge"
DOMAIN = "werkgever.example"
FIFTY_MB = 50 * 1024 * 1024
# Work budgets in function calls (WorkBudget): what the code needs today, measured with CPython
# 3.11, is in the comments; the headroom lets the code change, not a runaway path pass.
BUDGET_READ = 10_000  # refusing one input file or byte string (today at most about 250)
BUDGET_NESTING = 50_000  # all the refusals of test_100000_levels_of_nesting_library (about 3,100)
BUDGET_VERIFY = 1_000_000  # one Verifier.check: a whole verification takes about 93,000, a refusal less
MAX_RDFC_RUNS = 2  # RDFC-1.0 runs one proof may start (document and proof options; today 1)


@dataclass
class Setup:
    root: Path
    home: Path
    issuer: Issuer
    key: KeyPair
    wallet: Wallet
    credential: dict[str, Any]
    status: list[dict[str, Any]]
    trust: TrustList


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("hostile")
    init_issuer(root / "roc", name="ROC Techniek", url="https://roc-techniek.example")
    iss = Issuer.open(root / "roc")
    wallet = Wallet.init(root / "wallet")
    record, _ = iss.issue(load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml"), wallet.holder, level="3")
    trust = TrustList()
    trust.add(iss.profile.did, name="ROC Techniek")
    home = root / "home"
    home.mkdir()
    yield Setup(root, home, iss, read_key_file(root / "roc" / "issuer-key.pem"), wallet, dict(record.document),
                [d for _, d in iss.status_list_credentials()], trust)
    iss.close()


def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLCRED_", "XDG_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    return env


def _hang_guarded(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=HANG_GUARD, check=False, **kwargs)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hang guard: {' '.join(cmd[:3])} ... still running after {HANG_GUARD:.0f}s")


def run(setup: Setup, *args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI under the hang guard. Asserts no traceback, no crash."""
    proc = _hang_guarded([str(SKILLCRED), *map(str, args)], stdin=subprocess.DEVNULL if stdin is None else None,
                         input=stdin, env=cli_env(setup.home))
    out = subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                      proc.stderr.decode("utf-8", "replace"))
    assert "Traceback" not in out.stderr + out.stdout, out.stderr
    assert "unexpected" not in out.stderr, out.stderr  # errors_to_exit's catch-all for unplanned errors
    return out


def assert_unusable(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skillcred: error:"), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def peak_rss_mb(setup: Setup, *args: str | Path, stdin: bytes | None = None) -> tuple[int, str]:
    """Run the CLI entry point in a child Python that reports its own peak RSS (MB) at exit."""
    marker = setup.root / f"rss-{uuid.uuid4().hex}"
    code = (
        "import atexit, resource, sys\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write("
        "str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))\n"
        f"sys.argv = ['skillcred'] + {[str(a) for a in args]!r}\n"
        "from skillcred._cli import main\n"
        "main()\n"
    )
    proc = _hang_guarded([sys.executable, "-c", code], input=stdin if stdin is not None else b"",
                         env=cli_env(setup.home))
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert proc.returncode == 2, err
    return int(marker.read_text()) // 1024, err  # ru_maxrss is in KiB on Linux


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# --------------------------------------------------------------------------------------------
# Not JSON


@pytest.mark.parametrize(("name", "content"), [
    ("garbage", b"this is not JSON {"),
    ("binary", bytes(range(256)) * 4),
    ("truncated", b'{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": '),
    ("nan", b'{"a": NaN}'),
    ("huge-integer", b'{"a": ' + b"7" * 5000 + b"}"),
    ("empty", b""),
    ("top-level-array", b"[{}, {}]"),
])
def test_not_json_cli_and_library(setup: Setup, tmp_path: Path, name: str, content: bytes) -> None:
    path = write(tmp_path / f"{name}.json", content)
    proc = run(setup, "verify", path, "--json")
    assert_unusable(proc, str(path))
    assert proc.stdout == ""
    with WorkBudget(BUDGET_READ, "refusing a file that is not a JSON object"), \
            pytest.raises(MalformedDocument) as info:
        load_json_object(path)  # what the CLI reads a document with: a JSON object or nothing
    assert str(path) in str(info.value) and "\n" not in str(info.value)


# --------------------------------------------------------------------------------------------
# Deep nesting


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_100000_levels_of_nesting_cli(setup: Setup, tmp_path: Path, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    deep = write(tmp_path / "deep.json", opener * 100_000 + "1" + closer * 100_000)
    proc = run(setup, "verify", deep)
    assert_unusable(proc, "nests deeper")
    # the same file where a status list or a trust list is expected
    doc = write(tmp_path / "cred.json", json.dumps(setup.credential))
    proc = run(setup, "verify", doc, "--status-list", deep)
    assert_unusable(proc, "nests deeper")
    proc = run(setup, "verify", doc, "--trust", deep)
    assert_unusable(proc, "nests deeper")


def test_100000_levels_of_nesting_library(setup: Setup) -> None:
    # an already parsed structure that deep (built without recursion)
    deep: list[Any] = []
    cur = deep
    for _ in range(100_000):
        nxt: list[Any] = []
        cur.append(nxt)
        cur = nxt
    cred = copy.deepcopy(setup.credential)
    cred["credentialSubject"]["note"] = deep  # a credential whose subject hides a deep structure
    with WorkBudget(BUDGET_NESTING, "refusing 100,000 levels of nesting"):
        with pytest.raises(MalformedDocument, match="nests deeper"):
            parse_json(b"[" * 100_000 + b"]" * 100_000)
        report = Verifier().check(deep)  # type: ignore[arg-type]
        in_subject = Verifier().check(cred)
        proofs = check_proofs(cred)
        with pytest.raises(MalformedDocument):
            add_proof(cred, setup.key, verification_method=setup.issuer.profile.verification_method)
    assert isinstance(report, VerificationReport) and report.verified is False
    assert [(c.id, c.code) for c in report.checks] == [("document.shape", "malformed_document")]
    assert [(c.id, c.status) for c in in_subject.checks] == [("document.shape", "failed")]
    assert not proofs.verified


# --------------------------------------------------------------------------------------------
# Size


@pytest.fixture(scope="module")
def fifty_mb(setup: Setup) -> Path:
    """A 50 MB JSON document: one string."""
    path = setup.root / "fifty.json"
    with path.open("wb") as fh:
        fh.write(b'{"@context": "https://www.w3.org/ns/credentials/v2", "x": "')
        chunk = b"A" * (1024 * 1024)
        for _ in range(50):
            fh.write(chunk)
        fh.write(b'"}')
    assert path.stat().st_size > FIFTY_MB
    return path


def test_50mb_file_is_refused_by_the_size_limit_cli(setup: Setup, fifty_mb: Path) -> None:
    proc = run(setup, "verify", fifty_mb, "--json")
    assert_unusable(proc, "larger than")
    rss, err = peak_rss_mb(setup, "verify", fifty_mb)
    assert "larger than" in err
    assert rss < 500, f"peak RSS {rss} MB"
    doc = write(setup.root / "small.json", json.dumps(setup.credential))
    proc = run(setup, "verify", doc, "--status-list", fifty_mb)
    assert_unusable(proc, "larger than")


def test_50mb_on_stdin_is_refused(setup: Setup, fifty_mb: Path) -> None:
    data = fifty_mb.read_bytes()
    proc = run(setup, "verify", "-", stdin=data)
    assert_unusable(proc, "larger than")
    rss, _ = peak_rss_mb(setup, "verify", "-", stdin=data)
    assert rss < 500, f"peak RSS {rss} MB"


def test_50mb_file_is_refused_before_it_is_read_library(fifty_mb: Path) -> None:
    tracemalloc.start()
    try:
        with WorkBudget(BUDGET_READ, "refusing a 50 MB file"), pytest.raises(MalformedDocument, match="larger than"):
            load_json_file(fifty_mb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024  # refused on its size: the file is never read into memory
    too_big = b'"' + b"A" * (MAX_JSON_BYTES + 1) + b'"'
    with WorkBudget(BUDGET_READ, "refusing too many bytes"), pytest.raises(MalformedDocument, match="larger than"):
        parse_json(too_big)


# --------------------------------------------------------------------------------------------
# Proof values


@pytest.mark.parametrize(("value", "code"), [
    (multibase.encode(b"\x07" * 63, "base58btc"), "signature_invalid"),
    (multibase.encode(b"\x07" * 65, "base58btc"), "signature_invalid"),
    (multibase.encode(b"", "base58btc"), "signature_invalid"),
    (multibase.encode(b"\x07" * 1_000, "base58btc"), "proof_value_malformed"),  # refused on its length
    ("z0OIl", "proof_value_malformed"),  # not in the base58 alphabet
    ("u" + base64.urlsafe_b64encode(b"\x07" * 64).decode(), "proof_value_malformed"),  # not base58btc
    (12345, "proof_value_malformed"),
])
def test_proof_value_of_the_wrong_length_or_form(setup: Setup, tmp_path: Path, value: Any, code: str) -> None:
    cred = copy.deepcopy(setup.credential)
    cred["proof"]["proofValue"] = value
    report = Verifier(VerificationPolicy(trust=setup.trust), status_lists=setup.status).check(cred)
    proof = next(c for c in report.checks if c.id == "credential.proof")
    assert (proof.status, proof.code) == ("failed", code)
    assert report.verified is False
    if isinstance(value, str) and len(value) < 1000:
        path = write(tmp_path / "cred.json", json.dumps(cred))
        proc = run(setup, "verify", path, "--json")
        assert proc.returncode == 1
        data = json.loads(proc.stdout)
        assert next(c for c in data["checks"] if c["id"] == "credential.proof")["code"] == code


def test_megabytes_of_proof_value_or_method_are_refused_before_decoding(
        setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Base58 decoding is quadratic: 6 MB of it would take hours. The verifier refuses such
    values on their length (here in the credential, the presentation and a status list).

    Bounded by counting: no base58 text longer than ``MAX_DECODE_CHARS`` is ever decoded (the
    decoder is spied on: its inner loop makes no function calls a budget could count), and
    the verifier's calls stay within a budget."""
    decoded = _spy_on_base58(monkeypatch)
    huge = "z" + "2" * (6 * 1024 * 1024)
    with WorkBudget(BUDGET_VERIFY, "refusing a 6 MB proofValue"):
        cred = copy.deepcopy(setup.credential)
        cred["proof"]["proofValue"] = huge
        report = Verifier(VerificationPolicy(trust=setup.trust), status_lists=setup.status).check(cred)
    proof = next(c for c in report.checks if c.id == "credential.proof")
    assert (proof.status, proof.code) == ("failed", "proof_value_malformed")
    with WorkBudget(BUDGET_VERIFY, "refusing a 6 MB verificationMethod"):
        cred = copy.deepcopy(setup.credential)
        cred["proof"]["verificationMethod"] = "did:key:" + huge + "#" + huge[:100]
        report = Verifier(VerificationPolicy(trust=setup.trust), status_lists=setup.status).check(cred)
    proof = next(c for c in report.checks if c.id == "credential.proof")
    assert (proof.status, proof.code) == ("failed", "verification_method_unresolved")
    lists = copy.deepcopy(setup.status)
    for lst in lists:
        lst["proof"]["proofValue"] = huge
    with WorkBudget(BUDGET_VERIFY, "refusing status lists with a 6 MB proofValue"):
        report = Verifier(VerificationPolicy(trust=setup.trust), status_lists=lists).check(setup.credential)
    status = next(c for c in report.checks if c.id == "credential.status")
    assert (status.status, status.code) == ("indeterminate", "status_list_invalid")
    assert decoded, "the spy saw no decoding at all (the real signatures are base58 too)"
    assert max(decoded) <= base58.MAX_DECODE_CHARS + 1  # + the "z" prefix
    vp = setup.wallet.present([setup.credential], key=setup.wallet.holder_key(), challenge=CHALLENGE, domain=DOMAIN)
    vp["proof"]["proofValue"] = huge
    path = write(tmp_path / "vp.json", json.dumps(vp))
    assert path.stat().st_size < MAX_JSON_BYTES
    proc = run(setup, "verify", path, "--challenge", CHALLENGE, "--domain", DOMAIN, "--json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert {c["id"]: c["code"] for c in data["checks"]}["presentation.proof"] == "proof_value_malformed"


def _spy_on_base58(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Lengths of the texts base58 actually decoded (those it refused before decoding are left
    out), through skillcred's decoder and the multiformats one alike."""
    decoded: list[int] = []

    def spying(real: Any) -> Any:
        def decode(text: Any, *args: Any, **kwargs: Any) -> Any:
            result = real(text, *args, **kwargs)
            decoded.append(len(text))
            return result

        return decode

    monkeypatch.setattr(base58, "decode", spying(base58.decode))
    monkeypatch.setattr(multibase, "decode", spying(multibase.decode))
    return decoded


# --------------------------------------------------------------------------------------------
# A graph built to make RDF canonicalization explode


def clique_document(n: int, subject: str, issuer: str) -> dict[str, Any]:
    """A credential whose subject holds n blank nodes, each linked to every other one
    (``linkedTo`` is defined by the examples context's @vocab, so the terms check passes)."""
    nodes = [{"@id": f"_:b{i}", "linkedTo": [{"@id": f"_:b{j}"} for j in range(n) if j != i]} for i in range(n)]
    return {
        "@context": [VC_V2, EXAMPLES_V2],
        "id": "urn:uuid:9b0c4d44-poison",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": subject, "graph": nodes},
    }


def fake_proof(key: KeyPair, purpose: str = "assertionMethod", **extra: str) -> dict[str, Any]:
    return {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2025-01-01T00:00:00Z",
            "verificationMethod": key_did_url(key.public_key), "proofPurpose": purpose,
            "proofValue": multibase.encode(b"\x01" * 64, "base58btc"), **extra}


@pytest.mark.parametrize("n", [10, 24])
def test_poison_graph_cannot_be_signed(setup: Setup, n: int) -> None:
    key = KeyPair.generate("ed25519")
    doc = clique_document(n, setup.wallet.holder, key_did(key.public_key))
    with RdfcWork() as work, pytest.raises(CanonicalizationError) as info:
        add_proof(doc, key, verification_method=key_did_url(key.public_key))
    assert info.value.code == "canonicalization_failed"
    assert "calls to Hash N-Degree Quads" in str(info.value)  # the documented call budget tripped
    assert len(work.runs) <= MAX_RDFC_RUNS
    work.assert_stopped_at_the_limits()


@pytest.mark.parametrize("n", [10, 24])
def test_poison_graph_with_a_fake_proof_fails_the_proof_within_the_work_limits(setup: Setup, n: int) -> None:
    key = KeyPair.generate("ed25519")
    doc = clique_document(n, setup.wallet.holder, key_did(key.public_key))
    doc["proof"] = fake_proof(key)
    with RdfcWork() as work:
        report = Verifier().check(doc)
    assert len(work.runs) <= MAX_RDFC_RUNS
    work.assert_stopped_at_the_limits()
    by_id = {c.id: c for c in report.checks}
    assert by_id["credential.terms"].status == "passed"  # well-formed JSON-LD, every term defined
    assert (by_id["credential.proof"].status, by_id["credential.proof"].code) == ("failed", "canonicalization_failed")
    assert report.verified is False


def test_poison_graph_inside_a_presentation(setup: Setup, tmp_path: Path) -> None:
    key = KeyPair.generate("ed25519")
    cred = clique_document(10, setup.wallet.holder, key_did(key.public_key))
    cred["proof"] = fake_proof(key)
    vp = {"@context": [VC_V2], "type": ["VerifiablePresentation"], "holder": setup.wallet.holder,
          "verifiableCredential": [cred],
          "proof": {**fake_proof(setup.wallet.holder_key(), "authentication", challenge=CHALLENGE, domain=DOMAIN),
                    "verificationMethod": setup.wallet.verification_method}}
    with RdfcWork() as work:
        report = Verifier().check(vp, challenge=CHALLENGE, domain=DOMAIN)
    assert len(work.runs) <= 2 * MAX_RDFC_RUNS  # the presentation's proof and the credential's
    work.assert_stopped_at_the_limits()
    by_id = {c.id: c for c in report.checks}
    vp_proof = by_id["presentation.proof"]
    assert (vp_proof.status, vp_proof.code) == ("failed", "canonicalization_failed")
    assert by_id["credential[0].proof"].code == "canonicalization_failed"
    path = write(tmp_path / "poison-vp.json", json.dumps(vp))
    proc = run(setup, "verify", path, "--challenge", CHALLENGE, "--domain", DOMAIN, "--json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert {c["id"]: c["code"] for c in data["checks"]}["presentation.proof"] == "canonicalization_failed"


# --------------------------------------------------------------------------------------------
# A status list that decompresses to far more than any real list


def test_status_list_gzip_bomb_is_refused_in_bounded_memory(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)  # 64 MiB of zeros, ~64 KB packed
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    lists = []
    for lst in setup.status:  # signed by the real issuer, so the list itself verifies
        unsigned = {k: copy.deepcopy(v) for k, v in lst.items() if k != "proof"}
        unsigned["credentialSubject"]["encodedList"] = encoded
        lists.append(add_proof(unsigned, setup.key, verification_method=setup.issuer.profile.verification_method))
    verifier = Verifier(VerificationPolicy(trust=setup.trust), status_lists=lists)
    inflated = InflatedBytes().install(monkeypatch)
    tracemalloc.start()
    try:
        report = verifier.check(setup.credential)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    # bounded in bytes inflated: each list stops one byte past the cap, 64 MiB are never unpacked
    assert 0 < inflated.decompressors <= len(lists)
    assert inflated.bytes <= inflated.decompressors * (MAX_LIST_BYTES + 1)
    status = next(c for c in report.checks if c.id == "credential.status")
    assert (status.status, status.code) == ("indeterminate", "status_malformed")
    assert "decompresses to more than" in status.reason


# --------------------------------------------------------------------------------------------
# Fields of the wrong type: a report, never an exception


WRONG_VALUES: list[Any] = [None, 5, "x", [], {}, [1], [{}], True, 1.5, {"id": 5}, ["x", 5],
                           "2025-13-45T00:00:00Z", {"type": "BitstringStatusListEntry"}]
FIELDS: list[tuple[str, ...]] = [
    ("@context",), ("type",), ("id",), ("issuer",), ("validFrom",), ("validUntil",), ("credentialSubject",),
    ("credentialSubject", "id"), ("credentialSubject", "achievement"),
    ("credentialSubject", "achievement", "achievementType"), ("credentialSubject", "achievement", "alignment"),
    ("credentialStatus",), ("credentialSchema",), ("proof",), ("proof", "type"), ("proof", "cryptosuite"),
    ("proof", "verificationMethod"), ("proof", "created"), ("proof", "expires"),
]


def test_fields_of_the_wrong_type_give_a_report(setup: Setup) -> None:
    # a trust entry with a framework restriction reads the alignment too
    trust = TrustList()
    trust.add(setup.issuer.profile.did, name="ROC", may_attest=["Competency", "framework:ROC Techniek Vaardigheden"])
    verifier = Verifier(VerificationPolicy(trust=trust), status_lists=setup.status)
    for path in FIELDS:
        for value in WRONG_VALUES:
            doc = copy.deepcopy(setup.credential)
            target = doc
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
            with WorkBudget(BUDGET_VERIFY, f"verifying with {'.'.join(path)} = {value!r}"):
                report = verifier.check(doc)
            assert isinstance(report, VerificationReport), (path, value)
            assert report.verified is False, (path, value)  # every field is covered by the signature


def test_presentation_of_odd_things_cli(setup: Setup, tmp_path: Path) -> None:
    vp = setup.wallet.present([setup.credential], key=setup.wallet.holder_key(), challenge=CHALLENGE, domain=DOMAIN)
    odd = copy.deepcopy(vp)
    odd["verifiableCredential"] = [5, "a string", None, {"type": "VerifiableCredential", "credentialSubject": []},
                                   {"type": ["VerifiableCredential"], "credentialSubject": {"achievement": "x"}}]
    for doc in (odd, {**vp, "proof": "signed, honestly"}, {**vp, "verifiableCredential": {"not": "a list"}}):
        path = write(tmp_path / "odd.json", dump_json(doc))
        for fmt in ([], ["--json"]):
            proc = run(setup, "verify", path, "--challenge", CHALLENGE, "--domain", DOMAIN, *fmt)
            assert proc.returncode == 1, proc.stderr
            if fmt:
                assert json.loads(proc.stdout)["verified"] is False
            else:
                assert proc.stdout.startswith("NOT VERIFIED")


# --------------------------------------------------------------------------------------------
# the nesting limit of the library entry points (check_depth) and the JSON copy


def _nest(levels: int, kind: str) -> Any:
    """A value nested exactly ``levels`` deep, counting the innermost scalar as a level."""
    value: Any = "leaf"
    for i in range(levels - 1):
        value = {"k": value} if (kind == "dict" or (kind == "mixed" and i % 2)) else [value]
    return value


@pytest.mark.parametrize("kind", ["dict", "list", "mixed"])
def test_check_depth_is_exact_at_the_limit(kind: str) -> None:
    from skillcred._internal.fileio import MAX_JSON_DEPTH, check_depth

    check_depth(_nest(MAX_JSON_DEPTH, kind))
    with pytest.raises(MalformedDocument, match=f"deeper than {MAX_JSON_DEPTH} levels"):
        check_depth(_nest(MAX_JSON_DEPTH + 1, kind))
    # the deep branch hidden behind wide shallow ones is still found
    wide = {f"k{i}": {"a": [1, 2, {"b": None}]} for i in range(200)}
    wide["zz"] = _nest(MAX_JSON_DEPTH, kind)
    with pytest.raises(MalformedDocument):
        check_depth(wide)
    check_depth({"a": [], "b": {}, "c": [[]]})
    # far deeper than the interpreter's recursion limit: refused, not a RecursionError
    with pytest.raises(MalformedDocument):
        check_depth(_nest(sys.getrecursionlimit() * 3, kind))


def test_copy_json_is_deep_and_independent() -> None:
    from skillcred._internal.fileio import copy_json

    original = {"a": [1, {"b": ["c", {"d": None}]}], "e": {"f": 1.5, "g": True}}
    snapshot = json.dumps(original)
    copied = copy_json(original)
    assert copied == original
    copied["a"][1]["b"][1]["d"] = "changed"
    copied["e"]["new"] = 1
    copied["a"].append(2)
    assert json.dumps(original) == snapshot
