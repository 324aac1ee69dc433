"""The worker's side: a wallet folder the worker owns, and presentations they sign.

A wallet is a plain folder (default: the per-user data folder, or ``SKILLCRED_WALLET``)::

    wallet.json          the holder: DID, verification method, key type
    holder-key.pem       the holder's key (PKCS#8, mode 0600, encrypted with a passphrase)
    credentials/*.json   one file per credential, exactly as issued (the source of truth)
    index.json           a cache of summaries, rebuilt from the files whenever it disagrees
    .lock                writers hold an exclusive lock on it

Every write is a temp file + fsync + rename under the lock, so a crash or a second process
never leaves a half-written credential; the index can always be rebuilt, so a stale or
damaged index is never fatal, and one that cannot be written (a read-only wallet) is rebuilt
in memory. A damaged or foreign file in ``credentials/`` is reported and skipped, never fatal
to the rest; so is anything that is not a regular file physically in the folder (a symbolic
link, even to another credential of the wallet, a FIFO, a device): only files the wallet
itself holds count as the worker's credentials.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import stat
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from skillcred._internal.fileio import (
    MAX_SECRET_BYTES,
    atomic_write,
    dump_json,
    load_json_object,
    locked,
    parse_json,
    read_bounded,
)
from skillcred._internal.timeutil import parse_datetime, utcnow
from skillcred.did import DidResolver, key_did, key_did_url
from skillcred.errors import InvalidArgument, MalformedDocument, SkillcredError, StoreError, WalletError
from skillcred.keys import KeyPair, KeyType, read_key_file, write_key_file
from skillcred.schemas import CREDENTIAL_SCHEMA_BY_KIND
from skillcred.secured import SecuredCredential
from skillcred.securing import check_sd_base, envelope_for_presentation, is_sd_base

# skillcred.proofs (pyld, RDF canonicalization: most of a cold start) is imported where a proof
# is made or checked, not here: `wallet list` / `wallet show` only read records

__all__ = [
    "KINDS",
    "Listing",
    "Problem",
    "Selection",
    "Wallet",
    "WalletEntry",
    "credential_kind",
    "default_wallet_path",
    "summarize",
]

WALLET_FILE = "wallet.json"
KEY_FILE = "holder-key.pem"
CRED_DIR = "credentials"
INDEX_FILE = "index.json"
LOCK_FILE = ".lock"
DID_DIR = "dids"
EXPORT_TYPE = "SkillcredWalletExport"
KINDS = ("diploma", "skill", "on-the-job", "soft-skill", "other")
EXPIRY_WARNING = timedelta(days=90)


def default_wallet_path() -> Path:
    """``$SKILLCRED_WALLET``, else ``$XDG_DATA_HOME/skillcred/wallet`` (``~/.local/share``)."""
    env = os.environ.get("SKILLCRED_WALLET")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "skillcred" / "wallet"


def _types(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def _subjects(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    subj = doc.get("credentialSubject")
    if isinstance(subj, list):
        return [s for s in subj if isinstance(s, Mapping)]
    return [subj] if isinstance(subj, Mapping) else []


def credential_kind(doc: Mapping[str, Any]) -> str:
    """Which part of the passport a credential belongs to.

    Our own credentials say it with ``credentialSchema``; for others the OB achievement type
    decides (Diploma and degrees -> diploma). Soft skills are on-the-job attestations or
    skills tagged "soft skill".
    """
    schemas = doc.get("credentialSchema")
    schema_ids = {s.get("id") for s in (schemas if isinstance(schemas, list) else [schemas]) if isinstance(s, Mapping)}
    kind = next((k for k, sid in CREDENTIAL_SCHEMA_BY_KIND.items() if sid in schema_ids), None)
    ach = _achievement(doc)
    tags = [t.lower() for t in ach.get("tag", []) if isinstance(t, str)] if ach else []
    if any("soft" in t for t in tags):
        return "soft-skill"
    if kind:
        return kind
    atype = ach.get("achievementType") if ach else None
    if atype in ("Diploma", "Degree", "AssociateDegree", "BachelorDegree", "MasterDegree",
                 "SecondarySchoolDiploma", "DoctoralDegree"):
        return "diploma"
    if atype in ("Competency", "Certification", "Certificate", "License", "Badge", "MicroCredential"):
        return "skill"
    return "other"


def _achievement(doc: Mapping[str, Any]) -> dict[str, Any]:
    for s in _subjects(doc):
        ach = s.get("achievement")
        if isinstance(ach, Mapping):
            return dict(ach)
    return {}


def _level(doc: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(level name, level value) of the first Result, looked up in the achievement's rubric."""
    ach = _achievement(doc)
    levels = {
        lvl.get("id"): lvl
        for rd in ach.get("resultDescription", []) if isinstance(rd, Mapping)
        for lvl in rd.get("rubricCriterionLevel", []) if isinstance(lvl, Mapping)
    }
    for s in _subjects(doc):
        for r in s.get("result", []) if isinstance(s.get("result"), list) else []:
            if isinstance(r, Mapping) and r.get("achievedLevel"):
                lvl = levels.get(r["achievedLevel"], {})
                return lvl.get("name") or str(r["achievedLevel"]), lvl.get("level")
            if isinstance(r, Mapping) and r.get("value"):
                return str(r["value"]), str(r["value"])
    return None, None


