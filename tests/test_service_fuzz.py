"""Property-based fuzzing of the service from its own OpenAPI document (schemathesis).

For every operation the served ``/openapi.json`` describes, schemathesis generates requests, both
ones that match the schema (positive) and ones that break it (negative), sends them to a real
server on loopback (with the bearer token, so issuing is reached) and checks each answer: never a
5xx, a status code and content type the document declares, a body that matches the declared
schema, and a 4xx for every request that breaks the schema. A request that hangs fails through
the client timeout. Bounded: 30 examples per operation and mode, no deadline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("schemathesis")

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service_support import Server, make_issuer, start_server

pytestmark = pytest.mark.loopback

MAX_EXAMPLES = 30
TIMEOUT = 20  # seconds per request: a hang fails the test
OPERATIONS = [
    ("POST", "/credentials/issue"),
    ("POST", "/credentials/status"),
    ("POST", "/credentials/verify"),
    ("POST", "/presentations/verify"),
    ("GET", "/status/{list_name}"),
    ("POST", "/status/{list_name}/publish"),
    ("GET", "/.well-known/did.json"),
    ("GET", "/health"),
    ("GET", "/.well-known/vct/skillcred/vct/v1/{name}"),  # SD-JWT VC type metadata
    ("GET", "/status/tokens/{name}"),  # IETF Token Status Lists
]
POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                   response_schema_conformance, response_headers_conformance]
NEGATIVE_CHECKS = [*POSITIVE_CHECKS, negative_data_rejection]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Server, dict[str, str]]]:
    # keep Hypothesis' files out of the repository
    hypothesis.configuration.set_hypothesis_home_dir(str(tmp_path_factory.mktemp("hypothesis")))
    setup = make_issuer(tmp_path_factory.mktemp("fuzz"), did_method="web")
    server = start_server(setup)
    client = server.client()
    # a list to fetch: issue one credential with a status entry
    reply = client.post("/credentials/issue", {"credential": {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "issuer": setup.did, "credentialSubject": {"id": "did:example:fuzz"}},
        "options": {"credentialStatus": {"type": "BitstringStatusListEntry"}}}, headers=setup.auth)
    assert reply.status == 201
    document = client.get("/openapi.json").json
    schema = schemathesis.openapi.from_dict(document)
    yield schema, server, setup.auth
    server.stop()


def test_every_operation_is_fuzzed(target: tuple[Any, Server, dict[str, str]]) -> None:
    schema, _server, _auth = target
    found = {(op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())}
    assert found == set(OPERATIONS)


# negative data needs something to break: the two GETs without parameters have nothing
CASES = [(m, p, "positive") for m, p in OPERATIONS] + [
    (m, p, "negative") for m, p in OPERATIONS if p not in ("/.well-known/did.json", "/health")]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {mode}" for m, p, mode in CASES])
def test_fuzz(target: tuple[Any, Server, dict[str, str]], method: str, path: str, mode: str) -> None:
    schema, server, auth = target
    operation = schema[path][method]
    has_input = bool(operation.body) or any(True for _ in operation.iter_parameters())
    assert has_input or mode == "positive"
    generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    checks = POSITIVE_CHECKS if mode == "positive" else NEGATIVE_CHECKS
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=generation))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])
    def run(case: Any) -> None:
        response = case.call(base_url=server.base_url, headers=dict(auth), timeout=TIMEOUT)
        statuses.append(response.status_code)
        case.validate_response(response, checks=checks)

    run()
    assert statuses and all(s < 500 for s in statuses)
    assert server.client().get("/health").status == 200  # still up


def test_documented_answers_match_the_document(target: tuple[Any, Server, dict[str, str]]) -> None:
    """The answers random input rarely reaches (201, 200, 204, 304, 409, 401), checked against the
    same document with the same checks."""
    schema, server, auth = target

    def call(method: str, path: str, expect: int, *, headers: dict[str, str] | None = None,
             **kw: Any) -> Any:
        case = schema[path][method].Case(**kw)
        response = case.call(base_url=server.base_url, headers=dict(auth if headers is None else headers),
                             timeout=TIMEOUT)
        assert response.status_code == expect, response.text[:300]
        case.validate_response(response, checks=POSITIVE_CHECKS)
        return response

    cred = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:5c1d0000-0000-4000-8000-00000000f022",
            "type": ["VerifiableCredential"], "issuer": server.client().get("/.well-known/did.json").json["id"],
            "credentialSubject": {"id": "did:example:holder"}}
    status = {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}
    vc = call("POST", "/credentials/issue", 201, body={"credential": cred, "options": {"credentialStatus": status}}
              ).json()["verifiableCredential"]
    call("POST", "/credentials/issue", 409, body={"credential": cred})
    call("POST", "/credentials/issue", 401, body={"credential": cred}, headers={})
    call("POST", "/credentials/verify", 200, body={"verifiableCredential": vc})
    call("POST", "/presentations/verify", 200, body={"verifiablePresentation": {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
        "verifiableCredential": [vc]}})
    call("POST", "/credentials/status", 200, body={"credentialId": vc["id"], "credentialStatus": [
        {"type": "BitstringStatusListEntry", "status": True, "statusPurpose": "suspension"}]})
    call("POST", "/credentials/verify", 400, body={"verifiableCredential": vc})  # suspended now
    name = vc["credentialStatus"]["statusListCredential"].rsplit("/", 1)[-1]
    etag = call("GET", "/status/{list_name}", 200, path_parameters={"list_name": name}).headers["etag"]
    etag = etag[0] if isinstance(etag, list) else etag  # schemathesis keeps header values as lists
    call("GET", "/status/{list_name}", 304, path_parameters={"list_name": name}, headers={"If-None-Match": etag})
    call("POST", "/status/{list_name}/publish", 204, path_parameters={"list_name": name})
    call("GET", "/.well-known/did.json", 200)
    call("GET", "/health", 200)
