"""Helpers for the GUI tests (pytest-qt, offscreen): windows that never ask before closing,
a GUI-thread stall meter, and waiting for idle. Fixtures are in conftest.py."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from e5desk.gui.main_window import MainWindow


def make_window(qtbot, settings):
    w = MainWindow(settings)
    w.confirm_close = False
    qtbot.addWidget(w)
    return w


class GuiThreadWatch:
    """Measures the longest gap between 10 ms timer ticks on the GUI thread."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.worst = 0.0
        self.timer = QTimer(interval=10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now


def wait_idle(qtbot, window, timeout=120_000):
    qtbot.waitUntil(lambda: not window.runner.running, timeout=timeout)


def start_with_sample(qtbot, window, timeout=120_000):
    """Start as a new user does (embedded model + bundled sample) and wait until idle."""
    window.start(sample=True)
    qtbot.waitUntil(lambda: window.session.encoder is not None
                    and window.session.combined is not None, timeout=timeout)
    wait_idle(qtbot, window, timeout)


def save_and_reopen(qtbot, window, settings, path, timeout=60_000, open_timeout=60_000):
    """Save ``window``'s project to ``path`` and open it in a second window (returned)."""
    assert window.project.save(path)
    qtbot.waitUntil(lambda: not window.project.dirty, timeout=timeout)
    other = make_window(qtbot, settings)
    other.project.open(path)
    qtbot.waitUntil(lambda: other.session.combined is not None, timeout=open_timeout)
    wait_idle(qtbot, other)
    return other


def status_text(window) -> str:
    """The status bar's message in full (the bar elides a long one to its room)."""
    jobs = getattr(window, "jobs", None)
    return jobs.log.latest_text() if jobs is not None else window.statusBar().currentMessage()
