"""Progress on stderr for the CLI, the Python API and the first-run model conversion: a tqdm
bar on a terminal; elsewhere (a log file, a pipe, a notebook) one line every few seconds
with the stage, done/total, rate and elapsed time, also while a long step reports nothing
(a heartbeat thread), so a job that runs for minutes is never silent."""

from __future__ import annotations

import os
import sys
import threading
import time

EVERY = 5.0  # seconds between lines when stderr is not a terminal


def _interval() -> float:
    try:
        return max(0.01, float(os.environ.get("E5DESK_PROGRESS_SECONDS", EVERY)))
    except ValueError:
        return EVERY


class ProgressLine:
    """``progress(done, total)`` on stderr; a context manager (closing stops the thread)."""

    def __init__(self, desc: str, unit: str = "text", stream=None) -> None:
        self.desc, self.unit = desc, unit
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.bar = None
        self.done = self.total = 0
        self.postfix = ""
        self.start = self.last = time.monotonic()
        self.printed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> ProgressLine:
        return self

    def set_postfix(self, text: str) -> None:
        self.postfix = text

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            from tqdm import tqdm

            if self.bar is None:
                self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=self.stream,
                                leave=False)
            self.bar.total, self.bar.n = total, done
            if self.postfix:
                self.bar.set_postfix_str(self.postfix, refresh=False)
            self.bar.refresh()
            return
        with self._lock:
            self.done, self.total = done, total
        if self._thread is None:
            self._thread = threading.Thread(target=self._beat, daemon=True,
                                            name="e5desk-progress")
            self._thread.start()
        if time.monotonic() - self.last >= _interval():
            self._line()

    def _beat(self) -> None:
        while not self._stop.wait(_interval() / 2):
            if time.monotonic() - self.last >= _interval():
                self._line()

    def _line(self, final: bool = False) -> None:
        with self._lock:
            now = time.monotonic()
            elapsed = now - self.start
            done, total = self.done, self.total
            self.last = now
            rate = done / elapsed if elapsed > 0 else 0.0
            share = f" ({100 * done / total:.0f} %)" if total else ""
            text = (f"e5desk: {self.desc}: {done:,}/{total:,} {self.unit}s{share}, "
                    f"{rate:,.1f} {self.unit}s/s, {elapsed:.0f} s"
                    + (f", {self.postfix}" if self.postfix else "")
                    + (" (done)" if final else ""))
            try:
                print(text, file=self.stream, flush=True)
            except (OSError, ValueError):  # a closed pipe: progress is not worth a crash
                pass
            self.printed = True

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
        if self.bar is not None:
            self.bar.close()
        elif self.printed:  # a job long enough to report: say it ended
            self._line(final=True)

    def __exit__(self, *exc) -> None:
        self.close()
