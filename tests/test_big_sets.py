"""Issue 28: vectors from elsewhere (--vectors), maps of millions (sampled layout, PCA from a
sample, clusters of a sample), on small sets with the thresholds forced low."""

from __future__ import annotations

import numpy as np
import pytest

from e5desk.cli import main
from e5desk.core import projection_large as large
from e5desk.core.errors import DataError, E5DeskError


def clustered(n: int, k: int = 12, d: int = 32, seed: int = 0, noise: float = 0.3):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)).astype(np.float32)
    label = rng.integers(0, k, n)
    x = centres[label] + noise * rng.normal(size=(n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), label


def purity(coords: np.ndarray, label: np.ndarray, k: int = 10) -> float:
    """Share of each point's k nearest 2-D neighbours in its own true cluster."""
    from scipy.spatial import cKDTree

    _, nn = cKDTree(coords).query(coords, k=k + 1)
    return float(np.mean(label[nn[:, 1:]] == label[:, None]))


@pytest.fixture
def pair(tmp_path):
    """texts.txt (300 lines) and v.npy (300 x 32 clustered vectors)."""
    x, label = clustered(300)
    texts = tmp_path / "texts.txt"
    texts.write_text("".join(f"sentence {i} about topic {chr(97 + t)}\n"
                             for i, t in enumerate(label)), encoding="utf-8")
    np.save(tmp_path / "v.npy", x)
    return texts, tmp_path / "v.npy", x, label


# -- --vectors -------------------------------------------------------------------------------
def test_read_vectors_checks_and_normalises(tmp_path):
    from e5desk.core.vectors_import import read_vectors

    x = np.arange(1, 13, dtype=np.float16).reshape(4, 3)
    np.save(tmp_path / "h.npy", x)
    got = read_vectors(tmp_path / "h.npy", rows=4)
    assert got.dtype == np.float32 and np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-6)
    cases = {
        "nan": (np.array([[1, 0], [np.nan, 1]], np.float32), "row 2 holds a value that is "
                                                              "not a finite number"),
        "inf": (np.array([[1, 0], [1, np.inf]], np.float32), "row 2"),
        "zero": (np.array([[1, 0], [0, 0]], np.float32), "row 2 is all zeros"),
        "ints": (np.array([[1, 0], [0, 1]], np.int64), "expected float32 or float16"),
        "flat": (np.ones(4, np.float32), "expected a 2-D array"),
    }
    for name, (arr, message) in cases.items():
        np.save(tmp_path / f"{name}.npy", arr)
        with pytest.raises(DataError, match=message) as err:
            read_vectors(tmp_path / f"{name}.npy", rows=2 if arr.ndim == 2 else None)
        assert f"{name}.npy" in str(err.value)
    with pytest.raises(DataError, match="4 vectors for 5 sentences"):
        read_vectors(tmp_path / "h.npy", rows=5)
    (tmp_path / "v.csv").write_text("1,2\n")
    with pytest.raises(DataError, match=r"v\.csv: vectors must be a \.npy"):
        read_vectors(tmp_path / "v.csv")


def test_read_vectors_from_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from e5desk.core.vectors_import import read_vectors

    x, _ = clustered(20, d=8)
    fixed = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), 8)
    pq.write_table(pa.table({"id": np.arange(20), "embedding": fixed}), tmp_path / "f.parquet")
    assert np.allclose(read_vectors(tmp_path / "f.parquet", rows=20), x, atol=1e-6)
    ragged = pa.array([[1.0, 2.0], [1.0]])
    pq.write_table(pa.table({"vector": ragged}), tmp_path / "r.parquet")
    with pytest.raises(DataError, match=r"r\.parquet: column 'vector', row 2: 1 numbers"):
        read_vectors(tmp_path / "r.parquet")
    pq.write_table(pa.table({"text": ["a"]}), tmp_path / "n.parquet")
    with pytest.raises(DataError, match=r"n\.parquet: no vector column"):
        read_vectors(tmp_path / "n.parquet")


