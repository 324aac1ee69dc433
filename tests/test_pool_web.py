"""``skillcred serve --pool``: the operator's search page of the talent pool, over real loopback
HTTP (separate ``skillcred serve`` processes) and in a real headless Chromium.

The JSON route must give exactly what ``skillcred pool search --json`` gives for the same pool
and profile (the command runs in this process, the server as a separate one); the page must show the same
hits and explanations; access needs the operator token (a bearer header, or the sign-in form's
cookie plus the form's CSRF value); uploads are bounded; a bad profile is a clear 400 page.
"""

from __future__ import annotations

import html
import json
import os
import re
import select
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pool_support import CATALOG, DOMAIN, FRAMEWORK, PROFILE, WHO, World, build_world
from service_support import SKILLCRED, Client, Server, free_port, make_issuer, running, stream_until_answer
from support.cli import CliResult, home_env, run_cli, run_cli_subprocess
from test_passport_browser import CHROMIUM, parse

pytestmark = pytest.mark.loopback

MAX_PROFILE_BYTES = 256 * 1024  # skillcred.service.pool_web.MAX_PROFILE_BYTES, as documented


def _env(world: World) -> dict[str, str]:
    home = world.root / "home"
    home.mkdir(exist_ok=True)
    return home_env(home)


def cli(world: World, *args: str | Path) -> CliResult:
    """A command in this process; ``serve`` (even one that should refuse to start) as a child
    process, which the hang guard can stop if it starts serving after all."""
    runner = run_cli_subprocess if args[:1] == ("serve",) else run_cli
    proc = runner(*args, env=_env(world))
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("pool-web-world"))


@pytest.fixture(scope="module")
def target(world: World) -> Path:
    target = world.root / "pool.sqlite"
    for who in WHO:
        proc = cli(world, "pool", "add", "--pool", target, world.apps / f"{who}.json", "--trust", world.trust,
                   "--challenge", world.challenge(who), "--domain", DOMAIN,
                   *[x for p in world.status for x in ("--status-list", str(p))],
                   *(["--region", "NL-UT"] if who in ("sem", "kees") else []))
        assert proc.returncode == 0, proc.stderr
    return target


@pytest.fixture(scope="module")
def token(world: World) -> tuple[Path, str]:
    value = "pool-operator-token-" + "7f3a9c" * 6
    path = world.root / "pool-token.txt"
    path.write_text(value + "\n")
    return path, value


def start_pool(world: World, *args: str | Path, ready_timeout: float = 90.0) -> Server:
    """A pool-only ``skillcred serve --pool ...`` on a loopback port, once /health answers."""
    port = free_port()
    cmd = [SKILLCRED, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-access-log", *map(str, args)]
    log_path = world.root / f"pool-server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=_env(world),
                                start_new_session=True)
    server = Server(proc, port, log_path, cmd)
    for _ in range(int(ready_timeout * 10)):  # a readiness wait (hang guard), not a speed check
        if proc.poll() is not None:
            raise AssertionError(f"skillcred serve exited with {proc.returncode}:\n{server.log()}")
        try:
            if Client(server.base_url, timeout=2).get("/health").status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"hang guard: skillcred serve did not answer /health:\n{server.log()}")


@pytest.fixture(scope="module")
def server(world: World, target: Path, token: tuple[Path, str]) -> Iterator[Server]:
    s = start_pool(world, "--pool", target, "--token-file", token[0], "--pool-framework", FRAMEWORK,
                   "--pool-catalog", CATALOG)
    yield s
    s.stop()


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, dict[str, str]]:
    boundary = "----skillcred-test-7d1e0c"
    out = b""
    for name, value in fields.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode()
    for name, (filename, data) in files.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
                "Content-Type: application/json\r\n\r\n").encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def post_form(server: Server, path: str, fields: dict[str, str], profile: bytes | None = None,
              filename: str = "cnc-verspaner.json", headers: dict[str, str] | None = None) -> Any:
    body, hdrs = multipart(fields, {"profile": (filename, profile)} if profile is not None else {})
    return server.client().post(path, raw=body, headers={**hdrs, **(headers or {})})


