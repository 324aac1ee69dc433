"""``skillcred keys ...`` and ``skillcred did ...``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from skillcred._cli._common import errors_to_exit, load_key, passphrase_for_new_key
from skillcred.did import key_did, key_did_document, key_did_url
from skillcred.errors import KeyFileError, StoreError
from skillcred.keys import KEY_TYPES, KeyPair, write_key_file


@click.group()
def keys() -> None:
    """Create and inspect signing keys (Ed25519, P-256, P-384)."""


@keys.command("generate")
@click.option("--type", "key_type", type=click.Choice(KEY_TYPES), default="ed25519",
              show_default=True, help="Key type; ed25519 fits eddsa-* suites, p256/p384 ecdsa-*.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False),
              help="Key file to write (PKCS#8 PEM, mode 0600). Refuses to overwrite.")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False),
              help="Encrypt with the passphrase in this file (else SKILLCRED_PASSPHRASE, "
                   "else a prompt when interactive).")
@click.option("--force", is_flag=True, help="Overwrite an existing key file.")
@errors_to_exit
def generate(key_type: str, out: str, passphrase_file: str | None, force: bool) -> None:
    """Generate a key pair and write it to a key file; prints its did:key.

    \b
    Example:
      skillcred keys generate --type ed25519 -o issuer.pem
    """
    # Refuse before asking for a passphrase (or warning that the key will be unencrypted).
    target = Path(out)
    if target.exists() and not force:
        raise KeyFileError("refusing to overwrite an existing key file", path=out)
    if not (target.parent if str(target.parent) else Path(".")).is_dir():
        raise StoreError("cannot write here: the folder does not exist", path=out)
    passphrase = passphrase_for_new_key(passphrase_file)
    key = KeyPair.generate(key_type)  # type: ignore[arg-type]
    write_key_file(out, key, passphrase, overwrite=force)
    click.echo(key_did(key.public_key))


@keys.command("show")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False))
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False))
@click.option("--jwk", is_flag=True, help="Print the public JWK instead.")
@errors_to_exit
def show_key(key_path: str, passphrase_file: str | None, jwk: bool) -> None:
    """Print the public half of a key file (Multikey, or JWK with --jwk). Never the secret."""
    key = load_key(key_path, passphrase_file)
    if jwk:
        click.echo(json.dumps(key.public_key.jwk(), indent=2))
    else:
        click.echo(f"type: {key.key_type}\npublicKeyMultibase: {key.public_multikey}")


@click.group()
def did() -> None:
    """DIDs for keys: did:key (offline) and did:web documents."""


@did.command("show")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False),
              help="Key file (only the public half is used).")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False))
@click.option("--document", is_flag=True, help="Also print the DID document.")
@errors_to_exit
def show_did(key_path: str, passphrase_file: str | None, document: bool) -> None:
    """Print the key's did:key (first line), its verification method URL, and optionally the
    DID document."""
    key = load_key(key_path, passphrase_file)
    d = key_did(key.public_key)
    click.echo(d)
    click.echo(key_did_url(key.public_key))
    if document:
        click.echo(json.dumps(key_did_document(d), indent=2))
