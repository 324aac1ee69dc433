"""skillcred: skills passports as W3C Verifiable Credentials.

The promised import paths, and the names each of them exports, are listed in
``docs/stability.md`` (``tests/test_public_api.py`` keeps that list and every module's
``__all__`` in step). Everything else -- ``_internal``, ``_cli`` and any ``_name`` -- is
private and may change in any release. Start with :mod:`skillcred.issuer` (institute),
:mod:`skillcred.wallet` (worker) and :mod:`skillcred.verify` (employer).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
