"""Which engine runs the encoder's forward passes: torch, or the model exported once to ONNX
and run by ONNX Runtime or OpenVINO (a "fused runtime": whole-graph kernels, no per-op
Python overhead, which is most of the cost of one short text in torch).

Everything around the forward pass stays the Encoder's: the family's prefixes, the
tokenizer, truncation and its reporting, long-text windows, the embedding cache, L2
normalisation. Only ``(ids, mask) -> mean vectors`` changes hands, so the engines cannot
disagree on what a text means, only (within the parity gate) on its last digits.

- ``torch``: as before, every device and precision.
- ``onnxruntime``: CPU, float32.
- ``openvino``: CPU, bfloat16 where the encoder's precision chose bfloat16 (native bf16 CPU),
  else float32.
- a graph shipped for the model folder (the desktop app's, ``graph.shipped_graph``): its
  runtime and format for every batch of ``auto`` or that runtime, tokenizer + graph only,
  torch never imported (the app has no torch).
- ``auto``: on the CPU, the fused runtime (OpenVINO if installed, else ONNX Runtime) for
  forward batches up to a measured size, torch above it; torch alone on GPUs, for int8, or
  when no runtime is installed (silently) or the export fails its parity check (logged).

Each runtime/number format is checked against exact float32 torch vectors of a probe batch
(min cosine >= 0.9999 for float32, >= 0.999 for bf16) before it may make vectors; an
explicit engine that fails refuses with the figure, ``auto`` falls back to torch.
"""

from __future__ import annotations

import logging
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from e5desk.core.engines import crossover
from e5desk.core.engines.runtimes import (
    INSTALL,
    installed,
    require,
    require_torch,
    torch_installed,
)
from e5desk.core.errors import Cancelled, E5DeskError, ModelError

log = logging.getLogger(__name__)

FUSED_RUNTIMES = ("onnxruntime", "openvino")
TORCH_NEEDED_SHORT = ("needs torch, which this install does not have: the desktop app runs "
                      "the embedded models only; install e5desk with pip (pip install e5desk) "
                      "for other models")
PARITY_MIN = {"f32": 0.9999, "bf16": 0.999, "q4": 0.999, "q4-bf16": 0.999}
RUNTIME_NAMES = {"onnxruntime": "ONNX Runtime", "openvino": "OpenVINO"}
FORMAT_NAMES = {"q4": "4-bit weights, f32", "q4-bf16": "4-bit weights, bf16"}


@dataclass(frozen=True)
class Fused:
    runtime: str  # onnxruntime | openvino
    fmt: str  # f32 | bf16

    @property
    def label(self) -> str:
        return f"{self.runtime}.{self.fmt}"

    @property
    def display(self) -> str:
        return f"{RUNTIME_NAMES[self.runtime]} {FORMAT_NAMES.get(self.fmt, self.fmt)}"


@dataclass(frozen=True)
class EnginePlan:
    """What the engine choice means for one encoder (decided without loading anything)."""

    engine: str  # as asked: auto | torch | onnxruntime | openvino
    fused: Fused | None  # the fused runtime that may run batches; None = torch only
    torch_numbers: str  # the torch number format, e.g. "torch.bfloat16"
    why: str  # one line for the model card
    shipped: object = None  # graph.ShippedGraph: the fused runtime runs every batch

    @property
    def numbers(self) -> str:
        """The number format part of ``Encoder.model_id``: vectors of different engines are
        never mixed in a cache (torch alone keeps the name it always had)."""
        if self.fused is None:
            return self.torch_numbers
        if self.engine == "auto" and self.shipped is None:
            return f"auto[{self.fused.label}|{self.torch_numbers}]"
        return self.fused.label


def _fmt_for(runtime: str, dtype: str) -> str:
    return "bf16" if runtime == "openvino" and dtype == "bfloat16" else "f32"


