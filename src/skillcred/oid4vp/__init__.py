"""OpenID for Verifiable Presentations 1.0 with DCQL: the request derived from the vacancy.

The employer (verifier) side: :func:`query_from_profile` builds the DCQL query of a job profile
(only the credentials and claims that evidence its requirements), :func:`new_request_payload` /
:func:`sign_request_object` make the signed request object (JAR, client id prefix
``decentralized_identifier:``, fresh ``nonce`` and ``state``, ``direct_post``),
:class:`VerifierStore` keeps requests, single-use transactions and results, and
:func:`check_response` checks a ``vp_token`` (binding, the one Verifier, DCQL satisfaction) and
matches it against the vacancy. The HTTP endpoints live in ``skillcred serve --verifier``.

The worker (wallet) side: :func:`parse_request_uri`, :func:`fetch_request_object`,
:func:`verify_request_object`, :func:`plan_response` (which credentials answer which query, and
which claims to disclose), :func:`build_vp_token`, :func:`post_response`.

Formats (one table, :data:`FORMATS`): ``ldp_vc`` (Data Integrity), ``jwt_vc_json`` (vc+jwt),
``vc+sd-jwt`` (skillcred.sdjwt) and ``dc+sd-jwt`` (the IETF SD-JWT VC of skillcred.sdjwt_vc,
asked by ``vct`` and its flat claims). Responses go ``direct_post``, or encrypted to the verifier
with ``direct_post.jwt`` (:func:`response_encryption`, :func:`encrypt_response`,
:func:`decrypt_response`: ECDH-ES on a fresh P-256 key per transaction, A128GCM/A256GCM).
"""

from __future__ import annotations

from skillcred.oid4vp._dcql import (
    DEFAULT_FORMATS,
    FORMATS,
    CredentialMatch,
    FormatInfo,
    check_query,
    match_credential,
    missing_required_sets,
    query_from_profile,
)
from skillcred.oid4vp._jwe import (
    ENC_VALUES,
    ResponseEncryption,
    decrypt_response,
    encrypt_response,
    encryption_metadata,
    new_encryption_key,
    response_encryption,
)
from skillcred.oid4vp._request import (
    CLIENT_ID_PREFIX,
    client_id_for,
    new_request_payload,
    parse_request_uri,
    request_uri_for,
    sign_request_object,
    verify_request_object,
)
from skillcred.oid4vp._response import ResponseResult, check_response, parse_vp_token
from skillcred.oid4vp._store import StoredRequest, StoredResponse, VerifierStore, ranked
from skillcred.oid4vp._wallet import (
    Answer,
    PostResult,
    ResponsePlan,
    build_vp_token,
    describe_answers,
    describe_request,
    fetch_request_object,
    plan_response,
    post_response,
)

__all__ = [
    "CLIENT_ID_PREFIX",
    "DEFAULT_FORMATS",
    "ENC_VALUES",
    "FORMATS",
    "Answer",
    "CredentialMatch",
    "FormatInfo",
    "PostResult",
    "ResponseEncryption",
    "ResponsePlan",
    "ResponseResult",
    "StoredRequest",
    "StoredResponse",
    "VerifierStore",
    "build_vp_token",
    "check_query",
    "check_response",
    "client_id_for",
    "decrypt_response",
    "describe_answers",
    "describe_request",
    "encrypt_response",
    "encryption_metadata",
    "fetch_request_object",
    "match_credential",
    "missing_required_sets",
    "new_encryption_key",
    "new_request_payload",
    "parse_request_uri",
    "parse_vp_token",
    "plan_response",
    "post_response",
    "query_from_profile",
    "ranked",
    "request_uri_for",
    "response_encryption",
    "sign_request_object",
    "verify_request_object",
]
