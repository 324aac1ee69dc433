"""Gap analysis as a library: a verified presentation next to a job profile, with the inference
that links each credential to a requirement, the scores, and the cheapest training plan.

The world is the demo's: a vocational college (did:web) issues Jan's MBO diploma, his CNC badge
(level 3) and his technical-drawing badge (level 2); his employer's assessor (did:key, P-256)
attests "plannen en organiseren" at level 2. The job is ``examples/profiles/cnc-verspaner.json``
(ESCO's "computer numerical control machine operator" as ``skillcred profile new`` writes it:
19 essential skills of weight 1, 139 optional ones of weight 0.5, total weight 19 + 69.5 = 88.5;
the employer set five levels), with the framework ``examples/frameworks/metaal-vaardigheden.json``,
the catalog ``examples/catalogs/metaal-opleidingen.json`` and ESCO's skill hierarchy (embedded).

Every expected value below is worked out by hand from those example files (the arithmetic is
written next to it), never read back from ``match()``. What Jan's badges are aligned to
(achievement files): CNC -> the ROC's cnc-programmeren and ESCO program a CNC controller, set up
the controller of a machine, supply machine with appropriate tools, tend CNC milling machine,
tend computer numerical control lathe machine; drawing -> ESCO read standard blueprints,
interpret geometric dimensions and tolerances; plannen -> ESCO plan, ensure equipment
availability; the diploma -> crebo 25751, which the framework says covers the ROC's
technisch-tekeninglezen (= ESCO read standard blueprints) at 3, cnc-programmeren at 2 and ESCO
tend CNC milling / lathe at 3.

requirement (essential? level)             what Jan shows
  ensure equipment availability      E L2   attestation L2, same URI                -> met
  program a CNC controller           E L3   CNC badge L3, same URI                  -> met
  read standard blueprints           E L3   drawing badge L2 only; the diploma's qualification
                                            covers the ROC skill at 3, equivalent   -> met (diploma)
  set up the controller of a machine E L3   CNC badge L3                            -> met
  supply machine with appropriate tools E   CNC badge                               -> met
  supply machine                     E      CNC badge: ESCO says "supply machine with appropriate
                                            tools" is narrower                      -> met (ESCO)
  the other 13 essential skills      E      nothing                                 -> missing
  interpret geometric dimensions and tolerances, tend CNC milling machine,
  tend computer numerical control lathe machine (optional, 0.5 each)   badges    -> met
  the other 136 optional skills             nothing                                 -> missing

essential coverage 6/19; coverage 9/158; score (6 + 3 * 0.5) / 88.5 = 7.5 / 88.5.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from conftest import REPO
from skillcred._internal.fileio import dump_json, load_json_object
from skillcred.errors import InvalidArgument, SchemaViolation
from skillcred.esco import Taxonomy
from skillcred.issuer import EvidenceInput, Issuer, init_issuer, load_achievement
from skillcred.match import (
    Catalog,
    JobProfile,
    MatchReport,
    Requirement,
    load_catalog,
    load_framework,
    load_profile,
    match,
    rank_key,
)
from skillcred.match import Module as CatalogModule
from skillcred.trust import TrustList
from skillcred.verify import VerificationPolicy, VerifiedCredential, VerifiedPresentation, Verifier
from skillcred.wallet import Wallet

EXAMPLES = REPO / "examples"
ACHIEVEMENTS = EXAMPLES / "achievements"
PROFILE = EXAMPLES / "profiles" / "cnc-verspaner.json"
FRAMEWORK = EXAMPLES / "frameworks" / "metaal-vaardigheden.json"
CATALOG = EXAMPLES / "catalogs" / "metaal-opleidingen.json"
CHALLENGE = "9b2e7c1d-5a34-4f0e-b8c6-match-challenge"
DOMAIN = "werving.metaalbedrijf-de-vries.example"

# URIs and labels as written in the example files
ROC = "https://skills.roc-techniek.example/"
ESCO = "http://data.europa.eu/esco/skill/"
ESCO_CNC = ESCO + "bf942c60-8539-4951-83ee-63f770da1cb8"  # program a CNC controller
ESCO_PLANNEN = ESCO + "e49f4158-9d4c-425d-bf32-dfe89b19840a"  # plan
ESCO_MEASURE = ESCO + "42c25baf-ccb3-47d9-a872-bb2ceb615538"  # operate precision measuring equipment
ESCO_QUALITY = ESCO + "8d4271ca-c9fd-40b3-875f-15f78332a49e"  # quality standards
ESCO_PPE = ESCO + "6122d586-5978-431f-8e7a-96e61fc1f3fc"  # wear appropriate protective gear
ESCO_BLUEPRINTS = ESCO + "68b6ef08-d823-489d-a95c-752ae6f6e6a7"  # read standard blueprints
AVAIL, PROGRAM, BLUEPRINTS = "ensure equipment availability", "program a CNC controller", "read standard blueprints"
SETUP, TOOLS, SUPPLY = "set up the controller of a machine", "supply machine with appropriate tools", "supply machine"
GDT, MILL = "interpret geometric dimensions and tolerances", "tend CNC milling machine"
LATHE, PPE = "tend computer numerical control lathe machine", "wear appropriate protective gear"
MEASURE, QUALITY, MANUF = "operate precision measuring equipment", "quality standards", "manufacturing processes"
# the labels of the ROC's own skills (framework file), for the steps that name them
CNC, VERSPANEN, TEKENING = "CNC-programmeren", "Verspanen", "Technische tekeningen lezen"
PLANNEN = "Plannen en organiseren"
JAN_MET = {AVAIL, PROGRAM, BLUEPRINTS, SETUP, TOOLS, SUPPLY, GDT, MILL, LATHE}
# Jan's 13 essential gaps, in the profile's order (the 19 essential skills minus the 6 above)
JAN_GAPS = ["consult technical resources", MANUF, "monitor automated machines", MEASURE,
            "perform machine maintenance", "perform test run", QUALITY, "remove inadequate workpieces",
            "remove processed workpiece", "statistical process control", "troubleshoot",
            "use automatic programming", "use CAM software"]
TOTAL_WEIGHT = 19 + 139 * 0.5  # 88.5


def derived_achievement(folder: Path, slug: str, label: str, achievement_type: str, esco: str) -> Path:
    """An achievement like the example drawing badge, for another skill (the examples have none
    for measuring or safe working): aligned to a ROC URI and to one real ESCO skill."""
    data = yaml.safe_load((ACHIEVEMENTS / "technisch-tekeninglezen.yaml").read_text(encoding="utf-8"))
    ach = data["achievement"]
    ach["id"] = f"https://roc-techniek.example/achievements/{slug}"
    ach["name"] = label
    ach["achievementType"] = achievement_type
    ach["alignment"] = [dict(ach["alignment"][0], targetName=label, targetUrl=ROC + slug),
                        {"targetUrl": esco, "targetFramework": "ESCO"}]
    ach["resultDescription"][0]["id"] = ach["id"] + "/niveau"
    path = folder / f"{slug}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class World:
    root: Path
    wallet: Wallet
    holder_key: Any
    roc_did: str
    assessor_did: str
    rogue_did: str
    examen_did: str
    roc_did_document: dict[str, Any]
    creds: dict[str, dict[str, Any]]
    lists_before_revocation: list[dict[str, Any]]
    lists: list[dict[str, Any]]

    def id(self, name: str) -> str:
        return str(self.creds[name]["id"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("match")
    init_issuer(root / "roc", name="ROC Techniek Midden", url="https://roc-techniek.example", did_method="web")
    init_issuer(root / "assessor", name="Metaalbedrijf De Vries (leermeester)",
                url="https://metaalbedrijf-de-vries.example", key_type="p256")
    init_issuer(root / "rogue", name="Diplomafabriek", url="https://diplomafabriek.example")
    init_issuer(root / "examen", name="Examencentrum Noord", url="https://examencentrum-noord.example")
    meten = load_achievement(derived_achievement(root, "meten-kwaliteit", "Meten en kwaliteitscontrole",
                                                 "Competency", ESCO_MEASURE))
    vca = load_achievement(derived_achievement(root, "veilig-werken", "Veilig werken (VCA)", "Certification",
                                               ESCO_PPE))
    wallet = Wallet.init(root / "wallet")
    holder = wallet.holder
    creds: dict[str, dict[str, Any]] = {}

    def keep(name: str, issued: tuple[Any, bool]) -> None:
        record, new = issued
        assert new
        creds[name] = dict(record.document)

    with Issuer.open(root / "roc") as roc, Issuer.open(root / "assessor") as assessor, \
            Issuer.open(root / "rogue") as rogue, Issuer.open(root / "examen") as examen:
        keep("diploma", roc.issue(load_achievement(ACHIEVEMENTS / "mbo-verspaner-diploma.yaml"), holder,
                                  name="Jan de Vries"))
        keep("cnc", roc.issue(load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml"), holder, level="3"))
        keep("tekening", roc.issue(load_achievement(ACHIEVEMENTS / "technisch-tekeninglezen.yaml"), holder,
                                   level="2"))
        keep("plannen", assessor.issue(
            load_achievement(ACHIEVEMENTS / "plannen-en-organiseren.yaml"), holder, level="2",
            evidence=EvidenceInput(narrative="Plant wekelijks de werkvoorbereiding van de CNC-cel.",
                                   workplace="Metaalbedrijf De Vries, Utrecht", hours=320,
                                   assessor="Piet Bakker, leermeester")))
        # four credentials that would raise Jan's score, but must not count
        keep("revoked", roc.issue(meten, holder, level="3"))
        keep("expired", roc.issue(vca, holder, level="1", valid_from=datetime(2020, 1, 1, tzinfo=UTC),
                                  valid_until=datetime(2021, 1, 1, tzinfo=UTC)))
        keep("untrusted", rogue.issue(meten, holder, level="4"))
        keep("diploma_only", examen.issue(vca, holder, level="2"))
        everyone = (roc, assessor, rogue, examen)
        before = [doc for iss in everyone for _, doc in iss.status_list_credentials()]
        assert roc.revoke(creds["revoked"]["id"])
        after = [doc for iss in everyone for _, doc in iss.status_list_credentials()]
        dids = (roc.profile.did, assessor.profile.did, rogue.profile.did, examen.profile.did)
    yield World(root, wallet, wallet.holder_key(), *dids, load_json_object(root / "roc" / "did.json"),
                creds, before, after)


def trust_list(w: World, *, rogue: bool = False, examen: tuple[str, ...] = ("Diploma",)) -> TrustList:
    """The employer trusts the college for diplomas and skills, the assessor for everything, and
    the exam centre for diplomas only; the Diplomafabriek not at all (unless ``rogue``)."""
    tl = TrustList()
    tl.add(w.roc_did, name="ROC Techniek Midden", did_document=w.roc_did_document,
           may_attest=["Diploma", "Competency", "Certification"])
    tl.add(w.assessor_did, name="Metaalbedrijf De Vries")
    tl.add(w.examen_did, name="Examencentrum Noord", may_attest=examen)
    if rogue:
        tl.add(w.rogue_did, name="Diplomafabriek")
    return tl


def assess(w: World, names: list[str], *, trust: TrustList | None = None,
           lists: list[dict[str, Any]] | None = None) -> VerifiedPresentation:
    vp = w.wallet.present([w.creds[n] for n in names], key=w.holder_key, challenge=CHALLENGE, domain=DOMAIN)
    verifier = Verifier(VerificationPolicy(trust=trust or trust_list(w)),
                        status_lists=w.lists if lists is None else lists)
    result = verifier.assess(vp, challenge=CHALLENGE, domain=DOMAIN)
    assert all(c.ok for c in result.report.checks if c.id.startswith("presentation")), result.report.failures()
    return result


def gap(w: World, names: list[str], *, catalog: Catalog | None = None, profile: JobProfile | None = None,
        **kw: Any) -> MatchReport:
    result = assess(w, names, **kw)
    return match(profile or load_profile(PROFILE), result.accepted,
                 framework=load_framework([FRAMEWORK], esco=Taxonomy.embedded()),
                 catalog=catalog, not_counted=[(cid, why) for _i, cid, why in result.rejected],
                 candidate=result.holder)


def by_label(report: MatchReport) -> dict[str, Any]:
    out = {r.requirement.label: r for r in report.requirements}
    assert len(out) == len(report.requirements) == 158  # ESCO's labels of one occupation are distinct
    return out


def write_catalog(folder: Path, name: str, modules: list[dict[str, Any]]) -> Catalog:
    path = folder / f"{name}.json"
    path.write_bytes(dump_json({"type": "SkillcredTrainingCatalog", "name": name, "modules": modules}))
    return load_catalog(path)


def module(mid: str, hours: float, *teaches: tuple[str, int]) -> dict[str, Any]:
    """A module teaching skills given by full URI, or by the slug of a ROC skill."""
    return {"id": mid, "name": mid, "durationHours": hours,
            "teaches": [{"skill": s if ":" in s else ROC + s, "level": lvl} for s, lvl in teaches]}


JAN = ["diploma", "cnc", "tekening", "plannen"]
JAN_WITHOUT_DIPLOMA = ["cnc", "tekening", "plannen"]
BAD = ["revoked", "expired", "untrusted", "diploma_only"]


# -- 1. each requirement: met / partial / missing, with the inference ---------------------------


def test_jan_against_the_cnc_vacancy(world: World) -> None:
    report = gap(world, JAN)
    r = by_label(report)
    assert {label for label, res in r.items() if res.status == "met"} == JAN_MET
    assert {res.status for label, res in r.items() if label not in JAN_MET} == {"missing"}

    # the CNC badge names the very ESCO skill the profile asks for: no step
    prog = r[PROGRAM]
    assert (prog.evidence.credential, prog.evidence.level, prog.evidence.inference) == (world.id("cnc"), 3, ())
    assert r[SETUP].evidence.credential == world.id("cnc") and r[TOOLS].evidence.inference == ()

    # supply machine: nothing names it; ESCO says the badge's "supply machine with appropriate
    # tools" is narrower, and it counts at the badge's level
    supply = r[SUPPLY]
    assert (supply.evidence.credential, supply.evidence.level) == (world.id("cnc"), 3)
    assert supply.evidence.inference == (
        "narrower counts for broader (ESCO skill hierarchy): supply machine with appropriate tools < supply machine",)

    # read standard blueprints at level 3: the badge is level 2; the diploma's qualification
    # covers the ROC's drawing skill at 3, which the framework equates with the ESCO skill
    bp = r[BLUEPRINTS]
    assert (bp.evidence.credential, bp.evidence.level) == (world.id("diploma"), 3)
    assert bp.evidence.inference == (
        "diploma: qualification 25751 covers Technische tekeningen lezen",
        f"equivalent: Technische tekeningen lezen <{ROC}technisch-tekeninglezen> = <{ESCO_BLUEPRINTS}>")
    assert bp.shortfall is None and bp.credit == 1.0

    for label in (MEASURE, QUALITY, MANUF):
        assert r[label].evidence is None and r[label].credit == 0.0

    # on-the-job attestation from the second issuer, aligned to the ESCO skill itself
    av = r[AVAIL]
    assert (av.evidence.credential, av.evidence.level, av.evidence.issuer) == (world.id("plannen"), 2,
                                                                               world.assessor_did)
    # optional ones at any level: the drawing badge (L2) for GD&T, the CNC badge for milling
    # (the diploma covers milling too, at 3, but through a step: the shorter chain is shown)
    assert r[GDT].evidence.credential == world.id("tekening")
    assert r[MILL].evidence.credential == world.id("cnc") and r[MILL].evidence.inference == ()

    # essential: 6 met of 19
    assert report.essential_coverage == pytest.approx(6 / 19)
    # all 158, unweighted: 9 met
    assert report.coverage == pytest.approx(9 / 158)
    # weighted: (6 * 1 + 3 * 0.5) / (19 * 1 + 139 * 0.5) = 7.5 / 88.5
    assert report.score == pytest.approx(7.5 / TOTAL_WEIGHT)
    assert [g.requirement.label for g in report.essential_gaps] == JAN_GAPS
    assert report.not_counted == ()
    assert report.candidate == world.wallet.holder


def test_without_the_diploma_the_drawing_badge_alone_is_partial(world: World) -> None:
    report = gap(world, JAN_WITHOUT_DIPLOMA)
    r = by_label(report)
    assert {label for label, res in r.items() if res.status == "met"} == JAN_MET - {BLUEPRINTS}
    bp = r[BLUEPRINTS]
    assert bp.status == "partial"
    assert (bp.evidence.credential, bp.evidence.level) == (world.id("tekening"), 2)
    assert bp.evidence.inference == ()  # the badge names the very skill the profile asks for
    assert bp.shortfall == 1  # 3 - 2
    assert bp.credit == pytest.approx(2 / 3)
    assert bp.to_dict()["shortfall"] == 1 and bp.to_dict()["status"] == "partial"
    # now only the CNC badge stands for milling
    assert r[MILL].evidence.credential == world.id("cnc")

    # essential: (5 + 2/3) / 19 = 17/57
    assert report.essential_coverage == pytest.approx(17 / 57)
    # all: (8 + 2/3) / 158 = 26/474
    assert report.coverage == pytest.approx(26 / 474)
    # weighted: (5 + 2/3 + 3 * 0.5) / 88.5 = (43/6) / 88.5
    assert report.score == pytest.approx((43 / 6) / TOTAL_WEIGHT)
    assert rank_key(gap(world, JAN)) < rank_key(report)  # Jan with the diploma ranks higher


def test_report_as_json_names_skill_status_credential(world: World) -> None:
    d = gap(world, JAN).to_dict()
    assert d["essential_coverage"] == pytest.approx(6 / 19, abs=1e-4)
    assert d["score"] == pytest.approx(7.5 / 88.5, abs=1e-4)
    # the 19 essential skills come first, in ESCO's label order: consult technical resources,
    # ensure equipment availability, manufacturing processes, monitor automated machines,
    # operate precision measuring equipment, perform machine maintenance, perform test run,
    # program a CNC controller, quality standards, read standard blueprints, remove inadequate
    # workpieces, remove processed workpiece, set up the controller of a machine, statistical
    # process control, supply machine, supply machine with appropriate tools, troubleshoot,
    # use automatic programming, use CAM software
    m, x = "met", "missing"
    assert [q["status"] for q in d["requirements"][:19]] == [
        x, m, x, x, x, x, x, m, x, m, x, x, m, x, m, m, x, x, x]
    assert d["requirements"][7]["skill"] == ESCO_CNC
    assert d["requirements"][7]["credential"] == world.id("cnc")
    assert d["requirements"][0]["credential"] is None
    assert all(q["essential"] is False for q in d["requirements"][19:])
    assert "plan" not in d  # no catalog, no plan


def test_without_a_framework_or_esco_only_literal_matches_count(world: World) -> None:
    """No framework and no ESCO hierarchy: no equivalence, no broader, no qualification coverage.
    The badges name ESCO skills themselves, so what they name still counts."""
    result = assess(world, JAN)
    report = match(load_profile(PROFILE), result.accepted)
    r = by_label(report)
    assert r[PROGRAM].status == "met" and r[PROGRAM].evidence.inference == ()  # aligned to ESCO itself
    assert r[SUPPLY].status == "missing"  # only ESCO's hierarchy says tools < supply machine
    bp = r[BLUEPRINTS]
    assert (bp.status, bp.evidence.credential, bp.shortfall) == ("partial", world.id("tekening"), 1)
    # essential (5 + 2/3 - 1 for supply machine) = (4 + 2/3) / 19 = 14/57
    assert report.essential_coverage == pytest.approx(14 / 57)


def test_esco_hierarchy_without_a_framework_file(world: World) -> None:
    """ESCO alone (no framework file): supply machine is met again, the diploma still only partial."""
    result = assess(world, JAN)
    report = match(load_profile(PROFILE), result.accepted, framework=load_framework([], esco=Taxonomy.embedded()))
    r = by_label(report)
    assert r[SUPPLY].status == "met" and "ESCO skill hierarchy" in r[SUPPLY].evidence.inference[0]
    assert r[BLUEPRINTS].status == "partial"
    # essential (5 + 2/3) / 19 = 17/57
    assert report.essential_coverage == pytest.approx(17 / 57)


# -- 1b. the training plan -------------------------------------------------------------------------


def test_plan_with_the_example_catalog(world: World) -> None:
    """Jan's 13 gaps. Consult / monitor / test run / remove processed are taught only by the
    CNC-werkplaats course (60 h; it also teaches remove inadequate); CAM and automatic
    programming only by CAM-programmeren (80 h); maintenance and troubleshoot only by Onderhoud
    (40 h). Measuring (L2), quality standards and SPC: Meettechniek 40 + Kwaliteit/SPC 32 = 72 h,
    the combined course 64 h, the keuzedeel 240 h: the combined one. 60 + 64 + 80 + 40 = 244 h.
    Nothing teaches manufacturing processes."""
    plan = gap(world, JAN, catalog=load_catalog(CATALOG)).plan
    assert plan is not None
    assert [p.module.id for p in plan.modules] == [
        "cnc-werkplaats", "combi-meten-kwaliteit", "cam-programmeren", "onderhoud-storingen"]
    assert plan.modules[0].closes == ("consult technical resources", "monitor automated machines",
                                      "perform test run", "remove inadequate workpieces", "remove processed workpiece")
    assert plan.modules[1].closes == (MEASURE, QUALITY, "statistical process control")
    assert plan.total_hours == 244
    assert plan.unclosable == (MANUF,)
    assert plan.optimal is True
    d = gap(world, JAN, catalog=load_catalog(CATALOG)).to_dict()["plan"]
    assert d["total_hours"] == 244 and d["unclosable"] == [MANUF]


def test_plan_without_the_diploma_adds_the_drawing_course(world: World) -> None:
    plan = gap(world, JAN_WITHOUT_DIPLOMA, catalog=load_catalog(CATALOG)).plan
    assert plan is not None
    # blueprints is short one level: only "Technisch tekeninglezen verdieping" (L4, 60 h) closes it
    assert sorted(p.module.id for p in plan.modules) == [
        "cam-programmeren", "cnc-werkplaats", "combi-meten-kwaliteit", "onderhoud-storingen", "tekenlezen-verdieping"]
    assert plan.total_hours == 244 + 60
    assert plan.unclosable == (MANUF,)


def example_requirements(*labels: str) -> JobProfile:
    """A vacancy of some of the example profile's requirements (as written there, levels included)."""
    reqs = {r.label: r for r in load_profile(PROFILE).requirements}
    return JobProfile("Meetkamer", None, tuple(reqs[label] for label in labels))


