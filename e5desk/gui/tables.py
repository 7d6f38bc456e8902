"""Model/view tables over columnar data: one model, no widget per cell, fast at 1M rows."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSettings,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QPainter, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from e5desk.core.figures import column_help

Index = QModelIndex | QPersistentModelIndex
_MUTED = QBrush(QColor(128, 128, 128))


def table_panel(table: ResultTable, note: QWidget | None = None,
                note_above: bool = False) -> QWidget:
    """``table`` with its Copy and Export CSV… buttons under it; ``note`` beside the
    buttons, or on its own line above them."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(table, 1)
    if note is not None and note_above:
        layout.addWidget(note)
    row = QHBoxLayout()
    if note is not None and not note_above:
        row.addWidget(note, 1)
    else:
        row.addStretch(1)
    for button in table.buttons():
        row.addWidget(button)
    layout.addLayout(row)
    return box


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
        self.muted = np.zeros(n, dtype=bool)  # greyed rows (weak candidates)
        self.notes = np.zeros(n, dtype=bool)  # italic rows (a note such as "not found")
        self.endResetModel()

    def set_styles(self, muted: Sequence[bool] | None = None,
                   notes: Sequence[bool] | None = None) -> None:
        """Grey (``muted``) and italic (``notes``) rows, by row of the columns."""
        n = len(self.columns[0]) if self.columns else 0
        self.muted = np.zeros(n, dtype=bool) if muted is None else np.asarray(muted, bool)
        self.notes = np.zeros(n, dtype=bool) if notes is None else np.asarray(notes, bool)
        if n:
            self.dataChanged.emit(self.index(0, 0), self.index(n - 1, len(self.headers) - 1))

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
            if value is None or (isinstance(value, float | np.floating) and value != value):
                return ""  # missing (None or NaN)
            if fmt:
                return format(value, fmt)
            return isolate_direction(str(value))
        if role == Qt.ItemDataRole.TextAlignmentRole and self.formats[index.column()]:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role in (Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole):
            src = self.rows[index.row()]
            if role == Qt.ItemDataRole.ForegroundRole and src < len(self.muted) \
                    and self.muted[src]:
                return _MUTED
            if role == Qt.ItemDataRole.FontRole and src < len(self.notes) and self.notes[src]:
                font = QFont()
                font.setItalic(True)
                return font
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal:
            tips = getattr(self, "header_tips", {})  # header -> tooltip, set by a view
            if section >= len(self.headers):
                return None
            header = self.headers[section]  # else what the column means (core.figures)
            return tips.get(header) or column_help(header)
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


# -- result tables: copy, CSV export, readable column widths ------------------------------
NARROW_HEADERS = {"", "lang", "rank", "group", "set", "id", "line", "doubt", "match", "score",
                  "cosine", "margin", "kind", "source lang", "target lang", "vs unrelated",
                  "vs translations"}
NARROW_CAP = 220  # px: ids, groups and set names never take a text column's room
TEXT_MIN = 90


def _cell(value) -> str:
    """A value as written to CSV and the clipboard: the full text, numbers with enough
    digits, nothing for missing values."""
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        return "" if value != value else f"{float(value):.4f}"
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def table_text(model: ColumnTableModel, rows: Sequence[int] | None = None,
               delimiter: str = ",") -> str:
    """Header and ``rows`` (view rows; all when None) of ``model`` as CSV/TSV text."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(model.headers)
    source = model.rows if rows is None else [model.rows[r] for r in rows]
    for r in source:
        writer.writerow([_cell(c[r]) for c in model.columns])
    return buf.getvalue()


def write_csv_atomic(model: ColumnTableModel, path: str | Path) -> Path:
    """The whole table as UTF-8 CSV (no BOM), written to a temporary file beside ``path``
    and renamed over it, so a failed export never leaves a half-written file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(model.headers)
            for r in model.rows:
                writer.writerow([_cell(c[r]) for c in model.columns])
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


