"""A second `e5desk embed` of the same lines: served from the embedding cache, no model start.

Runs the command twice, each in a fresh process (as a user does), on the same N lines from
benchmarks/corpus.py with an empty cache folder at first; prints both wall times, their
ratio (goal: the second >= 5x faster) and whether the two outputs are identical.

    .venv/bin/python benchmarks/cached_embed.py [--n 3000] [--precision auto]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import benchmark_sentences  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--precision", default="auto")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="e5desk-cached-embed-") as folder:
        lines = Path(folder) / "lines.txt"
        lines.write_text("\n".join(benchmark_sentences(args.n)) + "\n", encoding="utf-8")
        env = dict(os.environ, E5DESK_CACHE_DIR=str(Path(folder) / "cache"))
        times, outs = [], []
        for run in (1, 2):
            out = Path(folder) / f"run{run}.npy"
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "e5desk", "embed", str(lines), "--out",
                            str(out), "--precision", args.precision], env=env, check=True,
                           stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
            outs.append(np.load(out))
            print(f"run {run}: {times[-1]:.2f} s ({os.getloadavg()[0]:.2f} load)", flush=True)
        ratio = times[0] / times[1]
        same = np.array_equal(outs[0], outs[1])
        print(f"{args.n:,} lines: second run {ratio:.1f}x faster (goal >= 5x: "
              f"{'met' if ratio >= 5 else 'NOT met'}); vectors identical: {same}")


if __name__ == "__main__":
    main()
