"""Encoder behaviour on tiny random models that use the real XLM-R tokenizer."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch

from e5desk.core.encoder import Encoder
from e5desk.core.errors import Cancelled, E5DeskError
from e5desk.core.models.discovery import inspect_folder

TEXTS = [
    "Where is the railway station?",
    "¿Dónde está la estación de tren?",
    "駅はどこですか？",
    "火车站在哪里？",
    "أين محطة القطار؟",
    "रेलवे स्टेशन कहाँ है?",
    "Wo ist der Bahnhof? " * 3,
    "x",
]


def reference_vectors(folder, inputs):
    """The model card's reference code: tokenizer -> model -> masked mean -> normalise."""
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    batch = tok(inputs, max_length=512, padding=True, truncation=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"][..., None].bool()
    mean = hidden.masked_fill(~mask, 0.0).sum(1) / batch["attention_mask"].sum(1)[..., None]
    return torch.nn.functional.normalize(mean, p=2, dim=1).numpy()


@pytest.fixture(scope="module")
def encoder(tiny_model):
    return Encoder(inspect_folder(tiny_model), device="cpu", precision="exact")


@pytest.mark.parametrize("role", ["query", "passage"])
def test_matches_model_card_reference(encoder, tiny_model, role):
    ours = encoder.encode(TEXTS, role=role)
    ref = reference_vectors(tiny_model, [f"{role}: {t}" for t in TEXTS])
    assert ours.dtype == np.float32 and ours.shape == (len(TEXTS), 32)
    assert np.abs(ours - ref).max() < 1e-5
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_matches_xlmr_architecture_reference(tiny_xlmr_model):
    enc = Encoder(inspect_folder(tiny_xlmr_model), device="cpu", precision="exact")
    assert enc.family.key == "multilingual-e5-base"
    ref = reference_vectors(tiny_xlmr_model, [f"query: {t}" for t in TEXTS])
    assert np.abs(enc.encode(TEXTS) - ref).max() < 1e-5


def test_matches_sentence_transformers_with_same_prompt(encoder, tiny_model):
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(tiny_model), device="cpu")
    for role in ("query", "passage"):
        theirs = st.encode(TEXTS, prompt_name=role, normalize_embeddings=True)
        assert np.abs(encoder.encode(TEXTS, role=role) - theirs).max() < 1e-5


def test_order_is_restored_after_length_sorting(encoder):
    together = encoder.encode(TEXTS, batch_size=3)
    one_by_one = np.stack([encoder.encode([t])[0] for t in TEXTS])
    assert np.abs(together - one_by_one).max() < 1e-5
    shuffled = [TEXTS[i] for i in (5, 0, 7, 2)]
    np.testing.assert_allclose(encoder.encode(shuffled), together[[5, 0, 7, 2]], atol=1e-5)


def test_duplicates_and_empty_text(encoder):
    vecs = encoder.encode(["same", "", "same"])
    assert np.array_equal(vecs[0], vecs[2])
    assert np.isfinite(vecs).all() and vecs.shape == (3, 32)
    assert encoder.encode([]).shape == (0, 32)
    with pytest.raises(E5DeskError, match="list of texts"):
        encoder.encode("a single string")


def test_raw_role_adds_no_prefix(encoder, tiny_model):
    ref = reference_vectors(tiny_model, TEXTS[:3])
    assert np.abs(encoder.encode(TEXTS[:3], role="raw") - ref).max() < 1e-5


def test_truncation_is_reported_per_text(encoder, tiny_model):
    long_text = "Bahnhof " * 700
    result = encoder.encode_detailed(["short", long_text, "also short"])
    assert [(t.index, t.kept) for t in result.truncated] == [(1, 512)]
    assert result.truncated[0].tokens > 700
    assert result.token_counts[0] < 10
    # Truncated vectors equal the reference code, which truncates at 512 tokens.
    ref = reference_vectors(tiny_model, ["query: " + long_text])
    assert np.abs(result.vectors[1] - ref[0]).max() < 1e-5


