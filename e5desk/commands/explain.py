"""`e5desk explain QUERY PASSAGE`: each word's share of the pair's score (occlusion)."""

from __future__ import annotations

import argparse
import json
import sys

from e5desk.commands._common import add_model_options, load_encoder, rule_name
from e5desk.core.errors import E5DeskError
from e5desk.core.prefix_rules import PREFIX_RULES, rules_help

BAR = 16  # characters for the largest share


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="which words push a query–passage score up or down",
                       description="Score QUERY against PASSAGE (cosine x 100) and give each "
                       "word its share: the score minus the score with that word deleted "
                       "(+ pushes the score up, - pulls it down). Chinese and Japanese are "
                       "split per character.")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("passage", metavar="PASSAGE")
    p.add_argument("--rule", type=rule_name, default="retrieval", metavar="RULE",
                   help="prefix rule (default retrieval): " + rules_help())
    p.add_argument("--task", default=None, help="instruction for instruct models")
    p.add_argument("--normalise", action="store_true",
                   help="rescale each side's shares to add up to the score minus the score "
                   "with that side empty (default: raw deletion effects)")
    p.add_argument("--json", action="store_true", help="print the explanation as JSON")
    add_model_options(p)
    p.set_defaults(func=run)


def word_lines(words: list[str], shares: list[float], scale: float) -> list[str]:
    """One line per word: signed share, a bar (█ up, ░ down) and the word, in text order."""
    width = max((len(w) for w in words), default=0)
    out = []
    for word, share in zip(words, shares, strict=True):
        n = round(abs(share) / scale * BAR) if scale > 0 else 0
        bar = ("█" if share >= 0 else "░") * n
        out.append(f"  {share:+6.2f}  {word:<{min(width, 24)}}  {bar}")
    return out


def format_text(e, describe: str = "") -> str:
    """The explanation for a terminal: score, then both sides' words with signed shares."""
    scale = max((abs(x) for x in e.query_shares + e.passage_shares), default=0.0)
    lines = [f"score {e.score:.2f} (cosine {e.score / 100:.4f}; rule {e.rule}: "
             f"{PREFIX_RULES[e.rule].label})",
             f"share = score minus the score with that word deleted (+ pushes up, - pulls "
             f"down); with the query empty: {e.query_baseline:.2f}, with the passage empty: "
             f"{e.passage_baseline:.2f}"
             + (" (shares rescaled to add up to the difference)"
                if e.method.endswith("normalised") else ""),
             "query:", *word_lines(e.query_words, e.query_shares, scale),
             "passage:", *word_lines(e.passage_words, e.passage_shares, scale)]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from e5desk.workflows.pair import ExplainSettings, explain

    if not args.query.strip() or not args.passage.strip():
        raise E5DeskError("explain needs a query and a passage (both non-empty)")
    encoder = load_encoder(args)
    e = explain(encoder, args.query, args.passage,
                ExplainSettings(args.rule, args.task, args.normalise))
    if args.json:
        print(json.dumps(e.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_text(e))
    print(f"({encoder.describe()}; scores are cosine x 100)", file=sys.stderr)
    return 0
