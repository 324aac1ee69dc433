"""The worker's wallet as a library: add, list, find, select, present, and what survives a crash.

Credentials come from a real issuer folder (did:key, so no DID document is needed) built from
the example achievements; expected kinds and names are read from the achievement YAML files,
not from the code under test.
"""

from __future__ import annotations

import copy
import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO
from skillcred._internal import fileio
from skillcred.did import key_did
from skillcred.errors import InvalidArgument, MalformedDocument, StoreError, WalletError, WrongPassphrase
from skillcred.issuer import EvidenceInput, Issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.proofs import check_proofs
from skillcred.wallet import Wallet, credential_kind, read_credentials_input

ACHIEVEMENTS = REPO / "examples" / "achievements"
PASSPHRASE = b"wallet passphrase for tests"
CHALLENGE = "8d1e6f0c-challenge"
DOMAIN = "werkgever.example"

EVIDENCE = EvidenceInput(
    narrative="Plande drie maanden het werk van een team van vier.",
    workplace="Metaalbedrijf De Vries",
    hours=480,
    assessor="Piet Bakker (leermeester)",
)
# short name -> (achievement file, level, evidence)
SPECS: dict[str, tuple[str, str | None, EvidenceInput | None]] = {
    "cnc": ("cnc-programmeren.yaml", "3", None),
    "diploma": ("mbo-verspaner-diploma.yaml", None, None),
    "mig": ("mig-mag-lassen.yaml", "2", None),
    "tekenen": ("technisch-tekeninglezen.yaml", "4", None),
    "plannen": ("plannen-en-organiseren.yaml", "2", EVIDENCE),
}
# What the passport must call each example, decided from the YAML by hand:
# the file's `kind`, except that a "soft skill" tag makes it a soft skill.
EXPECTED_KIND = {"cnc": "skill", "diploma": "diploma", "mig": "skill", "tekenen": "skill", "plannen": "soft-skill"}


def raw_yaml(short: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ACHIEVEMENTS / SPECS[short][0]).read_text(encoding="utf-8"))
    return data


def issue(iss: Issuer, subject: str, short: str = "cnc", **kw: Any) -> dict[str, Any]:
    file, level, evidence = SPECS[short]
    record, new = iss.issue(load_achievement(ACHIEVEMENTS / file), subject, level=level, evidence=evidence, **kw)
    assert new
    return record.document


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    return Wallet.init(tmp_path / "wallet", passphrase=PASSPHRASE)


def ids_of(w: Wallet) -> set[str]:
    return {e.id for e in w.listing().entries}


def files_on_disk(w: Wallet) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (w.root / "credentials").iterdir() if p.is_file()}


def assert_sound(w: Wallet) -> set[str]:
    """Every listed credential is a whole file that parses and verifies; nothing is hidden."""
    listing = Wallet.open(w.root).listing()
    assert listing.problems == []
    visible = sorted(p for p in (w.root / "credentials").glob("*.json") if not p.name.startswith("."))
    assert sorted(e.file for e in listing.entries) == [p.name for p in visible]
    for p in visible:
        doc = json.loads(p.read_bytes())
        assert check_proofs(doc, expected_purpose="assertionMethod").verified, p.name
    return {e.id for e in listing.entries}


# --------------------------------------------------------------------------------------------
# init / open / key


def test_init_writes_holder_and_encrypted_key(tmp_path: Path) -> None:
    w = Wallet.init(tmp_path / "w", passphrase=PASSPHRASE)
    meta = json.loads((tmp_path / "w" / "wallet.json").read_text(encoding="utf-8"))
    assert meta["holder"] == w.holder and w.holder.startswith("did:key:z")
    assert meta["verificationMethod"].startswith(w.holder + "#")
    pem = (tmp_path / "w" / "holder-key.pem").read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in pem
    assert (tmp_path / "w" / "holder-key.pem").stat().st_mode & 0o077 == 0
    key = Wallet.open(tmp_path / "w").holder_key(PASSPHRASE)
    assert key_did(key.public_key) == w.holder
    with pytest.raises(WrongPassphrase):
        w.holder_key(b"not the passphrase")
    with pytest.raises(WalletError, match="already exists"):
        Wallet.init(tmp_path / "w", passphrase=PASSPHRASE)
    with pytest.raises(WalletError, match="no wallet here"):
        Wallet.open(tmp_path / "elsewhere")


