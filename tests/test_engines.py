"""Engines (issue 29): the model exported once to ONNX and run by ONNX Runtime / OpenVINO,
parity with exact float32 torch, the graph cache, auto's measured crossover, --engine in the
CLI and the API, and the engine in the model id."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from e5desk.core.engines import crossover, graph, runtimes

TEXTS = ["Where is the railway station?", "東京駅はどこですか？", "ok",
         "Der Zug nach Berlin fährt um acht Uhr ab. " * 8]


def _has(runtime: str) -> bool:
    return runtimes.installed(runtime)


needs_ort = pytest.mark.skipif(not _has("onnxruntime"), reason="onnxruntime not installed")
needs_ov = pytest.mark.skipif(not _has("openvino"), reason="openvino not installed")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """Graphs, parity results and crossovers in a folder of this module's own."""
    path = tmp_path_factory.mktemp("engine-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("E5DESK_CACHE_DIR", str(path))
        yield path


def _encoder(folder, engine, precision="exact", **kw):
    from e5desk.core.encoder import Encoder
    from e5desk.core.models.discovery import inspect_folder

    return Encoder(inspect_folder(folder), device="cpu", precision=precision, engine=engine,
                   **kw)


@pytest.fixture(scope="module")
def exact_torch(tiny_model, cache_dir):
    return _encoder(tiny_model, "torch").encode_detailed(TEXTS)


@pytest.mark.parametrize("engine,precision,fmt,want", [
    pytest.param("onnxruntime", "exact", "f32", 0.9999, marks=needs_ort),
    pytest.param("openvino", "exact", "f32", 0.9999, marks=needs_ov),
    pytest.param("openvino", "fast", "bf16", 0.999, marks=needs_ov),
])
def test_parity_per_engine(tiny_model, cache_dir, exact_torch, engine, precision, fmt, want,
                           monkeypatch):
    import e5desk.core.encoder as encoder_module

    if fmt == "bf16":  # the bf16 graph is asked for wherever the CPU says it has bf16
        monkeypatch.setattr(encoder_module, "cpu_flags", lambda: {"avx512_bf16"})
    enc = _encoder(tiny_model, engine, precision, long_text="truncate")
    assert enc.engine_plan.fused.label == f"{engine}.{fmt}"
    assert enc.model_id.split(":")[-3] == f"{engine}.{fmt}"
    got = enc.encode_detailed(TEXTS)
    assert not enc.model_loaded  # the torch model never loaded: the fused graph ran
    cos = (got.vectors * exact_torch.vectors).sum(1)
    assert cos.min() >= want, cos
    assert np.allclose(np.linalg.norm(got.vectors, axis=1), 1, atol=1e-5)
    assert got.token_counts.tolist() == exact_torch.token_counts.tolist()
    # the same truncation report: a text over 512 tokens is cut and said to be
    long = enc.encode_detailed(["short", "Bahnhof " * 700])
    ref = _encoder(tiny_model, "torch").encode_detailed(["short", "Bahnhof " * 700])
    assert [(t.index, t.tokens, t.kept) for t in long.truncated] == [
        (t.index, t.tokens, t.kept) for t in ref.truncated] != []
    assert (long.vectors * ref.vectors).sum(1).min() >= want
    from e5desk.core.engines import RUNTIME_NAMES

    assert f"{RUNTIME_NAMES[engine]} {fmt}" in enc.describe()


@needs_ort
def test_graph_is_reused_and_rebuilt_when_the_weights_change(tiny_model, tmp_path, cache_dir):
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    tok = _encoder(folder, "torch")._tokenizer
    first = graph.ensure_graph(folder, tok, 512)
    stamp = (first / graph.GRAPH_FILE).stat().st_mtime_ns
    assert graph.ensure_graph(folder, tok, 512) == first  # reused, not exported again
    assert (first / graph.GRAPH_FILE).stat().st_mtime_ns == stamp
    assert not [p for p in graph.engines_dir().iterdir() if p.name.startswith(".")]  # no tmp
    before = _encoder(folder, "onnxruntime").encode(TEXTS)
    # new weights: a new graph, the old one removed, vectors follow the new weights
    from safetensors.numpy import load_file, save_file

    weights = load_file(folder / "model.safetensors")
    key = next(k for k in weights if k.endswith("word_embeddings.weight"))
    weights[key] = weights[key] * -1.0 + 0.01
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    second = graph.ensure_graph(folder, tok, 512)
    assert second != first and not first.exists()
    after = _encoder(folder, "onnxruntime").encode(TEXTS)
    exact = _encoder(folder, "torch").encode(TEXTS)
    assert (after * exact).sum(1).min() >= 0.9999
    assert (after * before).sum(1).min() < 0.99


@needs_ort
def test_failed_parity_refuses_or_falls_back(tiny_model, cache_dir, monkeypatch):
    from e5desk.core.errors import E5DeskError

    monkeypatch.setattr(graph, "parity", lambda gdir, label, forward: 0.98)
    with pytest.raises(E5DeskError, match=r"min cosine 0\.98.*--engine torch"):
        _encoder(tiny_model, "onnxruntime").encode(TEXTS)
    auto = _encoder(tiny_model, "auto")
    got = auto.encode(TEXTS)  # auto: torch runs every batch instead, said in the log
    assert auto.model_loaded
    assert np.allclose(got, _encoder(tiny_model, "torch").encode(TEXTS), atol=1e-6)
    assert "could not be used" in auto.describe()


def test_missing_runtime_is_said_and_auto_falls_back(tiny_model, monkeypatch, capsys,
                                                     tmp_path):
    import e5desk.core.engines as engines
    from e5desk.cli import main
    from e5desk.core.errors import E5DeskError

    monkeypatch.setattr(runtimes, "installed", lambda name: False)
    monkeypatch.setattr(engines, "installed", lambda name: False)
    with pytest.raises(E5DeskError, match="--engine onnxruntime needs: pip install onnxruntime"):
        _encoder(tiny_model, "onnxruntime")
    auto = _encoder(tiny_model, "auto")
    assert auto.engine_plan.fused is None
    assert auto.model_id == _encoder(tiny_model, "torch").model_id  # all torch: same vectors
    lines = tmp_path / "in.txt"
    lines.write_text("hello\n", encoding="utf-8")
    code = main(["embed", str(lines), "--model", str(tiny_model), "--engine", "openvino",
                 "--out", str(tmp_path / "o.npy")])
    assert code == 2
    assert "--engine openvino needs: pip install openvino" in capsys.readouterr().err


def test_model_id_differs_per_engine(tiny_model, monkeypatch):
    import e5desk.core.engines as engines

    monkeypatch.setattr(engines, "installed", lambda name: True)
    monkeypatch.setattr(runtimes, "installed", lambda name: True)
    ids = {e: _encoder(tiny_model, e).model_id for e in ("torch", "onnxruntime", "openvino",
                                                         "auto")}
    assert len(set(ids.values())) == 4
    assert ":torch.float32:" in ids["torch"]  # torch keeps the id it always had
    assert ":auto[openvino.f32|torch.float32]:" in ids["auto"]


def test_engine_refusals_are_user_errors(tiny_model, monkeypatch):
    import e5desk.core.engines as engines
    from e5desk.core.errors import E5DeskError

    monkeypatch.setattr(runtimes, "installed", lambda name: True)
    monkeypatch.setattr(engines, "installed", lambda name: True)
    with pytest.raises(E5DeskError, match="int8 runs on the torch engine only"):
        _encoder(tiny_model, "openvino", "int8")
    with pytest.raises(E5DeskError, match="unknown engine"):
        _encoder(tiny_model, "tensorrt")
    plan = engines.plan_engine("auto", "cuda", "float16", "torch.float16")
    assert plan.fused is None and "cuda" in plan.why
    with pytest.raises(E5DeskError, match="runs on the CPU"):
        engines.plan_engine("onnxruntime", "cuda", "float16", "torch.float16")
    assert engines.plan_engine("auto", "cpu", "int8", "int8").fused is None


# -- auto: the measured crossover -------------------------------------------------------
def test_crossover_limit_from_a_table():
    # rows, width, fused ms, torch ms
    table = [(1, 16, 5, 13), (4, 32, 9, 14), (16, 32, 30, 28), (32, 32, 60, 50)]
    assert crossover.limit_from(table) == 128  # fused up to 4x32, torch from 16x32
    assert crossover.limit_from([(1, 16, 5, 4)]) == 0  # torch wins everything
    assert crossover.limit_from([(1, 16, 5, 9), (32, 32, 40, 50)]) is None  # fused everything
    c = crossover.Crossover(128, tuple(table))
    assert c.use_fused(1, 16) and c.use_fused(2, 64) and not c.use_fused(8, 32)
    assert "up to 128 padded tokens" in c.summary("OpenVINO bf16", "torch bfloat16")
    assert crossover.Crossover(None, ()).use_fused(1000, 512)


@needs_ort
def test_auto_sends_small_batches_fused_and_big_ones_to_torch(tiny_model, cache_dir,
                                                              monkeypatch):
    import e5desk.core.engines as engines

    monkeypatch.setattr(engines, "installed", lambda name: name == "onnxruntime")
    measured = []

    def fake_measure(fused, torch_forward, seq, pad, **kw):
        measured.append(kw.get("budget"))
        return crossover.Crossover(64, ((1, 64, 1.0, 2.0), (4, 32, 3.0, 2.0)), "today")

    monkeypatch.setattr(crossover, "measure", fake_measure)
    enc = _encoder(tiny_model, "auto")
    assert enc.engine_plan.fused.label == "onnxruntime.f32"
    calls = {"torch": 0}
    real = engines.torch_means

    def counting(encoder, ids, mask):
        calls["torch"] += 1
        return real(encoder, ids, mask)

    monkeypatch.setattr(engines, "torch_means", counting)
    enc.encode(["one short text"])
    assert calls["torch"] == 0 and not enc.model_loaded and measured == [1024]
    many = [f"sentence number {i} about trains" for i in range(40)]
    got = enc.encode(many)
    assert calls["torch"] >= 1 and enc.model_loaded  # big batches went to torch
    assert np.allclose(got, _encoder(tiny_model, "torch").encode(many), atol=1e-5)
    # stored: a second encoder of the same model on this machine measures nothing
    again = _encoder(tiny_model, "auto")
    again.encode(["another short text"])
    assert measured == [1024]
    assert "up to 64 padded tokens" in again.describe()
    assert "up to 64 padded tokens" in " ".join(engines.stored_choices(tiny_model))


# -- the choice in the CLI, the API and the service --------------------------------------
@needs_ort
def test_engine_in_cli_and_api(tiny_model, cache_dir, tmp_path, capsys):
    from e5desk.api import load_model
    from e5desk.cli import main

    lines = tmp_path / "in.txt"
    lines.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    outs = {}
    for engine in ("torch", "onnxruntime"):
        out = tmp_path / f"{engine}.npy"
        assert main(["embed", str(lines), "--model", str(tiny_model), "--precision", "exact",
                     "--engine", engine, "--no-cache", "--out", str(out)]) == 0
        outs[engine] = np.load(out)
    assert (outs["torch"] * outs["onnxruntime"]).sum(1).min() >= 0.9999
    model = load_model(str(tiny_model), precision="exact", engine="onnxruntime", cache=False)
    assert model.encoder.engine == "onnxruntime"
    assert (model.encode(TEXTS) * outs["torch"]).sum(1).min() >= 0.9999
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["embed", "--help"])
    assert "--engine" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # batch has its own --engine (local|ray)
        main(["batch", "--help"])
    assert "--model-engine" in capsys.readouterr().out


