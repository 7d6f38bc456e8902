"""JSON Lines: generic records (choose the fields), and the two retrieval formats of the
SambaStudio E5 guide: passages.jsonl ({"contents": ...}, doc_id = line number from 0) and
train.jsonl ({"query", "positives": {"doc_id": [...]}, "negatives": {...}})."""

from __future__ import annotations

import json
from pathlib import Path

from e5desk.core.data.encoding import decode, read_input
from e5desk.core.data.result import LoadResult
from e5desk.core.data.sentence_set import SentenceSet
from e5desk.core.errors import DataError, cut_list

TEXT_FIELDS = ("text", "sentence", "contents", "content", "passage", "query")
LANG_FIELDS = ("lang", "language", "locale")
GROUP_FIELDS = ("group", "id", "group_id")
MAX_LINE = 16 * 2**20  # characters: a longer line is damage, not a record


def _scalar(value) -> str | None:
    """A lang/group field as text: strings and numbers only (lists and objects are not)."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


# Pair formats people train and evaluate with (sentence-transformers, MTEB, ...): (anchor
# field, positive field, negatives field or None, symmetric). First match wins; the
# reference train.jsonl (query + positives.doc_id) is read before these.
PAIR_FORMATS = (("query", "positive", "negative", False), ("anchor", "positive", "negative",
                                                            False),
                ("sentence1", "sentence2", None, True), ("text", "translation", None, True))
NEGATIVE_KEYS = ("negative", "negatives", "hard_negative", "hard_negatives")


def pair_format(record: dict) -> tuple | None:
    """The :data:`PAIR_FORMATS` entry ``record`` follows, or None."""
    return next((f for f in PAIR_FORMATS if f[0] in record and f[1] in record), None)


def pair_negatives(record: dict) -> list[str]:
    """Negative texts: one string or a list of strings under any of NEGATIVE_KEYS."""
    out: list[str] = []
    for key in NEGATIVE_KEYS:
        value = record.get(key)
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        out += [v for v in values if isinstance(v, str) and v.strip()]
    return out


def _array(path: Path, text: str, report: LoadResult):
    """A JSON file holding one array: strings (each a text) or objects (records, read with
    the JSONL field rules); record numbers stand for line numbers."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg} at column "
                        f"{exc.colno}); expected an array of strings or objects, or one "
                        "object per line") from None
    if not isinstance(items, list):
        raise DataError(f"{path}: expected a JSON array of strings or objects, or one object "
                        f"per line (found a {type(items).__name__})")
    report.notes.append("a JSON array: row numbers are record numbers (1 = first item)")
    for n, item in enumerate(items, 1):
        if isinstance(item, str):
            yield n, {"text": item}
        elif isinstance(item, dict):
            yield n, item
        else:
            report.skip(n, f"expected a string or an object, found {type(item).__name__}")