def bearer(token: tuple[Path, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token[1]}"}


def log_rows(target: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(target) as c:
        return c.execute("SELECT * FROM pool_search_log ORDER BY rowid").fetchall()


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# --------------------------------------------------------------------------------------------
# the JSON route is `pool search --json`


@pytest.mark.parametrize("extra", [["--min-essential", "5"], ["--min-essential", "0", "--limit", "3"],
                                   ["--min-essential", "20%"], ["--min-essential", "1", "--region", "NL-UT"]])
def test_json_route_equals_pool_search_json(world: World, target: Path, server: Server, token: tuple[Path, str],
                                            extra: list[str]) -> None:
    proc = cli(world, "pool", "search", "--pool", target, "--profile", PROFILE, "--framework", FRAMEWORK,
               "--catalog", CATALOG, "--json", *extra)
    assert proc.returncode == 0, proc.stderr
    expected = json.loads(proc.stdout)
    assert expected  # a case that finds someone: an empty answer would hide a difference
    opts = dict(zip(extra[::2], extra[1::2], strict=True))
    fields = {"min_essential": opts["--min-essential"], "region": opts.get("--region", ""),
              "limit": opts.get("--limit", "50")}
    r = post_form(server, "/pool/search.json", fields, PROFILE.read_bytes(), headers=bearer(token))
    assert r.status == 200, r.raw[:500]
    assert r.content_type == "application/json"
    assert r.json == expected
    # a JSON body (the profile document itself) gives the same array
    j = server.client().post("/pool/search.json", {"profile": json.loads(PROFILE.read_text()),
                                                   "min_essential": opts["--min-essential"],
                                                   "regions": [opts["--region"]] if "--region" in opts else [],
                                                   "limit": int(fields["limit"])}, headers=bearer(token))
    assert j.status == 200 and j.json == expected


def test_search_hits_are_ranked_and_explained(world: World, server: Server, token: tuple[Path, str]) -> None:
    rows = post_form(server, "/pool/search.json", {"min_essential": "1"}, PROFILE.read_bytes(),
                     headers=bearer(token)).json
    # pool_support's hand-computed coverage: Jan 6/19, Fatima 5/19, Sem 10/57 (3.33/19), Kees 1/19
    assert [r["holder"] for r in rows] == [world.holders[w] for w in ("jan", "fatima", "sem", "kees")]
    assert [r["essential_coverage"] for r in rows] == [round(6 / 19, 4), round(5 / 19, 4), round(10 / 57, 4),
                                                       round(1 / 19, 4)]
    assert all(r["plan_hours"] is not None for r in rows)
    page = post_form(server, "/pool/search", {"min_essential": "1"}, PROFILE.read_bytes(), headers=bearer(token))
    assert page.status == 200 and page.content_type == "text/html"
    shown = text_of(page.raw.decode())
    order = [shown.index(world.holders[w]) for w in ("jan", "fatima", "sem", "kees")]
    assert order == sorted(order)
    assert "4 candidate(s)" in shown and "via diploma" in shown and "training plan" in shown


def test_search_is_logged_without_hit_data(world: World, target: Path, server: Server,
                                           token: tuple[Path, str]) -> None:
    before = len(log_rows(target))
    r = post_form(server, "/pool/search.json", {"min_essential": "1"}, PROFILE.read_bytes(), headers=bearer(token))
    assert r.status == 200 and len(r.json) == 4
    rows = log_rows(target)
    assert len(rows) == before + 1
    entry = json.dumps(rows[-1])
    import hashlib
    assert hashlib.sha256(token[1].encode()).hexdigest()[:12] in entry and "web token:" in entry
    assert hashlib.sha256(PROFILE.read_bytes()).hexdigest() in entry  # the same digest `pool search` logs
    assert token[1] not in entry
    for who in WHO:
        assert world.holders[who] not in entry
    assert "read standard blueprints" not in entry and "ROC Techniek" not in entry


# --------------------------------------------------------------------------------------------
# access


def test_refused_without_the_token(world: World, target: Path, server: Server, token: tuple[Path, str]) -> None:
    before = len(log_rows(target))
    prof = PROFILE.read_bytes()
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"},
                    {"Authorization": f"Basic {token[1]}"}, {"Authorization": f"Bearer {token[1]}x"}):
        r = post_form(server, "/pool/search.json", {}, prof, headers=headers)
        assert r.status == 401 and r.content_type == "application/problem+json", headers
        assert r.headers.get("www-authenticate", "").startswith("Bearer")
        p = post_form(server, "/pool/search", {}, prof, headers=headers)
        assert p.status == 401 and "name='token'" in p.raw.decode() and "candidate(s)" not in p.raw.decode()
    # the token in the URL does not count (no token in URLs)
    r = post_form(server, f"/pool/search.json?token={token[1]}", {}, prof)
    assert r.status == 401
    # signed out, the page is the sign-in form, not the search form
    g = server.client().get("/pool/")
    assert g.status == 200 and "name='token'" in g.raw.decode() and "type='file'" not in g.raw.decode()
    assert len(log_rows(target)) == before  # nothing was searched


def test_sign_in_cookie_and_csrf(world: World, target: Path, server: Server, token: tuple[Path, str]) -> None:
    c = server.client()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    bad = c.post("/pool/login", raw=b"token=not-the-token-at-all", headers=form)
    assert bad.status == 401 and "set-cookie" not in bad.headers and "not the operator token" in bad.raw.decode()
    ok = c.post("/pool/login", raw=f"token={token[1]}".encode(), headers=form)
    assert ok.status == 303 and ok.headers["location"] == "/pool/"
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/pool" in cookie
    assert token[1] not in cookie  # a derived value, not the token
    session = cookie.split(";")[0]
    page = c.get("/pool/", headers={"Cookie": session}).raw.decode()
    assert "type='file'" in page
    csrf = re.search(r"name='csrf' value='([0-9a-f]{64})'", page)
    assert csrf is not None and csrf.group(1) not in session
    prof = PROFILE.read_bytes()
    good = post_form(server, "/pool/search", {"csrf": csrf.group(1), "min_essential": "5"}, prof,
                     headers={"Cookie": session})
    assert good.status == 200 and "2 candidate(s)" in good.raw.decode()
    # the cookie alone (a cross-site form would carry no CSRF value), or a wrong one, or the CSRF
    # value without the cookie: refused
    for fields, headers in (({"min_essential": "5"}, {"Cookie": session}),
                            ({"csrf": "0" * 64, "min_essential": "5"}, {"Cookie": session}),
                            ({"csrf": csrf.group(1), "min_essential": "5"}, {}),
                            ({"csrf": csrf.group(1)}, {"Cookie": f"skillcred_pool={'1' * 64}"})):
        r = post_form(server, "/pool/search", fields, prof, headers=headers)
        assert r.status == 401 and "candidate(s)" not in r.raw.decode(), (fields, headers)
    out = c.post("/pool/logout", raw=f"csrf={csrf.group(1)}".encode(), headers={**form, "Cookie": session})
    assert out.status == 303 and "Max-Age=0" in out.headers["set-cookie"]


def test_pages_run_no_script_under_a_strict_csp(server: Server, token: tuple[Path, str]) -> None:
    for r in (server.client().get("/pool/"), server.client().get("/pool/", headers=bearer(token)),
              post_form(server, "/pool/search", {"min_essential": "1"}, PROFILE.read_bytes(), headers=bearer(token))):
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "script-src" not in csp
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
        body = r.raw.decode()
        assert "<script" not in body.lower() and not re.search(r"\son\w+=", body)
        for tag, attrs in parse(body).tags:
            assert tag not in ("script", "iframe", "object", "embed", "img", "link")
            for attr in ("src", "href", "action"):
                assert not re.match(r"(https?:)?//", attrs.get(attr) or ""), (tag, attrs)


# --------------------------------------------------------------------------------------------
# bad input


def test_oversize_upload_is_refused(world: World, target: Path, server: Server, token: tuple[Path, str]) -> None:
    before = len(log_rows(target))
    doc = json.loads(PROFILE.read_text())
    doc["description"] = "x" * (MAX_PROFILE_BYTES + 10)  # a valid-looking profile, just too large
    big = json.dumps(doc).encode()
    for path in ("/pool/search", "/pool/search.json"):
        r = post_form(server, path, {}, big, headers=bearer(token))
        assert r.status == 413, (path, r.raw[:300])
        assert f"{MAX_PROFILE_BYTES:,}" in r.raw.decode()
    page = post_form(server, "/pool/search", {}, big, headers=bearer(token))
    assert page.content_type == "text/html" and "cnc-verspaner.json" in text_of(page.raw.decode())
    # over the service's request body limit (1 MiB by default): refused before it is read
    # (streamed: the server may answer and close while the upload is still being sent)
    size = 1024 * 1024 + 100
    head = (f"POST /pool/search.json HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token[1]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n").encode()
    answer, _ = stream_until_answer(server.port, head, b" " * 65536, limit=size)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert len(log_rows(target)) == before


@pytest.mark.parametrize(("content", "filename", "says"), [
    (b"title: CNC\nrequirements: []\n", "cnc.yaml", "cnc.yaml"),
    (b"{\"title\": \"CNC\"}", "no-requirements.json", "requirements"),
    (b"[1, 2]", "array.json", "object"),
    (b"{\"title\": \"CNC\", \"title\": \"x\", \"requirements\": []}", "dup.json", "dup.json"),
    (b"\xff\xfe{}", "utf16.json", "utf16.json"),
    (b"", "empty.json", "choose a job-profile file"),
])
def test_bad_profile_is_a_clear_400_page(world: World, target: Path, server: Server, token: tuple[Path, str],
                                         content: bytes, filename: str, says: str) -> None:
    before = len(log_rows(target))
    r = post_form(server, "/pool/search", {}, content, filename=filename, headers=bearer(token))
    assert r.status == 400 and r.content_type == "text/html"
    shown = text_of(r.raw.decode())
    assert says in shown and "Traceback" not in shown and "candidate(s)" not in shown
    j = post_form(server, "/pool/search.json", {}, content, filename=filename, headers=bearer(token))
    assert j.status == 400 and j.content_type == "application/problem+json" and says in j.json["detail"]
    assert len(log_rows(target)) == before


@pytest.mark.parametrize(("fields", "says"), [
    ({"min_essential": "many"}, "min essential"), ({"limit": "0"}, "limit"), ({"limit": "ten"}, "limit"),
    ({"min_essential": "1.5"}, "fraction"),
])
def test_bad_parameters_are_400(server: Server, token: tuple[Path, str], fields: dict[str, str], says: str) -> None:
    r = post_form(server, "/pool/search.json", fields, PROFILE.read_bytes(), headers=bearer(token))
    assert r.status == 400 and says in r.json["detail"]


def test_hostile_values_are_escaped(server: Server, token: tuple[Path, str]) -> None:
    doc = json.loads(PROFILE.read_text())
    doc["title"] = "<script>alert(1)</script> Verspaner"
    bad = post_form(server, "/pool/search", {}, b"not json", filename="<img src=x onerror=alert(1)>.json",
                    headers=bearer(token)).raw.decode()
    assert "<img" not in bad and "&lt;img" in bad
    page = post_form(server, "/pool/search", {"min_essential": "0"}, json.dumps(doc).encode(),
                     headers=bearer(token)).raw.decode()
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; Verspaner" in page


# --------------------------------------------------------------------------------------------
# starting it


def test_serve_pool_needs_a_token_or_the_unsafe_switch(world: World, target: Path, token: tuple[Path, str]) -> None:
    for args, says in ((["--pool", target], "--token-file"),
                       (["--pool", target, "--token-file", token[0], "--unsafe-open-pool"], "not both"),
                       (["--pool", world.root / "no-such-pool.sqlite", "--token-file", token[0]], "no-such-pool"),
                       (["--pool", target, "--unsafe-open-issuing", "--token-file", token[0]], "--issuer")):
        proc = cli(world, "serve", "--port", str(free_port()), *args)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], (args, proc.stderr)


