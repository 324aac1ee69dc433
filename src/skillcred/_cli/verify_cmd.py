"""The employer's commands: ``verify``, ``trust ...``, ``status import``."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from skillcred._cli._common import (
    EXIT_NOT_VERIFIED,
    EXIT_OK,
    EXIT_USAGE,
    check_words,
    echo_json,
    errors_to_exit,
    fail,
    warn,
)
from skillcred._cli._options import (
    STATUS_LIST_TYPE,
    build_verifier,
    default_status_cache,
    is_json_file,
    key_documents_from,
    parse_at,
    read_secured_input,
    read_status_token,
    render_proof_report,
    render_report,
    verifier_options,
)
from skillcred._internal.fileio import (
    atomic_write,
    dump_json,
    load_json_object,
)
from skillcred._internal.textsafe import for_terminal
from skillcred.did import DidResolver
from skillcred.errors import MalformedDocument, SkillcredError, SkillcredSecurityWarning
from skillcred.proofs import check_proofs
from skillcred.secured import SecuredCredential
from skillcred.status import list_valid_from
from skillcred.trust import TrustList


def _titles(doc: dict[str, Any]) -> dict[int, str]:
    creds = doc.get("verifiableCredential") if "VerifiablePresentation" in str(doc.get("type")) else [doc]
    creds = creds if isinstance(creds, list) else [creds]
    creds = [c for c in creds if not (isinstance(c, dict) and STATUS_LIST_TYPE in str(c.get("type")))]
    out = {}
    for i, c in enumerate(creds):
        if isinstance(c, dict):
            subj = c.get("credentialSubject")
            ach = subj.get("achievement") if isinstance(subj, dict) else None
            out[i] = str((ach or {}).get("name") if isinstance(ach, dict) else c.get("name") or c.get("name") or "")
    return out


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--qr", "qr", metavar="IMAGE|TEXT",
              help="Check a printed passport's QR code (an image of it, or its text) against --credential "
                   "or --presentation (what the worker sent you), and verify that document.")
@click.option("--credential", "qr_credential", type=click.Path(exists=True, dir_okay=False, allow_dash=True),
              help="With --qr: the credential the code must match.")
@click.option("--presentation", "qr_presentation", type=click.Path(exists=True, dir_okay=False, allow_dash=True),
              help="With --qr: the presentation holding the credential the code must match.")
@click.option("--challenge", help="The challenge you gave the candidate (presentations).")
@click.option("--domain", help="Your domain, as given to the candidate (presentations; required for them "
                               "unless --unsafe-no-domain).")
@click.option("--at", "at", help="Verify as of this time (default now).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout: verified, checks, warnings.")
@click.option("--proof-only", is_flag=True,
              help="Check the proof(s) alone: signature, cryptosuite, and that the verification method "
                   "is authorized for the proof purpose (no issuer binding, dates, status or trust; of a "
                   "presentation its own proof, its credentials unwrapped but not verified).")
@click.option("--key-document", "key_documents", multiple=True, type=click.Path(dir_okay=False),
              help="Controller document for a verification method that is not a did:key. Repeatable.")
@verifier_options
@errors_to_exit
def verify(file: str | None, qr: str | None, qr_credential: str | None, qr_presentation: str | None,
           challenge: str | None, domain: str | None, at: str | None, as_json: bool,
           proof_only: bool, key_documents: tuple[str, ...], trust_file: str | None, status_lists: tuple[str, ...],
           status_cache: str | None, did_documents: tuple[str, ...], unsafe_accept_unknown_status: bool,
           unsafe_no_challenge: bool) -> None:
    """Verify a credential or a candidate's presentation FILE, offline.

    Runs every check (proofs, challenge and domain, issuer, validity, revocation and suspension,
    trust, schema, holder binding) and reports each. Exit 0 verified, 1 not verified, 2 unusable
    input.

    \b
    Example:
      skillcred verify vp.json --trust trust.json --challenge 8d1e... --domain werkgever.example \\
          --status-list revocation-1 --status-list suspension-1
      skillcred verify --qr scan.png --credential cnc.json --trust trust.json --status-list revocation-1
    """
    if qr is not None:
        from skillcred._cli._qr import run_qr_check

        if file or proof_only:
            fail("--qr checks the code against --credential/--presentation; give no FILE or --proof-only with it")
        verifier = build_verifier(trust_file, status_lists, status_cache, did_documents,
                                  unsafe_accept_unknown_status, unsafe_no_challenge,
                                  extra_documents=key_documents_from(key_documents))
        run_qr_check(qr, qr_credential, qr_presentation, verifier, challenge=challenge, domain=domain,
                     at=parse_at(at), as_json=as_json)
    if qr_credential or qr_presentation:
        fail("--credential/--presentation go with --qr; to verify a file alone, give it as FILE")
    if file is None:
        fail("give the FILE to verify (or --qr CODE with --credential/--presentation)")
    secured, baked = read_secured_input(file)
    label = f"baked {baked.upper()}, {secured.label}" if baked else secured.label
    doc = secured.envelope()
    when = parse_at(at)
    if proof_only and secured.format != "di":
        _token_proof_only(secured, file, key_documents + did_documents, challenge, domain, when, as_json)
    if proof_only:
        proof_report = check_proofs(doc, resolver=DidResolver(key_documents_from(key_documents + did_documents)),
                                    challenge=challenge, domain=domain, at=when)
        # a did:web key nobody gave: the refusal's advice names the option (--did-document)
        proof_report = dataclasses.replace(proof_report, checks=tuple(
            dataclasses.replace(c, reason=check_words(c.reason, c.code, "did_documents")) for c in proof_report.checks))
        if as_json:
            click.echo(json.dumps(proof_report.to_dict(), indent=2))
        else:
            click.echo(render_proof_report(proof_report, file))
        warn(PROOF_ONLY_NOTE)
        sys.exit(EXIT_OK if proof_report.verified else EXIT_NOT_VERIFIED)
    verifier = build_verifier(trust_file, status_lists, status_cache, did_documents,
                              unsafe_accept_unknown_status, unsafe_no_challenge,
                              extra_documents=key_documents_from(key_documents))
    report = verifier.check(doc, challenge=challenge, domain=domain, at=when, source=file)
    for w in report.warnings:  # on stderr in --json mode too: stdout stays one JSON object
        warn(w)
    if as_json:
        extra = {"baked": baked} if baked else {}
        echo_json(json.dumps({**report.to_dict(), "format": secured.label, **extra}, indent=2, ensure_ascii=False))
    else:
        lines = render_report(report, _titles(dict(secured.document) if secured.token else doc)).split("\n")
        click.echo("\n".join([lines[0], f"  format: {label} (told from the content)", *lines[1:]]))
    if any(c.id == "document.shape" for c in report.checks):
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK if report.verified else EXIT_NOT_VERIFIED)


PROOF_ONLY_NOTE = ("--proof-only checked the signature alone: not that the key is the issuer's/holder's, "
                   "nor dates, status, trust or a presentation's credentials")


def _token_proof_only(secured: SecuredCredential, file: str, key_documents: tuple[str, ...],
                      challenge: str | None, domain: str | None, when: datetime | None, as_json: bool) -> None:
    """``verify --proof-only`` of a token: its signature, media type, the key's authorization
    for the purpose (and a presentation's enveloped credentials the same way); no dates. Exits."""
    from skillcred.jose import unwrap_nested, verify_cose, verify_jwt
    from skillcred.sdjwt import verify_sd_jwt

    resolver = DidResolver(key_documents_from(key_documents))
    kind = "vp" if secured.presentation else "vc"
    token = secured.token or ""
    method: str | None = None
    # The signature alone, as --proof-only of a Data Integrity document: a key any of the given
    # documents holds (whoever the token names as its issuer/holder), a presentation's own
    # proof (its enveloped credentials unwrapped, not verified), no dates. Said on stderr.
    nested = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkillcredSecurityWarning)
            if secured.format == "jwt":
                jose_result = verify_jwt(token, resolver=resolver, expected_typ=f"{kind}+jwt",  # type: ignore[arg-type]
                                         at=when, check_times=False, verify_credentials=False,
                                         unsafe_skip_party_binding=True)
                method, payload = jose_result.verification_method, jose_result.payload
            elif secured.format == "cose":
                jose_result = verify_cose(token, resolver=resolver, expected_typ=f"{kind}+cose",  # type: ignore[arg-type]
                                          at=when, check_times=False, verify_credentials=False,
                                         unsafe_skip_party_binding=True)
                method, payload = jose_result.verification_method, jose_result.payload
            else:
                sd_result = verify_sd_jwt(
                    token, resolver=resolver, expected_nonce=challenge, expected_aud=domain,
                    require_key_binding=False, at=when, check_times=False, verify_credentials=False,
                    expected_typ="vp+sd-jwt" if secured.presentation else ("vc+sd-jwt", "dc+sd-jwt"),
                    unsafe_skip_party_binding=True)
                method, payload = sd_result.verification_method, sd_result.claims
        if secured.presentation:
            nested = len(unwrap_nested(payload))
        code, reason = "ok", f"{secured.label} signature verified with {method}" + (
            f"; its {nested} enveloped credential{'s are' if nested != 1 else ' is'} well-formed, their own "
            "proofs not checked (verify without --proof-only)" if nested else "")
    except SkillcredError as exc:
        code, reason = str(getattr(exc, "reason", exc.code)), exc.message
        reason = check_words(reason, code, "did_documents")
    verified = code == "ok"
    if as_json:
        click.echo(json.dumps({"verified": verified, "format": secured.label, "checks": [
            {"status": "passed" if verified else "failed", "code": code, "reason": reason,
             "verificationMethod": method}]}, indent=2))
    else:
        click.echo(f"{'VERIFIED' if verified else 'NOT VERIFIED'}: {for_terminal(file)} ({secured.label})\n"
                   f"  {'ok  ' if verified else 'FAIL'} proof: {for_terminal(reason)}"
                   + ("" if verified or reason.startswith(code) else f" ({for_terminal(code)})"))
    warn(PROOF_ONLY_NOTE)
    sys.exit(EXIT_OK if verified else EXIT_NOT_VERIFIED)


