"""Sentence-set readers on small fixtures, good and malformed, through load_sentence_set."""

from __future__ import annotations

import json

import pytest

from e5desk.cli import main
from e5desk.core.data import concat_sets, load_sentence_set
from e5desk.core.errors import DataError


def write(tmp_path, name, content, encoding="utf-8"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding=encoding, newline="")
    return path


def test_plain_text_with_and_without_language(tmp_path):
    r = load_sentence_set(write(tmp_path, "a.txt", "Hello there, my friend.\r\n\r\n"
                                "Wo ist der Bahnhof bitte?\rOù est la gare, s'il vous plaît ?\n"))
    s = r.sentence_set
    assert list(s.text) == ["Hello there, my friend.", "Wo ist der Bahnhof bitte?",
                            "Où est la gare, s'il vous plaît ?"]
    assert list(s.line) == [1, 3, 4]
    assert list(s.lang) == ["en", "de", "fr"]  # detected
    assert any("detected" in n for n in r.notes)
    tagged = load_sentence_set(write(tmp_path, "b.txt", "en\tHello\nzh_CN\t你好\n")).sentence_set
    assert list(tagged.lang) == ["en", "zh-CN"] and list(tagged.text) == ["Hello", "你好"]


def test_encodings(tmp_path):
    text = "Größe\nnaïve café\n"
    for enc, prefix in (("utf-8-sig", b""), ("utf-16", b"")):
        r = load_sentence_set(write(tmp_path, f"{enc}.txt", prefix + text.encode(enc)))
        assert list(r.sentence_set.text) == ["Größe", "naïve café"]
    latin = load_sentence_set(write(tmp_path, "latin.txt",
                                    ("Größe und Übermaß, schöne Grüße aus Köln\n" * 20)
                                    .encode("cp1252")))
    assert latin.sentence_set.text[0].startswith("Größe")
    assert any("a guess" in n for n in latin.notes)


@pytest.mark.parametrize("name,content,message", [
    ("empty.txt", "", "is empty"),
    ("blank.csv", "  \n\n", "is empty"),
    ("binary.txt", b"\x00\x01\x02\x03" * 100, "binary"),
    ("bomb.tmx", '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
     '<!ENTITY lol2 "&lol;&lol;">]><tmx><body><tu><tuv xml:lang="en"><seg>&lol2;</seg>'
     '</tuv></tu></body></tmx>', "XML bombs"),
    ("open.tmx", '<tmx version="1.4"><body><tu><tuv xml:lang="en"><seg>Hi</seg>', "line 1"),
    ("none.jsonl", "not json\n{also not\n", "no JSON object"),
    ("cols.csv", "a,b\n1,2\n", "which column holds the text"),
    ("missing.txt", None, "file not found"),
])
def test_unreadable_files_say_why(tmp_path, name, content, message):
    path = tmp_path / name if content is None else write(tmp_path, name, content)
    with pytest.raises(DataError, match=message) as err:
        load_sentence_set(path)
    assert name in str(err.value)


def test_partly_bad_files_keep_good_rows(tmp_path):
    csv_text = "text,lang\nHello,en\n\"broken,row\nHallo,de,extra\nBonjour,fr\n"
    r = load_sentence_set(write(tmp_path, "ragged.csv", csv_text))
    assert "Bonjour" in list(r.sentence_set.text)
    jsonl = '{"text": "one", "lang": "en"}\nnot json\n{"text": "two", "lang": "en"}\n[1]\n'
    r = load_sentence_set(write(tmp_path, "mixed.jsonl", jsonl))
    assert list(r.sentence_set.text) == ["one", "two"] and r.skipped == 2
    assert r.reasons[0].startswith("line 2: not valid JSON")
    long_line = "x" * 100_001
    r = load_sentence_set(write(tmp_path, "long.txt", f"short one here\n{long_line}\nok\x00no\n"))
    assert list(r.sentence_set.text) == ["short one here"] and r.skipped == 2


def test_wide_csv_is_one_group_per_row(tmp_path):
    r = load_sentence_set(write(tmp_path, "wide.csv",
                                "id,en,de,zh-Hans\n1,Hello,Hallo,你好\n2,Thanks,Danke,\n"))
    s = r.sentence_set
    assert list(s.lang) == ["en", "de", "zh-Hans", "en", "de"]
    assert list(s.group) == ["1", "1", "1", "2", "2"]
    tsv = load_sentence_set(write(tmp_path, "long.tsv", "sentence\tlanguage\tgroup\n"
                                  "Hello\ten\tg1\nHallo\tde\tg1\n")).sentence_set
    assert list(tsv.group) == ["g1", "g1"] and list(tsv.lang) == ["en", "de"]


def test_retrieval_jsonl_formats(tmp_path):
    write(tmp_path, "passages.jsonl", '{"contents": "Barley is sown in autumn."}\n'
                                      '{"contents": "Wheat ripens later than barley."}\n')
    train = write(tmp_path, "train.jsonl", json.dumps(
        {"query": "when is barley sown", "positives": {"doc_id": ["0"]},
         "negatives": {"doc_id": ["1", "7"]}}) + "\n")
    loaded = load_sentence_set(train)
    assert any("1 negative doc_id(s)" in n for n in loaded.notes)
    s = loaded.sentence_set
    assert list(s.role) == ["passage", "passage", "query"]
    assert s.relevance == {2: [0]}
    passages = load_sentence_set(tmp_path / "passages.jsonl").sentence_set
    assert list(passages.role) == ["passage", "passage"]


