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
from e5desk.core.errors import Cancelled, DataError, E5DeskError, cut
from e5desk.core.jobs import CancelCheck, Progress

# The input streaming lives in batch_inputs; its names stay importable from here.
__all__ = [
    "FORMAT_VERSION", "MANIFEST", "MAX_CHARS", "SHARD_ROWS", "STREAM_FORMATS", "BatchResult",
    "BatchRun", "Cursor", "Row", "Shard", "Skipped", "StoredEncoder", "expand_inputs",
    "is_batch_folder", "is_batch_output", "iter_rows", "load_batch", "load_output",
    "load_shard", "plan_shards", "prepare", "provenance", "provenance_mismatch",
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


PRIOR_SAMPLE = 5000  # rows without a language per file whose detection forms its prior


def plan_shards(files: Sequence[Path], shard_rows: int, text_field: str | None = None,
                progress: Progress | None = None, cancelled: CancelCheck | None = None,
                priors: list[list[str]] | None = None) -> tuple[list[Shard], Skipped]:
    """One streaming pass: where each shard starts and how many rows it holds. ``priors``
    (a list, filled here): per file, the languages detected confidently in a sample of
    its rows without one, so each shard decides short rows with the whole file as context,
    as opening the file does."""
    skipped = Skipped()
    shards: list[Shard] = []
    total_bytes = sum(f.stat().st_size for f in files) or 1
    n = 0
    last_file, done_bytes = 0, 0
    samples: list[list[str]] = [[] for _ in files]
    for row in iter_rows(files, skipped=skipped, text_field=text_field):
        if row.lang is None and len(samples[row.cursor.file]) < PRIOR_SAMPLE:
            samples[row.cursor.file].append(row.text)
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
    if priors is not None:
        from e5desk.core.langid import detect, language_prior

        for sample in samples:
            priors.append(language_prior(*detect(sample)) if sample else [])
    return shards, skipped


def read_shard(files: Sequence[Path], shard: Shard, text_field: str | None = None,
               priors: Sequence[Sequence[str]] | None = None) -> dict:
    """The rows of one shard as columns: id, text, lang, group, source, line. A row without
    a language gets the detected one (``priors``: each file's languages, the context for
    short rows; see :func:`plan_shards`); codes are normalised (BCP-47) as on opening."""
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
    _languages(out, names, priors)
    return out


def _languages(cols: dict, names: list[str], priors) -> None:
    from types import SimpleNamespace

    from e5desk.core.langid import fill_languages, normalize_code

    codes = {c: normalize_code(c) for c in set(cols["lang"]) if c}
    cols["lang"] = [codes.get(c) if c else None for c in cols["lang"]]
    by_file: dict[str, list[int]] = {}
    for i, (lang, source) in enumerate(zip(cols["lang"], cols["source"], strict=True)):
        if not lang:
            by_file.setdefault(source, []).append(i)
    for source, rows in by_file.items():
        k = names.index(source)
        part = SimpleNamespace(text=[cols["text"][i] for i in rows], lang=[None] * len(rows))
        prior = priors[k] if priors is not None and k < len(priors) and priors[k] else None
        fill_languages(part, prior=prior)
        for i, lang in zip(rows, part.lang, strict=True):
            cols["lang"][i] = lang


def _inputs_state(files: Sequence[Path]) -> list[dict]:
    out = []
    for f in files:
        st = f.stat()
        out.append({"path": str(f.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


# -- provenance -------------------------------------------------------------------------
def provenance(encoder, role: str, task: str | None) -> dict:
    """What made the vectors: enough to refuse mixing them with another model's."""
    from e5desk.core.about import VERSION as __version__
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
    priors: list[list[str]] | None = None  # per input file: its languages (see plan_shards)

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
        return BatchRun(out_dir, files, shards, prov, skipped, text_field, resumed=True,
                        priors=manifest.get("language_priors"))
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise E5DeskError(f"--out {out_dir}: the folder is not empty and holds no batch run; "
                          "choose a new or empty folder")
    priors: list[list[str]] = []
    shards, skipped = plan_shards(files, shard_rows, text_field, progress, cancelled, priors)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_json(manifest_path, {
        "e5desk_batch": FORMAT_VERSION, "settings": settings, "provenance": prov,
        "rows": sum(s.rows for s in shards),
        "shards": [{"index": s.index, "start": s.start, "rows": s.rows, "file": s.name,
                    "cursor": [s.cursor.file, s.cursor.offset, s.cursor.line, s.cursor.sub]}
                   for s in shards],
        "skipped": skipped.count, "skipped_reasons": skipped.reasons,
        "language_priors": priors,
    })
    return BatchRun(out_dir, files, shards, prov, skipped, text_field, priors=priors)


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
        cols = read_shard(run.files, shard, run.text_field, run.priors)
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


def is_batch_output(path: str | Path) -> bool:
    """A batch folder, its manifest, or one of its shards (a Parquet file with e5desk's
    provenance in its metadata)."""
    path = Path(path)
    if is_batch_folder(path) or (path.name == MANIFEST and path.is_file()):
        return True
    if path.suffix.lower() != ".parquet" or not path.is_file():
        return False
    try:
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
    except Exception:  # noqa: BLE001 - not readable as Parquet: the caller says so
        return False
    return b"e5desk.provenance" in meta


def load_output(path: str | Path, progress: Progress | None = None,
                cancelled: CancelCheck | None = None):
    """:func:`load_batch` for a batch folder or its manifest, :func:`load_shard` for a
    shard file."""
    path = Path(path)
    if path.name == MANIFEST:
        path = path.parent
    if path.is_dir():
        return load_batch(path, progress, cancelled)
    return load_shard(path)


def load_shard(path: str | Path):
    """One shard of a batch as :class:`ImportedVectors` (its own rows only)."""
    import pyarrow.parquet as pq

    from e5desk.core.data.sentence_set import SentenceSet
    from e5desk.core.store.exports import ImportedVectors

    path = Path(path)
    try:
        table = pq.read_table(path, columns=["text", "lang", "group", "line", "vector"],
                              use_threads=False)
        prov = json.loads((table.schema.metadata or {})[b"e5desk.provenance"])
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise DataError(f"{path}: not a readable e5desk batch shard ({cut(exc, 120)})") \
            from None
    m, dim = table.num_rows, int(prov["dim"])
    flat = table.column("vector").combine_chunks().values.to_numpy(zero_copy_only=False)
    sentences = SentenceSet.build(table.column("text").to_pylist(),
                                  lang=table.column("lang").to_pylist(),
                                  group=table.column("group").to_pylist(),
                                  line=table.column("line").to_numpy(), source=path,
                                  name=path.name)
    imported = ImportedVectors(sentences, flat.reshape(m, dim).astype(np.float32, copy=False),
                               prov.get("model_id"))
    imported.provenance = prov
    return imported


class StoredEncoder:
    """An encoder that takes a text's vector from batch outputs where one was stored by the
    same model (provenance checked as the window does: :func:`provenance_mismatch`) in the
    role and prefix asked for, and embeds only the rest. Everything else is the wrapped
    encoder's. ``warn`` is told once why stored vectors were not used, ``note`` how many
    were."""

    def __init__(self, encoder, stored: Sequence, warn: Callable[[str], None] | None = None,
                 note: Callable[[str], None] | None = None) -> None:
        self.encoder, self.warn, self.reused = encoder, warn or (lambda _: None), 0
        self.note = note or (lambda _: None)
        self.stored: list = []
        # The loaded model's identity as a batch states it (the weights' fingerprint even
        # when the embedding cache is off), so an encoder without a cache matches too.
        from e5desk.core.vectors_import import is_imported

        # Vectors given with --vectors (imported): no model made them that we know of, so
        # no provenance to check; the encoder (maybe not loaded yet) is not touched here.
        ours = provenance(encoder, "query", None)["model_id"] if any(
            not is_imported(s) for s in stored) else ""
        for imported in stored:
            name = imported.sentences.name
            if is_imported(imported):
                self.stored.append((imported, None))
                continue
            reason = provenance_mismatch(imported.provenance, ours, encoder.dim)
            if reason:
                self.warn(f"{name}: stored vectors not used ({reason}); its sentences are "
                          "embedded again with the loaded model")
                continue
            index = {t: i for i, t in enumerate(imported.sentences.text)}
            self.stored.append((imported, index))
        self._told: set = set()

    def __getattr__(self, name: str):
        return getattr(self.encoder, name)

    def encode(self, texts, role: str = "query", task: str | None = None, **kwargs):
        texts = list(texts)
        whole = self._whole_import(texts, kwargs.get("progress"))
        if whole is not None:
            return whole
        prefix = self.encoder.format([""], role, task)[0]
        usable = [(imp, index if index is not None else self._index(imp))
                  for imp, index in self.stored
                  if index is None or imp.provenance.get("prefix") == prefix]
        if self.stored and not usable and role not in self._told:
            self._told.add(role)
            prov = self.stored[0][0].provenance
            self.warn(f"the stored vectors are in {prov.get('role')} form "
                      f"({prov.get('prefix')!r}); this needs {role} form ({prefix!r}), so "
                      "those sentences are embedded again")
        dim = self.stored[0][0].vectors.shape[1] if self.stored else self.encoder.dim
        out = np.empty((len(texts), dim), dtype=np.float32)
        missing = []
        for i, t in enumerate(texts):
            for imp, index in usable:
                row = index.get(t)
                if row is not None:
                    out[i] = imp.vectors[row]
                    break
            else:
                missing.append(i)
        self.reused += len(texts) - len(missing)
        if len(missing) < len(texts):
            given = self.stored[0][0].provenance.get("imported")
            where = f"{Path(given).name} (--vectors)" if given else "the batch output as stored"
            self.note(f"{len(texts) - len(missing):,} of {len(texts):,} vectors taken from "
                      f"{where} (not recomputed)")
        if missing:
            self._check_dimension()
            out[missing] = self.encoder.encode([texts[i] for i in missing], role=role,
                                               task=task, **kwargs)
        elif kwargs.get("progress"):
            kwargs["progress"](len(texts), len(texts))
        return out


    # -- vectors given with --vectors (core.vectors_import) ---------------------------
    def _whole_import(self, texts: list, progress) -> np.ndarray | None:
        """Imported vectors of exactly these rows, in order (row i = sentence i): returned
        as they are, whatever the role, without a model."""
        for imp, index in self.stored:
            if index is None and len(imp.vectors) == len(texts) and \
                    list(imp.sentences.text) == texts:
                self.reused += len(texts)
                if progress:
                    progress(len(texts), len(texts))
                return imp.vectors
        return None

    def _index(self, imp) -> dict:
        index = getattr(imp, "_text_index", None)
        if index is None:
            index = imp._text_index = {t: i for i, t in enumerate(imp.sentences.text)}
        return index

    def _check_dimension(self) -> None:
        from e5desk.core.vectors_import import dimension_refusal, is_imported

        for imp, _ in self.stored:
            reason = is_imported(imp) and dimension_refusal(imp, self.encoder.dim)
            if reason:
                raise E5DeskError(reason)


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
