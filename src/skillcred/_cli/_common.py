"""What every command shares: the error boundary, passphrases, reading and writing documents.

Exit codes (stable): 0 success / verified, 1 not verified (or gaps found), 2 usage or input
error. A :class:`~skillcred.errors.SkillcredError` becomes one line on stderr naming the file
and the problem; an unexpected exception too (with ``SKILLCRED_DEBUG=1`` for the traceback),
so a user never sees a traceback by default.

Library messages embed untrusted values (a DID document's id, a name from a credential), so
:func:`fail` and :func:`warn` pass them through :func:`~skillcred._internal.textsafe.for_terminal`:
no control or bidi character from a file reaches the terminal. JSON for stdout goes through
:func:`echo_json` for the same reason.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar

import click

from skillcred._internal.fileio import (
    MAX_JSON_BYTES,
    MAX_SECRET_BYTES,
    atomic_write,
    dump_json,
    load_json_object,
    parse_json,
    read_at_most,
    read_bounded,
)
from skillcred._internal.textsafe import for_json, for_terminal
from skillcred.errors import KeyFileError, MalformedDocument, SkillcredError, SkillcredSecurityWarning, WrongPassphrase
from skillcred.keys import KeyPair, read_key_file

EXIT_OK = 0
EXIT_NOT_VERIFIED = 1
EXIT_USAGE = 2

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"skillcred: error: {for_terminal(message)}", err=True)
    sys.exit(code)


def warn(message: str) -> None:
    click.echo(f"skillcred: warning: {for_terminal(message)}", err=True)


def echo_json(text: str) -> None:
    """Print JSON text on stdout with no raw C1, bidi or separator character in it (they come
    out as ``\\uXXXX``): ``ensure_ascii=False`` keeps names readable but passes those through,
    and a terminal would act on them. The parsed value is unchanged."""
    click.echo(for_json(text))


#: (error code, field) -> (the library's words for the parameter, the command line's): the library
#: names its parameters (``name``, ``may_attest=``), this layer its options (``--name``,
#: ``--may-attest``), so a message says what the user typed. The first phrase of an entry found in
#: the message is replaced, once; a message without any of them is shown as it is.
OPTION_WORDING: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("invalid_argument", "name"): (("name must not be empty", "--name must not be empty"),),
    ("invalid_argument", "url"): (("url must be an http(s) URL", "--url must be an http(s) URL"),
                                  ("https:// url (", "https:// --url (")),
    ("invalid_argument", "did_method"): (("did_method must", "--did-method must"),),
    ("invalid_argument", "level"): (("needs a level (", "needs --level ("),
                                    ("so a level cannot be given", "so --level cannot be used")),
    ("invalid_argument", "evidence.assessor"): (("(evidence.assessor)", "(--assessor)"),),
    ("invalid_argument", "evidence.narrative"): (("(evidence.narrative)", "(--evidence narrative)"),),
    ("invalid_argument", "default_achievement"): (("no default_achievement given", "no --achievement given"),),
    ("invalid_argument", "min_essential"): (("min_essential: ", "--min-essential: "),),
    ("invalid_argument", "selectors"): (
        ("give selectors (ID/NAME/KIND), kinds or all_credentials=True",
         "use --select ID/NAME/KIND, --kind KIND or --all"),
        ("an empty selector matches", "an empty --select matches")),
    ("invalid_argument", "disclose"): (("disclose applies", "--disclose applies"),),
    ("invalid_argument", "may_attest"): (("may_attest ", "--may-attest "),),
    ("invalid_argument", "did_document"): (("(did_document)", "(--did-document FILE)"),),
    ("resolution_failed", "did_documents"): (("or pass did_documents)", "or pass --did-document)"),),
    ("invalid_argument", "replace"): (("pass replace=True", "pass --replace (replace=True)"),),
    ("invalid_argument", "token_file"): (
        ("give either token_file or unsafe_open_issuing", "give either --token-file or --unsafe-open-issuing"),
        ("(token_file), or unsafe_open_issuing", "(--token-file), or --unsafe-open-issuing"),
        ("(token_file), or unsafe_open_pool", "(--token-file FILE), or --unsafe-open-pool")),
    ("invalid_argument", "public_url"): (("public_url ", "--public-url "),),
    ("wallet_error", "force_foreign"): (("use force_foreign=True", "use --force-foreign"),),
    ("wallet_error", "force"): (("or force=True to replace", "or --force / force=True to replace"),),
    ("wallet_error", "disclose"): (("disclose applies", "--disclose applies"),),
    ("oid4vp_request_invalid", "verifier_did_document"): (
        ("give it (verifier_did_document)", "pass --verifier-did-document FILE"),),
    ("oid4vci_error", "tx_code"): (("separately (tx_code)", "separately (--tx-code)"),),
    ("pdf_render_failed", "html"): (("print the HTML page (to_html) from", "print the --html page from"),),
}


def option_words(text: str, code: str | None, field: str | None) -> str:
    """``text`` (a library message of error ``code`` about parameter ``field``) in the command
    line's words: the parameter becomes its option (see :data:`OPTION_WORDING`)."""
    for library, option in OPTION_WORDING.get((code or "", field or ""), ()):
        if library in text:
            return text.replace(library, option, 1)
    return text


