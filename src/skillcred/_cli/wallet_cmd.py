"""The worker's commands: ``wallet ...``, ``passport``, ``present``."""

from __future__ import annotations

import os

import click

from skillcred._cli._common import (
    _read_passphrase_file,
    echo_json,
    errors_to_exit,
    passphrase_for_new_key,
    read_stdin_bounded,
    security_warnings_on_stderr,
    stdin_is_tty,
    warn,
    write_document,
)
from skillcred._internal.fileio import MAX_JSON_BYTES, atomic_write, load_json_object, read_bounded
from skillcred._internal.textsafe import for_terminal
from skillcred._internal.timeutil import parse_datetime
from skillcred.did import DidResolver
from skillcred.errors import WrongPassphrase
from skillcred.keys import KEY_TYPES, KeyPair
from skillcred.passport import build_passport
from skillcred.wallet import KINDS, Wallet, dumps_entries, read_credentials_input

WALLET_OPTION = click.option(
    "--wallet", "wallet_dir", type=click.Path(file_okay=False), envvar="SKILLCRED_WALLET",
    help="Wallet folder (default: $SKILLCRED_WALLET, else the per-user data folder).",
)


def _holder_key(wallet: Wallet, passphrase_file: str | None) -> KeyPair:
    """The holder key (a key file others can read is used, with a warning line: see Wallet.holder_key)."""
    def read(passphrase: bytes | None) -> KeyPair:
        with security_warnings_on_stderr():
            return wallet.holder_key(passphrase)

    if passphrase_file:
        return read(_read_passphrase_file(passphrase_file))
    env = os.environ.get("SKILLCRED_PASSPHRASE")
    try:
        return read(env.encode("utf-8") if env else None)
    except WrongPassphrase:
        if env or not stdin_is_tty():
            raise
    value = click.prompt("Passphrase for your wallet key", hide_input=True, default="", show_default=False)
    return read(value.encode("utf-8") or None)


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
    """Add credentials (files, or '-' for stdin). Each is verified first; nothing is added
    unless all of them can be."""
    w = Wallet.open(wallet_dir)
    docs = []
    for f in files:
        if f == "-":
            docs.extend(read_credentials_input(read_stdin_bounded(), "<stdin>"))
        else:
            docs.extend(read_credentials_input(read_bounded(f, max_bytes=MAX_JSON_BYTES), f))
    extra = [load_json_object(p) for p in did_documents]
    added = w.add(docs, force_foreign=force_foreign, resolver=w.resolver(extra))
    if extra:
        w.remember_did_documents(extra)
    for e in added:
        level = f" - {for_terminal(e.level)}" if e.level else ""
        click.echo(f"added {for_terminal(e.id)}  {for_terminal(e.achievement)}{level}")


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
    from skillcred._cli.match_cmd import run_wallet_gap

    run_wallet_gap(wallet_dir, profile, catalog, frameworks, as_json)


@click.command()
@WALLET_OPTION
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Also write a printable page.")
@click.option("--at", help="Show validity as of this date (default now).")
@errors_to_exit
def passport(wallet_dir: str | None, html_file: str | None, at: str | None) -> None:
    """Show your skills passport: diplomas, vocational skills, on-the-job learning, soft skills."""
    w = Wallet.open(wallet_dir)
    when = parse_datetime(at if len(at or "") != 10 else f"{at}T00:00:00Z", field="--at") if at else None
    listing = w.listing()
    for p in listing.problems:
        warn(f"{w.root / 'credentials' / p.file}: skipped: {p.message}")
    pp = build_passport(w.holder, listing.entries, at=when)
    click.echo(pp.to_text(), nl=False)
    if html_file:
        atomic_write(html_file, pp.to_html().encode("utf-8"))
        click.echo(f"\nprintable passport written to {html_file}", err=True)


@click.command()
@WALLET_OPTION
@click.option("--select", "selected", multiple=True,
              help="A credential: its id, its achievement name, or a unique part of either (any case, e.g. "
                   "'cnc'); or a kind (diploma, skill, on-the-job, ...). Repeatable.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="All credentials of a kind.")
@click.option("--all", "all_credentials", is_flag=True, help="Every credential in the wallet.")
@click.option("--challenge", required=True, help="The challenge the employer gave you.")
@click.option("--domain", required=True, help="The employer's domain (who this is for).")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the presentation here (default stdout).")
@click.option("--disclose", "disclose", multiple=True,
              help="SD-JWT credentials: release only the claim at this JSON pointer "
                   "(e.g. /credentialSubject/result/0). Repeatable; the rest stays hidden.")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False))
@errors_to_exit
def present(wallet_dir: str | None, selected: tuple[str, ...], kinds: tuple[str, ...], all_credentials: bool,
            challenge: str, domain: str, out: str | None, disclose: tuple[str, ...],
            passphrase_file: str | None) -> None:
    """Sign a presentation of chosen credentials for one employer (challenge + domain).

    Only what you select is in it. The signature binds it to this employer and this request.
    A selector matching several credentials lists them and exits 2; damaged files and
    credentials about someone else are never presented (each is reported on stderr).

    \b
    Example:
      skillcred present --select cnc --select 9a1b --challenge 8d1e... --domain werkgever.example -o vp.json
    """
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
