"""The institute's side as a library: init, issue the three kinds, bad input, revoke and publish.

Expected values come from outside the code under test: the achievement YAML files (read here
with PyYAML directly), the 1EdTech Open Badges vector, the spec's context URLs, and keys read
back from the PEM with ``cryptography``.
"""

from __future__ import annotations

import copy
import csv
import json
import shutil
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from multiformats import multibase
from pyld import jsonld

from conftest import REPO, vectors_dir
from skillcred.did import DidResolver, key_did
from skillcred.errors import InvalidArgument, MalformedDocument, SchemaViolation, StoreError, WrongPassphrase
from skillcred.issuer import EvidenceInput, Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.loader import default_loader
from skillcred.proofs import check_proofs
from skillcred.schemas import validate
from skillcred.status import BitstringStatusList, read_status

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"
ACHIEVEMENTS = REPO / "examples" / "achievements"
URL = "https://roc-techniek.example"
PASSPHRASE = b"correct horse battery staple"
LIST_ENTRIES = 131_072

JAN = key_did(KeyPair.generate("ed25519").public_key)
FATIMA = key_did(KeyPair.generate("ed25519").public_key)
SEM = key_did(KeyPair.generate("p256").public_key)

ON_THE_JOB_EVIDENCE = EvidenceInput(
    narrative="Plande drie maanden lang het werk van een team van vier in de verspaning.",
    workplace="Metaalbedrijf De Vries, Zwolle",
    hours=480,
    assessor="Piet Bakker (leermeester)",
    period_start=datetime(2025, 9, 1, tzinfo=UTC),
    period_end=datetime(2025, 12, 1, tzinfo=UTC),
)

# kind -> (achievement file, level given, evidence)
KINDS: dict[str, tuple[str, str | None, EvidenceInput | None]] = {
    "diploma": ("mbo-verspaner-diploma.yaml", None, None),
    "skill": ("cnc-programmeren.yaml", "3", None),
    "on-the-job": ("plannen-en-organiseren.yaml", "2", ON_THE_JOB_EVIDENCE),
}

# (did method, key type, the suite the issuer must then sign with)
ISSUER_SETUPS = [
    ("key", "ed25519", "eddsa-rdfc-2022"),
    ("key", "p256", "ecdsa-rdfc-2019"),
    ("web", "ed25519", "eddsa-rdfc-2022"),
    ("web", "p256", "ecdsa-rdfc-2019"),
]


def raw_yaml(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ACHIEVEMENTS / name).read_text(encoding="utf-8"))
    return data


def rubric_level(name: str, level: str) -> tuple[str, str]:
    """(resultDescription id, rubric level id) for ``level``, read straight from the YAML file."""
    for rd in raw_yaml(name)["achievement"]["resultDescription"]:
        for lvl in rd["rubricCriterionLevel"]:
            if lvl["level"] == level:
                return rd["id"], lvl["id"]
    raise AssertionError(f"{name} has no level {level}")


def resolver_for(folder: Path) -> DidResolver:
    did_json = folder / "did.json"
    if did_json.exists():
        return DidResolver([json.loads(did_json.read_text(encoding="utf-8"))])
    return DidResolver()


def profile_json(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "issuer.json").read_text(encoding="utf-8"))
    return data


def db_counts(folder: Path) -> tuple[int, int, int]:
    """(credentials, allocations, status lists), read with sqlite3, not through the Registry."""
    con = sqlite3.connect(folder / "registry.sqlite")
    try:
        return tuple(  # type: ignore[return-value]
            con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("credentials", "allocations", "status_lists")
        )
    finally:
        con.close()


def make_issuer(folder: Path, *, did_method: str = "key", key_type: str = "ed25519") -> Path:
    init_issuer(folder, name="ROC Techniek", url=URL, did_method=did_method,  # type: ignore[arg-type]
                key_type=key_type, passphrase=PASSPHRASE)  # type: ignore[arg-type]
    return folder