class TableExport(QObject):
    """Copy and CSV export of one ColumnTableModel, shared by every result table (and the
    heatmap, whose cells are listed as a table). Nothing to export: a status message and
    no file."""

    status = Signal(str)

    def __init__(self, model: ColumnTableModel, what: str, filename: str,
                 empty_hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model, self.what, self.filename = model, what, filename
        self.empty_hint = empty_hint
        self.widget = parent

    def is_empty(self) -> bool:
        return not self.model.headers or self.model.rowCount() == 0

    def _nothing(self) -> None:
        self.status.emit(f"Nothing to export: the {self.what} table is empty."
                         + (f" {self.empty_hint}" if self.empty_hint else ""))

    def copy_rows(self, rows: Sequence[int] | None = None) -> bool:
        if self.is_empty():
            self._nothing()
            return False
        QApplication.clipboard().setText(table_text(self.model, rows, "\t"))
        n = self.model.rowCount() if rows is None else len(rows)
        self.status.emit(f"Copied {n:,} row{'s' if n != 1 else ''} of the {self.what} table.")
        return True

    def export_csv(self, path: str | Path | None = None) -> Path | None:
        """Write the table (every row, in the shown order) to ``path``; asks where when no
        path is given. Returns the path written, or None."""
        if self.is_empty():
            self._nothing()
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.widget, f"Export the {self.what} table",
                                                  self.filename, "CSV files (*.csv)")
            if not path:
                return None
        try:
            out = write_csv_atomic(self.model, path)
        except OSError as exc:
            self.status.emit(f"Could not write {path}: {exc.strerror or exc}")
            return None
        n = self.model.rowCount()
        self.status.emit(f"Wrote {n:,} row{'s' if n != 1 else ''} of the {self.what} table "
                         f"to {out}")
        return out


