"""What the commands share beyond the error boundary: their common options and the few steps
several of them take (build a verifier from the verifier options, read a secured credential
file, parse ``--at``, render a report, bake a badge).

Commands import from here and from :mod:`skillcred._cli._common`, never from one another
(``tests/test_layers.py`` checks it): a command module is the place of its own options and
output only, so moving or reworking one command cannot change another.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from skillcred._cli._common import check_words, fail, read_stdin_bounded, warn
from skillcred._internal.fileio import MAX_JSON_BYTES, atomic_write, load_json_object, parse_json, read_bounded
from skillcred._internal.textsafe import for_terminal
from skillcred._internal.timeutil import parse_datetime
from skillcred.badge import MAX_BADGE_BYTES, BadgeFormat, badge_format, bake, default_image
from skillcred.errors import MalformedDocument, SkillcredError, SkillcredSecurityWarning
from skillcred.secured import SecuredCredential
from skillcred.trust import TrustList, default_trust_path
from skillcred.wallet import read_credentials_input

if TYPE_CHECKING:  # the verifier, the proofs and matching load only in the commands that use them
    from skillcred.proofs import ProofReport
    from skillcred.verify import VerificationReport, Verifier


STATUS_LIST_TYPE = "BitstringStatusListCredential"


def _check_registry(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A ``--registry`` is a PostgreSQL URL or a SQLite file: another URL scheme is a mistake
    (it would be looked for as a file), so it is named at once, before a key is opened."""
    if value is None:
        return None
    if "://" in value and not value.startswith(("postgresql://", "postgres://", "sqlite:///")):
        fail(f"--registry: give a postgresql://user@host/db URL or a SQLite file, not "
             f"{for_terminal(value.split('://', 1)[0])}://...; nothing done")
    return value


#: ``--registry`` of the commands that issue, change status, publish, list or offer: the
#: institute's service may record into PostgreSQL, and the command line must reach the same
#: registry (the issuer folder still holds the key and the profile)
REGISTRY_OPTION = click.option(
    "--registry", "registry", callback=_check_registry, metavar="URL|FILE",
    help="The registry, when not the issuer folder's registry.sqlite: postgresql://user@host/db (as given "
         "to 'skillcred serve --registry'; put the password in PGPASSWORD or ~/.pgpass) or a SQLite file.")


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
                out.append(read_status_token(p))
            except SkillcredError as exc:
                warn(f"{exc} (skipped)")
    return out


def is_json_file(path: str | Path) -> bool:
    head = read_bounded(Path(path), max_bytes=MAX_JSON_BYTES, what="status list")[:64].lstrip()
    return head[:1] in (b"{", b"[")  # JSON (an array is refused as such, naming the problem)


def read_status_token(path: str | Path) -> str:
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


def parse_at(at: str | None):  # type: ignore[no-untyped-def]
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
    from skillcred.verify import VerificationPolicy, Verifier
    from skillcred.verify.verifier import MAX_PRESENTED_CREDENTIALS

    trust = load_trust(trust_file)
    ctx = click.get_current_context(silent=True)
    if unsafe_no_domain is None:
        unsafe_no_domain = bool(ctx.meta.get(_UNSAFE_NO_DOMAIN_KEY)) if ctx else False
    max_credentials = (ctx.meta.get(_MAX_CREDENTIALS_KEY) if ctx else None) or MAX_PRESENTED_CREDENTIALS
    not_before = parse_status_not_before(ctx.meta.get(_STATUS_NOT_BEFORE_KEY) if ctx else None)
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
        if is_json_file(f):
            given.append((f, load_json_object(f)))
        else:
            tokens.append(read_status_token(f))
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
                        token_status_lists=tokens, type_metadata=metadata, wording=check_words)
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


def parse_status_not_before(value: str | None) -> datetime | None:
    """``--status-not-before`` as a datetime (a bare date is its midnight UTC); parsed in the
    command, so a bad value is the usual one-line error naming the option."""
    if not value:
        return None
    return parse_datetime(value if len(value) != 10 else f"{value}T00:00:00Z", field="--status-not-before")


def verifier_options(func: Any) -> Any:
    """The options every verifying command shares."""
    from skillcred.verify.verifier import MAX_PRESENTED_CREDENTIALS

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


def read_secured(file: str) -> SecuredCredential:
    """FILE ('-': stdin) as a :class:`SecuredCredential`: a JSON document, or a vc+jwt / vp+jwt,
    SD-JWT or COSE token, or a baked badge (PNG/SVG) carrying one, told from the content (the
    file name says nothing)."""
    return read_secured_input(file)[0]


