"""Verification for the employer: :class:`Verifier` with a :class:`VerificationPolicy`.

* ``Verifier.check(...)`` returns a :class:`VerificationReport` and never raises for an outcome;
* ``Verifier.assess(...)`` also says which credentials may be relied on
  (:class:`VerifiedCredential`, the only input gap analysis accepts);
* ``Verifier.verify(...)`` raises :class:`~skillcred.errors.VerificationFailed` unless
  everything passed.

The numbered steps are in :mod:`skillcred.verify.verifier` and ``docs/verifying.md``.
"""

from skillcred.verify.report import (
    Check,
    CheckStatus,
    VerificationReport,
    VerifiedCredential,
    VerifiedPresentation,
)
from skillcred.verify.verifier import VerificationPolicy, Verifier

__all__ = [
    "Check",
    "CheckStatus",
    "VerificationPolicy",
    "VerificationReport",
    "VerifiedCredential",
    "VerifiedPresentation",
    "Verifier",
]
