"""The examples and the demo speak real ESCO (issue #17): every ESCO URI in them is a concept of
the embedded ESCO v1.1.1, the vacancies are what ``skillcred profile new`` writes for ESCO's
occupations (plus the levels the employer set, and nothing else), the badges are aligned to skills
those occupations really have, and ``examples/demo.sh`` tells the CNC-operator story on that data
with ESCO's acknowledgement on its pages.

These tests compare the example files with ESCO itself (the embedded snapshot; the snapshot is
compared with the official CSV download in tests/test_esco.py), not with what ``match`` makes of
them: tests/test_match.py and tests/test_cli_match.py do that, by hand.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO
from skillcred.esco import ESCO_ACKNOWLEDGEMENT, Taxonomy, job_profile

EXAMPLES = REPO / "examples"
CNC_OPERATOR = "http://data.europa.eu/esco/occupation/5c082067-ea18-4ccb-8c43-e70b18ad8120"
WELDER = "http://data.europa.eu/esco/occupation/7aedaa07-3884-4c5b-88f9-80997b2aa54b"
ESCO_URI = re.compile(r"http://data\.europa\.eu/esco/(?:skill|occupation)/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                      r"[0-9a-f]{4}-[0-9a-f]{12}")
#: the made-up "ESCO-style" URIs the examples used before: all zeros but the last group
FAKE = re.compile(r"data\.europa\.eu/esco/\w+/00000000-0000-4000-8000-")


@pytest.fixture(scope="module")
def esco() -> Taxonomy:
    return Taxonomy.embedded()


def example_texts() -> dict[Path, str]:
    files = [p for p in EXAMPLES.rglob("*") if p.is_file()]
    files += [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    return {p: p.read_text(encoding="utf-8") for p in files}


def test_no_made_up_esco_uri_is_left_in_examples_docs_or_readme() -> None:
    offenders = [str(p.relative_to(REPO)) for p, text in example_texts().items() if FAKE.search(text)]
    assert offenders == []


def test_every_esco_uri_in_examples_docs_and_readme_is_a_real_concept(esco: Taxonomy) -> None:
    seen: dict[str, Path] = {}
    for path, text in example_texts().items():
        for uri in ESCO_URI.findall(text):
            seen.setdefault(uri, path)
    unknown = {uri: str(p.relative_to(REPO)) for uri, p in seen.items() if not esco.has(uri)}
    assert unknown == {}
    # the examples do name real ESCO: the CNC operator, the welder, the skills of both
    assert CNC_OPERATOR in seen and WELDER in seen
    assert len([u for u in seen if "/skill/" in u]) >= 25


@pytest.mark.parametrize(("name", "occupation", "title", "levels"), [
    ("cnc-verspaner.json", CNC_OPERATOR, "CNC-verspaner (m/v)", {
        "program a CNC controller": 3, "set up the controller of a machine": 3, "read standard blueprints": 3,
        "operate precision measuring equipment": 2, "ensure equipment availability": 2}),
    ("lasser.json", WELDER, "Lasser MIG/MAG (m/v)", {
        "perform metal active gas welding": 3, "perform metal inert gas welding": 3}),
])
def test_example_vacancy_is_what_profile_new_writes_plus_the_employers_levels(
        esco: Taxonomy, name: str, occupation: str, title: str, levels: dict[str, int]) -> None:
    """Requirement by requirement, in order: the same skill, label, essential flag and weight as
    ``profile new`` gives; the only addition is a level on the requirements the employer chose,
    each named in the profile's description."""
    example = json.loads((EXAMPLES / "profiles" / name).read_text(encoding="utf-8"))
    made = job_profile(esco, occupation, title=title)
    assert example["occupation"] == made["occupation"] == occupation
    assert example["title"] == title
    assert len(example["requirements"]) == len(made["requirements"])
    for have, want in zip(example["requirements"], made["requirements"], strict=True):
        assert {k: v for k, v in have.items() if k != "level"} == want
    set_levels = {r["label"]: r["level"] for r in example["requirements"] if "level" in r}
    assert set_levels == levels
    for label, level in levels.items():
        assert f"{label} {level}" in example["description"]
    assert "profile new" in example["description"] and ESCO_ACKNOWLEDGEMENT in example["description"]


