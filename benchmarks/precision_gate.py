"""The quality gate of precision 'auto': each reduced number format against float32.

For bfloat16 and float16 (float16 arithmetic on the CPU stands in for a GPU where none is
present): the lowest cosine to the float32 vector over the benchmark corpus
(benchmarks/corpus.py) and MRR@10 on the bundled retrieval sample
(resources/samples/retrieval), float32 beside it. The numbers go into
``e5desk.core.encoder.GATE_MEASURED``; 'auto' uses a format only where min cosine >= 0.999
and MRR@10 drops by at most 0.005.

    .venv/bin/python benchmarks/precision_gate.py [--n 2000] [--fp16-n 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--fp16-n", type=int, default=300,
                        help="sentences for float16 on the CPU (slow there: emulated)")
    args = parser.parse_args()

    import torch
    from corpus import benchmark_sentences

    from e5desk.core.data import load_sentence_set
    from e5desk.core.encoder import (
        GATE_MAX_MRR_DROP,
        GATE_MIN_COSINE,
        Encoder,
        cpu_flags,
    )
    from e5desk.core.evaluate import EvalData, evaluate_retrieval

    texts = benchmark_sentences(args.n)
    sample = load_sentence_set(HERE.parent / "resources" / "samples" / "retrieval" /
                               "train.jsonl").sentence_set
    data = EvalData.from_set(sample)
    exact = Encoder.load(None, device="cpu", precision="exact")
    source = exact.source

    def measure(enc: Encoder, n: int) -> tuple[float, float, float]:
        t0 = time.perf_counter()
        v = enc.encode(texts[:n])
        seconds = time.perf_counter() - t0
        q = enc.encode(data.queries, role="query")
        p = enc.encode(data.passages, role="passage")
        return v, evaluate_retrieval(q, p, data.relevant)["MRR@10"], seconds

    ref, ref_mrr, ref_s = measure(exact, args.n)
    flags = sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx", "avx2")))
    print(f"{source.name}; torch {torch.__version__}; CPU flags: {' '.join(flags)}")
    print(f"gate: min cosine >= {GATE_MIN_COSINE}, MRR@10 drop <= {GATE_MAX_MRR_DROP}")
    print(f"float32   MRR@10 {ref_mrr:.4f}  ({args.n / ref_s:.0f} sentences/s)")
    for dtype, n in (("bfloat16", args.n), ("float16", args.fp16_n)):
        enc = Encoder(source, device="cpu", precision="exact")
        enc.dtype = dtype  # the format under test, on this CPU
        vec, mrr, seconds = measure(enc, n)
        cos = float((vec * ref[:n]).sum(1).min())
        ok = cos >= GATE_MIN_COSINE and ref_mrr - mrr <= GATE_MAX_MRR_DROP
        print(f"{dtype:9} MRR@10 {mrr:.4f}  min cosine {cos:.5f} "
              f"over {n}  ({n / seconds:.0f} sentences/s)  gate {'passes' if ok else 'FAILS'}")


if __name__ == "__main__":
    main()