def test_plan_whose_optimum_needs_two_modules(world: World, tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, "tiny", [
        module("alles-in-een", 60, (ESCO_MEASURE, 2), (ESCO_QUALITY, 1)),
        module("meten-kort", 30, (ESCO_MEASURE, 2)),
        module("kwaliteit-kort", 20, (ESCO_QUALITY, 1)),
        module("meten-te-laag", 5, (ESCO_MEASURE, 1)),  # level 1 < 2 required: closes nothing
        module("lassen", 1, ("tig-lassen", 5)),  # unrelated
    ])
    plan = gap(world, JAN, catalog=catalog, profile=example_requirements(PROGRAM, MEASURE, QUALITY)).plan
    assert plan is not None
    # gaps: measuring (L2) and quality standards; 30 + 20 = 50 < 60
    assert sorted(p.module.id for p in plan.modules) == ["kwaliteit-kort", "meten-kort"]
    assert plan.total_hours == 50
    assert {p.module.id: p.closes for p in plan.modules} == {"meten-kort": (MEASURE,), "kwaliteit-kort": (QUALITY,)}
    assert plan.unclosable == () and plan.optimal is True


def test_plan_reports_what_no_module_can_close(world: World, tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, "incomplete", [
        module("meten-kort", 30, (ESCO_MEASURE, 2)),
        module("tekenen-basis", 8, (ESCO_BLUEPRINTS, 2)),  # Jan needs level 3
    ])
    plan = gap(world, JAN_WITHOUT_DIPLOMA, catalog=catalog,
               profile=example_requirements(MEASURE, BLUEPRINTS, QUALITY)).plan
    assert plan is not None
    assert [p.module.id for p in plan.modules] == ["meten-kort"]
    assert plan.total_hours == 30
    assert plan.unclosable == (BLUEPRINTS, QUALITY)


