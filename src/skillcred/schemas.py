"""The bundled JSON Schemas, validated offline.

Schemas live in the top-level ``schemas/`` folder (packaged into the wheel) and are indexed by
their ``$id``. ``credentialSchema`` references in credentials resolve to these files, never to
the network; ``$ref`` between schemas resolves through the same registry.

Two validators, one verdict. ``jsonschema-rs`` (Rust) decides: it validates an Open Badges
credential in a few microseconds, where the pure-Python ``jsonschema`` takes about 0.3 ms, a
third of the cost of issuing one (issue 8). ``jsonschema`` (the reference implementation) runs
only for a document the fast validator rejected, to name the most relevant error with its
JSON path. The fast validator also asserts ``format`` (``"uri"``), which the reference leaves
unchecked without optional packages: it is the stricter of the two, and a document only it
rejects is reported with its message. ``tests/test_schemas.py`` runs both on valid and broken
documents and checks that every document the reference rejects is rejected.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

# jsonschema + referencing (~35 ms to import, a tenth of a cold `skillcred verify`) are imported
# only when the fast validator has rejected a document and the reference names the error, and
# jsonschema_rs (~20 ms: it loads decimal, email.utils, socket) when something is validated,
# so that reading the constants below (a wallet listing its credentials) costs nothing.
if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from referencing import Registry

from skillcred._internal.fileio import MAX_JSON_BYTES, read_bounded
from skillcred._internal.resources import data_dir
from skillcred.errors import MalformedDocument, SchemaViolation, UnsupportedFeature

__all__ = [
    "ACHIEVEMENT_DEFINITION",
    "CREDENTIAL_SCHEMA_BY_KIND",
    "SCHEMA_BASE",
    "known_schema_ids",
    "validate",
]

SCHEMA_BASE = "https://w3id.org/skillcred/schemas/v1/"
ACHIEVEMENT_DEFINITION = SCHEMA_BASE + "achievement-definition.json"
CREDENTIAL_SCHEMA_BY_KIND = {
    "diploma": SCHEMA_BASE + "diploma-credential.json",
    "skill": SCHEMA_BASE + "skill-credential.json",
    "on-the-job": SCHEMA_BASE + "on-the-job-credential.json",
}


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(data_dir("schemas").glob("*.schema.json")):
        schema = json.loads(read_bounded(path, max_bytes=MAX_JSON_BYTES).decode("utf-8"))
        out[schema["$id"]] = schema
    return out


@cache
def _registry() -> Registry:
    from referencing import Registry, Resource

    resources = [(sid, Resource.from_contents(s)) for sid, s in _schemas().items()]
    return Registry().with_resources(resources)


@cache
def _fast_validator(schema_id: str) -> Any:
    """The compiled ``jsonschema-rs`` validator of a bundled schema (offline: a ``$ref``
    outside the bundled registry is an error, never a fetch)."""
    import jsonschema_rs

    registry = jsonschema_rs.Registry(list(_schemas().items()))
    return jsonschema_rs.Draft202012Validator(
        _schemas()[schema_id], registry=registry, validate_formats=True, offline=True
    )


@cache
def _reference_validator(schema_id: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator, FormatChecker

    return Draft202012Validator(_schemas()[schema_id], registry=_registry(), format_checker=FormatChecker())


def known_schema_ids() -> list[str]:
    """Every schema ``$id`` bundled with skillcred."""
    return sorted(_schemas())


def _json_path(parts: Any) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _alternatives(err: Any) -> str:
    """A ``oneOf`` / ``anyOf`` failure in words: which of the alternative fields are needed and
    which were given (instead of the whole object "is not valid under any of the given
    schemas"), else the closest alternative's own error."""
    branches = err.validator_value if isinstance(err.validator_value, list) else []
    fields = [b["required"][0] for b in branches
              if isinstance(b, dict) and list(b) == ["required"] and len(b["required"]) == 1]
    if branches and len(fields) == len(branches):
        given = [f for f in fields if isinstance(err.instance, Mapping) and f in err.instance]
        names = ", ".join(repr(f) for f in fields)
        if not given:
            return f"needs one of {names}"
        return f"needs exactly one of {names}, not {' and '.join(repr(f) for f in given)}"
    if err.context:
        from jsonschema.exceptions import best_match  # only when an error is being named

        closest = best_match(err.context)
        return (f"matches none of the allowed forms; the closest fails at "
                f"{_json_path(closest.absolute_path)}: {closest.message}")
    return "matches more than one of the allowed forms (exactly one must match)"


def validate(document: Mapping[str, Any], schema_id: str, *, source: str | None = None) -> None:
    """Validate ``document`` against the bundled schema ``schema_id``.

    Raises :class:`SchemaViolation` for the most relevant error (with its JSON path),
    :class:`MalformedDocument` for a value JSON cannot hold where the schema names no error,
    or :class:`UnsupportedFeature` when the schema is not bundled (it is never fetched).
    """
    schema = _schemas().get(schema_id)
    if schema is None:
        raise UnsupportedFeature(f"JSON Schema {schema_id!r} is not bundled with skillcred (never fetched)")
    import jsonschema_rs

    try:
        if _fast_validator(schema_id).is_valid(document):
            return
        fast_error = next(iter(_fast_validator(schema_id).iter_errors(document)), None)
    except jsonschema_rs.ReferencingError as exc:
        raise UnsupportedFeature(f"schema reference cannot be resolved offline: {exc}") from exc
    except ValueError as exc:  # a value JSON cannot hold (a YAML date, a set, a non-string key)
        fast_error = None
        not_json: ValueError | None = exc
    else:
        not_json = None
    from referencing.exceptions import Unresolvable

    try:
        errors = sorted(_reference_validator(schema_id).iter_errors(document),
                        key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    except Unresolvable as exc:
        raise UnsupportedFeature(f"schema reference cannot be resolved offline: {exc}") from exc
    if errors:
        err = errors[0]
        where = _json_path(err.absolute_path)
        message = err.message
        if err.validator == "additionalProperties":
            message = f"unknown field: {err.message}"
        elif err.validator in ("oneOf", "anyOf"):
            message = _alternatives(err)
    elif not_json is not None:  # the reference found nothing to name either
        raise MalformedDocument(f"not a JSON document: {not_json}", path=source) from not_json
    else:  # only the fast validator objects (a "format" the reference does not assert)
        where = _json_path(fast_error.instance_path if fast_error is not None else ())
        message = fast_error.message if fast_error is not None else "does not match the schema"
    if len(message) > 160:
        message = message[:157] + "..."
    raise SchemaViolation(
        f"{where}: {message} (schema {schema_id.rsplit('/', 1)[-1]})",
        path=source,
        json_path=where,
        schema_id=schema_id,
    )
