"""A tab's empty state: a centred panel over the tab saying what is missing and what to do
next, with buttons ("Open files…", "Compute map"); the texts come from gui.guidance."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from e5desk.gui.guidance import EmptyText
from e5desk.gui.theme import icon

ICON_OF = {"open": "open", "sample": "sample", "map": "map"}


class EmptyState(QWidget):
    """Covers ``host`` while it has nothing to show; ``actions`` maps an action key of the
    texts ("open", "sample", "map") to what the button does."""

    def __init__(self, host: QWidget, actions: dict[str, Callable[[], None]]) -> None:
        super().__init__(host)
        self.host, self.actions = host, actions
        self.setObjectName("emptyState")
        self.setAutoFillBackground(True)
        self.title = QLabel()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.title.setFont(font)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setMaximumWidth(520)
        self.buttons = QHBoxLayout()
        self.buttons.setSpacing(8)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        for w in (self.title, self.text):
            layout.addWidget(w, 0, Qt.AlignmentFlag.AlignHCenter)
            w.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(8)
        layout.addLayout(self.buttons)
        layout.addStretch(3)
        self.shown_text: EmptyText | None = None
        host.installEventFilter(self)
        self.hide()

    def show_text(self, empty: EmptyText | None) -> None:
        """Show ``empty`` over the host, or nothing (None)."""
        self.shown_text = empty
        if empty is None:
            self.hide()
            return
        self.title.setText(empty.title)
        self.text.setText(empty.text)
        while self.buttons.count():
            item = self.buttons.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.buttons.addStretch(1)
        for label, key in empty.actions:
            button = QPushButton(icon(ICON_OF.get(key, "")), label)
            button.setObjectName(f"empty_{key}")
            button.clicked.connect(self.actions.get(key, lambda: None))
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)
        self.setGeometry(self.host.rect())
        self.show()
        self.raise_()

    def button_texts(self) -> list[str]:
        return [self.buttons.itemAt(i).widget().text() for i in range(self.buttons.count())
                if self.buttons.itemAt(i).widget() is not None]

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self.host and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.host.rect())
        return False
