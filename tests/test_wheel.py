"""The installed wheel works on its own: it carries contexts/ and schemas/ and verifies offline.

Why: the repository keeps one copy of ``contexts/`` and ``schemas/`` at top level and
``pyproject.toml`` force-includes them into the wheel as ``skillcred/_data/...``. An editable
install reads them from the checkout, so the rest of the suite cannot notice a wheel that
forgot them. This test builds the wheel, installs it into a fresh venv that cannot see the
editable install (or the checkout), and signs and verifies credentials from a directory outside
the repository with the network cut, through the library and through the console script.

To stay fast and offline, the fresh venv gets its third-party dependencies from the dev venv:
a ``.pth`` file points at a folder of symlinks to every top-level entry of the dev venv's
site-packages except skillcred's own (the editable ``.pth``/finder and its dist-info).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
CONTEXTS = REPO / "contexts"
SCHEMAS = REPO / "schemas"
DATA_PREFIX = "skillcred/_data"

# Names in the dev venv's site-packages that belong to the editable skillcred install.
_SKILLCRED_PREFIXES = ("skillcred", "_skillcred", "__editable__", "_editable_impl_skillcred")

# Imported from a .pth file in the fresh venv, so every Python process there (the check script
# and the console script alike) runs with the network cut. Unix sockets stay usable.
NETWORK_GUARD = '''\
"""Installed by tests/test_wheel.py: no network for anything run in this venv."""
import socket


class NetworkBlocked(RuntimeError):
    pass


def _blocked(*args, **kwargs):
    raise NetworkBlocked(f"network access attempted in the wheel test venv: {args!r}")


_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    if self.family == getattr(socket, "AF_UNIX", object()):
        return _real_connect(self, address)
    return _blocked(address)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect
socket.getaddrinfo = _blocked
socket.create_connection = _blocked
'''

# Runs inside the fresh venv, from a directory outside the repository. Prints one JSON object.
CHECK_SCRIPT = r'''
import copy
import importlib.metadata
import json
import socket
import sys
from pathlib import Path

venv = Path(sys.argv[1]).resolve()
repo = Path(sys.argv[2]).resolve()
out = {}

try:
    socket.getaddrinfo("www.w3.org", 443)
    out["network_blocked"] = False
except Exception as exc:
    out["network_blocked"] = type(exc).__name__ == "NetworkBlocked"

import skillcred
from skillcred._internal.resources import data_dir
from skillcred.did import key_did, key_did_url
from skillcred.keys import KeyPair
from skillcred.proofs import add_proof, check_proofs


def inside(path, folder):
    return Path(path).resolve().is_relative_to(folder)


out["skillcred_file"] = skillcred.__file__
out["skillcred_in_venv"] = inside(skillcred.__file__, venv)
out["skillcred_in_repo"] = inside(skillcred.__file__, repo)
out["repo_on_sys_path"] = [p for p in sys.path if p and inside(p, repo)]
dist = importlib.metadata.distribution("skillcred")
out["dist_location"] = str(dist.locate_file(""))
out["dist_in_venv"] = inside(dist.locate_file(""), venv)
out["contexts_dir"] = str(data_dir("contexts"))
out["contexts_in_venv"] = inside(data_dir("contexts"), venv)
try:
    schemas = data_dir("schemas")
    out["schemas_dir"] = str(schemas)
    out["schemas_in_venv"] = inside(schemas, venv)
    out["schema_files"] = sorted(p.name for p in schemas.iterdir() if p.is_file())
except FileNotFoundError:
    out["schemas_dir"], out["schemas_in_venv"], out["schema_files"] = None, False, []

key = KeyPair.generate("ed25519")
issuer = key_did(key.public_key)
credential = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "issuer": issuer,
    "validFrom": "2025-09-01T00:00:00Z",
    "name": "Lassen, niveau 2",
    "credentialSubject": {
        "id": key_did(KeyPair.generate("ed25519").public_key),
        "name": "J. de Vries",
    },
}
signed = add_proof(
    credential, key, verification_method=key_did_url(key.public_key), cryptosuite="eddsa-rdfc-2022"
)
report = check_proofs(signed)
out["verified"] = report.verified
out["report"] = report.to_dict()

tampered = copy.deepcopy(signed)
tampered["credentialSubject"]["name"] = "M. Jansen"
bad = check_proofs(tampered)
out["tampered_verified"] = bad.verified
out["tampered_codes"] = [c.code for c in bad.checks]

print(json.dumps(out))
'''


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    python: Path
    bin: Path
    workdir: Path  # outside the repository
    env: dict[str, str]


def _run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    what: str,
    timeout: float = 120,
    check: bool = True,
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        **kwargs,
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )
    return proc


def _site_packages_dirs() -> list[Path]:
    """The dev venv's site-packages (where the dependencies are installed)."""
    dirs: list[Path] = []
    for key in ("purelib", "platlib"):
        p = Path(sysconfig.get_paths()[key]).resolve()
        if p.is_dir() and p not in dirs:
            dirs.append(p)
    return dirs


