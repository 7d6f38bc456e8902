"""Issue 27: the window at 1024 x 700, empty states that say what to do, the job list."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import start_with_sample  # noqa: E402


def test_guidance_texts():
    from e5desk.gui.guidance import JobLog, map_empty, scores_empty, translations_empty

    assert [a for a, _ in scores_empty(0).actions] == ["Open files…", "Open the sample"]
    assert scores_empty(1) is None
    assert map_empty(1, False).actions == (("Compute map", "map"),)
    assert map_empty(1, True) is None and map_empty(0, True).title.startswith("No sentences")
    assert "two languages" in translations_empty(1, 1).text
    assert translations_empty(1, 3) is None
    log = JobLog()
    log.started("Embedding")
    log.ended("Embedding", "done")
    log.note("122 es → ja pairs mined")
    log.started("PCA preview")
    assert log.latest_text() == "PCA preview…"  # a newer job replaces an older message
    log.ended("PCA preview", "done")
    assert log.latest_text() == "PCA preview: done"
    assert len(log.entries) == 2 and "122 es → ja" in log.entries[0].line()


def test_empty_states_then_1024x700_layout(qtbot, window):
    from PySide6.QtWidgets import QScrollArea

    g = window.guidance
    # Nothing loaded: every tab says what to do, with a button.
    assert g.scores.isVisible() and "Open files…" in g.scores.button_texts()
    window.tabs.setCurrentWidget(window.map_view)
    assert g.map.isVisible() and g.map.shown_text.title == "No sentences loaded yet"
    window.tabs.setCurrentWidget(window.translations)
    assert g.translations.isVisible()
    window.tabs.setCurrentWidget(window.workbench)

    window.sets_dock.set_collapsed(True)  # as a first start on a small screen does
    window.resize(1024, 700)
    start_with_sample(qtbot, window)
    assert not g.scores.isVisible() and not g.translations.shown_text
    assert g.map.shown_text.actions == (("Compute map", "map"),)
    assert "576 sentences" in window.sets_dock.bar.summary.text()
    window.workbench.set_queries("Where is the train station?")
    window.workbench.run()
    qtbot.waitUntil(lambda: window.workbench.ranking is not None, timeout=120_000)
    qtbot.wait(100)
    assert window.width() == 1024 and window.height() == 700
    table = window.workbench.table
    rows = table.viewport().height() // table.verticalHeader().defaultSectionSize()
    assert rows >= 12, rows
    # Docks: no horizontal scroll bar; the collapsed one is a bar.
    for dock in (window.model_dock, window.sets_dock):
        scroll = dock.widget()
        assert isinstance(scroll, QScrollArea)
        assert not scroll.horizontalScrollBar().isVisible()
    assert window.sets_dock.height() <= 40
    # ... and nothing in them is cut off: the model card (long folder paths, the engine
    # line) wraps inside the dock instead of running past its right edge
    model_scroll = window.model_dock.widget()
    qtbot.waitUntil(lambda: "dimensions" in window.model_panel.card.text(), timeout=60_000)
    qtbot.wait(50)
    assert model_scroll.widget().width() <= model_scroll.viewport().width()
    # ... and the docks' needs leave the window within the 1024-pixel screen, with room for
    # fonts wider than the test's (Noto ran ~8 % wider: 1009 px here cut the Score button)
    assert window.minimumSizeHint().width() <= 960 and window.width() == 1024
    # Expanded again, it is remembered.
    window.sets_dock.set_collapsed(False)
    assert window.settings.value("docks/Sentence_sets/collapsed", type=bool) is False


def test_a_long_status_message_is_elided_with_the_whole_in_the_tooltip(qtbot, window):
    window.resize(1024, 700)
    long = "Wrote " + "a-very-long-file-name-" * 20 + ".csv (20 rows)"
    window.show_status(long)
    bar = window.statusBar()
    shown = bar.currentMessage()
    assert shown.endswith("…") and len(shown) < len(long)
    assert bar.fontMetrics().horizontalAdvance(shown) < bar.width()
    assert long in bar.toolTip()
    window.show_status("Loaded the sample")
    assert bar.currentMessage() == "Loaded the sample" and long not in bar.toolTip()

