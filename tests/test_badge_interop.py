"""Baked badges across implementations, and Open Badges 3.0 credentials as badge platforms
export them.

* skillcred -> openbadgeslib (PyPI 4.6.x, an independent Python implementation of OB 3.0 and
  its baking): the badges skillcred bakes, PNG and SVG, Data Integrity and vc+jwt, unbake with
  openbadgeslib to the same credential, and openbadgeslib's own verifier accepts skillcred's
  Data Integrity credential.
* openbadgeslib -> skillcred: the badges openbadgeslib issues and bakes (eddsa-rdfc-2022, PNG
  and SVG) unbake, verify and go into the wallet; its JWT-VC badges unbake to their token, whose
  key travels in the token header (``jwk``), which skillcred refuses by name (keys come from the
  issuer's controller document only, docs/verifying.md).
* Platform exports: the OB 3.0 specification's signed example (vendored in tests/vectors), baked
  as platforms bake it, imports into the wallet once its issuer's controller document is at
  hand, and without it the refusal says the issuer cannot be resolved offline; a vc+jwt OB 3.0
  credential of a did:web platform likewise.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, vectors_dir
from skillcred.badge import OB3_NAMESPACE, BadgeFormat, bake, plain_badge, unbake
from skillcred.did import web_did_document
from skillcred.errors import WalletError
from skillcred.issuer import Issuer, load_achievement
from skillcred.jose import secure_credential_jwt
from skillcred.keys import KeyPair
from skillcred.secured import SecuredCredential
from skillcred.verify import Verifier
from skillcred.wallet import Wallet, read_credentials_input
from support.cli import CliResult, clean_env, run_cli

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from openbadgeslib import baking as ob_baking
    from openbadgeslib.ob3 import Achievement as ObAchievement
    from openbadgeslib.ob3 import Issuer as ObIssuer
    from openbadgeslib.ob3 import (
        OB3LdpSigner,
        OB3LdpVerifier,
        OB3Signer,
        OB3VerificationError,
        OpenBadgeCredential,
    )

ACHIEVEMENTS = REPO / "examples" / "achievements"
OB_VECTOR = vectors_dir("ob-v3p0-eddsa-rdfc-2022")


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    return Wallet.init(tmp_path / "wallet", passphrase=None)


def ed25519_pem() -> tuple[KeyPair, bytes]:
    key = KeyPair.generate("ed25519")
    return key, key.to_pem()


def ob_credential(issuer_id: str, subject: str, name: str = "Lassen") -> OpenBadgeCredential:
    return OpenBadgeCredential(
        issuer=ObIssuer(id=issuer_id, name="Peer Academy"), recipient_id=subject,
        achievement=ObAchievement(id="https://peer-academy.example/achievements/lassen", name=name,
                                  description="Welding to the norm.", criteria_narrative="A test weld, assessed."))


def ob_extract(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG"):
        return ob_baking.extract_png(data, keyword=ob_baking.ITXT_KEYWORD_OB3)
    return ob_baking.extract_svg(data, element=ob_baking.SVG_ELEMENT_OB3, text_fallback=True)


def report_codes(doc: dict[str, Any] | SecuredCredential) -> dict[str, tuple[str, str]]:
    target = doc.envelope() if isinstance(doc, SecuredCredential) else doc
    return {c.family: (c.status, c.code) for c in Verifier().check(target).checks}


# -- skillcred bakes, openbadgeslib reads --------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize("secured", ["di", "jwt"])
def test_openbadgeslib_unbakes_what_skillcred_bakes(
    issuer: Issuer, wallet: Wallet, fmt: BadgeFormat, secured: str,
) -> None:
    record, _ = issuer.issue(load_achievement(ACHIEVEMENTS / "mig-mag-lassen.yaml"), wallet.holder, level="2",
                             fmt=secured)
    cred = SecuredCredential.from_record(record.document)
    baked = bake(plain_badge(fmt), cred)
    assert ob_baking.has_png(baked, keyword=ob_baking.ITXT_KEYWORD_OB3) if fmt == "png" else \
        ob_baking.has_svg(baked, element=ob_baking.SVG_ELEMENT_OB3)
    text = ob_extract(baked)
    assert text is not None
    if secured == "jwt":
        assert text == cred.token
    else:
        assert json.loads(text) == record.document


def test_openbadgeslib_verifies_skillcred_data_integrity_credential(issuer: Issuer, wallet: Wallet) -> None:
    record, _ = issuer.issue(load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml"), wallet.holder, level="3")
    text = ob_extract(bake(plain_badge("svg"), record.document))
    assert text is not None
    result = OB3LdpVerifier().verify(text)
    assert result.id == record.id and result.issuer.id == issuer.profile.did
    assert result.recipient_id == wallet.holder
    tampered = json.loads(text)
    tampered["credentialSubject"]["id"] = "did:key:z6MkozZNCyEfupDcQNuAyvUm1K1BvvpjexUNteuxNbfqTcNJ"
    with pytest.raises(OB3VerificationError):
        OB3LdpVerifier().verify(tampered)


# -- openbadgeslib bakes, skillcred reads ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_openbadgeslib_data_integrity_badge_unbakes_verifies_and_is_added(wallet: Wallet, fmt: str) -> None:
    _, pem = ed25519_pem()
    signer = OB3LdpSigner(pem)  # a did:key verification method derived from the key
    did = signer.verification_method.split("#", 1)[0]
    cred = ob_credential(did, wallet.holder)
    baked = signer.sign_into_png(cred, plain_badge("png")) if fmt == "png" else \
        signer.sign_into_svg(cred, plain_badge("svg"))
    found = unbake(baked, source=f"peer.{fmt}")
    assert isinstance(found.credential, dict) and found.credential["issuer"]["id"] == did
    codes = report_codes(found.credential)
    assert codes["proof"] == ("passed", "ok") and codes["issuer"] == ("passed", "ok")
    (entry,) = wallet.add(read_credentials_input(baked, f"peer.{fmt}"))
    assert entry.id == cred.id and entry.achievement == "Lassen"


def test_openbadgeslib_badge_of_another_key_than_its_issuer_is_refused(wallet: Wallet) -> None:
    _, pem = ed25519_pem()
    _, other = ed25519_pem()
    claimed = OB3LdpSigner(other).verification_method.split("#", 1)[0]
    baked = OB3LdpSigner(pem).sign_into_png(ob_credential(claimed, wallet.holder), plain_badge("png"))
    with pytest.raises(WalletError, match="not by its issuer"):
        wallet.add(read_credentials_input(baked, "peer.png"))


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_openbadgeslib_jwt_badge_unbakes_and_its_header_key_is_refused_by_name(wallet: Wallet, fmt: str) -> None:
    _, pem = ed25519_pem()
    did = OB3LdpSigner(pem).verification_method.split("#", 1)[0]
    signer = OB3Signer(pem, algorithm="EdDSA")
    cred = ob_credential(did, wallet.holder)
    baked = signer.sign_into_png(cred, plain_badge("png")) if fmt == "png" else \
        signer.sign_into_svg(cred, plain_badge("svg"))
    found = unbake(baked)
    assert isinstance(found.credential, SecuredCredential) and found.credential.format == "jwt"
    assert found.text == ob_extract(baked)
    assert found.credential.document["id"] == cred.id
    with pytest.raises(WalletError, match="embedded_key_not_allowed"):
        wallet.add(read_credentials_input(baked, f"peer.{fmt}"))


# -- badge-platform exports --------------------------------------------------------------------


def spec_example() -> dict[str, Any]:
    return dict(json.loads((OB_VECTOR / "signed.json").read_text(encoding="utf-8")))


def spec_issuer_document() -> dict[str, Any]:
    """The controller document of the spec example's issuer (not published anywhere: built from
    the key pair the specification gives, as a verifier would hold it from the issuer)."""
    pair = json.loads((OB_VECTOR / "keyPair.json").read_text(encoding="utf-8"))
    vm = {"id": pair["id"], "type": "Multikey", "controller": pair["controller"],
          "publicKeyMultibase": pair["publicKeyMultibase"]}
    return {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": pair["controller"], "verificationMethod": [vm], "assertionMethod": [vm["id"]]}


def platform_bake(doc: dict[str, Any], fmt: str) -> bytes:
    """Baked as a platform does it (openbadgeslib's carrier code, not skillcred's)."""
    text = json.dumps(doc)
    if fmt == "png":
        return ob_baking.bake_png(plain_badge("png"), text, keyword=ob_baking.ITXT_KEYWORD_OB3)
    return ob_baking.bake_svg(plain_badge("svg"), text, element=ob_baking.SVG_ELEMENT_OB3,
                              namespace=ob_baking.SVG_NS_OB3, as_text=True)


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_spec_example_badge_without_its_issuer_document_says_so(wallet: Wallet, fmt: str) -> None:
    baked = platform_bake(spec_example(), fmt)
    assert unbake(baked).credential == spec_example()
    with pytest.raises(WalletError) as info:
        wallet.add(read_credentials_input(baked, f"teamwork.{fmt}"), force_foreign=True)
    message = str(info.value)
    assert f"teamwork.{fmt}" in message
    assert "https://example.edu/issuers/565049" in message and "available offline" in message
    assert wallet.entries() == []


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_spec_example_badge_with_its_issuer_document_is_added(wallet: Wallet, fmt: str) -> None:
    baked = platform_bake(spec_example(), fmt)
    (entry,) = wallet.add(read_credentials_input(baked, f"teamwork.{fmt}"), force_foreign=True,
                          resolver=wallet.resolver([spec_issuer_document()]))
    assert entry.id == "http://example.com/credentials/3527" and entry.achievement == "Teamwork"
    forged = spec_example()
    forged["credentialSubject"]["achievement"]["name"] = "Leadership"
    with pytest.raises(WalletError, match="does not verify"):
        wallet.add(read_credentials_input(platform_bake(forged, fmt), "forged"), force_foreign=True,
                   resolver=wallet.resolver([spec_issuer_document()]))


def test_spec_example_badge_through_the_cli(tmp_path: Path) -> None:
    env = clean_env(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"), SKILLCRED_PASSPHRASE="p")

    def run(*args: str) -> CliResult:
        return run_cli(*args, env=env)

    assert run("wallet", "init", "--wallet", str(tmp_path / "w")).returncode == 0
    (tmp_path / "teamwork.png").write_bytes(platform_bake(spec_example(), "png"))
    (tmp_path / "issuer.json").write_text(json.dumps(spec_issuer_document()))
    refused = run("wallet", "add", "--wallet", str(tmp_path / "w"), "--force-foreign", str(tmp_path / "teamwork.png"))
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert "no controller document for 'https://example.edu/issuers/565049' is available offline" in refused.stderr
    added = run("wallet", "add", "--wallet", str(tmp_path / "w"), "--force-foreign", "--did-document",
                str(tmp_path / "issuer.json"), str(tmp_path / "teamwork.png"))
    assert added.returncode == 0, added.stderr
    assert "added http://example.com/credentials/3527  Teamwork" in added.stdout


def platform_jwt(subject: str) -> tuple[str, dict[str, Any]]:
    """An OB 3.0 credential (the spec example's claims) as a did:web platform exports it: a
    vc+jwt whose kid is a method of the platform's published DID document."""
    key = KeyPair.generate("ed25519")
    did = "did:web:badges.platform.example"
    doc = web_did_document(did, [key.public_key])
    claims = spec_example()
    del claims["proof"]
    claims["issuer"] = {**claims["issuer"], "id": did}
    claims["credentialSubject"] = {**claims["credentialSubject"], "id": subject}
    return secure_credential_jwt(claims, key, kid=doc["verificationMethod"][0]["id"]), doc


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_platform_vc_jwt_badge_imports_with_the_platform_did_document(wallet: Wallet, fmt: BadgeFormat) -> None:
    token, did_doc = platform_jwt(wallet.holder)
    baked = bake(plain_badge(fmt), SecuredCredential.from_file_bytes(token.encode()))
    assert ob_extract(baked) == token
    with pytest.raises(WalletError, match="kid_unresolved"):
        wallet.add(read_credentials_input(baked, f"platform.{fmt}"))
    (entry,) = wallet.add(read_credentials_input(baked, f"platform.{fmt}"), resolver=wallet.resolver([did_doc]))
    assert entry.achievement == "Teamwork" and entry.issuer == "did:web:badges.platform.example"
    assert wallet.secured(entry.id).token == token


def test_platform_vc_jwt_baked_by_openbadgeslib_in_the_verify_attribute(wallet: Wallet) -> None:
    token, did_doc = platform_jwt(wallet.holder)
    baked = ob_baking.bake_svg(plain_badge("svg"), token, element=ob_baking.SVG_ELEMENT_OB3,
                               namespace=ob_baking.SVG_NS_OB3)
    assert f'xmlns:openbadges="{OB3_NAMESPACE}"'.encode() in baked and b'verify="' in baked
    (entry,) = wallet.add(read_credentials_input(baked, "platform.svg"), resolver=wallet.resolver([did_doc]))
    assert entry.achievement == "Teamwork"
