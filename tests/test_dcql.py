"""DCQL from a job profile and its evaluation (skillcred.oid4vp): the query names only what
evidences the vacancy; a credential answers a query only with the values asked; the pointers to
disclose are the matched places; required sets are told apart from optional ones."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from oid4vp_support import LASSER
from skillcred._internal.fileio import load_json_object
from skillcred.errors import InvalidArgument
from skillcred.match import JobProfile, Requirement, load_profile
from skillcred.oid4vp import FORMATS, check_query, match_credential, missing_required_sets, query_from_profile
from skillcred.oid4vp._dcql import OB_CREDENTIAL_TYPE, expanded_types

SKILL_A = "http://data.europa.eu/esco/skill/aaaaaaaa-0000-0000-0000-000000000001"
SKILL_B = "http://data.europa.eu/esco/skill/bbbbbbbb-0000-0000-0000-000000000002"
SKILL_OPT = "http://data.europa.eu/esco/skill/cccccccc-0000-0000-0000-000000000003"
ACH_ID = "https://roc.example/achievements/heftruck"


def _profile(*reqs: Requirement) -> JobProfile:
    return JobProfile(title="t", occupation=None, requirements=reqs)


def _req(ref: str, essential: bool = True, level: int | None = None) -> Requirement:
    return Requirement(ref=ref, label=ref.rsplit("/", 1)[-1], level=level, essential=essential, weight=1.0)


def _cred(*urls: str, level: bool = True, ach_id: str | None = None, secret: bool = True) -> dict[str, Any]:
    ach: dict[str, Any] = {"type": ["Achievement"], "name": "Lassen",
                           "alignment": [{"type": ["Alignment"], "targetUrl": u, "targetName": "x",
                                          "targetFramework": "ESCO"} for u in urls]}
    if ach_id:
        ach["id"] = ach_id
    subj: dict[str, Any] = {"id": "did:key:z6Mkh", "type": ["AchievementSubject"], "achievement": ach}
    if level:
        subj["result"] = [{"type": ["Result"], "achievedLevel": "urn:l3"}]
        ach["resultDescription"] = [{"id": "urn:rd", "rubricCriterionLevel": [{"id": "urn:l3", "level": "3"}]}]
    if secret:
        subj["name"] = "Jantje Geheimnaam"
    return {"@context": [], "type": ["VerifiableCredential", "OpenBadgeCredential"], "credentialSubject": subj}


def test_the_query_names_only_the_profiles_refs_and_the_evidence_paths() -> None:
    q = query_from_profile(_profile(_req(SKILL_A, level=3), _req(SKILL_B), _req(SKILL_OPT, essential=False)),
                           formats=("ldp_vc",))
    ids = [cq["id"] for cq in q["credentials"]]
    assert ids == ["essential_ldp_vc", "optional_ldp_vc"]
    essential = q["credentials"][0]
    skill = next(c for c in essential["claims"] if c["id"] == "skill")
    assert skill["values"] == [SKILL_A, SKILL_B] and SKILL_OPT not in json.dumps(essential)
    assert skill["path"] == ["credentialSubject", "achievement", "alignment", None, "targetUrl"]
    paths = {tuple(c["path"]) for c in essential["claims"]}
    # data minimisation: no name, no evidence, no birth date -- only evidence and level paths
    assert all(p[0] == "credentialSubject" and "name" not in p and "evidence" not in p for p in paths)
    assert essential["meta"] == {"type_values": [[OB_CREDENTIAL_TYPE]]}
    assert q["credential_sets"] == [{"options": [["essential_ldp_vc"]], "required": True},
                                    {"options": [["optional_ldp_vc"]], "required": False}]


def test_level_claims_are_asked_only_when_a_requirement_sets_a_level() -> None:
    without = query_from_profile(_profile(_req(SKILL_A)), formats=("ldp_vc",))
    with_level = query_from_profile(_profile(_req(SKILL_A, level=2)), formats=("ldp_vc",))
    assert {c["id"] for c in without["credentials"][0]["claims"]} == {"skill"}
    assert {c["id"] for c in with_level["credentials"][0]["claims"]} == {"skill", "result", "rubric"}


def test_one_query_per_format_and_the_set_offers_each_format() -> None:
    q = query_from_profile(_profile(_req(SKILL_A)))
    assert [cq["format"] for cq in q["credentials"]] == list(FORMATS)
    assert q["credential_sets"][0]["options"] == [[cq["id"]] for cq in q["credentials"]]
    assert "optional" not in json.dumps(q)  # no optional requirement, no optional query


def test_qualification_and_achievement_refs_get_their_own_claims() -> None:
    q = query_from_profile(_profile(_req("qualification:25100"), _req(ACH_ID)), formats=("jwt_vc_json",),
                           raw_requirements=[{"qualification": "25100"}, {"achievement": ACH_ID}])
    claims = {c["id"]: c for c in q["credentials"][0]["claims"]}
    assert claims["qualification"]["values"] == ["25100"]
    assert claims["qualification"]["path"][-1] == "targetCode"
    assert claims["achievement"]["values"] == [ACH_ID]
    assert "skill" not in claims  # the profile said it is an achievement, not a skill


def test_the_example_vacancy_asks_for_its_36_essential_skills() -> None:
    data = load_json_object(LASSER)
    q = query_from_profile(load_profile(LASSER), raw_requirements=data["requirements"])
    check_query(q)
    essential = {r["skill"] for r in data["requirements"] if r.get("essential", True)}
    asked = next(c for c in q["credentials"][0]["claims"] if c["id"] == "skill")["values"]
    assert set(asked) == essential and len(asked) == 36


@pytest.mark.parametrize("formats", [(), ("mso_mdoc",), ("ldp_vc", "nope")])
def test_unknown_or_no_formats_are_refused(formats: tuple[str, ...]) -> None:
    with pytest.raises(InvalidArgument, match="format"):
        query_from_profile(_profile(_req(SKILL_A)), formats=formats)


def test_an_empty_profile_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="no requirements"):
        query_from_profile(_profile())


# -- evaluation -----------------------------------------------------------------------------------

Q = query_from_profile(_profile(_req(SKILL_A, level=3), _req(SKILL_OPT, essential=False)), formats=("vc+sd-jwt",))


def test_a_credential_with_an_asked_skill_answers_and_discloses_only_that_alignment_and_level() -> None:
    found = match_credential(Q, "vc+sd-jwt", _cred("https://other.example/skill", SKILL_A))
    assert [m.query_id for m in found] == ["essential_vc_sd_jwt"]
    assert found[0].disclose == ("/credentialSubject/achievement/alignment/1", "/credentialSubject/result",
                                 "/credentialSubject/achievement/resultDescription")
    assert not any("name" in p for p in found[0].disclose)


def test_without_a_level_the_claim_set_without_it_still_answers() -> None:
    found = match_credential(Q, "vc+sd-jwt", _cred(SKILL_A, level=False))
    assert found[0].disclose == ("/credentialSubject/achievement/alignment/0",)


@pytest.mark.parametrize("doc_change", ["other_skill", "no_alignment", "wrong_type", "skill_as_name"])
def test_credentials_not_evidencing_the_vacancy_answer_nothing(doc_change: str) -> None:
    doc = _cred(SKILL_A)
    if doc_change == "other_skill":
        doc["credentialSubject"]["achievement"]["alignment"][0]["targetUrl"] = SKILL_B
    elif doc_change == "no_alignment":
        del doc["credentialSubject"]["achievement"]["alignment"]
    elif doc_change == "wrong_type":
        doc["type"] = ["VerifiableCredential", "SomethingElse"]
    else:  # the asked URI elsewhere in the credential is not the claim asked for
        doc["credentialSubject"]["achievement"]["alignment"][0]["targetUrl"] = SKILL_B
        doc["credentialSubject"]["achievement"]["name"] = SKILL_A
    assert match_credential(Q, "vc+sd-jwt", doc) == []


def test_the_format_must_be_the_querys() -> None:
    assert match_credential(Q, "ldp_vc", _cred(SKILL_A)) == []
    assert match_credential(Q, "jwt_vc_json", _cred(SKILL_A)) == []


def test_values_match_exactly_not_by_substring_or_type() -> None:
    q = copy.deepcopy(Q)
    assert match_credential(q, "vc+sd-jwt", _cred(SKILL_A + "x")) == []
    assert match_credential(q, "vc+sd-jwt", _cred(SKILL_A.upper())) == []
    doc = _cred(SKILL_A)
    doc["credentialSubject"]["achievement"]["alignment"][0]["targetUrl"] = [SKILL_A]  # a list is not the value
    assert match_credential(q, "vc+sd-jwt", doc) == []


def test_a_subject_list_is_walked() -> None:
    doc = _cred(SKILL_A, level=False)
    doc["credentialSubject"] = [{"id": "did:key:zX"}, doc["credentialSubject"]]
    found = match_credential(Q, "vc+sd-jwt", doc)
    assert found and found[0].disclose == ("/credentialSubject/1/achievement/alignment/0",)


def test_an_optional_skill_answers_the_optional_query() -> None:
    found = match_credential(Q, "vc+sd-jwt", _cred(SKILL_OPT, level=False))
    assert [m.query_id for m in found] == ["optional_vc_sd_jwt"]


def test_expanded_types() -> None:
    assert OB_CREDENTIAL_TYPE in expanded_types({"type": ["VerifiableCredential", "AchievementCredential"]})
    assert expanded_types({"type": "OpenBadgeCredential"}) == {OB_CREDENTIAL_TYPE}
    assert expanded_types({"type": 5}) == set()


def test_missing_required_sets() -> None:
    q = query_from_profile(_profile(_req(SKILL_A), _req(SKILL_OPT, essential=False)),
                           formats=("ldp_vc", "jwt_vc_json"))
    assert missing_required_sets(q, []) == [[["essential_ldp_vc"], ["essential_jwt_vc_json"]]]
    assert missing_required_sets(q, ["optional_ldp_vc"]) != []  # an optional answer does not stand in
    assert missing_required_sets(q, ["essential_jwt_vc_json"]) == []
    bare = {"credentials": [{"id": "a"}, {"id": "b"}]}
    assert missing_required_sets(bare, ["a"]) == [[["b"]]]  # without sets, every query is required


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda q: q.update(credentials=[]), "no credentials"),
    (lambda q: q["credentials"].append(copy.deepcopy(q["credentials"][0])), "used twice"),
    (lambda q: q["credentials"][0].update(format="mso_mdoc"), "not supported"),
    (lambda q: q["credentials"][0].update(id="bad id!"), "no valid id"),
    (lambda q: q["credentials"][0]["claims"][0].update(path=[]), "no path"),
    (lambda q: q["credentials"][0]["claims"][0].update(path=["a", -1]), "not valid"),
    (lambda q: q["credentials"][0]["claims"][0].update(path=["a", True]), "not valid"),
    (lambda q: q["credentials"][0]["claims"][0].update(values="x"), "not a list"),
    (lambda q: q["credentials"][0]["claim_sets"].append(["nope"]), "unknown claim id"),
    (lambda q: q["credential_sets"][0]["options"].append(["nope"]), "unknown credential query"),
    (lambda q: q["credential_sets"][0].update(options=[]), "no options"),
])
def test_check_query_refuses_what_it_cannot_evaluate(mutate: Any, message: str) -> None:
    q = copy.deepcopy(Q)
    mutate(q)
    with pytest.raises(InvalidArgument, match=message):
        check_query(q)


def test_check_query_accepts_what_the_builder_makes() -> None:
    assert check_query(copy.deepcopy(Q)) == Q
