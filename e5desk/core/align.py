"""Word alignment from the loaded E5 model's contextual token vectors (SimAlign /
awesome-align line of work), one implementation for the CLI, the window, the API and the
service. Qt-free.

How a pair is aligned:
1. Words. A side given as a list of words is kept exactly as given (pre-tokenised input:
   the output indexes those words). A side given as a string is segmented: whitespace
   separates words, each punctuation mark is a word of its own, and runs of scripts written
   without spaces are split further: Han characters one per word (the unit Chinese and
   Japanese gold alignments most often use for unknown segmentation), kana by runs of one
   script (コーヒー, ます), and Thai, Lao, Khmer, Myanmar and Tibetan by the model's own
   subword pieces.
2. The model reads the words with one space between every two, also for Japanese and
   Chinese, given as words or segmented from a string (measured at layer 8: en-ja AER 0.23
   against 0.30, en-zh 0.11 against 0.19 when the same words were read without spaces).
3. The hidden states of every subword piece (by default the mean of layers 3-6, else the
   layer asked for); a word's vector is the mean of its pieces' vectors; cosine similarity
   between every source and target word.
4. Links from the similarity matrix by the method (``METHODS``); each link's score is the
   geometric mean of the two directional softmax probabilities (temperature ``TEMPERATURE``),
   0..1: how clearly the two words pick each other.

The default method and layer were chosen by alignment error rate on hand-made gold
alignments (benchmarks/align_aer.py, README "Word alignment").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from e5desk.core.errors import E5DeskError
from e5desk.core.jobs import CancelCheck, Progress

METHODS = {
    "argmax": "mutual argmax: a link where two words are each other's most similar word",
    "itermax": "mutual argmax, then again among words still without a link (SimAlign)",
    "match": "one-to-one maximum-weight matching, links with a clear probability kept",
    "softmax": "both directional softmax probabilities over a threshold (awesome-align)",
}
DEFAULT_METHOD = "softmax"
# layer=None: the mean of the hidden states after transformer layers 3-6 (0 = embeddings)
DEFAULT_LAYERS = (3, 4, 5, 6)
DEFAULT_LAYER = 6  # the one layer closest to that choice, where a single number is shown
TEMPERATURE = 0.1  # softmax temperature over cosines, for link scores and "softmax"
THRESHOLD = 0.3  # "softmax" and "match": both directions must give at least this
ROLE = "raw"  # the model reads the words without a prefix (measured: see README)

Side = str | Sequence[str]


@dataclass
class WordAlignment:
    """Links between the words of one source and one target text (0-based indexes)."""

    src_words: list[str]
    tgt_words: list[str]
    links: list[tuple[int, int, float]] = field(default_factory=list)  # (i, j, score 0..1)
    unaligned_src: list[int] = field(default_factory=list)
    unaligned_tgt: list[int] = field(default_factory=list)

    def pharaoh(self) -> str:
        """Links as Pharaoh text: ``"0-0 1-2 ..."`` (empty for no link)."""
        return " ".join(f"{i}-{j}" for i, j, _ in self.links)

    def to_dict(self) -> dict:
        return {"src_words": self.src_words, "tgt_words": self.tgt_words,
                "links": [[i, j, round(float(s), 4)] for i, j, s in self.links],
                "unaligned_src": self.unaligned_src, "unaligned_tgt": self.unaligned_tgt}


# -- words -------------------------------------------------------------------------------
_HAN = r"\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b\u3400-\u4dbf\u4e00-\u9fff" \
       r"\uf900-\ufaff\U00020000-\U0003134f"
_HIRAGANA = r"\u3041-\u309f"
_KATAKANA = r"\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_PIECED = r"\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u0f00-\u0fff"  # Thai Lao Myanmar Khmer Tibetan
_UNSPACED = _HAN + _HIRAGANA + _KATAKANA + _PIECED
_UNSPACED_RE = re.compile(f"[{_UNSPACED}]")
_SPACED_LETTER = f"[^\\W_{_UNSPACED}]"  # a letter or digit of a spaced script
_RAW_WORD = re.compile(  # (a Latin word never runs on into the kana or Han after it)
    f"[{_HAN}]|[{_HIRAGANA}]+|[{_KATAKANA}]+|(?P<pieced>[{_PIECED}]+)"
    f"|{_SPACED_LETTER}+(?:['’\\-.]{_SPACED_LETTER}+)*{_SPACED_LETTER}*|\\S")


def _is_unspaced(ch: str) -> bool:
    return bool(_UNSPACED_RE.match(ch))


def segment(text: str) -> tuple[list[tuple[int, int]], list[bool]]:
    """Word spans of raw ``text`` and, per span, whether the model's pieces split it
    further (Thai, Lao, Khmer, Myanmar, Tibetan runs). Combining marks stay on their word."""
    spans, pieced = [], []
    for m in _RAW_WORD.finditer(text):
        a, b = m.span()
        if spans and unicodedata.category(text[a])[0] == "M" and spans[-1][1] == a:
            spans[-1] = (spans[-1][0], b)  # a mark the pattern left alone joins its word
            continue
        spans.append((a, b))
        pieced.append(m.group("pieced") is not None)
    return spans, pieced


def _join(words: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """The text the model reads for pre-tokenised words, and each word's span in it."""
    text, spans = "", []
    for w in words:
        text += " " if text else ""
        spans.append((len(text), len(text) + len(w)))
        text += w
    return text, spans


