"""``skillcred esco ...`` (the ESCO taxonomy: import, search, show) and ``skillcred profile new``
(a job profile from an ESCO occupation). Thin: everything is in :mod:`skillcred.esco`."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from skillcred._cli._common import EXIT_USAGE, errors_to_exit, fail, write_document
from skillcred.errors import EscoAmbiguous

_STORE_HELP = ("ESCO store file (default: the one `skillcred esco import` made, else the embedded "
               "ESCO v1.1.1 snapshot).")


def _taxonomy(store: str | None) -> Any:
    from skillcred.esco import default_taxonomy

    return default_taxonomy(store)


def _ambiguous(exc: EscoAmbiguous) -> None:
    """One error line, then the candidates (URI and label), then exit 2."""
    click.echo(f"skillcred: error: {exc}", err=True)
    for h in exc.candidates:
        click.echo(f"  {h.uri}  {h.label}" + (f"  (matched {h.matched!r})" if h.matched != h.label else ""), err=True)
    sys.exit(EXIT_USAGE)


@click.group("esco")
def esco() -> None:
    """The ESCO classification of occupations and skills (offline).

    \b
    This service uses the ESCO classification of the European Commission.
    The embedded taxonomy is a modified (compacted) version of ESCO v1.1.1; a newer
    official download imported with `skillcred esco import` takes precedence.
    """


@esco.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--store", type=click.Path(dir_okay=False), help="Write this store file instead of the user store.")
@click.option("--esco-version", help="The ESCO version, when the file names do not say it.")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@errors_to_exit
def esco_import(paths: tuple[str, ...], store: str | None, esco_version: str | None, as_json: bool) -> None:
    """Import an official ESCO CSV download (zips or folders; v1.1 or v1.2 layout).

    Give the classification zip(s) of the languages you want and the relations zip, of one
    ESCO version. The store is replaced only when the import is complete.
    """
    from skillcred.esco import import_download

    report = import_download(list(paths), store=store, version=esco_version)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    c = report.counts
    click.echo(f"Imported ESCO v{report.version} ({report.layout} layout, languages {', '.join(report.languages)}) "
               f"into {report.store}:")
    click.echo(f"  {c['occupation']:,} occupations, {c['skill']:,} skills, {c['skill-group']:,} skill groups, "
               f"{c['label']:,} labels")
    click.echo(f"  {c['relation']:,} occupation-skill relations, {c['broader']:,} skill hierarchy links, "
               f"{c['skill_relation']:,} skill-skill relations")
    for n in report.notes:
        click.echo(f"  note: {n}")


@esco.command("search")
@click.argument("query")
@click.option("--kind", type=click.Choice(["occupation", "skill", "skill-group"]), help="Only this kind of concept.")
@click.option("--lang", type=click.Choice(["nl", "en"]), help="Search and show labels in this language.")
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="A JSON array of {uri, kind, label, score}, best first.")
@click.option("--store", type=click.Path(exists=True, dir_okay=False), help=_STORE_HELP)
@errors_to_exit
def esco_search(query: str, kind: str | None, lang: str | None, limit: int, as_json: bool, store: str | None) -> None:
    """Find ESCO occupations and skills by label (preferred and alternative; accents and case folded)."""
    hits = _taxonomy(store).search(query, kind=kind, lang=lang, limit=limit)
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits], indent=2, ensure_ascii=False))
        return
    if not hits:
        click.echo(f"no ESCO {kind or 'concept'} matches {query!r}")
        sys.exit(1)
    for h in hits:
        also = f"  (matched {h.matched!r})" if h.matched != h.label else ""
        click.echo(f"{h.score:6.2f}  {h.kind:<11} {h.label}{also}\n        {h.uri}")


@esco.command("show")
@click.argument("uri")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="en", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--store", type=click.Path(exists=True, dir_okay=False), help=_STORE_HELP)
@errors_to_exit
def esco_show(uri: str, lang: str, as_json: bool, store: str | None) -> None:
    """One ESCO concept: labels, type, and its relations (skills of an occupation; broader and
    narrower skills; ESCO's skill-skill relations, which matching does not use)."""
    tax = _taxonomy(store)
    c = tax.concept(uri)
    out: dict[str, Any] = {"uri": c.uri, "kind": c.kind, "label": c.label(lang), "labels": c.labels,
                           "altLabels": {k: list(v) for k, v in c.alt_labels.items()}}
    if c.skill_type:
        out["skillType"] = c.skill_type
    if c.reuse_level:
        out["reuseLevel"] = c.reuse_level
    if c.kind == "occupation":
        out["skills"] = [{"uri": s.uri, "label": s.label, "essential": s.essential}
                         for s in tax.occupation_skills(uri, lang=lang)]
    else:
        out["broader"] = [{"uri": b, "label": tax.label(b, lang)} for b in tax.broader(uri)]
        out["narrower"] = [{"uri": n, "label": tax.label(n, lang)} for n in tax.narrower(uri)]
        if c.kind == "skill":
            out["needs"] = [{"uri": r, "label": tax.label(r, lang), "essential": e}
                            for r, e in tax.skill_relations(uri)]
            out["occupations"] = len(tax.skill_occupations(uri))
    out["esco"] = tax.notice()
    if as_json:
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    click.echo(f"{c.label(lang)}  [{c.kind}{', ' + c.skill_type if c.skill_type else ''}]\n  {c.uri}")
    alts = c.alt_labels.get(lang) or c.alt_labels.get("en") or ()
    if alts:
        click.echo(f"  also: {'; '.join(alts[:12])}{' ...' if len(alts) > 12 else ''}")
    for key, title in (("broader", "broader"), ("narrower", "narrower")):
        for item in out.get(key, []):
            click.echo(f"  {title}: {item['label']}  <{item['uri']}>")
    if c.kind == "occupation":
        ess = [s for s in out["skills"] if s["essential"]]
        click.echo(f"  {len(ess)} essential and {len(out['skills']) - len(ess)} optional skills:")
        for s in out["skills"]:
            click.echo(f"    {'essential' if s['essential'] else 'optional '}  {s['label']}  <{s['uri']}>")
    for item in out.get("needs", []):
        click.echo(f"  needs ({'essential' if item['essential'] else 'optional'}, not counted in matching): "
                   f"{item['label']}  <{item['uri']}>")
    click.echo(out["esco"])


@click.group("profile")
def profile() -> None:
    """Job profiles (the requirements of a vacancy)."""


@profile.command("new")
@click.option("--occupation", required=True, help="An ESCO occupation: its URI, or its exact label.")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="en", show_default=True,
              help="Language of the title and the labels (skills fall back to English: ESCO has no Dutch "
                   "skill labels in the embedded data).")
