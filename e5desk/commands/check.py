"""`e5desk check INPUT... --out REPORT.csv`: rank translation pairs by how doubtful they are."""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
from pathlib import Path

from e5desk.commands._common import (
    add_input_options,
    add_model_options,
    load_encoder,
    load_inputs,
    progress_bar,
)
from e5desk.core.errors import E5DeskError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="suspect translations in a parallel set",
                       description="For parallel sets (TMX, PO, wide CSV, ...), rank each "
                       "translation pair by doubt: a better match elsewhere, or a pair score "
                       "far below the set's usual.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    add_input_options(p)
    p.add_argument("--out", type=Path, required=True, metavar="REPORT.csv")
    p.add_argument("--all", action="store_true", help="list every pair, not only suspects")
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from e5desk.core.evaluate import suspect_translations

    if not args.out.parent.exists():
        raise E5DeskError(f"{args.out}: folder {args.out.parent} does not exist")
    s, _ = load_inputs(args.inputs, args.format, args.join)
    if all(g is None for g in s.group):
        raise E5DeskError("no translation groups in the input: check needs a parallel set "
                          "(TMX, XLIFF, PO catalogues, a wide CSV, ...)")
    encoder = load_encoder(args)
    with progress_bar("embedding") as bar:
        vectors = encoder.encode(list(s.text), role="query", progress=bar)
    langs = sorted({str(x) for x in s.lang if x})
    rows = []
    for a, b in itertools.combinations(langs, 2):
        for x in suspect_translations(vectors, list(s.text), s.lang, s.group, a, b):
            if args.all or x.reason != "looks fine":
                rows.append((x, a, b))
    rows.sort(key=lambda r: -r[0].doubt)
    with args.out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["doubt", "group", "src_lang", "src_line", "src_text", "tgt_lang",
                    "tgt_line", "tgt_text", "score", "reason"])
        for x, a, b in rows:
            w.writerow([f"{x.doubt:.2f}", x.group, a, s.line[x.src], s.text[x.src], b,
                        s.line[x.tgt], s.text[x.tgt], f"{x.score:.2f}", x.reason])
    print(f"e5desk: wrote {args.out}: {sum(r[0].reason != 'looks fine' for r in rows)} "
          f"suspect pair(s) over {len(langs)} languages", file=sys.stderr)
    return 0
