"""``skillcred serve``: the VC-API issuer and verifier over HTTP (needs the ``serve`` extra)."""

from __future__ import annotations

from typing import Any

import click

from skillcred._cli._common import (
    UNSAFE_KEY_PERMISSIONS,
    errors_to_exit,
    fail,
    security_warnings_on_stderr,
    warn,
    warn_unsafe_key_permissions,
)
from skillcred._cli.verify_cmd import _parse_status_not_before
from skillcred._internal.timeutil import format_datetime
from skillcred.verify.verifier import MAX_PRESENTED_CREDENTIALS

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@click.command("serve")
@click.option("--issuer", "issuer_dirs", multiple=True, metavar="[NAME=]DIR",
              help="Issuer folder (made by 'skillcred issuer init'): key, profile, default registry. "
                   "Required unless --verifier is given (then a verifier-only service runs). Repeatable: "
                   "each is served at /issuers/NAME/... (NAME: the folder's name unless given), the first "
                   "also at /credentials/issue, /credentials/status and /status/LIST.")
@click.option("--issuer-suite", "issuer_suites", multiple=True, metavar="NAME=DIR:SUITE",
              help="Also host DIR's key signing with another cryptosuite as configuration NAME (e.g. "
                   "eddsa-jcs-2022 beside the folder's eddsa-rdfc-2022), sharing the folder's registry. "
                   "Repeatable; a suite the key type cannot sign is refused.")
@click.option("--verifier", "verifier_dir", type=click.Path(file_okay=False, exists=True),
              help="Verifier folder (made by 'skillcred request new'): also serve its OpenID4VP request_uri "
                   "and response_uri. Without --issuer: only these (no issuing, no token needed).")
@click.option("--status-list", "status_lists", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Verifier-only mode: a status-list credential to check responses against (repeatable); "
                   "the status cache of 'skillcred status import' is read too.")
@click.option("--trust", "trust_file", type=click.Path(dir_okay=False, exists=True),
              help="Trust list for the verification endpoints (issuers and what they may attest). "
                   "Required unless only --pool is served.")
@click.option("--pool", "pool", metavar="TARGET",
              help="Also serve the talent pool's operator search page at /pool/ (a pool SQLite file or a "
                   "postgresql:// URL). Alone (no --issuer): only the page; guarded by --token-file.")
@click.option("--unsafe-open-pool", is_flag=True,
              help="Let anyone who can reach the service search the pool, without the token (testing only; warns).")
@click.option("--pool-framework", "pool_frameworks", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Skill framework(s) for pool searches, on top of ESCO's skill hierarchy. Repeatable.")
@click.option("--pool-no-esco", is_flag=True, help="Pool searches do not use ESCO's skill hierarchy.")
@click.option("--pool-catalog", type=click.Path(exists=True, dir_okay=False),
              help="Training catalog: pool hits show the plan that closes their gaps.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (each verifies and issues; the registry coordinates issuing).")
@click.option("--token-file", type=click.Path(dir_okay=False, exists=True),
              help="File holding the bearer token that issuing and status changes require.")
@click.option("--unsafe-open-issuing", is_flag=True,
              help="Let anyone who can reach the service issue and revoke (testing only; warns).")
@click.option("--registry", "registry",
              help="postgresql://user@host/db for several instances, or a SQLite file "
                   "(default: the issuer folder's registry.sqlite).")
@click.option("--public-url", help="Base URL clients reach the service at; status-list URLs in issued "
                                   "credentials point under it (default http://HOST:PORT).")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False),
              help="Passphrase of the issuer key (else SKILLCRED_PASSPHRASE).")
@click.option("--max-body-bytes", default=DEFAULT_MAX_BODY_BYTES, show_default=True,
              type=click.IntRange(1024, 64 * 1024 * 1024), help="Larger request bodies get 413.")
@click.option("--status-max-age", default=60, show_default=True, type=click.IntRange(0, 86400),
              help="Cache-Control max-age (seconds) of served status lists.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--access-log/--no-access-log", default=True, show_default=True)
@click.option("--max-credentials", default=MAX_PRESENTED_CREDENTIALS, show_default=True, type=click.IntRange(min=1),
              help="Refuse a presentation holding more credentials than this, before checking any.")
@click.option("--status-not-before", metavar="DATE",
              help="Verification endpoints: a status list issued (validFrom) before DATE is too old "
                   "(the status is then indeterminate).")
@click.option("--own-status-lists-only", is_flag=True,
              help="Verification endpoints: ignore status lists carried in presentations; only this "
                   "service's own lists count (other issuers' credentials then have no status).")
@click.option("--unsafe-no-holder-binding", is_flag=True,
              help="Verification endpoints: a presentation's credentials need not be about its signer "
                   "(a generic VC-API verifier, the W3C suites; warns). Default: holder binding required.")
@click.option("--allow-empty-presentations", is_flag=True,
              help="Verification endpoints: a presentation holding no credentials verifies (VC DM 2.0 "
                   "allows it). Default: refused (no_credentials), as it shows nothing to rely on.")
