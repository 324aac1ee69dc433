"""``skillcred pool``: the verified, consented talent pool (a thin layer over :mod:`skillcred.pool`)."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sys
from typing import Any

import click

from skillcred._cli._common import EXIT_NOT_VERIFIED, EXIT_OK, echo_json, errors_to_exit, fail, read_document, warn
from skillcred._cli.match_cmd import _framework, presentation_failure
from skillcred._cli.verify_cmd import _parse_at, build_verifier, verifier_options
from skillcred._internal.fileio import atomic_write
from skillcred._internal.textsafe import for_terminal
from skillcred.errors import InvalidArgument

POOL_ENV = "SKILLCRED_POOL"


def _target(pool: str | None) -> str:
    target = pool or os.environ.get(POOL_ENV)
    if not target:
        raise InvalidArgument(f"which pool? give --pool FILE|postgresql://... (or set ${POOL_ENV})")
    return target


def _operator(operator: str | None) -> str:
    if operator:
        return operator
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return "unknown"


_POOL = click.option("--pool", "pool", metavar="TARGET",
                     help=f"The pool: a SQLite file, or a postgresql:// URL (default ${POOL_ENV}).")
_OPERATOR = click.option("--operator", help="Who runs this (for the log; default: the login name).")


@click.group("pool")
def pool() -> None:
    """The talent pool: verified once, searched many times, with the candidate in control.

    \b
    pool add PRESENTATION...   verify and store what was disclosed (replaces earlier claims)
    pool search --profile F    ranked like 'rank', explained, with the training plan
    pool refresh               apply newer status lists; erase candidates whose consent ended
    pool remove / export       erasure and "what is held about me"; pool stats, pool log
    """


@pool.command("add")
@click.argument("presentations", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@_POOL
@click.option("--challenge", help="The challenge of the pool's request.")
@click.option("--domain", help="The pool's domain, as given to the candidates.")
@click.option("--consent-until", "consent_until", metavar="DATE",
              help="Consent ends at DATE (default: one year from now); the candidate then leaves the pool.")
@click.option("--region", help="Region code of the candidate (searchable, e.g. NL-UT).")
@click.option("--keep-evidence", is_flag=True, help="Also keep the raw presentation (default: only the claims).")
@click.option("--keep-names", is_flag=True,
              help="Keep a name the candidate disclosed in a credential (default: the holder DID only).")
@click.option("--at", "at", help="Verify as of this time (default now).")
@_OPERATOR
@verifier_options
@errors_to_exit
def pool_add(presentations: tuple[str, ...], pool: str | None, challenge: str | None, domain: str | None,
             consent_until: str | None, region: str | None, keep_evidence: bool, keep_names: bool, at: str | None,
             operator: str | None, trust_file: str | None, status_lists: tuple[str, ...], status_cache: str | None,
             did_documents: tuple[str, ...], unsafe_accept_unknown_status: bool, unsafe_no_challenge: bool) -> None:
    """Verify each PRESENTATION once and store only what was disclosed and verified.

    Exit 0 when every presentation was added, 1 when one did not verify (the others are
    added), 2 for unusable input (nothing is added).
    """
    from skillcred.pool import Pool

    target = _target(pool)
    docs = [(p, read_document(p)) for p in presentations]  # all readable, or nothing is added
    until = _parse_at(consent_until)
    when = _parse_at(at)
    no_challenge = unsafe_no_challenge
    no_domain: bool | None = None
    if challenge is None and not unsafe_no_challenge:
        warn("no --challenge: challenges are NOT checked, so a replayed presentation would not be noticed"
             + ("" if domain else "; nor are domains (no --domain)"))
        no_challenge = True
        if not domain:
            no_domain = True
    verifier = build_verifier(trust_file, status_lists, status_cache, did_documents,
                              unsafe_accept_unknown_status, no_challenge, unsafe_no_domain=no_domain)
    failed = 0
    with Pool.open(target) as p:
        for path, doc in docs:
            result = verifier.assess(doc, challenge=challenge, domain=domain, at=when, source=path)
            why = presentation_failure(result)
            if why is not None:
                failed += 1
                click.echo(f"NOT ADDED {for_terminal(path)}: {for_terminal(why)}")
                continue
            record = p.add(result, consent_until=until, region=region, keep_evidence=doc if keep_evidence else None,
                           keep_names=keep_names, operator=_operator(operator), at=when)
            n_claims = sum(len(c.claims) for c in record.credentials)
            click.echo(f"added {for_terminal(record.holder)}: {len(record.credentials)} credential(s), "
                       f"{n_claims} claim(s), consent until {record.consent_until}")
            for _i, cid, reason in result.rejected:
                click.echo(f"  not stored {for_terminal(str(cid))}: {for_terminal(reason)}")
    sys.exit(EXIT_NOT_VERIFIED if failed else EXIT_OK)


@pool.command("search")
@_POOL
@click.option("--profile", required=True, type=click.Path(exists=True, dir_okay=False), help="Job profile file.")
@click.option("--min-essential", metavar="K|FRACTION",
              help="Hits meet at least K essential requirements (or a fraction: 0.7, 70%); default all.")
@click.option("--region", "regions", multiple=True, help="Only candidates of this region. Repeatable.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--catalog", type=click.Path(exists=True, dir_okay=False), help="Training catalog: plan each gap.")
@click.option("--framework", "frameworks", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Skill framework(s), on top of ESCO's skill hierarchy. Repeatable.")
@click.option("--no-esco", is_flag=True, help="Do not use ESCO's skill hierarchy.")
@click.option("--at", "at", help="Evaluate as of this time (default now).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array, best candidate first.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Also write a printable page.")
@_OPERATOR
@errors_to_exit
def pool_search(pool: str | None, profile: str, min_essential: str | None, regions: tuple[str, ...], limit: int,
                catalog: str | None, frameworks: tuple[str, ...], no_esco: bool, at: str | None, as_json: bool,
                html_file: str | None, operator: str | None) -> None:
    """Candidates who meet the profile's essential requirements, ranked like 'rank' and explained."""
    from skillcred.match import load_catalog, load_profile
    from skillcred.pool import Pool, parse_min_essential

    target = _target(pool)
    prof = load_profile(profile)
    with open(profile, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    fw = _framework(frameworks, not no_esco)
    cat = load_catalog(catalog) if catalog else None
    with Pool.open(target, create=False) as p:
        hits = p.search(prof, framework=fw, catalog=cat, min_essential=parse_min_essential(min_essential),
                        regions=regions, limit=limit, at=_parse_at(at), operator=_operator(operator),
                        profile_digest=digest)
    if html_file:
        atomic_write(html_file, _html(prof.title, hits).encode("utf-8"))
    if as_json:
        echo_json(json.dumps([h.to_dict() for h in hits], indent=2, ensure_ascii=False))
        return
    click.echo(f"Pool search for {for_terminal(prof.title)}: {len(hits)} candidate(s)")
    for i, h in enumerate(hits, 1):
        r = h.report
        plan = f", training {r.plan.total_hours:g} h" if r.plan is not None else ""
        click.echo(f"{i:>3}. {for_terminal(h.holder)}  essential {r.essential_coverage:.0%}  score {r.score:.2f}"
                   f"{plan}")
        for rr in r.requirements:
            if rr.evidence is not None and rr.status != "missing":
                e = rr.evidence
                via = "; ".join(e.inference)
                click.echo(f"       {rr.status}: {for_terminal(rr.requirement.label)} by {for_terminal(e.achievement)}"
                           f" ({for_terminal(e.issuer_name)}){' via ' + for_terminal(via) if via else ''}")
        if h.missing:
            click.echo(f"       missing: {for_terminal(', '.join(h.missing))}")


def _html(title: str, hits: list[Any]) -> str:
    """The printable page (the library's renderer, shared with ``serve --pool``)."""
    from skillcred._internal.poolpage import hits_page

    return hits_page(title, hits)


@pool.command("refresh")
@_POOL
@click.option("--at", "at", help="Evaluate as of this time (default now).")
@click.option("--json", "as_json", is_flag=True)
@verifier_options
@errors_to_exit
def pool_refresh(pool: str | None, at: str | None, as_json: bool, trust_file: str | None,
                 status_lists: tuple[str, ...], status_cache: str | None, did_documents: tuple[str, ...],
                 unsafe_accept_unknown_status: bool, unsafe_no_challenge: bool) -> None:
    """Apply newer status lists (--status-list, the cache) to every stored credential in one
    pass, report what changed, and erase candidates whose consent ended."""
    from skillcred.pool import Pool

    if unsafe_accept_unknown_status or unsafe_no_challenge:
        fail("pool refresh judges status only: --unsafe-accept-unknown-status / --unsafe-no-challenge do not apply")
    target = _target(pool)
    verifier = build_verifier(trust_file, status_lists, status_cache, did_documents, False, False)
    with Pool.open(target, create=False) as p:
        report = p.refresh(verifier, at=_parse_at(at))
    if as_json:
        echo_json(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(f"checked {report.checked} status reference(s): {len(report.changed)} changed, "
               f"{len(report.unknown)} could not be judged; {report.expired_credentials} credential(s) expired; "
               f"{report.consent_ended} candidate(s) erased (consent ended)")
    for c in report.changed:
        click.echo(f"  {for_terminal(c['holder'])} {for_terminal(c['credential'])}: {c['now']}")
    for u in report.unknown[:20]:
        click.echo(f"  ? {for_terminal(u['list'])} #{u['index']}: {for_terminal(u['reason'])}")


@pool.command("remove")
@click.argument("holder")
@_POOL
@errors_to_exit
def pool_remove(holder: str, pool: str | None) -> None:
    """Erase everything held about HOLDER (claims, consent, audit rows). Exit 1 when there was nothing."""
    from skillcred.pool import Pool

    with Pool.open(_target(pool), create=False) as p:
        gone = p.remove(holder)
    click.echo(f"{'erased' if gone else 'nothing held about'} {for_terminal(holder)}")
    sys.exit(EXIT_OK if gone else EXIT_NOT_VERIFIED)


@pool.command("export")
@click.argument("holder")
@_POOL
@errors_to_exit
def pool_export(holder: str, pool: str | None) -> None:
    """What the pool holds about HOLDER, as JSON. Exit 1 when nothing."""
    from skillcred.pool import Pool

    with Pool.open(_target(pool), create=False) as p:
        data = p.export(holder)
    if data is None:
        click.echo(f"nothing held about {for_terminal(holder)}", err=True)
        sys.exit(EXIT_NOT_VERIFIED)
    echo_json(json.dumps(data, indent=2, ensure_ascii=False))


@pool.command("stats")
@_POOL
@click.option("--json", "as_json", is_flag=True)
@errors_to_exit
def pool_stats(pool: str | None, as_json: bool) -> None:
    """Counts: candidates (searchable, consent ended), credentials by state, claims, searches."""
    from skillcred.pool import Pool

    with Pool.open(_target(pool), create=False) as p:
        stats = p.stats()
    if as_json:
        echo_json(json.dumps(stats, indent=2, ensure_ascii=False))
        return
    for k, v in stats.items():
        click.echo(f"{k}: {for_terminal(json.dumps(v, ensure_ascii=False)) if isinstance(v, dict) else v}")


@pool.command("log")
@_POOL
@errors_to_exit
def pool_log(pool: str | None) -> None:
    """The search log (who searched when, for which profile, how many hits; never who was found)."""
    from skillcred.pool import Pool

    with Pool.open(_target(pool), create=False) as p:
        echo_json(json.dumps(p.search_log(), indent=2, ensure_ascii=False))
