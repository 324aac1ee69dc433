"""Which Data Integrity cryptosuite an ``ldp_vc`` presentation is signed with: one the verifier
takes. OpenID4VP 1.0 (Appendix B.1.3.2) has the verifier list them in its metadata
(``vp_formats_supported.ldp_vc.cryptosuite_values``); a verifier that can only check
eddsa-jcs-2022 (no RDF canonicalisation) would refuse skillcred's default eddsa-rdfc-2022.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skillcred.errors import InvalidArgument
from skillcred.keys import KeyPair
from skillcred.proofs import CRYPTOSUITES, SUPPORTED_CRYPTOSUITES, default_suite_for


def vp_cryptosuite(request: Mapping[str, Any], key: KeyPair) -> str:
    """The suite for an ``ldp_vc`` presentation answering ``request`` (verified claims): the
    key's default when the verifier takes it or lists none, else the first the verifier lists
    that this key can make; :class:`InvalidArgument` when it lists only suites this key cannot."""
    default = default_suite_for(key)
    meta = request.get("client_metadata")
    formats = meta.get("vp_formats_supported") if isinstance(meta, Mapping) else None
    ldp = formats.get("ldp_vc") if isinstance(formats, Mapping) else None
    wanted = ldp.get("cryptosuite_values") if isinstance(ldp, Mapping) else None
    if not isinstance(wanted, list) or not wanted or default in wanted:
        return default
    for name in wanted:
        if name in SUPPORTED_CRYPTOSUITES and key.key_type in CRYPTOSUITES[name].key_types:
            return str(name)
    raise InvalidArgument(f"the verifier takes Data Integrity presentations only as {', '.join(map(str, wanted))}, "
                          f"which this wallet's {key.key_type} key cannot make")