def test_plan_counts_a_narrower_or_equivalent_module(world: World, tmp_path: Path) -> None:
    """A module taught on an ESCO URI closes a gap named with the college's URI."""
    profile = JobProfile("Werkvoorbereider", None, (
        Requirement(ROC + "plannen-en-organiseren", "Plannen", 3, True, 1.0),
        Requirement(ROC + "verspanen", "Verspanen", 4, True, 1.0),
    ))
    catalog = write_catalog(tmp_path, "via-inference", [
        {"id": "plannen-esco", "name": "Plannen", "durationHours": 12,
         "teaches": [{"skill": ESCO_PLANNEN, "level": 3}]},
        module("draaien-frezen-4", 100, ("draaien-frezen", 4)),
        module("verspanen-4", 150, ("verspanen", 4)),
    ])
    report = gap(world, JAN, catalog=catalog, profile=profile)
    assert [r.status for r in report.requirements] == ["partial", "partial"]  # L2 of 3, L3 of 4
    assert report.plan is not None
    assert sorted(p.module.id for p in report.plan.modules) == ["draaien-frezen-4", "plannen-esco"]
    assert report.plan.total_hours == 112


def test_no_plan_needed_when_every_essential_requirement_is_met(world: World) -> None:
    profile = JobProfile("Jan's own job", None, (
        Requirement(ESCO_CNC, CNC, 3, True, 3.0),
        Requirement(ROC + "verspanen", VERSPANEN, 3, True, 2.0),
        Requirement(ROC + "technisch-tekeninglezen", TEKENING, 3, True, 2.0),
        Requirement(ESCO_MEASURE, MEASURE, 2, False, 2.0),
    ))
    report = gap(world, JAN, catalog=load_catalog(CATALOG), profile=profile)
    assert report.essential_gaps == []
    assert report.essential_coverage == 1.0
    assert report.score == pytest.approx(7 / 9)  # (3 + 2 + 2 + 0) / 9
    assert report.plan is not None
    assert report.plan.modules == () and report.plan.total_hours == 0 and report.plan.unclosable == ()


