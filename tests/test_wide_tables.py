"""Wide tables as people write them: language columns in capitals, country codes used as
language codes, English language names as headers, and a text column that is not named by
a language (said, not silently dropped)."""

from __future__ import annotations

import pytest

from e5desk.core.data import load_sentence_set
from e5desk.core.data.delimited import guess_columns

ROWS = [("save", "Save", "Speichern", "保存"), ("cancel", "Cancel", "Abbrechen", "キャンセル"),
        ("help", "Help", "Hilfe", "ヘルプ")]


def _table(tmp_path, header: str):
    path = tmp_path / "t.csv"
    path.write_text(header + "\n" + "".join(",".join(r) + "\n" for r in ROWS), "utf-8")
    return load_sentence_set(path)


@pytest.mark.parametrize("header,langs", [
    ("key,EN,DE,JA", ["de", "en", "ja"]),
    ("key,en,de,jp", ["de", "en", "ja"]),
    ("key,English,German,Japanese", ["de", "en", "ja"]),
    ("key,en-US,de_DE,ja", ["de-DE", "en-US", "ja"]),
])
def test_language_columns_as_written(tmp_path, header, langs):
    result = _table(tmp_path, header)
    s = result.sentence_set
    assert len(s) == 9  # nothing dropped
    assert sorted({str(x) for x in s.lang}) == langs
    assert {str(g) for g in s.group} == {"save", "cancel", "help"}


def test_a_country_code_column_is_said(tmp_path):
    guess = guess_columns(["key", "en", "jp"])
    assert guess.code(["key", "en", "jp"], 2) == "ja"
    assert "'jp' read as ja" in guess.describe(["key", "en", "jp"])


def test_a_text_column_without_a_language_is_said_not_dropped_silently(tmp_path):
    result = _table(tmp_path, "key,source,de,ja")
    assert len(result.sentence_set) == 6
    assert any("'source' left out" in note for note in result.problems())


def test_names_that_are_no_languages_stay_out():
    header = ["SKU", "QTY", "Notes", "Status", "text"]
    guess = guess_columns(header, [["A-1", "3", "fragile", "open", "Hello"]])
    assert not guess.wide and guess.language_columns == [] and guess.text == 4


def test_a_category_column_is_left_out_without_a_warning(tmp_path):
    """A topic/status column repeats a few values: no text is lost, so nothing to say (the
    bundled sample's 'topic' column warned on every start)."""
    path = tmp_path / "t.csv"
    rows = [(f"k{i}", ("ui", "errors")[i % 2], f"Text {i}", f"Texte {i}") for i in range(8)]
    path.write_text("key,topic,en,fr\n" + "".join(",".join(r) + "\n" for r in rows), "utf-8")
    result = load_sentence_set(path)
    assert len(result.sentence_set) == 16
    assert not any("left out" in note for note in result.problems())
