"""Shared fixtures. Every test runs with the network cut: any socket connect fails the test."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.fixtures import issuer  # noqa: F401  (a fixture: pytest finds it by name)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"  # outside material; only compared with, never needed to run
#: The official conformance vectors, vendored byte for byte by scripts/vendor_vectors.py (see
#: tests/vectors/README.md): they travel with the repository, so no vector test ever skips.
VECTORS = REPO / "tests" / "vectors"


class NetworkBlocked(RuntimeError):
    pass


def _blocked(*args: Any, **kwargs: Any) -> Any:
    raise NetworkBlocked(f"network access attempted in a test: {args[1:] if len(args) > 1 else args}")


def _is_loopback(host: Any) -> bool:
    """An IP literal in 127.0.0.0/8 or ::1 (names are not resolved: no DNS, not even localhost)."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[None]:
    """Cut the network for every test: connect, DNS and connect_ex all raise.

    Unix-domain sockets stay usable (nothing in skillcred uses them, but multiprocessing may).
    Tests marked ``loopback`` may also reach 127.0.0.0/8 and ::1 by IP literal (local test
    servers); every other address stays blocked for them too.
    """
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo
    real_create_connection = socket.create_connection
    loopback_ok = request.node.get_closest_marker("loopback") is not None

    def loopback_address(family: int, address: Any) -> bool:
        return (loopback_ok and family in (socket.AF_INET, socket.AF_INET6)
                and isinstance(address, tuple) and bool(address) and _is_loopback(address[0]))

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if self.family == socket.AF_UNIX or loopback_address(self.family, address):
            return real_connect(self, address)
        return _blocked(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family == socket.AF_UNIX or loopback_address(self.family, address):
            return real_connect_ex(self, address)
        return _blocked(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if loopback_ok and _is_loopback(host):
            return real_getaddrinfo(host, *args, **kwargs)
        return _blocked(host, *args)

    def guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        if loopback_ok and isinstance(address, tuple) and address and _is_loopback(address[0]):
            return real_create_connection(address, *args, **kwargs)
        return _blocked(address, *args)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", guarded_create_connection)
    yield


def vectors_dir(*parts: str) -> Path:
    """A folder under tests/vectors; a missing one fails (it is vendored, never optional)."""
    path = VECTORS.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} is missing: tests/vectors is vendored (python scripts/vendor_vectors.py --check)")
    return path
