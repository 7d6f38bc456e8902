"""Embedding cache: (model fingerprint, exact model input string) -> float32 vector.

SQLite in WAL mode in the user cache directory. The key stores a 128-bit BLAKE2b digest
of the model fingerprint and the input string (after prefix/instruction formatting) rather
than the string itself: exact for practical purposes (a collision needs ~2^64 inputs) and a
fixed 16 bytes.
Vectors are stored as float32, so a cache hit returns exactly what the model computed.
Least-recently-used rows are evicted past the size limit.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from e5desk.core.engines.shipped import graph_only_digest
from e5desk.core.errors import ModelError
from e5desk.core.paths import user_cache_dir

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2 * 2**30
# The row id is the first 8 bytes of the 16-byte digest of (model, input): a lookup is one
# b-tree search, with no separate index. The full digest is stored and compared, so a
# row-id clash is a miss, never a wrong vector. ``used`` is a day number: recency at day
# granularity is enough for LRU eviction and a lookup rewrites a row at most once a day.
# ``tokens`` is the input's full token count (NULL when not given): with it a run whose
# vectors are all cached needs neither the model nor its tokenizer, truncation reports included.
SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    id INTEGER PRIMARY KEY, key BLOB NOT NULL, vec BLOB NOT NULL, used INTEGER NOT NULL,
    tokens INTEGER);
CREATE INDEX IF NOT EXISTS vectors_used ON vectors(used);
CREATE TABLE IF NOT EXISTS fingerprints (
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, digest TEXT);
"""
SCHEMA_VERSION = 4
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
CONFIG_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json",
                "sentencepiece.bpe.model", "vocab.txt", "1_Pooling/config.json")


