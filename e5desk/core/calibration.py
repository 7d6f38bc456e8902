"""Calibrated scores: where a raw score stands among the loaded set's own pairs.

E5 scores sit in a narrow high band (unrelated sentences often score 70-80), so a raw 84
says little by itself. A :class:`Calibration` holds two reference distributions for one
sentence set, one model and one prefix rule:

- **unrelated pairs**: ``pairs`` (20,000) random pairs of different rows that share no
  translation group and no text, seeded; each scored as the rule embeds them (the first
  row in the query role, the second in the passage role);
- **known translations**: every pair of rows in the same translation group and different
  languages (sampled down to ``pairs`` when there are more), when the set has groups; also
  kept per language pair, since distant languages score lower (en-ja translations sit
  several points below en-de ones): given the pair's languages, a score is compared with
  the translations between those two when there are at least 20.

``percentile(score)`` gives the share of each distribution that scores below ``score``
(ties count half), and ``phrase(score)`` says it in words ("higher than 98 % of unrelated
pairs; typical of a translation"). The query side is a seeded sample of at most
``sample_queries`` rows: with the symmetric rule its vectors are the set's own, with the
retrieval rule those rows are embedded once more in the query role. Built once per set,
model, rule and task and kept in :data:`CALIBRATIONS` (a small thread-safe cache), so a
view asks for it on every score without recomputing.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from e5desk.core.errors import E5DeskError
from e5desk.core.jobs import CancelCheck, Progress
from e5desk.core.prefix_rules import prefix_rule

__all__ = ["CALIBRATIONS", "TOOLTIP", "Calibration", "CalibrationCache", "build_calibration",
           "calibrate", "set_digest"]

PAIRS = 20_000
SAMPLE_QUERIES = 128  # rows embedded again in the query role (retrieval rule only)
MIN_PAIR_TRANSLATIONS = 20  # per language pair, else all known translations are the reference
SAMPLE_SYMMETRIC = 5_000  # query-side rows when both sides share the vectors (free)
TOOLTIP = ("Where the score stands among the loaded sentences' own pairs, under the same "
           "model and prefix rule: the share of {n:,} random unrelated pairs (different rows, "
           "no shared translation group) that score lower. 99 % means the pair scores higher "
           "than 99 of 100 unrelated pairs. E5 scores sit in a narrow high band, so this says "
           "more than the raw score.")
TOOLTIP_TRANSLATIONS = ("The share of the loaded set's known translations (same translation "
                        "group, different language) that score lower: around 50 % is a typical "
                        "translation, near 0 % lower than almost every real one.")


def _group_keys(groups: Sequence | None, n: int) -> np.ndarray:
    """Group ids as strings, '' for rows without a group."""
    if groups is None:
        return np.full(n, "", dtype=object)
    out = np.empty(n, dtype=object)
    for i, g in enumerate(groups):
        out[i] = "" if g is None or (isinstance(g, float) and g != g) or str(g) == "" \
            else str(g)
    return out


def _lang_keys(langs: Sequence | None, n: int) -> np.ndarray:
    if langs is None:
        return np.full(n, "", dtype=object)
    return np.array(["" if x is None else str(x) for x in langs], dtype=object)


@dataclass
class Calibration:
    """Sorted reference scores (cosine x 100) of one set under one rule."""

    rule: str
    unrelated: np.ndarray  # sorted float32
    translations: np.ndarray | None  # sorted float32, None without translation groups
    rows: int = 0
    # known translations per language pair (sorted codes): distant pairs score lower
    by_pair: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def _translations(self, langs: tuple[str, str] | None) -> np.ndarray | None:
        if langs is not None and all(langs):
            own = self.by_pair.get(tuple(sorted(str(x) for x in langs)))
            if own is not None and len(own) >= MIN_PAIR_TRANSLATIONS:
                return own
        return self.translations

    def _pct(self, ref: np.ndarray, scores: np.ndarray) -> np.ndarray:
        lo = np.searchsorted(ref, scores, side="left")
        hi = np.searchsorted(ref, scores, side="right")
        return (lo + hi) / 2 / len(ref) * 100

    def percentiles(self, scores, langs: tuple[str, str] | None = None
                    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Percent of unrelated pairs and of known translations scoring below each score.
        ``langs``: the pair's two languages, to compare with known translations between
        those two (when the set has at least 20 of them) rather than all."""
        s = np.asarray(scores, dtype=np.float64)
        unrelated = self._pct(self.unrelated, s) if len(self.unrelated) else np.full(
            s.shape, np.nan)
        trans, ref = None, self._translations(langs)
        if ref is not None and len(ref):
            trans = self._pct(ref, s)
        return unrelated, trans

    def percentile(self, score: float, langs: tuple[str, str] | None = None
                   ) -> tuple[float, float | None]:
        """(percent of unrelated pairs below ``score``, percent of translations below it or
        None when the set has no translation groups)."""
        u, t = self.percentiles([score], langs)
        return float(u[0]), (None if t is None else float(t[0]))

    def phrase(self, score: float, langs: tuple[str, str] | None = None) -> str:
        """The percentiles in plain words for people."""
        u, t = self.percentile(score, langs)
        if u != u:
            return "no unrelated pairs to compare with"
        n = len(self.unrelated)
        if u >= 99.95:
            words = f"higher than all {n:,} sampled unrelated pairs"
        elif u >= 50:
            words = f"higher than {int(u)} % of unrelated pairs"
        else:
            words = (f"no higher than a typical unrelated pair (higher than {int(u)} % of "
                     "them)")
        if t is not None:
            if t >= 25:
                words += "; typical of a translation"
            elif t >= 5:
                words += f"; low for a translation (lower than {100 - int(t)} % of them)"
            else:
                words += "; lower than almost every known translation"
        return words

    def summary(self) -> str:
        """The reference in one line: medians and sizes."""
        text = (f"{len(self.unrelated):,} unrelated pairs, median "
                f"{np.median(self.unrelated):.1f}") if len(self.unrelated) else "no pairs"
        if self.translations is not None and len(self.translations):
            text += (f"; {len(self.translations):,} known translations, median "
                     f"{np.median(self.translations):.1f}")
        return f"{text} (rule {self.rule}, {self.rows:,} sentences)"

    def tooltip(self) -> str:
        return TOOLTIP.format(n=len(self.unrelated)) + "\n" + self.summary()


