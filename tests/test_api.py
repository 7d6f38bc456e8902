"""The Python API (e5desk.load_model, read_sets, score, rank, map, mine, evaluate)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    """The first python block of README's "From Python" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README's 'From Python' section has no python block"
    return match.group(1)


def test_import_is_cheap():
    code = ("import sys, e5desk; heavy = [m for m in ('numpy', 'torch', 'transformers', "
            "'e5desk.api') if m in sys.modules]; print(heavy); assert not heavy; "
            "assert callable(e5desk.load_model) and 'e5desk.api' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_public_names_documented():
    import e5desk

    for name in ("load_model", "read_sets", "score", "rank", "map", "mine", "evaluate"):
        fn = getattr(e5desk, name)
        assert fn.__doc__ and fn.__annotations__, name
    assert set(e5desk.__all__) <= set(dir(e5desk))
    with pytest.raises(AttributeError):
        e5desk.no_such_name  # noqa: B018


def test_encode_is_the_encoders(tiny_model):
    import e5desk
    model = e5desk.load_model(tiny_model, cache=False)
    texts = ["Where is the station?", "Où est la gare ?"]
    same = model.encoder.encode(texts, role="passage")
    np.testing.assert_allclose(model.encode(texts, role="passage"), same, atol=1e-6)
    one = model.encode(texts[0])
    assert one.shape == (model.dim,) and one.dtype == np.float32
    assert model.format(texts[:1], "passage") == ["passage: Where is the station?"]
    card = model.describe()
    assert card["dimensions"] == str(model.dim) and "runs on" in card
    scores = e5desk.score(model, texts, ["a", "b", "c"])
    assert scores.shape == (2, 3) and np.all(scores <= 100.01)
    assert scores.dtype == np.float32
    ranking = e5desk.rank(model, texts[0], ["a", "b", "c"], top=2)
    assert ranking.indices.shape == (1, 2)
    # the matrix and the ranking are the one score workflow: the same numbers
    np.testing.assert_allclose(scores[0, ranking.indices[0]], ranking.scores[0], atol=1e-3)
    assert list(ranking.indices[0]) == list(np.argsort(-scores[0], kind="stable")[:2])
    from e5desk.core.errors import E5DeskError

    with pytest.raises(E5DeskError, match="unknown role"):
        model.encode(texts, role="document")
    with pytest.raises(E5DeskError, match="unknown prefix rule"):
        e5desk.score(model, texts, texts, rule="other")


def test_read_sets_and_evaluate(tiny_model, tmp_path):
    import e5desk

    model = e5desk.load_model(tiny_model, cache=False)
    data = e5desk.read_sets(ROOT / "resources/samples/retrieval/train.jsonl")
    result = e5desk.evaluate(model, data)
    assert list(result) == ["retrieval"] and 0 <= result["retrieval"]["MRR@10"] <= 1
    phrases = e5desk.read_sets(ROOT / "resources/samples/phrases.csv")
    mapped = e5desk.map(model, phrases, method="pca")
    assert mapped.coords.shape == (len(phrases), 2) and len(mapped.labels) == len(phrases)
    assert any("cross-lingual P@1" in s for s in mapped.summary)  # groups were used
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\nnot json\n', encoding="utf-8")
    with pytest.warns(UserWarning, match="bad.jsonl"):
        s = e5desk.read_sets([bad])
    assert list(s.text) == ["ok"]
    from e5desk.core.errors import DataError

    with pytest.raises(DataError, match="file not found"):
        e5desk.read_sets(tmp_path / "missing.txt")


@pytest.mark.slow
def test_readme_example_runs(embedded_folder, monkeypatch):
    """The README's notebook example, exactly as written, with the real model."""
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(readme_example(), "README.md", "exec"), {})
    printed = out.getvalue()
    assert "<e5desk.Model multilingual-e5-small (embedded)" in printed
    assert "'query: ' / 'passage: ' prefixes" in printed
    assert re.search(r"^1 9\d\.\d Where is the train station\?$", printed, re.M)
    assert re.search(r"^6\d pairs; best: ", printed, re.M)  # 64 English-German phrases
