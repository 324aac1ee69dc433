"""Cold start: what a fresh ``skillcred verify``, ``wallet list`` and ``--help`` import.

An employer who runs ``skillcred verify vp.json`` once waits mostly for imports (issue 22 item
2). These tests count modules, not time: each command runs in a fresh interpreter, and what it
has imported when it exits is compared with what it needs. ``requests``/``urllib3`` (pyld's
default loader), ``asyncio``, ``http.client``/``ssl``/``email``, ``jsonschema`` (the reference
validator, used only to name an error) and ``multiformats`` stay out; ``wallet list`` and
``--help`` do not load the proof and JSON-LD machinery at all. The ceilings are today's counts
plus a small margin, so a new heavy import fails here instead of slowing every command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO
from skillcred._internal.fileio import dump_json
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.wallet import Wallet

ACHIEVEMENTS = REPO / "examples" / "achievements"
CHALLENGE = "cold-start-challenge"
DOMAIN = "werkgever.example"

# Runs the CLI exactly as the console script does, then writes sys.modules to the path in argv[1].
_RUNNER = r"""
import json, sys
out = sys.argv[1]
sys.argv = ["skillcred", *sys.argv[2:]]
from skillcred._cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
with open(out, "w", encoding="utf-8") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""

# never on a cold path: network clients, asyncio, the reference schema validator, multiformats
NEVER = ("requests", "urllib3", "aiohttp", "asyncio", "http.client", "ssl", "urllib.request",
         "jsonschema", "referencing", "multiformats", "lxml.html")
# the proof / JSON-LD / verifier machinery and the fast schema validator (with the socket and
# email modules it loads): not for listing a wallet or printing help
HEAVY = ("pyld", "skillcred.proofs", "skillcred._internal.fastld", "skillcred._internal.rdfc",
         "skillcred.verify.verifier", "skillcred.issuer", "jsonschema_rs", "socket", "email")
# loaded only where used: reading package metadata (importlib.metadata brings email, zipfile,
# csv and a scan of site-packages), PEM keys (serialization brings the SSH and cipher modules),
# ecdsa-sd-2023 proofs
NOT_FOR_VERIFY = ("importlib.metadata", "cryptography.hazmat.primitives.serialization",
                  "skillcred.proofs._ecdsa_sd_2023")


@dataclass
class Setup:
    root: Path
    vp: Path
    trust: Path
    status: list[Path]
    wallet: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("cold-start")
    init_issuer(root / "a", name="ROC Techniek", url="https://roc-techniek.example")
    wallet = Wallet.init(root / "wallet")
    key = wallet.holder_key()
    with Issuer.open(root / "a") as a:
        docs = [a.issue(load_achievement(ACHIEVEMENTS / name), wallet.holder, level="3")[0].document
                for name in ("cnc-programmeren.yaml", "mig-mag-lassen.yaml", "technisch-tekeninglezen.yaml")]
        a.publish_status(root / "status")
        did = a.profile.did
    for doc in docs:
        wallet.add(doc)
    vp = wallet.present(docs, key=key, challenge=CHALLENGE, domain=DOMAIN)
    (root / "vp.json").write_bytes(dump_json(vp))
    trust = root / "trust.json"
    subprocess.run([sys.executable, "-c", "from skillcred._cli import main; main()", "trust", "add", "--trust",
                    str(trust), did, "--name", "ROC Techniek"], check=True, capture_output=True, timeout=60)
    status = sorted(p for p in (root / "status").iterdir() if p.name != "index.json")
    yield Setup(root, root / "vp.json", trust, status, root / "wallet")


