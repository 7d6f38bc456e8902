"""Maps of millions (issue 28): PCA of 1M x 384, `e5desk map texts.txt --vectors v.npy` at
1M rows (time and 2-D neighbour purity), and the sampled layout's quality against a full
UMAP (kNN preservation / trustworthiness at k=10, purity) at 100k-200k rows.

Data (make_set): n unit vectors of 384 dimensions in 100 topics, each topic holding
meanings (a meaning's sentences lie nearer it than other meanings do), so both the coarse
(topic purity) and the local structure (kNN preservation) can be measured; the texts file
has one line per vector ("topic 17 meaning 3 row 123"). Written once to --data.

    .venv/bin/python benchmarks/big_map.py data  --rows 1000000 --data /tmp/e5big
    .venv/bin/python benchmarks/big_map.py pca   --data /tmp/e5big
    .venv/bin/python benchmarks/big_map.py cli   --data /tmp/e5big        # the whole command
    .venv/bin/python benchmarks/big_map.py quality --rows 200000 --samples 25000 50000 100000
    .venv/bin/python benchmarks/big_map.py quality --shape multilingual --no-full \
        --samples 100000 --refine 0 20                # placed map refined or not

Results are in the README ("Large sets" table); the machine is shared, so say its load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
DIM = 384
TOPICS = 100


def make_set(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors float32 (n, DIM) unit rows, topic per row, meaning per row)."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(TOPICS, DIM)).astype(np.float32)
    n_meanings = max(TOPICS, n // 50)
    meaning_topic = rng.integers(0, TOPICS, n_meanings)
    meanings = topics[meaning_topic] + rng.normal(size=(n_meanings, DIM)).astype(
        np.float32) * 0.6
    meaning = rng.integers(0, n_meanings, n)
    x = np.empty((n, DIM), dtype=np.float32)
    for s in range(0, n, 100_000):
        e = min(n, s + 100_000)
        block = meanings[meaning[s:e]] + rng.normal(size=(e - s, DIM)).astype(
            np.float32) * 0.45
        x[s:e] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return x, meaning_topic[meaning], meaning


def load() -> str:
    a, b, c = os.getloadavg()
    return f"load {a:.1f} {b:.1f} {c:.1f}"


def purity(coords: np.ndarray, label: np.ndarray, k: int = 10, sample: int = 20_000
           ) -> float:
    """Share of the k nearest 2-D neighbours (among all points) in the point's topic, over
    ``sample`` random points."""
    from scipy.spatial import cKDTree

    rows = np.random.default_rng(7).choice(len(coords), min(sample, len(coords)),
                                           replace=False)
    _, nn = cKDTree(coords).query(coords[rows], k=k + 1, workers=-1)
    return float(np.mean(label[nn[:, 1:]] == label[rows][:, None]))


def write_data(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    x, topic, meaning = make_set(n)
    np.save(folder / "v.npy", x)
    np.save(folder / "topic.npy", topic)
    with (folder / "texts.txt").open("w", encoding="utf-8") as f:
        f.writelines(f"topic {t} meaning {m} row {i}\n"
                     for i, (t, m) in enumerate(zip(topic, meaning, strict=True)))
    print(f"wrote {folder}: {n:,} rows x {DIM}")


def bench_pca(folder: Path) -> None:
    from e5desk.core.projection import pca_2d

    x = np.load(folder / "v.npy", mmap_mode="r")
    x = np.ascontiguousarray(x)  # in memory, as after opening
    for i in range(3):
        t = time.perf_counter()
        coords = pca_2d(x)
        print(f"PCA {len(x):,} x {x.shape[1]}: {time.perf_counter() - t:.2f} s "
              f"(run {i + 1}, {load()})", flush=True)
    print(f"  topic purity@10 of the PCA map {purity(coords, np.load(folder / 'topic.npy')):.3f}")


def bench_cli(folder: Path, method: str) -> None:
    import csv

    out = folder / f"map-{method}.csv"
    cmd = [sys.executable, "-m", "e5desk", "map", str(folder / "texts.txt"), "--vectors",
           str(folder / "v.npy"), "--method", method, "--out", str(out)]
    print(" ".join(cmd), f"({load()})", flush=True)
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    took = time.perf_counter() - t
    rss = [ln for ln in proc.stderr.splitlines() if "Maximum resident" in ln]
    print(proc.stderr[-1500:] if proc.returncode else "", flush=True)
    coords = []
    with out.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            coords.append((float(row["x"]), float(row["y"])))
    coords = np.array(coords, dtype=np.float32)
    topic = np.load(folder / "topic.npy")
    print(f"e5desk map --vectors, {len(coords):,} rows, {method}: {took:.1f} s, "
          f"{rss[0].strip() if rss else ''}; topic purity@10 {purity(coords, topic):.3f} "
          f"(after: {load()})", flush=True)


def bench_quality(n: int, samples: list[int], full: bool, shape: str = "topics",
                  refines: tuple[int, ...] = (0,)) -> None:
    from map_umap import make_vectors, map_quality

    from e5desk.core import projection_large as large
    from e5desk.core.projection import umap_2d

    if shape == "topics":
        x, topic, meaning = make_set(n, seed=1)
    else:  # map_umap's real-shaped set: 50 topics of meanings said in 9 languages
        x, _ = make_vectors(n)
        meaning = np.arange(n) % max(1, n // 9)  # the translations of one meaning
        topic = meaning
    rows = []
    if full:
        t = time.perf_counter()
        coords = umap_2d(x)
        rows.append(("full UMAP", time.perf_counter() - t, coords))
        print(f"  full UMAP {n:,}: {rows[-1][1]:.1f} s ({load()})", flush=True)
    for s in samples:
        for r in refines:
            t = time.perf_counter()
            coords = large.sampled_umap(x, sample=s, refine_epochs=r)
            rows.append((f"sampled {s:,} +{r} ep", time.perf_counter() - t, coords))
            print(f"  sampled {s:,} of {n:,}, refined {r} epochs: {rows[-1][1]:.1f} s "
                  f"({load()})", flush=True)
    for name, took, coords in rows:
        keep, trust = map_quality(x, coords)
        print(f"{n:,} rows, {name:18s} {took:6.1f} s  kNN preservation@10 {keep:.3f}  "
              f"trustworthiness@10 {trust:.4f}  topic purity@10 {purity(coords, topic):.3f}  "
              f"meaning purity@10 {purity(coords, meaning):.3f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["data", "pca", "cli", "quality"])
    ap.add_argument("--data", type=Path, default=Path("/tmp/e5big"))
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--method", default="umap", choices=["umap", "pca"])
    ap.add_argument("--samples", type=int, nargs="+", default=[50_000, 100_000])
    ap.add_argument("--no-full", action="store_true", help="skip the full UMAP (quality)")
    ap.add_argument("--refine", type=int, nargs="+", default=[0, 20],
                    help="refinement epochs of the placed rows to compare (quality)")
    ap.add_argument("--shape", choices=["topics", "multilingual"], default="topics",
                    help="quality data: make_set's topics, or map_umap's 9-language set")
    args = ap.parse_args()
    if args.what == "data":
        write_data(args.data, args.rows)
    elif args.what == "pca":
        bench_pca(args.data)
    elif args.what == "cli":
        bench_cli(args.data, args.method)
    else:
        bench_quality(args.rows, args.samples, not args.no_full, args.shape,
                      tuple(args.refine))


if __name__ == "__main__":
    main()
