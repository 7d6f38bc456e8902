"""Retrieval quality: MRR@10 (as in the Mr. TyDi table of the E5 model card), Recall@k,
nDCG@10 and P@1; on query/passage relevance data or on parallel sets (every language pair,
translations as the relevant passages); prefix A/B and model A/B (rank agreement between
two models); suspect translations in a parallel set."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from e5desk.core.data.sentence_set import lang_keys
from e5desk.core.errors import Cancelled, E5DeskError
from e5desk.core.jobs import CancelCheck, Progress
from e5desk.core.prefix_rules import PREFIX_RULES, TASK_RULES, prefix_rule
from e5desk.core.similarity import knn

METRICS = ["MRR@10", "Recall@1", "Recall@5", "Recall@10", "nDCG@10", "P@1"]


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


def parallel_tasks(langs: Sequence, groups: Sequence, texts: Sequence[str] | None = None
                   ) -> list[tuple[str, str, np.ndarray, np.ndarray, list[set[int]]]]:
    """Every ordered language pair (a, b) with translations: rows of a (queries), rows of b
    (passages), and per query the positions in b's rows of its translations. With
    ``texts``, a passage with the same text as a translation counts as one too (catalogues
    repeat "mayo" under several contexts)."""
    langs = lang_keys(langs)
    groups = np.asarray(groups, dtype=object)
    out = []
    for a, b in itertools.permutations(sorted(set(langs)), 2):
        qa, pb = np.flatnonzero(langs == a), np.flatnonzero(langs == b)
        by_group: dict = {}
        by_text: dict = {}
        for j, g in enumerate(groups[pb]):
            if g is not None:
                by_group.setdefault(g, set()).add(j)
            if texts is not None:
                by_text.setdefault(texts[pb[j]], set()).add(j)
        rel = [by_group.get(g, set()) if g is not None else set() for g in groups[qa]]
        if texts is not None:  # the same string in another group is just as right
            rel = [set().union(r, *(by_text[texts[pb[j]]] for j in r)) for r in rel]
        if any(rel):
            out.append((str(a), str(b), qa, pb, rel))
    return out


def evaluate_parallel(vectors: np.ndarray, langs: Sequence, groups: Sequence,
                      passage_vectors: np.ndarray | None = None,
                      texts: Sequence[str] | None = None
                      ) -> dict[tuple[str, str], dict[str, float]]:
    """For every ordered language pair: sentences of A as queries, all sentences of B as
    passages, their translations (same group) as the relevant ones. ``passage_vectors``:
    the same sentences embedded in the passage role (default: ``vectors``)."""
    passage_vectors = vectors if passage_vectors is None else passage_vectors
    return {(a, b): evaluate_retrieval(vectors[qa], passage_vectors[pb], rel)
            for a, b, qa, pb, rel in parallel_tasks(langs, groups, texts)}


def average(results: Mapping[tuple[str, str], dict[str, float]]) -> dict[str, float]:
    """Mean of each figure over the results that have it ("queries" is left out)."""
    keys = dict.fromkeys(k for r in results.values() for k in r if k != "queries")
    return {k: float(np.mean([r[k] for r in results.values() if k in r])) for k in keys}


def rank_agreement(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean overlap@k of two rankings of the same passages per query (1 = same top k)."""
    return float(np.mean([len(set(x[:k]) & set(y[:k])) / k for x, y in zip(a, b, strict=True)]))


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Rank of every entry within its row (0 = lowest), as float64."""
    ranks = np.empty(scores.shape, dtype=np.float64)
    order = np.argsort(scores, axis=1, kind="stable")
    np.put_along_axis(ranks, order, np.arange(scores.shape[1], dtype=np.float64)[None, :], 1)
    return ranks


def ranking_agreement(q_a: np.ndarray, p_a: np.ndarray, q_b: np.ndarray, p_b: np.ndarray,
                      k: int = 10, spearman_elements: int = 20_000_000) -> dict[str, float]:
    """How alike two models (or prefix rules) rank the same passages for the same queries.

    overlap@k: mean share of the top k both put first; top-1: share of queries with the
    same best passage; Spearman: mean per-query rank correlation over all passages (on an
    evenly spaced subset of queries when queries x passages exceeds ``spearman_elements``);
    queries: how many queries the means are over."""
    n_q, n_p = len(q_a), len(p_a)
    if n_q == 0 or n_p == 0:
        return {}
    kk = min(k, n_p)
    top_a, _ = knn(q_a, p_a, kk)
    top_b, _ = knn(q_b, p_b, kk)
    out = {f"overlap@{k}": rank_agreement(top_a, top_b, kk),
           "top-1": float(np.mean(top_a[:, 0] == top_b[:, 0]))}
    if n_p > 1:
        n_used = min(n_q, max(1, spearman_elements // n_p))
        rows = np.linspace(0, n_q - 1, n_used).round().astype(np.int64)
        rhos = []
        step = max(1, (1 << 21) // n_p)  # about 60 MB of ranks per block
        for start in range(0, n_used, step):
            r = rows[start : start + step]
            d = _ranks(q_a[r] @ p_a.T) - _ranks(q_b[r] @ p_b.T)
            rhos.append(1 - 6 * (d * d).sum(axis=1) / (n_p * (n_p * n_p - 1)))
        out["Spearman"] = float(np.mean(np.concatenate(rhos)))
    out["queries"] = n_q
    return out


def prefix_ab(encode: Callable[..., np.ndarray], queries: Sequence[str],
              passages: Sequence[str], relevant: Sequence[set[int]]) -> dict[str, dict]:
    """The same evaluation with each prefix rule; ``encode(texts, role=...)``."""
    out = {}
    for name, rule in PREFIX_RULES.items():
        out[name] = evaluate_retrieval(encode(list(queries), role=rule.query_role),
                                       encode(list(passages), role=rule.passage_role),
                                       relevant)
    return out


def prefix_finding(metrics: Mapping[str, Mapping[str, float]], recommended: str,
                   metric: str = "MRR@10", tolerance: float = 0.005) -> str | None:
    """One sentence on a prefix A/B (``metrics``: rule -> figures): whether the rule the
    E5 model cards prescribe for this kind of data (``recommended``) is also the best on
    the user's data, and what to do when it is not. None when the A/B is incomplete."""
    have = {prefix_rule(r).name: m[metric] for r, m in metrics.items() if metric in m}
    figures = {prefix_rule(r).name: m for r, m in metrics.items()}
    rec = prefix_rule(recommended)
    if rec.name not in have or len(have) < 2:
        return None
    best = max(have, key=have.get)
    gap = have[best] - have[rec.name]
    if best == rec.name or gap < tolerance:
        return (f"Your data agrees with the model cards: {rec.name} ({rec.sides}) is the best "
                f"rule here ({metric} {have[rec.name]:.3f}).")
    queries = figures[rec.name].get("queries")
    noise = (f"; on {queries} queries a gap this size can be noise, so confirm it on more"
             if queries and queries < 500 else "")
    return (f"Your data disagrees with the model cards by {gap * 100:.1f} points of {metric}: "
            f"{best} ({PREFIX_RULES[best].sides}) scores {have[best]:.3f}, {rec.name} "
            f"({rec.sides}) {have[rec.name]:.3f}. The cards prescribe {rec.name} for "
            f"{rec.use}; for collections like this one try e5desk score --rule {best} (the "
            f"Scores tab's prefix rule){noise}.")


