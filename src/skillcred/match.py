"""Lay a skills passport next to a vacancy: what someone can already do, what is missing,
and which training modules close the gap at the least total duration.

Only :class:`~skillcred.verify.VerifiedCredential` objects count: the verifier is the only
thing that makes them, so gap analysis over unverified claims is a type error rather than a
review comment. Credentials that failed verification are passed in as ``not_counted`` and
listed with their reason.

Evidence and inference (each step is named in the result so a person can follow it):

* a credential's achievement id, and each skill it is aligned to, at the achieved level;
* **equivalence**: a skill URI the framework declares equivalent (institute URI = ESCO-style);
* **narrower**: a credential for a narrower skill counts towards a broader requirement (the
  framework's broader links, and ESCO's skill pillar hierarchy when a taxonomy is given: see
  :func:`load_framework`); every equivalence on the way is a step of its own;
* **diploma**: a diploma counts for the skills its qualification covers, at the level the
  framework gives (or its own skill alignments, level not stated).

Scores: a requirement earns 1 when met, ``have/required`` when partly met, 0 when missing.
``essential_coverage`` is the mean over essential requirements; ``score`` is the weighted mean
over all requirements. Candidates rank by essential coverage, then score.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from skillcred._internal.fileio import load_json_object
from skillcred._internal.textsafe import bdi, for_html, for_terminal
from skillcred._internal.timeutil import format_datetime, utcnow
from skillcred.claims import QUALIFICATION_PREFIX, Claim
from skillcred.errors import InvalidArgument
from skillcred.schemas import SCHEMA_BASE, validate
from skillcred.verify.report import VerifiedCredential, VerifiedPresentation

if TYPE_CHECKING:  # skillcred.esco is imported only by whoever passes a taxonomy in
    from skillcred.esco import Taxonomy

__all__ = [
    "Catalog",
    "Evidence",
    "Framework",
    "JobProfile",
    "MatchReport",
    "Module",
    "PlannedModule",
    "Requirement",
    "RequirementResult",
    "Status",
    "TrainingPlan",
    "claims_evidence",
    "load_catalog",
    "load_framework",
    "load_profile",
    "match",
    "match_evidence",
]

PROFILE_SCHEMA = SCHEMA_BASE + "job-profile.json"
FRAMEWORK_SCHEMA = SCHEMA_BASE + "skill-framework.json"
CATALOG_SCHEMA = SCHEMA_BASE + "training-catalog.json"
ESCO_PREFIX = "http://data.europa.eu/esco/"  # = skillcred.esco.ESCO_URI_PREFIX
ESCO_ACKNOWLEDGEMENT = "This service uses the ESCO classification of the European Commission."  # = skillcred.esco's
MAX_EXACT_GAPS = 20

Status = Literal["met", "partial", "missing"]


@dataclass(frozen=True)
class Requirement:
    ref: str  # a skill URI, an achievement id, or "qualification:CODE"
    label: str
    level: int | None
    essential: bool
    weight: float


@dataclass(frozen=True)
class JobProfile:
    title: str
    occupation: str | None
    requirements: tuple[Requirement, ...]


@dataclass(frozen=True)
class Module:
    id: str
    name: str
    kind: str | None
    provider: str | None
    hours: float
    teaches: tuple[tuple[str, int | None], ...]


@dataclass(frozen=True)
class Catalog:
    modules: tuple[Module, ...]


@dataclass
class Framework:
    """One or more framework files merged: labels, broader links, equivalences, qualifications;
    and, when ``esco`` is set, ESCO's skill pillar hierarchy (broader skills and skill groups)
    and labels under them. A framework file then only adds what ESCO does not say: an
    institute's crosswalk (equivalences) to ESCO, qualification coverage, its own skills."""

    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    broader: dict[str, set[str]] = field(default_factory=dict)
    _parent: dict[str, str] = field(default_factory=dict)
    qualifications: dict[str, list[tuple[str, int | None]]] = field(default_factory=dict)
    esco: Taxonomy | None = None
    _chains: dict[str, list[list[tuple[str, str]]]] = field(default_factory=dict, repr=False)
    _supporters: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def _find(self, x: str) -> str:
        root = x
        while self._parent.get(root, root) != root:
            root = self._parent[root]
        self._parent[x] = root
        return root

    def equate(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)
        self._chains.clear()
        self._supporters.clear()

    def _members(self, x: str) -> list[str]:
        """``x`` and every URI declared equivalent to it (``x`` first)."""
        root = self._find(x)
        return [x, *sorted(k for k in self._parent if k != x and self._find(k) == root)]

    def equivalent(self, a: str, b: str) -> bool:
        return a == b or self._find(a) == self._find(b)

    def label(self, skill: str, lang: str = "nl") -> str | None:
        """The skill's own label (a framework's, else ESCO's; English where ESCO has none in
        ``lang``), else the label of a URI declared equivalent."""
        if skill not in self.labels and self.esco is not None and skill.startswith(ESCO_PREFIX):
            own = self.esco.label(skill, lang)
            if own is not None:
                return own
        for s in [skill, *[k for k in self.labels if self.equivalent(k, skill)]]:
            if s in self.labels:
                lbl = self.labels[s]
                return lbl.get(lang) or next(iter(lbl.values()))
        return None

    def broader_steps(self, skill: str) -> list[list[tuple[str, str]]]:
        """Every path from ``skill`` up to an ancestor, shortest first, each step named:
        ``("start", skill)``, then ``("equivalent", uri)`` where the path moves to a URI declared
        equivalent, ``("broader", uri)`` for a framework's broader link and ``("esco", uri)`` for
        one of ESCO's skill pillar. Cached per skill (the framework is not changed while matching)."""
        if skill in self._chains:
            return self._chains[skill]
        paths: list[list[tuple[str, str]]] = []
        queue: deque[list[tuple[str, str]]] = deque([[("start", skill)]])
        seen = {skill}
        while queue:
            path = queue.popleft()
            node = path[-1][1]
            for m in self._members(node):
                ups = [(p, "broader") for p in sorted(self.broader.get(m, ()))]
                if self.esco is not None and m.startswith(ESCO_PREFIX):
                    ups += [(p, "esco") for p in self.esco.broader(m)]
                for p, how in ups:
                    if p in seen:
                        continue
                    seen.add(p)
                    steps = [*path, *([("equivalent", m)] if m != node else []), (how, p)]
                    paths.append(steps)
                    queue.append(steps)
        self._chains[skill] = paths
        return paths

    def supporters(self, ref: str) -> set[str]:
        """Every reference whose evidence counts towards ``ref`` (``ref`` included): the exact
        inverse of :meth:`broader_steps` plus equivalence, so ``x in supporters(r)`` exactly
        when :func:`match` would link evidence for ``x`` to a requirement for ``r``. Lets a
        store of claims (the talent pool) select candidates by an index on the reference
        instead of grading everyone. A qualification is supported only by itself."""
        if ref.startswith(QUALIFICATION_PREFIX):
            return {ref}
        if ref in self._supporters:
            return self._supporters[ref]
        below: dict[str, set[str]] = {}
        for child, parents in self.broader.items():
            for p in parents:
                below.setdefault(p, set()).add(child)
        found: set[str] = set()
        queue: deque[str] = deque()
        for m in self._members(ref):
            if m not in found:
                found.add(m)
                queue.append(m)
        while queue:
            node = queue.popleft()
            downs = set(below.get(node, ()))
            if self.esco is not None and node.startswith(ESCO_PREFIX):
                downs.update(self.esco.narrower(node))
            for d in downs:
                for m in self._members(d):
                    if m not in found and not m.startswith(QUALIFICATION_PREFIX):
                        found.add(m)
                        queue.append(m)
        self._supporters[ref] = found
        return found

    def broader_chain(self, skill: str) -> list[list[str]]:
        """Every path skill -> ... -> ancestor through ``broader`` links (the framework's and
        ESCO's); an equivalent URI the path passes through is in it, so no step is hidden."""
        return [[node for _how, node in path] for path in self.broader_steps(skill)]

    def describe_path(self, path: Sequence[tuple[str, str]]) -> list[str]:
        """The inference steps of a :meth:`broader_steps` path, for a person to check: runs of
        broader links as "narrower counts for broader: A < B" (marked "(ESCO skill hierarchy)"
        when ESCO says so), and each equivalence on the way as "equivalent: A <a> = <b>"."""
        out: list[str] = []
        run: list[str] = []
        run_how = ""

        def flush() -> None:
            if len(run) > 1:
                src = " (ESCO skill hierarchy)" if run_how == "esco" else ""
                out.append(f"narrower counts for broader{src}: " + " < ".join(self.label(n) or n for n in run))

        prev = path[0][1]
        run = [prev]
        for how, node in path[1:]:
            if how == "equivalent":
                flush()
                out.append(f"equivalent: {self.label(prev) or prev} <{prev}> = <{node}>")
                run, run_how = [node], ""
            else:
                if run_how and how != run_how:
                    flush()
                    run = [prev]
                run_how = how
                run.append(node)
            prev = node
        flush()
        return out

    def merge(self, data: Mapping[str, Any]) -> None:
        self._chains.clear()
        self._supporters.clear()
        for s in data.get("skills", []):
            self.labels[s["id"]] = dict(s["label"])
            for b in s.get("broader", []):
                self.broader.setdefault(s["id"], set()).add(b)
            for n in s.get("narrower", []):
                self.broader.setdefault(n, set()).add(s["id"])
        for a, b in data.get("equivalences", []):
            self.equate(a, b)
        for q in data.get("qualifications", []):
            self.qualifications[str(q["code"])] = [(c["skill"], c.get("level")) for c in q["covers"]]


