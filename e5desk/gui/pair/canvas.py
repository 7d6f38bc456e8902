"""The pair view's word canvas: both texts as word boxes that wrap (side by side when the
view is wide, one above the other when narrow; right-to-left scripts laid out right to
left), coloured from the PairState, lines from the hovered word to its partners, and the
hovered word's tooltip."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from e5desk.gui.pair.state import PairState, flow

MARGIN = 8
GUTTER = 56  # between the two columns, where the link lines run
STACK_GAP = 34  # between the two blocks when stacked
SIDE_BY_SIDE_MIN = 640  # px of width from which the texts sit side by side
PAD_X, PAD_Y = 6, 3


class WordCanvas(QWidget):
    hovered = Signal(object)  # (side, index) or None

    def __init__(self, state: PairState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.setFont(font)
        self.caption_font = QFont(self.font())
        self.caption_font.setBold(True)
        self.caption_font.setPointSizeF(self.font().pointSizeF() * 0.85)
        self.rects: dict[tuple[int, int], QRectF] = {}
        self.captions: list[tuple[QRectF, str, bool]] = []
        self._height = 0

    # -- layout ---------------------------------------------------------------------------
    def side_by_side(self, width: int | None = None) -> bool:
        return (self.width() if width is None else width) >= SIDE_BY_SIDE_MIN

    def relayout(self) -> None:
        """Place every word box for the current width and state; the height follows."""
        self.rects, self.captions = {}, []
        fm, cm = QFontMetricsF(self.font()), QFontMetricsF(self.caption_font)
        box_h = fm.height() + 2 * PAD_Y
        cap_h = cm.height() + 4
        width = max(self.width(), 200)
        inner = width - 2 * MARGIN
        if self.side_by_side(width):
            col = (inner - GUTTER) / 2
            columns = [(MARGIN, MARGIN), (MARGIN + col + GUTTER, MARGIN)]
        else:
            col = inner
            columns = [(MARGIN, MARGIN), None]
        bottom = MARGIN
        for side in (0, 1):
            origin = columns[side] or (MARGIN, bottom + STACK_GAP)
            words = self.state.words(side)
            rtl = self.state.direction(side) == "rtl"
            self.captions.append((QRectF(origin[0], origin[1], col, cap_h),
                                  self.state.side_label(side), rtl))
            widths = [fm.horizontalAdvance(w) + 2 * PAD_X for w in words]
            spots, height = flow([min(w, col) for w in widths], col, box_h, rtl=rtl)
            top = origin[1] + cap_h
            for i, (x, y) in enumerate(spots):
                self.rects[(side, i)] = QRectF(origin[0] + x, top + y, min(widths[i], col),
                                               box_h)
            bottom = max(bottom, top + height)
        self._height = int(bottom + MARGIN)
        self.setMinimumHeight(self._height)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(600, max(self._height, 120))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.relayout()

    def word_rect(self, side: int, index: int) -> QRectF:
        return self.rects[(side, index)]

    def word_at(self, pos: QPointF) -> tuple[int, int] | None:
        for key, rect in self.rects.items():
            if rect.contains(pos):
                return key
        return None

    # -- hover ----------------------------------------------------------------------------
    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        key = self.word_at(event.position())
        if key != self.state.hovered:
            self.state.hover(*(key or (None, None)))
            text = self.state.tooltip(*key) if key else ""
            self.setToolTip(text)
            if text:
                QToolTip.showText(event.globalPosition().toPoint(), text, self)
            else:
                QToolTip.hideText()
            self.hovered.emit(key)
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self.state.hovered is not None:
            self.state.hover(None)
            self.setToolTip("")
            self.hovered.emit(None)
            self.update()
        super().leaveEvent(event)

    # -- drawing --------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        p.setFont(self.caption_font)
        p.setPen(pal.color(pal.ColorRole.PlaceholderText))
        for rect, text, rtl in self.captions:
            align = Qt.AlignmentFlag.AlignRight if rtl else Qt.AlignmentFlag.AlignLeft
            p.drawText(rect, int(align | Qt.AlignmentFlag.AlignVCenter), text)
        lit = {side: self.state.lit(side) for side in (0, 1)}
        self._draw_lines(p)
        p.setFont(self.font())
        text_pen = QPen(QColor(20, 20, 20))
        for (side, i), rect in self.rects.items():
            words = self.state.words(side)
            if i >= len(words):
                continue
            p.setBrush(QColor(*self.state.colour(side, i)))
            if i in lit[side]:
                p.setPen(QPen(QColor(20, 20, 20), 2.4))
            elif self.state.marked(side, i):
                p.setPen(QPen(QColor(200, 30, 30), 1.6, Qt.PenStyle.DashLine))
            else:
                p.setPen(QPen(QColor(0, 0, 0, 40), 1))
            p.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 4, 4)
            p.setPen(text_pen)
            p.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), words[i])
        p.end()

    def _draw_lines(self, p: QPainter) -> None:
        """Curves from the hovered word to each partner, thicker for a clearer link."""
        if self.state.hovered is None:
            return
        side, index = self.state.hovered
        start = self.rects.get((side, index))
        if start is None:
            return
        beside = self.side_by_side()
        for j, score in self.state.partners(side, index):
            end = self.rects.get((1 - side, j))
            if end is None:
                continue
            a, b = (start, end) if side == 0 else (end, start)
            if beside:
                s, e = QPointF(a.right(), a.center().y()), QPointF(b.left(), b.center().y())
                mid = (s.x() + e.x()) / 2
                c1, c2 = QPointF(mid, s.y()), QPointF(mid, e.y())
            else:
                s, e = QPointF(a.center().x(), a.bottom()), QPointF(b.center().x(), b.top())
                mid = (s.y() + e.y()) / 2
                c1, c2 = QPointF(s.x(), mid), QPointF(e.x(), mid)
            path = QPainterPath(s)
            path.cubicTo(c1, c2, e)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor(40, 40, 40, 200), 1 + 2.5 * score))
            p.drawPath(path)
