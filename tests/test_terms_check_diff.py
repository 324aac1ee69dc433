"""The terms check's decision shared by shape (issue 22 item 1) against the reference path.

Why: inside one verification, :func:`skillcred._internal.fastld.check` now expands each
*shape* of document once (``fastld.SHAPE_MEMO``): a presentation's credentials differ in ids,
subjects and proof values, and an object of the same shape as one expanded before gets that
expansion for its decision. "The same shape" keeps every key, number and context exactly
and lets two families of strings differ (plain words, ``scheme:head:tail``) only by a class.
If that were too loose, a document whose own strings make it unsafe would inherit the
acceptance of an earlier, safe one. So every test here runs *twins* through one
:func:`~skillcred._internal.jsonld.rows_memo` (the original first, so its expansion is
remembered, then documents of the same or almost the same shape) and asks, for each, the
decision of the reference path (pyld toRdf in safe mode) computed on its own: generated
documents valid and invalid (tests/fastld_corpus.py), presentations of twins, every vendored
vector, and hand-written attacks per string family (undefined types, terms named like the
varying string, prefixes that expand into the issuer-dependent namespace, relative IRIs,
language tags, doubles, blank nodes, lists, @json, scoped contexts, protected terms).

The same obligation for the process-wide decision memo (``fastld._fingerprint``, the shape
rule written out as one hashable value, per universe of contexts): twins checked in separate
verifications, one after another, get the reference decision each; twins that differ only
where the decision changes (an undefined term or type at every depth, a relative IRI, a
protected redefinition, a scoped context, ``@json``, lists) never share a fingerprint with
their safe original; and a remembered decision never crosses to another context set.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from typing import Any

import pytest

import fastld_corpus
from conftest import VECTORS, vectors_dir
from skillcred._internal import fastld, jsonld
from skillcred.errors import SkillcredError
from skillcred.loader import OfflineLoader
from skillcred.proofs import signed_parts

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: generated originals (each with three twins: thousands of decisions in all)
N_GENERATED = 750

#: strings put in place of a twin's strings regardless of their class: terms of the bundled
#: contexts, compact IRIs through defined prefixes, relative and blank-node identifiers,
#: the issuer-dependent namespace, language tags good and bad, doubles good and bad
ADVERSARIAL = [
    "name", "type", "id", "VerifiableCredential", "Achievement", "AchievementSubject", "Profile",
    "knows", "ex", "xsd", "cred", "relative", "rel-ative.2", "_:b0", "_:x:y", "ex:foo", "ex:a:b",
    "xsd:double", "xsd:x:y", "cred:a:b", "did:key:z6Mk", "did:key:", "did::x", "urn:uuid:1-2",
    "urn:a:b:c", "https://example.org/x", "https:x:y", "1x:y:z", "a b", "en", "EN-us", "en_us",
    "1en", "e-", "12", "1e5", "inf", "nan", "1_0", "0x10", "-", ".", "%", "ISSUER", "Z",
    ISSUER_DEPENDENT + "x", "@id", "@type", "@json", "",
]

#: same-class replacements are drawn from these alphabets
_WORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%-"


@pytest.fixture(autouse=True)
def _strict_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug inside the fast check must fail the test, not quietly fall back to pyld."""
    monkeypatch.setattr(jsonld, "STRICT", True)


@pytest.fixture
def shape_hits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """[objects looked up by shape, of them expanded afresh]: hits = the difference. The
    process-wide decision memo is off here (no fingerprints), so the shape memo decides."""
    monkeypatch.setattr(fastld, "_fingerprint", lambda document, uni: None)
    counts = [0, 0]
    real_by_shape, real_uncached = fastld._expand_by_shape, fastld._expand_uncached

    def by_shape(*args: Any) -> Any:
        counts[0] += 1
        return real_by_shape(*args)

    def uncached(ctx: Any, prop: Any, element: Any, inside_list: bool, pt: Any) -> Any:
        if type(element) is dict and "@context" in element:
            counts[1] += 1
        return real_uncached(ctx, prop, element, inside_list, pt)

    monkeypatch.setattr(fastld, "_expand_by_shape", by_shape)
    monkeypatch.setattr(fastld, "_expand_uncached", uncached)
    return counts


Outcome = tuple[Any, ...]


