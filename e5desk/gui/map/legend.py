"""The map's legend: which colour stands for what (languages, clusters, sets, or bands of
scores to the query), each entry a check box that shows or hides its points; the score
scale; the note on density drawing. The colour choices themselves come from core.mapping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QLinearGradient, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from e5desk.core.mapping import ScoreScale, category_colours, language_colour, language_label

SCORE_LEVELS = 64  # colours along the score colour map
SCORE_BANDS = 5  # legend entries (toggle a band of scores on and off)
# Light and quiet for low scores, dark and warm for high ones (on the white map).
SCORE_MAP = pg.ColorMap([0.0, 0.35, 0.7, 1.0],
                        [(205, 212, 224), (96, 150, 205), (235, 140, 50), (175, 20, 45)])


def palette(n: int) -> list[QColor]:
    """Colours for categories without a fixed colour (clusters, sets); languages keep
    theirs (core.mapping.language_colour)."""
    return [QColor(c) for c in category_colours(n)]


def swatch_icon(colour: QColor, size: int = 14) -> QIcon:
    """A filled disc of ``colour`` (with a darker edge) for legend entries."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor(colour).darker(140), 1))
    painter.setBrush(QBrush(colour))
    painter.drawEllipse(QRectF(1.5, 1.5, size - 3, size - 3))
    painter.end()
    return QIcon(pixmap)


def score_colours() -> list[QColor]:
    """The score colour map as SCORE_LEVELS colours, low to high."""
    return [SCORE_MAP.map(t, mode="qcolor") for t in np.linspace(0, 1, SCORE_LEVELS)]