def _scores(q: np.ndarray, p: np.ndarray, a: np.ndarray, b: np.ndarray,
            sort: bool = True) -> np.ndarray:
    out = np.empty(len(a), dtype=np.float32)
    for s in range(0, len(a), 8192):
        e = s + 8192
        out[s:e] = np.einsum("ij,ij->i", q[a[s:e]], p[b[s:e]]) * 100
    return np.sort(out) if sort else out


def build_calibration(query_vectors: np.ndarray, query_rows: Sequence[int],
                      passage_vectors: np.ndarray, rule: str,
                      groups: Sequence | None = None, langs: Sequence | None = None,
                      texts: Sequence[str] | None = None, pairs: int = PAIRS,
                      seed: int = 0) -> Calibration:
    """The reference distributions from vectors: ``query_vectors[i]`` is row
    ``query_rows[i]`` of the set embedded in the rule's query role, ``passage_vectors`` every
    row in its passage role."""
    n = len(passage_vectors)
    q_rows = np.asarray(query_rows, dtype=np.int64)
    m = len(q_rows)
    if n < 2 or m < 1:
        raise E5DeskError("calibration needs at least two sentences")
    g = _group_keys(groups, n)
    lang = _lang_keys(langs, n)
    txt = np.asarray(list(texts), dtype=object) if texts is not None else None
    rng = np.random.default_rng(seed)
    if m * n <= 2 * pairs:  # few rows: every pair
        a, b = np.divmod(np.arange(m * n), n)
    else:
        a, b = rng.integers(0, m, 3 * pairs), rng.integers(0, n, 3 * pairs)
    ra = q_rows[a]
    keep = ra != b
    keep &= ~((g[ra] == g[b]) & (g[ra] != ""))
    if txt is not None:
        keep &= txt[ra] != txt[b]
    a, b = a[keep][:pairs], b[keep][:pairs]
    unrelated = _scores(query_vectors, passage_vectors, a, b)
    translations, by_pair = None, {}
    if (g != "").any() and (lang != "").any():
        by_group: dict[str, list[int]] = {}
        for i in np.flatnonzero(g != ""):
            by_group.setdefault(g[i], []).append(int(i))
        ta, tb = [], []
        for i, row in enumerate(q_rows):
            if g[row] == "" or lang[row] == "":
                continue
            for other in by_group[g[row]]:
                if other != row and lang[other] not in ("", lang[row]):
                    ta.append(i)
                    tb.append(other)
        if ta:
            ta, tb = np.asarray(ta), np.asarray(tb)
            if len(ta) > pairs:
                pick = rng.choice(len(ta), pairs, replace=False)
                ta, tb = ta[pick], tb[pick]
            translations = _scores(query_vectors, passage_vectors, ta, tb, sort=False)
            pair_of = np.array(["\x1f".join(sorted((lang[q_rows[i]], lang[j])))
                                for i, j in zip(ta, tb, strict=True)], dtype=object)
            for key in np.unique(pair_of):
                by_pair[tuple(key.split("\x1f"))] = np.sort(translations[pair_of == key])
            translations = np.sort(translations)
    return Calibration(prefix_rule(rule).name, unrelated, translations, n, by_pair)


