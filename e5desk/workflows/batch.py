"""Embed a large set to a folder of Parquet shards, resumable, here or on a Ray cluster:
plan (or take up) the run, embed the missing shards. The one pipeline behind `e5desk batch`;
the window and ``e5desk.read_sets`` open the output (``workflows/open_paths.open_batch``,
``core.batch.StoredEncoder``). The shard format and provenance are ``core/batch.py``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from e5desk.core import batch
from e5desk.core.embedder import Embedder
from e5desk.core.jobs import CancelCheck, Progress


@dataclass
class BatchSettings:
    inputs: Sequence[str | Path]  # files, globs or folders
    out: Path
    role: str = "query"
    task: str | None = None
    shard_rows: int = batch.SHARD_ROWS
    text_field: str | None = None  # None: guessed
    engine: Literal["local", "ray"] = "local"
    address: str | None = None  # the Ray cluster (engine "ray")
    model_options: Any = None  # what Ray workers load the model with (engine "ray")


def check_engine(settings: BatchSettings) -> None:
    """Before the model loads: Ray is there when the run needs it (else how to install it)."""
    if settings.engine == "ray":
        from e5desk.core.batch_ray import require_ray

        require_ray()


def plan_batch(encoder: Embedder, settings: BatchSettings, *, progress: Progress | None = None,
               cancelled: CancelCheck | None = None) -> batch.BatchRun:
    """The run planned in ``settings.out``, or the one found there by the same command."""
    return batch.prepare(settings.inputs, settings.out, encoder, role=settings.role,
                         task=settings.task, shard_rows=settings.shard_rows,
                         text_field=settings.text_field, progress=progress,
                         cancelled=cancelled)


def run_batch(encoder: Embedder, plan: batch.BatchRun, settings: BatchSettings, *,
              progress: Progress | None = None,
              cancelled: CancelCheck | None = None) -> batch.BatchResult:
    """Embed the shards ``plan`` still lacks."""
    if settings.engine == "ray":
        from e5desk.core.batch_ray import run_ray

        return run_ray(plan, settings.model_options, address=settings.address,
                       progress=progress, cancelled=cancelled)
    return batch.run_local(plan, encoder, progress=progress, cancelled=cancelled)