def issue_kind(iss: Issuer, kind: str, subject: str = JAN, **kw: Any) -> dict[str, Any]:
    file, level, evidence = KINDS[kind]
    record, new = iss.issue(load_achievement(ACHIEVEMENTS / file), subject, name="Jan de Vries",
                            level=level, evidence=evidence, **kw)
    assert new
    return record.document


@pytest.fixture(scope="module", params=ISSUER_SETUPS, ids=lambda s: f"did:{s[0]}-{s[1]}")
def issuer_setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    method, key_type, suite = request.param
    folder = make_issuer(tmp_path_factory.mktemp("issuer") / "roc", did_method=method, key_type=key_type)
    return folder, method, suite


# --------------------------------------------------------------------------------------------
# Issuing each kind


@pytest.mark.parametrize("kind", list(KINDS))
def test_issued_credential_is_valid_signed_and_carries_status(
    issuer_setup: tuple[Path, str, str], kind: str
) -> None:
    folder, method, suite = issuer_setup
    issuer_did = profile_json(folder)["did"]
    if method == "web":
        assert issuer_did == "did:web:roc-techniek.example"
    else:
        assert issuer_did.startswith("did:key:z")

    with Issuer.open(folder, PASSPHRASE) as iss:
        doc = issue_kind(iss, kind)

    # Schema: the one the credential names, and the one for its kind.
    schema_id = doc["credentialSchema"][0]["id"]
    assert schema_id.endswith(f"/{kind}-credential.json")
    validate(doc, schema_id)

    # Proof: verifies, with the issuer's suite, by a method the issuer controls.
    report = check_proofs(doc, resolver=resolver_for(folder), expected_purpose="assertionMethod")
    assert report.verified, report.to_dict()
    assert report.controllers == (issuer_did,)
    assert doc["issuer"]["id"] == issuer_did
    assert doc["proof"]["cryptosuite"] == suite
    assert doc["proof"]["verificationMethod"].split("#")[0] == issuer_did

    # Two status entries (revocation, suspension), indexes inside a 131072-entry list.
    statuses = doc["credentialStatus"]
    assert len(statuses) == 2
    assert sorted(s["statusPurpose"] for s in statuses) == ["revocation", "suspension"]
    for s in statuses:
        assert s["type"] == "BitstringStatusListEntry"
        assert isinstance(s["statusListIndex"], str)
        assert 0 <= int(s["statusListIndex"]) < LIST_ENTRIES
        assert s["statusListCredential"].startswith(URL + "/status/")
    assert statuses[0]["statusListCredential"] != statuses[1]["statusListCredential"]

    subject = doc["credentialSubject"]
    assert subject["id"] == JAN
    assert subject["achievement"]["id"] == raw_yaml(KINDS[kind][0])["achievement"]["id"]
    # The name, as an OB 3.0 IdentityObject (plain text, not hashed).
    idents = [i for i in subject["identifier"] if i["type"] == "IdentityObject"]
    assert [(i["identityHash"], i["hashed"]) for i in idents] == [("Jan de Vries", False)]

    # The level is the rubric level id from the achievement file.
    file, level, _ = KINDS[kind]
    if level is None:
        assert "result" not in subject
    else:
        rd_id, level_id = rubric_level(file, level)
        assert [(r["resultDescription"], r["achievedLevel"]) for r in subject["result"]] == [(rd_id, level_id)]

    if kind == "diploma":
        assert "validUntil" not in doc  # no validity in the file: a diploma does not expire
        assert "awardedDate" in doc
    if kind == "on-the-job":
        assert subject["source"]["name"] == ON_THE_JOB_EVIDENCE.assessor
        assert doc["evidence"][0]["narrative"] == ON_THE_JOB_EVIDENCE.narrative
        assert subject["activityStartDate"].startswith("2025-09-01T00:00:00")

    # The signature covers what was issued: a raised level, or a changed name, is detected.
    forged = copy.deepcopy(doc)
    if "result" in forged["credentialSubject"]:
        forged["credentialSubject"]["result"][0]["achievedLevel"] += "x"
    else:
        forged["credentialSubject"]["identifier"][0]["identityHash"] = "Piet"
    assert not check_proofs(forged, resolver=resolver_for(folder)).verified