def load_profile(path: str | os.PathLike[str]) -> JobProfile:
    data = load_json_object(path)
    validate(data, PROFILE_SCHEMA, source=str(path))
    reqs = []
    for r in data["requirements"]:
        ref = r.get("skill") or r.get("achievement") or QUALIFICATION_PREFIX + str(r["qualification"])
        reqs.append(Requirement(ref=ref, label=r["label"], level=r.get("level"),
                                essential=r.get("essential", True), weight=float(r.get("weight", 1))))
    return JobProfile(title=data["title"], occupation=data.get("occupation"), requirements=tuple(reqs))


def load_framework(paths: Iterable[str | os.PathLike[str]], *, esco: Taxonomy | None = None) -> Framework:
    """Merge framework files; with ``esco`` (a :class:`skillcred.esco.Taxonomy`), ESCO's skill
    hierarchy counts too, without any framework file."""
    fw = Framework(esco=esco)
    for p in paths:
        data = load_json_object(p)
        validate(data, FRAMEWORK_SCHEMA, source=str(p))
        fw.merge(data)
    return fw


def load_catalog(path: str | os.PathLike[str]) -> Catalog:
    data = load_json_object(path)
    validate(data, CATALOG_SCHEMA, source=str(path))
    return Catalog(tuple(
        Module(id=m["id"], name=m["name"], kind=m.get("kind"), provider=m.get("provider"),
               hours=float(m["durationHours"]), teaches=tuple((t["skill"], t.get("level")) for t in m["teaches"]))
        for m in data["modules"]
    ))


