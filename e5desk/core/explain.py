"""Why this score: each word's share of a query–passage score, by occlusion.

Method (leave one word out): the score is cosine x 100 between the query and the passage,
each embedded in the role its prefix rule gives it (:mod:`e5desk.core.prefix_rules`). A
word's share is the score minus the score of the same pair with that one word deleted from
its side (the other side unchanged): positive = the word pushes the score up, negative = it
pulls it down. Every variant (the pair itself, one per deleted word, and each side left
empty) is embedded in ONE encode call, so an explanation costs one batch of
``len(query words) + len(passage words) + 4`` short texts.

The shares are measured, not modelled: deleting a word changes the score by exactly its
share. They need not add up to the score (words interact); ``query_baseline`` and
``passage_baseline`` are the scores with that side empty, and ``normalise=True`` rescales
each side's shares so they sum to ``score - baseline`` (only when the raw sum has the same
sign, so the ranking of words never flips).

Words: the text split at whitespace, exactly as given (punctuation stays on its word), with
unspaced scripts segmented further: Chinese and Japanese exactly as the word aligner
segments them (:func:`e5desk.core.align.segment`: every Han character a word, kana by runs
of one script, each CJK or full-width punctuation mark apart), so the pair view's two modes
show the same word boxes; and runs of Thai, Lao, Khmer and Myanmar letters are split into
the model's own SentencePiece pieces, a combining mark kept with its letter (when the
encoder can tokenise and the pieces spell the run exactly; else the run stays one word).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from e5desk.core.errors import E5DeskError
from e5desk.core.jobs import CancelCheck, Progress
from e5desk.core.prefix_rules import prefix_rule

__all__ = ["MAX_WORDS", "ScoreExplanation", "Word", "explain_pair", "segment", "without"]

MAX_WORDS = 300  # per side: each word costs one extra text in the encode call
METHOD = "occlusion"
METHOD_NORMALISED = "occlusion-normalised"


@dataclass(frozen=True)
class Word:
    text: str
    start: int  # character offsets into the text as given
    end: int


def _char_kind(ch: str) -> str:
    """'cjk' (one word per character), 'sea' (split by model pieces), 'space' or 'other'."""
    if ch.isspace():
        return "space"
    cp = ord(ch)
    if (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2FA1F
            or 0xF900 <= cp <= 0xFAFF or 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF
            or 0xFF00 <= cp <= 0xFF9F or 0x3001 <= cp <= 0x303F):
        return "cjk"  # Han, kana (+ extensions, half-width), CJK and full-width punctuation
    if 0x0E00 <= cp <= 0x0EFF or 0x1780 <= cp <= 0x17FF or 0x1000 <= cp <= 0x109F:
        return "sea"  # Thai, Lao, Khmer, Myanmar
    return "other"


def _pieces(run: str, tokenize: Callable[[str], list[str]] | None) -> list[str]:
    if tokenize is None:
        return [run]
    try:
        pieces = [p.replace("\u2581", "") for p in tokenize(run)]
    except Exception:  # noqa: BLE001 - segmentation must not fail on a tokenizer quirk
        return [run]
    merged: list[str] = []
    for p in pieces:  # a piece that starts with a combining mark stays with its letter
        if merged and p and unicodedata.category(p[0]).startswith("M"):
            merged[-1] += p
        elif p:
            merged.append(p)
    pieces = merged
    return pieces if "".join(pieces) == run else [run]


def segment(text: str, tokenize: Callable[[str], list[str]] | None = None) -> list[Word]:
    """The words of ``text`` with their character offsets (see the module docstring)."""
    words: list[Word] = []
    i, n = 0, len(text)
    while i < n:
        kind = _char_kind(text[i])
        if kind == "space":
            i += 1
            continue
        j = i + 1
        while j < n and _char_kind(text[j]) == kind:
            j += 1
        if kind == "cjk":  # the aligner's words: one segmentation for both modes
            from e5desk.core.align import segment as align_segment

            words += [Word(text[i + a:i + b], i + a, i + b)
                      for a, b in align_segment(text[i:j])[0]]
        elif kind == "sea":
            # combining marks belong to the run already (same Unicode block)
            pos = i
            for piece in _pieces(text[i:j], tokenize):
                words.append(Word(piece, pos, pos + len(piece)))
                pos += len(piece)
        else:
            words.append(Word(text[i:j], i, j))
        i = j
    return words


def without(text: str, words: list[Word], drop: set[int] | frozenset[int]) -> str:
    """``text`` with the words at indices ``drop`` deleted. The whitespace around a deleted
    word collapses to one gap; the rest of the text is kept exactly (outer spaces stripped)."""
    out: list[str] = []
    gap: str | None = None
    prev = 0
    for i, w in enumerate(words):
        before = text[prev:w.start]
        gap = before if gap is None else (gap or before)
        if i not in drop:
            out.append(gap)
            out.append(text[w.start:w.end])
            gap = None
        prev = w.end
    return "".join(out).strip()


@dataclass
class ScoreExplanation:
    """Each word's share of one pair's score, in score points (cosine x 100).

    ``query_shares[i]``: score minus the score with query word i deleted (+ pushes the score
    up, - pulls it down); likewise ``passage_shares``. ``query_baseline`` /
    ``passage_baseline``: the score with the query / the passage left empty.
    """

    query_words: list[str]
    passage_words: list[str]
    query_shares: list[float]
    passage_shares: list[float]
    score: float
    rule: str
    method: str
    query_baseline: float = 0.0
    passage_baseline: float = 0.0
    query_spans: list[tuple[int, int]] = field(default_factory=list)
    passage_spans: list[tuple[int, int]] = field(default_factory=list)

    def top(self, side: str = "passage", n: int = 2) -> list[int]:
        """Indices of the ``n`` words of ``side`` that push the score up most."""
        shares = np.asarray(self.passage_shares if side == "passage" else self.query_shares)
        return [int(i) for i in np.argsort(-shares, kind="stable")[:n]]

    def to_dict(self) -> dict:
        """JSON-ready: words with their shares, rounded to 0.01 score points."""
        d = asdict(self)
        for key in ("query_shares", "passage_shares"):
            d[key] = [round(float(x), 3) for x in d[key]]
        for key in ("score", "query_baseline", "passage_baseline"):
            d[key] = round(float(d[key]), 3)
        d["query_spans"] = [list(s) for s in self.query_spans]
        d["passage_spans"] = [list(s) for s in self.passage_spans]
        return d


def _normalised(shares: np.ndarray, target: float) -> np.ndarray:
    total = float(shares.sum())
    if abs(total) < 1e-6 or total * target <= 0:
        return shares  # a rescale would flip or blow up the shares: keep them raw
    return shares * (target / total)


def explain_pair(encoder, query: str, passage: str, rule: str = "retrieval",
                 task: str | None = None, normalise: bool = False,
                 progress: Progress | None = None,
                 cancelled: CancelCheck | None = None) -> ScoreExplanation:
    """Each word's share of ``query``–``passage``'s score under prefix ``rule``.

    ``encoder``: an :class:`~e5desk.core.encoder.Encoder` (or anything with ``format`` and
    ``encode_inputs``, such as the window's EncoderProcess). One encode call in all.
    """
    rule = prefix_rule(rule).name
    query, passage = (query or "").strip(), (passage or "").strip()
    if not query or not passage:
        raise E5DeskError("explain needs a query and a passage (both non-empty)")
    q_role, p_role = prefix_rule(rule).query_role, prefix_rule(rule).passage_role
    tokenize = getattr(encoder, "tokenize", None)
    q_words, p_words = segment(query, tokenize), segment(passage, tokenize)
    for side, words in (("query", q_words), ("passage", p_words)):
        if not words:
            raise E5DeskError(f"the {side} has no words to explain")
        if len(words) > MAX_WORDS:
            raise E5DeskError(f"the {side} has {len(words):,} words: explain takes at most "
                              f"{MAX_WORDS} per side (each word is embedded once more); "
                              "shorten it")
    q_texts = [query, ""] + [without(query, q_words, {i}) for i in range(len(q_words))]
    p_texts = [passage, ""] + [without(passage, p_words, {i}) for i in range(len(p_words))]
    inputs = encoder.format(q_texts, q_role, task) + encoder.format(p_texts, p_role, task)
    vectors = np.asarray(encoder.encode_inputs(inputs, progress=progress,
                                                 cancelled=cancelled).vectors, dtype=np.float64)
    q_vecs, p_vecs = vectors[: len(q_texts)], vectors[len(q_texts):]
    q, p = q_vecs[0], p_vecs[0]
    score = float(q @ p) * 100
    query_baseline = float(q_vecs[1] @ p) * 100
    passage_baseline = float(q @ p_vecs[1]) * 100
    q_shares = score - (q_vecs[2:] @ p) * 100
    p_shares = score - (p_vecs[2:] @ q) * 100
    if normalise:
        q_shares = _normalised(q_shares, score - query_baseline)
        p_shares = _normalised(p_shares, score - passage_baseline)
    return ScoreExplanation(
        [w.text for w in q_words], [w.text for w in p_words],
        [float(x) for x in q_shares], [float(x) for x in p_shares], score, rule,
        METHOD_NORMALISED if normalise else METHOD, query_baseline, passage_baseline,
        [(w.start, w.end) for w in q_words], [(w.start, w.end) for w in p_words])
