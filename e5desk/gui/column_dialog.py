"""Column mapping for CSV/TSV/JSONL: which column is the text, the language, the group (or a
wide table, one language per column), with the file's first rows and the detected choice
pre-selected. Non-modal: the window stays usable while it is open."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from e5desk.core.data.columns import ColumnPreview

NONE = "(none)"


class ColumnDialog(QDialog):
    def __init__(self, preview: ColumnPreview, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = preview
        self.setObjectName("columnDialog")
        self.setWindowTitle(f"Columns of {preview.path.name}")
        kind = "field" if preview.format == "jsonl" else "column"
        self.text = self._combo(preview.text)
        self.lang = self._combo(preview.lang)
        self.group = self._combo(preview.group)
        self.wide = QCheckBox("Each language-code column is a language; each row is one "
                              f"meaning ({', '.join(preview.language_columns) or 'none found'})")
        self.wide.setChecked(preview.wide)
        self.wide.setVisible(preview.format == "csv")
        self.wide.setEnabled(len(preview.language_columns) >= 2)
        self.always = QCheckBox("Use the detected columns from now on without asking")
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b00020")

        table = QTableWidget(len(preview.rows), len(preview.columns))
        table.setHorizontalHeaderLabels(preview.columns)
        for r, row in enumerate(preview.rows):
            for c, cell in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(cell[:200]))
        table.resizeColumnsToContents()
        table.setMinimumHeight(180)

        form = QFormLayout()
        form.addRow(f"Text {kind}:", self.text)
        form.addRow(f"Language {kind}:", self.lang)
        form.addRow(f"Group {kind} (ties translations):", self.group)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"The first rows of {preview.path.name}:"))
        layout.addWidget(table, 1)
        layout.addWidget(self.wide)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.always)
        layout.addWidget(buttons)
        self.wide.toggled.connect(self._update)
        self._update()
        self.resize(760, 460)

    def _combo(self, current: str | None) -> QComboBox:
        box = QComboBox()
        box.addItem(NONE, None)
        for name in self.preview.columns:
            box.addItem(name, name)
        index = box.findData(current)
        box.setCurrentIndex(max(index, 0))
        return box

    def _update(self) -> None:
        wide = self.wide.isChecked()
        self.text.setEnabled(not wide)
        self.lang.setEnabled(not wide)

    def options(self) -> dict:
        return self.preview.options(self.text.currentData(), self.lang.currentData(),
                                    self.group.currentData(), self.wide.isChecked())

    def _accept(self) -> None:
        if not self.wide.isChecked() and self.text.currentData() is None:
            self.problem.setText("Choose the column that holds the text.")
            return
        self.accept()
