"""The institute's commands: ``issuer init/list/export``, ``issue``, ``revoke``/``suspend``,
``status publish``."""

from __future__ import annotations

import json
import os
import stat
import sys
from datetime import timedelta
from pathlib import Path

import click

from skillcred._cli._common import (
    UNSAFE_KEY_PERMISSIONS,
    echo_json,
    errors_to_exit,
    fail,
    option_words,
    passphrase_for_new_key,
    progress_bar,
    security_warnings_on_stderr,
    unlock,
    warn,
    warn_unsafe_key_permissions,
    write_document,
)
from skillcred._cli._options import REGISTRY_OPTION
from skillcred._internal.fileio import atomic_write
from skillcred._internal.textsafe import for_terminal
from skillcred._internal.timeutil import parse_datetime
from skillcred.errors import MalformedDocument, SkillcredError
from skillcred.issuer import EvidenceInput, Issuer, get_issued, init_issuer, iter_issued, load_achievement
from skillcred.keys import KEY_TYPES
from skillcred.proofs import SUPPORTED_CRYPTOSUITES
from skillcred.registry import IssuedRecord
from skillcred.secured import SecuredCredential


def open_issuer(folder: str, passphrase_file: str | None, *, registry: str | None = None,
                unsafe_allow_open_key_permissions: bool = False) -> Issuer:
    """Open an issuer folder, asking for the key's passphrase only when needed and possible.

    A key file that group or others can read is refused unless ``--unsafe-allow-open-key-permissions``.
    ``registry`` (``--registry``) records elsewhere than the folder's registry.sqlite."""
    warn_unsafe_key_permissions(unsafe_allow_open_key_permissions)

    def open_(passphrase: bytes | None) -> Issuer:
        with security_warnings_on_stderr():
            return Issuer.open(folder, passphrase, registry=registry,
                               unsafe_allow_open_key_permissions=unsafe_allow_open_key_permissions)

    return unlock(open_, passphrase_file, "Passphrase for the issuer key")


def _date(value: str | None, name: str):  # type: ignore[no-untyped-def]
    if not value:
        return None
    if len(value) == 10:
        value += "T00:00:00Z"
    return parse_datetime(value, field=name)


@click.group()
def issuer() -> None:
    """Set up a training institute (or assessor) as an issuer."""


@issuer.command("init")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--name", required=True, help="The institute's name, as shown in credentials.")
@click.option("--url", required=True, help="The institute's web address (https://...).")
@click.option("--did-method", type=click.Choice(["key", "web"]), default="key", show_default=True,
              help="did:key (self-contained) or did:web (publish did.json at --url's domain).")
@click.option("--key-type", type=click.Choice(KEY_TYPES), default="ed25519", show_default=True)
@click.option("--suite", type=click.Choice(SUPPORTED_CRYPTOSUITES),
              help="Cryptosuite for issued credentials (default fits the key type).")
@click.option("--status-base-url", help="Where status lists are hosted (default URL/status).")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False),
              help="Encrypt the key with this passphrase (else SKILLCRED_PASSPHRASE or a prompt).")
@errors_to_exit
def init(folder: str, name: str, url: str, did_method: str, key_type: str, suite: str | None,
         status_base_url: str | None, passphrase_file: str | None) -> None:
    """Create an issuer FOLDER: key, profile, registry; prints the issuer's DID (first line).

    \b
    Example:
      skillcred issuer init roc --name "ROC Techniek" --url https://roc.example --did-method web
    """
    passphrase = passphrase_for_new_key(passphrase_file, what="issuer key")
    profile = init_issuer(folder, name=name, url=url, did_method=did_method,  # type: ignore[arg-type]
                          key_type=key_type, suite=suite,  # type: ignore[arg-type]
                          status_base_url=status_base_url, passphrase=passphrase)
    click.echo(profile.did)
    click.echo(f"verification method: {profile.verification_method}", err=True)
    if did_method == "web":
        from skillcred.did import web_did_url_path

        click.echo(f"publish {Path(folder) / 'did.json'} at {web_did_url_path(profile.did)}", err=True)


@click.command()
@click.option("--issuer", "issuer_dir", required=True, type=click.Path(file_okay=False),
              help="Issuer folder (made by 'skillcred issuer init').")