def _brute_force_hours(gaps: list[int], modules: list[CatalogModule]) -> float:
    """Least total hours over every subset of modules that closes all closable gaps."""
    def closes(m: CatalogModule) -> set[int]:
        return {g for g in gaps for skill, lvl in m.teaches if skill == f"urn:skill:{g}" and lvl >= 2}
    closable = set().union(*(closes(m) for m in modules)) if modules else set()
    best = float("inf")
    for n in range(len(modules) + 1):
        for subset in itertools.combinations(modules, n):
            covered = set().union(*(closes(m) for m in subset)) if subset else set()
            if covered >= closable:
                best = min(best, sum(m.hours for m in subset))
    return best


@pytest.mark.parametrize("seed", range(25))
def test_plan_is_the_least_total_duration(seed: int) -> None:
    """Against brute force over every subset of a random 9-module catalog."""
    rng = random.Random(seed)
    n_gaps = rng.randint(2, 7)
    profile = JobProfile("synthetic", None, tuple(
        Requirement(f"urn:skill:{g}", f"skill {g}", 2, True, 1.0) for g in range(n_gaps)))
    modules = []
    for i in range(9):
        taught = rng.sample(range(n_gaps + 1), rng.randint(1, 3))  # n_gaps itself: no such gap
        modules.append(CatalogModule(f"m{i}", f"m{i}", None, None, float(rng.randint(4, 120)),
                                     tuple((f"urn:skill:{g}", rng.choice([1, 2, 3])) for g in taught)))
    report = match(profile, [], catalog=Catalog(tuple(modules)))
    plan = report.plan
    assert plan is not None and plan.optimal
    assert plan.total_hours == _brute_force_hours(list(range(n_gaps)), modules)
    assert plan.total_hours == sum(p.module.hours for p in plan.modules)
    closed = {label for p in plan.modules for label in p.closes}
    assert closed | set(plan.unclosable) == {f"skill {g}" for g in range(n_gaps)}
    assert not closed & set(plan.unclosable)


