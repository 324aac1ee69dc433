"""Helpers for the HTTP service tests: issuer folders, real ``skillcred serve`` processes on
loopback ports, a small stdlib HTTP client, and a throwaway PostgreSQL cluster.

Everything here talks to 127.0.0.1 only; tests using it carry the ``loopback`` marker.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import pwd
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from skillcred.issuer import init_issuer
from skillcred.trust import TrustList

SKILLCRED = str(Path(sys.executable).parent / "skillcred")
if not Path(SKILLCRED).exists():  # pragma: no cover - fall back to the project venv
    SKILLCRED = str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "skillcred")

SUBJECT = "did:key:z6MkhTNL7i2etLerDK8Acz5t528giE5KA4p75T6ka1E1D74r"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"


# --------------------------------------------------------------------------------------------
# issuer folders


@dataclass
class IssuerSetup:
    folder: Path
    trust_file: Path
    token_file: Path
    token: str
    did: str
    suite: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_issuer(root: Path, *, did_method: str = "key", key_type: str = "ed25519", suite: str | None = None,
                trusted: bool = True, name: str = "ROC Techniek") -> IssuerSetup:
    """An issuer folder (unencrypted key), a trust list naming it, and a token file."""
    root.mkdir(parents=True, exist_ok=True)
    folder = root / "issuer"
    profile = init_issuer(folder, name=name, url="https://roc.example", did_method=did_method,  # type: ignore[arg-type]
                          key_type=key_type, suite=suite, passphrase=None)  # type: ignore[arg-type]
    trust = TrustList(path=root / "trust.json")
    if trusted:
        doc = json.loads((folder / "did.json").read_text()) if did_method == "web" else None
        trust.add(profile.did, name=name, did_document=doc)
    trust.save()
    token = secrets.token_urlsafe(32)
    token_file = root / "token.txt"
    token_file.write_text(token + "\n")
    return IssuerSetup(folder, root / "trust.json", token_file, token, profile.did, profile.suite)


def credential(**extra: Any) -> dict[str, Any]:
    """A minimal unsigned VC 2.0 credential about ``SUBJECT`` (no issuer unless given: see
    :func:`issued_by`)."""
    doc: dict[str, Any] = {"@context": [VC_V2], "type": ["VerifiableCredential"],
                           "credentialSubject": {"id": SUBJECT}}
    doc.update(extra)
    return doc


def issued_by(did: str, cred: dict[str, Any]) -> dict[str, Any]:
    """``cred`` naming ``did`` as its issuer (right after ``type``) when it names none: the
    service refuses a credential without an issuer rather than fill one in (VC-API suite)."""
    if not isinstance(cred, dict) or "issuer" in cred:
        return cred
    out: dict[str, Any] = {}
    for k, v in cred.items():
        out[k] = v
        if k == "type":
            out["issuer"] = did
    out.setdefault("issuer", did)
    return out


# --------------------------------------------------------------------------------------------
# HTTP (stdlib; one connection per client, kept alive)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()


class Client:
    """A tiny keep-alive HTTP/1.1 client for one server (reconnects when the server closed)."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        assert base_url.startswith("http://")
        host, _, port = base_url[len("http://"):].partition(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                raw: bytes | None = None) -> Reply:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        hdrs = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request(method, path, body=data, headers=hdrs)
                resp = self._conn.getresponse()
                payload = resp.read()
                reply = Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload)
                if reply.headers.get("connection", "").lower() == "close":
                    self.close()
                return reply
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, body, **kw)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __del__(self) -> None:  # tests chain server.client().post(...): never leak the socket
        self.close()


# --------------------------------------------------------------------------------------------
# oversized bodies: the answer a server gives while the upload is still being sent

STREAM_HANG_GUARD = 60.0  # seconds; only stops a server that never answers from hanging the run


def answer_complete(answer: bytes) -> bool:
    """A whole HTTP response is in: headers and, if announced, ``Content-Length`` bytes of body."""
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    length = next((line.split(b":", 1)[1] for line in head.split(b"\r\n")[1:]
                   if line.lower().startswith(b"content-length:")), None)
    return length is None or len(body) >= int(length)


def stream_until_answer(port: int, head: bytes, piece: bytes,
                         limit: int = 100 * 1024 * 1024) -> tuple[bytes, int]:
    """Send ``head`` and then ``piece`` after ``piece`` while the server reads, until it answers.

    Returns the answer and how many body bytes the server let in before answering: the bound
    the tests check is how far the upload got, never the clock.
    """
    guard = time.monotonic() + STREAM_HANG_GUARD
    sock = socket.create_connection(("127.0.0.1", port))
    sent, answer = 0, b""
    try:
        sock.sendall(head)
        sock.setblocking(False)
        while not answer_complete(answer):
            if time.monotonic() > guard:
                pytest.fail(f"hang guard: no complete answer after {STREAM_HANG_GUARD:.0f}s "
                            f"({sent} bytes sent, got {answer[:200]!r})")
            readable, writable, _ = select.select([sock], [sock] if sent < limit else [], [], 1)
            if readable:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not data:
                    break
                answer += data
            elif writable:
                try:
                    sent += sock.send(piece)
                except (BrokenPipeError, ConnectionResetError, BlockingIOError):
                    continue
    finally:
        sock.close()
    return answer, sent


