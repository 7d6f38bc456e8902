"""The pair view's state, Qt-free: two texts, their prefix rule, the word alignment, the
score explanation and the calibrated band, which word is hovered and which are its partners,
and the colours, tooltips and labels the widget draws.

Two modes show the same pair:
- ``links``: the words as the aligner segments them; linked words share a colour (one per
  group of linked words), hovering one lights up its partner(s); words with no partner are
  marked (content words with a red dashed border: for a translation "missing in translation"
  on the source side, "added" on the translation side).
- ``shares``: the words as the explanation segments them, each coloured by its share of the
  score (warm = pushes the score up, cool = pulls it down), the share in the tooltip.

Sides: 0 is the source (or query), 1 the translation (or passage).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from e5desk.core.align import is_content_word

MODES = {"links": "Word links", "shares": "Why this score"}
KINDS = {  # kind -> (side labels, what a word with no partner is on each side)
    "translation": (("Source", "Translation"),
                    ("missing in translation", "added in translation")),
    "query": (("Query", "Passage"),
              ("no partner in the passage", "no partner in the query")),
    "pair": (("First text", "Second text"),
             ("no partner in the second text", "no partner in the first text")),
}
# Light colours for groups of linked words (dark text stays readable on each), told apart
# by hue; the unaligned colour is a neutral grey so it never reads as a link.
LINK_COLOURS = [
    (166, 206, 227), (178, 223, 138), (253, 191, 111), (202, 178, 214), (255, 237, 111),
    (141, 211, 199), (251, 154, 153), (222, 203, 164), (246, 170, 220),
]
UNALIGNED_COLOUR = (236, 236, 236)
NEUTRAL = (250, 250, 250)
WARM = (230, 85, 13)  # pushes the score up
COOL = (49, 130, 189)  # pulls the score down


@dataclass
class PairRequest:
    """What to show: two texts and how they are compared."""

    left: str
    right: str
    rule: str = "symmetric"
    kind: str = "translation"  # a key of KINDS
    task: str | None = None
    left_lang: str = ""
    right_lang: str = ""
    origin: str = ""  # where it was opened from, for the title


@dataclass
class PairResult:
    """What the background job computed (any part may be missing, with a note why)."""

    alignment: object | None = None  # core.align.WordAlignment
    explanation: object | None = None  # core.explain.ScoreExplanation
    score: float | None = None
    band: str | None = None  # calibrated phrase, e.g. "higher than 98 % of unrelated pairs"
    band_tip: str = ""
    notes: list[str] = field(default_factory=list)


def _iso(word: str) -> str:
    """``word`` between left-to-right marks: in a left-to-right line, the quotes around an
    Arabic or Hebrew word stay where they are (Qt's tooltips do not honour bidi isolates)."""
    return f"\u200e{word}\u200e"


def text_direction(text: str) -> str:
    """'rtl' when the first strong character is right-to-left (Arabic, Hebrew), else 'ltr'."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def flow(widths: Sequence[float], width: float, height: float, gap: float = 6,
         line_gap: float = 6, rtl: bool = False) -> tuple[list[tuple[float, float]], float]:
    """Wrap boxes of ``widths`` into lines of at most ``width``: the top-left (x, y) of each
    box and the total height. Right-to-left: the first box at the right edge. A box wider
    than the line gets a line of its own."""
    out, x, y = [], 0.0, 0.0
    for w in widths:
        if x > 0 and x + w > width:
            x, y = 0.0, y + height + line_gap
        out.append((width - x - w if rtl else x, y))
        x += w + gap
    return out, (y + height if widths else 0.0)


def share_colour(share: float, scale: float) -> tuple[int, int, int]:
    """Warm for a positive share, cool for a negative one, paler the smaller |share| is
    against ``scale`` (the largest |share| shown)."""
    if scale <= 0 or share != share:
        return NEUTRAL
    t = min(1.0, abs(share) / scale) * 0.85
    target = WARM if share > 0 else COOL
    return tuple(round(n + (c - n) * t) for n, c in zip(NEUTRAL, target, strict=True))


def _components(links: Sequence[tuple[int, int, float]]) -> tuple[dict[int, int], dict[int, int]]:
    """A group number per linked source and target word (connected linked words share one),
    numbered in the order of the source words."""
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for i, j, _ in links:
        parent[find((0, i))] = find((1, j))
    roots: dict[tuple[int, int], int] = {}
    src, tgt = {}, {}
    for i, _, _ in sorted(links):
        src[i] = roots.setdefault(find((0, i)), len(roots))
    for _, j, _ in links:
        tgt[j] = roots.setdefault(find((1, j)), len(roots))
    return src, tgt


class PairState:
    """Everything the pair view shows, without Qt."""

    def __init__(self) -> None:
        self.request: PairRequest | None = None
        self.result: PairResult | None = None
        self.busy = False
        self.error = ""
        self.mode = "links"
        self.hovered: tuple[int, int] | None = None
        self._groups: tuple[dict[int, int], dict[int, int]] = ({}, {})

    # -- input ----------------------------------------------------------------------------
    def start(self, request: PairRequest) -> None:
        self.request, self.result, self.busy, self.error = request, None, True, ""
        self.hovered = None
        self._groups = ({}, {})

    def finish(self, result: PairResult) -> None:
        self.result, self.busy, self.error = result, False, ""
        self.hovered = None
        links = result.alignment.links if result.alignment is not None else []
        self._groups = _components(links)

    def fail(self, message: str) -> None:
        self.busy, self.error = False, message

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown pair view mode {mode!r}")
        self.mode, self.hovered = mode, None

    # -- words ----------------------------------------------------------------------------
    @property
    def alignment(self):
        return self.result.alignment if self.result else None

    @property
    def explanation(self):
        return self.result.explanation if self.result else None

    def words(self, side: int) -> list[str]:
        if self.mode == "shares":
            e = self.explanation
            return [] if e is None else list(e.passage_words if side else e.query_words)
        a = self.alignment
        return [] if a is None else list(a.tgt_words if side else a.src_words)

    def shares(self, side: int) -> list[float]:
        e = self.explanation
        return [] if e is None else list(e.passage_shares if side else e.query_shares)

    def direction(self, side: int) -> str:
        r = self.request
        return "ltr" if r is None else text_direction(r.right if side else r.left)

    def side_label(self, side: int) -> str:
        r = self.request
        if r is None:
            return ""
        label = KINDS.get(r.kind, KINDS["pair"])[0][side]
        lang = r.right_lang if side else r.left_lang
        return f"{label} ({lang})" if lang else label

    def partners(self, side: int, index: int) -> list[tuple[int, float]]:
        """The other side's words linked to word ``index`` of ``side``, with link scores,
        best first (links mode only)."""
        a = self.alignment
        if a is None or self.mode != "links":
            return []
        found = [(j, s) for i, j, s in a.links if i == index] if side == 0 else \
            [(i, s) for i, j, s in a.links if j == index]
        return sorted(found, key=lambda p: -p[1])

    def unaligned(self, side: int, index: int) -> bool:
        a = self.alignment
        if a is None or self.mode != "links":
            return False
        return index in (a.unaligned_tgt if side else a.unaligned_src)

    def marked(self, side: int, index: int) -> bool:
        """A content word with no partner: what the view outlines in red."""
        words = self.words(side)
        return self.unaligned(side, index) and 0 <= index < len(words) \
            and is_content_word(words[index])

    # -- hover ----------------------------------------------------------------------------
    def hover(self, side: int | None, index: int | None = None) -> None:
        self.hovered = None if side is None or index is None else (side, index)

    def lit(self, side: int) -> set[int]:
        """Words of ``side`` lit up: the hovered word and its partners."""
        if self.hovered is None:
            return set()
        h_side, h_index = self.hovered
        if side == h_side:
            return {h_index}
        return {j for j, _ in self.partners(h_side, h_index)}

    # -- colours and text -----------------------------------------------------------------
    def share_scale(self) -> float:
        values = [abs(x) for side in (0, 1) for x in self.shares(side)]
        return max(values, default=0.0)

    def colour(self, side: int, index: int) -> tuple[int, int, int]:
        if self.mode == "shares":
            shares = self.shares(side)
            return share_colour(shares[index], self.share_scale()) \
                if 0 <= index < len(shares) else NEUTRAL
        group = self._groups[side].get(index)
        if group is None:
            return UNALIGNED_COLOUR
        return LINK_COLOURS[group % len(LINK_COLOURS)]

    def unaligned_phrase(self, side: int) -> str:
        kind = self.request.kind if self.request else "pair"
        return KINDS.get(kind, KINDS["pair"])[1][side]

    def tooltip(self, side: int, index: int) -> str:
        words = self.words(side)
        if not 0 <= index < len(words):
            return ""
        word = words[index]
        if self.mode == "shares":
            shares = self.shares(side)
            e = self.explanation
            share = shares[index]
            verb = "pushes the score up" if share > 0 else "pulls the score down" \
                if share < 0 else "does not move the score"
            return (f"\u200e“{_iso(word)}”: share {share:+.2f} points — {verb}\n(score "
                    f"{e.score:.2f}; "
                    f"without this word {e.score - share:.2f})")
        partners = self.partners(side, index)
        if not partners:
            what = self.unaligned_phrase(side) if self.marked(side, index) else \
                "no partner (a function word or punctuation)"
            return f"\u200e“{_iso(word)}”: {what}"
        other = self.words(1 - side)
        # each line left to right, each word marked: an Arabic or Hebrew word never
        # reorders the line around it
        lines = [f"\u200e“{_iso(word)}” ↔ “{_iso(other[j])}”  link score {s:.2f}"
                 for j, s in partners]
        return "\n".join(lines) + "\n(link score 0–1: how clearly the two words pick each other)"

    def headline(self) -> str:
        if self.request is None:
            return "Open a pair from the Scores or Translations tab (the Why? buttons)."
        if self.busy:
            return "Aligning the words and explaining the score…"
        if self.error:
            return f"Could not explain this pair: {self.error}"
        r = self.result
        if r is None or r.score is None:
            return ""
        text = f"Score {r.score:.2f} (cosine {r.score / 100:.4f}, rule {self.request.rule})"
        if r.band:
            text += f" — {r.band}"
        return text

    def unaligned_words(self, side: int) -> list[str]:
        a = self.alignment
        if a is None:
            return []
        words = a.tgt_words if side else a.src_words
        return [words[i] for i in (a.unaligned_tgt if side else a.unaligned_src)
                if is_content_word(words[i])]

    def summary(self) -> str:
        """The words without a partner, in one line per side (empty when all are linked)."""
        if self.alignment is None:
            return ""
        parts = []
        for side in (0, 1):
            words = self.unaligned_words(side)
            if words:
                phrase = self.unaligned_phrase(side)
                parts.append(f"{phrase[0].upper()}{phrase[1:]}: {', '.join(words)}")
        return "  ·  ".join(parts) or "Every content word has a partner."

    def legend(self) -> str:
        if self.mode == "shares":
            return ("Warm: the word pushes the score up; cool: it pulls it down (the score "
                    "minus the score without the word; hover for the points).")
        return ("Linked words share a colour (hover: partners and link score); grey: no "
                "partner; red dashed: a content word with no partner.")


# -- requests from result tables (Qt-free: headers and columns only) ------------------------
def _column(headers: Sequence[str], start: str) -> int | None:
    return next((k for k, h in enumerate(headers) if str(h).startswith(start)), None)


def _lang_of(header: str) -> str:
    return header[header.find("(") + 1: header.rfind(")")] if "(" in header else ""


def suspect_request(headers: Sequence[str], columns: Sequence[Sequence],
                    row: int) -> PairRequest | None:
    """The pair of one row of the suspect table (columns "source (xx)", "translation (yy)")."""
    s, t = _column(headers, "source"), _column(headers, "translation")
    if s is None or t is None or not 0 <= row < len(columns[s]):
        return None
    return PairRequest(str(columns[s][row]), str(columns[t][row]), "symmetric", "translation",
                       None, _lang_of(headers[s]), _lang_of(headers[t]), "suspect table")


def learner_request(sentence: str, headers: Sequence[str], columns: Sequence[Sequence],
                    row: int) -> PairRequest | None:
    """The typed sentence and one candidate row of the learner view (None on a note row)."""
    s, lang, rank = _column(headers, "sentence"), _column(headers, "lang"), \
        _column(headers, "rank")
    if s is None or not sentence.strip() or not 0 <= row < len(columns[s]):
        return None
    if rank is not None and columns[rank][row] is None:
        return None  # "no close translation" note rows
    return PairRequest(sentence.strip(), str(columns[s][row]), "symmetric", "translation",
                       None, "", str(columns[lang][row]) if lang is not None else "",
                       "learner view")


def rows_request(texts: Sequence[str], langs: Sequence[str], groups: Sequence,
                 rows: Sequence[int]) -> PairRequest | None:
    """Two sentences of the loaded set (two points selected on the map), the first row
    first: a translation pair when they share a translation group in two languages, else
    two texts compared with the symmetric rule. None unless exactly two rows."""
    if len(rows) != 2:
        return None
    a, b = (int(r) for r in rows)
    if not (0 <= a < len(texts) and 0 <= b < len(texts)) or a == b:
        return None
    same = groups[a] is not None and groups[a] == groups[b] and langs[a] != langs[b]
    return PairRequest(str(texts[a]), str(texts[b]), "symmetric",
                       "translation" if same else "pair", None, str(langs[a]),
                       str(langs[b]), "map")
