"""Embedding cache, project files (atomic save, versions, damage) and exports/imports."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from e5desk.core.data import SentenceSet
from e5desk.core.encoder import Encoder
from e5desk.core.errors import E5DeskError
from e5desk.core.models.discovery import inspect_folder
from e5desk.core.store.cache import EmbeddingCache
from e5desk.core.store.exports import export_projector, import_vectors
from e5desk.core.store.project import Embedding, Project, ProjectError, load_project, save_project


def test_cache_hit_makes_no_model_call(tiny_model, tmp_path, monkeypatch):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    enc = Encoder(inspect_folder(tiny_model), device="cpu", cache=cache)
    texts = ["eins", "zwei", "drei"]
    first = enc.encode(texts)
    assert cache.count() == 3
    calls = []
    real = enc._model.forward
    monkeypatch.setattr(enc._model, "forward", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = enc.encode(texts)
    assert calls == [] and np.array_equal(first, again)
    mixed = enc.encode(["zwei", "vier"])  # only the new text goes to the model
    assert len(calls) == 1 and np.array_equal(mixed[0], first[1])
    assert enc.encode(["drei"], role="passage").shape == (1, 32)  # other prefix: a miss
    assert cache.count() == 5
    cache.clear()
    assert cache.count() == 0


def test_fingerprint_changes_with_weights(tiny_model, tmp_path):
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(tiny_model, folder)
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    before = cache.fingerprint(folder)
    assert cache.fingerprint(folder) == before  # remembered by size + mtime
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    time.sleep(0.01)
    weights.write_bytes(bytes(data))
    assert cache.fingerprint(folder) != before


def test_cache_size_limit_evicts_oldest(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite", max_bytes=200_000)
    for start in range(0, 400, 50):
        texts = [f"t{i}" for i in range(start, start + 50)]
        cache.put_many("m", texts, np.ones((50, 384), dtype=np.float32))
    assert cache.size_bytes() <= 400_000 and cache.count() < 400


def sample_project() -> Project:
    s = SentenceSet.build(["Hello", "Hallo", "こんにちは"], lang=["en", "de", None],
                          group=["g1", "g1", None], role=[None, None, "query"], line=[1, 2, 7],
                          source="/data/a.csv", name="a.csv")
    s.relevance = {2: [0, 1]}
    v = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    return Project(
        sets=[s],
        embeddings={"query": Embedding("embedded:abc", "query", None, v)},
        arrays={"map": (v[:, :2].copy(), {"method": "umap", "n_neighbors": 15}),
                "clusters": (np.array([0, 0, -1]), {"labels": {"0": "hello"}})},
        settings={"query": "Where?", "rule": "retrieval"},
    )


def test_project_round_trip(tmp_path):
    p = sample_project()
    path = tmp_path / "p.e5desk"
    save_project(p, path)
    q = load_project(path)
    assert q.settings == p.settings
    a, b = p.sets[0], q.sets[0]
    for col in ("text", "lang", "group", "role", "line"):
        assert list(getattr(a, col)) == list(getattr(b, col))
    assert (a.name, a.source, a.relevance) == (b.name, b.source, b.relevance)
    assert np.array_equal(q.embeddings["query"].vectors, p.embeddings["query"].vectors)
    assert q.embeddings["query"].model == "embedded:abc"
    for name, (array, info) in p.arrays.items():
        assert np.array_equal(q.arrays[name][0], array) and q.arrays[name][1] == info
    assert [f.name for f in tmp_path.iterdir()] == ["p.e5desk"]  # no temp files left


def test_vectors_over_sqlites_blob_limit_are_saved_in_parts(tmp_path, monkeypatch):
    """A 1M x 384 set's vectors (1.5 GB) exceed SQLite's 1 GB value limit ("string or blob
    too big": the project and its autosave failed). Split in parts they round-trip; the
    part size is made small here so the test needs no gigabytes."""
    import e5desk.core.store.project as store

    monkeypatch.setattr(store, "BLOB_PART_BYTES", 1000)
    p = sample_project()
    big = np.random.default_rng(1).normal(size=(301, 7)).astype(np.float32)  # 8,428 bytes
    p.embeddings["query"] = Embedding("embedded:abc", "query", None, big)
    p.arrays["map"] = (big[:, :2].astype(np.float64).copy(), {"method": "umap"})
    path = tmp_path / "big.e5desk"
    save_project(p, path)
    with sqlite3.connect(path) as db:
        parts = db.execute("SELECT owner, COUNT(*) FROM blob_parts GROUP BY owner").fetchall()
        stored = db.execute("SELECT vectors FROM embeddings WHERE name='query'").fetchone()[0]
    assert dict(parts) == {"embedding:query": 9, "array:map": 5} and stored == b""
    q = load_project(path)
    assert np.array_equal(q.embeddings["query"].vectors, big) and not q.problems
    assert np.array_equal(q.arrays["map"][0], p.arrays["map"][0])
    # a small project has no parts table at all: the file is as before
    monkeypatch.setattr(store, "BLOB_PART_BYTES", 256 * 2**20)
    save_project(sample_project(), tmp_path / "small.e5desk")
    with sqlite3.connect(tmp_path / "small.e5desk") as db:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "blob_parts" not in names


def test_damaged_truncated_foreign_and_newer_files(tmp_path):
    path = tmp_path / "p.e5desk"
    save_project(sample_project(), path)
    data = path.read_bytes()
    (tmp_path / "trunc.e5desk").write_bytes(data[: len(data) // 3])
    with pytest.raises(ProjectError, match="damaged"):
        load_project(tmp_path / "trunc.e5desk")
    (tmp_path / "text.e5desk").write_text("hello")
    with pytest.raises(ProjectError, match="not an e5desk project"):
        load_project(tmp_path / "text.e5desk")
    other = tmp_path / "other.e5desk"
    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.close()
    with pytest.raises(ProjectError, match="not an e5desk project"):
        load_project(other)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(ProjectError, match="newer e5desk"):
        load_project(path)


def test_sigkill_during_save_keeps_previous_project(tmp_path):
    path = tmp_path / "p.e5desk"
    save_project(sample_project(), path)
    script = textwrap.dedent(f"""
        import numpy as np, sys
        from e5desk.core.data import SentenceSet
        from e5desk.core.store.project import Embedding, Project, save_project
        n = 400_000
        s = SentenceSet.build(["sentence %d" % i for i in range(n)])
        p = Project(sets=[s], embeddings={{"q": Embedding("m", "query", None,
                    np.ones((n, 384), dtype=np.float32))}})
        print("saving", flush=True)
        save_project(p, {str(path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "saving"
    time.sleep(1.0)  # inside the save (it takes several seconds)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    q = load_project(path)  # the previous project, intact
    assert list(q.sets[0].text) == ["Hello", "Hallo", "こんにちは"]


def test_projector_export_opens_as_a_set_again(tmp_path):
    p = sample_project()
    s, v = p.sets[0], p.embeddings["query"].vectors
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    files = export_projector(v, s, tmp_path / "proj")
    assert [f.name for f in files] == ["vectors.tsv", "metadata.tsv"]
    imported = import_vectors(tmp_path / "proj" / "vectors.tsv", model="embedded:abc")
    assert list(imported.sentences.text) == list(s.text)
    assert list(imported.sentences.lang) == ["en", "de", None]
    assert np.allclose(imported.vectors, v, atol=1e-5)
    imported.check_model("embedded:abc", 8)
    with pytest.raises(E5DeskError, match="not by"):
        imported.check_model("another", 8)
    with pytest.raises(E5DeskError, match="dimensions"):
        import_vectors(tmp_path / "proj" / "vectors.tsv").check_model("x", 384)


def test_export_cli(tmp_path, capsys):
    from e5desk.cli import main

    path = tmp_path / "p.e5desk"
    save_project(sample_project(), path)
    assert main(["export", str(path), "--format", "npy", "--out", str(tmp_path / "v.npy")]) == 0
    assert np.load(tmp_path / "v.npy").shape == (3, 8)
    assert main(["export", str(path), "--format", "csv", "--out", str(tmp_path / "s.csv")]) == 0
    assert (tmp_path / "s.csv").read_text(encoding="utf-8").splitlines()[0] == \
        "text,lang,group,set,line,x,y"
    assert main(["export", str(path), "--format", "parquet", "--out",
                 str(tmp_path / "v.parquet")]) == 0
    back = import_vectors(tmp_path / "v.parquet")
    assert back.model == "embedded:abc" and list(back.sentences.text) == ["Hello", "Hallo",
                                                                         "こんにちは"]
    assert list(back.sentences.lang) == ["en", "de", None]
    v = sample_project().embeddings["query"].vectors
    assert np.allclose(back.vectors, v / np.linalg.norm(v, axis=1, keepdims=True), atol=1e-6)
    assert main(["export", str(tmp_path / "nope.e5desk"), "--format", "npy",
                 "--out", str(tmp_path / "x.npy")]) == 2
