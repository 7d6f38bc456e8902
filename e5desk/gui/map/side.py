"""The panel beside the map, top to bottom: the figures, the legend, the clicked
sentence's neighbours and the selection. It never shrinks the plot."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSplitter

from e5desk.gui.map.labels import FIGURES_HELP
from e5desk.gui.map.legend import LegendPanel
from e5desk.gui.map.selection import NeighboursPanel, SelectionPanel


class SidePanel(QSplitter):
    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self.figures = QLabel("")
        self.figures.setWordWrap(True)
        self.figures.setTextFormat(Qt.TextFormat.RichText)
        self.figures.setStyleSheet("padding: 2px")
        self.figures.setToolTip(FIGURES_HELP)
        self.legend = LegendPanel()
        self.neighbours = NeighboursPanel()
        self.selection = SelectionPanel()
        # Long text never makes the window wider than the screen: the figures scroll.
        figures_box = QScrollArea()
        figures_box.setWidget(self.figures)
        figures_box.setWidgetResizable(True)
        figures_box.setFrameShape(QFrame.Shape.NoFrame)
        figures_box.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Its figures and their plain-language lines show whole (fit_figures); longer
        # text (a warning on top) scrolls.
        self.figures_box = figures_box
        figures_box.setMinimumHeight(self.figures.fontMetrics().lineSpacing() * 6 + 8)
        for w in (figures_box, self.legend, self.neighbours, self.selection):
            self.addWidget(w)
        self.setStretchFactor(1, 1)
        self.setStretchFactor(2, 1)
        self.setStretchFactor(3, 2)
        self.setMinimumWidth(220)

    def fit_figures(self) -> None:
        """Room for the figures as wrapped at the panel's width (at most 12 lines)."""
        width = max(self.figures_box.viewport().width(), 200)
        lines = self.figures.fontMetrics().lineSpacing()
        need = self.figures.heightForWidth(width) + 6
        self.figures_box.setMinimumHeight(max(lines * 3, min(need, lines * 12)))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.fit_figures()
