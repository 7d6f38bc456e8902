"""Opening files in the window as a user does (drop, column mapping, bad files) and
switching models (pytest-qt, offscreen)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from gui_helpers import start_with_sample, wait_idle  # noqa: E402
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

TMX = ('<?xml version="1.0" encoding="UTF-8"?><tmx version="1.4"><header srclang="en"/><body>'
       '<tu tuid="t1"><tuv xml:lang="en"><seg>Good morning</seg></tuv>'
       '<tuv xml:lang="ja"><seg>おはようございます</seg></tuv></tu></body></tmx>')
XLIFF = ('<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2"><file '
         'source-language="en" target-language="fr" datatype="plaintext" original="x"><body>'
         '<trans-unit id="u1"><source>Thank you</source><target>Merci</target></trans-unit>'
         '</body></file></xliff>')
PO = ('msgid ""\nmsgstr ""\n"Language: de\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
      'msgid "Open file"\nmsgstr "Datei öffnen"\n')


def each_kind(folder) -> dict[str, tuple]:
    """file name -> (content, expected texts)"""
    train = json.dumps({"query": "when is barley sown", "positives": {"doc_id": ["0"]}})
    return {
        "lines.txt": ("Where is the station?\nWo ist der Bahnhof?\n",
                      {"Where is the station?", "Wo ist der Bahnhof?"}),
        "wide.tsv": ("group\ten\tes\ng1\tThank you\tGracias\n", {"Thank you", "Gracias"}),
        "memory.tmx": (TMX, {"Good morning", "おはようございます"}),
        "strings.xlf": (XLIFF, {"Thank you", "Merci"}),
        "app.po": (PO, {"Open file", "Datei öffnen"}),
        "passages.jsonl": ('{"contents": "Barley is sown in autumn."}\n',
                           {"Barley is sown in autumn."}),
        "train.jsonl": (train + "\n", {"Barley is sown in autumn.", "when is barley sown"}),
    }


def drop(window, paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def test_drop_files_of_every_kind(qtbot, window, tmp_path):
    files = each_kind(tmp_path)
    for name, (content, _) in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    # train.jsonl takes its passages from passages.jsonl beside it; both are dropped.
    drop(window, [tmp_path / name for name in files])
    dialog = window.column_dialog  # the TSV asks for its columns, detected as a wide table
    assert dialog.preview.path.name == "wide.tsv" and dialog.wide.isChecked()
    dialog._accept()
    qtbot.waitUntil(lambda: len(window.session.sets) == len(files), timeout=30_000)
    loaded = {s.name: set(s.text) for s in window.session.sets}
    for name, (_, texts) in files.items():
        assert loaded[name] == texts, name
    assert window.sets.model.rowCount() == sum(len(t) for _, t in files.values())
    problems = [window.problems.item(i).text() for i in range(window.problems.count())]
    assert not window.problems_dock.isVisible(), problems


def test_column_dialog_maps_csv_and_jsonl(qtbot, window, tmp_path):
    csv_path = tmp_path / "notes.csv"
    csv_path.write_text("id,note,sprache\n1,Guten Tag,de\n2,Good day,en\n", encoding="utf-8")
    window.open_files([csv_path])
    dialog = window.column_dialog
    assert dialog.isVisible() and dialog.preview.columns == ["id", "note", "sprache"]
    assert dialog.text.currentData() is None  # no usual name: the user must choose
    dialog._accept()
    assert "Choose the column" in dialog.problem.text() and dialog.isVisible()
    dialog.text.setCurrentIndex(dialog.text.findData("note"))
    dialog.lang.setCurrentIndex(dialog.lang.findData("sprache"))
    dialog.group.setCurrentIndex(dialog.group.findData("id"))
    dialog._accept()
    qtbot.waitUntil(lambda: len(window.session.sets) == 1, timeout=30_000)
    s = window.session.sets[0]
    assert list(s.text) == ["Guten Tag", "Good day"] and list(s.lang) == ["de", "en"]
    assert list(s.group) == ["1", "2"]

    jsonl_path = tmp_path / "records.jsonl"
    jsonl_path.write_text('{"body": "Hola", "l": "es", "text": "ignored"}\n', encoding="utf-8")
    window.open_files([jsonl_path])
    dialog = window.column_dialog
    assert dialog.text.currentData() == "text"  # the detected guess is preselected
    dialog.text.setCurrentIndex(dialog.text.findData("body"))
    dialog.lang.setCurrentIndex(dialog.lang.findData("l"))
    dialog.always.setChecked(True)
    dialog._accept()
    qtbot.waitUntil(lambda: len(window.session.sets) == 2, timeout=30_000)
    assert list(window.session.sets[1].text) == ["Hola"]
    assert list(window.session.sets[1].lang) == ["es"]
    # "don't ask again": the next CSV opens straight away with the detected columns
    plain = tmp_path / "plain.csv"
    plain.write_text("text,lang\nBonjour,fr\n", encoding="utf-8")
    window.open_files([plain])
    qtbot.waitUntil(lambda: len(window.session.sets) == 3, timeout=30_000)
    assert list(window.session.sets[2].text) == ["Bonjour"]


def test_bad_files_show_a_clear_error(qtbot, window, tmp_path):
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    window.open_files([binary])
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorDialog") is not None,
                    timeout=30_000)
    box = window.findChild(QMessageBox, "errorDialog")
    assert "photo.txt" in box.text() and "Traceback" not in box.text()
    box.close()
    partly = tmp_path / "partly.jsonl"
    partly.write_text('{"text": "Good"}\nnot json\n{"text": "Also good"}\n', encoding="utf-8")
    window.open_files([partly], ask_columns=False)
    qtbot.waitUntil(lambda: len(window.session.sets) == 1, timeout=30_000)
    assert window.problems_dock.isVisible()
    reported = [window.problems.item(i).text() for i in range(window.problems.count())]
    assert any("line 2" in r and "not valid JSON" in r for r in reported)


def test_model_switch_re_embeds(qtbot, window, tiny_model):
    start_with_sample(qtbot, window)
    window.session.ensure_vectors("query")
    qtbot.waitUntil(lambda: window.session.vectors("query") is not None, timeout=120_000)
    assert window.session.vectors("query").shape == (576, 384)
    window.session.load_model(str(tiny_model))
    qtbot.waitUntil(lambda: window.session.encoder is not None
                    and window.session.encoder.dim == 32, timeout=120_000)
    assert window.session.vectors("query") is None  # old vectors are gone with their model
    window.workbench.set_queries("Where is the train station?")
    window.workbench.run()
    qtbot.waitUntil(lambda: window.session.vectors("passage") is not None, timeout=120_000)
    wait_idle(qtbot, window)
    assert window.session.vectors("passage").shape == (576, 32)
    assert np.isfinite(window.session.vectors("passage")).all()
    assert window.workbench.ranking is not None


def test_import_projector_vectors_map_and_refuse_typed_text(qtbot, window, tmp_path):
    from e5desk.core.data import SentenceSet
    from e5desk.core.store.exports import export_projector

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    vectors = np.repeat(centres, 10, axis=0) + 0.05 * rng.normal(size=(30, 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [f"sentence {i}" for i in range(30)]
    export_projector(vectors, SentenceSet.build(texts, lang=["en", "de"] * 15),
                     tmp_path / "proj")
    window.start(sample=False)
    qtbot.waitUntil(lambda: window.session.encoder is not None, timeout=120_000)
    window.import_vectors(tmp_path / "proj" / "vectors.tsv")
    qtbot.waitUntil(lambda: window.session.imported is not None, timeout=30_000)
    assert list(window.session.combined.text) == texts
    view = window.map_view
    view.method.setCurrentIndex(view.method.findData("pca"))
    view.compute_map()
    qtbot.waitUntil(lambda: view.coords is not None, timeout=60_000)
    assert view.coords.shape == (30, 2)
    # 16-d vectors of unknown origin: typed queries must not be scored against them
    window.workbench.set_queries("anything")
    window.workbench.run()
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorDialog") is not None,
                    timeout=10_000)
    message = window.findChild(QMessageBox, "errorDialog").text()
    assert "16 dimensions" in message and "384" in message
    assert window.workbench.ranking is None


def test_autosave_only_when_there_is_work_to_lose(qtbot, window, tmp_path):
    start_with_sample(qtbot, window)
    window.project.autosave()  # the bundled sample alone: nothing to recover
    wait_idle(qtbot, window)
    assert not window.project.autosave_path.exists()
    mine = tmp_path / "mine.txt"
    mine.write_text("en\tMy own sentence.\n", encoding="utf-8")
    window.open_files([mine])
    qtbot.waitUntil(lambda: len(window.session.sets) == 2, timeout=30_000)
    window.project.autosave()
    wait_idle(qtbot, window)
    assert window.project.autosave_path.exists()
    window.project.discard_autosave()  # as on a clean close
    assert not window.project.autosave_path.exists()