#: (check code, ``Check.hint``) -> (the library's words in the check's reason, the command
#: line's; code ``""``: any check with that hint): a report's advice names the option. Every phrase
#: found is replaced (a reason may advise two things); the CLI's verifiers apply it as each
#: check is made (``Verifier(wording=check_words)``), so what the CLI prints is worded alike.
CHECK_WORDING: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("too_many_credentials", "max_credentials"): (
        ("(VerificationPolicy.max_credentials)", "(VerificationPolicy.max_credentials, --max-credentials)"),),
    ("challenge_not_given", "challenge"): (("(pass challenge=...)", "(pass --challenge)"),),
    ("domain_not_given", "domain"): (("(pass domain=...)", "(pass --domain)"),),
    ("unsafe_no_holder_binding", "require_holder_binding"): (
        ("(require_holder_binding=False)", "(require_holder_binding=False, --unsafe-no-holder-binding)"),),
    ("status_unavailable", "status_lists"): (
        ("status_from_presentation=False)", "status_from_presentation=False, --own-status-lists-only)"),
        ("(give it with status_lists or", "(give it with --status-list or"),
        ("(give it with token_status_lists or", "(give it with --status-list or")),
    ("status_list_too_old", "status_not_before"): (
        ("(status_not_before)", "(status_not_before, --status-not-before)"),),
    # any check quoting a did:web refusal (its proof, its status list's proof): code ""
    ("", "did_documents"): (("or pass did_documents)", "or pass --did-document)"),),
}


def check_words(reason: str, code: str, hint: str) -> str:
    """A check's ``reason`` (of check ``code``, advising parameter ``hint``) in the command
    line's words (see :data:`CHECK_WORDING`)."""
    for library, option in CHECK_WORDING.get((code, hint)) or CHECK_WORDING.get(("", hint), ()):
        reason = reason.replace(library, option, 1)
    return reason


def cli_message(exc: SkillcredError) -> str:
    """``str(exc)`` as the command line shows it (:func:`option_words`)."""
    return option_words(str(exc), exc.code, getattr(exc, "field", None))


def errors_to_exit(func: F) -> F:
    """Turn library errors into a one-line message and exit 2 (never a traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SkillcredError as exc:
            fail(cli_message(exc))
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except click.exceptions.Abort:
            # Ctrl-C (or the end of input) at a prompt: click turns it into Abort
            fail("interrupted at a prompt (Ctrl-C or end of input); nothing was done", 130)
        except BrokenPipeError:
            # the reader went away (`skillcred issuer list | head`): stop quietly, as Unix tools do
            _quiet_stdout()
            sys.exit(141)  # 128 + SIGPIPE, what a shell reports for a tool killed by it
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("SKILLCRED_DEBUG"):
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            fail(f"unexpected {type(exc).__name__}: {first} (set SKILLCRED_DEBUG=1 for details)")

    return wrapper  # type: ignore[return-value]


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (ValueError, AttributeError):
        return False


@contextlib.contextmanager
def progress_bar(length: int, label: str, **options: Any) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr, only when stderr is a terminal (and ``TERM`` is not
    ``dumb``); yields its ``update``. In a log or a pipe it would only add carriage returns
    and noise, so there it does nothing."""
    if not _stderr_is_tty() or os.environ.get("TERM") == "dumb":
        yield lambda _n: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr, **options) as bar:
        yield bar.update


def stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, AttributeError):
        return False


def _read_passphrase_file(path: str) -> bytes:
    data = read_bounded(path, max_bytes=MAX_SECRET_BYTES, what="passphrase file", error=KeyFileError)
    return data.rstrip(b"\r\n")


UNSAFE_KEY_PERMISSIONS = click.option(
    "--unsafe-allow-open-key-permissions", "unsafe_allow_open_key_permissions", is_flag=True,
    help="UNSAFE: sign even with a key file that group or others can read (refused otherwise; warns).")


UNSAFE_HTTP_LOOPBACK = click.option(
    "--unsafe-allow-http-loopback", "unsafe_allow_http_loopback", is_flag=True,
    help="UNSAFE: also talk plain http to a service on this machine (127.0.0.1, ::1, localhost), for tests "
         "and demos; https only otherwise (warns). Plain http to any other host is always refused.")