def test_more_than_twenty_gaps_is_a_greedy_plan_said_so() -> None:
    profile = JobProfile("huge", None, tuple(
        Requirement(f"urn:skill:{g}", f"skill {g}", 1, True, 1.0) for g in range(21)))
    modules = tuple(CatalogModule(f"m{g}", f"m{g}", None, None, 10.0, ((f"urn:skill:{g}", 1),))
                    for g in range(21))
    plan = match(profile, [], catalog=Catalog(modules)).plan
    assert plan is not None
    assert plan.optimal is False
    assert len(plan.modules) == 21 and plan.total_hours == 210 and plan.unclosable == ()


# -- 2. credentials that failed verification do not count ------------------------------------------


def test_revoked_expired_and_untrusted_credentials_are_not_counted(world: World) -> None:
    clean = gap(world, JAN, catalog=load_catalog(CATALOG))
    dirty = gap(world, JAN + BAD, catalog=load_catalog(CATALOG))
    reasons = dict(dirty.not_counted)
    assert set(reasons) == {world.id(n) for n in BAD}
    revoked, expired = reasons[world.id("revoked")], reasons[world.id("expired")]
    untrusted, diploma_only = reasons[world.id("untrusted")], reasons[world.id("diploma_only")]
    assert revoked.startswith("status:") and "revoked" in revoked
    assert expired.startswith("validity:") and "expired" in expired and "2021-01-01" in expired
    assert untrusted.startswith("trust:") and world.rogue_did in untrusted and "not in the trust list" in untrusted
    assert diploma_only.startswith("trust:") and "Diploma" in diploma_only and "Certification" in diploma_only

    # the very same outcome as without them
    assert dirty.essential_coverage == clean.essential_coverage == pytest.approx(6 / 19)
    assert dirty.score == clean.score == pytest.approx(7.5 / TOTAL_WEIGHT)
    assert dirty.coverage == clean.coverage
    assert [r.status for r in dirty.requirements] == [r.status for r in clean.requirements]
    assert {r.evidence.credential for r in dirty.requirements if r.evidence} <= {world.id(n) for n in JAN}
    assert dirty.plan == clean.plan
    d = dirty.to_dict()
    assert {x["credential"] for x in d["not_counted"]} == {world.id(n) for n in BAD}
    assert all(x["reason"] for x in d["not_counted"])
    assert "4 credential(s) not counted" in dirty.summary()


