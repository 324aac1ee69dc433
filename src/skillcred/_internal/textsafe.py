"""Untrusted text, made safe to show: on a terminal, in an HTML page, in JSON on stdout.

Names, ids and reasons in credentials, presentations, DID documents, trust lists, profiles,
frameworks, catalogs and rosters are chosen by whoever wrote the file. Shown raw, a carriage
return lets an issuer's name overwrite the verdict line (``"ROC\\r✔ VERIFIED"``), an ANSI
escape clears the screen or retitles the window, and a bidi override (U+202E) reorders what
follows it. The documents are signed, so they are never changed; each value is neutralised
where it is rendered.

The convention is stable: every such character becomes a visible Python-style escape,
``\\xNN`` below U+0100 (``\\r`` -> ``\\x0d``, ESC -> ``\\x1b``, CSI U+009B -> ``\\x9b``) and
``\\uNNNN`` above (U+202E -> ``\\u202e``). Everything else, accented, Arabic or CJK letters
included, is left as it is; a backslash is not escaped (a literal ``\\x0d`` in a name can
mislead about that name only, never about the text around it).

Neutralised: C0 controls (U+0000-U+001F, newline and tab included: a field is one line), DEL,
C1 controls (U+0080-U+009F), the bidi marks, embeddings, overrides and isolates (U+061C,
U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), the line and paragraph separators U+2028 and
U+2029, and lone surrogates (a JSON file may hold ``"\\ud800"``; printed raw it would end the
command with an encoding error instead of a line).
"""

from __future__ import annotations

import html
import re

__all__ = ["bdi", "for_html", "for_json", "for_terminal"]

_BIDI_AND_SEPARATORS = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"

#: every character :func:`for_terminal` replaces (one precompiled class: a report is mostly
#: clean text, and a clean value costs one failed search)
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}{_SURROGATES}]")

#: the same set minus C0: ``json.dumps`` already escapes C0 inside strings, so a raw C0 in its
#: output (the newlines and spaces of ``indent``) is structure and must stay as it is
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI_AND_SEPARATORS}{_SURROGATES}]")


def _visible(match: re.Match[str]) -> str:
    cp = ord(match.group())
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def for_terminal(text: str) -> str:
    """``text`` with every control, bidi and separator character as a visible escape.

    For one value inside a line of a report; apply it to each untrusted value, not to a whole
    report (whose own newlines are meant)."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_visible, text)


def for_html(text: str) -> str:
    """``text`` HTML-escaped (quotes too: safe in an attribute) with the characters of
    :func:`for_terminal` as visible escapes, so no bidi control reaches the page."""
    return html.escape(for_terminal(text), quote=True)


def bdi(text: str) -> str:
    """An untrusted inline value for an HTML page: escaped, inside ``<bdi>``.

    ``<bdi>`` isolates the value's own direction (an Arabic or Hebrew name is still shown
    right to left) so that it cannot reorder the text around it, e.g. the label next to it."""
    return f"<bdi>{for_html(text)}</bdi>"


def for_json(json_text: str) -> str:
    """JSON text (as made by ``json.dumps(..., ensure_ascii=False)``) with DEL, C1 controls,
    bidi controls, U+2028/U+2029 and lone surrogates as ``\\uXXXX`` escapes.

    Those characters can only occur inside JSON strings, where ``\\uXXXX`` means the same
    character: the parsed value is identical, only the bytes on the terminal change."""
    if _UNSAFE_IN_JSON.search(json_text) is None:
        return json_text
    return _UNSAFE_IN_JSON.sub(_json_escape, json_text)
