"""ESCO inside skillcred: real occupations, real skills, offline.

ESCO (European Skills, Competences, Qualifications and Occupations) is the EU's multilingual
classification that EURES and public employment services match on. A skills passport has to
line up with vacancies written by employers who never heard of the institute that issued a
badge; a shared vocabulary is what makes that work, so skillcred carries one.

This module is a compact, read-only taxonomy store in SQLite (stdlib :mod:`sqlite3`):

* occupations and skills (and skill groups), with preferred and alternative labels per
  language, the skill type and reuse level;
* the occupation-skill relations (essential / optional);
* the skill pillar hierarchy (``broaderRelationsSkillPillar``, skill groups included);
* the skill-skill relations (``skillSkillRelations``), kept for reference only: they say a
  skill *needs* another, not that one implies the other, so matching never uses them.

Where the taxonomy comes from, first match wins:

1. an explicit store file (``--store``, ``Taxonomy.open(path)``);
2. a store the user imported (:func:`import_download`, ``skillcred esco import``), kept at
   ``$XDG_DATA_HOME/skillcred/esco/esco.sqlite`` -- a newer ESCO version takes precedence over
   the embedded one this way;
3. the embedded snapshot, a modified (compacted) version of ESCO v1.1.1 built by
   ``scripts/build_esco_snapshot.py`` (see ``_data/esco/*.provenance.json``).

Nothing is opened until it is used (the ``verify`` path never imports this module), and the
embedded snapshot is decompressed into memory once per process.

Reuse conditions of ESCO: "This service uses the ESCO classification of the European
Commission." Any modified or adapted version must say so: every store records whether it is
the official content or a modified one, and the CLI shows it.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import re
import sqlite3
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from skillcred.errors import (
    EscoAmbiguous,
    EscoDownloadUnrecognised,
    EscoUnknownConcept,
    InvalidArgument,
    StoreError,
)

__all__ = [
    "ESCO_ACKNOWLEDGEMENT",
    "ESCO_URI_PREFIX",
    "Concept",
    "EscoAmbiguous",
    "EscoDownloadUnrecognised",
    "EscoUnknownConcept",
    "ImportReport",
    "Kind",
    "OccupationSkill",
    "SearchHit",
    "Taxonomy",
    "default_taxonomy",
    "fold",
    "import_download",
    "is_esco_uri",
    "job_profile",
    "user_store_path",
]

#: The statement ESCO's reuse conditions require of a service that integrates ESCO.
ESCO_ACKNOWLEDGEMENT = "This service uses the ESCO classification of the European Commission."
ESCO_URI_PREFIX = "http://data.europa.eu/esco/"
#: The store's own layout version (bumped when the tables change).
STORE_FORMAT = "1"
STORE_FILE = "esco.sqlite"
SNAPSHOT_FILE = "esco-v1.1.1.sqlite.gz"
_SNAPSHOT = Path(__file__).resolve().parent / "_data" / "esco" / SNAPSHOT_FILE

Kind = Literal["occupation", "skill", "skill-group"]
KINDS: tuple[str, ...] = ("occupation", "skill", "skill-group")

#: weight of an optional skill's requirement in a profile made by :func:`job_profile`
OPTIONAL_WEIGHT = 0.5
ESSENTIAL_WEIGHT = 1.0


# -- text folding ---------------------------------------------------------------------------------

_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Accent-, case- and punctuation-insensitive form used for search: "Lassen (MIG/MAG)" and
    "lassen mig mag" fold alike, as do "industriële" and "industriele"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", bare).strip()


def is_esco_uri(uri: str) -> bool:
    return uri.startswith(ESCO_URI_PREFIX)


# -- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    uri: str
    kind: str
    label: str
    score: float
    matched: str  # the label (preferred or alternative) that matched
    lang: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form ``skillcred esco search --json`` prints (relied on by outside checks)."""
        return {"uri": self.uri, "kind": self.kind, "label": self.label, "score": self.score}


@dataclass(frozen=True)
class OccupationSkill:
    uri: str
    label: str
    essential: bool
    skill_type: str | None


@dataclass(frozen=True)
class Concept:
    uri: str
    kind: str
    labels: dict[str, str]
    alt_labels: dict[str, tuple[str, ...]]
    skill_type: str | None = None
    reuse_level: str | None = None
    code: str | None = None
    description: str | None = None

    def label(self, lang: str = "en") -> str:
        """The preferred label in ``lang``; English (then any) when ESCO has none in ``lang``."""
        return self.labels.get(lang) or self.labels.get("en") or next(iter(self.labels.values()), self.uri)


