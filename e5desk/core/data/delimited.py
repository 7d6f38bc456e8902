"""CSV / TSV: delimiter and header sniffing; long tables (text, lang, group columns) or wide
tables where each column is a language and each row one meaning (a group)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.errors import DataError, cut_list

TEXT_NAMES = ("text", "sentence", "sentences", "content", "contents", "passage", "segment")
LANG_NAMES = ("lang", "language", "locale", "lang_code")
GROUP_NAMES = ("group", "id", "group_id", "meaning", "pair_id", "tuid", "key", "msgid")
# "en", "zh-Hans", "pt_BR", and in capitals two letters: "EN", "DE-AT" (three capitals are
# more often an abbreviation, "SKU", than a language)
LANG_HEADER = re.compile(r"^(?:[a-z]{2,3}|[A-Z]{2})([-_][A-Za-z0-9]{2,8})*$")
# Country codes people use for languages: not ISO 639-1 codes, so never another language.
COUNTRY_AS_LANGUAGE = {"jp": "ja", "cn": "zh", "kr": "ko", "ua": "uk", "gr": "el",
                       "cz": "cs", "dk": "da", "vn": "vi", "iw": "he", "ji": "yi"}
MAX_CHARS = 100_000
HEAD_CHARS = 256 * 1024  # enough for the first rows that decide the columns


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
    # How an ambiguous name was decided ("id: Indonesian (its cells are words)"), for the
    # load notes and `inspect`.
    decisions: list[str] = field(default_factory=list)
    # Language columns whose code is not their name ("jp" -> "ja", "German" -> "de").
    codes: dict[int, str] = field(default_factory=dict)
    left_out: list[int] = field(default_factory=list)  # wide: columns of no role

    def code(self, header: list[str], i: int) -> str:
        """The language code of language column ``i``."""
        return self.codes.get(i, header[i].replace("_", "-"))

    def describe(self, header: list[str]) -> str:
        """The roles in one line, as `inspect` prints them."""
        name = lambda i: header[i] if i is not None else None  # noqa: E731
        if self.wide:
            out = (f"wide table, {len(self.language_columns)} language columns "
                   f"({', '.join(header[i] for i in self.language_columns)}); group: "
                   f"{name(self.group) or 'the row number'}")
        else:
            out = (f"text: {name(self.text) or '?'}, language: "
                   f"{name(self.lang) or 'detected'}, group: {name(self.group) or 'none'}")
        if self.wide and self.left_out:
            out += (f"; left out: {', '.join(repr(header[i]) for i in self.left_out)} (not "
                    "a language code: name the column by its language, e.g. en)")
        return out + "".join(f"; {d}" for d in self.decisions)


# ISO 639-1 codes that are also usual column names (row ids, numbers): decided by the other
# columns and by their cells, never by the name alone.
AMBIGUOUS_CODES = {"id": "Indonesian", "no": "Norwegian", "is": "Icelandic",
                   "it": "Italian", "to": "Tongan", "or": "Odia", "as": "Assamese",
                   "an": "Aragonese", "be": "Belarusian", "so": "Somali"}
# Short column names that match the language-code pattern (most are valid ISO 639-3 codes)
# but in a table almost always mean something else.
NOT_LANGUAGES = {"key", "msg", "src", "tgt", "ref", "url", "tag", "num", "row", "col", "pos",
                 "neg", "idx", "uid", "sub", "ctx", "max", "min", "sum", "cat", "str", "txt",
                 "val", "var", "nr", "obs", "pk", "nid", "sid", "tid"}
_ID_CELL = re.compile(r"[0-9]+|[\w.:/#-]*[0-9_.:/#][\w.:/#-]*")
_SAMPLE_ROWS = 200


def _id_like(cells: list[str]) -> bool:
    """Most cells are numbers or identifiers (digits, _ . : / #, no spaces), not words."""
    values = [c.strip() for c in cells if c and c.strip()]
    if not values:
        return False
    return sum(1 for c in values if _ID_CELL.fullmatch(c)) >= 0.9 * len(values)


def guess_columns(header: list[str], rows: list[list[str]] | None = None) -> ColumnGuess:
    """What the reader assumes without options: a wide table when two or more columns are
    named by language codes, else the text/lang/group columns by their usual names.

    A name that is both a language code and a usual column name (``id`` Indonesian, ``no``
    Norwegian, ``is``, ``it``, ...) is a language when the other columns are languages
    (two or more) and its cells (``rows``: the first rows, when given) are not numbers or
    identifiers; otherwise it keeps its column meaning (``id``: the group)."""
    lower = [h.lower() for h in header]
    named = [i for i, h in enumerate(header) if LANG_HEADER.match(h)
             and lower[i] not in TEXT_NAMES + LANG_NAMES + ("topic",) + tuple(NOT_LANGUAGES)]
    sure = [i for i in named if lower[i] not in AMBIGUOUS_CODES]
    ambiguous = [i for i in named if i not in sure]
    cells = {i: [r[i] for r in rows if i < len(r)] if rows else [] for i in ambiguous}
    # Without cells to look at, only the other columns decide.
    words = [i for i in ambiguous if (not _id_like(cells[i]) if rows else len(sure) >= 2)]
    codes: dict[int, str] = {}
    decisions: list[str] = []
    for i in named:
        base, _, rest = lower[i].replace("_", "-").partition("-")
        if base in COUNTRY_AS_LANGUAGE:
            codes[i] = COUNTRY_AS_LANGUAGE[base] + (f"-{header[i][3:]}" if rest else "")
            decisions.append(f"column {header[i]!r} read as {codes[i]}: {base} is a country "
                             "code, not a language code")
    by_name = {i: c for i, h in enumerate(header) if i not in named
               and (c := _language_named(h)) is not None}
    lang_cols = sorted(sure + words)
    if len(lang_cols) + len(by_name) >= 2 and by_name:  # "English, German, Japanese"
        codes.update(by_name)
        lang_cols = sorted(lang_cols + list(by_name))
    wide = len(lang_cols) >= 2
    if wide:
        for i in ambiguous:
            language = AMBIGUOUS_CODES[lower[i]]
            decisions.append(
                f"column {header[i]!r} read as {language}: the other columns are languages"
                + (" and its cells are words" if rows else "") if i in words else
                f"column {header[i]!r} holds numbers or ids, so it is not {language}")
    taken = set(lang_cols) if wide else set()
    find = lambda names: next((lower.index(n) for n in names if n in lower  # noqa: E731
                               and lower.index(n) not in taken), None)
    text_i = find(TEXT_NAMES)
    if text_i is None and len(header) == 1:
        text_i = 0
    group_i = find(GROUP_NAMES)
    left_out = [i for i in range(len(header)) if wide and i not in taken and i != group_i]
    return ColumnGuess(wide, lang_cols, text_i, find(LANG_NAMES), group_i, decisions, codes,
                       left_out)


def _language_named(header: str) -> str | None:
    """The code of a column named by a language's English name ("German" -> "de"); None
    for any other name (an exact name only: "Notes" is no language)."""
    name = header.strip()
    if not name.isalpha() or len(name) < 4 or name.lower() in TEXT_NAMES + LANG_NAMES:
        return None
    import langcodes

    try:
        lang = langcodes.find(name)
    except LookupError:
        return None
    return lang.language if lang.display_name().lower() == name.lower() else None


def sample_rows(text: str, dialect, n: int = _SAMPLE_ROWS) -> list[list[str]]:
    """The first ``n`` records after the header (for :func:`guess_columns`)."""
    reader = csv.reader(io.StringIO(text[:HEAD_CHARS]), dialect)
    next(reader, None)
    out = []
    try:
        for row in reader:
            out.append(row)
            if len(out) >= n:
                break
    except csv.Error:
        pass
    return out


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
    guess = guess_columns(header, [r for _, r in table.records[1:_SAMPLE_ROWS + 1]])
    lang_cols = guess.language_columns
    if group_column in header:  # the user's group column is never a language
        lang_cols = [i for i in lang_cols if header[i] != group_column]
        guess.group = header.index(group_column)
    if wide is None:
        wide = guess.wide and text_column is None
    if wide == guess.wide and text_column is None and lang_column is None:
        report.columns = guess.describe(header)

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
        left_out = [i for i in guess.left_out if i != group_i and i not in lang_cols]
        seen: dict[int, set] = {i: set() for i in left_out}
        filled = dict.fromkeys(left_out, 0)
        for n, row in _full_rows(rows, table, len(header), report):
            for i in left_out:
                if row[i].strip():
                    filled[i] += 1
                    seen[i].add(row[i].strip())
            # Without an id column a row number is the meaning, local to this file.
            group = row[group_i] if group_i is not None else f"{path.name}#row-{n}"
            for i in lang_cols:
                cell = row[i]
                if not cell.strip():
                    continue
                if _unreadable(cell):
                    report.skip(n, f"column {header[i]}: over {MAX_CHARS:,} characters or NUL")
                    continue
                texts.append(cell)
                langs.append(guess.code(header, i))
                groups.append(group)
                lines.append(n)
        # "source,de,fr": its text would be lost without a word. A column whose values
        # repeat (a topic, a status: under half of them distinct) is a category, not text.
        texty = [header[i] for i in left_out if filled[i] and len(seen[i]) * 2 >= filled[i]]
        if texty:
            report.notes.append(f"column(s) {', '.join(repr(h) for h in texty)} left out: "
                                "not named by a language code (name a column of text by its "
                                "language, e.g. en)")
        return SentenceSet.build(texts, lang=langs, group=groups, line=lines, source=path)

    text_i = find(text_column, guess.text, "text")
    if text_i is None:
        raise DataError(f"{path}, line 1: which column holds the text? none is named "
                            f"{'/'.join(TEXT_NAMES[:3])} (columns: {cut_list(header)}); "
                            "choose one (--text-column)")
    lang_i = find(lang_column, guess.lang, "language")
    for n, row in _full_rows(rows, table, len(header), report):
        cell = row[text_i]
        if not cell.strip():
            report.skip(n, "empty text")
            continue
        if _unreadable(cell):
            report.skip(n, f"over {MAX_CHARS:,} characters or NUL bytes")
            continue
        texts.append(cell)
        langs.append(row[lang_i].strip() or None if lang_i is not None else None)
        groups.append(row[group_i].strip() or None if group_i is not None else None)
        lines.append(n)
    return SentenceSet.build(texts, lang=langs, group=groups, line=lines, source=path)


def _full_rows(rows, table, width: int, report):
    """(line number, row) for each row with text and the header's ``width`` fields; a row
    with another count is reported, a blank one passed over."""
    for row in rows:
        n = table.line_num
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != width:
            report.skip(n, f"expected {width} fields, found {len(row)}")
            continue
        yield n, row


def _unreadable(cell: str) -> bool:
    return len(cell) > MAX_CHARS or "\x00" in cell
