"""vc-di-ecdsa ``ecdsa-sd-2023``: the selective disclosure functions and the suite algorithms.

References are to https://www.w3.org/TR/vc-di-ecdsa/ ("Selective Disclosure Functions",
"ecdsa-sd-2023 Functions", "ecdsa-sd-2023 Algorithms"), by algorithm name. Function names
follow the spec (``canonicalizeAndGroup`` is :func:`canonicalize_and_group`, and so on).

* Base proof (issuer; "Create Base Proof" and its steps): the document's blank nodes get
  HMAC-derived labels, the canonical N-Quads are split by the mandatory JSON pointers, every
  non-mandatory quad is signed with a fresh proof-scoped P-256 key, and the issuer key signs
  ``proofHash || publicKey || mandatoryHash``.
* Derived proof (holder; "Add Derived Proof", ``createDisclosureData``): keep the mandatory
  quads and the selected ones, the signatures of the selected non-mandatory ones, and the
  label map the verifier needs.
* "Verify Derived Proof" (``createVerifyData``): recompute the labelled canonical quads of the
  reveal document, hash the mandatory ones, check the base signature and every quad signature.

Hashes follow the issuer key's curve (SHA-256 for P-256, SHA-384 for P-384; also the HMAC and,
as for ``ecdsa-rdfc-2019`` here, the hash inside RDFC-1.0). The proof-scoped key is always
P-256 / ES256, as the spec says.

Deviation, documented: skolemization (``skolemizeExpandedJsonLd``) does not give an
``@id`` to ``@list`` objects (a list object with an ``@id`` is not valid JSON-LD); RDF lists in
selectively disclosed credentials are not supported (their blank nodes have no stable label).
"""

from __future__ import annotations

import copy
import hashlib
import hmac as _hmac
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from skillcred._internal import base58, base64url, cbor, rdfc
from skillcred._internal.jsonld import to_rdf_rows, translate_error
from skillcred._internal.nquads import parse_nquads_terms
from skillcred._internal.pyldimport import jsonld as _pyld
from skillcred.errors import MalformedDocument, ProofError, SkillcredError
from skillcred.keys import KeyPair, KeyType, PublicKey
from skillcred.loader import OfflineLoader, default_loader
from skillcred.proofs._data_integrity import HashName
from skillcred.proofs._ecdsa import ECDSA_SD_2023

NAME = "ecdsa-sd-2023"
BASE_HEADER = b"\xd9\x5d\x00"
DERIVED_HEADER = b"\xd9\x5d\x01"
P256_PUB_PREFIX = b"\x80\x24"  # multicodec p256-pub (0x1200) as a varint
P384_PUB_PREFIX = b"\x81\x24"  # multicodec p384-pub (0x1201)

Row = tuple[str, str, str, str]
LabelMap = dict[str, str]


def _curve_hash(key_type: KeyType) -> HashName:
    return "sha384" if key_type == "p384" else "sha256"




_b64u = base64url.encode
#: canonical base64url only (a ValueError otherwise): one proof value, one encoding
_b64u_decode = base64url.decode


# --------------------------------------------------------------------------------------------
# N-Quads helpers (rows are canonical N-Quads terms, "" = default graph)
# --------------------------------------------------------------------------------------------


def _nquad(row: Row) -> str:
    s, p, o, g = row
    return f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n"


def _relabel_row(row: Row, label_of: Callable[[str], str]) -> Row:
    out = tuple(label_of(t[2:]) if t.startswith("_:") else t for t in row)
    return out  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# Selective disclosure functions
# --------------------------------------------------------------------------------------------


def create_hmac(key: bytes, hash_name: HashName = "sha256") -> Callable[[bytes], bytes]:
    return lambda data: _hmac.new(key, data, hash_name).digest()


