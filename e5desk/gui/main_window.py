"""Main window: docks for model and sentence sets, the workbench in the centre, menus,
status bar with model/device/memory and a progress bar with a cancel button."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QListWidget, QMainWindow, QMessageBox, QTabWidget

from e5desk import __version__
from e5desk.core.options import DEFAULT_ENGINE
from e5desk.gui.chrome import Guidance, JobList, add_icons, first_start_layout
from e5desk.gui.docks import CollapsibleDock
from e5desk.gui.map import MapView
from e5desk.gui.model_panel import ModelPanel
from e5desk.gui.pair import install_pair_view
from e5desk.gui.projects import ProjectController
from e5desk.gui.session import Session
from e5desk.gui.sets_panel import SetsPanel
from e5desk.gui.tables import ResultTable
from e5desk.gui.translations import TranslationsView
from e5desk.gui.window_files import FileActions
from e5desk.gui.window_menus import StatusBar, build_menus
from e5desk.gui.workbench import Workbench
from e5desk.gui.workers import JobRunner


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings("e5desk", "e5desk")
        ResultTable.settings = self.settings  # result tables remember their column widths
        self.setAcceptDrops(True)
        self.runner = JobRunner(self)
        self.session = Session(self.runner, self)

        self.workbench = Workbench(self.session, selected_rows=lambda: self.sets.selected_rows())
        self.tabs = QTabWidget()
        self.tabs.addTab(self.workbench, "Scores")
        self.map_view = MapView(self.session)
        self.tabs.addTab(self.map_view, "Map")
        self.translations = TranslationsView(self.session)
        self.tabs.addTab(self.translations, "Translations")
        self.setCentralWidget(self.tabs)

        self.model_panel = ModelPanel(self.session)
        self.sets = SetsPanel(self.session)
        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        self.model_dock = self._dock("Model", self.model_panel,
                                     Qt.DockWidgetArea.LeftDockWidgetArea)
        self.sets_dock = self._dock("Sentence sets", self.sets,
                                    Qt.DockWidgetArea.BottomDockWidgetArea)
        self.problems_dock = self._dock("Load problems", self.problems,
                                        Qt.DockWidgetArea.BottomDockWidgetArea)
        self.problems_dock.hide()

        self.files = FileActions(self)
        self.project = ProjectController(self.session, self._view_state, self.files.user_work,
                                         self)
        self.confirm_close = True  # ask before closing with unsaved work (tests turn it off)

        self.status_bar = StatusBar(self)
        build_menus(self)
        self._connect()
        self.pair_dock = install_pair_view(self)  # opened by the views' Why? buttons
        self._restore()
        self.jobs = JobList(self)  # the status bar shows the newest job; Jobs menu: all
        self.guidance = Guidance(self)  # empty tabs say what to do next
        add_icons(self)
        first_start_layout(self)

    # -- construction -----------------------------------------------------------------
    def _dock(self, title: str, widget, area) -> CollapsibleDock:
        # Scrolls vertically only and collapses to a bar: fits a small screen.
        dock = CollapsibleDock(title, widget, self, self.settings)
        self.addDockWidget(area, dock)
        return dock

    def _connect(self) -> None:
        self.runner.message.connect(self.show_status)
        self.session.error.connect(self.show_error)
        self.session.model_failed.connect(self.show_error)
        self.session.model_changed.connect(self._model_loaded)
        self.session.load_problems.connect(self._problems)
        self.workbench.status.connect(self.show_status)
        self.model_panel.status.connect(self.show_status)
        self.map_view.status.connect(self.show_status)
        self.translations.status.connect(self.show_status)
        self.translations.show_on_map.connect(self.map_view.highlight_rows)
        self.sets.open_requested.connect(self.files.open_dialog)
        self.project.title_changed.connect(self._update_title)
        self.project.error.connect(self.show_error)
        self.project.saved.connect(lambda path: self.show_status(f"Saved {path}"))
        self.project.opened.connect(self._apply_view_state)
        self.map_view.changed.connect(self.project.mark_dirty)
        self.map_view.set_query_source(self.workbench.queries.toPlainText)

    # -- settings ---------------------------------------------------------------------
    def _fit_to_screen(self) -> None:
        """First start: nine tenths of the screen the window opens on, centred (maximised
        on screens of 1366 x 768 or less); later starts restore the saved geometry."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            self.resize(1280, 820)
            return
        area = screen.availableGeometry()
        if area.width() <= 1366 or area.height() <= 768:
            self.setGeometry(area)
            self.setWindowState(self.windowState() | Qt.WindowState.WindowMaximized)
            return
        self.resize(int(area.width() * 0.9), int(area.height() * 0.9))
        self.move(area.center() - self.rect().center())

    def _restore(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self._fit_to_screen()
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        self.files.fill_recent()
        self._update_title()

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.project.title()} — e5desk {__version__}")

    def _view_state(self) -> tuple[dict, dict]:
        arrays, map_settings = self.map_view.state()
        settings = {"tab": self.tabs.currentIndex(), "scores": self.workbench.view_settings(),
                    "map": map_settings}
        return arrays, settings

    def _apply_view_state(self, settings: dict) -> None:
        part = lambda key: settings.get(key) if isinstance(settings.get(key), dict) else {}  # noqa: E731
        self.workbench.apply_settings(part("scores"))
        self.map_view.apply_settings(part("map"))
        tab = settings.get("tab", 0)  # an index; a damaged or foreign file may hold anything
        if isinstance(tab, int) and not isinstance(tab, bool) and 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.confirm_close and self.project.dirty and self.files.user_work():
            answer = QMessageBox.question(
                self, "e5desk", "Save your work as a project before closing?",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel)
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Save and not self.files.save_and_wait():
                event.ignore()
                return
        self.project.discard_autosave()
        self.serve_switch.close()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.runner.cancel_all()
        self.runner.wait(5000)
        self.session.close()
        super().closeEvent(event)

    # -- actions ----------------------------------------------------------------------
    def start(self, model: str | None = None, files=(), sample: bool = True,
              device: str = "auto", precision: str = "auto", engine: str = DEFAULT_ENGINE) -> None:
        """Begin background work: model load, device list, files or the bundled sample."""
        spec = model or self.settings.value("model/last") or None
        self.session.load_model(spec, device=device, precision=precision, engine=engine)
        self.model_panel.refresh_models()
        if files:
            self.open_files(files, ask_columns=False)
            self.offer_recovery()
        else:
            self.offer_recovery(otherwise=self.open_sample if sample else None)

    # File menu work lives in FileActions (gui/window_files.py); these names are the
    # window's own API (app.py, tests, the empty states' buttons).
    def open_dialog(self) -> None:
        self.files.open_dialog()

    def open_files(self, paths, ask_columns: bool = True, **options) -> None:
        self.files.open_files(paths, ask_columns, **options)

    def open_sample(self) -> None:
        self.files.open_sample()

    def import_vectors(self, path) -> None:
        self.files.import_vectors(path)

    def open_with_vectors(self, path, vectors) -> None:
        self.files.open_with_vectors(path, vectors)

    def offer_recovery(self, otherwise=None) -> None:
        self.files.offer_recovery(otherwise)

    def table_in_view(self):
        """The result table Ctrl+E acts on: the focused result table, else the one of the
        tab in view (its sub-tab in view); None when the tab has no table."""
        widget = QApplication.focusWidget()
        while widget is not None:
            if isinstance(widget, ResultTable) and widget.isVisible():
                return widget
            widget = widget.parentWidget()
        tab = self.tabs.currentWidget()
        return tab.current_table() if hasattr(tab, "current_table") else None

    def export_table(self, path=None):
        """Export the result table in view to CSV (asks where unless ``path``)."""
        table = self.table_in_view()
        if table is None:
            self.show_status("No result table in view to export.")
            return None
        return table.export_csv(path or None)

    def copy_table(self) -> None:
        table = self.table_in_view()
        if table is None:
            self.show_status("No result table in view to copy.")
        else:
            table.copy_rows()

    def find_sentences(self) -> None:
        self.sets_dock.show()
        self.sets.focus_search()

    # -- drag and drop ----------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_files(paths)
            event.acceptProposedAction()

    # -- feedback ---------------------------------------------------------------------
    def show_status(self, message: str) -> None:
        if hasattr(self, "jobs"):
            self.jobs.note(message)  # kept in the job list; the newest shows
        else:
            self.statusBar().showMessage(message, 8000)

    def show_error(self, message: str) -> None:
        self.show_status(message)
        box = QMessageBox(QMessageBox.Icon.Warning, "e5desk", message,
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("errorDialog")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # non-blocking

    def _problems(self, path: str, messages: list, skipped: bool) -> None:
        """Notes (encoding guessed, languages detected) are listed; skipped rows also
        bring the report forward."""
        self.problems.addItem(f"{path}:")
        for m in messages:
            self.problems.addItem(f"    {m}")
        if skipped:
            self.problems_dock.show()
        else:
            self.show_status(f"{Path(path).name}: {messages[0]} (see View ▸ Load problems)")

    def _model_loaded(self) -> None:
        enc = self.session.encoder
        self.model_label.setText(f"model: {enc.source.name} · {enc.device}")
        self.settings.setValue("model/last", self.session.model_spec or "")
        self.show_status(f"Loaded {enc.describe()}")

    def about(self) -> None:
        QMessageBox.about(self, "About e5desk", html.escape(
            f"e5desk {__version__}: an offline explorer for multilingual E5 embeddings. "
            "Scores are cosine × 100, as in the E5 model cards."))
