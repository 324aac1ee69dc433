"""Credential offers (OpenID4VCI 1.0 §4): made offline by the institute, redeemed once.

An offer is a pre-authorized code (32 random bytes) for one credential: one achievement, one
worker's name and level, one format. The registry keeps only hashes of the code and of the
optional transaction code (the code is the key of the transaction code's hash, so a copy of the
registry does not give the 6 digits away), so a leaked registry cannot redeem offers. The offer
URI carries the code by value: whoever holds the URI (and the transaction code, when there is
one) can take the credential, which is why offers expire and are single-use.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlsplit

from skillcred._internal.urlpolicy import url_refusal, warn_http_loopback
from skillcred.errors import InvalidArgument, Oid4vciError
from skillcred.models import AchievementDefinition
from skillcred.registry import RegistryBackend

__all__ = [
    "FORMATS",
    "PRE_AUTHORIZED_GRANT",
    "CreatedOffer",
    "OfferInput",
    "OidFormat",
    "check_offer",
    "check_offer_input",
    "configuration_id",
    "create_offers",
    "offer_uri",
    "parse_offer_uri",
]

OidFormat = Literal["dc+sd-jwt", "jwt_vc_json", "ldp_vc"]
#: OpenID4VCI format identifier -> how skillcred's issuer secures it (see Issuer.issue ``fmt``)
FORMATS: dict[str, str] = {"dc+sd-jwt": "dc+sd-jwt", "jwt_vc_json": "jwt", "ldp_vc": "di"}
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer://"
TX_CODE_LENGTH = 6
DEFAULT_VALID_SECONDS = 7 * 86400
MAX_VALID_SECONDS = 90 * 86400
#: unexpired, unredeemed offers one issuer may have open at a time
MAX_OPEN_OFFERS = 100_000
#: offers one call (one roster) may create
MAX_BATCH = 10_000
MAX_OFFER_URI_BYTES = 16 * 1024
_SLUG = re.compile(r"[^a-z0-9]+")


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def code_hash(code: str) -> str:
    """What the registry keeps of a pre-authorized code or an access token."""
    return _hash("code:" + code)


def tx_code_hash(code: str, tx_code: str) -> str:
    """What the registry keeps of a transaction code: keyed by its (secret) pre-authorized code."""
    return _hash(f"tx:{code}:{tx_code}")


def configuration_id(definition: AchievementDefinition, fmt: str) -> str:
    """The credential configuration of an achievement in one format: readable, and stable for
    the achievement's id (the same achievement always gets the same configuration)."""
    ach = definition.achievement
    slug = _SLUG.sub("-", ach.name.lower()).strip("-")[:40] or "achievement"
    return f"{slug}.{_hash(ach.id)[:10]}.{fmt}"


@dataclass(frozen=True)
class OfferInput:
    """One credential to offer: the achievement and what the credential says about the worker."""

    definition: AchievementDefinition
    name: str
    level: str | None = None
    fmt: OidFormat = "jwt_vc_json"


@dataclass(frozen=True)
class CreatedOffer:
    """An offer as handed to the worker: the URI (or its QR code) and, separately, the
    transaction code (``None`` without one)."""

    id: str
    uri: str
    tx_code: str | None
    configuration_id: str
    expires_at: int
    document: dict[str, Any]


def check_offer_input(item: OfferInput) -> None:
    """Refuse an offer that could not be issued later (bad level, empty name, unknown format)."""
    if item.fmt not in FORMATS:
        raise InvalidArgument(f"format must be one of {', '.join(FORMATS)}, not {item.fmt!r}")
    if not isinstance(item.name, str) or not item.name.strip():
        raise InvalidArgument("the worker's name must not be empty: the credential names them")
    if len(item.name) > 200 or any(ord(c) < 32 for c in item.name):
        raise InvalidArgument("the worker's name must be one line of at most 200 characters")
    ach = item.definition.achievement
    if item.level is not None:
        try:
            ach.level(item.level)
        except ValueError as exc:
            raise InvalidArgument(str(exc), field="level") from exc
    elif item.definition.kind in ("skill", "on-the-job") and any(
            rd.rubricCriterionLevel for rd in ach.resultDescription or []):
        levels = [lvl.level for rd in ach.resultDescription or [] for lvl in rd.rubricCriterionLevel or []]
        raise InvalidArgument(f"a {item.definition.kind} credential of {ach.name!r} needs a level "
                              f"(one of {', '.join(levels)})", field="level")
    if item.definition.kind == "on-the-job":
        raise InvalidArgument("on-the-job attestations need the assessor's evidence: issue them with "
                              "'skillcred issue', not as an offer")


def offer_uri(document: Mapping[str, Any]) -> str:
    """``openid-credential-offer://?credential_offer=...`` (the offer by value)."""
    return OFFER_SCHEME + "?credential_offer=" + quote(json.dumps(document, separators=(",", ":")), safe="")


