"""The benchmark corpus: 2,000 mixed-length multilingual sentences, deterministic.

Built from the hand-written parity lines (60+ languages and scripts): every line once,
then distinct pairs and a few triples of lines, so all items are unique (no duplicate for
the encoder to skip) and lengths vary the way real sentence sets do.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

LINES = Path(__file__).resolve().parents[1] / "tests" / "data" / "parity_sentences.txt"


def benchmark_sentences(n: int = 2000, seed: int = 0) -> list[str]:
    base = [
        re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), line)
        for line in LINES.read_text(encoding="utf-8").split("\n") if line.strip()
    ]
    rng = random.Random(seed)
    out = list(dict.fromkeys(base))
    seen = set(out)
    while len(out) < n:
        k = rng.choices([2, 3], weights=[85, 15])[0]
        item = " ".join(rng.choice(base) for _ in range(k))
        if item not in seen:
            seen.add(item)
            out.append(item)
    rng.shuffle(out)
    return out[:n]
