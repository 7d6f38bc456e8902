"""Parquet tables (a text column, optionally lang and group; a vector column beside them is
what ``--vectors`` reads): one sentence per row, read batch by batch. Column names as for
CSV (text/sentence/content, lang/language/locale, group/meaning/key); a row id ("id") is
not a group, as in `e5desk batch` outputs."""

from __future__ import annotations

from pathlib import Path

from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.errors import DataError, cut_list

BATCH = 65_536
MAX_CHARS = 100_000


def read(path: Path, content: str | None, report: LoadResult, text_column: str | None = None,
         lang_column: str | None = None, group_column: str | None = None) -> SentenceSet:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from e5desk.core.data.delimited import GROUP_NAMES, LANG_NAMES, TEXT_NAMES

    try:
        file = pq.ParquetFile(path, pre_buffer=False)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    names = file.schema_arrow.names
    lower = {n.lower(): n for n in names}

    def pick(wanted: str | None, options, what: str) -> str | None:
        if wanted is not None:
            if wanted not in names:
                raise DataError(f"{path}: no column {wanted!r} for the {what} "
                                f"(columns: {cut_list(names)})")
            return wanted
        return next((lower[n] for n in options if n in lower), None)

    text_c = pick(text_column, TEXT_NAMES, "text")
    if text_c is None:
        raise DataError(f"{path}: which column holds the text? none is named "
                        f"{'/'.join(TEXT_NAMES[:3])} (columns: {cut_list(names)}); choose "
                        "one (--text-column)")
    lang_c = pick(lang_column, LANG_NAMES, "language")
    group_c = pick(group_column, [g for g in GROUP_NAMES if g != "id"], "group")
    columns = [c for c in dict.fromkeys((text_c, lang_c, group_c)) if c]
    texts, langs, groups, lines = [], [], [], []
    row = 0
    try:
        for batch in file.iter_batches(batch_size=BATCH, columns=columns, use_threads=False):
            cols = {c: batch.column(c).to_pylist() for c in columns}
            for j, text in enumerate(cols[text_c]):
                n = row + j + 1  # rows are numbered from 1, as lines are
                if not isinstance(text, str) or not text.strip():
                    report.skip(f"row {n}", "empty text")
                    continue
                if len(text) > MAX_CHARS or "\x00" in text:
                    report.skip(f"row {n}", f"over {MAX_CHARS:,} characters or NUL bytes")
                    continue
                texts.append(text)
                lang = cols[lang_c][j] if lang_c else None
                group = cols[group_c][j] if group_c else None
                langs.append(str(lang).strip() or None if lang is not None else None)
                groups.append(str(group) if group is not None else None)
                lines.append(n)
            row += batch.num_rows
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: row {row + 1} and on could not be read ({exc})") from None
    return SentenceSet.build(texts, lang=langs, group=groups, line=lines, source=path)
