"""The Scores tab without Qt (gui/scores_state.py) and the one scoring pipeline behind it,
`e5desk score` and `e5desk.rank` (workflows/score.py), on a word-count encoder: a query
shares words with the passages it should find."""

import math
import zlib

import numpy as np

from e5desk.core.data.sentence_set import SentenceSet
from e5desk.gui import scores_state as state
from e5desk.workflows.score import Reference, ScoreSettings, score_passages


class WordEncoder:
    """Bag of words hashed into 1024 dimensions, L2-normalised; records the roles asked."""

    model_id = "words-1024"

    def __init__(self):
        self.roles = []

    def encode(self, texts, role="query", task=None, progress=None, cancelled=None):
        self.roles.append(role)
        out = np.zeros((len(texts), 1024), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, zlib.crc32(w.encode()) % 1023] += 1
            out[i, 1023] += 0.5  # no zero rows
        if progress:
            progress(len(texts), len(texts))
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def format(self, texts, role, task=None):
        return [f"{role}: {t}" for t in texts]


PASSAGES = ["the train station is north", "a red apple on the table", "trains leave at noon",
            "the hotel has a pool", "apple pie recipe", "where to buy train tickets"]


def test_ranks_each_query_with_passage_role_and_reference_percentiles():
    enc = WordEncoder()
    ref = SentenceSet.build(PASSAGES, lang=["en"] * 6)
    vectors = enc.encode(PASSAGES, role="passage")
    result = score_passages(enc, ScoreSettings(["train station", "apple"], "retrieval", None, 2),
                            PASSAGES, reference=Reference(ref, vectors))
    assert enc.roles[:3] == ["passage", "passage", "query"]  # then the calibration's queries
    rows = result.rows()
    assert [(r.query, r.rank) for r in rows] == [("train station", 1), ("train station", 2),
                                                 ("apple", 1), ("apple", 2)]
    assert PASSAGES[rows[0].passage] == "the train station is north"
    assert {PASSAGES[r.passage] for r in rows[2:]} == {"a red apple on the table",
                                                       "apple pie recipe"}
    assert rows[0].score > rows[1].score
    assert all(0 <= r.vs_unrelated <= 100 for r in rows)  # the reference's unrelated pairs


def test_given_vectors_are_not_embedded_again_and_no_reference_no_percentile():
    enc = WordEncoder()
    vectors = enc.encode(PASSAGES, role="passage")
    enc.roles.clear()
    result = score_passages(enc, ScoreSettings(["hotel pool"], "symmetric", top=3),
                            vectors=vectors)
    assert enc.roles == ["query"]  # the symmetric rule's query role, queries only
    assert math.isnan(result.rows()[0].vs_unrelated)
    scores, queries, texts = result.heatmap(PASSAGES)
    assert scores.shape == (1, 3) and queries == ["hotel pool"]
    assert texts[0] == "the hotel has a pool"
    assert list(scores[0]) == sorted(scores[0], reverse=True)  # best passage first


def test_table_columns_and_messages():
    enc = WordEncoder()
    result = score_passages(enc, ScoreSettings(["apple"], top=2), PASSAGES)
    meta = [("en", "fruit")] * 6
    names, values, formats = state.ranked_table(result, PASSAGES, meta)
    assert names[-1] == state.VS_UNRELATED and len(values) == len(formats) == len(names)
    assert list(values[1]) == [1, 2] and values[5] == ["fruit", "fruit"]
    assert state.best_match(result, PASSAGES).startswith("Best match for “apple”: ")
    assert state.pair_text(87.5, None, "retrieval") == \
        "Relevancy score: 87.50  (cosine 0.8750)"


def test_saved_view_round_trip_and_bad_values_keep_the_current_choice():
    view = state.ScoresState("q1\n\n q2 ", "symmetric", "web_search: x", "typed", 5,
                             "a\nb\n", ("q", "p"))
    again = state.ScoresState().updated(view.to_dict())
    assert again == view
    assert again.query_list() == ["q1", " q2 "] and again.typed_passages() == ["a", "b"]
    damaged = view.updated({"rule": "nonsense", "source": 3, "k": 5000, "task": ""})
    assert (damaged.rule, damaged.source, damaged.k, damaged.task) == \
        ("symmetric", "typed", 1000, "web_search: x")
    assert damaged.queries == "" and damaged.pair == ("", "")
    assert view.settings("x").passage_role == "query"  # symmetric: query form both sides


def test_task_text_and_prefix_hint():
    assert state.task_text("anything", "Given a query", instruct=False) is None
    assert state.task_text("web_search: Given a query", "Given a query", True) == \
        "Given a query"
    assert state.task_text("my own task", "Given a query", True) == "my own task"
    hint = state.prefix_hint(WordEncoder().format, "retrieval", None)
    assert hint == "Model input: queries “query: …”, passages “passage: …”"
    assert [t for _, t in state.query_ticks([f"query {i}" for i in range(90)], most=30)][:2] \
        == ["query 0", "query 3"]
