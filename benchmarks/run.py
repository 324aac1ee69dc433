#!/usr/bin/env python3
"""The benchmark of record: issue, verify, presentations and a big batch, Python next to JavaScript.

    python benchmarks/run.py --json          # one JSON object (what CI and issues quote)
    python benchmarks/run.py --quick --json  # the same in well under a minute (batch of 5,000)
    python benchmarks/run.py                 # a table
    python benchmarks/run.py --reference     # the JSON-LD fast path off (pyld only), for comparison

Per suite (eddsa-rdfc-2022 with Ed25519, ecdsa-rdfc-2019 with P-256, eddsa-jcs-2022 with
Ed25519), on the realistic Open Badges credential of ``benchmarks/sign_verify.py`` (about
2.6 KB, 52 N-Quads), each credential distinct (its own id and subject), one core:

* ``issue_per_s``: ``add_proof`` (canonicalize document and proof options, hash, sign);
* ``verify_per_s``: ``check_proofs`` (the same plus resolving the did:key and verifying);
* ``vp10_verify_ms``: a presentation of 10 credentials signed by the holder with a challenge:
  the presentation's proof and the 10 credentials' proofs (what ``vc.verify`` checks in JS);
* ``vp10_full_verify_ms``: the same through the employer's ``Verifier`` (every check: shape,
  contexts and terms, proofs, issuer binding, validity, status, schema, holder binding).

One institute (``institute``): ``full_verify_per_s`` is the employer's ``Verifier`` (every
check: shape, contexts and terms, proof, issuer, validity, revocation and suspension status,
trust list, schema) over at least 400 *distinct* credentials issued by one institute with
``Issuer.issue`` (each its own subject and status index), the institute's status lists and a
trust list naming it given once; ``proof_only_per_s`` is ``check_proofs`` over the same
credentials; ``full_over_proof_only`` their ratio (issue 14's target: at least 0.8), and
``status_proof_checks`` how many status-list proof checks the whole run made (one per list).

Overall: ``batch_100k_s`` is the wall time of ``Issuer.issue_batch`` over a roster of 100,000
rows (5,000 with ``--quick``; ``batch_n`` says which), building, validating, signing,
registering and status-allocating every credential and writing it to a folder (with
``--batch-jsonl``: to one JSON Lines archive with its journal; ``batch_output`` says which), using
every core; ``peak_rss_mb`` is the peak resident memory of this process and of its worker processes,
with ``batch_rss_mb`` samples taken as the batch progresses (flat memory = flat samples).

If Node.js is available (and not ``--no-js``), the same per-suite measurements run on
``@digitalbazaar/vc`` (installed with npm into ``temp/benchmarks/node_modules``, which is
git-ignored) on the same credentials, and ``ratio`` gives Python / JavaScript per metric.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from sign_verify import skill_credential  # noqa: E402
from skillcred.did import key_did, key_did_url  # noqa: E402
from skillcred.keys import KeyPair, KeyType  # noqa: E402
from skillcred.proofs import add_proof, check_proofs  # noqa: E402
from skillcred.verify import VerificationPolicy, Verifier  # noqa: E402

try:  # absent before the fast path existed (benchmarking an older checkout)
    from skillcred._internal import fastld, jsonld
except ImportError:  # pragma: no cover
    fastld = jsonld = None  # type: ignore[assignment]

SUITES: tuple[tuple[str, KeyType], ...] = (
    ("eddsa-rdfc-2022", "ed25519"),
    ("ecdsa-rdfc-2019", "p256"),
    ("eddsa-jcs-2022", "ed25519"),
)
CREATED = datetime(2025, 7, 4, 9, 30, tzinfo=UTC)
NODE_DIR = REPO / "temp" / "benchmarks"
NODE_PACKAGES = (
    "@digitalbazaar/vc@7", "@digitalbazaar/data-integrity@2",
    "@digitalbazaar/eddsa-rdfc-2022-cryptosuite@1", "@digitalbazaar/ecdsa-rdfc-2019-cryptosuite@1",
    "@digitalbazaar/eddsa-jcs-2022-cryptosuite@1", "@digitalbazaar/ed25519-multikey@1",
    "@digitalbazaar/ecdsa-multikey@1",
)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def _did_key() -> str:
    """A fresh Ed25519 did:key without the key generation cost (subjects only need the DID)."""
    from multiformats import multibase

    return "did:key:" + multibase.encode(b"\xed\x01" + os.urandom(32), "base58btc")


def credentials(n: int, issuer: str) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        c = skill_credential(issuer, _did_key())
        c["id"] = f"urn:uuid:00000000-0000-4000-8000-{i:012d}"
        out.append(c)
    return out


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else 0.0


def measure_suite(suite: str, key_type: KeyType, n: int, warmup: int) -> dict[str, Any]:
    issuer_key = KeyPair.generate(key_type)
    holder_key = KeyPair.generate(key_type)
    issuer, holder = key_did(issuer_key.public_key), key_did(holder_key.public_key)
    vm, holder_vm = key_did_url(issuer_key.public_key), key_did_url(holder_key.public_key)
    few = credentials(10 + warmup, issuer)
    for c in few[10:]:  # warm-up on credentials that are not measured
        check_proofs(add_proof(c, issuer_key, verification_method=vm, cryptosuite=suite, created=CREATED))

    # -- latency of one presentation of 10 credentials, signed by the holder for a challenge.
    # Measured first, while this process holds little else: an employer's `skillcred verify`
    # process holds just the presentation, and the 1,000 credentials of the throughput runs
    # below would otherwise add the garbage collector's scans of them to every call.
    vcs = [add_proof(c, issuer_key, verification_method=vm, cryptosuite=suite, created=CREATED)
           for c in few[:10]]
    challenge, domain = "bench-challenge-1", "https://employer.example"
    vp = add_proof(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
         "holder": holder, "verifiableCredential": vcs},
        holder_key, verification_method=holder_vm, cryptosuite=suite, proof_purpose="authentication",
        challenge=challenge, domain=domain, created=CREATED,
    )

    def vp_proofs() -> None:
        if not check_proofs(vp, expected_purpose="authentication", challenge=challenge, domain=domain).verified:
            raise SystemExit(f"{suite}: the presentation does not verify")
        for c in vp["verifiableCredential"]:
            if not check_proofs(c, expected_purpose="assertionMethod").verified:
                raise SystemExit(f"{suite}: a presented credential does not verify")

    rounds = max(20, n // 10)
    vp_proofs()
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(rounds):
        vp_proofs()
    vp_s = (time.perf_counter() - t0) / rounds

    # the same presentation through the employer's Verifier (status lists not given: the
    # credentials' status is "indeterminate", which is reported, not an error here)
    verifier = Verifier(VerificationPolicy())
    verifier.assess(vp, challenge=challenge, domain=domain)
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(rounds):
        verifier.assess(vp, challenge=challenge, domain=domain)
    full_s = (time.perf_counter() - t0) / rounds

    # -- throughput: n distinct credentials issued, then verified, on this one core
    creds = credentials(n, issuer)
    t0 = time.perf_counter()
    signed = [add_proof(c, issuer_key, verification_method=vm, cryptosuite=suite, created=CREATED)
              for c in creds[:n]]
    issue_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for doc in signed:
        if not check_proofs(doc).verified:
            raise SystemExit(f"{suite}: a signed credential does not verify")
    verify_s = time.perf_counter() - t0
    return {
        "issue_per_s": _rate(n, issue_s),
        "verify_per_s": _rate(n, verify_s),
        "vp10_verify_ms": round(vp_s * 1000, 2),
        "vp10_full_verify_ms": round(full_s * 1000, 2),
        "issue_ms": round(issue_s * 1000 / n, 3),
        "verify_ms": round(verify_s * 1000 / n, 3),
        "n": n,
    }


def measure_institute(n: int) -> dict[str, Any]:
    """Full ``Verifier`` throughput beside proof-only throughput over ``n`` distinct credentials
    of one institute, status lists and trust included (see the module docstring)."""
    from skillcred.issuer import Issuer, init_issuer, load_achievement
    from skillcred.status import BitstringStatusList
    from skillcred.trust import TrustList
    from skillcred.verify import verifier as verifier_module

    with tempfile.TemporaryDirectory(prefix="skillcred-bench-") as tmp:
        root = Path(tmp)
        init_issuer(root / "roc", name="ROC Techniek Midden", url="https://roc-techniek.example")
        cnc = load_achievement(REPO / "examples" / "achievements" / "cnc-programmeren.yaml")
        with Issuer.open(root / "roc") as roc:
            docs = [dict(roc.issue(cnc, _did_key(), level=str(2 + i % 3))[0].document) for i in range(n)]
            lists = [doc for _url, doc in roc.status_list_credentials()]
            did = roc.profile.did
        trust = TrustList(path=root / "trust.json")
        trust.add(did, name="ROC Techniek Midden")
        verifier = Verifier(VerificationPolicy(trust=trust), status_lists=lists)

        # proof-only first: nothing the full run remembers can help it
        gc.collect()
        t0 = time.perf_counter()
        for doc in docs:
            if not check_proofs(doc, expected_purpose="assertionMethod").verified:
                raise SystemExit("institute: a credential's proof does not verify")
        proof_s = time.perf_counter() - t0
        calls = {"status_proofs": 0, "decodes": 0}
        real_check, real_decode = verifier_module.check_proofs, BitstringStatusList.decode.__func__  # type: ignore[attr-defined]

        def counting_check(doc: Any, **kw: Any) -> Any:
            if "BitstringStatusListCredential" in str(doc.get("type")):
                calls["status_proofs"] += 1
            return real_check(doc, **kw)

        def counting_decode(cls: Any, *a: Any, **kw: Any) -> Any:
            calls["decodes"] += 1
            return real_decode(cls, *a, **kw)

        verifier_module.check_proofs = counting_check  # type: ignore[assignment]
        BitstringStatusList.decode = classmethod(counting_decode)  # type: ignore[method-assign,assignment]
        try:
            gc.collect()
            t0 = time.perf_counter()
            for doc in docs:
                report = verifier.check(doc)
                if not report.verified:
                    raise SystemExit(f"institute: a credential does not verify: {report.failures()[0].reason}")
            full_s = time.perf_counter() - t0
        finally:
            verifier_module.check_proofs = real_check  # type: ignore[assignment]
            BitstringStatusList.decode = classmethod(real_decode)  # type: ignore[method-assign,assignment]
    full, proof = _rate(n, full_s), _rate(n, proof_s)
    return {"n": n, "status_lists": len(lists), "full_verify_per_s": full, "proof_only_per_s": proof,
            "full_over_proof_only": round(full / proof, 2) if proof else 0.0,
            "status_proof_checks": calls["status_proofs"], "status_list_expansions": calls["decodes"]}


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return round(int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except OSError:  # not Linux
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _children_rss_mb() -> float:
    total = 0
    try:
        me = os.getpid()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == me:
                    with open(f"/proc/{entry}/statm") as fh:
                        total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, ValueError, IndexError):
                continue
    except OSError:
        return 0.0
    return round(total / 2**20, 1)


def measure_batch(n: int, workers: int | None, archive: bool = False) -> dict[str, Any]:
    import inspect

    from skillcred.issuer import Issuer, init_issuer

    achievement = REPO / "examples" / "achievements" / "cnc-programmeren.yaml"
    with tempfile.TemporaryDirectory(prefix="skillcred-bench-", dir=os.environ.get("BENCH_TMP")) as tmp:
        root = Path(tmp)
        init_issuer(root / "issuer", name="ROC Techniek (benchmark)", url="https://roc-techniek.example",
                    key_type="ed25519", passphrase=b"benchmark")
        roster = root / "roster.csv"
        with roster.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["key", "subject", "name", "achievement", "level"])
            for i in range(n):
                w.writerow([f"bench-{i:06d}", _did_key(), f"Student {i:06d}", str(achievement), "3"])
        samples: list[float] = []
        children: list[float] = []
        done = 0
        step = max(1, n // 10)

        def progress(k: int) -> None:
            nonlocal done
            before = done
            done += k
            if done // step != before // step:
                samples.append(_rss_mb())
                children.append(_children_rss_mb())
                log(f"  batch: {done}/{n} issued, rss {samples[-1]} MB (+ workers {children[-1]} MB)")

        with Issuer.open(root / "issuer", b"benchmark") as iss:
            kwargs: dict[str, Any] = {"progress": progress}
            params = inspect.signature(iss.issue_batch).parameters
            if workers is not None and "workers" in params:
                kwargs["workers"] = workers
            if "keep_records" in params:
                kwargs["keep_records"] = False  # the records are in the registry, the documents in files
            elif "keep_documents" in params:
                kwargs["keep_documents"] = False
            if archive:  # one JSON Lines archive + journal instead of a file per credential
                kwargs["archive"] = True
            t0 = time.perf_counter()
            result = iss.issue_batch(roster, root / "issued", **kwargs)
            elapsed = time.perf_counter() - t0
            count = iss.registry.count()
        issued = getattr(result, "issued_count", None)
        issued = len(result.issued) if issued is None else issued
        if result.errors or issued != n or count != n:
            raise SystemExit(f"batch: only {issued} of {n} issued; first errors: {result.errors[:3]}")
    return {
        "batch_n": n,
        "batch_s": round(elapsed, 2),
        "batch_per_s": _rate(n, elapsed),
        "batch_100k_s": round(elapsed * 100_000 / n, 1),
        "batch_extrapolated": n != 100_000,
        "batch_output": "jsonl" if archive else "files",
        "batch_rss_mb": samples,
        "batch_worker_rss_mb": children,
    }


def run_js(n: int, warmup: int) -> dict[str, Any]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return {"skipped": "Node.js/npm not found"}
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    if not (NODE_DIR / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        log("installing @digitalbazaar/vc and the cryptosuites into temp/benchmarks (npm) ...")
        (NODE_DIR / "package.json").write_text('{"name": "skillcred-js-bench", "private": true, "type": "module"}\n')
        proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *NODE_PACKAGES],
                              cwd=NODE_DIR, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            return {"skipped": f"npm install failed: {proc.stderr.strip()[-500:]}"}
    shutil.copyfile(HERE / "js" / "bench.mjs", NODE_DIR / "bench.mjs")
    creds = credentials(max(n, 10), "did:example:placeholder")  # the issuer is set by the script
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump({"contexts": str(REPO / "contexts"), "n": n, "warmup": warmup,
                   "credentials": creds, "suites": [s for s, _ in SUITES]}, fh)
        path = fh.name
    try:
        proc = subprocess.run([node, str(NODE_DIR / "bench.mjs"), path], cwd=NODE_DIR,
                              capture_output=True, text=True, timeout=1800)
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        return {"skipped": f"node failed: {proc.stderr.strip()[-1000:]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--quick", action="store_true", help="smaller runs: well under a minute")
    ap.add_argument("--n", type=int, help="credentials per suite measurement (default 1000, quick 200)")
    ap.add_argument("--batch", type=int, help="batch size (default 100000, quick 5000; 0 skips)")
    ap.add_argument("--workers", type=int, help="batch worker processes (default: every core)")
    ap.add_argument("--batch-jsonl", action="store_true",
                    help="the batch writes one JSON Lines archive (issue --batch --jsonl), not a file each")
    ap.add_argument("--no-js", action="store_true", help="skip the JavaScript comparison")
    ap.add_argument("--js-n", type=int, help="credentials per JavaScript measurement (default 200, quick 50)")
    ap.add_argument("--reference", action="store_true", help="JSON-LD fast path off (pyld only)")
    ap.add_argument("--institute", type=int, default=400,
                    help="distinct credentials of one institute for the full-Verifier run (default 400; 0 skips)")
    args = ap.parse_args(argv)
    n = args.n or (200 if args.quick else 1000)
    batch = args.batch if args.batch is not None else (5_000 if args.quick else 100_000)
    js_n = args.js_n or (50 if args.quick else 200)
    if args.reference:
        if jsonld is None:
            ap.error("--reference: this checkout has no fast path")
        jsonld.set_fast_path(False)
        os.environ["SKILLCRED_JSONLD_FAST"] = "0"  # for batch worker processes too

    started = time.perf_counter()
    out: dict[str, Any] = {
        "environment": {
            "python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "skillcred": _version("skillcred"), "pyld": _version("PyLD"),
            "cryptography": _version("cryptography"),
            "jsonld_path": "reference (pyld)" if args.reference or jsonld is None else "fast",
        },
        "quick": args.quick,
        "suites": {},
    }
    for suite, kt in SUITES:
        log(f"{suite}: {n} credentials ...")
        out["suites"][suite] = measure_suite(suite, kt, n, warmup=5 if args.quick else 20)
    if args.institute:
        log(f"one institute: full Verifier vs proof-only over {args.institute} credentials ...")
        out["institute"] = measure_institute(args.institute)
    if fastld is not None:
        out["jsonld_fast_path"] = {"handled": fastld.STATS.get("fast", 0),
                                   "fallbacks": {k.split(":", 1)[1]: v for k, v in fastld.STATS.items()
                                                 if k.startswith("fallback")},
                                   # terms checks decided on the expansion (no proof needs the RDF)
                                   "checked_without_rdf": fastld.STATS.get("check", 0),
                                   "check_fallbacks": {k.split(":", 1)[1]: v for k, v in fastld.STATS.items()
                                                       if k.startswith("check-fallback")}}
    if batch:
        log(f"batch of {batch} ...")
        out.update(measure_batch(batch, args.workers, args.batch_jsonl))
    out["peak_rss_mb"] = round(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                   resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024, 1)
    if not args.no_js:
        log(f"JavaScript (@digitalbazaar/vc): {js_n} credentials per suite ...")
        js = run_js(js_n, warmup=5)
        out["javascript"] = js
        if "suites" in js:
            ratio: dict[str, dict[str, float]] = {}
            for suite, py in out["suites"].items():
                j = js["suites"].get(suite) or {}
                if "error" in j or not j:
                    continue
                ratio[suite] = {
                    "issue_per_s": round(py["issue_per_s"] / j["issue_per_s"], 1),
                    "verify_per_s": round(py["verify_per_s"] / j["verify_per_s"], 1),
                    "vp10_verify_ms": round(j["vp10_verify_ms"] / py["vp10_verify_ms"], 1),
                }
            out["ratio_python_over_js"] = ratio  # > 1: Python faster (for ms: JS ms / Python ms)
    out["total_s"] = round(time.perf_counter() - started, 1)

    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    env = out["environment"]
    print(f"Python {env['python']} ({env['cpus']} cpus), pyld {env['pyld']}, JSON-LD path: {env['jsonld_path']}")
    fmt = "{:<16} {:>10} {:>10} {:>10} {:>12}   {}"
    print(fmt.format("suite", "issue/s", "verify/s", "vp10 ms", "vp10 full ms",
                     "JavaScript issue/s, verify/s, vp10 ms"))
    for suite, r in out["suites"].items():
        j = (out.get("javascript") or {}).get("suites", {}).get(suite, {})
        js_txt = (f"{j['issue_per_s']:.0f}, {j['verify_per_s']:.0f}, {j['vp10_verify_ms']:.1f}"
                  if "issue_per_s" in j else j.get("error", "-")[:60] if j else "-")
        print(fmt.format(suite, f"{r['issue_per_s']:.0f}", f"{r['verify_per_s']:.0f}", f"{r['vp10_verify_ms']:.2f}",
                         f"{r['vp10_full_verify_ms']:.2f}", js_txt))
    if "institute" in out:
        r = out["institute"]
        print(f"one institute, {r['n']} credentials: full Verifier {r['full_verify_per_s']:.0f}/s, proof-only "
              f"{r['proof_only_per_s']:.0f}/s (ratio {r['full_over_proof_only']}); status-list proof checks "
              f"{r['status_proof_checks']}, expansions {r['status_list_expansions']} for {r['status_lists']} lists")
    if batch:
        print(f"batch of {out['batch_n']}: {out['batch_s']} s ({out['batch_per_s']}/s; 100k: {out['batch_100k_s']} s), "
              f"rss samples {out['batch_rss_mb']} MB")
    print(f"peak RSS {out['peak_rss_mb']} MB; total {out['total_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
