"""The ``skillcred`` command line: a thin layer over the library.

Each command parses options, calls the library, and renders the result. Nothing here holds
logic a library user would also need.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any, cast

import click

from skillcred import __version__

# = skillcred.esco.ESCO_ACKNOWLEDGEMENT (not imported: `skillcred --version` must stay cheap)
ESCO_NOTICE = "This service uses the ESCO classification of the European Commission."
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# name -> (module, attribute). Modules load only when their command runs, so that
# `skillcred keys ...` does not pay for JSON-LD, schemas and the verifier.
_COMMANDS: dict[str, tuple[str, str]] = {
    "keys": ("skillcred._cli.keys_cmd", "keys"),
    "did": ("skillcred._cli.keys_cmd", "did"),
    "sign": ("skillcred._cli.sign_cmd", "sign"),
    "verify": ("skillcred._cli.verify_cmd", "verify"),
    "trust": ("skillcred._cli.verify_cmd", "trust"),
    "match": ("skillcred._cli.match_cmd", "match_command"),
    "rank": ("skillcred._cli.match_cmd", "rank_command"),
    "issuer": ("skillcred._cli.issuer_cmd", "issuer"),
    "issue": ("skillcred._cli.issuer_cmd", "issue"),
    "offer": ("skillcred._cli.offer_cmd", "offer"),
    "revoke": ("skillcred._cli.issuer_cmd", "revoke"),
    "suspend": ("skillcred._cli.issuer_cmd", "suspend"),
    "unsuspend": ("skillcred._cli.issuer_cmd", "unsuspend"),
    "wallet": ("skillcred._cli.wallet_cmd", "wallet"),
    "badge": ("skillcred._cli.badge_cmd", "badge"),
    "passport": ("skillcred._cli.wallet_cmd", "passport"),
    "present": ("skillcred._cli.wallet_cmd", "present"),
    "serve": ("skillcred._cli.serve_cmd", "serve"),
    "request": ("skillcred._cli.request_cmd", "request"),
    "esco": ("skillcred._cli.esco_cmd", "esco"), "profile": ("skillcred._cli.esco_cmd", "profile"),
    "pool": ("skillcred._cli.pool_cmd", "pool"),
}
_STATUS_COMMANDS: dict[str, tuple[str, str]] = {
    "publish": ("skillcred._cli.issuer_cmd", "publish"),
    "import": ("skillcred._cli.verify_cmd", "status_import"),
}


class _LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = {n: t for n, t in lazy.items() if importlib.util.find_spec(t[0]) is not None}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module, attr = self._lazy[cmd_name]
            cmd = getattr(importlib.import_module(module), attr)
            return cast(click.Command, cmd)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, lazy=_COMMANDS | {"status": ("skillcred._cli", "status")},
             context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="skillcred", message=f"%(prog)s, version %(version)s\n{ESCO_NOTICE}")
def cli() -> None:
    """Skills passports as W3C Verifiable Credentials: issue, keep, present, verify.

    \b
    Institutes:  skillcred issuer init/list/export, issue, revoke, suspend, status publish
    Workers:     skillcred wallet init/add/list/gap, passport, present
    Employers:   skillcred trust add, status import, verify, match, rank, request new/results
    Everything works offline; no command ever fetches a context or a DID document.

    Exit codes: 0 ok/verified, 1 not verified, 2 usage or input error.
    """


@click.group(cls=_LazyGroup, lazy=_STATUS_COMMANDS)
def status() -> None:
    """Bitstring Status Lists: publish (institute) and import (verifier)."""


def main() -> None:
    """Console entry point."""
    try:
        cli.main(prog_name="skillcred", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        click.echo("skillcred: interrupted", err=True)
        sys.exit(130)
