"""Fast by default: the model loads only on a cache miss; precision 'auto' and its gate."""

from __future__ import annotations

import numpy as np
import pytest

import e5desk.core.encoder as encoder_module
from e5desk.cli import main
from e5desk.core.encoder import Encoder
from e5desk.core.models.discovery import inspect_folder
from e5desk.core.store.cache import EmbeddingCache


def _refuse(*args, **kwargs):
    raise AssertionError("the model (or its tokenizer) was loaded for cached work")


def test_cached_embed_never_loads_the_model(tiny_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("E5DESK_CACHE_DIR", str(tmp_path / "cache"))
    lines = tmp_path / "in.txt"
    lines.write_text("\n".join([f"line {i}" for i in range(40)] + ["Bahnhof " * 700]) + "\n",
                     encoding="utf-8")
    first, second = tmp_path / "a.npy", tmp_path / "b.npy"
    args = ["embed", str(lines), "--model", str(tiny_model)]
    assert main([*args, "--out", str(first)]) == 0
    capsys.readouterr()
    monkeypatch.setattr(Encoder, "_load_model", _refuse)
    monkeypatch.setattr(Encoder, "_load_tokenizer", _refuse)
    assert main([*args, "--out", str(second)]) == 0
    assert np.array_equal(np.load(first), np.load(second))  # identical, bit for bit
    err = capsys.readouterr().err
    assert "line 41 has" in err and "first 512" in err  # truncation still reported
    # A miss starts the model: the refusal shows it would load now.
    lines.write_text("a line never seen\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="was loaded for cached work"):
        main([*args, "--out", str(second)])


def test_partial_hits_encode_only_the_misses(tiny_model, tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    enc = Encoder(inspect_folder(tiny_model), device="cpu", precision="exact", cache=cache)
    assert not enc.model_loaded
    enc.encode(["one", "two"])
    seen = []
    both = enc.encode(["two", "three", "one"], progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (1, 1)  # only "three" went through the model
    fresh = Encoder(inspect_folder(tiny_model), device="cpu", precision="exact")
    assert np.abs(both - fresh.encode(["two", "three", "one"])).max() < 1e-5


@pytest.mark.parametrize("bf16", [True, False])
def test_auto_precision_follows_the_cpu(tiny_model, monkeypatch, bf16):
    monkeypatch.setattr(encoder_module, "cpu_flags",
                        lambda: {"avx2", "avx512f"} | ({"avx512_bf16"} if bf16 else set()))
    auto = Encoder(inspect_folder(tiny_model), device="cpu")
    assert auto.precision == "auto"
    assert auto.dtype == ("bfloat16" if bf16 else "float32")
    assert ("bfloat16" if bf16 else "float32") in auto.describe()
    exact = Encoder(inspect_folder(tiny_model), device="cpu", precision="exact")
    assert (auto.model_id != exact.model_id) == bf16  # the key follows the dtype used
    assert not auto.model_loaded  # choosing a precision needs no model


def test_auto_precision_on_a_gpu_is_float16(tiny_model, monkeypatch):
    monkeypatch.setattr(encoder_module, "pick_device", lambda device: "cuda:0")
    enc = Encoder(inspect_folder(tiny_model), device="cuda")
    assert enc.dtype == "float16" and "float16" in enc.model_id


def test_auto_keeps_float32_where_the_gate_fails(tiny_model, monkeypatch):
    monkeypatch.setattr(encoder_module, "cpu_has_native_bf16", lambda: True)
    bad = encoder_module.GateMeasurement(min_cosine=0.998, mrr_exact=0.85, mrr=0.85, where="x")
    monkeypatch.setitem(encoder_module.GATE_MEASURED, ("cpu", "bfloat16"), bad)
    assert Encoder(inspect_folder(tiny_model), device="cpu").dtype == "float32"
    # 'fast' asks for the reduced format without the gate.
    assert Encoder(inspect_folder(tiny_model), device="cpu",
                   precision="fast").dtype == "bfloat16"


def test_quality_gate():
    gate = encoder_module
    assert gate.GATE_MIN_COSINE == 0.999 and gate.GATE_MAX_MRR_DROP == 0.005
    for (kind, dtype), m in gate.GATE_MEASURED.items():
        assert gate.gate_passes(kind, dtype), m
        assert m.where
    assert not gate.gate_passes("cpu", "int4")  # never measured: never chosen
    monkey = gate.GateMeasurement(min_cosine=0.9999, mrr_exact=0.80, mrr=0.79, where="x")
    gate.GATE_MEASURED[("cpu", "test")] = monkey
    try:
        assert not gate.gate_passes("cpu", "test")  # MRR@10 dropped by 0.01 > 0.005
    finally:
        del gate.GATE_MEASURED[("cpu", "test")]


def test_cpu_flags_parse(monkeypatch, tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\n", encoding="utf-8")
    real_path = encoder_module.Path
    monkeypatch.setattr(encoder_module, "Path",
                        lambda p: info if p == "/proc/cpuinfo" else real_path(p))
    assert encoder_module.cpu_flags() == {"fpu", "avx2", "avx512_bf16"}
    assert encoder_module.cpu_has_native_bf16()


CACHED_RUN = """
import json, sys
from e5desk.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "torch": "torch" in sys.modules,
                  "transformers": "transformers" in sys.modules}))
"""


@pytest.mark.skipif(encoder_module._gpu_possible(), reason="a GPU machine asks torch")
def test_cached_embed_never_imports_torch(tiny_model, tmp_path):
    """On a machine without a GPU, work whose vectors are all cached imports neither
    torch nor transformers (a fresh interpreter: ~2.5 s of start-up saved)."""
    import json
    import os
    import subprocess
    import sys

    lines = tmp_path / "in.txt"
    lines.write_text("Wo ist der Bahnhof?\n駅はどこですか？\n", encoding="utf-8")
    env = {**os.environ, "E5DESK_CACHE_DIR": str(tmp_path / "cache")}
    runs = []
    for out in ("a.npy", "b.npy"):
        proc = subprocess.run([sys.executable, "-c", CACHED_RUN, "embed", str(lines),
                               "--model", str(tiny_model), "--out", str(tmp_path / out)],
                              capture_output=True, text=True, timeout=300, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert runs[0] == {"code": 0, "torch": True, "transformers": True}  # the first embeds
    assert runs[1] == {"code": 0, "torch": False, "transformers": False}
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
