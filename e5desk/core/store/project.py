"""Project files (.e5desk): one SQLite file with sentence sets and provenance, embeddings per
model and role, maps, clusters, selections and view settings.

Saving writes a complete new file beside the target, fsyncs it and renames it over the old
one, so a crash or power cut mid-save leaves the previous project intact. The schema is
versioned (PRAGMA user_version); a file from a newer e5desk is refused with a clear
message, older ones are migrated on open.
"""

from __future__ import annotations

import glob
import json
import os
import sqlite3
import tempfile
import time
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
# SQLite refuses a value over 1 GB ("string or blob too big": a 1M x 384 set's vectors are
# 1.5 GB), so a larger blob is stored in parts in a table made only when needed; its own row
# then holds an empty blob. Files without such blobs stay exactly as before.
BLOB_PART_BYTES = 256 * 2**20
PARTS_TABLE = "CREATE TABLE IF NOT EXISTS blob_parts (owner TEXT, part INTEGER, data BLOB, " \
    "PRIMARY KEY (owner, part))"


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
    # What could not be restored from a damaged file (view settings, maps, vectors that are
    # recomputed): said to the user on open; the sentences themselves are never dropped.
    problems: list[str] = field(default_factory=list)


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
    clean_stale_saves(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".saving",
                                        dir=path.parent)
    except OSError as exc:
        raise ProjectError(f"cannot save {path}: {exc.strerror or exc}") from None
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
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError | sqlite3.OperationalError):
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ProjectError(f"cannot save {path}: {reason}; the previous file (if any) "
                               "is unchanged") from None
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
    from e5desk.core.about import VERSION as __version__

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
                   (name, e.model, e.role, e.task, v.shape[0], v.shape[1],
                    _blob(db, f"embedding:{name}", v)))
    for name, (array, info) in p.arrays.items():
        a = np.ascontiguousarray(array)
        db.execute("INSERT INTO arrays VALUES (?, ?, ?, ?, ?)",
                   (name, a.dtype.str, json.dumps(a.shape), _blob(db, f"array:{name}", a),
                    json.dumps(info)))


def _blob(db: sqlite3.Connection, owner: str, a: np.ndarray) -> bytes:
    """The array's bytes, or b"" with the bytes written in parts (see BLOB_PART_BYTES)."""
    if a.nbytes <= BLOB_PART_BYTES:
        return a.tobytes()
    db.execute(PARTS_TABLE)
    flat = a.reshape(-1).view(np.uint8)
    for part, start in enumerate(range(0, flat.size, BLOB_PART_BYTES)):
        db.execute("INSERT INTO blob_parts VALUES (?, ?, ?)",
                   (owner, part, flat[start:start + BLOB_PART_BYTES].tobytes()))
    return b""


def _joined(db: sqlite3.Connection, owner: str, blob):
    """A blob stored in parts, joined again (the blob itself when it was not split)."""
    if blob != b"":
        return blob
    try:
        parts = db.execute("SELECT data FROM blob_parts WHERE owner=? ORDER BY part",
                           (owner,)).fetchall()
    except sqlite3.OperationalError:  # no parts table: a file without split blobs
        return blob
    return b"".join(bytes(p[0]) for p in parts) if parts else blob