def test_each_excluded_credential_would_have_closed_a_gap(world: World) -> None:
    """The exclusions above matter: each credential, where it does verify, raises the score."""
    base = gap(world, JAN)
    before_revocation = gap(world, [*JAN, "revoked"], lists=world.lists_before_revocation)
    assert before_revocation.not_counted == ()
    assert by_label(before_revocation)[MEASURE].status == "met"  # measuring L3 for L2
    assert before_revocation.essential_coverage == pytest.approx(7 / 19)
    assert base.essential_coverage == pytest.approx(6 / 19)

    trusted_rogue = gap(world, [*JAN, "untrusted"], trust=trust_list(world, rogue=True))
    assert trusted_rogue.not_counted == ()
    assert by_label(trusted_rogue)[MEASURE].evidence.credential == world.id("untrusted")
    assert trusted_rogue.score == pytest.approx((7.5 + 1) / TOTAL_WEIGHT)

    # the VCA certificate: ESCO's "wear appropriate protective gear", optional (weight 0.5)
    broader = gap(world, [*JAN, "diploma_only"], trust=trust_list(world, examen=("Diploma", "Certification")))
    assert broader.not_counted == ()
    assert by_label(broader)[PPE].status == "met"
    assert broader.score == pytest.approx((7.5 + 0.5) / TOTAL_WEIGHT)


