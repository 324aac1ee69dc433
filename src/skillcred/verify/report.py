"""Verification results as data: named checks, each passed / failed / not applicable /
indeterminate with a reason; the report is frozen and cannot be mistaken for a boolean."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Literal

from skillcred.claims import Claim
from skillcred.errors import (
    CRYPTOGRAPHIC_SECURITY_ERROR,
    MALFORMED_VALUE_ERROR,
    PARSING_ERROR,
    RANGE_ERROR,
    InvalidArgument,
)

__all__ = ["Check", "CheckStatus", "VerificationReport", "VerifiedCredential", "VerifiedPresentation"]

CheckStatus = Literal["passed", "failed", "not_applicable", "indeterminate"]

#: VC DM 2.0 §7.1 problem types per check family
_PROBLEM_TYPES = {
    "shape": PARSING_ERROR,
    "contexts": PARSING_ERROR,
    "terms": MALFORMED_VALUE_ERROR,
    "proof": CRYPTOGRAPHIC_SECURITY_ERROR,
    "issuer": CRYPTOGRAPHIC_SECURITY_ERROR,
    "challenge": CRYPTOGRAPHIC_SECURITY_ERROR,
    "validity": RANGE_ERROR,
    "status": "https://www.w3.org/TR/vc-bitstring-status-list/#STATUS_VERIFICATION_ERROR",
    "trust": CRYPTOGRAPHIC_SECURITY_ERROR,
    "schema": MALFORMED_VALUE_ERROR,
    "holder_binding": CRYPTOGRAPHIC_SECURITY_ERROR,
    "related_resource": MALFORMED_VALUE_ERROR,
}


@dataclass(frozen=True, init=False)
class Check:
    """One named check. ``id`` is stable and dotted: ``presentation.proof``,
    ``credential[0].status``. ``step`` is its number in the pipeline (docs/verifying.md)."""

    id: str
    step: int
    status: CheckStatus
    reason: str
    code: str = "ok"
    #: the library parameter whose value would settle this check, when its reason advises one
    #: (``"status_lists"``, ``"challenge"``, ``"max_credentials"``): the reason names it in the
    #: library's words, and a front end words it its own way (the command line shows its option,
    #: ``--status-list``) without parsing the reason. Not part of :meth:`to_dict`.
    hint: str | None = None

    def __init__(self, id: str, step: int, status: CheckStatus, reason: str, code: str = "ok",
                 hint: str | None = None) -> None:
        # A verification makes about ten checks per credential; the frozen dataclass's own
        # ``__init__`` (one ``object.__setattr__`` per field) cost twice this. The same fields
        # in the instance dict, still frozen (tests/test_verify_once.py checks the signature).
        d = self.__dict__
        d["id"] = id
        d["step"] = step
        d["status"] = status
        d["reason"] = reason
        d["code"] = code
        d["hint"] = hint

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "not_applicable")

    @property
    def family(self) -> str:
        return self.id.rsplit(".", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "step": self.step, "status": self.status,
                               "code": self.code, "reason": self.reason}
        if self.status in ("failed", "indeterminate"):
            out["problem_type"] = _PROBLEM_TYPES.get(self.family, MALFORMED_VALUE_ERROR)
        return out


_OK_STATUSES = frozenset({"passed", "not_applicable"})  # what Check.ok accepts
_status_of = attrgetter("status")


@dataclass(frozen=True, init=False)
class VerificationReport:
    """Every check that ran. ``verified`` is True only when each check passed or did not apply."""

    kind: Literal["presentation", "credential"]
    checked_at: str
    checks: tuple[Check, ...]
    source: str | None = None
    presentation_id: str | None = None
    credential_ids: tuple[str | None, ...] = ()
    warnings: tuple[str, ...] = ()

    def __init__(self, kind: Literal["presentation", "credential"], checked_at: str, checks: tuple[Check, ...],
                 source: str | None = None, presentation_id: str | None = None,
                 credential_ids: tuple[str | None, ...] = (), warnings: tuple[str, ...] = ()) -> None:
        # one per verification, like Check: the fields in the instance dict without the frozen
        # dataclass's ``object.__setattr__`` per field (tests/test_verify_once.py checks the signature)
        d = self.__dict__
        d["kind"] = kind
        d["checked_at"] = checked_at
        d["checks"] = checks
        d["source"] = source
        d["presentation_id"] = presentation_id
        d["credential_ids"] = credential_ids
        d["warnings"] = warnings

    @property
    def verified(self) -> bool:
        # ``all(c.ok for c in self.checks)``, the statuses read in C
        return bool(self.checks) and _OK_STATUSES.issuperset(map(_status_of, self.checks))

    def __bool__(self) -> bool:
        raise TypeError("a VerificationReport is not a boolean: use report.verified")

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def for_credential(self, index: int) -> list[Check]:
        prefix = f"credential[{index}]."
        return [c for c in self.checks if c.id.startswith(prefix)]

    def raise_for_failure(self) -> None:
        if not self.verified:
            from skillcred.errors import VerificationFailed

            first = self.failures()[0]
            raise VerificationFailed(f"{first.id}: {first.reason}", report=self, path=self.source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "kind": self.kind,
            "checked_at": self.checked_at,
            "source": self.source,
            "presentation": self.presentation_id,
            "credentials": list(self.credential_ids),
            "checks": [c.to_dict() for c in self.checks],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class VerifiedCredential:
    """A credential every check of which passed. Only the verifier makes these; gap analysis
    accepts nothing else."""

    index: int
    id: str | None
    issuer: str
    issuer_name: str
    subject: str | None
    document: Mapping[str, Any] = field(repr=False)
    #: what may be counted: every claim within the issuer's trust scope and about the presenter
    claims: tuple[Claim, ...] = ()
    #: the claims that may not, each with why ("outside the trust scope", "about someone else")
    not_counted: tuple[tuple[str, str], ...] = ()
    #: the construction token, which only :func:`credential_maker`'s maker passes: a hand-made
    #: ``VerifiedCredential(...)`` is refused, so matching only ever counts what the verifier
    #: accepted. It is a field (not an init-only value) so that ``dataclasses.replace`` of a
    #: verified one -- renumbering it, as an OpenID4VP response does -- carries it over.
    _made_by: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._made_by is not _MAKER_TOKEN:
            raise InvalidArgument(
                "a VerifiedCredential is made only by the verifier (skillcred.verify.Verifier): "
                "verify the credential or presentation instead of building one")


class _Token:
    """The one construction token: the same object after copy, deepcopy and pickling, so a
    copied VerifiedCredential stays one the verifier made."""

    __slots__ = ()

    def __copy__(self) -> _Token:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Token:
        return self

    def __reduce__(self) -> str:
        return "_MAKER_TOKEN"  # pickled by reference to this module's global


#: held by this module alone; see :func:`credential_maker`
_MAKER_TOKEN = _Token()
_maker_handed_out = False


def _make_verified_credential(**fields: Any) -> VerifiedCredential:
    return VerifiedCredential(**fields, _made_by=_MAKER_TOKEN)


def credential_maker() -> Callable[..., VerifiedCredential]:
    """The one function that makes :class:`VerifiedCredential`, handed out exactly once.

    :mod:`skillcred.verify.verifier` takes it when it is imported -- which the package
    ``skillcred.verify`` does before anyone can reach this module -- so every later call,
    whoever makes it, is refused: no code outside the verifier gets a way to mint a
    "verified" credential. (Not promised API; the verifier is its only caller.)
    """
    global _maker_handed_out
    if _maker_handed_out:
        raise InvalidArgument("the VerifiedCredential maker belongs to the verifier and was already taken")
    _maker_handed_out = True
    return _make_verified_credential


@dataclass(frozen=True)
class VerifiedPresentation:
    """The outcome for a presentation: the credentials that may be relied on, and the ones that
    may not (with why). ``holder`` is the signer of a presentation whose own checks passed."""

    report: VerificationReport
    holder: str | None
    accepted: tuple[VerifiedCredential, ...]
    rejected: tuple[tuple[int, str | None, str], ...]