def test_serve_and_background_take_the_engine():
    import argparse

    from e5desk.commands import serve
    from e5desk.server.background import BackgroundServer

    parser = argparse.ArgumentParser()
    serve.register(parser.add_subparsers())
    args = parser.parse_args(["serve", "--engine", "onnxruntime"])
    assert args.model_engine == "onnxruntime"
    assert BackgroundServer(engine="openvino").engine == "openvino"


def test_engine_choices_are_defined_once():
    from e5desk.core.options import DEFAULT_ENGINE, ENGINE_CHOICES, ENGINES

    assert ENGINES == ("auto", "torch", "onnxruntime", "openvino")
    assert DEFAULT_ENGINE in ENGINES and all(c.help for c in ENGINE_CHOICES)


@pytest.mark.skipif(not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"),
                    reason="no Qt platform")
def test_model_panel_offers_the_engines(qtbot):
    from PySide6.QtCore import QObject, Signal

    from e5desk.core.options import ENGINES
    from e5desk.gui.model_panel import ModelPanel

    class Session(QObject):  # what the panel reads and connects to
        model_loading = Signal(str)
        model_changed = Signal()
        model_failed = Signal(str)
        encoder = None
        loaded: dict = {}

        def load_model(self, spec, **kw):
            self.loaded = kw

    session = Session()
    panel = ModelPanel(session)
    qtbot.addWidget(panel)
    assert [panel.engine.itemData(i) for i in range(panel.engine.count())] == list(ENGINES)
    panel.engine.setCurrentIndex(ENGINES.index("openvino"))
    panel.models.addItem("embedded", "embedded")
    panel.load_selected()
    assert session.loaded["engine"] == "openvino"
