"""What each tab says when it has nothing to show, and the job list behind the status bar.
Qt-free: the texts and the rules for when they show, testable without a window."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EmptyText:
    title: str
    text: str
    actions: tuple[tuple[str, str], ...]  # (button text, action key)


NO_SENTENCES = EmptyText(
    "No sentences loaded yet",
    "Open sentence sets (text, CSV/TSV, JSON lines, TMX, XLIFF, PO) or drop files on the "
    "window. The bundled sample has 64 phrases in 10 languages.",
    (("Open files…", "open"), ("Open the sample", "sample")))


def scores_empty(n_sets: int) -> EmptyText | None:
    return NO_SENTENCES if n_sets == 0 else None


def map_empty(n_sets: int, has_map: bool, busy: bool = False) -> EmptyText | None:
    if n_sets == 0:
        return NO_SENTENCES
    if has_map:
        return None
    if busy:
        return EmptyText("Computing the map…", "A quick preview shows first; the status bar "
                         "shows the progress and can cancel.", ())
    return EmptyText("No map yet",
                     "The map places every sentence by meaning: close points say similar "
                     "things, in any language. Clusters get labels; click a point to see its "
                     "nearest sentence in every language.",
                     (("Compute map", "map"),))


def translations_empty(n_sets: int, n_languages: int) -> EmptyText | None:
    if n_sets == 0:
        return NO_SENTENCES
    if n_languages < 2:
        return EmptyText("One language only",
                         "Translations need sentences in two languages: open a parallel "
                         "set (TMX, XLIFF, PO catalogues, a CSV with a column per language) "
                         "or a second file in another language.",
                         (("Open files…", "open"),))
    return None


TABLE_HINTS = {
    "learner": "Type a sentence above and tick target languages: its closest sentence in "
               "each language is listed here.",
    "suspects": "Pick two languages above and press Check: pairs whose sides match other "
                "sentences better are listed first.",
    "mine": "Pick two languages (a source and a target set) above and press Mine: likely "
            "translation pairs are listed here.",
    "scores": "Type a query above and press Score: the closest passages are listed here.",
}


@dataclass
class JobEntry:
    name: str
    started: float = field(default_factory=time.time)
    ended: float | None = None
    state: str = "running"  # running, done, failed, cancelled
    message: str = ""

    def line(self) -> str:
        clock = time.strftime("%H:%M:%S", time.localtime(self.started))
        took = "" if self.ended is None else f" ({self.ended - self.started:.1f} s)"
        note = f": {self.message}" if self.message else ""
        return f"{clock}  {self.name} — {self.state}{took}{note}"


class JobLog:
    """Every job of the session, newest last; ``latest()`` is what the status bar shows
    (the newest event wins: an older job's message never stays over a newer job)."""

    def __init__(self, keep: int = 200) -> None:
        self.entries: list[JobEntry] = []
        self.keep = keep

    def started(self, name: str) -> JobEntry:
        entry = JobEntry(name)
        self.entries = (self.entries + [entry])[-self.keep:]
        return entry

    def ended(self, name: str, state: str, message: str = "") -> JobEntry:
        for entry in reversed(self.entries):
            if entry.name == name and entry.state == "running":
                entry.ended, entry.state = time.time(), state
                entry.message = message or entry.message
                return entry
        entry = self.started(name)
        entry.ended, entry.state, entry.message = time.time(), state, message
        return entry

    def note(self, message: str) -> None:
        """A message from a view: it belongs to the newest finished job (or stands alone)."""
        for entry in reversed(self.entries):
            if entry.state != "running":
                if not entry.message or entry.ended and time.time() - entry.ended < 2:
                    entry.message = message
                    return
                break
        entry = self.started("note")
        entry.ended, entry.state, entry.message = entry.started, "done", message

    def latest_text(self) -> str:
        running = [e for e in self.entries if e.state == "running"]
        if running:
            return f"{running[-1].name}…"
        last = self.entries[-1] if self.entries else None
        if last is None:
            return ""
        return last.message or f"{last.name}: {last.state}"