@click.option("--achievement", type=click.Path(dir_okay=False),
              help="Achievement file (JSON or YAML), e.g. examples/achievements/cnc-programmeren.yaml.")
@click.option("--subject", help="The worker's DID (the credential is about them).")
@click.option("--name", help="The worker's name, shown in the credential.")
@click.option("--level", help="Achieved level (a level of the achievement's rubric, e.g. 3).")
@click.option("--evidence", help="Evidence narrative (what was shown, how it was assessed).")
@click.option("--workplace", help="On-the-job: the workplace.")
@click.option("--hours", type=float, help="On-the-job: hours of practice.")
@click.option("--assessor", help="On-the-job: the assessor (person or organisation).")
@click.option("--period-start", help="On-the-job: start of the period (YYYY-MM-DD).")
@click.option("--period-end", help="On-the-job: end of the period (YYYY-MM-DD).")
@click.option("--valid-from", help="Start of validity (default now).")
@click.option("--valid-until", help="End of validity (default: the achievement's validity period).")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the credential here and print its id (default: the credential on stdout, the id on stderr).")
@click.option("--format", "fmt", type=click.Choice(["di", "jwt", "sd-jwt", "dc+sd-jwt"]), default="di",
              show_default=True,
              help="di: Data Integrity proof; jwt: VC-JOSE (vc+jwt); sd-jwt: selective disclosure "
                   "(name, results, assessor, evidence hidden unless the worker discloses them); dc+sd-jwt: "
                   "IETF SD-JWT VC for EU/NL wallets (flat claims, skills disclosable, Token Status List).")
@click.option("--suite", type=click.Choice([*SUPPORTED_CRYPTOSUITES, "ecdsa-sd-2023"]),
              help="With --format di: the cryptosuite (default: the issuer's). ecdsa-sd-2023 (P-256/P-384 "
                   "issuers) lets the worker disclose claims selectively.")
@click.option("--batch", type=click.Path(dir_okay=False), help="Issue for every row of this roster CSV.")
@click.option("--out-dir", type=click.Path(file_okay=False), help="With --batch: folder for the credentials.")
@click.option("--bake", "bake_out", type=click.Path(dir_okay=False),
              help="Also write the credential baked into a badge image here (*.png or *.svg, Open Badges 3.0).")
@click.option("--bake-image", type=click.Path(exists=True, dir_okay=False),
              help="With --bake: the badge image (default: the achievement's own, else a generated plain badge).")
@click.option("--roster-encoding",
              help="With --batch: the roster's encoding when it is not UTF-8 (e.g. cp1252 for a CSV saved by "
                   "Excel on Windows); UTF-8 with or without a byte-order mark and UTF-16 with one are read as is.")
@click.option("--jsonl", is_flag=True,
              help="With --batch: one JSON Lines archive (OUT_DIR/credentials.jsonl) instead of a file per "
                   "credential, for very large classes; a re-run after a crash completes it.")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False))
