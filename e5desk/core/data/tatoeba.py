"""Tatoeba exports: sentences.csv (id TAB lang TAB text, ISO 639-3 codes) and, beside it,
links.csv (id TAB id): linked sentences (translations) form one group."""

from __future__ import annotations

from pathlib import Path

from e5desk.core.data.encoding import decode, read_input
from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet


def looks_like(text: str) -> bool:
    rows = [r.split("\t") for r in text.split("\n", 20)[:20] if r.strip()]
    return bool(rows) and all(len(r) >= 3 and r[0].isdigit() and 2 <= len(r[1]) <= 4
                              for r in rows)


def read(path: Path, text: str, report: LoadResult) -> SentenceSet:
    ids, texts, langs, lines = [], [], [], []
    for n, row in enumerate(text.split("\n"), 1):
        if not row.strip():
            continue
        parts = row.split("\t")
        if len(parts) < 3 or not parts[0].isdigit():
            report.skip(n, "expected id<TAB>lang<TAB>text")
            continue
        ids.append(int(parts[0]))
        langs.append(parts[1] if parts[1] != "\\N" else None)
        texts.append("\t".join(parts[2:]))
        lines.append(n)
    parent = {i: i for i in ids}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    links = path.with_name("links.csv")
    if links.is_file():
        for row in decode(read_input(links), links)[0].split("\n"):
            parts = row.split("\t")
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                a, b = int(parts[0]), int(parts[1])
                if a in parent and b in parent:
                    parent[find(a)] = find(b)
    else:
        report.notes.append("links.csv not found beside sentences.csv: no translation groups")
    roots = [find(i) for i in ids]
    sizes: dict[int, int] = {}
    for r in roots:
        sizes[r] = sizes.get(r, 0) + 1
    groups = [f"tatoeba-{r}" if sizes[r] > 1 else None for r in roots]
    return SentenceSet.build(texts, lang=langs, group=groups, line=lines, source=path)
