"""The Scores tab's heatmap: queries x passages scores as an image with a colour bar, the
score under the pointer, and the cells as a table for copy and CSV export."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from e5desk.gui.scores_state import query_ticks
from e5desk.gui.tables import ColumnTableModel, TableExport


class Heatmap(QWidget):
    """Queries x passages scores as an image with a colour bar and hover values."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setBackground(None)
        self.plot.invertY(True)
        self.plot.setLabel("left", "query")
        self.plot.setLabel("bottom", "passage (sorted by best score)")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(values=(70, 100), colorMap=pg.colormap.get("viridis"),
                                   label="score (cos × 100)", interactive=False)
        self.bar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        self.hover = QLabel("Hover a cell to see its score.")
        self.hover.setWordWrap(True)
        # The cells as a table (query, passage, score) for copy and CSV export.
        self.cells = ColumnTableModel()
        self.exporter = TableExport(self.cells, "heatmap", "heatmap.csv",
                                    "Score some queries first.", self)
        copy, export = QPushButton("Copy"), QPushButton("Export CSV…")
        copy.setToolTip("Copy every cell (query, passage, score) as tab-separated text")
        export.setToolTip("Save every cell (query, passage, score) as CSV (Ctrl+E)")
        copy.clicked.connect(lambda: self.exporter.copy_rows())
        export.clicked.connect(lambda: self.exporter.export_csv())
        bottom = QHBoxLayout()
        bottom.addWidget(self.hover, 1)
        bottom.addWidget(copy)
        bottom.addWidget(export)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addLayout(bottom)
        self.scores = np.zeros((0, 0))
        self.queries: list[str] = []
        self.passages: list[str] = []
        self.plot.scene().sigMouseMoved.connect(self._moved)

    def set_scores(self, scores: np.ndarray, queries: list[str], passages: list[str]) -> None:
        self.scores, self.queries, self.passages = scores, queries, passages
        q, p = np.indices(scores.shape)
        self.cells.set_data(["query", "passage", "score"],
                            [np.array(queries, dtype=object)[q.ravel()] if queries else [],
                             np.array(passages, dtype=object)[p.ravel()] if passages else [],
                             scores.ravel().astype(float)], [None, None, ".2f"])
        self.image.setImage(scores, autoLevels=False)
        self.plot.getAxis("left").setTicks([query_ticks(queries)])
        if scores.size:
            lo, hi = float(scores.min()), float(scores.max())
            self.bar.setLevels((np.floor(lo), np.ceil(hi) if hi > lo else lo + 1))
        self.plot.autoRange()

    def cell_text(self, row: int, col: int) -> str:
        return (f"{self.scores[row, col]:.2f}  ·  query: {self.queries[row]!r}  ·  "
                f"passage: {self.passages[col]!r}")

    def _moved(self, pos) -> None:
        if not self.scores.size:
            return
        p = self.image.mapFromScene(pos)
        row, col = int(np.floor(p.y())), int(np.floor(p.x()))
        if 0 <= row < self.scores.shape[0] and 0 <= col < self.scores.shape[1]:
            self.hover.setText(self.cell_text(row, col))
