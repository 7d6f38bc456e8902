"""`e5desk eval`: retrieval quality (MRR@10, Recall@1/5/10, nDCG@10, P@1) on train.jsonl +
passages.jsonl, or on parallel sets (every language pair); prefix A/B side by side."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from e5desk.commands._common import add_model_options, load_encoder
from e5desk.core.errors import E5DeskError

METRICS = ["MRR@10", "Recall@1", "Recall@5", "Recall@10", "nDCG@10", "P@1"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="retrieval metrics on relevance data or parallel sets")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                   help="train.jsonl (with passages.jsonl beside it) or parallel set files")
    p.add_argument("--format", default=None)
    p.add_argument("--prefixes", action="store_true",
                   help="A/B: query/passage vs query/query vs no prefix")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_model_options(p)
    p.set_defaults(func=run)


def _table(results: dict[str, dict]) -> str:
    lines = [f"{'':24}" + "".join(f"{m:>11}" for m in METRICS)]
    for name, r in results.items():
        lines.append(f"{name:24}" + "".join(f"{r.get(m, float('nan')):>11.3f}" for m in METRICS))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from e5desk.core.data import concat_sets, load_sentence_set
    from e5desk.core.evaluate import average, evaluate_parallel, evaluate_retrieval, prefix_ab

    s = concat_sets([load_sentence_set(p, format=args.format).sentence_set
                     for p in args.inputs])
    if not s.relevance and all(g is None for g in s.group):
        raise E5DeskError("nothing to evaluate: give train.jsonl (+ passages.jsonl) or a "
                          "parallel set with translation groups")
    encoder = load_encoder(args)  # after the input check: loading takes seconds
    results: dict[str, dict] = {}
    if s.relevance:
        q_rows = sorted(s.relevance)
        p_rows = [i for i in range(len(s)) if s.role[i] == "passage"]
        where = {r: n for n, r in enumerate(p_rows)}
        relevant = [{where[p] for p in s.relevance[q] if p in where} for q in q_rows]
        queries, passages = [s.text[i] for i in q_rows], [s.text[i] for i in p_rows]
        if args.prefixes:
            results = prefix_ab(encoder.encode, queries, passages, relevant)
        else:
            results = {"query/passage": evaluate_retrieval(
                encoder.encode(queries, role="query"), encoder.encode(passages, role="passage"),
                relevant)}
    else:
        rules = {"query/query": "query"}
        if args.prefixes:
            rules["none"] = "raw"
        for name, role in rules.items():
            vectors = encoder.encode(list(s.text), role=role)
            pairs = evaluate_parallel(vectors, s.lang, s.group)
            results[f"all pairs ({name})"] = average(pairs)
            if name == "query/query":
                results.update({f"{a}->{b}": r for (a, b), r in pairs.items()})
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        print(_table(results))
        print(f"({encoder.describe()})", file=sys.stderr)
    return 0