# -- 3. only verified credentials ------------------------------------------------------------------


def test_match_takes_only_verified_credentials(world: World) -> None:
    result = assess(world, JAN)
    profile = load_profile(PROFILE)
    good = result.accepted[0]
    lookalike = SimpleNamespace(**{k: getattr(good, k) for k in ("index", "id", "issuer", "issuer_name",
                                                                   "subject", "document")})
    for wrong in ([world.creds["cnc"]], [lookalike], [good, world.creds["cnc"]], [result.report],
                  [result], ["urn:uuid:not-a-credential"], [None]):
        with pytest.raises(InvalidArgument):
            match(profile, wrong)  # type: ignore[arg-type]
    # the whole assess() result instead of its .accepted, or one credential without a list
    for wrong_container in (result, good, world.creds["cnc"]):
        with pytest.raises(InvalidArgument):
            match(profile, wrong_container)  # type: ignore[arg-type]
    assert isinstance(good, VerifiedCredential)
    assert match(profile, []).essential_coverage == 0.0


def test_match_accepts_any_iterable_of_verified_credentials(world: World) -> None:
    """A generator is checked and then used, not used up by the check (6 of 19 essential met)."""
    result = assess(world, JAN)
    fw = load_framework([FRAMEWORK], esco=Taxonomy.embedded())
    report = match(load_profile(PROFILE), (c for c in result.accepted), framework=fw)
    assert report.essential_coverage == pytest.approx(6 / 19)
    assert report.score == pytest.approx(7.5 / TOTAL_WEIGHT)


# -- loading ----------------------------------------------------------------------------------------