# --------------------------------------------------------------------------------------------
# kinds


@pytest.mark.parametrize("short", list(SPECS))
def test_credential_kind_of_example_achievements(issuer: Issuer, wallet: Wallet, short: str) -> None:
    doc = issue(issuer, wallet.holder, short)
    data = raw_yaml(short)
    tags = [t.lower() for t in data["achievement"].get("tag", [])]
    expected = "soft-skill" if any("soft skill" in t for t in tags) else data["kind"]
    assert expected == EXPECTED_KIND[short]  # the hand-written table agrees with the YAML
    assert credential_kind(doc) == EXPECTED_KIND[short]
    entry = wallet.add(doc)[0]
    assert entry.kind == EXPECTED_KIND[short]
    assert entry.achievement == data["achievement"]["name"]


def test_credential_kind_of_foreign_credentials() -> None:
    """Without our credentialSchema, the OB achievementType decides; a soft-skill tag wins."""

    def cred(achievement: dict[str, Any]) -> dict[str, Any]:
        return {"type": ["VerifiableCredential", "OpenBadgeCredential"],
                "credentialSubject": {"id": "did:example:1", "achievement": achievement}}

    assert credential_kind(cred({"achievementType": "Diploma"})) == "diploma"
    assert credential_kind(cred({"achievementType": "BachelorDegree"})) == "diploma"
    assert credential_kind(cred({"achievementType": "Certification"})) == "skill"
    assert credential_kind(cred({"achievementType": "Competency", "tag": ["Soft Skill"]})) == "soft-skill"
    assert credential_kind(cred({"achievementType": "Course"})) == "other"
    assert credential_kind({"type": ["VerifiableCredential"], "credentialSubject": "junk"}) == "other"


# --------------------------------------------------------------------------------------------
# add / find / select / remove


def test_add_list_show_remove(issuer: Issuer, wallet: Wallet) -> None:
    docs = {s: issue(issuer, wallet.holder, s) for s in ("cnc", "diploma", "plannen")}
    added = wallet.add([(s, d) for s, d in docs.items()])
    assert [e.id for e in added] == [d["id"] for d in docs.values()]
    entries = {e.id: e for e in Wallet.open(wallet.root).entries()}
    assert set(entries) == {d["id"] for d in docs.values()}
    for doc in docs.values():
        e = entries[doc["id"]]
        assert e.issuer == doc["issuer"]["id"] and e.issuer_name == "ROC Techniek"
        assert e.subject == wallet.holder
        assert wallet.get(doc["id"]) == doc  # stored exactly as issued
    assert entries[docs["cnc"]["id"]].level == "Niveau 3 - zelfstandig"
    assert entries[docs["cnc"]["id"]].level_value == "3"
    removed = wallet.remove(docs["diploma"]["id"])
    assert removed.id == docs["diploma"]["id"]
    assert ids_of(Wallet.open(wallet.root)) == {docs["cnc"]["id"], docs["plannen"]["id"]}
    with pytest.raises(WalletError, match="no credential"):
        wallet.get(docs["diploma"]["id"])


def test_find_by_unique_part_of_the_id(issuer: Issuer, wallet: Wallet) -> None:
    docs = [issue(issuer, wallet.holder, s) for s in ("cnc", "mig", "tekenen")]
    wallet.add([(str(i), d) for i, d in enumerate(docs)])
    for d in docs:
        tail = d["id"][-12:]  # the end of the UUID, unique among three random UUIDs
        assert wallet.find(tail).id == d["id"]
        assert wallet.find(d["id"]).id == d["id"]
        assert wallet.get(tail) == d
    with pytest.raises(WalletError, match="matches 3 credentials"):
        wallet.find("urn:uuid:")
    with pytest.raises(WalletError, match="no credential"):
        wallet.find("does-not-occur")
    with pytest.raises(WalletError, match="no credential"):
        wallet.find("")