@dataclass(frozen=True)
class ImportReport:
    store: str
    version: str
    layout: str
    languages: tuple[str, ...]
    counts: dict[str, int]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "version": self.version, "layout": self.layout,
                "languages": list(self.languages), "counts": dict(self.counts), "notes": list(self.notes)}


# -- the store ------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE concept(id INTEGER PRIMARY KEY, uri TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
                     skill_type TEXT, reuse_level TEXT, code TEXT, description TEXT);
CREATE TABLE label(concept INTEGER NOT NULL, lang TEXT NOT NULL, preferred INTEGER NOT NULL,
                   text TEXT NOT NULL, folded TEXT);
CREATE INDEX label_concept ON label(concept);
CREATE TABLE relation(occupation INTEGER NOT NULL, skill INTEGER NOT NULL, essential INTEGER NOT NULL,
                      PRIMARY KEY(occupation, skill)) WITHOUT ROWID;
CREATE TABLE broader(narrower INTEGER NOT NULL, broader INTEGER NOT NULL,
                     PRIMARY KEY(narrower, broader)) WITHOUT ROWID;
CREATE TABLE skill_relation(skill INTEGER NOT NULL, related INTEGER NOT NULL, essential INTEGER NOT NULL,
                            PRIMARY KEY(skill, related)) WITHOUT ROWID;