def read_secured_input(file: str) -> tuple[SecuredCredential, str | None]:
    """:func:`read_secured`, and the image format (``png``/``svg``) when FILE is a baked badge
    (its credential is taken out as ``badge unbake`` does, then verified like any other file)."""
    from skillcred.badge import unbake

    source = "<stdin>" if file == "-" else file
    # read up to a badge's limit: images are larger than credentials; a non-image keeps the JSON limit
    data = read_stdin_bounded(MAX_BADGE_BYTES) if file == "-" else \
        read_bounded(file, max_bytes=MAX_BADGE_BYTES, what="file")
    image = badge_format(data)
    if image is not None:
        found = unbake(data, source=source).credential
        if isinstance(found, SecuredCredential):
            return found, image
        return SecuredCredential("di", found, presentation="VerifiablePresentation" in str(found.get("type"))), image
    if len(data) > MAX_JSON_BYTES:
        raise MalformedDocument(f"{'input' if file == '-' else 'file'} is {len(data):,} bytes, larger than the "
                                f"{MAX_JSON_BYTES:,}-byte limit", path=source)
    return _secured_from_bytes(data, source), None


def _secured_from_bytes(data: bytes, source: str) -> SecuredCredential:
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


def render_proof_report(report: ProofReport, source: str) -> str:
    """The proof report for a terminal; the cryptosuite and reasons come from the document,
    so they are passed through ``for_terminal``."""
    lines = [f"{'VERIFIED' if report.verified else 'NOT VERIFIED'}: {for_terminal(source)}"]
    for c in report.checks:
        mark = "ok  " if c.status == "passed" else "FAIL"
        what = f"proof[{c.index}]"
        if c.cryptosuite:
            what += f" {for_terminal(c.cryptosuite)}"
        lines.append(f"  {mark} {what}: {for_terminal(c.reason)}")
    return "\n".join(lines)


def format_for_output(out: str) -> BadgeFormat:
    """The badge format an output path asks for: ``.svg`` is SVG, anything else PNG."""
    return "svg" if Path(out).suffix.lower() == ".svg" else "png"


def read_credential_file(path: str) -> list[tuple[str, dict[str, Any] | SecuredCredential]]:
    """The credentials of a file or stdin (``-``): JSON, a token file, or a baked badge. A badge
    image may be larger than a JSON file may (:data:`~skillcred.badge.MAX_BADGE_BYTES`); the
    JSON bound holds for everything else."""
    if path == "-":
        data, source = read_stdin_bounded(MAX_BADGE_BYTES), "<stdin>"
    else:
        data, source = read_bounded(path, max_bytes=MAX_BADGE_BYTES), path
    if len(data) > MAX_JSON_BYTES and badge_format(data) is None:
        raise MalformedDocument(f"file is {len(data):,} bytes, larger than the {MAX_JSON_BYTES:,}-byte limit",
                                path=source)
    return read_credentials_input(data, source)


def bake_to_file(credential: dict[str, Any] | SecuredCredential, image: str | None, out: str) -> None:
    """Bake ``credential`` into ``image`` (or the achievement's image, or a generated one) and
    write the badge to ``out`` atomically."""
    fmt = format_for_output(out)
    if image is None:
        data, source = default_image(credential, fmt), "<generated image>"
    else:
        data, source = read_bounded(image, max_bytes=MAX_BADGE_BYTES, what="image"), image
    baked = bake(data, credential, source=source)
    made = "svg" if not baked.startswith(b"\x89PNG") else "png"
    if made != fmt:
        fail(f"{out}: the image is a {made.upper()}, so the badge is one too: name it *.{made}")
    atomic_write(out, baked)


NOT_A_PRESENTATION = ("not a signed presentation: nothing shows that the candidate holds it "
                      "(no holder signature, no challenge)")


def skill_framework(frameworks: tuple[str, ...], use_esco: bool = True) -> Any:
    """The framework files merged over ESCO's skill hierarchy (the user's imported ESCO store,
    else the embedded snapshot), so ESCO URIs need no framework file; ``--no-esco``: files only."""
    esco = None
    if use_esco:
        from skillcred.esco import default_taxonomy

        esco = default_taxonomy()
    from skillcred.match import load_framework

    return load_framework(frameworks, esco=esco)


def presentation_failure(result: Any) -> str | None:
    """Why the presentation itself does not verify (``None`` when it does).

    A bare credential (or any other document) is not a presentation: it carries no holder
    signature and no challenge, so it must never pass for a verified candidate."""
    report = result.report
    if report.kind != "presentation":
        bad = next((c for c in report.checks if c.id.startswith("document") and not c.ok), None)
        return f"{bad.id}: {bad.reason}" if bad else NOT_A_PRESENTATION
    bad = next((c for c in report.checks if c.id.startswith("presentation") and not c.ok), None)
    return f"{bad.id}: {bad.reason}" if bad else None
