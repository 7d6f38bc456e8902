"""The Ray engine of ``e5desk batch``: Ray Data over the same shard plan as the local one.

Pipeline: ``ray.data.from_items(shard plans)`` (one block per missing shard) ->
``map_batches(read_shard_rows)`` (tasks stream each shard's rows from its cursor) ->
``map_batches(EmbedActor, compute=ActorPoolStrategy(size=n))`` (one Encoder per actor, the
same prefixes and precision rules; ``num_gpus=1`` per actor when the cluster has GPUs) ->
rows come back to the driver, which writes each shard with the local engine's atomic writer
and layout. Shard boundaries and ids come from the plan, and each shard is encoded in one
call as the local engine does, so both engines write the same files.

The inputs and the model folder must be readable at the same paths on every node (a shared
file system); the output folder is the driver's.
"""

from __future__ import annotations

import logging
import os
import time

import numpy as np

from e5desk.core.batch import BatchResult, BatchRun, Cursor, Shard, read_shard, shard_table
from e5desk.core.errors import Cancelled, E5DeskError, ModelError
from e5desk.core.jobs import CancelCheck, Progress

INSTALL_HINT = ("--engine ray needs Ray Data, which is not installed: "
                "pip install 'e5desk[ray]' (or pip install 'ray[data]')")


def require_ray() -> None:
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        raise E5DeskError(INSTALL_HINT) from None


