"""Density contours over the map (View option "Density contours"): lines traced off the
GUI thread (gui.map.density.contour_lines) and drawn as one curve per level, darker where
the map is denser."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg


class Contours:
    """The contour lines of the map shown on ``plot``, computed by ``runner`` when asked."""

    def __init__(self, plot: pg.PlotWidget, runner) -> None:
        self.plot, self.runner = plot, runner
        self.curves: list[pg.PlotCurveItem] = []
        self.coords: np.ndarray | None = None  # the map the lines were traced on
        self.job = None

    def clear(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job = None
        for curve in self.curves:
            self.plot.removeItem(curve)
        self.curves = []
        self.coords = None

    def show(self, coords: np.ndarray | None) -> None:
        """Trace the contours of ``coords`` in the background (None: none)."""
        self.clear()
        if coords is None or len(coords) < 10:
            return
        from e5desk.gui.map.density import contour_lines

        self.coords = coords
        self.job = self.runner.start("Density contours",
                                     lambda progress, cancelled: (coords, contour_lines(coords)),
                                     self._draw)

    def _draw(self, result) -> None:
        coords, levels = result
        if coords is not self.coords:
            return  # another map, or switched off, meanwhile
        self.job = None
        for i, lines in enumerate(levels):
            shade = int(150 - 110 * (i + 1) / max(len(levels), 1))
            curve = pg.PlotCurveItem(lines[:, 0], lines[:, 1], connect="finite",
                                     pen=pg.mkPen((shade, shade, shade, 200), width=1.3))
            curve.setZValue(40)  # over the points, under the labels
            self.plot.addItem(curve, ignoreBounds=True)
            self.curves.append(curve)
