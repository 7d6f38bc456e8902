"""`e5desk score`: rank the lines of a file against queries (scores = cosine x 100)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from e5desk.commands._common import (
    add_model_options,
    add_vectors_option,
    embed_texts,
    positive_int,
    rule_name,
)
from e5desk.core.errors import E5DeskError
from e5desk.core.prefix_rules import RULE_ALIASES, prefix_rule, rules_help
from e5desk.core.scoring import NARROW_BAND_NOTE
from e5desk.core.translations import (
    FOUND_NEIGHBOURS,
    distinct_positions,
    is_found,
    is_translatable,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="rank the sentences of a file against queries",
                       description="Rank the sentences of FILE (one per line, or any "
                       "sentence-set format) against each QUERY. "
                       "Scores are cosine x 100, as in the E5 model cards. " + NARROW_BAND_NOTE)
    p.add_argument("queries", nargs="+", metavar="QUERY")
    p.add_argument("--passages", type=Path, required=True, metavar="FILE",
                   help="one passage per line, or any sentence-set file (CSV, JSONL such as "
                   "passages.jsonl, TMX, ...)")
    p.add_argument("--rule", type=rule_name, default=None, metavar="RULE",
                   help="prefix rule (default retrieval; with --lang symmetric, the rule for "
                   "finding translations): " + rules_help() + "; the older "
                   "names " + ", ".join(RULE_ALIASES) + " work too")
    p.add_argument("--task", default=None, help="instruction for instruct models")
    p.add_argument("--top", type=positive_int, default=10, metavar="K",
                   help="results per query (default 10)")
    p.add_argument("--lang", default=None, metavar="LANG",
                   help="only passages in this language (e.g. the language you want a "
                   "translation in): the symmetric rule then applies unless --rule says "
                   "otherwise, and a best result that is not clearly ahead of the others is "
                   "reported as 'no close match'")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    add_model_options(p)
    add_vectors_option(p)
    p.set_defaults(func=run)


def _in_language(code, wanted: str | None) -> bool:
    """``code`` is ``wanted`` or a variant of it (pt-BR for pt; zh-Hans for zh)."""
    if wanted is None:
        return True
    return bool(code) and (code == wanted or code.split("-")[0] == wanted)


def run(args: argparse.Namespace) -> int:
    from e5desk.commands._common import load_inputs
    from e5desk.core.langid import normalize_code

    # Finding a translation is a symmetric task (the model cards; the window's learner view).
    rule_why = ("given" if args.rule else "for translations in --lang" if args.lang
                else "the default, for queries against passages")
    args.rule = args.rule or ("symmetric" if args.lang else "retrieval")
    args.lang = normalize_code(args.lang) if args.lang else None
    print(f"e5desk: prefix rule {args.rule} ({rule_why}): {prefix_rule(args.rule).sides}",
          file=sys.stderr)
    sentences, (loaded,) = load_inputs([args.passages], vectors=args.vectors)
    # Entries without words ("…", "%s", "12") are never results; --lang keeps one language.
    keep = [is_translatable(t) and _in_language(x, args.lang)
            for t, x in zip(sentences.text, sentences.lang, strict=True)]
    if not any(keep):
        langs_there = ", ".join(sorted({str(x) for x in sentences.lang if x})) or "none"
        raise E5DeskError(f"{args.passages}: no passages" + (
            f" in {args.lang!r} (languages there: {langs_there})" if args.lang else
            " with words to score"))
    sentences = sentences.take(np.flatnonzero(np.array(keep, dtype=bool)))
    texts, lines = list(sentences.text), [int(x) for x in sentences.line]
    langs = [x or "" for x in sentences.lang]
    # passages.jsonl names passages by doc_id = line number counted from 0
    doc_ids = loaded.format == "jsonl" and all(r == "passage" for r in sentences.role)
    from e5desk.workflows.score import Reference, ScoreSettings, score_passages

    settings = ScoreSettings(args.queries, args.rule, args.task,
                             max(args.top, 4 * (FOUND_NEIGHBOURS + 1)))
    encoder, vectors = embed_texts(args, texts, settings.passage_role, args.task,
                                   f"embedding {args.passages.name}")
    # issue 25: each score placed among these passages' own unrelated pairs
    scored = score_passages(encoder, settings, vectors=vectors,
                            reference=Reference(sentences, vectors))
    ranking, calibration = scored.ranking, scored.calibration
    found = [is_found(row[distinct_positions(idx, texts)]) for idx, row in
             zip(ranking.indices, ranking.scores, strict=True)]
    ranking.indices, ranking.scores = ranking.indices[:, : args.top], ranking.scores[:, : args.top]
    results = [
        {"query": r.query, "rank": r.rank, "line": lines[r.passage], "rule": args.rule,
         **({"clearly_best": found[qi]} if r.rank == 1 and args.lang else {}),
         **({"doc_id": lines[r.passage] - 1} if doc_ids else {}),
         "lang": langs[r.passage], "score": round(r.score, 2), "passage": texts[r.passage],
         # % of unrelated pairs scoring lower
         **({"vs_unrelated": round(r.vs_unrelated, 1)} if calibration is not None else {})}
        for (qi, *_), r in zip(ranking.rows(), scored.rows(), strict=True)
    ]
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    for (qi, _, _, _), r in zip(ranking.rows(), results, strict=True):
        if r["rank"] == 1:
            print(f"query: {ranking.queries[qi]}")
            if args.lang and not found[qi]:
                print(f"  no close match in {args.lang}: nothing below is clearly a translation "
                      "(too low a score, or no lead over the rest)" + (
                          "" if args.rule == "symmetric" else
                          f"; the test is calibrated for the symmetric rule, not "
                          f"{args.rule}"))
        where = f"doc {r['doc_id']}" if doc_ids else f"line {r['line']}"
        lang = f" [{r['lang']}]" if r["lang"] else ""
        vs = f"{r['vs_unrelated']:5.1f}%  " if "vs_unrelated" in r else ""
        print(f"  {r['rank']:>3}. {r['score']:6.2f}  {vs}{where}{lang}: {r['passage']}")
    if calibration is not None:
        print(f"(% = share of {len(calibration.unrelated):,} unrelated pairs of these passages "
              "that score lower)", file=sys.stderr)
    print(f"({encoder.describe()}; scores are cosine x 100)", file=sys.stderr)
    return 0