def _reference(doc: Any) -> Outcome:
    """The RDF-based decision of the reference path, taken on its own (no memo)."""
    try:
        jsonld.to_rdf_rows(doc, fast=False)
    except SkillcredError as exc:
        return ("error", type(exc).__name__, exc.code, str(exc))
    return ("ok",)


def _without_rdf(doc: Any) -> Outcome:
    try:
        jsonld.check_terms(doc, rdf=False)
    except SkillcredError as exc:
        return ("error", type(exc).__name__, exc.code, str(exc))
    return ("ok",)


def _compare_in_one_memo(label: str, docs: list[Any]) -> list[Outcome]:
    """Each document's decision inside one rows memo, in order, against its own reference."""
    expected = [_reference(d) for d in docs]
    with jsonld.rows_memo():
        for i, (doc, exp) in enumerate(zip(docs, expected, strict=True)):
            got = _without_rdf(doc)
            assert got == exp, f"{label}, document {i}: {got} but the reference says {exp}\n{doc!r}"
    return expected


# --------------------------------------------------------------------------------------------
# Twins: the same document with some strings replaced


def _string_slots(doc: Any) -> list[tuple[Any, Any]]:
    """(container, key) of every string outside ``@context`` values."""
    out: list[tuple[Any, Any]] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            if k == "@context":
                continue
            if isinstance(v, str):
                out.append((node, k))
            elif isinstance(v, dict | list):
                stack.append(v)
    return out


def _same_class_string(rng: random.Random, s: str) -> str | None:
    """Another string the shape treats like ``s`` (of its family and class), if there is one."""
    want = fastld._string_class(s)
    if want is None:
        return None
    head = want[1] if want[0] == 2 else ""
    for _ in range(40):
        tail = "".join(rng.choice(_WORD) for _ in range(rng.randint(1, 12)))
        if rng.random() < 0.2:
            tail = rng.choice(["12", "1e5", "inf", "nan", "en", "nl-NL", "x-y", "Achievement", "name"][
                :7 if rng.random() < 0.5 else 9])  # sometimes a term name: no longer the same shape
        cand = head + tail
        if cand != s and fastld._string_class(cand) == want:
            return cand
    return None


def _twin(rng: random.Random, doc: dict[str, Any], adversarial: bool) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    slots = _string_slots(out)
    rng.shuffle(slots)
    changed = 0
    for node, key in slots:
        if adversarial:
            if changed < 2:
                node[key] = rng.choice(ADVERSARIAL)
                changed += 1
            continue
        new = _same_class_string(rng, node[key])
        if new is not None and rng.random() < 0.7:
            node[key] = new
            changed += 1
    return out


def test_generated_documents_and_their_twins_get_the_reference_decision(shape_hits: list[int]) -> None:
    rng = random.Random(8080)
    decisions = refused = 0
    for seed in range(90_000, 90_000 + N_GENERATED):
        doc = fastld_corpus.generate(seed, 0.3)
        twins = [_twin(rng, doc, False), _twin(rng, doc, False), _twin(rng, doc, True)]
        outcomes = _compare_in_one_memo(f"seed {seed}", [doc, *twins])
        decisions += len(outcomes)
        refused += sum(o[0] == "error" for o in outcomes)
    # not vacuous: thousands of decisions, many refusals, and many decided by a shape met before
    assert decisions >= 3000 and refused > 0.2 * decisions, (decisions, refused)
    assert shape_hits[0] - shape_hits[1] > 0.1 * N_GENERATED, shape_hits


def test_presentations_of_twins_match_the_reference(shape_hits: list[int]) -> None:
    """The way the verifier calls it: the presentation (whose credentials are expanded inside
    it, one shape shared), then each credential's signed parts, inside one memo."""
    rng = random.Random(4242)
    compared = 0
    for round_ in range(70):
        base = fastld_corpus.generate(91_000 + round_, 0.2)
        creds = [base] + [_twin(rng, base, rng.random() < 0.25) for _ in range(rng.randint(1, 5))]
        rng.shuffle(creds)
        vp = {"@context": [V2], "type": ["VerifiablePresentation"], "holder": "did:example:jan",
              "verifiableCredential": creds}
        parts = [vp, *(p for c in creds for p in signed_parts(c))]
        compared += len(_compare_in_one_memo(f"round {round_}", parts))
    assert compared > 300
    assert shape_hits[0] - shape_hits[1] > 20, shape_hits


# --------------------------------------------------------------------------------------------
# Every vendored vector, and twins of it


