"""The employer's OpenID4VP commands: ``request new`` (a vacancy's request URI + QR code) and
``request results`` (the verified, matched responses, ranked)."""

from __future__ import annotations

import html
import io
import json
import urllib.parse
from pathlib import Path
from typing import Any

import click

from skillcred._cli._common import (
    UNSAFE_HTTP_LOOPBACK,
    echo_json,
    errors_to_exit,
    fail,
    load_key,
    passphrase_for_new_key,
    warn,
)
from skillcred._internal.fileio import load_json_object
from skillcred._internal.textsafe import for_terminal
from skillcred._internal.urlpolicy import url_refusal
from skillcred.errors import InvalidArgument
from skillcred.match import load_profile
from skillcred.oid4vp import FORMATS, VerifierStore, query_from_profile, ranked, request_uri_for
from skillcred.oid4vp._http import request_uri_of
from skillcred.oid4vp._store import DID_DOCUMENT_FILE, VERIFIER_FILE, StoredResponse, default_verifier_path

VERIFIER_OPTION = click.option(
    "--verifier", "verifier_dir", type=click.Path(file_okay=False), envvar="SKILLCRED_VERIFIER",
    help="Verifier folder: key, DID, requests and results (default: $SKILLCRED_VERIFIER, else the per-user "
         "data folder). Made on first use.",
)


def _store(verifier_dir: str | None) -> VerifierStore:
    return VerifierStore.open(verifier_dir or default_verifier_path())


@click.group()
def request() -> None:
    """Ask candidates' wallets for their credentials over OpenID4VP (the vacancy is the query)."""


@request.command("new")
@click.option("--profile", "profile_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Job profile: the request asks only for what evidences its requirements.")
@click.option("--verifier-url", required=True,
              help="Base URL wallets reach 'skillcred serve --verifier' at (request_uri and response_uri).")
@click.option("--purpose", help="Why you ask, shown to the worker before they consent.")
@click.option("--format", "formats", multiple=True, type=click.Choice(tuple(FORMATS)),
              help="Credential formats accepted (repeatable; default: all).")
@click.option("--name", help="Your organisation's name, shown to the worker (set when the folder is made).")
@click.option("--no-qr", is_flag=True, help="Print only the request URI, no QR code.")
@VERIFIER_OPTION
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False),
              help="Passphrase for a new verifier key (else SKILLCRED_PASSPHRASE or a prompt).")
@click.option("--verifier-key", "verifier_key", type=click.Path(exists=True, dir_okay=False),
              help="When the folder is made: sign requests with this existing key (PEM) instead of a new one.")
@click.option("--verifier-did", "verifier_did", metavar="DID",
              help="With --verifier-key: your did:web (e.g. did:web:werk.example); requests are signed as it.")
@click.option("--verifier-did-document", "verifier_did_document", type=click.Path(exists=True, dir_okay=False),
              help="With --verifier-did: the did.json you publish (it must list the key for authentication or "
                   "assertionMethod); without it one is written to the folder for you to publish.")
