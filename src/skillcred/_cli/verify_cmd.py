"""The employer's commands: ``verify``, ``trust ...``, ``status import``."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from skillcred._cli._common import (
    EXIT_NOT_VERIFIED,
    EXIT_OK,
    EXIT_USAGE,
    echo_json,
    errors_to_exit,
    fail,
    read_stdin_bounded,
    warn,
)
from skillcred._cli.sign_cmd import render_proof_report
from skillcred._internal.fileio import (
    MAX_JSON_BYTES,
    atomic_write,
    dump_json,
    load_json_object,
    parse_json,
    read_bounded,
)
from skillcred._internal.textsafe import for_terminal
from skillcred._internal.timeutil import parse_datetime
from skillcred.did import DidResolver
from skillcred.errors import MalformedDocument, SkillcredError, SkillcredSecurityWarning
from skillcred.proofs import check_proofs
from skillcred.secured import SecuredCredential
from skillcred.status import list_valid_from
from skillcred.trust import TrustList, default_trust_path
from skillcred.verify import VerificationPolicy, VerificationReport, Verifier
from skillcred.verify.verifier import MAX_PRESENTED_CREDENTIALS

STATUS_LIST_TYPE = "BitstringStatusListCredential"


def default_status_cache() -> Path:
    env = os.environ.get("SKILLCRED_STATUS_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "skillcred" / "status"


def _cached_status_lists(cache: Path) -> list[dict[str, Any]]:
    """The lists in the status cache; one that is not a regular file in the folder (a link, a
    FIFO, a device), too large or damaged is a warning line and skipped, never fatal."""
    out = []
    if cache.is_dir():
        for p in sorted(cache.glob("*.json")):
            try:
                out.append(load_json_object(p, follow_symlinks=False))
            except MalformedDocument as exc:
                warn(f"{exc} (skipped)")
    return out


def _cached_status_tokens(cache: Path) -> list[str]:
    """The IETF Status List Tokens (``*.jwt``) in the status cache; a damaged one is skipped."""
    out = []
    if cache.is_dir():
        for p in sorted(cache.glob("*.jwt")):
            try:
                out.append(_read_status_token(p))
            except SkillcredError as exc:
                warn(f"{exc} (skipped)")
    return out


def _is_json_file(path: str | Path) -> bool:
    head = read_bounded(Path(path), max_bytes=MAX_JSON_BYTES, what="status list")[:64].lstrip()
    return head[:1] in (b"{", b"[")  # JSON (an array is refused as such, naming the problem)


def _read_status_token(path: str | Path) -> str:
    """A Status List Token file (``statuslist+jwt``), checked for shape (not verified)."""
    from skillcred.token_status import peek_status_list_token

    raw = read_bounded(Path(path), max_bytes=MAX_JSON_BYTES, what="status list")
    try:
        text = raw.decode("ascii").strip()
        peek_status_list_token(text)
    except (UnicodeDecodeError, SkillcredError) as exc:
        why = exc.message if isinstance(exc, SkillcredError) else "not ASCII"
        raise MalformedDocument(f"neither a BitstringStatusListCredential nor a Status List Token ({why})",
                                path=str(path)) from None
    return text


def load_trust(trust_file: str | None) -> TrustList | None:
    if trust_file:
        return TrustList.load(trust_file)
    default = default_trust_path()
    if default is not None and default.exists():
        return TrustList.load(default)
    return None


def _parse_at(at: str | None):  # type: ignore[no-untyped-def]
    if not at:
        return None
    return parse_datetime(at if len(at) != 10 else f"{at}T00:00:00Z", field="--at")


def build_verifier(trust_file: str | None, status_lists: tuple[str, ...], status_cache: str | None,
                   did_documents: tuple[str, ...], unsafe_accept_unknown_status: bool,
                   unsafe_no_challenge: bool, *, extra_documents: Sequence[Mapping[str, Any]] = (),
                   unsafe_no_domain: bool | None = None) -> Verifier:
    """Options -> a Verifier (shared by verify, match and rank); ``extra_documents`` are
    controller documents already read (``verify --key-document``).

    ``unsafe_no_domain`` None: as ``--unsafe-no-domain`` says (rank decides for itself)."""
    trust = load_trust(trust_file)
    ctx = click.get_current_context(silent=True)
    if unsafe_no_domain is None:
        unsafe_no_domain = bool(ctx.meta.get(_UNSAFE_NO_DOMAIN_KEY)) if ctx else False
    max_credentials = (ctx.meta.get(_MAX_CREDENTIALS_KEY) if ctx else None) or MAX_PRESENTED_CREDENTIALS
    not_before = _parse_status_not_before(ctx.meta.get(_STATUS_NOT_BEFORE_KEY) if ctx else None)
    own_only = bool(ctx.meta.get(_OWN_STATUS_ONLY_KEY)) if ctx else False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkillcredSecurityWarning)
        policy = VerificationPolicy(trust=trust, unsafe_accept_unknown_status=unsafe_accept_unknown_status,
                                    unsafe_no_challenge=unsafe_no_challenge, max_credentials=max_credentials,
                                    status_not_before=not_before, status_from_presentation=not own_only,
                                    unsafe_no_domain=unsafe_no_domain)
    if unsafe_accept_unknown_status:
        warn("UNSAFE: credentials whose revocation status cannot be determined will be accepted")
    if unsafe_no_challenge:
        warn("UNSAFE: presentations are accepted without a challenge: a replayed presentation passes")
    if unsafe_no_domain:
        warn("UNSAFE: presentations are accepted without a domain: one made for another verifier passes")
    cache = Path(status_cache) if status_cache else default_status_cache()
    tokens = _cached_status_tokens(cache)
    given: list[tuple[str | None, dict[str, Any]]] = [(None, lst) for lst in _cached_status_lists(cache)]
    for f in status_lists:
        if _is_json_file(f):
            given.append((f, load_json_object(f)))
        else:
            tokens.append(_read_status_token(f))
    documents = []
    for f in did_documents:
        doc = load_json_object(f)
        # a file of the wrong kind (a credential, a status list) is named, not half-used
        if not (isinstance(doc.get("id"), str) and doc["id"].startswith("did:")) or "proof" in doc \
                or "credentialSubject" in doc:
            kind = "a credential" if "credentialSubject" in doc else "not a DID document"
            raise MalformedDocument(f"--did-document: {kind}; expected a DID document "
                                    "(a JSON object whose 'id' is the DID, e.g. a did:web's did.json)", path=f)
        documents.append(doc)
    metadata = [load_json_object(p) for p in ((ctx.meta.get(_TYPE_METADATA_KEY) if ctx else None) or ())]
    verifier = Verifier(policy, did_documents=[*documents, *extra_documents],
                        token_status_lists=tokens, type_metadata=metadata)
    for source, lst in given:
        try:
            verifier.add_status_list(lst)
        except MalformedDocument as exc:
            if source is None:
                raise
            raise MalformedDocument(f"--status-list: {exc.message} (a status list credential, as "
                                    "'skillcred status publish' writes it)", path=source) from exc
    return verifier


_MAX_CREDENTIALS_KEY = "skillcred.max_credentials"


def _remember_max_credentials(ctx: click.Context, _param: click.Parameter, value: int) -> int:
    # kept in the context (not a parameter of every verifying command) for build_verifier
    ctx.meta[_MAX_CREDENTIALS_KEY] = value
    return value


_STATUS_NOT_BEFORE_KEY = "skillcred.status_not_before"
_OWN_STATUS_ONLY_KEY = "skillcred.own_status_lists_only"
_UNSAFE_NO_DOMAIN_KEY = "skillcred.unsafe_no_domain"
_TYPE_METADATA_KEY = "skillcred.type_metadata"


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A click callback keeping an option's value in the context for build_verifier (as
    --max-credentials does), so the verifying commands' signatures need not list it."""
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        ctx.meta[key] = value
        return value
    return callback


