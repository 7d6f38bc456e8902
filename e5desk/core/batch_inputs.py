"""Streaming the inputs of a batch run row by row, from any row on.

The files named, globbed or inside folders (text, JSONL, CSV/TSV, Parquet) in a fixed
order; each row carries a :class:`Cursor` (file, byte offset, line) from which a later
read starts again, so a shard is read on its own without the rows before it.
"""

from __future__ import annotations

import csv
import glob
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from e5desk.core.errors import DataError

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
    from e5desk.core.data.jsonl import pair_format, pair_negatives

    t_f, l_f, g_f = guess_fields(first)
    pairs = None if text_field else pair_format(first)  # every text of a pair record
    t_f = text_field or t_f or (pairs[0] if pairs else None)
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
        if pairs:
            group = f"{path.name}#{here.line}"
            cells = [(rec.get(pairs[0]), group), (rec.get(pairs[1]), group),
                     *((x, None) for x in pair_negatives(rec))]
            lang = rec.get(l_f) if l_f else None
            sub = 0
            for text, g in cells:
                if _ok(text, path, here.line, skipped):
                    yield Row(text, str(lang) if lang else None, g, here.line,
                              Cursor(k, here.offset, here.line, sub))
                    sub += 1
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
    from e5desk.core.data.delimited import _sniff, guess_columns, sample_rows

    head, bom = _head(path)
    dialect = _sniff(head[:20000], path)
    header_row = next(csv.reader(head.split("\n")[:1], dialect), [])
    header = [h.strip() for h in header_row]
    if not header:
        raise DataError(f"{path}: the file is empty")
    guess = guess_columns(header, sample_rows(head, dialect))
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
            cells = [(record[i], guess.code(header, i), group)
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