@click.group()
def trust() -> None:
    """The employer's list of trusted issuers (and what each may attest)."""


TRUST_FILE = click.option("--trust", "trust_file", type=click.Path(dir_okay=False),
                          help="Trust-list file (default: $SKILLCRED_TRUST or ~/.config/skillcred/trust.json).")


def _trust_path(trust_file: str | None) -> Path:
    if trust_file:
        return Path(trust_file)
    env = os.environ.get("SKILLCRED_TRUST")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "skillcred" / "trust.json"


@trust.command("add")
@TRUST_FILE
@click.argument("did")
@click.option("--name", required=True, help="Display name of the issuer.")
@click.option("--did-document", type=click.Path(exists=True, dir_okay=False),
              help="The issuer's DID document (needed for did:web, stored in the trust list).")
@click.option("--may-attest", "may_attest", multiple=True,
              help="Restrict to an achievement type (Diploma, Certification, Competency, ...) or a skill "
                   "framework ('framework:NAME' or 'framework:URL-PREFIX'). Repeatable; none = everything.")
@click.option("--replace", is_flag=True,
              help="Replace the entry of an issuer already trusted (refused otherwise: it could widen it).")
@errors_to_exit
def trust_add(trust_file: str | None, did: str, name: str, did_document: str | None,
              may_attest: tuple[str, ...], replace: bool) -> None:
    """Trust issuer DID (creates the trust-list file when missing).

    An issuer already trusted keeps its entry unless --replace is given."""
    path = _trust_path(trust_file)
    tl = TrustList.load_or_new(path)
    held = tl.get(did)
    entry = tl.add(did, name=name, did_document=load_json_object(did_document) if did_document else None,
                   may_attest=may_attest, replace=replace)
    tl.save()
    if held is not None:
        warn(f"replaced the entry of {did} (was {held.name!r} for {held.describe_scope()})" if entry is not held
             else f"{did} was already trusted exactly so; nothing changed")
    scope = entry.describe_scope()
    click.echo(f"trusted {for_terminal(did)} ({for_terminal(name)}) for {for_terminal(scope)} in {path}")


