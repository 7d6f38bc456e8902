"""CSV / TSV: delimiter and header sniffing; long tables (text, lang, group columns) or wide
tables where each column is a language and each row one meaning (a group)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.errors import DataError, cut_list

TEXT_NAMES = ("text", "sentence", "sentences", "content", "contents", "passage", "segment")
LANG_NAMES = ("lang", "language", "locale", "lang_code")
GROUP_NAMES = ("group", "id", "group_id", "meaning", "pair_id", "tuid")
LANG_HEADER = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
MAX_CHARS = 100_000


def _sniff(sample: str, path: Path) -> csv.Dialect | type[csv.Dialect]:
    if path.suffix.lower() == ".tsv":
        return csv.excel_tab
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


class _Rows:
    """csv rows with ``line_num``; a record spanning many lines means an unclosed quote,
    and then the file is re-read one physical line per record so one bad quote cannot
    swallow everything after it."""

    MAX_SPAN = 50

    def __init__(self, text: str, dialect, report: LoadResult) -> None:
        self.records: list[tuple[int, list[str]]] = []
        reader = csv.reader(io.StringIO(text), dialect)
        last = 0
        width = None
        for row in reader:
            width = len(row) if width is None else width
            broken = len(row) != width and any("\n" in cell for cell in row)
            if broken or reader.line_num - last > self.MAX_SPAN:
                report.notes.append(f"unclosed quote near line {last + 1}: the file was read "
                                    "one line per row")
                self.records = [(n, next(csv.reader([line], dialect), []))
                                for n, line in enumerate(text.split("\n"), 1)]
                break
            self.records.append((reader.line_num, row))
            last = reader.line_num
        self.line_num = 0

    def __iter__(self):
        for n, row in self.records:
            self.line_num = n
            yield row



@dataclass
class ColumnGuess:
    wide: bool
    language_columns: list[int]
    text: int | None
    lang: int | None
    group: int | None


def guess_columns(header: list[str]) -> ColumnGuess:
    """What the reader assumes without options: a wide table when two or more columns are
    named by language codes, else the text/lang/group columns by their usual names."""
    lower = [h.lower() for h in header]
    lang_cols = [i for i, h in enumerate(header) if LANG_HEADER.match(h) and h.lower()
                 not in TEXT_NAMES + LANG_NAMES + GROUP_NAMES + ("topic",)]
    find = lambda names: next((lower.index(n) for n in names if n in lower), None)  # noqa: E731
    text_i = find(TEXT_NAMES)
    if text_i is None and len(header) == 1:
        text_i = 0
    return ColumnGuess(len(lang_cols) >= 2, lang_cols, text_i, find(LANG_NAMES),
                       find(GROUP_NAMES))


def read(path: Path, text: str, report: LoadResult, text_column: str | None = None,
         lang_column: str | None = None, group_column: str | None = None,
         wide: bool | None = None) -> SentenceSet:
    dialect = _sniff(text[:20000], path)
    table = _Rows(text, dialect, report)
    rows = iter(table)
    try:
        header = [h.strip() for h in next(rows)]
    except StopIteration:
        raise DataError(f"{path}: the file is empty") from None
    guess = guess_columns(header)
    lang_cols = guess.language_columns
    if wide is None:
        wide = guess.wide and text_column is None

    def find(wanted: str | None, guessed: int | None, what: str) -> int | None:
        if wanted is not None:
            if wanted not in header:
                raise DataError(f"{path}, line 1: no column {wanted!r} for the {what} "
                                f"(columns: {cut_list(header)})")
            return header.index(wanted)
        return guessed

    group_i = find(group_column, guess.group, "group")
    texts, langs, groups, lines = [], [], [], []
    if wide:
        if not lang_cols:
            raise DataError(f"{path}, line 1: a wide table needs language-code column names "
                            f"such as en, de, zh-Hans (found: {cut_list(header)})")
        for row in rows:
            n = table.line_num
            if not row or not any(c.strip() for c in row):
                continue
            if len(row) != len(header):
                report.skip(n, f"expected {len(header)} fields, found {len(row)}")
                continue
            # Without an id column a row number is the meaning, local to this file.
            group = row[group_i] if group_i is not None else f"{path.name}#row-{n}"
            for i in lang_cols:
                cell = row[i]
                if not cell.strip():
                    continue
                if len(cell) > MAX_CHARS or "\x00" in cell:
                    report.skip(n, f"column {header[i]}: over {MAX_CHARS:,} characters or NUL")
                    continue
                texts.append(cell)
                langs.append(header[i].replace("_", "-"))
                groups.append(group)
                lines.append(n)
        return SentenceSet.build(texts, lang=langs, group=groups, line=lines, source=path)

    text_i = find(text_column, guess.text, "text")
    if text_i is None:
        raise DataError(f"{path}, line 1: which column holds the text? none is named "
                            f"{'/'.join(TEXT_NAMES[:3])} (columns: {cut_list(header)}); "
                            "choose one (--text-column)")
    lang_i = find(lang_column, guess.lang, "language")
    for row in rows:
        n = table.line_num
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            report.skip(n, f"expected {len(header)} fields, found {len(row)}")
            continue
        cell = row[text_i]
        if not cell.strip():
            report.skip(n, "empty text")
            continue
        if len(cell) > MAX_CHARS or "\x00" in cell:
            report.skip(n, f"over {MAX_CHARS:,} characters or NUL bytes")
            continue
        texts.append(cell)
        langs.append(row[lang_i].strip() or None if lang_i is not None else None)
        groups.append(row[group_i].strip() or None if group_i is not None else None)
        lines.append(n)
    return SentenceSet.build(texts, lang=langs, group=groups, line=lines, source=path)
