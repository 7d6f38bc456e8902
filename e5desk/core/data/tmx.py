"""TMX 1.4 translation memories: each <tu> is a group, each <tuv xml:lang> a sentence.
Parsed with defusedxml (entity expansion and external entities refused)."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.errors import DataError

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def parse_xml(path: Path, text: str):
    try:
        return fromstring(text.encode("utf-8"))
    except DefusedXmlException as exc:
        raise DataError(f"{path}: refused: the XML declares entities ({type(exc).__name__}); "
                        "this is how XML bombs work") from None
    except ParseError as exc:
        line, col = exc.position
        raise DataError(f"{path}, line {line}: broken XML at column {col} ({exc.msg})") from None


def read(path: Path, text: str, report: LoadResult) -> SentenceSet:
    root = parse_xml(path, text)
    if root.tag != "tmx":
        raise DataError(f"{path}: expected a <tmx> document, found <{root.tag}>")
    texts, langs, groups, lines = [], [], [], []
    for i, tu in enumerate(root.iter("tu"), 1):
        group = tu.get("tuid") or f"tu-{i}"
        for tuv in tu.iter("tuv"):
            lang = tuv.get(XML_LANG) or tuv.get("lang")
            seg = tuv.find("seg")
            if seg is None:
                report.skip(f"tu {i}", "a <tuv> without <seg>")
                continue
            value = "".join(seg.itertext())
            if not value.strip():
                continue
            texts.append(value)
            langs.append(lang)
            groups.append(group)
            lines.append(i)
    return SentenceSet.build(texts, lang=langs, group=groups, line=lines, source=path)
