"""The ``skillcred`` command line: a thin layer over the library.

Each command parses options, calls the library, and renders the result. Nothing here holds
logic a library user would also need.
"""

from __future__ import annotations

import sys

import click

from skillcred import __version__
from skillcred._cli import issuer_cmd, keys_cmd, match_cmd, sign_cmd, verify_cmd, wallet_cmd

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="skillcred")
def cli() -> None:
    """Skills passports as W3C Verifiable Credentials: issue, keep, present, verify.

    \b
    Institutes:  skillcred issuer init, issue, revoke, suspend, status publish
    Workers:     skillcred wallet init/add/list, passport, present
    Employers:   skillcred trust add, status import, verify, match, rank
    Everything works offline; no command ever fetches a context or a DID document.

    Exit codes: 0 ok/verified, 1 not verified, 2 usage or input error.
    """


cli.add_command(keys_cmd.keys)
cli.add_command(keys_cmd.did)
cli.add_command(sign_cmd.sign)
cli.add_command(verify_cmd.verify)
cli.add_command(verify_cmd.trust)
cli.add_command(match_cmd.match_command)
cli.add_command(match_cmd.rank_command)
cli.add_command(issuer_cmd.issuer)
cli.add_command(issuer_cmd.issue)
cli.add_command(issuer_cmd.revoke)
cli.add_command(issuer_cmd.suspend)
cli.add_command(issuer_cmd.unsuspend)
cli.add_command(issuer_cmd.status)
issuer_cmd.status.add_command(verify_cmd.status_import)
cli.add_command(wallet_cmd.wallet)
cli.add_command(wallet_cmd.passport)
cli.add_command(wallet_cmd.present)


def main() -> None:
    """Console entry point."""
    try:
        cli.main(prog_name="skillcred", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        click.echo("skillcred: interrupted", err=True)
        sys.exit(130)