"""

_snapshot_bytes: bytes | None = None


def _snapshot_data() -> bytes:
    global _snapshot_bytes
    if _snapshot_bytes is None:
        try:
            _snapshot_bytes = gzip.decompress(_SNAPSHOT.read_bytes())
        except OSError as exc:
            raise StoreError("the embedded ESCO snapshot is missing from this installation",
                             path=str(_SNAPSHOT)) from exc
    return _snapshot_bytes


class Taxonomy:
    """A read-only ESCO store. Opened lazily, and again after a fork (an SQLite connection must
    not cross one: ``skillcred rank`` forks its workers)."""

    def __init__(self, path: Path | None, *, description: str) -> None:
        self._path = path  # None: the embedded snapshot
        self.source = description
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._broader: dict[str, tuple[str, ...]] = {}
        self._narrower: dict[str, tuple[str, ...]] | None = None
        self._labels: dict[tuple[str, str], str | None] = {}
        self._lang_concepts: dict[str, set[int]] = {}
        self._meta: dict[str, str] | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Taxonomy:
        """A store file made by :func:`import_download`; refused (``StoreError``) if it is not one."""
        p = Path(path)
        if not p.is_file():
            raise StoreError("no ESCO store here (run `skillcred esco import`)", path=str(p))
        tax = cls(p, description=str(p))
        tax.meta()  # fail now, naming the file, rather than on first query
        return tax

    @classmethod
    def embedded(cls) -> Taxonomy:
        """The snapshot shipped in the package (a modified, compacted version of ESCO v1.1.1)."""
        return cls(None, description="embedded snapshot")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_conn"], state["_pid"] = None, -1
        return state

    def _db(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            if self._path is None:
                conn = sqlite3.connect(":memory:", check_same_thread=False)
                conn.deserialize(_snapshot_data())
            else:
                conn = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, check_same_thread=False)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    # -- metadata ---------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        if self._meta is None:
            try:
                rows = self._db().execute("SELECT key, value FROM meta").fetchall()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"not an ESCO store ({exc})", path=self.source) from exc
            meta = dict(rows)
            if meta.get("format") != STORE_FORMAT:
                raise StoreError(f"ESCO store format {meta.get('format')!r} is not {STORE_FORMAT!r} "
                                 "(import the download again)", path=self.source)
            self._meta = meta
        return self._meta

    @property
    def version(self) -> str:
        return self.meta().get("version", "unknown")

    @property
    def modified(self) -> str | None:
        """How this store differs from the official ESCO content (``None``: it is the official
        content as imported), for the "modified or adapted version" notice."""
        return self.meta().get("modified") or None

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.meta().get("languages", "").split(",")) if self.meta().get("languages") else ()

    def notice(self) -> str:
        """One line naming the ESCO version and, if modified, how; plus the acknowledgement."""
        return f"{self.describe()} ({self.source}). {ESCO_ACKNOWLEDGEMENT}"

    def describe(self) -> str:
        """"ESCO v1.2.0", or what the modified version is ("a modified (compacted) version of ...")."""
        return self.modified or f"ESCO v{self.version}"

    def counts(self) -> dict[str, int]:
        db = self._db()
        out = {k: int(db.execute("SELECT count(*) FROM concept WHERE kind = ?", (k,)).fetchone()[0])
               for k in KINDS}
        for table in ("relation", "broader", "skill_relation", "label"):
            out[table] = int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        return out

    # -- concepts ---------------------------------------------------------------------------

    def _id(self, uri: str) -> int | None:
        row = self._db().execute("SELECT id FROM concept WHERE uri = ?", (uri,)).fetchone()
        return int(row[0]) if row else None

    def has(self, uri: str) -> bool:
        return self._id(uri) is not None

    def concept(self, uri: str) -> Concept:
        """The concept ``uri``; :class:`EscoUnknownConcept` when this taxonomy does not have it."""
        db = self._db()
        row = db.execute("SELECT id, kind, skill_type, reuse_level, code, description FROM concept "
                         "WHERE uri = ?", (uri,)).fetchone()
        if row is None:
            raise EscoUnknownConcept(f"{uri} is not an ESCO concept in ESCO v{self.version} ({self.source})")
        labels: dict[str, str] = {}
        alts: dict[str, list[str]] = {}
        for lang, preferred, text in db.execute(
                "SELECT lang, preferred, text FROM label WHERE concept = ? ORDER BY rowid", (row[0],)):
            if preferred:
                labels[lang] = text
            else:
                alts.setdefault(lang, []).append(text)
        return Concept(uri=uri, kind=row[1], labels=labels, alt_labels={k: tuple(v) for k, v in alts.items()},
                       skill_type=row[2], reuse_level=row[3], code=row[4], description=row[5])

    def label(self, uri: str, lang: str = "en") -> str | None:
        """The preferred label (English when there is none in ``lang``); ``None`` if unknown."""
        key = (uri, lang)
        if key not in self._labels:
            rows = self._db().execute(
                "SELECT l.lang, l.text FROM label l JOIN concept c ON c.id = l.concept "
                "WHERE c.uri = ? AND l.preferred = 1", (uri,)).fetchall()
            by_lang = dict(rows)
            self._labels[key] = by_lang.get(lang) or by_lang.get("en") or next(iter(by_lang.values()), None)
        return self._labels[key]

    def broader(self, uri: str) -> tuple[str, ...]:
        """The direct broader concepts of a skill or skill group in the skill pillar."""
        if uri not in self._broader:
            if not is_esco_uri(uri):
                self._broader[uri] = ()
            else:
                rows = self._db().execute(
                    "SELECT b.uri FROM concept n JOIN broader r ON r.narrower = n.id "
                    "JOIN concept b ON b.id = r.broader WHERE n.uri = ? ORDER BY b.uri", (uri,)).fetchall()
                self._broader[uri] = tuple(r[0] for r in rows)
        return self._broader[uri]

    def narrower(self, uri: str) -> tuple[str, ...]:
        """The direct narrower concepts. The whole (small) hierarchy is read into memory on
        first use: the talent pool walks it downwards for every requirement it searches,
        and the relation has no index on its broader side."""
        if self._narrower is None:
            below: dict[str, list[str]] = {}
            for b, n in self._db().execute(
                    "SELECT b.uri, n.uri FROM broader r JOIN concept b ON b.id = r.broader "
                    "JOIN concept n ON n.id = r.narrower"):
                below.setdefault(b, []).append(n)
            self._narrower = {k: tuple(sorted(v)) for k, v in below.items()}
        return self._narrower.get(uri, ())

    def occupation_skills(self, uri: str, lang: str = "en") -> list[OccupationSkill]:
        """Every skill ESCO relates to occupation ``uri``: essential ones first, then optional,
        each group by label."""
        c = self.concept(uri)
        if c.kind != "occupation":
            raise EscoUnknownConcept(f"{uri} is an ESCO {c.kind}, not an occupation")
        rows = self._db().execute(
            "SELECT s.uri, s.skill_type, r.essential FROM concept o JOIN relation r ON r.occupation = o.id "
            "JOIN concept s ON s.id = r.skill WHERE o.uri = ?", (uri,)).fetchall()
        out = [OccupationSkill(uri=s, label=self.label(s, lang) or s, essential=bool(e), skill_type=t)
               for s, t, e in rows]
        out.sort(key=lambda x: (not x.essential, x.label.casefold(), x.uri))
        return out

    def skill_occupations(self, uri: str) -> list[tuple[str, bool]]:
        rows = self._db().execute(
            "SELECT o.uri, r.essential FROM concept s JOIN relation r ON r.skill = s.id "
            "JOIN concept o ON o.id = r.occupation WHERE s.uri = ? ORDER BY o.uri", (uri,)).fetchall()
        return [(u, bool(e)) for u, e in rows]

    def skill_relations(self, uri: str) -> list[tuple[str, bool]]:
        """ESCO's skill-skill relations from ``uri`` (``True``: essential). Reference only: "needs"
        is not "implies", so gap analysis never counts one skill for another through these."""
        rows = self._db().execute(
            "SELECT t.uri, r.essential FROM concept s JOIN skill_relation r ON r.skill = s.id "
            "JOIN concept t ON t.id = r.related WHERE s.uri = ? ORDER BY t.uri", (uri,)).fetchall()
        return [(u, bool(e)) for u, e in rows]

    # -- search -----------------------------------------------------------------------------

    def _concepts_with_lang(self, lang: str) -> set[int]:
        if lang not in self._lang_concepts:
            rows = self._db().execute("SELECT DISTINCT concept FROM label WHERE lang = ?", (lang,))
            self._lang_concepts[lang] = {int(r[0]) for r in rows}
        return self._lang_concepts[lang]

    def search(self, query: str, *, kind: str | None = None, lang: str | None = None,
               limit: int | None = 10) -> list[SearchHit]:
        """Ranked label search, accents, case and punctuation folded.

        Per concept the best of its labels counts: an exact preferred label (score 90-99) >
        an exact alternative label (80-89) > a preferred label that starts with the query
        (60-69) > an alternative one (50-59) > a preferred label containing every query word as
        a word or word prefix (30-39) > an alternative one (20-29). Within a band, the closer
        the label's length to the query's, the higher. With ``lang``, labels in that language
        are searched; concepts that have none in it (ESCO has no Dutch skill labels here) are
        searched, and shown, in English.
        """
        if kind is not None and kind not in KINDS:
            raise InvalidArgument(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        q = fold(query)
        if not q:
            raise InvalidArgument("the search query has no letters or digits")
        words = q.split()
        longest = max(words, key=len)
        sql = ("SELECT l.concept, l.lang, l.preferred, l.text, l.folded, c.uri, c.kind FROM label l "
               "JOIN concept c ON c.id = l.concept WHERE instr(' ' || coalesce(l.folded, l.text), ?) > 0")
        params: list[Any] = [" " + longest]
        if kind is not None:
            sql += " AND c.kind = ?"
            params.append(kind)
        if lang is not None:
            sql += " AND l.lang IN (?, 'en')"
            params.append(lang)
        in_lang = self._concepts_with_lang(lang) if lang is not None and lang != "en" else set()
        best: dict[int, tuple[float, str, str, str, str]] = {}
        for cid, llang, preferred, text, stored_fold, uri, ckind in self._db().execute(sql, params):
            folded = stored_fold or text
            if lang is not None and llang != lang and cid in in_lang:
                continue  # an English label of a concept that has labels in the asked language
            if folded == q:
                base = 90 if preferred else 80
            elif folded.startswith(q):
                base = 60 if preferred else 50
            else:
                label_words = folded.split()
                if not all(any(lw.startswith(w) for lw in label_words) for w in words):
                    continue
                base = 30 if preferred else 20
            score = round(base + 9 * len(q) / max(len(folded), len(q)), 2)
            cur = best.get(cid)
            if cur is None or score > cur[0]:
                best[cid] = (score, uri, ckind, text, llang)
        hits = [SearchHit(uri=uri, kind=ckind, label=self.label(uri, llang) or text, score=score,
                          matched=text, lang=llang) for score, uri, ckind, text, llang in best.values()]
        hits.sort(key=lambda h: (-h.score, h.label.casefold(), h.uri))
        return hits if limit is None else hits[:limit]

    def resolve(self, ref: str, *, kind: str = "occupation", lang: str | None = None) -> Concept:
        """A concept named by URI or by label. A label must be the preferred label of exactly one
        concept of ``kind`` (folded), or else the alternative label of exactly one; otherwise
        :class:`EscoAmbiguous` lists the candidates (an employer picks by URI) -- never a silent
        best guess."""
        if re.match(r"^(https?://|urn:)", ref):
            c = self.concept(ref)
            if c.kind != kind:
                raise EscoUnknownConcept(f"{ref} is an ESCO {c.kind}, not an ESCO {kind}")
            return c
        hits = self.search(ref, kind=kind, lang=lang, limit=None)
        preferred = [h for h in hits if h.score >= 90]
        exact = [h for h in hits if h.score >= 80]
        for group in (preferred, exact):
            if len(group) == 1:
                return self.concept(group[0].uri)
        if not hits:
            raise EscoUnknownConcept(f"no ESCO {kind} is called {ref!r} (try `skillcred esco search`)")
        shown = exact or hits[:10]
        if len(exact) > 1:
            raise EscoAmbiguous(f"{ref!r} names {len(exact)} ESCO {kind}s: give the URI of one of them", shown)
        raise EscoAmbiguous(f"no ESCO {kind} is called exactly {ref!r}: give the URI of one of these", shown)


# -- where the taxonomy is ------------------------------------------------------------------------


def user_store_path() -> Path:
    """``$XDG_DATA_HOME/skillcred/esco/esco.sqlite`` (``~/.local/share/...`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "skillcred" / "esco" / STORE_FILE


_opened: dict[str, Taxonomy] = {}


def default_taxonomy(store: str | os.PathLike[str] | None = None) -> Taxonomy:
    """The taxonomy to use: ``store`` if given, else the user's imported store if there is one,
    else the embedded snapshot. One object per store and process (opened lazily)."""
    path = Path(store) if store is not None else user_store_path()
    if store is None and not path.is_file():
        key = ":embedded:"
        if key not in _opened:
            _opened[key] = Taxonomy.embedded()
        return _opened[key]
    key = str(path.resolve())
    if key not in _opened:
        _opened[key] = Taxonomy.open(path)
    return _opened[key]


# -- job profiles ---------------------------------------------------------------------------------


def job_profile(taxonomy: Taxonomy, occupation: str, *, lang: str = "en", title: str | None = None) -> dict[str, Any]:
    """A job profile (``schemas/job-profile.schema.json``) for an ESCO occupation: one requirement
    per occupation-skill relation, essential skills essential (weight 1), optional ones optional
    (weight 0.5). No levels: ESCO has none, so the employer adds ``"level": N`` where the
    vacancy asks for one (see docs/matching.md)."""
    occ = taxonomy.resolve(occupation, kind="occupation", lang=lang)
    skills = taxonomy.occupation_skills(occ.uri, lang=lang)
    if not skills:
        raise EscoUnknownConcept(f"ESCO lists no skills for occupation {occ.uri} ({occ.label(lang)})")
    fallback = ("" if lang == "en" else
                f" Skill labels are in English where ESCO v{taxonomy.version} has none in {lang!r}.")
    return {
        "type": "SkillcredJobProfile",
        "title": title or occ.label(lang),
        "description": (f"Generated from the ESCO occupation {occ.label(lang)!r} ({taxonomy.describe()}): "
                        f"{sum(s.essential for s in skills)} essential and {sum(not s.essential for s in skills)} "
                        f"optional skills. Levels are not set: add \"level\" to the requirements that need one."
                        f"{fallback} {ESCO_ACKNOWLEDGEMENT}"),
        "occupation": occ.uri,
        "requirements": [{"skill": s.uri, "label": s.label, "essential": s.essential,
                          "weight": ESSENTIAL_WEIGHT if s.essential else OPTIONAL_WEIGHT} for s in skills],
    }


# -- import ---------------------------------------------------------------------------------------

_FILE_NAME = re.compile(r"^(?P<base>[A-Za-z]+?)(?:_(?P<lang>[a-z]{2,3}))?\.csv$")
_VERSION = re.compile(r"(?<![0-9.])v?(\d+\.\d+(?:\.\d+)?)(?![0-9])")
_BASES = {"occupations", "skills", "skillGroups", "occupationSkillRelations", "broaderRelationsSkillPillar",
          "skillSkillRelations"}
_REQUIRED_COLUMNS = {
    "occupations": ("conceptUri", "preferredLabel", "altLabels"),
    "skills": ("conceptUri", "preferredLabel", "altLabels", "skillType", "reuseLevel"),
    "skillGroups": ("conceptUri", "preferredLabel"),
    "occupationSkillRelations": ("occupationUri", "relationType", "skillUri"),
    "broaderRelationsSkillPillar": ("conceptUri", "broaderUri"),
    "skillSkillRelations": ("originalSkillUri", "relationType", "relatedSkillUri"),
}


@dataclass
class _CsvFile:
    base: str
    lang: str | None
    name: str  # for messages: "archive.zip:member.csv" or the file path
    open: Any  # () -> binary file object
    version: str | None


@dataclass
class _Download:
    files: list[_CsvFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    zips: list[zipfile.ZipFile] = field(default_factory=list)


def _version_of(name: str) -> str | None:
    m = _VERSION.search(name)
    return m.group(1) if m else None


def _add_member(dl: _Download, name: str, opener: Any, version: str | None) -> None:
    m = _FILE_NAME.match(os.path.basename(name.rsplit(":", 1)[-1]))
    if m is None or m.group("base") not in _BASES:
        dl.ignored.append(name)
        return
    dl.files.append(_CsvFile(m.group("base"), m.group("lang"), name, opener, version))


def _add_zip(dl: _Download, path: Path) -> None:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise EscoDownloadUnrecognised(f"not a readable zip archive ({exc})", path=str(path)) from exc
    dl.zips.append(zf)
    version = _version_of(path.name)
    for info in zf.infolist():
        if info.is_dir():
            continue
        _add_member(dl, f"{path.name}:{info.filename}", lambda i=info, z=zf: z.open(i), version)


def _collect(paths: Sequence[Path]) -> _Download:
    dl = _Download()
    for p in paths:
        if p.is_dir():
            for child in sorted(p.iterdir()):
                if child.suffix.lower() == ".zip":
                    _add_zip(dl, child)
                elif child.suffix.lower() == ".csv":
                    _add_member(dl, str(child), lambda c=child: c.open("rb"), _version_of(str(p.resolve())))
        elif p.suffix.lower() == ".zip":
            _add_zip(dl, p)
        elif p.is_file():
            _add_member(dl, str(p), lambda c=p: c.open("rb"), _version_of(p.name))
        else:
            raise EscoDownloadUnrecognised("no such file or folder", path=str(p))
    return dl


def _rows(f: _CsvFile) -> Iterator[dict[str, str]]:
    try:
        with f.open() as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.DictReader(text)
            header = reader.fieldnames or []
            missing = [c for c in _REQUIRED_COLUMNS[f.base] if c not in header]
            if missing:
                raise EscoDownloadUnrecognised(
                    f"not an ESCO {f.base} file: no column {', '.join(missing)}", path=f.name)
            yield from reader
    except (csv.Error, UnicodeDecodeError, zipfile.BadZipFile, OSError) as exc:
        raise EscoDownloadUnrecognised(f"cannot read this ESCO file ({exc})", path=f.name) from exc


def _folded_or_none(text: str) -> str | None:
    """The folded form, stored only when it differs from the label itself (most ESCO labels are
    lower-case ASCII already): about a third of the store's size."""
    f = fold(text)
    return None if f == text else f


def _split_labels(value: str | None) -> list[str]:
    return [s.strip() for s in (value or "").split("\n") if s.strip()]


def import_download(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    store: str | os.PathLike[str] | None = None,
    version: str | None = None,
    modified: str | None = None,
    descriptions: bool = True,
) -> ImportReport:
    """Read an official ESCO CSV download (zips or folders, the v1.1 or v1.2 layout, any
    languages present) into a store, by default the user store that then takes precedence
    over the embedded snapshot.

    Refused (:class:`EscoDownloadUnrecognised`, naming the file) when the download lacks the
    occupations, skills, occupation-skill relations or skill hierarchy, when a file's header is
    not ESCO's, or when the files name different ESCO versions. Atomic: the store is built in a
    temporary file beside the target and renamed over it only when complete.

    ``modified`` records that the content is not the official one (the snapshot builder says
    "a modified (compacted) version of ESCO v1.1.1"); ``descriptions=False`` leaves the concept
    descriptions out.
    """
    path_list = [Path(paths)] if isinstance(paths, str | os.PathLike) else [Path(p) for p in paths]
    if not path_list:
        raise InvalidArgument("import_download needs at least one file or folder")
    where = ", ".join(str(p) for p in path_list)
    dl = _collect(path_list)
    try:
        return _import(dl, where, path_list, store=Path(store) if store is not None else user_store_path(),
                       version=version, modified=modified, descriptions=descriptions)
    finally:
        for z in dl.zips:
            z.close()


def _import(dl: _Download, where: str, paths: Sequence[Path], *, store: Path, version: str | None,
            modified: str | None, descriptions: bool) -> ImportReport:
    by_base: dict[str, list[_CsvFile]] = {}
    for f in dl.files:
        by_base.setdefault(f.base, []).append(f)
    missing = [b for b in ("occupations", "skills", "occupationSkillRelations", "broaderRelationsSkillPillar")
               if b not in by_base]
    if missing:
        names = {"occupations": "occupations_<lang>.csv", "skills": "skills_<lang>.csv",
                 "occupationSkillRelations": "occupationSkillRelations.csv",
                 "broaderRelationsSkillPillar": "broaderRelationsSkillPillar.csv"}
        raise EscoDownloadUnrecognised(
            f"not a complete ESCO CSV download: no {', '.join(names[b] for b in missing)}", path=where)
    for base in ("occupationSkillRelations", "broaderRelationsSkillPillar", "skillSkillRelations"):
        if len(by_base.get(base, [])) > 1:
            raise EscoDownloadUnrecognised(f"more than one {base} file: import one ESCO download at a time",
                                           path=", ".join(f.name for f in by_base[base]))
    versions = sorted({f.version for f in dl.files if f.version})
    if len(versions) > 1:
        raise EscoDownloadUnrecognised(f"the files are from different ESCO versions ({', '.join(versions)}): "
                                       "import one version at a time", path=where)
    found_version = version or (versions[0] if versions else None)
    if found_version is None:
        found_version = _version_of(" ".join(str(p.resolve()) for p in paths)) or "unknown"
    rel_file = by_base["occupationSkillRelations"][0]
    layout = "v1.2" if rel_file.lang is not None else "v1.1"
    store.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{store.name}.", suffix=".tmp", dir=store.parent)
    except OSError as exc:
        raise StoreError(f"cannot write here: {exc.strerror}", path=str(store)) from exc
    os.close(fd)
    notes: list[str] = []
    try:
        conn = sqlite3.connect(tmp)
        try:
            conn.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _SCHEMA)
            ids: dict[str, int] = {}
            kinds: dict[str, str] = {}
            languages: set[str] = set()

            def concept_id(uri: str, kind: str, extra: tuple[Any, ...] | None) -> int:
                cid = ids.get(uri)
                if cid is None:
                    cid = len(ids) + 1
                    ids[uri], kinds[uri] = cid, kind
                    conn.execute("INSERT INTO concept(id, uri, kind) VALUES (?, ?, ?)", (cid, uri, kind))
                if extra is not None:
                    conn.execute("UPDATE concept SET skill_type = coalesce(?, skill_type), "
                                 "reuse_level = coalesce(?, reuse_level), code = coalesce(?, code), "
                                 "description = coalesce(?, description) WHERE id = ?", (*extra, cid))
                return cid

            # English first: its fields (skill type, description) are the ones kept
            def order(f: _CsvFile) -> tuple[int, str]:
                return (0 if f.lang in (None, "en") else 1, f.name)

            for base, kind in (("occupations", "occupation"), ("skills", "skill"), ("skillGroups", "skill-group")):
                for f in sorted(by_base.get(base, []), key=order):
                    lang = f.lang or "en"
                    languages.add(lang)
                    first = lang == "en" or not any(g.lang in (None, "en") for g in by_base[base])
                    labels: list[tuple[int, str, int, str, str | None]] = []
                    for row in _rows(f):
                        uri = (row.get("conceptUri") or "").strip()
                        pref = (row.get("preferredLabel") or "").strip()
                        if not uri.startswith(ESCO_URI_PREFIX) or not pref:
                            raise EscoDownloadUnrecognised(f"a row without an ESCO conceptUri or preferredLabel "
                                                           f"({uri[:60]!r})", path=f.name)
                        extra = None
                        if first:
                            desc = (row.get("description") or "").strip() or None if descriptions else None
                            extra = ((row.get("skillType") or "").strip() or None,
                                     (row.get("reuseLevel") or "").strip() or None,
                                     (row.get("code") or row.get("iscoGroup") or "").strip() or None, desc)
                        cid = concept_id(uri, kind, extra)
                        labels.append((cid, lang, 1, pref, _folded_or_none(pref)))
                        seen = {pref}
                        for alt in _split_labels(row.get("altLabels")):
                            if alt not in seen:
                                seen.add(alt)
                                labels.append((cid, lang, 0, alt, _folded_or_none(alt)))
                    conn.executemany("INSERT INTO label VALUES (?, ?, ?, ?, ?)", labels)

            skipped_rel: dict[str, int] = {}
            rels: dict[tuple[int, int], int] = {}
            for row in _rows(rel_file):
                o, s = (row.get("occupationUri") or "").strip(), (row.get("skillUri") or "").strip()
                rtype = (row.get("relationType") or "").strip()
                if rtype not in ("essential", "optional"):
                    raise EscoDownloadUnrecognised(f"relationType {rtype!r} is neither essential nor optional",
                                                   path=rel_file.name)
                if kinds.get(o) != "occupation" or kinds.get(s) != "skill":
                    bad = o if kinds.get(o) != "occupation" else s
                    skipped_rel[bad] = skipped_rel.get(bad, 0) + 1
                    continue
                key = (ids[o], ids[s])
                rels[key] = max(rels.get(key, 0), 1 if rtype == "essential" else 0)
            conn.executemany("INSERT INTO relation VALUES (?, ?, ?)", [(*k, v) for k, v in sorted(rels.items())])
            if skipped_rel:
                notes.append(f"{sum(skipped_rel.values())} occupation-skill relation(s) name a concept that is "
                             f"not among the occupations/skills and were skipped "
                             f"({', '.join(sorted(skipped_rel)[:3])}{', ...' if len(skipped_rel) > 3 else ''})")

            edges: set[tuple[int, int]] = set()
            skipped_b = 0
            for row in _rows(by_base["broaderRelationsSkillPillar"][0]):
                n, b = (row.get("conceptUri") or "").strip(), (row.get("broaderUri") or "").strip()
                if n in ids and b in ids and kinds[n] != "occupation" and kinds[b] != "occupation":
                    edges.add((ids[n], ids[b]))
                else:
                    skipped_b += 1
            conn.executemany("INSERT INTO broader VALUES (?, ?)", sorted(edges))
            if skipped_b:
                notes.append(f"{skipped_b} skill hierarchy edge(s) name an unknown concept and were skipped")

            ss: dict[tuple[int, int], int] = {}
            for f in by_base.get("skillSkillRelations", []):
                for row in _rows(f):
                    a, b = (row.get("originalSkillUri") or "").strip(), (row.get("relatedSkillUri") or "").strip()
                    if kinds.get(a) == "skill" and kinds.get(b) == "skill":
                        k = (ids[a], ids[b])
                        ss[k] = max(ss.get(k, 0), 1 if (row.get("relationType") or "").strip() == "essential" else 0)
            conn.executemany("INSERT INTO skill_relation VALUES (?, ?, ?)", [(*k, v) for k, v in sorted(ss.items())])
            if "skillGroups" not in by_base:
                notes.append("no skillGroups file: skill groups have no labels")

            meta = {"format": STORE_FORMAT, "version": found_version, "layout": layout,
                    "languages": ",".join(sorted(languages)), "modified": modified or "",
                    "source": ", ".join(sorted({f.name.split(":")[0] for f in dl.files}))}
            conn.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
            conn.commit()
            conn.execute("VACUUM")
        finally:
            conn.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, store)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _opened.pop(str(store.resolve()), None)
    tax = Taxonomy.open(store)
    try:
        counts = tax.counts()
    finally:
        tax.close()
    return ImportReport(store=str(store), version=found_version, layout=layout,
                        languages=tuple(sorted(languages)), counts=counts, notes=tuple(notes))


def iter_esco_alignments(alignments: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """The alignments of an achievement that name ESCO: ``targetFramework`` "ESCO" (any case),
    or a ``targetUrl``/``targetCode`` that is an ESCO concept URI."""
    for a in alignments:
        if not isinstance(a, dict):
            continue
        fw = str(a.get("targetFramework") or "").strip().casefold()
        url, code = a.get("targetUrl"), a.get("targetCode")
        if fw == "esco" or fw.startswith("esco ") or any(isinstance(v, str) and is_esco_uri(v) for v in (url, code)):
            yield a
