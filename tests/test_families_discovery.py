"""Prompt formatting per family and role; finding and refusing model folders."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from e5desk.core.errors import E5DeskError, ModelError
from e5desk.core.models.discovery import inspect_folder, resolve_model
from e5desk.core.models.families import FAMILIES, TASK_PRESETS, family_from_name, get_family

PREFIXED = [k for k, f in FAMILIES.items() if not f.instruct]


@pytest.mark.parametrize("key", PREFIXED)
def test_prefix_families(key):
    fam = FAMILIES[key]
    assert fam.format(["a b"], "query") == ["query: a b"]
    assert fam.format(["a b"], "passage") == ["passage: a b"]
    assert fam.format(["a b"], "raw") == ["a b"]


def test_instruct_family_formats_queries_only():
    fam = FAMILIES["multilingual-e5-large-instruct"]
    task = TASK_PRESETS["web_search"]
    assert fam.format(["how much protein"], "query") == [
        f"Instruct: {task}\nQuery: how much protein"
    ]
    assert fam.format(["南瓜的家常做法"], "query", "bitext") == [
        "Instruct: Retrieve parallel sentences.\nQuery: 南瓜的家常做法"
    ]
    assert fam.format(["doc"], "query", "Find the recipe") == [
        "Instruct: Find the recipe\nQuery: doc"
    ]
    assert fam.format(["doc"], "passage", "bitext") == ["doc"]


def test_unknown_role_and_family():
    with pytest.raises(E5DeskError, match="unknown role"):
        FAMILIES["e5-large-v2"].format(["x"], "document")
    with pytest.raises(E5DeskError, match="unknown model family"):
        get_family("gte-small")


@pytest.mark.parametrize("name,key", [
    ("intfloat/multilingual-e5-large-instruct", "multilingual-e5-large-instruct"),
    ("models--intfloat--multilingual-e5-large", "multilingual-e5-large"),
    ("/data/multilingual_e5_base", "multilingual-e5-base"),
    ("intfloat/e5-large-v2", "e5-large-v2"),
    ("e5-base", "e5-base"),
    ("my-own-model", None),
])
def test_family_from_name(name, key):
    fam = family_from_name(name)
    assert (fam.key if fam else None) == key


def test_family_from_shape_for_renamed_folder(tiny_model, tmp_path):
    renamed = tmp_path / "renamed"
    shutil.copytree(tiny_model, renamed)
    config = json.loads((renamed / "config.json").read_text())
    config.update(hidden_size=384, _name_or_path="")
    (renamed / "config.json").write_text(json.dumps(config))
    from safetensors.numpy import save_file  # weights of that width (issue 14 checks it)

    save_file({"embeddings.word_embeddings.weight": np.zeros((2, 384), np.float32)},
              str(renamed / "model.safetensors"))
    assert inspect_folder(renamed).family.key == "multilingual-e5-small"


def test_family_override(tiny_model):
    src = inspect_folder(tiny_model, family="multilingual-e5-large-instruct")
    assert src.family.instruct


def _copy(tiny_model, tmp_path, drop=()):
    dest = tmp_path / "model"
    shutil.copytree(tiny_model, dest)
    for name in drop:
        (dest / name).unlink()
    return dest


def test_unusable_folders_say_why(tiny_model, tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        inspect_folder(tmp_path / "missing")
    with pytest.raises(ModelError, match="no config.json"):
        inspect_folder(tmp_path)
    no_tok = _copy(tiny_model, tmp_path, drop=["tokenizer.json"])
    with pytest.raises(ModelError, match="no tokenizer"):
        inspect_folder(no_tok)
    shutil.rmtree(no_tok)
    no_weights = _copy(tiny_model, tmp_path, drop=["model.safetensors"])
    with pytest.raises(ModelError, match="no weights"):
        inspect_folder(no_weights)
    config = json.loads((no_weights / "config.json").read_text())
    config["model_type"] = "llama"
    (no_weights / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="not a text encoder"):
        inspect_folder(no_weights)


def test_pickle_only_weights_load_with_weights_only(tiny_model, tmp_path, monkeypatch):
    import numpy as np
    import torch
    from safetensors.torch import load_file

    from e5desk.core.encoder import Encoder

    dest = _copy(tiny_model, tmp_path, drop=["model.safetensors"])
    torch.save(load_file(tiny_model / "model.safetensors"), dest / "pytorch_model.bin")
    source = inspect_folder(dest)
    assert "weights_only=True" in source.weights
    seen = []
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    vec = Encoder(source, device="cpu").encode(["pickle"])
    assert seen and all(w is True for w in seen)
    ref = Encoder(inspect_folder(tiny_model), device="cpu").encode(["pickle"])
    assert np.abs(vec - ref).max() < 1e-6


def test_hf_cache_lookup_offline(tiny_model, tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    snap = cache / "models--intfloat--multilingual-e5-small" / "snapshots" / "0123abcd"
    shutil.copytree(tiny_model, snap)
    (cache / "models--intfloat--multilingual-e5-small" / "refs").mkdir()
    (cache / "models--intfloat--multilingual-e5-small" / "refs" / "main").write_text("0123abcd")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    for spec in ("intfloat/multilingual-e5-small", "multilingual-e5-small"):
        src = resolve_model(spec)
        assert src.origin == "hf-cache" and src.path == snap
        assert src.family.key == "multilingual-e5-small"
    with pytest.raises(ModelError, match="never downloads"):
        resolve_model("intfloat/e5-large-v2")


def test_embedded_model_card(embedded_folder):
    src = resolve_model(None)
    card = src.card()
    assert src.origin == "embedded" and src.path == embedded_folder
    assert card["family"] == "multilingual-e5-small" and card["dimensions"] == "384"
    assert "dequantised" in card["note"] and "MIT" in card["licence"]
    assert card["max tokens"] == "512"
