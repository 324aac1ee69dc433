"""The bundled JSON Schemas: two validators, one verdict (skillcred.schemas).

Why: ``jsonschema-rs`` decides whether a document matches (microseconds instead of a third of
a millisecond per credential), and ``jsonschema``, the reference implementation, names the
error. If the fast validator accepted something the reference rejects, a credential that
breaks its schema would be signed or accepted. So these tests run *both* validators on valid
documents of every bundled schema and on many broken variants of them, and require:

* every document the reference rejects is rejected by the fast validator;
* a document only the fast validator rejects breaks a ``format`` (``uri``), which the
  reference leaves unchecked without optional packages;
* the valid documents pass both (so the comparison is not vacuous);
* :func:`skillcred.schemas.validate` reports the reference's error and JSON path.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from conftest import REPO
from skillcred.did import key_did
from skillcred.errors import SchemaViolation, UnsupportedFeature
from skillcred.issuer import EvidenceInput, Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.schemas import (
    ACHIEVEMENT_DEFINITION,
    CREDENTIAL_SCHEMA_BY_KIND,
    SCHEMA_BASE,
    _registry,
    _schemas,
    validate,
)

EXAMPLES = REPO / "examples"
ACHIEVEMENTS = EXAMPLES / "achievements"


def reference_errors(doc: Any, schema_id: str) -> list[Any]:
    v = Draft202012Validator(_schemas()[schema_id], registry=_registry(), format_checker=FormatChecker())
    return list(v.iter_errors(doc))


def fast_errors(doc: Any, schema_id: str) -> list[Any]:
    """An independent jsonschema-rs validator (built here, not the module's cached one)."""
    registry = jsonschema_rs.Registry(list(_schemas().items()))
    v = jsonschema_rs.Draft202012Validator(_schemas()[schema_id], registry=registry, validate_formats=True)
    return list(v.iter_errors(doc))


@pytest.fixture(scope="module")
def valid_documents(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, dict[str, Any]]]:
    """Documents that must match their schema: issued credentials of every kind, the example
    achievement definitions, job profiles, the framework and the catalog."""
    import yaml

    folder = tmp_path_factory.mktemp("issuer") / "roc"
    init_issuer(folder, name="ROC Techniek", url="https://roc-techniek.example", passphrase=None)
    out: list[tuple[str, dict[str, Any]]] = []
    subject = key_did(KeyPair.generate("ed25519").public_key)
    kinds = {
        "diploma": ("mbo-verspaner-diploma.yaml", None, EvidenceInput()),
        "skill": ("cnc-programmeren.yaml", "3", EvidenceInput(workplace="Werkplaats", hours=40.0)),
        "on-the-job": ("plannen-en-organiseren.yaml", "2", EvidenceInput(
            narrative="Planned the week's jobs", assessor="M. Jansen", workplace="Metaal BV")),
    }
    with Issuer.open(folder, None) as iss:
        for kind, (file, level, evidence) in kinds.items():
            record, _ = iss.issue(load_achievement(ACHIEVEMENTS / file), subject, name="Jan de Vries",
                                  level=level, evidence=evidence)
            out.append((CREDENTIAL_SCHEMA_BY_KIND[kind], record.document))
    for path in sorted(ACHIEVEMENTS.glob("*.yaml")):
        out.append((ACHIEVEMENT_DEFINITION, yaml.safe_load(path.read_text(encoding="utf-8"))))
    for sub, schema in (("profiles", "job-profile.json"), ("frameworks", "skill-framework.json"),
                        ("catalogs", "training-catalog.json")):
        for path in sorted((EXAMPLES / sub).glob("*.json")):
            out.append((SCHEMA_BASE + schema, json.loads(path.read_text(encoding="utf-8"))))
    return out


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


_REPLACEMENTS: list[Any] = [None, 0, 1.5, True, "", "x", "not a uri", [], {}, ["x"], {"x": 1}, "did:foo:bar"]


def mutants(doc: dict[str, Any], rng: random.Random, n: int) -> list[dict[str, Any]]:
    """Broken variants: a value replaced, a key removed, an unknown key added."""
    paths = [p for p in _paths(doc) if p]
    out = []
    for _ in range(n):
        m = copy.deepcopy(doc)
        path = rng.choice(paths)
        parent = _get(m, path[:-1])
        action = rng.random()
        if action < 0.6:
            parent[path[-1]] = copy.deepcopy(rng.choice(_REPLACEMENTS))
        elif action < 0.85 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent["unexpectedField"] = "x"
        else:
            parent.append(copy.deepcopy(rng.choice(_REPLACEMENTS)))
        out.append(m)
    return out


def test_valid_documents_pass_both_validators(valid_documents: list[tuple[str, dict[str, Any]]]) -> None:
    assert len(valid_documents) >= 10
    for schema_id, doc in valid_documents:
        assert reference_errors(doc, schema_id) == [], schema_id
        assert fast_errors(doc, schema_id) == [], schema_id
        validate(doc, schema_id)


