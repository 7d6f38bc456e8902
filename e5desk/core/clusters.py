"""Clusters on the map (or the embeddings): HDBSCAN, keyword labels that work for every
script, and each cluster's language mix — one meaning in many languages is the find."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

WORD = re.compile(r"\w+", re.UNICODE)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
KANA_ONLY = re.compile(r"^[\u3040-\u309f]+$")  # hiragana pairs are mostly grammar
STOP = set(
    "the a an is are to of in on at for and or it this that you we my your be was will with "
    "can have has our their there what how where please "
    "del las los por para con una que est pas des les une dans pour avec vous nous "
    "der die das und ist zu ein eine ich mit den dem nicht sie wir "
    "это что как для меня мне есть "
    "في من على أن هذا إلى".split())


def default_tokens(text: str) -> list[str]:
    """Words for spaced scripts, character bigrams for CJK runs (no spaces there)."""
    out = []
    for word in WORD.findall(text.lower()):
        if CJK.search(word):
            chars = [c for c in word if CJK.match(c)]
            pairs = ["".join(p) for p in zip(chars, chars[1:], strict=False)] or chars
            out += [p for p in pairs if not KANA_ONLY.match(p)]
        elif len(word) > 2 and word not in STOP and not word.isdigit():
            out.append(word)
    return out


@dataclass
class Cluster:
    id: int
    size: int
    label: str
    keywords: list[str]
    languages: dict[str, float]  # language -> share of the cluster
    entropy: float  # bits; high = many languages mixed


def hdbscan_labels(points: np.ndarray, min_cluster_size: int = 5) -> np.ndarray:
    """Cluster id per row, -1 for noise (scikit-learn's HDBSCAN)."""
    from sklearn.cluster import HDBSCAN

    if len(points) < max(3, min_cluster_size):
        return np.full(len(points), -1)
    return HDBSCAN(min_cluster_size=min_cluster_size, copy=True).fit_predict(points)


def describe_clusters(labels: np.ndarray, texts: Sequence[str], langs: Sequence,
                      tokenize: Callable[[str], list[str]] = default_tokens,
                      n_keywords: int = 3) -> list[Cluster]:
    """Keywords by class-based TF-IDF (a term's frequency in the cluster, weighted by how
    few clusters use it), plus the cluster's language shares and entropy."""
    ids = [c for c in np.unique(labels) if c >= 0]
    counts = {c: Counter() for c in ids}
    for text, c in zip(texts, labels, strict=True):
        if c >= 0:
            counts[c].update(tokenize(text))
    df = Counter(t for c in ids for t in counts[c])
    out = []
    for c in ids:
        rows = np.flatnonzero(labels == c)
        total = sum(counts[c].values()) or 1
        # A term used by every cluster says nothing about this one: idf -> 0.
        scored = sorted(counts[c].items(), key=lambda kv: -(kv[1] / total) *
                        math.log((1 + len(ids)) / (1 + df[kv[0]]) + 1e-3))
        keywords = [t for t, _ in scored[:n_keywords]]
        lang_counts = Counter(str(langs[i] or "?") for i in rows)
        shares = {k: v / len(rows) for k, v in lang_counts.most_common()}
        entropy = -sum(p * math.log2(p) for p in shares.values())
        out.append(Cluster(int(c), len(rows), " · ".join(keywords) or f"cluster {c}",
                           keywords, shares, entropy))
    return out