def _today() -> int:
    return int(time.time() // 86400)


def input_key(model: str, text: str) -> bytes:
    h = hashlib.blake2b(model.encode(), digest_size=16)
    h.update(b"\x00")
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.digest()


def _rowid(key: bytes) -> int:
    return int.from_bytes(key[:8], "little", signed=True)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _guarded(fallback):
    """Cache methods never fail the work they serve: a database error is reported once
    (see ``_failed``) and the call answers ``fallback()`` (a miss, or nothing stored)."""
    def wrap(method):
        @functools.wraps(method)
        def guarded(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                self._failed(exc)
                return fallback()
        return guarded
    return wrap


class EmbeddingCache:
    def __init__(self, path: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        """Opens (or creates) the cache. A cache that cannot be used is never a hard stop:
        a damaged file is set aside (renamed ``*.damaged-<time>``) and a fresh one made;
        when no file can be made at all (cache folder is a file, read-only disk), an
        in-memory cache serves this run. Either way one warning says so."""
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._warned = False
        self.warnings: list[str] = []
        try:
            self.path = Path(path) if path else user_cache_dir() / "embeddings.sqlite"
        except OSError as exc:  # the cache folder is a file, or cannot be made
            self.path = Path(exc.filename or "embeddings.sqlite")
            self._open_memory(f"{exc.strerror}: {exc.filename}")
            return
        try:
            self._open(self.path)
        except (sqlite3.DatabaseError, OSError) as exc:
            reason = _reason(exc)
            if self._set_aside():
                try:
                    self._open(self.path)
                    self._warn(f"embedding cache {self.path} was damaged ({reason}): set "
                               "aside, a fresh cache is used")
                    return
                except (sqlite3.DatabaseError, OSError) as again:
                    reason = _reason(again)
            self._open_memory(f"{reason}")

    def _open(self, path: Path | str) -> None:
        if str(path) != ":memory:" and Path(path).is_dir():
            raise sqlite3.DatabaseError(f"{path} is a folder")
        self.db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        try:
            if self.db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                # An older layout: a cache can always be rebuilt, so start afresh.
                self.db.executescript(
                    "DROP TABLE IF EXISTS vectors; DROP TABLE IF EXISTS models; "
                    "PRAGMA auto_vacuum=INCREMENTAL; VACUUM;")
                self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            # Memory-mapped reads: lookups touch pages all over a GB-sized file.
            self.db.execute("PRAGMA mmap_size=4294967296")
            self.db.execute("PRAGMA cache_size=-65536")
            self.db.executescript(SCHEMA)
            self.db.execute("SELECT id FROM vectors LIMIT 1").fetchall()
        except BaseException:
            self.db.close()
            raise

    def _open_memory(self, reason: str) -> None:
        self._warn(f"embedding cache {self.path} cannot be used ({reason}): vectors are "
                   "computed as usual but not kept after this run")
        self._open(":memory:")

    def _set_aside(self) -> bool:
        """Rename a damaged cache file (and its WAL/SHM) out of the way; False if impossible."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        try:
            if not self.path.exists() or self.path.is_dir():
                return False
            for suffix in ("", "-wal", "-shm"):
                part = Path(f"{self.path}{suffix}")
                if part.exists():
                    os.replace(part, f"{self.path}.damaged-{stamp}{suffix}")
            return True
        except OSError:
            return False

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        log.warning("e5desk: warning: %s", message)

    def _failed(self, exc: sqlite3.Error) -> None:
        """A cache error while working: warn once, set a damaged file aside, and go on with
        an in-memory cache so that the run's results are never lost."""
        if self._warned:
            return
        self._warned = True
        reason = _reason(exc)
        damaged = isinstance(exc, sqlite3.DatabaseError) and any(
            w in reason for w in ("malformed", "not a database", "corrupt"))
        try:
            self.db.close()
        except sqlite3.Error:
            pass
        aside = damaged and self._set_aside()
        what = ("damaged: set aside, a fresh cache is used from the next run"
                if aside else f"cannot be used ({reason})")
        self._warn(f"embedding cache {self.path} {what}; this run goes on without it")
        self._open(":memory:")

    # -- model fingerprint -----------------------------------------------------------
    def fingerprint(self, folder: Path) -> str:
        """Content hash of the model's config, tokenizer and weight files; each file's
        digest is remembered by (size, mtime), so it is computed once."""
        folder = Path(folder)
        files = [folder / f for f in CONFIG_FILES if (folder / f).is_file()]
        files += sorted(p for p in folder.iterdir() if p.suffix in WEIGHT_SUFFIXES)
        h = hashlib.sha256()
        shipped = graph_only_digest(folder)  # the weights are in the graph it names
        if shipped:
            h.update(f"graph:{shipped}".encode())
        for f in files:
            h.update(f.name.encode())
            h.update(self._file_digest(f).encode())
        return h.hexdigest()[:32]

    def _file_digest(self, path: Path) -> str:
        try:
            st = path.stat()
        except OSError as exc:
            raise ModelError(f"{path}: cannot be read ({_reason(exc)})") from None
        try:
            with self._lock:
                row = self.db.execute("SELECT size, mtime_ns, digest FROM fingerprints "
                                      "WHERE path=?", (str(path.resolve()),)).fetchone()
        except sqlite3.Error as exc:
            self._failed(exc)
            row = None
        if row and row[0] == st.st_size and row[1] == st.st_mtime_ns:
            return row[2]
        h = hashlib.sha256()
        try:
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(8 << 20), b""):
                    h.update(chunk)
        except OSError as exc:
            raise ModelError(f"{path}: cannot be read ({_reason(exc)})") from None
        digest = h.hexdigest()
        try:
            with self._lock, self.db:
                self.db.execute("INSERT OR REPLACE INTO fingerprints VALUES (?, ?, ?, ?)",
                                (str(path.resolve()), st.st_size, st.st_mtime_ns, digest))
        except sqlite3.Error as exc:
            self._failed(exc)
        return digest

    # -- vectors ---------------------------------------------------------------------
    @_guarded(dict)
    def get_many(self, model: str, inputs: Sequence[str], dim: int,
                 tokens: dict[int, int] | None = None) -> dict[int, np.ndarray]:
        """{position in inputs: vector} for the inputs that are cached; ``tokens``, when
        given, receives {position: token count} for the hits whose count was stored."""
        keys = [input_key(model, t) for t in inputs]
        ids = sorted({_rowid(k) for k in keys})  # in b-tree order: neighbouring pages
        found: dict[bytes, np.ndarray] = {}
        counts: dict[bytes, int] = {}
        stale: list[int] = []
        today = _today()
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for rowid, key, blob, used, n in self.db.execute(
                        f"SELECT id, key, vec, used, tokens FROM vectors WHERE id IN ({marks})",
                        chunk):
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if len(vec) == dim:
                        found[key] = vec
                        if n is not None:
                            counts[key] = n
                        if used < today:
                            stale.append(rowid)
            if stale:
                with self.db:
                    self.db.executemany("UPDATE vectors SET used=? WHERE id=?",
                                        [(today, r) for r in stale])
        if tokens is not None:
            tokens.update((i, counts[k]) for i, k in enumerate(keys) if k in counts)
        return {i: found[k] for i, k in enumerate(keys) if k in found}

    @_guarded(lambda: None)
    def put_many(self, model: str, inputs: Sequence[str], vectors: np.ndarray,
                 tokens: Sequence[int] | None = None) -> None:
        today = _today()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        counts = [None] * len(inputs) if tokens is None else [int(n) for n in tokens]
        rows = []
        for t, v, n in zip(inputs, vectors, counts, strict=True):
            key = input_key(model, t)
            rows.append((_rowid(key), key, v.tobytes(), today, n))
        rows.sort()
        with self._lock, self.db:
            self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?)", rows)
        self._evict()

    @_guarded(lambda: 0)
    def size_bytes(self) -> int:
        """Bytes in use (free pages left by deletions do not count)."""
        with self._lock:
            pages = self.db.execute("PRAGMA page_count").fetchone()[0]
            free = self.db.execute("PRAGMA freelist_count").fetchone()[0]
            size = self.db.execute("PRAGMA page_size").fetchone()[0]
        return (pages - free) * size

    def _evict(self) -> None:
        """Past the limit, drop the least recently used rows down to 80 % of it."""
        size = self.size_bytes()
        if size <= self.max_bytes:
            return
        with self._lock, self.db:
            total = self.db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            keep = int(total * 0.8 * self.max_bytes / size)
            self.db.execute("DELETE FROM vectors WHERE id IN (SELECT id FROM vectors "
                            "ORDER BY used, id LIMIT ?)", (max(1, total - keep),))
        with self._lock:
            self.db.execute("PRAGMA incremental_vacuum")  # give the space back to the disk

    @_guarded(lambda: 0)
    def count(self) -> int:
        with self._lock:
            return self.db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]

    @_guarded(lambda: None)
    def clear(self) -> None:
        with self._lock, self.db:
            self.db.execute("DELETE FROM vectors")
        with self._lock:
            self.db.execute("VACUUM")

    def close(self) -> None:
        self.db.close()
