"""Main window: docks for model and sentence sets, the workbench in the centre, menus,
status bar with model/device/memory and a progress bar with a cancel button."""

from __future__ import annotations

import html
import os
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTabWidget,
)

from e5desk import __version__
from e5desk.core.options import DEFAULT_ENGINE
from e5desk.gui.chrome import Guidance, JobList, add_icons, first_start_layout
from e5desk.gui.docks import CollapsibleDock
from e5desk.gui.finetune import open_finetune
from e5desk.gui.map import MapView
from e5desk.gui.model_panel import ModelPanel
from e5desk.gui.pair import install_pair_view
from e5desk.gui.projects import ProjectController
from e5desk.gui.serve_switch import ServeSwitch
from e5desk.gui.session import Session
from e5desk.gui.sets_panel import SetsPanel
from e5desk.gui.tables import ResultTable
from e5desk.gui.translations import TranslationsView
from e5desk.gui.workbench import Workbench
from e5desk.gui.workers import JobRunner

OPEN_FILTER = ("Projects and sentence sets (*.e5desk *.txt *.csv *.tsv *.jsonl *.json *.tmx *.xlf "
               "*.xliff *.po *.pot);;e5desk projects (*.e5desk);;"
               "e5desk batch output (_e5desk_batch.json);;"
               "Sentence sets (*.txt *.csv *.tsv *.jsonl *.json *.tmx *.xlf *.xliff *.po *.pot);;"
               "All files (*)")
MAX_RECENT = 10