@dataclass
class EvalData:
    """What an evaluation ranks, taken from a sentence set. retrieval: its queries and
    passages with the stated relevance; parallel: every language pair, translations (same
    group) as the relevant passages."""

    kind: str  # "retrieval" or "parallel"
    queries: list[str] = field(default_factory=list)
    passages: list[str] = field(default_factory=list)
    relevant: list[set[int]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    langs: list = field(default_factory=list)
    groups: list = field(default_factory=list)
    rule: str | None = None  # the prefix rule to evaluate with (default: by kind)

    @classmethod
    def from_set(cls, s) -> EvalData:
        if s.relevance:
            q_rows = sorted(s.relevance)
            p_rows = [i for i in range(len(s)) if s.role[i] == "passage"]
            if not p_rows:
                raise E5DeskError("no passages to rank: passages.jsonl must be in the folder "
                                  "that holds train.jsonl")
            where = {r: n for n, r in enumerate(p_rows)}
            relevant = [{where[p] for p in s.relevance[q] if p in where} for q in q_rows]
            if not any(relevant):
                raise E5DeskError("no query has a relevant passage among the passages loaded")
            return cls("retrieval", queries=[str(s.text[i]) for i in q_rows],
                       passages=[str(s.text[i]) for i in p_rows], relevant=relevant)
        if any(g is not None for g in s.group):
            return cls("parallel", texts=[str(t) for t in s.text], langs=list(s.lang),
                       groups=list(s.group))
        raise E5DeskError("nothing to evaluate: give train.jsonl (+ passages.jsonl) or a "
                          "parallel set with translation groups")

    @property
    def default_rule(self) -> str:
        """The model cards' rule: retrieval for retrieval data, symmetric for translations."""
        if self.rule:
            return self.rule
        return TASK_RULES["retrieval" if self.kind == "retrieval" else "translation"]

    def sides(self) -> tuple[list[str], list[str]]:
        """Texts embedded as queries and as passages (parallel: all sentences, both)."""
        if self.kind == "retrieval":
            return self.queries, self.passages
        return self.texts, self.texts


@dataclass
class EvalRun:
    """One model and prefix rule: metrics (retrieval: over all queries; parallel: mean
    over language pairs), per-pair metrics (parallel), and the vectors, for comparing."""

    rule: str
    metrics: dict[str, float]
    pairs: dict[tuple[str, str], dict[str, float]]
    q_vectors: np.ndarray
    p_vectors: np.ndarray


def run_evaluation(encode: Callable[..., np.ndarray], data: EvalData,
                   rules: Sequence[str] | None = None, progress: Progress | None = None,
                   cancelled: CancelCheck | None = None) -> dict[str, EvalRun]:
    """Evaluate with each prefix rule (names in :data:`~e5desk.core.prefix_rules.PREFIX_RULES`
    or their older aliases; default: the data's own rule) -> runs by rule name.
    ``encode(texts, role=, progress=, cancelled=)`` as ``Encoder.encode``; each
    (texts, role) is embedded once even when several rules use it."""
    chosen = [prefix_rule(r) for r in (rules or [data.default_rule])]
    q_texts, p_texts = data.sides()
    same = data.kind == "parallel"
    needed: dict[tuple[str, str], list[str]] = {}
    for r in chosen:
        needed[("q", r.query_role)] = q_texts
        needed[("q" if same else "p", r.passage_role)] = p_texts
    total = sum(len(t) for t in needed.values())
    vectors: dict[tuple[str, str], np.ndarray] = {}
    done = 0
    for (side, role), texts in needed.items():
        if cancelled and cancelled():
            raise Cancelled("Cancelled.")

        def part(d: int, _t: int, offset: int = done) -> None:
            if progress:
                progress(offset + d, total)

        vectors[(side, role)] = encode(list(texts), role=role, progress=part,
                                       cancelled=cancelled)
        done += len(texts)
        if progress:
            progress(done, total)
    out = {}
    for r in chosen:
        q = vectors[("q", r.query_role)]
        p = vectors[("q" if same else "p", r.passage_role)]
        if same:
            pairs = evaluate_parallel(q, data.langs, data.groups, passage_vectors=p,
                                      texts=data.texts)
            metrics = average(pairs) if pairs else {}
        else:
            pairs = {}
            metrics = evaluate_retrieval(q, p, data.relevant)
        out[r.name] = EvalRun(r.name, metrics, pairs, q, p)
    return out


def reciprocal_ranks(run: EvalRun, data: EvalData) -> np.ndarray:
    """Per query (parallel: per query of every language pair, in a fixed order): the
    reciprocal rank of the first relevant passage in the top 10 (0 when none), the values
    MRR@10 averages. Two runs on the same data give paired values (a paired bootstrap)."""
    def rr(q: np.ndarray, p: np.ndarray, relevant) -> list[float]:
        if len(q) == 0 or len(p) == 0:
            return []
        rankings, _ = knn(q, p, min(10, len(p)))
        out = []
        for ranked, rel in zip(rankings, relevant, strict=True):
            if rel:
                first = next((i for i, x in enumerate(ranked[:10]) if int(x) in rel), None)
                out.append(0.0 if first is None else 1.0 / (first + 1))
        return out

    if data.kind != "parallel":
        return np.asarray(rr(run.q_vectors, run.p_vectors, data.relevant))
    values: list[float] = []
    for _, _, qa, pb, rel in parallel_tasks(data.langs, data.groups, data.texts):
        values += rr(run.q_vectors[qa], run.p_vectors[pb], rel)
    return np.asarray(values)


def compare_runs(a: EvalRun, b: EvalRun, data: EvalData) -> dict:
    """Rank agreement of two runs on the same data (see ``ranking_agreement``):
    {"all": ..., "pairs": {(lang_a, lang_b): ...}}; parallel: "all" is the mean over
    language pairs."""
    if data.kind == "retrieval":
        return {"all": ranking_agreement(a.q_vectors, a.p_vectors, b.q_vectors, b.p_vectors),
                "pairs": {}}
    pairs = {(la, lb): ranking_agreement(a.q_vectors[qa], a.p_vectors[pb],
                                         b.q_vectors[qa], b.p_vectors[pb])
             for la, lb, qa, pb, _rel in parallel_tasks(data.langs, data.groups)}
    return {"all": average(pairs) if pairs else {}, "pairs": pairs}


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# Calibrated with benchmarks/suspects_calibration.py on the real-shaped catalogues in
# tests/data/real (20 of ~160 translations rotated, five languages, five seeds): a pair is
# flagged when BOTH sides have a better partner, by more than these many points (cos x 100).
# Short strings (weekdays, months, single words) crowd together in E5 space, so they need a
# clear lead before a better match counts.
SUSPECT_GAP = 2.0
SUSPECT_GAP_SHORT = 6.0
SHORT_CHARS = 12


@dataclass
class Suspect:
    group: str
    src: int
    tgt: int
    score: float  # pair cosine x 100
    reason: str  # "looks fine" unless flagged
    doubt: float  # higher = more doubtful: how far both sides prefer another partner
    flagged: bool = False


def suspect_translations(vectors: np.ndarray, texts: Sequence[str], langs: Sequence,
                         groups: Sequence, src_lang: str, tgt_lang: str) -> list[Suspect]:
    """Rank the (src_lang, tgt_lang) pairs of each group by doubt, flagged ones first.

    A translation is doubtful when its source matches another sentence of the target
    language better AND the translation matches another source better (a rotated or
    misplaced translation fails both ways; a merely loose one rarely does). The gaps are
    measured against other *texts* (a repeated string is not a better match), and entries
    without words ("…", "%s") are never flagged."""
    from e5desk.core.translations import is_translatable

    langs = lang_keys(langs)
    texts = np.asarray([str(t) for t in texts], dtype=object)
    src_rows, tgt_rows = np.flatnonzero(langs == src_lang), np.flatnonzero(langs == tgt_lang)
    tgt_by_group = {groups[j]: j for j in tgt_rows if groups[j] is not None}
    pairs = [(i, tgt_by_group[groups[i]]) for i in src_rows if groups[i] in tgt_by_group]
    if not pairs:
        return []
    s = vectors[src_rows] @ vectors[tgt_rows].T * 100
    pos_s = {r: n for n, r in enumerate(src_rows)}
    pos_t = {r: n for n, r in enumerate(tgt_rows)}
    out = []
    for i, j in pairs:
        row, col = s[pos_s[i]].copy(), s[:, pos_t[j]].copy()
        score = float(row[pos_t[j]])
        row[texts[tgt_rows] == texts[j]] = -np.inf  # the same text elsewhere is no rival
        col[texts[src_rows] == texts[i]] = -np.inf
        best_t, best_s = int(row.argmax()), int(col.argmax())
        gap_f = max(0.0, float(row[best_t]) - score)
        gap_b = max(0.0, float(col[best_s]) - score)
        short = max(len(texts[i]), len(texts[j])) <= SHORT_CHARS
        needed = SUSPECT_GAP_SHORT if short else SUSPECT_GAP
        flagged = (min(gap_f, gap_b) > needed and is_translatable(texts[i])
                   and is_translatable(texts[j]))
        reason = "looks fine"
        if flagged:
            reason = (f"the {src_lang} sentence matches “{_short(texts[tgt_rows[best_t]])}” "
                      f"better ({score + gap_f:.1f} vs {score:.1f}); the {tgt_lang} sentence "
                      f"matches “{_short(texts[src_rows[best_s]])}” better "
                      f"({score + gap_b:.1f} vs {score:.1f})")
        out.append(Suspect(str(groups[i]), int(i), int(j), score, reason, gap_f + gap_b,
                           flagged))
    return sorted(out, key=lambda x: (not x.flagged, -x.doubt))
