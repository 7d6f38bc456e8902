"""gettext PO/POT catalogues (polib): msgid (source language) and msgstr (the catalogue's
language) of one entry form a group keyed by msgctxt + msgid, so several catalogues of one
domain join into translation groups. The load report counts what a translator cares about:
untranslated entries (their msgid is kept, as a source sentence without a translation),
fuzzy ones (kept: an unreviewed translation is still one) and obsolete ones (``#~``, left
out: the program no longer uses them)."""

from __future__ import annotations

import re
from pathlib import Path

import polib

from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.errors import DataError, cut

_KEYWORD = re.compile(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s*(.*)")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def _check_syntax(path: Path, text: str) -> None:
    """What polib lets through: a string that does not end on its own line (an
    unterminated msgstr would swallow or lose the entry). Raises a DataError naming the
    line and what was expected."""
    for n, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _KEYWORD.fullmatch(line)
        what, value = (m.group(1), m.group(2).strip()) if m else ("continuation", line)
        if not m and not line.startswith('"'):
            raise DataError(f"{path}, line {n}: expected a keyword (msgid, msgstr, msgctxt, "
                            f"...), a quoted string or a # comment, found {cut(line, 60)!r}")
        if not _QUOTED.fullmatch(value):
            raise DataError(f"{path}, line {n}: {what}: expected a string in double quotes "
                            "that ends on the same line (an unterminated string?), found "
                            f"{cut(value, 60)}")


def _parse(path: Path, text: str) -> polib.POFile:
    _check_syntax(path, text)
    try:
        return polib.pofile(text)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable gettext catalogue ({exc})") from None


def _translated(entry: polib.POEntry) -> bool:
    return bool(entry.msgstr) or any(entry.msgstr_plural.values())


def entry_counts(catalogue: polib.POFile) -> dict[str, int]:
    """Messages (header excluded) by state: translated (fuzzy included), untranslated,
    fuzzy and obsolete."""
    counts = {"messages": 0, "translated": 0, "untranslated": 0, "fuzzy": 0, "obsolete": 0}
    for entry in catalogue:
        if not entry.msgid:
            continue  # the header
        if entry.obsolete:
            counts["obsolete"] += 1
            continue
        counts["messages"] += 1
        counts["translated" if _translated(entry) else "untranslated"] += 1
        counts["fuzzy"] += bool(entry.fuzzy and _translated(entry))
    return counts


def count_entries(path: Path, text: str) -> dict[str, int]:
    return entry_counts(_parse(path, text))


def counts_note(counts: dict[str, int]) -> str | None:
    """"120 messages: 113 translated, 5 untranslated, ..." when any entry is not a plain
    translation; None for a complete, reviewed catalogue."""
    parts = [f"{counts['untranslated']:,} untranslated (source text only)"
             if counts["untranslated"] else "",
             f"{counts['fuzzy']:,} fuzzy (unreviewed, included)" if counts["fuzzy"] else "",
             f"{counts['obsolete']:,} obsolete (left out)" if counts["obsolete"] else ""]
    parts = [p for p in parts if p]
    if not parts:
        return None
    return (f"{counts['messages']:,} messages, {counts['translated']:,} translated; "
            + ", ".join(parts))


def read(path: Path, text: str, report: LoadResult, source_lang: str = "en") -> SentenceSet:
    catalogue = _parse(path, text)
    lang = (catalogue.metadata.get("Language") or "").replace("_", "-") or None
    texts, langs, groups, lines = [], [], [], []
    for entry in catalogue:
        if entry.obsolete or not entry.msgid:
            continue
        group = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        translations = [entry.msgstr] if entry.msgstr else [
            v for _, v in sorted(entry.msgstr_plural.items()) if v][:1]
        texts.append(entry.msgid)
        langs.append(source_lang)
        groups.append(group)
        lines.append(entry.linenum)
        for value in translations:
            texts.append(value)
            langs.append(lang)
            groups.append(group)
            lines.append(entry.linenum)
    counts = entry_counts(catalogue)
    if path.suffix.lower() == ".pot":  # a template: untranslated is what it is
        counts["untranslated"] = 0
    note = counts_note(counts)
    if note:
        report.notes.append(note)
    if not texts:
        raise DataError(f"{path}: the catalogue has no messages")
    return SentenceSet.build(texts, lang=langs, group=groups, line=lines, source=path)
