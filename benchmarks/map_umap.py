"""How long a map takes, and how good it is: UMAP at 10k and 100k sentences, the PCA preview.

Data (make_vectors): n x 384 unit vectors shaped like a multilingual sentence set: 50 topics
of meanings, each meaning in 9 languages. Cases, as the map tab runs them:

- first map on a fresh install: ``warm_up()`` once, as packaging/setup-venv.sh runs it,
  fills an empty numba cache; then ``project_in_process`` in a fresh child process, what the
  map tab does for every UMAP map (the child imports umap while this process finds the
  nearest neighbours; then the child lays out the map);
- the same with numba's cache cold (no set-up warm-up: everything compiles);
- in this process: first call and a second (everything imported and compiled);
- quality: kNN preservation and trustworthiness at k=10 (on 2,000 sampled rows), for our map
  and for umap-learn's defaults (metric cosine, its own neighbour search and start);
- PCA preview at 100k, with and without language centering (best of 3).

Stage times come from the progress callback: start, kNN (the umap import overlapped),
layout. Goals (issue 13): first 10k map on a fresh install < 8 s, 100k < 15 s.

    .venv/bin/python benchmarks/map_umap.py [--sizes 10000 100000] [--no-cold]
        [--no-quality] [--pca-only]

Measured 2026-12-03 (2 CPU cores, load 0.5-1.4, one run unless said):
    set-up warm-up (once per install) 26.3 s
    10k  first map on a fresh install 6.5 s (kNN + umap import overlapped 3.5 s, layout
         3.0 s); numba cache cold 27.5 s; this process, second call 4.0 s
    100k first map on a fresh install 13.7 s (kNN + import 6.0 s, layout 7.4 s); this
         process, second call 11.6 s
    quality at k=10 (kNN preservation / trustworthiness), ours vs umap-learn's defaults:
         10k 0.800 / 0.9160 vs 0.800 / 0.9140 (umap-learn took 62.6 s);
         100k 0.779 / 0.9170 vs 0.799 / 0.9205 (umap-learn took 279.3 s: its spectral
         start crawls on graphs of tight translation groups)
    PCA preview 100k: 0.44 s, with language centering 0.59 s
    Before (same data, spectral start, 200 epochs at 100k, umap imported after the kNN):
         10k fresh install 9.8 s; 100k 28.3 s in-process layout on Gaussian-blob data,
         271.7 s on this data (spectral start)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

DIM = 384
LANGS = ["ar", "de", "en", "es", "fr", "hi", "ja", "ru", "zh"]


def make_vectors(n: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """n unit vectors shaped like a multilingual sentence set: 50 topics, each holding
    meanings, each meaning said in the 9 languages (a translation lies nearer its meaning than
    any other meaning does). Plain noise around topic centres would leave no local structure
    to measure a map's neighbourhoods by."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(50, DIM)).astype(np.float32)
    n_meanings = max(1, n // len(LANGS))
    meanings = (topics[rng.integers(0, 50, n_meanings)]
                + rng.normal(size=(n_meanings, DIM)).astype(np.float32) * 0.8)
    meaning = np.arange(n) % n_meanings
    x = meanings[meaning] + rng.normal(size=(n, DIM)).astype(np.float32) * 0.35
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    langs = [LANGS[i] for i in (np.arange(n) // n_meanings) % len(LANGS)]
    return x, langs


def load() -> str:
    a, b, c = os.getloadavg()
    return f"load {a:.2f} {b:.2f} {c:.2f}"


class Stages:
    """Times of the progress calls: (0,3) start, (1,3) kNN done, (3,3) layout done."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.marks: dict[int, float] = {}

    def __call__(self, done: int, total: int) -> None:
        self.marks.setdefault(done, time.perf_counter() - self.start)

    def text(self, total: float) -> str:
        m = self.marks
        if 1 not in m or 0 not in m:
            return ""
        return (f"start {m[0]:.1f} s, kNN+import {m[1] - m[0]:.1f} s, "
                f"layout {total - m[1]:.1f} s")


def fresh(vectors: np.ndarray, label: str) -> float:
    from e5desk.core.projection import _CACHE, MapParams, project_in_process

    _CACHE.clear()
    stages = Stages()
    out = project_in_process(vectors, MapParams("umap"), None, progress=stages)
    total = time.perf_counter() - stages.start
    assert out.shape == (len(vectors), 2) and np.isfinite(out).all()
    print(f"  {label:38s} {total:6.1f} s  ({stages.text(total)}; {load()})", flush=True)
    return total


def setup_warm_up() -> None:
    """What packaging/setup-venv.sh does once per install: ``warm_up()`` fills the (so far
    empty) numba cache that every later case of this run uses."""
    import subprocess
    import sys

    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from e5desk.core.projection import warm_up; "
                    "warm_up()"], check=True)
    print(f"  {'set-up warm-up (once per install)':38s} "
          f"{time.perf_counter() - start:6.1f} s  ({load()})", flush=True)


def cold(vectors: np.ndarray) -> None:
    """A first map with an empty numba cache (no set-up warm-up): everything compiles."""
    saved = os.environ["NUMBA_CACHE_DIR"]
    with tempfile.TemporaryDirectory(prefix="e5desk-numba-cold-") as folder:
        os.environ["NUMBA_CACHE_DIR"] = folder
        try:
            fresh(vectors, "fresh process, numba cache cold")
        finally:
            os.environ["NUMBA_CACHE_DIR"] = saved


def in_process(vectors: np.ndarray, label: str) -> tuple[float, np.ndarray]:
    from e5desk.core import projection

    projection._CACHE.clear()
    stages = Stages()
    out = projection.project(vectors, projection.MapParams("umap"), progress=stages)
    total = time.perf_counter() - stages.start
    assert out.shape == (len(vectors), 2) and np.isfinite(out).all()
    print(f"  {label:38s} {total:6.1f} s  ({stages.text(total)}; {load()})", flush=True)
    return total, out


def pca(vectors: np.ndarray, langs: list[str]) -> None:
    from e5desk.core import projection

    for center in (False, True):
        best = np.inf
        for _ in range(3):
            projection._CACHE.clear()
            start = time.perf_counter()
            projection.project(vectors, projection.MapParams("pca", center_languages=center),
                               langs)
            best = min(best, time.perf_counter() - start)
        what = "with language centering" if center else "plain"
        print(f"  PCA preview {len(vectors):,} ({what}): {best:.2f} s  ({load()})", flush=True)


def map_quality(vectors: np.ndarray, coords: np.ndarray, k: int = 10, sample: int = 2_000,
                seed: int = 0) -> tuple[float, float]:
    """(kNN preservation, trustworthiness) at k, over ``sample`` random rows against all rows.

    kNN preservation: the share of a row's k nearest neighbours (cosine, full dimension) that
    are also among its k nearest on the map. Trustworthiness (Venna & Kaski, as
    sklearn.manifold.trustworthiness) penalises map neighbours by how far down the true
    ranking they are; computed on a row sample because the full form is quadratic."""
    n = len(vectors)
    rng = np.random.default_rng(seed)
    rows = rng.choice(n, min(sample, n), replace=False)
    kept, penalty = 0, 0.0
    sq = (coords.astype(np.float64) ** 2).sum(1)
    for lo in range(0, len(rows), 256):
        r = rows[lo:lo + 256]
        sims = vectors[r] @ vectors.T
        sims[np.arange(len(r)), r] = np.inf  # itself ranks first, outside the neighbours
        order = np.argsort(-sims, axis=1)
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(n)[None, :], axis=1)  # 0 = itself
        d2 = sq[r][:, None] + sq[None, :] - 2.0 * coords[r].astype(np.float64) @ coords.T
        d2[np.arange(len(r)), r] = np.inf  # itself is no neighbour on the map either
        near_map = np.argpartition(d2, k - 1, axis=1)[:, :k]
        near_map_ranks = np.take_along_axis(ranks, near_map, axis=1)
        kept += int((near_map_ranks <= k).sum())
        penalty += float(np.clip(near_map_ranks - k, 0, None).sum())
    m = len(rows)
    trust = 1.0 - 2.0 / (m * k * (2.0 * n - 3.0 * k - 1.0)) * penalty
    return kept / (m * k), trust


def quality(vectors: np.ndarray, ours: np.ndarray) -> None:
    """Our map beside umap-learn's defaults (its own nearest-neighbour search, cosine)."""
    import warnings

    import umap

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = umap.UMAP(metric="cosine").fit_transform(vectors)
    took = time.perf_counter() - start
    for label, coords, extra in (("e5desk map", ours, ""),
                                 ("umap-learn defaults", theirs, f", took {took:.1f} s")):
        keep, trust = map_quality(vectors, coords)
        print(f"  quality, {label:22s} kNN preservation@10 {keep:.3f}, "
              f"trustworthiness@10 {trust:.4f}{extra}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--no-cold", action="store_true", help="skip the cold numba cache run")
    ap.add_argument("--pca-only", action="store_true")
    ap.add_argument("--no-quality", action="store_true",
                    help="skip the map quality rows (they run umap-learn's defaults too)")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs, {load()}", flush=True)
    cache = tempfile.TemporaryDirectory(prefix="e5desk-numba-")
    os.environ["NUMBA_CACHE_DIR"] = cache.name  # children inherit it; empty until set-up
    if not args.pca_only:
        for i, n in enumerate(args.sizes):
            vectors, _ = make_vectors(n)
            print(f"UMAP, {n:,} x {DIM}:", flush=True)
            if i == 0:
                setup_warm_up()
            total = fresh(vectors, "first map on a fresh install")
            goal = 8 if n <= 10_000 else 15 if n <= 100_000 else None
            if goal:
                print(f"  goal: first map of {n:,} on a fresh install < {goal} s: "
                      f"{'met' if total < goal else 'NOT met'}", flush=True)
            if i == 0 and not args.no_cold:
                cold(vectors)
            if i == 0:
                in_process(vectors, "this process, first call")
            _, coords = in_process(vectors, "this process, warm (second call)")
            if not args.no_quality:
                quality(vectors, coords)
    vectors, langs = make_vectors(100_000)
    print("PCA:", flush=True)
    pca(vectors, langs)
    cache.cleanup()


if __name__ == "__main__":
    main()
