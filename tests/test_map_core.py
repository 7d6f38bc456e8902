"""Projection, clusters and alignment figures on small data with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from e5desk.core.alignment import cross_lingual_p_at_1, mixing_score
from e5desk.core.clusters import default_tokens, describe_clusters, hdbscan_labels
from e5desk.core.errors import Cancelled, E5DeskError
from e5desk.core.projection import MapParams, center_languages, exact_knn, project, umap_2d


def unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def parallel():
    """6 meanings x 3 languages: meaning vector + a strong per-language offset."""
    rng = np.random.default_rng(0)
    meanings = rng.normal(size=(6, 16))
    offsets = rng.normal(size=(3, 16)) * 3
    vectors, langs, groups = [], [], []
    for li, lang in enumerate(["en", "de", "ja"]):
        for m in range(6):
            vectors.append(meanings[m] + offsets[li] + rng.normal(size=16) * 0.05)
            langs.append(lang)
            groups.append(f"g{m}")
    return unit(np.array(vectors)), langs, groups


def test_centering_removes_language_means(parallel):
    vectors, langs, _ = parallel
    centered = center_languages(vectors, langs)
    np.testing.assert_allclose(np.linalg.norm(centered, axis=1), 1, atol=1e-5)
    # After centering, each language's mean is (near) zero before renormalising.
    for lang in set(langs):
        rows = [i for i, x in enumerate(langs) if x == lang]
        assert np.linalg.norm(centered[rows].mean(0)) < 0.35
        assert np.linalg.norm(vectors[rows].mean(0)) > 0.8


def test_p_at_1_by_hand():
    # en0 -> de0 correct; en1 -> de0 wrong; de0 -> en0 correct; de1 -> en1 correct
    v = unit(np.array([[1, 0.0], [0.9, 0.1], [1, 0.05], [0.2, 1]]))
    overall, pairs = cross_lingual_p_at_1(v, ["en", "en", "de", "de"], ["a", "b", "a", "b"])
    assert pairs[("en", "de")] == 0.5 and pairs[("de", "en")] == 1.0
    assert overall == 0.75


def test_centering_raises_cross_lingual_p_at_1(parallel):
    vectors, langs, groups = parallel
    before, _ = cross_lingual_p_at_1(vectors, langs, groups)
    after, _ = cross_lingual_p_at_1(center_languages(vectors, langs), langs, groups)
    assert after == 1.0 and after >= before


def test_mixing_score_by_hand():
    coords = np.array([[0, 0], [0, 0.1], [10, 10], [10, 10.1]], dtype=float)
    assert mixing_score(coords, ["en", "en", "de", "de"], k=1) == 0.0
    assert mixing_score(coords, ["en", "de", "en", "de"], k=1) == 1.0


def test_pca_and_cache_and_determinism(parallel):
    vectors, langs, _ = parallel
    a = project(vectors, MapParams("pca"))
    assert a.shape == (18, 2) and a.dtype == np.float32
    assert project(vectors, MapParams("pca")) is a  # cached
    b = project(vectors, MapParams("pca", center_languages=True), langs)
    assert not np.allclose(a, b)
    with pytest.raises(E5DeskError, match="unknown map method"):
        project(vectors, MapParams("mds"))


def test_exact_knn_and_cancel(parallel):
    vectors, _, _ = parallel
    idx, dist = exact_knn(vectors, 4, block=5)
    assert (idx[:, 0] == np.arange(len(vectors))).all() and (dist[:, 0] == 0).all()
    assert (np.diff(dist, axis=1) >= -1e-6).all()
    with pytest.raises(Cancelled):
        umap_2d(vectors, cancelled=lambda: True)


def test_umap_is_deterministic_and_puts_translations_together(parallel):
    vectors, langs, groups = parallel
    params = MapParams("umap", n_neighbors=5, center_languages=True)
    first = project(vectors, params, langs)
    project.__globals__["_CACHE"].clear()
    again = project(vectors, params, langs)
    np.testing.assert_allclose(first, again, atol=1e-4)
    # each sentence's nearest 2-D neighbour is one of its translations
    d = ((first[:, None] - first[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert all(groups[j] == groups[i] for i, j in enumerate(d.argmin(1)))
    assert mixing_score(first, langs, k=2) > 0.9


def test_cluster_labels_for_cjk_and_latin():
    texts = ["火车站在哪里", "火车站很远", "火车票多少钱",
             "the weather is sunny", "sunny weather today", "weather will be sunny"]
    labels = np.array([0, 0, 0, 1, 1, 1])
    clusters = describe_clusters(labels, texts, ["zh"] * 3 + ["en"] * 3)
    assert "火车" in clusters[0].keywords and clusters[0].languages == {"zh": 1.0}
    assert {"weather", "sunny"} <= set(clusters[1].keywords)
    assert clusters[1].entropy == 0.0
    assert "火车" in default_tokens("火车站")


def test_hdbscan_finds_blobs():
    rng = np.random.default_rng(1)
    pts = np.concatenate([rng.normal(0, 0.1, (20, 2)), rng.normal(5, 0.1, (20, 2))])
    labels = hdbscan_labels(pts, min_cluster_size=5)
    assert len(set(labels[:20])) == 1 and len(set(labels[20:])) == 1
    assert labels[0] != labels[-1] and (labels >= 0).all()
