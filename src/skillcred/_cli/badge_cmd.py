"""Baked badges: ``badge bake`` and ``badge unbake`` (Open Badges 3.0 §5.3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from skillcred._cli._common import errors_to_exit, fail, read_stdin_bounded, write_document
from skillcred._internal.fileio import MAX_JSON_BYTES, atomic_write, read_bounded
from skillcred.badge import MAX_BADGE_BYTES, BadgeFormat, badge_format, bake, default_image, unbake
from skillcred.errors import MalformedDocument
from skillcred.secured import SecuredCredential
from skillcred.wallet import read_credentials_input


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


def read_one_credential(path: str) -> dict[str, Any] | SecuredCredential:
    """Exactly one credential from a file (JSON, a token file, or a baked badge) or stdin."""
    source = "<stdin>" if path == "-" else path
    items = read_credential_file(path)
    if len(items) != 1:
        raise MalformedDocument(f"holds {len(items)} credentials; a badge carries one", path=source)
    return items[0][1]


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
