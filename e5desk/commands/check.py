"""`e5desk check INPUT... --out REPORT.csv`: rank translation pairs by how doubtful they are."""

from __future__ import annotations

import argparse
import csv
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
from e5desk.core.models.families import SYMMETRIC_ROLE


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="suspect translations in a parallel set",
                       description="For parallel sets (TMX, PO, wide CSV, ...), rank each "
                       "translation pair by doubt: a better match elsewhere, or a pair score "
                       "far below the set's usual.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    add_input_options(p)
    p.add_argument("--out", type=Path, required=True, metavar="REPORT.csv")
    p.add_argument("--all", action="store_true", help="list every pair, not only suspects")
    p.add_argument("--src-lang", default=None, metavar="LANG",
                   help="check only pairs from this language (default: the source language "
                   "of catalogues and memories, else every pair of languages)")
    p.add_argument("--tgt-lang", default=None, metavar="LANG",
                   help="check only pairs into this language")
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from e5desk.core.data.sentence_set import group_label
    from e5desk.core.evaluate import suspect_translations
    from e5desk.core.translations import language_pairs, shared_groups

    if not args.out.parent.exists():
        raise E5DeskError(f"{args.out}: folder {args.out.parent} does not exist")
    s, _ = load_inputs(args.inputs, args.format, args.join)
    if all(g is None for g in s.group):
        raise E5DeskError("no translation groups in the input: check needs a parallel set "
                          "(TMX, XLIFF, PO catalogues, a wide CSV, ...)")
    pairs = [(a, b) for a, b in language_pairs(s.lang, s.group)
             if args.src_lang in (None, a) and args.tgt_lang in (None, b)]
    if args.src_lang and args.tgt_lang and not pairs:
        pairs = [(args.src_lang, args.tgt_lang)]
    if not pairs or not any(shared_groups(s.lang, s.group, a, b) for a, b in pairs):
        raise E5DeskError("no translation pairs to check: " + (
            f"no group has both {args.src_lang} and {args.tgt_lang}" if args.src_lang
            and args.tgt_lang else "no two languages share a translation group"))
    encoder = load_encoder(args)
    with progress_bar("embedding") as bar:
        vectors = encoder.encode(list(s.text), role=SYMMETRIC_ROLE, progress=bar)
    rows, checked = [], 0
    for a, b in pairs:
        found = suspect_translations(vectors, list(s.text), s.lang, s.group, a, b)
        checked += len(found)
        rows += [(x, a, b) for x in found if args.all or x.flagged]
    rows.sort(key=lambda r: (not r[0].flagged, -r[0].doubt))
    with args.out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["doubt", "group", "src_lang", "src_line", "src_text", "tgt_lang",
                    "tgt_line", "tgt_text", "score", "reason"])
        for x, a, b in rows:
            w.writerow([f"{x.doubt:.2f}", group_label(x.group), a, s.line[x.src], s.text[x.src], b,
                        s.line[x.tgt], s.text[x.tgt], f"{x.score:.2f}", x.reason])
    flagged = sum(r[0].flagged for r in rows)
    print(f"e5desk: wrote {args.out}: {flagged} suspect pair(s) of {checked} checked ("
          + ", ".join(f"{a}→{b}" for a, b in pairs) + ")", file=sys.stderr)
    return 0