@REGISTRY_OPTION
@UNSAFE_KEY_PERMISSIONS
@errors_to_exit
def issue(issuer_dir: str, achievement: str | None, subject: str | None, name: str | None,
          level: str | None, evidence: str | None, workplace: str | None, hours: float | None,
          assessor: str | None, period_start: str | None, period_end: str | None,
          valid_from: str | None, valid_until: str | None, out: str | None, fmt: str, suite: str | None,
          batch: str | None, out_dir: str | None, bake_out: str | None, bake_image: str | None,
          roster_encoding: str | None, jsonl: bool, passphrase_file: str | None,
          unsafe_allow_open_key_permissions: bool, registry: str | None) -> None:
    """Issue a signed skills-passport credential (or a whole class with --batch).

    With -o FILE the credential's id is printed on stdout; without -o the credential alone goes
    to stdout (its id to stderr), so it can be piped into 'skillcred wallet add -'. Re-running a
    batch issues nothing twice.

    \b
    Examples:
      skillcred issue --issuer roc --achievement cnc.yaml --subject did:key:z6Mk... --level 3 -o jan.json
      skillcred issue --issuer roc --batch klas.csv --out-dir issued/
    """
    if bake_image and not bake_out:
        fail("--bake-image needs --bake OUT.png|OUT.svg")
    # an option of the other mode would be silently ignored: refuse it, before any key is opened
    single_only = {"--subject": subject, "--name": name, "--level": level, "--evidence": evidence,
                   "--workplace": workplace, "--hours": hours, "--assessor": assessor,
                   "--period-start": period_start, "--period-end": period_end, "--valid-from": valid_from,
                   "--valid-until": valid_until, "-o/--out": out, "--suite": suite}
    if batch:
        if bake_out:
            fail("--bake bakes one credential; use 'skillcred badge bake' for each of a batch")
        given = [opt for opt, value in single_only.items() if value is not None]
        if given:
            fail(f"{', '.join(given)}: for a single issue; with --batch each roster row gives its own "
                 "(columns subject, name, level, evidence, workplace, hours, assessor, period_start, period_end, "
                 "valid_until); nothing issued")
        if not out_dir:
            fail("--batch needs --out-dir")
        default = load_achievement(achievement) if achievement else None
        from skillcred.issuer import count_roster_rows

        try:  # the whole roster, before a passphrase is asked for and anything is issued
            total = count_roster_rows(Path(batch), encoding=roster_encoding)
        except MalformedDocument as exc:  # a broken line
            raise MalformedDocument(f"{exc.message}; nothing was issued", path=exc.path) from exc
        with open_issuer(issuer_dir, passphrase_file, registry=registry,
                         unsafe_allow_open_key_permissions=unsafe_allow_open_key_permissions) as iss:
            with progress_bar(total, "Issuing", show_pos=True, show_eta=True) as update:
                # keep_records=False: memory flat, however long the roster
                result = iss.issue_batch(batch, out_dir, default_achievement=default, progress=update,
                                         keep_records=False, roster_encoding=roster_encoding, archive=jsonl,
                                         fmt=fmt)
        target = Path(out_dir) / "credentials.jsonl" if jsonl else out_dir
        click.echo(f"issued {result.issued_count}, already issued {result.skipped_count}, "
                   f"failed {len(result.errors)} -> {target}")
        for err in result.errors:
            message = option_words(err.message, err.code, err.field)
            click.echo(f"skillcred: error: {batch}:{err.line}: {for_terminal(message)}", err=True)
        sys.exit(2 if result.errors else 0)
    batch_only = [opt for opt, value in {"--out-dir": out_dir, "--roster-encoding": roster_encoding,
                                         "--jsonl": jsonl}.items() if value]
    if batch_only:
        fail(f"{', '.join(batch_only)}: only with --batch ROSTER; nothing issued")
    if suite and fmt != "di":
        fail(f"--suite is for --format di (Data Integrity), not --format {fmt}; nothing issued")
    if not achievement or not subject:
        fail("issue needs --achievement and --subject (or --batch)")
    if not subject.startswith("did:"):  # before the key is opened (and a passphrase asked for)
        fail(f"--subject must be the worker's DID (did:key:... or did:web:...), not {subject!r}")
    if out and out != "-":
        # Check before issuing: a credential recorded but never written would be issued twice
        # when the user re-runs the command after the error.
        parent = Path(out).parent
        if Path(out).is_dir():
            fail(f"{out}: is a directory, not a file; nothing issued")
        if _is_stream(out):  # a FIFO or a device (/dev/null) is written through: it must be writable
            if not os.access(out, os.W_OK):
                fail(f"{out}: cannot write there (not writable); nothing issued")
        elif not parent.is_dir() or not os.access(parent, os.W_OK):
            fail(f"{out}: cannot write there (folder {parent} is missing or not writable); nothing issued")
    if bake_out:
        _check_bake(bake_out, bake_image, fmt)
    definition = load_achievement(achievement)
    ev = EvidenceInput(narrative=evidence, workplace=workplace, hours=hours, assessor=assessor,
                       period_start=_date(period_start, "--period-start"),
                       period_end=_date(period_end, "--period-end"))
    with open_issuer(issuer_dir, passphrase_file, registry=registry,
                     unsafe_allow_open_key_permissions=unsafe_allow_open_key_permissions) as iss:
        record, _new = iss.issue(definition, subject, name=name, level=level, evidence=ev,
                                 valid_from=_date(valid_from, "--valid-from"),
                                 valid_until=_date(valid_until, "--valid-until"), fmt=fmt,
                                 suite=suite)
    export = f"skillcred issuer export {issuer_dir}{_registry_arg(registry)} {record.id}"
    to_stdout = _is_stream(out)
    # the id on stdout only when the credential goes to a file (ID=$(skillcred issue ... -o f));
    # else stdout carries the credential alone, so `issue ... | skillcred wallet add -` works
    click.echo(record.id, err=to_stdout)
    try:
        _write_issued(record, out)
    except (SkillcredError, OSError) as exc:
        # issued and recorded, but not written: re-running would issue it twice, so say how
        # to get this one back
        problem = exc.message if isinstance(exc, SkillcredError) else (exc.strerror or str(exc))
        fail(f"{out or '<stdout>'}: cannot write the credential ({problem}); it was issued and recorded as "
             f"{record.id}: write it again with '{export} -o FILE'")
    if bake_out:
        from skillcred._cli._options import bake_to_file

        try:
            bake_to_file(SecuredCredential.from_record(record.document), bake_image, bake_out)
        except (SkillcredError, OSError) as exc:
            problem = exc.message if isinstance(exc, SkillcredError) else (exc.strerror or str(exc))
            fail(f"{bake_out}: cannot write the badge ({problem}); the credential was issued as {record.id}: "
                 f"bake it with '{export} -o FILE' and "
                 f"'skillcred badge bake FILE -o {bake_out}'")
        click.echo(f"badge: {bake_out}", err=True)