def _vector_documents() -> list[tuple[str, dict[str, Any]]]:
    vectors_dir()  # fails if the vendored folder is missing
    out = []
    for path in sorted(VECTORS.rglob("*.json*")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(doc, dict) and "@context" in doc:
            out.append((str(path.relative_to(VECTORS)), doc))
    return out


def test_every_vector_and_its_twins_get_the_reference_decision() -> None:
    docs = _vector_documents()
    assert len(docs) > 60, len(docs)
    rng = random.Random(77)
    total = 0
    for label, doc in docs:
        parts: list[Any] = [doc, *signed_parts(doc)]
        for part in list(parts):
            parts += [_twin(rng, part, False), _twin(rng, part, True)]
        total += len(_compare_in_one_memo(label, parts))
    assert total > 400, total


# --------------------------------------------------------------------------------------------
# Attacks per family: a first document primes the memo, a second of (almost) its shape must
# still get its own decision


def _credential(**subject: Any) -> dict[str, Any]:
    return {
        "@context": [V2, OB],
        "id": "urn:uuid:3f6a1d2e-8c47-4b0a-9e51-7d2c6b8f0a14",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "type": ["Profile"],
                   "name": "ROC"},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH",
                              "type": ["AchievementSubject"],
                              "achievement": {"id": "https://example.org/a", "type": ["Achievement"],
                                              "name": "Lassen", "criteria": {"narrative": "x"}, **subject}},
    }


