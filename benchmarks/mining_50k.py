"""Bitext mining at scale: 50k x 50k sentences after embedding.

Synthetic unit vectors (dim 384) stand in for embeddings: SRC is random; half of TGT are
planted translations, normalise(src[i] + noise), the other half random, all shuffled. Times
``similarity.mine`` (default: intersect, k=4), and reports peak memory and precision /
recall against the planted pairs at a few margin thresholds (from one run with no
threshold: pairs above a threshold are a subset of those).

    .venv/bin/python benchmarks/mining_50k.py            # full size
    .venv/bin/python benchmarks/mining_50k.py --n 5000   # quick look

Goal: under 2 minutes on a CPU.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc

import numpy as np

from e5desk.core.similarity import DEFAULT_MARGIN_THRESHOLD, MODES, mine


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def planted_sets(n: int, dim: int, noise: float, seed: int
                 ) -> tuple[np.ndarray, np.ndarray, set[tuple[int, int]]]:
    rng = np.random.default_rng(seed)
    src = unit(rng.standard_normal((n, dim), dtype=np.float32))
    half = n // 2
    partners = rng.permutation(n)[:half]  # sources whose translation is in TGT
    planted = unit(src[partners] + noise * rng.standard_normal((half, dim), dtype=np.float32))
    rest = unit(rng.standard_normal((n - half, dim), dtype=np.float32))
    tgt = np.concatenate([planted, rest])
    order = rng.permutation(n)
    tgt = np.ascontiguousarray(tgt[order])
    where = np.empty(n, dtype=np.int64)
    where[order] = np.arange(n)  # where[row before shuffling] = row after
    truth = {(int(s), int(where[t])) for t, s in enumerate(partners)}
    return src, tgt, truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50_000, help="sentences per side")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--mode", choices=MODES, default="intersect")
    ap.add_argument("--noise", type=float, default=0.06,
                    help="per-dimension noise sigma of planted translations (0.06: cosine "
                    "about 0.65 to their source; random pairs sit near 0 +- 0.05)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    src, tgt, truth = planted_sets(args.n, args.dim, args.noise, args.seed)
    true_cos = np.mean([float(src[s] @ tgt[t]) for s, t in list(truth)[:2000]])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.n:,} x {args.n:,} vectors, dim {args.dim}, {len(truth):,} planted pairs "
          f"(mean cosine {true_cos:.2f}); mode {args.mode}, k={args.k}; "
          f"{os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")
    tracemalloc.start()
    t0 = time.perf_counter()
    pairs = mine(src, tgt, k=args.k, mode=args.mode, threshold=None)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    inputs = (src.nbytes + tgt.nbytes) / 2**20
    print(f"mine: {seconds:.1f} s; peak memory allocated while mining {peak / 2**20:.0f} MB "
          f"(inputs {inputs:.0f} MB not counted); process peak RSS {rss_after:.0f} MB "
          f"(before mining {rss_before:.0f} MB); load after {os.getloadavg()[0]:.2f}")
    for t in (None, 1.0, DEFAULT_MARGIN_THRESHOLD, 1.1, 1.2, 1.5):
        got = {(p.src, p.tgt) for p in pairs if t is None or p.margin >= t}
        ok = len(got & truth)
        print(f"  margin >= {t!s:>4}: {len(got):>6} pairs, precision "
              f"{ok / max(1, len(got)):.4f}, recall {ok / len(truth):.4f}")


if __name__ == "__main__":
    main()
