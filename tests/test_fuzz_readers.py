"""Property-based tests (hypothesis): random bytes and random JSON/XML/CSV/PO shapes fed to
every sentence-set reader, the project loader and the model-folder checks. The only outcomes
allowed are a result or a typed e5desk error (issue 14). Bounded: a few dozen examples each,
no deadline per example, seconds in all."""

from __future__ import annotations

import json
import shutil
import sqlite3
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from e5desk.core.data import FORMATS, load_sentence_set  # noqa: E402
from e5desk.core.errors import E5DeskError  # noqa: E402

FAST = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WORK = Path(tempfile.mkdtemp(prefix="e5desk-fuzz-"))

# Short texts in several scripts, and the characters that break naive parsers.
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
               max_size=20) | st.sampled_from(
    ["", " ", "\t", '"', "<", "&", "\\", "msgid", "\x00", "\u2028", "Hola", "你好"])
scalars = st.none() | st.booleans() | st.integers(-5, 10**20) | st.floats() | text
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(text | st.sampled_from(
                               ["text", "lang", "group", "query", "positives", "negatives",
                                "doc_id", "contents", "id"]), inner, max_size=4),
                           max_leaves=12)


def attempt(path: Path, **options) -> None:
    try:
        result = load_sentence_set(path, **options)
    except E5DeskError:
        return
    s = result.sentence_set
    assert len(s) > 0 and all(isinstance(t, str) for t in s.text)


def write(name: str, data: bytes | str) -> Path:
    path = WORK / name
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


@FAST
@given(data=st.binary(max_size=600), fmt=st.sampled_from(sorted(set(FORMATS) - {"parallel"})))
def test_random_bytes_to_every_reader(data, fmt):
    attempt(write(f"bytes.{fmt}", data), format=fmt)


@FAST
@given(lines=st.lists(json_values, min_size=1, max_size=6))
def test_random_json_lines(lines):
    body = "\n".join(json.dumps(v, ensure_ascii=False) for v in lines)
    attempt(write("random.jsonl", body))
    attempt(write("train.jsonl", body))


@FAST
@given(records=st.lists(st.fixed_dictionaries({}, optional={
    "query": scalars, "positives": json_values, "negatives": json_values,
    "lang": json_values}), min_size=1, max_size=5),
       passages=st.lists(json_values, max_size=4))
def test_random_train_and_passages(records, passages):
    (WORK / "passages.jsonl").write_text("\n".join(json.dumps(p) for p in passages))
    records[0] = {**records[0], "query": "q", "positives": records[0].get("positives", {})}
    attempt(write("train.jsonl", "\n".join(json.dumps(r) for r in records)))


@FAST
@given(rows=st.lists(st.lists(text, max_size=5), min_size=1, max_size=6),
       sep=st.sampled_from([",", "\t", ";", "|"]), header=st.sampled_from(
           [[], ["text", "lang"], ["en", "de"], ["id", "en", "fr"], ["text"]]))
def test_random_csv(rows, sep, header):
    lines = [sep.join(header)] if header else []
    lines += [sep.join(r) for r in rows]
    attempt(write("random.csv", "\n".join(lines)))
    attempt(write("random.tsv", "\n".join(lines)))


xml_names = st.sampled_from(["tmx", "body", "tu", "tuv", "seg", "header", "xliff", "file",
                             "trans-unit", "source", "target", "x"])
xml_attrs = st.dictionaries(st.sampled_from(["xml:lang", "srclang", "tuid", "id",
                                             "source-language", "target-language"]),
                            text, max_size=2)


def _xml(tree) -> str:
    if isinstance(tree, str):
        return tree.replace("&", "&amp;").replace("<", "&lt;")
    name, attrs, children = tree
    quoted = "".join(f' {k}="{v.replace(chr(34), "").replace("&", "").replace("<", "")}"'
                     for k, v in attrs.items())
    return f"<{name}{quoted}>" + "".join(_xml(c) for c in children) + f"</{name}>"


xml_trees = st.recursive(text, lambda inner: st.tuples(xml_names, xml_attrs,
                                                       st.lists(inner, max_size=3)),
                         max_leaves=10)


@FAST
@given(tree=xml_trees, cut=st.integers(0, 400), fmt=st.sampled_from(["tmx", "xliff"]))
def test_random_xml(tree, cut, fmt):
    root = tree if isinstance(tree, tuple) else ("x", {}, [tree])
    doc = f'<?xml version="1.0"?><{fmt}>' + _xml(root) + f"</{fmt}>"
    attempt(write(f"random.{fmt}", doc))
    attempt(write(f"cut.{fmt}", doc[:cut]))  # broken part-way


po_lines = st.sampled_from(['msgid "', 'msgstr "', 'msgctxt "', "#, fuzzy", "#~ ",
                            'msgid_plural "', 'msgstr[0] "', '"', "#: a.c:1", ""])