def _words_of(side: Side, where: str, spaced: bool = True
              ) -> tuple[str, list[tuple[int, int]], list[bool] | None]:
    if isinstance(side, str):
        if not side.strip():
            raise E5DeskError(f"{where}: the text is empty")
        spans, pieced = segment(side)
        if spaced:  # read like pre-tokenised words (measured better for CJK, see above)
            side, spans = _join([side[a:b] for a, b in spans])
        return side, spans, pieced
    words = [str(w) for w in side]
    if not words:
        raise E5DeskError(f"{where}: no words")
    bad = [w for w in words if not w or any(c.isspace() for c in w)]
    if bad:
        raise E5DeskError(f"{where}: a word is empty or holds a space: {bad[0]!r}")
    text, spans = _join(words)
    return text, spans, None


def _piece_words(text: str, spans: list[tuple[int, int]], pieced: list[bool] | None,
                 pieces: list[str], offsets: np.ndarray
                 ) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Split pieced spans at piece boundaries; the (n_words, n_pieces) mean matrix."""
    keep = [k for k, p in enumerate(pieces) if p.strip("▁ ")]
    cut = []  # (start, end) of each piece's visible characters
    for k in keep:
        a, b = int(offsets[k][0]), int(offsets[k][1])
        while a < b and text[a].isspace():
            a += 1
        cut.append((a, b))
    if pieced and any(pieced):
        out = []
        for (a, b), split in zip(spans, pieced, strict=True):
            if not split:
                out.append((a, b))
                continue
            inner = sorted({max(a, s) for s, e in cut if s < b and e > a} | {a})
            inner = [x for x in inner  # never cut before a combining mark
                     if x == a or unicodedata.category(text[x])[0] != "M"]
            out += [(s, e) for s, e in zip(inner, [*inner[1:], b], strict=True) if e > s]
        spans = out
    weights = np.zeros((len(spans), len(pieces)), dtype=np.float32)
    starts = np.array([s for s, _ in spans]) if spans else np.zeros(0)
    ends = np.array([e for _, e in spans]) if spans else np.zeros(0)
    for k, (a, b) in zip(keep, cut, strict=True):
        if b <= a:
            continue
        weights[(starts < b) & (ends > a), k] = 1.0
    sums = weights.sum(1, keepdims=True)
    return spans, np.divide(weights, sums, out=np.zeros_like(weights), where=sums > 0)


# -- links from a similarity matrix ----------------------------------------------------------
def _softmaxes(sim: np.ndarray, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    z = sim / temperature
    fwd = np.exp(z - z.max(1, keepdims=True))
    fwd /= fwd.sum(1, keepdims=True)
    bwd = np.exp(z - z.max(0, keepdims=True))
    bwd /= bwd.sum(0, keepdims=True)
    return fwd, bwd


def _mutual_argmax(sim: np.ndarray) -> np.ndarray:
    out = np.zeros(sim.shape, dtype=bool)
    rows = sim.argmax(1)
    cols = sim.argmax(0)
    mutual = cols[rows] == np.arange(sim.shape[0])
    out[np.flatnonzero(mutual), rows[mutual]] = True
    return out


def _itermax(sim: np.ndarray, rounds: int = 2, damp: float = 0.9) -> np.ndarray:
    """Mutual argmax; then, among words not yet linked on at least one side, mutual argmax
    again with the similarity of half-linked cells damped (SimAlign's Itermax idea)."""
    links = _mutual_argmax(sim)
    if min(sim.shape) <= 2:
        return links
    for _ in range(rounds - 1):
        free_r = ~links.any(1)
        free_c = ~links.any(0)
        if not free_r.any() or not free_c.any():
            break
        open_ = free_r[:, None] | free_c[None, :]
        weight = np.where(free_r[:, None] & free_c[None, :], 1.0, damp)
        extra = _mutual_argmax(np.where(open_, sim * weight, -np.inf)) & open_
        if not (extra & ~links).any():
            break
        links |= extra
    return links


def _match(sim: np.ndarray, fwd: np.ndarray, bwd: np.ndarray, threshold: float) -> np.ndarray:
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(-sim)
    out = np.zeros(sim.shape, dtype=bool)
    out[rows, cols] = True
    return out & (np.maximum(fwd, bwd) >= threshold)


def links_from_similarity(sim: np.ndarray, method: str = DEFAULT_METHOD,
                          temperature: float = TEMPERATURE,
                          threshold: float = THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """(bool link matrix, score matrix 0..1) for a (source words x target words) cosine
    similarity matrix."""
    if method not in METHODS:
        raise E5DeskError(f"unknown alignment method {method!r}: expected one of "
                          f"{', '.join(METHODS)}")
    fwd, bwd = _softmaxes(sim, temperature)
    score = np.sqrt(fwd * bwd)
    if method == "argmax":
        links = _mutual_argmax(sim)
    elif method == "itermax":
        links = _itermax(sim)
    elif method == "match":
        links = _match(sim, fwd, bwd, threshold)
    else:
        links = (fwd >= threshold) & (bwd >= threshold)
    return links, score


# -- pairs -------------------------------------------------------------------------------------
@dataclass
class _Prepared:
    text: str
    spans: list[tuple[int, int]]
    pieced: list[bool] | None


def prepare(pairs: Sequence[tuple[Side, Side]], spaced: bool = True
            ) -> list[tuple[_Prepared, _Prepared]]:
    """Words and model text of each side (errors name the pair, 1-based). ``spaced``: a
    raw string is read with a space between its segmented words (else as given)."""
    out = []
    for n, pair in enumerate(pairs, 1):
        try:
            src, tgt = pair
        except (TypeError, ValueError):
            raise E5DeskError(f"pair {n}: expected (source, target)") from None
        out.append((_Prepared(*_words_of(src, f"pair {n}, source", spaced)),
                    _Prepared(*_words_of(tgt, f"pair {n}, target", spaced))))
    return out


def word_vectors(side: _Prepared, states) -> tuple[list[str], np.ndarray]:
    """(words, (n_words, dim) unit vectors; a word without pieces gets a zero row)."""
    spans, weights = _piece_words(side.text, side.spans, side.pieced, states.pieces,
                                  states.offsets)
    vectors = weights @ states.states.mean(0)  # the mean of the layers computed
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return [side.text[a:b] for a, b in spans], vectors


def align_vectors(src_words: list[str], tgt_words: list[str], src: np.ndarray, tgt: np.ndarray,
                  method: str = DEFAULT_METHOD, **knobs) -> WordAlignment:
    """Align two sides from their word vectors (unit rows; zero rows never link)."""
    result = WordAlignment(list(src_words), list(tgt_words))
    if len(src) and len(tgt):
        sim = src @ tgt.T
        dead = ~(np.abs(src).sum(1) > 0)[:, None] | ~(np.abs(tgt).sum(1) > 0)[None, :]
        sim[dead] = -1.0
        links, score = links_from_similarity(sim, method, **knobs)
        links &= ~dead
        result.links = [(int(i), int(j), float(score[i, j])) for i, j in np.argwhere(links)]
    linked_src = {i for i, _, _ in result.links}
    linked_tgt = {j for _, j, _ in result.links}
    result.unaligned_src = [i for i in range(len(src_words)) if i not in linked_src]
    result.unaligned_tgt = [j for j in range(len(tgt_words)) if j not in linked_tgt]
    return result


def default_layers(encoder) -> tuple[int, ...]:
    """DEFAULT_LAYERS (measured on the 12-layer multilingual-e5-small), scaled to a model of
    another depth by the same share of its layers (a 24-layer model: 6-12; a 2-layer one:
    1), so the default works for every model the encoder loads."""
    depth = int(getattr(getattr(encoder, "source", None), "layers", 0) or 12)
    if depth == 12:
        return DEFAULT_LAYERS
    low = max(1, round(DEFAULT_LAYERS[0] * depth / 12))
    high = max(low, min(depth, round(DEFAULT_LAYERS[-1] * depth / 12)))
    return tuple(range(low, high + 1))


def align_pairs(encoder, pairs: Sequence[tuple[Side, Side]], *, method: str = DEFAULT_METHOD,
                layer: int | None = None, progress: Progress | None = None,
                cancelled: CancelCheck | None = None) -> list[WordAlignment]:
    """Align the words of each (source, target) pair with ``encoder``'s token vectors.

    A side is a list of words (kept exactly as given) or a string (segmented, see the
    module's docstring). ``encoder``: an Encoder or EncoderProcess (anything with
    ``token_states``). ``layer``: None for the measured default (the mean of layers 3-6),
    or one hidden layer (0 = embeddings ... 12 for a 12-layer model)."""
    if method not in METHODS:
        raise E5DeskError(f"unknown alignment method {method!r}: expected one of "
                          f"{', '.join(METHODS)}")
    layers = default_layers(encoder) if layer is None else (int(layer),)
    prepared = prepare(pairs)
    if not prepared:
        return []
    texts = [s.text for pair in prepared for s in pair]
    states = encoder.token_states(texts, layers=layers, role=ROLE, progress=progress,
                                  cancelled=cancelled)
    out = []
    for n, (src, tgt) in enumerate(prepared):
        src_words, src_vec = word_vectors(src, states[2 * n])
        tgt_words, tgt_vec = word_vectors(tgt, states[2 * n + 1])
        out.append(align_vectors(src_words, tgt_words, src_vec, tgt_vec, method))
    return out


# -- words a translation leaves out ----------------------------------------------------------
_FUNCTION_WORDS = frozenset("""
a an the of to in on at by for from with and or but if as is are was were be been being am
do does did have has had will would shall should can could may might must not no it its
this that these those there here i me my we us our you your he him his she her they them
their what which who whom whose than then so too very just also
le la les l' un une des du de d' et ou à au aux en dans sur par pour avec est sont être a ont
ce cette ces qui que qu' ne n' pas se s' il elle ils elles je j' tu nous vous on y
der die das den dem des ein eine einen einem einer eines und oder zu im am in an auf mit von
für ist sind war waren sein hat haben wird werden nicht es er sie wir ich du ihr dass
el los las lo una unos unas y o del al en con por para es son está están ser no se que
il lo gli i una uno di da e è sono non che
o os as um uma e em no na do da dos das com por para é são não que se
het een en van te op met voor is zijn niet dat
は が を に の で と も へ や か ね よ な だ です ます た て
的 了 吗 呢 吧 把 被 在 是 着 过 和 与
""".split())


def is_content_word(word: str) -> bool:
    """False for punctuation/symbol-only words and common function words."""
    if not any(unicodedata.category(c)[0] in "LN" for c in word):
        return False
    return word.lower() not in _FUNCTION_WORDS


def unaligned_content_words(alignment: WordAlignment) -> tuple[list[str], list[str]]:
    """Words of each side with no partner, minus punctuation and common function words:
    (what the target may leave out, what it may add)."""
    return ([alignment.src_words[i] for i in alignment.unaligned_src
             if is_content_word(alignment.src_words[i])],
            [alignment.tgt_words[j] for j in alignment.unaligned_tgt
             if is_content_word(alignment.tgt_words[j])])