def resident_memory_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, AttributeError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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

        self.project = ProjectController(self.session, self._view_state, self._user_work, self)
        self.confirm_close = True  # ask before closing with unsaved work (tests turn it off)

        self._build_status_bar()
        self._build_menus()
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

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.model_label = QLabel("model: loading…")
        self.memory_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Cancel running jobs (Esc)")
        self.cancel_button.hide()
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.model_label)
        bar.addPermanentWidget(self.memory_label)
        self._memory_timer = QTimer(self, interval=2000)
        self._memory_timer.timeout.connect(self._update_memory)
        self._memory_timer.start()
        self._update_memory()

    def _build_menus(self) -> None:
        file = self.menuBar().addMenu("&File")
        self._action(file, "&Open…", QKeySequence.StandardKey.Open, self.open_dialog)
        self.recent_menu = file.addMenu("Open &recent")
        self._action(file, "Open &sample set", None, self.open_sample)
        self._action(file, "&Import vectors…", None, self.import_dialog)
        self._action(file, "Open with &vectors…", None, self.open_with_vectors_dialog)
        self.join_action = self._action(file, "&Join translations across files", None,
                                        lambda on: self.session.set_join(bool(on)))
        self.join_action.setCheckable(True)
        self.join_action.setChecked(self.session.join)
        self.join_action.setToolTip("Files opened together share translation groups keyed by "
                                    "source text (PO msgctxt + msgid, TMX/XLIFF source); the "
                                    "shared source sentence is listed once")
        self.session.sets_changed.connect(
            lambda: self.join_action.setChecked(self.session.join))
        file.addSeparator()
        self._action(file, "&Save project", QKeySequence.StandardKey.Save, self.save_project)
        self._action(file, "Save project &as…", QKeySequence.StandardKey.SaveAs,
                     self.save_project_as)
        file.addSeparator()
        self._action(file, "&Export table in view…", "Ctrl+E", self.export_table)
        self.serve_switch = ServeSwitch(self, file)
        file.addSeparator()
        self._action(file, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        edit = self.menuBar().addMenu("&Edit")
        self._action(edit, "&Find sentences", QKeySequence.StandardKey.Find, self._find)
        self._action(edit, "&Copy table rows", "Ctrl+Shift+C", self.copy_table)
        jobs = self.jobs_menu = self.menuBar().addMenu("&Jobs")
        self._action(jobs, "&Cancel running jobs", "Esc", self.runner.cancel_all)
        tools = self.menuBar().addMenu("&Tools")
        self._action(tools, "&Fine-tune…", None, lambda: open_finetune(self))
        view = self.menuBar().addMenu("&View")
        for dock in (self.model_dock, self.sets_dock, self.problems_dock):
            view.addAction(dock.toggleViewAction())
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&About e5desk", None, self._about)

    def _action(self, menu, text: str, shortcut, slot) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _connect(self) -> None:
        self.runner.busy_changed.connect(self._busy)
        self.runner.progress.connect(self._progress)
        self.runner.message.connect(self.show_status)
        self.cancel_button.clicked.connect(self.runner.cancel_all)
        self.session.error.connect(self.show_error)
        self.session.model_failed.connect(self.show_error)
        self.session.model_changed.connect(self._model_loaded)
        self.session.load_problems.connect(self._problems)
        self.workbench.status.connect(self.show_status)
        self.model_panel.status.connect(self.show_status)
        self.map_view.status.connect(self.show_status)
        self.translations.status.connect(self.show_status)
        self.translations.show_on_map.connect(self.map_view.highlight_rows)
        self.sets.open_requested.connect(self.open_dialog)
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
        self._fill_recent()
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
        if self.confirm_close and self.project.dirty and self._user_work():
            answer = QMessageBox.question(
                self, "e5desk", "Save your work as a project before closing?",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel)
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Save and not self._save_and_wait():
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

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent/files", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _remember(self, paths) -> None:
        recent = [str(Path(p).resolve()) for p in paths]
        recent += [p for p in self.recent_files() if p not in recent]
        self.settings.setValue("recent/files", recent[:MAX_RECENT])
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_files([p]))
        self.recent_menu.setEnabled(bool(self.recent_files()))

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

    def open_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open sentence sets", "", OPEN_FILTER)
        if paths:
            self.open_files(paths)

    def open_files(self, paths, ask_columns: bool = True, **options) -> None:
        """Open projects and sentence sets; CSV/TSV/JSONL first show the column mapping
        (unless ``ask_columns`` is off or the user chose not to be asked)."""
        self._remember(paths)
        ask = ask_columns and not options and self.settings.value(
            "open/ask_columns", True, type=bool)
        plain = []  # read together: their sets keep the order given
        for path in paths:
            if str(path).endswith(".e5desk"):
                self.project.open(path)
            elif self._batch_folder(path):
                self.open_batch(self._batch_folder(path))
            elif not (ask and self._ask_columns(path)):
                plain.append(path)
        if plain:
            self.session.open_files(plain, **options)

    @staticmethod
    def _batch_folder(path) -> Path | None:
        """The `e5desk batch` output folder that ``path`` is, or is a file of."""
        from e5desk.core.batch import is_batch_folder

        path = Path(path)
        if path.name == "_e5desk_batch.json" or (path.suffix == ".parquet"
                                                 and path.name.startswith("part-")):
            path = path.parent
        return path if is_batch_folder(path) else None

    def open_batch(self, folder) -> None:
        """An `e5desk batch` output folder: its stored vectors, never recomputed; refused
        with the reason when another model (or model setting) than the loaded one made them."""
        from e5desk.core.batch import load_batch, provenance_mismatch

        def done(imported) -> None:
            encoder = self.session.encoder
            reason = encoder is not None and provenance_mismatch(
                imported.provenance, encoder.model_id, encoder.dim)
            if reason:
                self.show_error(f"{Path(folder).name} was not opened: {reason}.")
                return
            self.session.import_vectors(imported)

        self.session.runner.start(f"Opening {Path(folder).name}",
                                  lambda p, c: load_batch(folder, p, c), done,
                                  on_error=self.show_error)

    def _ask_columns(self, path) -> bool:
        """Show the column dialog for ``path`` if its format has columns to choose."""
        from e5desk.core.data.columns import preview_columns
        from e5desk.core.errors import E5DeskError
        from e5desk.gui.column_dialog import ColumnDialog

        try:
            preview = preview_columns(path)
        except (E5DeskError, OSError):
            return False  # the loader will say what is wrong
        if preview is None:
            return False
        dialog = ColumnDialog(preview, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.column_dialog = dialog

        def accepted() -> None:
            if dialog.always.isChecked():
                self.settings.setValue("open/ask_columns", False)
            self.session.open_files([path], **dialog.options())

        dialog.accepted.connect(accepted)
        dialog.open()
        return True

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import vectors", "", "Vectors (*.tsv *.npy *.parquet);;All files (*)")
        if path:
            self.import_vectors(path)

    def import_vectors(self, path) -> None:
        """Vectors computed elsewhere (Projector vectors.tsv + metadata.tsv beside it, .npy,
        or Parquet from e5desk export) become the loaded set, ready for the map."""
        from e5desk.core.store.exports import import_vectors

        self.session.runner.start(f"Importing {Path(path).name}",
                                  lambda p, c: import_vectors(Path(path)),
                                  self.session.import_vectors, on_error=self.show_error)

    def open_with_vectors_dialog(self) -> None:
        """A sentence file, then the vectors computed elsewhere for it (row i = sentence i)."""
        path, _ = QFileDialog.getOpenFileName(self, "Open sentences", "", OPEN_FILTER)
        if not path:
            return
        vectors, _ = QFileDialog.getOpenFileName(
            self, f"Vectors for {Path(path).name}", str(Path(path).parent),
            "Vectors (*.npy *.parquet);;All files (*)")
        if vectors:
            self.open_with_vectors(path, vectors)

    def open_with_vectors(self, path, vectors) -> None:
        """``e5desk FILE --vectors V.npy``: the file's sentences with the given vectors (no
        embedding); checked first (rows, finite, not zero), refused with the reason."""
        from e5desk.core.vectors_import import load_with_vectors

        self._remember([path])
        self.session.runner.start(f"Opening {Path(path).name} with {Path(vectors).name}",
                                  lambda p, c: load_with_vectors(path, vectors, p, c),
                                  self.session.import_vectors, on_error=self.show_error)

    # -- projects ---------------------------------------------------------------------
    def save_project(self) -> None:
        if not self.project.save():
            self.save_project_as()

    def save_project_as(self) -> None:
        start = str(self.project.path or Path.home() / "untitled.e5desk")
        path, _ = QFileDialog.getSaveFileName(self, "Save project", start,
                                              "e5desk projects (*.e5desk)")
        if path:
            self.project.save(path)
            self._remember([path if path.endswith(".e5desk") else path + ".e5desk"])

    def _save_and_wait(self) -> bool:
        if self.project.path is None:
            self.save_project_as()
        elif not self.project.save():
            return False
        self.runner.wait(60_000)
        return not self.project.dirty

    def _user_work(self) -> bool:
        """Anything beyond the bundled sample (that one needs no saving)."""
        from e5desk.core.resources import resource_path

        sample = str(resource_path("samples", "phrases.csv"))
        return self.project.path is not None or any(
            str(s.source) != sample for s in self.session.sets)

    def offer_recovery(self, otherwise=None) -> None:
        """After a crash: offer the autosaved work of the session that did not close;
        ``otherwise`` runs when there is none or the user declines."""
        orphans = ProjectController.orphaned_autosaves()
        if not orphans:
            if otherwise:
                otherwise()
            return
        newest = max(orphans, key=lambda p: p.stat().st_mtime)
        for old in orphans:
            if old != newest:
                ProjectController.discard(old)
        box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work?",
                          "e5desk did not close normally last time. Recover the work "
                          f"autosaved at {ProjectController.describe_autosave(newest)}?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("recoveryDialog")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.recovery_box = box

        def answered(_code) -> None:
            if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
                self.project.open(newest, recovered=True)
            else:
                ProjectController.discard(newest)
                if otherwise:
                    otherwise()

        box.finished.connect(answered)
        box.open()  # non-blocking

    def open_sample(self) -> None:
        from e5desk.core.resources import resource_path

        self.session.open_files([resource_path("samples", "phrases.csv")])

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

    def _find(self) -> None:
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

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)

    def _progress(self, name: str, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{name}: %p%")

    def _model_loaded(self) -> None:
        enc = self.session.encoder
        self.model_label.setText(f"model: {enc.source.name} · {enc.device}")
        self.settings.setValue("model/last", self.session.model_spec or "")
        self.show_status(f"Loaded {enc.describe()}")

    def _update_memory(self) -> None:
        self.memory_label.setText(f"memory: {resident_memory_mb():,.0f} MB")

    def _about(self) -> None:
        QMessageBox.about(self, "About e5desk", html.escape(
            f"e5desk {__version__}: an offline explorer for multilingual E5 embeddings. "
            "Scores are cosine × 100, as in the E5 model cards."))