def test_unsafe_open_pool_warns_and_opens(world: World, target: Path) -> None:
    s = start_pool(world, "--pool", target, "--unsafe-open-pool", "--pool-framework", FRAMEWORK)
    try:
        r = post_form(s, "/pool/search.json", {"min_essential": "5"}, PROFILE.read_bytes())
        assert r.status == 200 and len(r.json) == 2
        page = s.client().get("/pool/").raw.decode()
        assert "type='file'" in page and "--unsafe-open-pool" in page
    finally:
        s.stop()
    assert "UNSAFE" in s.log() and "--unsafe-open-pool" in s.log()


def test_pool_page_beside_the_issuer(world: World, target: Path, tmp_path: Path) -> None:
    setup = make_issuer(tmp_path / "svc")
    with running(setup, "--pool", str(target), "--pool-framework", str(FRAMEWORK)) as s:
        prof = PROFILE.read_bytes()
        assert post_form(s, "/pool/search.json", {"min_essential": "5"}, prof).status == 401
        r = post_form(s, "/pool/search.json", {"min_essential": "5"}, prof, headers=setup.auth)
        assert r.status == 200 and [x["holder"] for x in r.json] == [world.holders["jan"], world.holders["fatima"]]
        assert s.client().get("/health").status == 200  # the VC-API is still there


