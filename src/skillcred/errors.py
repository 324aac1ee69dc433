"""The one exception tree of skillcred.

Every public exception derives from :class:`SkillcredError` and carries a stable snake_case
``code`` (machine-readable, listed in ``docs/errors.md``) next to a one-line, human message.
Messages never contain key material or passphrases.

Errors that signal misuse of the API also derive from the matching builtin (``ValueError``),
so ``except ValueError`` keeps working for callers who do not know our tree (pynacl does this).

Verification *outcomes* are not errors: ``check_*`` functions return reports. Only the
``verify_*`` convenience functions raise :class:`VerificationFailed`, carrying the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

__all__ = [
    "CRYPTOGRAPHIC_SECURITY_ERROR",
    "MALFORMED_VALUE_ERROR",
    "PARSING_ERROR",
    "RANGE_ERROR",
    "BadgeInvalid",
    "CanonicalizationError",
    "ContextError",
    "DidDocumentConflict",
    "EscoAmbiguous",
    "EscoDownloadUnrecognised",
    "EscoUnknownConcept",
    "InvalidArgument",
    "KeyFileError",
    "KeyPermissionError",
    "MalformedDocument",
    "Oid4vciError",
    "Oid4vpRefused",
    "Oid4vpRequestInvalid",
    "PdfRenderError",
    "PoolError",
    "ProofError",
    "QrCodeInvalid",
    "ResolutionError",
    "SchemaViolation",
    "SkillcredError",
    "SkillcredSecurityWarning",
    "StoreError",
    "TokenInvalid",
    "UnknownContext",
    "UnsafeDocument",
    "UnsupportedFeature",
    "VerificationFailed",
    "WalletError",
    "WrongPassphrase",
]

# VC Data Model 2.0 §7.1 (Verification) problem-detail types.
PARSING_ERROR = "https://www.w3.org/TR/vc-data-model#PARSING_ERROR"
CRYPTOGRAPHIC_SECURITY_ERROR = "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR"
MALFORMED_VALUE_ERROR = "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"
RANGE_ERROR = "https://www.w3.org/TR/vc-data-model#RANGE_ERROR"


class SkillcredError(Exception):
    """Root of every exception skillcred raises on purpose."""

    code: ClassVar[str] = "skillcred_error"
    problem_type: ClassVar[str] = MALFORMED_VALUE_ERROR

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: the file (or JSON path) the problem is about, when there is one
        self.path = path
        #: the parameter (or configuration field) the problem is about, when there is one, as the
        #: library spells it (``"name"``, ``"may_attest"``): a front end names it its own way
        #: (the command line shows its option, e.g. ``--may-attest``) without parsing the message
        self.field = field

    def __str__(self) -> str:
        if self.path:
            return f"{self.path}: {self.message}"
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """Problem-details shaped summary (RFC 9457 names, VC DM 2.0 types)."""
        out: dict[str, Any] = {"code": self.code, "type": self.problem_type, "title": self.message}
        if self.path:
            out["path"] = self.path
        return out


class InvalidArgument(SkillcredError, ValueError):
    """The caller passed something the API does not accept (misuse, not bad data)."""

    code = "invalid_argument"


class MalformedDocument(SkillcredError, ValueError):
    """An input document is not JSON, not a JSON object, or not shaped as required."""

    code = "malformed_document"
    problem_type = PARSING_ERROR


class _Reasoned:
    """The part of an error whose ``reason`` names the failed check (a stable snake_case name,
    listed in docs/errors.md): kept on the exception, in ``to_dict``, and in the message
    (``reason: message``, or ``message (reason)`` where the message reads better first)."""

    reason: str
    reason_last = False

    def __init__(self, reason: str, message: str, *, path: str | None = None, field: str | None = None) -> None:
        text = f"{message} ({reason})" if self.reason_last else f"{reason}: {message}"
        if field is None:  # not every base takes a field (VerificationFailed does not)
            super().__init__(text, path=path)  # type: ignore[call-arg]
        else:
            super().__init__(text, path=path, field=field)  # type: ignore[call-arg]
        self.reason = reason

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = super().to_dict()  # type: ignore[misc]
        out["reason"] = self.reason
        return out


class BadgeInvalid(_Reasoned, MalformedDocument):
    """A baked badge image (Open Badges 3.0 §5.3: a PNG or an SVG carrying a credential) was
    refused, or an image could not be baked.

    ``reason`` is a stable snake_case name of what is wrong (``several_credentials``,
    ``png_crc_mismatch``, ``svg_dtd_forbidden``, ... listed in ``docs/errors.md``), so a caller
    can tell a hostile SVG from a photo that simply carries no badge.
    """

    code = "badge_invalid"
    reason_last = True  # "the image holds two credentials (several_credentials)"


class SchemaViolation(MalformedDocument):
    """A document does not validate against its JSON Schema."""

    code = "schema_violation"
    problem_type = MALFORMED_VALUE_ERROR

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        json_path: str = "$",
        schema_id: str | None = None,
    ) -> None:
        super().__init__(message, path=path)
        self.json_path = json_path
        self.schema_id = schema_id


class ContextError(MalformedDocument):
    """JSON-LD processing of a document failed (bad or conflicting contexts)."""

    code = "jsonld_error"


class UnknownContext(ContextError):
    """A context URL is not in the bundled, hash-pinned set; it is never fetched."""

    code = "unknown_context"

    def __init__(self, url: str) -> None:
        super().__init__(
            f"JSON-LD context {url!r} is not bundled with skillcred "
            "(contexts are never fetched from the network)"
        )
        self.url = url


class UnsafeDocument(ContextError):
    """JSON-LD safe mode: a term or value would be silently dropped or is undefined.

    Data that the contexts do not define is not covered by the signature's meaning (it falls
    out of the canonical form, or lands in the issuer-dependent vocabulary), so it is refused.
    """

    code = "undefined_term"


class EscoDownloadUnrecognised(MalformedDocument):
    """The files given to ``skillcred.esco.import_download`` are not a usable ESCO CSV download
    (no occupations, skills, relations or skill hierarchy file; a header that is not ESCO's;
    files of different ESCO versions)."""

    code = "esco_download_unrecognised"


class EscoUnknownConcept(InvalidArgument):
    """An ESCO URI (or label) that the ESCO taxonomy in use does not have."""

    code = "esco_unknown_concept"


class EscoAmbiguous(InvalidArgument):
    """A label names more than one ESCO concept (or none exactly): ``candidates`` holds the best
    matches (``skillcred.esco.SearchHit``) so a person can pick one by URI; never a silent guess."""

    code = "esco_ambiguous"

    def __init__(self, message: str, candidates: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.candidates = tuple(candidates)


class CanonicalizationError(SkillcredError):
    """RDF canonicalization could not complete (e.g. a graph built to exhaust it)."""

    code = "canonicalization_failed"
    problem_type = MALFORMED_VALUE_ERROR


class UnsupportedFeature(SkillcredError):
    """A cryptosuite, key type, DID method or status purpose skillcred does not support."""

    code = "unsupported"


class ResolutionError(SkillcredError):
    """A DID or verification method cannot be resolved offline."""

    code = "resolution_failed"


class DidDocumentConflict(ResolutionError):
    """Two different documents claim the same DID, and one of them is authoritative (a trust-list
    entry's). The other one is never used -- not even to *add* keys -- and the DID does not
    resolve at all, so a verification that needs it fails with this named reason."""

    code = "did_document_conflict"


class ProofError(SkillcredError):
    """A proof cannot be created (bad options, key does not match the suite, ...)."""

    code = "proof_error"
    problem_type = CRYPTOGRAPHIC_SECURITY_ERROR


class KeyFileError(SkillcredError):
    """A key file is missing, truncated, of a foreign format or unsupported type."""

    code = "key_file_invalid"


class KeyPermissionError(KeyFileError):
    """A signing key file is readable by group or others (``mode & 0o077``), so it is refused.

    Like ssh, skillcred will not sign with a private key that other accounts may have copied:
    whoever read it can issue credentials in the institute's name. ``chmod 600`` fixes it.
    """

    code = "key_permissions"


class WrongPassphrase(KeyFileError):
    """The passphrase does not decrypt the key file (or one was needed and not given)."""

    code = "wrong_passphrase"


class StoreError(SkillcredError):
    """A registry or other local store is missing, corrupt or could not be written."""

    code = "store_error"


class PoolError(StoreError):
    """The talent pool's database is missing, unreachable or refused an operation."""

    code = "pool_error"


class WalletError(StoreError):
    """The wallet folder is missing, locked, or an operation on it was refused."""

    code = "wallet_error"


class QrCodeInvalid(MalformedDocument):
    """A scanned passport QR code (or its image) is not a readable skillcred v1 payload: no QR
    code in the image, another prefix or version, a bad digest, a damaged embedded credential."""

    code = "qr_invalid"


class PdfRenderError(SkillcredError):
    """``passport --pdf`` could not print the page: no headless Chromium found, or it failed or
    produced no PDF (nothing is written then)."""

    code = "pdf_render_failed"


class VerificationFailed(SkillcredError):
    """A verification ran and did not pass. ``report`` holds every check and its reason."""

    code = "verification_failed"
    problem_type = CRYPTOGRAPHIC_SECURITY_ERROR

    def __init__(self, message: str, *, report: Any = None, path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.report = report


class TokenInvalid(_Reasoned, VerificationFailed):
    """A JOSE-secured credential/presentation (``vc+jwt``, ``vp+jwt``) or an SD-JWT was rejected.

    ``reason`` is a stable snake_case name of the failed check (``alg_not_allowed``,
    ``media_type_invalid``, ``signature_invalid``, ... listed in ``docs/errors.md``).
    """

    code = "token_invalid"



class Oid4vpRequestInvalid(_Reasoned, SkillcredError):
    """An OpenID4VP authorization request the wallet must not answer: its signature, client id,
    response mode or DCQL query is wrong, or it expired. ``reason`` names the check
    (``request_signature_invalid``, ``client_id_mismatch``, ...; see docs/wallet.md)."""

    code = "oid4vp_request_invalid"
    problem_type = CRYPTOGRAPHIC_SECURITY_ERROR



class Oid4vpRefused(_Reasoned, SkillcredError):
    """An OpenID4VP response the verifier refused (unknown or used ``state``, wrong nonce or
    audience, a required credential missing, ...). ``reason`` is the stable name of the check
    (docs/verifying.md), sent back to the wallet as the ``error_description`` prefix."""

    code = "oid4vp_refused"


class Oid4vciError(SkillcredError):
    """An OpenID4VCI exchange was refused. ``error`` is the protocol's own error code
    (``invalid_grant``, ``invalid_proof``, ``invalid_nonce``, ``invalid_credential_request``,
    ``unsupported_credential_configuration``, ...: OpenID4VCI 1.0 §6.3 and §8.3.1, RFC 6749
    §5.2) and ``status`` the HTTP status an endpoint answers with; on the wallet side it is
    what the issuer answered."""

    code = "oid4vci_error"

    def __init__(self, error: str, message: str, *, status: int = 400, path: str | None = None,
                 field: str | None = None) -> None:
        super().__init__(f"{error}: {message}", path=path, field=field)
        self.error = error
        self.description = message
        self.status = status

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["error"] = self.error
        return out

    def to_oauth(self) -> dict[str, str]:
        """The error body an OAuth / OpenID4VCI endpoint answers with."""
        return {"error": self.error, "error_description": self.description}


class SkillcredSecurityWarning(UserWarning):
    """Emitted when a caller chooses something insecure but allowed (an ``unsafe_*`` switch)."""
