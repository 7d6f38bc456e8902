"""Scores of every sentence on the map to the query typed in the Scores tab, computed in the
background (core.mapping.score_text) and kept while the query and the vectors stay."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from e5desk.core.mapping import MAP_ROLE, score_text
from e5desk.gui.session import Session


class QueryScores(QObject):
    ready = Signal()  # ``scores`` now belong to the current query
    failed = Signal(str)

    def __init__(self, session: Session, map_shown: Callable[[], bool],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.map_shown = map_shown
        self.source: Callable[[], str | None] | None = None  # returns the query box's text
        self.scores: np.ndarray | None = None  # score (cos x 100) of each row to the query
        self.query: str | None = None
        self._key = None  # (query, vectors) the scores belong to
        self._job = None  # (key, job) being scored

    def query_text(self) -> str | None:
        """The first non-empty line of the query box, or None."""
        if self.source is None:
            return None
        text = self.source() or ""
        return next((line.strip() for line in text.splitlines() if line.strip()), None)

    def forget(self) -> None:
        self.scores = None
        self._key = self._job = None

    def status(self, query: str, vectors: np.ndarray) -> str | None:
        """"ready": ``scores`` are this query's; "running": it is being scored; None."""
        key = (query, id(vectors), len(vectors))
        if self.scores is not None and self._key == key:
            return "ready"
        if self._job is not None and self._job[0] == key:
            return "running"
        return None

    def start(self, query: str, vectors: np.ndarray, encoder) -> None:
        """Score in the background; ``ready`` follows unless the map went meanwhile."""
        key = (query, id(vectors), len(vectors))

        def job(progress, cancelled):
            return score_text(encoder, query, vectors)

        def done(scores) -> None:
            if self._job is None or self._job[0] != key:
                return
            self._job = None
            if self.session.vectors(MAP_ROLE) is not vectors or not self.map_shown():
                return
            self.scores, self.query, self._key = scores, query, key
            self.ready.emit()

        def failed(message: str) -> None:
            self._job = None
            self.failed.emit(message)

        self._job = (key, self.session.runner.start("Scoring the map", job, done,
                                                    on_error=failed))