# --------------------------------------------------------------------------------------------
# a real browser: sign in, upload the profile, read the rendered hits


class DevTools:
    """Chromium's DevTools protocol over ``--remote-debugging-pipe`` (fds 3 and 4; messages
    separated by NUL): no websocket library needed."""

    def __init__(self, flags: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        cmd_r, self._cmd_w = os.pipe()
        self._ev_r, ev_w = os.pipe()
        with log.open("wb") as err:  # bash: dash takes only one-digit fd numbers in 3<&N
            self.proc = subprocess.Popen(["bash", "-c", f'exec "$0" "$@" 3<&{cmd_r} 4>&{ev_w}', *flags,
                                          "--remote-debugging-pipe", "about:blank"],
                                         pass_fds=(cmd_r, ev_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err, env=env)
        os.close(cmd_r)
        os.close(ev_w)
        self._buf = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._ev_r], [], [], 120)  # a hang guard, not a speed check
            assert ready, "hang guard: chromium sent nothing for 120 s"
            chunk = os.read(self._ev_r, 1 << 16)
            assert chunk, f"chromium closed the DevTools pipe:\n{self.log.read_text(errors='replace')[-3000:]}"
            self._buf += chunk
        msg, _, self._buf = self._buf.partition(b"\0")
        return dict(json.loads(msg))

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if self.session is not None and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        for _ in range(10_000):
            reply = self._read()
            if reply.get("id") == self._next:
                assert "error" not in reply, (method, reply["error"])
                return dict(reply.get("result", {}))
            self.events.append(reply)
        raise AssertionError(f"no answer to {method}")

    def wait(self, method: str) -> dict[str, Any]:
        for _ in range(10_000):
            while self.events:
                ev = self.events.pop(0)
                if ev.get("method") == method:
                    return ev
            self.events.append(self._read())
        raise AssertionError(f"no {method} event")

    def eval(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (AssertionError, OSError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd_w)
        os.close(self._ev_r)


def test_search_page_in_headless_chromium(world: World, server: Server, token: tuple[Path, str],
                                          tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (run 'make browser' as root, or apt-get install chromium); "
                    "the HTTP tests passed, the real-browser form post was not tested")
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}"]
    upload = tmp_path / "cnc-verspaner.json"
    upload.write_bytes(PROFILE.read_bytes())
    b = DevTools(flags, {**os.environ, "HOME": str(tmp_path)}, tmp_path / "chromium.log")
    try:
        pages = [t for t in b.call("Target.getTargets")["targetInfos"] if t["type"] == "page"]
        target_id = pages[0]["targetId"] if pages else b.call("Target.createTarget", url="about:blank")["targetId"]
        b.session = b.call("Target.attachToTarget", targetId=target_id, flatten=True)["sessionId"]
        b.call("Page.enable")
        b.call("Runtime.enable")
        b.events.clear()
        b.call("Page.navigate", url=f"{server.base_url}/pool/")
        b.wait("Page.loadEventFired")
        assert b.eval("document.querySelector('input[type=file]') === null")  # signed out: the sign-in form
        b.eval(f"document.querySelector('input[name=token]').value = {json.dumps(token[1])};"
               "document.querySelector('form').requestSubmit(); true")
        b.wait("Page.loadEventFired")
        assert b.eval("location.pathname") == "/pool/"
        assert b.eval("document.cookie") == ""  # HttpOnly: no script on the page can read the session
        root = b.call("DOM.getDocument")["root"]["nodeId"]
        node = b.call("DOM.querySelector", nodeId=root, selector="input[type=file][name=profile]")["nodeId"]
        assert node
        b.call("DOM.setFileInputFiles", nodeId=node, files=[str(upload)])
        b.eval("document.querySelector('input[name=min_essential]').value = '5';"
               "document.querySelector(\"form[action='/pool/search'] button\").click(); true")
        b.wait("Page.loadEventFired")
        dom_html = b.eval("document.documentElement.outerHTML")
        max_width = b.eval("getComputedStyle(document.body).maxWidth")
        scripts = b.eval("document.scripts.length")
    finally:
        b.close()
    dom = parse(dom_html)
    shown = " ".join(" ".join(dom.text).split())
    assert "CNC-verspaner" in shown and "2 candidate(s)" in shown
    jan, fatima = world.holders["jan"], world.holders["fatima"]
    assert jan in shown and fatima in shown and shown.index(jan) < shown.index(fatima)  # ranked
    assert "via diploma" in shown and "met: read standard blueprints" in shown  # an explanation
    assert "training plan" in shown
    assert scripts == 0
    assert max_width == "960px"  # the style sheet ran: the CSP's hash matches it


def test_pool_page_beside_a_verifier_folder(world: World, target: Path, token: tuple[Path, str]) -> None:
    """``serve --pool --verifier DIR`` without an issuer: the OpenID4VP endpoints and the page."""
    folder = world.root / "verifier"
    proc = cli(world, "request", "new", "--profile", PROFILE, "--verifier-url", "http://127.0.0.1:9",
               "--unsafe-allow-http-loopback", "--verifier", folder, "--no-qr", "--name", "UWV", "--purpose", "pool")
    assert proc.returncode == 0, proc.stderr
    s = start_pool(world, "--pool", target, "--token-file", token[0], "--verifier", folder, "--trust", world.trust)
    try:
        health = s.client().get("/health")
        assert health.status == 200 and health.json["verifier"].startswith("did:")  # the verifier app's health
        r = post_form(s, "/pool/search.json", {"min_essential": "1"}, PROFILE.read_bytes(), headers=bearer(token))
        assert r.status == 200 and len(r.json) >= 1
        assert post_form(s, "/pool/search.json", {}, PROFILE.read_bytes()).status == 401
    finally:
        s.stop()
