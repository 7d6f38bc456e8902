"""Line-aligned parallel files: corpus.en + corpus.es (+ ...), line i of each is one
meaning. Opening one of them, or their folder, reads every sibling with a language-code
extension; the line number is the group (scoped to the corpus, so two corpora never join
by line number)."""

from __future__ import annotations

import re
from pathlib import Path

from e5desk.core.data.encoding import decode, read_input
from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.errors import DataError, cut_list

LANG_EXT = re.compile(r"^\.[a-z]{2,3}([-_][A-Za-z]{2,4})?$")
NOT_LANGS = {".txt", ".csv", ".tsv", ".tmx", ".po", ".pot", ".xlf", ".md", ".py", ".gz",
             ".zip", ".xml", ".pdf", ".doc", ".png", ".jpg", ".npy", ".bin"}


def is_parallel_name(path: Path) -> bool:
    return bool(LANG_EXT.match(path.suffix)) and path.suffix.lower() not in NOT_LANGS


def siblings(path: Path) -> list[Path]:
    folder, stem = (path, None) if path.is_dir() else (path.parent, path.stem)
    return sorted(p for p in folder.iterdir() if p.is_file() and is_parallel_name(p)
                  and (stem is None or p.stem == stem))


def read(path: Path, text: str, report: LoadResult) -> SentenceSet:
    files = siblings(path)
    if len(files) < 2:
        raise DataError(f"{path}: a parallel corpus needs at least two files like "
                        f"{path.stem}.en and {path.stem}.de side by side")
    texts, langs, groups, lines = [], [], [], []
    counts = {}
    for f in files:
        content = text if f == path else decode(read_input(f), f)[0]
        rows = content.split("\n")
        if rows and rows[-1] == "":
            rows.pop()
        counts[f.name] = len(rows)
        lang = f.suffix[1:].replace("_", "-")
        for n, line in enumerate(rows, 1):
            if not line.strip():
                continue
            texts.append(line)
            langs.append(lang)
            groups.append(f"{path.stem}#line-{n}")
            lines.append(n)
    if len(set(counts.values())) > 1:
        report.notes.append("files differ in length (" + cut_list(
            f"{k}: {v}" for k, v in counts.items()) + "): lines may not be aligned")
    return SentenceSet.build(texts, lang=langs, group=groups, line=lines, source=path)
