"""The JSON-LD fast path (skillcred._internal.fastld) against the reference path (pyld).

Why: the fast path decides what gets hashed and signed, so it must agree with the reference
path on *every* input, byte for byte, or fall back to it. These tests compare the two on
thousands of generated documents (tests/fastld_corpus.py: varied shapes, nesting, arrays,
blank nodes, merged nodes, lists, named graphs, scoped contexts, language and typed literals,
numbers, IRIs and compact IRIs, unicode) and on hand-written safe-mode cases. "Agree" means:
the same rows in the same order with the same blank node labels (so RDFC-1.0 sees the same
input; the canonical N-Quads are compared too), or the same skillcred error with the same
message. Any difference fails.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from multiformats import multibase

import fastld_corpus
from skillcred._internal import base58, fastld, jsonld, rdfc
from skillcred.did import key_did_url
from skillcred.errors import ContextError, SkillcredError, UnknownContext, UnsafeDocument
from skillcred.keys import KeyPair
from skillcred.loader import OfflineLoader, default_loader
from skillcred.proofs import add_proof, check_proofs

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

#: generated documents per run: about 14 s for both paths together
N_MIXED = 4000
N_VALID = 2000


@pytest.fixture(autouse=True)
def _strict_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug inside the fast path must fail the test, not quietly fall back to pyld."""
    monkeypatch.setattr(jsonld, "STRICT", True)


def _outcome(doc: Any, *, fast: bool, loader: OfflineLoader | None = None) -> tuple[Any, ...]:
    try:
        return ("rows", jsonld.to_rdf_rows(doc, loader=loader or default_loader(), fast=fast))
    except SkillcredError as exc:
        return ("error", type(exc).__name__, str(exc))


def _compare(seeds: range, bad: float) -> tuple[int, int]:
    """Compare both paths on generated documents; returns (documents, handled by the fast path)."""
    handled = 0
    for seed in seeds:
        doc = fastld_corpus.generate(seed, bad)
        before = fastld.STATS["fast"]
        ref = _outcome(doc, fast=False)
        fast = _outcome(doc, fast=True)
        handled += fastld.STATS["fast"] - before
        assert fast == ref, f"seed {seed}: the fast path disagrees with pyld\n{doc!r}"
        if ref[0] == "rows" and seed % 5 == 0:
            # and so do the canonical forms (trivially, given equal rows; checked anyway)
            hash_name = "sha384" if seed % 2 else "sha256"
            assert rdfc.canonicalize_rows(fast[1], hash_algorithm=hash_name) == rdfc.canonicalize(
                rdfc_quads(doc), hash_algorithm=hash_name
            )
    return len(seeds), handled


def rdfc_quads(doc: Any) -> Any:
    from skillcred._internal.nquads import quads_from_pyld_dataset

    return quads_from_pyld_dataset(jsonld.to_rdf_dataset(doc))


def test_generated_documents_mixed_valid_and_invalid() -> None:
    """A third of the documents carry one mutation the reference path refuses or treats specially."""
    total, handled = _compare(range(N_MIXED), bad=0.33)
    # not vacuous: most documents really went through the fast path
    assert handled > 0.5 * total, (handled, total)


def test_generated_documents_valid_shapes() -> None:
    total, handled = _compare(range(10_000, 10_000 + N_VALID), bad=0.0)
    assert handled > 0.8 * total, (handled, total)


def test_expanded_form_is_pyld_expansion() -> None:
    """Stage by stage: the fast path's expansion is pyld's ``expand`` output."""
    from pyld import jsonld as pyld_jsonld

    loader = default_loader()
    compared = 0
    for seed in range(20_000, 20_300):
        doc = fastld_corpus.generate(seed)
        try:
            mine = fastld.expand(doc, loader)
        except fastld._NotHandled:
            continue
        ref = pyld_jsonld.JsonLdProcessor().expand(copy.deepcopy(doc), {"documentLoader": loader, "base": None})
        assert mine == ref, f"seed {seed}"
        compared += 1
    assert compared > 200


