"""OpenID for Verifiable Credential Issuance 1.0: offers, the issuer's endpoints, the wallet side.

* :mod:`skillcred.oid4vci.offers`: the institute makes offers offline (``skillcred offer``),
  recorded in its registry: single-use, expiring, with an optional transaction code;
* :mod:`skillcred.oid4vci.issuer`: the framework-free credential issuer (metadata, token,
  nonce, credential) that ``skillcred serve`` puts on HTTP (:mod:`skillcred.oid4vci.http`);
* :mod:`skillcred.oid4vci.proof`: ``openid4vci-proof+jwt`` key proofs (ES256, EdDSA);
* :mod:`skillcred.oid4vci.wallet`: the worker's wallet receives an offer
  (``skillcred wallet receive``).

Only the pre-authorized code flow is implemented (the institute has already decided who gets
what; there is no login at the institute to run an authorization code flow against).
"""

from __future__ import annotations

from skillcred.oid4vci.issuer import Oid4vciIssuer
from skillcred.oid4vci.offers import CreatedOffer, OfferInput, create_offers, parse_offer_uri
from skillcred.oid4vci.proof import check_key_proof, make_key_proof
from skillcred.oid4vci.wallet import OfferSummary, ReceiveResult, receive

__all__ = [
    "CreatedOffer",
    "OfferInput",
    "OfferSummary",
    "Oid4vciIssuer",
    "ReceiveResult",
    "check_key_proof",
    "create_offers",
    "make_key_proof",
    "parse_offer_uri",
    "receive",
]
