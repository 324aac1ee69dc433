"""Selective disclosure with SD-JWT (RFC 9901, IETF SD-JWT) for W3C credentials.

Compact form: ``<issuer-signed JWT>~<disclosure>~...~<disclosure>~[<KB-JWT>]``.

* Issuer (:func:`issue_sd_jwt`): every claim named by a JSON pointer is replaced by the
  SHA-256 digest of a disclosure ``[salt, name, value]`` (object property, listed in ``_sd``)
  or ``[salt, value]`` (array element, replaced by ``{"...": digest}``). Salts are 128 bits
  from :mod:`secrets`. Every object that gets an ``_sd`` array also gets 2-5 decoy digests, and
  ``_sd`` is sorted, so neither the number nor the order of hidden claims leaks.
  ``typ`` is ``vc+sd-jwt`` with ``cty: vc`` (VC-JOSE-COSE §3.2; ``vp+sd-jwt``/``vp`` for
  presentations); ``dc+sd-jwt`` (IETF SD-JWT VC, with ``vct``) can be asked for.
* Holder (:func:`present_sd_jwt`): releases only the disclosures for the chosen pointers (the
  whole value at each pointer, plus the disclosures of its ancestors), then appends a Key
  Binding JWT (``typ: kb+jwt``; ``iat``, ``aud``, ``nonce``, ``sd_hash``) signed with the key
  whose public JWK the issuer put in ``cnf``.
* Verifier (:func:`verify_sd_jwt`): issuer signature (alg allow-list, ``kid`` bound to the
  issuer exactly as :mod:`skillcred.jose` does), every disclosure referenced exactly once, no
  digest twice, reserved names, then the KB-JWT (signature with the ``cnf`` key, nonce, aud,
  ``sd_hash``, ``iat`` freshness) and ``exp``/``nbf``/``validFrom``/``validUntil``.

Errors are :class:`~skillcred.errors.TokenInvalid` with a named ``reason``.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from skillcred._internal import jws, vcjose
from skillcred._internal.jws import ALLOWED_ALGORITHMS
from skillcred._internal.timeutil import utcnow
from skillcred.did import DidResolver
from skillcred.errors import InvalidArgument, SkillcredSecurityWarning, TokenInvalid, UnsupportedFeature
from skillcred.keys import KeyPair, PublicKey

__all__ = [
    "SdJwtResult",
    "issue_sd_jwt",
    "present_sd_jwt",
    "unverified_claims",
    "verify_sd_jwt",
]

SD_ALG = "sha-256"
#: claims that may never be selectively disclosable (structure, binding and validity claims)
NEVER_DISCLOSABLE = frozenset(
    {"_sd", "...", "_sd_alg", "cnf", "iss", "exp", "nbf", "iat", "vct", "status", "@context"}
)
_RESERVED_NAMES = frozenset({"_sd", "..."})
#: claims of a credential that decide its validity, status, issuer or holder binding (SD-JWT VC
#: §3.2.2.2 lists iss, nbf, exp, cnf, vct, status; the rest are their VC Data Model
#: counterparts). None of them may be selectively disclosable, at any depth: a holder who may
#: withhold ``validUntil`` or ``credentialStatus`` makes an expired or revoked credential look
#: current, and a verifier cannot see what a withheld digest stood for.
DECISIVE_CLAIMS = frozenset(
    {"iss", "nbf", "exp", "iat", "cnf", "vct", "vct#integrity", "status", "@context", "type", "issuer",
     "validFrom", "validUntil", "credentialStatus", "issuanceDate", "expirationDate"}
)
_KB_MAX_AGE = 300  # seconds a Key Binding JWT stays acceptable
_KB_FUTURE_LEEWAY = 60
_MAX_DEPTH = 100


# -- JSON pointers (RFC 6901) ---------------------------------------------------------------------


def _split_pointer(pointer: str) -> list[str]:
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        raise InvalidArgument(f"not a JSON pointer: {pointer!r} (use '/credentialSubject/name')")
    if pointer == "":
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def _join_pointer(parts: Iterable[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _digest(disclosure: str) -> str:
    return jws.b64u(hashlib.sha256(disclosure.encode("ascii")).digest())


def _salt() -> str:
    return jws.b64u(secrets.token_bytes(16))


def _decoy() -> str:
    return _digest(jws.b64u(secrets.token_bytes(16)))


# -- issuer ---------------------------------------------------------------------------------------


def issue_sd_jwt(
    claims: dict[str, Any],
    key: KeyPair,
    *,
    kid: str,
    disclosable: list[str],
    holder_jwk: Mapping[str, Any] | None = None,
    decoys: int | None = None,
    typ: str = "vc+sd-jwt",
    vct: str | None = None,
) -> str:
    """Issue an SD-JWT ``<jwt>~<disclosure>~...~`` (no key binding yet).

    ``disclosable`` lists JSON pointers (``/credentialSubject/birthDate``,
    ``/credentialSubject/phoneNumbers/0``); nested pointers are allowed (a disclosable object
    may contain disclosable members). ``holder_jwk`` goes into ``cnf.jwk`` (needed for key
    binding). ``decoys`` is the number of decoy digests per ``_sd`` array (default: random 2-5).
    """
    if not isinstance(claims, dict):
        raise InvalidArgument("claims must be a JSON object")
    if not isinstance(key, KeyPair):
        raise InvalidArgument("key must be a skillcred KeyPair (Ed25519, P-256 or P-384)")
    if not isinstance(kid, str) or not kid:
        raise InvalidArgument("kid must be a non-empty string")
    if typ not in ("vc+sd-jwt", "vp+sd-jwt", "dc+sd-jwt"):
        raise InvalidArgument("typ must be 'vc+sd-jwt', 'vp+sd-jwt' or 'dc+sd-jwt'")
    if decoys is not None and not (isinstance(decoys, int) and 0 <= decoys <= 100):
        raise InvalidArgument("decoys must be an integer between 0 and 100")
    for reserved in ("_sd", "_sd_alg", "vc", "vp"):
        if _contains_key(claims, reserved):
            raise InvalidArgument(f"claims must not contain {reserved!r}")
    payload = copy.deepcopy(claims)
    paths = [_split_pointer(p) for p in disclosable]
    if len({tuple(p) for p in paths}) != len(paths):
        raise InvalidArgument("disclosable lists a pointer twice")
    disclosures: list[str] = []
    sd_objects: list[dict[str, Any]] = []
    # Deepest first: a disclosable object then carries its members' digests, not their values.
    w3c = "@context" in claims or "credentialSubject" in claims
    for parts in sorted(paths, key=len, reverse=True):
        if not parts:
            raise InvalidArgument("the whole document cannot be selectively disclosable")
        if typ != "vp+sd-jwt":  # the verifier refuses these (see _refuse_disclosable_decisive)
            if parts[0] in DECISIVE_CLAIMS or (parts[0] == "credentialSubject" and parts[-1] == "id"):
                raise InvalidArgument(f"{_join_pointer(parts)} decides validity, status, issuer or holder "
                                      "binding and cannot be selectively disclosable")
            if w3c and (len(parts) < 2 or parts[0] not in ("credentialSubject", "evidence")):
                raise InvalidArgument(f"{_join_pointer(parts)}: in a W3C credential only claims inside "
                                      "credentialSubject (or evidence elements) can be selectively disclosable")
        parent = _walk(payload, parts[:-1], _join_pointer(parts))
        last = parts[-1]
        if isinstance(parent, dict):
            if last in NEVER_DISCLOSABLE:
                raise InvalidArgument(f"{last!r} cannot be selectively disclosable")
            if last not in parent:
                raise InvalidArgument(f"{_join_pointer(parts)} does not exist in the claims")
            disclosure = jws.b64u(jws.json_bytes([_salt(), last, parent.pop(last)]))
            parent.setdefault("_sd", []).append(_digest(disclosure))
            if not any(o is parent for o in sd_objects):
                sd_objects.append(parent)
        elif isinstance(parent, list):
            if not last.isdigit() or int(last) >= len(parent) or (last != "0" and last.startswith("0")):
                raise InvalidArgument(f"{_join_pointer(parts)} is not an element of the array")
            index = int(last)
            disclosure = jws.b64u(jws.json_bytes([_salt(), parent[index]]))
            parent[index] = {"...": _digest(disclosure)}
        else:
            raise InvalidArgument(f"{_join_pointer(parts)}: the parent is not an object or array")
        disclosures.append(disclosure)
    for obj in sd_objects:
        n = decoys if decoys is not None else 2 + secrets.randbelow(4)
        obj["_sd"].extend(_decoy() for _ in range(n))
        obj["_sd"].sort()
    payload["_sd_alg"] = SD_ALG
    if holder_jwk is not None:
        if not isinstance(holder_jwk, Mapping) or "d" in holder_jwk:
            raise InvalidArgument("holder_jwk must be a public JWK")
        PublicKey.from_jwk(dict(holder_jwk))  # validates it
        payload["cnf"] = {"jwk": dict(holder_jwk)}
    if typ == "dc+sd-jwt":
        if not vct:
            raise InvalidArgument("typ dc+sd-jwt (SD-JWT VC) needs a vct")
    if vct is not None:
        payload["vct"] = vct
    header: dict[str, Any] = {"alg": key.public_key.jws_algorithm, "kid": kid, "typ": typ}
    if typ in ("vc+sd-jwt", "vp+sd-jwt"):
        header["cty"] = typ[:2]
    secrets.SystemRandom().shuffle(disclosures)  # output order says nothing about the claims
    jwt = jws.sign_jws(header, jws.json_bytes(payload), key)
    return jwt + "~" + "".join(d + "~" for d in disclosures)


def _contains_key(obj: Any, name: str) -> bool:
    if isinstance(obj, dict):
        return name in obj or any(_contains_key(v, name) for v in obj.values())
    if isinstance(obj, list):
        return any(_contains_key(v, name) for v in obj)
    return False


def _walk(doc: Any, parts: list[str], pointer: str) -> Any:
    node = doc
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            if isinstance(node, dict) and set(node) == {"..."}:
                raise InvalidArgument(f"{pointer}: an ancestor array element is already hidden")
        else:
            raise InvalidArgument(f"{pointer} does not exist in the claims")
    return node


# -- parsing and reconstruction -------------------------------------------------------------------


@dataclass
class _Parsed:
    jwt: str
    disclosures: list[str]
    kb_jwt: str | None
    presented: str  # everything up to and including the last '~' (what sd_hash covers)


def _split(token: str) -> _Parsed:
    if not isinstance(token, str) or "~" not in token:
        raise TokenInvalid("malformed", "not an SD-JWT (<jwt>~<disclosure>~...~[<kb-jwt>])")
    parts = token.strip().split("~")
    jwt, middle, last = parts[0], parts[1:-1], parts[-1]
    if any(not d for d in middle):
        raise TokenInvalid("malformed", "empty disclosure in the SD-JWT")
    presented = token.strip()[: len(token.strip()) - len(last)]
    return _Parsed(jwt, middle, last or None, presented)


@dataclass
class _Disclosure:
    encoded: str
    salt: str
    name: str | None
    value: Any
    used: bool = False
    pointer: str = ""


def _decode_disclosures(encoded: list[str]) -> dict[str, _Disclosure]:
    out: dict[str, _Disclosure] = {}
    for enc in encoded:
        arr = jws.json_loads(jws.b64u_decode(enc, "disclosure"), "disclosure")
        if not isinstance(arr, list) or len(arr) not in (2, 3) or not isinstance(arr[0], str):
            raise TokenInvalid("disclosure_malformed", "a disclosure is not [salt, (name,) value]")
        name = None
        if len(arr) == 3:
            if not isinstance(arr[1], str):
                raise TokenInvalid("disclosure_malformed", "a disclosure's claim name is not a string")
            name = arr[1]
            if name in _RESERVED_NAMES:
                raise TokenInvalid("reserved_claim_name", f"a disclosure uses the reserved name {name!r}")
        digest = _digest(enc)
        if digest in out:
            raise TokenInvalid("disclosure_duplicate", "the same disclosure is presented twice")
        out[digest] = _Disclosure(enc, arr[0], name, arr[-1])
    return out


def _reconstruct(payload: dict[str, Any], disclosures: dict[str, _Disclosure]) -> dict[str, Any]:
    seen: set[str] = set()

    def note(digest: Any) -> None:
        if not isinstance(digest, str):
            raise TokenInvalid("malformed", "a digest is not a string")
        if digest in seen:
            raise TokenInvalid("digest_duplicate", "a digest appears more than once in the SD-JWT")
        seen.add(digest)

    def use(digest: str, pointer: list[str | int], array: bool) -> _Disclosure | None:
        d = disclosures.get(digest)
        if d is None:
            return None  # a decoy, or a claim the holder did not disclose
        if d.used:
            raise TokenInvalid("disclosure_reused", "a disclosure is referenced more than once")
        if (d.name is None) != array:
            raise TokenInvalid(
                "disclosure_malformed",
                "an array-element disclosure is referenced from _sd (or the other way round)",
            )
        d.used = True
        d.pointer = _join_pointer(pointer)
        return d

    def walk(node: Any, pointer: list[str | int]) -> Any:
        if len(pointer) > _MAX_DEPTH:
            raise TokenInvalid("malformed", f"the SD-JWT payload is nested deeper than {_MAX_DEPTH}")
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            sd = node.get("_sd", [])
            if not isinstance(sd, list):
                raise TokenInvalid("malformed", "_sd is not an array")
            for key, value in node.items():
                if key == "_sd":
                    continue
                if key == "...":
                    raise TokenInvalid("reserved_claim_name", "'...' used outside an array element")
                out[key] = walk(value, [*pointer, key])
            for digest in sd:
                note(digest)
                d = use(digest, [*pointer, "?"], array=False)
                if d is None:
                    continue
                assert d.name is not None
                if d.name in out or (not pointer and d.name == "_sd_alg"):
                    raise TokenInvalid("claim_name_conflict", f"disclosed claim {d.name!r} already exists")
                d.pointer = _join_pointer([*pointer, d.name])
                out[d.name] = walk(d.value, [*pointer, d.name])
            return out
        if isinstance(node, list):
            items: list[Any] = []
            for element in node:
                if isinstance(element, dict) and "..." in element:
                    if set(element) != {"..."}:
                        raise TokenInvalid("malformed", "an array digest object has other members")
                    note(element["..."])
                    d = use(element["..."], [*pointer, len(items)], array=True)
                    if d is not None:
                        items.append(walk(d.value, [*pointer, len(items)]))
                    continue
                items.append(walk(element, [*pointer, len(items)]))
            return items
        return node

    result: dict[str, Any] = walk(payload, [])  # a dict walks to a dict
    unused = [d for d in disclosures.values() if not d.used]
    if unused:
        raise TokenInvalid(
            "disclosure_unreferenced",
            f"{len(unused)} disclosure(s) are not referenced by the issuer-signed JWT",
        )
    result.pop("_sd_alg", None)
    return result


def _has_digests(node: Any) -> bool:
    if isinstance(node, dict):
        return "_sd" in node or "..." in node or any(_has_digests(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_digests(v) for v in node)
    return False


def _refuse_disclosable_decisive(payload: Mapping[str, Any], disclosures: Mapping[str, _Disclosure],
                                 claims: Mapping[str, Any]) -> None:
    """Refuse a credential token that makes a decisive claim selectively disclosable.

    Three ways a token can do that, all refused whoever issued it:

    1. a disclosure *presented* for a decisive claim, or for anything inside one
       (``/credentialStatus/statusListIndex``), or for a subject's ``id`` (holder binding);
    2. digests inside the value of a decisive claim that is present (``cnf: {"_sd": [...]}``,
       ``type: [..., {"...": d}]``): what they hide is part of the decision;
    3. for a W3C credential (it has ``@context`` or ``credentialSubject``), digests at the top
       level at all: every top-level member of a credential is structure, validity, status or
       binding, and a withheld one leaves only an anonymous digest -- so the verifier cannot
       tell a hidden ``validUntil`` from a decoy, and refuses both. Selective disclosure of a
       credential happens inside ``credentialSubject`` (and ``evidence``, whose elements may be
       hidden: they do not decide validity).

    A flat SD-JWT VC (``dc+sd-jwt`` without ``credentialSubject``) keeps its claims at the top
    level, so (3) cannot apply to it: a decisive claim its issuer made disclosable and the
    holder withheld is invisible there (docs/verifying.md, threat model).
    """
    for d in disclosures.values():
        parts = d.pointer.strip("/").split("/")
        top = parts[0].replace("~1", "/").replace("~0", "~")
        subject_id = len(parts) >= 2 and top == "credentialSubject" and parts[-1] == "id" and (
            len(parts) == 2 or (len(parts) == 3 and parts[1].isdigit()))
        if top in DECISIVE_CLAIMS or subject_id:
            raise TokenInvalid("decisive_claim_disclosable",
                               f"{d.pointer} decides validity, status, issuer or holder binding and is "
                               "selectively disclosable; such a token is refused, whoever issued it")
    for name in DECISIVE_CLAIMS:
        if name in payload and _has_digests(payload[name]):
            raise TokenInvalid("decisive_claim_disclosable",
                               f"{name!r} decides validity, status, issuer or holder binding but holds selectively "
                               "disclosable parts; such a token is refused, whoever issued it")
    if ("@context" in claims or "credentialSubject" in claims) and (
            payload.get("_sd") or any(isinstance(v, list) and any(isinstance(e, dict) and "..." in e for e in v)
                                      for k, v in payload.items() if k not in ("evidence", "credentialSubject"))):
        raise TokenInvalid("decisive_claim_disclosable",
                           "the credential makes top-level claims selectively disclosable: a withheld one could be "
                           "validUntil, credentialStatus or the issuer, so the token is refused whoever issued it "
                           "(selective disclosure belongs inside credentialSubject)")


# -- holder ---------------------------------------------------------------------------------------


def present_sd_jwt(
    sd_jwt: str,
    *,
    disclose: list[str],
    holder_key: KeyPair | None,
    nonce: str | None,
    aud: str | None,
    iat: int | None = None,
) -> str:
    """Release only the disclosures for ``disclose`` (JSON pointers) and add a KB-JWT.

    Each pointer releases the whole value at that place (with any nested disclosures inside it)
    and the disclosures of its ancestors. Claims the issuer did not make disclosable are always
    visible; a pointer to one is accepted and changes nothing. Without ``holder_key`` no Key
    Binding JWT is added (the result ends with ``~``).
    """
    parsed = _split(sd_jwt)
    if parsed.kb_jwt is not None:
        raise InvalidArgument("the SD-JWT already carries a Key Binding JWT")
    compact = jws.parse_compact(parsed.jwt, "SD-JWT")
    if not isinstance(compact.payload, dict):
        raise InvalidArgument("the SD-JWT payload is not a JSON object")
    disclosures = _decode_disclosures(parsed.disclosures)
    full = _reconstruct(compact.payload, disclosures)
    wanted = [_split_pointer(p) for p in disclose]
    for parts, pointer in zip(wanted, disclose, strict=True):
        try:
            _walk(full, parts, pointer)
        except InvalidArgument:
            raise InvalidArgument(f"{pointer} is not in the credential") from None
    released = []
    for d in disclosures.values():
        d_parts = _split_pointer(d.pointer)
        for parts in wanted:
            # release d when it is at/below a wanted pointer, or an ancestor of one
            if d_parts[: len(parts)] == parts or parts[: len(d_parts)] == d_parts:
                released.append(d.encoded)
                break
    presented = parsed.jwt + "~" + "".join(e + "~" for e in parsed.disclosures if e in set(released))
    if holder_key is None:
        return presented
    if not isinstance(holder_key, KeyPair):
        raise InvalidArgument("holder_key must be a skillcred KeyPair")
    if not isinstance(nonce, str) or not nonce or not isinstance(aud, str) or not aud:
        raise InvalidArgument("key binding needs the verifier's nonce and aud")
    cnf = compact.payload.get("cnf")
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        raise InvalidArgument("the SD-JWT has no cnf.jwk: it cannot be key-bound")
    if PublicKey.from_jwk(cnf["jwk"]) != holder_key.public_key:
        raise InvalidArgument("holder_key is not the key named in the SD-JWT's cnf")
    kb_payload = {
        "iat": int(iat if iat is not None else utcnow().timestamp()),
        "aud": aud,
        "nonce": nonce,
        "sd_hash": _digest(presented),
    }
    kb_header = {"alg": holder_key.public_key.jws_algorithm, "typ": "kb+jwt"}
    return presented + jws.sign_jws(kb_header, jws.json_bytes(kb_payload), holder_key)


# -- verifier -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SdJwtResult:
    """A verified SD-JWT: the payload as disclosed (digests, decoys and ``_sd_alg`` removed)."""

    claims: dict[str, Any]
    disclosed_pointers: tuple[str, ...]
    issuer: str
    holder_jwk: dict[str, Any] | None
    header: dict[str, Any]
    kid: str
    verification_method: str
    key_bound: bool
    #: verified enveloped credentials of a ``vp+sd-jwt`` presentation
    credentials: tuple[Any, ...] = field(default=())
    unverified: tuple[str, ...] = field(default=())


def verify_sd_jwt(
    token: str,
    *,
    resolver: DidResolver,
    expected_nonce: str | None,
    expected_aud: str | None,
    require_key_binding: bool = True,
    at: datetime | None = None,
    expected_typ: str | tuple[str, ...] = ("vc+sd-jwt", "dc+sd-jwt"),
    purpose: str | None = None,
    max_kb_age: int = _KB_MAX_AGE,
    skip_unsupported: bool = False,
    check_times: bool = True,
    verify_credentials: bool = True,
    unsafe_skip_party_binding: bool = False,
) -> SdJwtResult:
    """Verify an SD-JWT (with its KB-JWT when ``require_key_binding``) and return the claims.

    A KB-JWT that is present is always checked (signature with ``cnf.jwk``, ``sd_hash``,
    ``iat``); ``nonce``/``aud`` are compared with the expected values, which are mandatory when
    key binding is required. ``expected_typ="vp+sd-jwt"`` verifies a presentation (the key
    must be the ``holder``'s; its enveloped credentials are verified too). ``check_times=False``
    (``verify --proof-only``) leaves out exp/nbf/validity and the KB-JWT's age; so does
    ``verify_credentials=False`` with a presentation's enveloped credentials (unwrapped, not
    verified), and ``unsafe_skip_party_binding`` (warns) accepts a key of any controller the
    resolver holds, not only the issuer's / holder's.
    """
    if require_key_binding and (not expected_nonce or not expected_aud):
        raise InvalidArgument("key binding needs expected_nonce and expected_aud")
    when = jws.as_utc(at)
    parsed = _split(token)
    compact = jws.parse_compact(parsed.jwt, "SD-JWT")  # alg allow-list first, before any key use
    typ = jws.check_media_type(compact.header, expected_typ, "SD-JWT")
    payload = compact.payload
    if not isinstance(payload, dict):
        raise TokenInvalid("malformed", "SD-JWT payload is not a JSON object")
    sd_alg = payload.get("_sd_alg", SD_ALG)
    if sd_alg != SD_ALG:
        raise TokenInvalid("sd_alg_unsupported", f"_sd_alg {sd_alg!r} is not supported (only sha-256)")
    for claim in ("vc", "vp"):
        if claim in payload:
            raise TokenInvalid("vc_vp_claim_present", f"SD-JWT payload has a {claim!r} claim")
    disclosures = _decode_disclosures(parsed.disclosures)
    claims = _reconstruct(payload, disclosures)
    is_vp = typ == "vp+sd-jwt"
    if not is_vp:
        _refuse_disclosable_decisive(payload, disclosures, claims)
    party = jws.controller_claim(claims, "holder" if is_vp else "issuer")
    if unsafe_skip_party_binding:
        warnings.warn("UNSAFE: the SD-JWT's key is not required to be its issuer's/holder's "
                      "(unsafe_skip_party_binding=True): only the signature is checked",
                      SkillcredSecurityWarning, stacklevel=2)
    method = jws.resolve_kid(resolver, compact.header.get("kid"), None if unsafe_skip_party_binding else party,
                          "SD-JWT")
    jws.verify_signature(compact, method, "SD-JWT")
    jws.check_purpose(method, purpose or ("authentication" if is_vp else "assertionMethod"), "SD-JWT")
    jws.check_times(claims, when, "SD-JWT", compare=check_times)
    holder_jwk = None
    cnf = claims.get("cnf")
    if cnf is not None:
        if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
            raise TokenInvalid("cnf_malformed", "cnf is not {'jwk': {...}}")
        holder_jwk = dict(cnf["jwk"])
    if parsed.kb_jwt is not None:
        _verify_kb(parsed, holder_jwk, expected_nonce, expected_aud, when, max_kb_age, check_times)
    elif require_key_binding:
        raise TokenInvalid("key_binding_missing", "no Key Binding JWT: the presenter is not proven to hold the key")
    nested: tuple[Any, ...] = ()
    unverified: tuple[str, ...] = ()
    if is_vp and verify_credentials:
        nested, unverified = vcjose.verify_nested(claims, resolver, when, skip_unsupported, check_times,
                                                  verify_sd_jwt=verify_sd_jwt)
    elif is_vp:
        vcjose.unwrap_nested(claims)
    return SdJwtResult(
        claims=claims,
        disclosed_pointers=tuple(sorted(d.pointer for d in disclosures.values())),
        issuer=party,
        holder_jwk=holder_jwk,
        header=compact.header,
        kid=str(compact.header["kid"]),
        verification_method=method.id,
        key_bound=parsed.kb_jwt is not None,
        credentials=nested,
        unverified=unverified,
    )


def _verify_kb(
    parsed: _Parsed,
    holder_jwk: dict[str, Any] | None,
    expected_nonce: str | None,
    expected_aud: str | None,
    when: datetime,
    max_age: int,
    check_times: bool = True,
) -> None:
    assert parsed.kb_jwt is not None
    kb = jws.parse_compact(parsed.kb_jwt, "KB-JWT")
    if not jws.media_type_equal(kb.header.get("typ"), "kb+jwt"):
        raise TokenInvalid("media_type_invalid", f"KB-JWT typ is {kb.header.get('typ')!r}, expected kb+jwt")
    if holder_jwk is None:
        raise TokenInvalid("cnf_missing", "a KB-JWT is present but the SD-JWT names no holder key (cnf)")
    try:
        holder = PublicKey.from_jwk(holder_jwk)
    except (InvalidArgument, UnsupportedFeature) as exc:
        raise TokenInvalid("cnf_malformed", f"cnf.jwk: {exc.message}") from exc
    if holder.key_type != ALLOWED_ALGORITHMS[kb.header["alg"]]:
        raise TokenInvalid("alg_key_mismatch", "KB-JWT alg does not fit the cnf key")
    if not holder.verify(kb.signature, kb.signing_input):
        raise TokenInvalid("kb_signature_invalid", "KB-JWT signature does not verify with the cnf key")
    claims = kb.payload
    if not isinstance(claims, dict):
        raise TokenInvalid("malformed", "KB-JWT payload is not a JSON object")
    if claims.get("sd_hash") != _digest(parsed.presented):
        raise TokenInvalid("sd_hash_mismatch", "KB-JWT sd_hash does not cover this presentation")
    if expected_nonce is not None and claims.get("nonce") != expected_nonce:
        raise TokenInvalid("nonce_mismatch", "KB-JWT nonce is not the one the verifier gave")
    if expected_aud is not None and claims.get("aud") != expected_aud:
        raise TokenInvalid("aud_mismatch", "KB-JWT aud is not this verifier")
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise TokenInvalid("malformed", "KB-JWT iat is not a NumericDate")
    now = when.timestamp()
    if not check_times:
        return
    if iat > now + _KB_FUTURE_LEEWAY:
        raise TokenInvalid("kb_iat_in_future", "KB-JWT iat is in the future")
    if now - iat > max_age:
        raise TokenInvalid("kb_stale", f"KB-JWT is older than {max_age} s")


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims an SD-JWT shows with the disclosures it carries, *unverified*: for reading a
    token whose signature was checked elsewhere (the wallet's own, or one the Verifier
    accepted), e.g. to evaluate a DCQL query against an SD-JWT VC's flat claims. Never a basis
    for trusting what it says. Raises :class:`TokenInvalid` for a token that is not an SD-JWT."""
    parsed = _split(token)
    payload = jws.parse_compact(parsed.jwt, "SD-JWT").payload
    if not isinstance(payload, dict):
        raise TokenInvalid("malformed", "the SD-JWT payload is not a JSON object")
    return _reconstruct(payload, _decode_disclosures(parsed.disclosures))
