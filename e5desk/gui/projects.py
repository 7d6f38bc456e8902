"""Project files in the window: open, save (Ctrl+S), autosave and recovery after a crash.

Saving snapshots the session on the GUI thread (references only) and writes the file in a
background job; the write itself is atomic (see core.store.project). Autosave writes the
same snapshot every AUTOSAVE_MS while there are unsaved changes into the user data folder,
next to a QLockFile held for the life of the window: an autosave whose lock is free on the
next start belongs to a session that ended without closing (crash, power cut, kill), and
the user is offered to recover it. A clean close removes the autosave.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QTimer, Signal

from e5desk.core.paths import user_data_dir

AUTOSAVE_MS = 60_000
SUFFIX = ".e5desk"


_WINDOWS = itertools.count(1)


def autosave_dir() -> Path:
    folder = user_data_dir() / "autosave"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class ProjectController(QObject):
    title_changed = Signal()
    opened = Signal(dict)  # the project's view settings, for the window to apply
    saved = Signal(str)
    error = Signal(str)

    def __init__(self, session, collect_view, has_work=lambda: True,
                 parent: QObject | None = None) -> None:
        """``collect_view()`` returns (arrays, settings) of the window's views;
        ``has_work()`` says whether there is anything worth autosaving (the bundled sample
        alone is not)."""
        super().__init__(parent)
        self.session = session
        self.has_work = has_work
        self.collect_view = collect_view
        self.path: Path | None = None
        self.dirty = False
        self._autosave_pending = False
        self._saving = False
        self._keep_autosave = False
        _clean_stale_saves(autosave_dir())
        # Unique per window, not only per process and second: two windows started within
        # one second would otherwise share (and hold) one autosave and its lock.
        stem = f"session-{os.getpid()}-{int(time.time())}-{next(_WINDOWS)}"
        self.autosave_path = autosave_dir() / f"{stem}{SUFFIX}"
        self._lock = QLockFile(str(autosave_dir() / f"{stem}.lock"))
        self._lock.setStaleLockTime(0)
        self._lock.tryLock(0)
        self.timer = QTimer(self, interval=AUTOSAVE_MS)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        # Sentences changed is a change to the project; vectors computed for them are not
        # (a project just opened and embedded is not "modified").
        session.sets_changed.connect(self.mark_dirty)

    # -- state ------------------------------------------------------------------------
    def mark_dirty(self, *_args) -> None:
        self.dirty = True
        self._autosave_pending = True
        self.title_changed.emit()

    def title(self) -> str:
        name = self.path.name if self.path else "untitled"
        return f"{name}{' •' if self.dirty else ''}"

    def snapshot(self):
        arrays, settings = self.collect_view()
        return self.session.snapshot(arrays, settings)

    # -- open / save ------------------------------------------------------------------
    def open(self, path: str | Path, recovered: bool = False) -> None:
        """Open a project; ``recovered``: an orphaned autosave, opened as unsaved work
        under its original file name, and removed once it is safe in this session."""
        from e5desk.core.store.project import load_project

        path = Path(path)

        def done(project) -> None:
            settings = project.settings
            self.session.restore(project)
            if recovered:
                original = settings.get("autosave_of")
                self.path = Path(original) if original else None
                self.mark_dirty()
                self.autosave(then=lambda: _remove_autosave(path))
            else:
                self.path = path
                self.dirty = self._autosave_pending = False
            self.opened.emit(settings)
            self.title_changed.emit()
            if project.problems:
                self.error.emit(f"{path.name} opened, but some parts could not be restored: "
                                + "; ".join(project.problems[:5])
                                + (f"; … {len(project.problems) - 5} more"
                                   if len(project.problems) > 5 else ""))

        self.session.runner.start(f"Opening {path.name}", lambda p, c: load_project(path),
                                  done, on_error=self.error.emit)

    def save(self, path: str | Path | None = None) -> bool:
        """Save to ``path`` (or the current file). False when there is no file to save to."""
        from e5desk.core.store.project import save_project

        target = Path(path) if path else self.path
        if target is None:
            return False
        if target.suffix != SUFFIX:
            target = target.with_name(target.name + SUFFIX)
        project = self.snapshot()
        self._saving = True

        def done(_result) -> None:
            self._saving = False
            self.path = target
            self.dirty = False
            self.title_changed.emit()
            self.saved.emit(str(target))

        def failed(message: str) -> None:
            self._saving = False
            self.error.emit(f"Could not save {target}: {message}")

        self.session.runner.start(f"Saving {target.name}",
                                  lambda p, c: save_project(project, target), done,
                                  on_error=failed, on_cancel=lambda: setattr(self, "_saving",
                                                                            False))
        return True

    # -- autosave and recovery --------------------------------------------------------
    def autosave(self, then=None) -> None:
        if (not self._autosave_pending or self._saving or not self.session.sets
                or not self.has_work()):
            return
        from e5desk.core.store.project import save_project

        project = self.snapshot()
        project.settings = {**project.settings,
                            "autosave_of": str(self.path) if self.path else None}
        self._autosave_pending = False
        path = self.autosave_path
        self.session.runner.start("Autosave", lambda p, c: save_project(project, path),
                                  lambda _r: then() if then else None,
                                  on_error=self.error.emit)

    def discard_autosave(self) -> None:
        """On a clean close: nothing to recover next time (unless ``shutdown`` kept unsaved
        work there)."""
        if not self._keep_autosave:
            _remove_autosave(self.autosave_path)
        self._lock.unlock()

    def shutdown(self) -> bool:
        """Asked to stop without a user at hand (SIGTERM, SIGINT, logout): unsaved work is
        written to the autosave now, synchronously, and kept for the next start; with
        nothing unsaved the session ends as cleanly as a close (no recovery offer).
        True when unsaved work was kept."""
        from e5desk.core.store.project import save_project

        self._keep_autosave = False
        if self.dirty and self.session.sets and self.has_work():
            project = self.snapshot()
            project.settings = {**project.settings,
                                "autosave_of": str(self.path) if self.path else None}
            try:
                save_project(project, self.autosave_path)
                self._keep_autosave = True
            except Exception:  # noqa: BLE001 - stopping anyway: nothing more can be done
                pass
        return self._keep_autosave

    @staticmethod
    def orphaned_autosaves() -> list[Path]:
        """Autosaves of sessions that ended without closing (their lock is free)."""
        for lock_path in autosave_dir().glob("*.lock"):  # sessions that left nothing
            if not lock_path.with_suffix(SUFFIX).exists() and _lock_is_free(lock_path):
                lock_path.unlink(missing_ok=True)
        return [path for path in sorted(autosave_dir().glob(f"*{SUFFIX}"))
                if _lock_is_free(path.with_suffix(".lock"))]

    @staticmethod
    def discard(path: Path) -> None:
        _remove_autosave(path)

    @staticmethod
    def describe_autosave(path: Path) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
        return f"{stamp}, {path.stat().st_size / 2**20:.1f} MB"


def _clean_stale_saves(folder: Path) -> None:
    from e5desk.core.store.project import clean_stale_saves

    clean_stale_saves(folder)


def install_signal_handlers(app, window) -> None:
    """SIGTERM and SIGINT close the window as a normal quit does (``shutdown`` keeps unsaved
    work); a real crash still leaves the autosave and its free lock for recovery."""
    def stop(signum, _frame) -> None:
        QTimer.singleShot(0, lambda: _terminate(app, window))

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            signal.signal(sig, stop)
        except (ValueError, OSError):  # not the main thread, or not on this platform
            return
    # Python runs signal handlers only between bytecodes: a timer lets it in while Qt waits.
    timer = QTimer(app, interval=200)
    timer.timeout.connect(lambda: None)
    timer.start()
    window._signal_timer = timer


def _terminate(app, window) -> None:
    window.project.shutdown()
    window.confirm_close = False  # no dialog: nobody may be there to answer it
    window.close()
    app.quit()


def _lock_is_free(lock_path: Path) -> bool:
    """No live session holds this lock (QLockFile treats a dead holder's lock as stale)."""
    lock = QLockFile(str(lock_path))
    lock.setStaleLockTime(0)
    if not lock.tryLock(0):
        return False
    lock.unlock()
    return True


def _remove_autosave(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_suffix(".lock").unlink(missing_ok=True)
