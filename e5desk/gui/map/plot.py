"""The map's plot and what is drawn on it, bottom to top: all translation links, the
clicked sentence's links, the points, density contours, the selection's rings, the found
sentences, the cluster labels."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from e5desk.gui.map.contours import Contours
from e5desk.gui.map.labels import ClusterLabels
from e5desk.gui.map.points import MapPoints
from e5desk.gui.map.tools import MapViewBox
from e5desk.gui.theme import map_colours


class MapPlot:
    """The plot widget (``widget``) and its items."""

    def __init__(self, runner, tip) -> None:
        self.view_box = MapViewBox()
        self.widget = plot = pg.PlotWidget(viewBox=self.view_box)
        plot.setBackground(map_colours()["background"])
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.setAspectLocked(True)
        self.scatter = MapPoints(size=8, tip=tip)
        self.selection_points = MapPoints(size=13, ring=True)
        self.selection_points.set_colours(np.zeros(0), [QColor(20, 20, 20)])
        self.all_links = pg.PlotCurveItem(pen=pg.mkPen((90, 90, 90, 70), width=1),
                                          connect="pairs")
        self.links = pg.PlotDataItem(pen=pg.mkPen((40, 40, 40, 160), width=1.5),
                                     connect="pairs")
        self.found = pg.ScatterPlotItem(size=16, pxMode=True, brush=None,
                                        pen=pg.mkPen((220, 30, 30), width=2))
        for item in (self.all_links, self.links, self.scatter, self.selection_points,
                     self.found):
            plot.addItem(item)
        self.cluster_labels = ClusterLabels(plot, self.view_box)
        self.contours = Contours(plot, runner)

    def clear(self) -> None:
        self.scatter.clear()
        self.selection_points.clear()
        self.links.setData([], [])
        self.all_links.setData([], [])
        self.found.clear()
        self.cluster_labels.clear()
        self.contours.clear()

    def draw_all_links(self, coords: np.ndarray | None, combined, shown: np.ndarray) -> None:
        """Lines between the translations of every meaning among the ``shown`` rows (no
        coords: none)."""
        from e5desk.core.mapping import link_pairs

        pairs = link_pairs(coords, combined.group, shown) \
            if coords is not None and combined is not None else np.zeros((0, 2, 2))
        self.draw_links(pairs, self.all_links)

    def draw_links(self, pairs: np.ndarray, item=None) -> None:
        """Line segments (k, 2, 2) on ``item`` (the clicked sentence's links by default)."""
        item = self.links if item is None else item
        if len(pairs):
            item.setData(pairs[:, 0], pairs[:, 1], connect="pairs")
        else:
            item.setData([], [])
