"""The worker's commands: ``wallet ...``, ``passport``, ``present``."""

from __future__ import annotations

from typing import Any

import click

from skillcred._cli._common import (
    UNSAFE_HTTP_LOOPBACK,
    check_words,
    echo_json,
    errors_to_exit,
    fail,
    http_loopback_warned,
    passphrase_for_new_key,
    security_warnings_on_stderr,
    stdin_is_tty,
    unlock,
    warn,
    write_document,
)
from skillcred._internal.fileio import atomic_write, load_json_object
from skillcred._internal.textsafe import for_terminal
from skillcred._internal.timeutil import parse_datetime
from skillcred.did import DidResolver
from skillcred.errors import WalletError
from skillcred.keys import KEY_TYPES, KeyPair
from skillcred.passport import build_passport, render_pdf
from skillcred.wallet import KINDS, Wallet, dumps_entries

WALLET_OPTION = click.option(
    "--wallet", "wallet_dir", type=click.Path(file_okay=False), envvar="SKILLCRED_WALLET",
    help="Wallet folder (default: $SKILLCRED_WALLET, else the per-user data folder).",
)


def _holder_key(wallet: Wallet, passphrase_file: str | None) -> KeyPair:
    """The holder key (a key file others can read is used, with a warning line: see Wallet.holder_key)."""
    def read(passphrase: bytes | None) -> KeyPair:
        with security_warnings_on_stderr():
            return wallet.holder_key(passphrase)

    return unlock(read, passphrase_file, "Passphrase for your wallet key")


def _resolver(did_documents: tuple[str, ...]) -> DidResolver:
    return DidResolver(load_json_object(p) for p in did_documents)


@click.group()
def wallet() -> None:
    """Your skills passport wallet: a local folder of your credentials."""


@wallet.command("init")
@WALLET_OPTION
@click.option("--key-type", type=click.Choice(KEY_TYPES), default="ed25519", show_default=True)
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False),
              help="Encrypt your key with this passphrase (else SKILLCRED_PASSPHRASE or a prompt).")
@errors_to_exit
def init(wallet_dir: str | None, key_type: str, passphrase_file: str | None) -> None:
    """Create a wallet with your own key; prints your DID (first line).

    Give this DID to the institute that issues your credentials.
    """
    passphrase = passphrase_for_new_key(passphrase_file, what="wallet key")
    w = Wallet.init(wallet_dir, passphrase=passphrase, key_type=key_type)  # type: ignore[arg-type]
    click.echo(w.holder)
    click.echo(f"wallet created in {w.root}", err=True)


@wallet.command("add")
@WALLET_OPTION
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--force-foreign", is_flag=True,
              help="Keep a credential that is not about you (its subject is someone else).")
@click.option("--did-document", "did_documents", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="DID document of a did:web issuer (verification is offline). Repeatable.")
@errors_to_exit
def add(wallet_dir: str | None, files: tuple[str, ...], force_foreign: bool, did_documents: tuple[str, ...]) -> None:
    """Add credentials (files, or '-' for stdin): JSON, vc+jwt / SD-JWT token files, or baked
    badges (PNG/SVG, Open Badges 3.0). Each is verified first; nothing is added unless all of
    them can be."""
    from skillcred._cli._options import read_credential_file

    w = Wallet.open(wallet_dir)
    docs = []
    for f in files:
        docs.extend(read_credential_file(f))
    extra = [load_json_object(p) for p in did_documents]
    added = w.add(docs, force_foreign=force_foreign, resolver=w.resolver(extra))
    if extra:
        w.remember_did_documents(extra)
    for e in added:
        level = f" - {for_terminal(e.level)}" if e.level else ""
        click.echo(f"added {for_terminal(e.id)}  {for_terminal(e.achievement)}{level}")


