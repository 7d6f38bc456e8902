"""Batch embedding of large sentence sets into a folder of Parquet shards.

``run_batch(inputs, out_dir, encoder_spec, ...)`` streams text / JSONL / CSV / Parquet files
(files, globs or folders of shards) in a fixed order, cuts the rows into shards of
``shard_rows``, embeds each shard with the :class:`~e5desk.core.encoder.Encoder` and writes
``part-00000.parquet``, ``part-00001.parquet``, ... with the columns

    id (int64, global row number), text, lang, group, source (file), line, vector
    (fixed-size list of float32)

and the provenance (model fingerprint, family, role / prefix / task, pooling, normalisation,
max tokens, dtype, e5desk version) in each file's Parquet metadata and in ``_e5desk_batch.json``.

Memory is bounded: one streaming pass plans the shards (a cursor per shard: file, byte
offset, line), then each shard is read from its cursor on its own. A shard is written to a
temporary name and renamed when complete, so a killed run leaves only whole shards; the same
command continues with the shards still missing. Shard boundaries, ids and order depend only
on the inputs and ``shard_rows``, so a resumed run and the Ray engine
(:mod:`e5desk.core.batch_ray`) write the same files as an uninterrupted local one.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from e5desk.core.errors import Cancelled, DataError, E5DeskError
from e5desk.core.jobs import CancelCheck, Progress

MANIFEST = "_e5desk_batch.json"
FORMAT_VERSION = 1
SHARD_ROWS = 10_000
STREAM_FORMATS = {".txt": "text", ".text": "text", ".jsonl": "jsonl", ".ndjson": "jsonl",
                  ".json": "jsonl", ".csv": "csv", ".tsv": "csv", ".parquet": "parquet"}
MAX_CHARS = 100_000
HEAD_LINES = 2000


# -- inputs ------------------------------------------------------------------------------
def expand_inputs(specs: Sequence[str | Path], exclude: Path | None = None) -> list[Path]:
    """Files named, matched by globs, or inside folders (readable formats only), in a stable
    order: arguments in the order given, each glob or folder sorted by name."""
    out: list[Path] = []
    for spec in specs:
        spec = str(spec)
        p = Path(spec)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file()
                           and f.suffix.lower() in STREAM_FORMATS and not f.name.startswith("."))
            if not found:
                raise DataError(f"{p}: the folder holds no .txt, .jsonl, .csv, .tsv or "
                                ".parquet files")
            out += found
        elif any(ch in spec for ch in "*?["):
            found = sorted(Path(f) for f in glob.glob(spec, recursive=True) if Path(f).is_file())
            if not found:
                raise DataError(f"{spec}: no file matches")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise DataError(f"{p}: file not found")
    if exclude is not None:
        ex = exclude.resolve()
        out = [f for f in out if ex not in f.resolve().parents]
    for f in out:
        if f.suffix.lower() not in STREAM_FORMATS:
            raise DataError(f"{f}: batch reads .txt, .jsonl, .csv, .tsv and .parquet files "
                            f"(found {f.suffix or 'no extension'}); open other formats in the "
                            "window or convert them")
    seen, unique = set(), []
    for f in out:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    if not unique:
        raise DataError("no input files")
    return unique


@dataclass(frozen=True)
class Cursor:
    """Where a row starts: input file number, byte offset of its record (row number for
    Parquet), line number of the record, rows of that record to skip (wide CSV)."""
    file: int
    offset: int
    line: int
    sub: int = 0


@dataclass
class Row:
    text: str
    lang: str | None
    group: str | None
    line: int
    cursor: Cursor


@dataclass
class Skipped:
    """Rows left out and why (first reasons kept with file and line)."""
    count: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, path: Path, line: int, why: str) -> None:
        self.count += 1
        if len(self.reasons) < 20:
            self.reasons.append(f"{path.name}, line {line}: {why}")


def _binary_lines(path: Path, offset: int) -> Iterator[bytes]:
    with path.open("rb") as f:
        f.seek(offset)
        yield from f


def _head(path: Path) -> tuple[str, int]:
    """The first lines as text and the byte length of the BOM (UTF-16 refused)."""
    with path.open("rb") as f:
        raw = f.read(1 << 20)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(f"{path}: UTF-16 text cannot be streamed; save it as UTF-8")
    bom = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    text = raw[bom:].decode("utf-8", errors="replace")
    return text, bom


def _decode(raw: bytes, path: Path, line: int, skipped: Skipped) -> str | None:
    try:
        return raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        skipped.add(path, line, f"not valid UTF-8 (byte {exc.start})")
        return None


def _ok(text, path: Path, line: int, skipped: Skipped) -> bool:
    if not isinstance(text, str) or not text.strip():
        return False
    if len(text) > MAX_CHARS or "\x00" in text:
        skipped.add(path, line, f"over {MAX_CHARS:,} characters or NUL bytes")
        return False
    return True


def _text_rows(path: Path, k: int, start: Cursor, skipped: Skipped) -> Iterator[Row]:
    from e5desk.core.data.text import LANG_CODE

    head, bom = _head(path)
    sample = [ln for ln in head.split("\n")[:HEAD_LINES] if ln.strip()]
    tabbed = [ln.split("\t", 1)[0] for ln in sample if "\t" in ln]
    with_lang = len(tabbed) > 0.8 * max(1, len(sample)) and all(
        LANG_CODE.match(code.strip()) for code in tabbed[:200])
    offset, line = max(start.offset, bom), start.line
    for raw in _binary_lines(path, offset):
        here = Cursor(k, offset, line)
        offset += len(raw)
        text = _decode(raw, path, line, skipped)
        line += 1
        if text is None or not _ok(text, path, here.line, skipped):
            continue
        lang = None
        if with_lang and "\t" in text:
            code, text = text.split("\t", 1)
            lang = code.strip().replace("_", "-") or None
        yield Row(text, lang, None, here.line, here)


def _jsonl_rows(path: Path, k: int, start: Cursor, skipped: Skipped,
                text_field: str | None) -> Iterator[Row]:
    from e5desk.core.data.jsonl import guess_fields

    head, bom = _head(path)
    first = None
    for ln in head.split("\n")[:HEAD_LINES]:
        try:
            rec = json.loads(ln)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict):
            first = rec
            break
    if first is None:
        raise DataError(f"{path}: no JSON object in its first lines")
    t_f, l_f, g_f = guess_fields(first)
    t_f = text_field or t_f
    if t_f is None:
        raise DataError(f"{path}: which field holds the text? (fields: {', '.join(first)}); "
                        "name it with --text-field")
    offset, line = max(start.offset, bom), start.line
    for raw in _binary_lines(path, offset):
        here = Cursor(k, offset, line)
        offset += len(raw)
        line += 1
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            skipped.add(path, here.line, f"not valid JSON ({getattr(exc, 'msg', exc)})")
            continue
        if not isinstance(rec, dict):
            skipped.add(path, here.line, "expected a JSON object")
            continue
        text = rec.get(t_f)
        if not _ok(text, path, here.line, skipped):
            if not isinstance(text, str) or not text.strip():
                skipped.add(path, here.line, f"no text in field {t_f!r}")
            continue
        lang = rec.get(l_f) if l_f else None
        group = rec.get(g_f) if g_f else None
        yield Row(text, str(lang) if lang else None,
                  None if group is None else str(group), here.line, here)


def _csv_rows(path: Path, k: int, start: Cursor, skipped: Skipped,
              text_field: str | None) -> Iterator[Row]:
    from e5desk.core.data.delimited import _sniff, guess_columns

    head, bom = _head(path)
    dialect = _sniff(head[:20000], path)
    header_row = next(csv.reader(head.split("\n")[:1], dialect), [])
    header = [h.strip() for h in header_row]
    if not header:
        raise DataError(f"{path}: the file is empty")
    guess = guess_columns(header)
    if text_field is not None:
        if text_field not in header:
            raise DataError(f"{path}, line 1: no column {text_field!r} "
                            f"(columns: {', '.join(header)})")
        text_i, wide = header.index(text_field), False
    else:
        text_i, wide = guess.text, guess.wide
    if text_i is None and not wide:
        raise DataError(f"{path}, line 1: which column holds the text? (columns: "
                        f"{', '.join(header)}); name it with --text-field")
    state = {"offset": max(start.offset, bom), "line": start.line}

    def lines() -> Iterator[str]:
        for raw in _binary_lines(path, state["offset"]):
            state["offset"] += len(raw)
            state["line"] += 1
            yield raw.decode("utf-8", errors="replace")

    reader = csv.reader(lines(), dialect)
    first_record = start.offset <= bom
    rec_offset, rec_line = state["offset"], state["line"]
    for record in reader:
        here_offset, here_line = rec_offset, rec_line
        rec_offset, rec_line = state["offset"], state["line"]
        if first_record:  # the header
            first_record = False
            continue
        if not record or not any(c.strip() for c in record):
            continue
        if len(record) != len(header):
            skipped.add(path, here_line, f"expected {len(header)} fields, found {len(record)}")
            continue
        cells: list[tuple[str, str | None, str | None]]
        if wide:
            group = (record[guess.group] if guess.group is not None
                     else f"{path.name}#row-{here_line}")
            cells = [(record[i], header[i].replace("_", "-"), group)
                     for i in guess.language_columns]
        else:
            cells = [(record[text_i],
                      (record[guess.lang].strip() or None) if guess.lang is not None else None,
                      (record[guess.group].strip() or None) if guess.group is not None
                      else None)]
        sub = 0
        for text, lang, group in cells:
            if not _ok(text, path, here_line, skipped):
                continue
            cur = Cursor(k, here_offset, here_line, sub)
            sub += 1
            yield Row(text, lang, group, here_line, cur)


def _parquet_rows(path: Path, k: int, start: Cursor, skipped: Skipped,
                  text_field: str | None) -> Iterator[Row]:
    import pyarrow.parquet as pq

    from e5desk.core.data.delimited import GROUP_NAMES, LANG_NAMES, TEXT_NAMES

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    names = pf.schema_arrow.names
    find = lambda options: next((n for n in options if n in names), None)  # noqa: E731
    t_f = text_field or find(TEXT_NAMES)
    if t_f is None or t_f not in names:
        raise DataError(f"{path}: which column holds the text? (columns: {', '.join(names)}); "
                        "name it with --text-field")
    l_f, g_f = find(LANG_NAMES), find(GROUP_NAMES)
    if g_f == "id" and "group" not in names:
        g_f = None  # an e5desk batch output's row id is not a group
    columns = [c for c in (t_f, l_f, g_f) if c]
    row = 0
    for batch in pf.iter_batches(batch_size=8192, columns=columns):
        n = batch.num_rows
        if row + n <= start.offset:
            row += n
            continue
        cols = {c: batch.column(c).to_pylist() for c in columns}
        for j in range(max(0, start.offset - row), n):
            text = cols[t_f][j]
            r = row + j
            if not _ok(text, path, r + 1, skipped):
                continue
            lang = cols[l_f][j] if l_f else None
            group = cols[g_f][j] if g_f else None
            yield Row(text, None if lang is None else str(lang),
                      None if group is None else str(group), r + 1, Cursor(k, r, r + 1))
        row += n


def iter_rows(files: Sequence[Path], start: Cursor | None = None,
              skipped: Skipped | None = None, text_field: str | None = None) -> Iterator[Row]:
    """Every row of ``files`` from ``start`` on, streamed (one record in memory at a time)."""
    start = start or Cursor(0, 0, 1)
    skipped = skipped if skipped is not None else Skipped()
    for k in range(start.file, len(files)):
        path = files[k]
        cur = start if k == start.file else Cursor(k, 0, 1)
        fmt = STREAM_FORMATS[path.suffix.lower()]
        if fmt == "text":
            rows = _text_rows(path, k, cur, skipped)
        elif fmt == "jsonl":
            rows = _jsonl_rows(path, k, cur, skipped, text_field)
        elif fmt == "csv":
            rows = _csv_rows(path, k, cur, skipped, text_field)
        else:
            rows = _parquet_rows(path, k, cur, skipped, text_field)
        try:
            for row in rows:
                if row.cursor.sub < cur.sub and row.cursor.offset == cur.offset \
                        and k == start.file:
                    continue
                yield row
        except OSError as exc:
            raise DataError(f"{path}: cannot be read ({exc.strerror})") from None


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
