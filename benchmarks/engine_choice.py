"""Engine choice (issue 29): e5desk's engines against the fastest peers, as ratios, one run.

Measures, on the same 2,000 mixed-length multilingual sentences (benchmarks/corpus.py) and the
same model folder (the embedded multilingual-e5-small):

- e5desk --engine auto / torch / onnxruntime / openvino (precision auto: bfloat16 on CPUs with
  native bf16, so torch and OpenVINO run bf16 there, ONNX Runtime float32),
- OpenVINO bf16 used directly (benchmarks/embed_throughput.py's peer: the exported graph, batches
  of 32, numpy pooling) and sentence-transformers (float32 torch),

each in its own process: sentences/s over the 2,000 sentences, single-text latency (median of
50 one-text calls, e5desk's embedding cache off), min cosine to sentence-transformers' float32
vectors. Rounds are interleaved (engine A, B, ..., then again) and each engine's best round
kept, because the machine may be shared: the load average is printed beside the table. The
ratios compare e5desk auto with OpenVINO bf16 and sentence-transformers (single text: their
latency / auto's, so > 1 means auto is faster; throughput: auto's rate / theirs).

auto's crossover (e5desk.core.engines.crossover) is measured once per machine before the
rounds, outside the timings, and printed.

    .venv/bin/python benchmarks/engine_choice.py [--n 2000] [--repeat 2] [--json OUT.json]
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

E5DESK = ["auto", "torch", "onnxruntime", "openvino"]
PEERS = ["openvino-bf16", "sentence-transformers"]
PROBE = "Where is the railway station? I would like a cup of coffee with milk, please."


def _engine(name: str):
    """(batch fn, single fn, dtype label) with the model loaded."""
    if name.startswith("e5desk-"):
        from e5desk.core.encoder import Encoder

        enc = Encoder.load(None, device="cpu", precision="auto", engine=name[7:], cache=False)
        enc.encode(["warm up the engine"])  # export / parity / crossover stored beforehand
        label = enc.engine_plan.numbers
        return (lambda texts: enc.encode(texts, role="query"),
                lambda text: enc.encode([text], role="query"), label)
    from embed_throughput import _engine as peer

    batch, single = peer(name)
    return batch, single, "float32" if name == "sentence-transformers" else "bf16"


def run_engine(name: str, n: int) -> dict:
    import numpy as np
    from corpus import benchmark_sentences

    texts = benchmark_sentences(n)
    t0 = time.perf_counter()
    batch, single, label = _engine(name)
    load_s = time.perf_counter() - t0
    batch(texts[:64])
    t0 = time.perf_counter()
    vectors = np.asarray(batch(texts), dtype=np.float32)
    seconds = time.perf_counter() - t0
    for _ in range(5):
        single(PROBE)
    lat = []
    for _ in range(50):
        t0 = time.perf_counter()
        single(PROBE)
        lat.append(time.perf_counter() - t0)
    np.save(os.environ["E5DESK_BENCH_OUT"], vectors)
    return {"engine": name, "numbers": label, "load_s": round(load_s, 2),
            "sentences_per_s": round(n / seconds, 1),
            "single_ms": round(1000 * statistics.median(lat), 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--engines", default=",".join([f"e5desk-{e}" for e in E5DESK] + PEERS))
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        print(json.dumps(run_engine(args.engine, args.n)))
        return

    import numpy as np

    from e5desk.core.encoder import Encoder, cpu_flags, cpu_has_native_bf16

    # auto's crossover, measured (or read) once, before any timing
    enc = Encoder.load(None, device="cpu", precision="auto", engine="auto", cache=False)
    enc.encode(["measure the crossover once"])
    print(f"auto on this machine: {enc.describe()}", flush=True)
    del enc

    engines = [e for e in args.engines.split(",") if e]
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    best: dict[str, dict] = {}
    vectors: dict[str, np.ndarray] = {}
    load_before = os.getloadavg()
    for round_ in range(max(1, args.repeat)):
        for name in list(engines):
            out = tmp / f"e5desk-engine-choice-{name}.npy"
            proc = subprocess.run([sys.executable, __file__, "--engine", name, "--n",
                                   str(args.n)], capture_output=True, text=True,
                                  env=dict(os.environ, E5DESK_BENCH_OUT=str(out)))
            if proc.returncode != 0:
                if "ModuleNotFoundError" in proc.stderr or "needs: pip" in proc.stderr:
                    print(f"(skipped {name}: not installed)", file=sys.stderr)
                    engines.remove(name)
                    continue
                print(proc.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"engine {name} failed")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"round {round_ + 1}: {name} {r['sentences_per_s']} sentences/s, single "
                  f"{r['single_ms']} ms (load {os.getloadavg()[0]:.2f})", file=sys.stderr,
                  flush=True)
            old = best.get(name)
            if old is None:
                best[name], vectors[name] = r, np.load(out)
            else:  # best of rounds, each figure on its own
                old["sentences_per_s"] = max(old["sentences_per_s"], r["sentences_per_s"])
                old["single_ms"] = min(old["single_ms"], r["single_ms"])
    load_after = os.getloadavg()
    ref = vectors.get("sentence-transformers")
    rows = [best[e] for e in engines if e in best]
    for r in rows:
        r["min_cos_to_fp32"] = (round(float((vectors[r["engine"]] * ref).sum(1).min()), 5)
                                if ref is not None else None)
    flags = sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx", "avx2", "avx_vnni")))
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                .splitlines() if ln.startswith("model name")), "?")
    print(f"\n{args.n} sentences; {cpu}, {os.cpu_count()} CPUs, native bf16: "
          f"{cpu_has_native_bf16()}; flags: {' '.join(flags)}")
    print(f"best of {args.repeat} interleaved rounds; load average (1/5/15 min) before "
          f"{' '.join(f'{x:.2f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.2f}' for x in load_after)}")
    print(f"{'engine':24}{'numbers':36}{'sent/s':>9}{'single ms':>11}{'RSS MB':>8}"
          f"{'cos>=':>9}")
    for r in rows:
        print(f"{r['engine']:24}{r['numbers']:36}{r['sentences_per_s']:>9}"
              f"{r['single_ms']:>11}{r['peak_rss_mb']:>8}{r['min_cos_to_fp32'] or '-':>9}")
    rate = {r["engine"]: r for r in rows}
    ratios = []
    if "e5desk-auto" in rate:
        auto = rate["e5desk-auto"]
        for peer in ["openvino-bf16", "sentence-transformers", "e5desk-torch"]:
            if peer in rate:
                ratios.append({
                    "vs": peer,
                    "throughput": round(auto["sentences_per_s"] / rate[peer]["sentences_per_s"],
                                        2),
                    "single_text": round(rate[peer]["single_ms"] / auto["single_ms"], 2)})
    for x in ratios:
        print(f"e5desk auto vs {x['vs']}: throughput x{x['throughput']}, single text "
              f"x{x['single_text']} (> 1: auto faster)")
    if args.json:
        args.json.write_text(json.dumps({
            "sentences": args.n, "cpu": cpu, "cpus": os.cpu_count(), "cpu_flags": flags,
            "repeat": args.repeat, "load_average_before": load_before,
            "load_average_after": load_after, "engines": rows, "ratios": ratios}, indent=2))


if __name__ == "__main__":
    main()
