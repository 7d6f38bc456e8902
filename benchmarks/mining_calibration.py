"""Calibrate the bitext-mining margin threshold on real parallel text with E5.

For every ordered pair of languages in the bundled parallel sample (64 meanings x 9
languages), mine all 64 SRC sentences against a shuffled TGT side that holds the
translations of only half of them (so half of the sources have no right answer, as in real
mining), and measure precision / recall against the known translations at a range of
margin thresholds, for each mining mode (intersect, forward, backward; backward mines each
TGT sentence's best SRC, so it never sees the unmatched half). E5 cosines sit in a narrow high
band, so LASER's published thresholds do not transfer; the ratio margin does.

    .venv/bin/python benchmarks/mining_calibration.py
"""

from __future__ import annotations

import itertools

import numpy as np

from e5desk.core.data import load_sentence_set
from e5desk.core.encoder import Encoder
from e5desk.core.resources import resource_path
from e5desk.core.similarity import MODES, mine


def main() -> None:
    s = load_sentence_set(resource_path("samples", "phrases.csv")).sentence_set
    vectors = Encoder.load(None).encode(list(s.text), role="query")  # symmetric task
    langs = sorted(set(s.lang))
    rng = np.random.default_rng(0)
    thresholds = [None, 0.98, 1.0, 1.01, 1.02, 1.03, 1.04, 1.06]
    for mode in MODES:
        stats = {t: [0, 0, 0] for t in thresholds}  # correct, mined, true pairs
        for a, b in itertools.permutations(langs, 2):
            ra = np.flatnonzero(s.lang == a)
            rb = np.flatnonzero(s.lang == b)
            rb = rng.permutation(rng.choice(rb, size=len(rb) // 2, replace=False))
            truth = {(i, j) for i in range(len(ra)) for j in range(len(rb))
                     if s.group[ra[i]] == s.group[rb[j]]}
            pairs = mine(vectors[ra], vectors[rb], mode=mode, threshold=None)
            for t in thresholds:  # a threshold keeps the pairs at or above it
                got = {(p.src, p.tgt) for p in pairs if t is None or p.margin >= t}
                stats[t][0] += len(got & truth)
                stats[t][1] += len(got)
                stats[t][2] += len(truth)
        print(f"mode {mode}: {len(langs) * (len(langs) - 1)} language pairs")
        for t, (ok, n, true) in stats.items():
            p, r = ok / max(n, 1), ok / true
            f1 = 2 * p * r / (p + r) if p + r else 0
            print(f"  threshold {t!s:>5}: precision {p:.3f} recall {r:.3f} F1 {f1:.3f}")


if __name__ == "__main__":
    main()
