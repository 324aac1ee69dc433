"""``skillcred match``, ``skillcred rank`` and ``skillcred wallet gap`` as an employer and a worker
run them: separate processes, stdin closed, a clean home folder (no default trust list or status
cache picked up by accident).

The credentials and presentations are made with the library (faster, and not what is under test).
Candidates, hand-computed against ``examples/profiles/cnc-verspaner.json`` (ESCO's "computer
numerical control machine operator" as ``profile new`` writes it: 19 essential skills, weight 1;
139 optional ones, weight 0.5; total 88.5; levels set by the employer: program a CNC controller 3,
set up the controller of a machine 3, read standard blueprints 3, operate precision measuring
equipment 2, ensure equipment availability 2), with the example framework and ESCO's hierarchy.
The CNC badge is aligned to ESCO program a CNC controller, set up the controller of a machine,
supply machine with appropriate tools (narrower, in ESCO, than supply machine), tend CNC milling
machine and tend computer numerical control lathe machine (optional); the drawing badge to read
standard blueprints and interpret geometric dimensions and tolerances (optional); the plannen
attestation to ensure equipment availability; the diploma's qualification covers the drawing
skill at level 3:

* Jan: diploma, CNC L3, drawing L2, plannen L2 (+ a revoked and an untrusted credential)
  -> essential met: availability, program, blueprints (diploma), set up, tools, supply machine
  (ESCO) = 6/19; optional met: GD&T, milling, lathe; score (6 + 1.5) / 88.5 = 7.5/88.5
* Fatima: CNC L4, drawing L4 -> program, blueprints, set up, tools, supply machine = 5/19;
  optional the same 3; score (5 + 1.5) / 88.5 = 6.5/88.5
* Sem: CNC L2 -> program and set up partial (2 of 3), tools and supply machine met;
  essential (2/3 + 2/3 + 1 + 1) / 19 = 10/57; optional milling, lathe; score (10/3 + 1) / 88.5
* Kees: plannen L2 only -> availability: essential 1/19, score 1/88.5
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from pool_support import issue_class
from skillcred._internal.fileio import dump_json, load_json_object
from skillcred.did import DidResolver
from skillcred.issuer import load_achievement
from support.cli import CliResult, home_env, run_cli

EXAMPLES = REPO / "examples"
ACHIEVEMENTS = EXAMPLES / "achievements"
PROFILE = EXAMPLES / "profiles" / "cnc-verspaner.json"
FRAMEWORK = EXAMPLES / "frameworks" / "metaal-vaardigheden.json"
CATALOG = EXAMPLES / "catalogs" / "metaal-opleidingen.json"
DOMAIN = "werving.metaalbedrijf-de-vries.example"
ROC = "https://skills.roc-techniek.example/"
ESCO = "http://data.europa.eu/esco/skill/"
ESCO_CNC = ESCO + "bf942c60-8539-4951-83ee-63f770da1cb8"  # program a CNC controller
ESCO_PLANNEN = ESCO + "e49f4158-9d4c-425d-bf32-dfe89b19840a"  # plan
# labels of the example profile (ESCO's)
AVAIL, PROGRAM, BLUEPRINTS = "ensure equipment availability", "program a CNC controller", "read standard blueprints"
SETUP, TOOLS, SUPPLY = "set up the controller of a machine", "supply machine with appropriate tools", "supply machine"
GDT, MILL = "interpret geometric dimensions and tolerances", "tend CNC milling machine"
LATHE, MEASURE = "tend computer numerical control lathe machine", "operate precision measuring equipment"
MANUF = "manufacturing processes"
JAN_MET = {AVAIL, PROGRAM, BLUEPRINTS, SETUP, TOOLS, SUPPLY, GDT, MILL, LATHE}
JAN_PLAN = ["cnc-werkplaats", "combi-meten-kwaliteit", "cam-programmeren", "onderhoud-storingen"]  # 244 h
ACK = "This service uses the ESCO classification of the European Commission."
# labels of hand-written profiles below (the ROC's skills)
CNC, VERSPANEN, TEKENING = "CNC-programmeren", "Verspanen", "Technische tekeningen lezen"
VEILIG, DIPLOMA, PLANNEN = "Veilig werken (VCA)", "MBO-diploma Verspaner", "Plannen en organiseren"


@dataclass
class Files:
    root: Path
    home: Path
    trust: Path
    status: list[Path]
    apps: Path  # the applications folder, with challenges.json
    challenges: dict[str, dict[str, str]]
    jan_wallet: Path
    ids: dict[str, str]
    roc_did_json: Path


def achievement(name: str) -> Any:
    return load_achievement(ACHIEVEMENTS / name)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Files]:
    root = tmp_path_factory.mktemp("cli-match")
    issued = issue_class(root, root / "employer" / "trust.json")
    wallets, docs, ids, status, tl = issued.wallets, issued.docs, issued.ids, issued.status, issued.trust
    assert len(status) == 6  # revocation + suspension list of each institute
    roc_did_json = issued.roc_did_json

    # the worker keeps Jan's four good credentials in his wallet (did:web document remembered)
    jan = wallets["jan"]
    jan.add([(f"c{i}", d) for i, d in enumerate(docs["jan"][:4])],
            resolver=DidResolver([load_json_object(roc_did_json)]))
    jan.remember_did_documents([load_json_object(roc_did_json)])

    apps = root / "applications"
    apps.mkdir()
    challenges: dict[str, dict[str, str]] = {}
    for who, w in wallets.items():
        ch = f"challenge-for-{who}-7f3a9c"
        vp = w.present(docs[who], key=w.holder_key(), challenge=ch, domain=DOMAIN)
        (apps / f"{who}.json").write_bytes(dump_json(vp))
        challenges[f"{who}.json"] = {"challenge": ch, "domain": DOMAIN}
    # Jan's presentation with its id changed after signing: the best credentials, tampered
    tampered = load_json_object(apps / "jan.json")
    tampered["id"] = "urn:uuid:00000000-0000-4000-8000-000000000bad"
    (apps / "a-tampered.json").write_bytes(dump_json(tampered))
    challenges["a-tampered.json"] = dict(challenges["jan.json"])
    # Fatima's presentation, signed for another employer's challenge
    replay = wallets["fatima"].present(docs["fatima"], key=wallets["fatima"].holder_key(),
                                       challenge="someone-elses-challenge", domain=DOMAIN)
    (apps / "b-replayed.json").write_bytes(dump_json(replay))
    challenges["b-replayed.json"] = {"challenge": "challenge-for-b-replayed", "domain": DOMAIN}
    (apps / "challenges.json").write_bytes(dump_json(challenges))

    home = root / "home"
    home.mkdir()
    yield Files(root, home, tl.path, status, apps, challenges, jan.root, ids, roc_did_json)  # type: ignore[arg-type]


def run(files: Files, *args: str | Path) -> CliResult:
    proc = run_cli(*args, env=home_env(files.home))
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


def status_args(files: Files) -> list[str]:
    return [x for p in files.status for x in ("--status-list", str(p))]


def match_args(files: Files, who: str = "jan", *extra: str | Path, profile: Path = PROFILE) -> list[str | Path]:
    ch = files.challenges[f"{who}.json"]
    return ["match", files.apps / f"{who}.json", "--profile", profile, "--trust", files.trust,
            "--challenge", ch["challenge"], "--domain", ch["domain"], "--framework", FRAMEWORK,
            *status_args(files), *extra]


def one_object(proc: CliResult) -> dict[str, Any]:
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    for r in data["requirements"]:
        assert {"skill", "status", "credential", "label"} <= set(r)
        assert r["status"] in ("met", "partial", "missing")
    assert 0 <= data["essential_coverage"] <= 1
    return data


def statuses(data: dict[str, Any]) -> dict[str, str]:
    return {r["label"]: r["status"] for r in data["requirements"]}


def jan_as_expected(data: dict[str, Any]) -> None:
    """Jan against the example vacancy: the nine requirements above met, the other 149 missing."""
    st = statuses(data)
    assert len(st) == 158
    assert {label for label, s in st.items() if s == "met"} == JAN_MET
    assert {s for label, s in st.items() if label not in JAN_MET} == {"missing"}


def write_profile(path: Path, requirements: list[dict[str, Any]], **top: Any) -> Path:
    doc = {"type": "SkillcredJobProfile", "title": "Werkvoorbereider CNC", "requirements": requirements, **top}
    path.write_bytes(dump_json(doc))
    return path


# -- match ------------------------------------------------------------------------------------------


def test_match_json_with_gaps_exits_1(files: Files) -> None:
    proc = run(files, *match_args(files, "jan", "--catalog", CATALOG, "--json"))
    assert proc.returncode == 1, proc.stderr
    data = one_object(proc)
    jan_as_expected(data)
    req = {r["label"]: r for r in data["requirements"]}
    assert req[PROGRAM]["skill"] == ESCO_CNC and req[PROGRAM]["credential"] == files.ids["cnc"]
    assert req[PROGRAM]["inference"] == []  # the badge is aligned to that very ESCO skill
    assert req[SUPPLY]["inference"] == [
        "narrower counts for broader (ESCO skill hierarchy): supply machine with appropriate tools < supply machine"]
    assert req[BLUEPRINTS]["credential"] == files.ids["diploma"] and req[BLUEPRINTS]["level"] == 3
    assert req[BLUEPRINTS]["inference"][1].startswith("equivalent: Technische tekeningen lezen <" + ROC)
    assert req[MEASURE]["credential"] is None
    assert data["essential_coverage"] == pytest.approx(6 / 19, abs=1e-4)
    assert data["score"] == pytest.approx(7.5 / 88.5, abs=1e-4)
    reasons = {x["credential"]: x["reason"] for x in data["not_counted"]}
    assert set(reasons) == {files.ids["revoked"], files.ids["untrusted"]}
    assert reasons[files.ids["revoked"]].startswith("status:") and "revoked" in reasons[files.ids["revoked"]]
    assert "not in the trust list" in reasons[files.ids["untrusted"]]
    assert [m["id"] for m in data["plan"]["modules"]] == JAN_PLAN
    assert data["plan"]["total_hours"] == 244 and data["plan"]["unclosable"] == [MANUF]
    assert data["verification"]["presentation_verified"] is True


def test_match_exits_0_when_every_essential_requirement_is_met(files: Files, tmp_path: Path) -> None:
    """Jan's own job: CNC (the ESCO skill, his badge), Verspanen (the ROC's; his badge's ROC skill
    is narrower), drawing L3 (the diploma covers it), the diploma, ESCO plan (his attestation)."""
    profile = write_profile(tmp_path / "werkvoorbereider.json", [
        {"skill": ESCO_CNC, "label": CNC, "level": 3, "weight": 3},
        {"skill": ROC + "verspanen", "label": VERSPANEN, "level": 3},
        {"skill": ROC + "technisch-tekeninglezen", "label": TEKENING, "level": 3},
        {"qualification": "25751", "label": DIPLOMA},
        {"skill": ESCO_PLANNEN, "label": PLANNEN, "level": 2, "essential": False},
        {"skill": ROC + "veilig-werken", "label": VEILIG, "level": 1, "essential": False},
    ])
    proc = run(files, *match_args(files, "jan", "--catalog", CATALOG, "--json", profile=profile))
    assert proc.returncode == 0, proc.stderr
    data = one_object(proc)
    assert data["essential_coverage"] == 1.0
    assert statuses(data)[VEILIG] == "missing"  # optional: no reason to fail
    assert data["score"] == pytest.approx(7 / 8, abs=1e-4)  # weights 3+1+1+1+1+1 = 8, Veilig 1 missing
    assert data["plan"]["modules"] == [] and data["plan"]["unclosable"] == []


@pytest.mark.parametrize("breakage", ["no-type", "two-references", "level-zero", "not-json"])
def test_match_refuses_an_unusable_profile_with_exit_2(files: Files, tmp_path: Path, breakage: str) -> None:
    path = tmp_path / f"profile-{breakage}.json"
    good = {"skill": ESCO_CNC, "label": CNC, "level": 3}
    if breakage == "no-type":
        path.write_bytes(dump_json({"title": "x", "requirements": [good]}))
    elif breakage == "two-references":
        write_profile(path, [{**good, "qualification": "25751"}])
    elif breakage == "level-zero":
        write_profile(path, [{**good, "level": 0}])
    else:
        path.write_text('{"type": "SkillcredJobProfile", "requirements": [', encoding="utf-8")
    proc = run(files, *match_args(files, "jan", "--json", profile=path))
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert str(path) in proc.stderr
    assert proc.stderr.startswith("skillcred: error:") and len(proc.stderr.strip().splitlines()) == 1


def test_match_with_the_wrong_challenge_counts_nothing(files: Files) -> None:
    args = match_args(files, "jan", "--json")
    args[args.index("--challenge") + 1] = "challenge-for-fatima-7f3a9c"
    proc = run(files, *args)
    assert proc.returncode == 1
    data = one_object(proc)
    assert data["verification"]["presentation_verified"] is False
    assert set(statuses(data).values()) == {"missing"}
    assert data["essential_coverage"] == 0 and data["score"] == 0
    assert len(data["not_counted"]) == 6  # every credential of the presentation


def test_match_of_a_bare_credential_counts_nothing(files: Files, tmp_path: Path) -> None:
    """A credential on its own proves nothing about who shows it: not a presentation."""
    bare = tmp_path / "cnc.json"
    bare.write_bytes(dump_json(load_json_object(files.apps / "jan.json")["verifiableCredential"][1]))
    args = match_args(files, "jan", "--json")
    args[1] = bare
    proc = run(files, *args)
    assert proc.returncode == 1, proc.stderr
    data = one_object(proc)
    assert data["verification"]["presentation_verified"] is False
    assert "not a signed presentation" in data["verification"]["failure"]
    assert set(statuses(data).values()) == {"missing"}
    assert [x["credential"] for x in data["not_counted"]] == [files.ids["cnc"]]


def test_match_text_report_names_the_inference(files: Files) -> None:
    proc = run(files, *match_args(files, "jan", "--catalog", CATALOG))
    assert proc.returncode == 1
    out = proc.stdout
    assert "essential coverage 32%" in out  # 6/19 = 31.6 %
    assert "via equivalent: Technische tekeningen lezen <" in out
    assert ("via narrower counts for broader (ESCO skill hierarchy): supply machine with appropriate tools"
            " < supply machine") in out
    assert "via diploma: qualification 25751 covers Technische tekeningen lezen" in out
    assert "MISSING  operate precision measuring equipment (level 2) [essential]" in out
    assert "Training plan (244 hours)" in out and "Instroomtraject: meten + kwaliteit (SPC)" in out
    assert "! no module in the catalog closes: manufacturing processes" in out
    assert "Not counted" in out


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data


def assert_self_contained(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    names = [t for t, _ in parser.tags]
    assert "script" not in names and "<script" not in page.lower()
    for bad in ("iframe", "object", "embed", "link", "base", "form"):
        assert bad not in names
    for tag, attrs in parser.tags:
        for attr in ("src", "href", "srcset", "action", "data", "poster"):
            value = (attrs.get(attr) or "").strip().lower()
            assert not re.match(r"^(https?:|//|ftp:)", value), (tag, attr, value)
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
    assert "url(" not in parser.style and "@import" not in parser.style
    return parser


def test_match_html_is_self_contained(files: Files, tmp_path: Path) -> None:
    out = tmp_path / "jan-gap.html"
    proc = run(files, *match_args(files, "jan", "--catalog", CATALOG, "--json", "--html", out))
    assert proc.returncode == 1, proc.stderr
    one_object(proc)  # --html does not disturb the JSON on stdout
    page = out.read_text(encoding="utf-8")
    assert_self_contained(page)
    for label in (PROGRAM, SUPPLY, BLUEPRINTS, MEASURE, MANUF, LATHE):
        assert label in page
    assert "Instroomtraject: meten + kwaliteit (SPC)" in page
    assert ACK in page  # ESCO's reuse conditions: the gap report names ESCO skills


def test_match_html_escapes_what_the_profile_says(files: Files, tmp_path: Path) -> None:
    profile = write_profile(tmp_path / "evil.json", [
        {"skill": ESCO_CNC, "label": '<img src="https://evil.example/p.png" onerror="alert(1)">', "level": 3},
        {"skill": ROC + "meten-kwaliteit", "label": "<script src=//evil.example/x.js></script>", "level": 2},
    ], title="<script>alert('vacature')</script>")
    out = tmp_path / "evil.html"
    proc = run(files, *match_args(files, "jan", "--html", out, profile=profile))
    assert proc.returncode == 1, proc.stderr
    page = out.read_text(encoding="utf-8")
    parser = assert_self_contained(page)
    assert "img" not in [t for t, _ in parser.tags]
    assert "&lt;script&gt;alert(" in page


# -- rank -------------------------------------------------------------------------------------------


def rank(files: Files, folder: Path, *extra: str | Path) -> CliResult:
    return run(files, "rank", folder, "--profile", PROFILE, "--trust", files.trust, "--framework", FRAMEWORK,
               "--domain", DOMAIN, *status_args(files), "--json", *extra)


def test_rank_puts_the_best_first_and_the_unverified_last(files: Files) -> None:
    proc = rank(files, files.apps)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert isinstance(rows, list)
    assert "Ranking" not in proc.stderr  # no progress bar off a terminal; stdout is only the JSON
    by_file = {r["file"]: r for r in rows}
    assert [r["file"] for r in rows[:4]] == ["jan.json", "fatima.json", "sem.json", "kees.json"]
    assert {r["file"] for r in rows[4:]} == {"a-tampered.json", "b-replayed.json"}
    assert "challenges.json" not in by_file

    for f in ("jan.json", "fatima.json", "sem.json", "kees.json"):
        assert by_file[f]["presentation_verified"] is True and by_file[f]["challenge_checked"] is True
    assert by_file["jan.json"]["essential_coverage"] == pytest.approx(6 / 19, abs=1e-4)
    assert by_file["jan.json"]["score"] == pytest.approx(7.5 / 88.5, abs=1e-4)
    assert by_file["fatima.json"]["essential_coverage"] == pytest.approx(5 / 19, abs=1e-4)
    assert by_file["fatima.json"]["score"] == pytest.approx(6.5 / 88.5, abs=1e-4)
    assert by_file["sem.json"]["essential_coverage"] == pytest.approx(10 / 57, abs=1e-4)
    assert by_file["sem.json"]["score"] == pytest.approx((10 / 3 + 1) / 88.5, abs=1e-4)
    assert by_file["kees.json"]["essential_coverage"] == pytest.approx(1 / 19, abs=1e-4)
    assert by_file["kees.json"]["score"] == pytest.approx(1 / 88.5, abs=1e-4)
    jan_as_expected(by_file["jan.json"])
    assert len(by_file["jan.json"]["not_counted"]) == 2  # revoked + untrusted, listed, not counted

    # a tampered copy of the best presentation: shown, not ranked (after Kees, who has nothing)
    tampered = by_file["a-tampered.json"]
    assert tampered["presentation_verified"] is False
    assert tampered["verification_failure"].startswith("presentation.")
    assert "NOT VERIFIED" in tampered["summary"]
    replayed = by_file["b-replayed.json"]
    assert replayed["presentation_verified"] is False
    assert "challenge" in replayed["verification_failure"]


def test_rank_text_marks_unverified_candidates(files: Files) -> None:
    proc = run(files, "rank", files.apps, "--profile", PROFILE, "--trust", files.trust, "--framework", FRAMEWORK,
               *status_args(files))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Ranking for CNC-verspaner (m/v): 6 candidate(s)")
    assert lines[1].lstrip().startswith("1. jan.json") and lines[2].lstrip().startswith("2. fatima.json")
    assert all("NOT VERIFIED" in line for line in lines[5:7])


def test_rank_never_ranks_something_that_is_not_a_presentation(files: Files, tmp_path: Path) -> None:
    """A bare credential (no holder signature, no challenge) or a broken file in the folder is
    shown as not verified, after every verified candidate."""
    folder = tmp_path / "apps"
    folder.mkdir()
    for name in ("kees.json",):
        (folder / name).write_bytes((files.apps / name).read_bytes())
    jan_vp = load_json_object(files.apps / "jan.json")
    (folder / "a-bare-credential.json").write_bytes(dump_json(jan_vp["verifiableCredential"][1]))
    (folder / "b-broken.json").write_text("{not json", encoding="utf-8")
    (folder / "c-not-a-vc.json").write_bytes(dump_json({"hello": "world"}))
    (folder / "challenges.json").write_bytes(dump_json({
        "kees.json": files.challenges["kees.json"], "a-bare-credential.json": files.challenges["jan.json"],
        "b-broken.json": files.challenges["jan.json"], "c-not-a-vc.json": files.challenges["jan.json"]}))
    proc = rank(files, folder)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert rows[0]["file"] == "kees.json"
    assert [r["presentation_verified"] for r in rows] == [True, False, False, False]
    assert all(r["verification_failure"] for r in rows[1:])


def test_rank_without_challenges_refuses_unless_told_and_then_says_they_are_not_checked(files: Files,
                                                                                        tmp_path: Path) -> None:
    folder = tmp_path / "apps"
    folder.mkdir()
    for name in ("jan.json", "sem.json"):
        (folder / name).write_bytes((files.apps / name).read_bytes())
    proc = rank(files, folder)  # the challenge check cannot run: refused, not silently dropped
    assert proc.returncode == 2 and "--unsafe-no-challenge" in proc.stderr and not proc.stdout
    proc = rank(files, folder, "--unsafe-no-challenge")
    assert proc.returncode == 0, proc.stderr
    assert "UNSAFE" in proc.stderr and "without a challenge" in proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["file"] for r in rows] == ["jan.json", "sem.json"]
    assert [r["challenge_checked"] for r in rows] == [False, False]


def test_rank_with_a_challenge_file_elsewhere(files: Files, tmp_path: Path) -> None:
    """--challenge-file: a presentation the file does not name is not verified (no challenge)."""
    folder = tmp_path / "apps"
    folder.mkdir()
    for name in ("jan.json", "fatima.json"):
        (folder / name).write_bytes((files.apps / name).read_bytes())
    chal = tmp_path / "challenges-elsewhere.json"
    chal.write_bytes(dump_json({"fatima.json": files.challenges["fatima.json"]["challenge"]}))
    proc = rank(files, folder, "--challenge-file", chal)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [(r["file"], r["presentation_verified"]) for r in rows] == [("fatima.json", True), ("jan.json", False)]
    assert "challenge" in rows[1]["verification_failure"]


# -- the worker's own gap analysis ----------------------------------------------------------------


def test_wallet_gap_for_the_worker(files: Files) -> None:
    proc = run(files, "wallet", "gap", "--wallet", files.jan_wallet, "--profile", PROFILE, "--catalog", CATALOG,
               "--framework", FRAMEWORK, "--json")
    assert proc.returncode == 0, proc.stderr
    data = one_object(proc)
    jan_as_expected(data)
    assert data["essential_coverage"] == pytest.approx(6 / 19, abs=1e-4)
    assert data["score"] == pytest.approx(7.5 / 88.5, abs=1e-4)
    assert [m["id"] for m in data["plan"]["modules"]] == JAN_PLAN
    assert data["not_counted"] == []
    assert "revocation status and issuer trust are not checked" in proc.stderr

    text = run(files, "wallet", "gap", "--wallet", files.jan_wallet, "--profile", PROFILE, "--catalog", CATALOG,
               "--framework", FRAMEWORK)
    assert text.returncode == 0, text.stderr
    assert "Training plan (244 hours)" in text.stdout
    assert "MISSING  operate precision measuring equipment (level 2) [essential]" in text.stdout


def test_wallet_gap_with_a_bad_catalog_exits_2(files: Files, tmp_path: Path) -> None:
    bad = copy.deepcopy(load_json_object(CATALOG))
    bad["modules"][0]["durationHours"] = "forty"
    path = tmp_path / "catalog.json"
    path.write_bytes(dump_json(bad))
    proc = run(files, "wallet", "gap", "--wallet", files.jan_wallet, "--profile", PROFILE, "--catalog", path)
    assert proc.returncode == 2
    assert str(path) in proc.stderr and proc.stdout == ""
