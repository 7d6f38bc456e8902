"""The main window's menus and status bar (model, memory, job progress and Cancel), built
onto a MainWindow; the actions call the window's methods."""

from __future__ import annotations

import os

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton

from e5desk.gui.finetune import open_finetune
from e5desk.gui.serve_switch import ServeSwitch

Keys = QKeySequence.StandardKey


def resident_memory_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, AttributeError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def add_action(window, menu, text: str, shortcut, slot) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def build_menus(w) -> None:
    """File, Edit, Jobs, Tools, View and Help; sets ``w.recent_menu``, ``w.join_action``,
    ``w.serve_switch`` and ``w.jobs_menu``."""
    files = w.files
    file = w.menuBar().addMenu("&File")
    add_action(w, file, "&Open…", Keys.Open, files.open_dialog)
    w.recent_menu = file.addMenu("Open &recent")
    add_action(w, file, "Open &sample set", None, files.open_sample)
    add_action(w, file, "&Import vectors…", None, files.import_dialog)
    add_action(w, file, "Open with &vectors…", None, files.open_with_vectors_dialog)
    w.join_action = add_action(w, file, "&Join translations across files", None,
                               lambda on: w.session.set_join(bool(on)))
    w.join_action.setCheckable(True)
    w.join_action.setChecked(w.session.join)
    w.join_action.setToolTip("Files opened together share translation groups keyed by "
                             "source text (PO msgctxt + msgid, TMX/XLIFF source); the "
                             "shared source sentence is listed once")
    w.session.sets_changed.connect(lambda: w.join_action.setChecked(w.session.join))
    file.addSeparator()
    add_action(w, file, "&Save project", Keys.Save, files.save_project)
    add_action(w, file, "Save project &as…", Keys.SaveAs, files.save_project_as)
    file.addSeparator()
    add_action(w, file, "&Export table in view…", "Ctrl+E", w.export_table)
    w.serve_switch = ServeSwitch(w, file)
    file.addSeparator()
    add_action(w, file, "&Quit", Keys.Quit, w.close)
    edit = w.menuBar().addMenu("&Edit")
    add_action(w, edit, "&Find sentences", Keys.Find, w.find_sentences)
    add_action(w, edit, "&Copy table rows", "Ctrl+Shift+C", w.copy_table)
    w.jobs_menu = w.menuBar().addMenu("&Jobs")
    add_action(w, w.jobs_menu, "&Cancel running jobs", "Esc", w.runner.cancel_all)
    tools = w.menuBar().addMenu("&Tools")
    add_action(w, tools, "&Fine-tune…", None, lambda: open_finetune(w))
    view = w.menuBar().addMenu("&View")
    for dock in (w.model_dock, w.sets_dock, w.problems_dock):
        view.addAction(dock.toggleViewAction())
    help_menu = w.menuBar().addMenu("&Help")
    add_action(w, help_menu, "&About e5desk", None, w.about)


class StatusBar:
    """The permanent part of the status bar: job progress and Cancel, model, memory."""

    def __init__(self, w) -> None:
        bar = w.statusBar()
        w.model_label = QLabel("model: loading…")
        self.memory_label = w.memory_label = QLabel()
        self.progress = w.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = w.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Cancel running jobs (Esc)")
        self.cancel_button.hide()
        for widget in (self.progress, self.cancel_button, w.model_label, self.memory_label):
            bar.addPermanentWidget(widget)
        self._memory_timer = QTimer(w, interval=2000)
        self._memory_timer.timeout.connect(self.update_memory)
        self._memory_timer.start()
        self.update_memory()
        w.runner.busy_changed.connect(self.busy)
        w.runner.progress.connect(self.show_progress)
        self.cancel_button.clicked.connect(w.runner.cancel_all)

    def busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)

    def show_progress(self, name: str, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{name}: %p%")

    def update_memory(self) -> None:
        self.memory_label.setText(f"memory: {resident_memory_mb():,.0f} MB")