@wallet.command("receive")
@WALLET_OPTION
@click.argument("offer_uri")
@click.option("--tx-code", "tx_code", help="The transaction code the institute sent you separately.")
@click.option("--yes", is_flag=True, help="Accept without asking (scripts); otherwise you are shown the offer first.")
@click.option("--did-document", "did_documents", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="DID document of a did:web issuer (verification is offline). Repeatable.")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False))
@UNSAFE_HTTP_LOOPBACK
@errors_to_exit
def receive(wallet_dir: str | None, offer_uri: str, tx_code: str | None, yes: bool,
            did_documents: tuple[str, ...], passphrase_file: str | None, unsafe_allow_http_loopback: bool) -> None:
    """Receive a credential an institute offers (an openid-credential-offer:// link or QR code).

    Shows who offers what before taking it (unless --yes), proves the credential is to be bound
    to your wallet key, checks it like 'wallet add' and stores it; prints its id (first line).
    """
    from skillcred.oid4vci.wallet import OfferSummary
    from skillcred.oid4vci.wallet import receive as receive_offer

    w = Wallet.open(wallet_dir)
    key = _holder_key(w, passphrase_file)
    code = tx_code

    def confirm(summary: OfferSummary) -> bool:
        nonlocal code
        click.echo(f"{for_terminal(summary.issuer_name)} ({for_terminal(summary.issuer_url)}) offers you: "
                   f"{for_terminal(summary.credential_name)} [{summary.fmt}]", err=True)
        if yes:
            return True
        if not stdin_is_tty():
            raise WalletError("not a terminal: add --yes to accept the offer without being asked")
        return click.confirm("Accept it into your wallet?", default=False, err=True)

    extra = [load_json_object(p) for p in did_documents]
    if code is None and stdin_is_tty() and "tx_code" in offer_uri:
        code = click.prompt("Transaction code (sent to you separately)", default="", show_default=False,
                            err=True) or None
    with http_loopback_warned(unsafe_allow_http_loopback, "the wallet"):
        result = receive_offer(w, offer_uri, key, tx_code=code, confirm=confirm, resolver=w.resolver(extra),
                               unsafe_allow_http_loopback=unsafe_allow_http_loopback)
    if extra:
        w.remember_did_documents(extra)
    e = result.entry
    click.echo(e.id)
    level = f" - {for_terminal(e.level)}" if e.level else ""
    click.echo(f"received {for_terminal(e.achievement)}{level} from {for_terminal(result.offer.issuer_name)}",
               err=True)


@wallet.command("list")
@WALLET_OPTION
@click.option("--json", "as_json", is_flag=True, help="A JSON array (id, type, kind, issuer, achievement, ...).")
@errors_to_exit
def list_(wallet_dir: str | None, as_json: bool) -> None:
    """List your credentials: kind, achievement, level, issuer, issued, expires, status."""
    w = Wallet.open(wallet_dir)
    listing = w.listing()
    for p in listing.problems:
        warn(f"{w.root / 'credentials' / p.file}: skipped: {p.message}")
    if as_json:
        echo_json(dumps_entries(listing.entries))
        return
    if not listing.entries:
        click.echo("(empty wallet)")
        return
    rows: list[tuple[str, ...]] = [("KIND", "ACHIEVEMENT", "LEVEL", "ISSUER", "ISSUED", "EXPIRES", "STATUS", "ID")]
    from skillcred._internal.timeutil import utcnow

    now = utcnow()
    for e in listing.entries:  # each cell from the credential, made safe before it is measured
        rows.append(tuple(for_terminal(c) for c in (
            e.kind, e.achievement, e.level or "-", e.issuer_name, (e.issued or "-")[:10],
            (e.expires or "-")[:10], e.validity(now), e.id)))
    widths = [min(max(len(r[i]) for r in rows), 40) for i in range(len(rows[0]) - 1)]
    for r in rows:
        cells = [c[:w_].ljust(w_) for c, w_ in zip(r[:-1], widths, strict=True)]
        click.echo("  ".join([*cells, r[-1]]))


@wallet.command("show")
@WALLET_OPTION
@click.argument("credential_id")
@errors_to_exit
def show(wallet_dir: str | None, credential_id: str) -> None:
    """Print one credential (by id, or a unique part of it) as JSON."""
    write_document(Wallet.open(wallet_dir).get(credential_id), None)


@wallet.command("remove")
@WALLET_OPTION
@click.argument("credential_id")
@errors_to_exit
def remove(wallet_dir: str | None, credential_id: str) -> None:
    """Remove a credential from the wallet."""
    e = Wallet.open(wallet_dir).remove(credential_id)
    click.echo(f"removed {for_terminal(e.id)}  {for_terminal(e.achievement)}")


