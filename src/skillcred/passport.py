"""The skills passport: a worker's credentials at a glance, grouped, as text, JSON or a printable page.

The passport reads the wallet's credentials as claims for display: the worker's name, what each
achievement is, the level within its scale, diploma level and qualification code, and the
evidence of on-the-job learning. It marks expired and soon-expiring credentials from their
dates; whether a credential is revoked can only be known from the issuer's status list, so the
passport says "revocation not checked here" unless it is given a :class:`~skillcred.verify.Verifier`
holding the lists (``passport --status-list``), and then says what the check found.

The HTML page is a document to print on A4 and hand over. It is self-contained (inline CSS and
inline SVG QR codes, no scripts, no external assets), so it can be opened offline, mailed or
printed (:func:`render_pdf` prints it with headless Chromium); every value from a credential is
HTML-escaped and put in ``<bdi>``, and control and bidi characters in it are shown as escapes (in
the text form too), so a name cannot rewrite or reorder the rest of the page or the terminal.
Each credential's QR code (:mod:`skillcred.passport_qr`) lets an employer check the paper
against the credential they hold; the page says what the printout proves and what it does not.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillcred._internal.fileio import atomic_write
from skillcred._internal.textsafe import bdi, for_html, for_terminal
from skillcred._internal.timeutil import parse_datetime, utcnow
from skillcred.errors import PdfRenderError, SkillcredError
from skillcred.passport_qr import credential_digest, encode_qr_payload, qr_svg
from skillcred.secured import SecuredCredential
from skillcred.wallet import WalletEntry

if TYPE_CHECKING:
    from skillcred.verify import Verifier

__all__ = [
    "GROUPS",
    "PROVES",
    "CredentialDetails",
    "Passport",
    "build_passport",
    "credential_details",
    "find_chromium",
    "render_pdf",
]

GROUPS: tuple[tuple[str, str], ...] = (
    ("diploma", "Diplomas and qualifications"),
    ("skill", "Vocational skills"),
    ("on-the-job", "Learned on the job"),
    ("soft-skill", "Soft skills"),
    ("other", "Other credentials"),
)
_STATUS_LABEL = {
    "valid": "valid",
    "expiring": "expires soon",
    "expired": "EXPIRED",
    "not-yet-valid": "not yet valid",
    "invalid-dates": "invalid dates",
}
#: what the passport says about revocation, per outcome of the status check
_REVOCATION_LABEL = {
    "not-checked": "revocation not checked here",
    "not-revoked": "not revoked or suspended (status list checked)",
    "revoked": "REVOKED by the issuer",
    "suspended": "SUSPENDED by the issuer",
    "unknown": "revocation status unknown",
}
_LANG_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}")
_DIPLOMA_LEVEL_FRAMEWORKS = ("EQF", "NLQF", "NQF", "ISCED")
_EVIDENCE_KEYS = {"Workplace": "workplace", "Hours": "hours", "Assessor": "assessor"}

PROVES = (
    "This printout by itself proves nothing: anyone can print a page. Each QR code identifies one "
    "credential by its id and a SHA-256 digest of its exact signed content (a small credential is "
    "carried whole).",
    "An employer who receives the credential digitally from the worker (a file or a presentation) "
    "checks with 'skillcred verify --qr CODE --credential FILE' (or --presentation) that it is the "
    "very credential printed here, and with the same command that the issuer signed it, that it is "
    "within its dates, not revoked, and from an issuer they trust.",
    "It does not prove that the person handing it over is the person named, that a credential is "
    "still valid or unrevoked today, or anything a credential left out of this printout says: "
    "the worker chose what is on it.",
)


def _date(value: str | None) -> str:
    if not value:
        return "-"
    try:
        return parse_datetime(value).strftime("%Y-%m-%d")
    except Exception:
        return value


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


@dataclass(frozen=True)
class CredentialDetails:
    """What the passport shows of one credential beyond its :class:`WalletEntry` (all read from
    its claims; nothing here is verified except ``revocation`` when a verifier was given)."""

    id: str
    #: the worker's name as the credential states it (OB 3.0 ``identifier`` of type name)
    subject_name: str | None = None
    description: str | None = None
    #: "Gevorderd (level 2 of 3)": the achieved level named within its rubric
    level_in_scale: str | None = None
    #: "EQF 3, NLQF 3": the diploma's level in qualification frameworks
    diploma_level: str | None = None
    #: "MBO-VERSP-3, CREBO 25751": the qualification's codes
    qualification_code: str | None = None
    field_of_study: str | None = None
    awarded: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    #: each evidence item: name, narrative, workplace, hours, assessor, period_start, period_end
    evidence: tuple[dict[str, str], ...] = ()
    lang: str | None = None
    #: ``not-checked``, ``not-revoked``, ``revoked``, ``suspended`` or ``unknown`` (see reason)
    revocation: str = "not-checked"
    revocation_reason: str | None = None
    #: the v1 QR payload and the digest it (and the page) states
    qr_payload: str | None = None
    digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["evidence"] = [dict(e) for e in self.evidence]
        return out


def _level_in_scale(ach: Mapping[str, Any], subject: Mapping[str, Any]) -> str | None:
    """The achieved level named, with its place in the rubric ("Gevorderd (level 2 of 3)")."""
    for rd in _list(ach.get("resultDescription")):
        if not isinstance(rd, Mapping):
            continue
        levels = [lvl for lvl in _list(rd.get("rubricCriterionLevel")) if isinstance(lvl, Mapping)]
        for r in _list(subject.get("result")):
            if not isinstance(r, Mapping) or r.get("resultDescription") not in (None, rd.get("id")):
                continue
            for pos, lvl in enumerate(levels, 1):
                if lvl.get("id") == r.get("achievedLevel"):
                    name = _str(lvl.get("name")) or str(lvl.get("id"))
                    return f"{name} (level {_str(lvl.get('level')) or pos} of {len(levels)})"
    return None


def _evidence(doc: Mapping[str, Any], subject: Mapping[str, Any]) -> tuple[dict[str, str], ...]:
    out = []
    source = subject.get("source")
    assessor = _str(source.get("name")) if isinstance(source, Mapping) else None
    for ev in _list(doc.get("evidence")):
        if not isinstance(ev, Mapping):
            continue
        item: dict[str, str] = {}
        for key in ("name", "narrative", "genre"):
            if _str(ev.get(key)):
                item[key] = str(_str(ev.get(key)))
        desc = _str(ev.get("description"))
        if desc:  # skillcred writes "Workplace: X; Hours: N; Assessor: Y"; anything else is shown as is
            parts = [p.partition(": ") for p in desc.split("; ")]
            if all(sep and k in _EVIDENCE_KEYS for k, sep, _ in parts):
                item.update({_EVIDENCE_KEYS[k]: v for k, _, v in parts})
            else:
                item["description"] = desc
        out.append(item)
    if out or assessor or subject.get("activityStartDate"):
        first = out[0] if out else {}
        if assessor:
            first.setdefault("assessor", assessor)
        for key, claim in (("period_start", "activityStartDate"), ("period_end", "activityEndDate")):
            if _str(subject.get(claim)):
                first[key] = _date(str(subject[claim]))
        if not out:
            out.append(first)
    return tuple(out)


def credential_details(document: Mapping[str, Any]) -> CredentialDetails:
    """Read what the passport shows of a credential (a wallet record: a token's claims are read
    as stored). Never raises for odd claims: what is missing or malformed is left out."""
    subjects = [s for s in _list(document.get("credentialSubject")) if isinstance(s, Mapping)]
    subject: Mapping[str, Any] = subjects[0] if subjects else {}
    ach = subject.get("achievement") if isinstance(subject.get("achievement"), Mapping) else {}
    assert isinstance(ach, Mapping)
    name = next((str(i["identityHash"]) for i in _list(subject.get("identifier"))
                 if isinstance(i, Mapping) and i.get("identityType") == "name" and not i.get("hashed")
                 and _str(i.get("identityHash"))), None) or _str(subject.get("name"))
    aligns = [a for a in _list(ach.get("alignment")) if isinstance(a, Mapping)]
    levels = [f"{a['targetFramework']} {a['targetCode']}" for a in aligns
              if str(a.get("targetFramework")) in _DIPLOMA_LEVEL_FRAMEWORKS and _str(a.get("targetCode"))]
    codes = [str(ach["humanCode"])] if _str(ach.get("humanCode")) else []
    codes += [f"{a.get('targetFramework') or 'code'} {a['targetCode']}" for a in aligns
              if a.get("targetType") == "ceterms:Credential" and _str(a.get("targetCode"))]
    lang = next((str(v) for v in (ach.get("inLanguage"), document.get("inLanguage"))
                 if isinstance(v, str) and _LANG_RE.fullmatch(v)), None)
    return CredentialDetails(
        id=str(document.get("id") or ""),
        subject_name=name,
        description=_str(ach.get("description")) or _str(document.get("description")),
        level_in_scale=_level_in_scale(ach, subject),
        diploma_level=", ".join(levels) or None,
        qualification_code=", ".join(codes) or None,
        field_of_study=_str(ach.get("fieldOfStudy")),
        awarded=_str(document.get("awardedDate")),
        valid_from=_str(document.get("validFrom")) or _str(document.get("issuanceDate")),
        valid_until=_str(document.get("validUntil")) or _str(document.get("expirationDate")),
        evidence=_evidence(document, subject),
        lang=lang,
    )


def _checked(details: CredentialDetails, document: Mapping[str, Any], verifier: Verifier,
             at: datetime | None) -> CredentialDetails:
    """``details`` with the outcome of the status check (the verifier's ``credential.status``)."""
    try:
        envelope = SecuredCredential.from_record(document).envelope()
        report = verifier.check(envelope, at=at)
    except SkillcredError as exc:
        return replace(details, revocation="unknown", revocation_reason=exc.message)
    status = next((c for c in report.checks if c.id.endswith(".status")), None)
    if status is None or status.status == "not_applicable":
        return replace(details, revocation="not-revoked" if status else "unknown",
                       revocation_reason=status.reason if status else "no status check ran")
    code = status.code
    if status.status == "passed":
        return replace(details, revocation="not-revoked", revocation_reason=status.reason)
    if code in ("revoked", "suspended"):
        return replace(details, revocation=str(code), revocation_reason=status.reason)
    return replace(details, revocation="unknown", revocation_reason=status.reason)


@dataclass(frozen=True)
class Passport:
    holder: str
    at: datetime
    groups: tuple[tuple[str, str, tuple[WalletEntry, ...]], ...]
    #: per credential id (empty for a passport built from entries alone)
    details: Mapping[str, CredentialDetails] = field(default_factory=dict)
    #: whether status lists were consulted (else every credential says "revocation not checked")
    revocation_checked: bool = False

    @property
    def count(self) -> int:
        return sum(len(entries) for _, _, entries in self.groups)

    @property
    def holder_name(self) -> str | None:
        """The worker's name as the credentials about the holder state it (one about someone else,
        kept with ``--force-foreign``, does not name the worker); several different ones are all shown."""
        about_holder = {e.id for _, _, entries in self.groups for e in entries if e.subject == self.holder}
        names = sorted({d.subject_name for d in self.details.values() if d.subject_name and d.id in about_holder})
        return " / ".join(names) if names else None

    def _detail(self, entry: WalletEntry) -> CredentialDetails:
        return self.details.get(entry.id) or CredentialDetails(id=entry.id, valid_from=entry.issued,
                                                               valid_until=entry.expires)

    def status_of(self, entry: WalletEntry) -> tuple[str, str]:
        """(css class, label): revocation when known, else the dates, and what was not checked."""
        d = self._detail(entry)
        dates = entry.validity(self.at)
        if d.revocation in ("revoked", "suspended"):
            return "expired", d.revocation.upper()
        if dates not in ("valid", "expiring"):
            return dates, _STATUS_LABEL[dates]
        if d.revocation == "not-revoked":
            return dates, _STATUS_LABEL[dates]
        if d.revocation == "unknown":
            return "unchecked", f"{_STATUS_LABEL[dates]} dates, revocation status unknown"
        return "unchecked", f"{_STATUS_LABEL[dates]} dates, revocation not checked"

    def to_text(self) -> str:
        t = for_terminal
        who = f"{t(self.holder_name)} ({t(self.holder)})" if self.holder_name else t(self.holder)
        lines = [f"Skills passport of {who}",
                 f"as of {self.at.strftime('%Y-%m-%d')}, {self.count} credential(s)"
                 + ("" if self.revocation_checked or not self.count else "; revocation not checked here "
                    "(give the issuers' status lists with --status-list)")]
        for _, title, entries in self.groups:
            if not entries:
                continue
            lines.append("")
            lines.append(f"{title}")
            lines.append("-" * len(title))
            for e in entries:
                d = self._detail(e)
                shown_level = d.level_in_scale or e.level
                level = f" - {t(shown_level)}" if shown_level else ""
                lines.append(f"  * {t(e.achievement)}{level}")
                awarded = f"   awarded: {t(_date(d.awarded))}" if d.awarded else ""
                lines.append(f"      issuer: {t(e.issuer_name)}{awarded}   valid from: {t(_date(d.valid_from))}   "
                             f"until: {t(_date(d.valid_until)) if d.valid_until else 'no end date'}   "
                             f"[{self.status_of(e)[1]}]")
                for label, value in (("level", d.diploma_level), ("code", d.qualification_code)):
                    if value:
                        lines.append(f"      {label}: {t(value)}")
                for ev in d.evidence:
                    facts = [f"{k.replace('_', ' ')}: {t(ev[k])}" for k in
                             ("assessor", "workplace", "hours", "period_start", "period_end") if k in ev]
                    if facts:
                        lines.append(f"      evidence: {'; '.join(facts)}")
                if d.revocation != "not-checked" and d.revocation_reason:
                    lines.append(f"      status: {t(d.revocation_reason)}")
        if not self.count:
            lines.append("")
            lines.append("(no credentials yet: add one with 'skillcred wallet add FILE')")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """``passport --json``: the passport as data (one object; credentials in page order)."""
        creds = []
        for kind, title, entries in self.groups:
            for e in entries:
                d = self._detail(e)
                creds.append({**e.to_dict(self.at), "group": kind, "groupTitle": title,
                              "statusLabel": self.status_of(e)[1], **{
                                  k: v for k, v in d.to_dict().items() if k != "id"}})
        return {"holder": self.holder, "holderName": self.holder_name, "at": self.at.isoformat(),
                "count": self.count, "revocationChecked": self.revocation_checked, "credentials": creds,
                "printoutProves": list(PROVES)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_html(self) -> str:
        e, b = for_html, bdi  # e: attributes and <title> (no markup there); b: inline text
        name = self.holder_name
        parts = [
            "<!DOCTYPE html>",
            # the page's own words are English; a credential's language is set on its card
            '<html lang="en" dir="ltr"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Skills passport - {e(name or self.holder)}</title>",
            "<style>",
            "@page{size:A4;margin:14mm 14mm 16mm}",
            "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:52rem;"
            "color:#1b1f24;padding:0 1rem;line-height:1.35;overflow-wrap:anywhere}",
            "h1{font-size:1.6rem;margin-bottom:.2rem}.name{font-size:1.3rem;font-weight:600}"
            ".holder{color:#555;font-size:.8rem;word-break:break-all}",
            "h2{font-size:1.15rem;border-bottom:2px solid #1f6feb;padding-bottom:.2rem;margin-top:1.6rem;"
            "break-after:avoid}",
            ".card{border:1px solid #d0d7de;border-radius:8px;padding:.7rem 1rem;margin:.6rem 0;break-inside:avoid;"
            "display:flex;gap:1rem;align-items:flex-start}.body{flex:1;min-width:0}",
            ".card h3{margin:0 0 .3rem;font-size:1.05rem}.level{font-weight:600;color:#0b5394}",
            ".desc{font-size:.88rem;margin:.2rem 0}.ev{font-size:.85rem;background:#f6f8fa;border-radius:6px;"
            "padding:.3rem .6rem;margin:.3rem 0}",
            ".meta{font-size:.85rem;color:#444}.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;"
            "font-size:.75rem;font-weight:600;margin-left:.4rem}",
            ".valid{background:#dafbe1;color:#116329}.expiring{background:#fff8c5;color:#7d4e00}"
            ".expired,.invalid-dates{background:#ffebe9;color:#a40e26}.not-yet-valid{background:#ddf4ff;color:#0a3069}"
            ".unchecked{background:#eaeef2;color:#24292f}",
            ".qrbox{width:34mm;text-align:center;font-size:.6rem;color:#444}.qr{width:34mm;height:34mm;display:block}"
            ".qrbox.vc,.qrbox.vc .qr{width:55mm}.qrbox.vc .qr{height:55mm}"
            ".mono{font-family:ui-monospace,monospace;font-size:.6rem;word-break:break-all}",
            ".proves{border:2px solid #1b1f24;border-radius:8px;padding:.5rem 1rem;margin-top:1.5rem;font-size:.85rem;"
            "break-inside:avoid}.proves h2{border:0;margin:.2rem 0;font-size:1rem}",
            ".empty{color:#777}footer{margin-top:1.2rem;font-size:.72rem;color:#666}",
            "@media print{body{margin:0;max-width:none;padding:0;font-size:10pt}.card{border-color:#999}"
            "a{color:inherit}}",
            "</style></head><body>",
            "<h1>Skills passport</h1>",
            f'<div class="name">{b(name)}</div>' if name else "",
            f'<div class="holder">Holder: {b(self.holder)}</div>',
            f'<div class="meta">As of {e(self.at.strftime("%Y-%m-%d"))} &middot; {self.count} credential(s)'
            + ("" if self.revocation_checked else " &middot; revocation not checked here") + "</div>",
        ]
        for kind, title, entries in self.groups:
            if not entries:
                continue
            parts.append(f'<section class="group" data-kind="{e(kind)}"><h2>{e(title)}</h2>')
            for entry in entries:
                parts.extend(self._card_html(entry))
            parts.append("</section>")
        if not self.count:
            parts.append('<p class="empty">No credentials yet.</p>')
        else:
            parts.append('<section class="proves"><h2>What this printout proves, and what it does not</h2>')
            parts.extend(f"<p>{e(p)}</p>" for p in PROVES)
            parts.append("</section>")
        parts.append("<footer>Made with skillcred. Each credential is a W3C Verifiable Credential; an employer "
                     "verifies it with <code>skillcred verify</code>, which also checks revocation. "
                     # ESCO's reuse conditions: skillcred integrates ESCO (skillcred.esco)
                     "This service uses the ESCO classification of the European Commission.</footer>")
        parts.append("</body></html>")
        return "\n".join(p for p in parts if p) + "\n"

    def _card_html(self, entry: WalletEntry) -> list[str]:
        e, b = for_html, bdi
        d = self._detail(entry)
        css, label = self.status_of(entry)
        lang = f' lang="{e(d.lang)}"' if d.lang else ""
        out = [f'<div class="card" data-credential-id="{e(entry.id)}"{lang}><div class="body">',
               f"<h3>{b(entry.achievement)}"
               f'<span class="badge {e(css)}">{e(label)}</span></h3>']
        level = d.level_in_scale or entry.level
        if level:
            out.append(f'<div class="level">Level: {b(level)}</div>')
        facts = [(k, v) for k, v in (("Diploma level", d.diploma_level), ("Qualification", d.qualification_code),
                                     ("Field of study", d.field_of_study)) if v]
        if facts:
            out.append('<div class="meta">' + " &middot; ".join(f"{k}: {b(v)}" for k, v in facts) + "</div>")
        if d.description:
            out.append(f'<div class="desc">{b(d.description)}</div>')
        for ev in d.evidence:
            rows = [f"{e(k.replace('_', ' ').capitalize())}: {b(ev[k])}" for k in
                    ("assessor", "workplace", "hours", "period_start", "period_end") if k in ev]
            text = ev.get("narrative") or ev.get("description")
            out.append('<div class="ev">Evidence' + (f" ({b(ev['genre'])})" if "genre" in ev else "") + ": "
                       + " &middot; ".join(rows) + (f"<br>{b(text)}" if text else "") + "</div>")
        until = _date(d.valid_until) if d.valid_until else "no end date"
        awarded = f" &middot; awarded {b(_date(d.awarded))}" if d.awarded else ""
        out.append(f'<div class="meta">Issued by {b(entry.issuer_name)}{awarded} &middot; valid from '
                   f"{b(_date(d.valid_from))} until {b(until)}</div>")
        out.append(f'<div class="meta">Revocation: {e(_REVOCATION_LABEL[d.revocation])}'
                   + (f" ({b(d.revocation_reason)})" if d.revocation != "not-checked" and d.revocation_reason else "")
                   + "</div>")
        out.append(f'<div class="meta">Credential <span class="cid">{b(entry.id)}</span></div></div>')
        if d.qr_payload and d.digest:
            form = "the whole credential" if d.qr_payload.startswith("skillcred:qr1:vc:") else "id and digest"
            which = "vc" if form.startswith("the") else "ref"
            out.append(f'<div class="qrbox {which}" data-qr-form="{which}">'
                       f"{qr_svg(d.qr_payload, title=f'QR code: {entry.id}')}"
                       f"QR: {e(form)}<br>SHA-256 <span class=\"mono digest\">{e(d.digest)}</span></div>")
        out.append("</div>")
        return out


def build_passport(
    holder: str,
    entries: Iterable[WalletEntry],
    *,
    at: datetime | None = None,
    documents: Mapping[str, Mapping[str, Any]] | None = None,
    verifier: Verifier | None = None,
    qr: bool = True,
) -> Passport:
    """Group and order credentials: each group newest first.

    ``documents`` (credential id -> wallet record) adds what the claims say (:func:`credential_details`)
    and, with ``qr``, each credential's QR payload and digest. ``verifier`` (holding the issuers'
    status lists) checks each credential's status as of ``at``; without it the passport says
    revocation was not checked -- dates alone never make a credential "valid" on the page."""
    when = at or utcnow()
    items: Sequence[WalletEntry] = list(entries)
    groups = []
    for kind, title in GROUPS:
        members = sorted((x for x in items if x.kind == kind), key=lambda x: x.issued or "", reverse=True)
        groups.append((kind, title, tuple(members)))
    details: dict[str, CredentialDetails] = {}
    for entry in items:
        doc = (documents or {}).get(entry.id)
        if doc is None:
            continue
        d = credential_details(doc)
        if qr:
            try:
                d = replace(d, qr_payload=encode_qr_payload(doc), digest=credential_digest(doc))
            except (SkillcredError, UnicodeEncodeError):
                pass  # no id, or a record that is not a credential: no code (said by its absence)
        if verifier is not None:
            d = _checked(d, doc, verifier, at)
        details[entry.id] = d
    return Passport(holder=holder, at=when, groups=tuple(groups), details=details,
                    revocation_checked=verifier is not None)


def find_chromium() -> str | None:
    """The headless browser :func:`render_pdf` uses: ``$SKILLCRED_CHROMIUM``, else the first of
    chromium, chromium-browser, google-chrome on the PATH."""
    env = os.environ.get("SKILLCRED_CHROMIUM")
    if env:
        return env
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def render_pdf(html: str, target: str | os.PathLike[str], *, browser: str | None = None,
               timeout: float = 180) -> None:
    """Print ``html`` to a PDF at ``target`` with headless Chromium (A4 from the page's ``@page``).

    The page is written to a private temp folder and printed from there with a throwaway profile,
    networking features off (the page has no scripts and loads nothing); the PDF replaces ``target``
    only when Chromium produced one. ``--no-sandbox`` is passed only when running as root, where
    Chromium refuses to start otherwise. Raises :class:`PdfRenderError` (nothing written)."""
    exe = browser or find_chromium()
    if not exe:
        raise PdfRenderError("cannot print the PDF: no headless Chromium found (install chromium, or set "
                             "SKILLCRED_CHROMIUM); or print the HTML page (to_html) from a browser", path=str(target),
                             field="html")
    with tempfile.TemporaryDirectory(prefix="skillcred-pdf-") as tmp:
        page, pdf = Path(tmp) / "passport.html", Path(tmp) / "passport.pdf"
        page.write_text(html, encoding="utf-8")
        flags = [exe, "--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-dev-shm-usage",
                 f"--user-data-dir={Path(tmp) / 'profile'}",
                 "--no-pdf-header-footer", f"--print-to-pdf={pdf}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            flags.append("--no-sandbox")
        try:
            run = subprocess.run([*flags, page.as_uri()], stdin=subprocess.DEVNULL, capture_output=True,
                                 timeout=timeout, env={**os.environ, "HOME": tmp}, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfRenderError(f"cannot print the PDF: could not run {exe} ({type(exc).__name__})",
                                 path=str(target)) from None
        data = pdf.read_bytes() if pdf.is_file() else b""
        if not data.startswith(b"%PDF-"):
            tail = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise PdfRenderError(f"{exe} produced no PDF (exit {run.returncode}: {tail[0][:200]})",
                                 path=str(target))
    try:
        atomic_write(target, data)
    except OSError as exc:
        raise PdfRenderError(f"cannot write the PDF: {exc.strerror or exc}", path=str(target)) from None
