"""Shared fixtures. Every test runs with the network cut: any socket connect fails the test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
VECTORS = SHARED / "vectors"


class NetworkBlocked(RuntimeError):
    pass


def _blocked(*args: Any, **kwargs: Any) -> Any:
    raise NetworkBlocked(f"network access attempted in a test: {args[1:] if len(args) > 1 else args}")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cut the network for every test: connect, DNS and connect_ex all raise.

    Unix-domain sockets stay usable (nothing in skillcred uses them, but multiprocessing may).
    """
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)
        return _blocked(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", _blocked)
    monkeypatch.setattr(socket, "create_connection", _blocked)
    yield


def vectors_dir(*parts: str) -> Path:
    """A folder under ../shared/vectors, or skip the test saying why."""
    path = VECTORS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present (../shared/vectors is outside material); vector test skipped")
    return path
