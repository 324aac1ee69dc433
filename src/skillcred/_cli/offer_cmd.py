"""``skillcred offer``: the institute offers a credential into a worker's wallet (OpenID4VCI)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import click

from skillcred._cli._common import UNSAFE_HTTP_LOOPBACK, errors_to_exit, fail, http_loopback_warned, option_words
from skillcred._cli._options import REGISTRY_OPTION
from skillcred._internal.fileio import MAX_JSON_BYTES, atomic_write, load_json_object, read_bounded
from skillcred._internal.textsafe import for_terminal
from skillcred._internal.timeutil import format_datetime
from skillcred.errors import InvalidArgument, MalformedDocument
from skillcred.issuer import PROFILE_FILE, IssuerProfile, load_achievement, open_issuer_registry
from skillcred.models import AchievementDefinition
from skillcred.oid4vci.offers import (
    DEFAULT_VALID_SECONDS,
    FORMATS,
    MAX_BATCH,
    CreatedOffer,
    OfferInput,
    check_offer_input,
    create_offers,
)

_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _terminal_qr(uri: str) -> str:
    import qrcode  # type: ignore[import-untyped]

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    qr.add_data(uri)
    qr.make(fit=True)
    out = io.StringIO()
    qr.print_ascii(out=out)
    return out.getvalue().rstrip("\n")


def _png_qr(uri: str, path: str) -> None:
    import qrcode
    from qrcode.image.pure import PyPNGImage  # type: ignore[import-untyped]

    buf = io.BytesIO()
    qrcode.make(uri, image_factory=PyPNGImage, border=4).save(buf)
    atomic_write(path, buf.getvalue())


def _default_public_url(profile: IssuerProfile) -> str:
    """Where ``skillcred serve`` runs for this issuer: the status lists' host when they are
    served by it (``.../status``), else the institute's URL."""
    base = profile.status_base_url.rstrip("/")
    return base.removesuffix("/status") if base.endswith("/status") else profile.url


