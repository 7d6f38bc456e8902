"""`e5desk mine SRC TGT --out PAIRS.tsv`: find translations between two sentence files.

Only sentences of one language per side are paired: --src-lang / --tgt-lang, by default the
languages that tell the two files apart (es.po [en, es] vs ja.po [en, ja] -> es and ja), so a
shared source sentence is never paired with its own copy.

PAIRS.tsv columns: src_lang, src_line, tgt_lang, tgt_line (1-based line or record numbers in
the inputs), score (ratio margin), cosine, src_text, tgt_text; best score first."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from e5desk.commands._common import (
    READERS,
    add_model_options,
    add_vectors_option,
    embed_texts,
    positive_int,
    progress_bar,
    remember_stored,
)
from e5desk.commands._files import write_table
from e5desk.core.errors import E5DeskError
from e5desk.core.models.families import SYMMETRIC_ROLE
from e5desk.core.similarity import DEFAULT_MARGIN_THRESHOLD, DEFAULT_ROUNDS, MODES, mine
from e5desk.core.translations import is_translatable, mining_languages


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mine", help="bitext mining: aligned pairs between two files",
                       description="Find translation pairs between SRC and TGT (any supported "
                       "format) by ratio-margin scoring over 4 nearest neighbours both ways, "
                       "with the 'query: ' prefix on both sides (a symmetric task); "
                       "placeholders and numbers that agree (or differ) count as evidence.")
    p.add_argument("src", type=Path, metavar="SRC")
    p.add_argument("tgt", type=Path, metavar="TGT")
    p.add_argument("--format", default=None, choices=READERS,
                   help="reader for both files (default: detected from each file)")
    p.add_argument("--threshold", type=float, default=DEFAULT_MARGIN_THRESHOLD,
                   help=f"minimum margin score (default {DEFAULT_MARGIN_THRESHOLD}, "
                   "calibrated for E5 on real parallel text)")
    p.add_argument("--mode", choices=list(MODES), default="intersect",
                   help="forward: each SRC sentence's best TGT; backward: each TGT "
                   "sentence's best SRC; intersect (default): pairs both agree on")
    p.add_argument("--src-lang", default=None, metavar="LANG",
                   help="language of the SRC sentences to pair (default: the language that "
                   "tells SRC apart from TGT, else SRC's most common)")
    p.add_argument("--tgt-lang", default=None, metavar="LANG",
                   help="language of the TGT sentences to pair (default: likewise)")
    p.add_argument("--k", type=positive_int, default=4,
                   help="neighbours for the margin (default 4)")
    p.add_argument("--rounds", type=positive_int, default=DEFAULT_ROUNDS,
                   help="intersect mode: mine again among the sentences left unpaired, so a "
                   f"pair found leaves its rivals' neighbourhoods (default {DEFAULT_ROUNDS}; "
                   "1: one pass)")
    p.add_argument("--out", type=Path, required=True, metavar="PAIRS.tsv")
    add_model_options(p)
    add_vectors_option(p)
    p.set_defaults(func=run)


def _side(s, lang: str, other_side: set, other_lang: str, strict: bool):
    """The rows of one side: only ``lang`` when the user named it; otherwise every row
    except those in the other side's language or in a language both sides share (the
    source text of two catalogues), so a detection slip in a one-language file loses no
    row. Entries without words ("%s", "…") are never paired."""
    if strict:
        keep = [x == lang for x in s.lang]
    else:
        keep = [x == lang or (x != other_lang and x not in other_side) for x in s.lang]
    keep = [k and is_translatable(t) for k, t in zip(keep, s.text, strict=True)]  # no "%s"
    return s.take(np.flatnonzero(np.array(keep, dtype=bool)))


def run(args: argparse.Namespace) -> int:
    from e5desk.core.data import load_sentence_set

    if not args.out.parent.exists():
        raise E5DeskError(f"{args.out}: folder {args.out.parent} does not exist")
    from e5desk.core.vectors_import import attach_vectors, check_pairing

    check_pairing([args.src, args.tgt], args.vectors)  # --vectors: SRC's, then TGT's
    sets, results = [], []
    for i, path in enumerate((args.src, args.tgt)):
        result = load_sentence_set(path, format=args.format)
        if args.vectors:
            attach_vectors(result, args.vectors[i])
        for problem in result.problems():
            print(f"e5desk: warning: {path}: {problem}", file=sys.stderr)
        sets.append(result.sentence_set)
        results.append(result)
    remember_stored(results)
    src, tgt = sets
    src_lang, tgt_lang = mining_languages(src.lang, tgt.lang, args.src_lang, args.tgt_lang)
    if src_lang is not None:
        src_langs, tgt_langs = set(src.lang), set(tgt.lang)
        wordless = sum(1 for s_, lang in ((src, src_lang), (tgt, tgt_lang))
                       for x, t in zip(s_.lang, s_.text, strict=True)
                       if x == lang and not is_translatable(t))
        src = _side(src, src_lang, tgt_langs, tgt_lang, args.src_lang is not None)
        tgt = _side(tgt, tgt_lang, src_langs, src_lang, args.tgt_lang is not None)
        print(f"e5desk: mining {src_lang} ({len(src)} sentences of {args.src.name}) against "
              f"{tgt_lang} ({len(tgt)} of {args.tgt.name})"
              + (f"; {wordless} entr{'y' if wordless == 1 else 'ies'} without words "
                 "(\"%s\", \"…\") left out" if wordless else ""), file=sys.stderr)
    else:
        print("e5desk: the inputs name no languages: every sentence is paired",
              file=sys.stderr)
    _, both = embed_texts(args, [*src.text, *tgt.text], SYMMETRIC_ROLE)
    with progress_bar("mining", unit="sentence") as bar:
        pairs = mine(both[: len(src)], both[len(src):], k=args.k, mode=args.mode,
                     threshold=args.threshold, progress=bar,
                     texts=(list(src.text), list(tgt.text)), rounds=args.rounds)
    write_table(args.out, ["src_lang", "src_line", "tgt_lang", "tgt_line", "score", "cosine",
                           "src_text", "tgt_text"],
                ([src.lang[p.src] or "", src.line[p.src], tgt.lang[p.tgt] or "",
                  tgt.line[p.tgt], f"{p.margin:.4f}", f"{p.cosine * 100:.2f}",
                  src.text[p.src], tgt.text[p.tgt]] for p in pairs),
                delimiter="\t", lineterminator="\n")
    print(f"e5desk: wrote {len(pairs)} pairs to {args.out} ({len(src)} x {len(tgt)} "
          f"sentences, mode {args.mode}, margin >= {args.threshold})", file=sys.stderr)
    return 0
