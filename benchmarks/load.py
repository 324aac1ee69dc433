#!/usr/bin/env python3
"""HTTP load on ``skillcred serve``: requests/s and p50/p99 latency of issue and verify.

For each worker count (default 1, 2 and 4) it starts ``skillcred serve --workers W`` on a free
loopback port with a fresh issuer folder (did:key, Ed25519, eddsa-rdfc-2022 unless told
otherwise; registry: the folder's SQLite file, or ``--registry postgresql://...``), waits for
``GET /health``, then this process (a second process, over loopback) sends:

* ``issue``:  ``--requests`` ``POST /credentials/issue`` (a small VC 2.0 credential with a
  revocation status entry, so each request also allocates a status index and writes a row);
* ``verify``: ``--requests`` ``POST /credentials/verify`` of one issued credential (proof,
  issuer, validity, status list of this service, trust list);

from ``--concurrency`` client threads with keep-alive connections, after a short warm-up. It
reports requests per second (wall clock over the whole phase), the median and 99th percentile
latency (ms) and the number of non-2xx answers. Client and server share the machine: on a
small machine the client's own CPU use lowers the numbers; ``os.cpu_count()`` is printed.

    python benchmarks/load.py                       # workers 1 2 4, 1000 requests per phase
    python benchmarks/load.py --workers 1 4 --requests 3000 --concurrency 32
    python benchmarks/load.py --registry postgresql://skillcred@127.0.0.1:5432/bench --json
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from skillcred.issuer import init_issuer
from skillcred.trust import TrustList

SKILLCRED = str(Path(sys.executable).parent / "skillcred")
VC_V2 = "https://www.w3.org/ns/credentials/v2"


@dataclass
class Result:
    workers: int
    endpoint: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def credential(issuer: str) -> dict[str, Any]:
    return {
        "@context": [VC_V2],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "name": "Lassen niveau 3",
        "description": "Lassen (MIG/MAG) op niveau 3, beoordeeld in de praktijk.",
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:key:z6MkhTNL7i2etLerDK8Acz5t528giE5KA4p75T6ka1E1D74r"},
    }


class Conn:
    """One keep-alive connection; reconnects when the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request("POST", path, body=body, headers=headers)
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def run_phase(port: int, path: str, bodies: list[bytes], headers: dict[str, str],
              concurrency: int) -> tuple[float, list[float], int]:
    local = threading.local()
    latencies: list[float] = [0.0] * len(bodies)
    errors = 0
    lock = threading.Lock()

    def one(i: int) -> None:
        nonlocal errors
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = Conn(port)
        t = time.perf_counter()
        status, _ = conn.post(path, bodies[i], headers)
        latencies[i] = time.perf_counter() - t
        if not 200 <= status < 300:
            with lock:
                errors += 1

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(len(bodies))))
    return time.perf_counter() - start, latencies, errors


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_workers(root: Path, workers: int, args: argparse.Namespace) -> list[Result]:
    folder = root / f"w{workers}"
    profile = init_issuer(folder / "issuer", name="ROC Bench", url="https://roc.example",
                          key_type=args.key_type, suite=args.suite, passphrase=None)
    trust = TrustList(path=folder / "trust.json")
    trust.add(profile.did, name="ROC Bench")
    trust.save()
    token = secrets.token_urlsafe(32)
    (folder / "token.txt").write_text(token)
    port = free_port()
    cmd = [SKILLCRED, "serve", "--issuer", str(folder / "issuer"), "--trust", str(folder / "trust.json"),
           "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
           "--token-file", str(folder / "token.txt"), "--no-access-log", "--log-level", "warning"]
    if args.registry:
        cmd += ["--registry", args.registry]
    log = open(folder / "server.log", "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    c.close()
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start:\n{(folder / 'server.log').read_text()}")
            time.sleep(0.1)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        status_option = {"credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}

        def issue_bodies(n: int) -> list[bytes]:
            return [json.dumps({"credential": credential(profile.did), "options": status_option}).encode()
                    for _ in range(n)]

        # warm-up (every worker imports and caches its contexts), then one credential to verify
        run_phase(port, "/credentials/issue", issue_bodies(args.warmup), headers, args.concurrency)
        status, raw = Conn(port).post("/credentials/issue", issue_bodies(1)[0], headers)
        assert status == 201, raw
        vc = json.loads(raw)["verifiableCredential"]
        verify_body = json.dumps({"verifiableCredential": vc}).encode()
        run_phase(port, "/credentials/verify", [verify_body] * args.warmup, headers, args.concurrency)

        results = []
        for endpoint, path, bodies in (("issue", "/credentials/issue", issue_bodies(args.requests)),
                                       ("verify", "/credentials/verify", [verify_body] * args.requests)):
            seconds, latencies, errors = run_phase(port, path, bodies, headers, args.concurrency)
            results.append(Result(workers, endpoint, len(bodies), errors, round(seconds, 3),
                                  round(len(bodies) / seconds, 1),
                                  round(statistics.median(latencies) * 1000, 2),
                                  round(percentile(latencies, 0.99) * 1000, 2)))
        return results
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--requests", type=int, default=1000, help="requests per phase")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--key-type", default="ed25519", choices=["ed25519", "p256", "p384"])
    parser.add_argument("--suite", default=None, help="cryptosuite (default: fits the key type)")
    parser.add_argument("--registry", help="postgresql://... (default: the issuer folder's SQLite file)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not Path(SKILLCRED).exists():
        raise SystemExit(f"{SKILLCRED} not found: install skillcred with the serve extra in this environment")
    root = Path(tempfile.mkdtemp(prefix="skillcred-load-"))
    try:
        results = [r for w in args.workers for r in bench_workers(root, w, args)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "requests": args.requests, "concurrency": args.concurrency, "key_type": args.key_type,
            "registry": "postgresql" if args.registry else "sqlite"}
    if args.json:
        print(json.dumps({"meta": meta, "results": [asdict(r) for r in results]}, indent=2))
        return
    print(f"skillcred serve load: {args.requests} requests per phase, {args.concurrency} client threads, "
          f"{meta['registry']} registry, {meta['cpus']} CPUs, Python {meta['python']}")
    print(f"{'workers':>7}  {'endpoint':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for r in results:
        print(f"{r.workers:>7}  {r.endpoint:<8} {r.rps:>8.1f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.errors:>6}")


if __name__ == "__main__":
    main()