def test_select_by_kind_id_and_all(issuer: Issuer, wallet: Wallet) -> None:
    docs = {s: issue(issuer, wallet.holder, s) for s in ("cnc", "diploma", "mig", "plannen")}
    wallet.add([(s, d) for s, d in docs.items()])
    assert wallet.select(kinds=["diploma"]) == [docs["diploma"]]
    assert wallet.select(kinds=["soft-skill"]) == [docs["plannen"]]
    assert sorted(d["id"] for d in wallet.select(kinds=["skill"])) == sorted([docs["cnc"]["id"], docs["mig"]["id"]])
    with pytest.raises(InvalidArgument, match="nothing selected"):
        wallet.select(kinds=["on-the-job"])  # the on-the-job example is tagged "soft skill"
    picked = wallet.select(ids=[docs["mig"]["id"][-10:]], kinds=["diploma"])
    assert [d["id"] for d in picked] == [docs["mig"]["id"], docs["diploma"]["id"]]
    # the same credential chosen twice (id and kind) appears once
    assert wallet.select(ids=[docs["diploma"]["id"]], kinds=["diploma"]) == [docs["diploma"]]
    assert len(wallet.select(all_credentials=True)) == 4
    with pytest.raises(InvalidArgument, match="unknown kind"):
        wallet.select(kinds=["hobby"])
    with pytest.raises(InvalidArgument, match="nothing selected"):
        wallet.select(kinds=["other"])
    with pytest.raises(InvalidArgument, match="nothing selected"):
        wallet.select()


def test_add_refuses_bad_credentials_and_adds_nothing(issuer: Issuer, wallet: Wallet) -> None:
    good = issue(issuer, wallet.holder, "cnc")
    wallet.add(good)
    before = files_on_disk(wallet)

    tampered = copy.deepcopy(issue(issuer, wallet.holder, "mig"))
    tampered["credentialSubject"]["achievement"]["name"] = "MIG/MAG-lassen (meester)"
    other_person = issue(issuer, key_did(KeyPair.generate("ed25519").public_key), "tekenen")
    fresh = issue(issuer, wallet.holder, "diploma")
    unsigned = {k: v for k, v in fresh.items() if k != "proof"}
    no_id = {k: v for k, v in fresh.items() if k != "id"}

    cases = [
        (tampered, WalletError, "does not verify"),
        (other_person, WalletError, "not this wallet's holder"),
        (good, WalletError, "already in the wallet: " + good["id"]),
        (unsigned, WalletError, "does not verify"),
        (no_id, WalletError, "has no id"),
        ({"type": ["VerifiablePresentation"]}, WalletError, "not a verifiable credential"),
    ]
    for bad, exc, msg in cases:
        # a good credential next to the bad one is not added either: all or nothing
        with pytest.raises(exc, match=msg.replace("(", r"\(").replace(")", r"\)")):
            wallet.add([("fresh.json", fresh), ("bad.json", bad)])
        assert files_on_disk(wallet) == before
    with pytest.raises(WalletError, match="given twice"):
        wallet.add([("a.json", fresh), ("b.json", fresh)])
    assert files_on_disk(wallet) == before
    # someone else's credential is kept when the holder insists
    wallet.add(other_person, force_foreign=True)
    assert ids_of(wallet) == {good["id"], other_person["id"]}


def test_read_credentials_input_shapes(issuer: Issuer, wallet: Wallet) -> None:
    a, b = issue(issuer, wallet.holder, "cnc"), issue(issuer, wallet.holder, "mig")
    assert read_credentials_input(json.dumps(a).encode(), "a.json") == [("a.json", a)]
    sources = [s for s, _ in read_credentials_input(json.dumps([a, b]).encode(), "ab.json")]
    assert sources == ["ab.json[0]", "ab.json[1]"]
    vp = {"type": ["VerifiablePresentation"], "verifiableCredential": [a, b]}
    assert [d for _, d in read_credentials_input(json.dumps(vp).encode(), "vp.json")] == [a, b]
    with pytest.raises(MalformedDocument, match="not UTF-8 text"):  # not sniffed as UTF-16 any more
        read_credentials_input(b"\x00\xff garbage", "g.json")
    with pytest.raises(MalformedDocument, match="expected a credential"):
        read_credentials_input(b"[1, 2]", "n.json")