def _left_out_of_view(name: str) -> bool:
    """skillcred's own entries (editable .pth/finder, dist-info), any .pth, and caches."""
    low = name.lower()
    return low.startswith(_SKILLCRED_PREFIXES) or low.endswith(".pth") or low == "__pycache__"


def _dependency_view(target: Path) -> Path:
    """A folder of symlinks to the dev venv's site-packages, minus skillcred itself."""
    target.mkdir()
    for site in _site_packages_dirs():
        for entry in site.iterdir():
            if _left_out_of_view(entry.name) or (target / entry.name).exists():
                continue
            (target / entry.name).symlink_to(entry)
    leaked = [p.name for p in target.iterdir() if "skillcred" in p.name.lower()]
    assert not leaked, f"skillcred entries leaked into the dependency view: {leaked}"
    return target


def _build_wheel(outdir: Path) -> Path:
    cmd: list[str | Path] = [sys.executable, "-m", "build", "--wheel", "--outdir", outdir]
    if importlib.util.find_spec("hatchling") is not None:
        # The backend is installed (test extras): build offline, no isolated env to download.
        cmd.append("--no-isolation")
    cmd.append(REPO)
    _run(cmd, what="building the wheel", timeout=300, cwd=REPO)
    wheels = sorted(outdir.glob("skillcred-*.whl"))
    assert len(wheels) == 1, f"expected exactly one skillcred wheel in {outdir}, found {wheels}"
    return wheels[0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_wheel(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("fresh")
    assert not root.resolve().is_relative_to(REPO), "the fresh venv must be outside the repository"
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], what="creating the fresh venv")
    python = venv / "bin" / "python"

    drop = {
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "VIRTUAL_ENV",
        "SKILLCRED_PASSPHRASE",
        "SKILLCRED_DEBUG",
        "PIP_REQUIRE_VIRTUALENV",
        "XDG_DATA_HOME",  # an ESCO store of the machine's user must not stand in for the embedded one
    }
    env = {k: v for k, v in os.environ.items() if k not in drop}
    home = root / "home"
    home.mkdir()
    env.update(
        {
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "VIRTUAL_ENV": str(venv),
            "HOME": str(home),
            "PYTHONNOUSERSITE": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
        }
    )

    # The dev venv's pip installs into the fresh interpreter (--python): no pip download, no index.
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "--no-compile", wheel],
        what="installing the wheel into the fresh venv",
        env=env,
        cwd=root,
    )
    site = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            what="locating the fresh venv's site-packages",
            env=env,
            cwd=root,
        ).stdout.strip()
    )
    assert site.resolve().is_relative_to(venv.resolve()), f"unexpected site-packages {site}"
    deps = _dependency_view(root / "deps")
    (site / "_wheel_test_no_network.py").write_text(NETWORK_GUARD, encoding="utf-8")
    (site / "_wheel_test_no_network.pth").write_text(
        "import _wheel_test_no_network\n", encoding="utf-8"
    )
    (site / "zz_wheel_test_deps.pth").write_text(f"{deps}\n", encoding="utf-8")

    workdir = root / "work"
    workdir.mkdir()
    return Installed(wheel, venv, python, venv / "bin", workdir, env)


def test_wheel_carries_contexts_and_schemas(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())

        manifest_name = f"{DATA_PREFIX}/contexts/MANIFEST.json"
        assert manifest_name in names, f"{wheel.name} has no {manifest_name}"
        manifest_bytes = zf.read(manifest_name)
        assert manifest_bytes == (CONTEXTS / "MANIFEST.json").read_bytes(), (
            "the wheel's MANIFEST.json differs from contexts/MANIFEST.json"
        )
        manifest: dict[str, dict[str, Any]] = json.loads(manifest_bytes)
        assert manifest, "contexts/MANIFEST.json lists no contexts"
        for url, entry in manifest.items():
            name = f"{DATA_PREFIX}/contexts/{entry['file']}"
            assert name in names, f"{wheel.name} lacks {name} (context {url})"
            digest = hashlib.sha256(zf.read(name)).hexdigest()
            assert digest == entry["sha256"], (
                f"{name} in the wheel has sha256 {digest}, MANIFEST.json pins {entry['sha256']}"
            )

        repo_schemas = sorted(
            p.relative_to(SCHEMAS).as_posix() for p in SCHEMAS.rglob("*") if p.is_file()
        ) if SCHEMAS.is_dir() else []
        for rel in repo_schemas:
            name = f"{DATA_PREFIX}/schemas/{rel}"
            assert name in names, f"{wheel.name} lacks {name} (from schemas/{rel})"
            assert zf.read(name) == (SCHEMAS / rel).read_bytes(), (
                f"{name} differs from schemas/{rel}"
            )

        # The embedded ESCO snapshot (a modified, compacted ESCO v1.1.1) and its provenance.
        esco_dir = REPO / "src" / "skillcred" / "_data" / "esco"
        for p in sorted(esco_dir.iterdir()):
            name = f"{DATA_PREFIX}/esco/{p.name}"
            assert name in names, f"{wheel.name} lacks {name}"
            assert zf.read(name) == p.read_bytes(), f"{name} differs from the repository's"
        assert f"{DATA_PREFIX}/esco/esco-v1.1.1.sqlite.gz" in names

        # The data must be inside the package, not next to it or at the wheel's top level.
        stray = sorted(n for n in names if n.startswith(("contexts/", "schemas/")))
        assert not stray, f"data files outside the package in {wheel.name}: {stray[:5]}"