@UNSAFE_KEY_PERMISSIONS
@errors_to_exit
def serve(issuer_dirs: tuple[str, ...], issuer_suites: tuple[str, ...], verifier_dir: str | None,
          status_lists: tuple[str, ...], trust_file: str | None, pool: str | None, unsafe_open_pool: bool,
          pool_frameworks: tuple[str, ...], pool_no_esco: bool, pool_catalog: str | None,
          host: str, port: int, workers: int, token_file: str | None,
          unsafe_open_issuing: bool, registry: str | None, public_url: str | None,
          passphrase_file: str | None, max_body_bytes: int, status_max_age: int, log_level: str,
          access_log: bool, max_credentials: int, status_not_before: str | None,
          own_status_lists_only: bool, unsafe_no_holder_binding: bool, allow_empty_presentations: bool,
          unsafe_allow_open_key_permissions: bool) -> None:
    """Serve the W3C VC-API: issue, verify, status lists (ready when GET /health answers 200).

    \b
    Example:
      skillcred serve --issuer roc --trust trust.json --token-file token.txt \\
          --public-url https://vc.roc.example --workers 4 --registry postgresql://vc@db/vc
    """
    if not issuer_dirs:
        if issuer_suites:
            fail("--issuer-suite needs an --issuer (the primary configuration)")
        if pool:
            if unsafe_open_issuing:
                fail("--unsafe-open-issuing needs an --issuer (nothing is issued here)")
            if verifier_dir and not trust_file:
                fail("--verifier needs --trust FILE (the issuers its responses may come from)")
            try:
                from skillcred.service.pool_web import PoolWebConfig
            except ImportError as exc:
                fail(f"'skillcred serve' needs the serve extra: pip install 'skillcred[serve]' ({exc.name} is missing)")
            _serve_pool_only(PoolWebConfig(target=pool, token_file=token_file, unsafe_open_pool=unsafe_open_pool,
                                           frameworks=pool_frameworks, esco=not pool_no_esco, catalog=pool_catalog,
                                           max_body_bytes=max_body_bytes, verifier_dir=verifier_dir,
                                           trust_file=trust_file, status_files=status_lists),
                             host, port, workers, log_level, access_log)
            return
        if not trust_file:
            fail("--trust FILE is required (the issuers the verification endpoints accept)")
        _serve_verifier_only(verifier_dir, trust_file, status_lists, host, port, workers, max_body_bytes,
                             log_level, access_log)
        return
    if not trust_file:
        fail("--trust FILE is required (the issuers the verification endpoints accept)")
    if pool and not token_file and not unsafe_open_pool:
        fail("the pool page needs a bearer token: --token-file FILE (or --unsafe-open-pool for tests)")
    if token_file and unsafe_open_issuing:
        fail("give either --token-file or --unsafe-open-issuing, not both")
    if not token_file and not unsafe_open_issuing:
        fail("issuing needs a bearer token: --token-file FILE (or --unsafe-open-issuing for tests)")
    try:
        from skillcred import service
        from skillcred.service.state import IssuerSpec
    except ImportError as exc:
        fail(f"'skillcred serve' needs the serve extra: pip install 'skillcred[serve]' ({exc.name} is missing)")
    specs = [IssuerSpec(*_issuer_option(v)) for v in issuer_dirs]
    specs += [IssuerSpec(*_issuer_suite_option(v)) for v in issuer_suites]
    if unsafe_open_issuing:
        warn("--unsafe-open-issuing: anyone who can reach this service can issue and revoke credentials")
    if unsafe_no_holder_binding:
        warn("--unsafe-no-holder-binding: presentations verify with credentials about someone other than "
             "their presenter")
    if public_url is None:
        shown = f"[{host}]" if ":" in host else host
        if host in ("0.0.0.0", "::"):
            warn(f"listening on {host} without --public-url: issued status-list URLs use 127.0.0.1")
            shown = "127.0.0.1"
        public_url = f"http://{shown}:{port}"
    not_before = _parse_status_not_before(status_not_before)  # a bad date: one line, before anything starts
    config = service.ServiceConfig(
        issuer_dir=specs[0].folder, issuer_name=specs[0].name, issuers=tuple(specs[1:]),
        trust_file=trust_file, public_url=public_url.rstrip("/"), registry=registry,
        token_file=token_file, unsafe_open_issuing=unsafe_open_issuing, passphrase_file=passphrase_file,
        max_body_bytes=max_body_bytes, status_max_age=status_max_age, max_credentials=max_credentials,
        status_not_before=format_datetime(not_before) if not_before else None,
        status_from_presentation=not own_status_lists_only,
        unsafe_allow_open_key_permissions=unsafe_allow_open_key_permissions,
        unsafe_no_holder_binding=unsafe_no_holder_binding, allow_empty_presentations=allow_empty_presentations,
        verifier_dir=verifier_dir, pool=pool, unsafe_open_pool=unsafe_open_pool, pool_frameworks=pool_frameworks,
        pool_esco=not pool_no_esco, pool_catalog=pool_catalog,
    )
    if pool and unsafe_open_pool:
        warn("--unsafe-open-pool: anyone who can reach this service can search the talent pool")
    warn_unsafe_key_permissions(unsafe_allow_open_key_permissions)
    with security_warnings_on_stderr():
        state = service.load_state(config)  # fail here, with one line, rather than in every worker
    state.close()
    for h in state.hosted.values():
        click.echo(f"skillcred serve: issuer {h.name}: {h.profile.did} ({h.profile.suite}), registry "
                   f"{h.registries.kind} ({h.registries.where})", err=True)
    click.echo(f"skillcred serve: {workers} worker(s), {config.public_url}", err=True)
    service.run(config, host=host, port=port, workers=workers, log_level=log_level, access_log=access_log)


