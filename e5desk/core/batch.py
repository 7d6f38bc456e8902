"""Batch embedding of large sentence sets into a folder of Parquet shards.

``prepare(inputs, out_dir, encoder, ...)`` then ``run_local(run, encoder)``: text / JSONL /
CSV / Parquet files (files, globs or folders of shards) are streamed in a fixed order, the rows
cut into shards of ``shard_rows``, each shard embedded with the
:class:`~e5desk.core.encoder.Encoder` and written as ``part-00000.parquet``,
``part-00001.parquet``, ... with the columns

    id (int64, global row number), text, lang, group, source (file), line, vector
    (fixed-size list of float32)

and the provenance (model fingerprint, family, role / prefix / task, pooling, normalisation,
max tokens, dtype, e5desk version) in each file's Parquet metadata and in ``_e5desk_batch.json``.

Memory is bounded: one streaming pass (:mod:`e5desk.core.batch_inputs`) plans the shards (a
cursor per shard: file, byte offset, line), then each shard is read from its cursor on its
own. A shard is written to a temporary name and renamed when complete, so a killed run leaves
only whole shards; the same command continues with the shards still missing. Shard
boundaries, ids and order depend only on the inputs and ``shard_rows``, so a resumed run and
the Ray engine (:mod:`e5desk.core.batch_ray`) write the same files as an uninterrupted local
one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from e5desk.core.batch_inputs import (
    MAX_CHARS,
    STREAM_FORMATS,
    Cursor,
    Row,
    Skipped,
    expand_inputs,
    iter_rows,
)
from e5desk.core.errors import Cancelled, DataError, E5DeskError
from e5desk.core.jobs import CancelCheck, Progress

# The input streaming lives in batch_inputs; its names stay importable from here.
__all__ = [
    "FORMAT_VERSION", "MANIFEST", "MAX_CHARS", "SHARD_ROWS", "STREAM_FORMATS", "BatchResult",
    "BatchRun", "Cursor", "Row", "Shard", "Skipped", "expand_inputs", "is_batch_folder",
    "iter_rows", "load_batch", "plan_shards", "prepare", "provenance", "provenance_mismatch",
    "read_shard", "run_local", "shard_table", "write_shard",
]

MANIFEST = "_e5desk_batch.json"
FORMAT_VERSION = 1
SHARD_ROWS = 10_000


# -- plan and manifest ----------------------------------------------------------------
@dataclass
class Shard:
    index: int
    start: int  # id of the first row
    rows: int
    cursor: Cursor

    @property
    def name(self) -> str:
        return f"part-{self.index:05d}.parquet"


def plan_shards(files: Sequence[Path], shard_rows: int, text_field: str | None = None,
                progress: Progress | None = None, cancelled: CancelCheck | None = None
                ) -> tuple[list[Shard], Skipped]:
    """One streaming pass: where each shard starts and how many rows it holds."""
    skipped = Skipped()
    shards: list[Shard] = []
    total_bytes = sum(f.stat().st_size for f in files) or 1
    n = 0
    last_file, done_bytes = 0, 0
    for row in iter_rows(files, skipped=skipped, text_field=text_field):
        if n % shard_rows == 0:
            shards.append(Shard(len(shards), n, 0, row.cursor))
            if cancelled and cancelled():
                raise Cancelled("Batch cancelled.")
            if progress:
                if row.cursor.file != last_file:
                    done_bytes = sum(f.stat().st_size for f in files[: row.cursor.file])
                    last_file = row.cursor.file
                offset = row.cursor.offset if files[row.cursor.file].suffix != ".parquet" else 0
                progress(min(done_bytes + offset, total_bytes), total_bytes)
        shards[-1].rows += 1
        n += 1
    if not shards:
        first = f" (first problem: {skipped.reasons[0]})" if skipped.reasons else ""
        raise DataError(f"no sentences could be read from {', '.join(map(str, files[:3]))}"
                        f"{first}")
    return shards, skipped


def read_shard(files: Sequence[Path], shard: Shard, text_field: str | None = None) -> dict:
    """The rows of one shard as columns: id, text, lang, group, source, line."""
    out = {"id": [], "text": [], "lang": [], "group": [], "source": [], "line": []}
    names = [str(f) for f in files]
    for i, row in enumerate(iter_rows(files, shard.cursor, text_field=text_field)):
        if i == shard.rows:
            break
        out["id"].append(shard.start + i)
        out["text"].append(row.text)
        out["lang"].append(row.lang)
        out["group"].append(row.group)
        out["source"].append(names[row.cursor.file])
        out["line"].append(row.line)
    if len(out["id"]) != shard.rows:
        raise DataError(f"{shard.name}: the inputs changed since the run was planned "
                        f"({len(out['id'])} rows where {shard.rows} were counted)")
    return out


def _inputs_state(files: Sequence[Path]) -> list[dict]:
    out = []
    for f in files:
        st = f.stat()
        out.append({"path": str(f.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


# -- provenance -------------------------------------------------------------------------
def provenance(encoder, role: str, task: str | None) -> dict:
    """What made the vectors: enough to refuse mixing them with another model's."""
    from e5desk import __version__
    from e5desk.core.models.families import resolve_task
    from e5desk.core.store.cache import EmbeddingCache

    # The Encoder's identity of its vectors (number format, long-text mode, max tokens),
    # with the weights' content fingerprint as the model part even when the cache is off.
    # Read from model_id so that an EncoderProcess (the window's) serves as well.
    settings = encoder.model_id.rsplit(":", 3)[1:]
    dtype, long_text, max_tokens = settings
    cache = getattr(encoder, "cache", None) or EmbeddingCache()
    fingerprint = cache.fingerprint(encoder.source.path)
    family = encoder.family
    uses_task = family.instruct and role == "query"
    return {
        "e5desk_version": __version__,
        "model": encoder.source.name,
        "model_path": str(encoder.source.path),
        "fingerprint": fingerprint,
        "family": family.key,
        "role": role,
        "task": resolve_task(task) if uses_task else None,
        "prefix": family.format([""], role, task)[0],
        "pooling": "mean",
        "normalisation": "l2",
        "max_tokens": int(max_tokens),
        "long_text": long_text,
        "dtype": dtype.replace("torch.", ""),
        "dim": encoder.dim,
        # The same identity the window and projects use (see Encoder.model_id).
        "model_id": ":".join([fingerprint, *settings]),
    }


