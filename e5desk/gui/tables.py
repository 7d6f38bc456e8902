"""Model/view tables over columnar data: one model, no widget per cell, fast at 1M rows."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex


def isolate_direction(text: str) -> str:
    """Right-to-left text (Arabic, Hebrew) inside a left-to-right table: wrap it in a
    right-to-left embedding so its own punctuation stays at its end (the left), as a
    reader of the script expects; other text is returned unchanged."""
    for ch in text[:200]:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "\u202b" + text + "\u202c"
        if kind == "L":
            return text
    return text


class ColumnTableModel(QAbstractTableModel):
    """Read-only table over equal-length columns (numpy arrays or lists).

    ``rows`` (an index array) selects and orders what is shown, so filtering and sorting
    never copy the columns.
    """

    def __init__(self, headers: Sequence[str] = (), columns: Sequence[Sequence] = (),
                 formats: Sequence[str | None] = (), parent=None) -> None:
        super().__init__(parent)
        self.set_data(headers, columns, formats)

    def set_data(self, headers: Sequence[str], columns: Sequence[Sequence],
                 formats: Sequence[str | None] = ()) -> None:
        self.beginResetModel()
        self.headers = list(headers)
        self.columns = [np.asarray(c, dtype=object) if not isinstance(c, np.ndarray) else c
                        for c in columns]
        self.formats = list(formats) or [None] * len(self.headers)
        n = len(self.columns[0]) if self.columns else 0
        self.rows = np.arange(n)
        self.endResetModel()

    def set_rows(self, rows: np.ndarray) -> None:
        self.beginResetModel()
        self.rows = np.asarray(rows, dtype=np.int64)
        self.endResetModel()

    def source_row(self, view_row: int) -> int:
        return int(self.rows[view_row])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = self.columns[index.column()][self.rows[index.row()]]
            fmt = self.formats[index.column()]
            if fmt and value is not None and value == value:  # NaN check
                return format(value, fmt)
            return "" if value is None else isolate_direction(str(value))
        if role == Qt.ItemDataRole.TextAlignmentRole and self.formats[index.column()]:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.headers[section] if section < len(self.headers) else None
        return str(section + 1)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns) or not len(self.rows):
            return
        values = self.columns[column][self.rows]
        try:
            keys = np.argsort(values, kind="stable")
        except TypeError:  # mixed types: sort by text
            keys = np.argsort(np.array([str(v) for v in values]), kind="stable")
        if order == Qt.SortOrder.DescendingOrder:
            keys = keys[::-1]
        self.set_rows(self.rows[keys])

    def to_rows(self) -> list[list]:
        """Visible rows as lists (for copy and CSV export)."""
        return [[c[r] for c in self.columns] for r in self.rows]