@FAST
@given(parts=st.lists(st.tuples(po_lines, text, st.booleans()), min_size=1, max_size=10))
def test_random_po(parts):
    lines = [f'{key}{value.replace(chr(10), " ")}{chr(34) if close else ""}'
             for key, value, close in parts]
    attempt(write("random.po", "\n".join(lines)))


# -- projects --------------------------------------------------------------------------------
def _base_project() -> Path:
    from e5desk.core.data.sentence_set import SentenceSet
    from e5desk.core.store.project import Embedding, Project, save_project

    path = WORK / "base.e5desk"
    if not path.exists():
        s = SentenceSet.build(["a", "b"], lang=["en", "de"])
        save_project(Project(sets=[s], embeddings={"q": Embedding(
            "m", "query", None, np.ones((2, 3), np.float32))},
            arrays={"map": (np.zeros((2, 2), np.float32), {})}, settings={"tab": 0}), path)
    return path


def _open_project(path: Path) -> None:
    from e5desk.core.store.project import load_project

    try:
        project = load_project(path)
    except E5DeskError:
        return
    for e in project.embeddings.values():
        assert e.vectors.dtype == np.float32 and e.vectors.ndim == 2
    assert isinstance(project.settings, dict)


COLUMNS = {"embeddings": ["model", "role", "task", "rows", "dim", "vectors"],
           "arrays": ["dtype", "shape", "data", "info"], "sets": ["name", "source", "relevance"],
           "meta": ["value"], "sentences": ["text", "lang", "grp", "role", "line"]}
cell_values = (st.none() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False)
               | text | st.binary(max_size=40) | json_values.map(json.dumps))


@FAST
@given(table=st.sampled_from(sorted(COLUMNS)), data=st.data())
def test_random_project_cells(table, data):
    path = WORK / "cells.e5desk"
    shutil.copy(_base_project(), path)
    column = data.draw(st.sampled_from(COLUMNS[table]))
    value = data.draw(cell_values)
    db = sqlite3.connect(path)
    db.execute(f"UPDATE {table} SET {column}=?", (value,))
    db.commit()
    db.close()
    _open_project(path)


@FAST
@given(data=st.binary(max_size=400), offset=st.integers(0, 20_000), keep=st.booleans())
def test_random_project_bytes(data, offset, keep):
    raw = bytearray(_base_project().read_bytes())
    raw[offset:offset + len(data)] = data
    if not keep:
        raw = raw[:offset]
    path = write("bytes.e5desk", bytes(raw))
    _open_project(path)


# -- model folders ---------------------------------------------------------------------------
def _model_folder() -> Path:
    folder = WORK / "model"
    folder.mkdir(exist_ok=True)
    (folder / "tokenizer.json").write_text("{}")
    return folder


def _inspect(folder: Path) -> None:
    from e5desk.core.models.discovery import inspect_folder

    try:
        source = inspect_folder(folder)
    except E5DeskError:
        return
    assert isinstance(source.dim, int) and isinstance(source.max_tokens, int)


@FAST
@given(config=json_values, st_config=json_values)
def test_random_model_configs(config, st_config):
    folder = _model_folder()
    if isinstance(config, dict):
        config.setdefault("model_type", "bert")
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "config_sentence_transformers.json").write_text(json.dumps(st_config))
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", 2) + b"{}")
    _inspect(folder)


tensor = st.fixed_dictionaries({}, optional={
    "dtype": st.sampled_from(["F32", "F16", "I64", "X", 3]),
    "shape": st.lists(st.integers(-2, 40), max_size=3) | json_values,
    "data_offsets": st.lists(st.integers(-5, 10_000), max_size=3) | json_values})


@FAST
@given(header=st.dictionaries(st.sampled_from(["embeddings.word_embeddings.weight", "w",
                                               "__metadata__"]), tensor | json_values,
                              max_size=3),
       body=st.integers(0, 5000), raw=st.none() | st.binary(max_size=200))
def test_random_safetensors(header, body, raw):
    folder = _model_folder()
    (folder / "config.json").write_text('{"model_type": "bert", "hidden_size": 4}')
    (folder / "config_sentence_transformers.json").unlink(missing_ok=True)
    if raw is None:
        head = json.dumps(header).encode()
        raw = struct.pack("<Q", len(head)) + head + b"\0" * body
    (folder / "model.safetensors").write_bytes(raw)
    _inspect(folder)


@FAST
@given(raw=st.binary(max_size=300))
def test_random_pickles(raw):
    folder = _model_folder()
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "model.safetensors").unlink(missing_ok=True)
    (folder / "pytorch_model.bin").write_bytes(raw)
    _inspect(folder)