def provenance_mismatch(prov: dict, model_id: str, dim: int) -> str | None:
    """Why vectors with ``prov`` cannot stand for the loaded model's (None: they can)."""
    if int(prov.get("dim", -1)) != int(dim):
        return (f"the batch vectors have {prov.get('dim')} dimensions, the loaded model {dim}: "
                f"they were computed by {prov.get('model')}")
    stored = str(prov.get("model_id", ""))
    if stored == model_id:
        return None
    theirs, ours = stored.rsplit(":", 3), model_id.rsplit(":", 3)
    if len(theirs) == 4 and len(ours) == 4:
        labels = ("model (weights fingerprint)", "number format", "long-text mode",
                  "max tokens")
        diffs = [f"{label} {a} vs {b} loaded" for label, a, b in zip(labels, theirs, ours,
                                                                     strict=True) if a != b]
        if diffs:
            return (f"the batch was computed by {prov.get('model')} with other settings: "
                    + "; ".join(diffs))
    return f"the batch was computed by {prov.get('model')} ({stored}), not by {model_id}"


# -- writing --------------------------------------------------------------------------
def shard_table(columns: dict, vectors: np.ndarray, prov: dict):
    import pyarrow as pa

    from e5desk.core.store.exports import vector_column

    table = pa.table({
        "id": pa.array(columns["id"], pa.int64()),
        "text": pa.array(columns["text"], pa.string()),
        "lang": pa.array(columns["lang"], pa.string()),
        "group": pa.array(columns["group"], pa.string()),
        "source": pa.array(columns["source"], pa.string()).dictionary_encode(),
        "line": pa.array(columns["line"], pa.int64()),
        "vector": vector_column(vectors),
    })
    return table.replace_schema_metadata({
        "e5desk.model": prov["model_id"], "e5desk.dim": str(prov["dim"]),
        "e5desk.provenance": json.dumps(prov, sort_keys=True)})


