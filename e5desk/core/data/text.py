"""Plain text: one sentence per line, optionally ``lang<TAB>text``."""

from __future__ import annotations

import re
from pathlib import Path

from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet

LANG_CODE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
MAX_CHARS = 100_000


def read(path: Path, text: str, report: LoadResult) -> SentenceSet:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    tabbed = [ln.split("\t", 1) for ln in lines if "\t" in ln]
    with_lang = len(tabbed) > 0.8 * max(1, sum(1 for ln in lines if ln.strip())) and all(
        LANG_CODE.match(t[0].strip()) for t in tabbed[:200])
    texts, langs, numbers = [], [], []
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
            lang = code.strip().replace("_", "-")
        texts.append(ln)
        langs.append(lang)
        numbers.append(i)
    return SentenceSet.build(texts, lang=langs, line=numbers, source=path)