# --------------------------------------------------------------------------------------------
# presenting


def test_present_signs_for_one_verifier(issuer: Issuer, wallet: Wallet) -> None:
    docs = [issue(issuer, wallet.holder, s) for s in ("cnc", "diploma", "mig")]
    wallet.add([(str(i), d) for i, d in enumerate(docs)])
    key = wallet.holder_key(PASSPHRASE)
    chosen = wallet.select(ids=[docs[0]["id"][-8:], docs[1]["id"][-8:]])
    vp = wallet.present(chosen, key=key, challenge=CHALLENGE, domain=DOMAIN)
    assert vp["holder"] == wallet.holder
    assert vp["proof"]["proofPurpose"] == "authentication"
    assert vp["proof"]["challenge"] == CHALLENGE and vp["proof"]["domain"] == DOMAIN
    assert check_proofs(vp, expected_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN).verified
    assert not check_proofs(vp, expected_purpose="authentication", challenge="other", domain=DOMAIN).verified
    assert not check_proofs(vp, expected_purpose="authentication", challenge=CHALLENGE,
                            domain="concurrent.example").verified
    assert [c["id"] for c in vp["verifiableCredential"]] == [docs[0]["id"], docs[1]["id"]]
    for c in vp["verifiableCredential"]:
        assert check_proofs(c, expected_purpose="assertionMethod").verified
    assert docs[2]["id"] not in json.dumps(vp)


def test_present_refuses_a_key_that_is_not_the_holders(issuer: Issuer, wallet: Wallet) -> None:
    doc = issue(issuer, wallet.holder, "cnc")
    wallet.add(doc)
    stranger = KeyPair.generate("ed25519")
    with pytest.raises(WalletError, match="not the wallet holder's key"):
        wallet.present([doc], key=stranger, challenge=CHALLENGE, domain=DOMAIN)
    key = wallet.holder_key(PASSPHRASE)
    for challenge, domain in (("", DOMAIN), (CHALLENGE, "")):
        with pytest.raises(InvalidArgument, match="challenge and domain"):
            wallet.present([doc], key=key, challenge=challenge, domain=domain)


def test_holder_key_must_match_wallet_json(tmp_path: Path) -> None:
    w = Wallet.init(tmp_path / "w", passphrase=PASSPHRASE)
    other = Wallet.init(tmp_path / "other", passphrase=PASSPHRASE)
    (w.root / "holder-key.pem").write_bytes((other.root / "holder-key.pem").read_bytes())
    with pytest.raises(WalletError, match="does not match"):
        w.holder_key(PASSPHRASE)


# --------------------------------------------------------------------------------------------
# damaged, foreign and stale files


def test_damaged_and_foreign_files_are_reported_and_skipped(issuer: Issuer, wallet: Wallet) -> None:
    docs = [issue(issuer, wallet.holder, s) for s in ("cnc", "diploma")]
    wallet.add([(str(i), d) for i, d in enumerate(docs)])
    cred_dir = wallet.root / "credentials"
    (cred_dir / "garbage.json").write_bytes(os.urandom(300) + b"\x00{")
    (cred_dir / "foreign.json").write_text(json.dumps({"hello": "world"}), encoding="utf-8")
    (cred_dir / "list.json").write_text("[1, 2, 3]", encoding="utf-8")
    (cred_dir / "README.txt").write_text("not a credential", encoding="utf-8")
    listing = Wallet.open(wallet.root).listing()
    assert {e.id for e in listing.entries} == {d["id"] for d in docs}
    assert sorted(p.file for p in listing.problems) == ["foreign.json", "garbage.json", "list.json"]
    # and once more from the (now written) index
    again = Wallet.open(wallet.root).listing()
    assert again.entries == listing.entries and again.problems == listing.problems


