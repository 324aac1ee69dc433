"""Baked badges: ``badge bake`` and ``badge unbake`` (Open Badges 3.0 §5.3)."""

from __future__ import annotations

from typing import Any

import click

from skillcred._cli._common import errors_to_exit, read_stdin_bounded, write_document
from skillcred._cli._options import bake_to_file, read_credential_file
from skillcred._internal.fileio import atomic_write, read_bounded
from skillcred.badge import MAX_BADGE_BYTES, unbake
from skillcred.errors import MalformedDocument
from skillcred.secured import SecuredCredential


def read_one_credential(path: str) -> dict[str, Any] | SecuredCredential:
    """Exactly one credential from a file (JSON, a token file, or a baked badge) or stdin."""
    source = "<stdin>" if path == "-" else path
    items = read_credential_file(path)
    if len(items) != 1:
        raise MalformedDocument(f"holds {len(items)} credentials; a badge carries one", path=source)
    return items[0][1]


@click.group()
def badge() -> None:
    """Baked badges: a credential inside its badge image (PNG or SVG, Open Badges 3.0)."""


@badge.command("bake")
@click.argument("credential", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--image", type=click.Path(exists=True, dir_okay=False),
              help="The badge image (PNG or SVG). Default: the achievement's own image when the credential "
                   "embeds one, else a generated plain badge.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False),
              help="Where the baked badge goes (*.png or *.svg).")
@errors_to_exit
def bake_cmd(credential: str, image: str | None, out: str) -> None:
    """Bake a signed CREDENTIAL (JSON or vc+jwt file, '-' for stdin) into a badge image.

    \b
    Example:
      skillcred badge bake jan.json --image lassen.png -o jan-badge.png
    """
    bake_to_file(read_one_credential(credential), image, out)
    click.echo(f"baked into {out}", err=True)


@badge.command("unbake")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the credential here (default: stdout).")
@errors_to_exit
def unbake_cmd(file: str, out: str | None) -> None:
    """Print the credential a baked badge (PNG or SVG) carries: its JSON, or its vc+jwt token.

    Nothing is verified here: 'skillcred wallet add FILE' and 'skillcred verify' do that. An
    image with no credential, more than one, or a damaged or hostile one is refused.
    """
    if file == "-":
        data, source = read_stdin_bounded(MAX_BADGE_BYTES), "<stdin>"
    else:
        data, source = read_bounded(file, max_bytes=MAX_BADGE_BYTES, what="image"), file
    found = unbake(data, source=source)
    if isinstance(found.credential, SecuredCredential) and found.credential.token is not None:
        token = found.credential.token
        if out is None or out == "-":
            click.echo(token)
        else:
            atomic_write(out, (token + "\n").encode("ascii"))
    else:
        write_document(found.credential, out)
