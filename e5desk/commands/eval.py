"""`e5desk eval`: retrieval quality (MRR@10, Recall@1/5/10, nDCG@10, P@1) on train.jsonl +
passages.jsonl, or on parallel sets (every language pair); prefix A/B side by side; model A/B
(--model-b) with rank agreement between the two models."""

from __future__ import annotations

import argparse
import copy
import gc
import json
import math
import sys
from pathlib import Path

from e5desk.commands._common import (
    add_input_options,
    add_model_options,
    load_encoder,
    progress_bar,
    read_inputs,
)
from e5desk.core.prefix_rules import PREFIX_RULES
from e5desk.workflows.evaluate import AGREEMENT, METRICS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval", help="retrieval metrics on relevance data or parallel sets",
        description="Retrieval metrics on train.jsonl (+ passages.jsonl beside it) or on "
        "parallel sets (each language's sentences as queries, the other language's as "
        "passages, translations relevant). --prefixes compares prefix rules, --model-b a "
        "second model (model A is --model).")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                   help="train.jsonl (with passages.jsonl beside it) or parallel set files")
    add_input_options(p)
    p.add_argument("--prefixes", action="store_true",
                   help="A/B: the same evaluation with each prefix rule, as e5desk score "
                   "--rule names them: " + ", ".join(f"{r.name} ({r.sides})"
                                                     for r in PREFIX_RULES.values()))
    p.add_argument("--model-b", default=None, metavar="PATH_OR_NAME",
                   help="model B for a model A/B: the same evaluation with this model (named "
                   "as for --model), both side by side with their rank agreement "
                   "(overlap@10, top-1, Spearman of the passage rankings per query)")
    p.add_argument("--family-b", default=None, help="override model B's detected family")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_model_options(p)
    p.set_defaults(func=run)


def _fmt(value) -> str:
    return f"{value:>11.3f}" if isinstance(value, float | int) else f"{'':>11}"


def _table(results: dict[str, dict], columns: list[str] = METRICS, width: int = 24) -> str:
    lines = [f"{'':{width}}" + "".join(f"{m:>11}" for m in columns)]
    for name, r in results.items():
        lines.append(f"{name:{width}}" + "".join(_fmt(r.get(m, math.nan)) for m in columns))
    return "\n".join(lines)


def _evaluate(args: argparse.Namespace, sentences, prefixes: bool):
    from e5desk.workflows.evaluate import evaluate

    encoder = load_encoder(args)
    with progress_bar("embedding") as bar:
        result = evaluate(encoder.encode, sentences, prefixes=prefixes, progress=bar)
    return result, encoder.describe()


def run(args: argparse.Namespace) -> int:
    from e5desk.core.evaluate import EvalData
    from e5desk.workflows.evaluate import agreement_rows

    s, _ = read_inputs(args)
    data = EvalData.from_set(s)  # checks the input before loading a model: that takes seconds
    if args.model_b is not None and str(args.model_b).strip() not in ("", "embedded",
                                                                       "default"):
        from e5desk.core.models.discovery import resolve_model

        resolve_model(args.model_b, family=args.family_b)  # a wrong name fails before A runs
    result_a, model_a = _evaluate(args, data, args.prefixes)
    gc.collect()  # model A's weights go before model B loads
    results, finding = result_a.rows, result_a.finding
    if args.model_b is None:
        if args.json:
            print(json.dumps({**results, **({"finding": finding} if finding else {})},
                             indent=2, ensure_ascii=False))
        else:
            print(_table(results))
            if finding:
                print("\n" + finding)
            print(f"({model_a})", file=sys.stderr)
        return 0
    args_b = copy.copy(args)
    args_b.model, args_b.family = args.model_b, args.family_b
    result_b, model_b = _evaluate(args_b, data, args.prefixes)
    results_b = result_b.rows
    agreement = agreement_rows(result_a, result_b)
    if args.json:
        print(json.dumps({"A": {"model": model_a, "results": results},
                          "B": {"model": model_b, "results": results_b},
                          "agreement": agreement}, indent=2, ensure_ascii=False))
        return 0
    side_by_side = {}
    for name in results:
        side_by_side[f"A {name}"] = results[name]
        side_by_side[f"B {name}"] = results_b.get(name, {})
    print(f"A = {model_a}\nB = {model_b}\n")
    print(_table(side_by_side, width=26))
    print("\nrank agreement of A and B (overlap@10: shared top 10; top-1: same best passage; "
          "Spearman: per-query rank correlation over all passages)")
    print(_table(agreement, AGREEMENT, width=26))
    return 0