def plan_engine(engine: str, device: str, dtype: str, torch_numbers: str,
                shipped=None) -> EnginePlan:
    """The plan for ``engine`` on ``device`` with the encoder's number format ``dtype``;
    ``shipped``: the model folder's shipped graph (``graph.shipped_graph``), if any.
    An explicit fused engine that cannot run here raises E5DeskError saying why."""
    if engine == "torch":
        require_torch("--engine torch")
        return EnginePlan(engine, None, torch_numbers, "torch, as asked")
    if (shipped is not None and engine in ("auto", shipped.runtime) and device == "cpu"
            and dtype != "int8" and installed(shipped.runtime)):
        fused = Fused(shipped.runtime, shipped.fmt_for(dtype))
        measured = shipped.parity[fused.fmt]
        return EnginePlan(engine, fused, torch_numbers,
                          f"{fused.display} for every batch: the graph shipped for this "
                          f"model (min cosine {measured['min_cosine']:.5f} to float32 on "
                          f"{measured['texts']:,} texts)", shipped)
    if not torch_installed():
        raise E5DeskError(
            f"--engine {engine}: this model has no graph shipped with the app, and making "
            f"one (or running it otherwise) {TORCH_NEEDED_SHORT}")
    if engine in FUSED_RUNTIMES:
        require(engine)
        if device != "cpu":
            raise E5DeskError(f"--engine {engine} runs on the CPU here: use --device cpu, or "
                              f"--engine torch for {device}")
        if dtype == "int8":
            raise E5DeskError(f"int8 runs on the torch engine only: use --engine torch, or "
                              f"--precision auto or exact with --engine {engine}")
        fused = Fused(engine, _fmt_for(engine, dtype))
        note = (" (ONNX Runtime has no bfloat16 CPU kernels)"
                if engine == "onnxruntime" and dtype == "bfloat16" else "")
        return EnginePlan(engine, fused, torch_numbers,
                          f"{fused.display} for every batch, as asked{note}")
    if engine != "auto":
        from e5desk.core.options import ENGINES

        raise E5DeskError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if device != "cpu":
        return EnginePlan(engine, None, torch_numbers, f"torch: the fused runtimes run on "
                          f"the CPU here, the model on {device}")
    if dtype == "int8":
        return EnginePlan(engine, None, torch_numbers, "torch: int8 runs on torch only")
    runtime = next((r for r in ("openvino", "onnxruntime") if installed(r)), None)
    if runtime is None:
        return EnginePlan(engine, None, torch_numbers, "torch: no fused runtime installed "
                          f"({INSTALL['openvino']} or {INSTALL['onnxruntime']})")
    fused = Fused(runtime, _fmt_for(runtime, dtype))
    return EnginePlan(engine, fused, torch_numbers,
                      f"{fused.display} for single texts and small batches, "
                      f"{torch_numbers.replace('torch.', 'torch ')} for big batches where "
                      "it is faster (measured once on this machine)")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def torch_means(encoder, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """One forward batch through the encoder's torch model: mean over the mask."""
    require_torch("the torch engine")
    import torch

    device = encoder.device if encoder.dtype != "int8" else "cpu"
    with torch.inference_mode():
        t_mask = torch.from_numpy(mask).to(device)
        hidden = encoder._model(input_ids=torch.from_numpy(ids).to(device),
                                attention_mask=t_mask).last_hidden_state
        m = t_mask.unsqueeze(-1).to(torch.float32)
        return ((hidden.to(torch.float32) * m).sum(1) / m.sum(1)).cpu().numpy()


class EngineRunner:
    """The fused session of one encoder, opened on first use (export once, parity, and for
    ``auto`` the crossover, measured once per machine)."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder
        self.plan: EnginePlan = encoder.engine_plan
        self.session = None
        self.crossover: crossover.Crossover | None = None
        self.min_cosine: float | None = None
        self.graph: Path | None = None

    @property
    def fused(self) -> Fused | None:
        return self.plan.fused

    def _threads(self) -> int:
        from e5desk.core.encoder import physical_cores

        return int(self.encoder.threads or physical_cores())

    def key(self) -> str:
        assert self.graph is not None
        digest = self.graph.name.rsplit("-", 1)[-1]
        return (f"{digest}|{self.fused.label}|{self.plan.torch_numbers}|{cpu_name()}|"
                f"{self._threads()}")

    def open(self) -> bool:
        """True when the fused runtime may run batches (False: auto fell back to torch)."""
        if self.session is not None:
            return True
        if self.fused is None:
            return False
        try:
            return self._open()
        except (Cancelled, KeyboardInterrupt):
            raise
        except E5DeskError as exc:
            if self.plan.engine != "auto" or not torch_installed():  # nothing to fall to
                raise
            self._fall_back(str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - an export or runtime failure
            if self.plan.engine != "auto" or not torch_installed():
                raise ModelError(f"--engine {self.fused.runtime}: {exc}") from exc
            self._fall_back(f"{type(exc).__name__}: {exc}")
            return False

    def _fall_back(self, why: str) -> None:
        log.warning("engine auto: %s cannot be used (%s): torch runs every batch",
                    self.fused.display, why)
        self.plan = EnginePlan("auto", None, self.plan.torch_numbers,
                               f"torch: {self.fused.display} could not be used ({why})")

    def _open(self) -> bool:
        from e5desk.core.engines import graph
        from e5desk.core.engines.runtimes import open_session

        enc = self.encoder
        if self.plan.shipped is not None:
            return self._open_shipped()
        self.graph = graph.ensure_graph(enc.source.path, enc._tokenizer, enc.max_tokens)
        session = open_session(self.fused.runtime, self.graph, self.fused.fmt, self._threads())
        self.min_cosine = graph.parity(self.graph, self.fused.label, session)
        want = PARITY_MIN[self.fused.fmt]
        if self.min_cosine < want:
            raise E5DeskError(
                f"{self.fused.display} vectors differ from exact float32 on this model (min "
                f"cosine {self.min_cosine:.5f} < {want}): use --engine torch")
        if self.plan.engine == "auto":
            key = self.key()
            found = crossover.stored(key)
            if found is None:
                pad = enc._tokenizer.pad_token_id or 0
                seq = enc._tokenizer(graph.PROBE_TEXTS[2])["input_ids"]
                budget = min(enc.batch_tokens, 16384)
                found = crossover.measure(session, lambda i, m: torch_means(enc, i, m), seq,
                                          pad, budget=budget)
                crossover.store(key, found)
                log.info("engine auto: %s", found.summary(self.fused.display,
                                                           self.plan.torch_numbers))
            self.crossover = found
        self.session = session
        return True

    def _open_shipped(self) -> bool:
        from e5desk.core.engines import graph
        from e5desk.core.engines.runtimes import open_session

        shipped = self.plan.shipped
        self.graph = shipped.path
        # no compiled-model cache: the app folder stays untouched (OpenVINO compiles in ~1 s)
        session = open_session(self.fused.runtime, shipped.path, self.fused.fmt,
                               self._threads(), cache=False)
        self.min_cosine = graph.shipped_parity(shipped, self.fused.fmt, session)
        want = PARITY_MIN[self.fused.fmt]
        if self.min_cosine < want:
            raise E5DeskError(
                f"the graph shipped in {shipped.path} gives vectors that differ from exact "
                f"float32 (min cosine {self.min_cosine:.5f} < {want}): reinstall the app")
        self.session = session
        return True

    def _peek(self) -> None:
        """The stored crossover, if this model was measured here (opens nothing)."""
        from e5desk.core.engines import graph

        folder = self.encoder.source.path
        try:
            name = graph.graph_dir(folder, "x").name[:-1]
            if any(p.name.startswith(name) for p in graph.engines_dir().iterdir()):
                gdir = graph.graph_dir(folder)
                if gdir.is_dir():
                    self.graph = gdir
                    self.crossover = crossover.stored(self.key())
        except (OSError, E5DeskError):
            return

    def use_fused(self, rows: int, width: int) -> bool:
        if self.plan.engine != "auto" or self.plan.shipped is not None:
            return True
        return self.crossover is None or self.crossover.use_fused(rows, width)

    def describe(self) -> str:
        """Which engine runs what, and why (the model card, ``e5desk models``)."""
        if self.fused is None:
            return self.plan.why
        if self.plan.engine == "auto" and self.crossover is None and self.plan.shipped is None:
            self._peek()
        if self.plan.engine == "auto" and self.crossover is not None:
            return "auto: " + self.crossover.summary(
                self.fused.display, self.plan.torch_numbers.replace("torch.", "torch "))
        return self.plan.why

    def forward(self):
        """The forward-batch function of one encode call (``Encoder._run`` does the
        batching): ``(ids, mask) -> mean vectors``, each batch sent to the fused runtime or
        to torch by its shape. Opens the runtime first (auto falls back to torch)."""
        enc = self.encoder
        if not self.open():
            return lambda ids, mask: torch_means(enc, ids, mask)

        def forward(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            if self.use_fused(*ids.shape):
                return self.session(ids, mask)
            return torch_means(enc, ids, mask)

        return forward


def runner(encoder) -> EngineRunner:
    """The encoder's runner (one per encoder, made on first use)."""
    found = getattr(encoder, "_engine_runner", None)
    if found is None:
        found = encoder._engine_runner = EngineRunner(encoder)
    return found


def engines_overview() -> list[str]:
    """One line per engine: installed or not, and what it runs here (``e5desk models``)."""
    from e5desk.core.encoder import cpu_has_native_bf16

    bf16 = cpu_has_native_bf16()
    lines = ["torch: every device and precision (always installed with the pip package)"
             if torch_installed() else
             "torch: not in this install (the desktop app): pip install e5desk for it"]
    for r in FUSED_RUNTIMES:
        if not installed(r):
            lines.append(f"{r}: not installed ({INSTALL[r]})")
        elif r == "openvino":
            lines.append("openvino: CPU, " + ("bf16 (this CPU has native bf16) or f32"
                                              if bf16 else "f32 (no native bf16 here)"))
        else:
            lines.append("onnxruntime: CPU, f32")
    return lines


def stored_choices(folder: Path) -> list[str]:
    """What ``auto`` measured for this model folder on this machine, if it has run."""
    from e5desk.core.engines import graph

    name = graph.graph_dir(folder, "x").name[:-1]  # no digest: nothing hashed yet
    if not any(p.name.startswith(name) for p in graph.engines_dir().iterdir()):
        return []  # never exported here: nothing was measured
    try:
        gdir = graph.graph_dir(folder)
    except (OSError, E5DeskError):
        return []
    digest = gdir.name.rsplit("-", 1)[-1]
    out = []
    for key, found in crossover.stored_for(digest):
        _, label, torch_numbers, cpu, threads = (key.split("|") + [""] * 5)[:5]
        if cpu != cpu_name():
            continue
        runtime, fmt = (label.split(".") + [""])[:2]
        name = f"{RUNTIME_NAMES.get(runtime, runtime)} {fmt}"
        out.append(f"auto ({torch_numbers.replace('torch.', 'torch ')}, {threads} threads): "
                   + found.summary(name, torch_numbers.replace("torch.", "torch ")))
    return out
