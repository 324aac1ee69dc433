"""Helpers for the OpenID4VP tests: a world (an institute, a worker's wallet holding a Data
Integrity, a vc+jwt and an SD-JWT credential, a second worker, status lists, a trust list) made
with the real command line (in this process), and a verifier-only service on a loopback port in this process."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from interop_support import node_or_skip, peer_dir
from support.cli import CliResult, run_cli

REPO = Path(__file__).resolve().parents[1]
ACH = REPO / "examples" / "achievements"
LASSER = REPO / "examples" / "profiles" / "lasser.json"
CNC = REPO / "examples" / "profiles" / "cnc-verspaner.json"
SECRET_NAME = "Jantje Geheimnaam"


def run(*args: str, cwd: Path, ok: bool = True, env: dict[str, str] | None = None) -> CliResult:
    """The ``skillcred`` command line in ``cwd`` (HOME and caches inside it), in this process
    (:func:`support.cli.run_cli`: the verifier servers here are threads of this process too, and a
    test that reaches one is marked ``loopback``)."""
    full = {**os.environ, "SKILLCRED_PASSPHRASE": "pw", "HOME": str(cwd), "XDG_CONFIG_HOME": str(cwd / "cfg"),
            "XDG_CACHE_HOME": str(cwd / "cache"), "XDG_DATA_HOME": str(cwd / "data"),
            "SKILLCRED_STATUS_CACHE": str(cwd / "status-cache"), **(env or {})}
    proc = run_cli(*args, cwd=cwd, env=full)
    assert "Traceback" not in proc.stderr, proc.stderr
    if ok:
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


@dataclass
class World:
    dir: Path
    issuer: str
    holder: str
    other_holder: str
    sd: str
    jwt: str
    di: str

    @property
    def wallet(self) -> Path:
        return self.dir / "w"

    @property
    def other_wallet(self) -> Path:
        return self.dir / "w2"

    @property
    def trust(self) -> Path:
        return self.dir / "trust.json"

    @property
    def status_cache(self) -> Path:
        return self.dir / "status-cache"


def make_world(d: Path) -> World:
    """Institute ``roc``; wallet ``w``: MIG/MAG welding as SD-JWT (with a name that must never be
    disclosed), drawing reading as vc+jwt, CNC programming as Data Integrity; wallet ``w2`` (another
    worker) with its own welding SD-JWT; the status lists imported into the verifier cache."""
    issuer = run("issuer", "init", "roc", "--name", "ROC", "--url", "https://roc.example", cwd=d).stdout.split()[0]
    holder = run("wallet", "init", "--wallet", "w", cwd=d).stdout.split()[0]
    other = run("wallet", "init", "--wallet", "w2", cwd=d).stdout.split()[0]
    sd = run("issue", "--issuer", "roc", "--achievement", str(ACH / "mig-mag-lassen.yaml"), "--subject", holder,
             "--name", SECRET_NAME, "--level", "3", "--format", "sd-jwt", "-o", "lassen.sdjwt", cwd=d).stdout.split()[0]
    jwt = run("issue", "--issuer", "roc", "--achievement", str(ACH / "technisch-tekeninglezen.yaml"),
              "--subject", holder, "--level", "2", "--format", "jwt", "-o", "tekenen.jwt", cwd=d).stdout.split()[0]
    di = run("issue", "--issuer", "roc", "--achievement", str(ACH / "cnc-programmeren.yaml"),
             "--subject", holder, "--level", "3", "-o", "cnc.json", cwd=d).stdout.split()[0]
    run("issue", "--issuer", "roc", "--achievement", str(ACH / "mig-mag-lassen.yaml"), "--subject", other,
        "--level", "2", "--format", "sd-jwt", "-o", "other.sdjwt", cwd=d)
    run("wallet", "add", "--wallet", "w", "lassen.sdjwt", "tekenen.jwt", "cnc.json", cwd=d)
    run("wallet", "add", "--wallet", "w2", "other.sdjwt", cwd=d)
    run("status", "publish", "--issuer", "roc", "--out-dir", "pub", cwd=d)
    run("status", "import", "pub/revocation-1", "pub/suspension-1", "--cache", "status-cache", cwd=d)
    run("trust", "add", "--trust", "trust.json", issuer, "--name", "ROC", cwd=d)
    return World(d, issuer, holder, other, sd, jwt, di)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve_app(app: Any, port: int | None = None) -> Iterator[str]:
    """``app`` (FastAPI) served by uvicorn on a loopback port in a thread of this process."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextlib.contextmanager
def verifier_server(world: World, verifier_dir: Path, *, max_body_bytes: int = 1024 * 1024,
                    ttl: int = 600, port: int | None = None, trust: Path | None = None) -> Iterator[str]:
    """A verifier-only ``skillcred serve --verifier`` app (the same factory) on a loopback port,
    in a thread of this process; yields its base URL."""
    from skillcred.oid4vp._http import VerifierConfig, create_verifier_app

    config = VerifierConfig(verifier_dir=str(verifier_dir), trust_file=str(trust or world.trust),
                            status_cache=str(world.status_cache), max_body_bytes=max_body_bytes, ttl=ttl)
    with serve_app(create_verifier_app(config), port) as url:
        yield url


def new_request(world: World, verifier_dir: Path, base_url: str, *extra: str,
                profile: Path = LASSER) -> str:
    """``skillcred request new``'s first line (the request URI); the test verifier is plain http on
    127.0.0.1, so the unsafe loopback switch is given."""
    out = run("request", "new", "--profile", str(profile), "--verifier-url", base_url,
              "--unsafe-allow-http-loopback", "--verifier",
              str(verifier_dir), "--name", "Metaalbedrijf De Vries", "--purpose", "Vacature lasser", *extra,
              cwd=world.dir).stdout
    return out.splitlines()[0]


def env_for(world: World) -> dict[str, Any]:
    return {"SKILLCRED_STATUS_CACHE": str(world.status_cache)}


def http_get(url: str) -> tuple[int, bytes, str]:
    """A plain GET to the loopback verifier: (status, body, content type)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request("GET", parts.path)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data, resp.getheader("content-type", "")


def http_post(url: str, body: bytes, ctype: str = "application/x-www-form-urlencoded") -> tuple[int, Any]:
    """A POST to the loopback verifier: (status, its JSON answer or None)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    conn.request("POST", parts.path, body=body, headers={"Content-Type": ctype})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, json.loads(data) if data else None


@contextlib.contextmanager
def peer_verifier(*args: str) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The node peer verifier (tests/interop/oid4vp/verifier.mjs ARGS) running as a process;
    yields (its first line: uri, client_id) and, after the block, the responses it logged (one
    line each)."""
    folder = peer_dir("oid4vp")
    proc = subprocess.Popen([node_or_skip(), str(folder / "verifier.mjs"), *args], cwd=folder,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if not first:
        proc.kill()
        pytest.fail(f"the peer verifier did not start: {proc.communicate()[1][-2000:]}")
    received: list[dict[str, Any]] = []
    try:
        yield json.loads(first), received
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=60)
        received.extend(json.loads(line) for line in rest.splitlines() if line.strip())
