"""The SD-JWT VC part of ``skillcred serve``: type metadata and IETF Token Status Lists.

* ``GET /.well-known/vct/skillcred/vct/v1/{name}``  the type metadata of a skillcred ``vct``
  (draft-ietf-oauth-sd-jwt-vc: the metadata of ``https://host/path`` lives at
  ``/.well-known/vct/path``), byte for byte what ``vct#integrity`` covers;
* ``GET /status/tokens/{name}.jwt``  the signed Status List Token (``statuslist+jwt``) that mirrors
  the revocation list ``{name}`` (1 revoked, 2 suspended), signed on demand, re-signed when a
  status changes or a quarter of its validity has passed.

Kept out of :mod:`skillcred.service` (one function mounts it) so the service's own routes and
these evolve apart.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
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
    from skillcred.service import ServiceState

__all__ = ["add_sdjwt_vc_routes"]

STATUS_LIST_JWT = "application/statuslist+jwt"
_NAME = r"^[A-Za-z0-9._-]{1,200}$"


def _problem(status: int, title: str, detail: str) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body).encode("utf-8"), status_code=status, media_type="application/problem+json")


def add_sdjwt_vc_routes(app: FastAPI, state: ServiceState) -> None:
    """Mount the type metadata and Token Status List routes on ``app`` for ``state``'s issuer."""
    from skillcred.service import Problem  # the service's problem-details model (import cycle otherwise)

    router = APIRouter(tags=["sd-jwt-vc"])
    problems: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "Not found"},
                422: {"model": Problem, "description": "The name does not match the pattern"}}
    metadata = {well_known_path(vct): metadata_bytes(type_metadata(vct)) for vct in VCT_BY_KIND.values()}
    lock = threading.Lock()
    signed: dict[str, tuple[str, str, float]] = {}  # name -> (fingerprint, token, monotonic signed at)

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
        base = state.config.status_base_url
        try:
            with state.registries.use() as reg:
                info = next((i for i in reg.status_lists() if i.purpose == "revocation"
                             and token_list_url(i.url) == f"{base}/tokens/{name}"), None)
                values = reg.token_status_values().get(info.url, {}) if info is not None else {}
        except SkillcredError as exc:
            return _problem(503, "Service unavailable", exc.message)
        if info is None:
            return _problem(404, "Not found", f"no token status list {name!r} here")
        fingerprint = hashlib.sha256(
            f"{info.url}|{info.size}|{sorted(values.items())}".encode()).hexdigest()
        valid_for = timedelta(hours=state.config.status_valid_hours)
        with lock:
            held = signed.get(name)
            if held is None or held[0] != fingerprint or time.monotonic() - held[2] > valid_for.total_seconds() / 4:
                lst = TokenStatusList(info.size, bits=2)
                for idx, value in values.items():
                    lst.set(idx, value)
                token = sign_status_list_token(
                    lst, uri=token_list_url(info.url), key=state._key, kid=state.profile.verification_method,
                    issuer=state.profile.did, valid_for=valid_for, ttl=state.config.status_max_age,
                    now=utcnow().replace(microsecond=0))
                held = (fingerprint, token, time.monotonic())
                signed[name] = held
        etag = f'W/"{hashlib.sha256(held[1].encode()).hexdigest()[:32]}"'
        headers = {"ETag": etag, "Cache-Control": f"public, max-age={state.config.status_max_age}"}
        if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
            return Response(status_code=304, headers=headers)
        return Response(held[1].encode("ascii"), media_type=STATUS_LIST_JWT, headers=headers)

    app.include_router(router)
