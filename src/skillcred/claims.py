"""What a credential claims, one claim at a time: the unit that trust is judged on and that gap
analysis counts.

A credential can say several things: each ``credentialSubject`` (there may be several) holds
one or more achievements; each achievement is itself a claim (its ``id``, its
``achievementType``), and each of its alignments to a skill or a qualification is another.
Judging a credential on its first subject or first achievement lets the rest through unjudged
(an issuer trusted for ``Competency`` adds a qualification alignment; a second subject carries
a second achievement). So this module lists *every* claim, and both the verifier's trust and
holder-binding checks and :func:`skillcred.match.match` work on that list -- there is no
second reading of the document.

What is deliberately **not** a claim:

* NLQF / EQF level alignments: they describe the level of a qualification, they attest no skill;
* a qualification alignment (``targetType: ceterms:Credential``) on an achievement that is not a
  diploma: in Open Badges 3.0 it says the achievement is *part of* that qualification, not that
  the holder has it. It is listed in :attr:`CredentialClaims.ignored` with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "DIPLOMA_TYPES",
    "QUALIFICATION_PREFIX",
    "Claim",
    "ClaimKind",
    "CredentialClaims",
    "credential_claims",
]

QUALIFICATION_PREFIX = "qualification:"
#: Open Badges 3.0 achievement types that award a qualification (a diploma or degree)
DIPLOMA_TYPES = frozenset({"Diploma", "Degree", "AssociateDegree", "BachelorDegree", "MasterDegree",
                           "DoctoralDegree", "SecondarySchoolDiploma", "GeneralEducationDevelopment"})
#: alignments that describe a level, not a skill
LEVEL_FRAMEWORKS = frozenset({"NLQF", "EQF"})
QUALIFICATION_TARGET = "ceterms:Credential"

ClaimKind = Literal["achievement", "skill", "qualification"]


@dataclass(frozen=True, init=False)
class Claim:
    """One thing a credential says about one subject.

    ``ref`` is what a job profile's requirement can name: the achievement id, the skill URI
    (``targetUrl``), or ``qualification:CODE``; ``None`` for an achievement without an id (it
    is still judged for trust, it just cannot meet a requirement by itself).
    """

    kind: ClaimKind
    ref: str | None
    level: int | None
    subject: str | None
    subject_index: int
    achievement: str  # the achievement's display name
    achievement_type: str | None
    framework: str | None = None  # targetFramework, as the issuer wrote it
    url: str | None = None  # targetUrl
    label: str | None = None  # targetName
    from_diploma: bool = False

    def __init__(self, kind: ClaimKind, ref: str | None, level: int | None, subject: str | None,
                 subject_index: int, achievement: str, achievement_type: str | None,
                 framework: str | None = None, url: str | None = None, label: str | None = None,
                 from_diploma: bool = False) -> None:
        # The dataclass's own frozen ``__init__`` sets each field through ``object.__setattr__``;
        # the verifier makes about seven claims per credential, and that was a tenth of its own
        # work. The same fields in the same instance dict (still frozen: assigning raises), in
        # step with the declarations above (tests/test_verify_once.py checks the signature).
        d = self.__dict__
        d["kind"] = kind
        d["ref"] = ref
        d["level"] = level
        d["subject"] = subject
        d["subject_index"] = subject_index
        d["achievement"] = achievement
        d["achievement_type"] = achievement_type
        d["framework"] = framework
        d["url"] = url
        d["label"] = label
        d["from_diploma"] = from_diploma

    def describe(self) -> str:
        """A short phrase naming the claim for reports ("skill X (framework F)")."""
        if self.kind == "achievement":
            return f"achievement {self.achievement} ({self.achievement_type or 'no type'})"
        what = self.label or self.url or self.ref or "?"
        fw = f", framework {self.framework}" if self.framework else ""
        if self.kind == "qualification":
            return f"qualification {what}{fw}"
        return f"skill {what}{fw}"


@dataclass(frozen=True)
class CredentialClaims:
    claims: tuple[Claim, ...]
    #: alignments that claim nothing countable, with why (shown as "not counted")
    ignored: tuple[tuple[str, str], ...]


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _level(subject: Mapping[str, Any], achievement: Mapping[str, Any]) -> int | None:
    """The level a subject's results give on the achievement's rubric (or a numeric value)."""
    # ``type(x) is dict or``: as in credential_claims, the ABC check only for what is not a dict
    levels = {lvl.get("id"): _int(lvl.get("level"))
              for rd in _as_list(achievement.get("resultDescription")) if type(rd) is dict or isinstance(rd, Mapping)
              for lvl in _as_list(rd.get("rubricCriterionLevel")) if type(lvl) is dict or isinstance(lvl, Mapping)}
    own = {rd.get("id") for rd in _as_list(achievement.get("resultDescription"))
           if type(rd) is dict or isinstance(rd, Mapping)}
    level: int | None = None
    for r in _as_list(subject.get("result")):
        if type(r) is not dict and not isinstance(r, Mapping):
            continue
        # a result that names its description belongs to the achievement that defines it
        rd = r.get("resultDescription")
        if rd is not None and own and rd not in own:
            continue
        level = levels.get(r.get("achievedLevel")) or _int(r.get("value")) or level
    return level


def credential_claims(document: Mapping[str, Any]) -> CredentialClaims:
    """Every claim of every subject and achievement of ``document`` (a verified credential's
    JSON; for a selectively disclosed one, what was disclosed)."""
    claims: list[Claim] = []
    ignored: list[tuple[str, str]] = []
    # ``type(x) is dict or isinstance(x, Mapping)``: the same test, without the ABC machinery
    # for the plain dicts parsed JSON is made of (the verifier runs this for every credential)
    for si, subject in enumerate(_as_list(document.get("credentialSubject"))):
        if type(subject) is not dict and not isinstance(subject, Mapping):
            continue
        sid = subject.get("id")
        if not isinstance(sid, str):
            sid = None
        for ach in _as_list(subject.get("achievement")):
            if type(ach) is not dict and not isinstance(ach, Mapping):
                continue
            name = str(ach.get("name") or document.get("name") or "credential")
            atype = ach.get("achievementType")
            if not isinstance(atype, str):
                atype = None
            level = _level(subject, ach)
            diploma = atype in DIPLOMA_TYPES
            aid = ach.get("id")
            claims.append(Claim(kind="achievement", ref=aid if isinstance(aid, str) else None, level=level,
                                subject=sid, subject_index=si, achievement=name, achievement_type=atype,
                                from_diploma=diploma))
            for a in _as_list(ach.get("alignment")):
                if type(a) is not dict and not isinstance(a, Mapping):
                    continue
                framework = a.get("targetFramework")
                if not isinstance(framework, str):
                    framework = None
                url = a.get("targetUrl")
                if not isinstance(url, str):
                    url = None
                label = a.get("targetName")
                if not isinstance(label, str):
                    label = None
                if a.get("targetType") == QUALIFICATION_TARGET:
                    code = a.get("targetCode")
                    if not isinstance(code, str | int) or isinstance(code, bool) or not str(code):
                        ignored.append((f"qualification {label or url or '?'}", "a qualification alignment "
                                        "without a targetCode"))
                        continue
                    if not diploma:
                        ignored.append((f"qualification {label or code}",
                                        f"a {atype or 'typeless'} achievement aligned to a qualification is part "
                                        "of it; only a diploma awards a qualification"))
                        continue
                    claims.append(Claim(kind="qualification", ref=QUALIFICATION_PREFIX + str(code), level=None,
                                        subject=sid, subject_index=si, achievement=name, achievement_type=atype,
                                        framework=framework, url=url, label=label, from_diploma=diploma))
                elif framework in LEVEL_FRAMEWORKS:
                    continue
                elif url is not None:
                    claims.append(Claim(kind="skill", ref=url, level=None if diploma else level, subject=sid,
                                        subject_index=si, achievement=name, achievement_type=atype,
                                        framework=framework, url=url, label=label, from_diploma=diploma))
    return CredentialClaims(tuple(claims), tuple(ignored))
