"""Score explanations (issue 25, part 3): segmentation, occlusion shares, faithfulness."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from e5desk.core.align import segment as align_segment
from e5desk.core.errors import E5DeskError
from e5desk.core.explain import explain_pair, segment, without


def words(text: str, tokenize=None) -> list[str]:
    return [w.text for w in segment(text, tokenize)]


def test_segment_spaced_text_is_split_at_whitespace_exactly():
    assert words("  Where is\tthe train-station?  ") == ["Where", "is", "the",
                                                        "train-station?"]
    assert words("مرحبا بالعالم") == ["مرحبا", "بالعالم"]


def test_segment_cjk_as_the_aligner_does_and_punctuation_apart():
    assert words("駅はどこですか？") == ["駅", "はどこですか", "？"]
    assert words("東京駅でコーヒーを飲みます。") == ["東", "京", "駅", "で", "コーヒー", "を",
                                                "飲", "みます", "。"]
    assert words("我用Suica卡、很方便") == ["我", "用", "Suica", "卡", "、", "很", "方", "便"]
    # the pair view's two modes show the same boxes: the aligner's words of raw text
    for text in ("東京の地下鉄はSuicaカードで払えます。", "我每天早上喝咖啡。", "料理がおいしい"):
        assert words(text) == [text[a:b] for a, b in align_segment(text)[0]]


def test_segment_thai_by_model_pieces_keeps_combining_marks():
    pieces = {"สวัสดี": ["▁ส", "วั", "ส", "ดี"]}
    assert words("สวัสดี", lambda t: pieces[t]) == ["ส", "วั", "ส", "ดี"]
    assert words("สวัสดี", lambda t: ["▁ส", "ว", "ัส", "ดี"]) == ["ส", "วัส", "ดี"]
    # pieces that do not spell the run (normalised text): the run stays one word
    assert words("สวัสดี", lambda t: ["▁x"]) == ["สวัสดี"]
    assert words("สวัสดี") == ["สวัสดี"]


def test_without_deletes_words_and_collapses_their_gap():
    text = "Where  is the\nstation?"
    w = segment(text)
    assert without(text, w, set()) == text
    assert without(text, w, {1}) == "Where  the\nstation?"
    assert without(text, w, {0}) == "is the\nstation?"
    assert without(text, w, {3}) == "Where  is the"
    assert without(text, w, {1, 2}) == "Where  station?"
    ja = "東京駅はどこ"
    assert without(ja, segment(ja), {1}) == "東駅はどこ"
    assert without(ja, segment(ja), {3}) == "東京駅"


class CountingEncoder:
    """The real encoder, counting encode calls."""

    def __init__(self, encoder):
        self.encoder, self.calls = encoder, 0

    def format(self, *a, **k):
        return self.encoder.format(*a, **k)

    def tokenize(self, text):
        return self.encoder.tokenize(text)

    def encode_inputs(self, inputs, **k):
        self.calls += 1
        return self.encoder.encode_inputs(inputs, **k)


def score(encoder, query: str, passage: str, rule: str = "retrieval") -> float:
    from e5desk.core.scoring import pair_score

    return pair_score(encoder, query, passage, rule)


def test_shares_are_the_score_drop_of_deleting_the_word_in_one_encode_call(real_encoder):
    counting = CountingEncoder(real_encoder)
    q, p = "How do I pay for the Tokyo subway?", "東京の地下鉄はSuicaカードで払えます。"
    e = explain_pair(counting, q, p)
    assert counting.calls == 1
    assert e.rule == "retrieval" and e.method == "occlusion"
    assert e.score == pytest.approx(score(real_encoder, q, p), abs=0.02)
    assert e.passage_words[:3] == ["東", "京", "の"] and len(e.query_words) == 8
    pw = segment(p)
    for i in (0, 7):  # 東, Suica
        dropped = score(real_encoder, q, without(p, pw, {i}))
        assert e.passage_shares[i] == pytest.approx(e.score - dropped, abs=0.02)
    qw = segment(q)
    dropped = score(real_encoder, without(q, qw, {6}), p)  # Tokyo
    assert e.query_shares[6] == pytest.approx(e.score - dropped, abs=0.02)
    assert e.query_shares[6] > 0.5  # "Tokyo" matters to this pair
    assert e.passage_baseline == pytest.approx(score(real_encoder, q, ""), abs=0.02)
    d = json.loads(json.dumps(e.to_dict(), ensure_ascii=False))
    assert d["passage_words"] == e.passage_words and len(d["passage_shares"]) == len(pw)


def test_normalised_shares_add_up_to_score_minus_baseline(real_encoder):
    e = explain_pair(real_encoder, "weather tomorrow", "Mañana lloverá en Madrid.",
                     rule="symmetric", normalise=True)
    assert e.method == "occlusion-normalised"
    for shares, base in ((e.query_shares, e.query_baseline),
                         (e.passage_shares, e.passage_baseline)):
        if sum(shares) * (e.score - base) > 0:
            assert sum(shares) == pytest.approx(e.score - base, abs=1e-3)


def test_bad_input_is_a_user_error(real_encoder):
    with pytest.raises(E5DeskError, match="query and a passage"):
        explain_pair(real_encoder, "  ", "text")
    with pytest.raises(E5DeskError, match="prefix rule"):
        explain_pair(real_encoder, "a", "b", rule="bogus")
    with pytest.raises(E5DeskError, match="at most"):
        explain_pair(real_encoder, "a", "word " * 400)


# A small fixed set: queries with the passage that answers them (from the bundled retrieval
# sample, cross-lingual and monolingual).
PAIRS = [
    ("How do I pay for the Tokyo subway?",
     "東京の地下鉄では、ICカードを改札にタッチするだけで運賃を支払えます。"),
    ("Was brauche ich, um mit dem Auto ins Ausland zu fahren?",
     "Wer mit dem Auto ins Ausland fährt, sollte Führerschein, Fahrzeugschein und einen "
     "Versicherungsnachweis dabeihaben."),
    ("Combien de temps dure le voyage en Transsibérien ?",
     "Поезд из Москвы во Владивосток идёт по Транссибирской магистрали около недели."),
    ("How do you make hummus?",
     "Para hacer hummus se trituran garbanzos cocidos con tahini, zumo de limón, ajo y un "
     "chorrito de aceite de oliva."),
    ("¿Con cuánta antelación hay que llegar al aeropuerto?",
     "Most airlines recommend arriving at the airport two hours before a domestic flight."),
]


def test_faithfulness_top2_words_lower_the_score_more_than_random_ones(real_encoder):
    rng = random.Random(0)
    top_drops, random_drops = [], []
    for q, p in PAIRS:
        e = explain_pair(real_encoder, q, p)
        w = segment(p)
        variants = [without(p, w, set(e.top("passage", 2)))]
        variants += [without(p, w, set(rng.sample(range(len(w)), 2))) for _ in range(4)]
        vq = real_encoder.encode([q], role="query")[0]
        vp = real_encoder.encode(variants, role="passage")
        drops = e.score - vp @ vq * 100
        top_drops.append(drops[0])
        random_drops.append(float(np.mean(drops[1:])))
    assert np.mean(top_drops) > 1.0
    assert np.mean(top_drops) > 3 * np.mean(random_drops)
    assert sum(t > r for t, r in zip(top_drops, random_drops, strict=True)) == len(PAIRS)


def test_cli_explain_json_and_text(capsys, embedded_folder):
    from e5desk.cli import main

    args = ["--precision", "exact", "--no-cache"]
    assert main(["explain", "Where is the station?", "Der Bahnhof ist dort.", "--rule",
                 "symmetric", "--json", *args]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["rule"] == "symmetric" and d["passage_words"] == ["Der", "Bahnhof", "ist", "dort."]
    assert len(d["query_shares"]) == 4 and 50 < d["score"] <= 100
    assert main(["explain", "Where is the station?", "駅はどこ", *args]) == 0
    out = capsys.readouterr().out
    assert out.startswith("score ") and "passage:" in out and "  駅" in out
    assert main(["explain", "", "x", *args]) == 2
    assert "error: explain needs a query and a passage" in capsys.readouterr().err


def test_python_api_and_service_explain(real_encoder):
    import e5desk
    from e5desk.api import Model

    model = Model(real_encoder)
    e = e5desk.explain(model, "weather tomorrow", "Mañana lloverá.", rule="symmetric")
    assert e.rule == "symmetric" and e.passage_words == ["Mañana", "lloverá."]
    from fastapi.testclient import TestClient

    from e5desk.server.app import create_app

    with TestClient(create_app(model=model)) as client:
        r = client.post("/v1/explain", json={"query": "weather tomorrow",
                                             "passage": "Mañana lloverá.", "rule": "symmetric"})
        assert r.status_code == 200, r.text
        d = r.json()
        assert d["passage_words"] == e.passage_words
        assert d["score"] == pytest.approx(e.score, abs=0.01)
        bad = client.post("/v1/explain", json={"query": " ", "passage": "x"})
        assert bad.status_code == 400 and "query is empty" in bad.text
        assert client.post("/v1/explain", json={"query": "a", "passage": "b",
                                                "rule": "bogus"}).status_code == 400