def _with_context(extra: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    return {"@context": [V2, extra], **body}


EX = "https://example.org/vocab#"
#: an absolute IRI the reference path refuses to write (N-Quads IRIs cannot hold braces)
UNWRITABLE = "https://example.org/{b}/"
#: documents of one context where only a string of the families varies (original first)
FAMILY_ATTACKS: list[tuple[str, Callable[[str], dict[str, Any]], list[str]]] = [
    # a type that is no term goes through @vocab; one named like a term gets the term's meaning
    ("type: words, some named like an issuer-dependent term",
     lambda t: _with_context({"@vocab": EX, "evil": f"{ISSUER_DEPENDENT}evil"}, {"type": t, "id": "urn:x:1"}),
     ["good", "evil", "good2", "Evil", "evil"]),
    ("type: without @vocab every word but a term is undefined",
     lambda t: _with_context({"Known": f"{EX}Known"}, {"type": t}),
     ["Known", "Unknown", "Known", "known"]),
    # an identifier through a prefix that expands into the issuer-dependent namespace
    ("@id: a prefix into an IRI nobody can write",
     lambda i: _with_context({"bad": UNWRITABLE, "ex": EX}, {"id": i, "type": "VerifiableCredential"}),
     ["ex:a:b", "bad:a:b", "ex:c:d", "bad:x:y", "ex:zz:b"]),
    ("@id: relative words and blank nodes",
     lambda i: {"@context": [V2], "id": i, "type": "VerifiableCredential"},
     ["urn:uuid:1", "relative", "urn:uuid:2", "_:b1", "did:key:z6Mk", "did:key:z 6", "did:web:x"]),
    ("@vocab-typed value: a term or @vocab + word",
     lambda v: _with_context({"@vocab": EX, "kind": {"@id": f"{EX}kind", "@type": "@vocab"},
                              "bad": f"{UNWRITABLE}bad"}, {"type": "Thing", "kind": v}),
     ["ok", "bad", "fine", "bad", "Fine"]),
    ("@id-typed value: words are relative, two colons expand through the prefix",
     lambda v: _with_context({"ex": EX, "bad": UNWRITABLE,
                              "ref": {"@id": f"{EX}ref", "@type": "@id"}}, {"type": "VerifiableCredential", "ref": v}),
     ["ex:a:b", "word", "ex:b:c", "bad:a:b", "ex:x:y", "urn:a:b"]),
    ("@language: tags good and bad",
     lambda lang: _with_context({"label": f"{EX}label"},
                                {"type": "VerifiableCredential", "label": {"@value": "x", "@language": lang}}),
     ["en", "nl-NL", "1en", "en-", "de", "e1"]),
    ("xsd:double-typed strings: numbers and words",
     lambda v: _with_context({"size": {"@id": f"{EX}size", "@type": f"{XSD}double"}},
                             {"type": "VerifiableCredential", "size": v}),
     ["1.5", "abc", "2e3", "inf", "x1", "nan", "12"]),
    ("@json and @list values",
     lambda v: _with_context({"data": {"@id": f"{EX}data", "@type": "@json"},
                              "tags": {"@id": f"{EX}tags", "@container": "@list", "@type": "@id"}},
                             {"type": "VerifiableCredential", "data": {"k": v}, "tags": [v, "urn:a:b"]}),
     ["urn:x:y", "word", "urn:z:q", "ex:a:b"]),
    ("type-scoped context: a type that is a term brings its own terms",
     lambda t: _with_context({"@vocab": EX, "Scoped": {"@id": f"{EX}Scoped", "@context": {
         "inner": f"{ISSUER_DEPENDENT}inner"}}}, {"type": t, "inner": "v"}),
     ["Plain", "Scoped", "Other", "Scoped"]),
    ("protected terms: the same word as a type or a value",
     lambda t: {"@context": [V2, OB, {"@vocab": EX}], "type": ["VerifiableCredential", t],
                "credentialSubject": {"type": t}},
     ["Thing", "AchievementSubject", "Widget", "Achievement"]),
    ("Open Badges credential: subject ids and achievement words",
     lambda s: _credential(achievementType=s, inLanguage=s),
     ["Badge", "Certificate", "Degree", "en", "nl-NL", "1x"]),
]


@pytest.mark.parametrize(("label", "make", "values"), FAMILY_ATTACKS, ids=[a[0] for a in FAMILY_ATTACKS])
def test_attacks_per_family_get_their_own_decision(label: str, make: Callable[[str], dict[str, Any]],
                                                   values: list[str]) -> None:
    """Each value in turn primes the memo (twice: the first time its context may still be
    new, and an expansion that met new terms is not remembered), then every other value
    must get its own decision, whichever was primed: an accepted primer must not pass an
    unsafe twin, nor a refused one fail a safe twin."""
    for i, primer in enumerate(values):
        others = [make(v) for j, v in enumerate(values) if j != i]
        outcomes = _compare_in_one_memo(f"{label}, primed with {primer!r}", [make(primer), make(primer), *others])
        assert len(outcomes) == len(values) + 1


def test_the_attacks_are_not_vacuous() -> None:
    """Most attack lists mix acceptances and refusals: the memo has something to get wrong."""
    mixed = 0
    for _label, make, values in FAMILY_ATTACKS:
        kinds = {_reference(make(v))[0] for v in values}
        mixed += kinds == {"ok", "error"}
    assert mixed >= 8, mixed


def test_a_credential_in_a_presentation_with_an_unsafe_twin_is_refused_like_the_reference() -> None:
    """Nine credentials of one shape and a tenth whose type word is a term of an embedded
    context mapping to the issuer-dependent namespace: the presentation fails, exactly as
    the reference path says, wherever the twin sits."""
    ctx = [V2, {"@vocab": EX, "evil": f"{ISSUER_DEPENDENT}evil"}]
    good = [{"@context": ctx, "type": ["VerifiableCredential", f"Kind{i}"], "id": f"urn:uuid:{i}",
             "issuer": "did:example:i", "credentialSubject": {"id": f"did:key:z{i}"}} for i in range(9)]
    bad = copy.deepcopy(good[0])
    bad["type"] = ["VerifiableCredential", "evil"]
    for where in (0, 4, 9):
        creds = [*good[:where], bad, *good[where:]]
        vp = {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": creds}
        outcomes = _compare_in_one_memo(f"twin at {where}", [vp, *creds])
        assert outcomes[0][0] == "error" and outcomes[1 + where][0] == "error", outcomes
        assert sum(o == ("ok",) for o in outcomes) == 9


def test_the_shape_memo_never_serves_the_rdf_rows() -> None:
    """Expansions shared by shape stand for a decision only: the rows of each twin, taken
    inside the same memo after its check, are the reference path's rows for that twin."""
    a = _credential()
    b = copy.deepcopy(a)
    b["id"] = "urn:uuid:00000000-0000-4000-8000-000000000001"
    b["credentialSubject"]["id"] = "did:key:z6MkOther"
    with jsonld.rows_memo():
        for doc in (a, b):
            jsonld.check_terms(doc, rdf=False)
        rows = [jsonld.to_rdf_rows(doc) for doc in (a, b)]
    assert rows == [jsonld.to_rdf_rows(doc, fast=False) for doc in (a, b)]
    assert rows[0] != rows[1]


def test_outside_a_verification_nothing_is_shared() -> None:
    """Without a rows memo there is no shape memo: each check expands its document."""
    assert fastld.SHAPE_MEMO.get() is None and fastld.DECISION_MEMOS.get() is None
    with jsonld.rows_memo():
        assert fastld.DECISION_MEMOS.get() is not None
    assert fastld.DECISION_MEMOS.get() is None



# --------------------------------------------------------------------------------------------
# The process-wide decision memo: the same decisions across verifications


@pytest.fixture
def memo_hits() -> Callable[[], int]:
    """How many checks the process-wide memo has decided since the fixture was set up."""
    start = fastld.STATS["check-memo"]
    return lambda: fastld.STATS["check-memo"] - start


def _compare_one_by_one(label: str, docs: list[Any], loader: OfflineLoader | None = None) -> list[Outcome]:
    """Each document checked in a verification of its own (only the process-wide memo is
    shared between them), against the reference path's decision on it alone."""
    expected = [_reference_with(d, loader) for d in docs]
    for i, (doc, exp) in enumerate(zip(docs, expected, strict=True)):
        with jsonld.rows_memo():
            got = _without_rdf_with(doc, loader)
        assert got == exp, f"{label}, document {i}: {got} but the reference says {exp}\n{doc!r}"
    return expected


def _reference_with(doc: Any, loader: OfflineLoader | None) -> Outcome:
    try:
        jsonld.to_rdf_rows(doc, loader=loader, fast=False)
    except SkillcredError as exc:
        return ("error", type(exc).__name__, exc.code, str(exc))
    return ("ok",)


def _without_rdf_with(doc: Any, loader: OfflineLoader | None) -> Outcome:
    try:
        jsonld.check_terms(doc, loader=loader, rdf=False)
    except SkillcredError as exc:
        return ("error", type(exc).__name__, exc.code, str(exc))
    return ("ok",)


def test_generated_twins_in_separate_verifications_get_the_reference_decision(memo_hits: Callable[[], int]) -> None:
    """Originals, same-class twins and adversarial twins, each in its own verification, the
    original first and again last (so an accepted twin primes the memo for it too)."""
    rng = random.Random(5150)
    decisions = refused = 0
    for seed in range(92_000, 92_000 + N_GENERATED // 2):
        doc = fastld_corpus.generate(seed, 0.3)
        twins = [_twin(rng, doc, False), _twin(rng, doc, False), _twin(rng, doc, True)]
        outcomes = _compare_one_by_one(f"seed {seed}", [doc, doc, *twins, doc])
        decisions += len(outcomes)
        refused += sum(o[0] == "error" for o in outcomes)
    assert decisions >= 2000 and refused > 0.2 * decisions, (decisions, refused)
    assert memo_hits() > 0.5 * N_GENERATED, memo_hits()  # not vacuous: most repeats are memo hits


def test_family_attacks_in_separate_verifications_get_their_own_decision(memo_hits: Callable[[], int]) -> None:
    """Every hand-written attack family through the process-wide memo, each value primed
    (twice: the first time its inline context may be new) before all the others."""
    for label, make, values in FAMILY_ATTACKS:
        for i, primer in enumerate(values):
            others = [make(v) for j, v in enumerate(values) if j != i]
            _compare_one_by_one(f"{label}, primed with {primer!r}", [make(primer), make(primer), *others])
    assert memo_hits() > 50, memo_hits()


def _dicts(doc: Any) -> list[dict[str, Any]]:
    """Every object of ``doc`` outside ``@context`` values, outermost first."""
    out: list[dict[str, Any]] = []
    stack = [doc]
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            out.append(node)
            stack += [v for k, v in node.items() if k != "@context"]
        elif isinstance(node, list):
            stack += node
    return out


def _mutants(doc: dict[str, Any], change: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """One copy of ``doc`` per object ``change`` altered (the change made in that one only)."""
    out = []
    for at in range(len(_dicts(doc))):
        twin = copy.deepcopy(doc)
        if change(_dicts(twin)[at]):
            out.append(twin)
    return out


def _add_undefined_term(node: dict[str, Any]) -> bool:
    if "@value" in node or "@list" in node:
        return False
    node["undefinedTerm"] = "x"
    return True


def _undefine_type(node: dict[str, Any]) -> bool:
    if "type" not in node:
        return False
    node["type"] = ["NoSuchType"] if isinstance(node["type"], list) else "NoSuchType"
    return True


def _relative_id(node: dict[str, Any]) -> bool:
    if not isinstance(node.get("id"), str):
        return False
    node["id"] = "relative"
    return True


@pytest.mark.parametrize("change", [_add_undefined_term, _undefine_type, _relative_id],
                         ids=["undefined term", "undefined type", "relative id"])
def test_twins_unsafe_at_every_depth_are_refused_after_their_safe_original(
        change: Callable[[dict[str, Any]], bool], memo_hits: Callable[[], int]) -> None:
    """A safe credential primes the memo; the same credential made unsafe in one object, at
    every depth in turn, must get the reference path's refusal (never the memo's acceptance)."""
    original = _credential()
    assert _reference(original) == ("ok",)
    mutants = _mutants(original, change)
    assert len(mutants) >= 3, len(mutants)
    before = memo_hits()
    # three times: the first check may meet the contexts for the first time (not remembered)
    outcomes = _compare_one_by_one(change.__name__, [original, original, original, *mutants])
    assert memo_hits() - before >= 1  # the original's third check at least was a hit
    assert all(o[0] == "error" for o in outcomes[3:]), outcomes


#: safe / unsafe pairs that differ in one spot the decision depends on, beyond the families above
FEATURE_TWINS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("protected redefinition",
     {"@context": [V2, {"ex": EX}], "type": "VerifiableCredential", "ex:a": "x"},
     {"@context": [V2, {"ex": EX, "name": f"{EX}name"}], "type": "VerifiableCredential", "ex:a": "x"}),
    ("scoped context: a term defined in the scope only",
     _with_context({"Plain": f"{EX}Plain", "Scoped": {"@id": f"{EX}Scoped", "@context": {"inner": f"{EX}inner"}}},
                   {"type": "Scoped", "inner": "v"}),
     _with_context({"Plain": f"{EX}Plain", "Scoped": {"@id": f"{EX}Scoped", "@context": {"inner": f"{EX}inner"}}},
                   {"type": "Plain", "inner": "v"})),
    ("@json: a literal that is not JSON-LD, then a term outside it",
     _with_context({"data": {"@id": f"{EX}data", "@type": "@json"}}, {"type": "VerifiableCredential",
                                                                       "data": {"undefined": [1, 2.5]}}),
     _with_context({"data": {"@id": f"{EX}data"}}, {"type": "VerifiableCredential", "data": {"undefined": [1, 2.5]}})),
    ("lists: an IRI list, then a relative entry",
     _with_context({"tags": {"@id": f"{EX}tags", "@container": "@list", "@type": "@id"}},
                   {"type": "VerifiableCredential", "tags": ["urn:a:b", "urn:c:d"]}),
     _with_context({"tags": {"@id": f"{EX}tags", "@container": "@list", "@type": "@id"}},
                   {"type": "VerifiableCredential", "tags": ["urn:a:b", "c"]})),
    ("numbers: an integer, then a double datatype",
     _with_context({"n": {"@id": f"{EX}n", "@type": "http://www.w3.org/2001/XMLSchema#integer"}},
                   {"type": "VerifiableCredential", "n": 1}),
     _with_context({"n": {"@id": f"{EX}n", "@type": "http://www.w3.org/2001/XMLSchema#integer"}},
                   {"type": "VerifiableCredential", "n": "1", "m": True})),
    ("issuer-dependent: a compact IRI, then one into the issuer-dependent namespace",
     _with_context({"dep": ISSUER_DEPENDENT, "good": EX}, {"type": "VerifiableCredential", "good:a": "x"}),
     _with_context({"dep": ISSUER_DEPENDENT, "good": EX}, {"type": "VerifiableCredential", "dep:a": "x"})),
]


@pytest.mark.parametrize(("label", "safe", "unsafe"), FEATURE_TWINS, ids=[t[0] for t in FEATURE_TWINS])
def test_feature_twins_in_either_order_get_their_own_decision(label: str, safe: dict[str, Any],
                                                              unsafe: dict[str, Any]) -> None:
    safe_outcome, unsafe_outcome = _reference(safe), _reference(unsafe)
    assert safe_outcome == ("ok",) and unsafe_outcome[0] == "error", (safe_outcome, unsafe_outcome)
    _compare_one_by_one(label, [safe, safe, unsafe, unsafe, safe])
    _compare_one_by_one(label, [unsafe, safe, unsafe])


CTX_URL = "https://example.org/contexts/memo-test/v1"


def test_a_remembered_decision_never_crosses_to_another_context_set(memo_hits: Callable[[], int]) -> None:
    """The same document (the same fingerprint) under two loaders whose context of one URL
    defines the term differently: accepted under one, refused under the other, whichever
    loader saw it first and however often; the default loader does not know the URL at all."""
    doc = {"@context": [V2, CTX_URL], "type": ["VerifiableCredential", "Thing"], "id": "urn:uuid:1",
           "issuer": "did:example:i", "credentialSubject": {"id": "did:example:s", "skill": "welding"}}
    safe = OfflineLoader(extra={CTX_URL: {"@context": {"Thing": f"{EX}Thing", "skill": f"{EX}skill"}}})
    dependent = OfflineLoader(extra={CTX_URL: {"@context": {"Thing": f"{EX}Thing",
                                                            "skill": f"{ISSUER_DEPENDENT}skill"}}})
    undefined = OfflineLoader(extra={CTX_URL: {"@context": {"Thing": f"{EX}Thing"}}})
    for order in ([safe, dependent, undefined, None], [dependent, undefined, safe, None],
                  [None, undefined, safe, dependent]):
        for loader in order * 2:
            got = _compare_one_by_one(f"loader {order.index(loader)}", [doc, doc], loader)
            assert [o == ("ok",) for o in got] == [loader is safe] * 2, (order.index(loader), got)
    assert memo_hits() >= 5  # the safe loader's repeats were hits, and still only there


def test_a_presentation_verified_again_is_decided_by_the_memo(memo_hits: Callable[[], int]) -> None:
    """The verifier's own path: a presentation of twins, then the same and a fresh copy in
    later verifications; every signed part of the later ones is a memo hit, same decisions."""
    creds = []
    for i in range(6):  # twins: other ids and subjects, the same shape
        cred = _credential()
        cred["id"] = f"urn:uuid:3f6a1d2e-8c47-4b0a-9e51-7d2c6b8f0a{i:02d}"
        cred["credentialSubject"]["id"] = f"did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvk{i:02d}"
        creds.append(cred)
    vp = {"@context": [V2], "type": ["VerifiablePresentation"], "holder": "did:example:jan",
          "verifiableCredential": creds}
    parts = [vp, *(p for c in creds for p in signed_parts(c))]
    first = _compare_in_one_memo("first", parts)
    assert first == [("ok",)] * len(parts)
    _compare_in_one_memo("second", parts)  # the first may have met the contexts for the first time
    before = memo_hits()
    _compare_in_one_memo("again", parts)
    _compare_in_one_memo("a copy", copy.deepcopy(parts))
    assert memo_hits() - before == 2 * len(parts)


def test_the_memo_and_its_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fed by documents, so bounded: never more fingerprints or string tokens than the limits."""
    monkeypatch.setattr(fastld, "_ACCEPTED_LIMIT", 8)
    monkeypatch.setattr(fastld, "_TOKENS_LIMIT", 64)
    loader = OfflineLoader(extra={CTX_URL: {"@context": {"@vocab": EX}}})
    uni = None
    for i in range(40):
        doc = {"@context": [V2, CTX_URL], "type": "VerifiableCredential", f"k{i}": f"v {i}", "n": i,
               "ids": [f"urn:x:{i}-{j}" for j in range(5)]}
        assert _without_rdf_with(doc, loader) == ("ok",)
        uni = fastld._universe(loader)
        assert len(uni.accepted) <= 8 and len(uni.tokens) <= 64
    assert uni is not None and uni.accepted  # the recent ones are remembered


def test_documents_that_are_not_plain_json_get_no_fingerprint() -> None:
    """A non-string key or a value JSON has no type for: no fingerprint (the decision is worked
    out on the document itself, every time)."""
    uni = fastld._universe(OfflineLoader())
    base = {"@context": [V2], "type": "VerifiableCredential"}
    assert fastld._fingerprint(base, uni) is not None
    for odd in ({1: "x"}, {"a": ("tuple",)}, {"a": {"b": {1, 2}}}, {"a": [b"bytes"]}):
        assert fastld._fingerprint({**base, "credentialSubject": odd}, uni) is None, odd
    # 1, 1.0 and True, and a word and a term, are told apart
    prints = {fastld._fingerprint({**base, "n": v}, uni) for v in (1, 1.0, True, "1", None)}
    assert len(prints) == 5
