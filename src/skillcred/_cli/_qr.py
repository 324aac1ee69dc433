"""``skillcred verify --qr IMAGE|TEXT``: check a printed passport's QR code against what the employer holds.

The code alone proves nothing (see :mod:`skillcred.passport_qr`): it names one exact credential.
So this command does two things and needs both to pass: the code's credential id and digest equal
a credential in ``--credential``/``--presentation`` (check ``qr.match``), and that document
verifies as ``skillcred verify`` would verify it. A code carrying a whole credential (``vc`` form)
is verified by itself when no file is given.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from skillcred._cli._common import EXIT_NOT_VERIFIED, EXIT_OK, echo_json, read_stdin_bounded, warn
from skillcred._cli._options import read_secured, render_report
from skillcred._internal.fileio import read_bounded
from skillcred._internal.textsafe import for_terminal
from skillcred.errors import InvalidArgument, QrCodeInvalid
from skillcred.passport_qr import QrMatch, QrPayload, decode_qr_image, match_qr, parse_qr_payload
from skillcred.verify import Verifier

#: a photographed or scanned page; larger files are refused before decoding
MAX_IMAGE_BYTES = 32 * 1024 * 1024


def read_qr_payloads(qr: str) -> list[QrPayload]:
    """``--qr``: an image file (every QR code in it), a text file, ``-`` (text on stdin), or the
    scanned text itself. A name that looks like a file but is none is said to be missing."""
    if qr == "-":
        text = read_stdin_bounded().decode("utf-8", "replace")
        return [parse_qr_payload(line, source="<stdin>") for line in text.splitlines() if line.strip()]
    path = Path(qr)
    if not qr.startswith("skillcred:") and path.is_file():
        data = read_bounded(path, max_bytes=MAX_IMAGE_BYTES)
        if data.lstrip().startswith(b"skillcred:"):
            return [parse_qr_payload(line, source=qr) for line in data.decode("utf-8", "replace").splitlines()
                    if line.strip()]
        return [parse_qr_payload(t, source=qr) for t in decode_qr_image(data, source=qr)]
    if not qr.startswith("skillcred:") and (path.suffix.lower() in (".png", ".jpg", ".jpeg", ".gif", ".webp",
                                                                    ".bmp", ".tif", ".tiff", ".txt") or "/" in qr):
        raise QrCodeInvalid("no such file (give an image of the code, or the text under it)", path=qr)
    return [parse_qr_payload(qr, source="--qr")]


def run_qr_check(qr: str, credential_file: str | None, presentation_file: str | None, verifier: Verifier, *,
                 challenge: str | None, domain: str | None, at: Any, as_json: bool) -> None:
    """Check the code(s) in ``qr`` and the held document; print the outcome and exit (0 all
    matched and verified, 1 not, 2 unusable input via the caller's error handling)."""
    if credential_file and presentation_file:
        raise InvalidArgument("give --credential or --presentation, not both")
    held_file = credential_file or presentation_file
    if qr == "-" and held_file == "-":
        raise InvalidArgument("only one of --qr and --credential/--presentation can be read from stdin ('-')")
    payloads = read_qr_payloads(qr)
    documents: list[tuple[str, dict[str, Any]]] = []
    matches: list[QrMatch] = []
    if held_file:
        secured = read_secured(held_file)
        if bool(presentation_file) != secured.presentation:
            raise InvalidArgument(f"{held_file} is {'a presentation' if secured.presentation else 'a credential'}: "
                                  f"give it with {'--presentation' if secured.presentation else '--credential'}")
        matches = [match_qr(p, [secured]) for p in payloads]
        documents.append((held_file, secured.envelope()))
    else:
        refs = [p for p in payloads if p.credential is None]
        if refs:
            raise InvalidArgument(f"the code for {refs[0].credential_id} holds only its id and digest: give the "
                                  "credential (--credential FILE) or presentation (--presentation FILE) the "
                                  "worker sent you")
        for p in payloads:
            assert p.credential is not None
            matches.append(QrMatch("qr_match", p, f"credential {p.credential_id}: carried whole in the code",
                                   p.credential))
            documents.append((f"QR code ({p.credential_id})", p.credential))
    reports = [verifier.check(doc, challenge=challenge, domain=domain, at=at, source=src) for src, doc in documents]
    for r in reports:  # on stderr in --json mode too: stdout stays one JSON object
        for w in r.warnings:
            warn(w)
    verified = all(m.matched for m in matches) and all(r.verified for r in reports)
    if as_json:
        echo_json(json.dumps({"verified": verified, "qr": [m.to_dict() for m in matches],
                              "verification": [r.to_dict() for r in reports]}, indent=2, ensure_ascii=False))
    else:
        t = for_terminal
        lines = [f"{'QR VERIFIED' if verified else 'QR NOT VERIFIED'}: {len(matches)} code(s)"
                 + (f" against {t(held_file)}" if held_file else "")]
        for i, m in enumerate(matches, 1):
            lines.append(f"  {'ok  ' if m.matched else 'FAIL'} qr.match [{i}] {t(m.reason)} ({m.code})")
        lines.extend(render_report(r) for r in reports)
        click.echo("\n".join(lines))
    sys.exit(EXIT_OK if verified else EXIT_NOT_VERIFIED)
