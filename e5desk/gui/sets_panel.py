"""Sentence sets panel: the table of loaded sentences with filters and language counts.

The language of rows can be corrected here (the lang cell, or "Set language of selected
rows…" in the context menu); the change goes into the loaded sets, so projects save it."""

from __future__ import annotations

from collections import Counter

import numpy as np
from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from e5desk.core.data.sentence_set import (
    CONTEXT_SEPARATOR,
    UNKNOWN_LANG,
    group_label,
    lang_key,
)
from e5desk.gui.session import Session
from e5desk.gui.tables import ColumnTableModel, Index

ALL = "__all__"
LANG_COLUMN = 1
UNKNOWN = "? — unknown"
# Offered in the language picker after the set's own languages (any BCP-47 tag or English
# name can be typed as well).
COMMON_LANGUAGES = (
    "en es fr de it pt nl ru ja zh ko ar hi bn tr pl uk cs sv da no fi el he hu ro bg hr sr "
    "sk sl et lv lt fa ur id ms vi th tl sw ca gl eu ga cy is sq mk be ka hy az kk uz ta te "
    "ml kn mr gu pa ne si my km lo am so af eo la").split()


def language_choices(present: list[str]) -> list[str]:
    """"code — name" items: the languages of the set first, then common ones."""
    from e5desk.core.langid import display_name

    codes = list(dict.fromkeys([c for c in present if c and c != UNKNOWN_LANG] + COMMON_LANGUAGES))
    return [f"{c} — {display_name(c)}" for c in codes] + [UNKNOWN]


def parse_language(text: str) -> tuple[bool, str | None]:
    """(understood, code) for what the user picked or typed: "es — Spanish", "es",
    "pt_BR", "Spanish"; "?", "unknown" or nothing mean unknown (None)."""
    import langcodes

    from e5desk.core.langid import normalize_code

    text = text.split(" — ")[0].strip()
    if text.casefold() in ("", UNKNOWN_LANG, "unknown"):
        return True, None
    tag = text.replace("_", "-")
    if langcodes.tag_is_valid(tag):
        return True, normalize_code(tag)
    try:
        return True, langcodes.find(text).to_tag()
    except LookupError:
        return False, None


def ask_language(parent: QWidget, present: list[str], current: str | None,
                 count: int) -> tuple[bool, str | None]:
    """The language picker (a dialog): (chosen, code); code None sets "unknown"."""
    items = language_choices(present)
    at = next((i for i, item in enumerate(items) if item.split(" — ")[0] == current), 0)
    while True:
        text, ok = QInputDialog.getItem(
            parent, "Set language", f"Language of {count:,} selected row(s) "
            "(a code such as es or pt-BR, or a name):", items, at, True)
        if not ok:
            return False, None
        understood, code = parse_language(text)
        if understood:
            return True, code
        QMessageBox.warning(parent, "Set language", f"{text!r} is not a language code or "
                            "name e5desk knows; try a code such as es, de or zh-Hant.")


class SentenceTableModel(ColumnTableModel):
    """The sentence table; its lang cells can be edited (written back through
    ``on_language(rows, code)``)."""

    def __init__(self, on_language, parent=None) -> None:
        super().__init__(parent=parent)
        self.on_language = on_language

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == LANG_COLUMN:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or index.column() != LANG_COLUMN:
            return False
        understood, code = parse_language(str(value or ""))
        if not understood:
            return False
        rows = np.array([self.source_row(index.row())])
        # After the editor has closed: the change resets this model.
        QTimer.singleShot(0, lambda: self.on_language(rows, code))
        return True


class LanguageDelegate(QStyledItemDelegate):
    """Edits a lang cell with an editable list of languages (code — name)."""

    def __init__(self, present, parent=None) -> None:
        super().__init__(parent)
        self.present = present  # () -> the languages of the loaded sets

    def createEditor(self, parent: QWidget, option, index: QModelIndex) -> QWidget:  # noqa: N802
        combo = QComboBox(parent)
        combo.setEditable(True)
        combo.addItems(language_choices(self.present()))
        return combo

    def setEditorData(self, editor: QComboBox, index: QModelIndex) -> None:  # noqa: N802
        current = index.data() or UNKNOWN_LANG
        i = next((i for i in range(editor.count())
                  if editor.itemText(i).split(" — ")[0] == current), -1)
        if i >= 0:
            editor.setCurrentIndex(i)
        else:
            editor.setEditText(current)

    def setModelData(self, editor: QComboBox, model, index: QModelIndex) -> None:  # noqa: N802
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)


