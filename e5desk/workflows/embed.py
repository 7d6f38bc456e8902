"""Embed texts in a role: the one call behind `e5desk embed`, `e5desk.Model.encode` and the
window's embedding of the loaded sentences (``gui/session.ensure_vectors``). The model work
is ``Encoder.encode`` (embedding cache, batching, engines); the service batches requests
of many clients into ``Encoder.encode_inputs`` (server/batcher.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from e5desk.core.embedder import Embedder
from e5desk.core.errors import E5DeskError
from e5desk.core.jobs import CancelCheck, Progress


@dataclass
class EmbedSettings:
    role: str = "query"  # "query", "passage" or "raw" (see core/models/families.ROLES)
    task: str | None = None  # the instruction, for instruct models
    batch_size: int | None = None  # None: the encoder's own


def embed(encoder: Embedder, texts: Sequence[str], settings: EmbedSettings | None = None, *,
          progress: Progress | None = None, cancelled: CancelCheck | None = None
          ) -> np.ndarray:
    """float32 (n, dim), rows L2-normalised, in input order."""
    s = settings or EmbedSettings()
    extra = {} if s.batch_size is None else {"batch_size": s.batch_size}  # the encoder's own
    return encoder.encode(list(texts), role=s.role, task=s.task, progress=progress,
                          cancelled=cancelled, **extra)


def embed_detailed(encoder: Embedder, texts: Sequence[str],
                   settings: EmbedSettings | None = None, *, progress: Progress | None = None,
                   cancelled: CancelCheck | None = None):
    """:func:`embed` with token counts and which texts were truncated (EncodeResult)."""
    s = settings or EmbedSettings()
    return encoder.encode_detailed(list(texts), role=s.role, task=s.task, progress=progress,
                                   cancelled=cancelled)


def check_npy_out(out: Path) -> None:
    if out.suffix.lower() != ".npy":
        raise E5DeskError(f"--out {out}: expected a .npy file name")
    if not out.parent.exists():
        raise E5DeskError(f"--out {out}: folder {out.parent} does not exist")


def save_npy(out: Path, vectors: np.ndarray) -> None:
    """Written beside and renamed: a reader never sees half a file."""
    tmp = out.with_name(out.name + ".partial.npy")
    np.save(tmp, vectors)
    tmp.replace(out)
