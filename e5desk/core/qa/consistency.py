"""Consistency across a project's catalogues: one source (in one context) translated in
different ways, different sources given one translation, and near-identical sources (by
meaning) whose translations diverge."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from e5desk.core.qa.entries import Entry
from e5desk.core.qa.report import Finding
from e5desk.core.qa.rules import is_wordy

# Measured with benchmarks/qa_catalogues.py (multilingual-e5-small, query form on both
# sides) on the real-shaped catalogues: source pairs at or above SIMILAR_SOURCE are the same
# message worded slightly differently; their translations normally keep at least
# (source score - DIVERGE) of that similarity; a rewritten or wrong translation falls below.
SIMILAR_SOURCE = 95.0
DIVERGE = 8.0


def _norm(text: str) -> str:
    return " ".join(str(text).split())


def _loose(text: str) -> str:
    """Case, spacing and end punctuation do not make two sources different messages."""
    return re.sub(r"[\s.:!?…。！？：]+$", "", _norm(text).casefold())


def _where(e: Entry) -> str:
    from pathlib import Path

    return f"{Path(e.file).name}:{e.line}"


def _short(t: str, n: int = 50) -> str:
    t = _norm(t)
    return t if len(t) <= n else t[: n - 1] + "…"


def _abbreviates(a: str, b: str) -> bool:
    """"Jan." and "January", "Mon" and "Monday": one source shortens the other."""
    a, b = _loose(a).rstrip("."), _loose(b).rstrip(".")
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 2 and " " not in long_ and long_.startswith(short)


def language_of(entries: Sequence[Entry]) -> Callable[[str | None], str | None]:
    """Which target languages are one for consistency: a catalogue's "fr" and a memory's
    "fr-FR" are, when fr-FR is the only French region present; fr-CA beside fr-FR stay
    apart."""
    codes = {str(e.tgt_lang) for e in entries if e.tgt_lang}
    regions: dict[str, list[str]] = {}
    for code in codes:
        base = code.split("-")[0]
        if base != code:
            regions.setdefault(base, []).append(code)
    merged = {code[0]: base for base, code in regions.items()
              if len(code) == 1 and base in codes}
    return lambda lang: merged.get(str(lang), lang) if lang else lang


def same_source(entries: Sequence[Entry]) -> list[Finding]:
    """Entries whose source (and context) is translated another way elsewhere; the most
    common translation counts as the norm (on a tie every variant is listed)."""
    groups: dict = {}
    lang = language_of(entries)
    for e in entries:
        if e.translated and is_wordy(e.source):
            groups.setdefault((lang(e.tgt_lang), e.key), []).append(e)
    out = []
    for members in groups.values():
        variants = Counter(_norm(" | ".join(e.translations)) for e in members)
        if len(variants) < 2:
            continue
        (top, n_top), (_, n_next) = variants.most_common(2)
        for e in members:
            mine = _norm(" | ".join(e.translations))
            if mine == top and n_top > n_next:
                continue
            others = [x for x in members if _norm(" | ".join(x.translations)) != mine]
            listed = "; ".join(f"“{_short(x.target)}” ({_where(x)})" for x in others[:3])
            out.append(Finding("same-source", e, f"{len(variants)} translations of this "
                               f"source{' in this context' if e.context else ''}: also "
                               + listed + (f" and {len(others) - 3} more"
                                           if len(others) > 3 else "")))
    return out


def same_translation(entries: Sequence[Entry]) -> list[Finding]:
    """Entries sharing one translation with a different source (told apart by more than
    case and end punctuation), in the same language. Entries with a context are left out:
    the context already says why two messages may read alike."""
    groups: dict = {}
    lang = language_of(entries)
    for e in entries:
        if e.translated and not e.plurals and not e.context and is_wordy(e.target):
            groups.setdefault((lang(e.tgt_lang), _loose(e.target)), []).append(e)
    out = []
    for members in groups.values():
        sources = {_loose(e.source) for e in members}
        if len(sources) < 2:
            continue
        for e in members:
            others = [x for x in members if _loose(x.source) != _loose(e.source)
                      and not _abbreviates(x.source, e.source)]
            if not others:
                continue
            listed = "; ".join(f"“{_short(x.source)}” ({_where(x)})" for x in others[:3])
            out.append(Finding("same-translation", e, "the same translation as " + listed))
    return out


def similar_sources(entries: Sequence[Entry], encode: Callable[[list[str]], np.ndarray],
                    threshold: float = SIMILAR_SOURCE, diverge: float = DIVERGE,
                    max_sources: int = 50_000) -> list[Finding]:
    """Pairs of different sources at least ``threshold`` alike (cos x 100) whose
    translations (same language) are ``diverge`` points less alike than the sources."""
    usable = [e for e in entries if e.target and is_wordy(e.source) and is_wordy(e.target)]
    sources = sorted({e.source for e in usable})
    if len(sources) < 2 or len(sources) > max_sources:
        return []
    targets = sorted({e.target for e in usable})
    vec = encode(sources + targets)
    sv, tv = vec[: len(sources)], vec[len(sources):]
    s_pos = {t: i for i, t in enumerate(sources)}
    t_pos = {t: i for i, t in enumerate(targets)}
    by_source: dict = {}
    for e in usable:
        by_source.setdefault(e.source, []).append(e)
    out = []
    block = 2048
    for start in range(0, len(sources), block):
        sims = sv[start: start + block] @ sv.T * 100
        for r, c in zip(*np.nonzero(sims >= threshold), strict=True):
            a, b = start + int(r), int(c)
            if b <= a or _loose(sources[a]) == _loose(sources[b]) or \
                    _abbreviates(sources[a], sources[b]):
                continue
            s_score = float(sims[r, c])
            for ea in by_source[sources[a]]:
                for eb in by_source[sources[b]]:
                    if ea.tgt_lang != eb.tgt_lang or ea.context != eb.context or \
                            _loose(ea.target) == _loose(eb.target):
                        continue
                    t_score = float(tv[t_pos[ea.target]] @ tv[t_pos[eb.target]] * 100)
                    if t_score < s_score - diverge:
                        for x, y in ((ea, eb), (eb, ea)):
                            out.append(Finding(
                                "similar-source", x,
                                f"the source is nearly “{_short(y.source)}” ({_where(y)}, "
                                f"{s_score:.1f}) but the translations diverge ({t_score:.1f}):"
                                f" “{_short(y.target)}”", doubt=s_score - t_score,
                                score=t_score))
    del s_pos
    return out