def _split_name(value: str, option: str) -> tuple[str | None, str]:
    """``NAME=REST`` or ``REST``: a value whose text before the first ``=`` is a folder that
    exists is a path, not a name (a folder may hold ``=`` in its name)."""
    import os.path

    name, sep, rest = value.partition("=")
    if not sep or os.path.isdir(value):
        return None, value
    if not name:
        fail(f"{option} {value}: the name before '=' is empty")
    return name, rest


def _issuer_folder(folder: str, option: str) -> str:
    import os.path

    if not os.path.isdir(folder):
        fail(f"{option}: {folder} is not a folder")
    return folder


def _issuer_option(value: str) -> tuple[str, str]:
    """``--issuer [NAME=]DIR`` as (name, folder); the name defaults to the folder's name."""
    from pathlib import Path

    name, folder = _split_name(value, "--issuer")
    folder = _issuer_folder(folder, "--issuer")
    return name or Path(folder).resolve().name, folder


def _issuer_suite_option(value: str) -> tuple[str, str, str]:
    """``--issuer-suite NAME=DIR:SUITE`` as (name, folder, suite)."""
    name, rest = _split_name(value, "--issuer-suite")
    folder, sep, suite = rest.rpartition(":")
    if name is None or not sep or not folder or not suite:
        fail(f"--issuer-suite {value}: give NAME=DIR:SUITE (e.g. roc-jcs=roc:eddsa-jcs-2022)")
    return name, _issuer_folder(folder, "--issuer-suite"), suite


def _serve_pool_only(config: Any, host: str, port: int, workers: int, log_level: str, access_log: bool) -> None:
    """``skillcred serve --pool TARGET`` without ``--issuer``: the operator's search page (and,
    with ``--verifier``, the OpenID4VP endpoints); no issuer folder, no issuing."""
    if config.token_file and config.unsafe_open_pool:
        fail("give either --token-file or --unsafe-open-pool, not both")
    if not config.token_file and not config.unsafe_open_pool:
        fail("the pool page needs a bearer token: --token-file FILE (or --unsafe-open-pool for tests)")
    try:
        from skillcred.service.pool_web import create_pool_app, run_pool
    except ImportError as exc:
        fail(f"'skillcred serve' needs the serve extra: pip install 'skillcred[serve]' ({exc.name} is missing)")
    if config.unsafe_open_pool:
        warn("--unsafe-open-pool: anyone who can reach this service can search the talent pool")
    with security_warnings_on_stderr():
        app = create_pool_app(config)  # fail here, with one line, rather than in every worker
    del app
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"skillcred serve: talent pool page at http://{shown}:{port}/pool/, {workers} worker(s)", err=True)
    run_pool(config, host=host, port=port, workers=workers, log_level=log_level, access_log=access_log)


def _serve_verifier_only(verifier_dir: str | None, trust_file: str, status_lists: tuple[str, ...], host: str,
                         port: int, workers: int, max_body_bytes: int, log_level: str, access_log: bool) -> None:
    """``skillcred serve --verifier DIR`` without ``--issuer``: the OpenID4VP endpoints only."""
    if verifier_dir is None:
        fail("give --issuer DIR (the VC-API service) or --verifier DIR (an OpenID4VP verifier), or both")
    try:
        from skillcred.oid4vp._http import VerifierConfig, create_verifier_app, run_verifier
    except ImportError as exc:
        fail(f"'skillcred serve' needs the serve extra: pip install 'skillcred[serve]' ({exc.name} is missing)")
    config = VerifierConfig(verifier_dir=verifier_dir, trust_file=trust_file, status_files=status_lists,
                                  max_body_bytes=max_body_bytes)
    with security_warnings_on_stderr():
        app = create_verifier_app(config)  # fail here, with one line, rather than in every worker
    del app
    click.echo(f"skillcred serve: OpenID4VP verifier only ({verifier_dir}), {workers} worker(s), "
               f"http://{host}:{port}", err=True)
    run_verifier(config, host=host, port=port, workers=workers, log_level=log_level, access_log=access_log)