def _parse_status_not_before(value: str | None) -> datetime | None:
    """``--status-not-before`` as a datetime (a bare date is its midnight UTC); parsed in the
    command, so a bad value is the usual one-line error naming the option."""
    if not value:
        return None
    return parse_datetime(value if len(value) != 10 else f"{value}T00:00:00Z", field="--status-not-before")


def verifier_options(func: Any) -> Any:
    """The options every verifying command shares."""
    opts = [
        click.option("--trust", "trust_file", type=click.Path(dir_okay=False),
                     help="Trust list of issuers (default: $SKILLCRED_TRUST or ~/.config/skillcred/trust.json)."),
        click.option("--status-list", "status_lists", multiple=True, type=click.Path(exists=True, dir_okay=False),
                     help="A status list: Bitstring credential or Status List Token (statuslist+jwt). Repeatable."),
        click.option("--status-cache", type=click.Path(file_okay=False),
                     help="Folder of imported status lists "
                          "(default: $SKILLCRED_STATUS_CACHE or ~/.cache/skillcred/status)."),
        click.option("--did-document", "did_documents", multiple=True, type=click.Path(exists=True, dir_okay=False),
                     help="Extra DID/controller document for offline resolution. Repeatable."),
        click.option("--type-metadata", multiple=True, type=click.Path(exists=True, dir_okay=False),
                     expose_value=False, callback=_remember(_TYPE_METADATA_KEY),
                     help="SD-JWT VC type metadata (JSON) you trust for a vct skillcred does not bundle; "
                          "never fetched. Repeatable."),
        click.option("--max-credentials", type=click.IntRange(min=1), default=MAX_PRESENTED_CREDENTIALS,
                     show_default=True, expose_value=False, callback=_remember_max_credentials,
                     help="Refuse a presentation holding more credentials than this, before checking any "
                          "(bounds the work an untrusted file can cause)."),
        click.option("--status-not-before", metavar="DATE", expose_value=False,
                     callback=_remember(_STATUS_NOT_BEFORE_KEY),
                     help="A status list issued (validFrom) before DATE is too old: the status is then "
                          "indeterminate. Revocations after a list's validFrom are invisible in it."),
        click.option("--own-status-lists-only", is_flag=True, expose_value=False,
                     callback=_remember(_OWN_STATUS_ONLY_KEY),
                     help="Ignore status lists carried in the presentation (the candidate chooses those); "
                          "only --status-list files and the cache count."),
        click.option("--unsafe-accept-unknown-status", is_flag=True,
                     help="UNSAFE: accept credentials whose status list is not available."),
        click.option("--unsafe-no-challenge", is_flag=True,
                     help="UNSAFE: accept presentations without checking a challenge (replay possible)."),
        click.option("--unsafe-no-domain", is_flag=True, expose_value=False,
                     callback=_remember(_UNSAFE_NO_DOMAIN_KEY),
                     help="UNSAFE: accept presentations without checking their domain (one made for another "
                          "verifier passes). Without --domain the domain check is otherwise indeterminate."),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


_MARK = {"passed": "ok  ", "failed": "FAIL", "not_applicable": "n/a ", "indeterminate": "????"}


def render_report(report: VerificationReport, titles: dict[int, str] | None = None) -> str:
    """The report for a terminal. Every value that comes from the document (ids, titles,
    reasons, warnings) is passed through ``for_terminal``: a name holding ``\\r`` or an ANSI
    escape must not be able to overwrite or restyle the verdict line."""
    t = for_terminal
    head = "VERIFIED" if report.verified else "NOT VERIFIED"
    what = (f"presentation {t(report.presentation_id or '')}".strip() if report.kind == "presentation"
            else "credential")
    lines = [f"{head}: {t(report.source or '-')} ({what}, checked at {t(report.checked_at)})"]
    current = None
    for c in report.checks:
        group = c.id.split(".", 1)[0]
        if group != current:
            current = group
            if group.startswith("credential"):
                idx = int(group[11:-1]) if group.startswith("credential[") else 0
                title = (titles or {}).get(idx, "")
                cid = report.credential_ids[idx] if idx < len(report.credential_ids) else None
                lines.append(f"  {t(group)}: {t(title)} {t(cid or '')}".rstrip())
            else:
                lines.append(f"  {t(group)}:")
        lines.append(f"    {_MARK[c.status]} {c.step:>2}. {t(c.id.split('.', 1)[1]):<15} {t(c.reason)}")
    for w in report.warnings:
        lines.append(f"  warning: {t(w)}")
    return "\n".join(lines)


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
        from skillcred._cli.qr_cmd import run_qr_check

        if file or proof_only:
            fail("--qr checks the code against --credential/--presentation; give no FILE or --proof-only with it")
        verifier = build_verifier(trust_file, status_lists, status_cache, did_documents,
                                  unsafe_accept_unknown_status, unsafe_no_challenge,
                                  extra_documents=key_documents_from(key_documents))
        run_qr_check(qr, qr_credential, qr_presentation, verifier, challenge=challenge, domain=domain,
                     at=_parse_at(at), as_json=as_json)
    if qr_credential or qr_presentation:
        fail("--credential/--presentation go with --qr; to verify a file alone, give it as FILE")
    if file is None:
        fail("give the FILE to verify (or --qr CODE with --credential/--presentation)")
    secured = read_secured(file)
    doc = secured.envelope()
    when = _parse_at(at)
    if proof_only and secured.format != "di":
        _token_proof_only(secured, file, key_documents + did_documents, challenge, domain, when, as_json)
    if proof_only:
        proof_report = check_proofs(doc, resolver=DidResolver(key_documents_from(key_documents + did_documents)),
                                    challenge=challenge, domain=domain, at=when)
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
        echo_json(json.dumps({**report.to_dict(), "format": secured.label}, indent=2, ensure_ascii=False))
    else:
        lines = render_report(report, _titles(dict(secured.document) if secured.token else doc)).split("\n")
        click.echo("\n".join([lines[0], f"  format: {secured.label} (told from the content)", *lines[1:]]))
    if any(c.id == "document.shape" for c in report.checks):
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK if report.verified else EXIT_NOT_VERIFIED)