# -- evidence -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """One thing a verified credential shows: a reference (skill, achievement, qualification)
    at a level, and how it was derived."""

    ref: str
    level: int | None
    credential: str | None
    issuer: str
    issuer_name: str
    achievement: str
    inference: tuple[str, ...] = ()
    #: the level's name on the credential's rubric ("Gevorderd"), and the rubric's top level
    level_name: str | None = None
    scale_top: int | None = None

    def level_text(self) -> str:
        """"3 (Gevorderd, of 5)": the number a profile asks for, with the rubric's own name."""
        if self.level is None:
            return ""
        extra = ", ".join(x for x in (self.level_name, f"of {self.scale_top}" if self.scale_top else None) if x)
        return f"{self.level} ({extra})" if extra else str(self.level)


def _rubric(vc: VerifiedCredential) -> tuple[dict[int, str], int | None]:
    """The rubric level names of a verified credential's achievement, and its top level: an
    employer reads "Gevorderd", not "3"."""
    names: dict[int, str] = {}
    subjects = vc.document.get("credentialSubject")
    for subject in subjects if isinstance(subjects, list) else [subjects]:
        ach = subject.get("achievement") if isinstance(subject, Mapping) else None
        rds = ach.get("resultDescription") if isinstance(ach, Mapping) else None
        for rd in rds if isinstance(rds, list) else []:
            lvls = rd.get("rubricCriterionLevel") if isinstance(rd, Mapping) else None
            for lvl in lvls if isinstance(lvls, list) else []:
                if not isinstance(lvl, Mapping):
                    continue
                n, name = lvl.get("level"), lvl.get("name")
                number = int(n) if isinstance(n, str) and n.isdigit() else n if type(n) is int else None
                if number is not None and isinstance(name, str) and name.strip():
                    names.setdefault(number, name.strip())
    return names, (max(names) if names else None)


def _subject_name(vc: VerifiedCredential) -> str | None:
    """The worker's name as a verified credential gives it: an unhashed Open Badges
    ``identifier`` of type name (as skillcred issues it), else ``credentialSubject.name``."""
    subjects = vc.document.get("credentialSubject")
    for subject in subjects if isinstance(subjects, list) else [subjects]:
        if not isinstance(subject, Mapping):
            continue
        ids = subject.get("identifier")
        for ident in ids if isinstance(ids, list) else [ids]:
            if (isinstance(ident, Mapping) and ident.get("identityType") == "name" and ident.get("hashed") is False
                    and isinstance(ident.get("identityHash"), str) and ident["identityHash"].strip()):
                return str(ident["identityHash"]).strip()
        name = subject.get("name")
        if isinstance(name, str) and name.strip():
            return name.strip()
    return None


