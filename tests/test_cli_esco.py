"""``skillcred esco import/search/show``, ``skillcred profile new`` and ``match`` on ESCO URIs, as a
user runs them (in-process through support.cli, as a fresh process would): stdin closed, a
clean home (no ESCO store of the machine's user is picked up). The forms outside checks rely on are asserted exactly.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import SHARED
from skillcred.esco import ESCO_ACKNOWLEDGEMENT
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.trust import TrustList
from skillcred.wallet import Wallet
from support.cli import CliResult, clean_env, run_cli

ESCO_DIR = SHARED / "esco"
OFFICIAL = ESCO_DIR / "esco-v1.1.1-official"
EN_ZIP = OFFICIAL / "ESCO dataset - v1.1.1 - classification - en - csv.zip"
REL_ZIP = OFFICIAL / "ESCO dataset - v1.1.1 - classification -  - csv.zip"
V120_PARTIAL = ESCO_DIR / "esco-v1.2.0-partial-en" / "esco-v1.2.0-en-partial.zip"
SUBSET = ESCO_DIR / "esco-v1.1.1-subset-technical"
needs_shared = pytest.mark.skipif(not EN_ZIP.is_file(), reason=f"the official ESCO CSV download is not at {OFFICIAL} "
                                  "(ESCO raw data is not vendored; only ../shared has it)")

OCC = "http://data.europa.eu/esco/occupation/"
SKILL = "http://data.europa.eu/esco/skill/"
CNC_OPERATOR = OCC + "5c082067-ea18-4ccb-8c43-e70b18ad8120"
WELDER = OCC + "7aedaa07-3884-4c5b-88f9-80997b2aa54b"
FORKLIFT = OCC + "eeac6251-1974-42f5-91ed-513c6c883755"
PERFORM_TEST_RUN = SKILL + "465ff64a-1271-4064-8ed1-e969cb68d8b4"
TEST_SENSORS = SKILL + "6e34b68e-0d61-49f2-bc4d-571c0326d857"
ROC_SENSORS = "https://skills.roc-techniek.example/sensoren-testen"


def run(args: list[str], home: Path, *, stdin: str | None = None) -> CliResult:
    env = clean_env(drop=("SKILLCRED_", "XDG_"), HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"),
                    PYTHONWARNINGS="error")
    return run_cli(*args, env=env, stdin=stdin)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def one_line_error(p: CliResult) -> str:
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and p.stderr.startswith("skillcred: error: ")
    return p.stderr


# -- search ---------------------------------------------------------------------------------------


def test_search_json_is_an_array_of_uri_kind_label_score_best_first(home: Path) -> None:
    p = run(["esco", "search", "welder", "--kind", "occupation", "--json"], home)
    assert p.returncode == 0, p.stderr
    hits = json.loads(p.stdout)
    assert isinstance(hits, list) and 1 < len(hits) <= 10
    assert all(set(h) == {"uri", "kind", "label", "score"} for h in hits)
    assert all(isinstance(h["score"], int | float) and h["kind"] == "occupation" for h in hits)
    assert hits[0] == {"uri": WELDER, "kind": "occupation", "label": "welder", "score": hits[0]["score"]}
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


@pytest.mark.parametrize(("args", "first_uri", "first_label"), [
    (["lasser", "--lang", "nl"], WELDER, "lasser"),
    (["HEFTRUCKCHAUFFEUR", "--lang", "nl", "--kind", "occupation"], FORKLIFT, "heftruckchauffeur"),
    (["Forklift Operator", "--lang", "en"], FORKLIFT, "forklift operator"),
    (["operator cnc machine", "--lang", "nl", "--kind", "occupation"], CNC_OPERATOR, "operator CNC-machine"),
    (["welding", "--kind", "skill", "--limit", "3"], SKILL + "29d762da-1711-4a3c-b424-f0a404f4bf2d", "join metals"),
])
def test_search_json_cases(home: Path, args: list[str], first_uri: str, first_label: str) -> None:
    p = run(["esco", "search", *args, "--json"], home)
    assert p.returncode == 0, p.stderr
    hits = json.loads(p.stdout)
    assert (hits[0]["uri"], hits[0]["label"]) == (first_uri, first_label)
    if "--limit" in args:
        assert len(hits) == 3


def test_search_text_shows_uris_and_nothing_found_exits_1(home: Path) -> None:
    p = run(["esco", "search", "lasser", "--lang", "nl", "--limit", "2"], home)
    assert p.returncode == 0 and WELDER in p.stdout and "lasser" in p.stdout
    p = run(["esco", "search", "zzqxv", "--json"], home)
    assert p.returncode == 0 and json.loads(p.stdout) == []
    p = run(["esco", "search", "zzqxv"], home)
    assert p.returncode == 1 and "no ESCO concept matches" in p.stdout


def test_show_an_occupation_and_a_skill(home: Path) -> None:
    p = run(["esco", "show", FORKLIFT, "--json"], home)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["label"] == "forklift operator" and out["labels"]["nl"] == "heftruckchauffeur"
    assert (sum(s["essential"] for s in out["skills"]), sum(not s["essential"] for s in out["skills"])) == (31, 8)
    assert ESCO_ACKNOWLEDGEMENT in out["esco"] and "modified (compacted)" in out["esco"]
    p = run(["esco", "show", TEST_SENSORS], home)
    assert p.returncode == 0 and "broader: perform test run" in p.stdout and ESCO_ACKNOWLEDGEMENT in p.stdout
    p = run(["esco", "show", SKILL + "nope"], home)
    assert "is not an ESCO concept" in one_line_error(p)


def test_version_carries_the_esco_acknowledgement(home: Path) -> None:
    p = run(["--version"], home)
    assert p.returncode == 0 and ESCO_ACKNOWLEDGEMENT in p.stdout


# -- profile new ----------------------------------------------------------------------------------


def test_profile_new_by_uri_by_label_and_in_dutch(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "cnc.json"
    p = run(["profile", "new", "--occupation", CNC_OPERATOR, "--title", "CNC-operator (m/v)", "-o", str(out)], home)
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["type"] == "SkillcredJobProfile" and doc["title"] == "CNC-operator (m/v)"
    assert doc["occupation"] == CNC_OPERATOR and len(doc["requirements"]) == 19 + 139
    assert all(set(r) == {"skill", "label", "essential", "weight"} for r in doc["requirements"])
    assert "19 essential, 139 optional" in p.stderr
    nl = tmp_path / "lasser.json"
    p = run(["profile", "new", "--occupation", "Lasser", "--lang", "nl", "-o", str(nl)], home)
    assert p.returncode == 0, p.stderr
    d = json.loads(nl.read_text(encoding="utf-8"))
    assert d["title"] == "lasser" and d["occupation"] == WELDER and len(d["requirements"]) == 36 + 50
    p = run(["profile", "new", "--occupation", "forklift operator", "-o", "-"], home)
    assert p.returncode == 0 and json.loads(p.stdout)["occupation"] == FORKLIFT


def test_an_ambiguous_occupation_lists_the_candidates_and_exits_2(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    p = run(["profile", "new", "--occupation", "actor", "-o", str(out)], home)  # an alt label of two
    err = one_line_error(p)
    lines = err.splitlines()
    assert "'actor' names 2 ESCO occupations" in lines[0]
    assert len(lines) == 3 and all(OCC in line for line in lines[1:])
    assert {line.split()[1] for line in lines[1:]} == {"actor/actress", "artistic"}
    assert not out.exists()
    # in Dutch "cnc operator" is an alternative label of two occupations too; in English of one
    err = one_line_error(run(["profile", "new", "--occupation", "cnc operator", "--lang", "nl", "-o", str(out)], home))
    assert "names" in err and CNC_OPERATOR in err and not out.exists()
    ok = tmp_path / "ok.json"
    p = run(["profile", "new", "--occupation", "cnc operator", "-o", str(ok)], home)
    assert p.returncode == 0 and json.loads(ok.read_text(encoding="utf-8"))["occupation"] == CNC_OPERATOR
    p = run(["profile", "new", "--occupation", "machine operator", "-o", str(out)], home)
    assert "no ESCO occupation is called exactly" in one_line_error(p) and not out.exists()


@pytest.mark.parametrize("occupation", ["zzqx nonexistent trade", SKILL + "29d762da-1711-4a3c-b424-f0a404f4bf2d",
                                        OCC + "00000000-0000-4000-8000-000000000000"])
def test_profile_new_refuses_what_is_not_an_occupation(home: Path, tmp_path: Path, occupation: str) -> None:
    out = tmp_path / "p.json"
    one_line_error(run(["profile", "new", "--occupation", occupation, "-o", str(out)], home))
    assert not out.exists()


@needs_shared
def test_profile_new_lists_exactly_escos_skills_for_a_sample_of_occupations(home: Path, tmp_path: Path) -> None:
    """Through the command line, for the three occupations of the demo and 12 more drawn with a
    fixed seed: the requirements are the official occupationSkillRelations.csv rows exactly."""
    with zipfile.ZipFile(REL_ZIP) as zf:
        rows = list(csv.DictReader(io.TextIOWrapper(zf.open("occupationSkillRelations.csv"), encoding="utf-8",
                                                    newline="")))
    with zipfile.ZipFile(EN_ZIP) as zf:
        occupations = sorted(r["conceptUri"] for r in csv.DictReader(
            io.TextIOWrapper(zf.open("occupations_en.csv"), encoding="utf-8", newline="")))
    rels: dict[str, dict[str, bool]] = {}
    for r in rows:
        rels.setdefault(r["occupationUri"], {})[r["skillUri"]] = r["relationType"] == "essential"
    sample = [CNC_OPERATOR, WELDER, FORKLIFT, *random.Random(17).sample([o for o in occupations if o in rels], 12)]
    for i, occ in enumerate(sample):
        out = tmp_path / f"p{i}.json"
        p = run(["profile", "new", "--occupation", occ, "-o", str(out)], home)
        assert p.returncode == 0, p.stderr
        reqs = json.loads(out.read_text(encoding="utf-8"))["requirements"]
        assert {r["skill"]: r["essential"] for r in reqs} == rels[occ] and len(reqs) == len(rels[occ]), occ


# -- import ---------------------------------------------------------------------------------------


def test_import_of_a_garbage_zip_is_refused_in_one_line(home: Path, tmp_path: Path) -> None:
    junk = tmp_path / "ESCO dataset.zip"
    junk.write_bytes(os.urandom(2048))
    err = one_line_error(run(["esco", "import", str(junk)], home))
    assert str(junk) in err and "not a readable zip" in err and len(err.splitlines()) == 1
    assert not (home / ".local" / "share" / "skillcred" / "esco" / "esco.sqlite").exists()


@needs_shared
def test_import_of_the_v1_2_0_partial_is_refused_saying_what_is_missing(home: Path) -> None:
    err = one_line_error(run(["esco", "import", str(V120_PARTIAL)], home))
    assert "not a complete ESCO CSV download" in err and "skills_<lang>.csv" in err and str(V120_PARTIAL) in err


@needs_shared
def test_an_imported_store_is_used_by_search_and_profile_new(home: Path, tmp_path: Path) -> None:
    p = run(["esco", "import", str(SUBSET)], home)
    assert p.returncode == 0, p.stderr
    assert "Imported ESCO v1.1.1" in p.stdout and "347 occupations" in p.stdout
    store = home / ".local" / "share" / "skillcred" / "esco" / "esco.sqlite"
    assert store.is_file()
    p = run(["esco", "search", "accountant", "--kind", "occupation", "--json"], home)
    assert p.returncode == 0 and json.loads(p.stdout) == []  # the subset has technical occupations only
    p = run(["esco", "show", WELDER, "--json"], home)
    assert str(store) in json.loads(p.stdout)["esco"]
    p = run(["esco", "import", str(SUBSET), "--store", str(tmp_path / "other.sqlite"), "--json"], home)
    assert p.returncode == 0 and json.loads(p.stdout)["counts"]["occupation"] == 347


@needs_shared
def test_import_of_the_official_v1_1_1_zips(home: Path, tmp_path: Path) -> None:
    store = tmp_path / "esco.sqlite"
    p = run(["esco", "import", str(EN_ZIP), str(REL_ZIP), "--store", str(store), "--json"], home)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["version"] == "1.1.1" and r["layout"] == "v1.1" and r["languages"] == ["en"]
    assert r["counts"]["occupation"] == 3007 and r["counts"]["skill"] == 13896
    p = run(["esco", "search", "lasser", "--lang", "nl", "--store", str(store), "--json"], home)
    assert p.returncode == 0 and all(h["uri"] != WELDER for h in json.loads(p.stdout))  # no nl labels imported


# -- match on ESCO --------------------------------------------------------------------------------


def _achievement(folder: Path, slug: str, alignment: dict[str, Any]) -> Path:
    data = {"kind": "skill", "achievement": {
        "id": f"https://roc-techniek.example/achievements/{slug}", "achievementType": "Competency", "name": slug,
        "description": f"Badge {slug}.", "criteria": {"narrative": "Praktijkopdracht."}, "alignment": [alignment],
        "resultDescription": [{"id": f"https://roc-techniek.example/achievements/{slug}/niveau", "name": "Niveau",
                               "resultType": "RubricCriterionLevel", "rubricCriterionLevel": [
                                   {"id": f"https://roc-techniek.example/rubric/{slug}/{n}", "name": f"Niveau {n}",
                                    "level": str(n)} for n in (1, 2, 3)]}]}}
    path = folder / f"{slug}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_match_on_a_profile_new_profile_shows_the_esco_chain(home: Path, tmp_path: Path) -> None:
    """A badge aligned to ESCO "test sensors" meets the CNC operator's essential "perform test run"
    through ESCO's hierarchy, with no --framework; with --no-esco it does not; with a framework
    that only equates an institute URI with the ESCO skill, both steps are named."""
    init_issuer(tmp_path / "roc", name="ROC Techniek Midden", url="https://roc-techniek.example")
    wallet = Wallet.init(tmp_path / "wallet")
    sensors = load_achievement(_achievement(tmp_path, "sensoren", {"targetFramework": "ESCO",
                                                                  "targetUrl": TEST_SENSORS}))
    roc_badge = load_achievement(_achievement(tmp_path, "sensoren-roc", {
        "targetFramework": "ROC Techniek Vaardigheden", "targetUrl": ROC_SENSORS, "targetName": "Sensoren testen"}))
    with Issuer.open(tmp_path / "roc") as roc:
        docs = [dict(roc.issue(a, wallet.holder, level="3")[0].document) for a in (sensors, roc_badge)]
        did = roc.profile.did
        roc.publish_status(tmp_path / "status")
    tl = TrustList(path=tmp_path / "trust.json")
    tl.add(did, name="ROC Techniek Midden")
    tl.save()
    status = [str(p) for p in (tmp_path / "status").rglob("*") if p.is_file() and p.name != "index.json"]
    assert len(status) == 2
    profile = tmp_path / "cnc.json"
    assert run(["profile", "new", "--occupation", CNC_OPERATOR, "-o", str(profile)], home).returncode == 0
    vp = tmp_path / "vp.json"
    vp.write_text(json.dumps(wallet.present(docs[:1], key=wallet.holder_key(), challenge="c1", domain="d.example")),
                  encoding="utf-8")
    base = ["match", str(vp), "--profile", str(profile), "--trust", str(tmp_path / "trust.json"),
            "--challenge", "c1", "--domain", "d.example", *[a for s in status for a in ("--status-list", s)]]
    p = run([*base, "--json"], home)
    assert p.returncode == 1, p.stderr  # essential gaps remain
    out = json.loads(p.stdout)
    assert out["not_counted"] == []
    assert out["verification"]["presentation_verified"] is True
    req = next(r for r in out["requirements"] if r["skill"] == PERFORM_TEST_RUN)
    assert req["status"] == "met" and req["essential"] is True and req["level"] == 3
    assert req["inference"] == ["narrower counts for broader (ESCO skill hierarchy): test sensors < perform test run"]
    p = run([*base, "--json", "--no-esco"], home)
    assert next(r for r in json.loads(p.stdout)["requirements"] if r["skill"] == PERFORM_TEST_RUN)["status"] == \
        "missing"
    text = run(base, home).stdout
    assert "via narrower counts for broader (ESCO skill hierarchy): test sensors < perform test run" in text

    # the institute's own URI, equated with ESCO's by a framework file: the equivalence is a named step
    fw = tmp_path / "roc-fw.json"
    fw.write_text(json.dumps({"type": "SkillcredSkillFramework", "name": "ROC", "skills": [
        {"id": ROC_SENSORS, "label": {"nl": "Sensoren testen"}}], "equivalences": [[ROC_SENSORS, TEST_SENSORS]]}),
        encoding="utf-8")
    vp.write_text(json.dumps(wallet.present(docs[1:], key=wallet.holder_key(), challenge="c1", domain="d.example")),
                  encoding="utf-8")
    p = run([*base, "--json", "--framework", str(fw)], home)
    req = next(r for r in json.loads(p.stdout)["requirements"] if r["skill"] == PERFORM_TEST_RUN)
    assert req["status"] == "met" and req["inference"] == [
        f"equivalent: Sensoren testen <{ROC_SENSORS}> = <{TEST_SENSORS}>",
        "narrower counts for broader (ESCO skill hierarchy): test sensors < perform test run"]


def test_issue_refuses_an_unknown_esco_uri(home: Path, tmp_path: Path) -> None:
    init_issuer(tmp_path / "roc", name="ROC", url="https://roc.example")
    holder = Wallet.init(tmp_path / "w").holder
    bad_uri = SKILL + "00000000-0000-4000-8000-00000000c0c1"
    ach = _achievement(tmp_path, "cnc", {"targetFramework": "ESCO", "targetUrl": bad_uri, "targetName": "CNC"})
    p = run(["issue", "--issuer", str(tmp_path / "roc"), "--achievement", str(ach), "--subject", holder,
             "--level", "3", "-o", str(tmp_path / "c.json")], home)
    err = one_line_error(p)
    assert bad_uri in err and str(ach) in err and not (tmp_path / "c.json").exists()


def test_verify_does_not_import_esco(tmp_path: Path) -> None:
    """Loading the taxonomy must not slow `skillcred verify`: nothing ESCO is imported there."""
    code = ("import sys\nfrom click.testing import CliRunner\nfrom skillcred._cli import cli\n"
            "r = CliRunner().invoke(cli, ['verify', sys.argv[1]])\n"
            "assert r.exit_code in (1, 2), r.output\n"
            "assert 'skillcred.esco' not in sys.modules, 'skillcred.esco was imported by verify'\n"
            "assert 'skillcred.match' not in sys.modules\n")
    doc = tmp_path / "c.json"
    doc.write_text(json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"],
                               "type": ["VerifiableCredential"], "issuer": "did:key:z6Mk",
                               "credentialSubject": {"id": "did:key:z6Mk"}}), encoding="utf-8")
    p = subprocess.run([sys.executable, "-c", code, str(doc)], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "HOME": str(tmp_path)})
    assert p.returncode == 0, p.stderr