def _sample_credential() -> dict[str, Any]:
    return {
        "@context": [V2, OB],
        "id": "urn:uuid:5e1c1b2a-6b33-4a52-9a7c-59c2f7b1d0e1",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:example:roc", "type": ["Profile"], "name": "ROC"},
        "validFrom": "2025-07-04T00:00:00Z",
        "name": "Lassen",
        "credentialSubject": {
            "id": "did:example:jan",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://roc.example/badges/lassen",
                "type": ["Achievement"],
                "name": "MIG/MAG lassen",
                "criteria": {"narrative": "Praktijkexamen"},
                "alignment": [{"type": ["Alignment"], "targetName": "welding", "targetUrl": "http://data.europa.eu/esco/skill/x"}],
            },
        },
    }


SAFE_MODE_CASES: list[tuple[str, Any, type[SkillcredError], str]] = [
    ("undefined term (issuer-dependent vocab)", lambda d: d.__setitem__("favouriteColour", "blue"),
     UnsafeDocument, "favouriteColour"),
    ("undefined nested term", lambda d: d["credentialSubject"].__setitem__("lasNiveau", 3),
     UnsafeDocument, "lasNiveau"),
    ("undefined type", lambda d: d["type"].append("SkillBadge"), UnsafeDocument, "SkillBadge"),
    ("relative IRI as issuer", lambda d: d.__setitem__("issuer", "not an iri"), UnsafeDocument, "not an iri"),
    ("relative @id", lambda d: d["credentialSubject"].__setitem__("id", "jan"), UnsafeDocument, "jan"),
    ("date-shaped @id (pyld drops it)", lambda d: d["credentialSubject"].__setitem__("id", "2025-01-01T00:00:00Z"),
     UnsafeDocument, "2025-01-01"),
    ("issuer-dependent datatype",
     lambda d: d.__setitem__("name", {"@value": "x", "@type": "https://www.w3.org/ns/credentials/issuer-dependent#T"}),
     UnsafeDocument, "'T'"),
    ("unknown context", lambda d: d.__setitem__("@context", [V2, "https://evil.example/ctx.jsonld"]),
     UnknownContext, "evil.example"),
    ("protected redefinition (v1 after v2)",
     lambda d: d.__setitem__("@context", [V2, "https://www.w3.org/2018/credentials/v1"]),
     ContextError, "protected term"),
    ("protected redefinition (inline)", lambda d: d.__setitem__("@context", [V2, {"name": "https://evil.example/name"}]),
     ContextError, "protected term"),
    ("no @context", lambda d: d.pop("@context"), ContextError, "no @context"),
]


@pytest.mark.parametrize(("label", "mutate", "error", "needle"), SAFE_MODE_CASES, ids=[c[0] for c in SAFE_MODE_CASES])
def test_safe_mode_errors_are_the_same_on_both_paths(label: str, mutate: Any, error: type[SkillcredError],
                                                     needle: str) -> None:
    doc = _sample_credential()
    mutate(doc)
    ref = _outcome(doc, fast=False)
    fast = _outcome(doc, fast=True)
    assert ref[0] == "error" and ref[1] == error.__name__ and needle in ref[2], ref
    assert fast == ref
    # and through the public API, signing with the fast path on (the default)
    key = KeyPair.generate("ed25519")
    with pytest.raises(error, match=None) as info:
        add_proof(doc, key, verification_method=key_did_url(key.public_key))
    assert needle in str(info.value)