class _Source(TypedDict):
    """The fields every :class:`Evidence` from one credential shares."""

    credential: str | None
    issuer: str
    issuer_name: str
    achievement: str


def _credential_evidence(vc: VerifiedCredential, fw: Framework) -> list[Evidence]:
    """What a verified credential shows, from the claims the verifier judged countable (within
    the issuer's trust scope, about the presenter): nothing is read from the document again."""
    return claims_evidence(vc.claims, credential=vc.id, issuer=vc.issuer, issuer_name=vc.issuer_name, framework=fw,
                           rubric=_rubric(vc))


def claims_evidence(claims: Iterable[Claim], *, credential: str | None, issuer: str, issuer_name: str,
                    framework: Framework, rubric: tuple[dict[int, str], int | None] = ({}, None)) -> list[Evidence]:
    """The evidence of one credential's countable claims. Shared by :func:`match` (claims of a
    :class:`VerifiedCredential`) and the talent pool (:mod:`skillcred.pool`, the same claims as
    stored when the credential was verified), so both infer exactly the same things.
    ``rubric``: the achievement's level names and top level, where the document is at hand
    (``_rubric``), so a level reads "Gevorderd (level 3 of 5)"; the names never change a grade."""
    fw = framework
    out: list[Evidence] = []
    names, top = rubric
    for c in claims:
        if c.ref is None:
            continue
        base: _Source = {"credential": credential, "issuer": issuer, "issuer_name": issuer_name,
                         "achievement": c.achievement}
        if c.kind == "qualification":
            code = c.ref[len(QUALIFICATION_PREFIX):]
            out.append(Evidence(ref=c.ref, level=None,
                                inference=(f"qualification {code} ({c.label or ''})",), **base))
            for skill, qlevel in fw.qualifications.get(code, []):
                out.append(Evidence(ref=skill, level=qlevel,
                                    inference=(f"diploma: qualification {code} covers {fw.label(skill) or skill}",),
                                    **base))
        elif c.kind == "skill" and c.from_diploma:
            out.append(Evidence(ref=c.ref, level=None,
                                inference=(f"diploma covers {c.label or c.ref} (level not stated)",), **base))
        else:
            out.append(Evidence(ref=c.ref, level=c.level, level_name=names.get(c.level) if c.level else None,
                                scale_top=top if c.level else None, **base))
    return out


def _support(req: Requirement, ev: Evidence, fw: Framework) -> Evidence | None:
    """Does ``ev`` speak to ``req``? Returns the evidence with the inference that links them."""
    if ev.ref == req.ref:
        return ev
    if req.ref.startswith(QUALIFICATION_PREFIX) or ev.ref.startswith(QUALIFICATION_PREFIX):
        return None
    if fw.equivalent(ev.ref, req.ref):
        step = f"equivalent: {fw.label(ev.ref) or ev.ref} <{ev.ref}> = <{req.ref}>"
        return dataclasses.replace(ev, inference=(*ev.inference, step))
    for path in fw.broader_steps(ev.ref):
        top = path[-1][1]
        if fw.equivalent(top, req.ref):
            steps = fw.describe_path(path)
            if top != req.ref:  # the last step, to the URI the requirement names, is named too
                steps.append(f"equivalent: {fw.label(top) or top} <{top}> = <{req.ref}>")
            return dataclasses.replace(ev, inference=(*ev.inference, *steps))
    return None


# -- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequirementResult:
    requirement: Requirement
    status: Status
    evidence: Evidence | None
    credit: float

    @property
    def shortfall(self) -> int | None:
        r, e = self.requirement, self.evidence
        if self.status == "partial" and r.level is not None and e is not None and e.level is not None:
            return r.level - e.level
        return None

    def to_dict(self) -> dict[str, Any]:
        r, e = self.requirement, self.evidence
        return {
            "skill": r.ref,
            "label": r.label,
            "essential": r.essential,
            "weight": r.weight,
            "required_level": r.level,
            "status": self.status,
            "level": e.level if e else None,
            "shortfall": self.shortfall,
            "credential": e.credential if e else None,
            "achievement": e.achievement if e else None,
            "issuer": e.issuer if e else None,
            "issuer_name": e.issuer_name if e else None,
            "inference": list(e.inference) if e else [],
            "credit": round(self.credit, 4),
        }


@dataclass(frozen=True)
class PlannedModule:
    module: Module
    closes: tuple[str, ...]


@dataclass(frozen=True)
class TrainingPlan:
    modules: tuple[PlannedModule, ...]
    total_hours: float
    unclosable: tuple[str, ...]
    optimal: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "modules": [{"id": p.module.id, "name": p.module.name, "kind": p.module.kind,
                         "provider": p.module.provider, "durationHours": p.module.hours,
                         "closes": list(p.closes)} for p in self.modules],
            "total_hours": self.total_hours,
            "unclosable": list(self.unclosable),
            "optimal": self.optimal,
        }


