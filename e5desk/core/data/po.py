"""gettext PO/POT catalogues (polib): msgid (source language) and msgstr (the catalogue's
language) of one entry form a group keyed by msgctxt + msgid, so several catalogues of one
domain join into translation groups. Fuzzy entries are kept and counted in a note."""

from __future__ import annotations

from pathlib import Path

import polib

from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.errors import DataError


def read(path: Path, text: str, report: LoadResult, source_lang: str = "en") -> SentenceSet:
    try:
        catalogue = polib.pofile(text)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable gettext catalogue ({exc})") from None
    lang = (catalogue.metadata.get("Language") or "").replace("_", "-") or None
    texts, langs, groups, lines = [], [], [], []
    fuzzy = 0
    for entry in catalogue:
        if entry.obsolete or not entry.msgid:
            continue
        group = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        fuzzy += entry.fuzzy
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
    if fuzzy:
        report.notes.append(f"{fuzzy} fuzzy (unreviewed) translation(s) included")
    if not texts:
        raise DataError(f"{path}: the catalogue has no messages")
    return SentenceSet.build(texts, lang=langs, group=groups, line=lines, source=path)
