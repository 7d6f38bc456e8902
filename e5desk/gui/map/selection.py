"""The map's side panels about sentences: the clicked sentence's nearest neighbour in every
language, and the rectangle / lasso selection as a table that exports to CSV."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from e5desk.core.data.sentence_set import group_label
from e5desk.core.mapping import Neighbour
from e5desk.gui.tables import ResultTable


class NeighboursPanel(QTextBrowser):
    """The clicked sentence and the closest sentence to it in every language (✓: one of
    its translations)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # A grey paragraph, not a placeholder: Qt does not wrap placeholder text.
        self.setHtml("<p style='color:#808080'>Click a point: its nearest sentence in every "
                     "language appears here.</p>")

    def show_neighbours(self, texts: Sequence[str], langs: Sequence[str], row: int,
                        neighbours: Sequence[Neighbour]) -> None:
        lines = [f"<p><b>{html.escape(texts[row])}</b> [{langs[row]}]</p><ul>"]
        for n in neighbours:
            mark = " ✓" if n.translation else ""
            lines.append(f"<li>{n.lang}: {n.score:.1f} — {html.escape(texts[n.row])}"
                         f"{mark}</li>")
        self.setHtml("".join(lines) + "</ul>")


class SelectionPanel(QWidget):
    """The selected sentences (text, lang, group, set, line; the score when there are
    scores) with their count, Clear and Export CSV…; hidden while nothing is selected."""

    status = Signal(str)
    row_clicked = Signal(int)  # a sentence's row in the combined set

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.count = QLabel("")
        self.clear_button = QPushButton("Clear")
        self.export_button = QPushButton("Export CSV…")
        self.why_button = QPushButton("Why?")
        self.why_button.setToolTip("Show the two selected sentences word by word in the pair "
                                   "view: which word is which, what has no partner, and each "
                                   "word's share of their score (select exactly two: "
                                   "click one point, then Ctrl- or Shift-click another)")
        self.export_button.setToolTip("Save the selected sentences (text, lang, group, set, "
                                      "line; score when colouring by score) as CSV")
        self.table = ResultTable(
            "map-selection", "map selection",
            empty_hint="Select sentences on the map first (Shift-drag: rectangle, "
                       "Ctrl-drag: lasso).")
        self.model = self.table.result_model
        self.table.status.connect(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.why_button)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.export_button)
        # The count (or how to select) on its own line, wrapped: read whole in a narrow
        # panel, and never making the window wider.
        self.count.setWordWrap(True)
        self.count.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.count)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addStretch(0)  # takes the room only while the table is hidden
        self.table.hide()  # until something is selected
        self._source = None  # (combined, scores) the table columns come from
        self.show_count(0)
        self.table.clicked.connect(
            lambda index: self.row_clicked.emit(self.model.source_row(index.row())))

    def set_columns(self, combined, scores: np.ndarray | None, rows: np.ndarray) -> None:
        """Table columns: the sentence columns, plus the score when there are scores."""
        scores = scores if scores is not None and len(scores) == len(combined) else None
        if self._source == (id(combined), id(scores)):
            return
        self._source = (id(combined), id(scores))
        headers = ["text", "lang", "group", "set", "line"]
        groups = np.array([group_label(g) for g in combined.group], dtype=object)
        columns = [combined.text, combined.lang, groups, combined.set_name, combined.line]
        formats: list[str | None] = [None] * 5
        if scores is not None:
            headers.append("score")
            columns.append(scores)
            formats.append(".1f")
        self.model.set_data(headers, columns, formats)
        self.model.set_rows(rows)

    def forget_columns(self, empty: bool = False) -> None:
        """Build the columns again next time (new sentences); ``empty``: none until then."""
        self._source = None
        if empty:
            self.model.set_data([], [])

    def show_rows(self, rows: np.ndarray) -> None:
        self.model.set_rows(rows)

    def show_count(self, n: int) -> None:
        if n:
            self.count.setText(f"{n:,} selected (click a row to show it)")
        else:
            self.count.setText("No selection: Shift-drag a rectangle, Ctrl-drag a lasso, "
                               "Ctrl- or Shift-click points, or pick a Select tool above.")
        self.count.setToolTip(self.count.text())
        self.export_button.setEnabled(bool(n))
        self.clear_button.setEnabled(bool(n))
        self.why_button.setEnabled(n == 2)
        self.table.setVisible(bool(n))

    def export(self, path: str | Path | None = None) -> Path | None:
        return self.table.export_csv(path or None)