def load_project(path: str | Path) -> Project:
    path = Path(path)
    if not path.is_file():
        raise ProjectError(f"{path}: project file not found")
    clean_stale_saves(path)
    try:
        with path.open("rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise ProjectError(f"{path}: cannot be read ({exc.strerror or exc})") from None
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
            if version < 1 or (version < SCHEMA_VERSION and any(
                    v not in MIGRATIONS for v in range(version + 1, SCHEMA_VERSION + 1))):
                raise ProjectError(f"{path}: project format {version} was never written by "
                                   "e5desk (the file is damaged or from another program)")
            if version < SCHEMA_VERSION:
                db.close()
                db = _migrated_copy(path, version)
            return _read(db, path)
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise ProjectError(f"{path}: the project file is damaged or truncated ({exc})") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except MemoryError:
        raise ProjectError(f"{path}: too large to open in the memory available") from None


def _migrated_copy(path: Path, version: int) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    src.backup(db)
    src.close()
    for v in range(version + 1, SCHEMA_VERSION + 1):
        db.executescript(MIGRATIONS[v])
    return db


MAX_ARRAY_BYTES = 2**34  # 16 GiB: a row count or shape beyond this is damage, not data


def _json(text, kind: type, what: str, problems: list[str]):
    """A JSON field of the expected kind; a damaged one is reported and replaced."""
    if text is None or text == "":
        return kind()
    try:
        value = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        problems.append(f"{what}: damaged (not JSON), not restored")
        return kind()
    if not isinstance(value, kind):
        problems.append(f"{what}: not a JSON {'object' if kind is dict else 'list'}, "
                        "not restored")
        return kind()
    return value


def _relevance(raw: dict, n: int, what: str, problems: list[str]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for key, value in raw.items():
        try:
            row = int(key)
            ids = [int(v) for v in value] if isinstance(value, list) else None
        except (TypeError, ValueError):
            ids = None
        if ids is None or not 0 <= row < n:
            problems.append(f"{what}: damaged relevance entries, not restored")
            return {}
        out[row] = ids
    return out


def _cell(value) -> str | None:
    return None if value is None else str(value)


def _line(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _vectors(name, rows, dim, blob, problems: list[str]) -> np.ndarray | None:
    ok = (isinstance(rows, int) and isinstance(dim, int) and rows >= 0 and dim > 0
          and isinstance(blob, bytes) and rows * dim * 4 <= MAX_ARRAY_BYTES
          and len(blob) == rows * dim * 4)
    if not ok:
        size = len(blob) if isinstance(blob, bytes) else 0
        problems.append(f"embedding {name!r} is damaged ({size:,} bytes for {rows!r} x {dim!r} "
                        "float32 values) and was not restored; embed the sentences again")
        return None
    return np.frombuffer(blob, dtype=np.float32).reshape(rows, dim).copy()


def _array(name, dtype, shape, blob, problems: list[str]) -> np.ndarray | None:
    why = None
    try:
        dt = np.dtype(dtype) if isinstance(dtype, str) else None
    except (TypeError, ValueError):
        dt = None
    dims = None
    try:
        dims = json.loads(shape) if isinstance(shape, str) else None
    except (ValueError, RecursionError):
        pass
    if dt is None or dt.kind not in "biuf" or dt.hasobject:
        why = f"type {dtype!r} is not a number type"
    elif not (isinstance(dims, list) and len(dims) <= 8
              and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                      for d in dims)):
        why = f"shape {str(shape)[:40]!r} is not a list of sizes"
    elif int(np.prod(dims, dtype=np.float64)) * dt.itemsize > MAX_ARRAY_BYTES:
        why = f"shape {dims} is too large"
    elif not isinstance(blob, bytes) or len(blob) != int(np.prod(dims)) * dt.itemsize:
        why = f"{len(blob) if isinstance(blob, bytes) else 0:,} bytes for shape {dims}"
    if why:
        problems.append(f"saved array {name!r} is damaged ({why}) and was not restored")
        return None
    return np.frombuffer(blob, dtype=dt).reshape(dims).copy()


def _read(db: sqlite3.Connection, path: Path | str = "project") -> Project:
    problems: list[str] = []
    meta = dict(db.execute("SELECT key, value FROM meta"))
    project = Project(settings=_json(meta.get("settings"), dict, "view settings", problems))
    for set_id, name, source, relevance in db.execute(
            "SELECT id, name, source, relevance FROM sets ORDER BY id").fetchall():
        rows = db.execute("SELECT text, lang, grp, role, line FROM sentences WHERE set_id=? "
                          "ORDER BY row", (set_id,)).fetchall()
        texts = ["" if r[0] is None else str(r[0]) for r in rows]
        s = SentenceSet.build(texts, lang=[_cell(r[1]) for r in rows],
                              group=[_cell(r[2]) for r in rows],
                              role=[_cell(r[3]) for r in rows],
                              line=[_line(r[4]) for r in rows],
                              source=_cell(source), name=_cell(name))
        what = f"sentence set {name or set_id!r}"
        s.relevance = _relevance(_json(relevance, dict, f"{what}: relevance", problems),
                                 len(s), what, problems)
        project.sets.append(s)
    for name, model, role, task, rows, dim, blob in db.execute(
            "SELECT name, model, role, task, rows, dim, vectors FROM embeddings"):
        vectors = _vectors(name, rows, dim, _joined(db, f"embedding:{name}", blob), problems)
        if vectors is not None:
            project.embeddings[str(name)] = Embedding(_cell(model) or "", _cell(role) or "query",
                                                      _cell(task), vectors)
    for name, dtype, shape, blob, info in db.execute(
            "SELECT name, dtype, shape, data, info FROM arrays"):
        array = _array(name, dtype, shape, _joined(db, f"array:{name}", blob), problems)
        if array is not None:
            project.arrays[str(name)] = (array, _json(info, dict, f"details of array {name!r}",
                                                      problems))
    project.problems = problems
    return project


STALE_SAVE_S = 15 * 60  # a save takes seconds: older temporary files were left by a kill


def clean_stale_saves(path: str | Path, max_age_s: float = STALE_SAVE_S) -> int:
    """Remove ``.NAME.*.saving`` files that a save killed mid-write left beside ``path``
    (a project file, or a folder: then every project's). Returns how many were removed."""
    path = Path(path)
    folder, pattern = (path, ".*.saving") if path.is_dir() else (
        path.parent, f".{glob.escape(path.name)}.*.saving")
    removed = 0
    now = time.time()
    try:
        for tmp in folder.glob(pattern):
            try:
                if now - tmp.stat().st_mtime > max_age_s:
                    tmp.unlink()
                    removed += 1
            except OSError:
                continue
    except OSError:
        pass
    return removed
