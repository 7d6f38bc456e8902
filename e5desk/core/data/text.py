"""Plain text: one sentence per line, optionally ``lang<TAB>text``."""

from __future__ import annotations

import re
from array import array
from pathlib import Path

import numpy as np

from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet

LANG_CODE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
MAX_CHARS = 100_000


def read(path: Path, text: str, report: LoadResult) -> SentenceSet:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # Decide from a sample: splitting every line here would double peak memory at 1M rows.
    head = [ln for ln in lines[:2000] if ln.strip()]
    tabbed = [ln.split("\t", 1)[0] for ln in head if "\t" in ln]
    with_lang = len(tabbed) > 0.8 * max(1, len(head)) and all(
        LANG_CODE.match(code.strip()) for code in tabbed[:200])
    texts, langs, numbers = [], [], array("q")
    codes: dict[str, str] = {}  # one string object per language code, not one per row
    for i, ln in enumerate(lines, 1):
        if not ln.strip():
            continue
        if "\x00" in ln:
            report.skip(i, "contains NUL bytes (binary data?)")
            continue
        if len(ln) > MAX_CHARS:
            report.skip(i, f"{len(ln):,} characters, over the {MAX_CHARS:,} limit")
            continue
        lang = None
        if with_lang and "\t" in ln:
            code, ln = ln.split("\t", 1)
            lang = codes.get(code)
            if lang is None:
                lang = codes[code] = code.strip().replace("_", "-")
        texts.append(ln)
        langs.append(lang)
        numbers.append(i)
    lines.clear()
    return SentenceSet.build(texts, lang=langs, line=np.frombuffer(numbers, dtype=np.int64),
                             source=path)
