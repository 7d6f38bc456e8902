"""`e5desk train`: a few steps on a tiny model in both data formats; the folder loads in
e5desk, sentence-transformers and transformers alike; the split never leaks; bad data and
cancel leave nothing behind."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from e5desk.cli import main

ROOT = Path(__file__).resolve().parents[1]
PHRASES = ROOT / "resources" / "samples" / "phrases.csv"
RETRIEVAL = ROOT / "resources" / "samples" / "retrieval"


def _small_parallel(path: Path, langs=("en", "de", "es"), rows: int = 40) -> Path:
    with PHRASES.open(encoding="utf-8") as f:
        records = list(csv.DictReader(f))[:rows]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["group", *langs])
        for r in records:
            w.writerow([r["group"], *(r[lang] for lang in langs)])
    return path


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        folder = tmp_path_factory.mktemp("config")
        mp.setenv("E5DESK_CONFIG_DIR", str(folder))
        yield folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_model, config_dir):
    """One run of the CLI on a small parallel set (40 groups, en/de/es)."""
    import io
    from contextlib import redirect_stdout

    work = tmp_path_factory.mktemp("train")
    data = _small_parallel(work / "phrases.csv")
    out = work / "tuned"
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(["train", str(data), "--out", str(out), "--model", str(tiny_model),
                   "--batch-size", "16", "--held-out", "0.25", "--learning-rate", "1e-3",
                   "--precision", "exact"])
    return rc, out, buf.getvalue(), data


def test_train_parallel_end_to_end(trained):
    rc, out, printed, _ = trained
    assert rc == 0, printed
    assert "| MRR@10 |" in printed and "| P@1 |" in printed and "model written to" in printed
    assert (out / "model.safetensors").is_file() and not list(out.glob("*.bin"))
    for name in ("modules.json", "config_sentence_transformers.json", "tokenizer.json",
                 "1_Pooling/config.json", "e5desk_model.json", "README.md"):
        assert (out / name).is_file(), name
    assert not list(out.parent.glob(".tuned.partial*"))  # the temp folder was renamed
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "base_model:" in card and "tiny-multilingual-e5-small" in card
    assert "| metric | base model | fine-tuned | change |" in card
    assert "| MRR@10 |" in card and "| nDCG@10 |" in card and "| Recall@1 |" in card
    assert "en, de, es" in card and "- batch size: 16" in card and "word embeddings: frozen" in card
    marker = json.loads((out / "e5desk_model.json").read_text())
    assert marker["family"] == "multilingual-e5-small"


def test_output_loads_alike_in_e5desk_sentence_transformers_and_transformers(trained):
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer

    from e5desk.core.encoder import Encoder

    _, out, _, _ = trained
    texts = ["Where is the train station?", "Wo ist der Bahnhof?"]
    enc = Encoder.load(str(out), cache=False, precision="exact")
    assert enc.family.key == "multilingual-e5-small"  # same prompts as the base
    ours = enc.encode(texts, role="query")
    st = SentenceTransformer(str(out), device="cpu", local_files_only=True)
    theirs = st.encode(texts, prompt_name="query", normalize_embeddings=True)
    tok = AutoTokenizer.from_pretrained(out, local_files_only=True)
    model = AutoModel.from_pretrained(out, local_files_only=True).eval()
    batch = tok(["query: " + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    hf = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    np.testing.assert_allclose(ours, hf, atol=1e-5)


def test_output_is_in_the_model_list(trained, config_dir):
    from e5desk.core.models.discovery import configured_folders

    _, out, _, _ = trained
    assert out.resolve() in [p.resolve() for p in configured_folders()]


def test_weights_changed_but_word_embeddings_frozen(trained, tiny_model):
    from safetensors.numpy import load_file

    _, out, _, _ = trained
    before = load_file(tiny_model / "model.safetensors")
    after = load_file(out / "model.safetensors")
    emb = next(k for k in before if k.endswith("word_embeddings.weight"))
    np.testing.assert_array_equal(before[emb], after[next(k for k in after if k.endswith(
        "word_embeddings.weight"))])
    changed = [k for k in before if "layer.0.attention.self.query.weight" in k]
    assert changed and any(not np.array_equal(before[k], after[k]) for k in changed)


def test_no_query_or_group_crosses_the_split(trained):
    from e5desk.core.training import load_train_data, split_units

    _, _, _, data_file = trained
    data, _ = load_train_data([data_file])
    s = data.sentence_set
    for seed in range(5):
        train, held = split_units(data.units(), 0.25, seed)
        assert held and train and not set(train) & set(held)
        assert sorted(train + held) == list(range(len(s)))
        assert not {s.group[i] for i in train} & {s.group[i] for i in held}
        texts = lambda rows: {str(s.text[i]).casefold() for i in rows}  # noqa: E731
        assert not texts(train) & texts(held)
    # groups sharing a text are one unit; retrieval: the same query text is one unit
    ret, _ = load_train_data([RETRIEVAL])
    units = ret.units()
    assert sum(len(u) for u in units) == len(ret.queries)
    for seed in range(5):
        train, held = split_units(units, 0.2, seed)
        assert not {ret.queries[i].text for i in train} & {ret.queries[i].text for i in held}


def test_shared_text_joins_groups_into_one_unit(tmp_path):
    from e5desk.core.training import load_train_data

    f = tmp_path / "p.csv"
    f.write_text("group,en,de\ng1,Cancel,Abbrechen\ng2,Cancel,Stornieren\ng3,Open,Öffnen\n",
                 encoding="utf-8")
    data, _ = load_train_data([f])
    units = sorted(sorted(str(data.sentence_set.group[i]) for i in u) for u in data.units())
    assert units == [["g1", "g1", "g2", "g2"], ["g3", "g3"]]


def test_train_reference_format_with_hard_negatives(tmp_path, tiny_model, config_dir, capsys):
    out = tmp_path / "tuned-retrieval"
    rc = main(["train", str(RETRIEVAL), "--out", str(out), "--model", str(tiny_model),
               "--batch-size", "8", "--hard-negatives", "2", "--held-out", "0.2",
               "--no-register", "--precision", "exact"])
    printed = capsys.readouterr().out
    assert rc == 0
    assert "| MRR@10 |" in printed
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "train_n_passages: 3" in card and "queries (train / held out): 42 / 10" in card


@pytest.mark.parametrize("case, expected", [
    ("one_language", "one language only"),
    ("unknown_doc", "line 2: unknown positive doc_id '99'"),
    ("empty_query", "line 1: empty or missing 'query'"),
    ("few_negatives", "fewer negatives than --hard-negatives 3"),
    ("no_passages", "needs passages.jsonl"),
])
def test_bad_data_is_a_clear_error(tmp_path, capsys, case, expected):
    folder = tmp_path / "data"
    folder.mkdir()
    passages = "".join(json.dumps({"contents": f"passage {i}"}) + "\n" for i in range(5))
    good = {"query": "q", "positives": {"doc_id": ["0"]}, "negatives": {"doc_id": [1, 2]}}
    extra = []
    if case == "one_language":
        data = folder / "one.tsv"
        data.write_text("en\tHello there\nen\tGood morning\n", encoding="utf-8")
    else:
        if case != "no_passages":
            (folder / "passages.jsonl").write_text(passages, encoding="utf-8")
        records = [good, {**good, "query": "q2"}]
        if case == "unknown_doc":
            records[1] = {**good, "positives": {"doc_id": ["99"]}}
        if case == "empty_query":
            records[0] = {**good, "query": "  "}
        if case == "few_negatives":
            extra = ["--hard-negatives", "3"]
        (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records),
                                            encoding="utf-8")
        data = folder
    out = tmp_path / "out"
    assert main(["train", str(data), "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not out.exists()


def test_existing_output_is_refused(tmp_path, capsys, trained):
    _, out, _, data = trained
    assert main(["train", str(data), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_cancel_leaves_no_folder(tmp_path, tiny_model, trained):
    from e5desk.core.errors import Cancelled
    from e5desk.core.training import TrainConfig, train

    _, _, _, data = trained
    out = tmp_path / "cancelled"
    steps = []
    with pytest.raises(Cancelled):
        train([data], out, str(tiny_model), config=TrainConfig(batch_size=8, held_out=0),
              progress=lambda d, t: steps.append(d), cancelled=lambda: len(steps) >= 1)
    assert steps == [1]
    assert not out.exists() and not list(tmp_path.glob(".cancelled*"))