@contextlib.contextmanager
def http_loopback_warned(unsafe_allow_http_loopback: bool, what: str) -> Iterator[None]:
    """Say once on stderr that ``--unsafe-allow-http-loopback`` is on, and keep the library's own
    warning about it (one per URL checked) from repeating that line."""
    if unsafe_allow_http_loopback:
        warn(f"UNSAFE: --unsafe-allow-http-loopback: {what} may use plain http to this machine; anything here "
             "that can listen on that port can read and alter what is sent")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="unsafe_allow_http_loopback", category=SkillcredSecurityWarning)
        yield


@contextlib.contextmanager
def security_warnings_on_stderr() -> Iterator[None]:
    """Show the library's :class:`SkillcredSecurityWarning` s raised in the block as
    ``skillcred: warning: ...`` lines (not Python's two-line warning format); others pass on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SkillcredSecurityWarning)
        try:
            yield
        finally:
            for w in caught:
                if issubclass(w.category, SkillcredSecurityWarning):
                    warn(str(w.message))
                else:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def warn_unsafe_key_permissions(unsafe_allow_open_key_permissions: bool) -> None:
    if unsafe_allow_open_key_permissions:
        warn("UNSAFE: --unsafe-allow-open-key-permissions: a signing key that other accounts can read is used")


def passphrase_for_new_key(passphrase_file: str | None, *, what: str = "key") -> bytes | None:
    """Passphrase for a key being created: file, env, prompt (tty only), else none + warning."""
    if passphrase_file:
        return _read_passphrase_file(passphrase_file) or None
    env = os.environ.get("SKILLCRED_PASSPHRASE")
    if env is not None:
        return env.encode("utf-8") or None
    if stdin_is_tty():
        value = click.prompt(
            f"Passphrase to encrypt the {what} (empty for none)",
            default="",
            hide_input=True,
            confirmation_prompt=True,
            show_default=False,
        )
        if not value:
            warn(f"the {what} is stored unencrypted (file mode 0600)")
        return value.encode("utf-8") or None
    warn(
        f"no passphrase given (SKILLCRED_PASSPHRASE or --passphrase-file): the {what} is "
        "stored unencrypted (file mode 0600)"
    )
    return None


def load_key(path: str, passphrase_file: str | None, *, signing: bool = False,
             unsafe_allow_open_key_permissions: bool = False) -> KeyPair:
    """Open a key file, asking for the passphrase only when needed and possible.

    A key that other accounts can read warns; one that will ``signing`` is refused unless
    ``unsafe_allow_open_key_permissions`` (see :func:`skillcred.keys.read_key_file`)."""
    def read(passphrase: bytes | None) -> KeyPair:
        with security_warnings_on_stderr():
            return read_key_file(path, passphrase, strict_permissions=signing,
                                 unsafe_allow_open_key_permissions=unsafe_allow_open_key_permissions)

    return unlock(read, passphrase_file, f"Passphrase for {path}")


def unlock(open_: Callable[[bytes | None], T], passphrase_file: str | None, prompt: str) -> T:
    """``open_`` a key-protected thing (a key file, an issuer folder, a wallet) with the
    passphrase of ``--passphrase-file``, else ``$SKILLCRED_PASSPHRASE``, else none; when that is
    wrong and stdin is a terminal, ask once with ``prompt`` (a script never waits at a prompt).
    One rule for every command, so none of them asks differently."""
    if passphrase_file:
        return open_(_read_passphrase_file(passphrase_file))
    env = os.environ.get("SKILLCRED_PASSPHRASE")
    try:
        return open_(env.encode("utf-8") if env else None)
    except WrongPassphrase:
        if env or not stdin_is_tty():
            raise
    value = click.prompt(prompt, hide_input=True, default="", show_default=False)
    return open_(value.encode("utf-8") or None)


def read_document(path: str) -> dict[str, Any]:
    """A JSON object from a file, or from stdin when ``path`` is ``-``."""
    if path == "-":
        data = read_stdin_bounded()
        value = parse_json(data, source="<stdin>")
        if not isinstance(value, dict):
            raise MalformedDocument("expected a JSON object at the top level", path="<stdin>")
        return value
    return load_json_object(path)


def read_stdin_bounded(limit: int = MAX_JSON_BYTES) -> bytes:
    """Standard input, but never more than ``limit`` + 1 bytes in memory (a huge pipe is refused)."""
    return read_at_most(sys.stdin.buffer, limit, source="<stdin>")


def write_document(doc: Any, out: str | None) -> None:
    """Write JSON to ``out`` atomically, or to stdout when ``out`` is None or ``-``."""
    data = dump_json(doc)
    if out is None or out == "-":
        click.echo(for_json(data.decode("utf-8")), nl=False)  # same value, no raw bidi/C1 on the terminal
    else:
        atomic_write(out, data)
