"""Evaluate retrieval quality (MRR@10, Recall@1/5/10, nDCG@10, P@1) on relevance data or on
parallel sets: the one evaluation behind `e5desk eval`, the window's Evaluation tab and
`e5desk.evaluate`, with one table definition for all of them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from e5desk.core.evaluate import (
    METRICS,
    EvalData,
    EvalRun,
    compare_runs,
    prefix_finding,
    run_evaluation,
)
from e5desk.core.jobs import CancelCheck, Progress
from e5desk.core.prefix_rules import PREFIX_RULES

AGREEMENT = ["overlap@10", "top-1", "Spearman"]

Encode = Callable[..., np.ndarray]  # encode(texts, role=, progress=, cancelled=)


@dataclass
class Evaluation:
    """An evaluation's outcome. ``rows`` is THE table every front end shows: retrieval data:
    one row per prefix rule; parallel sets: ``all pairs (RULE)`` per rule (the mean over
    language pairs), then ``A->B`` per language pair with the data's own rule."""

    data: EvalData
    runs: dict[str, EvalRun]
    rows: dict[str, dict[str, float]]
    finding: str | None  # the prefix A/B's verdict in one sentence (None without an A/B)

    @property
    def by_rule(self) -> dict[str, dict[str, float]]:
        return {rule: run.metrics for rule, run in self.runs.items()}

    @property
    def rule_rows(self) -> dict[str, dict[str, float]]:
        """The table's first rows: one per prefix rule (a prefix A/B's comparison)."""
        return dict(list(self.rows.items())[:len(self.runs)])

    def column(self, metric: str) -> np.ndarray:
        return np.array([r.get(metric, np.nan) for r in self.rows.values()], dtype=float)


def table_rows(runs: Mapping[str, EvalRun], data: EvalData) -> dict[str, dict[str, float]]:
    if data.kind == "retrieval":
        return {rule: run.metrics for rule, run in runs.items()}
    out = {f"all pairs ({rule})": run.metrics for rule, run in runs.items()}
    default = runs.get(data.default_rule)
    if default is not None:
        out.update({f"{a}->{b}": r for (a, b), r in default.pairs.items()})
    return out


def evaluate(encode: Encode, sentences, *, prefixes: bool = False,
             progress: Progress | None = None,
             cancelled: CancelCheck | None = None) -> Evaluation:
    """``sentences``: a SentenceSet (or EvalData). ``prefixes``: every prefix rule side by
    side (a prefix A/B) with its finding; else the data's own rule (the model cards')."""
    data = sentences if isinstance(sentences, EvalData) else EvalData.from_set(sentences)
    rules = list(PREFIX_RULES) if prefixes else [data.default_rule]
    runs = run_evaluation(encode, data, rules, progress=progress, cancelled=cancelled)
    finding = prefix_finding({r: run.metrics for r, run in runs.items()},
                             data.default_rule) if prefixes else None
    return Evaluation(data, runs, table_rows(runs, data), finding)


def agreement_rows(a: Evaluation, b: Evaluation) -> dict[str, dict[str, float]]:
    """Rank agreement of two models' evaluations on the same data, in the rows of the
    table (overlap@10, top-1, Spearman)."""
    out = {}
    data = a.data
    for rule in a.runs:
        cmp = compare_runs(a.runs[rule], b.runs[rule], data)
        if data.kind == "retrieval":
            out[rule] = cmp["all"]
        else:
            out[f"all pairs ({rule})"] = cmp["all"]
            if rule == data.default_rule:
                out.update({f"{x}->{y}": r for (x, y), r in cmp["pairs"].items()})
    return out


__all__ = ["AGREEMENT", "METRICS", "Evaluation", "agreement_rows", "evaluate", "table_rows"]
