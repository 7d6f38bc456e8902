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
        # Its three lines (clusters, mixing, P@1) show whole; longer text scrolls.
        figures_box.setMinimumHeight(self.figures.fontMetrics().lineSpacing() * 3 + 8)
        for w in (figures_box, self.legend, self.neighbours, self.selection):
            self.addWidget(w)
        self.setStretchFactor(1, 1)
        self.setStretchFactor(2, 1)
        self.setStretchFactor(3, 2)
        self.setMinimumWidth(220)