@click.option("--title", help="The vacancy's title (default: the occupation's label).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write the profile (- for stdout).")
@click.option("--store", type=click.Path(exists=True, dir_okay=False), help=_STORE_HELP)
@errors_to_exit
def profile_new(occupation: str, lang: str, title: str | None, output: str, store: str | None) -> None:
    """A job profile from an ESCO occupation: one requirement per ESCO skill of it.

    Essential skills are essential (weight 1), optional ones optional (weight 0.5). ESCO sets no
    levels: add "level": N to the requirements the vacancy needs at a level. An occupation
    label that names several occupations lists them and exits 2: pass the URI.
    """
    from skillcred.esco import job_profile

    tax = _taxonomy(store)
    try:
        doc = job_profile(tax, occupation, lang=lang, title=title)
    except EscoAmbiguous as exc:
        _ambiguous(exc)
        return
    from skillcred.match import PROFILE_SCHEMA
    from skillcred.schemas import validate

    validate(doc, PROFILE_SCHEMA, source=output)
    write_document(doc, output)
    if output != "-":
        ess = sum(r["essential"] for r in doc["requirements"])
        click.echo(f"wrote {output}: {doc['title']} ({ess} essential, {len(doc['requirements']) - ess} optional "
                   f"skills from ESCO; levels not set)", err=True)


__all__ = ["esco", "fail", "profile"]
