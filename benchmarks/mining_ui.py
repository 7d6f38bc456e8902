"""Bitext mining on short UI strings (issue 26, item 5): precision and recall of `mine`
between two catalogues of one project, before and after the extra evidence.

The data: the five hand-written catalogues of tests/data/real (es, ja, ar, ru, de: form
messages with python-format placeholders, weekdays and months with their abbreviations,
language names, admin UI) plus 48 short UI strings written for this in es, ja, ru and de
(tests/data/real/ui_strings.tsv: menu items, buttons, dates and counts with placeholders
and numbers). Each language's
translated texts (deduplicated, placeholders-only entries left out as `mine` does) are
mined against another's; a pair is right when the two texts translate one message
(msgctxt + msgid). Every ordered pair of languages is mined; the figures are summed.

Variants: the default before this work (mutual best, margin >= 1.02), placeholders and
numbers as evidence (`texts=`), a second and third round among the sentences still
unpaired (`rounds=`), and both (what `e5desk mine` does now).

    .venv/bin/python benchmarks/mining_ui.py
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np

from e5desk.core.data import load_sentence_set
from e5desk.core.encoder import Encoder
from e5desk.core.similarity import DEFAULT_MARGIN_THRESHOLD, mine
from e5desk.core.translations import is_translatable

REAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "real" / "catalogues"
LANGS = ("es", "ja", "ru", "de", "ar")
UI_STRINGS = REAL.parent / "ui_strings.tsv"  # en, es, ja, ru, de: menus, buttons, dates


def extra_strings() -> dict[str, dict[str, str]]:
    """{English: {lang: translation}} of the short UI strings."""
    with UI_STRINGS.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return {r["en"]: {k: v for k, v in r.items() if k != "en"} for r in rows}


def language_texts(lang: str) -> tuple[list[str], dict[str, set[str]]]:
    """The texts of ``lang`` to mine and {message key: its texts}."""
    s = load_sentence_set(REAL / f"{lang}.po").sentence_set
    keys: dict[str, set[str]] = {}
    for text, group, x in zip(s.text, s.group, s.lang, strict=True):
        if x == lang and is_translatable(text):
            keys.setdefault(str(group), set()).add(str(text))
    for en, row in extra_strings().items():
        if lang in row:
            keys.setdefault(f"extra:{en}", set()).add(row[lang])
    return sorted(set().union(*keys.values())), keys


VARIANTS = {  # name: mine() keywords beyond the vectors
    "before: mutual best, margin >= 1.02": {},
    "+ placeholders/numbers evidence": {"texts": True},
    "+ second round": {"rounds": 2},
    "+ evidence + second round (default now)": {"texts": True, "rounds": 2},
    "+ evidence + three rounds": {"texts": True, "rounds": 3},
}


def main() -> None:
    encoder = Encoder.load(None)
    data = {}
    for lang in LANGS:
        texts, keys = language_texts(lang)
        data[lang] = (texts, keys, encoder.encode(texts, role="query"))
    totals = {v: np.zeros(3, dtype=int) for v in VARIANTS}  # right, mined, true pairs
    es_ja = {v: np.zeros(3, dtype=int) for v in VARIANTS}
    for a, b in itertools.permutations(LANGS, 2):
        ta, ka, va = data[a]
        tb, kb, vb = data[b]
        truth = {(x, y) for key in ka.keys() & kb.keys() for x in ka[key] for y in kb[key]}
        true_pairs = len({x for x, _ in truth})  # each source text has one pair to find
        for name, kw in VARIANTS.items():
            args = dict(kw)
            if args.pop("texts", False):
                args["texts"] = (ta, tb)
            pairs = mine(va, vb, threshold=DEFAULT_MARGIN_THRESHOLD, **args)
            right = sum((ta[p.src], tb[p.tgt]) in truth for p in pairs)
            figures = np.array([right, len(pairs), true_pairs])
            totals[name] += figures
            if {a, b} == {"es", "ja"}:
                es_ja[name] += figures
    for title, table in (("es <-> ja (both directions)", es_ja),
                         (f"all {len(LANGS) * (len(LANGS) - 1)} ordered pairs of "
                          f"{', '.join(LANGS)}", totals)):
        print(title)
        for name, (right, mined, true) in table.items():
            print(f"  {name:42s} precision {right / max(mined, 1):.3f}  recall "
                  f"{right / true:.3f}  ({right} right of {mined} mined, {true} to find)")


if __name__ == "__main__":
    main()
