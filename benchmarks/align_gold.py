"""Build the gold word alignments in benchmarks/data/align/ from the hand-written sources.

    python benchmarks/align_gold.py [--show]

Each benchmarks/data/align/authored/<pair>.txt holds blocks of two lines: ``source |||
target`` (words separated by spaces) and the sure links written with words, not indexes:
``cat=chat sleeps=dort``; ``a+b=c`` links every word on the left to every word on the
right; ``word#2`` is the word's second occurrence (required when a word occurs twice).
Writes <pair>.src-tgt (``source ||| target`` per line, the format `e5desk align` reads) and
<pair>.gold (Pharaoh ``i-j``, 0-based, sure links only). ``--show`` prints every link as
words, to proof-read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data" / "align"


def _index(words: list[str], ref: str, where: str) -> int:
    word, _, nth = ref.partition("#")
    hits = [i for i, w in enumerate(words) if w == word]
    if not hits:
        raise SystemExit(f"{where}: {word!r} is not a word of {' '.join(words)!r}")
    if not nth and len(hits) > 1:
        raise SystemExit(f"{where}: {word!r} occurs {len(hits)} times: write {word}#k")
    k = int(nth or 1)
    if k > len(hits):
        raise SystemExit(f"{where}: {word!r} has no occurrence {k}")
    return hits[k - 1]


def parse(path: Path) -> list[tuple[list[str], list[str], set[tuple[int, int]]]]:
    lines = [ln.rstrip("\n") for ln in path.read_text(encoding="utf-8").splitlines()]
    lines = [(n, ln) for n, ln in enumerate(lines, 1) if ln.strip() and not ln.startswith("#")]
    if len(lines) % 2:
        raise SystemExit(f"{path}: a pair without its links line")
    out = []
    for (n, pair), (m, links) in zip(lines[::2], lines[1::2], strict=True):
        if "|||" not in pair or "|||" in links:
            raise SystemExit(f"{path}:{n}: expected 'source ||| target' then links")
        src, tgt = (side.split() for side in pair.split("|||"))
        gold = set()
        for item in links.split():
            left, sep, right = item.partition("=")
            if not sep:
                raise SystemExit(f"{path}:{m}: {item!r} is not word=word")
            for a in left.split("+"):
                for b in right.split("+"):
                    gold.add((_index(src, a, f"{path}:{m}"), _index(tgt, b, f"{path}:{m}")))
        out.append((src, tgt, gold))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args()
    for path in sorted((DATA / "authored").glob("*.txt")):
        pairs = parse(path)
        name = path.stem
        (DATA / f"{name}.src-tgt").write_text(
            "".join(f"{' '.join(s)} ||| {' '.join(t)}\n" for s, t, _ in pairs), encoding="utf-8")
        (DATA / f"{name}.gold").write_text(
            "".join(" ".join(f"{i}-{j}" for i, j in sorted(g)) + "\n" for _, _, g in pairs),
            encoding="utf-8")
        print(f"{name}: {len(pairs)} pairs, {sum(len(g) for *_, g in pairs)} sure links",
              file=sys.stderr)
        if args.show:
            for s, t, g in pairs:
                print("  " + "  ".join(f"{s[i]}={t[j]}" for i, j in sorted(g)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
