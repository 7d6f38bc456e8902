"""Small widgets the Translations sub-tabs share: a picker that does not grow, the row of a
table's buttons, and a Why? button that opens a row in the pair view."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget

from e5desk.gui.pair import why_button
from e5desk.gui.tables import ResultTable


def combo(min_chars: int = 6) -> QComboBox:
    """A picker that does not grow with its longest entry (file names can be long)."""
    box = QComboBox()
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(min_chars)
    return box


def buttons_row(table: ResultTable, note: QWidget | None = None) -> QHBoxLayout:
    row = QHBoxLayout()
    if note is not None:
        row.addWidget(note, 1)
    else:
        row.addStretch(1)
    for button in table.buttons():
        row.addWidget(button)
    return row


def why(table: ResultTable, request, emit) -> QPushButton:
    """A Why? button (and double-click) opening a row in the pair view."""
    model = table.result_model
    return why_button(table, lambda row: request(model.headers, model.columns, row), emit)