def test_profile_framework_catalog_are_schema_checked(tmp_path: Path) -> None:
    bad_profile = load_json_object(PROFILE)
    bad_profile["requirements"][0]["level"] = 0
    (tmp_path / "p.json").write_bytes(dump_json(bad_profile))
    with pytest.raises(SchemaViolation) as exc:
        load_profile(tmp_path / "p.json")
    assert str(tmp_path / "p.json") in str(exc.value)

    bad_catalog = load_json_object(CATALOG)
    del bad_catalog["modules"][0]["durationHours"]
    (tmp_path / "c.json").write_bytes(dump_json(bad_catalog))
    with pytest.raises(SchemaViolation):
        load_catalog(tmp_path / "c.json")

    bad_framework = load_json_object(FRAMEWORK)
    bad_framework["equivalences"].append(["only-one"])
    (tmp_path / "f.json").write_bytes(dump_json(bad_framework))
    with pytest.raises(SchemaViolation):
        load_framework([tmp_path / "f.json"])


def test_example_profile_loads_as_written() -> None:
    p = load_profile(PROFILE)
    assert p.title == "CNC-verspaner (m/v)"
    assert p.occupation == "http://data.europa.eu/esco/occupation/5c082067-ea18-4ccb-8c43-e70b18ad8120"
    assert len(p.requirements) == 158
    assert [r.essential for r in p.requirements] == [True] * 19 + [False] * 139
    assert {r.weight for r in p.requirements[:19]} == {1.0} and {r.weight for r in p.requirements[19:]} == {0.5}
    assert {r.label: r.level for r in p.requirements if r.level is not None} == {
        AVAIL: 2, MEASURE: 2, PROGRAM: 3, BLUEPRINTS: 3, SETUP: 3}
    assert all(r.ref.startswith(ESCO) for r in p.requirements)


def test_text_and_html_reports_say_the_same_things() -> None:
    """The printable page used to leave out what the terminal said: a level shortfall, the
    requirements no module can close, a greedy plan. Both now carry every item."""
    from html.parser import HTMLParser

    from skillcred.match import (
        Evidence,
        MatchReport,
        Module,
        PlannedModule,
        Requirement,
        RequirementResult,
        TrainingPlan,
    )

    cnc = Requirement("esco:cnc", "CNC <programmeren>", 3, True, 1.0)
    vca = Requirement("esco:vca", "Veilig werken (VCA)", 1, True, 1.0)
    tig = Requirement("esco:tig", "TIG-lassen", 2, False, 0.5)
    ev = Evidence("esco:cnc", 1, "urn:uuid:c1", "did:key:z6Mkroc", "ROC & Co", "CNC-programmeren",
                  ("equivalent: a = b",))
    module = Module("m1", "VCA Basis", "course", "SSVV", 16.0, (("esco:vca", 1),))
    report = MatchReport(
        profile="Verspaner", candidate="did:key:z6Mkjan",
        requirements=(RequirementResult(cnc, "partial", ev, 0.3), RequirementResult(vca, "missing", None, 0.0),
                      RequirementResult(tig, "missing", None, 0.0)),
        essential_coverage=0.0, coverage=0.0, score=0.12, not_counted=(("urn:uuid:bad", "proof failed"),),
        plan=TrainingPlan((PlannedModule(module, ("Veilig werken (VCA)",)),), 16.0, ("CNC <programmeren>",), False),
    )
    text, page = report.to_text(), report.to_html()
    for needle in ("2 level(s) short", "no module in the catalog closes: CNC <programmeren>", "greedy",
                   "VCA Basis (16 h, SSVV)", "urn:uuid:bad: proof failed", "via equivalent: a = b"):
        assert needle in text, needle
    shown = page.replace("<bdi>", "").replace("</bdi>", "")  # each untrusted value is isolated in <bdi>
    for needle in ("2 level(s) short", "No module in the catalog closes: CNC &lt;programmeren&gt;", "greedy",
                   '<td>VCA Basis</td><td class="hours">16 h</td><td>SSVV</td>',  # the plan is a table
                   "urn:uuid:bad: proof failed", "via equivalent: a = b", "ROC &amp; Co", "urn:uuid:c1"):
        assert needle in shown, needle
    assert "<bdi>ROC &amp; Co</bdi>" in page and "<bdi>CNC &lt;programmeren&gt;</bdi>" in page
    assert "<programmeren>" not in page  # every text escaped

    tags: list[str] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: Any) -> None:
            tags.append(tag)

    Tags().feed(page)
    # the requirements' header and 3 rows, the plan's header, its module and its unclosable gap
    assert "script" not in tags and tags.count("tr") == 7

    done = MatchReport(profile="Verspaner", candidate=None, requirements=(RequirementResult(cnc, "met", ev, 1.0),),
                       essential_coverage=1.0, coverage=1.0, score=1.0, not_counted=(),
                       plan=TrainingPlan((), 0.0, (), True))
    assert "none needed" in done.to_text()
    assert "None needed" in done.to_html()
