"""Render a map to PNG without a window (pyqtgraph's exporter, offscreen Qt)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def render_map(coords: np.ndarray, langs, clusters, labels: np.ndarray, out: Path,
               size: tuple[int, int] = (1400, 1000)) -> None:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    import pyqtgraph.exporters
    from PySide6.QtWidgets import QApplication

    from e5desk.gui.map_view import palette

    _app = QApplication.instance() or QApplication([])
    plot = pg.PlotWidget(background="w")
    plot.resize(*size)
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    plot.setAspectLocked(True)
    names, codes = np.unique([str(x or "?") for x in langs], return_inverse=True)
    colours = palette(len(names))
    brushes = [pg.mkBrush(c) for c in colours]
    plot.addLegend(offset=(10, 10), labelTextSize="13pt", labelTextColor="k",
                   brush=pg.mkBrush(255, 255, 255, 220))
    for i, name in enumerate(names):
        rows = codes == i
        item = pg.ScatterPlotItem(coords[rows, 0], coords[rows, 1], size=7, pen=None,
                                  brush=brushes[i], name=str(name))
        plot.addItem(item)
    for c in sorted(clusters, key=lambda c: -c.size)[:25]:
        centre = coords[labels == c.id].mean(axis=0)
        text = pg.TextItem(c.label, color=(20, 20, 20), anchor=(0.5, 0.5))
        text.setPos(*centre)
        plot.addItem(text)
    plot.autoRange()
    exporter = pyqtgraph.exporters.ImageExporter(plot.plotItem)
    exporter.parameters()["width"] = size[0]
    exporter.export(str(out))
