"""Project files (.e5desk): one SQLite file with sentence sets and provenance, embeddings per
model and role, maps, clusters, selections and view settings.

Saving writes a complete new file beside the target, fsyncs it and renames it over the old
one, so a crash or power cut mid-save leaves the previous project intact. The schema is
versioned (PRAGMA user_version); a file from a newer e5desk is refused with a clear
message, older ones are migrated on open.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.errors import E5DeskError

APPLICATION_ID = 0x45354453  # "E5DS": marks the file as an e5desk project
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE sets (id INTEGER PRIMARY KEY, name TEXT, source TEXT, relevance TEXT);
CREATE TABLE sentences (set_id INTEGER, row INTEGER, text TEXT, lang TEXT, grp TEXT,
                        role TEXT, line INTEGER, PRIMARY KEY (set_id, row));
CREATE TABLE embeddings (name TEXT PRIMARY KEY, model TEXT, role TEXT, task TEXT,
                         rows INTEGER, dim INTEGER, vectors BLOB);
CREATE TABLE arrays (name TEXT PRIMARY KEY, dtype TEXT, shape TEXT, data BLOB, info TEXT);
"""
MIGRATIONS: dict[int, str] = {}  # version -> SQL bringing a file from version-1 to version


class ProjectError(E5DeskError):
    pass


@dataclass
class Embedding:
    model: str
    role: str
    task: str | None
    vectors: np.ndarray


@dataclass
class Project:
    sets: list[SentenceSet] = field(default_factory=list)
    embeddings: dict[str, Embedding] = field(default_factory=dict)
    # maps, clusters, selections: named arrays with a JSON description (e.g. map params)
    arrays: dict[str, tuple[np.ndarray, dict]] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)


# Project setting: translations joined across files (see concat_sets). Projects saved before
# joining existed have no such setting and reopen with their files apart, as they were saved.
JOIN_SETTING = "join_translations"


def project_sentences(project: Project) -> SentenceSet:
    """The project's sets combined the way the window showed them when it was saved."""
    from e5desk.core.data.sentence_set import concat_sets

    return concat_sets(project.sets, join=bool(project.settings.get(JOIN_SETTING, False)))


def _text(value) -> str | None:
    return None if value is None else str(value)


def save_project(project: Project, path: str | Path) -> None:
    path = Path(path)
    if not path.parent.exists():
        raise ProjectError(f"cannot save {path}: folder {path.parent} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".saving", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        db = sqlite3.connect(tmp)
        try:
            db.execute(f"PRAGMA application_id={APPLICATION_ID}")
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.executescript(SCHEMA)
            with db:
                _write(db, project)
        finally:
            db.close()
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(db: sqlite3.Connection, p: Project) -> None:
    from e5desk import __version__

    db.executemany("INSERT INTO meta VALUES (?, ?)", [
        ("app_version", __version__), ("settings", json.dumps(p.settings, ensure_ascii=False))])
    for set_id, s in enumerate(p.sets):
        db.execute("INSERT INTO sets VALUES (?, ?, ?, ?)", (
            set_id, s.name, s.source,
            json.dumps({str(k): v for k, v in s.relevance.items()})))
        db.executemany("INSERT INTO sentences VALUES (?, ?, ?, ?, ?, ?, ?)", (
            (set_id, i, str(s.text[i]), _text(s.lang[i]), _text(s.group[i]), _text(s.role[i]),
             int(s.line[i])) for i in range(len(s))))
    for name, e in p.embeddings.items():
        v = np.ascontiguousarray(e.vectors, dtype=np.float32)
        db.execute("INSERT INTO embeddings VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (name, e.model, e.role, e.task, v.shape[0], v.shape[1], v.tobytes()))
    for name, (array, info) in p.arrays.items():
        a = np.ascontiguousarray(array)
        db.execute("INSERT INTO arrays VALUES (?, ?, ?, ?, ?)",
                   (name, a.dtype.str, json.dumps(a.shape), a.tobytes(), json.dumps(info)))


def load_project(path: str | Path) -> Project:
    path = Path(path)
    if not path.is_file():
        raise ProjectError(f"{path}: project file not found")
    with path.open("rb") as f:
        head = f.read(100)
    if not head.startswith(b"SQLite format 3\x00"):
        raise ProjectError(f"{path}: not an e5desk project (not an SQLite file, or damaged)")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if app_id != APPLICATION_ID:
                raise ProjectError(f"{path}: an SQLite file, but not an e5desk project")
            if version > SCHEMA_VERSION:
                raise ProjectError(f"{path}: made by a newer e5desk (project format "
                                   f"{version}; this version reads up to {SCHEMA_VERSION}). "
                                   "Update e5desk to open it.")
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise ProjectError(f"{path}: the project file is damaged (integrity check "
                                   "failed)")
            if version < SCHEMA_VERSION:
                db.close()
                db = _migrated_copy(path, version)
            return _read(db)
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise ProjectError(f"{path}: the project file is damaged or truncated ({exc})") from None


def _migrated_copy(path: Path, version: int) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    src.backup(db)
    src.close()
    for v in range(version + 1, SCHEMA_VERSION + 1):
        db.executescript(MIGRATIONS[v])
    return db


def _read(db: sqlite3.Connection) -> Project:
    meta = dict(db.execute("SELECT key, value FROM meta"))
    project = Project(settings=json.loads(meta.get("settings") or "{}"))
    for set_id, name, source, relevance in db.execute(
            "SELECT id, name, source, relevance FROM sets ORDER BY id").fetchall():
        rows = db.execute("SELECT text, lang, grp, role, line FROM sentences WHERE set_id=? "
                          "ORDER BY row", (set_id,)).fetchall()
        cols = list(zip(*rows, strict=True)) if rows else [[]] * 5
        s = SentenceSet.build(list(cols[0]), lang=list(cols[1]), group=list(cols[2]),
                              role=list(cols[3]), line=list(cols[4]), source=source, name=name)
        s.relevance = {int(k): v for k, v in json.loads(relevance or "{}").items()}
        project.sets.append(s)
    for name, model, role, task, rows, dim, blob in db.execute(
            "SELECT name, model, role, task, rows, dim, vectors FROM embeddings"):
        vectors = np.frombuffer(blob, dtype=np.float32).reshape(rows, dim).copy()
        project.embeddings[name] = Embedding(model, role, task, vectors)
    for name, dtype, shape, blob, info in db.execute(
            "SELECT name, dtype, shape, data, info FROM arrays"):
        array = np.frombuffer(blob, dtype=np.dtype(dtype)).reshape(json.loads(shape)).copy()
        project.arrays[name] = (array, json.loads(info))
    return project
