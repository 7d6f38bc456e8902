"""Scores between sets of L2-normalised vectors: cosine x 100, blocked k-nearest neighbours,
ratio-margin scores and bitext mining.

Margin (ratio) over k nearest neighbours in both directions, as in the LASER mining work:
    margin(x, y) = cos(x, y) / (mean_k cos(x, NN_k(x)) / 2 + mean_k cos(y, NN_k(y)) / 2)

Exact search, no index: float32 matrix products over blocks of rows, so memory holds one
block of scores (about 64 MB) at a time. Picking the best k of a score row is the costly part
after the product (numpy's argpartition over 50k columns costs more than the product
itself), so rows are cut into chunks of 64 columns: the best k values of a row lie in the k
chunks with the highest maxima, and only those are searched. Mining computes each block of
scores once and takes both directions from it: best targets per source row, and a running
best-sources list per target column (columns whose block maximum cannot enter their list
are skipped). 50k x 50k x 384 runs in about a minute on 2 CPU cores; see
benchmarks/mining_50k.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from e5desk.core.errors import Cancelled, E5DeskError
from e5desk.core.jobs import CancelCheck, Progress

# (source rows, target rows) -> margin points to add, same shape
Evidence = Callable[[np.ndarray, np.ndarray], np.ndarray]
MODES = ("intersect", "forward", "backward")
# Calibrated on the bundled parallel sample with multilingual-e5-small (query prefix on
# both sides): true pairs' margins vs best wrong candidates; see benchmarks/mining_calibration.py.
DEFAULT_MARGIN_THRESHOLD = 1.02
# Rounds of intersect mining (a second among the sentences left unpaired): on short UI
# strings recall 0.48 -> 0.60 at precision 0.94 with the text evidence; benchmarks/mining_ui.py.
DEFAULT_ROUNDS = 2

_CHUNK = 64  # columns per chunk when picking the best k of long score rows
_BLOCK_ELEMENTS = 1 << 24  # scores per block: 64 MB of float32


def _block_rows(n_cols: int, block: int | None) -> int:
    if block:
        return max(1, int(block))
    return int(max(16, min(4096, _BLOCK_ELEMENTS // max(1, n_cols))))


def _sorted_desc(idx: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(idx, order, 1), np.take_along_axis(vals, order, 1)


def top_k_rows(s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the ``k`` largest entries of each row of ``s``, best
    first (``k`` <= number of columns)."""
    rows, n = s.shape
    if k >= n:
        idx = np.broadcast_to(np.arange(n), (rows, n))
        return _sorted_desc(idx, s)
    n_chunks = n // _CHUNK
    if n_chunks <= 2 * k:  # short rows: plain selection
        part = np.argpartition(s, n - k, axis=1)[:, n - k:]
        return _sorted_desc(part, np.take_along_axis(s, part, 1))
    # The k largest values lie in the k chunks with the largest maxima (if one lay in
    # another chunk, those k chunks would each hold a value at least as large).
    m = n_chunks * _CHUNK
    chunks = s[:, :m].reshape(rows, n_chunks, _CHUNK)
    best_chunks = np.argpartition(chunks.max(axis=2), n_chunks - k, axis=1)[:, n_chunks - k:]
    r = np.arange(rows)[:, None]
    cand_vals = chunks[r, best_chunks].reshape(rows, k * _CHUNK)
    cand_idx = (best_chunks[:, :, None] * _CHUNK + np.arange(_CHUNK)).reshape(rows, k * _CHUNK)
    if m < n:  # the columns after the last whole chunk are always candidates
        cand_vals = np.concatenate([cand_vals, s[:, m:]], axis=1)
        cand_idx = np.concatenate([cand_idx, np.broadcast_to(np.arange(m, n), (rows, n - m))],
                                  axis=1)
    width = cand_vals.shape[1]
    part = np.argpartition(cand_vals, width - k, axis=1)[:, width - k:]
    return _sorted_desc(np.take_along_axis(cand_idx, part, 1),
                        np.take_along_axis(cand_vals, part, 1))


def _as_f32(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float32)