def _issuer(doc: Mapping[str, Any]) -> tuple[str, str]:
    iss = doc.get("issuer")
    if isinstance(iss, Mapping):
        return str(iss.get("id", "")), str(iss.get("name") or iss.get("id", ""))
    return str(iss or ""), str(iss or "")


@dataclass(frozen=True)
class WalletEntry:
    """A summary of one credential, for lists and the passport (not the credential itself)."""

    id: str
    file: str
    type: list[str]
    kind: str
    achievement: str
    achievement_id: str | None
    level: str | None
    level_value: str | None
    issuer: str
    issuer_name: str
    subject: str | None
    issued: str | None
    expires: str | None
    format: str = "di"

    def validity(self, at: datetime) -> str:
        """``valid``, ``expiring`` (within 90 days), ``expired`` or ``not-yet-valid``."""
        try:
            if self.issued and parse_datetime(self.issued) > at:
                return "not-yet-valid"
            if self.expires:
                end = parse_datetime(self.expires)
                if end <= at:
                    return "expired"
                if end - at <= EXPIRY_WARNING:
                    return "expiring"
        except MalformedDocument:
            return "invalid-dates"
        return "valid"

    def to_dict(self, at: datetime | None = None) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.validity(at or utcnow())
        return out


def summarize(doc: Mapping[str, Any], *, file: str = "") -> WalletEntry:
    """Summarize a credential for display (reads claims; does not verify anything)."""
    ach = _achievement(doc)
    level, value = _level(doc)
    issuer_id, issuer_name = _issuer(doc)
    subjects = _subjects(doc)
    return WalletEntry(
        id=str(doc.get("id") or ""),
        file=file,
        type=_types(doc.get("type")),
        kind=credential_kind(doc),
        achievement=str(ach.get("name") or doc.get("name") or "(unnamed)"),
        achievement_id=ach.get("id"),
        level=level,
        level_value=value,
        issuer=issuer_id,
        issuer_name=issuer_name,
        subject=str(subjects[0].get("id")) if subjects and subjects[0].get("id") else None,
        issued=doc.get("validFrom") or doc.get("issuanceDate"),
        expires=doc.get("validUntil") or doc.get("expirationDate"),
        format=str(doc.get("securedAs") or "di"),
    )


@dataclass(frozen=True)
class Problem:
    """A file in the wallet that could not be used (reported, never fatal)."""

    file: str
    message: str


@dataclass
class Selection:
    """What :meth:`Wallet.choose` chose to present, and what it left out (with why)."""

    entries: list[WalletEntry] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    #: damaged files and credentials about someone else: never presented, to be reported
    skipped: list[Problem] = field(default_factory=list)