def test_token_counts_stay_whole_after_a_truncating_call(encoder, tiny_model):
    """Ids come from the tokenizers backend, past transformers' wrapper: they equal its ids,
    and a truncating call before (word alignment's token_states) leaves no truncation on."""
    from transformers import AutoTokenizer

    long_text = "Bahnhof " * 700
    encoder.token_states(["Wo ist der Bahnhof?", long_text], layers=(1,))
    result = encoder.encode_detailed([long_text, *TEXTS])
    tok = AutoTokenizer.from_pretrained(tiny_model)
    want = tok(encoder.format([long_text, *TEXTS], "query"))["input_ids"]
    assert result.token_counts.tolist() == [len(ids) for ids in want]
    assert result.truncated[0].tokens == len(want[0]) > 700
    assert encoder._token_ids(encoder.format(TEXTS, "query")) == want[1:]


def test_windows_average_long_texts(tiny_model):
    enc = Encoder(inspect_folder(tiny_model), device="cpu", long_text="windows",
                  precision="exact")
    long_text = " ".join(f"word{i}" for i in range(400))
    result = enc.encode_detailed([long_text])
    assert result.truncated == []
    # Recompute by hand: content tokens split into 510-token windows, token-weighted mean.
    tok = enc._tokenizer
    content = tok("query: " + long_text, add_special_tokens=False)["input_ids"]
    assert len(content) > 510
    model = enc._model
    total, weight = 0, 0
    for a in range(0, len(content), 510):
        chunk = content[a : a + 510]
        ids = torch.tensor([[0, *chunk, 2]])
        with torch.inference_mode():
            h = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
        total = total + len(chunk) * h[0].mean(0).numpy()
        weight += len(chunk)
    expected = total / weight
    expected /= np.linalg.norm(expected)
    assert np.abs(result.vectors[0] - expected).max() < 1e-5


def test_progress_and_cancel_within_one_batch(encoder):
    seen = []
    encoder.encode(TEXTS * 3, batch_size=4, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 8) and seen[-1] == (8, 8)  # 8 unique texts, progress in rows
    calls = {"n": 0}

    def cancelled():
        calls["n"] += 1
        return calls["n"] > 1  # allow exactly one batch

    done = []
    with pytest.raises(Cancelled):
        encoder.encode([f"text {i}" for i in range(40)], batch_size=4, cancelled=cancelled,
                       progress=lambda d, t: done.append(d))
    assert done[-1] == 4


@pytest.mark.parametrize("bf16", [True, False])
def test_fast_precision_stays_close(tiny_model, encoder, monkeypatch, bf16):

    import e5desk.core.encoder as encoder_module

    monkeypatch.setattr(encoder_module, "cpu_has_native_bf16", lambda: bf16)
    fast = Encoder(inspect_folder(tiny_model), device="cpu", precision="fast")
    # Without native bf16 there is no fast path that keeps vectors right: float32.
    assert fast.dtype == ("bfloat16" if bf16 else "float32")
    cos = (fast.encode(TEXTS) * encoder.encode(TEXTS)).sum(1)
    assert cos.min() > (0.99 if bf16 else 0.99999)
    assert fast.model_id != encoder.model_id if bf16 else fast.model_id == encoder.model_id


def test_int8_is_explicit_and_cpu_only(tiny_model, encoder, monkeypatch):
    import e5desk.core.encoder as encoder_module

    int8 = Encoder(inspect_folder(tiny_model), device="cpu", precision="int8")
    assert int8.dtype == "int8" and int8.model_id != encoder.model_id
    assert int8.encode(TEXTS).shape == encoder.encode(TEXTS).shape
    monkeypatch.setattr(encoder_module, "pick_device", lambda device: "cuda:0")
    with pytest.raises(E5DeskError, match="CPU only"):
        Encoder(inspect_folder(tiny_model), device="cuda", precision="int8")


def test_no_network_during_load_and_encode(tiny_model, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    enc = Encoder.load(str(tiny_model), device="cpu")
    assert enc.encode(["offline"]).shape == (1, 32)


def test_unknown_device_and_missing_cuda(tiny_model):
    with pytest.raises(E5DeskError, match="unknown device"):
        Encoder(inspect_folder(tiny_model), device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(E5DeskError, match="no CUDA"):
            Encoder(inspect_folder(tiny_model), device="cuda")
