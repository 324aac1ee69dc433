"""vc-di-eddsa (W3C Recommendation): ``eddsa-rdfc-2022`` and ``eddsa-jcs-2022``.

Ed25519 signatures over SHA-256 hash data; the two suites differ only in the transformation
(RDFC-1.0 with SHA-256, or JCS).
"""

from __future__ import annotations

from skillcred.keys import KeyType
from skillcred.proofs._data_integrity import Cryptosuite, HashName


def _sha256(_key_type: KeyType) -> HashName:
    return "sha256"


EDDSA_RDFC_2022 = Cryptosuite(
    name="eddsa-rdfc-2022",
    spec="https://www.w3.org/TR/vc-di-eddsa/#eddsa-rdfc-2022",
    key_types=("ed25519",),
    canonicalization="rdfc",
    hash_for_key=_sha256,
)

EDDSA_JCS_2022 = Cryptosuite(
    name="eddsa-jcs-2022",
    spec="https://www.w3.org/TR/vc-di-eddsa/#eddsa-jcs-2022",
    key_types=("ed25519",),
    canonicalization="jcs",
    hash_for_key=_sha256,
)
