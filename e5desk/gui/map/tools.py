"""The map's mouse tools: pan/zoom, rectangle and lasso selection (a view box that draws the
rubber band and reports the region), and the row of buttons that picks one."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPolygonF
from PySide6.QtWidgets import (
    QButtonGroup,
    QGraphicsPathItem,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QWidget,
)

TOOLS = (
    ("pan", "Pan/zoom", "Drag to pan, wheel to zoom (hold Shift to select a rectangle, Ctrl "
     "for a lasso)"),
    ("rect", "Select rectangle", "Drag a rectangle: its sentences are listed beside the map "
     "(Shift+drag does the same in any mode)"),
    ("lasso", "Select lasso", "Draw a loop around sentences: they are listed beside the map "
     "(Ctrl+drag does the same in any mode)"),
)


def tool_buttons(parent: QWidget, row: QHBoxLayout) -> QButtonGroup:
    """"Mouse:" and one checkable button per tool (property "tool": its key) added to
    ``row``; pan/zoom checked."""
    group = QButtonGroup(parent)
    row.addWidget(QLabel("Mouse:"))
    for key, text, tip in TOOLS:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setCheckable(True)
        button.setProperty("tool", key)
        button.setChecked(key == "pan")
        group.addButton(button)
        row.addWidget(button)
    return group


def use_tool(tool: str, view_box: MapViewBox, buttons: QButtonGroup, viewport) -> None:
    """Left-drag on the map does ``tool`` ("pan", "rect" or "lasso") from now on."""
    view_box.tool = tool
    for button in buttons.buttons():
        button.setChecked(button.property("tool") == tool)
    viewport.setCursor(Qt.CursorShape.ArrowCursor if tool == "pan"
                       else Qt.CursorShape.CrossCursor)


class MapViewBox(pg.ViewBox):
    """Pan and zoom as usual; selection by rectangle or lasso when the tool says so, or
    with Shift (rectangle) or Ctrl (lasso) held while dragging."""

    region_selected = Signal(str, object)  # "rect", (x0, y0, x1, y1) | "lasso", (m, 2)

    def __init__(self) -> None:
        super().__init__()
        self.tool = "pan"  # "pan" | "rect" | "lasso"
        self._band = QGraphicsPathItem()
        self._band.setPen(pg.mkPen((40, 40, 40), width=1, style=Qt.PenStyle.DashLine))
        self._band.setBrush(QBrush(QColor(60, 120, 220, 40)))
        self._band.setZValue(1e9)
        self._band.hide()
        self.addItem(self._band, ignoreBounds=True)
        self._trace: list[QPointF] = []
        self._last = QPointF()

    def drag_tool(self, ev) -> str:
        if ev.button() != Qt.MouseButton.LeftButton:
            return "pan"
        mods = ev.modifiers()
        if mods & Qt.KeyboardModifier.ShiftModifier:
            return "rect"
        if mods & Qt.KeyboardModifier.ControlModifier:
            return "lasso"
        return self.tool

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        tool = self.drag_tool(ev) if axis is None else "pan"
        if tool == "pan":
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        here = self.mapToView(ev.pos())
        if ev.isStart() or not self._trace:
            self._trace = [self.mapToView(ev.buttonDownPos())]
            self._last = ev.buttonDownPos()
        if tool == "lasso" and (ev.pos() - self._last).manhattanLength() >= 3:
            self._trace.append(here)
            self._last = ev.pos()
        path = QPainterPath()
        if tool == "rect":
            path.addRect(QRectF(self._trace[0], here).normalized())
        else:
            path.addPolygon(QPolygonF([*self._trace, here]))
            path.closeSubpath()
        self._band.setPath(path)
        self._band.show()
        if ev.isFinish():
            self._band.hide()
            start, self._trace = self._trace, []
            if tool == "rect":
                self.region_selected.emit("rect", (start[0].x(), start[0].y(),
                                                   here.x(), here.y()))
            else:
                polygon = np.array([(q.x(), q.y()) for q in [*start, here]])
                self.region_selected.emit("lasso", polygon)