def create_hmac_id_label_map_function(
    hmac: Callable[[bytes], bytes],
) -> Callable[[dict[str, str]], LabelMap]:
    """createHmacIdLabelMapFunction: input label -> 'u' + base64url(HMAC(canonical label))."""

    def factory(canonical_id_map: dict[str, str]) -> LabelMap:
        return {
            inp: "u" + _b64u(hmac(c14n.encode("utf-8"))) for inp, c14n in canonical_id_map.items()
        }

    return factory


def create_label_map_function(label_map: Mapping[str, str]) -> Callable[[dict[str, str]], LabelMap]:
    """createLabelMapFunction: input label -> label_map[canonical label]."""

    def factory(canonical_id_map: dict[str, str]) -> LabelMap:
        out = {}
        for inp, c14n in canonical_id_map.items():
            if c14n not in label_map:
                raise ProofError(f"the label map has no entry for blank node {c14n}")
            out[inp] = label_map[c14n]
        return out

    return factory


def label_replacement_canonicalize_nquads(
    rows: Sequence[Row],
    label_map_factory: Callable[[dict[str, str]], LabelMap],
    hash_name: HashName = "sha256",
) -> tuple[LabelMap, list[str]]:
    """labelReplacementCanonicalizeNQuads: RDFC-1.0, relabel the blank nodes, sort the quads."""
    result = rdfc.canonicalize_with_map("".join(_nquad(r) for r in rows), hash_algorithm=hash_name)
    label_map = label_map_factory(result.issued_identifiers)
    c14n_to_new = {result.issued_identifiers[inp]: new for inp, new in label_map.items()}
    relabelled = [
        _nquad(_relabel_row(row, lambda lbl: "_:" + c14n_to_new[lbl]))
        for row in parse_nquads_terms(result.nquads)
    ]
    return label_map, sorted(relabelled)


def label_replacement_canonicalize_json_ld(
    document: Mapping[str, Any],
    label_map_factory: Callable[[dict[str, str]], LabelMap],
    hash_name: HashName = "sha256",
    loader: OfflineLoader | None = None,
) -> tuple[LabelMap, list[str]]:
    """labelReplacementCanonicalizeJsonLd."""
    rows = to_rdf_rows(document, loader=loader)
    return label_replacement_canonicalize_nquads(rows, label_map_factory, hash_name)


def _pyld_options(loader: OfflineLoader | None) -> dict[str, Any]:
    return {"documentLoader": loader or default_loader(), "base": None}


class _Skolem:
    """skolemizeExpandedJsonLd / toDeskolemizedNQuads with one random URN prefix per run."""

    def __init__(self, random_string: str | None = None) -> None:
        self.marker = "_" + (random_string or secrets.token_hex(8)) + "_"
        self.prefix = "urn:bnid:" + self.marker
        self.count = 0

    def skolemize(self, expanded: list[Any]) -> list[Any]:
        out: list[Any] = []
        for element in expanded:
            if not isinstance(element, dict) or "@value" in element:
                out.append(copy.deepcopy(element))
                continue
            node: dict[str, Any] = {}
            for prop, value in element.items():
                if isinstance(value, list):
                    node[prop] = self.skolemize(value)
                else:
                    node[prop] = self.skolemize([value])[0]
            if "@list" in node:
                pass  # see module doc
            elif "@id" not in node:
                node["@id"] = f"{self.prefix}{self.count}"
                self.count += 1
            elif isinstance(node["@id"], str) and node["@id"].startswith("_:"):
                node["@id"] = f"{self.prefix}b_{node['@id'][2:]}"
            out.append(node)
        return out

    def deskolemize(self, rows: Sequence[Row]) -> list[Row]:
        head = "<" + self.prefix

        def term(t: str) -> str:
            if t.startswith(head):
                return "_:" + self.marker + t[len(head) : -1]
            return t

        return [(term(s), p, term(o), term(g)) for s, p, o, g in rows]


