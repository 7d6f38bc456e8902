"""SentenceSet: columnar sentences with language, group (translations) and provenance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# A row without a language, where a language must be named (legends, counts, per-language
# maths): one marker for the whole program.
UNKNOWN_LANG = "?"


def lang_key(code) -> str:
    """A row's language as a name: its code, or UNKNOWN_LANG when it has none."""
    return str(code or UNKNOWN_LANG)


def lang_keys(langs) -> np.ndarray:
    """:func:`lang_key` of every row, as a numpy array of str."""
    return np.asarray([lang_key(x) for x in langs])


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
    # Combined sets: (index of the loaded set, row in it) per row, so an edit made in the
    # combined view (e.g. a corrected language) can be written back where it came from.
    origin: np.ndarray | None = None
    # What joining files did (which files joined, which were kept apart and why).
    notes: list[str] = field(default_factory=list)

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
        values, counts = np.unique([lang_key(x) for x in self.lang], return_counts=True)
        return dict(sorted(zip(values.tolist(), counts.tolist(), strict=True),
                           key=lambda kv: -kv[1]))

    def take(self, rows: np.ndarray) -> SentenceSet:
        rows = np.asarray(rows, dtype=np.int64)
        return SentenceSet(self.text[rows], self.lang[rows], self.group[rows], self.role[rows],
                           self.line[rows], self.source, self.name, self.set_name[rows],
                           origin=None if self.origin is None else self.origin[rows])


CONTEXT_SEPARATOR = "\x04"  # gettext's msgctxt/msgid separator inside a group key


def group_label(group) -> str:
    """A group key as people read it: gettext's "context\x04msgid" becomes
    "context | msgid" (the control character would show as a box)."""
    if group is None:
        return ""
    return str(group).replace(CONTEXT_SEPARATOR, " | ")


def concat_sets(sets: Sequence[SentenceSet], join: bool = True) -> SentenceSet:
    """One set with every row, ``set_name`` telling where each came from.

    ``join`` (default): translation groups join across files by their key (the source text
    of catalogues and memories, explicit meaning ids), and a sentence repeated in the same
    group and language (the English msgid of every catalogue) is kept once, in the first
    file that has it, so copies never compete. Readers give positional groups (line and row
    numbers) keys local to their file, so those never join by accident; and a file joins only
    when the groups it shares with the files before it agree (at least half of them hold a
    sentence both files have), so two unrelated tables numbered 1, 2, 3 stay apart.
    ``join=False`` keeps files apart: group ids are prefixed with the set name."""
    if len(sets) == 1 and (not join or not np.not_equal(sets[0].group, None).any()):
        return sets[0]  # nothing to join (1M rows: 0.5 s of Python loops saved)
    origin = np.concatenate([np.column_stack([np.full(len(s), i), np.arange(len(s))])
                             for i, s in enumerate(sets)]).astype(np.int64) if sets else \
        np.empty((0, 2), dtype=np.int64)
    cat = lambda attr: np.concatenate([getattr(s, attr) for s in sets])  # noqa: E731
    offsets = np.cumsum([0] + [len(s) for s in sets])
    relevance = {int(q + off): [int(p + off) for p in ps]
                 for s, off in zip(sets, offsets, strict=False) for q, ps in s.relevance.items()}
    notes: list[str] = []
    apart = [not join] * len(sets)
    if join:
        members: dict = {}  # group -> {(lang, text)} of the files before
        for n, s in enumerate(sets):
            mine: dict = {}
            for g, lang, t in zip(s.group, s.lang, s.text, strict=True):
                if g is not None:
                    mine.setdefault(g, set()).add((lang, t))
            shared = [g for g in mine if g in members]
            agree = sum(1 for g in shared if mine[g] & members[g])
            if shared and agree < len(shared) / 2:
                apart[n] = True
                notes.append(f"{s.name}: kept apart: its groups share ids with the files "
                             f"before it but not their sentences ({agree} of {len(shared)} "
                             "agree)")
                continue
            if shared:
                notes.append(f"{s.name}: joined {len(shared):,} translation groups with the "
                             "files before it")
            for g, members_here in mine.items():
                members.setdefault(g, set()).update(members_here)
    groups = np.concatenate([
        np.array([None if g is None else f"{s.name}:{g}" for g in s.group], dtype=object)
        if far else s.group
        for s, far in zip(sets, apart, strict=True)
    ]) if sets else np.empty(0, dtype=object)
    out = SentenceSet(cat("text"), cat("lang"), groups, cat("role"), cat("line"),
                      source=sets[0].source if len(sets) == 1 else "",
                      name=sets[0].name if len(sets) == 1 else "combined",
                      set_name=cat("set_name"), relevance=relevance, origin=origin,
                      notes=notes)
    if not join:
        return out
    seen: set = set()
    keep = np.ones(len(out), dtype=bool)
    for i, (g, lang, t) in enumerate(zip(out.group, out.lang, out.text, strict=True)):
        if g is None:
            continue
        key = (g, lang, t)
        if key in seen:
            keep[i] = False
        else:
            seen.add(key)
    if keep.all():
        return out
    rows = np.flatnonzero(keep)
    joined = out.take(rows)
    joined.source, joined.name, joined.notes = out.source, out.name, notes
    new_row = np.full(len(out), -1)
    new_row[rows] = np.arange(len(rows))
    joined.relevance = {int(new_row[q]): [int(new_row[p]) for p in ps if new_row[p] >= 0]
                        for q, ps in relevance.items() if new_row[q] >= 0}
    return joined
