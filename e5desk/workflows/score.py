"""Score queries against passages: embed the passages in the rule's passage role (unless
their vectors are given), rank them for each query, and place each score among the unrelated
pairs of a reference set (issue 25). The one pipeline behind `e5desk score`, `e5desk.rank`
and the window's Scores tab; each front end only filters its passages and formats rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from e5desk.core.calibration import Calibration, calibrate_set
from e5desk.core.embedder import Embedder
from e5desk.core.jobs import CancelCheck, Progress
from e5desk.core.scoring import Ranking, pair_score, rank_passages, roles_for

DEFAULT_RULE = "retrieval"
MAX_HEATMAP = 300  # most queries and passages the heatmap shows


@dataclass
class ScoreSettings:
    queries: Sequence[str]
    rule: str = DEFAULT_RULE
    task: str | None = None  # the instruction, for instruct models
    top: int = 10  # results per query

    @property
    def query_role(self) -> str:
        return roles_for(self.rule)[0]

    @property
    def passage_role(self) -> str:
        return roles_for(self.rule)[1]


@dataclass
class Reference:
    """The set a score is placed in (its unrelated pairs): a SentenceSet-like object (text,
    lang, group) and its vectors in the rule's passage role."""

    sentences: Any
    vectors: np.ndarray | None


@dataclass
class ScoredPassage:
    """One result row: the one shape every front end formats."""

    query: str
    rank: int  # from 1
    passage: int  # row in the scored passages
    score: float  # cosine x 100
    vs_unrelated: float  # % of the reference's unrelated pairs scoring lower (NaN: none)


@dataclass
class ScoreResult:
    settings: ScoreSettings
    ranking: Ranking
    passage_vectors: np.ndarray
    calibration: Calibration | None

    def rows(self) -> list[ScoredPassage]:
        ranked = self.ranking.rows()
        scores = np.array([r[3] for r in ranked], dtype=float)
        shares = (np.full(len(ranked), np.nan) if self.calibration is None
                  else self.calibration.percentiles(scores)[0])
        return [ScoredPassage(self.ranking.queries[qi], rank, pi, score, float(pct))
                for (qi, rank, pi, score), pct in zip(ranked, shares, strict=True)]

    def heatmap(self, texts: Sequence[str], most: int = MAX_HEATMAP
                ) -> tuple[np.ndarray, list[str], list[str]]:
        """Queries x passages scores for the union of every query's top passages (at most
        ``most`` of each), passages ordered by their best score: (scores, queries, texts)."""
        r = self.ranking
        cols = list(dict.fromkeys(int(i) for i in r.indices.T.reshape(-1)))[:most]
        queries = r.queries[:most]
        scores = r.query_vectors[: len(queries)] @ self.passage_vectors[cols].T * 100
        order = np.argsort(-scores.max(0), kind="stable")
        return scores[:, order], queries, [texts[cols[i]] for i in order]


def _passage_vectors(encoder: Embedder, settings: ScoreSettings,
                     texts: Sequence[str] | None, encode: Callable[..., np.ndarray] | None,
                     progress: Progress | None, cancelled: CancelCheck | None) -> np.ndarray:
    return (encode or encoder.encode)(list(texts or []), role=settings.passage_role,
                                      task=settings.task, progress=progress,
                                      cancelled=cancelled)


def score_passages(encoder: Embedder, settings: ScoreSettings, texts: Sequence[str] | None = None,
                   vectors: np.ndarray | None = None, reference: Reference | None = None, *,
                   encode: Callable[..., np.ndarray] | None = None,
                   progress: Progress | None = None,
                   cancelled: CancelCheck | None = None) -> ScoreResult:
    """Rank ``texts`` (or their given ``vectors``) for each query; ``encode`` embeds the
    passages where it differs from ``encoder.encode`` (stored batch vectors). The scores are
    placed among ``reference``'s unrelated pairs (None: no percentiles)."""
    rule, task = settings.rule, settings.task
    if vectors is None:
        vectors = _passage_vectors(encoder, settings, texts, encode, progress, cancelled)
        progress = None  # reported by the embedding, the longer part
    ranking = rank_passages(encoder, settings.queries, vectors, rule, task, settings.top,
                            progress, cancelled)
    calibration = None
    if reference is not None:  # cached per set, model and rule
        calibration = calibrate_set(encoder, reference.sentences, rule, reference.vectors,
                                    task, cancelled)
    return ScoreResult(settings, ranking, vectors, calibration)


def score_matrix(encoder: Embedder, settings: ScoreSettings, texts: Sequence[str], *,
                 encode: Callable[..., np.ndarray] | None = None,
                 progress: Progress | None = None,
                 cancelled: CancelCheck | None = None) -> np.ndarray:
    """Every query (as given, none dropped) against every passage: float32
    (n_queries, n_passages) of cosine x 100, embedded as ``score_passages`` embeds them
    (``settings.top`` unused). ``e5desk.score``."""
    queries = encoder.encode(list(settings.queries), role=settings.query_role,
                             task=settings.task, cancelled=cancelled)
    passages = _passage_vectors(encoder, settings, texts, encode, progress, cancelled)
    return (queries @ passages.T) * 100


def score_pair(encoder: Embedder, query: str, passage: str, rule: str = DEFAULT_RULE,
               task: str | None = None) -> float:
    """One query, one passage -> relevancy score (cosine x 100)."""
    return pair_score(encoder, query, passage, rule, task)
