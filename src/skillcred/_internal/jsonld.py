"""JSON-LD to RDF, in safe mode, through the offline loader only.

Safe mode (the name jsonld.js uses) means: nothing the signature is supposed to cover may
silently fall out of the canonical form. pyld has no safe mode, so it is built here from
three checks on the expansion:

1. a property pyld drops (a term no context defines, with no ``@vocab``) is an error;
2. a property or type that lands in the VC 2.0 *issuer-dependent* vocabulary
   (``https://www.w3.org/ns/credentials/issuer-dependent#``, the v2 context's ``@vocab``) is an
   error: it is a term the contexts do not define, whose meaning nobody signed;
3. a relative IRI where an IRI is expected (``@id``, ``@type``, a datatype), which toRdf would
   drop, is an error.

pyld errors are translated into skillcred errors; an unknown context surfaces as
:class:`~skillcred.errors.UnknownContext` naming the URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyld import jsonld  # type: ignore[import-untyped]

from skillcred.errors import ContextError, SkillcredError, UnsafeDocument
from skillcred.loader import OfflineLoader, default_loader

ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"


class _RecordingProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """A pyld processor that keeps the expansion it computed while converting to RDF."""

    def __init__(self, dropped: list[str]) -> None:
        super().__init__(on_property_dropped=lambda p: dropped.append(str(p)))
        self.expanded: Any = None

    def expand(self, input_: Any, options: Any) -> Any:
        out = super().expand(input_, options)
        if self.expanded is None:
            self.expanded = out
        return out


def _is_absolute(iri: str) -> bool:
    return ":" in iri and not iri.startswith(":")


def _is_node_ref(iri: str) -> bool:
    return iri.startswith("_:") or _is_absolute(iri)


def _check_expanded(expanded: Any) -> None:
    """Walk the expanded form and refuse anything undefined or relative (see module doc)."""
    stack: list[Any] = [expanded]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        if "@value" in node:
            dt = node.get("@type")
            if isinstance(dt, str) and dt != "@json" and not _is_absolute(dt):
                raise UnsafeDocument(f"datatype {dt!r} is not an absolute IRI")
            if isinstance(dt, str) and dt.startswith(ISSUER_DEPENDENT):
                raise UnsafeDocument(
                    f"datatype {dt[len(ISSUER_DEPENDENT):]!r} is not defined by the document's contexts"
                )
            continue
        for key, value in node.items():
            if key == "@id":
                if isinstance(value, str) and not _is_node_ref(value):
                    raise UnsafeDocument(f"identifier {value!r} is not an absolute IRI")
            elif key == "@type":
                for t in value if isinstance(value, list) else [value]:
                    if isinstance(t, str):
                        if t.startswith(ISSUER_DEPENDENT):
                            raise UnsafeDocument(
                                f"type {t[len(ISSUER_DEPENDENT):]!r} is not defined by the "
                                "document's contexts"
                            )
                        if not _is_node_ref(t):
                            raise UnsafeDocument(f"type {t!r} is not defined by the document's contexts")
            elif key.startswith("@"):
                if key in ("@graph", "@list", "@set", "@included", "@reverse"):
                    stack.append(value)
            else:
                if key.startswith(ISSUER_DEPENDENT):
                    raise UnsafeDocument(
                        f"term {key[len(ISSUER_DEPENDENT):]!r} is not defined by the document's contexts"
                    )
                stack.append(value)


def _translate(exc: BaseException) -> SkillcredError:
    """Find our own error in pyld's cause chain, else describe pyld's error in one line."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    messages: list[str] = []
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, SkillcredError):
            return cur
        details = getattr(cur, "details", None)
        if isinstance(details, dict):
            cause = details.get("cause")
            if isinstance(cause, SkillcredError):
                return cause
        code = getattr(cur, "code", None)
        msg = str(getattr(cur, "message", "") or cur).splitlines()[0] if str(cur) else ""
        if code:
            messages.append(f"{code}: {msg}" if msg else str(code))
        elif msg:
            messages.append(msg)
        cur = cur.__cause__ or cur.__context__ or (details.get("cause") if isinstance(details, dict) else None)
    # the innermost message is the informative one ("protected term redefinition", ...)
    text = messages[-1] if messages else type(exc).__name__
    if "protected term redefinition" in text:
        return ContextError("a context redefines a protected term (protected term redefinition)")
    return ContextError(f"JSON-LD processing failed: {text}")


def to_rdf_dataset(
    document: Mapping[str, Any], *, loader: OfflineLoader | None = None, safe: bool = True
) -> dict[str, list[dict[str, Any]]]:
    """Convert a JSON-LD document to a pyld RDF dataset, offline and (by default) in safe mode."""
    if "@context" not in document:
        raise ContextError("document has no @context")
    dropped: list[str] = []
    proc = _RecordingProcessor(dropped)
    options = {
        "documentLoader": loader or default_loader(),
        "base": None,
        "produceGeneralizedRdf": False,
    }
    try:
        dataset = proc.to_rdf(dict(document), options)
    except RecursionError as exc:
        raise ContextError("document nests too deeply for JSON-LD processing") from exc
    except SkillcredError:
        raise
    except Exception as exc:  # pyld raises JsonLdError and, on odd input, builtins
        raise _translate(exc) from exc
    if safe:
        if dropped:
            names = ", ".join(sorted({repr(d) for d in dropped}))
            raise UnsafeDocument(f"term {names} is not defined by the document's contexts")
        _check_expanded(proc.expanded)
    return dataset  # type: ignore[no-any-return]
