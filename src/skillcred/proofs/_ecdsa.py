"""vc-di-ecdsa (W3C Recommendation): ``ecdsa-rdfc-2019`` and ``ecdsa-jcs-2019``.

The hash follows the curve: SHA-256 for P-256 and SHA-384 for P-384, and for RDFC-1.0 the
whole canonicalization runs with that hash (vc-di-ecdsa "canon-and-hash"); pyld hard-codes
SHA-256, which is why skillcred has its own RDFC-1.0. Signatures are IEEE P1363 ``r || s``.
"""

from __future__ import annotations

from skillcred.keys import KeyType
from skillcred.proofs._data_integrity import Cryptosuite, HashName


def _curve_hash(key_type: KeyType) -> HashName:
    return "sha384" if key_type == "p384" else "sha256"


ECDSA_RDFC_2019 = Cryptosuite(
    name="ecdsa-rdfc-2019",
    spec="https://www.w3.org/TR/vc-di-ecdsa/#ecdsa-rdfc-2019",
    key_types=("p256", "p384"),
    canonicalization="rdfc",
    hash_for_key=_curve_hash,
)

ECDSA_JCS_2019 = Cryptosuite(
    name="ecdsa-jcs-2019",
    spec="https://www.w3.org/TR/vc-di-ecdsa/#ecdsa-jcs-2019",
    key_types=("p256", "p384"),
    canonicalization="jcs",
    hash_for_key=_curve_hash,
)

#: ecdsa-sd-2023's suite description lives here, not with its algorithms in ``_ecdsa_sd_2023``:
#: the suite table needs it on every import, the selective-disclosure code only when such a
#: proof is met (a cold verify of other suites then never loads it).
ECDSA_SD_2023 = Cryptosuite(
    name="ecdsa-sd-2023",
    spec="https://www.w3.org/TR/vc-di-ecdsa/#ecdsa-sd-2023",
    key_types=("p256", "p384"),
    canonicalization="rdfc",
    hash_for_key=_curve_hash,
)
