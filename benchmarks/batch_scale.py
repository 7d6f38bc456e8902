"""`e5desk batch` at scale: throughput against `e5desk embed`, peak memory on a 1M-line input,
the Ray engine on a local cluster, and opening a 1M-row result. Never run by the tests.

    python benchmarks/batch_scale.py throughput --lines 20000        # local vs embed (ratio)
    python benchmarks/batch_scale.py memory --lines 1000000 --model M  # peak RSS, streamed
    python benchmarks/batch_scale.py pipeline --lines 1000000 --model TINY  # data path only
    python benchmarks/batch_scale.py ray --lines 2000                  # ray vs local engine
    python benchmarks/batch_scale.py resume --lines 4000 --shard-rows 500  # SIGKILL at 50 %
    python benchmarks/batch_scale.py open --out DIR                    # load a batch folder

Each measured command runs in its own child process (wall time and the child's peak RSS
from getrusage). Sentences: benchmarks/corpus.py (mixed lengths, 60+ languages), repeated
with a line number prefix to reach large counts (so no two lines are identical).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import benchmark_sentences  # noqa: E402


def write_corpus(path: Path, lines: int) -> Path:
    base = benchmark_sentences(2000)
    with path.open("w", encoding="utf-8") as f:
        for i in range(lines):
            text = base[i % len(base)]
            f.write(text if i < len(base) else f"{i}. {text}")
            f.write("\n")
    return path


def measure(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of ``python -m e5desk ARGS`` in a fresh process."""
    code = ("import resource, subprocess, sys, time, json\n"
            "t = time.perf_counter()\n"
            "rc = subprocess.call([sys.executable, '-m', 'e5desk', *sys.argv[1:]])\n"
            "dt = time.perf_counter() - t\n"
            "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
            "print(json.dumps([rc, dt, rss]))\n")
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         env={**os.environ, "TQDM_DISABLE": "1"})
    rc, dt, rss = json.loads(out.stdout.strip().splitlines()[-1])
    if rc != 0:
        raise SystemExit(f"e5desk {' '.join(args)} failed:\n{out.stderr[-2000:]}")
    return dt, rss


def model_args(ns) -> list[str]:
    return (["--model", ns.model] if ns.model else []) + ["--precision", ns.precision]


def throughput(ns) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = write_corpus(tmp / "in.txt", ns.lines)
        rows = {}
        for rep in range(ns.repeats):  # interleaved: a busy machine slows both alike
            t_embed, _ = measure(["embed", str(corpus), "--out", str(tmp / f"e{rep}.npy"),
                                  "--no-cache", *model_args(ns)])
            t_batch, _ = measure(["batch", str(corpus), "--out", str(tmp / f"b{rep}"),
                                  "--shard-rows", str(ns.shard_rows), *model_args(ns)])
            rows.setdefault("embed", []).append(t_embed)
            rows.setdefault("batch", []).append(t_batch)
        e, b = min(rows["embed"]), min(rows["batch"])
        print(f"{ns.lines:,} lines: embed {e:.1f} s ({ns.lines / e:.0f}/s), batch local "
              f"{b:.1f} s ({ns.lines / b:.0f}/s); batch/embed throughput ratio {e / b:.3f} "
              f"(wall times include start-up and model load; best of {ns.repeats})")


def memory(ns) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        small = write_corpus(tmp / "small.txt", 1000)
        t0 = time.perf_counter()
        big = write_corpus(tmp / "big.txt", ns.lines)
        print(f"wrote {ns.lines:,} lines ({big.stat().st_size / 2**20:.0f} MB) in "
              f"{time.perf_counter() - t0:.0f} s")
        _, base = measure(["batch", str(small), "--out", str(tmp / "s"), *model_args(ns)])
        dt, peak = measure(["batch", str(big), "--out", str(tmp / "b"),
                            "--shard-rows", str(ns.shard_rows), *model_args(ns)])
        print(f"peak RSS: 1,000 lines {base:.0f} MB, {ns.lines:,} lines {peak:.0f} MB "
              f"(+{peak - base:.0f} MB for the larger input); {dt:.0f} s, "
              f"{ns.lines / dt:.0f} rows/s")
        if ns.keep:
            import shutil

            shutil.copytree(tmp / "b", ns.keep)
            print(f"kept the output in {ns.keep}")


