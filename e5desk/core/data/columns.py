"""Which column holds what: a preview of a CSV/TSV/JSONL file's first rows with the readers'
own guesses, so a user (the column-mapping dialog) can confirm or change them before load.
The chosen mapping becomes the reader options (text_column/… or text_field/…)."""

from __future__ import annotations

import csv
import io
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

from e5desk.core.data import delimited, jsonl
from e5desk.core.data.encoding import check_regular, decode
from e5desk.core.errors import DataError

HEAD_BYTES = 256 * 1024


@dataclass
class ColumnPreview:
    path: Path
    format: str  # "csv" or "jsonl"
    columns: list[str]
    rows: list[list[str]]  # first rows, one cell per column
    text: str | None = None  # guessed columns (None: none fits)
    lang: str | None = None
    group: str | None = None
    wide: bool = False  # each language-code column is a language; rows are groups
    language_columns: list[str] = field(default_factory=list)

    def options(self, text: str | None, lang: str | None, group: str | None,
                wide: bool) -> dict:
        """Reader options for load_sentence_set from the user's choice."""
        if self.format == "jsonl":
            return {"text_field": text, "lang_field": lang, "group_field": group}
        if wide:
            return {"wide": True, "group_column": group}
        return {"wide": False, "text_column": text, "lang_column": lang, "group_column": group}


def _head(path: Path) -> str:
    check_regular(path)  # a FIFO or device would block here
    try:
        with path.open("rb") as f:
            raw = f.read(HEAD_BYTES)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(raw) == HEAD_BYTES and b"\n" in raw:
        raw = raw[: raw.rindex(b"\n")]  # whole lines only
    return decode(raw, path)[0]


def preview_columns(path: str | Path, format: str | None = None,
                    rows: int = 8) -> ColumnPreview | None:
    """The preview for a CSV/TSV or generic JSONL file; None where the format fixes the
    meaning of its fields (train.jsonl / passages.jsonl, Tatoeba) or for other formats."""
    from e5desk.core.data import detect_format

    path = Path(path)
    if format is None:
        if path.is_dir():
            return None
        format = detect_format(path, _head(path)[:5000])
    if format == "csv":
        return _csv(path, _head(path), rows)
    if format == "jsonl":
        return _jsonl(path, _head(path), rows)
    return None


def _csv(path: Path, head: str, n: int) -> ColumnPreview:
    dialect = delimited._sniff(head[:20000], path)
    reader = csv.reader(io.StringIO(head), dialect)
    table = [row for _, row in zip(range(n + 1), reader, strict=False)]
    if not table:
        raise DataError(f"{path}: the file is empty")
    header = [h.strip() for h in table[0]]
    guess = delimited.guess_columns(header, delimited.sample_rows(head, dialect))
    pick = lambda i: header[i] if i is not None else None  # noqa: E731
    return ColumnPreview(path, "csv", header,
                         [(r + [""] * len(header))[: len(header)] for r in table[1:]],
                         pick(guess.text), pick(guess.lang), pick(guess.group), guess.wide,
                         [header[i] for i in guess.language_columns])


def _jsonl(path: Path, head: str, n: int) -> ColumnPreview | None:
    from e5desk.core.data.result import LoadResult
    from e5desk.core.data.sentence_set import SentenceSet

    scratch = LoadResult(SentenceSet.build([]), path, "jsonl")  # bad lines: not shown here
    records = [rec for _, rec in itertools.islice(jsonl._records(path, head, scratch), n)]
    if not records:
        raise DataError(f"{path}: no JSON object in the first lines")
    first = records[0]
    if jsonl.is_train_record(first) or set(first) <= {"contents", "lang"}:
        return None  # the reference retrieval formats: nothing to choose
    columns: list[str] = []
    for rec in records:
        columns += [k for k in rec if k not in columns]
    cells = [[_cell(rec.get(c)) for c in columns] for rec in records]
    return ColumnPreview(path, "jsonl", columns, cells, *jsonl.guess_fields(first))


def _cell(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