def read_secured(file: str) -> SecuredCredential:
    """FILE ('-': stdin) as a :class:`SecuredCredential`: a JSON document, or a vc+jwt / vp+jwt,
    SD-JWT or COSE token, told from the content (the file name says nothing)."""
    source = "<stdin>" if file == "-" else file
    data = read_stdin_bounded() if file == "-" else read_bounded(file, max_bytes=MAX_JSON_BYTES)
    text = data.strip()
    if not data.startswith((b"\xd2\x84", b"\x84")) and (text[:1] in (b"{", b"[") or not text.isascii()):
        value = parse_json(data, source=source)  # the JSON path exactly as before (same messages)
        if not isinstance(value, dict):
            raise MalformedDocument("expected a JSON object at the top level", path=source)
        return SecuredCredential("di", value, presentation="VerifiablePresentation" in str(value.get("type")))
    return SecuredCredential.from_file_bytes(data, source)


def key_documents_from(paths: Sequence[str]) -> list[dict[str, Any]]:
    """``--key-document`` files as controller documents. A file may hold a controller document,
    or one bare verification method (``controller`` and a public key, as the vc-jose-cose suite
    ships them): methods of one controller become that controller's document, listed for
    assertionMethod and authentication (what a controller publishing the method says)."""
    docs: list[dict[str, Any]] = []
    methods: dict[str, list[dict[str, Any]]] = {}
    for path in paths:
        doc = load_json_object(path)
        if not isinstance(doc.get("id"), str):
            raise MalformedDocument("a controller document needs an 'id'", path=path)
        bare = "verificationMethod" not in doc and isinstance(doc.get("controller"), str) and (
            "publicKeyJwk" in doc or "publicKeyMultibase" in doc)
        if bare:
            if any(k in doc for k in ("secretKeyJwk", "privateKeyJwk", "secretKeyMultibase")):
                warn(f"{path}: holds a private key; only its public key is used (keep private keys out "
                     "of key documents)")
            public = {k: v for k, v in doc.items()
                      if k not in ("secretKeyJwk", "privateKeyJwk", "secretKeyMultibase")}
            methods.setdefault(str(doc["controller"]), []).append(public)
        else:
            docs.append(doc)
    for controller, vms in methods.items():
        ids = [vm["id"] for vm in vms]
        docs.append({"id": controller, "verificationMethod": vms, "assertionMethod": ids, "authentication": ids})
    return docs


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
        if not _is_json_file(f):  # an IETF Status List Token (statuslist+jwt)
            tokens.append((f, _read_status_token(f)))
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
                held_iat = peek_status_list_token(_read_status_token(target)).iat
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