@wallet.command("export")
@WALLET_OPTION
@click.argument("target", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite TARGET if it exists (refused otherwise).")
@errors_to_exit
def export(wallet_dir: str | None, target: str, force: bool) -> None:
    """Back up the wallet (your key, still encrypted, all credentials and the issuers' DID
    documents) to one file, for 'wallet import' on a new laptop."""
    n = Wallet.open(wallet_dir).export(target, force=force)
    click.echo(f"exported {n} credential(s), your key and the stored issuer DID documents to {target} (mode 0600)")


@wallet.command("import")
@WALLET_OPTION
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--did-document", "did_documents", multiple=True, type=click.Path(exists=True, dir_okay=False))
@errors_to_exit
def import_(wallet_dir: str | None, source: str, did_documents: tuple[str, ...]) -> None:
    """Restore a backup made by 'wallet export' (e.g. on a new laptop)."""
    w, n = Wallet.import_bundle(source, wallet_dir, resolver=_resolver(did_documents))
    if did_documents:
        w.remember_did_documents(load_json_object(p) for p in did_documents)
    click.echo(f"imported {n} credential(s) into {w.root} for {for_terminal(w.holder)}")


@wallet.command("gap")
@WALLET_OPTION
@click.option("--profile", required=True, type=click.Path(exists=True, dir_okay=False), help="Job profile file.")
@click.option("--catalog", type=click.Path(exists=True, dir_okay=False), help="Training catalog: plan the gap.")
@click.option("--framework", "frameworks", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Skill framework(s). Repeatable.")
@click.option("--json", "as_json", is_flag=True)
@errors_to_exit
def gap(wallet_dir: str | None, profile: str, catalog: str | None, frameworks: tuple[str, ...], as_json: bool) -> None:
    """Lay your own passport next to a job profile: what you can already do, what to learn."""
    _run_gap(wallet_dir, profile, catalog, frameworks, as_json)


def _run_gap(wallet_dir: str | None, profile: str, catalog: str | None, frameworks: tuple[str, ...],
                   as_json: bool) -> None:
    """The worker's own gap analysis: the wallet's credentials, verified offline, vs a profile.

    A worker has no trust list and usually no fresh status lists, so those two checks are
    waived here (and said so); proofs, issuer binding, validity and schema still decide.
    """
    import json
    import warnings

    from skillcred._cli._options import skill_framework
    from skillcred.errors import SkillcredSecurityWarning
    from skillcred.match import load_catalog, load_profile, match
    from skillcred.verify import VerificationPolicy, VerifiedCredential, Verifier
    from skillcred.wallet import Wallet

    w = Wallet.open(wallet_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkillcredSecurityWarning)
        policy = VerificationPolicy(unsafe_accept_unknown_status=True)
    verifier = Verifier(policy, did_documents=w.did_documents(), wording=check_words)
    accepted: list[VerifiedCredential] = []
    not_counted: list[tuple[str | None, str]] = []
    for e in w.entries():
        # the credential as the verifier takes it: a Data Integrity document, or the envelope
        # of its token (never the wallet's stored record, whose securedAs/token are no terms)
        res = verifier.assess(w.secured(e.id).envelope(), source=e.file)
        accepted.extend(res.accepted)
        not_counted.extend((cid, why) for _i, cid, why in res.rejected)
        if not res.accepted and not res.rejected:
            bad = res.report.failures()
            not_counted.append((e.id, f"{bad[0].family}: {bad[0].reason}" if bad else "not verified"))
    report = match(load_profile(profile), accepted, framework=skill_framework(frameworks),
                   catalog=load_catalog(catalog) if catalog else None, not_counted=not_counted, candidate=w.holder)
    warn("your own wallet: revocation status and issuer trust are not checked here (an employer checks them)")
    if as_json:
        echo_json(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.to_text(), nl=False)


@click.command()
@WALLET_OPTION
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Also write a printable page (A4).")
@click.option("--pdf", "pdf_file", type=click.Path(dir_okay=False),
              help="Also print the page to this PDF (A4, headless Chromium; $SKILLCRED_CHROMIUM picks one).")
@click.option("--json", "as_json", is_flag=True, help="The passport as one JSON object on stdout (no text).")
@click.option("--only", "only", multiple=True,
              help="Show only this credential (id, achievement name, a unique part of either, or a kind), "
                   "e.g. for a printout you hand over. Repeatable; default: every credential.")
@click.option("--status-list", "status_lists", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="The issuers' status-list credential files: check revocation (else the passport says it "
                   "was not checked). Repeatable.")
@click.option("--at", help="Show validity as of this date (default now).")
@errors_to_exit
def passport(wallet_dir: str | None, html_file: str | None, pdf_file: str | None, as_json: bool,
             only: tuple[str, ...], status_lists: tuple[str, ...], at: str | None) -> None:
    """Show your skills passport: diplomas, vocational skills, on-the-job learning, soft skills.

    The printable page (--html, --pdf) has a QR code per credential that an employer checks
    against the credential you send them ('skillcred verify --qr'); only what you select with
    --only is on it.
    """
    w = Wallet.open(wallet_dir)
    when = parse_datetime(at if len(at or "") != 10 else f"{at}T00:00:00Z", field="--at") if at else None
    if only:
        selection = w.choose(only)
        for p in selection.skipped:
            warn(f"{w.root / 'credentials' / p.file}: not shown: {p.message}")
        entries, documents = selection.entries, {e.id: d for e, d in zip(selection.entries, selection.documents,
                                                                           strict=True)}
    else:
        listing = w.listing()
        for p in listing.problems:
            warn(f"{w.root / 'credentials' / p.file}: skipped: {p.message}")
        entries, documents = listing.entries, {e.id: w.get(e.id) for e in listing.entries}
    verifier = None
    if status_lists:
        from skillcred.verify import VerificationPolicy, Verifier

        verifier = Verifier(VerificationPolicy(), did_documents=w.did_documents(), wording=check_words)
        for f in status_lists:
            verifier.add_status_list(load_json_object(f))
    pp = build_passport(w.holder, entries, at=when, documents=documents, verifier=verifier)
    html = pp.to_html() if (html_file or pdf_file) else ""
    if pdf_file:  # first: a failed print leaves nothing half-done behind (the page is not written either)
        render_pdf(html, pdf_file)
    if html_file:
        atomic_write(html_file, html.encode("utf-8"))
    if as_json:
        echo_json(pp.to_json())
    else:
        click.echo(pp.to_text(), nl=False)
    for written, what in ((html_file, "printable passport"), (pdf_file, "PDF passport")):
        if written:
            click.echo(f"{what} written to {written}", err=True)


@click.command()
@WALLET_OPTION
@click.option("--select", "selected", multiple=True,
              help="A credential: its id, its achievement name, or a unique part of either (any case, e.g. "
                   "'cnc'); or a kind (diploma, skill, on-the-job, ...). Repeatable.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="All credentials of a kind.")
@click.option("--all", "all_credentials", is_flag=True, help="Every credential in the wallet.")
@click.option("--challenge", help="The challenge the employer gave you (required without --oid4vp).")
@click.option("--domain", help="The employer's domain, who this is for (required without --oid4vp).")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the presentation here (default stdout).")
@click.option("--disclose", "disclose", multiple=True,
              help="SD-JWT credentials: release only the claim at this JSON pointer "
                   "(e.g. /credentialSubject/result/0). Repeatable; the rest stays hidden.")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False))
@click.option("--oid4vp", "oid4vp_uri", metavar="URI",
              help="Answer an employer's OpenID4VP request (openid4vp://... from their QR code): what it asks "
                   "decides what is sent; --select narrows it to the credentials you name.")
@click.option("--yes", is_flag=True, help="With --oid4vp: send without asking (for scripts).")
@click.option("--dry-run", is_flag=True,
              help="With --oid4vp: print the response that would be sent (and whether encrypted), send nothing.")
@click.option("--verifier-did-document", "--did-document", "did_documents", multiple=True,
              type=click.Path(exists=True, dir_okay=False),
              help="With --oid4vp: the DID document (did.json) of a did:web employer, as they gave it to you; "
                   "never fetched (documents kept in the wallet count too).")
@UNSAFE_HTTP_LOOPBACK
@errors_to_exit
def present(wallet_dir: str | None, selected: tuple[str, ...], kinds: tuple[str, ...], all_credentials: bool,
            challenge: str | None, domain: str | None, out: str | None, disclose: tuple[str, ...],
            passphrase_file: str | None, oid4vp_uri: str | None, yes: bool, dry_run: bool,
            did_documents: tuple[str, ...], unsafe_allow_http_loopback: bool) -> None:
    """Sign a presentation of chosen credentials for one employer (challenge + domain).

    Only what you select is in it. The signature binds it to this employer and this request.
    A selector matching several credentials lists them and exits 2; damaged files and
    credentials about someone else are never presented (each is reported on stderr).

    \b
    Example:
      skillcred present --select cnc --select 9a1b --challenge 8d1e... --domain werkgever.example -o vp.json
      skillcred present --oid4vp 'openid4vp://?client_id=...&request_uri=...'
    """
    if oid4vp_uri is not None:
        if challenge or domain or kinds or all_credentials or disclose:
            fail("--oid4vp takes what to send from the request: --challenge, --domain, --kind, --all and "
                 "--disclose do not apply (--select narrows it)")
        with http_loopback_warned(unsafe_allow_http_loopback, "the wallet"):
            _present_oid4vp(wallet_dir, oid4vp_uri, selected, yes, dry_run, out, passphrase_file, did_documents,
                            unsafe_allow_http_loopback)
        return
    if yes or dry_run or did_documents or unsafe_allow_http_loopback:
        fail("--yes, --dry-run, --verifier-did-document and --unsafe-allow-http-loopback apply to --oid4vp")
    if not challenge or not domain:
        fail("Missing option '--challenge' / '--domain' (the employer's challenge and domain), or --oid4vp URI")
    w = Wallet.open(wallet_dir)
    selection = w.choose(selected, kinds=kinds, all_credentials=all_credentials)
    for p in selection.skipped:  # damaged, or about someone else: said, never silently dropped
        warn(f"{w.root / 'credentials' / p.file}: not presented: {p.message}")
    creds = selection.documents
    # imported here, not at the top: the verifier would add ~40 modules to `wallet list`
    from skillcred.verify.verifier import MAX_PRESENTED_CREDENTIALS

    if len(creds) > MAX_PRESENTED_CREDENTIALS:
        warn(f"{len(creds)} credentials: verifiers refuse presentations of more than {MAX_PRESENTED_CREDENTIALS} "
             "by default (--max-credentials); present only what this employer asks for")
    key = _holder_key(w, passphrase_file)
    vp = w.present(creds, key=key, challenge=challenge, domain=domain, disclose=disclose)
    write_document(vp, out)
    if out and out != "-":
        left = f" ({len(selection.skipped)} left out, see above)" if selection.skipped else ""
        click.echo(f"presentation of {len(creds)} credential(s) for {domain} written to {out}{left}", err=True)


def _present_oid4vp(wallet_dir: str | None, uri: str, selected: tuple[str, ...], yes: bool, dry_run: bool,
                    out: str | None, passphrase_file: str | None, did_documents: tuple[str, ...],
                    unsafe_allow_http_loopback: bool) -> None:
    """``present --oid4vp``: fetch and verify the request, show who asks what and why, ask, send.

    Exit 0 when the verifier accepted the response (or a --dry-run printed it), 1 when the wallet
    cannot answer what is required or the verifier refused (its reason is shown), 2 for a request
    that must not be answered (bad signature, another client id, expired: the reason is named)."""
    from skillcred.oid4vp import (
        build_vp_token,
        describe_answers,
        describe_request,
        fetch_request_object,
        parse_request_uri,
        plan_response,
        post_response,
        response_encryption,
        verify_request_object,
    )

    w = Wallet.open(wallet_dir)
    client_id, request_uri = parse_request_uri(uri)
    token = fetch_request_object(request_uri, unsafe_allow_http_loopback=unsafe_allow_http_loopback)
    # the wallet's documents, then the employer's did.json as given (that one wins); never fetched
    request = verify_request_object(token, expected_client_id=client_id,
                                    did_documents=[*w.did_documents(), *(load_json_object(p) for p in did_documents)])
    plan = plan_response(w, request, selectors=selected)
    for line in describe_request(request):
        click.echo(for_terminal(line), err=True)
    if plan.answers:
        click.echo("You would share:", err=True)
        for line in describe_answers(plan.answers):
            click.echo(for_terminal(line), err=True)
    if not plan.satisfied:
        fail("dcql_unsatisfied: your wallet has no credential for what this request requires "
             f"({' or '.join('+'.join(o) for o in plan.missing[0])}); nothing was sent", 1)
    key = _holder_key(w, passphrase_file)
    vp_token = build_vp_token(w, plan, key=key)
    encryption = response_encryption(request)  # checked when the request was verified: cannot fail here
    if dry_run:
        shown: dict[str, Any] = {"response_uri": request["response_uri"], "state": request["state"],
                                 "vp_token": vp_token}
        if encryption is not None:  # what would be sent is the JWE of the above, response=<JWE>
            shown["response_mode"] = request["response_mode"]
            shown["encrypted"] = encryption.to_dict()
            click.echo(f"would be sent encrypted to the verifier's key {encryption.kid} "
                       f"({encryption.to_dict()['alg']}, {encryption.enc})", err=True)
        write_document(shown, out)
        return
    if not yes:
        if not stdin_is_tty():
            fail("not sent: confirm on a terminal, or pass --yes (for scripts)")
        if not click.confirm(f"Send this to {request['client_id'].removeprefix('decentralized_identifier:')}?",
                             default=False, err=True):
            fail("not sent", 1)
    result = post_response(request["response_uri"], vp_token, request["state"],
                           unsafe_allow_http_loopback=unsafe_allow_http_loopback, encryption=encryption)
    if result.accepted:
        click.echo(f"accepted: the verifier verified your response ({len(plan.answers)} credential(s))", err=True)
        return
    desc = result.body.get("error_description") if isinstance(result.body.get("error_description"), str) else ""
    fail(f"refused by the verifier (HTTP {result.status}): {result.reason or 'no reason given'}: {desc}", 1)