class ResultTable(QTableView):
    """A result table: row selection, copy (Ctrl+C, context menu), CSV export (context
    menu, a button from ``buttons()``, the window's Ctrl+E), text columns given the width
    with ids/ranks/scores kept narrow, long text elided with the whole of it in the
    tooltip, and column widths remembered per table (QSettings)."""

    status = Signal(str)
    settings: QSettings | None = None  # set by the main window; None: widths not kept

    def __init__(self, name: str, what: str, model: ColumnTableModel | None = None,
                 empty_hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.result_model = model if model is not None else ColumnTableModel()
        self.setModel(self.result_model)
        self.exporter = TableExport(self.result_model, what, f"{name}.csv", empty_hint, self)
        self.exporter.status.connect(self.status)
        self.setSortingEnabled(True)
        self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().setDefaultSectionSize(22)
        header = self.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setMinimumSectionSize(36)
        header.sectionResized.connect(self._user_resized)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self._fitting = False
        self._user_widths = False
        self._pending_fit = False
        header.setResizeContentsPrecision(200)  # widths from the first 200 rows: fast
        self.result_model.modelReset.connect(self.fit_columns)
        copy = QShortcut(QKeySequence.StandardKey.Copy, self, self.copy_rows)
        copy.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.placeholder = ""  # said in the empty table: what to do to fill it

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        if self.placeholder and not self.result_model.rowCount():
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect().adjusted(24, 16, -24, -16),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.placeholder)
            painter.end()

    # -- actions ----------------------------------------------------------------------
    def selected_view_rows(self) -> list[int]:
        return sorted({i.row() for i in self.selectionModel().selectedRows()})

    def copy_rows(self) -> bool:
        """The selected rows (all rows when none is selected) as tab-separated text."""
        rows = self.selected_view_rows()
        return self.exporter.copy_rows(rows or None)

    def export_csv(self, path: str | Path | None = None) -> Path | None:
        return self.exporter.export_csv(path)

    def buttons(self) -> tuple[QPushButton, QPushButton]:
        """A "Copy" and an "Export CSV…" button acting on this table."""
        copy, export = QPushButton("Copy"), QPushButton("Export CSV…")
        copy.setToolTip("Copy the selected rows (all rows when none is selected)")
        export.setToolTip(f"Save the {self.exporter.what} table as CSV (Ctrl+E)")
        copy.clicked.connect(lambda: self.copy_rows())
        export.clicked.connect(lambda: self.export_csv())
        return copy, export

    def _menu(self, pos) -> None:
        menu = QMenu(self)
        n = len(self.selected_view_rows())
        copy = menu.addAction(f"Copy {n:,} selected row{'s' if n != 1 else ''}" if n
                              else "Copy rows")
        copy.triggered.connect(lambda: self.copy_rows())
        everything = menu.addAction("Copy all rows")
        everything.triggered.connect(lambda: self.exporter.copy_rows())
        menu.addSeparator()
        export = menu.addAction("Export CSV…")
        export.triggered.connect(lambda: self.export_csv())
        for action in menu.actions():
            action.setEnabled(not self.exporter.is_empty())
        self.context_menu = menu  # for tests
        menu.popup(self.viewport().mapToGlobal(pos))

    # -- column widths ----------------------------------------------------------------
    def _narrow(self, column: int) -> bool:
        m = self.result_model
        return bool(m.formats[column]) or m.headers[column].split(" (")[0] in NARROW_HEADERS

    def _key(self) -> str:
        return f"tables/{self.name}/" + "|".join(self.result_model.headers)

    def fit_columns(self) -> None:
        """Remembered widths for this table's columns, else: narrow columns fit their
        contents (at most NARROW_CAP), text columns share the rest of the width."""
        m = self.result_model
        self._pending_fit = not self.isVisible()  # measured when shown: nothing to see now
        if not m.headers or self._pending_fit:
            return
        self._fitting = True
        try:
            saved = self.settings.value(self._key()) if self.settings is not None else None
            widths = [int(w) for w in str(saved).split(",")] if saved else []
            self._user_widths = len(widths) == len(m.headers)
            if self._user_widths:
                for c, w in enumerate(widths):
                    self.setColumnWidth(c, w)
                return
            self._spread()
        finally:
            self._fitting = False

    def _spread(self) -> None:
        m = self.result_model
        header = self.horizontalHeader()
        shown = [c for c in range(len(m.headers)) if not self.isColumnHidden(c)]
        text, used = [], 0
        # Narrow columns give way on small windows: at most a sixth of the width each.
        cap = max(80, min(NARROW_CAP, self.viewport().width() // 6))
        for c in shown:
            head = header.sectionSizeHint(c)
            if self._narrow(c):
                w = min(max(self.sizeHintForColumn(c), head) + 8, cap)
                self.setColumnWidth(c, w)
                used += w
            else:
                text.append(c)
        if not text:
            return
        room = max(self.viewport().width() - used - 2, TEXT_MIN * len(text))
        wants = [max(self.sizeHintForColumn(c) + 12, header.sectionSizeHint(c), 60)
                 for c in text]
        total = sum(wants)
        for c, want in zip(text, wants, strict=True):
            share = room * want / total if total else room / len(text)
            self.setColumnWidth(c, int(max(min(want, share) if total <= room else share,
                                           TEXT_MIN)))
        if total < room:  # spare room: the widest text column takes it
            widest = text[int(np.argmax(wants))]
            self.setColumnWidth(widest, self.columnWidth(widest) + int(room - total))

    def _user_resized(self, _column: int, _old: int, _new: int) -> None:
        if self._fitting or self.settings is None or not self.result_model.headers:
            return
        if QApplication.mouseButtons() == Qt.MouseButton.NoButton:
            return  # programmatic resizes are not the user's choice: only a drag is
        self._user_widths = True
        widths = [self.columnWidth(c) for c in range(len(self.result_model.headers))]
        self.settings.setValue(self._key(), ",".join(str(w) for w in widths))

    def remember_widths(self) -> None:
        """Save the current widths as this table's (what a drag on the header does)."""
        if self.settings is not None and self.result_model.headers:
            widths = [self.columnWidth(c) for c in range(len(self.result_model.headers))]
            self.settings.setValue(self._key(), ",".join(str(w) for w in widths))

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._pending_fit:
            self.fit_columns()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if not self._user_widths and self.result_model.headers:
            self._fitting = True
            try:
                self._spread()
            finally:
                self._fitting = False
