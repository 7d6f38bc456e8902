"""Words on the map: cluster labels over their clusters (none overlapping at the current
zoom) and the figures line above the legend."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QTimer

from e5desk.core.figures import map_figures
from e5desk.core.mapping import LabelLevel, MapAnalysis, levels_in_view, place_labels


class ClusterLabels:
    """The labels of the clusters on a plot by level (core.mapping.label_levels): zoomed
    out, a few labels of merged groups of clusters; each ``LEVEL_ZOOM`` times closer, the
    next finer level joins. After a pan or zoom they are placed again
    (core.mapping.place_labels), coarser levels and larger clusters first: none
    overlapping, moved beside their cluster with a leader line when their own place is
    taken, the ones that do not fit hidden."""

    def __init__(self, plot: pg.PlotWidget, view_box: pg.ViewBox) -> None:
        self.plot = plot
        self.view_box = view_box
        self.items: list[pg.TextItem] = []  # coarsest level first, largest cluster first
        self.item_level = np.zeros(0, dtype=int)
        self.anchors = np.zeros((0, 2))  # each label's cluster point (map coordinates)
        self.n_levels = 1
        self.extent = (1.0, 1.0)  # the map's width and height
        self.leaders = pg.PlotCurveItem(pen=pg.mkPen((60, 60, 60, 200), width=1.2),
                                        connect="pairs")
        self.leaders.setZValue(49)
        plot.addItem(self.leaders)
        self.timer = QTimer(plot, singleShot=True, interval=60)
        self.timer.timeout.connect(self.declutter)
        view_box.sigRangeChanged.connect(self.timer.start)
        view_box.sigResized.connect(self.timer.start)

    def clear(self) -> None:
        for t in self.items:
            self.plot.removeItem(t)
        self.items = []
        self.item_level = np.zeros(0, dtype=int)
        self.anchors = np.zeros((0, 2))
        self.leaders.setData([], [])

    def show(self, coords: np.ndarray, levels: Sequence[LabelLevel]) -> None:
        self.clear()
        span = coords.max(axis=0) - coords.min(axis=0) if len(coords) else np.ones(2)
        self.extent = (float(max(span[0], 1e-9)), float(max(span[1], 1e-9)))
        self.n_levels = max(len(levels), 1)
        text, fill, border = label_colours()
        seen: set[str] = set()
        anchors, level_of = [], []
        for depth, level in enumerate(levels):
            coarse = depth < len(levels) - 1
            for c, anchor in zip(level.clusters, level.anchors, strict=True):
                if c.label in seen:
                    continue  # a group of one cluster: its label is already there
                seen.add(c.label)
                # A left-to-right mark first: a label whose first word is Arabic or Hebrew
                # made the whole line right-to-left ("password (+3) · المرور")
                item = pg.TextItem("\u200e" + c.label, color=text, anchor=(0.5, 0.5),
                                   fill=pg.mkBrush(fill), border=pg.mkPen(border))
                font = item.textItem.font()
                font.setBold(True)
                if coarse:
                    font.setPointSizeF(font.pointSizeF() * 1.25)
                item.setFont(font)
                item.setZValue(50)
                item.setToolTip(cluster_tip(c, coarse))
                self.plot.addItem(item)
                self.items.append(item)
                anchors.append(anchor)
                level_of.append(depth)
        self.anchors = np.array(anchors, dtype=np.float64).reshape(-1, 2)
        self.item_level = np.array(level_of, dtype=int)
        self.declutter()
        self.timer.start()

    def zoom(self) -> float:
        """The map's extent over the view's (1: the whole map in view)."""
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        return min(self.extent[0] / max(x1 - x0, 1e-12), self.extent[1] / max(y1 - y0, 1e-12))

    def declutter(self) -> None:
        """Place the labels of the levels shown at the current zoom (in screen pixels)."""
        if not self.items:
            self.leaders.setData([], [])
            return
        vb = self.view_box
        wanted = self.item_level < levels_in_view(self.zoom(), self.n_levels)
        to_px = [vb.mapViewToScene(QPointF(float(x), float(y))) for x, y in self.anchors]
        anchors = np.array([[p.x(), p.y()] for p in to_px])
        anchors[~wanted] = np.nan  # out of any bounds: not placed
        sizes = np.array([[i.textItem.boundingRect().width(),
                           i.textItem.boundingRect().height()] for i in self.items])
        area = vb.sceneBoundingRect()
        placement = place_labels(anchors, sizes, bounds=(area.left(), area.top(),
                                                         area.right(), area.bottom()))
        lines = []
        for i, item in enumerate(self.items):
            item.setVisible(bool(placement.shown[i]))
            if not placement.shown[i]:
                continue
            centre = vb.mapSceneToView(QPointF(*placement.centres[i]))
            item.setPos(centre)
            if placement.leader[i]:
                lines += [self.anchors[i], (centre.x(), centre.y())]
        pts = np.array(lines, dtype=np.float64).reshape(-1, 2)
        self.leaders.setData(pts[:, 0], pts[:, 1], connect="pairs")

    def shown_count(self) -> int:
        return sum(1 for i in self.items if i.isVisible())

    def shown_levels(self) -> list[int]:
        """The level (0: coarsest) of each label shown now."""
        return [int(lv) for lv, i in zip(self.item_level, self.items, strict=True)
                if i.isVisible()]


def label_colours() -> tuple:
    """Text, fill and border of the map labels in the current theme."""
    from e5desk.gui.theme import map_colours

    colours = map_colours()
    return colours["label_text"], colours["label_fill"], colours["label_border"]


def cluster_tip(cluster, group: bool = False) -> str:
    """What a cluster label stands for: its size, words and languages."""
    langs = ", ".join(f"{lang} {share:.0%}" for lang, share in
                      sorted(cluster.languages.items(), key=lambda kv: -kv[1])[:6])
    words = ", ".join(cluster.keywords[:6])
    if group:
        return (f"A group of neighbouring clusters: {cluster.size:,} sentences\n"
                f"Typical words: {words}\nLanguages: {langs}\n"
                "(zoom in for the labels of its clusters)")
    return (f"Cluster {cluster.id}: {cluster.size:,} sentences\n"
            f"Typical words: {words}\nLanguages: {langs}\n"
            "(HDBSCAN on the map; the label is the cluster's most typical words)")


def figures_text(analysis: MapAnalysis, n_points: int = 0) -> str:
    """The map's figures as rich text: each figure in bold with a plain-language line
    under it (the clusters first: a narrow side panel shows them without scrolling)."""
    from e5desk.gui.theme import muted_css

    muted = muted_css()
    parts = []
    for f in map_figures(analysis, n_points or len(analysis.labels)):
        parts.append(f"<b>{html.escape(f.headline)}</b><br>"
                     f"<span style='color:{muted}'>{html.escape(f.plain)}</span>")
    return "<br>".join(parts)


def figures_tooltip(analysis: MapAnalysis | None) -> str:
    """How each of the map's figures is computed."""
    if analysis is None:
        return FIGURES_HELP
    return "\n\n".join(f"{f.headline}: {f.how}"
                        for f in map_figures(analysis, len(analysis.labels)))


FIGURES_HELP = ("multilingual: clusters holding sentences in several languages.\n"
                "language mixing: share of each point's 10 nearest neighbours in another "
                "language.\ncross-lingual P@1: how often the nearest sentence in each other "
                "language is the translation.")


def figures_html(text: str, stale: bool, computing: str | None) -> str:
    """The figures (rich text), saying so first when the settings changed since they were
    computed (``computing``: the name of the map being computed, if one is)."""
    from e5desk.gui.theme import warning_css

    colour = warning_css()
    figures = text
    if stale and computing:
        return (f"<span style='color:{colour}'><b>Computing the "
                f"{html.escape(computing)} map…</b> (shown meanwhile: a quick preview; "
                "cancel from the status bar)</span><br>" + figures)
    if stale:
        return (f"<span style='color:{colour}'><b>Out of date:</b> the settings changed "
                "since this map and these figures were computed: press Recompute "
                "map.</span><br>" + figures)
    return figures
