"""The skills passport: a worker's credentials at a glance, grouped, as text or a printable page.

The passport reads the wallet's credentials as claims for display. It marks expired and
soon-expiring credentials; whether a credential is revoked can only be known from the
issuer's status list, which the verifier checks (``skillcred verify``), not the passport.

The HTML page is self-contained (inline CSS, no scripts, no external assets), so it can be
opened offline, mailed or printed; every value from a credential is HTML-escaped and put in
``<bdi>``, and control and bidi characters in it are shown as escapes (in the text form too), so
a name cannot rewrite or reorder the rest of the page or the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from skillcred._internal.textsafe import bdi, for_html, for_terminal
from skillcred._internal.timeutil import parse_datetime, utcnow
from skillcred.wallet import WalletEntry

__all__ = ["GROUPS", "Passport", "build_passport"]

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


def _date(value: str | None) -> str:
    if not value:
        return "-"
    try:
        return parse_datetime(value).strftime("%Y-%m-%d")
    except Exception:
        return value


@dataclass(frozen=True)
class Passport:
    holder: str
    at: datetime
    groups: tuple[tuple[str, str, tuple[WalletEntry, ...]], ...]

    @property
    def count(self) -> int:
        return sum(len(entries) for _, _, entries in self.groups)

    def to_text(self) -> str:
        t = for_terminal
        lines = [f"Skills passport of {t(self.holder)}",
                 f"as of {self.at.strftime('%Y-%m-%d')}, {self.count} credential(s)"]
        for _, title, entries in self.groups:
            if not entries:
                continue
            lines.append("")
            lines.append(f"{title}")
            lines.append("-" * len(title))
            for e in entries:
                status = _STATUS_LABEL[e.validity(self.at)]
                level = f" - {t(e.level)}" if e.level else ""
                lines.append(f"  * {t(e.achievement)}{level}")
                lines.append(f"      issuer: {t(e.issuer_name)}   issued: {t(_date(e.issued))}   "
                             f"valid until: {t(_date(e.expires)) if e.expires else 'no end date'}   [{status}]")
        if not self.count:
            lines.append("")
            lines.append("(no credentials yet: add one with 'skillcred wallet add FILE')")
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        e, b = for_html, bdi  # e: attributes and <title> (no markup there); b: inline text
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en" dir="ltr"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Skills passport - {e(self.holder)}</title>",
            "<style>",
            "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:52rem;"
            "color:#1b1f24;padding:0 1rem}",
            "h1{font-size:1.6rem;margin-bottom:.2rem}.holder{color:#555;font-size:.85rem;word-break:break-all}",
            "h2{font-size:1.15rem;border-bottom:2px solid #1f6feb;padding-bottom:.2rem;margin-top:2rem}",
            ".card{border:1px solid #d0d7de;border-radius:8px;padding:.7rem 1rem;margin:.6rem 0;break-inside:avoid}",
            ".card h3{margin:0 0 .3rem;font-size:1.05rem}.level{font-weight:600;color:#0b5394}",
            ".meta{font-size:.85rem;color:#444}.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;"
            "font-size:.75rem;font-weight:600;margin-left:.4rem}",
            ".valid{background:#dafbe1;color:#116329}.expiring{background:#fff8c5;color:#7d4e00}"
            ".expired,.invalid-dates{background:#ffebe9;color:#a40e26}.not-yet-valid{background:#ddf4ff;color:#0a3069}",
            ".empty{color:#777}footer{margin-top:2rem;font-size:.75rem;color:#666}",
            "@media print{body{margin:0;max-width:none}.card{border-color:#999}a{color:inherit}}",
            "</style></head><body>",
            "<h1>Skills passport</h1>",
            f'<div class="holder">Holder: {b(self.holder)}</div>',
            f'<div class="meta">As of {e(self.at.strftime("%Y-%m-%d"))} &middot; {self.count} credential(s)</div>',
        ]
        for kind, title, entries in self.groups:
            if not entries:
                continue
            parts.append(f'<section class="group" data-kind="{e(kind)}"><h2>{e(title)}</h2>')
            for entry in entries:
                status = entry.validity(self.at)
                parts.append(f'<div class="card" data-credential-id="{e(entry.id)}">')
                parts.append(f"<h3>{b(entry.achievement)}"
                             f'<span class="badge {e(status)}">{e(_STATUS_LABEL[status])}</span></h3>')
                if entry.level:
                    parts.append(f'<div class="level">Level: {b(entry.level)}</div>')
                until = _date(entry.expires) if entry.expires else "no end date"
                parts.append(f'<div class="meta">Issued by {b(entry.issuer_name)} on {b(_date(entry.issued))}'
                             f" &middot; valid until {b(until)}</div>")
                parts.append(f'<div class="meta">Credential {b(entry.id)}</div></div>')
            parts.append("</section>")
        if not self.count:
            parts.append('<p class="empty">No credentials yet.</p>')
        parts.append("<footer>Made with skillcred. Each credential is a W3C Verifiable Credential; an employer "
                     "verifies it with <code>skillcred verify</code>, which also checks revocation. "
                     # ESCO's reuse conditions: skillcred integrates ESCO (skillcred.esco)
                     "This service uses the ESCO classification of the European Commission.</footer>")
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"


def build_passport(holder: str, entries: Iterable[WalletEntry], *, at: datetime | None = None) -> Passport:
    """Group and order credentials: each group newest first."""
    when = at or utcnow()
    items: Sequence[WalletEntry] = list(entries)
    groups = []
    for kind, title in GROUPS:
        members = sorted((x for x in items if x.kind == kind), key=lambda x: x.issued or "", reverse=True)
        groups.append((kind, title, tuple(members)))
    return Passport(holder=holder, at=when, groups=tuple(groups))
