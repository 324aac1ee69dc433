"""skillcred: skills passports as W3C Verifiable Credentials.

Map of the public API (everything else, in particular ``_internal`` and ``_cli``, is private):

- :mod:`skillcred.errors`   the exception tree, each with a stable ``code``
- :mod:`skillcred.loader`   the offline JSON-LD document loader (bundled contexts only)
- :mod:`skillcred.keys`     Ed25519 / P-256 / P-384 key pairs, Multikey, JWK, key files
- :mod:`skillcred.did`      did:key and did:web (offline resolution only)
- :mod:`skillcred.proofs`   Data Integrity proofs: ``add_proof``, ``verify_proof``
"""

__version__ = "0.1.0"