@trust.command("import")
@TRUST_FILE
@click.argument("did_document", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", required=True)
@click.option("--may-attest", "may_attest", multiple=True)
@click.option("--replace", is_flag=True, help="Replace the entry of an issuer already trusted.")
@errors_to_exit
def trust_import(trust_file: str | None, did_document: str, name: str, may_attest: tuple[str, ...],
                 replace: bool) -> None:
    """Trust the issuer of a DID document (e.g. an institute's published did.json)."""
    doc = load_json_object(did_document)
    if not isinstance(doc.get("id"), str):
        raise MalformedDocument("a DID document needs an 'id'", path=did_document)
    path = _trust_path(trust_file)
    tl = TrustList.load_or_new(path)
    tl.add(doc["id"], name=name, did_document=None if doc["id"].startswith("did:key:") else doc,
           may_attest=may_attest, replace=replace)
    tl.save()
    click.echo(f"trusted {for_terminal(doc['id'])} ({for_terminal(name)}) in {path}")


@trust.command("list")
@TRUST_FILE
@click.option("--json", "as_json", is_flag=True)
@errors_to_exit
def trust_list(trust_file: str | None, as_json: bool) -> None:
    """Show the trusted issuers."""
    path = _trust_path(trust_file)
    if not path.exists():
        fail(f"{path}: no trust list yet (add an issuer with 'skillcred trust add')")
    tl = TrustList.load(path)
    if as_json:
        click.echo(json.dumps(tl.to_json(), indent=2))
        return
    for i in tl.issuers.values():
        scope = ("everything" if i.unrestricted
                 else ", ".join([*i.achievement_types, *("framework " + f for f in i.frameworks)]))
        click.echo(f"{for_terminal(i.name)}\n    {for_terminal(i.id)}\n    may attest: {for_terminal(scope)}")


@trust.command("remove")
@TRUST_FILE
@click.argument("did")
@errors_to_exit
def trust_remove(trust_file: str | None, did: str) -> None:
    """Stop trusting an issuer."""
    path = _trust_path(trust_file)
    tl = TrustList.load(path)
    entry = tl.remove(did)
    tl.save()
    click.echo(f"removed {for_terminal(did)} ({for_terminal(entry.name)})")


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False),
              help="Verifier cache folder (default: $SKILLCRED_STATUS_CACHE or ~/.cache/skillcred/status).")