def write_shard(out_dir: Path, shard: Shard, table) -> Path:
    """Atomically: a temporary name, renamed once the file is complete."""
    import pyarrow.parquet as pq

    final = out_dir / shard.name
    tmp = out_dir / f".{shard.name}.tmp"
    # Dictionary pages only where values repeat: tried on float vectors they only slow reading.
    pq.write_table(table, tmp, use_dictionary=["lang", "group", "source"])
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    return final


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


@dataclass
class BatchRun:
    """A planned batch: the manifest, and the shards still to compute."""
    out_dir: Path
    files: list[Path]
    shards: list[Shard]
    provenance: dict
    skipped: Skipped
    text_field: str | None = None
    resumed: bool = False

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.shards)

    def done(self, shard: Shard) -> bool:
        return (self.out_dir / shard.name).is_file()

    def pending(self) -> list[Shard]:
        return [s for s in self.shards if not self.done(s)]


def prepare(input_specs: Sequence[str | Path], out_dir: Path, encoder, role: str = "query",
            task: str | None = None, shard_rows: int = SHARD_ROWS,
            text_field: str | None = None, progress: Progress | None = None,
            cancelled: CancelCheck | None = None) -> BatchRun:
    """Plan a run into ``out_dir``, or take up the one planned there by the same command."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise E5DeskError(f"--out {out_dir}: is a file, expected a folder")
    files = [f.resolve() for f in expand_inputs(input_specs, exclude=out_dir)]
    prov = provenance(encoder, role, task)
    settings = {"provenance": {k: v for k, v in prov.items() if k != "e5desk_version"},
                "shard_rows": shard_rows, "text_field": text_field,
                "inputs": _inputs_state(files)}
    manifest_path = out_dir / MANIFEST
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"{manifest_path}: unreadable ({exc}); delete the folder to "
                            "start again") from None
        reason = _settings_differ(manifest.get("settings", {}), settings)
        if reason:
            raise E5DeskError(f"--out {out_dir} holds a batch run of other {reason}; use "
                              "another folder, or delete it to start again")
        shards = [Shard(s["index"], s["start"], s["rows"], Cursor(*s["cursor"]))
                  for s in manifest["shards"]]
        skipped = Skipped(manifest.get("skipped", 0), manifest.get("skipped_reasons", []))
        for tmp in out_dir.glob(".part-*.tmp"):
            tmp.unlink()  # a shard being written when the run stopped: never counts
        return BatchRun(out_dir, files, shards, prov, skipped, text_field, resumed=True)
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise E5DeskError(f"--out {out_dir}: the folder is not empty and holds no batch run; "
                          "choose a new or empty folder")
    shards, skipped = plan_shards(files, shard_rows, text_field, progress, cancelled)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_json(manifest_path, {
        "e5desk_batch": FORMAT_VERSION, "settings": settings, "provenance": prov,
        "rows": sum(s.rows for s in shards),
        "shards": [{"index": s.index, "start": s.start, "rows": s.rows, "file": s.name,
                    "cursor": [s.cursor.file, s.cursor.offset, s.cursor.line, s.cursor.sub]}
                   for s in shards],
        "skipped": skipped.count, "skipped_reasons": skipped.reasons,
    })
    return BatchRun(out_dir, files, shards, prov, skipped, text_field)


def _settings_differ(old: dict, new: dict) -> str | None:
    if old.get("inputs") != new["inputs"]:
        return "inputs (or the input files changed since)"
    if old.get("shard_rows") != new["shard_rows"]:
        return f"shard size ({old.get('shard_rows')} rows)"
    if old.get("text_field") != new["text_field"]:
        return "text field"
    op, np_ = old.get("provenance", {}), new["provenance"]
    for key in ("fingerprint", "role", "task", "dtype", "long_text", "max_tokens"):
        if op.get(key) != np_.get(key):
            return f"settings ({key}: {op.get(key)} there, {np_.get(key)} now)"
    return None


# -- the local engine -----------------------------------------------------------------
@dataclass
class BatchResult:
    out_dir: Path
    rows: int
    shards: int
    computed: int  # shards embedded by this run (the rest were there already)
    seconds: float
    skipped: Skipped
    truncated: int = 0


def run_local(run: BatchRun, encoder, progress: Progress | None = None,
              cancelled: CancelCheck | None = None,
              on_shard: Callable[[Shard], None] | None = None) -> BatchResult:
    """Embed the missing shards one after another in this process."""
    start = time.perf_counter()
    role, task = run.provenance["role"], run.provenance["task"]
    total = run.rows
    done = sum(s.rows for s in run.shards if run.done(s))
    computed = truncated = 0
    if progress:
        progress(done, total)
    for shard in run.pending():
        if cancelled and cancelled():
            raise Cancelled("Batch cancelled.")
        cols = read_shard(run.files, shard, run.text_field)
        base = done

        def shard_progress(d: int, t: int, base=base, n=shard.rows) -> None:
            if progress and t:
                progress(base + int(n * d / t), total)

        result = encoder.encode_detailed(cols["text"], role=role, task=task,
                                         progress=shard_progress, cancelled=cancelled)
        truncated += len(result.truncated)
        write_shard(run.out_dir, shard, shard_table(cols, result.vectors, run.provenance))
        done += shard.rows
        computed += 1
        if progress:
            progress(done, total)
        if on_shard:
            on_shard(shard)
    return BatchResult(run.out_dir, total, len(run.shards), computed,
                       time.perf_counter() - start, run.skipped, truncated)


# -- reading a result ------------------------------------------------------------------
def is_batch_folder(path: str | Path) -> bool:
    return Path(path).is_dir() and (Path(path) / MANIFEST).is_file()


def load_batch(folder: str | Path, progress: Progress | None = None,
               cancelled: CancelCheck | None = None):
    """A finished batch folder as :class:`ImportedVectors` (the vectors as stored, never
    recomputed); ``.provenance`` holds the manifest's provenance."""
    import pyarrow.parquet as pq

    from e5desk.core.data.sentence_set import SentenceSet
    from e5desk.core.store.exports import ImportedVectors

    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{folder}: not a batch output folder ({exc})") from None
    shards = manifest["shards"]
    missing = [s["file"] for s in shards if not (folder / s["file"]).is_file()]
    if missing:
        raise DataError(f"{folder}: the batch is unfinished ({len(missing)} of {len(shards)} "
                        f"shards missing, first {missing[0]}); run the same e5desk batch "
                        "command again to finish it")
    prov = manifest["provenance"]
    n, dim = int(manifest["rows"]), int(prov["dim"])
    vectors = np.empty((n, dim), dtype=np.float32)
    text, lang, group, line = [], [], [], np.empty(n, dtype=np.int64)
    pos = 0
    for i, s in enumerate(shards):
        if cancelled and cancelled():
            raise Cancelled("Opening cancelled.")
        # One thread: pyarrow's pool made reading 3-10x slower on a busy 2-core machine.
        table = pq.read_table(folder / s["file"], memory_map=True, use_threads=False,
                              columns=["text", "lang", "group", "line", "vector"])
        m = table.num_rows
        flat = table.column("vector").combine_chunks().values.to_numpy(zero_copy_only=False)
        vectors[pos:pos + m] = flat.reshape(m, dim)
        text += table.column("text").to_pylist()
        lang += table.column("lang").to_pylist()
        group += table.column("group").to_pylist()
        line[pos:pos + m] = table.column("line").to_numpy()
        pos += m
        if progress:
            progress(i + 1, len(shards))
    sentences = SentenceSet.build(text, lang=lang, group=group, line=line, source=folder,
                                  name=folder.name)
    imported = ImportedVectors(sentences, vectors, prov.get("model_id"))
    imported.provenance = prov
    return imported
