"""Every result table exports (button, context menu, Ctrl+E on the table in view), never
as a silent empty file; the learner view says "no close translation"; the mining pickers
default to two different languages (pytest-qt, offscreen, the bundled sample)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from gui_helpers import start_with_sample, wait_idle  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtGui import QAction  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def _read(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def _ctrl_e(window, monkeypatch, path):
    """Ctrl+E as a user presses it: the File menu's action, answering its save dialog."""
    monkeypatch.setattr("e5desk.gui.tables.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(path), "CSV files (*.csv)"))
    action = next(a for a in window.findChildren(QAction) if a.shortcut().toString() == "Ctrl+E")
    action.trigger()
    return path


def _message(window):
    from gui_helpers import status_text

    return status_text(window)


def test_scores_heatmap_and_map_selection_export(qtbot, window, tmp_path, monkeypatch):
    window.resize(1024, 700)  # the smallest screen the layout is made for
    start_with_sample(qtbot, window)
    combined = window.session.combined
    wb = window.workbench
    window.tabs.setCurrentWidget(wb)

    # Nothing scored yet: Ctrl+E says so and writes nothing.
    empty = _ctrl_e(window, monkeypatch, tmp_path / "empty.csv")
    assert not empty.exists()
    assert "Nothing to export" in _message(window) and "ranked results" in _message(window)

    wb.set_queries("Where is the train station?")
    wb.run()
    qtbot.waitUntil(lambda: wb.ranking is not None, timeout=60_000)
    wait_idle(qtbot, window)
    table = _read(_ctrl_e(window, monkeypatch, tmp_path / "scores.csv"))
    assert "Wrote 20 rows" in _message(window)  # before a later job's message replaces it
    assert table[0] == ["query", "rank", "score", "cosine", "lang", "set", "passage",
                        "vs unrelated"]
    # issue 25: each score's percentile among the sample's unrelated pairs, explained
    shares = [float(r[7]) for r in table[1:]]  # the share (0..1) shown as a percentage
    assert shares[0] > 0.95 and shares == sorted(shares, reverse=True)
    assert wb.results.data(wb.results.index(0, 7)).endswith("%")
    tip = wb.results.headerData(7, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "unrelated pairs" in tip and "rule retrieval" in tip
    wb.pair_query.setText("Where is the train station?")
    wb.pair_passage.setText("Wo ist der Bahnhof?")
    wb.run_pair()
    qtbot.waitUntil(lambda: "unrelated pairs" in wb.pair_result.text(), timeout=60_000)
    assert len(table) == 21 and [r[1] for r in table[1:]] == [str(i) for i in range(1, 21)]
    assert all(r[6] in set(combined.text) for r in table[1:])  # the full, untruncated text
    # Readable: the passage takes the width, the rank and the set stay narrow.
    t = wb.table
    assert t.columnWidth(6) > 2 * t.columnWidth(1) and t.columnWidth(5) <= 220
    # The context menu copies and exports; copying takes the selected rows only.
    t._menu(QPoint(5, 5))
    texts = [a.text() for a in t.context_menu.actions() if a.text()]
    t.context_menu.close()
    assert texts[0] == "Copy rows" and "Export CSV…" in texts
    t.selectRow(0)
    t.copy_rows()
    copied = QApplication.clipboard().text().splitlines()
    assert len(copied) == 2 and copied[0].startswith("query\trank") and "\t1\t" in copied[1]
    # Widths the user sets are remembered for this table.
    t.setColumnWidth(6, 333)
    t.remember_widths()
    t.result_model.set_rows(t.result_model.rows)
    assert t.columnWidth(6) == 333

    # Heatmap tab: its cells (query, passage, score).
    wb.tabs.setCurrentWidget(wb.heatmap)
    cells = _read(_ctrl_e(window, monkeypatch, tmp_path / "heatmap.csv"))
    assert cells[0] == ["query", "passage", "score"]
    assert len(cells) - 1 == wb.heatmap.scores.size
    assert float(cells[1][2]) == pytest.approx(float(wb.heatmap.scores[0, 0]), abs=1e-3)
    # Its query axis reads the queries (elided), not 0, 0.5, 1.0.
    ticks = wb.heatmap.plot.getAxis("left")._tickLevels[0]
    assert [t for _, t in ticks] == [q[:27] + "…" if len(q) > 28 else q
                                     for q in wb.heatmap.queries][: len(ticks)]

    # Map tab: nothing selected -> a message, no file; then the selection's rows.
    view = window.map_view
    window.tabs.setCurrentWidget(view)
    view.method.setCurrentIndex(view.method.findData("pca"))
    view.compute_map()
    qtbot.waitUntil(lambda: view.coords is not None, timeout=120_000)
    wait_idle(qtbot, window)
    none = _ctrl_e(window, monkeypatch, tmp_path / "none.csv")
    assert not none.exists() and "Select sentences on the map" in _message(window)
    rows = np.arange(0, 576, 3)
    view._set_selection(rows)
    selection = _read(_ctrl_e(window, monkeypatch, tmp_path / "selection.csv"))
    assert selection[0][:5] == ["text", "lang", "group", "set", "line"]
    assert [r[0] for r in selection[1:]] == list(combined.text[rows])
    assert all("\x04" not in r[2] for r in selection[1:])
    assert f"Wrote {len(rows)} rows of the map selection" in _message(window)


def test_translations_tables_export(qtbot, window, tmp_path, monkeypatch):
    from e5desk.core.translations import default_pair

    start_with_sample(qtbot, window)
    combined = window.session.combined
    view = window.translations
    window.tabs.setCurrentWidget(view)

    # Learner view: a sentence of the set is found; an unrelated one is not.
    view.tabs.setCurrentIndex(0)
    assert not _ctrl_e(window, monkeypatch, tmp_path / "nothing.csv").exists()
    assert "Nothing to export" in _message(window)
    view.sentence.setText("Where is the train station?")
    view.find_translations()
    qtbot.waitUntil(lambda: view.learner_model.rowCount() > 0, timeout=60_000)
    wait_idle(qtbot, window)
    learner = _read(_ctrl_e(window, monkeypatch, tmp_path / "learner.csv"))
    assert learner[0] == ["lang", "rank", "score", "sentence", "group", "match",
                          "vs unrelated", "vs translations"]
    found = [r for r in learner[1:] if r[5] == "found"]
    assert found and all(float(r[6]) > 0.95 and 0 <= float(r[7]) <= 1 for r in found)
    firsts = {r[0]: r[3] for r in learner[1:] if r[1] == "1"}
    assert firsts["de"] == "Wo ist der Bahnhof?" and firsts["ja"] == "駅はどこですか？"
    assert "found" in {r[5] for r in learner[1:]}
    view.sentence.setText("Photosynthesis turns sunlight into chemical energy in leaves.")
    view.find_translations()
    qtbot.waitUntil(lambda: any("no close translation" in str(t)
                                for t in view.learner_model.columns[3]), timeout=60_000)
    wait_idle(qtbot, window)
    model = view.learner_model
    notes = [r for r in model.rows if str(model.columns[3][r]).startswith("no close")]
    first = notes[0]
    lang = model.columns[0][first]
    assert f"no close translation in {lang}" in model.columns[3][first]
    weak = [r for r in model.rows if model.columns[0][r] == lang and model.columns[5][r] == "weak"]
    assert weak and all(model.muted[r] for r in weak)  # greyed candidates below the note
    assert "No close translation in" in _message(window)

    # Suspects: the default pair is the one with most shared groups.
    view.tabs.setCurrentIndex(1)
    assert (view.src_lang.currentText(), view.tgt_lang.currentText()) == \
        default_pair(list(combined.lang), list(combined.group))
    view.check()
    qtbot.waitUntil(lambda: view.suspect_model.rowCount() == 64, timeout=60_000)
    wait_idle(qtbot, window)
    suspects = _read(_ctrl_e(window, monkeypatch, tmp_path / "suspects.csv"))
    assert suspects[0][:2] == ["doubt", "group"] and suspects[0][-1] == "reason"
    assert len(suspects) == 65 and all(r[-1] for r in suspects[1:])

    # Mining: two different languages by default; the same one on both sides is refused.
    view.tabs.setCurrentIndex(2)
    a, b = view.mine_src_lang.currentText(), view.mine_tgt_lang.currentText()
    assert a and b and a != b
    view.mine_tgt_lang.setCurrentText(a)
    view.mine_sets()
    assert "two different languages" in _message(window) and view.mine_model.rowCount() == 0
    view.mine_tgt_lang.setCurrentText(b)
    view.mine_sets()
    qtbot.waitUntil(lambda: view.mine_model.rowCount() > 0, timeout=60_000)
    wait_idle(qtbot, window)
    pairs = _read(_ctrl_e(window, monkeypatch, tmp_path / "pairs.csv"))
    assert pairs[0] == ["margin", "cosine", "source lang", f"source ({a})", "target lang",
                        f"target ({b})"]
    langs = dict(zip(combined.text, combined.lang, strict=True))
    assert all(r[2] == a and r[4] == b and langs[r[3]] == a and langs[r[5]] == b
               for r in pairs[1:])

    # Evaluation.
    view.tabs.setCurrentIndex(3)
    view.evaluate()
    qtbot.waitUntil(lambda: view.eval_model.rowCount() > 0, timeout=90_000)
    wait_idle(qtbot, window)
    evaluation = _read(_ctrl_e(window, monkeypatch, tmp_path / "evaluation.csv"))
    assert evaluation[1][0] == "all pairs (symmetric)" and len(evaluation) == 1 + 73
