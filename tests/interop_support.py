"""Run a Node.js interop peer from ``tests/interop/NAME/`` (other implementations of a standard).

``make test`` installs each folder's pinned packages (``npm ci`` from its lock file, see the
Makefile's ``interop`` target) into ``.interop/NAME/`` at the top of the repository, outside
``tests/``; the folder's own scripts are copied beside them before each use, so what runs is
always what is committed. A test skips only when Node.js itself is missing; with Node present
and the folder's packages not installed, the test fails: a missing peer must not look like a pass.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

INTEROP = Path(__file__).parent / "interop"
INSTALLED = Path(__file__).parent.parent / ".interop"


def node_or_skip() -> str:
    """The ``node`` executable, or skip the calling test with the reason."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the interop tests against other implementations need it")
    return node


def peer_dir(name: str) -> Path:
    """The folder of peer ``name`` with its packages installed, or fail saying how to install them."""
    node_or_skip()
    source, folder = INTEROP / name, INSTALLED / name
    lock = folder / "package-lock.json"
    if not (folder / "node_modules").is_dir() or not lock.is_file() \
            or lock.read_bytes() != (source / "package-lock.json").read_bytes():
        pytest.fail(f"interop peer {name!r} not installed as pinned: run `make interop` (npm ci in {folder})")
    for script in source.iterdir():
        if script.is_file() and script.name not in ("package.json", "package-lock.json"):
            shutil.copyfile(script, folder / script.name)
    return folder


def run_node(name: str, script: str, *args: str, input_json: Any = None, timeout: float = 300) -> Any:
    """Run ``tests/interop/NAME/SCRIPT`` with ``args``; JSON on stdin and stdout.

    ``timeout`` only stops a hung peer; it never decides a pass or fail. A non-zero exit fails the
    test with the peer's stderr.
    """
    folder = peer_dir(name)
    node = node_or_skip()
    proc = subprocess.run(
        [node, str(folder / script), *args],
        input=None if input_json is None else json.dumps(input_json),
        capture_output=True, text=True, cwd=folder, timeout=timeout, check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"interop peer {name}/{script} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    out = proc.stdout.strip()
    return json.loads(out) if out else None