def knn(a: np.ndarray, b: np.ndarray, k: int, block: int | None = None,
        progress: Progress | None = None, cancelled: CancelCheck | None = None
        ) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``a``: indices and cosines of its ``k`` nearest rows of ``b``, best
    first. ``block``: rows of ``a`` per matrix product (default: about 64 MB of scores)."""
    a, b = _as_f32(a), _as_f32(b)
    k = min(k, len(b))
    idx = np.empty((len(a), k), dtype=np.int64)
    sims = np.empty((len(a), k), dtype=np.float32)
    step = _block_rows(len(b), block)
    for start in range(0, len(a), step):
        if cancelled and cancelled():
            raise Cancelled("Cancelled.")
        if k:
            i, v = top_k_rows(a[start : start + step] @ b.T, k)
            idx[start : start + step], sims[start : start + step] = i, v
        if progress:
            progress(min(start + step, len(a)), len(a))
    return idx, sims


def knn_both_ways(a: np.ndarray, b: np.ndarray, k: int, block: int | None = None,
                  progress: Progress | None = None, cancelled: CancelCheck | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``knn(a, b, k)`` and ``knn(b, a, k)`` from one pass of matrix products.

    Returns (a_idx, a_sims, b_idx, b_sims), each best first."""
    a, b = _as_f32(a), _as_f32(b)
    ka, kb = min(k, len(b)), min(k, len(a))
    a_idx = np.empty((len(a), ka), dtype=np.int64)
    a_sims = np.empty((len(a), ka), dtype=np.float32)
    # Running best rows of ``a`` per row of ``b`` (unsorted until the end).
    b_idx = np.full((len(b), kb), -1, dtype=np.int64)
    b_sims = np.full((len(b), kb), -np.inf, dtype=np.float32)
    step = _block_rows(len(b), block)
    for start in range(0, len(a), step):
        if cancelled and cancelled():
            raise Cancelled("Cancelled.")
        s = a[start : start + step] @ b.T
        if ka:
            a_idx[start : start + step], a_sims[start : start + step] = top_k_rows(s, ka)
        if kb:
            # Columns whose best score in this block beats their current k-th best.
            floor = b_sims.min(axis=1)
            cols = np.flatnonzero(s.max(axis=0) > floor)
            if len(cols):
                sub = np.ascontiguousarray(s[:, cols].T)  # (columns, rows of this block)
                c = min(kb, sub.shape[1])
                new_idx, new_vals = top_k_rows(sub, c)
                all_vals = np.concatenate([b_sims[cols], new_vals], axis=1)
                all_idx = np.concatenate([b_idx[cols], new_idx + start], axis=1)
                keep = np.argpartition(all_vals, c, axis=1)[:, c:]  # drop the c lowest
                b_sims[cols] = np.take_along_axis(all_vals, keep, 1)
                b_idx[cols] = np.take_along_axis(all_idx, keep, 1)
        if progress:
            progress(min(start + step, len(a)), len(a))
    b_idx, b_sims = _sorted_desc(b_idx, b_sims)
    return a_idx, a_sims, b_idx, b_sims


@dataclass
class MinedPair:
    src: int
    tgt: int
    margin: float
    cosine: float


def margin_candidates(src: np.ndarray, tgt: np.ndarray, k: int = 4, candidates: int = 8,
                      progress: Progress | None = None, cancelled: CancelCheck | None = None,
                      evidence: Evidence | None = None) -> dict[str, np.ndarray]:
    """Each sentence's best partner by ratio margin among its nearest ``candidates``, both
    ways: forward (per source: tgt, margin, cosine) and backward (per target: src, ...).
    ``evidence(src rows, tgt rows)`` adds to the margins of candidate pairs (agreement of
    placeholders and numbers, ``text_evidence``)."""
    cand = max(k, candidates)
    fwd_idx, fwd_sim, bwd_idx, bwd_sim = knn_both_ways(src, tgt, cand, progress=progress,
                                                       cancelled=cancelled)
    src_mean = fwd_sim[:, :k].mean(axis=1)  # how crowded each sentence's neighbourhood is
    tgt_mean = bwd_sim[:, :k].mean(axis=1)

    def best(idx, sims, own_mean, other_mean, forward) -> tuple[np.ndarray, ...]:
        margins = sims / (own_mean[:, None] / 2 + other_mean[idx] / 2)
        if evidence is not None:
            own = np.broadcast_to(np.arange(len(idx))[:, None], idx.shape)
            margins = margins + (evidence(own, idx) if forward else evidence(idx, own))
        j = margins.argmax(axis=1)
        rows = np.arange(len(idx))
        return idx[rows, j], margins[rows, j], sims[rows, j]

    f_tgt, f_margin, f_cos = best(fwd_idx, fwd_sim, src_mean, tgt_mean, True)
    b_src, b_margin, b_cos = best(bwd_idx, bwd_sim, tgt_mean, src_mean, False)
    return {"f_tgt": f_tgt, "f_margin": f_margin, "f_cos": f_cos,
            "b_src": b_src, "b_margin": b_margin, "b_cos": b_cos}


def _mine_once(src, tgt, k, mode, threshold, candidates, progress, cancelled, evidence):
    c = margin_candidates(src, tgt, k=k, candidates=candidates, progress=progress,
                          cancelled=cancelled, evidence=evidence)
    if mode == "backward":
        s_idx, t_idx = c["b_src"], np.arange(len(tgt))
        margin, cos = c["b_margin"], c["b_cos"]
    else:
        s_idx, t_idx = np.arange(len(src)), c["f_tgt"]
        margin, cos = c["f_margin"], c["f_cos"]
        if mode == "intersect":
            agree = c["b_src"][t_idx] == s_idx
            s_idx, t_idx, margin, cos = s_idx[agree], t_idx[agree], margin[agree], cos[agree]
    if threshold is not None:
        keep = margin >= threshold
        s_idx, t_idx, margin, cos = s_idx[keep], t_idx[keep], margin[keep], cos[keep]
    return s_idx, t_idx, margin, cos


