"""Retrieval quality: MRR@10 (as in the Mr. TyDi table of the E5 model card), Recall@k,
nDCG@10 and P@1; on query/passage relevance data or on parallel sets (every language pair,
translations as the relevant passages); suspect translations in a parallel set."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from e5desk.core.similarity import knn


def metrics_from_rankings(rankings: np.ndarray, relevant: Sequence[set[int]]) -> dict[str, float]:
    """``rankings``: (n_queries, >=10) passage indices best first; binary relevance."""
    rr, ndcg, p1 = [], [], []
    recall = {1: [], 5: [], 10: []}
    for ranked, rel in zip(rankings, relevant, strict=True):
        if not rel:
            continue
        ranked = list(ranked[:10])
        hits = [int(p) in rel for p in ranked]
        first = next((i for i, h in enumerate(hits) if h), None)
        rr.append(0.0 if first is None else 1.0 / (first + 1))
        p1.append(float(hits[0]))
        for k in recall:
            recall[k].append(sum(hits[:k]) / len(rel))
        dcg = sum(h / np.log2(i + 2) for i, h in enumerate(hits))
        ideal = sum(1 / np.log2(i + 2) for i in range(min(len(rel), 10)))
        ndcg.append(dcg / ideal)
    if not rr:
        return {}
    out = {"MRR@10": float(np.mean(rr)), "nDCG@10": float(np.mean(ndcg)),
           "P@1": float(np.mean(p1))}
    out.update({f"Recall@{k}": float(np.mean(v)) for k, v in recall.items()})
    out["queries"] = len(rr)
    return out


def evaluate_retrieval(query_vectors: np.ndarray, passage_vectors: np.ndarray,
                       relevant: Sequence[set[int]]) -> dict[str, float]:
    rankings, _ = knn(query_vectors, passage_vectors, 10)
    return metrics_from_rankings(rankings, relevant)


def evaluate_parallel(vectors: np.ndarray, langs: Sequence, groups: Sequence
                      ) -> dict[tuple[str, str], dict[str, float]]:
    """For every ordered language pair: sentences of A as queries, all sentences of B as
    passages, their translations (same group) as the relevant ones."""
    langs = np.asarray([str(x or "?") for x in langs])
    groups = np.asarray(groups, dtype=object)
    out = {}
    for a, b in itertools.permutations(sorted(set(langs)), 2):
        qa, pb = np.flatnonzero(langs == a), np.flatnonzero(langs == b)
        by_group: dict = {}
        for j, g in enumerate(groups[pb]):
            if g is not None:
                by_group.setdefault(g, set()).add(j)
        rel = [by_group.get(g, set()) if g is not None else set() for g in groups[qa]]
        if any(rel):
            out[(str(a), str(b))] = evaluate_retrieval(vectors[qa], vectors[pb], rel)
    return out


def average(results: Mapping[tuple[str, str], dict[str, float]]) -> dict[str, float]:
    keys = [k for k in next(iter(results.values()), {}) if k != "queries"]
    return {k: float(np.mean([r[k] for r in results.values()])) for k in keys}


def rank_agreement(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean overlap@k of two rankings of the same passages per query (1 = same top k)."""
    return float(np.mean([len(set(x[:k]) & set(y[:k])) / k for x, y in zip(a, b, strict=True)]))


PREFIX_VARIANTS = {"query/passage": ("query", "passage"), "query/query": ("query", "query"),
                   "none": ("raw", "raw")}


def prefix_ab(encode: Callable[..., np.ndarray], queries: Sequence[str],
              passages: Sequence[str], relevant: Sequence[set[int]]) -> dict[str, dict]:
    """The same evaluation with each prefix rule; ``encode(texts, role=...)``."""
    out = {}
    for name, (q_role, p_role) in PREFIX_VARIANTS.items():
        out[name] = evaluate_retrieval(encode(list(queries), role=q_role),
                                       encode(list(passages), role=p_role), relevant)
    return out


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


@dataclass
class Suspect:
    group: str
    src: int
    tgt: int
    score: float  # pair cosine x 100
    reason: str
    doubt: float  # higher = more doubtful


def suspect_translations(vectors: np.ndarray, texts: Sequence[str], langs: Sequence,
                         groups: Sequence, src_lang: str, tgt_lang: str) -> list[Suspect]:
    """Rank the (src_lang, tgt_lang) pairs of each group by doubt: a better match for one
    side elsewhere in the other language, or a pair score far below the set's usual."""
    langs = np.asarray([str(x or "?") for x in langs])
    src_rows, tgt_rows = np.flatnonzero(langs == src_lang), np.flatnonzero(langs == tgt_lang)
    tgt_by_group = {groups[j]: j for j in tgt_rows if groups[j] is not None}
    pairs = [(i, tgt_by_group[groups[i]]) for i in src_rows if groups[i] in tgt_by_group]
    if not pairs:
        return []
    s = vectors[src_rows] @ vectors[tgt_rows].T
    pos_s = {r: n for n, r in enumerate(src_rows)}
    pos_t = {r: n for n, r in enumerate(tgt_rows)}
    pair_scores = np.array([s[pos_s[i], pos_t[j]] for i, j in pairs])
    mean, std = float(pair_scores.mean()), float(pair_scores.std() or 1e-6)
    out = []
    for (i, j), score in zip(pairs, pair_scores, strict=True):
        row, col = s[pos_s[i]], s[:, pos_t[j]]
        best_t, best_s = tgt_rows[int(row.argmax())], src_rows[int(col.argmax())]
        reasons, doubt = [], (mean - score) / std
        if best_t != j:
            gap = (row.max() - score) * 100
            reasons.append(f"the {src_lang} sentence matches “{_short(texts[best_t])}” "
                           f"better ({row.max() * 100:.1f} vs {score * 100:.1f})")
            doubt += 2 + gap
        if best_s != i:
            gap = (col.max() - score) * 100
            reasons.append(f"the {tgt_lang} sentence matches “{_short(texts[best_s])}” "
                           f"better ({col.max() * 100:.1f} vs {score * 100:.1f})")
            doubt += 2 + gap
        if (mean - score) / std > 2:
            reasons.append(f"pair score {score * 100:.1f} is far below this set's mean "
                           f"{mean * 100:.1f}")
        out.append(Suspect(str(groups[i]), int(i), int(j), float(score * 100),
                           "; ".join(reasons) or "looks fine", float(doubt)))
    return sorted(out, key=lambda x: -x.doubt)
