"""ESCO inside skillcred (issue #17): the taxonomy store, its embedded snapshot, search, job
profiles from an occupation, import of official downloads, ESCO inference in matching and
ESCO-aligned achievements.

The embedded-snapshot tests need nothing outside the repository. The tests that compare with
the official ESCO CSV files (read here independently, with the csv module) or import them use
``../shared/esco`` and are skipped, saying so, where it is absent (ESCO raw data is not vendored).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO, SHARED
from skillcred.errors import (
    EscoAmbiguous,
    EscoDownloadUnrecognised,
    EscoUnknownConcept,
    InvalidArgument,
    SchemaViolation,
    SkillcredSecurityWarning,
    StoreError,
)
from skillcred.esco import (
    ESCO_ACKNOWLEDGEMENT,
    SNAPSHOT_FILE,
    Taxonomy,
    default_taxonomy,
    fold,
    import_download,
    job_profile,
    user_store_path,
)
from skillcred.issuer import Issuer, check_esco_alignments, init_issuer, load_achievement
from skillcred.match import Framework, load_framework, load_profile, match
from skillcred.schemas import validate
from skillcred.trust import TrustList
from skillcred.verify import VerificationPolicy, Verifier
from skillcred.wallet import Wallet

ESCO_DIR = SHARED / "esco"
OFFICIAL = ESCO_DIR / "esco-v1.1.1-official"
EN_ZIP = OFFICIAL / "ESCO dataset - v1.1.1 - classification - en - csv.zip"
REL_ZIP = OFFICIAL / "ESCO dataset - v1.1.1 - classification -  - csv.zip"
NL_ZIP = ESCO_DIR / "esco-nl-occupations" / "esco-v1.1.1-nl-occupations.zip"
NL_V120_ZIP = ESCO_DIR / "esco-nl-occupations" / "esco-v1.2.0-nl-partial.zip"
V120_PARTIAL = ESCO_DIR / "esco-v1.2.0-partial-en" / "esco-v1.2.0-en-partial.zip"
SUBSET = ESCO_DIR / "esco-v1.1.1-subset-technical"
needs_shared = pytest.mark.skipif(not EN_ZIP.is_file(), reason=f"the official ESCO CSV download is not at {OFFICIAL} "
                                  "(ESCO raw data is not vendored; only ../shared has it)")

OCC = "http://data.europa.eu/esco/occupation/"
SKILL = "http://data.europa.eu/esco/skill/"
CNC_OPERATOR = OCC + "5c082067-ea18-4ccb-8c43-e70b18ad8120"  # computer numerical control machine operator
WELDER = OCC + "7aedaa07-3884-4c5b-88f9-80997b2aa54b"
FORKLIFT = OCC + "eeac6251-1974-42f5-91ed-513c6c883755"
# ESCO skill pillar chains used below (v1.1.1): essential skills of the CNC operator with narrower skills
PERFORM_TEST_RUN = SKILL + "465ff64a-1271-4064-8ed1-e969cb68d8b4"  # essential for CNC operator
TEST_SENSORS = SKILL + "6e34b68e-0d61-49f2-bc4d-571c0326d857"  # narrower than "perform test run"
MACHINE_MAINTENANCE = SKILL + "8a4e99e0-f259-4931-888f-604cfdc15b31"  # "perform machine maintenance"
FOOTWEAR_EQUIPMENT = SKILL + "c5fdbd81-db10-4fc3-8cee-8b1a7169c472"  # "maintain footwear assembling equipment"
FOOTWEAR_RULES = SKILL + "17b3af3e-0bd5-4388-9fb4-db5d241aa9d8"  # narrower than that: two steps below
JOIN_METALS = SKILL + "29d762da-1711-4a3c-b424-f0a404f4bf2d"  # alt label "welding"
ROC_SENSORS = "https://skills.roc-techniek.example/sensoren-testen"


@pytest.fixture(autouse=True)
def _no_user_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ESCO store of the machine's user is picked up: the embedded snapshot unless a test imports."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return Taxonomy.embedded()


def read_csv(zpath: Path, member: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(zpath) as zf:
        return list(csv.DictReader(io.TextIOWrapper(zf.open(member), encoding="utf-8", newline="")))


# -- the embedded snapshot ------------------------------------------------------------------------


def test_embedded_snapshot_holds_esco_v1_1_1_and_says_it_is_modified(tax: Taxonomy) -> None:
    counts = tax.counts()
    assert (counts["occupation"], counts["skill"], counts["skill-group"]) == (3007, 13896, 640)
    # 123,855 official relations less the 67 of the occupation that occupations_en.csv lacks
    assert counts["relation"] == 123855 - 67
    assert counts["broader"] > 20000 and counts["skill_relation"] == 5899
    assert tax.version == "1.1.1" and tax.languages == ("en", "nl")
    assert tax.modified == "a modified (compacted) version of ESCO v1.1.1"
    assert ESCO_ACKNOWLEDGEMENT in tax.notice() and "modified (compacted)" in tax.notice()


def test_embedded_snapshot_is_what_its_provenance_records() -> None:
    folder = REPO / "src" / "skillcred" / "_data" / "esco"
    data = (folder / SNAPSHOT_FILE).read_bytes()
    prov = json.loads((folder / "esco-v1.1.1.provenance.json").read_text(encoding="utf-8"))
    assert prov["output"]["sha256"] == hashlib.sha256(data).hexdigest() and prov["output"]["bytes"] == len(data)
    assert len(data) < 6_000_000  # "a few MB" in the wheel
    assert prov["acknowledgement"] == ESCO_ACKNOWLEDGEMENT and "modified (compacted)" in prov["what"]
    assert {i["file"].rsplit("/", 1)[-1] for i in prov["inputs"]} == {EN_ZIP.name, REL_ZIP.name, NL_ZIP.name}
    if EN_ZIP.is_file():  # the inputs named are the ones in ../shared, byte for byte
        for i in prov["inputs"]:
            assert hashlib.sha256((ESCO_DIR / i["file"]).read_bytes()).hexdigest() == i["sha256"], i["file"]


def test_default_taxonomy_is_the_embedded_one_without_a_user_store() -> None:
    assert not user_store_path().exists()
    t = default_taxonomy()
    assert t.source == "embedded snapshot" and t is default_taxonomy()


def test_a_store_that_is_not_one_is_refused_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "esco.sqlite"
    bad.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not an ESCO store") as ei:
        Taxonomy.open(bad)
    assert str(bad) in str(ei.value)
    with pytest.raises(StoreError, match="no ESCO store"):
        Taxonomy.open(tmp_path / "missing.sqlite")


# -- search ---------------------------------------------------------------------------------------


def test_fold_ignores_accents_case_and_punctuation() -> None:
    assert fold("Monteur Industriële  Machines") == fold("monteur industriele machines")
    assert fold("MIG/MAG-lassen") == "mig mag lassen"
    assert fold("  ÉÇÀ  ") == "eca"


@pytest.mark.parametrize(("query", "kind", "lang", "first"), [
    ("welder", "occupation", None, WELDER),  # exact preferred label
    ("WELDER", "occupation", None, WELDER),  # case folded
    ("Welder.", "occupation", "en", WELDER),  # punctuation folded
    ("lasser", "occupation", "nl", WELDER),  # Dutch occupation label
    ("LASSER", None, "nl", WELDER),
    ("heftruckchauffeur", "occupation", "nl", FORKLIFT),
    ("heftruck", "occupation", "nl", FORKLIFT),  # prefix of a Dutch label
    ("forklift operator", None, None, FORKLIFT),
    ("operator CNC-machine", "occupation", "nl", CNC_OPERATOR),
    ("computer numerical control machine operator", "occupation", None, CNC_OPERATOR),
    ("welding", "skill", None, None),  # alternative label: checked below
])
def test_search_finds_the_concept_first(tax: Taxonomy, query: str, kind: str | None, lang: str | None,
                                        first: str | None) -> None:
    hits = tax.search(query, kind=kind, lang=lang)
    assert hits, query
    if first is not None:
        assert hits[0].uri == first, [h.label for h in hits[:3]]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(kind is None or h.kind == kind for h in hits)


def test_accents_in_the_query_or_the_label_do_not_matter(tax: Taxonomy) -> None:
    a = tax.search("monteur industriele machines", kind="occupation", lang="nl")
    b = tax.search("Monteur Industriële Machines", kind="occupation", lang="nl")
    assert a and a[0].uri == b[0].uri == OCC + "269c47e7-9017-4aa6-bce8-49e89a696a64"
    assert a[0].label == "monteur industriële machines" and a[0].score == b[0].score >= 90


def test_ranking_exact_preferred_over_alternative_over_prefix_over_word(tax: Taxonomy) -> None:
    hits = tax.search("welder", kind="occupation", limit=None)
    by_uri = {h.uri: h for h in hits}
    welder = by_uri[WELDER]
    assert 90 <= welder.score < 100 and welder.matched == "welder"
    alt_exact = [h for h in hits if h.uri != WELDER and 80 <= h.score < 90]
    assert alt_exact and all(fold(h.matched) == "welder" and h.label != h.matched for h in alt_exact)
    prefix = [h for h in hits if 50 <= h.score < 70]
    assert prefix and all(fold(h.matched).startswith("welder") for h in prefix)
    word = [h for h in hits if h.score < 40]
    assert word and all("welder" in fold(h.matched).split() and not fold(h.matched).startswith("welder")
                        for h in word if h.score >= 30)
    order = [h.score for h in hits]
    assert order == sorted(order, reverse=True)


def test_an_alternative_label_finds_the_concept_shown_by_its_preferred_label(tax: Taxonomy) -> None:
    hit = next(h for h in tax.search("welding", kind="skill", limit=None) if h.uri == JOIN_METALS)
    assert hit.label == "join metals" and hit.matched == "welding" and 80 <= hit.score < 90


def test_every_query_word_must_match(tax: Taxonomy) -> None:
    hits = tax.search("forklift zebra", limit=None)
    assert hits == []
    assert tax.search("operator forklift", kind="occupation")[0].uri == FORKLIFT  # word order free


def test_dutch_search_falls_back_to_english_for_skills(tax: Taxonomy) -> None:
    """ESCO has no Dutch skill labels in the data: a Dutch search finds skills by English label."""
    hits = tax.search("join metals", kind="skill", lang="nl")
    assert hits[0].uri == JOIN_METALS and hits[0].lang == "en" and hits[0].label == "join metals"
    # but an occupation that has a Dutch label is not found by its English one in Dutch
    assert all(h.uri != WELDER for h in tax.search("welder", kind="occupation", lang="nl", limit=None))


def test_search_refuses_an_empty_query_and_an_unknown_kind(tax: Taxonomy) -> None:
    with pytest.raises(InvalidArgument):
        tax.search("  --  ")
    with pytest.raises(InvalidArgument):
        tax.search("welder", kind="qualification")


# -- occupations, profiles ------------------------------------------------------------------------


def test_resolve_by_uri_and_by_exact_label(tax: Taxonomy) -> None:
    assert tax.resolve(WELDER).uri == WELDER
    assert tax.resolve("Welder").uri == WELDER
    assert tax.resolve("lasser", lang="nl").uri == WELDER
    assert tax.resolve("heftruckchauffeur", lang="nl").uri == FORKLIFT


@pytest.mark.parametrize("label", ["machine operator", "cnc operator", "welding", "mechanic"])
def test_a_label_that_is_not_exactly_one_occupation_is_ambiguous(tax: Taxonomy, label: str) -> None:
    with pytest.raises(EscoAmbiguous) as ei:
        tax.resolve(label)
    assert len(ei.value.candidates) > 1 and all(c.kind == "occupation" for c in ei.value.candidates)
    if label == "cnc operator":  # the alternative label of two occupations: both listed, nothing else
        assert {c.uri for c in ei.value.candidates} >= {CNC_OPERATOR} and len(ei.value.candidates) == 2


def test_unknown_or_wrong_kind_is_refused(tax: Taxonomy) -> None:
    with pytest.raises(EscoUnknownConcept):
        tax.resolve("zzqx nonexistent trade")
    with pytest.raises(EscoUnknownConcept, match="not an ESCO occupation"):
        tax.resolve(JOIN_METALS)
    with pytest.raises(EscoUnknownConcept):
        tax.resolve(OCC + "00000000-0000-4000-8000-000000000000")


def test_job_profile_is_a_valid_profile_with_no_levels(tax: Taxonomy, tmp_path: Path) -> None:
    doc = job_profile(tax, CNC_OPERATOR, title="CNC-operator (m/v)")
    validate(doc, "https://w3id.org/skillcred/schemas/v1/job-profile.json", source="profile")
    assert doc["title"] == "CNC-operator (m/v)" and doc["occupation"] == CNC_OPERATOR
    reqs = doc["requirements"]
    assert (sum(r["essential"] for r in reqs), sum(not r["essential"] for r in reqs)) == (19, 139)
    assert all("level" not in r for r in reqs)
    assert {r["weight"] for r in reqs if r["essential"]} == {1.0}
    assert {r["weight"] for r in reqs if not r["essential"]} == {0.5}
    assert ESCO_ACKNOWLEDGEMENT in doc["description"] and "modified" in doc["description"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert len(load_profile(path).requirements) == 158


def test_job_profile_in_dutch_has_the_dutch_title_and_english_skills(tax: Taxonomy) -> None:
    doc = job_profile(tax, "lasser", lang="nl")
    assert doc["title"] == "lasser" and doc["occupation"] == WELDER
    assert "English" in doc["description"]
    en = job_profile(tax, WELDER)
    assert [r["label"] for r in doc["requirements"]] == [r["label"] for r in en["requirements"]]


def _official_relations() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    rels: dict[str, dict[str, str]] = {}
    for row in read_csv(REL_ZIP, "occupationSkillRelations.csv"):
        rels.setdefault(row["occupationUri"], {})[row["skillUri"]] = row["relationType"]
    occupations = {r["conceptUri"]: r["preferredLabel"] for r in read_csv(EN_ZIP, "occupations_en.csv")}
    return rels, occupations


@needs_shared
def test_profile_lists_exactly_escos_skills_for_every_occupation(tax: Taxonomy) -> None:
    """For all 3,007 occupations: the profile's requirements are exactly the official
    occupationSkillRelations.csv rows of that occupation, essential and optional as there."""
    rels, occupations = _official_relations()
    skills = {r["conceptUri"]: r["preferredLabel"] for r in read_csv(EN_ZIP, "skills_en.csv")}
    assert len(occupations) == 3007
    for uri, label in occupations.items():
        expected = rels.get(uri, {})
        if not expected:
            with pytest.raises(EscoUnknownConcept):
                job_profile(tax, uri)
            continue
        doc = job_profile(tax, uri)
        got = {r["skill"]: ("essential" if r["essential"] else "optional") for r in doc["requirements"]}
        assert len(got) == len(doc["requirements"]), uri  # one requirement per relation
        assert got == expected, label
        assert doc["title"] == label.strip()  # (a few official labels end in a space: stripped)
        assert all(r["label"] == skills[r["skill"]].strip() for r in doc["requirements"]), label


# -- import ---------------------------------------------------------------------------------------


@dataclass
class Imported:
    store: Path
    report: Any


@pytest.fixture(scope="module")
def official_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    if not EN_ZIP.is_file():
        pytest.skip(f"the official ESCO CSV download is not at {OFFICIAL}")
    store = tmp_path_factory.mktemp("esco-import") / "esco.sqlite"
    yield Imported(store, import_download([OFFICIAL, NL_ZIP], store=store))


@needs_shared
def test_import_of_the_official_v1_1_1_zips_reports_the_csv_counts(official_store: Imported) -> None:
    r = official_store.report
    assert r.version == "1.1.1" and r.layout == "v1.1" and r.languages == ("en", "nl")
    occupations = read_csv(EN_ZIP, "occupations_en.csv")
    skills = read_csv(EN_ZIP, "skills_en.csv")
    groups = read_csv(EN_ZIP, "skillGroups_en.csv")
    rels = read_csv(REL_ZIP, "occupationSkillRelations.csv")
    known = {o["conceptUri"] for o in occupations}
    assert r.counts["occupation"] == len(occupations) == 3007
    assert r.counts["skill"] == len(skills) and r.counts["skill-group"] == len(groups)
    assert r.counts["relation"] == sum(1 for x in rels if x["occupationUri"] in known)
    assert any("67 occupation-skill relation(s)" in n and "a9e54177" in n for n in r.notes)
    t = Taxonomy.open(official_store.store)
    assert t.modified is None and t.version == "1.1.1" and "modified" not in t.notice()
    assert t.label(WELDER, "nl") == "lasser"


@needs_shared
def test_an_imported_store_takes_precedence_over_the_embedded_one(tmp_path: Path) -> None:
    """The user imports the technical subset (347 occupations) into the user store: from then on
    that is the taxonomy; the embedded one is back once the store is gone."""
    report = import_download(SUBSET, version="1.1.1")
    assert Path(report.store) == user_store_path() and report.counts["occupation"] == 347
    t = default_taxonomy()
    assert t.source == str(user_store_path()) and t.counts()["occupation"] == 347
    assert t.search("accountant", kind="occupation") == []  # not a technical occupation
    user_store_path().unlink()
    assert default_taxonomy().search("accountant", kind="occupation")


@needs_shared
def test_the_v1_2_0_partial_download_is_refused_saying_what_is_missing(tmp_path: Path) -> None:
    store = tmp_path / "esco.sqlite"
    with pytest.raises(EscoDownloadUnrecognised) as ei:
        import_download(V120_PARTIAL, store=store)
    msg = str(ei.value)
    assert str(V120_PARTIAL) in msg and "skills_<lang>.csv" in msg and "occupationSkillRelations" in msg
    assert not store.exists() and list(tmp_path.iterdir()) == []


@needs_shared
def test_mixing_esco_versions_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EscoDownloadUnrecognised, match=r"different ESCO versions \(1\.1\.1, 1\.2\.0\)"):
        import_download([EN_ZIP, REL_ZIP, NL_V120_ZIP], store=tmp_path / "esco.sqlite")


def test_a_garbage_zip_is_refused_naming_it(tmp_path: Path) -> None:
    junk = tmp_path / "esco-download.zip"
    junk.write_bytes(b"PK\x03\x04 this is not really a zip" * 20)
    with pytest.raises(EscoDownloadUnrecognised, match="not a readable zip") as ei:
        import_download(junk, store=tmp_path / "esco.sqlite")
    assert str(junk) in str(ei.value)
    other = tmp_path / "photos.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("holiday.jpg", b"\xff\xd8")
        zf.writestr("notes.csv", "a,b\n1,2\n")
    with pytest.raises(EscoDownloadUnrecognised, match="not a complete ESCO CSV download") as ei:
        import_download(other, store=tmp_path / "esco.sqlite")
    assert str(other) in str(ei.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["esco-download.zip", "photos.zip"]


def _tiny_download(folder: Path, *, layout: str = "v1.1", skills_header: str | None = None) -> Path:
    """A three-concept ESCO download in the v1.1 or v1.2 column layout."""
    folder.mkdir(parents=True, exist_ok=True)
    sfx = "_en" if layout == "v1.2" else ""
    (folder / "occupations_en.csv").write_text(
        "conceptType,conceptUri,iscoGroup,preferredLabel,altLabels\r\n"
        f"Occupation,{OCC}o1,7212,Welder,\"weld operator\nfabricator\"\r\n", encoding="utf-8")
    (folder / "skills_en.csv").write_text(
        (skills_header or "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels") + "\r\n"
        f"KnowledgeSkillCompetence,{SKILL}s1,skill/competence,sector-specific,join metals,welding\r\n"
        f"KnowledgeSkillCompetence,{SKILL}s2,skill/competence,occupation-specific,use MIG welding,\r\n",
        encoding="utf-8")
    label_cols = ",occupationLabel,skillLabel" if layout == "v1.2" else ""
    label_vals = ",Welder,use MIG welding" if layout == "v1.2" else ""
    (folder / f"occupationSkillRelations{sfx}.csv").write_text(
        f"occupationUri,relationType,skillType,skillUri{label_cols}\r\n"
        f"{OCC}o1,essential,skill/competence,{SKILL}s2{label_vals}\r\n", encoding="utf-8")
    (folder / f"broaderRelationsSkillPillar{sfx}.csv").write_text(
        f"conceptType,conceptUri,broaderType,broaderUri\r\nKnowledgeSkillCompetence,{SKILL}s2,"
        f"KnowledgeSkillCompetence,{SKILL}s1\r\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("layout", ["v1.1", "v1.2"])
def test_both_column_layouts_are_imported(tmp_path: Path, layout: str) -> None:
    src = _tiny_download(tmp_path / "ESCO dataset - v1.2.0 - classification", layout=layout)
    r = import_download(src, store=tmp_path / "esco.sqlite")
    assert r.layout == layout and r.version == "1.2.0"
    assert (r.counts["occupation"], r.counts["skill"], r.counts["relation"], r.counts["broader"]) == (1, 2, 1, 1)
    t = Taxonomy.open(tmp_path / "esco.sqlite")
    assert t.broader(SKILL + "s2") == (SKILL + "s1",)
    assert t.search("fabricator")[0].uri == OCC + "o1"
    assert [s.uri for s in t.occupation_skills(OCC + "o1")] == [SKILL + "s2"]


def test_a_file_with_a_foreign_header_is_refused_naming_it(tmp_path: Path) -> None:
    src = _tiny_download(tmp_path / "dl", skills_header="uri,name,kind")
    with pytest.raises(EscoDownloadUnrecognised, match="not an ESCO skills file: no column") as ei:
        import_download(src, store=tmp_path / "esco.sqlite")
    assert "skills_en.csv" in str(ei.value)


def test_a_failed_import_leaves_the_previous_store_as_it_was(tmp_path: Path) -> None:
    store = tmp_path / "store" / "esco.sqlite"
    import_download(_tiny_download(tmp_path / "good"), store=store, version="1.2.0")
    before = store.read_bytes()
    bad = _tiny_download(tmp_path / "bad")
    (bad / "occupationSkillRelations.csv").write_text(
        f"occupationUri,relationType,skillType,skillUri\r\n{OCC}o1,sometimes,skill,{SKILL}s2\r\n", encoding="utf-8")
    with pytest.raises(EscoDownloadUnrecognised, match="neither essential nor optional"):
        import_download(bad, store=store)
    assert store.read_bytes() == before and [p.name for p in store.parent.iterdir()] == ["esco.sqlite"]


# -- matching with ESCO inference -----------------------------------------------------------------


def _esco_achievement(folder: Path, slug: str, alignment: list[dict[str, Any]]) -> Path:
    data = {
        "kind": "skill",
        "achievement": {
            "id": f"https://roc-techniek.example/achievements/{slug}",
            "achievementType": "Competency",
            "name": slug,
            "description": f"Badge {slug}.",
            "criteria": {"narrative": "Praktijkopdracht."},
            "alignment": alignment,
            "resultDescription": [{
                "id": f"https://roc-techniek.example/achievements/{slug}/niveau", "name": "Niveau",
                "resultType": "RubricCriterionLevel",
                "rubricCriterionLevel": [{"id": f"https://roc-techniek.example/rubric/{slug}/{n}",
                                          "name": f"Niveau {n}", "level": str(n)} for n in (1, 2, 3)]}],
        },
    }
    path = folder / f"{slug}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Candidate:
    accepted: list[Any]
    profile: Any
    roc_did: str


@pytest.fixture(scope="module")
def candidate(tmp_path_factory: pytest.TempPathFactory) -> Candidate:
    """Credentials aligned to ESCO skills narrower than the CNC operator's essential ones (one and
    two steps down), and one on an institute URI the framework equates with an ESCO skill."""
    root = tmp_path_factory.mktemp("esco-match")
    init_issuer(root / "roc", name="ROC Techniek Midden", url="https://roc-techniek.example")
    wallet = Wallet.init(root / "wallet")
    sensors = load_achievement(_esco_achievement(root, "sensoren", [
        {"targetFramework": "ESCO", "targetUrl": TEST_SENSORS}]))
    footwear = load_achievement(_esco_achievement(root, "schoenmachines", [
        {"targetFramework": "ESCO", "targetCode": FOOTWEAR_RULES, "targetName": "Onderhoud schoenmachines"}]))
    docs = []
    with Issuer.open(root / "roc") as roc:
        for ach in (sensors, footwear):
            record, _ = roc.issue(ach, wallet.holder, level="3")
            docs.append(dict(record.document))
        did = roc.profile.did
    tl = TrustList()
    tl.add(did, name="ROC Techniek Midden")
    vp = wallet.present(docs, key=wallet.holder_key(), challenge="c-esco", domain="werving.example")
    with warnings.catch_warnings():  # no status lists in this test: status is not what is under test
        warnings.simplefilter("ignore", SkillcredSecurityWarning)
        policy = VerificationPolicy(trust=tl, unsafe_accept_unknown_status=True)
    result = Verifier(policy).assess(vp, challenge="c-esco", domain="werving.example")
    assert len(result.accepted) == 2, result.report.failures()
    prof = root / "cnc.json"
    prof.write_text(json.dumps(job_profile(Taxonomy.embedded(), CNC_OPERATOR)), encoding="utf-8")
    return Candidate(list(result.accepted), load_profile(prof), did)


def _req(report: Any, uri: str) -> Any:
    return next(r for r in report.requirements if r.requirement.ref == uri)


def test_a_narrower_esco_skill_counts_for_the_broader_requirement(candidate: Candidate, tax: Taxonomy) -> None:
    report = match(candidate.profile, candidate.accepted, framework=load_framework([], esco=tax))
    r = _req(report, PERFORM_TEST_RUN)
    assert r.status == "met" and r.requirement.essential and r.evidence.level == 3
    assert r.evidence.inference == (
        "narrower counts for broader (ESCO skill hierarchy): test sensors < perform test run",)
    two = _req(report, MACHINE_MAINTENANCE)
    assert two.status == "met"
    assert two.evidence.inference == (
        "narrower counts for broader (ESCO skill hierarchy): apply basic rules of maintenance to leather goods "
        "and footwear machinery < maintain footwear assembling equipment < perform machine maintenance",)
    assert 0 < report.essential_coverage < 1
    assert sum(x.status == "met" for x in report.requirements) >= 2
    page = report.to_html()  # the gap-report page acknowledges ESCO, as ESCO's reuse conditions ask
    assert ESCO_ACKNOWLEDGEMENT in page and "perform test run" in page


def test_the_acknowledgement_is_one_text_everywhere() -> None:
    import skillcred._cli as cli
    import skillcred.match as m
    from skillcred.passport import Passport

    assert cli.ESCO_NOTICE == m.ESCO_ACKNOWLEDGEMENT == ESCO_ACKNOWLEDGEMENT
    assert m.ESCO_PREFIX == "http://data.europa.eu/esco/"
    from datetime import UTC, datetime

    page = Passport(holder="did:key:z", at=datetime(2026, 1, 1, tzinfo=UTC), groups=()).to_html()
    assert ESCO_ACKNOWLEDGEMENT in page


def test_without_esco_the_narrower_skills_count_for_nothing(candidate: Candidate) -> None:
    report = match(candidate.profile, candidate.accepted)
    assert _req(report, PERFORM_TEST_RUN).status == "missing"
    assert _req(report, MACHINE_MAINTENANCE).status == "missing"
    assert all(r.status == "missing" for r in report.requirements)


def test_a_broader_skill_does_not_count_for_a_narrower_requirement(candidate: Candidate, tax: Taxonomy) -> None:
    from skillcred.match import Evidence, Requirement, _support

    fw = load_framework([], esco=tax)
    ev = Evidence(PERFORM_TEST_RUN, 3, "urn:x", "did:x", "X", "badge")
    assert _support(Requirement(TEST_SENSORS, "test sensors", None, True, 1.0), ev, fw) is None
    ev_narrow = Evidence(TEST_SENSORS, 3, "urn:x", "did:x", "X", "badge")
    assert _support(Requirement(PERFORM_TEST_RUN, "t", None, True, 1.0), ev_narrow, fw) is not None


def test_escos_skill_skill_relations_are_not_implications(tax: Taxonomy) -> None:
    """"A needs B" (skillSkillRelations) is no evidence of A given B, nor of B given A."""
    from skillcred.match import Evidence, Requirement, _support

    fw = load_framework([], esco=tax)
    needs = tax.skill_relations(JOIN_METALS)
    assert needs
    for other, _essential in needs:
        if other in {a for path in fw.broader_chain(JOIN_METALS) for a in path}:
            continue  # (also broader in the pillar: a different relation)
        assert _support(Requirement(JOIN_METALS, "join metals", None, True, 1.0),
                        Evidence(other, 3, None, "", "", "b"), fw) is None
        assert _support(Requirement(other, "o", None, True, 1.0),
                        Evidence(JOIN_METALS, 3, None, "", "", "b"), fw) is None


def test_an_equivalence_inside_the_chain_is_named(tmp_path: Path, tax: Taxonomy) -> None:
    """An institute URI equated with an ESCO skill, which is narrower than the requirement: both
    the equivalence and the ESCO step are in the inference (before, the equivalence was left out)."""
    from skillcred.match import Evidence, Requirement, _support

    fwfile = tmp_path / "roc.json"
    fwfile.write_text(json.dumps({"type": "SkillcredSkillFramework", "name": "ROC",
                                  "skills": [{"id": ROC_SENSORS, "label": {"nl": "Sensoren testen"}}],
                                  "equivalences": [[ROC_SENSORS, TEST_SENSORS]]}), encoding="utf-8")
    fw = load_framework([fwfile], esco=tax)
    got = _support(Requirement(PERFORM_TEST_RUN, "perform test run", None, True, 1.0),
                   Evidence(ROC_SENSORS, 2, "urn:c", "did:r", "ROC", "Sensoren"), fw)
    assert got is not None
    assert got.inference == (
        f"equivalent: Sensoren testen <{ROC_SENSORS}> = <{TEST_SENSORS}>",
        "narrower counts for broader (ESCO skill hierarchy): test sensors < perform test run")
    assert fw.broader_chain(ROC_SENSORS)[0] == [ROC_SENSORS, TEST_SENSORS, PERFORM_TEST_RUN]
    # without ESCO the institute URI reaches nothing
    assert _support(Requirement(PERFORM_TEST_RUN, "p", None, True, 1.0),
                    Evidence(ROC_SENSORS, 2, "urn:c", "did:r", "ROC", "S"), load_framework([fwfile])) is None


def test_an_equivalence_inside_a_framework_chain_is_named() -> None:
    """The same fix without ESCO: a -> (= b) -> broader c shows the a = b step."""
    from skillcred.match import Evidence, Requirement, _support

    fw = Framework()
    fw.merge({"skills": [{"id": "urn:b", "label": {"en": "B"}, "broader": ["urn:c"]},
                         {"id": "urn:c", "label": {"en": "C"}}, {"id": "urn:a", "label": {"en": "A"}}],
              "equivalences": [["urn:a", "urn:b"]]})
    got = _support(Requirement("urn:c", "C", None, True, 1.0), Evidence("urn:a", 1, None, "", "", "x"), fw)
    assert got is not None and got.inference == ("equivalent: A <urn:a> = <urn:b>",
                                                 "narrower counts for broader: B < C")
    # and an equivalence at the top, to the URI the requirement names
    fw.merge({"skills": [{"id": "urn:d", "label": {"en": "D"}}], "equivalences": [["urn:c", "urn:d"]]})
    got = _support(Requirement("urn:d", "D", None, True, 1.0), Evidence("urn:b", 1, None, "", "", "x"), fw)
    assert got is not None and got.inference == ("narrower counts for broader: B < C",
                                                 "equivalent: C <urn:c> = <urn:d>")


# -- issuers align to ESCO ------------------------------------------------------------------------


def test_an_esco_alignment_gets_its_label_and_url(tmp_path: Path) -> None:
    d = load_achievement(_esco_achievement(tmp_path, "a", [{"targetFramework": "ESCO", "targetCode": JOIN_METALS}]))
    (al,) = d.achievement.alignment or []
    assert (al.targetUrl, al.targetName, al.targetFramework) == (JOIN_METALS, "join metals", "ESCO")
    d2 = load_achievement(_esco_achievement(tmp_path, "b", [{"targetUrl": JOIN_METALS, "targetName": "Lassen"}]))
    assert (d2.achievement.alignment or [])[0].targetName == "Lassen"  # the issuer's own name is kept


@pytest.mark.parametrize("alignment", [
    {"targetFramework": "ESCO", "targetUrl": SKILL + "00000000-0000-4000-8000-00000000c0c1", "targetName": "CNC"},
    {"targetFramework": "esco", "targetCode": SKILL + "does-not-exist"},
    {"targetUrl": SKILL + "ffffffff-ffff-4fff-8fff-ffffffffffff", "targetName": "x", "targetFramework": "ROC"},
    {"targetFramework": "ESCO", "targetUrl": OCC + "not-an-occupation-either", "targetName": "y"},
])
def test_an_unknown_esco_uri_is_refused_at_issue_naming_it(tmp_path: Path, alignment: dict[str, Any]) -> None:
    path = _esco_achievement(tmp_path, "bad", [alignment])
    with pytest.raises(EscoUnknownConcept) as ei:
        load_achievement(path)
    uri = alignment.get("targetUrl") or alignment["targetCode"]
    assert uri in str(ei.value) and str(path) in str(ei.value)


@pytest.mark.parametrize("alignment", [
    {"targetFramework": "ESCO", "targetUrl": "https://skills.roc-techniek.example/lassen", "targetName": "L"},
    {"targetFramework": "ESCO", "targetUrl": JOIN_METALS, "targetCode": TEST_SENSORS, "targetName": "two"},
])
def test_an_esco_alignment_must_name_one_esco_concept(tmp_path: Path, alignment: dict[str, Any]) -> None:
    with pytest.raises(SchemaViolation, match="ESCO"):
        load_achievement(_esco_achievement(tmp_path, "bad", [alignment]))


def test_other_alignments_are_not_looked_up(tmp_path: Path) -> None:
    d = load_achievement(_esco_achievement(tmp_path, "roc", [
        {"targetFramework": "ROC Techniek Vaardigheden", "targetUrl": ROC_SENSORS, "targetName": "Sensoren"}]))
    assert (d.achievement.alignment or [])[0].targetUrl == ROC_SENSORS


def test_issue_refuses_a_definition_built_in_code_with_an_unknown_esco_uri(tmp_path: Path) -> None:
    good = load_achievement(_esco_achievement(tmp_path, "ok", [{"targetFramework": "ESCO", "targetUrl": JOIN_METALS}]))
    bad_alignment = (good.achievement.alignment or [])[0].model_copy(update={"targetUrl": SKILL + "nope"})
    bad = good.model_copy(update={"achievement": good.achievement.model_copy(update={"alignment": [bad_alignment]})})
    check_esco_alignments(good)
    with pytest.raises(EscoUnknownConcept, match="nope"):
        check_esco_alignments(bad)
    init_issuer(tmp_path / "roc", name="ROC", url="https://roc.example")
    holder = Wallet.init(tmp_path / "w").holder
    with Issuer.open(tmp_path / "roc") as roc:
        with pytest.raises(EscoUnknownConcept, match="nope"):
            roc.issue(bad, holder, level="2")
        record, new = roc.issue(good, holder, level="2")
    assert new and record.document["credentialSubject"]["achievement"]["alignment"][0]["targetUrl"] == JOIN_METALS
