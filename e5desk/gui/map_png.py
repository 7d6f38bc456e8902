"""Render a map to PNG headless: QtGui's painter on an image (offscreen platform), no
widgets; colours, labels and their placement come from core.mapping, as in the window, and
the bundled fallback fonts draw CJK/Hindi labels. `e5desk map --plot` runs this in a child
process (core.process_job.run_named_in_process), so the command's process never loads Qt."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from e5desk.core.data.sentence_set import lang_key
from e5desk.core.mapping import (
    cluster_centres,
    draw_order,
    language_colour,
    legend_entries,
    place_labels,
    top_clusters,
)


def render_map(coords: np.ndarray, langs: Sequence, clusters: Sequence, labels: np.ndarray,
               out: Path, size: tuple[int, int] = (1400, 1000)) -> None:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import (
        QBrush,
        QColor,
        QFont,
        QFontMetricsF,
        QGuiApplication,
        QImage,
        QPainter,
        QPen,
    )

    _app = QGuiApplication.instance() or QGuiApplication([])
    from e5desk.gui.fonts import install_fallback_fonts

    install_fallback_fonts(_app)
    width, height = size
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)

    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    margin = 40
    if len(coords):
        lo, hi = coords.min(axis=0), coords.max(axis=0)
    else:
        lo, hi = np.zeros(2), np.ones(2)
    span = np.maximum(hi - lo, 1e-9)
    scale = min((width - 2 * margin) / span[0], (height - 2 * margin) / span[1])
    offset = np.array([width, height]) / 2 - (lo + hi) / 2 * scale * np.array([1, -1])

    def to_px(xy: np.ndarray) -> np.ndarray:
        return xy * scale * np.array([1, -1]) + offset  # y up, as in the window

    px = to_px(coords)
    names = [lang_key(x) for x in langs]
    radius = 3.5
    # One shuffled pass (core.mapping.draw_order): no language painted over the others.
    colours = {name: QColor(language_colour(name)) for name in set(names)}
    for i in draw_order(len(px)):
        colour = colours[names[i]]
        edge = QColor(colour).darker(135)
        edge.setAlpha(170)
        painter.setPen(QPen(edge, 0.8))
        painter.setBrush(QBrush(colour))
        painter.drawEllipse(QPointF(*px[i]), radius, radius)

    # Cluster labels: largest first, none overlapping (moved aside with a leader line when
    # their own place is taken), on a white halo.
    font = QFont()
    font.setPixelSize(15)
    font.setBold(True)
    metrics = QFontMetricsF(font)
    chosen = top_clusters(clusters)
    anchors = to_px(cluster_centres(coords, np.asarray(labels), chosen)) if chosen else \
        np.zeros((0, 2))
    sizes = np.array([[metrics.horizontalAdvance(c.label) + 10, metrics.height() + 4]
                      for c in chosen]).reshape(-1, 2)
    placement = place_labels(anchors, sizes, bounds=(0, 0, width, height))
    painter.setFont(font)
    for i, c in enumerate(chosen):
        if not placement.shown[i]:
            continue
        (x, y), (w, h) = placement.centres[i], sizes[i]
        box = QRectF(x - w / 2, y - h / 2, w, h)
        if placement.leader[i]:
            painter.setPen(QPen(QColor(60, 60, 60, 200), 1.2))
            painter.drawLine(QPointF(*anchors[i]), box.center())
            painter.setBrush(QColor(40, 40, 40))
            painter.drawEllipse(QPointF(*anchors[i]), 2.5, 2.5)
        painter.setPen(QPen(QColor(180, 180, 180)))
        painter.setBrush(QColor(255, 255, 255, 225))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor(25, 25, 25))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, c.label)

    # Legend: a swatch, the language's name and its count.
    entries = legend_entries(names)
    legend_font = QFont()
    legend_font.setPixelSize(14)
    painter.setFont(legend_font)
    lm = QFontMetricsF(legend_font)
    row_h = lm.height() + 4
    box_w = max((lm.horizontalAdvance(text) for _, text in entries), default=0) + 40
    painter.setPen(QPen(QColor(200, 200, 200)))
    painter.setBrush(QColor(255, 255, 255, 230))
    painter.drawRect(QRectF(10, 10, box_w, row_h * len(entries) + 8))
    for i, (name, text) in enumerate(entries):
        y = 14 + i * row_h
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(language_colour(name)))
        painter.drawEllipse(QPointF(24, y + row_h / 2), 6, 6)
        painter.setPen(QColor(20, 20, 20))
        painter.drawText(QRectF(36, y, box_w - 30, row_h),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
    painter.end()
    tmp = out.with_name(out.name + ".partial.png")
    if not image.save(str(tmp), "PNG"):
        from e5desk.core.errors import E5DeskError

        raise E5DeskError(f"{out}: could not write the PNG")
    tmp.replace(out)