def test_did_web_credential_needs_the_did_document(tmp_path: Path) -> None:
    folder = make_issuer(tmp_path / "roc", did_method="web")
    with Issuer.open(folder, PASSPHRASE) as iss:
        doc = issue_kind(iss, "skill")
    assert not check_proofs(doc, resolver=DidResolver()).verified
    assert check_proofs(doc, resolver=resolver_for(folder)).verified


@pytest.mark.parametrize(("file", "years"), [("mig-mag-lassen.yaml", 3), ("cnc-programmeren.yaml", 5)])
def test_valid_until_is_valid_from_plus_the_files_validity(tmp_path: Path, file: str, years: int) -> None:
    assert raw_yaml(file)["validity"] == {"years": years}
    definition = load_achievement(ACHIEVEMENTS / file)
    with Issuer.open(make_issuer(tmp_path / "roc"), PASSPHRASE) as iss:
        fixed, _ = iss.issue(definition, JAN, level="3", valid_from=datetime(2025, 6, 30, 9, 15, tzinfo=UTC))
        default, _ = iss.issue(definition, FATIMA, level="3")
    assert fixed.document["validFrom"] == "2025-06-30T09:15:00Z"
    assert fixed.document["validUntil"] == f"{2025 + years}-06-30T09:15:00Z"
    start = datetime.fromisoformat(default.document["validFrom"].replace("Z", "+00:00"))
    until = datetime.fromisoformat(default.document["validUntil"].replace("Z", "+00:00"))
    assert until == start.replace(year=start.year + years)


def test_naive_datetimes_are_taken_as_utc(tmp_path: Path) -> None:
    definition = load_achievement(ACHIEVEMENTS / "mig-mag-lassen.yaml")
    folder = make_issuer(tmp_path / "roc")
    with Issuer.open(folder, PASSPHRASE) as iss:
        rec, _ = iss.issue(definition, JAN, level="3", valid_from=datetime(2025, 6, 30, 8, 0))
        assert (rec.document["validFrom"], rec.document["validUntil"]) == ("2025-06-30T08:00:00Z",
                                                                            "2028-06-30T08:00:00Z")
        rec, _ = iss.issue(definition, FATIMA, level="3", valid_from=datetime(2025, 6, 30, tzinfo=UTC),
                           valid_until=datetime(2026, 6, 30))
        assert rec.document["validUntil"] == "2026-06-30T00:00:00Z"
        assert check_proofs(rec.document).verified
    assert db_counts(folder)[:2] == (2, 4)


def test_explicit_valid_until_overrides_and_must_follow_valid_from(tmp_path: Path) -> None:
    definition = load_achievement(ACHIEVEMENTS / "mig-mag-lassen.yaml")
    folder = make_issuer(tmp_path / "roc")
    with Issuer.open(folder, PASSPHRASE) as iss:
        rec, _ = iss.issue(definition, JAN, level="3", valid_from=datetime(2025, 6, 30, tzinfo=UTC),
                           valid_until=datetime(2026, 1, 1, tzinfo=UTC))
        assert rec.document["validUntil"] == "2026-01-01T00:00:00Z"
        with pytest.raises(InvalidArgument):
            iss.issue(definition, FATIMA, level="3", valid_from=datetime(2025, 6, 30, tzinfo=UTC),
                      valid_until=datetime(2025, 6, 1, tzinfo=UTC))
    assert db_counts(folder)[:2] == (1, 2)


# --------------------------------------------------------------------------------------------
# Only VC 2.0 + OB 3.0.3 terms


