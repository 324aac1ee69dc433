"""``skillcred sign`` and ``skillcred verify --proof-only``."""

from __future__ import annotations

import click

from skillcred._cli._common import (
    UNSAFE_KEY_PERMISSIONS,
    errors_to_exit,
    load_key,
    read_document,
    warn_unsafe_key_permissions,
    write_document,
)
from skillcred._internal.fileio import load_json_object
from skillcred._internal.timeutil import parse_datetime
from skillcred.did import DidResolver, key_did_url
from skillcred.errors import MalformedDocument
from skillcred.proofs import SUPPORTED_CRYPTOSUITES, add_proof, default_suite_for


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False),
              help="Signing key file.")
@click.option("--suite", type=click.Choice(SUPPORTED_CRYPTOSUITES),
              help="Cryptosuite (default: eddsa-rdfc-2022 for Ed25519, ecdsa-rdfc-2019 for P-256/P-384).")
@click.option("--purpose", type=click.Choice(["assertionMethod", "authentication"]),
              default="assertionMethod", show_default=True)
@click.option("--challenge", help="Challenge to bind into the proof (authentication proofs).")
@click.option("--domain", help="Domain to bind into the proof.")
@click.option("--created", help="Proof creation time (XML Schema dateTime; default now).")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the signed document here (default stdout).")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False))
@UNSAFE_KEY_PERMISSIONS
@errors_to_exit
def sign(
    file: str,
    key_path: str,
    suite: str | None,
    purpose: str,
    challenge: str | None,
    domain: str | None,
    created: str | None,
    out: str | None,
    passphrase_file: str | None,
    unsafe_allow_open_key_permissions: bool,
) -> None:
    """Add a Data Integrity proof to the JSON-LD document FILE ('-' for stdin).

    The verification method is the key's did:key URL. Signing is on the exact JSON given; terms
    the document's contexts do not define are refused (they would be unsigned data).

    \b
    Example:
      skillcred sign credential.json --key issuer.pem --suite eddsa-rdfc-2022 -o signed.json
    """
    doc = read_document(file)
    warn_unsafe_key_permissions(unsafe_allow_open_key_permissions)
    key = load_key(key_path, passphrase_file, signing=True,
                   unsafe_allow_open_key_permissions=unsafe_allow_open_key_permissions)
    signed = add_proof(
        doc,
        key,
        verification_method=key_did_url(key.public_key),
        cryptosuite=suite or default_suite_for(key),
        proof_purpose=purpose,
        challenge=challenge,
        domain=domain,
        created=parse_datetime(created, field="--created") if created else None,
    )
    write_document(signed, out)


def _resolver_from(key_documents: tuple[str, ...]) -> DidResolver:
    resolver = DidResolver()
    for path in key_documents:
        doc = load_json_object(path)
        if "id" not in doc:
            raise MalformedDocument("a controller document needs an 'id'", path=path)
        resolver.add(doc)
    return resolver