def gradient_pixmap(colours: list[QColor], lo: float, hi: float) -> QPixmap:
    """The score scale: the colours left to right, the lowest and highest score below."""
    width, bar = 170, 14
    pixmap = QPixmap(width, bar + 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    gradient = QLinearGradient(0, 0, width, 0)
    for i, colour in enumerate(colours):
        gradient.setColorAt(i / (len(colours) - 1), colour)
    painter.fillRect(0, 0, width, bar, gradient)
    painter.setPen(QColor(60, 60, 60))
    painter.drawText(QRectF(0, bar, width, 16), Qt.AlignmentFlag.AlignLeft, f"{lo:.1f}")
    painter.drawText(QRectF(0, bar, width, 16), Qt.AlignmentFlag.AlignRight, f"{hi:.1f}")
    painter.end()
    return pixmap


@dataclass
class Colouring:
    """How the points are coloured and what the legend lists."""

    codes: np.ndarray  # colour code of each row
    colours: list[QColor]  # colour of each code
    legend_of_code: np.ndarray  # legend entry of each code
    entries: list[tuple[str, QColor]]  # legend text and swatch, top to bottom
    on_top: bool = False  # higher codes drawn over lower ones
    keys: list[str] | None = None  # what each entry stands for (language code, ...)


def category_colouring(names: Sequence[str], codes: np.ndarray,
                       languages: bool) -> Colouring:
    """One colour and legend entry per category, with its count; languages keep their
    fixed colours and are listed by name ("German (de) · 64")."""
    colours = [QColor(language_colour(n)) for n in names] if languages else palette(len(names))
    counts = np.bincount(np.asarray(codes, dtype=np.int64), minlength=len(names)) \
        if len(codes) else np.zeros(len(names), dtype=np.int64)
    texts = [f"{language_label(n) if languages else n} · {int(k):,}"
             for n, k in zip(names, counts, strict=True)]
    return Colouring(codes, colours, np.arange(len(names)),
                     list(zip(texts, colours, strict=True)), keys=list(names))


def score_colouring(scale: ScoreScale) -> Colouring:
    """Light (low) to dark (high) along the score colour map, best drawn on top; the
    legend lists the bands of scores, high first, with their counts."""
    colours = score_colours()
    entries = []
    for b in reversed(range(len(scale.bands))):
        start, end, count = scale.bands[b]
        colour = colours[min(int((b + 0.5) * SCORE_LEVELS / SCORE_BANDS), SCORE_LEVELS - 1)]
        entries.append((f"{start:.1f} – {end:.1f}  ({count:,})", colour))
    return Colouring(scale.levels, colours, SCORE_BANDS - 1 - scale.band_of_level, entries,
                     on_top=True)


def plain_colouring(n: int, text: str) -> Colouring:
    """Every point grey, one legend entry saying why."""
    return Colouring(np.zeros(n, dtype=np.int64), [QColor(170, 170, 170)],
                     np.zeros(1, dtype=np.int64), [(text, QColor(150, 150, 150))])


class LegendPanel(QWidget):
    """The note on density drawing, the score scale (caption and colour bar) and the
    legend entries, one check box each: unchecking one hides its points."""

    shown_changed = Signal(object)  # bool per colour code

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = QLabel("")  # in the side panel: long text never widens the window
        self.note.setStyleSheet("color: #666")
        self.note.setWordWrap(True)
        self.note.hide()
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.bar = QLabel()
        self.bar.setToolTip("Score (cosine x 100) to the query: low on the left, "
                            "high on the right")
        self.caption.hide()
        self.bar.hide()
        self.entries = QListWidget()
        self.entries.setToolTip("Tick a box to show or hide its points; double-click an "
                                "entry to show only it (again: show all)")
        self.entries.itemDoubleClicked.connect(self.isolate)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.caption)
        layout.addWidget(self.bar)
        layout.addWidget(self.entries, 1)
        self.legend_of_code = np.zeros(0, dtype=np.int64)
        self.shown_codes = np.ones(0, dtype=bool)
        self.entries.itemChanged.connect(self._toggled)

    def set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def fill(self, colouring: Colouring) -> None:
        """List the colouring's entries, all checked."""
        self.legend_of_code = colouring.legend_of_code
        self.entries.blockSignals(True)
        self.entries.clear()
        keys = colouring.keys or [text for text, _ in colouring.entries]
        for (text, colour), key in zip(colouring.entries, keys, strict=True):
            # A swatch beside the name; the text keeps the normal text colour.
            item = QListWidgetItem(swatch_icon(colour), text)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.entries.addItem(item)
        self.entries.blockSignals(False)
        self.shown_codes = np.ones(len(self.legend_of_code), dtype=bool)

    def isolate(self, item: QListWidgetItem) -> None:
        """Show only ``item``'s points; when it is already the only one shown, show all."""
        only = all((self.entries.item(i) is item) == (self.entries.item(i).checkState()
                                                      == Qt.CheckState.Checked)
                   for i in range(self.entries.count()))
        self.entries.blockSignals(True)
        for i in range(self.entries.count()):
            other = self.entries.item(i)
            on = only or other is item
            other.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.entries.blockSignals(False)
        self._toggled(item)

    def keys(self) -> list[str]:
        """What each entry stands for (language codes when colouring by language)."""
        return [self.entries.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.entries.count())]

    def _toggled(self, _item) -> None:
        shown = np.array([self.entries.item(i).checkState() == Qt.CheckState.Checked
                          for i in range(self.entries.count())], dtype=bool)
        if not len(shown) or not len(self.legend_of_code):
            return
        self.shown_codes = shown[self.legend_of_code]
        self.shown_changed.emit(self.shown_codes)

    def show_caption(self, text: str) -> None:
        """A line above the legend (what is being scored); the colour bar stays as it is."""
        self.caption.setText(text)
        self.caption.show()

    def show_hint(self, text: str) -> None:
        """A line above the legend saying what to do, no colour bar."""
        self.show_caption(text)
        self.bar.hide()

    def show_scale(self, caption: str, colours: list[QColor], lo: float, hi: float) -> None:
        self.caption.setText(caption)
        self.caption.show()
        self.bar.setPixmap(gradient_pixmap(colours, lo, hi))
        self.bar.show()

    def hide_scale(self) -> None:
        self.caption.hide()
        self.bar.hide()
