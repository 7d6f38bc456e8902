"""Run core jobs on a thread pool; relay progress, results, errors and cancel as Qt signals.

A job is ``fn(progress, cancelled) -> result`` (see ``e5desk.core.jobs``). Signals are
emitted from the worker thread and delivered queued to the GUI thread, so slots never
block it. Errors that are ``E5DeskError`` reach the user as their message; anything else
is logged with its traceback and shown as a short message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from e5desk.core.errors import Cancelled, E5DeskError

log = logging.getLogger(__name__)


class JobSignals(QObject):
    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()


class Job(QRunnable):
    """One background job. ``cancel()`` is safe from any thread."""

    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.name = name
        self.fn = fn
        self.signals = JobSignals()
        self._cancel = threading.Event()
        self._last_emit = 0.0
        self.setAutoDelete(False)

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def _progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - self._last_emit > 0.05:  # ~20 updates/s is plenty
            self._last_emit = now
            if not _emit(self.signals.progress, int(done), int(total)):
                self._cancel.set()  # the window is gone: stop working for it

    def run(self) -> None:
        signals = self.signals
        try:
            result = self.fn(self._progress, self.is_cancelled)
        except Cancelled:
            _emit(signals.cancelled)
        except E5DeskError as exc:
            _emit(signals.failed, str(exc))
        except Exception as exc:  # noqa: BLE001 - a worker must never die silently
            log.exception("job %r failed", self.name)
            _emit(signals.failed, f"{self.name} failed: {exc} (details in the log file)")
        else:
            if self._cancel.is_set():
                _emit(signals.cancelled)
            else:
                _emit(signals.finished, result)


def _emit(signal, *args) -> bool:
    """Emit, unless the application is quitting and took the signal's object with it (a job
    still running at exit then ends quietly instead of printing a traceback)."""
    try:
        signal.emit(*args)
    except RuntimeError as exc:
        if "deleted" not in str(exc):
            raise
        log.info("a background job ended after the window closed")
        return False
    return True


class JobRunner(QObject):
    """Starts jobs, remembers the running ones, and reports activity for a progress bar."""

    busy_changed = Signal(bool)
    progress = Signal(str, int, int)  # job name, done, total
    message = Signal(str)
    failed = Signal(str, str)  # job name, message: every failure, whoever handles it
    started = Signal(str)  # job name
    ended = Signal(str, str)  # job name, "done" / "failed" / "cancelled" (the job list)

    # Most jobs wait on a child process (model, embedding, map) or on files; with two
    # threads a sample file queued behind the model start and the model list (seen: +2 s
    # to the first scores), so a few more threads than cores.
    def __init__(self, parent: QObject | None = None, threads: int = 4) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self.running: list[Job] = []

    def start(self, name: str, fn: Callable[..., Any],
              on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[str], None] | None = None,
              on_cancel: Callable[[], None] | None = None) -> Job:
        job = Job(name, fn)
        job.signals.progress.connect(lambda d, t: self.progress.emit(name, d, t))
        job.signals.finished.connect(lambda r: (self._end(job, "done"), on_done and on_done(r)))
        job.signals.failed.connect(
            lambda m: (self._end(job, "failed"), self._error(name, m, on_error)))
        job.signals.cancelled.connect(
            lambda: (self._end(job, "cancelled"), self.message.emit(f"{name}: cancelled"),
                     on_cancel and on_cancel()))
        self.running.append(job)
        self.started.emit(name)
        self.busy_changed.emit(True)
        self.pool.start(job)
        return job

    def _error(self, name: str, message: str, on_error: Callable[[str], None] | None) -> None:
        self.failed.emit(name, message)
        if on_error:
            on_error(message)
        else:
            self.message.emit(message)

    def _end(self, job: Job, state: str = "done") -> None:
        if job in self.running:
            self.running.remove(job)
            self.ended.emit(job.name, state)
        if not self.running:
            self.busy_changed.emit(False)

    def cancel_all(self) -> None:
        for job in list(self.running):
            job.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)


class GuiThreadCollector(QObject):
    """Python's cyclic garbage collector runs in whichever thread happens to allocate. When
    it runs down Qt objects inside a job's worker thread, their destructors wait for the GIL
    while the GUI thread, deleting others, waits for their lock: a deadlock (seen in a test
    run, py-spy: gc_collect_main in a JobRunner thread). So the window turns automatic
    collection off and collects on the GUI thread, by the same generation thresholds."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 500) -> None:
        import gc

        from PySide6.QtCore import QTimer

        super().__init__(parent)
        gc.disable()
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self.collect)
        self.timer.start()

    def collect(self) -> int:
        import gc

        counts, limits = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > limits[generation]:
                return gc.collect(generation)
        return 0