_TEXT_STATUS = {"met": "MET     ", "partial": "PARTIAL ", "missing": "MISSING "}


@dataclass(frozen=True)
class MatchReport:
    profile: str
    candidate: str | None
    requirements: tuple[RequirementResult, ...]
    essential_coverage: float
    coverage: float
    score: float
    not_counted: tuple[tuple[str | None, str], ...]
    plan: TrainingPlan | None
    #: the verdict on the presentation the credentials came from: True, False, or None when the
    #: caller passed credentials it verified itself (the library's ``match()`` without it)
    verified: bool | None = None
    #: why the presentation did not verify (then nothing in it counts and no plan is made)
    verification_failure: str | None = None
    checked_at: str | None = None
    #: the worker's name as the counted credentials give it
    candidate_name: str | None = None

    def _verdict(self) -> str | None:
        """The first line of every rendering: whether the presentation verified."""
        at = f", checked at {self.checked_at}" if self.checked_at else ""
        if self.verified is False:
            return (f"NOT VERIFIED: the presentation did not verify ({self.verification_failure or 'see the report'})"
                    f"{at}; nothing in it counts, no requirement is assessed and no training plan is made")
        if self.verified:
            return f"VERIFIED: the presentation verified{at}; only the credentials that verified count"
        return None

    def _who(self) -> str:
        if self.candidate_name and self.candidate:
            return f"{self.candidate_name} ({self.candidate})"
        return self.candidate_name or self.candidate or "candidate"

    @property
    def essential_gaps(self) -> list[RequirementResult]:
        return [r for r in self.requirements if r.requirement.essential and r.status != "met"]

    def summary(self) -> str:
        if self.verified is False:
            return f"NOT VERIFIED ({self.verification_failure or 'the presentation did not verify'})"
        met = sum(r.status == "met" for r in self.requirements)
        part = sum(r.status == "partial" for r in self.requirements)
        miss = [r.requirement.label for r in self.requirements if r.status == "missing" and r.requirement.essential]
        text = f"{met} met, {part} partly met, {len(self.requirements) - met - part} missing"
        if miss:
            text += f"; essential missing: {', '.join(miss)}"
        if self.not_counted:
            text += f"; {len(self.not_counted)} credential(s) not counted ({self.not_counted[0][1]})"
        return text

    def to_text(self) -> str:
        """The report for a person reading a terminal. Every value from the profile, framework,
        catalog or a credential goes through ``for_terminal``: no control or bidi character of
        theirs reaches the terminal."""
        t = for_terminal
        verdict = self._verdict()
        lines = [t(verdict)] if verdict else []
        lines.append(f"Gap analysis: {t(self._who())} for {t(self.profile)}")
        if self.verified is False:
            return "\n".join(lines) + "\n"
        lines += [f"  essential coverage {self.essential_coverage:.0%}, all requirements {self.coverage:.0%}, "
                  f"weighted score {self.score:.2f}", ""]
        for r in self.requirements:
            req = r.requirement
            need = f" (level {req.level})" if req.level else ""
            tag = "essential" if req.essential else "optional"
            lines.append(f"  {_TEXT_STATUS[r.status]} {t(req.label)}{need} [{tag}]")
            e = r.evidence
            if e is not None:
                lvl = f" at level {t(e.level_text())}" if e.level is not None else ""  # the rubric's name: theirs
                lines.append(f"           by {t(e.achievement)}{lvl} from {t(e.issuer_name)} ({t(str(e.credential))})")
                for step in e.inference:
                    lines.append(f"           via {t(step)}")
                if r.shortfall:
                    lines.append(f"           {r.shortfall} level(s) short")
        if self.not_counted:
            lines.append("")
            lines.append("  Not counted (failed verification, outside the trust scope, or about someone else):")
            for cid, why in self.not_counted:
                lines.append(f"    - {t(str(cid))}: {t(why)}")
        if self.plan is not None:
            lines.append("")
            if not self.plan.modules and not self.plan.unclosable:
                lines.append("  Training plan: none needed, every essential requirement is met.")
            else:
                lines.append(f"  Training plan ({self.plan.total_hours:g} hours"
                             f"{'' if self.plan.optimal else ', greedy'}):")
                for p in self.plan.modules:
                    lines.append(f"    - {t(p.module.name)} ({p.module.hours:g} h, {t(p.module.provider or '?')}): "
                                 f"closes {t(', '.join(p.closes))}")
                for u in self.plan.unclosable:
                    lines.append(f"    ! no module in the catalog closes: {t(u)}")
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """A self-contained page to print on A4 (no script, no external resource; every text
        escaped): the same content as :meth:`to_text`, led by the same verdict. Each untrusted
        value is in ``<bdi>`` (its direction cannot leak into the text around it) with its
        control and bidi characters shown as escapes. Skills appear by their labels (a URI in
        an inference step is replaced by the requirement's label or left out), levels with
        their rubric names; headings never end a printed page, a table row never splits."""
        e, b = for_html, bdi  # e: no markup allowed (<title>); b: every inline value
        rows = []
        for r in self.requirements:
            ev = r.evidence
            steps = [_without_uris(s, r.requirement) for s in ev.inference] if ev is not None else []
            by = "" if ev is None else (
                f"{b(ev.achievement)}{' (level ' + b(ev.level_text()) + ')' if ev.level is not None else ''}"
                f"<br><small>{b(ev.issuer_name)} &middot; {b(ev.credential or '')}</small>"
                + "".join(f"<br><small>via {b(s)}</small>" for s in steps)
                + (f"<br><strong>{r.shortfall} level(s) short</strong>" if r.shortfall else ""))
            rows.append(f'<tr class="{r.status}"><td>{b(r.requirement.label)}</td>'
                        f"<td>{e(str(r.requirement.level or '-'))}</td>"
                        f"<td>{'yes' if r.requirement.essential else 'no'}</td><td>{r.status}</td><td>{by}</td></tr>")
        plan = ""
        if self.plan is not None and self.verified is not False:
            if not self.plan.modules and not self.plan.unclosable:
                plan = ('<section class="plan"><h2>Training plan</h2>'
                        "<p>None needed: every essential requirement is met.</p></section>")
            else:
                items = "".join(
                    f'<tr><td>{b(p.module.name)}</td><td class="hours">{p.module.hours:g} h</td>'
                    f"<td>{b(p.module.provider or '?')}</td><td>{', '.join(b(c) for c in p.closes)}</td></tr>"
                    for p in self.plan.modules)
                items += "".join(f'<tr class="unclosable"><td colspan="4">No module in the catalog closes: '
                                 f"{b(u)}</td></tr>" for u in self.plan.unclosable)
                how = "" if self.plan.optimal else ", greedy (the catalog is too large for the exact search)"
                plan = (f'<section class="plan"><h2>Training plan ({self.plan.total_hours:g} hours{how})</h2>'
                        "<table><thead><tr><th>Module</th><th>Duration</th><th>Provider</th><th>Closes</th></tr></thead>"
                        f"<tbody>{items}</tbody></table></section>")
        nc = ""
        if self.not_counted:
            nc = ("<h2>Not counted (failed verification, outside the trust scope, or about someone else)</h2><ul>"
                  + "".join(f"<li>{b(str(c))}: {b(w)}</li>" for c, w in self.not_counted) + "</ul>")
        verdict = self._verdict()
        head = "" if verdict is None else (
            f'<p class="verdict {"ok" if self.verified else "bad"}"><strong>{b(verdict)}</strong></p>')
        table = ""
        if self.verified is not False:
            table = (f"<p>Essential coverage {self.essential_coverage:.0%} &middot; all requirements "
                     f"{self.coverage:.0%} &middot; score {self.score:.2f}</p>"
                     "<table><thead><tr><th>Requirement</th><th>Level</th><th>Essential</th><th>Status</th>"
                     "<th>Shown by</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
        checked = f"<br>Checked at {b(self.checked_at)}" if self.checked_at else ""
        return ("<!DOCTYPE html><html lang='en' dir='ltr'><head><meta charset='utf-8'><title>Gap analysis</title>"
                "<style>"
                "@page{size:A4;margin:15mm}"
                "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
                "overflow-wrap:break-word}"
                "table{border-collapse:collapse;width:100%}"
                "td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}"
                "th,.hours{white-space:nowrap}td small{overflow-wrap:anywhere}"  # long ids wrap, headings not
                "thead{display:table-header-group}tr{break-inside:avoid}h1,h2{break-after:avoid}"
                ".plan h2{break-before:auto}"
                ".verdict{padding:.5rem .75rem;border:2px solid}.verdict.ok{border-color:#1a7f37;background:#dafbe1}"
                ".verdict.bad{border-color:#a40e26;background:#ffebe9}"
                ".met{background:#dafbe1}.partial{background:#fff8c5}.missing{background:#ffebe9}"
                ".unclosable{color:#a40e26}"
                "@media print{body{margin:0;max-width:none;padding:0;font-size:10pt}"
                ".met,.partial,.missing,.verdict{-webkit-print-color-adjust:exact;print-color-adjust:exact}}"
                "</style></head><body>"
                f"{head}<h1>{b(self.profile)}</h1>"
                f"<p>Candidate: {b(self._who() if self.candidate or self.candidate_name else '-')}{checked}</p>"
                + table + plan + nc + self._esco_footer() + "</body></html>\n")

    def _esco_footer(self) -> str:
        """ESCO's reuse conditions: a report that names ESCO concepts acknowledges ESCO."""
        if not any(r.requirement.ref.startswith(ESCO_PREFIX) for r in self.requirements):
            return ""
        return f'<footer><small>{for_html(ESCO_ACKNOWLEDGEMENT)}</small></footer>'

    def to_dict(self) -> dict[str, Any]:
        return {
            **({} if self.verified is None else {"verified": self.verified}),
            **({"verification_failure": self.verification_failure} if self.verification_failure else {}),
            **({"checked_at": self.checked_at} if self.checked_at else {}),
            "profile": self.profile,
            "candidate": self.candidate,
            "candidate_name": self.candidate_name,
            "essential_coverage": round(self.essential_coverage, 4),
            "coverage": round(self.coverage, 4),
            "score": round(self.score, 4),
            "summary": self.summary(),
            "requirements": [r.to_dict() for r in self.requirements],
            "not_counted": [{"credential": cid, "reason": why} for cid, why in self.not_counted],
            **({"plan": self.plan.to_dict()} if self.plan is not None and self.verified is not False else {}),
        }


_URI_IN_STEP = re.compile(r"\s*<[^<>\s]+>")


def _without_uris(step: str, req: Requirement) -> str:
    """An inference step for a person: the requirement's URI read as its label, other URIs
    (already named by the label before them) left out."""
    return _URI_IN_STEP.sub("", step.replace(f"<{req.ref}>", req.label))


def _grade(req: Requirement, candidates: list[Evidence]) -> RequirementResult:
    if not candidates:
        return RequirementResult(req, "missing", None, 0.0)

    def rank(e: Evidence) -> tuple[int, int, int]:
        lvl = e.level if e.level is not None else -1
        return (1 if req.level is None or (e.level is not None and e.level >= req.level) else 0,
                lvl, -len(e.inference))

    best = max(candidates, key=rank)
    if req.level is None or (best.level is not None and best.level >= req.level):
        return RequirementResult(req, "met", best, 1.0)
    credit = (best.level / req.level) if best.level is not None else 0.0
    return RequirementResult(req, "partial", best, credit)


def _plan(gaps: Sequence[RequirementResult], catalog: Catalog, fw: Framework) -> TrainingPlan:
    """Least total duration set of modules that closes every essential gap (exact for up to
    ``MAX_EXACT_GAPS`` gaps by dynamic programming over subsets of gaps, greedy beyond)."""
    closes: list[tuple[Module, int]] = []
    for m in catalog.modules:
        mask = 0
        for i, g in enumerate(gaps):
            need = g.requirement.level or 1
            for skill, lvl in m.teaches:
                probe = Evidence(skill, lvl, None, "", "", m.name)
                if _support(g.requirement, probe, fw) is not None and (lvl or 1) >= need:
                    mask |= 1 << i
        if mask:
            closes.append((m, mask))
    closable = 0
    for _, mask in closes:
        closable |= mask
    unclosable = tuple(g.requirement.label for i, g in enumerate(gaps) if not closable >> i & 1)
    target = closable
    chosen: list[Module] = []
    optimal = True
    if target and len(gaps) <= MAX_EXACT_GAPS:
        inf = float("inf")
        best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
        for idx, (m, mask) in enumerate(closes):
            for state, (cost, picks) in list(best.items()):
                nxt = state | mask
                cand = (cost + m.hours, (*picks, idx))
                if cand[0] < best.get(nxt, (inf, ()))[0] or (
                        cand[0] == best.get(nxt, (inf, ()))[0] and len(cand[1]) < len(best[nxt][1])):
                    best[nxt] = cand
        chosen = [closes[i][0] for i in best[target][1]]
    elif target:
        optimal = False
        remaining = target
        while remaining:
            m, mask = min(((m, mask) for m, mask in closes if mask & remaining),
                          key=lambda x: x[0].hours / bin(x[1] & remaining).count("1"))
            chosen.append(m)
            remaining &= ~mask
    planned = []
    for m in chosen:
        mask = next(mask for mm, mask in closes if mm is m)
        planned.append(PlannedModule(m, tuple(g.requirement.label for i, g in enumerate(gaps) if mask >> i & 1)))
    return TrainingPlan(tuple(planned), sum(m.hours for m in chosen), unclosable, optimal)


def match(
    profile: JobProfile,
    credentials: Sequence[VerifiedCredential],
    *,
    framework: Framework | None = None,
    catalog: Catalog | None = None,
    not_counted: Iterable[tuple[str | None, str]] = (),
    candidate: str | None = None,
    verified: bool | None = None,
    verification_failure: str | None = None,
    at: datetime | None = None,
) -> MatchReport:
    """Grade each requirement against the verified credentials; plan training if asked.

    ``verified`` / ``verification_failure``: the verdict on the presentation the credentials
    come from, which every rendering of the report leads with. A failure (``verified=False``
    or a ``verification_failure``) means nothing counts: no credential is graded and no
    training plan is made (a plan for a presentation that did not verify would mislead).
    ``at``: the time the presentation was checked (shown on the report; default now)."""
    if verification_failure is not None:
        verified = False
    if isinstance(credentials, VerifiedCredential | VerifiedPresentation | Mapping | str | bytes) \
            or not isinstance(credentials, Iterable):
        hint = " (pass result.accepted)" if isinstance(credentials, VerifiedPresentation) else ""
        raise InvalidArgument(f"match() takes a list of VerifiedCredential{hint}")
    creds = list(credentials)  # an iterator must not be used up by the check below
    for c in creds:
        if not isinstance(c, VerifiedCredential):
            raise InvalidArgument("match() takes only VerifiedCredential (run the verifier first)")
    fw = framework or Framework()
    if verified is False:
        not_counted = [*not_counted, *((c.id, "the presentation did not verify") for c in creds)]
        creds = []
    evidence = [e for c in creds for e in _credential_evidence(c, fw)]
    # claims the verifier did not let count (outside the issuer's trust scope, about someone else)
    not_counted = [*not_counted, *((c.id, f"{what}: {why}") for c in creds for what, why in c.not_counted)]
    return match_evidence(profile, evidence, framework=fw, catalog=catalog, not_counted=not_counted,
                          candidate=candidate, verified=verified, verification_failure=verification_failure,
                          at=at, candidate_name=next((n for c in creds if (n := _subject_name(c))), None))


def match_evidence(
    profile: JobProfile,
    evidence: Sequence[Evidence],
    *,
    framework: Framework | None = None,
    catalog: Catalog | None = None,
    not_counted: Iterable[tuple[str | None, str]] = (),
    candidate: str | None = None,
    prefilter: bool = False,
    verified: bool | None = None,
    verification_failure: str | None = None,
    at: datetime | None = None,
    candidate_name: str | None = None,
) -> MatchReport:
    """Grade and score evidence already derived from verified claims (:func:`claims_evidence`).

    The one grading, scoring and planning of :func:`match`, factored out so the talent pool
    ranks its stored claims exactly as ``match``/``rank`` rank fresh presentations.
    ``prefilter``: skip evidence outside :meth:`Framework.supporters` of each requirement
    before the (costlier) linking -- the same result, faster when one framework grades many
    candidates (its supporter sets are cached). ``verified``, ``verification_failure``, ``at``
    and ``candidate_name`` are as :func:`match` states them (a failure plans nothing)."""
    if verification_failure is not None:
        verified = False
    fw = framework or Framework()
    results = []
    # with the prefilter, a requirement none of whose supporters is among the evidence's
    # references is missing without a look at each piece of evidence (one set intersection,
    # in C); otherwise the evidence is linked in its own order, as without it
    held = {e.ref for e in evidence} if prefilter else set()
    for req in profile.requirements:
        pool = fw.supporters(req.ref) & held if prefilter else None
        linked = [] if pool is not None and not pool else [
            s for e in evidence if (pool is None or e.ref in pool) and (s := _support(req, e, fw)) is not None]
        results.append(_grade(req, linked))
    essential = [r for r in results if r.requirement.essential]
    essential_cov = sum(r.credit for r in essential) / len(essential) if essential else 1.0
    coverage = sum(r.credit for r in results) / len(results) if results else 1.0
    total_w = sum(r.requirement.weight for r in results)
    score = sum(r.credit * r.requirement.weight for r in results) / total_w if total_w else 1.0
    plan = None
    if catalog is not None and verified is not False:
        plan = _plan([r for r in essential if r.status != "met"], catalog, fw)
    return MatchReport(
        profile=profile.title, candidate=candidate, requirements=tuple(results),
        essential_coverage=essential_cov, coverage=coverage, score=score,
        not_counted=tuple(not_counted), plan=plan, verified=verified,
        verification_failure=verification_failure if verified is False else None,
        checked_at=format_datetime(at or utcnow()) if verified is not None else None,
        candidate_name=candidate_name,
    )


def rank_key(report: MatchReport) -> tuple[float, float]:
    return (-report.essential_coverage, -report.score)

