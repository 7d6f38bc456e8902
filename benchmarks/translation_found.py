"""Calibrate "no close translation" for the learner view and `score --lang`.

Queries are the English msgids of the real-shaped Pyrame catalogues (tests/data/real); the
candidates are one language's translations (distinct texts, entries with words only).
present: the query's translation is among the candidates; absent: it was taken out (the
sentence is not in the catalogue); off-domain: English sentences of the TMX memory that are
not msgids. For each (margin, floor) rule -- found when the best scores at least `floor`
and beats the mean of the next four by `margin` points -- reported: precision of "found"
answers, share of present queries answered, share of absent and off-domain queries answered
"no close translation".

    .venv/bin/python benchmarks/translation_found.py
"""

from __future__ import annotations

import numpy as np

from e5desk.core.data import concat_sets, load_sentence_set
from e5desk.core.encoder import Encoder
from e5desk.core.translations import (
    FOUND_NEIGHBOURS,
    distinct_positions,
    is_found,
    is_translatable,
)

LANGS = ["es", "ja", "ar", "ru", "de"]
RULES = [(m, f) for m in (1.0, 1.5, 2.0, 3.0) for f in (0.0, 86.0, 88.0)]


def main() -> None:
    c = concat_sets([load_sentence_set(f"tests/data/real/catalogues/{lang}.po").sentence_set
                     for lang in LANGS])
    tmx = load_sentence_set("tests/data/real/memory.tmx").sentence_set
    texts = list(c.text)
    langs, groups = np.array([str(x) for x in c.lang]), np.array(list(c.group), dtype=object)
    encoder = Encoder.load(None)
    vectors = encoder.encode(texts, role="query")
    msgids = {t for t, x in zip(texts, langs, strict=True) if x == "en"}
    other = [t for t, x in zip(tmx.text, tmx.lang, strict=True) if x == "en" and t not in msgids]
    other_vectors = encoder.encode(other, role="query")
    usable = np.array([is_translatable(t) for t in texts])
    # Right = the candidate's group has the query's English text (the same msgid under
    # another context, "May" the month or abbreviated, counts).
    english = {groups[i]: texts[i] for i in np.flatnonzero(langs == "en")}

    def best_distinct(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
        order = np.argsort(-scores, kind="stable")
        return scores[order][distinct_positions(rows[order], texts, FOUND_NEIGHBOURS + 1)]

    present, absent, off = [], [], []
    for lang in LANGS:
        rows = np.flatnonzero((langs == lang) & usable)
        for q in np.flatnonzero((langs == "en") & usable):
            s = vectors[rows] @ vectors[q] * 100
            truth = np.array([english.get(g) == texts[q] for g in groups[rows]])
            if truth.any():
                present.append((best_distinct(s, rows), bool(truth[int(np.argmax(s))])))
                absent.append(best_distinct(np.where(truth, -np.inf, s), rows))
        off += [best_distinct(vectors[rows] @ v * 100, rows) for v in other_vectors]
    print(f"{len(present)} present, {len(absent)} absent, {len(off)} off-domain queries")
    for margin, floor in RULES:
        said = [is_found(t, margin, floor) for t, _ in present]
        right = sum(f and ok for f, (_, ok) in zip(said, present, strict=True))
        no_absent = 1 - np.mean([is_found(t, margin, floor) for t in absent])
        no_off = 1 - np.mean([is_found(t, margin, floor) for t in off])
        precision = right / max(1, sum(said))
        print(f"margin {margin:>3} floor {floor:>4}: found precision {precision:.3f}"
              f", present answered {np.mean(said):.3f}, absent -> no {no_absent:.3f}, "
              f"off-domain -> no {no_off:.3f}")


if __name__ == "__main__":
    main()
