"""The credential issuer's side of OpenID4VCI 1.0, framework-free (``http.py`` puts it on HTTP).

One :class:`Oid4vciIssuer` answers the four requests of the pre-authorized code flow:

* metadata: the Credential Issuer Metadata (§12.2) with one credential configuration per
  achievement offered and format, and the OAuth authorization-server metadata (RFC 8414) it
  points to (the issuer is its own authorization server);
* token (§6): a pre-authorized code (and its transaction code, when the offer has one) for a
  short-lived access token, once; a wrong transaction code counts, and the fifth kills the offer;
* nonce (§7): a fresh single-use ``c_nonce`` for the key proof;
* credential (§8): the access token, the configuration and a key proof
  (:mod:`skillcred.oid4vci.proof`) give the one credential of the offer, bound to the proof's
  key and issued through :meth:`skillcred.issuer.Issuer.issue` with the row key
  ``oid4vci:<offer id>``, so it is recorded (status indexes, idempotency) exactly like a
  credential issued from the command line, and ``revoke`` / ``status publish`` treat it alike.

Nothing here issues without a valid offer: the offer (made by the institute with
``skillcred offer``) is the authorization. Refusals raise :class:`~skillcred.errors.Oid4vciError`
with the protocol's error code and HTTP status.
"""

from __future__ import annotations

import collections
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from skillcred.errors import Oid4vciError, SkillcredError
from skillcred.models import OB_CONTEXT, VC_CONTEXT, AchievementDefinition
from skillcred.oid4vci.offers import FORMATS, PRE_AUTHORIZED_GRANT, code_hash, tx_code_hash
from skillcred.oid4vci.proof import PROOF_ALGS, check_key_proof
from skillcred.registry import IssuedRecord, RegistryBackend
from skillcred.sdjwt_vc import VCT_BY_KIND

if TYPE_CHECKING:  # pragma: no cover
    from skillcred.issuer import Issuer

__all__ = ["IssueFunction", "Oid4vciIssuer", "RateLimit", "issue_dc_sd_jwt", "issue_offered"]

#: (definition, subject DID, name, level, skillcred format, row key) -> the recorded credential
IssueFunction = Callable[[AchievementDefinition, str, str | None, str | None, str, str], IssuedRecord]

TOKEN_SECONDS = 300
NONCE_SECONDS = 300
MAX_OPEN_NONCES = 10_000
MAX_TX_ATTEMPTS = 5
MAX_FORM_VALUE = 512
CREDENTIAL_TYPES = ["VerifiableCredential", "OpenBadgeCredential"]


class RateLimit:
    """At most ``limit`` requests per ``window`` seconds per client (a sliding window kept in
    memory per process; the client table itself is bounded, oldest client forgotten first)."""

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 10_000) -> None:
        self.limit, self.window, self._clock, self._max = limit, window, clock, max_clients
        self._seen: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = self._clock()
        with self._lock:
            times = self._seen.pop(client, None) or collections.deque()
            while times and times[0] <= now - self.window:
                times.popleft()
            ok = len(times) < self.limit
            if ok:
                times.append(now)
            self._seen[client] = times
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)
            return ok


def issue_dc_sd_jwt(issuer: Issuer, definition: AchievementDefinition, subject: str, name: str | None,
                    level: str | None, row_key: str) -> IssuedRecord:
    """The ``dc+sd-jwt`` format: the IETF SD-JWT VC profile (``vct`` with type metadata, flat
    claims, a Token Status List entry beside the Bitstring ones), issued and recorded by
    :meth:`~skillcred.issuer.Issuer.issue` like any other credential. ``subject`` is the did:key
    of the key proof's key, so ``cnf`` is exactly the key the wallet proved it holds."""
    from skillcred.securing import holder_jwk_for

    jwk = holder_jwk_for(subject)
    if jwk is None:  # pragma: no cover - check_key_proof always gives a did:key holder
        raise Oid4vciError("invalid_proof", "the key proof names no key an SD-JWT VC can be bound to")
    return issuer.issue(definition, subject, name=name, level=level, fmt="dc+sd-jwt", row_key=row_key,
                        holder_jwk=jwk)[0]


