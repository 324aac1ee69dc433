"""The SD-JWT VC part of ``skillcred serve``: type metadata and IETF Token Status Lists.

* ``GET /.well-known/vct/skillcred/vct/v1/{name}``  the type metadata of a skillcred ``vct``
  (draft-ietf-oauth-sd-jwt-vc: the metadata of ``https://host/path`` lives at
  ``/.well-known/vct/path``), byte for byte what ``vct#integrity`` covers;
* ``GET /status/tokens/{name}.jwt``  the signed Status List Token (``statuslist+jwt``) that mirrors
  the revocation list ``{name}`` (1 revoked, 2 suspended), signed on demand, re-signed when a
  status changes or a quarter of its validity has passed.

The same signed tokens are what the service's own ``POST /credentials/verify`` and
``/presentations/verify`` check an SD-JWT VC's status against (:func:`own_token_status_lists`),
so a credential it issued is never ``status_unavailable`` there.

Kept out of :mod:`skillcred.service` (one function mounts it) so the service's own routes and
these evolve apart.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import weakref
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, FastAPI, Header
from fastapi import Path as PathParam
from fastapi.responses import Response

from skillcred._internal.timeutil import utcnow
from skillcred.errors import SkillcredError
from skillcred.sdjwt_vc import VCT_BY_KIND, metadata_bytes, type_metadata, well_known_path
from skillcred.token_status import TokenStatusList, sign_status_list_token, token_list_url

if TYPE_CHECKING:  # pragma: no cover
    from skillcred.service.state import ServiceState

__all__ = ["add_sdjwt_vc_routes", "own_token_status_lists"]

STATUS_LIST_JWT = "application/statuslist+jwt"
_NAME = r"^[A-Za-z0-9._-]{1,200}$"


def _problem(status: int, title: str, detail: str) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body).encode("utf-8"), status_code=status, media_type="application/problem+json")


class _TokenLists:
    """The service's signed Status List Tokens, one per revocation list, by name: re-signed when
    a status changes or a quarter of their validity has passed (shared by the token route and
    the service's verifier, so both see one token per state of the list)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.signed: dict[str, tuple[str, str, float]] = {}  # name -> (fingerprint, token, monotonic signed at)

    def _sign(self, state: ServiceState, name: str, url: str, size: int, values: dict[int, int]) -> str:
        fingerprint = hashlib.sha256(f"{url}|{size}|{sorted(values.items())}".encode()).hexdigest()
        valid_for = timedelta(hours=state.config.status_valid_hours)
        with self.lock:
            held = self.signed.get(name)
            if held is None or held[0] != fingerprint or time.monotonic() - held[2] > valid_for.total_seconds() / 4:
                lst = TokenStatusList(size, bits=2)
                for idx, value in values.items():
                    lst.set(idx, value)
                token = sign_status_list_token(
                    lst, uri=token_list_url(url), key=state._key, kid=state.profile.verification_method,
                    issuer=state.profile.did, valid_for=valid_for, ttl=state.config.status_max_age,
                    now=utcnow().replace(microsecond=0))
                held = (fingerprint, token, time.monotonic())
                self.signed[name] = held
            return held[1]

    def token(self, state: ServiceState, name: str) -> str | None:
        """The current token of list ``name`` (None: no such list). Raises SkillcredError when
        the registry cannot be read."""
        base = state.config.status_base_url
        with state.registries.use() as reg:
            info = next((i for i in reg.status_lists() if i.purpose == "revocation"
                         and token_list_url(i.url) == f"{base}/tokens/{name}"), None)
            values = reg.token_status_values().get(info.url, {}) if info is not None else {}
        if info is None:
            return None
        return self._sign(state, name, info.url, info.size, values)

    def all(self, state: ServiceState) -> list[str]:
        """The current token of every revocation list (each mirrors one, see token_status)."""
        with state.registries.use() as reg:
            infos = [i for i in reg.status_lists() if i.purpose == "revocation"]
            values = reg.token_status_values() if infos else {}
        return [self._sign(state, token_list_url(i.url).rsplit("/", 1)[-1], i.url, i.size, values.get(i.url, {}))
                for i in infos]


_LISTS: weakref.WeakKeyDictionary[Any, _TokenLists] = weakref.WeakKeyDictionary()
_LISTS_LOCK = threading.Lock()


def _lists_of(state: ServiceState) -> _TokenLists:
    with _LISTS_LOCK:
        lists = _LISTS.get(state)
        if lists is None:
            lists = _LISTS[state] = _TokenLists()
        return lists


def own_token_status_lists(state: ServiceState, document: Any = None) -> list[str]:
    """The service's own Status List Tokens, for its verifier: only when ``document`` may hold
    an SD-JWT (nothing else names a Token Status List, so other requests sign nothing)."""
    if document is not None and "sd-jwt" not in json.dumps(document, default=str):
        return []
    return _lists_of(state).all(state)


def add_sdjwt_vc_routes(app: FastAPI, state: ServiceState) -> None:
    """Mount the type metadata and Token Status List routes on ``app`` for ``state``'s issuer."""
    from skillcred.service.wire import Problem  # the service's problem-details model (import cycle otherwise)

    router = APIRouter(tags=["sd-jwt-vc"])
    problems: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "Not found"},
                422: {"model": Problem, "description": "The name does not match the pattern"}}
    metadata = {well_known_path(vct): metadata_bytes(type_metadata(vct)) for vct in VCT_BY_KIND.values()}
    lists = _lists_of(state)

    @router.get("/.well-known/vct/skillcred/vct/v1/{name}", response_model=None, summary="SD-JWT VC type metadata",
                responses={200: {"content": {"application/json": {}}}, **problems})
    def get_type_metadata(name: Annotated[str, PathParam(pattern=_NAME)]) -> Response:
        """The bundled type metadata of a skillcred vct (never changes within a version)."""
        body = metadata.get(f"/.well-known/vct/skillcred/vct/v1/{name}")
        if body is None:
            return _problem(404, "Not found", f"no type metadata {name!r} here")
        return Response(body, media_type="application/json",
                        headers={"Cache-Control": "public, max-age=86400",
                                 "ETag": f'"{hashlib.sha256(body).hexdigest()[:32]}"'})

    @router.get("/status/tokens/{name}", response_model=None, summary="A signed IETF Status List Token",
                responses={200: {"content": {STATUS_LIST_JWT: {}}}, 304: {}, **problems,
                           503: {"model": Problem, "description": "The registry is unavailable"}})
    def get_status_token(name: Annotated[str, PathParam(pattern=_NAME)],
                         if_none_match: Annotated[str | None, Header()] = None) -> Response:
        """The Status List Token of one revocation list, current on every request."""
        try:
            token = lists.token(state, name)
        except SkillcredError as exc:
            return _problem(503, "Service unavailable", exc.message)
        if token is None:
            return _problem(404, "Not found", f"no token status list {name!r} here")
        etag = f'W/"{hashlib.sha256(token.encode()).hexdigest()[:32]}"'
        headers = {"ETag": etag, "Cache-Control": f"public, max-age={state.config.status_max_age}"}
        if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
            return Response(status_code=304, headers=headers)
        return Response(token.encode("ascii"), media_type=STATUS_LIST_JWT, headers=headers)

    app.include_router(router)