def _registry_arg(registry: str | None) -> str:
    """`` --registry ...`` for a command line shown in a message (never with the password)."""
    if registry is None:
        return ""
    from skillcred.registry_pg import is_postgres_url, redact_url

    return f" --registry {redact_url(registry) if is_postgres_url(registry) else registry}"


def _check_bake(bake_out: str, bake_image: str | None, fmt: str) -> None:
    """Refuse a --bake that would fail, before anything is issued (as for -o): a credential
    issued and recorded but never handed out would be issued twice on a re-run."""
    from skillcred._cli._options import format_for_output
    from skillcred._internal.fileio import read_bounded
    from skillcred.badge import MAX_BADGE_BYTES, badge_format

    if fmt == "sd-jwt":
        fail("--bake: Open Badges 3.0 bakes a Data Integrity credential or a vc+jwt, not an SD-JWT; nothing issued")
    parent = Path(bake_out).parent
    if Path(bake_out).is_dir():
        fail(f"{bake_out}: is a directory, not a file; nothing issued")
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        fail(f"{bake_out}: cannot write there (folder {parent} is missing or not writable); nothing issued")
    if bake_image:
        made = badge_format(read_bounded(bake_image, max_bytes=MAX_BADGE_BYTES, what="image"))
        if made is None:
            fail(f"{bake_image}: not a PNG or SVG image; nothing issued")
        if made != format_for_output(bake_out):
            fail(f"{bake_out}: the image {bake_image} is a {made.upper()}, so the badge is one too: "
                 f"name it *.{made}; nothing issued")


def _is_stream(out: str | None) -> bool:
    """Does ``-o`` name standard output, a pipe or a device (``/dev/stdout``) rather than a file?"""
    if out is None or out == "-":
        return True
    try:
        return not stat.S_ISREG(os.stat(out).st_mode)
    except OSError:
        return False  # a new file


def _write_issued(record: IssuedRecord, out: str | None) -> None:
    """What was handed out: the signed JSON document, or the token of a vc+jwt / vc+sd-jwt."""
    token = SecuredCredential.from_record(record.document).token
    if token is None:
        write_document(record.document, out)
    elif out is None or out == "-":
        click.echo(token)
    else:
        atomic_write(out, (token + "\n").encode("ascii"))


