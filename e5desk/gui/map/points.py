"""All the points of a map in one pyqtgraph item, drawn smoothly up to 1M points.

Each point is a fragment of one small pixmap atlas (one disc per colour, no per-point pens
or brushes) while at most ``MapPoints.budget`` points are in view; above that the item
paints a density image instead (every shown point counted into a cell of about two screen
pixels, the cell's colour the mean of its points' colours, its opacity rising with the log
of its count), so every point is represented and the cost of a frame is bounded. Hover,
click and selection always use every point's coordinates. While a selection exists the
points outside it are drawn grey, under the selected ones.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import internals
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap

from e5desk.core.mapping import draw_order
from e5desk.gui.map.density import density_image

GREY = QColor(205, 205, 205)  # points outside the selection, while there is one


class MapPoints(pg.GraphicsObject):
    """Every point of a map in one item, drawn as pixmap fragments with level of detail.

    When at most ``budget`` shown points (their colour checked) are in view, each is drawn
    as a disc; above that the item draws a density image of all of them (``mode`` says
    which). Hover and click find the nearest shown point among all of them.
    """

    DENSITY_CELL = 2.0  # screen pixels per density cell
    DENSITY_MARGIN = 0.5  # the image covers the view plus this share of it on each side

    clicked = Signal(int)  # row
    extend_clicked = Signal(int)  # row, clicked with Ctrl or Shift held (add to the selection)

    def __init__(self, size: float = 8, budget: int = 60_000, ring: bool = False,
                 tip: Callable[[int], str] | None = None) -> None:
        super().__init__()
        self.size, self.budget, self.ring, self.tip = size, budget, ring, tip
        self.on_top = False  # draw higher colour codes last (scores: best on top)
        self._xy = np.zeros((0, 2), dtype=np.float32)  # in draw order
        self._rows = np.zeros(0, dtype=np.int64)  # draw order -> row
        self._codes = np.zeros(0, dtype=np.int32)  # colour code, in draw order
        self._grey: np.ndarray | None = None  # outside the selection, in draw order
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
        self._rows = draw_order(len(coords), seed)
        self._xy = np.ascontiguousarray(coords[self._rows])
        self._codes = np.zeros(len(coords), dtype=np.int32)
        self._shown = np.ones(len(self._colours), dtype=bool)
        self._grey = None
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

    def set_kept(self, rows: np.ndarray | None) -> None:
        """Rows that keep their colours (a selection); every other point turns grey.
        None: all keep them."""
        if rows is None:
            self._grey = None
        else:
            grey = np.ones(len(self._rows) + 1, dtype=bool)  # (+1: an empty map)
            kept = np.asarray(rows, dtype=np.int64)
            grey[kept[kept < len(self._rows)]] = False
            self._grey = grey[self._rows]
        self._update_shown()

    def _point_codes(self, positions: np.ndarray) -> np.ndarray:
        """Colour codes of points (draw-order positions); grey is code len(colours)."""
        codes = self._codes[positions]
        if self._grey is not None:
            codes = np.where(self._grey[positions], len(self._colours), codes)
        return codes

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

    def grey_rows(self) -> np.ndarray:
        """Rows drawn grey (outside the selection), ascending."""
        return np.sort(self._rows[self._grey]) if self._grey is not None else \
            np.zeros(0, dtype=np.int64)

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
        self._atlas, self._src = disc_atlas([*self._colours, GREY], self.size, dpr, self.ring)
        self._atlas_dpr = dpr

    def _view_box(self) -> tuple[float, float, float, float] | None:
        rect = self.viewRect()
        if rect is None:
            return None
        dx, dy = self._pad()
        return rect.left() - dx, rect.right() + dx, rect.top() - dy, rect.bottom() + dy

    def _too_many_in_view(self, box) -> bool:
        """More than ``budget`` shown points in view? Counted exactly on small maps,
        estimated from the head of the random draw order on big ones."""
        xy = self._vis_xy
        if len(xy) <= self.budget:
            return False
        head = xy[:16384]
        return inside(head, box).mean() * len(xy) > self.budget

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
        pos = np.flatnonzero(inside(self._vis_xy, box))
        self._drawn = self._vis[pos]
        if not len(pos):
            return
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        if self._atlas is None or dpr != self._atlas_dpr:
            self._build_atlas(dpr)
        codes = self._point_codes(self._drawn)
        if self.on_top or self._grey is not None:  # grey first, then by code if on_top
            key = codes if self.on_top else np.zeros_like(codes)
            if self._grey is not None:
                key = np.where(codes == len(self._colours), -1, key)
            order = np.argsort(key, kind="stable")
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
    def _compute_density(self, wanted) -> None:
        if self._rgb is None:
            table = np.array([c.getRgb()[:3] for c in self._colours] + [GREY.getRgb()[:3]],
                             dtype=np.float32)
            self._rgb = table[self._point_codes(self._vis)]
        # The selection's colours win in a cell they share with grey points.
        weight = None if self._grey is None else np.where(self._grey[self._vis], 0.03, 1.0)
        self._density = density_picture(self._vis_xy, self._rgb, weight, wanted)

    def _paint_density(self, p: QPainter, widget) -> None:
        wanted = wanted_density(self.viewRect(), *self.pixelVectors(), self.DENSITY_MARGIN,
                                self.DENSITY_CELL)
        if not density_fits(self._density, wanted, self.viewRect()):
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
            candidates = self._vis[np.flatnonzero(inside(self._vis_xy, box))]
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
        mods = ev.modifiers()
        if mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            self.extend_clicked.emit(row)
        self.clicked.emit(row)



def inside(a: np.ndarray, box) -> np.ndarray:
    """Which points of ``a`` lie in ``box`` (x0, x1, y0, y1)."""
    x0, x1, y0, y1 = box
    return (a[:, 0] >= x0) & (a[:, 0] <= x1) & (a[:, 1] >= y0) & (a[:, 1] <= y1)


def disc_atlas(colours: list[QColor], size: float, dpr: float, ring: bool
               ) -> tuple[QPixmap, np.ndarray]:
    """One disc (or ring) per colour in a pixmap, and each one's source rectangle."""
    cell = int(np.ceil((size + 3) * dpr))
    cols = min(len(colours), 32)
    rows = -(-len(colours) // cols)
    image = QImage(cols * cell, rows * cell, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    d = size * dpr
    src = np.zeros((len(colours), 4))
    for i, colour in enumerate(colours):
        x, y = (i % cols) * cell, (i // cols) * cell
        if ring:
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
    return QPixmap.fromImage(image), src


def wanted_density(rect, px, py, margin: float, cell: float
                   ) -> tuple[QRectF, float, float] | None:
    """The extent (view plus ``margin`` of it each side) and cell size (x, y in data units,
    ``cell`` screen pixels) a density image wants for the view ``rect``."""
    if rect is None or px is None or py is None or not px.length() or not py.length():
        return None
    extent = rect.adjusted(-rect.width() * margin, -rect.height() * margin,
                           rect.width() * margin, rect.height() * margin)
    return extent, px.length() * cell, py.length() * cell


def density_fits(density, wanted, view: QRectF) -> bool:
    """Does the cached image cover the view at about the wanted resolution?"""
    if density is None or wanted is None:
        return False
    return density[0].contains(view) and 0.5 <= density[1] / wanted[1] <= 2.0


def density_picture(xy: np.ndarray, rgb: np.ndarray, weight, wanted) -> tuple:
    """(extent QRectF, cell x, cell y, QImage, counts) of the points over ``wanted``."""
    extent, cx, cy = wanted
    box = (extent.left(), extent.top(), extent.width(), extent.height())
    argb, counts, (cx, cy) = density_image(xy, rgb, box, cx, cy, weight)
    ny, nx = counts.shape
    image = QImage(argb.tobytes(), nx, ny, nx * 4,
                   QImage.Format.Format_ARGB32_Premultiplied).copy()
    return QRectF(extent.left(), extent.top(), nx * cx, ny * cy), cx, cy, image, counts
