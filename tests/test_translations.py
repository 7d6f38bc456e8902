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
    assert set(out) == {"retrieval", "symmetric", "none"}
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


# -- mining modes, blocked search ----------------------------------------------------------
def _hand_made_sets():
    """Three planted pairs on their own axes and one distractor per side, in 5 dimensions:
    src 0, 1, 2 = e0, e1, e2; src 3 = e3 + 0.5 e0 (leans towards the meaning of src 0).
    tgt 0 ~ e1 (pairs src 1), tgt 1 = e4 + 0.5 e2 (leans towards src 2), tgt 2 ~ e0
    (pairs src 0), tgt 3 ~ e2 (pairs src 2)."""
    e = np.eye(5)
    src = unit([e[0], e[1], e[2], e[3] + 0.5 * e[0]])
    tgt = unit([e[1] + 0.1 * e[4], e[4] + 0.5 * e[2], e[0] + 0.1 * e[4], e[2] + 0.1 * e[3]])
    return src, tgt


PLANTED = {(0, 2), (1, 0), (2, 3)}
BY_MODE = {
    # every source's best target: the distractor src 3 is closest to tgt 2
    "forward": PLANTED | {(3, 2)},
    # every target's best source: the distractor tgt 1 is closest to src 2
    "backward": PLANTED | {(2, 1)},
    "intersect": PLANTED,
}


@pytest.mark.parametrize("mode", ["forward", "backward", "intersect"])
def test_mining_modes_find_planted_pairs_among_distractors(mode):
    src, tgt = _hand_made_sets()
    pairs = mine(src, tgt, k=2, mode=mode, threshold=None)
    assert {(p.src, p.tgt) for p in pairs} == BY_MODE[mode]
    assert [p.margin for p in pairs] == sorted((p.margin for p in pairs), reverse=True)
    # The distractors' pairs have margins below 1 (cosine under their neighbourhoods'
    # mean), the planted ones far above: a threshold of 1 leaves the planted pairs only.
    kept = mine(src, tgt, k=2, mode=mode, threshold=1.0)
    assert {(p.src, p.tgt) for p in kept} == PLANTED
    # Swapping the sides swaps forward and backward.
    flipped = {(p.tgt, p.src) for p in mine(tgt, src, k=2, threshold=None,
                                             mode={"forward": "backward",
                                                   "backward": "forward"}.get(mode, mode))}
    assert flipped == BY_MODE[mode]


def _brute_force_mine(src, tgt, k, mode, candidates=8):
    """The definition, on the full score matrix, one pair at a time."""
    s = (src.astype(np.float64) @ tgt.T.astype(np.float64))
    cand = max(k, candidates)
    src_mean = np.sort(s, 1)[:, ::-1][:, :k].mean(1)
    tgt_mean = np.sort(s.T, 1)[:, ::-1][:, :k].mean(1)

    def margin(i, j):
        return s[i, j] / (src_mean[i] / 2 + tgt_mean[j] / 2)

    fwd = {}
    for i in range(len(src)):
        near = np.argsort(-s[i])[:cand]
        fwd[i] = max(near, key=lambda j, i=i: margin(i, j))
    bwd = {}
    for j in range(len(tgt)):
        near = np.argsort(-s[:, j])[:cand]
        bwd[j] = max(near, key=lambda i, j=j: margin(i, j))
    if mode == "forward":
        pairs = {(i, int(j)) for i, j in fwd.items()}
    elif mode == "backward":
        pairs = {(int(i), j) for j, i in bwd.items()}
    else:
        pairs = {(i, int(j)) for i, j in fwd.items() if bwd[int(j)] == i}
    return {p: margin(*p) for p in pairs}


