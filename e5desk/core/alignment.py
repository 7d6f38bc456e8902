"""How well translations line up: cross-lingual P@1 in embedding space, and how much
languages mix on a 2-D map."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from e5desk.core.data.sentence_set import lang_keys


def cross_lingual_p_at_1(vectors: np.ndarray, langs: Sequence, groups: Sequence
                         ) -> tuple[float, dict[tuple[str, str], float]]:
    """Share of sentences whose nearest neighbour among language B's sentences is their own
    translation, over every ordered pair of languages (A != B) that share groups.
    Returns (overall share, {(A, B): share})."""
    langs = lang_keys(langs)
    groups = np.asarray([None if g is None else str(g) for g in groups], dtype=object)
    has_group = np.array([g is not None for g in groups])
    per_pair: dict[tuple[str, str], float] = {}
    hits = total = 0
    for a in np.unique(langs):
        rows_a = np.flatnonzero((langs == a) & has_group)
        for b in np.unique(langs):
            if a == b:
                continue
            rows_b = np.flatnonzero((langs == b) & has_group)
            if not len(rows_a) or not len(rows_b):
                continue
            groups_b = set(groups[rows_b])
            src = rows_a[[g in groups_b for g in groups[rows_a]]]
            if not len(src):
                continue
            nearest = rows_b[np.argmax(vectors[src] @ vectors[rows_b].T, axis=1)]
            ok = groups[nearest] == groups[src]
            per_pair[(str(a), str(b))] = float(ok.mean())
            hits += int(ok.sum())
            total += len(src)
    return (hits / total if total else float("nan")), per_pair


def mixing_score(coords: np.ndarray, langs: Sequence, k: int = 10) -> float:
    """Mean share of each point's k nearest 2-D neighbours that are in another language
    (0 = languages sit apart; 1 - share of own language ~ fully mixed)."""
    langs = lang_keys(langs)
    n = len(coords)
    if n < 2:
        return float("nan")
    k = min(k, n - 1)
    d = ((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1) if n <= 4000 else None
    other = np.empty(n)
    for i in range(n):
        row = d[i] if d is not None else ((coords - coords[i]) ** 2).sum(1)
        row = row.copy()
        row[i] = np.inf
        nn = np.argpartition(row, k - 1)[:k]
        other[i] = np.mean(langs[nn] != langs[i])
    return float(other.mean())