def test_installed_wheel_signs_and_verifies_offline(installed: Installed) -> None:
    script = installed.workdir / "check_installed.py"
    script.write_text(textwrap.dedent(CHECK_SCRIPT), encoding="utf-8")
    proc = _run(
        [installed.python, script, installed.venv.resolve(), REPO],
        what="the check script in the fresh venv",
        env=installed.env,
        cwd=installed.workdir,
    )
    try:
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        pytest.fail(f"check script printed no JSON:\n{proc.stdout}\n{proc.stderr}")

    assert out["network_blocked"], "the network guard is not active in the fresh venv"
    assert out["skillcred_in_venv"] and not out["skillcred_in_repo"], (
        f"skillcred was imported from {out['skillcred_file']}, not from the fresh venv "
        f"{installed.venv} (the editable install leaked in)"
    )
    assert not out["repo_on_sys_path"], f"repository paths on sys.path: {out['repo_on_sys_path']}"
    assert out["dist_in_venv"], f"skillcred's metadata comes from {out['dist_location']}"
    assert out["contexts_in_venv"], (
        f"data_dir('contexts') is {out['contexts_dir']}, not inside the fresh venv {installed.venv}"
    )
    repo_schema_files = sorted(p.name for p in SCHEMAS.glob("*") if p.is_file())
    if repo_schema_files:
        assert out["schemas_in_venv"], (
            f"data_dir('schemas') is {out['schemas_dir']}, "
            f"not inside the fresh venv {installed.venv}"
        )
        assert out["schema_files"] == repo_schema_files, (
            f"installed schemas {out['schema_files']} differ from schemas/ {repo_schema_files}"
        )
    assert out["verified"] is True, f"a freshly signed credential did not verify: {out['report']}"
    assert out["tampered_verified"] is False, "a tampered credential verified"
    assert out["tampered_codes"] == ["signature_invalid"], (
        f"tampering was not caught by the signature check: {out['tampered_codes']}"
    )


def test_installed_console_script_round_trip(installed: Installed) -> None:
    exe = installed.bin / "skillcred"
    assert exe.is_file(), f"the wheel installed no skillcred console script in {installed.bin}"
    work, env = installed.workdir, installed.env

    gen = _run(
        [exe, "keys", "generate", "-o", "k.pem"], what="skillcred keys generate", env=env, cwd=work
    )
    issuer = gen.stdout.strip().splitlines()[-1]
    assert issuer.startswith("did:key:z"), f"keys generate printed {gen.stdout!r}, not a did:key"
    assert (work / "k.pem").is_file(), "keys generate wrote no key file"

    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2025-09-01T00:00:00Z",
        "name": "Lassen, niveau 2",
        "credentialSubject": {
            "id": "urn:uuid:6f1c2c1e-2d4b-4b8e-9a57-1a0f3e0c9b11",
            "name": "J. de Vries",
        },
    }
    (work / "cred.json").write_text(json.dumps(credential, indent=2), encoding="utf-8")
    _run(
        [exe, "sign", "cred.json", "--key", "k.pem", "--suite", "eddsa-rdfc-2022",
         "-o", "signed.json"],
        what="skillcred sign",
        env=env,
        cwd=work,
    )
    signed = json.loads((work / "signed.json").read_text(encoding="utf-8"))
    assert signed.get("proof", {}).get("cryptosuite") == "eddsa-rdfc-2022", (
        f"unexpected proof: {signed}"
    )

    ok = _run(
        [exe, "verify", "--proof-only", "signed.json"], what="skillcred verify", env=env, cwd=work
    )
    assert "VERIFIED" in ok.stdout and "NOT VERIFIED" not in ok.stdout, ok.stdout

    signed["credentialSubject"]["name"] = "M. Jansen"
    (work / "tampered.json").write_text(json.dumps(signed), encoding="utf-8")
    bad = _run(
        [exe, "verify", "--proof-only", "tampered.json"],
        what="skillcred verify (tampered)",
        env=env,
        cwd=work,
        check=False,
    )
    assert bad.returncode == 1, (
        f"verify of a tampered credential exited {bad.returncode}, expected 1\n"
        f"{bad.stdout}{bad.stderr}"
    )

    # the embedded ESCO snapshot works from the installed package (outside the repository)
    found = _run([exe, "esco", "search", "lasser", "--lang", "nl", "--json"], what="skillcred esco search",
                 env=env, cwd=work)
    assert json.loads(found.stdout)[0]["uri"] == "http://data.europa.eu/esco/occupation/7aedaa07-3884-4c5b-88f9-80997b2aa54b"
