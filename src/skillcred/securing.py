"""One credential, three ways to secure it: Data Integrity, VC-JOSE (``vc+jwt``) and SD-JWT.

This module is the glue that lets issuing, the wallet, presentations and the verifier treat
the three alike:

* the issuer secures a credential as ``di`` (an embedded proof), ``jwt`` or ``sd-jwt``
  (with the personal details — name, results, assessor, evidence, period — disclosable and the
  achievement always visible);
* the wallet keeps a JWT / SD-JWT as a small JSON record holding the token and, for display,
  the claims it carries (for an SD-JWT the holder has every disclosure, so all of them);
* a presentation carries JOSE-secured credentials as ``EnvelopedVerifiableCredential``
  (``data:application/vc+jwt,...`` / ``data:application/vc+sd-jwt,...``); for an SD-JWT only
  the chosen disclosures travel, with a Key Binding JWT whose ``nonce``/``aud`` are the
  employer's challenge and domain;
* the verifier opens an envelope and continues with the disclosed claims as the credential.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from skillcred.did import DidResolver
from skillcred.errors import InvalidArgument, SkillcredError, WalletError
from skillcred.keys import KeyPair, PublicKey
from skillcred.secured import SecuredCredential

__all__ = [
    "FORMATS",
    "Format",
    "OpenedCredential",
    "envelope_for_presentation",
    "is_envelope",
    "open_envelope",
    "secure_token",
    "wallet_record_from_token",
]

Format = Literal["di", "jwt", "sd-jwt"]  # what the issuer secures with
FORMATS: tuple[str, ...] = ("di", "jwt", "sd-jwt")
MEDIA_TYPES = {"jwt": "application/vc+jwt", "sd-jwt": "application/vc+sd-jwt", "cose": "application/vc+cose"}
VC_V2 = "https://www.w3.org/ns/credentials/v2"

#: Claims made selectively disclosable when they are present (JSON pointers).
DISCLOSABLE_CANDIDATES = (
    "/credentialSubject/identifier",
    "/credentialSubject/result",
    "/credentialSubject/source",
    "/credentialSubject/activityStartDate",
    "/credentialSubject/activityEndDate",
    "/evidence",
)


def holder_jwk_for(subject: str) -> dict[str, str] | None:
    """The public JWK of a did:key subject (SD-JWT ``cnf``), or None for other DIDs."""
    if subject.startswith("did:key:"):
        try:
            return PublicKey.from_multikey(subject.split(":", 2)[2].split("#", 1)[0]).jwk()
        except SkillcredError:
            return None
    return None


def disclosable_pointers(document: Mapping[str, Any]) -> list[str]:
    """The candidate pointers present in ``document``; array members one by one."""
    out: list[str] = []
    for pointer in DISCLOSABLE_CANDIDATES:
        node: Any = document
        for part in pointer.strip("/").split("/"):
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, list):
            out.extend(f"{pointer}/{i}" for i in range(len(node)))
        elif node is not None and pointer.count("/") > 1:  # a top-level member stays visible
            out.append(pointer)
    return out


def secure_token(document: Mapping[str, Any], key: KeyPair, *, kid: str, fmt: Format) -> str:
    """Secure an (unsigned) credential as a ``vc+jwt`` or ``vc+sd-jwt`` token."""
    doc = {k: copy.deepcopy(v) for k, v in document.items() if k != "proof"}
    if fmt == "jwt":
        from skillcred.jose import secure_credential_jwt

        return secure_credential_jwt(doc, key, kid=kid)
    if fmt == "sd-jwt":
        from skillcred.sdjwt import issue_sd_jwt

        subjects = doc.get("credentialSubject")
        subject = subjects.get("id") if isinstance(subjects, Mapping) else None
        jwk = holder_jwk_for(str(subject or ""))
        if jwk is None:
            raise InvalidArgument("an SD-JWT credential needs a did:key subject (its key binds presentations)")
        return issue_sd_jwt(doc, key, kid=kid, disclosable=disclosable_pointers(doc), holder_jwk=jwk,
                            typ="vc+sd-jwt")
    raise InvalidArgument(f"format must be one of {', '.join(FORMATS)}")


SD_SUITE = "ecdsa-sd-2023"


def is_sd_base(doc: Mapping[str, Any]) -> bool:
    """Does ``doc`` carry an ecdsa-sd-2023 base proof (which only its holder may use)?"""
    proof = doc.get("proof")
    return isinstance(proof, Mapping) and proof.get("cryptosuite") == SD_SUITE


def mandatory_pointers(document: Mapping[str, Any]) -> list[str]:
    """What an ecdsa-sd-2023 skill credential always reveals: everything except the claims
    :func:`disclosable_pointers` lists (name, results, assessor, period, evidence)."""
    hidden = {p.rsplit("/", 1)[0] if p.rsplit("/", 1)[-1].isdigit() else p for p in disclosable_pointers(document)}
    out = [f"/{k}" for k in document if k not in ("@context", "proof", "credentialSubject", "evidence")]
    subject = document.get("credentialSubject")
    if isinstance(subject, Mapping):
        out += [f"/credentialSubject/{k}" for k in subject if f"/credentialSubject/{k}" not in hidden]
    return out


def check_sd_base(doc: Mapping[str, Any], *, resolver: DidResolver) -> str | None:
    """Verify a base proof the way its holder can: derive a proof revealing everything and
    verify that (every statement signature, the base signature, the issuer's key). Returns
    the signer's controller, or raises :class:`WalletError`."""
    from skillcred.proofs import check_proofs
    from skillcred.proofs.selective import derive_proof

    try:
        full = derive_proof(doc, selective_pointers=[f"/{k}" for k in doc if k not in ("@context", "proof")])
    except SkillcredError as exc:
        raise WalletError(f"ecdsa-sd-2023 base proof unusable: {exc.message}") from exc
    report = check_proofs(full, resolver=resolver, expected_purpose="assertionMethod")
    if not report.verified:
        bad = next(c for c in report.checks if c.status != "passed")
        raise WalletError(f"credential proof does not verify: {bad.reason}")
    return report.controllers[0] if report.controllers else None


def wallet_record_from_token(token: str, *, resolver: DidResolver, at: datetime | None = None) -> dict[str, Any]:
    """Verify a JWT / SD-JWT / COSE credential and return the record the wallet stores for it.

    The record is the credential's claims (all of them: the holder has every disclosure) plus
    ``securedAs`` and ``token`` (:meth:`SecuredCredential.to_record`); the token, not the
    claims, is what gets presented.
    """
    secured = SecuredCredential.from_file_bytes(token.strip().encode("utf-8", "replace"))
    if secured.format == "di" or secured.presentation:
        raise WalletError("not a JOSE / COSE-secured credential")
    return secured.open(resolver=resolver, at=at).to_record()


def envelope_for_presentation(
    record: SecuredCredential | Mapping[str, Any],
    *,
    disclose: Sequence[str] = (),
    holder_key: KeyPair,
    challenge: str,
    domain: str,
) -> dict[str, Any]:
    """What goes into a presentation for a wallet credential: the credential itself (Data
    Integrity; an ecdsa-sd-2023 base proof derived to reveal only ``disclose``), or an
    ``EnvelopedVerifiableCredential`` (JWT, COSE; SD-JWT with only ``disclose`` released and a
    Key Binding JWT for this employer). A stored record (marker dict) is read at this boundary."""
    secured = record if isinstance(record, SecuredCredential) else SecuredCredential.from_record(record)
    if secured.format == "di" and is_sd_base(secured.document):
        from skillcred.proofs.selective import derive_proof

        return derive_proof(dict(secured.document), selective_pointers=list(disclose))
    if secured.format == "di":
        if disclose:
            raise WalletError("disclose applies to SD-JWT credentials; this one is Data Integrity "
                              "(present it whole, or ask the issuer for an SD-JWT)", field="disclose")
        return secured.envelope()
    if secured.format == "sd-jwt":
        from skillcred.sdjwt import present_sd_jwt

        assert secured.token is not None
        secured = replace(secured, token=present_sd_jwt(secured.token, disclose=list(disclose),
                                                        holder_key=holder_key, nonce=challenge, aud=domain))
    elif disclose:
        raise WalletError(f"disclose applies to SD-JWT credentials; a {secured.label} is presented whole",
                          field="disclose")
    return secured.envelope()


def is_envelope(obj: Any) -> bool:
    return isinstance(obj, Mapping) and obj.get("type") in ("EnvelopedVerifiableCredential",
                                                             ["EnvelopedVerifiableCredential"])


@dataclass(frozen=True)
class OpenedCredential:
    """A verified enveloped credential: its (disclosed) claims and how it was secured."""

    claims: dict[str, Any]
    fmt: Literal["jwt", "sd-jwt", "cose"]
    signer: str
    disclosed: tuple[str, ...]
    key_bound: bool
    holder_jwk: dict[str, Any] | None

    @property
    def label(self) -> str:
        """The format as reports name it (``vc+jwt``, ``vc+sd-jwt``, ``vc+cose``)."""
        return MEDIA_TYPES[self.fmt].removeprefix("application/")


def open_envelope(
    obj: Mapping[str, Any], *, resolver: DidResolver, challenge: str | None, domain: str | None,
    at: datetime | None = None, require_key_binding: bool = True,
) -> OpenedCredential:
    """Verify an enveloped credential (every media type the token API verifies: vc+jwt,
    vc+sd-jwt / dc+sd-jwt, vc+cose); raises a skillcred error naming the reason.

    ``require_key_binding=False`` is for a credential checked on its own (not presented: there
    is no presenter to bind); a Key Binding JWT that is there is still checked."""
    from skillcred.jose import unwrap_enveloped_credential

    media_type, token = unwrap_enveloped_credential(obj)
    if media_type == MEDIA_TYPES["jwt"]:
        from skillcred.jose import verify_jwt

        res = verify_jwt(token, resolver=resolver, expected_typ="vc+jwt", at=at)
        return OpenedCredential(res.payload, "jwt", res.controller, (), False, None)
    if media_type == MEDIA_TYPES["cose"]:
        from skillcred.jose import verify_cose

        res = verify_cose(token, resolver=resolver, expected_typ="vc+cose", at=at)
        return OpenedCredential(res.payload, "cose", res.controller, (), False, None)
    if media_type in (MEDIA_TYPES["sd-jwt"], "application/dc+sd-jwt"):
        from skillcred.sdjwt import verify_sd_jwt

        bind = require_key_binding or (challenge is not None and domain is not None)
        sd = verify_sd_jwt(token, resolver=resolver, expected_nonce=challenge, expected_aud=domain,
                           require_key_binding=bind, at=at,
                           expected_typ=media_type.removeprefix("application/"))
        return OpenedCredential(sd.claims, "sd-jwt", sd.issuer, sd.disclosed_pointers, sd.key_bound,
                                sd.holder_jwk)
    raise InvalidArgument(f"enveloped credentials of type {media_type} are not supported here")
