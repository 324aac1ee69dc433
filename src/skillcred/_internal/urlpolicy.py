"""Which URLs the protocol clients and the URLs put in offers/requests may use: https only.

Plain http lets the network read and alter what is sent (a worker's credentials, a key proof,
an offer's pre-authorized code). It is allowed only to a loopback address (a service on this
machine, as in tests and demos), and only when the caller says so with
``unsafe_allow_http_loopback`` -- which warns (:class:`SkillcredSecurityWarning`). Plain http to
any other host is refused always.
"""

from __future__ import annotations

import ipaddress
import warnings
from urllib.parse import urlsplit

from skillcred.errors import SkillcredSecurityWarning

__all__ = ["is_loopback_host", "url_refusal", "warn_http_loopback"]


def is_loopback_host(host: str | None) -> bool:
    """``localhost`` or a loopback IP literal (127.0.0.0/8, ::1); names are not resolved."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_refusal(url: str, *, unsafe_allow_http_loopback: bool = False) -> str | None:
    """None when ``url`` may be used; else why not (one phrase, for the caller's error)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is not a URL"
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host:
        if not is_loopback_host(host):
            return "is plain http (only https is accepted)"
        if not unsafe_allow_http_loopback:
            return "is plain http to this machine (only https is accepted; for a local test service add " \
                   "--unsafe-allow-http-loopback / unsafe_allow_http_loopback=True)"
        return None
    return "is not an https URL"


def warn_http_loopback(what: str, *, stacklevel: int = 3) -> None:
    """The warning every ``unsafe_allow_http_loopback=True`` gives (its text starts with the
    parameter's name, so the CLI, which says it once itself, can filter exactly this one)."""
    warnings.warn(f"unsafe_allow_http_loopback: {what} may use plain http to this machine; anything on this "
                  "machine that can listen on that port can read and alter what is sent",
                  SkillcredSecurityWarning, stacklevel=stacklevel)
