"""The window's guidance and finish, wired onto a MainWindow: empty states over the tabs,
placeholders in empty result tables, the job list behind the status bar (Jobs menu), icons
on the main actions, and the first-start layout for small screens."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QListWidget

from e5desk.gui.empty_state import EmptyState
from e5desk.gui.guidance import (
    TABLE_HINTS,
    JobLog,
    map_empty,
    scores_empty,
    translations_empty,
)
from e5desk.gui.theme import icon

SMALL_SCREEN_HEIGHT = 820  # at most this many pixels high: the sentence-sets dock starts collapsed


class Guidance:
    """Empty states over the Scores, Map and Translations tabs, kept up to date."""

    def __init__(self, window) -> None:
        self.window = w = window
        actions = {"open": w.open_dialog, "sample": w.open_sample,
                   "map": w.map_view.compute_map}
        self.scores = EmptyState(w.workbench, actions)
        self.map = EmptyState(w.map_view.body, actions)
        self.translations = EmptyState(w.translations, actions)
        w.workbench.table.placeholder = TABLE_HINTS["scores"]
        for table, key in ((w.translations.learner_table, "learner"),
                           (w.translations.suspect_table, "suspects"),
                           (w.translations.mine_table, "mine")):
            table.placeholder = TABLE_HINTS[key]
        s = w.session
        for signal in (s.sets_changed, s.model_changed, w.runner.busy_changed,
                       w.map_view.changed):
            signal.connect(self.update)
        self.update()

    def update(self, *_args) -> None:
        w = self.window
        sets = w.session.sets
        combined = w.session.combined
        langs = 0 if combined is None else len({x for x in combined.lang if x})
        busy = any("map" in j.name or "preview" in j.name for j in w.runner.running)
        self.scores.show_text(scores_empty(len(sets)))
        self.map.show_text(map_empty(len(sets), w.map_view.coords is not None, busy))
        self.translations.show_text(translations_empty(len(sets), langs))
        n = 0 if combined is None else len(combined)
        w.sets_dock.set_summary(f"{n:,} sentences in {len(sets)} set{'s' * (len(sets) != 1)}"
                                if sets else "none loaded")
        enc = w.session.encoder
        w.model_dock.set_summary(enc.source.name if enc is not None else "loading…")


class JobList:
    """Every job of the session in a dock (Jobs ▸ Job list); the status bar shows the
    newest event, never an older job's message over a newer job."""

    def __init__(self, window) -> None:
        self.window = w = window
        self.log = JobLog()
        self.list = QListWidget()
        self.list.setObjectName("jobList")
        self.dock = QDockWidget("Jobs", w)
        self.dock.setObjectName("Jobs")
        self.dock.setWidget(self.list)
        w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()
        toggle = self.dock.toggleViewAction()
        toggle.setText("&Job list")
        toggle.setIcon(icon("jobs"))
        w.jobs_menu.addAction(toggle)
        w.runner.started.connect(self.started)
        w.runner.ended.connect(self.ended)

    def started(self, name: str) -> None:
        self.log.started(name)
        self._show()

    def ended(self, name: str, state: str) -> None:
        self.log.ended(name, state)
        self._show()

    def note(self, message: str) -> None:
        self.log.note(message)
        self._show()

    def _show(self) -> None:
        self.list.clear()
        for entry in reversed(self.log.entries):
            self.list.addItem(entry.line())
        text = self.log.latest_text()
        bar = self.window.statusBar()
        # Elided to the room left of the permanent labels (a long message ran into the
        # model/memory labels); the whole of it in the tooltip and the job list.
        room = bar.width() - sum(child.width() for child in bar.findChildren(QLabel)
                                 if child.isVisible() and child.text() != bar.currentMessage())
        shown = bar.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight,
                                             max(120, room - 40))
        bar.showMessage(shown)
        bar.setToolTip(f"{text}\n(latest job; Jobs ▸ Job list keeps them all)"
                       if shown != text else "Latest job; Jobs ▸ Job list keeps them all")


def add_icons(window) -> None:
    """Icons on the main actions: menus and the tabs' main buttons."""
    w = window
    names = {"&Open…": "open", "Open &sample set": "sample", "&Save project": "save",
             "&Export table in view…": "export", "&Quit": "quit",
             "&Cancel running jobs": "cancel", "&About e5desk": "help"}
    for action in w.findChildren(QAction):
        if action.text() in names:
            action.setIcon(icon(names[action.text()]))
    w.workbench.run_button.setIcon(icon("score"))
    w.map_view.compute.setIcon(icon("map"))
    w.cancel_button.setIcon(icon("cancel"))


def first_start_layout(window) -> None:
    """No saved layout: on a small screen the sentence-sets dock starts as a bar, so the
    tabs get the height (Scores shows its results); the model dock stays narrow."""
    screen = window.screen() or QApplication.primaryScreen()
    small = screen is None or screen.availableGeometry().height() <= SMALL_SCREEN_HEIGHT
    saved = window.settings.value("window/state") is not None
    for dock in (window.model_dock, window.sets_dock):
        dock.restore_collapsed(default=small and dock is window.sets_dock and not saved)
    if not saved:
        window.resizeDocks([window.model_dock], [250], Qt.Orientation.Horizontal)