def _modules(setup: Setup, *args: str | Path) -> tuple[int, set[str]]:
    out = setup.root / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLCRED_", "XDG_"))}
    env.update(HOME=str(setup.root), XDG_CONFIG_HOME=str(setup.root / ".config"),
               XDG_CACHE_HOME=str(setup.root / ".cache"))
    proc = subprocess.run([sys.executable, "-c", _RUNNER, str(out), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=120, check=False, stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stderr, proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    return data["code"], set(data["modules"])


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [n for n in names if n in modules]


def test_verify_of_a_presentation_imports_no_network_stack_nor_reference_validator(setup: Setup) -> None:
    code, modules = _modules(setup, "verify", setup.vp, "--trust", setup.trust, "--challenge", CHALLENGE,
                             "--domain", DOMAIN, *[x for p in setup.status for x in ("--status-list", p)])
    assert code == 0  # it really verified: the count is of a complete verification
    assert _loaded(modules, NEVER) == []
    assert "skillcred.verify.verifier" in modules and "pyld.jsonld" in modules  # the real path ran
    # an Ed25519/RDFC presentation needs neither the package metadata reader (pyld's version is
    # its __version__), nor PEM key serialization, nor the ecdsa-sd-2023 algorithms
    assert _loaded(modules, NOT_FOR_VERIFY) == []
    assert "tempfile" not in modules  # verifying writes no file (atomic_write imports it when it must)
    assert len(modules) <= 265, len(modules)  # 248 today (297 before these deferrals, 551 before issue 22)


def test_wallet_list_reads_records_without_the_proof_machinery(setup: Setup) -> None:
    code, modules = _modules(setup, "wallet", "list", "--wallet", setup.wallet)
    assert code == 0
    assert _loaded(modules, NEVER + HEAVY) == []
    assert _loaded(modules, NOT_FOR_VERIFY) == []
    assert len(modules) <= 195, len(modules)  # 180 today (551 before)


@pytest.mark.parametrize("args", [("--help",), ("-h",)], ids=["help", "h"])
def test_help_imports_no_command_module(setup: Setup, args: tuple[str, ...]) -> None:
    code, modules = _modules(setup, *args)
    assert code == 0
    assert _loaded(modules, NEVER + HEAVY) == []
    assert [m for m in modules if m.startswith("skillcred._cli.")] == []
    assert len(modules) <= 130, len(modules)  # 116 today (638 before)


def test_help_summaries_are_the_commands_own() -> None:
    """The listing in `skillcred --help` is printed from _SUMMARIES without importing the
    commands: each entry must be the first paragraph of that command's real help."""
    import click

    from skillcred._cli import _COMMANDS, _SUMMARIES, cli

    ctx = click.Context(cli)
    # every command has its summary: one without would be imported by every `skillcred --help`
    assert set(_SUMMARIES) == set(_COMMANDS), sorted(set(_COMMANDS) ^ set(_SUMMARIES))
    for name, summary in _SUMMARIES.items():
        cmd = cli.get_command(ctx, name)
        assert cmd is not None and not cmd.hidden
        assert (cmd.help or "").split("\n\n")[0].strip() == summary, name
        for limit in (30, 45, 80, 200):
            assert click.Command(name, help=summary).get_short_help_str(limit) == cmd.get_short_help_str(limit)


def test_help_listing_is_unchanged_by_the_summaries() -> None:
    """A cold `skillcred --help` (summaries, nothing imported) prints the very listing click's
    own format_commands prints from the imported commands."""
    import click

    from skillcred._cli import cli

    env = {**os.environ, "COLUMNS": "200"}
    cold = subprocess.run([sys.executable, "-c", "from skillcred._cli import main; main()", "--help"],
                          capture_output=True, text=True, env=env, timeout=60, check=True).stdout
    ctx = click.Context(cli, info_name="skillcred", terminal_width=98)  # = min(COLUMNS, max_content_width) - 2
    formatter = ctx.make_formatter()
    click.Group.format_commands(cli, ctx, formatter)  # click's own: imports every command
    assert "Commands:" in formatter.getvalue()
    assert formatter.getvalue() in cold


_PYLD_PROBE = r"""
import sys
import skillcred._internal.jsonld  # pyld through skillcred._internal.pyldimport
left = [m for m in ("requests", "asyncio", "lxml.html", "urllib.request", "http.client") if m in sys.modules]
from skillcred._internal.pyldimport import _Deferred
assert not any(isinstance(m, _Deferred) for m in sys.modules.values()), "a stand-in stayed in sys.modules"
import pyld.documentloader.file as file_loader
assert file_loader.url2pathname("/a%20b") == "/a b"
from pyld import jsonld
assert jsonld.lxml.html.fromstring("<p>x</p>").tag == "p"
import pyld.documentloader.aiohttp as aio
import asyncio
async def one():
    await asyncio.sleep(0)
    return 1
assert asyncio.run(one()) == 1 and aio.asyncio.iscoroutinefunction(one)
loader = jsonld.get_document_loader()
try:
    loader("file:///nonexistent-cold-start", {})
except Exception as exc:
    kind = type(exc).__name__
print(left, kind, type(jsonld.get_document_loader()).__name__)
"""


def test_pyld_without_its_http_stack_still_works_for_everything_else() -> None:
    proc = subprocess.run([sys.executable, "-c", _PYLD_PROBE], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    left, kind, default = proc.stdout.rsplit(" ", 2)
    assert left.strip() == "[]"  # none of them loaded by importing pyld
    assert kind == "JsonLdError"  # pyld's default loader (requests) was built on first use and refused
    assert default.strip() == "RequestsDocumentLoader"  # ... and then installed as pyld's default
