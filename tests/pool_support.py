"""A small world for the talent pool tests: the institutes, wallets and presentations of
tests/test_cli_match.py (same credentials, so the same hand-computed figures), each
presentation signed for the pool's own challenge, plus a way to revoke and republish later.

Jan: diploma, CNC L3, drawing L2, plannen L2 (+ a revoked and an untrusted credential);
Fatima: CNC L4, drawing L4; Sem: CNC L2; Kees: plannen L2. Against examples/profiles/cnc-verspaner.json
with the example framework and ESCO: essential coverage 6/19, 5/19, 10/57, 1/19.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import REPO
from skillcred._internal.fileio import dump_json, load_json_object
from skillcred.issuer import EvidenceInput, Issuer, init_issuer, load_achievement
from skillcred.trust import TrustList
from skillcred.wallet import Wallet

EXAMPLES = REPO / "examples"
ACHIEVEMENTS = EXAMPLES / "achievements"
PROFILE = EXAMPLES / "profiles" / "cnc-verspaner.json"
FRAMEWORK = EXAMPLES / "frameworks" / "metaal-vaardigheden.json"
CATALOG = EXAMPLES / "catalogs" / "metaal-opleidingen.json"
DOMAIN = "pool.uwv-werkbedrijf.example"
WHO = ("jan", "fatima", "sem", "kees")


@dataclass
class World:
    root: Path
    trust: Path
    status: list[Path]
    apps: Path  # jan.json ... kees.json and challenges.json (rank's layout)
    challenges: dict[str, dict[str, str]]
    holders: dict[str, str]
    ids: dict[str, str]
    docs: dict[str, list[dict[str, Any]]]
    wallets: dict[str, Wallet]

    def presentation(self, who: str) -> dict[str, Any]:
        return load_json_object(self.apps / f"{who}.json")

    def challenge(self, who: str) -> str:
        return self.challenges[f"{who}.json"]["challenge"]

    def republish(self, change: str, tag: str, folder: str) -> list[Path]:
        """Revoke / suspend / unsuspend one credential at the ROC and publish fresh lists."""
        with Issuer.open(self.root / "roc") as roc:
            getattr(roc, change)(self.ids[tag])
            roc.publish_status(self.root / folder)
        return sorted(p for p in (self.root / folder).rglob("*") if p.is_file() and p.name != "index.json")


@dataclass
class Issued:
    """The shared class of applicants: three issuers (the ROC on did:web, a workplace assessor on
    P-256, a rogue institute nobody trusts), four wallets and what each was given (one of Jan's
    credentials revoked, one from the rogue), the published status lists and an employer's
    trust list naming the ROC (diplomas, competencies, certifications) and the assessor."""
    wallets: dict[str, Wallet]
    docs: dict[str, list[dict[str, Any]]]
    ids: dict[str, str]
    status: list[Path]
    trust: TrustList
    roc_did_json: Path


def issue_class(root: Path, trust_path: Path) -> Issued:
    init_issuer(root / "roc", name="ROC Techniek Midden", url="https://roc-techniek.example", did_method="web")
    init_issuer(root / "assessor", name="Metaalbedrijf De Vries (leermeester)",
                url="https://metaalbedrijf-de-vries.example", key_type="p256")
    init_issuer(root / "rogue", name="Diplomafabriek", url="https://diplomafabriek.example")
    wallets = {n: Wallet.init(root / "wallets" / n) for n in WHO}
    cnc = load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml")
    tek = load_achievement(ACHIEVEMENTS / "technisch-tekeninglezen.yaml")
    plannen = load_achievement(ACHIEVEMENTS / "plannen-en-organiseren.yaml")
    evidence = EvidenceInput(narrative="Plant wekelijks de werkvoorbereiding van de CNC-cel.",
                             assessor="Piet Bakker, leermeester", workplace="Metaalbedrijf De Vries", hours=320)
    docs: dict[str, list[dict[str, Any]]] = {n: [] for n in wallets}
    ids: dict[str, str] = {}

    def give(who: str, tag: str, issuer: Issuer, ach: Any, level: str | None = None, **kw: Any) -> None:
        record, new = issuer.issue(ach, wallets[who].holder, level=level, **kw)
        assert new
        docs[who].append(dict(record.document))
        ids[tag] = record.id

    with Issuer.open(root / "roc") as roc, Issuer.open(root / "assessor") as assessor, \
            Issuer.open(root / "rogue") as rogue:
        give("jan", "diploma", roc, load_achievement(ACHIEVEMENTS / "mbo-verspaner-diploma.yaml"))
        give("jan", "cnc", roc, cnc, "3")
        give("jan", "tekening", roc, tek, "2")
        give("jan", "plannen", assessor, plannen, "2", evidence=evidence)
        give("jan", "revoked", roc, load_achievement(ACHIEVEMENTS / "mig-mag-lassen.yaml"), "3")
        give("jan", "untrusted", rogue, cnc, "5")
        roc.revoke(ids["revoked"])
        give("fatima", "fatima-cnc", roc, cnc, "4")
        give("fatima", "fatima-tekening", roc, tek, "4")
        give("sem", "sem-cnc", roc, cnc, "2")
        give("kees", "kees-plannen", assessor, plannen, "2", evidence=evidence)
        for name, iss in (("roc", roc), ("assessor", assessor), ("rogue", rogue)):
            iss.publish_status(root / "status" / name)
        roc_did, assessor_did = roc.profile.did, assessor.profile.did
    status = sorted(p for p in (root / "status").rglob("*") if p.is_file() and p.name != "index.json")
    roc_did_json = root / "roc" / "did.json"
    tl = TrustList(path=trust_path)
    tl.add(roc_did, name="ROC Techniek Midden", did_document=load_json_object(roc_did_json),
           may_attest=["Diploma", "Competency", "Certification"])
    tl.add(assessor_did, name="Metaalbedrijf De Vries")
    tl.save()
    return Issued(wallets, docs, ids, status, tl, roc_did_json)


def build_world(root: Path) -> World:
    issued = issue_class(root, root / "operator" / "trust.json")
    wallets, docs, ids, status, tl = issued.wallets, issued.docs, issued.ids, issued.status, issued.trust
    apps = root / "applications"
    apps.mkdir()
    challenges: dict[str, dict[str, str]] = {}
    for who, w in wallets.items():
        ch = f"pool-request-{who}-51d0"
        vp = w.present(docs[who], key=w.holder_key(), challenge=ch, domain=DOMAIN)
        (apps / f"{who}.json").write_bytes(dump_json(vp))
        challenges[f"{who}.json"] = {"challenge": ch, "domain": DOMAIN}
    (apps / "challenges.json").write_bytes(dump_json(challenges))
    return World(root, tl.path, status, apps, challenges, {n: w.holder for n, w in wallets.items()}, ids, docs,
                 wallets)