# --------------------------------------------------------------------------------------------
# service processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running ``skillcred serve`` subprocess."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    args: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, timeout: float = 60.0) -> Client:
        return Client(self.base_url, timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:  # the server and its workers: its own process group
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)


def start_server(setup: IssuerSetup, *args: str, port: int | None = None, token: bool = True,
                 workers: int = 1, log_dir: Path | None = None, env: dict[str, str] | None = None,
                 ready_timeout: float = 60.0) -> Server:
    """Start ``skillcred serve`` on a loopback port and wait until ``GET /health`` answers 200."""
    port = port or free_port()
    cmd = [SKILLCRED, "serve", "--issuer", str(setup.folder), "--trust", str(setup.trust_file),
           "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-access-log"]
    if token:
        cmd += ["--token-file", str(setup.token_file)]
    cmd += list(args)
    log_path = (log_dir or setup.folder.parent) / f"server-{port}.log"
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCRED_")}
    run_env.update(env or {})
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                env=run_env, start_new_session=True)
    server = Server(proc, port, log_path, cmd)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"skillcred serve exited with {proc.returncode}:\n{server.log()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                conn.close()
                return server
            conn.close()
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"hang guard: skillcred serve did not answer /health within {ready_timeout}s "
                         f"(a readiness wait, not a speed check):\n{server.log()}")


@contextlib.contextmanager
def running(setup: IssuerSetup, *args: str, **kw: Any) -> Iterator[Server]:
    server = start_server(setup, *args, **kw)
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------
# A throwaway PostgreSQL cluster (Debian's postgresql package: initdb + pg_ctl)


def _pg_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


@dataclass
class PgCluster:
    url: str  # the admin database
    port: int
    root: Path

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"


_SHARED: PgCluster | None = None


def start_postgres() -> Iterator[PgCluster]:
    """Generator behind the ``pg_cluster`` fixtures: one cluster for the whole test session.

    Started on first use, stopped and removed when the test process exits (so every module
    that needs PostgreSQL shares it; each test takes a fresh database with ``new_database``).
    Skips (with the reason) when the PostgreSQL server binaries are not installed or cannot be
    run as a non-root user. ``make test`` installs them (Debian package ``postgresql``).
    """
    global _SHARED
    if _SHARED is None:
        _SHARED = _start_cluster()
    yield _SHARED


def _start_cluster() -> PgCluster:
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
                    "apt-get install postgresql (make test does this when it can)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -e '.[test]')")
    run_as: dict[str, Any] = {}
    root = Path(tempfile.mkdtemp(prefix="skillcred-pg-"))
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: use the package's postgres user.
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            pytest.skip("running as root and there is no 'postgres' user to run a test cluster as")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        run_as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    data, sock, logfile = root / "data", root / "sock", root / "postgres.log"
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "LC_ALL": "C", "LANG": "C"}

    def pg(*cmd: str, timeout: float = 120) -> None:
        proc = subprocess.run([str(bindir / cmd[0]), *cmd[1:]], capture_output=True, text=True, env=env,
                              timeout=timeout, cwd=root, **run_as)
        if proc.returncode != 0:
            log = logfile.read_text(errors="replace") if logfile.exists() else ""
            raise RuntimeError(f"{' '.join(cmd[:2])} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{log}")

    def stop() -> None:
        with contextlib.suppress(Exception):
            pg("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(root, ignore_errors=True)

    try:
        pg("initdb", "-D", str(data), "-U", "skillcred", "--auth=trust", "-E", "UTF8", "--no-sync",
           "--no-instructions")
        sock.mkdir()
        if run_as:
            os.chown(sock, run_as["user"], run_as["group"])
        for attempt in range(5):
            port = free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            try:
                pg("pg_ctl", "-D", str(data), "-o", options, "-l", str(logfile), "-w", "-t", "60", "start")
                break
            except RuntimeError:
                if attempt == 4:
                    raise
    except BaseException:
        stop()
        raise
    atexit.register(stop)
    return PgCluster(f"postgresql://skillcred@127.0.0.1:{port}/postgres", port, root)


def distinct(values: Sequence[Any]) -> bool:
    return len(set(values)) == len(values)
