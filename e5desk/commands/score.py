"""`e5desk score`: rank the lines of a file against queries (scores = cosine x 100)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from e5desk.commands._common import add_model_options, load_encoder, progress_bar, read_lines
from e5desk.core.scoring import NARROW_BAND_NOTE, PREFIX_RULES, rank_passages, roles_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="rank passages (lines of a file) against queries",
                       description="Rank the lines of PASSAGES.txt against each QUERY. "
                       "Scores are cosine x 100, as in the E5 model cards. " + NARROW_BAND_NOTE)
    p.add_argument("queries", nargs="+", metavar="QUERY")
    p.add_argument("--passages", type=Path, required=True, metavar="PASSAGES.txt",
                   help="UTF-8, one passage per line")
    p.add_argument("--rule", choices=list(PREFIX_RULES), default="retrieval",
                   help="retrieval: query vs passage prefixes; symmetric: query on both "
                   "sides (similarity, translations); none: raw text")
    p.add_argument("--task", default=None, help="instruction for instruct models")
    p.add_argument("--top", type=int, default=10, metavar="K")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    passages = read_lines(args.passages)
    lines = [i for i, t in enumerate(passages) if t.strip()]
    texts = [passages[i] for i in lines]
    encoder = load_encoder(args)
    _, passage_role = roles_for(args.rule)
    with progress_bar(f"embedding {args.passages.name}") as bar:
        vectors = encoder.encode(texts, role=passage_role, task=args.task, progress=bar)
    ranking = rank_passages(encoder, args.queries, vectors, args.rule, args.task, args.top)
    results = [
        {"query": ranking.queries[qi], "rank": rank, "line": lines[pi] + 1,
         "score": round(score, 2), "passage": texts[pi]}
        for qi, rank, pi, score in ranking.rows()
    ]
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    for (qi, _, _, _), r in zip(ranking.rows(), results, strict=True):
        if r["rank"] == 1:
            print(f"query: {ranking.queries[qi]}")
        print(f"  {r['rank']:>3}. {r['score']:6.2f}  line {r['line']}: {r['passage']}")
    print(f"({encoder.describe()}; scores are cosine x 100)", file=sys.stderr)
    return 0