def test_bundled_retrieval_sample_keeps_its_languages():
    s = load_sentence_set("resources/samples/retrieval/train.jsonl").sentence_set
    assert sum(r == "passage" for r in s.role) == 100 and len(s.relevance) >= 20
    assert all(s.lang)  # every row states its language: none is guessed
    langs = set(s.lang)
    assert {"en", "es", "fr", "de", "ru", "zh-Hans", "ja", "ar", "hi"} <= langs
    first = min(s.relevance)
    assert s.lang[first] == "es" and s.relevance[first] == [0]


def test_tmx_xliff_po(tmp_path):
    tmx = ('<?xml version="1.0" encoding="UTF-8"?><tmx version="1.4"><header srclang="en"/>'
           '<body><tu tuid="7"><tuv xml:lang="en"><seg>Good <b>morning</b></seg></tuv>'
           '<tuv xml:lang="ja"><seg>おはよう</seg></tuv></tu></body></tmx>')
    s = load_sentence_set(write(tmp_path, "m.tmx", tmx)).sentence_set
    assert list(s.text) == ["Good morning", "おはよう"] and set(s.group) == {"Good morning"}
    x12 = ('<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">'
           '<file source-language="en" target-language="fr"><body><trans-unit id="a">'
           '<source>Save file</source><target>Enregistrer le fichier</target></trans-unit>'
           '</body></file></xliff>')
    s = load_sentence_set(write(tmp_path, "a.xlf", x12)).sentence_set
    assert list(s.lang) == ["en", "fr"] and s.group[0] == s.group[1]
    x20 = ('<xliff version="2.0" xmlns="urn:oasis:names:tc:xliff:document:2.0" srcLang="en" '
           'trgLang="de"><file id="f"><unit id="u"><segment><source>Open</source>'
           '<target>Öffnen</target></segment></unit></file></xliff>')
    s = load_sentence_set(write(tmp_path, "b.xliff", x20)).sentence_set
    assert list(s.lang) == ["en", "de"]
    po = ('msgid ""\nmsgstr ""\n"Language: de\\n"\n\n#, fuzzy\nmsgid "Open file"\n'
          'msgstr "Datei öffnen"\n\nmsgctxt "menu"\nmsgid "Quit"\nmsgstr "Beenden"\n')
    r = load_sentence_set(write(tmp_path, "de.po", po))
    assert list(r.sentence_set.text) == ["Open file", "Datei öffnen", "Quit", "Beenden"]
    assert list(r.sentence_set.lang) == ["en", "de", "en", "de"]
    assert any("fuzzy" in n for n in r.notes)


def test_parallel_files_and_tatoeba(tmp_path):
    write(tmp_path, "corpus.en", "Good morning\nThank you very much\n")
    write(tmp_path, "corpus.es", "Buenos días\nMuchas gracias\n")
    s = load_sentence_set(tmp_path / "corpus.en").sentence_set
    assert sorted(zip(s.group, s.lang, strict=True))[:2] == [("corpus#line-1", "en"),
                                                             ("corpus#line-1", "es")]
    assert len(load_sentence_set(tmp_path).sentence_set) == 4  # the folder
    tato = tmp_path / "tatoeba"
    tato.mkdir()
    write(tato, "sentences.csv", "1\teng\tI love you.\n2\tfra\tJe t'aime.\n3\tdeu\tAllein.\n")
    write(tato, "links.csv", "1\t2\n2\t1\n")
    s = load_sentence_set(tato / "sentences.csv").sentence_set
    assert list(s.lang) == ["en", "fr", "de"]
    assert s.group[0] == s.group[1] and s.group[2] is None


def test_concat_keeps_set_names_and_groups_apart(tmp_path):
    a = load_sentence_set(write(tmp_path, "a.csv", "id,en,de\n1,Hello,Hallo\n")).sentence_set
    b = load_sentence_set(write(tmp_path, "b.csv", "id,en,de\n1,Bye,Tschüss\n")).sentence_set
    c = concat_sets([a, b])
    assert list(c.set_name) == ["a.csv", "a.csv", "b.csv", "b.csv"]
    assert c.group[0] != c.group[2]


def test_inspect_cli(tmp_path, capsys):
    good = write(tmp_path, "g.csv", "id,en,ru\n1,Hello,Привет\n2,Yes,Да\n")
    bad = write(tmp_path, "bad.txt", "")
    assert main(["inspect", str(good), str(bad), "--json"]) == 0
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert data[0]["rows"] == 4 and data[0]["groups"] == 2
    assert data[0]["languages"]["ru"]["name"] == "Russian"
    assert "bad.txt: the file is empty" in out.err
    assert main(["inspect", str(bad)]) == 2


def test_stray_byte_in_utf8_replaces_one_character_not_the_file(tmp_path):
    lines = [f"Zeile {i}: Grüße aus München" for i in range(50)]
    raw = "\n".join(lines).encode("utf-8").replace(b"Zeile 7:", b"Zeile 7\xff")
    result = load_sentence_set(write(tmp_path, "stray.txt", raw))
    texts = list(result.sentence_set.text)
    assert result.encoding == "utf-8" and texts[0] == lines[0] and "\ufffd" in texts[7]
    assert any("line 8" in n for n in result.notes)


def test_tmx_broken_part_way_keeps_the_units_before(tmp_path):
    tmx = ('<?xml version="1.0"?><tmx version="1.4"><body>\n'
           '<tu tuid="a"><tuv xml:lang="en"><seg>One</seg></tuv>'
           '<tuv xml:lang="de"><seg>Eins</seg></tuv></tu>\n'
           '<tu tuid="b"><tuv xml:lang="en"><seg>Two</seg></tuv>\n')
    result = load_sentence_set(write(tmp_path, "cut.tmx", tmx))
    assert list(result.sentence_set.text) == ["One", "Eins"]
    assert result.skipped == 1 and "broken XML" in result.reasons[0]
    assert result.reasons[0].startswith("line 4")
