"""What a translation QA pass looks at: one ``Entry`` per translated message and target
language, with what the catalogue says about it (gettext flags, msgctxt, comments, plural
forms and the ``Plural-Forms`` header; XLIFF unit ids; TMX unit ids).

The shared readers (``e5desk.core.data``) give sentences for embedding; they leave out the
flags, plural forms and inline markup a rule check needs, so QA reads the catalogue again
here (polib for PO, defusedxml for XLIFF and TMX). Other formats (CSV, JSONL, ...) become
entries through their sentence set: the source language row of each group against each
other language's row."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from e5desk.core.errors import DataError

FORMAT_FLAGS = ("python-format", "c-format", "python-brace-format")


@dataclass
class Entry:
    file: str  # the path as given
    fmt: str  # "po", "xliff", "tmx" or the reader's name for other formats
    line: int  # 1-based line (PO: the msgid line) or unit number (XLIFF, TMX)
    source: str
    target: str  # "" when untranslated
    src_lang: str | None
    tgt_lang: str | None
    context: str | None = None  # msgctxt
    unit_id: str | None = None  # XLIFF trans-unit id, TMX tuid
    flags: tuple[str, ...] = ()
    comment: str = ""  # extracted and translator comments
    source_plural: str | None = None
    plurals: dict[int, str] = field(default_factory=dict)  # msgstr[n]
    nplurals: int | None = None  # from the catalogue's Plural-Forms header
    fuzzy: bool = False
    index: int = 0  # position of the entry/unit in its file (for marking)

    @property
    def identity(self) -> str:
        """How a localiser finds the entry: "msgctxt | msgid" or the unit id."""
        if self.unit_id:
            return self.unit_id
        return f"{self.context} | {self.source}" if self.context else self.source

    @property
    def key(self) -> tuple[str, str]:
        """What ties translations of one message together across files: (context, source)."""
        return (self.context or "", self.source.strip())

    @property
    def translations(self) -> list[str]:
        """Every translated form (plural forms in order, or the one msgstr)."""
        if self.plurals:
            return [v for _, v in sorted(self.plurals.items())]
        return [self.target] if self.target else []

    @property
    def translated(self) -> bool:
        return bool(self.target) or any(self.plurals.values())


def catalogue_lines(path: Path) -> list[str]:
    from e5desk.core.data.encoding import decode, read_input

    text, _, _ = decode(read_input(path), path)
    return text.splitlines()


def _nplurals(header: str | None) -> int | None:
    m = re.search(r"nplurals\s*=\s*(\d+)", header or "")
    return int(m.group(1)) if m else None


def entry_start(lines: list[str], linenum: int) -> int:
    """0-based index of the entry's msgctxt (or msgid) line: polib's ``linenum`` is where
    the entry's block begins (its first comment line)."""
    i = max(0, linenum - 1)
    while i < len(lines) and not lines[i].startswith(("msgctxt", "msgid")):
        i += 1
    return min(i, len(lines) - 1)


_PATH_LANG = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?(?:@\w+)?$")
_STEM_LANG = re.compile(r"^[a-z]{2}(?:[-_][A-Za-z0-9]{2,4})?(?:@\w+)?$")  # fr, pt_BR, sr@latin


def language_of_catalogue(path: Path, translations: list[str]) -> str | None:
    """The language of a catalogue without a ``Language`` header: from its path
    (``fr.po``, ``pt_BR.po``, ``locale/fr/LC_MESSAGES/django.po``), else the language most
    of its translations are detected in."""
    path = Path(path)
    named = path.stem if _STEM_LANG.match(path.stem) else None
    if path.parent.name == "LC_MESSAGES" and _PATH_LANG.match(path.parent.parent.name):
        named = path.parent.parent.name
    if named:
        return named.split("@")[0].replace("_", "-")
    if not translations:
        return None
    from collections import Counter

    from e5desk.core.langid import detect

    codes, conf = detect(translations[:500])
    counts = Counter(c for c, p in zip(codes, conf, strict=True) if p >= 0.5)
    return counts.most_common(1)[0][0] if counts else None