def mine(src: np.ndarray, tgt: np.ndarray, k: int = 4, mode: str = "intersect",
         threshold: float | None = DEFAULT_MARGIN_THRESHOLD, candidates: int = 8,
         progress: Progress | None = None, cancelled: CancelCheck | None = None,
         texts: tuple[Sequence[str], Sequence[str]] | None = None, rounds: int = 1
         ) -> list[MinedPair]:
    """Aligned pairs between two sets by ratio margin (best candidate per sentence), best
    margin first.

    forward: each source sentence's best target; backward: each target's best source;
    intersect: pairs both directions agree on (high precision). ``threshold`` drops pairs
    whose margin is lower (None keeps all). ``progress`` counts source rows.

    ``texts`` (source texts, target texts): placeholders and numbers count as evidence
    (``text_evidence``). ``rounds`` > 1 (intersect only): mine again among the sentences
    not yet paired, so a pair found takes itself out of its rivals' neighbourhoods (the
    weekdays and months of a UI catalogue crowd one another)."""
    if mode not in MODES:
        raise E5DeskError(f"unknown mining mode {mode!r}: expected {', '.join(MODES)}")
    if len(src) == 0 or len(tgt) == 0:
        return []
    evidence_all = text_evidence(*texts) if texts is not None else None
    src_left, tgt_left = np.arange(len(src)), np.arange(len(tgt))
    found: list[tuple[np.ndarray, ...]] = []
    for r in range(max(1, rounds) if mode == "intersect" else 1):
        if r and (len(src_left) == 0 or len(tgt_left) == 0):
            break
        evidence = None
        if evidence_all is not None:
            def evidence(a, b, sl=src_left, tl=tgt_left):
                return evidence_all(sl[a], tl[b])
        s_idx, t_idx, margin, cos = _mine_once(
            src[src_left], tgt[tgt_left], k, mode, threshold, candidates,
            progress if r == 0 else None, cancelled, evidence)
        if len(s_idx) == 0:
            break
        found.append((src_left[s_idx], tgt_left[t_idx], margin, cos))
        src_left = np.setdiff1d(src_left, src_left[s_idx])
        tgt_left = np.setdiff1d(tgt_left, tgt_left[t_idx])
    if not found:
        return []
    s_idx, t_idx, margin, cos = (np.concatenate(x) for x in zip(*found, strict=True))
    order = np.argsort(-margin, kind="stable")
    return [MinedPair(int(s_idx[n]), int(t_idx[n]), float(margin[n]), float(cos[n]))
            for n in order]


# Placeholders ("%(name)s", "%d", "{0}", "{name}") and numbers a translation keeps:
# measured on five real-shaped UI catalogues (benchmarks/mining_ui.py), a candidate whose
# placeholders differ is rarely right, one that keeps the same ones is likelier.
_PLACEHOLDER = re.compile(r"%\(\w+\)[a-zA-Z]|%\d+\$[a-zA-Z]|%[sdif]|\{\w*\}")
_DIGITS = re.compile(r"\d+")
EVIDENCE_WEIGHT = 0.02  # margin points per disagreement (a margin of 1.02 is a pair)


def _signature(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    holders = tuple(sorted(_PLACEHOLDER.findall(text)))
    digits = tuple(sorted(_DIGITS.findall(_PLACEHOLDER.sub(" ", text))))
    return holders, digits


def text_evidence(src_texts: Sequence[str], tgt_texts: Sequence[str]) -> Evidence:
    """Margin points for candidate pairs (arrays of source and target rows): minus
    EVIDENCE_WEIGHT when the placeholders differ, plus half of it when both keep the same
    (non-empty) ones, minus EVIDENCE_WEIGHT when both hold numbers and these differ
    ("April" -> "4月" has a number on one side only: no evidence)."""
    def codes(texts):
        sigs = [_signature(str(t)) for t in texts]
        kinds: dict = {}
        holders = np.array([kinds.setdefault(h, len(kinds)) for h, _ in sigs])
        digits = np.array([kinds.setdefault(("#", *d), len(kinds)) if d else -1
                           for _, d in sigs])
        return holders, digits, kinds

    s_h, s_d, kinds = codes(src_texts)
    t_sigs = [_signature(str(t)) for t in tgt_texts]
    t_h = np.array([kinds.setdefault(h, len(kinds)) for h, _ in t_sigs])
    t_d = np.array([kinds.setdefault(("#", *d), len(kinds)) if d else -1 for _, d in t_sigs])
    empty = kinds.get((), -2)

    def evidence(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        same = s_h[a] == t_h[b]
        out = np.where(same, np.where(s_h[a] == empty, 0.0, 0.5), -1.0)
        out -= (s_d[a] >= 0) & (t_d[b] >= 0) & (s_d[a] != t_d[b])
        return out * EVIDENCE_WEIGHT

    return evidence
