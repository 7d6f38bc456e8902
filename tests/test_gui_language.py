"""Correcting languages in the sentence table (the lang cell and the context menu), saved
in the project; gettext context shown readably (pytest-qt, offscreen; no model load)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from gui_helpers import save_and_reopen, wait_idle  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

PO = ('msgid ""\nmsgstr ""\n"Language: es\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
      'msgctxt "abbrev. month"\nmsgid "Jan."\nmsgstr "Ene."\n\n'
      'msgid "Open file"\nmsgstr "Abrir archivo"\n')
LINES = "Where is the station?\nWo ist der Bahnhof?\nOK\n"


def open_and_wait(qtbot, window, paths) -> None:
    window.session.open_files(paths)
    qtbot.waitUntil(lambda: len(window.session.sets) == len(paths), timeout=30_000)
    wait_idle(qtbot, window)


def select_texts(panel, texts) -> np.ndarray:
    c = panel.session.combined
    rows = np.array([i for i, t in enumerate(c.text) if t in texts])
    view_rows = [int(np.flatnonzero(panel.model.rows == r)[0]) for r in rows]
    selection = panel.table.selectionModel()
    selection.clearSelection()
    for v in view_rows:
        selection.select(panel.model.index(v, 0), selection.SelectionFlag.Select
                         | selection.SelectionFlag.Rows)
    return rows


def test_context_shown_readably(qtbot, window, tmp_path):
    (tmp_path / "es.po").write_text(PO, encoding="utf-8")
    open_and_wait(qtbot, window, [tmp_path / "es.po"])
    model = window.sets.model
    shown = [model.index(r, c).data() for r in range(model.rowCount())
             for c in range(model.columnCount())]
    assert "abbrev. month | Jan." in shown
    assert not any("\x04" in str(s) for s in shown)


def test_language_set_in_table_is_saved_in_project(qtbot, window, settings, tmp_path,
                                                   monkeypatch):
    (tmp_path / "es.po").write_text(PO, encoding="utf-8")
    (tmp_path / "lines.txt").write_text(LINES, encoding="utf-8")
    open_and_wait(qtbot, window, [tmp_path / "es.po", tmp_path / "lines.txt"])
    session, panel = window.session, window.sets
    vectors = np.ones((len(session.combined), 4), dtype=np.float32)
    session.workspace.set_model("test-model")  # as if embedded: must survive the edit
    assert session.workspace.store_vectors("test-model", "query", None, vectors)

    # The context menu: "Set language of selected rows…" with the picker answering "fr".
    rows = select_texts(panel, {"OK", "Ene."})
    panel._context_menu(panel.table.visualRect(panel.model.index(0, 0)).center())
    action = panel._menu.actions()[0]
    assert action.text().startswith("Set language of selected rows")
    asked = []
    monkeypatch.setattr("e5desk.gui.sets_panel.QInputDialog.getItem",
                        lambda *a: asked.append(a) or ("fr — French", True))
    action.trigger()
    assert asked and "2 selected row" in asked[0][2]
    assert [session.combined.lang[r] for r in rows] == ["fr", "fr"]
    by_text = {t: lang for s in session.sets for t, lang in zip(s.text, s.lang, strict=True)}
    assert by_text["OK"] == by_text["Ene."] == "fr"
    assert session.vectors("query") is vectors  # the text did not change: vectors kept
    assert sorted(panel.selected_rows()) == sorted(rows)  # selection kept for the next edit

    # The lang cell: typed as a name or a code.
    row = int(np.flatnonzero(session.combined.text == "Where is the station?")[0])
    view_row = int(np.flatnonzero(panel.model.rows == row)[0])
    index = panel.model.index(view_row, 1)
    assert panel.model.flags(index) & Qt.ItemFlag.ItemIsEditable
    assert not panel.model.flags(panel.model.index(view_row, 0)) & Qt.ItemFlag.ItemIsEditable
    assert panel.model.setData(index, "German")
    qtbot.waitUntil(lambda: session.combined.lang[row] == "de", timeout=5_000)
    assert not panel.model.setData(index, "no such language at all")
    delegate = panel.table.itemDelegateForColumn(1)
    editor = delegate.createEditor(panel.table.viewport(), None, index)
    delegate.setEditorData(editor, index)
    assert editor.currentText() == "de — German"
    editor.setEditText("pt_BR")
    delegate.setModelData(editor, panel.model, index)
    qtbot.waitUntil(lambda: session.combined.lang[row] == "pt-BR", timeout=5_000)
    editor.deleteLater()
    assert panel.model.setData(panel.model.index(view_row, 1), "de")
    qtbot.waitUntil(lambda: session.combined.lang[row] == "de", timeout=5_000)
    assert "fr" in [panel.lang.itemData(i) for i in range(panel.lang.count())]

    # Saved, reopened in another window: the languages are there.
    other = save_and_reopen(qtbot, window, settings, tmp_path / "work.e5desk")
    reopened = dict(zip(other.session.combined.text, other.session.combined.lang, strict=True))
    assert reopened["OK"] == reopened["Ene."] == "fr"
    assert reopened["Where is the station?"] == "de"
    assert reopened["Abrir archivo"] == "es"