def test_the_fast_validator_rejects_everything_the_reference_rejects(
    valid_documents: list[tuple[str, dict[str, Any]]],
) -> None:
    rng = random.Random(8)
    rejected_by_reference = only_fast = 0
    for schema_id, doc in valid_documents:
        for m in mutants(doc, rng, 120):
            ref = reference_errors(m, schema_id)
            fast = fast_errors(m, schema_id)
            if ref:
                rejected_by_reference += 1
                assert fast, f"{schema_id}: the reference rejects, the fast validator accepts:\n{m}"
                with pytest.raises(SchemaViolation):
                    validate(m, schema_id)
            elif fast:
                only_fast += 1
                assert all(e.kind.__class__.__name__.endswith("Format") for e in fast), (
                    f"{schema_id}: only the fast validator rejects, not for a format: "
                    f"{[e.message for e in fast]}")
                with pytest.raises(SchemaViolation):
                    validate(m, schema_id)
            else:
                validate(m, schema_id)  # a harmless change (e.g. an optional field removed)
    # not vacuous: most mutants really broke the schema
    assert rejected_by_reference > 0.5 * 120 * len(valid_documents), rejected_by_reference
    assert only_fast > 0, "no mutant exercised the format check"


def test_validate_reports_the_reference_error_and_its_path(
    valid_documents: list[tuple[str, dict[str, Any]]],
) -> None:
    schema_id, doc = next((s, d) for s, d in valid_documents if s == CREDENTIAL_SCHEMA_BY_KIND["skill"])
    bad = copy.deepcopy(doc)
    bad["credentialSubject"]["achievement"]["achievementType"] = "Hobby"
    with pytest.raises(SchemaViolation) as exc:
        validate(bad, schema_id, source="cred.json")
    assert exc.value.json_path == "$.credentialSubject.achievement.achievementType"
    assert "'Hobby' is not one of ['Competency', 'Certification']" in exc.value.message
    assert exc.value.path == "cred.json"

    definition = next(d for s, d in valid_documents if s == ACHIEVEMENT_DEFINITION)
    extra = copy.deepcopy(definition)
    extra["favouriteColour"] = "blue"
    with pytest.raises(SchemaViolation, match=r"unknown field: .*favouriteColour"):
        validate(extra, ACHIEVEMENT_DEFINITION)


def test_a_format_error_only_the_fast_validator_sees_is_reported_with_its_path(
    valid_documents: list[tuple[str, dict[str, Any]]],
) -> None:
    schema_id, doc = next((s, d) for s, d in valid_documents if s == CREDENTIAL_SCHEMA_BY_KIND["diploma"])
    bad = copy.deepcopy(doc)
    bad["issuer"]["url"] = "roc-techniek dot example"
    assert reference_errors(bad, schema_id) == []  # the reference does not assert "uri"
    with pytest.raises(SchemaViolation) as exc:
        validate(bad, schema_id)
    assert exc.value.json_path == "$.issuer.url"
    assert "uri" in exc.value.message


def test_an_unknown_schema_is_never_fetched() -> None:
    with pytest.raises(UnsupportedFeature, match="not bundled"):
        validate({}, "https://example.org/schemas/other.json")


def test_every_bundled_schema_compiles_offline_and_nothing_else_is_fetched() -> None:
    registry = jsonschema_rs.Registry(list(_schemas().items()))
    for schema_id, schema in _schemas().items():
        validator = jsonschema_rs.Draft202012Validator(schema, registry=registry, offline=True)
        # every bundled schema requires fields (through its $refs too): {} must fail
        assert not validator.is_valid({}), schema_id
    # a reference outside the bundled registry is an error, not a download
    with pytest.raises(jsonschema_rs.ValidationError, match="not present in a registry"):
        jsonschema_rs.Draft202012Validator({"$ref": "https://example.org/other.json"}, registry=registry,
                                           offline=True)


def test_schema_files_are_the_ones_in_the_repository() -> None:
    ids = {json.loads(p.read_text(encoding="utf-8"))["$id"] for p in (REPO / "schemas").glob("*.schema.json")}
    assert ids == set(_schemas())
    assert all(i.startswith(SCHEMA_BASE) for i in ids)
    assert Path(REPO / "schemas").is_dir()


def test_a_value_json_cannot_hold_is_reported_not_mistaken_for_a_schema_reference(
    valid_documents: list[tuple[str, dict[str, Any]]],
) -> None:
    """YAML turns an unquoted 2026-01-01 into a date: where the schema wants a string the
    reference names the field; where the schema does not look, it is still no JSON."""
    import datetime

    from skillcred.errors import MalformedDocument

    definition = copy.deepcopy(next(d for s, d in valid_documents if s == ACHIEVEMENT_DEFINITION))
    definition["achievement"]["name"] = datetime.date(2026, 1, 1)
    with pytest.raises(SchemaViolation) as violation:
        validate(definition, ACHIEVEMENT_DEFINITION, source="a.yaml")
    assert violation.value.json_path == "$.achievement.name"

    schema_id, doc = next((s, d) for s, d in valid_documents if s == CREDENTIAL_SCHEMA_BY_KIND["skill"])
    odd: dict[Any, Any] = {**doc, 1: "a key that is not a string"}  # the schema leaves extra keys open
    assert reference_errors(odd, schema_id) == []
    with pytest.raises(MalformedDocument, match="not a JSON document") as malformed:
        validate(odd, schema_id, source="c.json")
    assert malformed.value.path == "c.json"
