"""Word alignment (issue 25): `e5desk align` formats and errors, the core on the real
embedded model (obvious pairs, CJK, a floor on the hand-made gold sets), the Python API,
the service endpoint and the child-process relay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from e5desk.cli import main
from e5desk.core.align import WordAlignment, align_pairs, segment, unaligned_content_words

GOLD = Path(__file__).parent.parent / "benchmarks" / "data" / "align"


@pytest.fixture
def cli_model(monkeypatch, real_encoder):
    """`e5desk align` on the session's real encoder (no second model load)."""
    monkeypatch.setattr("e5desk.commands.align.load_encoder", lambda args: real_encoder)
    return real_encoder


def links(a: WordAlignment) -> set[tuple[str, str]]:
    return {(a.src_words[i], a.tgt_words[j]) for i, j, _ in a.links}


def test_cli_pharaoh_round_trip(tmp_path, cli_model, capsys):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("the cat sleeps ||| le chat dort\n"
                     "I drink coffee every morning . ||| 私 は 毎朝 コーヒー を 飲み ます 。\n"
                     "Where is the station ? ||| 车站 在 哪里 ？\n", encoding="utf-8")
    out = tmp_path / "out.txt"
    assert main(["align", str(pairs), "--out", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").split("\n")
    assert len(lines) == 4 and lines[-1] == ""  # one line per input line
    parsed = [{tuple(map(int, x.split("-"))) for x in line.split()} for line in lines[:3]]
    assert {(1, 1), (2, 2)} <= parsed[0]
    assert {(1, 5), (2, 3), (5, 7)} <= parsed[1]  # drink-飲み, coffee-コーヒー, . -> 。
    assert {(0, 2), (3, 0)} <= parsed[2]  # Where-哪里, station-车站
    for found, line in zip(parsed, pairs.read_text(encoding="utf-8").splitlines(),
                           strict=True):
        src, tgt = (side.split() for side in line.split("|||"))
        assert all(i < len(src) and j < len(tgt) for i, j in found)
    assert "3 pair(s)" in capsys.readouterr().err
    # the same through --src/--tgt files: identical output
    src, tgt = tmp_path / "a.txt", tmp_path / "b.txt"
    text = pairs.read_text(encoding="utf-8").splitlines()
    src.write_text("\n".join(x.split("|||")[0] for x in text) + "\n", encoding="utf-8")
    tgt.write_text("\n".join(x.split("|||")[1] for x in text) + "\n", encoding="utf-8")
    out2 = tmp_path / "out2.txt"
    assert main(["align", "--src", str(src), "--tgt", str(tgt), "--out", str(out2)]) == 0
    assert out2.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_cli_jsonl_keeps_words_as_given(tmp_path, cli_model):
    pairs = tmp_path / "pairs.txt"
    # pre-tokenised: "l'", "aujourd'hui", a word of punctuation, CJK words of several chars
    pairs.write_text("It 's raining today ... ||| il pleut aujourd'hui ...\n"
                     "New York is big ||| 纽约 很 大\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["align", str(pairs), "--out", str(out), "--format", "jsonl"]) == 0
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["src_words"] == ["It", "'s", "raining", "today", "..."]
    assert rows[0]["tgt_words"] == ["il", "pleut", "aujourd'hui", "..."]
    assert rows[1]["tgt_words"] == ["纽约", "很", "大"]
    for row in rows:
        assert set(row) == {"src_words", "tgt_words", "links", "unaligned_src",
                            "unaligned_tgt"}
        for i, j, score in row["links"]:
            assert 0 <= i < len(row["src_words"]) and 0 <= j < len(row["tgt_words"])
            assert 0.0 < score <= 1.0
        linked = {i for i, _, _ in row["links"]}
        assert sorted(set(range(len(row["src_words"]))) - linked) == row["unaligned_src"]
    assert [3, 2] in [x[:2] for x in rows[0]["links"]]  # today-aujourd'hui
    assert [3, 2] in [x[:2] for x in rows[1]["links"]]  # big-大


@pytest.mark.parametrize("content, message", [
    ("a b ||| c d\nno separator here\n", "line 2: no '|||'"),
    ("a b ||| c d\nx y ||| \n", "line 2: the target side is empty"),
    (" ||| c d\n", "line 1: the source side is empty"),
    ("a ||| b ||| c\n", "line 1: more than one '|||'"),
])
def test_cli_bad_lines_exit_2(tmp_path, capsys, content, message):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(content, encoding="utf-8")
    assert main(["align", str(pairs), "--out", str(tmp_path / "o.txt")]) == 2
    err = capsys.readouterr().err
    assert f"{pairs}, {message}" in err and "Traceback" not in err
    assert not (tmp_path / "o.txt").exists()  # checked before any model loads


def test_cli_mismatched_files_exit_2(tmp_path, capsys):
    src, tgt = tmp_path / "a.txt", tmp_path / "b.txt"
    src.write_text("one\ntwo\nthree\n", encoding="utf-8")
    tgt.write_text("un\ndeux\n", encoding="utf-8")
    assert main(["align", "--src", str(src), "--tgt", str(tgt), "--out",
                 str(tmp_path / "o.txt")]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "3 lines" in err and str(tgt) in err
    assert main(["align", "--src", str(src), "--out", str(tmp_path / "o.txt")]) == 2
    assert "--src and --tgt go together" in capsys.readouterr().err


def test_obvious_pairs_real_model(real_encoder):
    fr, ja, zh, de = align_pairs(real_encoder, [
        ("the cat sleeps".split(), "le chat dort".split()),
        ("the cat ate the fish".split(), "猫 が 魚 を 食べ た".split()),
        ("I like green tea".split(), "我 喜欢 绿茶".split()),
        ("My brother works in a hospital .".split(),
         "mein Bruder arbeitet in einem Krankenhaus .".split()),
    ])
    assert {("cat", "chat"), ("sleeps", "dort")} <= links(fr)
    assert {("cat", "猫"), ("fish", "魚"), ("ate", "食べ")} <= links(ja)
    assert {("I", "我"), ("like", "喜欢")} <= links(zh)
    assert {("brother", "Bruder"), ("works", "arbeitet"), ("hospital", "Krankenhaus")} \
        <= links(de)
    assert {"が", "を"} & {ja.tgt_words[j] for j in ja.unaligned_tgt}  # particles: no partner


def test_raw_text_segmentation():
    text = "私は毎朝コーヒーを飲みます。Hello, world! สวัสดี"
    words = [text[a:b] for a, b in segment(text)[0]]
    assert words[:9] == ["私", "は", "毎", "朝", "コーヒー", "を", "飲", "みます", "。"]
    assert words[9:13] == ["Hello", ",", "world", "!"]
    assert segment(text)[1][-1] is True  # Thai: split later by the model's pieces
    # a Latin word stops where kana or Han begins (it used to swallow "カードで払えます")
    text = "地下鉄はSuicaカードで払えます。e5-small料理"
    assert [text[a:b] for a, b in segment(text)[0]] == [
        "地", "下", "鉄", "は", "Suica", "カード", "で", "払", "えます", "。", "e5-small", "料",
        "理"]


def _aer(found: list[WordAlignment], gold: list[set]) -> float:
    pairs = list(zip(found, gold, strict=True))
    hit = sum(len({(i, j) for i, j, _ in a.links} & s) for a, s in pairs)
    return 1 - 2 * hit / sum(len(a.links) + len(s) for a, s in pairs)


def test_gold_floor_real_model(real_encoder):
    """The default beats plain mutual argmax of layer 6 on the hand-made gold (en-zh, en-de:
    the full tables are benchmarks/align_aer.py's)."""
    for name in ("en-zh", "en-de"):
        pairs = [tuple(side.split() for side in line.split("|||")) for line in
                 (GOLD / f"{name}.src-tgt").read_text(encoding="utf-8").splitlines()]
        gold = [{tuple(map(int, x.split("-"))) for x in line.split()} for line in
                (GOLD / f"{name}.gold").read_text(encoding="utf-8").splitlines()]

        default = _aer(align_pairs(real_encoder, pairs), gold)
        baseline = _aer(align_pairs(real_encoder, pairs, method="argmax", layer=6), gold)
        assert default < baseline and default < 0.1, (name, default, baseline)


def test_unaligned_content_words():
    a = WordAlignment(["the", "red", "car", "is", "fast", "."],
                      ["la", "voiture", "est", "très", "rapide", "."],
                      [(2, 1, 0.9), (4, 4, 0.8), (5, 5, 0.9)], [0, 1, 3], [0, 2, 3])
    assert a.pharaoh() == "2-1 4-4 5-5"
    assert unaligned_content_words(a) == (["red"], ["très"])


def test_api_and_service(real_encoder):
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    import e5desk
    from e5desk.api import Model
    from e5desk.server import ServeSettings, create_app

    model = Model(real_encoder)
    (a,) = e5desk.align(model, [("The cat sleeps.", "Le chat dort.")])
    assert a.src_words == ["The", "cat", "sleeps", "."]
    assert {("cat", "chat"), ("sleeps", "dort"), (".", ".")} <= links(a)
    with TestClient(create_app(ServeSettings(), model=model)) as client:
        r = client.post("/v1/align", json={"pairs": [["the cat sleeps", ["le", "chat",
                                                                          "dort"]]]})
        assert r.status_code == 200, r.text
        row = r.json()["data"][0]
        assert row["tgt_words"] == ["le", "chat", "dort"]
        assert {"1-1", "2-2"} <= set(row["pharaoh"].split())
        (same,) = e5desk.align(model, [("the cat sleeps", ["le", "chat", "dort"])])
        assert row == {**same.to_dict(), "pharaoh": same.pharaoh()}
        assert r.json()["layers"] == [3, 4, 5, 6] and r.json()["method"] == "softmax"
        r = client.post("/v1/align", json={"pairs": [["the cat", ""]]})
        assert r.status_code == 400 and "pair 1, target" in r.json()["error"]["message"]
        r = client.post("/v1/align", json={"pairs": [["a", "b"]], "method": "nope"})
        assert r.status_code == 400 and "unknown method" in r.json()["error"]["message"]
        # a layer the model lacks is the request's fault (400 naming it), not the model's
        r = client.post("/v1/align", json={"pairs": [["a", "b"]], "layer": -3})
        assert r.status_code == 400 and r.json()["error"]["param"] == "layer"
        assert "layers 0 to 12" in r.json()["error"]["message"]


def test_encoder_process_relays_token_states(tiny_model):
    import numpy as np

    from e5desk.core.encoder import Encoder
    from e5desk.core.encoder_process import EncoderProcess

    texts = ["the cat sleeps", "私 は 猫"]
    here = Encoder.load(str(tiny_model), device="cpu", precision="exact", cache=False)
    expected = here.token_states(texts, layers=(1, 2), role="query")
    child = EncoderProcess(str(tiny_model), device="cpu", precision="exact", cache=False)
    try:
        got = child.token_states(texts, layers=(1, 2), role="query")
    finally:
        child.close()
    for e, g in zip(expected, got, strict=True):
        assert g.pieces == e.pieces and g.states.shape == (2, len(e.pieces), 32)
        np.testing.assert_allclose(g.states, e.states, atol=1e-5)
        seen = [g.text[a:b].strip() for a, b in g.offsets]
        assert [x for x in seen if x][:2] in (["the", "cat"], ["私", "は"])


def test_the_default_layers_fit_a_model_of_any_depth(tiny_model):
    """The measured default (layers 3-6 of 12) scaled to the model: the 2-layer test model
    aligns with its layer 1 (the service answered 503 'layers must be between 0 and 2')."""
    from types import SimpleNamespace

    from e5desk.core.align import DEFAULT_LAYERS, align_pairs, default_layers
    from e5desk.core.encoder import Encoder

    assert default_layers(SimpleNamespace(source=SimpleNamespace(layers=12))) == DEFAULT_LAYERS
    assert default_layers(SimpleNamespace(source=SimpleNamespace(layers=24))) == tuple(
        range(6, 13))
    enc = Encoder.load(str(tiny_model), device="cpu", precision="exact", cache=False)
    assert default_layers(enc) == (1,)
    [found] = align_pairs(enc, [("the cat sleeps", "le chat dort")])
    assert found.src_words == ["the", "cat", "sleeps"] and len(found.tgt_words) == 3
