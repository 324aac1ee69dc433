"""The guard in conftest must itself work, or every 'offline' claim is hollow."""

import socket

import pytest

from conftest import NetworkBlocked


def test_tcp_connect_is_blocked() -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkBlocked):
            s.connect(("127.0.0.1", 9))
    finally:
        s.close()


def test_dns_is_blocked() -> None:
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("www.w3.org", 443)