def set_digest(texts: Sequence[str], langs: Sequence | None = None,
               groups: Sequence | None = None) -> str:
    """A fingerprint of a sentence set's rows (text, language, group) for cache keys."""
    h = hashlib.blake2b(digest_size=16)
    for column in (texts, langs, groups):
        if column is not None:
            h.update("\x1f".join("" if x is None else str(x) for x in column).encode(
                "utf-8", "surrogatepass"))
        h.update(b"\x1e")
    return h.hexdigest()


class CalibrationCache:
    """The last few calibrations by key (model id, rule, task, set digest, ...);
    thread-safe, and one build per key even when two threads ask at once."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Calibration] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}
        self.builds = 0

    def get(self, key: tuple) -> Calibration | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def get_or_build(self, key: tuple, build) -> Calibration:
        item = self.get(key)
        if item is not None:
            return item
        with self._lock:
            lock = self._building.setdefault(key, threading.Lock())
        with lock:
            item = self.get(key)
            if item is None:
                item = build()
                with self._lock:
                    self._items[key] = item
                    self.builds += 1
                    while len(self._items) > self.size:
                        self._items.popitem(last=False)
            with self._lock:
                self._building.pop(key, None)
        return item

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CALIBRATIONS = CalibrationCache()


def calibrate(encoder, texts: Sequence[str], rule: str = "retrieval",
              langs: Sequence | None = None, groups: Sequence | None = None,
              passage_vectors: np.ndarray | None = None, task: str | None = None,
              pairs: int = PAIRS, sample_queries: int = SAMPLE_QUERIES, seed: int = 0,
              cache: CalibrationCache | None = CALIBRATIONS,
              progress: Progress | None = None,
              cancelled: CancelCheck | None = None) -> Calibration:
    """The calibration of a set of ``texts`` under ``rule``, from the cache when it was built
    before for the same rows, model, rule and task. ``passage_vectors``: the rows already
    embedded in the rule's passage role (embedded here when not given)."""
    q_role, p_role = prefix_rule(rule).query_role, prefix_rule(rule).passage_role
    texts = [str(t) for t in texts]
    key = (getattr(encoder, "model_id", id(encoder)), prefix_rule(rule).name, task,
           set_digest(texts, langs, groups), pairs, sample_queries, seed)

    def build() -> Calibration:
        p = passage_vectors
        if p is None:
            p = encoder.encode(texts, role=p_role, task=task, progress=progress,
                               cancelled=cancelled)
        if len(p) != len(texts):
            raise E5DeskError(f"calibration: {len(p)} vectors for {len(texts)} sentences")
        n = len(texts)
        same = q_role == p_role
        m = min(n, SAMPLE_SYMMETRIC if same else sample_queries)
        rows = np.sort(np.random.default_rng(seed).choice(n, m, replace=False))
        if same:
            q = p[rows]
        else:
            q = encoder.encode([texts[i] for i in rows], role=q_role, task=task,
                               cancelled=cancelled)
        return build_calibration(q, rows, p, rule, groups, langs, texts, pairs, seed)

    if cache is None:
        return build()
    return cache.get_or_build(key, build)


def calibrate_set(encoder, sentences, rule: str, vectors: np.ndarray,
                  task: str | None = None, cancelled: CancelCheck | None = None
                  ) -> Calibration | None:
    """The calibration of a loaded :class:`SentenceSet` whose rows are already embedded in
    the rule's passage role (``vectors``); None for fewer than two rows."""
    if sentences is None or vectors is None or len(sentences) < 2 \
            or len(vectors) != len(sentences):
        return None
    return calibrate(encoder, list(sentences.text), rule, list(sentences.lang),
                     list(sentences.group), passage_vectors=vectors, task=task,
                     cancelled=cancelled)


def share_below(calibration: Calibration | None, scores, translations: bool = False
                ) -> np.ndarray:
    """A table column: the share (0..1, NaN without a calibration) of unrelated pairs, or of
    known translations, that score below each score."""
    scores = np.asarray(scores, dtype=float)
    if calibration is None:
        return np.full(scores.shape, np.nan)
    unrelated, trans = calibration.percentiles(scores)
    column = trans if translations else unrelated
    return np.full(scores.shape, np.nan) if column is None else column / 100
