"""TranslationsView: the four sub-tabs in one tab, answering for their controls by name."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from e5desk.gui.session import Session
from e5desk.gui.tables import ResultTable
from e5desk.gui.translations.evaluation import EvaluationTab
from e5desk.gui.translations.learner import LearnerTab
from e5desk.gui.translations.mining import MiningTab
from e5desk.gui.translations.suspects import SuspectsTab


class TranslationsView(QWidget):
    status = Signal(str)
    show_on_map = Signal(object)  # row indices to highlight
    pair_requested = Signal(object)  # a pair view request (e5desk.gui.pair.PairRequest)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.learner = LearnerTab(session)
        self.suspects = SuspectsTab(session)
        self.mining = MiningTab(session)
        self.evaluation = EvaluationTab(session)
        self.tabs = tabs = QTabWidget()
        tabs.addTab(self.learner, "How is it said?")
        tabs.addTab(self.suspects, "Suspect translations")
        tabs.addTab(self.mining, "Mine pairs")
        tabs.addTab(self.evaluation, "Evaluation")
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        self._parts = (self.learner, self.suspects, self.mining, self.evaluation)
        for part in self._parts:
            part.status.connect(self.status)
        self.learner.show_on_map.connect(self.show_on_map)
        for part in (self.learner, self.suspects):
            part.pair_requested.connect(self.pair_requested)
        self._tables = [self.learner_table, self.suspect_table, self.mine_table,
                        self.eval_table]
        for table in self._tables:
            table.status.connect(self.status)
        session.sets_changed.connect(self._refresh_choices)

    def __getattr__(self, name: str):
        """A sub-tab's control or action by its name (``eval_model``, ``check``, ...)."""
        if not name.startswith("__"):
            for part in self.__dict__.get("_parts", ()):
                if name in part.__dict__ or hasattr(type(part), name) and \
                        not hasattr(QWidget, name):
                    return getattr(part, name)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def current_table(self) -> ResultTable:
        """The result table of the sub-tab in view (for the window's Ctrl+E)."""
        return self._tables[self.tabs.currentIndex()]

    def _refresh_choices(self) -> None:
        for part in (self.learner, self.suspects, self.mining):
            part.refresh_choices()