@dataclass
class Listing:
    entries: list[WalletEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _is_stream(path: str | os.PathLike[str]) -> bool:
    """Is ``path`` an existing FIFO, terminal or device (what :func:`atomic_write` writes through)?"""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _file_name(credential_id: str) -> str:
    digest = hashlib.sha256(credential_id.encode("utf-8")).digest()
    return base64.b32encode(digest[:15]).decode("ascii").lower() + ".json"


class Wallet:
    """An opened wallet folder. :meth:`init` creates one, :meth:`open` opens it."""

    def __init__(self, root: Path, holder: str, verification_method: str, key_type: str) -> None:
        self.root = root
        self.holder = holder
        self.verification_method = verification_method
        self.key_type = key_type

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        passphrase: bytes | None = None,
        key_type: KeyType = "ed25519",
        key: KeyPair | None = None,
    ) -> Wallet:
        """Create a wallet with a new holder key (or ``key``); refuses an existing wallet."""
        root = Path(path) if path else default_wallet_path()
        if (root / WALLET_FILE).exists():
            raise WalletError("a wallet already exists here", path=str(root))
        holder_key = key or KeyPair.generate(key_type)
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)
        (root / CRED_DIR).mkdir(exist_ok=True)
        with locked(root / LOCK_FILE):
            if not (root / KEY_FILE).exists():
                write_key_file(root / KEY_FILE, holder_key, passphrase)
            did = key_did(holder_key.public_key)
            method = key_did_url(holder_key.public_key)
            meta = {"version": 1, "holder": did, "verificationMethod": method, "keyType": holder_key.key_type}
            atomic_write(root / WALLET_FILE, dump_json(meta))
        return cls(root, did, method, holder_key.key_type)

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Wallet:
        root = Path(path) if path else default_wallet_path()
        meta_path = root / WALLET_FILE
        if not meta_path.exists():
            raise WalletError("no wallet here (create one with 'skillcred wallet init')", path=str(root))
        meta = load_json_object(meta_path)
        try:
            return cls(root, meta["holder"], meta["verificationMethod"], meta["keyType"])
        except KeyError as exc:
            raise WalletError(f"wallet.json is missing {exc}", path=str(meta_path)) from exc

    def holder_key(self, passphrase: bytes | None = None) -> KeyPair:
        """The holder's key, to sign presentations.

        A key file that group or others can read warns (:class:`SkillcredSecurityWarning`)
        but is used: the wallet folder itself is created 0700, a presentation it signs is
        bound to one verifier's challenge and domain, and wallets live on media (a FAT USB
        stick) where ``chmod`` cannot help. An issuer key, which signs credentials for
        everyone, is refused instead (:meth:`skillcred.issuer.Issuer.open`)."""
        key = read_key_file(self.root / KEY_FILE, passphrase)
        if key_did(key.public_key) != self.holder:
            raise WalletError("the holder key does not match wallet.json", path=str(self.root / KEY_FILE))
        return key

    # -- reading -----------------------------------------------------------------------------

    def _cred_dir(self) -> Path:
        """``credentials/``, which must be a real folder in the wallet (not a link elsewhere)."""
        folder = self.root / CRED_DIR
        if folder.is_symlink():
            raise WalletError("the credentials folder is a symbolic link; only a real folder inside the "
                              "wallet holds credentials", path=str(folder))
        return folder

    def _scan(self) -> Listing:
        listing = Listing()
        for path in sorted(self._cred_dir().glob("*.json")):
            if path.name.startswith("."):
                continue  # a temp file of an interrupted write
            try:
                # only regular files physically in credentials/ count; never follow a link
                # (O_NOFOLLOW), never block on a FIFO or read a device (see open_input)
                if path.is_symlink():
                    raise MalformedDocument("is a symbolic link; only files inside the wallet count", path=str(path))
                doc = load_json_object(path, follow_symlinks=False)
                if "VerifiableCredential" not in _types(doc.get("type")) or not doc.get("id"):
                    raise MalformedDocument("not a verifiable credential with an id", path=str(path))
                listing.entries.append(summarize(doc, file=path.name))
            except SkillcredError as exc:
                listing.problems.append(Problem(path.name, exc.message))
        return listing

    def _stamps(self) -> list[list[Any]]:
        """``[name, size, mtime_ns, inode]`` of every credential file: what the index was built from.

        A file changed in place (same name) changes its stamp, so the index is never trusted
        for a file it did not read."""
        stamps: list[list[Any]] = []
        for path in sorted(self._cred_dir().glob("*.json")):
            if path.name.startswith("."):
                continue
            try:
                st = path.lstat()  # the entry itself: a link is stamped (and reported), never followed
            except OSError:
                continue  # removed meanwhile
            stamps.append([path.name, st.st_size, st.st_mtime_ns, st.st_ino])
        return stamps

    def listing(self) -> Listing:
        """All credentials (from the index when it matches the files, else by rescanning).

        The index is only a cache: when it is stale and cannot be rewritten (a read-only
        wallet, a full disk, a lock file that cannot be created) the listing is rebuilt in
        memory and returned all the same."""
        stamps = self._stamps()
        try:
            index = load_json_object(self.root / INDEX_FILE, follow_symlinks=False)
            if index.get("files") == stamps:
                cached = Listing(
                    [WalletEntry(**e) for e in index["entries"]],
                    [Problem(**p) for p in index.get("problems", [])],
                )
                covered = sorted([e.file for e in cached.entries] + [p.file for p in cached.problems])
                if covered == [s[0] for s in stamps]:
                    return cached
        except (SkillcredError, TypeError, KeyError):
            pass
        listing = self._scan()
        try:
            with locked(self.root / LOCK_FILE):
                self._write_index(listing, stamps)
        except (OSError, StoreError):
            pass  # a read-only wallet still lists (locked/atomic_write say StoreError for EROFS, EACCES)
        return listing

    def _write_index(self, listing: Listing, stamps: list[list[Any]]) -> None:
        """Write the index of ``listing``; ``stamps`` must be taken *before* the scan."""
        atomic_write(self.root / INDEX_FILE, dump_json({
            "files": stamps,
            "entries": [asdict(e) for e in listing.entries],
            "problems": [asdict(p) for p in listing.problems],
        }), follow_symlinks=False)

    def _rebuild_index(self) -> None:
        """Rescan and rewrite the index (callers hold the lock)."""
        stamps = self._stamps()
        self._write_index(self._scan(), stamps)

    def entries(self) -> list[WalletEntry]:
        return self.listing().entries

    def find(self, ref: str) -> WalletEntry:
        """An entry by full id, or by a unique part of it (e.g. the end of a UUID)."""
        return self._match(self.entries(), ref)

    def _match(self, entries: list[WalletEntry], ref: str) -> WalletEntry:
        exact = [e for e in entries if e.id == ref]
        if exact:
            return exact[0]
        partial = [e for e in entries if ref and ref in e.id]
        if len(partial) == 1:
            return partial[0]
        if not partial:
            raise WalletError(f"no credential {ref!r} in this wallet", path=str(self.root))
        raise WalletError(f"{ref!r} matches {len(partial)} credentials; give more of the id", path=str(self.root))

    def get(self, ref: str) -> dict[str, Any]:
        """The stored record of a credential (for a token: claims plus ``securedAs``/``token``)."""
        entry = self.find(ref)
        return load_json_object(self._cred_dir() / entry.file, follow_symlinks=False)

    def secured(self, ref: str) -> SecuredCredential:
        """A credential as :class:`SecuredCredential`: what presenting and verifying take (the
        stored record is converted here, old wallets' records included)."""
        try:
            return SecuredCredential.from_record(self.get(ref))
        except MalformedDocument as exc:
            raise WalletError(exc.message, path=str(self._cred_dir() / self.find(ref).file)) from exc

    # -- writing -----------------------------------------------------------------------------

    def check_addable(
        self,
        doc: Mapping[str, Any],
        *,
        force_foreign: bool = False,
        resolver: DidResolver | None = None,
        source: str = "<input>",
    ) -> WalletEntry:
        """Everything :meth:`add` checks, without writing: proof, holder, duplicate."""
        if "VerifiableCredential" not in _types(doc.get("type")):
            raise WalletError("not a verifiable credential (type lacks VerifiableCredential)", path=source)
        cred_id = doc.get("id")
        if not isinstance(cred_id, str) or not cred_id:
            raise WalletError("credential has no id; the wallet keys credentials by id", path=source)
        if doc.get("securedAs") is not None:
            # verified (signature and issuer binding) when the token became this record; check
            # again, so a record handed in directly is not trusted blindly
            try:
                again = SecuredCredential.from_record(doc).open(resolver=resolver or DidResolver()).to_record()
            except SkillcredError as exc:
                raise WalletError(f"credential does not verify: {exc.message}", path=source) from exc
            if again != dict(doc):
                raise WalletError("the record's claims do not match its token", path=source)
            entry = summarize(doc, file=_file_name(cred_id))
            return self._holder_and_duplicate(doc, entry, force_foreign, source)
        if is_sd_base(doc):
            try:
                signer = check_sd_base(doc, resolver=resolver or DidResolver())
            except WalletError as exc:
                raise WalletError(exc.message, path=source) from exc
            if signer != _issuer(doc)[0]:
                raise WalletError(f"credential is signed by {signer}, not by its issuer {_issuer(doc)[0]}", path=source)
            return self._holder_and_duplicate(doc, summarize(doc, file=_file_name(cred_id)), force_foreign, source)
        from skillcred.proofs import check_proofs

        report = check_proofs(doc, resolver=resolver, expected_purpose="assertionMethod")
        if not report.verified:
            first = next(c for c in report.checks if c.status != "passed")
            raise WalletError(f"credential proof does not verify: {first.reason}", path=source)
        issuer_id, _ = _issuer(doc)
        if issuer_id not in report.controllers:
            raise WalletError(f"credential is signed by {report.controllers[0] if report.controllers else '?'}, "
                              f"not by its issuer {issuer_id}", path=source)
        entry = summarize(doc, file=_file_name(cred_id))
        return self._holder_and_duplicate(doc, entry, force_foreign, source)

    def _holder_and_duplicate(
        self, doc: Mapping[str, Any], entry: WalletEntry, force_foreign: bool, source: str
    ) -> WalletEntry:
        cred_id = entry.id
        subjects = {str(s.get("id")) for s in _subjects(doc)}
        if self.holder not in subjects and not force_foreign:
            raise WalletError(
                f"credential is about {', '.join(sorted(subjects)) or 'nobody'}, not this wallet's holder "
                f"{self.holder} (use force_foreign=True to keep it anyway)", path=source, field="force_foreign")
        if (self._cred_dir() / entry.file).exists():
            raise WalletError(f"already in the wallet: {cred_id} ({entry.achievement})", path=source)
        return entry

    def add(
        self,
        documents: Sequence[tuple[str, Mapping[str, Any] | SecuredCredential]] | Mapping[str, Any] | SecuredCredential,
        *,
        force_foreign: bool = False,
        resolver: DidResolver | None = None,
    ) -> list[WalletEntry]:
        """Verify and store credentials: all of them, or (on any problem) none.

        ``documents`` is one credential, or ``[(source name, credential), ...]``; a credential is
        a JSON document, a stored record, or a :class:`SecuredCredential` (a token file).
        """
        docs = ([("<input>", documents)] if isinstance(documents, Mapping | SecuredCredential)
                else list(documents))
        with locked(self.root / LOCK_FILE):
            entries = []
            seen: set[str] = set()
            for source, item in docs:
                if isinstance(item, SecuredCredential) and item.format != "di":  # a vc+jwt / SD-JWT / COSE file
                    if item.presentation:
                        raise WalletError(f"a {item.label} is a presentation, not a credential", path=source)
                    try:
                        doc = item.open(resolver=resolver or DidResolver()).to_record()
                    except SkillcredError as exc:
                        raise WalletError(f"credential does not verify: {exc.message}", path=source) from exc
                else:
                    doc = dict(item.document) if isinstance(item, SecuredCredential) else dict(item)
                entry = self.check_addable(doc, force_foreign=force_foreign, resolver=resolver, source=source)
                if entry.id in seen:
                    raise WalletError(f"given twice: {entry.id}", path=source)
                seen.add(entry.id)
                entries.append((entry, doc))
            written: list[Path] = []
            try:
                for entry, doc in entries:
                    atomic_write(self._cred_dir() / entry.file, dump_json(doc), follow_symlinks=False)
                    written.append(self._cred_dir() / entry.file)
            except BaseException:
                # All or nothing, for write failures too (disk full, interrupted): take back
                # what this call wrote; a kill -9 can still leave a prefix, never a torn file.
                for path in written:
                    with contextlib.suppress(OSError):
                        path.unlink()
                raise
            self._rebuild_index()
        return [e for e, _ in entries]

    def remember_did_documents(self, documents: Iterable[Mapping[str, Any]]) -> None:
        """Keep issuers' DID documents (did:web) so later checks of their credentials stay offline."""
        folder = self.root / DID_DIR
        folder.mkdir(exist_ok=True)
        with locked(self.root / LOCK_FILE):
            for doc in documents:
                did = str(doc.get("id", ""))
                if did:
                    name = hashlib.sha256(did.encode("utf-8")).hexdigest()[:32] + ".json"
                    atomic_write(folder / name, dump_json(dict(doc)))

    def did_documents(self) -> list[dict[str, Any]]:
        folder = self.root / DID_DIR
        out = []
        for p in sorted(folder.glob("*.json")) if folder.is_dir() and not folder.is_symlink() else []:
            try:
                out.append(load_json_object(p, follow_symlinks=False))
            except SkillcredError:
                continue
        return out

    def resolver(self, extra: Iterable[Mapping[str, Any]] = ()) -> DidResolver:
        return DidResolver([*self.did_documents(), *extra])

    def remove(self, ref: str) -> WalletEntry:
        with locked(self.root / LOCK_FILE):
            # look it up from the files, not via listing(): that may take this same lock to
            # rewrite a stale index, and a second flock by this process would wait forever
            entry = self._match(self._scan().entries, ref)
            (self._cred_dir() / entry.file).unlink()
            self._rebuild_index()
        return entry

    def export(self, target: str | os.PathLike[str], *, force: bool = False) -> int:
        """Write a backup bundle: the holder key file (still encrypted), every credential, and
        the stored issuer DID documents (without them a did:web credential does not verify on
        a new laptop, offline, and :meth:`import_bundle` would refuse it).

        An existing ``target`` (an older backup, or any other file) is refused unless ``force``;
        a pipe or a device (``/dev/stdout``, to encrypt it on the way) is written through."""
        if not force and os.path.lexists(target) and not _is_stream(target):
            raise WalletError("already exists; not overwritten (give another file, or force=True to replace it)",
                              path=str(target), field="force")
        listing = self.listing()
        holder_key_pem = read_bounded(self.root / KEY_FILE, max_bytes=MAX_SECRET_BYTES, what="holder key file",
                                      error=WalletError, follow_symlinks=False).decode("ascii", "replace")
        credentials = [load_json_object(self._cred_dir() / e.file, follow_symlinks=False) for e in listing.entries]
        bundle = {
            "type": EXPORT_TYPE,
            "version": 1,
            "holder": self.holder,
            "verificationMethod": self.verification_method,
            "keyType": self.key_type,
            "holderKeyPem": holder_key_pem,
            "credentials": credentials,
            "didDocuments": self.did_documents(),
        }
        atomic_write(target, dump_json(bundle), mode=0o600)
        return len(credentials)

    @classmethod
    def import_bundle(
        cls, source: str | os.PathLike[str], path: str | os.PathLike[str] | None = None,
        *, resolver: DidResolver | None = None,
    ) -> tuple[Wallet, int]:
        """Restore a backup: into a new wallet (key included), or add to the same holder's wallet.

        The issuer DID documents the backup carries verify its credentials (with ``resolver``'s
        documents beside them) and are stored in the wallet again, as ``wallet add
        --did-document`` would have."""
        bundle = load_json_object(source)
        if bundle.get("type") != EXPORT_TYPE:
            raise WalletError("not a skillcred wallet export", path=str(source))
        carried = bundle.get("didDocuments", [])
        if not isinstance(carried, list) or not all(
                isinstance(d, dict) and isinstance(d.get("id"), str) and not d["id"].startswith("did:key:")
                for d in carried):
            raise WalletError("didDocuments must be a list of DID documents (objects with a string id)",
                              path=str(source))
        try:
            if resolver is None:
                resolver = DidResolver(carried)
            else:  # a document given explicitly wins over the backup's copy
                for d in carried:
                    if d["id"] not in resolver.known():
                        resolver.add(d)
        except SkillcredError as exc:
            raise WalletError(f"didDocuments: {exc.message}", path=str(source)) from exc
        root = Path(path) if path else default_wallet_path()
        if (root / WALLET_FILE).exists():
            wallet = cls.open(root)
            if wallet.holder != bundle.get("holder"):
                raise WalletError(f"export belongs to {bundle.get('holder')}, this wallet to {wallet.holder}",
                                  path=str(source))
        else:
            root.mkdir(parents=True, exist_ok=True)
            (root / CRED_DIR).mkdir(exist_ok=True)
            pem = str(bundle.get("holderKeyPem", "")).encode("ascii")
            if b"PRIVATE KEY" not in pem:
                raise WalletError("export has no holder key", path=str(source))
            atomic_write(root / KEY_FILE, pem, mode=0o600, follow_symlinks=False)
            meta = {"version": 1, "holder": bundle["holder"], "verificationMethod": bundle["verificationMethod"],
                    "keyType": bundle["keyType"]}
            atomic_write(root / WALLET_FILE, dump_json(meta))
            wallet = cls.open(root)
        existing = {e.id for e in wallet.entries()}
        new = [(f"{source}#credentials[{i}]", c) for i, c in enumerate(bundle.get("credentials", []))
               if isinstance(c, dict) and c.get("id") not in existing]
        added = wallet.add(new, force_foreign=True, resolver=resolver) if new else []
        if carried:
            wallet.remember_did_documents(carried)
        return wallet, len(added)

    # -- presenting --------------------------------------------------------------------------

    def select(
        self, *, ids: Iterable[str] = (), kinds: Iterable[str] = (), all_credentials: bool = False
    ) -> list[dict[str, Any]]:
        """The credentials chosen by selector (see :meth:`choose`), by kind, or all.

        Damaged files and credentials about someone else are left out (:meth:`choose` says
        which); a selector naming such a credential, or matching several, is an error."""
        return self.choose(ids, kinds=kinds, all_credentials=all_credentials).documents

    def choose(
        self, selectors: Iterable[str] = (), *, kinds: Iterable[str] = (), all_credentials: bool = False
    ) -> Selection:
        """What to present: credentials chosen by selector, by kind, or all -- and what was left out.

        A selector is, in this order: a credential's full id; a kind (``diploma``, ``skill``,
        ``on-the-job``, ...: every credential of it); an achievement name (any case); or a
        unique part of an id or of an achievement name (any case, e.g. ``cnc``). A selector
        matching several credentials is refused with the candidates listed
        (:class:`InvalidArgument`), never resolved by guessing: the worker decides what an
        employer sees.

        A credential whose subject is not this wallet's holder (one copied into the folder, or
        kept with ``--force-foreign``) is never presented: selected by name it is an error, under
        ``--kind`` / ``--all`` it is skipped. So is a damaged file. Both are in
        :attr:`Selection.skipped`, for the caller to report.
        """
        kind_set = set(kinds)
        if kind_set - set(KINDS):
            raise InvalidArgument(f"unknown kind(s) {', '.join(sorted(kind_set - set(KINDS)))}; use {', '.join(KINDS)}")
        listing = self.listing()
        entries = listing.entries
        explicit: list[WalletEntry] = []
        broad: list[WalletEntry] = []  # by kind or all: foreign ones are skipped, not refused
        for ref in selectors:
            matched = self._select_one(entries, ref)
            (broad if ref in KINDS and ref not in {e.id for e in entries} else explicit).extend(matched)
        if all_credentials:
            broad.extend(entries)
        broad.extend(e for e in entries if e.kind in kind_set)
        out = Selection()
        if all_credentials or kind_set or any(r in KINDS for r in selectors):
            out.skipped.extend(listing.problems)
        seen: set[str] = set()
        for e in [*explicit, *broad]:
            if e.id in seen:
                continue
            seen.add(e.id)
            doc = load_json_object(self._cred_dir() / e.file, follow_symlinks=False)
            subjects = sorted({str(sub.get("id")) for sub in _subjects(doc)})
            if self.holder not in subjects:
                why = (f"is about {', '.join(subjects) or 'nobody'}, not you ({self.holder}); "
                       "a credential about someone else is never presented")
                if e in explicit:
                    raise WalletError(f"{e.id} ({e.achievement}) {why}", path=str(self._cred_dir() / e.file))
                out.skipped.append(Problem(e.file, f"{e.id} ({e.achievement}) {why}"))
                continue
            out.entries.append(e)
            out.documents.append(doc)
        if not out.entries:
            raise InvalidArgument("nothing selected: give selectors (ID/NAME/KIND), kinds or all_credentials=True"
                                  + (f" ({len(out.skipped)} file(s) left out: {out.skipped[0].file}: "
                                     f"{out.skipped[0].message})" if out.skipped else ""), field="selectors")
        return out

    def _select_one(self, entries: list[WalletEntry], ref: str) -> list[WalletEntry]:
        """The credentials one selector names (see :meth:`choose`); none or several is an error."""
        exact = [e for e in entries if e.id == ref]
        if exact:
            return exact[:1]
        if ref in KINDS:
            of_kind = [e for e in entries if e.kind == ref]
            if not of_kind:
                raise InvalidArgument(f"no {ref} credentials in this wallet")
            return of_kind
        folded = ref.strip().casefold()
        if not folded:
            raise InvalidArgument("an empty selector matches nothing; give an id, a name or a kind", field="selectors")
        named = [e for e in entries if e.achievement.casefold() == folded]
        candidates = named or [e for e in entries if ref in e.id or folded in e.achievement.casefold()]
        if len(candidates) == 1:
            return candidates
        if not candidates:
            raise InvalidArgument(f"no credential {ref!r} in this wallet (by id, achievement name or kind; "
                                  "see 'skillcred wallet list')")
        listed = "; ".join(f"{e.id} ({e.achievement}{', ' + e.level if e.level else ''})" for e in candidates[:10])
        more = f"; and {len(candidates) - 10} more" if len(candidates) > 10 else ""
        raise InvalidArgument(f"{ref!r} matches {len(candidates)} credentials: {listed}{more}; "
                              "select one by its id (or a longer part of the name)")

    def present(
        self,
        credentials: Sequence[Mapping[str, Any] | SecuredCredential],
        *,
        key: KeyPair,
        challenge: str,
        domain: str,
        cryptosuite: str | None = None,
        created: datetime | None = None,
        disclose: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A VerifiablePresentation of ``credentials``, signed for one verifier.

        The proof has purpose ``authentication`` and carries the verifier's ``challenge`` and
        ``domain``, so it cannot be replayed to another employer or reused later. JWT and SD-JWT
        credentials travel as ``EnvelopedVerifiableCredential``; of an SD-JWT only the claims at
        the ``disclose`` JSON pointers are released, with a Key Binding JWT for this verifier.
        """
        secured = [c if isinstance(c, SecuredCredential) else SecuredCredential.from_record(c) for c in credentials]

        def selective(c: SecuredCredential) -> bool:
            return c.format == "sd-jwt" or (c.format == "di" and is_sd_base(c.document))

        if disclose and not any(selective(c) for c in secured):
            raise InvalidArgument("disclose applies to SD-JWT and ecdsa-sd-2023 credentials, and none is selected",
                                  field="disclose")
        if not challenge or not domain:
            raise InvalidArgument("a presentation needs the verifier's challenge and domain")
        if key_did(key.public_key) != self.holder:
            raise WalletError("this key is not the wallet holder's key", path=str(self.root))
        vp = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiablePresentation"],
            "holder": self.holder,
            "verifiableCredential": [
                envelope_for_presentation(c, disclose=disclose if selective(c) else (),
                                          holder_key=key, challenge=challenge, domain=domain)
                for c in secured
            ],
        }
        from skillcred.proofs import add_proof, default_suite_for

        return add_proof(
            vp, key, verification_method=self.verification_method,
            cryptosuite=cryptosuite or default_suite_for(key), proof_purpose="authentication",
            challenge=challenge, domain=domain, created=created,
        )


def read_credentials_input(data: bytes, source: str) -> list[tuple[str, dict[str, Any] | SecuredCredential]]:
    """A credential, a list of credentials, or a presentation's credentials, from bytes; a
    token file (vc+jwt, SD-JWT, COSE: told from the content) is one :class:`SecuredCredential`,
    verified when it is added. A baked badge (a PNG or SVG, Open Badges 3.0 §5.3) gives the one
    credential it carries (:func:`skillcred.badge.unbake`)."""
    if data.startswith(b"\x89PNG") or data.lstrip()[:1] == b"<" or data.startswith(b"\xef\xbb\xbf<"):
        from skillcred.badge import unbake

        return [(source, unbake(data, source=source).credential)]
    text = data.strip()
    if data.startswith((b"\xd2\x84", b"\x84")) or (text[:1] not in (b"{", b"[") and text.isascii()):
        return [(source, SecuredCredential.from_file_bytes(data, source))]
    value = parse_json(data, source=source)
    if isinstance(value, list):
        items = value
    elif isinstance(value, dict) and "VerifiablePresentation" in _types(value.get("type")):
        vc = value.get("verifiableCredential", [])
        items = vc if isinstance(vc, list) else [vc]
    else:
        items = [value]
    out: list[tuple[str, dict[str, Any] | SecuredCredential]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise MalformedDocument("expected a credential (JSON object)",
                                    path=f"{source}[{i}]" if len(items) > 1 else source)
        out.append((source if len(items) == 1 else f"{source}[{i}]", item))
    return out


def _json_default(o: object) -> str:
    return str(o)


def dumps_entries(entries: Iterable[WalletEntry], at: datetime | None = None) -> str:
    return json.dumps([e.to_dict(at) for e in entries], indent=2, ensure_ascii=False, default=_json_default)
