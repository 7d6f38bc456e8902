"""Calibrated scores (issue 25, part 4): percentiles among unrelated pairs and known
translations of the loaded set, cached per set, model and rule."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from e5desk.core.calibration import (
    Calibration,
    CalibrationCache,
    build_calibration,
    calibrate,
    set_digest,
)
from e5desk.core.errors import E5DeskError


def real_shaped(groups=60, langs=("en", "de", "ja"), dim=64, seed=1):
    """Unit vectors in E5's narrow band: a shared direction (so unrelated rows score ~75),
    one meaning direction per group (translations score ~90), a little noise per row."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=dim)
    meanings = rng.normal(size=(groups, dim))
    rows, group_ids, lang_ids = [], [], []
    for g in range(groups):
        for x in langs:
            v = 3.2 * common / np.linalg.norm(common) + meanings[g] / np.sqrt(dim) * 2.2 \
                + rng.normal(size=dim) / np.sqrt(dim) * 0.6
            rows.append(v / np.linalg.norm(v))
            group_ids.append(f"g{g}")
            lang_ids.append(x)
    return np.array(rows, dtype=np.float32), lang_ids, group_ids


def test_percentiles_place_translations_high_and_unrelated_pairs_in_the_middle():
    v, langs, groups = real_shaped()
    n = len(v)
    cal = build_calibration(v, np.arange(n), v, "symmetric", groups, langs, pairs=5000)
    assert len(cal.unrelated) == 5000 and np.all(np.diff(cal.unrelated) >= 0)
    assert len(cal.translations) == 60 * 3 * 2  # every ordered pair in a group, other lang
    # no pair of a row with itself or its own group among the unrelated
    assert cal.unrelated.max() < np.sort(v @ v.T * 100, axis=None)[-n - 1]
    translation = float(v[0] @ v[1] * 100)  # en and de of group 0
    unrelated = float(v[0] @ v[3 * 7 + 1] * 100)
    pu, pt = cal.percentile(translation)
    assert pu > 95 and pt is not None and pt > 5
    assert "higher than" in cal.phrase(translation) and "translation" in cal.phrase(translation)
    pu2, pt2 = cal.percentile(unrelated)
    assert pu2 < pu and pt2 < 5
    assert cal.percentile(0.0) == (0.0, 0.0)
    assert cal.percentile(100.0) == (100.0, 100.0)
    assert cal.phrase(100.0).startswith("higher than all 5,000 sampled unrelated pairs")
    assert "lower than almost every known translation" in cal.phrase(0.0)
    many, _ = cal.percentiles([0, 70, 80, 90, 100])
    assert np.all(np.diff(many) >= 0)  # monotone in the score
    assert set(cal.by_pair) == {("de", "en"), ("en", "ja"), ("de", "ja")}
    assert cal.percentile(translation, ("de", "en")) != cal.percentile(translation, ("xx", "en"))\
        or len(cal.by_pair[("de", "en")]) == len(cal.translations)
    assert "unrelated pairs" in cal.tooltip() and "rule symmetric" in cal.summary()


def test_same_seed_same_reference_and_no_groups_no_translations():
    v, langs, groups = real_shaped(groups=20)
    a = build_calibration(v, np.arange(len(v)), v, "symmetric", groups, langs, pairs=500)
    b = build_calibration(v, np.arange(len(v)), v, "symmetric", groups, langs, pairs=500)
    assert np.array_equal(a.unrelated, b.unrelated)
    plain = build_calibration(v, np.arange(len(v)), v, "retrieval", None, None, pairs=500)
    assert plain.translations is None and plain.percentile(80)[1] is None
    assert "translation" not in plain.phrase(80) and plain.rule == "retrieval"
    # identical texts are never "unrelated"
    texts = ["same"] * len(v)
    with_text = build_calibration(v, np.arange(len(v)), v, "symmetric", None, None, texts,
                                  pairs=500)
    assert len(with_text.unrelated) == 0
    assert "no unrelated pairs" in with_text.phrase(90)
    with pytest.raises(E5DeskError):
        build_calibration(v[:1], [0], v[:1], "symmetric")


class FakeEncoder:
    """Vectors looked up by text; counts encode calls per role."""

    model_id = "fake:float32"

    def __init__(self, texts, vectors):
        self.table = dict(zip(texts, vectors, strict=True))
        self.calls: list[tuple[str, int]] = []

    def encode(self, texts, role="query", task=None, **kwargs):
        self.calls.append((role, len(texts)))
        return np.array([self.table[t] for t in texts], dtype=np.float32)


def test_calibrate_builds_once_per_set_and_rule_and_embeds_only_a_query_sample():
    v, langs, groups = real_shaped(groups=100)  # 300 rows
    texts = [f"sentence {i}" for i in range(len(v))]
    enc, cache = FakeEncoder(texts, v), CalibrationCache()
    a = calibrate(enc, texts, "retrieval", langs, groups, passage_vectors=v, cache=cache)
    assert enc.calls == [("query", 128)]  # only the sampled query side is embedded again
    b = calibrate(enc, texts, "retrieval", langs, groups, passage_vectors=v, cache=cache)
    assert b is a and cache.builds == 1 and len(enc.calls) == 1
    calibrate(enc, texts, "symmetric", langs, groups, passage_vectors=v, cache=cache)
    assert len(enc.calls) == 1 and cache.builds == 2  # symmetric reuses the set's vectors
    calibrate(enc, texts[:-1], "symmetric", langs[:-1], groups[:-1],
              passage_vectors=v[:-1], cache=cache)
    assert cache.builds == 3  # another set, another calibration
    assert set_digest(texts, langs, groups) != set_digest(texts, langs, None)
    # Two threads asking at once build it once.
    cache2, out = CalibrationCache(), []
    threads = [threading.Thread(target=lambda: out.append(calibrate(
        enc, texts, "symmetric", langs, groups, passage_vectors=v, cache=cache2)))
        for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache2.builds == 1 and all(c is out[0] for c in out)


def test_calibration_on_real_vectors_knows_a_translation_from_an_unrelated_pair(real_encoder):
    import csv

    with open("resources/samples/phrases.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[::6]  # 11 meanings over every topic
    texts, langs, groups = [], [], []
    for r in rows:
        for x in ("en", "es", "de", "ja"):
            texts.append(r[x])
            langs.append(x)
            groups.append(r["group"])
    cal = calibrate(real_encoder, texts, "symmetric", langs, groups, cache=None)
    assert isinstance(cal, Calibration) and len(cal.translations) == 11 * 4 * 3
    assert np.median(cal.translations) > np.median(cal.unrelated) + 5
    q = real_encoder.encode(["Where is the train station?", "Ich esse gern Äpfel."],
                            role="query")
    unrelated = float(q[0] @ q[1] * 100)
    assert cal.percentile(unrelated)[0] < 80 and cal.percentile(unrelated)[1] < 5
    # en-ja translations score lower than en-es/en-de ones: a typical en-ja translation is
    # typical against its own language pair, low against all translations pooled
    en_ja = cal.by_pair[("en", "ja")]
    assert len(en_ja) == 22 and np.median(en_ja) < np.median(cal.by_pair[("en", "es")])
    typical = float(np.median(en_ja))
    assert cal.percentile(typical)[0] > 90
    assert "typical of a translation" in cal.phrase(typical, ("ja", "en"))
    assert cal.percentile(typical, ("ja", "en"))[1] > cal.percentile(typical)[1]