class _StubEncoder:
    """The engine's data path without a model: hashed pseudo-vectors (384-d)."""

    def __init__(self, tiny: Path) -> None:
        from e5desk.core.models.discovery import resolve_model

        self.source = resolve_model(str(tiny))  # a real folder for the fingerprint
        self.family, self.dim, self.cache = self.source.family, 384, None
        self.model_id = f"{self.source.path}:float32:truncate:512"

    def encode_detailed(self, texts, role="query", task=None, progress=None, cancelled=None):
        import numpy as np

        from e5desk.core.encoder import EncodeResult

        seeds = np.fromiter((hash(t) & 0xFFFF for t in texts), np.int64, len(texts))
        v = np.random.default_rng(0).standard_normal((65536 // 64, self.dim), np.float32)
        v = v[seeds % len(v)]
        return EncodeResult(v / np.linalg.norm(v, axis=1, keepdims=True),
                            np.zeros(len(texts), np.int64))


def pipeline(ns) -> None:
    """Peak RSS of plan + read + write over a large input, the model left out (a stub)."""
    from e5desk.core import batch

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        big = write_corpus(tmp / "big.txt", ns.lines)
        enc = _StubEncoder(Path(ns.model))
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t = time.perf_counter()
        plan = batch.prepare([big], tmp / "out", enc, shard_rows=ns.shard_rows)
        t_plan = time.perf_counter() - t
        result = batch.run_local(plan, enc)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = sum(f.stat().st_size for f in (tmp / "out").glob("*.parquet")) / 2**20
        print(f"{ns.lines:,} lines ({big.stat().st_size / 2**20:.0f} MB) -> "
              f"{len(plan.shards)} shards ({size:.0f} MB): plan {t_plan:.1f} s, read + write "
              f"{result.seconds:.1f} s; peak RSS {peak:.0f} MB, {peak - base:.0f} MB above "
              "the process before the run (vectors 384-d, no model)")
        if ns.keep:
            import shutil

            shutil.copytree(tmp / "out", ns.keep)


def ray(ns) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = write_corpus(tmp / "in.txt", ns.lines)
        t_local, _ = measure(["batch", str(corpus), "--out", str(tmp / "l"),
                              "--shard-rows", str(ns.shard_rows), *model_args(ns)])
        t_ray, _ = measure(["batch", str(corpus), "--out", str(tmp / "r"), "--engine", "ray",
                            "--shard-rows", str(ns.shard_rows), *model_args(ns)])
        import numpy as np
        import pyarrow.parquet as pq

        def read(folder):
            t = pq.ParquetDataset(sorted(folder.glob("part-*.parquet"))).read()
            return t.column("id").to_pylist(), np.asarray(t.column("vector").to_pylist())

        (ia, va), (ib, vb) = read(tmp / "l"), read(tmp / "r")
        cos = (va * vb).sum(1)
        print(f"{ns.lines:,} lines: local {t_local:.1f} s, ray (local cluster, "
              f"{os.cpu_count()} CPUs) {t_ray:.1f} s, ray/local time {t_ray / t_local:.2f}; "
              f"same ids {ia == ib}, min cosine {cos.min():.6f}")


def resume(ns) -> None:
    """Kill (SIGKILL) a run once half its shards are written, run it again, compare."""
    import signal

    import numpy as np
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = write_corpus(tmp / "in.txt", ns.lines)
        args = [str(corpus), "--shard-rows", str(ns.shard_rows), *model_args(ns)]
        measure(["batch", "--out", str(tmp / "whole"), *args])
        n_shards = len(list((tmp / "whole").glob("part-*.parquet")))
        cut = tmp / "cut"
        proc = subprocess.Popen([sys.executable, "-m", "e5desk", "batch", "--out", str(cut),
                                 *args], stderr=subprocess.DEVNULL)
        while len(list(cut.glob("part-*.parquet"))) < n_shards // 2 and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before = {f.name: f.stat().st_mtime_ns for f in cut.glob("part-*.parquet")}
        measure(["batch", "--out", str(cut), *args])
        after = {f.name: f.stat().st_mtime_ns for f in cut.glob("part-*.parquet")}
        rewritten = sum(1 for k, v in before.items() if after[k] != v)
        same = all(pq.read_table(tmp / "whole" / k).equals(pq.read_table(cut / k))
                   for k in after)
        vec = lambda d: np.concatenate([np.asarray(pq.read_table(d / k).column(  # noqa: E731
            "vector").to_pylist()) for k in sorted(after)])
        print(f"killed with {len(before)} of {n_shards} shards written; the rerun wrote "
              f"{len(after) - len(before)} (rewrote {rewritten} finished ones); identical "
              f"tables: {same}; max |diff| {np.abs(vec(tmp / 'whole') - vec(cut)).max()}")


def open_folder(ns) -> None:
    from e5desk.core.batch import load_batch

    t = time.perf_counter()
    imported = load_batch(ns.out)
    dt = time.perf_counter() - t
    print(f"load_batch {ns.out}: {len(imported.vectors):,} rows x {imported.dim} in {dt:.1f} s, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if ns.map:
        from e5desk.core.projection import pca_2d

        t = time.perf_counter()
        pca_2d(imported.vectors)
        print(f"PCA map of the stored vectors: {time.perf_counter() - t:.1f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["throughput", "memory", "pipeline", "ray", "resume",
                                    "open"])
    p.add_argument("--lines", type=int, default=20_000)
    p.add_argument("--model", default=None)
    p.add_argument("--precision", default="exact")
    p.add_argument("--shard-rows", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--out", type=Path, help="batch folder (open)")
    p.add_argument("--keep", type=Path, help="memory: copy the output folder here")
    p.add_argument("--map", action="store_true", help="open: also a PCA map")
    ns = p.parse_args()
    {"throughput": throughput, "memory": memory, "pipeline": pipeline, "ray": ray,
     "resume": resume, "open": open_folder}[ns.what](ns)
    print(json.dumps({"what": ns.what, "lines": ns.lines, "cpus": os.cpu_count(),
                      "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