def test_map_with_vectors_needs_no_model(pair, tmp_path, capsys, monkeypatch):
    import csv

    from e5desk.core.encoder import Encoder

    def no_model(*a, **k):
        raise AssertionError("a model was loaded although every vector was given")

    monkeypatch.setattr(Encoder, "load", no_model)
    texts, v, x, label = pair
    out = tmp_path / "m.csv"
    assert main(["map", str(texts), "--vectors", str(v), "--method", "pca",
                 "--no-center-languages", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 300 and rows[5]["text"].startswith("sentence 5 ")
    coords = np.array([[float(r["x"]), float(r["y"])] for r in rows])
    assert np.allclose(coords, large.pca_large(x), atol=1e-3) or \
        np.allclose(np.abs(coords), np.abs(large.pca_large(x)), atol=1e-3)


@pytest.mark.parametrize("bad,message", [
    ("short", "299 vectors for 300 sentences"),
    ("nan", "row 8 holds a value that is not a finite number"),
    ("zero", "row 10 is all zeros"),
    ("twice", "--vectors was given 2 time(s) for 1 input(s)"),
])
def test_vectors_errors_exit_2(pair, tmp_path, capsys, bad, message):
    texts, v, x, _ = pair
    path = tmp_path / f"{bad}.npy"
    if bad == "short":
        np.save(path, x[:-1])
    elif bad == "nan":
        y = x.copy()
        y[7, 3] = np.nan
        np.save(path, y)
    elif bad == "zero":
        y = x.copy()
        y[9] = 0
        np.save(path, y)
    extra = ["--vectors", str(v)] if bad == "twice" else []
    args = ["map", str(texts), "--vectors", str(v if bad == "twice" else path), *extra,
            "--out", str(tmp_path / "m.csv")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    if bad != "twice":
        assert f"{bad}.npy" in err


def test_api_read_sets_with_vectors_and_dimension_refusal(pair):
    import e5desk
    from e5desk.core.batch import StoredEncoder

    texts, v, x, label = pair
    sentences = e5desk.read_sets(texts, vectors=v)
    m = e5desk.map(None, sentences, method="pca")
    assert m.coords.shape == (300, 2)

    class Fake:  # a "model" of another dimension, for text the vectors do not cover
        dim = 16

        def format(self, texts, role, task=None):
            return list(texts)

        def encode(self, texts, **kw):
            return np.ones((len(texts), 16), np.float32)

    enc = StoredEncoder(Fake(), sentences.stored)
    assert enc.encode(list(sentences.text)) is sentences.stored[0].vectors  # row i = i
    assert np.allclose(enc.encode([sentences.text[3]]), x[3], atol=1e-6)  # by text
    with pytest.raises(E5DeskError, match="have 32 dimensions and the loaded model makes "
                                          "16"):
        enc.encode(["a typed query"])


# -- maps of millions, small -----------------------------------------------------------------
def test_pca_from_a_sample_matches_full_pca():
    from e5desk.core.projection import pca_2d

    x, _ = clustered(3000)
    exact = pca_2d(x)
    approx = large.pca_large(x, sample=1500)
    for j in range(2):
        assert abs(np.corrcoef(exact[:, j], approx[:, j])[0, 1]) > 0.99


def test_nearest_in_sample_finds_the_true_neighbours():
    x, _ = clustered(4000, d=24)
    chosen = large.sample_rows(4000, 1000, seed=3)
    rest = np.setdiff1d(np.arange(4000), chosen)
    idx, sims = large.nearest_in_sample(x, rest, x[chosen], k=5, cell_rows=64)
    truth = np.argsort(-(x[rest] @ x[chosen].T), axis=1)[:, :5]
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(idx, truth, strict=True)])
    assert recall > 0.9
    assert np.allclose(sims[:, 0], np.einsum("ij,ij->i", x[rest], x[chosen][idx[:, 0]]),
                       atol=1e-5)


def test_clustered_set_maps_with_the_sampled_layout(monkeypatch):
    """Above the (forced) threshold, project() lays out a sample and places the rest; the
    map keeps clusters apart and analyse_map finds them from a sample too."""
    from e5desk.core.mapping import analyse_map
    from e5desk.core.projection import MapParams
    from e5desk.workflows.map import project_vectors

    monkeypatch.setattr(large, "SAMPLED_MAP", 1000)
    monkeypatch.setattr(large, "SAMPLE_ROWS", 800)
    monkeypatch.setattr(large, "SAMPLED_CLUSTERS", 1000)
    monkeypatch.setattr(large, "CLUSTER_SAMPLE", 800)
    calls = []
    real = large.sampled_umap
    monkeypatch.setattr(large, "sampled_umap",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    x, label = clustered(3000, k=8)
    coords = project_vectors(x, [None] * 3000, MapParams("umap", n_epochs=100))
    assert calls and coords.shape == (3000, 2) and np.isfinite(coords).all()
    assert purity(coords, label) > 0.95
    langs = ["en" if i % 2 else "de" for i in range(3000)]
    analysis = analyse_map(coords, x, [f"word{label[i]} text" for i in range(3000)], langs)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(label, analysis.labels) > 0.9
    assert sum(c.size for c in analysis.clusters) == int((analysis.labels >= 0).sum())
    assert 0.3 < analysis.mixing < 0.7  # languages alternate: about half the neighbours


def test_project_keeps_vectors_given_with_vectors(pair):
    """Saved and restored: still marked imported (typed text refused only for another
    dimension, not for an unknown model)."""
    from e5desk.core.vectors_import import load_with_vectors
    from e5desk.core.workspace import Workspace

    texts, v, x, _ = pair
    ws = Workspace()
    ws.import_vectors(load_with_vectors(texts, v))
    ws.model_id = "some-model"
    assert "32 dimensions" in ws.typed_text_refusal(384)
    assert ws.typed_text_refusal(32) is None
    restored = Workspace()
    restored.restore(ws.snapshot({}, {}))
    restored.model_id = "some-model"
    assert np.array_equal(restored.vectors("query"), ws.imported.vectors)
    assert restored.typed_text_refusal(32) is None
    assert "model makes 384" in restored.typed_text_refusal(384)


def test_window_opens_a_file_with_its_vectors(qtbot, window, pair, tmp_path):
    pytest.importorskip("pytestqt")
    from PySide6.QtWidgets import QMessageBox

    texts, v, x, _ = pair
    window.start(sample=False)
    qtbot.waitUntil(lambda: window.session.encoder is not None, timeout=120_000)
    bad = tmp_path / "bad.npy"
    np.save(bad, x[:10])
    window.open_with_vectors(texts, bad)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorDialog") is not None,
                    timeout=30_000)
    assert "bad.npy: 10 vectors for 300 sentences" in window.findChild(
        QMessageBox, "errorDialog").text()
    window.findChild(QMessageBox, "errorDialog").close()
    window.findChild(QMessageBox, "errorDialog").setObjectName("seen")
    window.open_with_vectors(texts, v)
    qtbot.waitUntil(lambda: window.session.imported is not None, timeout=30_000)
    assert len(window.session.combined) == 300
    assert np.allclose(window.session.vectors("query"), x, atol=1e-6)
    assert "have 32 dimensions and the loaded model makes 384" in \
        window.session.typed_text_refusal()


def test_unit_float32_vectors_stay_memory_mapped(tmp_path):
    from e5desk.core.vectors_import import read_vectors

    x, _ = clustered(100)
    np.save(tmp_path / "unit.npy", x)
    got = read_vectors(tmp_path / "unit.npy", rows=100)
    assert isinstance(got, np.memmap) and not got.flags.writeable  # no copy
    y = x.copy()
    y[70] *= 3  # one row not of unit length: a normalised copy
    np.save(tmp_path / "scaled.npy", y)
    got = read_vectors(tmp_path / "scaled.npy", rows=100)
    assert not isinstance(got, np.memmap) and np.allclose(got, x, atol=1e-6)


def test_fingerprint_changes_with_any_row(monkeypatch):
    monkeypatch.setattr(large, "FINGERPRINT_ALL", 100)
    x, _ = clustered(500)
    y = x.copy()
    y[5, 3] += 1e-3  # not a sampled row (every 97th)
    assert large.fingerprint(x) != large.fingerprint(y)
    assert large.fingerprint(x) == large.fingerprint(x.copy())


def test_refinement_puts_placed_rows_beside_their_translations():
    """A sampled map places a row among its nearest *sampled* rows, so a meaning none of
    whose translations was sampled lands among its neighbours' meanings; the refinement
    (a few UMAP epochs over every row's kNN graph) brings translations back together."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(3)
    topics = rng.normal(size=(20, 32))
    meanings = topics[rng.integers(0, 20, 600)] + rng.normal(size=(600, 32)) * 0.5
    x = np.repeat(meanings, 5, axis=0) + rng.normal(size=(3000, 32)) * 0.08  # 5 translations
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    meaning = np.repeat(np.arange(600), 5)

    def together(coords):  # share of each row's 4 map neighbours that are its translations
        _, nn = cKDTree(coords).query(coords, k=5)
        return float(np.mean(meaning[nn[:, 1:]] == meaning[:, None]))

    placed = large.sampled_umap(x, sample=1000, n_epochs=100, refine_epochs=0)
    refined = placed.copy()
    large.refine(refined, x, 0.1, seed=1)
    assert np.isfinite(refined).all() and not np.array_equal(placed, refined)
    assert together(refined) > together(placed) + 0.1, (together(placed), together(refined))
