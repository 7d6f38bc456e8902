"""The window's File menu work: open (projects, batch folders, files with a column choice,
sentence files), import vectors, save projects, recent files and crash recovery. What an
opened path is, is decided by ``workflows.open_paths`` (Qt-free, tested without a window);
this class asks the user (dialogs) and starts the jobs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from e5desk.gui.projects import ProjectController
from e5desk.workflows import open_paths
from e5desk.workflows.open_paths import OPEN_FILTER


class FileActions:
    """Open and save for a MainWindow (its session, project controller and settings)."""

    def __init__(self, window) -> None:
        self.window = window

    @property
    def session(self):
        return self.window.session

    @property
    def project(self) -> ProjectController:
        return self.window.project

    # -- recent files -----------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.window.settings.value("recent/files", [])
        return [value] if isinstance(value, str) else list(value or [])

    def remember(self, paths) -> None:
        self.window.settings.setValue("recent/files",
                                      open_paths.remember(self.recent_files(), paths))
        self.fill_recent()

    def fill_recent(self) -> None:
        menu = self.window.recent_menu
        menu.clear()
        for path in self.recent_files():
            action = menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_files([p]))
        menu.setEnabled(bool(self.recent_files()))

    # -- opening ----------------------------------------------------------------------
    def open_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.window, "Open sentence sets", "",
                                                OPEN_FILTER)
        if paths:
            self.open_files(paths)

    def open_files(self, paths, ask_columns: bool = True, **options) -> None:
        """Open projects and sentence sets; CSV/TSV/JSONL first show the column mapping
        (unless ``ask_columns`` is off or the user chose not to be asked)."""
        self.remember(paths)
        ask = ask_columns and not options and self.window.settings.value(
            "open/ask_columns", True, type=bool)
        plan = open_paths.plan_open(paths, ask_columns=ask)
        for step in plan.steps:
            if step.kind == "project":
                self.project.open(step.path)
            elif step.kind == "batch":
                self.open_batch(step.path)
            else:
                self.ask_columns(step.path, step.preview)
        if plan.files:
            self.session.open_files(plan.files, **options)

    def open_batch(self, folder) -> None:
        """An `e5desk batch` output folder: its stored vectors, never recomputed; refused
        with the reason when another model (or model setting) than the loaded one made them."""
        def done(imported) -> None:
            enc = self.session.encoder
            reason = enc is not None and open_paths.batch_refusal(
                folder, imported.provenance, enc.model_id, enc.dim)
            if reason:
                self.window.show_error(reason)
                return
            self.session.import_vectors(imported)

        self.session.runner.start(f"Opening {Path(folder).name}",
                                  lambda p, c: open_paths.open_batch(folder, p, c), done,
                                  on_error=self.window.show_error)

    def ask_columns(self, path, preview) -> None:
        """The column dialog for ``path``; the file opens when the user accepts."""
        from e5desk.gui.column_dialog import ColumnDialog

        dialog = ColumnDialog(preview, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.window.column_dialog = dialog

        def accepted() -> None:
            if dialog.always.isChecked():
                self.window.settings.setValue("open/ask_columns", False)
            self.session.open_files([path], **dialog.options())

        dialog.accepted.connect(accepted)
        dialog.open()

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import vectors", "",
                                              open_paths.VECTORS_FILTER)
        if path:
            self.import_vectors(path)

    def import_vectors(self, path) -> None:
        """Vectors computed elsewhere (Projector vectors.tsv + metadata.tsv beside it, .npy,
        or Parquet from e5desk export) become the loaded set, ready for the map."""
        from e5desk.core.store.exports import import_vectors

        self.session.runner.start(f"Importing {Path(path).name}",
                                  lambda p, c: import_vectors(Path(path)),
                                  self.session.import_vectors, on_error=self.window.show_error)

    def open_with_vectors_dialog(self) -> None:
        """A sentence file, then the vectors computed elsewhere for it (row i = sentence i)."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open sentences", "", OPEN_FILTER)
        if not path:
            return
        vectors, _ = QFileDialog.getOpenFileName(
            self.window, f"Vectors for {Path(path).name}", str(Path(path).parent),
            open_paths.PAIRED_VECTORS_FILTER)
        if vectors:
            self.open_with_vectors(path, vectors)

    def open_with_vectors(self, path, vectors) -> None:
        """``e5desk FILE --vectors V.npy``: the file's sentences with the given vectors (no
        embedding); checked first (rows, finite, not zero), refused with the reason."""
        from e5desk.core.vectors_import import load_with_vectors

        self.remember([path])
        self.session.runner.start(f"Opening {Path(path).name} with {Path(vectors).name}",
                                  lambda p, c: load_with_vectors(path, vectors, p, c),
                                  self.session.import_vectors, on_error=self.window.show_error)

    def open_sample(self) -> None:
        from e5desk.core.resources import resource_path

        self.session.open_files([resource_path("samples", "phrases.csv")])

    # -- projects ---------------------------------------------------------------------
    def save_project(self) -> None:
        if not self.project.save():
            self.save_project_as()

    def save_project_as(self) -> None:
        start = str(self.project.path or Path.home() / "untitled.e5desk")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save project", start,
                                              "e5desk projects (*.e5desk)")
        if path:
            self.project.save(path)
            self.remember([open_paths.project_path(path)])

    def save_and_wait(self) -> bool:
        if self.project.path is None:
            self.save_project_as()
        elif not self.project.save():
            return False
        self.window.runner.wait(60_000)
        return not self.project.dirty

    def user_work(self) -> bool:
        """Anything beyond the bundled sample (that one needs no saving)."""
        return open_paths.is_user_work(self.project.path,
                                       (s.source for s in self.session.sets))

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
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                          self.window)
        box.setObjectName("recoveryDialog")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.window.recovery_box = box

        def answered(_code) -> None:
            if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
                self.project.open(newest, recovered=True)
            else:
                ProjectController.discard(newest)
                if otherwise:
                    otherwise()

        box.finished.connect(answered)
        box.open()  # non-blocking