@pytest.mark.parametrize("mode", ["forward", "backward", "intersect"])
def test_mining_margins_match_the_definition(mode):
    rng = np.random.default_rng(11)
    common = rng.normal(size=24)
    src = unit(rng.normal(size=(40, 24)) + 1.5 * common)  # E5-like: cosines in a high band
    tgt = unit(rng.normal(size=(55, 24)) + 1.5 * common)
    expected = _brute_force_mine(src, tgt, 4, mode)
    got = {(p.src, p.tgt): p.margin for p in mine(src, tgt, k=4, mode=mode, threshold=None)}
    assert set(got) == set(expected)
    for pair, m in expected.items():
        assert got[pair] == pytest.approx(m, rel=1e-5)


def test_knn_both_ways_over_blocks_matches_full_sort():
    from e5desk.core.similarity import knn_both_ways

    rng = np.random.default_rng(2)
    a, b = unit(rng.normal(size=(61, 12))), unit(rng.normal(size=(47, 12)))
    s = a @ b.T
    for block in (1, 7, 1000):
        ai, asims, bi, bsims = knn_both_ways(a, b, 5, block=block)
        assert (ai == np.argsort(-s, axis=1, kind="stable")[:, :5]).all()
        assert (bi == np.argsort(-s.T, axis=1, kind="stable")[:, :5]).all()
        assert np.allclose(asims, -np.sort(-s, axis=1)[:, :5], atol=1e-6)
        assert np.allclose(bsims, -np.sort(-s.T, axis=1)[:, :5], atol=1e-6)


def test_top_k_rows_long_rows_and_crowded_chunk():
    from e5desk.core.similarity import top_k_rows

    rng = np.random.default_rng(4)
    s = rng.random((6, 64 * 40 + 13), dtype=np.float32)  # chunked path, with a tail
    s[1, 128:136] = 2 + np.arange(8)  # all of row 1's best values in one chunk
    s[2, -3:] = 5  # row 2's best in the tail after the last whole chunk
    idx, vals = top_k_rows(s, 8)
    want = np.argsort(-s, axis=1, kind="stable")[:, :8]
    assert np.allclose(vals, np.take_along_axis(s, want, 1))
    assert set(idx[1]) == set(range(128, 136)) and idx[1][0] == 135
    assert set(idx[2][:3]) == {s.shape[1] - 3, s.shape[1] - 2, s.shape[1] - 1}


# -- rank agreement, evaluation runs ---------------------------------------------------------
def test_ranking_agreement_by_hand():
    from e5desk.core.evaluate import ranking_agreement

    q = unit([[1, 0], [0, 1]])
    p = unit([[1, 0.1], [0.5, 0.5], [0.1, 1], [-1, 0.2]])
    same = ranking_agreement(q, p, q, p, k=2)
    assert same == {"overlap@2": 1.0, "top-1": 1.0, "Spearman": 1.0, "queries": 2}
    # Negated passages reverse every ranking: Spearman -1, nothing shared in the top 2.
    rev = ranking_agreement(q, p, q, -p, k=2)
    assert rev["Spearman"] == pytest.approx(-1.0) and rev["overlap@2"] == 0.0
    assert rev["top-1"] == 0.0
    # Query 0 ranks 0,1,2,3 by model A; model B swaps the last two: d^2 sums to 2 of the
    # 4 * 15 = 60 in 1 - 6 sum d^2 / (n (n^2 - 1)) -> 0.8; query 1 the same ranking (1.0).
    p_b = p.copy()
    p_b[3] = unit([[0.2, -1]])[0]  # for query 0 now above tgt 2 (0.2 > 0.1)
    part = ranking_agreement(q[:1], p, q[:1], p_b, k=2)
    assert part["Spearman"] == pytest.approx(0.8) and part["overlap@2"] == 1.0