def _cell(value: str) -> str:
    """A mail-merge cell a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(_CSV_FORMULA) else value


def _read_roster(path: str, default: AchievementDefinition | None, level: str | None, fmt: str
                 ) -> tuple[list[OfferInput], list[dict[str, str]]]:
    text = read_bounded(path, max_bytes=MAX_JSON_BYTES * 4, what="roster").decode("utf-8-sig", "strict")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or not ({"name", "subject_name"} & set(reader.fieldnames)):
        raise MalformedDocument("the roster needs a header with a 'name' column", path=path)
    cache: dict[str, AchievementDefinition] = {}
    items: list[OfferInput] = []
    rows: list[dict[str, str]] = []
    for line, row in enumerate(reader, start=2):
        if len(items) >= MAX_BATCH:
            raise InvalidArgument(f"at most {MAX_BATCH} offers per roster", path=path)
        clean = {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}
        name = clean.get("name") or clean.get("subject_name") or ""
        if not name:
            raise MalformedDocument(f"line {line}: no name", path=path)
        ach_file = clean.get("achievement")
        if ach_file:
            target = str(Path(path).parent / ach_file)
            if target not in cache:
                cache[target] = load_achievement(target)
            definition = cache[target]
        elif default is not None:
            definition = default
        else:
            raise MalformedDocument(f"line {line}: no achievement (give --achievement or an achievement column)",
                                    path=path)
        row_fmt = clean.get("format") or fmt
        if row_fmt not in FORMATS:
            raise MalformedDocument(f"line {line}: format must be one of {', '.join(FORMATS)}", path=path)
        try:
            item = OfferInput(definition, name, clean.get("level") or level, row_fmt)  # type: ignore[arg-type]
            check_offer_input(item)
        except InvalidArgument as exc:
            raise InvalidArgument(f"line {line}: {option_words(exc.message, exc.code, exc.field)}", path=path) from exc
        items.append(item)
        rows.append(clean)
    if not items:
        raise MalformedDocument("the roster has no rows", path=path)
    return items, rows


def _write_mail_merge(out: str, offers: list[CreatedOffer], rows: list[dict[str, str]]) -> None:
    extra = [k for k in rows[0] if k not in ("offer_uri", "tx_code", "offer_id", "expires")]
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([*extra, "offer_uri", "tx_code", "offer_id", "expires"])
    for offer, row in zip(offers, rows, strict=True):
        writer.writerow([*(_cell(row.get(k, "")) for k in extra), offer.uri, offer.tx_code or "", offer.id,
                         format_datetime(datetime.fromtimestamp(offer.expires_at, UTC))])
    atomic_write(out, buf.getvalue().encode("utf-8"), mode=0o600)


@click.command()
@click.option("--issuer", "issuer_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="The issuer folder (its registry keeps the offer; no key is needed to offer).")
@click.option("--achievement", type=click.Path(exists=True, dir_okay=False),
              help="Achievement definition (JSON/YAML). With --batch: the default for rows without one.")
@click.option("--subject-name", "subject_name", help="The worker's name, as the credential will state it.")
@click.option("--level", help="Achieved level (a rubric level of the achievement).")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="jwt_vc_json", show_default=True,
              help="How the credential is secured: dc+sd-jwt (EU wallets), jwt_vc_json, ldp_vc (Data Integrity).")
@click.option("--tx-code", "tx_code", is_flag=True,
              help="Also require a 6-digit transaction code, sent to the worker separately (printed on stderr).")
@click.option("--qr-png", type=click.Path(dir_okay=False), help="Also write the QR code as a PNG image.")
@click.option("--batch", "roster", type=click.Path(exists=True, dir_okay=False),
              help="CSV roster (columns: name; optionally level, achievement, format, e-mail...): one offer per row.")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False),
              help="With --batch: the mail-merge CSV to write (offer links and transaction codes).")
@click.option("--public-url", help="The URL 'skillcred serve --public-url' runs under for this issuer "
                                   "(default: the status list host, else the institute's URL).")
@click.option("--valid-hours", type=click.IntRange(1, 90 * 24), default=DEFAULT_VALID_SECONDS // 3600,
              show_default=True, help="How long the offer can be redeemed.")
@UNSAFE_HTTP_LOOPBACK
@REGISTRY_OPTION
@errors_to_exit
def offer(issuer_dir: str, achievement: str | None, subject_name: str | None, level: str | None, fmt: str,
          tx_code: bool, qr_png: str | None, roster: str | None, out: str | None, public_url: str | None,
          valid_hours: int, unsafe_allow_http_loopback: bool, registry: str | None) -> None:
    """Offer a credential into a worker's wallet (OpenID4VCI, pre-authorized code).

    Prints the openid-credential-offer:// link on the first line, then a QR code to scan with
    the wallet. The credential itself is issued (and recorded, like 'skillcred issue') when the
    wallet redeems the offer at 'skillcred serve' running on this issuer folder. The offer is
    single-use and expires; with --tx-code it also needs the code printed on stderr, which you
    send to the worker another way (never in the same message as the link).
    """
    root = Path(issuer_dir)
    if not (root / PROFILE_FILE).exists():
        fail(f"{root}: not an issuer folder (no issuer.json; run 'skillcred issuer init')")
    profile = IssuerProfile.from_json(load_json_object(root / PROFILE_FILE), source=str(root / PROFILE_FILE))
    url = (public_url or _default_public_url(profile)).rstrip("/")
    default = load_achievement(achievement) if achievement else None
    if roster is not None:
        if out is None:
            fail("--batch needs -o FILE: the mail-merge CSV of offer links and transaction codes")
        if subject_name or qr_png:
            fail("--batch takes the names from the roster; --subject-name and --qr-png are for one offer")
        items, rows = _read_roster(roster, default, level, fmt)
    else:
        if default is None or not subject_name:
            fail("give --achievement and --subject-name (or --batch ROSTER -o FILE)")
        if out is not None:
            fail("-o is for --batch; one offer is printed")
        items = [OfferInput(default, subject_name, level, fmt)]  # type: ignore[arg-type]
        rows = []
    with open_issuer_registry(root, registry) as reg:  # where 'skillcred serve' on this folder looks
        with http_loopback_warned(unsafe_allow_http_loopback, "the offer's issuer URL"):
            offers = create_offers(reg, items, credential_issuer=url, tx_code=tx_code,
                                   valid_seconds=valid_hours * 3600,
                                   unsafe_allow_http_loopback=unsafe_allow_http_loopback)
    if roster is not None:
        assert out is not None
        _write_mail_merge(out, offers, rows)
        click.echo(out)
        click.echo(f"{len(offers)} offers written to {out} (valid {valid_hours} h; keep the file private: "
                   "each link redeems a credential)", err=True)
        return
    created = offers[0]
    if qr_png:
        _png_qr(created.uri, qr_png)
    click.echo(created.uri)
    if created.tx_code:  # before the QR code: a reader that stops after the link still gets it
        click.echo(f"transaction code: {created.tx_code} (send it to {for_terminal(items[0].name)} separately)",
                   err=True)
    click.echo(f"offer {created.id} valid {valid_hours} h; the wallet redeems it at {url}", err=True)
    click.echo(_terminal_qr(created.uri))
