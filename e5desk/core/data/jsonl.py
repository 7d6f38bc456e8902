"""JSON Lines: generic records (choose the fields), and the two retrieval formats of the
SambaStudio E5 guide: passages.jsonl ({"contents": ...}, doc_id = line number from 0) and
train.jsonl ({"query", "positives": {"doc_id": [...]}, "negatives": {...}})."""

from __future__ import annotations

import json
from pathlib import Path

from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.errors import DataError

TEXT_FIELDS = ("text", "sentence", "contents", "content", "passage", "query")
LANG_FIELDS = ("lang", "language", "locale")
GROUP_FIELDS = ("group", "id", "group_id")


def _records(path: Path, text: str, report: LoadResult):
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            report.skip(n, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(record, dict):
            report.skip(n, "expected a JSON object")
            continue
        yield n, record


def is_train_record(record: dict) -> bool:
    """A train.jsonl query with relevance judgements (reference document 003)."""
    return "query" in record and "positives" in record


def guess_fields(record: dict) -> tuple[str | None, str | None, str | None]:
    """(text, lang, group) fields the reader assumes without options, by their usual names."""
    find = lambda names: next((f for f in names if f in record), None)  # noqa: E731
    return find(TEXT_FIELDS), find(LANG_FIELDS), find(GROUP_FIELDS)


def read(path: Path, text: str, report: LoadResult, text_field: str | None = None,
         lang_field: str | None = None, group_field: str | None = None) -> SentenceSet:
    records = list(_records(path, text, report))
    if not records:
        raise DataError(f"{path}: no JSON object could be read (first problem: "
                        f"{report.reasons[0] if report.reasons else 'no lines'})")
    first = records[0][1]
    if text_field is None and is_train_record(first):
        return _read_train(path, records, report)
    guessed = guess_fields(first)
    field = text_field or guessed[0]
    if field is None:
        raise DataError(f"{path}, line {records[0][0]}: which field holds the text? none of "
                        f"{', '.join(TEXT_FIELDS)} (fields: {', '.join(first)})")
    lang_f = lang_field or guessed[1]
    group_f = group_field or guessed[2]
    role = "passage" if field == "contents" else None
    texts, langs, groups, lines = [], [], [], []
    for n, rec in records:
        value = rec.get(field)
        if not isinstance(value, str) or not value.strip():
            report.skip(n, f"no text in field {field!r}")
            continue
        texts.append(value)
        langs.append(rec.get(lang_f) if lang_f else None)
        groups.append(str(rec[group_f]) if group_f and rec.get(group_f) is not None else None)
        lines.append(n)
    return SentenceSet.build(texts, lang=langs, group=groups, line=lines,
                             role=[role] * len(texts), source=path)


def _lang(rec: dict) -> str | None:
    """An optional language field beside the reference format's own keys."""
    value = next((rec.get(f) for f in LANG_FIELDS if isinstance(rec.get(f), str)), None)
    return value.strip() or None if value else None


def _read_train(path: Path, records, report: LoadResult) -> SentenceSet:
    """Queries with relevance judgements; passages come from passages.jsonl beside it."""
    passages_file = path.with_name("passages.jsonl")
    passages: list[str] = []
    langs: list[str | None] = []
    if passages_file.is_file():
        raw = passages_file.read_text(encoding="utf-8-sig").split("\n")
        for n, line in enumerate(raw, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                passages.append(rec["contents"])
                langs.append(_lang(rec))
            except (json.JSONDecodeError, KeyError, TypeError):
                passages.append("")
                langs.append(None)
                report.skip(f"{n} of {passages_file.name}", "expected {\"contents\": ...}")
    else:
        report.notes.append(f"{passages_file.name} not found beside {path.name}: "
                            "queries loaded without their passages")
    texts = list(passages)
    roles = ["passage"] * len(passages)
    lines = list(range(1, len(passages) + 1))
    relevance: dict[int, list[int]] = {}
    bad_negatives = 0  # negatives are not used here (evaluation needs positives only)
    for n, rec in records:
        query = rec.get("query")
        if not isinstance(query, str) or not query.strip():
            report.skip(n, "no 'query' text")
            continue
        try:
            ids = [int(d) for d in (rec.get("positives") or {}).get("doc_id", [])]
        except (TypeError, ValueError):
            report.skip(n, "positives.doc_id must be a list of passage numbers")
            continue
        known = [d for d in ids if 0 <= d < len(passages)]
        if passages and len(known) < len(ids):
            report.skip(n, f"positive doc_id outside passages.jsonl (0..{len(passages) - 1})")
        negatives = (rec.get("negatives") or {}).get("doc_id", [])
        try:
            bad_negatives += sum(1 for d in negatives if not 0 <= int(d) < len(passages))
        except (TypeError, ValueError):
            bad_negatives += len(negatives)
        relevance[len(texts)] = known
        texts.append(query)
        langs.append(_lang(rec))
        roles.append("query")
        lines.append(n)
    if passages and bad_negatives:
        report.notes.append(f"{bad_negatives} negative doc_id(s) are not passage numbers in "
                            f"{passages_file.name} (0..{len(passages) - 1})")
    result = SentenceSet.build(texts, lang=langs, role=roles, line=lines, source=path)
    result.relevance = relevance
    return result
