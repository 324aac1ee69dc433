"""The employer's gap analysis and ranking: ``match``, ``rank``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from skillcred._cli._common import (
    EXIT_NOT_VERIFIED,
    EXIT_OK,
    echo_json,
    errors_to_exit,
    fail,
    progress_bar,
    read_document,
    warn,
)
from skillcred._cli._options import (
    NOT_A_PRESENTATION,
    build_verifier,
    parse_at,
    presentation_failure,
    render_report,
    skill_framework,
    verifier_options,
)
from skillcred._internal.fileio import atomic_write, load_json_object
from skillcred._internal.textsafe import for_terminal
from skillcred.errors import SkillcredError
from skillcred.match import MatchReport, load_catalog, load_profile, match

_NO_ESCO = click.option("--no-esco", is_flag=True,
                        help="Do not use ESCO's skill hierarchy (only literal matches and --framework files).")


def _match_one(verifier: Any, doc: dict[str, Any], *, profile: Any, framework: Any, catalog: Any,
               challenge: str | None, domain: str | None, at: Any, source: str) -> tuple[Any, MatchReport]:
    result = verifier.assess(doc, challenge=challenge, domain=domain, at=at, source=source)
    nc = [(cid, why) for _i, cid, why in result.rejected]
    accepted = list(result.accepted)
    if result.report.kind != "presentation":  # a bare credential: nothing of it counts
        nc = [(c.id, NOT_A_PRESENTATION) for c in accepted] + nc
        accepted = []
    failure = presentation_failure(result)
    report = match(profile, accepted, framework=framework, catalog=catalog,
                   not_counted=nc, candidate=result.holder or doc.get("holder"),
                   verified=failure is None, verification_failure=failure, at=at)
    return result, report


@click.command("match")
@click.argument("presentation", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--profile", required=True, type=click.Path(exists=True, dir_okay=False), help="Job profile file.")
@click.option("--challenge", help="The challenge you gave the candidate.")
@click.option("--domain", help="Your domain, as given to the candidate.")
@click.option("--catalog", type=click.Path(exists=True, dir_okay=False), help="Training catalog: plan the gap.")
@click.option("--framework", "frameworks", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Skill framework(s) for equivalences, broader/narrower and diploma coverage, on top of "
                   "ESCO's skill hierarchy. Repeatable.")
@click.option("--at", "at", help="Evaluate as of this time (default now).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Also write a printable report.")
@_NO_ESCO
@verifier_options
@errors_to_exit
def match_command(presentation: str, profile: str, challenge: str | None, domain: str | None, catalog: str | None,
                  frameworks: tuple[str, ...], at: str | None, as_json: bool, html_file: str | None, no_esco: bool,
                  trust_file: str | None, status_lists: tuple[str, ...], status_cache: str | None,
                  did_documents: tuple[str, ...], unsafe_accept_unknown_status: bool,
                  unsafe_no_challenge: bool) -> None:
    """Verify a candidate's PRESENTATION, then lay it next to a job profile.

    Only credentials that pass verification count; failed ones are listed as not counted.
    Exit 0 when every essential requirement is met, 1 when there are gaps or the presentation
    does not verify, 2 for unusable input.
    """
    doc = read_document(presentation)
    verifier = build_verifier(trust_file, status_lists, status_cache, did_documents,
                              unsafe_accept_unknown_status, unsafe_no_challenge)
    prof = load_profile(profile)
    fw = skill_framework(frameworks, not no_esco)
    cat = load_catalog(catalog) if catalog else None
    result, report = _match_one(verifier, doc, profile=prof, framework=fw, catalog=cat, challenge=challenge,
                                domain=domain, at=parse_at(at), source=presentation)
    for w in result.report.warnings:
        warn(w)
    failure = presentation_failure(result)
    presentation_ok = failure is None
    if as_json:
        out = report.to_dict()
        out["verification"] = {"verified": result.report.verified, "presentation_verified": presentation_ok,
                               **({"failure": failure} if failure else {}),
                               "checks": [c.to_dict() for c in result.report.checks]}
        echo_json(json.dumps(out, indent=2, ensure_ascii=False))
    else:  # the verdict first (report.to_text leads with it), then why
        click.echo(report.to_text(), nl=False)
        if not presentation_ok:
            click.echo("\nThe presentation itself did not verify:")
            click.echo(render_report(result.report))
    if html_file:
        atomic_write(html_file, report.to_html().encode("utf-8"))
    gaps = bool(report.essential_gaps)
    sys.exit(EXIT_NOT_VERIFIED if gaps or not presentation_ok else EXIT_OK)


def _challenges(folder: Path, challenge_file: str | None) -> dict[str, dict[str, str]] | None:
    path = Path(challenge_file) if challenge_file else folder / "challenges.json"
    if not path.exists():
        return None
    data = load_json_object(path)
    out = {}
    for k, v in data.items():
        out[k] = {"challenge": v} if isinstance(v, str) else dict(v)
    return out


@click.command("rank")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--profile", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--challenge-file", type=click.Path(exists=True, dir_okay=False),
              help="JSON: presentation file name -> challenge (or {challenge, domain}); "
                   "default FOLDER/challenges.json.")
@click.option("--domain", help="Your domain, as given to every candidate.")
@click.option("--catalog", type=click.Path(exists=True, dir_okay=False))
@click.option("--framework", "frameworks", multiple=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--at", "at")
@click.option("--json", "as_json", is_flag=True, help="A JSON array, best candidate first.")
@click.option("--jobs", type=int, default=0, help="Worker processes (default: all cores).")
@_NO_ESCO
@verifier_options
@errors_to_exit
def rank_command(folder: str, profile: str, challenge_file: str | None, domain: str | None, catalog: str | None,
                 frameworks: tuple[str, ...], at: str | None, as_json: bool, jobs: int, no_esco: bool,
                 trust_file: str | None,
                 status_lists: tuple[str, ...], status_cache: str | None, did_documents: tuple[str, ...],
                 unsafe_accept_unknown_status: bool, unsafe_no_challenge: bool) -> None:
    """Verify and match every presentation (*.json) in FOLDER; best candidates first.

    Ordered by essential coverage, then weighted score. A candidate whose presentation fails
    verification is shown as such, never silently ranked.
    """
    root = Path(folder)
    files = sorted(p for p in root.glob("*.json") if p.name != "challenges.json")
    challenges = _challenges(root, challenge_file)
    no_domain: bool | None = None  # as --unsafe-no-domain says
    if challenges is None:
        # no challenges on file: the challenge check cannot run, so it is only skipped when
        # the user says so (a replayed presentation would pass)
        if not unsafe_no_challenge:
            fail(f"{folder}: no challenge file (--challenge-file or {root / 'challenges.json'}): without the "
                 "challenges you gave the candidates a replayed presentation would not be noticed; give them, "
                 "or pass --unsafe-no-challenge")
        if not domain:
            no_domain = True  # the challenge file gives the domains; without it and --domain there are none
    verifier = build_verifier(trust_file, status_lists, status_cache, did_documents,
                              unsafe_accept_unknown_status, unsafe_no_challenge, unsafe_no_domain=no_domain)
    prof = load_profile(profile)
    fw = skill_framework(frameworks, not no_esco)
    cat = load_catalog(catalog) if catalog else None
    when = parse_at(at)
    from skillcred._internal.batch import default_workers, fork_map

    with progress_bar(len(files), "Ranking", show_pos=True) as update:
        rows: list[dict[str, Any]] = fork_map(
            _rank_row, files, (verifier, prof, fw, cat, challenges, domain, when),
            jobs=jobs if jobs > 0 else default_workers(), progress=update,
        )
    rows.sort(key=lambda r: (not r["presentation_verified"], -r.get("essential_coverage", 0.0), -r.get("score", 0.0),
                             r["file"]))
    if as_json:
        echo_json(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    # the profile's title, the candidates' file names and the summaries (labels, reasons) are
    # untrusted text: each passes through for_terminal
    click.echo(f"Ranking for {for_terminal(prof.title)}: {len(rows)} candidate(s)")
    for i, r in enumerate(rows, 1):
        name, summary = for_terminal(r["file"]), for_terminal(r["summary"])
        if r["presentation_verified"]:
            click.echo(f"{i:>3}. {name:<28} essential {r['essential_coverage']:.0%}  score {r['score']:.2f}  "
                       f"{summary}")
        else:
            click.echo(f"  -  {name:<28} {summary}")


def _rank_row(f: Path, verifier: Any, prof: Any, fw: Any, cat: Any, challenges: dict[str, dict[str, str]] | None,
              domain: str | None, when: Any) -> dict[str, Any]:
    """Verify and match one presentation file of ``rank`` (runs in a worker process)."""
    row: dict[str, Any] = {"file": f.name}
    try:
        # a link, a FIFO, a device or an oversize file in the folder is this row's error only
        doc = load_json_object(f, follow_symlinks=False)
        ch = (challenges or {}).get(f.name) or (challenges or {}).get(str(doc.get("id")), {})
        result, report = _match_one(verifier, doc, profile=prof, framework=fw, catalog=cat,
                                    challenge=ch.get("challenge"), domain=ch.get("domain", domain),
                                    at=when, source=str(f))
        failure = presentation_failure(result)
        row.update(report.to_dict())
        row["presentation_verified"] = failure is None
        row["challenge_checked"] = bool(ch.get("challenge"))
        if failure is not None:
            row["verification_failure"] = failure
            row["summary"] = f"NOT VERIFIED ({failure})"
    except SkillcredError as exc:
        row.update({"presentation_verified": False, "verification_failure": str(exc),
                    "summary": f"UNUSABLE: {exc}", "essential_coverage": 0.0, "score": 0.0})
    return row


