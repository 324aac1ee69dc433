"""``skillcred serve``: a W3C VC-API issuer and verifier over HTTP (FastAPI + uvicorn).

Endpoints (see ``docs/service.md``; the OpenAPI document is at ``/openapi.json``):

* ``POST /credentials/issue``     sign a posted credential as the service's issuer (bearer token)
* ``POST /credentials/status``    revoke / suspend / unsuspend (bearer token)
* ``POST /credentials/verify``    verify a credential (open)
* ``POST /presentations/verify``  verify a presentation, signed (challenge, domain) or unsigned
* ``GET  /status/{list}``         the signed Bitstring Status List credentials, with caching headers
* ``GET  /.well-known/did.json``  the issuer's DID document (did:web)
* ``GET  /health``                liveness
* ``GET  /pool/``, ``POST /pool/search[.json]``  with ``--pool``: the talent pool's operator
  search page (:mod:`.pool_web`; bearer token or the sign-in form's cookie)

Several issuer configurations (``--issuer NAME=DIR``, ``--issuer-suite NAME=DIR:SUITE``) are
each at ``/issuers/{name}/credentials/issue``, ``/issuers/{name}/credentials/status`` and
``/issuers/{name}/status/{list}``; the first is the primary, also at the paths above.

Verification is stateless: any number of instances verify independently. Issuing keeps state
in the registry (credential rows, status-list indexes): the SQLite file of the issuer folder
by default, or PostgreSQL (``--registry postgresql://...``) when several instances issue
behind a load balancer; index allocation is safe across instances in both (see
:mod:`skillcred.registry_pg`).

Status answers are 200 / 201 for success and 4xx with an RFC 9457 problem-details body
(``application/problem+json``) otherwise; a verification that does not pass is never a 200.

The package's parts: :mod:`.app` (the application and its routes), :mod:`.state` (the worker's
state), :mod:`.wire` (request and response models), :mod:`.http` (strict JSON, body limit,
problem details). Only the names below are promised (docs/stability.md).
"""

from __future__ import annotations

from skillcred.service.app import NoDelayHTTPProtocol as NoDelayHTTPProtocol
from skillcred.service.app import app_from_env, create_app, run
from skillcred.service.state import CONFIG_ENV, DEFAULT_MAX_BODY_BYTES, ServiceConfig, load_state
from skillcred.service.state import ServiceState as ServiceState

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_MAX_BODY_BYTES",
    "ServiceConfig",
    "app_from_env",
    "create_app",
    "load_state",
    "run",
]
