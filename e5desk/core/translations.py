"""Translation workflows on a joined parallel set: which languages to compare, which
entries can be offered as translations, and the closest translation of a sentence with a
judgement of whether it is really there ("no close translation").

Every function takes plain columns (texts, langs, groups) and L2-normalised vectors, so the
CLI, the window and the Python API share them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from e5desk.core.data.sentence_set import lang_keys
from e5desk.core.errors import E5DeskError

# printf / python-format / brace placeholders and markup that carry no words of their own.
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]|\{[^{}]*\}|<[^<>]*>")


def is_translatable(text: str) -> bool:
    """Whether ``text`` has words of its own: entries made only of punctuation, numbers,
    symbols or placeholders ("…", ":", "%s", "{0}") are never offered as translations."""
    rest = _PLACEHOLDER.sub("", str(text))
    return any(unicodedata.category(ch).startswith("L") for ch in rest)


def language_counts(langs: Sequence) -> Counter:
    # Counted as they are (in C: 1M rows in ~0.05 s, not ~0.3 s through a generator),
    # then named; rows without a language are left out.
    out: Counter = Counter()
    for code, n in Counter(langs.tolist() if hasattr(langs, "tolist") else langs).items():
        if code:
            out[str(code)] += n
    return out


def mining_languages(src_langs: Sequence, tgt_langs: Sequence, src_lang: str | None = None,
                     tgt_lang: str | None = None) -> tuple[str | None, str | None]:
    """The languages to mine between two sets: given ones, else the ones that tell the sets
    apart (es.po [en, es] vs ja.po [en, ja] -> es, ja), else each set's most common
    language. Never the same language on both sides. (None, None): no languages known."""
    src, tgt = language_counts(src_langs), language_counts(tgt_langs)
    if not src and not tgt and not src_lang and not tgt_lang:
        return None, None

    def pick(own: Counter, other: Counter, given: str | None, avoid: str | None) -> str | None:
        if given:
            if own and given not in own:
                raise E5DeskError(f"no {given!r} sentences in that set (languages there: "
                                  f"{', '.join(sorted(own))})")
            return given
        only_here = [lang for lang, _ in own.most_common() if lang not in other]
        for lang in only_here + [lang for lang, _ in own.most_common()]:
            if lang != avoid:
                return lang
        return None

    a = pick(src, tgt, src_lang, tgt_lang)
    b = pick(tgt, src, tgt_lang, a)
    if a is None or b is None or a == b:
        raise E5DeskError(f"both sets are in {a or b}: mining pairs sentences of two "
                          "languages (give --src-lang and --tgt-lang)")
    return a, b


def group_languages(langs: Sequence, groups: Sequence) -> dict[str, int]:
    """How many groups each language has a sentence in."""
    seen: dict[str, set] = {}
    for lang, g in zip(langs, groups, strict=True):
        if lang and g is not None:
            seen.setdefault(str(lang), set()).add(g)
    return {lang: len(gs) for lang, gs in seen.items()}


def shared_groups(langs: Sequence, groups: Sequence, a: str, b: str) -> int:
    ga = {g for lang, g in zip(langs, groups, strict=True) if lang == a and g is not None}
    return sum(1 for g in {g for lang, g in zip(langs, groups, strict=True)
                           if lang == b and g is not None} if g in ga)


def language_pairs(langs: Sequence, groups: Sequence) -> list[tuple[str, str]]:
    """The pairs a translation check compares: source language -> every translation language
    when one language is in (nearly) every group, as in catalogues and memories; otherwise
    every pair of languages sharing groups. Most shared groups first."""
    per_lang = group_languages(langs, groups)
    n_groups = len({g for g in groups if g is not None})
    if not per_lang or n_groups == 0:
        return []
    source, count = max(per_lang.items(), key=lambda kv: kv[1])
    if count >= 0.9 * n_groups and len(per_lang) > 2:
        pairs = [(source, lang) for lang in per_lang if lang != source]
    else:
        names = sorted(per_lang)
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    scored = [(shared_groups(langs, groups, a, b), a, b) for a, b in pairs]
    return [(a, b) for n, a, b in sorted(scored, key=lambda x: (-x[0], x[1], x[2])) if n]


def default_pair(langs: Sequence, groups: Sequence) -> tuple[str, str] | None:
    """The language pair with most shared groups (None: no two languages share a group)."""
    pairs = language_pairs(langs, groups)
    return pairs[0] if pairs else None


# Calibrated with benchmarks/translation_found.py on the real-shaped catalogues in
# tests/data/real (multilingual-e5-small, query prefix on both sides; English msgids against
# each language, with the translation present, taken out, and off-domain queries from the
# TMX memory): the best candidate counts as found when it scores at least FOUND_FLOOR and
# beats the mean of the next four distinct texts by FOUND_MARGIN points. There: 89 % of
# "found" answers are right, 77 % of present translations are answered, and "no close
# translation" is said for 66 % of in-domain and 95 % of off-domain absent sentences.
FOUND_MARGIN = 2.0
FOUND_FLOOR = 88.0
FOUND_NEIGHBOURS = 4


@dataclass
class Candidate:
    row: int  # row in the set
    lang: str
    rank: int  # 1 = best in its language
    score: float  # cosine x 100
    found: bool  # rank 1 only: clearly better than the other candidates


def closest_translations(query: np.ndarray, vectors: np.ndarray, texts: Sequence[str],
                         langs: Sequence, targets: Sequence[str], top: int = 3,
                         margin: float = FOUND_MARGIN,
                         floor: float = FOUND_FLOOR) -> list[Candidate]:
    """The ``top`` closest distinct sentences per target language for one query vector,
    leaving out entries without words. The best is ``found`` when it scores at least
    ``floor`` and beats the mean of the next ``FOUND_NEIGHBOURS`` by ``margin`` points: E5
    scores sit in a narrow band, so an unrelated sentence can still score 85; what tells a
    translation is a high score with a lead."""
    scores = vectors @ query * 100
    langs = lang_keys(langs)
    usable = np.array([is_translatable(t) for t in texts], dtype=bool)
    out: list[Candidate] = []
    for lang in targets:
        idx = np.flatnonzero((langs == lang) & usable)
        if not len(idx):
            continue
        order = distinct(idx[np.argsort(-scores[idx], kind="stable")], texts,
                         max(top, FOUND_NEIGHBOURS + 1))
        found = is_found(scores[order], margin, floor)
        for rank, i in enumerate(order[:top], 1):
            out.append(Candidate(int(i), lang, rank, float(scores[i]), found and rank == 1))
    return out


def distinct(rows: np.ndarray, texts: Sequence[str], n: int | None = None) -> np.ndarray:
    """The first ``n`` of ``rows`` (best first) with a text not seen before: the same
    string under two contexts is one candidate, not a rival."""
    return np.asarray(rows, dtype=np.int64)[distinct_positions(rows, texts, n)]


def distinct_positions(rows: Sequence[int], texts: Sequence[str],
                       n: int | None = None) -> list[int]:
    """Positions in ``rows`` (best first) of the first row for each distinct text, at most
    ``n`` of them."""
    seen: set = set()
    out: list[int] = []
    for pos, r in enumerate(rows):
        if texts[r] not in seen:
            seen.add(texts[r])
            out.append(pos)
            if len(out) == n:
                break
    return out


def is_found(best_first: np.ndarray, margin: float = FOUND_MARGIN,
             floor: float = FOUND_FLOOR) -> bool:
    """``best_first``: the best scores (cos x 100) of distinct candidates, highest first."""
    if len(best_first) == 0 or float(best_first[0]) < floor:
        return False
    if len(best_first) == 1:
        return True
    rest = np.asarray(best_first[1: FOUND_NEIGHBOURS + 1], dtype=float)
    return float(best_first[0] - rest.mean()) >= margin
