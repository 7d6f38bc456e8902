"""SentenceSet: columnar sentences with language, group (translations) and provenance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def _column(values: Sequence | np.ndarray | None, n: int, fill=None) -> np.ndarray:
    if values is None:
        out = np.empty(n, dtype=object)
        out[:] = fill
        return out
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    return arr


@dataclass
class SentenceSet:
    """Columns of equal length (numpy object arrays, so 1M rows stay cheap).

    text: the sentence as read (original text kept); lang: ISO 639-1 / BCP-47 code or None;
    group: id tying translations of one meaning together, or None; role: "query",
    "passage" or None where the format says; line: 1-based line or record number in source.
    """

    text: np.ndarray
    lang: np.ndarray
    group: np.ndarray
    role: np.ndarray
    line: np.ndarray
    source: str = ""
    name: str = ""
    set_name: np.ndarray | None = None
    # Query -> relevant passage rows (retrieval data, e.g. train.jsonl): {row: [rows]}
    relevance: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, text: Sequence[str], lang=None, group=None, role=None, line=None,
              source: str | Path = "", name: str = "") -> SentenceSet:
        n = len(text)
        lines = np.arange(1, n + 1) if line is None else np.asarray(line, dtype=np.int64)
        source = str(source)
        name = name or (Path(source).name if source else "set")
        return cls(_column(text, n), _column(lang, n), _column(group, n), _column(role, n),
                   lines, source, name)

    def __len__(self) -> int:
        return len(self.text)

    def __post_init__(self) -> None:
        n = len(self.text)
        for col in ("lang", "group", "role", "line"):
            if len(getattr(self, col)) != n:
                raise ValueError(f"column {col} has {len(getattr(self, col))} rows, expected {n}")
        if self.set_name is None:
            self.set_name = _column(None, n, self.name)

    def languages(self) -> dict[str, int]:
        values, counts = np.unique([x or "?" for x in self.lang], return_counts=True)
        return dict(sorted(zip(values.tolist(), counts.tolist(), strict=True),
                           key=lambda kv: -kv[1]))

    def take(self, rows: np.ndarray) -> SentenceSet:
        rows = np.asarray(rows, dtype=np.int64)
        return SentenceSet(self.text[rows], self.lang[rows], self.group[rows], self.role[rows],
                           self.line[rows], self.source, self.name, self.set_name[rows])


def concat_sets(sets: Sequence[SentenceSet]) -> SentenceSet:
    """One set with every row, ``set_name`` telling where each came from. Group ids are
    prefixed by set name when sets disagree, so translations never join across files
    by accident."""
    if len(sets) == 1:
        return sets[0]
    cat = lambda attr: np.concatenate([getattr(s, attr) for s in sets])  # noqa: E731
    offsets = np.cumsum([0] + [len(s) for s in sets])
    relevance = {int(q + off): [int(p + off) for p in ps]
                 for s, off in zip(sets, offsets, strict=False) for q, ps in s.relevance.items()}
    groups = np.concatenate([
        np.array([None if g is None else f"{s.name}:{g}" for g in s.group], dtype=object)
        for s in sets
    ])
    return SentenceSet(cat("text"), cat("lang"), groups, cat("role"), cat("line"),
                       source="", name="combined", set_name=cat("set_name"),
                       relevance=relevance)
