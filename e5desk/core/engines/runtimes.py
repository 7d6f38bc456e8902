"""ONNX Runtime and OpenVINO sessions over the exported graph: ``forward(ids, mask) ->
mean vectors`` (float32, not yet normalised). Imported lazily: neither runtime is a
dependency of the app (``pip install onnxruntime`` / ``pip install openvino``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from e5desk.core.engines.graph import GRAPH_FILE
from e5desk.core.errors import E5DeskError

INSTALL = {"onnxruntime": "pip install onnxruntime", "openvino": "pip install openvino"}


def installed(runtime: str) -> bool:
    return importlib.util.find_spec(runtime) is not None


# What the torch-only paths say where torch is absent (the desktop app ships without it).
TORCH_NEEDED = ("needs torch, which this install does not have (the desktop app runs the "
                "embedded models from their shipped graphs only): install e5desk with pip "
                "(pip install e5desk) for it")


def torch_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def require_torch(what: str) -> None:
    if not torch_installed():
        raise E5DeskError(f"{what} {TORCH_NEEDED}")


def require(runtime: str) -> None:
    if not installed(runtime):
        raise E5DeskError(f"--engine {runtime} needs: {INSTALL[runtime]}")


class OrtSession:
    """ONNX Runtime, CPU execution provider, one intra-op thread per physical core."""

    def __init__(self, gdir: Path, fmt: str, threads: int, cache: bool = True) -> None:
        import onnxruntime as ort

        if fmt not in ("f32", "q4"):  # q4: 4-bit weights (compress.py), float32 compute
            raise E5DeskError(f"ONNX Runtime runs this graph in float32 only, not {fmt}")
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.log_severity_level = 3
        self.session = ort.InferenceSession(str(gdir / GRAPH_FILE), so,
                                            providers=["CPUExecutionProvider"])

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]


class OvSession:
    """OpenVINO on the CPU; ``bf16`` runs the matmuls in bfloat16 (AMX / AVX-512 BF16).
    Compiled blobs are cached beside the graph, so later loads skip compilation."""

    def __init__(self, gdir: Path, fmt: str, threads: int, cache: bool = True) -> None:
        import openvino as ov

        core = ov.Core()
        config = {"INFERENCE_PRECISION_HINT": "bf16" if fmt.endswith("bf16") else "f32",
                  "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        if fmt.startswith("q4"):
            # 4-bit weights: by default the CPU plugin also quantises activations to int8
            # on the fly (min cosine 0.99984 in f32); off, f32 gives the exact vectors
            config["DYNAMIC_QUANTIZATION_GROUP_SIZE"] = 0
        if cache:
            # One cache folder per number format: OpenVINO 2026.4's cache key leaves the
            # precision hint out, and a bf16 model loaded from an f32 blob gives NaN.
            folder = gdir / f"openvino-cache-{fmt}"
            folder.mkdir(exist_ok=True)
            config["CACHE_DIR"] = str(folder)
        self.compiled = core.compile_model(str(gdir / GRAPH_FILE), "CPU", config)
        self.request = self.compiled.create_infer_request()

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self.request.infer({"input_ids": ids, "attention_mask": mask})
        return np.array(self.request.get_output_tensor(0).data, dtype=np.float32)


SESSIONS = {"onnxruntime": OrtSession, "openvino": OvSession}


def open_session(runtime: str, gdir: Path, fmt: str, threads: int, cache: bool = True):
    require(runtime)
    try:
        return SESSIONS[runtime](gdir, fmt, threads, cache)
    except E5DeskError:
        raise
    except Exception as exc:  # noqa: BLE001 - any runtime failure, said plainly
        raise E5DeskError(f"{runtime} could not load the exported model {gdir}: {exc}") from exc
