"""Words on the map: cluster labels over their clusters (none overlapping at the current
zoom) and the figures line above the legend."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer

from e5desk.core.mapping import MapAnalysis, cluster_centres, top_clusters


class ClusterLabels:
    """The labels of the largest clusters on a plot, placed above each cluster's central
    point; after a pan or zoom the ones that would overlap a larger cluster's label hide."""

    def __init__(self, plot: pg.PlotWidget, view_box: pg.ViewBox) -> None:
        self.plot = plot
        self.items: list[pg.TextItem] = []  # largest cluster first
        self.timer = QTimer(plot, singleShot=True, interval=60)
        self.timer.timeout.connect(self.declutter)
        view_box.sigRangeChanged.connect(self.timer.start)
        view_box.sigResized.connect(self.timer.start)

    def clear(self) -> None:
        for t in self.items:
            self.plot.removeItem(t)
        self.items = []

    def show(self, coords: np.ndarray, labels: np.ndarray, clusters: Sequence) -> None:
        self.clear()
        chosen = top_clusters(clusters)
        for c, centre in zip(chosen, cluster_centres(coords, labels, chosen), strict=True):
            # Above the cluster's central point, not on it: the points stay visible.
            item = pg.TextItem(c.label, color=(25, 25, 25), anchor=(0.5, 1.25),
                               fill=pg.mkBrush(255, 255, 255, 215),
                               border=pg.mkPen(200, 200, 200, 160))
            font = item.textItem.font()
            font.setBold(True)
            item.setFont(font)
            item.setZValue(50)
            item.setPos(*centre)
            self.plot.addItem(item)
            self.items.append(item)
        self.timer.start()

    def declutter(self) -> None:
        """Show cluster labels largest cluster first, hiding any that would overlap one
        already shown at this zoom (zoom in to see more)."""
        placed: list[QRectF] = []
        for item in self.items:
            item.show()
            box = item.sceneBoundingRect()
            visible = not any(box.intersects(other) for other in placed)
            item.setVisible(visible)
            if visible:
                placed.append(box)


def figures_text(analysis: MapAnalysis) -> str:
    """The map's figures, one short line each (the clusters first: a narrow side panel
    shows them without scrolling); what they mean is in ``FIGURES_HELP``."""
    lines = [f"{len(analysis.clusters)} clusters ({analysis.multilingual} multilingual)",
             f"language mixing: {analysis.mixing:.2f}"]
    if analysis.p_at_1 is not None:
        lines.append(f"cross-lingual P@1: {analysis.p_at_1:.3f}")
    return "\n".join(lines)


FIGURES_HELP = ("multilingual: clusters holding sentences in several languages.\n"
                "language mixing: share of each point's 10 nearest neighbours in another "
                "language.\ncross-lingual P@1: how often the nearest sentence in each other "
                "language is the translation.")


def figures_html(text: str, stale: bool, computing: str | None) -> str:
    """The figures, saying so first when the settings changed since they were computed
    (``computing``: the name of the map being computed, if one is)."""
    figures = html.escape(text).replace("\n", "<br>")
    if stale and computing:
        return ("<span style='color:#b35900'><b>Computing the "
                f"{html.escape(computing)} map…</b> (shown meanwhile: a quick preview; "
                "cancel from the status bar)</span><br>" + figures)
    if stale:
        return ("<span style='color:#b35900'><b>Out of date:</b> the settings changed since "
                "this map and these figures were computed: press Recompute map.</span><br>"
                + figures)
    return figures
