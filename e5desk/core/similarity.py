"""Scores between sets of L2-normalised vectors: cosine x 100, blocked k-nearest neighbours,
ratio-margin scores and bitext mining.

Margin (ratio) over k nearest neighbours in both directions, as in the LASER mining work:
    margin(x, y) = cos(x, y) / (mean_k cos(x, NN_k(x)) / 2 + mean_k cos(y, NN_k(y)) / 2)
Mining uses blocked matrix products (exact, no index): 50k x 50k x 384 is about 1 TFLOP,
seconds on a laptop CPU, and never holds more than one block of scores in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from e5desk.core.errors import Cancelled, E5DeskError
from e5desk.core.jobs import CancelCheck, Progress

MODES = ("intersect", "forward", "backward")
# Calibrated on the bundled parallel sample with multilingual-e5-small (query prefix on
# both sides): true pairs' margins vs best wrong candidates; see benchmarks/mining_calibration.py.
DEFAULT_MARGIN_THRESHOLD = 1.02


def knn(a: np.ndarray, b: np.ndarray, k: int, block: int = 1024,
        progress: Progress | None = None, cancelled: CancelCheck | None = None
        ) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``a``: indices and cosines of its ``k`` nearest rows of ``b``."""
    k = min(k, len(b))
    idx = np.empty((len(a), k), dtype=np.int64)
    sims = np.empty((len(a), k), dtype=np.float32)
    for start in range(0, len(a), block):
        if cancelled and cancelled():
            raise Cancelled("Cancelled.")
        s = a[start : start + block] @ b.T
        part = np.argpartition(-s, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(s, part, 1)
        order = np.argsort(-vals, axis=1)
        idx[start : start + block] = np.take_along_axis(part, order, 1)
        sims[start : start + block] = np.take_along_axis(vals, order, 1)
        if progress:
            progress(min(start + block, len(a)), len(a))
    return idx, sims


@dataclass
class MinedPair:
    src: int
    tgt: int
    margin: float
    cosine: float


def mine(src: np.ndarray, tgt: np.ndarray, k: int = 4, mode: str = "intersect",
         threshold: float | None = DEFAULT_MARGIN_THRESHOLD, candidates: int = 8,
         progress: Progress | None = None, cancelled: CancelCheck | None = None
         ) -> list[MinedPair]:
    """Aligned pairs between two sets by ratio margin (best candidate per sentence).

    forward: each source sentence's best target; backward: each target's best source;
    intersect: pairs both directions agree on (high precision). ``threshold`` drops pairs
    whose margin is lower (None keeps all)."""
    if mode not in MODES:
        raise E5DeskError(f"unknown mining mode {mode!r}: expected {', '.join(MODES)}")
    if len(src) == 0 or len(tgt) == 0:
        return []
    steps = 4
    step = 0

    def tick() -> None:
        nonlocal step
        step += 1
        if progress:
            progress(step, steps)

    cand = max(k, candidates)
    fwd_idx, fwd_sim = knn(src, tgt, cand, cancelled=cancelled)
    tick()
    bwd_idx, bwd_sim = knn(tgt, src, cand, cancelled=cancelled)
    tick()
    src_mean = fwd_sim[:, :k].mean(axis=1)  # how crowded each sentence's neighbourhood is
    tgt_mean = bwd_sim[:, :k].mean(axis=1)

    def best(idx, sims, own_mean, other_mean) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        margins = sims / (own_mean[:, None] / 2 + other_mean[idx] / 2)
        j = margins.argmax(axis=1)
        rows = np.arange(len(idx))
        return idx[rows, j], margins[rows, j], sims[rows, j]

    f_tgt, f_margin, f_cos = best(fwd_idx, fwd_sim, src_mean, tgt_mean)
    tick()
    b_src, b_margin, b_cos = best(bwd_idx, bwd_sim, tgt_mean, src_mean)
    tick()
    pairs: dict[tuple[int, int], MinedPair] = {}
    if mode in ("forward", "intersect"):
        for i, (j, m, c) in enumerate(zip(f_tgt, f_margin, f_cos, strict=True)):
            pairs[(i, int(j))] = MinedPair(i, int(j), float(m), float(c))
    if mode == "backward":
        for j, (i, m, c) in enumerate(zip(b_src, b_margin, b_cos, strict=True)):
            pairs[(int(i), j)] = MinedPair(int(i), j, float(m), float(c))
    if mode == "intersect":
        back = {(int(i), j) for j, i in enumerate(b_src)}
        pairs = {key: p for key, p in pairs.items() if key in back}
    out = [p for p in pairs.values() if threshold is None or p.margin >= threshold]
    return sorted(out, key=lambda p: -p.margin)
