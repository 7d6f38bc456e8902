"""Sentence sets panel: the table of loaded sentences with filters and language counts."""

from __future__ import annotations

from collections import Counter

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from e5desk.gui.session import Session
from e5desk.gui.tables import ColumnTableModel

ALL = "__all__"


class SetsPanel(QWidget):
    open_requested = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = ColumnTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by text (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.lang = QComboBox()
        self.set_filter = QComboBox()
        self.counts = QLabel("No sentence set loaded.")
        self.counts.setWordWrap(True)
        open_button = QPushButton("Open…")
        open_button.clicked.connect(self.open_requested)

        top = QHBoxLayout()
        top.addWidget(self.search, 2)
        top.addWidget(QLabel("Language:"))
        top.addWidget(self.lang, 1)
        top.addWidget(QLabel("Set:"))
        top.addWidget(self.set_filter, 1)
        top.addWidget(open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.counts)

        self._debounce = QTimer(self, singleShot=True, interval=200)
        self._debounce.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._debounce.start)
        self.lang.currentIndexChanged.connect(self.apply_filter)
        self.set_filter.currentIndexChanged.connect(self.apply_filter)
        session.sets_changed.connect(self.refresh)

    def refresh(self) -> None:
        c = self.session.combined
        if c is None:
            self.model.set_data([], [])
            self.counts.setText("No sentence set loaded.")
            return
        self.model.set_data(["text", "lang", "group", "set"],
                            [c.text, c.lang, c.group, c.set_name])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i in (1, 2, 3):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        langs = Counter(str(x or "?") for x in c.lang)
        self._fill(self.lang, "All languages", sorted(langs))
        self._fill(self.set_filter, "All sets", sorted(set(map(str, c.set_name))))
        parts = [f"{lang} {n:,}" for lang, n in langs.most_common()]
        self.counts.setText(f"{len(c):,} sentences in {len(self.session.sets)} set(s), "
                            f"{len(langs)} languages: " + ", ".join(parts))
        self.apply_filter()

    @staticmethod
    def _fill(combo: QComboBox, label: str, values: list[str]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(label, ALL)
        for v in values:
            combo.addItem(v, v)
        i = combo.findData(current)
        combo.setCurrentIndex(max(i, 0))
        combo.blockSignals(False)

    def apply_filter(self) -> None:
        c = self.session.combined
        if c is None:
            return
        keep = np.ones(len(c), dtype=bool)
        lang, name = self.lang.currentData(), self.set_filter.currentData()
        if lang not in (None, ALL):
            keep &= np.array([str(x or "?") == lang for x in c.lang])
        if name not in (None, ALL):
            keep &= np.array([str(x) == name for x in c.set_name])
        needle = self.search.text().strip().casefold()
        if needle:
            keep &= np.array([needle in t.casefold() for t in c.text])
        self.model.set_rows(np.flatnonzero(keep))

    def selected_rows(self) -> np.ndarray:
        rows = {self.model.source_row(i.row()) for i in self.table.selectionModel().selectedRows()}
        return np.array(sorted(rows), dtype=np.int64)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()