def test_typical_credentials_never_fall_back() -> None:
    """The documents skillcred itself signs and verifies go through the fast path."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from sign_verify import skill_credential  # type: ignore[import-not-found]

    key = KeyPair.generate("ed25519")
    docs = [_sample_credential(), skill_credential("did:example:roc", "did:example:jan")]
    before = dict(fastld.STATS)
    for doc in docs:
        signed = add_proof(doc, key, verification_method=key_did_url(key.public_key))
        assert check_proofs(signed).verified
    fallbacks = {k: v - before.get(k, 0) for k, v in fastld.STATS.items() if k.startswith("fallback")}
    assert not any(fallbacks.values()), fallbacks
    # 2 docs x (sign, verify) x (document, proof options), each from the fast path or from the
    # shape's row plan (rdfplan: made from the fast path's rows, or filled in)
    handled = sum(fastld.STATS[k] - before.get(k, 0) for k in ("fast", "plan:hit", "plan:built"))
    assert handled == 8


def test_signatures_are_identical_on_both_paths() -> None:
    """Ed25519 is deterministic: the same key signs generated credentials to the same bytes."""
    from datetime import UTC, datetime

    key = KeyPair.generate("ed25519")
    vm = key_did_url(key.public_key)
    created = datetime(2025, 7, 4, 9, 30, tzinfo=UTC)
    signed = 0
    for seed in range(30_000, 30_040):
        doc = fastld_corpus.Gen(random.Random(seed)).credential(proof=False)
        try:
            with jsonld.reference_path():
                ref = add_proof(doc, key, verification_method=vm, created=created)
        except SkillcredError:
            continue
        ours = add_proof(doc, key, verification_method=vm, created=created)
        assert ours == ref, seed
        with jsonld.reference_path():
            assert check_proofs(ours).verified
        signed += 1
    assert signed > 20


def test_cache_is_per_loader_and_not_poisoned_by_mutation() -> None:
    url = "https://contexts.example/skill/v1"
    extra = OfflineLoader(extra={url: {"@context": {"skillLevel": "https://contexts.example/skill#level"}}})
    doc = {"@context": [V2, url], "type": "VerifiableCredential", "issuer": "did:example:roc",
           "credentialSubject": {"id": "did:example:jan", "skillLevel": "3"}}
    assert _outcome(doc, fast=True, loader=extra) == _outcome(doc, fast=False, loader=extra)
    assert _outcome(doc, fast=True, loader=extra)[0] == "rows"
    # a loader that does not serve the URL: an unknown context on both paths
    plain = OfflineLoader()
    assert _outcome(doc, fast=True, loader=plain)[:2] == ("error", "UnknownContext")
    # an embedded context object mutated after use must not change later results
    inline = {"lvl": "https://contexts.example/skill#level"}
    doc2 = {"@context": [V2, inline], "type": "VerifiableCredential", "issuer": "did:example:roc",
            "credentialSubject": {"id": "did:example:jan", "lvl": "3"}}
    first = _outcome(doc2, fast=True)
    assert first[0] == "rows" and first == _outcome(doc2, fast=False)
    inline["lvl"] = "https://evil.example/other"
    doc3 = {**doc2, "@context": [V2, {"lvl": "https://contexts.example/skill#level"}]}
    assert _outcome(doc3, fast=True) == first == _outcome(doc3, fast=False)
    changed = _outcome(doc2, fast=True)
    assert changed == _outcome(doc2, fast=False) != first
    assert "https://evil.example/other" in str(changed)


def test_base58_is_multibase() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        data = bytes(rng.choice([0, 0, 255, rng.randint(0, 255)]) for _ in range(rng.randint(0, 70)))
        text = multibase.encode(data, "base58btc")
        assert base58.encode(data) == text
        assert base58.decode(text) == data
    for bad in ("", "z0", "zl", "zO", "zI", "z ", "z\u00e9", "m123", 5):
        with pytest.raises(ValueError):
            base58.decode(bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# rows_memo: a verification converts each document once


def _signed_vc(seed: int) -> dict[str, Any]:
    key = KeyPair.generate("ed25519")
    doc = {"@context": [V2, OB], "id": f"urn:uuid:00000000-0000-4000-8000-{seed:012d}",
           "type": ["VerifiableCredential", "OpenBadgeCredential"],
           "issuer": {"id": "did:example:roc", "type": ["Profile"], "name": "ROC"},
           "validFrom": "2026-01-01T00:00:00Z",
           "credentialSubject": {"id": "did:example:jan", "type": ["AchievementSubject"],
                                 "achievement": {"id": "https://roc.example/a/1", "type": ["Achievement"],
                                                 "name": "CNC", "description": "d",
                                                 "criteria": {"narrative": "n"}}}}
    return add_proof(doc, key, verification_method=key_did_url(key.public_key))


def test_rows_memo_returns_what_converting_again_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = fastld.to_rows
    monkeypatch.setattr(fastld, "to_rows", lambda d, loader: (calls.append(1), real(d, loader))[1])
    doc = _signed_vc(1)
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    expected = jsonld.to_rdf_rows(unsecured, fast=False)
    calls.clear()  # signing converted too
    with jsonld.rows_memo():
        first = jsonld.to_rdf_rows(unsecured)
        again = jsonld.to_rdf_rows({k: v for k, v in doc.items() if k != "proof"})  # a new top-level object
        assert first == again == expected
        assert len(calls) == 1, "the second conversion should come from the memo"
        # a different top-level value is a different document
        changed = {**unsecured, "validFrom": "2026-02-01T00:00:00Z"}
        assert jsonld.to_rdf_rows(changed) == jsonld.to_rdf_rows(changed, fast=False)
        assert len(calls) == 2
        # True and 1 are different JSON (and different RDF)
        with_int = {**unsecured, "name": 1}
        with_bool = {**unsecured, "name": True}
        for d in (with_int, with_bool):
            try:
                jsonld.to_rdf_rows(d)
            except SkillcredError:
                pass
        assert len(calls) == 4
        # the reference path is never answered from the memo
        assert jsonld.to_rdf_rows(unsecured, fast=False) == expected
        # what is returned can be changed by the caller without changing the memo
        first.clear()
        assert jsonld.to_rdf_rows(unsecured) == expected
    # nothing outlives the block
    jsonld.to_rdf_rows(unsecured)
    assert len(calls) == 5


def test_rows_memo_is_per_loader() -> None:
    url = "https://contexts.example/skill/v1"
    a = OfflineLoader(extra={url: {"@context": {"lvl": "https://contexts.example/skill#a"}}})
    b = OfflineLoader(extra={url: {"@context": {"lvl": "https://contexts.example/skill#b"}}})
    doc = {"@context": [V2, url], "type": "VerifiableCredential", "issuer": "did:example:roc",
           "credentialSubject": {"id": "did:example:jan", "lvl": "3"}}
    with jsonld.rows_memo():
        ra = jsonld.to_rdf_rows(doc, loader=a)
        rb = jsonld.to_rdf_rows(doc, loader=b)
    assert "<https://contexts.example/skill#a>" in str(ra)
    assert "<https://contexts.example/skill#b>" in str(rb)


def test_a_verifier_run_converts_each_signed_document_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The terms check and the proof canonicalization share the conversion (issue 8)."""
    from skillcred.verify import VerificationPolicy, Verifier

    calls: list[int] = []
    real = fastld.to_rows
    monkeypatch.setattr(fastld, "to_rows", lambda d, loader: (calls.append(1), real(d, loader))[1])
    doc = _signed_vc(2)
    calls.clear()  # signing converted too
    hits = fastld.STATS["plan:hit"]
    result = Verifier(VerificationPolicy()).assess(doc)  # no status entry: nothing to look up
    assert any(c.id == "credential.terms" and c.status == "passed" for c in result.report.checks)
    assert any(c.id == "credential.proof" and c.status == "passed" for c in result.report.checks)
    # the credential without its proof, and the proof configuration: two conversions, not four;
    # or none, when signing made their shapes' row plans (rdfplan): each part then comes from
    # its plan, filled in once for the terms check and the proof together (jsonld.planned_rows)
    assert (len(calls), fastld.STATS["plan:hit"] - hits) in {(2, 0), (0, 2)}


