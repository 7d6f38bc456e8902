"""Calibrate the suspect-translation rule on real-shaped catalogues with injected errors.

The five Pyrame catalogues in tests/data/real/catalogues (161 entries each: validation
messages, weekdays and months with their abbreviations, language names, single words,
identical loanwords, placeholders) are joined, embedded once with the embedded
multilingual-e5-small (query prefix on both sides), and for each language and seed 20
translations are rotated among themselves (each one moved to another entry, as a
misaligned import does). Reported per gap setting: how many of the 20 broken pairs rank in
the top 20, how many pairs are flagged in all, how many of the flagged are broken
(precision), and how many pairs a clean catalogue flags (false alarms).

    .venv/bin/python benchmarks/suspects_calibration.py
"""

from __future__ import annotations

import numpy as np

import e5desk.core.evaluate as ev
from e5desk.core.data import concat_sets, load_sentence_set
from e5desk.core.encoder import Encoder

LANGS = ["es", "ja", "ar", "ru", "de"]
SETTINGS = [(1.0, 1.0), (2.0, 2.0), (2.0, 4.0), (2.0, 6.0), (2.5, 6.0), (2.0, 8.0)]


def main() -> None:
    c = concat_sets([load_sentence_set(f"tests/data/real/catalogues/{lang}.po").sentence_set
                     for lang in LANGS])
    texts, langs, groups = list(c.text), list(c.lang), np.array(list(c.group), dtype=object)
    vectors = Encoder.load(None).encode(texts, role="query")
    print(f"{len(c)} sentences, {len(set(groups))} groups; 20 rotated per language, 5 seeds")
    for gap, gap_short in SETTINGS:
        ev.SUSPECT_GAP, ev.SUSPECT_GAP_SHORT = gap, gap_short
        top, flagged, hits, clean = [], [], [], []
        for seed in range(5):
            rng = np.random.default_rng(seed)
            for lang in LANGS:
                rows = np.flatnonzero(np.array(langs) == lang)
                broken = rng.choice(rows, 20, replace=False)
                g = groups.copy()
                g[broken] = np.roll(groups[broken], 1)
                found = ev.suspect_translations(vectors, texts, langs, list(g), "en", lang)
                bad = set(broken.tolist())
                top.append(sum(x.tgt in bad for x in found[:20]))
                flagged.append(sum(x.flagged for x in found))
                hits.append(sum(x.flagged and x.tgt in bad for x in found))
                if seed == 0:
                    ok = ev.suspect_translations(vectors, texts, langs, list(groups), "en", lang)
                    clean.append(sum(x.flagged for x in ok))
        precision = sum(hits) / max(1, sum(flagged))
        print(f"gap {gap:>4} short {gap_short:>4}: broken in top 20 min {min(top)} mean "
              f"{np.mean(top):.1f}; flagged max {max(flagged)} mean {np.mean(flagged):.1f}; "
              f"precision {precision:.3f}; recall {np.mean(hits) / 20:.3f}; clean catalogue "
              f"flags mean {np.mean(clean):.1f} max {max(clean)}")


if __name__ == "__main__":
    main()
