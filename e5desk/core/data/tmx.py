"""TMX 1.4 translation memories: each <tu> is a group, each <tuv xml:lang> a sentence.
The group is keyed by the unit's source segment (the header's srclang), so memories and
catalogues of one project join by source text; a unit without a source segment keeps its
tuid (or its position in the file). Parsed with defusedxml (entity expansion and external
entities refused)."""

from __future__ import annotations

import io
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring, iterparse

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
    """Streams the <tu> elements (each one's content is dropped once read, so memory stays
    near the size of the sentences); a file broken part-way keeps the units before the
    break and reports where it broke."""
    texts, langs, groups, lines = [], [], [], []
    events = iterparse(io.BytesIO(text.encode("utf-8")), events=("end",))
    i = 0
    elem = None
    srclang = None
    try:
        for _event, elem in events:
            if elem.tag == "header":
                srclang = (elem.get("srclang") or "").lower() or None
                if srclang == "*all*":
                    srclang = None
            if elem.tag != "tu":
                continue
            i += 1
            _unit(elem, i, srclang, path.name, report, texts, langs, groups, lines)
            elem.clear()
    except DefusedXmlException as exc:
        raise DataError(f"{path}: refused: the XML declares entities ({type(exc).__name__}); "
                        "this is how XML bombs work") from None
    except ParseError as exc:
        line, col = exc.position
        if not texts:
            raise DataError(f"{path}, line {line}: broken XML at column {col} "
                            f"({exc.msg})") from None
        report.skip(f"{line} (after unit {i})", f"broken XML at column {col} ({exc.msg}); "
                    "nothing after it was read")
    else:
        if elem is not None and elem.tag != "tmx":  # the last end event is the root's
            raise DataError(f"{path}: expected a <tmx> document, found <{elem.tag}>")
    return SentenceSet.build(texts, lang=langs, group=groups, line=lines, source=path)


def _unit(tu, i: int, srclang: str | None, file_name: str, report: LoadResult, texts, langs,
          groups, lines) -> None:
    start = len(texts)
    source = None
    for tuv in tu.iter("tuv"):
        lang = tuv.get(XML_LANG) or tuv.get("lang")
        seg = tuv.find("seg")
        if seg is None:
            report.skip(f"tu {i}", "a <tuv> without <seg>")
            continue
        value = "".join(seg.itertext())
        if not value.strip():
            continue
        if source is None and lang and (srclang is None or lang.lower() == srclang):
            source = value.strip()
        texts.append(value)
        langs.append(lang)
        lines.append(i)
    unit_id = tu.get("tuid")
    group = source or (f"{file_name}#{unit_id}" if unit_id else f"{file_name}#tu-{i}")
    groups.extend([group] * (len(texts) - start))
