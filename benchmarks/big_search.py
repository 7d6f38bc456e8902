"""Typed text -> its nearest sentences among 1M vectors (issue 28: < 100 ms): what the map's
search box and `score` do after the query is embedded. Exact: one float32 matrix-vector
product over all rows (core.scoring.score_against's arithmetic) and a partial sort, on
memory-mapped unit vectors as `--vectors` loads them. Prints the median of 20 queries.

    .venv/bin/python benchmarks/big_search.py [--rows 1000000] [--dim 384] [--top 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np


class _Fixed:
    """An encoder that returns a prepared query vector (the embedding is timed elsewhere:
    benchmarks/engine_choice.py, single text)."""

    def __init__(self, q: np.ndarray) -> None:
        self.q = q

    def encode(self, texts, role="query", task=None):
        return self.q[None, :]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args()
    from e5desk.core.scoring import score_against

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "v.npy")
        v = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                      shape=(args.rows, args.dim))
        for start in range(0, args.rows, 100_000):
            block = rng.normal(size=(min(100_000, args.rows - start), args.dim))
            v[start:start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
        v.flush()
        vectors = np.load(path, mmap_mode="r")
        times = []
        for _ in range(21):
            q = vectors[rng.integers(args.rows)].copy()
            t0 = time.perf_counter()
            scores = score_against(_Fixed(q), "typed text", vectors)
            idx = np.argpartition(-scores, args.top)[:args.top]
            best = idx[np.argsort(-scores[idx])]
            times.append(time.perf_counter() - t0)
            assert scores[best[0]] > 99.9  # the row itself is found first
        times = times[1:]  # the first query pages the file in
        print(f"{args.rows:,} x {args.dim} float32 (memory-mapped), top {args.top}: median "
              f"{statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms over "
              f"{len(times)} queries; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