class SetsPanel(QWidget):
    open_requested = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = SentenceTableModel(self.set_language)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(LANG_COLUMN, LanguageDelegate(self._languages, self))
        self.table.setEditTriggers(QTableView.EditTrigger.DoubleClicked
                                   | QTableView.EditTrigger.EditKeyPressed)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
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
        groups = c.group
        grouped = groups[np.not_equal(groups, None)]  # per-row loops only where needed
        if any(CONTEXT_SEPARATOR in g for g in grouped if isinstance(g, str)):
            groups = np.array([group_label(g) for g in groups], dtype=object)  # msgctxt
        self.model.set_data(["text", "lang", "group", "set"],
                            [c.text, c.lang, groups, c.set_name])
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i in (1, 3):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        # The group of a catalogue entry is its msgid: the text column gets the width.
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(2, 200)
        langs = Counter()
        for code, count in Counter(c.lang.tolist()).items():  # counted in C, then named
            langs[lang_key(code)] += count
        self._fill(self.lang, "All languages", sorted(langs))
        self._fill(self.set_filter, "All sets", sorted(set(map(str, set(c.set_name.tolist())))))
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
            keep &= np.array([lang_key(x) == lang for x in c.lang], dtype=bool)
        if name not in (None, ALL):
            keep &= np.array([str(x) == name for x in c.set_name])
        needle = self.search.text().strip().casefold()
        if needle:
            keep &= np.array([needle in t.casefold() for t in c.text])
        self.model.set_rows(np.flatnonzero(keep))
        header = self.table.horizontalHeader()
        if header.sortIndicatorSection() >= 0:  # keep the user's sort across filters/edits
            self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())

    def selected_rows(self) -> np.ndarray:
        rows = {self.model.source_row(i.row()) for i in self.table.selectionModel().selectedRows()}
        return np.array(sorted(rows), dtype=np.int64)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    # -- language override --------------------------------------------------------------
    def _languages(self) -> list[str]:
        c = self.session.combined
        if c is None:
            return []
        return [lang for lang, _ in Counter(lang_key(x) for x in c.lang).most_common()]

    def _context_menu(self, pos: QPoint) -> None:
        rows = self.selected_rows()
        if not len(rows):
            index = self.table.indexAt(pos)
            if not index.isValid():
                return
            rows = np.array([self.model.source_row(index.row())])
        menu = QMenu(self)
        action = menu.addAction(f"Set language of selected rows… ({len(rows):,})")
        action.triggered.connect(lambda: self.ask_language_of(rows))
        menu.popup(self.table.viewport().mapToGlobal(pos))
        self._menu = menu  # kept for tests and so it is not collected while shown

    def ask_language_of(self, rows: np.ndarray | None = None) -> None:
        rows = self.selected_rows() if rows is None else rows
        c = self.session.combined
        if c is None or not len(rows):
            return
        current = Counter(c.lang[r] for r in rows).most_common(1)[0][0]
        chosen, code = ask_language(self, self._languages(), current, len(rows))
        if chosen:
            self.set_language(rows, code)

    def set_language(self, rows: np.ndarray, code: str | None) -> None:
        """Set the language of combined ``rows``; the selection is kept."""
        rows = np.asarray(rows, dtype=np.int64)
        self.session.set_language(rows, code)
        shown = np.flatnonzero(np.isin(self.model.rows, rows))
        chosen = QItemSelection()
        if len(shown):  # one range per run of consecutive view rows
            breaks = np.flatnonzero(np.diff(shown) != 1)
            last = self.model.columnCount() - 1
            for start, end in zip(np.r_[shown[0], shown[breaks + 1]],
                                  np.r_[shown[breaks], shown[-1]], strict=True):
                chosen.select(self.model.index(int(start), 0), self.model.index(int(end), last))
        self.table.selectionModel().select(
            chosen, QItemSelectionModel.SelectionFlag.ClearAndSelect)