@errors_to_exit
def status_import(files: tuple[str, ...], cache_dir: str | None) -> None:
    """Put status lists (Bitstring credentials, IETF Status List Tokens) into the verifier cache.

    They are checked (signature, issuer, freshness) each time they are used, not here; a list
    past its validUntil/ttl is reported as stale. The cache holds one copy per list: a copy
    older (by validFrom) than the one already cached does not replace it (a warning says so),
    since it cannot show revocations made since.
    """
    from skillcred.token_status import peek_status_list_token

    cache = Path(cache_dir) if cache_dir else default_status_cache()
    docs = []
    tokens = []
    for f in files:  # all read and checked before anything is written
        if not is_json_file(f):  # an IETF Status List Token (statuslist+jwt)
            tokens.append((f, read_status_token(f)))
            continue
        doc = load_json_object(f)
        if STATUS_LIST_TYPE not in str(doc.get("type")) or not isinstance(doc.get("id"), str):
            raise MalformedDocument("not a BitstringStatusListCredential with an id", path=f)
        docs.append((f, doc))
    cache.mkdir(parents=True, exist_ok=True)
    for f, doc in docs:
        name = hashlib.sha256(doc["id"].encode()).hexdigest()[:32] + ".json"
        held = _cached_copy(cache / name)
        if held is not None and _newer(held, doc):
            warn(f"{f}: not imported: the cache already holds a newer copy of {doc['id']} "
                 f"(validFrom {held.get('validFrom')}; this one {doc.get('validFrom', 'has none')}), kept")
            continue
        atomic_write(cache / name, dump_json(doc))
        frm = for_terminal(str(doc.get("validFrom", "no start")))
        until = for_terminal(str(doc.get("validUntil", "no end")))
        click.echo(f"cached {for_terminal(doc['id'])} (valid from {frm} until {until})")
    for f, token in tokens:
        read = peek_status_list_token(token)
        target = cache / (hashlib.sha256(read.uri.encode()).hexdigest()[:32] + ".jwt")
        held_iat: int | None = None
        if target.exists():
            try:
                held_iat = peek_status_list_token(read_status_token(target)).iat
            except SkillcredError:
                held_iat = None  # unreadable: overwrite it
        if held_iat is not None and held_iat > (read.iat or 0):
            warn(f"{f}: not imported: the cache already holds a newer copy of {read.uri} "
                 f"(iat {held_iat}; this one {read.iat}), kept")
            continue
        atomic_write(target, (token + "\n").encode("ascii"))
        click.echo(f"cached {for_terminal(read.uri)} (token status list, iat {read.iat}, exp {read.exp})")


def _cached_copy(path: Path) -> dict[str, Any] | None:
    """The copy the cache holds at ``path`` (None: none, or an unreadable one to overwrite)."""
    if not path.exists():
        return None
    try:
        return load_json_object(path)
    except MalformedDocument:
        return None


def _newer(held: dict[str, Any], new: dict[str, Any]) -> bool:
    """The cached copy is strictly newer than ``new`` by validFrom (a copy without a readable
    validFrom is older than any dated one; equal dates: the new copy replaces the held one)."""
    held_at, new_at = list_valid_from(held), list_valid_from(new)
    if held_at is None:
        return False
    return new_at is None or held_at > new_at