def skolemize_compact_json_ld(
    document: Mapping[str, Any], loader: OfflineLoader | None, skolem: _Skolem
) -> tuple[list[Any], dict[str, Any]]:
    """skolemizeCompactJsonLd: (skolemized expanded, skolemized compact) documents."""
    if "@context" not in document:
        raise MalformedDocument("document has no @context")
    # Safe mode first: a term the contexts do not define would otherwise silently vanish
    # in the expansion below.
    to_rdf_rows(document, loader=loader)
    options = _pyld_options(loader)
    try:
        expanded = _pyld.expand(copy.deepcopy(dict(document)), options)
        skolemized = skolem.skolemize(expanded)
        context = {"@context": copy.deepcopy(document["@context"])}
        compact = _pyld.compact(skolemized, context, options)
    except SkillcredError:
        raise
    except RecursionError as exc:
        raise MalformedDocument("document nests too deeply for JSON-LD processing") from exc
    except Exception as exc:
        raise translate_error(exc) from exc
    return skolemized, compact


# ---- JSON pointers and selectJsonLd ----


def parse_pointer(pointer: str) -> list[str]:
    """RFC 6901: '/a/b~1c' -> ['a', 'b/c']."""
    if not isinstance(pointer, str):
        raise ProofError("a JSON pointer must be a string")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ProofError(f"JSON pointer {pointer!r} must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


_HOLE = object()


def _init_selection(source: Any) -> dict[str, Any]:
    selection: dict[str, Any] = {}
    if isinstance(source, dict):
        sid = source.get("id")
        if isinstance(sid, str) and sid and not sid.startswith("_:"):
            selection["id"] = sid
        if source.get("type") is not None:
            selection["type"] = copy.deepcopy(source["type"])
    return selection


def _step(container: Any, path: str, pointer: str) -> tuple[Any, Any]:
    """(key, value) of ``container[path]`` or an error naming the pointer."""
    if isinstance(container, dict):
        if path in container:
            return path, container[path]
    elif isinstance(container, list):
        if re.fullmatch(r"0|[1-9][0-9]*", path) and int(path) < len(container):
            return int(path), container[int(path)]
    raise ProofError(f"JSON pointer {pointer!r} does not match the document")


def _get(container: Any, key: Any) -> Any:
    if isinstance(container, list):
        return container[key] if key < len(container) else _HOLE
    return container.get(key, _HOLE)


def _put(container: Any, key: Any, value: Any) -> None:
    if isinstance(container, list):
        while len(container) <= key:
            container.append(_HOLE)
    container[key] = value


def select_json_ld(pointers: Sequence[str], document: Mapping[str, Any]) -> dict[str, Any] | None:
    """selectJsonLd: the document restricted to the pointers (plus ids and types on the way)."""
    if not pointers:
        return None
    arrays: list[list[Any]] = []
    selection: dict[str, Any] = {}
    if "@context" in document:  # (the spec adds it last; JSON member order is not significant)
        selection["@context"] = copy.deepcopy(document["@context"])
    selection.update(_init_selection(document))
    for pointer in pointers:
        paths = parse_pointer(pointer)
        if not paths:
            selection.update(copy.deepcopy(dict(document)))
            continue
        value: Any = document
        selected_parent: Any = selection
        selected_value: Any = selection
        key: Any = None
        for path in paths:
            selected_parent = selected_value
            key, value = _step(value, path, pointer)
            selected_value = _get(selected_parent, key)
            if selected_value is _HOLE:
                if isinstance(value, list):
                    selected_value = []
                    arrays.append(selected_value)
                else:
                    selected_value = _init_selection(value)
                _put(selected_parent, key, selected_value)
        if isinstance(value, list):
            final: Any = copy.deepcopy(value)
        elif isinstance(value, dict):
            final = copy.deepcopy(value)
            if isinstance(selected_value, dict):
                final = {**selected_value, **final}
        else:
            final = value
        _put(selected_parent, key, final)
    for array in arrays:
        array[:] = [v for v in array if v is not _HOLE]
    return selection


@dataclass
class Group:
    matching: dict[int, str]
    non_matching: dict[int, str]
    deskolemized_nquads: list[Row]


@dataclass
class Grouped:
    groups: dict[str, Group]
    skolemized_expanded: list[Any]
    skolemized_compact: dict[str, Any]
    deskolemized_nquads: list[Row]
    label_map: LabelMap
    nquads: list[str]


def canonicalize_and_group(
    document: Mapping[str, Any],
    label_map_factory: Callable[[dict[str, str]], LabelMap],
    group_definitions: Mapping[str, Sequence[str]],
    *,
    hash_name: HashName = "sha256",
    loader: OfflineLoader | None = None,
    random_string: str | None = None,
) -> Grouped:
    """canonicalizeAndGroup."""
    skolem = _Skolem(random_string)
    expanded, compact = skolemize_compact_json_ld(document, loader, skolem)
    deskolemized = skolem.deskolemize(to_rdf_rows(compact, loader=loader))
    label_map, nquads = label_replacement_canonicalize_nquads(
        deskolemized, label_map_factory, hash_name
    )

    def relabel(label: str) -> str:
        if label not in label_map:
            raise ProofError(
                "a selection has a blank node the document does not (RDF lists are not supported)"
            )
        return "_:" + label_map[label]

    groups: dict[str, Group] = {}
    for name, pointers in group_definitions.items():
        selection = select_json_ld(pointers, compact)
        if selection is None:
            sel_rows: list[Row] = []
        else:
            sel_rows = skolem.deskolemize(to_rdf_rows(selection, loader=loader))
        selected = {_nquad(_relabel_row(r, relabel)) for r in sel_rows}
        matching: dict[int, str] = {}
        non_matching: dict[int, str] = {}
        for i, nq in enumerate(nquads):
            (matching if nq in selected else non_matching)[i] = nq
        groups[name] = Group(matching, non_matching, sel_rows)
    return Grouped(groups, expanded, compact, deskolemized, label_map, nquads)


def hash_mandatory_nquads(mandatory: Sequence[str], hash_name: HashName = "sha256") -> bytes:
    return hashlib.new(hash_name, "".join(mandatory).encode("utf-8")).digest()


# --------------------------------------------------------------------------------------------
# ecdsa-sd-2023 functions: proof values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseProofValue:
    base_signature: bytes
    public_key: bytes
    hmac_key: bytes
    signatures: list[bytes]
    mandatory_pointers: list[str]


@dataclass(frozen=True)
class DerivedProofValue:
    base_signature: bytes
    public_key: bytes
    signatures: list[bytes]
    label_map: dict[str, str]
    mandatory_indexes: list[int]


def serialize_base_proof_value(v: BaseProofValue) -> str:
    components = [
        v.base_signature, v.public_key, v.hmac_key, list(v.signatures), list(v.mandatory_pointers)
    ]
    return "u" + _b64u(BASE_HEADER + cbor.encode(components))


def _decode_proof_value(proof_value: Any) -> tuple[bytes, Any]:
    if not isinstance(proof_value, str) or not proof_value.startswith("u"):
        raise ProofError("ecdsa-sd-2023 proofValue must be base64url multibase ('u...')")
    try:
        raw = _b64u_decode(proof_value[1:])
    except ValueError:
        raise ProofError("ecdsa-sd-2023 proofValue is not valid base64url") from None
    header = raw[:3]
    if header not in (BASE_HEADER, DERIVED_HEADER):
        raise ProofError("ecdsa-sd-2023 proofValue has an unknown header")
    try:
        return header, cbor.decode(raw[3:])
    except cbor.CBORError as exc:
        raise ProofError(f"ecdsa-sd-2023 proofValue is not valid CBOR: {exc}") from None


def proof_value_kind(proof_value: Any) -> str:
    """'base' or 'derived' (raises :class:`ProofError` for anything else)."""
    header, _ = _decode_proof_value(proof_value)
    return "base" if header == BASE_HEADER else "derived"


def _bytes_list(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list) or not all(isinstance(v, bytes) for v in value):
        raise ProofError(f"ecdsa-sd-2023 proofValue: {what} must be an array of byte strings")
    return list(value)


def parse_base_proof_value(proof_value: Any) -> BaseProofValue:
    header, comps = _decode_proof_value(proof_value)
    if header != BASE_HEADER:
        raise ProofError("not an ecdsa-sd-2023 base proof value")
    if not isinstance(comps, list) or len(comps) != 5:
        raise ProofError("ecdsa-sd-2023 base proofValue must be a CBOR array of 5 components")
    sig, pub, key, sigs, pointers = comps
    if not all(isinstance(x, bytes) for x in (sig, pub, key)):
        raise ProofError("ecdsa-sd-2023 base proofValue: malformed components")
    if not isinstance(pointers, list) or not all(isinstance(p, str) for p in pointers):
        raise ProofError("ecdsa-sd-2023 base proofValue: mandatory pointers must be strings")
    return BaseProofValue(sig, pub, key, _bytes_list(sigs, "signatures"), list(pointers))


def compress_label_map(label_map: Mapping[str, str]) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    for k, v in label_map.items():
        if not re.fullmatch(r"c14n(0|[1-9][0-9]*)", k) or not v.startswith("u"):
            raise ProofError(f"cannot compress label map entry {k!r}")
        out[int(k[4:])] = _b64u_decode(v[1:])
    return out


def decompress_label_map(compressed: Any) -> dict[str, str]:
    if not isinstance(compressed, dict):
        raise ProofError("ecdsa-sd-2023 derived proofValue: the label map must be a CBOR map")
    out: dict[str, str] = {}
    for k, v in compressed.items():
        if not isinstance(k, int) or not isinstance(v, bytes):
            raise ProofError("ecdsa-sd-2023 derived proofValue: malformed label map")
        out[f"c14n{k}"] = "u" + _b64u(v)
    return out


def serialize_derived_proof_value(v: DerivedProofValue) -> str:
    components = [
        v.base_signature,
        v.public_key,
        list(v.signatures),
        compress_label_map(v.label_map),
        list(v.mandatory_indexes),
    ]
    return "u" + _b64u(DERIVED_HEADER + cbor.encode(components))


def parse_derived_proof_value(proof_value: Any) -> DerivedProofValue:
    header, comps = _decode_proof_value(proof_value)
    if header != DERIVED_HEADER:
        raise ProofError("not an ecdsa-sd-2023 derived proof value")
    if not isinstance(comps, list) or len(comps) != 5:
        raise ProofError("ecdsa-sd-2023 derived proofValue must be a CBOR array of 5 components")
    sig, pub, sigs, lmap, indexes = comps
    if not isinstance(sig, bytes) or not isinstance(pub, bytes):
        raise ProofError("ecdsa-sd-2023 derived proofValue: malformed components")
    if not isinstance(indexes, list) or not all(isinstance(i, int) for i in indexes):
        raise ProofError("ecdsa-sd-2023 derived proofValue: mandatory indexes must be integers")
    return DerivedProofValue(
        sig, pub, _bytes_list(sigs, "signatures"), decompress_label_map(lmap), list(indexes)
    )


def serialize_sign_data(proof_hash: bytes, public_key: bytes, mandatory_hash: bytes) -> bytes:
    return proof_hash + public_key + mandatory_hash


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


def multikey_bytes(public_key: PublicKey) -> bytes:
    """The multikey expression as bytes: varint(multicodec) + compressed point."""
    if public_key.key_type == "p256":
        return P256_PUB_PREFIX + public_key.raw
    if public_key.key_type == "p384":
        return P384_PUB_PREFIX + public_key.raw
    raise ProofError(f"ecdsa-sd-2023 needs a P-256 or P-384 key, not {public_key.key_type}")


def public_key_from_multikey_bytes(data: bytes) -> PublicKey:
    try:
        return PublicKey.from_multikey(base58.encode(data))
    except SkillcredError as exc:
        raise ProofError(f"ecdsa-sd-2023 proof-scoped public key: {exc.message}") from None


def sign(key: KeyPair, data: bytes, *, deterministic: bool = False) -> bytes:
    """ECDSA in P1363 form; ``deterministic`` uses RFC 6979 nonces (reproducible vectors)."""
    if not deterministic:
        return key.sign(data)
    private = key._key
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    h = hashes.SHA384() if key.key_type == "p384" else hashes.SHA256()
    r, s = decode_dss_signature(private.sign(data, ec.ECDSA(h, deterministic_signing=True)))
    n = 48 if key.key_type == "p384" else 32
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


# --------------------------------------------------------------------------------------------
# ecdsa-sd-2023 algorithms
# --------------------------------------------------------------------------------------------


def canonical_proof_config(
    proof: Mapping[str, Any],
    document: Mapping[str, Any],
    hash_name: HashName,
    loader: OfflineLoader | None,
) -> str:
    """Base proof configuration: the proof minus proofValue, with the document's @context."""
    config = {k: copy.deepcopy(v) for k, v in proof.items() if k != "proofValue"}
    if "@context" in document:
        config["@context"] = copy.deepcopy(document["@context"])
    return rdfc.canonicalize_rows(to_rdf_rows(config, loader=loader), hash_algorithm=hash_name)


@dataclass
class BaseTransform:
    mandatory_pointers: list[str]
    mandatory: dict[int, str]
    non_mandatory: dict[int, str]
    hmac_key: bytes
    grouped: Grouped


def base_proof_transformation(
    document: Mapping[str, Any],
    mandatory_pointers: Sequence[str],
    *,
    hmac_key: bytes,
    hash_name: HashName,
    loader: OfflineLoader | None = None,
) -> BaseTransform:
    """Base Proof Transformation (ecdsa-sd-2023)."""
    factory = create_hmac_id_label_map_function(create_hmac(hmac_key, hash_name))
    grouped = canonicalize_and_group(
        document,
        factory,
        {"mandatory": list(mandatory_pointers)},
        hash_name=hash_name,
        loader=loader,
    )
    g = grouped.groups["mandatory"]
    return BaseTransform(list(mandatory_pointers), g.matching, g.non_matching, hmac_key, grouped)


def create_base_proof_value(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    key: KeyPair,
    mandatory_pointers: Sequence[str],
    *,
    hmac_key: bytes | None = None,
    proof_key: KeyPair | None = None,
    deterministic: bool = False,
    loader: OfflineLoader | None = None,
) -> str:
    """Create Base Proof: the base proofValue for ``proof`` (without proofValue)."""
    if key.key_type not in ECDSA_SD_2023.key_types:
        raise ProofError(f"{NAME} needs a p256 or p384 key, not {key.key_type}")
    hash_name = _curve_hash(key.key_type)
    size = hashlib.new(hash_name).digest_size
    if hmac_key is None:
        hmac_key = secrets.token_bytes(size)
    elif len(hmac_key) != size:
        raise ProofError(f"the HMAC key must be {size} bytes")
    transform = base_proof_transformation(
        document, mandatory_pointers, hmac_key=hmac_key, hash_name=hash_name, loader=loader
    )
    # Base Proof Hashing
    config_canon = canonical_proof_config(proof, document, hash_name, loader)
    proof_hash = hashlib.new(hash_name, config_canon.encode("utf-8")).digest()
    mandatory_hash = hash_mandatory_nquads(list(transform.mandatory.values()), hash_name)
    # Base Proof Serialization
    scoped = proof_key or KeyPair.generate("p256")
    if scoped.key_type != "p256":
        raise ProofError("the proof-scoped key of ecdsa-sd-2023 is P-256")
    signatures = [
        sign(scoped, nq.encode("utf-8"), deterministic=deterministic)
        for nq in transform.non_mandatory.values()
    ]
    public_key = multikey_bytes(scoped.public_key)
    to_sign = serialize_sign_data(proof_hash, public_key, mandatory_hash)
    base_signature = sign(key, to_sign, deterministic=deterministic)
    return serialize_base_proof_value(
        BaseProofValue(base_signature, public_key, hmac_key, signatures, list(mandatory_pointers))
    )


@dataclass
class DisclosureData:
    base_signature: bytes
    public_key: bytes
    signatures: list[bytes]
    label_map: dict[str, str]
    mandatory_indexes: list[int]
    reveal_document: dict[str, Any]
    grouped: Grouped


def create_disclosure_data(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    selective_pointers: Sequence[str],
    *,
    hash_name: HashName = "sha256",
    loader: OfflineLoader | None = None,
) -> DisclosureData:
    """createDisclosureData (holder)."""
    base = parse_base_proof_value(proof.get("proofValue"))
    factory = create_hmac_id_label_map_function(create_hmac(base.hmac_key, hash_name))
    combined_pointers = [*base.mandatory_pointers, *selective_pointers]
    grouped = canonicalize_and_group(
        document,
        factory,
        {
            "mandatory": base.mandatory_pointers,
            "selective": list(selective_pointers),
            "combined": combined_pointers,
        },
        hash_name=hash_name,
        loader=loader,
    )
    combined = grouped.groups["combined"]
    mandatory = grouped.groups["mandatory"]
    selective = grouped.groups["selective"]
    combined_indexes = list(combined.matching)
    position = {abs_i: rel_i for rel_i, abs_i in enumerate(combined_indexes)}
    mandatory_indexes = [position[i] for i in mandatory.matching]
    non_mandatory_indexes = list(mandatory.non_matching)
    if len(non_mandatory_indexes) != len(base.signatures):
        raise ProofError(
            "the base proof's signature count does not match the document's non-mandatory quads"
        )
    filtered = [
        sig
        for i, sig in enumerate(base.signatures)
        if non_mandatory_indexes[i] in selective.matching
    ]
    reveal = select_json_ld(combined_pointers, document)
    if reveal is None:
        raise ProofError("nothing to disclose: no mandatory and no selective pointers")
    # The verifier's label map: its canonical labels -> the HMAC labels.
    c14n = rdfc.canonical_issued_identifiers(
        "".join(_nquad(r) for r in combined.deskolemized_nquads), hash_algorithm=hash_name
    )
    verifier_map = {c: grouped.label_map[inp] for inp, c in c14n.items()}
    return DisclosureData(
        base.base_signature,
        base.public_key,
        filtered,
        verifier_map,
        mandatory_indexes,
        reveal,
        grouped,
    )


@dataclass
class VerifyData:
    base_signature: bytes
    proof_hash: bytes
    public_key: bytes
    signatures: list[bytes]
    non_mandatory: list[str]
    mandatory_hash: bytes
    mandatory: list[str] = field(default_factory=list)


_VC = "https://www.w3.org/2018/credentials#"
_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
#: statements of the credential itself that decide validity, status and issuer binding
DECISIVE_PREDICATES = frozenset(f"<{_VC}{p}>" for p in (
    "issuer", "validFrom", "validUntil", "credentialStatus", "issuanceDate", "expirationDate"))
_VC_TYPE = f"<{_VC}VerifiableCredential>"


def undisclosable_violations(mandatory: Sequence[str], non_mandatory: Sequence[str]) -> list[str]:
    """The revealed statements that decide validity, status or issuer binding but are not
    mandatory -- i.e. the issuer let the holder choose whether to show them.

    A holder who may withhold ``validUntil`` or ``credentialStatus`` can make an expired or
    revoked credential look current, and a withheld statement leaves no trace in a derived
    proof. The verifier therefore refuses a credential whose issuer made any of them
    selectively disclosable, seen from the ones revealed: every statement of the credential
    node with a predicate in :data:`DECISIVE_PREDICATES`, and every statement about its status
    entries, must be mandatory; and ``issuer`` must be among the mandatory statements at all.
    """
    rows = [(nq, True) for nq in mandatory] + [(nq, False) for nq in non_mandatory]
    parsed = [(parse_nquads_terms(nq)[0], is_mandatory) for nq, is_mandatory in rows]
    credentials = {r[0] for r, _m in parsed if (r[1] == _RDF_TYPE and r[2] == _VC_TYPE)
                   or r[1] in (f"<{_VC}issuer>", f"<{_VC}credentialSubject>")}
    status_nodes = {r[2] for r, _m in parsed if r[0] in credentials and r[1] == f"<{_VC}credentialStatus>"}
    problems: list[str] = []
    for (subj, pred, _obj, _g), is_mandatory in parsed:
        if is_mandatory:
            continue
        if subj in credentials and pred in DECISIVE_PREDICATES:
            problems.append(f"{pred.strip('<>').rsplit('#', 1)[-1]} is selectively disclosable")
        elif subj in status_nodes:
            problems.append(f"a credentialStatus statement ({pred.strip('<>').rsplit('#', 1)[-1]}) is "
                            "selectively disclosable")
    if not problems and not any(r[0] in credentials and r[1] == f"<{_VC}issuer>" for r, m in parsed if m):
        problems.append("the issuer is not a mandatory statement")
    return problems


def create_verify_data(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    *,
    hash_name: HashName = "sha256",
    loader: OfflineLoader | None = None,
) -> VerifyData:
    """createVerifyData (verifier); ``document`` is the reveal document without proof."""
    config_canon = canonical_proof_config(proof, document, hash_name, loader)
    proof_hash = hashlib.new(hash_name, config_canon.encode("utf-8")).digest()
    derived = parse_derived_proof_value(proof.get("proofValue"))
    factory = create_label_map_function(derived.label_map)
    _, nquads = label_replacement_canonicalize_json_ld(document, factory, hash_name, loader)
    wanted = set(derived.mandatory_indexes)
    if any(i >= len(nquads) for i in wanted):
        raise ProofError("a mandatory index is out of range")
    mandatory = [nq for i, nq in enumerate(nquads) if i in wanted]
    non_mandatory = [nq for i, nq in enumerate(nquads) if i not in wanted]
    return VerifyData(
        derived.base_signature,
        proof_hash,
        derived.public_key,
        derived.signatures,
        non_mandatory,
        hash_mandatory_nquads(mandatory, hash_name),
        mandatory,
    )


def verify_derived_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    issuer_key: PublicKey,
    *,
    loader: OfflineLoader | None = None,
) -> tuple[bool, str, str, tuple[str, ...]]:
    """Verify Derived Proof (ecdsa-sd-2023): (verified, code, reason, decisive statements the
    issuer left selectively disclosable -- see :func:`undisclosable_violations`; the proof
    itself is valid whatever they are, the verifier's policy decides)."""
    hash_name = _curve_hash(issuer_key.key_type)
    data = create_verify_data(document, proof, hash_name=hash_name, loader=loader)
    if len(data.signatures) != len(data.non_mandatory):
        return False, "signature_invalid", (
            f"signature count ({len(data.signatures)}) does not match the non-mandatory "
            f"statement count ({len(data.non_mandatory)})"
        ), ()
    scoped = public_key_from_multikey_bytes(data.public_key)
    if scoped.key_type != "p256":
        return False, "signature_invalid", "the proof-scoped key is not P-256", ()
    to_verify = serialize_sign_data(data.proof_hash, data.public_key, data.mandatory_hash)
    if not issuer_key.verify(data.base_signature, to_verify):
        return False, "signature_invalid", ("base signature does not match the mandatory statements and "
                                            "proof options"), ()
    for i, (sig, nq) in enumerate(zip(data.signatures, data.non_mandatory, strict=True)):
        if not scoped.verify(sig, nq.encode("utf-8")):
            return False, "signature_invalid", f"signature {i} does not match its disclosed statement", ()
    return True, "ok", "ok", tuple(undisclosable_violations(data.mandatory, data.non_mandatory))
