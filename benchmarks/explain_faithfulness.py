"""Is `e5desk explain` faithful? The deletion test over real pairs.

For each pair: explain it, delete the passage's 2 words with the highest share (both at
once) and re-score; compare with deleting 2 random words of the same passage (the mean of
``--draws`` random draws per pair, seeded). A faithful attribution lowers the score clearly
more with its top-2 words than at random. The same on the query side, and a check of how
much of ``score - baseline`` the raw shares add up to.

Pairs: every (query, positive passage) of the bundled retrieval sample
(resources/samples/retrieval: 52 queries in 11 languages, 61 positives, 45 cross-lingual)
under the retrieval rule, and English -> other-language translations of the bundled
phrases (resources/samples/phrases.csv, first 16 meanings x 8 languages) under the
symmetric rule.

    .venv/bin/python benchmarks/explain_faithfulness.py [--draws 5] [--phrases 16]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from e5desk.core.encoder import Encoder  # noqa: E402
from e5desk.core.explain import explain_pair, segment, without  # noqa: E402
from e5desk.core.prefix_rules import roles_for  # noqa: E402


def retrieval_pairs() -> list[tuple[str, str]]:
    folder = ROOT / "resources/samples/retrieval"
    passages = [json.loads(line)["contents"] for line in
                (folder / "passages.jsonl").read_text(encoding="utf-8").splitlines() if line]
    pairs = []
    for line in (folder / "train.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            pairs += [(row["query"], passages[int(d)]) for d in row["positives"]["doc_id"]]
    return pairs


def phrase_pairs(meanings: int) -> list[tuple[str, str]]:
    with open(ROOT / "resources/samples/phrases.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:meanings]
    langs = ["es", "fr", "de", "ru", "zh-Hans", "ja", "ar", "hi"]
    return [(r["en"], r[x]) for r in rows for x in langs]


def pair_scores(encoder, rule: str, pairs: list[tuple[str, str]]) -> np.ndarray:
    q_role, p_role = roles_for(rule)
    inputs = (encoder.format([q for q, _ in pairs], q_role)
              + encoder.format([p for _, p in pairs], p_role))
    v = encoder.encode_inputs(inputs).vectors
    q, p = v[: len(pairs)], v[len(pairs):]
    return (q * p).sum(1) * 100


def deletion_test(encoder, pairs, rule: str, draws: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    tokenize = encoder.tokenize
    top_p, rand_p, top_q, rand_q, additivity = [], [], [], [], []
    seconds = []
    for query, passage in pairs:
        t = time.perf_counter()
        e = explain_pair(encoder, query, passage, rule)
        seconds.append(time.perf_counter() - t)
        for side, text, words_n, top, out_top, out_rand in (
                ("passage", passage, len(e.passage_words), e.top("passage", 2), top_p, rand_p),
                ("query", query, len(e.query_words), e.top("query", 2), top_q, rand_q)):
            if words_n < 3:
                continue  # deleting 2 of 2 words is the empty-side baseline, not a test
            words = segment(text, tokenize)
            variants = [without(text, words, set(top))]
            variants += [without(text, words, set(rng.sample(range(words_n), 2)))
                         for _ in range(draws)]
            if side == "passage":
                scores = pair_scores(encoder, rule, [(query, v) for v in variants])
            else:
                scores = pair_scores(encoder, rule, [(v, passage) for v in variants])
            out_top.append(e.score - scores[0])
            out_rand.append(float(np.mean(e.score - scores[1:])))
        total = sum(e.passage_shares)
        target = e.score - e.passage_baseline
        additivity.append(total / target if abs(target) > 1e-6 else np.nan)
    return {"rule": rule, "pairs": len(pairs),
            "passage_top2_drop": float(np.mean(top_p)),
            "passage_random2_drop": float(np.mean(rand_p)),
            "passage_top2_beats_random": float(np.mean(np.array(top_p) > np.array(rand_p))),
            "passage_pairs_tested": len(top_p),
            "query_top2_drop": float(np.mean(top_q)) if top_q else None,
            "query_random2_drop": float(np.mean(rand_q)) if rand_q else None,
            "query_pairs_tested": len(top_q),
            "median_sum_of_shares_over_score_minus_baseline": float(np.nanmedian(additivity)),
            "explain_seconds_median": float(np.median(seconds)),
            "explain_seconds_max": float(np.max(seconds))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=5, help="random draws per pair")
    ap.add_argument("--phrases", type=int, default=16, help="meanings from phrases.csv")
    args = ap.parse_args()
    encoder = Encoder.load(None, device="cpu", precision="exact", cache=False)
    encoder.encode(["warm up"])
    for name, pairs, rule in (("retrieval sample: query -> positive passage",
                               retrieval_pairs(), "retrieval"),
                              ("phrases: English -> translation", phrase_pairs(args.phrases),
                               "symmetric")):
        t = time.perf_counter()
        result = deletion_test(encoder, pairs, rule, args.draws)
        result["seconds"] = round(time.perf_counter() - t, 1)
        print(name)
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