@pytest.mark.parametrize("damage", [
    "delete", "garbage", "truncate", "list", "wrong-shape", "empty-entries", "wrong-files",
])
def test_index_is_a_cache_rebuilt_when_missing_or_damaged(issuer: Issuer, wallet: Wallet, damage: str) -> None:
    docs = [issue(issuer, wallet.holder, s) for s in ("cnc", "diploma", "mig")]
    wallet.add([(str(i), d) for i, d in enumerate(docs)])
    index_path = wallet.root / "index.json"
    index = json.loads(index_path.read_text(encoding="utf-8"))
    assert len(index["entries"]) == 3
    if damage == "delete":
        index_path.unlink()
    elif damage == "garbage":
        index_path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    elif damage == "truncate":
        index_path.write_bytes(index_path.read_bytes()[:100])
    elif damage == "list":
        index_path.write_text("[]", encoding="utf-8")
    elif damage == "wrong-shape":
        index["entries"] = [{"bogus": 1}]
        index_path.write_text(json.dumps(index), encoding="utf-8")
    elif damage == "empty-entries":  # file list still matches, entries lost
        index["entries"] = []
        index_path.write_text(json.dumps(index), encoding="utf-8")
    elif damage == "wrong-files":
        index["files"] = index["files"][:1]
        index_path.write_text(json.dumps(index), encoding="utf-8")
    listing = Wallet.open(wallet.root).listing()
    assert {e.id for e in listing.entries} == {d["id"] for d in docs}
    assert listing.problems == []
    # rebuilt: the index on disk is whole again
    rebuilt = json.loads(index_path.read_text(encoding="utf-8"))
    assert len(rebuilt["entries"]) == 3


def test_credential_damaged_in_place_is_reported_not_served_from_the_index(issuer: Issuer, wallet: Wallet) -> None:
    docs = [issue(issuer, wallet.holder, s) for s in ("cnc", "diploma")]
    added = wallet.add([(str(i), d) for i, d in enumerate(docs)])
    assert len(Wallet.open(wallet.root).listing().entries) == 2  # the index is now up to date
    victim = wallet.root / "credentials" / added[1].file
    victim.write_bytes(b"\x00\x01 disk error " + os.urandom(200))
    listing = Wallet.open(wallet.root).listing()
    assert {e.id for e in listing.entries} == {docs[0]["id"]}
    assert [p.file for p in listing.problems] == [added[1].file]


def test_remove_works_when_the_index_is_stale(issuer: Issuer, wallet: Wallet) -> None:
    """remove() holds the lock while it looks the credential up; a stale index must not make it
    wait for that same lock (it would hang forever)."""
    docs = [issue(issuer, wallet.holder, s) for s in ("cnc", "diploma")]
    wallet.add([(str(i), d) for i, d in enumerate(docs)])
    (wallet.root / "index.json").unlink()
    import threading

    result: list[Any] = []
    t = threading.Thread(target=lambda: result.append(wallet.remove(docs[0]["id"][-10:])), daemon=True)
    t.start()
    t.join(timeout=10)
    assert not t.is_alive(), "wallet.remove() deadlocked on its own lock"
    assert result and result[0].id == docs[0]["id"]
    assert ids_of(Wallet.open(wallet.root)) == {docs[1]["id"]}


# --------------------------------------------------------------------------------------------
# a crash while writing: fault injection at the rename of atomic_write


