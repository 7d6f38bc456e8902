"""Word alignment speed: 1,000 sentence pairs of ~25 words with the embedded model.

    python benchmarks/align_speed.py [--pairs 1000] [--method softmax]

The pairs are built from the gold sets' sentences (benchmarks/data/align), three joined per
side (~25-30 words), cycling over en-de/en-fr/en-ja/en-zh; the first run's model load is
not timed. Target (issue 25): under 60 s on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import os
import time
from itertools import cycle, islice
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA = Path(__file__).parent / "data" / "align"


def make_pairs(n: int) -> list[tuple[list[str], list[str]]]:
    lines = []
    for path in sorted(DATA.glob("*.src-tgt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            src, tgt = line.split("|||")
            lines.append((src.split(), tgt.split()))
    out = []
    for k in range(n):
        chunk = list(islice(cycle(lines), 3 * k + k // 7, 3 * k + k // 7 + 3))
        out.append(([w for s, _ in chunk for w in s], [w for _, t in chunk for w in t]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--method", default=None)
    args = ap.parse_args()
    from e5desk.core.align import DEFAULT_METHOD, align_pairs
    from e5desk.core.encoder import Encoder

    encoder = Encoder.load(None, device="cpu", precision="exact", cache=False)
    pairs = make_pairs(args.pairs)
    align_pairs(encoder, pairs[:4])  # loads the model
    words = sum(len(s) + len(t) for s, t in pairs) / (2 * len(pairs))
    started, cpu = time.perf_counter(), time.process_time()
    found = align_pairs(encoder, pairs, method=args.method or DEFAULT_METHOD)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    links = sum(len(a.links) for a in found)
    print(f"{encoder.describe()}")
    print(f"{len(pairs)} pairs, {words:.1f} words per side on average, {links} links: "
          f"{seconds:.1f} s wall, {cpu:.1f} s CPU over all threads "
          f"({len(pairs) / seconds:.0f} pairs/s); target < 60 s: "
          f"{'met' if seconds < 60 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
