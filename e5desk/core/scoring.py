"""Query–passage scoring as the workbench and `e5desk score` use it.

The prefix rules (which role each side gets) are defined in :mod:`e5desk.core.prefix_rules`
and shared with evaluation. Scores are cosine x 100, as in the model cards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from e5desk.core.errors import E5DeskError
from e5desk.core.jobs import CancelCheck, Progress
from e5desk.core.prefix_rules import PREFIX_RULES, TASK_RULES, roles_for

__all__ = ["NARROW_BAND_NOTE", "PREFIX_RULES", "TASK_RULES", "Ranking", "pair_score",
           "rank_passages", "roles_for", "score_against", "top_k"]

NARROW_BAND_NOTE = (
    "E5 cosine scores sit in a narrow high band (about 0.7 to 1.0, from training with a low "
    "temperature), so the rank of a passage matters more than its absolute score."
)


@dataclass
class Ranking:
    """Top passages per query: indices into the passages and their scores (cos x 100)."""

    queries: list[str]
    query_vectors: np.ndarray
    indices: np.ndarray  # (n_queries, k) passage indices, best first
    scores: np.ndarray  # (n_queries, k) cosine x 100

    def rows(self) -> list[tuple[int, int, int, float]]:
        """(query index, rank from 1, passage index, score) for every shown result."""
        out = []
        for qi in range(len(self.queries)):
            for rank, (pi, s) in enumerate(zip(self.indices[qi], self.scores[qi],
                                               strict=True), 1):
                out.append((qi, rank, int(pi), float(s)))
        return out


def top_k(query_vectors: np.ndarray, passage_vectors: np.ndarray, k: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` passages per query: (indices, scores as cosine x 100), best first."""
    from e5desk.core.similarity import knn

    indices, cosines = knn(query_vectors, passage_vectors, k)
    return indices, cosines * 100


def rank_passages(encoder, queries: Sequence[str], passage_vectors: np.ndarray,
                  rule: str = "retrieval", task: str | None = None, k: int = 20,
                  progress: Progress | None = None,
                  cancelled: CancelCheck | None = None) -> Ranking:
    """Embed ``queries`` with the rule's query role and rank precomputed passages."""
    queries = [q for q in (s.strip() for s in queries) if q]
    if not queries:
        raise E5DeskError("type at least one query")
    if len(passage_vectors) == 0:
        raise E5DeskError("there are no passages to score: load a sentence set or type some")
    query_role, _ = roles_for(rule)
    q = encoder.encode(queries, role=query_role, task=task, progress=progress,
                       cancelled=cancelled)
    indices, scores = top_k(q, passage_vectors, k)
    return Ranking(queries, q, indices, scores)


def pair_score(encoder, query: str, passage: str, rule: str = "retrieval",
               task: str | None = None) -> float:
    """One query, one passage -> relevancy score (cosine x 100)."""
    query_role, passage_role = roles_for(rule)
    q = encoder.encode([query], role=query_role, task=task)
    p = encoder.encode([passage], role=passage_role, task=task)
    return float(q[0] @ p[0]) * 100


def score_against(encoder, text: str, vectors: np.ndarray, rule: str = "symmetric",
                  task: str | None = None) -> np.ndarray:
    """Score (cosine x 100, float32) of every row of precomputed ``vectors`` to one typed
    text, embedded with the rule's query role (the map and its search use this)."""
    query_role, _ = roles_for(rule)
    q = encoder.encode([text], role=query_role, task=task)[0]
    return (np.asarray(vectors) @ q).astype(np.float32) * 100
