"""Vectors from elsewhere as a new user gets them wrong: every bad file is refused with the
file's name and what was expected, through the CLI (exit 2, no traceback)."""

from __future__ import annotations

import numpy as np
import pytest

from e5desk.cli import main


@pytest.fixture
def texts(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("".join(f"support ticket {i} about topic {i % 3}\n" for i in range(12)),
                    encoding="utf-8")
    rng = np.random.default_rng(0)
    v = rng.normal(size=(12, 16)).astype(np.float32)
    return path, v / np.linalg.norm(v, axis=1, keepdims=True)


def _map(tmp_path, texts_path, vectors_path, capsys) -> tuple[int, str]:
    code = main(["map", str(texts_path), "--vectors", str(vectors_path), "--method", "pca",
                 "--out", str(tmp_path / "m.csv")])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("name,make,expected", [
    ("text.npy", lambda p, v: p.write_text("0.1 0.2\n0.3 0.4\n"), "not a .npy file"),
    ("objects.npy", lambda p, v: np.save(p, np.array([[1.0], [1.0, 2.0]], dtype=object),
                                         allow_pickle=True), "holds Python objects"),
    ("cut.npy", lambda p, v: (np.save(p, v), p.write_bytes(p.read_bytes()[:300])),
     "the file is cut short (its header says 12 x 16 float32 = 768 bytes, but only 300"),
    ("rows.npy", lambda p, v: np.save(p, v[:-1]), "11 vectors for 12 sentences"),
    ("nan.npy", lambda p, v: np.save(p, np.where(np.arange(12)[:, None] == 4, np.nan, v)),
     "row 5 holds a value that is not a finite number"),
    ("zero.npy", lambda p, v: np.save(p, np.where(np.arange(12)[:, None] == 2, 0, v)),
     "row 3 is all zeros"),
    ("one.npy", lambda p, v: np.save(p, v[:, 0]), "expected a 2-D array (rows x dimensions), "
     "got shape (12,)"),
    ("ints.npy", lambda p, v: np.save(p, (v * 100).astype(np.int32)), "expected float32"),
])
def test_bad_vectors_are_refused_by_name(tmp_path, texts, capsys, name, make, expected):
    texts_path, v = texts
    make(tmp_path / name, v)
    code, err = _map(tmp_path, texts_path, tmp_path / name, capsys)
    assert code == 2
    assert f"{name}: " in err and expected in err, err
    assert "Traceback" not in err


def test_float16_npy_maps_like_float32(tmp_path, texts, capsys):
    texts_path, v = texts
    np.save(tmp_path / "h.npy", v.astype(np.float16))
    code, err = _map(tmp_path, texts_path, tmp_path / "h.npy", capsys)
    assert code == 0, err
    assert len((tmp_path / "m.csv").read_text(encoding="utf-8").splitlines()) == 13


def test_parquet_read_batch_by_batch(tmp_path, monkeypatch):
    """Rows across several batches keep their order and are normalised; a bad row in a
    later batch is named by its row in the file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import e5desk.core.vectors_import as vi

    monkeypatch.setattr(vi, "BLOCK", 4)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(10, 6)).astype(np.float32) * 3  # not unit rows
    pq.write_table(pa.table({"text": [str(i) for i in range(10)],
                             "embedding": [list(map(float, r)) for r in x]}),
                   tmp_path / "v.parquet", row_group_size=3)
    got = vi.read_vectors(tmp_path / "v.parquet", rows=10)
    assert got.dtype == np.float32
    assert np.allclose(got, x / np.linalg.norm(x, axis=1, keepdims=True), atol=1e-6)
    rows = [list(map(float, r)) for r in x]
    rows[9] = rows[9][:5]
    pq.write_table(pa.table({"embedding": rows}), tmp_path / "r.parquet")
    with pytest.raises(vi.DataError, match=r"r.parquet: column 'embedding', row 10: 5 numbers"):
        vi.read_vectors(tmp_path / "r.parquet")
    rows = [list(map(float, r)) for r in x]
    rows[6] = None
    pq.write_table(pa.table({"embedding": rows}), tmp_path / "n.parquet")
    with pytest.raises(vi.DataError, match=r"n.parquet: column 'embedding', row 7 is empty"):
        vi.read_vectors(tmp_path / "n.parquet")


def test_a_parquet_table_is_an_input_and_its_own_vectors(tmp_path, capsys):
    """Issue 28: "row i = sentence i of the given text/CSV/Parquet input": a Parquet file
    with a text column (and lang/group) is read as a sentence set; before, it was refused
    as "a binary file, not text"."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from e5desk.core.data import load_sentence_set

    rng = np.random.default_rng(2)
    v = rng.normal(size=(6, 8)).astype(np.float32)
    table = pa.table({"id": list(range(6)), "text": ["Save", "Speichern", "Cancel",
                                                     "Abbrechen", "Help", "Hilfe"],
                      "lang": ["en", "de"] * 3, "group": ["s", "s", "c", "c", "h", "h"],
                      "embedding": [list(map(float, r)) for r in v]})
    pq.write_table(table, tmp_path / "t.parquet")
    result = load_sentence_set(tmp_path / "t.parquet")
    s = result.sentence_set
    assert list(s.text) == ["Save", "Speichern", "Cancel", "Abbrechen", "Help", "Hilfe"]
    assert list(s.lang) == ["en", "de"] * 3 and list(s.group)[:2] == ["s", "s"]
    assert main(["map", str(tmp_path / "t.parquet"), "--vectors", str(tmp_path / "t.parquet"),
                 "--method", "pca", "--out", str(tmp_path / "m.csv")]) == 0
    pq.write_table(pa.table({"body": ["a", "b"]}), tmp_path / "n.parquet")
    assert main(["map", str(tmp_path / "n.parquet"), "--method", "pca", "--out",
                 str(tmp_path / "m.csv")]) == 2
    assert "n.parquet: which column holds the text?" in capsys.readouterr().err
    pq.write_table(pa.table({"text": ["a b c", None, "d e f"]}), tmp_path / "e.parquet")
    result = load_sentence_set(tmp_path / "e.parquet")
    assert len(result.sentence_set) == 2 and result.skipped == 1
    assert list(result.sentence_set.line) == [1, 3]
