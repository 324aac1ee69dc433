"""The worker's wallet receives an offer (OpenID4VCI 1.0, pre-authorized code flow).

:func:`receive` reads the offer, fetches the issuer's metadata (and the authorization server's),
shows the worker what is offered (``confirm``) before anything is redeemed, trades the
pre-authorized code (and transaction code) for an access token, gets a ``c_nonce``, signs a key
proof with the wallet's holder key and asks for the credential. The credential is then checked
exactly as ``wallet add`` checks a file (signature, issuer binding, that it is about this
wallet's holder) and stored; a credential that does not verify is not stored.

HTTP goes through a small bounded client: https only (plain http only to a loopback address,
for a service on this machine, and only with ``unsafe_allow_http_loopback=True``, which warns),
no redirects, responses of at most 1 MiB, a timeout.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from skillcred._internal import strictjson
from skillcred._internal.urlpolicy import url_refusal, warn_http_loopback
from skillcred.did import DidResolver
from skillcred.errors import MalformedDocument, Oid4vciError, SkillcredError, WalletError
from skillcred.keys import KeyPair
from skillcred.oid4vci.offers import PRE_AUTHORIZED_GRANT, check_offer, parse_offer_uri
from skillcred.oid4vci.proof import PROOF_ALGS, make_key_proof
from skillcred.secured import SecuredCredential
from skillcred.wallet import Wallet, WalletEntry

__all__ = ["OfferSummary", "ReceiveResult", "receive"]

MAX_RESPONSE_BYTES = 1024 * 1024
TIMEOUT_SECONDS = 30.0
FORMATS = ("dc+sd-jwt", "vc+sd-jwt", "jwt_vc_json", "ldp_vc")


@dataclass(frozen=True)
class OfferSummary:
    """What the worker is shown before accepting: who offers what, and in which format."""

    issuer_url: str
    issuer_name: str
    configuration_id: str
    credential_name: str
    fmt: str
    needs_tx_code: bool
    tx_code_description: str | None


@dataclass(frozen=True)
class ReceiveResult:
    offer: OfferSummary
    entry: WalletEntry


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _check_url(url: str, *, what: str, unsafe_allow_http_loopback: bool = False) -> None:
    reason = url_refusal(url, unsafe_allow_http_loopback=unsafe_allow_http_loopback)
    if reason is not None:
        raise Oid4vciError("invalid_request", f"the {what} {url!r} {reason}")


class _Http:
    """The wallet's bounded HTTP client (stdlib only)."""

    def __init__(self, *, unsafe_allow_http_loopback: bool = False) -> None:
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._unsafe_allow_http_loopback = unsafe_allow_http_loopback

    def request(self, method: str, url: str, *, what: str, data: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        _check_url(url, what=what, unsafe_allow_http_loopback=self._unsafe_allow_http_loopback)
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Accept": "application/json", **(headers or {})})
        try:
            with self._opener.open(req, timeout=TIMEOUT_SECONDS) as resp:
                status, body = resp.status, resp.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read(MAX_RESPONSE_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise Oid4vciError("server_error", f"cannot reach the {what} at {url}: {exc}") from exc
        if len(body) > MAX_RESPONSE_BYTES:
            raise Oid4vciError("server_error", f"the {what} answered with more than 1 MiB")
        try:
            parsed = strictjson.loads(body, source=what) if body else None
        except MalformedDocument as exc:
            if status >= 400:
                raise Oid4vciError("server_error", f"the {what} answered HTTP {status}") from exc
            raise Oid4vciError("server_error", f"the {what} did not answer JSON: {exc.message}") from exc
        if status >= 400:
            if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
                description = parsed.get("error_description")
                raise Oid4vciError(parsed["error"], str(description or f"the {what} refused (HTTP {status})")[:500],
                                   status=status)
            raise Oid4vciError("server_error", f"the {what} answered HTTP {status}", status=status)
        return status, parsed


def _well_known(base: str, name: str) -> list[str]:
    """RFC 8414 §3.1 / OpenID4VCI §12.2.2: the well-known segment goes between host and path;
    the form that appends it to the path is tried too (many deployments serve that)."""
    parts = urlsplit(base.rstrip("/"))
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    first = f"{origin}/.well-known/{name}{path}"
    return [first] if not path else [first, f"{origin}{path}/.well-known/{name}"]


def _get_metadata(http: _Http, base: str, names: tuple[str, ...], what: str) -> dict[str, Any]:
    last: Oid4vciError | None = None
    for name in names:
        for url in _well_known(base, name):
            try:
                _status, body = http.request("GET", url, what=what)
            except Oid4vciError as exc:
                last = exc
                continue
            if isinstance(body, dict):
                return body
    raise Oid4vciError("server_error", f"no {what} found at {base}" + (f" ({last.message})" if last else ""))


def summarize_offer(offer: Mapping[str, Any], metadata: Mapping[str, Any]) -> OfferSummary:
    """The offer as the worker sees it, from the issuer's metadata."""
    cid = offer["credential_configuration_ids"][0]
    configs = metadata.get("credential_configurations_supported")
    config = configs.get(cid) if isinstance(configs, dict) else None
    if not isinstance(config, dict):
        raise Oid4vciError("unsupported_credential_configuration", f"the issuer's metadata does not describe {cid!r}")
    fmt = config.get("format")
    if fmt not in FORMATS:
        raise Oid4vciError("unsupported_credential_format", f"this wallet takes {', '.join(FORMATS)}, not {fmt!r}")
    display = (config.get("credential_metadata") or {}).get("display") or config.get("display") or []
    name = next((d.get("name") for d in display if isinstance(d, dict) and isinstance(d.get("name"), str)), cid)
    issuer_display = metadata.get("display") or []
    issuer_name = next((d.get("name") for d in issuer_display if isinstance(d, dict)
                        and isinstance(d.get("name"), str)), offer["credential_issuer"])
    grant = offer["grants"][PRE_AUTHORIZED_GRANT]
    tx = grant.get("tx_code")
    return OfferSummary(offer["credential_issuer"], str(issuer_name), cid, str(name), str(fmt), tx is not None,
                        tx.get("description") if isinstance(tx, dict) and isinstance(tx.get("description"), str)
                        else None)


def receive(
    wallet: Wallet,
    offer_uri: str,
    holder_key: KeyPair,
    *,
    tx_code: str | None = None,
    confirm: Callable[[OfferSummary], bool] | None = None,
    resolver: DidResolver | None = None,
    http: Any = None,
    unsafe_allow_http_loopback: bool = False,
) -> ReceiveResult:
    """Receive the credential an offer URI offers into ``wallet`` (see the module docstring).

    ``confirm`` is shown the offer before the code is redeemed; returning False stops with
    nothing redeemed (:class:`WalletError`). Raises :class:`Oid4vciError` with the issuer's
    error code when the issuer refuses.

    Every URL must be https; ``unsafe_allow_http_loopback`` also lets plain http reach a service
    on this machine (tests, demos) and warns (:class:`SkillcredSecurityWarning`)."""
    if unsafe_allow_http_loopback:
        warn_http_loopback("this wallet's OpenID4VCI client")
    client: _Http = http or _Http(unsafe_allow_http_loopback=unsafe_allow_http_loopback)
    if holder_key.public_key.jws_algorithm not in PROOF_ALGS:
        raise WalletError(f"OpenID4VCI key proofs are ES256 or EdDSA; this wallet's key is {holder_key.key_type}")
    offer = parse_offer_uri(offer_uri)
    if "credential_offer_uri" in offer:
        _check_url(offer["credential_offer_uri"], what="credential offer",
                   unsafe_allow_http_loopback=unsafe_allow_http_loopback)
        _status, fetched = client.request("GET", offer["credential_offer_uri"], what="credential offer")
        offer = check_offer(fetched)
    # refused before anything is fetched from it, whichever HTTP client is used
    _check_url(offer["credential_issuer"], what="credential issuer",
               unsafe_allow_http_loopback=unsafe_allow_http_loopback)
    issuer_url = offer["credential_issuer"].rstrip("/")
    metadata = _get_metadata(client, issuer_url, ("openid-credential-issuer",), "credential issuer metadata")
    if str(metadata.get("credential_issuer", "")).rstrip("/") != issuer_url:
        raise Oid4vciError("invalid_request", "the issuer's metadata names another credential_issuer than the offer")
    summary = summarize_offer(offer, metadata)
    grant = offer["grants"][PRE_AUTHORIZED_GRANT]
    if summary.needs_tx_code and not tx_code:
        raise Oid4vciError("invalid_request", "this offer needs the transaction code the institute sent you "
                                              "separately (tx_code)", field="tx_code")
    if confirm is not None and not confirm(summary):
        raise WalletError("offer declined; nothing was taken")
    servers = metadata.get("authorization_servers")
    as_base = grant.get("authorization_server") or (servers[0] if isinstance(servers, list) and servers else issuer_url)
    as_meta = _get_metadata(client, str(as_base), ("oauth-authorization-server", "openid-configuration"),
                            "authorization server metadata")
    token_endpoint = as_meta.get("token_endpoint")
    if not isinstance(token_endpoint, str):
        raise Oid4vciError("server_error", "the authorization server metadata has no token_endpoint")
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": grant["pre-authorized_code"]}
    if summary.needs_tx_code and tx_code:
        form["tx_code"] = tx_code
    _status, token = client.request("POST", token_endpoint, what="token endpoint",
                                    data=urlencode(form).encode("ascii"),
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    if not isinstance(token, dict) or not isinstance(token.get("access_token"), str) \
            or str(token.get("token_type", "")).lower() != "bearer":
        raise Oid4vciError("server_error", "the token endpoint did not answer with a Bearer access token")
    if token["access_token"].startswith("DPoP") or str(token.get("token_type")).lower() == "dpop":
        raise Oid4vciError("server_error", "DPoP-bound tokens are not supported")
    nonce = token.get("c_nonce") if isinstance(token.get("c_nonce"), str) else None
    nonce_endpoint = metadata.get("nonce_endpoint")
    if isinstance(nonce_endpoint, str):
        _status, answer = client.request("POST", nonce_endpoint, what="nonce endpoint", data=b"")
        if not isinstance(answer, dict) or not isinstance(answer.get("c_nonce"), str):
            raise Oid4vciError("server_error", "the nonce endpoint gave no c_nonce")
        nonce = answer["c_nonce"]
    credential_endpoint = metadata.get("credential_endpoint")
    if not isinstance(credential_endpoint, str):
        raise Oid4vciError("server_error", "the issuer's metadata has no credential_endpoint")
    proof = make_key_proof(holder_key, audience=issuer_url, nonce=nonce, kid=wallet.verification_method)
    request: dict[str, Any] = {"proofs": {"jwt": [proof]}}
    details = token.get("authorization_details")
    identifiers = [i for d in details if isinstance(d, dict) for i in d.get("credential_identifiers") or []] \
        if isinstance(details, list) else []
    if identifiers:
        request["credential_identifier"] = identifiers[0]
    else:
        request["credential_configuration_id"] = summary.configuration_id
    _status, answer = client.request(
        "POST", credential_endpoint, what="credential endpoint", data=json.dumps(request).encode("utf-8"),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token['access_token']}"})
    if not isinstance(answer, dict) or not isinstance(answer.get("credentials"), list) or not answer["credentials"]:
        if isinstance(answer, dict) and "transaction_id" in answer:
            raise Oid4vciError("issuance_pending", "the issuer defers this credential; deferred issuance "
                                                   "is not supported")
        raise Oid4vciError("server_error", "the credential endpoint gave no credentials")
    first = answer["credentials"][0]
    credential = first.get("credential") if isinstance(first, dict) else None
    return ReceiveResult(summary, _store(wallet, credential, summary.fmt, resolver))


def _store(wallet: Wallet, credential: Any, fmt: str, resolver: DidResolver | None) -> WalletEntry:
    """Check and keep the received credential exactly as ``wallet add`` would a file."""
    source = "<received credential>"
    try:
        if fmt == "ldp_vc":
            if not isinstance(credential, dict):
                raise WalletError("an ldp_vc credential must be a JSON object", path=source)
            item: Mapping[str, Any] | SecuredCredential = credential
        else:
            if not isinstance(credential, str):
                raise WalletError(f"a {fmt} credential must be a string", path=source)
            item = SecuredCredential.from_file_bytes(credential.encode("utf-8"), source)
            expected = "jwt" if fmt == "jwt_vc_json" else "sd-jwt"
            if item.format != expected:
                raise WalletError(f"the issuer sent a {item.label}, not the {fmt} it offered", path=source)
    except SkillcredError as exc:
        raise WalletError(f"the received credential is unusable: {exc.message}", path=source) from exc
    return wallet.add([(source, item)], resolver=resolver or wallet.resolver())[0]