def test_run_evaluation_embeds_each_role_once_and_matches_direct_metrics():
    from e5desk.core.evaluate import EvalData, evaluate_retrieval, run_evaluation

    rng = np.random.default_rng(8)
    table = {}
    calls = []

    def encode(texts, role, progress=None, cancelled=None):
        calls.append((len(texts), role))
        for t in texts:
            table.setdefault((t, role), unit(rng.normal(size=(1, 6)))[0])
        if progress:
            progress(len(texts), len(texts))
        return np.array([table[(t, role)] for t in texts])

    data = EvalData("retrieval", queries=["q0", "q1", "q2"], passages=["p0", "p1"],
                    relevant=[{0}, {1}, {0, 1}])
    ticks = []
    # The older names are aliases of the shared rule names; runs come back by rule name.
    runs = run_evaluation(encode, data, ["query/passage", "query/query", "none"],
                          progress=lambda d, t: ticks.append((d, t)))
    assert list(runs) == ["retrieval", "symmetric", "none"]
    assert sorted(calls) == sorted([(3, "query"), (2, "passage"), (2, "query"),
                                    (3, "raw"), (2, "raw")])
    assert ticks[-1] == (12, 12) and all(t == 12 for _d, t in ticks)
    q = np.array([table[(t, "query")] for t in data.queries])
    p = np.array([table[(t, "passage")] for t in data.passages])
    assert runs["retrieval"].metrics == evaluate_retrieval(q, p, data.relevant)
    calls.clear()
    par = EvalData("parallel", texts=["a", "b", "A", "B"], langs=["en", "en", "de", "de"],
                   groups=["1", "2", "1", "2"])
    runs = run_evaluation(encode, par, ["retrieval", "symmetric", "none"])
    assert sorted(calls) == [(4, "passage"), (4, "query"), (4, "raw")]
    assert set(runs["none"].pairs) == {("en", "de"), ("de", "en")}
    assert runs["none"].metrics == {k: np.mean([r[k] for r in runs["none"].pairs.values()])
                                    for k in runs["none"].metrics}
    assert run_evaluation(encode, par)["symmetric"].rule == "symmetric"
    with pytest.raises(Exception, match="unknown prefix rule"):
        run_evaluation(encode, par, ["passage/query"])