def test_crash_at_rename_loses_nothing_and_shows_no_half_file(
    issuer: Issuer, wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = [issue(issuer, wallet.holder, s) for s in ("cnc", "diploma")]
    wallet.add([(str(i), d) for i, d in enumerate(earlier)])
    before_bytes = files_on_disk(wallet)
    new = issue(issuer, wallet.holder, "mig")
    seen: list[tuple[str, bytes]] = []

    def crashing_replace(src: Any, dst: Any, *a: Any, **kw: Any) -> None:
        # at this point the temp file is completely written and synced
        seen.append((os.path.basename(src), Path(src).read_bytes()))
        raise OSError(errno.EIO, "simulated crash during rename")

    with monkeypatch.context() as m:
        m.setattr(fileio.os, "replace", crashing_replace)
        with pytest.raises(StoreError, match="simulated crash"):  # a failed write: one error naming the file
            wallet.add(new)
    assert len(seen) == 1
    tmp_name, tmp_bytes = seen[0]
    assert tmp_name.startswith(".") and json.loads(tmp_bytes) == new  # it was the whole credential
    assert files_on_disk(wallet) == before_bytes  # the temp file was cleaned up, nothing else changed
    assert assert_sound(wallet) == {d["id"] for d in earlier}
    # the wallet still works afterwards
    wallet.add(new)
    assert assert_sound(wallet) == {d["id"] for d in earlier} | {new["id"]}


def test_temp_files_left_by_a_crash_are_ignored(
    issuer: Issuer, wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = issue(issuer, wallet.holder, "cnc")
    wallet.add(earlier)
    new = issue(issuer, wallet.holder, "diploma")

    def crash(*a: Any, **kw: Any) -> None:
        raise OSError(errno.EIO, "simulated power loss")

    with monkeypatch.context() as m:
        m.setattr(fileio.os, "replace", crash)
        m.setattr(fileio.os, "unlink", lambda *a, **kw: None)  # a dead process cleans nothing up
        with pytest.raises(StoreError, match="simulated power loss"):
            wallet.add(new)
    cred_dir = wallet.root / "credentials"
    leftovers = [p for p in cred_dir.iterdir() if p.name.startswith(".")]
    assert leftovers, "the simulated crash should have left the temp file behind"
    # also a half-written dot-file that does end in .json
    (cred_dir / f".{leftovers[0].name}.json").write_bytes(json.dumps(new).encode()[:200])
    listing = Wallet.open(wallet.root).listing()
    assert {e.id for e in listing.entries} == {earlier["id"]}
    assert listing.problems == []
    assert assert_sound(wallet) == {earlier["id"]}


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4])
def test_crash_during_a_batch_add(
    issuer: Issuer, wallet: Wallet, monkeypatch: pytest.MonkeyPatch, fail_at: int
) -> None:
    """A batch of 3 writes 3 credential files then the index (4 renames); fail each in turn."""
    earlier = issue(issuer, wallet.holder, "plannen")
    wallet.add(earlier)
    batch = [issue(issuer, wallet.holder, s) for s in ("cnc", "diploma", "mig")]
    real_replace = os.replace
    calls = 0

    def replace(src: Any, dst: Any, *a: Any, **kw: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == fail_at:
            raise OSError(errno.ENOSPC, "simulated crash")
        real_replace(src, dst, *a, **kw)

    with monkeypatch.context() as m:
        m.setattr(fileio.os, "replace", replace)
        with pytest.raises(StoreError, match="the disk is full"):  # ENOSPC, said as what it means
            wallet.add([(str(i), d) for i, d in enumerate(batch)])
    listed = assert_sound(wallet)
    batch_ids = [d["id"] for d in batch]
    # nothing earlier is lost; of the batch, at most the files renamed before the crash are in
    assert earlier["id"] in listed
    assert listed <= {earlier["id"], *batch_ids[: fail_at - 1]}
    assert not [p for p in (wallet.root / "credentials").iterdir() if p.name.startswith(".")]


def test_batch_add_failing_at_the_second_write_takes_back_the_first(
    issuer: Issuer, wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All or nothing holds for write failures too, not only for refused credentials."""
    earlier = issue(issuer, wallet.holder, "cnc")
    wallet.add(earlier)
    before_bytes = files_on_disk(wallet)
    batch = [issue(issuer, wallet.holder, s) for s in ("diploma", "mig")]
    real_replace = fileio.os.replace
    calls = {"n": 0}

    def fail_second(src: Any, dst: Any, *a: Any, **kw: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "simulated disk full")
        real_replace(src, dst, *a, **kw)

    with monkeypatch.context() as m:
        m.setattr(fileio.os, "replace", fail_second)
        with pytest.raises(StoreError, match="the disk is full"):
            wallet.add([(f"b{i}", d) for i, d in enumerate(batch)])
    assert calls["n"] == 2  # the first credential was really written before the failure
    assert files_on_disk(wallet) == before_bytes
    assert assert_sound(wallet) == {earlier["id"]}