@UNSAFE_HTTP_LOOPBACK
@errors_to_exit
def new(profile_file: str, verifier_url: str, purpose: str | None, formats: tuple[str, ...], name: str | None,
        no_qr: bool, verifier_dir: str | None, passphrase_file: str | None, verifier_key: str | None,
        verifier_did: str | None, verifier_did_document: str | None, unsafe_allow_http_loopback: bool) -> None:
    """A request for one vacancy: prints its URI on the first line, then a QR code.

    Each wallet that opens the URI gets its own signed request (fresh nonce and state).
    The verifier folder is made on first use: a new did:key, or your own key and did:web
    (--verifier-key, --verifier-did); wallets are given your did.json, they never fetch it.

    \b
    Example:
      skillcred request new --profile lasser.json --verifier-url https://werk.example --purpose "Vacature lasser"
    """
    if verifier_did_document and not verifier_did:
        fail("--verifier-did-document needs --verifier-did (the did:web it is the document of)")
    if verifier_did and not verifier_key:
        fail("--verifier-did needs --verifier-key (the key that signs as that DID)")
    if verifier_did and not verifier_did.startswith(("did:web:", "did:key:")):
        fail(f"--verifier-did must be a did:web (or the key's did:key), not {verifier_did!r}")
    parts = urllib.parse.urlsplit(verifier_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        fail(f"--verifier-url must be an http(s) base URL, not {verifier_url!r}")
    # wallets send their credentials to this URL: https only (plain http only to this machine, on request)
    refusal = url_refusal(verifier_url, unsafe_allow_http_loopback=unsafe_allow_http_loopback)
    if refusal is not None:
        fail(f"--verifier-url {verifier_url!r} {refusal}")
    if unsafe_allow_http_loopback:
        warn("UNSAFE: --unsafe-allow-http-loopback: the request sends wallets to plain http on this machine; "
             "anything here that can listen on that port can read and alter what is sent")
    profile = load_profile(profile_file)
    data = load_json_object(profile_file)
    query = query_from_profile(profile, formats=formats or tuple(FORMATS), raw_requirements=data["requirements"])
    folder = verifier_dir or str(default_verifier_path())
    if not (Path(folder) / VERIFIER_FILE).exists():
        store = _init_store(folder, name, passphrase_file, verifier_key, verifier_did, verifier_did_document)
    else:
        store = VerifierStore.open(folder)
        if verifier_key or verifier_did:
            # the folder's identity is fixed when it is made: wallets already hold requests signed by it
            if verifier_did != store.did:
                fail(f"{folder} already signs requests as {store.did}: --verifier-key / --verifier-did apply "
                     "when a folder is made (use another --verifier folder for another identity)")
    req = store.add_request(title=profile.title, purpose=purpose, verifier_url=verifier_url.rstrip("/"),
                            profile=data, dcql_query=query)
    uri = request_uri_for(store.client_id, request_uri_of(req.verifier_url, req.id))
    click.echo(uri)
    if not no_qr:
        import qrcode  # type: ignore[import-untyped]

        qr = qrcode.QRCode(border=1)
        qr.add_data(uri)
        out = io.StringIO()
        qr.print_ascii(out=out, invert=True)
        click.echo(out.getvalue().rstrip("\n"))
    asked = sum(len(c.get("values", [])) for cq in query["credentials"][:1] for c in cq["claims"])
    click.echo(f"request {req.id} for {for_terminal(profile.title)}: asks for credentials evidencing its "
               f"requirements ({len(query['credentials'])} queries, {asked} essential refs per format); "
               f"serve it with: skillcred serve --verifier {folder} --trust TRUST.json", err=True)


def _init_store(folder: str, name: str | None, passphrase_file: str | None, verifier_key: str | None,
                verifier_did: str | None, verifier_did_document: str | None) -> VerifierStore:
    """Make the verifier folder: a fresh did:key, or the employer's key (its did:key, or a did:web)."""
    if verifier_key is None:
        store = VerifierStore.init(folder, name=name, passphrase=passphrase_for_new_key(passphrase_file,
                                                                                         what="verifier key"))
        click.echo(f"verifier folder {folder} made: {store.did}", err=True)
        return store
    key = load_key(verifier_key, passphrase_file, signing=True)
    document = load_json_object(verifier_did_document) if verifier_did_document else None
    try:
        store = VerifierStore.init(folder, name=name, key=key, did=verifier_did, did_document=document,
                                   passphrase=passphrase_for_new_key(passphrase_file, what="verifier key copy"))
    except InvalidArgument as exc:
        fail(f"{verifier_did_document or verifier_key}: {exc.message}")
    click.echo(f"verifier folder {folder} made: {store.did} (key from {verifier_key})", err=True)
    if store.did.startswith("did:web:"):
        from skillcred.did import web_did_url_path

        made = "" if verifier_did_document else " (made for you)"
        click.echo(f"its DID document{made} is {Path(folder) / DID_DOCUMENT_FILE}: publish it at "
                   f"{web_did_url_path(store.did)} and give it to candidates with the vacancy (their "
                   "wallets never fetch it: present --verifier-did-document FILE)", err=True)
    return store


def _row(r: StoredResponse) -> dict[str, Any]:
    res = r.result
    return {"response_id": r.id, "received_at": r.received_at, "verified": r.verified, "reason": r.reason,
            "holder": r.holder, "essential_coverage": r.essential_coverage,
            "coverage": res.get("coverage"), "score": r.score,
            "summary": (res.get("match") or {}).get("summary") if r.verified else res.get("message"),
            "match": res.get("match"), "reports": res.get("reports", [])}


@request.command("results")
@click.argument("request_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Per response {verified, essential_coverage, ...} + ranking.")
@click.option("--html", "as_html", is_flag=True, help="A printable HTML page on stdout.")
@VERIFIER_OPTION
@errors_to_exit
def results(request_id: str | None, as_json: bool, as_html: bool, verifier_dir: str | None) -> None:
    """The responses to a request (default: the newest), verified and matched, best first.

    Exit 0 when at least one response verified, 1 when none did (or none came)."""
    if as_json and as_html:
        fail("give --json or --html, not both")
    store = _store(verifier_dir)
    req = store.request(request_id)
    responses = store.responses(req.id)
    order = ranked(responses)
    ranking = [{"rank": i + 1, "response_id": r.id, "holder": r.holder, "essential_coverage": r.essential_coverage,
                "score": r.score} for i, r in enumerate(order)]
    if as_json:
        echo_json(json.dumps({"request": req.id, "title": req.title, "purpose": req.purpose,
                              "responses": [_row(r) for r in responses], "ranked": ranking},
                             indent=2, ensure_ascii=False))
    elif as_html:
        click.echo(_html(req.title, responses, order))
    else:
        click.echo(f"{for_terminal(req.title)} (request {req.id}): {len(responses)} response(s), "
                   f"{len(order)} verified")
        for i, r in enumerate(order):
            click.echo(f"  {i + 1}. {r.holder}  essential {r.essential_coverage:.0%}  score {r.score:.2f}  "
                       f"(response {r.id}, {r.received_at})")
        for r in responses:
            if not r.verified:
                click.echo(f"  refused: response {r.id} ({r.received_at}): {for_terminal(r.reason or '')}: "
                           f"{for_terminal(str(r.result.get('message', '')))}")
    if not order:
        raise SystemExit(1)


def _html(title: str, responses: list[StoredResponse], order: list[StoredResponse]) -> str:
    e = html.escape
    rows = "".join(f"<tr><td>{i + 1}</td><td>{e(r.holder or '')}</td><td>{(r.essential_coverage or 0):.0%}</td>"
                   f"<td>{(r.score or 0):.2f}</td><td>{e(str((r.result.get('match') or {}).get('summary', '')))}"
                   "</td></tr>" for i, r in enumerate(order))
    refused = "".join(f"<li>response {r.id}: {e(r.reason or '')}: {e(str(r.result.get('message', '')))}</li>"
                      for r in responses if not r.verified)
    return (f"<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{e(title)}</title>"
            f"<h1>{e(title)}</h1><p>{len(responses)} response(s), {len(order)} verified, best first "
            "(essential coverage, then score: as <code>skillcred rank</code>).</p>"
            "<table><tr><th>#</th><th>candidate</th><th>essential</th><th>score</th><th>summary</th></tr>"
            f"{rows}</table>" + (f"<h2>Refused</h2><ul>{refused}</ul>" if refused else "")
            + "<p>This service uses the ESCO classification of the European Commission.</p></html>")
