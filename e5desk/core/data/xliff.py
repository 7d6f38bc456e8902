"""XLIFF 1.2 (<trans-unit><source/><target/>) and 2.0 (<unit><segment>...): one group per
unit, keyed by its source text (so files of one project join by source), source and target
languages from the file attributes."""

from __future__ import annotations

from pathlib import Path

from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.data.tmx import parse_xml
from e5desk.core.errors import DataError


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read(path: Path, text: str, report: LoadResult) -> SentenceSet:
    root = parse_xml(path, text)
    if _local(root.tag) != "xliff":
        raise DataError(f"{path}: expected an <xliff> document, found <{_local(root.tag)}>")
    version2 = root.get("version", "").startswith("2")
    texts, langs, groups, lines = [], [], [], []
    for f_i, file in enumerate(e for e in root.iter() if _local(e.tag) == "file"):
        src_lang = root.get("srcLang") if version2 else file.get("source-language")
        tgt_lang = root.get("trgLang") if version2 else file.get("target-language")
        unit_tag = "unit" if version2 else "trans-unit"
        units = [e for e in file.iter() if _local(e.tag) == unit_tag]
        for u_i, unit in enumerate(units, 1):
            sources = ["".join(e.itertext()).strip() for e in unit.iter()
                       if _local(e.tag) == "source"]
            group = (" ".join(x for x in sources if x)
                     or f"{path.name}#{f_i}:{unit.get('id') or u_i}")
            for child in unit.iter():
                kind = _local(child.tag)
                if kind not in ("source", "target"):
                    continue
                value = "".join(child.itertext())
                if not value.strip():
                    continue
                texts.append(value)
                langs.append(src_lang if kind == "source" else tgt_lang)
                groups.append(group)
                lines.append(u_i)
    if not texts:
        report.notes.append("no translation units with text")
    return SentenceSet.build(texts, lang=langs, group=groups, line=lines, source=path)
