"""Clusters on the map (or the embeddings): HDBSCAN, keyword labels that work for every
script, and each cluster's language mix — one meaning in many languages is the find."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from e5desk.core.data.sentence_set import lang_key

WORD = re.compile(r"\w+", re.UNICODE)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
KANA_ONLY = re.compile(r"^[\u3040-\u309f]+$")  # hiragana pairs are mostly grammar
# Japanese/Chinese runs by script: katakana words, kanji runs (hiragana is grammar).
KATAKANA_RUN = re.compile(r"[\u30a0-\u30ffー]{2,}")
KANJI_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
# Not words a person reads: format placeholders (%(name)s, %s, %1$s, {0}, {min}, ${x}),
# markup, entities, URLs and e-mail addresses — removed before splitting into words.
NOT_TEXT = re.compile(
    r"%\(\w+\)[-+ #0-9.]*[a-zA-Z]|%\d+\$[-+ #0-9.]*[a-zA-Z]|%[-+ #0-9.]*[sdifgeExXcrbuo%]"
    r"|\$?\{[^{}]*\}|<[^<>]+>|&#?\w+;|\b(?:https?|ftp)://\S+|\bwww\.\S+|\S+@\S+\.\w+")
IDENTIFIER = re.compile(r"_|\d|[a-z][A-Z]")  # limit_value, model2, camelCase
RUN = re.compile(r"(.)\1\1")  # uuuuuu, xxx
STOP = set(
    "the a an is are to of in on at for and or it this that you we my your be was will with "
    "can have has our their there what how where please not but from by as if its all any "
    "been into more must than then these they those which who why would should could may "
    "del las los por para con una que est pas des les une dans pour avec vous nous "
    "el la en es un lo se su al como más este esta sea son "
    "le de du et est il elle sur au aux ce cette qui sont "
    "der die das und ist zu ein eine ich mit den dem nicht sie wir des sind oder für von "
    "auf bitte einen einer diese dieser "
    "il di che non per una sono della "
    "это что как для меня мне есть не на по из или от этот это быть "
    "في من على أن هذا إلى عن أو ما هذه التي الذي إذا هل".split())


def default_tokens(text: str) -> list[str]:
    """Words a person reads: spaced scripts split into words (no placeholders, markup,
    identifiers, letter runs, digits or stop words); CJK as katakana words and kanji
    pairs (no spaces there)."""
    out = []
    text = NOT_TEXT.sub(" ", text)
    for raw in WORD.findall(text):
        if IDENTIFIER.search(raw):
            continue
        word = raw.lower()
        if CJK.search(word):
            out += KATAKANA_RUN.findall(word)
            for run in KANJI_RUN.findall(word):
                if len(run) == 2:
                    out.append(run)
                elif len(run) > 2:
                    out += [run[k:k + 2] for k in range(len(run) - 1)]
        elif len(word) > 2 and word not in STOP and not RUN.search(word):
            out.append(word)
    return out


COMMON_SHARE = 0.12  # a word in more than this share of its language's sentences: stop word


@dataclass
class Cluster:
    id: int
    size: int
    label: str
    keywords: list[str]
    languages: dict[str, float]  # language -> share of the cluster
    entropy: float  # bits; high = many languages mixed


MIN_SAMPLES = 10  # HDBSCAN's density neighbourhood, whatever the smallest cluster


def hdbscan_labels(points: np.ndarray, min_cluster_size: int = 5) -> np.ndarray:
    """Cluster id per row, -1 for noise (scikit-learn's HDBSCAN). ``min_samples`` stays at
    ``MIN_SAMPLES``: left to default to ``min_cluster_size`` (500 on a 20k-row sample of a
    big map) the density neighbourhood reaches across the gaps between islands, and a 1M map
    of 40 topics came out as 2 clusters and 75 % noise (adjusted Rand 0.05; with 10: 31
    clusters, 4 % noise, 0.80; benchmarks/big_screenshot.py data --shape topics)."""
    from sklearn.cluster import HDBSCAN

    if len(points) < max(3, min_cluster_size):
        return np.full(len(points), -1)
    return HDBSCAN(min_cluster_size=min_cluster_size,
                   min_samples=min(MIN_SAMPLES, min_cluster_size), copy=True).fit_predict(points)


def describe_clusters(labels: np.ndarray, texts: Sequence[str], langs: Sequence,
                      tokenize: Callable[[str], list[str]] = default_tokens,
                      n_keywords: int = 3) -> list[Cluster]:
    """Labels by class-based TF-IDF (BERTopic's c-TF-IDF: a word's frequency in the
    cluster times log(1 + average words per class / the word's frequency in all clusters,
    noise included)) over words a person reads. Words used by many sentences of their own
    language (over ``COMMON_SHARE``) count as stop words of that language. The label takes
    the best word, then prefers words of languages not yet in it, so a cluster of
    translations reads across its languages. Also each cluster's language shares and
    entropy."""
    labels = np.asarray(labels)
    ids = [int(c) for c in np.unique(labels) if c >= 0]
    names = [lang_key(x) for x in langs]
    tokens = [set(tokenize(t)) for t in texts]  # each word once per sentence
    # Words of each language that too many of its sentences use: stop words found in data.
    by_lang: dict[str, Counter] = {}
    lang_rows = Counter(names)
    for words, lang in zip(tokens, names, strict=True):
        by_lang.setdefault(lang, Counter()).update(words)
    common = {(lang, w) for lang, counts in by_lang.items() if lang_rows[lang] >= 40
              for w, n in counts.items() if n / lang_rows[lang] > COMMON_SHARE}
    word_lang: dict[str, Counter] = {}
    counts = {c: Counter() for c in [*ids, -1]}
    for words, lang, c in zip(tokens, names, labels, strict=True):
        kept = [w for w in words if (lang, w) not in common]
        counts[int(c) if c >= 0 else -1].update(kept)
        for w in kept:
            word_lang.setdefault(w, Counter())[lang] += 1
    freq = Counter()
    for c in counts.values():
        freq.update(c)
    avg = (sum(freq.values()) / max(len(counts), 1)) or 1.0
    out = []
    for c in ids:
        rows = np.flatnonzero(labels == c)
        total = sum(counts[c].values()) or 1
        scored = sorted(counts[c].items(), key=lambda kv: (
            -(kv[1] / total) * math.log(1 + avg / freq[kv[0]]), kv[0]))
        keywords: list[str] = []
        used_langs: set[str] = set()
        # Words several sentences share first; single uses only fill a short label.
        pool = [w for w, n in scored[:60] if n >= 2] + [w for w, n in scored[:60] if n < 2]
        while pool and len(keywords) < n_keywords:
            pick = next((w for w in pool if word_lang[w].most_common(1)[0][0]
                         not in used_langs), pool[0])
            pool.remove(pick)
            if any(pick in k or k in pick for k in keywords):
                continue
            keywords.append(pick)
            used_langs.add(word_lang[pick].most_common(1)[0][0])
        lang_counts = Counter(names[i] for i in rows)
        shares = {k: v / len(rows) for k, v in lang_counts.most_common()}
        entropy = -sum(p * math.log2(p) for p in shares.values())
        out.append(Cluster(int(c), len(rows), " · ".join(keywords) or f"cluster {c}",
                           keywords, shares, entropy))
    return out
