"""Margin scoring, mining, metrics and suspect finding against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from e5desk.core.evaluate import (
    evaluate_parallel,
    metrics_from_rankings,
    prefix_ab,
    rank_agreement,
    suspect_translations,
)
from e5desk.core.similarity import knn, mine


def unit(x):
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_margin_by_hand():
    src = unit([[1, 0, 0], [0, 1, 0]])
    tgt = unit([[1, 0.1, 0], [0, 1, 0.2], [0.5, 0.5, 0.7]])
    pairs = mine(src, tgt, k=2, mode="forward", threshold=None)
    s = src @ tgt.T
    t = tgt @ src.T
    src_mean = np.sort(s, 1)[:, ::-1][:, :2].mean(1)
    tgt_mean = np.sort(t, 1)[:, ::-1][:, :2].mean(1)
    expected = s[0, 0] / (src_mean[0] / 2 + tgt_mean[0] / 2)
    got = {(p.src, p.tgt): p.margin for p in pairs}
    assert got[(0, 0)] == pytest.approx(expected, rel=1e-5)
    assert (1, 1) in got


def test_mining_finds_planted_pairs_among_distractors():
    rng = np.random.default_rng(3)
    # Like E5: every vector shares a large common direction (cosines in a high band).
    common = rng.normal(size=64)
    meanings = unit(rng.normal(size=(45, 64)) + 2 * common)  # mean cosine about 0.8
    src = unit(meanings[:20] + rng.normal(size=(20, 64)) * 0.02)
    planted = rng.permutation(20)[:10]
    distractors = unit(meanings[20:] + rng.normal(size=(25, 64)) * 0.02)
    tgt_true = unit(meanings[planted] + rng.normal(size=(10, 64)) * 0.02)
    tgt = np.concatenate([distractors, tgt_true])
    order = rng.permutation(len(tgt))
    tgt = tgt[order]
    where = {int(np.flatnonzero(order == 25 + n)[0]): int(i) for n, i in enumerate(planted)}
    pairs = mine(src, tgt, mode="intersect", threshold=1.08)
    found = {(p.src, p.tgt) for p in pairs}
    truth = {(s, t) for t, s in where.items()}
    assert found == truth
    forward = {(p.src, p.tgt) for p in mine(src, tgt, mode="forward", threshold=None)}
    assert len(forward) == 20  # without a threshold every source gets a partner
    assert mine(src, tgt, mode="backward", threshold=None)
    with pytest.raises(Exception, match="unknown mining mode"):
        mine(src, tgt, mode="sideways")


def test_knn_blocks_agree():
    rng = np.random.default_rng(0)
    a, b = unit(rng.normal(size=(50, 8))), unit(rng.normal(size=(70, 8)))
    i1, s1 = knn(a, b, 5, block=7)
    i2, s2 = knn(a, b, 5, block=1000)
    assert (i1 == i2).all() and np.allclose(s1, s2)
    assert (np.diff(s1, axis=1) <= 1e-6).all()


def test_metrics_by_hand():
    rankings = np.array([[3, 1, 2, 0, 4, 5, 6, 7, 8, 9],
                         [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
                         [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]])
    relevant = [{1}, {0, 5}, {42}]
    m = metrics_from_rankings(rankings, relevant)
    assert m["MRR@10"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert m["P@1"] == pytest.approx(1 / 3)
    assert m["Recall@1"] == pytest.approx((0 + 0.5 + 0) / 3)
    assert m["Recall@10"] == pytest.approx((1 + 1 + 0) / 3)
    ndcg_q1 = (1 / np.log2(3)) / 1
    ndcg_q2 = (1 + 1 / np.log2(7)) / (1 + 1 / np.log2(3))
    assert m["nDCG@10"] == pytest.approx((ndcg_q1 + ndcg_q2 + 0) / 3)
    assert rank_agreement(rankings[:1], rankings[:1]) == 1.0


def test_parallel_evaluation_and_prefix_ab():
    v = unit([[1, 0], [0, 1], [0.9, 0.1], [0.1, 0.9]])
    res = evaluate_parallel(v, ["en", "en", "de", "de"], ["a", "b", "a", "b"])
    assert res[("en", "de")]["P@1"] == 1.0 and res[("de", "en")]["MRR@10"] == 1.0
    calls = []

    def fake_encode(texts, role):
        calls.append(role)
        return unit([[1, 0] if "x" in t else [0, 1] for t in texts])

    out = prefix_ab(fake_encode, ["x q", "y q"], ["x p", "y p"], [{0}, {1}])
    assert set(out) == {"query/passage", "query/query", "none"}
    assert calls == ["query", "passage", "query", "query", "raw", "raw"]
    assert out["none"]["MRR@10"] == 1.0


def test_suspect_finder_flags_planted_wrong_translation():
    rng = np.random.default_rng(5)
    meanings = unit(rng.normal(size=(12, 16)))
    en = unit(meanings + rng.normal(size=(12, 16)) * 0.05)
    de = unit(meanings + rng.normal(size=(12, 16)) * 0.05)
    de[4] = unit(meanings[9:10] + rng.normal(size=(1, 16)) * 0.05)[0]  # wrong translation
    vectors = np.concatenate([en, de])
    texts = [f"en {i}" for i in range(12)] + [f"de {i}" for i in range(12)]
    langs = ["en"] * 12 + ["de"] * 12
    groups = [f"g{i}" for i in range(12)] * 2
    suspects = suspect_translations(vectors, texts, langs, groups, "en", "de")
    assert suspects[0].group == "g4" and "better" in suspects[0].reason
    assert suspects[-1].reason == "looks fine"
