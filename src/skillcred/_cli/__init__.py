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
# name -> the first paragraph of the command's help, for `skillcred --help`, which would otherwise
# import every command module (all of the library) just to print one line each.
# tests/test_cold_start.py checks each entry against the command's real help.
_SUMMARIES: dict[str, str] = {
    "badge": "Baked badges: a credential inside its badge image (PNG or SVG, Open Badges 3.0).",
    "did": "DIDs for keys: did:key (offline) and did:web documents.",
    "esco": "The ESCO classification of occupations and skills (offline).",
    "issue": "Issue a signed skills-passport credential (or a whole class with --batch).",
    "issuer": "Set up a training institute (or assessor) as an issuer.",
    "keys": "Create and inspect signing keys (Ed25519, P-256, P-384).",
    "match": "Verify a candidate's PRESENTATION, then lay it next to a job profile.",
    "offer": "Offer a credential into a worker's wallet (OpenID4VCI, pre-authorized code).",
    "passport": "Show your skills passport: diplomas, vocational skills, on-the-job learning, soft skills.",
    "present": "Sign a presentation of chosen credentials for one employer (challenge + domain).",
    "pool": "The talent pool: verified once, searched many times, with the candidate in control.",
    "profile": "Job profiles (the requirements of a vacancy).",
    "rank": "Verify and match every presentation (*.json) in FOLDER; best candidates first.",
    "request": "Ask candidates' wallets for their credentials over OpenID4VP (the vacancy is the query).",
    "revoke": "Revoke a credential for good (fraud, error). Publish afterwards.",
    "serve": "Serve the W3C VC-API: issue, verify, status lists (ready when GET /health answers 200).",
    "sign": "Add a Data Integrity proof to the JSON-LD document FILE ('-' for stdin).",
    "suspend": "Suspend a credential (e.g. a missed re-test). Publish afterwards.",
    "trust": "The employer's list of trusted issuers (and what each may attest).",
    "unsuspend": "Lift a suspension. Publish afterwards.",
    "verify": "Verify a credential or a candidate's presentation FILE, offline.",
    "wallet": "Your skills passport wallet: a local folder of your credentials.",
}
_STATUS_COMMANDS: dict[str, tuple[str, str]] = {
    "publish": ("skillcred._cli.issuer_cmd", "publish"),
    "import": ("skillcred._cli.verify_cmd", "status_import"),
}


class _LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], summaries: dict[str, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = {n: t for n, t in lazy.items() if importlib.util.find_spec(t[0]) is not None}
        self._summaries = summaries or {}

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing, but a command whose module is not loaded is described from its
        summary rather than imported (commands without one are imported, as click would)."""
        entries: list[tuple[str, click.Command | str]] = []
        for name in self.list_commands(ctx):
            summary = self._summaries.get(name)
            if summary is not None and name in self._lazy and self._lazy[name][0] not in sys.modules:
                entries.append((name, summary))
                continue
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                entries.append((name, cmd))
        if not entries:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in entries)
        rows = []
        for name, entry in entries:
            cmd = click.Command(name, help=entry) if isinstance(entry, str) else entry  # click's own shortening
            text = cmd.get_short_help_str(limit)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module, attr = self._lazy[cmd_name]
            cmd = getattr(importlib.import_module(module), attr)
            return cast(click.Command, cmd)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, lazy=_COMMANDS | {"status": ("skillcred._cli", "status")}, summaries=_SUMMARIES,
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
