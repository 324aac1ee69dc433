"""The ranked hits of a pool search as HTML: one renderer for ``skillcred pool search --html``
(a printable file) and the operator's search page of ``skillcred serve --pool``, so both show
the same order, coverage, explanations and plan. No script, no external resource; every
value from the pool or the profile is escaped (:func:`.textsafe.bdi`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from skillcred._internal.textsafe import bdi, for_html

__all__ = ["STYLE", "hits_body", "hits_page"]

#: the page's one style sheet (the service's Content-Security-Policy allows exactly this text by hash)
STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}.met{color:#1a7f37}"
         ".partial{color:#9a6700}.missing{color:#a40e26}")


def hits_body(title: str, hits: Sequence[Any]) -> str:
    """The heading, the count and one section per hit (``PoolHit``), best first: each
    requirement's status, the claim that met it and the inference chain, and the plan's hours."""
    items = []
    for i, h in enumerate(hits, 1):
        r = h.report
        rows = "".join(
            f"<li class='{x.status}'>{x.status}: {bdi(x.requirement.label)}"
            + (f" &mdash; {bdi(x.evidence.achievement)} ({bdi(x.evidence.issuer_name)})"
               + "".join(f"<br><small>via {bdi(s)}</small>" for s in x.evidence.inference)
               if x.evidence is not None else "") + "</li>"
            for x in r.requirements if x.requirement.essential or x.status != "missing")
        plan = f"; training plan {r.plan.total_hours:g} h" if r.plan is not None else ""
        items.append(f"<section><h2>{i}. {bdi(h.holder)}</h2><p>essential {r.essential_coverage:.0%}, "
                     f"score {r.score:.2f}{plan}</p><ul>{rows}</ul></section>")
    return f"<h1>{bdi(title)}</h1><p>{len(hits)} candidate(s)</p>" + "".join(items)


def hits_page(title: str, hits: Sequence[Any]) -> str:
    """A self-contained page (no script, no external resource; every value escaped)."""
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Pool search: {for_html(title)}</title><style>{STYLE}</style></head><body>"
            + hits_body(title, hits) + "</body></html>\n")
