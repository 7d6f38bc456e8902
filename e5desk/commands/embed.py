"""`e5desk embed INPUT.txt --role query|passage --out OUT.npy`: row i of OUT is line i."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from e5desk.commands._common import add_model_options, load_encoder, progress_bar, read_lines
from e5desk.core.models.families import ROLES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("embed", help="embed a UTF-8 text file, one text per line, to .npy",
                       description="Embed every line of INPUT (UTF-8, one text per line) and "
                       "write float32 (n, dim) L2-normalised vectors; row i is line i.")
    p.add_argument("input", type=Path, metavar="INPUT.txt")
    p.add_argument("--role", choices=list(ROLES), default="query",
                   help="query: / passage: prefix, or raw (no prefix)")
    p.add_argument("--task", default=None,
                   help="instruction for instruct models (preset name or one sentence)")
    p.add_argument("--out", type=Path, required=True, metavar="OUT.npy")
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from e5desk.workflows.embed import EmbedSettings, check_npy_out, embed_detailed, save_npy

    texts = read_lines(args.input)
    check_npy_out(args.out)
    encoder = load_encoder(args)
    with progress_bar(f"embedding {args.input.name}") as bar:
        result = embed_detailed(encoder, texts, EmbedSettings(args.role, args.task),
                                progress=bar)
    save_npy(args.out, result.vectors)
    rate = len(texts) / result.seconds if result.seconds else 0.0
    print(f"e5desk: wrote {args.out} ({result.vectors.shape[0]} x {result.vectors.shape[1]}, "
          f"{encoder.describe()}, {rate:.0f} texts/s)", file=sys.stderr)
    for t in result.truncated[:10]:
        print(f"e5desk: warning: line {t.index + 1} has {t.tokens} tokens; the model saw the "
              f"first {t.kept}", file=sys.stderr)
    if len(result.truncated) > 10:
        print(f"e5desk: warning: {len(result.truncated) - 10} more lines were truncated",
              file=sys.stderr)
    return 0