def test_inside_a_rows_memo_presentations_and_their_credentials_match_pyld() -> None:
    """Within rows_memo the fast path reuses the expansions of JSON objects it has seen (a
    presentation's credentials, expanded again for their own proofs). Generated credentials,
    wrapped in presentations and converted the way a verifier does (the presentation, then
    each credential without its proof, then again), must still match pyld row for row."""
    rng = random.Random(88)
    compared = 0
    for round_ in range(60):
        creds = []
        for i in range(rng.randint(1, 4)):
            doc = fastld_corpus.generate(10_000 + round_ * 10 + i, 0.1)
            if _outcome(doc, fast=False)[0] == "rows":
                creds.append(doc)
        if not creds:
            continue
        vp = {"@context": [V2], "type": ["VerifiablePresentation"], "holder": "did:example:jan",
              "verifiableCredential": creds}
        expected_vp = _outcome(vp, fast=False)
        expected = [_outcome({k: v for k, v in c.items() if k != "proof"}, fast=False) for c in creds]
        with jsonld.rows_memo():
            for _ in range(2):
                assert _outcome(vp, fast=True) == expected_vp, f"round {round_}: presentation differs"
                for c, exp in zip(creds, expected, strict=True):
                    got = _outcome({k: v for k, v in c.items() if k != "proof"}, fast=True)
                    assert got == exp, f"round {round_}: credential differs inside the memo\n{c!r}"
                    compared += 1
        # and the memo changed nothing for the next conversion outside it
        assert _outcome(vp, fast=True) == expected_vp
    assert compared > 100, compared