@issuer.command("list")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--subject", help="Only credentials about this worker's DID.")
@click.option("--achievement", help="Only credentials of this achievement id (as in the achievement file).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (JSON Lines).")
@REGISTRY_OPTION
@errors_to_exit
def issuer_list(folder: str, subject: str | None, achievement: str | None, as_json: bool,
                registry: str | None) -> None:
    """List what the issuer FOLDER has issued, oldest first, with each credential's status.

    Reads the registry only: no key, no passphrase. Columns: id, kind, status (active,
    revoked, suspended), issue date, subject, achievement.

    \b
    Examples:
      skillcred issuer list roc
      skillcred issuer list roc --subject did:key:z6Mk... --json
    """
    count = 0
    for rec in iter_issued(folder, subject=subject, achievement=achievement, registry=registry):
        status = "revoked" if rec.revoked else "suspended" if rec.suspended else "active"
        if as_json:
            echo_json(json.dumps({"id": rec.id, "kind": rec.kind, "status": status, "issuedAt": rec.issued_at,
                                  "validUntil": rec.valid_until, "subject": rec.subject,
                                  "achievement": rec.achievement, "rowKey": rec.row_key}, ensure_ascii=False))
        else:  # subject and achievement come from rosters and achievement files: untrusted text
            t = for_terminal
            click.echo(f"{t(rec.id)}  {t(rec.kind):<10}  {status:<9}  {t(rec.issued_at[:10])}  {t(rec.subject)}  "
                       f"{t(rec.achievement)}")
        count += 1
    if not as_json:
        click.echo(f"{count} credential{'s' if count != 1 else ''}", err=True)


@issuer.command("export")
@click.argument("folder", type=click.Path(file_okay=False))
@click.argument("credential_id")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write here (atomically); default: stdout.")
@REGISTRY_OPTION
@errors_to_exit
def issuer_export(folder: str, credential_id: str, out: str | None, registry: str | None) -> None:
    """Write an issued credential again, exactly as it was signed, from the registry of FOLDER.

    For a credential whose file was lost (or never written: a full disk), or to hand a copy to
    the worker again. No key or passphrase needed; a vc+jwt / vc+sd-jwt is written as its token.
    """
    _write_issued(get_issued(folder, credential_id, registry=registry), out)


def _status_command(action: str, help_text: str) -> click.Command:
    @click.command(action, help=help_text)
    @click.option("--issuer", "issuer_dir", required=True, type=click.Path(file_okay=False))
    @click.argument("credential_id")
    @click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False))
    @REGISTRY_OPTION
    @UNSAFE_KEY_PERMISSIONS
    @errors_to_exit
    def command(issuer_dir: str, credential_id: str, passphrase_file: str | None,
                unsafe_allow_open_key_permissions: bool, registry: str | None) -> None:
        with open_issuer(issuer_dir, passphrase_file, registry=registry,
                         unsafe_allow_open_key_permissions=unsafe_allow_open_key_permissions) as iss:
            changed = getattr(iss, action)(credential_id)
        shown = for_terminal(credential_id)
        click.echo(f"{shown}: {action}{'d' if action.endswith('e') else 'ed'}"
                   if changed else f"{shown}: already {action}{'d' if action.endswith('e') else 'ed'}")
        click.echo("run 'skillcred status publish' so verifiers see the change", err=True)

    return command


revoke = _status_command("revoke", "Revoke a credential for good (fraud, error). Publish afterwards.")
suspend = _status_command("suspend", "Suspend a credential (e.g. a missed re-test). Publish afterwards.")
unsuspend = _status_command("unsuspend", "Lift a suspension. Publish afterwards.")


@click.group()
def status() -> None:
    """Bitstring Status Lists: publish (institute) and import (verifier)."""


@status.command("publish")
@click.option("--issuer", "issuer_dir", required=True, type=click.Path(file_okay=False))
@click.option("--out-dir", required=True, type=click.Path(file_okay=False))
@click.option("--valid-days", type=int, default=7, show_default=True,
              help="How long verifiers may use a copy before it counts as stale.")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False))
@REGISTRY_OPTION
@UNSAFE_KEY_PERMISSIONS
@errors_to_exit
def publish(issuer_dir: str, out_dir: str, valid_days: int, passphrase_file: str | None,
            unsafe_allow_open_key_permissions: bool, registry: str | None) -> None:
    """Write the signed status-list credentials to host (one file per list + index.json)."""
    with open_issuer(issuer_dir, passphrase_file, registry=registry,
                     unsafe_allow_open_key_permissions=unsafe_allow_open_key_permissions) as iss:
        index = iss.publish_status(out_dir, valid_for=timedelta(days=valid_days))
    if not index:
        warn("no credentials issued yet: no status lists to publish")
    for url, name in index.items():
        click.echo(f"{Path(out_dir) / for_terminal(name)}  ->  {for_terminal(url)}")
