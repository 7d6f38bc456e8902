"""Where and how a model runs: the device, precision and long-text choices, with their
help. One definition for the CLI options, the window's model panel and the encoder.

Torch-free on purpose: the window imports this and never imports torch.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    key: str  # what the CLI takes and the encoder reads
    label: str  # how a picker shows it
    help: str  # one line: what it does


DEVICE_CHOICES: tuple[Choice, ...] = (
    Choice("auto", "auto (best available)", "a CUDA GPU, else Apple Metal, else the CPU"),
    Choice("cpu", "cpu", "the CPU"),
    Choice("cuda", "cuda (NVIDIA GPU)", "the first CUDA GPU"),
    Choice("mps", "mps (Apple Metal)", "the GPU of Apple silicon"),
)
# auto: the reduced number format where this machine runs it natively AND the encoder's
#   quality gate holds for it. fast: the same formats without the gate (on AVX2-only CPUs
#   the only faster path, dynamic int8, cost MRR@10 0.766 -> 0.658 on the bundled retrieval
#   sample and min cosine 0.95 to exact, so it is never implied).
PRECISION_CHOICES: tuple[Choice, ...] = (
    Choice("auto", "auto (fastest that keeps the vectors)",
           "float16 on GPUs, bfloat16 on CPUs with native bf16, where a quality gate holds "
           "(cosine to exact >= 0.999), else float32"),
    Choice("exact", "exact (float32)", "float32 always: the model card's vectors"),
    Choice("fast", "fast (reduced, no quality gate)",
           "float16 on GPUs, bfloat16 on CPUs with native bf16, without the gate"),
    Choice("int8", "int8 (CPU, less accurate)",
           "dynamic int8 linear layers on the CPU: faster, less accurate"),
)
LONG_TEXT_CHOICES: tuple[Choice, ...] = (
    Choice("truncate", "truncate", "cut texts over 512 tokens, like the model card"),
    Choice("windows", "windows", "average 510-token windows of texts over 512 tokens"),
)
# Which runtime runs the forward passes (e5desk.core.engines): the exported graph in ONNX
# Runtime / OpenVINO ("fused": no per-operation overhead, the fastest for single texts) or
# torch (every device and precision; its bf16 GEMMs may win big batches).
ENGINE_CHOICES: tuple[Choice, ...] = (
    Choice("auto", "auto (fastest measured)",
           "on the CPU a fused runtime (OpenVINO, else ONNX Runtime) for single texts and "
           "small batches and torch for big batches where it is faster, the crossover "
           "measured once on this machine; torch on GPUs, for int8, or without a runtime"),
    Choice("torch", "torch", "PyTorch: every device and precision"),
    Choice("onnxruntime", "ONNX Runtime (CPU)",
           "the model exported once to ONNX, run by ONNX Runtime on the CPU in float32 "
           "(pip install onnxruntime)"),
    Choice("openvino", "OpenVINO (CPU)",
           "the exported model run by OpenVINO on the CPU: bfloat16 where the precision "
           "chose it (native bf16 CPUs), else float32 (pip install openvino)"),
)
# Fine-tuning: the number format of the training steps (not of the vectors).
TRAIN_PRECISION_CHOICES: tuple[Choice, ...] = (
    Choice("fast", "fast (bf16 autocast)",
           "bf16 autocast where the CPU (or GPU) has bf16, else float32"),
    Choice("exact", "exact (float32)", "float32 throughout"),
)

DEVICES = tuple(c.key for c in DEVICE_CHOICES)
PRECISIONS = tuple(c.key for c in PRECISION_CHOICES)
LONG_TEXT_MODES = tuple(c.key for c in LONG_TEXT_CHOICES)
TRAIN_PRECISIONS = tuple(c.key for c in TRAIN_PRECISION_CHOICES)
ENGINES = tuple(c.key for c in ENGINE_CHOICES)
DEFAULT_DEVICE = "auto"
DEFAULT_PRECISION = "auto"
DEFAULT_LONG_TEXT = "truncate"
DEFAULT_TRAIN_PRECISION = "fast"
# torch where torch is installed (the pip install): `auto`'s first use exports the model
# (~24 s) and OpenVINO's compiled cache takes ~1.4 GB; openvino/onnxruntime are in the
# `bench` extra (README, "Engines"). The desktop app has no torch: there `auto` runs the
# graph shipped in the bundle with ONNX Runtime (find_spec: nothing is imported).
DEFAULT_ENGINE = "torch" if importlib.util.find_spec("torch") is not None else "auto"


def choices_help(choices: tuple[Choice, ...], default: str | None = None) -> str:
    """'auto (default) = ...; exact = ...' for option help."""
    return "; ".join(f"{c.key}{' (default)' if c.key == default else ''} = {c.help}"
                     for c in choices)