def create_offers(
    registry: RegistryBackend,
    items: Sequence[OfferInput],
    *,
    credential_issuer: str,
    tx_code: bool = False,
    valid_seconds: int = DEFAULT_VALID_SECONDS,
    now: int | None = None,
    unsafe_allow_http_loopback: bool = False,
) -> list[CreatedOffer]:
    """Make one offer per item and record them all (one transaction: all or none).

    ``credential_issuer`` is the public URL ``skillcred serve`` runs under (``--public-url``):
    the wallet fetches the metadata from there. With ``tx_code`` each offer gets a 6-digit
    transaction code that must travel to the worker another way than the URI (a letter, a text
    message): the URI alone then cannot take the credential.

    The wallet redeems the code at that URL, so it must be https: a plain-http one lets the
    network take the credential. ``unsafe_allow_http_loopback`` allows plain http to this
    machine (tests, demos) and warns; plain http to any other host is refused.
    """
    if not credential_issuer.startswith(("https://", "http://")) or "?" in credential_issuer \
            or "#" in credential_issuer:
        raise InvalidArgument(f"the credential issuer must be an http(s) URL without query, not {credential_issuer!r}")
    refusal = url_refusal(credential_issuer, unsafe_allow_http_loopback=unsafe_allow_http_loopback)
    if refusal is not None:
        raise InvalidArgument(f"the credential issuer URL {credential_issuer!r} {refusal}")
    if unsafe_allow_http_loopback:
        warn_http_loopback("the offers' credential issuer URL")
    if not 60 <= valid_seconds <= MAX_VALID_SECONDS:
        raise InvalidArgument(f"an offer must stay valid between a minute and {MAX_VALID_SECONDS // 86400} days")
    if not items:
        raise InvalidArgument("nothing to offer")
    if len(items) > MAX_BATCH:
        raise InvalidArgument(f"at most {MAX_BATCH} offers at a time")
    issuer_url = credential_issuer.rstrip("/")
    at = int(time.time()) if now is None else now
    created: list[CreatedOffer] = []
    rows: list[tuple[str, str, str | None, str, dict[str, Any], int, int]] = []
    for item in items:
        check_offer_input(item)
        code = secrets.token_urlsafe(32)
        tx = f"{secrets.randbelow(10 ** TX_CODE_LENGTH):0{TX_CODE_LENGTH}d}" if tx_code else None
        cid = configuration_id(item.definition, item.fmt)
        grant: dict[str, Any] = {"pre-authorized_code": code}
        if tx is not None:
            grant["tx_code"] = {"input_mode": "numeric", "length": TX_CODE_LENGTH,
                                "description": "The code the institute sent you separately"}
        document = {"credential_issuer": issuer_url, "credential_configuration_ids": [cid],
                    "grants": {PRE_AUTHORIZED_GRANT: grant}}
        offer_id = f"urn:uuid:{uuid.uuid4()}"
        stored = {"achievement": item.definition.to_json(), "name": item.name.strip(), "level": item.level,
                  "format": item.fmt, "credential_issuer": issuer_url}
        rows.append((offer_id, code_hash(code), tx_code_hash(code, tx) if tx else None, cid, stored, at,
                     at + valid_seconds))
        created.append(CreatedOffer(offer_id, offer_uri(document), tx, cid, at + valid_seconds, document))
    registry.add_offers(rows, max_open=MAX_OPEN_OFFERS, now=at)
    return created


def parse_offer_uri(uri: str) -> dict[str, Any]:
    """The credential offer in an ``openid-credential-offer://`` URI (by value), checked for
    shape; an offer by reference (``credential_offer_uri``) is returned as
    ``{"credential_offer_uri": URL}`` for the caller to fetch."""
    if not isinstance(uri, str) or len(uri.encode("utf-8", "replace")) > MAX_OFFER_URI_BYTES:
        raise Oid4vciError("invalid_request", "the offer is not a URI of at most 16 KiB")
    parts = urlsplit(uri.strip())
    if parts.scheme not in ("openid-credential-offer", "https", "http", "haip"):
        raise Oid4vciError("invalid_request", "not a credential offer (openid-credential-offer://...)")
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) & {"credential_offer", "credential_offer_uri"} == {"credential_offer", "credential_offer_uri"}:
        raise Oid4vciError("invalid_request", "the offer has both credential_offer and credential_offer_uri")
    if "credential_offer_uri" in query:
        ref = query["credential_offer_uri"]
        if len(ref) != 1 or not ref[0].startswith(("https://", "http://")):
            raise Oid4vciError("invalid_request", "credential_offer_uri must be one http(s) URL")
        return {"credential_offer_uri": ref[0]}
    values = query.get("credential_offer")
    if not values or len(values) != 1:
        raise Oid4vciError("invalid_request", "the URI holds no credential_offer")
    try:
        document = json.loads(values[0])
    except ValueError as exc:
        raise Oid4vciError("invalid_request", f"credential_offer is not JSON ({exc})") from exc
    return check_offer(document)


def check_offer(document: Any) -> dict[str, Any]:
    """The shape OpenID4VCI 1.0 §4.1.1 gives an offer: issuer URL, configuration ids, grants."""
    if not isinstance(document, dict):
        raise Oid4vciError("invalid_request", "credential_offer must be a JSON object")
    issuer = document.get("credential_issuer")
    if not isinstance(issuer, str) or not issuer.startswith(("https://", "http://")):
        raise Oid4vciError("invalid_request", "the offer's credential_issuer must be an http(s) URL")
    ids = document.get("credential_configuration_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise Oid4vciError("invalid_request", "credential_configuration_ids must be a non-empty list of strings")
    grants = document.get("grants")
    if not isinstance(grants, dict):
        raise Oid4vciError("invalid_request", "the offer has no grants")
    grant = grants.get(PRE_AUTHORIZED_GRANT)
    if not isinstance(grant, dict) or not isinstance(grant.get("pre-authorized_code"), str):
        raise Oid4vciError("invalid_request", "only the pre-authorized code flow is supported, and the offer has "
                                              "no pre-authorized code")
    tx = grant.get("tx_code")
    if tx is not None and not isinstance(tx, dict):
        raise Oid4vciError("invalid_request", "tx_code must be an object")
    return document