# -- CLI: model A/B, mining modes ------------------------------------------------------------
def test_eval_model_ab_reports_both_models_and_agreement(tiny_model, tiny_xlmr_model, capsys,
                                                         monkeypatch):
    import gc
    import json
    import weakref

    import e5desk.commands.eval as eval_command
    from e5desk.cli import main

    loaded, alive_at_load = [], []
    real_load = eval_command.load_encoder

    def tracking_load(args):
        gc.collect()
        alive_at_load.append([ref() is not None for ref in loaded])
        encoder = real_load(args)
        loaded.append(weakref.ref(encoder))
        return encoder

    monkeypatch.setattr(eval_command, "load_encoder", tracking_load)
    train = "resources/samples/retrieval/train.jsonl"
    assert main(["eval", train, "--model", str(tiny_model), "--model-b", str(tiny_xlmr_model),
                 "--json", "--no-cache"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert alive_at_load == [[], [False]]  # model A was gone before model B loaded
    assert "tiny-multilingual-e5-small" in out["A"]["model"]
    assert "tiny-multilingual-e5-base" in out["B"]["model"]
    a, b = out["A"]["results"]["retrieval"], out["B"]["results"]["retrieval"]
    assert a["queries"] == b["queries"] > 40
    assert a["MRR@10"] != b["MRR@10"]  # two different random models
    agree = out["agreement"]["retrieval"]
    assert set(agree) == {"overlap@10", "top-1", "Spearman", "queries"}
    assert 0 <= agree["overlap@10"] < 0.9 and abs(agree["Spearman"]) < 0.9

    # The same model as A and B: identical figures, full agreement; parallel data gives
    # the mean over pairs and every pair, both in the table.
    assert main(["eval", "resources/samples/phrases.csv", "--model", str(tiny_model),
                 "--model-b", str(tiny_model), "--no-cache"]) == 0
    table = capsys.readouterr().out.splitlines()
    rows = {line[:26].strip(): line[26:].split() for line in table
            if line.startswith(("A ", "B ")) and not line.startswith(("A =", "B ="))}
    assert rows["A all pairs (symmetric)"] == rows["B all pairs (symmetric)"]
    assert rows["A en->de"] == rows["B en->de"] and len(rows) == 2 * (1 + 9 * 8)
    agreement = table[table.index(next(x for x in table if x.startswith("rank agreement"))) + 1:]
    first = agreement[1]
    assert first.startswith("all pairs (symmetric)")
    assert first.split()[-3:] == ["1.000", "1.000", "1.000"]


def test_eval_bad_model_b_fails_before_model_a_loads(tmp_path, capsys, monkeypatch):
    import e5desk.commands.eval as eval_command
    from e5desk.cli import main

    monkeypatch.setattr(eval_command, "load_encoder", lambda args: pytest.fail("loaded A"))
    code = main(["eval", "resources/samples/phrases.csv", "--model-b", str(tmp_path / "nope")])
    assert code == 2 and "nope" in capsys.readouterr().err


def test_mine_cli_modes_write_input_line_numbers(tmp_path, embedded_folder):
    import csv
    import random

    from e5desk.cli import main

    rows = list(csv.DictReader(open("resources/samples/phrases.csv", encoding="utf-8")))[:8]
    src_lines = ["", rows[0]["en"], rows[1]["en"], "", *[r["en"] for r in rows[2:]]]
    german = [r["de"] for r in rows[:6]]
    random.Random(1).shuffle(german)
    tgt_lines = [german[0], "", "", *german[1:]]
    src, tgt = tmp_path / "src.txt", tmp_path / "tgt.txt"
    src.write_text("\n".join(src_lines) + "\n", encoding="utf-8")
    tgt.write_text("\n".join(tgt_lines) + "\n", encoding="utf-8")
    truth = {r["en"]: r["de"] for r in rows[:6]}
    found = {}
    for mode in ("forward", "backward", "intersect"):
        out = tmp_path / f"{mode}.tsv"
        assert main(["mine", str(src), str(tgt), "--format", "text", "--mode", mode,
                     "--threshold", "0", "--out", str(out)]) == 0
        with out.open(encoding="utf-8") as f:
            table = list(csv.reader(f, delimiter="\t"))
        assert table[0] == ["src_lang", "src_line", "tgt_lang", "tgt_line", "score",
                            "cosine", "src_text", "tgt_text"]
        for _sl, src_line, tl, tgt_line, score, _cos, src_text, tgt_text in table[1:]:
            assert src_lines[int(src_line) - 1] == src_text  # 1-based lines of the inputs
            assert tgt_lines[int(tgt_line) - 1] == tgt_text
            assert float(score) > 0 and tl == "de"
        found[mode] = {(r[6], r[7]) for r in table[1:]}
    assert len(found["forward"]) == 8  # every source sentence gets its best target
    assert {s for s, _t in found["forward"]} == {r["en"] for r in rows}
    assert found["backward"] == set(truth.items())  # every target's best source is right
    assert found["intersect"] == found["forward"] & found["backward"] == set(truth.items())


def test_prefix_finding_says_when_the_data_disagrees_with_the_cards():
    from e5desk.core.evaluate import prefix_finding

    disagree = prefix_finding({"retrieval": {"MRR@10": 0.766, "queries": 52},
                               "symmetric": {"MRR@10": 0.812},
                               "none": {"MRR@10": 0.820}}, "retrieval")
    assert "disagrees" in disagree and "5.4 points" in disagree
    assert "--rule none" in disagree and "52 queries" in disagree
    # One vocabulary: the rule names score's --rule takes, with the roles each side gets.
    assert "retrieval (query/passage)" in disagree and "none (no prefix)" in disagree
    agree = prefix_finding({"query/passage": {"MRR@10": 0.9}, "none": {"MRR@10": 0.898}},
                           "query/passage")  # the older names still work
    assert agree.startswith("Your data agrees") and "retrieval (query/passage)" in agree
    assert prefix_finding({"retrieval": {"MRR@10": 0.9}}, "retrieval") is None