def pool_size(resources: dict) -> tuple[int, float, float]:
    """(actors, CPUs per actor, GPUs per actor) from the cluster's resources: one actor per
    GPU when there are GPUs; otherwise actors of up to 4 CPUs (torch threads), leaving one
    CPU for the reading tasks."""
    gpus = int(resources.get("GPU", 0))
    cpus = int(resources.get("CPU", 1))
    if gpus:
        return gpus, 1.0, 1.0
    per_actor = 4 if cpus >= 10 else max(1, cpus // 2)
    return max(1, (cpus - 1) // per_actor), float(per_actor), 0.0


def _read_shard_rows(batch: dict, files: list[str], text_field: str | None,
                     priors: list[list[str]] | None = None):
    """Ray task: the rows of the shard(s) in ``batch`` (plans) as an Arrow table."""
    from pathlib import Path

    import pyarrow as pa

    paths = [Path(f) for f in files]
    tables = []
    for i in range(len(batch["index"])):
        shard = Shard(int(batch["index"][i]), int(batch["start"][i]), int(batch["rows"][i]),
                      Cursor(int(batch["file"][i]), int(batch["offset"][i]),
                             int(batch["line"][i]), int(batch["sub"][i])))
        cols = read_shard(paths, shard, text_field, priors)
        cols["shard"] = [shard.index] * shard.rows
        tables.append(pa.table({
            "shard": pa.array(cols["shard"], pa.int64()), "id": pa.array(cols["id"], pa.int64()),
            "text": pa.array(cols["text"], pa.string()),
            "lang": pa.array(cols["lang"], pa.string()),
            "group": pa.array(cols["group"], pa.string()),
            "source": pa.array(cols["source"], pa.string()),
            "line": pa.array(cols["line"], pa.int64())}))
    return pa.concat_tables(tables)


class EmbedActor:
    """Holds one Encoder per actor; encodes each shard of a batch in one call."""

    def __init__(self, model_path: str, family: str, device: str, precision: str,
                 long_text: str, threads: int | None, batch_size: int | None, role: str,
                 task: str | None, fingerprint: str) -> None:
        from e5desk.core.encoder import Encoder
        from e5desk.core.store.cache import EmbeddingCache

        self.encoder = Encoder.load(model_path, family=family, device=device,
                                    precision=precision, threads=threads,
                                    long_text=long_text, batch_size=batch_size, cache=False)
        theirs = EmbeddingCache().fingerprint(self.encoder.source.path)
        if theirs != fingerprint:
            raise ModelError(f"{model_path} on this node is not the driver's model "
                             f"(fingerprint {theirs} vs {fingerprint})")
        self.role, self.task = role, task

    def __call__(self, table):
        import pyarrow as pa

        from e5desk.core.store.exports import vector_column

        shards = table.column("shard").to_numpy()
        texts = table.column("text").to_pylist()
        vectors = np.zeros((len(texts), self.encoder.dim), dtype=np.float32)
        for s in np.unique(shards):
            rows = np.flatnonzero(shards == s)
            vectors[rows] = self.encoder.encode([texts[r] for r in rows], role=self.role,
                                                task=self.task)
        return table.append_column(pa.field("vector", vector_column(vectors).type),
                                   vector_column(vectors))


def run_ray(run: BatchRun, args, address: str | None = None,
            progress: Progress | None = None, cancelled: CancelCheck | None = None
            ) -> BatchResult:
    """Embed the missing shards of ``run`` with Ray Data; ``args`` carries the model options
    (device, precision, long_text, threads, batch_size) of the CLI."""
    require_ray()
    import ray
    import ray.data

    start = time.perf_counter()
    pending = run.pending()
    total = run.rows
    done = total - sum(s.rows for s in pending)
    if progress:
        progress(done, total)
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # the CLI shows its own progress
    started_here = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:  # a local cluster for this run only, on the loopback interface
            ray.init(num_cpus=os.cpu_count() or 2, include_dashboard=False,
                     log_to_driver=False, _node_ip_address="127.0.0.1",
                     configure_logging=False)
        started_here = True
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.verbose_stats_logs = False
        if not pending:
            return BatchResult(run.out_dir, total, len(run.shards), 0, 0.0, run.skipped)
        actors, cpus, gpus = pool_size(ray.cluster_resources())
        actors = min(actors, len(pending))
        prov = run.provenance
        items = [{"index": s.index, "start": s.start, "rows": s.rows, "file": s.cursor.file,
                  "offset": s.cursor.offset, "line": s.cursor.line, "sub": s.cursor.sub}
                 for s in pending]
        device = "cuda" if gpus else ("cpu" if args.device == "auto" else args.device)
        ds = (ray.data.from_items(items, override_num_blocks=len(items))
              .map_batches(_read_shard_rows, batch_size=1, batch_format="numpy",
                           fn_kwargs={"files": [str(f.resolve()) for f in run.files],
                                      "text_field": run.text_field,
                                      "priors": run.priors})
              .map_batches(EmbedActor, batch_size=None, batch_format="pyarrow",
                           compute=ray.data.ActorPoolStrategy(size=actors),
                           num_cpus=cpus, num_gpus=gpus or None,
                           fn_constructor_kwargs={
                               "model_path": prov["model_path"], "family": prov["family"],
                               "device": device, "precision": args.precision,
                               "long_text": prov["long_text"],
                               "threads": args.threads or int(cpus),
                               "batch_size": args.batch_size, "role": prov["role"],
                               "task": prov["task"], "fingerprint": prov["fingerprint"]}))
        by_index = {s.index: s for s in pending}
        buffers: dict[int, list] = {}
        counts: dict[int, int] = {}
        computed = 0
        for table in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            if cancelled and cancelled():
                raise Cancelled("Batch cancelled.")
            for s in np.unique(table.column("shard").to_numpy()):
                part = table.filter(table.column("shard").to_numpy() == s)
                buffers.setdefault(int(s), []).append(part)
                counts[int(s)] = counts.get(int(s), 0) + part.num_rows
                shard = by_index[int(s)]
                if counts[int(s)] == shard.rows:
                    _write(run, shard, buffers.pop(int(s)))
                    computed += 1
            done += table.num_rows
            if progress:
                progress(done, total)
        return BatchResult(run.out_dir, total, len(run.shards), computed,
                           time.perf_counter() - start, run.skipped)
    finally:
        if started_here:
            ray.shutdown()


def _write(run: BatchRun, shard: Shard, parts: list) -> None:
    import pyarrow as pa

    from e5desk.core.batch import write_shard

    table = pa.concat_tables(parts)
    table = table.take(np.argsort(table.column("id").to_numpy(), kind="stable"))
    cols = {c: table.column(c).to_pylist() for c in ("id", "text", "lang", "group", "source",
                                                       "line")}
    dim = run.provenance["dim"]
    vectors = (table.column("vector").combine_chunks().values.to_numpy(zero_copy_only=False)
               .reshape(-1, dim))
    write_shard(run.out_dir, shard, shard_table(cols, vectors, run.provenance))