def issue_offered(issuer: Issuer, definition: AchievementDefinition, subject: str, name: str | None,
                  level: str | None, fmt: str, row_key: str) -> IssuedRecord:
    """An :data:`IssueFunction` over an opened :class:`~skillcred.issuer.Issuer`."""
    if fmt == "dc+sd-jwt":
        return issue_dc_sd_jwt(issuer, definition, subject, name, level, row_key)
    return issuer.issue(definition, subject, name=name, level=level, fmt=fmt, row_key=row_key)[0]


def _single(form: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = form.get(name)
    if isinstance(value, list):
        if len(value) != 1:
            raise Oid4vciError("invalid_request", f"{name} must be given once")
        value = value[0]
    if value is None:
        if required:
            raise Oid4vciError("invalid_request", f"{name} is missing")
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_FORM_VALUE:
        raise Oid4vciError("invalid_request", f"{name} must be a non-empty string of at most "
                                              f"{MAX_FORM_VALUE} characters")
    return value


class Oid4vciIssuer:
    """The credential issuer for one issuer folder (see the module docstring).

    ``offers`` gives the registry holding offers and nonces (the issuer folder's SQLite file, a
    connection for the calling thread); ``issue`` issues and records one credential. ``clock``
    (seconds) is injectable for tests; the token endpoint allows ``token_rate`` = (requests,
    seconds) per client, the nonce endpoint ``nonce_rate``.
    """

    def __init__(
        self,
        *,
        credential_issuer: str,
        issuer_name: str,
        signing_alg: str,
        suite: str,
        offers: Callable[[], RegistryBackend],
        issue: IssueFunction,
        clock: Callable[[], float] = time.time,
        token_rate: tuple[int, float] = (30, 60.0),
        nonce_rate: tuple[int, float] = (60, 60.0),
    ) -> None:
        self.credential_issuer = credential_issuer.rstrip("/")
        self.issuer_name = issuer_name
        self.signing_alg = signing_alg
        self.suite = suite
        self._offers = offers
        self._issue = issue
        self._clock = clock
        self.token_limit = RateLimit(*token_rate, clock=clock)
        #: the nonce endpoint is open (the spec wants it so): one client cannot use up the nonce table
        self.nonce_limit = RateLimit(*nonce_rate, clock=clock)

    @classmethod
    def for_issuer(cls, issuer: Issuer, credential_issuer: str, **options: Any) -> Oid4vciIssuer:
        """For an opened issuer folder (one thread: the offers share the issuer's registry)."""
        return cls(
            credential_issuer=credential_issuer, issuer_name=issuer.profile.name,
            signing_alg=issuer.public_key.jws_algorithm, suite=issuer.profile.suite,
            offers=lambda: issuer.registry,
            issue=lambda d, s, n, lv, f, rk: issue_offered(issuer, d, s, n, lv, f, rk), **options,
        )

    def _now(self) -> int:
        return int(self._clock())

    # -- endpoints' URLs ---------------------------------------------------------------------

    @property
    def token_endpoint(self) -> str:
        return f"{self.credential_issuer}/oid4vci/token"

    @property
    def nonce_endpoint(self) -> str:
        return f"{self.credential_issuer}/oid4vci/nonce"

    @property
    def credential_endpoint(self) -> str:
        return f"{self.credential_issuer}/oid4vci/credential"

    # -- metadata ----------------------------------------------------------------------------

    def configuration(self, offer: Mapping[str, Any]) -> dict[str, Any]:
        """The credential configuration (OpenID4VCI 1.0 §12.2.4, Appendix A) of an offer's
        achievement and format."""
        fmt = offer["format"]
        ach = offer["achievement"]["achievement"]
        display = {"name": ach.get("name", ""), "locale": "en"}
        if isinstance(ach.get("description"), str):
            display["description"] = ach["description"][:500]
        config: dict[str, Any] = {
            "format": fmt,
            "cryptographic_binding_methods_supported": ["did:key", "jwk"],
            "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGS)}},
            "credential_metadata": {"display": [display]},
        }
        if fmt == "ldp_vc":
            config["credential_signing_alg_values_supported"] = [self.suite]
            config["credential_definition"] = {"@context": [VC_CONTEXT, OB_CONTEXT], "type": CREDENTIAL_TYPES}
        elif fmt == "jwt_vc_json":
            config["credential_signing_alg_values_supported"] = [self.signing_alg]
            config["credential_definition"] = {"type": CREDENTIAL_TYPES}
        else:
            config["credential_signing_alg_values_supported"] = [self.signing_alg]
            # the SD-JWT VC type of the achievement's kind; its type metadata is bundled with
            # skillcred and served at /.well-known/vct/... (sdjwt_vc.well_known_path)
            config["vct"] = VCT_BY_KIND.get(str(offer["achievement"].get("kind")), VCT_BY_KIND["skill"])
        return config

    def credential_issuer_metadata(self) -> dict[str, Any]:
        """``/.well-known/openid-credential-issuer``: the configurations of the offers a wallet
        can still take (open, or redeemed and mid-issuance). Not every configuration ever offered:
        an expired or used offer is not on offer, and listing it would tell anyone which
        achievements this institute once offered. (The institute has no fixed catalogue to list
        instead: an offer carries its achievement.)"""
        offers = self._offers().offered_configurations(open_at=self._now())
        configs = {cid: self.configuration(offer) for cid, offer in offers.items()}
        return {
            "credential_issuer": self.credential_issuer,
            "credential_endpoint": self.credential_endpoint,
            "nonce_endpoint": self.nonce_endpoint,
            "display": [{"name": self.issuer_name, "locale": "en"}],
            "credential_configurations_supported": configs,
        }

    def authorization_server_metadata(self) -> dict[str, Any]:
        """``/.well-known/oauth-authorization-server`` (RFC 8414): only the token endpoint and
        the pre-authorized code grant, open to anonymous wallets (the code is the authorization)."""
        return {
            "issuer": self.credential_issuer,
            "token_endpoint": self.token_endpoint,
            "grant_types_supported": [PRE_AUTHORIZED_GRANT],
            "pre-authorized_grant_anonymous_access_supported": True,
            "response_types_supported": [],
        }

    # -- token -------------------------------------------------------------------------------

    def token(self, form: Mapping[str, Any], *, client: str = "") -> dict[str, Any]:
        """The token endpoint (§6.1): ``grant_type``, ``pre-authorized_code``, ``tx_code``."""
        if not self.token_limit.allow(client):
            raise Oid4vciError("slow_down", "too many token requests from this client; wait a minute", status=429)
        grant_type = _single(form, "grant_type")
        if grant_type != PRE_AUTHORIZED_GRANT:
            raise Oid4vciError("unsupported_grant_type", f"only {PRE_AUTHORIZED_GRANT} is supported")
        code = _single(form, "pre-authorized_code")
        assert code is not None
        tx = _single(form, "tx_code", required=False)
        token = secrets.token_urlsafe(32)
        now = self._now()
        outcome, _offer = self._offers().exchange_offer_code(
            code_hash(code), tx_code_hash(code, tx) if tx is not None else None, code_hash(token),
            now=now, token_expires_at=now + TOKEN_SECONDS, max_tx_attempts=MAX_TX_ATTEMPTS)
        messages = {
            "unknown": ("invalid_grant", "unknown pre-authorized code"),
            "used": ("invalid_grant", "this offer has already been redeemed"),
            "expired": ("invalid_grant", "this offer has expired; ask the institute for a new one"),
            "tx_missing": ("invalid_request", "this offer needs its transaction code (tx_code)"),
            "tx_wrong": ("invalid_grant", "wrong transaction code"),
            "tx_locked": ("invalid_grant", "too many wrong transaction codes: this offer is void"),
        }
        if outcome != "ok":
            error, message = messages[outcome]
            raise Oid4vciError(error, message)
        return {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS}

    # -- nonce -------------------------------------------------------------------------------

    def nonce(self, *, client: str = "") -> dict[str, Any]:
        """The nonce endpoint (§7): a fresh ``c_nonce`` for one key proof."""
        if not self.nonce_limit.allow(client):
            raise Oid4vciError("slow_down", "too many nonce requests from this client; wait a minute", status=429)
        value = secrets.token_urlsafe(24)
        now = self._now()
        if not self._offers().add_nonce(code_hash(value), expires_at=now + NONCE_SECONDS, now=now,
                                        max_open=MAX_OPEN_NONCES):
            raise Oid4vciError("slow_down", "too many unused nonces; try again in a few minutes", status=503)
        return {"c_nonce": value}

    # -- credential --------------------------------------------------------------------------

    def credential(self, authorization: str | None, body: Any) -> dict[str, Any]:
        """The credential endpoint (§8): one credential for the access token's offer."""
        if not isinstance(authorization, str) or not authorization.startswith(("Bearer ", "bearer ")):
            raise Oid4vciError("invalid_token", "a Bearer access token is required", status=401)
        token = authorization.split(" ", 1)[1].strip()
        if not token or len(token) > MAX_FORM_VALUE:
            raise Oid4vciError("invalid_token", "a Bearer access token is required", status=401)
        if not isinstance(body, dict):
            raise Oid4vciError("invalid_credential_request", "the credential request must be a JSON object")
        proof_jwt = self._proof_of(body)
        registry = self._offers()
        now = self._now()
        outcome, offer = registry.claim_offer_token(code_hash(token), now=now)
        if outcome != "ok" or offer is None:
            message = {"used": "this access token has already been used",
                       "expired": "the access token has expired"}.get(outcome, "unknown access token")
            raise Oid4vciError("invalid_token", message, status=401)
        try:
            if "credential_identifier" in body:
                raise Oid4vciError("invalid_credential_request", "this issuer names credentials by "
                                   "credential_configuration_id (the token gives no credential_identifiers)")
            wanted = body.get("credential_configuration_id")
            if not isinstance(wanted, str):
                raise Oid4vciError("invalid_credential_request", "credential_configuration_id is missing")
            if wanted != offer.configuration_id:
                raise Oid4vciError("unsupported_credential_configuration",
                                   f"{wanted!r} is not the credential this offer is for")
            if proof_jwt is None:
                raise Oid4vciError("invalid_proof", "a key proof (proofs.jwt) is required: the credential is "
                                                    "bound to the wallet's key")
            proof = check_key_proof(proof_jwt, audience=self.credential_issuer, now=now)
            if proof.nonce is None or not registry.take_nonce(code_hash(proof.nonce), now=now):
                raise Oid4vciError("invalid_nonce", "the key proof's nonce is missing, unknown, used or expired: "
                                                    "get a fresh one from the nonce endpoint")
            stored = offer.offer
            try:
                definition = AchievementDefinition.model_validate(stored["achievement"])
                record = self._issue(definition, proof.holder, stored.get("name"), stored.get("level"),
                                     FORMATS[stored["format"]], f"oid4vci:{offer.id}")
            except SkillcredError as exc:
                raise Oid4vciError("invalid_credential_request",
                                   f"cannot issue this credential: {exc.message}") from exc
        except BaseException:
            registry.finish_offer(offer.id, None)
            raise
        registry.finish_offer(offer.id, record.id)
        document = record.document
        credential: Any = document["token"] if stored["format"] != "ldp_vc" else document
        return {"credentials": [{"credential": credential}]}

    @staticmethod
    def _proof_of(body: Mapping[str, Any]) -> str | None:
        """The one JWT key proof of a request (``proofs.jwt``; the older ``proof`` too)."""
        if "proof" in body and "proofs" in body:
            raise Oid4vciError("invalid_credential_request", "give proofs or proof, not both")
        if "proofs" in body:
            proofs = body["proofs"]
            if not isinstance(proofs, dict) or set(proofs) != {"jwt"}:
                raise Oid4vciError("invalid_proof", "proofs must hold only jwt key proofs")
            jwts = proofs["jwt"]
            if not isinstance(jwts, list) or len(jwts) != 1:
                raise Oid4vciError("invalid_credential_request", "exactly one key proof: this issuer issues one "
                                                                 "credential per offer (no batch issuance)")
            return jwts[0] if isinstance(jwts[0], str) else ""
        if "proof" in body:
            proof = body["proof"]
            if not isinstance(proof, dict) or proof.get("proof_type") != "jwt":
                raise Oid4vciError("invalid_proof", "proof must be a jwt key proof")
            jwt = proof.get("jwt")
            return jwt if isinstance(jwt, str) else ""
        return None