def _strings(node: Any) -> list[str]:
    out: list[str] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            for k, v in n.items():
                out.append(k)
                stack.append(v)
        elif isinstance(n, list):
            stack.extend(n)
        elif isinstance(n, str):
            out.append(n)
    return out


def _expand(doc: dict[str, Any]) -> Any:
    return jsonld.expand(doc, {"documentLoader": default_loader()})


def _with_issuer_dependent_vocab(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with ``{"@vocab": issuer-dependent}`` appended to its contexts.

    The VC 2.0 REC base context has no ``@vocab``, so pyld silently drops a term that no
    context defines instead of mapping it to the issuer-dependent vocabulary. Appending the
    ``@vocab`` (as VC DM 2.0 suggests for undefined terms) makes every such term visible.
    """
    out = copy.deepcopy(doc)
    out["@context"] = [*doc["@context"], {"@vocab": ISSUER_DEPENDENT}]
    return out


def _leaks(doc: dict[str, Any]) -> list[str]:
    return sorted({s for s in _strings(_expand(doc)) if s.startswith(ISSUER_DEPENDENT)})


@pytest.mark.parametrize("kind", list(KINDS))
def test_credential_uses_only_vc2_and_ob303_terms(tmp_path: Path, kind: str) -> None:
    with Issuer.open(make_issuer(tmp_path / "roc"), PASSPHRASE) as iss:
        doc = issue_kind(iss, kind)
    assert doc["@context"] == [VC_V2, OB_303]
    strings = _strings(_expand(doc))
    assert "https://purl.imsglobal.org/spec/vc/ob/vocab.html#achievement" in strings
    assert _leaks(doc) == []
    # Also with undefined terms made visible instead of dropped.
    assert _leaks(_with_issuer_dependent_vocab(doc)) == []
    # ... which is not vacuous: one undefined term, at the top or nested, does show up.
    for where in ("top", "subject", "achievement"):
        probe = _with_issuer_dependent_vocab(doc)
        target = {"top": probe, "subject": probe["credentialSubject"],
                  "achievement": probe["credentialSubject"]["achievement"]}[where]
        target["colour"] = "red"
        assert _leaks(probe) == [ISSUER_DEPENDENT + "colour"], where


def test_structure_matches_the_1edtech_ob3_vector(tmp_path: Path) -> None:
    vector = json.loads((vectors_dir("ob-v3p0-eddsa-rdfc-2022") / "unsigned.json").read_text(encoding="utf-8"))
    with Issuer.open(make_issuer(tmp_path / "roc"), PASSPHRASE) as iss:
        doc = issue_kind(iss, "skill")
    assert set(vector) <= set(doc)
    assert doc["@context"][:2] == vector["@context"][:2]
    assert set(vector["type"]) <= set(doc["type"])
    assert "OpenBadgeCredential" in doc["type"]
    assert {"id", "type"} <= set(doc["issuer"])
    assert set(vector["issuer"]["type"]) <= set(doc["issuer"]["type"])
    assert "Profile" in doc["issuer"]["type"]
    v_subject, subject = vector["credentialSubject"], doc["credentialSubject"]
    assert set(v_subject) <= set(subject)
    assert set(v_subject["type"]) <= set(subject["type"]) and "AchievementSubject" in subject["type"]
    v_ach, ach = v_subject["achievement"], subject["achievement"]
    assert set(v_ach) <= set(ach)
    assert {"id", "type", "criteria", "description", "name"} <= set(ach)
    assert set(v_ach["type"]) <= set(ach["type"])
    assert set(v_ach["criteria"]) <= set(ach["criteria"])
    for key in ("validFrom",):
        assert isinstance(doc[key], str) and doc[key].endswith("Z")


# --------------------------------------------------------------------------------------------
# Bad input: a clear error, and nothing half-written


def _write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_unknown_achievement_field_names_field_and_file(tmp_path: Path) -> None:
    data = raw_yaml("cnc-programmeren.yaml")
    data["achievement"]["colour"] = "red"
    path = _write_yaml(tmp_path / "cnc-colour.yaml", data)
    with pytest.raises(SchemaViolation) as info:
        load_achievement(path)
    assert "colour" in str(info.value)
    assert str(path) in str(info.value)


def test_unknown_top_level_field_is_refused(tmp_path: Path) -> None:
    data = raw_yaml("cnc-programmeren.yaml")
    data["validty"] = {"years": 2}  # a typo would otherwise silently issue without expiry
    path = _write_yaml(tmp_path / "typo.yaml", data)
    with pytest.raises(SchemaViolation, match="validty"):
        load_achievement(path)


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("kind: skill\nachievement: {id: [unclosed\n", encoding="utf-8")
    with pytest.raises(MalformedDocument) as info:
        load_achievement(path)
    assert not isinstance(info.value, SchemaViolation)
    assert str(path) in str(info.value)


def test_missing_achievement_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(MalformedDocument) as info:
        load_achievement(path)
    assert str(path) in str(info.value)


def test_failed_issues_leave_the_registry_unchanged(tmp_path: Path) -> None:
    folder = make_issuer(tmp_path / "roc")
    skill = load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml")
    on_the_job = load_achievement(ACHIEVEMENTS / "plannen-en-organiseren.yaml")
    levels = [lvl["level"] for rd in raw_yaml("cnc-programmeren.yaml")["achievement"]["resultDescription"]
              for lvl in rd["rubricCriterionLevel"]]
    with Issuer.open(folder, PASSPHRASE) as iss:
        iss.issue(skill, JAN, level="3")
        before = db_counts(folder)
        assert before[:2] == (1, 2)

        with pytest.raises(InvalidArgument):
            iss.issue(skill, "jan@roc-techniek.example", level="3")  # not a DID
        assert db_counts(folder) == before

        with pytest.raises(InvalidArgument, match="level"):
            iss.issue(skill, FATIMA)  # a skill needs a level
        assert db_counts(folder) == before

        with pytest.raises(InvalidArgument) as info:
            iss.issue(skill, FATIMA, level="7")
        for lvl in levels:
            assert lvl in str(info.value)
        assert db_counts(folder) == before

        with pytest.raises(InvalidArgument):  # on-the-job without an assessor
            iss.issue(on_the_job, FATIMA, level="2", evidence=EvidenceInput(narrative="ok"))
        assert db_counts(folder) == before

        # The registry is still usable after the failures (no transaction left open).
        _, new = iss.issue(skill, FATIMA, level="4")
        assert new
    assert db_counts(folder)[:2] == (2, 4)


def test_same_row_key_issues_once(tmp_path: Path) -> None:
    folder = make_issuer(tmp_path / "roc")
    definition = load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml")
    with Issuer.open(folder, PASSPHRASE) as iss:
        first, new1 = iss.issue(definition, JAN, level="3", row_key="2026-0001-cnc")
        second, new2 = iss.issue(definition, JAN, level="3", row_key="2026-0001-cnc")
        assert (new1, new2) == (True, False)
        assert second == first
        assert iss.registry.count() == 1
        _, new3 = iss.issue(definition, JAN, level="3", row_key="2026-0002-cnc")
        assert new3
    assert db_counts(folder)[:2] == (2, 4)


# --------------------------------------------------------------------------------------------
# Batches


def _roster(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "subject", "name", "achievement", "level"])
        w.writerows(rows)
    return path


def test_batch_reports_bad_rows_by_line_and_issues_the_others(tmp_path: Path) -> None:
    folder = make_issuer(tmp_path / "roc")
    cnc = str(ACHIEVEMENTS / "cnc-programmeren.yaml")
    roster = _roster(tmp_path / "roster.csv", [
        ["r1", JAN, "Jan", cnc, "3"],                           # line 2
        ["r2", FATIMA, "Fatima", cnc, "9"],                     # line 3: no such level
        ["r3", SEM, "Sem", cnc, "2"],                           # line 4
        ["r4", "", "Nobody", cnc, "2"],                         # line 5: no subject
        ["r5", FATIMA, "Fatima", str(tmp_path / "x.yaml"), "1"],  # line 6: missing file
    ])
    out = tmp_path / "out"
    with Issuer.open(folder, PASSPHRASE) as iss:
        result = iss.issue_batch(roster, out)
        assert [e.line for e in result.errors] == [3, 5, 6]
        assert "x.yaml" in result.errors[2].message
        assert sorted(r.row_key for r in result.issued) == ["r1", "r3"]
        again = iss.issue_batch(roster, out)
    assert again.issued == []
    assert sorted(r.row_key for r in again.skipped) == ["r1", "r3"]
    files = sorted(out.glob("*.json"))
    assert len(files) == 2
    assert {json.loads(f.read_text())["credentialSubject"]["id"] for f in files} == {JAN, SEM}
    assert db_counts(folder)[:2] == (2, 4)


def test_batch_keeps_line_breaks_in_quoted_cells_and_reports_a_rows_first_line(tmp_path: Path) -> None:
    folder = make_issuer(tmp_path / "roc")
    otj = str(ACHIEVEMENTS / "plannen-en-organiseren.yaml")
    cnc = str(ACHIEVEMENTS / "cnc-programmeren.yaml")
    narrative = "Plande het werk van het team.\nBewaakte de voortgang met de planner."
    roster = tmp_path / "roster.csv"
    with roster.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["key", "subject", "name", "achievement", "level", "evidence", "assessor"])
        w.writerow(["r1", JAN, "Jan", otj, "2", narrative, "Piet Bakker"])    # lines 2-3
        w.writerow(["r2", FATIMA, "Fatima", cnc, "9", "", ""])                # line 4: bad level
        w.writerow(["r3", SEM, "Sem", cnc, "9", "twee\nregels", ""])          # lines 5-6: bad level
        w.writerow(["r4", SEM, "Sem", cnc, "3", "", ""])                      # line 7
    assert roster.read_text(encoding="utf-8").count("\n") == 7  # the file really is 7 lines
    with Issuer.open(folder, PASSPHRASE) as iss:
        result = iss.issue_batch(roster, tmp_path / "out")
    assert [e.line for e in result.errors] == [4, 5]
    assert sorted(r.row_key for r in result.issued) == ["r1", "r4"]
    (r1,) = [r for r in result.issued if r.row_key == "r1"]
    assert r1.document["evidence"][0]["narrative"] == narrative


# --------------------------------------------------------------------------------------------
# Revocation, suspension and the published lists


def set_bits(list_credential: dict[str, Any]) -> set[int]:
    bits = BitstringStatusList.decode(list_credential["credentialSubject"]["encodedList"])
    assert bits.size == LIST_ENTRIES
    raw = bits.to_bytes()
    return {i * 8 + j for i, b in enumerate(raw) if b for j in range(8) if bits.get(i * 8 + j)}


def entry(doc: dict[str, Any], purpose: str) -> dict[str, Any]:
    (e,) = [s for s in doc["credentialStatus"] if s["statusPurpose"] == purpose]
    return e


def published(iss: Issuer, out: Path) -> dict[str, dict[str, Any]]:
    """Publish, then read the files back: {purpose: list credential}."""
    index = iss.publish_status(out)
    on_disk = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert on_disk == index
    lists = {}
    for url, name in on_disk.items():
        assert name == url.rsplit("/", 1)[-1]
        doc = json.loads((out / name).read_text(encoding="utf-8"))
        assert doc["id"] == url
        lists[doc["credentialSubject"]["statusPurpose"]] = doc
    return lists


@pytest.mark.parametrize(("method", "key_type"), [("key", "ed25519"), ("web", "p256")])
def test_revoke_suspend_unsuspend_flip_exactly_one_bit(tmp_path: Path, method: str, key_type: str) -> None:
    folder = make_issuer(tmp_path / "roc", did_method=method, key_type=key_type)
    did = profile_json(folder)["did"]
    resolver = resolver_for(folder)
    out = tmp_path / "status"
    with Issuer.open(folder, PASSPHRASE) as iss:
        docs = [issue_kind(iss, k, s) for k, s in (("skill", JAN), ("diploma", FATIMA), ("skill", SEM))]
        a, b, c = docs
        idx = {p: [int(entry(d, p)["statusListIndex"]) for d in docs] for p in ("revocation", "suspension")}

        lists = published(iss, out)
        assert sorted(lists) == ["revocation", "suspension"]
        assert set_bits(lists["revocation"]) == set()
        assert set_bits(lists["suspension"]) == set()

        assert iss.revoke(a["id"]) is True
        assert iss.revoke(a["id"]) is False  # already revoked
        lists = published(iss, out)
        assert set_bits(lists["revocation"]) == {idx["revocation"][0]}
        assert set_bits(lists["suspension"]) == set()

        for purpose, lst in lists.items():
            report = check_proofs(lst, resolver=resolver, expected_purpose="assertionMethod")
            assert report.verified, (purpose, report.to_dict())
            assert report.controllers == (did,)
            assert lst["issuer"] == did or lst["issuer"].get("id") == did

        assert read_status(entry(a, "revocation"), lists["revocation"]).value == 1
        assert read_status(entry(b, "revocation"), lists["revocation"]).value == 0
        assert read_status(entry(c, "revocation"), lists["revocation"]).value == 0
        assert read_status(entry(a, "suspension"), lists["suspension"]).value == 0

        assert iss.suspend(b["id"]) is True
        lists = published(iss, out)
        assert set_bits(lists["suspension"]) == {idx["suspension"][1]}
        assert set_bits(lists["revocation"]) == {idx["revocation"][0]}
        assert read_status(entry(b, "suspension"), lists["suspension"]).value == 1
        assert iss.registry.get(b["id"]).suspended and not iss.registry.get(b["id"]).revoked

        assert iss.unsuspend(b["id"]) is True
        assert iss.unsuspend(b["id"]) is False
        lists = published(iss, out)
        assert set_bits(lists["suspension"]) == set()
        assert read_status(entry(b, "suspension"), lists["suspension"]).value == 0

        # Revocation is permanent.
        with pytest.raises(InvalidArgument):
            iss.registry.set_status(a["id"], "revocation", False)
        assert iss.registry.get(a["id"]).revoked
        lists = published(iss, out)
        assert set_bits(lists["revocation"]) == {idx["revocation"][0]}

        with pytest.raises(StoreError):
            iss.revoke("urn:uuid:00000000-0000-4000-8000-000000000000")
    assert sorted(p.name for p in out.iterdir()) == ["index.json", "revocation-1", "suspension-1"]


def test_no_status_lists_before_anything_is_issued(tmp_path: Path) -> None:
    with Issuer.open(make_issuer(tmp_path / "roc"), PASSPHRASE) as iss:
        assert iss.publish_status(tmp_path / "out") == {}
    assert json.loads((tmp_path / "out" / "index.json").read_text()) == {}


# --------------------------------------------------------------------------------------------
# Setting up the issuer


def test_init_refuses_an_existing_issuer(tmp_path: Path) -> None:
    folder = make_issuer(tmp_path / "roc")
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "registry.sqlite"}
    with pytest.raises(StoreError):
        init_issuer(folder, name="Other", url="https://other.example", passphrase=b"x")
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "registry.sqlite"}
    assert after == before
    with Issuer.open(folder, PASSPHRASE):  # still opens with the original key and passphrase
        pass


def test_key_file_is_private_and_encrypted(tmp_path: Path) -> None:
    folder = make_issuer(tmp_path / "roc")
    key_file = folder / "issuer-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    data = key_file.read_bytes()
    assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data
    with pytest.raises(TypeError):  # cryptography: encrypted, and no password given
        serialization.load_pem_private_key(data, password=None)
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(data, password=b"wrong")
    assert isinstance(serialization.load_pem_private_key(data, password=PASSPHRASE), ed25519.Ed25519PrivateKey)


def test_wrong_or_missing_passphrase(tmp_path: Path) -> None:
    folder = make_issuer(tmp_path / "roc")
    with pytest.raises(WrongPassphrase) as info:
        Issuer.open(folder, b"not the passphrase")
    assert "issuer-key.pem" in str(info.value)
    with pytest.raises(WrongPassphrase):
        Issuer.open(folder, None)


def test_open_refuses_a_folder_that_is_not_an_issuer(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        Issuer.open(tmp_path, PASSPHRASE)


def test_open_refuses_a_key_that_does_not_match_the_profile(tmp_path: Path) -> None:
    a = make_issuer(tmp_path / "a")
    b = make_issuer(tmp_path / "b")
    (a / "issuer-key.pem").unlink()
    shutil.copy2(b / "issuer-key.pem", a / "issuer-key.pem")
    with pytest.raises(StoreError):
        Issuer.open(a, PASSPHRASE)


def _multikey_from_pem(pem: bytes) -> str:
    """The Multikey of a PEM private key, computed here from the multicodec table."""
    key = serialization.load_pem_private_key(pem, password=PASSPHRASE)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return str(multibase.encode(b"\xed\x01" + raw, "base58btc"))
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    return str(multibase.encode(b"\x80\x24" + point, "base58btc"))


@pytest.mark.parametrize("key_type", ["ed25519", "p256"])
def test_did_web_init_writes_did_json_holding_the_key(tmp_path: Path, key_type: str) -> None:
    folder = make_issuer(tmp_path / "roc", did_method="web", key_type=key_type)
    multikey = _multikey_from_pem((folder / "issuer-key.pem").read_bytes())
    did_doc = json.loads((folder / "did.json").read_text(encoding="utf-8"))
    did = "did:web:roc-techniek.example"
    assert did_doc["id"] == did
    assert profile_json(folder)["did"] == did
    methods = [vm for vm in did_doc["verificationMethod"] if vm.get("publicKeyMultibase") == multikey]
    assert len(methods) == 1
    vm = methods[0]
    assert vm["controller"] == did
    assert vm["id"].startswith(did + "#")
    assert vm["id"] in did_doc["assertionMethod"]
    assert profile_json(folder)["verification_method"] == vm["id"]


def test_did_key_init_derives_the_did_from_the_key(tmp_path: Path) -> None:
    folder = make_issuer(tmp_path / "roc", did_method="key")
    multikey = _multikey_from_pem((folder / "issuer-key.pem").read_bytes())
    assert profile_json(folder)["did"] == f"did:key:{multikey}"
    assert not (folder / "did.json").exists()


def test_init_refuses_bad_settings_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument):
        init_issuer(tmp_path / "a", name="ROC", url="https://roc.example", key_type="rsa")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        init_issuer(tmp_path / "b", name="ROC", url="http://roc.example", did_method="web")
    with pytest.raises(InvalidArgument):
        init_issuer(tmp_path / "c", name="ROC", url="https://roc.example", key_type="p256",
                    suite="eddsa-rdfc-2022")
    with pytest.raises(InvalidArgument):  # every credential names the institute
        init_issuer(tmp_path / "d", name=" ", url="https://roc.example")
    for name in ("a", "b", "c", "d"):
        folder = tmp_path / name
        assert not folder.exists() or list(folder.iterdir()) == []