def read_po(path: Path, source_lang: str = "en") -> list[Entry]:
    import polib

    try:
        catalogue = polib.pofile(str(path))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable gettext catalogue ({exc})") from None
    lines = catalogue_lines(path)
    lang = (catalogue.metadata.get("Language") or "").replace("_", "-") or None
    if lang is None:  # older catalogues: the path says it, else the translations do
        lang = language_of_catalogue(path, [e.msgstr for e in catalogue
                                            if e.msgstr and not e.obsolete])
    nplurals = _nplurals(catalogue.metadata.get("Plural-Forms"))
    out = []
    for i, e in enumerate(catalogue):
        if e.obsolete or not e.msgid:
            continue
        plurals = dict(e.msgstr_plural) if e.msgid_plural else {}
        target = e.msgstr or next((v for _, v in sorted(plurals.items()) if v), "")
        start = entry_start(lines, e.linenum) if lines else e.linenum - 1
        if lines and lines[start].startswith("msgctxt"):  # report the msgid's line
            start = next((k for k in range(start, len(lines))
                          if lines[k].startswith("msgid")), start)
        out.append(Entry(str(path), "po", start + 1, e.msgid, target, source_lang, lang,
                         context=e.msgctxt, flags=tuple(e.flags),
                         comment="\n".join(x for x in (e.comment, e.tcomment) if x),
                         source_plural=e.msgid_plural or None, plurals=plurals,
                         nplurals=nplurals, fuzzy=e.fuzzy, index=i))
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def inline_text(elem) -> str:
    """A segment's text with its inline elements (``<ph>``, ``<bpt>``, ``<g>``, ...) as
    ``<tag id/>`` markers, so the markup check sees a dropped or invented inline code."""
    parts = [elem.text or ""]
    for child in elem:
        ident = child.get("id") or child.get("i") or child.get("x") or ""
        name = _local(child.tag)
        if name in ("g", "mrk", "pc", "sub", "hi"):  # paired elements: their text is text
            parts.append(f"<{name}{' ' + ident if ident else ''}>{inline_text(child)}</{name}>")
        else:
            parts.append(f"<{name}{' ' + ident if ident else ''}/>")
        parts.append(child.tail or "")
    return "".join(parts)


def _parse_xml(path: Path):
    from e5desk.core.data.encoding import decode, read_input
    from e5desk.core.data.tmx import parse_xml

    text, _, _ = decode(read_input(path), path)
    return parse_xml(path, text)


def read_xliff(path: Path) -> list[Entry]:
    root = _parse_xml(path)
    if _local(root.tag) != "xliff":
        raise DataError(f"{path}: expected an <xliff> document, found <{_local(root.tag)}>")
    v2 = root.get("version", "").startswith("2")
    out = []
    n = 0
    for file in (e for e in root.iter() if _local(e.tag) == "file"):
        src_lang = root.get("srcLang") if v2 else file.get("source-language")
        tgt_lang = root.get("trgLang") if v2 else file.get("target-language")
        for unit in (e for e in file.iter() if _local(e.tag) == ("unit" if v2 else "trans-unit")):
            n += 1
            src = next((e for e in unit.iter() if _local(e.tag) == "source"), None)
            tgt = next((e for e in unit.iter() if _local(e.tag) == "target"), None)
            if src is None:
                continue
            notes = [("".join(x.itertext())) for x in unit.iter() if _local(x.tag) == "note"]
            out.append(Entry(str(path), "xliff", n, inline_text(src),
                             "" if tgt is None else inline_text(tgt), src_lang, tgt_lang,
                             unit_id=unit.get("id") or unit.get("resname"),
                             comment="\n".join(notes), index=n - 1))
    return out


def read_tmx(path: Path) -> list[Entry]:
    from e5desk.core.data.tmx import XML_LANG

    root = _parse_xml(path)
    header = root.find("header")
    srclang = (header.get("srclang") if header is not None else None) or None
    if srclang == "*all*":
        srclang = None
    out = []
    for n, tu in enumerate(root.iter("tu"), 1):
        segs = []
        for tuv in tu.iter("tuv"):
            seg = tuv.find("seg")
            if seg is not None:
                segs.append((tuv.get(XML_LANG) or tuv.get("lang"), inline_text(seg)))
        if not segs:
            continue
        src = next((s for s in segs if srclang and s[0] and s[0].lower() == srclang.lower()),
                   segs[0])
        notes = [x.text or "" for x in tu.iter("note")]
        for lang, text in segs:
            if (lang, text) is src or lang == src[0]:
                continue
            out.append(Entry(str(path), "tmx", n, src[1], text, src[0], lang,
                             unit_id=tu.get("tuid"), comment="\n".join(notes), index=n - 1))
    return out


def from_sentence_set(path: Path, fmt: str, s, src_lang: str | None = None) -> list[Entry]:
    """Entries of a table-like parallel set: the source language's row of each group against
    every other language's row (source language: given, else the one in most groups)."""
    from e5desk.core.translations import group_languages

    per_lang = group_languages(s.lang, s.group)
    if not per_lang:
        return []
    source = src_lang or max(per_lang.items(), key=lambda kv: kv[1])[0]
    by_group: dict = {}
    for row, g in enumerate(s.group):
        if g is not None:
            by_group.setdefault(g, []).append(row)
    out = []
    for g, rows in by_group.items():
        src = next((r for r in rows if s.lang[r] == source), None)
        if src is None:
            continue
        context = table_context(str(g), str(s.text[src]))
        for r in rows:
            if r != src and s.lang[r] != source:
                out.append(Entry(str(path), fmt, int(s.line[r]), str(s.text[src]),
                                 str(s.text[r]), source, s.lang[r], context=context,
                                 unit_id=str(g), index=int(r)))
    return out


def table_context(key: str, source: str) -> str | None:
    """A table's own message key ("month.march.abbr", "abbrev. month|March") tells two rows
    with one source apart as msgctxt does; row numbers, plain numbers and keys that are the
    source text itself say nothing."""
    if "#row-" in key or not any(ch.isalpha() for ch in key) or \
            source.strip().casefold().startswith(key.strip().casefold()):
        return None
    return key


READERS = {"po": read_po, "xliff": read_xliff, "tmx": read_tmx}