def esco_alignments(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((EXAMPLES / "achievements" / name).read_text(encoding="utf-8"))
    return [a for a in data["achievement"].get("alignment", []) if a.get("targetFramework") == "ESCO"]


@pytest.mark.parametrize(("name", "occupation"), [
    ("cnc-programmeren.yaml", CNC_OPERATOR), ("technisch-tekeninglezen.yaml", CNC_OPERATOR),
    ("mig-mag-lassen.yaml", WELDER), ("plannen-en-organiseren.yaml", CNC_OPERATOR),
])
def test_example_badges_align_to_skills_the_occupation_has(esco: Taxonomy, name: str, occupation: str) -> None:
    """Each ESCO alignment names an ESCO skill by its preferred label; all but the transversal
    "plan" of the on-the-job attestation are skills ESCO lists for the occupation."""
    alignments = esco_alignments(name)
    assert alignments, name
    of_occupation = {s.uri for s in esco.occupation_skills(occupation)}
    for a in alignments:
        uri = a["targetUrl"]
        assert esco.concept(uri).kind == "skill"
        assert a["targetName"] == esco.label(uri)
        assert uri in of_occupation or a["targetName"] == "plan", (name, a["targetName"])


def test_the_diploma_keeps_the_institute_framework_for_its_qualification(esco: Taxonomy) -> None:
    """The diploma names no ESCO skill itself: what crebo 25751 covers, at which level, is the
    framework's word, in ROC skills equated with ESCO ones and in ESCO skills."""
    assert esco_alignments("mbo-verspaner-diploma.yaml") == []
    fw = json.loads((EXAMPLES / "frameworks" / "metaal-vaardigheden.json").read_text(encoding="utf-8"))
    (qual,) = fw["qualifications"]
    assert qual["code"] == "25751"
    equated = {a: b for a, b in fw["equivalences"]}
    cnc_skills = {s.uri for s in esco.occupation_skills(CNC_OPERATOR)}
    for c in qual["covers"]:
        target = equated.get(c["skill"], c["skill"])
        assert target in cnc_skills, c


def test_catalog_teaches_real_skills_of_the_two_vacancies(esco: Taxonomy) -> None:
    catalog = json.loads((EXAMPLES / "catalogs" / "metaal-opleidingen.json").read_text(encoding="utf-8"))
    wanted = {s.uri for occ in (CNC_OPERATOR, WELDER) for s in esco.occupation_skills(occ)}
    for m in catalog["modules"]:
        for t in m["teaches"]:
            assert t["skill"] in wanted, (m["id"], t["skill"])
    # the CNC operator's essential skills no module teaches: three the example badges show
    # (Jan needs no training for them) and "manufacturing processes" (the demo's unclosable gap)
    essential = {s.label for s in esco.occupation_skills(CNC_OPERATOR) if s.essential}
    taught = {esco.label(t["skill"]) for m in catalog["modules"] for t in m["teaches"]}
    assert essential - taught == {"ensure equipment availability", "supply machine",
                                  "supply machine with appropriate tools", "manufacturing processes"}


def test_demo_tells_the_cnc_operator_story_on_real_esco_data(tmp_path: Path) -> None:
    """examples/demo.sh end to end (on a copy, so nothing is written in the repository): the
    vacancy made from ESCO's occupation, Jan's gap analysis with an ESCO hierarchy step and a
    training plan, the ranking, and ESCO's acknowledgement on the passport and gap-report pages."""
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    bindir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLCRED_", "XDG_"))}
    env.update(PATH=bindir + os.pathsep + env.get("PATH", ""), HOME=str(tmp_path / "home"),
               XDG_DATA_HOME=str(tmp_path / "home" / ".local"), XDG_CACHE_HOME=str(tmp_path / "home" / ".cache"))
    proc = subprocess.run(["bash", str(tmp_path / "examples" / "demo.sh")], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "Traceback" not in out + proc.stderr
    assert CNC_OPERATOR in out  # the real occupation, found by its Dutch label
    assert "examples/profiles/cnc-verspaner.json is that profile (158 ESCO skills)" in out
    assert ("via narrower counts for broader (ESCO skill hierarchy): supply machine with appropriate tools"
            " < supply machine") in out
    assert "Training plan (244 hours)" in out and "1. jan.json" in out
    for page in ("jan-passport.html", "jan-gap.html"):
        assert ESCO_ACKNOWLEDGEMENT in (tmp_path / "demo-out" / page).read_text(encoding="utf-8"), page
    assert out.count("carries the ESCO acknowledgement") == 2
    # the employer's OpenID4VP request, answered from Jan's wallet, verified and ranked
    assert "accepted: the verifier verified your response" in out
    assert "1 response(s), 1 verified" in out