def _records(path: Path, text: str, report: LoadResult):
    if text.lstrip("\ufeff \t\r\n").startswith("["):
        yield from _array(path, text, report)
        return
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            report.skip(n, f"line of {len(line):,} characters is too long for one record")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            report.skip(n, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except RecursionError:
            report.skip(n, "JSON nested too deeply")
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
    if text_field is None and pair_format(first):
        return _read_pairs(path, records, report, pair_format(first))
    guessed = guess_fields(first)
    field = text_field or guessed[0]
    if field is None:
        raise DataError(f"{path}, line {records[0][0]}: which field holds the text? none of "
                        f"{', '.join(TEXT_FIELDS)} (fields: {cut_list(first)})")
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
        langs.append(_scalar(rec.get(lang_f)) if lang_f else None)
        groups.append(_scalar(rec.get(group_f)) if group_f else None)
        lines.append(n)
    return SentenceSet.build(texts, lang=langs, group=groups, line=lines,
                             role=[role] * len(texts), source=path)


def _lang(rec: dict) -> str | None:
    """An optional language field beside the reference format's own keys."""
    value = next((rec.get(f) for f in LANG_FIELDS if isinstance(rec.get(f), str)), None)
    return value.strip() or None if value else None


def _doc_ids(rec: dict, key: str) -> list[int] | None:
    """``rec[key]["doc_id"]`` as passage numbers; None when it is not that shape."""
    value = rec.get(key)
    if value is None:
        return []
    if not isinstance(value, dict):
        return None
    ids = value.get("doc_id", [])
    if isinstance(ids, int | str) and not isinstance(ids, bool):
        ids = [ids]
    if not isinstance(ids, list):
        return None
    try:
        return [int(d) for d in ids if not isinstance(d, bool | float)]
    except (TypeError, ValueError):
        return None


def _read_train(path: Path, records, report: LoadResult) -> SentenceSet:
    """Queries with relevance judgements; passages come from passages.jsonl beside it."""
    passages_file = path.with_name("passages.jsonl")
    passages: list[str] = []
    langs: list[str | None] = []
    if passages_file.is_file():
        raw = decode(read_input(passages_file), passages_file)[0].split("\n")
        for n, line in enumerate(raw, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line) if len(line) <= MAX_LINE else None
            except (ValueError, RecursionError):
                rec = None
            if isinstance(rec, dict) and isinstance(rec.get("contents"), str):
                passages.append(rec["contents"])
                langs.append(_lang(rec))
            else:
                passages.append("")
                langs.append(None)
                report.skip(f"{n} of {passages_file.name}",
                            "expected {\"contents\": \"text\"}")
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
        ids = _doc_ids(rec, "positives")
        if ids is None:
            report.skip(n, 'expected "positives": {"doc_id": [passage numbers]}')
            continue
        known = [d for d in ids if 0 <= d < len(passages)]
        if passages and len(known) < len(ids):
            report.skip(n, f"positive doc_id outside passages.jsonl (0..{len(passages) - 1})")
        negatives = _doc_ids(rec, "negatives")
        if negatives is None:
            bad_negatives += 1
        else:
            bad_negatives += sum(1 for d in negatives if not 0 <= d < len(passages))
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


def _read_pairs(path: Path, records, report: LoadResult, fmt: tuple) -> SentenceSet:
    """Pair records: each record's two texts form a group (a translation or paraphrase
    pair); retrieval pairs (query/anchor + positive) also state relevance, so `eval` ranks
    the positives, and their negatives are passages. A passage text repeated across
    records is one row."""
    a_field, p_field, _, symmetric = fmt
    texts, langs, groups, roles, lines = [], [], [], [], []
    passage_row: dict[str, int] = {}
    relevance: dict[int, list[int]] = {}

    def add(text, lang, group, role, n) -> int:
        texts.append(text)
        langs.append(lang)
        groups.append(group)
        roles.append(role)
        lines.append(n)
        return len(texts) - 1

    def passage(text, lang, group, n) -> int:
        if text not in passage_row:
            passage_row[text] = add(text, lang, group, "passage", n)
        return passage_row[text]

    for n, rec in records:
        anchor, positive = rec.get(a_field), rec.get(p_field)
        if not all(isinstance(v, str) and v.strip() for v in (anchor, positive)):
            report.skip(n, f"expected two texts in {a_field!r} and {p_field!r}")
            continue
        lang = _lang(rec)
        group = f"{path.name}#{n}"
        if symmetric:
            add(anchor, lang, group, None, n)
            add(positive, None, group, None, n)
            continue
        q = add(anchor, lang, group, "query", n)
        relevance[q] = [passage(positive, lang, group, n)]
        for negative in pair_negatives(rec):
            passage(negative, lang, None, n)
    kept = len({ln for ln in lines})
    report.notes.append(f"{kept:,} {a_field}/{p_field} pairs"
                        + ("" if symmetric else " (positives are relevant passages)"))
    out = SentenceSet.build(texts, lang=langs, group=groups, line=lines, role=roles,
                            source=path)
    out.relevance = relevance
    return out
