"""The map: sentences placed by meaning (PCA preview, then UMAP), coloured by language,
cluster, set or score to the current query; hover for the sentence, click for its nearest
neighbours in every language and lines to its translations; clusters labelled at their
centres; rectangle or lasso selection into a table that exports to CSV.

Drawing stays smooth at 1M points: ``MapPoints`` paints every point as a fragment of one
small pixmap atlas (one disc per colour, no per-point pens or brushes) while at most
``MapPoints.budget`` points are in view; above that it paints a density image instead
(every shown point counted into a cell of about two screen pixels, the cell's colour the
mean of its points' colours, its opacity rising with the log of its count), so every point
is represented and the cost of a frame is bounded. Hover, click and selection always use
every point's coordinates.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import internals
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QIcon,
    QImage,
    QKeySequence,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
    QShortcut,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFrame,
    QGraphicsPathItem,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from e5desk.core.data.sentence_set import group_label
from e5desk.core.mapping import (
    DEFAULT_PARAMS,
    MAP_ROLE,
    analyse_map,
    category_colours,
    cluster_centres,
    language_colour,
    link_pairs,
    links_of,
    nearest_per_language,
    score_text,
    top_clusters,
)
from e5desk.gui.session import Session
from e5desk.gui.tables import ResultTable

METHODS = {"umap": "UMAP (cosine)", "pca": "PCA (instant)", "tsne": "t-SNE"}
COLOUR_BY = {"lang": "language", "cluster": "cluster", "set": "set",
             "score": "score to the query"}
ALL_LINKS_MAX = 20_000  # points; more links than that only hide the map
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


def factorize(values) -> tuple[list[str], np.ndarray]:
    """Sorted distinct names and each value's index among them (None -> "?")."""
    index: dict = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int64,
                        count=len(values))
    names = ["?" if v is None else str(v) for v in index]
    order = np.argsort(np.array(names, dtype=object), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return [names[i] for i in order], rank[codes] if len(codes) else codes


class MapPoints(pg.GraphicsObject):
    """Every point of a map in one item, drawn as pixmap fragments with level of detail.

    When at most ``budget`` shown points (their colour checked) are in view, each is drawn
    as a disc; above that the item draws a density image of all of them (``mode`` says
    which). Hover and click find the nearest shown point among all of them.
    """

    DENSITY_CELL = 2.0  # screen pixels per density cell
    DENSITY_MARGIN = 0.5  # the image covers the view plus this share of it on each side

    clicked = Signal(int)  # row

    def __init__(self, size: float = 8, budget: int = 60_000, ring: bool = False,
                 tip: Callable[[int], str] | None = None) -> None:
        super().__init__()
        self.size, self.budget, self.ring, self.tip = size, budget, ring, tip
        self.on_top = False  # draw higher colour codes last (scores: best on top)
        self._xy = np.zeros((0, 2), dtype=np.float32)  # in draw order
        self._rows = np.zeros(0, dtype=np.int64)  # draw order -> row
        self._codes = np.zeros(0, dtype=np.int32)  # colour code, in draw order
        self._colours: list[QColor] = [QColor(120, 120, 120)]
        self._shown = np.ones(1, dtype=bool)  # per colour code
        self._vis = np.zeros(0, dtype=np.int64)  # draw-order positions of shown points
        self._vis_xy = self._xy
        self._bounds: QRectF | None = None
        self._atlas: QPixmap | None = None
        self._atlas_dpr = 0.0
        self._src = np.zeros((1, 4))
        self._frags = internals.PrimitiveArray(QPainter.PixmapFragment, 10)
        self._drawn = np.zeros(0, dtype=np.int64)  # draw-order positions of the last frame
        self._tip_cleared = True
        self.mode = "points"  # what the last frame drew: "points" | "density"
        self._rgb = np.zeros((0, 3))  # colour of each shown point (for the density image)
        self._density: tuple | None = None  # (extent QRectF, cell size, QImage, counts)
        self._refine = QTimer(singleShot=True, interval=80)
        self._refine.timeout.connect(self._refine_density)

    # -- data -------------------------------------------------------------------------
    def set_points(self, coords: np.ndarray, seed: int = 0) -> None:
        coords = np.asarray(coords, dtype=np.float32).reshape(-1, 2)
        self.prepareGeometryChange()
        self._rows = np.random.default_rng(seed).permutation(len(coords))
        self._xy = np.ascontiguousarray(coords[self._rows])
        self._codes = np.zeros(len(coords), dtype=np.int32)
        self._shown = np.ones(len(self._colours), dtype=bool)
        if len(coords):
            (x0, y0), (x1, y1) = coords.min(axis=0), coords.max(axis=0)
            self._bounds = QRectF(float(x0), float(y0), float(x1 - x0), float(y1 - y0))
        else:
            self._bounds = None
        self._drawn = np.zeros(0, dtype=np.int64)
        self._update_shown()
        self.informViewBoundsChanged()

    def clear(self) -> None:
        self.set_points(np.zeros((0, 2)))

    def __len__(self) -> int:
        return len(self._rows)

    def set_colours(self, codes: np.ndarray, colours: list[QColor],
                    on_top: bool = False) -> None:
        """``codes``: a colour index per row (in row order)."""
        self._codes = np.asarray(codes, dtype=np.int32)[self._rows]
        self._colours = list(colours) or [QColor(120, 120, 120)]
        self._shown = np.ones(len(self._colours), dtype=bool)
        self.on_top = on_top
        self._atlas = None
        self._update_shown()

    def set_shown(self, shown: np.ndarray) -> None:
        """Which colour codes are drawn (legend check boxes)."""
        self._shown = np.asarray(shown, dtype=bool)
        self._update_shown()

    def _update_shown(self) -> None:
        if len(self._shown) and self._shown.all():
            self._vis = np.arange(len(self._rows))
            self._vis_xy = self._xy
        else:
            self._vis = np.flatnonzero(self._shown[self._codes]) if len(self._codes) else \
                np.zeros(0, dtype=np.int64)
            self._vis_xy = self._xy[self._vis]
        self._rgb = None  # built on the first density frame
        self._density = None
        self.update()

    def drawn_rows(self) -> np.ndarray:
        """Rows painted as points in the last frame (none in density mode)."""
        return self._rows[self._drawn]

    def density_counts(self) -> np.ndarray | None:
        """Points per cell of the density image last drawn (None in points mode)."""
        return self._density[4] if self.mode == "density" and self._density else None

    # -- geometry ---------------------------------------------------------------------
    def _pad(self) -> tuple[float, float]:
        """Half a symbol (plus a pixel) in data units along x and y."""
        px, py = self.pixelVectors()
        half = self.size / 2 + 1
        try:
            return (0.0 if px is None else px.length() * half,
                    0.0 if py is None else py.length() * half)
        except OverflowError:
            return 0.0, 0.0

    def boundingRect(self) -> QRectF:  # noqa: N802
        if self._bounds is None:
            return QRectF()
        dx, dy = self._pad()
        return self._bounds.adjusted(-dx, -dy, dx, dy)

    def viewTransformChanged(self) -> None:  # noqa: N802
        self.prepareGeometryChange()
        super().viewTransformChanged()  # forgets the cached view rectangle

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):  # noqa: N802
        if not len(self._xy):
            return None, None
        values = self._xy[:, ax]
        if frac >= 1.0:
            return float(values.min()), float(values.max())
        return tuple(float(v) for v in np.percentile(values, [50 * (1 - frac),
                                                              50 * (1 + frac)]))

    def pixelPadding(self) -> float:  # noqa: N802
        return self.size / 2 + 1

    # -- drawing ----------------------------------------------------------------------
    def _build_atlas(self, dpr: float) -> None:
        cell = int(np.ceil((self.size + 3) * dpr))
        cols = min(len(self._colours), 32)
        rows = -(-len(self._colours) // cols)
        image = QImage(cols * cell, rows * cell, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        d = self.size * dpr
        src = np.zeros((len(self._colours), 4))
        for i, colour in enumerate(self._colours):
            x, y = (i % cols) * cell, (i // cols) * cell
            if self.ring:
                painter.setPen(QPen(colour, 2 * dpr))
                painter.setBrush(Qt.BrushStyle.NoBrush)
            else:
                edge = QColor(colour).darker(135)
                edge.setAlpha(170)
                painter.setPen(QPen(edge, 0.8 * dpr))
                painter.setBrush(QBrush(colour))
            painter.drawEllipse(QRectF(x + (cell - d) / 2, y + (cell - d) / 2, d, d))
            src[i] = (x, y, cell, cell)
        painter.end()
        self._atlas, self._atlas_dpr, self._src = QPixmap.fromImage(image), dpr, src

    def _view_box(self) -> tuple[float, float, float, float] | None:
        rect = self.viewRect()
        if rect is None:
            return None
        dx, dy = self._pad()
        return rect.left() - dx, rect.right() + dx, rect.top() - dy, rect.bottom() + dy

    @staticmethod
    def _inside(a: np.ndarray, box) -> np.ndarray:
        x0, x1, y0, y1 = box
        return (a[:, 0] >= x0) & (a[:, 0] <= x1) & (a[:, 1] >= y0) & (a[:, 1] <= y1)

    def _too_many_in_view(self, box) -> bool:
        """More than ``budget`` shown points in view? Counted exactly on small maps,
        estimated from the head of the random draw order on big ones."""
        xy = self._vis_xy
        if len(xy) <= self.budget:
            return False
        head = xy[:16384]
        return self._inside(head, box).mean() * len(xy) > self.budget

    def paint(self, p: QPainter, option, widget=None) -> None:
        box = self._view_box()
        if box is None or not len(self._vis_xy):
            self._drawn = np.zeros(0, dtype=np.int64)
            self.mode = "points"
            return
        if self._too_many_in_view(box):
            self.mode = "density"
            self._drawn = np.zeros(0, dtype=np.int64)
            self._paint_density(p, widget)
            return
        self.mode = "points"
        self._refine.stop()
        pos = np.flatnonzero(self._inside(self._vis_xy, box))
        self._drawn = self._vis[pos]
        if not len(pos):
            return
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        if self._atlas is None or dpr != self._atlas_dpr:
            self._build_atlas(dpr)
        codes = self._codes[self._drawn]
        if self.on_top:
            order = np.argsort(codes, kind="stable")
            pos, codes, self._drawn = pos[order], codes[order], self._drawn[order]
        xy = self._vis_xy[pos].astype(np.float64)
        t = p.transform()
        self._frags.resize(len(pos))
        frags = self._frags.ndarray()
        frags[:, 0] = t.m11() * xy[:, 0] + t.m21() * xy[:, 1] + t.m31()
        frags[:, 1] = t.m12() * xy[:, 0] + t.m22() * xy[:, 1] + t.m32()
        np.clip(frags[:, :2], -2 ** 30, 2 ** 30, out=frags[:, :2])
        frags[:, 2:6] = self._src[codes]
        frags[:, 6:10] = (1 / dpr, 1 / dpr, 0.0, 1.0)
        p.resetTransform()
        p.drawPixmapFragments(*self._frags.drawargs(), self._atlas)

    # -- density ----------------------------------------------------------------------
    def _wanted_density(self) -> tuple[QRectF, float, float] | None:
        """The extent (view plus margins) and cell size (x, y in data units) wanted now."""
        rect = self.viewRect()
        px, py = self.pixelVectors()
        if rect is None or px is None or py is None or not px.length() or not py.length():
            return None
        m = self.DENSITY_MARGIN
        extent = rect.adjusted(-rect.width() * m, -rect.height() * m,
                               rect.width() * m, rect.height() * m)
        return extent, px.length() * self.DENSITY_CELL, py.length() * self.DENSITY_CELL

    def _density_fits(self, wanted) -> bool:
        """Does the cached image cover the view at about the wanted resolution?"""
        if self._density is None or wanted is None:
            return False
        extent, cx, _cy = self._density[0], self._density[1], self._density[2]
        return (extent.contains(self.viewRect()) and 0.5 <= cx / wanted[1] <= 2.0)

    def _compute_density(self, wanted) -> None:
        extent, cx, cy = wanted
        nx = max(1, min(4096, int(np.ceil(extent.width() / cx))))
        ny = max(1, min(4096, int(np.ceil(extent.height() / cy))))
        cx, cy = extent.width() / nx, extent.height() / ny
        xy = self._vis_xy
        ix = np.floor((xy[:, 0] - extent.left()) / cx)
        iy = np.floor((xy[:, 1] - extent.top()) / cy)
        keep = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        cell = (iy[keep] * nx + ix[keep]).astype(np.int64)
        if self._rgb is None:
            table = np.array([c.getRgb()[:3] for c in self._colours], dtype=np.float32)
            self._rgb = table[self._codes[self._vis]]
        rgb = self._rgb[keep]
        counts = np.bincount(cell, minlength=nx * ny).astype(np.float32)
        sums = [np.bincount(cell, weights=rgb[:, k], minlength=nx * ny) for k in range(3)]
        filled = counts > 0
        # Opacity from the log of the count: a lone point still shows (0.45), the densest
        # cell is opaque; colour = mean colour of the cell's points.
        alpha = np.zeros(nx * ny, dtype=np.float32)
        top = np.log1p(counts.max()) if filled.any() else 1.0
        alpha[filled] = 0.45 + 0.55 * np.log1p(counts[filled]) / max(top, 1e-9)
        argb = np.zeros((nx * ny, 4), dtype=np.uint8)  # B, G, R, A (premultiplied)
        safe = np.maximum(counts, 1)
        for k, channel in ((0, 2), (1, 1), (2, 0)):
            argb[:, channel] = np.clip(sums[k] / safe * alpha, 0, 255).astype(np.uint8)
        argb[:, 3] = (alpha * 255).astype(np.uint8)
        image = QImage(argb.reshape(ny, nx, 4).tobytes(), nx, ny, nx * 4,
                       QImage.Format.Format_ARGB32_Premultiplied).copy()
        self._density = (QRectF(extent.left(), extent.top(), nx * cx, ny * cy), cx, cy,
                         image, counts.reshape(ny, nx))

    def _paint_density(self, p: QPainter, widget) -> None:
        wanted = self._wanted_density()
        if not self._density_fits(wanted):
            self._compute_density(wanted)  # the view left the image: now, in this frame
        elif abs(self._density[1] / wanted[1] - 1) > 0.05:
            self._refine.start()  # sharper when the view settles
        if self._density is None:
            return
        extent, image = self._density[0], self._density[3]
        p.save()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.drawImage(extent, image)
        p.restore()

    def _refine_density(self) -> None:
        self._density = None
        self.update()

    # -- interaction ------------------------------------------------------------------
    def row_at(self, pos: QPointF) -> int:
        """The shown point under ``pos`` (item coordinates), nearest first; -1 if none.
        Searches every shown point, also where the density image stands for them."""
        px, py = self.pixelVectors()
        if px is None or py is None or px.length() == 0 or py.length() == 0:
            return -1
        if self.mode == "points":
            candidates = self._drawn
        else:
            r = self.size / 2 + 2
            box = (pos.x() - r * px.length(), pos.x() + r * px.length(),
                   pos.y() - r * py.length(), pos.y() + r * py.length())
            candidates = self._vis[np.flatnonzero(self._inside(self._vis_xy, box))]
        if not len(candidates):
            return -1
        xy = self._xy[candidates]
        d2 = ((xy[:, 0] - pos.x()) / px.length()) ** 2 + ((xy[:, 1] - pos.y()) / py.length()) ** 2
        best = int(np.argmin(d2))
        if d2[best] > (self.size / 2 + 2) ** 2:
            return -1
        return int(self._rows[candidates[best]])

    def hoverEvent(self, ev) -> None:  # noqa: N802
        vb = self.getViewBox()
        if vb is None or self.tip is None:
            return
        row = -1 if ev.exit else self.row_at(ev.pos())
        if row >= 0:
            vb.setToolTip(self.tip(row))
            self._tip_cleared = False
        elif not self._tip_cleared:
            vb.setToolTip("")
            self._tip_cleared = True

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        row = self.row_at(ev.pos())
        if row < 0:
            ev.ignore()
            return
        ev.accept()
        self.clicked.emit(row)


class MapViewBox(pg.ViewBox):
    """Pan and zoom as usual; selection by rectangle or lasso when the tool says so, or
    with Shift (rectangle) or Ctrl (lasso) held while dragging."""

    region_selected = Signal(str, object)  # "rect", (x0, y0, x1, y1) | "lasso", (m, 2)

    def __init__(self) -> None:
        super().__init__()
        self.tool = "pan"  # "pan" | "rect" | "lasso"
        self._band = QGraphicsPathItem()
        self._band.setPen(pg.mkPen((40, 40, 40), width=1, style=Qt.PenStyle.DashLine))
        self._band.setBrush(QBrush(QColor(60, 120, 220, 40)))
        self._band.setZValue(1e9)
        self._band.hide()
        self.addItem(self._band, ignoreBounds=True)
        self._trace: list[QPointF] = []
        self._last = QPointF()

    def drag_tool(self, ev) -> str:
        if ev.button() != Qt.MouseButton.LeftButton:
            return "pan"
        mods = ev.modifiers()
        if mods & Qt.KeyboardModifier.ShiftModifier:
            return "rect"
        if mods & Qt.KeyboardModifier.ControlModifier:
            return "lasso"
        return self.tool

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        tool = self.drag_tool(ev) if axis is None else "pan"
        if tool == "pan":
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        here = self.mapToView(ev.pos())
        if ev.isStart() or not self._trace:
            self._trace = [self.mapToView(ev.buttonDownPos())]
            self._last = ev.buttonDownPos()
        if tool == "lasso" and (ev.pos() - self._last).manhattanLength() >= 3:
            self._trace.append(here)
            self._last = ev.pos()
        path = QPainterPath()
        if tool == "rect":
            path.addRect(QRectF(self._trace[0], here).normalized())
        else:
            path.addPolygon(QPolygonF([*self._trace, here]))
            path.closeSubpath()
        self._band.setPath(path)
        self._band.show()
        if ev.isFinish():
            self._band.hide()
            start, self._trace = self._trace, []
            if tool == "rect":
                self.region_selected.emit("rect", (start[0].x(), start[0].y(),
                                                   here.x(), here.y()))
            else:
                polygon = np.array([(q.x(), q.y()) for q in [*start, here]])
                self.region_selected.emit("lasso", polygon)


class MapView(QWidget):
    status = Signal(str)
    changed = Signal()  # a new map was drawn, or the selection changed (saved in projects)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.coords: np.ndarray | None = None
        self.map_params: dict = {}
        self.labels: np.ndarray | None = None
        self.clusters = []
        self.analysis = None  # core.mapping.MapAnalysis of the map shown
        self._figures_text = ""
        self._map_jobs: list = []  # running projection jobs (cancelled by a newer map)
        self.selected: int | None = None
        self.highlight = np.zeros(0, dtype=int)
        self.selection = np.zeros(0, dtype=np.int64)
        self.scores: np.ndarray | None = None  # score (cos x 100) of each row to the query
        self.score_query: str | None = None
        self._score_key = None  # (query, vectors) the scores belong to
        self._score_job = None
        self._query_source: Callable[[], str | None] | None = None
        self._row_codes = np.zeros(0, dtype=np.int64)  # colour code per row
        self._legend_of_code = np.zeros(0, dtype=np.int64)  # colour code -> legend entry
        self._shown_codes = np.ones(0, dtype=bool)
        self._langs_for = None
        self._langs = np.zeros(0, dtype=object)
        self._restore_selection = None
        self._table_source = None  # (combined, scores) the table columns come from

        self.method = QComboBox()
        for key, label in METHODS.items():
            self.method.addItem(label, key)
        self.center = QCheckBox("Separate meaning from language")
        self.center.setToolTip("Subtract each language's mean vector before mapping, so "
                               "translations land together (language-identity switch)")
        self.center.setChecked(DEFAULT_PARAMS.center_languages)
        self.colour = QComboBox()
        for key, label in COLOUR_BY.items():
            self.colour.addItem(f"Colour by {label}", key)
        self.colour.setItemData(
            self.colour.findData("score"),
            "Score (cosine x 100) of every sentence to the first query typed in the Scores "
            "tab, from light (low) to dark red (high)", Qt.ItemDataRole.ToolTipRole)
        self.compute = QPushButton("Compute map")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find on the map: type a sentence in any language, Enter")
        self.figures = QLabel("")
        self.figures.setWordWrap(True)

        # Mouse tools: pan/zoom (default), rectangle, lasso.
        self.tools = QButtonGroup(self)
        tool_row = QHBoxLayout()
        tool_row.addWidget(QLabel("Mouse:"))
        for key, text, tip in (
                ("pan", "Pan/zoom", "Drag to pan, wheel to zoom (hold Shift to select a "
                 "rectangle, Ctrl for a lasso)"),
                ("rect", "Select rectangle", "Drag a rectangle: its sentences are listed "
                 "beside the map (Shift+drag does the same in any mode)"),
                ("lasso", "Select lasso", "Draw a loop around sentences: they are listed "
                 "beside the map (Ctrl+drag does the same in any mode)")):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setCheckable(True)
            button.setProperty("tool", key)
            button.setChecked(key == "pan")
            self.tools.addButton(button)
            tool_row.addWidget(button)
        self.all_links_box = QCheckBox("All translation links")
        self.all_links_box.setToolTip(
            "Lines between the translations of every meaning (each member of a group to the "
            f"group's first sentence). Only for maps of up to {ALL_LINKS_MAX:,} points: "
            "beyond that the lines hide the map; click a point to see its own links.")
        tool_row.addSpacing(12)
        tool_row.addWidget(self.all_links_box)
        tool_row.addStretch(1)
        self.lod_note = QLabel("")  # in the side panel: long text never widens the window
        self.lod_note.setStyleSheet("color: #666")
        self.lod_note.setWordWrap(True)
        self.lod_note.hide()

        self.view_box = MapViewBox()
        self.plot = pg.PlotWidget(viewBox=self.view_box)
        self.plot.setBackground("w")
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setAspectLocked(True)
        self.scatter = MapPoints(size=8, tip=lambda row: self._tip(0, 0, row))
        self.selection_points = MapPoints(size=13, ring=True)
        self.selection_points.set_colours(np.zeros(0), [QColor(20, 20, 20)])
        self.all_links = pg.PlotCurveItem(pen=pg.mkPen((90, 90, 90, 70), width=1),
                                          connect="pairs")
        self.links = pg.PlotDataItem(pen=pg.mkPen((40, 40, 40, 160), width=1.5),
                                     connect="pairs")
        self.found = pg.ScatterPlotItem(size=16, pxMode=True, brush=None,
                                        pen=pg.mkPen((220, 30, 30), width=2))
        self.plot.addItem(self.all_links)
        self.plot.addItem(self.links)
        self.plot.addItem(self.scatter)
        self.plot.addItem(self.selection_points)
        self.plot.addItem(self.found)
        self.cluster_text: list[pg.TextItem] = []

        # Legend: colour entries (check to show/hide), and the score scale when scoring.
        self.score_caption = QLabel("")
        self.score_caption.setWordWrap(True)
        self.score_bar = QLabel()
        self.score_bar.setToolTip("Score (cosine x 100) to the query: low on the left, "
                                  "high on the right")
        self.score_caption.hide()
        self.score_bar.hide()
        self.legend = QListWidget()
        legend_box = QWidget()
        legend_layout = QVBoxLayout(legend_box)
        legend_layout.setContentsMargins(0, 0, 0, 0)
        legend_layout.addWidget(self.lod_note)
        legend_layout.addWidget(self.score_caption)
        legend_layout.addWidget(self.score_bar)
        legend_layout.addWidget(self.legend, 1)
        self.neighbours = QTextBrowser()
        self.neighbours.setPlaceholderText("Click a point: its nearest sentences in every "
                                           "language appear here.")

        # Selection table below the map.
        self.selection_count = QLabel("")
        self.clear_selection_button = QPushButton("Clear")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save the selected sentences (text, lang, group, set, "
                                      "line; score when colouring by score) as CSV")
        self.selection_table = ResultTable(
            "map-selection", "map selection",
            empty_hint="Select sentences on the map first (Shift-drag: rectangle, "
                       "Ctrl-drag: lasso).")
        self.selection_model = self.selection_table.result_model
        self.selection_table.status.connect(self.status)
        selection_box = QWidget()
        selection_layout = QVBoxLayout(selection_box)
        selection_layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        header.addWidget(self.selection_count, 1)
        header.addWidget(self.clear_selection_button)
        header.addWidget(self.export_button)
        selection_layout.addLayout(header)
        selection_layout.addWidget(self.selection_table, 1)
        self.selection_table.hide()  # until something is selected
        self._update_selection_widgets()

        # The plot owns the tab: controls in two short rows above it; figures, legend,
        # neighbours and the selection in a side panel that never shrinks the plot.
        self.full_screen_button = QToolButton()
        self.full_screen_button.setText("Full screen")
        self.full_screen_button.setCheckable(True)
        self.full_screen_button.setToolTip("The map alone on the whole screen (F11)")
        self.full_screen_button.toggled.connect(self.set_full_screen)
        shortcut = QShortcut(QKeySequence("F11"), self)
        shortcut.activated.connect(self.full_screen_button.toggle)
        # Small screens (1024x700): combos elide long entries, the search box shrinks.
        for combo, chars in ((self.method, 9), (self.colour, 14)):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(chars)
        self.search.setMinimumWidth(80)
        controls = QHBoxLayout()
        controls.addWidget(self.method)
        controls.addWidget(self.colour)
        controls.addWidget(self.center)
        controls.addWidget(self.compute)
        controls.addWidget(self.search, 1)
        tool_row.addWidget(self.full_screen_button)
        self.figures.setTextFormat(Qt.TextFormat.RichText)
        self.figures.setStyleSheet("padding: 2px")
        # Long text never makes the window wider than the screen: the figures scroll,
        # the selection line is clipped (its full text is the tooltip).
        self.selection_count.setSizePolicy(QSizePolicy.Policy.Ignored,
                                           QSizePolicy.Policy.Preferred)
        figures_box = QScrollArea()
        figures_box.setWidget(self.figures)
        figures_box.setWidgetResizable(True)
        figures_box.setFrameShape(QFrame.Shape.NoFrame)
        figures_box.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        figures_box.setMinimumHeight(self.figures.fontMetrics().height() * 3)
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(figures_box)
        side.addWidget(legend_box)
        side.addWidget(self.neighbours)
        side.addWidget(selection_box)
        side.setStretchFactor(1, 1)
        side.setStretchFactor(2, 1)
        side.setStretchFactor(3, 2)
        side.setMinimumWidth(220)
        self.side = side
        body = QSplitter()
        body.addWidget(self.plot)
        body.addWidget(side)
        body.setStretchFactor(0, 1)
        body.setStretchFactor(1, 0)
        body.setCollapsible(0, False)
        body.setSizes([1000, 320])
        self.body = body
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(controls)
        layout.addLayout(tool_row)
        layout.addWidget(body, 1)
        self._hidden_docks: list = []  # docks put away while the map owns the window
        self._full_screen_state: dict | None = None

        self.compute.clicked.connect(self.compute_map)
        self.method.currentIndexChanged.connect(self._settings_changed)
        self.center.toggled.connect(self._settings_changed)
        self.colour.currentIndexChanged.connect(self.recolour)
        self.legend.itemChanged.connect(self._legend_toggled)
        self.scatter.clicked.connect(self.select)
        self.search.returnPressed.connect(self.find)
        self.tools.buttonClicked.connect(lambda b: self.set_tool(b.property("tool")))
        self.view_box.region_selected.connect(self._region_selected)
        self._label_timer = QTimer(self, singleShot=True, interval=60)
        self._label_timer.timeout.connect(self._declutter_labels)
        self.view_box.sigRangeChanged.connect(self._label_timer.start)
        self.view_box.sigResized.connect(self._label_timer.start)
        self.all_links_box.toggled.connect(self._draw_all_links)
        self.clear_selection_button.clicked.connect(self.clear_selection)
        self.export_button.clicked.connect(lambda: self.export_selection())
        self.selection_table.clicked.connect(
            lambda index: self.select(self.selection_model.source_row(index.row())))
        session.sets_changed.connect(self.clear)
        session.model_changed.connect(self.clear)
        session.vectors_restored.connect(self._show_saved_map)
        session.runner.busy_changed.connect(lambda _busy: self._show_figures())

    # -- hooks ------------------------------------------------------------------------
    def set_query_source(self, source: Callable[[], str | None] | None) -> None:
        """Where "Colour by score to the query" reads the query: a callable returning the
        query text (its first non-empty line is used) or None. The scores are refreshed
        whenever the map is shown again, so typing another query and coming back works."""
        self._query_source = source
        if self.colour.currentData() == "score":
            self.recolour()

    def query_text(self) -> str | None:
        if self._query_source is None:
            return None
        text = self._query_source() or ""
        return next((line.strip() for line in text.splitlines() if line.strip()), None)

    def set_tool(self, tool: str) -> None:
        """Left-drag on the map: "pan" (pan/zoom), "rect" or "lasso" (select)."""
        self.view_box.tool = tool
        for button in self.tools.buttons():
            button.setChecked(button.property("tool") == tool)
        self.plot.viewport().setCursor(Qt.CursorShape.ArrowCursor if tool == "pan"
                                       else Qt.CursorShape.CrossCursor)

    # -- the map owns the window ------------------------------------------------------
    def _docks(self) -> list:
        window = self.window()
        return [d for d in window.findChildren(QDockWidget) if d.parent() is window]

    def _put_docks_away(self) -> None:
        """While the Map tab is shown, the window's docks (model panel, sentence table)
        step aside so the plot gets the room; they come back as they were on leaving."""
        if self._hidden_docks:
            return
        self._hidden_docks = [d for d in self._docks() if d.isVisible() and not d.isFloating()]
        for dock in self._hidden_docks:
            dock.hide()

    def _bring_docks_back(self) -> None:
        if self._full_screen_state is not None:
            return
        docks, self._hidden_docks = self._hidden_docks, []
        for dock in docks:
            dock.show()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Close and obj is self.window():
            if self._full_screen_state is not None:
                self.set_full_screen(False)
            self._bring_docks_back()
        return False

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        if not self.window().isMinimized():
            self._bring_docks_back()

    def set_full_screen(self, on: bool) -> None:
        """The map alone on the screen (F11 or the button toggles): window full screen,
        docks, menus, tabs and status bar hidden; all restored when toggled off."""
        window = self.window()
        if on == (self._full_screen_state is not None) or window is self:
            return
        tabs = self.parent().parent() if isinstance(self.parent(), QStackedWidget) else None
        bars = [w for w in (getattr(window, "menuBar", None), getattr(window, "statusBar",
                                                                      None)) if w]
        if on:
            self._put_docks_away()
            widgets = [b() for b in bars]
            if isinstance(tabs, QTabWidget):
                widgets.append(tabs.tabBar())
            self._full_screen_state = {"widgets": [w for w in widgets if w.isVisible()],
                                       "maximized": window.isMaximized(),
                                       "full": window.isFullScreen()}
            for w in self._full_screen_state["widgets"]:
                w.hide()
            window.showFullScreen()
        else:
            state, self._full_screen_state = self._full_screen_state, None
            for w in state["widgets"]:
                w.show()
            if not state["full"]:
                window.showMaximized() if state["maximized"] else window.showNormal()
        self.full_screen_button.setChecked(on)
        self.full_screen_button.setText("Exit full screen" if on else "Full screen")

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        window = self.window()
        if window is not self and not getattr(self, "_watching_close", False):
            window.installEventFilter(self)  # docks back before the window saves its state
            self._watching_close = True
        self._put_docks_away()
        if self.colour.currentData() == "score" and self.coords is not None:
            self.recolour()  # the query may have changed in the Scores tab

    # -- computing --------------------------------------------------------------------
    def clear(self) -> None:
        self.coords = self.labels = None
        self.clusters = []
        self.selected = None
        self.scores = None
        self._score_key = self._score_job = None
        self.scatter.clear()
        self.selection_points.clear()
        self.links.setData([], [])
        self.all_links.setData([], [])
        self.found.clear()
        for t in self.cluster_text:
            self.plot.removeItem(t)
        self.cluster_text = []
        self.analysis = None
        self._figures_text = ""
        self._show_figures()
        self._set_lod_note("")
        self._set_selection(np.zeros(0, dtype=np.int64), notify=False)

    def _set_lod_note(self, text: str) -> None:
        self.lod_note.setText(text)
        self.lod_note.setVisible(bool(text))

    def compute_map(self) -> None:
        combined = self.session.combined
        if combined is None or self.session.encoder is None:
            self.status.emit("Load a model and a sentence set first.")
            return
        self.session.ensure_vectors(MAP_ROLE, None, then=self._project)

    def wanted_params(self):
        """The map the controls ask for (core.projection.MapParams)."""
        from e5desk.core.projection import MapParams

        return MapParams(self.method.currentData(), center_languages=self.center.isChecked())

    def is_stale(self) -> bool:
        """True when a map is shown but the controls now ask for another one."""
        if self.coords is None:
            return False
        wanted = self.wanted_params()
        return (self.map_params.get("method"), bool(self.map_params.get("center_languages"))) \
            != (wanted.method, wanted.center_languages)

    def _settings_changed(self) -> None:
        """Method or language separation changed: the map and its figures are out of date
        (marked so at once) and a new map is computed in the background."""
        self._show_figures()
        if self.coords is not None and self.session.combined is not None:
            self.compute_map()

    def _show_figures(self) -> None:
        stale = self.is_stale()
        running = [j for j in self._map_jobs if j in self.session.runner.running]
        if stale and running:
            wanted = METHODS[self.wanted_params().method]
            self.figures.setText(
                f"<span style='color:#b35900'><b>Computing the {html.escape(wanted)} map…"
                "</b> (shown meanwhile: a quick preview; cancel from the status bar)"
                "</span> " + html.escape(self._figures_text))
        elif stale:
            self.figures.setText(
                "<span style='color:#b35900'><b>Out of date:</b> the settings changed since "
                "this map and these figures were computed: press Recompute map.</span> "
                + html.escape(self._figures_text))
        else:
            self.figures.setText(html.escape(self._figures_text))
        self.compute.setText("Recompute map" if stale else "Compute map")
        self.compute.setStyleSheet("font-weight: bold" if stale else "")

    def _project(self, vectors: np.ndarray) -> None:
        from e5desk.core.process_job import run_in_process
        from e5desk.core.projection import MapParams, project

        langs = list(self.session.combined.lang)
        params = self.wanted_params()
        for job in self._map_jobs:  # a newer map supersedes the ones still running
            job.cancel()
        self._map_jobs = []
        runner = self.session.runner

        def shown(p):
            return lambda coords: self._show(coords, asdict(p)) \
                if self.wanted_params() == params else None

        preview = MapParams("pca", center_languages=params.center_languages)
        self._map_jobs.append(runner.start(
            "PCA preview", lambda p, c: project(vectors, preview, langs), shown(preview)))
        if params.method == "pca":
            return
        self._map_jobs.append(runner.start(
            f"{METHODS[params.method]} map",
            lambda p, c: run_in_process(project, vectors, params, langs, progress=p,
                                        cancelled=c), shown(params)))

    # -- projects ---------------------------------------------------------------------
    def state(self) -> tuple[dict, dict]:
        """(arrays, settings) to save in a project."""
        arrays = {}
        if self.coords is not None:
            arrays["map"] = (self.coords, self.map_params)
        if self.labels is not None:
            arrays["clusters"] = (self.labels, {"labels": {str(c.id): c.label
                                                           for c in self.clusters}})
        if len(self.selection):
            arrays["selection"] = (self.selection, {})
        settings = {"method": self.method.currentData(), "center": self.center.isChecked(),
                    "colour": self.colour.currentData(), "selected": self.selected,
                    "all_links": self.all_links_box.isChecked()}
        return arrays, settings

    def apply_settings(self, settings: dict) -> None:
        for box, key in ((self.method, "method"), (self.colour, "colour")):
            index = box.findData(settings.get(key))
            if index >= 0:
                box.setCurrentIndex(index)
        self.center.setChecked(bool(settings.get("center", True)))
        self.all_links_box.setChecked(bool(settings.get("all_links", False)))
        self._restore_selection = settings.get("selected")

    def _show_saved_map(self) -> None:
        saved = self.session.project_arrays.get("map")
        combined = self.session.combined
        if saved is None or combined is None or self.session.vectors(MAP_ROLE) is None:
            return
        coords, params = saved
        if len(coords) == len(combined):
            self._show(np.asarray(coords), dict(params), saved=True)
            row = getattr(self, "_restore_selection", None)
            if row is not None and 0 <= row < len(coords):
                self.select(int(row))
            rows = self.session.project_arrays.get("selection")
            if rows is not None:
                rows = np.asarray(rows[0], dtype=np.int64)
                if len(rows) and rows.min() >= 0 and rows.max() < len(coords):
                    self._set_selection(rows, notify=False)

    def _show(self, coords: np.ndarray, params: dict | None = None, saved=False) -> None:
        self.coords = coords
        self.map_params = params or {}
        self._figures_text = "Clusters and figures: computing…"
        self._show_figures()
        self.selected = None
        self.links.setData([], [])
        combined = self.session.combined
        vectors = self.session.vectors(MAP_ROLE)
        if combined is None or vectors is None or len(coords) != len(combined):
            return
        self.scatter.set_points(coords)
        self._table_source = None
        # The selection is a set of sentences: it survives a new map (UMAP after PCA).
        self._set_selection(self.selection if len(self.selection) and
                            self.selection.max() < len(coords) else np.zeros(0, np.int64),
                            notify=False)
        n = len(coords)
        self.all_links_box.setEnabled(n <= ALL_LINKS_MAX)
        self._set_lod_note(
            f"{n:,} points: where more than {self.scatter.budget:,} are in view the map "
            "shows their density (colour: the languages' mix; darker: more points); zoom "
            "in to see each point" if n > self.scatter.budget else "")
        self.recolour()
        self._draw_all_links()
        self.plot.autoRange()
        if not saved:
            self.changed.emit()
        texts, langs, groups = list(combined.text), list(combined.lang), list(combined.group)
        centered = bool(self.map_params.get("center_languages", self.center.isChecked()))

        def analyse(progress, cancelled):
            return coords, analyse_map(coords, vectors, texts, langs, groups, centered)

        self.session.runner.start("Clusters", analyse, self._show_clusters)

    def _show_clusters(self, result) -> None:
        coords, analysis = result
        if self.coords is not coords:
            return  # a newer map replaced the one these clusters belong to
        labels, clusters = analysis.labels, analysis.clusters
        self.labels, self.clusters, self.analysis = labels, clusters, analysis
        for t in self.cluster_text:
            self.plot.removeItem(t)
        self.cluster_text = []
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
            self.cluster_text.append(item)
        self._label_timer.start()
        parts = [f"languages mixing on the map: {analysis.mixing:.2f} "
                 "(share of each point's 10 nearest neighbours in another language)"]
        if analysis.p_at_1 is not None:
            parts.append(f"cross-lingual P@1: {analysis.p_at_1:.3f} (nearest sentence in each "
                         "other language is the translation)")
        parts.append(f"{len(clusters)} clusters, {analysis.multilingual} of them span several "
                     "languages")
        self._figures_text = " · ".join(parts)
        self._show_figures()
        if self.colour.currentData() == "cluster":
            self.recolour()

    # -- drawing ----------------------------------------------------------------------
    def _declutter_labels(self) -> None:
        """Show cluster labels largest cluster first, hiding any that would overlap one
        already shown at this zoom (zoom in to see more)."""
        placed: list[QRectF] = []
        for item in self.cluster_text:  # sorted by cluster size
            item.show()
            box = item.sceneBoundingRect()
            visible = not any(box.intersects(other) for other in placed)
            item.setVisible(visible)
            if visible:
                placed.append(box)

    def _lang_names(self) -> np.ndarray:
        combined = self.session.combined
        if self._langs_for is not combined:
            self._langs_for = combined
            self._langs = np.array(["?" if x is None or x == "" else str(x)
                                    for x in combined.lang], dtype=object)
        return self._langs

    def _categories(self) -> tuple[list[str], np.ndarray]:
        combined = self.session.combined
        key = self.colour.currentData()
        if key == "cluster" and self.labels is not None:
            ids, codes = np.unique(self.labels, return_inverse=True)
            names = [f"cluster {c}" if c >= 0 else "noise" for c in ids]
            order = np.argsort(np.array(names, dtype=object), kind="stable")
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            return [names[i] for i in order], rank[codes]
        if key == "set":
            return factorize(combined.set_name)
        return factorize(self._lang_names())

    def recolour(self) -> None:
        if self.coords is None or self.session.combined is None:
            return
        if self.colour.currentData() == "score":
            self._colour_by_score()
            return
        self.score_caption.hide()
        self.score_bar.hide()
        names, codes = self._categories()
        if self.colour.currentData() in ("lang", None):
            colours = [QColor(language_colour(name)) for name in names]
        else:
            colours = palette(len(names))
        self.scatter.set_colours(codes, colours)
        self._row_codes = codes
        self._legend_of_code = np.arange(len(names))
        self._fill_legend(list(zip(names, colours, strict=True)))

    def _fill_legend(self, entries: list[tuple[str, QColor]]) -> None:
        self.legend.blockSignals(True)
        self.legend.clear()
        for text, colour in entries:
            # A swatch beside the name; the text keeps the normal text colour.
            item = QListWidgetItem(swatch_icon(colour), text)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.legend.addItem(item)
        self.legend.blockSignals(False)
        self._shown_codes = np.ones(len(self._legend_of_code), dtype=bool)
        if self.all_links_box.isChecked():
            self._draw_all_links()

    def _legend_toggled(self, _item) -> None:
        shown = np.array([self.legend.item(i).checkState() == Qt.CheckState.Checked
                          for i in range(self.legend.count())], dtype=bool)
        if not len(shown) or not len(self._legend_of_code):
            return
        self._shown_codes = shown[self._legend_of_code]
        self.scatter.set_shown(self._shown_codes)
        if self.all_links_box.isChecked():
            self._draw_all_links()

    def shown_rows_mask(self) -> np.ndarray:
        """True for rows whose legend entry is checked (drawn, selectable)."""
        if self.coords is None:
            return np.zeros(0, dtype=bool)
        if len(self._row_codes) != len(self.coords) or not len(self._shown_codes):
            return np.ones(len(self.coords), dtype=bool)
        return self._shown_codes[self._row_codes]

    # -- colour by score to the query -------------------------------------------------
    def _colour_by_score(self) -> None:
        query = self.query_text()
        vectors = self.session.vectors(MAP_ROLE)
        encoder = self.session.encoder
        if query is None or vectors is None or encoder is None:
            self._show_score_hint(
                "Type a query in the Scores tab: the map colours every sentence by its "
                "score to it." if query is None else "Load a model first.")
            return
        key = (query, id(vectors), len(vectors))
        if self.scores is not None and self._score_key == key:
            self._apply_scores()
            return
        if self._score_job is not None and self._score_job[0] == key:
            return  # already scoring this query

        def job(progress, cancelled):
            return score_text(encoder, query, vectors)

        def done(scores) -> None:
            if self._score_job is None or self._score_job[0] != key:
                return
            self._score_job = None
            if self.session.vectors(MAP_ROLE) is not vectors or self.coords is None:
                return
            self.scores, self.score_query, self._score_key = scores, query, key
            self._selection_columns()
            if self.colour.currentData() == "score":
                self._apply_scores()

        def failed(message: str) -> None:
            self._score_job = None
            self.status.emit(message)

        self.score_caption.setText(f"Scoring “{html.escape(query)}”…")
        self.score_caption.show()
        self._score_job = (key, self.session.runner.start("Scoring the map", job, done,
                                                          on_error=failed))

    def _show_score_hint(self, text: str) -> None:
        self.score_caption.setText(text)
        self.score_caption.show()
        self.score_bar.hide()
        n = len(self.coords)
        self.scatter.set_colours(np.zeros(n, dtype=np.int64), [QColor(170, 170, 170)])
        self._row_codes = np.zeros(n, dtype=np.int64)
        self._legend_of_code = np.zeros(1, dtype=np.int64)
        self._fill_legend([("no query yet", QColor(150, 150, 150))])

    @staticmethod
    def score_colours() -> list[QColor]:
        """The score colour map as SCORE_LEVELS colours, low to high."""
        return [SCORE_MAP.map(t, mode="qcolor") for t in np.linspace(0, 1, SCORE_LEVELS)]

    def _apply_scores(self) -> None:
        scores = self.scores
        lo, hi = float(scores.min()), float(scores.max())
        span = max(hi - lo, 1e-6)
        levels = np.minimum(((scores - lo) / span * SCORE_LEVELS).astype(np.int64),
                            SCORE_LEVELS - 1)
        colours = self.score_colours()
        self.scatter.set_colours(levels, colours, on_top=True)
        self._row_codes = levels
        band = np.arange(SCORE_LEVELS) * SCORE_BANDS // SCORE_LEVELS
        self._legend_of_code = SCORE_BANDS - 1 - band  # legend lists high scores first
        width = span / SCORE_BANDS
        entries = []
        for b in reversed(range(SCORE_BANDS)):
            colour = colours[min(int((b + 0.5) * SCORE_LEVELS / SCORE_BANDS),
                                 SCORE_LEVELS - 1)]
            count = int(np.count_nonzero(band[levels] == b))
            entries.append((f"{lo + b * width:.1f} – {lo + (b + 1) * width:.1f}  "
                            f"({count:,})", colour))
        self._fill_legend(entries)
        self.score_caption.setText(
            f"Score to “{html.escape(self.score_query or '')}” (cos × 100): "
            f"{lo:.1f} … {hi:.1f}")
        self.score_caption.show()
        self.score_bar.setPixmap(self._gradient_pixmap(colours, lo, hi))
        self.score_bar.show()

    def _gradient_pixmap(self, colours: list[QColor], lo: float, hi: float) -> QPixmap:
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

    def _tip(self, x: float, y: float, data) -> str:
        c = self.session.combined
        if c is None or data is None:
            return ""
        i = int(data)
        tip = f"{c.text[i]}\n[{c.lang[i] or '?'}] {c.set_name[i]}"
        if self.scores is not None and len(self.scores) == len(c) and \
                self.colour.currentData() == "score":
            tip += f"\nscore {self.scores[i]:.1f}"
        return tip

    # -- translation links ------------------------------------------------------------
    def _draw_all_links(self, *_args) -> None:
        combined = self.session.combined
        if not self.all_links_box.isChecked() or self.coords is None or combined is None:
            self.all_links.setData([], [])
            return
        if len(self.coords) > ALL_LINKS_MAX:
            self.all_links.setData([], [])
            self.status.emit(f"All translation links are drawn for maps of up to "
                             f"{ALL_LINKS_MAX:,} points only.")
            return
        pairs = link_pairs(self.coords, combined.group, self.shown_rows_mask())
        if not len(pairs):
            self.all_links.setData([], [])
            return
        self.all_links.setData(pairs[:, 0], pairs[:, 1], connect="pairs")

    # -- selection --------------------------------------------------------------------
    def selected_rows(self) -> np.ndarray:
        """Rows selected on the map (rectangle or lasso), ascending."""
        return self.selection.copy()

    def select_rect(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Select the shown points inside a rectangle (map coordinates)."""
        from e5desk.core.projection import points_in_rect

        if self.coords is None:
            return self.selected_rows()
        rows = points_in_rect(self.coords, x0, y0, x1, y1)
        return self._set_selection(rows[self.shown_rows_mask()[rows]])

    def select_lasso(self, polygon: np.ndarray) -> np.ndarray:
        """Select the shown points inside a closed polygon (map coordinates)."""
        from e5desk.core.projection import points_in_polygon

        if self.coords is None:
            return self.selected_rows()
        rows = points_in_polygon(self.coords, polygon)
        return self._set_selection(rows[self.shown_rows_mask()[rows]])

    def clear_selection(self) -> None:
        self._set_selection(np.zeros(0, dtype=np.int64))

    def _region_selected(self, kind: str, shape) -> None:
        if kind == "rect":
            self.select_rect(*shape)
        else:
            self.select_lasso(shape)

    def _set_selection(self, rows: np.ndarray, notify: bool = True) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        notify = notify and not np.array_equal(rows, self.selection)
        self.selection = rows
        if self.coords is not None and len(self.selection):
            self.selection_points.set_points(self.coords[self.selection])
        else:
            self.selection_points.set_points(np.zeros((0, 2)))
        if self.session.combined is not None:
            self._selection_columns()
            self.selection_model.set_rows(self.selection)
        else:
            self._table_source = None
            self.selection_model.set_data([], [])
        self._update_selection_widgets()
        if notify:
            self.changed.emit()
        return self.selected_rows()

    def _selection_columns(self) -> None:
        """Table columns: the sentence columns, plus the score when there are scores."""
        combined = self.session.combined
        scores = self.scores if self.scores is not None and \
            len(self.scores) == len(combined) else None
        if self._table_source == (id(combined), id(scores)):
            return
        self._table_source = (id(combined), id(scores))
        headers = ["text", "lang", "group", "set", "line"]
        groups = np.array([group_label(g) for g in combined.group], dtype=object)
        columns = [combined.text, combined.lang, groups, combined.set_name, combined.line]
        formats: list[str | None] = [None] * 5
        if scores is not None:
            headers.append("score")
            columns.append(scores)
            formats.append(".1f")
        self.selection_model.set_data(headers, columns, formats)
        self.selection_model.set_rows(self.selection)

    def _update_selection_widgets(self) -> None:
        self._set_selection_count_text()
        self.selection_count.setToolTip(self.selection_count.text())

    def _set_selection_count_text(self) -> None:
        n = len(self.selection)
        if n:
            self.selection_count.setText(f"{n:,} selected (click a row to show it)")
        else:
            self.selection_count.setText("No selection: Shift-drag a rectangle, Ctrl-drag a "
                                         "lasso, or pick a Select tool above.")
        self.export_button.setEnabled(bool(n))
        self.clear_selection_button.setEnabled(bool(n))
        self.selection_table.setVisible(bool(n))

    def export_selection(self, path: str | Path | None = None) -> Path | None:
        """Write the selected sentences (the selection table: text, lang, group, set, line;
        score when colouring by score) to CSV; asks where if no path. Nothing selected:
        says so and writes nothing."""
        if self.session.combined is None or not len(self.selected_rows()):
            self.selection_model.set_data([], [])
            self._table_source = None
        return self.selection_table.export_csv(path or None)

    def current_table(self) -> ResultTable:
        """The result table of this tab (for the window's Ctrl+E)."""
        return self.selection_table

    # -- interaction ------------------------------------------------------------------
    def select(self, row: int) -> None:
        """Show the neighbours of ``row`` in every language and link its translations."""
        combined, vectors = self.session.combined, self.session.vectors(MAP_ROLE)
        if combined is None or vectors is None or self.coords is None:
            return
        self.selected = row
        langs = self._lang_names()
        lines = [f"<p><b>{html.escape(combined.text[row])}</b> [{langs[row]}]</p><ul>"]
        for n in nearest_per_language(vectors, row, langs, combined.group):
            mark = " ✓" if n.translation else ""
            lines.append(f"<li>{n.lang}: {n.score:.1f} — {html.escape(combined.text[n.row])}"
                         f"{mark}</li>")
        self.neighbours.setHtml("".join(lines) + "</ul>")
        pairs = links_of(row, self.coords, combined.group)
        if len(pairs):
            self.links.setData(pairs[:, 0], pairs[:, 1])
        else:
            self.links.setData([], [])

    def highlight_rows(self, rows: np.ndarray) -> None:
        """Ring these sentences on the map (when one is drawn)."""
        if self.coords is None or not len(rows) or rows.max() >= len(self.coords):
            return
        self.highlight = rows
        self.found.setData(pos=self.coords[rows])

    def find(self) -> None:
        text = self.search.text().strip()
        enc, vectors = self.session.encoder, self.session.vectors(MAP_ROLE)
        if not text or enc is None or vectors is None or self.coords is None:
            return

        def job(progress, cancelled):
            return np.argsort(-score_text(enc, text, vectors))[:10]

        def done(rows) -> None:
            self.highlight = rows
            self.found.setData(pos=self.coords[rows])
            self.select(int(rows[0]))

        self.session.runner.start("Finding", job, done)
