"""The OpenID4VCI wallet's HTTP client answered by an issuer in this process: the wallet's own
URL checks and protocol steps are what is tested, with no network and no server."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from skillcred.errors import Oid4vciError
from skillcred.oid4vci import Oid4vciIssuer


class DirectHttp:
    """Routes the wallet's requests below ``base`` to ``oid``'s endpoints (metadata only by GET)
    and records the paths asked for in ``calls``; anything else is a 404 the wallet must handle."""

    def __init__(self, oid: Oid4vciIssuer, base: str) -> None:
        self.oid, self.base = oid, base
        self.calls: list[str] = []

    def request(self, method: str, url: str, *, what: str, data: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        path = url.removeprefix(self.base)
        self.calls.append(path)
        if method == "GET" and path == "/.well-known/openid-credential-issuer":
            return 200, self.oid.credential_issuer_metadata()
        if method == "GET" and path == "/.well-known/oauth-authorization-server":
            return 200, self.oid.authorization_server_metadata()
        if path == "/oid4vci/token":
            return 200, self.oid.token(parse_qs((data or b"").decode()), client="wallet")
        if path == "/oid4vci/nonce":
            return 200, self.oid.nonce()
        if path == "/oid4vci/credential":
            return 200, self.oid.credential((headers or {}).get("Authorization"), json.loads(data or b"null"))
        raise Oid4vciError("server_error", f"no {method} {url}", status=404)
