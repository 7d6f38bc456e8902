"""ONNX Runtime and OpenVINO sessions over the exported graph: ``forward(ids, mask) ->
mean vectors`` (float32, not yet normalised). Imported lazily: neither runtime is a
dependency of the app (``pip install onnxruntime`` / ``pip install openvino``)."""

from __future__ import annotations

import atexit
import importlib.util
import threading
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


# One text of up to this many tokens runs in a model compiled for exactly one row of the
# next width here (padded, mask 0): 7-15 % faster than the dynamic-shape model on a single
# text (benchmarks/engine_choice.py), ~0.3 s to compile and ~100 MB each, so a width is
# compiled only when single texts of it repeat (the second one: a search box, a service, not
# a one-line command), in the background, and used once it agrees with the dynamic model.
SINGLE_WIDTHS = (16, 32, 64)
SINGLE_AGREEMENT = 0.9999  # min cosine to the dynamic model's vector for the same text


class OvSession:
    """OpenVINO on the CPU; ``bf16`` runs the matmuls in bfloat16 (AMX / AVX-512 BF16).
    Compiled blobs are cached beside the graph, so later loads skip compilation."""

    def __init__(self, gdir: Path, fmt: str, threads: int, cache: bool = True) -> None:
        import openvino as ov

        core = ov.Core()
        self.core, self.path = core, gdir / GRAPH_FILE
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
        self.config = {k: v for k, v in config.items() if k != "CACHE_DIR"}
        self.single: dict[int, object] = {}  # width -> infer request of a (1, width) model
        self._seen: dict[int, int] = {}  # width -> single texts run dynamically
        self.serving = False  # set once the parity probes and the crossover have run

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if ids.shape[0] == 1 and ids.shape[1] <= SINGLE_WIDTHS[-1]:
            width = next(w for w in SINGLE_WIDTHS if w >= ids.shape[1])
            request = self.single.get(width)
            if request is not None:
                return self._infer(request, *_padded(ids, mask, width))
            out = self._infer(self.request, ids, mask)
            self._seen[width] = self._seen.get(width, 0) + self.serving
            if self._seen[width] == 2:
                thread = threading.Thread(target=self._compile_single, name="e5desk-openvino",
                                          args=(width, ids, mask, out), daemon=True)
                thread.start()
                _COMPILING.append(thread)
            return out
        return self._infer(self.request, ids, mask)

    @staticmethod
    def _infer(request, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        request.infer({"input_ids": ids, "attention_mask": mask})
        return np.array(request.get_output_tensor(0).data, dtype=np.float32)

    def _compile_single(self, width: int, ids, mask, want: np.ndarray) -> None:
        """Compile the graph for one row of ``width`` tokens; use it only if it gives the
        dynamic model's vector for the text that asked for it."""
        try:
            model = self.core.read_model(str(self.path))
            model.reshape({"input_ids": [1, width], "attention_mask": [1, width]})
            request = self.core.compile_model(model, "CPU", self.config).create_infer_request()
            del model
            got = self._infer(request, *_padded(ids, mask, width))
            cosine = float((got @ want.T).item() / max(
                float(np.linalg.norm(got) * np.linalg.norm(want)), 1e-12))
        except Exception:  # noqa: BLE001 - the dynamic model goes on serving single texts
            return
        if cosine >= SINGLE_AGREEMENT:
            self.single[width] = request


_COMPILING: list[threading.Thread] = []


@atexit.register
def _finish_compiling() -> None:
    """A compile still running while the interpreter shuts down would outlive the runtime
    it uses: wait for it (a fraction of a second)."""
    for thread in _COMPILING:
        thread.join(timeout=30)


def _padded(ids: np.ndarray, mask: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """One row padded to ``width`` tokens: masked positions change no vector."""
    out_ids = np.ones((1, width), dtype=ids.dtype)
    out_mask = np.zeros((1, width), dtype=mask.dtype)
    out_ids[:, : ids.shape[1]] = ids
    out_mask[:, : mask.shape[1]] = mask
    return out_ids, out_mask


SESSIONS = {"onnxruntime": OrtSession, "openvino": OvSession}


def open_session(runtime: str, gdir: Path, fmt: str, threads: int, cache: bool = True):
    require(runtime)
    try:
        return SESSIONS[runtime](gdir, fmt, threads, cache)
    except E5DeskError:
        raise
    except Exception as exc:  # noqa: BLE001 - any runtime failure, said plainly
        raise E5DeskError(f"{runtime} could not load the exported model {gdir}: {exc}") from exc
