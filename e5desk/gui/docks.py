"""Docks that fit small screens: each scrolls vertically only (never a horizontal scroll
bar: combos shrink, labels wrap), and collapses to a compact bar (its title, a one-line
summary and an expand button) that remembers itself in the settings."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSettings, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QToolButton,
    QWidget,
)

SIDE_AREAS = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)


class VerticalLabel(QLabel):
    """A title read bottom to top (a collapsed side dock's bar)."""

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.translate(0, self.height())
        p.rotate(-90)
        p.drawText(0, 0, self.height(), self.width(), Qt.AlignmentFlag.AlignCenter, self.text())

    def sizeHint(self) -> QSize:  # noqa: N802
        s = super().sizeHint()
        return QSize(s.height(), s.width())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.sizeHint()


class TitleBar(QWidget):
    def __init__(self, dock: CollapsibleDock) -> None:
        super().__init__(dock)
        self.dock = dock
        style = self.style()
        self.toggle = QToolButton(self, autoRaise=True)
        self.toggle.setToolTip("Collapse to a bar / expand")
        self.toggle.clicked.connect(lambda: dock.set_collapsed(not dock.collapsed))
        self.title = QLabel(dock.windowTitle(), self)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.vertical = VerticalLabel(dock.windowTitle(), self)
        self.summary = QLabel("", self)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.float_button = QToolButton(self, autoRaise=True)
        self.float_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TitleBarNormalButton))
        self.float_button.setToolTip("Float / dock")
        self.float_button.clicked.connect(lambda: dock.setFloating(not dock.isFloating()))
        self.close_button = QToolButton(self, autoRaise=True)
        self.close_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        self.close_button.setToolTip("Hide (View menu shows it again)")
        self.close_button.clicked.connect(dock.close)
        self.box = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.box.setContentsMargins(4, 1, 2, 1)
        self.box.setSpacing(4)
        for w in (self.toggle, self.title, self.vertical, self.summary):
            self.box.addWidget(w)
        self.box.addStretch(0)
        self.box.addWidget(self.float_button)
        self.box.addWidget(self.close_button)
        self.update_look()

    def update_look(self) -> None:
        dock = self.dock
        vertical = dock.collapsed and dock.in_side_area()
        self.box.setDirection(QBoxLayout.Direction.TopToBottom if vertical
                              else QBoxLayout.Direction.LeftToRight)
        self.box.setStretch(3, 1)
        self.title.setVisible(not vertical)
        self.summary.setVisible(not vertical)
        self.vertical.setVisible(vertical)
        for b in (self.float_button, self.close_button):
            b.setVisible(not vertical)
        arrow = {(True, True): Qt.ArrowType.RightArrow, (True, False): Qt.ArrowType.UpArrow,
                 (False, True): Qt.ArrowType.LeftArrow, (False, False): Qt.ArrowType.DownArrow}
        self.toggle.setArrowType(arrow[(dock.collapsed, dock.in_side_area())])


class FittingScrollArea(QScrollArea):
    """Scrolls vertically only and is never narrower than what it holds needs: with the
    horizontal bar off, a narrower dock would cut its contents off on the right (the model
    card at 1024x700)."""

    def setWidget(self, widget: QWidget) -> None:  # noqa: N802
        super().setWidget(widget)
        widget.installEventFilter(self)  # its size needs change when its text does

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.LayoutRequest and watched is self.widget():
            self.updateGeometry()  # the dock re-reads minimumSizeHint
        return super().eventFilter(watched, event)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        hint = super().minimumSizeHint()
        inner = self.widget()
        if inner is None:
            return hint
        bar = self.verticalScrollBar().sizeHint().width()
        need = inner.minimumSizeHint().width() + bar
        return QSize(max(hint.width(), 160, need), hint.height())


class CollapsibleDock(QDockWidget):
    """A dock whose contents scroll vertically only and that collapses to its title bar."""

    def __init__(self, title: str, widget: QWidget, window: QMainWindow,
                 settings: QSettings | None = None) -> None:
        super().__init__(title, window)
        self.setObjectName(title.replace(" ", "_"))
        self.settings = settings
        self.collapsed = False
        scroll = FittingScrollArea()
        scroll.setWidget(widget)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        shrink_combos(widget)
        self.scroll = scroll
        self.setWidget(scroll)
        self.bar = TitleBar(self)
        self.setTitleBarWidget(self.bar)
        self.dockLocationChanged.connect(lambda _area: self.bar.update_look())

    def in_side_area(self) -> bool:
        window = self.parentWidget()
        return (isinstance(window, QMainWindow) and not self.isFloating()
                and window.dockWidgetArea(self) in SIDE_AREAS)

    def set_summary(self, text: str) -> None:
        self.bar.summary.setText(text)
        self.bar.summary.setToolTip(text)

    def set_collapsed(self, collapsed: bool, remember: bool = True) -> None:
        self.collapsed = collapsed
        self.scroll.setVisible(not collapsed)
        big = 16_777_215
        if collapsed and self.in_side_area():
            self.setMaximumSize(self.bar.minimumSizeHint().width() + 4, big)
        elif collapsed:
            self.setMaximumSize(big, self.bar.sizeHint().height() + 2)
        else:
            self.setMaximumSize(big, big)
        self.bar.update_look()
        if remember and self.settings is not None:
            self.settings.setValue(f"docks/{self.objectName()}/collapsed", collapsed)

    def restore_collapsed(self, default: bool) -> None:
        value = default if self.settings is None else self.settings.value(
            f"docks/{self.objectName()}/collapsed", default, type=bool)
        self.set_collapsed(bool(value), remember=False)


def shrink_combos(widget: QWidget, chars: int = 12) -> None:
    """Combos inside ``widget`` never force it wider than ``chars`` characters (their full
    text is in the tooltip): a narrow dock needs no horizontal scroll bar."""
    for combo in widget.findChildren(QComboBox):
        combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(chars)
        # an explicit minimum: a combo's own minimum hint still follows its longest item
        # (the precision combo asked 232 px and pushed the window past a 1024-pixel screen)
        combo.setMinimumWidth(combo.fontMetrics().averageCharWidth() * chars + 40)
        combo.setSizePolicy(QSizePolicy.Policy.Expanding, combo.sizePolicy().verticalPolicy())
        if not combo.toolTip():  # the full text of a shrunk combo, when it has no help
            combo.currentTextChanged.connect(combo.setToolTip)
            combo.setToolTip(combo.currentText())
