"""`e5desk align PAIRS --out OUT`: word alignment of sentence pairs (Pharaoh or JSON lines).

PAIRS is the format fast_align and awesome-align read: ``source ||| target`` per line, words
separated by spaces exactly as given (the output indexes those words). ``--src`` and
``--tgt`` instead read two line-aligned files of space-separated words."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from e5desk.commands._common import add_model_options, load_encoder, progress_bar, read_lines
from e5desk.core.errors import DataError, E5DeskError

FORMATS = ["pharaoh", "jsonl"]


def register(sub: argparse._SubParsersAction) -> None:
    from e5desk.core.align import DEFAULT_LAYERS, DEFAULT_METHOD, METHODS

    p = sub.add_parser("align", help="word alignment of sentence pairs (Pharaoh output)",
                       description="Link the words of each sentence pair with the model's "
                       "contextual token vectors. Input: 'source ||| target' per line (words "
                       "separated by spaces, kept exactly as given), or --src/--tgt files. "
                       "Output: one line per input line, 'i-j' links (0-based source word i "
                       "to target word j), or JSON lines with words, scores and unaligned "
                       "words.")
    p.add_argument("pairs", nargs="?", type=Path, default=None, metavar="PAIRS",
                   help="file of 'source ||| target' lines")
    p.add_argument("--src", type=Path, default=None, metavar="FILE",
                   help="source sentences, one per line (with --tgt, instead of PAIRS)")
    p.add_argument("--tgt", type=Path, default=None, metavar="FILE",
                   help="target sentences, line i translating --src line i")
    p.add_argument("--out", type=Path, required=True, metavar="OUT")
    p.add_argument("--format", default="pharaoh", choices=FORMATS,
                   help="pharaoh: 'i-j' links per line (default); jsonl: words of both sides, "
                   "links with scores, unaligned words")
    p.add_argument("--method", default=DEFAULT_METHOD, choices=list(METHODS),
                   help="; ".join(f"{k}: {v}" for k, v in METHODS.items())
                   + f" (default: {DEFAULT_METHOD}, chosen by measured AER)")
    p.add_argument("--layer", type=int, default=None, metavar="N",
                   help="hidden layer whose token vectors are compared (0 = embeddings; "
                   f"default: the mean of layers {DEFAULT_LAYERS[0]}-{DEFAULT_LAYERS[-1]}, "
                   "chosen by measured AER)")
    add_model_options(p)
    p.set_defaults(func=run)


def read_pairs(path: Path) -> list[tuple[list[str], list[str]]]:
    """``source ||| target`` lines -> word lists; errors name the file and line."""
    out = []
    for n, line in enumerate(read_lines(path), 1):
        if "|||" not in line:
            raise DataError(f"{path}, line {n}: no '|||' between source and target")
        src, _, tgt = line.partition("|||")
        if "|||" in tgt:
            raise DataError(f"{path}, line {n}: more than one '|||'")
        out.append(_sides(src, tgt, f"{path}, line {n}"))
    return out


def read_two_files(src: Path, tgt: Path) -> list[tuple[list[str], list[str]]]:
    a, b = read_lines(src), read_lines(tgt)
    if len(a) != len(b):
        raise DataError(f"{tgt}, line {min(len(a), len(b)) + 1}: {src} has {len(a)} lines "
                        f"and {tgt} has {len(b)}; the two files must be line-aligned")
    return [_sides(x, y, f"{src}/{tgt}, line {n}")
            for n, (x, y) in enumerate(zip(a, b, strict=True), 1)]


def _sides(src: str, tgt: str, where: str) -> tuple[list[str], list[str]]:
    s, t = src.split(), tgt.split()
    if not s or not t:
        raise DataError(f"{where}: the {'source' if not s else 'target'} side is empty")
    return s, t


def run(args: argparse.Namespace) -> int:
    from e5desk.workflows.pair import AlignSettings, align

    if (args.pairs is None) == (args.src is None and args.tgt is None):
        raise E5DeskError("give either PAIRS (one 'source ||| target' per line) or "
                          "--src FILE --tgt FILE")
    if args.pairs is None and (args.src is None or args.tgt is None):
        raise E5DeskError("--src and --tgt go together")
    if not args.out.parent.exists():
        raise E5DeskError(f"{args.out}: folder {args.out.parent} does not exist")
    pairs = read_pairs(args.pairs) if args.pairs else read_two_files(args.src, args.tgt)
    encoder = load_encoder(args)
    with progress_bar("aligning", unit="text") as bar:
        found = align(encoder, pairs, AlignSettings(args.method, args.layer),
                      progress=bar).pairs
    with args.out.open("w", encoding="utf-8", newline="\n") as f:
        for a in found:
            if args.format == "pharaoh":
                f.write(a.pharaoh() + "\n")
            else:
                f.write(json.dumps(a.to_dict(), ensure_ascii=False) + "\n")
    links = sum(len(a.links) for a in found)
    print(f"e5desk: wrote {args.out}: {len(found)} pair(s), {links} link(s)", file=sys.stderr)
    return 0
